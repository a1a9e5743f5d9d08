#include "models/hash_cache.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>
#include <vector>

#include "base/files.hpp"
#include "net/sha256.hpp"

namespace haul::models {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHeader = "haul-sha256-cache 1";
constexpr std::string_view kTrailer = "end ";

template <class T>
bool read_number(std::string_view& text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

bool skip_space(std::string_view& text) {
  if (!text.starts_with(' ')) return false;
  text.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<std::string> HashCache::find(const std::string& path, std::uint64_t size,
                                           std::int64_t mtime_ns) const {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(path);
  if (found == entries_.end() || found->second.size != size || found->second.mtime_ns != mtime_ns)
    return std::nullopt;
  return found->second.sha256;
}

void HashCache::put(const std::string& path, std::uint64_t size, std::int64_t mtime_ns,
                    std::string sha256) {
  std::lock_guard lock(mutex_);
  entries_[path] = Entry{size, mtime_ns, std::move(sha256)};
  ++version_;
}

std::size_t HashCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t HashCache::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

std::string HashCache::serialize() const {
  std::vector<std::pair<const std::string*, const Entry*>> sorted;
  std::lock_guard lock(mutex_);
  sorted.reserve(entries_.size());
  for (const auto& [path, entry] : entries_) {
    if (path.find_first_of("\r\n") == std::string::npos) sorted.emplace_back(&path, &entry);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::string out(kHeader);
  out += '\n';
  for (const auto& [path, entry] : sorted) {
    out += entry->sha256;
    out += ' ';
    out += std::to_string(entry->size);
    out += ' ';
    out += std::to_string(entry->mtime_ns);
    out += ' ';
    out += *path;
    out += '\n';
  }
  out += kTrailer;
  out += std::to_string(sorted.size());
  out += '\n';
  return out;
}

bool HashCache::deserialize(std::string_view text) {
  if (!text.starts_with(kHeader) || text.size() <= kHeader.size() || text[kHeader.size()] != '\n')
    return false;
  text.remove_prefix(kHeader.size() + 1);
  std::unordered_map<std::string, Entry> entries;
  while (true) {
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return false;  // no trailer: cut short
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line.starts_with(kTrailer)) {
      line.remove_prefix(kTrailer.size());
      std::size_t count = 0;
      if (!read_number(line, count) || !line.empty() || !text.empty() || count != entries.size())
        return false;
      break;
    }
    Entry entry;
    if (line.size() < 64 || !net::is_sha256_hex(line.substr(0, 64))) return false;
    entry.sha256 = line.substr(0, 64);
    line.remove_prefix(64);
    if (!skip_space(line) || !read_number(line, entry.size) || !skip_space(line) ||
        !read_number(line, entry.mtime_ns) || !skip_space(line) || line.empty())
      return false;
    if (!entries.emplace(std::string(line), std::move(entry)).second) return false;
  }
  std::lock_guard lock(mutex_);
  entries_ = std::move(entries);
  ++version_;
  return true;
}

Result<void> HashCache::save(const fs::path& file) const {
  return write_file_atomically(file, serialize());
}

bool HashCache::load(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return false;
  return deserialize(text);
}

}  // namespace haul::models
