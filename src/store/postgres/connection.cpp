#include "store/postgres/connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <utility>

namespace haul::store::postgres {
namespace {

constexpr std::string_view kSchemes[] = {"postgres://", "postgresql://"};
constexpr std::string_view kMask = "***";
constexpr std::string_view kPasswordKey = "password=";

bool has_postgres_scheme(std::string_view url) {
  for (std::string_view scheme : kSchemes) {
    if (url.substr(0, scheme.size()) == scheme) return true;
  }
  return false;
}

// Where the user info of a URL ("user:password") lies: from after "://" to
// the last '@' anywhere in it. libpq ends it at the first '@' or '/', RFC 3986
// at the last '@' before the first '/', '?' or '#'; the last '@' of all
// covers a password holding any of those, which is what matters for
// masking it (connect() refuses such URLs). An '@' in a query parameter
// makes it cover too much, which hides more than needed and nothing less.
struct UserInfo {
  std::size_t begin = 0;
  std::size_t end = 0;  // the '@'
  bool found = false;
};

UserInfo find_user_info(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const std::size_t begin = scheme_end + 3;
  const std::size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < begin) return {};
  return {begin, at, true};
}

// The values of every password= in `url` (a query parameter), as written.
std::vector<std::pair<std::size_t, std::size_t>> password_values(std::string_view url) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (std::size_t key = url.find(kPasswordKey); key != std::string_view::npos;
       key = url.find(kPasswordKey, key + 1)) {
    // Only a whole key: "?password=" or "&password=", not "xpassword=".
    if (key > 0 && url[key - 1] != '?' && url[key - 1] != '&' && url[key - 1] != ' ') continue;
    const std::size_t begin = key + kPasswordKey.size();
    std::size_t end = url.find_first_of("&# ", begin);
    if (end == std::string_view::npos) end = url.size();
    spans.emplace_back(begin, end);
  }
  return spans;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// Every form in which the password of `url` may show up in a message.
std::vector<std::string> password_forms(std::string_view url) {
  std::vector<std::string> raw;
  if (const UserInfo info = find_user_info(url); info.found) {
    const std::string_view user_info = url.substr(info.begin, info.end - info.begin);
    if (const std::size_t colon = user_info.find(':'); colon != std::string_view::npos)
      raw.emplace_back(user_info.substr(colon + 1));
  }
  for (const auto& [begin, end] : password_values(url))
    raw.emplace_back(url.substr(begin, end - begin));
  std::vector<std::string> forms;
  for (const std::string& password : raw) {
    if (password.empty()) continue;
    forms.push_back(password);
    if (std::string decoded = percent_decoded(password); decoded != password)
      forms.push_back(std::move(decoded));
  }
  return forms;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// libpq's messages run over several lines ("...failed: Connection refused\n\t
// Is the server running...?\n"); an Error is one line.
std::string one_line(std::string_view text) {
  std::string out;
  bool pending_break = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      pending_break = !out.empty();
      continue;
    }
    if (pending_break) {
      if (out.back() != ' ') out += ';';
      out += ' ';
      pending_break = false;
    }
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The class of failure a SQLSTATE (five characters) stands for.
ErrorCode error_code_for(std::string_view state) {
  if (state.size() != 5) return ErrorCode::kUnavailable;  // no state: the connection is gone
  const std::string_view klass = state.substr(0, 2);
  if (state == "53100") return ErrorCode::kNoSpace;  // disk_full
  if (klass == "08" || klass == "53" || klass == "57" || klass == "40")
    return ErrorCode::kUnavailable;  // connection, resources, shutdown, deadlock/serialization
  if (klass == "22") return ErrorCode::kInvalidArgument;  // a value the column refuses
  if (klass == "23" || klass == "42" || klass == "25" || klass == "0A")
    return ErrorCode::kInternal;  // constraints, SQL, transaction state: haul's own doing
  if (klass == "28") return ErrorCode::kPermissionDenied;
  return ErrorCode::kIo;
}

bool succeeded(const PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
}

}  // namespace

std::string redact_password(std::string_view url) {
  std::string out(url);
  // From the end, so the earlier positions stay valid.
  auto values = password_values(url);
  std::reverse(values.begin(), values.end());
  for (const auto& [begin, end] : values) out.replace(begin, end - begin, kMask);
  if (const UserInfo info = find_user_info(out); info.found) {
    const std::size_t colon = out.find(':', info.begin);
    if (colon != std::string::npos && colon < info.end)
      out.replace(colon + 1, info.end - colon - 1, kMask);
  }
  return out;
}

// ---- Params -------------------------------------------------------------------

void Params::add(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) has_nul_ = true;
  offsets_.push_back(buffer_.size());
  buffer_.append(text);
  buffer_ += '\0';
}

void Params::add(std::int64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), value);
  add(std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

void Params::add_null() { offsets_.push_back(kNull); }

// ---- Rows ---------------------------------------------------------------------

void Rows::Free::operator()(pg_result* result) const { PQclear(result); }

int Rows::size() const { return result_ ? PQntuples(result_.get()) : 0; }

bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string Rows::text(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::int64_t Rows::int64(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  std::int64_t number = 0;
  std::from_chars(value, value + PQgetlength(result_.get(), row, column), number);
  return number;
}

std::int64_t Rows::affected() const {
  const char* count = PQcmdTuples(result_.get());
  std::int64_t number = 0;
  std::from_chars(count, count + std::strlen(count), number);
  return number;
}

// ---- Connection ---------------------------------------------------------------

void Connection::Finish::operator()(pg_conn* conn) const { PQfinish(conn); }

Result<Connection> Connection::connect(const std::string& url) {
  return connect(url, ConnectOptions{});
}

Result<Connection> Connection::connect(const std::string& url, const ConnectOptions& options) {
  Connection connection;
  connection.redacted_url_ = redact_password(url);
  connection.secrets_ = password_forms(url);
  const std::string& named = connection.redacted_url_;
  if (!has_postgres_scheme(url)) {
    return fail(ErrorCode::kInvalidArgument,
                "cannot connect to " + named + ": not a postgres:// or postgresql:// URL");
  }
  // libpq ends the user info at the first '@' or '/': a password holding
  // one would be split, and its second half taken for a host name or port
  // that then shows up in messages. Percent-encoded they are fine.
  if (const UserInfo info = find_user_info(url); info.found) {
    const std::string_view user_info =
        std::string_view(url).substr(info.begin, info.end - info.begin);
    if (user_info.find_first_of("@/?#") != std::string_view::npos) {
      return fail(ErrorCode::kInvalidArgument,
                  "cannot connect to " + named +
                      ": write '@', '/', '?' and '#' in a user name or password (or '@' "
                      "anywhere after it) percent-encoded: %40, %2F, %3F, %23");
    }
  }
  // Parsed first, so a typo is told apart from a server that is down.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = parse_error != nullptr ? parse_error : "out of memory";
    PQfreemem(parse_error);
    return fail(ErrorCode::kInvalidArgument,
                "cannot connect to " + named + ": " + connection.clean(std::move(message)));
  }
  PQconninfoFree(parsed);
  // Entries before dbname are defaults the URL may override; client_encoding
  // after it is not negotiable: every text haul stores is UTF-8.
  const std::string timeout = std::to_string(kConnectTimeout.count());
  const std::string keepalive_idle = std::to_string(options.keepalive_idle_seconds);
  std::vector<const char*> keywords = {"connect_timeout", "fallback_application_name"};
  std::vector<const char*> values = {timeout.c_str(), options.application_name.c_str()};
  if (options.keepalive_idle_seconds > 0) {
    // Probes every few seconds once idle, three unanswered ones end it.
    keywords.insert(keywords.end(), {"keepalives_idle", "keepalives_interval", "keepalives_count"});
    values.insert(values.end(), {keepalive_idle.c_str(), "5", "3"});
  }
  keywords.insert(keywords.end(), {"dbname", "client_encoding", nullptr});
  values.insert(values.end(), {url.c_str(), "UTF8", nullptr});
  if (options.interrupt_fd >= 0) {
    connection.conn_.reset(
        PQconnectStartParams(keywords.data(), values.data(), /*expand_dbname=*/1));
    if (auto polled = connection.poll_connect(options.interrupt_fd); !polled)
      return fail(polled.error());
  } else {
    connection.conn_.reset(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  }
  pg_conn* conn = connection.conn_.get();
  if (conn == nullptr)
    return fail(ErrorCode::kInternal, "cannot connect to " + named + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = connection.clean(PQerrorMessage(conn));
    const bool refused = PQconnectionNeedsPassword(conn) != 0 ||
                         message.find("authentication failed") != std::string::npos;
    return fail(refused ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable,
                "cannot connect to " + named + ": " + message);
  }
  // Notices ("relation already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return connection;
}

// PQconnectPoll's loop: wait for the socket as libpq asks, or for the
// interrupt, until the connection is made or has failed (PQstatus says which).
Result<void> Connection::poll_connect(int interrupt_fd) {
  pg_conn* conn = conn_.get();
  if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) return {};
  const auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
  // libpq's rule: wait until the socket is writable before the first poll.
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK && polling != PGRES_POLLING_FAILED) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return fail(ErrorCode::kUnavailable,
                  "cannot connect to " + redacted_url_ + ": timeout expired");
    }
    pollfd fds[2] = {{PQsocket(conn),
                      static_cast<short>(polling == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0},
                     {interrupt_fd, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      return fail(ErrorCode::kIo,
                  "cannot connect to " + redacted_url_ + ": poll: " + std::strerror(errno));
    }
    if ((fds[1].revents & POLLIN) != 0)
      return fail(ErrorCode::kCancelled, "cannot connect to " + redacted_url_ + ": stopped");
    if (ready > 0) polling = PQconnectPoll(conn);
  }
  return {};
}

template <class Send>
Result<Rows> Connection::run(Send&& send, std::string_view what) {
  if (lock_lost_) return fail(ErrorCode::kUnavailable, lock_refused_);
  if (!conn_)
    return fail(ErrorCode::kInternal,
                "cannot " + std::string(what) + " " + redacted_url_ + ": not connected");
  pg_conn* conn = conn_.get();
  if (PQstatus(conn) == CONNECTION_BAD) {  // lost by an earlier call
    if (auto reset_done = reset(); !reset_done) return fail(reset_done.error());
  }
  const bool idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
  Rows rows(send(conn));
  if (succeeded(rows.result_.get())) return rows;
  // A server restart or an idle timeout closes the connection between two
  // batches; what was sent outside a transaction is safe to send again.
  if (idle && PQstatus(conn) == CONNECTION_BAD) {
    if (auto reset_done = reset(); !reset_done) return fail(reset_done.error());
    if (PQstatus(conn) == CONNECTION_OK) {
      rows = Rows(send(conn));
      if (succeeded(rows.result_.get())) return rows;
    }
  }
  return fail(error(rows.result_.get(), what));
}

Result<void> Connection::reset() {
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK || !session_lock_) return {};
  return take_session_lock();
}

Result<void> Connection::hold_session_lock(std::int64_t key, std::string refused) {
  session_lock_ = key;
  lock_refused_ = std::move(refused);
  return take_session_lock();
}

Result<void> Connection::take_session_lock() {
  const std::string sql = "SELECT pg_try_advisory_lock(" + std::to_string(*session_lock_) + ")";
  Rows rows(PQexec(conn_.get(), sql.c_str()));
  if (!succeeded(rows.result_.get())) return fail(error(rows.result_.get(), "lock"));
  if (rows.text(0, 0) != "t") {
    // Another session has it: what this one remembers may be stale now, so
    // it writes nothing more, ever (the connection closes; see run()).
    conn_.reset();
    lock_lost_ = true;
    return fail(ErrorCode::kUnavailable, lock_refused_);
  }
  return {};
}

Result<Rows> Connection::exec(const std::string& sql, const Params& params, std::string_view what) {
  if (params.has_nul()) {
    return fail(ErrorCode::kInvalidArgument,
                "cannot " + std::string(what) + " " + redacted_url_ +
                    ": a text holds a NUL byte, which PostgreSQL cannot store");
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::size_t offset : params.offsets_)
    values.push_back(offset == Params::kNull ? nullptr : params.buffer_.data() + offset);
  return run(
      [&](pg_conn* conn) {
        return PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, /*resultFormat=*/0);
      },
      what);
}

Result<Rows> Connection::exec_script(const std::string& sql, std::string_view what) {
  return run([&](pg_conn* conn) { return PQexec(conn, sql.c_str()); }, what);
}

int Connection::socket() const { return conn_ ? PQsocket(conn_.get()) : -1; }

Result<void> Connection::consume_input() {
  pg_conn* conn = conn_.get();
  if (conn == nullptr)
    return fail(ErrorCode::kUnavailable, "lost connection to " + redacted_url_ + ": closed");
  if (PQconsumeInput(conn) == 0 || PQstatus(conn) == CONNECTION_BAD) {
    return fail(ErrorCode::kUnavailable,
                "lost connection to " + redacted_url_ + ": " + clean(PQerrorMessage(conn)));
  }
  return {};
}

std::optional<Notification> Connection::next_notification() {
  if (!conn_) return std::nullopt;
  PGnotify* notify = PQnotifies(conn_.get());
  if (notify == nullptr) return std::nullopt;
  Notification notification{notify->relname != nullptr ? notify->relname : "",
                            notify->extra != nullptr ? notify->extra : ""};
  PQfreemem(notify);
  return notification;
}

bool Connection::in_transaction() const {
  if (!conn_) return false;
  const PGTransactionStatusType status = PQtransactionStatus(conn_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

void Connection::roll_back() {
  if (!in_transaction())
    return;  // never begun, or the connection is gone (and the transaction with it)
  PQclear(PQexec(conn_.get(), "ROLLBACK"));
}

Error Connection::error(const pg_result* result, std::string_view what) const {
  std::string message;
  std::string_view state;
  if (result != nullptr) {
    if (const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY))
      message = primary;
    if (const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE)) state = sqlstate;
    if (message.empty()) message = PQresultErrorMessage(result);
  }
  if (message.empty()) message = PQerrorMessage(conn_.get());
  if (message.empty()) message = "unknown error";
  return Error{error_code_for(state), "cannot " + std::string(what) + " " + redacted_url_ + ": " +
                                          clean(std::move(message))};
}

std::string Connection::clean(std::string message) const {
  for (const std::string& secret : secrets_) replace_all(message, secret, kMask);
  return one_line(message);
}

}  // namespace haul::store::postgres
