#!/usr/bin/env bash
# Trains the default sentiment model (jobs/sentiment.yaml, issue 6) into
# $STRATUS_MODEL_DIR/sentiment unless the model there was trained from the same job file by the
# same trainer version (training/VERSION): the stamp file holds that key. A few minutes on 2 cores.
# An interrupted run resumes from its checkpoint under $STRATUS_CACHE/checkpoints.
set -euo pipefail
BUILD_DIR=${1:-build}
: "${STRATUS_MODEL_DIR:?}"
cd "$(dirname "$0")/../.."
JOB=jobs/sentiment.yaml
OUT="$STRATUS_MODEL_DIR/sentiment"
KEY=$(cat "$JOB" training/VERSION | sha256sum | cut -c1-16)
if [ -f "$OUT/model.pt" ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$KEY" ]; then
  echo "sentiment: trained model present ($KEY)"
  exit 0
fi
TRAINER="$BUILD_DIR/bin/stratus-train"
if [ ! -x "$TRAINER" ]; then
  cmake --build "$BUILD_DIR" --target stratus_train_bin
fi
CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
# LibTorch's intra-op threads pay off on an idle machine only: on a busy one OpenMP waits for
# descheduled threads at every barrier (measured 3-6x slower with 2 threads than with 1).
THREADS=$(nproc)
if awk '{exit !($1 > 0.7)}' /proc/loadavg; then THREADS=1; fi
echo "sentiment: training $JOB (key $KEY)"
"$TRAINER" "$JOB" --no-progress --set "threads=$THREADS" \
  --set "output.dir=$OUT" \
  --set "checkpoint.dir=$CACHE/checkpoints/sentiment-$KEY"
echo "$KEY" > "$OUT/stamp"
rm -rf "$CACHE/checkpoints/sentiment-$KEY"
