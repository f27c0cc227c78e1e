#!/usr/bin/env bash
# Prints the Debian packages that own the shared libraries the given binaries load (by ldd),
# one per line, sorted: what a slim runtime image must install for them, and nothing more.
#   runtime-packages.sh [--skip PREFIX]... BINARY...
# Libraries under a --skip prefix are left out (the CUDA image carries LibTorch's own).
# Fails when a library belongs to no package, so a missing runtime library is a build error.
set -euo pipefail
skip=()
while [ "${1:-}" = --skip ]; do skip+=("$2"); shift 2; done
[ $# -gt 0 ] || { echo "usage: $0 [--skip PREFIX]... BINARY..." >&2; exit 2; }

owner() {  # the package owning a file, trying the merged-/usr spellings of its path
  local path p
  for path in "$1" "$(readlink -f "$1")"; do
    for p in "$path" "${path#/usr}" "/usr$path"; do
      dpkg-query -S "$p" 2>/dev/null | head -1 | cut -d: -f1 && return 0
    done
  done
  return 1
}

status=0
# A library ldd cannot find is an error, except the NVIDIA driver's, which the host provides.
missing=$(for bin in "$@"; do ldd "$bin"; done | awk '/=> not found/ {print $1}' |
          grep -v -E '^lib(cuda|nvidia-[a-z-]+)\.so' || true)
if [ -n "$missing" ]; then
  echo "runtime-packages: not found: $missing" >&2
  status=1
fi
libs=$(for bin in "$@"; do
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
done | sort -u)
pkgs=()
for lib in $libs; do
  for prefix in "${skip[@]}"; do
    [[ "$lib" == "$prefix"* ]] && continue 2
  done
  if pkg=$(owner "$lib"); then
    pkgs+=("$pkg")
  else
    echo "runtime-packages: no package owns $lib" >&2
    status=1
  fi
done
[ ${#pkgs[@]} -eq 0 ] || printf '%s\n' "${pkgs[@]}" | sort -u
exit "$status"
