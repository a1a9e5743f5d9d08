#include "cli/completion.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/completion_model.hpp"
#include "support/shell_completion.hpp"

namespace haul::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// A small command line shaped like haul's: nested subcommands, short and
// long names, flags, a repeatable option, listed values, an alias, a hidden
// option and positionals.
class CompletionTest : public ::testing::Test {
 protected:
  CompletionTest() : app_("test app") {
    app_.set_version_flag("-V,--version", "1");
    CLI::App* get = app_.add_subcommand("get", "Download files [now]");
    get->add_option("sources", strings_, "What to download")->required();
    get->add_option("-d,--dir", text_, "Directory for the 'files': here");
    get->add_flag("--json", flag_, "JSON lines");
    get->add_option("-x,--connections", number_, "Connections per file");
    get->add_option("--secret", text_, "Not for users")->group("");
    CLI::App* serve = app_.add_subcommand("serve", "Run the daemon");
    serve->add_option("--models-root", strings_, "Where downloads go (repeatable)");
    CLI::App* jobs = app_.add_subcommand("jobs", "List jobs");
    jobs->add_option("--format", text_, "table, json or simple")
        ->check(CLI::IsMember({"table", "json", "simple"}));
    CLI::App* instances = app_.add_subcommand("instances", "Remote instances");
    instances->add_option("--server", text_, "Daemon URL");
    CLI::App* add = instances->add_subcommand("add", "Register an instance")->alias("new");
    add->add_option("name", text_, "A name");
    add->add_option("--ui-home", text_, "ComfyUI folder");
    instances->add_subcommand("rm", "Forget an instance");
    CLI::App* worker = app_.add_subcommand("worker", "Background daemon");
    worker->add_subcommand("start", "Start it");
    worker->add_subcommand("stop", "Stop it")->add_flag("--force", flag_, "Kill it");
    completion_ = std::make_unique<CompletionCommand>(app_);
    std::string pattern = (fs::temp_directory_path() / "haul-completion-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }

  std::string script(Shell shell) const { return completion_script(app_, shell, "haul"); }

  // The script in a file for a real shell; removed with the test.
  fs::path script_file(Shell shell) {
    const fs::path path = dir_ / (shell == Shell::kBash ? "haul.bash" : "_haul");
    std::ofstream(path) << script(shell);
    return path;
  }
  ~CompletionTest() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  CLI::App app_;
  std::unique_ptr<CompletionCommand> completion_;
  std::vector<std::string> strings_;
  std::string text_;
  bool flag_ = false;
  int number_ = 0;
  fs::path dir_;
};

TEST(CompletionShellTest, ParsesTheSupportedShells) {
  EXPECT_EQ(parse_shell("bash"), Shell::kBash);
  EXPECT_EQ(parse_shell("zsh"), Shell::kZsh);
  auto fish = parse_shell("fish");
  ASSERT_FALSE(fish);
  EXPECT_EQ(fish.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(fish.error().message, HasSubstr("bash or zsh"));
}

TEST(CompletionModelTest, ReadsTheValuesCli11ListsInATypeName) {
  using completion::choices_in_type_name;
  EXPECT_THAT(choices_in_type_name("TEXT:{table,json,simple}"),
              ElementsAre("table", "json", "simple"));
  EXPECT_THAT(choices_in_type_name("TEXT:{low->1,high->2}"), ElementsAre("low", "high"));
  EXPECT_THAT(choices_in_type_name("INT in [1 - 64]"), ElementsAre());
  EXPECT_THAT(choices_in_type_name("TEXT"), ElementsAre());
}

TEST_F(CompletionTest, DescribesEveryCommandWithItsOptions) {
  const auto commands = completion::describe_commands(app_, "haul");
  std::vector<std::string> paths;
  for (const auto& command : commands) paths.push_back(completion::join(command.path, " "));
  EXPECT_THAT(paths, ElementsAre("haul", "haul get", "haul serve", "haul jobs", "haul instances",
                                 "haul instances add", "haul instances rm", "haul worker",
                                 "haul worker start", "haul worker stop", "haul completion"));
  const auto& get = commands[1];
  EXPECT_TRUE(get.takes_arguments);
  std::vector<std::string> names;
  for (const auto& option : get.options) {
    names.insert(names.end(), option.names.begin(), option.names.end());
  }
  // --secret is hidden.
  EXPECT_THAT(names, ElementsAre("-h", "--help", "-d", "--dir", "--json", "-x", "--connections"));
  EXPECT_FALSE(get.options[2].takes_value);  // --json
  EXPECT_TRUE(get.options[1].takes_value);   // -d
  EXPECT_FALSE(get.options[1].numeric);
  EXPECT_TRUE(get.options[3].numeric);             // -x
  EXPECT_TRUE(commands[2].options[1].repeatable);  // --models-root
  EXPECT_THAT(commands[3].options[1].choices, ElementsAre("table", "json", "simple"));
  EXPECT_FALSE(commands[0].takes_arguments);
}

TEST_F(CompletionTest, BashScriptListsSubcommandsOptionsAndValues) {
  const std::string bash = script(Shell::kBash);
  EXPECT_THAT(bash, HasSubstr("'haul') echo 'get serve jobs instances worker completion'"));
  EXPECT_THAT(bash, HasSubstr("'haul instances') echo 'add new rm'"));
  EXPECT_THAT(bash, HasSubstr("'haul worker') echo 'start stop'"));
  EXPECT_THAT(bash, HasSubstr("'haul get') echo '-h --help -d --dir --json -x --connections'"));
  EXPECT_THAT(bash, HasSubstr("'haul jobs|--format') echo 'table json simple'"));
  EXPECT_THAT(bash, HasSubstr("'haul completion') echo 'bash zsh'"));
  EXPECT_THAT(bash, HasSubstr("complete -o default -F _haul_complete haul\n"));
  EXPECT_THAT(bash, Not(HasSubstr("--secret")));
}

TEST_F(CompletionTest, ZshScriptHasAFunctionPerCommand) {
  const std::string zsh = script(Shell::kZsh);
  EXPECT_EQ(zsh.rfind("#compdef haul\n", 0), 0u);
  for (const char* function : {"_haul()", "_haul__get()", "_haul__instances__add()",
                               "_haul__worker__stop()", "_haul__completion()"}) {
    EXPECT_THAT(zsh, HasSubstr(function));
  }
  EXPECT_THAT(zsh, HasSubstr("'--format=[table, json or simple]:format:(table json simple)'"));
  EXPECT_THAT(zsh,
              HasSubstr("'(-d --dir)-d+[Directory for the '\\''files'\\'': here]:dir:_files'"));
  EXPECT_THAT(zsh, HasSubstr("'*--models-root=[Where downloads go (repeatable)]"));
  EXPECT_THAT(zsh, HasSubstr("'(-x --connections)-x+[Connections per file]:connections: '"));
  EXPECT_THAT(zsh, HasSubstr("'get:Download files (now)'"));
  EXPECT_THAT(zsh, HasSubstr("new) _haul__instances__add && ret=0 ;;"));
  EXPECT_THAT(zsh, HasSubstr("compdef _haul haul"));
  EXPECT_THAT(zsh, Not(HasSubstr("--secret")));
}

TEST_F(CompletionTest, CommandPrintsTheScriptOfTheWholeApp) {
  // Added after the completion command: its script still has it.
  app_.add_subcommand("later", "A late command");
  std::vector<std::string> args = {"bash", "completion"};  // reversed, as CLI11 takes them
  app_.parse(args);
  ASSERT_TRUE(completion_->parsed());
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(completion_->run(), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("'haul') echo 'get serve jobs instances worker completion later'"));
}

TEST_F(CompletionTest, BashCompletesWhatIsTyped) {
  const fs::path file = script_file(Shell::kBash);
  auto complete = [&](std::vector<std::string> words) {
    std::string error;
    auto replies = haul::testing::bash_complete(file, words, &error);
    EXPECT_TRUE(replies) << error;
    return replies.value_or(std::vector<std::string>{"<bash failed>"});
  };
  EXPECT_THAT(complete({"haul", "ser"}), ElementsAre("serve"));
  EXPECT_THAT(complete({"haul", "jobs", "--for"}), ElementsAre("--format"));
  EXPECT_THAT(complete({"haul", "jobs", "--format", ""}), ElementsAre("table", "json", "simple"));
  EXPECT_THAT(complete({"haul", "jobs", "--format", "s"}), ElementsAre("simple"));
  EXPECT_THAT(complete({"haul", "jobs", "--format=j"}), ElementsAre("--format=json"));
  // COMP_WORDBREAKS splits --format=j into three words.
  EXPECT_THAT(complete({"haul", "jobs", "--format", "=", "j"}), ElementsAre("json"));
  EXPECT_THAT(complete({"haul", "instances", ""}), ElementsAre("add", "new", "rm"));
  EXPECT_THAT(complete({"haul", "instances", "--server", "rm", ""}),
              ElementsAre("add", "new", "rm"));  // "rm" was --server's value
  EXPECT_THAT(complete({"haul", "instances", "add", "--"}), ElementsAre("--help", "--ui-home"));
  EXPECT_THAT(complete({"haul", "instances", "new", "--u"}), ElementsAre("--ui-home"));
  EXPECT_THAT(complete({"haul", "worker", "stop", "-"}), ElementsAre("-h", "--help", "--force"));
  EXPECT_THAT(complete({"haul", "completion", ""}), ElementsAre("bash", "zsh"));
  EXPECT_THAT(complete({"haul", "get", ""}), ElementsAre());  // files: bash's default
  EXPECT_THAT(complete({"haul", "get", "-d", ""}), ElementsAre());
}

TEST_F(CompletionTest, ZshCompletesWhatIsTyped) {
  if (!haul::testing::have_program("zsh"))
    GTEST_SKIP() << "zsh is not installed (./dev deps adds it)";
  const fs::path file = script_file(Shell::kZsh);
  auto complete = [&](const std::string& line) {
    std::string error;
    auto matches = haul::testing::zsh_complete(file, line, &error);
    EXPECT_TRUE(matches) << error;
    return matches.value_or(std::vector<std::string>{"<zsh failed>"});
  };
  EXPECT_THAT(complete("haul ser"), ElementsAre("serve"));
  EXPECT_THAT(complete("haul jobs --for"), ElementsAre("--format"));
  EXPECT_THAT(complete("haul jobs --format "), UnorderedElementsAre("table", "json", "simple"));
  EXPECT_THAT(complete("haul jobs --format=s"), ElementsAre("simple"));
  EXPECT_THAT(complete("haul "),
              UnorderedElementsAre("get", "serve", "jobs", "instances", "worker", "completion"));
  EXPECT_THAT(complete("haul instances "), UnorderedElementsAre("add", "new", "rm"));
  EXPECT_THAT(complete("haul instances new --u"), ElementsAre("--ui-home"));
  EXPECT_THAT(complete("haul worker stop --f"), ElementsAre("--force"));
  EXPECT_THAT(complete("haul completion "), UnorderedElementsAre("bash", "zsh"));
  EXPECT_THAT(complete("haul get --connections "), ElementsAre());  // a number: no files
}

TEST_F(CompletionTest, ScriptsAreValidShell) {
  const fs::path bash = script_file(Shell::kBash);
  EXPECT_EQ(std::system(("bash -n '" + bash.string() + "'").c_str()), 0);
  if (!haul::testing::have_program("zsh"))
    GTEST_SKIP() << "zsh is not installed (./dev deps adds it)";
  const fs::path zsh = script_file(Shell::kZsh);
  EXPECT_EQ(std::system(("zsh -n '" + zsh.string() + "'").c_str()), 0);
}

}  // namespace
}  // namespace haul::cli
