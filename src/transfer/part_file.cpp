#include "transfer/part_file.hpp"

namespace haul::transfer {

std::filesystem::path part_path_for(const std::filesystem::path& destination) {
  std::filesystem::path p = destination;
  p += ".part";
  return p;
}

std::filesystem::path state_path_for(const std::filesystem::path& destination) {
  std::filesystem::path p = destination;
  p += ".part.state";
  return p;
}

std::optional<ResumeState> load_resume_state(FileSystem& fs,
                                             const std::filesystem::path& destination) {
  auto part_size = fs.file_size(part_path_for(destination));
  if (!part_size) return std::nullopt;
  auto text = fs.read_file(state_path_for(destination));
  if (!text) return std::nullopt;
  auto state = parse_resume_state(*text);
  if (!state) return std::nullopt;
  // A .part shorter than what the state claims was replaced behind our back.
  if (!state->done.empty() && state->done.ranges().back().end > *part_size) return std::nullopt;
  return *state;
}

}  // namespace haul::transfer
