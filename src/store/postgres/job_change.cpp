#include "store/postgres/job_change.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "store/postgres/connection.hpp"

namespace haul::store::postgres {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kWrite = "notify other nodes through";

// PostgreSQL refuses a payload of 8000 bytes or more (and the whole batch
// with it); a header and one id must stay below this to be sent as they are.
constexpr std::size_t kMaxPayload = 7900;

// Payloads per statement: far below the 65,535 parameters PostgreSQL allows,
// and a batch of 100,000 jobs still takes a handful of round trips.
constexpr std::size_t kPayloadsPerStatement = 1000;

std::string json_string(std::string_view text) {
  // Replace, not throw: a text that is not UTF-8 fails the batch's own
  // statements anyway; the payload must not fail first with a stranger error.
  return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string header(JobChange::Kind kind, JobChange::Op op, std::string_view node) {
  return R"({"kind":")" + std::string(change_kind_name(kind)) + R"(","op":")" +
         std::string(change_op_name(op)) + R"(","node":)" + json_string(node);
}

std::string resync_payload(std::string_view node) {
  std::string payload = header(JobChange::Kind::kJob, JobChange::Op::kResync, node) + "}";
  if (payload.size() < kMaxPayload) return payload;
  return header(JobChange::Kind::kJob, JobChange::Op::kResync, "") + "}";
}

template <class Enum, std::size_t N>
bool parse_name(const std::string_view (&names)[N], std::string_view name, Enum& out) {
  const auto* found = std::find(std::begin(names), std::end(names), name);
  if (found == std::end(names)) return false;
  out = static_cast<Enum>(found - std::begin(names));
  return true;
}

constexpr std::string_view kKindNames[] = {"job", "instance", "manifest"};
constexpr std::string_view kOpNames[] = {"upsert", "delete", "resync"};

// Each id once, where it first appears: a batch may upsert a job twice.
template <class T>
std::vector<std::string_view> unique_ids(const std::vector<T>& entries) {
  std::unordered_set<std::string_view> seen;
  std::vector<std::string_view> ids;
  for (const T& entry : entries) {
    std::string_view id;
    if constexpr (std::is_same_v<T, std::string>) {
      id = entry;
    } else {
      id = entry.id;
    }
    if (seen.insert(id).second) ids.push_back(id);
  }
  return ids;
}

}  // namespace

std::string_view change_kind_name(JobChange::Kind kind) {
  return kKindNames[static_cast<std::size_t>(kind)];
}

std::string_view change_op_name(JobChange::Op op) { return kOpNames[static_cast<std::size_t>(op)]; }

std::vector<std::string> change_payloads(JobChange::Kind kind, JobChange::Op op,
                                         std::string_view node,
                                         const std::vector<std::string_view>& ids) {
  std::vector<std::string> payloads;
  const std::string head = header(kind, op, node) + R"(,"ids":[)";
  std::string current;  // the ids of the payload being filled, comma-separated
  bool resync_sent = false;
  auto flush = [&] {
    if (current.empty()) return;
    payloads.push_back(head + current + "]}");
    current.clear();
  };
  for (const std::string_view id : ids) {
    const std::string quoted = json_string(id);
    if (head.size() + quoted.size() + 2 >= kMaxPayload) {
      // Cannot be named: readers reload everything instead (once per batch).
      if (!resync_sent) {
        flush();
        payloads.push_back(resync_payload(node));
        resync_sent = true;
      }
      continue;
    }
    if (!current.empty() && current.size() + 1 + quoted.size() > kPayloadIdBudget) flush();
    if (!current.empty()) current += ',';
    current += quoted;
  }
  flush();
  return payloads;
}

Result<std::vector<JobChange>> parse_change_payload(std::string_view payload) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kProtocol, "unreadable change notification (" + std::string(why) +
                                          "): " + std::string(payload.substr(0, 200)));
  };
  const Json json = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return bad("not a JSON object");
  JobChange change;
  const auto kind = json.find("kind");
  const auto op = json.find("op");
  if (kind == json.end() || !kind->is_string() ||
      !parse_name(kKindNames, kind->get_ref<const std::string&>(), change.kind))
    return bad("unknown kind");
  if (op == json.end() || !op->is_string() ||
      !parse_name(kOpNames, op->get_ref<const std::string&>(), change.op))
    return bad("unknown op");
  if (const auto node = json.find("node"); node != json.end() && node->is_string())
    change.node = node->get<std::string>();
  std::vector<JobChange> changes;
  if (change.op == JobChange::Op::kResync) {
    change.kind = JobChange::Kind::kJob;
    changes.push_back(std::move(change));
    return changes;
  }
  const auto ids = json.find("ids");
  if (ids == json.end() || !ids->is_array()) return bad("no ids");
  changes.reserve(ids->size());
  for (const Json& id : *ids) {
    if (!id.is_string()) return bad("an id that is not a string");
    changes.push_back(change);
    changes.back().id = id.get<std::string>();
  }
  return changes;
}

Result<void> notify_changes(Connection& db, const WriteBatch& batch, std::string_view node) {
  using Kind = JobChange::Kind;
  using Op = JobChange::Op;
  std::vector<std::string> payloads;
  auto add = [&](Kind kind, Op op, const std::vector<std::string_view>& ids) {
    for (std::string& payload : change_payloads(kind, op, node, ids))
      payloads.push_back(std::move(payload));
  };
  // A job whose requested action changed is announced as upserted: the
  // node running it reloads it and finds the request. (One for a job not
  // stored finds nothing, as for a job deleted since.)
  std::vector<std::string_view> upserted = unique_ids(batch.upserts);
  if (!batch.action_requests.empty()) {
    std::unordered_set<std::string_view> seen(upserted.begin(), upserted.end());
    for (const ActionRequest& request : batch.action_requests) {
      if (seen.insert(request.job_id).second) upserted.push_back(request.job_id);
    }
  }
  add(Kind::kJob, Op::kUpsert, upserted);
  add(Kind::kJob, Op::kDelete, unique_ids(batch.deletes));
  add(Kind::kInstance, Op::kUpsert, unique_ids(batch.instance_upserts));
  add(Kind::kInstance, Op::kDelete, unique_ids(batch.instance_deletes));
  add(Kind::kManifest, Op::kUpsert, unique_ids(batch.manifest_upserts));
  add(Kind::kManifest, Op::kDelete, unique_ids(batch.manifest_deletes));

  const std::string channel = "'" + std::string(kChangeChannel) + "'";
  for (std::size_t first = 0; first < payloads.size(); first += kPayloadsPerStatement) {
    const std::size_t count = std::min(kPayloadsPerStatement, payloads.size() - first);
    Params params;
    std::string array;
    for (std::size_t i = 0; i < count; ++i) {
      params.add(payloads[first + i]);
      array += i == 0 ? "$" : ", $";
      array += std::to_string(i + 1);
    }
    // WITH ORDINALITY ... ORDER BY: the notifications queue in the order
    // sent, and listeners see a batch's changes in the order it holds them.
    const std::string sql = "SELECT count(pg_notify(" + channel +
                            ", p)) FROM (SELECT p FROM unnest(ARRAY[" + array +
                            "]::text[]) WITH ORDINALITY AS u (p, n) ORDER BY n) AS ordered";
    if (auto sent = db.exec(sql, params, kWrite); !sent) return fail(sent.error());
  }
  return {};
}

}  // namespace haul::store::postgres
