#!/usr/bin/env bash
# bench.sh: the gateway (fsync on every group commit) against the trivial
# ack server, same simulator, same machine, alternating runs. For each
# window (default 1 and 8): RUNS runs of MEASURE seconds after WARMUP
# seconds against each server. Prints per run: acked records/s, ack latency
# p50/p99 (ms), server CPU seconds in the measured period, and for the
# gateway its peak RSS; then the medians and the gateway/ack-server ratios.
#
#   gateway/bench/bench.sh
#   VEHICLES=50 WINDOWS="1 8" RUNS=3 MEASURE=10 WARMUP=2 gateway/bench/bench.sh
set -euo pipefail

VEHICLES=${VEHICLES:-50}
WINDOWS=${WINDOWS:-"1 8"}
RUNS=${RUNS:-3}
MEASURE=${MEASURE:-10}
WARMUP=${WARMUP:-2}
PORT=${PORT:-14453}
PARTITIONS=${PARTITIONS:-1}
# NOSYNC=true turns fsync off (wal.no_sync), to separate the disk's share of
# the latency from the gateway's own work. Never for production figures.
NOSYNC=${NOSYNC:-false}

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
srv_pid=""
cleanup() {
  if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$root/shared" && go build -o "$work/" ./cmd/devpki)
(cd "$root/test" && go build -o "$work/" ./cmd/ackserver ./cmd/vehiclesim)
(cd "$root/gateway" && go build -o "$work/" ./cmd/gateway)
"$work/devpki" -dir "$work/pki" -vehicles "$VEHICLES" >/dev/null

write_config() {
  cat >"$work/gateway.json" <<JSON
{
  "host": "127.0.0.1", "port": $PORT, "log_level": "warn", "json_log_enable": true,
  "tls": {"server_cert": "$work/pki/server.crt", "server_key": "$work/pki/server.key", "ca_file": "$work/pki/ca.crt"},
  "records": {"V": ["logger"], "alerts": ["logger"], "errors": ["logger"], "connectivity": ["logger"]},
  "wal": {"dir": "$work/wal", "partitions": $PARTITIONS, "no_sync": $NOSYNC},
  "monitoring": {"prometheus_metrics_port": $((PORT + 1))}
}
JSON
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
tck=$(getconf CLK_TCK)

start_server() { # kind
  if [ "$1" = ack ]; then
    "$work/ackserver" -addr "127.0.0.1:$PORT" -pki "$work/pki" >"$work/srv.out" 2>&1 &
  else
    rm -rf "$work/wal"; write_config
    "$work/gateway" -config "$work/gateway.json" >"$work/srv.out" 2>&1 &
  fi
  srv_pid=$!
  for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return; sleep 0.1; done
  echo "server did not start:"; cat "$work/srv.out"; exit 1
}

# run KIND WINDOW: prints "rate p50 p99 cpu hwm"
run() {
  start_server "$1"
  "$work/vehiclesim" -url "wss://127.0.0.1:$PORT/" -pki "$work/pki" -vehicles "$VEHICLES" -window "$2" \
    -duration "$((WARMUP + MEASURE))s" -warmup "${WARMUP}s" -json >"$work/sim.json" &
  local sim=$!
  sleep "$WARMUP"
  local c0; c0=$(cpu_ticks "$srv_pid")
  wait "$sim"
  local c1 hwm; c1=$(cpu_ticks "$srv_pid"); hwm=$(hwm_kib "$srv_pid")
  if [ "$1" = gateway ]; then wal_stats >&2; fi
  kill -TERM "$srv_pid"; wait "$srv_pid" || true; srv_pid=""
  local line; line=$(tail -n 1 "$work/sim.json")
  echo "$(jq -r '.acked_per_sec | floor' <<<"$line") $(jq -r '.latency_ms.p50' <<<"$line") $(jq -r '.latency_ms.p99' <<<"$line") $(echo "scale=2; ($c1 - $c0) / $tck" | bc) $((hwm / 1024))"
}

# wal_stats: records per group commit and mean commit (write+fsync) time.
wal_stats() {
  curl -s "http://127.0.0.1:$((PORT + 1))/metrics" | awk '
    /^fleetrelay_wal_batch_records_sum/ {rs += $2} /^fleetrelay_wal_batch_records_count/ {rc += $2}
    /^fleetrelay_wal_fsync_duration_seconds_sum/ {fs += $2} /^fleetrelay_wal_fsync_duration_seconds_count/ {fc += $2}
    END { if (rc && fc) printf "#   wal: %d commits, %.1f records/commit, %.2f ms/commit\n", rc, rs / rc, 1000 * fs / fc }'
}

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# vehicles=$VEHICLES measure=${MEASURE}s warmup=${WARMUP}s runs=$RUNS partitions=$PARTITIONS no_sync=$NOSYNC"
printf '%-6s %-8s %-3s %9s %8s %8s %8s %8s\n' window server run acked/s p50_ms p99_ms cpu_s rss_mib
for w in $WINDOWS; do
  declare -A rate p99
  rate=([ack]="" [gateway]=""); p99=([ack]="" [gateway]="")
  for r in $(seq 1 "$RUNS"); do
    for kind in ack gateway; do
      read -r rt l50 l99 cpu mib <<<"$(run "$kind" "$w")"
      rate[$kind]+="$rt "; p99[$kind]+="$l99 "
      printf '%-6s %-8s %-3s %9s %8s %8s %8s %8s\n' "$w" "$kind" "$r" "$rt" "$l50" "$l99" "$cpu" "$mib"
    done
  done
  ra=$(median ${rate[ack]}); rg=$(median ${rate[gateway]}); pa=$(median ${p99[ack]}); pg=$(median ${p99[gateway]})
  echo "window=$w median acked/s ack=$ra gateway=$rg ratio=$(echo "scale=2; $rg / $ra" | bc)  median p99_ms ack=$pa gateway=$pg ratio=$(echo "scale=2; $pg / $pa" | bc)"
done
