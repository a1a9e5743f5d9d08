// Ctrl-C and SIGTERM as a flag the main loop polls, so downloads can stop
// cleanly (state saved for a resume) instead of dying mid-write.
#pragma once

namespace haul::cli {

// Installs SIGINT/SIGTERM handlers. A second signal exits at once with 130.
void install_interrupt_handlers();
bool interrupted();

}  // namespace haul::cli
