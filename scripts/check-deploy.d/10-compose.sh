#!/usr/bin/env bash
# Validates docker-compose.yml with the real docker-compose (Debian's, schema and interpolation;
# no Docker engine needed), with and without the gpu profile; the Prometheus configuration with
# promtool; and that compose, Prometheus and the Grafana provisioning fit together
# (deploy/validate/compose-check.mjs, whose dashboard queries promtool then parses); that no
# password has a default and only the public endpoints are published (the console and
# Prometheus on loopback only). The same for the TLS override (docker-compose.tls.yml merged
# with the base file; Prometheus with prometheus-tls.yml, whose jobs must be prometheus.yml's),
# and that deploy/tls/compose-certs.sh makes a certificate its CA verifies, for server and
# client use, naming every service that serves it, and keeps it on a second run. Proves the
# checks fail on a broken compose file and a broken TLS override.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/check-deploy.d/validator-env

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Passwords have no defaults: without them the file must not resolve.
if grep -nE 'PASSWORD[A-Z_]*:-' docker-compose.yml; then
  echo "check-deploy: docker-compose.yml has a default password"; exit 1
fi
if env -u STRATUS_DB_PASSWORD -u STRATUS_GRAFANA_PASSWORD \
     docker-compose -f docker-compose.yml config -q 2>/dev/null; then
  echo "check-deploy: docker-compose.yml resolves without its passwords"; exit 1
fi
export STRATUS_DB_PASSWORD=check-only STRATUS_GRAFANA_PASSWORD=check-only
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml --profile gpu config >"$out/compose.yaml"
promtool check config --syntax-only deploy/prometheus/prometheus.yml >/dev/null
node "$validator/compose-check.mjs" "$out/compose.yaml" deploy/prometheus/prometheus.yml \
  deploy/grafana "$out/rules.yml"
promtool check rules "$out/rules.yml" >/dev/null

# TLS: the override merged with the base file, with and without the gpu profile.
tls_files=(-f docker-compose.yml -f docker-compose.tls.yml)
docker-compose "${tls_files[@]}" config -q
docker-compose "${tls_files[@]}" --profile gpu config >"$out/compose-tls.yaml"
promtool check config --syntax-only deploy/prometheus/prometheus-tls.yml >/dev/null
diff <(grep -E '^ *(- )?(job_name|targets):' deploy/prometheus/prometheus.yml) \
     <(grep -E '^ *(- )?(job_name|targets):' deploy/prometheus/prometheus-tls.yml) >/dev/null || {
  echo "check-deploy: deploy/prometheus/prometheus-tls.yml's jobs differ from prometheus.yml's"; exit 1; }
node "$validator/compose-check.mjs" --tls "$out/compose-tls.yaml" deploy/prometheus/prometheus-tls.yml \
  deploy/grafana "$out/rules-tls.yml"
# The certificate compose-certs.sh makes: verified by its CA for both uses, naming every compose
# service that serves it (the names the others and Prometheus dial) and localhost; kept when
# run again.
deploy/tls/compose-certs.sh "$out/tls" >/dev/null
for purpose in sslserver sslclient; do
  openssl verify -CAfile "$out/tls/ca.pem" -purpose "$purpose" "$out/tls/compose.pem" >/dev/null
done
tls_services=$(awk '/^  [a-z][a-z-]*:$/ {s = substr($1, 1, length($1) - 1)} /STRATUS_TLS_CERT:/ {print s}' \
  "$out/compose-tls.yaml" | sort -u)
[ "$(wc -w <<<"$tls_services")" -ge 7 ] || { echo "check-deploy: only $(wc -w <<<"$tls_services") services serve TLS"; exit 1; }
for h in $tls_services localhost; do
  openssl x509 -in "$out/tls/compose.pem" -noout -checkhost "$h" | grep -q 'does match' || {
    echo "check-deploy: compose-certs.sh's certificate does not name $h"; exit 1; }
done
openssl x509 -in "$out/tls/compose.pem" -noout -checkip 127.0.0.1 | grep -q 'does match' || {
  echo "check-deploy: compose-certs.sh's certificate does not name 127.0.0.1"; exit 1; }
before=$(sha256sum "$out/tls/compose.pem" "$out/tls/ca.pem")
deploy/tls/compose-certs.sh "$out/tls" >/dev/null
[ "$before" = "$(sha256sum "$out/tls/compose.pem" "$out/tls/ca.pem")" ] || {
  echo "check-deploy: compose-certs.sh replaced a valid certificate"; exit 1; }

for f in deploy/docker/Dockerfile deploy/docker/Dockerfile.detector-cuda; do
  grep -q '^USER 10001' "$f" || { echo "check-deploy: $f runs as root"; exit 1; }
  # The binaries listen on loopback by default: an image must say 0.0.0.0.
  grep -q 'STRATUS_LISTEN=0.0.0.0' "$f" || { echo "check-deploy: $f does not set STRATUS_LISTEN"; exit 1; }
done

# Self-test: a misspelt key must fail docker-compose, a lost health check compose-check.
sed 's/^    healthcheck:/    healthchek:/' docker-compose.yml >"$out/broken-key.yml"
if docker-compose -f "$out/broken-key.yml" config -q 2>/dev/null; then
  echo "check-deploy: docker-compose accepted a misspelt key"; exit 1
fi
awk '/^  [a-z]/{m = ($0 ~ /^  mask:/)} m && /^    healthcheck:/{skip=1; next}
     skip && /^      /{next} {skip=0; print}' \
  "$out/compose.yaml" >"$out/no-health.yaml"
if node "$validator/compose-check.mjs" "$out/no-health.yaml" deploy/prometheus/prometheus.yml \
     deploy/grafana "$out/rules2.yml" >/dev/null; then
  echo "check-deploy: compose-check accepted a service without a health check"; exit 1
fi
sed 's/^    ports: \["50051:50051"\]/    ports: ["50051:50051", "8081:8081"]/' docker-compose.yml >"$out/open-port.yml"
cmp -s docker-compose.yml "$out/open-port.yml" && { echo "check-deploy: self-test could not publish a port"; exit 1; }
docker-compose -f "$out/open-port.yml" --profile gpu config >"$out/open-port.yaml"
if node "$validator/compose-check.mjs" "$out/open-port.yaml" deploy/prometheus/prometheus.yml \
     deploy/grafana "$out/rules3.yml" >/dev/null; then
  echo "check-deploy: compose-check accepted a published metrics port"; exit 1
fi
# ... and a console published beyond loopback (its login page is for this machine only).
sed 's/^    ports: \["127\.0\.0\.1:8086:8086"\]/    ports: ["8086:8086"]/' docker-compose.yml >"$out/open-console.yml"
cmp -s docker-compose.yml "$out/open-console.yml" && { echo "check-deploy: self-test could not publish the console"; exit 1; }
docker-compose -f "$out/open-console.yml" --profile gpu config >"$out/open-console.yaml"
if node "$validator/compose-check.mjs" "$out/open-console.yaml" deploy/prometheus/prometheus.yml \
     deploy/grafana "$out/rules4.yml" >/dev/null; then
  echo "check-deploy: compose-check accepted a console published on every interface"; exit 1
fi
# ... and a TLS override whose health check went back to http, and the TLS services scraped with
# the plain-text Prometheus configuration.
sed 's|"https://localhost:8084/readyz"|"http://localhost:8084/readyz"|' docker-compose.tls.yml >"$out/http-health.tls.yml"
cmp -s docker-compose.tls.yml "$out/http-health.tls.yml" && { echo "check-deploy: self-test could not break the TLS health check"; exit 1; }
docker-compose -f docker-compose.yml -f "$out/http-health.tls.yml" --profile gpu config >"$out/http-health.yaml"
if node "$validator/compose-check.mjs" --tls "$out/http-health.yaml" deploy/prometheus/prometheus-tls.yml \
     deploy/grafana "$out/rules5.yml" >/dev/null; then
  echo "check-deploy: compose-check accepted a TLS service with an http health check"; exit 1
fi
if node "$validator/compose-check.mjs" --tls "$out/compose-tls.yaml" deploy/prometheus/prometheus.yml \
     deploy/grafana "$out/rules6.yml" >/dev/null; then
  echo "check-deploy: compose-check accepted TLS services scraped over http"; exit 1
fi
if node "$validator/compose-check.mjs" "$out/compose-tls.yaml" deploy/prometheus/prometheus-tls.yml \
     deploy/grafana "$out/rules7.yml" >/dev/null; then
  echo "check-deploy: compose-check accepted TLS settings in the plain-text compose file"; exit 1
fi
echo "check-deploy: docker-compose.yml (plain and with docker-compose.tls.yml), Prometheus and Grafana OK"
