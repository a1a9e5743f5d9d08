// The one place that decides how jobs and their items change state: pure
// functions over tables, (state, event) -> next state or a refusal. The
// scheduler feeds them what happened (a start, a failed attempt, a user's
// pause, a restart) and does what they say. docs/design/job-lifecycle.md
// draws the diagram and maps the states onto the seed documents' words.
#pragma once

#include <optional>
#include <string_view>

#include "base/error.hpp"

namespace haul::core {

enum class JobState {
  kQueued,     // waiting for a free slot
  kRunning,    // an attempt is under way
  kRetrying,   // the last attempt failed; the next starts at next_attempt_at
  kPaused,     // stopped by the user; partial files are kept
  kCompleted,  // every item is at its final path, verified
  kFailed,     // attempts exhausted or a permanent error
  kCancelled,  // stopped by the user; partial files deleted
};

// One file (or one command) of a job.
enum class ItemState {
  kQueued,     // not started in this attempt (or interrupted, resumable)
  kRunning,    // its transfer or command is under way
  kCompleted,  // at its final path, verified (or the command succeeded)
  kFailed,     // its transfer or command failed
  kPaused,     // its job is paused
  kCancelled,  // its job is cancelled
};

// The user's requests (REST POST /jobs/{id}/ACTION, haul pause|...).
enum class Action { kPause, kResume, kRetry, kCancel };

// What happens to a job.
enum class JobEvent {
  kStart,            // the scheduler starts an attempt
  kProgress,         // bytes moved or a command reported: no change of state
  kSucceeded,        // the attempt ended with every item completed
  kFailedRetryable,  // the attempt failed; it may succeed later and attempts are left
  kFailedFinal,      // the attempt failed for good (see failure_event)
  kPause,            // user: pause
  kResume,           // user: resume
  kCancel,           // user: cancel
  kRetry,            // user: retry (now, or again after the end)
  kRunPaused,        // a run stopped because a pause was asked for
  kRunCancelled,     // a run stopped because a cancel was asked for
  kShutdown,         // the daemon stops: the run stops, the job waits for the next start
  kRestart,          // the daemon starts and finds the job (running: a crash left it)
  kLeaseLost,        // another node took over the job (several nodes)
};

struct Transition {
  JobState next;
  // The job is running and must stop first; kRunPaused / kRunCancelled
  // (or kShutdown) then says where it ends.
  bool stop_run = false;
  friend bool operator==(const Transition&, const Transition&) = default;
};

// The transition `event` causes in `state`. Errors: kConflict naming the
// event and the state ("cannot pause a completed job") when it makes no
// sense there; the API answers 409.
Result<Transition> next_state(JobState state, JobEvent event);

// What happens to an item.
enum class ItemEvent {
  kStart,      // its transfer or command starts
  kSucceeded,  // verified at its final path / the command succeeded
  kFailed,     // the transfer or command failed (or could not start)
  kStopped,    // interrupted on request (pause, cancel, shutdown, another item's failure)
  kRestart,    // the daemon starts: an item a crash left running
};

// Errors: kConflict when the event makes no sense for the item's state.
Result<ItemState> next_item_state(ItemState state, ItemEvent event);

// The state an item takes when its job enters `job`: items follow their job
// into paused, cancelled and failed (a completed item stays completed) and
// back to queued when the job is queued again; a running or retrying job
// leaves them as they are.
ItemState item_state_in(ItemState item, JobState job);

// How a failed attempt ends: kFailedFinal for errors that cannot change by
// waiting (404, 401/403, bad input, a full disk, offline mode, a second
// SHA-256 mismatch) or when no attempt is left, else kFailedRetryable.
// `mismatches` counts the job's SHA-256 mismatches, this one included.
JobEvent failure_event(ErrorCode code, int attempts, int max_attempts, int mismatches);

// Whether an error can go away by trying again later.
bool is_retryable(ErrorCode code);

// The event a user's action is.
JobEvent event_of(Action action);

// "queued", "running", ... as used in the API and the store.
std::string_view state_name(JobState state);
std::optional<JobState> parse_state(std::string_view name);
std::string_view item_state_name(ItemState state);
std::optional<ItemState> parse_item_state(std::string_view name);
std::string_view action_name(Action action);
std::string_view job_event_name(JobEvent event);
// Completed, failed or cancelled: nothing will happen to it any more.
bool is_finished(JobState state);

}  // namespace haul::core
