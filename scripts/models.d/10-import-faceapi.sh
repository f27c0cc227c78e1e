#!/usr/bin/env bash
# Imports the face-api networks (SSD face detector, 68 landmarks, descriptor, age/gender,
# expressions) from the npm package @vladmandic/face-api into $STRATUS_MODEL_DIR.
# Skips when every model folder holds a .stamp with the importer's current key. Otherwise fetches
# the tarball with `npm pack` into $STRATUS_CACHE/npm, checks its sha512 against the pin,
# extracts it and runs stratus-import (which checks the tarball again and writes atomically).
# Usage: 10-import-faceapi.sh BUILD_DIR
set -euo pipefail

BUILD_DIR=${1:-build}
: "${STRATUS_MODEL_DIR:?}"
STRATUS_CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
PKG="@vladmandic/face-api"
VERSION="1.7.15"
INTEGRITY="sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=="
MODELS=(faces face_landmarks68 face_descriptor face_age_gender face_expression)
IMPORTER="$BUILD_DIR/bin/stratus-import"

if [ ! -x "$IMPORTER" ]; then
  echo "faceapi: $IMPORTER not built (cmake --build $BUILD_DIR --target stratus-import)" >&2
  exit 1
fi

key=$("$IMPORTER" --print-stamp-key)
stale=()
for m in "${MODELS[@]}"; do
  if [ ! -f "$STRATUS_MODEL_DIR/$m/model.pt" ] || [ ! -f "$STRATUS_MODEL_DIR/$m/config.yaml" ] ||
     [ "$(cat "$STRATUS_MODEL_DIR/$m/.stamp" 2>/dev/null)" != "$key" ]; then
    stale+=("$m")
  fi
done
if ((${#stale[@]} == 0)); then
  echo "faceapi: ${#MODELS[@]} models up to date in $STRATUS_MODEL_DIR"
  exit 0
fi
echo "faceapi: importing ${stale[*]}"

NPM_DIR="$STRATUS_CACHE/npm"
TARBALL="$NPM_DIR/vladmandic-face-api-$VERSION.tgz"
PKG_DIR="$NPM_DIR/vladmandic-face-api-$VERSION"
mkdir -p "$NPM_DIR"
sri() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

if [ ! -f "$TARBALL" ] || [ "$(sri "$TARBALL")" != "$INTEGRITY" ]; then
  echo "faceapi: fetching $PKG@$VERSION with npm pack"
  rm -f "$TARBALL"
  (cd "$NPM_DIR" && npm pack --silent "$PKG@$VERSION" >/dev/null)
  got=$(sri "$TARBALL")
  if [ "$got" != "$INTEGRITY" ]; then
    echo "faceapi: integrity mismatch for $TARBALL: got $got, want $INTEGRITY" >&2
    rm -f "$TARBALL"
    exit 1
  fi
fi
if [ ! -f "$PKG_DIR/.extracted" ]; then
  echo "faceapi: extracting $TARBALL"
  tmp=$(mktemp -d "$NPM_DIR/.extract.XXXXXX")
  tar -xzf "$TARBALL" -C "$tmp"
  touch "$tmp/package/.extracted"
  rm -rf "$PKG_DIR"
  mv "$tmp/package" "$PKG_DIR"
  rmdir "$tmp"
fi

models=$(IFS=,; echo "${stale[*]}")
"$IMPORTER" --package-dir "$PKG_DIR" --model-dir "$STRATUS_MODEL_DIR" --tarball "$TARBALL" \
  --models "$models"
