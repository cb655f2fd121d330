#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The userspace tools under AddressSanitizer and UBSan, on the host, along
# the paths that need no module: usage, bad input, "module not loaded",
# and librespool failing to open. Any sanitizer report fails the run.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$REPO/.cache/asan
mkdir -p "$out"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g"
export ASAN_OPTIONS=exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1
failed=0

gcc $san -Wall -Wextra -Werror -I "$REPO/uapi" \
	$(pkg-config --cflags libnl-genl-3.0) -o "$out/respoolctl" \
	"$REPO/tools/respoolctl/respoolctl.c" \
	$(pkg-config --libs libnl-genl-3.0) || exit 1
cat >"$out/lib_open.c" <<'EOC'
#include <errno.h>
#include <stdio.h>
#include "librespool.h"
int main(void)
{
	struct respool *p = respool_open_path("/nonexistent/respool");

	if (p || errno != ENOENT) {
		fprintf(stderr, "respool_open_path: expected ENOENT\n");
		return 1;
	}
	respool_close(NULL);
	return 0;
}
EOC
gcc $san -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I "$REPO/uapi" \
	-I "$REPO/tools/lib" -o "$out/lib_open" "$out/lib_open.c" \
	"$REPO/tools/lib/librespool.c" || exit 1

# expect EXIT-STATUS COMMAND...: the status, and no sanitizer report.
expect() {
	local want=$1 rc
	shift
	"$@" >"$out/out.log" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ] ||
	   grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' "$out/out.log"; then
		echo "asan: '$*' exited $rc (want $want):"
		sed 's/^/    /' "$out/out.log" | head -30
		failed=1
	fi
}

ctl=$out/respoolctl
expect 0 "$ctl" -h
expect 0 "$ctl" help config
expect 2 "$ctl"
expect 2 "$ctl" bogus
expect 2 "$ctl" config set threshold
expect 2 "$ctl" prefill 12Q 3
if [ ! -e /dev/respool ]; then
	expect 1 "$ctl" stats
	expect 1 "$ctl" -j -p clients
	expect 1 "$ctl" config set threshold 50
fi
expect 0 "$out/lib_open"
exit $failed
