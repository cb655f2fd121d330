#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - `make bench`: boot the test VM, run the benchmarks in it, and
# keep the results, tables and plots on the host.
#
#   tools/bench/run.sh [--kernel 6.1|6.12]... [--out DIR] [--quick]
#                      [--no-kmod] [--handoff-only] [--isolation-only]
#                      [--share-only] [--fast-only]
#                      [--reuse]
#                      [-- BENCH-ARGS...]
#
# Default: both kernels, 6.1 then 6.12, results in .cache/bench/<date-time>/:
#   bench-K.txt, kbench-K.txt  whole output of the userspace and in-kernel runs
#   table-K.txt, table-K.csv   median ns per operation, sizes x columns
#   results.csv                every measurement line of every kernel
#   ratios.csv                 every ratio, with goal and met where one applies
#   targets.txt                the targets of issues 7, 15, 16, 17, met=yes|no
#   *.dat, *.png               growth, handoff and fairness curves (gnuplot)
# The share phase (issue 16: a buffer passed from a producer to a consumer
# process as an fd, respool export vs the dma-buf system heap vs memfd)
# prints its own table, in microseconds per message; --share-only runs only
# that phase (a few seconds per size).
# The fast path phases (issue 17) print their own tables too: "cycle", ns
# per alloc+touch+free cycle of librespool with the fast path (a hit),
# without it (RESPOOL_FASTPATH=0, today's ALLOC, mmap, munmap, FREE),
# malloc/free and anonymous mmap, on 1 and 2 threads, with the ratios
# fast/malloc, today/fast, fast/anon; "takeback", us until a waiter holds
# a block handed to it by a FREE, taken back from another client's
# magazine, or already free. --fast-only runs only those two phases (a
# minute or so per kernel).
# The "bench:" lines of the summary are printed at the end. Absolute
# nanoseconds of an emulated guest are only comparable within one run: read
# the ratios. --quick shortens every phase (a smoke test, not a result);
# --handoff-only runs only the handoff curves, userspace and in-kernel (a
# minute or so); --isolation-only only the pools' isolation (issue 15: the
# p50/p99 ALLOC wait in pool A alone, with pool B saturated, and with the
# same load in A itself, about 10 s); --reuse --out DIR redoes the
# tables, plots and targets from DIR's outputs.
#
# The handoff target (growth_handoff) reads the in-kernel "khandoff" curve:
# the pool's own work per handoff with N waiters queued. The userspace
# curves (FREE to the head waiter's ALLOC returning, under SCHED_OTHER and
# SCHED_FIFO, the giver's FREE alone, and the eventfd baton control) are
# in the same plot as context: they are mostly the scheduler's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
kernels=()
out=
quick=0
kmod=1
reuse=0
handoff_only=0
isolation_only=0
share_only=0
fast_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels+=("$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--no-kmod) kmod=0; shift ;;
	--handoff-only) handoff_only=1; shift ;;
	--isolation-only) isolation_only=1; kmod=0; shift ;;
	--share-only) share_only=1; kmod=0; shift ;;
	--fast-only) fast_only=1; kmod=0; shift ;;
	--reuse) reuse=1; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '4,45p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
out=${out:-$top/.cache/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ ! -x "$here/bench" ]; then
	echo "run.sh: $here/bench is not built (make tools)" >&2
	exit 1
fi
bench_args=("$@")
kmod_args=()
if [ $quick = 1 ]; then
	bench_args=(--budget-ms 60 --handoff-max 100 --fair-ms 1000 --iso-ms 400 "${bench_args[@]}")
	kmod_args=(pairs=2000 max_live=10000 max_sizes=100 wake_samples=20)
fi
if [ $handoff_only = 1 ]; then
	bench_args=(--phases handoff "${bench_args[@]}")
	kmod_args+=(compare=0 growth=0)
fi
if [ $isolation_only = 1 ]; then
	bench_args=(--phases isolation "${bench_args[@]}")
fi
if [ $share_only = 1 ]; then
	bench_args=(--phases share "${bench_args[@]}")
fi
if [ $fast_only = 1 ]; then
	bench_args=(--phases cycle,takeback "${bench_args[@]}")
fi

# gnuplot-nox for the plots: install it if missing (root only).
if ! command -v gnuplot >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "run.sh: installing gnuplot-nox" >&2
		apt-get install -y --no-install-recommends gnuplot-nox >&2 ||
			echo "run.sh: gnuplot-nox could not be installed: no plots" >&2
	else
		echo "run.sh: gnuplot missing and not root: no plots" >&2
	fi
fi

cd "$top"
rc=0
for k in "${kernels[@]}"; do
	[ $reuse = 0 ] || break
	echo "== bench on $k ($(date +%T)) =="
	if ! tools/vm/run --kernel "$k" -- tools/bench/bench "${bench_args[@]}" \
		| tee "$out/bench-$k.txt"; then
		echo "run.sh: the bench failed on $k" >&2
		rc=1
	fi
	[ $kmod = 1 ] || continue
	echo "== in-kernel bench on $k ($(date +%T)) =="
	if ! ko=$(tools/bench/kmod/build.sh "$k" 2>"$out/kbuild-$k.log" | tail -n1) ||
		[ ! -f "$ko" ]; then
		echo "run.sh: building the bench module for $k failed (see kbuild-$k.log)" >&2
		rc=1
		continue
	fi
	# Its own VM, without respool.ko: the bench module links its own copy
	# of the pool core, with the same tracepoint names.
	if ! tools/vm/run --kernel "$k" --no-module --mem 2G -- bash -c '
		rmmod respool 2>/dev/null || true
		insmod "$0" "${@:1}" || exit 1
		dmesg -t | grep "^bench: "
		rmmod respool_bench' "$ko" "${kmod_args[@]}" | tee "$out/kbench-$k.txt"; then
		echo "run.sh: the in-kernel bench failed on $k" >&2
		rc=1
	fi
done

# ---- tables and CSV --------------------------------------------------------
for k in "${kernels[@]}"; do
	f=$out/bench-$k.txt
	[ -f "$f" ] || continue
	sed -n '/^== table ==$/,/^== end table ==$/p' "$f" >"$out/table-$k.txt"
	sed -n 's/^bench-csv: //p' "$f" >"$out/table-$k.csv"
	# No table when only the handoff or fairness phases ran.
	[ -s "$out/table-$k.txt" ] || rm -f "$out/table-$k.txt" "$out/table-$k.csv"
done

# key=value fields of the "bench:" lines, as CSV.
tocsv='
function get(key,   i, kv) {
	for (i = 3; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == key)
			return kv[2]
	}
	return ""
}'
{
	echo "kernel,source,name,size,threads,point,median_ns,p99_ns,ops_per_s,verified"
	for k in "${kernels[@]}"; do
		for src in bench kbench; do
			f=$out/$src-$k.txt
			[ -f "$f" ] || continue
			awk -v k="$k" -v src="$src" "$tocsv"'
			$1 == "bench:" && $2 != "ratio" && $3 ~ /^(size|queue)=/ {
				pt = get("live") get("free") get("sizes") get("queue")
				ops = get("ops_per_s") get("pairs_per_s")
				th = get("threads"); if (th == "") th = 1
				printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", k, src, $2,
					get("size"), th, pt, get("median_ns"),
					get("p99_ns"), ops, get("verified") get("misses")
			}' "$f"
		done
	done
} >"$out/results.csv"
{
	echo "kernel,name,size,threads,value,goal,met"
	for k in "${kernels[@]}"; do
		{ cat "$out/bench-$k.txt" "$out/kbench-$k.txt" 2>/dev/null || true; } |
		awk -v k="$k" "$tocsv"'
		$1 == "bench:" && $2 == "ratio" {
			th = get("threads"); if (th == "") th = 1
			printf "%s,%s,%s,%s,%s,%s,%s\n", k, $3, get("size"), th,
				get("value"), get("goal"), get("met")
		}'
	done
} >"$out/ratios.csv"
cp "$out/results.csv" "$out/summary.csv"

# ---- curves ----------------------------------------------------------------
# One .dat per curve: x, median ns, p99 ns. Prints "bench: ratio growth_..."
# (last point / first point) for each: with goal 1.5 by default, without a
# goal (context, no target) with "info", not at all with "noratio" (the
# bench module prints its own).
curve() { # kernel file op key name [noratio|info]
	local k=$1 f=$2 op=$3 key=$4 dat=$out/$5-$1.dat mode=${6:-}
	[ -f "$f" ] || return 0
	awk -v op="$op" -v key="$key" "$tocsv"'
	$1 == "bench:" && $2 == op && get("median_ns") > 0 {
		print get(key), get("median_ns"), get("p99_ns") }' \
		"$f" >"$dat"
	[ -s "$dat" ] || { rm -f "$dat"; return 0; }
	[ "$mode" != noratio ] || return 0
	awk -v name="$5" -v k="$k" -v info="$mode" 'NR == 1 { first = $2; x0 = $1 } { last = $2; x1 = $1 }
	END {
		if (first <= 0)
			exit
		printf "bench: ratio growth_%s kernel=%s from=%s to=%s value=%.2f", name, k, x0, x1, last / first
		if (info == "info")
			printf "\n"
		else
			printf " goal=1.50 met=%s\n", last / first <= 1.5 ? "yes" : "no"
	}' "$dat"
}
growth=$out/growth.txt
: >"$growth"
for k in "${kernels[@]}"; do
	{
		curve "$k" "$out/kbench-$k.txt" kgrow_live_pcpu live live_pcpu
		curve "$k" "$out/kbench-$k.txt" kgrow_live_reserve live live_reserve
		curve "$k" "$out/kbench-$k.txt" kgrow_free_reserve free free_reserve
		curve "$k" "$out/kbench-$k.txt" kgrow_sizes_reserve sizes sizes_reserve
		# The handoff target: the module prints "ratio growth_handoff".
		curve "$k" "$out/kbench-$k.txt" khandoff queue handoff noratio
		curve "$k" "$out/kbench-$k.txt" khandoff_wake queue handoff_wake noratio
		curve "$k" "$out/kbench-$k.txt" kwake queue kwake noratio
		# Context: end to end in userspace, and its controls. No growth
		# ratio under SCHED_OTHER: at Q = 1 its few handoffs are the
		# ones where wakeup preemption drained the queue (bench.c).
		curve "$k" "$out/bench-$k.txt" handoff queue handoff_e2e noratio
		curve "$k" "$out/bench-$k.txt" handoff_fifo queue handoff_e2e_fifo info
		curve "$k" "$out/bench-$k.txt" handoff_free queue handoff_free noratio
		curve "$k" "$out/bench-$k.txt" handoff_fifo_free queue handoff_free_fifo info
		curve "$k" "$out/bench-$k.txt" baton queue baton info
		curve "$k" "$out/bench-$k.txt" baton_fifo queue baton_fifo info
	} >>"$growth"
	f=$out/bench-$k.txt
	[ -f "$f" ] && awk "$tocsv"'$1 == "bench:" && $2 == "fairness_proc" {
		print get("proc"), get("ops"), get("max_wait_ns") / 1e6 }' "$f" \
		>"$out/fairness-$k.dat"
	[ -s "$out/fairness-$k.dat" ] || rm -f "$out/fairness-$k.dat"
done

if command -v gnuplot >/dev/null; then
	term="pngcairo size 900,560 font ',10'"
	gnuplot -e 'set terminal pngcairo' 2>/dev/null || term="png size 900,560"
	plot() { # dat png title xlabel [control-dat control-title]
		local extra=
		[ -f "$1" ] || return 0
		if [ -n "${5:-}" ] && [ -f "$5" ]; then
			extra=", \"$5\" using 1:2 with linespoints lw 2 pt 5 title \"$6 (median)\""
		fi
		gnuplot <<-EOF || echo "run.sh: gnuplot failed for $2" >&2
		set terminal $term
		set output "$2"
		set title "$3"
		set xlabel "$4"
		set ylabel "ns per operation (log scale)"
		set logscale xy
		set grid
		set key top left
		plot "$1" using 1:2 with linespoints lw 2 pt 7 title "median", \
		     "$1" using 1:3 with lines dt 2 title "p99"$extra
		EOF
	}
	# The in-kernel handoff curves (solid) and the userspace ones (dashed).
	handoff_plot() { # kernel
		local k=$1 series=() spec d
		for spec in \
			"handoff|lw 3 pt 7|in-kernel: the pool's handoff (khandoff, the target)" \
			"handoff_wake|lw 2 pt 5|in-kernel: the same free waking a real waiter" \
			"kwake|lw 1 pt 4|in-kernel control: one wakeup, no pool" \
			"handoff_e2e|dt 2 lw 2 pt 9|userspace: FREE to the head's ALLOC return" \
			"handoff_e2e_fifo|dt 2 lw 2 pt 11|userspace, SCHED_FIFO: the same" \
			"handoff_free_fifo|dt 2 lw 1 pt 13|userspace, SCHED_FIFO: the giver's FREE ioctl" \
			"baton|dt 3 lw 1 pt 6|userspace control: eventfd baton"; do
			d=$out/${spec%%|*}-$k.dat
			[ -f "$d" ] || continue
			spec=${spec#*|}
			series+=("\"$d\" using 1:2 with linespoints ${spec%%|*} title \"${spec#*|}\"")
		done
		[ ${#series[@]} -gt 0 ] || return 0
		gnuplot <<-EOF || echo "run.sh: gnuplot failed for handoff-queue-$k.png" >&2
		set terminal $term
		set output "$out/handoff-queue-$k.png"
		set title "respool ($k): one handoff vs waiters queued (medians)"
		set xlabel "waiters queued"
		set ylabel "ns (log scale)"
		set termoption noenhanced
		set logscale xy
		set grid
		set key outside bottom center vertical maxrows 4 font ',8'
		plot $(IFS=,; echo "${series[*]}")
		EOF
	}
	for k in "${kernels[@]}"; do
		plot "$out/live_pcpu-$k.dat" "$out/growth-live-pcpu-$k.png" \
			"respool ($k): per-CPU hit alloc+free vs blocks in use" "blocks in use"
		plot "$out/live_reserve-$k.dat" "$out/growth-live-reserve-$k.png" \
			"respool ($k): reserve hit alloc+free vs blocks in use" "blocks in use"
		plot "$out/free_reserve-$k.dat" "$out/growth-free-reserve-$k.png" \
			"respool ($k): reserve hit alloc+free vs free blocks in the reserve" "free 4K blocks in the reserve"
		plot "$out/sizes_reserve-$k.dat" "$out/growth-sizes-$k.png" \
			"respool ($k): reserve hit alloc+free vs distinct free sizes" "distinct free sizes in the reserve"
		handoff_plot "$k"
		if [ -f "$out/fairness-$k.dat" ]; then
			gnuplot <<-EOF || true
			set terminal $term
			set output "$out/fairness-$k.png"
			set title "respool ($k): 32 processes on a 4-block pool"
			set xlabel "process"
			set ylabel "allocations"
			set y2label "max wait (ms)"
			set ytics nomirror
			set y2tics
			set yrange [0:*]
			set y2range [0:*]
			set style fill solid 0.5
			plot "$out/fairness-$k.dat" using 1:2 with boxes title "allocations", \
			     "" using 1:3 axes x1y2 with points pt 7 title "max wait (ms)"
			EOF
		fi
	done
fi

# ---- targets of issue 7 ----------------------------------------------------
# One line per target: met=yes when every ratio it covers is met.
target() { # name regexp (on the ratio name) [kernel-file filter]
	local name=$1 re=$2 lines
	lines=$(grep -h "^bench: ratio \($re\) " "$out"/bench-*.txt "$out"/kbench-*.txt "$growth" 2>/dev/null |
		grep ' met=' || true)
	if [ -z "$lines" ]; then
		echo "bench: target $name met=unknown (not measured)"
		return
	fi
	awk -v name="$name" '{ n++; th = ""; for (i = 5; i <= NF; i++) if ($i ~ /^threads=/) th = "/" $i
		for (i = 3; i <= NF; i++) if ($i == "met=no") { bad++; miss = miss (miss ? "," : "") $3 "@" $4 th } }
	END { printf "bench: target %s ratios=%d missed=%d met=%s%s\n", name, n, bad,
		bad ? "no" : "yes", bad ? " missing=" miss : "" }' <<<"$lines"
}
{
	target userspace_pcpu_vs_2xbare_le_1.3 'pcpu_hit/2xbare'
	target userspace_pcpu_faster_than_anon_mmap 'pcpu_hit/anon_mmap\|pcpu_hit_touch/anon_mmap_touch'
	target userspace_pcpu_faster_than_dmaheap 'pcpu_hit/dmaheap_cycle\|pcpu_hit_touch/dmaheap_cycle_touch'
	target kernel_pcpu_le_objpool 'kpcpu/objpool'
	target kernel_pcpu_le_kmem_cache 'kpcpu/kmem_cache'
	target kernel_pcpu_5x_faster_than_alloc_pages 'kpcpu/alloc_pages'
	target growth_le_1.5x 'growth_[a-z_]*'
	target growth_handoff_le_1.5x 'growth_handoff'
	target two_vcpus_ge_1.8x 'pcpu_hit_2thread_scaling\|kpcpu_2cpu_scaling'
	target fairness_jain_ge_0.95 'fairness_jain'
	target fairness_max_wait_le_4x_median 'fairness_max_wait/median_max_wait'
	# Issue 15: a saturated pool leaves another pool's waits as they were.
	target pools_isolated_wait_le_1.5x 'isolation_p[0-9]*_b_saturated/alone'
	# Issue 16: a message through an exported block costs at most half of
	# one through a fresh system-heap dma-buf (64K and 1M; the 4K ratio
	# has no goal). Not measured where the kernel has no dma-buf heaps.
	target share_respool_le_half_dmaheap 'share_respool/dmaheap'
	# Issue 17: a reuse hit costs at most malloc/free and at least 50x
	# less than today's cycle at 4K; a waiter served by a take-back
	# within 2x of one served by a FREE.
	target fast_hit_le_malloc 'cycle_fast/malloc'
	target fast_hit_le_malloc_quiet 'cycle_fast/malloc_quiet\|cycle_fast/malloc_nommap'
	target fast_hit_50x_today_4k 'cycle_today/fast'
	target takeback_le_2x_handoff 'takeback/handoff'
	grep -h "^bench: skip" "$out"/bench-*.txt "$out"/kbench-*.txt 2>/dev/null || true
	# A measurement checks the pool's counters for what it claims to time
	# (hits of the right kind, cleared reuse, queued waiters): list misses.
	{ grep -h "^bench: .* verified=.*(MISMATCH)" "$out"/bench-*.txt "$out"/kbench-*.txt 2>/dev/null || true; } |
		awk '{ n++; bad = bad (bad ? "," : "") $2 "@" $3 }
		END { printf "bench: verified mismatches=%d%s\n", n, n ? " which=" bad : "" }'
} >"$out/targets.txt"

echo
echo "== summary (results in ${out#"$top"/}) =="
grep -h '^bench: kernel' "$out"/bench-*.txt || true
grep -h '^bench: ratio\|^bench: fairness \|^bench: isolation ' "$out"/bench-*.txt "$out"/kbench-*.txt 2>/dev/null || true
for k in "${kernels[@]}"; do
	f=$out/bench-$k.txt
	[ -f "$f" ] && grep -q '^share: us per message' "$f" || continue
	echo "share on $k:"
	sed -n '/^share: us per message/,/^$/p' "$f" | sed '1d;/^$/d'
done
# The fast path tables: the column lines, then the figures.
for k in "${kernels[@]}"; do
	f=$out/bench-$k.txt
	[ -f "$f" ] || continue
	for t in cycle takeback; do
		grep -q "^$t: " "$f" || continue
		echo "$t on $k:"
		sed -n "/^$t: /,/^\$/p" "$f" | sed '/^$/d'
	done
done
cat "$growth"
cat "$out/targets.txt"
ls "$out"/*.png 2>/dev/null | sed "s|^$top/|plot: |" || true
exit $rc
