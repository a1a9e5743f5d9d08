// Thin RAII layer over the SQLite C API for the SQLite job store: one open
// connection (Database) and its prepared statements (Statement), with every
// failure turned into an Error that carries SQLite's message and the path.
// Internal to store/sqlite: the only header of haul that includes sqlite3.h.
//
// Threading: like the JobStore that owns them, a Database and its statements
// are used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::store::sqlite {

// The ErrorCode a SQLite result code stands for: SQLITE_FULL is kNoSpace,
// SQLITE_BUSY/LOCKED kUnavailable, SQL or constraint errors kInternal (a bug
// in haul), anything touching the file kIo.
ErrorCode error_code_for(int sqlite_result);

// One prepared statement. Move-only; finalized by the destructor.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool valid() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

  // Parameters are 1-based. Text is bound SQLITE_STATIC: the caller keeps it
  // alive until the statement is reset (Use below does that).
  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind_null(int index) { sqlite3_bind_null(stmt_, index); }
  template <class T>
  void bind_optional(int index, const std::optional<T>& value) {
    if (value) {
      bind(index, *value);
    } else {
      bind_null(index);
    }
  }

  // Columns are 0-based.
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  std::optional<std::string> optional_text(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// One connection. Move-only; closed by the destructor.
class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (creating when missing) the database file at `path`.
  // Errors: "cannot open database <path>: <sqlite message>".
  static Result<Database> open(const std::filesystem::path& path);

  bool is_open() const { return db_ != nullptr; }
  const std::filesystem::path& path() const { return path_; }
  sqlite3* get() const { return db_; }

  // Runs one or more statements that return no rows the caller needs.
  Result<void> exec(const char* sql, std::string_view what);
  // A statement kept for the life of the connection (SQLITE_PREPARE_PERSISTENT).
  Result<Statement> prepare(std::string_view sql, std::string_view what);

  // Steps `stmt`: true when it produced a row, false when it is done.
  Result<bool> step(Statement& stmt, std::string_view what);
  // Steps a statement that returns no rows (INSERT, UPDATE, DELETE).
  Result<void> run(Statement& stmt, std::string_view what);

  // The failure of the last call on this connection, as
  // "cannot <what> <path>: <sqlite message>".
  Error error(int sqlite_result, std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// Resets a cached statement when it goes out of scope, so a half-read SELECT
// never keeps a read transaction (and its snapshot) open, and clears bindings
// so no SQLITE_STATIC pointer outlives the strings it points into.
class Use {
 public:
  explicit Use(Statement& stmt) : stmt_(stmt) {}
  ~Use() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

 private:
  Statement& stmt_;
};

}  // namespace haul::store::sqlite
