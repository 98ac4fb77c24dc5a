#!/usr/bin/env bash
# Debian's Prometheus scrapes the real server's /metrics (RAPPORT_METRICS=true)
# on loopback every second; the script sends named GraphQL queries and then
# asks Prometheus's HTTP API for the counter they moved. Fails unless
# Prometheus reports the target up and the counter at the number sent.
#   usage: tests/prometheus/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PROMETHEUS="$(command -v prometheus || echo /usr/bin/prometheus)"
if [ ! -x "$PROMETHEUS" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
  PROMETHEUS=/usr/bin/prometheus
fi

. tests/lib/server.sh
rapport_setup
PROM_PORT="$(free_port)"
export RAPPORT_LOG="warn" RAPPORT_METRICS=true

rapport_serve

cat > "$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: rapport
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
YAML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prometheus.log" 2>&1 &
rapport_stop_on_exit $!

SENT=5
for _ in $(seq 1 "$SENT"); do
  curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
    -d '{"query":"query PrometheusProbe { __typename }"}' >/dev/null
done

QUERY='rapport_graphql_operations_total{job="rapport",operation="PrometheusProbe",outcome="OK"}'
for _ in $(seq 1 60); do
  ANSWER="$(curl -sf -G "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$QUERY" || true)"
  VALUE="$(printf '%s' "$ANSWER" | python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")')"
  [ "$VALUE" = "$SENT" ] && break
  sleep 1
done
if [ "$VALUE" != "$SENT" ]; then
  echo "prometheus: expected $QUERY = $SENT, got '${VALUE}'" >&2
  tail -20 "$WORK/prometheus.log" >&2
  exit 1
fi
UP="$(curl -sf -G "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=up{job="rapport"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')"
[ "$UP" = "1" ] || { echo "prometheus: target not up ($UP)" >&2; exit 1; }
echo "prometheus: scraped $QUERY = $VALUE, up = $UP"
