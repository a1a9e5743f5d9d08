// A Resource being served: its current content version and fault counters,
// turning each request into a ResponsePlan (ranges, If-Range, validators,
// faults, content change). Internal to tests/support.
#pragma once

#include <memory>
#include <string>

#include "support/http_wire.hpp"
#include "support/response_writer.hpp"
#include "support/test_http_server.hpp"

namespace haul::testing::detail {

// How many more times a fault applies: limit -1 = always, 0 = never.
class FaultBudget {
 public:
  explicit FaultBudget(int limit) : limit_(limit) {}
  // Uses up one application; false when none is left.
  bool take();

 private:
  int limit_;
  int used_ = 0;
};

// Not thread-safe: the server calls it with its mutex held.
class ServedResource {
 public:
  explicit ServedResource(Resource resource);

  // The response to `request` (GET, HEAD; other methods get 405). Uses up
  // fault budgets and, for GET, counts towards the content change.
  ResponsePlan respond(const ParsedRequest& request);

 private:
  ResponsePlan fail_response() const;
  ResponsePlan file_response(const ParsedRequest& request) const;
  RangeAnswer range_answer(const ParsedRequest& request) const;
  void add_entity_headers(ResponsePlan& plan) const;
  void choose_body_fault(ResponsePlan& plan);
  // Switches to next_body once change_after_requests GETs were answered.
  void change_content_if_due();

  Resource spec_;  // body moved out into body_
  std::shared_ptr<const std::string> body_;
  std::string etag_;  // resolved ETag of the current version; "" = none
  FaultBudget fails_;
  FaultBudget resets_;
  FaultBudget truncations_;
  FaultBudget stalls_;
  int gets_answered_ = 0;
  bool changed_ = false;
};

}  // namespace haul::testing::detail
