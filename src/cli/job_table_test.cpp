#include "cli/job_table.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace haul::cli {
namespace {

const nlohmann::json kJobs = nlohmann::json::parse(R"([
  {"id":"3f1c2a9e-0000-4000-8000-000000000001","state":"running","progress":42.5,"bytes_done":1073741824,
   "bytes_total":2147483648,"speed":10485760,"eta":102,"name":"flux.safetensors","error":null},
  {"id":"9b7d0000-0000-4000-8000-000000000002","state":"failed","progress":0,"bytes_done":0,
   "bytes_total":null,"speed":0,"eta":null,"name":"gone.gguf",
   "error":{"code":"not_found","message":"404 Not Found"}}
])");

TEST(JobTable, AlignsColumnsAndShowsErrors) {
  const std::string table = format_jobs_table(kJobs);
  EXPECT_NE(table.find("ID        STATE    PROGRESS"), std::string::npos) << table;
  EXPECT_NE(
      table.find(
          "3f1c2a9e  running  42.5%     1.00 GiB/2.00 GiB  10.0 MiB/s  1m42s  flux.safetensors"),
      std::string::npos)
      << table;
  EXPECT_NE(table.find("9b7d0000  failed   0.0%      0 B"), std::string::npos) << table;
  EXPECT_NE(table.find("error: 404 Not Found"), std::string::npos) << table;
}

TEST(JobTable, SimpleFormatHasOneLinePerJob) {
  EXPECT_EQ(format_jobs_simple(kJobs),
            "3f1c2a9e-0000-4000-8000-000000000001 running 42.5% flux.safetensors\n"
            "9b7d0000-0000-4000-8000-000000000002 failed 0.0% gone.gguf\n");
  EXPECT_EQ(format_jobs_table(nlohmann::json::array()).find("(no jobs)") != std::string::npos,
            true);
}

TEST(JobTable, StatusSummarisesCountsAndSpeed) {
  const auto health = nlohmann::json::parse(
      R"({"version":"0.1.0","uptime_seconds":75,"jobs":{"queued":2,"running":1,"failed":0},
          "active_transfers":1,"speed":2097152})");
  const std::string text = format_status(health, "http://127.0.0.1:5000");
  EXPECT_NE(text.find("haul 0.1.0 at http://127.0.0.1:5000, up 1m15s"), std::string::npos) << text;
  EXPECT_NE(text.find("jobs: 2 queued, 1 running"), std::string::npos) << text;
  EXPECT_NE(text.find("transfers: 1 at 2.00 MiB/s"), std::string::npos) << text;
}

TEST(JobTable, DebugStatusListsTheNodesSharingTheQueue) {
  const nlohmann::json status = {
      {"pid", 42},
      {"settings", {{"store", "postgres://haul@db/queue"}}},
      {"credentials", nlohmann::json::object()},
      {"jobs", {{"queued", 1}}},
      {"nodes",
       {{{"name", "alpha"}, {"heartbeat_age_seconds", 1.25}, {"jobs_held", 2}, {"self", true}},
        {{"name", "beta"}, {"heartbeat_age_seconds", 31.0}, {"jobs_held", 0}, {"self", false}}}}};
  const std::string text = format_debug_status(status);
  EXPECT_NE(text.find("nodes (sharing the queue):\n"
                      "  alpha (this one): heartbeat 1.2 s ago, 2 job(s) held\n"
                      "  beta: heartbeat 31.0 s ago, 0 job(s) held\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(format_debug_status({{"pid", 1},
                                 {"settings", nlohmann::json::object()},
                                 {"credentials", nlohmann::json::object()},
                                 {"jobs", nlohmann::json::object()}})
                .find("nodes"),
            std::string::npos)
      << "a sole node's status has no nodes section";
}

}  // namespace
}  // namespace haul::cli
