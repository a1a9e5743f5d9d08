#include "models/presence.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>
#include <unordered_map>
#include <utility>

#include "base/text.hpp"
#include "net/sha256.hpp"
#include "transfer/resume_state.hpp"

namespace haul::models {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"present", "missing", "partial", "corrupt",
                                                    "downloading"};

// Large reads: a 30 GB checkpoint is hashed in 7,500 calls, not millions.
constexpr std::size_t kHashBuffer = std::size_t{4} << 20;

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

int read_some(int fd, char* buffer, std::size_t size) {
  while (true) {
    const ssize_t got = ::read(fd, buffer, size);
    if (got >= 0 || errno != EINTR) return static_cast<int>(got);
  }
}

// A small file's bytes (a .part.state), or nullopt.
std::optional<std::string> read_small_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  std::array<char, 4096> buffer{};
  int got = 0;
  while ((got = read_some(fd, buffer.data(), buffer.size())) > 0 && text.size() < (1u << 20))
    text.append(buffer.data(), static_cast<std::size_t>(got));
  ::close(fd);
  if (got < 0) return std::nullopt;
  return text;
}

// A relative file path kept inside its folder: normalised ("a/./b" -> "a/b"),
// or "" when it leaves the folder or holds a NUL.
std::string contained_path(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return {};
  std::string normal = normal_path(path).string();
  if (normal == "." || normal == ".." || normal.starts_with("../")) return {};
  return normal;
}

// One check run: memoises each group's candidate directories and each
// directory's existence, and reuses one path buffer and one read buffer.
class Scan {
 public:
  Scan(const ModelFolders& folders, HashCache* cache, bool verify)
      : folders_(folders), cache_(cache), verify_(verify) {}

  FileCheck check(std::string_view group, const ModelFile& file) {
    FileVerdict verdict(file.size, file.sha256);
    if (!file.path.empty() && file.path.front() == '/') {
      const std::string path = normal_path(file.path).string();
      look(path, verdict);
      return verdict.finish(path);
    }
    const std::string relative = contained_path(file.path);
    const std::vector<std::string>& dirs = dirs_of(group);
    if (relative.empty() || dirs.empty()) {
      FileCheck out;
      out.path = file.path;
      out.reason = relative.empty() ? "the path '" + file.path + "' leaves its folder"
                                    : "the group '" + std::string(group) + "' is not a folder";
      return out;
    }
    const std::size_t slash = relative.rfind('/');
    std::string first;
    for (const std::string& dir : dirs) {
      path_.assign(dir);
      path_ += '/';
      path_ += relative;
      if (first.empty()) first = path_;
      // The file's directory: a missing one (root/clip, root/unet, ...) needs
      // no stat for each of its files.
      if (!dir_exists(slash == std::string::npos ? dir : path_.substr(0, dir.size() + 1 + slash)))
        continue;
      if (look(path_, verdict)) break;
    }
    return verdict.finish(first);
  }

 private:
  const std::vector<std::string>& dirs_of(std::string_view group) {
    auto [at, inserted] = dirs_.try_emplace(std::string(group));
    if (inserted) {
      for (const auto& dir : folders_.dirs(group)) at->second.push_back(dir.string());
    }
    return at->second;
  }

  bool dir_exists(const std::string& dir) {
    auto [at, inserted] = dir_exists_.try_emplace(dir, false);
    if (inserted) {
      struct stat st {};
      at->second = ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    return at->second;
  }

  // What is at `path` and `path`.part; true when the file is present there.
  bool look(const std::string& path, FileVerdict& verdict) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode) && ::stat(path.c_str(), &st) != 0) {
        verdict.dangling(path);
      } else if (!S_ISREG(st.st_mode)) {
        verdict.not_a_file(path);
      } else {
        const auto size = static_cast<std::uint64_t>(st.st_size);
        const std::string sha = verify_ && verdict.wants_hash(size) ? hash(path, st) : "";
        if (verdict.file(path, size, sha)) return true;
      }
    }
    part_.assign(path);
    part_ += ".part";
    if (::stat(part_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      const auto part_size = static_cast<std::uint64_t>(st.st_size);
      std::uint64_t done = part_size;
      part_ += ".state";
      if (const auto text = read_small_file(part_)) {
        if (const auto state = transfer::parse_resume_state(*text)) done = state->done.covered();
      }
      verdict.part(path, part_size, done);
    }
    return false;
  }

  // The file's SHA-256 from the cache, else by reading it ("" when it cannot
  // be read). Cached only when the file did not change while it was read.
  std::string hash(const std::string& path, const struct stat& st) {
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (cache_) {
      if (auto cached = cache_->find(path, size, mtime_ns(st))) return std::move(*cached);
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (!buffer_) buffer_ = std::make_unique<char[]>(kHashBuffer);
    net::Sha256 sha;
    int got = 0;
    while ((got = read_some(fd, buffer_.get(), kHashBuffer)) > 0)
      sha.update(buffer_.get(), static_cast<std::size_t>(got));
    struct stat after {};
    const bool unchanged =
        ::fstat(fd, &after) == 0 && after.st_size == st.st_size && mtime_ns(after) == mtime_ns(st);
    ::close(fd);
    if (got < 0) return {};
    std::string hex = sha.finish_hex();
    if (cache_ && unchanged) cache_->put(path, size, mtime_ns(st), hex);
    return hex;
  }

  const ModelFolders& folders_;
  HashCache* cache_;
  bool verify_;
  std::unordered_map<std::string, std::vector<std::string>> dirs_;
  std::unordered_map<std::string, bool> dir_exists_;
  std::string path_, part_;  // reused: no allocation per candidate
  std::unique_ptr<char[]> buffer_;
};

}  // namespace

std::string_view presence_name(Presence presence) {
  const auto index = static_cast<std::size_t>(presence);
  return index < kNames.size() ? kNames[index] : "missing";
}

std::optional<Presence> parse_presence(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Presence>(i);
  }
  return std::nullopt;
}

Presence combine_presence(const std::vector<Presence>& files) {
  auto any = [&files](Presence p) {
    return std::find(files.begin(), files.end(), p) != files.end();
  };
  if (files.empty()) return Presence::kMissing;
  if (std::all_of(files.begin(), files.end(), [](Presence p) { return p == Presence::kPresent; }))
    return Presence::kPresent;
  for (const Presence p : {Presence::kDownloading, Presence::kCorrupt, Presence::kPartial}) {
    if (any(p)) return p;
  }
  return Presence::kMissing;
}

Presence model_presence(const std::vector<FileCheck>& files) {
  std::vector<Presence> states;
  states.reserve(files.size());
  for (const FileCheck& file : files) states.push_back(file.state);
  return combine_presence(states);
}

FileVerdict::FileVerdict(std::optional<std::uint64_t> want_size, std::string_view want_sha256)
    : want_size_(want_size), want_sha256_(to_lower(want_sha256)) {}

bool FileVerdict::wants_hash(std::uint64_t size) const {
  return !want_sha256_.empty() && (!want_size_ || *want_size_ == size);
}

bool FileVerdict::file(const std::string& path, std::uint64_t size, std::string_view sha256) {
  if (present_) return true;
  FileCheck check;
  check.path = path;
  check.size_on_disk = size;
  check.bytes_done = size;
  if (want_size_ && *want_size_ != size) {
    check.reason = "size " + std::to_string(size) + " differs from " + std::to_string(*want_size_);
  } else if (!sha256.empty() && !want_sha256_.empty() && to_lower(sha256) != want_sha256_) {
    check.reason = "sha256 " + to_lower(sha256) + " differs from " + want_sha256_;
  } else {
    check.state = Presence::kPresent;
    check.verified = !sha256.empty() && !want_sha256_.empty();
    present_ = std::move(check);
    return true;
  }
  check.state = Presence::kCorrupt;
  if (!corrupt_) corrupt_ = std::move(check);
  return false;
}

void FileVerdict::not_a_file(const std::string& path, std::string reason) {
  if (corrupt_) return;
  corrupt_ = FileCheck{Presence::kCorrupt, path, 0, 0, std::move(reason), false};
}

void FileVerdict::dangling(const std::string& path) {
  if (dangling_.empty()) dangling_ = path;
}

void FileVerdict::part(const std::string& path, std::uint64_t part_size, std::uint64_t bytes_done) {
  if (partial_) return;
  std::string reason = "unfinished download: " + std::to_string(bytes_done) + " bytes done";
  if (want_size_) reason += " of " + std::to_string(*want_size_);
  partial_ = FileCheck{Presence::kPartial, path, part_size, bytes_done, std::move(reason), false};
}

FileCheck FileVerdict::finish(const std::string& missing_path) const {
  for (const auto* found : {&present_, &corrupt_, &partial_}) {
    if (*found) return **found;
  }
  FileCheck out;
  out.path = missing_path;
  if (!dangling_.empty()) out.reason = "dangling symlink at " + dangling_;
  return out;
}

PresenceChecker::PresenceChecker(const ModelFolders& folders, HashCache* cache)
    : folders_(folders), cache_(cache) {}

FileCheck PresenceChecker::check_file(std::string_view group, const ModelFile& file,
                                      bool verify) const {
  Scan scan(folders_, cache_, verify);
  return scan.check(group, file);
}

namespace {

ModelCheck check_with(Scan& scan, const Model& model) {
  ModelCheck out;
  out.id = model.id;
  out.files.reserve(model.files.size());
  for (const ModelFile& file : model.files)
    out.files.push_back(scan.check(group_of(model, file), file));
  out.state = model_presence(out.files);
  return out;
}

}  // namespace

ModelCheck PresenceChecker::check_model(const Model& model, bool verify) const {
  Scan scan(folders_, cache_, verify);
  return check_with(scan, model);
}

std::vector<ModelCheck> PresenceChecker::check_models(const std::vector<Model>& models,
                                                      bool verify) const {
  Scan scan(folders_, cache_, verify);
  std::vector<ModelCheck> out;
  out.reserve(models.size());
  for (const Model& model : models) out.push_back(check_with(scan, model));
  return out;
}

}  // namespace haul::models
