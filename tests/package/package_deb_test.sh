#!/usr/bin/env bash
# The Debian package end to end (ctest package_deb_test; docs/install-debian.md):
#  1. cpack -G DEB in the build folder;
#  2. dpkg-deb --contents lists every binary, unit, env file and the console front end, and the
#     control archive has the conffiles, maintainer scripts and shlibdeps' Depends (LibTorch
#     included), each of which this Debian machine can satisfy;
#  3. dpkg --root installs it into a fresh, empty root; postinst makes the stratus user there;
#  4. the installed binaries run from that root (--version, --help), with no library missing;
#     every variable the env files name is a flag of its service; stratus-console serves the
#     packaged front end, which it finds beside its binary;
#  5. systemd-analyze verify passes on the installed units, with no warning at all, and
#     systemd-analyze security scores each at most 2.5 (exposure);
#  6. dpkg -r removes the binaries and keeps the env files (conffiles).
# Any missing item fails the test with its name. Usage: package_deb_test.sh BUILD_DIR
set -uo pipefail
BUILD=${1:?usage: package_deb_test.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stratus-deb.XXXXXX")
CONSOLE_PID=
cleanup() {
  [ -n "$CONSOLE_PID" ] && kill "$CONSOLE_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg dpkg-deb systemd-analyze curl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/deps.sh)"
done

SERVICES=(ingest detector recognition mask sentiment console)
BINARIES=(stratus stratus-train)
for s in "${SERVICES[@]}"; do BINARIES+=("stratus-$s"); done

# ---- 1. the package ------------------------------------------------------------------------------
echo "== cpack -G DEB"
(cd "$BUILD" && cpack -G DEB --config CPackConfig.cmake -B "$WORK/out") >"$WORK/cpack.log" 2>&1 \
  || { cat "$WORK/cpack.log" >&2; die "cpack failed"; }
shopt -s nullglob
debs=("$WORK"/out/stratus_*.deb)
[ ${#debs[@]} -eq 1 ] || die "expected one stratus_*.deb, got ${#debs[@]}"
DEB=${debs[0]}
echo "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes," \
     "installed size $(dpkg-deb -f "$DEB" Installed-Size) KiB"

# ---- 2. contents and control ---------------------------------------------------------------------
dpkg-deb --contents "$DEB" | awk '{print $6}' | sed 's#^\./#/#' >"$WORK/contents"
expect=()
for b in "${BINARIES[@]}"; do expect+=("/usr/bin/$b"); done
for s in "${SERVICES[@]}"; do
  expect+=("/usr/lib/systemd/system/stratus-$s.service" "/etc/stratus/$s.env")
done
expect+=(/usr/lib/systemd/system/stratus.target /usr/lib/sysusers.d/stratus.conf
         /etc/stratus/stratus.env
         /usr/share/stratus/console/index.html
         /usr/share/stratus/proto/stratus/v1/detector.proto
         /usr/share/stratus/proto/stratus/v1/recognition.proto
         /usr/share/stratus/proto/google/rpc/status.proto
         /usr/share/stratus/prices/aws-2026.yaml
         /usr/share/bash-completion/completions/stratus
         /usr/share/doc/stratus/install-debian.md)
for path in "${expect[@]}"; do
  grep -qxF "$path" "$WORK/contents" || fail "package lacks $path"
done
grep -qE '^/usr/share/stratus/console/assets/.+\.js$' "$WORK/contents" \
  || fail "package lacks the console's JavaScript (/usr/share/stratus/console/assets/*.js)"
! grep -q '^/usr/share/stratus/models' "$WORK/contents" || fail "models must not be packaged"

dpkg-deb -e "$DEB" "$WORK/control"
for s in stratus "${SERVICES[@]}"; do
  grep -qxF "/etc/stratus/$s.env" "$WORK/control/conffiles" || fail "conffiles lacks /etc/stratus/$s.env"
done
for script in postinst prerm postrm; do
  [ -x "$WORK/control/$script" ] || fail "control archive lacks an executable $script"
done
depends=$(dpkg-deb -f "$DEB" Depends)
tr ',|' '\n\n' <<<"$depends" | awk 'NF {print $1}' >"$WORK/depends"
for lib in libtorch1.13 libgrpc++1.51 libopencv-core406 libc6; do
  grep -qxF "$lib" "$WORK/depends" || fail "Depends lacks $lib (shlibdeps): $depends"
done
# Virtual packages the installed ones provide (libphonenumber8 provides libphonenumber8-protobuf32).
dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' | awk -F'|' '$1 ~ /^ii/ {print $2}' \
  | tr ',' '\n' | awk 'NF {print $1}' | sort -u >"$WORK/provided"
# Every dependency group is satisfiable here (the machine the binaries were linked on), so the
# names shlibdeps derived are real Debian 12 packages at the versions needed.
IFS=',' read -ra groups <<<"$depends"
for group in "${groups[@]}"; do
  ok=0
  IFS='|' read -ra alts <<<"$group"
  for alt in "${alts[@]}"; do
    name=$(awk '{print $1}' <<<"$alt")
    constraint=$(sed -n 's/.*(\(.*\)).*/\1/p' <<<"$alt")
    have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null | awk '/ok installed/ {print $4}')
    if [ -z "$have" ]; then
      [ -z "$constraint" ] && grep -qxF "$name" "$WORK/provided" && { ok=1; break; }
      continue
    fi
    if [ -n "$constraint" ]; then
      read -r op version <<<"$constraint"
      case $op in '>=') op=ge ;; '<=') op=le ;; '=') op=eq ;; '>>') op=gt ;; '<<') op=lt ;; esac
      dpkg --compare-versions "$have" "$op" "$version" || continue
    fi
    ok=1
    break
  done
  [ $ok -eq 1 ] || fail "no installed package satisfies Depends: $group"
done

# ---- 3. install into a fresh root ---------------------------------------------------------------
echo "== dpkg --root (fresh root)"
ROOT=$WORK/root
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
: >"$ROOT/var/lib/dpkg/status"
# The root has no shell and no libraries: scripts run from this machine (DPKG_ROOT set), and
# Depends are checked above instead of in this empty package database.
dpkg --root="$ROOT" --force-not-root --force-script-chrootless --force-depends --log=/dev/null \
  -i "$DEB" >"$WORK/dpkg-install.log" 2>&1 \
  || { cat "$WORK/dpkg-install.log" >&2; die "dpkg -i into a fresh root failed"; }
[ "$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' stratus)" = "install ok installed" ] \
  || fail "stratus is not 'install ok installed' in the fresh root"
grep -q '^stratus:' "$ROOT/etc/passwd" 2>/dev/null || fail "postinst did not create the stratus user in the root"
for path in "${expect[@]}"; do
  [ -e "$ROOT$path" ] || fail "installed root lacks $path"
done
[ "$(stat -c %a "$ROOT/etc/stratus/stratus.env")" = 640 ] || fail "/etc/stratus/stratus.env is not mode 0640"

# ---- 4. the binaries run from the root -----------------------------------------------------------
echo "== binaries"
version=$(dpkg-deb -f "$DEB" Version)
version=${version%-*}
for b in "${BINARIES[@]}"; do
  exe=$ROOT/usr/bin/$b
  missing=$(ldd "$exe" 2>&1 | grep 'not found')
  [ -z "$missing" ] || fail "$b: shared libraries not found: $missing"
  if [ "$b" != stratus-train ]; then
    out=$("$exe" --version 2>&1) || fail "$b --version exited $?: $out"
    [[ $out == "$b $version "* ]] || fail "$b --version printed '$out', not '$b $version (...)'"
  fi
  out=$("$exe" --help 2>&1) || fail "$b --help exited $?"
  grep -q "usage:" <<<"$out" || fail "$b --help printed no usage"
done
# Each ExecStart is a binary the package ships, named by its unit.
for s in "${SERVICES[@]}"; do
  grep -qxF "ExecStart=/usr/bin/stratus-$s" "$ROOT/usr/lib/systemd/system/stratus-$s.service" \
    || fail "stratus-$s.service does not start /usr/bin/stratus-$s"
done

# Every variable the env files name (set or commented out) is one the service reads: its --help
# lists it as ($VAR). A misspelt name would be ignored silently by the service.
for s in "${SERVICES[@]}"; do
  "$ROOT/usr/bin/stratus-$s" --help >"$WORK/help-$s" 2>&1
done
for s in "${SERVICES[@]}"; do
  for key in $(grep -oE '^#?STRATUS_[A-Z0-9_]+=' "$ROOT/etc/stratus/$s.env" | tr -d '#='); do
    grep -qF "(\$$key)" "$WORK/help-$s" || fail "/etc/stratus/$s.env: stratus-$s has no flag for $key"
  done
done
for key in $(grep -oE '^#?STRATUS_[A-Z0-9_]+=' "$ROOT/etc/stratus/stratus.env" | tr -d '#='); do
  grep -qF "(\$$key)" "$WORK"/help-* || fail "/etc/stratus/stratus.env: no service has a flag for $key"
done

# The console from the root finds the packaged front end beside its binary and serves it.
: >"$WORK/api-keys"
env -i PATH=/usr/bin:/bin "$ROOT/usr/bin/stratus-console" --api-keys-file "$WORK/api-keys" \
  --grpc-port 0 --http-port 0 >"$WORK/console.log" 2>&1 &
CONSOLE_PID=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*service started service=console .*http_port=\([0-9]*\).*/\1/p' "$WORK/console.log")
  [ -n "$port" ] && break
  kill -0 "$CONSOLE_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  fail "stratus-console did not start: $(cat "$WORK/console.log")"
else
  # From $ROOT/usr/bin the only front end it can find is $ROOT/usr/share/stratus/console.
  curl -fsS "http://127.0.0.1:$port/" -o "$WORK/index.html" || fail "console GET / failed"
  cmp -s "$WORK/index.html" "$ROOT/usr/share/stratus/console/index.html" \
    || fail "console GET / is not the packaged index.html"
fi
kill "$CONSOLE_PID" 2>/dev/null; wait "$CONSOLE_PID" 2>/dev/null; CONSOLE_PID=

# ---- 5. systemd-analyze verify ------------------------------------------------------------------
echo "== systemd-analyze verify"
# The units' default dependencies (sysinit.target, ...) come from the systemd package, which a
# real root has (Depends: systemd | adduser): give the fresh root this machine's own units.
for unit in /usr/lib/systemd/system/* /lib/systemd/system/*; do
  [ -f "$unit" ] && [ ! -e "$ROOT/usr/lib/systemd/system/${unit##*/}" ] && cp -a "$unit" "$ROOT/usr/lib/systemd/system/"
done
units=(stratus.target)
for s in "${SERVICES[@]}"; do units+=("stratus-$s.service"); done
# Unknown keys and syscall groups are only warnings (exit 0): any output at all fails.
if ! out=$(systemd-analyze verify --root="$ROOT" --man=no "${units[@]}" 2>&1) || [ -n "$out" ]; then
  fail "systemd-analyze verify: $out"
fi
for s in "${SERVICES[@]}"; do
  unit=$ROOT/usr/lib/systemd/system/stratus-$s.service
  for key in User=stratus NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
             SystemCallFilter=@system-service "EnvironmentFile=-/etc/stratus/$s.env" \
             Restart=on-failure WantedBy=stratus.target; do
    grep -qxF "$key" "$unit" || fail "stratus-$s.service lacks $key"
  done
done

# The hardening as systemd scores it (0 safest, 10 exposed; today 1.7, the detector 2.0 as it
# keeps /dev for CUDA): a unit that loses its protections goes above 2.5 and fails here.
for s in "${SERVICES[@]}"; do
  systemd-analyze security --offline=yes --root="$ROOT" --threshold=25 "stratus-$s.service" \
    >"$WORK/security-$s" 2>&1 \
    || fail "stratus-$s.service: $(tail -1 "$WORK/security-$s") (threshold 2.5)"
done

# ---- 6. removal keeps the operator's configuration ----------------------------------------------
dpkg --root="$ROOT" --force-not-root --force-script-chrootless --log=/dev/null -r stratus \
  >"$WORK/dpkg-remove.log" 2>&1 || { cat "$WORK/dpkg-remove.log" >&2; fail "dpkg -r failed"; }
[ ! -e "$ROOT/usr/bin/stratus-detector" ] || fail "dpkg -r left /usr/bin/stratus-detector"
[ -e "$ROOT/etc/stratus/stratus.env" ] || fail "dpkg -r removed the conffile /etc/stratus/stratus.env"

if [ $failures -ne 0 ]; then
  echo "package_deb_test: $failures failure(s)" >&2
  exit 1
fi
echo "package_deb_test: ok ($(basename "$DEB"))"
