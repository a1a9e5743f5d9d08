#include "store/sqlite/database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace haul::store::sqlite {
namespace {

constexpr mode_t kPrivateFileMode = 0600;

std::string describe(std::string_view what, const std::filesystem::path& path,
                     std::string_view detail) {
  std::string message = "cannot ";
  message += what;
  message += ' ';
  message += path.string();
  message += ": ";
  message += detail;
  return message;
}

// The database keeps URLs, and URLs may carry access tokens: make the file
// private before SQLite first writes to it. SQLite gives the -wal and -shm
// files it creates the database file's mode, so they follow; ones left by an
// older, laxer version are tightened too.
Result<void> make_private_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) {
    int err = errno;
    return fail(err == ENOSPC ? ErrorCode::kNoSpace : ErrorCode::kIo,
                describe("open database", path, std::strerror(err)));
  }
  // EPERM: someone else's file we may still use; its mode is theirs to choose.
  if (::fchmod(fd, kPrivateFileMode) != 0 && errno != EPERM) {
    int err = errno;
    ::close(fd);
    return fail(ErrorCode::kIo, describe("open database", path, std::strerror(err)));
  }
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::filesystem::path side = path;
    side += suffix;
    ::chmod(side.c_str(), kPrivateFileMode);  // usually absent: nothing to do
  }
  return {};
}

}  // namespace

ErrorCode error_code_for(int sqlite_result) {
  switch (sqlite_result & 0xff) {
    case SQLITE_FULL:
      return ErrorCode::kNoSpace;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kUnavailable;
    case SQLITE_ERROR:
    case SQLITE_INTERNAL:
    case SQLITE_NOMEM:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return ErrorCode::kInternal;
    default:
      return ErrorCode::kIo;  // IOERR, CANTOPEN, READONLY, PERM, CORRUPT, NOTADB, ...
  }
}

// ---- Statement ----------------------------------------------------------------

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

std::string Statement::text(int column) const {
  // Text first, then its byte count: that order is what SQLite documents as safe.
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

// ---- Database -----------------------------------------------------------------

Database::~Database() {
  // Statements are finalized by their owners first (members declared after
  // the Database); close_v2 copes if one is not, instead of leaking the handle.
  sqlite3_close_v2(db_);
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Result<Database> Database::open(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path parent = path.parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return fail(ec == std::errc::no_space_on_device ? ErrorCode::kNoSpace : ErrorCode::kIo,
                  describe("open database", path,
                           "cannot create directory " + parent.string() + ": " + ec.message()));
    }
  }
  if (auto made = make_private_file(path); !made) return fail(made.error());

  Database db;
  db.path_ = path;
  // NOMUTEX: one thread at a time uses the connection (see job_store.hpp), so
  // SQLite's per-call locking would only cost time.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    if (db.db_ == nullptr) {
      return fail(error_code_for(rc), describe("open database", path, sqlite3_errstr(rc)));
    }
    return fail(db.error(rc, "open database"));
  }
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Error Database::error(int sqlite_result, std::string_view what) const {
  const char* detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(sqlite_result);
  return Error{error_code_for(sqlite_result), describe(what, path_, detail)};
}

Result<void> Database::exec(const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(error(rc, what));
  return {};
}

Result<Statement> Database::prepare(std::string_view sql, std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return fail(error(rc, what));
  }
  return Statement(stmt);
}

Result<bool> Database::step(Statement& stmt, std::string_view what) {
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(error(rc, what));
}

Result<void> Database::run(Statement& stmt, std::string_view what) {
  auto stepped = step(stmt, what);
  if (!stepped) return fail(stepped.error());
  return {};
}

}  // namespace haul::store::sqlite
