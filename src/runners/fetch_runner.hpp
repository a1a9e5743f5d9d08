// Native sources (URL, hf, CivitAI, S3) with an instance as target: the
// source is resolved here like a local job's (on the resolver pool, at every
// attempt), and each planned file becomes a fetch command run on the
// instance (remote/fetch_script.hpp): curl resumes there, the SHA-256 is
// checked there, tokens and keys reach the instance only through the
// command's environment. `dest` is relative to UI_HOME (default `models`).
//
// Threading: control thread only (resolutions come back there).
#pragma once

#include <map>
#include <string>

#include "runners/instance_commands.hpp"
#include "runners/resolver_pool.hpp"
#include "scheduler/job_runner.hpp"
#include "sources/resolve.hpp"

namespace haul::runners {

class FetchRunner final : public scheduler::JobRunner {
 public:
  FetchRunner(scheduler::RunHost& host, InstanceCommands& commands, ResolverPool& resolvers,
              sources::GetEnv getenv = sources::process_env());

  bool accepts(const core::JobRequest& request) const override;
  bool runs(const core::Job& job) const override;
  Result<void> prepare(core::Job& job, const core::JobRequest& request) const override;
  std::string identity(const core::Job& job) const override;
  std::string host_of(const core::Job& job) const override { return "instance " + job.target; }
  void start(const std::string& job_id) override;
  void stop(const std::string& job_id, scheduler::StopReason reason) override;
  // A cancel already removed the partial files on the instance.
  void discard(const core::Job&) override {}

 private:
  void submit(const std::string& job_id, sources::Plan plan);

  scheduler::RunHost& host_;
  InstanceCommands& commands_;
  ResolverPool& resolvers_;
  sources::GetEnv getenv_;
  // Jobs whose source is being resolved, with the resolution's token: a stop
  // while resolving ends the attempt at once and drops the answer.
  std::map<std::string, std::uint64_t> resolving_;
  std::uint64_t next_token_ = 1;
};

}  // namespace haul::runners
