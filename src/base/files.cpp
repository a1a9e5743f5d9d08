#include "base/files.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

namespace haul {

Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view text) {
  std::filesystem::path temporary = file;
  temporary += ".tmp" + std::to_string(::getpid());
  std::error_code ec;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(temporary, ec);
      return fail(ErrorCode::kIo, "cannot write " + file.string());
    }
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temporary, ec);
    return fail(ErrorCode::kIo, "cannot write " + file.string() + ": " + why);
  }
  return {};
}

}  // namespace haul
