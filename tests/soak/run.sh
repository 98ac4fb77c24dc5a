#!/usr/bin/env bash
# Soak test: the real server at a steady load on loopback for a bounded time,
# sampling its memory (RSS), open file descriptors and request latency (p50,
# p99) every interval. Not part of CI. Stops by itself; exits non-zero when
# memory or descriptors grow or p99 drifts (see tests/soak/load.py).
#   usage: tests/soak/run.sh [seconds] [interval-seconds]   (default 600 30)
#   env:   SOAK_PROFILE=release to soak a release build (default: debug),
#          SOAK_WORKERS=4 client threads, SOAK_RATE=40 requests/s in total.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-600}"
INTERVAL="${2:-30}"
PROFILE="${SOAK_PROFILE:-debug}"

. tests/lib/server.sh
rapport_setup "$PROFILE"
export DATABASE_URL="${SOAK_DATABASE_URL:-$DATABASE_URL}" RAPPORT_LOG="warn"

"$BIN" seed-demo > "$WORK/seed.log"
rapport_create_admin soak@example.com 'soak admin password 1'
rapport_serve

python3 tests/soak/load.py --port "$PORT" --pid "$SERVER" --duration "$DURATION" --interval "$INTERVAL" \
  --workers "${SOAK_WORKERS:-4}" --rate "${SOAK_RATE:-40}" \
  --email soak@example.com --password 'soak admin password 1'
rapport_fail_on_panic "during the soak"
