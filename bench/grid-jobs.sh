#!/usr/bin/env bash
# Jobs through the real API on each backend, local, Son of Grid Engine and Slurm, in one run
# (root: a grid runs a tool's jobs as the tool's user; the grids of scripts/grid-up all
# --two-hosts, brought up if they are not):
#  1. submit -> running: a one-off job is POSTed and its command records when it started; the
#     latency is from just before the POST to that start. N=50 per backend: p50, p90, max.
#  2. 1000 jobs due in one minute (20 tools x 50 jobs scheduled for the same minute, each
#     `date +%s.%N`): how long after the minute the first, median and last started, and how long
#     until Kiln had recorded all 1000 runs ended. The grids keep their 8 slots a host (three
#     hosts: 24 jobs at once); the grids are shared, so they are not reconfigured for a bench.
# Prints a table at the end. Tools are fob0..fob19 (one data directory a backend).
#   BACKENDS="local gridengine slurm" ONE_OFF=50 TOOLS=20 PER_TOOL=50 DEADLINE=600 BUILD=release
source "$(dirname "$0")/lib.sh"
BACKENDS=${BACKENDS:-local gridengine slurm}
ONE_OFF=${ONE_OFF:-50}
TOOLS=${TOOLS:-20}
PER_TOOL=${PER_TOOL:-50}
# The longest phase 2 waits on one backend, in seconds, before it reports what it has.
DEADLINE=${DEADLINE:-600}
BUILD=${BUILD:-release}
[ "$(id -u)" = 0 ] || { echo "bench: grid-jobs.sh must run as root" >&2; exit 1; }
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default

grids_up() {
  qstat -u '*' > /dev/null 2>&1 && qconf -se exec2 > /dev/null 2>&1 && scontrol ping 2> /dev/null | grep -q UP &&
    scontrol show node node2 > /dev/null 2>&1
}
if [[ " $BACKENDS " != " local " ]] && ! grids_up; then
  echo "bench: bringing the grids up (scripts/grid-up all --two-hosts)"
  bash "$ROOT/scripts/grid-up" all --two-hosts | tail -1 | grep -qx OK || { echo "bench: grid-up failed" >&2; exit 1; }
fi
if [ "$BUILD" = release ]; then
  build_kiln
else
  (cd "$ROOT" && swift build --product kiln > /dev/null && swift build --product kiln-enter > /dev/null)
fi
KILN="$ROOT/.build/$BUILD/kiln"
chmod 711 "$WORK"
: > "$WORK/results"

for backend in $BACKENDS; do
  API=$(free_port)
  DATA="$WORK/data-$backend"
  arguments=()
  [ "$backend" = local ] || arguments=(--backend "$backend")
  "$KILN" serve --data "$DATA" --api "127.0.0.1:$API" --http "127.0.0.1:$(free_port)" --https "127.0.0.1:$(free_port)" \
    "${arguments[@]}" --log-level warning > "$WORK/serve-$backend.log" 2>&1 &
  server=$!
  PIDS+=("$server")
  for _ in $(seq 200); do [ -S "$DATA/kiln.sock" ] && break; sleep 0.05; done
  for i in $(seq 0 $((TOOLS - 1))); do "$KILN" tools create "fob$i" --data "$DATA" > /dev/null; done
  echo "== $backend"
  python3 - "$backend" "$API" "$DATA" "$ONE_OFF" "$TOOLS" "$PER_TOOL" "$DEADLINE" "$WORK/results" <<'PY'
import http.client, json, os, statistics, sys, time
backend, api, data = sys.argv[1], sys.argv[2], sys.argv[3]
one_off, tools, per_tool, deadline, results = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), sys.argv[8]
token = open(os.path.join(data, "admin.token")).read().strip()
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
connection = http.client.HTTPConnection("127.0.0.1", int(api), timeout=120)

def call(method, path, body=None):
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    if response.status >= 300:
        sys.exit(f"bench: {method} {path}: {response.status} {payload[:300]!r}")
    return json.loads(payload) if payload else None

def job(name, command, **extra):
    spec = {"name": name, "command": command, "image": "bookworm", "continuous": False, "retry": 0, "emails": "none",
            "filelog": True, "mount": "all"}
    spec.update(extra)
    return spec

def first_line(tool, name):
    try:
        lines = open(os.path.join(data, "tools", tool, name + ".out")).read().split()
        return float(lines[0]) if lines else None
    except FileNotFoundError:
        return None

def record(line):
    print(line, flush=True)
    with open(results, "a") as f:
        f.write(backend + "\t" + line + "\n")

# 1. submit -> running
latencies = []
for i in range(one_off):
    name = f"once{i}"
    before = time.time()
    call("POST", "/v1/tools/fob0/jobs", job(name, "date +%s.%N"))
    end = before + 120
    while (started := first_line("fob0", name)) is None:
        if time.time() > end:
            sys.exit(f"bench: {backend}: {name} did not start within 120 s")
        time.sleep(0.002)
    latencies.append((started - before) * 1000)
    # Its end, then gone: the next one meets an idle platform.
    while call("GET", f"/v1/tools/fob0/jobs/{name}")["job"]["status"] not in ("Completed", "Failed"):
        time.sleep(0.02)
    call("DELETE", f"/v1/tools/fob0/jobs/{name}")
latencies.sort()
p50 = statistics.median(latencies)
p90 = latencies[max(0, int(len(latencies) * 0.9) - 1)]
record(f"submit->running\t{one_off}\tp50 {p50:.0f} ms\tp90 {p90:.0f} ms\tmax {latencies[-1]:.0f} ms")

# 2. 1000 jobs due in one minute: the minute at least 45 s ahead (declaring them takes a while).
now = time.time()
minute = (int(now) // 60 + 1) * 60
if minute - now < 45:
    minute += 60
at = time.gmtime(minute)
schedule = f"{at.tm_min} {at.tm_hour} * * *"
for t in range(tools):
    for j in range(per_tool):
        call("POST", f"/v1/tools/fob{t}/jobs", job(f"cron{j}", "date +%s.%N", schedule=schedule))
total = tools * per_tool
print(f"{total} jobs scheduled '{schedule}' UTC ({minute - time.time():.0f} s ahead)", flush=True)
time.sleep(max(0, minute - time.time()))
starts = {}
ended_at = None
ended = set()
failed = []
last_list = 0
end = minute + deadline
while time.time() < end and (len(starts) < total or len(ended) < total):
    for t in range(tools):
        for j in range(per_tool):
            if (t, j) not in starts and (s := first_line(f"fob{t}", f"cron{j}")) is not None:
                starts[(t, j)] = s - minute
    # Kiln's word on the runs' ends, every 2 s: a finished run of this minute's tick.
    if time.time() - last_list >= 2:
        last_list = time.time()
        for t in range(tools):
            for status in call("GET", f"/v1/tools/fob{t}/jobs")["jobs"]:
                runs = status.get("runs") or []
                if runs and runs[0].get("outcome") and runs[0].get("tick", minute) >= minute - 1:
                    if (t, status["name"]) not in ended and runs[0]["outcome"].get("result") != "succeeded":
                        failed.append(f"fob{t}/{status['name']}: {status.get('hints', '?')}")
                    ended.add((t, status["name"]))
                    if len(ended) == total and ended_at is None:
                        ended_at = time.time() - minute
    time.sleep(0.05)
values = sorted(starts.values())
if values:
    started = (f"first {values[0]:.1f} s\tmedian {statistics.median(values):.1f} s\t"
               f"last {values[-1]:.1f} s ({len(values)} of {total} started)")
else:
    started = f"none of {total} started within {deadline:.0f} s"
if len(ended) == total:
    completed = f"all ended {ended_at:.1f} s after the minute"
else:
    completed = f"{len(ended)} of {total} ended within {deadline:.0f} s"
# A run doubled (submitted twice, say after a timed-out qsub that did submit) writes twice.
doubled = 0
for t in range(tools):
    for j in range(per_tool):
        try:
            doubled += len(open(os.path.join(data, "tools", f"fob{t}", f"cron{j}.out")).read().split()) > 1
        except FileNotFoundError:
            pass
record(f"{total} due at one minute\t{started}\t{completed}, {len(failed)} not succeeded, {doubled} doubled")
for line in failed[:10]:
    print("  not succeeded: " + line, flush=True)
# The jobs go, each tool's at once.
for t in range(tools):
    call("DELETE", f"/v1/tools/fob{t}/jobs")
PY
  kill "$server" 2> /dev/null || true
  wait "$server" 2> /dev/null || true
  # The server's warnings outlive the run (its data directory does not).
  cp "$WORK/serve-$backend.log" "/tmp/grid-jobs-serve-$backend.log"
done

echo
echo "== grid-jobs: $(date -u +%FT%TZ), $(nproc) cores, BUILD=$BUILD"
python3 - "$WORK/results" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
print(f"{'backend':<12}{'measure':<26}figures")
for row in rows:
    print(f"{row[0]:<12}{row[1]:<26}{'  '.join(row[2:])}")
PY
