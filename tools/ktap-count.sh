#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Count a selftest run's results: tools/ktap-count.sh LOG prints
# "PASSED FAILED SKIPPED", summed over the kselftest harness's
# "# Totals:" lines. A program that failed without printing its own
# totals (a crash, a timeout) counts as one failure.
set -u
awk '
	/^# selftests: respool:/ { seen = 0 }
	/Totals: pass:/ {
		seen = 1
		for (i = 1; i <= NF; i++) {
			split($i, kv, ":")
			if (kv[1] == "pass") p += kv[2]
			if (kv[1] == "fail" || kv[1] == "error") f += kv[2]
			if (kv[1] == "skip") s += kv[2]
		}
	}
	/^not ok [0-9]+ selftests: respool:/ && !seen { f++ }
	END { print p + 0, f + 0, s + 0 }' "${1:?usage: ktap-count.sh LOG}"
