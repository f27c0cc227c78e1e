#!/usr/bin/env bash
# Validates docker-compose.yml with the real docker-compose (Debian's, schema and interpolation;
# no Docker engine needed), with and without the gpu profile; the Prometheus configuration with
# promtool; and that compose, Prometheus and the Grafana provisioning fit together
# (deploy/validate/compose-check.mjs, whose dashboard queries promtool then parses). Proves the
# checks fail on a broken compose file.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/check-deploy.d/validator-env

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml --profile gpu config >"$out/compose.yaml"
promtool check config --syntax-only deploy/prometheus/prometheus.yml >/dev/null
node "$validator/compose-check.mjs" "$out/compose.yaml" deploy/prometheus/prometheus.yml \
  deploy/grafana "$out/rules.yml"
promtool check rules "$out/rules.yml" >/dev/null
grep -q '^USER 10001' deploy/docker/Dockerfile deploy/docker/Dockerfile.detector-cuda ||
  { echo "check-deploy: an image runs as root"; exit 1; }

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
echo "check-deploy: docker-compose.yml, Prometheus and Grafana OK"
