// haul: the command-line entry point. Parses arguments (CLI11) and hands off
// to one function per command. Exit codes: 0 done, 1 failed, 2 bad usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "base/version.hpp"
#include "cli/get_command.hpp"

namespace {

void add_get_command(CLI::App& app, haul::cli::GetOptions& get) {
  CLI::App* cmd = app.add_subcommand("get", "Download files to this machine");
  cmd->add_option("sources", get.sources, "http(s) URLs to download")->required();
  auto* output =
      cmd->add_option("-o,--output", get.output_file, "Write the file here (one source only)");
  cmd->add_option("-d,--dir", get.output_dir,
                  "Directory for the files (named by the server or the URL)")
      ->excludes(output);
  cmd->add_option("--sha256", get.sha256, "Expected SHA-256 (64 hex digits); a mismatch fails");
  cmd->add_option("-x,--connections", get.connections, "Connections per file (1-64)")
      ->default_val(8)
      ->check(CLI::Range(1, 64));
  cmd->add_option("--limit-rate", get.limit_rate,
                  "Cap on the total speed, e.g. 50M (bytes/s, K/M/G)");
  cmd->add_option("--file-limit-rate", get.file_limit_rate, "Cap on each file's speed, e.g. 10M");
  cmd->add_option("-H,--header", get.headers,
                  "Extra request header 'Name: value', or @FILE with one per line (sent to the "
                  "URL's host only)");
  cmd->add_flag("--json", get.json, "Print one JSON object per line on stdout");
  cmd->add_flag("-q,--quiet", get.quiet, "Print errors only");
  cmd->add_flag(
      "--buffered-io", get.buffered_io,
      "Write through the page cache instead of O_DIRECT (for filesystems that misbehave with it)");
  cmd->add_option("--max-tries", get.max_tries, "Attempts per connection before giving up")
      ->default_val(5)
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--connect-timeout", get.connect_timeout, "Seconds to wait for a connection")
      ->default_val(10)
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--stall-timeout", get.stall_timeout, "Seconds without data before reconnecting")
      ->default_val(30)
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--give-up-after", get.give_up_after,
                  "Seconds without data (across retries) before failing; 0 = keep trying")
      ->default_val(60)
      ->check(CLI::Range(0.0, 86400.0));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"haul: a download manager for AI model files"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "haul " + std::string(haul::kVersion));

  haul::cli::GetOptions get;
  add_get_command(app, get);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& v) {
    std::printf("%s\n", v.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "haul: %s\nRun 'haul --help' for usage.\n", e.what());
    return 2;
  }

  if (app.got_subcommand("get")) return haul::cli::run_get(get);
  return 2;
}
