// SPDX-License-Identifier: GPL-2.0
/*
 * export_test - RESPOOL_IOC_EXPORT: a block leaves its file as a dma-buf,
 * travels to other processes (SCM_RIGHTS, fork) and comes back to its
 * pool when its last reference goes.
 *
 * - a producer exports filled blocks and sends the fds to a consumer,
 *   which maps (whole and from a page offset), checks and closes them;
 *   then the blocks are back: gauges, counters, and a waiter of the full
 *   pool served by a return;
 * - a block back from an export is handed out zeroed, even to the file
 *   that exported it;
 * - an exported mapped block: the file's mapping and the dma-buf's show
 *   the same bytes, and the block returns only when both are gone;
 * - fork: the child's fd and mapping keep the block;
 * - EMFILE leaves the block with the file under its handle;
 * - ENOENT, EINVAL (also for an fd set on the way in), the handle gone
 *   after a success, ENOTTY for a short struct; a read-only dma-buf;
 *   DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME, fdinfo's exp_name (respool,
 *   respool-NAME), poll;
 * - user_quota keeps counting an exported block after its file closed,
 *   client_quota does not;
 * - the race window of the test build's "export" injection point: the
 *   handle is out of reach (FREE, mmap, ALLOC) until the export is done.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define EX_POOL		"extest"
#define EX_POOL_DEV	"/dev/respool-" EX_POOL

/* ---- helpers ----------------------------------------------------------- */

/* RESPOOL_IOC_EXPORT; 0 or -errno, *out the new fd (-1 on failure). */
static int ex_export(int fd, uint64_t handle, uint32_t fd_flags, int *out)
{
	struct respool_export e = { .handle = handle, .fd_flags = fd_flags };
	int ret = ioctl(fd, RESPOOL_IOC_EXPORT, &e) ? -errno : 0;

	if (out)
		*out = ret ? -1 : e.fd;
	return ret;
}

/* What travels with each fd from the producer to the consumer. */
struct ex_msg {
	uint64_t seed;
	uint64_t size;
};

static int ex_send_fd(int sock, int fd, const struct ex_msg *m)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == sizeof(*m) ? 0 : -errno;
}

/* The fd received with *m, or -errno (-EBADMSG: no fd came). */
static int ex_recv_fd(int sock, struct ex_msg *m)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != sizeof(*m))
		return -errno ?: -EBADMSG;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * Stats once @returns exports came back (at most 30 s: a process's last
 * close may end after its exit is seen on a loaded guest); 0 or -errno.
 */
static int ex_wait_returns(uint64_t returns, struct respool_stats *st)
{
	uint64_t end = rp_now_ns() + 30 * 1000000000ULL;
	int ret;

	for (;;) {
		ret = rp_stats(-1, st);
		if (ret || st->export_returns >= returns || rp_now_ns() >= end)
			return ret;
		usleep(10000);
	}
}

/* Open file descriptors of this process. */
static int ex_count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!access(path, F_OK))
			n++;
	}
	return n;
}

/* Copy the /proc/self/fdinfo of @fd into @buf; 0 or -errno. */
static int ex_fdinfo(int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	n = read(f, buf, len - 1);
	close(f);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int ex_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

/* Alloc @size in @fd, map it, fill it from @seed, unmap; 0 or -errno. */
static int ex_alloc_filled(int fd, uint64_t size, uint64_t seed,
			   struct respool_alloc *a)
{
	int ret = rp_alloc(fd, size, RESPOOL_ALLOC_NONBLOCK, 0, a);
	void *p;

	if (ret)
		return ret;
	p = rp_map(fd, a);
	if (p == MAP_FAILED)
		return -errno;
	rp_fill(p, a->block_size, seed);
	munmap(p, a->block_size);
	return 0;
}

static void *ex_map_fd(int fd, uint64_t len, int prot, uint64_t off)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, off);
}

FIXTURE(ex) {
	bool pool;	/* made pool EX_POOL */
	bool inject;	/* armed the "export" point */
};

FIXTURE_SETUP(ex)
{
	const char *why = rp_skip_reason();

	self->pool = self->inject = false;
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(ex)
{
	if (self->inject)
		rp_inject("export", "release");
	if (self->pool)
		rp_ctl((const char *const[]){ "pool", "del", EX_POOL, NULL });
}

static void ex_reload(struct __test_metadata *_metadata, const char *params)
{
	int ret = rp_reload(params);

	ASSERT_EQ(0, ret) TH_LOG("loading with '%s': %s", params, strerror(-ret));
}

/* ---- producer and consumer --------------------------------------------- */

#define PC_N	4
#define PC_SIZE	(64 * RP_KiB)

/* A child: PC_N blocks filled, exported and sent; its exit says which step failed. */
static int pc_producer(int sock)
{
	struct respool_alloc a;
	struct ex_msg m;
	int fd = rp_open(), i, xfd;

	if (fd < 0)
		return 10;
	for (i = 0; i < PC_N; i++) {
		m.seed = 0x1000 + i;
		if (ex_alloc_filled(fd, PC_SIZE, m.seed, &a))
			return 20 + i;
		m.size = a.block_size;
		if (ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xfd))
			return 30 + i;
		if (ex_send_fd(sock, xfd, &m))
			return 40 + i;
		close(xfd);
	}
	close(fd);
	return 0;
}

/*
 * A child: receives PC_N fds, maps each whole and from its second page,
 * checks the producer's bytes through both and that they are one block,
 * and closes it.
 */
static int pc_consumer(int sock)
{
	uint64_t pg = RP_PAGE;
	struct ex_msg m;
	char *p, *q;
	int i, xfd;

	for (i = 0; i < PC_N; i++) {
		xfd = ex_recv_fd(sock, &m);
		if (xfd < 0)
			return 10 + i;
		if (lseek(xfd, 0, SEEK_END) != (off_t)m.size)
			return 20 + i;
		p = ex_map_fd(xfd, m.size, PROT_READ | PROT_WRITE, 0);
		q = ex_map_fd(xfd, m.size - pg, PROT_READ | PROT_WRITE, pg);
		if (p == MAP_FAILED || q == MAP_FAILED)
			return 30 + i;
		if (!rp_check(p, m.size, m.seed) || memcmp(p + pg, q, m.size - pg))
			return 40 + i;
		q[8] ^= 0xff;
		if (p[pg + 8] != q[8])
			return 50 + i;
		munmap(p, m.size);
		munmap(q, m.size - pg);
		close(xfd);
	}
	return 0;
}

/* The waiter: its outcome, the block's first look, then it holds. */
struct pc_outcome {
	int ret;
	uint32_t info_flags;
	int zero;
};

static void pc_waiter(int out, int go)
{
	struct pc_outcome o = { 0 };
	struct respool_alloc a = { 0 };
	struct respool_info info;
	char c;
	void *p;
	int fd = rp_open();

	o.ret = fd < 0 ? -errno :
		rp_alloc(fd, PC_SIZE, RESPOOL_ALLOC_TIMEOUT, 60000, &a);
	if (!o.ret && !rp_info(fd, a.handle, &info)) {
		o.info_flags = info.flags;
		p = rp_map(fd, &a);
		o.zero = p != MAP_FAILED && rp_all_zero(p, a.block_size);
	}
	if (write(out, &o, sizeof(o)) != sizeof(o))
		_exit(1);
	if (read(go, &c, 1) < 0)
		_exit(1);
	_exit(0);
}

TEST_F_TIMEOUT(ex, producer_to_consumer_blocks_return_and_serve_a_waiter, 180)
{
	int sv[2], wout[2], wgo[2], st;
	struct pc_outcome o;
	struct respool_stats s;
	pid_t prod, cons, waiter;

	/* Four 64K blocks fill the pool. */
	ex_reload(_metadata, "capacity=256K max_block_size=64K");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(wout, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(wgo, O_CLOEXEC));

	prod = fork();
	ASSERT_LE(0, prod);
	if (!prod)
		_exit(pc_producer(sv[0]));
	ASSERT_EQ(prod, waitpid(prod, &st, 0));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("producer: status %#x (exit 20+i alloc, 30+i export, 40+i send)", st);

	/* The producer is gone; its blocks live on in the fds in flight. */
	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(PC_N, s.exports);
	EXPECT_EQ(0, s.export_returns);
	EXPECT_EQ(PC_N * PC_SIZE, s.exported_bytes);
	EXPECT_EQ(PC_N * PC_SIZE, s.in_use_bytes)
		TH_LOG("in use %llu with %d exported blocks in flight",
		       (unsigned long long)s.in_use_bytes, PC_N);
	EXPECT_EQ(PC_N, s.blocks_in_use);
	EXPECT_EQ(0, s.clients);

	/* The pool is full: a blocking ALLOC waits. */
	waiter = fork();
	ASSERT_LE(0, waiter);
	if (!waiter) {
		/* Its go is the parent's close of the write end. */
		close(wgo[1]);
		pc_waiter(wout[1], wgo[0]);
	}
	ASSERT_EQ(1, rp_wait_for_waiters(1)) TH_LOG("the ALLOC of the full pool did not wait");

	cons = fork();
	ASSERT_LE(0, cons);
	if (!cons)
		_exit(pc_consumer(sv[1]));
	ASSERT_EQ(cons, waitpid(cons, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("consumer: status %#x (exit 10+i recv, 20+i size, 30+i mmap, 40+i data, 50+i not one block)", st);

	/* The first return served the waiter, zeroed. */
	ASSERT_EQ(sizeof(o), read(wout[0], &o, sizeof(o)));
	EXPECT_EQ(0, o.ret) TH_LOG("the waiter's ALLOC: %s", strerror(-o.ret));
	EXPECT_TRUE(o.info_flags & RESPOOL_INFO_ZEROED)
		TH_LOG("a block back from an export not handed out zeroed (flags %#x)",
		       o.info_flags);
	EXPECT_TRUE(o.zero) TH_LOG("the waiter's block is not all zero");

	ASSERT_EQ(0, ex_wait_returns(PC_N, &s));
	EXPECT_EQ(PC_N, s.export_returns);
	EXPECT_EQ(PC_N, s.exports);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(PC_N, s.frees) TH_LOG("returns go through the FREE path");
	EXPECT_LE(1, s.handoffs) TH_LOG("the return was not handed to the waiter");
	EXPECT_EQ(PC_SIZE, s.in_use_bytes) TH_LOG("in use: the waiter's block only");
	EXPECT_EQ(1, s.blocks_in_use);
	EXPECT_EQ(0, s.waiters);

	close(wgo[1]);
	ASSERT_EQ(waiter, waitpid(waiter, &st, 0));
	EXPECT_EQ(0, rp_wait_idle(&s));
	EXPECT_EQ(0, s.in_use_bytes);
	EXPECT_GE(256 * RP_KiB, s.reserve_bytes + s.pcpu_bytes);
	close(sv[0]);
	close(sv[1]);
}

/* ---- zeroing ----------------------------------------------------------- */

TEST_F(ex, returned_block_is_zeroed_even_for_the_exporting_file)
{
	struct respool_stats s0, s;
	struct respool_alloc a, b;
	struct respool_info info;
	int fd, xfd;
	char *p, *q;

	/* One block's room: the next ALLOC gets the returned block back. */
	ex_reload(_metadata, "capacity=64K max_block_size=64K");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, 64 * RP_KiB, 0, 0, &a));
	p = rp_map(fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	rp_fill(p, a.block_size, 1);
	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xfd));
	q = ex_map_fd(xfd, a.block_size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, q);
	/* Bytes another process could have written. */
	rp_fill(q, a.block_size, 2);
	munmap(q, a.block_size);
	munmap(p, a.block_size);
	close(xfd);
	ASSERT_EQ(0, ex_wait_returns(1, &s0));
	ASSERT_EQ(1, s0.export_returns);
	EXPECT_EQ(0, s0.in_use_bytes);

	ASSERT_EQ(0, rp_alloc(fd, 64 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &b));
	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(s0.fresh_allocs, s.fresh_allocs)
		TH_LOG("not the returned block: a fresh one");
	ASSERT_EQ(0, rp_info(fd, b.handle, &info));
	EXPECT_TRUE(info.flags & RESPOOL_INFO_ZEROED)
		TH_LOG("the exporter got its returned block back without ZEROED (flags %#x)",
		       info.flags);
	EXPECT_EQ(s0.zeroed_bytes + b.block_size, s.zeroed_bytes);
	p = rp_map(fd, &b);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(rp_all_zero(p, b.block_size))
		TH_LOG("the returned block still holds %s bytes",
		       rp_check(p, b.block_size, 2) ? "the dma-buf's" : "old");
	munmap(p, b.block_size);
	close(fd);
}

/* ---- exporting a mapped block ------------------------------------------ */

static uint64_t ex_returns(void)
{
	struct respool_stats s;

	return rp_stats(-1, &s) ? UINT64_MAX : s.export_returns;
}

TEST_F(ex, exported_mapped_block_is_one_block_and_returns_when_all_are_gone)
{
	struct respool_alloc a, b;
	struct respool_stats s;
	uint64_t sz = 16 * RP_KiB;
	char *pa, *pb, *qa, *qb;
	int fd, xa, xb;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, sz, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(fd, sz, 0, 0, &b));
	pa = rp_map(fd, &a);
	pb = rp_map(fd, &b);
	ASSERT_NE(MAP_FAILED, pa);
	ASSERT_NE(MAP_FAILED, pb);
	rp_fill(pa, sz, 0xa);
	rp_fill(pb, sz, 0xb);

	/* a: the file's mapping and the dma-buf's are one block. */
	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xa));
	EXPECT_TRUE(rp_check(pa, sz, 0xa)) TH_LOG("the file's mapping changed at export");
	qa = ex_map_fd(xa, sz, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, qa);
	EXPECT_EQ(0, memcmp(pa, qa, sz));
	qa[100] ^= 0x5a;
	EXPECT_EQ(pa[100], qa[100]) TH_LOG("a write through the dma-buf not seen by the file's mapping");
	pa[sz - 1] ^= 0x5a;
	EXPECT_EQ(pa[sz - 1], qa[sz - 1]) TH_LOG("a write through the file's mapping not seen by the dma-buf's");
	/* The dma-buf gone: the file's mapping still holds the block. */
	munmap(qa, sz);
	close(xa);
	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(0, s.export_returns) TH_LOG("returned while the file still maps it");
	EXPECT_EQ(sz, s.exported_bytes);
	EXPECT_EQ(2 * sz, s.in_use_bytes);
	pa[0] = 1;	/* and it still works */
	munmap(pa, sz);
	ASSERT_EQ(0, ex_wait_returns(1, &s));
	EXPECT_EQ(1, s.export_returns);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(sz, s.in_use_bytes);

	/* b, the other order: the file's mapping goes first. */
	ASSERT_EQ(0, ex_export(fd, b.handle, O_RDWR | O_CLOEXEC, &xb));
	munmap(pb, sz);
	EXPECT_EQ(1, ex_returns()) TH_LOG("returned with its fd open");
	qb = ex_map_fd(xb, sz, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, qb);
	EXPECT_TRUE(rp_check(qb, sz, 0xb));
	close(xb);
	EXPECT_EQ(1, ex_returns()) TH_LOG("returned with a dma-buf mapping left");
	EXPECT_TRUE(rp_check(qb, sz, 0xb)) TH_LOG("the mapping lost the block after close of the fd");
	munmap(qb, sz);
	ASSERT_EQ(0, ex_wait_returns(2, &s));
	EXPECT_EQ(2, s.export_returns);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(0, s.in_use_bytes);
	close(fd);
}

/* ---- fork -------------------------------------------------------------- */

TEST_F(ex, forked_child_keeps_an_exported_block_until_it_lets_go)
{
	int fd, xfd, ready[2], go[2], st;
	struct respool_alloc a;
	struct respool_stats s;
	uint64_t sz = 8 * RP_PAGE;
	char c = 0, *q;
	pid_t pid;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ex_alloc_filled(fd, sz, 7, &a));
	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDWR, &xfd));
	close(fd);
	q = ex_map_fd(xfd, sz, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *r;

		/* The inherited mapping and fd; a write the parent sees. */
		if (!rp_check(q, sz, 7))
			_exit(10);
		r = ex_map_fd(xfd, sz - RP_PAGE, PROT_READ | PROT_WRITE, RP_PAGE);
		if (r == MAP_FAILED)
			_exit(11);
		r[0] = 0x42;
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(12);
		/* The parent let go: the block is still ours. */
		if (r[0] != 0x42 || q[RP_PAGE] != 0x42)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(0x42, q[RP_PAGE]) TH_LOG("the child's write through its mapping not seen");
	munmap(q, sz);
	close(xfd);
	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(0, s.export_returns) TH_LOG("returned while a child holds it");
	EXPECT_EQ(sz, s.exported_bytes);
	EXPECT_EQ(sz, s.in_use_bytes);
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("child: status %#x (10 inherited data, 11 mmap, 13 lost after the parent let go)", st);
	ASSERT_EQ(0, ex_wait_returns(1, &s));
	EXPECT_EQ(1, s.export_returns);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(0, s.in_use_bytes);
}

/* ---- EMFILE ------------------------------------------------------------ */

TEST_F(ex, emfile_leaves_the_block_with_the_file_under_its_handle)
{
	struct respool_alloc a, b;
	struct respool_info info;
	struct respool_stats s;
	struct rlimit old, low;
	int fd, xfd, dups[64], ndups = 0, i, fds_before;
	char *p;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ex_alloc_filled(fd, 3 * RP_PAGE, 0xe, &a));
	ASSERT_EQ(0, ex_alloc_filled(fd, 2 * RP_PAGE, 0xf, &b));

	/* Every descriptor below the limit taken. */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	low = old;
	low.rlim_cur = 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	while (ndups < 64 && (dups[ndups] = dup(fd)) >= 0)
		ndups++;
	ASSERT_EQ(EMFILE, errno);
	fds_before = ex_count_fds();

	EXPECT_EQ(-EMFILE, ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xfd));
	EXPECT_EQ(fds_before, ex_count_fds());
	ASSERT_EQ(0, rp_info(fd, a.handle, &info)) TH_LOG("the handle is gone after EMFILE");
	EXPECT_EQ(a.block_size, info.block_size);
	EXPECT_EQ(a.offset, info.offset);
	p = rp_map(fd, &a);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap after EMFILE: %s", strerror(errno));
	EXPECT_TRUE(rp_check(p, a.block_size, 0xe));
	munmap(p, a.block_size);
	ASSERT_EQ(0, rp_stats(fd, &s));
	EXPECT_EQ(0, s.exports);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(a.block_size + b.block_size, s.in_use_bytes);
	EXPECT_EQ(0, rp_free(fd, a.handle)) TH_LOG("FREE after EMFILE");

	/* b: EMFILE, then with a descriptor free, the same handle exports. */
	EXPECT_EQ(-EMFILE, ex_export(fd, b.handle, O_RDWR | O_CLOEXEC, &xfd));
	close(dups[--ndups]);
	ASSERT_EQ(0, ex_export(fd, b.handle, O_RDWR | O_CLOEXEC, &xfd))
		TH_LOG("EXPORT of the same handle with a descriptor free");
	p = ex_map_fd(xfd, b.block_size, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(rp_check(p, b.block_size, 0xf));
	munmap(p, b.block_size);
	close(xfd);

	for (i = 0; i < ndups; i++)
		close(dups[i]);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	ASSERT_EQ(0, ex_wait_returns(1, &s));
	EXPECT_EQ(1, s.exports);
	EXPECT_EQ(1, s.export_returns);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(0, s.in_use_bytes);
	close(fd);
	EXPECT_EQ(0, rp_wait_idle(&s));
	EXPECT_EQ(0, s.in_use_bytes);
}

/* ---- errors ------------------------------------------------------------ */

TEST_F(ex, unknown_handles_are_enoent_and_change_nothing)
{
	struct respool_alloc a, a2, b1, b2;
	struct respool_info info;
	struct respool_stats s;
	int fa, fb, nfds;
	char *p;

	ex_reload(_metadata, "capacity=1M");
	fa = rp_open();
	fb = rp_open();
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, ex_alloc_filled(fa, RP_PAGE, 0x11, &a));
	ASSERT_EQ(0, rp_alloc(fb, RP_PAGE, 0, 0, &b1));
	ASSERT_EQ(0, rp_alloc(fb, RP_PAGE, 0, 0, &b2));
	ASSERT_EQ(0, rp_alloc(fa, RP_PAGE, 0, 0, &a2));
	ASSERT_EQ(0, rp_free(fa, a2.handle));
	ASSERT_NE(a.handle, b2.handle);
	nfds = ex_count_fds();

	EXPECT_EQ(-ENOENT, ex_export(fa, 0, O_RDWR, NULL));
	EXPECT_EQ(-ENOENT, ex_export(fa, 12345, O_RDWR, NULL));
	EXPECT_EQ(-ENOENT, ex_export(fa, (1ULL << 32) | a.handle, O_RDWR, NULL))
		TH_LOG("a handle above INT_MAX whose low bits name a live one");
	EXPECT_EQ(-ENOENT, ex_export(fa, (uint64_t)INT_MAX + 1, O_RDWR, NULL));
	EXPECT_EQ(-ENOENT, ex_export(fa, UINT64_MAX, O_RDWR, NULL));
	EXPECT_EQ(-ENOENT, ex_export(fa, b2.handle, O_RDWR, NULL))
		TH_LOG("another file's handle");
	EXPECT_EQ(-ENOENT, ex_export(fa, a2.handle, O_RDWR, NULL))
		TH_LOG("a freed handle");

	EXPECT_EQ(nfds, ex_count_fds());
	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(0, s.exports);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(3 * RP_PAGE, s.in_use_bytes);
	ASSERT_EQ(0, rp_info(fa, a.handle, &info));
	ASSERT_EQ(0, rp_info(fb, b2.handle, &info));
	p = rp_map(fa, &a);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(rp_check(p, RP_PAGE, 0x11));
	munmap(p, RP_PAGE);
	close(fa);
	close(fb);
}

TEST_F(ex, bad_flags_reserved_and_fd_are_einval_and_change_nothing)
{
	static const uint32_t bad[] = {
		O_WRONLY, O_WRONLY | O_CLOEXEC, O_RDWR | O_WRONLY, O_ACCMODE,
		O_RDWR | O_NONBLOCK, O_RDWR | O_APPEND, O_RDONLY | O_TRUNC,
		O_RDWR | O_CREAT, O_RDWR | O_SYNC, O_RDWR | O_CLOEXEC | 0x80000000u,
		0x80000000u, 0xffffffffu,
	};
	struct respool_export e;
	struct respool_alloc a;
	struct respool_info info;
	struct respool_stats s;
	int fd, nfds, i, ret;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, RP_PAGE, 0, 0, &a));
	nfds = ex_count_fds();

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
		EXPECT_EQ(-EINVAL, ex_export(fd, a.handle, bad[i], NULL))
			TH_LOG("fd_flags %#x", bad[i]);
	for (i = 0; i < 3; i++) {
		memset(&e, 0, sizeof(e));
		e.handle = a.handle;
		e.fd_flags = O_RDWR | O_CLOEXEC;
		if (i < 2)
			e.reserved[i] = i ? 1ULL << 63 : 1;
		else
			e.fd = 3;	/* out only: zero on the way in */
		ret = ioctl(fd, RESPOOL_IOC_EXPORT, &e) ? errno : 0;
		EXPECT_EQ(EINVAL, ret) TH_LOG("%s set", i < 2 ? "reserved" : "fd");
	}

	EXPECT_EQ(nfds, ex_count_fds());
	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(0, s.exports);
	EXPECT_EQ(0, s.exported_bytes);
	EXPECT_EQ(0, rp_info(fd, a.handle, &info)) TH_LOG("the handle went on a refused EXPORT");
	close(fd);
}

TEST_F(ex, success_takes_the_handle_away)
{
	struct respool_alloc a, b;
	struct respool_info info;
	struct respool_stats s;
	int fd, xa, xb, flags;
	void *p;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, 3 * RP_PAGE - 100, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(fd, RP_PAGE, 0, 0, &b));

	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xa));
	ASSERT_LE(0, xa);
	EXPECT_EQ((off_t)a.block_size, lseek(xa, 0, SEEK_END)) TH_LOG("the dma-buf's size");
	flags = fcntl(xa, F_GETFD);
	EXPECT_TRUE(flags >= 0 && (flags & FD_CLOEXEC)) TH_LOG("O_CLOEXEC not on the fd");
	flags = fcntl(xa, F_GETFL);
	EXPECT_EQ(O_RDWR, flags & O_ACCMODE);

	EXPECT_EQ(-ENOENT, rp_free(fd, a.handle));
	EXPECT_EQ(-ENOENT, rp_info(fd, a.handle, &info));
	p = rp_map(fd, &a);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap of an exported handle");
	EXPECT_EQ(EINVAL, errno);
	if (p != MAP_FAILED)
		munmap(p, a.block_size);
	EXPECT_EQ(-ENOENT, ex_export(fd, a.handle, O_RDWR, NULL)) TH_LOG("a second EXPORT");

	/* Without O_CLOEXEC the fd has no FD_CLOEXEC. */
	ASSERT_EQ(0, ex_export(fd, b.handle, O_RDWR, &xb));
	flags = fcntl(xb, F_GETFD);
	EXPECT_TRUE(flags >= 0 && !(flags & FD_CLOEXEC));

	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(2, s.exports);
	EXPECT_EQ(a.block_size + b.block_size, s.exported_bytes);
	EXPECT_EQ(a.block_size + b.block_size, s.in_use_bytes);
	/* The file going does not take the exported blocks with it. */
	close(fd);
	ASSERT_EQ(0, rp_stats(-1, &s));
	EXPECT_EQ(0, s.export_returns);
	EXPECT_EQ(0, s.clients);
	EXPECT_EQ(a.block_size + b.block_size, s.in_use_bytes);
	close(xa);
	close(xb);
	ASSERT_EQ(0, ex_wait_returns(2, &s));
	EXPECT_EQ(0, s.in_use_bytes);
	EXPECT_EQ(0, s.exported_bytes);
}

TEST_F(ex, struct_sizes_follow_the_abi_rule)
{
	unsigned char buf[64];
	struct respool_export *e = (void *)buf;
	struct respool_alloc a;
	int fd, ret;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, RP_PAGE, 0, 0, &a));

	memset(buf, 0, sizeof(buf));
	e->handle = a.handle;
	e->fd_flags = O_RDWR | O_CLOEXEC;
	ret = ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, RESPOOL_IOC_MAGIC, 6,
			     RESPOOL_EXPORT_SIZE_VER0 - 8), buf) ? errno : 0;
	EXPECT_EQ(ENOTTY, ret) TH_LOG("a struct shorter than the first version");
	/* A longer struct: a non-zero tail is refused, a zero one works. */
	buf[RESPOOL_EXPORT_SIZE_VER0 + 3] = 1;
	ret = ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, RESPOOL_IOC_MAGIC, 6,
			     RESPOOL_EXPORT_SIZE_VER0 + 16), buf) ? errno : 0;
	EXPECT_EQ(EINVAL, ret) TH_LOG("unknown non-zero tail");
	buf[RESPOOL_EXPORT_SIZE_VER0 + 3] = 0;
	ret = ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, RESPOOL_IOC_MAGIC, 6,
			     RESPOOL_EXPORT_SIZE_VER0 + 16), buf) ? errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("a longer struct with a zero tail: %s", strerror(ret));
	if (!ret) {
		EXPECT_LE(0, e->fd);
		close(e->fd);
	}
	close(fd);
}

/* ---- the dma-buf ------------------------------------------------------- */

TEST_F(ex, read_only_export_maps_read_only)
{
	struct respool_alloc a;
	struct respool_stats s;
	int fd, xfd;
	char *p;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ex_alloc_filled(fd, 4 * RP_PAGE, 0x0d, &a));
	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDONLY | O_CLOEXEC, &xfd));
	EXPECT_EQ(O_RDONLY, fcntl(xfd, F_GETFL) & O_ACCMODE);

	p = ex_map_fd(xfd, a.block_size, PROT_READ | PROT_WRITE, 0);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("PROT_WRITE mmap of a read-only dma-buf");
	EXPECT_EQ(EACCES, errno);
	if (p != MAP_FAILED)
		munmap(p, a.block_size);
	p = ex_map_fd(xfd, a.block_size - RP_PAGE, PROT_READ, RP_PAGE);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("PROT_READ mmap: %s", strerror(errno));
	/* The filled block from its second page. */
	EXPECT_EQ(0x0d ^ ((RP_PAGE / 8) * 0x9e3779b97f4a7c15ULL), *(uint64_t *)p);
	EXPECT_EQ(-1, mprotect(p, RP_PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, a.block_size - RP_PAGE);
	close(xfd);
	close(fd);
	ASSERT_EQ(0, ex_wait_returns(1, &s));
	EXPECT_EQ(0, s.exported_bytes);
}

/* Whether a line of @path has every one of @a and @b. */
static bool ex_file_has_line(const char *path, const char *a, const char *b)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) && strstr(line, b);
	fclose(f);
	return found;
}

#define EX_BUFINFO	"/sys/kernel/debug/dma_buf/bufinfo"

TEST_F(ex, dmabuf_sync_set_name_fdinfo_and_poll_work)
{
	struct pollfd pfd;
	struct respool_alloc a;
	char info[1024], want[64];
	int fd, xfd;
	char *p;

	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, 2 * RP_PAGE, 0, 0, &a));
	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xfd));
	p = ex_map_fd(xfd, a.block_size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, p);

	EXPECT_EQ(0, ex_sync(xfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	rp_fill(p, a.block_size, 5);
	EXPECT_EQ(0, ex_sync(xfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	EXPECT_EQ(0, ex_sync(xfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_TRUE(rp_check(p, a.block_size, 5));
	EXPECT_EQ(0, ex_sync(xfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-EINVAL, ex_sync(xfd, 1 << 8)) TH_LOG("SYNC with unknown flags");

	EXPECT_EQ(0, ioctl(xfd, DMA_BUF_SET_NAME, "ex-test-buf"))
		TH_LOG("DMA_BUF_SET_NAME: %s", strerror(errno));

	ASSERT_EQ(0, ex_fdinfo(xfd, info, sizeof(info)));
	EXPECT_NE(NULL, strstr(info, "exp_name:\trespool\n")) TH_LOG("fdinfo: %s", info);
	EXPECT_NE(NULL, strstr(info, "name:\tex-test-buf\n")) TH_LOG("fdinfo: %s", info);
	snprintf(want, sizeof(want), "size:\t%llu\n", (unsigned long long)a.block_size);
	EXPECT_NE(NULL, strstr(info, want)) TH_LOG("fdinfo: %s", info);

	if (!access(EX_BUFINFO, R_OK)) {
		EXPECT_TRUE(ex_file_has_line(EX_BUFINFO, "\trespool\t", "ex-test-buf"))
			TH_LOG("no line of %s names exporter respool and the buffer", EX_BUFINFO);
	} else {
		TH_LOG("%s not readable here: not checked", EX_BUFINFO);
	}

	pfd = (struct pollfd){ .fd = xfd, .events = POLLIN | POLLOUT };
	EXPECT_EQ(1, poll(&pfd, 1, 0)) TH_LOG("poll: %s", strerror(errno));
	EXPECT_EQ(0, pfd.revents & (POLLERR | POLLNVAL | POLLHUP));
	/* No fence on the buffer: ready both ways. */
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents & (POLLIN | POLLOUT));

	munmap(p, a.block_size);
	close(xfd);
	close(fd);
}

TEST_F(ex, named_pool_is_the_exporter_and_del_waits_for_its_blocks)
{
	const char *const add[] = { "pool", "add", EX_POOL, "capacity", "1M", NULL };
	const char *const del[] = { "pool", "del", EX_POOL, NULL };
	struct respool_alloc a;
	char info[1024];
	int fd, xfd, ret;

	rp_ctl(del);
	ret = rp_ctl(add);
	if (ret < 0)
		SKIP(return, "respoolctl is not built (make tools)");
	ASSERT_EQ(0, ret) TH_LOG("respoolctl pool add " EX_POOL);
	self->pool = true;
	fd = open(EX_POOL_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", EX_POOL_DEV, strerror(errno));
	ASSERT_EQ(0, rp_alloc(fd, RP_PAGE, 0, 0, &a));
	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xfd));
	close(fd);

	ASSERT_EQ(0, ex_fdinfo(xfd, info, sizeof(info)));
	EXPECT_NE(NULL, strstr(info, "exp_name:\trespool-" EX_POOL "\n"))
		TH_LOG("fdinfo: %s", info);
	/* The file is closed; the exported block keeps the pool. */
	EXPECT_EQ(1, rp_ctl(del)) TH_LOG("pool del with a block exported");
	close(xfd);
	EXPECT_EQ(0, rp_ctl(del)) TH_LOG("pool del once the dma-buf is closed");
	self->pool = false;
}

/* ---- quotas ------------------------------------------------------------ */

TEST_F(ex, user_quota_counts_an_exported_block_until_its_last_reference)
{
	struct respool_alloc a;
	int fa, fb, xfd;
	char *q;

	ex_reload(_metadata, "capacity=4M user_quota=1M");
	fa = rp_open();
	fb = rp_open();
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, rp_alloc(fa, RP_MiB, 0, 0, &a));
	ASSERT_EQ(0, ex_export(fa, a.handle, O_RDWR | O_CLOEXEC, &xfd));
	close(fa);
	EXPECT_EQ(-EDQUOT, rp_alloc(fb, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
		TH_LOG("the uid's exported block stopped counting when its file closed");
	q = ex_map_fd(xfd, RP_PAGE, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, q);
	close(xfd);
	EXPECT_EQ(-EDQUOT, rp_alloc(fb, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
		TH_LOG("stopped counting with a dma-buf mapping left");
	munmap(q, RP_PAGE);
	EXPECT_EQ(0, rp_alloc(fb, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
		TH_LOG("still counted after the dma-buf's last reference went");
	close(fb);
}

TEST_F(ex, exported_block_leaves_the_client_quota)
{
	struct respool_alloc a;
	int fd, fb, xfd;

	ex_reload(_metadata, "capacity=4M client_quota=1M user_quota=2M");
	fd = rp_open();
	fb = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, rp_alloc(fd, RP_MiB, 0, 0, &a));
	EXPECT_EQ(-EDQUOT, rp_alloc(fd, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, NULL));
	ASSERT_EQ(0, ex_export(fd, a.handle, O_RDWR | O_CLOEXEC, &xfd));
	/* The file's quota is free again; the uid's is not. */
	EXPECT_EQ(0, rp_alloc(fd, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
		TH_LOG("the exported block still counts in its file's client_quota");
	EXPECT_EQ(-EDQUOT, rp_alloc(fb, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
		TH_LOG("the exported block left the uid's user_quota");
	close(xfd);
	EXPECT_EQ(0, rp_alloc(fb, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, NULL));
	close(fd);
	close(fb);
}

/* ---- the race window --------------------------------------------------- */

struct ex_exporter {
	pthread_t t;
	int fd;
	uint64_t handle;
	int ret, xfd;
};

static void *ex_exporter_main(void *arg)
{
	struct ex_exporter *x = arg;

	x->ret = ex_export(x->fd, x->handle, O_RDWR | O_CLOEXEC, &x->xfd);
	return NULL;
}

/*
 * An EXPORT held at "export" (the handle taken out of reach, no dma-buf
 * yet): the handle is neither FREEd, mapped nor handed out again; then
 * the export completes. A hold ends by itself after 8 s: if the window
 * closed before the checks were done, they prove nothing, and the round
 * is run again.
 */
TEST_F_TIMEOUT(ex, export_window_keeps_the_handle_out_of_reach, 120)
{
	struct ex_exporter x;
	struct respool_alloc a, b;
	struct respool_stats s;
	int fd, round, hits, held, ret_free, ret_map;
	bool in_window = false;
	const char *why;
	char *p;

	why = rp_inject_skip_reason();
	if (why)
		SKIP(return, "%s", why);
	if (access(RP_INJECT_DIR "/export", W_OK))
		SKIP(return, "the module has no \"export\" injection point");
	ex_reload(_metadata, "capacity=1M");
	fd = rp_open();
	ASSERT_LE(0, fd);

	for (round = 0; round < 3 && !in_window; round++) {
		ASSERT_EQ(0, ex_alloc_filled(fd, 2 * RP_PAGE, 0x77 + round, &a));
		/* The lowest free handle: an ALLOC would get it if free. */
		ASSERT_EQ(1, a.handle);
		self->inject = true;
		ASSERT_EQ(0, rp_inject("export", "hold 1 8000"));
		x = (struct ex_exporter){ .fd = fd, .handle = a.handle, .xfd = -1 };
		ASSERT_EQ(0, pthread_create(&x.t, NULL, ex_exporter_main, &x));
		ASSERT_EQ(0, rp_inject_wait_held("export", 1, 20000))
			TH_LOG("the EXPORT never reached the point");

		ret_free = rp_free(fd, a.handle);
		p = rp_map(fd, &a);
		ret_map = p == MAP_FAILED ? errno : 0;
		if (p != MAP_FAILED)
			munmap(p, a.block_size);
		ASSERT_EQ(0, rp_alloc(fd, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, &b));
		in_window = !rp_inject_state("export", &hits, &held) && held == 1;
		ASSERT_EQ(0, rp_inject("export", "release"));
		pthread_join(x.t, NULL);
		if (!in_window)
			TH_LOG("round %d: the hold timed out before the checks were done", round);
		if (in_window) {
			EXPECT_EQ(-ENOENT, ret_free) TH_LOG("FREE inside the export window");
			EXPECT_EQ(EINVAL, ret_map) TH_LOG("mmap inside the export window");
			EXPECT_NE(a.handle, b.handle)
				TH_LOG("ALLOC inside the export window got the exported handle");
		}
		/* After the window: the export succeeds with the block. */
		ASSERT_EQ(0, x.ret) TH_LOG("EXPORT after the window: %s", strerror(-x.ret));
		p = ex_map_fd(x.xfd, a.block_size, PROT_READ, 0);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_TRUE(rp_check(p, a.block_size, 0x77 + round));
		munmap(p, a.block_size);
		close(x.xfd);
		ASSERT_EQ(0, rp_free(fd, b.handle));
	}
	EXPECT_TRUE(in_window) TH_LOG("every hold timed out: the guest is too slow");
	ASSERT_EQ(0, ex_wait_returns(round, &s));
	EXPECT_EQ(round, s.exports);
	EXPECT_EQ(round, s.export_returns);
	EXPECT_EQ(0, s.in_use_bytes);
	close(fd);
}

TEST_HARNESS_MAIN
