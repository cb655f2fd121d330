#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# docs_test.sh - the examples in Documentation/ are run, not just read:
# every man page (Documentation/man/*.rst) converts with rst2man --strict,
# and, as root with the module loaded, the C clients of userspace-api.rst
# (the small client, the dma-buf producer and consumer, the fast path's
# keep and reuse),
# respool(4) and librespool(3), the trace-cmd and bpftrace examples of
# tracing.rst and the "$ command" lines of netlink.rst and respoolctl(8)
# run. KTAP output; exit 0, 1, or 4 (all skipped).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
docs=$repo/Documentation
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0 skip=0

ok()   { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok()  { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }

# The end: exit 4 when nothing ran, as kselftest expects of a skip.
totals() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	[ "$fail" -eq 0 ] || exit 1
	[ "$pass" -gt 0 ] || exit 4
	exit 0
}

# The Nth (default: first) C code-block of an .rst file, unindented, as
# printed there.
c_block() {
	awk -v want="${2:-1}" '/^\.\. code-block:: c/ { on = ++n == want; next }
	     on && /^[^ \t]/ && NF { exit }
	     on { sub(/^    /, ""); print }' "$1"
}

echo "TAP version 13"
# The "$ command" lines of netlink.rst and respoolctl(8), run from the
# repository, as "file: command".
for f in netlink.rst man/respoolctl.8.rst; do
	grep -E '^    \$ ' "$docs/$f" | sed "s|^    \\$ |$f: |"
done >"$tmp/nl.cmds"
# Every man page, and the two whose C example is built and run (a page
# that does not exist yet is a skip).
pages=$(cd "$docs" && ls man/*.rst 2>/dev/null)
c_pages="man/respool.4.rst man/librespool.3.rst"
bt=$(grep -c "^    bpftrace -e '" "$docs/tracing.rst")
plan=$(($(echo "$pages" | grep -c .) + 4 + 2 + bt + $(wc -l <"$tmp/nl.cmds")))
echo "1..$plan"

# Man pages: rst2man --strict turns every warning into an error; the page
# must say the name and section of its file name (respool.4.rst: respool(4)).
rst2man=$(command -v rst2man || command -v rst2man.py)
for page in $pages; do
	if [ -z "$rst2man" ]; then
		skip "$page: rst2man --strict" \
			"rst2man is not installed (apt-get install python3-docutils)"
		continue
	fi
	base=$(basename "$page" .rst)
	name=${base%.*} sect=${base##*.}
	if "$rst2man" --strict "$docs/$page" >"$tmp/man.out" 2>"$tmp/man.err" &&
	   [ ! -s "$tmp/man.err" ] &&
	   grep -q "^\.TH \"${name^^}\" \"\?$sect\"\? " "$tmp/man.out"; then
		ok "$page: rst2man --strict"
	else
		sed 's/^/# /' "$tmp/man.err"
		grep '^\.TH' "$tmp/man.out" | sed "s/^/# want ${name^^}($sect), got: /"
		nok "$page: rst2man --strict"
	fi
done

if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/respool ]; then
	for t in $(seq $((n + 1)) "$plan"); do
		skip "example $t" "needs root and the respool module (tools/vm/run)"
	done
	totals
fi

# The examples show the module as loaded with its defaults: reload it so,
# whatever settings an earlier test left (lib_test's 1 MiB blocks fail the
# waiter below with E2BIG).
if [ -n "${RESPOOL_KO:-}" ]; then
	rmmod respool 2>/dev/null
	insmod "$RESPOOL_KO" || echo "# insmod $RESPOOL_KO failed"
fi

c_block "$docs/userspace-api.rst" >"$tmp/client.c"
if gcc -Wall -Werror -I "$repo/uapi" -o "$tmp/client" "$tmp/client.c" \
	2>"$tmp/cc.log" && "$tmp/client" >"$tmp/client.out" &&
   grep -q '^handle [0-9]*: 102400 bytes at ' "$tmp/client.out"; then
	ok "userspace-api.rst: the small client builds and runs"
else
	cat "$tmp/cc.log" "$tmp/client.out" 2>/dev/null | sed 's/^/# /'
	nok "userspace-api.rst: the small client builds and runs"
fi

# The producer/consumer example of "Exporting a block as a dma-buf": it
# checks its own result (the block exported once and back) in its exit
# status.
c_block "$docs/userspace-api.rst" 2 >"$tmp/export.c"
if gcc -Wall -Werror -I "$repo/uapi" -o "$tmp/export" "$tmp/export.c" \
	2>"$tmp/cc.log" && timeout 60 "$tmp/export" >"$tmp/export.out" 2>&1 &&
   grep -qx 'consumer: 65536 bytes: "hello, consumer"' "$tmp/export.out" &&
   grep -qx 'producer: exports +1, export-returns +1, exported-bytes 0' "$tmp/export.out"; then
	ok "userspace-api.rst: the dma-buf producer and consumer build and run"
else
	cat "$tmp/cc.log" "$tmp/export.out" 2>/dev/null | sed 's/^/# /'
	nok "userspace-api.rst: the dma-buf producer and consumer build and run"
fi

# "The fast path: kept blocks": keep a block, then reuse it with no
# system call; its contents survive and the stats saw it kept.
c_block "$docs/userspace-api.rst" 3 >"$tmp/keep.c"
if gcc -Wall -Werror -I "$repo/uapi" -o "$tmp/keep" "$tmp/keep.c" \
	2>"$tmp/cc.log" && timeout 60 "$tmp/keep" >"$tmp/keep.out" 2>&1 &&
   grep -qx 'kept: 65536 bytes in 1 block(s)' "$tmp/keep.out" &&
   grep -qx 'hit: "kept and reused", 1 hit(s)' "$tmp/keep.out"; then
	ok "userspace-api.rst: the fast path's keep and reuse builds and runs"
else
	cat "$tmp/cc.log" "$tmp/keep.out" 2>/dev/null | sed 's/^/# /'
	nok "userspace-api.rst: the fast path's keep and reuse builds and runs"
fi

if command -v trace-cmd >/dev/null; then
	if trace-cmd record -q -e respool -o "$tmp/respool.dat" -- \
		"$tmp/client" >/dev/null 2>"$tmp/tc.log" &&
	   trace-cmd report -i "$tmp/respool.dat" 2>/dev/null |
		grep -Eq 'respool_alloc:.*size=100000 block=102400 from=(pcpu|reserve|fresh)'; then
		ok "tracing.rst: trace-cmd record/report shows respool_alloc"
	else
		sed 's/^/# /' "$tmp/tc.log"
		nok "tracing.rst: trace-cmd record/report shows respool_alloc"
	fi
else
	skip "tracing.rst: trace-cmd" "trace-cmd is not installed"
fi

# Each bpftrace one-liner of tracing.rst, run around the client.
# A workload for the one-liners: fill the pool, then wait 50 ms in vain.
cat >"$tmp/waiter.c" <<'EOC'
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/respool.h>
int main(void)
{
	struct respool_alloc a = { .size = 4 << 20 };
	int fd = open("/dev/respool", O_RDWR);

	while (!ioctl(fd, RESPOOL_IOC_ALLOC, &a))
		a.flags = RESPOOL_ALLOC_NONBLOCK;
	a.flags = RESPOOL_ALLOC_TIMEOUT;
	a.timeout_ms = 50;
	return ioctl(fd, RESPOOL_IOC_ALLOC, &a) == 0;
}
EOC
gcc -I "$repo/uapi" -o "$tmp/waiter" "$tmp/waiter.c"

sed -n "s/^    bpftrace -e '\(.*\)'$/\1/p" "$docs/tracing.rst" >"$tmp/bt.progs"
i=0
while read -r prog; do
	i=$((i + 1))
	if ! command -v bpftrace >/dev/null; then
		skip "tracing.rst: bpftrace example $i" "bpftrace is not installed"
		continue
	fi
	# Tracepoint arguments are typed through the kernel's BTF.
	if [ ! -e /sys/kernel/btf/vmlinux ]; then
		skip "tracing.rst: bpftrace example $i" "the kernel has no BTF"
		continue
	fi
	if timeout 120 bpftrace -e "$prog" -c "$tmp/waiter" >"$tmp/bt.out" 2>&1 &&
	   grep -q '^@' "$tmp/bt.out"; then
		ok "tracing.rst: bpftrace example $i"
	else
		sed 's/^/# /' "$tmp/bt.out"
		nok "tracing.rst: bpftrace example $i"
	fi
done <"$tmp/bt.progs"

# The C examples of the man pages: each is a whole program that exits 0.
# respool(4) needs only the uapi header; librespool(3) links the library
# as built in the repository (installed: pkg-config --libs librespool).
for page in $c_pages; do
	if [ ! -e "$docs/$page" ]; then
		skip "$page: the C example builds and runs" "$page does not exist"
		continue
	fi
	flags=(-I "$repo/uapi")
	case $page in
	*librespool*)
		if [ ! -e "$repo/tools/lib/librespool.a" ]; then
			skip "$page: the C example builds and runs" \
				"tools/lib/librespool.a is not built (make tools)"
			continue
		fi
		flags=(-I "$repo/tools/lib" "${flags[@]}")
		libs=("$repo/tools/lib/librespool.a" -pthread) ;;
	*)
		libs=() ;;
	esac
	c_block "$docs/$page" >"$tmp/ex.c"
	if [ ! -s "$tmp/ex.c" ]; then
		echo "# $page has no '.. code-block:: c'"
		nok "$page: the C example builds and runs"
	elif gcc -Wall -Werror "${flags[@]}" -o "$tmp/ex" "$tmp/ex.c" \
		"${libs[@]}" >"$tmp/ex.log" 2>&1 &&
	     timeout 60 "$tmp/ex" >>"$tmp/ex.log" 2>&1; then
		sed 's/^/# /' "$tmp/ex.log"
		ok "$page: the C example builds and runs"
	else
		sed 's/^/# /' "$tmp/ex.log"
		nok "$page: the C example builds and runs"
	fi
done

export KSRC=$repo/.cache/linux-src
export PATH=$repo/tools/respoolctl:$PATH
# respoolctl(8) names the installed spec; without it, the repository's.
spec=/usr/share/respool/respool.yaml
while read -r line; do
	cmd=${line#*: }
	[ -e "$spec" ] || cmd=${cmd//$spec/Documentation/netlink/specs/respool.yaml}
	if (cd "$repo" && eval "$cmd") >"$tmp/nl.out" 2>&1; then
		ok "$line"
	else
		sed 's/^/# /' "$tmp/nl.out" | tail -5
		nok "$line"
	fi
done <"$tmp/nl.cmds"

totals
