#!/usr/bin/env bash
# Regenerates the committed protobuf Go code with pinned tools:
#   protoc          Debian's protobuf-compiler (the version is recorded in each generated file)
#   protoc-gen-go   the version pinned by the `tool` directive in protos/go.mod
# With --check, generates into a temporary tree and fails if it differs from what is committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
mkdir -p bin
# GOWORK=off: the version pinned in protos/go.mod, not whatever another workspace
# module raises google.golang.org/protobuf to.
(cd protos && GOWORK=off go build -o ../bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go)
export PATH="$root/bin:$PATH"

out="$root/protos"
if [ "${1:-}" = "--check" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
	mkdir -p "$out/walpb" "$out/vehiclepb"
fi

gen() { # gen <proto dir> <output dir>
	local src=$1 dst=$2
	[ -d "$src" ] || return 0
	mkdir -p "$dst"
	protoc -I "$src" --go_out="$dst" --go_opt=paths=source_relative "$src"/*.proto
}
gen protos/walproto "$out/walpb"
gen protos/vehicleproto "$out/vehiclepb"

if [ "${1:-}" = "--check" ]; then
	for d in walpb vehiclepb; do
		[ -d "protos/$d" ] || continue
		if ! diff -r "protos/$d" "$out/$d" --exclude='*_test.go' --exclude='doc.go' >/dev/null; then
			echo "generated code in protos/$d is stale: run 'make generate' and commit" >&2
			diff -r "protos/$d" "$out/$d" --exclude='*_test.go' --exclude='doc.go' | head -20 >&2
			exit 1
		fi
	done
	echo "generated code is up to date"
fi
