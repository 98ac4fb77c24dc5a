#!/usr/bin/env bash
# CPU profile of scenario 3 (survey submissions with incentive credit) as a
# flame graph of the server, plus where the whole machine's CPU went during
# the run (server, PostgreSQL, load driver, rest), on a fresh seed:
#
#   bench/profile-submit.sh before   # -> bench/results/flame-submit-before-<engine>.svg
#                                    #    bench/results/…-submit-before-cpu.txt
#
# Settings (environment): ENGINES ("sqlite postgres"), SURVEYS (8: empty
# ACTIVE surveys seeded, every customer invited to each, each token used
# once), FREQ (sampling Hz, 199), CONCURRENCY (16), OUT (target/bench-submit),
# RAPPORT_BIN (server binary; default the release build), PG_ADMIN_URL as in
# run.sh. Needs what run.sh needs, plus perf and inferno.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LABEL=${1:?usage: bench/profile-submit.sh <label>}
ENGINES=${ENGINES:-"sqlite postgres"}
SURVEYS=${SURVEYS:-8}
FREQ=${FREQ:-199}
CONCURRENCY=${CONCURRENCY:-16}
OUT=${OUT:-$ROOT/target/bench-submit}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=rapport_bench_submit
PG_URL=${PG_ADMIN_URL%/*}/$PG_DB?sslmode=disable # as bench/run.sh
PORT=${PORT:-18091}
URL=http://127.0.0.1:$PORT/graphql
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
RAPPORT=${RAPPORT_BIN:-$BIN/rapport}
RESULTS_DIR=$ROOT/bench/results
for tool in perf inferno-collapse-perf inferno-flamegraph psql jq curl; do
  command -v "$tool" > /dev/null || { echo "$tool not found" >&2; exit 1; }
done
mkdir -p "$OUT"

SERVER_PID=
trap '[[ -n $SERVER_PID ]] && kill $SERVER_PID 2>/dev/null; true' EXIT

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

gql() { # token query variables-json
  jq -n --arg q "$2" --argjson v "$3" '{query: $q, variables: $v}' |
    curl -sS -H 'content-type: application/json' -H "authorization: Bearer $1" --data-binary @- "$URL"
}

cpu_file=$RESULTS_DIR/flame-submit-$LABEL-cpu.txt
: > "$cpu_file"
for engine in $ENGINES; do
  if [[ $engine == sqlite ]]; then
    rm -f "$OUT"/submit.db*
    db="sqlite://$OUT/submit.db?mode=rwc"
  else
    psql -X -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
    db=$PG_URL
  fi
  RAPPORT_LOG=warn "$RAPPORT" --database-url "$db" --data-dir "$OUT" seed-bench \
    --customers 1000 --responses 20000 --load-surveys "$SURVEYS" --admin-password bench-password-1 > "$OUT/seed.json"
  "$RAPPORT" --database-url "$db" --bind "127.0.0.1:$PORT" --data-dir "$OUT" \
    --jwt-secret "bench-secret-bench-secret-bench-secret-00" --access-token-ttl 6h \
    --log warn serve > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  until curl -sf "http://127.0.0.1:$PORT/ready" > /dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
    sleep 0.01
  done
  token=$(jq -n '{query: "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
      variables: {e: "bench@rapport.dev", p: "bench-password-1"}}' |
    curl -sS -H 'content-type: application/json' --data-binary @- "$URL" | jq -r .data.login.accessToken)
  tokens=$OUT/tokens.jsonl
  : > "$tokens"
  first=$(jq .first_customer_id "$OUT/seed.json")
  last=$(jq .last_customer_id "$OUT/seed.json")
  ids=$(seq "$first" "$last" | while read -r c; do gid Customer "$c"; echo; done | jq -R . | jq -sc .)
  invite=$(cat bench/queries/invite.graphql)
  for i in $(seq 0 $(( SURVEYS - 1 ))); do
    survey=$(jq ".load_survey_ids[$i]" "$OUT/seed.json")
    answers=$(jq -c ".load_questions[$i] | map({questionId: (\"SurveyQuestion:\" + (.id | tostring) | @base64 | gsub(\"=\"; \"\") | gsub(\"[+]\"; \"-\") | gsub(\"/\"; \"_\")), rating: 4})" "$OUT/seed.json")
    gql "$token" "$invite" "{\"surveyId\": \"$(gid Survey "$survey")\", \"customerIds\": $ids, \"expiresAt\": \"2099-01-01T00:00:00Z\"}" |
      jq -c --argjson a "$answers" '(.data.inviteToSurvey // error(tostring)).invitations[] | {token, answers: $a}' >> "$tokens"
  done
  n=$(wc -l < "$tokens")
  pg_pids=()
  if [[ $engine == postgres ]]; then mapfile -t pg_pids < <(pgrep -x postgres || pgrep -f 'postgres:' || true); fi
  name=flame-submit-$LABEL-$engine
  s0=$(cpu_ticks "$SERVER_PID"); p0=$(cpu_ticks "${pg_pids[@]}"); b0=$(busy_ticks)
  "$BIN/rapport-load" --url "$URL" --query-file bench/queries/s3_submit.graphql --variables-file "$tokens" \
    --concurrency "$CONCURRENCY" --seconds 300 --json > "$OUT/$name.load.json" &
  load_pid=$!
  perf record -q -F "$FREQ" --call-graph dwarf,16384 -p "$SERVER_PID" -o "$OUT/$name.perf" 2> /dev/null &
  perf_pid=$!
  # The whole machine without call graphs: which process and function.
  perf record -q -a -F "$FREQ" -o "$OUT/$name-all.perf" 2> /dev/null &
  all_pid=$!
  wait "$load_pid"
  kill -INT "$perf_pid" "$all_pid"; wait "$perf_pid" "$all_pid" 2>/dev/null || true
  if [[ $engine == postgres ]]; then mapfile -t pg_pids < <(pgrep -x postgres || pgrep -f 'postgres:' || true); fi
  s1=$(cpu_ticks "$SERVER_PID"); p1=$(cpu_ticks "${pg_pids[@]}"); b1=$(busy_ticks)
  throughput=$(jq -r .throughput "$OUT/$name.load.json")
  errors=$(jq -r .errors "$OUT/$name.load.json")
  hz=$(getconf CLK_TCK)
  # Clock ticks per submission, in ms.
  awk -v e="$engine" -v n="$n" -v s=$(( s1 - s0 )) -v p=$(( p1 - p0 )) -v b=$(( b1 - b0 )) -v hz="$hz" \
    -v tp="$throughput" -v err="$errors" 'BEGIN {
      ms = 1000 / hz / n
      printf "%s: %d submissions, %.1f/s, %s errors; CPU ms per submission: server %.2f, PostgreSQL %.2f, rest %.2f, all %.2f\n",
        e, n, tp, err, s * ms, p * ms, (b - s - p) * ms, b * ms
    }' | tee -a "$cpu_file"
  perf script --no-inline -i "$OUT/$name.perf" 2> /dev/null | inferno-collapse-perf > "$OUT/$name.folded"
  inferno-flamegraph --title "submissions, $engine, $CONCURRENCY clients, $LABEL ($throughput/s)" \
    < "$OUT/$name.folded" > "$RESULTS_DIR/$name.svg"
  {
    echo "  by process:"
    perf report -q -i "$OUT/$name-all.perf" --sort comm --stdio 2> /dev/null | head -8 || true
    echo "  by function (top 25, whole machine):"
    perf report -q -i "$OUT/$name-all.perf" --sort comm,dso,sym --stdio 2> /dev/null | head -25 || true
  } | tee -a "$cpu_file"
  [[ ${KEEP:-0} == 1 ]] || rm -f "$OUT/$name.perf" "$OUT/$name-all.perf"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  if [[ $engine == postgres ]]; then psql -X -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB"; fi
done
echo "$cpu_file" >&2
