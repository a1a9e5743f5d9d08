#!/usr/bin/env bash
# Web UI benchmark: the Downloads view of `haul serve` (release build, the
# assets built into the binary) in Debian's Chromium, headless, on this
# machine; issue 13's "first render under 300 ms against a local daemon;
# 1,000 jobs with 50 active stay smooth".
#   (a) first render with 0 jobs, 200 jobs and 1,000 jobs, 50 of them
#       downloading: median of BENCH_UI_LOADS fresh page loads (default 5,
#       each in a new browser context, so nothing cached), measured inside
#       the page (bench/ui_render.mjs), with first paint, DOMContentLoaded,
#       the page's own GET /api/v1/jobs, long tasks and the assets' bytes;
#   (b) the same GET /api/v1/jobs from curl (size, time; median of 5);
#   (c) with 1,000 jobs, 50 active: the job list scrolled from top to bottom
#       over BENCH_UI_SCROLL_SECONDS (default 3) while the 50 downloads send
#       their progress: frame intervals and long tasks.
# Each queue size gets a fresh daemon (--max-active 50) and its jobs in one
# batch POST; every (N/50)-th job has priority 1, so those 50 run and their
# rows are spread over the whole list. The downloads come from a private
# nginx throttled to BENCH_UI_RATE per connection (`limit_rate`, default 2k),
# so they keep running (and sending progress) for the whole measurement and
# the other jobs stay queued. Browser, daemon and nginx share this machine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
port=${BENCH_UI_PORT:-18450}
web_port=$((port + 1))
loads=${BENCH_UI_LOADS:-5}
scroll_seconds=${BENCH_UI_SCROLL_SECONDS:-3}
rate=${BENCH_UI_RATE:-2k}
active=50
node_modules=$root/tests/node/node_modules
chromium=${HAUL_UI_CHROMIUM:-/usr/bin/chromium}

require_tools nginx node curl
[ -x "$chromium" ] || { echo "bench: $chromium is missing (./dev bench installs it)" >&2; exit 1; }
[ -d "$node_modules/playwright-core" ] ||
  { echo "bench: $node_modules/playwright-core is missing (./dev bench installs it)" >&2; exit 1; }

# Every job fetches this file under a name of its own: /slow/N/model-N.safetensors.
make_file ui.bin 16
start_nginx ui "server { listen 127.0.0.1:$web_port; root $work/www;
    location /slow/ { rewrite ^ /ui.bin break; limit_rate $rate; } }"

data=$work/ui
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  stop_nginx ui
  rm -rf "$data"  # the downloads' preallocated files
}
trap cleanup EXIT

base=http://127.0.0.1:$port
# start_daemon: a fresh data dir each time.
start_daemon() {
  rm -rf "$data" && mkdir -p "$data/models"
  "$haul" serve --quiet --listen "127.0.0.1:$port" --data-dir "$data/data" \
    --models-root "$data/models" --max-active "$active" >&2 &  # stdout: the report only
  daemon_pid=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "bench: haul serve did not come up" >&2; exit 1
}
stop_daemon() { kill "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=; }

# json_get EXPR: evaluates JSON.parse(stdin)EXPR, e.g. `json_get .count`.
json_get() { node -pe "JSON.parse(require('fs').readFileSync(0))$1"; }
count_jobs() { curl -sf "$base/api/v1/jobs?limit=1${1:+&state=$1}" | json_get .count; }

# add_jobs N: one batch POST of N jobs; every (N / active)-th has priority 1
# (the scheduler starts the highest priority first).
add_jobs() {
  awk -v n="$1" -v every=$(($1 / active)) -v u="http://127.0.0.1:$web_port/slow" 'BEGIN {
    printf "{\"jobs\": ["
    for (i = 1; i <= n; i++)
      printf "%s{\"source\": \"%s/%d/model-%04d.safetensors\", \"dest\": \"ui\", \"priority\": %d}",
        (i > 1 ? ", " : ""), u, i, i, (i % every == 0)
    printf "]}" }' |
    curl -sf -o /dev/null -H 'content-type: application/json' --data-binary @- "$base/api/v1/jobs" ||
    { echo "bench: POST /api/v1/jobs of $1 jobs failed" >&2; exit 1; }
}

# wait_running: until $active jobs download, all of them of priority 1.
wait_running() {
  local ones='.jobs.filter((j) => j.priority === 1).length'
  for _ in $(seq 600); do
    [ "$(curl -sf "$base/api/v1/jobs?state=running" | json_get "$ones")" -ge "$active" ] && return 0
    sleep 0.1
  done
  echo "bench: $(count_jobs running) jobs running, not the $active of priority 1" >&2; exit 1
}

# api_curl: median size and time of GET /api/v1/jobs from curl (5 runs).
api_curl() {
  for _ in 1 2 3 4 5; do
    curl -sf -o /dev/null -H 'accept-encoding: gzip' -w '%{size_download} %{time_total}\n' "$base/api/v1/jobs"
  done | sort -k2 -g | sed -n 3p | awk '{ printf "%.1f KB in %.1f ms", $1 / 1000, $2 * 1000 }'
}

declare -A render api jobs_now
running_after=
ended=0
# measure KEY JOBS [SCROLL_SECONDS]: a fresh daemon holding JOBS jobs ($active
# of them downloading); ui_render.mjs's JSON into render[KEY].
measure() {
  start_daemon
  if [ "$2" -gt 0 ]; then add_jobs "$2"; wait_running; fi
  jobs_now[$1]=$(count_jobs)
  echo "bench: ui: ${jobs_now[$1]} jobs ($(count_jobs running) running), $loads loads${3:+, then scrolling}" >&2
  api[$1]=$(api_curl)
  render[$1]=$(node "$here/ui_render.mjs" "$base" "$loads" "${3:-0}")
  echo "bench: ui: ${render[$1]}" >&2
  if [ "$2" -gt 0 ]; then
    running_after+="${running_after:+, }$(count_jobs running)"
    ended=$((ended + $(count_jobs completed) + $(count_jobs failed)))
  fi
  stop_daemon
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
measure empty 0
measure j200 200
measure j1000 1000 "$scroll_seconds"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# get KEY EXPR: EXPR evaluated over render[KEY] as `j`, e.g. `get j200 j.render_ms`.
get() { J=${render[$1]} node -pe "const j = JSON.parse(process.env.J); $2"; }
# row KEY LABEL: one line of table (a).
row() {
  printf '| %s | **%s ms** (%s) | %s | %s / %s / %s ms | %s -> %s ms (first byte +%s ms), %s KB | %s ms | %s (%s ms, longest %s ms) | %s |\n' \
    "$2" "$(get "$1" j.render_ms)" "$(get "$1" 'j.render_all_ms.join(", ")')" \
    "$(get "$1" 'j.kind === "empty" ? "empty state" : j.rows')" \
    "$(get "$1" j.fcp_ms)" "$(get "$1" j.assets_done_ms)" "$(get "$1" j.dcl_ms)" \
    "$(get "$1" j.jobs_request_start_ms)" "$(get "$1" j.jobs_request_end_ms)" "$(get "$1" j.jobs_first_byte_ms)" \
    "$(get "$1" '(j.jobs_bytes / 1000).toFixed(1)')" "$(get "$1" j.after_jobs_ms)" \
    "$(get "$1" j.longtasks)" "$(get "$1" j.longtask_ms)" "$(get "$1" j.longtask_max_ms)" "${api[$1]}"
}
s() { get j1000 "j.scroll.$1"; }

print_report() {
  cat <<EOF
## Web UI: first render and scrolling

Measured by \`./dev bench ui\` on $(date -u +%Y-%m-%d), $(nproc) cores, $("$chromium" --version 2>/dev/null | head -1 | cut -d' ' -f1-2)
headless (\`--disable-gpu\`, 1280x800) driven by playwright-core, against a
release \`haul serve\` on 127.0.0.1, a fresh one per queue size (--max-active $active;
every (N/$active)-th job has priority 1, so $active downloads spread over the list run
from nginx at $rate/s per connection and the rest stay queued).
Browser, daemon and nginx share the $(nproc) cores, which also ran other work
(load average $load_before before, $load_after after).
Each figure is the median of $loads page loads, each in a fresh browser context
(nothing cached), after one warm-up load; times are from navigation start,
measured inside the page. "First render" is the end of the frame that first
shows a job row (or "No downloads yet"); "assets loaded" is when the last of
index.html's files arrived. The page's GET /api/v1/jobs is timed by Resource
Timing (sent -> complete, first byte after sending) with its size as sent (the
API does not compress); "answer -> render" is the page's own work on it
(JSON parse, store, list). Long tasks: over 50 ms, up to the render.

| queue | first render (each load) | rows shown | first paint / assets loaded / DOMContentLoaded | the page's GET /api/v1/jobs: sent -> complete, size | answer -> render | long tasks | same GET from curl |
|---|---|---|---|---|---|---|---|
$(row empty "0 jobs")
$(row j200 "${jobs_now[j200]} jobs, $active active")
$(row j1000 "${jobs_now[j1000]} jobs, $active active")

Target: first render < 300 ms. Assets: $(get empty j.assets) files (index.html included),
$(get empty '(j.assets_encoded / 1024).toFixed(1)') KiB compressed ($(get empty '(j.assets_decoded / 1024).toFixed(1)') KiB uncompressed; Content-Encoding
$(get empty j.encodings) with Accept-Encoding "$(get empty j.accept_encoding)"); target < 150 KB.

Scrolling the list of ${jobs_now[j1000]} jobs from top to bottom in $(s seconds) s
(scrollTop set from every requestAnimationFrame) while $active jobs download
(header: $(s header_active) active, $(s header_queued) queued; $(s ws_messages) WebSocket messages received meanwhile;
the page had fetched the whole list $(s jobs_gets_before) times since it loaded):

| frames | frame interval p50 | p95 | max | frames > 50 ms | long tasks (longest) | rows in the DOM at most | list height | reached the last row |
|---|---|---|---|---|---|---|---|---|
| $(s frames) | $(s frame_p50_ms) ms | $(s frame_p95_ms) ms | $(s frame_max_ms) ms | $(s frames_over_50ms) | $(s longtasks) ($(s longtask_max_ms) ms) | $(s rows_in_dom_max) | $(s list_px) px | $(s reached_bottom) |
EOF
}
report=$(print_report)
[ "$running_after" = "$active, $active" ] && [ "$ended" -eq 0 ] ||
  report+=$'\n\n'"After the loads, $running_after jobs were running and $ended had completed or failed (expected $active and 0)."
for key in empty j200 j1000; do
  problems=$(get "$key" 'j.problems.join("; ")')
  [ -z "$problems" ] || report+=$'\n\n'"Console problems during the ${jobs_now[$key]}-job loads: $problems"
done
echo "$report"
if [ -z "${BENCH_NO_WRITE:-}" ]; then
  write_section "$results" ui "$report"
  echo "bench: wrote $results" >&2
fi
