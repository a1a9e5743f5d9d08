// Thin RAII layer over libpq for the PostgreSQL job store: one connection
// (Connection), the text parameters of a statement (Params) and its result
// (Rows), with every failure turned into a one-line Error that names the
// server by its URL with the password left out. Internal to store/postgres;
// libpq-fe.h itself is included by the .cpp files only.
//
// Threading: like the JobStore that owns it, a Connection (and the Rows it
// returned) is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

// libpq's handles (PGconn, PGresult), declared here so that this header does
// not pull in libpq-fe.h.
struct pg_conn;
struct pg_result;

namespace haul::store::postgres {

// `url` with its password replaced by "***", both in the user info
// ("postgres://user:***@host/db") and in a password= parameter (of a URL's
// query or a "key=value" connection string). Anything else is unchanged, so
// the result still says which server and database are meant.
std::string redact_password(std::string_view url);

// The parameters of one statement, $1, $2, ... in the order added, all sent
// as text (PostgreSQL converts them to the column's type).
class Params {
 public:
  void add(std::string_view text);
  void add(std::int64_t value);
  void add_null();
  template <class T>
  void add_optional(const std::optional<T>& value) {
    if (value) {
      add(*value);
    } else {
      add_null();
    }
  }

  std::size_t size() const { return offsets_.size(); }
  // Whether a text held a NUL byte: PostgreSQL's text cannot store one, and
  // sent as a C string it would be cut short without a word.
  bool has_nul() const { return has_nul_; }

 private:
  friend class Connection;
  static constexpr std::size_t kNull = static_cast<std::size_t>(-1);

  // Every value NUL-terminated, one after the other: one allocation for a
  // statement of thousands of parameters, pointers taken when it is sent.
  std::string buffer_;
  std::vector<std::size_t> offsets_;  // into buffer_, kNull for NULL
  bool has_nul_ = false;
};

// A statement's result, read by row and column (both 0-based).
class Rows {
 public:
  Rows() = default;
  int size() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  // Precondition: the column is an integer type and the value not NULL
  // (anything else reads as 0).
  std::int64_t int64(int row, int column) const;
  // How many rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;

 private:
  friend class Connection;
  struct Free {
    void operator()(pg_result* result) const;
  };
  explicit Rows(pg_result* result) : result_(result) {}
  std::unique_ptr<pg_result, Free> result_;
};

// One row of a Rows, with the accessors of a row cursor.
class Row {
 public:
  Row(const Rows& rows, int row) : rows_(&rows), row_(row) {}
  bool is_null(int column) const { return rows_->is_null(row_, column); }
  std::string text(int column) const { return rows_->text(row_, column); }
  std::int64_t int64(int column) const { return rows_->int64(row_, column); }
  std::optional<std::int64_t> optional_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
  }
  std::optional<std::string> optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }

 private:
  const Rows* rows_;
  int row_;
};

// How long connect() waits for a server unless the URL's connect_timeout
// says otherwise.
inline constexpr std::chrono::seconds kConnectTimeout{10};

// How connect() opens a connection, beyond what the URL says.
struct ConnectOptions {
  // The application_name pg_stat_activity shows, unless the URL sets one.
  std::string application_name = "haul";
  // When >= 0, connect() waits on the server without blocking (beyond a
  // host name lookup) and gives up with kCancelled as soon as this
  // descriptor becomes readable: a listener's stop() must not wait out a
  // server that does not answer. The URL's connect_timeout is then not
  // read; kConnectTimeout applies.
  int interrupt_fd = -1;
  // Seconds of silence before TCP keepalive probes start (0: the system's
  // default, two hours on Linux). A connection that only waits for
  // notifications sends nothing, so without probes it would not notice a
  // server that vanished without closing it.
  int keepalive_idle_seconds = 0;
};

// A notification (NOTIFY) a listening connection received.
struct Notification {
  std::string channel;
  std::string payload;
};

// One connection. Move-only; closed by the destructor.
class Connection {
 public:
  Connection() = default;
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // Connects to `url` (postgres://user[:password]@host[:port]/db, also
  // postgresql://), waiting at most 10 s unless the URL's connect_timeout
  // says otherwise. Errors (one line, naming redact_password(url)):
  // kInvalidArgument for another scheme or a URL libpq cannot parse,
  // kPermissionDenied for a wrong or missing password, kUnavailable when the
  // server cannot be reached (or refuses for another reason: no such
  // database, too many clients).
  static Result<Connection> connect(const std::string& url);
  // The same with `options`; kCancelled when options.interrupt_fd fired.
  static Result<Connection> connect(const std::string& url, const ConnectOptions& options);

  bool is_open() const { return conn_ != nullptr; }
  // The URL without its password: what messages name.
  const std::string& redacted_url() const { return redacted_url_; }

  // Runs one statement. A connection found dropped is opened again first,
  // and a statement sent outside a transaction (a BEGIN or a read: all this
  // store sends there) is sent once more when the connection dropped under
  // it; inside a transaction the loss is the caller's error.
  // Errors: "cannot <what> <url>: <server message>", the code from the
  // SQLSTATE: kUnavailable (connection lost, too many clients, deadlock),
  // kNoSpace (disk full), kInvalidArgument (a value the column refuses, a NUL
  // byte in a text), kInternal (SQL or constraint errors: a bug in haul), kIo.
  Result<Rows> exec(const std::string& sql, const Params& params, std::string_view what);
  // Runs `sql`, which may hold several statements but no parameters (a
  // migration, "BEGIN; SELECT pg_advisory_xact_lock(1)"); returns the last
  // statement's rows. Same errors and retry as exec().
  Result<Rows> exec_script(const std::string& sql, std::string_view what);

  // Takes the session advisory lock `key` now, and again whenever the
  // connection is opened again (a dropped connection loses it): while it
  // holds, no other session has it. Errors: kUnavailable "<refused>" when
  // another session holds it, now or after a reconnect; then the connection
  // closes and every later statement fails with it: what this side
  // remembers may be stale once another session had the lock.
  Result<void> hold_session_lock(std::int64_t key, std::string refused);

  // For a connection that LISTENs: the socket to wait on for input (-1 when
  // closed), reading what arrived without blocking, and the notifications
  // read so far, oldest first. consume_input() errors: kUnavailable "lost
  // connection to <url>: ..." when the connection is gone (no reconnect:
  // what LISTENs is the caller's to restore).
  int socket() const;
  Result<void> consume_input();
  std::optional<Notification> next_notification();

  // Whether a transaction is open (also one that failed and awaits ROLLBACK).
  bool in_transaction() const;
  // Ends an open transaction after a failure; its own errors are dropped, the
  // failure that led here is the one worth reporting.
  void roll_back();

 private:
  struct Finish {
    void operator()(pg_conn* conn) const;
  };
  // Runs `send` (which returns a fresh PGresult), reconnecting as exec() says.
  template <class Send>
  Result<Rows> run(Send&& send, std::string_view what);
  Error error(const pg_result* result, std::string_view what) const;
  // Reconnects a dropped connection and takes the session lock again.
  Result<void> reset();
  Result<void> take_session_lock();
  // connect()'s wait for a connection begun with PQconnectStartParams.
  Result<void> poll_connect(int interrupt_fd);
  // `message` on one line with every form of the password masked.
  std::string clean(std::string message) const;

  std::unique_ptr<pg_conn, Finish> conn_;
  std::string redacted_url_;
  // The password as written and percent-decoded: masked in any message libpq
  // or the server writes (libpq quotes the parts of a URL it cannot parse).
  std::vector<std::string> secrets_;
  std::optional<std::int64_t> session_lock_;  // hold_session_lock()'s key
  std::string lock_refused_;
  bool lock_lost_ = false;
};

}  // namespace haul::store::postgres
