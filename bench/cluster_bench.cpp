// Store-level figures of several nodes on one PostgreSQL queue (issue 15's
// benchmark, the parts that exist so far): with 1, 2 and 3 nodes (each a
// PostgresJobStore on its own thread and connection, as a daemon's DB worker
// is), durable enqueues/s in batches of 1,000 jobs, the latency of claim()
// while every node claims (3,000 claims between them, one job each), and
// the time from a commit on one node to the change reaching another node's
// listener (2 and 3 nodes).
//   haul_cluster_bench --url postgres://... [--jobs 30000]
// Prints a line "RESULT nodes=N enqueue_per_s=... claim_p50_ms=...
// claim_p99_ms=... notify_p50_ms=... notify_p99_ms=..." per node count.
// The database must be empty; each node count starts from emptied tables.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/job.hpp"
#include "store/postgres/change_listener.hpp"
#include "store/postgres/postgres_job_store.hpp"

namespace {

using haul::core::Item;
using haul::core::Job;
using haul::store::postgres::PostgresJobStore;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "haul_cluster_bench: %s\n", message.c_str());
  std::exit(1);
}

Job queued_job(const std::string& id, std::int64_t seq) {
  Job job;
  job.id = id;
  job.seq = seq;
  job.source = "http://127.0.0.1:9/queued/" + std::to_string(seq) + ".bin";
  job.destination = "/srv/models/queue";
  job.name = std::to_string(seq) + ".bin";
  job.created_at = haul::core::TimePoint(std::chrono::milliseconds(1'700'000'000'000 + seq));
  Item item;
  item.source = job.source;
  item.path = job.destination + "/" + job.name;
  job.items.push_back(std::move(item));
  return job;
}

std::unique_ptr<PostgresJobStore> open_node(const std::string& url, const std::string& node) {
  auto store = std::make_unique<PostgresJobStore>(url);
  store->set_node_name(node);
  if (auto opened = store->open(); !opened) die(opened.error().message);
  return store;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Every node writes its share of `jobs` in batches of 1,000; returns jobs/s.
double enqueue(std::vector<std::unique_ptr<PostgresJobStore>>& nodes, int jobs, int round) {
  const int share = jobs / static_cast<int>(nodes.size());
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    threads.emplace_back([&, n] {
      for (int first = 0; first < share; first += 1000) {
        haul::store::WriteBatch batch;
        for (int i = first; i < std::min(share, first + 1000); ++i) {
          const std::int64_t seq = static_cast<std::int64_t>(n) * share + i + 1;
          batch.upserts.push_back(queued_job(
              "r" + std::to_string(round) + "-n" + std::to_string(n) + "-" + std::to_string(i),
              seq));
        }
        if (auto applied = nodes[n]->apply(batch); !applied) die(applied.error().message);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return share * static_cast<double>(nodes.size()) /
         std::chrono::duration<double>(Clock::now() - start).count();
}

// Every node claims one job at a time until `total` are claimed between
// them; claim() latencies.
std::vector<double> claim_some(std::vector<std::unique_ptr<PostgresJobStore>>& nodes, int total) {
  std::mutex mutex;
  std::atomic<int> claimed{0};
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    threads.emplace_back([&, n] {
      std::vector<double> mine;
      const std::string node = "node-" + std::to_string(n);
      while (claimed.load() < total) {
        const auto start = Clock::now();
        haul::store::ClaimRequest request;
        request.node = node;
        request.lease = std::chrono::seconds(60);
        auto claims = nodes[n]->claim(request);
        mine.push_back(ms_since(start));
        if (!claims) die(claims.error().message);
        if (claims->empty()) break;
        claimed += static_cast<int>(claims->size());
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& thread : threads) thread.join();
  return latencies;
}

// Node 0 commits `count` single-job batches while node 1's listener waits
// for each; latencies from the apply() call to the listener's callback, so
// the commit (its fsync) is included: the callback often comes before
// apply() has returned.
std::vector<double> notify_latencies(const std::string& url,
                                     std::vector<std::unique_ptr<PostgresJobStore>>& nodes,
                                     int count, int round) {
  std::mutex mutex;
  std::condition_variable arrived;
  std::map<std::string, Clock::time_point> seen;
  haul::store::postgres::ChangeListenerOptions options;
  options.url = url;
  options.ignore_node = "node-1";  // the listener is node 1's
  haul::store::postgres::PostgresChangeListener listener(
      options, [&](const haul::store::postgres::JobChange& change) {
        std::lock_guard lock(mutex);
        seen.emplace(change.id, Clock::now());
        arrived.notify_all();
      });
  if (auto started = listener.start(); !started) die(started.error().message);
  std::vector<double> latencies;
  for (int i = 0; i < count; ++i) {
    const std::string id = "notify-" + std::to_string(round) + "-" + std::to_string(i);
    haul::store::WriteBatch batch;
    batch.upserts.push_back(queued_job(id, 10'000'000 + i));
    const auto sent = Clock::now();
    if (auto applied = nodes[0]->apply(batch); !applied) die(applied.error().message);
    std::unique_lock lock(mutex);
    if (!arrived.wait_for(lock, std::chrono::seconds(10), [&] { return seen.count(id) > 0; }))
      die("the change of " + id + " never reached the other node");
    latencies.push_back(std::chrono::duration<double, std::milli>(seen[id] - sent).count());
  }
  listener.stop();
  return latencies;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int jobs = 30000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--url")
      url = argv[i + 1];
    else if (flag == "--jobs")
      jobs = std::atoi(argv[i + 1]);
    else
      die("unknown option " + flag);
  }
  if (url.empty() || jobs < 3000) die("usage: haul_cluster_bench --url URL [--jobs N >= 3000]");

  for (int count = 1; count <= 3; ++count) {
    std::vector<std::unique_ptr<PostgresJobStore>> nodes;
    for (int n = 0; n < count; ++n) nodes.push_back(open_node(url, "node-" + std::to_string(n)));
    haul::store::WriteBatch clear;
    if (auto all = nodes[0]->load_jobs({}); all) {
      for (const Job& job : *all) clear.deletes.push_back(job.id);
    }
    if (auto cleared = nodes[0]->apply(clear); !cleared) die(cleared.error().message);

    const double per_s = enqueue(nodes, jobs, count);
    const std::vector<double> claims = claim_some(nodes, 3000);
    const std::vector<double> notify =
        count > 1 ? notify_latencies(url, nodes, 300, count) : std::vector<double>{};
    std::printf(
        "RESULT nodes=%d enqueue_per_s=%.0f claims=%zu claim_p50_ms=%.2f claim_p99_ms=%.2f "
        "notify_p50_ms=%.2f notify_p99_ms=%.2f\n",
        count, per_s, claims.size(), percentile(claims, 0.5), percentile(claims, 0.99),
        percentile(notify, 0.5), percentile(notify, 0.99));
    std::fflush(stdout);
  }
  return 0;
}
