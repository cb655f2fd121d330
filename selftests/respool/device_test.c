// SPDX-License-Identifier: GPL-2.0
/*
 * device_test - /dev/respool and its ioctls: the device node, open and
 * close, every documented errno, and that bad input changes nothing.
 */
#include "kselftest_harness.h"
#include "respool_util.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	const char *why = rp_skip_reason();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=8M max_block_size=1M"));
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST(device_node_has_configured_mode)
{
	struct stat st;

	if (rp_skip_reason())
		SKIP(return, "%s", rp_skip_reason());
	ASSERT_EQ(0, rp_reload("dev_mode=0640"));
	ASSERT_EQ(0, stat(RP_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0640, st.st_mode & 0777);
	ASSERT_EQ(0, rp_reload(NULL));
	ASSERT_EQ(0, stat(RP_DEV, &st));
	EXPECT_EQ(0666, st.st_mode & 0777);
}

TEST_F(dev, open_close_counts_clients)
{
	struct respool_stats st;
	int fd2 = rp_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(2, st.clients);
	close(fd2);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(1, st.clients);
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	char buf[64] = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(RESPOOL_IOC_MAGIC, 0x3f, buf)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 1)));
	EXPECT_EQ(ENOTTY, errno);
	/* Right number, wrong direction. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(RESPOOL_IOC_MAGIC, 0,
					   struct respool_alloc), buf));
	EXPECT_EQ(ENOTTY, errno);
	/* Smaller than the first version of the struct. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(RESPOOL_IOC_MAGIC, 0, __u64), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, alloc_zero_size_is_einval)
{
	EXPECT_EQ(-EINVAL, rp_alloc(self->fd, 0, 0, 0, NULL));
}

TEST_F(dev, alloc_unknown_flags_is_einval)
{
	EXPECT_EQ(-EINVAL, rp_alloc(self->fd, 4096, 1U << 7, 0, NULL));
	EXPECT_EQ(-EINVAL, rp_alloc(self->fd, 4096, ~0U, 0, NULL));
}

TEST_F(dev, alloc_timeout_needs_flag_and_value)
{
	EXPECT_EQ(-EINVAL, rp_alloc(self->fd, 4096, RESPOOL_ALLOC_TIMEOUT,
				    0, NULL));
	EXPECT_EQ(-EINVAL, rp_alloc(self->fd, 4096, 0, 100, NULL));
}

TEST_F(dev, alloc_reserved_nonzero_is_einval)
{
	struct respool_alloc a = { .size = 4096, .reserved = { 0, 1 } };

	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC, &a));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, alloc_larger_struct_with_nonzero_tail_is_einval)
{
	struct { struct respool_alloc a; __u64 more; } big = {
		.a.size = 4096, .more = 1,
	};
	unsigned long cmd = _IOWR(RESPOOL_IOC_MAGIC, 0, big);

	EXPECT_EQ(-1, ioctl(self->fd, cmd, &big));
	EXPECT_EQ(EINVAL, errno);
	/* A zero tail is what a newer binary sends: accepted. */
	big.more = 0;
	EXPECT_EQ(0, ioctl(self->fd, cmd, &big));
	EXPECT_NE(0, big.a.handle);
}

TEST_F(dev, alloc_beyond_max_block_size_is_e2big)
{
	EXPECT_EQ(-E2BIG, rp_alloc(self->fd, RP_MiB + 1, 0, 0, NULL));
	EXPECT_EQ(-E2BIG, rp_alloc(self->fd, UINT64_MAX, 0, 0, NULL));
	EXPECT_EQ(-E2BIG, rp_alloc(self->fd, UINT64_MAX - RP_PAGE + 2, 0, 0,
				   NULL));
	EXPECT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, NULL));
}

TEST_F(dev, alloc_beyond_capacity_is_e2big_and_never_waits)
{
	uint64_t t0;

	close(self->fd);
	ASSERT_EQ(0, rp_reload("capacity=64K max_block_size=1M"));
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	t0 = rp_now_ns();
	EXPECT_EQ(-E2BIG, rp_alloc(self->fd, 128 * RP_KiB, 0, 0, NULL));
	/* A wait would never end (no timeout): 10 s is ample for a no. */
	EXPECT_GT(10000000000ULL, rp_now_ns() - t0);
}

TEST_F(dev, free_unknown_handle_is_enoent)
{
	struct respool_alloc a = { 0 };

	EXPECT_EQ(-ENOENT, rp_free(self->fd, 0));
	EXPECT_EQ(-ENOENT, rp_free(self->fd, 12345));
	EXPECT_EQ(-ENOENT, rp_free(self->fd, UINT64_MAX));
	ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a));
	EXPECT_EQ(0, rp_free(self->fd, a.handle));
	EXPECT_EQ(-ENOENT, rp_free(self->fd, a.handle));
}

TEST_F(dev, free_reserved_nonzero_is_einval)
{
	struct respool_alloc a = { 0 };
	struct respool_free f;

	ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a));
	f.handle = a.handle;
	f.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_FREE, &f));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, rp_free(self->fd, a.handle));
}

TEST_F(dev, handles_are_private_to_their_file)
{
	struct respool_alloc a = { 0 };
	struct respool_info info;
	int other = rp_open();

	ASSERT_LE(0, other);
	ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a));
	EXPECT_EQ(-ENOENT, rp_free(other, a.handle));
	EXPECT_EQ(-ENOENT, rp_info(other, a.handle, &info));
	EXPECT_EQ(MAP_FAILED, rp_map(other, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, rp_info(self->fd, a.handle, &info));
	close(other);
}

/* Handles are lowest-free, like fds; index 63 pins the table's first node. */
TEST_F(dev, handles_are_lowest_free_and_skip_the_pinned_index)
{
	struct respool_alloc a[70];
	struct respool_info info;
	int i;

	for (i = 0; i < 70; i++) {
		ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a[i]));
		EXPECT_NE(63, a[i].handle);
	}
	EXPECT_EQ(1, a[0].handle);
	EXPECT_EQ(71, a[69].handle);
	EXPECT_EQ(-ENOENT, rp_free(self->fd, 63));
	EXPECT_EQ(-ENOENT, rp_info(self->fd, 63, &info));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, RP_PAGE, PROT_READ, MAP_SHARED,
				   self->fd, 63ULL << 32));
	ASSERT_EQ(0, rp_free(self->fd, a[4].handle));
	ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a[4]));
	EXPECT_EQ(5, a[4].handle);
}

TEST_F(dev, info_describes_a_handle)
{
	struct respool_alloc a = { 0 };
	struct respool_info info;

	ASSERT_EQ(0, rp_alloc(self->fd, 5000, 0, 0, &a));
	ASSERT_EQ(0, rp_info(self->fd, a.handle, &info));
	EXPECT_EQ(5000, info.size);
	EXPECT_EQ(2 * RP_PAGE, info.block_size);
	EXPECT_EQ(a.offset, info.offset);
	EXPECT_EQ(0, info.mapped);
	EXPECT_EQ(RESPOOL_INFO_ZEROED, info.flags);
	EXPECT_EQ(-ENOENT, rp_info(self->fd, a.handle + 1, &info));
	info.handle = a.handle;
	info.reserved[1] = 7;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, bad_pointers_are_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_FREE, (void *)16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_STATS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, alloc_to_readonly_memory_is_efault_and_changes_nothing)
{
	struct respool_stats before, after;
	struct respool_alloc *ro;

	ro = mmap(NULL, RP_PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro->size = 4096;
	ASSERT_EQ(0, mprotect(ro, RP_PAGE, PROT_READ));
	ASSERT_EQ(0, rp_stats(self->fd, &before));
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC, ro));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, rp_stats(self->fd, &after));
	EXPECT_EQ(before.in_use_bytes, after.in_use_bytes);
	EXPECT_EQ(before.requested_bytes, after.requested_bytes);
	EXPECT_EQ(before.blocks_in_use, after.blocks_in_use);
	munmap(ro, RP_PAGE);
}

TEST_F(dev, stats_size_is_honoured)
{
	struct respool_stats st;
	struct { __u32 size, pad; __u64 capacity; } small = {
		.size = sizeof(small),
	};
	struct respool_alloc a = { 0 };

	ASSERT_EQ(0, ioctl(self->fd, RESPOOL_IOC_STATS, &small));
	EXPECT_EQ(sizeof(small), small.size);
	EXPECT_EQ(8 * RP_MiB, small.capacity);

	ASSERT_EQ(0, rp_alloc(self->fd, 3 * RP_PAGE, 0, 0, &a));
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(8 * RP_MiB, st.capacity);
	EXPECT_EQ(3 * RP_PAGE, st.in_use_bytes);
	EXPECT_EQ(3 * RP_PAGE, st.requested_bytes);
	EXPECT_EQ(1, st.blocks_in_use);
	EXPECT_EQ(1, st.allocs);
	EXPECT_EQ(1, st.fresh_allocs);
	EXPECT_EQ(3 * RP_PAGE, st.zeroed_bytes);
	EXPECT_EQ(1, st.clients);

	st.size = 4;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	st.size = sizeof(st);
	st.__pad = 1;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, bad_input_leaves_every_gauge_unchanged)
{
	struct respool_stats before, after;
	struct respool_alloc a = { 0 };
	struct respool_info info;

	ASSERT_EQ(0, rp_alloc(self->fd, 8192, 0, 0, &a));
	ASSERT_EQ(0, rp_stats(self->fd, &before));

	EXPECT_EQ(-EINVAL, rp_alloc(self->fd, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, rp_alloc(self->fd, 4096, 0x80, 0, NULL));
	EXPECT_EQ(-E2BIG, rp_alloc(self->fd, 2 * RP_MiB, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, rp_free(self->fd, a.handle + 100));
	EXPECT_EQ(-ENOENT, rp_info(self->fd, a.handle + 100, &info));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, RP_PAGE, PROT_READ, MAP_SHARED,
				   self->fd, (a.handle + 100) << 32));

	ASSERT_EQ(0, rp_stats(self->fd, &after));
	EXPECT_EQ(before.in_use_bytes, after.in_use_bytes);
	EXPECT_EQ(before.reserve_bytes, after.reserve_bytes);
	EXPECT_EQ(before.pcpu_bytes, after.pcpu_bytes);
	EXPECT_EQ(before.requested_bytes, after.requested_bytes);
	EXPECT_EQ(before.blocks_in_use, after.blocks_in_use);
	EXPECT_EQ(before.blocks_free, after.blocks_free);
	EXPECT_EQ(before.allocs, after.allocs);
	EXPECT_EQ(before.frees, after.frees);
	EXPECT_EQ(before.waiters, after.waiters);
	EXPECT_EQ(before.zeroed_bytes, after.zeroed_bytes);
}

TEST_F(dev, alloc_batch_serves_every_entry_in_order)
{
	struct respool_alloc a[8] = { 0 };
	struct respool_alloc_batch batch = {
		.allocs = (uintptr_t)a, .count = 8,
	};
	__u64 handles[8];
	struct respool_free_batch fb = { .handles = (uintptr_t)handles };
	struct respool_stats st;
	int i;

	for (i = 0; i < 8; i++)
		a[i].size = (i + 1) * RP_PAGE;
	ASSERT_EQ(0, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &batch));
	EXPECT_EQ(8, batch.done);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(i + 1, a[i].handle);
		EXPECT_EQ((i + 1) * RP_PAGE, a[i].block_size);
		EXPECT_EQ(a[i].handle << 32, a[i].offset);
		handles[i] = a[i].handle;
	}
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(36 * RP_PAGE, st.in_use_bytes);
	fb.count = 8;
	ASSERT_EQ(0, ioctl(self->fd, RESPOOL_IOC_FREE_BATCH, &fb));
	EXPECT_EQ(8, fb.done);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(8, st.frees);
}

TEST_F(dev, alloc_batch_stops_at_the_first_bad_entry)
{
	struct respool_alloc a[3] = {
		{ .size = RP_PAGE }, { .size = 0 }, { .size = RP_PAGE },
	};
	struct respool_alloc_batch batch = {
		.allocs = (uintptr_t)a, .count = 3,
	};
	struct respool_stats st;

	ASSERT_EQ(0, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &batch));
	EXPECT_EQ(1, batch.done);
	EXPECT_NE(0, a[0].handle);
	EXPECT_EQ(0, a[2].handle);	/* untouched */
	/* Retrying from the failing entry reports its error. */
	batch.allocs = (uintptr_t)&a[1];
	batch.count = 2;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &batch));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(1, st.blocks_in_use);
}

TEST_F(dev, batch_bad_count_or_pointer_changes_nothing)
{
	struct respool_alloc a[2] = { { .size = RP_PAGE }, { .size = RP_PAGE } };
	struct respool_alloc_batch batch = { .allocs = (uintptr_t)a };
	__u64 handles[2] = { 12345, 1 };
	struct respool_free_batch fb = { .handles = (uintptr_t)handles };
	struct respool_stats before, after;

	ASSERT_EQ(0, rp_stats(self->fd, &before));
	batch.count = 0;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &batch));
	EXPECT_EQ(EINVAL, errno);
	batch.count = RESPOOL_BATCH_MAX + 1;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &batch));
	EXPECT_EQ(EINVAL, errno);
	batch.count = 2;
	batch.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &batch));
	EXPECT_EQ(EINVAL, errno);
	batch.reserved[1] = 0;
	batch.allocs = 8;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &batch));
	EXPECT_EQ(EFAULT, errno);
	fb.count = 2;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_FREE_BATCH, &fb));
	EXPECT_EQ(ENOENT, errno);
	fb.handles = 8;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_FREE_BATCH, &fb));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, rp_stats(self->fd, &after));
	EXPECT_EQ(before.allocs, after.allocs);
	EXPECT_EQ(before.in_use_bytes, after.in_use_bytes);
	EXPECT_EQ(before.blocks_in_use, after.blocks_in_use);
}

TEST_F(dev, free_batch_stops_at_an_unknown_handle)
{
	struct respool_alloc a, b;
	__u64 handles[3];
	struct respool_free_batch fb = { .handles = (uintptr_t)handles,
					 .count = 3 };

	ASSERT_EQ(0, rp_alloc(self->fd, RP_PAGE, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(self->fd, RP_PAGE, 0, 0, &b));
	handles[0] = a.handle;
	handles[1] = 999;
	handles[2] = b.handle;
	ASSERT_EQ(0, ioctl(self->fd, RESPOOL_IOC_FREE_BATCH, &fb));
	EXPECT_EQ(1, fb.done);
	EXPECT_EQ(-ENOENT, rp_free(self->fd, a.handle));
	EXPECT_EQ(0, rp_free(self->fd, b.handle));	/* still held */
}

TEST_F(dev, close_frees_everything)
{
	struct respool_stats st;
	int fd2 = rp_open(), i;

	ASSERT_LE(0, fd2);
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, rp_alloc(fd2, (i + 1) * RP_PAGE, 0, 0, NULL));
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(55 * RP_PAGE, st.in_use_bytes);
	close(fd2);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.requested_bytes);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(10, st.frees);
	EXPECT_EQ(55 * RP_PAGE, st.reserve_bytes + st.pcpu_bytes);
}

TEST_HARNESS_MAIN
