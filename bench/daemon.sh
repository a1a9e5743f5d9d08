#!/usr/bin/env bash
# Daemon benchmark: the queue, the REST API and live events of `haul serve`
# (release build, SQLite store with synchronous=FULL, on this machine's disk).
#   (a) enqueue BENCH_JOBS jobs (default 100000) through batch POSTs of 1000,
#       4 in flight: durable jobs/s (the answer comes after the commit), and
#       the daemon's RSS with them queued; single-job POSTs from a Node client,
#       32 in flight, with GETs of those jobs timed meanwhile
#       (post_jobs.mjs); single-job POSTs from wrk, 64 connections;
#   (b) GET /api/v1/jobs/{id} under wrk, 64 connections, with those jobs stored;
#   (c) 1000 WebSocket subscribers while 20 jobs download: daemon CPU, against
#       the same downloads with no subscriber;
#   (d) RSS idle (empty queue) and with the jobs of (a) held.
# One nginx serves the downloads; queued jobs never start (--max-active 1 and
# a blocker throttled to 1 KiB/s). Load and daemon share this machine's cores.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
jobs=${BENCH_JOBS:-100000}
subscribers=${BENCH_SUBSCRIBERS:-1000}
duration=${BENCH_WRK_SECONDS:-10}
port=${BENCH_DAEMON_PORT:-18440}
web_port=$((port + 1))
node_modules=$root/tests/node/node_modules

require_tools nginx wrk node openssl
[ -d "$node_modules/ws" ] || { echo "bench: $node_modules/ws is missing (./dev bench installs it)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

make_file blocker.bin 64
make_file live.bin 48
start_nginx daemon "server { listen 127.0.0.1:$web_port; root $work/www;
    location /slow/ { alias $work/www/; limit_rate 1k; }
    location /live/ { alias $work/www/; limit_rate 2m; } }"

daemon_pid=
subscribers_pid=
cleanup() {
  [ -n "$subscribers_pid" ] && kill "$subscribers_pid" 2>/dev/null || true
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  stop_nginx daemon
}
trap cleanup EXIT

base=http://127.0.0.1:$port
# start_daemon ARGS...: a fresh data dir each time.
start_daemon() {
  rm -rf "$work/daemon" && mkdir -p "$work/daemon/models"
  "$haul" serve --quiet --listen "127.0.0.1:$port" --data-dir "$work/daemon/data" \
    --models-root "$work/daemon/models" "$@" &
  daemon_pid=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "bench: haul serve did not come up" >&2; exit 1
}
stop_daemon() { kill "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=; }
rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon_pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$daemon_pid/stat"; }
# json_get EXPR: evaluates JSON.parse(stdin)EXPR, e.g. `json_get .count`.
json_get() { node -pe "JSON.parse(require('fs').readFileSync(0))$1"; }
post_job() { curl -sf -H 'content-type: application/json' -d "$1" "$base/api/v1/jobs"; }
# wrk_field OUTPUT LABEL: "Requests/sec" or a latency percentile ("50%", "99%").
wrk_field() { awk -v l="$2" '$1 == l || $1 == l":" { print $2 }' <<<"$1"; }

# --- (d) idle RSS, then (a) enqueue, (b) reads ---------------------------------------
start_daemon --max-active 1
sleep 1
rss_idle=$(rss_mib)
post_job "{\"source\": \"http://127.0.0.1:$web_port/slow/blocker.bin\", \"dest\": \"blocker\"}" >/dev/null

echo "bench: enqueueing $jobs jobs" >&2
enqueue=$(node "$here/enqueue.mjs" "$base" "http://127.0.0.1:$web_port/queued" "$jobs" 1000 4)
jobs_per_s=$(json_get '.jobs_per_s.toFixed(0)' <<<"$enqueue")
enqueue_s=$(json_get '.seconds.toFixed(1)' <<<"$enqueue")
echo "bench: $jobs_per_s jobs/s; healthz $(curl -sf "$base/healthz")" >&2
rss_queued=$(rss_mib)
per_job_bytes=$(awk -v full="$rss_queued" -v idle="$rss_idle" -v n="$jobs" 'BEGIN { printf "%.0f", (full - idle) * 1048576 / n }')

echo "bench: single-job POSTs, 32 in flight" >&2
posts=$(node "$here/post_jobs.mjs" "$base" "http://127.0.0.1:$web_port/posted" "$duration" 32)
posts_per_s=$(json_get '.jobs_per_s.toFixed(0)' <<<"$posts")
post_p99=$(json_get '.post_p99_ms.toFixed(2)' <<<"$posts")
get_during_p50=$(json_get '.get_p50_ms.toFixed(2)' <<<"$posts")
get_during_p99=$(json_get '.get_p99_ms.toFixed(2)' <<<"$posts")

cat >"$work/post_one.lua" <<LUA
local n = 0
local id = 0
setup = function(thread) id = id + 1; thread:set("tid", id) end
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/jobs", {["Content-Type"] = "application/json"},
    '{"source": "http://127.0.0.1:$web_port/single/' .. tid .. '-' .. n .. '.bin", "dest": "single"}')
end
LUA
single=$(wrk -t2 -c64 -d"${duration}s" --latency -s "$work/post_one.lua" "$base")
single_rps=$(wrk_field "$single" Requests/sec)
single_p99=$(wrk_field "$single" 99%)

curl -sf "$base/api/v1/jobs?state=queued&limit=1000" |
  node -e "for (const j of JSON.parse(require('fs').readFileSync(0)).jobs) console.log(j.id)" >"$work/ids.txt"
[ "$(wc -l <"$work/ids.txt")" -gt 0 ] || { echo "bench: no job ids to read" >&2; exit 1; }
cat >"$work/get_job.lua" <<'LUA'
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
request = function() return wrk.format("GET", "/api/v1/jobs/" .. ids[math.random(#ids)]) end
LUA
# One wrk thread leaves the daemon a core of its own; two compete with it.
declare -A read_rps read_p50 read_p99
read_errors=0
for threads in 1 2; do
  reads=$(BENCH_IDS=$work/ids.txt wrk -t"$threads" -c64 -d"${duration}s" --latency -s "$work/get_job.lua" "$base")
  read_rps[$threads]=$(wrk_field "$reads" Requests/sec)
  read_p50[$threads]=$(wrk_field "$reads" 50%)
  read_p99[$threads]=$(wrk_field "$reads" 99%)
  read_errors=$((read_errors + $(grep -c "Non-2xx\|Socket errors" <<<"$reads" || true)))
done
stored=$(curl -sf "$base/api/v1/jobs?limit=1" | json_get .count)
rss_full=$(rss_mib)
stop_daemon

# --- (c) live events: 20 downloads with and without 1000 subscribers ----------------
# live_run LABEL: runs 20 downloads of live.bin, sets live_cpu / live_wall.
live_run() {
  local before after started ended ids=()
  before=$(cpu_ticks)
  started=$(date +%s.%N)
  for i in $(seq 20); do
    ids+=("$(post_job "{\"source\": \"http://127.0.0.1:$web_port/live/live.bin\", \"dest\": \"$1/$i\"}" |
      json_get .id)")
  done
  while [ "$(curl -sf "$base/api/v1/jobs?state=completed&limit=1" | json_get .count)" -lt "$2" ]; do
    sleep 0.2
  done
  ended=$(date +%s.%N)
  after=$(cpu_ticks)
  live_wall=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
  live_cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
}

start_daemon --max-active 20 -x 4
live_run quiet 20
quiet_cpu=$live_cpu quiet_wall=$live_wall
echo "bench: 20 downloads, no subscriber: ${quiet_cpu} s CPU in ${quiet_wall} s" >&2

fifo=$work/subscribers.out
rm -f "$fifo"
node "$here/ws_subscribers.mjs" "ws://127.0.0.1:$port/api/v1/ws" "$subscribers" >"$fifo" &
subscribers_pid=$!
for _ in $(seq 300); do grep -q ready "$fifo" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$fifo" || { echo "bench: the subscribers did not all connect" >&2; exit 1; }
rss_subscribed=$(rss_mib)
live_run loud 40
loud_cpu=$live_cpu loud_wall=$live_wall
sleep 0.5
kill "$subscribers_pid"; wait "$subscribers_pid" || true; subscribers_pid=
received=$(tail -n 1 "$fifo")
echo "bench: with $subscribers subscribers: ${loud_cpu} s CPU in ${loud_wall} s; $received" >&2
min_complete=$(json_get .min_complete <<<"$received")
per_sub=$(($(json_get .messages <<<"$received") / subscribers))
[ "$min_complete" -ge 20 ] || { echo "bench: a subscriber missed completions ($received)" >&2; exit 1; }
stop_daemon

pct() { awk -v c="$1" -v w="$2" 'BEGIN { printf "%.0f", 100 * c / w }'; }
print_report() {
  cat <<EOF
## Daemon: queue, REST API, live events

Measured by \`./dev bench\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(stat -f -c %T "$work") ($work),
SQLite in WAL mode with synchronous=FULL. wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2) and Node.js
run on the same 2 cores as the daemon. RSS with subscribers includes the
transfer buffers left from the downloads before them.

| measure | haul | target |
|---|---|---|
| enqueue $jobs jobs, batches of 1000, 4 in flight | $jobs_per_s jobs/s ($enqueue_s s) | >= 5000 jobs/s |
| RSS with those $jobs jobs queued | $rss_queued MiB ($per_job_bytes bytes per job over idle) | < 150 MiB at 100,000 (<= 1 KiB a job) |
| single-job POSTs, Node client, 32 in flight, each durable before its 201 | $posts_per_s jobs/s, p99 $post_p99 ms | >= 6000 jobs/s |
| GET /api/v1/jobs/{id} meanwhile (one more client) | p50 $get_during_p50 ms, p99 $get_during_p99 ms | p99 < 5 ms |
| single-job POST, wrk 64 connections | $single_rps jobs/s, p99 $single_p99 | |
| GET /api/v1/jobs/{id}, wrk -t1 64 connections, $stored jobs stored | ${read_rps[1]} req/s, p50 ${read_p50[1]}, p99 ${read_p99[1]} | p99 < 5 ms |
| same, wrk -t2 | ${read_rps[2]} req/s, p50 ${read_p50[2]}, p99 ${read_p99[2]} | |
| 20 downloads (48 MiB each, 4 connections at 2 MB/s), no subscriber | daemon CPU $quiet_cpu s in $quiet_wall s ($(pct "$quiet_cpu" "$quiet_wall") % of a core) | |
| same with $subscribers WebSocket subscribers | daemon CPU $loud_cpu s in $loud_wall s ($(pct "$loud_cpu" "$loud_wall") % of a core); $per_sub messages each, none missed a completion | |
| RSS idle, empty queue | $rss_idle MiB | < 20 MB |
| RSS with $stored jobs held | $rss_full MiB | |
| RSS with $subscribers subscribers connected | $rss_subscribed MiB | |
EOF
}
report=$(print_report)
[ "$read_errors" -eq 0 ] || report+=$'\n\n'"wrk reported non-2xx answers or socket errors during the reads."
echo "$report"
if [ -z "${BENCH_NO_WRITE:-}" ]; then
  write_section "$results" daemon "$report"
  echo "bench: wrote $results" >&2
fi
