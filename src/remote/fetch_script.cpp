// The fetch command: a POSIX sh script run as `sh -c SCRIPT` (the instance's
// login shell may not be POSIX). Every value in it is single-quoted; every
// secret is in the environment.
#include "remote/fetch_script.hpp"

#include <algorithm>
#include <string_view>

#include "base/text.hpp"
#include "remote/ssh_script.hpp"

namespace haul::remote {
namespace {

// A curl config string: double-quoted, backslash and quote escaped.
std::string config_string(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + '"';
}

Result<std::string> curl_config(const RemoteFetch& fetch) {
  if (fetch.url.empty()) return fail(ErrorCode::kInvalidArgument, "remote fetch without a URL");
  if (has_control_char(fetch.url))
    return fail(ErrorCode::kInvalidArgument, "the URL contains a control character");
  std::string config = "url = " + config_string(fetch.url) + "\n";
  for (const std::string& header : fetch.headers) {
    if (has_control_char(header)) {
      const std::string name = header.substr(0, header.find(':'));
      return fail(ErrorCode::kInvalidArgument,
                  "header " + name.substr(0, 64) + " contains a control character");
    }
    config += "header = " + config_string(header) + "\n";
  }
  if (!fetch.aws_sigv4.empty()) {
    if (has_control_char(fetch.aws_sigv4) || has_control_char(fetch.aws_user))
      return fail(ErrorCode::kInvalidArgument, "S3 credentials contain a control character");
    config += "aws-sigv4 = " + config_string(fetch.aws_sigv4) + "\n";
    config += "user = " + config_string(fetch.aws_user) + "\n";
  }
  return config;
}

// The values a fetch carries that the output it leaves must not show.
std::vector<std::string> secrets_of(const RemoteFetch& fetch) {
  std::vector<std::string> secrets;
  for (const std::string& header : fetch.headers) {
    const std::size_t colon = header.find(':');
    if (colon == std::string::npos) continue;
    const std::string value(trim(std::string_view(header).substr(colon + 1)));
    secrets.push_back(value);  // "Bearer hf_..."
    if (const std::size_t space = value.rfind(' '); space != std::string::npos)
      secrets.push_back(value.substr(space + 1));  // "hf_..."
  }
  if (const std::size_t query = fetch.url.find('?'); query != std::string::npos)
    secrets.push_back(fetch.url.substr(query + 1));  // a signed URL's signature
  if (!fetch.aws_user.empty()) {
    secrets.push_back(fetch.aws_user);
    if (const std::size_t colon = fetch.aws_user.find(':'); colon != std::string::npos)
      secrets.push_back(fetch.aws_user.substr(colon + 1));  // the secret key alone
  }
  return secrets;
}

// The directory as a shell word: absolute as is, relative under "$UI_HOME".
std::string directory_word(const std::string& directory) {
  if (directory.empty()) return "\"$UI_HOME\"";
  if (directory.front() == '/') return single_quote(directory);
  return "\"$UI_HOME\"/" + single_quote(directory);
}

Result<void> check_path(const std::string& what, const std::string& path) {
  if (!is_safe_relative_path(path) || has_control_char(path))
    return fail(ErrorCode::kInvalidArgument,
                "refusing " + what + " '" + path + "': not a plain relative path");
  return {};
}

}  // namespace

Result<FetchCommand> build_fetch_command(const RemoteFetch& fetch) {
  auto config = curl_config(fetch);
  if (!config) return fail(config.error());
  if (auto checked = check_path("file path", fetch.relative_path); !checked)
    return fail(checked.error());
  if (has_control_char(fetch.directory))
    return fail(ErrorCode::kInvalidArgument, "the destination contains a control character");

  FetchCommand out;
  out.env["HAUL_CURL_CONFIG"] = *config;
  out.secrets = secrets_of(fetch);
  const std::string size = fetch.size ? std::to_string(*fetch.size) : "";
  std::string script =
      "set -e\n"
      "command -v curl >/dev/null 2>&1 || { echo 'haul: curl is not installed on this "
      "instance' >&2; exit 127; }\n"
      "haul_size() { wc -c < \"$1\" | tr -d ' '; }\n"
      "haul_fetch() { printf '%s\\n' \"$HAUL_CURL_CONFIG\" | curl -fL --retry 5 --retry-delay 2 "
      "\"$@\" -K - -o \"$f.part\"; }\n"
      "haul_sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum < \"$1\"; "
      "else shasum -a 256 < \"$1\"; fi | cut -d ' ' -f 1; }\n"
      "dir=" +
      directory_word(fetch.directory) +
      "\n"
      "f=\"$dir\"/" +
      single_quote(fetch.relative_path) +
      "\n"
      "size=" +
      single_quote(size) +
      "\n"
      "sha=" +
      single_quote(fetch.sha256) +
      "\n"
      "mkdir -p -- \"$dir\" \"$(dirname -- \"$f\")\"\n"
      // haul_link TARGET LINK: a symlink put in place by a rename, never over a file.
      "haul_link() {\n"
      "  if [ -e \"$2\" ] && [ ! -L \"$2\" ]; then echo \"haul: $2 is not a link; not replacing "
      "it\" >&2; exit 1; fi\n"
      "  mkdir -p -- \"$(dirname -- \"$2\")\"\n"
      "  ln -s -- \"$1\" \"$2.haul-link$$\" && mv -f -- \"$2.haul-link$$\" \"$2\"\n"
      "}\n"
      "haul_links() {\n"
      "  :\n";
  for (const std::string& link : fetch.links) {
    const bool absolute = !link.empty() && link.front() == '/';
    if (has_control_char(link) || (!absolute && !is_safe_relative_path(link)) ||
        link.find("/../") != std::string::npos || link.ends_with("/..")) {
      return fail(ErrorCode::kInvalidArgument,
                  "refusing link '" + link + "': not an absolute or plain relative path");
    }
    script += "  haul_link \"$f\" " + directory_word(link) + "\n";
  }
  script += "}\n";
  for (std::size_t i = 0; i < fetch.sidecars.size(); ++i) {
    const auto& [path, content] = fetch.sidecars[i];
    if (auto checked = check_path("sidecar path", path); !checked) return fail(checked.error());
    const std::string name = "HAUL_SIDECAR_" + std::to_string(i + 1);
    out.env[name] = content;
    const std::string target = "\"$dir\"/" + single_quote(path);
    script += "mkdir -p -- \"$(dirname -- " + target + ")\"\n";
    script += "printf '%s' \"$" + name + "\" > " + target + ".tmp$$ && mv -f -- " + target +
              ".tmp$$ " + target + "\n";
  }
  script +=
      // Already in place from an earlier run: nothing to fetch.
      "if [ -f \"$f\" ] && [ -n \"$size$sha\" ] && "
      "{ [ -z \"$size\" ] || [ \"$(haul_size \"$f\")\" = \"$size\" ]; } && "
      "{ [ -z \"$sha\" ] || [ \"$(haul_sha256 \"$f\")\" = \"$sha\" ]; }; then\n"
      "  echo \"haul: $f is already complete\"; haul_links; exit 0\n"
      "fi\n"
      // A part longer than the file cannot be resumed; a complete one needs no request.
      "if [ -n \"$size\" ] && [ -f \"$f.part\" ] && [ \"$(haul_size \"$f.part\")\" -gt \"$size\" "
      "]; then rm -f -- \"$f.part\"; fi\n"
      "if [ -z \"$size\" ] || [ ! -f \"$f.part\" ] || [ \"$(haul_size \"$f.part\")\" != "
      "\"$size\" ]; then\n"
      // curl exits 33 when the server ignores the range of a resumed request.
      "  haul_fetch -C - || {\n"
      "    haul_rc=$?; [ \"$haul_rc\" = 33 ] || exit \"$haul_rc\"\n"
      "    echo 'haul: the server cannot resume; starting over' >&2\n"
      "    rm -f -- \"$f.part\"; haul_fetch\n"
      "  }\n"
      "fi\n"
      "if [ -n \"$size\" ] && [ \"$(haul_size \"$f.part\")\" != \"$size\" ]; then\n"
      "  echo \"haul: $f.part has $(haul_size \"$f.part\") bytes, expected $size\" >&2; exit 1\n"
      "fi\n"
      "if [ -n \"$sha\" ]; then\n"
      "  got=$(haul_sha256 \"$f.part\")\n"
      "  if [ \"$got\" != \"$sha\" ]; then\n"
      "    rm -f -- \"$f.part\"\n"
      "    echo \"haul: SHA-256 mismatch for $f: expected $sha, got $got\" >&2; exit 1\n"
      "  fi\n"
      "fi\n"
      "mv -f -- \"$f.part\" \"$f\"\n"
      "haul_links\n"
      "echo \"haul: saved $f\"\n";
  out.command = "sh -c " + single_quote(script);
  return out;
}

std::string build_partial_cleanup(const std::vector<RemoteFetch>& fetches) {
  std::string command = "rm -f --";
  for (const RemoteFetch& fetch : fetches) {
    if (!check_path("file path", fetch.relative_path) || has_control_char(fetch.directory))
      continue;
    command +=
        " " + directory_word(fetch.directory) + "/" + single_quote(fetch.relative_path + ".part");
  }
  return command;
}

}  // namespace haul::remote
