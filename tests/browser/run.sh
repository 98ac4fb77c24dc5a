#!/usr/bin/env bash
# Runs the browser tests in headless Chromium: the survey form page, CORS and
# GraphiQL offline (screenshots in target/browser/ or $BROWSER_OUTPUT_DIR).
# Installs Debian's chromium + chromedriver and selenium when missing, builds the
# `rapport` binary, then runs tests/browser/test_form.py, test_cors.py and test_graphiql.py. Called from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! python3 -c 'import selenium' 2>/dev/null; then
  python3 -m pip install --quiet selenium 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages selenium
fi

cargo build -q -p api
python3 tests/browser/test_form.py
python3 tests/browser/test_cors.py
python3 tests/browser/test_graphiql.py
