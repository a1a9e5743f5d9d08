// FileSystem over POSIX calls. errno becomes an Error at exactly one place
// (errno_error), so every disk failure reads the same way to the user.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "transfer/file_system.hpp"

namespace haul::transfer {

namespace {

namespace fs = std::filesystem;

Error errno_error(std::string_view what, const fs::path& path, int err) {
  ErrorCode code = ErrorCode::kIo;
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) code = ErrorCode::kNoSpace;
  if (err == EACCES || err == EPERM || err == EROFS) code = ErrorCode::kPermissionDenied;
  if (err == ENOENT) code = ErrorCode::kNotFound;
  if (err == EINVAL) code = ErrorCode::kInvalidArgument;
  std::string message(what);
  if (!path.empty()) {
    message.push_back(' ');
    message.append(path.native());
  }
  message.append(": ").append(std::strerror(err));
  return Error{code, std::move(message)};
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<int> open_rw(const fs::path& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return fail(errno_error("cannot open", path, errno));
    return fd;
  }

  Result<void> lock_exclusive(int fd) override {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return {};
    if (errno == EWOULDBLOCK)
      return fail(ErrorCode::kInvalidArgument, "locked by another download");
    return fail(errno_error("cannot lock", {}, errno));
  }

  Result<int> open_direct(const fs::path& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_DIRECT);
    if (fd < 0) return fail(errno_error("cannot open for direct I/O", path, errno));
    return fd;
  }

  Result<int> open_read(const fs::path& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_error("cannot open", path, errno));
    return fd;
  }

  void close(int fd) override { ::close(fd); }

  Result<FileStat> stat(int fd) override {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(errno_error("cannot stat", {}, errno));
    return FileStat{static_cast<std::uint64_t>(st.st_size),
                    static_cast<std::uint64_t>(st.st_blocks) * 512};
  }

  Result<void> allocate(int fd, std::uint64_t size) override {
    if (size == 0) return {};
    if (::fallocate(fd, 0, 0, static_cast<off_t>(size)) == 0) return {};
    const int err = errno;
    // Filesystems without fallocate (some FUSE, NFSv3): a sparse length will do;
    // a full disk then shows up as ENOSPC on write.
    if (err == EOPNOTSUPP || err == ENOSYS) return truncate(fd, size);
    return fail(errno_error("cannot reserve space for", {}, err));
  }

  Result<void> truncate(int fd, std::uint64_t size) override {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      return fail(errno_error("cannot set length of", {}, errno));
    }
    return {};
  }

  Result<void> write_at(int fd, const std::byte* data, std::size_t size,
                        std::uint64_t offset) override {
    while (size > 0) {
      const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(errno_error("cannot write", {}, errno));
      }
      data += n;
      size -= static_cast<std::size_t>(n);
      offset += static_cast<std::uint64_t>(n);
    }
    return {};
  }

  Result<std::size_t> read_at(int fd, std::byte* data, std::size_t size,
                              std::uint64_t offset) override {
    std::size_t total = 0;
    while (total < size) {
      const ssize_t n = ::pread(fd, data + total, size - total, static_cast<off_t>(offset + total));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(errno_error("cannot read", {}, errno));
      }
      if (n == 0) break;
      total += static_cast<std::size_t>(n);
    }
    return total;
  }

  Result<void> datasync(int fd) override {
    if (::fdatasync(fd) != 0) return fail(errno_error("cannot flush", {}, errno));
    return {};
  }

  Result<void> rename(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return fail(errno_error("cannot rename " + from.string() + " to", to, errno));
    }
    return {};
  }

  Result<void> sync_directory(const fs::path& dir) override {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail(errno_error("cannot open directory", dir, errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return fail(errno_error("cannot sync directory", dir, err));
    return {};
  }

  Result<void> remove(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return fail(errno_error("cannot remove", path, errno));
    }
    return {};
  }

  Result<SpaceInfo> space(const fs::path& dir) override {
    struct statvfs st {};
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &st) != 0) {
      return fail(errno_error("cannot query free space on", dir, errno));
    }
    return SpaceInfo{static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize};
  }

  Result<std::uint64_t> file_size(const fs::path& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fail(errno_error("cannot stat", path, errno));
    if (!S_ISREG(st.st_mode))
      return fail(ErrorCode::kInvalidArgument, path.string() + " is not a regular file");
    return static_cast<std::uint64_t>(st.st_size);
  }

  Result<void> create_directories(const fs::path& dir) override {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail(errno_error("cannot create directory", dir, ec.value()));
    return {};
  }

  Result<std::string> read_file(const fs::path& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_error("cannot open", path, errno));
    std::string contents;
    char buf[8192];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return fail(errno_error("cannot read", path, err));
      }
      if (n == 0) break;
      contents.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return contents;
  }

  Result<void> write_file_atomic(const fs::path& path, std::string_view contents) override {
    fs::path tmp = path;
    tmp += ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(errno_error("cannot create", tmp, errno));
    auto written =
        write_at(fd, reinterpret_cast<const std::byte*>(contents.data()), contents.size(), 0);
    if (written && ::fdatasync(fd) != 0) written = fail(errno_error("cannot flush", tmp, errno));
    ::close(fd);
    if (!written) {
      ::unlink(tmp.c_str());
      return written;
    }
    return rename(tmp, path);
  }
};

}  // namespace

std::shared_ptr<FileSystem> posix_file_system() {
  static const std::shared_ptr<FileSystem> instance = std::make_shared<PosixFileSystem>();
  return instance;
}

}  // namespace haul::transfer
