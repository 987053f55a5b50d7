#!/usr/bin/env bash
# bench-sim.sh: the vehicle simulator's ceiling against the trivial ack
# server on this machine. Both run as separate processes on 127.0.0.1; for
# each window (default 1 and 8) the script runs RUNS measured runs of
# MEASURE seconds after WARMUP seconds, each against a fresh ack server, and prints every
# run and the median. Figures: acked records/s, ack latency percentiles,
# CPU seconds used by each process in the measured period, and records per
# simulator CPU-second (the rate one core of simulator could offer).
#
#   test/scripts/bench-sim.sh                  # 50 vehicles, windows 1 and 8, 3 runs of 15 s + 3 s warm-up
#   VEHICLES=10 WINDOWS="4" RUNS=1 MEASURE=5 WARMUP=1 test/scripts/bench-sim.sh
set -euo pipefail

VEHICLES=${VEHICLES:-50}
WINDOWS=${WINDOWS:-"1 8"}
RUNS=${RUNS:-3}
MEASURE=${MEASURE:-15}
WARMUP=${WARMUP:-3}
ADDR=${ADDR:-127.0.0.1:14443}

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
ack_pid=""
cleanup() {
  if [ -n "$ack_pid" ]; then kill "$ack_pid" 2>/dev/null || true; wait "$ack_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$root/shared" && go build -o "$work/" ./cmd/devpki)
(cd "$root/test" && go build -o "$work/" ./cmd/ackserver ./cmd/vehiclesim)
"$work/devpki" -dir "$work/pki" -vehicles "$VEHICLES" >/dev/null

# median N...: the median of integers.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# cpu_ticks PID: user+system clock ticks of a process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# vehicles=$VEHICLES measure=${MEASURE}s warmup=${WARMUP}s runs=$RUNS"
printf '%-6s %-3s %10s %8s %8s %8s %9s %9s %14s\n' window run acked/s p50_ms p90_ms p99_ms sim_cpu ack_cpu sent/sim_cpu_s
for w in $WINDOWS; do
  rates=()
  per_cpu=()
  for r in $(seq 1 "$RUNS"); do
    "$work/ackserver" -addr "$ADDR" -pki "$work/pki" >"$work/ack.out" 2>&1 &
    ack_pid=$!
    sleep 0.5
    "$work/vehiclesim" -url "wss://$ADDR/" -pki "$work/pki" -vehicles "$VEHICLES" -window "$w" \
      -duration "$((WARMUP + MEASURE))s" -warmup "${WARMUP}s" -json >"$work/sim.json" &
    sim_pid=$!
    sleep "$WARMUP"
    ack_start=$(cpu_ticks "$ack_pid")
    wait "$sim_pid"
    ack_end=$(cpu_ticks "$ack_pid")
    kill -INT "$ack_pid"; wait "$ack_pid" || true; ack_pid=""
    ack_cpu=$(echo "scale=2; ($ack_end - $ack_start) / $tck" | bc)
    line=$(tail -n 1 "$work/sim.json")
    rate=$(jq -r '.acked_per_sec | floor' <<<"$line")
    rates+=("$rate")
    per_cpu+=("$(jq -r '.sent_per_cpu_sec | floor' <<<"$line")")
    printf '%-6s %-3s %10s %8s %8s %8s %9s %9s %14s\n' "$w" "$r" "$rate" \
      "$(jq -r '.latency_ms.p50' <<<"$line")" "$(jq -r '.latency_ms.p90' <<<"$line")" "$(jq -r '.latency_ms.p99' <<<"$line")" \
      "$(jq -r '.cpu_sec * 100 | floor / 100' <<<"$line")" "$ack_cpu" "$(jq -r '.sent_per_cpu_sec | floor' <<<"$line")"
  done
  echo "window=$w median acked/s: $(median "${rates[@]}")  median sent/sim_cpu_s: $(median "${per_cpu[@]}")"
done
