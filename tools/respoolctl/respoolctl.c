// SPDX-License-Identifier: GPL-2.0
/*
 * respoolctl - watch and steer the respool memory pool over its generic
 * netlink family "respool" (Documentation/netlink/specs/respool.yaml).
 *
 *   respoolctl [-j] [-p] OBJECT [COMMAND] [ARGS]
 *   respoolctl -V
 *
 * One table of commands (cmds[]) in the manner of iw: each entry has its
 * words, handler, arguments and help. Words match by unique prefix.
 * Human output uses K/M/G units; -j prints JSON with raw numbers, -p
 * pretty-prints it. Exit status: 0 success, 1 error, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include <linux/respool.h>
#include "librespool.h"

#ifndef RESPOOLCTL_VERSION
#error "RESPOOLCTL_VERSION is not defined: the Makefile passes it from ../../VERSION"
#endif

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define EXIT_USAGE 2

static bool opt_json, opt_pretty, opt_timestamp;
static const char *prog = "respoolctl";
static char cur_cmd[32];	/* "config set": the command being run */

/* A usage error with its reason; main() then prints the command's usage. */
static int __attribute__((format(printf, 1, 2))) usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", prog, cur_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* For the commands that take no argument, given @argv[0]. */
static int no_args(char **argv)
{
	return usage_err("takes no arguments, '%s' is one too many", argv[0]);
}

/* ---- output helpers ---------------------------------------------------- */

/*
 * "64M", "1.5M", "1.25K", "512B": what parse_size() reads back to the same
 * byte. The largest unit that says the value exactly in at most two
 * decimals is taken; a value no unit says so ("1331B" is 1.2998K) prints
 * with one decimal and a "~" that marks it as rounded.
 */
static const char *fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "KMGTPE";
	int u, dec;

	for (u = 5; u >= 0; u--) {
		uint64_t unit = 1ULL << (10 * (u + 1));
		unsigned __int128 scaled = (unsigned __int128)v * 100;

		if (v < unit || scaled % unit)
			continue;
		scaled /= unit;
		dec = scaled % 10 ? 2 : scaled % 100 ? 1 : 0;
		snprintf(buf, len, "%.*f%c", dec, (double)v / unit, units[u]);
		return buf;
	}
	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 "%s", v, v ? "B" : "");
		return buf;
	}
	for (u = 0; u < 5 && v >= 1ULL << (10 * (u + 2)); u++)
		;
	snprintf(buf, len, "~%.1f%c", (double)v / (1ULL << (10 * (u + 1))),
		 units[u]);
	return buf;
}

static const char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}

/* The wall clock: "21:50:01", or with -t "2026-12-01T21:50:01.123456". */
static const char *fmt_now(char *buf, size_t len)
{
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	n = strftime(buf, len, opt_timestamp ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S",
		     &tm);
	if (opt_timestamp && n)
		snprintf(buf + n, len - n, ".%06ld", now.tv_nsec / 1000);
	return buf;
}

/* A minimal JSON writer: objects, arrays, numbers and strings. */
static struct {
	int depth;
	bool first[32];
} jw;

static void jw_indent(void)
{
	int i;

	if (!opt_pretty)
		return;
	putchar('\n');
	for (i = 0; i < jw.depth; i++)
		fputs("    ", stdout);
}

static void jw_key(const char *key)
{
	if (jw.depth) {
		if (!jw.first[jw.depth])
			putchar(',');
		jw.first[jw.depth] = false;
		jw_indent();
	}
	if (key)
		printf(opt_pretty ? "\"%s\": " : "\"%s\":", key);
}

static void jw_open(const char *key, char c)
{
	jw_key(key);
	putchar(c);
	jw.first[++jw.depth] = true;
}

static void jw_close(char c)
{
	bool empty = jw.first[jw.depth];

	jw.depth--;
	if (!empty)
		jw_indent();
	putchar(c);
	if (!jw.depth) {
		putchar('\n');
		fflush(stdout);
	}
}

static void jw_u64(const char *key, uint64_t v)
{
	jw_key(key);
	printf("%" PRIu64, v);
}

static void jw_s64(const char *key, int64_t v)
{
	jw_key(key);
	printf("%" PRId64, v);
}

static void jw_str(const char *key, const char *s)
{
	jw_key(key);
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* ---- attribute tables -------------------------------------------------- */

enum kind { K_BYTES, K_COUNT, K_NS, K_PCT, K_MS, K_AGO };

struct attr_desc {
	int attr;
	const char *name;
	enum kind kind;
	bool is_u32;
};

static const struct attr_desc config_attrs[] = {
	{ RESPOOL_A_POOL_CAPACITY, "capacity", K_BYTES, false },
	{ RESPOOL_A_POOL_MAX_BLOCK_SIZE, "max-block-size", K_BYTES, false },
	{ RESPOOL_A_POOL_RESERVE_MAX, "reserve-max", K_BYTES, false },
	{ RESPOOL_A_POOL_CLIENT_QUOTA, "client-quota", K_BYTES, false },
	{ RESPOOL_A_POOL_USER_QUOTA, "user-quota", K_BYTES, false },
	{ RESPOOL_A_POOL_THRESHOLD, "threshold", K_PCT, true },
	{ RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, "pcpu-cache-blocks", K_COUNT, true },
	{ RESPOOL_A_POOL_IDLE_TRIM_MS, "idle-trim-ms", K_MS, true },
};

#define NR_CONFIG (sizeof(config_attrs) / sizeof(config_attrs[0]))

static const struct attr_desc stats_attrs[] = {
	{ RESPOOL_A_STATS_CAPACITY, "capacity", K_BYTES, false },
	{ RESPOOL_A_STATS_IN_USE_BYTES, "in-use-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_RESERVE_BYTES, "reserve-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_PCPU_BYTES, "pcpu-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_REQUESTED_BYTES, "requested-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_PEAK_IN_USE_BYTES, "peak-in-use-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_BLOCKS_IN_USE, "blocks-in-use", K_COUNT, false },
	{ RESPOOL_A_STATS_BLOCKS_FREE, "blocks-free", K_COUNT, false },
	{ RESPOOL_A_STATS_ALLOCS, "allocs", K_COUNT, false },
	{ RESPOOL_A_STATS_FREES, "frees", K_COUNT, false },
	{ RESPOOL_A_STATS_PCPU_HITS, "pcpu-hits", K_COUNT, false },
	{ RESPOOL_A_STATS_RESERVE_HITS, "reserve-hits", K_COUNT, false },
	{ RESPOOL_A_STATS_FRESH_ALLOCS, "fresh-allocs", K_COUNT, false },
	{ RESPOOL_A_STATS_THRESHOLD_REJECTS, "threshold-rejects", K_COUNT, false },
	{ RESPOOL_A_STATS_EVICTIONS, "evictions", K_COUNT, false },
	{ RESPOOL_A_STATS_EVICTED_BYTES, "evicted-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_WAITS, "waits", K_COUNT, false },
	{ RESPOOL_A_STATS_WAIT_TIMEOUTS, "wait-timeouts", K_COUNT, false },
	{ RESPOOL_A_STATS_WAIT_INTERRUPTS, "wait-interrupts", K_COUNT, false },
	{ RESPOOL_A_STATS_WAITERS, "waiters", K_COUNT, false },
	{ RESPOOL_A_STATS_MAX_WAIT_NS, "max-wait-ns", K_NS, false },
	{ RESPOOL_A_STATS_HANDOFFS, "handoffs", K_COUNT, false },
	{ RESPOOL_A_STATS_SHRINKER_RELEASED_BYTES, "shrinker-released-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_IDLE_TRIMMED_BYTES, "idle-trimmed-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_ZEROED_BYTES, "zeroed-bytes", K_BYTES, false },
	{ RESPOOL_A_STATS_CLIENTS, "clients", K_COUNT, false },
	{ RESPOOL_A_STATS_LAST_RESET_NS, "last-reset-ns", K_AGO, false },
	{ RESPOOL_A_STATS_LOST_WAKEUPS, "lost-wakeups", K_COUNT, false },
};

#define NR_STATS (sizeof(stats_attrs) / sizeof(stats_attrs[0]))

static const struct attr_desc cpu_attrs[] = {
	{ RESPOOL_A_CPU_ALLOCS, "allocs", K_COUNT, false },
	{ RESPOOL_A_CPU_FREES, "frees", K_COUNT, false },
	{ RESPOOL_A_CPU_PCPU_HITS, "pcpu-hits", K_COUNT, false },
	{ RESPOOL_A_CPU_RESERVE_HITS, "reserve-hits", K_COUNT, false },
	{ RESPOOL_A_CPU_FRESH_ALLOCS, "fresh-allocs", K_COUNT, false },
	{ RESPOOL_A_CPU_THRESHOLD_REJECTS, "threshold-rejects", K_COUNT, false },
	{ RESPOOL_A_CPU_EVICTIONS, "evictions", K_COUNT, false },
	{ RESPOOL_A_CPU_EVICTED_BYTES, "evicted-bytes", K_BYTES, false },
	{ RESPOOL_A_CPU_ZEROED_BYTES, "zeroed-bytes", K_BYTES, false },
};

#define NR_CPU (sizeof(cpu_attrs) / sizeof(cpu_attrs[0]))

static uint64_t get_uint(struct nlattr *a)
{
	if (!a)
		return 0;
	if (nla_len(a) >= 8)
		return nla_get_u64(a);
	return nla_get_u32(a);
}

/* ---- netlink ------------------------------------------------------------ */

struct req {
	struct nl_msg *msg;		/* the request, for the extack offset */
	const char *what;		/* "config set": for error messages */
	const char *argstr[RESPOOL_A_POOL_MAX + 1];	/* user's text per attr */
	int (*parse)(struct nl_msg *msg, void *arg);
	void *arg;
	bool done;
	int err;
};

static struct nl_sock *sk;
static int family;

static int connect_family(void)
{
	int one = 1;

	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk)) {
		fprintf(stderr, "%s: cannot open a generic netlink socket\n", prog);
		return 1;
	}
	family = genl_ctrl_resolve(sk, RESPOOL_FAMILY_NAME);
	if (family < 0) {
		fprintf(stderr,
			"%s: respool module not loaded (no generic netlink family '%s')\n",
			prog, RESPOOL_FAMILY_NAME);
		return 1;
	}
	/* Extended ACK: the kernel names the bad attribute and says why. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	return 0;
}

static const char *pool_attr_name(int type)
{
	static const struct { int attr; const char *name; } extra[] = {
		{ RESPOOL_A_POOL_SIZE, "size" },
		{ RESPOOL_A_POOL_COUNT, "count" },
	};
	size_t i;

	for (i = 0; i < NR_CONFIG; i++)
		if (config_attrs[i].attr == type)
			return config_attrs[i].name;
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (extra[i].attr == type)
			return extra[i].name;
	return NULL;
}

/*
 * NLMSGERR_ATTR_POLICY: the policy of the attribute the kernel refused.
 * The generated policies carry the spec's "checks:", and a value out of
 * them comes back as ERANGE with the generic "integer out of range" and
 * the bounds here: say them instead, as "must be 0..100".
 */
static bool policy_bounds(struct nlattr *pol, char *buf, size_t len)
{
	struct nlattr *pb[NL_POLICY_TYPE_ATTR_MAX + 1];
	uint64_t min, max, type_max;

	if (!pol || nla_parse_nested(pb, NL_POLICY_TYPE_ATTR_MAX, pol, NULL) ||
	    !pb[NL_POLICY_TYPE_ATTR_TYPE] ||
	    !pb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] ||
	    !pb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
		return false;
	switch (nla_get_u32(pb[NL_POLICY_TYPE_ATTR_TYPE])) {
	case NL_ATTR_TYPE_U8:
		type_max = UINT8_MAX;
		break;
	case NL_ATTR_TYPE_U16:
		type_max = UINT16_MAX;
		break;
	case NL_ATTR_TYPE_U32:
		type_max = UINT32_MAX;
		break;
	case NL_ATTR_TYPE_U64:
		type_max = UINT64_MAX;
		break;
	default:
		return false;
	}
	min = nla_get_u64(pb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]);
	max = nla_get_u64(pb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]);
	if (max >= type_max)
		snprintf(buf, len, "must be at least %" PRIu64, min);
	else
		snprintf(buf, len, "must be %" PRIu64 "..%" PRIu64, min, max);
	return true;
}

/* Print the kernel's refusal the way a user wants to read it. */
static void report_error(struct req *r, int error, const char *msg,
			 int offs, struct nlattr *pol)
{
	const char *name = NULL, *val = NULL;
	char num[32], bounds[64];

	/*
	 * Two checks can refuse: genetlink's GENL_ADMIN_PERM (CAP_NET_ADMIN,
	 * no message) and then respool's own (CAP_SYS_ADMIN, with one); both
	 * in the initial user namespace. Name the one that refused.
	 */
	if (error == -EPERM) {
		fprintf(stderr, "%s: permission denied: %s needs %s\n", prog,
			r->what, msg ? "CAP_SYS_ADMIN" :
			"CAP_NET_ADMIN (and then CAP_SYS_ADMIN)");
		return;
	}
	if (offs >= (int)NLMSG_HDRLEN && r->msg) {
		struct nlmsghdr *nlh = nlmsg_hdr(r->msg);

		if (offs + (int)sizeof(struct nlattr) <= (int)nlh->nlmsg_len) {
			struct nlattr *a = (void *)((char *)nlh + offs);
			int type = nla_type(a);

			name = pool_attr_name(type);
			if (type <= RESPOOL_A_POOL_MAX && r->argstr[type]) {
				val = r->argstr[type];
			} else {
				snprintf(num, sizeof(num), "%" PRIu64, get_uint(a));
				val = num;
			}
		}
	}
	if (error == -ERANGE && policy_bounds(pol, bounds, sizeof(bounds)))
		msg = bounds;
	if (name && msg) {
		size_t n = strlen(name);

		/* The kernel's message starts with the name too: drop it. */
		if (!strncmp(msg, name, n) && msg[n] == ':')
			msg += n + 1 + (msg[n + 1] == ' ');
		fprintf(stderr, "%s: invalid %s %s: %s\n", prog, name, val, msg);
	} else if (msg) {
		fprintf(stderr, "%s: %s: %s (%s)\n", prog, r->what, msg,
			strerror(-error));
	} else {
		fprintf(stderr, "%s: %s: %s\n", prog, r->what, strerror(-error));
	}
}

static int cb_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	struct req *r = arg;
	const char *msg = NULL;
	int offs = -1;

	(void)nla;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		int hlen = sizeof(*e);
		int len;

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			hlen += e->msg.nlmsg_len - sizeof(e->msg);
		len = nlh->nlmsg_len - NLMSG_HDRLEN - hlen;
		if (len > 0 &&
		    !nla_parse(tb, NLMSGERR_ATTR_MAX,
			       (void *)((char *)e + hlen), len, NULL)) {
			if (tb[NLMSGERR_ATTR_MSG])
				msg = nla_get_string(tb[NLMSGERR_ATTR_MSG]);
			if (tb[NLMSGERR_ATTR_OFFS])
				offs = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
		}
	}
	r->err = e->error;
	r->done = true;
	if (e->error)
		report_error(r, e->error, msg, offs, tb[NLMSGERR_ATTR_POLICY]);
	return NL_STOP;
}

static int cb_finish(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

static int cb_valid(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;

	return r->parse ? r->parse(msg, r->arg) : NL_OK;
}

/* Send @r->msg (built by the caller) and process replies until done. */
static int run_req(struct req *r)
{
	struct nl_cb *cb;
	int err;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return 1;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cb_valid, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cb_finish, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cb_finish, r);
	nl_cb_err(cb, NL_CB_CUSTOM, cb_error, r);

	err = nl_send_auto(sk, r->msg);
	if (err < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, r->what, nl_geterror(err));
		nl_cb_put(cb);
		return 1;
	}
	while (!r->done) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && !r->done) {
			fprintf(stderr, "%s: %s: %s\n", prog, r->what,
				nl_geterror(err));
			r->err = -EIO;
			break;
		}
	}
	nl_cb_put(cb);
	nlmsg_free(r->msg);
	r->msg = NULL;
	return r->err ? 1 : 0;
}

static int req_init(struct req *r, uint8_t cmd, int flags, const char *what,
		    int (*parse)(struct nl_msg *, void *), void *arg)
{
	/* Connect only now, so that usage errors are found first. */
	if (!sk && connect_family())
		return 1;
	memset(r, 0, sizeof(*r));
	r->what = what;
	r->parse = parse;
	r->arg = arg;
	r->msg = nlmsg_alloc();
	if (!r->msg ||
	    !genlmsg_put(r->msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 flags | NLM_F_ACK, cmd, RESPOOL_FAMILY_VERSION)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	return 0;
}

/* ---- parsing of replies ------------------------------------------------- */

struct pool_reply {
	uint64_t cfg[NR_CONFIG];
	uint64_t st[NR_STATS];
	uint64_t hist[RESPOOL_WAIT_HIST_BUCKETS];
	bool got;
};

static int parse_pool(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_POOL_MAX + 1], *sb[RESPOOL_A_STATS_MAX + 1];
	struct pool_reply *p = arg;
	struct nlattr *a;
	size_t i;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_POOL_MAX, NULL))
		return NL_SKIP;
	for (i = 0; i < NR_CONFIG; i++)
		p->cfg[i] = get_uint(tb[config_attrs[i].attr]);
	if (tb[RESPOOL_A_POOL_STATS] &&
	    !nla_parse_nested(sb, RESPOOL_A_STATS_MAX, tb[RESPOOL_A_POOL_STATS],
			      NULL)) {
		for (i = 0; i < NR_STATS; i++)
			p->st[i] = get_uint(sb[stats_attrs[i].attr]);
		nla_for_each_nested(a, tb[RESPOOL_A_POOL_STATS], rem) {
			struct nlattr *hb[RESPOOL_A_HIST_BUCKET_MAX + 1];
			uint32_t k;

			if (nla_type(a) != RESPOOL_A_STATS_WAIT_HIST ||
			    nla_parse_nested(hb, RESPOOL_A_HIST_BUCKET_MAX, a,
					     NULL) ||
			    !hb[RESPOOL_A_HIST_BUCKET_LOG2_NS])
				continue;
			k = nla_get_u32(hb[RESPOOL_A_HIST_BUCKET_LOG2_NS]);
			if (k < RESPOOL_WAIT_HIST_BUCKETS)
				p->hist[k] = get_uint(hb[RESPOOL_A_HIST_BUCKET_COUNT]);
		}
	}
	p->got = true;
	return NL_OK;
}

static int get_pool(struct pool_reply *p)
{
	struct req r;

	memset(p, 0, sizeof(*p));
	if (req_init(&r, RESPOOL_CMD_POOL_GET, 0, "stats", parse_pool, p))
		return 1;
	return run_req(&r);
}

static uint64_t stat_of(const struct pool_reply *p, const char *name)
{
	size_t i;

	for (i = 0; i < NR_STATS; i++)
		if (!strcmp(stats_attrs[i].name, name))
			return p->st[i];
	return 0;
}

static void print_value(const struct attr_desc *d, uint64_t v)
{
	char buf[32];

	switch (d->kind) {
	case K_BYTES:
		fputs(fmt_size(buf, sizeof(buf), v), stdout);
		break;
	case K_NS:
		fputs(fmt_ns(buf, sizeof(buf), v), stdout);
		break;
	case K_PCT:
		printf("%" PRIu64 "%%", v);
		break;
	case K_MS:
		printf("%" PRIu64 "ms", v);
		break;
	case K_AGO: {
		/* A CLOCK_MONOTONIC time stamp: say how long ago. */
		struct timespec now;
		uint64_t ns;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
		printf("%s ago", fmt_ns(buf, sizeof(buf), ns > v ? ns - v : 0));
		break;
	}
	default:
		printf("%" PRIu64, v);
	}
}

/* Wait-time histogram as bars, in the manner of bpftrace's hist(). */
static void print_hist(const uint64_t *hist)
{
	int lo = -1, hi = -1, k, w;
	uint64_t max = 0;
	char a[32], b[32];

	for (k = 0; k < RESPOOL_WAIT_HIST_BUCKETS; k++) {
		if (!hist[k])
			continue;
		if (lo < 0)
			lo = k;
		hi = k;
		if (hist[k] > max)
			max = hist[k];
	}
	printf("wait time histogram:\n");
	if (lo < 0) {
		printf("  (no waits)\n");
		return;
	}
	for (k = lo; k <= hi; k++) {
		char label[72];

		/* Bucket k holds waits of [2^k, 2^(k+1)) ns: say times. */
		fmt_ns(a, sizeof(a), 1ULL << k);
		if (k < 63)
			fmt_ns(b, sizeof(b), 1ULL << (k + 1));
		else
			snprintf(b, sizeof(b), "...");
		snprintf(label, sizeof(label), "[%s, %s)", a, b);
		w = (int)(hist[k] * 52 / max);
		printf("%-18s %8" PRIu64 " |%.*s%*s|\n", label, hist[k], w,
		       "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
		       52 - w, "");
	}
}

/* ---- commands ----------------------------------------------------------- */

static int do_stats(int argc, char **argv)
{
	struct pool_reply p;
	size_t i;
	int k;

	if (argc)
		return no_args(argv);
	if (get_pool(&p))
		return 1;
	if (opt_json) {
		jw_open(NULL, '{');
		for (i = 0; i < NR_STATS; i++)
			jw_u64(stats_attrs[i].name, p.st[i]);
		jw_open("wait-hist", '[');
		for (k = 0; k < RESPOOL_WAIT_HIST_BUCKETS; k++) {
			if (!p.hist[k])
				continue;
			jw_open(NULL, '{');
			jw_u64("log2-ns", k);
			jw_u64("count", p.hist[k]);
			jw_close('}');
		}
		jw_close(']');
		jw_close('}');
		return 0;
	}
	for (i = 0; i < NR_STATS; i++) {
		printf("%-24s ", stats_attrs[i].name);
		print_value(&stats_attrs[i], p.st[i]);
		putchar('\n');
	}
	{
		uint64_t in_use = stat_of(&p, "in-use-bytes");
		uint64_t req = stat_of(&p, "requested-bytes");

		if (in_use)
			printf("%-24s %.1f%%\n", "efficiency",
			       100.0 * req / in_use);
		else
			printf("%-24s -\n", "efficiency");
	}
	print_hist(p.hist);
	return 0;
}

static int do_config_show(int argc, char **argv)
{
	struct pool_reply p;
	size_t i;

	if (argc)
		return no_args(argv);
	if (get_pool(&p))
		return 1;
	if (opt_json) {
		jw_open(NULL, '{');
		for (i = 0; i < NR_CONFIG; i++)
			jw_u64(config_attrs[i].name, p.cfg[i]);
		jw_close('}');
		return 0;
	}
	for (i = 0; i < NR_CONFIG; i++) {
		printf("%-18s ", config_attrs[i].name);
		if ((config_attrs[i].attr == RESPOOL_A_POOL_CLIENT_QUOTA ||
		     config_attrs[i].attr == RESPOOL_A_POOL_USER_QUOTA) &&
		    !p.cfg[i])
			fputs("none", stdout);
		else if (config_attrs[i].attr == RESPOOL_A_POOL_IDLE_TRIM_MS &&
			 !p.cfg[i])
			fputs("never", stdout);
		else
			print_value(&config_attrs[i], p.cfg[i]);
		putchar('\n');
	}
	return 0;
}

/*
 * Decimal digits only: "010" is ten, as a user means it, not octal eight.
 * Return: the first character after the digits, or NULL (no digit, or
 * more than UINT64_MAX).
 */
static const char *parse_digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (*s - '0')) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return s;
}

/*
 * "64M", "4k", "1.5M", "4096", "1GiB": bytes, as fmt_size() prints them.
 * Return: 0, -1 not a size, -2 not a whole number of bytes ("1.3K").
 */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v, frac = 0, den = 1;
	unsigned __int128 bytes;
	const char *end;
	int shift = 0;

	end = parse_digits(s, &v);
	if (!end)
		return -1;
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9'; end++) {
			if (den >= 1000000000)	/* finer than any byte */
				return -1;
			frac = frac * 10 + (*end - '0');
			den *= 10;
		}
		if (den == 1)
			return -1;
	}
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'B' || *end == 'b' || (shift && (*end == 'i') && end[1] == 'B'))
		end += *end == 'i' ? 2 : 1;
	if (*end)
		return -1;
	bytes = ((unsigned __int128)v << shift) +
		((unsigned __int128)frac << shift) / den;
	if (bytes > UINT64_MAX)
		return -1;
	if (((unsigned __int128)frac << shift) % den)
		return -2;
	*out = bytes;
	return 0;
}

/* A whole decimal number up to UINT32_MAX; -1 not one, -2 too large. */
static int parse_u32(const char *s, uint32_t *out)
{
	const char *end;
	uint64_t v;

	end = parse_digits(s, &v);
	if (!end || *end)
		return -1;
	if (v > UINT32_MAX)
		return -2;
	*out = v;
	return 0;
}

/* The message of a number parse_u32() refused. */
static const char *u32_error(int err)
{
	return err == -2 ? "too large" : "not a whole number";
}

/* The message of a size parse_size() refused. */
static const char *size_error(int err)
{
	return err == -2 ? "not a whole number of bytes" :
	       "not a size (bytes, or a number with K/M/G/T)";
}

/* Unique-prefix match of @word in @names; -1 none, -2 ambiguous. */
static int match_word(const char *word, const char *const *names, int n)
{
	size_t len = strlen(word);
	int i, found = -1;

	for (i = 0; i < n; i++) {
		if (!strcmp(word, names[i]))
			return i;
		if (!strncmp(word, names[i], len)) {
			if (found >= 0)
				return -2;
			found = i;
		}
	}
	return found;
}

static int do_config_set(int argc, char **argv)
{
	const char *names[NR_CONFIG];
	uint64_t val[NR_CONFIG];
	int which[NR_CONFIG], n = 0, i, k, err;
	struct req r;

	for (i = 0; i < (int)NR_CONFIG; i++)
		names[i] = config_attrs[i].name;
	if (!argc)
		return usage_err("needs KEY VALUE pairs");
	if (argc % 2)
		return usage_err("'%s' has no value", argv[argc - 1]);
	if (argc / 2 > (int)NR_CONFIG)
		return usage_err("has more settings than there are");
	/* Every pair is checked before anything is sent: usage errors first. */
	for (i = 0; i < argc; i += 2) {
		const struct attr_desc *d;
		char key[32], *c;
		uint32_t v32;

		/* The module parameter's name works too: user_quota. */
		snprintf(key, sizeof(key), "%s", argv[i]);
		for (c = key; *c; c++)
			if (*c == '_')
				*c = '-';
		k = match_word(key, names, NR_CONFIG);
		if (k < 0) {
			fprintf(stderr, "%s: %s setting '%s' (one of:", prog,
				k == -2 ? "ambiguous" : "unknown", argv[i]);
			for (k = 0; k < (int)NR_CONFIG; k++)
				fprintf(stderr, " %s", names[k]);
			fprintf(stderr, ")\n");
			return EXIT_USAGE;
		}
		d = &config_attrs[k];
		/* Only the form here: the kernel says the bounds (extack). */
		if (d->is_u32) {
			err = parse_u32(argv[i + 1], &v32);
			val[n] = v32;
		} else {
			err = parse_size(argv[i + 1], &val[n]);
		}
		if (err) {
			fprintf(stderr, "%s: invalid %s %s: %s\n", prog, d->name,
				argv[i + 1], d->is_u32 ? u32_error(err) :
				size_error(err));
			return EXIT_USAGE;
		}
		which[n++] = k;
	}
	if (req_init(&r, RESPOOL_CMD_CONFIG_SET, 0, "config set", NULL, NULL))
		return 1;
	for (i = 0; i < n; i++) {
		const struct attr_desc *d = &config_attrs[which[i]];

		r.argstr[d->attr] = argv[2 * i + 1];
		if (d->is_u32)
			nla_put_u32(r.msg, d->attr, val[i]);
		else
			nla_put_u64(r.msg, d->attr, val[i]);
	}
	return run_req(&r);
}

static int do_reset(int argc, char **argv)
{
	struct req r;

	if (argc)
		return no_args(argv);
	if (req_init(&r, RESPOOL_CMD_STATS_RESET, 0, "reset", NULL, NULL))
		return 1;
	return run_req(&r);
}

struct value_reply {
	int attr;
	uint64_t val;
	bool got;
};

static int parse_value(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_POOL_MAX + 1];
	struct value_reply *v = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_POOL_MAX, NULL))
		return NL_SKIP;
	if (tb[v->attr]) {
		v->val = get_uint(tb[v->attr]);
		v->got = true;
	}
	return NL_OK;
}

/*
 * Why a prefill added fewer blocks than asked, from the pool as it is
 * now; the kernel stops at the first of these (respool_pool_prefill()).
 */
static const char *prefill_stop_reason(uint64_t size, char *buf, size_t len)
{
	uint64_t page = sysconf(_SC_PAGESIZE), need, cap, max, free, owned;
	struct pool_reply p;
	char a[32], b[32];
	size_t i;

	if (get_pool(&p))
		return "the pool could not be read to say why";
	need = (size + page - 1) / page * page;
	cap = stat_of(&p, "capacity");
	free = stat_of(&p, "reserve-bytes") + stat_of(&p, "pcpu-bytes");
	owned = stat_of(&p, "in-use-bytes") + free;
	max = cap;
	for (i = 0; i < NR_CONFIG; i++)
		if (config_attrs[i].attr == RESPOOL_A_POOL_RESERVE_MAX &&
		    p.cfg[i] < cap)
			max = p.cfg[i];
	if (stat_of(&p, "waiters"))
		snprintf(buf, len, "requests are waiting, and they come first");
	else if (owned + need > cap)
		snprintf(buf, len, "the pool owns %s of its capacity %s",
			 fmt_size(a, sizeof(a), owned), fmt_size(b, sizeof(b), cap));
	else if (free + need > max)
		snprintf(buf, len, "the free blocks (%s) reach reserve-max (%s)",
			 fmt_size(a, sizeof(a), free), fmt_size(b, sizeof(b), max));
	else
		snprintf(buf, len, "the pool changed since; try again");
	return buf;
}

static int do_prefill(int argc, char **argv)
{
	struct value_reply v = { .attr = RESPOOL_A_POOL_COUNT };
	char buf[32], why_buf[128];
	const char *why;
	uint64_t size;
	uint32_t count;
	struct req r;
	int err;

	if (argc < 2)
		return usage_err(argc ? "needs a COUNT after the SIZE" :
			       "needs a SIZE and a COUNT");
	if (argc > 2)
		return usage_err("'%s' is one argument too many", argv[2]);
	err = parse_size(argv[0], &size);
	if (err) {
		fprintf(stderr, "%s: invalid size %s: %s\n", prog, argv[0],
			size_error(err));
		return EXIT_USAGE;
	}
	err = parse_u32(argv[1], &count);
	if (err) {
		fprintf(stderr, "%s: invalid count %s: %s\n", prog, argv[1],
			u32_error(err));
		return EXIT_USAGE;
	}
	if (req_init(&r, RESPOOL_CMD_PREFILL, 0, "prefill", parse_value, &v))
		return 1;
	r.argstr[RESPOOL_A_POOL_SIZE] = argv[0];
	r.argstr[RESPOOL_A_POOL_COUNT] = argv[1];
	nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, size);
	nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, count);
	if (run_req(&r))
		return 1;
	why = v.val < count ? prefill_stop_reason(size, why_buf,
						  sizeof(why_buf)) : NULL;
	if (opt_json) {
		jw_open(NULL, '{');
		jw_u64("count", v.val);
		jw_u64("size", size);
		if (why)
			jw_str("stopped", why);
		jw_close('}');
	} else {
		printf("prefilled %" PRIu64 " of %u blocks of %s%s%s\n", v.val,
		       count, fmt_size(buf, sizeof(buf), size), why ? ": " : "",
		       why ? why : "");
	}
	return 0;
}

static int do_drain(int argc, char **argv)
{
	struct value_reply v = { .attr = RESPOOL_A_POOL_RELEASED_BYTES };
	char buf[32];
	struct req r;

	if (argc)
		return no_args(argv);
	if (req_init(&r, RESPOOL_CMD_DRAIN, 0, "drain", parse_value, &v))
		return 1;
	if (run_req(&r))
		return 1;
	if (opt_json) {
		jw_open(NULL, '{');
		jw_u64("released-bytes", v.val);
		jw_close('}');
	} else {
		printf("released %s\n", fmt_size(buf, sizeof(buf), v.val));
	}
	return 0;
}

/* cpus */

static int parse_cpu(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_CPU_MAX + 1], *a;
	int *first = arg;
	char buf[32];
	size_t i;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_CPU_MAX, NULL))
		return NL_SKIP;
	if (opt_json) {
		jw_open(NULL, '{');
		jw_u64("id", get_uint(tb[RESPOOL_A_CPU_ID]));
		for (i = 0; i < NR_CPU; i++)
			jw_u64(cpu_attrs[i].name, get_uint(tb[cpu_attrs[i].attr]));
		jw_s64("requested-bytes",
		       tb[RESPOOL_A_CPU_REQUESTED_BYTES] ?
		       (int64_t)nla_get_u64(tb[RESPOOL_A_CPU_REQUESTED_BYTES]) : 0);
		jw_u64("cached-blocks", get_uint(tb[RESPOOL_A_CPU_CACHED_BLOCKS]));
		jw_u64("cached-bytes", get_uint(tb[RESPOOL_A_CPU_CACHED_BYTES]));
		jw_open("cached-block-sizes", '[');
		nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlmsg_hdr(msg)), 0),
				  genlmsg_attrlen(nlmsg_data(nlmsg_hdr(msg)), 0), rem)
			if (nla_type(a) == RESPOOL_A_CPU_CACHED_BLOCK_SIZE)
				jw_u64(NULL, get_uint(a));
		jw_close(']');
		jw_close('}');
		return NL_OK;
	}
	if (*first) {
		printf("%-4s %10s %10s %10s %10s %10s %10s %7s %8s  %s\n", "CPU",
		       "ALLOCS", "FREES", "PCPU-HITS", "RES-HITS", "FRESH",
		       "EVICTIONS", "CACHED", "BYTES", "BLOCK SIZES");
		*first = 0;
	}
	printf("%-4" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
	       " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %7" PRIu64 " %8s ",
	       get_uint(tb[RESPOOL_A_CPU_ID]), get_uint(tb[RESPOOL_A_CPU_ALLOCS]),
	       get_uint(tb[RESPOOL_A_CPU_FREES]),
	       get_uint(tb[RESPOOL_A_CPU_PCPU_HITS]),
	       get_uint(tb[RESPOOL_A_CPU_RESERVE_HITS]),
	       get_uint(tb[RESPOOL_A_CPU_FRESH_ALLOCS]),
	       get_uint(tb[RESPOOL_A_CPU_EVICTIONS]),
	       get_uint(tb[RESPOOL_A_CPU_CACHED_BLOCKS]),
	       fmt_size(buf, sizeof(buf),
			get_uint(tb[RESPOOL_A_CPU_CACHED_BYTES])));
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlmsg_hdr(msg)), 0),
			  genlmsg_attrlen(nlmsg_data(nlmsg_hdr(msg)), 0), rem)
		if (nla_type(a) == RESPOOL_A_CPU_CACHED_BLOCK_SIZE)
			printf(" %s", fmt_size(buf, sizeof(buf), get_uint(a)));
	putchar('\n');
	return NL_OK;
}

static int do_cpus(int argc, char **argv)
{
	int first = 1, ret;
	struct req r;

	if (argc)
		return no_args(argv);
	if (req_init(&r, RESPOOL_CMD_CPU_GET, NLM_F_DUMP, "cpus", parse_cpu,
		     &first))
		return 1;
	if (opt_json)
		jw_open(NULL, '[');
	ret = run_req(&r);
	if (opt_json)
		jw_close(']');
	return ret;
}

/* clients */

static int parse_client(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_CLIENT_MAX + 1];
	struct timespec now;
	int *first = arg;
	char held[32], mapped[32], req[32], wait[80] = "-", t[32], w[32];
	const char *comm;
	uint64_t since;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_CLIENT_MAX, NULL))
		return NL_SKIP;
	comm = tb[RESPOOL_A_CLIENT_COMM] ?
	       nla_get_string(tb[RESPOOL_A_CLIENT_COMM]) : "";
	since = get_uint(tb[RESPOOL_A_CLIENT_WAITING_SINCE_NS]);
	if (opt_json) {
		jw_open(NULL, '{');
		jw_u64("id", get_uint(tb[RESPOOL_A_CLIENT_ID]));
		jw_u64("pid", get_uint(tb[RESPOOL_A_CLIENT_PID]));
		jw_str("comm", comm);
		jw_u64("held-bytes", get_uint(tb[RESPOOL_A_CLIENT_HELD_BYTES]));
		jw_u64("mapped-bytes",
		       get_uint(tb[RESPOOL_A_CLIENT_MAPPED_BYTES]));
		jw_u64("requested-bytes",
		       get_uint(tb[RESPOOL_A_CLIENT_REQUESTED_BYTES]));
		jw_u64("handles", get_uint(tb[RESPOOL_A_CLIENT_HANDLES]));
		jw_u64("mapped-blocks", get_uint(tb[RESPOOL_A_CLIENT_MAPPED_BLOCKS]));
		if (tb[RESPOOL_A_CLIENT_WAITING_SINCE_NS])
			jw_u64("waiting-since-ns", since);
		if (tb[RESPOOL_A_CLIENT_WAITING_BYTES])
			jw_u64("waiting-bytes",
			       get_uint(tb[RESPOOL_A_CLIENT_WAITING_BYTES]));
		jw_close('}');
		return NL_OK;
	}
	if (*first) {
		printf("%-6s %-8s %-16s %8s %8s %9s %7s %7s  %s\n", "ID",
		       "PID", "COMM", "HELD", "MAPPED", "REQUESTED", "HANDLES",
		       "MAPBLKS", "WAITING");
		*first = 0;
	}
	if (since) {
		uint64_t now_ns;

		clock_gettime(CLOCK_MONOTONIC, &now);
		now_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
		/* "64K for 1.2s": what it waits for, and how long. */
		snprintf(wait, sizeof(wait), "%s for %s",
			 fmt_size(w, sizeof(w),
				  get_uint(tb[RESPOOL_A_CLIENT_WAITING_BYTES])),
			 fmt_ns(t, sizeof(t), now_ns > since ? now_ns - since : 0));
	}
	printf("%-6" PRIu64 " %-8" PRIu64 " %-16s %8s %8s %9s %7" PRIu64
	       " %7" PRIu64 "  %s\n",
	       get_uint(tb[RESPOOL_A_CLIENT_ID]),
	       get_uint(tb[RESPOOL_A_CLIENT_PID]), comm,
	       fmt_size(held, sizeof(held),
			get_uint(tb[RESPOOL_A_CLIENT_HELD_BYTES])),
	       fmt_size(mapped, sizeof(mapped),
			get_uint(tb[RESPOOL_A_CLIENT_MAPPED_BYTES])),
	       fmt_size(req, sizeof(req),
			get_uint(tb[RESPOOL_A_CLIENT_REQUESTED_BYTES])),
	       get_uint(tb[RESPOOL_A_CLIENT_HANDLES]),
	       get_uint(tb[RESPOOL_A_CLIENT_MAPPED_BLOCKS]), wait);
	return NL_OK;
}

static int do_clients(int argc, char **argv)
{
	int first = 1, ret;
	struct req r;

	if (argc)
		return no_args(argv);
	if (req_init(&r, RESPOOL_CMD_CLIENT_GET, NLM_F_DUMP, "clients",
		     parse_client, &first))
		return 1;
	if (opt_json)
		jw_open(NULL, '[');
	ret = run_req(&r);
	if (opt_json)
		jw_close(']');
	else if (first)
		printf("no clients\n");
	return ret;
}

/* monitor */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * libnl retries a receive interrupted by a signal, so monitor ends from
 * the handler; its output is flushed after every event.
 */
static void on_signal_exit(int sig)
{
	(void)sig;
	_exit(0);
}

/* nlctrl's notification that the respool family went: rmmod. */
static bool family_removed(struct nl_msg *msg)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[CTRL_ATTR_MAX + 1];

	return nlmsg_hdr(msg)->nlmsg_type == GENL_ID_CTRL &&
	       g->cmd == CTRL_CMD_DELFAMILY &&
	       !genlmsg_parse(nlmsg_hdr(msg), 0, tb, CTRL_ATTR_MAX, NULL) &&
	       tb[CTRL_ATTR_FAMILY_NAME] &&
	       !strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]),
		       RESPOOL_FAMILY_NAME);
}

static int parse_event(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[RESPOOL_A_POOL_MAX + 1];
	bool *gone = arg;
	const char *name;
	char buf[40];
	size_t i;

	if (family_removed(msg)) {
		*gone = true;
		return NL_STOP;
	}
	if (nlmsg_hdr(msg)->nlmsg_type != family ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_POOL_MAX, NULL))
		return NL_SKIP;
	switch (g->cmd) {
	case RESPOOL_CMD_EXHAUSTED_NTF: name = "exhausted"; break;
	case RESPOOL_CMD_RECOVERED_NTF: name = "recovered"; break;
	case RESPOOL_CMD_PRESSURE_NTF: name = "pressure"; break;
	case RESPOOL_CMD_CONFIG_NTF: name = "config"; break;
	default: return NL_SKIP;
	}
	if (opt_json) {
		jw_open(NULL, '{');
		jw_str("event", name);
		if (opt_timestamp) {
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			jw_u64("timestamp-ns", (uint64_t)now.tv_sec *
			       1000000000ULL + now.tv_nsec);
		}
		if (tb[RESPOOL_A_POOL_BYTES])
			jw_u64("bytes", get_uint(tb[RESPOOL_A_POOL_BYTES]));
		for (i = 0; i < NR_CONFIG; i++)
			if (tb[config_attrs[i].attr])
				jw_u64(config_attrs[i].name,
				       get_uint(tb[config_attrs[i].attr]));
		jw_close('}');
		return NL_OK;
	}
	if (opt_timestamp)
		printf("%s ", fmt_now(buf, sizeof(buf)));
	printf("%s", name);
	switch (g->cmd) {
	case RESPOOL_CMD_EXHAUSTED_NTF:
		printf(": pool full, a request of %s waits",
		       fmt_size(buf, sizeof(buf), get_uint(tb[RESPOOL_A_POOL_BYTES])));
		break;
	case RESPOOL_CMD_RECOVERED_NTF:
		printf(": no request waits any more");
		break;
	case RESPOOL_CMD_PRESSURE_NTF:
		printf(": shrinker released %s",
		       fmt_size(buf, sizeof(buf), get_uint(tb[RESPOOL_A_POOL_BYTES])));
		break;
	case RESPOOL_CMD_CONFIG_NTF:
		putchar(':');
		for (i = 0; i < NR_CONFIG; i++) {
			printf(" %s ", config_attrs[i].name);
			print_value(&config_attrs[i],
				    get_uint(tb[config_attrs[i].attr]));
		}
		break;
	}
	putchar('\n');
	fflush(stdout);
	return NL_OK;
}

/* Notifications carry sequence number 0: accept them. */
static int cb_no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int do_monitor(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal_exit };
	bool gone = false;
	struct nl_cb *cb;
	int grp, err;

	if (argc)
		return no_args(argv);
	if (!sk && connect_family())
		return 1;
	grp = genl_ctrl_resolve_grp(sk, RESPOOL_FAMILY_NAME,
				    RESPOOL_MCGRP_MONITOR);
	if (grp < 0) {
		fprintf(stderr, "%s: no multicast group '%s': %s\n", prog,
			RESPOOL_MCGRP_MONITOR, nl_geterror(grp));
		return 1;
	}
	err = nl_socket_add_membership(sk, grp);
	if (err < 0) {
		fprintf(stderr, "%s: cannot join group '%s': %s\n", prog,
			RESPOOL_MCGRP_MONITOR, nl_geterror(err));
		return 1;
	}
	/* nlctrl's "notify" group says when the family goes (rmmod). */
	grp = genl_ctrl_resolve_grp(sk, "nlctrl", "notify");
	if (grp < 0 || (err = nl_socket_add_membership(sk, grp)) < 0) {
		fprintf(stderr, "%s: cannot join nlctrl/notify: %s\n", prog,
			nl_geterror(grp < 0 ? grp : err));
		return 1;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return 1;
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, cb_no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, parse_event, &gone);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Let a script know it may trigger events now. */
	if (!opt_json) {
		printf("listening on respool/%s\n", RESPOOL_MCGRP_MONITOR);
		fflush(stdout);
	}
	while (!stop && !gone) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && err != -NLE_INTR && !stop && !gone) {
			fprintf(stderr, "%s: monitor: %s\n", prog, nl_geterror(err));
			nl_cb_put(cb);
			return 1;
		}
	}
	nl_cb_put(cb);
	if (gone) {
		fprintf(stderr, "%s: monitor: the respool module was unloaded\n",
			prog);
		return 1;
	}
	return 0;
}

/* watch */

/* -i and -n of watch: a positive number, or a usage error naming it. */
static int watch_opt(const char *opt, const char *val, double *out)
{
	char *end;

	if (!val)
		return usage_err("%s needs a value", opt);
	errno = 0;
	*out = strtod(val, &end);
	if (errno || end == val || *end || !(*out > 0) || *out > 86400 * 365)
		return usage_err("%s needs a number above 0, not '%s'", opt, val);
	if (!strcmp(opt, "-n") && *out != (long)*out)
		return usage_err("-n needs a whole number, not '%s'", val);
	return 0;
}

static void watch_header(void)
{
	printf("%-*s %9s %9s %9s %9s %9s %7s %7s %9s %9s %5s %9s\n",
	       opt_timestamp ? 26 : 8, "TIME", "CAPACITY", "IN-USE",
	       "RESERVE", "PCPU", "REQUESTED", "CLIENTS", "WAITERS",
	       "ALLOCS/S", "FREES/S", "HITS", "MAX-WAIT");
}

/*
 * One line per sample under one header (again every 20 lines on a
 * terminal), in the manner of vmstat; -j: one JSON object per sample
 * whose keys are the stats' attribute names, with the counters' rates
 * under "per-second".
 */
static int do_watch(int argc, char **argv)
{
	static const char *const rated[] = {
		"allocs", "frees", "pcpu-hits", "reserve-hits", "fresh-allocs",
		"evictions", "waits", "wait-timeouts", "handoffs",
	};
	struct sigaction sa = { .sa_handler = on_signal };
	bool tty = isatty(STDOUT_FILENO) && !opt_json;
	struct pool_reply prev, cur;
	double interval = 1.0, count = -1;
	struct timespec t0, t1;
	char b[8][40];
	long n;
	size_t i;

	for (; argc; argc -= 2, argv += 2) {
		double *val;
		int ret;

		if (!strcmp(argv[0], "-i"))
			val = &interval;
		else if (!strcmp(argv[0], "-n"))
			val = &count;
		else
			return usage_err("unknown option '%s'", argv[0]);
		ret = watch_opt(argv[0], argc > 1 ? argv[1] : NULL, val);
		if (ret)
			return ret;
		if (argc == 1)
			break;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (get_pool(&prev))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; !stop && (count < 0 || n < count); n++) {
		struct timespec ts = {
			.tv_sec = (time_t)interval,
			.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
		};
		uint64_t da, dh;
		double dt;

		nanosleep(&ts, NULL);
		if (stop)
			break;
		if (get_pool(&cur))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		t0 = t1;
		if (opt_json) {
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			jw_open(NULL, '{');
			jw_u64("timestamp-ns", (uint64_t)now.tv_sec * 1000000000ULL +
			       now.tv_nsec);
			jw_u64("interval-ns", (uint64_t)(dt * 1e9));
			for (i = 0; i < NR_STATS; i++)
				jw_u64(stats_attrs[i].name, cur.st[i]);
			jw_open("per-second", '{');
			for (i = 0; i < sizeof(rated) / sizeof(rated[0]); i++)
				jw_u64(rated[i], (uint64_t)((stat_of(&cur, rated[i]) -
					stat_of(&prev, rated[i])) / dt + 0.5));
			jw_close('}');
			jw_close('}');
			prev = cur;
			continue;
		}
		if (n == 0 || (tty && n % 20 == 0))
			watch_header();
		da = stat_of(&cur, "allocs") - stat_of(&prev, "allocs");
		dh = stat_of(&cur, "pcpu-hits") + stat_of(&cur, "reserve-hits") -
		     stat_of(&prev, "pcpu-hits") - stat_of(&prev, "reserve-hits");
		if (da)
			snprintf(b[6], sizeof(b[6]), "%.0f%%", 100.0 * dh / da);
		else
			snprintf(b[6], sizeof(b[6]), "-");
		printf("%-*s %9s %9s %9s %9s %9s %7" PRIu64 " %7" PRIu64
		       " %9.0f %9.0f %5s %9s\n", opt_timestamp ? 26 : 8,
		       fmt_now(b[7], sizeof(b[7])),
		       fmt_size(b[0], 32, stat_of(&cur, "capacity")),
		       fmt_size(b[1], 32, stat_of(&cur, "in-use-bytes")),
		       fmt_size(b[2], 32, stat_of(&cur, "reserve-bytes")),
		       fmt_size(b[3], 32, stat_of(&cur, "pcpu-bytes")),
		       fmt_size(b[4], 32, stat_of(&cur, "requested-bytes")),
		       stat_of(&cur, "clients"), stat_of(&cur, "waiters"),
		       da / dt,
		       (stat_of(&cur, "frees") - stat_of(&prev, "frees")) / dt,
		       b[6], fmt_ns(b[5], 32, stat_of(&cur, "max-wait-ns")));
		fflush(stdout);
		prev = cur;
	}
	return 0;
}

/* ---- command table ------------------------------------------------------ */

struct cmd {
	const char *obj;
	const char *sub;	/* NULL: the object is the command */
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct cmd cmds[] = {
	{ "stats", NULL, do_stats, "", "pool counters, gauges and wait histogram" },
	{ "cpus", NULL, do_cpus, "", "per-CPU counters and cached blocks" },
	{ "clients", NULL, do_clients, "", "open files of /dev/respool and what they hold" },
	{ "config", "show", do_config_show, "", "the pool's settings" },
	{ "config", "set", do_config_set, "KEY VALUE...",
	  "change settings (capacity, max-block-size, reserve-max, client-quota,\n"
	  "\t\t\t\tuser-quota, threshold, pcpu-cache-blocks, idle-trim-ms);\n"
	  "\t\t\t\tCAP_SYS_ADMIN" },
	{ "reset", NULL, do_reset, "", "zero the counters; CAP_SYS_ADMIN" },
	{ "prefill", NULL, do_prefill, "SIZE COUNT", "put COUNT fresh SIZE blocks in the reserve; CAP_SYS_ADMIN" },
	{ "drain", NULL, do_drain, "", "release every free block; CAP_SYS_ADMIN" },
	{ "monitor", NULL, do_monitor, "", "print notifications until interrupted" },
	{ "watch", NULL, do_watch, "[-i SECONDS] [-n COUNT]", "refreshing view of gauges and rates" },
};

#define NR_CMDS (int)(sizeof(cmds) / sizeof(cmds[0]))

static void usage_cmd(FILE *f, const struct cmd *c)
{
	char words[64];

	snprintf(words, sizeof(words), "%s%s%s %s", c->obj, c->sub ? " " : "",
		 c->sub ? c->sub : "", c->args);
	fprintf(f, "  %-30s %s\n", words, c->help);
}

static void usage(FILE *f, const char *obj)
{
	int i;

	fprintf(f, "usage: %s [-j] [-p] [-t] [-V] OBJECT [COMMAND] [ARGS]\n"
		"  -j  JSON output     -p  pretty-print JSON     -h  help\n"
		"  -t  time stamps on monitor and watch\n"
		"  -V  versions of respoolctl, librespool and the loaded module\n"
		"sizes take K/M/G/T suffixes and decimals (1.5M)\n\n", prog);
	for (i = 0; i < NR_CMDS; i++)
		if (!obj || !strcmp(obj, cmds[i].obj))
			usage_cmd(f, &cmds[i]);
}

/* Ours, the library's and the loaded module's version: one line, exit 0. */
static int print_version(void)
{
	char mod[RESPOOL_VERSION_LEN];
	int ret = respool_module_version(mod, sizeof(mod));

	printf("%s %s (librespool %s, module %s)\n", prog, RESPOOLCTL_VERSION,
	       respool_version(), ret >= 0 ? mod :
	       ret == -ENOENT ? "not loaded" : "version unknown");
	return 0;
}

static bool is_version(const char *s)
{
	return !strcmp(s, "-V") || !strcmp(s, "--version");
}

static bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help");
}

int main(int argc, char **argv)
{
	const char *objs[NR_CMDS], *subs[NR_CMDS];
	const struct cmd *c = NULL;
	int nobj = 0, nsub = 0, i, k, ret;
	const char *obj;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (argc--, argv++; argc && argv[0][0] == '-' && argv[0][1]; argc--, argv++) {
		const char *o;

		if (is_help(argv[0])) {
			usage(stdout, NULL);
			return 0;
		}
		if (is_version(argv[0]))
			return print_version();
		if (!strcmp(argv[0], "--json")) {
			opt_json = true;
			continue;
		}
		if (!strcmp(argv[0], "--pretty")) {
			opt_pretty = true;
			continue;
		}
		if (!strcmp(argv[0], "--timestamp")) {
			opt_timestamp = true;
			continue;
		}
		if (argv[0][1] == '-') {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, argv[0]);
			usage(stderr, NULL);
			return EXIT_USAGE;
		}
		for (o = argv[0] + 1; *o; o++) {
			if (*o == 'j') {
				opt_json = true;
			} else if (*o == 'p') {
				opt_pretty = true;
			} else if (*o == 't') {
				opt_timestamp = true;
			} else if (*o == 'V') {
				return print_version();
			} else {
				fprintf(stderr, "%s: unknown option -%c\n", prog, *o);
				usage(stderr, NULL);
				return EXIT_USAGE;
			}
		}
	}
	if (opt_pretty)
		opt_json = true;
	if (!argc) {
		usage(stderr, NULL);
		return EXIT_USAGE;
	}
	if (is_help(argv[0])) {
		usage(stdout, argc > 1 ? argv[1] : NULL);
		return 0;
	}

	/* Object by unique prefix, then its command if it has several. */
	for (i = 0; i < NR_CMDS; i++)
		if (!nobj || strcmp(objs[nobj - 1], cmds[i].obj))
			objs[nobj++] = cmds[i].obj;
	k = match_word(argv[0], objs, nobj);
	if (k < 0) {
		fprintf(stderr, "%s: %s object '%s'; try '%s help'\n", prog,
			k == -2 ? "ambiguous" : "unknown", argv[0], prog);
		return EXIT_USAGE;
	}
	obj = objs[k];
	argc--;
	argv++;
	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].obj, obj))
			subs[nsub++] = cmds[i].sub;
	if (subs[0]) {
		if (argc && is_help(argv[0])) {
			usage(stdout, obj);
			return 0;
		}
		/* Like ip(8): an object alone shows it. */
		k = argc ? match_word(argv[0], subs, nsub) : 0;
		if (k < 0) {
			fprintf(stderr, "%s: %s command '%s' for %s\n", prog,
				k == -2 ? "ambiguous" : "unknown", argv[0], obj);
			usage(stderr, obj);
			return EXIT_USAGE;
		}
		if (argc) {
			argc--;
			argv++;
		}
		for (i = 0; i < NR_CMDS; i++)
			if (!strcmp(cmds[i].obj, obj) && cmds[i].sub &&
			    !strcmp(cmds[i].sub, subs[k]))
				c = &cmds[i];
	} else {
		for (i = 0; i < NR_CMDS; i++)
			if (!strcmp(cmds[i].obj, obj))
				c = &cmds[i];
		if (argc && is_help(argv[0])) {
			usage(stdout, obj);
			return 0;
		}
	}

	snprintf(cur_cmd, sizeof(cur_cmd), "%s%s%s", c->obj, c->sub ? " " : "",
		 c->sub ? c->sub : "");
	ret = c->fn(argc, argv);
	if (ret == EXIT_USAGE) {
		fprintf(stderr, "usage:\n");
		usage_cmd(stderr, c);
	}
	if (sk)
		nl_socket_free(sk);
	return ret;
}
