#include "sources/hf/hf_cache.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <system_error>

#include "base/text.hpp"

namespace haul::sources::hf {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> env(const GetEnv& getenv, std::string_view name) {
  auto value = getenv(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::string random_suffix() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  auto bits = generator();
  for (int i = 0; i < 8; ++i, bits >>= 4) out.push_back(kHex[bits & 0xF]);
  return out;
}

Error io_error(std::error_code ec, const std::string& what) {
  const ErrorCode code = ec == std::errc::no_space_on_device ? ErrorCode::kNoSpace : ErrorCode::kIo;
  return Error{code, what + ": " + ec.message()};
}

// Writes `content` to a new or truncated file.
std::error_code write_file(const fs::path& path, std::string_view content) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return {errno, std::generic_category()};
  const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    return {written ? errno : write_errno, std::generic_category()};
  }
  return {};
}

// An etag or commit becomes one path segment: nothing that could climb out
// of blobs/ or snapshots/.
Result<void> check_segment(std::string_view value, std::string_view kind) {
  bool bad = value.empty() || value == "." || value == "..";
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || byte < 0x20 || byte == 0x7F) bad = true;
  }
  if (bad) {
    return fail(ErrorCode::kInvalidArgument, "unsafe " + std::string(kind) +
                                                 " for the Hugging Face cache: '" +
                                                 std::string(value) + "'");
  }
  return {};
}

}  // namespace

Result<fs::path> hub_cache_dir(const GetEnv& getenv) {
  const auto home = env(getenv, "HOME");
  auto expand = [&](const std::string& value) {
    return fs::path(expand_vars(expand_user(value, home), getenv));
  };
  if (auto cache = env(getenv, "HF_HUB_CACHE")) return expand(*cache);
  if (auto cache = env(getenv, "HUGGINGFACE_HUB_CACHE")) return expand(*cache);
  std::string hf_home;
  if (auto value = env(getenv, "HF_HOME")) {
    hf_home = *value;
  } else if (auto xdg = env(getenv, "XDG_CACHE_HOME")) {
    hf_home = *xdg + "/huggingface";
  } else if (home) {
    hf_home = expand_user("~", home) + "/.cache/huggingface";
  } else {
    return fail(ErrorCode::kInvalidArgument,
                "cannot locate the Hugging Face cache: set HF_HUB_CACHE, HF_HOME or HOME");
  }
  return expand(hf_home) / "hub";
}

std::string repo_folder_name(const HfRef& ref) {
  std::string name = std::string(api_type_name(ref.type)) + "--" + ref.repo_id;
  // "--".join(repo_id.split("/"))
  for (std::size_t pos = 0; (pos = name.find('/', pos)) != std::string::npos;) {
    name.replace(pos, 1, "--");
  }
  return name;
}

HfCacheRepo::HfCacheRepo(fs::path hub_cache, HfRef ref)
    : hub_cache_(std::move(hub_cache)),
      ref_(std::move(ref)),
      repo_dir_(hub_cache_ / repo_folder_name(ref_)) {}

Result<fs::path> HfCacheRepo::blob_path(std::string_view etag) const {
  if (auto ok = check_segment(etag, "etag"); !ok) return fail(ok.error());
  return repo_dir_ / "blobs" / std::string(etag);
}

Result<fs::path> HfCacheRepo::incomplete_path(std::string_view etag) const {
  if (auto ok = check_segment(etag, "etag"); !ok) return fail(ok.error());
  return repo_dir_ / "blobs" / (std::string(etag) + ".incomplete");
}

Result<fs::path> HfCacheRepo::lock_path(std::string_view etag) const {
  if (auto ok = check_segment(etag, "etag"); !ok) return fail(ok.error());
  return hub_cache_ / ".locks" / repo_folder_name(ref_) / (std::string(etag) + ".lock");
}

Result<fs::path> HfCacheRepo::snapshot_path(std::string_view commit, std::string_view file) const {
  if (auto ok = check_segment(commit, "commit"); !ok) return fail(ok.error());
  if (auto ok = check_repo_path(file); !ok) return fail(ok.error());
  return repo_dir_ / "snapshots" / std::string(commit) / std::string(file);
}

Result<fs::path> HfCacheRepo::ref_path(std::string_view revision) const {
  if (auto ok = check_repo_path(revision); !ok) return fail(ok.error());
  return repo_dir_ / "refs" / std::string(revision);
}

Result<void> HfCacheRepo::write_ref(std::string_view revision, std::string_view commit) const {
  if (auto ok = check_segment(commit, "commit"); !ok) return fail(ok.error());
  auto path = ref_path(revision);
  if (!path) return fail(path.error());
  if (revision == commit) return {};
  std::error_code ec;
  {
    std::FILE* file = std::fopen(path->c_str(), "rb");
    if (file != nullptr) {
      // One byte more than the commit tells "same" from "longer".
      std::string existing(commit.size() + 1, '\0');
      existing.resize(std::fread(existing.data(), 1, existing.size(), file));
      std::fclose(file);
      if (existing == commit) return {};
    }
  }
  fs::create_directories(path->parent_path(), ec);
  if (ec) return fail(io_error(ec, "cannot create " + path->parent_path().string()));
  const fs::path temp =
      path->parent_path() / (path->filename().string() + "." + random_suffix() + ".tmp");
  if ((ec = write_file(temp, commit))) {
    fs::remove(temp, ec);
    return fail(io_error(ec, "cannot write " + temp.string()));
  }
  fs::rename(temp, *path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return fail(io_error(ec, "cannot write " + path->string()));
  }
  return {};
}

std::optional<std::string> HfCacheRepo::read_ref(std::string_view revision) const {
  auto path = ref_path(revision);
  if (!path) return std::nullopt;
  std::FILE* file = std::fopen(path->c_str(), "rb");
  if (file == nullptr) return std::nullopt;
  char buffer[256];
  const std::size_t n = std::fread(buffer, 1, sizeof buffer, file);
  std::fclose(file);
  const std::string_view commit = trim(std::string_view(buffer, n));
  if (commit.empty()) return std::nullopt;
  return std::string(commit);
}

bool HfCacheRepo::has_blob(std::string_view etag) const {
  auto path = blob_path(etag);
  std::error_code ec;
  return path && fs::is_regular_file(*path, ec);
}

Result<void> HfCacheRepo::link_snapshot(std::string_view commit, std::string_view file,
                                        std::string_view etag) const {
  if (auto ok = check_segment(etag, "etag"); !ok) return fail(ok.error());
  auto pointer = snapshot_path(commit, file);
  if (!pointer) return fail(pointer.error());

  std::error_code ec;
  fs::create_directories(pointer->parent_path(), ec);
  if (ec) return fail(io_error(ec, "cannot create " + pointer->parent_path().string()));
  const fs::path tag = hub_cache_ / "CACHEDIR.TAG";
  if (!fs::exists(tag, ec)) {
    // Best effort, as huggingface_hub: a missing tag only affects backup tools.
    write_file(tag, kCacheDirTag);
  }

  // From snapshots/<commit>/<dirs...>/ back up to the repository folder.
  std::string target;
  const auto depth = static_cast<std::size_t>(std::count(file.begin(), file.end(), '/')) + 2;
  for (std::size_t i = 0; i < depth; ++i) target += "../";
  target += "blobs/" + std::string(etag);

  // The new link is made under a temporary name next to the snapshots and
  // renamed over the old one, so a reader never sees the path missing.
  const fs::path temp = repo_dir_ / ("tmp_link_" + random_suffix());
  fs::create_symlink(target, temp, ec);
  if (ec) return fail(io_error(ec, "cannot create a symlink in " + repo_dir_.string()));
  fs::rename(temp, *pointer, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return fail(io_error(ec, "cannot link " + pointer->string()));
  }
  return {};
}

Result<void> HfCacheRepo::adopt_blob(const fs::path& downloaded_file, std::string_view etag) const {
  auto blob = blob_path(etag);
  if (!blob) return fail(blob.error());
  std::error_code ec;
  fs::create_directories(blob->parent_path(), ec);
  if (ec) return fail(io_error(ec, "cannot create " + blob->parent_path().string()));

  // The mode a new file gets here (0666 minus the umask), learnt from a
  // throwaway file: umask() itself is process-wide and not thread-safe.
  const fs::path probe = repo_dir_ / ("tmp_" + random_suffix());
  if (const std::error_code probe_error = write_file(probe, ""); !probe_error) {
    struct stat info {};
    if (::stat(probe.c_str(), &info) == 0) {
      fs::permissions(downloaded_file, static_cast<fs::perms>(info.st_mode & 07777),
                      fs::perm_options::replace, ec);
    }
    fs::remove(probe, ec);
  }

  fs::rename(downloaded_file, *blob, ec);
  if (ec == std::errc::cross_device_link) {
    const fs::path temp =
        blob->parent_path() / (blob->filename().string() + "." + random_suffix() + ".tmp");
    fs::copy_file(downloaded_file, temp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(temp, *blob, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      return fail(
          io_error(ec, "cannot move " + downloaded_file.string() + " to " + blob->string()));
    }
    fs::remove(downloaded_file, ec);
    return {};
  }
  if (ec)
    return fail(io_error(ec, "cannot move " + downloaded_file.string() + " to " + blob->string()));
  return {};
}

Result<void> HfCacheRepo::mark_missing(std::string_view commit, std::string_view file) const {
  if (auto ok = check_segment(commit, "commit"); !ok) return fail(ok.error());
  if (auto ok = check_repo_path(file); !ok) return fail(ok.error());
  const fs::path marker = repo_dir_ / ".no_exist" / std::string(commit) / std::string(file);
  std::error_code ec;
  fs::create_directories(marker.parent_path(), ec);
  if (ec) return fail(io_error(ec, "cannot create " + marker.parent_path().string()));
  if (fs::is_regular_file(marker, ec)) return {};
  if ((ec = write_file(marker, ""))) return fail(io_error(ec, "cannot create " + marker.string()));
  return {};
}

}  // namespace haul::sources::hf
