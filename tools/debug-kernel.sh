#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/debug-kernel.sh: build, once, the 6.12 debug kernel that
# `make check-debug` boots: defconfig + kvm_guest.config + tools/debug.config
# (KASAN, lockdep, kmemleak, UBSAN, KFENCE, fault injection; virtio, 9p,
# overlay, tmpfs, debugfs, tracefs built in), from Debian's linux-source-6.12.
#
#   tools/debug-kernel.sh [build]   build unless cached; print the build tree
#   tools/debug-kernel.sh dir       print the build tree (fails if not built)
#   tools/debug-kernel.sh image     print the bootable image (bzImage)
#   tools/debug-kernel.sh release   print the kernel release (uname -r)
#
# The tree lives in $RESPOOL_DEBUG_CACHE under a key hashed from the source
# package version, the config fragment, the compiler and this script, so a
# change of any of them rebuilds and an unchanged one costs nothing. The
# default is /var/cache/respool/debug-kernel for root, so that every
# checkout and CI clone on the machine shares one build (about 20 minutes),
# and .cache/debug-kernel otherwise. It is also the KDIR to build respool.ko
# against. The build log is BUILD/build.log; BUILD/stamp records timings.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RESPOOL_CACHE:-$REPO/.cache}
if [ -n "${RESPOOL_DEBUG_CACHE:-}" ]; then
	DCACHE=$RESPOOL_DEBUG_CACHE
elif [ "$(id -u)" -eq 0 ]; then
	DCACHE=/var/cache/respool/debug-kernel
else
	DCACHE=$CACHE/debug-kernel
fi
FRAGMENT=$REPO/tools/debug.config
TARBALL=/usr/src/linux-source-6.12.tar.xz
ME=debug-kernel.sh

die() { echo "$ME: $*" >&2; exit 1; }
note() { echo "$ME: $*" >&2; }

key() {
	{
		dpkg-query -W -f='${Version}\n' linux-source-6.12 2>/dev/null || echo none
		cat "$FRAGMENT"
		gcc --version | head -n1
		sed -n '/^build()/,/^}/p' "${BASH_SOURCE[0]}"
	} | md5sum | cut -c1-16
}

# Every option the fragment sets must survive olddefconfig, or the kernel
# would silently lack a checker.
verify_config() {
	local cfg=$1 line opt bad=
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) opt=$line ;;
		"# CONFIG_"*" is not set") opt=$line ;;
		*) continue ;;
		esac
		case $opt in
		"# "*)
			opt=${opt#\# }; opt=${opt% is not set}
			! grep -q "^$opt=[ym]" "$cfg" || bad="$bad $opt(unset)"
			;;
		*) grep -qx "$opt" "$cfg" || bad="$bad ${opt%%=*}" ;;
		esac
	done <"$FRAGMENT"
	[ -z "$bad" ] || die "options of $FRAGMENT lost by olddefconfig:$bad"
}

build() {
	local out=$1 src=$1/src t0 t1 t2
	"$REPO/tools/deps.sh" build src >&2 || die "cannot install the build dependencies"
	[ -f "$TARBALL" ] || die "$TARBALL is missing (apt-get install linux-source-6.12)"
	rm -rf "$out"
	mkdir -p "$src"
	t0=$(date +%s)
	note "extracting $TARBALL into $src"
	tar -xf "$TARBALL" -C "$src" --strip-components=1
	cd "$src"
	make -s x86_64_defconfig >&2
	scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config \
		"$FRAGMENT" >/dev/null
	make -s olddefconfig >&2
	# No loadable drivers: the VM loads nothing but respool.ko.
	sed -i 's/=m$/=y/' .config
	make -s olddefconfig >&2
	verify_config .config
	t1=$(date +%s)
	note "building $(make -s kernelrelease) with $(nproc) jobs (about 16 min on 2 cores); log: $out/build.log"
	make -j"$(nproc)" all >"$out/build.log" 2>&1 ||
		{ tail -n 40 "$out/build.log" >&2; die "kernel build failed (log: $out/build.log)"; }
	t2=$(date +%s)
	{
		echo "release=$(make -s kernelrelease)"
		echo "source=$(dpkg-query -W -f='${Version}' linux-source-6.12)"
		echo "extract_config_seconds=$((t1 - t0))"
		echo "build_seconds=$((t2 - t1))"
		echo "built=$(date -u +%FT%TZ)"
	} >"$out/stamp"
	note "built in $((t2 - t1)) s (+ $((t1 - t0)) s extract/config)"
}

cmd=${1:-build}
k=$(key)
out=$DCACHE/$k
case $cmd in
build)
	if [ ! -f "$out/stamp" ]; then
		mkdir -p "$DCACHE"
		exec 9>"$DCACHE/.lock"
		flock 9
		if [ ! -f "$out/stamp" ]; then
			# Older builds are stale by definition of the key.
			find "$DCACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$k" -exec rm -rf {} +
			(build "$out") || exit 1
		fi
		exec 9>&-
	fi
	echo "$out/src"
	;;
dir | image | release)
	[ -f "$out/stamp" ] || die "the debug kernel is not built (run tools/debug-kernel.sh)"
	case $cmd in
	dir) echo "$out/src" ;;
	image) echo "$out/src/arch/x86/boot/bzImage" ;;
	release) sed -n 's/^release=//p' "$out/stamp" ;;
	esac
	;;
-h | --help) sed -n '4,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2 ;;
*) die "unknown command '$cmd' (build, dir, image, release)" ;;
esac
