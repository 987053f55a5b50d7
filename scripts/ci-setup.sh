#!/usr/bin/env bash
# Installs and starts what `make test` needs on a fresh machine of this kind
# (Debian 12 with Go, Node.js, Mosquitto). Idempotent: safe to run every time.
#   protobuf-compiler  protoc, for the generated-code freshness check
#   libprotobuf-dev    the well-known .proto files protoc imports (timestamp.proto);
#                      only a recommendation of protobuf-compiler, so named here
#   mosquitto          the MQTT sink's real broker (tests start their own listeners)
#   kinesalite         Kinesis emulator (npm), started by the Kinesis tests and test/sinkkill
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

need=()
command -v protoc >/dev/null || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/timestamp.proto ] || need+=(libprotobuf-dev)
command -v mosquitto >/dev/null || need+=(mosquitto)
if ((${#need[@]})); then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

kdir="$root/.cache/kinesalite"
if [ ! -f "$kdir/node_modules/kinesalite/index.js" ]; then
	mkdir -p "$kdir"
	npm install --prefix "$kdir" --no-audit --no-fund --silent kinesalite@3.3.3 >/dev/null
fi
echo "tools ready: $(protoc --version), mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), kinesalite 3.3.3"
