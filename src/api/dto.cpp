#include "api/dto.hpp"

#include <cmath>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/json_writer.hpp"
#include "net/file_name.hpp"
#include "net/url.hpp"
#include "remote/progress/progress_parser.hpp"
#include "sources/hf/hf_ref.hpp"
#include "sources/source_kind.hpp"

namespace haul::api {

namespace {

using nlohmann::json;

double rounded(double value, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

double item_percent(const core::Item& item) {
  if (item.state == core::ItemState::kCompleted) return 100.0;
  if (!item.size || *item.size == 0) return 0.0;
  return 100.0 * static_cast<double>(item.bytes_done) / static_cast<double>(*item.size);
}

std::string item_name(const core::Item& item) {
  if (!item.path.empty()) return std::filesystem::path(item.path).filename().string();
  std::string name = net::file_name_from_url(item.source);
  return name.empty() ? net::redact_url(item.source) : name;
}

// The item the channel reports on: the first one still moving, else the last.
std::size_t current_item(const core::Job& job) {
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    if (job.items[i].state == core::ItemState::kRunning) return i;
  }
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    if (job.items[i].state != core::ItemState::kCompleted) return i;
  }
  return job.items.empty() ? 0 : job.items.size() - 1;
}

// Seed 004's `repo`: "org/name" of a Hugging Face source; none for others.
std::optional<std::string> hf_repo_of(const std::string& source) {
  if (sources::classify_source(source) != sources::SourceKind::kHuggingFace) return std::nullopt;
  auto ref = sources::hf::parse_hf_source(source, "https://huggingface.co");
  if (!ref) return std::nullopt;
  return ref->repo_id;
}

// Seed 004's `method`: how the bytes are fetched. haul's own engine here; on
// an instance, the tool of the card's command running (wget, curl, ...) or
// curl for the fetch scripts of native sources.
std::string fetch_method(const core::Job& job, std::size_t index) {
  if (job.target == "local") return "haul";
  if (job.items.empty() || job.items[index].extras->resource.empty()) return "curl";
  switch (remote::progress::detect_tool(job.items[index].source).tool) {
    case remote::progress::Tool::kWget:
      return "wget";
    case remote::progress::Tool::kCurl:
      return "curl";
    case remote::progress::Tool::kAria2c:
      return "aria2c";
    case remote::progress::Tool::kTqdm:
      return "hf";
    case remote::progress::Tool::kCivitdl:
      return "civitdl";
    case remote::progress::Tool::kGeneric:
      break;
  }
  return "shell";
}

// The seed documents' status words for the channel.
std::string_view channel_status(core::JobState state) {
  switch (state) {
    case core::JobState::kRunning:
      return "downloading";
    default:
      return core::state_name(state);
  }
}

}  // namespace

std::string iso_time(core::TimePoint at) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[96];  // room for any int the compiler cannot rule out
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

namespace {

void write_optional_time(JsonWriter& w, const std::optional<core::TimePoint>& at) {
  if (at) {
    w.value(iso_time(*at));
  } else {
    w.null();
  }
}

void write_error(JsonWriter& w, const Boxed<core::JobError>& error) {
  if (!error) {
    w.null();
    return;
  }
  w.begin_object().key("code").value(error->code).key("message").value(error->message);
  // Where it happened (issue 16): the file, the stage and the attempt.
  w.key("file");
  if (error->file.empty()) {
    w.null();
  } else {
    w.value(error->file);
  }
  w.key("stage");
  if (error->stage.empty()) {
    w.null();
  } else {
    w.value(error->stage);
  }
  w.key("attempt");
  if (error->attempt > 0) {
    w.value(error->attempt);
  } else {
    w.null();
  }
  w.end_object();
}

template <class T>
void write_optional(JsonWriter& w, const std::optional<T>& value) {
  if (value) {
    w.value(*value);
  } else {
    w.null();
  }
}

void write_item(JsonWriter& w, const core::Item& item, std::size_t index, bool with_output) {
  w.begin_object();
  w.key("index").value(static_cast<std::uint64_t>(index));
  w.key("source").value(net::redact_secrets(item.source));
  w.key("name").value(item_name(item));
  w.key("path");
  if (item.path.empty()) {
    w.null();
  } else {
    w.value(item.path);
  }
  w.key("size");
  write_optional(w, item.size);
  w.key("bytes_done").value(item.bytes_done);
  w.key("progress").value(rounded(item_percent(item), 2));
  w.key("speed").value(static_cast<std::int64_t>(std::llround(item.speed)));
  w.key("sha256");
  if (item.sha256.empty()) {
    w.null();
  } else {
    w.value(item.sha256);
  }
  w.key("stage").value(item.stage);
  w.key("state").value(core::item_state_name(item.state));
  if (!item.extras->links.empty()) {
    w.key("links").begin_array();
    for (const std::string& link : item.extras->links) w.value(link);
    w.end_array();
  }
  if (with_output) w.key("output_tail").value(item.extras->output_tail);
  w.key("error");
  write_error(w, item.error);
  w.end_object();
}

}  // namespace

// Written straight into a string: GET /api/v1/jobs/{id} and the job lists
// spend most of their time here, and a document tree would cost more than
// the HTTP exchange around it.
std::string job_json_text(const core::Job& job, bool with_output) {
  std::string out;
  out.reserve(640 + 360 * job.items.size());
  JsonWriter w(out);
  w.begin_object();
  w.key("id").value(job.id);
  w.key("source").value(net::redact_secrets(job.source));
  w.key("target").value(job.target);
  w.key("node").value(*job.node);
  w.key("dest").value(job.destination);
  w.key("group").value(job.group);
  w.key("name").value(job.name);
  w.key("priority").value(job.priority);
  w.key("state").value(core::state_name(job.state));
  w.key("attempts").value(job.attempts);
  w.key("max_attempts").value(job.max_attempts);
  w.key("next_attempt_at");
  write_optional_time(w, job.next_attempt_at);
  w.key("error");
  write_error(w, job.error);
  w.key("created_at").value(iso_time(job.created_at));
  w.key("started_at");
  write_optional_time(w, job.started_at);
  w.key("finished_at");
  write_optional_time(w, job.finished_at);
  w.key("bytes_done").value(job.bytes_done());
  w.key("bytes_total");
  write_optional(w, job.bytes_total());
  w.key("progress").value(rounded(job.percent(), 2));
  w.key("speed").value(static_cast<std::int64_t>(std::llround(job.speed)));
  w.key("eta");
  write_optional(w, job.eta_seconds);
  w.key("pending_action");
  if (job.pending_action) {
    w.value(core::action_name(*job.pending_action));
  } else {
    w.null();
  }
  w.key("labels").begin_object();
  for (const auto& [label, text] : *job.labels) w.key(label).value(text);
  w.end_object();
  w.key("items").begin_array();
  for (std::size_t i = 0; i < job.items.size(); ++i) write_item(w, job.items[i], i, with_output);
  w.end_array();
  w.end_object();
  return out;
}

json job_json(const core::Job& job) { return json::parse(job_json_text(job)); }

json download_status(const core::Job& job) {
  const std::size_t index = current_item(job);
  const auto repo = hf_repo_of(job.source);
  json data = {
      {"jobId", job.id},
      {"source", net::redact_secrets(job.source)},
      {"repo", repo ? json(*repo) : json(nullptr)},
      {"method", fetch_method(job, index)},
      {"name", job.name},
      {"fileIndex", index},
      {"totalFiles", job.items.size()},
      {"fileName", job.items.empty() ? json("") : json(item_name(job.items[index]))},
      {"fileProgress", job.items.empty() ? 0.0 : rounded(item_percent(job.items[index]), 2)},
      {"overallProgress", rounded(job.percent(), 2)},
      {"bytesDownloaded", job.bytes_done()},
      {"totalBytes", job.bytes_total() ? json(*job.bytes_total()) : json(nullptr)},
      {"speed", std::llround(job.speed)},
      {"eta", job.eta_seconds ? json(*job.eta_seconds) : json(nullptr)},
      {"status", channel_status(job.state)},
      {"error", job.error ? json(job.error->message) : json(nullptr)},
      // Where the error happened (issue 16): its file and stage.
      {"errorFile", job.error && !job.error->file.empty() ? json(job.error->file) : json(nullptr)},
      {"errorStage",
       job.error && !job.error->stage.empty() ? json(job.error->stage) : json(nullptr)},
      {"attempt", job.attempts},
      {"maxAttempts", job.max_attempts},
      {"nextAttemptAt", job.next_attempt_at ? json(iso_time(*job.next_attempt_at)) : json(nullptr)},
  };
  json files = json::array();
  for (const core::Item& item : job.items) {
    files.push_back(
        {{"fileName", item_name(item)},
         {"path", item.path},
         {"size", item.size ? json(*item.size) : json(nullptr)},
         {"bytesDownloaded", item.bytes_done},
         {"progress", rounded(item_percent(item), 2)},
         {"status", item.state == core::ItemState::kRunning ? std::string_view("downloading")
                                                            : core::item_state_name(item.state)}});
  }
  data["files"] = std::move(files);
  return data;
}

json download_message(const core::Event& event) {
  std::string_view type;
  switch (event.type) {
    case core::EventType::kCompleted:
      type = "complete";
      break;
    case core::EventType::kFailed:
      type = "failed";
      break;
    case core::EventType::kCancelled:
      type = "cancelled";
      break;
    case core::EventType::kRemoved:
      return json::object();
    default:
      type = "progress";
      break;  // added, state changes and byte counts
  }
  return {{"channel", "download"}, {"type", type}, {"data", download_status(event.job)}};
}

namespace {

Result<std::string> string_field(const json& object, const char* name) {
  const json& value = object.at(name);
  if (!value.is_string())
    return fail(ErrorCode::kInvalidArgument, std::string("'") + name + "' must be a string");
  return value.get<std::string>();
}

Result<int> int_field(const json& object, const char* name) {
  const json& value = object.at(name);
  if (!value.is_number_integer()) {
    return fail(ErrorCode::kInvalidArgument, std::string("'") + name + "' must be an integer");
  }
  return value.get<int>();
}

// The S3 model config of the source documents: {directoryGroup, modelName,
// originalS3Path, localPath, modelSize}.
Result<core::JobRequest> parse_model_config(const json& object) {
  core::JobRequest request;
  for (const auto& [key, value] : object.items()) {
    if (key == "modelSize") {
      if (!value.is_number_unsigned() && !value.is_null())
        return fail(ErrorCode::kInvalidArgument, "'modelSize' must be a byte count");
      continue;  // the object's own size is what the download checks
    }
    if (key != "directoryGroup" && key != "modelName" && key != "originalS3Path" &&
        key != "localPath")
      return fail(ErrorCode::kInvalidArgument, "unknown field '" + key + "' in a model config");
    if (!value.is_string())
      return fail(ErrorCode::kInvalidArgument, "'" + key + "' must be a string");
  }
  if (!object.contains("originalS3Path"))
    return fail(ErrorCode::kInvalidArgument, "a model config needs 'originalS3Path'");
  request.sources.push_back(object.at("originalS3Path").get<std::string>());
  request.group = object.value("directoryGroup", "");
  request.name = object.value("modelName", "");
  const std::string local_path = object.value("localPath", "");
  if (!local_path.empty()) {
    const std::filesystem::path path(local_path);
    if (!path.has_filename())
      return fail(ErrorCode::kInvalidArgument, "'localPath' must name a file");
    request.dest = path.parent_path().string();
    request.source_options["output_name"] = path.filename().string();
  } else if (!request.name.empty()) {
    request.dest = request.group;
    request.source_options["output_name"] = request.name;
  }
  return request;
}

// One of a request's "files": {source, path, size?, sha256?, links?}: a
// model's file, fetched to its own path.
Result<core::FileSpec> parse_file_spec(const json& object, std::string& source) {
  if (!object.is_object())
    return fail(ErrorCode::kInvalidArgument, "each of 'files' must be an object");
  core::FileSpec file;
  for (const auto& [key, value] : object.items()) {
    if (key == "source" || key == "path" || key == "sha256") {
      if (!value.is_string() || value.get<std::string>().empty())
        return fail(ErrorCode::kInvalidArgument, "'" + key + "' must be a non-empty string");
      if (key == "source") source = value.get<std::string>();
      if (key == "path") file.path = value.get<std::string>();
      if (key == "sha256") file.sha256 = value.get<std::string>();
    } else if (key == "size") {
      if (!value.is_number_unsigned())
        return fail(ErrorCode::kInvalidArgument, "'size' must be a byte count");
      file.size = value.get<std::uint64_t>();
    } else if (key == "links") {
      if (!value.is_array())
        return fail(ErrorCode::kInvalidArgument, "'links' must be an array of paths");
      for (const json& link : value) {
        if (!link.is_string() || link.get<std::string>().empty())
          return fail(ErrorCode::kInvalidArgument, "'links' must hold paths");
        file.links.push_back(link.get<std::string>());
      }
    } else {
      return fail(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
    }
  }
  if (source.empty()) return fail(ErrorCode::kInvalidArgument, "'source' is required");
  if (file.path.empty()) return fail(ErrorCode::kInvalidArgument, "'path' is required");
  return file;
}

Result<core::JobRequest> parse_one(const json& object) {
  if (!object.is_object())
    return fail(ErrorCode::kInvalidArgument, "each job must be a JSON object");
  if (object.contains("originalS3Path")) return parse_model_config(object);
  core::JobRequest request;
  for (const auto& [key, value] : object.items()) {
    if (key == "source") {
      auto source = string_field(object, "source");
      if (!source) return fail(source.error());
      request.sources.push_back(*source);
    } else if (key == "sources") {
      if (!value.is_array() || value.empty()) {
        return fail(ErrorCode::kInvalidArgument, "'sources' must be a non-empty array of strings");
      }
      for (const json& source : value) {
        if (!source.is_string())
          return fail(ErrorCode::kInvalidArgument, "'sources' must hold strings");
        request.sources.push_back(source.get<std::string>());
      }
    } else if (key == "files") {
      if (!value.is_array() || value.empty())
        return fail(ErrorCode::kInvalidArgument, "'files' must be a non-empty array of objects");
      for (std::size_t k = 0; k < value.size(); ++k) {
        std::string source;
        auto file = parse_file_spec(value[k], source);
        if (!file) {
          return fail(ErrorCode::kInvalidArgument,
                      "files[" + std::to_string(k) + "]: " + file.error().message);
        }
        request.sources.push_back(std::move(source));
        request.files.push_back(std::move(*file));
      }
    } else if (key == "target" || key == "dest" || key == "sha256" || key == "group" ||
               key == "name" || key == "node") {
      auto text = string_field(object, key.c_str());
      if (!text) return fail(text.error());
      if (key == "target") request.target = *text;
      if (key == "dest") request.dest = *text;
      if (key == "sha256") request.sha256 = *text;
      if (key == "group") request.group = *text;
      if (key == "name") request.name = *text;
      if (key == "node") request.node = *text;
    } else if (key == "priority" || key == "max_attempts") {
      auto number = int_field(object, key.c_str());
      if (!number) return fail(number.error());
      if (key == "priority") request.priority = *number;
      if (key == "max_attempts") request.max_attempts = *number;
    } else if (key == "include" || key == "exclude") {
      if (!value.is_array())
        return fail(ErrorCode::kInvalidArgument, "'" + key + "' must be an array of patterns");
      std::string joined;
      for (const json& pattern : value) {
        if (!pattern.is_string() || pattern.get<std::string>().find('\n') != std::string::npos)
          return fail(ErrorCode::kInvalidArgument, "'" + key + "' must hold one-line strings");
        joined += (joined.empty() ? "" : "\n") + pattern.get<std::string>();
      }
      request.source_options[key] = joined;
    } else if (key == "file") {
      auto text = string_field(object, "file");
      if (!text) return fail(text.error());
      request.source_options["file"] = *text;
    } else if (key == "with_preview" || key == "hf_cache") {
      if (!value.is_boolean())
        return fail(ErrorCode::kInvalidArgument, "'" + key + "' must be true or false");
      if (value.get<bool>()) request.source_options[key] = "1";
    } else if (key == "labels") {
      if (!value.is_object())
        return fail(ErrorCode::kInvalidArgument, "'labels' must be an object of strings");
      for (const auto& [label, text] : value.items()) {
        if (!text.is_string())
          return fail(ErrorCode::kInvalidArgument, "label '" + label + "' must be a string");
        request.labels[label] = text.get<std::string>();
      }
    } else {
      return fail(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
    }
  }
  if (object.contains("source") && object.contains("sources")) {
    return fail(ErrorCode::kInvalidArgument, "give 'source' or 'sources', not both");
  }
  if (object.contains("files") && (object.contains("source") || object.contains("sources")))
    return fail(ErrorCode::kInvalidArgument, "give 'files' or 'source(s)', not both");
  if (request.sources.empty())
    return fail(ErrorCode::kInvalidArgument, "'source' (or 'sources') is required");
  return request;
}

}  // namespace

Result<ParsedJobs> parse_job_requests(const json& body) {
  ParsedJobs parsed;
  const json* list = nullptr;
  if (body.is_array()) {
    list = &body;
  } else if (body.is_object() && body.contains("jobs") && body.size() == 1) {
    list = &body.at("jobs");
    if (!list->is_array()) return fail(ErrorCode::kInvalidArgument, "'jobs' must be an array");
  }
  if (list != nullptr) {
    parsed.batch = true;
    if (list->empty()) return fail(ErrorCode::kInvalidArgument, "no jobs given");
    std::size_t index = 0;
    for (const json& object : *list) {
      auto request = parse_one(object);
      if (!request) {
        return fail(ErrorCode::kInvalidArgument,
                    "job " + std::to_string(index) + ": " + request.error().message);
      }
      parsed.requests.push_back(std::move(*request));
      ++index;
    }
    return parsed;
  }
  auto request = parse_one(body);
  if (!request) return fail(request.error());
  parsed.requests.push_back(std::move(*request));
  return parsed;
}

}  // namespace haul::api
