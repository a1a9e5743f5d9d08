#include "cli/job_table.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/format.hpp"

namespace haul::cli {

namespace {

using nlohmann::json;

std::string text(const json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

std::uint64_t number(const json& value) {
  return value.is_number() ? value.get<std::uint64_t>() : 0;
}

std::string percent(const json& job) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", job.value("progress", 0.0));
  return buf;
}

std::string size_column(const json& job) {
  std::string out = format_bytes(number(job["bytes_done"]));
  if (job["bytes_total"].is_number()) out += "/" + format_bytes(number(job["bytes_total"]));
  return out;
}

std::string speed_column(const json& job) {
  return text(job["state"]) == "running" ? format_speed(static_cast<double>(number(job["speed"])))
                                         : "-";
}

std::string eta_column(const json& job) {
  if (!job["eta"].is_number()) return "-";
  return format_duration(std::chrono::seconds(job["eta"].get<long long>()));
}

}  // namespace

std::string format_jobs_table(const json& jobs) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATE", "PROGRESS", "SIZE", "SPEED", "ETA", "NAME"}};
  std::vector<std::string> errors = {""};
  for (const json& job : jobs) {
    rows.push_back({text(job["id"]).substr(0, 8), text(job["state"]), percent(job),
                    size_column(job), speed_column(job), eta_column(job), text(job["name"])});
    errors.push_back(job["error"].is_object() ? text(job["error"]["message"]) : "");
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t i = 0; i < rows[r].size(); ++i) {
      line += rows[r][i];
      if (i + 1 < rows[r].size()) line += std::string(widths[i] - rows[r][i].size() + 2, ' ');
    }
    out += line + "\n";
    if (!errors[r].empty()) out += "          error: " + errors[r] + "\n";
  }
  if (rows.size() == 1) out += "(no jobs)\n";
  return out;
}

std::string format_jobs_simple(const json& jobs) {
  std::string out;
  for (const json& job : jobs) {
    char progress[16];
    std::snprintf(progress, sizeof progress, "%.1f", job.value("progress", 0.0));
    out += text(job["id"]) + " " + text(job["state"]) + " " + progress + "% " + text(job["name"]) +
           "\n";
  }
  return out;
}

std::string format_status(const json& health, const std::string& url) {
  std::string out = "haul " + text(health["version"]) + " at " + url + ", up " +
                    format_duration(std::chrono::seconds(health.value("uptime_seconds", 0LL))) +
                    "\n";
  std::string counts;
  for (const auto& [state, count] : health["jobs"].items()) {
    if (count.get<std::uint64_t>() == 0) continue;
    counts +=
        (counts.empty() ? "" : ", ") + std::to_string(count.get<std::uint64_t>()) + " " + state;
  }
  out += "jobs: " + (counts.empty() ? std::string("none") : counts) + "\n";
  out += "transfers: " + std::to_string(number(health["active_transfers"])) + " at " +
         format_speed(static_cast<double>(number(health["speed"]))) + "\n";
  return out;
}

std::string format_debug_status(const json& status) {
  std::string out = "daemon pid: " + std::to_string(number(status["pid"])) + "\n";
  out += "settings:\n";
  for (const auto& [name, value] : status["settings"].items())
    out += "  " + name + ": " + text(value) + "\n";
  out += "credentials (the daemon's environment):\n";
  for (const auto& [name, value] : status["credentials"].items())
    out += "  " + name + ": " + text(value) + "\n";
  out += "queue:\n";
  for (const auto& [state, count] : status["jobs"].items())
    out += "  " + state + ": " + std::to_string(number(count)) + "\n";
  if (status.contains("nodes") && status["nodes"].is_array()) {
    out += "nodes (sharing the queue):\n";
    for (const json& node : status["nodes"]) {
      char age[32];
      const json& seconds = node["heartbeat_age_seconds"];
      std::snprintf(age, sizeof age, "%.1f", seconds.is_number() ? seconds.get<double>() : 0.0);
      out += "  " + text(node["name"]) + (node["self"] == true ? " (this one)" : "") +
             ": heartbeat " + age + " s ago, " + std::to_string(number(node["jobs_held"])) +
             " job(s) held\n";
    }
  }
  return out;
}

}  // namespace haul::cli
