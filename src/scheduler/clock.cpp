#include "scheduler/clock.hpp"

namespace haul::scheduler {

void AsioClock::wake_at(core::TimePoint at, std::function<void()> wake) {
  timer_.cancel();
  const auto wait = std::max<core::Clock::duration>(at - now(), {});
  timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
  timer_.async_wait([wake = std::move(wake)](const boost::system::error_code& error) {
    if (!error) wake();  // cancelled: replaced or shutting down
  });
}

}  // namespace haul::scheduler
