#!/usr/bin/env bash
# Starts PostGraphile against $1 on port $2, writing its pid to $3/postgraphile.pid
# and printing the major version that serves ("5" or "4"). PostGraphile 5
# asks for Node 22; on older Node it is tried first and, when a probe query
# fails, replaced by 4.14.
set -uo pipefail
DB=$1 PORT=$2 OUT=$3
probe() {
  for _ in $(seq 1 240); do
    body=$(curl -s -H 'content-type: application/json' \
      -d '{"query":"{ allLoyaltyTiers(first: 1) { nodes { name } } }"}' "http://127.0.0.1:$PORT/graphql" 2>/dev/null)
    if [[ -n "$body" ]]; then
      [[ "$body" == *'"nodes"'* && "$body" != *'"errors"'* ]] && return 0
      return 1
    fi
    sleep 0.5
  done
  return 1
}
stop() { kill -- "-$1" 2>/dev/null; sleep 1; }
setsid npx -y postgraphile@5 -P postgraphile/presets/amber -c "$DB" -s public -p "$PORT" \
  > "$OUT/postgraphile5.log" 2>&1 < /dev/null &
pid=$!
if probe; then echo $pid > "$OUT/postgraphile.pid"; echo 5; exit 0; fi
echo "postgraphile@5 did not serve (node $(node --version)); see $OUT/postgraphile5.log; using 4.14" >&2
stop $pid
setsid npx -y postgraphile@4.14 -c "$DB" -s public -p "$PORT" --disable-query-log \
  > "$OUT/postgraphile4.log" 2>&1 < /dev/null &
pid=$!
if probe; then echo $pid > "$OUT/postgraphile.pid"; echo 4; exit 0; fi
stop $pid
exit 1
