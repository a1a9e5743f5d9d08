#include "cli/model_commands.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/files.hpp"
#include "base/format.hpp"
#include "cli/client_calls.hpp"
#include "net/url.hpp"

namespace haul::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

Error usage(std::string message) { return Error{ErrorCode::kInvalidArgument, std::move(message)}; }

// A manifest file here: its JSON; nullopt when `given` is no file (an id).
Result<std::optional<json>> manifest_file(const std::string& given) {
  std::error_code ec;
  if (!fs::is_regular_file(given, ec)) {
    if (given.find('/') != std::string::npos || given.ends_with(".json"))
      return fail(usage("--manifest " + given + ": no such file"));
    return std::optional<json>();
  }
  std::ifstream in(given, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  json parsed = json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded()) return fail(usage("--manifest " + given + ": not JSON"));
  return std::optional<json>(std::move(parsed));
}

// Registers a manifest file with the daemon (by its file name) and answers
// its id; an id passes through.
Result<std::string> manifest_id(DaemonClient& client, const std::string& given) {
  auto file = manifest_file(given);
  if (!file) return fail(file.error());
  if (!*file) return given;
  auto added = post_json(client, "/api/v1/manifests",
                         {{"name", fs::path(given).filename().string()}, {"content", **file}});
  if (!added) return fail(added.error());
  return added->value("id", "");
}

std::string model_line(const json& model, bool simple) {
  std::size_t present = 0;
  std::uint64_t size = 0;
  for (const json& file : model["files"]) {
    present += file.value("exists", false) ? 1 : 0;
    size += file.value("size", std::uint64_t{0});
  }
  const std::string files = std::to_string(present) + "/" + std::to_string(model["files"].size());
  char line[512];
  if (simple) {
    std::snprintf(line, sizeof line, "%s %s %s\n", model.value("state", "").c_str(),
                  model.value("group", "").c_str(), model.value("name", "").c_str());
  } else {
    std::snprintf(line, sizeof line, "%-12s %-18s %-40s %7s %10s\n",
                  model.value("state", "").c_str(), model.value("group", "").c_str(),
                  model.value("name", "").c_str(), files.c_str(), format_bytes(size).c_str());
  }
  return line;
}

}  // namespace

int run_models_sync(DaemonClient& client, const ModelSyncOptions& options) {
  const bool picks = options.mode == "list" || options.mode == "single";
  if (picks == options.models.empty())
    return report(usage(picks ? "--mode " + options.mode + " needs --models JSON"
                              : "--models goes with --mode list or single"));
  json body = {{"mode", options.mode}};
  if (picks) {
    json models = json::parse(options.models, nullptr, false);
    if (models.is_discarded()) return report(usage("--models: not JSON"));
    body["models"] = std::move(models);
  }
  auto file = manifest_file(options.manifest);
  if (!file) return report(file.error());
  if (*file) {
    body["manifest"] = std::move(**file);
    body["name"] = fs::path(options.manifest).filename().string();
  } else {
    body["manifest"] = options.manifest;
  }
  if (!options.output.empty()) body["output"] = fs::absolute(options.output).string();
  if (!options.to.empty()) body["target"] = options.to;
  if (options.verify) body["verify"] = true;
  auto reply = post_json(client, "/api/v1/models/sync", body);
  if (!reply) return report(reply.error());
  if (options.json) {
    std::printf("%s\n", reply->dump(2).c_str());
    return 0;
  }
  for (const json& job : (*reply)["jobs"]) {
    std::printf("%s  %s  %s/%s%s\n", job.value("id", "").c_str(), job.value("state", "").c_str(),
                job.value("group", "").c_str(), job.value("name", "").c_str(),
                job.value("existing", false) ? "  (already queued)" : "");
  }
  for (const json& skip : (*reply)["skipped"]) {
    std::printf("skipped  %s: %s\n", skip.value("model", "").c_str(),
                skip.value("reason", "").c_str());
  }
  if (reply->contains("output"))
    std::printf("progress: %s\n", (*reply)["output"].get<std::string>().c_str());
  return 0;
}

int run_models_status(DaemonClient& client, const ModelStatusOptions& options) {
  std::string query;
  if (!options.manifest.empty()) {
    auto id = manifest_id(client, options.manifest);
    if (!id) return report(id.error());
    query += "manifest=" + net::percent_encode(*id);
  }
  if (!options.state.empty()) query += (query.empty() ? "" : "&") + ("state=" + options.state);
  if (options.verify) query += (query.empty() ? "" : "&") + std::string("verify=true");
  auto reply = get_json(client, "/api/v1/models" + (query.empty() ? "" : "?" + query));
  if (!reply) return report(reply.error());
  const json& models = (*reply)["models"];
  if (options.format == "json") {
    std::printf("%s\n", models.dump(2).c_str());
    return 0;
  }
  std::string out;
  if (options.format == "table") {
    char header[256];
    std::snprintf(header, sizeof header, "%-12s %-18s %-40s %7s %10s\n", "STATE", "GROUP", "MODEL",
                  "FILES", "SIZE");
    out += header;
  }
  for (const json& model : models) out += model_line(model, options.format == "simple");
  if (models.empty() && options.format == "table") out += "(no models)\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

int run_models_progress(DaemonClient& client, const ModelProgressOptions& options) {
  const int selectors = (!options.group.empty() || !options.model.empty() ? 1 : 0) +
                        (!options.path.empty() ? 1 : 0) + (options.all ? 1 : 0);
  if (selectors != 1) return report(usage("give --group G --model M, --path P, or --all"));
  if (options.model.empty() != options.group.empty())
    return report(usage("--group and --model go together"));
  if (options.watch && options.output.empty()) return report(usage("--watch needs --output FILE"));
  std::string query;
  if (!options.group.empty())
    query = "?group=" + net::percent_encode(options.group) +
            "&model=" + net::percent_encode(options.model);
  if (!options.path.empty())
    query = "?path=" + net::percent_encode(fs::absolute(options.path).lexically_normal().string());
  std::string written;
  while (true) {
    auto reply = get_json(client, "/api/v1/models/progress" + query);
    if (!reply) return report(reply.error());
    const std::string text = reply->dump(2) + "\n";
    if (!options.output.empty() && text != written) {
      if (auto ok = write_file_atomically(options.output, text); !ok) return report(ok.error());
      written = text;
    }
    if (options.output.empty() || options.json) std::fputs(text.c_str(), stdout);
    bool live = false;
    for (const auto& [group, models] : reply->items()) {
      for (const auto& [name, entry] : models.items()) {
        const std::string status = entry.value("status", "");
        live = live || status == "queued" || status == "progress";
      }
    }
    if (!options.watch || !live) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return 0;
}

}  // namespace haul::cli
