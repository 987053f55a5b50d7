#!/usr/bin/env bash
# `make run`: the whole system on this machine with development defaults.
#   1. a development PKI in .run/pki (a Tesla-shaped CA, a server certificate
#      for localhost, one client certificate per simulated vehicle)
#   2. the gateway (configs/dev.json: wss://127.0.0.1:4443/, WAL in .run/wal)
#   3. a forwarder delivering every topic to the JSON logger sink (stdout)
#   4. a few simulated vehicles driving and streaming telemetry
# Ctrl-C stops everything cleanly (SIGTERM to each process, then waits).
# Environment: VEHICLES (default 3), RATE records/s per vehicle (default 2),
# CONFIG (default configs/dev.json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

vehicles=${VEHICLES:-3}
rate=${RATE:-2}
config=${CONFIG:-configs/dev.json}
run=.run
mkdir -p "$run/logs"

bin/devpki -dir "$run/pki" -vehicles "$vehicles" >/dev/null

pids=()
stop_all() {
	trap - INT TERM EXIT
	echo
	echo "stopping: vehicles, gateway, forwarder"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	echo "stopped; WAL kept in $run/wal (inspect with: bin/walctl info -dir $run/wal)"
}
trap stop_all INT TERM EXIT

wait_port() { # wait_port host:port seconds
	local hp=$1 deadline=$((SECONDS + $2))
	until (exec 3<>"/dev/tcp/${hp%:*}/${hp#*:}") 2>/dev/null; do
		if ((SECONDS > deadline)); then
			echo "nothing listening on $hp; see $run/logs/" >&2
			exit 1
		fi
		sleep 0.1
	done
}

bin/gateway -config "$config" 2>"$run/logs/gateway.log" &
pids+=($!)
wait_port 127.0.0.1:4443 20
echo "gateway  wss://127.0.0.1:4443/  (log: $run/logs/gateway.log, metrics: http://127.0.0.1:9273/metrics)"

bin/forwarder -config "$config" 2>"$run/logs/forwarder.log" &
pids+=($!)
echo "forwarder -> logger sink on stdout (log: $run/logs/forwarder.log)"

bin/vehiclesim -url wss://127.0.0.1:4443/ -pki "$run/pki" -vehicles "$vehicles" -rate "$rate" \
	-report-interval 10s 2>"$run/logs/vehiclesim.log" >"$run/logs/vehiclesim.out" &
pids+=($!)
echo "vehicles: $vehicles simulated, $rate records/s each (report: $run/logs/vehiclesim.out)"
echo "Ctrl-C to stop."
echo
wait -n "${pids[@]}" || true
