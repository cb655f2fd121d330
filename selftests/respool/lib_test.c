// SPDX-License-Identifier: GPL-2.0
/*
 * lib_test - librespool (tools/lib): pointers instead of handles, free by
 * pointer, close frees everything, thread safety on one pool, the
 * NONBLOCK and timeout flags passed through to the kernel, the batch,
 * INFO and EXPORT wrappers, the versions, and the one error convention of
 * librespool.h (NULL + errno, or -errno with errno set too); and the fast
 * path: freed blocks kept for reuse without a system call, the keep
 * protocol against waiters, blocks the kernel takes back, magazine bounds,
 * close and thread exit with blocks kept.
 *
 * make check runs it twice: as it is (the fast path, where the module has
 * it) and with RESPOOL_FASTPATH=0 (lib_test_ioctl.sh). Tests of the common
 * behaviour hold on both paths: they count a block kept for reuse as given
 * back (given_back(), live_blocks()); the fast path's own tests skip
 * without it.
 *
 * Built from ../../tools/lib/librespool.c directly, so that the selftests
 * do not depend on `make tools` having run first.
 */
#include <pthread.h>
#include <sys/resource.h>

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

/*
 * The same on both paths: a block the library keeps for reuse is still in
 * use to the kernel (kept_blocks of blocks_in_use) but given back to the
 * caller, as a FREE'd one is.
 */
static uint64_t live_blocks(const struct respool_stats *st)
{
	return st->blocks_in_use - st->kept_blocks;
}

static uint64_t live_bytes(const struct respool_stats *st)
{
	return st->in_use_bytes - st->kept_bytes;
}

static uint64_t given_back(const struct respool_stats *st)
{
	return st->frees + st->kept_blocks;
}

/*
 * Whether respool_open() takes the fast path here: not switched off, and
 * the module maps a control page (probed on a file of the test's own).
 */
static int fast_path_on(void)
{
	const char *env = getenv("RESPOOL_FASTPATH");
	void *ctl;
	int fd;

	if (env && !strcmp(env, "0"))
		return 0;
	fd = rp_open();
	if (fd < 0)
		return 0;
	ctl = mmap(NULL, RESPOOL_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, RESPOOL_CTL_OFFSET);
	if (ctl != MAP_FAILED)
		munmap(ctl, RESPOOL_CTL_SIZE);
	close(fd);
	return ctl != MAP_FAILED;
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
	EXPECT_EQ(1, given_back(&st));
	EXPECT_EQ(0, live_blocks(&st));
	EXPECT_EQ(0, live_bytes(&st));
	EXPECT_EQ(0, respool_usable_size(self->pool, p));
	/* Freed twice: the second is unknown, kept or not. */
	EXPECT_EQ(-ENOENT, respool_free(self->pool, p));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, given_back(&st));
	EXPECT_EQ(0, live_blocks(&st));
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
	EXPECT_EQ(N, given_back(&st));
	EXPECT_EQ(0, live_blocks(&st));
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

/*
 * 1,600 cycles through the ioctl path (lib_test_ioctl.sh) take most of
 * the harness's default 30 s on the debug kernel in a loaded TCG guest.
 */
TEST_F_TIMEOUT(lib, four_threads_share_one_pool, 180)
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
	/*
	 * Every thread has exited: what it kept went back at its exit. On
	 * the fast path the kernel saw fewer ALLOCs (the hits) than the
	 * library served.
	 */
	st = lib_stats(_metadata, self->pool);
	if (fast_path_on()) {
		EXPECT_GE(allocs, st.allocs);
	} else {
		EXPECT_EQ(allocs, st.allocs);
	}
	EXPECT_EQ(st.allocs, st.frees);
	EXPECT_EQ(0, st.kept_blocks);
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
	errno = 0;
	EXPECT_EQ(-EINVAL, respool_stats(NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-EINVAL, respool_stats(self->pool, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-EINVAL, respool_fd(NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_LE(0, respool_fd(self->pool));
}

/* Page-rounded size, as the kernel hands out blocks. */
static size_t pages(size_t size)
{
	return (size + RP_PAGE - 1) / RP_PAGE * RP_PAGE;
}

TEST_F(lib, alloc_batch_maps_writable_blocks_and_free_batch_returns_them)
{
	enum { N = 6 };
	const size_t sizes[N] = {
		1, RP_PAGE, 10000, 64 * RP_KiB, 3 * RP_PAGE + 1, RP_MiB,
	};
	size_t in_use = 0, requested = 0;
	struct respool_stats st;
	void *ptrs[N];
	int i, j;

	ASSERT_EQ(N, respool_alloc_batch(self->pool, ptrs, sizes, N, 0, 0))
		TH_LOG("respool_alloc_batch: %s", strerror(errno));
	for (i = 0; i < N; i++) {
		ASSERT_NE(NULL, ptrs[i]) TH_LOG("entry %d", i);
		EXPECT_EQ(0, (uintptr_t)ptrs[i] % RP_PAGE);
		EXPECT_EQ(pages(sizes[i]), respool_usable_size(self->pool, ptrs[i]))
			TH_LOG("entry %d: size %zu", i, sizes[i]);
		EXPECT_TRUE(rp_all_zero(ptrs[i], pages(sizes[i])));
		rp_fill(ptrs[i], pages(sizes[i]), 1000 + i);
		for (j = 0; j < i; j++)
			EXPECT_NE(ptrs[j], ptrs[i]);
		in_use += pages(sizes[i]);
		requested += sizes[i];
	}
	for (i = 0; i < N; i++)
		EXPECT_TRUE(rp_check(ptrs[i], pages(sizes[i]), 1000 + i))
			TH_LOG("entry %d did not read back", i);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(N, st.allocs);
	EXPECT_EQ(N, st.blocks_in_use);
	EXPECT_EQ(in_use, st.in_use_bytes);
	EXPECT_EQ(requested, st.requested_bytes);

	EXPECT_EQ(N, respool_free_batch(self->pool, ptrs, N));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(N, st.frees);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.requested_bytes);
	for (i = 0; i < N; i++) {
		errno = 0;
		EXPECT_EQ(0, respool_usable_size(self->pool, ptrs[i]));
		EXPECT_EQ(ENOENT, errno);
	}
	/* Freed by the batch: gone for the single call too. */
	EXPECT_EQ(-ENOENT, respool_free(self->pool, ptrs[0]));
}

/* Blocks of a batch are ordinary blocks to every other call. */
TEST_F(lib, alloc_batch_blocks_work_with_free_info_and_close)
{
	const size_t sizes[4] = { RP_PAGE, 2 * RP_PAGE, 3 * RP_PAGE, 4 * RP_PAGE };
	struct respool *other = respool_open();
	struct respool_info info;
	struct respool_stats st;
	void *ptrs[4];

	ASSERT_NE(NULL, other);
	ASSERT_EQ(4, respool_alloc_batch(other, ptrs, sizes, 4, 0, 0));
	EXPECT_EQ(0, respool_free(other, ptrs[1]));
	ASSERT_EQ(0, respool_info(other, ptrs[2], &info));
	EXPECT_EQ(3 * RP_PAGE, info.size);
	EXPECT_EQ(3 * RP_PAGE, info.block_size);
	EXPECT_EQ(1, info.mapped);
	/* Another pool does not know them. */
	EXPECT_EQ(-ENOENT, respool_free(self->pool, ptrs[0]));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(3, live_blocks(&st));
	EXPECT_EQ(8 * RP_PAGE, live_bytes(&st));

	respool_close(other);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.requested_bytes);
	EXPECT_EQ(4, st.frees);
}

/* More entries than one ioctl takes: the library splits them. */
TEST_F(lib, batches_larger_than_batch_max)
{
	enum { N = RESPOOL_BATCH_MAX + 44 };
	static size_t sizes[N];
	static void *ptrs[N];
	struct respool_stats st;
	int i;

	for (i = 0; i < N; i++)
		sizes[i] = RP_PAGE;
	ASSERT_EQ(N, respool_alloc_batch(self->pool, ptrs, sizes, N, 0, 0))
		TH_LOG("respool_alloc_batch: %s", strerror(errno));
	for (i = 0; i < N; i++)
		*(int *)ptrs[i] = i;
	for (i = 0; i < N; i++)
		EXPECT_EQ(i, *(int *)ptrs[i]);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(N, st.blocks_in_use);
	EXPECT_EQ(N, respool_free_batch(self->pool, ptrs, N));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(N, st.frees);
}

/*
 * mmap() fails part-way (an address-space limit): the blocks the kernel
 * served but the library could not map are given back, not leaked.
 */
TEST_F(lib, alloc_batch_gives_back_blocks_it_cannot_map)
{
	const size_t sizes[4] = { RP_MiB, RP_MiB, RP_MiB, RP_MiB };
	struct rlimit old, lim;
	struct respool_stats st;
	void *ptrs[4], *probe;
	long vm = 0;
	char line[256];
	FILE *f;
	int ret;

	/*
	 * Fault in what the call itself needs before the limit is set; freed
	 * for real (respool_free_batch() never keeps), so nothing is kept.
	 */
	probe = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, probe);
	ASSERT_EQ(1, respool_free_batch(self->pool, &probe, 1));
	f = fopen("/proc/self/status", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "VmSize: %ld kB", &vm);
	fclose(f);
	ASSERT_LT(0, vm);
	ASSERT_EQ(0, getrlimit(RLIMIT_AS, &old));
	/* Room for two of the four blocks. */
	lim = old;
	lim.rlim_cur = (rlim_t)vm * 1024 + 2 * RP_MiB + RP_MiB / 2;
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &lim));
	ret = respool_alloc_batch(self->pool, ptrs, sizes, 4, 0, 0);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	EXPECT_EQ(2, ret) TH_LOG("expected 2 blocks mapped: %s", strerror(errno));
	EXPECT_NE(NULL, ptrs[0]);
	EXPECT_NE(NULL, ptrs[1]);
	EXPECT_EQ(NULL, ptrs[2]);
	EXPECT_EQ(NULL, ptrs[3]);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(2, st.blocks_in_use) TH_LOG("blocks not mapped must go back");
	EXPECT_EQ(2 * RP_MiB, st.in_use_bytes);
	EXPECT_EQ(4, respool_free_batch(self->pool, ptrs, 4));

	/* Room for none: the call fails, and nothing is held. */
	lim.rlim_cur = (rlim_t)vm * 1024 + RP_MiB / 2;
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &lim));
	errno = 0;
	ret = respool_alloc_batch(self->pool, ptrs, sizes, 4, 0, 0);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_EQ(ENOMEM, errno);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.requested_bytes);
	EXPECT_EQ(st.allocs, st.frees);
}

TEST_F(lib, free_batch_stops_at_the_first_unknown_entry)
{
	const size_t sizes[3] = { RP_PAGE, RP_PAGE, RP_PAGE };
	struct respool_stats before, st;
	void *ptrs[3], *list[4];
	char on_stack;

	ASSERT_EQ(3, respool_alloc_batch(self->pool, ptrs, sizes, 3, 0, 0));
	before = lib_stats(_metadata, self->pool);

	/* Unknown first: nothing is done. */
	list[0] = &on_stack;
	list[1] = ptrs[0];
	errno = 0;
	EXPECT_EQ(-ENOENT, respool_free_batch(self->pool, list, 2));
	EXPECT_EQ(ENOENT, errno);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.frees, st.frees);
	EXPECT_EQ(RP_PAGE, respool_usable_size(self->pool, ptrs[0]));

	/* NULL counts as done; the unknown one stops the batch there. */
	list[0] = NULL;
	list[1] = ptrs[0];
	list[2] = ptrs[0];	/* named twice: freed already */
	list[3] = ptrs[1];
	EXPECT_EQ(2, respool_free_batch(self->pool, list, 4));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.frees + 1, st.frees);
	EXPECT_EQ(0, respool_usable_size(self->pool, ptrs[0]));
	EXPECT_EQ(RP_PAGE, respool_usable_size(self->pool, ptrs[1]));
	*(char *)ptrs[1] = 1;	/* still mapped */
	EXPECT_EQ(2, respool_free_batch(self->pool, ptrs + 1, 2));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.blocks_in_use);
}

/* Bad input to the new calls: EINVAL both ways, and the pool unchanged. */
TEST_F(lib, batch_bad_input_is_einval_and_changes_nothing)
{
	size_t sizes[2] = { RP_PAGE, RP_PAGE }, zero[2] = { RP_PAGE, 0 };
	struct respool_stats before, after;
	struct respool_info info;
	void *ptrs[2], *live;

	live = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, live);
	before = lib_stats(_metadata, self->pool);

#define EXPECT_EINVAL(call) do {					\
		errno = 0;						\
		EXPECT_EQ(-EINVAL, (call)) TH_LOG("%s", #call);		\
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", #call);		\
	} while (0)
	ptrs[0] = ptrs[1] = &info;
	EXPECT_EINVAL(respool_alloc_batch(NULL, ptrs, sizes, 2, 0, 0));
	EXPECT_EQ(NULL, ptrs[0]);
	EXPECT_EQ(NULL, ptrs[1]);
	EXPECT_EINVAL(respool_alloc_batch(self->pool, ptrs, sizes, 0, 0, 0));
	EXPECT_EINVAL(respool_alloc_batch(self->pool, NULL, sizes, 2, 0, 0));
	EXPECT_EINVAL(respool_alloc_batch(self->pool, ptrs, NULL, 2, 0, 0));
	EXPECT_EINVAL(respool_alloc_batch(self->pool, ptrs, sizes, 2, 1U << 7, 0));
	/* A size of 0 anywhere: refused before the first entry is served. */
	EXPECT_EINVAL(respool_alloc_batch(self->pool, ptrs, zero, 2, 0, 0));
	EXPECT_EQ(NULL, ptrs[0]);
	EXPECT_EINVAL(respool_free_batch(NULL, &live, 1));
	EXPECT_EINVAL(respool_free_batch(self->pool, NULL, 1));
	EXPECT_EINVAL(respool_free_batch(self->pool, &live, 0));
	EXPECT_EINVAL(respool_info(NULL, live, &info));
	EXPECT_EINVAL(respool_info(self->pool, live, NULL));
	EXPECT_EINVAL(respool_free(NULL, live));
	EXPECT_EINVAL(respool_module_version(NULL, 16));
#undef EXPECT_EINVAL
	errno = 0;
	EXPECT_EQ(0, respool_usable_size(NULL, live));
	EXPECT_EQ(EINVAL, errno);

	after = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.allocs, after.allocs);
	EXPECT_EQ(before.frees, after.frees);
	EXPECT_EQ(before.blocks_in_use, after.blocks_in_use);
	EXPECT_EQ(before.in_use_bytes, after.in_use_bytes);
	EXPECT_EQ(RP_PAGE, respool_usable_size(self->pool, live));
	EXPECT_EQ(0, respool_free(self->pool, live));
}

/* The old calls follow the rule too: -errno and errno, or 0 and errno. */
TEST_F(lib, unknown_pointer_sets_errno_everywhere)
{
	struct respool_info info;
	char on_stack;

	errno = 0;
	EXPECT_EQ(-ENOENT, respool_free(self->pool, &on_stack));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(0, respool_usable_size(self->pool, &on_stack));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(-ENOENT, respool_info(self->pool, &on_stack, &info));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(-ENOENT, respool_info(self->pool, NULL, &info));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(lib, info_equals_the_ioctl)
{
	struct respool_info info, raw;
	char *p = respool_alloc(self->pool, 10000, 0, 0);

	ASSERT_NE(NULL, p);
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, respool_info(self->pool, p, &info));
	memset(&raw, 0, sizeof(raw));
	raw.handle = info.handle;
	ASSERT_EQ(0, ioctl(respool_fd(self->pool), RESPOOL_IOC_INFO, &raw));
	EXPECT_EQ(0, memcmp(&raw, &info, sizeof(raw)));
	EXPECT_NE(0, info.handle);
	EXPECT_EQ(10000, info.size);
	EXPECT_EQ(3 * RP_PAGE, info.block_size);
	EXPECT_EQ(respool_usable_size(self->pool, p), info.block_size);
	EXPECT_EQ(1, info.mapped);
	EXPECT_EQ(RESPOOL_INFO_ZEROED, info.flags);
	/* The offset is the block's: a second mapping of it sees our bytes. */
	p[5] = 42;
	{
		char *q = mmap(NULL, RP_PAGE, PROT_READ, MAP_SHARED,
			       respool_fd(self->pool), (off_t)info.offset);

		ASSERT_NE(MAP_FAILED, q);
		EXPECT_EQ(42, q[5]);
		ASSERT_EQ(0, respool_info(self->pool, p, &info));
		EXPECT_EQ(2, info.mapped);
		munmap(q, RP_PAGE);
	}
	EXPECT_EQ(0, respool_free(self->pool, p));
	errno = 0;
	EXPECT_EQ(-ENOENT, respool_info(self->pool, p, &info));
	EXPECT_EQ(ENOENT, errno);
}

/* The first line of the tree's VERSION file, found from the test binary. */
static int tree_version(char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;
	FILE *f;

	if (n <= 0)
		return -1;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return -1;
	strcpy(slash, "/../../VERSION");
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, (int)size, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return buf[0] ? 0 : -1;
}

/*
 * respool_export(): the block leaves the pool's table and its mapping,
 * and lives on in a dma-buf of the block's size with the bytes written
 * through the pointer; it is back in the pool once the fd and the dma-buf
 * mapping are gone.
 */
TEST_F(lib, export_turns_a_block_into_a_dmabuf_fd)
{
	struct respool_stats st;
	uint64_t *p, *q;
	int fd;

	p = respool_alloc(self->pool, 64 * RP_KiB, 0, 0);
	ASSERT_NE(NULL, p);
	rp_fill(p, 64 * RP_KiB, 16);
	fd = respool_export(self->pool, p, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("respool_export: %s", strerror(-fd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	/* No longer a block of the pool, and no longer mapped there. */
	EXPECT_EQ(0, respool_usable_size(self->pool, p));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, respool_free(self->pool, p));
	EXPECT_EQ(-ENOENT, respool_export(self->pool, p, O_RDWR));
	EXPECT_EQ(-1, msync(p, RP_PAGE, MS_ASYNC));
	EXPECT_EQ(ENOMEM, errno) TH_LOG("the block is still mapped at %p", p);

	EXPECT_EQ(64 * RP_KiB, lseek(fd, 0, SEEK_END));
	q = mmap(NULL, 64 * RP_KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_TRUE(rp_check(q, 64 * RP_KiB, 16));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.exports);
	EXPECT_EQ(0, st.export_returns);
	EXPECT_EQ(64 * RP_KiB, st.exported_bytes);
	EXPECT_EQ(64 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(0, st.frees);

	/* The fd closed, the mapping still holds the block. */
	EXPECT_EQ(0, close(fd));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.export_returns);
	EXPECT_EQ(64 * RP_KiB, st.exported_bytes);
	EXPECT_EQ(0, munmap(q, 64 * RP_KiB));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.export_returns);
	EXPECT_EQ(0, st.exported_bytes);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(1, st.frees);
}

/* A read-only export: the dma-buf maps for reading, not for writing. */
TEST_F(lib, export_rdonly_maps_read_only)
{
	char *p, *q;
	int fd;

	p = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	strcpy(p, "read me");
	fd = respool_export(self->pool, p, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("respool_export: %s", strerror(-fd));
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, RP_PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	q = mmap(NULL, RP_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_STREQ("read me", q);
	munmap(q, RP_PAGE);
	close(fd);
}

/* Bad flags, unknown pointers, no free fd: the block stays the pool's. */
TEST_F(lib, export_failures_leave_the_block_mapped_in_the_pool)
{
	static const int bad_flags[] = {
		O_WRONLY, O_RDWR | O_WRONLY, O_RDWR | O_NONBLOCK,
		O_RDONLY | O_APPEND, -1,
	};
	struct respool_stats before, after;
	struct rlimit old, low;
	char on_stack, *p;
	unsigned int i;
	int fds[64], n = 0, fd;

	p = respool_alloc(self->pool, 2 * RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	strcpy(p, "still here");
	before = lib_stats(_metadata, self->pool);
	for (i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		errno = 0;
		EXPECT_EQ(-EINVAL, respool_export(self->pool, p, bad_flags[i]))
			TH_LOG("fd_flags %#x", bad_flags[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(-EINVAL, respool_export(NULL, p, O_RDWR));
	EXPECT_EQ(-ENOENT, respool_export(self->pool, NULL, O_RDWR));
	EXPECT_EQ(-ENOENT, respool_export(self->pool, &on_stack, O_RDWR));
	EXPECT_EQ(-ENOENT, respool_export(self->pool, p + RP_PAGE, O_RDWR));

	/* Every descriptor taken: EMFILE from the kernel. */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	low = old;
	low.rlim_cur = 32;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	while (n < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[n++] = fd;
	errno = 0;
	EXPECT_EQ(-EMFILE, respool_export(self->pool, p, O_RDWR | O_CLOEXEC));
	EXPECT_EQ(EMFILE, errno);
	while (n)
		close(fds[--n]);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));

	after = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.exports, after.exports);
	EXPECT_EQ(0, after.exported_bytes);
	EXPECT_EQ(before.in_use_bytes, after.in_use_bytes);
	EXPECT_EQ(2 * RP_PAGE, respool_usable_size(self->pool, p));
	EXPECT_STREQ("still here", p);
	/* It still exports; with the fd closed, it is back in the pool. */
	fd = respool_export(self->pool, p, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("respool_export: %s", strerror(-fd));
	close(fd);
	after = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.exports + 1, after.exports);
	EXPECT_EQ(before.export_returns + 1, after.export_returns);
	EXPECT_EQ(0, after.in_use_bytes);
}

TEST(versions_are_the_trees)
{
	char want[64], sys[64] = "", got[RESPOOL_VERSION_LEN], small[2] = "x";
	const char *why = rp_skip_reason();
	FILE *f;
	int len;

	ASSERT_EQ(0, tree_version(want, sizeof(want)));
	ASSERT_NE(NULL, respool_version());
	EXPECT_STREQ(want, respool_version());
	if (why)
		SKIP(return, "%s", why);

	f = fopen("/sys/module/respool/version", "r");
	ASSERT_NE(NULL, f) TH_LOG("the module shows no version: %s",
				  strerror(errno));
	ASSERT_NE(NULL, fgets(sys, sizeof(sys), f));
	fclose(f);
	sys[strcspn(sys, "\n")] = 0;
	len = respool_module_version(got, sizeof(got));
	ASSERT_EQ((int)strlen(sys), len) TH_LOG("respool_module_version: %d", len);
	EXPECT_STREQ(sys, got);
	EXPECT_STREQ(want, got);
	/* Too small a buffer: ERANGE, buffer unchanged. */
	errno = 0;
	EXPECT_EQ(-ERANGE, respool_module_version(small, sizeof(small)));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_STREQ("x", small);

	/* Not loaded: ENOENT. */
	ASSERT_EQ(0, rp_unload());
	errno = 0;
	EXPECT_EQ(-ENOENT, respool_module_version(got, sizeof(got)));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, rp_load(NULL));
}

TEST(open_missing_path_is_enoent)
{
	errno = 0;
	EXPECT_EQ(NULL, respool_open_path("/dev/respool-does-not-exist"));
	EXPECT_EQ(ENOENT, errno);
}

TEST(open_pool_opens_the_named_pools_node)
{
	const char *why = rp_skip_reason();
	struct respool_stats st = { .size = sizeof(st) };
	struct respool *named, *dflt;
	void *p;

	if (why)
		SKIP(return, "%s", why);
	errno = 0;
	EXPECT_EQ(NULL, respool_open_pool("Bad/name"));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, respool_open_pool("nosuch"));
	EXPECT_EQ(ENOENT, errno);

	/* respoolctl, not Python's YNL: quick enough for the debug kernel. */
	rp_ctl((const char *[]){ "pool", "del", "libtest", NULL });
	ASSERT_EQ(0, rp_ctl((const char *[]){ "pool", "add", "libtest",
					      "capacity", "1M", "mode", "0666",
					      NULL }));
	named = respool_open_pool("libtest");
	ASSERT_NE(NULL, named) TH_LOG("open: %s", strerror(errno));
	dflt = respool_open_pool("default");
	ASSERT_NE(NULL, dflt);
	p = respool_alloc(named, 65536, 0, 0);
	ASSERT_NE(NULL, p);
	/* The file's pool is the named one: its capacity, its bytes. */
	ASSERT_EQ(0, respool_stats(named, &st));
	EXPECT_EQ(1048576, st.capacity);
	EXPECT_EQ(65536, st.in_use_bytes);
	ASSERT_EQ(0, respool_stats(dflt, &st));
	EXPECT_NE(1048576, st.capacity);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, respool_free(named, p));
	respool_close(named);
	respool_close(dflt);
	EXPECT_EQ(0, rp_ctl((const char *[]){ "pool", "del", "libtest",
					      NULL }));
}

/*
 * The fast path. A pool of 1 MiB; each test skips where respool_open()
 * does not take the fast path (RESPOOL_FASTPATH=0, or a module without
 * it). @ctl is the test's own mapping of the pool's control page, the same
 * page the library maps, to read slot words and hits.
 */
FIXTURE(fast) {
	struct respool *pool;
	struct respool_ctl *ctl;
};

FIXTURE_SETUP(fast)
{
	const char *why = rp_skip_reason();

	self->pool = NULL;
	self->ctl = MAP_FAILED;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=1M max_block_size=1M"));
	if (!fast_path_on())
		SKIP(return, "the fast path is off (RESPOOL_FASTPATH=0, or the module has no control page)");
	self->pool = respool_open();
	ASSERT_NE(NULL, self->pool);
	self->ctl = mmap(NULL, RESPOOL_CTL_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, respool_fd(self->pool), RESPOOL_CTL_OFFSET);
	ASSERT_NE(MAP_FAILED, self->ctl);
}

FIXTURE_TEARDOWN(fast)
{
	if (self->ctl != MAP_FAILED)
		munmap(self->ctl, RESPOOL_CTL_SIZE);
	respool_close(self->pool);
}

/* The block's handle, through INFO; 0 if @p is not a live block. */
static uint64_t handle_of(struct respool *pool, const void *p)
{
	struct respool_info info;

	return respool_info(pool, p, &info) ? 0 : info.handle;
}

static uint32_t slot_state(const struct respool_ctl *ctl, uint64_t handle)
{
	return __atomic_load_n(&ctl->slots[handle], __ATOMIC_SEQ_CST) &
	       RESPOOL_SLOT_STATE_MASK;
}

/*
 * Free, then alloc of the same size: the same block at the same address,
 * its bytes as left, no ALLOC and no FREE; the kernel counts it as kept
 * while it is, and the library counts the hit in the control page.
 */
TEST_F(fast, free_then_alloc_is_a_hit_without_a_system_call)
{
	struct respool_stats before, st;
	struct respool_info info;
	uint64_t handle;
	void *p, *q;

	p = respool_alloc(self->pool, 3 * RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	handle = handle_of(self->pool, p);
	ASSERT_NE(0, handle);
	ASSERT_GT(self->ctl->nr_slots, handle);
	EXPECT_EQ(RESPOOL_SLOT_INUSE, slot_state(self->ctl, handle));
	rp_fill(p, 3 * RP_PAGE, 77);
	before = lib_stats(_metadata, self->pool);

	EXPECT_EQ(0, respool_free(self->pool, p));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(RESPOOL_SLOT_KEPT, slot_state(self->ctl, handle));
	EXPECT_EQ(1, st.kept_blocks);
	EXPECT_EQ(3 * RP_PAGE, st.kept_bytes);
	EXPECT_EQ(before.frees, st.frees) TH_LOG("the free went to the kernel");
	/* Kept is freed to the caller: every call says so. */
	errno = 0;
	EXPECT_EQ(0, respool_usable_size(self->pool, p));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, respool_info(self->pool, p, &info));
	EXPECT_EQ(-ENOENT, respool_export(self->pool, p, O_RDWR));
	EXPECT_EQ(-ENOENT, respool_free(self->pool, p));
	EXPECT_EQ(1, lib_stats(_metadata, self->pool).kept_blocks);

	q = respool_alloc(self->pool, 3 * RP_PAGE - 100, 0, 0);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(p, q) TH_LOG("the kept block was not reused");
	EXPECT_TRUE(rp_check(q, 3 * RP_PAGE, 77)) TH_LOG("a hit keeps the bytes");
	EXPECT_EQ(RESPOOL_SLOT_INUSE, slot_state(self->ctl, handle));
	EXPECT_EQ(1, __atomic_load_n(&self->ctl->hits, __ATOMIC_RELAXED));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.allocs, st.allocs) TH_LOG("the hit went to the kernel");
	EXPECT_EQ(before.frees, st.frees);
	EXPECT_EQ(0, st.kept_blocks);
	EXPECT_EQ(0, st.kept_bytes);
	EXPECT_EQ(1, st.blocks_in_use);
	/* A live block again, for every call. */
	EXPECT_EQ(3 * RP_PAGE, respool_usable_size(self->pool, q));
	ASSERT_EQ(0, respool_info(self->pool, q, &info));
	EXPECT_EQ(handle, info.handle);
	EXPECT_EQ(0, respool_free(self->pool, q));
}

/* Only a block of the right size is a hit: not smaller, not twice over. */
TEST_F(fast, a_hit_fits_need_to_twice_need)
{
	struct respool_stats before, st;
	void *p, *q, *r;

	p = respool_alloc(self->pool, 4 * RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, respool_free(self->pool, p));
	before = lib_stats(_metadata, self->pool);
	/* Larger than the kept block, and less than half of it: the kernel. */
	q = respool_alloc(self->pool, 5 * RP_PAGE, 0, 0);
	ASSERT_NE(NULL, q);
	r = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, r);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.allocs + 2, st.allocs);
	EXPECT_EQ(1, st.kept_blocks);
	EXPECT_NE(p, q);
	EXPECT_NE(p, r);
	EXPECT_EQ(2, respool_free_batch(self->pool, (void *[]){ q, r }, 2));
	/* Exactly half of it: a hit. */
	q = respool_alloc(self->pool, 2 * RP_PAGE, 0, 0);
	EXPECT_EQ(p, q);
	EXPECT_EQ(4 * RP_PAGE, respool_usable_size(self->pool, q));
	EXPECT_EQ(before.allocs + 2, lib_stats(_metadata, self->pool).allocs);
	EXPECT_EQ(0, respool_free(self->pool, q));
}

/*
 * RESPOOL_FASTPATH=0, read at open: the same cycle goes to the kernel
 * every time, and nothing is kept.
 */
TEST_F(fast, fastpath_0_in_the_environment_turns_it_off)
{
	const char *old = getenv("RESPOOL_FASTPATH");
	struct respool_stats before, st;
	struct respool *pool;
	void *p;
	int i;

	ASSERT_EQ(0, setenv("RESPOOL_FASTPATH", "0", 1));
	pool = respool_open();
	if (old)
		setenv("RESPOOL_FASTPATH", old, 1);
	else
		unsetenv("RESPOOL_FASTPATH");
	ASSERT_NE(NULL, pool);
	before = lib_stats(_metadata, pool);
	for (i = 0; i < 3; i++) {
		p = respool_alloc(pool, RP_PAGE, 0, 0);
		ASSERT_NE(NULL, p);
		ASSERT_EQ(0, respool_free(pool, p));
	}
	st = lib_stats(_metadata, pool);
	EXPECT_EQ(before.allocs + 3, st.allocs);
	EXPECT_EQ(before.frees + 3, st.frees);
	EXPECT_EQ(0, st.kept_blocks);
	respool_close(pool);
}

/*
 * Another client's NONBLOCK ALLOC finds the pool full of our blocks, one
 * of them kept: the kernel takes it back and serves the request with it.
 * Our next respool_alloc() must not hand out the taken block: the library
 * sees TAKEN, drops it and gets a fresh one from the kernel, without the
 * bytes we left (the other client wrote over them).
 */
TEST_F(fast, a_block_taken_back_is_never_handed_out_again)
{
	struct respool_stats before, st;
	struct respool_alloc a;
	uint64_t handle;
	void *hog, *p, *q, *m;
	int fd;

	hog = respool_alloc(self->pool, RP_MiB - RP_PAGE, 0, 0);
	ASSERT_NE(NULL, hog);
	p = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	handle = handle_of(self->pool, p);
	rp_fill(p, RP_PAGE, 5);
	ASSERT_EQ(0, respool_free(self->pool, p));
	ASSERT_EQ(RESPOOL_SLOT_KEPT, slot_state(self->ctl, handle));
	before = lib_stats(_metadata, self->pool);

	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, &a))
		TH_LOG("the kept block was not taken back for a NONBLOCK ALLOC");
	EXPECT_EQ(RESPOOL_SLOT_TAKEN, slot_state(self->ctl, handle));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.takebacks + 1, st.takebacks);
	EXPECT_EQ(0, st.kept_blocks);
	m = rp_map(fd, &a);
	ASSERT_NE(MAP_FAILED, m);
	rp_fill(m, RP_PAGE, 6);
	munmap(m, RP_PAGE);
	ASSERT_EQ(0, rp_free(fd, a.handle));

	q = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, q);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.allocs + 2, st.allocs) TH_LOG("no ALLOC for our block");
	EXPECT_FALSE(rp_check(q, RP_PAGE, 5)) TH_LOG("the taken block's old bytes");
	EXPECT_FALSE(rp_check(q, RP_PAGE, 6)) TH_LOG("the other client's bytes");
	EXPECT_EQ(0, __atomic_load_n(&self->ctl->hits, __ATOMIC_RELAXED));
	EXPECT_EQ(RP_PAGE, respool_usable_size(self->pool, q));
	memset(q, 1, RP_PAGE);
	EXPECT_EQ(0, respool_free(self->pool, q));
	EXPECT_EQ(0, respool_free(self->pool, hog));
	close(fd);
}

struct raw_waiter {
	int fd;
	uint64_t size;
	int ret;
	struct respool_alloc a;
};

static void *raw_waiter_thread(void *data)
{
	struct raw_waiter *w = data;

	w->ret = rp_alloc(w->fd, w->size, RESPOOL_ALLOC_TIMEOUT, 20000, &w->a);
	return NULL;
}

/*
 * The keep protocol's undo: a waiter has published the pool page's
 * waiters and is held before it looks at any slot ("takeback_scan"). A
 * free now must not keep: it sees waiters after its barrier, takes the
 * block back from KEPT and FREEs it, and the waiter is served with it.
 */
TEST_F(fast, free_does_not_keep_while_a_waiter_is_published)
{
	struct raw_waiter w = { .size = RP_PAGE };
	const struct respool_shared *shared;
	struct respool_stats before, st;
	uint64_t handle;
	const char *why;
	pthread_t tid;
	void *hog, *p;

	why = rp_inject_skip_reason();
	if (why)
		SKIP(return, "%s", why);
	hog = respool_alloc(self->pool, RP_MiB - RP_PAGE, 0, 0);
	ASSERT_NE(NULL, hog);
	p = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	handle = handle_of(self->pool, p);
	shared = mmap(NULL, RESPOOL_SHARED_SIZE, PROT_READ, MAP_SHARED,
		      respool_fd(self->pool), RESPOOL_SHARED_OFFSET);
	ASSERT_NE(MAP_FAILED, shared);
	before = lib_stats(_metadata, self->pool);

	w.fd = rp_open();
	ASSERT_LE(0, w.fd);
	ASSERT_EQ(0, rp_inject("takeback_scan", "hold 1 15000"));
	ASSERT_EQ(0, pthread_create(&tid, NULL, raw_waiter_thread, &w));
	ASSERT_EQ(0, rp_inject_wait_held("takeback_scan", 1, 10000))
		TH_LOG("the waiter never reached takeback_scan");
	EXPECT_EQ(1, __atomic_load_n(&shared->waiters, __ATOMIC_SEQ_CST));

	EXPECT_EQ(0, respool_free(self->pool, p));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.kept_blocks) TH_LOG("kept while a waiter was published");
	EXPECT_EQ(before.frees + 1, st.frees) TH_LOG("the free was not a FREE");
	EXPECT_NE(RESPOOL_SLOT_KEPT, slot_state(self->ctl, handle));

	ASSERT_EQ(0, rp_inject("takeback_scan", "release"));
	ASSERT_EQ(0, pthread_join(tid, NULL));
	EXPECT_EQ(0, w.ret) TH_LOG("the waiter: %s", strerror(-w.ret));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.takebacks, st.takebacks) TH_LOG("served by a take-back, not the FREE");
	/* Nothing kept: the next allocation is the kernel's, and must wait. */
	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0));
	EXPECT_EQ(EAGAIN, errno);
	close(w.fd);
	munmap((void *)shared, RESPOOL_SHARED_SIZE);
	EXPECT_EQ(0, respool_free(self->pool, hog));
}

/* A slot marked idle by the kernel's trim pass is still ours to take. */
TEST_F(fast, a_block_marked_idle_is_still_a_hit)
{
	uint64_t handle;
	uint32_t w;
	void *p;

	p = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	handle = handle_of(self->pool, p);
	ASSERT_EQ(0, respool_free(self->pool, p));
	w = __atomic_load_n(&self->ctl->slots[handle], __ATOMIC_SEQ_CST);
	ASSERT_EQ(RESPOOL_SLOT_KEPT, w & RESPOOL_SLOT_STATE_MASK);
	__atomic_store_n(&self->ctl->slots[handle], w | RESPOOL_SLOT_IDLE,
			 __ATOMIC_SEQ_CST);
	EXPECT_EQ(p, respool_alloc(self->pool, RP_PAGE, 0, 0));
	EXPECT_EQ((w & ~RESPOOL_SLOT_STATE_MASK) | RESPOOL_SLOT_INUSE,
		  __atomic_load_n(&self->ctl->slots[handle], __ATOMIC_SEQ_CST));
	EXPECT_EQ(0, respool_free(self->pool, p));
}

/*
 * A thread's magazine holds at most 32 blocks and 16 MiB: past that, the
 * oldest goes back for real.
 */
TEST(fast_magazine_is_bounded)
{
	enum { N = 40 };
	const char *why = rp_skip_reason();
	struct respool_stats st;
	struct respool *pool;
	void *p[N];
	int i;

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=32M max_block_size=4M"));
	if (!fast_path_on())
		SKIP(return, "the fast path is off");
	pool = respool_open();
	ASSERT_NE(NULL, pool);
	/* Count: 40 pages freed, 32 kept, the 8 oldest FREE'd. */
	for (i = 0; i < N; i++) {
		p[i] = respool_alloc(pool, RP_PAGE, 0, 0);
		ASSERT_NE(NULL, p[i]);
	}
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, respool_free(pool, p[i]));
	ASSERT_EQ(0, respool_stats(pool, &st));
	EXPECT_EQ(32, st.kept_blocks);
	EXPECT_EQ(N - 32, st.frees);
	/* The newest are kept: the last one freed is the next hit. */
	EXPECT_EQ(p[N - 1], respool_alloc(pool, RP_PAGE, 0, 0));
	EXPECT_EQ(0, respool_free(pool, p[N - 1]));
	respool_close(pool);

	/* Bytes: five 4 MiB blocks freed, four (16 MiB) kept. */
	pool = respool_open();
	ASSERT_NE(NULL, pool);
	for (i = 0; i < 5; i++) {
		p[i] = respool_alloc(pool, 4 * RP_MiB, 0, 0);
		ASSERT_NE(NULL, p[i]);
	}
	ASSERT_EQ(0, respool_stats(pool, &st));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, respool_free(pool, p[i]));
	ASSERT_EQ(0, respool_stats(pool, &st));
	EXPECT_EQ(4, st.kept_blocks);
	EXPECT_EQ(16 * RP_MiB, st.kept_bytes);
	respool_close(pool);
}

/* Close with blocks kept: the file's close frees them, nothing stays in use. */
TEST_F(fast, close_with_kept_blocks_leaves_nothing_in_use)
{
	struct respool_stats st;
	struct respool *pool = respool_open();
	void *p[3];
	int i;

	ASSERT_NE(NULL, pool);
	for (i = 0; i < 3; i++) {
		p[i] = respool_alloc(pool, (i + 1) * RP_PAGE, 0, 0);
		ASSERT_NE(NULL, p[i]);
	}
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, respool_free(pool, p[i]));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(3, st.kept_blocks);
	respool_close(pool);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.kept_blocks);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(1, st.clients);
	/* The closed pool's mappings are gone too. */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, msync(p[i], RP_PAGE, MS_ASYNC));
		EXPECT_EQ(ENOMEM, errno);
	}
}

struct keeper_arg {
	struct respool *pool;
	pthread_barrier_t *bar;
	void *kept;
	void *later;
	uint64_t allocs_before, allocs_after;
	int err;
};

/*
 * Keeps a block of @pool, then waits while the main thread closes it and
 * opens another (perhaps at the same address); then allocates from the new
 * one, which must come from its own kernel file, not the stale magazine.
 */
static void *keeper_thread(void *data)
{
	struct keeper_arg *k = data;
	struct respool_stats st;

	k->kept = respool_alloc(k->pool, RP_PAGE, 0, 0);
	if (!k->kept || respool_free(k->pool, k->kept))
		k->err = 1;
	pthread_barrier_wait(k->bar);	/* kept */
	pthread_barrier_wait(k->bar);	/* closed, k->pool is the new one */
	if (respool_stats(k->pool, &st))
		k->err = 1;
	k->allocs_before = st.allocs;
	k->later = respool_alloc(k->pool, RP_PAGE, 0, 0);
	if (!k->later)
		k->err = 1;
	else
		memset(k->later, 3, RP_PAGE);
	if (respool_stats(k->pool, &st))
		k->err = 1;
	k->allocs_after = st.allocs;
	return NULL;
}

/*
 * respool_close() with another thread's blocks kept: they go with the
 * file, and that thread's stale magazine never serves a later pool.
 */
TEST_F(fast, close_kills_other_threads_magazines)
{
	struct keeper_arg k = { 0 };
	pthread_barrier_t bar;
	struct respool_stats st;
	pthread_t tid;

	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, 2));
	k.bar = &bar;
	k.pool = respool_open();
	ASSERT_NE(NULL, k.pool);
	ASSERT_EQ(0, pthread_create(&tid, NULL, keeper_thread, &k));
	pthread_barrier_wait(&bar);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.kept_blocks);
	respool_close(k.pool);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.blocks_in_use);
	k.pool = respool_open();
	ASSERT_NE(NULL, k.pool);
	pthread_barrier_wait(&bar);
	ASSERT_EQ(0, pthread_join(tid, NULL));
	EXPECT_EQ(0, k.err);
	EXPECT_EQ(k.allocs_before + 1, k.allocs_after)
		TH_LOG("served from a closed pool's magazine");
	EXPECT_EQ(RP_PAGE, respool_usable_size(k.pool, k.later));
	/* The thread exited with the block live: nothing kept, one in use. */
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(1, st.blocks_in_use);
	EXPECT_EQ(0, st.kept_blocks);
	EXPECT_EQ(0, respool_free(k.pool, k.later));
	respool_close(k.pool);
	pthread_barrier_destroy(&bar);
}

static void *keep_three_thread(void *data)
{
	struct respool *pool = data;
	void *p[3];
	int i;

	for (i = 0; i < 3; i++)
		p[i] = respool_alloc(pool, RP_PAGE, 0, 0);
	for (i = 0; i < 3; i++)
		respool_free(pool, p[i]);
	return NULL;
}

/* A thread that exits gives its kept blocks back with FREE. */
TEST_F(fast, thread_exit_gives_kept_blocks_back)
{
	struct respool_stats before, st;
	pthread_t tid;

	before = lib_stats(_metadata, self->pool);
	ASSERT_EQ(0, pthread_create(&tid, NULL, keep_three_thread, self->pool));
	ASSERT_EQ(0, pthread_join(tid, NULL));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.allocs + 3, st.allocs);
	EXPECT_EQ(before.frees + 3, st.frees);
	EXPECT_EQ(0, st.kept_blocks);
	EXPECT_EQ(0, st.blocks_in_use);
}

/* A pool's kept blocks serve that pool only, two pools on one thread. */
TEST_F(fast, two_pools_keep_apart)
{
	struct respool *other = respool_open();
	struct respool_stats before, st;
	void *p, *q;

	ASSERT_NE(NULL, other);
	p = respool_alloc(self->pool, RP_PAGE, 0, 0);
	q = respool_alloc(other, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, respool_free(self->pool, p));
	ASSERT_EQ(0, respool_free(other, q));
	before = lib_stats(_metadata, self->pool);
	EXPECT_EQ(2, before.kept_blocks);
	EXPECT_EQ(q, respool_alloc(other, RP_PAGE, 0, 0));
	EXPECT_EQ(p, respool_alloc(self->pool, RP_PAGE, 0, 0));
	EXPECT_EQ(-ENOENT, respool_free(self->pool, q));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.allocs, st.allocs);
	EXPECT_EQ(0, st.kept_blocks);
	EXPECT_EQ(0, respool_free(other, q));
	respool_close(other);
	EXPECT_EQ(0, respool_free(self->pool, p));
}

struct hit_arg {
	struct respool *pool;
	void *p[6];
	int hits;
};

/* Gets six blocks by hits (then exits, leaving them live). */
static void *hit_six_thread(void *data)
{
	struct hit_arg *h = data;
	int i;

	for (i = 0; i < 6; i++)
		h->p[i] = respool_alloc(h->pool, RP_PAGE, 0, 0);
	for (i = 0; i < 6; i++)
		if (respool_free(h->pool, h->p[i]))
			return NULL;
	for (i = 0; i < 6; i++) {
		void *q = respool_alloc(h->pool, RP_PAGE, 0, 0);

		h->hits += q == h->p[5 - i];
		h->p[5 - i] = q;
		if (q)
			memset(q, i, RP_PAGE);
	}
	return NULL;
}

/*
 * Blocks got by a hit are live blocks to every thread: another thread
 * (here after their thread exited) sees their size and INFO, frees them,
 * and a second free of each is ENOENT.
 */
TEST_F(fast, blocks_got_by_hits_are_found_by_every_thread)
{
	struct hit_arg h = { .pool = self->pool };
	struct respool_stats before, st;
	struct respool_info info;
	pthread_t tid;
	int i;

	before = lib_stats(_metadata, self->pool);
	ASSERT_EQ(0, pthread_create(&tid, NULL, hit_six_thread, &h));
	ASSERT_EQ(0, pthread_join(tid, NULL));
	EXPECT_EQ(6, h.hits);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(before.allocs + 6, st.allocs);
	EXPECT_EQ(6, live_blocks(&st));
	EXPECT_EQ(0, st.kept_blocks);
	for (i = 0; i < 6; i++) {
		ASSERT_NE(NULL, h.p[i]);
		EXPECT_EQ(RP_PAGE, respool_usable_size(self->pool, h.p[i]));
		EXPECT_EQ(0, respool_info(self->pool, h.p[i], &info));
		EXPECT_EQ(0, respool_free(self->pool, h.p[i])) TH_LOG("block %d", i);
		EXPECT_EQ(-ENOENT, respool_free(self->pool, h.p[i]));
	}
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, live_blocks(&st));
	EXPECT_EQ(before.allocs + 6, given_back(&st));
}

/* A block got by a hit on this thread, freed by another, and back. */
static void *free_one_thread(void *data)
{
	void **arg = data;

	return (void *)(intptr_t)respool_free(arg[0], arg[1]);
}

TEST_F(fast, a_hit_block_freed_by_another_thread)
{
	struct respool_stats st;
	void *p, *arg[2];
	pthread_t tid;
	void *ret;

	p = respool_alloc(self->pool, RP_PAGE, 0, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, respool_free(self->pool, p));
	ASSERT_EQ(p, respool_alloc(self->pool, RP_PAGE, 0, 0));
	arg[0] = self->pool;
	arg[1] = p;
	ASSERT_EQ(0, pthread_create(&tid, NULL, free_one_thread, arg));
	ASSERT_EQ(0, pthread_join(tid, &ret));
	EXPECT_EQ(0, (intptr_t)ret);
	/* Kept by that thread, which has exited: given back. */
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(-ENOENT, respool_free(self->pool, p));
	EXPECT_EQ(0, respool_usable_size(self->pool, p));
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

/* NONBLOCK wins over a timeout: EAGAIN at once, no wait counted. */
TEST_F(full, nonblock_with_timeout_fails_at_once)
{
	struct respool_stats st;
	uint64_t t0 = rp_now_ns(), ms;

	errno = 0;
	EXPECT_EQ(NULL, respool_alloc(self->pool, RP_PAGE,
				      RESPOOL_ALLOC_NONBLOCK, 5000));
	EXPECT_EQ(EAGAIN, errno);
	ms = (rp_now_ns() - t0) / 1000000;
	EXPECT_GT(1000, ms) TH_LOG("took %llu ms: the timeout was waited",
				   (unsigned long long)ms);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(0, st.waits);
	EXPECT_EQ(0, st.wait_timeouts);
}

/*
 * NONBLOCK against a pool that fills part-way: exactly the entries that
 * fit are served and mapped, the rest are NULL and nothing of them is held;
 * asking again for the rest tells why. Freed, the pool is as it was.
 */
TEST_F(full, alloc_batch_nonblock_stops_where_the_pool_is_full)
{
	const size_t sizes[4] = {
		384 * RP_KiB, 384 * RP_KiB, 384 * RP_KiB, RP_PAGE,
	};
	struct respool_stats start, st;
	void *ptrs[4];
	int i;

	/* For real: a kept hog would still be in use until taken back. */
	ASSERT_EQ(1, respool_free_batch(self->pool, &self->hog, 1));
	start = lib_stats(_metadata, self->pool);
	ASSERT_EQ(0, start.in_use_bytes);

	EXPECT_EQ(2, respool_alloc_batch(self->pool, ptrs, sizes, 4,
					 RESPOOL_ALLOC_NONBLOCK, 0));
	for (i = 0; i < 2; i++) {
		ASSERT_NE(NULL, ptrs[i]);
		memset(ptrs[i], 0x11 * (i + 1), sizes[i]);
		EXPECT_EQ(sizes[i], respool_usable_size(self->pool, ptrs[i]));
	}
	EXPECT_EQ(NULL, ptrs[2]);
	EXPECT_EQ(NULL, ptrs[3]);
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(2, st.blocks_in_use);
	EXPECT_EQ(768 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(768 * RP_KiB, st.requested_bytes);
	EXPECT_EQ(0, st.waiters);

	/* The rest, again: none fits, so the call fails with the reason. */
	errno = 0;
	EXPECT_EQ(-EAGAIN, respool_alloc_batch(self->pool, ptrs + 2, sizes + 2,
					       2, RESPOOL_ALLOC_NONBLOCK, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(2, lib_stats(_metadata, self->pool).blocks_in_use);

	/* NULL entries are skipped: the whole array frees what was got. */
	EXPECT_EQ(4, respool_free_batch(self->pool, ptrs, 4));
	st = lib_stats(_metadata, self->pool);
	EXPECT_EQ(start.blocks_in_use, st.blocks_in_use);
	EXPECT_EQ(start.in_use_bytes, st.in_use_bytes);
	EXPECT_EQ(start.requested_bytes, st.requested_bytes);
	EXPECT_EQ(st.allocs, st.frees);
}

/* A client quota stops a waiting batch part-way too (EDQUOT never waits). */
TEST(alloc_batch_stops_at_the_client_quota)
{
	const size_t sizes[3] = { 256 * RP_KiB, 256 * RP_KiB, 256 * RP_KiB };
	const char *why = rp_skip_reason();
	struct respool_stats st;
	struct respool *pool;
	void *ptrs[3];

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=8M max_block_size=1M client_quota=512K"));
	pool = respool_open();
	ASSERT_NE(NULL, pool);
	EXPECT_EQ(2, respool_alloc_batch(pool, ptrs, sizes, 3, 0, 0));
	EXPECT_EQ(NULL, ptrs[2]);
	errno = 0;
	EXPECT_EQ(-EDQUOT, respool_alloc_batch(pool, ptrs + 2, sizes + 2, 1, 0, 0));
	EXPECT_EQ(EDQUOT, errno);
	ASSERT_EQ(0, respool_stats(pool, &st));
	EXPECT_EQ(2, st.blocks_in_use);
	EXPECT_EQ(512 * RP_KiB, st.in_use_bytes);
	EXPECT_EQ(0, st.waiters);
	respool_close(pool);

	pool = respool_open();
	ASSERT_NE(NULL, pool);
	ASSERT_EQ(0, respool_stats(pool, &st));
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.requested_bytes);
	EXPECT_EQ(st.allocs, st.frees);
	respool_close(pool);
}

TEST_HARNESS_MAIN
