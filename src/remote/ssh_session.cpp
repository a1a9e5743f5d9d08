// SshSession: connecting, host-key policy, authentication and liveness.
// Commands are in ssh_run.cpp.
//
// libssh error texts are converted to haul Errors here, once: callers see
// one line naming user@host:port and what to do, never a libssh code.
#include "remote/ssh_session.hpp"

#include <libssh/libssh.h>
#include <libssh/server.h>  // ssh_send_keepalive: declared there, works for clients too
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <system_error>

#include "base/text.hpp"
#include "remote/ssh_command.hpp"
#include "remote/ssh_errors.hpp"
#include "remote/ssh_handle.hpp"

namespace haul::remote {
namespace {

namespace fs = std::filesystem;

// IdentityAgent value that no agent can listen on: libssh's publickey_auto
// tries the agent whenever one is reachable, so this is how use_agent=false
// (and "IdentityAgent none") is honoured.
constexpr const char* kNoAgent = "/nonexistent/haul-no-ssh-agent";

// The effective settings once ssh -o options are folded in.
struct Settings {
  SessionOptions options;
  std::vector<std::string> identities;
  bool identities_only = false;
  bool agent_configured = false;  // IdentityAgent given explicitly
  std::string ssh_dir;            // where the default keys live
  std::vector<std::string> ignored;
};

std::string home_dir() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  // getpwuid_r: sessions to several instances connect on several threads.
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    return found->pw_dir;
  }
  return "/";
}

std::string expand_home(const std::string& path) {
  if (path == "~") return home_dir();
  if (path.rfind("~/", 0) == 0) return home_dir() + path.substr(1);
  return path;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool yes(std::string_view value) { return iequals(value, "yes") || iequals(value, "true"); }

Result<void> set_option(ssh_session s, ssh_options_e option, const std::string& value,
                        const std::string& name) {
  if (ssh_options_set(s, option, value.c_str()) < 0) {
    return fail(ErrorCode::kInvalidArgument,
                "ssh option " + name + "=" + value + " is not valid: " + last_error(s));
  }
  return {};
}

// One `ssh -o Name=Value` pair. Settings that haul itself implements
// (identities, host keys, timeouts) go to `settings`; the rest to libssh.
Result<void> apply_option(ssh_session s, const std::string& name, const std::string& value,
                          Settings& settings) {
  const std::string key = to_lower(name);
  const auto seconds = [&](std::chrono::seconds& target) -> Result<void> {
    const auto parsed = parse_int(value);
    if (!parsed || *parsed < 0) {
      return fail(ErrorCode::kInvalidArgument,
                  "ssh option " + name + "=" + value + " is not a number of seconds");
    }
    if (*parsed > 0) target = std::chrono::seconds(*parsed);
    return {};
  };
  if (key == "user") return set_option(s, SSH_OPTIONS_USER, value, name);
  if (key == "hostname") return set_option(s, SSH_OPTIONS_HOST, value, name);
  if (key == "port") {
    const auto port = parse_int(value);
    if (!port || *port < 1 || *port > 65535) {
      return fail(ErrorCode::kInvalidArgument,
                  "ssh option Port=" + value + " is not a port number");
    }
    return set_option(s, SSH_OPTIONS_PORT_STR, value, name);
  }
  if (key == "identityfile") {
    settings.identities.push_back(expand_home(value));
    return {};
  }
  if (key == "identitiesonly") {
    settings.identities_only = yes(value);
    return {};
  }
  if (key == "identityagent") {
    settings.agent_configured = true;
    if (iequals(value, "none")) {
      settings.options.use_agent = false;
      return {};
    }
    return set_option(s, SSH_OPTIONS_IDENTITY_AGENT, expand_home(value), name);
  }
  if (key == "stricthostkeychecking") {
    // A changed key is refused whatever this says: "no" only relaxes unknown hosts.
    settings.options.policy =
        (yes(value) || iequals(value, "ask")) ? HostKeyPolicy::kStrict : HostKeyPolicy::kAcceptNew;
    return {};
  }
  if (key == "userknownhostsfile") {
    // ssh allows several files; the first is the one written to.
    const std::string first = value.substr(0, value.find(' '));
    settings.options.known_hosts = expand_home(first);
    return {};
  }
  if (key == "connecttimeout") return seconds(settings.options.connect_timeout);
  if (key == "serveraliveinterval") return seconds(settings.options.keepalive);
  if (key == "proxycommand") {
    if (iequals(value, "none")) return {};
    return set_option(s, SSH_OPTIONS_PROXYCOMMAND, value, name);
  }
  if (key == "ciphers") {
    if (auto r = set_option(s, SSH_OPTIONS_CIPHERS_C_S, value, name); !r) return r;
    return set_option(s, SSH_OPTIONS_CIPHERS_S_C, value, name);
  }
  if (key == "macs") {
    if (auto r = set_option(s, SSH_OPTIONS_HMAC_C_S, value, name); !r) return r;
    return set_option(s, SSH_OPTIONS_HMAC_S_C, value, name);
  }
  if (key == "kexalgorithms") return set_option(s, SSH_OPTIONS_KEY_EXCHANGE, value, name);
  if (key == "hostkeyalgorithms") return set_option(s, SSH_OPTIONS_HOSTKEYS, value, name);
  if (key == "compression") {
    return set_option(s, SSH_OPTIONS_COMPRESSION, yes(value) ? "yes" : "no", name);
  }
  if (key == "pubkeyacceptedalgorithms" || key == "pubkeyacceptedkeytypes") {
    return set_option(s, SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES, value, name);
  }
  settings.ignored.push_back(name + "=" + value);
  return {};
}

std::string option_string(ssh_session s, ssh_options_e option) {
  char* value = nullptr;
  if (ssh_options_get(s, option, &value) != SSH_OK || value == nullptr) return {};
  std::string result = value;
  ssh_string_free_char(value);
  return result;
}

// "user@host:port" with the values libssh will actually use (after
// ~/.ssh/config rewrote HostName, Port or User).
std::string describe_target(ssh_session s) {
  unsigned int port = 22;
  ssh_options_get_port(s, &port);
  return option_string(s, SSH_OPTIONS_USER) + "@" + option_string(s, SSH_OPTIONS_HOST) + ":" +
         std::to_string(port);
}

std::string known_hosts_name(ssh_session s) {
  unsigned int port = 22;
  ssh_options_get_port(s, &port);
  const std::string host = option_string(s, SSH_OPTIONS_HOST);
  return port == 22 ? host : "[" + host + "]:" + std::to_string(port);
}

std::string server_fingerprint(ssh_session s) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK) return "(unknown fingerprint)";
  unsigned char* hash = nullptr;
  size_t length = 0;
  std::string result = "(unknown fingerprint)";
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) == SSH_OK) {
    if (char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length)) {
      result = text;
      ssh_string_free_char(text);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return result;
}

Result<void> verify_host_key(ssh_session s, const std::string& target, const Settings& settings,
                             const std::string& known_hosts) {
  const std::string fingerprint = server_fingerprint(s);
  const std::string fix =
      "if the instance was re-created, remove the old key with: ssh-keygen -f '" + known_hosts +
      "' -R '" + known_hosts_name(s) + "'";
  switch (ssh_session_is_known_server(s)) {
    case SSH_KNOWN_HOSTS_OK:
      return {};
    case SSH_KNOWN_HOSTS_CHANGED:
      return fail(ErrorCode::kPermissionDenied,
                  "ssh to " + target + ": host key changed: the server now presents " +
                      fingerprint + ", not the key in " + known_hosts +
                      "; refusing to connect (possible attack; " + fix + ")");
    case SSH_KNOWN_HOSTS_OTHER:
      return fail(ErrorCode::kPermissionDenied,
                  "ssh to " + target + ": host key changed: " + known_hosts +
                      " holds a key of another type for this host, the server presents " +
                      fingerprint + "; refusing to connect (possible attack; " + fix + ")");
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      break;
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      return fail(ErrorCode::kIo,
                  "ssh to " + target + ": cannot check " + known_hosts + ": " + last_error(s));
  }
  if (settings.options.policy == HostKeyPolicy::kStrict) {
    return fail(ErrorCode::kPermissionDenied,
                "ssh to " + target + ": host key " + fingerprint + " is not in " + known_hosts +
                    " and strict host key checking is on; add it or use accept-new");
  }
  std::error_code ec;
  const fs::path parent = fs::path(known_hosts).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    fs::permissions(parent, fs::perms::owner_all, ec);  // like ~/.ssh: 0700
  }
  if (ssh_session_update_known_hosts(s) != SSH_OK) {
    return fail(ErrorCode::kIo, "ssh to " + target + ": cannot add the host key to " + known_hosts +
                                    ": " + last_error(s));
  }
  return {};
}

// Tries, in order, the given identity files, the agent and the default keys;
// the error lists what was tried and why each failed.
Result<void> authenticate(ssh_session s, const std::string& target, const Settings& settings) {
  const auto lost = [&]() {
    return fail(ErrorCode::kUnavailable,
                "ssh to " + target + ": connection lost during authentication: " + last_error(s));
  };
  int rc = ssh_userauth_none(s, nullptr);
  if (rc == SSH_AUTH_SUCCESS) return {};
  if (rc == SSH_AUTH_ERROR) return lost();
  const int methods = ssh_userauth_list(s, nullptr);
  if ((methods & SSH_AUTH_METHOD_PUBLICKEY) == 0) {
    std::string accepted;
    if (methods & SSH_AUTH_METHOD_PASSWORD) accepted += " password";
    if (methods & SSH_AUTH_METHOD_INTERACTIVE) accepted += " keyboard-interactive";
    if (methods & SSH_AUTH_METHOD_GSSAPI_MIC) accepted += " gssapi";
    return fail(ErrorCode::kPermissionDenied,
                "ssh to " + target +
                    ": authentication failed: the server does not accept public keys (accepts:" +
                    (accepted.empty() ? std::string(" nothing haul supports") : accepted) + ")");
  }

  std::vector<std::string> tried;
  for (const std::string& path : settings.identities) {
    ssh_key key = nullptr;
    rc = ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &key);
    if (rc == SSH_EOF) {
      tried.push_back(path + " (no such file)");
      continue;
    }
    if (rc != SSH_OK) {
      tried.push_back(path + " (unreadable, or protected by a passphrase: load it into ssh-agent)");
      continue;
    }
    rc = ssh_userauth_publickey(s, nullptr, key);
    ssh_key_free(key);
    if (rc == SSH_AUTH_SUCCESS) return {};
    if (rc == SSH_AUTH_ERROR) return lost();
    tried.push_back(path + (rc == SSH_AUTH_PARTIAL
                                ? " (accepted, but the server wants a second method)"
                                : " (refused)"));
  }

  if (!settings.identities_only) {
    // publickey_auto: agent keys first (when an agent is reachable), then
    // ~/.ssh/id_ed25519, id_ecdsa, id_rsa and the config's IdentityFile lines.
    rc = ssh_userauth_publickey_auto(s, nullptr, nullptr);
    if (rc == SSH_AUTH_SUCCESS) return {};
    if (ssh_is_connected(s) == 0) return lost();
    const char* sock = std::getenv("SSH_AUTH_SOCK");
    if (!settings.options.use_agent) {
      tried.emplace_back("ssh-agent (disabled)");
    } else if (settings.agent_configured || (sock != nullptr && *sock != '\0')) {
      tried.emplace_back("ssh-agent (no key accepted)");
    } else {
      tried.emplace_back("ssh-agent (SSH_AUTH_SOCK not set)");
    }
    tried.push_back("default keys in " + settings.ssh_dir + " (none accepted)");
  }
  std::string list;
  for (const auto& item : tried) list += (list.empty() ? "" : "; ") + item;
  return fail(ErrorCode::kPermissionDenied,
              "ssh to " + target +
                  ": authentication failed (tried: " + (list.empty() ? "no keys" : list) + ")");
}

// Dead-peer detection below SSH: a host that vanished without a RST is
// noticed after idle + 3 probes instead of the kernel's two hours.
void enable_tcp_keepalive(ssh_session s, std::chrono::seconds idle) {
  const socket_t fd = ssh_get_fd(s);
  if (fd == SSH_INVALID_SOCKET) return;
  const int on = 1;
  const int idle_s = static_cast<int>(std::max<std::int64_t>(idle.count(), 1));
  const int interval = 10;
  const int count = 3;
  // Failures are harmless (a ProxyCommand's pipe is not a TCP socket).
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

// Sets every libssh option before ssh_connect. Order mirrors ssh: the host
// first (config blocks match on it), then the config, then what was given
// explicitly, which wins. Returns the known_hosts file in effect.
Result<std::string> configure(ssh_session s, const SshEndpoint& endpoint, Settings& settings) {
  const SessionOptions& options = settings.options;
  for (const auto& path : endpoint.identity_files) settings.identities.push_back(expand_home(path));
  if (auto r = set_option(s, SSH_OPTIONS_HOST, endpoint.host, "host"); !r) return fail(r.error());
  settings.ssh_dir =
      options.ssh_dir.empty() ? home_dir() + "/.ssh" : expand_home(options.ssh_dir.string());
  if (auto r = set_option(s, SSH_OPTIONS_SSH_DIR, settings.ssh_dir, "ssh directory"); !r) {
    return fail(r.error());
  }
  int process_config = options.read_ssh_config ? 1 : 0;
  ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
  if (options.read_ssh_config && ssh_options_parse_config(s, nullptr) < 0) {
    return fail(ErrorCode::kInvalidArgument,
                "cannot read " + settings.ssh_dir + "/config: " + last_error(s));
  }
  if (!endpoint.user.empty()) {
    if (auto r = set_option(s, SSH_OPTIONS_USER, endpoint.user, "user"); !r) return fail(r.error());
  }
  if (endpoint.port != 22) {
    if (auto r = set_option(s, SSH_OPTIONS_PORT_STR, std::to_string(endpoint.port), "port"); !r) {
      return fail(r.error());
    }
  }
  for (const auto& [name, value] : endpoint.options) {
    if (auto r = apply_option(s, name, value, settings); !r) return fail(r.error());
  }
  if (!settings.options.use_agent) {
    if (auto r = set_option(s, SSH_OPTIONS_IDENTITY_AGENT, kNoAgent, "IdentityAgent"); !r) {
      return fail(r.error());
    }
  }
  // known_hosts: explicit setting, else the config's UserKnownHostsFile, else
  // <ssh_dir>/known_hosts.
  std::string known_hosts = expand_home(settings.options.known_hosts.string());
  if (known_hosts.empty()) known_hosts = expand_home(option_string(s, SSH_OPTIONS_KNOWNHOSTS));
  if (known_hosts.empty() || known_hosts.find('%') != std::string::npos) {
    known_hosts = settings.ssh_dir + "/known_hosts";
  }
  if (auto r = set_option(s, SSH_OPTIONS_KNOWNHOSTS, known_hosts, "UserKnownHostsFile"); !r) {
    return fail(r.error());
  }
  const long timeout = static_cast<long>(settings.options.connect_timeout.count());
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
  if (!endpoint.jump_hosts.empty()) {
    const bool has_proxy =
        std::any_of(endpoint.options.begin(), endpoint.options.end(),
                    [](const auto& o) { return iequals(o.first, "ProxyCommand"); });
    if (has_proxy) {
      return fail(ErrorCode::kInvalidArgument,
                  "use either -J or -o ProxyCommand, not both (ssh ignores one of them)");
    }
    JumpSettings jump;
    jump.identity_files = settings.identities;
    jump.known_hosts = known_hosts;
    jump.strict_host_keys = settings.options.policy == HostKeyPolicy::kStrict;
    jump.connect_timeout_seconds = static_cast<int>(timeout);
    jump.read_ssh_config = settings.options.read_ssh_config;
    auto proxy = jump_proxy_command(endpoint.jump_hosts, jump);
    if (!proxy) return fail(proxy.error());
    if (auto r = set_option(s, SSH_OPTIONS_PROXYCOMMAND, *proxy, "ProxyJump"); !r)
      return fail(r.error());
  }
  return known_hosts;
}

}  // namespace

Result<std::unique_ptr<SshSession>> SshSession::connect(const SshEndpoint& endpoint,
                                                        const SessionOptions& options) {
  if (endpoint.host.empty()) return fail(ErrorCode::kInvalidArgument, "ssh endpoint has no host");
  if (endpoint.port < 1 || endpoint.port > 65535) {
    return fail(ErrorCode::kInvalidArgument,
                "ssh port " + std::to_string(endpoint.port) + " is out of range");
  }
  ssh_session raw = ssh_new();
  if (raw == nullptr) return fail(ErrorCode::kInternal, "cannot allocate an ssh session");
  auto handle = std::make_unique<Handle>(raw);
  ssh_session s = handle->session;

  Settings settings;
  settings.options = options;
  auto known_hosts = configure(s, endpoint, settings);
  if (!known_hosts) return fail(known_hosts.error());

  if (ssh_connect(s) != SSH_OK) {
    Error error =
        connect_failure(last_error(s, ""), describe_target(s), option_string(s, SSH_OPTIONS_HOST),
                        settings.options.connect_timeout);
    if (!endpoint.jump_hosts.empty()) {
      std::string hops;
      for (const std::string& hop : endpoint.jump_hosts) hops += (hops.empty() ? "" : ",") + hop;
      error.message += " (through jump hosts " + hops +
                       ": each must accept the same key and reach the next; try ssh -J " + hops +
                       ")";
    }
    return fail(std::move(error));
  }
  const std::string target = describe_target(s);
  if (auto r = verify_host_key(s, target, settings, *known_hosts); !r) return fail(r.error());
  if (auto r = authenticate(s, target, settings); !r) return fail(r.error());
  enable_tcp_keepalive(s, settings.options.keepalive);

  return std::unique_ptr<SshSession>(
      new SshSession(std::move(handle), target, settings.options, std::move(settings.ignored)));
}

SshSession::SshSession(std::unique_ptr<Handle> handle, std::string target, SessionOptions options,
                       std::vector<std::string> ignored_options)
    : handle_(std::move(handle)),
      target_(std::move(target)),
      options_(std::move(options)),
      ignored_options_(std::move(ignored_options)),
      last_activity_(std::chrono::steady_clock::now()) {}

SshSession::~SshSession() = default;

bool SshSession::connected() const {
  ssh_session s = handle_->session;
  return !unresponsive_ && ssh_is_connected(s) != 0 &&
         (ssh_get_status(s) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0;
}

void SshSession::mark_activity() { last_activity_ = std::chrono::steady_clock::now(); }

bool SshSession::send_keepalive() {
  // keepalive@openssh.com with want_reply: the server must answer (with a
  // failure). ssh_send_keepalive waits for that answer up to the session
  // timeout but does not say whether it came; having waited the whole
  // timeout means it did not, and a peer that cannot answer within
  // connect_timeout is treated as gone.
  const auto start = std::chrono::steady_clock::now();
  ssh_send_keepalive(handle_->session);
  if (std::chrono::steady_clock::now() - start >= options_.connect_timeout) unresponsive_ = true;
  mark_activity();
  return connected();
}

void SshSession::drop() {
  unresponsive_ = true;
  if (ssh_is_connected(handle_->session) != 0) ssh_silent_disconnect(handle_->session);
}

bool SshSession::alive() {
  if (connected()) send_keepalive();
  if (connected()) return true;
  drop();  // no channel is open between commands
  return false;
}

void SshSession::keepalive() {
  if (!connected()) return;
  if (std::chrono::steady_clock::now() - last_activity_ >= options_.keepalive) send_keepalive();
}

}  // namespace haul::remote
