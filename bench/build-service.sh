#!/usr/bin/env bash
# The build service's figures, side by side in one run (these machines are shared and noisy):
#  1. Build time of a Flask app (flask + gunicorn from PyPI, a Procfile): cold (a tool's first
#     build: its dependency cache empty, everything downloaded) and warm (the same tool again:
#     pip's cache holds the wheels). ROUNDS rounds, each a new tool (cold) then a rebuild (warm).
#  2. Start time of the same app as a webservice: `webservice buildservice start` (the image's
#     gunicorn from its virtualenv) vs `webservice python3.11 start` (the host's gunicorn serving
#     www/python/src/app.py), alternated ROUNDS times; from the command's start until it returns
#     with the webservice serving (it waits for the health check), then one request through the
#     proxy must answer.
# Prints medians and every value. Run as root to give tools their own users (as in production).
#   ROUNDS=5 BUILD=debug|release
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
BUILD=${BUILD:-debug}
if [ "$BUILD" = release ]; then
  build_kiln
else
  (cd "$ROOT" && swift build --product kiln > /dev/null && swift build --product kiln-enter > /dev/null)
fi
KILN="$ROOT/.build/$BUILD/kiln"
chmod 711 "$WORK"
DATA="$WORK/data"
API=$(free_port)
HTTP=$(free_port)
"$KILN" serve --data "$DATA" --api "127.0.0.1:$API" --http "127.0.0.1:$HTTP" --https "127.0.0.1:$(free_port)" --allow-http \
  --log-level warning > "$WORK/serve.log" 2>&1 &
PIDS+=("$!")
wait_http "http://127.0.0.1:$API/v1/whoami"

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
median() { python3 -c "import sys, statistics; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
as_tool() { # TOOL COMMAND...
  local tool=$1; shift
  if [ "$(id -u)" = 0 ]; then runuser -u "tools.$tool" -- "$@"; else "$@"; fi
}

APP='import os
from flask import Flask

app = Flask(__name__)


@app.route("/", defaults={"path": ""})
@app.route("/<path:path>")
def index(path):
    return {"pid": os.getpid()}
'
make_tool() { # TOOL: a tool with the app as a repository and as www/python/src
  local tool=$1 home="$DATA/tools/$1"
  "$KILN" tools create "$tool" --data "$DATA" > /dev/null
  as_tool "$tool" mkdir -p "$home/repo" "$home/www/python/src"
  printf '%s' "$APP" | as_tool "$tool" tee "$home/repo/app.py" "$home/www/python/src/app.py" > /dev/null
  printf 'flask\ngunicorn\n' | as_tool "$tool" tee "$home/repo/requirements.txt" > /dev/null
  printf 'web: gunicorn --workers 2 app:app\n' | as_tool "$tool" tee "$home/repo/Procfile" > /dev/null
  as_tool "$tool" git -C "$home/repo" init -q -b main
  as_tool "$tool" git -C "$home/repo" add -A
  as_tool "$tool" git -C "$home/repo" -c user.email=b@kiln -c user.name=bench commit -q -m app
}
build() { # TOOL -> seconds, as the build's record says (from its start to its end; the CLI
  # follows the log every half second, which would round the figure)
  "$KILN" build start "$DATA/tools/$1/repo" --tool "$1" --data "$DATA" > "$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log" >&2; echo "bench: the build failed" >&2; exit 1; }
  "$KILN" build show --json --tool "$1" --data "$DATA" |
    python3 -c "import json, sys; b = json.load(sys.stdin)['build']; print(f\"{b['end_time'] - b['start_time']:.2f}\")"
}
start_webservice() { # TOOL TYPE -> seconds
  local start end
  start=$(now)
  "$KILN" webservice "$2" start --tool "$1" --data "$DATA" > "$WORK/start.log" 2>&1 ||
    { cat "$WORK/start.log" >&2; echo "bench: $2 did not start" >&2; exit 1; }
  end=$(now)
  curl -sf -o /dev/null "http://127.0.0.1:$HTTP/$1/" || { echo "bench: $2 does not answer" >&2; exit 1; }
  "$KILN" webservice stop --tool "$1" --data "$DATA" > /dev/null
  elapsed "$start" "$end"
}

cold=() warm=() buildservice=() python=()
for round in $(seq "$ROUNDS"); do
  tool="bsb$round"
  make_tool "$tool"
  cold+=("$(build "$tool")")
  warm+=("$(build "$tool")")
  echo "bench: round $round: build cold ${cold[-1]} s, warm ${warm[-1]} s"
done
for round in $(seq "$ROUNDS"); do
  buildservice+=("$(start_webservice bsb1 buildservice)")
  python+=("$(start_webservice bsb1 python3.11)")
  echo "bench: round $round: start buildservice ${buildservice[-1]} s, python3.11 ${python[-1]} s"
done
printf '\n%-40s %8s   %s\n' "figure (seconds)" "median" "values"
printf '%-40s %8s   %s\n' "Flask build, cold (empty cache)" "$(median "${cold[@]}")" "${cold[*]}"
printf '%-40s %8s   %s\n' "Flask build, warm (pip cache)" "$(median "${warm[@]}")" "${warm[*]}"
printf '%-40s %8s   %s\n' "webservice start: buildservice" "$(median "${buildservice[@]}")" "${buildservice[*]}"
printf '%-40s %8s   %s\n' "webservice start: python3.11" "$(median "${python[@]}")" "${python[*]}"
