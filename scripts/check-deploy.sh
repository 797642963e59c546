#!/usr/bin/env bash
# Offline validation of the deployment files (no Docker engine, no cluster needed):
#   docker-compose config -q   docker-compose.yml parses, interpolates and is a valid Compose file
#   kubectl kustomize           deploy/k8s/overlays/dev and prod render
# The schema checks (every Kubernetes object against its OpenAPI schema, every service's env
# against its config schema, probes, NetworkPolicies) are in e2e/src/deploy.e2e-spec.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if ! command -v docker-compose > /dev/null; then
  info "installing docker-compose (apt-get)"
  apt_install docker-compose || die "docker-compose is missing and could not be installed (needs root on Debian/Ubuntu)"
fi
command -v kubectl > /dev/null || die "kubectl (with kustomize v5) is missing"

failed=0
check() { # check <label> <command…>
  local label=$1 out
  shift
  if out="$("$@" 2>&1 > /dev/null)"; then
    info "ok    $label"
  else
    warn "FAIL  $label"
    printf '%s\n' "$out" >&2
    failed=1
  fi
}

check "docker-compose config" docker-compose -f docker-compose.yml config -q
check "kubectl kustomize deploy/k8s/overlays/dev" kubectl kustomize deploy/k8s/overlays/dev
check "kubectl kustomize deploy/k8s/overlays/prod" kubectl kustomize deploy/k8s/overlays/prod
if [ -x /usr/sbin/nats-server ] || command -v nats-server > /dev/null; then
  # nats-server -t: parse and check the config (dummy passwords; they are read from the environment)
  check "nats-server -t deploy/nats/nats-server.conf" env \
    NATS_GATEWAY_PASSWORD=pcheck NATS_DEVICE_CONTROL_PASSWORD=pcheck NATS_TELEMETRY_PASSWORD=pcheck \
    NATS_ANALYTICS_PASSWORD=pcheck NATS_LLM_EXPERIMENTS_PASSWORD=pcheck NATS_INGEST_ACME_PASSWORD=pcheck \
    NATS_INGEST_GLOBEX_PASSWORD=pcheck "$(command -v nats-server || echo /usr/sbin/nats-server)" -t -c deploy/nats/nats-server.conf
fi
[ "$failed" = 0 ] || die "deployment files are invalid"
info "deployment files valid"
