#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - `make bench`: boot the test VM, run tools/bench/bench in it, and
# keep the results on the host.
#
#   tools/bench/run.sh [--kernel 6.1|6.12]... [--out DIR] [-- BENCH-ARGS...]
#
# Default: the 6.12 kernel, results in .cache/bench/<date-time>/:
#   bench-<kernel>.txt   the whole output
#   summary.csv          one row per "bench:" result line of every kernel
# The "bench:" lines are also printed at the end. Absolute nanoseconds of an
# emulated guest are only comparable within one run: read the ratios.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
kernels=()
out=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels+=("$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.12)
out=${out:-$top/.cache/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

if [ ! -x "$here/bench" ]; then
	echo "run.sh: $here/bench is not built (make tools)" >&2
	exit 1
fi

cd "$top"
rc=0
for k in "${kernels[@]}"; do
	echo "== bench on $k ($(date +%T)) =="
	if ! tools/vm/run --kernel "$k" -- tools/bench/bench "$@" \
		| tee "$out/bench-$k.txt"; then
		echo "run.sh: the bench failed on $k" >&2
		rc=1
	fi
done

# summary.csv: kernel,op,size,median_ns,p99_ns,batches,verified / ratios.
{
	echo "kernel,kind,name,size,median_ns,p99_ns,batches,verified,value,goal,met"
	for k in "${kernels[@]}"; do
		f=$out/bench-$k.txt
		[ -f "$f" ] || continue
		awk -v k="$k" '
		function get(key,   i, kv) {
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key)
					return kv[2]
			}
			return ""
		}
		$1 == "bench:" && $2 == "ratio" {
			printf "%s,ratio,%s,%s,,,,,%s,%s,%s\n", k, $3,
				get("size"), get("value"), get("goal"), get("met")
			next
		}
		$1 == "bench:" && $3 ~ /^size=/ {
			printf "%s,op,%s,%s,%s,%s,%s,%s,,,\n", k, $2,
				get("size"), get("median_ns"), get("p99_ns"),
				get("batches"), get("verified")
		}' "$f"
	done
} > "$out/summary.csv"

echo
echo "== summary (results in ${out#$top/}) =="
grep -h '^bench: ratio\|^bench: kernel' "$out"/bench-*.txt || true
exit $rc
