// A real OpenSSH server for integration tests of haul's SSH layer: runs
// /usr/sbin/sshd in the foreground on 127.0.0.1 with a free port, its own
// ed25519 host key and one authorised ed25519 client key for the current
// user, all in a private temporary directory that is removed afterwards.
//
// The server accepts public-key authentication only (no PAM, no passwords),
// accepts the environment variables haul passes (UI_HOME, HF_TOKEN,
// CIVITAI_TOKEN, AWS_*, HAUL_*) and logs at VERBOSE level to a file that
// log() returns. Sessions get HOME set to an empty private directory, so the
// test user's shell startup files play no part. stop()/start() restart it on the same port so tests
// can exercise reconnects; regenerate_host_key() makes the next start() present a new host key
// (what a re-created cloud instance looks like).
//
// Independent of the rest of haul: it uses only the C++ standard library and
// POSIX. Failures to set up (no sshd, no free port, sshd exits) throw
// std::runtime_error with sshd's log attached.
//
// Threads: not thread-safe; use it from the test thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace haul::testing {

class TestSshd {
 public:
  // Generates the keys and configuration and starts sshd; returns once the
  // port accepts connections. Creates /run/sshd (privilege separation
  // directory) when missing.
  TestSshd();
  // Stops sshd (and every session it forked) and removes the directory.
  ~TestSshd();
  TestSshd(const TestSshd&) = delete;
  TestSshd& operator=(const TestSshd&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  // The account the client logs in as: the user running the tests.
  std::string user() const { return user_; }
  // Private key (no passphrase) whose public half is authorised.
  std::filesystem::path client_key() const;
  // A client known_hosts file, created empty.
  std::filesystem::path known_hosts() const;
  // HOME of every session (private to this server, empty at start).
  std::filesystem::path home() const;
  // "SHA256:<base64>" of the current host key, as `ssh-keygen -l` prints it.
  std::string host_key_fingerprint() const;
  // "ssh -p PORT USER@127.0.0.1 -i KEY", as a cloud console would print it.
  std::string ssh_command() const;
  // Everything sshd has logged so far (across restarts).
  std::string log() const;
  // The private temporary directory holding keys, config and log.
  const std::filesystem::path& dir() const { return dir_; }

  // A new ed25519 key pair (no passphrase) in dir() named `name` that the
  // server does NOT authorise; returns the private key's path.
  std::filesystem::path generate_unauthorised_key(const std::string& name) const;
  // Replaces the host key; takes effect at the next start().
  void regenerate_host_key();

  // Kills sshd and every process it forked (the per-connection children and
  // the commands they run, even those that outlived their connection), so
  // open client sessions see their connection drop. No-op when stopped.
  void stop();
  // Starts sshd again on the same port. No-op when running.
  void start();
  // Freezes (SIGSTOP) / thaws (SIGCONT) every process sshd forked: open
  // connections stay up at the TCP level but nothing answers, like a peer
  // behind a network that silently drops packets. The listener keeps running.
  void freeze_sessions();
  void thaw_sessions();
  bool running() const { return pid_ > 0; }

 private:
  void write_config(bool with_penalties_off);
  // "HAUL_TEST_SSHD=<dir>": set in every session's environment.
  std::string marker_env() const;
  // sshd's descendants plus every process carrying marker_env().
  std::vector<pid_t> session_processes() const;
  void launch();
  void wait_until_accepting();

  std::filesystem::path dir_;
  std::string user_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::size_t log_offset_ = 0;  // log size when the running sshd was launched
};

}  // namespace haul::testing
