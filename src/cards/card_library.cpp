#include "cards/card_library.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "base/text.hpp"

namespace haul::cards {

namespace fs = std::filesystem;

namespace {

// Component-wise, so "/srv/lib2" is not inside "/srv/lib".
bool is_within(const fs::path& root, const fs::path& path) {
  const auto [root_end, path_at] =
      std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  (void)path_at;
  return root_end == root.end();
}

// Checks the shape of a caller's path before touching the filesystem, so the
// refusal names what was wrong rather than where it led.
Result<std::string> normalise(std::string_view relative_path) {
  const std::string shown(relative_path);
  if (relative_path.empty()) return fail(ErrorCode::kInvalidArgument, "resource path is empty");
  if (relative_path.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument, "resource path contains a NUL byte");
  }
  if (relative_path.front() == '/') {
    return fail(ErrorCode::kPermissionDenied,
                "resource path '" + shown +
                    "' is absolute; give it relative to the library, like 'loras/x.md'");
  }
  std::string out;
  std::size_t pos = 0;
  while (pos <= relative_path.size()) {
    std::size_t end = relative_path.find('/', pos);
    if (end == std::string_view::npos) end = relative_path.size();
    const std::string_view part = relative_path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return fail(ErrorCode::kPermissionDenied,
                  "resource path '" + shown + "' contains '..'; it must stay inside the library");
    }
    if (!out.empty()) out += '/';
    out += part;
  }
  if (out.size() < 4 || out.substr(out.size() - 3) != ".md") {
    return fail(ErrorCode::kInvalidArgument,
                "resource path '" + shown + "' is not a resource card (a .md file)");
  }
  return out;
}

Error filesystem_error(const std::error_code& ec, const std::string& what) {
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
    return Error{ErrorCode::kNotFound, what + " does not exist"};
  }
  if (ec == std::errc::permission_denied) {
    return Error{ErrorCode::kPermissionDenied, what + " cannot be read: " + ec.message()};
  }
  if (ec == std::errc::too_many_symbolic_link_levels) {
    return Error{ErrorCode::kInvalidArgument, what + " is a symlink loop"};
  }
  return Error{ErrorCode::kIo, what + " cannot be read: " + ec.message()};
}

ListedCard broken_card(const std::string& relative_path, std::string error) {
  ListedCard listed;
  listed.card.path = relative_path;
  const std::size_t slash = relative_path.find('/');
  if (slash != std::string::npos) listed.card.type = relative_path.substr(0, slash);
  const std::size_t name_start = relative_path.rfind('/') + 1;  // npos + 1 == 0
  listed.card.name = relative_path.substr(name_start, relative_path.size() - name_start - 3);
  listed.error = std::move(error);
  return listed;
}

}  // namespace

CardLibrary::CardLibrary(fs::path root) : root_(std::move(root)) {}

Result<ResourceCard> CardLibrary::load(std::string_view relative_path) const {
  auto normalised = normalise(relative_path);
  if (!normalised) return fail(normalised.error());
  const std::string& path = *normalised;
  const std::string card_name = "resource card '" + path + "'";

  std::error_code ec;
  const fs::path root = fs::canonical(root_, ec);
  if (ec) return fail(filesystem_error(ec, "resource library '" + root_.string() + "'"));
  const fs::path target = fs::canonical(root / path, ec);
  if (ec) {
    Error error = filesystem_error(ec, card_name);
    if (error.code == ErrorCode::kNotFound) error.message += " in library '" + root_.string() + "'";
    return fail(std::move(error));
  }
  if (!is_within(root, target)) {
    return fail(ErrorCode::kPermissionDenied,
                card_name + " resolves to '" + target.string() + "', outside the library");
  }
  if (!fs::is_regular_file(target, ec)) {
    return fail(ErrorCode::kInvalidArgument, card_name + " is not a file");
  }

  // Read the resolved path, not the one with symlinks: what was checked is
  // what is read (short of someone swapping folders under us meanwhile).
  std::ifstream in(target, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, card_name + " cannot be opened");
  std::string content;
  content.resize(kMaxCardBytes + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return fail(ErrorCode::kIo, card_name + " cannot be read");
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > kMaxCardBytes) {
    return fail(ErrorCode::kInvalidArgument,
                card_name + " is larger than " + std::to_string(kMaxCardBytes / 1024) + " KiB");
  }
  return parse_resource_card(content, path);
}

Result<std::vector<ListedCard>> CardLibrary::list() const {
  const std::string where = "resource library '" + root_.string() + "'";
  std::error_code ec;
  const fs::path root = fs::canonical(root_, ec);
  if (ec) return fail(filesystem_error(ec, where));
  if (!fs::is_directory(root, ec))
    return fail(ErrorCode::kInvalidArgument, where + " is not a folder");

  std::vector<ListedCard> cards;
  // Symlinked folders are not walked: one pointing inside the root would list
  // its cards twice (and a link to an ancestor forever), one pointing outside
  // is an escape. load() still accepts paths through the inside ones.
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return fail(filesystem_error(ec, where));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return fail(ErrorCode::kIo, where + " cannot be read: " + ec.message());
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    std::error_code kind_ec;
    if (it->is_directory(kind_ec)) {
      if (!name.empty() && name.front() == '.') it.disable_recursion_pending();
      continue;
    }
    if (!name.empty() && name.front() == '.') continue;
    if (path.extension() != ".md" || iequals(name, "README.md")) continue;
    const std::string relative = path.lexically_relative(root).generic_string();
    auto card = load(relative);
    if (card) {
      cards.push_back(ListedCard{std::move(*card), ""});
    } else {
      cards.push_back(broken_card(relative, std::move(card.error().message)));
    }
  }
  if (ec) return fail(ErrorCode::kIo, where + " cannot be read: " + ec.message());
  std::sort(cards.begin(), cards.end(),
            [](const ListedCard& a, const ListedCard& b) { return a.card.path < b.card.path; });
  return cards;
}

}  // namespace haul::cards
