// SPDX-License-Identifier: GPL-2.0
/*
 * security_test - the threat model of Documentation/design.rst, one test
 * per point: every byte copied to userspace initialised, no integer
 * overflow in size/offset/timeout arithmetic, admin netlink commands
 * refused without CAP_SYS_ADMIN (also from a user namespace), /dev/respool
 * mode honoured, and one client can never name, map, free, see or share
 * another client's block, not even through a page pinned in a pipe, and
 * an EXPORT that fails on the way out leaves no fd or dma-buf behind.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define CANARY	0xa5

static bool all_bytes(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != c)
			return false;
	return true;
}

FIXTURE(sec) {
	int a, b;
};

FIXTURE_SETUP(sec)
{
	const char *why = rp_skip_reason();

	self->a = self->b = -1;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=256K max_block_size=64K pcpu_cache_blocks=4 threshold=0"));
	self->a = rp_open();
	self->b = rp_open();
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
}

FIXTURE_TEARDOWN(sec)
{
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
	if (!rp_skip_reason())
		rp_reload(NULL);
}

/* ---- 1. what the kernel copies out is fully written ---- */

TEST_F(sec, stats_copy_out_is_fully_initialised)
{
	struct respool_stats st;
	uint64_t *w = (uint64_t *)&st;
	size_t i;

	memset(&st, CANARY, sizeof(st));
	st.size = sizeof(st);
	st.__pad = 0;
	ASSERT_EQ(0, ioctl(self->a, RESPOOL_IOC_STATS, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(0, st.__pad);
	for (i = 1; i < sizeof(st) / 8; i++)
		EXPECT_NE(0xa5a5a5a5a5a5a5a5ULL, w[i])
			TH_LOG("stats word %zu still holds the canary", i);
}

TEST_F(sec, stats_never_writes_past_the_callers_size)
{
	unsigned char buf[sizeof(struct respool_stats) + 64];
	struct respool_stats *st = (void *)buf;
	unsigned int n;

	for (n = 8; n <= sizeof(*st); n += 8) {
		memset(buf, CANARY, sizeof(buf));
		st->size = n;
		st->__pad = 0;
		ASSERT_EQ(0, ioctl(self->a, RESPOOL_IOC_STATS, st));
		EXPECT_EQ(n, st->size);
		EXPECT_TRUE(all_bytes(buf + n, sizeof(buf) - n, CANARY))
			TH_LOG("STATS with size %u wrote past it", n);
	}
	/* A caller's struct larger than the kernel's: only ours is written. */
	memset(buf, CANARY, sizeof(buf));
	st->size = sizeof(buf);
	st->__pad = 0;
	ASSERT_EQ(0, ioctl(self->a, _IOC(_IOC_READ | _IOC_WRITE, RESPOOL_IOC_MAGIC,
					 3, sizeof(buf)), st));
	EXPECT_EQ(sizeof(*st), st->size);
	EXPECT_TRUE(all_bytes(buf + sizeof(*st), 64, CANARY));
}

TEST_F(sec, alloc_and_info_copy_out_no_stale_bytes)
{
	unsigned char buf[sizeof(struct respool_info) + 32];
	struct respool_info *info = (void *)buf;
	struct respool_alloc a;

	memset(&a, 0, sizeof(a));
	a.size = 5000;
	ASSERT_EQ(0, ioctl(self->a, RESPOOL_IOC_ALLOC, &a));
	EXPECT_EQ(0, a.reserved[0]);
	EXPECT_EQ(0, a.reserved[1]);
	EXPECT_EQ(2 * RP_PAGE, a.block_size);

	memset(buf, 0, sizeof(buf));
	info->handle = a.handle;
	memset(buf + sizeof(*info), 0, 32);
	ASSERT_EQ(0, ioctl(self->a, _IOC(_IOC_READ | _IOC_WRITE, RESPOOL_IOC_MAGIC,
					 2, sizeof(buf)), buf));
	EXPECT_EQ(5000, info->size);
	EXPECT_EQ(0, info->reserved[0]);
	EXPECT_EQ(0, info->reserved[1]);
	EXPECT_TRUE(all_bytes(buf + sizeof(*info), 32, 0))
		TH_LOG("INFO wrote past the kernel's struct into the caller's tail");
}

/* ---- 2. integer overflow at the edges ---- */

TEST_F(sec, sizes_near_u64_max_are_e2big)
{
	const uint64_t bad[] = { UINT64_MAX, UINT64_MAX - RP_PAGE + 2,
				 1ULL << 63, (uint64_t)INT64_MAX,
				 (uint64_t)-(int64_t)RP_PAGE, 1ULL << 52 };
	struct respool_stats st;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long long size = bad[i];

		EXPECT_EQ(-E2BIG, rp_alloc(self->a, size, RESPOOL_ALLOC_NONBLOCK,
					   0, NULL))
			TH_LOG("size %#llx", size);
	}
	ASSERT_EQ(0, rp_stats(self->a, &st));
	EXPECT_EQ(0, st.in_use_bytes);
	EXPECT_EQ(0, st.requested_bytes);
}

TEST_F(sec, mmap_offsets_near_2_64_are_refused)
{
	struct respool_alloc a;
	const uint64_t pg = RP_PAGE;
	uint64_t offs[6];
	unsigned int i;
	void *p;

	ASSERT_EQ(0, rp_alloc(self->a, pg, 0, 0, &a));
	offs[0] = -pg;
	offs[1] = -(pg << 20);
	offs[2] = (uint64_t)INT64_MAX & ~(pg - 1);
	offs[3] = a.offset + (((1ULL << 20) - 1) * pg);	/* last page index */
	offs[4] = ((uint64_t)INT32_MAX + 1) << 32;	/* handle 2^31 */
	offs[5] = a.offset | (1ULL << 31);		/* page 2^19 */
	for (i = 0; i < 6; i++) {
		p = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->a, offs[i]);
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("offset %#llx mapped",
						(unsigned long long)offs[i]);
		if (p != MAP_FAILED)
			munmap(p, pg);
	}
	/* A length that would wrap the page index. */
	p = mmap(NULL, 1ULL << 46, PROT_READ, MAP_SHARED, self->a, a.offset);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, self->a, a.offset);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("a range past the block's end mapped");
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(sec, timeout_near_u32_max_waits_not_wraps)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct respool_alloc a;
	uint64_t t0, waited;
	int i, ret;

	/* Fill the pool. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rp_alloc(self->a, 64 * RP_KiB, 0, 0, &a));
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < 2; i++) {
		uint32_t tmo = i ? UINT32_MAX : UINT32_MAX / 2 + 1;
		/*
		 * SIGALRM after 1 s, and every second after that: should a
		 * loaded guest run the first before the ALLOC has begun to
		 * wait, the next one still ends the wait.
		 */
		struct itimerval every_1s = {
			.it_interval = { .tv_sec = 1 }, .it_value = { .tv_sec = 1 },
		}, off = { 0 };

		t0 = rp_now_ns();
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &every_1s, NULL));
		ret = rp_alloc(self->b, RP_PAGE, RESPOOL_ALLOC_TIMEOUT, tmo, NULL);
		waited = rp_now_ns() - t0;
		setitimer(ITIMER_REAL, &off, NULL);
		EXPECT_EQ(-EINTR, ret) TH_LOG("timeout_ms=%u: got %d after %llu ms",
			tmo, ret, (unsigned long long)waited / 1000000);
		EXPECT_LE(500000000ULL, waited)
			TH_LOG("timeout_ms=%u ended the wait early", tmo);
	}
}

/* ---- 3. one client's blocks are invisible to another ---- */

TEST_F(sec, other_client_cannot_name_map_or_free)
{
	struct respool_alloc a;
	struct respool_info info;
	void *p;

	ASSERT_EQ(0, rp_alloc(self->a, RP_PAGE, 0, 0, &a));
	EXPECT_EQ(-ENOENT, rp_info(self->b, a.handle, &info));
	EXPECT_EQ(-ENOENT, rp_free(self->b, a.handle));
	p = mmap(NULL, RP_PAGE, PROT_READ, MAP_SHARED, self->b, a.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Still A's. */
	EXPECT_EQ(0, rp_info(self->a, a.handle, &info));
	EXPECT_EQ(0, rp_free(self->a, a.handle));
}

TEST_F(sec, reused_block_is_cleared_for_another_client)
{
	struct respool_alloc a, b;
	struct respool_info info;
	uint64_t *p;
	int i;

	/* Each reuse of A's written blocks by B must be zeroed. */
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, rp_alloc(self->a, 16 * RP_KiB, 0, 0, &a));
		p = rp_map(self->a, &a);
		ASSERT_NE(MAP_FAILED, p);
		rp_fill(p, a.block_size, 0x5ec12e7ULL + i);
		munmap(p, a.block_size);
		ASSERT_EQ(0, rp_free(self->a, a.handle));

		ASSERT_EQ(0, rp_alloc(self->b, 16 * RP_KiB, 0, 0, &b));
		ASSERT_EQ(0, rp_info(self->b, b.handle, &info));
		EXPECT_TRUE(info.flags & RESPOOL_INFO_ZEROED);
		p = rp_map(self->b, &b);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_TRUE(rp_all_zero(p, b.block_size))
			TH_LOG("client B sees client A's bytes");
		munmap(p, b.block_size);
		ASSERT_EQ(0, rp_free(self->b, b.handle));
	}
}

TEST_F(sec, freed_but_mapped_block_is_not_handed_out)
{
	struct respool_alloc a, b;
	uint64_t *pa, *pb;
	int i, n = 0;
	uint64_t handles[8];

	ASSERT_EQ(0, rp_alloc(self->a, 64 * RP_KiB, 0, 0, &a));
	pa = rp_map(self->a, &a);
	ASSERT_NE(MAP_FAILED, pa);
	rp_fill(pa, a.block_size, 0xa11ce);
	ASSERT_EQ(0, rp_free(self->a, a.handle));
	/* B takes what it can: the rest of the pool, never A's block. */
	for (i = 0; i < 8; i++) {
		if (rp_alloc(self->b, 64 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &b))
			break;
		handles[n++] = b.handle;
		pb = rp_map(self->b, &b);
		ASSERT_NE(MAP_FAILED, pb);
		EXPECT_TRUE(rp_all_zero(pb, b.block_size));
		rp_fill(pb, b.block_size, 0xb0b + i);
		munmap(pb, b.block_size);
	}
	EXPECT_EQ(3, n) TH_LOG("B got %d of the 3 free 64K blocks", n);
	/* A still sees its own bytes: nobody else got its pages. */
	EXPECT_TRUE(rp_check(pa, a.block_size, 0xa11ce));
	munmap(pa, a.block_size);
	/* Now the block is back and B can have it, cleared. */
	ASSERT_EQ(0, rp_alloc(self->b, 64 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &b));
	pb = rp_map(self->b, &b);
	ASSERT_NE(MAP_FAILED, pb);
	EXPECT_TRUE(rp_all_zero(pb, b.block_size));
	munmap(pb, b.block_size);
	for (i = 0; i < n; i++)
		rp_free(self->b, handles[i]);
}

TEST_F(sec, page_pinned_in_a_pipe_never_reaches_another_client)
{
	struct respool_alloc a, b;
	struct iovec iov;
	char rd[64];
	int pfd[2], i;
	uint64_t *pa, *pb;
	ssize_t n;

	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, rp_alloc(self->a, RP_PAGE, 0, 0, &a));
	pa = rp_map(self->a, &a);
	ASSERT_NE(MAP_FAILED, pa);
	memset(pa, 'A', RP_PAGE);
	/* vmsplice references the page itself from the pipe. */
	iov.iov_base = pa;
	iov.iov_len = 64;
	n = vmsplice(pfd[1], &iov, 1, 0);
	ASSERT_EQ(64, n);
	munmap(pa, RP_PAGE);
	ASSERT_EQ(0, rp_free(self->a, a.handle));
	/* B allocates and writes everything it can get. */
	for (i = 0; i < 64; i++) {
		if (rp_alloc(self->b, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, &b))
			break;
		pb = rp_map(self->b, &b);
		ASSERT_NE(MAP_FAILED, pb);
		memset(pb, 'B', RP_PAGE);
		munmap(pb, RP_PAGE);
	}
	n = read(pfd[0], rd, sizeof(rd));
	ASSERT_EQ(64, n);
	EXPECT_TRUE(all_bytes(rd, 64, 'A'))
		TH_LOG("the pipe now shows another client's data: the pinned page was reused");
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(sec, handle_from_a_forked_sibling_file_is_not_shared)
{
	struct respool_alloc a;
	struct respool_info info;
	int st;
	pid_t pid;

	ASSERT_EQ(0, rp_alloc(self->a, RP_PAGE, 0, 0, &a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Another process, its own open file: sees nothing. */
		int fd = rp_open();

		if (fd < 0 || rp_info(fd, a.handle, &info) != -ENOENT ||
		    rp_free(fd, a.handle) != -ENOENT ||
		    mmap(NULL, RP_PAGE, PROT_READ, MAP_SHARED, fd, a.offset) != MAP_FAILED)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	EXPECT_EQ(0, rp_info(self->a, a.handle, &info));
}

/*
 * EXPORT whose answer cannot be copied out (its struct on a read-only
 * page) must leave nothing behind: no fd in the table, no dma-buf, the
 * block still the file's under its handle. Without the fd installed only
 * after the copy-out, the caller would hold a dma-buf it cannot name.
 */
TEST_F(sec, export_answer_unwritable_leaves_no_fd_or_dmabuf)
{
	struct respool_export *e;
	struct respool_stats st;
	struct respool_alloc a;
	struct respool_info info;
	int next, after;

	ASSERT_EQ(0, rp_alloc(self->a, RP_PAGE, 0, 0, &a));
	e = mmap(NULL, RP_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, e);
	memset(e, 0, sizeof(*e));
	e->handle = a.handle;
	e->fd_flags = O_RDWR | O_CLOEXEC;
	ASSERT_EQ(0, mprotect(e, RP_PAGE, PROT_READ));
	next = dup(0);
	ASSERT_LE(0, next);
	close(next);

	EXPECT_EQ(-1, ioctl(self->a, RESPOOL_IOC_EXPORT, e));
	EXPECT_EQ(EFAULT, errno);
	after = dup(0);
	EXPECT_EQ(next, after) TH_LOG("an fd was left in the table");
	close(after);
	ASSERT_EQ(0, rp_stats(self->a, &st));
	EXPECT_EQ(0, st.exports);
	EXPECT_EQ(0, st.exported_bytes);
	EXPECT_EQ(0, rp_info(self->a, a.handle, &info));
	EXPECT_EQ(a.block_size, info.block_size);
	EXPECT_EQ(0, rp_free(self->a, a.handle));
	munmap(e, RP_PAGE);
}

/* A dma-buf of a block maps shared only, as the block itself does. */
TEST_F(sec, exported_block_maps_shared_only)
{
	struct respool_export e = { .fd_flags = O_RDWR | O_CLOEXEC };
	struct respool_alloc a;

	ASSERT_EQ(0, rp_alloc(self->a, RP_PAGE, 0, 0, &a));
	e.handle = a.handle;
	ASSERT_EQ(0, ioctl(self->a, RESPOOL_IOC_EXPORT, &e));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, RP_PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, e.fd, 0));
	EXPECT_EQ(EINVAL, errno);
	/* Another client cannot name it by its old handle either. */
	EXPECT_EQ(-ENOENT, rp_free(self->b, a.handle));
	close(e.fd);
}

/* ---- 4. permissions ---- */

/*
 * Run @argv as @uid (and, with @userns, as root of a new user namespace
 * owned by @uid); its stdout and stderr end up in @out.
 */
static int run_as(uid_t uid, bool userns, const char *const argv[],
		  char *out, size_t outlen)
{
	int st, p[2], o[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	if (pipe(o)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(o[1], 1);
		dup2(o[1], 2);
		close(o[0]);
		close(p[1]);
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(126);
		if (userns) {
			char map[64];
			int fd;

			/*
			 * setresuid() left us non-dumpable, which makes
			 * /proc/self/{setgroups,uid_map,gid_map} root's.
			 */
			if (prctl(PR_SET_DUMPABLE, 1))
				_exit(125);
			if (unshare(CLONE_NEWUSER))
				_exit(125);
			/* Become root of the namespace: full caps there. */
			fd = open("/proc/self/setgroups", O_WRONLY);
			if (fd >= 0 && (write(fd, "deny", 4) < 0 || close(fd)))
				_exit(125);
			snprintf(map, sizeof(map), "0 %u 1", uid);
			fd = open("/proc/self/uid_map", O_WRONLY);
			if (fd < 0 || write(fd, map, strlen(map)) < 0)
				_exit(125);
			close(fd);
			fd = open("/proc/self/gid_map", O_WRONLY);
			if (fd < 0 || write(fd, map, strlen(map)) < 0)
				_exit(125);
			close(fd);
			if (setresuid(0, 0, 0))
				_exit(125);
		}
		if (read(p[0], &c, 1) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[0]);
	close(p[1]);
	close(o[1]);
	/* Keep the head, drain the rest: a full pipe would block the child. */
	do {
		char rest[256];

		if (len + 1 < outlen)
			n = read(o[0], out + len, outlen - 1 - len);
		else
			n = read(o[0], rest, sizeof(rest));
		if (n > 0 && len + 1 < outlen)
			len += n;
	} while (n > 0);
	out[len] = 0;
	close(o[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void admin_refused(struct __test_metadata *_metadata, bool userns)
{
	const char *ctl = rp_ctl_path();
	const char *const cmds[][6] = {
		{ "prefill", "4K", "2" },
		{ "drain" },
		{ "reset" },
		{ "config", "set", "capacity", "128K" },
	};
	struct respool_stats st0, st1;
	unsigned int i;
	char out[512];
	int rc;

	if (!ctl)
		SKIP(return, "tools/respoolctl/respoolctl is not built");
	ASSERT_EQ(0, rp_stats(-1, &st0));
	for (i = 0; i < 4; i++) {
		const char *argv[8] = { ctl };

		memcpy(&argv[1], cmds[i], sizeof(cmds[i]));
		rc = run_as(65534, userns, argv, out, sizeof(out));
		if (userns && rc == 125)
			SKIP(return, "no user namespace here (unshare(CLONE_NEWUSER) fails, e.g. in a chroot)");
		EXPECT_EQ(1, rc) TH_LOG("respoolctl %s as nobody%s: exit %d, expected 1 (refused)",
			cmds[i][0], userns ? " (root in a user namespace)" : "", rc);
		/* Refused for the right reason: EPERM from the family. */
		EXPECT_NE(NULL, strstr(out, "permission denied"))
			TH_LOG("respoolctl %s%s said: %s", cmds[i][0],
			       userns ? " (root in a user namespace)" : "", out);
	}
	ASSERT_EQ(0, rp_stats(-1, &st1));
	EXPECT_EQ(st0.capacity, st1.capacity) TH_LOG("config set went through");
	EXPECT_EQ(st0.reserve_bytes, st1.reserve_bytes) TH_LOG("prefill went through");
	EXPECT_EQ(st0.last_reset_ns, st1.last_reset_ns) TH_LOG("reset went through");
	if (!userns) {
		/* Reads stay open to everyone; root may do what nobody may not. */
		const char *argv[] = { ctl, "stats", NULL };
		const char *argv2[] = { ctl, "prefill", "4K", "2", NULL };

		EXPECT_EQ(0, run_as(65534, false, argv, out, sizeof(out)))
			TH_LOG("respoolctl stats as nobody: %s", out);
		EXPECT_EQ(0, run_as(0, false, argv2, out, sizeof(out)))
			TH_LOG("respoolctl prefill as root: %s", out);
	}
}

TEST_F(sec, admin_netlink_refused_for_unprivileged_users)
{
	admin_refused(_metadata, false);
}

TEST_F(sec, admin_netlink_refused_for_root_of_a_user_namespace)
{
	admin_refused(_metadata, true);
}

TEST(dev_mode_is_honoured)
{
	const char *why = rp_skip_reason();
	struct stat sb;
	int st;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("dev_mode=0600"));
	ASSERT_EQ(0, stat(RP_DEV, &sb));
	EXPECT_EQ(0600, sb.st_mode & 0777);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(open(RP_DEV, O_RDWR) < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("nobody could open a 0600 /dev/respool");
	ASSERT_EQ(0, rp_reload(NULL));
	ASSERT_EQ(0, stat(RP_DEV, &sb));
	EXPECT_EQ(0666, sb.st_mode & 0777);
}

TEST_HARNESS_MAIN
