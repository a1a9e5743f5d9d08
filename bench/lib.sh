# Shared by the bench scripts: where things are, tool checks, a private
# nginx, and writing one section of RESULTS.md. Source it after setting
# `here` (the bench folder).

root=$(dirname "$here")
haul=${HAUL:-$root/build/release/src/app/haul}
work=${BENCH_DIR:-/var/tmp/haul-bench}
results=${BENCH_RESULTS:-$here/RESULTS.md}
# bench_uses_haul=no (set before sourcing): a benchmark of a library target.
if [ "${bench_uses_haul:-yes}" = yes ]; then
  [ -x "$haul" ] || { echo "bench: $haul is missing (./dev bench builds it)" >&2; exit 1; }
fi

require_tools() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (./dev bench installs it)" >&2; exit 1; }
  done
}

# start_nginx NAME SERVER_BLOCKS: a private nginx serving $work/www with the
# given server { } blocks; stopped by stop_nginx NAME.
start_nginx() {
  local dir=$work/nginx-$1
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
worker_processes auto;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  $2
}
CONF
  stop_nginx "$1"
  nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
  sleep 0.3
}

stop_nginx() {
  local pid=$work/nginx-$1/nginx.pid
  if [ -f "$pid" ]; then kill "$(cat "$pid")" 2>/dev/null || true; rm -f "$pid"; sleep 0.2; fi
}

# make_file NAME SIZE_MIB: random bytes in $work/www, kept between runs.
make_file() {
  local path=$work/www/$1
  mkdir -p "$work/www"
  if [ ! -f "$path" ] || [ "$(stat -c %s "$path")" -ne $(($2 * 1048576)) ]; then
    echo "bench: generating $1 ($2 MiB of random data)" >&2
    head -c "$(($2 * 1048576))" /dev/urandom >"$path.tmp" && mv "$path.tmp" "$path"
    rm -f "$path.sha256"
  fi
  [ -f "$path.sha256" ] || openssl dgst -sha256 -r "$path" | cut -d' ' -f1 >"$path.sha256"
  cat "$path" >/dev/null  # into the page cache: nginx serves from memory
}

# write_section FILE NAME TEXT: replaces the block between
# <!-- NAME:begin --> and <!-- NAME:end --> in FILE, or appends it.
write_section() {
  local file=$1 name=$2 text=$3 begin="<!-- $2:begin -->" end="<!-- $2:end -->"
  [ -f "$file" ] || printf '# Benchmark results\n\nWritten by `./dev bench`; see bench/NOTES.md for how to read them.\n' >"$file"
  local block
  block=$(printf '%s\n%s\n%s' "$begin" "$text" "$end")
  if grep -qF "$begin" "$file"; then
    BLOCK=$block awk -v b="$begin" -v e="$end" '
      $0 == b { print ENVIRON["BLOCK"]; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip { print }' "$file" >"$file.new"
  else
    { cat "$file"; printf '\n%s\n' "$block"; } >"$file.new"
  fi
  mv "$file.new" "$file"
}
