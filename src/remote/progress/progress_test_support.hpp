// Test helpers for the progress parser tests (header-only, test code only):
// reading the verbatim outputs in testdata/ and feeding a parser in chunks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "remote/progress/progress_parser.hpp"

namespace haul::remote::progress::testing {

// The bytes of testdata/NAME, beside this header (or in HAUL_PROGRESS_TESTDATA
// when the build defines it).
inline std::string read_testdata(std::string_view name) {
#ifdef HAUL_PROGRESS_TESTDATA
  const std::filesystem::path dir = HAUL_PROGRESS_TESTDATA;
#else
  const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path() / "testdata";
#endif
  const std::filesystem::path path = dir / std::string(name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Feeds `output` in chunks of `chunk` bytes (0: all at once), then finishes.
inline std::vector<ProgressUpdate> run(ProgressParser& parser, std::string_view output,
                                       std::size_t chunk = 0) {
  std::vector<ProgressUpdate> updates;
  const std::size_t step = chunk == 0 ? std::max<std::size_t>(output.size(), 1) : chunk;
  for (std::size_t at = 0; at < output.size(); at += step) {
    auto part = parser.feed(output.substr(at, step));
    updates.insert(updates.end(), part.begin(), part.end());
  }
  auto rest = parser.finish();
  updates.insert(updates.end(), rest.begin(), rest.end());
  return updates;
}

template <class Parser, class... Args>
std::vector<ProgressUpdate> run_new(std::string_view output, std::size_t chunk, Args&&... args) {
  Parser parser(std::forward<Args>(args)...);
  return run(parser, output, chunk);
}

inline std::vector<ProgressUpdate> of_kind(const std::vector<ProgressUpdate>& updates,
                                           ProgressUpdate::Kind kind) {
  std::vector<ProgressUpdate> out;
  std::copy_if(updates.begin(), updates.end(), std::back_inserter(out),
               [kind](const ProgressUpdate& u) { return u.kind == kind; });
  return out;
}

// Approximate comparison for speeds: the tools print 3-4 significant digits.
inline void expect_near_relative(double actual, double expected, double tolerance = 1e-6) {
  EXPECT_NEAR(actual, expected, expected * tolerance) << "expected about " << expected;
}

inline bool same_update(const ProgressUpdate& a, const ProgressUpdate& b) {
  return a.kind == b.kind && a.stage == b.stage && a.name == b.name && a.percent == b.percent &&
         a.downloaded == b.downloaded && a.total == b.total && a.speed == b.speed &&
         a.elapsed_seconds == b.elapsed_seconds && a.remaining_seconds == b.remaining_seconds &&
         a.message == b.message;
}

// The parser must not care how the output was cut into chunks (for parsers
// without early frame reporting; see LineParser::frame_complete).
inline void expect_same_updates(const std::vector<ProgressUpdate>& a,
                                const std::vector<ProgressUpdate>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(same_update(a[i], b[i]))
        << "update " << i << " differs: " << kind_name(a[i].kind) << " vs " << kind_name(b[i].kind);
  }
}

// What must hold for any update from any parser.
inline void expect_sane(const std::vector<ProgressUpdate>& updates) {
  for (const ProgressUpdate& u : updates) {
    if (u.percent) {
      EXPECT_GE(*u.percent, 0);
      EXPECT_LE(*u.percent, 100);
    }
    if (u.downloaded && u.total) {
      EXPECT_LE(*u.downloaded, *u.total);
    }
    if (u.speed) {
      EXPECT_GE(*u.speed, 0);
    }
    EXPECT_LE(u.message.size(), ProgressUpdate::kMaxMessageBytes);
    EXPECT_EQ(u.message.find('\x1b'), std::string::npos) << u.message;
  }
}

}  // namespace haul::remote::progress::testing
