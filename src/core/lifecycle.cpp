#include "core/lifecycle.hpp"

#include <array>
#include <string>

namespace haul::core {

namespace {

constexpr std::size_t kJobStates = 7;
constexpr std::size_t kJobEvents = 14;
constexpr std::size_t kItemStates = 6;
constexpr std::size_t kItemEvents = 5;

using S = JobState;

// One cell of the job table: refused, or the next state (and whether the
// running attempt must stop first).
struct Cell {
  bool allowed = false;
  JobState next = S::kQueued;
  bool stop_run = false;
};

constexpr Cell no() { return {}; }
constexpr Cell to(JobState next) { return {true, next, false}; }
constexpr Cell stop() { return {true, S::kRunning, true}; }

// Rows: events, in JobEvent order. Columns: states, in JobState order:
//        queued         running               retrying       paused         completed      failed
//        cancelled
constexpr std::array<std::array<Cell, kJobStates>, kJobEvents> kJobTable = {{
    /* start          */ {to(S::kRunning), no(), to(S::kRunning), no(), no(), no(), no()},
    /* progress       */ {no(), to(S::kRunning), no(), no(), no(), no(), no()},
    /* succeeded      */ {no(), to(S::kCompleted), no(), no(), no(), no(), no()},
    /* failed retry   */ {no(), to(S::kRetrying), no(), no(), no(), no(), no()},
    /* failed final   */ {no(), to(S::kFailed), no(), no(), no(), no(), no()},
    /* pause          */ {to(S::kPaused), stop(), to(S::kPaused), no(), no(), no(), no()},
    /* resume         */ {no(), no(), no(), to(S::kQueued), no(), no(), no()},
    /* cancel         */
    {to(S::kCancelled), stop(), to(S::kCancelled), to(S::kCancelled), no(), no(), no()},
    /* retry          */ {no(), no(), to(S::kQueued), no(), no(), to(S::kQueued), to(S::kQueued)},
    /* run paused     */ {no(), to(S::kPaused), no(), no(), no(), no(), no()},
    /* run cancelled  */ {no(), to(S::kCancelled), no(), no(), no(), no(), no()},
    /* shutdown       */
    {to(S::kQueued), to(S::kQueued), to(S::kRetrying), to(S::kPaused), to(S::kCompleted),
     to(S::kFailed), to(S::kCancelled)},
    /* restart        */
    {to(S::kQueued), to(S::kQueued), to(S::kRetrying), to(S::kPaused), to(S::kCompleted),
     to(S::kFailed), to(S::kCancelled)},
    /* lease lost     */
    {to(S::kQueued), to(S::kQueued), to(S::kRetrying), to(S::kPaused), to(S::kCompleted),
     to(S::kFailed), to(S::kCancelled)},
}};

using I = ItemState;

struct ItemCell {
  bool allowed = false;
  ItemState next = I::kQueued;
};

constexpr ItemCell refuse() { return {}; }
constexpr ItemCell item(ItemState next) { return {true, next}; }

// Rows: events, in ItemEvent order. Columns: states, in ItemState order:
//        queued            running              completed             failed             paused
//        cancelled
constexpr std::array<std::array<ItemCell, kItemStates>, kItemEvents> kItemTable = {{
    /* start     */ {item(I::kRunning), refuse(), refuse(), item(I::kRunning), item(I::kRunning),
                     item(I::kRunning)},
    /* succeeded */
    {item(I::kCompleted), item(I::kCompleted), refuse(), refuse(), refuse(), refuse()},
    /* failed    */ {item(I::kFailed), item(I::kFailed), refuse(), refuse(), refuse(), refuse()},
    /* stopped   */
    {item(I::kQueued), item(I::kQueued), refuse(), item(I::kFailed), item(I::kPaused),
     item(I::kCancelled)},
    /* restart   */
    {item(I::kQueued), item(I::kQueued), item(I::kCompleted), item(I::kFailed), item(I::kPaused),
     item(I::kCancelled)},
}};

constexpr std::array<std::string_view, kJobStates> kStateNames = {
    "queued", "running", "retrying", "paused", "completed", "failed", "cancelled"};
constexpr std::array<std::string_view, kItemStates> kItemStateNames = {
    "queued", "running", "completed", "failed", "paused", "cancelled"};
constexpr std::array<std::string_view, kJobEvents> kEventNames = {
    "start",  "progress", "succeed", "fail",   "fail",      "pause",   "resume",
    "cancel", "retry",    "pause",   "cancel", "shut down", "restart", "take over"};
constexpr std::array<std::string_view, kItemEvents> kItemEventNames = {"start", "complete", "fail",
                                                                       "stop", "restart"};

template <class E>
constexpr std::size_t at(E value) {
  return static_cast<std::size_t>(value);
}

template <std::size_t N, class E>
std::optional<E> parse(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

Result<Transition> next_state(JobState state, JobEvent event) {
  const Cell& cell = kJobTable[at(event)][at(state)];
  if (!cell.allowed) {
    return fail(ErrorCode::kConflict, "cannot " + std::string(kEventNames[at(event)]) + " a " +
                                          std::string(state_name(state)) + " job");
  }
  return Transition{cell.next, cell.stop_run};
}

Result<ItemState> next_item_state(ItemState state, ItemEvent event) {
  const ItemCell& cell = kItemTable[at(event)][at(state)];
  if (!cell.allowed) {
    return fail(ErrorCode::kConflict, "cannot " + std::string(kItemEventNames[at(event)]) + " a " +
                                          std::string(item_state_name(state)) + " item");
  }
  return cell.next;
}

ItemState item_state_in(ItemState item, JobState job) {
  if (item == ItemState::kCompleted) return item;
  switch (job) {
    case JobState::kPaused:
      return ItemState::kPaused;
    case JobState::kCancelled:
      return ItemState::kCancelled;
    case JobState::kFailed:
      return ItemState::kFailed;
    case JobState::kQueued:
      return ItemState::kQueued;
    case JobState::kRunning:
    case JobState::kRetrying:
    case JobState::kCompleted:
      return item;
  }
  return item;
}

bool is_retryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kProtocol:
    case ErrorCode::kDataLoss:  // once: failure_event makes the second mismatch final
    case ErrorCode::kIo:
    case ErrorCode::kConflict:
    case ErrorCode::kCommandFailed:
    case ErrorCode::kCancelled:
      return true;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kNoSpace:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kInternal:
      return false;
  }
  return false;
}

JobEvent failure_event(ErrorCode code, int attempts, int max_attempts, int mismatches) {
  if (!is_retryable(code)) return JobEvent::kFailedFinal;
  if (code == ErrorCode::kDataLoss && mismatches >= 2) return JobEvent::kFailedFinal;
  if (attempts >= max_attempts) return JobEvent::kFailedFinal;
  return JobEvent::kFailedRetryable;
}

JobEvent event_of(Action action) {
  switch (action) {
    case Action::kPause:
      return JobEvent::kPause;
    case Action::kResume:
      return JobEvent::kResume;
    case Action::kRetry:
      return JobEvent::kRetry;
    case Action::kCancel:
      return JobEvent::kCancel;
  }
  return JobEvent::kPause;
}

std::string_view state_name(JobState state) { return kStateNames[at(state)]; }

std::optional<JobState> parse_state(std::string_view name) {
  return parse<kJobStates, JobState>(kStateNames, name);
}

std::string_view item_state_name(ItemState state) { return kItemStateNames[at(state)]; }

std::optional<ItemState> parse_item_state(std::string_view name) {
  return parse<kItemStates, ItemState>(kItemStateNames, name);
}

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kPause:
      return "pause";
    case Action::kResume:
      return "resume";
    case Action::kRetry:
      return "retry";
    case Action::kCancel:
      return "cancel";
  }
  return "unknown";
}

std::string_view job_event_name(JobEvent event) { return kEventNames[at(event)]; }

bool is_finished(JobState state) {
  return state == JobState::kCompleted || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

}  // namespace haul::core
