#!/usr/bin/env bash
# Several proxies sharing one platform's routes (issue 13): `kiln serve` with its routes in Redis,
# and two `kiln proxy` processes, A and B, one following the control plane's route feed, the other
# Redis. Figures:
#  1. wrk on B while A is killed -9 and restarted KILLS times (down DOWN s each time): B's requests
#     and failures, socket errors and non-2xx (target 0); how long A takes to serve again after each
#     restart (from its start to its first answer) and what that first answer is (200: a proxy
#     listens only once it has its routes). Twice: A on the feed and B on Redis, then the reverse.
#  2. a route registered through the API (POST with the admin token): how long until each proxy
#     routes it (ROUTES registrations; median and max).
#  3. clients that fail over: wrk on nginx, round-robin over A and B, while A is killed and
#     restarted as in 1. Without retries (proxy_next_upstream off, no health checks), every request
#     nginx hands A while it is down fails: what a client pointed at A loses. With nginx retrying a
#     failed GET on the other proxy (proxy_next_upstream error timeout), what a client that fails
#     over loses.
# Release build; run as root (the tool's backend runs as its Unix user, as a tool's server does).
# The per-address rate limit and connection cap are off: wrk, and nginx in front, are one address.
source "$(dirname "$0")/lib.sh"
need redis-server; need redis-cli
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
KILLS=${KILLS:-3}
DOWN=${DOWN:-1}
ROUTES=${ROUTES:-10}
# Long enough for every kill, restart and the pause after it (2 s before the first kill).
LOAD_SECONDS=$((3 + KILLS * (DOWN + 3)))
build_kiln
chmod 711 "$WORK"
now() { date +%s.%N; }

failures() { # wrk output: "FAILED of REQUESTS"
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
requests = re.search(r"(\d+) requests in", text)
failed = (sum(map(int, errors.groups())) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
detail = f" (socket errors: {errors.group(0).split(': ', 1)[1]})" if errors else ""
print(f"{failed} failed of {requests.group(1) if requests else '?'}{detail}")
PY
}

# Polls 127.0.0.1:PORT for PATH every millisecond until something answers; prints the seconds
# since START (a `date +%s.%N` taken just before the proxy was started) and the status.
first_answer() { # PORT PATH START
  python3 - "$@" <<'PY'
import socket, sys, time
port, path, start = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
request = f"GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-bench\r\nConnection: close\r\n\r\n".encode()
deadline = time.time() + 30
while time.time() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(request)
            head = s.recv(64)
            if head.startswith(b"HTTP/1.1 "):
                print(f"{time.time() - start:.3f} {head[9:12].decode()}")
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.001)
print("never -")
PY
}

# The platform: Redis (keyspace notifications on, as the README says), kiln serve with its routes
# there, a tool with a backend of its own (nginx as the tool's user) and its route.
REDIS=$(free_port)
redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --notify-keyspace-events Kgh \
  > "$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$REDIS" ping >/dev/null 2>&1 && break; sleep 0.05; done
DATA="$WORK/platform"; API=$(free_port); SERVE_HTTP=$(free_port); UP=$(free_port)
"$KILN" serve --data "$DATA" --api "127.0.0.1:$API" --http "127.0.0.1:$SERVE_HTTP" --https off --allow-http \
  --routes "redis://127.0.0.1:$REDIS" --log-level warning > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 400); do "$KILN" whoami --data "$DATA" >/dev/null 2>&1 && break; sleep 0.025; done
# kiln serve's own proxy process outlives it: stopped with the rest.
stop_serve_proxy() { [ -f "$DATA/proxy.ready" ] && kill "$(cut -d' ' -f1 "$DATA/proxy.ready")" 2>/dev/null; return 0; }
trap 'stop_serve_proxy; cleanup' EXIT
"$KILN" tools create bench --data "$DATA" > /dev/null
start_upstream "$UP" "$(stat -c %U "$DATA/tools/bench")"
# `^/$` (the tool's root) rather than `.*`, so that the routes part 2 adds for other paths of the
# same tool and backend are reached (a tool's patterns are tried in order).
"$KILN" routes add --data "$DATA" --tool bench '^/$' "127.0.0.1:$UP" > /dev/null
PATH_B=/bench/

# The two proxies, each on a port and data directory of its own, kept across restarts.
PORT_A=$(free_port); PORT_B=$(free_port)
FEED=(--control-plane "http://127.0.0.1:$API" --token-file "$DATA/admin.token")
FROM_REDIS=(--routes "redis://127.0.0.1:$REDIS")
start_proxy() { # NAME PORT SOURCE...: its pid in $started
  local name=$1 port=$2; shift 2
  "$KILN" proxy "$@" --http "127.0.0.1:$port" --https off --allow-http --rate-limit 0 --max-connections-per-address 0 \
    --data "$WORK/$name" --log-level warning >> "$WORK/$name.log" 2>&1 &
  started=$!
  PIDS+=("$started")
}
stop_proxy() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Kills A (pid in $pid_a) KILLS times, DOWN seconds each, restarting it with SOURCE; appends
# "SECONDS STATUS" per restart to FILE.
kill_cycle() { # FILE SOURCE...
  local file=$1; shift
  sleep 2
  for _ in $(seq "$KILLS"); do
    stop_proxy "$pid_a"
    sleep "$DOWN"
    local start
    start=$(now)
    start_proxy a "$PORT_A" "$@"; pid_a=$started
    first_answer "$PORT_A" "$PATH_B" "$start" >> "$file"
    sleep 2
  done
}
restarts() { # FILE: "0.120 0.131 0.118 s (first answers: 200 200 200)"
  echo "$(cut -d' ' -f1 "$1" | xargs) s (first answers: $(cut -d' ' -f2 "$1" | xargs))"
}

source_name() { [ "$1" = redis ] && echo Redis || echo "the control plane's feed"; }
echo "kiln serve (routes in Redis), proxies A :$PORT_A and B :$PORT_B; upstream nginx as the tool's user; $(nproc) cores"
echo "wrk -t2 -c64 -d${LOAD_SECONDS}s; A killed -9 $KILLS times, down ${DOWN} s each"
run=0
for arrangement in "feed redis" "redis feed"; do
  set -- $arrangement
  run=$((run + 1))
  source_a=("${FEED[@]}"); [ "$1" = redis ] && source_a=("${FROM_REDIS[@]}")
  source_b=("${FEED[@]}"); [ "$2" = redis ] && source_b=("${FROM_REDIS[@]}")
  start_proxy a "$PORT_A" "${source_a[@]}"; pid_a=$started
  start_proxy b "$PORT_B" "${source_b[@]}"; pid_b=$started
  wait_http "http://127.0.0.1:$PORT_A$PATH_B"; wait_http "http://127.0.0.1:$PORT_B$PATH_B"
  wrk -t2 -c64 -d"$LOAD_SECONDS"s -H "User-Agent: kiln-bench" "http://127.0.0.1:$PORT_B$PATH_B" > "$WORK/load-$run.txt" 2>&1 &
  wrk_pid=$!
  kill_cycle "$WORK/restarts-$run.txt" "${source_a[@]}"
  wait "$wrk_pid" || true
  echo "1. A on $(source_name "$1"), B on $(source_name "$2"): B $(failures "$WORK/load-$run.txt"), $(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/load-$run.txt") req/s; A serving again after each restart: $(restarts "$WORK/restarts-$run.txt")"
  [ "$run" = 2 ] && break
  stop_proxy "$pid_a"; stop_proxy "$pid_b"
done
# From here on A is on Redis and B on the feed (the second arrangement).

# 2. Route propagation: POST a route, poll both proxies in turn (about every millisecond).
python3 - "$API" "$(cat "$DATA/admin.token")" "$UP" "$PORT_A" "$PORT_B" "$ROUTES" <<'PY'
import json, socket, statistics, sys, time, urllib.request
api, token, upstream, port_a, port_b, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def status(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-bench\r\nConnection: close\r\n\r\n".encode())
            return s.recv(64)[9:12]
    except OSError:
        return b""
delays = {port_a: [], port_b: []}
for i in range(count):
    route = urllib.request.Request(f"http://127.0.0.1:{api}/v1/tools/bench/routes",
        data=json.dumps({"pattern": f"^/fresh{i}$", "backend": f"127.0.0.1:{upstream}"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    start = time.time()
    urllib.request.urlopen(route).read()
    pending = {port_a, port_b}
    while pending and time.time() - start < 10:
        for port in list(pending):
            if status(port, f"/bench/fresh{i}") == b"200":
                delays[port].append(time.time() - start)
                pending.discard(port)
        time.sleep(0.0005)
    for port in pending:
        delays[port].append(float("inf"))
def show(values):
    return f"median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"
print(f"2. a route registered through the API ({count} times), to routable: A (Redis) {show(delays[port_a])}; "
      f"B (the feed) {show(delays[port_b])} (from the POST; the API answers after its write)")
PY

# 3. Clients that fail over: nginx in front, round-robin over A and B, without and with retries.
FRONT_PLAIN=$(free_port); FRONT_RETRY=$(free_port)
cat > "$WORK/front.conf" <<CONF
worker_processes 2;
pid $WORK/nginx-proxy.pid;
error_log $WORK/front-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream plain { server 127.0.0.1:$PORT_A max_fails=0; server 127.0.0.1:$PORT_B max_fails=0; keepalive 64; }
  upstream retry { server 127.0.0.1:$PORT_A max_fails=1 fail_timeout=1s; server 127.0.0.1:$PORT_B max_fails=1 fail_timeout=1s; keepalive 64; }
  server {
    listen 127.0.0.1:$FRONT_PLAIN reuseport backlog=4096;
    location / {
      proxy_pass http://plain;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream off;
    }
  }
  server {
    listen 127.0.0.1:$FRONT_RETRY reuseport backlog=4096;
    location / {
      proxy_pass http://retry;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }
  }
}
CONF
nginx -e "$WORK/front-error.log" -c "$WORK/front.conf" -p "$WORK" -g 'daemon on;'
wait_http "http://127.0.0.1:$FRONT_PLAIN$PATH_B"
for front in plain retry; do
  port=$FRONT_PLAIN; [ "$front" = retry ] && port=$FRONT_RETRY
  wrk -t2 -c64 -d"$LOAD_SECONDS"s -H "User-Agent: kiln-bench" "http://127.0.0.1:$port$PATH_B" > "$WORK/front-$front.txt" 2>&1 &
  wrk_pid=$!
  kill_cycle "$WORK/front-restarts-$front.txt" "${FROM_REDIS[@]}"
  wait "$wrk_pid" || true
  if [ "$front" = plain ]; then
    echo "3. nginx round-robin over A and B, no retry (a client pointed at A): $(failures "$WORK/front-$front.txt"); A serving again after $(restarts "$WORK/front-restarts-$front.txt")"
  else
    echo "3. nginx round-robin over A and B, retrying a failed GET on the other: $(failures "$WORK/front-$front.txt"); A serving again after $(restarts "$WORK/front-restarts-$front.txt")"
  fi
done
stop_proxy "$pid_a"; stop_proxy "$pid_b"
