// SPDX-License-Identifier: GPL-2.0
/*
 * lib_test - librespool (tools/lib): pointers instead of handles, free by
 * pointer, close frees everything, thread safety on one pool, and the
 * NONBLOCK and timeout flags passed through to the kernel.
 *
 * Built from ../../tools/lib/librespool.c directly, so that the selftests
 * do not depend on `make tools` having run first.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "respool_util.h"
#include "librespool.h"

FIXTURE(lib) {
	struct respool *pool;
};

FIXTURE_SETUP(lib)
{
	const char *why = rp_skip_reason();

	self->pool = NULL;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=8M max_block_size=1M"));
	self->pool = respool_open();
	ASSERT_NE(NULL, self->pool) TH_LOG("respool_open: %s", strerror(errno));
}

FIXTURE_TEARDOWN(lib)
{
	respool_close(self->pool);
}

/* Stats through the library's own pool. */
static struct respool_stats lib_stats(struct __test_metadata *_metadata,
				      struct respool *pool)
{
	struct respool_stats st;

	ASSERT_EQ(0, respool_stats(pool, &st));
	return st;
}

TEST_F(lib, alloc_returns_mapped_zeroed_writable_block)
{
	struct respool_stats st;
	unsigned char *p;
	size_t i;

	p = respool_alloc(self->pool, 10000, 0, 0);
	ASSERT_NE(NULL, p) TH_LOG("respool_alloc: %s", strerror(errno));
	EXPECT_EQ(0, (uintptr_t)p % RP_PAGE);
	EXPECT_EQ(3 * RP_PAGE, respool_usable_size(self->pool, p));
	EXPECT_TRUE(rp_all_zero(p, 3 * RP_PAGE));
	for (i = 0; i < 3 * RP_PAGE; i++)
		p[i] = (unsigned char)(i * 7);
	for (i = 0; i < 3 * RP_PAGE; i++)
		if (p[i] != (unsigned char)(i * 7))
			break;
	EXPECT_EQ(3 * RP_PAGE, i) TH_LOG("byte %zu did not read back", i);

	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.allocs);
	EXPECT_EQ(1, st.blocks_in_use);
	EXPECT_EQ(3 * RP_PAGE, st.in_use_bytes);
	EXPECT_EQ(10000, st.requested_bytes);
	EXPECT_EQ(0, respool_free(self->pool, p));
}

TEST_F(lib, alloc_sizes_round_up_to_pages)
{
	static const size_t sizes[] = { 1, 4096, 4097, 65536, 1 << 20 };
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t want = (sizes[i] + RP_PAGE - 1) / RP_PAGE * RP_PAGE;
		unsigned char *p = respool_alloc(self->pool, sizes[i], 0, 0);

		ASSERT_NE(NULL, p) TH_LOG("size %zu: %s", sizes[i],
					  strerror(errno));
		EXPECT_EQ(want, respool_usable_size(self->pool, p));
		/* The last byte of the block is mapped and writable. */
		p[want - 1] = 0xa5;
		EXPECT_EQ(0xa5, p[want - 1]);
		EXPECT_EQ(0, respool_free(self->pool, p));
	}
}

TEST_F(lib, free_by_pointer_returns_block)
{
	struct respool_stats st;
	void *p = respool_alloc(self->pool, 64 * RP_KiB, 0, 0);

	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, respool_free(self->pool, p));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.frees);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, respool_usable_size(self->pool, p));
	/* Freed twice: the second is unknown. */
	EXPECT_EQ(-ENOENT, respool_free(self->pool, p));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.frees);
}

TEST_F(lib, free_unknown_pointer_is_enoent_and_changes_nothing)
{
	struct respool_stats before, after;
	struct respool *other;
	char *p, *q, on_stack;
	void *heap = malloc(64);

	p = respool_alloc(self->pool, 3 * RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	other = respool_open();
	ASSERT_NE(NULL, other);
	q = respool_alloc(other, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, q);
	before = lib_stats(_metadata, self->pool);

	EXPECT_EQ(-ENOENT, respool_free(self->pool, heap));
	EXPECT_EQ(-ENOENT, respool_free(self->pool, &on_stack));
	/* Inside a block but not its start. */
	EXPECT_EQ(-ENOENT, respool_free(self->pool, p + RP_PAGE));
	EXPECT_EQ(-ENOENT, respool_free(self->pool, p + 1));
	/* Another pool's block. */
	EXPECT_EQ(-ENOENT, respool_free(self->pool, q));
	/* NULL is a no-op, as with free(3); a NULL pool is EINVAL. */
	EXPECT_EQ(0, respool_free(self->pool, NULL));
	EXPECT_EQ(-EINVAL, respool_free(NULL, p));

	after = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.frees, after.frees);
	EXPECT_EQ(before.in_use_bytes, after.in_use_bytes);
	EXPECT_EQ(before.blocks_in_use, after.blocks_in_use);
	/* Both blocks are still there and usable. */
	p[0] = 1;
	q[0] = 2;
	EXPECT_EQ(0, respool_free(self->pool, p));
	EXPECT_EQ(0, respool_free(other, q));
	respool_close(other);
	free(heap);
}

TEST_F(lib, close_frees_everything)
{
	struct respool_stats st;
	struct respool *pool = respool_open();
	int i;

	ASSERT_NE(NULL, pool);
	for (i = 1; i <= 5; i++) {
		char *p = respool_alloc(pool, i * 16 * RP_KiB, 0, 0);

		ASSERT_NE(NULL, p);
		p[0] = (char)i;
	}
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(5, st.blocks_in_use);
	EXPECT_EQ(15 * 16 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(2, st.clients);

	respool_close(pool);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.requested_bytes);
	EXPECT_EQ(5, st.frees);
	EXPECT_EQ(1, st.clients);
	respool_close(NULL);
}

/* More blocks than the first table holds, freed in a scrambled order. */
TEST_F(lib, many_live_blocks_free_in_any_order)
{
	enum { N = 300 };
	char *p[N];
	struct respool_stats st;
	int i, j;

	for (i = 0; i < N; i++) {
		p[i] = respool_alloc(self->pool, RP_PAGE, 0, 0);
		ASSERT_NE(NULL, p[i]) TH_LOG("block %d: %s", i, strerror(errno));
		*(int *)p[i] = i;
	}
	for (i = 0; i < N; i++) {
		j = (i * 97) % N;	/* 97 is prime to N: a permutation */
		EXPECT_EQ(j, *(int *)p[j]);
		EXPECT_EQ(RP_PAGE, respool_usable_size(self->pool, p[j]));
		EXPECT_EQ(0, respool_free(self->pool, p[j]))
			TH_LOG("block %d", j);
	}
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(N, st.frees);
	EXPECT_EQ(0, st.blocks_in_use);
}

struct churn_arg {
	struct respool *pool;
	unsigned int id;
	unsigned int iters;
	unsigned int errors;
	unsigned int allocs;
};

static void *churn_thread(void *data)
{
	enum { LIVE = 4 };
	struct churn_arg *arg = data;
	void *live[LIVE] = { 0 };
	size_t len[LIVE] = { 0 };
	uint64_t seed[LIVE] = { 0 };
	unsigned int rnd = arg->id * 2654435761u + 1, i, k;

	for (i = 0; i < arg->iters; i++) {
		k = i % LIVE;
		if (live[k]) {
			if (!rp_check(live[k], len[k], seed[k]))
				arg->errors++;
			if (respool_free(arg->pool, live[k]))
				arg->errors++;
			live[k] = NULL;
		}
		rnd = rnd * 1103515245u + 12345u;
		len[k] = (1 + (rnd >> 16) % 16) * RP_PAGE;
		live[k] = respool_alloc(arg->pool, len[k], 0, 5000);
		if (!live[k]) {
			arg->errors++;
			continue;
		}
		arg->allocs++;
		if (respool_usable_size(arg->pool, live[k]) < len[k])
			arg->errors++;
		seed[k] = ((uint64_t)arg->id << 32) | i;
		rp_fill(live[k], len[k], seed[k]);
	}
	for (k = 0; k < LIVE; k++) {
		if (!live[k])
			continue;
		if (!rp_check(live[k], len[k], seed[k]))
			arg->errors++;
		if (respool_free(arg->pool, live[k]))
			arg->errors++;
	}
	return NULL;
}

TEST_F(lib, four_threads_share_one_pool)
{
	enum { THREADS = 4, ITERS = 400 };
	struct churn_arg arg[THREADS];
	pthread_t tid[THREADS];
	struct respool_stats st;
	unsigned int i, allocs = 0;

	for (i = 0; i < THREADS; i++) {
		arg[i] = (struct churn_arg){
			.pool = self->pool, .id = i + 1, .iters = ITERS,
		};
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, churn_thread,
					    &arg[i]));
	}
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
		EXPECT_EQ(0, arg[i].errors) TH_LOG("thread %u: %u errors",
						   i, arg[i].errors);
		allocs += arg[i].allocs;
	}
	EXPECT_EQ(THREADS * ITERS, allocs);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(allocs, st.allocs);
	EXPECT_EQ(allocs, st.frees);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
}

TEST_F(lib, bad_arguments_are_einval_or_e2big)
{
	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, RP_PAGE, 1U << 7, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(NULL, RP_PAGE, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, 2 * RP_MiB, 0, 0));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0, lib_stats(_metadata, self->pool).allocs);
	EXPECT_EQ(-EINVAL, respool_stats(NULL, NULL));
	EXPECT_EQ(-1, respool_fd(NULL));
	EXPECT_LE(0, respool_fd(self->pool));
}

TEST(open_missing_path_is_enoent)
{
	errno = 0;
	EXPECT_EQ(NULL, respool_open_path("/dev/respool-does-not-exist"));
	EXPECT_EQ(ENOENT, errno);
}

/* A pool of 1 MiB, taken whole by one block. */
FIXTURE(full) {
	struct respool *pool;
	void *hog;
};

FIXTURE_SETUP(full)
{
	const char *why = rp_skip_reason();

	self->pool = NULL;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=1M max_block_size=1M"));
	self->pool = respool_open();
	ASSERT_NE(NULL, self->pool);
	self->hog = respool_alloc(self->pool, RP_MiB, 0, 0);
	ASSERT_NE(NULL, self->hog);
}

FIXTURE_TEARDOWN(full)
{
	respool_close(self->pool);
}

TEST_F(full, nonblock_is_eagain)
{
	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, RP_PAGE,
				      RESPOOL_ALLOC_NONBLOCK, 0));
	EXPECT_EQ(EAGAIN, errno);
	/* A timeout flag given without a timeout is dropped, not EINVAL. */
	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, RP_PAGE,
				      RESPOOL_ALLOC_NONBLOCK |
				      RESPOOL_ALLOC_TIMEOUT, 0));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(full, timeout_is_etimedout)
{
	struct respool_stats st;
	uint64_t t0 = rp_now_ns(), ms;

	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, RP_PAGE, 0, 200));
	EXPECT_EQ(ETIMEDOUT, errno);
	ms = (rp_now_ns() - t0) / 1000000;
	EXPECT_LE(150, ms) TH_LOG("waited %llu ms, expected ~200",
				  (unsigned long long)ms);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.waits);
	EXPECT_EQ(1, st.wait_timeouts);
	EXPECT_EQ(0, st.waiters);
}

struct waiter_arg {
	struct respool *pool;
	void *p;
	int err;
};

static void *waiter_thread(void *data)
{
	struct waiter_arg *w = data;

	w->p = respool_alloc(w->pool, 512 * RP_KiB, 0, 10000);
	w->err = w->p ? 0 : errno;
	return NULL;
}

/*
 * One thread waits in respool_alloc() while another frees through the same
 * pool: the library holds no lock across the ioctl.
 */
TEST_F(full, waiting_thread_is_served_by_free_on_same_pool)
{
	struct waiter_arg w = { .pool = self->pool };
	pthread_t tid;

	ASSERT_EQ(0, pthread_create(&tid, NULL, waiter_thread, &w));
	ASSERT_EQ(1, rp_wait_for_waiters(1));
	EXPECT_EQ(0, respool_free(self->pool, self->hog));
	ASSERT_EQ(0, pthread_join(tid, NULL));
	ASSERT_NE(NULL, w.p) TH_LOG("waiter failed: %s", strerror(w.err));
	EXPECT_EQ(512 * RP_KiB, respool_usable_size(self->pool, w.p));
	/* The hog's bytes come back to this file: no zeroing needed, but
	 * the block must be mapped and writable. */
	memset(w.p, 0x5a, 512 * RP_KiB);
	EXPECT_EQ(0, respool_free(self->pool, w.p));
}

TEST_HARNESS_MAIN
