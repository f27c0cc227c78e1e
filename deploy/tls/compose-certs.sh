#!/usr/bin/env bash
# Makes the TLS files docker-compose.tls.yml mounts, with openssl, in DIR (argument, else
# $STRATUS_COMPOSE_TLS_DIR, else var/tls of the repository; mode 0700):
#   ca.pem       the CA clients trust (mode 0644: the containers' user reads it)
#   ca.key       its key (mode 0600; never mounted into a container)
#   compose.pem  the services' certificate, signed by the CA: EC P-256, 1 year, serverAuth and
#                clientAuth (services present it to each other: mTLS), subjectAltName every
#                compose service name (ingest, detector, detector-gpu, recognition, mask,
#                sentiment, console), localhost, 127.0.0.1, ::1 and $STRATUS_COMPOSE_TLS_HOSTS
#                (comma-separated DNS names or IP addresses, e.g. this machine's name)
#   compose.key  its key: mode 0644 inside the 0700 folder (the containers run as uid 10001 and
#                read it through a bind mount; the folder keeps other users of this machine out),
#                or 0600 owned by 10001 when run as root
# The CA is the one `stratus up --tls` keeps in var/tls (same files, EC P-256), reused while it
# has over 30 days left, else made anew (10 years); the certificate is reused while it has over
# 30 days left, was signed by that CA and names every host, else made anew. Run again: keeps them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-${STRATUS_COMPOSE_TLS_DIR:-$root/var/tls}}
month=$((30 * 24 * 3600))
hosts=(localhost ingest detector detector-gpu recognition mask sentiment console 127.0.0.1 ::1)
IFS=, read -r -a extra <<<"${STRATUS_COMPOSE_TLS_HOSTS:-}"
hosts+=("${extra[@]}")

san=""
for h in "${hosts[@]}"; do
  [ -n "$h" ] || continue
  if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then san+="${san:+,}IP:$h"; else san+="${san:+,}DNS:$h"; fi
done

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"

ca_ok() {
  [ -s ca.pem ] && [ -s ca.key ] && openssl x509 -in ca.pem -noout -checkend "$month" >/dev/null 2>&1 &&
    [ "$(openssl x509 -in ca.pem -noout -pubkey)" = "$(openssl pkey -in ca.key -pubout 2>/dev/null)" ]
}
if ! ca_ok; then
  if [ -s ca.pem ] && [ ! -s ca.key ]; then
    echo "compose-certs: $dir/ca.pem has no ca.key beside it: cannot sign with it" >&2; exit 1
  fi
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=Stratus local CA" -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  rm -f compose.pem compose.key
  echo "compose-certs: made a new CA $dir/ca.pem (clients must trust it anew)"
fi
chmod 0600 ca.key
chmod 0644 ca.pem

cert_ok() {
  [ -s compose.pem ] && [ -s compose.key ] &&
    openssl x509 -in compose.pem -noout -checkend "$month" >/dev/null 2>&1 &&
    openssl verify -CAfile ca.pem compose.pem >/dev/null 2>&1 &&
    [ "$(openssl x509 -in compose.pem -noout -pubkey)" = "$(openssl pkey -in compose.key -pubout 2>/dev/null)" ] || return 1
  local names
  names=$(openssl x509 -in compose.pem -noout -ext subjectAltName 2>/dev/null | tail -n +2 |
    tr ',' '\n' | sed 's/^ *//; s/^IP Address:/IP:/; s/^DNS:/DNS:/')
  local want
  for want in ${san//,/ }; do
    # openssl prints ::1 as 0:0:0:0:0:0:0:1
    [ "$want" = "IP:::1" ] && want="IP:0:0:0:0:0:0:0:1"
    grep -qixF "$want" <<<"$names" || return 1
  done
}
if ! cert_ok; then
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=stratus compose" -keyout compose.key -out compose.csr 2>/dev/null
  printf '%s\n' "subjectAltName=$san" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth" >compose.ext
  openssl x509 -req -in compose.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
    -extfile compose.ext -out compose.pem 2>/dev/null
  rm -f compose.csr compose.ext ca.srl
  echo "compose-certs: made $dir/compose.pem for ${san//,/, }"
else
  echo "compose-certs: $dir/compose.pem is valid and names every host; kept"
fi
chmod 0644 compose.pem
if [ "$(id -u)" -eq 0 ]; then
  chown 10001:10001 compose.key && chmod 0600 compose.key
else
  chmod 0644 compose.key
fi
