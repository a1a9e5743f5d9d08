#include "support/served_resource.hpp"

#include <array>

namespace haul::testing::detail {
namespace {

std::string resolve_etag(const std::string& setting, const std::string& body) {
  return setting == "auto" ? strong_etag(body) : setting;
}

void add_if_set(HeaderList& headers, const char* name, const std::string& value) {
  if (!value.empty()) {
    headers.emplace_back(name, value);
  }
}

}  // namespace

bool FaultBudget::take() {
  if (limit_ >= 0 && used_ >= limit_) {
    return false;
  }
  ++used_;
  return true;
}

ServedResource::ServedResource(Resource resource)
    : spec_(std::move(resource)),
      body_(std::make_shared<const std::string>(std::move(spec_.body))),
      etag_(resolve_etag(spec_.etag, *body_)),
      fails_(spec_.fail_status != 0 ? spec_.fail_times : 0),
      resets_(spec_.reset_times),
      truncations_(spec_.truncate_times),
      stalls_(spec_.stall_times) {
  spec_.body.clear();
  change_content_if_due();
}

ResponsePlan ServedResource::respond(const ParsedRequest& request) {
  const bool is_get = request.method == "GET";
  if (!is_get && request.method != "HEAD") {
    auto plan = ResponsePlan::with_body(405, "Method Not Allowed\n");
    plan.headers.emplace_back("Allow", "GET, HEAD");
    return plan;
  }
  ResponsePlan plan;
  if (fails_.take()) {
    plan = fail_response();
  } else {
    plan = file_response(request);
    if (is_get) {
      choose_body_fault(plan);
    }
  }
  if (is_get) {
    ++gets_answered_;
    change_content_if_due();
  }
  return plan;
}

ResponsePlan ServedResource::fail_response() const {
  auto plan = ResponsePlan::with_body(spec_.fail_status, spec_.fail_body, spec_.fail_content_type);
  add_if_set(plan.headers, "Retry-After", spec_.retry_after);
  return plan;
}

ResponsePlan ServedResource::file_response(const ParsedRequest& request) const {
  const auto total = body_->size();
  ResponsePlan plan;
  plan.body = body_;
  plan.length = total;
  plan.chunked = spec_.chunked;
  plan.rate = spec_.rate;
  add_entity_headers(plan);
  const auto range = range_answer(request);
  if (range.kind == RangeKind::kSatisfiable) {
    plan.status = 206;
    plan.offset = range.span.first;
    plan.length = range.span.size();
    plan.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.span.first) + "-" +
                                                   std::to_string(range.span.last) + "/" +
                                                   std::to_string(total));
  } else if (range.kind == RangeKind::kUnsatisfiable) {
    plan.status = 416;
    plan.length = 0;
    plan.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
  }
  return plan;
}

RangeAnswer ServedResource::range_answer(const ParsedRequest& request) const {
  const auto range = request.header("range");
  if (!spec_.ranges || spec_.chunked || range.empty()) {
    return {};
  }
  const auto if_range = request.header("if-range");
  if (spec_.honour_if_range && !if_range.empty() &&
      !if_range_matches(if_range, etag_, spec_.last_modified)) {
    return {};
  }
  return parse_range(range, body_->size());
}

void ServedResource::add_entity_headers(ResponsePlan& plan) const {
  add_if_set(plan.headers, "ETag", etag_);
  add_if_set(plan.headers, "Last-Modified", spec_.last_modified);
  if (spec_.ranges && !spec_.chunked) {
    plan.headers.emplace_back("Accept-Ranges", "bytes");
  }
  add_if_set(plan.headers, "Content-Type", spec_.content_type);
  add_if_set(plan.headers, "Content-Disposition", spec_.content_disposition);
}

void ServedResource::choose_body_fault(ResponsePlan& plan) {
  struct Candidate {
    FaultBudget& budget;
    BodyFault fault;
    std::size_t after;
  };
  const std::array<Candidate, 3> candidates{{
      {resets_, BodyFault::kReset, spec_.reset_after},
      {truncations_, BodyFault::kTruncate, spec_.truncate_after},
      {stalls_, BodyFault::kStall, spec_.stall_after},
  }};
  for (const auto& candidate : candidates) {
    if (plan.length > candidate.after && candidate.budget.take()) {
      plan.fault = candidate.fault;
      plan.fault_after = candidate.after;
      return;
    }
  }
}

void ServedResource::change_content_if_due() {
  if (changed_ || spec_.change_after_requests < 0 || gets_answered_ < spec_.change_after_requests) {
    return;
  }
  changed_ = true;
  body_ = std::make_shared<const std::string>(std::move(spec_.next_body));
  etag_ = resolve_etag(spec_.etag, *body_);
  if (!spec_.next_last_modified.empty()) {
    spec_.last_modified = spec_.next_last_modified;
  }
}

}  // namespace haul::testing::detail
