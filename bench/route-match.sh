#!/usr/bin/env bash
# Route-pattern matching alone, in process: nanoseconds per match of `.*`, an anchored literal, a
# typical regex (`^/api/v[0-9]+/`) and the pathological `^/(a+)+$` on a 30-byte and a 3,000-byte
# path that does not match; and a whole request to a tool with 100 patterns each pathological on
# its path (the per-request budget bounds it: ns/request). Each case runs in its own process under a timeout (TIMEOUT seconds,
# default 60), so an engine that backtracks without bound is reported as such rather than hanging
# the script. Release build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TIMEOUT=${TIMEOUT:-60}
(cd "$ROOT" && swift build -c release --product KilnRouteBench >/dev/null)
BENCH="$ROOT/.build/release/KilnRouteBench"
printf '%-22s%14s  %s\n' case ns/match outcome
for name in catch-all anchored-literal typical-regex pathological-30B pathological-3000B request-100-pathological; do
  if line=$(timeout "$TIMEOUT" "$BENCH" "$name"); then
    read -r _ nanoseconds outcome <<<"$line"
    printf '%-22s%14s  %s\n' "$name" "$nanoseconds" "$outcome"
  else
    printf '%-22s%14s  %s\n' "$name" ">${TIMEOUT}s" "did not finish one match"
  fi
done
