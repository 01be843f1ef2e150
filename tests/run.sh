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

# The Control UI browser test serves OpenClaw's own web app from the openclaw package, pinned by tests/control-ui's
# lock file. Only its static dist/control-ui is used, so the lock holds the package alone (see tests/control-ui/README.md).
# npm ci wipes node_modules every time; the stamp makes a second run instant.
control_ui_stamp=tests/control-ui/node_modules/.control-ui-lock.sha256
control_ui_lock=$(sha256sum tests/control-ui/package-lock.json | cut -d' ' -f1)
if [ ! -f tests/control-ui/node_modules/openclaw/dist/control-ui/index.html ] \
    || [ "$(cat "$control_ui_stamp" 2>/dev/null)" != "$control_ui_lock" ]; then
  note "install the OpenClaw Control UI (tests/control-ui)"
  if (cd tests/control-ui && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    echo "$control_ui_lock" > "$control_ui_stamp"
  else
    echo "the Control UI could not be installed; its browser test will fail"
  fi
fi

note "restore and build (Release)"
if ! dotnet build Presence.Actors.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# The samples are a newcomer's first tests of the kit: they run like the project's own.
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
# Both ways of giving clients TLS must render: on the gateway (the default) and behind a trusted proxy.
# Rendered first, then searched: with pipefail, grep -q quitting at its match could fail the pipe with SIGPIPE.
tls_variant=$(PRESENCE_GATEWAY_TOKEN=config-check docker-compose -f docker-compose.yml config) || tls_variant=""
proxy_variant=$(PRESENCE_GATEWAY_TOKEN=config-check PRESENCE_GATEWAY_TLS_AUTO=off PRESENCE_GATEWAY_TRUSTED_PROXIES=172.16.0.0/12 \
  docker-compose -f docker-compose.yml config) || proxy_variant=""
if grep -q 'PRESENCE_GATEWAY_TLS_AUTO: .on' <<<"$tls_variant" \
    && grep -q 'PRESENCE_GATEWAY_TRUSTED_PROXIES: 172.16.0.0/12' <<<"$proxy_variant"; then
  echo "docker-compose config: passed"; passed=$((passed + 1))
else
  echo "docker-compose config: failed"; failed=$((failed + 1)); status=1
fi

# Suites on node's test runner end with its TAP summary ("# pass N", "# fail N"), added to the sum.
run_node_tests() {
  local name=$1; shift
  local log="$results/$name.log" p f
  if ! "$@" 2>&1 | tee "$log"; then
    status=1
  fi
  p=$(grep -E '^# pass [0-9]+' "$log" | tail -1 | grep -o '[0-9]*$')
  f=$(grep -E '^# fail [0-9]+' "$log" | tail -1 | grep -o '[0-9]*$')
  if [ -z "$p" ] && [ -z "$f" ]; then
    echo "$name suite printed no summary"; failed=$((failed + 1)); status=1
  fi
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

# deploy/kubernetes is validated offline against the Kubernetes schemas (kubernetes-models) and the gateway's rules.
note "deploy/kubernetes: manifests validated offline"
run_node_tests kubernetes tests/kubernetes/run.sh

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

# A bounded fuzzing pass over both targets, half the time each: the parser, validators and merge, seeded with the
# captured frames; and the transport's handshake reading and frame decoding (one "passed" per target).
run_counted fuzz dotnet fuzz/Presence.Fuzz/bin/Release/net10.0/Presence.Fuzz.dll run --seconds 30 --crashes "$root/artifacts/fuzz/crashes"

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
  run_node_tests compat tests/compat/run.sh
fi

[ "$failed" -gt 0 ] && status=1
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
