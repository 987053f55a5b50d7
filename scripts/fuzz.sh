#!/usr/bin/env bash
# Runs every fuzz target of the workspace, one after another, for FUZZTIME each
# (default 30s). New failing inputs land in the package's testdata/fuzz/ and
# must be committed with their fix.
#   scripts/fuzz.sh 10m            every target for 10 minutes
#   scripts/fuzz.sh 1m FuzzDecode  only targets whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-30s}
filter=${2:-.}
parallel=${FUZZ_PARALLEL:-1}

mapfile -t targets < <(grep -rlE '^func Fuzz[A-Za-z0-9_]*\(' --include='*_test.go' wal protos shared gateway forwarder test |
	while read -r f; do
		dir=$(dirname "$f")
		grep -oE '^func (Fuzz[A-Za-z0-9_]*)\(' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(/\1/' | sed "s|^|./$dir |"
	done | sort -u | grep -E " .*${filter}")

if ((${#targets[@]} == 0)); then
	echo "no fuzz targets match '$filter'" >&2
	exit 1
fi
# Go's fuzz coordinator can end a time-bounded run with "context deadline
# exceeded" although no input failed (golang/go#75804). A run counts as failed
# only when it wrote a new failing input to testdata/fuzz/ or failed otherwise.
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
	read -r dir name <<<"$t"
	echo "== $name ($dir) for $fuzztime"
	before=$(git status --porcelain --untracked-files=all -- "$dir/testdata/fuzz/$name" | wc -l)
	if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -parallel="$parallel" "$dir" 2>&1 | tee "$log"; then
		continue
	fi
	after=$(git status --porcelain --untracked-files=all -- "$dir/testdata/fuzz/$name" | wc -l)
	if [ "$after" = "$before" ] && grep -q 'context deadline exceeded' "$log" && ! grep -q -- '--- FAIL' "$log"; then
		echo "note: $name ended with the fuzz coordinator's deadline error and no failing input; counted as passed"
		continue
	fi
	echo "FAIL: $name in $dir" >&2
	failed=1
done
exit $failed
