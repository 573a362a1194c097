#!/usr/bin/env bash
# Chaos under load (wrk on loopback against a tool's route through the proxy), one figure each:
#  1. kill -9 of the control plane (kiln serve), restarted at once as systemd would: failed
#     requests (target 0) and how long until the API answers again (target 2 s);
#  2. kill -9 of the proxy process: how long until it serves again (target 1 s), and the requests
#     lost (those in flight on the killed process);
#  3. a graceful replacement of the proxy (kill -HUP): failed requests (target 0);
#  4. Redis stopped under load, with routes in Redis: failed requests (target 0);
#  5. 1000 slowloris connections (from 127.0.0.2) and 1000 TLS connections that never handshake:
#     the req/s normal clients get, against the same without them (target >= 80%);
#  6. a tool filling its disk (its home a 1 MiB tmpfs, a job writing 8 MiB to its log): another
#     tool still served, the access log still written, the server still answering.
# Release build; run as root (tools' users, the tmpfs). The per-address rate limit is off (wrk is
# one address); the per-address connection cap is on (its default, 256).
source "$(dirname "$0")/lib.sh"
need redis-server
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
build_kiln
chmod 711 "$WORK"
DURATION=${DURATION:-6}

serve() { # DATA API HTTP HTTPS [ARGS...]: kiln serve in the background, its pid in $served
  local data=$1 api=$2 http=$3 https=$4; shift 4
  "$KILN" serve --data "$data" --api "127.0.0.1:$api" --http "127.0.0.1:$http" --https "127.0.0.1:$https" --allow-http \
    --rate-limit 0 --log-level warning "$@" >> "$WORK/serve.log" 2>&1 &
  served=$!
  PIDS+=("$served")
}
wait_ready() { # DATA
  for _ in $(seq 400); do
    [ -f "$1/proxy.ready" ] && "$KILN" whoami --data "$1" >/dev/null 2>&1 && return 0
    sleep 0.025
  done
  echo "bench: kiln serve on $1 did not become ready" >&2; exit 1
}
load() { # URL SECONDS OUT: wrk in the background, its pid in $wrk_pid
  wrk -t1 -c16 -d"$2"s -H "User-Agent: kiln-chaos" "$1" > "$3" 2>&1 &
  wrk_pid=$!
}
failures() { # wrk output: socket errors + non-2xx/3xx
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
requests = re.search(r"(\d+) requests in", text)
failed = (sum(map(int, errors.groups())) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
print(f"{failed} of {requests.group(1) if requests else '?'}")
PY
}
# The proxies outlive a kill -9 of their kiln serve (as they should): stopped with the rest.
stop_proxies() { for ready in "$WORK"/*/proxy.ready; do [ -f "$ready" ] && kill "$(cut -d' ' -f1 "$ready")" 2>/dev/null; done; return 0; }
trap 'stop_proxies; cleanup' EXIT
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

# The platform, a tool with a backend of its own (nginx as the tool's user), its route.
DATA="$WORK/a"; API=$(free_port); HTTP=$(free_port); HTTPS=$(free_port); UP=$(free_port)
serve "$DATA" "$API" "$HTTP" "$HTTPS"; SERVE=$served
wait_ready "$DATA"
"$KILN" tools create chaos --data "$DATA" > /dev/null
start_upstream "$UP" "$(stat -c %U "$DATA/tools/chaos")"
"$KILN" routes add --data "$DATA" --tool chaos '.*' "127.0.0.1:$UP" > /dev/null
URL="http://127.0.0.1:$HTTP/chaos/"
wait_http "$URL"
echo "kiln serve (proxy in a process of its own) on :$HTTP; upstream nginx as the tool's user; wrk -c16 ${DURATION}s"

# 1. The control plane dies.
load "$URL" "$DURATION" "$WORK/1.txt"; sleep 2
kill -9 "$SERVE"; killed=$(now)
serve "$DATA" "$API" "$HTTP" "$HTTPS"; SERVE=$served
until "$KILN" whoami --data "$DATA" >/dev/null 2>&1; do sleep 0.02; done; back=$(now)
wait "$wrk_pid" || true
echo "1. kill -9 of the control plane: failed requests $(failures "$WORK/1.txt"); API back after $(elapsed "$killed" "$back") s (restarted at once)"
wait_ready "$DATA"

# 2. The proxy dies.
proxy=$(cut -d' ' -f1 "$DATA/proxy.ready")
load "$URL" "$DURATION" "$WORK/2.txt"; sleep 2
kill -9 "$proxy"; killed=$(now)
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'User-Agent: kiln-chaos' "$URL")" = 200 ] \
  && [ "$(cut -d' ' -f1 "$DATA/proxy.ready")" != "$proxy" ]; do sleep 0.01; done; back=$(now)
wait "$wrk_pid" || true
echo "2. kill -9 of the proxy: serving again after $(elapsed "$killed" "$back") s; requests lost $(failures "$WORK/2.txt") (in flight on the killed process, at most one per wrk connection: 16; new connections wait in the listening sockets kiln serve holds)"

# 3. A graceful replacement.
load "$URL" "$DURATION" "$WORK/3.txt"; sleep 2
kill -HUP "$SERVE"
wait "$wrk_pid" || true
echo "3. kill -HUP (the proxy replaced): failed requests $(failures "$WORK/3.txt")"

# 4. Routes in Redis, and Redis stops.
REDIS=$(free_port)
redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no --daemonize no > "$WORK/redis.log" 2>&1 &
redis_pid=$!
PIDS+=("$redis_pid")
for _ in $(seq 100); do redis-cli -p "$REDIS" ping >/dev/null 2>&1 && break; sleep 0.05; done
DATA_R="$WORK/r"; API_R=$(free_port); HTTP_R=$(free_port); HTTPS_R=$(free_port)
serve "$DATA_R" "$API_R" "$HTTP_R" "$HTTPS_R" --routes "redis://127.0.0.1:$REDIS" --redis-configure; SERVE_R=$served
wait_ready "$DATA_R"
"$KILN" tools create chaos --data "$DATA_R" > /dev/null
UP_R=$(free_port)
dir="$WORK/upstream-r"; mkdir -p "$dir"; chown "$(stat -c %U "$DATA_R/tools/chaos")" "$dir"
sed -e "s/listen 127.0.0.1:$UP /listen 127.0.0.1:$UP_R /" -e "s#$WORK/upstream/#$dir/#g" "$WORK/upstream/upstream.conf" > "$dir/upstream.conf"
runuser -u "$(stat -c %U "$DATA_R/tools/chaos")" -- nginx -e "$dir/error.log" -c "$dir/upstream.conf" -p "$dir" -g 'daemon on;'
"$KILN" routes add --data "$DATA_R" --tool chaos '.*' "127.0.0.1:$UP_R" > /dev/null
URL_R="http://127.0.0.1:$HTTP_R/chaos/"
wait_http "$URL_R"
load "$URL_R" "$DURATION" "$WORK/4.txt"; sleep 2
kill "$redis_pid"
wait "$wrk_pid" || true
echo "4. Redis stopped under load: failed requests $(failures "$WORK/4.txt")"
kill "$SERVE_R" 2>/dev/null || true
kill "$(cat "$dir/upstream.pid")" 2>/dev/null || true

# 5. Slow and idle clients beside normal ones.
wrk -t1 -c16 -d"$DURATION"s -H "User-Agent: kiln-chaos" "$URL" > "$WORK/5a.txt" 2>&1
python3 - "$HTTP" "$HTTPS" 1000 > "$WORK/hold.log" 2>&1 <<'PY' &
import asyncio, sys
http, https, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
async def slowloris(i):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", http, local_addr=("127.0.0.2", 0))
        writer.write(b"GET /chaos/ HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n")
        while True:
            await asyncio.sleep(5)
            writer.write(b"X-a: b\r\n")
            await writer.drain()
    except Exception:
        pass
async def idle_tls(i):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", https, local_addr=("127.0.0.3", 0))
        await reader.read()
    except Exception:
        pass
async def main():
    await asyncio.gather(*[slowloris(i) for i in range(count)], *[idle_tls(i) for i in range(count)])
asyncio.run(main())
PY
hold_pid=$!
PIDS+=("$hold_pid")
sleep 3
open=$(ss -Htn state established "( dport = :$HTTP or dport = :$HTTPS )" | wc -l)
wrk -t1 -c16 -d"$DURATION"s -H "User-Agent: kiln-chaos" "$URL" > "$WORK/5b.txt" 2>&1
kill "$hold_pid" 2>/dev/null || true
echo "5. 1000 slowloris + 1000 idle TLS connections ($open held open when measured): normal clients $(rps "$WORK/5b.txt") req/s against $(rps "$WORK/5a.txt") without them ($(python3 -c "print(f'{$(rps "$WORK/5b.txt") / $(rps "$WORK/5a.txt") * 100:.0f}')")%)"

# 6. A tool fills its disk.
"$KILN" tools create filler --data "$DATA" > /dev/null
home="$DATA/tools/filler"
owner=$(stat -c '%u:%g' "$home")
mount -t tmpfs -o "size=1m,mode=0750,uid=${owner%:*},gid=${owner#*:}" tmpfs "$home"
trap 'umount "$home" 2>/dev/null || true; stop_proxies; cleanup' EXIT
before=$(stat -c %s "$DATA/logs/access.log")
"$KILN" jobs run fill --tool filler --data "$DATA" --image bookworm --command 'head -c 8000000 /dev/zero' --wait 60 > "$WORK/fill.txt" 2>&1 || true
wrk -t1 -c16 -d3s -H "User-Agent: kiln-chaos" "$URL" > "$WORK/6.txt" 2>&1
sleep 1.5
after=$(stat -c %s "$DATA/logs/access.log")
echo "6. a tool's disk full ($(df -h --output=used,size "$home" | tail -1 | xargs)): the other tool's failed requests $(failures "$WORK/6.txt"); access log grew $((after - before)) bytes; API $("$KILN" whoami --data "$DATA" >/dev/null 2>&1 && echo answering || echo DOWN); the job: $(tail -1 "$WORK/fill.txt")"
