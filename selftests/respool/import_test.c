// SPDX-License-Identifier: GPL-2.0
/*
 * import_test - a device driver imports an exported block: the test-only
 * importer module (importer/respool_importer.ko, loaded by run_tests.sh)
 * gets the dma-buf, attaches it to its dummy device, maps the sg_table,
 * vmaps it, reads and writes it, and lets go, one ioctl per step. The
 * block must hold what the test wrote, and stay out of the pool for as
 * long as the importer holds any of it: it comes back, to a waiter first,
 * only when the importer detaches and puts the dma-buf.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"
#include "respool_util.h"
#include "importer/respool_importer.h"

#define PG		RP_PAGE
#define CAP		RP_MiB
#define IMP_DEV		"/dev/" RESPOOL_IMP_NAME
#define POOL_1M		"capacity=1M pcpu_cache_blocks=0 idle_trim_ms=0"

/* What the waiter of waiter_is_served_when_the_importer_detaches saw. */
struct report {
	int ret;		/* ALLOC: 0 or -errno */
	int zeroed;		/* the whole block read as zeroes */
	uint32_t info_flags;	/* RESPOOL_IOC_INFO's flags */
	uint64_t block_size;
};

/* The process running the test, parent of the waiter. */
static pid_t test_pid;

FIXTURE(imp) {
	int fd;			/* the exporting file */
	int imp[2];		/* files of the importer: an import each */
	int rfd, wfd;		/* the waiter's report pipe */
	pid_t kid;
};

FIXTURE_SETUP(imp)
{
	const char *why = rp_skip_reason();
	int p[2];

	self->fd = self->imp[0] = self->imp[1] = -1;
	self->rfd = self->wfd = -1;
	self->kid = 0;
	test_pid = getpid();
	if (why)
		SKIP(return, "%s", why);
	if (access(IMP_DEV, F_OK))
		SKIP(return, "the importer module is not loaded (no %s): run_tests.sh loads the respool_importer.ko that tools/build-module.sh builds",
		     IMP_DEV);
	ASSERT_EQ(0, rp_reload(POOL_1M));
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	self->imp[0] = open(IMP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->imp[0]);
	self->imp[1] = open(IMP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->imp[1]);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->rfd = p[0];
	self->wfd = p[1];
}

FIXTURE_TEARDOWN(imp)
{
	if (self->kid > 0) {
		kill(self->kid, SIGKILL);
		waitpid(self->kid, NULL, 0);
	}
	/* Closing an importer file undoes its import. */
	if (self->imp[0] >= 0)
		close(self->imp[0]);
	if (self->imp[1] >= 0)
		close(self->imp[1]);
	if (self->fd >= 0)
		close(self->fd);
	if (self->rfd >= 0)
		close(self->rfd);
	if (self->wfd >= 0)
		close(self->wfd);
}

/* RESPOOL_IOC_EXPORT with O_RDWR | O_CLOEXEC: the dma-buf fd or -errno. */
static int export_block(int fd, uint64_t handle)
{
	struct respool_export e = {
		.handle = handle, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	return ioctl(fd, RESPOOL_IOC_EXPORT, &e) ? -errno : e.fd;
}

static int imp_import(int ifd, int dfd, uint64_t *size)
{
	struct respool_imp_import in = { .fd = dfd };
	int ret = ioctl(ifd, RESPOOL_IMP_IOC_IMPORT, &in) ? -errno : 0;

	*size = in.size;
	return ret;
}

static int imp_map(int ifd, struct respool_imp_map *m)
{
	memset(m, 0, sizeof(*m));
	return ioctl(ifd, RESPOOL_IMP_IOC_MAP, m) ? -errno : 0;
}

/* VMAP, VUNMAP, UNMAP, DETACH: 0 or -errno. */
static int imp_step(int ifd, unsigned long cmd)
{
	return ioctl(ifd, cmd) ? -errno : 0;
}

/*
 * Does the importer read the pattern @seed, through @via? Returns the
 * offset of the first word that differs, RESPOOL_IMP_ALL_GOOD, or
 * RESPOOL_IMP_ALL_GOOD - 1 if the check itself failed.
 */
static uint64_t imp_check(int ifd, uint64_t seed, uint32_t via)
{
	struct respool_imp_check c = { .seed = seed, .via = via };

	if (ioctl(ifd, RESPOOL_IMP_IOC_CHECK, &c))
		return RESPOOL_IMP_ALL_GOOD - 1;
	return c.bad_offset;
}

static int imp_fill(int ifd, uint64_t seed)
{
	return ioctl(ifd, RESPOOL_IMP_IOC_FILL, &seed) ? -errno : 0;
}

/*
 * Wait (at most 30 s) until export_returns reaches @n: the dma-buf's
 * release may finish after the call that dropped the last reference.
 * Leaves the last snapshot in *st; 0 or -errno of the stats ioctl.
 */
static int wait_returns(uint64_t n, struct respool_stats *st)
{
	uint64_t end = rp_now_ns() + 30 * 1000000000ULL;
	int ret;

	for (;;) {
		ret = rp_stats(-1, st);
		if (ret || st->export_returns >= n || rp_now_ns() >= end)
			return ret;
		usleep(10000);
	}
}

/* The block of @size is exported and not back: a gauge check. */
#define EXPECT_STILL_OUT(size, returns, what) do {				\
	struct respool_stats _st;						\
	ASSERT_EQ(0, rp_stats(-1, &_st));					\
	EXPECT_EQ(size, _st.exported_bytes)					\
		TH_LOG("exported_bytes %llu %s",				\
		       (unsigned long long)_st.exported_bytes, what);		\
	EXPECT_EQ(size, _st.in_use_bytes)					\
		TH_LOG("in_use_bytes %llu %s",					\
		       (unsigned long long)_st.in_use_bytes, what);		\
	EXPECT_EQ(returns, _st.export_returns)					\
		TH_LOG("the block came back %s", what);				\
} while (0)

/*
 * Import, map, vmap, read and write, with only the importer holding the
 * block at the end: it is still out (in use, exported) through every
 * step, even after the importer unmapped it, and back only after
 * DETACH.
 */
TEST_F_TIMEOUT(imp, block_returns_only_after_detach, 300)
{
	struct respool_stats st0, st;
	struct respool_imp_map m;
	struct respool_alloc a;
	uint64_t size, bs;
	char *p;
	int dfd;

	ASSERT_EQ(0, rp_alloc(self->fd, 16 * PG, 0, 0, &a));
	bs = a.block_size;
	p = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, bs, 11);
	munmap(p, bs);
	ASSERT_EQ(0, rp_stats(-1, &st0));

	dfd = export_block(self->fd, a.handle);
	ASSERT_LE(0, dfd) TH_LOG("EXPORT: %s", strerror(-dfd));
	ASSERT_EQ(0, rp_stats(-1, &st));
	EXPECT_EQ(st0.exports + 1, st.exports);
	EXPECT_EQ(bs, st.exported_bytes);
	p = mmap(NULL, bs, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_import(self->imp[0], dfd, &size));
	EXPECT_EQ(bs, size);
	/* From here the importer and the dma-buf mapping hold the block. */
	close(dfd);
	close(self->fd);
	self->fd = -1;
	EXPECT_STILL_OUT(bs, st0.export_returns, "with the exporter's fd and file closed");

	ASSERT_EQ(0, imp_map(self->imp[0], &m));
	EXPECT_EQ(1, m.nents) TH_LOG("a block is contiguous: one entry");
	EXPECT_LE(1, m.dma_nents);
	EXPECT_EQ(bs, m.length);
	EXPECT_EQ(bs, m.dma_length);
	EXPECT_EQ(bs / PG, m.pages);
	EXPECT_EQ(0, m.bad_pages);
	EXPECT_EQ(RESPOOL_IMP_ALL_GOOD,
		  imp_check(self->imp[0], 11, RESPOOL_IMP_VIA_PAGES))
		TH_LOG("the sg_table's pages do not hold what was written before EXPORT");

	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_VMAP));
	EXPECT_EQ(RESPOOL_IMP_ALL_GOOD,
		  imp_check(self->imp[0], 11, RESPOOL_IMP_VIA_VMAP))
		TH_LOG("the vmap does not hold what was written before EXPORT");
	/* The importer's writes reach the test's mapping, and back. */
	ASSERT_EQ(0, imp_fill(self->imp[0], 12));
	EXPECT_TRUE(rp_check(p, bs, 12));
	rp_fill(p, bs, 13);
	EXPECT_EQ(RESPOOL_IMP_ALL_GOOD,
		  imp_check(self->imp[0], 13, RESPOOL_IMP_VIA_VMAP));
	EXPECT_EQ(RESPOOL_IMP_ALL_GOOD,
		  imp_check(self->imp[0], 13, RESPOOL_IMP_VIA_PAGES));
	munmap(p, bs);
	EXPECT_STILL_OUT(bs, st0.export_returns, "with only the importer holding it");

	EXPECT_EQ(-EBUSY, imp_step(self->imp[0], RESPOOL_IMP_IOC_DETACH));
	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_VUNMAP));
	EXPECT_STILL_OUT(bs, st0.export_returns, "after the importer's vunmap");
	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_UNMAP));
	EXPECT_STILL_OUT(bs, st0.export_returns, "after the importer's unmap, still attached");

	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_DETACH));
	ASSERT_EQ(0, wait_returns(st0.export_returns + 1, &st));
	EXPECT_EQ(st0.export_returns + 1, st.export_returns)
		TH_LOG("the block did not come back after DETACH");
	EXPECT_EQ(st0.exports + 1, st.exports);
	EXPECT_EQ(0, st.exported_bytes);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.blocks_in_use);
	EXPECT_EQ(0, st.lost_wakeups);
	EXPECT_EQ(st.allocs, st.frees) TH_LOG("the return is a free");
	rp_expect_all_accounted(_metadata, CAP, 64 * RP_KiB, 1);
}

/* In the waiter: die with the test process; keep only stdio and @keep. */
static void child_setup(int keep)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != test_pid)
		_exit(0);
	for (fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

/* Read the report within @ms: 1 got it, 0 none came, -1 error. */
static int read_report(int rfd, struct report *r, int ms)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	if (n <= 0)
		return n;
	return read(rfd, r, sizeof(*r)) == sizeof(*r) ? 1 : -1;
}

/*
 * The whole pool is one exported block that only the importer holds; an
 * ALLOC of it waits. It must go on waiting through every step the
 * importer takes, and be served (with the block, cleared) when the
 * importer detaches.
 */
TEST_F_TIMEOUT(imp, waiter_is_served_when_the_importer_detaches, 300)
{
	struct respool_stats st0, st;
	struct respool_imp_map m;
	struct respool_alloc a;
	struct report r;
	uint64_t size;
	int dfd, status, i;
	char *p;

	ASSERT_EQ(0, rp_alloc(self->fd, CAP, RESPOOL_ALLOC_NONBLOCK, 0, &a));
	p = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, a.block_size, 21);
	munmap(p, a.block_size);
	dfd = export_block(self->fd, a.handle);
	ASSERT_LE(0, dfd) TH_LOG("EXPORT: %s", strerror(-dfd));
	ASSERT_EQ(0, imp_import(self->imp[0], dfd, &size));
	close(dfd);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, rp_stats(-1, &st0));
	EXPECT_EQ(CAP, st0.exported_bytes);

	self->kid = fork();
	ASSERT_LE(0, self->kid);
	if (self->kid == 0) {
		struct report rep = { 0 };
		struct respool_info info;
		int fd;

		child_setup(self->wfd);
		fd = rp_open();
		if (fd < 0)
			_exit(2);
		rep.ret = rp_alloc(fd, CAP, 0, 0, &a);
		if (!rep.ret) {
			rep.block_size = a.block_size;
			p = rp_map(fd, &a);
			rep.zeroed = p != MAP_FAILED && rp_all_zero(p, a.block_size);
			if (!rp_info(fd, a.handle, &info))
				rep.info_flags = info.flags;
		}
		if (write(self->wfd, &rep, sizeof(rep)) != sizeof(rep))
			_exit(3);
		_exit(0);
	}
	/* The child may be slow to start on a loaded guest: up to 60 s. */
	for (i = 0; i < 6 && rp_wait_for_waiters(1) < 1; i++)
		;
	ASSERT_EQ(1, rp_wait_for_waiters(1)) TH_LOG("the ALLOC did not wait");

	/* Every step but the last leaves the block with the importer. */
	ASSERT_EQ(0, imp_map(self->imp[0], &m));
	EXPECT_EQ(0, read_report(self->rfd, &r, 0)) TH_LOG("served while mapped");
	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_VMAP));
	EXPECT_EQ(RESPOOL_IMP_ALL_GOOD,
		  imp_check(self->imp[0], 21, RESPOOL_IMP_VIA_VMAP));
	ASSERT_EQ(0, imp_fill(self->imp[0], 22));
	EXPECT_EQ(0, read_report(self->rfd, &r, 0)) TH_LOG("served while vmapped");
	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_VUNMAP));
	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_UNMAP));
	EXPECT_EQ(0, read_report(self->rfd, &r, 0)) TH_LOG("served while attached");
	ASSERT_EQ(0, rp_stats(-1, &st));
	EXPECT_EQ(1, st.waiters);
	EXPECT_EQ(st0.export_returns, st.export_returns);
	EXPECT_EQ(CAP, st.exported_bytes);

	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_DETACH));
	ASSERT_EQ(1, read_report(self->rfd, &r, 120000))
		TH_LOG("the waiter was not served within 120 s of DETACH");
	EXPECT_EQ(0, r.ret) TH_LOG("the waiter's ALLOC: %s", strerror(-r.ret));
	EXPECT_EQ(CAP, r.block_size);
	EXPECT_TRUE(r.zeroed) TH_LOG("the importer's writes reached the next client");
	EXPECT_TRUE(r.info_flags & RESPOOL_INFO_ZEROED);
	ASSERT_EQ(self->kid, waitpid(self->kid, &status, 0));
	self->kid = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ASSERT_EQ(0, wait_returns(st0.export_returns + 1, &st));
	EXPECT_EQ(st0.export_returns + 1, st.export_returns);
	EXPECT_EQ(st0.handoffs + 1, st.handoffs) TH_LOG("the return went to the waiter directly");
	EXPECT_EQ(0, st.exported_bytes);
	EXPECT_EQ(0, st.lost_wakeups);
	rp_expect_all_accounted(_metadata, CAP, 64 * RP_KiB, 1);
}

/*
 * Two imports of one dma-buf (two attachments, two references): the
 * block comes back after the second DETACH, not the first.
 */
TEST_F_TIMEOUT(imp, block_returns_after_the_last_of_two_importers, 300)
{
	struct respool_stats st0, st;
	struct respool_imp_map m;
	struct respool_alloc a;
	uint64_t size;
	int dfd, i;

	ASSERT_EQ(0, rp_alloc(self->fd, 4 * PG, 0, 0, &a));
	ASSERT_EQ(0, rp_stats(-1, &st0));
	dfd = export_block(self->fd, a.handle);
	ASSERT_LE(0, dfd) TH_LOG("EXPORT: %s", strerror(-dfd));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, imp_import(self->imp[i], dfd, &size));
		EXPECT_EQ(a.block_size, size);
		ASSERT_EQ(0, imp_map(self->imp[i], &m));
		EXPECT_EQ(a.block_size, m.dma_length);
	}
	close(dfd);
	close(self->fd);
	self->fd = -1;

	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_UNMAP));
	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_DETACH));
	EXPECT_STILL_OUT(a.block_size, st0.export_returns, "with one importer left");
	ASSERT_EQ(0, imp_step(self->imp[1], RESPOOL_IMP_IOC_UNMAP));
	ASSERT_EQ(0, imp_step(self->imp[1], RESPOOL_IMP_IOC_DETACH));
	ASSERT_EQ(0, wait_returns(st0.export_returns + 1, &st));
	EXPECT_EQ(st0.export_returns + 1, st.export_returns);
	EXPECT_EQ(0, st.exported_bytes);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.lost_wakeups);
}

/*
 * A driver torn down with everything still mapped (here: its file
 * closed, which unmaps, detaches and puts in turn) gives the block back.
 */
TEST_F_TIMEOUT(imp, block_returns_when_the_importer_lets_go_of_everything, 300)
{
	struct respool_stats st0, st;
	struct respool_imp_map m;
	struct respool_alloc a;
	uint64_t size;
	int dfd;

	ASSERT_EQ(0, rp_alloc(self->fd, 8 * PG, 0, 0, &a));
	ASSERT_EQ(0, rp_stats(-1, &st0));
	dfd = export_block(self->fd, a.handle);
	ASSERT_LE(0, dfd) TH_LOG("EXPORT: %s", strerror(-dfd));
	ASSERT_EQ(0, imp_import(self->imp[0], dfd, &size));
	close(dfd);
	ASSERT_EQ(0, imp_map(self->imp[0], &m));
	ASSERT_EQ(0, imp_step(self->imp[0], RESPOOL_IMP_IOC_VMAP));
	EXPECT_STILL_OUT(a.block_size, st0.export_returns, "while mapped and vmapped");

	close(self->imp[0]);
	self->imp[0] = -1;
	ASSERT_EQ(0, wait_returns(st0.export_returns + 1, &st));
	EXPECT_EQ(st0.export_returns + 1, st.export_returns);
	EXPECT_EQ(0, st.exported_bytes);
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.lost_wakeups);
}

TEST_HARNESS_MAIN
