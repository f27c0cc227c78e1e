#!/usr/bin/env bash
# Checks the alert rules (deploy/prometheus/alerts.yml): promtool's syntax check and its unit
# tests (alerts_test.yml); the Helm chart's copy is identical; every alert links to a section of
# docs/runbooks.md that exists; every Stratus metric the rules query is one the code registers.
# Proves the unit tests fail when an alert's threshold changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
rules=deploy/prometheus/alerts.yml
promtool check rules "$rules" >/dev/null
promtool test rules deploy/prometheus/alerts_test.yml >/dev/null
cmp -s "$rules" deploy/helm/stratus/rules/alerts.yml || {
  echo "check-deploy: deploy/helm/stratus/rules/alerts.yml differs from $rules"
  echo "  (copy the latter over the former)"; exit 1; }

alerts=$(grep -oP '^\s+- alert: \K\w+' "$rules")
for a in $alerts; do
  anchor=$(tr '[:upper:]' '[:lower:]' <<<"$a")
  grep -q "runbook_url: docs/runbooks.md#$anchor\$" "$rules" || {
    echo "check-deploy: alert $a has no runbook_url docs/runbooks.md#$anchor"; exit 1; }
  grep -q "^## $a\$" docs/runbooks.md || {
    echo "check-deploy: docs/runbooks.md has no section '## $a'"; exit 1; }
done
[ "$(grep -c 'runbook_url:' "$rules")" -eq "$(wc -w <<<"$alerts")" ] || {
  echo "check-deploy: runbook_url count differs from the alert count"; exit 1; }

for m in $(grep -v '^\s*#' "$rules" | grep -oP '\bstratus_[a-z_]+' | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  grep -rqF "Name(\"$m\")" --include='*.cc' common services runtime || {
    echo "check-deploy: the rules query $m, which no service registers"; exit 1; }
done

# Self-test: the unit tests must notice a changed threshold.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp deploy/prometheus/alerts_test.yml "$tmp/"
sed 's/\(rate(stratus_rpc_requests_total\[5m\])) > \)0\.05$/\10.5/' "$rules" >"$tmp/alerts.yml"
if cmp -s "$rules" "$tmp/alerts.yml"; then
  echo "check-deploy: self-test could not change a threshold"; exit 1
fi
if promtool test rules "$tmp/alerts_test.yml" >/dev/null 2>&1; then
  echo "check-deploy: promtool test rules passed with a changed threshold"; exit 1
fi
echo "check-deploy: $(wc -w <<<"$alerts") alert rules OK (promtool unit tests, runbooks, metrics)"
