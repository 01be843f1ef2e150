#!/usr/bin/env bash
# Issue 12's A/B: this checkout's gateway against a base commit's and the two Node floor servers
# (../shared/bench), in one run, alternating server by server, each started fresh and pinned to
# core 0 with the load tool on core 1. Usage: bench/issue12-ab.sh BASE_GATEWAY_DLL [ROUNDS]
# (build the base with: git worktree add /tmp/base 9f9db7d && dotnet build -c Release /tmp/base/src/Presence.Gateway).
# JSON and Markdown per run in artifacts/loadtest/issue12/<round>-<server>/.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/issue12-ab.sh BASE_GATEWAY_DLL [ROUNDS]}
rounds=${2:-2}
tool=bench/Presence.LoadTest/bin/Release/net10.0/Presence.LoadTest.dll
out=artifacts/loadtest/issue12
gateway_cases=handshake-1000-c32,beacons-1-client,beacons-200-clients,query-200rows-r8,fanout-200rows-1000,fanout-200rows-5000
run() { # name, then the tool's options
  local name=$1; shift
  echo "== $name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet "$tool" all --duration 8 --trials 15 --out "$out/$name" "$@" | grep -E '^(PASS|FAIL)|✘' || true
}
for round in $(seq 1 "$rounds"); do
  run "$round-new" --cases "$gateway_cases"
  run "$round-base" --cases "$gateway_cases" --gateway-dll "$base"
  run "$round-floor-instant" --server floor-instant --cases handshake-1000-c32,beacons-1-client,beacons-200-clients
  run "$round-floor-serialise-once" --server floor-serialise-once --cases query-200rows-r8,fanout-200rows-1000,fanout-200rows-5000
done
# The transport switches, once: Kestrel's inline scheduling with inline socket completions, and the runtime's
# default thread-pool spinning (the gateway ships with none).
run "inline-io" --cases handshake-1000-c32,beacons-1-client,beacons-200-clients,query-200rows-r8 \
  --server-env PRESENCE_GATEWAY_INLINE_IO=on,DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
run "spin-70" --cases handshake-1000-c32,beacons-1-client,beacons-200-clients,query-200rows-r8 \
  --server-env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=70
# Memory per idle connection at 10,000: the new gateway, the base and the do-nothing floor.
run "scale-new" --cases scale-10000
run "scale-base" --cases scale-10000 --gateway-dll "$base"
run "scale-floor" --cases scale-10000 --server floor-instant
