#!/usr/bin/env bash
# Trains the default sentiment model (jobs/sentiment.yaml, training/SENTIMENT.md) into
# $STRATUS_MODEL_DIR/sentiment unless the model there was trained from the same job file by the
# same trainer and featuriser on the same data: the stamp file holds that key. About two minutes
# of CPU (featurising ~125k texts, then a few epochs of a linear model per hyper-parameter
# candidate); longer on a busy machine.
set -euo pipefail
BUILD_DIR=${1:-build}
: "${STRATUS_MODEL_DIR:?}"
cd "$(dirname "$0")/../.."
JOB=jobs/sentiment.yaml
OUT="$STRATUS_MODEL_DIR/sentiment"
# What the model comes from: the job, the trainer, the featuriser and the data it reads.
DATA=${STRATUS_DATA:-${STRATUS_SHARED_DIR:-../shared}/data}
KEY=$( (cat "$JOB" training/VERSION training/sentiment_trainer.h training/sentiment_trainer.cc \
          runtime/text/sentiment_linear.h runtime/text/sentiment_linear.cc \
          runtime/text/tokenizer.cc runtime/text/lexicon.cc runtime/text/encoder.cc
        find "$DATA/sentiment" -type f ! -name '*.md' -print0 | sort -z | xargs -0 cat) |
      sha256sum | cut -c1-16)
if [ -f "$OUT/weights.bin" ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$KEY" ]; then
  echo "sentiment: trained model present ($KEY)"
  exit 0
fi
TRAINER="$BUILD_DIR/bin/stratus-train-sentiment"
if [ ! -x "$TRAINER" ]; then
  cmake --build "$BUILD_DIR" --target stratus_train_sentiment
fi
THREADS=$(nproc)
if [ "$THREADS" -gt 2 ]; then THREADS=2; fi
echo "sentiment: training $JOB (key $KEY)"
# A fresh folder, so that files of an older model (model.pt, vocab.txt) do not linger.
rm -rf "$OUT.tmp"
"$TRAINER" "$JOB" --threads "$THREADS" --out "$OUT.tmp"
echo "$KEY" > "$OUT.tmp/stamp"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
