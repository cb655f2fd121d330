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

echo "TAP version 13"
echo "1..$#"
n=0 failed=0
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
exit $failed
