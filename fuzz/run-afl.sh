#!/usr/bin/env bash
# The full fuzzing run: AFL++ driving the SharpFuzz target of fuzz/Presence.Fuzz, with
# Presence.Gateway.dll and Presence.Actors.dll instrumented for coverage, seeded with every
# client frame of shared/spec/captures. Stops after EXECS executions or SECONDS seconds,
# whichever comes first, then replays every crash and hang it saved through the target.
#
#   fuzz/run-afl.sh [EXECS] [SECONDS]      (defaults: 1100000 executions, 3600 s)
#
# Installs what it needs (Debian's afl++, the sharpfuzz dotnet tool). Runs at low priority,
# on a private copy of the build output so that concurrent builds cannot swap the instrumented
# assemblies underneath it. Findings land in artifacts/fuzz/afl/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
execs=${1:-1100000}
seconds=${2:-3600}
work="$root/artifacts/fuzz"
bin="$work/bin"

if ! command -v afl-fuzz >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q afl++
fi
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v sharpfuzz >/dev/null; then
  dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0
fi

nice -n 10 dotnet build fuzz/Presence.Fuzz -c Release -nologo -clp:ErrorsOnly
rm -rf "$bin" "$work/afl" "$work/seeds" && mkdir -p "$bin"
cp -r fuzz/Presence.Fuzz/bin/Release/net10.0/. "$bin/"
# Only the code under test gets coverage probes; the harness and the framework stay as built.
sharpfuzz "$bin/Presence.Gateway.dll"
sharpfuzz "$bin/Presence.Actors.dll"

dotnet "$bin/Presence.Fuzz.dll" seeds "$work/seeds"
dotnet "$bin/Presence.Fuzz.dll" dict "$work/frames.dict"

# The target is the dotnet host, not an afl-instrumented binary; SharpFuzz speaks the fork
# server protocol itself and runs every input in one process (persistent mode). A 64 KiB
# input cap matches the gateway's pre-handshake frame bound; -t is generous because the
# first execution pays for JIT.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 \
  AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
started=$(date +%s)
nice -n 10 afl-fuzz -i "$work/seeds" -o "$work/afl" -x "$work/frames.dict" -G 65536 \
  -t 5000 -m none -E "$execs" -V "$seconds" \
  -- "$(command -v dotnet)" "$bin/Presence.Fuzz.dll" afl | tee "$work/afl.log" | grep -E 'execs_done|Fuzzing test case|All done|PROGRAM ABORT|crash' || true
echo "afl-fuzz ran $(( $(date +%s) - started )) s"

stats="$work/afl/default/fuzzer_stats"
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg|stability)' "$stats"

status=0
for kind in crashes hangs; do
  dir="$work/afl/default/$kind"
  if compgen -G "$dir/id:*" >/dev/null; then
    echo "== $kind, replayed through the target"
    dotnet "$bin/Presence.Fuzz.dll" replay "$dir" || status=1
  fi
done
exit $status
