#include "cli/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace haul::cli {

namespace {
std::atomic<int> g_signals{0};

void on_signal(int /*signal*/) {
  if (g_signals.fetch_add(1) >= 1) ::_exit(130);
}
}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return g_signals.load() > 0; }

}  // namespace haul::cli
