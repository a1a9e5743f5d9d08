// libFuzzer target for the progress parsers: what wget, curl, aria2c, tqdm,
// civitdl and any other command print on a remote instance, which haul reads
// but does not control.
//
// Input: one selector byte, one chunking byte, then the output. Selector
// ('0' + n, taken mod 10):
//   0 generic   1 wget   2 curl   3 aria2c   4 tqdm   5 civitdl
//   6 the line splitter: the same lines however the output is cut
//   7 the output as a shell command: detect_tool, then its parser on itself
//   8 the output as a command line: plan_outputs (output_paths.hpp) and the
//     shell word reader
//   9 the output as a tool's output: OutputPathLearner
// The chunking byte seeds the sizes (1..64 bytes) the output is fed in.
// Built as a libFuzzer binary with HAUL_FUZZ and as a corpus replay otherwise
// (tests/fuzz/replay_main.cpp).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "remote/output_paths.hpp"
#include "remote/progress/aria2c_parser.hpp"
#include "remote/progress/civitdl_parser.hpp"
#include "remote/progress/command_tool.hpp"
#include "remote/progress/curl_parser.hpp"
#include "remote/progress/generic_parser.hpp"
#include "remote/progress/line_splitter.hpp"
#include "remote/progress/progress_parser.hpp"
#include "remote/progress/tqdm_parser.hpp"
#include "remote/progress/wget_parser.hpp"
#include "remote/shell_words.hpp"

namespace {

using namespace haul::remote::progress;

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "progress_parsers_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

// Chunk sizes from a small generator, so each input replays the same way.
class Chunker {
 public:
  explicit Chunker(std::uint8_t seed) : state_(seed * 2654435761u + 1) {}
  std::size_t next() {
    state_ = state_ * 1103515245u + 12345u;
    return 1 + (state_ >> 16) % 64;
  }

 private:
  std::uint32_t state_;
};

void check_update(const ProgressUpdate& u, std::string_view input) {
  if (u.percent) {
    check(std::isfinite(*u.percent), "percent not finite", input);
    check(*u.percent >= 0 && *u.percent <= 100, "percent outside [0, 100]", input);
  }
  if (u.downloaded && u.total) check(*u.downloaded <= *u.total, "downloaded > total", input);
  if (u.speed) check(std::isfinite(*u.speed) && *u.speed >= 0, "bad speed", input);
  if (u.elapsed_seconds) check(*u.elapsed_seconds >= 0, "negative elapsed", input);
  if (u.remaining_seconds) check(*u.remaining_seconds >= 0, "negative remaining", input);
  check(u.message.size() <= ProgressUpdate::kMaxMessageBytes, "message too long", input);
  for (const std::string* text : {&u.message, &u.name, &u.stage}) {
    for (char c : *text) {
      check(c != '\x1b' && c != '\r' && c != '\n', "escape or line end in a field", input);
    }
  }
  const bool text_kind =
      u.kind == ProgressUpdate::Kind::kMessage || u.kind == ProgressUpdate::Kind::kError;
  check(!text_kind || !u.message.empty(), "message or error without text", input);
  check(u.name.size() <= LineSplitter::kMaxLineBytes, "name longer than a line", input);
}

void fuzz_parser(ProgressParser& parser, std::string_view text, std::uint8_t seed) {
  Chunker chunker(seed);
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t size = chunker.next();
    for (const auto& u : parser.feed(text.substr(at, size))) check_update(u, text);
    at += size;
  }
  for (const auto& u : parser.finish()) check_update(u, text);
  check(parser.feed(text).empty(), "updates after finish()", text);
}

void fuzz_splitter(std::string_view text, std::uint8_t seed) {
  LineSplitter whole;
  std::vector<Line> expected;
  whole.feed(text, expected);
  whole.finish(expected);

  LineSplitter cut;
  std::vector<Line> lines;
  Chunker chunker(seed);
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t size = chunker.next();
    cut.feed(text.substr(at, size), lines);
    at += size;
  }
  cut.finish(lines);
  check(lines.size() == expected.size(), "line count depends on chunking", text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    check(lines[i].text == expected[i].text && lines[i].end == expected[i].end,
          "line depends on chunking", text);
    check(lines[i].text.size() <= LineSplitter::kMaxLineBytes, "line over the cap", text);
    check(lines[i].text.find_first_of("\r\n\x1b") == std::string::npos,
          "line end or escape kept in a line", text);
  }
}

void fuzz_command(std::string_view text, std::uint8_t seed) {
  for (const auto& words : split_simple_commands(text)) {
    check(!words.empty(), "empty simple command", text);
  }
  const CommandTool tool = detect_tool(text);
  check(tool.output_name.find('/') == std::string::npos, "output name with a slash", text);
  const auto parser = make_parser(tool);
  check(parser != nullptr, "no parser", text);
  fuzz_parser(*parser, text, seed);
}

// A path the runner may pass to a removal: absolute or relative, normalised,
// never with a control character (the login-directory marker included).
void check_path(const std::string& path, std::string_view input) {
  check(!path.empty(), "empty output path", input);
  for (char c : path)
    check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control char", input);
  check(path.find("//") == std::string::npos, "repeated slash", input);
  check(path.find("/./") == std::string::npos && path.rfind("./", 0) != 0, "dot component", input);
}

void fuzz_plan(std::string_view text) {
  for (const auto& command : haul::remote::shell::split_commands(text)) {
    for (const auto& word : command.words) {
      const auto value = haul::remote::shell::expand(word, {{"UI_HOME", "/w"}});
      if (value) check(value->find('\0') == std::string::npos, "NUL in a word", text);
    }
  }
  const auto plan = haul::remote::plan_outputs(text, {{"UI_HOME", "/workspace/ComfyUI"}});
  for (const std::string& path : plan.files) check_path(path, text);
  if (plan.tool_dir && !plan.tool_dir->empty()) check_path(*plan.tool_dir, text);
}

void fuzz_learner(std::string_view text, std::uint8_t seed) {
  haul::remote::OutputPathLearner learner(std::string(seed % 2 ? "/home/u" : ""));
  Chunker chunker(seed);
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t size = chunker.next();
    learner.feed(text.substr(at, size));
    at += size;
  }
  learner.finish();
  check(learner.written().size() <= haul::remote::OutputPathLearner::kMaxPaths, "too many", text);
  for (const std::string& path : learner.written()) check_path(path, text);
  for (const std::string& path : learner.completed()) check_path(path, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned selector = static_cast<unsigned char>(data[0] - '0') % 10;
  const std::uint8_t seed = data[1];
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  std::unique_ptr<ProgressParser> parser;
  switch (selector) {
    case 0:
      parser = std::make_unique<GenericParser>();
      break;
    case 1:
      parser = std::make_unique<WgetParser>("hint.bin");
      break;
    case 2:
      parser = std::make_unique<CurlParser>("hint.bin");
      break;
    case 3:
      parser = std::make_unique<Aria2cParser>("hint.bin");
      break;
    case 4:
      parser = std::make_unique<TqdmParser>();
      break;
    case 5:
      parser = std::make_unique<CivitdlParser>();
      break;
    case 6:
      fuzz_splitter(text, seed);
      return 0;
    case 8:
      fuzz_plan(text);
      return 0;
    case 9:
      fuzz_learner(text, seed);
      return 0;
    default:
      fuzz_command(text, seed);
      return 0;
  }
  fuzz_parser(*parser, text, seed);
  return 0;
}
