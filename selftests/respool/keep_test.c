// SPDX-License-Identifier: GPL-2.0
/*
 * keep_test - the kernel's side of the fast path, with raw ioctls and
 * mmaps (no librespool): the control page and the pool page, the slot
 * words, and every way the kernel takes a kept block back.
 *
 * - mapping rules: the control page (offset 0, one page, RW, shared) is
 *   one page per file, version 1 with RESPOOL_CTL_NR_SLOTS slots; the pool
 *   page (offset 4096) is read-only for good and shared by the pool's
 *   files; a private, a too long or a writable mapping is refused and
 *   changes nothing;
 * - slot words: ALLOC (and each entry of ALLOC_BATCH) writes INUSE|gen, a
 *   new generation for each hand-out; a block allocated before the control
 *   page existed is never kept, whatever its slot says;
 * - take-back for a waiter (blocking, and NONBLOCK): the waiter gets the
 *   block zeroed, the keeper's slot says TAKEN, its handle is gone and its
 *   old mapping is SIGBUS; a slot that is not exactly KEPT|gen (INUSE, a
 *   wrong generation, garbage) is never taken;
 * - the races, held open with the test build's injection points
 *   ("takeback_scan", "takeback", "fault"): a keeper that sees the waiter
 *   and undoes its keep, a keeper whose undo comes too late, and a fault
 *   of the keeper's mapping in flight while the waiter takes the block;
 * - the other take-backs: capacity lowered below use, netlink drain, idle
 *   trim (a re-kept block survives the next pass), the shrinker;
 * - accounting: kept blocks are in use and held; stats and client-get
 *   show kept bytes and blocks, take-backs and the client's fast hits;
 * - one fault maps a whole block, and a partly MADV_DONTNEED'd mapping
 *   faults back in.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "respool_util.h"
#include "respool_nl.h"

#define KP_SEC		1000000000ULL
#define KP_BLOCK	(64 * RP_KiB)
#define KP_C64K		"capacity=64K pcpu_cache_blocks=0 idle_trim_ms=0"

#define KP_STATE(w)	((w) & RESPOOL_SLOT_STATE_MASK)
#define KP_GEN(w)	((w) >> RESPOOL_SLOT_GEN_SHIFT)
#define KP_WORD(s, g)	((uint32_t)(s) | (uint32_t)(g) << RESPOOL_SLOT_GEN_SHIFT)

/* ---- the two shared pages ---------------------------------------------- */

static struct respool_ctl *kp_ctl_map(int fd)
{
	void *p = mmap(NULL, RESPOOL_CTL_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, RESPOOL_CTL_OFFSET);

	return p == MAP_FAILED ? NULL : p;
}

static const struct respool_shared *kp_shared_map(int fd)
{
	void *p = mmap(NULL, RESPOOL_SHARED_SIZE, PROT_READ, MAP_SHARED, fd,
		       RESPOOL_SHARED_OFFSET);

	return p == MAP_FAILED ? NULL : p;
}

static uint32_t kp_slot(struct respool_ctl *c, uint64_t h)
{
	return __atomic_load_n(&c->slots[h], __ATOMIC_SEQ_CST);
}

static void kp_set(struct respool_ctl *c, uint64_t h, uint32_t w)
{
	__atomic_store_n(&c->slots[h], w, __ATOMIC_SEQ_CST);
}

/* Slot @h from *@old to @want; false (and *@old what it was) if not. */
static bool kp_cas(struct respool_ctl *c, uint64_t h, uint32_t *old,
		   uint32_t want)
{
	return __atomic_compare_exchange_n(&c->slots[h], old, want, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* INUSE|g -> KEPT|g as a client keeps; the generation, or 0. */
static uint32_t kp_keep(struct respool_ctl *c, uint64_t h)
{
	uint32_t w = kp_slot(c, h);

	if (KP_STATE(w) != RESPOOL_SLOT_INUSE || !KP_GEN(w))
		return 0;
	return kp_cas(c, h, &w, KP_WORD(RESPOOL_SLOT_KEPT, KP_GEN(w))) ?
	       KP_GEN(w) : 0;
}

static uint32_t kp_waiters(const struct respool_shared *s)
{
	return __atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST);
}

static uint32_t kp_reclaim(const struct respool_shared *s)
{
	return __atomic_load_n(&s->reclaim, __ATOMIC_SEQ_CST);
}

/* ---- touching a mapping that may be gone -------------------------------- */

static sigjmp_buf *kp_jmp;

static void kp_on_bus(int sig)
{
	(void)sig;
	siglongjmp(*kp_jmp, 1);
}

/* Read the word at @p into *@out: 0, or 1 for SIGBUS. */
static int kp_read(const void *p, uint64_t *out)
{
	struct sigaction sa = { .sa_handler = kp_on_bus }, old;
	sigjmp_buf jb;
	volatile int bus = 0;

	sigaction(SIGBUS, &sa, &old);
	kp_jmp = &jb;
	if (sigsetjmp(jb, 1))
		bus = 1;
	else
		*out = *(const volatile uint64_t *)p;
	kp_jmp = NULL;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/* Write @v at @p: 0, or 1 for SIGBUS. */
static int kp_write(void *p, uint64_t v)
{
	struct sigaction sa = { .sa_handler = kp_on_bus }, old;
	sigjmp_buf jb;
	volatile int bus = 0;

	sigaction(SIGBUS, &sa, &old);
	kp_jmp = &jb;
	if (sigsetjmp(jb, 1))
		bus = 1;
	else
		*(volatile uint64_t *)p = v;
	kp_jmp = NULL;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/* The word rp_fill() writes at byte @o of a block filled from @seed. */
static uint64_t kp_pat(uint64_t seed, uint64_t o)
{
	return seed ^ ((o / 8) * 0x9e3779b97f4a7c15ULL);
}

/* ---- an ALLOC on another thread, whose end can be polled ---------------- */

struct kp_allocer {
	pthread_t t;
	int fd;
	uint64_t size;
	uint32_t flags, timeout_ms;
	int go[2];		/* a byte here starts the ALLOC */
	int done[2];		/* a byte here when it returned */
	int ret;
	struct respool_alloc a;
	bool started;
};

static void *kp_allocer_main(void *arg)
{
	struct kp_allocer *x = arg;
	char c;

	if (read(x->go[0], &c, 1) != 1)
		x->ret = -EIO;
	else
		x->ret = rp_alloc(x->fd, x->size, x->flags, x->timeout_ms, &x->a);
	if (write(x->done[1], "d", 1) != 1)
		x->ret = -EIO;
	return NULL;
}

/* A thread ready to ALLOC @size in @fd (a TIMEOUT ALLOC of 60 s). */
static int kp_allocer_init(struct kp_allocer *x, int fd, uint64_t size)
{
	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->size = size;
	x->flags = RESPOOL_ALLOC_TIMEOUT;
	x->timeout_ms = 60000;
	if (pipe2(x->go, O_CLOEXEC) || pipe2(x->done, O_CLOEXEC))
		return -errno;
	if (pthread_create(&x->t, NULL, kp_allocer_main, x))
		return -EAGAIN;
	x->started = true;
	return 0;
}

static int kp_allocer_go(struct kp_allocer *x)
{
	return write(x->go[1], "g", 1) == 1 ? 0 : -errno;
}

/* Has the ALLOC returned within @ms? */
static bool kp_allocer_done(struct kp_allocer *x, int ms)
{
	struct pollfd p = { .fd = x->done[0], .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Wait for the thread (the ALLOC has a timeout); its result. */
static int kp_allocer_join(struct kp_allocer *x)
{
	if (!x->started)
		return -ESRCH;
	pthread_join(x->t, NULL);
	x->started = false;
	close(x->go[0]);
	close(x->go[1]);
	close(x->done[0]);
	close(x->done[1]);
	return x->ret;
}

/* ---- netlink: client-get, config-set, drain ----------------------------- */

struct kp_client {
	uint64_t id, pid, held, handles;
	uint64_t kept_bytes, kept_blocks, takebacks, fast_hits;
	bool fast_path;
};

struct kp_clients {
	int n;
	struct kp_client c[16];
};

static int kp_parse_client(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct kp_clients *l = arg;
	struct kp_client *c;

	(void)nlh;
	if (l->n >= (int)(sizeof(l->c) / sizeof(l->c[0])))
		return NL_SKIP;
	c = &l->c[l->n++];
	c->id = nl_uint(tb[RESPOOL_A_CLIENT_ID]);
	c->pid = nl_uint(tb[RESPOOL_A_CLIENT_PID]);
	c->held = nl_uint(tb[RESPOOL_A_CLIENT_HELD_BYTES]);
	c->handles = nl_uint(tb[RESPOOL_A_CLIENT_HANDLES]);
	c->kept_bytes = nl_uint(tb[RESPOOL_A_CLIENT_KEPT_BYTES]);
	c->kept_blocks = nl_uint(tb[RESPOOL_A_CLIENT_KEPT_BLOCKS]);
	c->takebacks = nl_uint(tb[RESPOOL_A_CLIENT_TAKEBACKS]);
	c->fast_hits = nl_uint(tb[RESPOOL_A_CLIENT_FAST_HITS]);
	c->fast_path = tb[RESPOOL_A_CLIENT_FAST_PATH] != NULL;
	return NL_OK;
}

/*
 * The @nth client (0: the first opened) of this process in client-get's
 * dump; 0 or -errno.
 */
static int kp_client(int nth, struct kp_client *out)
{
	struct kp_clients l = { 0 };
	struct nl_sock *sk;
	struct nlreq r;
	int family, i, k = 0, ret, best;
	uint64_t done = 0;

	sk = nl_open(&family);
	if (!sk)
		return -EIO;
	if (family < 0) {
		nl_socket_free(sk);
		return -ENOENT;
	}
	nlreq_init(&r, sk, family, RESPOOL_CMD_CLIENT_GET, NLM_F_DUMP);
	r.parse = kp_parse_client;
	r.maxattr = RESPOOL_A_CLIENT_MAX;
	r.arg = &l;
	ret = nlreq_run(&r);
	nl_socket_free(sk);
	if (ret)
		return ret;
	/* In the order they were opened: by id. */
	for (k = 0; k <= nth; k++) {
		best = -1;
		for (i = 0; i < l.n; i++) {
			if (l.c[i].pid != (uint64_t)getpid() ||
			    (k && l.c[i].id <= done))
				continue;
			if (best < 0 || l.c[i].id < l.c[best].id)
				best = i;
		}
		if (best < 0)
			return -ENOENT;
		done = l.c[best].id;
		*out = l.c[best];
	}
	return 0;
}

/* config-set of one u64 setting of the default pool; 0 or -errno. */
static int kp_config_u64(int attr, uint64_t v)
{
	struct nl_sock *sk;
	struct nlreq r;
	int family, ret;

	sk = nl_open(&family);
	if (!sk)
		return -EIO;
	if (family < 0) {
		nl_socket_free(sk);
		return -ENOENT;
	}
	nlreq_init(&r, sk, family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, attr, v);
	ret = nlreq_run(&r);
	nl_socket_free(sk);
	return ret;
}

static int kp_drain(void)
{
	struct nl_sock *sk;
	struct nlreq r;
	int family, ret;

	sk = nl_open(&family);
	if (!sk)
		return -EIO;
	if (family < 0) {
		nl_socket_free(sk);
		return -ENOENT;
	}
	nlreq_init(&r, sk, family, RESPOOL_CMD_DRAIN, 0);
	ret = nlreq_run(&r);
	nl_socket_free(sk);
	return ret;
}

/* Stats once takebacks >= @n (at most @sec s); 0 or -errno. */
static int kp_wait_takebacks(uint64_t n, int sec, struct respool_stats *st)
{
	uint64_t end = rp_now_ns() + sec * KP_SEC;
	int ret;

	for (;;) {
		ret = rp_stats(-1, st);
		if (ret || st->takebacks >= n)
			return ret;
		if (rp_now_ns() >= end)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

/* ---- fixture ------------------------------------------------------------ */

FIXTURE(keep) {
	int a, b, sfd;		/* the keeper, the waiter, stats */
	struct respool_ctl *ctl;	/* a's control page */
	const struct respool_shared *sh;	/* a's pool page */
	pid_t kid;
	int sock;		/* to the child */
	struct kp_allocer w;
};

FIXTURE_SETUP(keep)
{
	const char *why = rp_skip_reason();

	self->a = self->b = self->sfd = self->sock = -1;
	self->ctl = NULL;
	self->sh = NULL;
	self->kid = 0;
	memset(&self->w, 0, sizeof(self->w));
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(keep)
{
	/* Never leave a task held at a point. */
	if (!access(RP_INJECT_DIR, F_OK)) {
		rp_inject("takeback_scan", "release");
		rp_inject("takeback", "release");
		rp_inject("fault", "release");
	}
	if (self->kid > 0) {
		kill(self->kid, SIGKILL);
		waitpid(self->kid, NULL, 0);
	}
	if (self->w.started)
		kp_allocer_join(&self->w);
	if (self->sock >= 0)
		close(self->sock);
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
	if (self->sfd >= 0)
		close(self->sfd);
}

/*
 * A fresh pool with @params; a and b open, a's control page and pool page
 * mapped (b's only with @b_fast).
 */
static void kp_setup(struct __test_metadata *_metadata,
		     FIXTURE_DATA(keep) *self, const char *params)
{
	int ret = rp_reload(params);

	ASSERT_EQ(0, ret) TH_LOG("loading with '%s': %s", params, strerror(-ret));
	self->sfd = rp_open();
	self->a = rp_open();
	self->b = rp_open();
	ASSERT_LE(0, self->sfd);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	self->ctl = kp_ctl_map(self->a);
	ASSERT_NE(NULL, self->ctl) TH_LOG("mmap of the control page: %s (a module without the fast path?)",
					  strerror(errno));
	self->sh = kp_shared_map(self->a);
	ASSERT_NE(NULL, self->sh) TH_LOG("mmap of the pool page: %s", strerror(errno));
}

/* a allocates @size, maps it, fills it from @seed and keeps it. */
static void kp_alloc_keep(struct __test_metadata *_metadata,
			  FIXTURE_DATA(keep) *self, uint64_t size, uint64_t seed,
			  struct respool_alloc *x, char **map, uint32_t *gen)
{
	ASSERT_EQ(0, rp_alloc(self->a, size, RESPOOL_ALLOC_NONBLOCK, 0, x));
	*map = rp_map(self->a, x);
	ASSERT_NE(MAP_FAILED, *map);
	rp_fill(*map, x->block_size, seed);
	*gen = kp_keep(self->ctl, x->handle);
	ASSERT_NE(0, *gen) TH_LOG("slot %llu after ALLOC is %#x, not INUSE|gen",
				  (unsigned long long)x->handle,
				  kp_slot(self->ctl, x->handle));
}

/*
 * What a take-back leaves the keeper of (@x, mapped at @p, generation
 * @gen): slot TAKEN|gen, the handle gone, the mapping SIGBUS.
 */
static void kp_expect_taken(struct __test_metadata *_metadata,
			    FIXTURE_DATA(keep) *self,
			    const struct respool_alloc *x, char *p, uint32_t gen)
{
	struct respool_info info;
	uint64_t v = 0;

	EXPECT_EQ(KP_WORD(RESPOOL_SLOT_TAKEN, gen), kp_slot(self->ctl, x->handle))
		TH_LOG("the keeper's slot after the take-back");
	EXPECT_EQ(1, kp_read(p, &v))
		TH_LOG("the keeper's old mapping still reads (%#llx), not SIGBUS",
		       (unsigned long long)v);
	EXPECT_EQ(1, kp_read(p + x->block_size - 8, &v))
		TH_LOG("the last word of the keeper's old mapping still reads");
	EXPECT_EQ(1, kp_write(p, 0x5ec2e7)) TH_LOG("a write to the taken block went through");
	EXPECT_EQ(-ENOENT, rp_free(self->a, x->handle)) TH_LOG("FREE of a taken handle");
	EXPECT_EQ(-ENOENT, rp_info(self->a, x->handle, &info)) TH_LOG("INFO of a taken handle");
	EXPECT_EQ(MAP_FAILED, rp_map(self->a, x)) TH_LOG("mmap of a taken handle");
}

/* ---- mapping rules ------------------------------------------------------ */

TEST_F_TIMEOUT(keep, control_page_one_per_file_versioned, 120)
{
	struct respool_ctl *c2;
	struct respool_alloc x;
	unsigned int i;

	kp_setup(_metadata, self, "capacity=1M");
	EXPECT_EQ(RESPOOL_CTL_VERSION, self->ctl->version);
	EXPECT_EQ(RESPOOL_CTL_NR_SLOTS, self->ctl->nr_slots);
	EXPECT_EQ(1008, RESPOOL_CTL_NR_SLOTS);
	EXPECT_EQ(0, self->ctl->hits);
	for (i = 0; i < RESPOOL_CTL_NR_SLOTS; i++)
		if (self->ctl->slots[i])
			break;
	EXPECT_EQ(RESPOOL_CTL_NR_SLOTS, i) TH_LOG("slot %u of a new control page is %#x",
						  i, self->ctl->slots[i]);

	/* A second mapping is the same page: write one, read the other. */
	c2 = kp_ctl_map(self->a);
	ASSERT_NE(NULL, c2);
	EXPECT_NE((void *)self->ctl, (void *)c2);
	self->ctl->hits = 0x1234567890ULL;
	kp_set(self->ctl, 5, 0xdeadbee0);
	EXPECT_EQ(0x1234567890ULL, c2->hits);
	EXPECT_EQ(0xdeadbee0, kp_slot(c2, 5));
	kp_set(c2, 5, 0);
	EXPECT_EQ(0, kp_slot(self->ctl, 5));
	/* And an ALLOC's slot shows in both. */
	ASSERT_EQ(0, rp_alloc(self->a, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	EXPECT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(kp_slot(c2, x.handle)));
	EXPECT_EQ(kp_slot(self->ctl, x.handle), kp_slot(c2, x.handle));
	/* Still there after the first mapping is gone. */
	ASSERT_EQ(0, munmap(self->ctl, RESPOOL_CTL_SIZE));
	self->ctl = kp_ctl_map(self->a);
	ASSERT_NE(NULL, self->ctl);
	EXPECT_EQ(0x1234567890ULL, self->ctl->hits);
	EXPECT_EQ(kp_slot(c2, x.handle), kp_slot(self->ctl, x.handle));
	munmap(c2, RESPOOL_CTL_SIZE);

	/* Another file has a page of its own. */
	c2 = kp_ctl_map(self->b);
	ASSERT_NE(NULL, c2);
	EXPECT_EQ(0, c2->hits);
	EXPECT_EQ(0, kp_slot(c2, x.handle));
	munmap(c2, RESPOOL_CTL_SIZE);
}

/*
 * Refused mappings: EINVAL for a private one, a wrong length, one that
 * spans both pages; a writable pool page is refused by the VFS (the
 * kernel takes VM_MAYWRITE away), also by a later mprotect(). None of
 * them changes a counter, nor creates the control page (an ALLOC after
 * them finds no control page to write its slot into).
 */
TEST_F_TIMEOUT(keep, refused_mappings_change_nothing, 120)
{
	static const struct {
		const char *what;
		uint64_t off, len;
		int prot, flags;
	} bad[] = {
		{ "private control page", 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE },
		{ "private read-only control page", 0, 4096, PROT_READ, MAP_PRIVATE },
		{ "control page of 8192 bytes", 0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED },
		{ "control page of 3 pages", 0, 3 * 4096, PROT_READ, MAP_SHARED },
		{ "pool page of 8192 bytes", 4096, 8192, PROT_READ, MAP_SHARED },
		{ "private pool page", 4096, 4096, PROT_READ, MAP_PRIVATE },
		{ "offset 8192", 8192, 4096, PROT_READ, MAP_SHARED },
	};
	struct respool_stats s0, s1;
	const struct respool_shared *sp;
	struct kp_client cl;
	struct respool_ctl *c;
	struct respool_alloc x;
	unsigned int i;
	int err;
	void *p;

	ASSERT_EQ(0, rp_reload("capacity=1M"));
	self->sfd = rp_open();
	self->a = rp_open();
	ASSERT_LE(0, self->sfd);
	ASSERT_LE(0, self->a);
	ASSERT_EQ(0, rp_stats(self->sfd, &s0));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = mmap(NULL, bad[i].len, bad[i].prot, bad[i].flags, self->a,
			 bad[i].off);
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("%s: mapped", bad[i].what);
		if (p != MAP_FAILED)
			munmap(p, bad[i].len);
		else
			EXPECT_EQ(EINVAL, errno) TH_LOG("%s: %s", bad[i].what,
							strerror(errno));
	}
	/* The pool page is read-only for good. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->a,
		 RESPOOL_SHARED_OFFSET);
	err = p == MAP_FAILED ? errno : 0;
	EXPECT_TRUE(err == EACCES || err == EPERM)
		TH_LOG("a writable pool page: %s", err ? strerror(err) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	sp = kp_shared_map(self->a);
	ASSERT_NE(NULL, sp) TH_LOG("the pool page read-only: %s", strerror(errno));
	EXPECT_EQ(RESPOOL_CTL_VERSION, sp->version);
	EXPECT_EQ(0, kp_waiters(sp));
	EXPECT_EQ(0, kp_reclaim(sp));
	err = mprotect((void *)sp, 4096, PROT_READ | PROT_WRITE) ? errno : 0;
	EXPECT_TRUE(err == EACCES || err == EPERM)
		TH_LOG("mprotect of the pool page to writable: %s", strerror(err));
	EXPECT_EQ(RESPOOL_CTL_VERSION, sp->version);

	ASSERT_EQ(0, rp_stats(self->sfd, &s1));
	EXPECT_EQ(s0.clients, s1.clients);
	EXPECT_EQ(s0.in_use_bytes, s1.in_use_bytes);
	EXPECT_EQ(s0.allocs, s1.allocs);
	EXPECT_EQ(s0.reserve_bytes, s1.reserve_bytes);

	/*
	 * With no control page yet (only refused mappings and the pool
	 * page), an ALLOC writes no slot: the page made after it shows 0,
	 * and client-get has no fast-path flag until then.
	 */
	ASSERT_EQ(0, rp_alloc(self->a, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	ASSERT_EQ(0, kp_client(1, &cl));	/* sfd is the first */
	EXPECT_FALSE(cl.fast_path) TH_LOG("fast-path without a control page");
	c = kp_ctl_map(self->a);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, kp_client(1, &cl));
	EXPECT_TRUE(cl.fast_path) TH_LOG("no fast-path flag with the control page mapped");
	EXPECT_EQ(0, kp_slot(c, x.handle))
		TH_LOG("a refused mmap made the control page: the slot of a later ALLOC is %#x",
		       kp_slot(c, x.handle));
	munmap(c, RESPOOL_CTL_SIZE);
	munmap((void *)sp, 4096);
}

/* The pool page shows the same waiters count in every file of the pool. */
TEST_F_TIMEOUT(keep, pool_page_shared_by_the_files, 120)
{
	const struct respool_shared *s2;
	struct respool_alloc full;
	uint64_t end;
	int wfd;

	kp_setup(_metadata, self, KP_C64K);
	s2 = kp_shared_map(self->b);
	ASSERT_NE(NULL, s2);
	EXPECT_EQ(RESPOOL_CTL_VERSION, s2->version);
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &full));
	/* The waiter is a third file. */
	wfd = rp_open();
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, kp_allocer_init(&self->w, wfd, 4096));
	ASSERT_EQ(0, kp_allocer_go(&self->w));
	end = rp_now_ns() + 30 * KP_SEC;
	while (kp_waiters(self->sh) != 1 && rp_now_ns() < end)
		usleep(1000);
	EXPECT_EQ(1, kp_waiters(self->sh)) TH_LOG("the waiter never showed in the pool page");
	EXPECT_EQ(1, kp_waiters(s2)) TH_LOG("another file's pool page disagrees");
	ASSERT_EQ(0, rp_free(self->a, full.handle));
	ASSERT_EQ(0, kp_allocer_join(&self->w));
	end = rp_now_ns() + 30 * KP_SEC;
	while ((kp_waiters(self->sh) || kp_waiters(s2)) && rp_now_ns() < end)
		usleep(1000);
	EXPECT_EQ(0, kp_waiters(self->sh));
	EXPECT_EQ(0, kp_waiters(s2));
	close(wfd);
	munmap((void *)s2, 4096);
}

/* ---- slot words --------------------------------------------------------- */

TEST_F_TIMEOUT(keep, alloc_writes_inuse_and_a_new_generation, 120)
{
	struct respool_alloc x, y, e[3];
	struct respool_alloc_batch batch = { 0 };
	uint32_t w1, w2;
	uint64_t hs[70];
	int i;

	kp_setup(_metadata, self, "capacity=1M pcpu_cache_blocks=0");
	ASSERT_EQ(0, rp_alloc(self->a, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	ASSERT_GT(RESPOOL_CTL_NR_SLOTS, x.handle);
	w1 = kp_slot(self->ctl, x.handle);
	EXPECT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(w1)) TH_LOG("slot after ALLOC: %#x", w1);
	EXPECT_EQ(0, w1 & RESPOOL_SLOT_IDLE);
	EXPECT_NE(0, KP_GEN(w1)) TH_LOG("generation 0");
	ASSERT_EQ(0, rp_free(self->a, x.handle));

	/* The same handle again: a new generation. */
	ASSERT_EQ(0, rp_alloc(self->a, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &y));
	ASSERT_EQ(x.handle, y.handle) TH_LOG("the lowest free handle was not reused");
	w2 = kp_slot(self->ctl, y.handle);
	EXPECT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(w2));
	EXPECT_NE(0, KP_GEN(w2));
	EXPECT_NE(KP_GEN(w1), KP_GEN(w2)) TH_LOG("two hand-outs of handle %llu, one generation %#x",
						 (unsigned long long)y.handle, KP_GEN(w1));

	/* Whatever the client wrote there is overwritten. */
	ASSERT_EQ(0, rp_free(self->a, y.handle));
	kp_set(self->ctl, y.handle, 0xffffffff);
	ASSERT_EQ(0, rp_alloc(self->a, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &y));
	EXPECT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(kp_slot(self->ctl, y.handle)));
	EXPECT_NE(0, KP_GEN(kp_slot(self->ctl, y.handle)));
	EXPECT_EQ(0, kp_slot(self->ctl, y.handle) & RESPOOL_SLOT_IDLE);

	/* Each entry of a batch. */
	memset(e, 0, sizeof(e));
	for (i = 0; i < 3; i++)
		e[i].size = 4096 * (i + 1);
	batch.allocs = (uintptr_t)e;
	batch.count = 3;
	ASSERT_EQ(0, ioctl(self->a, RESPOOL_IOC_ALLOC_BATCH, &batch)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(3, batch.done);
	for (i = 0; i < 3; i++) {
		uint32_t w = kp_slot(self->ctl, e[i].handle);

		EXPECT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(w)) TH_LOG("batch entry %d: %#x", i, w);
		EXPECT_NE(0, KP_GEN(w));
	}

	/* Handle 63 is never handed out; its slot (and slot 0) stay 0. */
	for (i = 0; i < 70; i++) {
		ASSERT_EQ(0, rp_alloc(self->a, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &x));
		hs[i] = x.handle;
		EXPECT_NE(63, x.handle);
	}
	EXPECT_EQ(0, kp_slot(self->ctl, 63));
	EXPECT_EQ(0, kp_slot(self->ctl, 0));
	for (i = 0; i < 70; i++)
		EXPECT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(kp_slot(self->ctl, hs[i])));
}

/*
 * A block allocated before the control page existed has no generation:
 * whatever its slot says, it is never taken.
 */
TEST_F_TIMEOUT(keep, block_from_before_the_control_page_is_never_taken, 120)
{
	struct respool_stats st;
	struct respool_alloc old;
	struct respool_info info;
	struct respool_ctl *c;
	uint32_t g, w;
	char *p;
	int k;

	ASSERT_EQ(0, rp_reload(KP_C64K));
	self->sfd = rp_open();
	self->a = rp_open();
	self->b = rp_open();
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &old));
	p = rp_map(self->a, &old);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, KP_BLOCK, 17);
	c = kp_ctl_map(self->a);
	ASSERT_NE(NULL, c);
	self->ctl = c;
	EXPECT_EQ(0, kp_slot(c, old.handle)) TH_LOG("the slot of an older block");

	for (k = 0; k < 40; k++) {
		switch (k) {
		case 0: w = KP_WORD(RESPOOL_SLOT_KEPT, 1); break;
		case 1: w = RESPOOL_SLOT_KEPT; break;
		case 2: w = KP_WORD(RESPOOL_SLOT_KEPT | RESPOOL_SLOT_IDLE, 1); break;
		default: w = KP_WORD(RESPOOL_SLOT_KEPT, (uint32_t)rand() | 1); break;
		}
		kp_set(c, old.handle, w);
		EXPECT_EQ(-EAGAIN, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
			TH_LOG("slot %#x of a block older than the control page", w);
	}
	/* Also INUSE|g then KEPT|g, as a keeper would, for small g's. */
	for (g = 1; g < 64; g++) {
		kp_set(c, old.handle, KP_WORD(RESPOOL_SLOT_INUSE, g));
		w = KP_WORD(RESPOOL_SLOT_INUSE, g);
		ASSERT_TRUE(kp_cas(c, old.handle, &w, KP_WORD(RESPOOL_SLOT_KEPT, g)));
		if (g == 1) {
			EXPECT_EQ(-ETIMEDOUT, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_TIMEOUT,
						       200, NULL));
		} else {
			EXPECT_EQ(-EAGAIN, rp_alloc(self->b, KP_BLOCK,
						    RESPOOL_ALLOC_NONBLOCK, 0, NULL));
		}
	}
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(0, st.takebacks);
	EXPECT_EQ(0, st.kept_blocks) TH_LOG("a block older than the control page counted as kept");
	EXPECT_EQ(0, st.kept_bytes);
	EXPECT_TRUE(rp_check(p, KP_BLOCK, 17)) TH_LOG("the older block's data changed");
	EXPECT_EQ(0, rp_info(self->a, old.handle, &info));
	munmap(p, KP_BLOCK);
}

/* ---- take-back for a waiter --------------------------------------------- */

TEST_F_TIMEOUT(keep, waiter_takes_back_a_kept_block, 120)
{
	struct respool_stats s0, s1;
	struct respool_alloc x;
	uint32_t gen;
	char *p, *q;

	kp_setup(_metadata, self, KP_C64K);
	kp_alloc_keep(_metadata, self, KP_BLOCK, 0xa11ce, &x, &p, &gen);
	ASSERT_EQ(0, rp_stats(self->sfd, &s0));
	EXPECT_EQ(KP_BLOCK, s0.kept_bytes);
	EXPECT_EQ(1, s0.kept_blocks);
	EXPECT_EQ(KP_BLOCK, s0.in_use_bytes) TH_LOG("a kept block is in use");
	EXPECT_EQ(0, s0.takebacks);
	EXPECT_EQ(0, kp_waiters(self->sh));

	/* b needs the room: it waits, takes the block back, is handed it. */
	ASSERT_EQ(0, kp_allocer_init(&self->w, self->b, KP_BLOCK));
	ASSERT_EQ(0, kp_allocer_go(&self->w));
	ASSERT_EQ(0, kp_allocer_join(&self->w)) TH_LOG("the waiter was not served");
	ASSERT_EQ(0, rp_stats(self->sfd, &s1));
	EXPECT_EQ(s0.takebacks + 1, s1.takebacks);
	EXPECT_EQ(0, s1.kept_bytes);
	EXPECT_EQ(0, s1.kept_blocks);
	EXPECT_EQ(s0.waits + 1, s1.waits) TH_LOG("b did not wait");
	EXPECT_EQ(s0.handoffs + 1, s1.handoffs) TH_LOG("b was not handed the block");
	EXPECT_EQ(s0.frees + 1, s1.frees) TH_LOG("the take-back is the keeper's free");
	EXPECT_EQ(s0.allocs + 1, s1.allocs);
	EXPECT_EQ(KP_BLOCK, s1.in_use_bytes);
	EXPECT_EQ(0, s1.waiters);
	EXPECT_EQ(0, kp_waiters(self->sh));

	q = rp_map(self->b, &self->w.a);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_TRUE(rp_all_zero(q, KP_BLOCK)) TH_LOG("the waiter sees the keeper's bytes");
	rp_fill(q, KP_BLOCK, 0xb0b);
	kp_expect_taken(_metadata, self, &x, p, gen);
	EXPECT_TRUE(rp_check(q, KP_BLOCK, 0xb0b));

	/* The keeper's old mapping goes; nothing else changes. */
	ASSERT_EQ(0, munmap(p, KP_BLOCK));
	ASSERT_EQ(0, rp_stats(self->sfd, &s0));
	EXPECT_EQ(KP_BLOCK, s0.in_use_bytes);
	EXPECT_EQ(1, s0.blocks_in_use);
	munmap(q, KP_BLOCK);
	ASSERT_EQ(0, rp_free(self->b, self->w.a.handle));
	/* The shared pages hold the file too. */
	munmap(self->ctl, RESPOOL_CTL_SIZE);
	munmap((void *)self->sh, RESPOOL_SHARED_SIZE);
	self->ctl = NULL;
	self->sh = NULL;
	close(self->a);
	close(self->b);
	close(self->sfd);
	self->a = self->b = self->sfd = -1;
	rp_expect_all_accounted(_metadata, KP_BLOCK, KP_BLOCK, 1);
}

/* A NONBLOCK ALLOC takes a kept block back instead of failing. */
TEST_F_TIMEOUT(keep, nonblock_alloc_takes_back_instead_of_eagain, 120)
{
	struct respool_stats s0, s1;
	struct respool_alloc x, y;
	uint32_t gen, w;
	char *p, *q;

	kp_setup(_metadata, self, KP_C64K);
	kp_alloc_keep(_metadata, self, KP_BLOCK, 0xa11ce, &x, &p, &gen);
	ASSERT_EQ(0, rp_stats(self->sfd, &s0));
	ASSERT_EQ(0, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &y))
		TH_LOG("NONBLOCK ALLOC beside a kept block");
	ASSERT_EQ(0, rp_stats(self->sfd, &s1));
	EXPECT_EQ(s0.takebacks + 1, s1.takebacks);
	EXPECT_EQ(s0.waits, s1.waits) TH_LOG("a NONBLOCK ALLOC waited");
	EXPECT_EQ(0, s1.kept_bytes);
	q = rp_map(self->b, &y);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_TRUE(rp_all_zero(q, KP_BLOCK));
	kp_expect_taken(_metadata, self, &x, p, gen);
	munmap(p, KP_BLOCK);
	munmap(q, KP_BLOCK);

	/* KEPT|IDLE|gen is kept too. */
	ASSERT_EQ(0, rp_free(self->b, y.handle));
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	w = kp_slot(self->ctl, x.handle);
	ASSERT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(w));
	gen = KP_GEN(w);
	ASSERT_TRUE(kp_cas(self->ctl, x.handle, &w,
			   KP_WORD(RESPOOL_SLOT_KEPT | RESPOOL_SLOT_IDLE, gen)));
	ASSERT_EQ(0, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &y))
		TH_LOG("a KEPT|IDLE block was not taken back");
	EXPECT_EQ(KP_WORD(RESPOOL_SLOT_TAKEN, gen), kp_slot(self->ctl, x.handle));
	ASSERT_EQ(0, rp_stats(self->sfd, &s1));
	EXPECT_EQ(s0.takebacks + 2, s1.takebacks);
}

/*
 * Only a slot that says exactly KEPT with the generation the kernel gave
 * is kept: INUSE, a wrong generation, the right generation in another
 * slot, TAKEN, garbage: the waiter waits, the block stays.
 */
TEST_F_TIMEOUT(keep, not_kept_is_not_taken, 180)
{
	struct respool_stats st;
	struct respool_info info;
	struct respool_alloc x, n;
	uint32_t w, g, words[16];
	unsigned int i, nw = 0;
	char *p;

	kp_setup(_metadata, self, "capacity=128K pcpu_cache_blocks=0 idle_trim_ms=0");
	/* x is the block at stake; n fills the rest of the pool. */
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &n));
	p = rp_map(self->a, &x);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, KP_BLOCK, 0x5eed);
	w = kp_slot(self->ctl, x.handle);
	ASSERT_EQ(RESPOOL_SLOT_INUSE, KP_STATE(w));
	g = KP_GEN(w);

	words[nw++] = KP_WORD(RESPOOL_SLOT_INUSE, g);
	words[nw++] = KP_WORD(RESPOOL_SLOT_KEPT, g ^ 1);
	words[nw++] = KP_WORD(RESPOOL_SLOT_KEPT, g + 1);
	words[nw++] = KP_WORD(RESPOOL_SLOT_KEPT, (g ^ 0x10000000) & 0x1fffffff);
	words[nw++] = KP_WORD(RESPOOL_SLOT_KEPT | RESPOOL_SLOT_IDLE, g ^ 2);
	words[nw++] = KP_WORD(RESPOOL_SLOT_KEPT, 0);
	words[nw++] = KP_WORD(RESPOOL_SLOT_TAKEN, g);
	words[nw++] = KP_WORD(RESPOOL_SLOT_NONE, g);
	words[nw++] = 0;
	words[nw++] = 0xffffffff;
	words[nw++] = 0x5a5a5a5a;
	words[nw++] = KP_WORD(RESPOOL_SLOT_KEPT, KP_GEN(kp_slot(self->ctl, n.handle)));
	for (i = 0; i < nw; i++) {
		if (words[i] == KP_WORD(RESPOOL_SLOT_KEPT, g) ||
		    words[i] == KP_WORD(RESPOOL_SLOT_KEPT | RESPOOL_SLOT_IDLE, g))
			continue;	/* (a word that happens to be right) */
		kp_set(self->ctl, x.handle, words[i]);
		EXPECT_EQ(-EAGAIN, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
			TH_LOG("slot %#x (the generation is %#x) was taken", words[i], g);
		if (i == 0 || i == 1)
			EXPECT_EQ(-ETIMEDOUT, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_TIMEOUT,
						       200, NULL))
				TH_LOG("slot %#x: a waiter was served", words[i]);
		EXPECT_EQ(words[i], kp_slot(self->ctl, x.handle))
			TH_LOG("the kernel rewrote a slot that was not kept");
	}
	/* The right word in the wrong slot (n's), and garbage everywhere else. */
	kp_set(self->ctl, x.handle, KP_WORD(RESPOOL_SLOT_INUSE, g));
	w = kp_slot(self->ctl, n.handle);
	kp_set(self->ctl, n.handle, KP_WORD(RESPOOL_SLOT_KEPT, g));
	for (i = 1; i < RESPOOL_CTL_NR_SLOTS; i++)
		if (i != x.handle && i != n.handle)
			kp_set(self->ctl, i, KP_WORD(RESPOOL_SLOT_KEPT, i * 0x9e37 + g));
	self->ctl->version = 77;
	self->ctl->nr_slots = 0xffffffff;
	self->ctl->hits = ~0ULL;
	EXPECT_EQ(-EAGAIN, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, NULL));
	EXPECT_EQ(-ETIMEDOUT, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_TIMEOUT, 200, NULL));

	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(0, st.takebacks);
	EXPECT_EQ(0, st.kept_blocks);
	EXPECT_EQ(2 * KP_BLOCK, st.in_use_bytes);
	EXPECT_EQ(0, rp_info(self->a, x.handle, &info));
	EXPECT_EQ(0, rp_info(self->a, n.handle, &info));
	EXPECT_TRUE(rp_check(p, KP_BLOCK, 0x5eed)) TH_LOG("the block's data changed");

	/* Then the right word in the right slot is taken. */
	kp_set(self->ctl, n.handle, w);
	kp_set(self->ctl, x.handle, KP_WORD(RESPOOL_SLOT_KEPT, g));
	EXPECT_EQ(0, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, NULL));
	EXPECT_EQ(KP_WORD(RESPOOL_SLOT_TAKEN, g), kp_slot(self->ctl, x.handle));
	EXPECT_EQ(0, rp_info(self->a, n.handle, &info));
	munmap(p, KP_BLOCK);
}

/* ---- races held open at the injection points ---------------------------- */

/*
 * The waiter has published `waiters` and is held before it looks at any
 * slot. The keeper stores KEPT, sees waiters, undoes (KEPT -> INUSE wins:
 * nobody scanned yet) and FREEs: the waiter is served by that FREE, and
 * nothing was taken back.
 */
TEST_F_TIMEOUT(keep, race_keeper_sees_waiter_and_undoes, 120)
{
	struct respool_stats s0, s1;
	struct respool_alloc x;
	uint32_t w, gen;
	char *p, *q;
	const char *why;

	why = rp_inject_skip_reason();
	if (why)
		SKIP(return, "%s", why);
	kp_setup(_metadata, self, KP_C64K);
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	p = rp_map(self->a, &x);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, KP_BLOCK, 1);
	ASSERT_EQ(0, rp_stats(self->sfd, &s0));

	ASSERT_EQ(0, kp_allocer_init(&self->w, self->b, KP_BLOCK));
	ASSERT_EQ(0, rp_inject("takeback_scan", "hold 1"));
	ASSERT_EQ(0, kp_allocer_go(&self->w));
	ASSERT_EQ(0, rp_inject_wait_held("takeback_scan", 1, 30000))
		TH_LOG("the waiter never reached the slot scan");

	/* The keeper's protocol. */
	gen = kp_keep(self->ctl, x.handle);
	ASSERT_NE(0, gen);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	EXPECT_EQ(1, kp_waiters(self->sh)) TH_LOG("waiters not published before the scan");
	w = KP_WORD(RESPOOL_SLOT_KEPT, gen);
	ASSERT_TRUE(kp_cas(self->ctl, x.handle, &w, KP_WORD(RESPOOL_SLOT_INUSE, gen)))
		TH_LOG("the undo failed: slot %#x before the scan", w);
	ASSERT_EQ(0, munmap(p, KP_BLOCK));
	ASSERT_EQ(0, rp_free(self->a, x.handle));

	ASSERT_EQ(0, rp_inject("takeback_scan", "release"));
	ASSERT_EQ(0, kp_allocer_join(&self->w)) TH_LOG("the waiter was not served");
	ASSERT_EQ(0, rp_stats(self->sfd, &s1));
	EXPECT_EQ(s0.takebacks, s1.takebacks) TH_LOG("a take-back of a block the keeper undid");
	EXPECT_EQ(s0.handoffs + 1, s1.handoffs) TH_LOG("the FREE did not serve the waiter");
	EXPECT_EQ(s0.frees + 1, s1.frees);
	EXPECT_EQ(0, s1.kept_blocks);
	EXPECT_EQ(KP_BLOCK, s1.in_use_bytes);
	q = rp_map(self->b, &self->w.a);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_TRUE(rp_all_zero(q, KP_BLOCK));
	munmap(q, KP_BLOCK);
}

/* The same window, but the keeper does not undo: the waiter takes it back. */
TEST_F_TIMEOUT(keep, race_keeper_keeps_despite_waiter, 120)
{
	struct respool_stats s0, s1;
	struct respool_alloc x;
	uint32_t gen;
	char *p, *q;
	const char *why;

	why = rp_inject_skip_reason();
	if (why)
		SKIP(return, "%s", why);
	kp_setup(_metadata, self, KP_C64K);
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	p = rp_map(self->a, &x);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, KP_BLOCK, 2);
	ASSERT_EQ(0, rp_stats(self->sfd, &s0));

	ASSERT_EQ(0, kp_allocer_init(&self->w, self->b, KP_BLOCK));
	ASSERT_EQ(0, rp_inject("takeback_scan", "hold 1"));
	ASSERT_EQ(0, kp_allocer_go(&self->w));
	ASSERT_EQ(0, rp_inject_wait_held("takeback_scan", 1, 30000));
	gen = kp_keep(self->ctl, x.handle);
	ASSERT_NE(0, gen);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	EXPECT_EQ(1, kp_waiters(self->sh));
	ASSERT_EQ(0, rp_inject("takeback_scan", "release"));
	ASSERT_EQ(0, kp_allocer_join(&self->w)) TH_LOG("the waiter was not served");

	ASSERT_EQ(0, rp_stats(self->sfd, &s1));
	EXPECT_EQ(s0.takebacks + 1, s1.takebacks);
	EXPECT_EQ(0, s1.kept_blocks);
	q = rp_map(self->b, &self->w.a);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_TRUE(rp_all_zero(q, KP_BLOCK));
	kp_expect_taken(_metadata, self, &x, p, gen);
	munmap(q, KP_BLOCK);
	munmap(p, KP_BLOCK);
}

/*
 * The kernel has won KEPT -> TAKEN and taken the handle, and is held
 * before unmapping: the keeper's reuse (KEPT -> INUSE) fails and shows
 * TAKEN, a new mmap of the handle is EINVAL, FREE is ENOENT. Released,
 * the waiter is served and the old mapping is SIGBUS.
 */
TEST_F_TIMEOUT(keep, race_reuse_after_the_kernel_won, 120)
{
	struct respool_stats st;
	struct respool_alloc x;
	uint32_t gen, w;
	char *p;
	void *m;
	const char *why;

	why = rp_inject_skip_reason();
	if (why)
		SKIP(return, "%s", why);
	kp_setup(_metadata, self, KP_C64K);
	kp_alloc_keep(_metadata, self, KP_BLOCK, 3, &x, &p, &gen);
	ASSERT_EQ(0, kp_allocer_init(&self->w, self->b, KP_BLOCK));
	ASSERT_EQ(0, rp_inject("takeback", "hold 1"));
	ASSERT_EQ(0, kp_allocer_go(&self->w));
	ASSERT_EQ(0, rp_inject_wait_held("takeback", 1, 30000))
		TH_LOG("the waiter never took the block");

	w = KP_WORD(RESPOOL_SLOT_KEPT, gen);
	EXPECT_FALSE(kp_cas(self->ctl, x.handle, &w, KP_WORD(RESPOOL_SLOT_INUSE, gen)))
		TH_LOG("the keeper reused a block the kernel has taken");
	EXPECT_EQ(KP_WORD(RESPOOL_SLOT_TAKEN, gen), w);
	m = rp_map(self->a, &x);
	EXPECT_EQ(MAP_FAILED, m) TH_LOG("mmap of the handle being taken");
	if (m == MAP_FAILED) {
		EXPECT_EQ(EINVAL, errno);
	} else {
		munmap(m, KP_BLOCK);
	}
	EXPECT_EQ(-ENOENT, rp_free(self->a, x.handle));
	EXPECT_FALSE(kp_allocer_done(&self->w, 0));

	ASSERT_EQ(0, rp_inject("takeback", "release"));
	ASSERT_EQ(0, kp_allocer_join(&self->w)) TH_LOG("the waiter was not served");
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(1, st.takebacks);
	kp_expect_taken(_metadata, self, &x, p, gen);
	munmap(p, KP_BLOCK);
}

/* ---- a fault in flight while the block is taken ------------------------- */

struct kp_report {
	uint32_t handle, gen;
	int bus[16];
	uint64_t val[16];
};

/*
 * The keeper as a process of its own: maps a 64K block, fills it from
 * @seed, MADV_DONTNEEDs it (the next touch faults) and keeps it; on 'T'
 * touches its first word, on 'U' every page, and reports.
 */
static void kp_fault_child(int sock, uint64_t seed)
{
	struct kp_report rep = { 0 };
	struct respool_alloc x;
	struct respool_ctl *c;
	int fd, k;
	char cmd, *p;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = rp_open();
	c = fd < 0 ? NULL : kp_ctl_map(fd);
	if (!c || rp_alloc(fd, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &x))
		_exit(2);
	p = rp_map(fd, &x);
	if (p == MAP_FAILED)
		_exit(3);
	rp_fill(p, KP_BLOCK, seed);
	if (madvise(p, KP_BLOCK, MADV_DONTNEED))
		_exit(4);
	rep.handle = x.handle;
	rep.gen = kp_keep(c, x.handle);
	if (write(sock, &rep, sizeof(rep)) != sizeof(rep))
		_exit(5);
	while (read(sock, &cmd, 1) == 1) {
		memset(rep.bus, 0, sizeof(rep.bus));
		for (k = 0; k < (cmd == 'T' ? 1 : 16); k++)
			rep.bus[k] = kp_read(p + k * 4096, &rep.val[k]);
		if (write(sock, &rep, sizeof(rep)) != sizeof(rep))
			_exit(6);
	}
	_exit(0);
}

static int kp_recv(int sock, struct kp_report *rep, int ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	return read(sock, rep, sizeof(*rep)) == sizeof(*rep) ? 0 : -EIO;
}

/*
 * The keeper's thread faults on its kept block and is held in the fault
 * handler (the file's map lock held, the block looked up); the waiter
 * takes the block back meanwhile. The waiter must not get the block
 * until the fault is done and the keeper's pages are unmapped: the
 * keeper's touch in flight may read its own old bytes, but no later
 * touch ever sees what the waiter writes.
 */
TEST_F_TIMEOUT(keep, race_fault_in_flight_during_takeback, 180)
{
	const uint64_t seed = 0xfa017, secret = 0x5ec2e7;
	struct kp_report rep;
	struct respool_stats st;
	int sv[2], k, held, hits;
	char *q;
	const char *why;

	why = rp_inject_skip_reason();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload(KP_C64K));
	self->sfd = rp_open();
	self->b = rp_open();
	ASSERT_LE(0, self->b);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	self->kid = fork();
	ASSERT_LE(0, self->kid);
	if (!self->kid) {
		close(sv[0]);
		kp_fault_child(sv[1], seed);
	}
	close(sv[1]);
	self->sock = sv[0];
	ASSERT_EQ(0, kp_recv(self->sock, &rep, 30000)) TH_LOG("the keeper did not start");
	ASSERT_NE(0, rep.gen) TH_LOG("the keeper's slot was not INUSE|gen");
	ASSERT_EQ(0, kp_allocer_init(&self->w, self->b, KP_BLOCK));

	/* The keeper's touch, held in the fault handler. */
	ASSERT_EQ(0, rp_inject("fault", "hold 1"));
	ASSERT_EQ(1, write(self->sock, "T", 1));
	ASSERT_EQ(0, rp_inject_wait_held("fault", 1, 30000))
		TH_LOG("the keeper's touch never reached the fault handler");

	/* The waiter takes the block: past the exchange, about to unmap. */
	ASSERT_EQ(0, rp_inject("takeback", "hold 1"));
	ASSERT_EQ(0, kp_allocer_go(&self->w));
	ASSERT_EQ(0, rp_inject_wait_held("takeback", 1, 30000))
		TH_LOG("the waiter never took the block");
	ASSERT_EQ(0, rp_inject("takeback", "release"));
	/* The unmap needs the map lock the fault holds: no block yet. */
	EXPECT_FALSE(kp_allocer_done(&self->w, 500))
		TH_LOG("the waiter got the block while the keeper's fault was in flight");
	ASSERT_EQ(0, rp_inject_state("fault", &hits, &held));
	ASSERT_EQ(1, held) TH_LOG("the fault hold ended by itself (the guest is too slow for this test)");
	ASSERT_EQ(0, rp_inject("fault", "release"));

	/* The touch in flight: the keeper's own bytes, or SIGBUS. */
	ASSERT_EQ(0, kp_recv(self->sock, &rep, 60000));
	if (!rep.bus[0])
		EXPECT_EQ(kp_pat(seed, 0), rep.val[0])
			TH_LOG("the touch in flight read %#llx, not the keeper's own data",
			       (unsigned long long)rep.val[0]);

	ASSERT_EQ(0, kp_allocer_join(&self->w)) TH_LOG("the waiter was not served");
	q = rp_map(self->b, &self->w.a);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_TRUE(rp_all_zero(q, KP_BLOCK)) TH_LOG("the waiter sees the keeper's bytes");
	rp_fill(q, KP_BLOCK, secret);

	/* Every later touch of the keeper's old mapping is SIGBUS. */
	ASSERT_EQ(1, write(self->sock, "U", 1));
	ASSERT_EQ(0, kp_recv(self->sock, &rep, 60000));
	for (k = 0; k < 16; k++) {
		EXPECT_EQ(1, rep.bus[k]) TH_LOG("page %d of the taken block still mapped in the keeper, reads %#llx%s",
			k, (unsigned long long)rep.val[k],
			rep.val[k] == kp_pat(secret, k * 4096) ? ": the waiter's secret" : "");
	}
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(1, st.takebacks);
	munmap(q, KP_BLOCK);
}

/* ---- the other take-backs ----------------------------------------------- */

/*
 * capacity lowered below use: the kept block goes at once; the pool page
 * says reclaim while use stays above capacity, and stops when it is not.
 */
TEST_F_TIMEOUT(keep, lowered_capacity_takes_back, 120)
{
	struct respool_alloc x, y, z;
	struct respool_stats st;
	uint64_t end;
	uint32_t gen;
	char *p;
	int ret;

	kp_setup(_metadata, self, "capacity=192K pcpu_cache_blocks=0 idle_trim_ms=0");
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &y));
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &z));
	kp_alloc_keep(_metadata, self, KP_BLOCK, 4, &x, &p, &gen);
	EXPECT_EQ(0, kp_reclaim(self->sh));

	ret = kp_config_u64(RESPOOL_A_POOL_CAPACITY, KP_BLOCK);
	ASSERT_EQ(0, ret) TH_LOG("config-set capacity 64K: %s", strerror(-ret));
	ASSERT_EQ(0, kp_wait_takebacks(1, 60, &st)) TH_LOG("the kept block was not taken back");
	EXPECT_EQ(1, st.takebacks);
	EXPECT_EQ(2 * KP_BLOCK, st.in_use_bytes);
	EXPECT_EQ(1, kp_reclaim(self->sh)) TH_LOG("use 128K above capacity 64K, no reclaim");
	kp_expect_taken(_metadata, self, &x, p, gen);
	munmap(p, KP_BLOCK);

	/* (At use == capacity reclaim may go either way.) */
	ASSERT_EQ(0, rp_free(self->a, y.handle));
	ASSERT_EQ(0, rp_free(self->a, z.handle));
	end = rp_now_ns() + 30 * KP_SEC;
	while (kp_reclaim(self->sh) && rp_now_ns() < end)
		usleep(1000);
	EXPECT_EQ(0, kp_reclaim(self->sh)) TH_LOG("nothing in use, still reclaim");
}

TEST_F_TIMEOUT(keep, drain_takes_back, 120)
{
	struct respool_alloc x, y;
	struct respool_stats st;
	uint32_t gen;
	char *p;

	kp_setup(_metadata, self, "capacity=1M pcpu_cache_blocks=0 idle_trim_ms=0");
	/* A free block in the reserve too. */
	ASSERT_EQ(0, rp_alloc(self->b, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &y));
	ASSERT_EQ(0, rp_free(self->b, y.handle));
	kp_alloc_keep(_metadata, self, KP_BLOCK, 5, &x, &p, &gen);
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(4096, st.reserve_bytes);
	ASSERT_EQ(0, kp_drain());
	ASSERT_EQ(0, kp_wait_takebacks(1, 60, &st));
	EXPECT_EQ(1, st.takebacks);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.kept_bytes);
	EXPECT_EQ(0, st.reserve_bytes + st.pcpu_bytes)
		TH_LOG("drain left the taken block (or the free one) in the pool");
	kp_expect_taken(_metadata, self, &x, p, gen);
	munmap(p, KP_BLOCK);
}

/*
 * Idle trim: a kept block nobody reuses is marked IDLE by one pass and
 * taken by the next. A block the client re-keeps (clears IDLE) whenever
 * it sees it marked is never taken by the pass after its re-keep.
 */
TEST_F_TIMEOUT(keep, idle_trim_takes_back_what_is_not_reused, 180)
{
	struct respool_alloc x, y;
	struct respool_stats st = { 0 };
	uint32_t gx, gy, w;
	uint64_t end;
	bool x_idle = false, y_idle = false;
	int rekeeps = 0;
	char *p, *q;

	kp_setup(_metadata, self, "capacity=1M pcpu_cache_blocks=0 idle_trim_ms=1000");
	kp_alloc_keep(_metadata, self, 4096, 6, &x, &p, &gx);
	kp_alloc_keep(_metadata, self, 4096, 7, &y, &q, &gy);

	/*
	 * Until x is taken (at least two passes) and counted (after the
	 * pass), y is re-kept whenever a pass marked it, as a reuse and a
	 * keep would: no pass may take it.
	 */
	end = rp_now_ns() + 120 * KP_SEC;
	for (;;) {
		w = kp_slot(self->ctl, x.handle);
		if (w == KP_WORD(RESPOOL_SLOT_KEPT | RESPOOL_SLOT_IDLE, gx))
			x_idle = true;
		else if (w != KP_WORD(RESPOOL_SLOT_KEPT, gx) &&
			 !rp_stats(self->sfd, &st) && st.takebacks)
			break;
		w = kp_slot(self->ctl, y.handle);
		if (w == KP_WORD(RESPOOL_SLOT_KEPT | RESPOOL_SLOT_IDLE, gy)) {
			y_idle = true;
			if (kp_cas(self->ctl, y.handle, &w, KP_WORD(RESPOOL_SLOT_KEPT, gy)))
				rekeeps++;
		}
		ASSERT_NE(KP_WORD(RESPOOL_SLOT_TAKEN, gy), kp_slot(self->ctl, y.handle))
			TH_LOG("a block re-kept after its IDLE mark was taken by the next pass");
		ASSERT_GT(end, rp_now_ns()) TH_LOG("the idle block was never taken (slot %#x, %llu take-backs)",
			kp_slot(self->ctl, x.handle), (unsigned long long)st.takebacks);
		usleep(1000);
	}
	EXPECT_EQ(KP_WORD(RESPOOL_SLOT_TAKEN, gx), kp_slot(self->ctl, x.handle))
		TH_LOG("x's slot went from KEPT to %#x", kp_slot(self->ctl, x.handle));
	EXPECT_TRUE(x_idle) TH_LOG("x was taken without being seen KEPT|IDLE first");
	EXPECT_TRUE(y_idle) TH_LOG("y was never marked IDLE");
	EXPECT_NE(0, rekeeps);
	EXPECT_EQ(1, st.takebacks);
	EXPECT_EQ(1, st.kept_blocks) TH_LOG("y is still kept");
	EXPECT_EQ(4096, st.kept_bytes);
	kp_expect_taken(_metadata, self, &x, p, gx);

	/* Left alone, y goes too. */
	ASSERT_EQ(0, kp_wait_takebacks(2, 60, &st)) TH_LOG("y, left alone, was never taken");
	EXPECT_EQ(KP_WORD(RESPOOL_SLOT_TAKEN, gy), kp_slot(self->ctl, y.handle));
	EXPECT_EQ(0, st.kept_blocks);
	munmap(p, 4096);
	munmap(q, 4096);
}

TEST_F_TIMEOUT(keep, shrinker_takes_back, 180)
{
	struct respool_alloc x, y;
	struct respool_stats st;
	uint32_t gx, gy;
	char *p, *q;

	kp_setup(_metadata, self, "capacity=4M pcpu_cache_blocks=0 idle_trim_ms=0");
	kp_alloc_keep(_metadata, self, KP_BLOCK, 8, &x, &p, &gx);
	kp_alloc_keep(_metadata, self, 256 * RP_KiB, 9, &y, &q, &gy);
	ASSERT_EQ(0, rp_write_file("/proc/sys/vm/drop_caches", "2"));
	ASSERT_EQ(0, kp_wait_takebacks(2, 120, &st)) TH_LOG("drop_caches: %llu of 2 kept blocks taken",
		(unsigned long long)st.takebacks);
	EXPECT_EQ(0, st.kept_blocks);
	EXPECT_EQ(0, st.in_use_bytes);
	kp_expect_taken(_metadata, self, &x, p, gx);
	kp_expect_taken(_metadata, self, &y, q, gy);
	munmap(p, KP_BLOCK);
	munmap(q, 256 * RP_KiB);
}

/* ---- accounting --------------------------------------------------------- */

TEST_F_TIMEOUT(keep, kept_blocks_count_as_the_clients, 120)
{
	struct respool_alloc x, y, z, u;
	struct respool_stats st;
	struct kp_client ca, cb;
	uint32_t gx, gy, w;
	char *p, *q;

	kp_setup(_metadata, self, "capacity=128K pcpu_cache_blocks=0 idle_trim_ms=0 client_quota=96K");
	ASSERT_EQ(0, kp_client(1, &ca));
	ASSERT_EQ(0, kp_client(2, &cb));
	EXPECT_TRUE(ca.fast_path);
	EXPECT_FALSE(cb.fast_path);
	EXPECT_EQ(0, ca.kept_bytes);
	EXPECT_EQ(0, ca.kept_blocks);
	EXPECT_EQ(0, ca.takebacks);
	EXPECT_EQ(0, ca.fast_hits);

	kp_alloc_keep(_metadata, self, 4096, 10, &x, &p, &gx);
	kp_alloc_keep(_metadata, self, KP_BLOCK, 11, &y, &q, &gy);
	ASSERT_EQ(0, rp_alloc(self->a, 8192, RESPOOL_ALLOC_NONBLOCK, 0, &z));
	__atomic_store_n(&self->ctl->hits, 42, __ATOMIC_RELAXED);

	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(4096 + KP_BLOCK, st.kept_bytes);
	EXPECT_EQ(2, st.kept_blocks);
	EXPECT_EQ(8192 + 4096 + KP_BLOCK, st.in_use_bytes);
	EXPECT_EQ(3, st.blocks_in_use);
	ASSERT_EQ(0, kp_client(1, &ca));
	EXPECT_EQ(8192 + 4096 + KP_BLOCK, ca.held) TH_LOG("kept blocks are held");
	EXPECT_EQ(3, ca.handles);
	EXPECT_EQ(4096 + KP_BLOCK, ca.kept_bytes);
	EXPECT_EQ(2, ca.kept_blocks);
	EXPECT_EQ(0, ca.takebacks);
	EXPECT_EQ(42, ca.fast_hits);
	/* Kept blocks count against the client's quota (76K of 96K held). */
	EXPECT_EQ(-EDQUOT, rp_alloc(self->a, 32 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &u))
		TH_LOG("kept blocks did not count against client_quota");

	/* A reuse is the client's own business: nothing changes but kept. */
	w = KP_WORD(RESPOOL_SLOT_KEPT, gx);
	ASSERT_TRUE(kp_cas(self->ctl, x.handle, &w, KP_WORD(RESPOOL_SLOT_INUSE, gx)));
	EXPECT_TRUE(rp_check(p, 4096, 10)) TH_LOG("a reused block lost its bytes");
	ASSERT_EQ(0, kp_client(1, &ca));
	EXPECT_EQ(KP_BLOCK, ca.kept_bytes);
	EXPECT_EQ(1, ca.kept_blocks);
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(KP_BLOCK, st.kept_bytes);
	EXPECT_EQ(1, st.kept_blocks);
	ASSERT_EQ(gx, kp_keep(self->ctl, x.handle)) TH_LOG("re-keep of a reused block");

	/* b needs 64K of the 52K left: both kept blocks go. */
	ASSERT_EQ(0, rp_alloc(self->b, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &u));
	ASSERT_EQ(0, kp_client(1, &ca));
	EXPECT_EQ(0, ca.kept_bytes);
	EXPECT_EQ(0, ca.kept_blocks);
	EXPECT_EQ(8192, ca.held);
	EXPECT_EQ(1, ca.handles);
	EXPECT_EQ(2, ca.takebacks) TH_LOG("every kept block goes for a waiter");
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(ca.takebacks, st.takebacks);
	EXPECT_EQ(0, st.kept_bytes);
	ASSERT_EQ(0, kp_client(2, &cb));
	EXPECT_EQ(0, cb.takebacks);
	EXPECT_EQ(KP_BLOCK, cb.held);
	munmap(p, 4096);
	munmap(q, KP_BLOCK);
}

/* ---- mapping populate --------------------------------------------------- */

static long kp_minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * One fault maps a whole mapping of a block, for every client (this one
 * has no control page): 1 minor fault for the 16 pages of a 64K block,
 * not 16. A mapping partly dropped (MADV_DONTNEED) faults back in with
 * its bytes, the pages still mapped left as they are.
 */
TEST_F_TIMEOUT(keep, one_fault_maps_a_whole_block, 120)
{
	struct respool_alloc x;
	long f0, f1;
	char *p, *m;
	uint64_t k;

	ASSERT_EQ(0, rp_reload("capacity=1M"));
	self->a = rp_open();
	ASSERT_LE(0, self->a);
	ASSERT_EQ(0, rp_alloc(self->a, KP_BLOCK, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	p = rp_map(self->a, &x);
	ASSERT_NE(MAP_FAILED, p);
	f0 = kp_minflt();
	f0 = kp_minflt();
	for (k = 0; k < KP_BLOCK; k += 4096)
		((volatile char *)p)[k] = (char)k + 1;
	f1 = kp_minflt();
	EXPECT_EQ(1, f1 - f0) TH_LOG("touching the 16 pages of a 64K block took %ld faults", f1 - f0);

	/* Part of it dropped and touched again: the same bytes come back. */
	rp_fill(p, KP_BLOCK, 12);
	ASSERT_EQ(0, madvise(p + 3 * 4096, 5 * 4096, MADV_DONTNEED));
	EXPECT_TRUE(rp_check(p, KP_BLOCK, 12)) TH_LOG("after a partial MADV_DONTNEED");
	ASSERT_EQ(0, madvise(p, 4096, MADV_DONTNEED));
	ASSERT_EQ(0, madvise(p + 15 * 4096, 4096, MADV_DONTNEED));
	rp_fill(p, KP_BLOCK, 13);
	EXPECT_TRUE(rp_check(p, KP_BLOCK, 13));
	ASSERT_EQ(0, madvise(p, KP_BLOCK, MADV_DONTNEED));
	EXPECT_TRUE(rp_check(p, KP_BLOCK, 13));
	/* A mapping of part of the block, from page 2: one fault too. */
	m = mmap(NULL, 4 * 4096, PROT_READ, MAP_SHARED, self->a, x.offset + 2 * 4096);
	ASSERT_NE(MAP_FAILED, m);
	f0 = kp_minflt();
	EXPECT_EQ(kp_pat(13, 2 * 4096), *(volatile uint64_t *)m);
	EXPECT_EQ(kp_pat(13, 5 * 4096), *(volatile uint64_t *)(m + 3 * 4096));
	f1 = kp_minflt();
	EXPECT_EQ(1, f1 - f0) TH_LOG("a 4-page mapping from page 2 took %ld faults", f1 - f0);
	munmap(m, 4 * 4096);
	munmap(p, KP_BLOCK);
}

TEST_HARNESS_MAIN
