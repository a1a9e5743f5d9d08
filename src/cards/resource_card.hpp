// Resource cards: markdown files in the library (e.g. `loras/wan21_fusionx.md`)
// that name a model and carry, under a `# Download` heading, the bash commands
// that install it on an instance. This is the pure parser: bytes in, a card out.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace haul::cards {

struct ResourceCard {
  std::string path;         // relative to the library, '/'-separated: "loras/wan21_fusionx.md"
  std::string name;         // "Wan 2.1 FusionX LoRA"
  std::string type;         // "loras", "checkpoints", "vae", ... ("" for a card at the root)
  std::string description;  // may be empty
  std::map<std::string, std::string> front_matter;  // every front matter key, as written
  std::vector<std::string> commands;                // one shell command each, in order
};

// Parses one card. `relative_path` is stored as the card's path and used in
// messages and for the defaults; it is not checked here (CardLibrary::load does).
//  - name: front matter `name`, else the text of the first heading before the
//    Download heading, else the file name without `.md`;
//  - type: front matter `type`, else the first folder of `relative_path`;
//  - description: front matter `description`, else the first top-level
//    paragraph before the Download heading (whitespace collapsed);
//  - commands: the code blocks labelled bash, sh or shell, or unlabelled, in
//    the section of the heading whose text is "Download" or "Downloads"
//    (any level, any case; the section ends at the next heading of the same
//    or a higher level), split by split_script_commands(). Blocks in other
//    languages there (json, python, ...) are ignored.
// Errors, kInvalidArgument, each naming the path: bad front matter; no
// Download heading; more than one; no shell code block in its section; a
// block with no commands; a command split_script_commands() rejects.
Result<ResourceCard> parse_resource_card(std::string_view markdown, std::string_view relative_path);

}  // namespace haul::cards
