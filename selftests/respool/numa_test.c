// SPDX-License-Identifier: GPL-2.0
/*
 * numa_test - a pool's NUMA node (issue 15). Needs a guest with two nodes
 * or more (tools/vm/run --numa 2; tools/check.sh runs it so) and skips,
 * saying so, with fewer.
 *
 * For each online node N, a pool made by pool-new with node N: a mapped,
 * touched multi-page block ALLOCated on a CPU of another node has every
 * page on N, as move_pages(2) (nodes NULL: only where they are) tells,
 * and pool-get's stats node-bytes count its bytes on N and none elsewhere. A pool with node -1 gives a thread
 * pinned to a CPU of node N pages of node N. pool-new (and config-set)
 * with a node that is not online fails with EINVAL and changes nothing.
 * Every pool made here is deleted by the fixture's teardown, whatever
 * happened.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "kselftest_harness.h"
#include "respool_nl.h"
#include "respool_util.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

#define MAX_NODES	1024
#define MAX_POOLS	8
#define BLOCK_PAGES	64	/* the block each check maps: 256K with 4K pages */

/* ---- node and CPU lists from sysfs --------------------------------------- */

/* Parse a sysfs list ("0-1,4") into @set (MAX_NODES bits); count, or -1. */
static int parse_list(const char *path, bool *set)
{
	char buf[4096], *p, *end;
	int n = 0, fd, len;
	long a, b;

	memset(set, 0, MAX_NODES * sizeof(*set));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = 0;
	for (p = buf; *p && *p != '\n';) {
		a = strtol(p, &end, 10);
		if (end == p)
			return -1;
		b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (; a <= b && a < MAX_NODES; a++, n++)
			set[a] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

static bool online_nodes[MAX_NODES];

static int count_online_nodes(void)
{
	return parse_list("/sys/devices/system/node/online", online_nodes);
}

/* An online CPU of @node, or -1. */
static int cpu_of_node(int node)
{
	static bool cpus[MAX_NODES], online[MAX_NODES];
	char path[128];
	int c;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	if (parse_list(path, cpus) <= 0)
		return -1;
	/* cpu0 is always online (it has no online file on x86). */
	if (parse_list("/sys/devices/system/cpu/online", online) < 0)
		return -1;
	for (c = 0; c < MAX_NODES; c++)
		if (cpus[c] && online[c])
			return c;
	return -1;
}

/* ---- pool-new, pool-get, pool-del ------------------------------------------ */

struct new_reply {
	uint64_t id;
	char dev[64];
};

static int parse_new(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct new_reply *n = arg;

	(void)nlh;
	n->id = nl_uint(tb[RESPOOL_A_POOL_POOL_ID]);
	if (tb[RESPOOL_A_POOL_DEV_NAME])
		snprintf(n->dev, sizeof(n->dev), "%s",
			 nla_get_string(tb[RESPOOL_A_POOL_DEV_NAME]));
	return NL_OK;
}

/* pool-new NAME node NODE; 0 or -errno, the message in @extack. */
static int pool_new(struct nl_sock *sk, int family, const char *name,
		    int node, struct new_reply *out, char *extack)
{
	struct new_reply n = { 0 };
	struct nlreq r;
	int ret;

	nlreq_init(&r, sk, family, RESPOOL_CMD_POOL_NEW, 0);
	nla_put_string(r.msg, RESPOOL_A_POOL_POOL_NAME, name);
	nla_put_s32(r.msg, RESPOOL_A_POOL_NODE, node);
	r.parse = parse_new;
	r.maxattr = RESPOOL_A_POOL_MAX;
	r.arg = &n;
	ret = nlreq_run(&r);
	if (extack)
		strcpy(extack, r.extack);
	if (out)
		*out = n;
	return ret;
}

static int pool_del(struct nl_sock *sk, int family, const char *name)
{
	struct nlreq r;

	nlreq_init(&r, sk, family, RESPOOL_CMD_POOL_DEL, 0);
	nla_put_string(r.msg, RESPOOL_A_POOL_POOL_NAME, name);
	return nlreq_run(&r);
}

struct pool_info {
	int64_t node;		/* the pool's node attribute */
	uint64_t in_use, reserve, pcpu;
	uint64_t node_bytes[MAX_NODES];
	int node_entries;	/* node-bytes nests in the reply */
	bool node_order_ok;	/* in increasing node order, no repeat */
	int npools;		/* replies (a dump: pools) */
};

static int parse_pool(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *sb[RESPOOL_A_STATS_MAX + 1], *a;
	struct pool_info *p = arg;
	int rem, last = -1;

	(void)nlh;
	p->npools++;
	p->node = tb[RESPOOL_A_POOL_NODE] ?
		  (int32_t)nla_get_u32(tb[RESPOOL_A_POOL_NODE]) : INT64_MIN;
	if (!tb[RESPOOL_A_POOL_STATS] ||
	    nla_parse_nested(sb, RESPOOL_A_STATS_MAX, tb[RESPOOL_A_POOL_STATS],
			     NULL))
		return NL_OK;
	p->in_use = nl_uint(sb[RESPOOL_A_STATS_IN_USE_BYTES]);
	p->reserve = nl_uint(sb[RESPOOL_A_STATS_RESERVE_BYTES]);
	p->pcpu = nl_uint(sb[RESPOOL_A_STATS_PCPU_BYTES]);
	p->node_order_ok = true;
	nla_for_each_nested(a, tb[RESPOOL_A_POOL_STATS], rem) {
		struct nlattr *nb[RESPOOL_A_NODE_BYTES_MAX + 1];
		uint64_t node;

		if (nla_type(a) != RESPOOL_A_STATS_NODE_BYTES ||
		    nla_parse_nested(nb, RESPOOL_A_NODE_BYTES_MAX, a, NULL))
			continue;
		p->node_entries++;
		node = nl_uint(nb[RESPOOL_A_NODE_BYTES_NODE]);
		if (node >= MAX_NODES || (int)node <= last) {
			p->node_order_ok = false;
			continue;
		}
		last = node;
		p->node_bytes[node] = nl_uint(nb[RESPOOL_A_NODE_BYTES_BYTES]);
	}
	return NL_OK;
}

/* pool-get of @name (do), or with @name NULL a dump of every pool. */
static int pool_get(struct nl_sock *sk, int family, const char *name,
		    struct pool_info *p)
{
	struct nlreq r;

	memset(p, 0, sizeof(*p));
	nlreq_init(&r, sk, family, RESPOOL_CMD_POOL_GET, name ? 0 : NLM_F_DUMP);
	if (name)
		nla_put_string(r.msg, RESPOOL_A_POOL_POOL_NAME, name);
	r.parse = parse_pool;
	r.maxattr = RESPOOL_A_POOL_MAX;
	r.arg = p;
	return nlreq_run(&r);
}

/* config-set on @name of the node alone; 0 or -errno. */
static int pool_set_node(struct nl_sock *sk, int family, const char *name,
			 int node, char *extack)
{
	struct nlreq r;
	int ret;

	nlreq_init(&r, sk, family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_string(r.msg, RESPOOL_A_POOL_POOL_NAME, name);
	nla_put_s32(r.msg, RESPOOL_A_POOL_NODE, node);
	ret = nlreq_run(&r);
	if (extack)
		strcpy(extack, r.extack);
	return ret;
}

/* ---- where a mapping's pages are ------------------------------------------ */

/*
 * move_pages(2) with nodes NULL moves nothing: it tells each page's node
 * (or -errno) in @status. Returns how many of the @n pages are on @node,
 * or -errno of the call.
 */
static int pages_on_node(void *p, int n, int node, int *status)
{
	void *pages[BLOCK_PAGES * 4];
	int i, on = 0;

	for (i = 0; i < n; i++) {
		pages[i] = (char *)p + (size_t)i * RP_PAGE;
		status[i] = INT32_MIN;
	}
	if (syscall(__NR_move_pages, 0, (unsigned long)n, pages, NULL, status,
		    0))
		return -errno;
	for (i = 0; i < n; i++)
		on += status[i] == node;
	return on;
}

/* ---- the fixture ------------------------------------------------------------ */

FIXTURE(numa) {
	struct nl_sock *sk;
	int family;
	int nnodes;
	/* What teardown undoes, in this order: maps, files, pools. */
	void *map[MAX_POOLS * MAX_NODES / 64];
	size_t map_len[MAX_POOLS * MAX_NODES / 64];
	int nmaps;
	int fd[MAX_POOLS];
	char pool[MAX_POOLS][32];
	int npools;
};

FIXTURE_SETUP(numa)
{
	const char *why = rp_skip_reason();

	self->sk = NULL;
	self->npools = 0;
	self->nmaps = 0;
	memset(self->fd, -1, sizeof(self->fd));
	if (why)
		SKIP(return, "%s", why);
	self->nnodes = count_online_nodes();
	if (self->nnodes < 2)
		SKIP(return, "%d online NUMA node(s), 2 needed: run in a guest with two (tools/vm/run --smp 2 --numa 2)",
		     self->nnodes < 0 ? 0 : self->nnodes);
	ASSERT_EQ(0, rp_reload("capacity=64M max_block_size=1M"));
	self->sk = nl_open(&self->family);
	ASSERT_NE(NULL, self->sk);
	ASSERT_LT(0, self->family) TH_LOG("family 'respool' not registered");
}

FIXTURE_TEARDOWN(numa)
{
	int i, ret;

	for (i = 0; i < self->nmaps; i++)
		if (self->map[i])
			munmap(self->map[i], self->map_len[i]);
	for (i = 0; i < MAX_POOLS; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	for (i = 0; i < self->npools; i++) {
		ret = pool_del(self->sk, self->family, self->pool[i]);
		if (ret && ret != -ENOENT)
			TH_LOG("teardown: pool-del %s: %s", self->pool[i],
			       strerror(-ret));
	}
	if (self->sk)
		nl_socket_free(self->sk);
}

/* pool-new @name with @node, remembered for teardown; opens its node. */
static void new_pool(struct __test_metadata *_metadata,
		     FIXTURE_DATA(numa) *self, const char *name, int node,
		     int *fd)
{
	struct new_reply n;
	char extack[256], path[96], want[64];
	int ret;

	ASSERT_GT(MAX_POOLS, self->npools);
	ret = pool_new(self->sk, self->family, name, node, &n, extack);
	ASSERT_EQ(0, ret) TH_LOG("pool-new %s node %d: %s (%s)", name, node,
				 strerror(-ret), extack);
	snprintf(self->pool[self->npools], sizeof(self->pool[0]), "%s", name);
	self->fd[self->npools] = -1;
	self->npools++;
	snprintf(want, sizeof(want), "respool-%s", name);
	EXPECT_STREQ(want, n.dev);
	snprintf(path, sizeof(path), "/dev/%s", want);
	*fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, *fd) TH_LOG("open %s: %s", path, strerror(errno));
	self->fd[self->npools - 1] = *fd;
}

/* Close a pool's file (after its maps) and delete the pool. */
static void del_pool(struct __test_metadata *_metadata,
		     FIXTURE_DATA(numa) *self, const char *name)
{
	int i, ret;

	for (i = 0; i < self->nmaps; i++) {
		if (self->map[i])
			munmap(self->map[i], self->map_len[i]);
		self->map[i] = NULL;
	}
	for (i = 0; i < self->npools; i++) {
		if (strcmp(self->pool[i], name))
			continue;
		if (self->fd[i] >= 0)
			close(self->fd[i]);
		self->fd[i] = -1;
	}
	ret = pool_del(self->sk, self->family, name);
	EXPECT_EQ(0, ret) TH_LOG("pool-del %s: %s", name, strerror(-ret));
}

/* ALLOC @pages pages on @fd, map them (kept for teardown), touch each. */
static void *alloc_map_touch(struct __test_metadata *_metadata,
			     FIXTURE_DATA(numa) *self, int fd, int pages,
			     struct respool_alloc *a)
{
	void *p;
	int ret;

	ret = rp_alloc(fd, pages * RP_PAGE, 0, 0, a);
	EXPECT_EQ(0, ret) TH_LOG("ALLOC of %d pages: %s", pages, strerror(-ret));
	if (ret)
		return NULL;
	EXPECT_LE(pages * RP_PAGE, a->block_size);
	p = rp_map(fd, a);
	EXPECT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	if (p == MAP_FAILED)
		return NULL;
	if ((size_t)self->nmaps < sizeof(self->map) / sizeof(self->map[0])) {
		self->map[self->nmaps] = p;
		self->map_len[self->nmaps++] = a->block_size;
	}
	rp_fill(p, pages * RP_PAGE, a->handle);
	return p;
}

static void expect_all_on(struct __test_metadata *_metadata, void *p,
			  int pages, int node, const char *what)
{
	int status[BLOCK_PAGES * 4], on, i, shown;

	on = pages_on_node(p, pages, node, status);
	ASSERT_LE(0, on) TH_LOG("%s: move_pages: %s", what, strerror(-on));
	EXPECT_EQ(pages, on) TH_LOG("%s: %d of %d pages on node %d", what, on,
				    pages, node);
	for (i = 0, shown = 0; on != pages && i < pages && shown < 4; i++)
		if (status[i] != node) {
			TH_LOG("%s: page %d is on node %d", what, i, status[i]);
			shown++;
		}
}

/* Every node's bytes in @p: @want[node] (0 = no entry or 0 bytes). */
static void expect_node_bytes(struct __test_metadata *_metadata,
			      const struct pool_info *p, const uint64_t *want,
			      const char *what)
{
	int n;

	EXPECT_TRUE(p->node_order_ok)
		TH_LOG("%s: node-bytes not in increasing node order", what);
	EXPECT_LT(0, p->node_entries) TH_LOG("%s: no node-bytes in stats", what);
	for (n = 0; n < MAX_NODES; n++) {
		unsigned long long got = p->node_bytes[n], w = want[n];

		EXPECT_EQ(w, got) TH_LOG("%s: node %d: %llu bytes, want %llu",
					 what, n, got, w);
	}
}

TEST_F(numa, pool_with_node_n_takes_every_page_from_n)
{
	static uint64_t want[MAX_NODES];
	struct respool_alloc a;
	struct pool_info p;
	char name[32], what[64];
	int node, other, cpu, fd, ret;
	cpu_set_t set;
	void *m;

	for (node = 0; node < MAX_NODES; node++) {
		if (!online_nodes[node])
			continue;
		/*
		 * ALLOC from a CPU of another node, so that pages of the
		 * allocating CPU's node (the default) cannot pass for N's.
		 */
		cpu = -1;
		for (other = 0; other < MAX_NODES && cpu < 0; other++)
			if (other != node && online_nodes[other])
				cpu = cpu_of_node(other);
		snprintf(name, sizeof(name), "numa-node%d", node);
		snprintf(what, sizeof(what), "pool with node %d, ALLOC on CPU %d",
			 node, cpu);
		if (cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		}
		new_pool(_metadata, self, name, node, &fd);

		ret = pool_get(self->sk, self->family, name, &p);
		ASSERT_EQ(0, ret) TH_LOG("pool-get %s: %s", name, strerror(-ret));
		EXPECT_EQ(node, p.node) TH_LOG("%s: pool-get says node %lld",
					      what, (long long)p.node);

		m = alloc_map_touch(_metadata, self, fd, BLOCK_PAGES, &a);
		ASSERT_NE(NULL, m);
		expect_all_on(_metadata, m, BLOCK_PAGES, node, what);

		/* The pool owns just that block: all of it on node N. */
		ret = pool_get(self->sk, self->family, name, &p);
		ASSERT_EQ(0, ret) TH_LOG("pool-get %s: %s", name, strerror(-ret));
		EXPECT_EQ(a.block_size, p.in_use);
		memset(want, 0, sizeof(want));
		want[node] = p.in_use + p.reserve + p.pcpu;
		EXPECT_EQ(a.block_size, want[node]);
		expect_node_bytes(_metadata, &p, want, what);

		EXPECT_TRUE(rp_check(m, BLOCK_PAGES * RP_PAGE, a.handle));
		del_pool(_metadata, self, name);
	}
}

TEST_F(numa, pool_new_with_node_not_online_fails_and_changes_nothing)
{
	/* Not nodes; and below, the lowest node number not online. */
	int bad[4] = { 99, -2, 0x7fffffff };
	struct pool_info before, after, p;
	char extack[256], path[64];
	int i, n, ret, fd, nbad = 3;

	for (n = 0; n < 99; n++)
		if (!online_nodes[n]) {
			bad[nbad++] = n;
			break;
		}
	ASSERT_EQ(0, pool_get(self->sk, self->family, NULL, &before));
	for (i = 0; i < nbad; i++) {
		ret = pool_new(self->sk, self->family, "numa-bad", bad[i], NULL,
			       extack);
		if (!ret)	/* for teardown */
			snprintf(self->pool[self->npools++], 32, "numa-bad");
		EXPECT_EQ(-EINVAL, ret) TH_LOG("pool-new with node %d: %s",
					       bad[i], strerror(-ret));
		EXPECT_NE(0, extack[0]) TH_LOG("node %d: no extack message",
					       bad[i]);
		if (extack[0])
			TH_LOG("node %d: \"%s\"", bad[i], extack);
		EXPECT_EQ(-ENOENT, pool_get(self->sk, self->family, "numa-bad", &p));
		EXPECT_NE(0, access("/dev/respool-numa-bad", F_OK));
	}
	ASSERT_EQ(0, pool_get(self->sk, self->family, NULL, &after));
	EXPECT_EQ(before.npools, after.npools);

	/* config-set of a node that is not online: EINVAL, node unchanged. */
	new_pool(_metadata, self, "numa-set", 0, &fd);
	for (i = 0; i < nbad; i++) {
		ret = pool_set_node(self->sk, self->family, "numa-set", bad[i],
				    extack);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("config-set node %d: %s", bad[i],
					       strerror(-ret));
		ASSERT_EQ(0, pool_get(self->sk, self->family, "numa-set", &p));
		EXPECT_EQ(0, p.node) TH_LOG("config-set node %d left node %lld",
					    bad[i], (long long)p.node);
	}
	snprintf(path, sizeof(path), "/dev/respool-numa-set");
	EXPECT_EQ(0, access(path, F_OK));
}

/* A thread pinned to @cpu allocates, maps and touches one block. */
struct pinned {
	int fd, cpu;
	int ran_on;		/* sched_getcpu() after the ALLOC */
	int err;		/* 0, or -errno of a step */
	const char *step;
	struct respool_alloc a;
	void *map;
};

static void *pinned_alloc(void *arg)
{
	struct pinned *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		t->err = -errno;
		t->step = "sched_setaffinity";
		return NULL;
	}
	t->err = rp_alloc(t->fd, BLOCK_PAGES * RP_PAGE, 0, 0, &t->a);
	t->ran_on = sched_getcpu();
	if (t->err) {
		t->step = "ALLOC";
		return NULL;
	}
	t->map = rp_map(t->fd, &t->a);
	if (t->map == MAP_FAILED) {
		t->err = -errno;
		t->step = "mmap";
		t->map = NULL;
		return NULL;
	}
	rp_fill(t->map, BLOCK_PAGES * RP_PAGE, t->a.handle);
	return NULL;
}

TEST_F(numa, pool_with_node_minus_one_takes_the_allocating_cpus_node)
{
	static uint64_t want[MAX_NODES];
	struct pinned t;
	struct pool_info p;
	char what[64];
	int node, fd, cpu, tested = 0;
	pthread_t th;

	new_pool(_metadata, self, "numa-local", -1, &fd);
	ASSERT_EQ(0, pool_get(self->sk, self->family, "numa-local", &p));
	EXPECT_EQ(-1, p.node);
	memset(want, 0, sizeof(want));
	/*
	 * Node by node, each block held to the end: a later ALLOC cannot
	 * be served from a block freed on another node's CPU.
	 */
	for (node = 0; node < MAX_NODES; node++) {
		if (!online_nodes[node])
			continue;
		cpu = cpu_of_node(node);
		if (cpu < 0) {
			TH_LOG("node %d has no online CPU: not tried", node);
			continue;
		}
		snprintf(what, sizeof(what), "node -1, ALLOC on CPU %d (node %d)",
			 cpu, node);
		memset(&t, 0, sizeof(t));
		t.fd = fd;
		t.cpu = cpu;
		ASSERT_EQ(0, pthread_create(&th, NULL, pinned_alloc, &t));
		ASSERT_EQ(0, pthread_join(th, NULL));
		if (t.map) {
			self->map[self->nmaps] = t.map;
			self->map_len[self->nmaps++] = t.a.block_size;
		}
		ASSERT_EQ(0, t.err) TH_LOG("%s: %s: %s", what, t.step,
					   strerror(-t.err));
		EXPECT_EQ(cpu, t.ran_on) TH_LOG("%s: ran on CPU %d", what,
						t.ran_on);
		expect_all_on(_metadata, t.map, BLOCK_PAGES, node, what);
		want[node] += t.a.block_size;
		tested++;
	}
	ASSERT_LE(2, tested) TH_LOG("fewer than 2 nodes with an online CPU");
	ASSERT_EQ(0, pool_get(self->sk, self->family, "numa-local", &p));
	EXPECT_EQ(0, p.reserve + p.pcpu);
	expect_node_bytes(_metadata, &p, want, "pool with node -1");
	del_pool(_metadata, self, "numa-local");
}

TEST_HARNESS_MAIN
