#!/usr/bin/env bash
# Transfer benchmark: `haul get` side by side with dd, curl, wget and aria2c
# in one run, all fetching from a local nginx (own config, 127.0.0.1) to disk.
#   (a) no rate limit, a BENCH_SIZE_MIB file (default 2048); dd copying the
#       same file (bs=4M conv=fdatasync) is the disk's ceiling of the moment;
#   (b) nginx `limit_rate 50m` per connection (a CDN capping each connection),
#       a BENCH_CAPPED_SIZE_MIB file (default 1024);
#   (c) 8 files of BENCH_MANY_MIB (default 256) at once: haul get's memory
#       with several files in flight.
# The disk of a VM is noisy from minute to minute, so the tools run in
# rounds, one after the other within a round (BENCH_ROUNDS, default 5), and
# haul's speed is compared with dd's of the same round. Each figure is the
# median over the rounds. Times run until the data is on disk: haul and dd
# flush before they exit; every command is followed by `sync` all the same.
# Peak RSS and CPU come from /usr/bin/time for every run.
# Writes the tables to stdout and to their section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
size_a=${BENCH_SIZE_MIB:-2048}
size_b=${BENCH_CAPPED_SIZE_MIB:-1024}
size_c=${BENCH_MANY_MIB:-256}
rounds=${BENCH_ROUNDS:-5}
port_a=${BENCH_PORT:-18431}
port_b=$((port_a + 1))

require_tools nginx curl wget aria2c dd openssl /usr/bin/time

out=$work/out
make_file a.bin "$size_a"
make_file b.bin "$size_b"
for i in 1 2 3 4 5 6 7 8; do make_file "c$i.bin" "$size_c"; done
sha_a=$(cat "$work/www/a.bin.sha256")
sha_b=$(cat "$work/www/b.bin.sha256")

start_nginx transfer "server { listen 127.0.0.1:$port_a; root $work/www; }
  server { listen 127.0.0.1:$port_b; root $work/www; limit_rate 50m; }"
trap 'stop_nginx transfer; rm -rf "$out"' EXIT

# --- measuring -----------------------------------------------------------------
# samples[KEY] collects "wall cpu rss_kib" lines, one per round.
declare -A samples size_of
declare -a ratios_dd=()

# run KEY SIZE_MIB EXPECTED_SHA OUTFILE COMMAND: one run, recorded under KEY.
# The output is checked against the SHA-256 in the first round.
run() {
  local key=$1 size=$2 sha=$3 file=$4 command=$5
  rm -rf "$out" && mkdir -p "$out" && sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" sh -c "$command && sync" >/dev/null 2>"$work/stderr.txt" || {
    echo "bench: $key failed:" >&2; cat "$work/stderr.txt" >&2; exit 1; }
  read -r w u s m <"$work/time.txt"
  samples[$key]+="$w $(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }') $m"$'\n'
  size_of[$key]=$size
  if [ -n "$sha" ] && [ "${round:-1}" -eq 1 ]; then
    local got
    got=$(cat $file | openssl dgst -sha256 -r | cut -d' ' -f1)
    [ "$got" = "$sha" ] || { echo "bench: $key wrote a corrupt file ($got)" >&2; exit 1; }
  fi
  last_wall=$w
}

# Warm-up: on VMs whose memory the host backs lazily, the first few GB of
# page cache a run touches cost several times more than later ones.
echo "bench: warming up" >&2
for ((i = 0; i < 2; i++)); do
  rm -rf "$out" && mkdir -p "$out"
  dd if="$work/www/a.bin" of="$out/warm.bin" bs=4M conv=fdatasync status=none
done

url_a=http://127.0.0.1:$port_a/a.bin
url_b=http://127.0.0.1:$port_b/b.bin
urls_c=$(for i in 1 2 3 4 5 6 7 8; do printf 'http://127.0.0.1:%s/c%s.bin ' "$port_a" "$i"; done)
aria=(aria2c -q --allow-overwrite=true --auto-file-renaming=false -d "$out")

for ((round = 1; round <= rounds; round++)); do
  echo "bench: round $round of $rounds" >&2
  run a_dd "$size_a" "" "" "dd if=$work/www/a.bin of=$out/dd.bin bs=4M conv=fdatasync status=none"
  dd_wall=$last_wall
  run a_haul "$size_a" "$sha_a" "$out/a.bin" "$haul get -q -x 8 --sha256 $sha_a -o $out/a.bin $url_a"
  ratios_dd+=("$(awk -v d="$dd_wall" -v h="$last_wall" 'BEGIN { printf "%.2f", d / h }')")
  run a_curl "$size_a" "$sha_a" "$out/a.bin" "curl -sf -o $out/a.bin $url_a"
  run a_wget "$size_a" "$sha_a" "$out/a.bin" "wget -q -O $out/a.bin $url_a"
  run a_aria2c "$size_a" "$sha_a" "$out/a.bin" "${aria[*]} -x16 -s16 -o a.bin $url_a"

  run b_haul16 "$size_b" "$sha_b" "$out/b.bin" "$haul get -q -x 16 --sha256 $sha_b -o $out/b.bin $url_b"
  run b_haul8 "$size_b" "$sha_b" "$out/b.bin" "$haul get -q -x 8 --sha256 $sha_b -o $out/b.bin $url_b"
  run b_aria2c "$size_b" "$sha_b" "$out/b.bin" "${aria[*]} -x16 -s16 -o b.bin $url_b"
  [ "$round" -eq 1 ] && run b_curl "$size_b" "$sha_b" "$out/b.bin" "curl -sf -o $out/b.bin $url_b"  # 21 s: once

  run c_haul $((8 * size_c)) "" "" "$haul get -q -x 8 -d $out $urls_c"
  run c_aria2c $((8 * size_c)) "" "" "${aria[*]} -j8 -x8 -s8 -Z $urls_c"
done

# --- report --------------------------------------------------------------------
# median KEY FIELD: the median of field 1 (wall s), 2 (CPU s) or 3 (RSS KiB).
median() {
  printf '%s' "${samples[$1]}" | awk -v f="$2" 'NF { print $f }' | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mbps() { awk -v size="${size_of[$1]}" -v w="$(median "$1" 1)" 'BEGIN { printf "%.0f", size * 1048576 / w / 1e6 }'; }
cpu_per_gib() { awk -v size="${size_of[$1]}" -v c="$(median "$1" 2)" 'BEGIN { printf "%.2f", c / (size / 1024) }'; }
rss_mib() { awk -v k="$(median "$1" 3)" 'BEGIN { printf "%.1f", k / 1024 }'; }
max_rss_mib() {
  printf '%s' "${samples[$1]}" | awk 'NF && $3 > m { m = $3 } END { printf "%.1f", m / 1024 }'
}
speed_ratio() { awk -v a="$(median "$1" 1)" -v b="$(median "$2" 1)" 'BEGIN { printf "%.2f", b / a }'; }
row() {  # key label
  printf '| %s | %s | %s | %s | %s |\n' "$2" "$(median "$1" 1)" "$(mbps "$1")" "$(cpu_per_gib "$1")" "$(rss_mib "$1")"
}
verdict() {  # value op target
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "**not met**" }'
}
median_ratio=$(printf '%s\n' "${ratios_dd[@]}" | sort -g |
  awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')

fs_type=$(stat -f -c %T "$work")
report=$(
  cat <<EOF
## Transfer: haul get vs dd, curl, wget, aria2c

Measured by \`./dev bench\` on $(date -u +%Y-%m-%d), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)),
kernel $(uname -r), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM,
destination $fs_type ($work). nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'),
curl $(curl --version | head -1 | cut -d' ' -f2), wget $(wget --version | head -1 | cut -d' ' -f3),
aria2c $(aria2c --version | head -1 | cut -d' ' -f3). $rounds rounds; in each the tools ran one
after the other; figures are medians over the rounds. Wall time runs until the
data is on disk (each command is followed by \`sync\`). haul verifies SHA-256 in
every run; the others' files were checked in the first round.

### (a) No rate limit, $size_a MiB

| tool | wall s | MB/s | CPU s/GiB | peak RSS MiB |
|---|---|---|---|---|
$(row a_dd "dd bs=4M conv=fdatasync of the same file (the disk's ceiling)")
$(row a_haul "haul get -x 8 --sha256")
$(row a_curl "curl")
$(row a_wget "wget")
$(row a_aria2c "aria2c -x16 -s16")

haul/dd within each round: ${ratios_dd[*]} (median **$median_ratio**).
Ratios of the medians (speed): haul/curl $(speed_ratio a_haul a_curl), haul/wget $(speed_ratio a_haul a_wget),
haul/aria2c $(speed_ratio a_haul a_aria2c).

### (b) nginx limit_rate 50m per connection, $size_b MiB

| tool | wall s | MB/s | CPU s/GiB | peak RSS MiB |
|---|---|---|---|---|
$(row b_haul16 "haul get -x 16 --sha256")
$(row b_haul8 "haul get -x 8 --sha256")
$(row b_aria2c "aria2c -x16 -s16")
$(row b_curl "curl (first round only)")

Ratios (speed): haul -x16/aria2c $(speed_ratio b_haul16 b_aria2c),
haul -x16/curl $(speed_ratio b_haul16 b_curl); haul -x16 reaches
$(awk -v size="$size_b" -v w="$(median b_haul16 1)" 'BEGIN { printf "%.0f", 100 * size * 1048576 / w / (16 * 50 * 1048576) }') % of 16 x the cap.

### (c) 8 files of $size_c MiB at once

| tool | wall s | MB/s | CPU s/GiB | peak RSS MiB |
|---|---|---|---|---|
$(row c_haul "haul get -x 8 (8 files)")
$(row c_aria2c "aria2c -j8 -x8 -s8 -Z")

### Targets (issue 14)

| figure | target | measured | |
|---|---|---|---|
| verified $size_a MiB download / dd of the same file, same round (median) | >= 0.9 | $median_ratio | $(verdict "$median_ratio" ">=" 0.9) |
| peak RSS, one download (worst round) | <= 40 MiB | $(max_rss_mib a_haul) MiB | $(verdict "$(max_rss_mib a_haul)" "<=" 40) |
| peak RSS, 8 files at once (worst round) | <= 64 MiB | $(max_rss_mib c_haul) MiB | $(verdict "$(max_rss_mib c_haul)" "<=" 64) |
| CPU per GiB incl. SHA-256 (median) | <= 1.2 s | $(cpu_per_gib a_haul) s | $(verdict "$(cpu_per_gib a_haul)" "<=" 1.2) |
EOF
)
echo "$report"
if [ -z "${BENCH_NO_WRITE:-}" ]; then
  write_section "$results" transfer "$report"
  echo "bench: wrote $results" >&2
fi
