#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the Debian kernels respool supports into $REPO/.cache/kernels/<tag>/
# without touching /boot or /lib/modules.
#
#   tools/kernels.sh fetch TAG     download + unpack (idempotent)
#   tools/kernels.sh kdir TAG      print the KDIR for out-of-tree module builds
#   tools/kernels.sh release TAG   print the kernel's release (uname -r)
#   tools/kernels.sh vmlinux TAG   print the path of the uncompressed vmlinux
#   tools/kernels.sh root TAG      print the unpacked root (boot/, lib/modules/, usr/src/)
#   tools/kernels.sh ksrc          extract the bits of the 6.12 source tree the
#                                  project uses and print the directory
#
# TAG is 6.1 (linux-image-amd64, bookworm) or 6.12 (linux-image-6.12-amd64,
# bookworm-security). Versions are resolved through the meta packages whenever
# the apt lists changed, so a kernel update in the archive is picked up.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RESPOOL_CACHE:-$REPO/.cache}
TAGS="6.1 6.12"

die() { echo "kernels.sh: $*" >&2; exit 1; }
note() { echo "kernels.sh: $*" >&2; }

usage() {
	sed -n '4,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

check_tag() {
	case " $TAGS " in
	*" $1 "*) ;;
	*) die "unknown kernel '$1' (supported: $TAGS)" ;;
	esac
}

# Meta packages per tag.
meta_image() { case $1 in 6.1) echo linux-image-amd64 ;; 6.12) echo linux-image-6.12-amd64 ;; esac; }
meta_headers() { case $1 in 6.1) echo linux-headers-amd64 ;; 6.12) echo linux-headers-6.12-amd64 ;; esac; }

# Candidate version of a package.
pkg_version() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n1
}

# Package names a package depends on (alternatives: first one only).
pkg_depends() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' |
		sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' -e '/^$/d'
}

# Resolve the concrete package set for a tag; sets REL, VERSION, PKGS.
resolve() {
	local tag=$1 mimg mhdr img hdr d
	mimg=$(meta_image "$tag")
	mhdr=$(meta_headers "$tag")
	[ -n "$(pkg_version "$mimg")" ] ||
		die "apt knows no package $mimg; run 'apt-get update' (6.12 needs bookworm-security in sources.list)"
	img=$(pkg_depends "$mimg" | grep -E '^linux-image-[0-9]' | head -n1) ||
		die "cannot resolve the image package from $mimg"
	hdr=$(pkg_depends "$mhdr" | grep -E '^linux-headers-[0-9]' | head -n1) ||
		die "cannot resolve the headers package from $mhdr"
	REL=${img#linux-image-}
	[ "$hdr" = "linux-headers-$REL" ] ||
		die "$mimg ($img) and $mhdr ($hdr) disagree; the archive is mid-update, try later"
	VERSION=$(pkg_version "$img")
	PKGS="$img $hdr"
	for d in $(pkg_depends "$hdr"); do
		case $d in
		linux-headers-*-common | linux-kbuild-*) PKGS="$PKGS $d" ;;
		esac
	done
	# 6.1's headers package depends on linux-compiler-gcc-12-x86 (gcc-12 on
	# the host is enough); 6.12's on gcc-12.
}

kdir_of() { echo "$CACHE/kernels/$1/root/usr/src/linux-headers-$2"; }

stamp_rel() {
	local stamp=$CACHE/kernels/$1/stamp
	[ -f "$stamp" ] || die "kernel $1 not fetched yet: run tools/kernels.sh fetch $1"
	sed -n 's/^release=//p' "$stamp"
}

# Write the uncompressed ELF image found inside a bzImage to $2.
# Like scripts/extract-vmlinux: look for the magic of each compressor the
# kernel supports, try to decompress from every hit, keep the first ELF.
extract_vmlinux() {
	local in=$1 out=$2 magic cmd off
	local -a tries=(
		'\x1f\x8b\x08|gzip -dc'
		'\xfd\x37\x7a\x58\x5a\x00|xz -dc'
		'\x28\xb5\x2f\xfd|zstd -dcq'
		'\x5d\x00\x00\x00|xz -dc --format=lzma'
		'BZh|bzip2 -dc'
		'\x89\x4c\x5a|lzop -dc'
		'\x02\x21\x4c\x18|lz4 -dc'
	)
	for t in "${tries[@]}"; do
		magic=${t%%|*}
		cmd=${t#*|}
		command -v "${cmd%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$in" 2>/dev/null | cut -d: -f1); do
			# Trailing garbage after the stream makes the decompressors
			# complain; the output is complete anyway, so check it instead.
			tail -c +$((off + 1)) "$in" | $cmd >"$out.tmp" 2>/dev/null || true
			if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}

# apt's lists may be old (a fresh machine, or the mirror dropped the
# superseded kernel ABI they name): refresh them once, as root.
refresh_lists() {
	[ "$(id -u)" -eq 0 ] && [ -z "${lists_refreshed:-}" ] || return 1
	lists_refreshed=1
	note "refreshing the package lists (apt-get update)"
	apt-get update -q >&2
}

download() {
	(cd "$1" && apt-get download -q -o APT::Sandbox::User=root $PKGS >/dev/null)
}

fetch() {
	local tag=$1 dir stamp kdir root d p f lists
	check_tag "$tag"
	dir=$CACHE/kernels/$tag
	stamp=$dir/stamp
	# The meta packages can only point elsewhere after the package lists
	# changed (apt-get update); resolving costs ~1 s, so skip it until then.
	lists=$(stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null | md5sum | cut -c1-32)
	if [ -f "$stamp" ] && grep -qxF "lists=$lists" "$stamp" && [ -f "$dir/vmlinux" ]; then
		return 0
	fi
	[ -n "$(pkg_version "$(meta_image "$tag")")" ] || refresh_lists || true
	resolve "$tag"
	if [ -f "$stamp" ] && grep -qxF "version=$VERSION" "$stamp" &&
		grep -qxF "release=$REL" "$stamp" && [ -f "$dir/vmlinux" ]; then
		sed -i "/^lists=/d" "$stamp"
		echo "lists=$lists" >>"$stamp"
		return 0
	fi
	"$REPO/tools/deps.sh" build vm
	note "fetching kernel $tag: $REL ($VERSION): $PKGS"
	rm -rf "$dir.new"
	mkdir -p "$dir.new/debs" "$dir.new/root"
	# apt-get download saves into the current directory; run it as _apt's
	# sandbox allows (root may need the directory to be accessible).
	if ! download "$dir.new/debs"; then
		refresh_lists || die "apt-get download $PKGS failed"
		resolve "$tag"
		download "$dir.new/debs" || die "apt-get download $PKGS failed"
	fi
	root=$dir.new/root
	for p in "$dir.new"/debs/*.deb; do
		dpkg -x "$p" "$root"
	done
	kdir=$root/usr/src/linux-headers-$REL
	[ -f "$kdir/Makefile" ] || die "no $kdir/Makefile in the headers package"
	[ -f "$root/boot/vmlinuz-$REL" ] || die "no boot/vmlinuz-$REL in the image package"

	# Debian's headers refer to /usr/src/... and /usr/lib/linux-kbuild-*
	# with absolute paths; point them into the cache instead.
	grep -rlsE '(^|[^A-Za-z0-9_/.-])/usr/src/linux-headers-' "$root/usr/src"/*/Makefile |
		while read -r f; do
			sed -i "s#\([^A-Za-z0-9_/.-]\|^\)/usr/src/linux-headers-#\1$CACHE/kernels/$tag/root/usr/src/linux-headers-#g" "$f"
		done
	# Absolute symlinks (scripts, tools -> /usr/lib/linux-kbuild-*/...).
	find "$root" -type l -lname '/*' | while read -r f; do
		d=$(readlink "$f")
		case $d in
		/usr/* | /lib/*) ln -sfn "$CACHE/kernels/$tag/root$d" "$f" ;;
		esac
	done
	# lib/modules/<rel>/build -> the headers in the cache.
	mkdir -p "$root/lib/modules/$REL"
	ln -sfn "$CACHE/kernels/$tag/root/usr/src/linux-headers-$REL" "$root/lib/modules/$REL/build"
	# The vmlinux lets kbuild generate split BTF for modules (6.12).
	if ! extract_vmlinux "$root/boot/vmlinuz-$REL" "$dir.new/vmlinux"; then
		die "could not extract vmlinux from boot/vmlinuz-$REL"
	fi
	# kbuild needs resolve_btfids for that, which only 6.12's linux-kbuild
	# ships; without vmlinux kbuild skips BTF for modules with a notice.
	if [ -x "$kdir/tools/bpf/resolve_btfids/resolve_btfids" ]; then
		ln -sfn "$CACHE/kernels/$tag/vmlinux" "$kdir/vmlinux"
	fi
	depmod -b "$root" "$REL" || die "depmod -b $root $REL failed"
	rm -rf "$dir.new/debs"
	printf 'tag=%s\nrelease=%s\nversion=%s\npackages=%s\nlists=%s\n' \
		"$tag" "$REL" "$VERSION" "$PKGS" "$lists" >"$dir.new/stamp"
	# Swap in atomically; the absolute paths above already name $dir.
	rm -rf "$dir.old"
	[ ! -e "$dir" ] || mv "$dir" "$dir.old"
	mv "$dir.new" "$dir"
	rm -rf "$dir.old" "$CACHE/vm/initramfs-$tag".*
	note "kernel $tag ready: $REL, KDIR=$(kdir_of "$tag" "$REL")"
}

ksrc() {
	local tar=/usr/src/linux-source-6.12.tar.xz out=$CACHE/linux-src top ver
	if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$(stat -c %Y-%s "$tar" 2>/dev/null)" ]; then
		echo "$out"
		return 0
	fi
	[ -f "$tar" ] || "$REPO/tools/deps.sh" src
	[ -f "$tar" ] || die "$tar missing after installing linux-source-6.12"
	ver=$(stat -c %Y-%s "$tar")
	# The tarball's top directory: linux-source-6.12/
	top=$(tar -tJf "$tar" 2>/dev/null | head -n1 | cut -d/ -f1) || true
	[ -n "$top" ] || die "cannot read $tar"
	note "extracting the parts of $tar the project uses into $out"
	rm -rf "$out.new"
	mkdir -p "$out.new"
	tar -xJf "$tar" -C "$out.new" --strip-components=1 --wildcards \
		"$top/tools/testing/selftests/kselftest_harness.h" \
		"$top/tools/testing/selftests/kselftest.h" \
		"$top/tools/testing/selftests/kselftest_module.h" \
		"$top/tools/testing/selftests/lib.mk" \
		"$top/tools/testing/selftests/Makefile" \
		"$top/tools/testing/selftests/kselftest" \
		"$top/tools/testing/selftests/run_kselftest.sh" \
		"$top/tools/testing/selftests/gen_kselftest_tar.sh" \
		"$top/tools/scripts/Makefile.include" \
		"$top/tools/scripts/Makefile.arch" \
		"$top/tools/build" \
		"$top/tools/net/ynl" \
		"$top/Documentation/netlink" \
		"$top/scripts/checkpatch.pl" \
		"$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" \
		"$top/scripts/kernel-doc*" ||
		die "tar extraction from $tar failed"
	echo "$ver" >"$out.new/.stamp"
	rm -rf "$out"
	mv "$out.new" "$out"
	echo "$out"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
fetch)
	[ $# -ge 1 ] || set -- $TAGS
	mkdir -p "$CACHE/kernels"
	for t in "$@"; do
		check_tag "$t"
		# One fetch per kernel at a time (parallel make, several runs).
		(
			flock 9
			fetch "$t"
		) 9>"$CACHE/kernels/.lock-$t"
	done
	;;
kdir)
	[ $# -eq 1 ] || usage
	check_tag "$1"
	kdir_of "$1" "$(stamp_rel "$1")"
	;;
release)
	[ $# -eq 1 ] || usage
	check_tag "$1"
	stamp_rel "$1"
	;;
vmlinux)
	[ $# -eq 1 ] || usage
	check_tag "$1"
	stamp_rel "$1" >/dev/null
	echo "$CACHE/kernels/$1/vmlinux"
	;;
root)
	[ $# -eq 1 ] || usage
	check_tag "$1"
	stamp_rel "$1" >/dev/null
	echo "$CACHE/kernels/$1/root"
	;;
ksrc)
	ksrc
	;;
-h | --help | help) usage ;;
*) usage ;;
esac
