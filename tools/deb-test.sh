#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/deb-test.sh: the Debian packages on a clean Debian 12, in KTAP form
# (make deb-check). As root (chroot, unshare):
#
#   1. make deb, and lintian on the result;
#   2. a clean Debian 12 root made by mmdebstrap from the package mirror
#      (cached for the day in .cache/deb-test/), into which apt installs
#      the packages, so that their Depends are resolved, with the headers
#      of the 6.1 test kernel;
#   3. the files, the soname link, ldconfig's cache, the respool group;
#   4. DKMS: the module built for 6.1 when respool-dkms was installed, and
#      for 6.12 when its headers come later (AUTOINSTALL);
#   5. a client built in the root with pkg-config;
#   6. in the test VM on each test kernel, with the module DKMS built in
#      the root: respoolctl from the root, and the client;
#   7. removing respool-dkms removes the modules.
#
#   tools/deb-test.sh [KERNEL...]          (default: 6.12 6.1)
#
# Nothing is mounted outside a private mount namespace (unshare), so an
# interrupted run leaves no mounts behind. RESPOOL_DEB_MIRROR and
# RESPOOL_DEB_SECURITY choose the mirrors (default deb.debian.org).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1

# ---- in the guest: tools/deb-test.sh --guest ROOT ----------------------
# Runs in the test VM (the host's file system, a writable overlay): the
# root's respoolctl and client against the module the VM loaded.
if [ "${1:-}" = --guest ]; then
	R=$2
	mount --rbind /dev "$R/dev" && mount -t proc proc "$R/proc" &&
		mount -t sysfs sysfs "$R/sys" || { echo "GUEST mount 1"; exit 1; }
	inr() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
	# respoolctl -V where it exists (issue 18), then stats.
	if inr respoolctl -V >/tmp/v.out 2>&1; then
		cat /tmp/v.out
		grep -qF "$(cat VERSION)" /tmp/v.out
		echo "GUEST version $?"
	fi
	inr respoolctl stats
	echo "GUEST respoolctl $?"
	inr /root/client
	echo "GUEST client $?"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "deb-test.sh: run as root (chroot, unshare)" >&2; exit 1; }
kernels=${*:-6.12 6.1}
T=$REPO/.cache/deb-test
R=$T/root
mirror=${RESPOOL_DEB_MIRROR:-http://deb.debian.org/debian}
security=${RESPOOL_DEB_SECURITY:-http://deb.debian.org/debian-security}
version=$(cat VERSION)
mkdir -p "$T/archives" "$T/logs"
n=0 pass=0 fail=0 skip=0
t_start=$(date +%s)

result() {	# result OK|FAIL|SKIP description [log]
	n=$((n + 1))
	case $1 in
	OK) pass=$((pass + 1)); echo "ok $n $2" ;;
	SKIP) skip=$((skip + 1)); echo "ok $n $2 # SKIP ${3:-}"; return ;;
	*) fail=$((fail + 1)); echo "not ok $n $2" ;;
	esac
	[ "$1" = OK ] || [ -z "${3:-}" ] || sed 's/^/# /' "$3" | tail -25
}
check() {	# check DESCRIPTION LOG COMMAND...
	local d=$1 l=$2
	shift 2
	if "$@" >"$l" 2>&1; then result OK "$d"; else result FAIL "$d" "$l"; fi
}
elapsed() { echo "# $1: $(($(date +%s) - $2)) s"; }

# COMMAND in the root: its own mount and PID namespace with /proc and
# /dev, all gone when it exits.
in_root() {
	unshare --mount --propagation private --fork --pid --mount-proc="$R/proc" \
		sh -c 'mount --rbind /dev "$0/dev" && exec chroot "$0" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive "$@"' "$R" "$@"
}
# apt-get in the root, its downloads kept across runs (hard links).
apt_root() {
	local r
	find "$T/archives" -name '*.deb' -exec ln -f -t "$R/var/cache/apt/archives" {} +
	in_root apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "$@"
	r=$?
	find "$R/var/cache/apt/archives" -maxdepth 1 -name '*.deb' \
		-exec ln -f -t "$T/archives" {} +
	return $r
}

kplan=$(wc -w <<<"$kernels")
echo "TAP version 13"
echo "1..$((12 + 2 * kplan))"

# ---- 1. the packages -----------------------------------------------------
t0=$(date +%s)
check "make deb builds the packages" "$T/logs/deb.log" make -s deb
elapsed "make deb" "$t0"
debs=()	# the packages, not their -dbgsym
for f in .cache/deb/*.deb; do
	case $f in *-dbgsym_*) ;; *) [ -f "$f" ] && debs+=("$f") ;; esac
done
t0=$(date +%s)
tools/deps.sh debtest >"$T/logs/deps.log" 2>&1 || { cat "$T/logs/deps.log"; exit 1; }
# Errors and warnings fail; info and pedantic tags are listed. lintian
# warns about running as root; the packages are read, never installed.
lintian -I --pedantic --show-overrides .cache/deb/*.changes 2>&1 |
	grep -v '^running with root privileges' >"$T/logs/lintian.log"
sed 's/^/# lintian: /' "$T/logs/lintian.log"
if grep -q '^[EW]:' "$T/logs/lintian.log"; then
	result FAIL "lintian: no errors or warnings" "$T/logs/lintian.log"
else
	result OK "lintian: no errors or warnings"
fi
elapsed "lintian" "$t0"

# ---- 2. a clean root with the packages ---------------------------------
t0=$(date +%s)
tools/kernels.sh fetch $kernels 6.1 >"$T/logs/kernels.log" 2>&1 ||
	{ cat "$T/logs/kernels.log"; exit 1; }
rel61=$(tools/kernels.sh release 6.1)
base=$T/base-bookworm-$(date -u +%Y%m%d).tar
if [ ! -f "$base" ]; then
	rm -rf "$T"/base-bookworm-*
	# mmdebstrap mounts in the root it builds: a private namespace
	# takes those mounts away even if it is killed.
	if unshare --mount --propagation private \
		mmdebstrap --variant=apt --format=tar --skip=cleanup/apt/lists \
		bookworm "$base.new" \
		"deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
		"deb $security bookworm-security main" >"$T/logs/mmdebstrap.log" 2>&1; then
		mv "$base.new" "$base"
	else
		rm -f "$base.new"
	fi
fi
rm -rf "$R"
if [ -f "$base" ] && mkdir -p "$R" && tar -xf "$base" -C "$R"; then
	cp -L /etc/resolv.conf "$R/etc/resolv.conf"
	result OK "a clean Debian 12 root ($(basename "$base"))"
else
	result FAIL "a clean Debian 12 root" "$T/logs/mmdebstrap.log"
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	exit 1
fi
elapsed "root" "$t0"

t0=$(date +%s)
mkdir -p "$R/root/debs"
cp "${debs[@]}" "$R/root/debs/"
# The 6.1 headers with the packages: respool-dkms's postinst builds for
# them (or their hook does, whichever is configured last).
# 6.12's headers pull in its image, whose initramfs nothing here boots:
# skip building it, the way chroots do.
in_root sh -c 'dpkg-divert --local --rename --add /usr/sbin/update-initramfs &&
	ln -s /bin/true /usr/sbin/update-initramfs' >"$T/logs/divert.log" 2>&1
if [ -z "$(ls "$R"/var/lib/apt/lists/*Packages* 2>/dev/null)" ]; then
	in_root apt-get update -q >"$T/logs/apt-update.log" 2>&1
fi
check "apt installs the packages and linux-headers-$rel61" "$T/logs/apt-install.log" \
	apt_root install "${debs[@]/#.cache\/deb\//\/root\/debs\/}" \
		"linux-headers-$rel61" gcc pkg-config libc6-dev
elapsed "apt install" "$t0"

# ---- 3. files, library, group ------------------------------------------
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
missing=
for f in usr/bin/respoolctl "usr/lib/$ma/librespool.so.1" \
	 "usr/lib/$ma/librespool.so" "usr/lib/$ma/librespool.a" \
	 "usr/lib/$ma/pkgconfig/librespool.pc" usr/include/librespool.h \
	 usr/include/linux/respool.h usr/share/man/man8/respoolctl.8.gz \
	 lib/udev/rules.d/60-respool.rules usr/lib/sysusers.d/respool.conf \
	 usr/share/bash-completion/completions/respoolctl \
	 usr/share/doc/respool/admin-guide.rst usr/share/doc/respool/userspace-api.rst \
	 usr/share/respool/respool.yaml "usr/src/respool-$version/dkms.conf" \
	 "usr/src/respool-$version/VERSION" "usr/src/respool-$version/kmod/Kbuild" \
	 "usr/src/respool-$version/uapi/linux/respool.h"; do
	[ -e "$R/$f" ] || missing="$missing $f"
done
# Every page of Documentation/man, in its section.
for f in Documentation/man/*.[1-9].rst; do
	[ -f "$f" ] || continue
	p=$(basename "$f" .rst)
	[ -e "$R/usr/share/man/man${p##*.}/$p.gz" ] || missing="$missing man${p##*.}/$p.gz"
done
echo "missing:$missing" >"$T/logs/files.log"
[ -z "$missing" ] && result OK "every file in place" ||
	result FAIL "every file in place" "$T/logs/files.log"

{
	ls -l "$R/usr/lib/$ma/librespool.so"
	[ "$(readlink "$R/usr/lib/$ma/librespool.so")" = librespool.so.1 ] &&
		in_root ldconfig -p | grep -E "librespool\.so\.1 \(libc6,x86-64\) => (/usr)?/lib/$ma/librespool\.so\.1$"
} >"$T/logs/ldconfig.log" 2>&1
[ $? -eq 0 ] && result OK "librespool.so -> librespool.so.1, in ldconfig's cache" ||
	result FAIL "librespool.so -> librespool.so.1, in ldconfig's cache" "$T/logs/ldconfig.log"
check "the respool group exists" "$T/logs/group.log" in_root getent group respool

# ---- 4. DKMS -----------------------------------------------------------
ko_of() { ls "$R/lib/modules/$1/updates/dkms/respool.ko"* 2>/dev/null | head -n1; }
{ in_root dkms status; ls -l "$R/lib/modules/$rel61/updates/dkms/"; } \
	>"$T/logs/dkms-6.1.log" 2>&1
[ -n "$(ko_of "$rel61")" ] &&
	result OK "DKMS built and installed respool for 6.1 ($rel61)" ||
	result FAIL "DKMS built and installed respool for 6.1 ($rel61)" "$T/logs/dkms-6.1.log"
t0=$(date +%s)
rel612=$(tools/kernels.sh release 6.12)
apt_root install "linux-headers-$rel612" >"$T/logs/dkms-6.12.log" 2>&1
in_root dkms status >>"$T/logs/dkms-6.12.log" 2>&1
[ -n "$(ko_of "$rel612")" ] &&
	result OK "DKMS autoinstall: respool for a kernel installed later (6.12, $rel612)" ||
	result FAIL "DKMS autoinstall: respool for a kernel installed later (6.12, $rel612)" \
		"$T/logs/dkms-6.12.log"
elapsed "6.12 headers and DKMS" "$t0"
mv_ver=$(modinfo -F version "$(ko_of "$rel612")" 2>/dev/null)
if [ -z "$mv_ver" ]; then
	result SKIP "modinfo's version is VERSION ($version)" "the module has no MODULE_VERSION yet"
elif [ "$mv_ver" = "$version" ]; then
	result OK "modinfo's version is VERSION ($version)"
else
	echo "modinfo -F version: $mv_ver" >"$T/logs/modinfo.log"
	result FAIL "modinfo's version is VERSION ($version)" "$T/logs/modinfo.log"
fi

# ---- 5. a client -------------------------------------------------------
cat >"$R/root/client.c" <<'EOF'
/* A client of the installed librespool: one block, written, freed. */
#include <stdio.h>
#include <string.h>
#include <librespool.h>

int main(void)
{
	struct respool_stats st;
	struct respool *pool;
	char *p;
	int ret;

	pool = respool_open();
	if (!pool) {
		perror("respool_open");
		return 1;
	}
	p = respool_alloc(pool, 100000, 0, 0);
	if (!p) {
		perror("respool_alloc");
		return 1;
	}
	memset(p, 0xa5, 100000);
	ret = respool_stats(pool, &st);
	if (ret) {
		fprintf(stderr, "respool_stats: %s\n", strerror(-ret));
		return 1;
	}
	printf("client: a block of %zu bytes; the pool has %llu bytes in use, %llu clients\n",
	       respool_usable_size(pool, p), (unsigned long long)st.in_use_bytes,
	       (unsigned long long)st.clients);
	ret = respool_free(pool, p);
	if (ret) {
		fprintf(stderr, "respool_free: %s\n", strerror(-ret));
		return 1;
	}
	respool_close(pool);
	return 0;
}
EOF
check "a client builds with gcc \$(pkg-config --cflags --libs librespool)" \
	"$T/logs/client.log" in_root sh -c \
	'cd /root && gcc -Wall -Werror -o client client.c $(pkg-config --cflags --libs librespool) &&
	 ldd client | grep -E "librespool\.so\.1 => (/usr)?/lib/"'

# ---- 6. in the VM ------------------------------------------------------
for k in $kernels; do
	t0=$(date +%s)
	rel=$(tools/kernels.sh release "$k")
	ko=$(ko_of "$rel")
	log=$T/logs/vm-$k.log
	if [ -n "$ko" ]; then
		tools/vm/run --kernel "$k" --timeout 300 --module "$ko" -- \
			tools/deb-test.sh --guest "$R" >"$log" 2>&1
		echo "vm exit $?" >>"$log"
	else
		echo "no module for $rel" >"$log"
	fi
	sed -n 's/^GUEST version /respoolctl -V: /p' "$log" | sed 's/^/# /'
	grep -qx 'GUEST respoolctl 0' "$log" &&
		! grep -q '^GUEST version [^0]' "$log" &&
		result OK "$k VM, DKMS module: the root's respoolctl stats" ||
		result FAIL "$k VM, DKMS module: the root's respoolctl stats" "$log"
	grep -qx 'GUEST client 0' "$log" &&
		result OK "$k VM, DKMS module: the client linked through pkg-config" ||
		result FAIL "$k VM, DKMS module: the client linked through pkg-config" "$log"
	grep -m1 '^client:' "$log" | sed 's/^/# /'
	elapsed "VM $k" "$t0"
done

# ---- 7. removal --------------------------------------------------------
apt_root purge respool-dkms >"$T/logs/purge.log" 2>&1
left=$(ls "$R"/lib/modules/*/updates/dkms/respool.ko* 2>/dev/null)
echo "left: $left" >>"$T/logs/purge.log"
[ -z "$left" ] && [ ! -e "$R/usr/src/respool-$version" ] &&
	result OK "purging respool-dkms removes the modules and the source" ||
	result FAIL "purging respool-dkms removes the modules and the source" "$T/logs/purge.log"

# The root (about 900 MB) stays for a look when something failed.
[ "$fail" -ne 0 ] || rm -rf "$R"
elapsed "total" "$t_start"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
