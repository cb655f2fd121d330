#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the install paths, in KTAP form:
#   make install DESTDIR=... lays out the expected files, and
#   dkms add/build succeeds against each test kernel's headers.
# Neither touches the system: DESTDIR, and dkms's --dkmstree and
# --sourcetree, point into a scratch directory.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
kernels=${*:-6.1 6.12}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/respool-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
n=0 pass=0 fail=0

result() {	# result OK|FAIL description [log]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		pass=$((pass + 1)); echo "ok $n $2"
	else
		fail=$((fail + 1)); echo "not ok $n $2"
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | tail -20
	fi
}

echo "TAP version 13"
echo "1..$(( $(wc -w <<<"$kernels") + 1 ))"

kdir=$(tools/kernels.sh kdir 6.12)
rel=$(tools/kernels.sh release 6.12)
dest=$scratch/root
if make -s install KDIR="$kdir" DESTDIR="$dest" PREFIX=/usr \
	>"$scratch/install.log" 2>&1; then
	missing=
	for f in "lib/modules/$rel/extra/respool.ko" usr/bin/respoolctl \
		 usr/lib/librespool.a usr/lib/librespool.so.1 \
		 usr/lib/librespool.so usr/lib/pkgconfig/librespool.pc \
		 usr/include/librespool.h usr/include/linux/respool.h \
		 usr/share/man/man8/respoolctl.8 \
		 lib/udev/rules.d/60-respool.rules; do
		[ -e "$dest/$f" ] || missing="$missing $f"
	done
	if [ -z "$missing" ] &&
	   modinfo -F name "$dest/lib/modules/$rel/extra/respool.ko" |
		grep -qx respool; then
		result OK "make install DESTDIR lays out every file"
	else
		echo "missing:$missing" >>"$scratch/install.log"
		result FAIL "make install DESTDIR lays out every file" \
			"$scratch/install.log"
	fi
else
	result FAIL "make install DESTDIR lays out every file" \
		"$scratch/install.log"
fi
# make install built kmod/ in place: leave the source tree as it was.
make -s -C "$kdir" M="$REPO/kmod" clean >/dev/null 2>&1

for k in $kernels; do
	kdir=$(tools/kernels.sh kdir "$k")
	rel=$(tools/kernels.sh release "$k")
	src=$scratch/src/respool-0.1
	tree=$scratch/dkms-$k
	mkdir -p "$src" "$tree"
	git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$src"
	if dkms add --sourcetree "$scratch/src" --dkmstree "$tree" \
		-m respool -v 0.1 >"$scratch/dkms-$k.log" 2>&1 &&
	   dkms build --sourcetree "$scratch/src" --dkmstree "$tree" \
		-m respool -v 0.1 -k "$rel" --kernelsourcedir "$kdir" \
		>>"$scratch/dkms-$k.log" 2>&1 &&
	   ls "$tree"/respool/0.1/"$rel"/*/module/respool.ko* >/dev/null 2>&1
	then
		result OK "dkms build against the $k headers ($rel)"
	else
		cat "$tree"/respool/0.1/build/make.log >>"$scratch/dkms-$k.log" 2>/dev/null
		result FAIL "dkms build against the $k headers ($rel)" \
			"$scratch/dkms-$k.log"
	fi
	rm -rf "$src"
done

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" -eq 0 ]
