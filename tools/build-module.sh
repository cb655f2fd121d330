#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build kmod/ against one of the test kernels, out of tree:
#   tools/build-module.sh TAG [make args...]   (TAG: 6.1, 6.12 or debug)
#
# Kbuild writes its objects next to the sources, so each kernel gets its
# own shadow directory of symlinks, .cache/build/TAG/kmod, and the two
# builds never see each other's objects. The module ends up at
# .cache/build/TAG/kmod/respool.ko, where tools/vm/run looks for it.
#
# The test-only dma-buf importer of import_test (selftests/respool/
# importer) is built the same way, with the same make args, into
# .cache/build/TAG/importer/respool_importer.ko, where
# selftests/respool/run_tests.sh looks for it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RESPOOL_CACHE:-$REPO/.cache}
tag=${1:?usage: build-module.sh TAG [make args]}
shift

if [ "$tag" = debug ]; then
	# The KASAN/lockdep kernel of make check-debug, built from source.
	kdir=$("$REPO/tools/debug-kernel.sh" build)
else
	"$REPO/tools/kernels.sh" fetch "$tag" >&2
	kdir=$("$REPO/tools/kernels.sh" kdir "$tag")
fi
out=$CACHE/build/$tag

mkdir -p "$out/kmod"
ln -sfn "$REPO/uapi" "$out/uapi"
# kmod/Kbuild reads the version from ../VERSION, as in the source tree.
ln -sfn "$REPO/VERSION" "$out/VERSION"
# Mirror the sources; drop links to files that are gone.
find "$out/kmod" -maxdepth 1 -type l ! -exec test -e {} \; -delete
for f in "$REPO"/kmod/*.[ch] "$REPO"/kmod/Kbuild; do
	# Not an in-place build's generated file (make module, install-test).
	case $f in *.mod.c) continue ;; esac
	ln -sfn "$f" "$out/kmod/$(basename "$f")"
done

# The VM's module is the test build (injection points, kmod/inject.h);
# the debug kernel's also checks the invariants after every state change.
flags=(RESPOOL_TEST=y)
[ "$tag" = debug ] && flags+=(RESPOOL_CHECK=y)
make -C "$kdir" M="$out/kmod" "${flags[@]}" "$@" modules

mkdir -p "$out/importer"
find "$out/importer" -maxdepth 1 -type l ! -exec test -e {} \; -delete
for f in "$REPO"/selftests/respool/importer/*.[ch] "$REPO"/selftests/respool/importer/Kbuild; do
	case $f in *.mod.c) continue ;; esac
	ln -sfn "$f" "$out/importer/$(basename "$f")"
done
exec make -C "$kdir" M="$out/importer" "$@" modules
