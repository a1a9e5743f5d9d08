#include "models/symlinks.hpp"

#include <unistd.h>

#include <string>
#include <system_error>

namespace haul::models {

namespace fs = std::filesystem;

namespace {

bool is_within(const fs::path& path, const fs::path& root) {
  const fs::path relative = path.lexically_normal().lexically_relative(root.lexically_normal());
  return !relative.empty() && *relative.begin() != "..";
}

// What the link should hold: relative when both ends share a root.
fs::path link_value(const fs::path& target, const fs::path& link,
                    const std::vector<fs::path>& roots) {
  for (const fs::path& root : roots) {
    if (is_within(target, root) && is_within(link, root))
      return target.lexically_normal().lexically_relative(link.parent_path().lexically_normal());
  }
  return target;
}

}  // namespace

Result<void> ensure_symlink(const fs::path& target, const fs::path& link,
                            const std::vector<fs::path>& roots) {
  const fs::path value = link_value(target, link, roots);
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(link, ec);
  if (fs::is_symlink(status)) {
    if (fs::read_symlink(link, ec) == value && !ec) return {};  // already right
  } else if (fs::exists(status)) {
    return fail(ErrorCode::kFailedPrecondition,
                "cannot link " + link.string() + " to " + target.string() +
                    ": a file that is not a link is there (remove it to let haul link it)");
  }
  fs::create_directories(link.parent_path(), ec);
  const fs::path temp = link.string() + ".haul-link" + std::to_string(::getpid());
  fs::remove(temp, ec);
  fs::create_symlink(value, temp, ec);
  if (!ec) fs::rename(temp, link, ec);  // replaces a wrong link atomically
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp, ec);
    return fail(ErrorCode::kIo,
                "cannot link " + link.string() + " to " + target.string() + ": " + why);
  }
  return {};
}

}  // namespace haul::models
