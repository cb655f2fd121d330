// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test - random ioctl/mmap/fork/close/signal sequences against
 * /dev/respool, from several processes and threads at once, then an exact
 * accounting check.
 *
 * One seed drives everything and is printed first; RESPOOL_FUZZ_SEED=N
 * replays the same operation streams (the interleaving of the threads is
 * the scheduler's, so a replay is close, not identical).
 *
 *   RESPOOL_FUZZ_OPS      operations in all (default 20000)
 *   RESPOOL_FUZZ_SEED     the seed (default: from the clock)
 *   RESPOOL_FUZZ_PROCS    worker processes (default 4)
 *   RESPOOL_FUZZ_THREADS  threads per worker (default 3)
 *   RESPOOL_FUZZ_FAULTS   1: faults are being injected (fault_test): ENOMEM
 *                         and EAGAIN are acceptable from anything, and the
 *                         module is not reloaded
 *   RESPOOL_FUZZ_NL_OPS   netlink commands at least (default 0): the netlink
 *                         process goes on after the workers until it has
 *                         sent that many
 *
 * Each worker keeps hints of its handles and mappings; ops on them are
 * checked against the documented errno of each case (a hint may be stale
 * when another thread or a child freed the handle, which only widens the
 * set to ENOENT/EINVAL). Data checks: a block handed out "zeroed" reads
 * zero; a reused one holds only this client's own bytes; bytes written
 * through a mapping survive MADV_DONTNEED, mremap and a FREE of the handle
 * until the last unmap. Held blocks are exported as dma-bufs, whose fds
 * travel between the processes over one shared unix socket and are
 * mapped (their data checked as the block's), synced and closed at
 * random. Each file's control page is mapped, and random words go into
 * its slots (garbage, wrong generations, states that make no sense) and
 * header, while the threads keep their own blocks there (INUSE|g ->
 * KEPT|g, deleting their hint as a FREE would), reuse them (KEPT -> INUSE)
 * or find them taken back (by a waiter, a NONBLOCK ALLOC, drain, idle
 * trim); a mapping of a block that was kept may be SIGBUS from then on,
 * any other SIGBUS fails the run. The netlink process (with respoolctl) also makes
 * and deletes a second pool under the workers' feet, with short-lived
 * clients racing the deletes. After the run, with every file and dma-buf
 * closed: in-use, exported bytes, waiters, clients and requested bytes
 * are 0, every export came back (exports == export-returns, and at least
 * as many as the fuzzer counted, unless a netlink reset zeroed the
 * counters), nothing is kept, and
 * the whole capacity can be allocated again (no byte lost); unloading the
 * module then checks the pool's own totals (WARN) and kmemleak sees what
 * is left.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <ucontext.h>

#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define NSLOT		3
#define MAXH		256
#define MAXM		256
#define MAXKIDS		8
#define MAXPROCS	32
#define MAXTHR		8
#define MAXX		8	/* dma-buf fds one process holds */
#define XMSG_MAGIC	0x78627566u
#define PAGE_ALIGN_UP(x) (((x) + RP_PAGE - 1) & ~(RP_PAGE - 1))

/* Shared between the workers and the test (MAP_SHARED anonymous). */
struct fz_shared {
	atomic_long ops;	/* operations done, all workers */
	atomic_long target;
	atomic_long fails;
	atomic_long allocs_ok;
	atomic_long maps_ok;
	atomic_long forks;
	atomic_long kills;
	atomic_long closes;
	atomic_long nl_ops;
	atomic_long nl_nomem;	/* netlink answers of injected failures */
	atomic_long pool_adds;	/* pool fz made */
	atomic_long pool_dels;	/* pool fz deleted */
	atomic_long pool_busy;	/* pool-del refused: a client had it open */
	atomic_long pool_opens;	/* clients of fz */
	atomic_long nl_resets;	/* stats resets sent: counters start over */
	atomic_long exports;	/* EXPORTs that gave an fd */
	atomic_long xsent;	/* dma-buf fds sent to the socket */
	atomic_long xrecvd;	/* and received from it */
	atomic_long xmaps;	/* mappings of dma-bufs */
	atomic_long ctl_ops;	/* control page ops */
	atomic_long keeps;	/* INUSE|g -> KEPT|g that won */
	atomic_long reuses;	/* KEPT|g -> INUSE|g that won */
	atomic_long lost;	/* kept blocks found taken (or overwritten) */
	atomic_long bus_ok;	/* SIGBUS on a mapping of a block once kept */
	atomic_ulong keep_seq;	/* numbers the writes of a KEPT word */
	atomic_ulong kept_keys;	/* entries used in kept_tab */
	char first_fail[512];
	atomic_int fail_claimed;
};

static struct fz_shared *sh;

/*
 * Every (file, handle) whose slot was ever written KEPT (by a keep or a
 * guess), with the keep_seq of its latest such write, shared by every
 * process of the run. A block's mapping may be SIGBUS (taken back) only
 * if its slot was written KEPT after the ALLOC that made it: each hint
 * and mapping remembers keep_seq from before its ALLOC.
 */
#define KEPT_TAB	(1 << 16)
struct fz_kept {
	_Atomic uint64_t key;	/* tag << 32 | handle, 0 = free */
	_Atomic uint64_t seq;
};
static struct fz_kept *kept_tab;
static uint64_t g_seed;
static int g_faults;
static int g_quota;
static uint64_t g_cap, g_maxb;
static const char *g_respoolctl;
static long g_nl_min;

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* ---- per worker process state ---- */

struct slot {
	int fd;
	unsigned int gen;	/* bumped at every close/reopen */
	uint32_t tag;		/* this open file's mark in the data */
	bool rdonly;
	struct respool_ctl *ctl;	/* its control page, once mapped */
	int ctl_prot;
	const struct respool_shared *pool;	/* its pool page */
};

struct hint {			/* a handle we believe live */
	int slot;
	unsigned int gen;
	uint64_t handle, size, block_size;
	uint32_t tag, seq;
	uint64_t kseq;		/* keep_seq before its ALLOC */
};

/* A block this thread keeps: its hint, and the generation it kept. */
struct kept {
	struct hint h;
	uint32_t kgen;
};

struct map {			/* a mapping we hold */
	char *addr;
	uint64_t len;
	uint64_t first;		/* page of the block at addr */
	uint64_t block_size;
	uint32_t tag, seq;
	bool filled;		/* we wrote the pattern through it */
	bool dontfork;
	bool dmabuf;		/* of a dma-buf fd, not of a handle */
	int prot;
	uint64_t handle, kseq;	/* the hint's */
	bool taken;		/* SIGBUS seen: the block was taken back */
};

struct xbuf {			/* a dma-buf fd we hold */
	int fd;
	uint64_t size;
	uint32_t tag, seq;	/* of the block it was exported as */
	bool rdonly;
};

/* What travels with a dma-buf fd between the processes. */
struct xmsg {
	uint64_t size;
	uint32_t tag, seq;
	uint32_t rdonly;
	uint32_t magic;
};

static struct slot slots[NSLOT];
/*
 * Hints are per thread: each thread frees and maps only the handles it
 * allocated itself, so a hint never names a block that another thread
 * freed and reallocated under the same (lowest free) handle number.
 * Guessed and stale handles are only ever passed to INFO, and to FREE
 * outside the range of live handles.
 */
static __thread struct hint hints[MAXH];
static __thread int nhints;
static __thread uint64_t stale[8];
#define MAXKEPT		32
static __thread struct kept kepts[MAXKEPT];
static __thread int nkepts;
static __thread sigjmp_buf *bus_jmp;	/* a guarded touch of a block */
static struct map maps[MAXM];
static int nmaps;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t kids[MAXKIDS];
static int nkids;
static int worker_id;
static int in_child;		/* a fork()ed child of a worker */
static atomic_uint seqno;
static atomic_int stop_threads;
static pthread_t thr[MAXTHR];
static int nthr;
static struct xbuf xbufs[MAXX];
static int nxbufs;
/*
 * One unix datagram socket pair for every process of the run: dma-buf
 * fds are sent to [0] and received from [1], by whoever comes first.
 */
static int g_xsock[2] = { -1, -1 };

static void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fz_fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "FUZZ FAIL (seed %llu, worker %d%s, pid %d): %s\n",
		(unsigned long long)g_seed, worker_id, in_child ? " child" : "",
		getpid(), buf);
	if (!atomic_exchange(&sh->fail_claimed, 1))
		snprintf(sh->first_fail, sizeof(sh->first_fail), "%s", buf);
	atomic_fetch_add(&sh->fails, 1);
}

static uint32_t new_tag(void)
{
	static atomic_uint n;

	return ((uint32_t)getpid() << 8) ^ (atomic_fetch_add(&n, 1) + 1) ^
	       0x5a000000;
}

/* The word at byte @o of block (@tag, @seq). Never 0. */
static inline uint64_t pat(uint32_t tag, uint32_t seq, uint64_t o)
{
	return ((uint64_t)tag << 32) | (((seq * 0x10001u) + (uint32_t)(o >> 3)) | 1);
}

static bool errno_in(int e, const int *set, int n)
{
	int i;

	if (g_faults && (e == ENOMEM || e == EAGAIN))
		return true;
	for (i = 0; i < n; i++)
		if (set[i] == e)
			return true;
	return false;
}

#define EXPECT_ERR(what, err, ...) do {					\
	const int __set[] = { __VA_ARGS__ };				\
	if (!errno_in((err), __set, sizeof(__set) / sizeof(int)))	\
		fz_fail("%s: unexpected result %d (%s)", (what), (err),\
			strerror(err));					\
} while (0)

static int open_slot(int i)
{
	int fd, flags = O_RDWR;

	slots[i].rdonly = false;
	if (i == NSLOT - 1 && (getpid() & 1)) {
		flags = O_RDONLY;
		slots[i].rdonly = true;
	}
	for (int tries = 0; tries < 1000; tries++) {
		fd = open(RP_DEV, flags | O_CLOEXEC);
		if (fd >= 0 || !g_faults)
			break;
		usleep(1000);
	}
	if (fd < 0)
		fz_fail("open %s: %s", RP_DEV, strerror(errno));
	slots[i].tag = new_tag();
	slots[i].gen++;
	return fd;
}

static uint64_t pick_size(uint64_t *r)
{
	uint64_t pg = RP_PAGE;

	switch (splitmix(r) % 16) {
	case 0: return 1;
	case 1: return pg - 1;
	case 2: return pg;
	case 3: return pg + 1;
	case 4: return g_maxb - 1;
	case 5: return g_maxb;
	case 6: return 2 * pg;
	case 7: return (splitmix(r) % (g_maxb / pg) + 1) * pg;
	default: return splitmix(r) % (8 * pg) + 1;
	}
}

/* Sizes that are never valid, with the errno each gets. */
static uint64_t pick_bad_size(uint64_t *r, int *err)
{
	*err = E2BIG;
	switch (splitmix(r) % 9) {
	case 0: *err = EINVAL; return 0;
	case 1: return g_maxb + 1;
	case 2: return g_cap > g_maxb ? g_cap : g_maxb + RP_PAGE;
	case 3: return UINT64_MAX;
	case 4: return UINT64_MAX - RP_PAGE + 2;	/* PAGE_ALIGN wraps */
	case 5: return 1ULL << 63;
	case 6: return (uint64_t)INT64_MAX;
	case 7: return (uint64_t)-(int64_t)RP_PAGE;
	default: return (1ULL << 32) + 1;
	}
}

/* ---- hint/map tables, under mu ---- */

static void hint_add(int slot, unsigned int gen, const struct respool_alloc *a,
		     uint64_t size, uint32_t seq, uint64_t kseq)
{
	struct hint *h;

	if (nhints == MAXH)
		nhints--;	/* forget one: it stays allocated until close */
	h = &hints[nhints++];
	h->slot = slot;
	h->gen = gen;
	h->handle = a->handle;
	h->size = size;
	h->block_size = a->block_size;
	h->tag = slots[slot].tag;
	h->seq = seq;
	h->kseq = kseq;
}

static void hint_del(int i)
{
	hints[i] = hints[--nhints];
}

static void map_del(int i)
{
	maps[i] = maps[--nmaps];
}

/* ---- kept blocks and SIGBUS ---- */

static uint64_t kept_key(uint32_t tag, uint64_t handle)
{
	return (uint64_t)tag << 32 | (handle & 0xffffffffu);
}

static struct fz_kept *kept_find(uint64_t key, bool add)
{
	uint64_t i = (key * 0x9e3779b97f4a7c15ULL) >> 48, n, k;

	for (n = 0; n < KEPT_TAB; n++, i = (i + 1) % KEPT_TAB) {
		k = atomic_load(&kept_tab[i].key);
		if (k == key)
			return &kept_tab[i];
		if (k)
			continue;
		if (!add)
			return NULL;
		/* Bounded well below full, so that lookups stay short. */
		if (atomic_fetch_add(&sh->kept_keys, 1) >= KEPT_TAB / 2) {
			atomic_fetch_sub(&sh->kept_keys, 1);
			return NULL;
		}
		if (atomic_compare_exchange_strong(&kept_tab[i].key, &k, key))
			return &kept_tab[i];
		atomic_fetch_sub(&sh->kept_keys, 1);
		if (k == key)
			return &kept_tab[i];
	}
	return NULL;
}

/*
 * Before a word with state KEPT is written into slot @handle of the file
 * @tag: from now on, a mapping of that block may be SIGBUS. False (write
 * nothing) when the table is full.
 */
static bool kept_note(uint32_t tag, uint64_t handle)
{
	struct fz_kept *e = kept_find(kept_key(tag, handle), true);

	if (!e)
		return false;
	atomic_store(&e->seq, atomic_fetch_add(&sh->keep_seq, 1) + 1);
	return true;
}

/* Was that slot written KEPT after keep_seq was @since? */
static bool kept_since(uint32_t tag, uint64_t handle, uint64_t since)
{
	struct fz_kept *e = kept_find(kept_key(tag, handle), false);

	return e && atomic_load(&e->seq) > since;
}

/* SIGBUS in a guarded touch of mapping @m: fine only if it was kept. */
static void map_bus(struct map *m, const char *why)
{
	if (!m->dmabuf && kept_since(m->tag, m->handle, m->kseq)) {
		m->taken = true;
		atomic_fetch_add(&sh->bus_ok, 1);
		return;
	}
	fz_fail("%s: SIGBUS on a %s mapping of a block %s", why,
		m->dmabuf ? "dma-buf" : "handle's",
		m->dmabuf ? "(never keepable)" : "that was never kept");
}

static void on_crash(int sig, siginfo_t *si, void *uc);

/* A SIGBUS in a guarded touch returns there; anywhere else it is a crash. */
static void on_bus(int sig, siginfo_t *si, void *uc)
{
	if (bus_jmp)
		siglongjmp(*bus_jmp, 1);
	signal(SIGBUS, SIG_DFL);
	on_crash(sig, si, uc);
}

/* Check what the mapping shows: with @exact, our pattern, else zero or
 * some pattern of this client. A block taken back is SIGBUS. */
static void map_check(struct map *m, const char *why)
{
	uint64_t pg = RP_PAGE, o, k, want;
	uint64_t *w;
	sigjmp_buf jb;
	int j;

	if (!(m->prot & PROT_READ) || m->taken)
		return;
	bus_jmp = &jb;
	if (sigsetjmp(jb, 1)) {
		bus_jmp = NULL;
		map_bus(m, why);
		return;
	}
	for (k = 0; k < m->len / pg; k++) {
		for (j = 0; j < 2; j++) {
			o = k * pg + (j ? pg - 8 : 0);
			w = (uint64_t *)(m->addr + o);
			want = pat(m->tag, m->seq, m->first * pg + o);
			if (m->filled ? *w != want :
			    (*w && (uint32_t)(*w >> 32) != m->tag)) {
				fz_fail("%s: block data at page %llu+%llu is %#llx, expected %#llx%s",
					why, (unsigned long long)m->first,
					(unsigned long long)k,
					(unsigned long long)*w,
					(unsigned long long)want,
					m->filled ? "" : " or zero or this client's data");
				bus_jmp = NULL;
				return;
			}
		}
	}
	bus_jmp = NULL;
}

static void map_fill(struct map *m)
{
	uint64_t pg = RP_PAGE, k;
	sigjmp_buf jb;

	if ((m->prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE) ||
	    m->taken)
		return;
	bus_jmp = &jb;
	if (sigsetjmp(jb, 1)) {
		bus_jmp = NULL;
		map_bus(m, "fill");
		return;
	}
	for (k = 0; k < m->len / pg; k++) {
		*(uint64_t *)(m->addr + k * pg) =
			pat(m->tag, m->seq, (m->first + k) * pg);
		*(uint64_t *)(m->addr + k * pg + pg - 8) =
			pat(m->tag, m->seq, (m->first + k) * pg + pg - 8);
	}
	bus_jmp = NULL;
	m->filled = true;
}

/* ---- the operations ---- */

static int do_alloc_raw(int fd, struct respool_alloc *a)
{
	return ioctl(fd, RESPOOL_IOC_ALLOC, a) ? errno : 0;
}

static void op_alloc(uint64_t *r)
{
	int s = splitmix(r) % NSLOT, fd, err, bad_err = 0, kind;
	struct respool_alloc a = { 0 };
	struct respool_info info;
	unsigned int gen;
	uint64_t kseq = atomic_load(&sh->keep_seq);
	uint32_t seq;
	char *p;

	pthread_mutex_lock(&mu);
	fd = slots[s].fd;
	gen = slots[s].gen;
	pthread_mutex_unlock(&mu);

	kind = splitmix(r) % 20;
	a.size = pick_size(r);
	switch (splitmix(r) % 4) {
	case 0: a.flags = RESPOOL_ALLOC_NONBLOCK; break;
	case 1: a.flags = RESPOOL_ALLOC_TIMEOUT; a.timeout_ms = splitmix(r) % 20 + 1; break;
	case 2: a.flags = RESPOOL_ALLOC_TIMEOUT | RESPOOL_ALLOC_NONBLOCK;
		a.timeout_ms = splitmix(r) % 2 ? UINT32_MAX : 1; break;
	default:
		/* Blocking: the signal ticker ends it with EINTR if need be. */
		a.flags = 0; break;
	}
	switch (kind) {
	case 0: a.size = pick_bad_size(r, &bad_err); break;
	case 1: a.flags |= 1u << (2 + splitmix(r) % 30); bad_err = EINVAL; break;
	case 2: a.reserved[splitmix(r) % 2] = splitmix(r) | 1; bad_err = EINVAL; break;
	case 3: a.flags = RESPOOL_ALLOC_TIMEOUT; a.timeout_ms = 0; bad_err = EINVAL; break;
	case 4: a.flags &= ~RESPOOL_ALLOC_TIMEOUT; a.timeout_ms = splitmix(r) | 1;
		bad_err = EINVAL; break;
	case 5: a.handle = splitmix(r); a.offset = splitmix(r);
		a.block_size = splitmix(r); break;	/* out fields: ignored */
	}
	err = do_alloc_raw(fd, &a);
	pthread_mutex_lock(&mu);
	if (gen != slots[s].gen) {
		/* The file was closed under us. */
		/* Any answer of a live file, or EBADF. */
		EXPECT_ERR("ALLOC racing close", err, 0, EBADF, ENOTTY, EINTR,
			   EAGAIN, ETIMEDOUT, EINVAL, E2BIG, EDQUOT);
		if (err == EDQUOT && !g_quota)
			fz_fail("ALLOC racing close: EDQUOT without a quota");
		pthread_mutex_unlock(&mu);
		return;
	}
	if (bad_err) {
		if (err != bad_err && !(g_faults && err == ENOMEM))
			fz_fail("ALLOC size=%#llx flags=%#x timeout=%u reserved=%#llx,%#llx: got %d (%s), expected %s",
				(unsigned long long)a.size, a.flags, a.timeout_ms,
				(unsigned long long)a.reserved[0],
				(unsigned long long)a.reserved[1], err,
				strerror(err), strerror(bad_err));
		pthread_mutex_unlock(&mu);
		return;
	}
	if (err) {
		if (a.flags & RESPOOL_ALLOC_NONBLOCK)
			EXPECT_ERR("ALLOC NONBLOCK", err, EAGAIN, EDQUOT);
		else if (a.flags & RESPOOL_ALLOC_TIMEOUT)
			EXPECT_ERR("ALLOC TIMEOUT", err, ETIMEDOUT, EINTR, EDQUOT);
		else
			EXPECT_ERR("ALLOC", err, EINTR, EDQUOT);
		if (err == EDQUOT && !g_quota)
			fz_fail("ALLOC: EDQUOT without a client_quota");
		pthread_mutex_unlock(&mu);
		return;
	}
	atomic_fetch_add(&sh->allocs_ok, 1);
	if (a.block_size < PAGE_ALIGN_UP(a.size) || a.block_size % RP_PAGE ||
	    a.block_size > g_maxb || a.offset != a.handle << 32 ||
	    !a.handle || a.handle > INT32_MAX)
		fz_fail("ALLOC size=%llu: bad answer handle=%llu offset=%#llx block_size=%llu",
			(unsigned long long)a.size, (unsigned long long)a.handle,
			(unsigned long long)a.offset,
			(unsigned long long)a.block_size);
	seq = atomic_fetch_add(&seqno, 1);
	/* First look: zeroed, or only this client's own bytes. */
	err = rp_info(fd, a.handle, &info);
	if (!err) {
		if (info.block_size != a.block_size || info.size != a.size ||
		    info.offset != a.offset || info.reserved[0] ||
		    info.reserved[1] || info.flags & ~RESPOOL_INFO_ZEROED)
			fz_fail("INFO after ALLOC disagrees: size %llu/%llu block %llu/%llu flags %#x",
				(unsigned long long)info.size,
				(unsigned long long)a.size,
				(unsigned long long)info.block_size,
				(unsigned long long)a.block_size, info.flags);
		p = mmap(NULL, a.block_size, PROT_READ, MAP_SHARED, fd, a.offset);
		if (p != MAP_FAILED) {
			struct map m = { .addr = p, .len = a.block_size,
					 .block_size = a.block_size,
					 .tag = slots[s].tag, .prot = PROT_READ,
					 .handle = a.handle, .kseq = kseq };
			uint64_t o, *w;
			sigjmp_buf jb;

			/* Kept and taken by another thread's guess already? */
			bus_jmp = &jb;
			if (sigsetjmp(jb, 1)) {
				bus_jmp = NULL;
				map_bus(&m, "fresh ALLOC");
				m.taken = true;
				o = a.block_size;
			} else {
				o = 0;
			}
			for (; o < a.block_size; o += RP_PAGE) {
				w = (uint64_t *)(p + o + (splitmix(r) % (RP_PAGE / 8)) * 8);
				if ((info.flags & RESPOOL_INFO_ZEROED) && *w) {
					fz_fail("ALLOC said zeroed, block reads %#llx at %llu",
						(unsigned long long)*w,
						(unsigned long long)o);
					break;
				}
			}
			bus_jmp = NULL;
			map_check(&m, "fresh ALLOC");
			munmap(p, a.block_size);
		} else {
			/* EINVAL: a racing FREE of a guessed handle. */
			EXPECT_ERR("mmap of a fresh block", errno, EINVAL);
		}
	} else if (err != ENOENT) {	/* another thread may have freed it */
		EXPECT_ERR("INFO after ALLOC", -err, ENOENT);
	}
	hint_add(s, gen, &a, a.size, seq, kseq);
	pthread_mutex_unlock(&mu);
}

static void op_free(uint64_t *r)
{
	struct respool_free f = { 0 };
	int s, fd, err, i = -1, kind = splitmix(r) % 8;
	unsigned int gen;

	pthread_mutex_lock(&mu);
	if (nhints && kind < 5) {
		i = splitmix(r) % nhints;
		s = hints[i].slot;
		f.handle = hints[i].handle;
		if (hints[i].gen != slots[s].gen) {
			hint_del(i);
			i = -1;
			f.handle = 0;
		}
	} else {
		s = splitmix(r) % NSLOT;
	}
	fd = slots[s].fd;
	gen = slots[s].gen;
	if (i >= 0)
		hint_del(i);
	pthread_mutex_unlock(&mu);

	if (i >= 0)
		stale[splitmix(r) % 8] = f.handle;
	switch (kind) {
	case 5: f.handle = 0; break;
	case 6: f.handle = (uint64_t)INT32_MAX + 1 + splitmix(r) % 4; break;
	case 7: f.handle = splitmix(r) | (1ULL << 40); break;
	}
	if (splitmix(r) % 16 == 0) {
		f.reserved = splitmix(r) | 1;
		err = ioctl(fd, RESPOOL_IOC_FREE, &f) ? errno : 0;
		if (gen == slots[s].gen)
			EXPECT_ERR("FREE with reserved set", err, EINVAL);
		return;
	}
	err = ioctl(fd, RESPOOL_IOC_FREE, &f) ? errno : 0;
	if (gen != slots[s].gen)
		EXPECT_ERR("FREE racing close", err, 0, ENOENT, ENOTTY, EBADF);
	else if (kind == 6 || (kind == 7 && f.handle > INT32_MAX) || !f.handle)
		EXPECT_ERR("FREE of a handle out of range", err, ENOENT);
	else
		EXPECT_ERR("FREE", err, 0, ENOENT);
}

static void op_info(uint64_t *r)
{
	struct respool_info info;
	struct hint h = { 0 };
	int s, fd, err, have = 0;
	unsigned int gen;

	pthread_mutex_lock(&mu);
	if (nhints && splitmix(r) % 4) {
		h = hints[splitmix(r) % nhints];
		have = 1;
		s = h.slot;
	} else {
		s = splitmix(r) % NSLOT;
		h.handle = splitmix(r) % 3 ? splitmix(r) % 100 : splitmix(r);
		if (splitmix(r) % 2)
			h.handle = stale[splitmix(r) % 8];	/* freed by us */
	}
	fd = slots[s].fd;
	gen = slots[s].gen;
	pthread_mutex_unlock(&mu);

	memset(&info, 0, sizeof(info));
	info.handle = h.handle;
	if (splitmix(r) % 16 == 0) {
		info.reserved[splitmix(r) % 2] = 1;
		err = ioctl(fd, RESPOOL_IOC_INFO, &info) ? errno : 0;
		if (gen == slots[s].gen)
			EXPECT_ERR("INFO with reserved set", err, EINVAL);
		return;
	}
	err = ioctl(fd, RESPOOL_IOC_INFO, &info) ? errno : 0;
	if (gen != slots[s].gen || (have && h.gen != gen)) {
		EXPECT_ERR("INFO racing close", err, 0, ENOENT, ENOTTY, EBADF);
		return;
	}
	EXPECT_ERR("INFO", err, 0, ENOENT);
	if (err)
		return;
	if (info.offset != info.handle << 32 || info.reserved[0] ||
	    info.reserved[1] || info.block_size % RP_PAGE ||
	    info.block_size < PAGE_ALIGN_UP(info.size) ||
	    info.block_size > g_maxb || info.flags & ~RESPOOL_INFO_ZEROED)
		fz_fail("INFO of handle %llu: inconsistent size=%llu block=%llu offset=%#llx flags=%#x",
			(unsigned long long)info.handle,
			(unsigned long long)info.size,
			(unsigned long long)info.block_size,
			(unsigned long long)info.offset, info.flags);
	if (have && (info.block_size != h.block_size || info.size != h.size))
		fz_fail("INFO of handle %llu: size %llu block %llu, ALLOC said %llu/%llu",
			(unsigned long long)h.handle,
			(unsigned long long)info.size,
			(unsigned long long)info.block_size,
			(unsigned long long)h.size,
			(unsigned long long)h.block_size);
}

static void op_stats(uint64_t *r)
{
	struct respool_stats st;
	int fd = slots[splitmix(r) % NSLOT].fd, err;
	unsigned int sizes[] = { sizeof(st), 8, 12, 16, 24, 100, 0, 4,
				 sizeof(st) - 4 };
	unsigned int n = sizes[splitmix(r) % 9];

	memset(&st, 0xa5, sizeof(st));
	st.size = n;
	st.__pad = 0;
	if (splitmix(r) % 32 == 0)
		st.__pad = 1;
	err = ioctl(fd, RESPOOL_IOC_STATS, &st) ? errno : 0;
	if (st.__pad == 1 && !(err == ENOTTY || err == EBADF)) {
		EXPECT_ERR("STATS with __pad set", err, EINVAL);
		return;
	}
	if (n < 8) {
		if (err != ENOTTY && err != EBADF)
			EXPECT_ERR("STATS with size < 8", err, EINVAL);
		return;
	}
	if (err) {
		EXPECT_ERR("STATS", err, ENOTTY, EBADF);	/* racing close */
		return;
	}
	if (st.size != n)
		fz_fail("STATS size=%u answered size %u", n, st.size);
	if (n < sizeof(st)) {
		unsigned char *b = (unsigned char *)&st;
		unsigned int i;

		for (i = n; i < sizeof(st); i++)
			if (b[i] != 0xa5) {
				fz_fail("STATS size=%u wrote byte %u", n, i);
				break;
			}
		return;
	}
	if (st.capacity != g_cap ||
	    st.in_use_bytes + st.reserve_bytes + st.pcpu_bytes > g_cap ||
	    st.in_use_bytes % RP_PAGE || st.reserve_bytes % RP_PAGE ||
	    st.pcpu_bytes % RP_PAGE || st.peak_in_use_bytes > g_cap ||
	    st.waiters > MAXPROCS * (MAXTHR + MAXKIDS))
		fz_fail("STATS inconsistent: capacity %llu in_use %llu (%llu blocks) reserve %llu pcpu %llu (%llu free blocks) waiters %llu",
			(unsigned long long)st.capacity,
			(unsigned long long)st.in_use_bytes,
			(unsigned long long)st.blocks_in_use,
			(unsigned long long)st.reserve_bytes,
			(unsigned long long)st.pcpu_bytes,
			(unsigned long long)st.blocks_free,
			(unsigned long long)st.waiters);
}

/* Raw ioctl shapes: unknown numbers, wrong sizes and directions, bad
 * pointers, an ALLOC whose answer cannot be written back. */
static void op_raw_ioctl(uint64_t *r)
{
	int fd = slots[splitmix(r) % NSLOT].fd, err;
	unsigned char buf[256];
	static char *ro_page;
	struct respool_alloc *a;

	memset(buf, 0, sizeof(buf));
	switch (splitmix(r) % 8) {
	case 0:
		err = ioctl(fd, _IOWR(RESPOOL_IOC_MAGIC, 0x20 + splitmix(r) % 0xe0,
				      struct respool_alloc), buf) ? errno : 0;
		EXPECT_ERR("unknown ioctl nr", err, ENOTTY, EBADF);
		break;
	case 1:
		err = ioctl(fd, _IOWR(0x42, 0, struct respool_alloc), buf) ? errno : 0;
		EXPECT_ERR("foreign ioctl magic", err, ENOTTY, EBADF);
		break;
	case 2:
		err = ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, RESPOOL_IOC_MAGIC, 0,
				     sizeof(struct respool_alloc) - 8), buf) ? errno : 0;
		EXPECT_ERR("ALLOC with a short struct", err, ENOTTY, EBADF);
		break;
	case 3:
		err = ioctl(fd, _IOR(RESPOOL_IOC_MAGIC, 1, struct respool_free),
			    buf) ? errno : 0;
		EXPECT_ERR("FREE with the wrong direction", err, ENOTTY, EBADF);
		break;
	case 4: /* a longer struct: zero tail is fine, a non-zero one is not */
		((struct respool_free *)buf)->handle = 1u << 30;
		buf[sizeof(struct respool_free) + splitmix(r) % 16] = 1;
		err = ioctl(fd, _IOC(_IOC_WRITE, RESPOOL_IOC_MAGIC, 1,
				     sizeof(struct respool_free) + 16), buf) ? errno : 0;
		EXPECT_ERR("FREE with unknown non-zero tail", err, EINVAL, EBADF, ENOTTY);
		break;
	case 5:
		err = ioctl(fd, RESPOOL_IOC_INFO, (void *)(uintptr_t)(splitmix(r) % 2 ? 8 :
				-4096ULL)) ? errno : 0;
		EXPECT_ERR("INFO with a bad pointer", err, EFAULT, EBADF, ENOTTY);
		break;
	case 6:
		err = ioctl(fd, RESPOOL_IOC_STATS, NULL) ? errno : 0;
		EXPECT_ERR("STATS with NULL", err, EFAULT, EBADF, ENOTTY);
		break;
	case 7:
		/* The answer cannot be copied out: the block must come back. */
		pthread_mutex_lock(&mu);
		if (!ro_page) {
			ro_page = mmap(NULL, RP_PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (ro_page == MAP_FAILED) {
				ro_page = NULL;
				pthread_mutex_unlock(&mu);
				break;
			}
			a = (void *)ro_page;
			a->size = RP_PAGE;
			a->flags = RESPOOL_ALLOC_NONBLOCK;
			mprotect(ro_page, RP_PAGE, PROT_READ);
		}
		pthread_mutex_unlock(&mu);
		err = ioctl(fd, RESPOOL_IOC_ALLOC, ro_page) ? errno : 0;
		/* Refused before the copy-out, by the quota, is an answer too. */
		EXPECT_ERR("ALLOC into a read-only struct", err, EFAULT, EAGAIN,
			   EBADF, ENOTTY, EDQUOT);
		if (err == EDQUOT && !g_quota)
			fz_fail("ALLOC into a read-only struct: EDQUOT without a client_quota");
		break;
	}
}

static void op_mmap(uint64_t *r)
{
	uint64_t pg = RP_PAGE, first, len, off, bpages;
	int s, fd, prot, flags = MAP_SHARED, err, valid = 1, i;
	struct hint h;
	unsigned int gen;
	char *p;

	pthread_mutex_lock(&mu);
	if (!nhints || nmaps >= MAXM - 4) {
		pthread_mutex_unlock(&mu);
		return;
	}
	h = hints[splitmix(r) % nhints];
	s = h.slot;
	fd = slots[s].fd;
	gen = slots[s].gen;
	if (h.gen != gen) {
		pthread_mutex_unlock(&mu);
		return;
	}
	bpages = h.block_size / pg;
	first = splitmix(r) % bpages;
	len = (splitmix(r) % (bpages - first) + 1) * pg;
	if (splitmix(r) % 4 == 0)
		len = bpages * pg, first = 0;
	prot = (int[]){ PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
			PROT_NONE, PROT_WRITE }[splitmix(r) % 5];
	off = h.handle << 32 | first * pg;
	switch (splitmix(r) % 12) {
	case 0: len += pg; valid = 0; break;			/* leaves the block */
	case 1: off = (h.handle << 32) + h.block_size; valid = 0; break;
	case 2: flags = MAP_PRIVATE; valid = 0; break;
	case 3: off = splitmix(r) & ~(pg - 1); valid = 0; break;	/* random */
	case 4: off = -pg * (splitmix(r) % 4 + 1); valid = 0; break;	/* near 2^64 */
	case 5: off = (h.handle << 32) + 1; valid = 0; break;	/* unaligned */
	case 6: len = 0; valid = 0; break;
	}
	if (!valid) {
		p = mmap(NULL, len, prot, flags, fd, off);
		err = p == MAP_FAILED ? errno : 0;
		if (!err) {
			/* A random offset may name a live handle of ours. */
			if (!(flags & MAP_SHARED) || len > h.block_size)
				fz_fail("mmap off=%#llx len=%llu flags=%#x of a %llu-byte block succeeded",
					(unsigned long long)off,
					(unsigned long long)len, flags,
					(unsigned long long)h.block_size);
			munmap(p, len);
		} else {
			EXPECT_ERR("invalid mmap", err, EINVAL, EOVERFLOW, ENOMEM,
				   EACCES);
		}
		pthread_mutex_unlock(&mu);
		return;
	}
	p = mmap(NULL, len, prot, flags, fd, off);
	err = p == MAP_FAILED ? errno : 0;
	if (err) {
		/* The handle may have been freed by another thread or a child. */
		if (slots[s].rdonly && (prot & PROT_WRITE))
			EXPECT_ERR("PROT_WRITE mmap of a read-only file", err, EACCES);
		else
			EXPECT_ERR("mmap", err, EINVAL);
		pthread_mutex_unlock(&mu);
		return;
	}
	if (slots[s].rdonly && (prot & PROT_WRITE))
		fz_fail("PROT_WRITE mmap of an O_RDONLY file succeeded");
	atomic_fetch_add(&sh->maps_ok, 1);
	i = nmaps++;
	maps[i] = (struct map){ .addr = p, .len = len, .first = first,
				.block_size = h.block_size, .tag = h.tag,
				.seq = h.seq, .prot = prot,
				.handle = h.handle, .kseq = h.kseq };
	map_check(&maps[i], "new mapping");
	if (splitmix(r) % 2)
		map_fill(&maps[i]);
	pthread_mutex_unlock(&mu);
}

static void op_mapops(uint64_t *r)
{
	uint64_t pg = RP_PAGE, npg, k;
	struct map *m;
	int i, err;
	char *q;

	pthread_mutex_lock(&mu);
	if (!nmaps) {
		pthread_mutex_unlock(&mu);
		return;
	}
	i = splitmix(r) % nmaps;
	m = &maps[i];
	npg = m->len / pg;
	switch (splitmix(r) % 11) {
	case 0: /* whole munmap */
	case 1:
		map_check(m, "before munmap");
		munmap(m->addr, m->len);
		map_del(i);
		break;
	case 2: /* head or tail */
		if (npg < 2)
			break;
		k = splitmix(r) % (npg - 1) + 1;
		if (splitmix(r) % 2) {
			munmap(m->addr, k * pg);
			m->addr += k * pg;
			m->first += k;
			m->len -= k * pg;
		} else {
			munmap(m->addr + k * pg, m->len - k * pg);
			m->len = k * pg;
		}
		map_check(m, "after a partial munmap");
		break;
	case 3: /* punch a hole: two mappings */
		if (npg < 3 || nmaps >= MAXM)
			break;
		k = splitmix(r) % (npg - 2) + 1;
		munmap(m->addr + k * pg, pg);
		maps[nmaps] = *m;
		maps[nmaps].addr = m->addr + (k + 1) * pg;
		maps[nmaps].first = m->first + k + 1;
		maps[nmaps].len = m->len - (k + 1) * pg;
		m->len = k * pg;
		nmaps++;
		map_check(m, "after a hole punch");
		break;
	case 4: /* shrink in place */
		if (npg < 2)
			break;
		k = splitmix(r) % (npg - 1) + 1;
		q = mremap(m->addr, m->len, k * pg, 0);
		if (q == MAP_FAILED) {
			EXPECT_ERR("mremap shrink", errno, 0);
			break;
		}
		m->len = k * pg;
		map_check(m, "after mremap shrink");
		break;
	case 5: /* grow: VM_DONTEXPAND says no */
		if (m->dmabuf)
			break;	/* the dma-buf's own rules */
		q = mremap(m->addr, m->len, m->len + pg, MREMAP_MAYMOVE);
		err = q == MAP_FAILED ? errno : 0;
		if (!err) {
			fz_fail("mremap grew a %llu-byte mapping of a block",
				(unsigned long long)m->len);
			m->addr = q;	/* keep the table right */
			m->len += pg;
			munmap(m->addr, m->len);
			map_del(i);
		} else {
			EXPECT_ERR("mremap grow", err, EFAULT);
		}
		break;
	case 6: /* move */
		q = mmap(NULL, m->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED)
			break;
		if (mremap(m->addr, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   q) == MAP_FAILED) {
			EXPECT_ERR("mremap move", errno, 0);
			munmap(q, m->len);
			break;
		}
		m->addr = q;
		map_check(m, "after mremap move");
		break;
	case 7: /* DONTUNMAP: refused for VM_DONTEXPAND */
		if (m->dmabuf)
			break;
		q = mremap(m->addr, m->len, m->len,
			   MREMAP_MAYMOVE | 4 /* MREMAP_DONTUNMAP */);
		if (q != MAP_FAILED) {
			fz_fail("mremap(MREMAP_DONTUNMAP) of a block mapping succeeded");
			munmap(q, m->len);
		} else {
			EXPECT_ERR("mremap DONTUNMAP", errno, EINVAL);
		}
		break;
	case 8: /* DONTNEED: the data is the block's, it comes back */
		if (m->dmabuf) {
			/* A PFN map, as the heaps': the kernel refuses. */
			if (!madvise(m->addr, m->len, MADV_DONTNEED))
				fz_fail("MADV_DONTNEED of a dma-buf mapping succeeded");
			else
				EXPECT_ERR("MADV_DONTNEED of a dma-buf", errno, EINVAL);
			map_check(m, "after MADV_DONTNEED of a dma-buf");
			break;
		}
		if (madvise(m->addr, m->len, MADV_DONTNEED))
			EXPECT_ERR("MADV_DONTNEED", errno, 0);
		map_check(m, "after MADV_DONTNEED");
		break;
	case 9:
		/* VM_IO (a PFN map): MADV_DOFORK is refused, so leave it. */
		if (m->dmabuf)
			break;
		m->dontfork = !m->dontfork;
		if (madvise(m->addr, m->len, m->dontfork ? MADV_DONTFORK : MADV_DOFORK))
			EXPECT_ERR("MADV_DONTFORK", errno, 0);
		break;
	case 10: {
		int prot = (int[]){ PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE }[splitmix(r) % 3];

		if (mprotect(m->addr, m->len, prot)) {
			EXPECT_ERR("mprotect", errno, EACCES);
			break;
		}
		m->prot = prot;
		map_check(m, "after mprotect");
		if (splitmix(r) % 2)
			map_fill(m);
		break;
	}
	}
	pthread_mutex_unlock(&mu);
}

static void op_close(uint64_t *r)
{
	int s = splitmix(r) % NSLOT, nfd, nul, i;

	pthread_mutex_lock(&mu);
	switch (splitmix(r) % 3) {
	case 0: /* dup, and close the dup: the file lives on */
		nfd = dup(slots[s].fd);
		if (nfd >= 0)
			close(nfd);
		break;
	default:
		/*
		 * Replace the file under the fd number atomically (dup2), so
		 * racing threads see /dev/null, never an unrelated file; ALLOCs
		 * waiting on it end with EBADF.
		 */
		nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0)
			break;
		/*
		 * Before the swap: a thread whose ioctl meets /dev/null must
		 * find the generation changed when it checks after the call.
		 */
		slots[s].gen++;
		/* The shared pages hold the file: they go with it. */
		if (slots[s].ctl)
			munmap(slots[s].ctl, RESPOOL_CTL_SIZE);
		if (slots[s].pool)
			munmap((void *)slots[s].pool, RESPOOL_SHARED_SIZE);
		slots[s].ctl = NULL;
		slots[s].pool = NULL;
		dup2(nul, slots[s].fd);
		close(nul);
		nfd = open_slot(s);
		if (nfd >= 0) {
			dup3(nfd, slots[s].fd, O_CLOEXEC);
			close(nfd);
		}
		for (i = 0; i < nhints; i++)
			if (hints[i].slot == s)
				hint_del(i--);
		atomic_fetch_add(&sh->closes, 1);
		break;
	}
	pthread_mutex_unlock(&mu);
}

static void run_ops(uint64_t seed, long n, bool may_fork);

static void op_fork(uint64_t *r)
{
	uint64_t cseed = splitmix(r);
	int i, st;
	pid_t pid;

	if (in_child)
		return;
	pid_t parent = getpid();

	pthread_mutex_lock(&mu);
	/* Reap what is done. */
	for (i = 0; i < nkids; i++) {
		if (waitpid(kids[i], &st, WNOHANG) == kids[i]) {
			kids[i] = kids[--nkids];
			i--;
		}
	}
	if (nkids >= MAXKIDS) {
		pthread_mutex_unlock(&mu);
		return;
	}
	pid = fork();
	if (pid == 0) {
		in_child = 1;
		nthr = 0;
		nhints = 0;	/* the parent's: not ours to free */
		nkepts = 0;	/* nor to reuse */
		prctl(PR_SET_NAME, "fz-child");
		nkids = 0;
		/* Mappings marked MADV_DONTFORK are not ours here. */
		for (i = 0; i < nmaps; i++)
			if (maps[i].dontfork)
				map_del(i--);
		pthread_mutex_unlock(&mu);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);	/* the worker is gone already */
		/* Nobody may signal us: end our own waits now and then. */
		setitimer(ITIMER_REAL, &(struct itimerval){ { 0, 20000 }, { 0, 20000 } }, NULL);
		run_ops(cseed, 20 + cseed % 100, false);
		_exit(0);
	}
	if (pid < 0) {
		pthread_mutex_unlock(&mu);
		EXPECT_ERR("fork", errno, EAGAIN);
		return;
	}
	kids[nkids++] = pid;
	pthread_mutex_unlock(&mu);
	atomic_fetch_add(&sh->forks, 1);
	if (splitmix(r) % 3 == 0) {
		usleep(splitmix(r) % 2000);
		kill(pid, SIGKILL);
		atomic_fetch_add(&sh->kills, 1);
	}
}

/* Check every mapping's data; a few at most, to stay cheap. */
static void op_touch(uint64_t *r)
{
	int i;

	pthread_mutex_lock(&mu);
	if (nmaps) {
		i = splitmix(r) % nmaps;
		map_check(&maps[i], "touch");
		if (splitmix(r) % 2)
			map_fill(&maps[i]);
	}
	pthread_mutex_unlock(&mu);
}

/* ---- dma-buf export ---- */

/*
 * Keep a dma-buf fd (under mu), after checking what it says of itself:
 * the block's size, and the access mode it was made with. A full table
 * closes it instead.
 */
static void xbuf_add(int fd, const struct xmsg *m, const char *why)
{
	off_t end = lseek(fd, 0, SEEK_END);
	int fl = fcntl(fd, F_GETFL);

	if (end != (off_t)m->size)
		fz_fail("%s: dma-buf of a %llu-byte block says size %lld",
			why, (unsigned long long)m->size, (long long)end);
	if (fl < 0 || (fl & O_ACCMODE) != (m->rdonly ? O_RDONLY : O_RDWR))
		fz_fail("%s: dma-buf flags %#x, exported %s", why, fl,
			m->rdonly ? "O_RDONLY" : "O_RDWR");
	if (nxbufs == MAXX) {
		close(fd);
		return;
	}
	xbufs[nxbufs++] = (struct xbuf){ .fd = fd, .size = m->size,
					 .tag = m->tag, .seq = m->seq,
					 .rdonly = m->rdonly };
}

static void xbuf_del(int i)
{
	close(xbufs[i].fd);
	xbufs[i] = xbufs[--nxbufs];
}

/*
 * EXPORT one of this thread's handles. Under mu, so that no close of the
 * slot races it: the handle is live (a child only frees its own), and
 * its hint goes with a success.
 */
static void op_export_hint(uint64_t *r)
{
	struct respool_export e = { 0 };
	bool rdonly = splitmix(r) % 4 == 0, cloexec = splitmix(r) % 2;
	struct xmsg m = { .magic = XMSG_MAGIC };
	int i, s, err, fdfl;
	struct hint h;

	pthread_mutex_lock(&mu);
	if (!nhints) {
		pthread_mutex_unlock(&mu);
		return;
	}
	i = splitmix(r) % nhints;
	h = hints[i];
	s = h.slot;
	if (h.gen != slots[s].gen) {
		hint_del(i);
		pthread_mutex_unlock(&mu);
		return;
	}
	e.handle = h.handle;
	e.fd_flags = (rdonly ? O_RDONLY : O_RDWR) | (cloexec ? O_CLOEXEC : 0);
	err = ioctl(slots[s].fd, RESPOOL_IOC_EXPORT, &e) ? errno : 0;
	if (err) {
		/* As FREE of a hint: ENOENT if it is stale after all. */
		if (slots[s].rdonly && !rdonly)
			EXPECT_ERR("EXPORT O_RDWR of an O_RDONLY file's handle", err,
				   ENOENT, EACCES, EPERM, EBADF);
		else
			EXPECT_ERR("EXPORT", err, ENOENT);
		pthread_mutex_unlock(&mu);
		return;
	}
	hint_del(i);
	atomic_fetch_add(&sh->exports, 1);
	if (e.fd < 0) {
		fz_fail("EXPORT of handle %llu succeeded with fd %d",
			(unsigned long long)h.handle, e.fd);
		pthread_mutex_unlock(&mu);
		return;
	}
	fdfl = fcntl(e.fd, F_GETFD);
	if (fdfl < 0 || !(fdfl & FD_CLOEXEC) != !cloexec)
		fz_fail("EXPORT with%s O_CLOEXEC: fd flags %#x",
			cloexec ? "" : "out", fdfl);
	m.size = h.block_size;
	m.tag = h.tag;
	m.seq = h.seq;
	m.rdonly = rdonly;
	xbuf_add(e.fd, &m, "EXPORT");
	pthread_mutex_unlock(&mu);
}

/* EXPORTs that must fail and change nothing. */
static void op_export_bad(uint64_t *r)
{
	static const uint32_t bad_flags[] = {
		O_WRONLY, O_RDWR | O_WRONLY, O_RDWR | O_NONBLOCK,
		O_RDONLY | O_APPEND, 1u << 31, O_RDWR | O_CLOEXEC | O_TRUNC,
	};
	struct respool_export e = { .fd_flags = O_RDWR | O_CLOEXEC };
	int s, err, want = EINVAL;
	bool live = false;
	unsigned int gen;

	pthread_mutex_lock(&mu);
	if (nhints && splitmix(r) % 2) {
		struct hint *h = &hints[splitmix(r) % nhints];

		s = h->slot;
		e.handle = h->handle;
		live = h->gen == slots[s].gen;
	} else {
		s = splitmix(r) % NSLOT;
		e.handle = 1;
	}
	gen = slots[s].gen;
	switch (splitmix(r) % 6) {
	case 0:
	case 1:
		e.fd_flags = bad_flags[splitmix(r) % 6];
		break;
	case 2:
		e.reserved[splitmix(r) % 2] = splitmix(r) | 1;
		break;
	case 3:
		e.handle = 0;
		want = ENOENT;
		break;
	case 4:
		e.handle = (uint64_t)INT32_MAX + 1 + splitmix(r) % 4;
		want = ENOENT;
		break;
	default:
		e.handle = splitmix(r) | (1ULL << 40);
		want = ENOENT;
		break;
	}
	err = ioctl(slots[s].fd, RESPOOL_IOC_EXPORT, &e) ? errno : 0;
	if (!err)
		close(e.fd);
	/* Bad flags and an unknown handle: which comes first is not ours. */
	if (want == EINVAL && !live && err == ENOENT)
		err = EINVAL;
	if (gen == slots[s].gen && err != want && !errno_in(err, NULL, 0))
		fz_fail("EXPORT handle=%llu fd_flags=%#x reserved=%#llx,%#llx: got %d (%s), expected %s",
			(unsigned long long)e.handle, e.fd_flags,
			(unsigned long long)e.reserved[0],
			(unsigned long long)e.reserved[1], err, strerror(err),
			strerror(want));
	pthread_mutex_unlock(&mu);
}

/* Send a dma-buf fd to whichever process receives next. */
static void op_xsend(uint64_t *r)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct xmsg m = { .magic = XMSG_MAGIC };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int i;

	pthread_mutex_lock(&mu);
	if (!nxbufs) {
		pthread_mutex_unlock(&mu);
		return;
	}
	i = splitmix(r) % nxbufs;
	m.size = xbufs[i].size;
	m.tag = xbufs[i].tag;
	m.seq = xbufs[i].seq;
	m.rdonly = xbufs[i].rdonly;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &xbufs[i].fd, sizeof(int));
	/* A full queue (EAGAIN) and the like: keep it, try another time. */
	if (sendmsg(g_xsock[0], &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(m)) {
		atomic_fetch_add(&sh->xsent, 1);
		/* Mostly handed over; now and then shared. */
		if (splitmix(r) % 4)
			xbuf_del(i);
	}
	pthread_mutex_unlock(&mu);
}

static void op_xrecv(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct xmsg m = { 0 };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1;

	pthread_mutex_lock(&mu);
	n = recvmsg(g_xsock[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	c = n < 0 ? NULL : CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (n < 0) {
		pthread_mutex_unlock(&mu);
		return;
	}
	/* No fd: the receiver ran out of descriptors (MSG_CTRUNC). */
	if (n != sizeof(m) || m.magic != XMSG_MAGIC ||
	    (fd < 0 && !(mh.msg_flags & MSG_CTRUNC)))
		fz_fail("a dma-buf message of %zd bytes, magic %#x, fd %d",
			n, m.magic, fd);
	if (fd >= 0) {
		atomic_fetch_add(&sh->xrecvd, 1);
		xbuf_add(fd, &m, "received dma-buf");
	}
	pthread_mutex_unlock(&mu);
}

/* Map a dma-buf, whole or from a page, checked as the block it is. */
static void op_xmap(uint64_t *r)
{
	uint64_t pg = RP_PAGE, pages, first, len;
	int i, prot, err;
	bool valid = true;
	struct xbuf *x;
	char *p;

	pthread_mutex_lock(&mu);
	if (!nxbufs || nmaps >= MAXM - 4) {
		pthread_mutex_unlock(&mu);
		return;
	}
	x = &xbufs[splitmix(r) % nxbufs];
	pages = x->size / pg;
	first = splitmix(r) % pages;
	len = (splitmix(r) % (pages - first) + 1) * pg;
	if (splitmix(r) % 3 == 0)
		first = 0, len = x->size;
	prot = x->rdonly && splitmix(r) % 4 ? PROT_READ : PROT_READ | PROT_WRITE;
	if (splitmix(r) % 10 == 0) {
		len = x->size - first * pg + pg;	/* leaves the buffer */
		valid = false;
	}
	p = mmap(NULL, len, prot, MAP_SHARED, x->fd, first * pg);
	err = p == MAP_FAILED ? errno : 0;
	if (!valid || (x->rdonly && (prot & PROT_WRITE))) {
		if (!err) {
			fz_fail("mmap of %llu bytes from page %llu, prot %#x, of a %llu-byte %s dma-buf succeeded",
				(unsigned long long)len, (unsigned long long)first,
				prot, (unsigned long long)x->size,
				x->rdonly ? "read-only" : "read-write");
			munmap(p, len);
		} else if (valid) {
			EXPECT_ERR("PROT_WRITE mmap of a read-only dma-buf", err, EACCES);
		} else {
			EXPECT_ERR("mmap past the end of a dma-buf", err, EINVAL,
				   EACCES);
		}
		pthread_mutex_unlock(&mu);
		return;
	}
	if (err) {
		fz_fail("mmap of %llu bytes from page %llu, prot %#x, of a %llu-byte %s dma-buf: %s",
			(unsigned long long)len, (unsigned long long)first, prot,
			(unsigned long long)x->size,
			x->rdonly ? "read-only" : "read-write", strerror(err));
		pthread_mutex_unlock(&mu);
		return;
	}
	atomic_fetch_add(&sh->xmaps, 1);
	i = nmaps++;
	maps[i] = (struct map){ .addr = p, .len = len, .first = first,
				.block_size = x->size, .tag = x->tag,
				.seq = x->seq, .prot = prot, .dmabuf = true };
	map_check(&maps[i], "new dma-buf mapping");
	if (splitmix(r) % 2)
		map_fill(&maps[i]);
	pthread_mutex_unlock(&mu);
}

/* Close a dma-buf fd, or bracket CPU access to it with SYNC. */
static void op_xclose_sync(uint64_t *r)
{
	struct dma_buf_sync sync;
	int i, err;

	pthread_mutex_lock(&mu);
	if (!nxbufs) {
		pthread_mutex_unlock(&mu);
		return;
	}
	i = splitmix(r) % nxbufs;
	if (splitmix(r) % 3) {
		xbuf_del(i);
		pthread_mutex_unlock(&mu);
		return;
	}
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	err = ioctl(xbufs[i].fd, DMA_BUF_IOCTL_SYNC, &sync) ? errno : 0;
	EXPECT_ERR("DMA_BUF_IOCTL_SYNC start", err, 0);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	err = ioctl(xbufs[i].fd, DMA_BUF_IOCTL_SYNC, &sync) ? errno : 0;
	EXPECT_ERR("DMA_BUF_IOCTL_SYNC end", err, 0);
	pthread_mutex_unlock(&mu);
}

static void op_export(uint64_t *r)
{
	switch (splitmix(r) % 10) {
	case 0:
	case 1:
	case 2:
		op_export_hint(r);
		break;
	case 3:
		op_export_bad(r);
		break;
	case 4:
		op_xsend(r);
		break;
	case 5:
	case 6:
		op_xrecv();
		break;
	case 7:
		op_xmap(r);
		break;
	default:
		op_xclose_sync(r);
		break;
	}
}

/* ---- the control page ---- */

static uint32_t slot_load(struct respool_ctl *c, uint64_t h)
{
	return __atomic_load_n(&c->slots[h], __ATOMIC_SEQ_CST);
}

static bool slot_cas(struct respool_ctl *c, uint64_t h, uint32_t *old,
		     uint32_t want)
{
	return __atomic_compare_exchange_n(&c->slots[h], old, want, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

#define SLOT_WORD(st, g) ((uint32_t)(st) | (uint32_t)(g) << RESPOOL_SLOT_GEN_SHIFT)

/*
 * Map slot @s's control page and pool page if they are not yet (under
 * mu). An O_RDONLY file gets no writable control page (EACCES); it may
 * still read it.
 */
static void ctl_map(int s)
{
	struct slot *sl = &slots[s];
	void *p;
	int err;

	if (sl->ctl)
		return;
	sl->ctl_prot = PROT_READ | PROT_WRITE;
	p = mmap(NULL, RESPOOL_CTL_SIZE, sl->ctl_prot, MAP_SHARED, sl->fd,
		 RESPOOL_CTL_OFFSET);
	err = p == MAP_FAILED ? errno : 0;
	if (sl->rdonly) {
		if (!err) {
			fz_fail("a writable control page of an O_RDONLY file");
			munmap(p, RESPOOL_CTL_SIZE);
		} else {
			EXPECT_ERR("writable control page of an O_RDONLY file",
				   err, EACCES);
		}
		sl->ctl_prot = PROT_READ;
		p = mmap(NULL, RESPOOL_CTL_SIZE, sl->ctl_prot, MAP_SHARED,
			 sl->fd, RESPOOL_CTL_OFFSET);
		err = p == MAP_FAILED ? errno : 0;
		if (err) {
			EXPECT_ERR("read-only control page of an O_RDONLY file",
				   err, EACCES, EINVAL);
			return;
		}
	} else if (err) {
		EXPECT_ERR("mmap of the control page", err, 0);
		return;
	}
	/* (Its header may hold a child's garbage already: no check.) */
	sl->ctl = p;
	p = mmap(NULL, RESPOOL_SHARED_SIZE, PROT_READ, MAP_SHARED, sl->fd,
		 RESPOOL_SHARED_OFFSET);
	if (p == MAP_FAILED) {
		EXPECT_ERR("mmap of the pool page", errno, 0);
		return;
	}
	sl->pool = p;
	if (sl->pool->version != RESPOOL_CTL_VERSION)
		fz_fail("pool page version %u", sl->pool->version);
}

/* Keep one of this thread's blocks: INUSE|g -> KEPT|g, as a FREE. */
static void ctl_keep(uint64_t *r)
{
	struct respool_ctl *c;
	struct hint h;
	uint32_t w, g;
	int i, s;

	if (!nhints || nkepts == MAXKEPT)
		return;
	i = splitmix(r) % nhints;
	h = hints[i];
	s = h.slot;
	if (h.gen != slots[s].gen) {
		hint_del(i);
		return;
	}
	ctl_map(s);
	c = slots[s].ctl;
	if (!c || !(slots[s].ctl_prot & PROT_WRITE) ||
	    h.handle >= RESPOOL_CTL_NR_SLOTS)
		return;
	w = slot_load(c, h.handle);
	g = w >> RESPOOL_SLOT_GEN_SHIFT;
	/* Another thread's garbage may be there: then a guess. */
	if ((w & RESPOOL_SLOT_STATE_MASK) != RESPOOL_SLOT_INUSE ||
	    splitmix(r) % 8 == 0)
		g = splitmix(r) % 4 ? (uint32_t)splitmix(r) : g ^ 1;
	g &= UINT32_MAX >> RESPOOL_SLOT_GEN_SHIFT;
	if (!kept_note(h.tag, h.handle))
		return;
	/* From here on the block is the kernel's to take: no hint names it. */
	hint_del(i);
	if (splitmix(r) % 4)
		slot_cas(c, h.handle, &w, SLOT_WORD(RESPOOL_SLOT_KEPT, g));
	else
		__atomic_store_n(&c->slots[h.handle],
				 SLOT_WORD(RESPOOL_SLOT_KEPT, g), __ATOMIC_SEQ_CST);
	kepts[nkepts++] = (struct kept){ .h = h, .kgen = g };
	if (w == SLOT_WORD(RESPOOL_SLOT_INUSE, g))
		atomic_fetch_add(&sh->keeps, 1);
	/* The protocol, most of the time: nobody may wait on a kept block. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (splitmix(r) % 4 && slots[s].pool &&
	    (__atomic_load_n(&slots[s].pool->waiters, __ATOMIC_SEQ_CST) ||
	     __atomic_load_n(&slots[s].pool->reclaim, __ATOMIC_SEQ_CST))) {
		w = SLOT_WORD(RESPOOL_SLOT_KEPT, g);
		nkepts--;
		if (slot_cas(c, h.handle, &w, SLOT_WORD(RESPOOL_SLOT_INUSE, g)))
			hint_add(s, h.gen, &(struct respool_alloc){
					.handle = h.handle,
					.block_size = h.block_size },
				 h.size, h.seq, h.kseq);
		else
			atomic_fetch_add(&sh->lost, 1);
	}
}

/* Reuse a kept block (KEPT|g or KEPT|IDLE|g -> INUSE|g), or learn it is gone. */
static void ctl_reuse(uint64_t *r)
{
	struct kept k;
	uint32_t w;
	int i;

	if (!nkepts)
		return;
	i = splitmix(r) % nkepts;
	k = kepts[i];
	kepts[i] = kepts[--nkepts];
	if (k.h.gen != slots[k.h.slot].gen || !slots[k.h.slot].ctl)
		return;
	w = slot_load(slots[k.h.slot].ctl, k.h.handle);
	if ((w & ~RESPOOL_SLOT_IDLE) != SLOT_WORD(RESPOOL_SLOT_KEPT, k.kgen) ||
	    !slot_cas(slots[k.h.slot].ctl, k.h.handle, &w,
		      SLOT_WORD(RESPOOL_SLOT_INUSE, k.kgen))) {
		/* Taken back (TAKEN|g), or another thread's garbage. */
		atomic_fetch_add(&sh->lost, 1);
		return;
	}
	atomic_fetch_add(&sh->reuses, 1);
	__atomic_fetch_add(&slots[k.h.slot].ctl->hits, 1, __ATOMIC_RELAXED);
	hint_add(k.h.slot, k.h.gen, &(struct respool_alloc){
			.handle = k.h.handle, .block_size = k.h.block_size },
		 k.h.size, k.h.seq, k.h.kseq);
}

/*
 * Garbage that can never keep a block: any word whose state is not
 * KEPT, anywhere in the page (header, slot 0, the pin's slot 63, slots
 * of no handle, slots of live blocks of any thread).
 */
static void ctl_garbage(uint64_t *r, int s)
{
	struct respool_ctl *c = slots[s].ctl;
	uint64_t h = splitmix(r) % RESPOOL_CTL_NR_SLOTS, x = splitmix(r);
	uint32_t w = (uint32_t)x;

	if (!c || !(slots[s].ctl_prot & PROT_WRITE))
		return;
	switch (splitmix(r) % 8) {
	case 0: c->version = (uint32_t)x; break;
	case 1: c->nr_slots = (uint32_t)(x >> 32); break;
	case 2: c->hits = x; break;
	case 3: c->reserved[x % 6] = x; break;
	default:
		if ((w & RESPOOL_SLOT_STATE_MASK) == RESPOOL_SLOT_KEPT)
			w ^= (x >> 40) & 1 ? 1 : 2;	/* TAKEN or NONE */
		if (splitmix(r) % 2)
			w = (w & ~RESPOOL_SLOT_STATE_MASK) |
			    (slot_load(c, h) & ~RESPOOL_SLOT_STATE_MASK) |
			    (uint32_t)(x >> 33) % 2 * 3;	/* NONE or TAKEN */
		__atomic_store_n(&c->slots[h], w, __ATOMIC_RELAXED);
		break;
	}
}

/*
 * Guesses: a KEPT word with a generation read from another slot or made
 * up, into a slot of a handle of this thread (which gives the block up, as
 * a keep does) - the kernel takes only what it handed out.
 */
static void ctl_guess(uint64_t *r)
{
	struct respool_ctl *c;
	struct hint h;
	uint32_t w;
	int i;

	if (!nhints || nkepts == MAXKEPT)
		return;
	i = splitmix(r) % nhints;
	h = hints[i];
	c = slots[h.slot].ctl;
	if (h.gen != slots[h.slot].gen || !c ||
	    !(slots[h.slot].ctl_prot & PROT_WRITE) ||
	    h.handle >= RESPOOL_CTL_NR_SLOTS)
		return;
	w = slot_load(c, splitmix(r) % RESPOOL_CTL_NR_SLOTS);
	if (splitmix(r) % 2)
		w = (uint32_t)splitmix(r);
	w = (w & ~RESPOOL_SLOT_STATE_MASK) | RESPOOL_SLOT_KEPT;
	if (!kept_note(h.tag, h.handle))
		return;
	hint_del(i);
	__atomic_store_n(&c->slots[h.handle], w, __ATOMIC_SEQ_CST);
	kepts[nkepts++] = (struct kept){ .h = h, .kgen = w >> RESPOOL_SLOT_GEN_SHIFT };
}

/* Mappings of the shared pages that must fail, and a second good one. */
static void ctl_mmaps(uint64_t *r, int s)
{
	static const struct { uint64_t off, len; int prot, flags; } bad[] = {
		{ RESPOOL_CTL_OFFSET, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE },
		{ RESPOOL_CTL_OFFSET, 8192, PROT_READ, MAP_SHARED },
		{ RESPOOL_SHARED_OFFSET, 8192, PROT_READ, MAP_SHARED },
		{ RESPOOL_SHARED_OFFSET, 4096, PROT_READ, MAP_PRIVATE },
	};
	unsigned int k = splitmix(r) % 6;
	void *p;
	int err;

	if (k < 4) {
		p = mmap(NULL, bad[k].len, bad[k].prot, bad[k].flags,
			 slots[s].fd, bad[k].off);
		err = p == MAP_FAILED ? errno : 0;
		if (!err) {
			fz_fail("mmap of the shared pages off=%#llx len=%llu flags=%#x succeeded",
				(unsigned long long)bad[k].off,
				(unsigned long long)bad[k].len, bad[k].flags);
			munmap(p, bad[k].len);
		} else {
			EXPECT_ERR("bad mmap of the shared pages", err, EINVAL,
				   EACCES);
		}
	} else if (k == 4) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			 slots[s].fd, RESPOOL_SHARED_OFFSET);
		err = p == MAP_FAILED ? errno : 0;
		if (!err) {
			fz_fail("a writable pool page");
			munmap(p, 4096);
		} else {
			EXPECT_ERR("writable pool page", err, EACCES, EPERM);
		}
	} else if (slots[s].ctl && (slots[s].ctl_prot & PROT_WRITE)) {
		/* The same page again. */
		struct respool_ctl *c = mmap(NULL, RESPOOL_CTL_SIZE,
					     PROT_READ | PROT_WRITE, MAP_SHARED,
					     slots[s].fd, RESPOOL_CTL_OFFSET);

		if (c == MAP_FAILED) {
			EXPECT_ERR("a second control page mapping", errno, 0);
			return;
		}
		if (c->nr_slots != slots[s].ctl->nr_slots)
			fz_fail("two mappings of one control page differ");
		munmap(c, RESPOOL_CTL_SIZE);
	}
}

static void op_ctl(uint64_t *r)
{
	int s = splitmix(r) % NSLOT;

	atomic_fetch_add(&sh->ctl_ops, 1);
	pthread_mutex_lock(&mu);
	ctl_map(s);
	switch (splitmix(r) % 8) {
	case 0:
	case 1:
		ctl_keep(r);
		break;
	case 2:
	case 3:
		ctl_reuse(r);
		break;
	case 4:
		ctl_guess(r);
		break;
	case 5:
		ctl_mmaps(r, s);
		break;
	default:
		ctl_garbage(r, s);
		break;
	}
	pthread_mutex_unlock(&mu);
}

static void run_ops(uint64_t seed, long n, bool may_fork)
{
	uint64_t r = seed;
	long i;

	for (i = 0; i < n; i++) {
		unsigned int w = splitmix(&r) % 106;

		if (!in_child) {
			if (atomic_fetch_add(&sh->ops, 1) >= atomic_load(&sh->target))
				return;
		}
		if (w < 22)
			op_alloc(&r);
		else if (w < 36)
			op_free(&r);
		else if (w < 42)
			op_info(&r);
		else if (w < 46)
			op_stats(&r);
		else if (w < 50)
			op_raw_ioctl(&r);
		else if (w < 62)
			op_mmap(&r);
		else if (w < 76)
			op_mapops(&r);
		else if (w < 81)
			op_touch(&r);
		else if (w < 92)
			op_export(&r);
		else if (w < 97)
			op_close(&r);
		else if (w < 100 && may_fork)
			op_fork(&r);
		else if (w >= 100)
			op_ctl(&r);
		if (atomic_load(&stop_threads))
			return;
	}
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A worker that crashes says where (addr2line -e fuzz_test OFFSET), then
 * dies of the same signal. Not async-signal-safe, but it only runs once.
 */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
	extern char __executable_start[];
	unsigned long ip = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];

	fz_fail("%s at %p (si_code %d), ip fuzz_test+%#lx", strsignal(sig),
		si->si_addr, si->si_code, ip - (unsigned long)__executable_start);
	raise(sig);
}

struct thr_arg {
	uint64_t seed;
};

static void *thread_main(void *p)
{
	struct thr_arg *a = p;

	run_ops(a->seed, LONG_MAX, true);
	return NULL;
}

/* One worker process: NSLOT files, @nthreads threads, a signal ticker. */
static void worker(int id, uint64_t seed, int nthreads)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct thr_arg args[MAXTHR];
	uint64_t r = seed;
	int i;

	worker_id = id;
	prctl(PR_SET_NAME, "fz-worker");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);	/* the test kills the whole group at the end */
	/* fault_test: failures for the workers (and their threads and
	 * children), not for the harness around them. */
	if (g_faults && rp_write_file("/proc/self/make-it-fail", "1"))
		fz_fail("cannot set make-it-fail");
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sa = (struct sigaction){ .sa_sigaction = on_crash,
				 .sa_flags = SA_SIGINFO | SA_RESETHAND };
	sigaction(SIGSEGV, &sa, NULL);
	/* A block taken back is SIGBUS where the touch is guarded. */
	sa = (struct sigaction){ .sa_sigaction = on_bus,
				 .sa_flags = SA_SIGINFO };
	sigaction(SIGBUS, &sa, NULL);
	for (i = 0; i < NSLOT; i++)
		slots[i].fd = open_slot(i);
	nthr = nthreads;
	for (i = 0; i < nthreads; i++) {
		args[i].seed = splitmix(&r);
		if (pthread_create(&thr[i], NULL, thread_main, &args[i])) {
			nthr = i;
			break;
		}
	}
	/* Signals end blocking waits (EINTR), so nobody waits forever. */
	while (atomic_load(&sh->ops) < atomic_load(&sh->target)) {
		usleep(2000 + splitmix(&r) % 20000);
		if (nthr)
			pthread_kill(thr[splitmix(&r) % nthr], SIGUSR1);
		pthread_mutex_lock(&mu);
		for (i = 0; i < nkids; i++)
			kill(kids[i], SIGUSR1);
		pthread_mutex_unlock(&mu);
	}
	atomic_store(&stop_threads, 1);
	for (;;) {
		static bool joined[MAXTHR];
		int alive = 0;

		for (i = 0; i < nthr; i++) {
			if (joined[i])
				continue;
			if (pthread_tryjoin_np(thr[i], NULL) == EBUSY) {
				pthread_kill(thr[i], SIGUSR1);
				alive = 1;
			} else {
				joined[i] = true;
			}
		}
		if (!alive)
			break;
		usleep(5000);
	}
	/* Children run a few ops only; whatever is left goes now. */
	for (i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	for (i = 0; i < nmaps; i++)
		map_check(&maps[i], "at the end");
	_exit(0);
}

/* ---- netlink, through respoolctl ---- */

/* The settings as config show -j names them, in the order of config set. */
static const char *const nl_keys[] = {
	"capacity", "max-block-size", "reserve-max", "client-quota",
	"user-quota", "threshold", "pcpu-cache-blocks", "idle-trim-ms",
};
#define NL_NKEYS	(sizeof(nl_keys) / sizeof(nl_keys[0]))
enum { K_CAP, K_MAXB, K_RESV, K_CQ, K_UQ, K_THR, K_PCPU, K_TRIM };

/*
 * Run respoolctl with @argv (NULL-terminated); its stderr, and its stdout
 * when @want_stdout, into @out. Returns the wait status.
 */
static int nl_run(const char *const *argv, bool want_stdout, char *out,
		  size_t len)
{
	int pfd[2], st = -1;
	size_t n = 0;
	ssize_t k;
	char junk[512];
	pid_t pid;

	out[0] = '\0';
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(want_stdout ? pfd[1] : nul, 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		execv(g_respoolctl, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	for (;;) {
		if (n + 1 < len)
			k = read(pfd[0], out + n, len - 1 - n);
		else
			k = read(pfd[0], junk, sizeof(junk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (n + 1 < len)
			n += k;
	}
	out[n] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/*
 * An answer that an injected allocation failure explains: the kernel's
 * ENOMEM or ENOBUFS, as respoolctl prints them (strerror, or libnl's
 * "Out of memory" when its own receive buffer could not be had).
 */
static bool nl_nomem(const char *out)
{
	return strstr(out, strerror(ENOMEM)) || strstr(out, strerror(ENOBUFS)) ||
	       strstr(out, "Out of memory");
}

static void nl_cmdline(const char *const *argv, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 1; argv[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i > 1 ? " " : "", argv[i]);
}

/*
 * Run one command and check its answer: @refusal NULL, it must succeed;
 * otherwise it must exit 1 with that text in its message. Under fault
 * injection a command may also fail for an allocation (nl_nomem()).
 * Returns 1 when it succeeded, 0 when it was refused as expected, -1 when
 * an allocation failed, -2 on a wrong answer (reported).
 */
static int nl_check(const char *const *argv, const char *refusal)
{
	char out[2048], cmd[256];
	int st = nl_run(argv, false, out, sizeof(out));

	atomic_fetch_add(&sh->nl_ops, 1);
	if (!refusal && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (refusal && WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
	    strstr(out, refusal))
		return 0;
	if (g_faults && WIFEXITED(st) && WEXITSTATUS(st) == 1 && nl_nomem(out)) {
		atomic_fetch_add(&sh->nl_nomem, 1);
		return -1;
	}
	nl_cmdline(argv, cmd, sizeof(cmd));
	fz_fail("respoolctl %s: status %#x, expected %s: %.200s", cmd, st,
		refusal ? refusal : "success", out);
	return -2;
}

/* The settings in force, from config show -j; 0 or -1. */
static int nl_get_config(uint64_t *v)
{
	const char *const argv[] = { "respoolctl", "-j", "config", "show", NULL };
	char out[1024], key[40], *p;
	size_t i;
	int tries, st;

	for (tries = 0; tries < 100; tries++) {
		st = nl_run(argv, true, out, sizeof(out));
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			break;
		if (!g_faults || !nl_nomem(out)) {
			fz_fail("respoolctl -j config show: status %#x: %.200s",
				st, out);
			return -1;
		}
	}
	for (i = 0; i < NL_NKEYS; i++) {
		snprintf(key, sizeof(key), "\"%s\":", nl_keys[i]);
		p = strstr(out, key);
		if (!p) {
			fz_fail("config show -j has no %s: %.200s", nl_keys[i], out);
			return -1;
		}
		/* strtoull() skips the blank of pretty output. */
		v[i] = strtoull(p + strlen(key), NULL, 10);
	}
	return 0;
}

/* The settings in force must be @want: a refused set changes nothing. */
static void nl_expect_config(const uint64_t *want, const char *after)
{
	uint64_t v[NL_NKEYS];
	size_t i;

	if (nl_get_config(v))
		return;
	for (i = 0; i < NL_NKEYS; i++)
		if (v[i] != want[i])
			fz_fail("after %s: %s is %llu, expected %llu", after,
				nl_keys[i], (unsigned long long)v[i],
				(unsigned long long)want[i]);
}

/*
 * A value for setting @k: valid ones keep what the workers' checks assume
 * (capacity and max-block-size as loaded, no quota at all unless the run
 * has one), invalid ones break one rule each. Sets *@refusal to the
 * message expected for it, NULL for a valid one.
 */
static uint64_t nl_pick(int k, uint64_t *r, const uint64_t *cur,
			const char **refusal)
{
	uint64_t x = splitmix(r);
	const uint64_t big = 1ULL << 40;	/* above anything held */

	*refusal = NULL;
	switch (k) {
	case K_CAP:
		if (x % 4)
			return g_cap;
		*refusal = "invalid capacity 100: must be at least one page";
		return 100;
	case K_MAXB:
		if (x % 4)
			return g_maxb;
		*refusal = "must be a multiple of the page size, from one page to 4M";
		return x % 8 < 4 ? 5000 : 8 << 20;
	case K_RESV:
		return (uint64_t[]){ 0, g_maxb, g_cap, big }[x % 4];
	case K_CQ:
		x = g_quota ? (uint64_t[]){ 0, g_maxb, 2 * g_maxb, 4 * g_maxb }[x % 4] : 0;
		if (x && cur[K_UQ] && x > cur[K_UQ])
			*refusal = "must be 0 or at most user-quota";
		return x;
	case K_UQ:
		x = g_quota ? (uint64_t[]){ 0, g_cap / 2, g_maxb, big }[x % 4] :
			      (x % 2 ? big : 0);
		if (x && cur[K_CQ] && cur[K_CQ] > x)
			*refusal = "must be 0 or at least client-quota";
		return x;
	case K_THR:
		if (x % 5)
			return (uint64_t[]){ 0, 50, 75, 100 }[x % 4];
		*refusal = "invalid threshold 101: must be 0..100";
		return 101;
	case K_PCPU:
		if (x % 5)
			return (uint64_t[]){ 0, 4, 16, 64 }[x % 4];
		*refusal = "invalid pcpu-cache-blocks 65: must be 0..64";
		return 65;
	default:
		return (uint64_t[]){ 0, 5, 100, 10000 }[x % 4];
	}
}

/* config set of one or two settings; keeps @cur the settings in force. */
static void nl_config_set(uint64_t *r, uint64_t *cur)
{
	const char *argv[8] = { "respoolctl", "config", "set" };
	const char *refusal = NULL, *why;
	char vals[2][24];
	uint64_t next[NL_NKEYS];
	int n = 1 + splitmix(r) % 2, i, k, ret;

	/*
	 * One or two settings, at most one of them invalid (which of two
	 * refusals comes first is the kernel's business, not this test's),
	 * never one twice (the last value would count).
	 */
	memcpy(next, cur, sizeof(next));
	for (i = 0, k = -1; i < n && !refusal; i++) {
		k = k < 0 ? (int)(splitmix(r) % NL_NKEYS) :
			    (int)((k + 1 + splitmix(r) % (NL_NKEYS - 1)) % NL_NKEYS);
		/* The rule between the quotas sees the whole request. */
		next[k] = nl_pick(k, r, next, &why);
		refusal = why;
		snprintf(vals[i], sizeof(vals[i]), "%llu", (unsigned long long)next[k]);
		argv[3 + 2 * i] = nl_keys[k];
		argv[4 + 2 * i] = vals[i];
	}
	/*
	 * A request that carries both quotas (i: how many settings it
	 * carries) and breaks the rule between them is refused as the
	 * higher one, user-quota, whichever came first on the line
	 * (respool_nl_config_error()).
	 */
	if (i == 2 && refusal && !strcmp(refusal, "must be 0 or at most user-quota") &&
	    (!strcmp(argv[3], "user-quota") || !strcmp(argv[5], "user-quota")))
		refusal = "must be 0 or at least client-quota";
	ret = nl_check(argv, refusal);
	if (ret == 1)
		memcpy(cur, next, sizeof(next));
	if (ret != -2)
		nl_expect_config(cur, argv[3]);
}

/*
 * A named pool, "fz", made and deleted under the workers' feet: pool-new,
 * pool set, pool show and pool-del with their refusals ("exists", "no
 * such pool", "files are open" while a child of this process has it
 * open), and children that open its node, allocate, hold a moment and
 * exit, racing the deletes. The workers' pool, default, must not notice:
 * its end-of-run accounting stays exact. *@kids counts the children.
 */
/* pool del fz, whose answer depends on the race it is in. */
static void nl_pool_del(void)
{
	static const char *const del[] = { "respoolctl", "pool", "del", "fz",
					   NULL };
	char out[1024];
	int st;

	st = nl_run(del, false, out, sizeof(out));
	atomic_fetch_add(&sh->nl_ops, 1);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		atomic_fetch_add(&sh->pool_dels, 1);
	if (strstr(out, "files are open"))
		atomic_fetch_add(&sh->pool_busy, 1);
	if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 ||
	    (WEXITSTATUS(st) == 1 && (strstr(out, "no such pool") ||
				      strstr(out, "files are open") ||
				      (g_faults && nl_nomem(out))))))
		return;
	fz_fail("pool del fz: status %#x: %.200s", st, out);
}

static void nl_pool_churn(uint64_t *r, int *kids)
{
	static const char *const add[] = { "respoolctl", "pool", "add", "fz",
		"capacity", "1M", "max-block-size", "64K", "mode", "0600", NULL };
	static const char *const show[] = { "respoolctl", "pool", "show",
					    "fz", NULL };
	const char *set[] = { "respoolctl", "pool", "set", "fz", "threshold",
			      "90", NULL };
	char out[1024];
	int st, fd;
	pid_t pid;

	switch (splitmix(r) % 5) {
	case 0:
		st = nl_run(add, false, out, sizeof(out));
		atomic_fetch_add(&sh->nl_ops, 1);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			atomic_fetch_add(&sh->pool_adds, 1);
		if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 ||
		    (WEXITSTATUS(st) == 1 && (strstr(out, "exists") ||
					      (g_faults && nl_nomem(out))))))
			break;
		fz_fail("pool add fz: status %#x: %.200s", st, out);
		break;
	case 1:
		nl_pool_del();
		break;
	case 2:
	case 3:
		set[5] = splitmix(r) % 2 ? "90" : "0";
		st = nl_run(splitmix(r) % 2 ? set : show, false, out,
			    sizeof(out));
		atomic_fetch_add(&sh->nl_ops, 1);
		if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 ||
		    (WEXITSTATUS(st) == 1 && (strstr(out, "no such pool") ||
					      (g_faults && nl_nomem(out))))))
			break;
		fz_fail("pool set/show fz: status %#x: %.200s", st, out);
		break;
	default:
		/* A client of fz for a moment, if fz is there. */
		pid = fork();
		if (pid == 0) {
			struct respool_alloc a = {
				.size = RP_PAGE, .flags = RESPOOL_ALLOC_NONBLOCK,
			};

			fd = open("/dev/respool-fz", O_RDWR);
			if (fd < 0)
				_exit(errno == ENOENT || errno == ENODEV ||
				      (g_faults && errno == ENOMEM) ? 0 : 1);
			atomic_fetch_add(&sh->pool_opens, 1);
			if (ioctl(fd, RESPOOL_IOC_ALLOC, &a) &&
			    errno != EAGAIN && !(g_faults && errno == ENOMEM))
				_exit(2);
			/* Long enough for a pool del to find it busy. */
			usleep(splitmix(r) % 300000);
			_exit(0);
		}
		if (pid > 0)
			(*kids)++;
		/* And a pool del racing it: busy, or first, or too late. */
		usleep(splitmix(r) % 20000);
		nl_pool_del();
		break;
	}
	/* Reap the children that are done; a bad exit is a failure. */
	while (*kids && (pid = waitpid(-1, &st, WNOHANG)) > 0) {
		(*kids)--;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fz_fail("a client of pool fz ended with status %#x", st);
	}
}

/* At the end: every child gone, fz deleted; the pools are as loaded. */
static void nl_pool_churn_end(int kids)
{
	static const char *const del[] = { "respoolctl", "pool", "del", "fz",
					   NULL };
	char out[1024];
	int st, tries;

	while (kids > 0 && wait(&st) > 0) {
		kids--;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fz_fail("a client of pool fz ended with status %#x", st);
	}
	for (tries = 0; tries < 100; tries++) {
		st = nl_run(del, false, out, sizeof(out));
		if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 ||
				      strstr(out, "no such pool")))
			return;
		usleep(10000);
	}
	fz_fail("pool del fz at the end: status %#x: %.200s", st, out);
}

/*
 * Netlink through respoolctl, when it is built: reads, admin commands,
 * and config set of every setting with valid and invalid values, each
 * answer checked. Under fault injection it runs with make-it-fail, as the
 * workers do, so that the kernel's side of every command meets injected
 * allocation failures too; an answer such a failure explains is counted,
 * any other wrong answer fails the run. At the end the settings are put
 * back as they were loaded.
 */
static void nl_worker(uint64_t seed)
{
	static const char *const cmds[][6] = {
		{ "respoolctl", "stats" }, { "respoolctl", "-j", "stats" },
		{ "respoolctl", "cpus" }, { "respoolctl", "clients" },
		{ "respoolctl", "-j", "clients" },
		{ "respoolctl", "config", "show" }, { "respoolctl", "drain" },
		{ "respoolctl", "reset" },
		{ "respoolctl", "prefill", "4K", "4" },
		{ "respoolctl", "prefill", "64K", "2" },
	};
	const char *argv[20] = { "respoolctl", "config", "set" };
	uint64_t r = seed, orig[NL_NKEYS], cur[NL_NKEYS];
	char vals[NL_NKEYS][24];
	size_t i;
	int tries, kids = 0;

	prctl(PR_SET_NAME, "fz-netlink");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (g_faults && rp_write_file("/proc/self/make-it-fail", "1"))
		fz_fail("netlink: cannot set make-it-fail");
	if (nl_get_config(orig))
		_exit(0);
	memcpy(cur, orig, sizeof(cur));
	while (atomic_load(&sh->ops) < atomic_load(&sh->target) ||
	       atomic_load(&sh->nl_ops) < g_nl_min) {
		uint64_t x = splitmix(&r) % 20;

		if (x < 6)
			nl_config_set(&r, cur);
		else if (x >= 16)
			nl_pool_churn(&r, &kids);
		else {
			/* The counters start over: the end compares fewer. */
			if (!strcmp(cmds[x % 10][1], "reset"))
				atomic_fetch_add(&sh->nl_resets, 1);
			nl_check(cmds[x % 10], NULL);
		}
		usleep(splitmix(&r) % 50000);
	}
	/* Back to the loaded settings, as one request. */
	for (i = 0; i < NL_NKEYS; i++) {
		snprintf(vals[i], sizeof(vals[i]), "%llu",
			 (unsigned long long)orig[i]);
		argv[3 + 2 * i] = nl_keys[i];
		argv[4 + 2 * i] = vals[i];
	}
	for (tries = 0; tries < 100 && nl_check(argv, NULL) == -1; tries++)
		;
	nl_expect_config(orig, "restoring the settings");
	nl_pool_churn_end(kids);
	_exit(0);
}

FIXTURE(fuzz) {
	bool reloaded;
};

static const char *const configs[] = {
	"capacity=4M max_block_size=256K pcpu_cache_blocks=4 idle_trim_ms=20 threshold=50",
	"capacity=2M max_block_size=1M pcpu_cache_blocks=0 idle_trim_ms=0 threshold=100",
	"capacity=8M max_block_size=512K pcpu_cache_blocks=64 threshold=0 reserve_max=1M",
	"capacity=1M max_block_size=64K client_quota=256K threshold=75 idle_trim_ms=5",
};
static const uint64_t cfg_cap[] = { 4 << 20, 2 << 20, 8 << 20, 1 << 20 };
static const uint64_t cfg_maxb[] = { 256 << 10, 1 << 20, 512 << 10, 64 << 10 };

FIXTURE_SETUP(fuzz)
{
	const char *why = rp_skip_reason();

	self->reloaded = false;
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->reloaded)
		rp_reload(NULL);
}

static int find_respoolctl(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	char *slash;

	if (n <= 0)
		return 0;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return 0;
	strcpy(slash, "/../../tools/respoolctl/respoolctl");
	if (access(path, X_OK))
		return 0;
	g_respoolctl = path;
	return 1;
}

/* Everything closed: nothing in use, nobody waiting, every byte there. */
TEST_F_TIMEOUT(fuzz, random_ops, 6 * 3600)
{
	long ops = env_u64("RESPOOL_FUZZ_OPS", 20000);
	int nprocs = env_u64("RESPOOL_FUZZ_PROCS", 4);
	int nthreads = env_u64("RESPOOL_FUZZ_THREADS", 3);
	pid_t pids[MAXPROCS], nlpid = -1;
	uint64_t r, t0 = rp_now_ns(), lastkill = 0, lastprog = t0;
	int i, st, cfg, alive, respawns = 0, nallpids = 0;
	static pid_t allpids[4096];

	g_faults = env_u64("RESPOOL_FUZZ_FAULTS", 0) != 0;
	g_nl_min = env_u64("RESPOOL_FUZZ_NL_OPS", 0);
	g_seed = env_u64("RESPOOL_FUZZ_SEED", t0 ^ ((uint64_t)getpid() << 32));
	if (nprocs < 1 || nprocs > MAXPROCS)
		nprocs = 4;
	if (nthreads < 1 || nthreads > MAXTHR)
		nthreads = 3;
	r = g_seed;
	cfg = splitmix(&r) % 4;
	ksft_print_msg("seed %llu (replay: RESPOOL_FUZZ_SEED=%llu), %ld ops, %d processes x %d threads, config: %s\n",
		       (unsigned long long)g_seed, (unsigned long long)g_seed,
		       ops, nprocs, nthreads,
		       g_faults ? "as loaded (fault injection)" : configs[cfg]);
	if (g_faults) {
		struct respool_stats s0;
		int tries = 0;

		/* Opening a file allocates from a failing cache: retry. */
		while (rp_stats(-1, &s0) && tries++ < 1000)
			usleep(1000);
		ASSERT_GT(1000, tries);
		g_cap = s0.capacity;
		g_maxb = env_u64("RESPOOL_FUZZ_MAXB", 256 << 10);
		g_quota = 1;
	} else {
		ASSERT_EQ(0, rp_reload(configs[cfg])) TH_LOG("reload with %s", configs[cfg]);
		self->reloaded = true;
		g_cap = cfg_cap[cfg];
		g_maxb = cfg_maxb[cfg];
		g_quota = cfg == 3;
	}

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	atomic_store(&sh->target, ops);
	kept_tab = mmap(NULL, KEPT_TAB * sizeof(*kept_tab), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, kept_tab);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, g_xsock));

	for (i = 0; i < nprocs; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			worker(i, splitmix(&r), nthreads);
		allpids[nallpids++] = pids[i];
	}
	if (find_respoolctl()) {
		nlpid = fork();
		if (!nlpid)
			nl_worker(splitmix(&r));
	} else {
		ksft_print_msg("respoolctl not built: no netlink commands\n");
	}

	/* SIGKILL a worker now and then, and start a new one in its place. */
	do {
		usleep(20000);
		if (rp_now_ns() - lastprog > 15000000000ULL) {
			lastprog = rp_now_ns();
			ksft_print_msg("progress: %ld of %ld ops, %.0f s\n",
				       atomic_load(&sh->ops), ops,
				       (lastprog - t0) / 1e9);
		}
		alive = 0;
		for (i = 0; i < nprocs; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				if (!WIFEXITED(st) || WEXITSTATUS(st))
					if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
						fz_fail("worker %d ended with status %#x", i, st);
				pids[i] = 0;
			}
			alive += pids[i] > 0;
		}
		if (atomic_load(&sh->ops) < ops && rp_now_ns() - lastkill > 300000000ULL &&
		    splitmix(&r) % 4 == 0) {
			i = splitmix(&r) % nprocs;
			if (pids[i] > 0) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], NULL, 0);
				atomic_fetch_add(&sh->kills, 1);
			}
			pids[i] = fork();
			ASSERT_LE(0, pids[i]);
			if (!pids[i])
				worker(i, splitmix(&r), nthreads);
			if (nallpids < 4096)
				allpids[nallpids++] = pids[i];
			respawns++;
			lastkill = rp_now_ns();
			alive = 1;
		}
	} while (alive);
	if (nlpid > 0)
		waitpid(nlpid, NULL, 0);
	/* Whatever a SIGKILLed worker left behind (fork children). */
	for (i = 0; i < nallpids; i++)
		kill(-allpids[i], SIGKILL);
	/* The dma-bufs still in flight go with the socket. */
	close(g_xsock[0]);
	close(g_xsock[1]);

	ksft_print_msg("%ld ops in %.1f s: %ld ALLOCs served, %ld mappings, %ld exports (%ld fds sent, %ld received, %ld mappings), %ld forks, %ld SIGKILLs, %ld closes, %ld netlink commands (%ld failed for memory; pool fz made %ld, deleted %ld, busy %ld times, opened %ld times), %d workers restarted\n",
		       atomic_load(&sh->ops) < ops ? atomic_load(&sh->ops) : ops,
		       (rp_now_ns() - t0) / 1e9, atomic_load(&sh->allocs_ok),
		       atomic_load(&sh->maps_ok), atomic_load(&sh->exports),
		       atomic_load(&sh->xsent), atomic_load(&sh->xrecvd),
		       atomic_load(&sh->xmaps), atomic_load(&sh->forks),
		       atomic_load(&sh->kills), atomic_load(&sh->closes),
		       atomic_load(&sh->nl_ops), atomic_load(&sh->nl_nomem),
		       atomic_load(&sh->pool_adds), atomic_load(&sh->pool_dels),
		       atomic_load(&sh->pool_busy), atomic_load(&sh->pool_opens),
		       respawns);
	ksft_print_msg("control page: %ld ops, %ld keeps, %ld reuses, %ld kept blocks found gone, %ld SIGBUS on taken blocks, %lu slots written KEPT\n",
		       atomic_load(&sh->ctl_ops), atomic_load(&sh->keeps),
		       atomic_load(&sh->reuses), atomic_load(&sh->lost),
		       atomic_load(&sh->bus_ok), atomic_load(&sh->keep_seq));
	EXPECT_EQ(0, atomic_load(&sh->fails))
		TH_LOG("seed %llu: first failure: %s", (unsigned long long)g_seed,
		       sh->first_fail);
	/* (allocs == frees only without a netlink "reset" in between.) */
	if (!g_faults) {
		struct respool_stats st;

		rp_expect_all_accounted(_metadata, g_cap, g_maxb, !g_respoolctl);
		/*
		 * Every export came back. The counters count from the load
		 * (or the last reset, after which returns may outnumber
		 * exports: blocks out at the reset).
		 */
		ASSERT_EQ(0, rp_stats(-1, &st));
		EXPECT_EQ(0, st.exported_bytes);
		EXPECT_EQ(0, st.kept_bytes) TH_LOG("kept bytes with every file closed");
		EXPECT_EQ(0, st.kept_blocks);
		ksft_print_msg("take-backs: %llu\n", (unsigned long long)st.takebacks);
		if (!atomic_load(&sh->nl_resets)) {
			/* (A SIGKILL may land between an EXPORT and its count.) */
			EXPECT_LE(atomic_load(&sh->exports), st.exports)
				TH_LOG("the fuzzer made %ld exports, the pool counted %llu",
				       atomic_load(&sh->exports),
				       (unsigned long long)st.exports);
			EXPECT_EQ(st.exports, st.export_returns);
		} else {
			EXPECT_LE(st.exports, st.export_returns);
		}
		if (ops >= 5000)
			EXPECT_LT(0, atomic_load(&sh->exports))
				TH_LOG("%ld ops and no EXPORT succeeded", ops);
	}
}

TEST_HARNESS_MAIN
