#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - what `make run` shows: respool serving several clients from a
# small pool and a buffer passing between two processes as a dma-buf
# (tools/demo/demo.c, through librespool), the stats of it, then a second
# pool beside it, with a client of its own. Runs as root in the
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

# The demo runs under trace-cmd, when there is one, to show the tracepoints.
if command -v trace-cmd >/dev/null && [ "$(id -u)" = 0 ]; then
	trace=$(mktemp -d)
	trace-cmd record -q -e respool -o "$trace/demo.dat" -- "$here/demo"
else
	trace=
	"$here/demo"
fi

ctl=$top/tools/respoolctl/respoolctl
if [ -x "$ctl" ]; then
	echo
	echo "\$ respoolctl stats"
	"$ctl" stats
	# A client holding two blocks, to list, and a third exported as a
	# dma-buf whose fd it keeps.
	coproc HOLDER { exec "$here/demo" hold; }
	read -r _ <&"${HOLDER[0]}"
	echo
	echo "\$ respoolctl clients"
	"$ctl" clients
	echo
	echo "\$ respoolctl stats | grep export    # the holder keeps a 64K dma-buf"
	"$ctl" stats | grep export

	# A second pool, of its own size, with a client of its own.
	if [ "$(id -u)" = 0 ]; then
		echo
		echo "\$ respoolctl pool add frames capacity 8M max-block-size 1M threshold 90"
		"$ctl" pool add frames capacity 8M max-block-size 1M threshold 90
		# (bash runs one coproc at a time: a process substitution.)
		exec {frames}< <(RESPOOL_POOL=frames exec "$here/demo" hold)
		frames_pid=$!
		read -r _ <&"$frames"
		echo
		echo "\$ respoolctl pool show"
		"$ctl" pool show
		echo
		echo "\$ respoolctl client show"
		"$ctl" client show
		kill "$frames_pid"
		exec {frames}<&-
		# The holder's file closes with its exit: then the pool is idle.
		while kill -0 "$frames_pid" 2>/dev/null; do sleep 0.1; done
		echo
		echo "\$ respoolctl pool del frames"
		"$ctl" pool del frames
	fi
	kill "$HOLDER_PID"
	wait "$HOLDER_PID" 2>/dev/null || true
fi

if [ -n "$trace" ]; then
	echo
	echo "\$ trace-cmd report (first events of each kind)"
	trace-cmd report -i "$trace/demo.dat" 2>/dev/null |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^respool_[a-z_]+:$/) {
			if (seen[$i]++ < 2) { sub(/^ +/, ""); print "  " $0 }
			break } }'
	rm -rf "$trace"
fi
