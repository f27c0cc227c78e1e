#!/usr/bin/env bash
# Checks that every service the build makes (the foreach list of services/CMakeLists.txt) is
# deployed everywhere: built by deploy/docker/Dockerfile (its cmake target and its /out folder),
# a compose service built with SERVICE=<name>, a Prometheus job, in StratusServiceDown's job list
# (and so in the chart's copy of the rules), and in the Helm chart (the stratus.services list
# every per-service template ranges over, and a values section). A service added to the build
# but not to the deployment fails here. Proves itself on a service name that is deployed nowhere.
set -euo pipefail
cd "$(dirname "$0")/../.."

services=$(sed -n 's/^foreach(service \(.*\))$/\1/p' services/CMakeLists.txt)
[ -n "$services" ] || { echo "check-deploy: no foreach(service ...) in services/CMakeLists.txt"; exit 1; }

missing() {  # prints what deploys service $1 nowhere; nothing when it is deployed everywhere
  local s=$1
  grep -q "\b$s:stratus-$s\b" deploy/docker/Dockerfile || echo "deploy/docker/Dockerfile: no $s:stratus-$s in the /out loop"
  grep -qE "^\s+(.*\s)?stratus-$s(\s|$)" deploy/docker/Dockerfile || echo "deploy/docker/Dockerfile: stratus-$s is not a build target"
  awk -v s="$s" '$0 == "  " s ":" {svc=1; next} /^  [a-z]/ {svc=0} svc && index($0, "SERVICE: " s "}") {found=1}
                 END {exit !found}' docker-compose.yml || echo "docker-compose.yml: no service $s built with SERVICE: $s"
  grep -q "job_name: $s\$" deploy/prometheus/prometheus.yml || echo "deploy/prometheus/prometheus.yml: no job $s"
  grep -E '^\s+expr: up\{job=~"[^"]*"\} == 0' deploy/prometheus/alerts.yml | grep -qE "[\"|]$s[\"|]" ||
    echo "deploy/prometheus/alerts.yml: StratusServiceDown does not watch $s"
  sed -n '/define "stratus.services"/,/end -}}/p' deploy/helm/stratus/templates/_helpers.tpl |
    grep -qE "(^|[,}])$s([,{]|$)" || echo "deploy/helm/stratus: $s is not in stratus.services (_helpers.tpl)"
  grep -q "^$s:" deploy/helm/stratus/values.yaml || echo "deploy/helm/stratus/values.yaml: no $s section"
}

status=0
for s in $services; do
  problems=$(missing "$s")
  if [ -n "$problems" ]; then
    sed 's/^/check-deploy: /' <<<"$problems"; status=1
  fi
done
[ "$status" -eq 0 ] || exit 1

# Self-test: a service deployed nowhere is reported by every check.
n=$(missing nosuchservice | wc -l)
[ "$n" -eq 7 ] || { echo "check-deploy: self-test: $n of 7 checks noticed an undeployed service"; exit 1; }
echo "check-deploy: $(wc -w <<<"$services") services deployed everywhere ($(tr '\n' ' ' <<<"$services" | sed 's/ $//'))"
