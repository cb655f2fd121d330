#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# respoolctl_test.sh - the netlink family from the outside: genl-ctrl-list
# sees it, the kernel's own YNL client (tools/net/ynl/cli.py) drives it
# from the spec alone, and respoolctl's human and JSON output, its error
# messages and exit codes. Prints KTAP; exit 0 pass, 1 fail, 4 skip.
# Runs as root in the test VM:
#   tools/vm/run -- selftests/respool/run_tests.sh respoolctl_test.sh
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
R=$repo/tools/respoolctl/respoolctl
SPEC=$repo/Documentation/netlink/specs/respool.yaml
YNL_CLI=$repo/.cache/linux-src/tools/net/ynl/cli.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${bg:-}" ] && kill "$bg" 2>/dev/null' EXIT

pass=0 fail=0 skip=0 n=0
ok()   { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok()  { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skp()  { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
# check NAME COMMAND...: the command's success is the test's.
check() {
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		ok "$name"
	else
		sed 's/^/# /' "$tmp/out"
		nok "$name"
	fi
}
finish() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	[ "$fail" -gt 0 ] && exit 1
	[ "$pass" -eq 0 ] && [ "$skip" -gt 0 ] && exit 4
	exit 0
}

echo "TAP version 13"
NTESTS=82
echo "1..$NTESTS"
why=
if [ "$(id -u)" != 0 ]; then
	why="needs root (runs in the test VM: tools/vm/run)"
elif [ -z "${RESPOOL_KO:-}" ]; then
	why="RESPOOL_KO is not set (run through tools/vm/run)"
elif [ ! -x "$R" ]; then
	why="$R is not built (make tools)"
fi
if [ -n "$why" ]; then
	for i in $(seq $NTESTS); do skp "respoolctl_test_$i" "$why"; done
	finish
fi

reload() {
	rmmod respool 2>/dev/null
	insmod "$RESPOOL_KO" "$@"
}
json_ok() { python3 -m json.tool >/dev/null; }
ynl() { python3 "$YNL_CLI" --spec "$SPEC" --no-schema "$@"; }
cfg() { "$R" -j config show | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
export -f json_ok ynl cfg
export R SPEC YNL_CLI tmp

reload capacity=16M max_block_size=1M idle_trim_ms=0 || { nok "module loads"; finish; }

# --- the family as the kernel's own tools see it ---
check "genl-ctrl-list shows the family" \
	bash -c 'genl-ctrl-list | grep -q "respool version 1"'

check "ynl cli: --do pool-get" \
	bash -c "ynl --do pool-get --output-json |
		python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"capacity\"] == 16 << 20, d; assert d[\"stats\"][\"clients\"] == 0, d'"

exec 3<>/dev/respool
check "ynl cli: --dump client-get lists an open file" \
	bash -c "ynl --dump client-get --output-json |
		python3 -c 'import json,sys; d=json.load(sys.stdin); assert [c for c in d if c[\"pid\"] == $$], d'"
exec 3<&-

check "ynl cli: --dump cpu-get" \
	bash -c "ynl --dump cpu-get --output-json |
		python3 -c 'import json,sys,os; d=json.load(sys.stdin); assert len(d) == os.cpu_count(), d'"

check "ynl cli: --do config-set" \
	bash -c "ynl --do config-set --json '{\"threshold\": 42, \"capacity\": 8388608}' &&
		ynl --do pool-get --output-json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"threshold\"] == 42 and d[\"capacity\"] == 8 << 20, d'"

# The policy refuses it (the spec's checks: max 100): ERANGE, and the
# extack names the attribute and carries the policy's bounds.
check "ynl cli: config-set threshold 120 is refused by the policy, with its bounds" \
	bash -c "! ynl --do config-set --json '{\"threshold\": 120}' >$tmp/ynl 2>&1 &&
		grep -q 'Numerical result out of range' $tmp/ynl &&
		grep -q 'integer out of range' $tmp/ynl && grep -q \"bad-attr.*threshold\" $tmp/ynl &&
		grep -q \"'min-value': 0, 'max-value': 100\" $tmp/ynl"

check "ynl cli: prefill, drain, stats-reset" \
	bash -c "ynl --do prefill --json '{\"size\": 8192, \"count\": 3}' --output-json | grep -q '\"count\": 3' &&
		ynl --do drain --output-json | grep -q '\"released-bytes\": 24576' &&
		ynl --do stats-reset"

# cli.py subscribes, sleeps, then prints what came: change the config
# until it is done, since its start-up time is not known.
ynl --subscribe monitor --sleep 4 --output-json >"$tmp/ntf" 2>&1 & ntfpid=$!
while kill -0 "$ntfpid" 2>/dev/null; do
	"$R" config set threshold 44 >/dev/null
	sleep 0.5
done
if grep -q config-ntf "$tmp/ntf" && grep -q '"threshold": 44' "$tmp/ntf"; then
	ok "ynl cli: --subscribe monitor sees config-ntf"
else
	sed 's/^/# /' "$tmp/ntf"; nok "ynl cli: --subscribe monitor sees config-ntf"
fi

# --- respoolctl, human and JSON ---
reload capacity=16M max_block_size=1M idle_trim_ms=0
check "stats: human output with units and histogram" \
	bash -c "$R stats >$tmp/s && grep -q '^capacity  *16M$' $tmp/s &&
		grep -q '^wait time histogram' $tmp/s && grep -q '^allocs  *0$' $tmp/s"
check "stats -j: valid JSON with raw numbers" \
	bash -c "$R -j stats | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"capacity\"] == 16777216 and \"wait-hist\" in d and \"last-reset-ns\" in d, d'"
check "stats -j -p: pretty JSON" bash -c "$R -j -p stats | json_ok && [ \$($R -p stats | wc -l) -gt 20 ]"
check "config show" bash -c "$R config show | grep -q '^threshold  *75%$'"
check "config (prefix, default show)" bash -c "$R conf | grep -q '^capacity  *16M$'"
check "config show -j" \
	bash -c "$R -j config show | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d == {\"capacity\": 16<<20, \"max-block-size\": 1<<20, \"reserve-max\": 16<<20, \"client-quota\": 0, \"user-quota\": 0, \"threshold\": 75, \"pcpu-cache-blocks\": 16, \"idle-trim-ms\": 0}, d'"
check "config set with sizes and prefixes" \
	bash -c "$R config set cap 12M thr 60 client-quota 1m && [ \$(cfg capacity) = 12582912 ] &&
		[ \$(cfg threshold) = 60 ] && [ \$(cfg client-quota) = 1048576 ]"

out=$("$R" config set threshold 120 2>&1); rc=$?
if [ $rc = 1 ] && [ "$out" = "respoolctl: invalid threshold 120: must be 0..100" ] &&
   [ "$(cfg threshold)" = 60 ]; then
	ok "config set threshold 120: message, exit 1, unchanged"
else
	echo "# rc=$rc out=$out"; nok "config set threshold 120: message, exit 1, unchanged"
fi
out=$("$R" config set capacity 8M pcpu 65 2>&1); rc=$?
if [ $rc = 1 ] && [ "$out" = "respoolctl: invalid pcpu-cache-blocks 65: must be 0..64" ] &&
   [ "$(cfg capacity)" = 12582912 ]; then
	ok "config set is all or nothing"
else
	echo "# rc=$rc out=$out"; nok "config set is all or nothing"
fi
out=$("$R" config set max-block-size 5000 2>&1); rc=$?
[ $rc = 1 ] && [[ "$out" == "respoolctl: invalid max-block-size 5000: must be a multiple"* ]] &&
	ok "config set max-block-size 5000 refused" ||
	{ echo "# rc=$rc out=$out"; nok "config set max-block-size 5000 refused"; }
# client-quota is 1M from above.
check "config set user_quota 1M (the parameter's name): config show prints it" \
	bash -c "$R config set user_quota 1M && [ \$(cfg user-quota) = 1048576 ] &&
		$R config show | grep -q '^user-quota  *1M$'"
out=$("$R" config set user-quota 512K 2>&1); rc=$?
if [ $rc = 1 ] && [ "$out" = "respoolctl: invalid user-quota 512K: must be 0 or at least client-quota" ] &&
   [ "$(cfg user-quota)" = 1048576 ]; then
	ok "config set user-quota below client-quota: refused, named, unchanged"
else
	echo "# rc=$rc out=$out"; nok "config set user-quota below client-quota: refused, named, unchanged"
fi
out=$("$R" config set client-quota 2M 2>&1); rc=$?
if [ $rc = 1 ] && [ "$out" = "respoolctl: invalid client-quota 2M: must be 0 or at most user-quota (when that is not 0)" ] &&
   [ "$(cfg client-quota)" = 1048576 ] && "$R" config set user-quota 0 &&
   "$R" config show | grep -q '^user-quota  *none$'; then
	ok "config set client-quota above user-quota: refused at client-quota"
else
	echo "# rc=$rc out=$out"; nok "config set client-quota above user-quota: refused at client-quota"
fi

"$R" config set threshold >/dev/null 2>&1; rc1=$?
"$R" config set bogus 1 >/dev/null 2>&1; rc2=$?
"$R" frobnicate >/dev/null 2>&1; rc3=$?
"$R" config set threshold abc >/dev/null 2>&1; rc4=$?
[ "$rc1$rc2$rc3$rc4" = 2222 ] && ok "usage errors exit 2" ||
	{ echo "# exits $rc1 $rc2 $rc3 $rc4"; nok "usage errors exit 2"; }
check "help at every level" bash -c "$R help | grep -q 'config set' && $R config help | grep -q 'config show'"

check "prefill human" bash -c "$R prefill 64K 4 | grep -q 'prefilled 4 of 4 blocks of 64K'"
check "prefill -j" bash -c "$R -j prefill 8k 2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d == {\"count\": 2, \"size\": 8192}, d'"
# size 0 is the policy's (ERANGE): respoolctl says its bound.
out=$("$R" prefill 0 1 2>&1); rc=$?
[ $rc = 1 ] && [ "$out" = "respoolctl: invalid size 0: must be at least 1" ] &&
	ok "prefill size 0: the policy's bound, exit 1" ||
	{ echo "# rc=$rc out=$out"; nok "prefill size 0: the policy's bound, exit 1"; }
out=$("$R" prefill 2M 1 2>&1); rc=$?
[ $rc = 1 ] && [ "$out" = "respoolctl: invalid size 2M: larger than max-block-size or capacity" ] &&
	ok "prefill too large a size: message, exit 1" ||
	{ echo "# rc=$rc out=$out"; nok "prefill too large a size: message, exit 1"; }
check "cpus human" bash -c "$R cpus | head -1 | grep -q '^CPU .*BLOCK SIZES' && [ \$($R cpus | wc -l) = \$(( \$(nproc --all) + 1 )) ]"
check "cpus -j" bash -c "$R -j cpus | python3 -c 'import json,sys,os; d=json.load(sys.stdin); assert len(d) == os.cpu_count() and all(\"cached-block-sizes\" in c for c in d), d'"
check "drain human" bash -c "$R drain | grep -q '^released 272K$'"
check "drain -j" bash -c "$R -j drain | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d == {\"released-bytes\": 0}, d'"

exec 3<>/dev/respool
check "clients human" bash -c "$R clients | grep -q '^ID .*WAITING' && $R clients | grep -Eq '^[0-9]+ +$$ +'"
check "clients -j" bash -c "$R -j clients | python3 -c 'import json,sys; d=json.load(sys.stdin); c=[x for x in d if x[\"pid\"] == $$]; assert len(c) == 1 and c[0][\"held-bytes\"] == 0 and \"waiting-since-ns\" not in c[0] and c[0][\"fast-path\"] is False, d'"
exec 3<&-
check "clients with none open" bash -c "$R clients | grep -q '^no clients$' && [ \"\$($R -j clients)\" = '[]' ]"

check "reset" bash -c "$R reset && $R -j stats | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"allocs\"] == 0 and d[\"frees\"] == 0, d'"
# One line per sample under one header, each with its time (vmstat's way).
check "watch human: a header, then one timed line per sample" \
	bash -c "$R watch -i 0.2 -n 2 >$tmp/w && [ \$(wc -l <$tmp/w) = 3 ] &&
		head -1 $tmp/w | grep -q '^TIME  *CAPACITY  *IN-USE .*ALLOCS/S' &&
		[ \$(grep -Ec '^[0-9]{2}:[0-9]{2}:[0-9]{2}  *12M ' $tmp/w) = 2 ]"
check "watch -t: full time stamps" \
	bash -c "$R -t watch -i 0.2 -n 1 | tail -1 | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}  *12M '"
# JSON keys are the stats' attribute names, rates under per-second.
check "watch -j: one object per sample, keyed by attribute names" \
	bash -c "$R -j watch -i 0.2 -n 2 >$tmp/wj && [ \$(wc -l <$tmp/wj) = 2 ] &&
		$R -j stats >$tmp/sj && python3 -c '
import json, sys
st = json.load(open(\"$tmp/sj\"))
for line in open(\"$tmp/wj\"):
    d = json.loads(line)
    missing = [k for k in st if k != \"wait-hist\" and k not in d]
    assert not missing, missing
    assert d[\"capacity\"] == 12 << 20 and d[\"interval-ns\"] > 0, d
    assert set(d[\"per-second\"]) >= {\"allocs\", \"frees\", \"pcpu-hits\"}, d
'"

# --- friction a new user met (issue 15) ---
usage_says() {	# usage_says "WANTED FIRST LINE" ARGS...: exit 2, reason first
	local want=$1 out rc
	shift
	out=$("$R" "$@" 2>&1); rc=$?
	[ $rc = 2 ] && [ "$(head -1 <<<"$out")" = "$want" ] ||
		{ echo "# $*: rc=$rc out=$out"; return 1; }
}
check "usage errors say why" bash -c "$(declare -f usage_says)
	usage_says \"respoolctl: stats: takes no arguments, 'bogus' is one too many\" stats bogus &&
	usage_says \"respoolctl: watch: -i needs a number above 0, not '0'\" watch -i 0 &&
	usage_says \"respoolctl: prefill: needs a COUNT after the SIZE\" prefill 64K &&
	usage_says \"respoolctl: unknown option '--bogus'\" --bogus stats &&
	usage_says \"respoolctl: config set: 'threshold' has no value\" config set threshold"
check "numbers are decimal: threshold 010 is ten, not octal eight" \
	bash -c "$R config set threshold 010 && [ \$(cfg threshold) = 10 ]"
out=$("$R" config set threshold 12Q 2>&1); rc=$?
[ $rc = 2 ] && [ "$(head -1 <<<"$out")" = "respoolctl: invalid threshold 12Q: not a whole number" ] &&
	[ "$(cfg threshold)" = 10 ] && ok "threshold 12Q: not a whole number, no wrong range, unchanged" ||
	{ echo "# rc=$rc out=$out"; nok "threshold 12Q: not a whole number, no wrong range, unchanged"; }
# What respoolctl prints, it reads back to the same byte.
check "sizes round-trip: 1.5M and 1028K as printed are typed back in" \
	bash -c "$R config set capacity 1.5M && [ \$(cfg capacity) = 1572864 ] &&
		v=\$($R config show | awk '\$1 == \"capacity\" { print \$2 }') && [ \"\$v\" = 1.5M ] &&
		$R config set capacity 1028K && v=\$($R config show | awk '\$1 == \"capacity\" { print \$2 }') &&
		$R config set capacity \$v && [ \$(cfg capacity) = \$((1028 << 10)) ] &&
		$R config set capacity 12M"
out=$("$R" config set capacity 1.3K 2>&1); rc=$?
[ $rc = 2 ] && [ "$(head -1 <<<"$out")" = "respoolctl: invalid capacity 1.3K: not a whole number of bytes" ] &&
	ok "size 1.3K: not a whole number of bytes" ||
	{ echo "# rc=$rc out=$out"; nok "size 1.3K: not a whole number of bytes"; }
check "prefill says why it added fewer blocks than asked" \
	bash -c "$R drain >/dev/null && $R config set reserve-max 128K &&
		$R prefill 64K 4 >$tmp/pf && grep -qx 'prefilled 2 of 4 blocks of 64K: the free blocks (128K) reach reserve-max (128K)' $tmp/pf &&
		$R -j prefill 64K 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"count\"] == 0 and \"reserve-max\" in d[\"stopped\"], d' &&
		$R config set reserve-max 12M && $R drain >/dev/null"

# A waiter: a holder takes the whole 64K capacity, a second ALLOC waits.
alloc_py='
import fcntl, os, struct, sys, time
size, flags, tmo, hold = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fd = os.open("/dev/respool", os.O_RDWR)
arg = bytearray(struct.pack("QIIQQQQQ", size, flags, tmo, 0, 0, 0, 0, 0))
try:
    fcntl.ioctl(fd, (3 << 30) | (len(arg) << 16) | (0xB9 << 8), arg)
    print("ok", flush=True)
except OSError as e:
    print("err", e.errno, flush=True)
time.sleep(hold)
'
"$R" config set capacity 64K max-block-size 64K >/dev/null
python3 -c "$alloc_py" 65536 0 0 600 >"$tmp/holder" & holder=$!
python3 -c "$alloc_py" 65536 2 120000 600 >"$tmp/waiter" & waiter=$!
seen=
for _ in $(seq 100); do
	"$R" -j clients | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(not [c for c in d if c.get("waiting-bytes") == 65536])' &&
		{ seen=1; break; }
	sleep 0.2
done
"$R" clients >"$tmp/cl"
if [ -n "$seen" ] && grep -Eq " 64K for [0-9.]+(ns|us|ms|s)$" "$tmp/cl"; then
	ok "clients: a waiter shows how many bytes it waits for, and how long"
else
	sed 's/^/# /' "$tmp/cl"; nok "clients: a waiter shows how many bytes it waits for, and how long"
fi
kill "$holder"; wait "$holder" 2>/dev/null
for _ in $(seq 100); do grep -q ok "$tmp/waiter" && break; sleep 0.2; done
kill "$waiter"; wait "$waiter" 2>/dev/null
"$R" stats >"$tmp/s"
# 2^24 ns is 16.8ms, not "16M".
if grep -q ok "$tmp/waiter" &&
   sed -n '/^wait time histogram:$/,$p' "$tmp/s" | grep -Eq '^\[[0-9.]+(ns|us|ms|s), [0-9.]+(ns|us|ms|s)\) +[0-9]+ \|@'; then
	ok "stats: the wait histogram's buckets are labelled as times"
else
	sed 's/^/# /' "$tmp/s"; cat "$tmp/waiter"; nok "stats: the wait histogram's buckets are labelled as times"
fi
"$R" config set max-block-size 1M capacity 12M >/dev/null

# An exported block: a process exports 64K as a dma-buf and holds the fd;
# stats show it as exported until the process (and with it the fd) goes.
export_py='
import fcntl, os, struct, time
def ioc(nr, size): return (3 << 30) | (size << 16) | (0xB9 << 8) | nr
fd = os.open("/dev/respool", os.O_RDWR)
a = bytearray(struct.pack("QIIQQQQQ", 65536, 0, 0, 0, 0, 0, 0, 0))
fcntl.ioctl(fd, ioc(0, len(a)), a)
x = bytearray(struct.pack("QIiQQ", struct.unpack_from("Q", a, 16)[0],
                          os.O_RDWR | os.O_CLOEXEC, 0, 0, 0))
fcntl.ioctl(fd, ioc(6, len(x)), x)
os.close(fd)
print("exported", struct.unpack_from("i", x, 12)[0], flush=True)
time.sleep(600)
'
"$R" reset
python3 -c "$export_py" >"$tmp/exporter" 2>&1 & exporter=$!
for _ in $(seq 300); do grep -q exported "$tmp/exporter" && break; sleep 0.1; done
"$R" stats >"$tmp/s"
"$R" -j stats >"$tmp/sj"
if grep -q '^exported-bytes  *64K$' "$tmp/s" && grep -q '^exports  *1$' "$tmp/s" &&
   grep -q '^export-returns  *0$' "$tmp/s" &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["exported-bytes"] == 65536 and d["exports"] == 1 and d["export-returns"] == 0 and d["in-use-bytes"] == 65536, d' "$tmp/sj"; then
	ok "stats: an exported block in exported-bytes and exports, human and JSON"
else
	sed 's/^/# /' "$tmp/exporter" "$tmp/s" "$tmp/sj"
	nok "stats: an exported block in exported-bytes and exports, human and JSON"
fi
kill "$exporter"; wait "$exporter" 2>/dev/null
back=
for _ in $(seq 100); do
	"$R" -j stats >"$tmp/sj"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["export-returns"] == 1 and d["exported-bytes"] == 0 and d["in-use-bytes"] == 0))' "$tmp/sj" &&
		{ back=1; break; }
	sleep 0.1
done
"$R" stats >"$tmp/s"
if [ -n "$back" ] && grep -q '^exported-bytes  *0$' "$tmp/s" && grep -q '^export-returns  *1$' "$tmp/s"; then
	ok "stats: the block back with its holder gone: export-returns 1, exported-bytes 0"
else
	sed 's/^/# /' "$tmp/sj" "$tmp/s"
	nok "stats: the block back with its holder gone: export-returns 1, exported-bytes 0"
fi

# A kept block: a process maps its control page, takes 64K, marks its slot
# KEPT as librespool does instead of FREE (INUSE|gen -> KEPT|gen), says it
# hit 5 times, and sleeps. drain takes the kept block back.
keep_py='
import fcntl, mmap, os, struct, time
def ioc(nr, size): return (3 << 30) | (size << 16) | (0xB9 << 8) | nr
fd = os.open("/dev/respool", os.O_RDWR)
ctl = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
a = bytearray(struct.pack("QIIQQQQQ", 65536, 0, 0, 0, 0, 0, 0, 0))
fcntl.ioctl(fd, ioc(0, len(a)), a)
handle, offset, size = struct.unpack_from("QQQ", a, 16)
block = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=offset)
block[0:5] = b"hello"
slots = memoryview(ctl).cast("I")[16:]
assert slots[handle] & 7 == 1, hex(slots[handle])
slots[handle] = (slots[handle] & ~7) | 2
struct.pack_into("Q", ctl, 8, 5)
print("kept", handle, flush=True)
time.sleep(600)
'
"$R" reset
python3 -c "$keep_py" >"$tmp/keeper" 2>&1 & keeper=$!
for _ in $(seq 300); do grep -q kept "$tmp/keeper" && break; sleep 0.1; done
"$R" clients >"$tmp/cl"
"$R" -j clients >"$tmp/clj"
if awk -v pid=$keeper '$2 == pid && $9 == "yes" && $10 == "64K" && $11 == 1 && $12 == 0 && $13 == 5 { f = 1 } END { exit !f }' "$tmp/cl" &&
   head -1 "$tmp/cl" | grep -q ' FAST  *KEPT  *KBLKS  *TAKEBACKS  *HITS(CLIENT)  *WAITING$' &&
   python3 -c 'import json,sys; c=[x for x in json.load(open(sys.argv[1])) if x["pid"] == int(sys.argv[2])]; assert len(c) == 1 and c[0]["fast-path"] is True and c[0]["kept-bytes"] == 65536 and c[0]["kept-blocks"] == 1 and c[0]["takebacks"] == 0 and c[0]["fast-hits"] == 5 and c[0]["held-bytes"] == 65536, c' "$tmp/clj" $keeper; then
	ok "clients: the fast path on, a kept block and the client's own hits, human and JSON"
else
	sed 's/^/# /' "$tmp/keeper" "$tmp/cl" "$tmp/clj"
	nok "clients: the fast path on, a kept block and the client's own hits, human and JSON"
fi
"$R" stats >"$tmp/s"
"$R" -j stats >"$tmp/sj"
if grep -q '^kept-bytes  *64K$' "$tmp/s" && grep -q '^kept-blocks  *1$' "$tmp/s" &&
   grep -q '^takebacks  *0$' "$tmp/s" &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kept-bytes"] == 65536 and d["kept-blocks"] == 1 and d["takebacks"] == 0 and d["in-use-bytes"] == 65536, d' "$tmp/sj"; then
	ok "stats: a kept block in kept-bytes and kept-blocks, still in use, human and JSON"
else
	sed 's/^/# /' "$tmp/s" "$tmp/sj"
	nok "stats: a kept block in kept-bytes and kept-blocks, still in use, human and JSON"
fi
"$R" drain >/dev/null
back=
for _ in $(seq 100); do
	"$R" -j stats >"$tmp/sj"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["takebacks"] == 1 and d["kept-bytes"] == 0 and d["kept-blocks"] == 0))' "$tmp/sj" &&
		{ back=1; break; }
	sleep 0.1
done
"$R" stats >"$tmp/s"
"$R" clients >"$tmp/cl"
"$R" -j clients >"$tmp/clj"
if [ -n "$back" ] && grep -q '^takebacks  *1$' "$tmp/s" && grep -q '^kept-bytes  *0$' "$tmp/s" &&
   awk -v pid=$keeper '$2 == pid && $9 == "yes" && $10 == "0" && $11 == 0 && $12 == 1 { f = 1 } END { exit !f }' "$tmp/cl" &&
   python3 -c 'import json,sys; c=[x for x in json.load(open(sys.argv[1])) if x["pid"] == int(sys.argv[2])]; assert len(c) == 1 and c[0]["kept-bytes"] == 0 and c[0]["takebacks"] == 1, c' "$tmp/clj" $keeper; then
	ok "drain takes the kept block back: takebacks 1, kept-bytes 0, in stats and clients"
else
	sed 's/^/# /' "$tmp/sj" "$tmp/s" "$tmp/cl" "$tmp/clj"
	nok "drain takes the kept block back: takebacks 1, kept-bytes 0, in stats and clients"
fi
kill "$keeper"; wait "$keeper" 2>/dev/null

# monitor: human and JSON lines for a config change. When the monitors
# have subscribed is not known (a loaded guest may start them late), so
# set the same threshold every half second until both have printed the
# event, for 30 s at most; each set sends a notification.
"$R" -t monitor >"$tmp/mon" 2>&1 & bg=$!
"$R" -j monitor >"$tmp/monj" 2>&1 & bg2=$!
for _ in $(seq 60); do
	"$R" config set threshold 55 >/dev/null
	grep -q ' config: ' "$tmp/mon" && grep -q '"event":"config"' "$tmp/monj" && break
	sleep 0.5
done
kill "$bg" "$bg2" 2>/dev/null; wait "$bg" "$bg2" 2>/dev/null; bg=
if grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6} config: .*threshold 55%' "$tmp/mon"; then
	ok "monitor -t prints a time-stamped config event"
else sed 's/^/# /' "$tmp/mon"; nok "monitor -t prints a time-stamped config event"; fi
if grep '"event":"config"' "$tmp/monj" | head -1 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["threshold"] == 55'; then
	ok "monitor -j prints a JSON event"
else sed 's/^/# /' "$tmp/monj"; nok "monitor -j prints a JSON event"; fi

# --- named pools (issue 15) ---
# fresh: no pool but default, and no total-capacity, so that a test that
# failed half-way leaves nothing to the next.
fresh() {
	local p
	for p in $("$R" -j pool show | python3 -c 'import json,sys; print(*[p["pool-name"] for p in json.load(sys.stdin)][1:])'); do
		"$R" pool del "$p"
	done
	"$R" pool set default total-capacity none
}
# The kernel's messages carry numbers (how many files, how much is left)
# from 6.2 on, where extack has NL_SET_ERR_MSG_FMT; 6.1 says the same
# without them (kmod/compat.h), and respoolctl adds a line with the
# numbers from a pool-get: num WITH6.2 LINE6.1.
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" = 6 ] && [ "${kmin%%[!0-9]*}" -ge 2 ]; }; then
	num() { printf '%s' "$1"; }
else
	num() { printf '%s' "${2:+$'\n'}${2:-}"; }
fi
# pj POOL KEY: the value of KEY in pool show -j POOL.
pj() { "$R" -j pool show "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
export -f pj
fresh
# says "WANTED" CMD...: exit 1 and that one line on stderr.
says() {
	local want=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	[ $rc = 1 ] && [ "$out" = "$want" ] || { echo "# $*: rc=$rc out=$out"; return 1; }
}
check "pool add, show, set, del: a round trip" \
	bash -c "$R pool add t1 capacity 4M threshold 60 && [ -c /dev/respool-t1 ] &&
		$R pool show t1 >$tmp/ps && head -1 $tmp/ps | grep -Eq '^pool t1 id [1-9][0-9]* dev /dev/respool-t1 node local owner root group root mode 0600$' &&
		grep -q ' capacity 4M ' $tmp/ps && grep -q ' threshold 60% ' $tmp/ps &&
		$R pool set t1 capacity 6M idle-trim-ms never && [ \$(pj t1 capacity) = 6291456 ] &&
		[ \$(pj t1 idle-trim-ms) = 0 ] && [ \$(pj t1 threshold) = 60 ] &&
		[ \$(cfg capacity) = 12582912 ] &&
		$R pool del t1 && [ ! -e /dev/respool-t1 ] &&
		! $R pool show t1 2>$tmp/err && grep -qx 'respoolctl: pool show t1: no such pool (No such file or directory)' $tmp/err"
check "pool add Bad!: EINVAL, the kernel's reason, nothing made" \
	bash -c "$(declare -f says)
		says 'respoolctl: invalid pool-name Bad!: 1 to 31 characters of a-z, 0-9, _ and -' $R pool add 'Bad!' &&
		says 'respoolctl: invalid pool-name aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1 to 31 characters of a-z, 0-9, _ and -' \
			$R pool add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa &&
		[ \"\$($R -j pool show | python3 -c 'import json,sys; print([p[\"pool-name\"] for p in json.load(sys.stdin)])')\" = \"['default']\" ]"
check "pool add of a name in use: EEXIST, said, the pool unchanged" \
	bash -c "$(declare -f says)
		$R pool add t1 capacity 4M &&
		says 'respoolctl: pool add t1: a pool of that name exists (File exists)' $R pool add t1 capacity 8M &&
		says 'respoolctl: pool add default: a pool of that name exists (File exists)' $R pool add default &&
		[ \$(pj t1 capacity) = 4194304 ]"
exec 3</dev/respool-t1
exec 5</dev/respool-t1
out=$("$R" pool del t1 2>&1); rc=$?
exec 5<&-
if [ $rc = 1 ] && [ "$out" = "respoolctl: pool del t1: files are open on the pool$(num ': 2') (Device or resource busy)$(num '' 'respoolctl: files open on pool t1: 2')" ] &&
   [ -c /dev/respool-t1 ] && exec 3<&- && "$R" pool del t1 && [ ! -e /dev/respool-t1 ]; then
	ok "pool del of a pool with open files: EBUSY, how many, then gone once closed"
else
	echo "# rc=$rc out=$out"; nok "pool del of a pool with open files: EBUSY, how many, then gone once closed"
fi
exec 3<&- 2>/dev/null
fresh
check "pool del default: refused, EPERM with the reason" \
	bash -c "$(declare -f says)
		says 'respoolctl: pool del default: the default pool cannot be deleted (Operation not permitted)' $R pool del default"
# default has 12M: 8M are left under a total of 20M.
m_add="respoolctl: invalid capacity 16M: more than total-capacity has left$(num ' (8M left)' 'respoolctl: total-capacity leaves 8M to pool t2')"
m_set="respoolctl: invalid capacity 13M: more than total-capacity has left$(num ' (12M left)' 'respoolctl: total-capacity leaves 12M to pool default')"
m_tot="respoolctl: invalid total-capacity 16M: less than the pools' capacities$(num ' (20M)' "respoolctl: the pools' capacities add up to 20M")"
export m_add m_set m_tot
check "total-capacity: pool add and pool set past it are ENOSPC, with what is left" \
	bash -c "$(declare -f says)
		$R pool set default total-capacity 20M && [ \$(pj default total-capacity) = 20971520 ] &&
		[ \$(pj default total-capacity-left) = 8388608 ] &&
		says \"\$m_add\" $R pool add t2 capacity 16M &&
		! $R pool show t2 2>/dev/null && $R pool add t2 capacity 8M &&
		$R pool show t2 | grep -q '^    total-capacity 20M total-capacity-left 0$' &&
		says \"\$m_set\" $R config set capacity 13M &&
		[ \$(cfg capacity) = 12582912 ] &&
		says \"\$m_tot\" $R pool set t2 total-capacity 16M &&
		$R pool del t2 && $R pool set default total-capacity none &&
		$R pool show default | grep -q '^    total-capacity none$'"
fresh
check "pool add owner group mode: the device node has them, pool show says them" \
	bash -c "$R pool add t3 capacity 4M owner 65534 group 65534 mode 0640 &&
		[ \"\$(stat -c '%u %g %a' /dev/respool-t3)\" = '65534 65534 640' ] &&
		[ \"\$(stat -c '%u %g %a' /dev/respool)\" != '65534 65534 640' ] &&
		$R pool show t3 | head -1 | grep -Eq ' owner [a-z0-9]+ group [a-z0-9]+ mode 0640$' &&
		[ \$(pj t3 owner) = 65534 ] && [ \$(pj t3 group) = 65534 ] && [ \$(pj t3 mode) = 416 ] &&
		$R pool add t4 owner root group root && [ \"\$(stat -c '%u %g %a' /dev/respool-t4)\" = '0 0 600' ]"
check "pool show -j: valid JSON, keyed by attribute names" \
	bash -c "$R -j pool show | python3 -m json.tool >/dev/null && $R -j -p pool show t3 | python3 -m json.tool >/dev/null &&
		$R -j pool show | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [p[\"pool-name\"] for p in d] == [\"default\", \"t3\", \"t4\"], d
t3 = d[1]
for k in (\"pool-id\", \"dev-name\", \"node\", \"owner\", \"group\", \"mode\", \"capacity\", \"max-block-size\",
          \"reserve-max\", \"client-quota\", \"user-quota\", \"threshold\", \"pcpu-cache-blocks\",
          \"idle-trim-ms\", \"total-capacity\"):
    assert k in t3, (k, t3)
assert t3[\"dev-name\"] == \"respool-t3\" and t3[\"node\"] == -1 and t3[\"capacity\"] == 4 << 20, t3
assert d[0][\"pool-id\"] == 0 and d[0][\"dev-name\"] == \"respool\", d
'"

exec 3<>/dev/respool-t3
exec 4<>/dev/respool
check "client show pool NAME: that pool's clients only; client show: all, with POOL" \
	bash -c "$R client show pool t3 >$tmp/c3 && [ \$(wc -l <$tmp/c3) = 2 ] && head -1 $tmp/c3 | grep -q '^ID  *PID ' &&
		grep -Eq '^[0-9]+ +$$ ' $tmp/c3 &&
		$R -j client show pool t3 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d) == 1 and d[0][\"pool-name\"] == \"t3\" and d[0][\"pid\"] == $$, d' &&
		$R client show >$tmp/ca && head -1 $tmp/ca | grep -q '^ID  *POOL  *PID ' &&
		grep -Eq '^[0-9]+ +t3 +$$ ' $tmp/ca && grep -Eq '^[0-9]+ +default +$$ ' $tmp/ca &&
		id=\$($R -j client show pool t3 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"id\"])') &&
		[ \"\$($R -j client show \$id | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[\"pool-name\"], d[\"id\"])')\" = \"t3 \$id\" ] &&
		! $R client show pool t4 \$id 2>/dev/null &&
		$R client show pool t4 | grep -qx 'no clients'"
check "aliases mean the default pool: clients, cpus, stats, config set" \
	bash -c "$R clients >$tmp/cd && [ \$(wc -l <$tmp/cd) = 2 ] && head -1 $tmp/cd | grep -q '^ID  *PID ' &&
		$R -j clients | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d) == 1 and d[0][\"pool-name\"] == \"default\", d' &&
		[ \$($R cpus | wc -l) = \$(( \$(nproc --all) + 1 )) ] &&
		$R stats | head -1 | grep -qx 'pool default' && $R config set threshold 57 &&
		[ \$(cfg threshold) = 57 ] && [ \$(pj t3 threshold) = 75 ] && $R config set threshold 55"
exec 3<&- 4<&-
check "cpu show pool NAME: one row per CPU of that pool; cpu show pool NAME CPU: one" \
	bash -c "$R cpu show pool t3 >$tmp/cpu && [ \$(wc -l <$tmp/cpu) = \$(( \$(nproc --all) + 1 )) ] &&
		head -1 $tmp/cpu | grep -q '^CPU  *ALLOCS ' &&
		$R -j cpu show pool t3 | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
assert len(d) == os.cpu_count() and all(c[\"pool-name\"] == \"t3\" and c[\"pool-id\"] > 0 for c in d), d' &&
		$R -j cpu show pool t3 0 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"id\"] == 0 and d[\"pool-name\"] == \"t3\", d' &&
		[ \$($R cpu show | grep -c '^[0-9]') = \$(( 3 * \$(nproc --all) )) ]"
check "pool stats: every pool, each under its name; pool stats NAME; watch pool NAME" \
	bash -c "[ \"\$($R pool stats | grep '^pool ')\" = \"\$(printf 'pool default\\npool t3\\npool t4')\" ] &&
		$R pool stats t3 | grep -q '^capacity  *4M$' &&
		$R -j pool stats | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [p[\"pool-name\"] for p in d] == [\"default\", \"t3\", \"t4\"] and \"node-bytes\" in d[1], d' &&
		$R watch pool t3 -i 0.2 -n 1 | tail -1 | grep -Eq '^[0-9:]{8} +4M '"
reserve() { "$R" -j pool stats "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reserve-bytes"])'; }
export -f reserve
check "pool prefill, drain, reset NAME act on that pool only" \
	bash -c "d0=\$(reserve default) && $R pool prefill t3 64K 2 | grep -qx 'prefilled 2 of 2 blocks of 64K' &&
		$R -j pool stats t3 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"reserve-bytes\"] == 128 << 10 and sum(n[\"bytes\"] for n in d[\"node-bytes\"]) == 128 << 10, d' &&
		[ \$(reserve default) = \$d0 ] && $R pool drain t3 | grep -qx 'released 128K' && [ \$(reserve default) = \$d0 ] &&
		$R pool reset t3 && $R -j pool stats t3 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"allocs\"] == 0 and d[\"fresh-allocs\"] == 0, d' &&
		$R -j stats | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"allocs\"] > 0, d'"
check "usage errors of the pool grammar say why, exit 2" \
	bash -c "$(declare -f usage_says)
		usage_says 'respoolctl: pool add: needs a pool NAME' pool add &&
		usage_says 'respoolctl: pool del: needs a pool NAME' pool del &&
		usage_says \"respoolctl: unknown setting 'owner' (one of: node capacity max-block-size reserve-max client-quota user-quota threshold pcpu-cache-blocks idle-trim-ms total-capacity)\" pool set t3 owner 0 &&
		usage_says 'respoolctl: invalid mode 0999: not permission bits in octal (0 to 0777)' pool add t9 mode 0999 &&
		usage_says 'respoolctl: client show: pool needs a NAME' client show pool &&
		usage_says \"respoolctl: cpu show: 'x' is neither 'pool NAME' nor a CPU number\" cpu show x &&
		usage_says \"respoolctl: client show: '7' is one argument too many\" client show 6 7"

# -b: a batch file, with comments and blank lines.
"$R" pool del small 2>/dev/null; "$R" pool del large 2>/dev/null
cat >"$tmp/pools.batch" <<'EOB'
# two pools at boot
pool add small capacity 2M max-block-size 64K threshold 100

pool add large capacity 8M   # big blocks
pool set large threshold 50
EOB
check "-b FILE: two pools from a file" \
	bash -c "$R -b $tmp/pools.batch && [ \$(pj small max-block-size) = 65536 ] &&
		[ \$(pj large threshold) = 50 ] && [ -c /dev/respool-small ] && [ -c /dev/respool-large ]"
printf 'pool del small\npool del large\npool add x1 capacity 1X\npool add x2\n' >"$tmp/bad.batch"
out=$("$R" -b "$tmp/bad.batch" 2>&1); rc=$?
if [ $rc = 1 ] && [ "$(head -1 <<<"$out")" = "$tmp/bad.batch:3: invalid capacity 1X: not a size (bytes, or a number with K/M/G/T)" ] &&
   ! "$R" pool show small 2>/dev/null && ! "$R" pool show x2 2>/dev/null; then
	ok "-b FILE: stops at the first failing line, FILE:LINE: why, exit 1"
else
	echo "# rc=$rc out=$out"; nok "-b FILE: stops at the first failing line, FILE:LINE: why, exit 1"
fi
out=$(printf 'pool add x3\npool add x3\npool add x4\n' | "$R" -f -b - 2>&1); rc=$?
if [ $rc = 1 ] && [ "$out" = "<stdin>:2: pool add x3: a pool of that name exists (File exists)" ] &&
   "$R" pool del x3 && "$R" pool del x4; then
	ok "-f -b -: stdin, goes on past a failing line, exit 1"
else
	echo "# rc=$rc out=$out"; nok "-f -b -: stdin, goes on past a failing line, exit 1"
fi

# monitor pool t3 sees t3's events only; monitor sees pool-new and
# pool-del. Set until both have printed, as above.
"$R" monitor pool t3 >"$tmp/mon3" 2>&1 & bg=$!
"$R" monitor >"$tmp/monall" 2>&1 & bg2=$!
for _ in $(seq 60); do
	"$R" config set threshold 55 >/dev/null
	"$R" pool set t3 threshold 33 >/dev/null
	"$R" pool add t5 >/dev/null && "$R" pool del t5
	grep -q '^config: pool t3' "$tmp/mon3" && grep -q '^pool-del: pool t5' "$tmp/monall" &&
		grep -q '^config: pool default' "$tmp/monall" && break
	sleep 0.5
done
kill "$bg" "$bg2" 2>/dev/null; wait "$bg" "$bg2" 2>/dev/null; bg=
if grep -q '^listening on respool/monitor for pool t3$' "$tmp/mon3" &&
   grep -q '^config: pool t3: .*threshold 33%' "$tmp/mon3" &&
   [ "$(grep -vc -e '^listening' -e '^[a-z-]*: pool t3[: ]' "$tmp/mon3")" = 0 ] &&
   grep -q '^config: pool default: .*threshold 55%' "$tmp/monall"; then
	ok "monitor pool NAME: that pool's events only, each naming it"
else sed 's/^/# /' "$tmp/mon3" "$tmp/monall"; nok "monitor pool NAME: that pool's events only, each naming it"; fi
if grep -Eq '^pool-new: pool t5 id [0-9]+ dev /dev/respool-t5$' "$tmp/monall" &&
   grep -Eq '^pool-del: pool t5 id [0-9]+$' "$tmp/monall"; then
	ok "monitor prints pool-new and pool-del"
else sed 's/^/# /' "$tmp/monall"; nok "monitor prints pool-new and pool-del"; fi

# Completion of pool names, from respoolctl -j pool show.
comp=/usr/share/bash-completion/bash_completion
if [ -r "$comp" ]; then
	check "bash completion: pool show offers the pools' names" \
		bash -c "source $comp && source $repo/tools/respoolctl/respoolctl.bash-completion &&
			comp() { COMP_WORDS=(\"\$@\"); COMP_CWORD=\$((\$# - 1)); COMP_LINE=\"\$*\";
				COMP_POINT=\${#COMP_LINE}; COMPREPLY=(); _respoolctl; echo \"\${COMPREPLY[*]}\"; } &&
			[ \"\$(comp $R pool show t)\" = 't3 t4' ] &&
			[ \"\$(comp $R cl s pool '')\" = 'default t3 t4' ]"
else
	skp "bash completion: pool show offers the pools' names" "no bash-completion"
fi
"$R" pool del t3 && "$R" pool del t4

# --- permissions and a missing module ---
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
out=$(as_nobody "$R" config set threshold 10 2>&1); rc=$?
[ $rc = 1 ] && [ "$out" = "respoolctl: permission denied: config set needs CAP_NET_ADMIN (and then CAP_SYS_ADMIN)" ] &&
	[ "$(cfg threshold)" = 55 ] && ok "config set as nobody: permission denied, unchanged" ||
	{ echo "# rc=$rc out=$out"; nok "config set as nobody: permission denied, unchanged"; }
"$R" prefill 4K 2 >/dev/null
before=$("$R" -j stats | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["blocks-free"], d["fresh-allocs"], d["last-reset-ns"])')
bad=0
for c in reset "prefill 4K 4" drain; do
	out=$(as_nobody "$R" $c 2>&1); rc=$?
	want="respoolctl: permission denied: ${c%% *} needs CAP_NET_ADMIN (and then CAP_SYS_ADMIN)"
	[ $rc = 1 ] && [ "$out" = "$want" ] || { echo "# $c: rc=$rc out=$out"; bad=1; }
done
after=$("$R" -j stats | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["blocks-free"], d["fresh-allocs"], d["last-reset-ns"])')
[ $bad = 0 ] && [ "$before" = "$after" ] && ok "reset, prefill, drain as nobody: refused, nothing changed" ||
	{ echo "# before=$before after=$after"; nok "reset, prefill, drain as nobody: refused, nothing changed"; }
check "stats as nobody works" as_nobody "$R" stats
out=$(unshare -U -r "$R" config set threshold 10 2>&1); rc=$?
if ! unshare -U -r true 2>/dev/null; then
	skp "config set as root of a user namespace: permission denied" "no user namespaces here"
else
[ $rc = 1 ] && [ "$out" = "respoolctl: permission denied: config set needs CAP_NET_ADMIN (and then CAP_SYS_ADMIN)" ] &&
	[ "$(cfg threshold)" = 55 ] && ok "config set as root of a user namespace: permission denied" ||
	{ echo "# rc=$rc out=$out"; nok "config set as root of a user namespace: permission denied"; }
fi

# One version everywhere: the tree's VERSION, modinfo, sysfs and -V.
v=$(cat "$repo/VERSION")
out=$("$R" -V 2>&1); rc=$?
mi=$(modinfo -F version "$RESPOOL_KO" 2>&1)
sys=$(cat /sys/module/respool/version 2>&1)
if [ $rc = 0 ] && [ -n "$v" ] && [ "$mi" = "$v" ] && [ "$sys" = "$v" ] &&
   [ "$out" = "respoolctl $v (librespool $v, module $v)" ] &&
   [ "$("$R" --version 2>&1)" = "$out" ]; then
	ok "-V: respoolctl, librespool and module all at VERSION and modinfo's"
else
	echo "# rc=$rc out=$out VERSION=$v modinfo=$mi sysfs=$sys"
	nok "-V: respoolctl, librespool and module all at VERSION and modinfo's"
fi

# CAP_NET_ADMIN without CAP_SYS_ADMIN: genetlink lets it through, respool
# refuses it, and respoolctl names what is missing.
out=$(setpriv --bounding-set -sys_admin "$R" config set threshold 10 2>&1); rc=$?
[ $rc = 1 ] && [ "$out" = "respoolctl: permission denied: config set needs CAP_SYS_ADMIN" ] &&
	[ "$(cfg threshold)" = 55 ] && ok "config set with CAP_NET_ADMIN only: needs CAP_SYS_ADMIN" ||
	{ echo "# rc=$rc out=$out"; nok "config set with CAP_NET_ADMIN only: needs CAP_SYS_ADMIN"; }

# monitor ends, and says so, when the module goes.
"$R" monitor >"$tmp/mon2" 2>&1 & bg=$!
# It prints "listening" once subscribed; a loaded guest may take seconds.
for _ in $(seq 300); do grep -q '^listening' "$tmp/mon2" && break; sleep 0.1; done
rmmod respool
for _ in $(seq 300); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$bg" 2>/dev/null; then
	kill "$bg"; wait "$bg" 2>/dev/null; bg=
	sed 's/^/# /' "$tmp/mon2"; nok "monitor exits with a message when the module is unloaded"
else
	wait "$bg"; rc=$?; bg=
	[ $rc = 1 ] && grep -qx 'respoolctl: monitor: the respool module was unloaded' "$tmp/mon2" &&
		ok "monitor exits with a message when the module is unloaded" ||
		{ echo "# rc=$rc"; sed 's/^/# /' "$tmp/mon2"; nok "monitor exits with a message when the module is unloaded"; }
fi

# (the module is unloaded now)
out=$("$R" -V 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "respoolctl $v (librespool $v, module not loaded)" ] &&
	ok "-V without the module: 'module not loaded', exit 0" ||
	{ echo "# rc=$rc out=$out"; nok "-V without the module: 'module not loaded', exit 0"; }

out=$("$R" stats 2>&1); rc=$?
[ $rc = 1 ] && [ "$out" = "respoolctl: respool module not loaded (no generic netlink family 'respool')" ] &&
	ok "module not loaded: message, exit 1" ||
	{ echo "# rc=$rc out=$out"; nok "module not loaded: message, exit 1"; }
insmod "$RESPOOL_KO"

[ "$n" = "$NTESTS" ] || { echo "# ran $n tests, planned $NTESTS"; fail=$((fail + 1)); }
finish
