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

version=\"$(cat "$REPO/VERSION")\"
gcc $san -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I "$REPO/uapi" \
	-I "$REPO/tools/lib" -DRESPOOLCTL_VERSION="$version" \
	-DLIBRESPOOL_VERSION="$version" \
	$(pkg-config --cflags libnl-genl-3.0) -o "$out/respoolctl" \
	"$REPO/tools/respoolctl/respoolctl.c" "$REPO/tools/lib/librespool.c" \
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
	/* Bad input of every call that takes a pool: -EINVAL, errno set. */
	{
		void *ptrs[2] = { &p, &p };
		size_t sizes[2] = { 4096, 4096 };
		char v[RESPOOL_VERSION_LEN];
		int r;

		errno = 0;
		if (respool_alloc_batch(NULL, ptrs, sizes, 2, 0, 0) != -EINVAL ||
		    errno != EINVAL || ptrs[0] || ptrs[1] ||
		    respool_free_batch(NULL, ptrs, 2) != -EINVAL ||
		    respool_info(NULL, ptrs, NULL) != -EINVAL ||
		    respool_fd(NULL) != -EINVAL ||
		    respool_usable_size(NULL, ptrs) != 0 ||
		    respool_module_version(NULL, 0) != -EINVAL) {
			fprintf(stderr, "bad input: expected -EINVAL\n");
			return 1;
		}
		r = respool_module_version(v, sizeof(v));
		if (!*respool_version() || (r < 0 && r != -ENOENT)) {
			fprintf(stderr, "versions: %s, %d\n", respool_version(), r);
			return 1;
		}
	}
	return 0;
}
EOC
gcc $san -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I "$REPO/uapi" \
	-I "$REPO/tools/lib" -DLIBRESPOOL_VERSION="$version" \
	-o "$out/lib_open" "$out/lib_open.c" \
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
expect 0 "$ctl" -V
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
