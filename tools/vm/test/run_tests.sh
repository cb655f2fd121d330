#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of tools/vm/run: tools/vm/test/run_tests.sh [KERNEL...]
# (default: 6.1 6.12). Prints TAP-like ok / not ok lines and a summary;
# exits non-zero if anything failed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
RUN=$REPO/tools/vm/run
[ $# -gt 0 ] || set -- 6.1 6.12
cd "$REPO"

pass=0
fail=0
n=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# check NAME WANT_RC GREP_PATTERN|'' -- run-args...
# Runs tools/vm/run with the args, expects exit status WANT_RC and, when
# GREP_PATTERN is given, a line matching it in stdout+stderr (with a
# leading '!', no line matching the rest).
check() {
	local name=$1 want=$2 pat=$3 rc=0 t0 t1
	shift 4
	n=$((n + 1))
	t0=$(date +%s)
	"$RUN" "$@" >"$out/log" 2>&1 </dev/null || rc=$?
	t1=$(date +%s)
	if [ "$rc" -ne "$want" ]; then
		echo "not ok $n - $name: exit status $rc, want $want ($((t1 - t0))s)"
	elif [ -n "$pat" ] && [ "${pat#!}" = "$pat" ] && ! grep -qE -- "$pat" "$out/log"; then
		echo "not ok $n - $name: output has no line matching '$pat' ($((t1 - t0))s)"
	elif [ "${pat#!}" != "$pat" ] && grep -qE -- "${pat#!}" "$out/log"; then
		echo "not ok $n - $name: output has a line matching '${pat#!}' ($((t1 - t0))s)"
	else
		echo "ok $n - $name ($((t1 - t0))s)"
		pass=$((pass + 1))
		return 0
	fi
	fail=$((fail + 1))
	sed 's/^/# /' "$out/log" | tail -n 25
}

for k in "$@"; do
	echo "# kernel $k"
	mods=$("$REPO/tools/vm/test/build_modules.sh" "$k") || {
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - $k: build the self-test modules"
		continue
	}
	rel=$("$REPO/tools/kernels.sh" release "$k")
	K=(--kernel "$k")

	check "$k: exit status 0" 0 '' -- "${K[@]}" --no-module -- true
	check "$k: exit status 1" 1 '' -- "${K[@]}" --no-module -- false
	check "$k: exit status 42, stdout and stderr" 42 '^to-stderr$' -- "${K[@]}" --no-module -- \
		sh -c 'echo to-stdout; echo to-stderr >&2; exit 42'
	check "$k: guest runs kernel $rel in the same cwd" 0 "^${rel//+/\\+} $REPO\$" -- "${K[@]}" --no-module -- \
		sh -c 'echo "$(uname -r) $(pwd)"'
	check "$k: stdout is not mangled (no CR)" 0 '^clean$' -- "${K[@]}" --no-module -- \
		sh -c 'printf "a\nb\n" | od -c | grep -q "\\\\r" && echo dirty || echo clean'
	check "$k: host libnl binary lists nlctrl" 0 'nlctrl' -- "${K[@]}" --no-module -- genl-ctrl-list
	check "$k: python3, writable /tmp and overlay root, modprobe" 0 '^py-ok$' -- "${K[@]}" --no-module -- \
		sh -c 'touch /tmp/x /etc/x && modprobe dummy && grep -q "^dummy " /proc/modules &&
			python3 -c "import yaml; print(\"py-ok\")"'
	# Not chrooted in the kernel's eyes (current_chrooted()): a chrooted
	# process gets EPERM from unshare(CLONE_NEWUSER).
	check "$k: not chrooted: a user namespace can be created" 0 '^userns-ok 0$' -- "${K[@]}" --no-module -- \
		sh -c 'id=$(unshare -U -r id -u) && echo "userns-ok $id"'
	check "$k: module loaded, RESPOOL_KO/RESPOOL_KERNEL exported" 0 '^mod-ok$' -- "${K[@]}" \
		--module "$mods/hello.ko" -- sh -c "grep -q '^hello ' /proc/modules &&
			[ \"\$RESPOOL_KO\" = '$mods/hello.ko' ] && [ \"\$RESPOOL_KERNEL\" = '$k' ] &&
			rmmod hello && insmod \"\$RESPOOL_KO\" && echo mod-ok"
	check "$k: failing insmod of the module is reported" 123 'invalid for parameter' -- "${K[@]}" \
		--module "$mods/warn.ko" --module-args 'vm_test_warn=bogus' -- true
	check "$k: oops in module init fails the run" 125 'Oops|BUG: kernel NULL pointer' -- "${K[@]}" \
		--no-module -- insmod "$mods/oops.ko"
	check "$k: WARN_ON in module init fails the run" 125 'WARNING: .*warn' -- "${K[@]}" \
		--no-module -- insmod "$mods/warn.ko"
	check "$k: hang is caught by the timeout" 124 'timeout' -- "${K[@]}" \
		--no-module --timeout 15 -- sleep 1000
	# --numa 2: two nodes, one vCPU each (both online for the command,
	# as the guest boots on one), half the memory each; no kernel report
	# (the runner would exit 125).
	check "$k: --numa 2: two nodes, one vCPU each" 0 '^numa 0-1 cpus 0 1 mem ok$' -- "${K[@]}" \
		--no-module --smp 2 --numa 2 -- sh -c '
		N=/sys/devices/system/node
		m0=$(sed -n "s/.*MemTotal: *\([0-9]*\).*/\1/p" $N/node0/meminfo)
		m1=$(sed -n "s/.*MemTotal: *\([0-9]*\).*/\1/p" $N/node1/meminfo)
		ok=bad; [ "$m0" -gt 300000 ] && [ "$m1" -gt 300000 ] && ok=ok
		echo "numa $(cat $N/online) cpus $(cat $N/node0/cpulist) $(cat $N/node1/cpulist) mem $ok"'
	check "$k: --numa that does not split --smp evenly is refused" 126 'does not split evenly' -- \
		"${K[@]}" --no-module --smp 3 --numa 2 -- true
	# Boot hazards of the emulator: a guest that dies before respool is
	# loaded is booted once more, and the runner says so; twice is a
	# failure; a death after the command started is never retried.
	check "$k: all vCPUs online for the command" 0 '^cpus 2$' -- "${K[@]}" --no-module -- \
		sh -c 'echo "cpus $(nproc)"'
	check "$k: a guest that dies in boot is booted once more" 0 '^tools/vm/run: boot retried: .*(Oops|BUG|panic)' -- \
		"${K[@]}" --module "$mods/hello.ko" --test-boot-crash 1 -- sh -c 'grep -q "^hello " /proc/modules'
	check "$k: a guest that dies in boot twice fails the run" 125 'boot failed again' -- \
		"${K[@]}" --no-module --test-boot-crash '1 2' -- true
	check "$k: a kernel report in boot is booted once more" 0 '^tools/vm/run: boot retried: .*tainted 512' -- \
		"${K[@]}" --module "$mods/hello.ko" --test-boot-taint 1 -- sh -c 'grep -q "^hello " /proc/modules'
	check "$k: a death after the command started is not retried" 125 '!^tools/vm/run: boot retried: .*sysrq' -- \
		"${K[@]}" --no-module -- sh -c 'echo c >/proc/sysrq-trigger'
done

echo "# $pass passed, $fail failed, $n total"
[ "$fail" -eq 0 ]
