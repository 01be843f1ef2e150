#!/usr/bin/env bash
# Validates deploy/kubernetes offline (no cluster, no kubectl): node's test runner over
# validate.test.mjs. Output ends with node's TAP summary lines (`# pass N`, `# fail N`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# npm ci wipes node_modules every time; the stamp makes a second run instant.
stamp=node_modules/.kubernetes-lock.sha256
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

node --test --test-reporter=tap validate.test.mjs
