#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - what `make run` shows: respool serving several clients from a
# small pool (tools/demo/demo.c, through librespool). Runs as root in the
# test VM (tools/vm/run -- tools/demo/demo.sh), where it reloads the module
# with a 4 MiB pool; elsewhere it uses the pool as loaded.
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
params="capacity=4M threshold=75 idle_trim_ms=0"

if [ ! -x "$here/demo" ]; then
	echo "demo.sh: $here/demo is not built (make tools)" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ] && [ -n "${RESPOOL_KO:-}" ]; then
	rmmod respool 2>/dev/null || true
	insmod "$RESPOOL_KO" $params
	echo "(module reloaded: $params)"
fi

"$here/demo"

# ---------------------------------------------------------------------------
# respoolctl and tracing (issue 8) go here: `respoolctl stats` (with the wait
# histogram), `respoolctl clients`, and a short trace-cmd excerpt. The pool
# still holds the demo's counters at this point; $top is the repository.
# ---------------------------------------------------------------------------
: "$top"
