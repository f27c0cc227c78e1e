#!/usr/bin/env bash
# Validates docker-compose.yml with the real docker-compose (Debian's, schema and interpolation;
# no Docker engine needed), with and without the gpu profile; the Prometheus configuration with
# promtool; and that compose, Prometheus and the Grafana provisioning fit together
# (deploy/validate/compose-check.mjs, whose dashboard queries promtool then parses); that no
# password has a default and only the public endpoints are published (the console and
# Prometheus on loopback only). Proves the checks fail on a broken compose file.
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
echo "check-deploy: docker-compose.yml, Prometheus and Grafana OK"
