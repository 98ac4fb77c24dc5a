#!/usr/bin/env bash
# Runs the browser tests in headless Chromium: the survey form page (also in
# German and Greek, with axe-core at WCAG 2.1 AA and keyboard-only completion),
# CORS and GraphiQL offline (screenshots in target/browser/ or $BROWSER_OUTPUT_DIR).
# Installs Debian's chromium + chromedriver, node + npm and selenium when
# missing, axe-core from tests/browser/package-lock.json, builds the `rapport`
# binary, then runs tests/browser/test_form.py, test_form_a11y.py,
# test_form_conditions.py, test_form_question_types.py, test_cors.py and
# test_graphiql.py. Called from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)
if ! python3 -c 'import selenium' 2>/dev/null; then
  python3 -m pip install --quiet selenium 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages selenium
fi

cargo build -q -p api
python3 tests/browser/test_form.py
python3 tests/browser/test_form_a11y.py
python3 tests/browser/test_form_conditions.py
python3 tests/browser/test_form_question_types.py
python3 tests/browser/test_cors.py
python3 tests/browser/test_graphiql.py
