// What the test servers (test_sshd, postgres_cluster) need from the system:
// running a tool to completion and a free port on 127.0.0.1. Throw
// std::runtime_error (prefixed with `who`) when the system refuses.
// Thread-safe: no shared state.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace haul::testing {

struct ToolOutput {
  int exit_code = 0;   // 128 + signal when killed
  std::string output;  // stdout and stderr together
};

// Runs argv[0] (searched in PATH) with stdin from /dev/null, in `cwd` (empty:
// this process's working directory), to completion. Throws only when it
// cannot start.
ToolOutput run_tool(const std::string& who, const std::vector<std::string>& args,
                    const std::filesystem::path& cwd = {});

// As run_tool, but a non-zero exit throws with the tool's output.
std::string run_tool_or_throw(const std::string& who, const std::vector<std::string>& args,
                              const std::filesystem::path& cwd = {});

// A port nothing listens on right now (the kernel's choice for 127.0.0.1:0).
int find_free_port(const std::string& who);

}  // namespace haul::testing
