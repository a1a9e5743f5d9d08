#include "remote/ssh_command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

namespace haul::remote {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

SshTarget must_parse(std::string_view text) {
  auto target = parse_ssh_command(text);
  EXPECT_TRUE(target.has_value()) << text << ": " << (target ? "" : target.error().message);
  return target ? *target : SshTarget{};
}

std::string error_of(std::string_view text) {
  auto target = parse_ssh_command(text);
  EXPECT_FALSE(target.has_value()) << text << " parsed as " << (target ? target->display() : "");
  if (target) return "";
  EXPECT_EQ(target.error().code, ErrorCode::kInvalidArgument) << text;
  return target.error().message;
}

// ---- what consoles print ----------------------------------------------------------------

TEST(ParseSshCommand, ReadsTheSeedsVastCommand) {
  SshTarget target = must_parse("ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080");
  EXPECT_EQ(target.user, "root");
  EXPECT_EQ(target.host, "109.231.106.68");
  EXPECT_EQ(target.port, 44686);
  EXPECT_THAT(target.forwards, ElementsAre("-L 8080:localhost:8080"));
  EXPECT_THAT(target.identity_files, IsEmpty());
  EXPECT_THAT(target.jump_hosts, IsEmpty());
  EXPECT_THAT(target.options, IsEmpty());
  EXPECT_THAT(target.kept_args, IsEmpty());
  EXPECT_EQ(target.original, "ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080");
  EXPECT_EQ(target.display(), "root@109.231.106.68:44686");
}

TEST(ParseSshCommand, OptionsAfterTheDestinationCount) {
  SshTarget target = must_parse("ssh root@213.173.108.12 -p 17445 -i ~/.ssh/id_ed25519");
  EXPECT_EQ(target.display(), "root@213.173.108.12:17445");
  EXPECT_THAT(target.identity_files, ElementsAre("~/.ssh/id_ed25519"))
      << "~ is left for the caller";
}

TEST(ParseSshCommand, AcceptsABareDestinationAndDefaultsThePort) {
  SshTarget target = must_parse("ubuntu@ec2-3-91-10-5.compute-1.amazonaws.com");
  EXPECT_EQ(target.user, "ubuntu");
  EXPECT_EQ(target.host, "ec2-3-91-10-5.compute-1.amazonaws.com");
  EXPECT_EQ(target.port, 22);
  EXPECT_EQ(must_parse("gpu-box").display(), "gpu-box:22")
      << "no user: the caller's default applies";
  EXPECT_EQ(must_parse("-p 2222 root@h").display(), "root@h:2222");
  EXPECT_EQ(must_parse("  /usr/bin/ssh root@h\n").display(), "root@h:22");
}

TEST(ParseSshCommand, AttachedAndClusteredOptionValues) {
  SshTarget target = must_parse("ssh -p2222 -tt -Ci/k/id -oStrictHostKeyChecking=no root@h");
  EXPECT_EQ(target.port, 2222);
  EXPECT_THAT(target.kept_args, ElementsAre("-t", "-t", "-C"));
  EXPECT_THAT(target.identity_files, ElementsAre("/k/id"));
  EXPECT_THAT(target.options, ElementsAre(Pair("StrictHostKeyChecking", "no")));
}

TEST(ParseSshCommand, ReadsIdentityFilesJumpHostsAndOptions) {
  SshTarget target = must_parse(
      "ssh -i ~/.ssh/key -i \"/keys/my key\" -J user@bastion:22,jump2 -J ops@edge "
      "-o StrictHostKeyChecking=no -o \"UserKnownHostsFile /dev/null\" -o 'ServerAliveInterval = "
      "30' "
      "-o 'ProxyCommand=\"ssh -W %h:%p b\"' root@10.0.0.5");
  EXPECT_THAT(target.identity_files, ElementsAre("~/.ssh/key", "/keys/my key"));
  EXPECT_THAT(target.jump_hosts, ElementsAre("user@bastion:22", "jump2", "ops@edge"));
  EXPECT_THAT(
      target.options,
      ElementsAre(Pair("StrictHostKeyChecking", "no"), Pair("UserKnownHostsFile", "/dev/null"),
                  Pair("ServerAliveInterval", "30"), Pair("ProxyCommand", "ssh -W %h:%p b")));
}

TEST(ParseSshCommand, KeepsForwardsAndUnusedOptionsInOrder) {
  SshTarget target = must_parse(
      "ssh -A -L 8188:localhost:8188 -R 9000:localhost:9000 -D 1080 -F /etc/ssh/alt_config -v "
      "-E /tmp/ssh.log -c aes256-gcm@openssh.com -N root@h -W host:80 -B eth0");
  EXPECT_THAT(target.forwards,
              ElementsAre("-L 8188:localhost:8188", "-R 9000:localhost:9000", "-D 1080"));
  EXPECT_THAT(target.kept_args,
              ElementsAre("-A", "-F", "/etc/ssh/alt_config", "-v", "-E", "/tmp/ssh.log", "-c",
                          "aes256-gcm@openssh.com", "-N", "-W", "host:80", "-B", "eth0"));
}

TEST(ParseSshCommand, AcceptsEveryFlagOfSshOne) {
  SshTarget target = must_parse("ssh -46AaCfGgKkMNnqsTtVvXxYy h");
  EXPECT_EQ(target.kept_args.size(), 23u);
  EXPECT_EQ(target.kept_args.front(), "-4");
  EXPECT_EQ(target.kept_args.back(), "-y");
}

// ---- users, ports, hosts ------------------------------------------------------------------

TEST(ParseSshCommand, SshUriDestinations) {
  SshTarget target = must_parse("ssh ssh://root@203.0.113.7:2222");
  EXPECT_EQ(target.display(), "root@203.0.113.7:2222");
  EXPECT_EQ(must_parse("ssh://h").display(), "h:22");
  EXPECT_EQ(must_parse("ssh://h/").display(), "h:22");
  EXPECT_EQ(must_parse("SSH://me%40corp@h:23").user, "me@corp") << "the user is %-decoded";
  SshTarget v6 = must_parse("ssh://root@[2001:db8::1]:2222");
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.port, 2222);
  EXPECT_EQ(v6.display(), "root@[2001:db8::1]:2222");
}

TEST(ParseSshCommand, Ipv6Destinations) {
  EXPECT_EQ(must_parse("ssh root@[::1]").host, "::1");
  EXPECT_EQ(must_parse("ssh -p 2200 root@fe80::1%eth0").display(), "root@[fe80::1%eth0]:2200");
  EXPECT_EQ(must_parse("ssh [::1]").display(), "[::1]:22");
}

TEST(ParseSshCommand, FirstUserAndFirstPortWinAsInSsh) {
  EXPECT_EQ(must_parse("ssh -l admin root@h").user, "admin");
  EXPECT_EQ(must_parse("ssh root@h -l admin").user, "root");
  EXPECT_EQ(must_parse("ssh -l admin h").user, "admin");
  EXPECT_EQ(must_parse("ssh -p 2000 -p 3000 h").port, 2000);
  EXPECT_EQ(must_parse("ssh -p 2000 ssh://h:3000").port, 2000);
  EXPECT_EQ(must_parse("ssh ssh://h:3000 -p 2000").port, 3000);
  SshTarget target = must_parse("ssh -o Port=2022 -o User=deploy -p 2000 h");
  EXPECT_EQ(target.port, 2022);
  EXPECT_EQ(target.user, "deploy");
  EXPECT_THAT(target.options, ElementsAre(Pair("Port", "2022"), Pair("User", "deploy")))
      << "applied options are kept too";
}

TEST(ParseSshCommand, HostNameOptionReplacesTheHost) {
  SshTarget target = must_parse("ssh -o HostName=%h.internal.example -o hostname=ignored box7");
  EXPECT_EQ(target.host, "box7.internal.example");
}

TEST(ParseSshCommand, AUserMayContainAnAt) {
  SshTarget target = must_parse("ssh alice@example.com@bastion.example.com");
  EXPECT_EQ(target.user, "alice@example.com");
  EXPECT_EQ(target.host, "bastion.example.com");
}

// ---- quoting ------------------------------------------------------------------------------

TEST(ParseSshCommand, ShellQuotingAndComments) {
  SshTarget target = must_parse(
      "ssh -i '/keys/it'\\''s key' -i \"/k/\\\"q\\\"\" -i /k/a\\ b \\\n"
      "  'root'@\"h\"  # my 4090 box");
  EXPECT_THAT(target.identity_files, ElementsAre("/keys/it's key", "/k/\"q\"", "/k/a b"));
  EXPECT_EQ(target.display(), "root@h:22");
}

TEST(ParseSshCommand, OptionsEndAtDoubleDash) {
  SshTarget target = must_parse("ssh -p 22 -- root@h");
  EXPECT_EQ(target.display(), "root@h:22");
  EXPECT_EQ(error_of("ssh -- root@h -p 22"),
            "the SSH command must not include a remote command: '-p 22'");
}

// ---- errors -------------------------------------------------------------------------------

TEST(ParseSshCommand, RejectsARemoteCommand) {
  EXPECT_EQ(error_of("ssh -p 44686 root@109.231.106.68 nvidia-smi -L"),
            "the SSH command must not include a remote command: 'nvidia-smi -L'");
  EXPECT_EQ(error_of("ssh root@h 'ls -la /workspace'"),
            "the SSH command must not include a remote command: 'ls -la /workspace'");
}

TEST(ParseSshCommand, RejectsMissingOrEmptyInput) {
  EXPECT_EQ(error_of(""), "the SSH command is empty");
  EXPECT_EQ(error_of("   # only a comment"), "the SSH command is empty");
  EXPECT_EQ(
      error_of("ssh -p 44686 -L 8080:localhost:8080"),
      "the SSH command has no destination: add user@host, as in 'ssh -p 22 root@203.0.113.7'");
  EXPECT_EQ(error_of("ssh"), error_of("ssh -A"));
}

TEST(ParseSshCommand, RejectsBadPorts) {
  for (const char* text :
       {"ssh -p 0 h", "ssh -p 65536 h", "ssh -p abc h", "ssh -p -1 h", "ssh -p 99999999 h",
        "ssh ssh://h:", "ssh ssh://h:x", "ssh -o Port=70000 h"}) {
    EXPECT_THAT(error_of(text), ::testing::StartsWith("bad SSH port '")) << text;
  }
  EXPECT_EQ(error_of("ssh -p 8o h"), "bad SSH port '8o': it must be a number from 1 to 65535");
  EXPECT_EQ(must_parse("ssh -p 65535 h").port, 65535);
  EXPECT_EQ(must_parse("ssh -p 1 h").port, 1);
}

TEST(ParseSshCommand, RejectsUnknownOptionsAndMissingValues) {
  EXPECT_EQ(error_of("ssh -Z root@h"), "unknown ssh option '-Z' in the SSH command");
  EXPECT_EQ(error_of("ssh -tZ root@h"), "unknown ssh option '-Z' in the SSH command");
  EXPECT_EQ(error_of("ssh root@h -p"), "ssh option '-p' needs a value");
  EXPECT_EQ(error_of("ssh -o StrictHostKeyChecking root@h"),
            "bad SSH option '-o StrictHostKeyChecking': write it as -o Key=Value");
  EXPECT_EQ(error_of("ssh -o =no root@h"), "bad SSH option '-o =no': write it as -o Key=Value");
  EXPECT_EQ(error_of("ssh -J a,,b root@h"),
            "bad jump host list '-J a,,b': a host is missing between commas");
}

TEST(ParseSshCommand, RejectsBadDestinations) {
  EXPECT_EQ(error_of("ssh @h"), "missing user before '@' in SSH destination '@h'");
  EXPECT_EQ(error_of("ssh root@"), "missing host in SSH destination 'root@'");
  EXPECT_EQ(
      error_of("ssh root@1.2.3.4:22"),
      "'root@1.2.3.4:22' is not an SSH destination: write the port as 'ssh -p PORT user@host' or "
      "'ssh://user@host:PORT'");
  EXPECT_THAT(error_of("ssh root@[::1]:22"), ::testing::HasSubstr("is not an SSH destination"));
  EXPECT_EQ(error_of("ssh root@[::1"), "unclosed '[' in SSH destination 'root@[::1'");
  EXPECT_EQ(error_of("ssh 'root@h$(reboot)'"),
            "invalid host 'h$(reboot)' in SSH destination 'root@h$(reboot)'");
  EXPECT_EQ(error_of("ssh -- -oProxyCommand=x"),
            "invalid host '-oProxyCommand=x': it starts with '-'");
  EXPECT_EQ(
      error_of("ssh ssh://root@h/path"),
      "SSH destination 'ssh://root@h/path' has a path; ssh:// takes only user, host and port");
}

TEST(ParseSshCommand, RejectsShellSyntax) {
  EXPECT_EQ(error_of("ssh root@h; rm -rf /"),
            "the SSH command contains ';': paste only the ssh command itself, without other "
            "commands, pipes "
            "or redirections");
  for (const char* text : {"ssh root@h | tee x", "ssh root@h && ls", "ssh root@h > log",
                           "ssh `id`@h", "ssh $(id)@h"}) {
    EXPECT_THAT(error_of(text), ::testing::StartsWith("the SSH command contains '")) << text;
  }
  EXPECT_EQ(must_parse("ssh -o 'LocalCommand=echo a;b' h").options.front().second, "echo a;b")
      << "quoted operators are data";
}

TEST(ParseSshCommand, RejectsUnbalancedQuotes) {
  EXPECT_EQ(error_of("ssh -i 'my key root@h"), "the SSH command has an unclosed single quote (')");
  EXPECT_EQ(error_of("ssh -i \"my key root@h"),
            "the SSH command has an unclosed double quote (\")");
  EXPECT_EQ(error_of("ssh root@h \\"), "the SSH command ends with a lone backslash");
}

// ---- split_shell_words ----------------------------------------------------------------------

TEST(SplitShellWords, FollowsShQuoting) {
  auto words = split_shell_words(R"(a 'b c' "d \$e \q" f\ g '' "" h#i)");
  ASSERT_TRUE(words.has_value()) << words.error().message;
  EXPECT_THAT(*words, ElementsAre("a", "b c", "d $e \\q", "f g", "", "", "h#i"));
}

// ---- shell_quote ----------------------------------------------------------------------------

TEST(JumpProxyCommand, OneHopForwardsToTheTarget) {
  JumpSettings settings;
  settings.identity_files = {"/keys/my key"};
  settings.known_hosts = "/data/known_hosts";
  auto command = jump_proxy_command({"ops@bastion:2222"}, settings);
  ASSERT_TRUE(command) << command.error().message;
  EXPECT_EQ(*command,
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=15 "
            "-o UserKnownHostsFile=/data/known_hosts -i '/keys/my key' "
            "-l ops -p 2222 -W '[%h]:%p' bastion");
}

TEST(JumpProxyCommand, EachHopIsReachedThroughThePreviousOneWithTheSameSettings) {
  JumpSettings settings;
  settings.strict_host_keys = true;
  settings.read_ssh_config = false;
  auto command = jump_proxy_command({"a", "ssh://u@[::1]:2200"}, settings);
  ASSERT_TRUE(command) << command.error().message;
  const std::string options =
      "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=15 -F none";
  const std::string first = options + " -p 22 -W '[::1]:2200' a";
  EXPECT_EQ(*command, options + " -o " + shell_quote("ProxyCommand=" + first) +
                          " -l u -p 2200 -W '[%h]:%p' ::1");
  EXPECT_EQ(command->find('%'), command->rfind("[%h]:%p") + 1) << "only the target's %h and %p";
}

TEST(JumpProxyCommand, RefusesAHopThatIsNoHost) {
  auto command = jump_proxy_command({"ok", "b;touch x"}, JumpSettings{});
  ASSERT_FALSE(command);
  EXPECT_NE(command.error().message.find("bad jump host 'b;touch x'"), std::string::npos)
      << command.error().message;
}

TEST(ShellQuote, LeavesSafeWordsAlone) {
  EXPECT_EQ(shell_quote("models/loras/wan21_fusionx.safetensors"),
            "models/loras/wan21_fusionx.safetensors");
  EXPECT_EQ(shell_quote("user@host:22,a=b+c%d-e"), "user@host:22,a=b+c%d-e");
}

TEST(ShellQuote, QuotesEverythingElse) {
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("/workspace/Comfy UI"), "'/workspace/Comfy UI'");
  EXPECT_EQ(shell_quote("$(reboot)"), "'$(reboot)'");
  EXPECT_EQ(shell_quote("a;b"), "'a;b'");
  EXPECT_EQ(shell_quote("`id`"), "'`id`'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("~/x"), "'~/x'") << "no tilde expansion either";
  EXPECT_EQ(shell_quote("a\nb"), "'a\nb'");
}

// The quoted word, run through a real sh, must come back byte for byte.
TEST(ShellQuote, RoundTripsThroughSh) {
  for (const std::string& value :
       {std::string("plain"), std::string("$(touch /tmp/haul_pwned) ; `id` && echo $HOME"),
        std::string(R"(it's a 'quote' "and" \ backslash)"), std::string("line1\nline2\n"),
        std::string("tab\there *glob* ?[x] {a,b} ~user !bang #hash"),
        std::string("\x01\x7f\xc3\xa9\xff"), std::string("'"), std::string("''"),
        std::string("-n")}) {
    const std::string command = "printf '%s' " + shell_quote(value);
    FILE* pipe = ::popen(("/bin/sh -c " + shell_quote(command)).c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buffer[256];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << value;
    EXPECT_EQ(out, value);
  }
}

// Found by the ssh_command fuzz target: each hop's ProxyCommand quotes the
// previous one, so the command tripled per hop and "-J" with 20 hops asked
// for gigabytes. The hops are now capped.
TEST(ParseSshCommand, RefusesMoreJumpHostsThanTheCap) {
  std::string hops = "a";
  for (std::size_t i = 1; i < kMaxJumpHosts; ++i) hops += ",a";
  EXPECT_EQ(must_parse("ssh -J " + hops + " h").jump_hosts.size(), kMaxJumpHosts);
  EXPECT_EQ(error_of("ssh -J " + hops + " -J b h"),
            "too many jump hosts (-J): at most 8 are allowed");
  EXPECT_EQ(error_of("ssh -J " + hops + ",b h"), "too many jump hosts (-J): at most 8 are allowed");
  const std::vector<std::string> nine(kMaxJumpHosts + 1, "a");
  EXPECT_FALSE(jump_proxy_command(nine, JumpSettings{}).has_value());
  auto eight = jump_proxy_command(std::vector<std::string>(kMaxJumpHosts, "a"), JumpSettings{});
  ASSERT_TRUE(eight.has_value());
  EXPECT_LT(eight->size(), std::size_t{64} * 1024);
}

}  // namespace
}  // namespace haul::remote
