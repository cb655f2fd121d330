#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the respool selftests as kselftest's runner does: KTAP on stdout,
# each program's own output prefixed with "# ", the timeout from
# ./settings, exit 4 (KSFT_SKIP) reported as SKIP. Meant to run as root
# in the test VM:
#   tools/vm/run -- selftests/respool/run_tests.sh [TEST...]
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here" || exit 1
timeout=$(sed -n 's/^timeout=//p' settings)
tests=${*:-$(sed -n 's/^TEST_GEN_PROGS := //p; s/^TEST_PROGS := //p' Makefile)}
set -- $tests

# import_test's test-only dma-buf importer, built beside respool.ko
# (tools/build-module.sh): loaded for the run, unloaded after it. Without
# it import_test skips and says why.
importer_ko=${RESPOOL_IMPORTER_KO:-}
if [ -z "$importer_ko" ] && [ -n "${RESPOOL_KO:-}" ]; then
	importer_ko=$(dirname "$RESPOOL_KO")/../importer/respool_importer.ko
fi
importer_loaded=0 importer_failed=0
if [ -n "$importer_ko" ] && [ -f "$importer_ko" ] && [ "$(id -u)" = 0 ] &&
	! grep -q '^respool_importer ' /proc/modules; then
	if out=$(insmod "$importer_ko" 2>&1); then
		importer_loaded=1
	else
		echo "# run_tests.sh: insmod $importer_ko failed: $out"
		importer_failed=1
	fi
fi

echo "TAP version 13"
echo "1..$#"
n=0 failed=$importer_failed
for t in "$@"; do
	n=$((n + 1))
	echo "# selftests: respool: $t"
	timeout --foreground -k 5 "${timeout:-300}" "./$t" 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	case $rc in
	0)   echo "ok $n selftests: respool: $t" ;;
	4)   echo "ok $n selftests: respool: $t # SKIP" ;;
	124) echo "not ok $n selftests: respool: $t # TIMEOUT ${timeout}s"; failed=1 ;;
	*)   echo "not ok $n selftests: respool: $t # exit=$rc"; failed=1 ;;
	esac
done
if [ $importer_loaded = 1 ] && ! rmmod respool_importer; then
	echo "# run_tests.sh: rmmod respool_importer failed"
	failed=1
fi
exit $failed
