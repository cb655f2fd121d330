#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/deps.sh [GROUP...]: install the Debian packages respool needs.
#
# Groups (default: all):
#   module     an out-of-tree build against installed headers (make module)
#   userspace  building respoolctl and librespool
#   install    what make install adds: rst2man for the man pages
#   vm build tools lint src   the test VM, the test kernels' module builds,
#              the test tools (dkms, trace-cmd, ...), sparse, the kernel source
#   deb        make deb: Debian's packaging tools and the packages' Build-Depends
#   debtest    make deb-check: a clean Debian root (mmdebstrap), lintian
#   all        everything make check needs (vm build tools lint install src)
# Silent and fast when everything is installed; otherwise runs 'apt-get
# update' once and installs what is missing. Not root: prints the command
# to run and exits 1.
set -euo pipefail

pkgs_of() {
	case $1 in
	module) echo gcc make kmod ;;
	userspace) echo gcc make libnl-3-dev libnl-genl-3-dev pkg-config ;;
	install) echo python3-docutils ;;
	vm) echo qemu-system-x86 busybox-static cpio kmod zstd xz-utils ;;
	build) echo gcc make bc flex bison libelf-dev libssl-dev dwarves kmod ;;
	tools) echo libnl-3-dev libnl-genl-3-dev libnl-utils python3-yaml pkg-config trace-cmd bpftrace python3-jsonschema dkms ;;
	lint) echo sparse ;;
	src) echo linux-source-6.12 ;;
	deb) echo dpkg-dev debhelper dh-dkms fakeroot libnl-3-dev libnl-genl-3-dev pkg-config python3-docutils ;;
	debtest) echo mmdebstrap lintian ;;
	all) for g in vm build tools lint install src; do pkgs_of $g; done ;;
	*)
		echo "deps.sh: unknown group '$1' (module userspace install vm build tools lint src deb debtest all)" >&2
		exit 2
		;;
	esac
}

[ $# -gt 0 ] || set -- all
want=$(for g in "$@"; do pkgs_of "$g"; done | tr ' ' '\n' | sort -u)

# One dpkg-query for all of them; a package is present when its status is
# "install ok installed".
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $want 2>/dev/null |
	awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }' | sort -u) || true
missing=$(comm -23 <(echo "$want") <(echo "$installed") | tr '\n' ' ')
missing=${missing% }
[ -n "$missing" ] || exit 0

cmd="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages: $missing" >&2
	echo "deps.sh: run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "deps.sh: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A package apt does not know yet needs an index refresh; do it once.
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
	apt-get update -q >&2 || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
	apt-get install -y -q --no-install-recommends $missing >&2 ||
		{ echo "deps.sh: '$cmd' failed" >&2; exit 1; }
fi
