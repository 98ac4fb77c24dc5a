#!/usr/bin/env bash
# Bounded GraphQL fuzzing with schemathesis against the real server, as an ADMIN
# and anonymously. Fails on any 5xx, any error without extensions.code, any
# INTERNAL error, or a panic in the server log.
#   usage: tests/fuzz/run.sh [seconds-per-run]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN="${1:-60}"

python3 -m pip --version >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-pip; }
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install -q "schemathesis>=4,<5"

cargo build -q -p api
BIN="${CARGO_TARGET_DIR:-target}/debug/rapport"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export DATABASE_URL="sqlite://$WORK/rapport.db?mode=rwc" RAPPORT_DATA_DIR="$WORK" RAPPORT_LOG="info"
unset RAPPORT_JWT_SECRET RAPPORT_ENV

"$BIN" seed-demo > "$WORK/seed.log"
printf 'fuzzing admin password\n' | "$BIN" create-user --email fuzz@example.com --role ADMIN --password-stdin >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done

TOKEN="$(curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
  -d '{"query":"mutation { login(email: \"fuzz@example.com\", password: \"fuzzing admin password\") { accessToken } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])')"

cd tests/fuzz
export SCHEMATHESIS_HOOKS=hooks
echo "== fuzzing as ADMIN for ${SECONDS_PER_RUN}s"
schemathesis run "http://127.0.0.1:$PORT/graphql" --max-time "$SECONDS_PER_RUN" --workers 2 \
  -c rapport_error_contract -H "Authorization: Bearer $TOKEN" --seed 1
echo "== fuzzing anonymously for ${SECONDS_PER_RUN}s"
schemathesis run "http://127.0.0.1:$PORT/graphql" --max-time "$SECONDS_PER_RUN" --workers 2 \
  -c rapport_error_contract --seed 2
cd - >/dev/null

if grep -qi "panicked" "$WORK/server.log"; then
  echo "server panicked during fuzzing:"; grep -i -A3 "panicked" "$WORK/server.log" | head -20; exit 1
fi
curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null || { echo "server not ready after fuzzing"; exit 1; }
echo "fuzzing passed"
