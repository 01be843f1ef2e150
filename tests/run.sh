#!/usr/bin/env bash
# Runs every test suite of Presence.Actors on a fresh machine: installs what is
# missing, builds once in Release, runs each suite, and ends with the plain
# line "N passed, N failed" summed over all suites. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"

passed=0
failed=0
skipped=0
status=0

note() { printf '\n== %s\n' "$*"; }

count_trx() {
  local trx=$1 p f s
  p=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
  f=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
  s=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' notExecuted="[0-9]*"' | grep -o '[0-9]*')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
}

# The browser tests drive Debian's Chromium (PuppeteerSharp never downloads a browser).
if ! command -v chromium >/dev/null; then
  note "install chromium"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    || echo "chromium could not be installed; the browser tests will fail"
fi

note "restore and build (Release)"
if ! dotnet build Presence.Actors.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

for project in tests/*/*.Tests.csproj samples/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  note "$name"
  # Measurements (Category=Measurement) are runs that report figures, not checks: run them by hand.
  if ! dotnet test "$project" -c Release --no-build -nologo --filter "Category!=Measurement" \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
      --results-directory "$results" --blame-hang-timeout 5m; then
    status=1
  fi
  if [ -f "$results/$name.trx" ]; then
    count_trx "$results/$name.trx"
  else
    echo "$name produced no results"; failed=$((failed + 1)); status=1
  fi
done

# docker-compose.yml is checked statically (no Docker engine here): counted as one test.
note "docker-compose.yml: docker-compose config"
if ! command -v docker-compose >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; } \
    || echo "docker-compose could not be installed"
fi
if PRESENCE_GATEWAY_TOKEN=config-check docker-compose -f docker-compose.yml config -q; then
  echo "docker-compose config: passed"; passed=$((passed + 1))
else
  echo "docker-compose config: failed"; failed=$((failed + 1)); status=1
fi

# Tools that end with their own "<name>: N passed, N failed" line are added to the sum.
run_counted() {
  local name=$1; shift
  note "$name"
  local log="$results/${name// /-}.log"
  if ! "$@" 2>&1 | tee "$log"; then
    status=1
  fi
  local line p f
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "$name printed no summary"; failed=$((failed + 1)); status=1; return
  fi
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  passed=$((passed + p)); failed=$((failed + f))
}

# A bounded fuzzing pass over the parser, validators and merge, seeded with the captured frames.
run_counted fuzz dotnet fuzz/Presence.Fuzz/bin/Release/net10.0/Presence.Fuzz.dll run --seconds 20 --crashes "$root/artifacts/fuzz/crashes"

# The load tool's smoke: every scenario for a few seconds, asserting behaviour (all answered, every watcher served).
run_counted "load smoke" dotnet bench/Presence.LoadTest/bin/Release/net10.0/Presence.LoadTest.dll smoke --out "$root/artifacts/loadtest/smoke"

# The report generator over the smoke's JSON, into a scratch copy of docs/performance.md: counted as one test.
note "load report"
scratch="$results/report"
mkdir -p "$scratch" && cp docs/performance.md "$scratch/performance.md"
smoke_json=$(ls -t "$root"/artifacts/loadtest/smoke/*.json 2>/dev/null | head -1)
if [ -n "$smoke_json" ] \
    && dotnet bench/Presence.LoadTest/bin/Release/net10.0/Presence.LoadTest.dll report --runs "$smoke_json" --doc "$scratch/performance.md" --charts "$scratch/perf" \
    && grep -q '<svg' "$scratch/perf/fanout-latency.svg" && grep -q '<svg' "$scratch/perf/beacon-throughput.svg" \
    && grep -q "Presence.LoadTest smoke" "$scratch/performance.md"; then
  echo "load report: passed"; passed=$((passed + 1))
else
  echo "load report: failed"; failed=$((failed + 1)); status=1
fi

# A one-minute soak: churn plus long-lived clients; RSS, threads, handles and live actors must not grow, nothing
# unanswered, nothing logged at warning or above. Rate and windows are chosen in docs/reliability.md ("Soak").
run_counted soak dotnet bench/Presence.LoadTest/bin/Release/net10.0/Presence.LoadTest.dll soak --duration 60 --rate 40 --warmup 30 --window 15 --out "$root/artifacts/loadtest/soak"

if [ -x tests/compat/run.sh ]; then
  note "compat: the real @openclaw/gateway-client against the gateway"
  export PRESENCE_GATEWAY_DLL="$root/src/Presence.Gateway/bin/Release/net10.0/Presence.Gateway.dll"
  if ! tests/compat/run.sh 2>&1 | tee "$results/compat.log"; then
    status=1
  fi
  p=$(grep -E '^# pass [0-9]+' "$results/compat.log" | tail -1 | grep -o '[0-9]*$')
  f=$(grep -E '^# fail [0-9]+' "$results/compat.log" | tail -1 | grep -o '[0-9]*$')
  if [ -z "$p" ] && [ -z "$f" ]; then
    echo "compat suite printed no summary"; failed=$((failed + 1)); status=1
  fi
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
fi

[ "$failed" -gt 0 ] && status=1
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
