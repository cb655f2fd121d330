// SPDX-License-Identifier: GPL-2.0
/*
 * netlink_test - the generic netlink family "respool" through libnl:
 * every command, its permissions, config-set validation with extack
 * messages, the monitor group's notifications, client and CPU dumps, and
 * that netlink stats equal RESPOOL_IOC_STATS.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"
#include "respool_nl.h"
#include "respool_util.h"

/* ---- the policy a refusing ack carries ---------------------------------- */

/*
 * What the policy of an integer attribute with "checks:" answers a value
 * out of its bounds with, in 6.1 as in 6.12 (lib/nlattr.c): ERANGE, the
 * attribute's offset, and the policy itself, bounds included.
 */
#define RANGE_MSG	"integer out of range"

static void expect_policy(struct __test_metadata *_metadata,
			  const struct nlreq *r, const char *what,
			  uint32_t type, uint64_t min, uint64_t max)
{
	EXPECT_TRUE(r->pol) TH_LOG("%s: no NLMSGERR_ATTR_POLICY", what);
	EXPECT_EQ(type, r->pol_type) TH_LOG("%s", what);
	EXPECT_EQ(min, r->pol_min) TH_LOG("%s", what);
	EXPECT_EQ(max, r->pol_max) TH_LOG("%s", what);
}

/* ---- pool-get into the ioctl's struct ----------------------------------- */

static const struct {
	int attr;
	size_t off;
} stats_map[] = {
#define S(a, f) { RESPOOL_A_STATS_##a, offsetof(struct respool_stats, f) }
	S(CAPACITY, capacity), S(IN_USE_BYTES, in_use_bytes),
	S(RESERVE_BYTES, reserve_bytes), S(PCPU_BYTES, pcpu_bytes),
	S(REQUESTED_BYTES, requested_bytes),
	S(PEAK_IN_USE_BYTES, peak_in_use_bytes),
	S(BLOCKS_IN_USE, blocks_in_use), S(BLOCKS_FREE, blocks_free),
	S(ALLOCS, allocs), S(FREES, frees), S(PCPU_HITS, pcpu_hits),
	S(RESERVE_HITS, reserve_hits), S(FRESH_ALLOCS, fresh_allocs),
	S(THRESHOLD_REJECTS, threshold_rejects), S(EVICTIONS, evictions),
	S(EVICTED_BYTES, evicted_bytes), S(WAITS, waits),
	S(WAIT_TIMEOUTS, wait_timeouts), S(WAIT_INTERRUPTS, wait_interrupts),
	S(WAITERS, waiters), S(MAX_WAIT_NS, max_wait_ns), S(HANDOFFS, handoffs),
	S(SHRINKER_RELEASED_BYTES, shrinker_released_bytes),
	S(IDLE_TRIMMED_BYTES, idle_trimmed_bytes),
	S(ZEROED_BYTES, zeroed_bytes), S(CLIENTS, clients),
	S(LAST_RESET_NS, last_reset_ns),
#undef S
};

#define NSTATS (sizeof(stats_map) / sizeof(stats_map[0]))

struct pool_info {
	uint64_t capacity, max_block_size, reserve_max, client_quota, user_quota;
	uint64_t threshold, pcpu_cache_blocks, idle_trim_ms;
	struct respool_stats st;
	int missing;	/* stats attributes absent from the reply */
};

static int parse_pool(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *sb[RESPOOL_A_STATS_MAX + 1], *a;
	struct pool_info *p = arg;
	size_t i;
	int rem;

	(void)nlh;
	p->capacity = nl_uint(tb[RESPOOL_A_POOL_CAPACITY]);
	p->max_block_size = nl_uint(tb[RESPOOL_A_POOL_MAX_BLOCK_SIZE]);
	p->reserve_max = nl_uint(tb[RESPOOL_A_POOL_RESERVE_MAX]);
	p->client_quota = nl_uint(tb[RESPOOL_A_POOL_CLIENT_QUOTA]);
	p->user_quota = nl_uint(tb[RESPOOL_A_POOL_USER_QUOTA]);
	p->threshold = nl_uint(tb[RESPOOL_A_POOL_THRESHOLD]);
	p->pcpu_cache_blocks = nl_uint(tb[RESPOOL_A_POOL_PCPU_CACHE_BLOCKS]);
	p->idle_trim_ms = nl_uint(tb[RESPOOL_A_POOL_IDLE_TRIM_MS]);
	p->missing = NSTATS;
	if (!tb[RESPOOL_A_POOL_STATS] ||
	    nla_parse_nested(sb, RESPOOL_A_STATS_MAX, tb[RESPOOL_A_POOL_STATS],
			     NULL))
		return NL_OK;
	p->missing = 0;
	for (i = 0; i < NSTATS; i++) {
		if (!sb[stats_map[i].attr])
			p->missing++;
		*(__u64 *)((char *)&p->st + stats_map[i].off) =
			nl_uint(sb[stats_map[i].attr]);
	}
	nla_for_each_nested(a, tb[RESPOOL_A_POOL_STATS], rem) {
		struct nlattr *hb[RESPOOL_A_HIST_BUCKET_MAX + 1];
		uint64_t k;

		if (nla_type(a) != RESPOOL_A_STATS_WAIT_HIST ||
		    nla_parse_nested(hb, RESPOOL_A_HIST_BUCKET_MAX, a, NULL))
			continue;
		k = nl_uint(hb[RESPOOL_A_HIST_BUCKET_LOG2_NS]);
		if (k < RESPOOL_WAIT_HIST_BUCKETS)
			p->st.wait_hist[k] = nl_uint(hb[RESPOOL_A_HIST_BUCKET_COUNT]);
	}
	return NL_OK;
}

static int pool_get(struct nl_sock *sk, int family, struct pool_info *p)
{
	struct nlreq r;

	memset(p, 0, sizeof(*p));
	nlreq_init(&r, sk, family, RESPOOL_CMD_POOL_GET, 0);
	r.parse = parse_pool;
	r.maxattr = RESPOOL_A_POOL_MAX;
	r.arg = p;
	return nlreq_run(&r) ?: (r.nreplies == 1 ? 0 : -EPROTO);
}

/* ---- client dump --------------------------------------------------------- */

struct client_info {
	uint64_t id, pid, held, requested, handles, mapped, since;
	char comm[16];
};

struct client_list {
	struct client_info c[256];
	int n;
};

static int parse_client(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct client_list *l = arg;
	struct client_info *c;

	(void)nlh;
	if (l->n >= 256)
		return NL_OK;
	c = &l->c[l->n++];
	c->id = nl_uint(tb[RESPOOL_A_CLIENT_ID]);
	c->pid = nl_uint(tb[RESPOOL_A_CLIENT_PID]);
	c->held = nl_uint(tb[RESPOOL_A_CLIENT_HELD_BYTES]);
	c->requested = nl_uint(tb[RESPOOL_A_CLIENT_REQUESTED_BYTES]);
	c->handles = nl_uint(tb[RESPOOL_A_CLIENT_HANDLES]);
	c->mapped = nl_uint(tb[RESPOOL_A_CLIENT_MAPPED_BLOCKS]);
	c->since = tb[RESPOOL_A_CLIENT_WAITING_SINCE_NS] ?
		   nl_uint(tb[RESPOOL_A_CLIENT_WAITING_SINCE_NS]) : 0;
	snprintf(c->comm, sizeof(c->comm), "%s",
		 tb[RESPOOL_A_CLIENT_COMM] ?
		 nla_get_string(tb[RESPOOL_A_CLIENT_COMM]) : "");
	return NL_OK;
}

static int client_dump(struct nl_sock *sk, int family, struct client_list *l)
{
	struct nlreq r;

	l->n = 0;
	nlreq_init(&r, sk, family, RESPOOL_CMD_CLIENT_GET, NLM_F_DUMP);
	r.parse = parse_client;
	r.maxattr = RESPOOL_A_CLIENT_MAX;
	r.arg = l;
	return nlreq_run(&r);
}

/* ---- fixture ------------------------------------------------------------ */

FIXTURE(nl) {
	struct nl_sock *sk;
	int family;
	int fd;
};

FIXTURE_SETUP(nl)
{
	const char *why = rp_skip_reason();

	self->sk = NULL;
	self->fd = -1;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=8M max_block_size=1M"));
	self->sk = nl_open(&self->family);
	ASSERT_NE(NULL, self->sk);
	ASSERT_LT(0, self->family) TH_LOG("family 'respool' not registered");
	self->fd = rp_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(nl)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->sk)
		nl_socket_free(self->sk);
}

TEST_F(nl, pool_get_reports_config_and_every_stat)
{
	struct pool_info p;

	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(8 * RP_MiB, p.capacity);
	EXPECT_EQ(RP_MiB, p.max_block_size);
	EXPECT_EQ(8 * RP_MiB, p.reserve_max);
	EXPECT_EQ(0, p.client_quota);
	EXPECT_EQ(75, p.threshold);
	EXPECT_EQ(16, p.pcpu_cache_blocks);
	EXPECT_EQ(10000, p.idle_trim_ms);
	EXPECT_EQ(0, p.missing) TH_LOG("%d stats attributes missing", p.missing);
	EXPECT_EQ(8 * RP_MiB, p.st.capacity);
	EXPECT_EQ(1, p.st.clients);
}

TEST_F(nl, pool_get_equals_ioctl_stats_when_quiescent)
{
	struct respool_alloc a[6];
	struct respool_stats st;
	struct pool_info p;
	size_t i;
	int k;

	for (k = 0; k < 6; k++)
		ASSERT_EQ(0, rp_alloc(self->fd, (k + 1) * 5000, 0, 0, &a[k]));
	for (k = 0; k < 3; k++)
		ASSERT_EQ(0, rp_free(self->fd, a[k].handle));
	ASSERT_EQ(0, rp_alloc(self->fd, 9000, 0, 0, &a[0]));

	ASSERT_EQ(0, rp_stats(self->fd, &st));
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(0, p.missing);
	for (i = 0; i < NSTATS; i++) {
		__u64 want = *(__u64 *)((char *)&st + stats_map[i].off);
		__u64 got = *(__u64 *)((char *)&p.st + stats_map[i].off);

		EXPECT_EQ(want, got) TH_LOG("stat attr %d: ioctl %llu netlink %llu",
					   stats_map[i].attr,
					   (unsigned long long)want,
					   (unsigned long long)got);
	}
	for (k = 0; k < RESPOOL_WAIT_HIST_BUCKETS; k++)
		EXPECT_EQ(st.wait_hist[k], p.st.wait_hist[k]);
	EXPECT_EQ(7, p.st.allocs);
	EXPECT_EQ(3, p.st.frees);
}

struct cpu_sum {
	int n;
	uint64_t allocs, cached_bytes, listed_bytes, ids_seen;
	bool sizes_ok;
};

static int parse_cpu(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct cpu_sum *s = arg;
	uint64_t listed = 0, nr = 0;
	struct nlattr *a;
	int rem;

	s->n++;
	s->allocs += nl_uint(tb[RESPOOL_A_CPU_ALLOCS]);
	s->cached_bytes += nl_uint(tb[RESPOOL_A_CPU_CACHED_BYTES]);
	if (nl_uint(tb[RESPOOL_A_CPU_ID]) < 64)
		s->ids_seen |= 1ULL << nl_uint(tb[RESPOOL_A_CPU_ID]);
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		if (nla_type(a) != RESPOOL_A_CPU_CACHED_BLOCK_SIZE)
			continue;
		listed += nla_get_u64(a);
		nr++;
	}
	s->listed_bytes += listed;
	if (nr != nl_uint(tb[RESPOOL_A_CPU_CACHED_BLOCKS]))
		s->sizes_ok = false;
	return NL_OK;
}

TEST_F(nl, cpu_get_dumps_every_cpu_with_its_cache)
{
	struct cpu_sum s = { .sizes_ok = true };
	struct respool_alloc a[4];
	struct respool_stats st;
	struct nlreq r;
	int k;

	for (k = 0; k < 4; k++)
		ASSERT_EQ(0, rp_alloc(self->fd, 8192, 0, 0, &a[k]));
	for (k = 0; k < 4; k++)
		ASSERT_EQ(0, rp_free(self->fd, a[k].handle));

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CPU_GET, NLM_F_DUMP);
	r.parse = parse_cpu;
	r.maxattr = RESPOOL_A_CPU_MAX;
	r.arg = &s;
	ASSERT_EQ(0, nlreq_run(&r));
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(sysconf(_SC_NPROCESSORS_CONF), s.n);
	EXPECT_EQ(st.allocs, s.allocs);
	EXPECT_EQ(st.pcpu_bytes, s.cached_bytes);
	EXPECT_EQ(s.cached_bytes, s.listed_bytes);
	EXPECT_TRUE(s.sizes_ok);

	/* do: one CPU by id; an impossible one is ENOENT with a message. */
	memset(&s, 0, sizeof(s));
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CPU_GET, 0);
	nla_put_u32(r.msg, RESPOOL_A_CPU_ID, 0);
	r.parse = parse_cpu;
	r.maxattr = RESPOOL_A_CPU_MAX;
	r.arg = &s;
	ASSERT_EQ(0, nlreq_run(&r));
	EXPECT_EQ(1, s.n);
	EXPECT_EQ(1, s.ids_seen);
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CPU_GET, 0);
	nla_put_u32(r.msg, RESPOOL_A_CPU_ID, 100000);
	EXPECT_EQ(-ENOENT, nlreq_run(&r));
	EXPECT_STREQ("no such CPU", r.extack);
	/* do without the id: EINVAL. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CPU_GET, 0);
	EXPECT_EQ(-EINVAL, nlreq_run(&r));
}

TEST_F(nl, client_get_lists_holder_with_byte_counts)
{
	struct client_list *l = calloc(1, sizeof(*l));
	int ready[2], go[2], i, found = -1;
	char c = 0;
	pid_t pid;

	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct respool_alloc a;
		int fd = rp_open();

		if (fd < 0 || rp_alloc(fd, 10000, 0, 0, &a) ||
		    rp_map(fd, &a) == MAP_FAILED ||
		    rp_alloc(fd, 4096, 0, 0, NULL) || rp_alloc(fd, 1, 0, 0, NULL))
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, client_dump(self->sk, self->family, l));
	EXPECT_EQ(2, l->n);
	for (i = 0; i < l->n; i++)
		if (l->c[i].pid == (uint64_t)pid)
			found = i;
	ASSERT_LE(0, found) TH_LOG("pid %d not in client-get", pid);
	EXPECT_EQ(5 * RP_PAGE, l->c[found].held);	/* 12K + 4K + 4K */
	EXPECT_EQ(10000 + 4096 + 1, l->c[found].requested);
	EXPECT_EQ(3, l->c[found].handles);
	EXPECT_EQ(1, l->c[found].mapped);
	EXPECT_EQ(0, l->c[found].since);
	EXPECT_STREQ("netlink_test", l->c[found].comm);
	/* Our own fixture file is listed too, and ids increase. */
	EXPECT_LT(l->c[0].id, l->c[1].id);

	/* do: one client by id; an unknown id is ENOENT. */
	{
		struct client_list one = { .n = 0 };
		struct nlreq r;

		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CLIENT_GET, 0);
		nla_put_u64(r.msg, RESPOOL_A_CLIENT_ID, l->c[found].id);
		r.parse = parse_client;
		r.maxattr = RESPOOL_A_CLIENT_MAX;
		r.arg = &one;
		EXPECT_EQ(0, nlreq_run(&r));
		EXPECT_EQ(1, one.n);
		EXPECT_EQ((uint64_t)pid, one.c[0].pid);
		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CLIENT_GET, 0);
		nla_put_u64(r.msg, RESPOOL_A_CLIENT_ID, 1ULL << 60);
		EXPECT_EQ(-ENOENT, nlreq_run(&r));
	}
	ASSERT_EQ(1, write(go[1], "g", 1));
	waitpid(pid, NULL, 0);
	free(l);
}

TEST_F(nl, client_get_shows_waiting_since)
{
	struct client_list *l = calloc(1, sizeof(*l));
	struct respool_alloc a;
	uint64_t t0 = rp_now_ns();
	int i, waiting = 0;
	pid_t pid;

	ASSERT_NE(NULL, l);
	/* Fill the pool (8M in 1M blocks), then a child waits. */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = rp_open();

		_exit(fd >= 0 && !rp_alloc(fd, RP_PAGE, 0, 0, NULL) ? 0 : 1);
	}
	ASSERT_EQ(1, rp_wait_for_waiters(1));
	ASSERT_EQ(0, client_dump(self->sk, self->family, l));
	for (i = 0; i < l->n; i++)
		if (l->c[i].pid == (uint64_t)pid && l->c[i].since >= t0)
			waiting++;
	EXPECT_EQ(1, waiting);
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(pid, waitpid(pid, &i, 0));
	EXPECT_EQ(0, WEXITSTATUS(i));
	free(l);
}

TEST_F(nl, config_set_applies_given_values_only)
{
	struct pool_info p;
	struct nlreq r;

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CAPACITY, 4 * RP_MiB);
	nla_put_u32(r.msg, RESPOOL_A_POOL_THRESHOLD, 50);
	nla_put_u32(r.msg, RESPOOL_A_POOL_IDLE_TRIM_MS, 0);
	ASSERT_EQ(0, nlreq_run(&r)) TH_LOG("extack: %s", r.extack);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(4 * RP_MiB, p.capacity);
	EXPECT_EQ(50, p.threshold);
	EXPECT_EQ(0, p.idle_trim_ms);
	EXPECT_EQ(RP_MiB, p.max_block_size);
	EXPECT_EQ(16, p.pcpu_cache_blocks);
	EXPECT_EQ(8 * RP_MiB, p.reserve_max);
	EXPECT_EQ(4 * RP_MiB, p.st.capacity);

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_MAX_BLOCK_SIZE, 2 * RP_MiB);
	nla_put_u64(r.msg, RESPOOL_A_POOL_RESERVE_MAX, RP_MiB);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CLIENT_QUOTA, 3 * RP_MiB);
	nla_put_u32(r.msg, RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, 0);
	ASSERT_EQ(0, nlreq_run(&r)) TH_LOG("extack: %s", r.extack);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(2 * RP_MiB, p.max_block_size);
	EXPECT_EQ(RP_MiB, p.reserve_max);
	EXPECT_EQ(3 * RP_MiB, p.client_quota);
	EXPECT_EQ(0, p.pcpu_cache_blocks);
	EXPECT_EQ(50, p.threshold);
	/* The client quota is in force. */
	EXPECT_EQ(0, rp_alloc(self->fd, 2 * RP_MiB, 0, 0, NULL));
	EXPECT_EQ(-EDQUOT, rp_alloc(self->fd, 2 * RP_MiB, 0, 0, NULL));
}

/*
 * Lowering capacity below what is in use is allowed: the free blocks go at
 * once, nothing fresh is allocated, and frees are trimmed until the pool
 * owns no more than its capacity again.
 */
TEST_F(nl, lowering_capacity_below_use_trims_at_once)
{
	struct respool_alloc held[6], spare;
	struct respool_stats st;
	struct nlreq r;
	int i;

	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &held[i]));
	ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &spare));
	ASSERT_EQ(0, rp_free(self->fd, spare.handle));
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	ASSERT_EQ(RP_MiB, st.reserve_bytes + st.pcpu_bytes);

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CAPACITY, 4 * RP_MiB);
	ASSERT_EQ(0, nlreq_run(&r)) TH_LOG("extack: %s", r.extack);
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(0, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(6 * RP_MiB, st.in_use_bytes);
	EXPECT_EQ(-EAGAIN, rp_alloc(self->fd, RP_PAGE, RESPOOL_ALLOC_NONBLOCK,
				    0, NULL));

	/* Use falls to 3M: the freed blocks go, none is cached. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, rp_free(self->fd, held[i].handle));
	ASSERT_EQ(0, rp_stats(self->fd, &st));
	EXPECT_EQ(3 * RP_MiB, st.in_use_bytes);
	EXPECT_GE(st.capacity, st.in_use_bytes + st.reserve_bytes +
			       st.pcpu_bytes);
	/* Below capacity again: a fresh 512K fits. */
	EXPECT_EQ(0, rp_alloc(self->fd, 512 * RP_KiB, RESPOOL_ALLOC_NONBLOCK,
			      0, NULL));
}

TEST_F(nl, config_set_rejects_each_invalid_value_and_changes_nothing)
{
	/*
	 * The page-size bounds are the handler's (EINVAL, its own message);
	 * the static ones the policy's (ERANGE, the kernel's message and the
	 * policy's bounds, 0..max for both).
	 */
	static const struct {
		int attr;
		bool u32;
		uint64_t val;
		int err;
		const char *msg;
		uint64_t pol_max;	/* with ERANGE */
	} bad[] = {
		{ RESPOOL_A_POOL_CAPACITY, false, 100, -EINVAL,
		  "capacity: must be at least one page", 0 },
		{ RESPOOL_A_POOL_CAPACITY, false, 0, -EINVAL,
		  "capacity: must be at least one page", 0 },
		{ RESPOOL_A_POOL_MAX_BLOCK_SIZE, false, 5000, -EINVAL,
		  "max-block-size: must be a multiple of the page size, from one page to 4M",
		  0 },
		{ RESPOOL_A_POOL_MAX_BLOCK_SIZE, false, 8 * RP_MiB, -EINVAL,
		  "max-block-size: must be a multiple of the page size, from one page to 4M",
		  0 },
		{ RESPOOL_A_POOL_MAX_BLOCK_SIZE, false, 0, -EINVAL,
		  "max-block-size: must be a multiple of the page size, from one page to 4M",
		  0 },
		{ RESPOOL_A_POOL_THRESHOLD, true, 120, -ERANGE, RANGE_MSG, 100 },
		{ RESPOOL_A_POOL_THRESHOLD, true, 101, -ERANGE, RANGE_MSG, 100 },
		{ RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, true, 65, -ERANGE,
		  RANGE_MSG, 64 },
	};
	struct pool_info before, after;
	struct nlreq r;
	size_t i;

	ASSERT_EQ(0, pool_get(self->sk, self->family, &before));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
		/* A valid value first: all or nothing. */
		nla_put_u32(r.msg, RESPOOL_A_POOL_IDLE_TRIM_MS, 1234);
		nla_put_u64(r.msg, RESPOOL_A_POOL_CLIENT_QUOTA, RP_MiB);
		if (bad[i].u32)
			nla_put_u32(r.msg, bad[i].attr, bad[i].val);
		else
			nla_put_u64(r.msg, bad[i].attr, bad[i].val);
		EXPECT_EQ(bad[i].err, nlreq_run(&r)) TH_LOG("case %zu", i);
		EXPECT_STREQ(bad[i].msg, r.extack);
		EXPECT_EQ(bad[i].attr, r.bad_attr) TH_LOG("case %zu", i);
		if (bad[i].err == -ERANGE)
			expect_policy(_metadata, &r, "config-set",
				      NL_ATTR_TYPE_U32, 0, bad[i].pol_max);
		else
			EXPECT_FALSE(r.pol) TH_LOG("case %zu: a policy in the ack",
						   i);
	}
	/* A u64 where a u32 belongs is refused by the policy. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_THRESHOLD, 50);
	EXPECT_EQ(-EINVAL, nlreq_run(&r));
	/* An attribute of no command's request is refused as well. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_BYTES, 1);
	EXPECT_EQ(-EINVAL, nlreq_run(&r));

	ASSERT_EQ(0, pool_get(self->sk, self->family, &after));
	EXPECT_EQ(before.capacity, after.capacity);
	EXPECT_EQ(before.max_block_size, after.max_block_size);
	EXPECT_EQ(before.reserve_max, after.reserve_max);
	EXPECT_EQ(before.client_quota, after.client_quota);
	EXPECT_EQ(before.user_quota, after.user_quota);
	EXPECT_EQ(before.threshold, after.threshold);
	EXPECT_EQ(before.pcpu_cache_blocks, after.pcpu_cache_blocks);
	EXPECT_EQ(before.idle_trim_ms, after.idle_trim_ms);
}

/* Every setting of @a equals @b's. */
static void expect_same_config(struct __test_metadata *_metadata,
			       const struct pool_info *a,
			       const struct pool_info *b, const char *what)
{
	EXPECT_EQ(a->capacity, b->capacity) TH_LOG("%s: capacity", what);
	EXPECT_EQ(a->max_block_size, b->max_block_size)
		TH_LOG("%s: max-block-size", what);
	EXPECT_EQ(a->reserve_max, b->reserve_max) TH_LOG("%s: reserve-max", what);
	EXPECT_EQ(a->client_quota, b->client_quota)
		TH_LOG("%s: client-quota", what);
	EXPECT_EQ(a->user_quota, b->user_quota) TH_LOG("%s: user-quota", what);
	EXPECT_EQ(a->threshold, b->threshold) TH_LOG("%s: threshold", what);
	EXPECT_EQ(a->pcpu_cache_blocks, b->pcpu_cache_blocks)
		TH_LOG("%s: pcpu-cache-blocks", what);
	EXPECT_EQ(a->idle_trim_ms, b->idle_trim_ms)
		TH_LOG("%s: idle-trim-ms", what);
}

/*
 * One value per rule of the module's validator of the settings (one
 * page, at most 4M, page aligned, and client-quota against user-quota,
 * the rule between two settings): EINVAL, nothing changes, and the
 * extended ack points at the attribute that broke the rule, with a
 * message naming it. A rule between two settings is reported at the one
 * the request carried.
 */
TEST_F(nl, config_set_refuses_each_rule_naming_the_attribute)
{
	const char *cq_msg = "client-quota: must be 0 or at most user-quota (when that is not 0)";
	const char *uq_msg = "user-quota: must be 0 or at least client-quota";
	const char *mbs_msg = "max-block-size: must be a multiple of the page size, from one page to 4M";
	const struct {
		const char *what;
		int attr1;
		uint64_t val1;
		int attr2;		/* 0: not sent */
		uint64_t val2;
		int bad_attr;
		const char *msg;
	} bad[] = {
		{ "capacity below one page", RESPOOL_A_POOL_CAPACITY,
		  RP_PAGE - 1, 0, 0, RESPOOL_A_POOL_CAPACITY,
		  "capacity: must be at least one page" },
		{ "max-block-size below one page",
		  RESPOOL_A_POOL_MAX_BLOCK_SIZE, RP_PAGE / 2, 0, 0,
		  RESPOOL_A_POOL_MAX_BLOCK_SIZE, mbs_msg },
		{ "max-block-size above 4M", RESPOOL_A_POOL_MAX_BLOCK_SIZE,
		  4 * RP_MiB + RP_PAGE, 0, 0, RESPOOL_A_POOL_MAX_BLOCK_SIZE,
		  mbs_msg },
		{ "max-block-size not page aligned",
		  RESPOOL_A_POOL_MAX_BLOCK_SIZE, 3 * RP_PAGE / 2, 0, 0,
		  RESPOOL_A_POOL_MAX_BLOCK_SIZE, mbs_msg },
		{ "user-quota below client-quota, both sent",
		  RESPOOL_A_POOL_CLIENT_QUOTA, 2 * RP_MiB,
		  RESPOOL_A_POOL_USER_QUOTA, RP_MiB,
		  RESPOOL_A_POOL_USER_QUOTA, uq_msg },
		{ "client-quota above the user-quota in force",
		  RESPOOL_A_POOL_CLIENT_QUOTA, 8 * RP_MiB, 0, 0,
		  RESPOOL_A_POOL_CLIENT_QUOTA, cq_msg },
		{ "user-quota below the client-quota in force",
		  RESPOOL_A_POOL_USER_QUOTA, RP_MiB, 0, 0,
		  RESPOOL_A_POOL_USER_QUOTA, uq_msg },
	};
	struct pool_info before, after;
	struct nlreq r;
	size_t i;

	/* Both quotas in force, so that either side of the rule can break. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CLIENT_QUOTA, 2 * RP_MiB);
	nla_put_u64(r.msg, RESPOOL_A_POOL_USER_QUOTA, 4 * RP_MiB);
	ASSERT_EQ(0, nlreq_run(&r)) TH_LOG("quotas 2M and 4M: '%s'", r.extack);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &before));
	ASSERT_EQ(2 * RP_MiB, before.client_quota);
	ASSERT_EQ(4 * RP_MiB, before.user_quota);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
		/* A valid value first: all or nothing. */
		nla_put_u32(r.msg, RESPOOL_A_POOL_IDLE_TRIM_MS, 1234);
		nla_put_u64(r.msg, bad[i].attr1, bad[i].val1);
		if (bad[i].attr2)
			nla_put_u64(r.msg, bad[i].attr2, bad[i].val2);
		EXPECT_EQ(-EINVAL, nlreq_run(&r)) TH_LOG("%s", bad[i].what);
		EXPECT_STREQ(bad[i].msg, r.extack) TH_LOG("%s", bad[i].what);
		EXPECT_EQ(bad[i].bad_attr, r.bad_attr)
			TH_LOG("%s: the ack points at attribute %d", bad[i].what,
			       r.bad_attr);
		EXPECT_FALSE(r.pol) TH_LOG("%s: a policy in the ack", bad[i].what);
		ASSERT_EQ(0, pool_get(self->sk, self->family, &after));
		expect_same_config(_metadata, &before, &after, bad[i].what);
	}

	/* Either quota at 0 is no limit, and lifts the rule. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_USER_QUOTA, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CLIENT_QUOTA, 8 * RP_MiB);
	EXPECT_EQ(0, nlreq_run(&r)) TH_LOG("'%s'", r.extack);
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CLIENT_QUOTA, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_USER_QUOTA, RP_PAGE);
	EXPECT_EQ(0, nlreq_run(&r)) TH_LOG("'%s'", r.extack);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &after));
	EXPECT_EQ(0, after.client_quota);
	EXPECT_EQ(RP_PAGE, after.user_quota);
}

/* Read /sys/module/respool/parameters/@name as a number. */
static uint64_t module_param_value(const char *name)
{
	char path[128];
	unsigned long long v = UINT64_MAX - 1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/respool/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return UINT64_MAX - 1;
	if (fscanf(f, "%llu", &v) != 1)
		v = UINT64_MAX - 1;
	fclose(f);
	return v;
}

/* user_quota: from the parameter to pool-get, and through config-set. */
TEST_F(nl, user_quota_round_trips_parameter_config_set_and_get)
{
	const uint64_t vals[] = { 3 * RP_MiB, RP_PAGE + 1, UINT64_MAX, 0 };
	struct pool_info p;
	struct nlreq r;
	size_t i;

	close(self->fd);
	self->fd = -1;
	nl_socket_free(self->sk);
	self->sk = NULL;
	ASSERT_EQ(0, rp_reload("capacity=8M max_block_size=1M user_quota=5M"));
	EXPECT_EQ(5 * RP_MiB, module_param_value("user_quota"));
	self->sk = nl_open(&self->family);
	ASSERT_NE(NULL, self->sk);
	ASSERT_LT(0, self->family);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(5 * RP_MiB, p.user_quota);
	EXPECT_EQ(0, p.client_quota);

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
		nla_put_u64(r.msg, RESPOOL_A_POOL_USER_QUOTA, vals[i]);
		EXPECT_EQ(0, nlreq_run(&r)) TH_LOG("user-quota %llu: '%s'",
			(unsigned long long)vals[i], r.extack);
		ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
		EXPECT_EQ(vals[i], p.user_quota);
		EXPECT_EQ(8 * RP_MiB, p.capacity) TH_LOG("nothing else changes");
		EXPECT_EQ(0, p.client_quota) TH_LOG("nothing else changes");
	}
}

TEST_F(nl, stats_reset_zeroes_counters_keeps_gauges)
{
	struct respool_alloc a;
	struct pool_info p;
	struct nlreq r;

	ASSERT_EQ(0, rp_alloc(self->fd, 3 * RP_PAGE, 0, 0, &a));
	ASSERT_EQ(0, rp_alloc(self->fd, RP_PAGE, 0, 0, NULL));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_STATS_RESET, 0);
	ASSERT_EQ(0, nlreq_run(&r));
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(0, p.st.allocs);
	EXPECT_EQ(0, p.st.frees);
	EXPECT_EQ(0, p.st.fresh_allocs);
	EXPECT_EQ(RP_PAGE, p.st.in_use_bytes);
	EXPECT_EQ(1, p.st.blocks_in_use);
	EXPECT_EQ(1, p.st.clients);
}

static int parse_one(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	uint64_t *v = arg;

	(void)nlh;
	if (tb[RESPOOL_A_POOL_COUNT])
		v[0] = nl_uint(tb[RESPOOL_A_POOL_COUNT]);
	if (tb[RESPOOL_A_POOL_RELEASED_BYTES])
		v[1] = nl_uint(tb[RESPOOL_A_POOL_RELEASED_BYTES]);
	return NL_OK;
}

TEST_F(nl, prefill_and_drain)
{
	uint64_t v[2] = { UINT64_MAX, UINT64_MAX };
	struct pool_info p;
	struct nlreq r;

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_PREFILL, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, 3 * RP_PAGE);
	nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, 5);
	r.parse = parse_one;
	r.maxattr = RESPOOL_A_POOL_MAX;
	r.arg = v;
	ASSERT_EQ(0, nlreq_run(&r)) TH_LOG("extack: %s", r.extack);
	EXPECT_EQ(5, v[0]);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(15 * RP_PAGE, p.st.reserve_bytes + p.st.pcpu_bytes);
	EXPECT_EQ(5, p.st.blocks_free);

	/* The reserve is bounded by capacity: 8M of 1M blocks at most. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_PREFILL, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, RP_MiB);
	nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, 100);
	r.parse = parse_one;
	r.maxattr = RESPOOL_A_POOL_MAX;
	r.arg = v;
	ASSERT_EQ(0, nlreq_run(&r));
	EXPECT_EQ(7, v[0]);

	/* Too large a block: E2BIG, named. Missing count: EINVAL. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_PREFILL, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, 2 * RP_MiB);
	nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, 1);
	EXPECT_EQ(-E2BIG, nlreq_run(&r));
	EXPECT_EQ(RESPOOL_A_POOL_SIZE, r.bad_attr);
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_PREFILL, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, RP_PAGE);
	EXPECT_EQ(-EINVAL, nlreq_run(&r));

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_DRAIN, 0);
	r.parse = parse_one;
	r.maxattr = RESPOOL_A_POOL_MAX;
	r.arg = v;
	ASSERT_EQ(0, nlreq_run(&r));
	EXPECT_EQ(15 * RP_PAGE + 7 * RP_MiB, v[1]);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(0, p.st.reserve_bytes + p.st.pcpu_bytes);
	EXPECT_EQ(0, p.st.blocks_free);
}

TEST_F(nl, admin_commands_refused_for_nobody_change_nothing)
{
	static const int cmds[] = {
		RESPOOL_CMD_CONFIG_SET, RESPOOL_CMD_STATS_RESET,
		RESPOOL_CMD_PREFILL, RESPOOL_CMD_DRAIN,
	};
	struct pool_info before, after;
	struct respool_alloc a;
	int status;
	pid_t pid;

	ASSERT_EQ(0, rp_alloc(self->fd, RP_PAGE, 0, 0, &a));
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(0, pool_get(self->sk, self->family, &before));
	ASSERT_EQ(1, before.st.blocks_free);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct nl_sock *sk;
		struct pool_info p;
		int fam, fails = 0;
		size_t i;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		sk = nl_open(&fam);
		if (!sk || fam < 0)
			_exit(11);
		/* Reading is allowed. */
		if (pool_get(sk, fam, &p))
			_exit(12);
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			struct nlreq r;

			nlreq_init(&r, sk, fam, cmds[i], 0);
			if (cmds[i] == RESPOOL_CMD_CONFIG_SET)
				nla_put_u32(r.msg, RESPOOL_A_POOL_THRESHOLD, 10);
			if (cmds[i] == RESPOOL_CMD_PREFILL) {
				nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, 4096);
				nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, 4);
			}
			if (nlreq_run(&r) != -EPERM) {
				fprintf(stderr, "# cmd %d: %d, want EPERM\n",
					cmds[i], r.err);
				fails++;
			}
		}
		_exit(fails);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_EQ(0, pool_get(self->sk, self->family, &after));
	EXPECT_EQ(before.threshold, after.threshold);
	EXPECT_EQ(before.st.allocs, after.st.allocs);
	EXPECT_EQ(before.st.frees, after.st.frees);
	EXPECT_EQ(before.st.last_reset_ns, after.st.last_reset_ns);
	EXPECT_EQ(before.st.blocks_free, after.st.blocks_free);
	EXPECT_EQ(before.st.reserve_bytes + before.st.pcpu_bytes,
		  after.st.reserve_bytes + after.st.pcpu_bytes);
}

/* ---- monitor ------------------------------------------------------------- */

struct events {
	int exhausted, recovered, config, other;
	uint64_t exhausted_bytes, config_threshold;
};

static int seq_ok(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[RESPOOL_A_POOL_MAX + 1];
	struct events *e = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_POOL_MAX, NULL))
		return NL_SKIP;
	switch (g->cmd) {
	case RESPOOL_CMD_EXHAUSTED_NTF:
		e->exhausted++;
		e->exhausted_bytes = nl_uint(tb[RESPOOL_A_POOL_BYTES]);
		break;
	case RESPOOL_CMD_RECOVERED_NTF:
		e->recovered++;
		break;
	case RESPOOL_CMD_CONFIG_NTF:
		e->config++;
		e->config_threshold = nl_uint(tb[RESPOOL_A_POOL_THRESHOLD]);
		break;
	default:
		e->other++;
	}
	return NL_OK;
}

/* Receive events for up to @ms milliseconds or until @until is true. */
static void recv_events(struct nl_sock *sk, struct events *e, int ms,
			const int *until)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	uint64_t end = rp_now_ns() + ms * 1000000ULL;

	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, e);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_ok, NULL);
	nl_socket_set_nonblocking(sk);
	while (rp_now_ns() < end && !(until && *until)) {
		if (nl_recvmsgs(sk, cb) < 0)
			usleep(5000);
	}
	nl_cb_put(cb);
}

TEST_F(nl, monitor_gets_exhausted_recovered_and_config)
{
	struct events e = { 0 };
	struct nl_sock *mon;
	struct respool_alloc a;
	int fam, grp, i, status;
	struct nlreq r;
	pid_t pid;

	mon = nl_open(&fam);
	ASSERT_NE(NULL, mon);
	grp = genl_ctrl_resolve_grp(mon, RESPOOL_FAMILY_NAME,
				    RESPOOL_MCGRP_MONITOR);
	ASSERT_LE(0, grp);
	ASSERT_EQ(0, nl_socket_add_membership(mon, grp));

	/* Exhaust the 8M pool, then a blocking ALLOC from another file. */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, rp_alloc(self->fd, RP_MiB, 0, 0, &a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = rp_open();

		_exit(fd >= 0 && !rp_alloc(fd, 2 * RP_PAGE, 0, 0, NULL) ? 0 : 1);
	}
	ASSERT_EQ(1, rp_wait_for_waiters(1));
	recv_events(mon, &e, 10000, &e.exhausted);
	EXPECT_EQ(1, e.exhausted);
	EXPECT_EQ(2 * RP_PAGE, e.exhausted_bytes);
	EXPECT_EQ(0, e.recovered);

	/* A FREE from our file serves the waiter: recovered. */
	ASSERT_EQ(0, rp_free(self->fd, a.handle));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	recv_events(mon, &e, 10000, &e.recovered);
	EXPECT_EQ(1, e.recovered);

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u32(r.msg, RESPOOL_A_POOL_THRESHOLD, 33);
	ASSERT_EQ(0, nlreq_run(&r));
	recv_events(mon, &e, 10000, &e.config);
	EXPECT_EQ(1, e.config);
	EXPECT_EQ(33, e.config_threshold);
	EXPECT_EQ(0, e.other);
	nl_socket_free(mon);
}

/* ---- malformed and out-of-range attributes -------------------------------- */

/*
 * Requests built by hand, around respoolctl: each carries one bad
 * attribute, last, after valid ones (so that a handler applying values
 * one by one would show it). The generated per-op policies refuse the
 * malformed ones (wrong length, unknown type, NLA_F_NESTED on a scalar,
 * a broken header) before any handler runs, and so they do the values out
 * of the static bounds of the spec's "checks:" (ERANGE, with the policy's
 * bounds in the ack); the handlers refuse the values out of the bounds
 * that depend on the page size or the settings. Either way the ack
 * carries the errno and an extack message, with the offset of the culprit
 * where the kernel has one, and the pool is exactly as before.
 */
struct bad_req {
	const char *what;
	int cmd;
	int type;		/* on the wire, NLA_F_* flags in; -1: none */
	int len;		/* payload: @val little-endian, zero-extended */
	uint64_t val;
	int nla_len;		/* a forged nla_len, or 0 */
	int err;		/* -errno of the ack */
	const char *msg;	/* its extack message */
	int attr;		/* what its offset points at, -1: none */
	int nlflags;		/* extra nlmsg_flags */
	int reserved;		/* genlmsghdr.reserved */
	/* NL_ATTR_TYPE_* of the policy the ack must carry, 0: not checked */
	uint32_t pol_type;
	uint64_t pol_min, pol_max;	/* and its bounds */
};

/* The valid attributes of @cmd that go along a bad one of type @skip. */
static void put_companions(struct nl_msg *msg, int cmd, int skip)
{
	if (cmd == RESPOOL_CMD_CONFIG_SET) {
		if (skip != RESPOOL_A_POOL_THRESHOLD)
			nla_put_u32(msg, RESPOOL_A_POOL_THRESHOLD, 60);
		if (skip != RESPOOL_A_POOL_CLIENT_QUOTA)
			nla_put_u64(msg, RESPOOL_A_POOL_CLIENT_QUOTA, 3 * RP_MiB);
	} else if (cmd == RESPOOL_CMD_PREFILL) {
		if (skip != RESPOOL_A_POOL_SIZE)
			nla_put_u64(msg, RESPOOL_A_POOL_SIZE, 2 * RP_PAGE);
		if (skip != RESPOOL_A_POOL_COUNT)
			nla_put_u32(msg, RESPOOL_A_POOL_COUNT, 2);
	}
}

static void expect_same_pool(struct __test_metadata *_metadata,
			     const struct pool_info *a,
			     const struct pool_info *b, const char *what)
{
	size_t i;
	int k;

	EXPECT_EQ(a->capacity, b->capacity) TH_LOG("%s", what);
	EXPECT_EQ(a->max_block_size, b->max_block_size) TH_LOG("%s", what);
	EXPECT_EQ(a->reserve_max, b->reserve_max) TH_LOG("%s", what);
	EXPECT_EQ(a->client_quota, b->client_quota) TH_LOG("%s", what);
	EXPECT_EQ(a->threshold, b->threshold) TH_LOG("%s", what);
	EXPECT_EQ(a->pcpu_cache_blocks, b->pcpu_cache_blocks) TH_LOG("%s", what);
	EXPECT_EQ(a->idle_trim_ms, b->idle_trim_ms) TH_LOG("%s", what);
	/* Gauges and counters alike: nothing ran, so nothing moved. */
	for (i = 0; i < NSTATS; i++) {
		size_t off = stats_map[i].off;
		__u64 x = *(const __u64 *)((const char *)&a->st + off);
		__u64 y = *(const __u64 *)((const char *)&b->st + off);

		EXPECT_EQ(x, y) TH_LOG("%s: stat attr %d was %llu, now %llu",
				       what, stats_map[i].attr,
				       (unsigned long long)x,
				       (unsigned long long)y);
	}
	for (k = 0; k < RESPOOL_WAIT_HIST_BUCKETS; k++)
		EXPECT_EQ(a->st.wait_hist[k], b->st.wait_hist[k]);
}

/* Send @b, check its ack, then that the pool still equals @before. */
static void send_bad(struct __test_metadata *_metadata, struct nl_sock *sk,
		     int family, const struct bad_req *b,
		     const struct pool_info *before)
{
	uint8_t data[16] = { 0 };
	struct pool_info after;
	struct nlattr *a;
	struct nlreq r;

	memcpy(data, &b->val, sizeof(b->val));
	nlreq_init(&r, sk, family, b->cmd, b->nlflags);
	((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(r.msg)))->reserved =
		b->reserved;
	put_companions(r.msg, b->cmd, b->type & NLA_TYPE_MASK);
	if (b->type >= 0) {
		a = nla_reserve(r.msg, b->type, b->len);
		ASSERT_NE(NULL, a);
		memcpy(nla_data(a), data, b->len);
		if (b->nla_len)
			a->nla_len = b->nla_len;
	}
	EXPECT_EQ(b->err, nlreq_run(&r)) TH_LOG("%s: extack '%s'", b->what,
						r.extack);
	EXPECT_STREQ(b->msg, r.extack) TH_LOG("%s", b->what);
	EXPECT_EQ(b->attr, r.bad_attr) TH_LOG("%s", b->what);
	if (b->pol_type)
		expect_policy(_metadata, &r, b->what, b->pol_type, b->pol_min,
			      b->pol_max);
	ASSERT_EQ(0, pool_get(sk, family, &after));
	expect_same_pool(_metadata, before, &after, b->what);
}

static struct nl_sock *monitor_open(void)
{
	struct nl_sock *mon;
	int fam, grp;

	mon = nl_open(&fam);
	if (!mon)
		return NULL;
	grp = genl_ctrl_resolve_grp(mon, RESPOOL_FAMILY_NAME,
				    RESPOOL_MCGRP_MONITOR);
	if (grp < 0 || nl_socket_add_membership(mon, grp)) {
		nl_socket_free(mon);
		return NULL;
	}
	return mon;
}

/*
 * The state the bad requests must leave alone: a block held, free
 * blocks in the reserve and the caches, counters that are not zero; no
 * idle trim to move them meanwhile.
 */
static int make_state(struct nl_sock *sk, int family, int fd,
		      struct pool_info *before)
{
	struct respool_alloc a;
	struct nlreq r;
	int err;

	nlreq_init(&r, sk, family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u32(r.msg, RESPOOL_A_POOL_IDLE_TRIM_MS, 0);
	err = nlreq_run(&r);
	if (!err)
		err = rp_alloc(fd, 64 * RP_KiB, 0, 0, NULL);
	if (!err)
		err = rp_alloc(fd, 3 * RP_PAGE, 0, 0, &a);
	if (!err)
		err = rp_free(fd, a.handle);
	if (!err) {
		nlreq_init(&r, sk, family, RESPOOL_CMD_PREFILL, 0);
		nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, 2 * RP_PAGE);
		nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, 3);
		err = nlreq_run(&r);
	}
	return err ?: pool_get(sk, family, before);
}

/* One attribute, positionally; the header fields stay 0. */
#define BAD(w, c, t, l, v, n, e, m, a)					\
	{ .what = (w), .cmd = (c), .type = (t), .len = (l), .val = (v),	\
	  .nla_len = (n), .err = (e), .msg = (m), .attr = (a) }

/* A well-formed integer out of its policy's bounds [@min, @max]. */
#define BAD_RANGE(w, c, t, v, pt, min, max)				\
	{ .what = (w), .cmd = (c), .type = (t),				\
	  .len = (pt) == NL_ATTR_TYPE_U64 ? 8 : 4, .val = (v),		\
	  .err = -ERANGE, .msg = RANGE_MSG, .attr = (t),		\
	  .pol_type = (pt), .pol_min = (min), .pol_max = (max) }

#define LEN_MSG		"invalid attribute length"
#define UNKNOWN_MSG	"Unknown attribute type"
#define UNSUPP_MSG	"Unsupported attribute"
#define NESTED_MSG	"NLA_F_NESTED not expected"
#define LEFTOVER_MSG	"bytes leftover after parsing attributes"
#define FLAGS_MSG	"ambiguous or reserved bits set in nlmsg_flags"

TEST_F(nl, policy_refuses_malformed_attributes_changes_nothing)
{
	/* Every request attribute of every command, and its width. */
	static const struct {
		const char *name;
		int cmd, type;
		bool u64;
		uint64_t good;	/* valid, if a lenient parser read it */
	} attrs[] = {
		{ "config-set capacity", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_CAPACITY, true, 2 * RP_MiB },
		{ "config-set max-block-size", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_MAX_BLOCK_SIZE, true, 2 * RP_MiB },
		{ "config-set reserve-max", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_RESERVE_MAX, true, 2 * RP_MiB },
		{ "config-set client-quota", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_CLIENT_QUOTA, true, 2 * RP_MiB },
		{ "config-set user-quota", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_USER_QUOTA, true, 2 * RP_MiB },
		{ "config-set threshold", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_THRESHOLD, false, 50 },
		{ "config-set pcpu-cache-blocks", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, false, 8 },
		{ "config-set idle-trim-ms", RESPOOL_CMD_CONFIG_SET,
		  RESPOOL_A_POOL_IDLE_TRIM_MS, false, 1234 },
		{ "prefill size", RESPOOL_CMD_PREFILL, RESPOOL_A_POOL_SIZE, true,
		  8192 },
		{ "prefill count", RESPOOL_CMD_PREFILL, RESPOOL_A_POOL_COUNT,
		  false, 2 },
		{ "cpu-get id", RESPOOL_CMD_CPU_GET, RESPOOL_A_CPU_ID, false, 0 },
		{ "client-get id", RESPOOL_CMD_CLIENT_GET, RESPOOL_A_CLIENT_ID,
		  true, 1 },
	};
	/* Wrong widths: empty, one byte, the other integer width, too long. */
	static const int u64_lens[] = { 0, 1, 4, 12 };
	static const int u32_lens[] = { 0, 1, 2, 8 };
	/* Types outside the op's request, flags misused, broken headers. */
	static const struct bad_req other[] = {
		BAD("config-set type 0", RESPOOL_CMD_CONFIG_SET, 0, 4, 1, 0,
		    -EINVAL, UNKNOWN_MSG, 0),
		BAD("config-set pad", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_PAD, 0, 0, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_PAD),
		/* Below user-quota, config-set's maxattr: in no request. */
		BAD("config-set stats", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_STATS, 4, 1, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_STATS),
		BAD("config-set size", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_SIZE, 8, 4096, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_SIZE),
		BAD("config-set bytes", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_BYTES, 8, 4096, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_BYTES),
		BAD("config-set type max+1", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_MAX + 1, 4, 1, 0, -EINVAL, UNKNOWN_MSG,
		    RESPOOL_A_POOL_MAX + 1),
		BAD("config-set type 0x3fff", RESPOOL_CMD_CONFIG_SET, 0x3fff, 4,
		    1, 0, -EINVAL, UNKNOWN_MSG, 0x3fff),
		BAD("prefill pad", RESPOOL_CMD_PREFILL, RESPOOL_A_POOL_PAD, 0,
		    0, 0, -EINVAL, UNSUPP_MSG, RESPOOL_A_POOL_PAD),
		BAD("prefill capacity", RESPOOL_CMD_PREFILL,
		    RESPOOL_A_POOL_CAPACITY, 8, RP_MiB, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_CAPACITY),
		BAD("prefill threshold", RESPOOL_CMD_PREFILL,
		    RESPOOL_A_POOL_THRESHOLD, 4, 50, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_THRESHOLD),
		BAD("prefill released-bytes",
		    RESPOOL_CMD_PREFILL, RESPOOL_A_POOL_RELEASED_BYTES, 8, 1, 0,
		    -EINVAL, UNSUPP_MSG, RESPOOL_A_POOL_RELEASED_BYTES),
		/* Its policy ends at pool-name, the pool selector. */
		BAD("prefill node (first past maxattr)",
		    RESPOOL_CMD_PREFILL, RESPOOL_A_POOL_POOL_NAME + 1, 4, 1, 0,
		    -EINVAL, UNKNOWN_MSG, RESPOOL_A_POOL_POOL_NAME + 1),
		BAD("stats-reset pad", RESPOOL_CMD_STATS_RESET,
		    RESPOOL_A_POOL_PAD, 0, 0, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_PAD),
		BAD("stats-reset capacity", RESPOOL_CMD_STATS_RESET,
		    RESPOOL_A_POOL_CAPACITY, 8, RP_MiB, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_CAPACITY),
		BAD("drain pad", RESPOOL_CMD_DRAIN, RESPOOL_A_POOL_PAD, 0, 0, 0,
		    -EINVAL, UNSUPP_MSG, RESPOOL_A_POOL_PAD),
		BAD("drain count", RESPOOL_CMD_DRAIN, RESPOOL_A_POOL_COUNT, 4,
		    1, 0, -EINVAL, UNSUPP_MSG, RESPOOL_A_POOL_COUNT),
		BAD("cpu-get type past maxattr", RESPOOL_CMD_CPU_GET,
		    RESPOOL_A_CPU_POOL_NAME + 1, 8, 1, 0, -EINVAL, UNKNOWN_MSG,
		    RESPOOL_A_CPU_POOL_NAME + 1),
		/* A scalar marked nested, and the reply's nest sent back. */
		BAD("config-set threshold with NLA_F_NESTED",
		    RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_THRESHOLD | NLA_F_NESTED, 4, 50, 0, -EINVAL,
		    NESTED_MSG, RESPOOL_A_POOL_THRESHOLD),
		/*
		 * A nest of one u32 is 8 bytes: a parser that ignored the
		 * flag would take it for a u64 capacity of ~200 GiB.
		 */
		BAD("config-set capacity as a nest of threshold=50",
		    RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_CAPACITY | NLA_F_NESTED, 8,
		    0x0000003200060008ULL, 0, -EINVAL, NESTED_MSG,
		    RESPOOL_A_POOL_CAPACITY),
		BAD("config-set stats nest", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_STATS | NLA_F_NESTED, 8,
		    0x0020000000020008ULL, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_STATS),
		BAD("prefill size with NLA_F_NESTED", RESPOOL_CMD_PREFILL,
		    RESPOOL_A_POOL_SIZE | NLA_F_NESTED, 8, 8192, 0, -EINVAL,
		    NESTED_MSG, RESPOOL_A_POOL_SIZE),
		BAD("prefill count with NLA_F_NESTED", RESPOOL_CMD_PREFILL,
		    RESPOOL_A_POOL_COUNT | NLA_F_NESTED, 4, 2, 0, -EINVAL,
		    NESTED_MSG, RESPOOL_A_POOL_COUNT),
		BAD("prefill stats nest", RESPOOL_CMD_PREFILL,
		    RESPOOL_A_POOL_STATS | NLA_F_NESTED, 8,
		    0x0020000000020008ULL, 0, -EINVAL, UNSUPP_MSG,
		    RESPOOL_A_POOL_STATS),
		/* nla_len below the header, and past the end of the message. */
		BAD("config-set threshold nla_len 3", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_THRESHOLD, 4, 50, 3, -EINVAL, LEFTOVER_MSG,
		    -1),
		BAD("config-set threshold nla_len 12 of 8",
		    RESPOOL_CMD_CONFIG_SET, RESPOOL_A_POOL_THRESHOLD, 4, 50, 12,
		    -EINVAL, LEFTOVER_MSG, -1),
		/* Not a required one: the message must be refused for it. */
		BAD("prefill trailing pad with nla_len 12 of 8",
		    RESPOOL_CMD_PREFILL, RESPOOL_A_POOL_PAD, 4, 0, 12, -EINVAL,
		    LEFTOVER_MSG, -1),
		/*
		 * The family sets no resv_start_op: every command gets the
		 * header checks of new families (and strict parsing).
		 */
		{ .what = "config-set genlmsghdr.reserved 1",
		  .cmd = RESPOOL_CMD_CONFIG_SET, .type = -1, .reserved = 1,
		  .err = -EINVAL, .msg = "genlmsghdr.reserved field is not 0",
		  .attr = -1 },
		{ .what = "config-set NLM_F_EXCL", .cmd = RESPOOL_CMD_CONFIG_SET,
		  .type = -1, .nlflags = NLM_F_EXCL, .err = -EINVAL,
		  .msg = FLAGS_MSG, .attr = -1 },
		{ .what = "drain NLM_F_REPLACE", .cmd = RESPOOL_CMD_DRAIN,
		  .type = -1, .nlflags = NLM_F_REPLACE, .err = -EINVAL,
		  .msg = FLAGS_MSG, .attr = -1 },
	};
	struct pool_info before;
	struct events e = { 0 };
	struct nl_sock *mon;
	char what[96];
	size_t i, k;

	ASSERT_EQ(0, make_state(self->sk, self->family, self->fd, &before));
	ASSERT_EQ(4, before.st.blocks_free);
	ASSERT_EQ(1, before.st.blocks_in_use);
	mon = monitor_open();
	ASSERT_NE(NULL, mon);

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		const int *lens = attrs[i].u64 ? u64_lens : u32_lens;

		for (k = 0; k < 4; k++) {
			struct bad_req b = {
				.what = what, .cmd = attrs[i].cmd,
				.type = attrs[i].type, .len = lens[k],
				.val = attrs[i].good, .err = -EINVAL,
				.msg = LEN_MSG, .attr = attrs[i].type,
			};

			snprintf(what, sizeof(what), "%s, %d bytes",
				 attrs[i].name, lens[k]);
			send_bad(_metadata, self->sk, self->family, &b, &before);
		}
	}
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		send_bad(_metadata, self->sk, self->family, &other[i], &before);

	/* No config notification went out; a real change sends one. */
	recv_events(mon, &e, 200, NULL);
	EXPECT_EQ(0, e.config);
	{
		struct nlreq r;

		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
		nla_put_u32(r.msg, RESPOOL_A_POOL_THRESHOLD, 60);
		ASSERT_EQ(0, nlreq_run(&r));
	}
	recv_events(mon, &e, 10000, &e.config);
	EXPECT_EQ(1, e.config);
	EXPECT_EQ(60, e.config_threshold);
	nl_socket_free(mon);
}

TEST_F(nl, out_of_range_values_refused_change_nothing)
{
	const uint64_t pg = RP_PAGE, bmax = 4 * RP_MiB;
	const char *cap = "capacity: must be at least one page";
	const char *mbs = "max-block-size: must be a multiple of the page size, from one page to 4M";
	const char *size_big = "size: larger than max-block-size or capacity";
	const struct bad_req bad[] = {
		/* Prefill first: a config change let through would hide them. */
		BAD_RANGE("prefill size min-1", RESPOOL_CMD_PREFILL,
			  RESPOOL_A_POOL_SIZE, 0, NL_ATTR_TYPE_U64, 1,
			  UINT64_MAX),
		/* The fixture's max-block-size is 1M. */
		BAD("prefill size max+1", RESPOOL_CMD_PREFILL,
		    RESPOOL_A_POOL_SIZE, 8, RP_MiB + 1, 0, -E2BIG, size_big,
		    RESPOOL_A_POOL_SIZE),
		/* Would round up to 0 pages if rounded before the check. */
		BAD("prefill size U64_MAX", RESPOOL_CMD_PREFILL,
		    RESPOOL_A_POOL_SIZE, 8, UINT64_MAX, 0, -E2BIG, size_big,
		    RESPOOL_A_POOL_SIZE),
		BAD("capacity min-1", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_CAPACITY, 8, pg - 1, 0, -EINVAL, cap,
		    RESPOOL_A_POOL_CAPACITY),
		BAD("max-block-size min-1", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE, 8, pg - 1, 0, -EINVAL, mbs,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE),
		BAD("max-block-size max+1", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE, 8, bmax + 1, 0, -EINVAL, mbs,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE),
		BAD("max-block-size max+page", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE, 8, bmax + pg, 0, -EINVAL,
		    mbs, RESPOOL_A_POOL_MAX_BLOCK_SIZE),
		BAD("max-block-size page+1 (unaligned)", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE, 8, pg + 1, 0, -EINVAL, mbs,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE),
		BAD("max-block-size U64_MAX", RESPOOL_CMD_CONFIG_SET,
		    RESPOOL_A_POOL_MAX_BLOCK_SIZE, 8, UINT64_MAX, 0, -EINVAL,
		    mbs, RESPOOL_A_POOL_MAX_BLOCK_SIZE),
		BAD_RANGE("threshold max+1", RESPOOL_CMD_CONFIG_SET,
			  RESPOOL_A_POOL_THRESHOLD, 101, NL_ATTR_TYPE_U32, 0,
			  100),
		BAD_RANGE("threshold U32_MAX", RESPOOL_CMD_CONFIG_SET,
			  RESPOOL_A_POOL_THRESHOLD, UINT32_MAX,
			  NL_ATTR_TYPE_U32, 0, 100),
		BAD_RANGE("pcpu-cache-blocks max+1", RESPOOL_CMD_CONFIG_SET,
			  RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, 65,
			  NL_ATTR_TYPE_U32, 0, 64),
		BAD_RANGE("pcpu-cache-blocks U32_MAX", RESPOOL_CMD_CONFIG_SET,
			  RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, UINT32_MAX,
			  NL_ATTR_TYPE_U32, 0, 64),
	};
	struct pool_info before;
	struct events e = { 0 };
	struct nl_sock *mon;
	size_t i;

	ASSERT_EQ(0, make_state(self->sk, self->family, self->fd, &before));
	mon = monitor_open();
	ASSERT_NE(NULL, mon);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		send_bad(_metadata, self->sk, self->family, &bad[i], &before);
	recv_events(mon, &e, 200, NULL);
	EXPECT_EQ(0, e.config);
	nl_socket_free(mon);
}

static uint64_t config_field(const struct pool_info *p, int attr)
{
	switch (attr) {
	case RESPOOL_A_POOL_CAPACITY:		return p->capacity;
	case RESPOOL_A_POOL_MAX_BLOCK_SIZE:	return p->max_block_size;
	case RESPOOL_A_POOL_RESERVE_MAX:	return p->reserve_max;
	case RESPOOL_A_POOL_CLIENT_QUOTA:	return p->client_quota;
	case RESPOOL_A_POOL_USER_QUOTA:		return p->user_quota;
	case RESPOOL_A_POOL_THRESHOLD:		return p->threshold;
	case RESPOOL_A_POOL_PCPU_CACHE_BLOCKS:	return p->pcpu_cache_blocks;
	case RESPOOL_A_POOL_IDLE_TRIM_MS:	return p->idle_trim_ms;
	}
	return UINT64_MAX - 1;
}

/* The bounds themselves are valid, and read back at full width. */
TEST_F(nl, config_set_accepts_each_bound_then_restores)
{
	const struct {
		int attr;
		bool u64;
		uint64_t val;
	} ok[] = {
		{ RESPOOL_A_POOL_CAPACITY, true, RP_PAGE },
		{ RESPOOL_A_POOL_MAX_BLOCK_SIZE, true, RP_PAGE },
		{ RESPOOL_A_POOL_MAX_BLOCK_SIZE, true, 4 * RP_MiB },
		{ RESPOOL_A_POOL_RESERVE_MAX, true, 0 },
		{ RESPOOL_A_POOL_RESERVE_MAX, true, UINT64_MAX },
		{ RESPOOL_A_POOL_CLIENT_QUOTA, true, UINT64_MAX },
		{ RESPOOL_A_POOL_USER_QUOTA, true, UINT64_MAX },
		{ RESPOOL_A_POOL_USER_QUOTA, true, 0 },
		{ RESPOOL_A_POOL_THRESHOLD, false, 0 },
		{ RESPOOL_A_POOL_THRESHOLD, false, 100 },
		{ RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, false, 0 },
		{ RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, false, 64 },
		{ RESPOOL_A_POOL_IDLE_TRIM_MS, false, UINT32_MAX },
	};
	struct pool_info orig, p;
	struct nlreq r;
	size_t i;

	ASSERT_EQ(0, pool_get(self->sk, self->family, &orig));
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
		if (ok[i].u64)
			nla_put_u64(r.msg, ok[i].attr, ok[i].val);
		else
			nla_put_u32(r.msg, ok[i].attr, ok[i].val);
		EXPECT_EQ(0, nlreq_run(&r))
			TH_LOG("attr %d = %llu: '%s'", ok[i].attr,
			       (unsigned long long)ok[i].val, r.extack);
		ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
		EXPECT_EQ(ok[i].val, config_field(&p, ok[i].attr))
			TH_LOG("attr %d", ok[i].attr);
	}

	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_CONFIG_SET, 0);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CAPACITY, orig.capacity);
	nla_put_u64(r.msg, RESPOOL_A_POOL_MAX_BLOCK_SIZE, orig.max_block_size);
	nla_put_u64(r.msg, RESPOOL_A_POOL_RESERVE_MAX, orig.reserve_max);
	nla_put_u64(r.msg, RESPOOL_A_POOL_CLIENT_QUOTA, orig.client_quota);
	nla_put_u64(r.msg, RESPOOL_A_POOL_USER_QUOTA, orig.user_quota);
	nla_put_u32(r.msg, RESPOOL_A_POOL_THRESHOLD, orig.threshold);
	nla_put_u32(r.msg, RESPOOL_A_POOL_PCPU_CACHE_BLOCKS,
		    orig.pcpu_cache_blocks);
	nla_put_u32(r.msg, RESPOOL_A_POOL_IDLE_TRIM_MS, orig.idle_trim_ms);
	ASSERT_EQ(0, nlreq_run(&r)) TH_LOG("restore: '%s'", r.extack);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(orig.capacity, p.capacity);
	EXPECT_EQ(orig.max_block_size, p.max_block_size);
	EXPECT_EQ(orig.reserve_max, p.reserve_max);
	EXPECT_EQ(orig.client_quota, p.client_quota);
	EXPECT_EQ(orig.user_quota, p.user_quota);
	EXPECT_EQ(orig.threshold, p.threshold);
	EXPECT_EQ(orig.pcpu_cache_blocks, p.pcpu_cache_blocks);
	EXPECT_EQ(orig.idle_trim_ms, p.idle_trim_ms);
	EXPECT_EQ(orig.capacity, p.st.capacity);
}

/* Prefill at its bounds: one byte, max-block-size, no blocks, U32_MAX. */
TEST_F(nl, prefill_accepts_size_and_count_bounds)
{
	const struct {
		uint64_t size;
		uint32_t count, added;
	} ok[] = {
		{ 1, 1, 1 },			/* one page */
		{ RP_MiB, 1, 1 },		/* the fixture's max-block-size */
		{ RP_PAGE, 0, 0 },
		/* 8M capacity, 1M + 1 page already free: 6 more fit. */
		{ RP_MiB, UINT32_MAX, 6 },
	};
	uint64_t v[2] = { UINT64_MAX, UINT64_MAX };
	struct pool_info p;
	struct nlreq r;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v[0] = UINT64_MAX;
		nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_PREFILL, 0);
		nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, ok[i].size);
		nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, ok[i].count);
		r.parse = parse_one;
		r.maxattr = RESPOOL_A_POOL_MAX;
		r.arg = v;
		EXPECT_EQ(0, nlreq_run(&r)) TH_LOG("case %zu: '%s'", i, r.extack);
		EXPECT_EQ(ok[i].added, v[0]) TH_LOG("case %zu", i);
	}
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(8, p.st.blocks_free);
	EXPECT_EQ(7 * RP_MiB + RP_PAGE, p.st.reserve_bytes + p.st.pcpu_bytes);

	/* Drain restores the empty pool. */
	nlreq_init(&r, self->sk, self->family, RESPOOL_CMD_DRAIN, 0);
	r.parse = parse_one;
	r.maxattr = RESPOOL_A_POOL_MAX;
	r.arg = v;
	ASSERT_EQ(0, nlreq_run(&r));
	EXPECT_EQ(7 * RP_MiB + RP_PAGE, v[1]);
	ASSERT_EQ(0, pool_get(self->sk, self->family, &p));
	EXPECT_EQ(0, p.st.blocks_free);
	EXPECT_EQ(0, p.st.reserve_bytes + p.st.pcpu_bytes);
}

/* ---- a dump racing with clients opening and closing ---------------------- */

/*
 * client-get dump over a plain socket, so that the datagrams (the parts
 * of the dump, each a fresh call of the dumpit) can be counted: libnl
 * hides them. Fills @ids, returns the number of parts or -errno.
 */
static int raw_client_dump(int family, uint64_t *ids, int max, int *n)
{
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = family,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.g = { .cmd = RESPOOL_CMD_CLIENT_GET, .version = 1 },
	};
	static char buf[65536];
	int fd, parts = 0, ret = -EPROTO;
	bool done = false;

	*n = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) != sizeof(req)) {
		close(fd);
		return -errno;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh = (void *)buf;

		if (len <= 0)
			break;
		parts++;
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			struct nlattr *tb[RESPOOL_A_CLIENT_MAX + 1];

			if (nlh->nlmsg_type == NLMSG_DONE) {
				done = true;
				ret = parts;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				ret = ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;
				break;
			}
			if (nla_parse(tb, RESPOOL_A_CLIENT_MAX,
				      (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN),
				      nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
				      NULL) || !tb[RESPOOL_A_CLIENT_ID] || *n >= max)
				continue;
			ids[(*n)++] = nla_get_u64(tb[RESPOOL_A_CLIENT_ID]);
		}
	}
	close(fd);
	return ret;
}

TEST_F_TIMEOUT(nl, client_dump_survives_open_close_race, 120)
{
	int i, k, n, dumps = 0, bad = 0, errs = 0, max_parts = 0;
	static uint64_t ids[1024];
	pid_t kids[8], parent = getpid();
	uint64_t t0, end;

	for (k = 0; k < 8; k++) {
		kids[k] = fork();
		ASSERT_LE(0, kids[k]);
		if (!kids[k]) {
			/* Gone with the test, even after a failed ASSERT. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			for (;;) {
				int fd = rp_open();

				if (fd >= 0) {
					rp_alloc(fd, RP_PAGE * (1 + k), 0, 0, NULL);
					close(fd);
				}
			}
		}
	}
	/*
	 * Hold many clients open (600 entries, over the 32K a dump part
	 * holds at most), so that the kernel splits each dump into
	 * several parts (one per datagram), each resuming by client id.
	 * Dump for 2 s and at least 11 times: with 8 busy children on a
	 * loaded emulated guest, 2 s may give the test few turns (up to
	 * 60 s then).
	 */
	{
		int fds[600];

		for (i = 0; i < 600; i++)
			fds[i] = rp_open();
		t0 = rp_now_ns();
		end = t0 + 60000000000ULL;
		while (rp_now_ns() < end &&
		       (dumps <= 10 || rp_now_ns() - t0 < 2000000000ULL)) {
			int parts = raw_client_dump(self->family, ids, 1024, &n);

			if (parts < 0) {
				errs++;
				continue;
			}
			dumps++;
			if (parts > max_parts)
				max_parts = parts;
			for (i = 1; i < n; i++)
				if (ids[i] <= ids[i - 1])
					bad++;
			if (n < 601)
				bad++;
		}
		for (i = 0; i < 600; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	for (k = 0; k < 8; k++) {
		kill(kids[k], SIGKILL);
		waitpid(kids[k], NULL, 0);
	}
	EXPECT_LT(10, dumps);
	EXPECT_LT(2, max_parts) TH_LOG("dumps came in one part: no resume tested");
	EXPECT_EQ(0, errs);
	EXPECT_EQ(0, bad) TH_LOG("dumps out of order, repeated or short");
}

TEST(family_absent_without_module)
{
	struct nl_sock *sk;
	int fam;

	if (rp_skip_reason())
		SKIP(return, "%s", rp_skip_reason());
	ASSERT_EQ(0, rp_unload());
	sk = nl_open(&fam);
	ASSERT_NE(NULL, sk);
	EXPECT_GT(0, fam);
	nl_socket_free(sk);
	ASSERT_EQ(0, rp_load(NULL));
	sk = nl_open(&fam);
	ASSERT_NE(NULL, sk);
	EXPECT_LT(0, fam);
	nl_socket_free(sk);
}

TEST_HARNESS_MAIN
