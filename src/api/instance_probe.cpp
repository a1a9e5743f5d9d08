#include "api/instance_probe.hpp"

#include <boost/asio/post.hpp>

#include "remote/remote_runner.hpp"

namespace haul::api {

InstanceProbe::InstanceProbe(boost::asio::any_io_executor control, remote::SessionOptions ssh)
    : control_(std::move(control)), ssh_(std::move(ssh)) {}

InstanceProbe::~InstanceProbe() {
  *alive_ = false;
  worker_.join();
}

void InstanceProbe::check(std::string ssh_command, std::function<void(ProbeResult)> done) {
  boost::asio::post(worker_, [this, alive = alive_, ssh_command = std::move(ssh_command),
                              done = std::move(done)]() mutable {
    ProbeResult result;
    const auto started = std::chrono::steady_clock::now();
    auto endpoint = remote::endpoint_from_command(ssh_command);
    if (!endpoint) {
      result.error = endpoint.error().message;
    } else if (auto session = remote::SshSession::connect(*endpoint, ssh_); !session) {
      result.error = session.error().message;
    } else {
      result.reachable = true;
    }
    result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    result.checked_at = std::chrono::system_clock::now();
    boost::asio::post(control_, [alive, done = std::move(done), result = std::move(result)] {
      if (*alive) done(result);
    });
  });
}

}  // namespace haul::api
