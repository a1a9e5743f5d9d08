#!/usr/bin/env bash
# Presence: how long checking a manifest's files takes without verification
# (stat only), the figure issue 12 asks for: 10,000 entries in under 1 s.
# haul_models_bench (bench/presence_bench.cpp, release build) builds a models
# tree in $work/presence (several group folders, alias folders, a ComfyUI
# install, an extra_model_paths.yaml directory, missing and half-downloaded
# files; kept between runs) and times PresenceChecker::check_models.
# BENCH_PRESENCE_ENTRIES (default 10000), BENCH_PRESENCE_RUNS (default 7).
# Writes the table to stdout and to its section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench_uses_haul=no  # a library benchmark: lib.sh need not find the haul binary
. "$here/lib.sh"
bench=${HAUL_MODELS_BENCH:-$root/build/release/src/models/haul_models_bench}
entries=${BENCH_PRESENCE_ENTRIES:-10000}
runs=${BENCH_PRESENCE_RUNS:-7}
[ -x "$bench" ] || { echo "bench: $bench is missing (./dev bench presence builds it)" >&2; exit 1; }

mkdir -p "$work"
output=$("$bench" --dir "$work/presence" --entries "$entries" --runs "$runs")
printf '%s\n' "$output"
result=$(grep '^RESULT ' <<<"$output")
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
states=$(sed -n 's/^states: //p' <<<"$output")

text="## Presence: a manifest's files checked without verification

Measured by \`./dev bench presence\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(df -T "$work" | awk 'NR == 2 { print $2 }') ($work),
release build. $(field entries) entries of one file each, spread over 8 groups
in a models root (with clip/, unet/ and t2i_adapter/ alias folders), a ComfyUI
install's models/ and an extra_model_paths.yaml directory; 20 % missing, a
quarter of those with a .part. States found: $states.
PresenceChecker::check_models without verification (stat only), page cache
warm; the first run is the one right after the process started.

| measure | haul | target |
|---|---|---|
| check $(field entries) entries, median of $runs runs | $(field median_s) s (ratio to target $(field ratio)) | < $(field target_s) s |
| same, first run | $(field first_s) s | |"
write_section "$results" presence "$text"
