// The JSON shapes of the public contract (DESIGN.md): REST jobs, the
// WebSocket/SSE "download" channel, and the seed documents' routes. Pure
// functions: job values in, JSON out (and request JSON in, JobRequests out).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/event.hpp"
#include "core/job_request.hpp"

namespace haul::api {

// "2026-11-22T06:12:47.123Z"
std::string iso_time(core::TimePoint at);

// GET /api/v1/jobs/{id}: every field of the job; URLs with secrets masked.
// `with_output` (?output=1) adds each item's output_tail (what its command
// printed last).
std::string job_json_text(const core::Job& job, bool with_output = false);
// The same as a document, for answers that add to it.
nlohmann::json job_json(const core::Job& job);

// The "download" channel message: {"channel":"download","type":...,"data":{...}}.
// type is progress|complete|failed|cancelled; nullopt-like empty object for
// events the channel does not carry (removals).
nlohmann::json download_message(const core::Event& event);
// Its "data" part alone, also the body of the seed route
// GET /api/models/download/status/{jobId}.
nlohmann::json download_status(const core::Job& job);

// Parses POST /api/v1/jobs bodies: one object, an array of them, or
// {"jobs": [...]}. Errors: kInvalidArgument naming the field at fault.
struct ParsedJobs {
  std::vector<core::JobRequest> requests;
  bool batch = false;  // the body was a list: answer with a list
};
Result<ParsedJobs> parse_job_requests(const nlohmann::json& body);

}  // namespace haul::api
