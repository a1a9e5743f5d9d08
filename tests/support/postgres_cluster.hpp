// A throwaway PostgreSQL 15 server for tests of haul's PostgreSQL store:
// initdb into a private temporary directory, the server on 127.0.0.1 at a
// free port (its socket in that directory too), trust authentication for the
// `postgres` superuser, fsync off. A database per test keeps tests apart;
// the cluster is shared by the whole test binary (shared()), as initdb costs
// far more than CREATE DATABASE.
//
// PostgreSQL refuses to run as root, and tests run as root: then every
// server command runs as the `postgres` account the Debian package creates
// (runuser -u postgres), and the directory is handed to it. Run as another
// user, the commands run as that user.
//
// A test process killed before its destructor ran leaves its server behind;
// the next PostgresCluster stops such orphans (their owner process is gone)
// and removes their directories.
//
// Independent of the rest of haul: the C++ standard library, POSIX and the
// PostgreSQL programs. Failures to set up (PostgreSQL not installed, initdb
// or the server failing) throw std::runtime_error with a message that says
// what to install or what the server logged.
//
// Threads: not thread-safe; use it from the test thread.
#pragma once

#include <filesystem>
#include <string>

namespace haul::testing {

class PostgresCluster {
 public:
  // Runs initdb and starts the server; returns once it accepts connections.
  PostgresCluster();
  // Stops the server (immediate mode: nothing to keep) and removes the directory.
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // The test binary's cluster, started on first use and stopped at exit. A
  // failed start throws, and the next call tries again.
  static PostgresCluster& shared();

  int port() const { return port_; }
  // A new empty database with a name unique in this cluster; returns the
  // name. `options` go after CREATE DATABASE NAME as they are ("TEMPLATE
  // template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'").
  std::string create_database(const std::string& options = "");
  // "postgres://postgres@127.0.0.1:PORT/DATABASE" (no password: trust).
  std::string url(const std::string& database) const;
  // Runs `sql` in `database` as the superuser (psql, stopping at the first
  // error); returns what it printed, unaligned and without headers, trimmed.
  // Throws std::runtime_error when psql fails.
  std::string query(const std::string& database, const std::string& sql) const;
  // A login role that must give `password` (scram-sha-256) to connect over
  // TCP, where every other role is trusted. `name` and `password` are put in
  // SQL as they are: test values without quotes.
  void create_password_role(const std::string& name, const std::string& password);
  // Everything the server has logged so far.
  std::string log() const;
  // The private directory: data/ (the cluster), the socket and the log.
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void start();
  void stop() noexcept;

  std::filesystem::path dir_;
  int port_ = 0;
  bool running_ = false;
  int databases_ = 0;  // created so far, for unique names
};

}  // namespace haul::testing
