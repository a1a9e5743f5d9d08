#include "remote/ssh_command.hpp"

#include <cctype>

#include "base/text.hpp"

namespace haul::remote {

namespace {

// ssh(1) of OpenSSH 9.x: the option letters that take a value, and those that
// do not. Anything else is refused, like ssh itself refuses it.
constexpr std::string_view kOptionsWithValue = "BbcDEeFIiJLlmOoPpQRSWw";
constexpr std::string_view kFlags = "46AaCfGgKkMNnqsTtVvXxYy";

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// The first values win, as in ssh(1): it ignores later -l/-p/-o User/-o Port.
struct Parsed {
  SshTarget target;
  bool user_set = false;
  bool port_set = false;
  bool hostname_set = false;
  std::string hostname;  // -o HostName
};

Result<int> parse_port(std::string_view text) {
  const std::string shown(text);
  if (text.empty() || text.size() > 5 ||
      text.find_first_not_of("0123456789") != std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument,
                "bad SSH port '" + shown + "': it must be a number from 1 to 65535");
  }
  const int port = std::stoi(shown);
  if (port < 1 || port > 65535) {
    return fail(ErrorCode::kInvalidArgument,
                "bad SSH port '" + shown + "': it must be a number from 1 to 65535");
  }
  return port;
}

Result<void> set_port(Parsed& parsed, std::string_view text) {
  auto port = parse_port(text);
  if (!port) return fail(port.error());
  if (!parsed.port_set) {
    parsed.target.port = *port;
    parsed.port_set = true;
  }
  return {};
}

void set_user(Parsed& parsed, std::string user) {
  if (parsed.user_set) return;
  parsed.target.user = std::move(user);
  parsed.user_set = true;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_' ||
         c == ':' || c == '%';
}

Result<void> check_host(std::string_view host, std::string_view destination) {
  if (host.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "missing host in SSH destination '" + std::string(destination) + "'");
  }
  if (host.front() == '-') {  // it would read as an option wherever it is passed on
    return fail(ErrorCode::kInvalidArgument,
                "invalid host '" + std::string(host) + "': it starts with '-'");
  }
  for (const char c : host) {
    if (!is_host_char(c)) {
      return fail(ErrorCode::kInvalidArgument, "invalid host '" + std::string(host) +
                                                   "' in SSH destination '" +
                                                   std::string(destination) + "'");
    }
  }
  return {};
}

Result<void> check_user(std::string_view user, std::string_view destination) {
  if (user.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "missing user before '@' in SSH destination '" + std::string(destination) + "'");
  }
  for (const char c : user) {
    if (static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == 0x7f) {
      return fail(ErrorCode::kInvalidArgument,
                  "invalid user in SSH destination '" + std::string(destination) + "'");
    }
  }
  return {};
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// ssh://[user@]host[:port], host possibly [v6]; ssh(1) allows no path.
Result<void> parse_uri_destination(Parsed& parsed, std::string_view word) {
  std::string_view rest = word.substr(6);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument,
                "SSH destination '" + std::string(word) +
                    "' has a path; ssh:// takes only user, host and port");
  }
  const std::size_t at = rest.rfind('@');
  std::string_view hostport = rest;
  if (at != std::string_view::npos) {
    const std::string user = percent_decode(rest.substr(0, at));
    if (auto ok = check_user(user, word); !ok) return ok;
    set_user(parsed, user);
    hostport = rest.substr(at + 1);
  }
  std::string_view host = hostport;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return fail(ErrorCode::kInvalidArgument,
                  "unclosed '[' in SSH destination '" + std::string(word) + "'");
    }
    host = hostport.substr(1, close - 1);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return fail(ErrorCode::kInvalidArgument,
                    "unexpected text after ']' in SSH destination '" + std::string(word) + "'");
      }
      port = after.substr(1);
      has_port = true;
    }
  } else if (const std::size_t colon = hostport.find(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    has_port = true;
  }
  if (auto ok = check_host(host, word); !ok) return ok;
  parsed.target.host = std::string(host);
  if (has_port) return set_port(parsed, port);
  return {};
}

Result<void> parse_destination(Parsed& parsed, std::string_view word) {
  if (word.size() >= 6 && iequals(word.substr(0, 6), "ssh://"))
    return parse_uri_destination(parsed, word);
  const std::size_t at = word.rfind('@');  // a user may itself contain '@', as in ssh(1)
  std::string_view host = word;
  if (at != std::string_view::npos) {
    if (auto ok = check_user(word.substr(0, at), word); !ok) return ok;
    set_user(parsed, std::string(word.substr(0, at)));
    host = word.substr(at + 1);
  }
  const std::string not_ssh =
      "'" + std::string(word) +
      "' is not an SSH destination: write the port as 'ssh -p PORT user@host' "
      "or 'ssh://user@host:PORT'";
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') {
      if (host.find("]:") != std::string_view::npos)
        return fail(ErrorCode::kInvalidArgument, not_ssh);
      return fail(ErrorCode::kInvalidArgument,
                  "unclosed '[' in SSH destination '" + std::string(word) + "'");
    }
    host = host.substr(1, host.size() - 2);
  } else if (const std::size_t colon = host.find(':');
             colon != std::string_view::npos &&
             host.find(':', colon + 1) == std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument, not_ssh);  // host:port (or scp's host:path)
  }
  if (auto ok = check_host(host, word); !ok) return ok;
  parsed.target.host = std::string(host);
  return {};
}

// -o "Key=Value", "Key Value" or "Key = Value", as ssh_config lines are read.
Result<void> apply_config_option(Parsed& parsed, std::string_view text) {
  const std::string_view option = trim(text);
  std::size_t key_end = 0;
  while (key_end < option.size() && std::isalnum(static_cast<unsigned char>(option[key_end])) != 0)
    ++key_end;
  const std::string_view key = option.substr(0, key_end);
  std::string_view value = option.substr(key_end);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  const bool separated =
      key_end < option.size() &&
      (option[key_end] == ' ' || option[key_end] == '\t' || option[key_end] == '=');
  if (!value.empty() && value.front() == '=') value.remove_prefix(1);
  value = trim(value);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  if (key.empty() || !separated || value.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "bad SSH option '-o " + std::string(text) + "': write it as -o Key=Value");
  }
  parsed.target.options.emplace_back(std::string(key), std::string(value));
  if (iequals(key, "Port")) return set_port(parsed, value);
  if (iequals(key, "User")) set_user(parsed, std::string(value));
  if (iequals(key, "HostName") && !parsed.hostname_set) {
    parsed.hostname = std::string(value);
    parsed.hostname_set = true;
  }
  return {};
}

Result<void> apply_option(Parsed& parsed, char letter, const std::string& value) {
  const std::string flag = std::string("-") + letter;
  SshTarget& target = parsed.target;
  switch (letter) {
    case 'p':
      return set_port(parsed, value);
    case 'l':
      if (value.empty())
        return fail(ErrorCode::kInvalidArgument, "ssh option '-l' needs a user name");
      set_user(parsed, value);
      return {};
    case 'i':
      if (value.empty())
        return fail(ErrorCode::kInvalidArgument, "ssh option '-i' needs a key file");
      target.identity_files.push_back(value);
      return {};
    case 'J': {
      std::size_t pos = 0;
      while (pos <= value.size()) {
        std::size_t end = value.find(',', pos);
        if (end == std::string::npos) end = value.size();
        const std::string hop = value.substr(pos, end - pos);
        if (trim(hop).empty()) {
          return fail(ErrorCode::kInvalidArgument,
                      "bad jump host list '-J " + value + "': a host is missing between commas");
        }
        target.jump_hosts.push_back(hop);
        pos = end + 1;
      }
      if (target.jump_hosts.size() > kMaxJumpHosts) {
        return fail(
            ErrorCode::kInvalidArgument,
            "too many jump hosts (-J): at most " + std::to_string(kMaxJumpHosts) + " are allowed");
      }
      return {};
    }
    case 'o':
      return apply_config_option(parsed, value);
    case 'L':
    case 'R':
    case 'D':
      target.forwards.push_back(flag + " " + value);
      return {};
    default:
      target.kept_args.push_back(flag);
      target.kept_args.push_back(value);
      return {};
  }
}

std::string join_words(const std::vector<std::string>& words, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i) {
    if (i > from) out += ' ';
    out += words[i];
  }
  return out;
}

}  // namespace

std::string SshTarget::display() const {
  std::string out;
  if (!user.empty()) out += user + "@";
  out += host.find(':') == std::string::npos ? host : "[" + host + "]";
  out += ":" + std::to_string(port);
  return out;
}

Result<std::vector<std::string>> split_shell_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '#' && !in_word) {
      const std::size_t end = text.find('\n', i);
      if (end == std::string_view::npos) break;
      i = end;  // a comment runs to the end of its line
    } else if (c == '\\') {
      if (i + 1 == text.size()) return fail(invalid("ends with a lone backslash"));
      if (text[i + 1] == '\n') {
        ++i;  // backslash-newline: the line continues
      } else if (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n') {
        i += 2;
      } else {
        word += text[++i];
        in_word = true;
      }
    } else if (c == '\'') {
      const std::size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) return fail(invalid("has an unclosed single quote (')"));
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size()) {
          const char next = text[j + 1];
          if (next == '$' || next == '`' || next == '"' || next == '\\') {
            word += next;
            ++j;
            continue;
          }
          if (next == '\n') {
            ++j;
            continue;
          }
        }
        word += text[j];
      }
      if (j >= text.size()) return fail(invalid("has an unclosed double quote (\")"));
      in_word = true;
      i = j;
    } else if (std::string_view(";&|<>()`").find(c) != std::string_view::npos) {
      return fail(invalid(std::string("contains '") + c +
                          "': paste only the ssh command itself, without other commands, pipes or "
                          "redirections"));
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<SshTarget> parse_ssh_command(std::string_view text) {
  Parsed parsed;
  parsed.target.original = std::string(trim(text));
  auto split = split_shell_words(text);
  if (!split) return fail(ErrorCode::kInvalidArgument, "the SSH command " + split.error().message);
  const std::vector<std::string>& words = *split;
  if (words.empty()) return fail(ErrorCode::kInvalidArgument, "the SSH command is empty");

  std::size_t i = 0;
  const std::string& program = words[0];
  if (program == "ssh" || (program.size() > 4 && program.substr(program.size() - 4) == "/ssh"))
    i = 1;

  bool options_done = false;
  bool have_destination = false;
  while (i < words.size()) {
    const std::string& word = words[i];
    if (!options_done && word == "--") {
      options_done = true;
      ++i;
      continue;
    }
    if (!options_done && word.size() > 1 && word.front() == '-') {
      // One argv word may hold several flags (-tt) and end with a value (-p2222).
      for (std::size_t j = 1; j < word.size(); ++j) {
        const char letter = word[j];
        if (kFlags.find(letter) != std::string_view::npos) {
          parsed.target.kept_args.push_back(std::string("-") + letter);
          continue;
        }
        if (kOptionsWithValue.find(letter) == std::string_view::npos) {
          return fail(ErrorCode::kInvalidArgument,
                      std::string("unknown ssh option '-") + letter + "' in the SSH command");
        }
        std::string value;
        if (j + 1 < word.size()) {
          value = word.substr(j + 1);
        } else if (i + 1 < words.size()) {
          value = words[++i];
        } else {
          return fail(ErrorCode::kInvalidArgument,
                      std::string("ssh option '-") + letter + "' needs a value");
        }
        if (auto ok = apply_option(parsed, letter, value); !ok) return fail(ok.error());
        break;
      }
      ++i;
      continue;
    }
    if (have_destination) {
      return fail(
          ErrorCode::kInvalidArgument,
          "the SSH command must not include a remote command: '" + join_words(words, i) + "'");
    }
    if (auto ok = parse_destination(parsed, word); !ok) return fail(ok.error());
    have_destination = true;
    ++i;
  }
  if (!have_destination) {
    return fail(
        ErrorCode::kInvalidArgument,
        "the SSH command has no destination: add user@host, as in 'ssh -p 22 root@203.0.113.7'");
  }

  SshTarget& target = parsed.target;
  if (parsed.hostname_set) {
    std::string host;
    for (std::size_t k = 0; k < parsed.hostname.size(); ++k) {
      if (parsed.hostname[k] == '%' && k + 1 < parsed.hostname.size()) {
        const char token = parsed.hostname[++k];
        if (token == 'h') {
          host += target.host;
        } else if (token == '%') {
          host += '%';
        } else {
          host += '%';
          host += token;
        }
      } else {
        host += parsed.hostname[k];
      }
    }
    if (auto ok = check_host(host, "-o HostName=" + parsed.hostname); !ok) return fail(ok.error());
    target.host = host;
  }
  return std::move(parsed.target);
}

std::string shell_quote(std::string_view value) {
  if (!value.empty() &&
      value.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789_@%+=:,./-") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') {
      out += "'\\''";  // close the quote, an escaped quote, reopen
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

namespace {

// A hop as ssh -J writes it ([user@]host[:port] or ssh://...) as an ssh URI,
// checked by the command parser.
Result<SshTarget> parse_hop(const std::string& hop) {
  const std::string uri = hop.starts_with("ssh://") ? hop : "ssh://" + hop;
  auto target = parse_ssh_command("ssh " + shell_quote(uri));
  if (!target)
    return fail(ErrorCode::kInvalidArgument,
                "bad jump host '" + hop + "': " + target.error().message);
  return target;
}

std::string host_port(const SshTarget& target) {
  return "[" + target.host + "]:" + std::to_string(target.port);
}

}  // namespace

Result<std::string> jump_proxy_command(const std::vector<std::string>& jump_hosts,
                                       const JumpSettings& settings) {
  std::string common = "ssh -o BatchMode=yes -o StrictHostKeyChecking=";
  common += settings.strict_host_keys ? "yes" : "accept-new";
  common += " -o ConnectTimeout=" + std::to_string(settings.connect_timeout_seconds);
  if (!settings.read_ssh_config) common += " -F none";
  if (!settings.known_hosts.empty())
    common += " -o " + shell_quote("UserKnownHostsFile=" + settings.known_hosts);
  for (const std::string& file : settings.identity_files) common += " -i " + shell_quote(file);

  if (jump_hosts.size() > kMaxJumpHosts) {
    return fail(ErrorCode::kInvalidArgument,
                "too many jump hosts: at most " + std::to_string(kMaxJumpHosts) + " are allowed");
  }
  std::vector<SshTarget> hops;
  for (const std::string& hop : jump_hosts) {
    auto target = parse_hop(hop);
    if (!target) return fail(target.error());
    hops.push_back(std::move(*target));
  }
  // Hop k is reached through the command that reaches hop k-1; the last one
  // forwards to the target, whose %h and %p only libssh expands (the inner
  // commands name their next hop outright, so they hold no '%').
  std::string proxy;
  for (std::size_t k = 0; k < hops.size(); ++k) {
    const std::string next =
        k + 1 < hops.size() ? shell_quote(host_port(hops[k + 1])) : "'[%h]:%p'";
    std::string command = common;
    if (!proxy.empty()) command += " -o " + shell_quote("ProxyCommand=" + proxy);
    const SshTarget& hop = hops[k];
    if (!hop.user.empty()) command += " -l " + shell_quote(hop.user);
    command += " -p " + std::to_string(hop.port) + " -W " + next + " " + shell_quote(hop.host);
    proxy = std::move(command);
  }
  return proxy;
}

}  // namespace haul::remote
