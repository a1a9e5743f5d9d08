#!/usr/bin/env bash
# Several nodes on one PostgreSQL queue, at the store level (issue 15's
# benchmark, the figures that exist so far): haul_cluster_bench
# (bench/cluster_bench.cpp, release build) runs 1, 2 and 3 nodes, each a
# PostgresJobStore on its own thread and connection, against a PostgreSQL 15
# started here (initdb and pg_ctl as the postgres account: PostgreSQL refuses
# root), durable as shipped (fsync and synchronous_commit on). Figures:
# enqueues/s in batches of 1,000 jobs, claim() latency while every node
# claims, commit-to-listener latency between two nodes.
# BENCH_CLUSTER_JOBS (default 30000). Writes its section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench_uses_haul=no  # a library benchmark: lib.sh need not find the haul binary
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
cd "$root"

output=$("$bench" --url "postgres://postgres@127.0.0.1:$port/haul_bench" --jobs "$jobs")
printf '%s\n' "$output"
row() {  # row N: the RESULT line of N nodes as a table row (one node notifies no other)
  local notify='\5 \/ \6'
  [ "$1" -eq 1 ] && notify='(no other node)'
  grep "^RESULT nodes=$1 " <<<"$output" | sed -E 's/.* enqueue_per_s=([^ ]*) claims=([^ ]*) claim_p50_ms=([^ ]*) claim_p99_ms=([^ ]*) notify_p50_ms=([^ ]*) notify_p99_ms=([^ ]*)/| '"$1"' | \1 | \3 \/ \4 | '"$notify"' |/'
}

text="## Cluster: several nodes on one PostgreSQL queue (store level)

Measured by \`./dev bench cluster\` on $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL 15 on this
machine with fsync and synchronous_commit on, $jobs jobs per node count.
Each node is a PostgresJobStore on its own thread and connection (what a
daemon's DB worker is); nodes, PostgreSQL and the load share the 2 cores.
Enqueue: batches of 1,000 one-file jobs, each committed (a daemon groups a
burst of POSTs the same way). Claim: every node claims one job at a time
until 3,000 are claimed (each claim is a transaction of its own, committed).
Notify: node 0 commits 300 single-job batches; the time from the apply()
call (its commit included) to node 1's listener callback (2 and 3 nodes).
Not measured yet (they need the scheduler's side, docs/design/cluster.md):
progress on node A to a WebSocket message on node B, takeover after SIGKILL.

| nodes | durable enqueues/s | claim p50 / p99 ms | notify p50 / p99 ms |
|---|---|---|---|
$(row 1)
$(row 2)
$(row 3)

Targets (issue 15): enqueues >= 5,000/s batched; claim p99 < 50 ms."

write_section "$root/bench/RESULTS.md" cluster "$text"
echo "bench: wrote $root/bench/RESULTS.md" >&2
