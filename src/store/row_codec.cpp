#include "store/row_codec.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

namespace haul::store {

using std::chrono::milliseconds;

std::string job_load_columns() { return std::string(kJobColumns) + ", requested_action"; }

std::int64_t to_ms(core::TimePoint at) {
  return std::chrono::floor<milliseconds>(at.time_since_epoch()).count();
}

core::TimePoint from_ms(std::int64_t ms) {
  return core::TimePoint(std::chrono::duration_cast<core::Clock::duration>(milliseconds(ms)));
}

std::string labels_to_json(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return "{}";  // the common case, without building a json value
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, value] : labels) object[key] = value;
  // replace: a label that is not valid UTF-8 must not make the whole batch fail.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string strings_to_json(const std::vector<std::string>& strings) {
  if (strings.empty()) return "[]";
  return nlohmann::json(strings).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_context_json(const Boxed<core::JobError>& error) {
  if (!error || (error->file.empty() && error->stage.empty() && error->attempt == 0)) return "";
  return nlohmann::json{{"file", error->file}, {"stage", error->stage}, {"attempt", error->attempt}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Parsed without exceptions: a damaged row is reported, not thrown.
Result<std::map<std::string, std::string>> read_string_map(const std::string& text,
                                                           std::string_view what,
                                                           const std::string& job_id) {
  nlohmann::json object = nlohmann::json::parse(text, nullptr, false);
  if (!object.is_object()) {
    return fail(ErrorCode::kDataLoss,
                std::string(what) + " of job " + job_id + " are not a JSON object");
  }
  std::map<std::string, std::string> map;
  for (const auto& [key, value] : object.items()) {
    if (!value.is_string()) {
      return fail(ErrorCode::kDataLoss,
                  std::string(what) + " '" + key + "' of job " + job_id + " is not a string");
    }
    map.emplace(key, value.get<std::string>());
  }
  return map;
}

Result<std::vector<std::string>> read_strings(const std::string& text, const std::string& job_id) {
  const nlohmann::json list = nlohmann::json::parse(text, nullptr, false);
  if (!list.is_array())
    return fail(ErrorCode::kDataLoss, "links of an item of job " + job_id + " are not a list");
  std::vector<std::string> strings;
  strings.reserve(list.size());
  for (const nlohmann::json& entry : list) {
    if (!entry.is_string())
      return fail(ErrorCode::kDataLoss, "a link of an item of job " + job_id + " is not a string");
    strings.push_back(entry.get<std::string>());
  }
  return strings;
}

void add_error_context(Boxed<core::JobError>& error, const std::string& text) {
  if (!error || text.empty()) return;
  const nlohmann::json context = nlohmann::json::parse(text, nullptr, false);
  if (!context.is_object()) return;
  error->file = context.value("file", "");
  error->stage = context.value("stage", "");
  error->attempt = context.value("attempt", 0);
}

std::string_view stored_action_name(const std::optional<core::Action>& action) {
  // "" rather than a default string_view: a null pointer binds SQL NULL.
  return action ? core::action_name(*action) : std::string_view("");
}

Result<std::optional<core::Action>> read_requested_action(std::string_view text,
                                                          const std::string& job_id) {
  if (text.empty()) return std::optional<core::Action>{};
  // core has no parser for action names (src/core is not the store's to
  // change), so the four are tried here.
  for (const core::Action action :
       {core::Action::kPause, core::Action::kResume, core::Action::kRetry, core::Action::kCancel}) {
    if (core::action_name(action) == text) return std::optional<core::Action>{action};
  }
  return fail(ErrorCode::kDataLoss,
              "unknown requested action '" + std::string(text) + "' stored for job " + job_id);
}

std::optional<core::ItemState> stored_item_state(std::string_view text) {
  if (text == "retrying") return core::ItemState::kQueued;
  return core::parse_item_state(text);
}

}  // namespace haul::store
