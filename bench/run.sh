#!/usr/bin/env bash
# Rapport benchmark: seeds, serves and measures the scenarios of
# BENCHMARKS.md on SQLite and PostgreSQL, with raw SQL and PostGraphile
# baselines. One command reproduces the whole table:
#
#   bench/run.sh                      # quick: 1 000 customers, 20 000 responses
#   FULL=1 bench/run.sh               # full: 10 000 customers, 1 000 000 responses
#
# Settings (environment): CUSTOMERS, RESPONSES, RUNS (5), SECONDS (10),
# CONCURRENCY (16), ENGINES ("sqlite postgres"), PG_ADMIN_URL
# (postgres://postgres@127.0.0.1:5432/postgres), PG_DB (rapport_bench),
# POSTGRAPHILE (1 = compare),
# OUT (target/bench), PROCESSES (e.g. "1 2 3": on PostgreSQL, also the
# dashboard and submissions with the load spread over that many server
# processes on this machine; off when empty), EXPORT (1 = also the CSV
# exports, last, with the server's memory while it streams them),
# EXPORT_ONLY (1 = seed, then only the exports), RAPPORT_BIN (the server
# binary; default the one this script builds), SCENARIOS (e.g.
# "s4_csi_report s8_csi_full": only these load scenarios, raw SQL
# statements and, when listed, s3_submit and postgraphile; all when empty).
# Needs: cargo, curl, jq, python3, psql, pgbench, sqlite3, npx.
# Everything it writes lives under $OUT; PostgreSQL gets a database named
# $PG_DB (dropped and recreated).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [[ "${FULL:-0}" == 1 ]]; then
  CUSTOMERS=${CUSTOMERS:-10000}
  RESPONSES=${RESPONSES:-1000000}
fi
CUSTOMERS=${CUSTOMERS:-1000}
RESPONSES=${RESPONSES:-20000}
RUNS=${RUNS:-5}
# Bash keeps its own SECONDS (seconds since the shell started, 0 here when the
# environment does not set it), so 0 means "not set".
SECONDS_PER_RUN=${SECONDS:-0}
(( SECONDS_PER_RUN > 0 )) || SECONDS_PER_RUN=10
CONCURRENCY=${CONCURRENCY:-16}
ENGINES=${ENGINES:-"sqlite postgres"}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-rapport_bench}
# Plain TCP for every client on the loopback link (Rapport, pgbench, psql,
# PostGraphile): sqlx and libpq would otherwise negotiate TLS with a server
# that offers it (sslmode=prefer), which node-postgres never does.
PG_URL=${PG_ADMIN_URL%/*}/$PG_DB?sslmode=disable
POSTGRAPHILE=${POSTGRAPHILE:-1}
OUT=${OUT:-$ROOT/target/bench}
PORT=${PORT:-18080}
PGL_PORT=${PGL_PORT:-15678}
PROCESSES=${PROCESSES:-}
EXPORT_ONLY=${EXPORT_ONLY:-0}
SCENARIOS=${SCENARIOS:-}
EXPORT=${EXPORT:-$EXPORT_ONLY}
PASSWORD=bench-password-1
URL=http://127.0.0.1:$PORT/graphql
# The bench data's history ends here (see seed::bench).
FROM=2024-11-01
TO=2026-11-01
PREV=2022-11-01

mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PROFILE=${PROFILE:-release} # PROFILE=dev only to smoke-test this script
echo "== building ($PROFILE)" >&2
cargo build --profile "$PROFILE" -q -p api -p bench
BIN_DIR=$CARGO_TARGET_DIR/$([[ $PROFILE == dev ]] && echo debug || echo "$PROFILE")
# RAPPORT_BIN: another server binary to measure (e.g. an older release
# build, for a before/after comparison with the same load generator).
RAPPORT=${RAPPORT_BIN:-$BIN_DIR/rapport}
LOAD=$BIN_DIR/rapport-load
Q=$ROOT/bench/queries

record() { # engine scenario extra-json < rapport-load json line
  local line
  line=$(cat)
  echo "$line" | jq -c --arg e "$1" --arg s "$2" --argjson x "$3" '. + {engine: $e, scenario: $s} + $x' >> "$RESULTS"
}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

gql() { # token query-file variables-json [header-dump-file]
  local auth=() dump=/dev/null
  [[ -n "$1" ]] && auth=(-H "authorization: Bearer $1")
  [[ -n "${4:-}" ]] && dump=$4
  jq -n --rawfile q "$2" --argjson v "$3" '{query: $q, variables: $v}' |
    curl -sS -D "$dump" -H 'content-type: application/json' "${auth[@]}" --data-binary @- "$URL"
}

CLK_TCK=$(getconf CLK_TCK)
# The server's SQLite pool by default: 2 connections per core, 4 to 16
# (domain::db::default_max_connections).
SQLITE_POOL=$(( $(nproc) * 2 )); (( SQLITE_POOL < 4 )) && SQLITE_POOL=4; (( SQLITE_POOL > 16 )) && SQLITE_POOL=16

SERVER_PID=
PGL_PID=
EXTRA_PIDS=()
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; fi
}
stop_extra() {
  local p
  for p in "${EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  EXTRA_PIDS=()
}
stop_pgl() {
  if [[ -n "$PGL_PID" ]]; then kill -- "-$PGL_PID" 2>/dev/null || kill "$PGL_PID" 2>/dev/null || true; wait "$PGL_PID" 2>/dev/null || true; PGL_PID=; fi
}
trap 'stop_server; stop_extra; stop_pgl' EXIT

start_server() { # database-url -> sets SERVER_PID and READY_MS
  local t0 t1
  if curl -s "http://127.0.0.1:$PORT/ready" > /dev/null 2>&1; then
    echo "port $PORT is taken by another server; set PORT" >&2
    exit 1
  fi
  t0=$(date +%s%N)
  RAPPORT_DEBUG_STATEMENT_COUNT=true "$RAPPORT" --database-url "$1" --bind "127.0.0.1:$PORT" \
    --data-dir "$OUT" --jwt-secret "bench-secret-bench-secret-bench-secret-00" \
    --access-token-ttl 6h --log warn serve > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  until curl -sf "http://127.0.0.1:$PORT/ready" > /dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
  READY_MS=$(( (t1 - t0) / 1000000 ))
}

wants() { # scenario -> whether SCENARIOS asks for it
  [[ -z $SCENARIOS || " $SCENARIOS " == *" $1 "* ]]
}

load() { # engine scenario concurrency query-file variables-json [extra args...]
  wants "$2" || return 0
  local engine=$1 scenario=$2 c=$3 qf=$4 vars=$5
  shift 5
  "$LOAD" --url "$URL" --token "$TOKEN" --query-file "$qf" --variables "$vars" \
    --concurrency "$c" --seconds 2 --json "$@" > /dev/null || true # warm-up
  for run in $(seq 1 "$RUNS"); do
    "$LOAD" --url "$URL" --token "$TOKEN" --query-file "$qf" --variables "$vars" \
      --concurrency "$c" --seconds "$SECONDS_PER_RUN" --json "$@" |
      record "$engine" "$scenario" "{\"run\": $run, \"concurrency\": $c}" || true
  done
}

sql_file() { # engine file -> SQL with the placeholders filled
  sed -e "s/{SET}/$SET_NUM/g;s/{FROM}/${FROM}T00:00:00+00:00/g;s/{TO}/${TO}T00:00:00+00:00/g" \
      -e "s/{PREV}/${PREV}T00:00:00+00:00/g;s/{FROM_DATE}/$FROM/g;s/{TO_DATE}/$TO/g" \
      "$ROOT/bench/sql/$1/$2"
}

pgbench_run() { # clients statement-file seconds -> pgbench's report
  local jobs=$(( $1 < 2 ? 1 : 2 ))
  pgbench -n -M prepared -f "$2" -c "$1" -j "$jobs" -T "$3" "$PG_URL" 2>&1
}

# Raw SQL timed the way a server runs it: warm connections, prepared
# statements (PostgreSQL: pgbench -M prepared; SQLite: in-process with the
# statement cache), latency with one client and, for the scenarios given
# `throughput`, throughput with as many clients as Rapport gets (PostgreSQL:
# the load concurrency; SQLite: the server's pool of 2 connections per core).
raw_sql() { # engine scenario file [throughput]
  wants "$2" || return 0
  local engine=$1 scenario=$2 file=$3 throughput=${4:-} sqlf ms tps1 tpsn report
  sqlf=$OUT/raw-$engine-$scenario.sql
  sql_file "$engine" "$file" > "$sqlf"
  [[ $engine == postgres ]] && pgbench_run 1 "$sqlf" 2 > /dev/null
  for run in $(seq 1 "$RUNS"); do
    tpsn=null tps1=null
    if [[ $engine == postgres ]]; then
      report=$(pgbench_run 1 "$sqlf" "$SECONDS_PER_RUN")
      ms=$(awk '/^latency average/ {print $4}' <<< "$report")
      tps1=$(awk '/^tps = / {print $3}' <<< "$report")
      if [[ -n $throughput ]]; then
        report=$(pgbench_run "$CONCURRENCY" "$sqlf" "$SECONDS_PER_RUN")
        tpsn=$(awk '/^tps = / {print $3}' <<< "$report")
      fi
    else
      ms=$(python3 "$ROOT/bench/sqlite_timer.py" "$SQLITE_FILE" 1 < "$sqlf")
      if [[ -n $throughput ]]; then
        tpsn=$(python3 "$ROOT/bench/sqlite_timer.py" "$SQLITE_FILE" --throughput "$SQLITE_POOL" "$SECONDS_PER_RUN" < "$sqlf")
      fi
    fi
    [[ -z $ms ]] && { echo "raw SQL failed for $engine $scenario: $report" >&2; return 1; }
    echo "{\"engine\": \"$engine\", \"scenario\": \"raw:$scenario\", \"run\": $run, \"raw_sql_ms\": $ms, \"raw_tps_1\": $tps1, \"raw_tps\": $tpsn, \"raw_clients\": $([[ $engine == postgres ]] && echo "$CONCURRENCY" || echo "$SQLITE_POOL")}" >> "$RESULTS"
  done
}

answers_for() { # index into the seed's load surveys -> answers JSON rating every question 4
  jq -c ".load_questions[$1] | map({questionId: (\"SurveyQuestion:\" + (.id | tostring) | @base64 | gsub(\"=\"; \"\") | gsub(\"[+]\"; \"-\") | gsub(\"/\"; \"_\")), rating: 4})" "$SEED"
}

check_credits() { # survey-id extra-json: responses, FEEDBACK_INCENTIVE credits and duplicates
  local check responses credits dupes
  check="SELECT (SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1) || ' ' ||
    (SELECT COUNT(*) FROM ledger_entries l WHERE l.reason = 'FEEDBACK_INCENTIVE'
       AND l.source_key IN (SELECT 'response:' || id FROM survey_responses WHERE survey_id = $1)) || ' ' ||
    (SELECT COUNT(*) FROM (SELECT source_key FROM ledger_entries WHERE reason = 'FEEDBACK_INCENTIVE'
       GROUP BY membership_id, source_key HAVING COUNT(*) > 1) d);"
  if [[ $ENGINE == postgres ]]; then
    read -r responses credits dupes < <(psql -X -At "$PG_URL" -c "$check")
  else
    read -r responses credits dupes < <(sqlite3 "$SQLITE_FILE" "$check")
  fi
  jq -nc --arg e "$ENGINE" --argjson x "$2" --argjson r "$responses" --argjson c "$credits" --argjson d "$dupes" \
    '{engine: $e, responses: $r, credits: $c, duplicates: $d} + $x' >> "$RESULTS"
}

invite_all() { # survey-id answers-json tokens-file: invites every customer
  : > "$3"
  local lo hi ids
  for ((lo = first_c; lo <= last_c; lo += 1000)); do
    hi=$(( lo + 999 > last_c ? last_c : lo + 999 ))
    ids=$(seq "$lo" "$hi" | jq -R '"Customer:" + . | @base64 | gsub("="; "") | gsub("[+]"; "-") | gsub("/"; "_")' | jq -sc .)
    gql "$TOKEN" "$Q/invite.graphql" \
      "{\"surveyId\": \"$(gid Survey "$1")\", \"customerIds\": $ids, \"expiresAt\": \"2099-01-01T00:00:00Z\"}" |
      jq -c --argjson a "$2" '.data.inviteToSurvey.invitations[] | {token, answers: $a}' >> "$3"
  done
}

# The dashboard and submissions with the load spread round-robin over 1, 2,
# 3… server processes on this one database (PostgreSQL). On a machine with
# few cores the processes share them with PostgreSQL and the load driver:
# the figure shows the overhead of coordination, not scaling.
multi_process() {
  local n i port urls survey answers tokens index=$runs3
  for n in $PROCESSES; do
    urls=$URL
    for ((i = 1; i < n; i++)); do
      port=$(( PORT + i ))
      RAPPORT_DEBUG_STATEMENT_COUNT=false "$RAPPORT" --database-url "$DB_URL" --bind "127.0.0.1:$port" \
        --data-dir "$OUT" --jwt-secret "bench-secret-bench-secret-bench-secret-00" \
        --access-token-ttl 6h --log warn serve > "$OUT/server-$port.log" 2>&1 &
      EXTRA_PIDS+=($!)
      until curl -sf "http://127.0.0.1:$port/ready" > /dev/null 2>&1; do
        kill -0 "${EXTRA_PIDS[-1]}" 2>/dev/null || { cat "$OUT/server-$port.log" >&2; exit 1; }
        sleep 0.01
      done
      urls="$urls,http://127.0.0.1:$port/graphql"
    done
    echo "== postgres: $n process(es)" >&2
    "$LOAD" --url "$urls" --token "$TOKEN" --query-file "$Q/s1_dashboard.graphql" --variables '{"first": 50}' \
      --concurrency "$CONCURRENCY" --seconds 2 --json > /dev/null || true # warm-up
    for run in $(seq 1 "$RUNS"); do
      "$LOAD" --url "$urls" --token "$TOKEN" --query-file "$Q/s1_dashboard.graphql" --variables '{"first": 50}' \
        --concurrency "$CONCURRENCY" --seconds "$SECONDS_PER_RUN" --json |
        record postgres multi_dashboard "{\"run\": $run, \"concurrency\": $CONCURRENCY, \"processes\": $n}" || true
    done
    survey=$(jq ".load_survey_ids[$index]" "$SEED")
    answers=$(answers_for "$index")
    tokens=$OUT/tokens-multi-$n.jsonl
    invite_all "$survey" "$answers" "$tokens"
    "$LOAD" --url "$urls" --query-file "$Q/s3_submit.graphql" --variables-file "$tokens" \
      --concurrency "$CONCURRENCY" --seconds 120 --json |
      record postgres multi_submit "{\"run\": 1, \"concurrency\": $CONCURRENCY, \"processes\": $n}" || true
    check_credits "$survey" "{\"scenario\": \"multi_credits\", \"processes\": $n}"
    index=$(( index + 1 ))
    stop_extra
  done
}

sql() { # statement -> rows, fields separated by spaces, on the engine's database
  if [[ $ENGINE == postgres ]]; then
    psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"
  else
    sqlite3 -cmd '.timeout 60000' -separator ' ' "$SQLITE_FILE" "$1"
  fi
}

vm_kb() { # pid field -> that /proc/<pid>/status field in kB (VmRSS, VmHWM)
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# One export through createExport and GET /exports/{token}, as a browser
# would fetch it, while the server's resident memory is watched: its peak
# (VmHWM) is reset first where the kernel allows (`5` to clear_refs), so the
# peak is the download's own; VmRSS is also sampled every 20 ms as a check.
# The file's records are counted with Python's csv module (fields may hold
# line breaks) against the rows the database holds, plus the header.
export_one() { # engine kind input-json expected-records
  local engine=$1 kind=$2 input=$3 expected=$4 body url file before reset=false sampler peak_file
  local http bytes seconds curl_rc hwm sampled records
  body=$(gql "$TOKEN" <(echo 'mutation($input: CreateExportInput!) { createExport(input: $input) { url } }') "{\"input\": $input}")
  url=$(echo "$body" | jq -er .data.createExport.url) || { echo "createExport failed: $body" >&2; exit 1; }
  file=$OUT/export-$engine-$kind.csv
  peak_file=$OUT/export-rss-peak
  before=$(vm_kb "$SERVER_PID" VmRSS)
  echo 5 2>/dev/null > "/proc/$SERVER_PID/clear_refs" && reset=true
  echo 0 > "$peak_file"
  ( peak=0
    while kill -0 "$SERVER_PID" 2>/dev/null; do
      v=$(vm_kb "$SERVER_PID" VmRSS)
      (( ${v:-0} > peak )) && { peak=$v; echo "$peak" > "$peak_file"; }
      sleep 0.02
    done ) &
  sampler=$!
  curl_rc=0
  curl -sS -o "$file" -w '%{http_code} %{size_download} %{time_total}\n' "$url" > "$OUT/export-curl" || curl_rc=$?
  read -r http bytes seconds < "$OUT/export-curl"
  hwm=$(vm_kb "$SERVER_PID" VmHWM)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  sampled=$(cat "$peak_file")
  records=$(python3 -c 'import csv, sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline="", encoding="utf-8-sig"))))' "$file")
  rm -f "$file"
  echo "== $engine: export $kind: $records records (expected $expected), $bytes bytes in $seconds s, HTTP $http, curl $curl_rc, RSS $before kB before, peak $hwm kB" >&2
  echo "{\"engine\": \"$engine\", \"scenario\": \"export\", \"kind\": \"$kind\", \"http\": $http, \"curl_exit\": $curl_rc, \"records\": $records, \"expected_records\": $expected, \"bytes\": $bytes, \"seconds\": $seconds, \"rss_before_kb\": $before, \"vmhwm_kb\": $hwm, \"hwm_reset\": $reset, \"sampled_peak_kb\": $sampled}" >> "$RESULTS"
}

# The exports (EXPORT=1), after every other scenario on this database: all
# history responses in one file, the customers, and the programme's ledger.
# seed-bench spreads the M responses over ⌈M / N⌉ surveys of N (each customer
# answers a survey once); for one file of all M, the other history surveys'
# invitations and responses are moved into the first one, their answers to
# the question at the same position of the first survey. This changes the
# data set, which is why it comes last.
exports() { # engine
  local engine=$1 survey program from to
  survey=$(sql "SELECT MIN(id) FROM surveys WHERE title LIKE 'Bench history survey %'")
  echo "== $engine: exports (moving the history responses into survey $survey)" >&2
  local others="SELECT id FROM surveys WHERE title LIKE 'Bench history survey %' AND id <> $survey"
  sql "UPDATE survey_answers SET question_id = m.to_id
       FROM (SELECT q0.id AS from_id, q1.id AS to_id FROM survey_questions q0
             JOIN survey_questions q1 ON q1.survey_id = $survey AND q1.position = q0.position
             WHERE q0.survey_id IN ($others)) m
       WHERE survey_answers.question_id = m.from_id" > /dev/null
  sql "UPDATE survey_responses SET survey_id = $survey WHERE survey_id IN ($others)" > /dev/null
  sql "UPDATE survey_invitations SET survey_id = $survey WHERE survey_id IN ($others)" > /dev/null
  [[ $engine == postgres ]] && sql "VACUUM ANALYZE" > /dev/null
  [[ $engine == sqlite ]] && sql "ANALYZE" > /dev/null
  export_one "$engine" responses \
    "{\"kind\": \"SURVEY_RESPONSES\", \"surveyId\": \"$(gid Survey "$survey")\"}" \
    $(( $(sql "SELECT COUNT(*) FROM survey_responses WHERE survey_id = $survey") + 1 ))
  export_one "$engine" customers '{"kind": "CUSTOMERS"}' \
    $(( $(sql "SELECT COUNT(*) FROM customers") + 1 ))
  # The programme with the most entries, over the ten years (the longest
  # period an export takes) up to tomorrow: every entry it has.
  read -r program _ < <(sql "SELECT m.program_id, COUNT(*) FROM ledger_entries e
    JOIN memberships m ON m.id = e.membership_id GROUP BY m.program_id ORDER BY 2 DESC LIMIT 1")
  to=$(date -u -d tomorrow +%F)
  from=$(date -u -d "$to -10 years" +%F)
  export_one "$engine" ledger \
    "{\"kind\": \"LEDGER_ENTRIES\", \"programId\": \"$(gid LoyaltyProgram "$program")\", \"from\": \"$from\", \"to\": \"$to\"}" \
    $(( $(sql "SELECT COUNT(*) FROM ledger_entries e JOIN memberships m ON m.id = e.membership_id WHERE m.program_id = $program") + 1 ))
}

for ENGINE in $ENGINES; do
  echo "== $ENGINE: seeding $CUSTOMERS customers, $RESPONSES responses" >&2
  if [[ $ENGINE == sqlite ]]; then
    SQLITE_FILE=$OUT/bench.db
    rm -f "$SQLITE_FILE" "$SQLITE_FILE-wal" "$SQLITE_FILE-shm"
    DB_URL="sqlite://$SQLITE_FILE?mode=rwc"
  else
    psql -X -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
    DB_URL=$PG_URL
  fi
  # One load survey per submission run, and one per process count.
  load_surveys=6
  if [[ $ENGINE == postgres && -n $PROCESSES ]]; then
    load_surveys=$(( RUNS + $(wc -w <<< "$PROCESSES") ))
  fi
  t0=$(date +%s%N)
  RAPPORT_LOG=warn "$RAPPORT" --database-url "$DB_URL" --data-dir "$OUT" seed-bench \
    --customers "$CUSTOMERS" --responses "$RESPONSES" --load-surveys "$load_surveys" \
    --admin-password "$PASSWORD" > "$OUT/seed-$ENGINE.json"
  seed_s=$(( ($(date +%s%N) - t0) / 1000000 ))
  SEED=$OUT/seed-$ENGINE.json
  SET_NUM=$(jq .factor_set_id "$SEED")
  SET_ID=$(gid CsiFactorSet "$SET_NUM")
  CARD=$(jq .card_customer_id "$SEED")
  echo "{\"engine\": \"$ENGINE\", \"scenario\": \"seed\", \"seed_ms\": $seed_s, \"rows\": $(jq .rows "$SEED")}" >> "$RESULTS"

  # Startup on the existing database (migrations already applied).
  start_server "$DB_URL"
  echo "{\"engine\": \"$ENGINE\", \"scenario\": \"startup\", \"ready_ms\": $READY_MS}" >> "$RESULTS"
  TOKEN=$(gql "" <(echo 'mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }') \
    "{\"e\": \"bench@rapport.dev\", \"p\": \"$PASSWORD\"}" | jq -r .data.login.accessToken)

  if [[ $EXPORT_ONLY != 1 ]]; then
    # A draft revision of the bench set with other weights (the first factor
    # weighs 0.5), for the preview scenario: the published ratings under it.
    DRAFT=$(gql "$TOKEN" <(echo 'mutation($id: ID!) { reviseCsiFactorSet(input: { id: $id }) { factorSet { id lockVersion factors { key label weight } } } }') \
      "{\"id\": \"$SET_ID\"}" | jq -c .data.reviseCsiFactorSet.factorSet)
    DRAFT_ID=$(echo "$DRAFT" | jq -r .id)
    gql "$TOKEN" <(echo 'mutation($input: UpdateCsiFactorSetInput!) { updateCsiFactorSet(input: $input) { factorSet { id } } }') \
      "$(echo "$DRAFT" | jq -c '{input: {id, lockVersion, factors: (.factors | to_entries
        | map({key: .value.key, label: .value.label, weight: (if .key == 0 then "0.5" else .value.weight end)}))}}')" |
      jq -e '.errors == null' > /dev/null || { echo "draft revision failed" >&2; exit 1; }

    # Statements per request (one request in flight, so the header is exact).
    for first in 5 50; do
      gql "$TOKEN" "$Q/s1_dashboard.graphql" "{\"first\": $first}" "$OUT/h" > "$OUT/body.json"
      jq -e '.errors == null' "$OUT/body.json" > /dev/null || { cat "$OUT/body.json" >&2; exit 1; }
      n=$(awk 'tolower($1) == "x-sql-statements:" {print $2+0}' "$OUT/h")
      echo "{\"engine\": \"$ENGINE\", \"scenario\": \"statements\", \"query\": \"s1_dashboard\", \"page\": $first, \"statements\": $n}" >> "$RESULTS"
    done
    for id in "$CARD" "$(jq .last_customer_id "$SEED")"; do
      gql "$TOKEN" "$Q/s2_card.graphql" "{\"id\": \"$(gid Customer "$id")\"}" "$OUT/h" > "$OUT/body.json"
      jq -e '.errors == null' "$OUT/body.json" > /dev/null || { cat "$OUT/body.json" >&2; exit 1; }
      n=$(awk 'tolower($1) == "x-sql-statements:" {print $2+0}' "$OUT/h")
      echo "{\"engine\": \"$ENGINE\", \"scenario\": \"statements\", \"query\": \"s2_card\", \"customer\": $id, \"statements\": $n}" >> "$RESULTS"
    done

    echo "== $ENGINE: scenarios" >&2
    load "$ENGINE" s1_dashboard "$CONCURRENCY" "$Q/s1_dashboard.graphql" '{"first": 50}'
    load "$ENGINE" s1_dashboard_latency 1 "$Q/s1_dashboard.graphql" '{"first": 50}'
    load "$ENGINE" s2_card "$CONCURRENCY" "$Q/s2_card.graphql" "{\"id\": \"$(gid Customer "$CARD")\"}"
    load "$ENGINE" s4_csi_report 1 "$Q/s4_csi_report.graphql" "{\"factorSetId\": \"$SET_ID\", \"from\": \"$FROM\", \"to\": \"$TO\"}"
    load "$ENGINE" s6_csi_preview 1 "$Q/s6_csi_preview.graphql" "{\"factorSetId\": \"$SET_ID\", \"draftId\": \"$DRAFT_ID\", \"from\": \"$FROM\", \"to\": \"$TO\"}"
    load "$ENGINE" s7_csi_drivers 1 "$Q/s7_csi_drivers.graphql" "{\"factorSetId\": \"$SET_ID\", \"from\": \"$FROM\", \"to\": \"$TO\"}"
    # The full report (confidence, drivers, the derived map, segments) beside
    # s4's plain one in the same run; summarize.py reports the ratio.
    load "$ENGINE" s8_csi_full 1 "$Q/s8_csi_full.graphql" "{\"factorSetId\": \"$SET_ID\", \"from\": \"$FROM\", \"to\": \"$TO\"}"
    load "$ENGINE" s5_metrics 1 "$Q/s5_metrics.graphql" "{\"from\": \"$FROM\", \"to\": \"$TO\"}"

    # Scenario 3: each run answers a fresh survey; every active customer is
    # invited beforehand (1 000 per inviteToSurvey call).
    runs3=$(jq '.load_survey_ids | length' "$SEED")
    (( runs3 > RUNS )) && runs3=$RUNS
    wants s3_submit || runs3=0
    first_c=$(jq .first_customer_id "$SEED")
    last_c=$(jq .last_customer_id "$SEED")
    for run in $(seq 1 "$runs3"); do
      survey=$(jq ".load_survey_ids[$((run - 1))]" "$SEED")
      answers=$(answers_for "$((run - 1))")
      tokens=$OUT/tokens-$ENGINE-$run.jsonl
      invite_all "$survey" "$answers" "$tokens"
      invited=$(wc -l < "$tokens")
      # Where the CPU goes during the run: the server, PostgreSQL's processes,
      # and everything else (the load driver, the kernel), in ms per submission.
      pg_pids=$(pgrep -x postgres | tr '\n' ' ' || true)
      server0=$(cpu_ticks "$SERVER_PID"); pg0=$(cpu_ticks $pg_pids); busy0=$(busy_ticks)
      "$LOAD" --url "$URL" --query-file "$Q/s3_submit.graphql" --variables-file "$tokens" \
        --concurrency "$CONCURRENCY" --seconds 120 --json |
        record "$ENGINE" s3_submit "{\"run\": $run, \"concurrency\": $CONCURRENCY, \"invited\": $invited}" || true
      server1=$(cpu_ticks "$SERVER_PID"); pg1=$(cpu_ticks $pg_pids); busy1=$(busy_ticks)
      echo "{\"engine\": \"$ENGINE\", \"scenario\": \"s3_cpu\", \"run\": $run, \"clk_tck\": $CLK_TCK, \"server_ticks\": $((server1 - server0)), \"postgres_ticks\": $((pg1 - pg0)), \"busy_ticks\": $((busy1 - busy0))}" >> "$RESULTS"
      check_credits "$survey" "{\"scenario\": \"s3_credits\", \"run\": $run}"
    done

    rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")
    echo "{\"engine\": \"$ENGINE\", \"scenario\": \"rss\", \"vmhwm_kb\": $rss_kb}" >> "$RESULTS"

    if [[ $ENGINE == postgres && -n $PROCESSES ]]; then
      multi_process
    fi

    echo "== $ENGINE: raw SQL" >&2
    raw_sql "$ENGINE" s1_dashboard s1_dashboard.sql throughput
    raw_sql "$ENGINE" s4_csi_report s4_csi_report.sql
    raw_sql "$ENGINE" s5_metrics s5_metrics.sql

    if [[ $ENGINE == postgres && $POSTGRAPHILE == 1 ]] && wants postgraphile; then
      echo "== postgres: PostGraphile" >&2
      # Computed columns so PostGraphile can serve the same fields (added to the
      # bench database only).
      psql -X -q "$PG_URL" -f "$ROOT/bench/postgraphile/computed.sql"
      if "$ROOT/bench/postgraphile/start.sh" "$PG_URL" "$PGL_PORT" "$OUT" > "$OUT/postgraphile.version"; then
        PGL_PID=$(cat "$OUT/postgraphile.pid")
        version=$(cat "$OUT/postgraphile.version")
        PGL=http://127.0.0.1:$PGL_PORT/graphql
        for pair in "s1_dashboard:{\"first\": 50}" "s2_card:{\"id\": \"$CARD\"}"; do
          s=${pair%%:*}
          vars=${pair#*:}
          "$LOAD" --url "$PGL" --query-file "$ROOT/bench/postgraphile/v${version}_$s.graphql" --variables "$vars" \
            --concurrency "$CONCURRENCY" --seconds 2 --json > /dev/null || true
          for run in $(seq 1 "$RUNS"); do
            "$LOAD" --url "$PGL" --query-file "$ROOT/bench/postgraphile/v${version}_$s.graphql" --variables "$vars" \
              --concurrency "$CONCURRENCY" --seconds "$SECONDS_PER_RUN" --json |
              record postgraphile "$s" "{\"run\": $run, \"concurrency\": $CONCURRENCY, \"version\": \"$version\"}" || true
          done
        done
        stop_pgl
      else
        echo "{\"engine\": \"postgraphile\", \"scenario\": \"failed\"}" >> "$RESULTS"
      fi
    fi
  fi

  [[ $EXPORT == 1 ]] && exports "$ENGINE"
  stop_server
done

python3 "$ROOT/bench/summarize.py" "$RESULTS" | tee "$OUT/summary.md"
