#!/usr/bin/env bash
# Many small files through the daemon: one job of BENCH_MANY_FILES files
# (default 1000) of BENCH_MANY_FILE_KIB each (default 256), as a Hugging
# Face repo and as a list of URLs, against `haul get` of the same files, in
# interleaved rounds (BENCH_ROUNDS, default 3). Every file is verified
# (SHA-256 from the repo listing; the URL lists are checked afterwards).
# The repo is served by nginx as the Hub's API serves it (reference/hf):
# GET /api/models/{repo}/revision/main -> {"sha": COMMIT}, the recursive tree
# listing at that commit (one page, LFS entries with their SHA-256), and
# /{repo}/resolve/{commit}/{path} for the bytes.
# Writes the table to stdout and to its section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
count=${BENCH_MANY_FILES:-1000}
kib=${BENCH_MANY_FILE_KIB:-256}
rounds=${BENCH_ROUNDS:-3}
port=${BENCH_MANY_PORT:-18450}
daemon_port=$((port + 1))
files_port=$((port + 2))  # not the HF endpoint's: URLs there would be taken for the Hub's
repo=bench/many
commit=0123456789abcdef0123456789abcdef01234567

require_tools nginx node openssl curl /usr/bin/time

files=$work/many/files
api=$work/many/api
if [ ! -f "$api/tree.json" ] || [ "$(cat "$api/shape" 2>/dev/null)" != "$count x $kib" ]; then
  echo "bench: generating $count files of $kib KiB" >&2
  rm -rf "$work/many" && mkdir -p "$files" "$api"
  for ((i = 0; i < count; i++)); do head -c $((kib * 1024)) /dev/urandom >"$files/$(printf 'f%04d.bin' "$i")"; done
  (cd "$files" && sha256sum -- *.bin) >"$api/sha256sums"
  printf '{"id": "%s", "sha": "%s"}\n' "$repo" "$commit" >"$api/revision.json"
  awk -v size=$((kib * 1024)) 'BEGIN { printf "[" }
    { printf "%s{\"type\": \"file\", \"path\": \"%s\", \"size\": %d, \"oid\": \"%s\", \"lfs\": {\"oid\": \"%s\", \"size\": %d}}",
        (NR > 1 ? ", " : ""), $2, size, substr($1, 1, 40), $1, size }
    END { print "]" }' "$api/sha256sums" >"$api/tree.json"
  echo "$count x $kib" >"$api/shape"
fi
cat "$files"/*.bin >/dev/null  # into the page cache: nginx serves from memory

start_nginx many "server { listen 127.0.0.1:$port;
    location = /api/models/$repo/revision/main { default_type application/json; alias $api/revision.json; }
    location = /api/models/$repo/tree/$commit { default_type application/json; alias $api/tree.json; }
    location /$repo/resolve/$commit/ { alias $files/; } }
  server { listen 127.0.0.1:$files_port; location /files/ { alias $files/; } }"
export HF_ENDPOINT=http://127.0.0.1:$port
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  stop_nginx many
  rm -rf "$work/many/out"
}
trap cleanup EXIT

out=$work/many/out
urls=$(for ((i = 0; i < count; i++)); do printf 'http://127.0.0.1:%s/files/f%04d.bin ' "$files_port" "$i"; done)
sources_json=$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' $urls)

base=http://127.0.0.1:$daemon_port
rm -rf "$work/many/daemon" && mkdir -p "$work/many/daemon/models"
"$haul" serve --quiet --listen "127.0.0.1:$daemon_port" --data-dir "$work/many/daemon/data" \
  --models-root "$work/many/daemon/models" &
daemon_pid=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$daemon_pid/stat"; }

# check_files DIR: every file there, with the right SHA-256.
check_files() {
  local got
  got=$(cd "$1" && sha256sum -- *.bin | sort -k2)
  [ "$got" = "$(sort -k2 "$api/sha256sums")" ] || { echo "bench: wrong or missing files in $1" >&2; exit 1; }
}

declare -A walls cpus
# get_case KEY COMMAND: `haul get` into a fresh $out.
get_case() {
  rm -rf "$out" && mkdir -p "$out" && sync
  /usr/bin/time -f "%e %U %S" -o "$work/many/time.txt" sh -c "$2" >/dev/null 2>"$work/many/stderr.txt" || {
    echo "bench: $1 failed:" >&2; cat "$work/many/stderr.txt" >&2; exit 1; }
  read -r w u s <"$work/many/time.txt"
  walls[$1]+="$w "
  cpus[$1]+="$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }') "
  check_files "$out"
}
# daemon_case KEY BODY DEST: one job through the daemon, POST to completed.
daemon_case() {
  local before started id state ended
  before=$(cpu_ticks)
  started=$(date +%s.%N)
  id=$(curl -sf -H 'content-type: application/json' -d "$2" "$base/api/v1/jobs" | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
  while true; do  # curl and grep, not node: a poll must cost little next to the job
    state=$(curl -sf "$base/api/v1/jobs/$id" | grep -o '"state": *"[a-z]*"' | head -1 | grep -o '[a-z]*"$' | tr -d '"' || true)
    case $state in
      completed) break ;;
      failed | cancelled) echo "bench: $1 ended $state" >&2; curl -sf "$base/api/v1/jobs/$id" >&2; exit 1 ;;
    esac
    sleep 0.01
  done
  ended=$(date +%s.%N)
  walls[$1]+="$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f", b - a }') "
  cpus[$1]+="$(awk -v t=$(($(cpu_ticks) - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') "
  check_files "$work/many/daemon/models/$3"
  rm -rf "$work/many/daemon/models/$3"
}

for ((round = 1; round <= rounds; round++)); do
  echo "bench: round $round of $rounds" >&2
  get_case hf_get "$haul get -q -d $out hf://$repo"
  daemon_case hf_daemon "{\"source\": \"hf://$repo\", \"dest\": \"hf$round\"}" "hf$round"
  get_case urls_get "$haul get -q -d $out $urls"
  daemon_case urls_daemon "{\"sources\": $sources_json, \"dest\": \"urls$round\"}" "urls$round"
done

median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mbps() { awk -v w="$(median "${walls[$1]}")" -v n="$count" -v k="$kib" 'BEGIN { printf "%.0f", n * k * 1024 / w / 1e6 }'; }
per_file_ms() { awk -v c="$(median "${cpus[$1]}")" -v n="$count" 'BEGIN { printf "%.2f", 1000 * c / n }'; }
ratio() { awk -v d="$(median "${walls[$1]}")" -v g="$(median "${walls[$2]}")" 'BEGIN { printf "%.2f", g / d }'; }
verdict() { awk -v v="$1" 'BEGIN { print ((v >= 0.8) ? "met" : "**not met**") }'; }
row() {  # key label
  printf '| %s | %s | %s | %s | %s |\n' "$2" "${walls[$1]% }" "$(median "${walls[$1]}")" "$(mbps "$1")" "$(per_file_ms "$1")"
}

report=$(
  cat <<EOF
## Many files through the daemon

Measured by \`./dev bench many\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(stat -f -c %T "$work") ($work),
release build, nginx on 127.0.0.1. One job of $count files of $kib KiB: a Hugging
Face repo (hf://$repo, nginx answering the Hub's revision and tree API) and a
list of $count URLs; \`haul get\` of the same files beside it, $rounds interleaved
rounds. Daemon: POST /api/v1/jobs until GET says completed (polled every 10 ms),
default settings; its CPU is the daemon process's over that time. \`haul get\`:
the process's wall and CPU time. Every file verified.

| run | wall s per round | median s | MB/s | CPU ms per file |
|---|---|---|---|---|
$(row hf_get "haul get hf://$repo")
$(row hf_daemon "daemon: one job, hf://$repo")
$(row urls_get "haul get, $count URLs")
$(row urls_daemon "daemon: one job of $count URLs")

| figure | target | measured | |
|---|---|---|---|
| HF repo job / haul get (speed) | >= 0.8 | $(ratio hf_daemon hf_get) | $(verdict "$(ratio hf_daemon hf_get)") |
| job of URLs / haul get (speed) | >= 0.8 | $(ratio urls_daemon urls_get) | $(verdict "$(ratio urls_daemon urls_get)") |
EOF
)
echo "$report"
if [ -z "${BENCH_NO_WRITE:-}" ]; then
  write_section "$results" many "$report"
  echo "bench: wrote $results" >&2
fi
