// haul: the command-line entry point. Parses arguments (CLI11) and hands off
// to one function per command. Exit codes: 0 done, 1 failed, 2 bad usage.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "base/version.hpp"
#include "cli/argv_passwords.hpp"
#include "cli/command_hint.hpp"
#include "cli/completion.hpp"
#include "cli/daemon_client.hpp"
#include "cli/get_command.hpp"
#include "cli/job_commands.hpp"
#include "cli/model_commands.hpp"
#include "cli/remote_commands.hpp"
#include "cli/worker_command.hpp"
#include "daemon/serve.hpp"

namespace {

using namespace haul;

void add_get_command(CLI::App& app, cli::GetOptions& get) {
  CLI::App* cmd = app.add_subcommand("get", "Download files to this machine (no daemon needed)");
  cmd->add_option("sources", get.sources,
                  "What to download: URLs, hf://ORG/REPO[@REV][/PATH-OR-GLOB], huggingface.co or "
                  "civitai.com links, AIR URNs, s3://BUCKET/KEY-OR-PREFIX")
      ->required();
  cli::add_source_flags(*cmd, get.source_flags);
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

void add_serve_options(CLI::App* cmd, daemon::ServeOptions& serve) {
  cmd->add_option("--listen", serve.listen,
                  "Address to listen on (HOST:PORT); beyond loopback needs a token")
      ->default_val("127.0.0.1:5000");
  cmd->add_option("--data-dir", serve.data_dir,
                  "Database, logs and resource cards (default $HAUL_DATA_DIR or ./data)");
  cmd->add_option(
      "--store", serve.store,
      "Job store: sqlite:PATH (default sqlite:DATA_DIR/haul.db) or postgres://USER@HOST:PORT/DB "
      "(password from PGPASSWORD or ~/.pgpass)");
  cmd->add_option("--node", serve.node,
                  "This node's name on a PostgreSQL queue (default: the host name)");
  cmd->add_option("--lease", serve.lease,
                  "On a PostgreSQL queue: how long a job stays this node's without a heartbeat "
                  "(renewed every third of it; another node takes it over after; default 15s)");
  cmd->add_option("--token", serve.token,
                  "Bearer token required on every request (prefer $HAUL_TOKEN)");
  cmd->add_option("--library", serve.library,
                  "Folder of resource cards (default DATA_DIR/resources)");
  cmd->add_option("--models-root", serve.models_roots,
                  "Folder downloads may go to (repeatable; the first is the default; default: "
                  "working directory)");
  cmd->add_option("--comfyui", serve.comfyui_dir,
                  "A ComfyUI install: models already in its models/ folders (and those of its "
                  "extra_model_paths.yaml) count as present");
  cmd->add_option("--extra-model-paths", serve.extra_model_paths,
                  "A ComfyUI extra_model_paths.yaml to read too (repeatable)");
  cmd->add_option("--web-dir", serve.web_dir,
                  "Serve the web UI from this folder (web/ of a checkout, read on every request) "
                  "instead of the copy built in");
  cmd->add_option("--max-active", serve.max_active, "Jobs downloading at once")
      ->default_val(3)
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-per-host", serve.max_per_host,
                  "Jobs downloading from one host at once (0 = no limit)")
      ->default_val(0)
      ->check(CLI::Range(0, 256));
  cmd->add_option("-x,--connections", serve.connections, "Connections per file")
      ->default_val(8)
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-attempts", serve.max_attempts, "Default attempts per job")
      ->default_val(5)
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--retry-delay", serve.retry_delay,
                  "Wait before a job's 2nd attempt, doubled for each further one, +-10 % "
                  "(e.g. 2s, 500ms)")
      ->default_val("2s");
  cmd->add_option("--max-retry-delay", serve.max_retry_delay,
                  "Longest wait between a job's attempts (e.g. 5m)")
      ->default_val("5m");
  cmd->add_option("--max-retry-after", serve.max_retry_after_s,
                  "Longest Retry-After (s) a transfer waits out in place; a longer one ends the "
                  "attempt and the job waits in state retrying")
      ->default_val(120)
      ->check(CLI::Range(0, 86400));
  cmd->add_option("--allow-host", serve.allowed_hosts, "Extra Host name to accept (repeatable)");
  cmd->add_option("--known-hosts", serve.known_hosts,
                  "SSH known_hosts file for instances (default ~/.ssh/known_hosts)");
  cmd->add_flag("--strict-host-keys", serve.strict_host_keys,
                "Refuse instances whose host key is not known yet (default: accept new keys, "
                "refuse changed ones)");
  cmd->add_option("--command-timeout", serve.command_timeout_s,
                  "Seconds one command may run on an instance")
      ->default_val(3600)
      ->check(CLI::Range(1, 7 * 86400));
  cmd->add_flag("--quiet", serve.quiet, "Log to DATA_DIR/logs/downloads.log only");
  cmd->add_option("--log-format", serve.log_format,
                  "text, or json: one object per line with job, stage, file, attempt, code")
      ->default_val("text")
      ->check(CLI::IsMember({"text", "json"}));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"haul: a download manager for AI model files"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "haul " + std::string(kVersion));

  cli::GetOptions get;
  add_get_command(app, get);

  daemon::ServeOptions serve;
  add_serve_options(app.add_subcommand("serve", "Run the daemon: queue, REST API, live events"),
                    serve);

  // Commands for a running daemon.
  std::string server;
  std::string token;
  auto client_options = [&](CLI::App* cmd) {
    cmd->add_option("--server", server,
                    "Daemon URL (default $HAUL_SERVER or http://127.0.0.1:5000)");
    cmd->add_option("--token", token, "Bearer token (prefer $HAUL_TOKEN)");
    return cmd;
  };

  cli::AddOptions add;
  CLI::App* add_cmd = client_options(app.add_subcommand("add", "Queue downloads on the daemon"));
  add_cmd
      ->add_option("sources", add.sources,
                   "What to download (as for haul get); each source is one job")
      ->required();
  cli::add_source_flags(*add_cmd, add.source_flags);
  add_cmd->add_option("--to", add.to, "Instance to download to (default: this machine)");
  add_cmd->add_option("-d,--dir", add.dir,
                      "Destination folder, relative to the daemon's models root");
  add_cmd->add_option("--priority", add.priority, "Higher runs first (default 0)");
  add_cmd->add_option("--sha256", add.sha256, "Expected SHA-256 (one source only)");
  add_cmd->add_option("--group", add.group, "Group name, e.g. loras");
  add_cmd->add_option("--name", add.name, "Display name");
  add_cmd->add_option("--max-attempts", add.max_attempts, "Attempts before the job fails");
  add_cmd->add_flag("--json", add.json, "Print the created jobs as JSON");

  cli::JobsOptions jobs;
  CLI::App* jobs_cmd = client_options(app.add_subcommand("jobs", "List the daemon's jobs"));
  jobs_cmd->add_option("--state", jobs.state,
                       "Only jobs in this state (queued, running, retrying, paused, ...)");
  jobs_cmd->add_option("--format", jobs.format, "table, json or simple")
      ->default_val("table")
      ->check(CLI::IsMember({"table", "json", "simple"}));

  std::vector<std::string> ids;
  std::string cancel_path;
  std::string cancel_group;
  std::string cancel_model;
  bool cancel_all = false;
  std::vector<std::pair<std::string, CLI::App*>> actions;
  for (const char* action : {"pause", "resume", "retry", "cancel"}) {
    CLI::App* cmd = client_options(
        app.add_subcommand(action, std::string("Ask the daemon to ") + action + " jobs"));
    auto* ids_option = cmd->add_option("ids", ids, "Job ids (or unique prefixes)");
    if (std::string(action) == "cancel") {
      auto* path_option =
          cmd->add_option("--path", cancel_path, "Cancel the jobs writing this file or folder");
      auto* all_option = cmd->add_flag("--all", cancel_all, "Cancel every unfinished job");
      auto* group_option =
          cmd->add_option("--group", cancel_group, "With --model: cancel that model's jobs");
      auto* model_option = cmd->add_option("--model", cancel_model, "The model's name");
      group_option->needs(model_option);
      model_option->needs(group_option);
      ids_option->excludes(path_option)->excludes(all_option)->excludes(group_option);
      path_option->excludes(all_option)->excludes(group_option);
      all_option->excludes(group_option);
    } else {
      ids_option->required();
    }
    actions.emplace_back(action, cmd);
  }

  std::string logs_id;
  bool logs_follow = false;
  CLI::App* logs_cmd = client_options(
      app.add_subcommand("logs", "What a job's commands printed (the last 200 lines of each)"));
  logs_cmd->add_option("id", logs_id, "The job (id or unique prefix)")->required();
  logs_cmd->add_flag("-f,--follow", logs_follow, "Keep printing new lines until the job ends");

  CLI::App* status_cmd = client_options(app.add_subcommand("status", "Show the daemon's state"));
  cli::StatusOptions status;
  status_cmd->add_flag("--debug", status.debug,
                       "Also its settings, which credentials it has (never their values), its "
                       "queue by state and its pid file");
  status_cmd->add_option("--data-dir", status.data_dir,
                         "Where to look for the pid file (default $HAUL_DATA_DIR or ./data)");

  CLI::App* models_cmd =
      app.add_subcommand("models", "Models of manifests: sync, status, progress");
  models_cmd->require_subcommand(1);
  cli::ModelSyncOptions sync;
  CLI::App* models_sync = client_options(
      models_cmd->add_subcommand("sync", "Queue a manifest's models (seed 002's download_models)"));
  models_sync
      ->add_option("--manifest", sync.manifest,
                   "A manifest file (haul, seed 002 config, ComfyUI workflow, model-list.json) "
                   "or a registered manifest's id")
      ->required();
  models_sync->add_option("--mode", sync.mode, "all, missing, list or single")
      ->default_val("missing")
      ->check(CLI::IsMember({"all", "missing", "list", "single"}));
  models_sync->add_option("--models", sync.models,
                          "list: a JSON array of names or entries; single: one JSON object");
  models_sync->add_option("--output", sync.output,
                          "Progress file the daemon keeps up to date (seed 002's JSON)");
  models_sync->add_option("--to", sync.to, "Instance to download to (default: this machine)");
  models_sync->add_flag("--verify", sync.verify, "Hash files to find corrupt ones");
  models_sync->add_flag("--json", sync.json, "Print the daemon's answer as JSON");
  cli::ModelStatusOptions model_status;
  CLI::App* models_status = client_options(
      models_cmd->add_subcommand("status", "Which models are present, missing, partial, ..."));
  models_status->add_option("--manifest", model_status.manifest,
                            "A manifest file or a registered manifest's id (default: all)");
  models_status->add_option("--state", model_status.state,
                            "Only models in this state (present, missing, partial, corrupt, "
                            "downloading)");
  models_status->add_flag("--verify", model_status.verify, "Compare SHA-256s too");
  models_status->add_option("--format", model_status.format, "table, json or simple")
      ->default_val("table")
      ->check(CLI::IsMember({"table", "json", "simple"}));
  cli::ModelProgressOptions model_progress;
  CLI::App* models_progress = client_options(models_cmd->add_subcommand(
      "progress", "Seed 002's progress JSON: by group and model, by path, or all"));
  models_progress->add_option("--group", model_progress.group, "The model's group");
  models_progress->add_option("--model", model_progress.model, "The model's name");
  models_progress->add_option("--path", model_progress.path, "A file of the model");
  models_progress->add_flag("--all", model_progress.all, "Every model");
  models_progress->add_option("--output", model_progress.output,
                              "Write the JSON to this file (atomically)");
  models_progress->add_flag("--watch", model_progress.watch,
                            "With --output: rewrite it every second until nothing is queued or "
                            "running");
  models_progress->add_flag("--json", model_progress.json, "Print the JSON");

  CLI::App* instances_cmd =
      client_options(app.add_subcommand("instances", "List or register remote instances"));
  cli::InstanceOptions instance;
  CLI::App* instances_add = client_options(instances_cmd->add_subcommand(
      "add", "Register an instance by the SSH command its console prints"));
  instances_add->add_option("name", instance.name, "A name (or the cloud's instance number)")
      ->required();
  instances_add
      ->add_option("ssh", instance.ssh_command,
                   "The SSH command, quoted: 'ssh -p 44686 root@109.231.106.68'")
      ->required();
  instances_add->add_option("--ui-home", instance.ui_home,
                            "ComfyUI folder there (UI_HOME; default /workspace/ComfyUI)");
  instances_add->add_option("--max-parallel", instance.max_parallel, "Jobs at once there")
      ->default_val(1)
      ->check(CLI::Range(1, 64));
  std::string instance_name;
  CLI::App* instances_rm =
      client_options(instances_cmd->add_subcommand("rm", "Forget an instance"));
  instances_rm->add_option("name", instance_name, "The instance")->required();
  std::string prune_older_than = "7d";
  CLI::App* instances_prune = client_options(instances_cmd->add_subcommand(
      "prune", "Forget instances no job has used for a while (and none is queued for)"));
  instances_prune->add_option("--older-than", prune_older_than, "Unused for this long (7d, 12h)")
      ->default_val("7d");

  std::string install_to;
  std::vector<std::string> install_cards;
  CLI::App* install_cmd = client_options(
      app.add_subcommand("install", "Run resource cards' download commands on an instance"));
  install_cmd->add_option("--to", install_to, "The instance")->required();
  install_cmd->add_option("cards", install_cards, "Resource card paths in the library")->required();

  cli::WorkerOptions worker;
  CLI::App* worker_cmd = app.add_subcommand("worker", "Start or stop the daemon in the background");
  worker_cmd->require_subcommand(1);
  CLI::App* worker_start =
      worker_cmd->add_subcommand("start", "Start `haul serve` in the background");
  CLI::App* worker_stop = worker_cmd->add_subcommand("stop", "Stop the background daemon");
  for (CLI::App* cmd : {worker_start, worker_stop}) {
    cmd->add_option("--data-dir", worker.data_dir,
                    "The daemon's data directory (default $HAUL_DATA_DIR or ./data)");
    cmd->add_option("--listen", worker.listen, "Where the daemon listens")
        ->default_val("127.0.0.1:5000");
    cmd->add_option("--token", token, "Bearer token (prefer $HAUL_TOKEN)");
  }
  worker_start->add_option("serve_args", worker.serve_args, "More `haul serve` options, after --");
  worker_stop->add_flag("--force", worker.force,
                        "Cancel every download first, kill if it does not stop");

  // `haul completion bash|zsh`: generated from `app` as a whole when it runs.
  cli::CompletionCommand completion(app);

  // CLI11 would only say "A subcommand is required": name the word instead.
  if (argc >= 2) {
    const std::string first = argv[1];
    std::vector<std::string> commands;
    for (const CLI::App* command : app.get_subcommands({})) commands.push_back(command->get_name());
    const bool known = std::find(commands.begin(), commands.end(), first) != commands.end();
    const bool top_flag = first == "-h" || first == "--help" || first == "--help-all" ||
                          first == "-V" || first == "--version";
    if (!known && !top_flag) {
      std::fprintf(stderr, "%s\n", cli::unknown_command_message(first, commands).c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
    // Parsed (copied) now: what ps shows need not hold the passwords.
    cli::hide_argv_passwords(argc, argv);
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

  if (completion.parsed()) return completion.run();
  if (app.got_subcommand("get")) return cli::run_get(get);
  if (app.got_subcommand("serve")) return daemon::run_serve(serve);
  if (worker_cmd->parsed()) {
    return worker_start->parsed() ? cli::run_worker_start(worker, token)
                                  : cli::run_worker_stop(worker, token);
  }
  cli::DaemonClient client(cli::resolve_address(server, token));
  if (add_cmd->parsed()) return cli::run_add(client, add);
  if (jobs_cmd->parsed()) return cli::run_jobs(client, jobs);
  if (status_cmd->parsed()) return cli::run_status(client, status);
  if (logs_cmd->parsed()) return cli::run_logs(client, logs_id, logs_follow);
  if (models_sync->parsed()) return cli::run_models_sync(client, sync);
  if (models_status->parsed()) return cli::run_models_status(client, model_status);
  if (models_progress->parsed()) return cli::run_models_progress(client, model_progress);
  if (instances_add->parsed()) return cli::run_instances_add(client, instance);
  if (instances_rm->parsed()) return cli::run_instances_remove(client, instance_name);
  if (instances_prune->parsed()) return cli::run_instances_prune(client, prune_older_than);
  if (instances_cmd->parsed()) return cli::run_instances_list(client);
  if (install_cmd->parsed()) return cli::run_install(client, install_to, install_cards);
  for (const auto& [action, cmd] : actions) {
    if (!cmd->parsed()) continue;
    if (action == "cancel" && cancel_all) return cli::run_cancel_all(client);
    if (action == "cancel" && !cancel_path.empty())
      return cli::run_cancel_path(client, cancel_path);
    if (action == "cancel" && !cancel_group.empty())
      return cli::run_cancel_model(client, cancel_group, cancel_model);
    if (ids.empty()) {
      std::fprintf(stderr, "haul cancel: give job ids, --group G --model M, --path P or --all\n");
      return 2;
    }
    return cli::run_action(client, action, ids);
  }
  return 2;
}
