#!/usr/bin/env bash
# The schema guard: schema.graphql against the one of the last tagged
# release (v*), with @graphql-inspector/core (version pinned in
# package-lock.json). Fails on a breaking change that CHANGELOG.md does not
# list under "## Unreleased" → "### Breaking".
#   usage: tests/schema-guard/run.sh [release-tag]
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

tag=${1:-$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)}
if [[ -z "$tag" ]]; then
  git fetch --quiet --tags origin 2>/dev/null || true
  tag=$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)
fi
if [[ -z "$tag" ]]; then
  # A clone without tags still has the history: the last release commit
  # ("Release X.Y.Z: ...") holds the released schema.
  tag=$(git log --format=%H --grep='^Release [0-9]' -1 2>/dev/null || true)
fi
if [[ -z "$tag" ]]; then
  echo "SCHEMA GUARD SKIPPED: this clone has no release tag (v*) to compare with" >&2
  exit 0
fi

(cd tests/schema-guard && npm ci --no-audit --no-fund --silent)
released=$(mktemp --suffix=.graphql)
trap 'rm -f "$released"' EXIT
git show "$tag:schema.graphql" > "$released"
echo "== schema.graphql against $tag"
node tests/schema-guard/guard.mjs "$released" schema.graphql CHANGELOG.md
