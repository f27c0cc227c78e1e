#!/bin/bash
# Runs `stratus up` and then stratus-soak against it, both in a private network namespace (so
# the default ports do not clash with anything else on the machine), then stops the platform.
#
#   sudo tools/bench/soak-up.sh [stratus-soak flags...]     # from the repository root, built
#
# Needs root (unshare -n) and the binaries in $STRATUS_BUILD_DIR/bin (default build/bin). The
# platform runs on a fresh data dir (mktemp; kept on failure, its logs/ say why) with the
# models of $STRATUS_MODEL_DIR. Exit status: stratus-soak's (0: every request succeeded), 3
# when the platform did not get ready.
set -u
if [ "${STRATUS_SOAK_IN_NS:-}" != 1 ]; then
  exec env STRATUS_SOAK_IN_NS=1 unshare -n "$0" "$@"
fi
ip link set lo up
bin="${STRATUS_BUILD_DIR:-build}/bin"
data_dir="$(mktemp -d -t stratus-soak.XXXXXX)"
"$bin/stratus" up --data-dir "$data_dir" --ready-timeout 300 >"$data_dir/up.log" 2>&1 &
up=$!
for _ in $(seq 600); do
  grep -q '^ready$' "$data_dir/up.log" && break
  kill -0 "$up" 2>/dev/null || break
  sleep 0.5
done
if ! grep -q '^ready$' "$data_dir/up.log"; then
  echo "stratus up did not get ready; see $data_dir/up.log and $data_dir/logs" >&2
  tail -20 "$data_dir/up.log" >&2
  kill -TERM "$up" 2>/dev/null
  wait "$up"
  exit 3
fi
"$bin/stratus-soak" --credentials-file "$data_dir/credentials" "$@"
rc=$?
kill -TERM "$up"
wait "$up"
if [ "$rc" = 0 ]; then rm -rf "$data_dir"; else echo "data dir kept: $data_dir" >&2; fi
exit "$rc"
