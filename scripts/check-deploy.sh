#!/usr/bin/env bash
# npm run test:deploy — checks what ships, without Kubernetes or a Docker engine:
#   1. helm (go install from the Go module proxy, cached) lints the chart strictly with every values file;
#   2. `helm template` renders it with every values file, and every object is decoded strictly into Kubernetes'
#      own API types (deploy/check, a Go program over k8s.io/api: unknown, misplaced or mistyped fields fail;
#      alert expressions are parsed by Prometheus' own PromQL parser);
#      docker-compose.yml is loaded as `docker compose config` loads it (compose-go, the Compose Specification);
#   3. it must fail: a values file that violates values.schema.json, a misspelt key, a grace period below the
#      worker's shutdown deadline, a template with a field Kubernetes does not know, an alert with invalid PromQL,
#      a compose file with a misspelt key;
#   4. the deploy jest project (test/deploy): the chart's rendered properties, docker-compose.yml's structure, the
#      SIGTERM drain of a worker started exactly as the chart starts it, and the user's own-project path with the
#      packed SDK and CLI (these two need the stack: `npm run stack -- up && source .stack/env`, and a build);
#   5. the first hour on a fresh clone: `npx omnidaemon --help`, and `npm run demo` exits 0 without showing its
#      fleet as degraded while it starts (OMNIDAEMON_DEMO_API_PORT / _METRICS_PORT move its ports).
# Tools are cached under $OMNIDAEMON_TOOLS_DIR (default ~/.cache/omnidaemon/tools); Go's module and build caches
# make a second run fast. docs/operations.md and docs/development.md describe it.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0
# The oldest Kubernetes the chart supports is 1.27 (Chart.yaml); render as a current cluster would.
KUBE_VERSION=1.33.0
TOOLS="${OMNIDAEMON_TOOLS_DIR:-$HOME/.cache/omnidaemon/tools}"
CHART=deploy/helm/omnidaemon
OUT=.stack/deploy
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() { echo "check-deploy: $*" >&2; exit 1; }

command -v go >/dev/null || fail "go is required (https://go.dev/dl/): helm and the checker are built from the Go module proxy"

step "helm $HELM_VERSION"
HELM="$TOOLS/helm-$HELM_VERSION/helm"
if [ ! -x "$HELM" ]; then
  GOBIN="$TOOLS/helm-$HELM_VERSION" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
"$HELM" version --short

step "the Kubernetes schema checker (deploy/check)"
checker_hash=$(cat deploy/check/go.mod deploy/check/go.sum deploy/check/*.go | sha256sum | cut -c1-16)
CHECKER="$TOOLS/k8s-check-$checker_hash/check"
if [ ! -x "$CHECKER" ]; then
  mkdir -p "$(dirname "$CHECKER")"
  (cd deploy/check && go build -trimpath -o "$CHECKER" .)
fi

rm -rf "$OUT" && mkdir -p "$OUT"
values_files=("$CHART"/values-*.yaml deploy/check/fixtures/inline-sasl.yaml)

step "helm lint --strict, helm template, strict decoding into k8s.io/api"
for values in "${values_files[@]}"; do
  name=$(basename "$values" .yaml)
  "$HELM" lint --strict "$CHART" --kube-version "$KUBE_VERSION" -f "$values" >"$OUT/$name.lint" 2>&1 || { cat "$OUT/$name.lint"; fail "helm lint --strict failed with $values"; }
  "$HELM" template omnidaemon "$CHART" --namespace omnidaemon --kube-version "$KUBE_VERSION" -f "$values" >"$OUT/$name.yaml" ||
    fail "helm template failed with $values"
  echo "-- $values"
  "$CHECKER" "$OUT/$name.yaml" || fail "rendered objects of $values are not valid Kubernetes objects"
done

step "docker-compose.yml against the Compose Specification (as docker compose config loads it)"
"$CHECKER" -compose docker-compose.yml || fail "docker-compose.yml is not a valid compose file"

step "what must be refused"
for values in deploy/check/fixtures/schema-violation.yaml deploy/check/fixtures/unknown-key.yaml deploy/check/fixtures/short-grace.yaml; do
  if "$HELM" template omnidaemon "$CHART" --kube-version "$KUBE_VERSION" -f "$values" >/dev/null 2>"$OUT/refused.err"; then
    fail "$values rendered, but the chart must refuse it"
  fi
  echo "refused $values: $(grep -m1 -iE 'error|fail' "$OUT/refused.err" | cut -c1-160)"
done
# A template that breaks: a field Kubernetes does not know, in a copy of the chart.
broken="$OUT/broken-chart"
cp -r "$CHART" "$broken"
sed -i 's/^  strategy:$/  strategy:\n    rollingUpdates: {}/' "$broken/templates/worker-deployment.yaml"
"$HELM" template omnidaemon "$broken" --kube-version "$KUBE_VERSION" -f "$CHART/values-dev.yaml" >"$OUT/broken.yaml"
if "$CHECKER" "$OUT/broken.yaml" >"$OUT/broken.out"; then
  fail "a Deployment with an unknown field passed the schema check"
fi
echo "refused a broken template: $(grep -m1 FAIL "$OUT/broken.out" | cut -c1-160)"
# An alert whose PromQL Prometheus would reject.
sed 's/deriv(sum by (topic, agent)/deriv(sum bye (topic, agent)/' "$OUT/values-staging.yaml" >"$OUT/broken-rule.yaml"
if "$CHECKER" "$OUT/broken-rule.yaml" >"$OUT/broken-rule.out"; then fail "an alert with invalid PromQL passed the check"; fi
echo "refused a broken alert: $(grep -m1 FAIL "$OUT/broken-rule.out" | cut -c1-160)"
# A compose file with a misspelt key, next to the real one (relative paths resolve the same).
sed 's/^    stop_grace_period: 50s$/    stop_grace_periods: 50s/' docker-compose.yml >.check-deploy-compose.yml
if "$CHECKER" -compose .check-deploy-compose.yml >"$OUT/compose-broken.out"; then
  rm -f .check-deploy-compose.yml
  fail "a compose file with a misspelt key passed the check"
fi
rm -f .check-deploy-compose.yml
echo "refused a broken compose file: $(grep -m1 FAIL "$OUT/compose-broken.out" | sed 's/.*validating [^:]*: //' | cut -c1-160)"

step "first hour: npx omnidaemon --help"
npx --no-install omnidaemon --help >/dev/null || fail "npx omnidaemon --help failed (npm ci, then npm run build)"
echo "npx omnidaemon --help: ok"

step "first hour: npm run demo exits 0 and never shows its own fleet as degraded"
npm run --silent demo >"$OUT/demo.log" 2>&1 || { tail -40 "$OUT/demo.log"; fail "npm run demo failed (whole log: $OUT/demo.log)"; }
if grep -q degraded "$OUT/demo.log"; then fail "npm run demo printed degraded (log: $OUT/demo.log)"; fi
echo "npm run demo: ok ($OUT/demo.log)"

step "deploy tests (jest project deploy)"
OMNIDAEMON_HELM="$HELM" npx jest --selectProjects deploy --runInBand "$@"

step "done"
