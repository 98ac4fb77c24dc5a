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

. tests/lib/server.sh
rapport_setup
export RAPPORT_LOG="info"

"$BIN" seed-demo > "$WORK/seed.log"
rapport_create_admin fuzz@example.com 'fuzzing admin password'
rapport_serve
TOKEN="$(rapport_login fuzz@example.com 'fuzzing admin password')"

cd tests/fuzz
export SCHEMATHESIS_HOOKS=hooks
echo "== fuzzing as ADMIN for ${SECONDS_PER_RUN}s"
schemathesis run "http://127.0.0.1:$PORT/graphql" --max-time "$SECONDS_PER_RUN" --workers 2 \
  -c rapport_error_contract -H "Authorization: Bearer $TOKEN" --seed 1
echo "== fuzzing anonymously for ${SECONDS_PER_RUN}s"
schemathesis run "http://127.0.0.1:$PORT/graphql" --max-time "$SECONDS_PER_RUN" --workers 2 \
  -c rapport_error_contract --seed 2
cd - >/dev/null

rapport_fail_on_panic "during fuzzing"
curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null || { echo "server not ready after fuzzing"; exit 1; }
echo "fuzzing passed"
