#!/usr/bin/env bash
# Converts the trigram profiles of the npm package `franc` (MIT) into
# $STRATUS_MODEL_DIR/language/profiles.tsv for DetectDominantLanguage
# (services/sentiment/text/language_id.h) with tools/import/language/franc_profiles.mjs; ISO
# 639-1 codes come from Debian's iso-codes. The folder's .stamp holds the key of what produced
# it (package, version, integrity, converter's sha256); the step is skipped when it matches.
# Usage: 50-language-profiles.sh [BUILD_DIR] (unused: the converter runs on node)
set -euo pipefail

: "${STRATUS_MODEL_DIR:?}"
HERE=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib/npm_tarball.sh
. "$HERE/scripts/lib/npm_tarball.sh"
PKG="franc"
VERSION="6.2.0"
# npm view franc@6.2.0 dist.integrity
INTEGRITY="sha512-rcAewP7PSHvjq7Kgd7dhj82zE071kX5B4W1M4ewYMf/P+i6YsDQmj62Xz3VQm9zyUzUXwhIde/wHLGCMrM+yGg=="
CONVERTER="$HERE/tools/import/language/franc_profiles.mjs"
ISO_JSON=/usr/share/iso-codes/json/iso_639-3.json
OUT="$STRATUS_MODEL_DIR/language"

[ -f "$ISO_JSON" ] || { echo "language: $ISO_JSON missing (scripts/deps.sh installs iso-codes)" >&2; exit 1; }
key="$PKG@$VERSION $INTEGRITY converter:$(sha256sum "$CONVERTER" | cut -c1-16)"
if [ -f "$OUT/profiles.tsv" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$key" ]; then
  echo "language: profiles up to date in $OUT"
  exit 0
fi
tarball=$(npm_tarball language "$PKG" "$VERSION" "$INTEGRITY")
pkg_dir="${tarball%.tgz}"
npm_extract language "$tarball" "$pkg_dir"
mkdir -p "$OUT"
node "$CONVERTER" "$pkg_dir" "$ISO_JSON" "$key" "$OUT/profiles.tsv"
echo "$key" > "$OUT/.stamp"
