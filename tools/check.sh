#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftest suite in the test VM on each kernel and add up the
# results:  tools/check.sh [KERNEL...]   (default: 6.1 6.12)
#
# Counts come from the kselftest harness's "# Totals:" lines
# (tools/ktap-count.sh); a test program that dies before printing them,
# or a VM that fails (oops, WARN, timeout), counts as one failure. The
# last line is
#   N passed, N failed[, N skipped]
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
kernels=${*:-6.1 6.12}
logdir=$REPO/.cache/results
mkdir -p "$logdir"

all_pass=0 all_fail=0 all_skip=0 summary=()
# Every boot that tools/vm/run retried (a guest that died before respool
# was loaded) is logged here and counted in the summary.
export RESPOOL_VM_RETRY_LOG=$logdir/boot-retries.log
: >"$RESPOOL_VM_RETRY_LOG"

# First prove the runner itself: exit statuses, oops/WARN/hang detection.
echo "=== test VM runner self-test ==="
start=$(date +%s)
tools/vm/test/run_tests.sh $kernels 2>&1 | tee "$logdir/vm-selftest.log"
read -r pass fail < <(awk '/^ok [0-9]/ { p++ } /^not ok [0-9]/ { f++ }
	END { print p + 0, f + 0 }' "$logdir/vm-selftest.log")
summary+=("runner: $pass passed, $fail failed ($(( $(date +%s) - start ))s)")
all_pass=$((all_pass + pass))
all_fail=$((all_fail + fail))

# The install paths, on the host: make install DESTDIR, dkms build.
echo "=== install paths ==="
start=$(date +%s)
tools/install-test.sh $kernels 2>&1 | tee "$logdir/install.log"
read -r pass fail < <(awk '/^ok [0-9]/ { p++ } /^not ok [0-9]/ { f++ }
	END { print p + 0, f + 0 }' "$logdir/install.log")
summary+=("install: $pass passed, $fail failed ($(( $(date +%s) - start ))s)")
all_pass=$((all_pass + pass))
all_fail=$((all_fail + fail))

for k in $kernels; do
	log=$logdir/selftests-$k.log
	echo "=== selftests on $k ==="
	start=$(date +%s)
	RESPOOL_VM_LOG=$logdir/dmesg-$k.log \
		tools/vm/run --kernel "$k" --timeout 1500 -- \
		selftests/respool/run_tests.sh 2>&1 | tee "$log"
	vm_rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))

	read -r pass fail skip < <(tools/ktap-count.sh "$log")
	if [ "$vm_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "check: the VM run on $k failed (exit $vm_rc)"
		fail=$((fail + 1))
	fi
	summary+=("$k: $pass passed, $fail failed, $skip skipped (${secs}s)")
	all_pass=$((all_pass + pass))
	all_fail=$((all_fail + fail))
	all_skip=$((all_skip + skip))

	# numa_test needs two NUMA nodes: a guest of its own with two (one
	# vCPU and half the memory each). There it must not skip.
	log=$logdir/numa-$k.log
	echo "=== numa_test on $k (--smp 2 --numa 2) ==="
	start=$(date +%s)
	RESPOOL_VM_LOG=$logdir/dmesg-numa-$k.log \
		tools/vm/run --kernel "$k" --smp 2 --numa 2 --timeout 600 -- \
		selftests/respool/run_tests.sh numa_test 2>&1 | tee "$log"
	vm_rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
	read -r pass fail skip < <(tools/ktap-count.sh "$log")
	if [ "$vm_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "check: the numa_test VM run on $k failed (exit $vm_rc)"
		fail=$((fail + 1))
	fi
	if [ "$skip" -ne 0 ] || [ $((pass + fail)) -eq 0 ]; then
		echo "check: numa_test skipped or ran nothing in a two-node guest on $k"
		fail=$((fail + 1))
	fi
	summary+=("$k numa: $pass passed, $fail failed, $skip skipped (${secs}s)")
	all_pass=$((all_pass + pass))
	all_fail=$((all_fail + fail))
	all_skip=$((all_skip + skip))
done

retried=$(wc -l <"$RESPOOL_VM_RETRY_LOG")
summary+=("runner: $retried boots retried")
echo
echo "=== summary ==="
printf '%s\n' "${summary[@]}"
[ "$retried" -eq 0 ] || sed 's/^/  retried: /' "$RESPOOL_VM_RETRY_LOG"
line="$all_pass passed, $all_fail failed"
[ "$all_skip" -gt 0 ] && line="$line, $all_skip skipped"
echo "$line"
[ "$all_fail" -eq 0 ]
