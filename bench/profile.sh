#!/usr/bin/env bash
# CPU profiles of scenario 1 (the dashboard page of 50 customers) as flame
# graphs, on the databases a previous `bench/run.sh` left behind
# ($OUT/bench.db and PostgreSQL's rapport_bench):
#
#   bench/profile.sh before          # -> bench/results/flame-before-<engine>-c<N>.svg
#
# Settings (environment): ENGINES ("sqlite postgres"), CLIENTS ("1 16"),
# SECONDS (8), FREQ (sampling Hz, 199), QUERY (s1_dashboard), VARIABLES
# ('{"first": 50}'), OUT (target/bench), PG_ADMIN_URL as in run.sh.
# Needs: perf (linux-perf), inferno (`cargo install inferno`), and the
# release build (its line tables name the frames). Stacks are unwound with
# DWARF (`--call-graph dwarf`): the release build has no frame pointers.
# The profile covers every thread of the server process only; PostgreSQL's
# own CPU is reported by run.sh's CPU accounting, not here.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LABEL=${1:?usage: bench/profile.sh <label>}
ENGINES=${ENGINES:-"sqlite postgres"}
CLIENTS=${CLIENTS:-"1 16"}
# Bash keeps its own SECONDS (seconds since the shell started, 0 here when the
# environment does not set it), so 0 means "not set".
SECONDS_PER_RUN=${SECONDS:-0}
(( SECONDS_PER_RUN > 0 )) || SECONDS_PER_RUN=8
FREQ=${FREQ:-199}
QUERY=${QUERY:-s1_dashboard}
VARIABLES=${VARIABLES:-'{"first": 50}'}
OUT=${OUT:-$ROOT/target/bench}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_URL=${PG_ADMIN_URL%/*}/rapport_bench?sslmode=disable # as bench/run.sh
PORT=${PORT:-18090}
URL=http://127.0.0.1:$PORT/graphql
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
RESULTS_DIR=$ROOT/bench/results
for tool in perf inferno-collapse-perf inferno-flamegraph; do
  command -v "$tool" > /dev/null || { echo "$tool not found" >&2; exit 1; }
done

SERVER_PID=
trap '[[ -n $SERVER_PID ]] && kill $SERVER_PID 2>/dev/null; true' EXIT

for engine in $ENGINES; do
  if [[ $engine == sqlite ]]; then db="sqlite://$OUT/bench.db?mode=rwc"; else db=$PG_URL; fi
  "$BIN/rapport" --database-url "$db" --bind "127.0.0.1:$PORT" --data-dir "$OUT" \
    --jwt-secret "bench-secret-bench-secret-bench-secret-00" --access-token-ttl 6h \
    --log warn serve > "$OUT/profile-server.log" 2>&1 &
  SERVER_PID=$!
  until curl -sf "http://127.0.0.1:$PORT/ready" > /dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/profile-server.log" >&2; exit 1; }
    sleep 0.01
  done
  token=$(jq -n '{query: "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
      variables: {e: "bench@rapport.dev", p: "bench-password-1"}}' |
    curl -sS -H 'content-type: application/json' --data-binary @- "$URL" | jq -r .data.login.accessToken)
  for c in $CLIENTS; do
    load=("$BIN/rapport-load" --url "$URL" --token "$token" --query-file "bench/queries/$QUERY.graphql"
      --variables "$VARIABLES" --concurrency "$c" --json)
    "${load[@]}" --seconds 2 > /dev/null
    name=flame-$LABEL-$engine-c$c
    "${load[@]}" --seconds $((SECONDS_PER_RUN + 2)) > "$OUT/$name.load.json" &
    load_pid=$!
    sleep 1
    perf record -q -F "$FREQ" --call-graph dwarf,16384 -p "$SERVER_PID" -o "$OUT/$name.perf" \
      -- sleep "$SECONDS_PER_RUN" 2> /dev/null
    wait "$load_pid"
    perf script --no-inline -i "$OUT/$name.perf" 2> /dev/null | inferno-collapse-perf > "$OUT/$name.folded"
    inferno-flamegraph --title "$QUERY, $engine, $c client(s), $LABEL ($(jq -r .throughput "$OUT/$name.load.json") req/s)" \
      < "$OUT/$name.folded" > "$RESULTS_DIR/$name.svg"
    rm -f "$OUT/$name.perf"
    echo "$RESULTS_DIR/$name.svg" >&2
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
done
