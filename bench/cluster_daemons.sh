#!/usr/bin/env bash
# Several nodes on one PostgreSQL queue, at the daemon level: two `haul
# serve` nodes (release build, --lease 15s, one connection per download so
# nginx's limit_rate sets each job's pace) on the PostgreSQL bench/cluster.sh
# started, watched through their WebSockets by bench/cluster_progress.mjs.
#   progress: BENCH_CLUSTER_PROGRESS_JOBS jobs (default 4, all running at
#     once) pinned to node A, 64 MiB each at 2 MB/s; for each progress
#     message on B's WebSocket, the time since A's WebSocket showed the same
#     job at the same bytes (B shows what A stores, every 500 ms).
#   takeover: A runs a "node": "any" job (1 MB/s), B starts idle, A is
#     SIGKILLed; the time until B's WebSocket shows the job restarted and
#     its bytes growing. BENCH_CLUSTER_TAKEOVERS times (default 3), fresh
#     nodes and a fresh job each time, each kill at another point of A's
#     lease renewal period (lease / 3 = 5 s).
#   bench/cluster_daemons.sh POSTGRES_URL   (an empty database)
# Prints one line: RESULT progress_jobs=N progress_samples=N
# progress_unmatched=N progress_p50_ms=X progress_p99_ms=X
# takeover_s=X,Y,Z takeover_max_s=X
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
store=${1:?usage: bench/cluster_daemons.sh POSTGRES_URL}
progress_jobs=${BENCH_CLUSTER_PROGRESS_JOBS:-4}
takeovers=${BENCH_CLUSTER_TAKEOVERS:-3}
web_port=${BENCH_CLUSTER_WEB_PORT:-18450}
lease=15s renew_ms=5000
require_tools nginx node curl openssl
[ -d "$root/tests/node/node_modules/ws" ] || { echo "bench: tests/node/node_modules/ws is missing (./dev bench installs it)" >&2; exit 1; }

make_file cluster.bin 64
# sendfile off: limit_rate then trickles evenly. With sendfile, nginx sends
# 1 MiB a second in one burst, and A shows one value for a second, which no
# longer tells when A stored the copy B shows.
start_nginx cluster "server { listen 127.0.0.1:$web_port; root $work/www;
    location /progress/ { alias $work/www/; sendfile off; limit_rate 2m; }
    location /takeover/ { alias $work/www/; limit_rate 1m; } }"
nodes=$(mktemp -d "$work/cluster-nodes-XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_nginx cluster
  rm -rf "$nodes"
}
trap cleanup EXIT

# start_node NAME: `haul serve --node NAME`, its own data dir, the models
# root both nodes share (where an "any" job's partial file is resumed from);
# sets node_pid and node_url. Disowned: bash says nothing when one is killed.
start_node() {
  "$haul" serve --quiet --listen 127.0.0.1:0 --data-dir "$nodes/data-$1" --models-root "$nodes/models" \
    --store "$store" --node "$1" --lease "$lease" --connections 1 --max-active "$progress_jobs" >"$nodes/$1.out" &
  node_pid=$!
  disown "$node_pid"
  pids+=("$node_pid")
  for _ in $(seq 100); do
    node_url=$(sed -n 's/^haul: serving on //p' "$nodes/$1.out")
    [ -n "$node_url" ] && return 0
    sleep 0.1
  done
  echo "bench: node $1 did not come up" >&2; exit 1
}
# stop_node PID: SIGTERM (nothing if already killed), and gone.
stop_node() {
  local left=() pid
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then kill -KILL "$1"; fi
  for pid in "${pids[@]}"; do [ "$pid" = "$1" ] || left+=("$pid"); done
  pids=("${left[@]}")
}
json_get() { node -pe "JSON.parse(require('fs').readFileSync(0))$1"; }
# wait_job BASE ID CONDITION: polls GET /api/v1/jobs/ID until the JS
# CONDITION on `j` holds (10 s at most).
wait_job() {
  for _ in $(seq 100); do
    curl -sf "$1/api/v1/jobs/$2" |
      node -e "const j = JSON.parse(require('fs').readFileSync(0)); process.exit($3 ? 0 : 1)" && return 0
    sleep 0.1
  done
  echo "bench: job $2 never matched $3 on $1" >&2; exit 1
}

# --- progress: A's WebSocket to B's ---------------------------------------------------
echo "bench: $progress_jobs jobs on node A, progress seen from node B" >&2
start_node bench-a; a_pid=$node_pid a_url=$node_url
start_node bench-b; b_pid=$node_pid b_url=$node_url
bodies=()
for i in $(seq "$progress_jobs"); do
  bodies+=("{\"source\": \"http://127.0.0.1:$web_port/progress/cluster.bin\", \"dest\": \"progress/$i\", \"node\": \"bench-a\"}")
done
progress=$(node "$here/cluster_progress.mjs" latency "$a_url" "$b_url" "${bodies[@]}")
echo "bench: $progress" >&2
stop_node "$a_pid"; stop_node "$b_pid"

# --- takeover: A SIGKILLed, B resumes ---------------------------------------------------
times=()
for i in $(seq "$takeovers"); do
  start_node bench-a; a_pid=$node_pid a_url=$node_url
  id=$(curl -sf -H 'content-type: application/json' -d "{\"source\": \"http://127.0.0.1:$web_port/takeover/cluster.bin\", \"dest\": \"takeover/$i\", \"node\": \"any\"}" \
    "$a_url/api/v1/jobs" | json_get .id)
  # A runs it before B exists: B cannot claim it first.
  wait_job "$a_url" "$id" "j.state === 'running' && j.bytes_done > 0"
  start_node bench-b; b_pid=$node_pid b_url=$node_url
  taken=$(node "$here/cluster_progress.mjs" takeover "$b_url" "$id" "$a_pid" $(((i - 1) * renew_ms / takeovers)))
  stop_node "$a_pid"
  times+=("$(json_get '.seconds.toFixed(1)' <<<"$taken")")
  echo "bench: takeover $i: ${times[-1]} s" >&2
  # Cancelled and stored before B stops (a cancel still on its way when the
  # node stops is not kept), so the next A does not claim it again.
  curl -sf -X POST "$b_url/api/v1/jobs/$id/cancel" >/dev/null
  wait_job "$b_url" "$id" "j.state === 'cancelled'"
  stop_node "$b_pid"
  grep -q "job $id: its node stopped renewing its lease; taking the run over" "$nodes/data-bench-b/logs/downloads.log" ||
    { echo "bench: B's log does not show the takeover of $id" >&2; exit 1; }
done

max=$(printf '%s\n' "${times[@]}" | sort -g | tail -n 1)
echo "RESULT progress_jobs=$progress_jobs progress_samples=$(json_get .samples <<<"$progress") progress_unmatched=$(json_get .unmatched <<<"$progress")" \
  "progress_p50_ms=$(json_get '.p50_ms.toFixed(1)' <<<"$progress") progress_p99_ms=$(json_get '.p99_ms.toFixed(1)' <<<"$progress")" \
  "takeover_s=$(IFS=,; echo "${times[*]}") takeover_max_s=$max"
