#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/test/build_modules.sh TAG: build the self-test modules
# (oops_module/) against kernel TAG into .cache/vm/test/TAG/ and print that
# directory. The sources are copied there first so that the tree stays clean.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CACHE=${RESPOOL_CACHE:-$REPO/.cache}
tag=${1:?usage: build_modules.sh TAG}
src=$REPO/tools/vm/test/oops_module
out=$CACHE/vm/test/$tag

"$REPO/tools/kernels.sh" fetch "$tag" >&2
kdir=$("$REPO/tools/kernels.sh" kdir "$tag")
mkdir -p "$out"
# Copy only what changed, so that make can stay incremental.
cp -u "$src"/*.c "$src"/Kbuild "$out"/
if ! make -s -C "$kdir" M="$out" W=1 modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	echo "build_modules.sh: building the self-test modules for $tag failed" >&2
	exit 1
fi
# W=1 must stay clean (kbuild's BTF notice on 6.1 is not a warning).
if grep -E 'warning:|error:' "$out/build.log" >&2; then
	echo "build_modules.sh: warnings building the self-test modules for $tag" >&2
	exit 1
fi
echo "$out"
