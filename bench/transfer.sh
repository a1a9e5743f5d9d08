#!/usr/bin/env bash
# Transfer benchmark: `haul get` side by side with curl, wget and aria2c in
# one run, all fetching from a local nginx (own config, 127.0.0.1) to disk.
#   (a) no rate limit, a BENCH_SIZE_MIB file (default 4096), dd as the ceiling;
#   (b) nginx `limit_rate 50m` per connection (a CDN capping each connection),
#       a BENCH_CAPPED_SIZE_MIB file (default 1024).
# Each figure is the median of BENCH_REPEAT runs (default 3). Times run until
# the data is on disk: haul fsyncs before it reports done; every command is
# followed by `sync` all the same, so all tools pay the same.
# Writes the tables to stdout and to their section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
size_a=${BENCH_SIZE_MIB:-4096}
size_b=${BENCH_CAPPED_SIZE_MIB:-1024}
repeat=${BENCH_REPEAT:-3}
port_a=${BENCH_PORT:-18431}
port_b=$((port_a + 1))

require_tools nginx curl wget aria2c dd openssl /usr/bin/time

mkdir -p "$work/out"
out=$work/out

make_file a.bin "$size_a"
make_file b.bin "$size_b"
sha_a=$(cat "$work/www/a.bin.sha256")
sha_b=$(cat "$work/www/b.bin.sha256")

start_nginx transfer "server { listen 127.0.0.1:$port_a; root $work/www; }
  server { listen 127.0.0.1:$port_b; root $work/www; limit_rate 50m; }"
trap 'stop_nginx transfer; rm -rf "$out"' EXIT

# --- measuring -----------------------------------------------------------------
declare -A wall cpu rss
mib_per_gib=1024

# run_case KEY SIZE_MIB EXPECTED_SHA OUTFILE COMMAND...
# Records the median-wall run's wall seconds, CPU seconds and peak RSS (KiB).
run_case() {
  local key=$1 size=$2 sha=$3 file=$4; shift 4
  local samples=()
  for ((i = 1; i <= repeat; i++)); do
    rm -rf "$out" && mkdir -p "$out" && sync
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" sh -c "$* && sync" >/dev/null 2>"$work/stderr.txt" || {
      echo "bench: $key failed:" >&2; cat "$work/stderr.txt" >&2; exit 1; }
    samples+=("$(tail -n 1 "$work/time.txt")")
    if [ "$i" -eq 1 ] && [ -n "$sha" ]; then
      local got
      got=$(openssl dgst -sha256 -r "$file" | cut -d' ' -f1)
      [ "$got" = "$sha" ] || { echo "bench: $key wrote a corrupt file ($got)" >&2; exit 1; }
    fi
  done
  local median
  median=$(printf '%s\n' "${samples[@]}" | sort -n -k1,1 | sed -n "$(((repeat + 1) / 2))p")
  read -r w u s m <<<"$median"
  wall[$key]=$w
  cpu[$key]=$(awk -v u="$u" -v s="$s" -v size="$size" -v g=$mib_per_gib 'BEGIN { printf "%.2f", (u + s) / (size / g) }')
  rss[$key]=$m
  echo "bench: $key ${w}s" >&2
}

# Warm-up: on VMs whose memory the host backs lazily, the first few GB of
# page cache a run touches cost several times more than later ones.
echo "bench: warming up" >&2
for ((i = 0; i < 2; i++)); do
  rm -rf "$out" && mkdir -p "$out"
  dd if=/dev/zero of="$out/warm.bin" bs=4M count=$((size_a / 4)) conv=fdatasync status=none
done

url_a=http://127.0.0.1:$port_a/a.bin
url_b=http://127.0.0.1:$port_b/b.bin

run_case a_dd "$size_a" "" "" "dd if=/dev/zero of=$out/dd.bin bs=4M count=$((size_a / 4)) conv=fdatasync status=none"
run_case a_haul "$size_a" "$sha_a" "$out/a.bin" "$haul get -q -x 8 --sha256 $sha_a -o $out/a.bin $url_a"
run_case a_curl "$size_a" "$sha_a" "$out/a.bin" "curl -sf -o $out/a.bin $url_a"
run_case a_wget "$size_a" "$sha_a" "$out/a.bin" "wget -q -O $out/a.bin $url_a"
run_case a_aria2c "$size_a" "$sha_a" "$out/a.bin" \
  "aria2c -q -x16 -s16 --allow-overwrite=true --auto-file-renaming=false -d $out -o a.bin $url_a"

run_case b_haul16 "$size_b" "$sha_b" "$out/b.bin" "$haul get -q -x 16 --sha256 $sha_b -o $out/b.bin $url_b"
run_case b_haul8 "$size_b" "$sha_b" "$out/b.bin" "$haul get -q -x 8 --sha256 $sha_b -o $out/b.bin $url_b"
run_case b_aria2c "$size_b" "$sha_b" "$out/b.bin" \
  "aria2c -q -x16 -s16 --allow-overwrite=true --auto-file-renaming=false -d $out -o b.bin $url_b"
run_case b_curl "$size_b" "$sha_b" "$out/b.bin" "curl -sf -o $out/b.bin $url_b"

# --- report --------------------------------------------------------------------
mbps() { awk -v size="$1" -v w="$2" 'BEGIN { printf "%.0f", size * 1048576 / w / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }  # speed ratio from wall times

row() {  # key label size
  printf '| %s | %s | %s | %s | %s |\n' "$2" "${wall[$1]}" "$(mbps "$3" "${wall[$1]}")" "${cpu[$1]}" \
    "$(awk -v k="${rss[$1]}" 'BEGIN { printf "%.1f", k / 1024 }')"
}

fs_type=$(stat -f -c %T "$work")
report=$(
  cat <<EOF
## Transfer: haul get vs curl, wget, aria2c

Measured by \`./dev bench\` on $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r),
destination filesystem $fs_type ($work). nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'),
curl $(curl --version | head -1 | cut -d' ' -f2), wget $(wget --version | head -1 | cut -d' ' -f3),
aria2c $(aria2c --version | head -1 | cut -d' ' -f3). Median of $repeat runs. Wall time runs until
the data is on disk (each command is followed by \`sync\`). haul verifies SHA-256 in every run.

### (a) No rate limit, $size_a MiB

| tool | wall s | MB/s | CPU s/GiB | peak RSS MiB |
|---|---|---|---|---|
$(row a_dd "dd bs=4M conv=fdatasync (ceiling)" "$size_a")
$(row a_haul "haul get -x 8 --sha256" "$size_a")
$(row a_curl "curl" "$size_a")
$(row a_wget "wget" "$size_a")
$(row a_aria2c "aria2c -x16 -s16" "$size_a")

Ratios (speed): haul/dd $(ratio "${wall[a_haul]}" "${wall[a_dd]}"), haul/curl $(ratio "${wall[a_haul]}" "${wall[a_curl]}"),
haul/wget $(ratio "${wall[a_haul]}" "${wall[a_wget]}"), haul/aria2c $(ratio "${wall[a_haul]}" "${wall[a_aria2c]}").
CPU s/GiB: haul ${cpu[a_haul]} vs aria2c ${cpu[a_aria2c]}.

### (b) nginx limit_rate 50m per connection, $size_b MiB

| tool | wall s | MB/s | CPU s/GiB | peak RSS MiB |
|---|---|---|---|---|
$(row b_haul16 "haul get -x 16 --sha256" "$size_b")
$(row b_haul8 "haul get -x 8 --sha256" "$size_b")
$(row b_aria2c "aria2c -x16 -s16" "$size_b")
$(row b_curl "curl" "$size_b")

Ratios (speed): haul -x16/aria2c $(ratio "${wall[b_haul16]}" "${wall[b_aria2c]}"),
haul -x16/curl $(ratio "${wall[b_haul16]}" "${wall[b_curl]}"); haul -x16 reaches
$(awk -v size="$size_b" -v w="${wall[b_haul16]}" 'BEGIN { printf "%.0f", 100 * size * 1048576 / w / (16 * 50 * 1048576) }') % of 16 x the cap.
EOF
)
echo "$report"
if [ -z "${BENCH_NO_WRITE:-}" ]; then
  write_section "$results" transfer "$report"
  echo "bench: wrote $results" >&2
fi
