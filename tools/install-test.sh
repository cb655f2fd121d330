#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the install paths, in KTAP form:
#   make install asks only for the packages it uses (no VM, lint, source),
#   make install DESTDIR=... lays out the expected files, make uninstall
#   removes them, and dkms add/build of make install-dkms-src's tree
#   succeeds against each test kernel's headers.
# None touches the system: DESTDIR, and dkms's --dkmstree and
# --sourcetree, point into a scratch directory. The Debian packages have
# their own, longer test: tools/deb-test.sh (make deb-check).
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
echo "1..$(( $(wc -w <<<"$kernels") + 3 ))"

kdir=$(tools/kernels.sh kdir 6.12)
rel=$(tools/kernels.sh release 6.12)
dest=$scratch/root
# deps.sh, recording the groups make install asks for.
printf '#!/bin/sh\necho "$*" >>%s/groups\nexec %s/tools/deps.sh "$@"\n' \
	"$scratch" "$REPO" >"$scratch/deps.sh"
chmod +x "$scratch/deps.sh"
if make -s install KDIR="$kdir" DESTDIR="$dest" PREFIX=/usr DEPS="$scratch/deps.sh" \
	>"$scratch/install.log" 2>&1; then
	missing=
	for f in "lib/modules/$rel/extra/respool.ko" usr/bin/respoolctl \
		 usr/lib/librespool.a usr/lib/librespool.so.1 \
		 usr/lib/librespool.so usr/lib/pkgconfig/librespool.pc \
		 usr/include/librespool.h usr/include/linux/respool.h \
		 usr/share/man/man8/respoolctl.8 \
		 lib/udev/rules.d/60-respool.rules usr/lib/sysusers.d/respool.conf \
		 usr/share/bash-completion/completions/respoolctl \
		 usr/share/doc/respool/admin-guide.rst \
		 usr/share/respool/respool.yaml; do
		[ -e "$dest/$f" ] || missing="$missing $f"
	done
	# Every page of Documentation/man, in its section.
	for f in Documentation/man/*.[1-9].rst; do
		[ -f "$f" ] || continue
		p=$(basename "$f" .rst)
		[ -s "$dest/usr/share/man/man${p##*.}/$p" ] || missing="$missing man${p##*.}/$p"
	done
	grep -qx 'libdir=/usr/lib' "$dest/usr/lib/pkgconfig/librespool.pc" ||
		missing="$missing librespool.pc's libdir=/usr/lib"
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
# Only the groups a host needs to build and install, none of the VM's.
groups=$(tr ' ' '\n' <"$scratch/groups" | sort -u | tr '\n' ' ')
echo "deps.sh groups: $groups" >"$scratch/deps.log"
if [ "$groups" = "install module userspace " ]; then
	result OK "make install asks only for the module, userspace and install packages"
else
	result FAIL "make install asks only for the module, userspace and install packages" \
		"$scratch/deps.log"
fi
if make -s uninstall KDIR="$kdir" DESTDIR="$dest" PREFIX=/usr \
	>"$scratch/uninstall.log" 2>&1 &&
   left=$(find "$dest" ! -type d) && [ -z "$left" ]; then
	result OK "make uninstall DESTDIR removes every file"
else
	echo "left: ${left:-}" >>"$scratch/uninstall.log"
	result FAIL "make uninstall DESTDIR removes every file" "$scratch/uninstall.log"
fi
# make install built kmod/ in place: leave the source tree as it was.
make -s -C "$kdir" M="$REPO/kmod" clean >/dev/null 2>&1

# The tree respool-dkms ships, as make install-dkms-src lays it out.
ver=$(cat VERSION)
make -s install-dkms-src DESTDIR="$scratch/dkms-src" >"$scratch/dkms-src.log" 2>&1
for k in $kernels; do
	kdir=$(tools/kernels.sh kdir "$k")
	rel=$(tools/kernels.sh release "$k")
	src=$scratch/dkms-src/usr/src
	tree=$scratch/dkms-$k
	mkdir -p "$tree"
	cp "$scratch/dkms-src.log" "$scratch/dkms-$k.log"
	if dkms add --sourcetree "$src" --dkmstree "$tree" \
		-m respool -v "$ver" >>"$scratch/dkms-$k.log" 2>&1 &&
	   dkms build --sourcetree "$src" --dkmstree "$tree" \
		-m respool -v "$ver" -k "$rel" --kernelsourcedir "$kdir" \
		>>"$scratch/dkms-$k.log" 2>&1 &&
	   ls "$tree/respool/$ver/$rel"/*/module/respool.ko* >/dev/null 2>&1
	then
		result OK "dkms build against the $k headers ($rel)"
	else
		cat "$tree/respool/$ver/build/make.log" >>"$scratch/dkms-$k.log" 2>/dev/null
		result FAIL "dkms build against the $k headers ($rel)" \
			"$scratch/dkms-$k.log"
	fi
done

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" -eq 0 ]
