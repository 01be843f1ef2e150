#!/usr/bin/env bash
# Issue 12 (2c): the dispatcher candidates of hocon/presence.hocon and hocon/gateway.hocon against the default,
# one gateway build, variants alternating within each round, each case on a fresh server pinned to core 0 and the
# load tool on core 1. Usage: bench/issue12-dispatchers.sh [ROUNDS] [DURATION_S]
# JSON and Markdown per run in artifacts/loadtest/issue12-2c/<round>-<variant>/.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
duration=${2:-5}
tool=bench/Presence.LoadTest/bin/Release/net10.0/Presence.LoadTest.dll
out=artifacts/loadtest/issue12-2c
cases=handshake-1000-c32,beacons-1-client,beacons-200-clients,query-200rows-r8
declare -A variants=(
  [default]=""
  [channel]="PRESENCE_MANAGER_DISPATCHER=presence.dispatchers.channel,PRESENCE_GATEWAY_CONNECTION_DISPATCHER=gateway.dispatchers.channel"
  [pinned-manager]="PRESENCE_MANAGER_DISPATCHER=presence.dispatchers.pinned"
  [dedicated-connections]="PRESENCE_GATEWAY_CONNECTION_DISPATCHER=gateway.dispatchers.dedicated"
  [throughput]="PRESENCE_MANAGER_DISPATCHER=presence.dispatchers.throughput-100,PRESENCE_GATEWAY_CONNECTION_DISPATCHER=gateway.dispatchers.throughput-1"
)
order=(default channel pinned-manager dedicated-connections throughput)
for round in $(seq 1 "$rounds"); do
  for name in "${order[@]}"; do
    echo "== $round-$name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    env=${variants[$name]}
    dotnet "$tool" all --duration "$duration" --cases "$cases" --out "$out/$round-$name" ${env:+--server-env "$env"} | grep -E '^(PASS|FAIL)|✘' || true
  done
done
echo "== end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
