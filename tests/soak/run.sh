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

if [ "$PROFILE" = release ]; then cargo build -q -p api --release; else cargo build -q -p api; fi
BIN="${CARGO_TARGET_DIR:-target}/$PROFILE/rapport"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export DATABASE_URL="${SOAK_DATABASE_URL:-sqlite://$WORK/rapport.db?mode=rwc}" RAPPORT_DATA_DIR="$WORK" RAPPORT_LOG="warn"
unset RAPPORT_JWT_SECRET RAPPORT_ENV

"$BIN" seed-demo > "$WORK/seed.log"
printf 'soak admin password 1\n' | "$BIN" create-user --email soak@example.com --role ADMIN --password-stdin >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done

python3 tests/soak/load.py --port "$PORT" --pid "$SERVER" --duration "$DURATION" --interval "$INTERVAL" \
  --workers "${SOAK_WORKERS:-4}" --rate "${SOAK_RATE:-40}" \
  --email soak@example.com --password 'soak admin password 1'
if grep -qi 'panicked' "$WORK/server.log"; then echo "server log shows a panic"; exit 1; fi
