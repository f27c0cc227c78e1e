#!/usr/bin/env bash
# Runs the Node client's tests (ctest client_node_test): installs package-lock.json once into
# $STRATUS_CACHE/npm/client-node-<hash> (node_modules never lands in the source tree), then
# `node --test` with NODE_PATH pointing there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${STRATUS_CACHE:-$HOME/.cache/stratus}
hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
dir=$cache/npm/client-node-$hash
if [ ! -f "$dir/.installed" ]; then
  mkdir -p "$cache/npm"
  tmp=$(mktemp -d "$cache/npm/.client-node.XXXXXX")
  cp "$here/package.json" "$here/package-lock.json" "$tmp/"
  (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$tmp/.installed"
  rm -rf "$dir" && mv "$tmp" "$dir"
fi
export NODE_PATH=$dir/node_modules
exec node --test "$here/test/"
