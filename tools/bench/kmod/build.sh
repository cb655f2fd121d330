#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the in-kernel benchmark module against one of the test kernels:
#   tools/bench/kmod/build.sh TAG [make args...]     (TAG: 6.1 or 6.12)
#
# Like tools/build-module.sh: a shadow directory of symlinks,
# .cache/build/TAG/bench-kmod, holding this directory's files and the pool
# core's sources from kmod/ (pool.c, pcpu.c, wait.c, block.c, trace.c and
# their headers). Prints the path of respool_bench.ko on success.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$here/../../.." && pwd)
CACHE=${RESPOOL_CACHE:-$REPO/.cache}
tag=${1:?usage: build.sh TAG [make args]}
shift

"$REPO/tools/kernels.sh" fetch "$tag" >&2
kdir=$("$REPO/tools/kernels.sh" kdir "$tag")
out=$CACHE/build/$tag/bench-kmod

mkdir -p "$out"
ln -sfn "$REPO/uapi" "$CACHE/build/$tag/uapi"
find "$out" -maxdepth 1 -type l ! -exec test -e {} \; -delete
for f in pool.c pcpu.c wait.c block.c trace.c respool.h compat.h trace.h; do
	ln -sfn "$REPO/kmod/$f" "$out/$f"
done
ln -sfn "$here/bench_main.c" "$out/bench_main.c"
ln -sfn "$here/Kbuild" "$out/Kbuild"

make -C "$kdir" M="$out" "$@" modules >&2
echo "$out/respool_bench.ko"
