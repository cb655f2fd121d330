// SPDX-License-Identifier: GPL-2.0
/*
 * abi_test - the ioctl ABI grows without breaking old or new binaries.
 *
 * Every ioctl struct has a pinned first-version size (RESPOOL_*_SIZE_VER0).
 * For each ioctl, called as a binary built against another header would:
 * its first-version size works; a smaller size is ENOTTY; a larger size
 * whose tail is zero works and the tail is never written; a larger size
 * with a non-zero tail byte is EINVAL and changes nothing (STATS, whose
 * struct is output only, ignores the tail instead).
 *
 * The caller's struct is placed so that what the kernel must not write
 * lies in a read-only page: a write there would fail the ioctl with
 * EFAULT, so a call that works proves the bytes were not written at all.
 *
 * Then the take-back of an ALLOC whose answer cannot be copied out: it
 * gives back the block it installed, never another thread's handle. A
 * userfaultfd write-protect fault holds the copy-out while another thread
 * of the same file frees that handle and is given the same number for
 * another block.
 */
#define _GNU_SOURCE
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>

#include "kselftest_harness.h"
#include "respool_util.h"

/* Bytes a newer binary's struct has beyond ours. */
#define TAIL		64
#define PATTERN		0x5a
/* Handles looked at by the "nothing changed" check. */
#define NR_HANDLES	8

#define IOC_RW		(_IOC_READ | _IOC_WRITE)

static int rp_ioc(int fd, unsigned int dir, unsigned int nr, size_t size,
		  void *arg)
{
	return ioctl(fd, _IOC(dir, RESPOOL_IOC_MAGIC, nr, size), arg) ?
	       -errno : 0;
}

static bool all_bytes(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++ != c)
			return false;
	return true;
}

/*
 * What an ioctl may change: the pool's gauges and counters, and which of
 * this file's handles are valid.
 */
struct snap {
	uint64_t in_use_bytes, blocks_in_use, requested_bytes, allocs, frees;
	bool valid[NR_HANDLES + 1];
};

static int take_snap(int fd, struct snap *s)
{
	struct respool_stats st;
	struct respool_info info;
	int h, ret = rp_stats(fd, &st);

	memset(s, 0, sizeof(*s));
	s->in_use_bytes = st.in_use_bytes;
	s->blocks_in_use = st.blocks_in_use;
	s->requested_bytes = st.requested_bytes;
	s->allocs = st.allocs;
	s->frees = st.frees;
	for (h = 1; h <= NR_HANDLES; h++)
		s->valid[h] = !rp_info(fd, h, &info);
	return ret;
}

#define EXPECT_UNCHANGED(fd, before) do {				\
	struct snap __after;						\
	ASSERT_EQ(0, take_snap(fd, &__after));				\
	EXPECT_EQ(0, memcmp(&(before), &__after, sizeof(__after)))	\
		TH_LOG("the pool or the file's handles changed: in use "	\
		       "%llu -> %llu bytes, %llu -> %llu blocks",	\
		       (unsigned long long)(before).in_use_bytes,	\
		       (unsigned long long)__after.in_use_bytes,	\
		       (unsigned long long)(before).blocks_in_use,	\
		       (unsigned long long)__after.blocks_in_use);	\
} while (0)

/* ---- per-ioctl: a call that works, and what it must have done ---- */

/* Filled by the prepare steps, read by the checks (one test per process). */
/* ALLOC_BATCH's entries are first-version structs, whatever ours is. */
#define ENTRY(base, i)	((struct respool_alloc *)((char *)(base) + \
			 (i) * RESPOOL_ALLOC_SIZE_VER0))

static struct respool_alloc g_entries[2];	/* room for two entries */
static uint64_t g_handles[2];
static uint64_t g_offset;

/* One call of the ioctl under test: the caller's struct and its size. */
struct call {
	struct __test_metadata *md;
	int fd;
	void *arg;
	size_t usize;
};

static void alloc_prep(const struct call *c)
{
	((struct respool_alloc *)c->arg)->size = 4096;
}

static void alloc_check(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	const struct respool_alloc *a = c->arg;
	struct respool_info info;

	EXPECT_NE(0, a->handle);
	EXPECT_EQ(RP_PAGE, a->block_size);
	EXPECT_EQ(0, rp_info(c->fd, a->handle, &info));
	EXPECT_EQ(a->offset, info.offset);
}

static void free_prep(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	struct respool_alloc a;

	ASSERT_EQ(0, rp_alloc(c->fd, 4096, 0, 0, &a));
	((struct respool_free *)c->arg)->handle = a.handle;
}

static void free_check(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	const struct respool_free *f = c->arg;
	struct respool_info info;

	EXPECT_EQ(-ENOENT, rp_info(c->fd, f->handle, &info))
		TH_LOG("handle %llu still valid after FREE",
		       (unsigned long long)f->handle);
}

static void info_prep(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	struct respool_alloc a;

	ASSERT_EQ(0, rp_alloc(c->fd, 5000, 0, 0, &a));
	g_offset = a.offset;
	((struct respool_info *)c->arg)->handle = a.handle;
}

static void info_check(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	const struct respool_info *info = c->arg;

	EXPECT_EQ(5000, info->size);
	EXPECT_EQ(2 * RP_PAGE, info->block_size);
	EXPECT_EQ(g_offset, info->offset);
	EXPECT_EQ(0, info->mapped);
}

static void stats_prep(const struct call *c)
{
	/* A binary sets size to its own sizeof(struct respool_stats). */
	((struct respool_stats *)c->arg)->size = c->usize;
}

static void stats_check(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	const struct respool_stats *st = c->arg;
	size_t want = c->usize < sizeof(*st) ? c->usize : sizeof(*st);

	EXPECT_EQ(want, st->size);
	EXPECT_EQ(8 * RP_MiB, st->capacity);
	EXPECT_EQ(1, st->clients);
}

static void alloc_batch_prep(const struct call *c)
{
	struct respool_alloc_batch *b = c->arg;

	memset(g_entries, 0, sizeof(g_entries));
	ENTRY(g_entries, 0)->size = 4096;
	ENTRY(g_entries, 1)->size = 3 * 4096;
	b->allocs = (uintptr_t)g_entries;
	b->count = 2;
}

static void alloc_batch_check(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	const struct respool_alloc_batch *b = c->arg;
	struct respool_info info;
	int i;

	EXPECT_EQ(2, b->done);
	for (i = 0; i < 2; i++) {
		EXPECT_NE(0, ENTRY(g_entries, i)->handle);
		EXPECT_EQ(0, rp_info(c->fd, ENTRY(g_entries, i)->handle,
				     &info));
		EXPECT_EQ(ENTRY(g_entries, i)->size, info.block_size);
	}
}

static void free_batch_prep(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	struct respool_free_batch *b = c->arg;
	struct respool_alloc a;
	int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, rp_alloc(c->fd, 4096, 0, 0, &a));
		g_handles[i] = a.handle;
	}
	b->handles = (uintptr_t)g_handles;
	b->count = 2;
}

static void free_batch_check(const struct call *c)
{
	struct __test_metadata *_metadata = c->md;
	const struct respool_free_batch *b = c->arg;
	struct respool_info info;
	int i;

	EXPECT_EQ(2, b->done);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(-ENOENT, rp_info(c->fd, g_handles[i], &info));
	}
}

FIXTURE(abi) {
	int fd;
	unsigned char *buf;	/* a read-write page, then a read-only one */
};

/*
 * @ksize is the kernel's struct size (this header's sizeof), @ver0 the
 * pinned first-version size; they differ once a struct has grown.
 */
FIXTURE_VARIANT(abi) {
	unsigned int nr, dir;
	size_t ver0, ksize;
	void (*prep)(const struct call *c);
	void (*check)(const struct call *c);
	bool tail_ignored;	/* STATS: output only, its tail is not read */
};

FIXTURE_VARIANT_ADD(abi, alloc) {
	.nr = _IOC_NR(RESPOOL_IOC_ALLOC), .dir = _IOC_DIR(RESPOOL_IOC_ALLOC),
	.ver0 = RESPOOL_ALLOC_SIZE_VER0, .ksize = sizeof(struct respool_alloc),
	.prep = alloc_prep, .check = alloc_check,
};

FIXTURE_VARIANT_ADD(abi, free) {
	.nr = _IOC_NR(RESPOOL_IOC_FREE), .dir = _IOC_DIR(RESPOOL_IOC_FREE),
	.ver0 = RESPOOL_FREE_SIZE_VER0, .ksize = sizeof(struct respool_free),
	.prep = free_prep, .check = free_check,
};

FIXTURE_VARIANT_ADD(abi, info) {
	.nr = _IOC_NR(RESPOOL_IOC_INFO), .dir = _IOC_DIR(RESPOOL_IOC_INFO),
	.ver0 = RESPOOL_INFO_SIZE_VER0, .ksize = sizeof(struct respool_info),
	.prep = info_prep, .check = info_check,
};

FIXTURE_VARIANT_ADD(abi, stats) {
	.nr = _IOC_NR(RESPOOL_IOC_STATS), .dir = _IOC_DIR(RESPOOL_IOC_STATS),
	.ver0 = RESPOOL_STATS_SIZE_VER0, .ksize = sizeof(struct respool_stats),
	.prep = stats_prep, .check = stats_check, .tail_ignored = true,
};

FIXTURE_VARIANT_ADD(abi, alloc_batch) {
	.nr = _IOC_NR(RESPOOL_IOC_ALLOC_BATCH),
	.dir = _IOC_DIR(RESPOOL_IOC_ALLOC_BATCH),
	.ver0 = RESPOOL_ALLOC_BATCH_SIZE_VER0,
	.ksize = sizeof(struct respool_alloc_batch),
	.prep = alloc_batch_prep, .check = alloc_batch_check,
};

FIXTURE_VARIANT_ADD(abi, free_batch) {
	.nr = _IOC_NR(RESPOOL_IOC_FREE_BATCH),
	.dir = _IOC_DIR(RESPOOL_IOC_FREE_BATCH),
	.ver0 = RESPOOL_FREE_BATCH_SIZE_VER0,
	.ksize = sizeof(struct respool_free_batch),
	.prep = free_batch_prep, .check = free_batch_check,
};

FIXTURE_SETUP(abi)
{
	const char *why = rp_skip_reason();

	self->fd = -1;
	self->buf = MAP_FAILED;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=8M max_block_size=1M"));
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	self->buf = mmap(NULL, 2 * RP_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* The read-only page: TAIL zero bytes, then the pattern. */
	memset(self->buf + RP_PAGE + TAIL, PATTERN, RP_PAGE - TAIL);
	ASSERT_EQ(0, mprotect(self->buf + RP_PAGE, RP_PAGE, PROT_READ));
}

FIXTURE_TEARDOWN(abi)
{
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * RP_PAGE);
	if (self->fd >= 0)
		close(self->fd);
}

/* A struct of @len writable bytes that ends where the read-only page begins. */
static void *arg_at_edge(unsigned char *buf, size_t len)
{
	void *arg = buf + RP_PAGE - len;

	memset(arg, 0, len);
	return arg;
}

TEST_F(abi, first_version_size_works)
{
	size_t usize = variant->ver0;
	void *arg = arg_at_edge(self->buf, usize);
	struct call c = { _metadata, self->fd, arg, usize };

	variant->prep(&c);
	ASSERT_EQ(0, rp_ioc(self->fd, variant->dir, variant->nr, usize, arg))
		TH_LOG("an ioctl of the first-version size (%zu) must work",
		       usize);
	variant->check(&c);
}

TEST_F(abi, smaller_size_or_wrong_direction_is_enotty)
{
	const size_t sizes[] = { 0, 1, 8, variant->ver0 - 8,
				 variant->ver0 - 1 };
	size_t len = variant->ver0, i;
	void *arg = arg_at_edge(self->buf, len);
	struct call c = { _metadata, self->fd, arg, len };
	unsigned char copy[4096];
	struct snap before;
	unsigned int dir;

	variant->prep(&c);
	memcpy(copy, arg, len);
	ASSERT_EQ(0, take_snap(self->fd, &before));
	/* EXPECT_*() is two statements: braces around each loop body. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-ENOTTY, rp_ioc(self->fd, variant->dir, variant->nr,
					  sizes[i], arg))
			TH_LOG("size %zu, below the first version's %zu",
			       sizes[i], variant->ver0);
	}
	for (dir = _IOC_NONE; dir <= IOC_RW; dir++) {
		if (dir == variant->dir)
			continue;
		EXPECT_EQ(-ENOTTY, rp_ioc(self->fd, dir, variant->nr,
					  variant->ver0, arg))
			TH_LOG("direction %u instead of %u", dir, variant->dir);
	}
	EXPECT_EQ(0, memcmp(copy, arg, len)) TH_LOG("the struct was written");
	EXPECT_UNCHANGED(self->fd, before);
}

TEST_F(abi, larger_size_with_zero_tail_works_and_tail_is_not_written)
{
	/* The TAIL bytes past ours are zero and read-only: never written. */
	size_t usize = variant->ksize + TAIL;
	void *arg = arg_at_edge(self->buf, variant->ksize);
	struct call c = { _metadata, self->fd, arg, usize };

	variant->prep(&c);
	ASSERT_EQ(0, rp_ioc(self->fd, variant->dir, variant->nr, usize, arg))
		TH_LOG("newer struct, %zu bytes, zero tail (EFAULT: tail written)",
		       usize);
	variant->check(&c);
	EXPECT_TRUE(all_bytes(self->buf + RP_PAGE, TAIL, 0));
	EXPECT_TRUE(all_bytes(self->buf + RP_PAGE + TAIL, RP_PAGE - TAIL,
			      PATTERN));
}

TEST_F(abi, larger_size_with_nonzero_tail_is_einval_and_changes_nothing)
{
	const size_t at[] = { 0, TAIL / 2, TAIL - 1 };
	size_t usize = variant->ksize + TAIL, i;
	void *arg = arg_at_edge(self->buf, usize);
	struct call c = { _metadata, self->fd, arg, usize };
	unsigned char copy[4096];
	struct snap before;

	variant->prep(&c);
	ASSERT_EQ(0, take_snap(self->fd, &before));
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		memset((char *)arg + variant->ksize, 0, TAIL);
		((char *)arg)[variant->ksize + at[i]] = PATTERN;
		memcpy(copy, arg, usize);
		if (variant->tail_ignored) {
			/* Output only: the tail is the caller's, not read. */
			ASSERT_EQ(0, rp_ioc(self->fd, variant->dir,
					    variant->nr, usize, arg));
			variant->check(&c);
			EXPECT_EQ(0, memcmp(copy + variant->ksize,
					    (char *)arg + variant->ksize, TAIL));
			continue;
		}
		EXPECT_EQ(-EINVAL, rp_ioc(self->fd, variant->dir, variant->nr,
					  usize, arg))
			TH_LOG("non-zero byte %zu of a %zu-byte tail",
			       at[i], (size_t)TAIL);
		EXPECT_EQ(0, memcmp(copy, arg, usize))
			TH_LOG("the struct was written");
		EXPECT_UNCHANGED(self->fd, before);
	}
}

/* ---- take-back of an ALLOC whose answer cannot be copied out ---- */

FIXTURE(tb) {
	int fd;
	unsigned char *buf;	/* a read-write page, then a read-only one */
};

FIXTURE_SETUP(tb)
{
	const char *why = rp_skip_reason();

	self->fd = -1;
	self->buf = MAP_FAILED;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=8M max_block_size=1M"));
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	self->buf = mmap(NULL, 2 * RP_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(tb)
{
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * RP_PAGE);
	if (self->fd >= 0)
		close(self->fd);
}

/* Handle 1 holds a 4K block; only it is in use. */
static void expect_handle_1_kept(struct __test_metadata *_metadata, int fd,
				 uint64_t blocks)
{
	struct respool_stats st;
	struct respool_info info;

	EXPECT_EQ(0, rp_info(fd, 1, &info)) TH_LOG("handle 1 is gone");
	EXPECT_EQ(RP_PAGE, info.block_size);
	ASSERT_EQ(0, rp_stats(fd, &st));
	EXPECT_EQ(blocks, st.blocks_in_use);
	EXPECT_EQ(st.allocs - st.frees, st.blocks_in_use);
}

TEST_F(tb, alloc_into_readonly_struct_leaves_no_handle)
{
	struct respool_alloc a, *ro = (void *)(self->buf + RP_PAGE);
	struct respool_info info;

	ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a));
	ASSERT_EQ(1, a.handle);
	ro->size = 4096;
	ASSERT_EQ(0, mprotect(ro, RP_PAGE, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC, ro));
	EXPECT_EQ(EFAULT, errno);
	expect_handle_1_kept(_metadata, self->fd, 1);
	EXPECT_EQ(-ENOENT, rp_info(self->fd, 2, &info));
	/* Handle 2 was given back: the next ALLOC gets it. */
	ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a));
	EXPECT_EQ(2, a.handle);
}

TEST_F(tb, alloc_batch_into_readonly_entry_leaves_no_handle)
{
	void *e = self->buf + RP_PAGE - RESPOOL_ALLOC_SIZE_VER0;
	struct respool_alloc_batch b = { .allocs = (uintptr_t)e, .count = 2 };
	struct respool_alloc a;
	struct respool_info info;

	ASSERT_EQ(0, rp_alloc(self->fd, 4096, 0, 0, &a));
	ASSERT_EQ(1, a.handle);
	/* Entry 0 is writable, entry 1 lies in the read-only page. */
	memset(e, 0, 2 * RESPOOL_ALLOC_SIZE_VER0);
	ENTRY(e, 0)->size = 4096;
	ENTRY(e, 1)->size = 4096;
	ASSERT_EQ(0, mprotect(self->buf + RP_PAGE, RP_PAGE, PROT_READ));
	ASSERT_EQ(0, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &b));
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(2, ENTRY(e, 0)->handle);
	EXPECT_EQ(0, rp_info(self->fd, 2, &info));
	EXPECT_EQ(-ENOENT, rp_info(self->fd, 3, &info));
	expect_handle_1_kept(_metadata, self->fd, 2);

	/* Only the read-only entry: the batch fails, nothing is left. */
	b.allocs = (uintptr_t)ENTRY(e, 1);
	b.count = 1;
	EXPECT_EQ(-1, ioctl(self->fd, RESPOOL_IOC_ALLOC_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-ENOENT, rp_info(self->fd, 3, &info));
	expect_handle_1_kept(_metadata, self->fd, 2);
}

/*
 * The race, held open: thread A's ALLOC installs handle 2 and stalls in
 * its copy-out on a write-protected page. Meanwhile this thread frees
 * handle 2 and allocates another block, which gets handle 2 again. Then
 * A's copy-out fails (the page is made read-only): A must take back its
 * own block, which is gone already, and leave the new handle 2 alone.
 */
struct racer {
	int fd;
	bool batch;
	void *arg;
	int err;
};

static void *racer_alloc(void *p)
{
	struct racer *r = p;
	struct respool_alloc_batch b = { .allocs = (uintptr_t)r->arg,
					 .count = 1 };

	if (r->batch)
		r->err = ioctl(r->fd, RESPOOL_IOC_ALLOC_BATCH, &b) ? errno : 0;
	else
		r->err = ioctl(r->fd, RESPOOL_IOC_ALLOC, r->arg) ? errno : 0;
	return NULL;
}

static int uffd_wp_page(void *page)
{
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	};
	struct uffdio_register reg = {
		.range = { (uintptr_t)page, RP_PAGE },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)page, RP_PAGE },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC);

	if (uffd < 0)
		return -errno;
	if (ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg) ||
	    ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		int err = -errno;

		close(uffd);
		return err;
	}
	return uffd;
}

/*
 * With @same_size, the new handle 2 asks for the size of A's block, and
 * on this CPU its per-CPU cache holds that very block, just freed: the
 * handle names the same block again, for another owner, and only a block
 * that cannot return to the pool before A's answer is out tells the two
 * apart.
 */
static void take_back_race(struct __test_metadata *_metadata, int fd,
			   unsigned char *page, bool batch, bool same_size)
{
	uint64_t size2 = same_size ? 4096 : 2 * 4096;
	cpu_set_t cpus;

	struct respool_alloc a, *e = (void *)page;
	struct uffdio_range range = { (uintptr_t)page, RP_PAGE };
	struct racer r = { .fd = fd, .batch = batch, .arg = e };
	struct pollfd pfd = { .events = POLLIN };
	struct respool_info info;
	struct uffd_msg msg;
	pthread_t t;
	int uffd;

	/* FREE and the next ALLOC below meet the same per-CPU cache. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	ASSERT_EQ(0, rp_alloc(fd, 4096, 0, 0, &a));
	ASSERT_EQ(1, a.handle);
	memset(e, 0, sizeof(*e));	/* populates the page before the WP */
	e->size = 4096;
	uffd = uffd_wp_page(page);
	if (uffd < 0)
		SKIP(return, "userfaultfd write-protect: %s", strerror(-uffd));
	pfd.fd = uffd;
	ASSERT_EQ(0, pthread_create(&t, NULL, racer_alloc, &r));

	/* A's ALLOC has installed handle 2 and stalls in the copy-out. */
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no copy-out fault in 10 s");
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP);
	EXPECT_EQ(0, rp_info(fd, 2, &info));
	EXPECT_EQ(RP_PAGE, info.block_size);
	/* Another thread frees it, and handle 2 names another block. */
	EXPECT_EQ(0, rp_free(fd, 2));
	ASSERT_EQ(0, rp_alloc(fd, size2, 0, 0, &a));
	ASSERT_EQ(2, a.handle);

	/* A's copy-out now fails. */
	ASSERT_EQ(0, mprotect(page, RP_PAGE, PROT_READ));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_WAKE, &range));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(EFAULT, r.err);
	close(uffd);

	EXPECT_EQ(0, rp_info(fd, 2, &info))
		TH_LOG("the take-back freed another thread's handle 2");
	EXPECT_EQ(size2, info.block_size);
	expect_handle_1_kept(_metadata, fd, 2);
}

TEST_F(tb, alloc_take_back_spares_a_reused_handle)
{
	take_back_race(_metadata, self->fd, self->buf, false, false);
}

TEST_F(tb, alloc_batch_take_back_spares_a_reused_handle)
{
	take_back_race(_metadata, self->fd, self->buf, true, false);
}

TEST_F(tb, alloc_take_back_spares_a_reused_handle_and_block)
{
	take_back_race(_metadata, self->fd, self->buf, false, true);
}

TEST_F(tb, alloc_batch_take_back_spares_a_reused_handle_and_block)
{
	take_back_race(_metadata, self->fd, self->buf, true, true);
}

TEST_HARNESS_MAIN
