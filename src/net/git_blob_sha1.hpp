// Git's object id of a blob: how the Hugging Face Hub names files it keeps
// in git rather than LFS (their ETag, the tree's "oid"). Through OpenSSL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace haul::net {

// Git's object id of a blob: SHA-1 over "blob <size>\0" then the content, the
// "oid" of tree entries and the ETag of files not in LFS. Streaming, for files
// of any size; `size` must be the total number of bytes that update() will see.
// Not thread-safe.
class GitBlobSha1 {
 public:
  explicit GitBlobSha1(std::uint64_t size);
  ~GitBlobSha1();
  GitBlobSha1(const GitBlobSha1&) = delete;
  GitBlobSha1& operator=(const GitBlobSha1&) = delete;

  void update(std::string_view data);
  // Lower-case hex digest. The first call finishes the hash; later calls
  // return the same value and update() must not be called any more.
  std::string hex();
  // Content bytes seen so far: a digest is only meaningful when this equals
  // the size given to the constructor.
  std::uint64_t bytes_hashed() const { return bytes_; }

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  std::uint64_t bytes_ = 0;
  std::string hex_;
};

}  // namespace haul::net
