// SPDX-License-Identifier: GPL-2.0
/*
 * pool_test - the pool's policy: threshold reuse, best fit, eviction,
 * reserve_max, idle trim, the shrinker, quotas, zeroing, and accounting
 * under concurrent churn.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define PG	RP_PAGE

FIXTURE(pool) {
	int fd;
};

FIXTURE_SETUP(pool)
{
	const char *why = rp_skip_reason();

	self->fd = -1;
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(pool)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Reload with @params and open a file; returns the fd. */
static int fresh_pool(struct __test_metadata *_metadata, int *fd,
		      const char *params)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	ASSERT_EQ(0, rp_reload(params)) TH_LOG("reload %s", params);
	*fd = rp_open();
	ASSERT_LE(0, *fd);
	return *fd;
}

static struct respool_stats stats(int fd)
{
	struct respool_stats st;

	rp_stats(fd, &st);
	return st;
}

/* Every ALLOC and FREE of the test on one CPU, so on one CPU's cache. */
static void pin_to_cpu0(struct __test_metadata *_metadata)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
}

TEST_F(pool, threshold_75_reuses_within_threshold)
{
	struct respool_alloc a;
	struct respool_stats st;

	fresh_pool(_metadata, &self->fd, "threshold=75 pcpu_cache_blocks=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG, 0, 0, &a));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	/* 3 of 4 pages is 75%: fits. */
	ASSERT_EQ(0, rp_alloc(self->fd, 3 * PG, 0, 0, &a));
	EXPECT_EQ(4 * PG, a.block_size);
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	/* 2 of 4 is 50%: a fresh block of exactly 2 pages. */
	ASSERT_EQ(0, rp_alloc(self->fd, 2 * PG, 0, 0, &a));
	EXPECT_EQ(2 * PG, a.block_size);
	st = stats(self->fd);
	EXPECT_EQ(1, st.reserve_hits);
	EXPECT_EQ(2, st.fresh_allocs);
	EXPECT_EQ(1, st.threshold_rejects);
}

TEST_F(pool, threshold_100_takes_exact_sizes_only)
{
	struct respool_alloc a;
	struct respool_stats st;

	fresh_pool(_metadata, &self->fd, "threshold=100 pcpu_cache_blocks=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG, 0, 0, &a));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG - 1, 0, 0, &a));
	EXPECT_EQ(4 * PG, a.block_size);	/* same page count: exact */
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(0, rp_alloc(self->fd, 3 * PG, 0, 0, &a));
	EXPECT_EQ(3 * PG, a.block_size);
	st = stats(self->fd);
	EXPECT_EQ(1, st.reserve_hits);
	EXPECT_EQ(2, st.fresh_allocs);
	EXPECT_EQ(1, st.threshold_rejects);
}

TEST_F(pool, threshold_0_takes_any_larger_block)
{
	struct respool_alloc a;
	struct respool_stats st;

	fresh_pool(_metadata, &self->fd, "threshold=0 pcpu_cache_blocks=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 16 * PG, 0, 0, &a));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(0, rp_alloc(self->fd, 1, 0, 0, &a));
	EXPECT_EQ(16 * PG, a.block_size);
	st = stats(self->fd);
	EXPECT_EQ(1, st.reserve_hits);
	EXPECT_EQ(0, st.threshold_rejects);
	EXPECT_EQ(1, st.requested_bytes);
	EXPECT_EQ(16 * PG, st.in_use_bytes);
}

TEST_F(pool, best_fit_picks_the_smallest_fitting_block)
{
	static const unsigned int pages[] = { 8, 2, 4, 16 };
	struct respool_alloc a[4], b;
	unsigned int i;

	fresh_pool(_metadata, &self->fd, "threshold=0 pcpu_cache_blocks=0");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, pages[i] * PG, 0, 0, &a[i]));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));
	ASSERT_EQ(0, rp_alloc(self->fd, 3 * PG, 0, 0, &b));
	EXPECT_EQ(4 * PG, b.block_size);
	ASSERT_EQ(0, rp_alloc(self->fd, 3 * PG, 0, 0, &b));
	EXPECT_EQ(8 * PG, b.block_size);
	ASSERT_EQ(0, rp_alloc(self->fd, 1 * PG, 0, 0, &b));
	EXPECT_EQ(2 * PG, b.block_size);
	EXPECT_EQ(3, stats(self->fd).reserve_hits);
}

TEST_F(pool, per_cpu_cache_serves_the_same_cpu)
{
	struct respool_alloc a;
	struct respool_stats st;
	int i;

	pin_to_cpu0(_metadata);
	fresh_pool(_metadata, &self->fd, "pcpu_cache_blocks=16");
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, rp_alloc(self->fd, 2 * PG, 0, 0, &a));
		ASSERT_EQ(0, rp_free(self->fd, a.handle));
	}
	st = stats(self->fd);
	EXPECT_EQ(1, st.fresh_allocs);
	EXPECT_EQ(9, st.pcpu_hits);
	EXPECT_EQ(2 * PG, st.pcpu_bytes);
	EXPECT_EQ(0, st.reserve_bytes);
	EXPECT_EQ(10, st.allocs);
	EXPECT_EQ(10, st.frees);
}

/*
 * Two blocks of one size in this CPU's cache: ALLOC gets the one freed
 * last (warm, and no scan). Another file then gets that same block,
 * cleared, so a FREE by one file and an ALLOC by the next always reuse
 * across files, which is what the benchmark's cross-client pairs time.
 */
TEST_F(pool, per_cpu_cache_hands_out_the_newest_block)
{
	struct respool_stats before, after;
	struct respool_alloc a[2], b;
	struct respool_info info;
	void *p;
	int i, other;

	pin_to_cpu0(_metadata);
	fresh_pool(_metadata, &self->fd, "pcpu_cache_blocks=16");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, rp_alloc(self->fd, 2 * PG, 0, 0, &a[i]));
		p = rp_map(self->fd, &a[i]);
		ASSERT_NE(MAP_FAILED, p);
		rp_fill(p, a[i].block_size, 0x5150 + i);
		munmap(p, a[i].block_size);
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));

	ASSERT_EQ(0, rp_alloc(self->fd, 2 * PG, 0, 0, &b));
	ASSERT_EQ(0, rp_info(self->fd, b.handle, &info));
	EXPECT_EQ(0, info.flags & RESPOOL_INFO_ZEROED);
	p = rp_map(self->fd, &b);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(rp_check(p, b.block_size, 0x5151))
		TH_LOG("not the block freed last");
	munmap(p, b.block_size);
	ASSERT_EQ(0, rp_free(self->fd, b.handle));

	/* Files taking turns: every ALLOC is a hit on a block to clear. */
	other = rp_open();
	ASSERT_LE(0, other);
	before = stats(other);
	for (i = 0; i < 4; i++) {
		int fd = i % 2 ? self->fd : other;

		ASSERT_EQ(0, rp_alloc(fd, 2 * PG, 0, 0, &b));
		ASSERT_EQ(0, rp_info(fd, b.handle, &info));
		EXPECT_EQ(RESPOOL_INFO_ZEROED, info.flags) TH_LOG("turn %d", i);
		ASSERT_EQ(0, rp_free(fd, b.handle));
	}
	after = stats(other);
	EXPECT_EQ(before.pcpu_hits + 4, after.pcpu_hits);
	EXPECT_EQ(before.zeroed_bytes + 4 * 2 * PG, after.zeroed_bytes);
	close(other);
}

TEST_F(pool, full_per_cpu_cache_spills_to_the_reserve)
{
	struct respool_alloc a[8];
	struct respool_stats st;
	int i;

	pin_to_cpu0(_metadata);
	fresh_pool(_metadata, &self->fd, "pcpu_cache_blocks=4");
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a[i]));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));
	st = stats(self->fd);
	EXPECT_GE(4 * PG, st.pcpu_bytes);
	EXPECT_EQ(8 * PG, st.pcpu_bytes + st.reserve_bytes);
	EXPECT_EQ(8, st.blocks_free);
}

TEST_F(pool, eviction_makes_room_oldest_first_without_waiting)
{
	static const unsigned int pages[] = { 1, 2, 6, 7 };
	struct respool_alloc a[4], b;
	struct respool_stats st;
	unsigned int i;

	/* 16 pages of capacity, all allocated; free the first three. */
	fresh_pool(_metadata, &self->fd,
		   "capacity=64K threshold=100 pcpu_cache_blocks=0");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, pages[i] * PG, 0, 0, &a[i]));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));
	/* 3 pages fit nothing: evict the 1- and 2-page blocks (oldest). */
	ASSERT_EQ(0, rp_alloc(self->fd, 3 * PG, RESPOOL_ALLOC_NONBLOCK, 0, &b));
	st = stats(self->fd);
	EXPECT_EQ(2, st.evictions);
	EXPECT_EQ(3 * PG, st.evicted_bytes);
	EXPECT_EQ(6 * PG, st.reserve_bytes);
	EXPECT_EQ(0, st.waits);
	EXPECT_EQ(10 * PG, st.in_use_bytes);
	EXPECT_GE(st.capacity, st.in_use_bytes + st.reserve_bytes);
}

TEST_F(pool, exhausted_pool_refuses_nonblock_with_eagain)
{
	struct respool_alloc a;
	struct respool_stats before, after;

	fresh_pool(_metadata, &self->fd, "capacity=64K pcpu_cache_blocks=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 64 * RP_KiB, 0, 0, &a));
	before = stats(self->fd);
	EXPECT_EQ(-EAGAIN, rp_alloc(self->fd, PG, RESPOOL_ALLOC_NONBLOCK, 0,
				    NULL));
	after = stats(self->fd);
	EXPECT_EQ(before.in_use_bytes, after.in_use_bytes);
	EXPECT_EQ(before.allocs, after.allocs);
	EXPECT_EQ(0, after.waits);
}

TEST_F(pool, reserve_max_bounds_the_free_bytes)
{
	struct respool_alloc a[8];
	struct respool_stats st;
	int i;

	fresh_pool(_metadata, &self->fd,
		   "capacity=1M reserve_max=16K pcpu_cache_blocks=0");
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a[i]));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));
	st = stats(self->fd);
	EXPECT_EQ(16 * RP_KiB, st.reserve_bytes);
	EXPECT_EQ(4, st.blocks_free);
	EXPECT_EQ(0, st.in_use_bytes);
}

TEST_F(pool, reserve_max_counts_the_per_cpu_caches)
{
	struct respool_alloc a[16];
	struct respool_stats st;
	int i;

	fresh_pool(_metadata, &self->fd,
		   "capacity=1M reserve_max=32K pcpu_cache_blocks=16");
	/*
	 * On one CPU: each spill to the reserve trims reserve and caches
	 * together to reserve_max, and no other CPU's cache fills up
	 * afterwards without a trim. (A free that lands in another CPU's
	 * cache takes no pool lock and trims nothing: across CPUs the bound
	 * holds within the caches' budgets, not exactly.)
	 */
	pin_to_cpu0(_metadata);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a[i]));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));
	st = stats(self->fd);
	EXPECT_GE(32 * RP_KiB, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_LT(0, st.reserve_bytes + st.pcpu_bytes);
}

TEST_F(pool, idle_free_blocks_are_trimmed)
{
	struct respool_alloc a[4];
	struct respool_stats st;
	uint64_t end;
	int i;

	fresh_pool(_metadata, &self->fd, "idle_trim_ms=200");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a[i]));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));
	/* The trim runs from a workqueue: up to 20 s on a loaded guest. */
	end = rp_now_ns() + 20 * 1000000000ULL;
	do {
		st = stats(self->fd);
		if (!st.reserve_bytes && !st.pcpu_bytes)
			break;
		usleep(100000);
	} while (rp_now_ns() < end);
	EXPECT_EQ(0, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(4 * PG, st.idle_trimmed_bytes);
	EXPECT_EQ(0, st.blocks_free);
}

TEST_F(pool, idle_trim_zero_keeps_free_blocks)
{
	struct respool_alloc a;
	struct respool_stats st;

	fresh_pool(_metadata, &self->fd, "idle_trim_ms=0");
	ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	usleep(500000);
	st = stats(self->fd);
	EXPECT_EQ(PG, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(0, st.idle_trimmed_bytes);
}

TEST_F(pool, shrinker_releases_free_blocks_under_pressure)
{
	struct respool_alloc a[64];
	struct respool_stats st;
	int i, dc;

	fresh_pool(_metadata, &self->fd, "capacity=16M idle_trim_ms=0");
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, 16 * PG, 0, 0, &a[i]));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, rp_free(self->fd, a[i].handle));
	st = stats(self->fd);
	ASSERT_EQ(64 * 16 * PG, st.reserve_bytes + st.pcpu_bytes);

	/* drop_caches runs every shrinker, ours included. */
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, dc);
	ASSERT_EQ(2, write(dc, "2\n", 2));
	close(dc);
	st = stats(self->fd);
	EXPECT_EQ(0, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(64 * 16 * PG, st.shrinker_released_bytes);
}

/*
 * The peak of in-use bytes sees hand-outs that take no pool lock: a block
 * taken from this CPU's cache and given back before anyone reads the
 * statistics still raised it.
 */
TEST_F(pool, peak_in_use_counts_per_cpu_hits)
{
	struct respool_alloc a;
	struct respool_stats st;

	pin_to_cpu0(_metadata);
	fresh_pool(_metadata, &self->fd, "capacity=1M pcpu_cache_blocks=16 idle_trim_ms=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 64 * RP_KiB, 0, 0, &a));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	st = stats(self->fd);
	ASSERT_EQ(64 * RP_KiB, st.pcpu_bytes);
	/* The reset brings the peak down to what is in use now: nothing. */
	if (rp_ctl((const char *[]){ "reset", NULL }))
		SKIP(return, "respoolctl reset is not available");
	EXPECT_EQ(0, stats(self->fd).peak_in_use_bytes);
	ASSERT_EQ(0, rp_alloc(self->fd, 64 * RP_KiB, 0, 0, &a));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	st = stats(self->fd);
	EXPECT_EQ(1, st.pcpu_hits);
	EXPECT_EQ(64 * RP_KiB, st.peak_in_use_bytes)
		TH_LOG("the peak missed a per-CPU hit");
}

/*
 * When a block that someone pinned is released (never reused), the pool
 * may fall back within a lowered capacity; the per-CPU caches must take
 * blocks again from then on. over_capacity used to be recomputed only by
 * the reserve's trim, which that release skips.
 */
TEST_F(pool, caches_come_back_after_a_pinned_block_ends_the_overrun)
{
	struct respool_alloc a, b, c;
	struct respool_stats st;
	struct iovec iov;
	int pfd[2];
	void *pa;

	pin_to_cpu0(_metadata);
	fresh_pool(_metadata, &self->fd, "capacity=64K pcpu_cache_blocks=16 idle_trim_ms=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 16 * RP_KiB, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(self->fd, 16 * RP_KiB, 0, 0, &b));
	ASSERT_EQ(0, rp_alloc(self->fd, 32 * RP_KiB, 0, 0, &c));
	pa = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, pa);
	memset(pa, 'A', 64);
	ASSERT_EQ(0, pipe(pfd));
	iov.iov_base = pa;
	iov.iov_len = 64;
	ASSERT_EQ(64, vmsplice(pfd[1], &iov, 1, 0));
	munmap(pa, 16 * RP_KiB);

	/* 64K owned over a 56K capacity: nothing may be cached. */
	if (rp_ctl((const char *[]){ "config", "set", "capacity", "56K", NULL }))
		SKIP(return, "respoolctl is not built");
	/* The pinned block is released, not reused: 48K owned, within. */
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	st = stats(self->fd);
	ASSERT_EQ(48 * RP_KiB, st.in_use_bytes);
	ASSERT_EQ(0, st.reserve_bytes + st.pcpu_bytes);
	/* Within capacity again: the next free goes to this CPU's cache. */
	ASSERT_EQ(0, rp_free(self->fd, b.handle));
	st = stats(self->fd);
	EXPECT_EQ(16 * RP_KiB, st.pcpu_bytes)
		TH_LOG("the caches still refuse blocks within the capacity");
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(pool, client_quota_gives_edquot_without_waiting)
{
	struct respool_alloc a, b;
	int other;

	fresh_pool(_metadata, &self->fd, "client_quota=16K");
	ASSERT_EQ(0, rp_alloc(self->fd, 12 * RP_KiB, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * RP_KiB, 0, 0, &b));
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, 1, 0, 0, NULL));
	/* Another file has a quota of its own. */
	other = rp_open();
	ASSERT_LE(0, other);
	EXPECT_EQ(0, rp_alloc(other, 16 * RP_KiB, 0, 0, NULL));
	close(other);
	ASSERT_EQ(0, rp_free(self->fd, b.handle));
	EXPECT_EQ(0, rp_alloc(self->fd, 4 * RP_KiB, 0, 0, NULL));
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, 4 * RP_KiB, 0, 0, NULL));
}

TEST_F(pool, reuse_by_another_file_is_zeroed)
{
	struct respool_alloc a, b;
	struct respool_info info;
	struct respool_stats before, after;
	void *p;
	int other;

	fresh_pool(_metadata, &self->fd, "pcpu_cache_blocks=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG, 0, 0, &a));
	p = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, a.block_size, 0xabcdef);
	munmap(p, a.block_size);
	ASSERT_EQ(0, rp_free(self->fd, a.handle));

	other = rp_open();
	ASSERT_LE(0, other);
	before = stats(other);
	ASSERT_EQ(0, rp_alloc(other, 4 * PG, 0, 0, &b));
	after = stats(other);
	EXPECT_EQ(before.reserve_hits + 1, after.reserve_hits);
	EXPECT_EQ(before.zeroed_bytes + 4 * PG, after.zeroed_bytes);
	ASSERT_EQ(0, rp_info(other, b.handle, &info));
	EXPECT_EQ(RESPOOL_INFO_ZEROED, info.flags);
	p = rp_map(other, &b);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(rp_all_zero(p, b.block_size))
		TH_LOG("another file's bytes leaked into a reused block");
	munmap(p, b.block_size);
	close(other);
}

TEST_F(pool, reuse_by_the_same_file_is_not_zeroed)
{
	struct respool_alloc a, b;
	struct respool_info info;
	struct respool_stats before, after;
	void *p;

	fresh_pool(_metadata, &self->fd, "pcpu_cache_blocks=0");
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG, 0, 0, &a));
	p = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, a.block_size, 0x1234);
	munmap(p, a.block_size);
	ASSERT_EQ(0, rp_free(self->fd, a.handle));

	before = stats(self->fd);
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG, 0, 0, &b));
	after = stats(self->fd);
	EXPECT_EQ(before.reserve_hits + 1, after.reserve_hits);
	EXPECT_EQ(before.zeroed_bytes, after.zeroed_bytes);
	ASSERT_EQ(0, rp_info(self->fd, b.handle, &info));
	EXPECT_EQ(0, info.flags & RESPOOL_INFO_ZEROED);
	p = rp_map(self->fd, &b);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(rp_check(p, b.block_size, 0x1234));
	munmap(p, b.block_size);
}

/* Several processes churn; the parent samples the gauges meanwhile. */
TEST_F_TIMEOUT(pool, capacity_invariant_holds_under_concurrent_churn, 120)
{
	struct respool_stats st;
	pid_t pids[4];
	int i, status, samples = 0;

	fresh_pool(_metadata, &self->fd,
		   "capacity=256K threshold=50 pcpu_cache_blocks=4");
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			struct respool_alloc held[4] = { 0 };
			int fd = rp_open(), n;

			srand(getpid());
			for (n = 0; n < 400; n++) {
				int k = rand() % 4;

				if (held[k].handle)
					rp_free(fd, held[k].handle);
				held[k].handle = 0;
				rp_alloc(fd, (rand() % 8 + 1) * PG,
					 RESPOOL_ALLOC_NONBLOCK, 0, &held[k]);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		while (waitpid(pids[i], &status, WNOHANG) == 0) {
			ASSERT_EQ(0, rp_stats(self->fd, &st));
			ASSERT_GE(st.capacity, st.in_use_bytes + st.reserve_bytes +
					       st.pcpu_bytes)
				TH_LOG("in_use %llu reserve %llu pcpu %llu",
				       (unsigned long long)st.in_use_bytes,
				       (unsigned long long)st.reserve_bytes,
				       (unsigned long long)st.pcpu_bytes);
			samples++;
		}
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	st = stats(self->fd);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.requested_bytes);
	EXPECT_EQ(st.allocs, st.frees);
	TH_LOG("%d samples, %llu allocs", samples,
	       (unsigned long long)st.allocs);
}

/*
 * Every process writes its own pattern into each block it holds and
 * checks it before freeing: a block handed to two clients at once, or
 * data crossing between blocks, breaks a pattern.
 */
TEST_F_TIMEOUT(pool, no_block_is_handed_out_twice_under_churn, 240)
{
	pid_t pids[4];
	int i, status;

	fresh_pool(_metadata, &self->fd,
		   "capacity=1M threshold=25 pcpu_cache_blocks=4");
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			struct { struct respool_alloc a; void *p; uint64_t seed; }
				held[4] = { 0 };
			int fd = rp_open(), n, bad = 0;

			srand(getpid());
			for (n = 0; n < 200 && !bad; n++) {
				int k = rand() % 4;

				if (held[k].p) {
					if (!rp_check(held[k].p,
						      held[k].a.block_size,
						      held[k].seed))
						bad = 1;
					munmap(held[k].p, held[k].a.block_size);
					rp_free(fd, held[k].a.handle);
					held[k].p = NULL;
				}
				if (rp_alloc(fd, (rand() % 12 + 1) * PG,
					     RESPOOL_ALLOC_TIMEOUT, 2000,
					     &held[k].a))
					continue;
				held[k].p = rp_map(fd, &held[k].a);
				if (held[k].p == MAP_FAILED) {
					bad = 2;
					break;
				}
				held[k].seed = ((uint64_t)getpid() << 32) | n;
				rp_fill(held[k].p, held[k].a.block_size,
					held[k].seed);
			}
			_exit(bad);
		}
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status))
			TH_LOG("child %d saw a foreign pattern (%d)", i,
			       WEXITSTATUS(status));
	}
	EXPECT_EQ(0, stats(self->fd).in_use_bytes);
}

static int tracefs_write(const char *file, const char *val)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

TEST_F(pool, tracepoints_show_alloc_reuse_free_and_release)
{
	static const char *const want[] = {
		"respool_alloc: pool=0 client=", "from=fresh zeroed=1",
		"from=pcpu", "from=reserve", "respool_free: pool=0 client=",
		"respool_release: pool=0 block=4096 why=evict",
	};
	struct respool_alloc a, b, c;
	char buf[65536];
	unsigned int i;
	ssize_t n;
	int fd;

	if (access("/sys/kernel/tracing/events/respool", F_OK))
		SKIP(return, "no tracefs or no respool events");
	fresh_pool(_metadata, &self->fd,
		   "capacity=16K threshold=100 pcpu_cache_blocks=1");
	ASSERT_EQ(0, tracefs_write("tracing_on", "0"));
	ASSERT_EQ(0, tracefs_write("trace", ""));
	ASSERT_EQ(0, tracefs_write("events/respool/enable", "1"));
	ASSERT_EQ(0, tracefs_write("tracing_on", "1"));

	ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a));	/* fresh */
	ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &b));	/* fresh */
	ASSERT_EQ(0, rp_free(self->fd, a.handle));	/* to a cache */
	ASSERT_EQ(0, rp_free(self->fd, b.handle));	/* spills one */
	/* One of them comes back from a cache or the reserve... */
	ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(self->fd, PG, 0, 0, &b));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(0, rp_free(self->fd, b.handle));
	/* ...and 16K fits nothing: the free 4K blocks are evicted. */
	ASSERT_EQ(0, rp_alloc(self->fd, 16 * RP_KiB, 0, 0, &c));

	ASSERT_EQ(0, tracefs_write("tracing_on", "0"));
	ASSERT_EQ(0, tracefs_write("events/respool/enable", "0"));
	fd = open("/sys/kernel/tracing/trace", O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		EXPECT_NE(NULL, strstr(buf, want[i]))
			TH_LOG("no \"%s\" in the trace:\n%s", want[i], buf);
}

TEST_HARNESS_MAIN
