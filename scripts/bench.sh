#!/usr/bin/env bash
# bench.sh: fleetrelay's measured benchmark run. Writes docs/BENCHMARKS.md
# and the raw outputs and chart under docs/bench/ (test/cmd/benchreport does
# the work). `make bench` builds the binaries first and calls this script.
#
#   make bench                          # full run, about 15-20 minutes on 2 cores
#   BENCH_QUICK=1 make bench            # quick run, about 3 minutes: checks the machinery
#   BENCH_ONLY=ingest,curve make bench  # some sections: ingest curve e2e idle wal delivery codec
#
# Environment:
#   BENCH_QUICK=1      short runs, 1 run per figure, 1,000 idle connections
#   BENCH_RUNS=N       ingest runs per server and window (default 3; quick 1)
#   BENCH_COUNT=N      go test -count of the micro-benchmarks (default 3; quick 1)
#   BENCH_IDLE=N       idle connections for the memory figure (default 10000; quick 1000)
#   BENCH_ONLY=LIST    comma-separated sections to run (the report shows the others as not run)
#   BENCH_DOCS=DIR     where BENCHMARKS.md and bench/ go (default docs)
#
# Run it on a quiet machine: the gateway, the ack server and the simulator
# share the CPUs, and the figures move with anything else running.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The idle-connection measurement needs a descriptor per connection in
# both the gateway and the simulator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

export CGO_ENABLED=1
mkdir -p bin
# Up to date binaries (a no-op after `make build`).
go build -o bin/ ./gateway/cmd/gateway ./forwarder/cmd/forwarder ./test/cmd/ackserver ./test/cmd/vehiclesim ./test/cmd/kfakesrv \
  ./shared/cmd/devpki ./test/cmd/benchreport

args=()
recorded="scripts/bench.sh"
for var in BENCH_QUICK BENCH_RUNS BENCH_COUNT BENCH_IDLE BENCH_ONLY; do
  if [ -n "${!var:-}" ]; then recorded="$var=${!var} $recorded"; fi
done
if [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ]; then args+=(-quick); fi
if [ -n "${BENCH_RUNS:-}" ]; then args+=(-runs "$BENCH_RUNS"); fi
if [ -n "${BENCH_COUNT:-}" ]; then args+=(-count "$BENCH_COUNT"); fi
if [ -n "${BENCH_IDLE:-}" ]; then args+=(-idle "$BENCH_IDLE"); fi
if [ -n "${BENCH_ONLY:-}" ]; then args+=(-only "$BENCH_ONLY"); fi
if [ -n "${BENCH_DOCS:-}" ]; then args+=(-docs "$BENCH_DOCS"); fi

echo "# open-file limit $(ulimit -n); load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec bin/benchreport -root "$root" -command "$recorded (open-file limit $(ulimit -n))" "${args[@]}"
