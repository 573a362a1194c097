#!/usr/bin/env bash
# The route table's cost: Kiln's proxy with 10 and with 100,000 registered tools (routes in Redis,
# the dynamicproxy schema, as a proxy-only `kiln proxy --routes redis://` reads them), requests
# spread over all tools by a wrk script. Same upstream as bench/proxy.sh.
# Targets: req/s at 100,000 tools >= 0.95x req/s at 10 tools; proxy RSS at 100,000 tools <= 100 MB.
source "$(dirname "$0")/lib.sh"
need redis-server; need redis-cli
ROUNDS=${ROUNDS:-3}
MANY=${MANY:-100000}
build_kiln
UP=$(free_port); RPORT=$(free_port); SMALL=$(free_port); LARGE=$(free_port)
start_upstream "$UP"
# Keyspace notifications on, as the README tells operators (Kiln no longer sets them itself): without
# them the proxies would fall back to a full resync every 30 s in the middle of the runs.
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --notify-keyspace-events Kgh \
  --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" --dir "$WORK"
for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done

load_tools() { # DB COUNT
  python3 - "$2" "$UP" > "$WORK/load-$1.txt" <<'PY'
import sys
count, port = int(sys.argv[1]), sys.argv[2]
for i in range(count):
    print(f"HSET prefix:tool{i} .* 127.0.0.1:{port}")
PY
  redis-cli -p "$RPORT" -n "$1" < "$WORK/load-$1.txt" > /dev/null
}
load_tools 1 10
load_tools 2 "$MANY"

script() { # COUNT
  cat > "$WORK/spread-$1.lua" <<LUA
local count = $1
local counter = 0
request = function()
  counter = counter + 7919
  return wrk.format("GET", "/tool" .. (counter % count) .. "/")
end
LUA
  echo "$WORK/spread-$1.lua"
}

"$KILN" proxy --data "$WORK/proxy-small" --routes "redis://127.0.0.1:$RPORT/1" --http "127.0.0.1:$SMALL" --https off --allow-http \
  --log-level warning > "$WORK/kiln-small.log" 2>&1 &
SMALL_PID=$!; PIDS+=($SMALL_PID)
"$KILN" proxy --data "$WORK/proxy-large" --routes "redis://127.0.0.1:$RPORT/2" --http "127.0.0.1:$LARGE" --https off --allow-http \
  --log-level warning > "$WORK/kiln-large.log" 2>&1 &
LARGE_PID=$!; PIDS+=($LARGE_PID)
wait_http "http://127.0.0.1:$SMALL/tool9/"
for _ in $(seq 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LARGE/tool$((MANY - 1))/")" = 200 ] && break; sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LARGE/tool$((MANY - 1))/")" = 200 ] || { echo "bench: $MANY routes not loaded" >&2; exit 1; }

echo "upstream :$UP; kiln proxies: 10 tools on :$SMALL, $MANY tools on :$LARGE; $(nproc) cores"
results="$WORK/results"
small_script=$(script 10); large_script=$(script "$MANY")
for round in $(seq "$ROUNDS"); do
  echo "tools-10 $round $(run_wrk "http://127.0.0.1:$SMALL" "$small_script")" >> "$results"
  echo "tools-$MANY $round $(run_wrk "http://127.0.0.1:$LARGE" "$large_script")" >> "$results"
done
summarise "$results"
echo "RSS with 10 tools: $(( $(awk '/VmRSS/ {print $2}' /proc/$SMALL_PID/status) / 1024 )) MB"
echo "RSS with $MANY tools: $(( $(awk '/VmRSS/ {print $2}' /proc/$LARGE_PID/status) / 1024 )) MB"
redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1 || true
