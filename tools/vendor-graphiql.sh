#!/usr/bin/env bash
# Re-vendors GraphiQL into api/assets/graphiql/ from the npm registry.
#
# Downloads the pinned packages with `npm pack` (which checks each tarball
# against the registry's integrity hash), copies the UMD builds and licences,
# drops the `sourceMappingURL` comment (the maps are not served), and writes
# SHA256SUMS. To upgrade, change the versions below, run this script, check
# `git diff --stat api/assets/graphiql`, run tests/browser/run.sh and update
# the versions in api/assets/graphiql/README.md.
#
# GraphiQL 3.x is the last line with a UMD build; it needs React 16.8–18
# (React 19 ships no UMD build).
set -euo pipefail
cd "$(dirname "$0")/.."

GRAPHIQL=3.9.0
REACT=18.3.1

OUT=api/assets/graphiql
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir -p "$WORK/$package"
  tar xzf "$WORK/$package.tgz" -C "$WORK/$package"
done

strip_map() { sed -e '/^\/\/# sourceMappingURL=/d' -e 's|//# sourceMappingURL=[^ ]*$||' "$1" > "$2"; }

strip_map "$WORK/graphiql-$GRAPHIQL/package/graphiql.min.js" "$OUT/graphiql.min.js"
strip_map "$WORK/graphiql-$GRAPHIQL/package/graphiql.min.css" "$OUT/graphiql.min.css"
cp "$WORK/graphiql-$GRAPHIQL/package/LICENSE" "$OUT/LICENSE.graphiql"
cp "$WORK/react-$REACT/package/umd/react.production.min.js" "$OUT/react.production.min.js"
cp "$WORK/react-$REACT/package/LICENSE" "$OUT/LICENSE.react"
cp "$WORK/react-dom-$REACT/package/umd/react-dom.production.min.js" "$OUT/react-dom.production.min.js"
cp "$WORK/react-dom-$REACT/package/LICENSE" "$OUT/LICENSE.react-dom"

(cd "$OUT" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js \
  react-dom.production.min.js LICENSE.graphiql LICENSE.react LICENSE.react-dom > SHA256SUMS)
echo "vendored graphiql@$GRAPHIQL, react@$REACT and react-dom@$REACT into $OUT:"
ls -l "$OUT"
