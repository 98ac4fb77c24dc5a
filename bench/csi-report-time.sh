#!/usr/bin/env bash
# Times the plain CSI report (s4_csi_report) and the full one (s8_csi_full)
# through HTTP, one request at a time, on an already seeded database: one
# warm-up request each, then N timed ones (curl's time_total, seconds).
# Used for before/after comparisons of two server binaries on one data set
# (BENCHMARKS.md, rounds 6 to 8). After each query's times, the server's CPU
# seconds (user + system, all threads) per timed request. Last line: the
# server's peak resident memory (VmHWM) after these requests.
#
#   bench/csi-report-time.sh <database-url> <rapport-binary> <label> <N> <seed-json>
#
# <seed-json> is what `rapport seed-bench` printed (its factor_set_id is
# used). The bench data's history: from 2024-11-01 to 2026-11-01.
set -euo pipefail
URL=$1 BIN=$2 LABEL=$3 N=$4 SEED=$5
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-18555}
DATA=$(mktemp -d)
RAPPORT_LOG=warn RAPPORT_JWT_SECRET=$(head -c 48 /dev/urandom | base64 -w0) "$BIN" \
  --database-url "$URL" --bind "127.0.0.1:$PORT" --data-dir "$DATA" --request-timeout 300s \
  serve > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.5; done
post() { curl -s "$@" "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json'; }
# The server's user + system CPU time so far, in clock ticks (all threads).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TOKEN=$(post -d '{"query":"mutation { login(input: {email: \"bench@rapport.dev\", password: \"bench-password-1\"}) { accessToken } }"}' | jq -r .data.login.accessToken)
SET_ID=$(printf 'CsiFactorSet:%s' "$(jq .factor_set_id "$SEED")" | base64 -w0 | tr '+/' '-_' | tr -d '=')
for Q in s4_csi_report s8_csi_full; do
  BODY=$(jq -n --rawfile q "$ROOT/bench/queries/$Q.graphql" --arg id "$SET_ID" \
    '{query: $q, variables: {factorSetId: $id, from: "2024-11-01", to: "2026-11-01"}}')
  if post -H "authorization: Bearer $TOKEN" -d "$BODY" | grep -q '"errors"'; then
    echo "$LABEL $Q: the answer has errors" >&2
    exit 1
  fi
  TIMES=""
  CPU_BEFORE=$(cpu_ticks)
  for _ in $(seq "$N"); do
    TIMES="$TIMES $(post -o /dev/null -w '%{time_total}' -H "authorization: Bearer $TOKEN" -d "$BODY")"
  done
  echo "$LABEL $Q$TIMES"
  echo "$LABEL ${Q}_cpu_s_per_request $(echo "$(cpu_ticks) $CPU_BEFORE $N $(getconf CLK_TCK)" | awk '{printf "%.2f", ($1 - $2) / $3 / $4}')"
done
echo "$LABEL peak_rss_kb $(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")"
