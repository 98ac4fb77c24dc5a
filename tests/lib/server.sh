# Shared by the scripts under tests/ that exercise the real server (fuzz, soak,
# http-audit, prometheus). Source it from the repository root:
#
#   . tests/lib/server.sh
#   rapport_setup [debug|release]   # builds the binary (BIN), makes WORK, picks PORT,
#                                   # points DATABASE_URL at a SQLite file in WORK
#   rapport_create_admin EMAIL PASSWORD
#   rapport_serve                   # starts `serve` on PORT (SERVER), waits for /ready
#   TOKEN="$(rapport_login EMAIL PASSWORD)"
#   rapport_fail_on_panic "during the run"
#
# On exit the server and every process passed to rapport_stop_on_exit are
# stopped and WORK is removed. The scripts keep `set -euo pipefail`.

# Prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

RAPPORT_PIDS=()

# Stops the processes started by the script (newest first) and removes WORK.
rapport_cleanup() {
  local i
  for ((i = ${#RAPPORT_PIDS[@]} - 1; i >= 0; i--)); do
    kill "${RAPPORT_PIDS[$i]}" 2>/dev/null || true
  done
  for pid in "${RAPPORT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  return 0
}

# Stops process $1 when the script exits.
rapport_stop_on_exit() {
  RAPPORT_PIDS+=("$1")
}

# Builds `rapport` in profile $1 (debug by default) and prepares a fresh
# temporary database: sets BIN, WORK, PORT, exports DATABASE_URL and
# RAPPORT_DATA_DIR, and unsets RAPPORT_JWT_SECRET and RAPPORT_ENV (development).
rapport_setup() {
  local profile="${1:-debug}"
  if [ "$profile" = release ]; then cargo build -q -p api --release; else cargo build -q -p api; fi
  BIN="${CARGO_TARGET_DIR:-target}/$profile/rapport"
  WORK="$(mktemp -d)"
  trap rapport_cleanup EXIT
  PORT="$(free_port)"
  export DATABASE_URL="sqlite://$WORK/rapport.db?mode=rwc" RAPPORT_DATA_DIR="$WORK"
  unset RAPPORT_JWT_SECRET RAPPORT_ENV
}

# Creates an ADMIN account with email $1 and password $2.
rapport_create_admin() {
  printf '%s\n' "$2" | "$BIN" create-user --email "$1" --role ADMIN --password-stdin >/dev/null
}

# Starts `rapport serve` on PORT with its log in WORK/server.log, sets SERVER
# to its process id, and waits until /ready answers (fails after 30 s).
rapport_serve() {
  "$BIN" serve --bind "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
  SERVER=$!
  rapport_stop_on_exit "$SERVER"
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && return 0
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not become ready:" >&2
  tail -20 "$WORK/server.log" >&2
  return 1
}

# Signs in with email $1 and password $2 and prints the access token.
rapport_login() {
  curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
    -d "{\"query\":\"mutation { login(input: { email: \\\"$1\\\", password: \\\"$2\\\" }) { accessToken } }\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])'
}

# Fails, showing the lines, when the server's log records a panic; $1 says when.
rapport_fail_on_panic() {
  if grep -qi "panicked" "$WORK/server.log"; then
    echo "server panicked $1:"; grep -i -A3 "panicked" "$WORK/server.log" | head -20; exit 1
  fi
}
