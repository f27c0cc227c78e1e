#!/usr/bin/env bash
# Trains the default mask classifier (jobs/mask.yaml) into $STRATUS_MODEL_DIR/mask
# unless the model there was trained from the same job file by the same trainer version
# (training/VERSION). First builds the three-class set with stratus-prepare-masks (the
# mask_worn_incorrectly class is synthesised, see training/MASK.md) under $STRATUS_CACHE/data.
set -euo pipefail
BUILD_DIR=${1:-build}
: "${STRATUS_MODEL_DIR:?}"
cd "$(dirname "$0")/../.."
JOB=jobs/mask.yaml
OUT="$STRATUS_MODEL_DIR/mask"
# With the imported face models, the set gets detector crops and landmark-placed masks (a few
# minutes of face detection on 2 idle cores); without them, crop-geometry placement only.
FACES=no
if [ -f "$STRATUS_MODEL_DIR/faces/model.pt" ] && [ -f "$STRATUS_MODEL_DIR/face_landmarks68/model.pt" ]; then
  FACES=yes
fi
KEY=$( (cat "$JOB" training/VERSION; echo "faces=$FACES") | sha256sum | cut -c1-16)
if [ -f "$OUT/model.pt" ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$KEY" ]; then
  echo "mask: trained model present ($KEY)"
  exit 0
fi
for t in stratus_train_bin stratus_prepare_masks; do
  cmake --build "$BUILD_DIR" --target "$t"
done
CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
# LibTorch's intra-op threads pay off on an idle machine only: on a busy one OpenMP waits for
# descheduled threads at every barrier (measured 3-6x slower with 2 threads than with 1).
THREADS=$(nproc)
if awk '{exit !($1 > 0.7)}' /proc/loadavg; then THREADS=1; fi
DATA=${STRATUS_DATA:-../shared/data}
PREP_ARGS=()
if [ "$FACES" = yes ]; then PREP_ARGS=(--faces --models "$STRATUS_MODEL_DIR" --threads "$(nproc)"); fi
"$BUILD_DIR/bin/stratus-prepare-masks" --data "$DATA/masks" --out "$CACHE/data/masks3" "${PREP_ARGS[@]}"
echo "mask: training $JOB (key $KEY)"
STRATUS_CACHE="$CACHE" "$BUILD_DIR/bin/stratus-train" "$JOB" --no-progress --set "threads=$THREADS" \
  --set "output.dir=$OUT" \
  --set "checkpoint.dir=$CACHE/checkpoints/mask-$KEY"
echo "$KEY" > "$OUT/stamp"
rm -rf "$CACHE/checkpoints/mask-$KEY"
