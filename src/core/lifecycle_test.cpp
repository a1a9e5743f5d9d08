#include "core/lifecycle.hpp"

#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

namespace haul::core {
namespace {

using S = JobState;
using E = JobEvent;

const std::vector<S> kAllStates = {S::kQueued,    S::kRunning, S::kRetrying, S::kPaused,
                                   S::kCompleted, S::kFailed,  S::kCancelled};
const std::vector<E> kAllEvents = {
    E::kStart,        E::kProgress, E::kSucceeded, E::kFailedRetryable, E::kFailedFinal,
    E::kPause,        E::kResume,   E::kCancel,    E::kRetry,           E::kRunPaused,
    E::kRunCancelled, E::kShutdown, E::kRestart,   E::kLeaseLost};

// The lifecycle as docs/design/job-lifecycle.md draws it: every arrow, and
// nothing else. (The daemon's own events, shutdown, restart and lease lost,
// follow below: they touch a running job and leave any other as it is.)
const std::map<std::pair<S, E>, Transition> kArrows = {
    {{S::kQueued, E::kStart}, {S::kRunning}},
    {{S::kRetrying, E::kStart}, {S::kRunning}},
    {{S::kRunning, E::kProgress}, {S::kRunning}},
    {{S::kRunning, E::kSucceeded}, {S::kCompleted}},
    {{S::kRunning, E::kFailedRetryable}, {S::kRetrying}},
    {{S::kRunning, E::kFailedFinal}, {S::kFailed}},
    {{S::kQueued, E::kPause}, {S::kPaused}},
    {{S::kRetrying, E::kPause}, {S::kPaused}},
    {{S::kRunning, E::kPause}, {S::kRunning, true}},
    {{S::kRunning, E::kRunPaused}, {S::kPaused}},
    {{S::kPaused, E::kResume}, {S::kQueued}},
    {{S::kQueued, E::kCancel}, {S::kCancelled}},
    {{S::kRetrying, E::kCancel}, {S::kCancelled}},
    {{S::kPaused, E::kCancel}, {S::kCancelled}},
    {{S::kRunning, E::kCancel}, {S::kRunning, true}},
    {{S::kRunning, E::kRunCancelled}, {S::kCancelled}},
    {{S::kFailed, E::kRetry}, {S::kQueued}},
    {{S::kCancelled, E::kRetry}, {S::kQueued}},
    {{S::kRetrying, E::kRetry}, {S::kQueued}},  // now, not at next_attempt_at
};

TEST(Lifecycle, EveryJobTransitionIsAnArrowOfTheDiagramOrRefused) {
  for (S state : kAllStates) {
    for (E event : kAllEvents) {
      const auto result = next_state(state, event);
      const bool daemon_event =
          event == E::kShutdown || event == E::kRestart || event == E::kLeaseLost;
      if (daemon_event) {
        ASSERT_TRUE(result) << state_name(state) << " " << job_event_name(event);
        // A running job waits in the queue for the next start (or node);
        // anything else stays as it was.
        EXPECT_EQ(result->next, state == S::kRunning ? S::kQueued : state);
        EXPECT_FALSE(result->stop_run);
        continue;
      }
      auto arrow = kArrows.find({state, event});
      if (arrow == kArrows.end()) {
        ASSERT_FALSE(result) << "unexpected: " << state_name(state) << " + "
                             << job_event_name(event) << " -> " << state_name(result->next);
        EXPECT_EQ(result.error().code, ErrorCode::kConflict);
        EXPECT_NE(result.error().message.find(std::string(state_name(state)) + " job"),
                  std::string::npos)
            << result.error().message;
      } else {
        ASSERT_TRUE(result) << state_name(state) << " + " << job_event_name(event) << ": "
                            << result.error().message;
        EXPECT_EQ(*result, arrow->second) << state_name(state) << " + " << job_event_name(event);
      }
    }
  }
}

TEST(Lifecycle, RefusalsSayWhatWasAskedAndOfWhat) {
  EXPECT_EQ(next_state(S::kCompleted, E::kPause).error().message, "cannot pause a completed job");
  EXPECT_EQ(next_state(S::kRunning, E::kResume).error().message, "cannot resume a running job");
  EXPECT_EQ(next_state(S::kCancelled, E::kCancel).error().message, "cannot cancel a cancelled job");
}

TEST(Lifecycle, FinishedStatesAreTheEnds) {
  for (S state : kAllStates) {
    bool leaves = false;
    for (E event : kAllEvents) {
      if (event == E::kRetry) continue;  // the user's way back
      auto result = next_state(state, event);
      leaves = leaves || (result && result->next != state);
    }
    EXPECT_EQ(is_finished(state), !leaves) << state_name(state);
  }
}

TEST(Lifecycle, ItemTransitions) {
  using I = ItemState;
  using IE = ItemEvent;
  const std::vector<I> states = {I::kQueued, I::kRunning, I::kCompleted,
                                 I::kFailed, I::kPaused,  I::kCancelled};
  const std::map<std::pair<I, IE>, I> arrows = {
      {{I::kQueued, IE::kStart}, I::kRunning},
      {{I::kFailed, IE::kStart}, I::kRunning},  // the next attempt tries it again
      {{I::kPaused, IE::kStart}, I::kRunning},
      {{I::kCancelled, IE::kStart}, I::kRunning},
      {{I::kRunning, IE::kSucceeded}, I::kCompleted},
      {{I::kQueued, IE::kSucceeded}, I::kCompleted},  // found complete (the HF cache)
      {{I::kRunning, IE::kFailed}, I::kFailed},
      {{I::kQueued, IE::kFailed}, I::kFailed},  // could not start
      {{I::kRunning, IE::kStopped}, I::kQueued},
      {{I::kQueued, IE::kStopped}, I::kQueued},
      {{I::kFailed, IE::kStopped}, I::kFailed},
      {{I::kPaused, IE::kStopped}, I::kPaused},
      {{I::kCancelled, IE::kStopped}, I::kCancelled},
  };
  for (I state : states) {
    for (IE event : {IE::kStart, IE::kSucceeded, IE::kFailed, IE::kStopped, IE::kRestart}) {
      const auto result = next_item_state(state, event);
      if (event == IE::kRestart) {
        ASSERT_TRUE(result);
        EXPECT_EQ(*result, state == I::kRunning ? I::kQueued : state);
        continue;
      }
      auto arrow = arrows.find({state, event});
      if (arrow == arrows.end()) {
        EXPECT_FALSE(result) << item_state_name(state) << " " << static_cast<int>(event);
      } else {
        ASSERT_TRUE(result) << item_state_name(state) << " " << static_cast<int>(event);
        EXPECT_EQ(*result, arrow->second) << item_state_name(state);
      }
    }
  }
}

TEST(Lifecycle, ItemsFollowTheirJob) {
  using I = ItemState;
  for (I item : {I::kQueued, I::kRunning, I::kFailed, I::kPaused, I::kCancelled}) {
    EXPECT_EQ(item_state_in(item, S::kPaused), I::kPaused);
    EXPECT_EQ(item_state_in(item, S::kCancelled), I::kCancelled);
    EXPECT_EQ(item_state_in(item, S::kFailed), I::kFailed);
    EXPECT_EQ(item_state_in(item, S::kQueued), I::kQueued);
    EXPECT_EQ(item_state_in(item, S::kRunning), item);
    EXPECT_EQ(item_state_in(item, S::kRetrying), item);
  }
  for (S job : kAllStates) EXPECT_EQ(item_state_in(I::kCompleted, job), I::kCompleted);
}

TEST(Lifecycle, FailuresAreFinalWhenWaitingCannotHelpOrNoAttemptIsLeft) {
  for (ErrorCode code :
       {ErrorCode::kNotFound, ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument,
        ErrorCode::kNoSpace, ErrorCode::kFailedPrecondition, ErrorCode::kInternal}) {
    EXPECT_FALSE(is_retryable(code)) << error_code_name(code);
    EXPECT_EQ(failure_event(code, 1, 5, 0), E::kFailedFinal) << error_code_name(code);
  }
  for (ErrorCode code :
       {ErrorCode::kUnavailable, ErrorCode::kProtocol, ErrorCode::kIo, ErrorCode::kCommandFailed}) {
    EXPECT_TRUE(is_retryable(code)) << error_code_name(code);
    EXPECT_EQ(failure_event(code, 1, 5, 0), E::kFailedRetryable) << error_code_name(code);
    EXPECT_EQ(failure_event(code, 4, 5, 0), E::kFailedRetryable);
    EXPECT_EQ(failure_event(code, 5, 5, 0), E::kFailedFinal) << "no attempt left";
  }
  // One SHA-256 mismatch may be a bad connection; two are the file.
  EXPECT_EQ(failure_event(ErrorCode::kDataLoss, 1, 5, 1), E::kFailedRetryable);
  EXPECT_EQ(failure_event(ErrorCode::kDataLoss, 2, 5, 2), E::kFailedFinal);
}

TEST(Lifecycle, NamesRoundTrip) {
  for (S state : kAllStates) EXPECT_EQ(parse_state(state_name(state)), state);
  EXPECT_EQ(parse_state("sleeping"), std::nullopt);
  for (ItemState state : {ItemState::kQueued, ItemState::kRunning, ItemState::kCompleted,
                          ItemState::kFailed, ItemState::kPaused, ItemState::kCancelled})
    EXPECT_EQ(parse_item_state(item_state_name(state)), state);
  EXPECT_EQ(parse_item_state("done"), std::nullopt);
  EXPECT_EQ(event_of(Action::kPause), E::kPause);
  EXPECT_EQ(event_of(Action::kResume), E::kResume);
  EXPECT_EQ(event_of(Action::kRetry), E::kRetry);
  EXPECT_EQ(event_of(Action::kCancel), E::kCancel);
}

}  // namespace
}  // namespace haul::core
