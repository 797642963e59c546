#!/usr/bin/env bash
# npm test [-- --tier unit|int|e2e ...]: servers, check (format, lint, typecheck), build,
# migrate the test database, then the unit, integration and end-to-end tiers against the real
# servers. Every tier runs even when one fails; the last line is `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

tiers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tier) tiers+=("${2:?--tier needs unit, int or e2e}"); shift 2 ;;
    *) die "unknown option $1 (usage: npm test [-- --tier unit|int|e2e])" ;;
  esac
done
[ ${#tiers[@]} -gt 0 ] || tiers=(unit int e2e)

require_node24
bash scripts/stack/servers.sh || die "the servers could not be brought up"
results=.conduit/test-results
rm -rf "$results" && mkdir -p "$results"
export CONDUIT_PRESET=test

bash scripts/check.sh
info "build"
if ! npm run build --silent > "$LOG_DIR/build.log" 2>&1; then
  cat "$LOG_DIR/build.log" >&2
  echo '{"build":false}' > "$results/build.json"
fi
info "migrate the test database"
"$NODE_BIN" dist/scripts/migrate.js || echo '{"migrate":false}' > "$results/migrate.json"

for tier in "${tiers[@]}"; do
  info "tier: $tier"
  npx vitest run --project "$tier" --reporter=default --reporter=json --outputFile.json="$results/$tier.json"
done
"$NODE_BIN" scripts/test-summary.mjs "$results" "${tiers[@]}"
