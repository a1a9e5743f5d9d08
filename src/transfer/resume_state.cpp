#include "transfer/resume_state.hpp"

#include <nlohmann/json.hpp>

namespace haul::transfer {

namespace {
constexpr std::string_view kFormat = "haul-part/1";
}

std::string Validator::if_range() const {
  if (has_strong_etag()) return etag;
  return last_modified;
}

bool Validator::matches(const Validator& other) const {
  if (size && other.size && *size != *other.size) return false;
  if (!etag.empty() && !other.etag.empty()) return etag == other.etag;
  if (!last_modified.empty() && !other.last_modified.empty()) {
    return last_modified == other.last_modified;
  }
  return true;
}

Validator validator_from(const net::ResponseHead& head, std::optional<std::uint64_t> size) {
  Validator v;
  if (auto etag = head.get("etag")) v.etag = std::string(*etag);
  if (auto modified = head.get("last-modified")) v.last_modified = std::string(*modified);
  v.size = size;
  return v;
}

std::string serialize_resume_state(const ResumeState& state) {
  nlohmann::json done = nlohmann::json::array();
  for (const ByteRange& r : state.done.ranges()) done.push_back({r.begin, r.end});
  nlohmann::json doc = {
      {"format", kFormat},
      {"etag", state.validator.etag},
      {"last_modified", state.validator.last_modified},
      {"done", done},
  };
  doc["size"] =
      state.validator.size ? nlohmann::json(*state.validator.size) : nlohmann::json(nullptr);
  return doc.dump() + "\n";
}

Result<ResumeState> parse_resume_state(std::string_view text) {
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [](const std::string& why) {
    return fail(ErrorCode::kDataLoss, "unreadable resume state: " + why);
  };
  if (doc.is_discarded() || !doc.is_object()) return bad("not JSON");
  // Offsets must be non-negative integers: get<uint64_t>() would wrap -1 and truncate 1.5.
  auto offset = [](const nlohmann::json& value) -> std::optional<std::uint64_t> {
    if (!value.is_number_unsigned()) return std::nullopt;
    return value.get<std::uint64_t>();
  };
  auto text_field = [&](const char* name) -> std::optional<std::string> {
    auto it = doc.find(name);
    if (it == doc.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (text_field("format") != std::string(kFormat)) return bad("unknown format");
  ResumeState state;
  auto etag = text_field("etag");
  auto modified = text_field("last_modified");
  if (!etag || !modified) return bad("missing validator");
  state.validator.etag = std::move(*etag);
  state.validator.last_modified = std::move(*modified);
  auto size = doc.find("size");
  if (size == doc.end()) return bad("missing size");
  if (!size->is_null()) {
    state.validator.size = offset(*size);
    if (!state.validator.size) return bad("size is not a byte count");
  }
  auto done = doc.find("done");
  if (done == doc.end() || !done->is_array()) return bad("missing ranges");
  for (const auto& range : *done) {
    if (!range.is_array() || range.size() != 2) return bad("malformed range");
    const auto begin = offset(range[0]);
    const auto end = offset(range[1]);
    if (!begin || !end || *end < *begin || (state.validator.size && *end > *state.validator.size)) {
      return bad("range outside the file");
    }
    state.done.add({*begin, *end});
  }
  return state;
}

}  // namespace haul::transfer
