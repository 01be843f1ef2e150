#!/usr/bin/env bash
# Issue 14 item 5: cross-node convergence p50/p99 and the cluster links' bytes per node, per candidate setting
# (tests/Presence.Cluster.Tests/MultiProcess/ConvergenceSpecs.cs; results in docs/reliability.md, "Convergence").
# Usage: bench/convergence.sh [ROUNDS] [NODES] [CANDIDATES]
#   ROUNDS      changes timed per candidate (default 100)
#   NODES       gateway processes per cluster (default 3)
#   CANDIDATES  name:ENV=VALUE,ENV=VALUE;name2:... (default "shipped", the settings as shipped); each candidate gets a
#               fresh cluster, in the order listed, so list A;B;A;B to alternate.
# Example: bench/convergence.sh 100 3 'before:PRESENCE_CLUSTER_WRITE_CONSISTENCY=local,PRESENCE_DDATA_NOTIFY_INTERVAL=100ms;shipped'
# Builds first; prints one Markdown table row per candidate (a candidate that failed says why in its row);
# the whole test log goes to artifacts/convergence/<time>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PRESENCE_BENCH_ROUNDS=${1:-100} PRESENCE_BENCH_NODES=${2:-3} PRESENCE_BENCH_CANDIDATES=${3:-shipped}
mkdir -p artifacts/convergence
log=artifacts/convergence/$(date -u +%Y%m%dT%H%M%S)-${PRESENCE_BENCH_NODES}nodes.log
dotnet build Presence.Actors.sln -c Release -nologo -clp:ErrorsOnly
status=0
dotnet test tests/Presence.Cluster.Tests -c Release --no-build \
  --filter "FullyQualifiedName~ConvergenceSpecs&Category=Measurement" --logger "console;verbosity=detailed" > "$log" 2>&1 || status=$?
grep -E '^\s*\|' "$log" | sed -E 's/^\s+//'
exit "$status"
