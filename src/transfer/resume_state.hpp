// What survives a stopped or killed download next to its .part file: the
// validator that identifies the remote version and the byte ranges known to be
// on disk. Serialised as a small JSON document (<dest>.part.state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "net/http_head.hpp"
#include "transfer/byte_range.hpp"

namespace haul::transfer {

// Identifies one version of a remote file.
struct Validator {
  std::string etag;           // as the server sent it, quotes and W/ included
  std::string last_modified;  // as the server sent it
  std::optional<std::uint64_t> size;

  bool has_strong_etag() const { return !etag.empty() && etag.rfind("W/", 0) != 0; }
  // The value to send in If-Range: a strong ETag, else Last-Modified, else "".
  std::string if_range() const;
  // False when both sides know a property and it differs.
  bool matches(const Validator& other) const;
  friend bool operator==(const Validator&, const Validator&) = default;
};

// Reads ETag and Last-Modified from a response; `size` is the complete length.
Validator validator_from(const net::ResponseHead& head, std::optional<std::uint64_t> size);

struct ResumeState {
  Validator validator;
  RangeSet done;  // bytes that were fdatasync'ed before this state was written
  friend bool operator==(const ResumeState&, const ResumeState&) = default;
};

std::string serialize_resume_state(const ResumeState& state);

// Errors: kDataLoss when the text is not a state this version wrote.
Result<ResumeState> parse_resume_state(std::string_view text);

}  // namespace haul::transfer
