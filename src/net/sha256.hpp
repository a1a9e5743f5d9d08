// Incremental SHA-256 through OpenSSL's EVP interface (uses SHA-NI where the
// CPU has it). Not thread-safe; one instance per stream.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace haul::net {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  // Lower-case hex digest; the object is reset and can hash a new stream.
  std::string finish_hex();
  void reset();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// True when `text` is 64 hex digits (either case).
bool is_sha256_hex(std::string_view text);

}  // namespace haul::net
