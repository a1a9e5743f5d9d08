// hf_error and parse_rate_limit (declared in hf_response.hpp): the Hub's error
// answers turned into one-line messages a user can act on.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "net/http_head.hpp"
#include "sources/hf/hf_response.hpp"

namespace haul::sources::hf {
namespace {

using nlohmann::json;

constexpr std::string_view kDisabledMessage = "Access to this resource is disabled.";
constexpr std::string_view kInvalidToken = "Invalid credentials in Authorization header";
constexpr std::size_t kMaxServerText = 300;

std::string one_line(std::string_view text) {
  std::string out;
  for (char c : trim(text)) {
    if (c == '\r' || c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (out.size() > kMaxServerText) out = out.substr(0, kMaxServerText) + "...";
  return out;
}

void add_unique(std::vector<std::string>& lines, std::string_view text) {
  std::string line = one_line(text);
  if (line.empty()) return;
  for (const auto& existing : lines) {
    if (existing == line) return;
  }
  lines.push_back(std::move(line));
}

// What the Hub said, as _format gathers it: X-Error-Message, then the JSON
// body's "error" (string or list) and "errors"[].message, or a body that is
// neither JSON nor HTML. Deduplicated, joined with "; ".
std::string server_message(const HeaderList& headers, std::string_view body) {
  std::vector<std::string> lines;
  if (auto header = find_header(headers, "x-error-message")) add_unique(lines, *header);
  const json data = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!data.is_discarded()) {
    if (data.is_object()) {
      if (const auto error = data.find("error"); error != data.end()) {
        if (error->is_string()) add_unique(lines, error->get<std::string>());
        if (error->is_array()) {
          for (const auto& item : *error) {
            if (item.is_string()) add_unique(lines, item.get<std::string>());
          }
        }
      }
      if (const auto errors = data.find("errors"); errors != data.end() && errors->is_array()) {
        for (const auto& item : *errors) {
          if (item.is_object() && item.contains("message") && item["message"].is_string()) {
            add_unique(lines, item["message"].get<std::string>());
          }
        }
      }
    }
  } else if (to_lower(find_header(headers, "content-type").value_or("")).find("html") ==
             std::string::npos) {
    add_unique(lines, body);
  }
  std::string joined;
  for (const auto& line : lines) joined += (joined.empty() ? "" : "; ") + line;
  return joined;
}

// A wait the Hub asks for, capped at a day: a larger one is nonsense, and
// in milliseconds it would not fit (found by the fuzzer: t=833333333333333333).
constexpr std::uint64_t kMaxWaitSeconds = 24ull * 3600;

std::optional<std::uint64_t> retry_after_seconds(const HeaderList& headers) {
  // huggingface_hub reads delta-seconds only; an HTTP-date is ignored.
  auto value = find_header(headers, "retry-after");
  if (!value) return std::nullopt;
  auto seconds = net::parse_decimal(*value);
  if (!seconds) return std::nullopt;
  return std::min(*seconds, kMaxWaitSeconds);
}

std::string status_text(int status) {
  std::string text = std::to_string(status);
  if (auto phrase = net::reason_phrase(status); !phrase.empty()) {
    text += " " + std::string(phrase);
  }
  return text;
}

Error make(ErrorCode code, int status, std::string message, std::string_view hub) {
  if (!hub.empty() && to_lower(message).find(to_lower(hub)) == std::string::npos) {
    message += " (Hub: " + std::string(hub) + ")";
  }
  return Error{code, std::move(message), status};
}

std::optional<std::uint64_t> param_value(std::string_view text, std::string_view key) {
  // "...;key=123;..." with optional spaces around ';' and '='.
  std::size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string_view::npos) {
    const bool boundary =
        pos == 0 || text[pos - 1] == ';' || text[pos - 1] == ' ' || text[pos - 1] == '"';
    std::string_view rest = trim(text.substr(pos + key.size()));
    pos += key.size();
    if (!boundary || rest.empty() || rest.front() != '=') continue;
    rest = trim(rest.substr(1));
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0) continue;
    return net::parse_decimal(rest.substr(0, digits));
  }
  return std::nullopt;
}

}  // namespace

std::optional<HfRateLimit> parse_rate_limit(const HeaderList& headers) {
  // RateLimit: "resolvers";r=0;t=87 (huggingface_hub's _RATELIMIT_REGEX).
  const auto header = find_header(headers, "ratelimit");
  if (!header) return std::nullopt;
  const std::string_view value = *header;
  const auto open = value.find('"');
  const auto close = open == std::string_view::npos ? open : value.find('"', open + 1);
  if (close == std::string_view::npos || close == open + 1) return std::nullopt;
  HfRateLimit limit;
  limit.resource = std::string(value.substr(open + 1, close - open - 1));
  const std::string_view params = value.substr(close + 1);
  const auto remaining = param_value(params, "r");
  const auto reset = param_value(params, "t");
  if (!remaining || !reset) return std::nullopt;
  limit.remaining = *remaining;
  limit.reset_seconds = *reset;
  if (auto policy = find_header(headers, "ratelimit-policy")) {
    // "fixed window";"resolvers";q=3000;w=300: both or neither.
    const auto q = param_value(*policy, "q");
    const auto w = param_value(*policy, "w");
    if (q && w) {
      limit.limit = q;
      limit.window_seconds = w;
    }
  }
  return limit;
}

Error hf_error(int status, const HeaderList& headers, std::string_view body, std::string_view what,
               std::string_view repo_url) {
  const std::string code(trim(find_header(headers, "x-error-code").value_or("")));
  const std::string header_message(trim(find_header(headers, "x-error-message").value_or("")));
  const std::string hub = server_message(headers, body);
  const std::string target = what.empty() ? std::string("the request") : std::string(what);
  const std::string where =
      repo_url.empty() ? std::string(" on the repository's page") : " at " + std::string(repo_url);

  if (code == "RevisionNotFound") {
    return make(ErrorCode::kNotFound, status,
                "Hugging Face revision not found (" + target + "): no such branch, tag or commit",
                hub);
  }
  if (code == "EntryNotFound") {
    return make(ErrorCode::kNotFound, status,
                "file not found in the Hugging Face repository: " + target, hub);
  }
  if (code == "GatedRepo") {
    if (status == 403) {
      return make(ErrorCode::kPermissionDenied, status,
                  "gated Hugging Face repository (" + target +
                      "): the account of HF_TOKEN has not been granted access; request it" + where +
                      " and wait for approval",
                  hub);
    }
    return make(ErrorCode::kPermissionDenied, status,
                "gated Hugging Face repository (" + target +
                    "): set HF_TOKEN to a token of an account that accepted the conditions" + where,
                hub);
  }
  if (header_message == kDisabledMessage) {
    return make(
        ErrorCode::kPermissionDenied, status,
        "Hugging Face repository disabled (" + target + "): " + std::string(kDisabledMessage), hub);
  }
  if (code == "RepoNotFound") {
    return make(ErrorCode::kNotFound, status,
                "Hugging Face repository not found (" + target +
                    "): check ORG/NAME and the type (datasets/, spaces/); a private repository "
                    "needs HF_TOKEN with access to it",
                hub);
  }
  if (status == 401 && header_message != kInvalidToken) {
    // 401 is answered for missing, private and gated repositories alike.
    return make(ErrorCode::kPermissionDenied, status,
                "Hugging Face repository not found or not accessible (" + target +
                    "): it does not exist, or it is private or gated and HF_TOKEN is not set or "
                    "has no access",
                hub);
  }
  if (status == 401) {
    return make(ErrorCode::kPermissionDenied, status,
                "Hugging Face rejected HF_TOKEN (" + target +
                    "): the token is invalid or expired; create a new one or unset HF_TOKEN for "
                    "public repositories",
                hub);
  }
  if (status == 400) {
    return make(ErrorCode::kInvalidArgument, status, "bad request to Hugging Face (" + target + ")",
                hub);
  }
  if (status == 403) {
    return make(ErrorCode::kPermissionDenied, status,
                "access forbidden by Hugging Face (" + target +
                    "): make sure HF_TOKEN has read access to this repository",
                hub);
  }
  if (status == 429) {
    // As huggingface_hub's retry loop: the RateLimit reset when the window is
    // used up, else Retry-After.
    const auto limit = parse_rate_limit(headers);
    std::optional<std::uint64_t> wait;
    std::string message = "rate limited by Hugging Face (" + target + ")";
    if (limit && limit->remaining == 0) {
      wait = std::min(limit->reset_seconds, kMaxWaitSeconds);
      message += ": the '" + limit->resource + "' limit";
      if (limit->limit && limit->window_seconds) {
        message += " of " + std::to_string(*limit->limit) + " requests per " +
                   std::to_string(*limit->window_seconds) + " s";
      }
      message += " is used up";
    } else {
      wait = retry_after_seconds(headers);
    }
    if (wait) message += "; retry in " + std::to_string(*wait) + " s";
    Error error = make(ErrorCode::kUnavailable, status, std::move(message), hub);
    if (wait) error.retry_after = std::chrono::seconds(*wait);
    return error;
  }
  if (status == 416) {
    return make(ErrorCode::kProtocol, status,
                "416 Range Not Satisfiable from Hugging Face (" + target +
                    "): the partial download is longer than the file; start it over",
                hub);
  }
  if (status == 408 || (status >= 500 && status <= 599)) {
    Error error = make(
        ErrorCode::kUnavailable, status,
        "Hugging Face answered " + status_text(status) + " (" + target + "); try again later", hub);
    if (auto wait = retry_after_seconds(headers)) error.retry_after = std::chrono::seconds(*wait);
    return error;
  }
  if (status == 404 || status == 410) {
    return make(ErrorCode::kNotFound, status, "not found on Hugging Face (" + target + ")", hub);
  }
  return make(status >= 400 && status <= 499 ? ErrorCode::kInvalidArgument : ErrorCode::kProtocol,
              status, "Hugging Face answered " + status_text(status) + " (" + target + ")", hub);
}

}  // namespace haul::sources::hf
