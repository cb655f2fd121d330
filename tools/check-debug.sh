#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/check-debug.sh: the selftest suite, the fuzzer (1,000,000 ops), the
# fault injection and the stress on the debug kernel (KASAN, lockdep,
# kmemleak, UBSAN, KFENCE, fault injection), then a kmemleak scan after
# unloading the module. Any kernel report fails the run and is printed.
#
#   tools/check-debug.sh           (what `make check-debug` runs)
#   tools/check-debug.sh --short   (`make check-debug-short`, run by .ci/run
#                                  beside make check: the suite and a
#                                  100,000-op fuzz, no stress, no fault cycles)
#
#   RESPOOL_FUZZ_OPS        fuzz operations (default 1000000; --short 100000)
#   RESPOOL_STRESS_SECONDS  stress duration (default 60)
#   RESPOOL_DEBUG_TIMEOUT   bound of the whole VM run, s (default 7200;
#                           --short 3600)
#
# Steps: build the debug kernel once (tools/debug-kernel.sh, cached),
# build respool.ko against it with W=1 into .cache/build/debug, boot it
# with tools/vm/run --kernel debug --kmemleak, then numa_test in a guest
# with two NUMA nodes (--numa 2). Counts come from the
# kselftest "# Totals:" lines as in tools/check.sh; the last line is
#   N passed, N failed[, N skipped]
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RESPOOL_CACHE:-$REPO/.cache}
cd "$REPO" || exit 1
logdir=$CACHE/results
mkdir -p "$logdir"
log=$logdir/check-debug.log
short=0
case ${1:-} in
--short) short=1 ;;
"") ;;
*) echo "usage: tools/check-debug.sh [--short]" >&2; exit 2 ;;
esac
if [ $short = 1 ]; then
	ops=${RESPOOL_FUZZ_OPS:-100000}
	vm_timeout=${RESPOOL_DEBUG_TIMEOUT:-3600}
else
	ops=${RESPOOL_FUZZ_OPS:-1000000}
	vm_timeout=${RESPOOL_DEBUG_TIMEOUT:-7200}
fi
stress=${RESPOOL_STRESS_SECONDS:-60}

t0=$(date +%s)
tools/deps.sh build vm src || exit 1

# Boots tools/vm/run retried (a guest that died before respool was loaded).
export RESPOOL_VM_RETRY_LOG=$logdir/boot-retries-debug.log
: >"$RESPOOL_VM_RETRY_LOG"

echo "=== debug kernel ==="
kdir=$(tools/debug-kernel.sh build) || { echo "check-debug: the debug kernel did not build"; echo "0 passed, 1 failed"; exit 1; }
stamp=$kdir/../stamp
echo "debug kernel $(sed -n 's/^release=//p' "$stamp"): built in $(sed -n 's/^build_seconds=//p' "$stamp") s (cached in ${kdir%/src})"
t1=$(date +%s)

echo "=== respool.ko and import_test's importer against the debug kernel (W=1) ==="
if ! tools/build-module.sh debug -s W=1; then
	echo "check-debug: the module does not build against the debug kernel"
	echo "0 passed, 1 failed"
	exit 1
fi
t2=$(date +%s)

# The guest's script: the suite as run_tests.sh runs it, then the long
# runs with their own (long) timeouts, in the same KTAP shape.
mkdir -p "$CACHE/vm"
guest=$(mktemp "$CACHE/vm/check-debug.XXXXXX.sh")
trap 'rm -f "$guest"' EXIT
cat >"$guest" <<EOF
#!/bin/bash
cd selftests/respool || exit 1
env -u RESPOOL_FUZZ_OPS -u RESPOOL_STRESS_SECONDS ./run_tests.sh
rc=\$?
long() { # name timeout cmd...
	local name=\$1 tmo=\$2 r
	shift 2
	echo "# selftests: respool: \$name"
	start=\$(date +%s)
	timeout --foreground -k 10 "\$tmo" "\$@" 2>&1 | sed -u 's/^/# /'
	r=\${PIPESTATUS[0]}
	echo "# \$name took \$((\$(date +%s) - start)) s"
	case \$r in
	0) echo "ok 1 selftests: respool: \$name" ;;
	4) echo "ok 1 selftests: respool: \$name # SKIP" ;;
	124) echo "not ok 1 selftests: respool: \$name # TIMEOUT \${tmo}s"; rc=1 ;;
	*) echo "not ok 1 selftests: respool: \$name # exit=\$r"; rc=1 ;;
	esac
}
long "fuzz_test ($ops ops)" 5400 env RESPOOL_FUZZ_OPS=$ops ./fuzz_test
EOF
[ $short = 1 ] || cat >>"$guest" <<EOF
long "stress_test (${stress} s)" $((stress * 4 + 600)) env RESPOOL_STRESS_SECONDS=$stress ./stress_test
long "fault_test (100 load cycles)" 3600 env RESPOOL_FAULT_CYCLES=100 ./fault_test
EOF
cat >>"$guest" <<EOF
exit \$rc
EOF
chmod +x "$guest"

if [ $short = 1 ]; then
	echo "=== suite and fuzzer ($ops ops) on the debug kernel ==="
else
	echo "=== suite, fuzzer, stress and fault injection on the debug kernel ==="
fi
RESPOOL_VM_LOG=$logdir/dmesg-debug.log \
	tools/vm/run --kernel debug --kmemleak --timeout "$vm_timeout" -- "$guest" 2>&1 | tee "$log"
vm_rc=${PIPESTATUS[0]}
t3=$(date +%s)

read -r pass fail skip < <(tools/ktap-count.sh "$log")
if [ "$vm_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	case $vm_rc in
	125) echo "check-debug: kernel report (KASAN/lockdep/UBSAN/KFENCE/kmemleak/WARN/BUG): see above and $logdir/dmesg-debug.log" ;;
	124) echo "check-debug: the VM run timed out (${vm_timeout}s)" ;;
	*) echo "check-debug: the VM run failed (exit $vm_rc)" ;;
	esac
	fail=$((fail + 1))
fi

# numa_test needs two NUMA nodes: a guest of its own with two, where it
# must not skip (as in tools/check.sh).
echo "=== numa_test on the debug kernel (--smp 2 --numa 2) ==="
nlog=$logdir/check-debug-numa.log
RESPOOL_VM_LOG=$logdir/dmesg-debug-numa.log \
	tools/vm/run --kernel debug --smp 2 --numa 2 --kmemleak --timeout 1800 -- \
	selftests/respool/run_tests.sh numa_test 2>&1 | tee "$nlog"
vm_rc=${PIPESTATUS[0]}
t4=$(date +%s)
read -r npass nfail nskip < <(tools/ktap-count.sh "$nlog")
if [ "$vm_rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
	echo "check-debug: the numa_test VM run failed (exit $vm_rc): see above and $logdir/dmesg-debug-numa.log"
	nfail=$((nfail + 1))
fi
if [ "$nskip" -ne 0 ] || [ $((npass + nfail)) -eq 0 ]; then
	echo "check-debug: numa_test skipped or ran nothing in a two-node guest"
	nfail=$((nfail + 1))
fi
pass=$((pass + npass))
fail=$((fail + nfail))
skip=$((skip + nskip))

echo
echo "=== summary ==="
echo "debug kernel build: $(sed -n 's/^build_seconds=//p' "$stamp") s when built; this run: kernel step $((t1 - t0)) s, module $((t2 - t1)) s, VM $((t3 - t2)) s, numa VM $((t4 - t3)) s, total $((t4 - t0)) s"
grep -E '^# # (seed|[0-9]+ ops in)' "$log" | sed 's/^# # /fuzz: /'
echo "runner: $(wc -l <"$RESPOOL_VM_RETRY_LOG") boots retried"
sed 's/^/  retried: /' "$RESPOOL_VM_RETRY_LOG"
line="debug: $pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
