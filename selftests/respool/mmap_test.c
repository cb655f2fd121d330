// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_test - mapping blocks: bounds, partial mappings, MAP_PRIVATE,
 * FREE and close while mapped, fork, mremap and madvise. A block must
 * never reach another client while any mapping of it is alive.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "respool_util.h"

#define PG	RP_PAGE

FIXTURE(map) {
	int fd;
	struct respool_alloc a;
};

FIXTURE_SETUP(map)
{
	const char *why = rp_skip_reason();

	self->fd = -1;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=1M pcpu_cache_blocks=0 threshold=100"));
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG, 0, 0, &self->a));
}

FIXTURE_TEARDOWN(map)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void *map_at(int fd, uint64_t offset, uint64_t len, int flags)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, offset);
}

TEST_F(map, whole_block_is_zeroed_and_writable)
{
	char *p = rp_map(self->fd, &self->a);
	struct respool_info info;

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(rp_all_zero(p, self->a.block_size));
	rp_fill(p, self->a.block_size, 7);
	EXPECT_TRUE(rp_check(p, self->a.block_size, 7));
	ASSERT_EQ(0, rp_info(self->fd, self->a.handle, &info));
	EXPECT_EQ(1, info.mapped);
	munmap(p, self->a.block_size);
	ASSERT_EQ(0, rp_info(self->fd, self->a.handle, &info));
	EXPECT_EQ(0, info.mapped);
}

TEST_F(map, partial_mapping_starts_at_page_k)
{
	char *whole = rp_map(self->fd, &self->a), *part;
	int k;

	ASSERT_NE(MAP_FAILED, whole);
	for (k = 0; k < 4; k++)
		memset(whole + k * PG, 'a' + k, PG);
	part = map_at(self->fd, self->a.offset + 2 * PG, 2 * PG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, part);
	EXPECT_EQ('c', part[0]);
	EXPECT_EQ('d', part[PG]);
	part[1] = 'X';
	EXPECT_EQ('X', whole[2 * PG + 1]);
	munmap(part, 2 * PG);
	munmap(whole, self->a.block_size);
}

TEST_F(map, range_leaving_the_block_is_einval)
{
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, self->a.offset, 5 * PG,
				     MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, self->a.offset + 3 * PG, 2 * PG,
				     MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, self->a.offset + 4 * PG, PG,
				     MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	/* Page bits far past the block, and offsets near 2^64. */
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, self->a.offset + (1ULL << 31),
				     PG, MAP_SHARED));
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, -(off_t)PG, PG, MAP_SHARED));
}

TEST_F(map, private_mapping_is_einval)
{
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, self->a.offset, PG,
				     MAP_PRIVATE));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(map, offset_of_no_handle_is_einval)
{
	/* Handle 0's first two pages are the control and pool pages. */
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, 2 * PG, PG, MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_at(self->fd, self->a.offset + (1ULL << 32),
				     PG, MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(map, mremap_cannot_grow_past_the_block)
{
	char *p = rp_map(self->fd, &self->a), *q;

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, mremap(p, self->a.block_size,
				     2 * self->a.block_size, MREMAP_MAYMOVE));
	p[0] = 'm';
	/* Moving is fine, and keeps the data. */
	q = mremap(p, self->a.block_size, self->a.block_size,
		   MREMAP_MAYMOVE | MREMAP_FIXED,
		   mmap(NULL, self->a.block_size, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ('m', q[0]);
	munmap(q, self->a.block_size);
}

TEST_F(map, madvise_dontneed_keeps_the_data)
{
	char *p = rp_map(self->fd, &self->a);

	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, self->a.block_size, 99);
	ASSERT_EQ(0, madvise(p, self->a.block_size, MADV_DONTNEED));
	EXPECT_TRUE(rp_check(p, self->a.block_size, 99));
	munmap(p, self->a.block_size);
}

TEST_F(map, partial_munmap_keeps_the_rest)
{
	char *p = rp_map(self->fd, &self->a);
	struct respool_info info;

	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, self->a.block_size, 5);
	ASSERT_EQ(0, munmap(p + PG, PG));	/* splits the mapping */
	ASSERT_EQ(0, rp_info(self->fd, self->a.handle, &info));
	EXPECT_EQ(2, info.mapped);
	EXPECT_TRUE(rp_check(p, PG, 5));
	munmap(p, PG);
	munmap(p + 2 * PG, 2 * PG);
	ASSERT_EQ(0, rp_info(self->fd, self->a.handle, &info));
	EXPECT_EQ(0, info.mapped);
}

/*
 * FREE of a mapped block takes the handle away at once, but the block
 * stays in use, out of everyone else's reach, until its last unmap.
 * A second process allocates every block it can meanwhile and scribbles
 * on them; our mapping must not change, and none of its blocks may be
 * ours.
 */
TEST_F(map, free_while_mapped_keeps_the_block_out_of_reach)
{
	struct respool_stats st;
	struct respool_info info;
	char *p = rp_map(self->fd, &self->a);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, self->a.block_size, 0x5eed);
	ASSERT_EQ(0, rp_free(self->fd, self->a.handle));
	EXPECT_EQ(-ENOENT, rp_free(self->fd, self->a.handle));
	EXPECT_EQ(-ENOENT, rp_info(self->fd, self->a.handle, &info));
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(4 * PG, st.in_use_bytes);
	EXPECT_EQ(1, st.blocks_in_use);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = rp_open(), n = 0, bad = 0;
		struct respool_alloc b;

		while (!rp_alloc(fd, 4 * PG, RESPOOL_ALLOC_NONBLOCK, 0, &b)) {
			char *q = rp_map(fd, &b);

			if (q == MAP_FAILED || !rp_all_zero(q, b.block_size))
				bad = 1;
			if (q != MAP_FAILED) {
				memset(q, 0xee, b.block_size);
				munmap(q, b.block_size);
			}
			n++;
		}
		_exit(bad ? 1 : n == 63 ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: 1 = reused block not zeroed, 2 = wrong count");
	EXPECT_TRUE(rp_check(p, self->a.block_size, 0x5eed))
		TH_LOG("a freed but mapped block was handed to someone else");

	munmap(p, self->a.block_size);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.blocks_in_use);
}

TEST_F(map, fork_shares_the_mapping_and_keeps_the_block)
{
	struct respool_stats st;
	volatile char *p = rp_map(self->fd, &self->a);
	int pipefd[2], status;
	pid_t pid;
	char c;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[1]);
		p[0] = 'c';
		/* Parent frees and unmaps; the child's mapping holds on. */
		if (read(pipefd[0], &c, 1) != 1)
			_exit(3);
		p[1] = 'd';
		_exit(p[0] == 'c' && p[1] == 'd' ? 0 : 1);
	}
	close(pipefd[0]);
	while (p[0] != 'c')
		usleep(1000);
	ASSERT_EQ(0, rp_free(self->fd, self->a.handle));
	munmap((void *)p, self->a.block_size);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(4 * PG, st.in_use_bytes);
	ASSERT_EQ(1, write(pipefd[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(0, st.in_use_bytes);
	close(pipefd[1]);
}

TEST_F(map, close_while_mapped_frees_at_the_last_unmap)
{
	struct respool_stats st;
	char *p = rp_map(self->fd, &self->a);

	ASSERT_NE(MAP_FAILED, p);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, rp_stats(-1, &st));
	EXPECT_EQ(4 * PG, st.in_use_bytes);
	EXPECT_EQ(1, st.clients);	/* the mapping keeps the file */
	p[0] = 1;
	munmap(p, self->a.block_size);
	ASSERT_EQ(0, rp_stats(-1, &st));
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.clients);
}

TEST_F(map, many_mappings_are_counted)
{
	struct respool_info info;
	void *p[5];
	int i;

	for (i = 0; i < 5; i++) {
		p[i] = rp_map(self->fd, &self->a);
		ASSERT_NE(MAP_FAILED, p[i]);
	}
	ASSERT_EQ(0, rp_info(self->fd, self->a.handle, &info));
	EXPECT_EQ(5, info.mapped);
	((char *)p[0])[10] = 42;
	EXPECT_EQ(42, ((char *)p[4])[10]);
	for (i = 0; i < 5; i++)
		munmap(p[i], self->a.block_size);
	ASSERT_EQ(0, rp_info(self->fd, self->a.handle, &info));
	EXPECT_EQ(0, info.mapped);
}

TEST_F(map, access_past_a_shrunk_mapping_faults)
{
	char *p = rp_map(self->fd, &self->a);

	ASSERT_NE(MAP_FAILED, p);
	/* Shrinking is allowed; the tail is gone. */
	ASSERT_NE(MAP_FAILED, mremap(p, 4 * PG, 2 * PG, 0));
	p[2 * PG - 1] = 1;
	munmap(p, 2 * PG);
}

TEST_HARNESS_MAIN
