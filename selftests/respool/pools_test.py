#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# pools_test.py - named pools through the netlink family, driven by the
# kernel's own YNL library from the spec (as the kernel's drivers/net
# selftests do): pool-new and pool-del, names, EEXIST, EBUSY (files
# open, blocks exported), ENOSPC against total-capacity, the device
# node's owner and mode, one pool's clients, settings and waits apart
# from another's, the dump filters, and the events' pool. Prints KTAP;
# exit 0 pass, 1 fail, 4 skip.
# Runs as root in the test VM:
#   tools/vm/run -- selftests/respool/run_tests.sh pools_test.py

import errno
import fcntl
import os
import stat
import struct
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SPEC = os.path.join(REPO, 'Documentation/netlink/specs/respool.yaml')
sys.path.insert(0, os.path.join(REPO, '.cache/linux-src/tools/net/ynl'))

try:
    from lib import YnlFamily, NlError
    import lib.ynl as ynl_lib
except ImportError as e:
    print('1..0 # SKIP the kernel\'s YNL library is missing: %s' % e)
    sys.exit(4)

MiB = 1 << 20
PAGE = os.sysconf('SC_PAGE_SIZE')
# _IOWR(0xB9, 0, struct respool_alloc), _IOW(0xB9, 1, struct respool_free)
IOC_ALLOC = (3 << 30) | (56 << 16) | (0xB9 << 8) | 0
IOC_FREE = (1 << 30) | (16 << 16) | (0xB9 << 8) | 1
# _IOWR(0xB9, 6, struct respool_export)
IOC_EXPORT = (3 << 30) | (32 << 16) | (0xB9 << 8) | 6
ALLOC_NONBLOCK = 1
ALLOC_TIMEOUT = 2

# 6.1's extended ACK has no room for a message with numbers in it.
FMT_ACK = tuple(map(int, os.uname().release.split('.')[:2])) >= (6, 2)

ynl = YnlFamily(SPEC)
results = []


def alloc(fd, size, flags=0, timeout_ms=0):
    """RESPOOL_IOC_ALLOC: the handle, or an OSError."""
    arg = bytearray(struct.pack('=QIIQQQQQ', size, flags, timeout_ms,
                                0, 0, 0, 0, 0))
    fcntl.ioctl(fd, IOC_ALLOC, arg)
    return struct.unpack_from('=Q', arg, 16)[0]


def free(fd, handle):
    fcntl.ioctl(fd, IOC_FREE, struct.pack('=QQ', handle, 0))


def export(fd, handle):
    """RESPOOL_IOC_EXPORT (O_RDWR | O_CLOEXEC): the dma-buf's fd."""
    arg = bytearray(struct.pack('=QIiQQ', handle, os.O_RDWR | os.O_CLOEXEC,
                                0, 0, 0))
    fcntl.ioctl(fd, IOC_EXPORT, arg)
    return struct.unpack_from('=i', arg, 12)[0]


def nl_err(fn, *args):
    """Run a netlink request: (errno, extack message), (0, reply) on success."""
    try:
        return 0, fn(*args)
    except NlError as e:
        ext = e.nl_msg.extack or {}
        return e.error, ext.get('msg', '')


def pool_new(name, **kw):
    vals = {'pool-name': name}
    vals.update({k.replace('_', '-'): v for k, v in kw.items()})
    return nl_err(ynl.do, 'pool-new', vals)


def pool_del(name):
    return nl_err(ynl.do, 'pool-del', {'pool-name': name})


def pool_get(name=None):
    return ynl.do('pool-get', {'pool-name': name} if name else {})


def pools():
    return {p['pool-name']: p for p in ynl.dump('pool-get', {})}


def cleanup():
    for name in pools():
        if name != 'default':
            pool_del(name)
    nl_err(ynl.do, 'config-set', {'total-capacity': 0})


class Fail(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Fail(what)


def test(fn):
    results.append(fn)
    return fn


@test
def names_are_checked_and_unique():
    before = pools()
    for bad in ['', 'A', 'a b', 'a/b', 'x' * 32, 'a.b', 'a\tb']:
        err, msg = pool_new(bad)
        expect(err == errno.EINVAL, '%r: errno %d, want EINVAL' % (bad, err))
        expect('pool-name' in msg, '%r: message %r' % (bad, msg))
    err, rep = pool_new('a-z_0' + 'x' * 26)
    expect(err == 0, 'a 31-character name: errno %d' % err)
    err, rep = pool_new('small', capacity=8 * MiB)
    expect(err == 0 and rep['pool-name'] == 'small', 'pool-new small')
    expect(rep['dev-name'] == 'respool-small', 'dev-name %r' % rep)
    err, msg = pool_new('small')
    expect(err == errno.EEXIST, 'duplicate: errno %d' % err)
    expect('exists' in msg, 'duplicate: message %r' % msg)
    after = pools()
    expect(set(after) == set(before) | {'small', 'a-z_0' + 'x' * 26},
           'pools after: %s' % sorted(after))
    expect(after['small']['capacity'] == 8 * MiB, 'small capacity')
    # reserve-max follows the pool's own capacity, as default's does
    expect(after['small']['reserve-max'] == 8 * MiB, 'small reserve-max')
    # by id and by name, and both naming different pools
    pid = after['small']['pool-id']
    expect(ynl.do('pool-get', {'pool-id': pid})['pool-name'] == 'small',
           'pool-get by id')
    err, msg = nl_err(ynl.do, 'pool-get', {'pool-id': pid,
                                           'pool-name': 'default'})
    expect(err == errno.EINVAL, 'id and name disagree: errno %d' % err)
    err, msg = nl_err(ynl.do, 'pool-get', {'pool-name': 'nosuch'})
    expect(err == errno.ENOENT and 'no such pool' in msg,
           'unknown pool: %d %r' % (err, msg))


@test
def node_has_owner_group_and_mode():
    err, _ = pool_new('team', owner=1234, group=4321, mode=0o640)
    expect(err == 0, 'pool-new team: errno %d' % err)
    st = os.stat('/dev/respool-team')
    expect(stat.S_ISCHR(st.st_mode), 'not a character device')
    expect(st.st_uid == 1234 and st.st_gid == 4321,
           'owner %d:%d' % (st.st_uid, st.st_gid))
    expect(stat.S_IMODE(st.st_mode) == 0o640,
           'mode %o' % stat.S_IMODE(st.st_mode))
    team = pool_get('team')
    expect((team['owner'], team['group'], team['mode']) == (1234, 4321, 0o640),
           'pool-get says %r' % ((team['owner'], team['group'],
                                  team['mode']),))
    err, _ = pool_new('plain')
    st = os.stat('/dev/respool-plain')
    expect(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600,
           'default owner and mode: %d %o' % (st.st_uid,
                                              stat.S_IMODE(st.st_mode)))
    err, msg = pool_new('zero', mode=0)
    expect(err == errno.EINVAL and 'zero' not in pools(), 'mode 0')
    # a user the mode lets in opens it; another does not
    pid = os.fork()
    if pid == 0:
        os.setgroups([])
        os.setgid(4321)
        os.setuid(1000)
        try:
            os.close(os.open('/dev/respool-team', os.O_RDWR))
            os._exit(1)
        except PermissionError:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    expect(os.waitstatus_to_exitcode(status) == 0,
           'group 4321 without write permission opened it read-write')


@test
def open_file_is_a_client_of_its_pool_only():
    pool_new('small', capacity=8 * MiB)
    fd = os.open('/dev/respool-small', os.O_RDWR)
    try:
        h = alloc(fd, 3 * PAGE)
        small = pool_get('small')
        default = pool_get()
        expect(small['stats']['in-use-bytes'] == 3 * PAGE, 'small in use')
        expect(small['stats']['clients'] == 1, 'small clients')
        expect(default['stats']['in-use-bytes'] == 0, 'default in use')
        sid = small['pool-id']
        mine = ynl.dump('client-get', {'pool-name': 'small'})
        expect(len(mine) == 1 and mine[0]['pool-id'] == sid and
               mine[0]['held-bytes'] == 3 * PAGE, 'filtered dump %r' % mine)
        expect(ynl.dump('client-get', {'pool-name': 'default'}) == [],
               'default has no client')
        cid = mine[0]['id']
        one = ynl.do('client-get', {'id': cid})
        expect(one['pool-id'] == sid, 'client-get by id')
        err, _ = nl_err(ynl.do, 'client-get', {'id': cid,
                                               'pool-name': 'default'})
        expect(err == errno.ENOENT, 'client-get in the wrong pool: %d' % err)
        everyone = ynl.dump('client-get', {})
        expect(cid in [c['id'] for c in everyone], 'unfiltered dump')
        cpus = ynl.dump('cpu-get', {'pool-name': 'small'})
        allc = ynl.dump('cpu-get', {})
        expect(cpus and all(c['pool-id'] == sid for c in cpus),
               'cpu-get filter')
        expect(len(allc) == len(cpus) * len(pools()), 'cpu-get of every pool')
        expect(sum(c['allocs'] for c in cpus) == 1, 'the alloc on small')
        free(fd, h)
    finally:
        os.close(fd)


@test
def del_is_busy_while_files_are_open():
    pool_new('busy')
    fds = [os.open('/dev/respool-busy', os.O_RDWR) for _ in range(2)]
    err, msg = pool_del('busy')
    expect(err == errno.EBUSY, 'pool-del with files open: errno %d' % err)
    expect('files are open' in msg, 'message %r' % msg)
    if FMT_ACK:
        expect(msg.endswith(': 2'), 'the message counts the files: %r' % msg)
    expect('busy' in pools() and os.path.exists('/dev/respool-busy'),
           'a refused pool-del changed something')
    for fd in fds:
        os.close(fd)
    err, _ = pool_del('busy')
    expect(err == 0, 'pool-del after close: errno %d' % err)
    expect('busy' not in pools(), 'still listed')
    expect(not os.path.exists('/dev/respool-busy'), 'node still there')
    err, msg = pool_del('default')
    expect(err == errno.EPERM and 'default' in msg,
           'default: %d %r' % (err, msg))


@test
def del_releases_free_blocks_and_a_mapping_keeps_it_busy():
    import mmap
    pool_new('gone', capacity=4 * MiB)
    fd = os.open('/dev/respool-gone', os.O_RDWR)
    h = alloc(fd, 2 * PAGE)
    arg = bytearray(struct.pack('=QIIQQQQQ', PAGE, 0, 0, 0, 0, 0, 0, 0))
    fcntl.ioctl(fd, IOC_ALLOC, arg)
    off = struct.unpack_from('=Q', arg, 24)[0]
    m = mmap.mmap(fd, PAGE, mmap.MAP_SHARED, offset=off)
    free(fd, h)
    os.close(fd)
    # The mapping holds the file: still a client.
    err, _ = pool_del('gone')
    expect(err == errno.EBUSY, 'mapped: errno %d' % err)
    m.close()
    st = pool_get('gone')['stats']
    expect(st['reserve-bytes'] + st['pcpu-bytes'] > 0, 'free blocks kept')
    err, _ = pool_del('gone')
    expect(err == 0, 'pool-del: errno %d' % err)


@test
def del_is_busy_while_a_block_is_exported():
    err, _ = pool_new('lent', capacity=4 * MiB)
    expect(err == 0, 'pool-new lent: errno %d' % err)
    fd = os.open('/dev/respool-lent', os.O_RDWR)
    xfd = export(fd, alloc(fd, 3 * PAGE))
    os.close(fd)
    try:
        # No file open on the pool: the dma-buf alone keeps it.
        expect(pool_get('lent')['stats']['clients'] == 0, 'a client left')
        err, msg = pool_del('lent')
        expect(err == errno.EBUSY, 'pool-del with a block exported: errno %d'
               % err)
        expect('blocks of the pool are exported' in msg, 'message %r' % msg)
        if FMT_ACK:
            expect(msg.endswith(': 1'), 'the message counts the blocks: %r'
                   % msg)
        expect('lent' in pools() and os.path.exists('/dev/respool-lent'),
               'a refused pool-del changed something')
        st = pool_get('lent')['stats']
        expect(st['exported-bytes'] == 3 * PAGE, 'exported-bytes %d'
               % st['exported-bytes'])
    finally:
        os.close(xfd)
    st = pool_get('lent')['stats']
    expect(st['exported-bytes'] == 0 and st['export-returns'] == 1,
           'after close: exported-bytes %d, export-returns %d' %
           (st['exported-bytes'], st['export-returns']))
    err, msg = pool_del('lent')
    expect(err == 0, 'pool-del after the dma-buf closed: %d %r' % (err, msg))
    expect(not os.path.exists('/dev/respool-lent'), 'node still there')


INJECT = '/sys/kernel/debug/respool/inject/pool_open'


def inject(cmd):
    with open(INJECT, 'w') as f:
        f.write(cmd)


def inject_held():
    with open(INJECT) as f:
        return int(f.read().split()[3])


@test
def open_racing_del_fails_and_leaks_nothing():
    if not os.path.exists(INJECT):
        return 'SKIP the module is not the test build (no injection points)'
    err, _ = pool_new('racy')
    expect(err == 0, 'pool-new racy: %d' % err)
    got = []

    def opener():
        try:
            got.append(os.open('/dev/respool-racy', os.O_RDWR))
        except OSError as e:
            got.append(-e.errno)

    inject('hold 1 8000')
    t = threading.Thread(target=opener)
    t.start()
    try:
        deadline = time.time() + 20
        while inject_held() < 1:
            expect(time.time() < deadline, 'open() never reached the point')
            time.sleep(0.02)
        # The open found the pool and has not counted itself yet.
        err, msg = pool_del('racy')
        expect(err == 0, 'pool-del while an open is on its way: %d %r' %
               (err, msg))
    finally:
        inject('release')
        t.join(30)
    if got and got[0] >= 0:
        os.close(got[0])
    expect(got == [-errno.ENODEV],
           'the open that lost the race: %r, want ENODEV' % got)
    expect('racy' not in pools(), 'still listed')


@test
def total_capacity_bounds_the_sum():
    sum_now = sum(p['capacity'] for p in pools().values())
    err, _ = nl_err(ynl.do, 'config-set', {'total-capacity': sum_now + 4 * MiB})
    expect(err == 0, 'config-set total-capacity: %d' % err)
    expect(pool_get()['total-capacity-left'] == 4 * MiB, 'left')
    err, msg = pool_new('toobig', capacity=8 * MiB)
    expect(err == errno.ENOSPC, 'pool-new past the bound: %d' % err)
    expect('total-capacity' in msg, 'message %r' % msg)
    if FMT_ACK:
        expect('4194304 bytes left' in msg, 'message with numbers %r' % msg)
    expect('toobig' not in pools(), 'created anyway')
    err, _ = pool_new('fits', capacity=4 * MiB)
    expect(err == 0, 'pool-new within the bound: %d' % err)
    err, msg = nl_err(ynl.do, 'config-set', {'pool-name': 'fits',
                                             'capacity': 5 * MiB})
    expect(err == errno.ENOSPC, 'capacity change past the bound: %d' % err)
    expect(pool_get('fits')['capacity'] == 4 * MiB, 'capacity changed')
    err, msg = nl_err(ynl.do, 'config-set', {'total-capacity': sum_now})
    expect(err == errno.ENOSPC, 'bound below the sum: %d' % err)
    expect(pool_get()['total-capacity'] == sum_now + 4 * MiB, 'bound moved')
    # lowering a capacity makes room
    err, _ = nl_err(ynl.do, 'config-set', {'pool-name': 'fits',
                                           'capacity': 2 * MiB})
    expect(err == 0 and pool_get()['total-capacity-left'] == 2 * MiB,
           'room after lowering')
    nl_err(ynl.do, 'config-set', {'total-capacity': 0})


@test
def settings_and_waits_stay_in_their_pool():
    pool_new('tight', capacity=2 * PAGE, pcpu_cache_blocks=0)
    before = pool_get()
    nl_err(ynl.do, 'config-set', {'pool-name': 'tight', 'threshold': 100})
    after = pool_get()
    expect(after['threshold'] == before['threshold'], 'default threshold')
    expect(pool_get('tight')['threshold'] == 100, 'tight threshold')
    a = os.open('/dev/respool-tight', os.O_RDWR)
    b = os.open('/dev/respool-tight', os.O_RDWR)
    d = os.open('/dev/respool', os.O_RDWR)
    try:
        h = alloc(a, 2 * PAGE)
        got = []
        t = threading.Thread(target=lambda: got.append(
            alloc(b, PAGE, ALLOC_TIMEOUT, 20000)))
        t.start()
        deadline = time.time() + 20
        while pool_get('tight')['stats']['waiters'] != 1:
            expect(time.time() < deadline, 'the waiter never queued')
            time.sleep(0.05)
        # tight is exhausted, with a waiter: default serves at once
        hd = alloc(d, PAGE, ALLOC_NONBLOCK)
        free(d, hd)
        expect(pool_get()['stats']['waiters'] == 0, 'default waiters')
        free(a, h)
        t.join(30)
        expect(got, 'the waiter was not served')
    finally:
        for fd in (a, b, d):
            os.close(fd)


@test
def unload_deletes_named_pools_and_waits_for_their_files():
    ko = os.environ.get('RESPOOL_KO')
    if not ko:
        return 'SKIP no RESPOOL_KO: not run by tools/vm/run'
    pool_new('stay')
    fd = os.open('/dev/respool-stay', os.O_RDWR)
    rc = os.system('rmmod respool 2>/dev/null')
    expect(rc != 0, 'rmmod with a file open on a named pool succeeded')
    os.close(fd)
    expect(os.system('rmmod respool') == 0, 'rmmod failed')
    expect(not os.path.exists('/dev/respool-stay'), 'node left behind')
    expect(not os.path.exists('/sys/class/respool'), 'class left behind')
    expect(os.system('insmod %s' % ko) == 0, 'insmod failed')
    # A new family id: the YNL library caches ids, for its process.
    global ynl
    ynl_lib.genl_family_name_to_id = None
    ynl = YnlFamily(SPEC)
    expect(list(pools()) == ['default'], 'pools after reload: %s' %
           list(pools()))
    # ids start again from 1; the name is free again
    err, rep = pool_new('stay')
    expect(err == 0 and rep['pool-id'] == 1, 'pool-new after reload')


@test
def events_carry_their_pool():
    # A socket of its own: one that has sent requests is bound already.
    mon = YnlFamily(SPEC)
    mon.ntf_subscribe('monitor')
    err, msg = pool_new('loud', capacity=PAGE, pcpu_cache_blocks=0)
    expect(err == 0, 'pool-new loud: %d %r' % (err, msg))
    fd = os.open('/dev/respool-loud', os.O_RDWR)
    h = alloc(fd, PAGE)
    fd2 = os.open('/dev/respool-loud', os.O_RDWR)
    try:
        alloc(fd2, PAGE, ALLOC_TIMEOUT, 200)
    except OSError as e:
        expect(e.errno == errno.ETIMEDOUT, 'timeout: %s' % e)
    free(fd, h)
    os.close(fd)
    os.close(fd2)
    pool_del('loud')
    time.sleep(0.2)
    mon.check_ntf()
    seen = [(n['name'], n['msg'].get('pool-name')) for n in mon.async_msg_queue]
    for want in [('pool-new-ntf', 'loud'), ('exhausted-ntf', 'loud'),
                 ('pool-del-ntf', 'loud')]:
        expect(want in seen, '%s not in %s' % (want, seen))


def main():
    print('TAP version 13')
    print('1..%d' % len(results))
    failed = skipped = 0
    for i, fn in enumerate(results, 1):
        cleanup()
        try:
            skip = fn()
            if skip:
                print('ok %d %s # %s' % (i, fn.__name__, skip))
                skipped += 1
                continue
            print('ok %d %s' % (i, fn.__name__))
        except Exception as e:
            failed += 1
            for line in str(e).splitlines() or ['(no message)']:
                print("# %s: %s" % (type(e).__name__, line))
            if not isinstance(e, Fail):
                for line in traceback.format_exc().splitlines():
                    print('# ' + line)
            print('not ok %d %s' % (i, fn.__name__))
    cleanup()
    print('# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0' %
          (len(results) - failed - skipped, failed, skipped))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
