#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Generate the netlink code of respool from its YNL spec with the kernel's
# own generator (tools/net/ynl/ynl-gen-c.py of linux-source-6.12):
#
#   tools/ynl-gen.sh            regenerate the files below in place
#   tools/ynl-gen.sh --check    fail (exit 1, with a diff) when a committed
#                               file differs from what the spec produces
#
# Spec:      Documentation/netlink/specs/respool.yaml
# Generated: uapi/linux/respool_netlink.h   (uapi enums)
#            kmod/genl-gen.h, kmod/genl-gen.c (policies, per-op ops table,
#                                              multicast groups)
# Copied:    Documentation/netlink/genetlink-legacy.yaml, the kernel's schema
#            of the spec's protocol, where the kernel's cli.py looks for it
#            (dirname(dirname(spec))), so that cli.py run from the project
#            directory validates the spec instead of failing to find it
#
# Out of the kernel tree the generator needs two things: a MAINTAINERS
# file in a parent directory of its output (it walks up to find the tree
# root, forever otherwise), and the schema at
# dirname(dirname(spec))/<protocol>.yaml. So it runs in a scratch tree
# under .cache with that layout. The kernel side includes
# <uapi/linux/...>, which an out-of-tree build does not have: that one
# line is rewritten to <linux/...>.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RESPOOL_CACHE:-$REPO/.cache}
check=0
case ${1:-} in
--check) check=1 ;;
"") ;;
*) echo "usage: tools/ynl-gen.sh [--check]" >&2; exit 2 ;;
esac

ksrc=$("$REPO/tools/kernels.sh" ksrc)
gen=$ksrc/tools/net/ynl/ynl-gen-c.py
[ -f "$gen" ] || { echo "ynl-gen.sh: $gen is missing" >&2; exit 1; }

# The generator validates the spec against the schema.
if ! python3 -c 'import yaml, jsonschema' 2>/dev/null; then
	echo "ynl-gen.sh: needs python3-yaml and python3-jsonschema" \
		"(apt-get install python3-yaml python3-jsonschema)" >&2
	exit 1
fi

tree=$CACHE/ynl-gen
rm -rf "$tree"
mkdir -p "$tree/Documentation/netlink/specs" "$tree/out/kmod" "$tree/out/uapi/linux" \
	"$tree/out/Documentation/netlink"
: > "$tree/MAINTAINERS"
cp "$REPO/Documentation/netlink/specs/respool.yaml" "$tree/Documentation/netlink/specs/"
cp "$ksrc"/Documentation/netlink/genetlink*.yaml "$tree/Documentation/netlink/"
spec=$tree/Documentation/netlink/specs/respool.yaml

run() { (cd "$tree" && python3 "$gen" --spec "$spec" "$@"); }
run --mode uapi --header -o "$tree/out/uapi/linux/respool_netlink.h" >/dev/null
run --mode kernel --header -o "$tree/out/kmod/genl-gen.h" >/dev/null
run --mode kernel --source -o "$tree/out/kmod/genl-gen.c" >/dev/null
sed -i 's|#include <uapi/linux/respool_netlink.h>|#include <linux/respool_netlink.h>|' \
	"$tree/out/kmod/genl-gen.h" "$tree/out/kmod/genl-gen.c"
cp "$ksrc/Documentation/netlink/genetlink-legacy.yaml" \
	"$tree/out/Documentation/netlink/"

files="uapi/linux/respool_netlink.h kmod/genl-gen.h kmod/genl-gen.c
Documentation/netlink/genetlink-legacy.yaml"
status=0
for f in $files; do
	if [ $check = 1 ]; then
		if ! diff -u "$REPO/$f" "$tree/out/$f"; then
			echo "ynl-gen.sh: $f is stale; run tools/ynl-gen.sh" >&2
			status=1
		fi
	else
		cp "$tree/out/$f" "$REPO/$f"
	fi
done
exit $status
