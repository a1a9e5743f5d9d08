#!/usr/bin/env bash
# Crash cost: what a SIGKILL mid-download costs when the same command is run
# again, for haul and, side by side in the same run, curl -C - and aria2c -c.
# A download is killed at several points, rerun to the end and verified; the
# cost is every byte the server sent in both runs beyond the file's size
# (bytes haul never wrote, or wrote but had not yet recorded as safe, and
# bytes in flight on connections the kill cut off), counted by nginx, and
# expressed as seconds of transfer at the download's rate.
#   (a) 8 MB/s: nginx limit_rate 1m per connection with 8 connections (haul
#       -x 8, aria2c -x 8), limit_rate 8m for one connection (haul -x 1, curl);
#   (b) full speed: no limit, haul -x 8 (rate measured from the first run).
# BENCH_KILL_SIZE_MIB (default 128) at 8 MB/s, BENCH_KILL_FAST_MIB (default
# 2048) at full speed; kill points BENCH_KILL_POINTS (default "25 50 75",
# percent of the time a clean run takes).
# Writes the tables to stdout and to their section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
size=${BENCH_KILL_SIZE_MIB:-128}
fast_size=${BENCH_KILL_FAST_MIB:-2048}
points=${BENCH_KILL_POINTS:-"25 50 75"}
port=${BENCH_PORT:-18441}
rate=$((8 * 1000 * 1000))  # bytes/s of case (a)

require_tools nginx curl aria2c openssl awk

out=$work/kill-out
mkdir -p "$out"
make_file kill.bin "$size"
make_file fast.bin "$fast_size"
sha=$(cat "$work/www/kill.bin.sha256")
fast_sha=$(cat "$work/www/fast.bin.sha256")
log=$work/nginx-killcost/access.log

start_nginx killcost "log_format sent '\$request_uri \$body_bytes_sent';
  server { listen 127.0.0.1:$port; root $work/www; limit_rate 1m; access_log $log sent; }
  server { listen 127.0.0.1:$((port + 1)); root $work/www; limit_rate 8m; access_log $log sent; }
  server { listen 127.0.0.1:$((port + 2)); root $work/www; access_log $log sent; }"
trap 'stop_nginx killcost; rm -rf "$out"' EXIT

# Bytes nginx sent for `uri` since the log was emptied. nginx logs a request
# when it ends, a cut-off one when it notices: wait for the count to settle.
sent_bytes() {
  local uri=$1 last=-1 now
  while true; do
    now=$(awk -v u="$uri" '$1 == u { s += $2 } END { printf "%.0f", s }' "$log" 2>/dev/null || echo 0)
    [ "$now" = "$last" ] && { echo "$now"; return; }
    last=$now
    sleep 0.5
  done
}

# kill_case NAME FILE_URI FILE_SHA BYTES SECONDS_TO_KILL COMMAND...
# Prints "refetched_bytes first_run_bytes".
kill_case() {
  local name=$1 uri=$2 want=$3 bytes=$4 at=$5; shift 5
  rm -rf "$out" && mkdir -p "$out" && : >"$log"
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$at"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local first
  first=$(sent_bytes "$uri")
  "$@" >/dev/null 2>"$work/kill-stderr.txt" || {
    echo "bench: $name rerun failed:" >&2; cat "$work/kill-stderr.txt" >&2; exit 1; }
  local got
  got=$(openssl dgst -sha256 -r "$out/k.bin" | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "bench: $name wrote a corrupt file" >&2; exit 1; }
  local total
  total=$(sent_bytes "$uri")
  echo "$((total - bytes)) $first"
}

# One table row: the refetched bytes at each kill point, as MiB and as
# seconds of transfer at `per_second`.
rows=()
measure() {  # LABEL FILE_URI SHA BYTES CLEAN_SECONDS PER_SECOND(0 = from run 1) COMMAND...
  local label=$1 uri=$2 want=$3 bytes=$4 clean=$5 per_second=$6; shift 6
  local cells="" worst=0
  for p in $points; do
    local at
    at=$(awk -v c="$clean" -v p="$p" 'BEGIN { printf "%.2f", c * p / 100 }')
    read -r refetched first < <(kill_case "$label" "$uri" "$want" "$bytes" "$at" "$@")
    local r=$per_second
    [ "$r" -gt 0 ] || r=$(awk -v f="$first" -v t="$at" 'BEGIN { printf "%.0f", f / t }')
    local secs
    secs=$(awk -v b="$refetched" -v r="$r" 'BEGIN { printf "%.2f", b / r }')
    cells+=" $(awk -v b="$refetched" 'BEGIN { printf "%.1f", b / 1048576 }') MiB = ${secs} s |"
    worst=$(awk -v a="$worst" -v b="$secs" 'BEGIN { print (b > a) ? b : a }')
    echo "bench: $label killed at $p %: refetched $refetched bytes (${secs} s)" >&2
  done
  rows+=("| $label |$cells $worst |")
}

bytes=$((size * 1048576))
fast_bytes=$((fast_size * 1048576))
clean=$(awk -v b="$bytes" -v r="$rate" 'BEGIN { print b / r }')
url=http://127.0.0.1:$port/kill.bin
url8=http://127.0.0.1:$((port + 1))/kill.bin
fast_url=http://127.0.0.1:$((port + 2))/fast.bin

measure "haul get -x 8 (8 x 1 MB/s)" /kill.bin "$sha" "$bytes" "$clean" "$rate" \
  "$haul" get -q -x 8 --sha256 "$sha" -o "$out/k.bin" "$url"
measure "haul get -x 1 (8 MB/s)" /kill.bin "$sha" "$bytes" "$clean" "$rate" \
  "$haul" get -q -x 1 --sha256 "$sha" -o "$out/k.bin" "$url8"
measure "curl -C - (8 MB/s)" /kill.bin "$sha" "$bytes" "$clean" "$rate" \
  curl -sf -C - -o "$out/k.bin" "$url8"
measure "aria2c -x8 -c (8 x 1 MB/s)" /kill.bin "$sha" "$bytes" "$clean" "$rate" \
  aria2c -q -x8 -s8 -c --auto-file-renaming=false -d "$out" -o k.bin "$url"

# Full speed: the clean time is measured first.
rm -rf "$out" && mkdir -p "$out"
start=$(date +%s.%N)
"$haul" get -q -x 8 -o "$out/k.bin" "$fast_url"
fast_clean=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
measure "haul get -x 8 (full speed)" /fast.bin "$fast_sha" "$fast_bytes" "$fast_clean" 0 \
  "$haul" get -q -x 8 --sha256 "$fast_sha" -o "$out/k.bin" "$fast_url"

header="| tool |"
rule="|---|"
for p in $points; do header+=" killed at $p % |"; rule+="---|"; done
header+=" worst s |"
rule+="---|"
table=$(printf '%s\n%s\n' "$header" "$rule"; printf '%s\n' "${rows[@]}")
text=$(cat <<EOF
## Crash cost: bytes fetched again after a SIGKILL

Measured by \`./dev bench killcost\` on $(date +%F), $(nproc) cores, $(df -T "$work" | awk 'NR == 2 { print $2 }') ($work),
nginx on 127.0.0.1. A download of ${size} MiB at 8 MB/s (${fast_size} MiB at full
speed, $(awk -v b="$fast_bytes" -v t="$fast_clean" 'BEGIN { printf "%.0f", b / t / 1e6 }') MB/s) is killed with SIGKILL at a share of a clean run's
time, then the same command runs to the end and the file is verified.
Refetched = every byte nginx sent in both runs beyond the file's size,
cut-off connections included; seconds = refetched / download rate.
Target: at most 1 s of bytes.

$table

curl and aria2c write through the page cache and trust the file's length
(curl) or their control file (aria2c, saved every 60 s by default); a
process kill loses no page cache, but a power cut can leave curl a file
longer than what reached the disk. haul counts only bytes it has
fdatasync'ed and recorded (every 0.5 s, and 0.1 s after a burst), so its
figure holds for a power cut too. Before this change (checkpoints every 1 s, without
the partly filled buffers) a kill at 40 % cost haul 2 to 3.5 s of bytes at 8 MB/s.
EOF
)
echo "$text"
write_section "$results" killcost "$text"
