// SPDX-License-Identifier: GPL-2.0
/*
 * quota_test - what counts against client_quota and user_quota: a block
 * counts with its whole size, from its ALLOC until its last reference
 * (handle or mapping, also a fork()ed one) is gone, in its file's quota
 * and in its uid's; client-get shows it in held and mapped bytes; a
 * reused block never pushes a file over its quota; EDQUOT never waits.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define NOBODY	65534

/* ---- client-get over netlink ------------------------------------------- */

struct qt_client {
	uint64_t id, pid, held, mapped, handles;
};

struct qt_clients {
	int n;
	struct qt_client c[16];
};

static uint64_t qt_uint(struct nlattr *a)
{
	if (!a)
		return UINT64_MAX;
	return nla_len(a) == 4 ? nla_get_u32(a) : nla_get_u64(a);
}

static int qt_on_client(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_CLIENT_MAX + 1];
	struct qt_clients *l = arg;
	struct qt_client *c;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_CLIENT_MAX, NULL) ||
	    l->n >= (int)(sizeof(l->c) / sizeof(l->c[0])))
		return NL_SKIP;
	c = &l->c[l->n++];
	c->id = qt_uint(tb[RESPOOL_A_CLIENT_ID]);
	c->pid = qt_uint(tb[RESPOOL_A_CLIENT_PID]);
	c->held = qt_uint(tb[RESPOOL_A_CLIENT_HELD_BYTES]);
	/* UINT64_MAX when absent: an old module has no mapped-bytes. */
	c->mapped = qt_uint(tb[RESPOOL_A_CLIENT_MAPPED_BYTES]);
	c->handles = qt_uint(tb[RESPOOL_A_CLIENT_HANDLES]);
	return NL_OK;
}

/* The clients of this process, oldest (lowest id) first; 0 or -errno. */
static int qt_clients(struct qt_clients *l)
{
	struct nl_sock *sk = nl_socket_alloc();
	int family, ret = -EIO;

	memset(l, 0, sizeof(*l));
	if (!sk)
		return -ENOMEM;
	if (genl_connect(sk))
		goto out;
	family = genl_ctrl_resolve(sk, RESPOOL_FAMILY_NAME);
	if (family < 0)
		goto out;
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, qt_on_client, l);
	if (genl_send_simple(sk, family, RESPOOL_CMD_CLIENT_GET,
			     RESPOOL_FAMILY_VERSION, NLM_F_DUMP) < 0)
		goto out;
	ret = nl_recvmsgs_default(sk) < 0 ? -EIO : 0;
out:
	nl_socket_free(sk);
	return ret;
}

/* The n-th client (0: the first opened) of this process. */
static int qt_client(int nth, struct qt_client *out)
{
	struct qt_clients l;
	int i, k = 0, ret = qt_clients(&l);

	if (ret)
		return ret;
	for (i = 0; i < l.n; i++) {
		if (l.c[i].pid != (uint64_t)getpid())
			continue;
		if (k++ == nth) {
			*out = l.c[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* config-set of one u64 attribute; 0 or the ack's -errno. */
static int qt_config_set(int attr, uint64_t value)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = NULL;
	int family, ret = -EIO;

	if (!sk)
		return -ENOMEM;
	if (genl_connect(sk))
		goto out;
	family = genl_ctrl_resolve(sk, RESPOOL_FAMILY_NAME);
	msg = nlmsg_alloc();
	if (family < 0 || !msg ||
	    !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 RESPOOL_CMD_CONFIG_SET, RESPOOL_FAMILY_VERSION) ||
	    nla_put_u64(msg, attr, value) || nl_send_auto(sk, msg) < 0)
		goto out;
	ret = nl_wait_for_ack(sk) < 0 ? -EINVAL : 0;
out:
	nlmsg_free(msg);
	nl_socket_free(sk);
	return ret;
}

/* ---- helpers ----------------------------------------------------------- */

static bool qt_pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return !sched_setaffinity(0, sizeof(set), &set);
}

/* Nothing in use once every file and mapping is gone. */
static void qt_expect_idle(struct __test_metadata *_metadata)
{
	struct respool_stats st;

	ASSERT_EQ(0, rp_wait_idle(&st));
	EXPECT_EQ(0, st.clients);
	EXPECT_EQ(0, st.in_use_bytes) TH_LOG("%llu bytes still in use",
					     (unsigned long long)st.in_use_bytes);
}

FIXTURE(quota) {
	int fd;
};

FIXTURE_SETUP(quota)
{
	const char *why = rp_skip_reason();

	self->fd = -1;
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(quota)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void qt_reload(struct __test_metadata *_metadata, const char *params)
{
	int ret = rp_reload(params);

	ASSERT_EQ(0, ret) TH_LOG("loading with '%s': %s", params, strerror(-ret));
}

/* ---- (a) a FREEd mapped block counts until munmap ---------------------- */

TEST_F(quota, freed_mapped_block_counts_until_munmap)
{
	struct respool_alloc a, b;
	struct qt_client c;
	void *p;
	int i;

	qt_reload(_metadata, "capacity=16M client_quota=1M");
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);

	ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &a));
	p = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, RP_MiB);
	ASSERT_EQ(0, rp_free(self->fd, a.handle));

	/* The mapping keeps the block in use: it keeps its charge too. */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_MiB,
					    RESPOOL_ALLOC_NONBLOCK, 0, NULL))
			TH_LOG("ALLOC 1M after FREE of a mapped 1M block (try %d)", i);
	/* EDQUOT never waits, also without NONBLOCK. */
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL));

	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(RP_MiB, c.held) TH_LOG("held-bytes %llu with a FREEd block mapped",
					 (unsigned long long)c.held);
	EXPECT_EQ(RP_MiB, c.mapped) TH_LOG("mapped-bytes %llu with a FREEd block mapped",
					   (unsigned long long)c.mapped);
	EXPECT_EQ(0, c.handles);

	ASSERT_EQ(0, munmap(p, RP_MiB));
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(0, c.held);
	EXPECT_EQ(0, c.mapped);

	/* Room again, and a mapped live handle shows in both. */
	ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, &b));
	p = rp_map(self->fd, &b);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(RP_MiB, c.held);
	EXPECT_EQ(RP_MiB, c.mapped);
	EXPECT_EQ(1, c.handles);
	ASSERT_EQ(0, munmap(p, RP_MiB));
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(RP_MiB, c.held);
	EXPECT_EQ(0, c.mapped);

	close(self->fd);
	self->fd = -1;
	qt_expect_idle(_metadata);
}

/* ---- (b) a reused block never pushes a file over its quota ------------- */

/*
 * Threshold 0 lets a 4K request take any larger free block. With a 2M
 * block held of a 5M quota, a free 4M block would make 6M: the 4K ALLOC
 * must get a block that fits the room instead.
 */
static void qt_big_free_block(struct __test_metadata *_metadata, int *fdp,
			      const char *params, bool in_pcpu)
{
	struct respool_alloc big, mine, small;
	struct respool_stats st;
	struct qt_client c;
	int other;

	ASSERT_TRUE(qt_pin_cpu0());
	qt_reload(_metadata, params);
	*fdp = rp_open();
	other = rp_open();
	ASSERT_LE(0, *fdp);
	ASSERT_LE(0, other);

	ASSERT_EQ(0, rp_alloc(other, 4 * RP_MiB, 0, 0, &big));
	ASSERT_EQ(0, rp_alloc(*fdp, 2 * RP_MiB, 0, 0, &mine));
	ASSERT_EQ(2 * RP_MiB, mine.block_size);
	ASSERT_EQ(0, rp_free(other, big.handle));
	ASSERT_EQ(0, rp_stats(*fdp, &st));
	ASSERT_EQ(4 * RP_MiB, in_pcpu ? st.pcpu_bytes : st.reserve_bytes)
		TH_LOG("the free 4M block is not in the %s",
		       in_pcpu ? "per-CPU cache" : "reserve");

	ASSERT_EQ(0, rp_alloc(*fdp, 4 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &small));
	EXPECT_EQ(4 * RP_KiB, small.block_size)
		TH_LOG("a 4K ALLOC with 3M of quota left got a %llu-byte block",
		       (unsigned long long)small.block_size);
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_GE(5 * RP_MiB, c.held) TH_LOG("held-bytes %llu over the 5M quota",
					     (unsigned long long)c.held);
	EXPECT_EQ(mine.block_size + small.block_size, c.held);
	/* The big block is still free, not lost. */
	ASSERT_EQ(0, rp_stats(*fdp, &st));
	EXPECT_EQ(4 * RP_MiB, st.pcpu_bytes + st.reserve_bytes);

	/* A file with room for it may still reuse it. */
	ASSERT_EQ(0, rp_alloc(other, 4 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &small));
	EXPECT_EQ(4 * RP_MiB, small.block_size);

	close(other);
	close(*fdp);
	*fdp = -1;
	qt_expect_idle(_metadata);
}

TEST_F(quota, reused_block_from_reserve_fits_quota)
{
	qt_big_free_block(_metadata, &self->fd,
			  "capacity=16M threshold=0 client_quota=5M pcpu_cache_blocks=0",
			  false);
}

TEST_F(quota, reused_block_from_pcpu_cache_fits_quota)
{
	qt_big_free_block(_metadata, &self->fd,
			  "capacity=16M threshold=0 client_quota=5M pcpu_cache_blocks=16",
			  true);
}

/* A waiter is not handed a free block larger than its quota's room. */
TEST_F(quota, waiter_not_handed_block_past_quota)
{
	struct respool_alloc big, mine, rest, got;
	int other, third, pfd[2];
	struct qt_client c;
	pid_t pid;

	qt_reload(_metadata, "capacity=8M threshold=0 client_quota=5M pcpu_cache_blocks=0");
	self->fd = rp_open();
	other = rp_open();
	third = rp_open();
	ASSERT_LE(0, self->fd);
	ASSERT_LE(0, other);
	ASSERT_LE(0, third);
	/* The pool full: 4M + 2M (ours) + 2M. */
	ASSERT_EQ(0, rp_alloc(other, 4 * RP_MiB, 0, 0, &big));
	ASSERT_EQ(0, rp_alloc(self->fd, 2 * RP_MiB, 0, 0, &mine));
	ASSERT_EQ(0, rp_alloc(third, 2 * RP_MiB, 0, 0, &rest));
	ASSERT_EQ(0, pipe(pfd));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Shares self->fd: waits for 4K with 3M of quota left. */
		int err = rp_alloc(self->fd, 4 * RP_KiB, RESPOOL_ALLOC_TIMEOUT,
				   20000, &got);
		uint64_t out = err ? 0 : got.block_size;

		if (write(pfd[1], &out, sizeof(out)) != sizeof(out))
			_exit(2);
		_exit(err ? 1 : 0);
	}
	ASSERT_EQ(1, rp_wait_for_waiters(1));
	ASSERT_EQ(0, rp_free(other, big.handle));
	ASSERT_EQ(sizeof(uint64_t), read(pfd[0], &got.block_size, sizeof(uint64_t)));
	EXPECT_EQ(4 * RP_KiB, got.block_size)
		TH_LOG("the waiter with 3M of quota left got a %llu-byte block",
		       (unsigned long long)got.block_size);
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_GE(5 * RP_MiB, c.held) TH_LOG("held-bytes %llu over the 5M quota",
					     (unsigned long long)c.held);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	close(pfd[1]);
	close(third);
	close(other);
	close(self->fd);
	self->fd = -1;
	qt_expect_idle(_metadata);
}

/* ---- (c) user_quota ---------------------------------------------------- */

/* In a child: open as @uid, ALLOC @n blocks of @size, then one page. */
static int qt_as_user(uid_t uid, int n, uint64_t size)
{
	int fd, i, err;

	if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return 10;
	fd = rp_open();
	if (fd < 0)
		return 11;
	for (i = 0; i < n; i++)
		if (rp_alloc(fd, size, RESPOOL_ALLOC_NONBLOCK, 0, NULL))
			return 20 + i;
	err = rp_alloc(fd, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, NULL);
	return err == -EDQUOT ? 0 : 30;
}

TEST_F(quota, user_quota_spans_files_of_one_uid_only)
{
	struct respool_alloc a, b;
	int fd2, status;
	pid_t pid;
	void *p;

	qt_reload(_metadata, "capacity=16M user_quota=2M");
	self->fd = rp_open();
	fd2 = rp_open();
	ASSERT_LE(0, self->fd);
	ASSERT_LE(0, fd2);

	ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(fd2, RP_MiB, 0, 0, &b));
	/* Two files of one uid: 2M together, the quota. */
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL))
		TH_LOG("a third ALLOC of the uid past user_quota=2M");
	EXPECT_EQ(-EDQUOT, rp_alloc(fd2, RP_PAGE, RESPOOL_ALLOC_NONBLOCK, 0, NULL));
	/* A third file does not get around it. */
	{
		int fd3 = rp_open();

		ASSERT_LE(0, fd3);
		EXPECT_EQ(-EDQUOT, rp_alloc(fd3, RP_PAGE, 0, 0, NULL));
		close(fd3);
	}

	/* Another uid has a quota of its own: 2M, then EDQUOT. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(qt_as_user(NOBODY, 2, RP_MiB));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("as nobody: step %d failed (2x ALLOC 1M, then EDQUOT)",
		       WEXITSTATUS(status));

	/* A FREEd mapped block counts against the uid until munmap. */
	p = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	EXPECT_EQ(-EDQUOT, rp_alloc(fd2, RP_PAGE, 0, 0, NULL))
		TH_LOG("ALLOC past user_quota while a FREEd block is still mapped");
	ASSERT_EQ(0, munmap(p, a.block_size));
	EXPECT_EQ(0, rp_alloc(fd2, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, NULL));
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL));

	close(fd2);
	close(self->fd);
	self->fd = -1;
	qt_expect_idle(_metadata);
}

/* ---- (d) the charge goes with close and with the last mapping ---------- */

TEST_F(quota, charge_goes_with_close)
{
	struct respool_alloc a;
	int fd2;
	void *p;

	qt_reload(_metadata, "capacity=16M client_quota=1M user_quota=1M");
	self->fd = rp_open();
	fd2 = rp_open();
	ASSERT_LE(0, self->fd);
	ASSERT_LE(0, fd2);

	ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, NULL));
	EXPECT_EQ(-EDQUOT, rp_alloc(fd2, RP_PAGE, 0, 0, NULL));
	close(self->fd);
	EXPECT_EQ(0, rp_alloc(fd2, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, &a))
		TH_LOG("the closed file's charge is still there");

	/* Closed while mapped: the mapping holds the file and the charge. */
	p = rp_map(fd2, &a);
	ASSERT_NE(MAP_FAILED, p);
	close(fd2);
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL))
		TH_LOG("a closed but mapped file's block stopped counting");
	ASSERT_EQ(0, munmap(p, a.block_size));
	EXPECT_EQ(0, rp_alloc(self->fd, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, NULL));

	close(self->fd);
	self->fd = -1;
	qt_expect_idle(_metadata);
}

TEST_F(quota, charge_goes_with_last_mapping_of_forked_child)
{
	int go[2], ready[2], status;
	struct respool_alloc a;
	struct qt_client c;
	char ch = 0;
	pid_t pid;
	void *p;

	qt_reload(_metadata, "capacity=16M client_quota=1M");
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &a));
	p = rp_map(self->fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child's copy of the mapping outlives the parent's. */
		close(self->fd);
		if (write(ready[1], &ch, 1) != 1 || read(go[0], &ch, 1) != 1)
			_exit(2);
		((volatile char *)p)[0] = 7;
		munmap(p, RP_MiB);
		if (write(ready[1], &ch, 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &ch, 1));
	ASSERT_EQ(0, munmap(p, RP_MiB));
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_MiB, 0, 0, NULL))
		TH_LOG("the child's mapping still holds the FREEd block");
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(RP_MiB, c.held);
	EXPECT_EQ(RP_MiB, c.mapped);

	ASSERT_EQ(1, write(go[1], &ch, 1));
	ASSERT_EQ(1, read(ready[0], &ch, 1));
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(0, c.held);
	EXPECT_EQ(0, c.mapped);
	EXPECT_EQ(0, rp_alloc(self->fd, RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, NULL));

	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(self->fd);
	self->fd = -1;
	qt_expect_idle(_metadata);
}

/* ---- settings: lowering a quota takes nothing back --------------------- */

TEST_F(quota, lowered_quota_takes_nothing_back)
{
	struct respool_alloc a, b;
	struct qt_client c;
	void *p;

	qt_reload(_metadata, "capacity=16M client_quota=4M");
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, rp_alloc(self->fd, 2 * RP_MiB, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &b));
	p = rp_map(self->fd, &b);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, qt_config_set(RESPOOL_A_POOL_CLIENT_QUOTA, 2 * RP_MiB));

	/* 3M held of a 2M quota: kept, and nothing more until below. */
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(3 * RP_MiB, c.held);
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL));
	/* FREEd but mapped: still 3M. */
	ASSERT_EQ(0, rp_free(self->fd, b.handle));
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(3 * RP_MiB, c.held);
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL));
	/* Unmapped: 2M, at the quota. */
	ASSERT_EQ(0, munmap(p, RP_MiB));
	ASSERT_EQ(0, qt_client(0, &c));
	EXPECT_EQ(2 * RP_MiB, c.held);
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	EXPECT_EQ(0, rp_alloc(self->fd, 2 * RP_MiB, RESPOOL_ALLOC_NONBLOCK, 0, NULL));
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL));

	close(self->fd);
	self->fd = -1;
	qt_expect_idle(_metadata);
}

TEST_HARNESS_MAIN
