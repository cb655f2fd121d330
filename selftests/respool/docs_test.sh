#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# docs_test.sh - the examples in Documentation/ are run, not just read:
# the small client of userspace-api.rst, and the trace-cmd and bpftrace
# examples of tracing.rst. KTAP output; exit 0, 1, or 4 (all skipped).
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

echo "TAP version 13"
# The "$ command" lines of netlink.rst and respoolctl.rst, run from the
# repository, as "file: command".
for f in netlink.rst respoolctl.rst; do
	grep -E '^    \$ ' "$docs/$f" | sed "s/^    \\$ /$f: /"
done >"$tmp/nl.cmds"
plan=$((4 + $(wc -l <"$tmp/nl.cmds")))
echo "1..$plan"

if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/respool ]; then
	for t in $(seq "$plan"); do
		skip "example $t" "needs root and the respool module (tools/vm/run)"
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$n error:0"
	exit 4
fi

# The C block of userspace-api.rst, as printed there.
awk '/^\.\. code-block:: c/ { on = 1; next }
     on && /^[^ \t]/ && NF { exit }
     on { sub(/^    /, ""); print }' "$docs/userspace-api.rst" >"$tmp/client.c"
if gcc -Wall -Werror -I "$repo/uapi" -o "$tmp/client" "$tmp/client.c" \
	2>"$tmp/cc.log" && "$tmp/client" >"$tmp/client.out" &&
   grep -q '^handle [0-9]*: 102400 bytes at ' "$tmp/client.out"; then
	ok "userspace-api.rst: the small client builds and runs"
else
	cat "$tmp/cc.log" "$tmp/client.out" 2>/dev/null | sed 's/^/# /'
	nok "userspace-api.rst: the small client builds and runs"
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

export KSRC=$repo/.cache/linux-src
export PATH=$repo/tools/respoolctl:$PATH
while read -r line; do
	if (cd "$repo" && eval "${line#*: }") >"$tmp/nl.out" 2>&1; then
		ok "$line"
	else
		sed 's/^/# /' "$tmp/nl.out" | tail -5
		nok "$line"
	fi
done <"$tmp/nl.cmds"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
