// Passwords given on the command line (`--store postgres://u:PASSWORD@h/db`,
// `haul get https://u:PASSWORD@host/f`) are visible to every user of the
// machine in the process list. Once the arguments are parsed (their values
// copied), hide_argv_passwords overwrites each URL's password in argv itself,
// which is what /proc/PID/cmdline and ps show. PGPASSWORD, ~/.pgpass or a
// token in the environment remain the better way; this limits the damage.
// Pure functions; call hide_argv_passwords from main's thread before others start.
#pragma once

#include <string>
#include <string_view>

namespace haul::cli {

// Where the password of a scheme://user:password@host... URL inside `arg`
// sits: [first, first + size). size 0: none.
struct PasswordSpan {
  std::size_t first = 0;
  std::size_t size = 0;
};
PasswordSpan find_url_password(std::string_view arg);

// Overwrites every argument's URL password with '*' in place.
void hide_argv_passwords(int argc, char** argv);

}  // namespace haul::cli
