#include "net/git_blob_sha1.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace haul::net {

struct GitBlobSha1::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

GitBlobSha1::GitBlobSha1(std::uint64_t size) : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  // Allocation failure here means the process is out of memory: nothing to recover.
  if (ctx_->md == nullptr) std::abort();
  EVP_DigestInit_ex(ctx_->md, EVP_sha1(), nullptr);
  const std::string header = "blob " + std::to_string(size);
  EVP_DigestUpdate(ctx_->md, header.data(), header.size() + 1);  // with the '\0'
}

GitBlobSha1::~GitBlobSha1() = default;

void GitBlobSha1::update(std::string_view data) {
  EVP_DigestUpdate(ctx_->md, data.data(), data.size());
  bytes_ += data.size();
}

std::string GitBlobSha1::hex() {
  if (!hex_.empty()) return hex_;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_->md, digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  hex_.reserve(static_cast<std::size_t>(length) * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex_ += kHex[digest[i] >> 4];
    hex_ += kHex[digest[i] & 0xF];
  }
  return hex_;
}

}  // namespace haul::net
