// The throwaway PostgreSQL cluster: initdb and pg_ctl run with posix_spawn
// (through runuser when root), psql for the SQL tests need around the store.
#include "support/postgres_cluster.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "support/child_process.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kWho = "PostgresCluster";
constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kDirPrefix = "haul-pg-";
constexpr const char* kOwnerFile = "owner.pid";
// The group of roles that must give a password (create_password_role).
constexpr const char* kPasswordGroup = "haul_password_logins";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool running_as_root() { return ::geteuid() == 0; }

// Runs a PostgreSQL server program of kBin as the account that owns the
// cluster. Run it in the cluster's directory: the postgres account may not
// enter the test's working directory, and initdb fails where it cannot tell
// its current directory.
std::vector<std::string> as_postgres(const std::string& program, std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (running_as_root()) argv = {"runuser", "-u", "postgres", "--"};
  argv.push_back((fs::path(kBin) / program).string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void require_installation() {
  for (const char* program : {"initdb", "pg_ctl", "postgres", "psql"}) {
    if (!fs::exists(fs::path(kBin) / program)) {
      throw std::runtime_error(
          "PostgresCluster: " + (fs::path(kBin) / program).string() +
          " is missing: PostgreSQL 15 is not installed (install the Debian package "
          "postgresql, which brings postgresql-15; ./dev deps does)");
    }
  }
  if (running_as_root() && ::getpwnam("postgres") == nullptr) {
    throw std::runtime_error(
        "PostgresCluster: there is no 'postgres' account to run the server as (PostgreSQL "
        "refuses root); the Debian package postgresql creates it");
  }
}

// Stops the servers of test processes that died before stopping their own
// (killed by a timeout, say) and removes their directories. A directory
// whose owner is alive, or that has no owner file yet, belongs to a running
// test and is left alone.
void remove_orphans(const fs::path& parent) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    if (entry.path().filename().string().rfind(kDirPrefix, 0) != 0) continue;
    std::istringstream owner_text(read_file(entry.path() / kOwnerFile));
    pid_t owner = 0;
    if (!(owner_text >> owner) || owner <= 0) continue;
    if (::kill(owner, 0) == 0 || errno != ESRCH) continue;
    if (fs::exists(entry.path() / "data" / "postmaster.pid")) {
      run_tool(kWho,
               as_postgres("pg_ctl", {"-D", (entry.path() / "data").string(), "-m", "immediate",
                                      "-w", "stop"}),
               entry.path());
    }
    fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

PostgresCluster::PostgresCluster() {
  require_installation();
  const fs::path parent = fs::temp_directory_path();
  remove_orphans(parent);
  std::string pattern = (parent / (std::string(kDirPrefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error(std::string("PostgresCluster: mkdtemp: ") + std::strerror(errno));
  dir_ = pattern;
  std::ofstream(dir_ / kOwnerFile) << ::getpid() << '\n';
  try {
    if (running_as_root()) {
      const passwd* account = ::getpwnam("postgres");
      if (::chown(dir_.c_str(), account->pw_uid, account->pw_gid) != 0)
        throw std::runtime_error(std::string("PostgresCluster: chown: ") + std::strerror(errno));
    }
    // --no-sync: a cluster that lives for one test run need not survive a crash.
    run_tool_or_throw(
        kWho,
        as_postgres("initdb", {"-D", (dir_ / "data").string(), "-A", "trust", "-U", "postgres",
                               "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"}),
        dir_);
    // Roles of kPasswordGroup must give their password over TCP; the first
    // matching line of pg_hba.conf decides, so it goes first.
    const fs::path hba = dir_ / "data" / "pg_hba.conf";
    const std::string rules = read_file(hba);
    std::ofstream(hba, std::ios::trunc)
        << "host all +" << kPasswordGroup << " 127.0.0.1/32 scram-sha-256\n"
        << rules;
    start();
    query("postgres", std::string("CREATE ROLE ") + kPasswordGroup + " NOLOGIN");
  } catch (...) {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

PostgresCluster::~PostgresCluster() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

PostgresCluster& PostgresCluster::shared() {
  static PostgresCluster cluster;
  return cluster;
}

// A port found free may be taken before the server binds it: then the
// server fails to start and another port is tried.
void PostgresCluster::start() {
  std::string failures;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = find_free_port(kWho);
    const std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                                " -k " + dir_.string() + " -c fsync=off";
    const ToolOutput started = run_tool(
        kWho,
        as_postgres("pg_ctl", {"-D", (dir_ / "data").string(), "-l", (dir_ / "log").string(), "-o",
                               options, "-w", "-t", "60", "start"}),
        dir_);
    if (started.exit_code == 0) {
      running_ = true;
      return;
    }
    failures += started.output + log();
    if (log().find("already in use") == std::string::npos) break;
  }
  throw std::runtime_error("PostgresCluster: the server did not start: " + failures);
}

void PostgresCluster::stop() noexcept {
  if (!running_) return;
  running_ = false;
  try {
    run_tool(
        kWho,
        as_postgres("pg_ctl", {"-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}),
        dir_);
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to do in a destructor
  }
}

std::string PostgresCluster::create_database(const std::string& options) {
  std::string name = "haul_test_" + std::to_string(++databases_);
  query("postgres", "CREATE DATABASE " + name + (options.empty() ? "" : " " + options));
  return name;
}

std::string PostgresCluster::url(const std::string& database) const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresCluster::query(const std::string& database, const std::string& sql) const {
  const ToolOutput ran =
      run_tool(kWho,
               {(fs::path(kBin) / "psql").string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", "-d", database,
                "-c", "SET client_min_messages TO warning", "-c", sql},
               dir_);
  if (ran.exit_code != 0) {
    throw std::runtime_error("PostgresCluster: psql failed (exit " + std::to_string(ran.exit_code) +
                             ") on: " + sql + ": " + ran.output);
  }
  return trimmed(ran.output);
}

void PostgresCluster::create_password_role(const std::string& name, const std::string& password) {
  query("postgres",
        "CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "' IN ROLE " + kPasswordGroup);
}

std::string PostgresCluster::log() const { return read_file(dir_ / "log"); }

}  // namespace haul::testing
