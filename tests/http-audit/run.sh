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

. tests/lib/server.sh
rapport_setup
export RAPPORT_LOG="info"

rapport_create_admin audit@example.com 'http audit admin password'
rapport_serve
TOKEN="$(rapport_login audit@example.com 'http audit admin password')"

status=0
echo "== GraphQL-over-HTTP audit, anonymously"
node tests/http-audit/audit.mjs "http://127.0.0.1:$PORT/graphql" || status=1
echo "== GraphQL-over-HTTP audit, with a bearer token"
node tests/http-audit/audit.mjs "http://127.0.0.1:$PORT/graphql" "$TOKEN" || status=1

rapport_fail_on_panic "during the audit"
[ "$status" -eq 0 ] && echo "GraphQL-over-HTTP audit passed"
exit "$status"
