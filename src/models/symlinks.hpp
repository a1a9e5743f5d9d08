// The symlinks a model's file must have (the same file seen by a second UI):
// made, or repaired when they point elsewhere or nowhere, atomically (a link
// under a temporary name renamed over the old one). Relative when the link
// and its target lie in one root, so the pair survives the root moving.
//
// Threading: blocking filesystem calls; any thread.
#pragma once

#include <filesystem>
#include <vector>

#include "base/error.hpp"

namespace haul::models {

// Makes `link` a symlink to `target` (both absolute). A link already
// pointing at the target is left alone. Errors: kFailedPrecondition when a
// file or directory that is not a symlink stands at `link` (it is never
// replaced: it may be the user's); kIo naming the link otherwise.
Result<void> ensure_symlink(const std::filesystem::path& target, const std::filesystem::path& link,
                            const std::vector<std::filesystem::path>& roots);

}  // namespace haul::models
