// SPDX-License-Identifier: GPL-2.0
/*
 * respoolctl - watch and steer the respool memory pools over their generic
 * netlink family "respool" (Documentation/netlink/specs/respool.yaml).
 *
 *   respoolctl [-j] [-p] [-t] OBJECT [COMMAND] [ARGS]
 *   respoolctl [-j] [-p] [-f] -b FILE
 *   respoolctl -V
 *
 * One table of commands (cmds[]) in the manner of iw: each entry has its
 * words, handler, arguments and help. Words match by unique prefix.
 * Output goes through one printer per field, in the manner of iproute2's
 * print_uint(PRINT_ANY, key, fmt, value): the same call writes the human
 * text (K/M/G units) or, with -j, the JSON key and its raw number; -p
 * pretty-prints it. Exit status: 0 success, 1 error, 2 usage.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
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
#include <sys/stat.h>

#include <linux/respool.h>
#include "librespool.h"

#ifndef RESPOOLCTL_VERSION
#error "RESPOOLCTL_VERSION is not defined: the Makefile passes it from ../../VERSION"
#endif

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define EXIT_USAGE 2
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The pool of /dev/respool, the one the old verbs (stats, config, ...) mean. */
#define DEFAULT_POOL "default"

static bool opt_json, opt_pretty, opt_timestamp;
/* What error messages start with: "respoolctl", or "FILE:LINE" in a batch. */
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

/* ---- formatting of values ----------------------------------------------- */

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

static uint64_t now_ns(clockid_t clock)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
}

/* ---- JSON writer: objects, arrays, numbers, strings -------------------- */

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

/* ---- one printer per field ----------------------------------------------
 *
 * As iproute2's json_print.h: each call names the field once, with its
 * JSON key and its text format, and writes whichever the output is.
 * PRINT_FP only in text (labels, bars, column headers), PRINT_JSON only
 * in JSON (raw values the text says another way), PRINT_ANY in both.
 * Text formats take the value as printf takes it; those of print_size()
 * and print_attr() take the formatted value as a string.
 */
enum { PRINT_FP = 1, PRINT_JSON = 2, PRINT_ANY = 3 };

static bool print_wanted(int type)
{
	return type & (opt_json ? PRINT_JSON : PRINT_FP);
}

static void __attribute__((format(printf, 1, 2))) print_fp(const char *fmt, ...)
{
	va_list ap;

	if (opt_json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void print_nl(void)
{
	print_fp("\n");
}

static void print_uint(int type, const char *key, const char *fmt, uint64_t v)
{
	if (!print_wanted(type))
		return;
	if (opt_json) {
		jw_key(key);
		printf("%" PRIu64, v);
	} else if (fmt) {
		printf(fmt, v);
	}
}

static void print_int(int type, const char *key, const char *fmt, int64_t v)
{
	if (!print_wanted(type))
		return;
	if (opt_json) {
		jw_key(key);
		printf("%" PRId64, v);
	} else if (fmt) {
		printf(fmt, v);
	}
}

static void print_string(int type, const char *key, const char *fmt,
			 const char *s)
{
	if (!print_wanted(type))
		return;
	if (opt_json)
		jw_str(key, s);
	else if (fmt)
		printf(fmt, s);
}

/* Yes or no: "yes"/"no" in text, true/false in JSON. */
static void print_bool(int type, const char *key, const char *fmt, bool v)
{
	if (!print_wanted(type))
		return;
	if (opt_json) {
		jw_key(key);
		fputs(v ? "true" : "false", stdout);
	} else if (fmt) {
		printf(fmt, v ? "yes" : "no");
	}
}

/* Bytes: "64M" in text, the number in JSON. */
static void print_size(int type, const char *key, const char *fmt, uint64_t v)
{
	char buf[32];

	if (opt_json)
		print_uint(type, key, NULL, v);
	else if (print_wanted(type))
		printf(fmt, fmt_size(buf, sizeof(buf), v));
}

static void open_json_object(const char *key)
{
	if (opt_json)
		jw_open(key, '{');
}

static void close_json_object(void)
{
	if (opt_json)
		jw_close('}');
}

static void open_json_array(const char *key)
{
	if (opt_json)
		jw_open(key, '[');
}

static void close_json_array(void)
{
	if (opt_json)
		jw_close(']');
}

/* ---- attribute tables -------------------------------------------------- */

enum kind {
	K_BYTES, K_COUNT, K_NS, K_PCT, K_MS, K_AGO,
	K_NODE,		/* s32: -1 is "local" */
	K_UID, K_GID,	/* a user or group: its name in text */
	K_MODE,		/* permission bits, octal */
};

/* Where a pool attribute belongs (attr_desc.flags). */
#define F_CFG	0x1	/* a setting: config show, config-ntf */
#define F_ADD	0x2	/* pool add takes it (pool-new) */
#define F_SET	0x4	/* pool set and config set take it (config-set) */
#define F_SHOW	0x8	/* pool show prints it */

struct attr_desc {
	int attr;
	const char *name;
	enum kind kind;		/* K_BYTES: u64, the others u32 */
	unsigned int flags;
	const char *zero;	/* what 0 means, printed and read for 0 */
	const char *col;	/* text column format (tables), NULL: JSON only */
};

#define F_SETTING (F_CFG | F_ADD | F_SET | F_SHOW)

/* Every attribute of a pool that is a value of the pool, in show order. */
static const struct attr_desc pool_attrs[] = {
	{ .attr = RESPOOL_A_POOL_NODE, .name = "node",
	  .kind = K_NODE, .flags = F_ADD | F_SET | F_SHOW },
	{ .attr = RESPOOL_A_POOL_OWNER, .name = "owner", .kind = K_UID, .flags = F_ADD | F_SHOW },
	{ .attr = RESPOOL_A_POOL_GROUP, .name = "group", .kind = K_GID, .flags = F_ADD | F_SHOW },
	{ .attr = RESPOOL_A_POOL_MODE, .name = "mode", .kind = K_MODE, .flags = F_ADD | F_SHOW },
	{ .attr = RESPOOL_A_POOL_CAPACITY, .name = "capacity",
	  .kind = K_BYTES, .flags = F_SETTING },
	{ .attr = RESPOOL_A_POOL_MAX_BLOCK_SIZE, .name = "max-block-size",
	  .kind = K_BYTES, .flags = F_SETTING },
	{ .attr = RESPOOL_A_POOL_RESERVE_MAX, .name = "reserve-max",
	  .kind = K_BYTES, .flags = F_SETTING },
	{ .attr = RESPOOL_A_POOL_CLIENT_QUOTA, .name = "client-quota",
	  .kind = K_BYTES, .flags = F_SETTING, .zero = "none" },
	{ .attr = RESPOOL_A_POOL_USER_QUOTA, .name = "user-quota",
	  .kind = K_BYTES, .flags = F_SETTING, .zero = "none" },
	{ .attr = RESPOOL_A_POOL_THRESHOLD, .name = "threshold",
	  .kind = K_PCT, .flags = F_SETTING },
	{ .attr = RESPOOL_A_POOL_PCPU_CACHE_BLOCKS, .name = "pcpu-cache-blocks",
	  .kind = K_COUNT, .flags = F_SETTING },
	{ .attr = RESPOOL_A_POOL_IDLE_TRIM_MS, .name = "idle-trim-ms",
	  .kind = K_MS, .flags = F_SETTING, .zero = "never" },
	{ .attr = RESPOOL_A_POOL_TOTAL_CAPACITY, .name = "total-capacity",
	  .kind = K_BYTES, .flags = F_SET | F_SHOW, .zero = "none" },
	{ .attr = RESPOOL_A_POOL_TOTAL_CAPACITY_LEFT, .name = "total-capacity-left",
	  .kind = K_BYTES, .flags = F_SHOW },
};

#define NR_POOL ARRAY_SIZE(pool_attrs)

static const struct attr_desc stats_attrs[] = {
	{ .attr = RESPOOL_A_STATS_CAPACITY, .name = "capacity", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_IN_USE_BYTES, .name = "in-use-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_RESERVE_BYTES, .name = "reserve-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_PCPU_BYTES, .name = "pcpu-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_REQUESTED_BYTES, .name = "requested-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_PEAK_IN_USE_BYTES, .name = "peak-in-use-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_BLOCKS_IN_USE, .name = "blocks-in-use", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_BLOCKS_FREE, .name = "blocks-free", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_ALLOCS, .name = "allocs", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_FREES, .name = "frees", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_PCPU_HITS, .name = "pcpu-hits", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_RESERVE_HITS, .name = "reserve-hits", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_FRESH_ALLOCS, .name = "fresh-allocs", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_THRESHOLD_REJECTS, .name = "threshold-rejects", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_EVICTIONS, .name = "evictions", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_EVICTED_BYTES, .name = "evicted-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_WAITS, .name = "waits", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_WAIT_TIMEOUTS, .name = "wait-timeouts", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_WAIT_INTERRUPTS, .name = "wait-interrupts", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_WAITERS, .name = "waiters", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_MAX_WAIT_NS, .name = "max-wait-ns", .kind = K_NS },
	{ .attr = RESPOOL_A_STATS_HANDOFFS, .name = "handoffs", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_SHRINKER_RELEASED_BYTES, .name = "shrinker-released-bytes",
	  .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_IDLE_TRIMMED_BYTES, .name = "idle-trimmed-bytes",
	  .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_ZEROED_BYTES, .name = "zeroed-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_CLIENTS, .name = "clients", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_LAST_RESET_NS, .name = "last-reset-ns", .kind = K_AGO },
	{ .attr = RESPOOL_A_STATS_LOST_WAKEUPS, .name = "lost-wakeups", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_EXPORTED_BYTES, .name = "exported-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_EXPORTS, .name = "exports", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_EXPORT_RETURNS, .name = "export-returns", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_KEPT_BYTES, .name = "kept-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_STATS_KEPT_BLOCKS, .name = "kept-blocks", .kind = K_COUNT },
	{ .attr = RESPOOL_A_STATS_TAKEBACKS, .name = "takebacks", .kind = K_COUNT },
};

#define NR_STATS ARRAY_SIZE(stats_attrs)

/* The per-CPU counters; col: their column in "cpu show", if they have one. */
static const struct attr_desc cpu_attrs[] = {
	{ .attr = RESPOOL_A_CPU_ALLOCS, .name = "allocs", .kind = K_COUNT, .col = " %10s" },
	{ .attr = RESPOOL_A_CPU_FREES, .name = "frees", .kind = K_COUNT, .col = " %10s" },
	{ .attr = RESPOOL_A_CPU_PCPU_HITS, .name = "pcpu-hits", .kind = K_COUNT, .col = " %10s" },
	{ .attr = RESPOOL_A_CPU_RESERVE_HITS, .name = "reserve-hits",
	  .kind = K_COUNT, .col = " %10s" },
	{ .attr = RESPOOL_A_CPU_FRESH_ALLOCS, .name = "fresh-allocs",
	  .kind = K_COUNT, .col = " %10s" },
	{ .attr = RESPOOL_A_CPU_THRESHOLD_REJECTS, .name = "threshold-rejects", .kind = K_COUNT },
	{ .attr = RESPOOL_A_CPU_EVICTIONS, .name = "evictions", .kind = K_COUNT, .col = " %10s" },
	{ .attr = RESPOOL_A_CPU_EVICTED_BYTES, .name = "evicted-bytes", .kind = K_BYTES },
	{ .attr = RESPOOL_A_CPU_ZEROED_BYTES, .name = "zeroed-bytes", .kind = K_BYTES },
};

#define NR_CPU ARRAY_SIZE(cpu_attrs)

/* A value as text: "64M", "75%", "10000ms", "none", "local", "root", "0660". */
static const char *fmt_value(char *buf, size_t len, const struct attr_desc *d,
			     uint64_t v)
{
	switch (d->kind) {
	case K_BYTES:
		if (d->zero && !v)
			break;
		return fmt_size(buf, len, v);
	case K_NS:
		return fmt_ns(buf, len, v);
	case K_PCT:
		snprintf(buf, len, "%" PRIu64 "%%", v);
		return buf;
	case K_MS:
		if (d->zero && !v)
			break;
		snprintf(buf, len, "%" PRIu64 "ms", v);
		return buf;
	case K_AGO: {
		/* A CLOCK_MONOTONIC time stamp: say how long ago. */
		uint64_t ns = now_ns(CLOCK_MONOTONIC);
		char t[32];

		snprintf(buf, len, "%s ago", fmt_ns(t, sizeof(t), ns > v ? ns - v : 0));
		return buf;
	}
	case K_NODE:
		if ((int32_t)v == -1)
			snprintf(buf, len, "local");
		else
			snprintf(buf, len, "%" PRId32, (int32_t)v);
		return buf;
	case K_UID: {
		struct passwd *pw = getpwuid(v);

		if (pw) {
			snprintf(buf, len, "%s", pw->pw_name);
			return buf;
		}
		break;
	}
	case K_GID: {
		struct group *gr = getgrgid(v);

		if (gr) {
			snprintf(buf, len, "%s", gr->gr_name);
			return buf;
		}
		break;
	}
	case K_MODE:
		snprintf(buf, len, "%04" PRIo64, v);
		return buf;
	case K_COUNT:
		break;
	}
	if (d->zero && !v)
		snprintf(buf, len, "%s", d->zero);
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* A value of the tables: fmt_value() in text, the raw number in JSON. */
static void print_attr(int type, const struct attr_desc *d, const char *fmt,
		       uint64_t v)
{
	char buf[64];

	if (!print_wanted(type))
		return;
	if (opt_json && d->kind == K_NODE)
		print_int(type, d->name, NULL, (int32_t)v);
	else if (opt_json)
		print_uint(type, d->name, NULL, v);
	else
		printf(fmt, fmt_value(buf, sizeof(buf), d, v));
}
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
	char what_buf[80];		/* "pool del fast" */
	const char *argstr[RESPOOL_A_POOL_MAX + 1];	/* user's text per attr */
	bool pool_attrs;		/* the request's attributes are the pool set */
	int (*parse)(struct nl_msg *msg, void *arg);
	void *arg;
	bool done;
	int err;
	bool unnumbered;		/* a refusal the kernel could not count */
};

static struct nl_sock *sk;
static int family;

static int connect_family(void)
{
	int one = 1;

	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk)) {
		fprintf(stderr, "%s: cannot open a generic netlink socket\n", prog);
		goto fail;
	}
	family = genl_ctrl_resolve(sk, RESPOOL_FAMILY_NAME);
	if (family < 0) {
		fprintf(stderr,
			"%s: respool module not loaded (no generic netlink family '%s')\n",
			prog, RESPOOL_FAMILY_NAME);
		goto fail;
	}
	/* Extended ACK: the kernel names the bad attribute and says why. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	return 0;
fail:
	/* A batch may go on (-f): it tries again on its next line. */
	nl_socket_free(sk);
	sk = NULL;
	return 1;
}

static const char *pool_attr_name(int type)
{
	static const struct { int attr; const char *name; } extra[] = {
		{ RESPOOL_A_POOL_SIZE, "size" },
		{ RESPOOL_A_POOL_COUNT, "count" },
		{ RESPOOL_A_POOL_POOL_NAME, "pool-name" },
		{ RESPOOL_A_POOL_POOL_ID, "pool-id" },
	};
	size_t i;

	for (i = 0; i < NR_POOL; i++)
		if (pool_attrs[i].attr == type)
			return pool_attrs[i].name;
	for (i = 0; i < ARRAY_SIZE(extra); i++)
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

/*
 * @msg with each "N bytes" said as a size ("(12582912 bytes left)":
 * "(12M left)"), as the rest of the output says them.
 */
static const char *sizes_in(const char *msg, char *buf, size_t len)
{
	size_t n = 0;
	const char *end;
	uint64_t v;
	char sz[32];

	while (*msg && n + 1 < len) {
		end = (msg[0] >= '0' && msg[0] <= '9') ? parse_digits(msg, &v) : NULL;
		if (end && !strncmp(end, " bytes", 6)) {
			n += snprintf(buf + n, len - n, "%s",
				      fmt_size(sz, sizeof(sz), v));
			msg = end + 6;
		} else {
			buf[n++] = *msg++;
		}
		if (n >= len)
			n = len - 1;
	}
	buf[n] = '\0';
	return buf;
}

/* Print the kernel's refusal the way a user wants to read it. */
static void report_error(struct req *r, int error, const char *msg,
			 int offs, struct nlattr *pol)
{
	const char *name = NULL, *val = NULL;
	char num[32], bounds[64], said[256];

	/*
	 * Two checks can refuse: genetlink's GENL_ADMIN_PERM (CAP_NET_ADMIN,
	 * no message) and then respool's own (CAP_SYS_ADMIN, with one); both
	 * in the initial user namespace. Name the one that refused. Other
	 * EPERMs ("default" cannot be deleted) say what they are.
	 */
	if (error == -EPERM && (!msg || strstr(msg, "CAP_"))) {
		fprintf(stderr, "%s: permission denied: %s needs %s\n", prog,
			r->what, msg ? "CAP_SYS_ADMIN" :
			"CAP_NET_ADMIN (and then CAP_SYS_ADMIN)");
		return;
	}
	if (offs >= (int)NLMSG_HDRLEN && r->msg && r->pool_attrs) {
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
	/*
	 * "no such pool", "exists", "busy" are about the pool, not about
	 * how its name is written: those say the command, which names the
	 * pool, and the errno.
	 */
	if (name && !strcmp(name, "pool-name") && error != -EINVAL) {
		if (msg && !strncmp(msg, "pool-name: ", 11))
			msg += 11;
		name = NULL;
	}
	/*
	 * 6.1's extended ack has no room for numbers: its ENOSPC and EBUSY
	 * come without "N bytes left" and the count of files, which
	 * run_req() then says from a pool-get.
	 */
	if ((error == -ENOSPC && msg && !strchr(msg, '(')) ||
	    (error == -EBUSY && msg && !strchr(msg, ':')))
		r->unnumbered = true;
	if (error == -ERANGE && policy_bounds(pol, bounds, sizeof(bounds)))
		msg = bounds;
	else if (msg)
		msg = sizes_in(msg, said, sizeof(said));
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

static void say_numbers(const struct req *r, int error);

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
	if (r->unnumbered)
		say_numbers(r, r->err);
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
	r->pool_attrs = cmd != RESPOOL_CMD_CPU_GET && cmd != RESPOOL_CMD_CLIENT_GET;
	r->msg = nlmsg_alloc();
	if (!r->msg ||
	    !genlmsg_put(r->msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 flags | NLM_F_ACK, cmd, RESPOOL_FAMILY_VERSION)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	return 0;
}

/* The pool in @r's error messages: "pool del fast: no such pool". */
static void req_what_pool(struct req *r, const char *name)
{
	snprintf(r->what_buf, sizeof(r->what_buf), "%s %s", r->what, name);
	r->what = r->what_buf;
}

/* @name into a request of the pool attribute set: "default" without. */
static void put_pool_name(struct req *r, const char *name)
{
	if (!name)
		return;
	req_what_pool(r, name);
	r->argstr[RESPOOL_A_POOL_POOL_NAME] = name;
	nla_put_string(r->msg, RESPOOL_A_POOL_POOL_NAME, name);
}

/* ---- parsing of replies ------------------------------------------------- */

/* ---- parsing of replies ------------------------------------------------- */

#define MAX_NODES 64

/* One pool-get reply: the pool, its values, its stats. */
struct pool_reply {
	uint32_t id;
	char name[32];
	char dev[64];
	uint64_t val[NR_POOL];
	bool has[NR_POOL];
	uint64_t st[NR_STATS];
	uint64_t hist[RESPOOL_WAIT_HIST_BUCKETS];
	struct {
		uint32_t node;
		uint64_t bytes;
	} nodes[MAX_NODES];
	int nr_nodes;
};

/* The replies of a pool-get: one (do) or every pool (dump). */
struct pool_list {
	struct pool_reply *v;
	int n;
};

static void parse_pool_stats(struct pool_reply *p, struct nlattr *stats)
{
	struct nlattr *sb[RESPOOL_A_STATS_MAX + 1], *a;
	size_t i;
	int rem;

	if (nla_parse_nested(sb, RESPOOL_A_STATS_MAX, stats, NULL))
		return;
	for (i = 0; i < NR_STATS; i++)
		p->st[i] = get_uint(sb[stats_attrs[i].attr]);
	nla_for_each_nested(a, stats, rem) {
		struct nlattr *hb[RESPOOL_A_HIST_BUCKET_MAX + 1];
		struct nlattr *nb[RESPOOL_A_NODE_BYTES_MAX + 1];
		uint32_t k;

		if (nla_type(a) == RESPOOL_A_STATS_WAIT_HIST &&
		    !nla_parse_nested(hb, RESPOOL_A_HIST_BUCKET_MAX, a, NULL) &&
		    hb[RESPOOL_A_HIST_BUCKET_LOG2_NS]) {
			k = nla_get_u32(hb[RESPOOL_A_HIST_BUCKET_LOG2_NS]);
			if (k < RESPOOL_WAIT_HIST_BUCKETS)
				p->hist[k] = get_uint(hb[RESPOOL_A_HIST_BUCKET_COUNT]);
		} else if (nla_type(a) == RESPOOL_A_STATS_NODE_BYTES &&
			   !nla_parse_nested(nb, RESPOOL_A_NODE_BYTES_MAX, a, NULL) &&
			   p->nr_nodes < MAX_NODES) {
			p->nodes[p->nr_nodes].node =
				get_uint(nb[RESPOOL_A_NODE_BYTES_NODE]);
			p->nodes[p->nr_nodes++].bytes =
				get_uint(nb[RESPOOL_A_NODE_BYTES_BYTES]);
		}
	}
}

/*
 * Owner, group and mode of the pool's device node as it is now, over what
 * the reply says pool-new made (a udev rule or chmod may have changed the
 * node since: the default pool's udev rule does); the reply's where this
 * host cannot see the node.
 */
static void pool_dev_node(struct pool_reply *p)
{
	char path[sizeof(p->dev) + 8];
	struct stat st;
	size_t i;

	snprintf(path, sizeof(path), "/dev/%s", p->dev);
	if (stat(path, &st) || !S_ISCHR(st.st_mode))
		return;
	for (i = 0; i < NR_POOL; i++) {
		if (pool_attrs[i].attr == RESPOOL_A_POOL_OWNER)
			p->val[i] = st.st_uid;
		else if (pool_attrs[i].attr == RESPOOL_A_POOL_GROUP)
			p->val[i] = st.st_gid;
		else if (pool_attrs[i].attr == RESPOOL_A_POOL_MODE)
			p->val[i] = st.st_mode & 0777;
		else
			continue;
		p->has[i] = true;
	}
}

static int parse_pool(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_POOL_MAX + 1];
	struct pool_list *l = arg;
	struct pool_reply *p;
	size_t i;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_POOL_MAX, NULL))
		return NL_SKIP;
	p = realloc(l->v, (l->n + 1) * sizeof(*p));
	if (!p)
		return NL_STOP;
	l->v = p;
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	p->id = get_uint(tb[RESPOOL_A_POOL_POOL_ID]);
	/* A module before named pools has one pool: "default". */
	snprintf(p->name, sizeof(p->name), "%s", tb[RESPOOL_A_POOL_POOL_NAME] ?
		 nla_get_string(tb[RESPOOL_A_POOL_POOL_NAME]) : DEFAULT_POOL);
	snprintf(p->dev, sizeof(p->dev), "%s", tb[RESPOOL_A_POOL_DEV_NAME] ?
		 nla_get_string(tb[RESPOOL_A_POOL_DEV_NAME]) : "respool");
	for (i = 0; i < NR_POOL; i++) {
		p->has[i] = tb[pool_attrs[i].attr];
		p->val[i] = get_uint(tb[pool_attrs[i].attr]);
	}
	if (tb[RESPOOL_A_POOL_STATS])
		parse_pool_stats(p, tb[RESPOOL_A_POOL_STATS]);
	pool_dev_node(p);
	return NL_OK;
}

/*
 * pool-get: of pool @name, of "default" when @name is NULL, or of every
 * pool (dump) when @all. Return: 0, or 1 when the kernel refused (said).
 */
static int get_pools(const char *name, bool all, struct pool_list *l)
{
	struct req r;
	int ret;

	memset(l, 0, sizeof(*l));
	if (req_init(&r, RESPOOL_CMD_POOL_GET, all ? NLM_F_DUMP : 0, cur_cmd,
		     parse_pool, l))
		return 1;
	if (name)
		put_pool_name(&r, name);
	ret = run_req(&r);
	if (!ret && !all && l->n != 1) {
		fprintf(stderr, "%s: %s: no reply from the kernel\n", prog, cur_cmd);
		ret = 1;
	}
	if (ret) {
		free(l->v);
		l->v = NULL;
	}
	return ret;
}

static int get_pool(const char *name, struct pool_reply *p)
{
	struct pool_list l;

	if (get_pools(name, false, &l))
		return 1;
	*p = l.v[0];
	free(l.v);
	return 0;
}

/* The value of pool attribute (or, @stat, statistic) @attr in @p, or NULL. */
static const uint64_t *reply_val(const struct pool_reply *p, int attr,
				 bool stat)
{
	size_t i;

	for (i = 0; !stat && i < NR_POOL; i++)
		if (pool_attrs[i].attr == attr)
			return p->has[i] ? &p->val[i] : NULL;
	for (i = 0; stat && i < NR_STATS; i++)
		if (stats_attrs[i].attr == attr)
			return &p->st[i];
	return NULL;
}

/*
 * After a refusal the kernel could not count (run_req()), the numbers
 * 6.2's kernel puts in its message, from pool-get now: for ENOSPC what
 * total-capacity leaves to the pool the request named (or the pools'
 * capacities together, when the request moved the bound), for EBUSY how
 * many files hold the pool, and how many bytes of it are exported.
 */
static void say_numbers(const struct req *r, int error)
{
	const char *name = r->argstr[RESPOOL_A_POOL_POOL_NAME] ?: DEFAULT_POOL;
	uint64_t sum = 0, mine = 0, total = 0;
	const uint64_t *v;
	struct pool_list l;
	char sz[32];
	int i;

	if (get_pools(NULL, true, &l))
		return;
	for (i = 0; i < l.n; i++) {
		v = reply_val(&l.v[i], RESPOOL_A_POOL_CAPACITY, false);
		sum += v ? *v : 0;
		v = reply_val(&l.v[i], RESPOOL_A_POOL_TOTAL_CAPACITY, false);
		total = v ? *v : total;
		if (strcmp(l.v[i].name, name))
			continue;
		if (error == -EBUSY) {
			const uint64_t *ex = reply_val(&l.v[i],
					RESPOOL_A_STATS_EXPORTED_BYTES, true);

			/* Open files, exported blocks, or both hold it. */
			v = reply_val(&l.v[i], RESPOOL_A_STATS_CLIENTS, true);
			if ((v && *v) || !ex || !*ex)
				fprintf(stderr, "%s: files open on pool %s: %" PRIu64 "\n",
					prog, name, v ? *v : 0);
			if (ex && *ex)
				fprintf(stderr, "%s: bytes of pool %s exported as dma-bufs: %s\n",
					prog, name, fmt_size(sz, sizeof(sz), *ex));
		}
		v = reply_val(&l.v[i], RESPOOL_A_POOL_CAPACITY, false);
		mine = v ? *v : 0;
	}
	if (error == -ENOSPC && r->argstr[RESPOOL_A_POOL_TOTAL_CAPACITY])
		fprintf(stderr, "%s: the pools' capacities add up to %s\n", prog,
			fmt_size(sz, sizeof(sz), sum));
	else if (error == -ENOSPC && total)
		fprintf(stderr, "%s: total-capacity leaves %s to pool %s\n",
			prog, fmt_size(sz, sizeof(sz),
				       total > sum - mine ? total - (sum - mine) : 0),
			name);
	free(l.v);
}

static uint64_t stat_of(const struct pool_reply *p, const char *name)
{
	size_t i;

	for (i = 0; i < NR_STATS; i++)
		if (!strcmp(stats_attrs[i].name, name))
			return p->st[i];
	return 0;
}

static uint64_t val_of(const struct pool_reply *p, int attr)
{
	size_t i;

	for (i = 0; i < NR_POOL; i++)
		if (pool_attrs[i].attr == attr)
			return p->val[i];
	return 0;
}

/* The name of pool @id, from a dump of every pool; or the id in digits. */
static const char *pool_name_of(const struct pool_list *l, uint32_t id,
				char *buf, size_t len)
{
	int i;

	for (i = 0; l && i < l->n; i++)
		if (l->v[i].id == id)
			return l->v[i].name;
	if (id == 0)
		return DEFAULT_POOL;
	snprintf(buf, len, "%" PRIu32, id);
	return buf;
}

/* ---- parsing of arguments ----------------------------------------------- */

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

/*
 * A whole decimal number up to UINT32_MAX, then @unit if given ("75%",
 * "10000ms": as they are printed). Return: 0, -1 not one, -2 too large.
 */
static int parse_u32_unit(const char *s, const char *unit, uint32_t *out)
{
	const char *end;
	uint64_t v;

	end = parse_digits(s, &v);
	if (!end || (*end && (!unit || strcmp(end, unit))))
		return -1;
	if (v > UINT32_MAX)
		return -2;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	return parse_u32_unit(s, NULL, out);
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

/*
 * The text @s of pool attribute @d as its value: the inverse of
 * fmt_value(), names of users and groups included. Return: NULL, or why
 * @s is not one. Only the form is checked here: the kernel says the
 * bounds (extack), except for mode, whose bounds it would say in decimal.
 */
static const char *parse_attr(const struct attr_desc *d, const char *s,
			      uint64_t *out)
{
	uint32_t v32;
	int err;

	if (d->zero && !strcmp(s, d->zero)) {
		*out = 0;
		return NULL;
	}
	switch (d->kind) {
	case K_BYTES:
		err = parse_size(s, out);
		return err ? size_error(err) : NULL;
	case K_NODE:
		if (!strcmp(s, "local") || !strcmp(s, "-1")) {
			*out = (uint32_t)-1;
			return NULL;
		}
		err = parse_u32(s, &v32);
		if (err || v32 > INT32_MAX)
			return "not a node number (or local, -1)";
		*out = v32;
		return NULL;
	case K_UID: {
		struct passwd *pw = getpwnam(s);

		if (pw) {
			*out = pw->pw_uid;
			return NULL;
		}
		err = parse_u32(s, &v32);
		*out = v32;
		return err ? "no such user" : NULL;
	}
	case K_GID: {
		struct group *gr = getgrnam(s);

		if (gr) {
			*out = gr->gr_gid;
			return NULL;
		}
		err = parse_u32(s, &v32);
		*out = v32;
		return err ? "no such group" : NULL;
	}
	case K_MODE: {
		char *end;

		errno = 0;
		*out = strtoul(s, &end, 8);
		if (*s < '0' || *s > '7' || *end || errno || *out > 0777)
			return "not permission bits in octal (0 to 0777)";
		return NULL;
	}
	default:
		err = parse_u32_unit(s, d->kind == K_PCT ? "%" :
				     d->kind == K_MS ? "ms" : NULL, &v32);
		*out = v32;
		return err ? u32_error(err) : NULL;
	}
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

/*
 * KEY VALUE pairs of pool attributes with @flag (F_ADD, F_SET), checked
 * and put into @r's message. Usage errors come before anything is sent,
 * so the caller parses into a scratch request first.
 */
static int put_pool_attrs(struct req *r, unsigned int flag, int argc,
			  char **argv)
{
	const char *names[NR_POOL];
	const struct attr_desc *ds[NR_POOL];
	int n = 0, i, k;

	for (i = 0; i < (int)NR_POOL; i++)
		if (pool_attrs[i].flags & flag) {
			ds[n] = &pool_attrs[i];
			names[n++] = pool_attrs[i].name;
		}
	if (argc % 2)
		return usage_err("'%s' has no value", argv[argc - 1]);
	if (argc / 2 > n)
		return usage_err("has more settings than there are");
	for (i = 0; i < argc; i += 2) {
		const struct attr_desc *d;
		const char *why;
		char key[32], *c;
		uint64_t v;

		/* The module parameter's name works too: user_quota. */
		snprintf(key, sizeof(key), "%s", argv[i]);
		for (c = key; *c; c++)
			if (*c == '_')
				*c = '-';
		k = match_word(key, names, n);
		if (k < 0) {
			fprintf(stderr, "%s: %s setting '%s' (one of:", prog,
				k == -2 ? "ambiguous" : "unknown", argv[i]);
			for (k = 0; k < n; k++)
				fprintf(stderr, " %s", names[k]);
			fprintf(stderr, ")\n");
			return EXIT_USAGE;
		}
		d = ds[k];
		why = parse_attr(d, argv[i + 1], &v);
		if (why) {
			fprintf(stderr, "%s: invalid %s %s: %s\n", prog, d->name,
				argv[i + 1], why);
			return EXIT_USAGE;
		}
		if (r) {
			r->argstr[d->attr] = argv[i + 1];
			if (d->kind == K_BYTES)
				nla_put_u64(r->msg, d->attr, v);
			else
				nla_put_u32(r->msg, d->attr, v);
		}
	}
	return 0;
}

/* ---- printers of records ------------------------------------------------ */

/* Wait-time histogram as bars, in the manner of bpftrace's hist(). */
static void print_hist(const uint64_t *hist)
{
	static const char bar[] =
		"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";
	int lo = -1, hi = -1, k, w;
	uint64_t max = 0;

	for (k = 0; k < RESPOOL_WAIT_HIST_BUCKETS; k++) {
		if (!hist[k])
			continue;
		if (lo < 0)
			lo = k;
		hi = k;
		if (hist[k] > max)
			max = hist[k];
	}
	print_fp("wait time histogram:\n");
	if (lo < 0)
		print_fp("  (no waits)\n");
	/* JSON lists the non-empty buckets, the text every row between. */
	open_json_array("wait-hist");
	for (k = lo; lo >= 0 && k <= hi; k++) {
		char a[32], b[32], label[72];

		if (!hist[k] && !print_wanted(PRINT_FP))
			continue;
		/* Bucket k holds waits of [2^k, 2^(k+1)) ns: say times. */
		fmt_ns(a, sizeof(a), 1ULL << k);
		if (k < 63)
			fmt_ns(b, sizeof(b), 1ULL << (k + 1));
		else
			snprintf(b, sizeof(b), "...");
		snprintf(label, sizeof(label), "[%s, %s)", a, b);
		w = (int)(hist[k] * 52 / max);
		open_json_object(NULL);
		print_string(PRINT_FP, NULL, "%-18s", label);
		print_uint(PRINT_JSON, "log2-ns", NULL, k);
		print_uint(PRINT_ANY, "count", " %8" PRIu64, hist[k]);
		print_fp(" |%.*s%*s|\n", w, bar, 52 - w, "");
		close_json_object();
	}
	close_json_array();
}

/* Bytes per NUMA node: "0:12M 1:4M" in text. */
static void print_node_bytes(const struct pool_reply *p)
{
	int i;

	print_fp("%-24s", "node-bytes");
	open_json_array("node-bytes");
	for (i = 0; i < p->nr_nodes; i++) {
		open_json_object(NULL);
		print_uint(PRINT_ANY, "node", " %" PRIu64, p->nodes[i].node);
		print_size(PRINT_ANY, "bytes", ":%s", p->nodes[i].bytes);
		close_json_object();
	}
	close_json_array();
	if (!p->nr_nodes)
		print_fp(" -");
	print_nl();
}

/* pool stats: one line per stat, the efficiency, the histogram. */
static void print_stats(const struct pool_reply *p)
{
	uint64_t in_use = stat_of(p, "in-use-bytes");
	size_t i;

	open_json_object(NULL);
	print_string(PRINT_ANY, "pool-name", "pool %s\n", p->name);
	print_uint(PRINT_JSON, "pool-id", NULL, p->id);
	for (i = 0; i < NR_STATS; i++) {
		print_fp("%-24s ", stats_attrs[i].name);
		print_attr(PRINT_ANY, &stats_attrs[i], "%s\n", p->st[i]);
	}
	print_node_bytes(p);
	print_fp("%-24s ", "efficiency");
	if (in_use)
		print_fp("%.1f%%\n", 100.0 * stat_of(p, "requested-bytes") / in_use);
	else
		print_fp("-\n");
	print_hist(p->hist);
	close_json_object();
}

/* config show: one line per setting. */
static void print_settings(const struct pool_reply *p)
{
	size_t i;

	open_json_object(NULL);
	for (i = 0; i < NR_POOL; i++) {
		if (!(pool_attrs[i].flags & F_CFG))
			continue;
		print_fp("%-18s ", pool_attrs[i].name);
		print_attr(PRINT_ANY, &pool_attrs[i], "%s\n", p->val[i]);
	}
	close_json_object();
}

/*
 * pool show, in the words of pool add:
 *   pool fast id 1 dev /dev/respool-fast node 0 owner root group disk mode 0660
 *       capacity 64M max-block-size 4M ...
 *       threshold 75% pcpu-cache-blocks 16 idle-trim-ms 10000ms
 *       total-capacity 1G total-capacity-left 896M
 */
static void print_pool(const struct pool_reply *p)
{
	size_t i;

	open_json_object(NULL);
	print_string(PRINT_ANY, "pool-name", "pool %s", p->name);
	print_uint(PRINT_ANY, "pool-id", " id %" PRIu64, p->id);
	print_string(PRINT_ANY, "dev-name", " dev /dev/%s", p->dev);
	for (i = 0; i < NR_POOL; i++) {
		const struct attr_desc *d = &pool_attrs[i];

		if (!(d->flags & F_SHOW) || !p->has[i])
			continue;
		if (d->attr == RESPOOL_A_POOL_CAPACITY ||
		    d->attr == RESPOOL_A_POOL_THRESHOLD ||
		    d->attr == RESPOOL_A_POOL_TOTAL_CAPACITY)
			print_fp("\n   ");
		print_fp(" %s ", d->name);
		print_attr(PRINT_ANY, d, "%s", p->val[i]);
	}
	print_nl();
	close_json_object();
}

/* Each pool of pool-get (@name; "default" without; every one with @all). */
static int show_pools(const char *name, bool all,
		      void (*print)(const struct pool_reply *), bool gap)
{
	struct pool_list l;
	int i;

	if (get_pools(name, all, &l))
		return 1;
	if (all)
		open_json_array(NULL);
	for (i = 0; i < l.n; i++) {
		if (gap && i)
			print_nl();
		print(&l.v[i]);
	}
	if (all)
		close_json_array();
	free(l.v);
	return 0;
}

/* ---- commands ----------------------------------------------------------- */

static int do_stats(int argc, char **argv)
{
	if (argc)
		return no_args(argv);
	return show_pools(NULL, false, print_stats, false);
}

static int do_config_show(int argc, char **argv)
{
	if (argc)
		return no_args(argv);
	return show_pools(NULL, false, print_settings, false);
}

static int do_pool_show(int argc, char **argv)
{
	if (argc > 1)
		return usage_err("'%s' is one argument too many", argv[1]);
	return show_pools(argc ? argv[0] : NULL, !argc, print_pool, false);
}

static int do_pool_stats(int argc, char **argv)
{
	if (argc > 1)
		return usage_err("'%s' is one argument too many", argv[1]);
	return show_pools(argc ? argv[0] : NULL, !argc, print_stats, true);
}

/* config-set of pool @name ("default" when NULL): KEY VALUE pairs. */
static int set_pool(const char *name, int argc, char **argv)
{
	struct req r;
	int ret;

	if (!argc)
		return usage_err("needs KEY VALUE pairs");
	/* Every pair is checked before anything is sent: usage errors first. */
	ret = put_pool_attrs(NULL, F_SET, argc, argv);
	if (ret)
		return ret;
	if (req_init(&r, RESPOOL_CMD_CONFIG_SET, 0, cur_cmd, NULL, NULL))
		return 1;
	put_pool_name(&r, name);
	put_pool_attrs(&r, F_SET, argc, argv);
	return run_req(&r);
}

static int do_config_set(int argc, char **argv)
{
	return set_pool(NULL, argc, argv);
}

static int do_pool_set(int argc, char **argv)
{
	if (!argc)
		return usage_err("needs a pool NAME and KEY VALUE pairs");
	return set_pool(argv[0], argc - 1, argv + 1);
}

static int do_pool_add(int argc, char **argv)
{
	struct pool_list l = { 0 };
	struct req r;
	int ret;

	if (!argc)
		return usage_err("needs a pool NAME");
	ret = put_pool_attrs(NULL, F_ADD, argc - 1, argv + 1);
	if (ret)
		return ret;
	if (req_init(&r, RESPOOL_CMD_POOL_NEW, 0, cur_cmd, parse_pool, &l))
		return 1;
	put_pool_name(&r, argv[0]);
	put_pool_attrs(&r, F_ADD, argc - 1, argv + 1);
	ret = run_req(&r);
	/* As ip(8): quiet on success; JSON says what was made. */
	if (!ret && l.n) {
		open_json_object(NULL);
		print_uint(PRINT_JSON, "pool-id", NULL, l.v[0].id);
		print_string(PRINT_JSON, "pool-name", NULL, l.v[0].name);
		print_string(PRINT_JSON, "dev-name", NULL, l.v[0].dev);
		close_json_object();
	}
	free(l.v);
	return ret;
}

/* A command whose one argument is the pool's NAME. */
static int need_name(int argc, char **argv)
{
	if (!argc)
		return usage_err("needs a pool NAME");
	if (argc > 1)
		return usage_err("'%s' is one argument too many", argv[1]);
	return 0;
}

static int do_pool_del(int argc, char **argv)
{
	struct req r;
	int ret;

	ret = need_name(argc, argv);
	if (ret)
		return ret;
	if (req_init(&r, RESPOOL_CMD_POOL_DEL, 0, cur_cmd, NULL, NULL))
		return 1;
	put_pool_name(&r, argv[0]);
	return run_req(&r);
}

static int reset_pool(const char *name)
{
	struct req r;

	if (req_init(&r, RESPOOL_CMD_STATS_RESET, 0, cur_cmd, NULL, NULL))
		return 1;
	put_pool_name(&r, name);
	return run_req(&r);
}

static int do_reset(int argc, char **argv)
{
	if (argc)
		return no_args(argv);
	return reset_pool(NULL);
}

static int do_pool_reset(int argc, char **argv)
{
	int ret = need_name(argc, argv);

	return ret ? ret : reset_pool(argv[0]);
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
static const char *prefill_stop_reason(const char *name, uint64_t size,
				       char *buf, size_t len)
{
	uint64_t page = sysconf(_SC_PAGESIZE), need, cap, max, free, owned;
	struct pool_reply p;
	char a[32], b[32];

	if (get_pool(name, &p))
		return "the pool could not be read to say why";
	need = (size + page - 1) / page * page;
	cap = stat_of(&p, "capacity");
	free = stat_of(&p, "reserve-bytes") + stat_of(&p, "pcpu-bytes");
	owned = stat_of(&p, "in-use-bytes") + free;
	max = val_of(&p, RESPOOL_A_POOL_RESERVE_MAX);
	if (max > cap)
		max = cap;
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

static int prefill_pool(const char *name, int argc, char **argv)
{
	struct value_reply v = { .attr = RESPOOL_A_POOL_COUNT };
	char why_buf[128];
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
	if (req_init(&r, RESPOOL_CMD_PREFILL, 0, cur_cmd, parse_value, &v))
		return 1;
	put_pool_name(&r, name);
	r.argstr[RESPOOL_A_POOL_SIZE] = argv[0];
	r.argstr[RESPOOL_A_POOL_COUNT] = argv[1];
	nla_put_u64(r.msg, RESPOOL_A_POOL_SIZE, size);
	nla_put_u32(r.msg, RESPOOL_A_POOL_COUNT, count);
	if (run_req(&r))
		return 1;
	why = v.val < count ? prefill_stop_reason(name, size, why_buf,
						  sizeof(why_buf)) : NULL;
	open_json_object(NULL);
	print_uint(PRINT_ANY, "count", "prefilled %" PRIu64, v.val);
	print_fp(" of %u blocks", count);
	print_size(PRINT_ANY, "size", " of %s", size);
	if (why)
		print_string(PRINT_ANY, "stopped", ": %s", why);
	print_nl();
	close_json_object();
	return 0;
}

static int do_prefill(int argc, char **argv)
{
	return prefill_pool(NULL, argc, argv);
}

static int do_pool_prefill(int argc, char **argv)
{
	if (!argc)
		return usage_err("needs a pool NAME, a SIZE and a COUNT");
	return prefill_pool(argv[0], argc - 1, argv + 1);
}

static int drain_pool(const char *name)
{
	struct value_reply v = { .attr = RESPOOL_A_POOL_RELEASED_BYTES };
	struct req r;

	if (req_init(&r, RESPOOL_CMD_DRAIN, 0, cur_cmd, parse_value, &v))
		return 1;
	put_pool_name(&r, name);
	if (run_req(&r))
		return 1;
	open_json_object(NULL);
	print_size(PRINT_ANY, "released-bytes", "released %s\n", v.val);
	close_json_object();
	return 0;
}

static int do_drain(int argc, char **argv)
{
	if (argc)
		return no_args(argv);
	return drain_pool(NULL);
}

static int do_pool_drain(int argc, char **argv)
{
	int ret = need_name(argc, argv);

	return ret ? ret : drain_pool(argv[0]);
}

/* cpu show, client show: tables of a dump, or of one entry. */

struct table {
	const char *pool;	/* the dump's filter; NULL: every pool */
	bool pool0;		/* filter here: only pool id 0, "default" */
	struct pool_list names;	/* every pool, for the POOL column */
	bool first;
};

/* The entry's pool: a column when the table has every pool. */
static void print_table_pool(const struct table *t, uint32_t id)
{
	char buf[16];

	print_uint(PRINT_JSON, "pool-id", NULL, id);
	print_string(t->pool ? PRINT_JSON : PRINT_ANY, "pool-name", " %-12s",
		     t->pool ? t->pool :
		     pool_name_of(&t->names, id, buf, sizeof(buf)));
}

static int parse_cpu(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_CPU_MAX + 1], *a;
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct table *t = arg;
	size_t i;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_CPU_MAX, NULL) ||
	    (t->pool0 && get_uint(tb[RESPOOL_A_CPU_POOL_ID])))
		return NL_SKIP;
	if (t->first) {
		print_fp("%-4s", "CPU");
		if (!t->pool)
			print_fp(" %-12s", "POOL");
		print_fp(" %10s %10s %10s %10s %10s %10s %7s %8s  %s\n", "ALLOCS",
			 "FREES", "PCPU-HITS", "RES-HITS", "FRESH", "EVICTIONS",
			 "CACHED", "BYTES", "BLOCK SIZES");
		t->first = false;
	}
	open_json_object(NULL);
	print_uint(PRINT_ANY, "id", "%-4" PRIu64, get_uint(tb[RESPOOL_A_CPU_ID]));
	print_table_pool(t, get_uint(tb[RESPOOL_A_CPU_POOL_ID]));
	for (i = 0; i < NR_CPU; i++)
		print_attr(cpu_attrs[i].col ? PRINT_ANY : PRINT_JSON,
			   &cpu_attrs[i], cpu_attrs[i].col,
			   get_uint(tb[cpu_attrs[i].attr]));
	print_int(PRINT_JSON, "requested-bytes", NULL,
		  (int64_t)get_uint(tb[RESPOOL_A_CPU_REQUESTED_BYTES]));
	print_uint(PRINT_ANY, "cached-blocks", " %7" PRIu64,
		   get_uint(tb[RESPOOL_A_CPU_CACHED_BLOCKS]));
	print_size(PRINT_ANY, "cached-bytes", " %8s ",
		   get_uint(tb[RESPOOL_A_CPU_CACHED_BYTES]));
	open_json_array("cached-block-sizes");
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem)
		if (nla_type(a) == RESPOOL_A_CPU_CACHED_BLOCK_SIZE)
			print_size(PRINT_ANY, NULL, " %s", get_uint(a));
	close_json_array();
	print_nl();
	close_json_object();
	return NL_OK;
}

static int parse_client(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RESPOOL_A_CLIENT_MAX + 1];
	struct table *t = arg;
	char wait[80] = "-", d[32], w[32];
	uint64_t since;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_CLIENT_MAX, NULL) ||
	    (t->pool0 && get_uint(tb[RESPOOL_A_CLIENT_POOL_ID])))
		return NL_SKIP;
	if (t->first) {
		print_fp("%-6s", "ID");
		if (!t->pool)
			print_fp(" %-12s", "POOL");
		print_fp(" %-8s %-16s %8s %8s %9s %7s %7s %4s %8s %5s %9s %12s  %s\n",
			 "PID", "COMM", "HELD", "MAPPED", "REQUESTED", "HANDLES",
			 "MAPBLKS", "FAST", "KEPT", "KBLKS", "TAKEBACKS",
			 "HITS(CLIENT)", "WAITING");
		t->first = false;
	}
	since = get_uint(tb[RESPOOL_A_CLIENT_WAITING_SINCE_NS]);
	if (since) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);

		/* "64K for 1.2s": what it waits for, and how long. */
		snprintf(wait, sizeof(wait), "%s for %s",
			 fmt_size(w, sizeof(w),
				  get_uint(tb[RESPOOL_A_CLIENT_WAITING_BYTES])),
			 fmt_ns(d, sizeof(d), now > since ? now - since : 0));
	}
	open_json_object(NULL);
	print_uint(PRINT_ANY, "id", "%-6" PRIu64, get_uint(tb[RESPOOL_A_CLIENT_ID]));
	print_table_pool(t, get_uint(tb[RESPOOL_A_CLIENT_POOL_ID]));
	print_uint(PRINT_ANY, "pid", " %-8" PRIu64,
		   get_uint(tb[RESPOOL_A_CLIENT_PID]));
	print_string(PRINT_ANY, "comm", " %-16s", tb[RESPOOL_A_CLIENT_COMM] ?
		     nla_get_string(tb[RESPOOL_A_CLIENT_COMM]) : "");
	print_size(PRINT_ANY, "held-bytes", " %8s",
		   get_uint(tb[RESPOOL_A_CLIENT_HELD_BYTES]));
	print_size(PRINT_ANY, "mapped-bytes", " %8s",
		   get_uint(tb[RESPOOL_A_CLIENT_MAPPED_BYTES]));
	print_size(PRINT_ANY, "requested-bytes", " %9s",
		   get_uint(tb[RESPOOL_A_CLIENT_REQUESTED_BYTES]));
	print_uint(PRINT_ANY, "handles", " %7" PRIu64,
		   get_uint(tb[RESPOOL_A_CLIENT_HANDLES]));
	print_uint(PRINT_ANY, "mapped-blocks", " %7" PRIu64,
		   get_uint(tb[RESPOOL_A_CLIENT_MAPPED_BLOCKS]));
	/*
	 * The fast path: kept blocks are part of HELD. fast-hits is the
	 * client's own count from its control page, not the kernel's.
	 */
	print_bool(PRINT_ANY, "fast-path", " %4s",
		   tb[RESPOOL_A_CLIENT_FAST_PATH]);
	print_size(PRINT_ANY, "kept-bytes", " %8s",
		   get_uint(tb[RESPOOL_A_CLIENT_KEPT_BYTES]));
	print_uint(PRINT_ANY, "kept-blocks", " %5" PRIu64,
		   get_uint(tb[RESPOOL_A_CLIENT_KEPT_BLOCKS]));
	print_uint(PRINT_ANY, "takebacks", " %9" PRIu64,
		   get_uint(tb[RESPOOL_A_CLIENT_TAKEBACKS]));
	print_uint(PRINT_ANY, "fast-hits", " %12" PRIu64,
		   get_uint(tb[RESPOOL_A_CLIENT_FAST_HITS]));
	/* Present only while the client waits; the text says "-" then. */
	if (tb[RESPOOL_A_CLIENT_WAITING_SINCE_NS])
		print_uint(PRINT_JSON, "waiting-since-ns", NULL, since);
	if (tb[RESPOOL_A_CLIENT_WAITING_BYTES])
		print_uint(PRINT_JSON, "waiting-bytes", NULL,
			   get_uint(tb[RESPOOL_A_CLIENT_WAITING_BYTES]));
	print_string(PRINT_FP, NULL, "  %s\n", wait);
	close_json_object();
	return NL_OK;
}

/* "[pool NAME] [ID]" of client show and cpu show, in either order. */
static int parse_filter(int argc, char **argv, const char *idname,
			const char **pool, uint64_t *id, bool *has_id)
{
	const char *end;

	for (; argc; argc--, argv++) {
		if (!strcmp(argv[0], "pool")) {
			if (argc < 2)
				return usage_err("pool needs a NAME");
			*pool = argv[1];
			argc--;
			argv++;
		} else if (!*has_id && (end = parse_digits(argv[0], id)) && !*end) {
			*has_id = true;
		} else if (*has_id) {
			return usage_err("'%s' is one argument too many", argv[0]);
		} else {
			return usage_err("'%s' is neither 'pool NAME' nor %s",
					 argv[0], idname);
		}
	}
	return 0;
}

/*
 * A dump of @cmd (cpu-get, client-get), of pool @pool or of every pool,
 * or with @has_id the one entry @id; @none: what to say of an empty dump.
 * The default pool's (@pool NULL, @has_id false, @pool0) is the dump of
 * every pool filtered here: that works with a module of before named
 * pools too, which knows no filter.
 */
static int show_table(uint8_t cmd, const char *pool, bool pool0, bool has_id,
		      uint64_t id, const char *none)
{
	bool cpu = cmd == RESPOOL_CMD_CPU_GET;
	struct table t = {
		.pool = pool0 ? DEFAULT_POOL : pool,
		.pool0 = pool0,
		.first = true,
	};
	struct req r;
	int ret;

	/* The POOL column names the pools: learn them first. */
	if (!t.pool && get_pools(NULL, true, &t.names))
		return 1;
	if (req_init(&r, cmd, has_id ? 0 : NLM_F_DUMP, cur_cmd,
		     cpu ? parse_cpu : parse_client, &t)) {
		free(t.names.v);
		return 1;
	}
	if (pool) {
		snprintf(r.what_buf, sizeof(r.what_buf), "%s pool %s", r.what,
			 pool);
		r.what = r.what_buf;
		nla_put_string(r.msg, cpu ? RESPOOL_A_CPU_POOL_NAME :
			       RESPOOL_A_CLIENT_POOL_NAME, pool);
	}
	if (has_id && cpu)
		nla_put_u32(r.msg, RESPOOL_A_CPU_ID, id);
	else if (has_id)
		nla_put_u64(r.msg, RESPOOL_A_CLIENT_ID, id);
	if (!has_id)
		open_json_array(NULL);
	ret = run_req(&r);
	if (!has_id)
		close_json_array();
	if (!ret && t.first && none)
		print_fp("%s\n", none);
	free(t.names.v);
	return ret;
}

static int do_cpus(int argc, char **argv)
{
	if (argc)
		return no_args(argv);
	return show_table(RESPOOL_CMD_CPU_GET, NULL, true, false, 0, NULL);
}

static int do_cpu_show(int argc, char **argv)
{
	const char *pool = NULL;
	bool has_id = false;
	uint64_t id;
	int ret;

	ret = parse_filter(argc, argv, "a CPU number", &pool, &id, &has_id);
	if (ret)
		return ret;
	if (has_id && id > UINT32_MAX)
		return usage_err("CPU %" PRIu64 " is too large", id);
	return show_table(RESPOOL_CMD_CPU_GET, pool, false, has_id, id, NULL);
}

static int do_clients(int argc, char **argv)
{
	if (argc)
		return no_args(argv);
	return show_table(RESPOOL_CMD_CLIENT_GET, NULL, true, false, 0,
			  "no clients");
}

static int do_client_show(int argc, char **argv)
{
	const char *pool = NULL;
	bool has_id = false;
	uint64_t id;
	int ret;

	ret = parse_filter(argc, argv, "a client ID", &pool, &id, &has_id);
	if (ret)
		return ret;
	return show_table(RESPOOL_CMD_CLIENT_GET, pool, false, has_id, id,
			  "no clients");
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

struct monitor {
	const char *pool;	/* only this pool's events; NULL: every pool's */
	bool gone;		/* the module was unloaded */
};

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case RESPOOL_CMD_EXHAUSTED_NTF: return "exhausted";
	case RESPOOL_CMD_RECOVERED_NTF: return "recovered";
	case RESPOOL_CMD_PRESSURE_NTF: return "pressure";
	case RESPOOL_CMD_CONFIG_NTF: return "config";
	case RESPOOL_CMD_POOL_NEW_NTF: return "pool-new";
	case RESPOOL_CMD_POOL_DEL_NTF: return "pool-del";
	}
	return NULL;
}

/*
 * One line per event, the event and its pool first:
 *   config: pool fast: node local capacity 64M ... threshold 55% ...
 *   pool-new: pool fast id 1 dev /dev/respool-fast
 */
static int parse_event(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[RESPOOL_A_POOL_MAX + 1];
	struct monitor *m = arg;
	const char *name, *pool;
	bool lifecycle;
	char buf[40];
	size_t i;

	if (family_removed(msg)) {
		m->gone = true;
		return NL_STOP;
	}
	if (nlmsg_hdr(msg)->nlmsg_type != family ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, RESPOOL_A_POOL_MAX, NULL))
		return NL_SKIP;
	name = event_name(g->cmd);
	if (!name)
		return NL_SKIP;
	pool = tb[RESPOOL_A_POOL_POOL_NAME] ?
	       nla_get_string(tb[RESPOOL_A_POOL_POOL_NAME]) : DEFAULT_POOL;
	if (m->pool && strcmp(m->pool, pool))
		return NL_SKIP;
	lifecycle = g->cmd == RESPOOL_CMD_POOL_NEW_NTF ||
		    g->cmd == RESPOOL_CMD_POOL_DEL_NTF;

	open_json_object(NULL);
	if (opt_timestamp) {
		print_string(PRINT_FP, NULL, "%s ", fmt_now(buf, sizeof(buf)));
		print_uint(PRINT_JSON, "timestamp-ns", NULL,
			   now_ns(CLOCK_REALTIME));
	}
	print_string(PRINT_ANY, "event", "%s:", name);
	print_string(PRINT_ANY, "pool-name", " pool %s", pool);
	print_uint(lifecycle ? PRINT_ANY : PRINT_JSON, "pool-id", " id %" PRIu64,
		   get_uint(tb[RESPOOL_A_POOL_POOL_ID]));
	if (tb[RESPOOL_A_POOL_DEV_NAME])
		print_string(PRINT_ANY, "dev-name", " dev /dev/%s",
			     nla_get_string(tb[RESPOOL_A_POOL_DEV_NAME]));
	switch (g->cmd) {
	case RESPOOL_CMD_EXHAUSTED_NTF:
		print_size(PRINT_ANY, "bytes", ": full, a request of %s waits",
			   get_uint(tb[RESPOOL_A_POOL_BYTES]));
		break;
	case RESPOOL_CMD_RECOVERED_NTF:
		print_fp(": no request waits any more");
		break;
	case RESPOOL_CMD_PRESSURE_NTF:
		print_size(PRINT_ANY, "bytes", ": shrinker released %s",
			   get_uint(tb[RESPOOL_A_POOL_BYTES]));
		break;
	case RESPOOL_CMD_CONFIG_NTF:
		/* The new settings: what config-set can set. */
		print_fp(":");
		for (i = 0; i < NR_POOL; i++) {
			if (!(pool_attrs[i].flags & F_SET) ||
			    !tb[pool_attrs[i].attr])
				continue;
			print_fp(" %s ", pool_attrs[i].name);
			print_attr(PRINT_ANY, &pool_attrs[i], "%s",
				   get_uint(tb[pool_attrs[i].attr]));
		}
		break;
	}
	print_nl();
	close_json_object();
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
	struct monitor m = { 0 };
	struct nl_cb *cb;
	int grp, err;

	if (argc && !strcmp(argv[0], "pool")) {
		if (argc < 2)
			return usage_err("pool needs a NAME");
		m.pool = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc)
		return usage_err("'%s' is not 'pool NAME'", argv[0]);
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
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, parse_event, &m);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Let a script know it may trigger events now. */
	if (m.pool)
		print_fp("listening on respool/%s for pool %s\n",
			 RESPOOL_MCGRP_MONITOR, m.pool);
	else
		print_fp("listening on respool/%s\n", RESPOOL_MCGRP_MONITOR);
	fflush(stdout);
	stop = 0;
	while (!stop && !m.gone) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && err != -NLE_INTR && !stop && !m.gone) {
			fprintf(stderr, "%s: monitor: %s\n", prog, nl_geterror(err));
			nl_cb_put(cb);
			return 1;
		}
	}
	nl_cb_put(cb);
	if (m.gone) {
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
	print_fp("%-*s %9s %9s %9s %9s %9s %7s %7s %9s %9s %5s %9s\n",
		 opt_timestamp ? 26 : 8, "TIME", "CAPACITY", "IN-USE",
		 "RESERVE", "PCPU", "REQUESTED", "CLIENTS", "WAITERS",
		 "ALLOCS/S", "FREES/S", "HITS", "MAX-WAIT");
}

/* The rate of counter @name between two samples @dt seconds apart. */
static double rate(const struct pool_reply *cur, const struct pool_reply *prev,
		   const char *name, double dt)
{
	return (stat_of(cur, name) - stat_of(prev, name)) / dt;
}

/*
 * One watch sample: a line of the gauges and rates in text; in JSON
 * every stat under its attribute name, the counters' rates under
 * "per-second".
 */
static void print_sample(const struct pool_reply *cur,
			 const struct pool_reply *prev, double dt)
{
	static const char *const rated[] = {
		"allocs", "frees", "pcpu-hits", "reserve-hits", "fresh-allocs",
		"evictions", "waits", "wait-timeouts", "handoffs", "exports",
		"export-returns", "takebacks",
	};
	/* The gauges of the columns, in their order. */
	static const struct { int attr; const char *fmt; } cols[] = {
		{ RESPOOL_A_STATS_CAPACITY, " %9s" },
		{ RESPOOL_A_STATS_IN_USE_BYTES, " %9s" },
		{ RESPOOL_A_STATS_RESERVE_BYTES, " %9s" },
		{ RESPOOL_A_STATS_PCPU_BYTES, " %9s" },
		{ RESPOOL_A_STATS_REQUESTED_BYTES, " %9s" },
		{ RESPOOL_A_STATS_CLIENTS, " %7s" },
		{ RESPOOL_A_STATS_WAITERS, " %7s" },
	};
	uint64_t da = stat_of(cur, "allocs") - stat_of(prev, "allocs");
	uint64_t dh = stat_of(cur, "pcpu-hits") + stat_of(cur, "reserve-hits") -
		      stat_of(prev, "pcpu-hits") - stat_of(prev, "reserve-hits");
	char t[40], hits[16];
	size_t i, k;

	if (da)
		snprintf(hits, sizeof(hits), "%.0f%%", 100.0 * dh / da);
	else
		snprintf(hits, sizeof(hits), "-");
	open_json_object(NULL);
	print_fp("%-*s", opt_timestamp ? 26 : 8, fmt_now(t, sizeof(t)));
	print_uint(PRINT_JSON, "timestamp-ns", NULL, now_ns(CLOCK_REALTIME));
	print_uint(PRINT_JSON, "interval-ns", NULL, (uint64_t)(dt * 1e9));
	print_string(PRINT_JSON, "pool-name", NULL, cur->name);
	print_uint(PRINT_JSON, "pool-id", NULL, cur->id);
	/* The gauges of the columns, then in JSON every other stat. */
	for (k = 0; k < ARRAY_SIZE(cols); k++)
		for (i = 0; i < NR_STATS; i++)
			if (stats_attrs[i].attr == cols[k].attr)
				print_attr(PRINT_ANY, &stats_attrs[i],
					   cols[k].fmt, cur->st[i]);
	for (i = 0; i < NR_STATS; i++) {
		for (k = 0; k < ARRAY_SIZE(cols) &&
		     cols[k].attr != stats_attrs[i].attr; k++)
			;
		if (k == ARRAY_SIZE(cols))
			print_attr(PRINT_JSON, &stats_attrs[i], NULL, cur->st[i]);
	}
	if (opt_json)
		print_node_bytes(cur);
	print_fp(" %9.0f %9.0f %5s", rate(cur, prev, "allocs", dt),
		 rate(cur, prev, "frees", dt), hits);
	print_fp(" %9s", fmt_ns(t, sizeof(t), stat_of(cur, "max-wait-ns")));
	open_json_object("per-second");
	for (i = 0; i < ARRAY_SIZE(rated); i++)
		print_uint(PRINT_JSON, rated[i], NULL,
			   (uint64_t)(rate(cur, prev, rated[i], dt) + 0.5));
	close_json_object();
	print_nl();
	close_json_object();
	fflush(stdout);
}

/*
 * One line per sample under one header (again every 20 lines on a
 * terminal), in the manner of vmstat; -j: one JSON object per sample.
 */
static int do_watch(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	bool tty = isatty(STDOUT_FILENO) && !opt_json;
	double interval = 1.0, count = -1;
	struct pool_reply prev, cur;
	struct timespec t0, t1;
	const char *pool = NULL;
	long n;

	for (; argc; argc -= 2, argv += 2) {
		double *val;
		int ret;

		if (!strcmp(argv[0], "pool")) {
			if (argc < 2)
				return usage_err("pool needs a NAME");
			pool = argv[1];
			continue;
		}
		if (!strcmp(argv[0], "-i"))
			val = &interval;
		else if (!strcmp(argv[0], "-n"))
			val = &count;
		else
			return usage_err("unknown option '%s'", argv[0]);
		ret = watch_opt(argv[0], argc > 1 ? argv[1] : NULL, val);
		if (ret)
			return ret;
	}
	stop = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (get_pool(pool, &prev))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; !stop && (count < 0 || n < count); n++) {
		struct timespec ts = {
			.tv_sec = (time_t)interval,
			.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
		};
		double dt;

		nanosleep(&ts, NULL);
		if (stop)
			break;
		if (get_pool(pool, &cur))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		t0 = t1;
		if (n == 0 || (tty && n % 20 == 0))
			watch_header();
		print_sample(&cur, &prev, dt);
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
	bool alias;		/* a word of before named pools: "default" */
};

static const struct cmd cmds[] = {
	{ "pool", "show", do_pool_show, "[NAME]",
	  "every pool, or pool NAME: device, owner, settings", false },
	{ "pool", "add", do_pool_add, "NAME [KEY VALUE]...",
	  "create pool NAME and /dev/respool-NAME; CAP_SYS_ADMIN", false },
	{ "pool", "set", do_pool_set, "NAME KEY VALUE...",
	  "change settings, all or nothing; CAP_SYS_ADMIN", false },
	{ "pool", "del", do_pool_del, "NAME",
	  "delete a pool no file has open; CAP_SYS_ADMIN", false },
	{ "pool", "stats", do_pool_stats, "[NAME]",
	  "counters, gauges and wait histogram", false },
	{ "pool", "reset", do_pool_reset, "NAME",
	  "zero the counters; CAP_SYS_ADMIN", false },
	{ "pool", "prefill", do_pool_prefill, "NAME SIZE COUNT",
	  "put COUNT fresh SIZE blocks in the reserve; CAP_SYS_ADMIN", false },
	{ "pool", "drain", do_pool_drain, "NAME",
	  "release every free block; CAP_SYS_ADMIN", false },
	{ "client", "show", do_client_show, "[pool NAME] [ID]",
	  "open files and what they hold", false },
	{ "cpu", "show", do_cpu_show, "[pool NAME] [CPU]",
	  "per-CPU counters and cached blocks", false },
	{ "monitor", NULL, do_monitor, "[pool NAME]",
	  "print notifications until interrupted", false },
	{ "watch", NULL, do_watch, "[pool NAME] [-i SECONDS] [-n COUNT]",
	  "refreshing view of gauges and rates", false },
	/* The words of before named pools, for the default pool. */
	{ "stats", NULL, do_stats, "", "pool stats default", true },
	{ "cpus", NULL, do_cpus, "", "cpu show pool default", true },
	{ "clients", NULL, do_clients, "", "client show pool default", true },
	{ "config", "show", do_config_show, "", "the settings of pool default", true },
	{ "config", "set", do_config_set, "KEY VALUE...", "pool set default ...", true },
	{ "reset", NULL, do_reset, "", "pool reset default", true },
	{ "prefill", NULL, do_prefill, "SIZE COUNT", "pool prefill default ...", true },
	{ "drain", NULL, do_drain, "", "pool drain default", true },
};

#define NR_CMDS (int)ARRAY_SIZE(cmds)

static void usage_cmd(FILE *f, const struct cmd *c)
{
	char words[64];

	snprintf(words, sizeof(words), "%s%s%s %s", c->obj, c->sub ? " " : "",
		 c->sub ? c->sub : "", c->args);
	fprintf(f, "  %-36s %s\n", words, c->help);
}

/* The KEYs of pool add (@flag F_ADD) or pool set (F_SET), folded. */
static void usage_keys(FILE *f, const char *what, unsigned int flag)
{
	int col = fprintf(f, "%s", what);
	size_t i;

	for (i = 0; i < NR_POOL; i++) {
		if (!(pool_attrs[i].flags & flag))
			continue;
		if (col + 1 + strlen(pool_attrs[i].name) > 78)
			col = fprintf(f, "\n   ");
		col += fprintf(f, " %s", pool_attrs[i].name);
	}
	fputc('\n', f);
}

static void usage(FILE *f, const char *obj)
{
	bool aliases = false, keys = false;
	int i;

	fprintf(f, "usage: respoolctl [-j] [-p] [-t] [-V] OBJECT [COMMAND] [ARGS]\n"
		"       respoolctl [-j] [-p] [-f] -b FILE\n"
		"  -j  JSON output     -p  pretty-print JSON     -h  help\n"
		"  -t  time stamps on monitor and watch\n"
		"  -b  run the commands of FILE (- for stdin), one a line; stop at\n"
		"      the first that fails, or with -f go on\n"
		"  -V  versions of respoolctl, librespool and the loaded module\n"
		"sizes take K/M/G/T suffixes and decimals (1.5M)\n\n");
	for (i = 0; i < NR_CMDS; i++) {
		if (obj && strcmp(obj, cmds[i].obj))
			continue;
		if (cmds[i].alias && !aliases && !obj) {
			fprintf(f, "\nfor the default pool, as before named pools:\n");
			aliases = true;
		}
		usage_cmd(f, &cmds[i]);
		keys |= !strcmp(cmds[i].obj, "pool") || !strcmp(cmds[i].obj, "config");
	}
	if (keys) {
		fputc('\n', f);
		usage_keys(f, "KEY of pool add:", F_ADD);
		usage_keys(f, "KEY of pool set, config set:", F_SET);
	}
}

/* Ours, the library's and the loaded module's version: one line, exit 0. */
static int print_version(void)
{
	char mod[RESPOOL_VERSION_LEN];
	int ret = respool_module_version(mod, sizeof(mod));

	printf("respoolctl %s (librespool %s, module %s)\n", RESPOOLCTL_VERSION,
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

/*
 * The object @word names, by unique prefix; when it is a prefix of
 * several, the one that is not an alias wins ("cl" is client, "p" pool).
 * Return: its index in @objs, -1 none, -2 ambiguous.
 */
static int match_object(const char *word, const char **objs, int n)
{
	const char *prim[NR_CMDS];
	int idx[NR_CMDS], np = 0, i, j, k;

	k = match_word(word, objs, n);
	if (k != -2)
		return k;
	for (i = 0; i < n; i++)
		for (j = 0; j < NR_CMDS; j++)
			if (!strcmp(cmds[j].obj, objs[i]) && !cmds[j].alias) {
				idx[np] = i;
				prim[np++] = objs[i];
				break;
			}
	k = match_word(word, prim, np);
	return k < 0 ? -2 : idx[k];
}

/* One command line, OBJECT [COMMAND] [ARGS]: its exit status. */
static int run_cmd(int argc, char **argv)
{
	const char *objs[NR_CMDS], *subs[NR_CMDS];
	const struct cmd *c = NULL;
	int nobj = 0, nsub = 0, i, k, ret;
	const char *obj;

	if (is_help(argv[0])) {
		usage(stdout, argc > 1 ? argv[1] : NULL);
		return 0;
	}
	/* Object by unique prefix, then its command if it has several. */
	for (i = 0; i < NR_CMDS; i++)
		if (!nobj || strcmp(objs[nobj - 1], cmds[i].obj))
			objs[nobj++] = cmds[i].obj;
	k = match_object(argv[0], objs, nobj);
	if (k < 0) {
		fprintf(stderr, "%s: %s object '%s'; try 'respoolctl help'\n", prog,
			k == -2 ? "ambiguous" : "unknown", argv[0]);
		return EXIT_USAGE;
	}
	obj = objs[k];
	argc--;
	argv++;
	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].obj, obj))
			subs[nsub++] = cmds[i].sub;
	if (argc && is_help(argv[0])) {
		usage(stdout, obj);
		return 0;
	}
	if (subs[0]) {
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
	}

	snprintf(cur_cmd, sizeof(cur_cmd), "%s%s%s", c->obj, c->sub ? " " : "",
		 c->sub ? c->sub : "");
	ret = c->fn(argc, argv);
	if (ret == EXIT_USAGE) {
		fprintf(stderr, "usage:\n");
		usage_cmd(stderr, c);
	}
	return ret;
}

#define BATCH_WORDS 64

/*
 * -b FILE, as ip -batch: one command a line, words apart by blanks, "#"
 * starts a comment. Errors say "FILE:LINE: ..."; the first failing line
 * ends the batch with status 1, unless @force (-f): then every line runs
 * and the status is 1 when any failed.
 */
static int run_batch(const char *file, bool force)
{
	bool is_stdin = !strcmp(file, "-");
	FILE *f = is_stdin ? stdin : fopen(file, "r");
	char *line = NULL, where[PATH_MAX + 24];
	int lineno = 0, failed = 0;
	size_t cap = 0;

	if (!f) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, file,
			strerror(errno));
		return 1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *argv[BATCH_WORDS + 1], *w, *save = NULL;
		int argc = 0, ret;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", is_stdin ? "<stdin>" : file,
			 lineno);
		for (w = strtok_r(line, " \t\r\n", &save); w && *w != '#';
		     w = strtok_r(NULL, " \t\r\n", &save)) {
			if (argc == BATCH_WORDS)
				break;
			argv[argc++] = w;
		}
		if (!argc)
			continue;
		argv[argc] = NULL;
		prog = where;
		if (w && *w != '#') {
			fprintf(stderr, "%s: more than %d words\n", prog,
				BATCH_WORDS);
			ret = 1;
		} else {
			ret = run_cmd(argc, argv);
		}
		prog = "respoolctl";
		if (ret) {
			failed = 1;
			if (!force)
				break;
		}
	}
	free(line);
	if (!is_stdin)
		fclose(f);
	return failed;
}

/* -b's FILE: the rest of @arg after the option letter, or the next word. */
static const char *batch_file(const char *rest, int *argc, char ***argv)
{
	if (*rest)
		return rest;
	if (*argc < 2)
		return NULL;
	(*argc)--;
	(*argv)++;
	return (*argv)[0];
}

int main(int argc, char **argv)
{
	const char *batch = NULL;
	bool force = false;
	int ret;

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
		if (!strcmp(argv[0], "--force")) {
			force = true;
			continue;
		}
		if (!strcmp(argv[0], "--batch")) {
			batch = batch_file("", &argc, &argv);
			if (!batch)
				goto no_file;
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
			} else if (*o == 'f') {
				force = true;
			} else if (*o == 'b') {
				batch = batch_file(o + 1, &argc, &argv);
				if (!batch)
					goto no_file;
				break;
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
	if (batch && argc) {
		fprintf(stderr, "%s: -b takes its commands from %s, not '%s'\n",
			prog, batch, argv[0]);
		return EXIT_USAGE;
	}
	if (batch)
		ret = run_batch(batch, force);
	else if (argc)
		ret = run_cmd(argc, argv);
	else
		goto no_cmd;
	if (sk)
		nl_socket_free(sk);
	return ret;

no_file:
	fprintf(stderr, "%s: -b needs a FILE (- for stdin)\n", prog);
	return EXIT_USAGE;
no_cmd:
	usage(stderr, NULL);
	return EXIT_USAGE;
}
