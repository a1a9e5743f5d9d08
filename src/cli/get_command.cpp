#include "cli/get_command.hpp"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "base/format.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress_printer.hpp"
#include "net/sha256.hpp"
#include "net/url.hpp"
#include "sources/plan_transfer.hpp"
#include "sources/resolve.hpp"
#include "transfer/engine.hpp"

namespace haul::cli {

namespace {

using Clock = std::chrono::steady_clock;
using transfer::TransferId;

// Collects engine callbacks (network thread) for the main thread to print.
class StatusBoard final : public transfer::TransferObserver {
 public:
  void add(TransferId id, std::string source, std::string name) {
    std::lock_guard lock(mutex_);
    FileStatus& status = files_[id];
    status.id = id;
    status.source = std::move(source);
    status.name = std::move(name);
    status.started = Clock::now();
  }

  void on_progress(const transfer::TransferProgress& progress) override {
    std::lock_guard lock(mutex_);
    auto it = files_.find(progress.id);
    if (it != files_.end()) it->second.progress = progress;
  }

  void on_finished(TransferId id, const Result<transfer::TransferResult>& result) override {
    {
      std::lock_guard lock(mutex_);
      auto it = files_.find(id);
      if (it == files_.end()) return;
      FileStatus& status = it->second;
      status.ended = Clock::now();
      if (result) {
        status.state = FileStatus::State::kDone;
        status.result = *result;
      } else {
        const bool stopped = result.error().code == ErrorCode::kCancelled;
        status.state = stopped ? FileStatus::State::kStopped : FileStatus::State::kFailed;
        status.error = result.error();
      }
      finished_.push_back(id);
    }
    changed_.notify_one();
  }

  // Waits up to `timeout` for a finish, then returns the files that finished
  // since the last call.
  std::vector<FileStatus> wait_finished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return !finished_.empty(); });
    std::vector<FileStatus> done;
    for (TransferId id : finished_) done.push_back(files_[id]);
    finished_.clear();
    return done;
  }

  std::vector<FileStatus> active() const {
    std::lock_guard lock(mutex_);
    std::vector<FileStatus> list;
    for (const auto& [id, status] : files_) {
      if (status.state == FileStatus::State::kActive) list.push_back(status);
    }
    return list;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<TransferId, FileStatus> files_;  // guarded by mutex_
  std::deque<TransferId> finished_;         // guarded by mutex_
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

sources::ResolveOptions resolve_options(const SourceFlags& flags) {
  sources::ResolveOptions options;
  options.include = flags.include;
  options.exclude = flags.exclude;
  options.file_name = flags.file;
  options.with_preview = flags.with_preview;
  options.hf_cache = flags.hf_cache;
  return options;
}

// Resolves `source`, trying again on transient failures (429, 5xx, resets)
// as long as the wait stays reasonable for someone watching a terminal.
Result<sources::Plan> resolve_patiently(const std::string& source,
                                        const sources::ResolveOptions& options,
                                        ProgressPrinter& printer) {
  constexpr int kAttempts = 4;
  constexpr std::chrono::seconds kLongestWait{60};
  for (int attempt = 1;; ++attempt) {
    auto plan = sources::resolve_source(source, options);
    if (plan || plan.error().code != ErrorCode::kUnavailable || attempt == kAttempts ||
        plan.error().retry_after > kLongestWait || interrupted())
      return plan;
    const auto wait = std::max<std::chrono::milliseconds>(std::chrono::seconds(attempt),
                                                          plan.error().retry_after);
    printer.notice(plan.error().message + "; trying again in " +
                   std::to_string((wait.count() + 999) / 1000) + "s");
    for (auto until = Clock::now() + wait; Clock::now() < until && !interrupted();)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// A planned file on its way, for what follows its transfer (cache links).
struct Underway {
  sources::PlannedFile file;
  std::filesystem::path destination;
};

// What the arguments say once every one of them has been checked: nothing
// is downloaded until all of them are.
struct CheckedArguments {
  std::uint64_t overall_rate = 0;
  std::uint64_t file_rate = 0;
  std::vector<std::string> headers;  // -H lines, @FILE ones read
};

// Errors: kInvalidArgument "SUBJECT: what is wrong", SUBJECT being the
// option or the source as the user typed it.
Result<CheckedArguments> check_arguments(const GetOptions& options,
                                         const sources::ResolveOptions& resolve) {
  auto bad = [](const std::string& subject, const std::string& message) {
    return fail(ErrorCode::kInvalidArgument, subject + ": " + message);
  };
  if (!options.output_file.empty() && options.sources.size() > 1)
    return bad("-o", "names one file; use -d DIR for several sources");
  for (const std::string& source : options.sources) {
    if (auto known = sources::check_source(source, resolve); !known)
      return bad(net::redact_url(source), known.error().message);
  }
  if (options.sha256 && !net::is_sha256_hex(*options.sha256))
    return bad("--sha256", "'" + *options.sha256 + "' is not 64 hex digits");
  CheckedArguments checked;
  if (!options.limit_rate.empty()) {
    auto parsed = parse_size(options.limit_rate);
    if (!parsed) return bad("--limit-rate", parsed.error().message);
    checked.overall_rate = *parsed;
  }
  if (!options.file_limit_rate.empty()) {
    auto parsed = parse_size(options.file_limit_rate);
    if (!parsed) return bad("--file-limit-rate", parsed.error().message);
    checked.file_rate = *parsed;
  }
  for (const std::string& header : options.headers) {
    if (header.empty() || header[0] != '@') {
      checked.headers.push_back(header);
      continue;
    }
    // curl's "-H @FILE": one header per line, which keeps tokens out of `ps`.
    std::ifstream in(header.substr(1));
    if (!in) return bad("-H", "cannot read headers from " + header.substr(1));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) checked.headers.push_back(line);
    }
  }
  for (const std::string& header : checked.headers) {
    // The message names the header; a secret in a bad one stays off the screen.
    if (auto ok = transfer::check_header(header); !ok)
      return bad("-H", "expected 'Name: value', got a line without a name and a colon");
  }
  return checked;
}

// One shape for every error line: "haul get: SUBJECT: what went wrong".
void print_error(const std::string& subject, const std::string& message) {
  std::fprintf(stderr, "haul get: %s: %s\n", subject.c_str(), message.c_str());
}

// The name a planned file is shown by until the server names it: its own
// file name, else the source as the user gave it.
std::string display_name(const sources::PlannedFile& file, const std::string& source,
                         const std::string& output_file) {
  if (!output_file.empty()) return std::filesystem::path(output_file).filename().string();
  if (!file.relative_path.empty())
    return std::filesystem::path(file.relative_path).filename().string();
  return net::redact_url(source);
}

}  // namespace

int run_get(const GetOptions& options) {
  const sources::ResolveOptions resolve = resolve_options(options.source_flags);
  auto arguments = check_arguments(options, resolve);
  if (!arguments) {
    std::fprintf(stderr, "haul get: %s\n", arguments.error().message.c_str());
    return 2;
  }
  const std::vector<std::string>& headers = arguments->headers;

  StatusBoard board;
  transfer::EngineOptions engine_options;
  engine_options.global_rate_limit = arguments->overall_rate;
  engine_options.direct_io = !options.buffered_io;
  auto engine = transfer::Engine::create(engine_options, board);
  if (!engine) {
    std::fprintf(stderr, "haul get: %s\n", engine.error().message.c_str());
    return 1;
  }

  ProgressPrinter printer(choose_mode(options.json, options.quiet));
  install_interrupt_handlers();
  int failures = 0;
  int usage_failures = 0;
  std::size_t running = 0;
  std::map<TransferId, Underway> underway;
  auto report = [&](const std::string& subject, const Error& error) {
    print_error(subject, error.message);
    (error.code == ErrorCode::kInvalidArgument ? usage_failures : failures) += 1;
  };
  for (const std::string& source : options.sources) {
    if (interrupted()) break;
    const std::string subject = net::redact_url(source);
    auto plan = resolve_patiently(source, resolve, printer);
    if (!plan) {
      report(subject, plan.error());
      continue;
    }
    if (!options.output_file.empty() && plan->files.size() != 1) {
      report(subject, Error{ErrorCode::kInvalidArgument, "-o names one file but this source has " +
                                                             std::to_string(plan->files.size()) +
                                                             "; use -d DIR"});
      continue;
    }
    std::filesystem::path destination = options.output_dir.empty() ? "." : options.output_dir;
    if (options.source_flags.hf_cache) {
      auto cache = sources::hf_cache_root(resolve.getenv);
      if (!cache) {
        report(subject, cache.error());
        continue;
      }
      destination = *cache;
    } else if (options.output_dir.empty() && options.output_file.empty()) {
      destination /= plan->suggested_folder;  // a CivitAI LoRA lands in ./loras
    }
    if (auto written = sources::write_sidecars(*plan, destination); !written) {
      report(subject, written.error());
      continue;
    }
    for (sources::PlannedFile& file : plan->files) {
      const std::string name = display_name(file, source, options.output_file);
      if (file.present) {
        const auto at = destination / file.relative_path;
        if (auto linked = sources::finish_planned_file(file, destination); !linked) {
          report(name, linked.error());
        } else {
          printer.notice(at.string() + ": already there");
        }
        continue;
      }
      auto request = sources::transfer_request_for(file, destination);
      if (!request) {
        report(name, request.error());
        continue;
      }
      if (!options.output_file.empty()) {
        request->output_file = options.output_file;
        request->output_dir.clear();
      }
      request->headers.insert(request->headers.end(), headers.begin(), headers.end());
      if (options.sha256) request->sha256 = options.sha256;
      request->connections = options.connections;
      request->rate_limit = arguments->file_rate;
      request->retry.max_attempts = options.max_tries;
      request->retry.connect_timeout = millis(options.connect_timeout);
      request->retry.stall_timeout = millis(options.stall_timeout);
      request->retry.give_up_after = millis(options.give_up_after);
      auto id = (*engine)->start(*request);
      if (!id) {
        report(name, id.error());
        continue;
      }
      board.add(*id, net::redact_url(file.key), name);
      underway[*id] = Underway{std::move(file), destination};
      ++running;
    }
  }

  bool stopping = false;
  auto next_render = Clock::now();
  while (running > 0) {
    for (const FileStatus& status : board.wait_finished(std::chrono::milliseconds(100))) {
      --running;
      if (status.state == FileStatus::State::kDone) {
        const Underway& done = underway.at(status.id);
        if (auto linked = sources::finish_planned_file(done.file, done.destination); !linked) {
          report(status.label(), linked.error());
          continue;
        }
      }
      if (status.state == FileStatus::State::kFailed) ++failures;
      printer.outcome(status);
    }
    if (interrupted() && !stopping) {
      stopping = true;
      printer.notice("interrupted: saving progress (press Ctrl-C again to quit at once)");
      for (const auto& [id, file] : underway) (*engine)->stop(id, /*keep_partial=*/true);
    }
    if (Clock::now() >= next_render && running > 0) {
      printer.render(board.active());
      next_render = Clock::now() + printer.interval();
    }
  }
  engine->reset();
  if (stopping || interrupted()) return 130;
  if (failures > 0) return 1;
  return usage_failures > 0 ? 2 : 0;
}

}  // namespace haul::cli
