// Whether an instance answers over SSH, for the web UI's Instances view and
// POST /api/v1/instances/{id}/check: connect and log in (no command runs),
// timed. The SSH round trip runs on the probe's own thread; `done` is called
// on the control executor. Create and destroy on the control thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "remote/ssh_session.hpp"

namespace haul::api {

struct ProbeResult {
  bool reachable = false;
  std::chrono::milliseconds latency{0};  // connect + login
  std::optional<std::string> error;      // why not, in one line
  std::chrono::system_clock::time_point checked_at;
};

class InstanceProbe {
 public:
  InstanceProbe(boost::asio::any_io_executor control, remote::SessionOptions ssh);
  ~InstanceProbe();
  InstanceProbe(const InstanceProbe&) = delete;
  InstanceProbe& operator=(const InstanceProbe&) = delete;

  void check(std::string ssh_command, std::function<void(ProbeResult)> done);

 private:
  boost::asio::any_io_executor control_;
  remote::SessionOptions ssh_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  boost::asio::thread_pool worker_{2};
};

}  // namespace haul::api
