#!/usr/bin/env bash
# Kiln's front proxy against nginx as a reverse proxy, side by side on the same upstream:
# nginx `return 200` with a 1 KiB body; both proxies keep upstream connections alive; both write an
# access log. wrk -t2 -c64 -d10s, alternated for ROUNDS rounds (default 3). Release build.
# Targets: Kiln >= 1.2x nginx req/s, p99 no worse.
# PIN=1: each proxy gets one worker (nginx) or event loop (kiln) pinned to core 1, and wrk and the
# upstream share core 0, so req/s measures each proxy's CPU per request rather than how the
# shared machine schedules them.
# Kiln's proxy is the process `kiln serve` supervises (the default), as operators run it.
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
PIN=${PIN:-0}
build_kiln
threads=()
[ "$PIN" = 1 ] && threads=(--proxy-threads 1)
UP=$(free_port); NGX=$(free_port); KHTTP=$(free_port); KAPI=$(free_port)
chmod 711 "$WORK"
"$KILN" serve --data "$WORK/kiln" --api "127.0.0.1:$KAPI" --http "127.0.0.1:$KHTTP" --https off --allow-http \
  "${threads[@]}" --log-level warning > "$WORK/kiln.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -S "$WORK/kiln/kiln.sock" ] && break; sleep 0.05; done
"$KILN" tools create bench --data "$WORK/kiln" >/dev/null
# As root the tool has a Unix user, and its route must reach a listener of its own: the upstream
# runs as the tool (as a tool's server would).
user=""
if [ "$(id -u)" = 0 ]; then user=$(stat -c %U "$WORK/kiln/tools/bench"); fi
start_upstream "$UP" "$user"
start_nginx_proxy "$NGX" "$UP" "$([ "$PIN" = 1 ] && echo 1 || echo 2)"
"$KILN" routes add --data "$WORK/kiln" --tool bench '.*' "127.0.0.1:$UP" >/dev/null
wait_http "http://127.0.0.1:$KHTTP/bench/"
proxy_pid=$(cut -d' ' -f1 "$WORK/kiln/proxy.ready")
if [ "$PIN" = 1 ]; then
  need taskset
  for pid in $(cat "$WORK/nginx-proxy.pid") $(pgrep -P "$(cat "$WORK/nginx-proxy.pid")") "$proxy_pid"; do taskset -a -p -c 1 "$pid" >/dev/null; done
  upstream_master=$(cat "$(cat "$WORK/upstream.pidfile")")
  for pid in "$upstream_master" $(pgrep -P "$upstream_master"); do taskset -a -p -c 0 "$pid" >/dev/null; done
  export WRK_PREFIX="taskset -c 0"
  echo "pinned: each proxy on core 1 (one worker / one event loop); wrk and the upstream on core 0"
fi

echo "upstream: nginx return 200 (1 KiB) on :$UP; nginx proxy :$NGX; kiln proxy :$KHTTP; $(nproc) cores"
results="$WORK/results"
for round in $(seq "$ROUNDS"); do
  echo "nginx $round $(run_wrk "http://127.0.0.1:$NGX/bench/")" >> "$results"
  echo "kiln $round $(run_wrk "http://127.0.0.1:$KHTTP/bench/")" >> "$results"
done
summarise "$results"
echo "kiln proxy RSS: $(( $(awk '/VmRSS/ {print $2}' "/proc/$proxy_pid/status") / 1024 )) MB"
