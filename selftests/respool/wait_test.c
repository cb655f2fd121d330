// SPDX-License-Identifier: GPL-2.0
/*
 * wait_test - fair waiting: strict FIFO order, no barging, direct handoff,
 * timeouts, signals, SIGKILL, close by another thread, poll(), and a
 * stress that must account for every byte and starve nobody.
 *
 * Most tests fill a small pool (capacity=64K, 4K blocks) from one file of
 * the test process and queue child processes behind it; each child opens
 * its own file, ALLOCs, and reports the outcome over a pipe, so the order
 * in which the reports arrive, one block freed at a time, is the order in
 * which the pool served them.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define PG		4096ULL
#define MAX_KIDS	64
#define MS		1000000ULL
#define SEC		1000000000ULL

/* What a child tells the test about its ALLOC. */
struct report {
	int idx;
	int ret;		/* 0 or -errno */
	uint64_t handle;
	uint64_t block_size;
	uint64_t wait_ns;	/* as seen from userspace */
};

/* The process running the test, parent of every child the tests fork. */
static pid_t test_pid;

FIXTURE(wait) {
	int sfd;		/* for stats; holds nothing */
	int fd;			/* the file that fills the pool */
	int rfd, wfd;		/* report pipe */
	pid_t kids[MAX_KIDS];
	int nkids;
	uint64_t held[64];	/* handles of @fd */
	int nheld;
};

FIXTURE_SETUP(wait)
{
	const char *why = rp_skip_reason();
	int p[2];

	self->sfd = self->fd = self->rfd = self->wfd = -1;
	self->nkids = self->nheld = 0;
	test_pid = getpid();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->rfd = p[0];
	self->wfd = p[1];
}

FIXTURE_TEARDOWN(wait)
{
	int i;

	for (i = 0; i < self->nkids; i++) {
		if (self->kids[i] > 0) {
			kill(self->kids[i], SIGKILL);
			waitpid(self->kids[i], NULL, 0);
		}
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
	if (self->wfd >= 0)
		close(self->wfd);
}

/* A fresh pool with @params; @fd and @sfd opened on it. */
static int pool_setup(FIXTURE_DATA(wait) *self, const char *params)
{
	int ret;

	if (self->fd >= 0)
		close(self->fd);
	if (self->sfd >= 0)
		close(self->sfd);
	self->fd = self->sfd = -1;
	ret = rp_reload(params);
	if (ret)
		return ret;
	self->sfd = rp_open();
	self->fd = rp_open();
	return self->sfd < 0 || self->fd < 0 ? -errno : 0;
}

static struct respool_stats stats(FIXTURE_DATA(wait) *self)
{
	struct respool_stats st;

	if (rp_stats(self->sfd, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

/* Poll stats until @waiters (at most @ms); returns the last count seen. */
static uint64_t waiters_become(int sfd, uint64_t waiters, int ms)
{
	struct respool_stats st;
	uint64_t end = rp_now_ns() + ms * MS;

	do {
		if (rp_stats(sfd, &st))
			return ~0ULL;
		if (st.waiters == waiters)
			return waiters;
		usleep(1000);
	} while (rp_now_ns() < end);
	return st.waiters;
}

/* Fill the pool from @fd with @n blocks of @size. */
static int fill(FIXTURE_DATA(wait) *self, int n, uint64_t size)
{
	struct respool_alloc a;
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = rp_alloc(self->fd, size, RESPOOL_ALLOC_NONBLOCK, 0, &a);
		if (ret)
			return ret;
		self->held[self->nheld++] = a.handle;
	}
	return 0;
}

/* Free the oldest block still held through @fd. */
static int free_one(FIXTURE_DATA(wait) *self, int i)
{
	return rp_free(self->fd, self->held[i]);
}

static uint64_t hist_sum(const struct respool_stats *st)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < RESPOOL_WAIT_HIST_BUCKETS; i++)
		sum += st->wait_hist[i];
	return sum;
}

/*
 * In a child: die with the test process, so that a failed ASSERT (after
 * which the fixture's teardown may not run) leaves no child holding a
 * file of the pool or the output pipe open; drop every inherited file
 * but stdio and @keep_a/@keep_b.
 */
static void child_setup(int keep_a, int keep_b)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != test_pid)
		_exit(0);
	for (fd = 3; fd < 1024; fd++)
		if (fd != keep_a && fd != keep_b)
			close(fd);
}

static void write_report(int wfd, const struct report *r)
{
	if (write(wfd, r, sizeof(*r)) != sizeof(*r))
		_exit(3);
}

/*
 * Fork a child that opens its own file, ALLOCs @size with @flags and
 * @timeout_ms, reports, and then holds its block until it is killed
 * (@hold) or exits (closing its file frees the block).
 */
static pid_t spawn_alloc(FIXTURE_DATA(wait) *self, int idx, uint64_t size,
			 uint32_t flags, uint32_t timeout_ms, bool hold)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct respool_alloc a = { 0 };
		struct report r = { .idx = idx };
		uint64_t t0;
		int fd;

		child_setup(self->wfd, -1);
		fd = rp_open();
		if (fd < 0)
			_exit(2);
		t0 = rp_now_ns();
		r.ret = rp_alloc(fd, size, flags, timeout_ms, &a);
		r.wait_ns = rp_now_ns() - t0;
		r.handle = a.handle;
		r.block_size = a.block_size;
		write_report(self->wfd, &r);
		while (hold)
			pause();
		_exit(0);
	}
	if (pid > 0 && self->nkids < MAX_KIDS)
		self->kids[self->nkids++] = pid;
	return pid;
}

/* Read one report within @ms: 1 got it, 0 none came, -1 error. */
static int read_report(int rfd, struct report *r, int ms)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	if (n <= 0)
		return n;
	return read(rfd, r, sizeof(*r)) == sizeof(*r) ? 1 : -1;
}

static void reap(FIXTURE_DATA(wait) *self, pid_t pid)
{
	int i;

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (i = 0; i < self->nkids; i++)
		if (self->kids[i] == pid)
			self->kids[i] = 0;
}

static void reap_all(FIXTURE_DATA(wait) *self)
{
	int i;

	for (i = 0; i < self->nkids; i++)
		if (self->kids[i] > 0)
			reap(self, self->kids[i]);
}

#define POOL_64K "capacity=64K pcpu_cache_blocks=0 idle_trim_ms=0"

/*
 * Queue waiters one at a time behind a full pool (each confirmed queued
 * through stats before the next starts), then free one block at a time:
 * each freed block must serve exactly the next waiter in arrival order.
 */
TEST_F(wait, fifo_order_of_ten_waiters_served_in_arrival_order)
{
	const int n = 10;
	struct respool_stats st;
	struct report r;
	int i;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	for (i = 0; i < n; i++) {
		ASSERT_LT(0, spawn_alloc(self, i, PG, 0, 0, true));
		ASSERT_EQ(i + 1, waiters_become(self->sfd, i + 1, 10000))
			TH_LOG("waiter %d never queued", i);
	}
	/* Nobody is served while nothing is freed. */
	ASSERT_EQ(0, read_report(self->rfd, &r, 100))
		TH_LOG("waiter %d was served from a full pool (ret %d)",
		       r.idx, r.ret);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, free_one(self, i));
		ASSERT_EQ(1, read_report(self->rfd, &r, 10000))
			TH_LOG("no waiter served after free %d", i);
		EXPECT_EQ(0, r.ret);
		EXPECT_EQ(i, r.idx)
			TH_LOG("free %d served waiter %d; expected the one that arrived %d-th (strict FIFO)",
			       i, r.idx, i);
		EXPECT_EQ(PG, r.block_size);
		/* One block freed serves one waiter, no more. */
		EXPECT_EQ(n - i - 1, waiters_become(self->sfd, n - i - 1, 10000));
	}
	EXPECT_EQ(0, read_report(self->rfd, &r, 50));
	st = stats(self);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(n, st.waits);
	EXPECT_EQ(n, st.handoffs);
	EXPECT_EQ(64 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(n, hist_sum(&st))
		TH_LOG("wait_hist sums to %llu, waits %llu",
		       (unsigned long long)hist_sum(&st),
		       (unsigned long long)st.waits);
}

/*
 * A large request waits. A small NONBLOCK request from another file gets
 * EAGAIN although room and even a fitting free block are there, and a
 * small blocking request queues behind the large one and is served only
 * after it. Per-CPU caches are on: nothing may idle in them meanwhile.
 */
TEST_F(wait, no_barging_small_requests_queue_behind_large_waiter)
{
	struct respool_alloc a;
	struct respool_stats st;
	struct report r;
	int other;

	ASSERT_EQ(0, pool_setup(self, "capacity=64K pcpu_cache_blocks=16 idle_trim_ms=0"));
	/* 14 blocks in use, one of them freed to a cache: 52K in use. */
	ASSERT_EQ(0, fill(self, 14, PG));
	ASSERT_EQ(0, free_one(self, 13));
	st = stats(self);
	ASSERT_EQ(52 * RP_KiB, st.in_use_bytes);

	/* 52K + 20K > 64K: the large one waits. */
	ASSERT_LT(0, spawn_alloc(self, 0, 20 * RP_KiB, 0, 0, true));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	st = stats(self);
	EXPECT_EQ(0, st.pcpu_bytes)
		TH_LOG("%llu bytes idle in per-CPU caches while a request waits",
		       (unsigned long long)st.pcpu_bytes);

	other = rp_open();
	ASSERT_LE(0, other);
	EXPECT_EQ(-EAGAIN, rp_alloc(other, PG, RESPOOL_ALLOC_NONBLOCK, 0, &a))
		TH_LOG("a 4K NONBLOCK request barged past a waiting 20K one (12K were free)");
	EXPECT_EQ(-EAGAIN, rp_alloc(self->fd, PG, RESPOOL_ALLOC_NONBLOCK, 0, &a))
		TH_LOG("a NONBLOCK request on the fast path barged past a waiter");

	ASSERT_LT(0, spawn_alloc(self, 1, PG, 0, 0, true));
	ASSERT_EQ(2, waiters_become(self->sfd, 2, 10000))
		TH_LOG("a small blocking request was served ahead of the waiting large one");
	ASSERT_EQ(0, read_report(self->rfd, &r, 200))
		TH_LOG("waiter %d served (ret %d) though room for the head was short",
		       r.idx, r.ret);

	/* 8K more room: exactly what the large head needs. */
	ASSERT_EQ(0, free_one(self, 0));
	ASSERT_EQ(0, free_one(self, 1));
	ASSERT_EQ(1, read_report(self->rfd, &r, 10000));
	EXPECT_EQ(0, r.idx);
	EXPECT_EQ(0, r.ret);
	EXPECT_EQ(20 * RP_KiB, r.block_size);
	EXPECT_EQ(1, waiters_become(self->sfd, 1, 10000));
	/* The pool is full again; the next free serves the small one. */
	ASSERT_EQ(0, free_one(self, 2));
	ASSERT_EQ(1, read_report(self->rfd, &r, 10000));
	EXPECT_EQ(1, r.idx);
	EXPECT_EQ(0, r.ret);
	EXPECT_EQ(0, waiters_become(self->sfd, 0, 10000));
	/* Queue empty: NONBLOCK works again (the fitting block is back). */
	ASSERT_EQ(0, free_one(self, 3));
	EXPECT_EQ(0, rp_alloc(other, PG, RESPOOL_ALLOC_NONBLOCK, 0, &a));
	close(other);
}

/* A freed block that fits the head waiter is handed to it and counted. */
TEST_F(wait, freed_block_fitting_head_is_handed_off_and_counted)
{
	struct respool_stats before, after;
	struct report r;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	ASSERT_LT(0, spawn_alloc(self, 0, PG, 0, 0, true));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	before = stats(self);
	EXPECT_EQ(0, before.handoffs);
	ASSERT_EQ(0, free_one(self, 0));
	ASSERT_EQ(1, read_report(self->rfd, &r, 10000));
	EXPECT_EQ(0, r.ret);
	after = stats(self);
	EXPECT_EQ(1, after.handoffs)
		TH_LOG("handoffs %llu after one freed block served the head waiter",
		       (unsigned long long)after.handoffs);
	/* Handed over directly: no fresh block, nothing via the reserve. */
	EXPECT_EQ(before.fresh_allocs, after.fresh_allocs);
	EXPECT_EQ(before.reserve_hits, after.reserve_hits);
	EXPECT_EQ(0, after.reserve_bytes);
	EXPECT_EQ(64 * RP_KiB, after.in_use_bytes);
	EXPECT_EQ(16, after.blocks_in_use);
}

/*
 * Threshold rule for handoff: an 8K block does not fit a 4K head at
 * threshold 75; its bytes are released and the head gets a fresh 4K
 * block. A head needing more than the freed block gets a fresh block
 * only when enough has been freed.
 */
TEST_F(wait, freed_block_not_fitting_head_is_released_for_a_fresh_one)
{
	struct respool_stats st;
	struct report r;

	ASSERT_EQ(0, pool_setup(self, POOL_64K " threshold=75"));
	ASSERT_EQ(0, fill(self, 8, 2 * PG));
	ASSERT_LT(0, spawn_alloc(self, 0, PG, 0, 0, true));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	ASSERT_EQ(0, free_one(self, 0));
	ASSERT_EQ(1, read_report(self->rfd, &r, 10000));
	EXPECT_EQ(0, r.ret);
	EXPECT_EQ(PG, r.block_size)
		TH_LOG("head needing 4K got a %llu byte block (threshold 75)",
		       (unsigned long long)r.block_size);
	st = stats(self);
	EXPECT_EQ(0, st.handoffs);
	EXPECT_EQ(60 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(60 * RP_KiB, st.in_use_bytes + st.reserve_bytes + st.pcpu_bytes);

	/* 60K in use; a 16K head needs 12K more freed, 8K at a time. */
	ASSERT_LT(0, spawn_alloc(self, 1, 16 * RP_KiB, 0, 0, true));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	ASSERT_EQ(0, free_one(self, 1));
	EXPECT_EQ(0, read_report(self->rfd, &r, 200))
		TH_LOG("16K head served with only 12K of room");
	ASSERT_EQ(0, free_one(self, 2));
	ASSERT_EQ(1, read_report(self->rfd, &r, 10000));
	EXPECT_EQ(1, r.idx);
	EXPECT_EQ(0, r.ret);
	EXPECT_EQ(16 * RP_KiB, r.block_size);
	st = stats(self);
	EXPECT_EQ(0, st.handoffs);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(60 * RP_KiB, st.in_use_bytes);
	EXPECT_LE(st.in_use_bytes + st.reserve_bytes + st.pcpu_bytes, 64 * RP_KiB);
}

/* respoolctl config set KEY VALUE; the exit status. */
static int config_set(const char *key, const char *value)
{
	const char *argv[] = { "config", "set", key, value, NULL };

	return rp_ctl(argv);
}

/*
 * A settings change that leaves a queued waiter unservable for good ends
 * its wait at once with E2BIG, as the same ALLOC made now would fail; the
 * queue behind it is not wedged: a NONBLOCK newcomer is served as soon as
 * there is room.
 */
static void settings_fail_the_waiter(struct __test_metadata *_metadata,
				     FIXTURE_DATA(wait) *self,
				     const char *key, const char *value)
{
	struct respool_alloc a;
	struct respool_stats st;
	struct report r;
	int fd, i;

	if (!rp_ctl_path())
		SKIP(return, "tools/respoolctl/respoolctl is not built");
	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	/* A 64K waiter with a 60 s timeout, then a 4K one behind it. */
	ASSERT_LT(0, spawn_alloc(self, 0, 64 * RP_KiB, RESPOOL_ALLOC_TIMEOUT,
				 60000, true));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	ASSERT_LT(0, spawn_alloc(self, 1, PG, RESPOOL_ALLOC_TIMEOUT, 60000,
				 true));
	ASSERT_EQ(2, waiters_become(self->sfd, 2, 10000));

	ASSERT_EQ(0, config_set(key, value));
	ASSERT_EQ(1, read_report(self->rfd, &r, 30000))
		TH_LOG("no waiter ended after %s %s", key, value);
	EXPECT_EQ(0, r.idx);
	EXPECT_EQ(-E2BIG, r.ret) TH_LOG("the 64K waiter: %s", strerror(-r.ret));
	EXPECT_EQ(1, waiters_become(self->sfd, 1, 10000));

	/*
	 * Free until there is room for 4K (at once, or within a lowered
	 * capacity): the waiter behind is served, then a newcomer.
	 */
	for (i = 0; i < 15 && stats(self).waiters; i++)
		ASSERT_EQ(0, free_one(self, i));
	ASSERT_EQ(1, read_report(self->rfd, &r, 30000));
	EXPECT_EQ(1, r.idx);
	EXPECT_EQ(0, r.ret);
	ASSERT_EQ(0, free_one(self, i));
	fd = rp_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, rp_alloc(fd, PG, RESPOOL_ALLOC_NONBLOCK, 0, &a));
	close(fd);
	st = stats(self);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(0, st.wait_timeouts);
}

TEST_F_TIMEOUT(wait, capacity_lowered_below_a_waiter_fails_it_with_e2big, 120)
{
	settings_fail_the_waiter(_metadata, self, "capacity", "32K");
}

TEST_F_TIMEOUT(wait, max_block_size_lowered_below_a_waiter_fails_it, 120)
{
	settings_fail_the_waiter(_metadata, self, "max-block-size", "32K");
}

TEST_F_TIMEOUT(wait, client_quota_lowered_below_a_waiter_fails_it, 120)
{
	settings_fail_the_waiter(_metadata, self, "client-quota", "32K");
}

/* Raising the capacity serves the queue at once, in order. */
TEST_F_TIMEOUT(wait, capacity_raised_serves_waiters_at_once, 120)
{
	struct report r;
	int i;

	if (!rp_ctl_path())
		SKIP(return, "tools/respoolctl/respoolctl is not built");
	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	for (i = 0; i < 3; i++) {
		ASSERT_LT(0, spawn_alloc(self, i, 8 * PG, RESPOOL_ALLOC_TIMEOUT,
					 60000, true));
		ASSERT_EQ(i + 1, waiters_become(self->sfd, i + 1, 10000));
	}
	ASSERT_EQ(0, config_set("capacity", "160K"));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, read_report(self->rfd, &r, 30000));
		EXPECT_EQ(0, r.ret);
	}
	EXPECT_EQ(0, stats(self).waiters);
}

/*
 * With the capacity lowered below what the pool owns, a freed block goes
 * to the head waiter only once the pool stays within the new capacity
 * after it: until then each freed block is released. A handoff that
 * ignored the lowered capacity kept use above it for as long as anyone
 * waited.
 */
TEST_F_TIMEOUT(wait, handoff_waits_for_a_lowered_capacity, 120)
{
	struct respool_stats st;
	struct report r;
	int i;

	if (!rp_ctl_path())
		SKIP(return, "tools/respoolctl/respoolctl is not built");
	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	ASSERT_LT(0, spawn_alloc(self, 0, PG, RESPOOL_ALLOC_TIMEOUT, 60000,
				 true));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	ASSERT_EQ(0, config_set("capacity", "32K"));

	/* 64K owned: the first 8 frees bring it to 32K, serving nobody. */
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, free_one(self, i));
		st = stats(self);
		EXPECT_EQ(1, st.waiters)
			TH_LOG("free %d handed a block over with %llu bytes in use over a 32K capacity",
			       i + 1, (unsigned long long)st.in_use_bytes);
		EXPECT_EQ(0, st.handoffs);
		if (st.waiters != 1)
			break;
	}
	/* The 9th: 32K owned with it, so the waiter may have it. */
	ASSERT_EQ(0, free_one(self, 8));
	ASSERT_EQ(1, read_report(self->rfd, &r, 30000));
	EXPECT_EQ(0, r.ret);
	st = stats(self);
	EXPECT_EQ(1, st.handoffs);
	EXPECT_EQ(32 * RP_KiB, st.in_use_bytes);
	EXPECT_GE(32 * RP_KiB, st.in_use_bytes + st.reserve_bytes + st.pcpu_bytes);
}

/*
 * A 200 ms timeout ends the wait with ETIMEDOUT, not before 150 ms and
 * within 10 s (a loaded emulated guest may take long to run the caller
 * again), is counted, lands in the histogram bucket of its length, and
 * leaves no waiter behind that a later free could be handed to.
 */
TEST_F(wait, timeout_200ms_returns_etimedout_in_time)
{
	struct respool_stats st;
	struct respool_alloc a;
	uint64_t t0, dt;
	int k, bucket = -1;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	t0 = rp_now_ns();
	EXPECT_EQ(-ETIMEDOUT, rp_alloc(self->fd, PG, RESPOOL_ALLOC_TIMEOUT,
				       200, &a));
	dt = rp_now_ns() - t0;
	TH_LOG("200 ms timeout took %llu ms", (unsigned long long)dt / MS);
	EXPECT_LE(150 * MS, dt);
	EXPECT_GE(10 * SEC, dt);
	st = stats(self);
	EXPECT_EQ(1, st.waits);
	EXPECT_EQ(1, st.wait_timeouts);
	EXPECT_EQ(0, st.wait_interrupts);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(1, hist_sum(&st));
	for (k = 0; k < RESPOOL_WAIT_HIST_BUCKETS; k++)
		if (st.wait_hist[k])
			bucket = k;
	/* 150 ms or more is bucket 27 (2^27 ns = 134 ms) or above. */
	EXPECT_LE(27, bucket);
	EXPECT_LE(150 * MS, st.max_wait_ns);
	/* The one wait is the longest: its bucket k has 2^k <= ns < 2^(k+1). */
	if (bucket >= 0 && bucket < 63) {
		EXPECT_LE(1ULL << bucket, st.max_wait_ns)
			TH_LOG("bucket %d for a wait of %llu ns", bucket,
			       (unsigned long long)st.max_wait_ns);
		EXPECT_GT(2ULL << bucket, st.max_wait_ns)
			TH_LOG("bucket %d for a wait of %llu ns", bucket,
			       (unsigned long long)st.max_wait_ns);
	}
	EXPECT_GE(dt, st.max_wait_ns)
		TH_LOG("max_wait_ns %llu exceeds the %llu ns the caller waited",
		       (unsigned long long)st.max_wait_ns,
		       (unsigned long long)dt);
	/* The gone waiter takes nothing: a freed block stays free. */
	ASSERT_EQ(0, free_one(self, 0));
	st = stats(self);
	EXPECT_EQ(60 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(PG, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(0, st.handoffs);
}

/*
 * The head waiter timing out lets the next one in at once, with no free.
 * The two children report over the pipe in whatever order they run, so
 * each report is checked by its index. The head's timeout must outlast
 * the start of the second waiter; should a slow guest let it run out
 * first (the 4K one then never waits), the round is repeated with a
 * longer one.
 */
TEST_F_TIMEOUT(wait, head_giving_up_serves_the_next_waiter, 120)
{
	static const uint32_t tmo_ms[] = { 1000, 4000, 15000 };
	struct report r, got[2];
	struct respool_stats st;
	unsigned int round;
	bool queued = false;
	int i, seen[2];
	uint64_t end;

	for (round = 0; round < ARRAY_SIZE(tmo_ms) && !queued; round++) {
		if (round) {
			TH_LOG("the %u ms head timed out before the 4K waiter queued: again with %u ms",
			       tmo_ms[round - 1], tmo_ms[round]);
			reap_all(self);
			self->nkids = 0;
			while (read_report(self->rfd, &r, 0) == 1)
				;
		}
		self->nheld = 0;
		ASSERT_EQ(0, pool_setup(self, POOL_64K));
		ASSERT_EQ(0, fill(self, 12, PG));
		/* 48K in use: 32K waits, 4K queues behind it though 16K are free. */
		ASSERT_LT(0, spawn_alloc(self, 0, 32 * RP_KiB,
					 RESPOOL_ALLOC_TIMEOUT, tmo_ms[round],
					 true));
		ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
		ASSERT_LT(0, spawn_alloc(self, 1, PG, 0, 0, true));
		/* Both queued (waits 2), or the head gave up first. */
		end = rp_now_ns() + 20 * SEC;
		do {
			st = stats(self);
			if (st.waits >= 2) {
				queued = true;
				break;
			}
			if (st.wait_timeouts)
				break;
			usleep(1000);
		} while (rp_now_ns() < end);
	}
	ASSERT_TRUE(queued)
		TH_LOG("the 4K request never queued behind the waiting 32K head (waits %llu, waiters %llu)",
		       (unsigned long long)st.waits,
		       (unsigned long long)st.waiters);

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, read_report(self->rfd, &r, 20000))
			TH_LOG("no report from %s within 20 s (the 4K waiter stays queued after the head gave up, with 16K free?)",
			       seen[0] ? "the 4K waiter" : seen[1] ? "the head" : "either waiter");
		ASSERT_TRUE(r.idx == 0 || r.idx == 1) TH_LOG("report of waiter %d", r.idx);
		ASSERT_EQ(0, seen[r.idx]) TH_LOG("waiter %d reported twice", r.idx);
		seen[r.idx] = 1;
		got[r.idx] = r;
	}
	EXPECT_EQ(-ETIMEDOUT, got[0].ret);
	EXPECT_EQ(0, got[1].ret)
		TH_LOG("the 4K waiter behind the head that gave up: %s",
		       strerror(-got[1].ret));
	EXPECT_EQ(PG, got[1].block_size);
	EXPECT_EQ(0, waiters_become(self->sfd, 0, 10000));
	st = stats(self);
	EXPECT_EQ(2, st.waits);
	EXPECT_EQ(1, st.wait_timeouts);
	EXPECT_EQ(52 * RP_KiB, st.in_use_bytes);
}

static volatile sig_atomic_t got_signals;

static void count_signal(int sig)
{
	(void)sig;
	got_signals++;
}

static int install_handler(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = count_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	got_signals = 0;
	return sigaction(sig, &sa, NULL);
}

/*
 * Fork a child that waits until the pool has @waiters waiters, sends
 * @sig to the test process, and then, if @free_handle, waits until the
 * interrupted ALLOC is queued again and frees that handle of @fd.
 */
static pid_t spawn_signaller(FIXTURE_DATA(wait) *self, int sig,
			     uint64_t free_handle)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		struct respool_stats st;
		int i;

		child_setup(self->sfd, self->fd);
		if (waiters_become(self->sfd, 1, 10000) != 1)
			_exit(2);
		kill(parent, sig);
		if (!free_handle)
			_exit(0);
		/* Restarted: counted as an interrupt, then queued again. */
		for (i = 0; i < 10000; i++) {
			if (rp_stats(self->sfd, &st))
				_exit(3);
			if (st.wait_interrupts >= 1 && st.waiters == 1)
				break;
			usleep(1000);
		}
		_exit(rp_free(self->fd, free_handle) ? 4 : 0);
	}
	if (pid > 0 && self->nkids < MAX_KIDS)
		self->kids[self->nkids++] = pid;
	return pid;
}

/* A signal without SA_RESTART ends the wait with EINTR. */
TEST_F(wait, signal_without_sa_restart_gives_eintr)
{
	struct respool_stats st;
	struct respool_alloc a;
	pid_t pid;
	int status;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	ASSERT_EQ(0, install_handler(SIGUSR1, 0));
	pid = spawn_signaller(self, SIGUSR1, 0);
	ASSERT_LT(0, pid);
	EXPECT_EQ(-EINTR, rp_alloc(self->fd, PG, RESPOOL_ALLOC_TIMEOUT, 20000, &a));
	EXPECT_EQ(1, got_signals);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[0] = 0;
	EXPECT_EQ(0, status);
	st = stats(self);
	EXPECT_EQ(1, st.waits);
	EXPECT_EQ(1, st.wait_interrupts);
	EXPECT_EQ(0, st.wait_timeouts);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(1, hist_sum(&st));
	EXPECT_EQ(64 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(16, st.blocks_in_use);
}

/* Under SA_RESTART the ALLOC restarts transparently and later succeeds. */
TEST_F(wait, signal_with_sa_restart_restarts_and_succeeds)
{
	struct respool_stats st;
	struct respool_alloc a = { 0 };
	pid_t pid;
	int status;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	ASSERT_EQ(0, install_handler(SIGUSR1, SA_RESTART));
	pid = spawn_signaller(self, SIGUSR1, self->held[0]);
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a))
		TH_LOG("ALLOC under SA_RESTART did not restart transparently");
	EXPECT_EQ(1, got_signals);
	EXPECT_EQ(PG, a.block_size);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[0] = 0;
	EXPECT_EQ(0, status);
	st = stats(self);
	EXPECT_EQ(2, st.waits);
	EXPECT_EQ(1, st.wait_interrupts);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(2, hist_sum(&st));
	EXPECT_EQ(64 * RP_KiB, st.in_use_bytes);
}

/*
 * SIGKILL of waiters in the middle of the queue removes them; the others
 * keep their order, and the queue ends empty.
 */
TEST_F(wait, sigkill_mid_queue_keeps_order_of_the_others)
{
	const int n = 8, killed[] = { 2, 4, 5 };
	const int order[] = { 0, 1, 3, 6, 7 };
	pid_t pids[8];
	struct respool_stats st;
	struct report r;
	unsigned int i;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	for (i = 0; i < (unsigned int)n; i++) {
		pids[i] = spawn_alloc(self, i, PG, 0, 0, true);
		ASSERT_LT(0, pids[i]);
		ASSERT_EQ(i + 1, waiters_become(self->sfd, i + 1, 10000));
	}
	for (i = 0; i < ARRAY_SIZE(killed); i++)
		reap(self, pids[killed[i]]);
	EXPECT_EQ(n - ARRAY_SIZE(killed),
		  waiters_become(self->sfd, n - ARRAY_SIZE(killed), 10000));
	st = stats(self);
	EXPECT_EQ(ARRAY_SIZE(killed), st.wait_interrupts);
	EXPECT_EQ(64 * RP_KiB, st.in_use_bytes);
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		ASSERT_EQ(0, free_one(self, i));
		ASSERT_EQ(1, read_report(self->rfd, &r, 10000));
		EXPECT_EQ(order[i], r.idx)
			TH_LOG("free %u served waiter %d, expected %d", i, r.idx,
			       order[i]);
		EXPECT_EQ(0, r.ret);
	}
	st = stats(self);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(n, st.waits);
	EXPECT_EQ(n, hist_sum(&st));
	EXPECT_EQ(64 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(16, st.blocks_in_use);
	reap_all(self);
	st = stats(self);
	EXPECT_EQ(64 * RP_KiB - ARRAY_SIZE(order) * PG, st.in_use_bytes);
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = rp_now_ns() + ns;

	while (rp_now_ns() < end)
		;
}

struct race_counts {
	uint64_t served, eintr, other;
	int last_err;
};

/*
 * A waiter is signalled while a block is freed to it, in both orders,
 * many times. Every block must reach someone: the test takes its freed
 * block back each round (the waiter frees whatever it gets), so a lost
 * block shows as an ALLOC that never returns, and the accounting must
 * come out exact.
 */
TEST_F_TIMEOUT(wait, handoff_racing_signal_loses_no_block, 120)
{
	struct race_counts *cnt;
	struct respool_stats st;
	struct respool_alloc a;
	uint64_t t0, gap, budget = 60 * SEC;
	int i, iters = 2000, ret;
	pid_t w;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cnt);
	memset(cnt, 0, sizeof(*cnt));

	w = fork();
	ASSERT_LE(0, w);
	if (w == 0) {
		int fd;

		child_setup(-1, -1);
		if (install_handler(SIGUSR1, 0))
			_exit(2);
		fd = rp_open();
		if (fd < 0)
			_exit(2);
		for (;;) {
			ret = rp_alloc(fd, PG, 0, 0, &a);
			if (!ret) {
				__atomic_add_fetch(&cnt->served, 1, __ATOMIC_RELAXED);
				rp_free(fd, a.handle);
			} else if (ret == -EINTR) {
				__atomic_add_fetch(&cnt->eintr, 1, __ATOMIC_RELAXED);
			} else {
				__atomic_add_fetch(&cnt->other, 1, __ATOMIC_RELAXED);
				cnt->last_err = ret;
			}
		}
	}
	self->kids[self->nkids++] = w;

	t0 = rp_now_ns();
	for (i = 0; i < iters; i++) {
		int k = i % 16;

		ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000))
			TH_LOG("round %d: the racing waiter did not queue", i);
		/*
		 * Both orders, with a varying gap, so that the signal lands
		 * before, during and after the handoff.
		 */
		gap = (i * 7919) % 60 * 1000;
		if (i & 1) {
			ASSERT_EQ(0, free_one(self, k));
			spin_ns(gap);
			kill(w, SIGUSR1);
		} else {
			kill(w, SIGUSR1);
			spin_ns(gap);
			ASSERT_EQ(0, free_one(self, k));
		}
		ret = rp_alloc(self->fd, PG, RESPOOL_ALLOC_TIMEOUT, 10000, &a);
		ASSERT_EQ(0, ret)
			TH_LOG("round %d: the freed block never came back (%s): lost in the handoff/signal race",
			       i, strerror(-ret));
		self->held[k] = a.handle;
		if (rp_now_ns() - t0 > budget) {
			TH_LOG("stopping after %d rounds (time budget)", i + 1);
			i++;
			break;
		}
	}
	TH_LOG("%d rounds in %llu ms: waiter served %llu, EINTR %llu",
	       i, (unsigned long long)(rp_now_ns() - t0) / MS,
	       (unsigned long long)cnt->served,
	       (unsigned long long)cnt->eintr);
	reap(self, w);
	EXPECT_EQ(0, cnt->other)
		TH_LOG("waiter saw unexpected error %d", cnt->last_err);
	EXPECT_LT(0, cnt->eintr);
	EXPECT_LT(0, cnt->served);

	/* The test holds 16 blocks; nothing else is in use or lost. */
	st = stats(self);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(64 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(16, st.blocks_in_use);
	EXPECT_EQ(0, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(st.waits, hist_sum(&st));
	EXPECT_EQ(st.allocs, st.frees + 16);
	close(self->fd);
	self->fd = -1;
	st = stats(self);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(64 * RP_KiB, st.reserve_bytes + st.pcpu_bytes)
		TH_LOG("after close: reserve %llu + pcpu %llu, expected the 16 blocks (64K)",
		       (unsigned long long)st.reserve_bytes,
		       (unsigned long long)st.pcpu_bytes);
	EXPECT_EQ(16, st.blocks_free);
	EXPECT_EQ(st.allocs, st.frees);
	munmap(cnt, sizeof(*cnt));
}

/* The state letter of @pid in /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* Until @pid sleeps interruptibly (at most @ms): true if it does. */
static bool wait_until_sleeping(pid_t pid, int ms)
{
	uint64_t end = rp_now_ns() + ms * MS;

	do {
		if (proc_state(pid) == 'S')
			return true;
		usleep(1000);
	} while (rp_now_ns() < end);
	return false;
}

/*
 * An event-loop client: NONBLOCK gets EAGAIN, poll() blocks until
 * another process frees, reports EPOLLOUT, and the ALLOC then succeeds.
 * The other process frees only once the test sleeps in poll(): first
 * one block (not enough for the 8K asked), then, a while later, a
 * second, noting in shared memory that it is about to. poll() must not
 * return before that note, and must return soon after the second free,
 * not at its own timeout (when it would re-evaluate and find room).
 */
TEST_F_TIMEOUT(wait, poll_wakes_event_loop_client_when_room_appears, 90)
{
	struct pollfd p = { .events = POLLOUT };
	struct respool_alloc a;
	int ev, n, status, *second;
	uint64_t t0, dt;
	pid_t pid;

	ASSERT_EQ(0, pool_setup(self, "capacity=64K idle_trim_ms=0"));
	ASSERT_EQ(0, fill(self, 16, PG));
	second = mmap(NULL, sizeof(*second), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, second);
	*second = 0;
	p.fd = rp_open();
	ASSERT_LE(0, p.fd);
	EXPECT_EQ(-EAGAIN, rp_alloc(p.fd, 2 * PG, RESPOOL_ALLOC_NONBLOCK, 0, &a));
	EXPECT_EQ(0, poll(&p, 1, 0))
		TH_LOG("poll reports %#x on a full pool", p.revents);
	EXPECT_EQ(0, stats(self).waits);	/* NONBLOCK never waits */

	/* Another process frees one block (not enough), then a second. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_setup(self->fd, -1);
		/* The test sleeps in poll() now (or it is very late). */
		wait_until_sleeping(getppid(), 20000);
		if (rp_free(self->fd, self->held[0]))
			_exit(1);
		/* Time for a wrong wake-up with 4K free to show. */
		usleep(200000);
		__atomic_store_n(second, 1, __ATOMIC_SEQ_CST);
		_exit(rp_free(self->fd, self->held[1]) ? 2 : 0);
	}
	self->kids[self->nkids++] = pid;
	t0 = rp_now_ns();
	n = poll(&p, 1, 40000);
	dt = rp_now_ns() - t0;
	ev = p.revents;
	ASSERT_EQ(1, n) TH_LOG("poll did not return in 40 s");
	EXPECT_TRUE(ev & POLLOUT);
	EXPECT_TRUE(__atomic_load_n(second, __ATOMIC_SEQ_CST))
		TH_LOG("poll returned (%#x) after %llu ms, before 8K were free",
		       ev, (unsigned long long)dt / MS);
	EXPECT_GT(20 * SEC, dt)
		TH_LOG("poll took %llu ms to notice the free: woken only at its own timeout?",
		       (unsigned long long)dt / MS);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[self->nkids - 1] = 0;
	EXPECT_EQ(0, status) TH_LOG("the freeing child: status %#x", status);
	EXPECT_EQ(0, rp_alloc(p.fd, 2 * PG, RESPOOL_ALLOC_NONBLOCK, 0, &a));
	EXPECT_EQ(2 * PG, a.block_size);
	close(p.fd);
	munmap(second, sizeof(*second));
}

/*
 * A waiter ahead of an event-loop client times out, leaving room for the
 * client's size: poll() must wake with EPOLLOUT then, not sleep on until
 * some unrelated free or its own timeout. The waiter's 3 s timeout leaves
 * the test ample time to queue its poll() behind it; poll()'s own 40 s
 * timeout is far from both.
 */
TEST_F_TIMEOUT(wait, poll_wakes_when_waiter_ahead_gives_up, 90)
{
	struct pollfd p = { .events = POLLOUT };
	struct respool_alloc a;
	uint64_t t0, dt;
	int n;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 12, PG));
	ASSERT_LT(0, spawn_alloc(self, 0, 32 * RP_KiB, RESPOOL_ALLOC_TIMEOUT,
				 3000, false));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	p.fd = rp_open();
	ASSERT_LE(0, p.fd);
	EXPECT_EQ(-EAGAIN, rp_alloc(p.fd, PG, RESPOOL_ALLOC_NONBLOCK, 0, &a));
	EXPECT_EQ(0, poll(&p, 1, 0));
	t0 = rp_now_ns();
	n = poll(&p, 1, 40000);
	dt = rp_now_ns() - t0;
	/*
	 * The waiter times out within 3 s; poll must return then, not at
	 * its own 40 s timeout (when it re-evaluates and finds room).
	 */
	EXPECT_EQ(1, n);
	EXPECT_TRUE(p.revents & POLLOUT);
	EXPECT_GT(20 * SEC, dt)
		TH_LOG("poll slept %llu ms: not woken when the waiter ahead timed out and 16K became free for a 4K request",
		       (unsigned long long)dt / MS);
	EXPECT_EQ(0, rp_alloc(p.fd, PG, RESPOOL_ALLOC_NONBLOCK, 0, &a));
	close(p.fd);
}

struct closer_arg {
	int fd;
	int ret;
};

static void *alloc_thread(void *p)
{
	struct closer_arg *arg = p;

	arg->ret = rp_alloc(arg->fd, PG, 0, 0, NULL);
	return NULL;
}

/*
 * close() of the fd by another thread ends the wait with EBADF; the
 * waiter is gone, the file is released, and nothing leaks.
 */
TEST_F(wait, close_by_other_thread_ends_wait_with_ebadf)
{
	struct closer_arg arg = { .ret = 1 };
	struct respool_stats st;
	pthread_t t;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	arg.fd = rp_open();
	ASSERT_LE(0, arg.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, alloc_thread, &arg));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	ASSERT_EQ(0, close(arg.fd));
	EXPECT_EQ(0, waiters_become(self->sfd, 0, 10000))
		TH_LOG("the waiter of a closed file is still queued");
	if (stats(self).waiters) {
		/* Let it out, or the join below would hang. */
		free_one(self, 0);
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EBADF, arg.ret);
	st = stats(self);
	EXPECT_EQ(1, st.waits);
	EXPECT_EQ(1, st.wait_interrupts);
	EXPECT_EQ(1, hist_sum(&st));
	EXPECT_EQ(2, st.clients);	/* @sfd and @fd: the closed one is released */
	/* No ghost waiter: a freed block stays free. */
	ASSERT_EQ(0, free_one(self, 1));
	st = stats(self);
	EXPECT_EQ(60 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(PG, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(0, st.handoffs);
}

/* Closing a dup of the fd does not end the wait: the file is still open. */
TEST_F(wait, close_of_a_dup_keeps_the_wait)
{
	struct closer_arg arg = { .ret = 1 };
	pthread_t t;
	int dup_fd;

	ASSERT_EQ(0, pool_setup(self, POOL_64K));
	ASSERT_EQ(0, fill(self, 16, PG));
	arg.fd = rp_open();
	ASSERT_LE(0, arg.fd);
	dup_fd = dup(arg.fd);
	ASSERT_LE(0, dup_fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, alloc_thread, &arg));
	ASSERT_EQ(1, waiters_become(self->sfd, 1, 10000));
	ASSERT_EQ(0, close(dup_fd));
	usleep(100000);
	EXPECT_EQ(1, stats(self).waiters);
	ASSERT_EQ(0, free_one(self, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, arg.ret);
	close(arg.fd);
}

/* Per-process results of the stress. */
struct stress_report {
	int idx;
	int done;
	uint64_t ok, timeouts, errors;
	int last_err;
	uint64_t max_wait_ns;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void stress_child(int idx, int iters, int wfd)
{
	struct stress_report r = { .idx = idx };
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (idx + 1);
	struct respool_alloc a;
	int i, fd = rp_open();

	if (fd < 0)
		_exit(2);
	for (i = 0; i < iters; i++) {
		uint64_t size = (1 + xorshift(&seed) % 8) * PG -
				xorshift(&seed) % 64;
		uint32_t flags = 0, tmo = 0;
		uint64_t t0, dt;
		int ret;

		if (xorshift(&seed) % 3 == 0) {
			flags = RESPOOL_ALLOC_TIMEOUT;
			tmo = 1 + xorshift(&seed) % 40;
		}
		t0 = rp_now_ns();
		ret = rp_alloc(fd, size, flags, tmo, &a);
		dt = rp_now_ns() - t0;
		if (dt > r.max_wait_ns)
			r.max_wait_ns = dt;
		if (ret == -ETIMEDOUT && flags) {
			r.timeouts++;
			continue;
		}
		if (ret) {
			r.errors++;
			r.last_err = ret;
			continue;
		}
		r.ok++;
		if (i % 16 == 0) {
			void *p = rp_map(fd, &a);

			if (p != MAP_FAILED) {
				memset(p, idx, a.block_size);
				munmap(p, a.block_size);
			}
		}
		if (xorshift(&seed) % 4 == 0)
			sched_yield();
		if (rp_free(fd, a.handle)) {
			r.errors++;
			r.last_err = -errno;
		}
	}
	close(fd);
	r.done = 1;
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
	_exit(0);
}

/*
 * 32 processes alloc and free random sizes (up to 32K) with random
 * timeouts on a 64K pool. All must finish (nobody starves), and after
 * they exit every byte is accounted for.
 */
TEST_F_TIMEOUT(wait, stress_32_processes_account_every_byte, 180)
{
	const int nproc = 32;
	int iters = 1000, i, got = 0;
	uint64_t ok = 0, timeouts = 0, max_ns = 0, t0, deadline;
	struct stress_report rs[32];
	struct respool_stats st;
	const char *env = getenv("RESPOOL_STRESS_ITERS");

	if (env)
		iters = atoi(env);
	ASSERT_EQ(0, pool_setup(self, "capacity=64K idle_trim_ms=0"));
	close(self->fd);
	self->fd = -1;
	memset(rs, 0, sizeof(rs));
	t0 = rp_now_ns();
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			child_setup(self->wfd, -1);
			stress_child(i, iters, self->wfd);
		}
		self->kids[self->nkids++] = pid;
	}
	deadline = t0 + 150 * SEC;
	while (got < nproc && rp_now_ns() < deadline) {
		struct stress_report r;
		struct pollfd p = { .fd = self->rfd, .events = POLLIN };

		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (read(self->rfd, &r, sizeof(r)) != sizeof(r))
			break;
		if (r.idx >= 0 && r.idx < nproc) {
			rs[r.idx] = r;
			got++;
		}
	}
	TH_LOG("%d processes x %d alloc/free in %llu ms", nproc, iters,
	       (unsigned long long)(rp_now_ns() - t0) / MS);
	for (i = 0; i < nproc; i++) {
		EXPECT_TRUE(rs[i].done)
			TH_LOG("process %d never finished: starved or hung", i);
		EXPECT_EQ(0, rs[i].errors)
			TH_LOG("process %d: %llu errors, last %d", i,
			       (unsigned long long)rs[i].errors, rs[i].last_err);
		TH_LOG("process %2d: %4llu ok, %3llu timeouts, max wait %6llu us",
		       i, (unsigned long long)rs[i].ok,
		       (unsigned long long)rs[i].timeouts,
		       (unsigned long long)rs[i].max_wait_ns / 1000);
		ok += rs[i].ok;
		timeouts += rs[i].timeouts;
		if (rs[i].max_wait_ns > max_ns)
			max_ns = rs[i].max_wait_ns;
	}
	for (i = 0; i < self->nkids; i++) {
		waitpid(self->kids[i], NULL, 0);
		self->kids[i] = 0;
	}
	st = stats(self);
	TH_LOG("waits %llu, timeouts %llu, handoffs %llu, max wait %llu us",
	       (unsigned long long)st.waits,
	       (unsigned long long)st.wait_timeouts,
	       (unsigned long long)st.handoffs,
	       (unsigned long long)st.max_wait_ns / 1000);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.requested_bytes);
	EXPECT_LE(st.reserve_bytes + st.pcpu_bytes, 64 * RP_KiB);
	EXPECT_EQ(ok, st.allocs);
	EXPECT_EQ(st.allocs, st.frees);
	EXPECT_EQ(timeouts, st.wait_timeouts);
	EXPECT_EQ(st.waits, hist_sum(&st));
	EXPECT_LT(0, st.waits);
	EXPECT_LT(0, st.max_wait_ns);
	EXPECT_GE(max_ns, st.max_wait_ns)
		TH_LOG("kernel max wait %llu ns above the longest ALLOC seen, %llu ns",
		       (unsigned long long)st.max_wait_ns,
		       (unsigned long long)max_ns);
	/* Everything free can be had again: the pool is whole. */
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(0, fill(self, 1, 64 * RP_KiB));
}

TEST_HARNESS_MAIN
