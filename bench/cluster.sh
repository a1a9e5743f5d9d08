#!/usr/bin/env bash
# Several nodes on one PostgreSQL queue (issue 15's benchmark), against a
# PostgreSQL 15 started here (initdb and pg_ctl as the postgres account:
# PostgreSQL refuses root), durable as shipped (fsync and synchronous_commit
# on). First the store level: haul_cluster_bench (bench/cluster_bench.cpp,
# release build) runs 1, 2 and 3 nodes, each a PostgresJobStore on its own
# thread and connection: enqueues/s in batches of 1,000 jobs, claim()
# latency while every node claims, commit-to-listener latency between two
# nodes. Then the daemon level, bench/cluster_daemons.sh on a database of its
# own: progress on node A to node B's WebSocket, takeover after a SIGKILL.
# BENCH_CLUSTER_JOBS (default 30000). Writes its section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench=${HAUL_CLUSTER_BENCH:-$root/build/release/src/store/postgres/haul_cluster_bench}
jobs=${BENCH_CLUSTER_JOBS:-30000}
bin=/usr/lib/postgresql/15/bin
[ -x "$bench" ] || { echo "bench: $bench is missing (./dev bench cluster builds it)" >&2; exit 1; }
[ -x "$bin/initdb" ] || { echo "bench: $bin/initdb is missing (Debian package postgresql)" >&2; exit 1; }

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg=$(mktemp -d /tmp/haul-bench-pg-XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres: "$pg"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  (cd "$pg" && as_postgres "$bin/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null 2>&1) || true
  rm -rf "$pg"
}
trap cleanup EXIT
cd "$pg"
as_postgres "$bin/initdb" -D "$pg/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$bin/pg_ctl" -D "$pg/data" -l "$pg/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $pg -c max_connections=50" start >/dev/null
as_postgres "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE haul_bench" postgres
as_postgres "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE haul_daemons" postgres
cd "$root"

output=$("$bench" --url "postgres://postgres@127.0.0.1:$port/haul_bench" --jobs "$jobs")
printf '%s\n' "$output"
row() {  # row N: the RESULT line of N nodes as a table row (one node notifies no other)
  local notify='\5 \/ \6'
  [ "$1" -eq 1 ] && notify='(no other node)'
  grep "^RESULT nodes=$1 " <<<"$output" | sed -E 's/.* enqueue_per_s=([^ ]*) claims=([^ ]*) claim_p50_ms=([^ ]*) claim_p99_ms=([^ ]*) notify_p50_ms=([^ ]*) notify_p99_ms=([^ ]*)/| '"$1"' | \1 | \3 \/ \4 | '"$notify"' |/'
}

daemons=$("$here/cluster_daemons.sh" "postgres://postgres@127.0.0.1:$port/haul_daemons")
printf '%s\n' "$daemons"
field() { sed -nE "s/.* $1=([^ ]*).*/\1/p" <<<"$daemons"; }  # field NAME: from its RESULT line
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

text="## Cluster: several nodes on one PostgreSQL queue (store and daemon level)

Measured by \`./dev bench cluster\` on $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL 15 on this
machine with fsync and synchronous_commit on, $jobs jobs per node count.
Each node is a PostgresJobStore on its own thread and connection (what a
daemon's DB worker is); nodes, PostgreSQL and the load share the 2 cores.
Enqueue: batches of 1,000 one-file jobs, each committed (a daemon groups a
burst of POSTs the same way). Claim: every node claims one job at a time
until 3,000 are claimed (each claim is a transaction of its own, committed).
Notify: node 0 commits 300 single-job batches; the time from the apply()
call (its commit included) to node 1's listener callback (2 and 3 nodes).
Daemons (bench/cluster_daemons.sh): two \`haul serve\` nodes, A and B
(release build, --lease 15s, one connection per download), on a database of
their own, watched over their WebSockets from one Node.js process (one
clock). Progress: $(field progress_jobs) jobs pinned to A at once, 64 MiB each trickled at
2 MB/s by nginx; for each progress message on B, the time since A showed the
same bytes (A stores progress every 500 ms and B shows what is stored; the
$(field progress_unmatched) values A stored between two of its own messages are not counted).
Takeover: A runs a \"node\": \"any\" job, B starts idle, A is SIGKILLed (each
time at another point of its 5 s lease renewal); the time until B's
WebSocket shows the job restarted and its bytes growing (fresh nodes and
job each time).

| nodes | durable enqueues/s | claim p50 / p99 ms | notify p50 / p99 ms |
|---|---|---|---|
$(row 1)
$(row 2)
$(row 3)

| daemon level | measured | target | ratio to target |
|---|---|---|---|
| progress A -> B's WebSocket, p50 / p99 ($(field progress_samples) samples) | $(field progress_p50_ms) / $(field progress_p99_ms) ms | p99 < 200 ms | $(ratio "$(field progress_p99_ms)" 200) |
| takeover after SIGKILL, each / max | $(field takeover_s | sed 's/,/, /g') s / $(field takeover_max_s) s | <= lease + 5 s = 20 s | $(ratio "$(field takeover_max_s)" 20) |

Targets (issue 15): enqueues >= 5,000/s batched; claim p99 < 50 ms;
progress to another node's clients p99 < 200 ms; takeover <= lease + 5 s."

write_section "$root/bench/RESULTS.md" cluster "$text"
echo "bench: wrote $root/bench/RESULTS.md" >&2
