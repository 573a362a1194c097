# Shared by the benchmark scripts: a fixed upstream (nginx `return 200` with a 1 KiB body), nginx as
# the reference reverse proxy, Kiln's proxy, and wrk runs alternated over them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/kiln-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/upstream.pidfile" ] && kill "$(cat "$(cat "$WORK/upstream.pidfile")")" 2>/dev/null || true
  [ -f "$WORK/nginx-proxy.pid" ] && kill "$(cat "$WORK/nginx-proxy.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing (run scripts/install-test-deps)" >&2; exit 1; }; }
need nginx; need wrk; need curl

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_http() { # URL
  for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "bench: $1 did not answer" >&2; exit 1
}

BODY=$(head -c 1024 /dev/zero | tr '\0' 'k')

start_upstream() { # PORT [USER]
  # As a tool's user when one is given: a tool's route reaches only a listener of the tool's own.
  local dir="$WORK" run=()
  if [ -n "${2:-}" ]; then
    dir="$WORK/upstream"
    mkdir -p "$dir" && chmod 711 "$WORK" && chown "$2" "$dir"
    run=(runuser -u "$2" --)
  fi
  cat > "$dir/upstream.conf" <<CONF
worker_processes 2;
pid $dir/upstream.pid;
error_log $dir/upstream-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$1 reuseport backlog=4096;
    location / { default_type text/plain; return 200 "$BODY"; }
  }
}
CONF
  "${run[@]}" nginx -e "$dir/upstream-error.log" -c "$dir/upstream.conf" -p "$dir" -g 'daemon on;'
  echo "$dir/upstream.pid" > "$WORK/upstream.pidfile"
  wait_http "http://127.0.0.1:$1/"
}

start_nginx_proxy() { # PORT UPSTREAM_PORT [WORKERS]
  cat > "$WORK/nginx-proxy.conf" <<CONF
worker_processes ${3:-2};
pid $WORK/nginx-proxy.pid;
error_log $WORK/nginx-proxy-error.log;
events { worker_connections 4096; }
http {
  access_log $WORK/nginx-access.log combined buffer=256k flush=1s;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$2; keepalive 64; }
  server {
    listen 127.0.0.1:$1 reuseport backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF
  nginx -c "$WORK/nginx-proxy.conf" -p "$WORK" -g 'daemon on;'
  wait_http "http://127.0.0.1:$1/bench/"
}

KILN="$ROOT/.build/release/kiln"
build_kiln() {
  (cd "$ROOT" && swift build -c release --product kiln >/dev/null && swift build -c release --product kiln-enter >/dev/null)
}

# Prints "req/s p50 p90 p99" (latencies in ms) for one wrk run; wrk reads URLs from stdin when
# given a Lua script, so spreading over many paths uses one.
run_wrk() { # URL [LUA]
  local out
  if [ -n "${2:-}" ]; then
    out=$(${WRK_PREFIX:-} wrk -t2 -c64 -d"${DURATION:-10}"s --latency -s "$2" "$1")
  else
    out=$(${WRK_PREFIX:-} wrk -t2 -c64 -d"${DURATION:-10}"s --latency "$1")
  fi
  if echo "$out" | grep -q "Non-2xx"; then echo "bench: non-2xx answers from $1" >&2; echo "$out" >&2; exit 1; fi
  local rps p50 p90 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p90=$(echo "$out" | awk '$1=="90%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  echo "$rps $(to_ms "$p50") $(to_ms "$p90") $(to_ms "$p99")"
}

to_ms() { # wrk prints 1.23ms, 456.00us, 1.2s
  python3 -c '
import sys, re
v = sys.argv[1]
m = re.match(r"([0-9.]+)(us|ms|s)$", v)
n, u = float(m.group(1)), m.group(2)
print(round(n / 1000 if u == "us" else n * 1000 if u == "s" else n, 3))' "$1"
}

summarise() { # FILE with lines "system round rps p50 p90 p99"
  python3 - "$1" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
systems = []
for r in rows:
    if r[0] not in systems: systems.append(r[0])
print(f"{'system':<14}{'round':>6}{'req/s':>12}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
for r in rows:
    print(f"{r[0]:<14}{r[1]:>6}{float(r[2]):>12.0f}{float(r[3]):>10.3f}{float(r[4]):>10.3f}{float(r[5]):>10.3f}")
med = {s: [statistics.median(float(r[i]) for r in rows if r[0] == s) for i in (2, 3, 4, 5)] for s in systems}
print()
print(f"{'median':<14}{'':>6}{'req/s':>12}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
for s in systems:
    m = med[s]
    print(f"{s:<14}{'':>6}{m[0]:>12.0f}{m[1]:>10.3f}{m[2]:>10.3f}{m[3]:>10.3f}")
if len(systems) >= 2:
    a, b = systems[-1], systems[0]
    print()
    print(f"ratio {a}/{b}: req/s {med[a][0] / med[b][0]:.2f}x, p99 {med[a][3] / med[b][3]:.2f}x")
PY
}
