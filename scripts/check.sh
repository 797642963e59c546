#!/usr/bin/env bash
# npm run check: format, lint (module boundaries, no warnings), typecheck (code and k6 scripts),
# deployment files (compose, kustomize overlays, NATS config). Runs every step and
# records each result in .conduit/test-results/check.json for the test summary.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
require_node24
mkdir -p .conduit/test-results
results=()
step() { # step <name> <command...>
  local name=$1
  shift
  info "check: $name"
  if "$@"; then results+=("\"$name\":true"); else results+=("\"$name\":false"); fi
}
step format npx prettier --check --log-level warn .
npx nx show projects > /dev/null 2>&1 # the boundary rule reads the cached project graph
step lint npx eslint . --max-warnings 0
step typecheck npx tsc -p tsconfig.json
step typecheck-k6 npx tsc -p k6/tsconfig.json
# docker-compose config, kubectl kustomize of both overlays, nats-server -t (installs docker-compose).
step deploy bash scripts/check-deploy.sh
(IFS=,; echo "{${results[*]}}") > .conduit/test-results/check.json
! grep -q false .conduit/test-results/check.json
