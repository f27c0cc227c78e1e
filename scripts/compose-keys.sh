#!/usr/bin/env bash
# Makes, once, the gRPC API keys docker-compose.yml expects:
#   var/compose/api-keys   the keys every service accepts, as SHA-256 hashes (mode 0644: the
#                          containers' user reads it; it holds no secret)
#   .env                   STRATUS_INTERNAL_API_KEY, the key the services send each other
#   var/compose/admin-key  an admin key ("*:admin", mode 0600) for the stratus tool:
#                          STRATUS_API_KEY=$(cat var/compose/admin-key) stratus keys create ...
# Needs the stratus tool ($STRATUS_BIN, default build/bin/stratus). Run again: keeps the keys.
set -euo pipefail
cd "$(dirname "$0")/.."
stratus=${STRATUS_BIN:-build/bin/stratus}
if [ -s var/compose/api-keys ] && [ -s var/compose/admin-key ] &&
   grep -q '^STRATUS_INTERNAL_API_KEY=' .env 2>/dev/null; then
  echo "compose-keys: var/compose/api-keys and .env already have the keys"
  exit 0
fi
mkdir -p var/compose
admin=$("$stratus" keys generate --name admin --scope admin)
internal=$("$stratus" keys generate --name internal --scope detector:read --scope mask:read \
  --scope recognition:read)
{ sed -n 2p <<<"$admin"; sed -n 2p <<<"$internal"; } >var/compose/api-keys
chmod 0644 var/compose/api-keys
(umask 077 && sed -n 1p <<<"$admin" >var/compose/admin-key)
touch .env
(umask 077 && { grep -v '^STRATUS_INTERNAL_API_KEY=' .env || true
                echo "STRATUS_INTERNAL_API_KEY=$(sed -n 1p <<<"$internal")"; } >.env.tmp)
mv .env.tmp .env
echo "compose-keys: wrote var/compose/api-keys, var/compose/admin-key and STRATUS_INTERNAL_API_KEY in .env"
