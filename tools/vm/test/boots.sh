#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/test/boots.sh [-n N] [-j J] KERNEL...: boot each kernel N times
# (default 200) with respool loaded and run `true`, J boots at a time
# (default 1), and count what happened: booted, boots the runner retried
# (a guest that died before respool was loaded), and failures. Not part of
# make check (200 boots take about 15 minutes per kernel); it measures how
# often the emulator's boot hazards strike. The guest log of every failed
# or retried boot is kept in .cache/results/boots-KERNEL/.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
n=200
jobs=1
while getopts n:j: o; do
	case $o in
	n) n=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) echo "usage: boots.sh [-n N] [-j J] KERNEL..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 6.1 6.12

# One boot: prints "ok", "retried" or "failed RC".
boot() { # kernel index dir
	local k=$1 i=$2 d=$3 rc=0
	RESPOOL_VM_RETRY_LOG=$d/retries.$i RESPOOL_VM_LOG=$d/log.$i \
		"$REPO/tools/vm/run" --kernel "$k" --timeout 600 -- true \
		>"$d/out.$i" 2>&1 </dev/null || rc=$?
	if [ $rc -ne 0 ]; then
		echo "failed $rc"
	elif [ -s "$d/retries.$i" ]; then
		echo "retried"
	else
		echo "ok"
		rm -f "$d/log.$i" "$d/out.$i"
	fi
	rm -f "$d/retries.$i"
}
export -f boot
export REPO

total_fail=0
for k in "$@"; do
	d=$REPO/.cache/results/boots-$k
	rm -rf "$d"
	mkdir -p "$d"
	t0=$(date +%s)
	seq "$n" | xargs -P "$jobs" -I{} bash -c 'echo "{} $(boot "$0" {} "$1")"' "$k" "$d" \
		>"$d/results"
	secs=$(($(date +%s) - t0))
	ok=$(grep -c ' ok$' "$d/results")
	retried=$(grep -c ' retried$' "$d/results")
	failed=$(grep -c ' failed' "$d/results")
	echo "boots $k: $n in ${secs}s: $ok ok, $retried retried (then ok), $failed failed"
	grep -h '^tools/vm/run: boot retried' "$d"/out.* 2>/dev/null | sed 's/^/  /'
	grep ' failed' "$d/results" | sed 's/^/  boot /'
	total_fail=$((total_fail + failed))
done
[ "$total_fail" -eq 0 ]
