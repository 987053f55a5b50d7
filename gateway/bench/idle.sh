#!/usr/bin/env bash
# idle.sh: gateway memory per idle vehicle connection. Starts the gateway,
# notes its RSS, connects CONNS vehicles (one certificate each) that send
# almost nothing, and once they are all connected reports RSS and
# (RSS - baseline) / connections.
#
#   CONNS=2000 gateway/bench/idle.sh
set -euo pipefail

CONNS=${CONNS:-2000}
SETTLE=${SETTLE:-30}
PORT=${PORT:-14463}

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

(cd "$root/shared" && go build -o "$work/" ./cmd/devpki)
(cd "$root/test" && go build -o "$work/" ./cmd/vehiclesim)
(cd "$root/gateway" && go build -o "$work/" ./cmd/gateway)
"$work/devpki" -dir "$work/pki" -vehicles "$CONNS" >/dev/null

cat >"$work/gateway.json" <<JSON
{
  "host": "127.0.0.1", "port": $PORT, "log_level": "warn",
  "tls": {"server_cert": "$work/pki/server.crt", "server_key": "$work/pki/server.key", "ca_file": "$work/pki/ca.crt"},
  "records": {"V": ["logger"]},
  "wal": {"dir": "$work/wal", "partitions": 1},
  "monitoring": {"prometheus_metrics_port": $((PORT + 1)), "profiler_port": $((PORT + 2))},
  "gateway": {"max_connections": $((CONNS + 100))}
}
JSON
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
metric() { curl -s "http://127.0.0.1:$((PORT + 1))/metrics" | awk -v m="$1" '$1 == m {printf "%d\n", $2}'; }

"$work/gateway" -config "$work/gateway.json" 2>"$work/gateway.log" &
gw=$!; pids+=("$gw")
sleep 2
base=$(rss_kib "$gw")
"$work/vehiclesim" -url "wss://127.0.0.1:$PORT/" -pki "$work/pki" -vehicles "$CONNS" -rate 0.001 -window 1 \
  -duration "$((SETTLE + 60))s" -json >"$work/sim.json" 2>"$work/sim.log" &
pids+=("$!")
for _ in $(seq "$SETTLE"); do
  sleep 1
  conns=$(metric fleetrelay_gateway_connections); conns=${conns:-0}
  if [ "$conns" -ge "$CONNS" ]; then break; fi
done
sleep 5
rss0=$(rss_kib "$gw")
# The handshakes left garbage: collect it (pprof's gc=1) and give the
# runtime's scavenger time to return freed pages, to see the steady state.
curl -s -o /dev/null "http://127.0.0.1:$((PORT + 2))/debug/pprof/heap?gc=1"
sleep "${SCAVENGE:-20}"
rss=$(rss_kib "$gw"); conns=$(metric fleetrelay_gateway_connections)
heap=$(metric go_memstats_heap_inuse_bytes); stacks=$(metric go_memstats_stack_inuse_bytes)
echo "# $(date -u +%FT%TZ) load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "connections=$conns baseline_rss_kib=$base rss_after_connect_kib=$rss0 ($(( (rss0 - base) / conns )) KiB/conn) rss_after_gc_kib=$rss ($(( (rss - base) / conns )) KiB/conn)"
if [ -n "${HEAP_PROFILE:-}" ]; then curl -s -o "$HEAP_PROFILE" "http://127.0.0.1:$((PORT + 2))/debug/pprof/heap?gc=1"; cp "$work/gateway" "$HEAP_PROFILE.bin"; fi
echo "heap_inuse_kib=$((heap / 1024)) stack_inuse_kib=$((stacks / 1024)) goroutines=$(metric go_goroutines)"
