// The resource library: a folder of resource cards (`loras/wan21_fusionx.md`,
// `checkpoints/flux_schnell.md`, ...) that the web UI lists and `haul install`
// runs on instances. Reads the filesystem; every path a caller names is
// confined to the library's root. Safe to use from any thread (no state
// besides the root).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "cards/resource_card.hpp"

namespace haul::cards {

// One entry of CardLibrary::list(). A card that does not parse is still listed,
// so a typo in one card shows up next to the others instead of making the
// card vanish: `error` is then set and `card` holds only path, type (its
// folder) and name (its file name without .md).
struct ListedCard {
  ResourceCard card;
  std::string error;  // empty when the card parsed
  bool ok() const { return error.empty(); }
};

// Cards larger than this are refused: a card is a page of text, not a model.
inline constexpr std::uintmax_t kMaxCardBytes = std::uintmax_t{1024} * 1024;

class CardLibrary {
 public:
  explicit CardLibrary(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }

  // Every `*.md` file under the root, sorted by path (byte order). Hidden files
  // and folders (name starting with '.') and README.md files (any case) are
  // skipped, and so are folders this process may not read. Symlinked folders
  // are not walked (inside the root they would list cards twice, outside they
  // escape it); symlinked card files are listed and checked like load()
  // checks them. Errors: kNotFound when the root does not exist,
  // kInvalidArgument when it is not a folder, kIo when it cannot be read.
  Result<std::vector<ListedCard>> list() const;

  // The card at `relative_path` ('/'-separated; "." and empty components are
  // dropped, so the card's path is normalised). Errors:
  //  - kInvalidArgument: empty path, NUL byte, not ending in ".md", a folder,
  //    larger than kMaxCardBytes, or the card does not parse;
  //  - kPermissionDenied: an absolute path, a ".." component, or a path that
  //    resolves (through symlinks) outside the root;
  //  - kNotFound: no such card (or the root itself is missing);
  //  - kIo: the file cannot be read.
  Result<ResourceCard> load(std::string_view relative_path) const;

 private:
  std::filesystem::path root_;
};

}  // namespace haul::cards
