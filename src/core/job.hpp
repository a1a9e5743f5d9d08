// The job model: what a user asked for (Job) and the files or commands it is
// made of (Item). Values only: no I/O, no JSON. The scheduler is the only
// code that changes a job's state, as core/lifecycle.hpp decides.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/boxed.hpp"
#include "base/sparse.hpp"
#include "core/lifecycle.hpp"

namespace haul::core {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

struct JobError {
  std::string code;  // error_code_name() of the cause ("not_found", "no_space", ...)
  std::string message;
  // Where it happened: the file (its name, or the command's card), the stage
  // (error_context.hpp: resolve, connect, transfer, verify, finalize,
  // "command N of M") and the attempt (1-based; 0: unknown). Empty: unknown.
  std::string file{};
  std::string stage{};
  int attempt = 0;
  friend bool operator==(const JobError&, const JobError&) = default;
};

// What few items have: a remote command's card, progress and output, a
// model file's links. Apart from Item (Sparse: 8 bytes until set) because
// most items are plain files and a queue holds them by the hundred thousand.
struct ItemExtras {
  std::string resource;  // remote jobs: the resource card the command comes from
  // Progress a remote command reported without byte counts, live only.
  std::optional<double> percent{};
  // Paths that must be symlinks to this file once it is complete (a model's
  // file seen by a second UI); absolute, made when the item completes.
  std::vector<std::string> links{};
  // The tail of what the item's command printed (remote commands): ANSI
  // removed, redraws folded, secrets masked; see remote/output_tail.hpp.
  std::string output_tail{};
  // Lines the command has printed so far, kept or not (live only): where a
  // follower of the output is.
  std::uint64_t output_lines = 0;
  friend bool operator==(const ItemExtras&, const ItemExtras&) = default;
};

// One file (or, for remote jobs, one command) of a job.
struct Item {
  std::string source;           // the URL it comes from
  std::string path;             // final file path; empty until the server names it
  std::string sha256;           // expected digest (or the verified one once done)
  std::string stage = "model";  // images | model | cache | verify
  ItemState state = ItemState::kQueued;
  std::optional<std::uint64_t> size;  // total bytes, when known
  std::uint64_t bytes_done = 0;
  double speed = 0;       // bytes/s, live only (not persisted)
  Boxed<JobError> error;  // rarely set: a pointer while empty
  Sparse<ItemExtras> extras;
  friend bool operator==(const Item&, const Item&) = default;
};

struct Job {
  std::string id;                // UUID v4
  std::int64_t seq = 0;          // insertion order: FIFO among equal priorities
  std::string source;            // as given (the first source of a multi-file job)
  std::string target = "local";  // "local" or an instance id
  std::string destination;       // directory (or file) the items go to, absolute
  std::string group;             // e.g. "loras"
  std::string name;              // display name
  int priority = 0;              // higher runs first
  JobState state = JobState::kQueued;
  int attempts = 0;  // attempts started so far
  int max_attempts = 5;
  std::optional<TimePoint> next_attempt_at;
  Boxed<JobError> error;  // rarely set: a pointer while empty
  TimePoint created_at{};
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  // A local job on a queue shared by several nodes (store/queue_claims.hpp):
  // the node whose disk it writes, or "any" (a shared filesystem). Empty for
  // instance jobs and on a sole node's queue: any node may run it.
  Sparse<std::string> node;
  // The two maps below are empty for most jobs: Sparse, 8 bytes until set.
  Sparse<std::map<std::string, std::string>> labels;
  // How the source is resolved, beyond the source text (see
  // sources::ResolveOptions): "include"/"exclude" (newline-separated hf
  // patterns), "file" (CivitAI file name), "with_preview" and "hf_cache" ("1"),
  // "per_source" ("1": each item's source names one file and is resolved on
  // its own: jobs of several sources, a model's files).
  Sparse<std::map<std::string, std::string>> source_options;
  std::vector<Item> items;

  // Live figures, derived from the items (not persisted).
  double speed = 0;
  std::optional<std::int32_t> eta_seconds;  // 8 bytes, not 16: Job stays 352
  // A pause or cancel asked for while the job runs, until its transfers or
  // commands have stopped (live only).
  std::optional<Action> pending_action;

  std::uint64_t bytes_done() const;
  // Sum of item sizes when every size is known.
  std::optional<std::uint64_t> bytes_total() const;
  // Byte-weighted progress in [0, 100]; items of unknown size count by number.
  double percent() const;
  // Seconds until every byte is done at `speed` (capped to 32 bits);
  // nullopt while a size is unknown or nothing moves.
  std::optional<std::int32_t> eta_at_speed() const;
  friend bool operator==(const Job&, const Job&) = default;
};

// Items follow their job (item_state_in); an item keeps its own error.
void settle_items(Job& job);

// Each item's source on its own line: what two jobs of the same work share.
std::string item_sources(const Job& job);

// A fresh random UUID v4 ("3f1c...-4...-[89ab]...").
std::string new_job_id();

}  // namespace haul::core
