#include "cli/remote_commands.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace haul::cli {

namespace {

using nlohmann::json;

int report(const Error& error) {
  std::fprintf(stderr, "haul: %s\n", error.message.c_str());
  return 1;
}

}  // namespace

int run_instances_list(DaemonClient& client) {
  auto body = client.call("GET", "/api/v1/instances");
  if (!body) return report(body.error());
  const json reply = json::parse(*body, nullptr, false);
  std::printf("%-16s  %-40s  %-24s  %s\n", "INSTANCE", "SSH", "LAST USED", "UI_HOME");
  for (const json& instance : reply.value("instances", json::array())) {
    const json& used = instance["last_used_at"];
    std::printf("%-16s  %-40s  %-24s  %s\n", instance.value("id", "").c_str(),
                instance.value("ssh_command", "").c_str(),
                used.is_string() ? used.get<std::string>().c_str() : "never",
                instance.value("ui_home", "").c_str());
  }
  return 0;
}

int run_instances_prune(DaemonClient& client, const std::string& older_than) {
  auto reply =
      client.call("POST", "/api/v1/instances/prune", json{{"older_than", older_than}}.dump());
  if (!reply) return report(reply.error());
  const json removed = json::parse(*reply, nullptr, false).value("removed", json::array());
  if (removed.empty()) {
    std::printf("no instance unused for %s\n", older_than.c_str());
    return 0;
  }
  for (const json& id : removed) std::printf("removed %s\n", id.get<std::string>().c_str());
  return 0;
}

int run_instances_add(DaemonClient& client, const InstanceOptions& options) {
  json body = {{"id", options.name},
               {"ssh_command", options.ssh_command},
               {"max_parallel", options.max_parallel}};
  if (!options.ui_home.empty()) body["ui_home"] = options.ui_home;
  auto reply = client.call("POST", "/api/v1/instances", body.dump());
  if (!reply) return report(reply.error());
  const json instance = json::parse(*reply, nullptr, false);
  std::printf("%s  %s@%s:%d  UI_HOME=%s\n", instance.value("id", "").c_str(),
              instance.value("user", "").c_str(), instance.value("host", "").c_str(),
              instance.value("port", 0), instance.value("ui_home", "").c_str());
  return 0;
}

int run_instances_remove(DaemonClient& client, const std::string& name) {
  auto reply = client.call("DELETE", "/api/v1/instances/" + name);
  if (!reply) return report(reply.error());
  return 0;
}

int run_install(DaemonClient& client, const std::string& instance,
                const std::vector<std::string>& cards) {
  const json body = {{"sources", cards}, {"target", instance}};
  auto reply = client.call("POST", "/api/v1/jobs", body.dump());
  if (!reply) return report(reply.error());
  const json job = json::parse(*reply, nullptr, false);
  std::printf("%s  %s  %s\n", job.value("id", "").c_str(), job.value("state", "").c_str(),
              job.value("name", "").c_str());
  return 0;
}

}  // namespace haul::cli
