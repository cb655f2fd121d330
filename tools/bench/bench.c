// SPDX-License-Identifier: GPL-2.0
/*
 * bench - userspace cost of respool's ALLOC+FREE paths next to their floor
 * (a bare unknown-ioctl round trip on the same file) and next to the
 * alternatives a user would pick instead (anonymous mmap+munmap, malloc).
 *
 * Meant to run as root inside the test VM (tools/bench/run.sh), where it
 * reloads $RESPOOL_KO with the parameters each phase needs:
 *
 *   pcpu     default parameters: a free of size S followed by an alloc of
 *            size S on the same CPU is served from the per-CPU cache
 *   reserve  pcpu_cache_blocks=0: the same pair goes through the reserve
 *   fresh    pcpu_cache_blocks=0 reserve_max=0: nothing is kept, every
 *            alloc takes fresh (zeroed) pages from the page allocator
 *
 * Each phase checks in RESPOOL_IOC_STATS that its pairs were served the way
 * it claims (pcpu_hits, reserve_hits, fresh_allocs).
 *
 * Timing: under TCG the clock is coarse and costly to read, so every sample
 * is one batch of --batch operations timed with CLOCK_MONOTONIC and divided
 * by the batch size. The median and p99 are over those batch means (the
 * p99 of a batch mean understates a single operation's tail). Absolute
 * nanoseconds from an emulated guest mean little; compare ratios measured
 * in the same run.
 *
 * Output: human-readable lines, and one line per result that a script can
 * read:
 *   bench: OP size=BYTES median_ns=N p99_ns=N batches=N [verified=...]
 *   bench: ratio NAME size=BYTES value=X [goal=Y met=yes|no]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/respool.h>
#include "librespool.h"

#define BENCH_BARE_IOCTL	_IO(RESPOOL_IOC_MAGIC, 0x3f)
#define PAIR_GOAL		1.3

static unsigned int opt_batch = 32;
static unsigned int opt_budget_ms = 300;
static unsigned int opt_min_batches = 15;
static unsigned int opt_max_batches = 4001;
static bool opt_reload = true;
static long page_size;

struct ctx {
	int fd;
	struct respool *pool;
	size_t size;
	bool touch;
};

typedef void (*op_fn)(struct ctx *c);

struct result {
	double median;
	double p99;
	unsigned int batches;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void touch_pages(void *p, size_t size)
{
	volatile char *c = p;
	size_t i;

	for (i = 0; i < size; i += page_size)
		c[i] = 1;
}

/* --- the operations, one iteration each -------------------------------- */

static void op_bare(struct ctx *c)
{
	if (ioctl(c->fd, BENCH_BARE_IOCTL) != -1 || errno != ENOTTY)
		die("bare ioctl did not fail with ENOTTY");
}

static void op_pair(struct ctx *c)
{
	struct respool_alloc a = { .size = c->size };
	struct respool_free f;

	if (ioctl(c->fd, RESPOOL_IOC_ALLOC, &a))
		die("RESPOOL_IOC_ALLOC");
	f = (struct respool_free){ .handle = a.handle };
	if (ioctl(c->fd, RESPOOL_IOC_FREE, &f))
		die("RESPOOL_IOC_FREE");
}

static void op_lib(struct ctx *c)
{
	void *p = respool_alloc(c->pool, c->size, 0, 0);

	if (!p)
		die("respool_alloc");
	if (c->touch)
		touch_pages(p, c->size);
	errno = -respool_free(c->pool, p);
	if (errno)
		die("respool_free");
}

static void op_mmap(struct ctx *c)
{
	void *p = mmap(NULL, c->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	if (c->touch)
		touch_pages(p, c->size);
	if (munmap(p, c->size))
		die("munmap");
}

static void op_malloc(struct ctx *c)
{
	void *p = malloc(c->size);

	if (!p)
		die("malloc");
	if (c->touch)
		touch_pages(p, c->size);
	/* Keep the compiler from pairing malloc and free away. */
	__asm__ volatile("" : : "r"(p) : "memory");
	free(p);
}

/* --- measuring --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct result measure(op_fn fn, struct ctx *c)
{
	static double *samples;
	struct result r = { 0 };
	uint64_t start, t0, t1;
	unsigned int n = 0, i;

	if (!samples) {
		samples = calloc(opt_max_batches, sizeof(*samples));
		if (!samples)
			die("calloc");
	}
	/* Warm up: caches, page tables, the pool's own state. */
	for (i = 0; i < opt_batch; i++)
		fn(c);

	start = now_ns();
	while (n < opt_max_batches) {
		t0 = now_ns();
		for (i = 0; i < opt_batch; i++)
			fn(c);
		t1 = now_ns();
		samples[n++] = (double)(t1 - t0) / opt_batch;
		if (n >= opt_min_batches &&
		    t1 - start >= (uint64_t)opt_budget_ms * 1000000)
			break;
	}
	qsort(samples, n, sizeof(*samples), cmp_double);
	r.batches = n;
	r.median = n % 2 ? samples[n / 2] :
		   (samples[n / 2 - 1] + samples[n / 2]) / 2;
	i = (unsigned int)(0.99 * n + 0.999999);
	r.p99 = samples[(i ? i : 1) - 1];
	return r;
}

static void print_result(const char *op, size_t size, struct result r,
			 const char *verified)
{
	printf("bench: %s size=%zu median_ns=%.0f p99_ns=%.0f batches=%u%s%s\n",
	       op, size, r.median, r.p99, r.batches,
	       verified ? " verified=" : "", verified ? verified : "");
	fflush(stdout);
}

static void print_ratio(const char *name, size_t size, double value,
			double goal)
{
	if (goal > 0)
		printf("bench: ratio %s size=%zu value=%.2f goal=%.2f met=%s\n",
		       name, size, value, goal, value <= goal ? "yes" : "no");
	else
		printf("bench: ratio %s size=%zu value=%.2f\n",
		       name, size, value);
}

static void stats(int fd, struct respool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	if (ioctl(fd, RESPOOL_IOC_STATS, st))
		die("RESPOOL_IOC_STATS");
}

/* --- the module -------------------------------------------------------- */

static int unload(void)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (!syscall(__NR_delete_module, "respool", O_NONBLOCK) ||
		    errno == ENOENT)
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -1;
		usleep(10000);
	}
	return -1;
}

/* Reload $RESPOOL_KO with @params; false when that cannot be done here. */
static bool reload(const char *params)
{
	const char *ko = getenv("RESPOOL_KO");
	int fd, ret;

	if (!opt_reload || !ko || geteuid())
		return false;
	if (unload())
		die("rmmod respool");
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(ko);
	ret = syscall(__NR_finit_module, fd, params, 0);
	close(fd);
	if (ret)
		die("insmod respool");
	return true;
}

enum phase { PHASE_PCPU, PHASE_RESERVE, PHASE_FRESH };

static const struct {
	const char *name;
	const char *params;
	const char *op;
	const char *counter;
} phases[] = {
	[PHASE_PCPU] = { "pcpu", "", "pcpu_hit", "pcpu_hits" },
	[PHASE_RESERVE] = { "reserve", "pcpu_cache_blocks=0", "reserve_hit",
			    "reserve_hits" },
	[PHASE_FRESH] = { "fresh", "pcpu_cache_blocks=0 reserve_max=0",
			  "fresh_alloc", "fresh_allocs" },
};

static uint64_t counter(const struct respool_stats *st, enum phase ph)
{
	switch (ph) {
	case PHASE_PCPU:
		return st->pcpu_hits;
	case PHASE_RESERVE:
		return st->reserve_hits;
	default:
		return st->fresh_allocs;
	}
}

#define MAX_SIZES 16

static size_t sizes[MAX_SIZES] = { 4096, 65536, 1048576 };
static unsigned int nr_sizes = 3;
/* Results kept for the table at the end: [size][column]. */
enum { COL_BARE, COL_PCPU, COL_RESERVE, COL_FRESH, COL_LIB, COL_LIB_T,
       COL_MMAP, COL_MMAP_T, COL_MALLOC, COL_MALLOC_T, NR_COLS };
static const char *const col_names[NR_COLS] = {
	"bare", "pcpu", "reserve", "fresh", "lib", "lib+t",
	"mmap", "mmap+t", "malloc", "malloc+t",
};
static double table[MAX_SIZES][NR_COLS];

static void run_phase(enum phase ph)
{
	struct ctx c = { 0 };
	struct respool_stats before, after;
	unsigned int s;
	bool reloaded;

	reloaded = reload(phases[ph].params);
	printf("\n== phase %s: %s ==\n", phases[ph].name,
	       reloaded ? (*phases[ph].params ? phases[ph].params :
			   "default parameters") :
	       "module as loaded (no reload: not root or no RESPOOL_KO)");
	c.pool = respool_open();
	if (!c.pool)
		die("open /dev/respool");
	c.fd = respool_fd(c.pool);

	for (s = 0; s < nr_sizes; s++) {
		char verified[96];
		struct result bare, pair;
		uint64_t allocs, hits;

		c.size = sizes[s];
		c.touch = false;
		bare = measure(op_bare, &c);
		print_result("bare_ioctl", c.size, bare, NULL);

		stats(c.fd, &before);
		pair = measure(op_pair, &c);
		stats(c.fd, &after);
		allocs = after.allocs - before.allocs;
		hits = counter(&after, ph) - counter(&before, ph);
		snprintf(verified, sizeof(verified), "%s:%llu/%llu%s",
			 phases[ph].counter, (unsigned long long)hits,
			 (unsigned long long)allocs,
			 hits * 100 >= allocs * 99 ? "" : "(MISMATCH)");
		print_result(phases[ph].op, c.size, pair, verified);
		print_ratio(ph == PHASE_PCPU ? "pcpu_hit/2xbare" :
			    ph == PHASE_RESERVE ? "reserve_hit/2xbare" :
			    "fresh_alloc/2xbare", c.size,
			    pair.median / (2 * bare.median),
			    ph == PHASE_PCPU ? PAIR_GOAL : 0);
		if (ph == PHASE_PCPU)
			table[s][COL_BARE] = bare.median;
		table[s][COL_PCPU + ph] = pair.median;

		if (ph != PHASE_PCPU)
			continue;
		/* The alternatives, measured once, in the pcpu phase. */
		for (c.touch = false;; c.touch = true) {
			struct result lib, mm, ml;
			int t = c.touch;

			lib = measure(op_lib, &c);
			print_result(t ? "lib_cycle_touch" : "lib_cycle",
				     c.size, lib, NULL);
			mm = measure(op_mmap, &c);
			print_result(t ? "anon_mmap_touch" : "anon_mmap",
				     c.size, mm, NULL);
			ml = measure(op_malloc, &c);
			print_result(t ? "malloc_touch" : "malloc",
				     c.size, ml, NULL);
			print_ratio(t ? "lib_cycle_touch/anon_mmap_touch" :
				    "lib_cycle/anon_mmap", c.size,
				    lib.median / mm.median, 0);
			table[s][COL_LIB + t] = lib.median;
			table[s][COL_MMAP + t] = mm.median;
			table[s][COL_MALLOC + t] = ml.median;
			if (c.touch)
				break;
		}
		print_ratio("pcpu_hit/anon_mmap", c.size,
			    pair.median / table[s][COL_MMAP], 0);
	}
	respool_close(c.pool);
}

static void print_table(void)
{
	unsigned int s, k;

	printf("\nmedian ns per operation (pair = ALLOC+FREE ioctls; "
	       "lib = respool_alloc+respool_free incl. mmap/munmap; "
	       "+t = every page touched)\n");
	printf("%8s", "size");
	for (k = 0; k < NR_COLS; k++)
		printf(" %9s", col_names[k]);
	printf("\n");
	for (s = 0; s < nr_sizes; s++) {
		printf("%8zu", sizes[s]);
		for (k = 0; k < NR_COLS; k++)
			printf(" %9.0f", table[s][k]);
		printf("\n");
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench [--sizes S,S,...] [--batch N] [--budget-ms MS]\n"
		"             [--phases pcpu,reserve,fresh] [--no-reload]\n"
		"Runs as root in the test VM (tools/bench/run.sh); reloads\n"
		"$RESPOOL_KO per phase unless --no-reload.\n");
}

static void parse_sizes(char *arg)
{
	char *tok, *end;

	nr_sizes = 0;
	for (tok = strtok(arg, ","); tok && nr_sizes < MAX_SIZES;
	     tok = strtok(NULL, ",")) {
		unsigned long long v = strtoull(tok, &end, 0);

		if (*end == 'K' || *end == 'k')
			v <<= 10;
		else if (*end == 'M' || *end == 'm')
			v <<= 20;
		if (!v) {
			usage(stderr);
			exit(2);
		}
		sizes[nr_sizes++] = v;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "budget-ms", required_argument, NULL, 't' },
		{ "phases", required_argument, NULL, 'p' },
		{ "no-reload", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *phase_list = "pcpu,reserve,fresh";
	struct utsname u;
	cpu_set_t cpus;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:b:t:p:nh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 's':
			parse_sizes(optarg);
			break;
		case 'b':
			opt_batch = strtoul(optarg, NULL, 0) ?: 1;
			break;
		case 't':
			opt_budget_ms = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			phase_list = optarg;
			break;
		case 'n':
			opt_reload = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* One CPU for the whole run: per-CPU hits need alloc and free there. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		perror("bench: sched_setaffinity (results may mix CPUs)");

	uname(&u);
	printf("bench: kernel=%s cpus=%ld batch=%u budget_ms=%u\n", u.release,
	       sysconf(_SC_NPROCESSORS_ONLN), opt_batch, opt_budget_ms);

	if (strstr(phase_list, "pcpu"))
		run_phase(PHASE_PCPU);
	if (strstr(phase_list, "reserve"))
		run_phase(PHASE_RESERVE);
	if (strstr(phase_list, "fresh"))
		run_phase(PHASE_FRESH);
	/* Leave the module as a fresh load with its defaults. */
	reload("");
	print_table();
	return 0;
}
