#!/usr/bin/env bash
# The GraphQL-over-HTTP reference audit (npm `graphql-http`, `auditServer`,
# version pinned in package-lock.json) against the real server on /graphql,
# anonymously and with a bearer token. Fails on any error or warning, and on
# any notice that tests/http-audit/audit.mjs does not list with its reason.
#   usage: tests/http-audit/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
(cd tests/http-audit && npm ci --no-audit --no-fund --silent)

cargo build -q -p api
BIN="${CARGO_TARGET_DIR:-target}/debug/rapport"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export DATABASE_URL="sqlite://$WORK/rapport.db?mode=rwc" RAPPORT_DATA_DIR="$WORK" RAPPORT_LOG="info"
unset RAPPORT_JWT_SECRET RAPPORT_ENV

printf 'http audit admin password\n' | "$BIN" create-user --email audit@example.com --role ADMIN --password-stdin >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done

TOKEN="$(curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
  -d '{"query":"mutation { login(email: \"audit@example.com\", password: \"http audit admin password\") { accessToken } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])')"

status=0
echo "== GraphQL-over-HTTP audit, anonymously"
node tests/http-audit/audit.mjs "http://127.0.0.1:$PORT/graphql" || status=1
echo "== GraphQL-over-HTTP audit, with a bearer token"
node tests/http-audit/audit.mjs "http://127.0.0.1:$PORT/graphql" "$TOKEN" || status=1

if grep -qi "panicked" "$WORK/server.log"; then
  echo "server panicked during the audit:"; grep -i -A3 "panicked" "$WORK/server.log" | head -20; exit 1
fi
[ "$status" -eq 0 ] && echo "GraphQL-over-HTTP audit passed"
exit "$status"
