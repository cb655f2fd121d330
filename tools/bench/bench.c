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
 * it claims (pcpu_hits, reserve_hits, fresh_allocs; zeroed_bytes for the
 * cross-client pairs). Every pair is measured bare (ALLOC+FREE) and with
 * the block mapped, every page touched and unmapped ("_touch"). The pcpu
 * phase also measures, for each size: cross-client reuse (two open files
 * taking turns, so every ALLOC zeroes), anonymous mmap+munmap, malloc,
 * librespool cycles and the dma-buf system heap (alloc, mmap, munmap,
 * close; skipped with a reason where /dev/dma_heap/system is missing), and
 * the bare ioctl, the per-CPU hit pair, mmap and malloc on 2 threads (one
 * per CPU, each its own open file) next to a pure CPU loop (the control:
 * how much of two CPUs the VM gets). The operations a target ratio
 * compares are measured interleaved, batch by batch (measure_set()).
 *
 *   share    default parameters: a producer passes buffers to a consumer
 *            process as fds over a unix socket (SCM_RIGHTS), one buffer
 *            per message, every page written and read: respool EXPORT
 *            next to a fresh dma-buf system heap buffer and a memfd; the
 *            message cost (batch means, median and p99) and the ratios
 *            (goal of the export issue: respool <= 0.5 x the heap at 64K
 *            and 1M; reported, never asserted)
 *   handoff  capacity=4096: Q waiters queued (Q+1 threads on CPU 0), the
 *            time from a FREE to the head waiter's return, Q = 1..1000,
 *            next to the control, an eventfd baton passed round Q+1 threads;
 *            under SCHED_OTHER and SCHED_FIFO (--handoff-sched). The end to
 *            end view, mostly the scheduler's; the pool's own handoff cost
 *            vs Q is the in-kernel "khandoff" (tools/bench/kmod)
 *   fairness capacity=16K: 32 processes ALLOC, yield, FREE for 3 s; wait
 *            p50/p99/max, Jain's index of their allocation counts, and the
 *            worst max wait against the median max wait
 *   isolation two pools made with pool-new (netlink): the p50 and p99 wait
 *            of ALLOCs in pool A (one block, 2 threads handing it off)
 *            alone and while 3 threads saturate pool B; the controls:
 *            the same 3 threads in pool A itself, and on a mutex (no
 *            pool: the emulator's share); the ratios to alone (goal: B's
 *            load leaves A's waits as they were)
 *   cycle    default parameters (issue 17): alloc, one word written per
 *            page, free, on 1 and 2 threads: librespool with its fast
 *            path (a magazine hit), with RESPOOL_FASTPATH=0 (ALLOC, mmap,
 *            munmap, FREE), malloc/free and anonymous mmap side by side;
 *            goals fast/malloc <= 1, today/fast >= 50 at 4 KiB
 *   takeback capacity = 4 blocks, all held by client A: client B's ALLOC
 *            served by A's FREE (a handoff), by taking back the block A
 *            keeps, or with the block already free (the floor); goal:
 *            take-back within 2x of the handoff
 *
 * Timing: under TCG the clock is coarse and costly to read, so every sample
 * is one batch of --batch operations timed with CLOCK_MONOTONIC and divided
 * by the batch size. The median and p99 are over those batch means (the
 * p99 of a batch mean understates a single operation's tail). Absolute
 * nanoseconds from an emulated guest mean little; compare ratios measured
 * in the same run.
 *
 * Output: human-readable lines, and one line per result that a script can
 * read (tools/bench/run.sh turns them into CSV, tables and plots):
 *   bench: OP size=BYTES median_ns=N p99_ns=N batches=N threads=T
 *          ops_per_s=N [verified=...]
 *   bench: ratio NAME size=BYTES value=X [goal=[>=]Y met=yes|no]
 *   bench-csv: ...   the table of medians as CSV
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/respool.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
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
	int fd2;		/* the other client of the cross-client pairs */
	int heap_fd;		/* /dev/dma_heap/system, or -1 */
	struct respool *pool;
	struct respool *pool2;
	size_t size;
	bool touch;
	bool flip;
};

typedef void (*op_fn)(struct ctx *c);

struct result {
	double median;
	double p99;
	unsigned int batches;
	double ops_per_s;	/* all threads together */
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

static void op_mmap(struct ctx *c);

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

/*
 * BATCH pairs in two syscalls: RESPOOL_IOC_ALLOC_BATCH, then
 * RESPOOL_IOC_FREE_BATCH of the same handles. The result is divided by
 * BATCH, so it compares with op_pair.
 */
#define BATCH	16

static void op_pair_batch(struct ctx *c)
{
	struct respool_alloc a[BATCH];
	struct respool_alloc_batch ab = {
		.allocs = (uintptr_t)a, .count = BATCH,
	};
	__u64 handles[BATCH];
	struct respool_free_batch fb = {
		.handles = (uintptr_t)handles, .count = BATCH,
	};
	unsigned int i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < BATCH; i++)
		a[i].size = c->size;
	if (ioctl(c->fd, RESPOOL_IOC_ALLOC_BATCH, &ab) || ab.done != BATCH)
		die("RESPOOL_IOC_ALLOC_BATCH");
	for (i = 0; i < BATCH; i++)
		handles[i] = a[i].handle;
	if (ioctl(c->fd, RESPOOL_IOC_FREE_BATCH, &fb) || fb.done != BATCH)
		die("RESPOOL_IOC_FREE_BATCH");
}

/* ALLOC, mmap the block, touch every page, munmap, FREE: raw ioctls. */
static void pair_touch_fd(struct ctx *c, int fd)
{
	struct respool_alloc a = { .size = c->size };
	struct respool_free f;
	void *p;

	if (ioctl(fd, RESPOOL_IOC_ALLOC, &a))
		die("RESPOOL_IOC_ALLOC");
	p = mmap(NULL, a.block_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a.offset);
	if (p == MAP_FAILED)
		die("mmap of a block");
	touch_pages(p, c->size);
	if (munmap(p, a.block_size))
		die("munmap of a block");
	f = (struct respool_free){ .handle = a.handle };
	if (ioctl(fd, RESPOOL_IOC_FREE, &f))
		die("RESPOOL_IOC_FREE");
}

static void op_pair_touch(struct ctx *c)
{
	pair_touch_fd(c, c->fd);
}

/*
 * Cross-client reuse: two open files take turns, so every ALLOC gets the
 * block the other file freed last, from this CPU's cache, and the kernel
 * zeroes it. One call is one ALLOC+FREE pair.
 */
static void op_cross(struct ctx *c)
{
	int fd = c->flip ? c->fd2 : c->fd;
	struct respool_alloc a = { .size = c->size };
	struct respool_free f;

	c->flip = !c->flip;
	if (c->touch) {
		pair_touch_fd(c, fd);
		return;
	}
	if (ioctl(fd, RESPOOL_IOC_ALLOC, &a))
		die("RESPOOL_IOC_ALLOC");
	f = (struct respool_free){ .handle = a.handle };
	if (ioctl(fd, RESPOOL_IOC_FREE, &f))
		die("RESPOOL_IOC_FREE");
}

/* dma-buf system heap: allocate, mmap, (touch), munmap, close. */
static void op_dmaheap(struct ctx *c)
{
	struct dma_heap_allocation_data d = {
		.len = c->size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	void *p;

	if (ioctl(c->heap_fd, DMA_HEAP_IOCTL_ALLOC, &d))
		die("DMA_HEAP_IOCTL_ALLOC");
	p = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, 0);
	if (p == MAP_FAILED)
		die("mmap of a dma-buf");
	if (c->touch)
		touch_pages(p, c->size);
	if (munmap(p, c->size))
		die("munmap of a dma-buf");
	close(d.fd);
}

/* Pure CPU work: how well the VM runs two threads at once at all. */
static void op_spin(struct ctx *c)
{
	volatile unsigned int x = 0;
	unsigned int i;

	for (i = 0; i < 1000; i++)
		x += i;
	(void)c;
}

static void op_mmap_touch(struct ctx *c)
{
	bool t = c->touch;

	c->touch = true;
	op_mmap(c);
	c->touch = t;
}

static void op_dmaheap_touch(struct ctx *c)
{
	bool t = c->touch;

	c->touch = true;
	op_dmaheap(c);
	c->touch = t;
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
	r.ops_per_s = (double)n * opt_batch * 1e9 / (double)(t1 - start);
	qsort(samples, n, sizeof(*samples), cmp_double);
	r.batches = n;
	r.median = n % 2 ? samples[n / 2] :
		   (samples[n / 2 - 1] + samples[n / 2]) / 2;
	i = (unsigned int)(0.99 * n + 0.999999);
	r.p99 = samples[(i ? i : 1) - 1];
	return r;
}

/*
 * Several operations measured in rounds, one batch of each in turn, so
 * that the ones a ratio compares see the same moments of a noisy host
 * (TCG on shared cores drifts by 2x within seconds).
 */
static void measure_set(const op_fn *fns, unsigned int nf, struct ctx *c,
			struct result *res)
{
	double *samples = calloc((size_t)nf * opt_max_batches, sizeof(double));
	double *busy = calloc(nf, sizeof(double));
	uint64_t start, t0, t1 = 0;
	unsigned int n = 0, i, f;

	if (!samples || !busy)
		die("calloc");
	for (f = 0; f < nf; f++)
		for (i = 0; i < opt_batch; i++)
			fns[f](c);
	start = now_ns();
	while (n < opt_max_batches) {
		for (f = 0; f < nf; f++) {
			t0 = now_ns();
			for (i = 0; i < opt_batch; i++)
				fns[f](c);
			t1 = now_ns();
			samples[(size_t)f * opt_max_batches + n] =
				(double)(t1 - t0) / opt_batch;
			busy[f] += (double)(t1 - t0);
		}
		n++;
		if (n >= opt_min_batches &&
		    t1 - start >= (uint64_t)opt_budget_ms * nf * 1000000)
			break;
	}
	for (f = 0; f < nf; f++) {
		double *x = samples + (size_t)f * opt_max_batches;

		qsort(x, n, sizeof(*x), cmp_double);
		res[f].batches = n;
		res[f].median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
		i = (unsigned int)(0.99 * n + 0.999999);
		res[f].p99 = x[(i ? i : 1) - 1];
		res[f].ops_per_s = busy[f] > 0 ? n * opt_batch * 1e9 / busy[f] : 0;
	}
	free(samples);
	free(busy);
}

static void print_result_t(const char *op, size_t size, struct result r,
			   unsigned int threads, const char *verified)
{
	printf("bench: %s size=%zu median_ns=%.0f p99_ns=%.0f batches=%u "
	       "threads=%u ops_per_s=%.0f%s%s\n",
	       op, size, r.median, r.p99, r.batches, threads, r.ops_per_s,
	       verified ? " verified=" : "", verified ? verified : "");
	fflush(stdout);
}

static void print_result(const char *op, size_t size, struct result r,
			 const char *verified)
{
	print_result_t(op, size, r, 1, verified);
}

/* met when value <= goal; with ge, when value >= goal. */
static void print_ratio_ge(const char *name, size_t size, double value,
			   double goal, bool ge)
{
	if (goal > 0)
		printf("bench: ratio %s size=%zu value=%.2f goal=%s%.2f met=%s\n",
		       name, size, value, ge ? ">=" : "", goal,
		       (ge ? value >= goal : value <= goal) ? "yes" : "no");
	else
		printf("bench: ratio %s size=%zu value=%.2f\n",
		       name, size, value);
}

static void print_ratio(const char *name, size_t size, double value,
			double goal)
{
	print_ratio_ge(name, size, value, goal, false);
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
#define MAX_THREADS 2

static size_t sizes[MAX_SIZES] = { 4096, 65536, 1048576 };
static unsigned int nr_sizes = 3;
static bool opt_mt = true;
static unsigned int opt_handoff_max = 1000;
static unsigned int opt_fair_procs = 32;
static unsigned int opt_fair_ms = 3000;
static const char *heap_skip;	/* why the dma-buf heap is not measured */

/* Results kept for the table at the end: [size][column]. */
enum { COL_BARE, COL_PCPU, COL_PCPU_T, COL_RESERVE, COL_RESERVE_T, COL_FRESH,
       COL_FRESH_T, COL_CROSS, COL_CROSS_T, COL_LIB, COL_LIB_T, COL_MMAP,
       COL_MMAP_T, COL_MALLOC, COL_MALLOC_T, COL_HEAP, COL_HEAP_T,
       COL_BARE_2T, COL_PCPU_2T, COL_MMAP_2T, COL_MALLOC_2T, NR_COLS };
static const char *const col_names[NR_COLS] = {
	"bare", "pcpu", "pcpu+t", "reserve", "reserve+t", "fresh", "fresh+t",
	"cross", "cross+t", "lib", "lib+t", "mmap", "mmap+t", "malloc",
	"malloc+t", "dmaheap", "dmaheap+t", "bare/2T", "pcpu/2T", "mmap/2T",
	"malloc/2T",
};
static double table[MAX_SIZES][NR_COLS];

/* --- two threads, one per CPU, each with its own open file ------------- */

struct mt_arg {
	op_fn fn;
	struct ctx c;
	int cpu;
	pthread_barrier_t *bar;
	double *samples;
	unsigned int n;
	uint64_t start, end;
};

static void *mt_thread(void *p)
{
	struct mt_arg *a = p;
	cpu_set_t cpus;
	unsigned int i;
	uint64_t t0, t1;

	CPU_ZERO(&cpus);
	CPU_SET(a->cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	for (i = 0; i < opt_batch; i++)
		a->fn(&a->c);
	pthread_barrier_wait(a->bar);
	a->start = t1 = now_ns();
	while (a->n < opt_max_batches) {
		t0 = now_ns();
		for (i = 0; i < opt_batch; i++)
			a->fn(&a->c);
		t1 = now_ns();
		a->samples[a->n++] = (double)(t1 - t0) / opt_batch;
		if (a->n >= opt_min_batches &&
		    t1 - a->start >= (uint64_t)opt_budget_ms * 1000000)
			break;
	}
	a->end = t1;
	return NULL;
}

static struct result measure_mt(op_fn fn, const struct ctx *proto,
				unsigned int nthreads)
{
	struct mt_arg a[MAX_THREADS] = { 0 };
	pthread_t th[MAX_THREADS];
	pthread_barrier_t bar;
	struct result r = { 0 };
	uint64_t start = UINT64_MAX, end = 0;
	double *all;
	unsigned int i, n = 0;

	all = calloc((size_t)opt_max_batches * nthreads, sizeof(*all));
	if (!all)
		die("calloc");
	pthread_barrier_init(&bar, NULL, nthreads);
	for (i = 0; i < nthreads; i++) {
		a[i].fn = fn;
		a[i].c = *proto;
		a[i].cpu = i;
		a[i].bar = &bar;
		a[i].samples = all + (size_t)i * opt_max_batches;
		a[i].c.pool = respool_open();
		if (!a[i].c.pool)
			die("open /dev/respool");
		a[i].c.fd = respool_fd(a[i].c.pool);
		if (pthread_create(&th[i], NULL, mt_thread, &a[i]))
			die("pthread_create");
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		respool_close(a[i].c.pool);
		start = a[i].start < start ? a[i].start : start;
		end = a[i].end > end ? a[i].end : end;
		memmove(all + n, a[i].samples, a[i].n * sizeof(*all));
		n += a[i].n;
	}
	pthread_barrier_destroy(&bar);
	qsort(all, n, sizeof(*all), cmp_double);
	r.batches = n;
	r.median = n % 2 ? all[n / 2] : (all[n / 2 - 1] + all[n / 2]) / 2;
	i = (unsigned int)(0.99 * n + 0.999999);
	r.p99 = all[(i ? i : 1) - 1];
	r.ops_per_s = end > start ? (double)n * opt_batch * 1e9 /
				    (double)(end - start) : 0;
	free(all);
	return r;
}

/* Measure fn with 1 thread (already done: @one) and 2; print scaling. */
static double run_mt(const char *name, op_fn fn, struct ctx *c,
		     struct result one, const char *verified)
{
	struct result two;
	char rname[80];

	if (!opt_mt || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return 0;
	two = measure_mt(fn, c, 2);
	print_result_t(name, c->size, two, 2, verified);
	snprintf(rname, sizeof(rname), "%s_2thread_scaling", name);
	print_ratio_ge(rname, c->size, two.ops_per_s / one.ops_per_s,
		       fn == op_pair ? 1.8 : 0, true);
	/*
	 * The same from the batch medians: what two threads get while both
	 * actually run (the host may not give the VM two cores throughout).
	 */
	snprintf(rname, sizeof(rname), "%s_2thread_lat_scaling", name);
	print_ratio_ge(rname, c->size, 2 * one.median / two.median, 0, true);
	return two.median;
}

/* --- the phases -------------------------------------------------------- */

static const char *verify(int fd, struct respool_stats *before,
			  enum phase ph, char *buf, size_t len)
{
	struct respool_stats after;
	uint64_t allocs, hits;

	stats(fd, &after);
	allocs = after.allocs - before->allocs;
	hits = counter(&after, ph) - counter(before, ph);
	snprintf(buf, len, "%s:%llu/%llu%s", phases[ph].counter,
		 (unsigned long long)hits, (unsigned long long)allocs,
		 hits * 100 >= allocs * 99 ? "" : "(MISMATCH)");
	return buf;
}

static void run_alternatives(struct ctx *c, unsigned int s,
			     struct result mm)
{
	for (c->touch = false;; c->touch = true) {
		struct result lib, ml;
		int t = c->touch;

		lib = measure(op_lib, c);
		print_result(t ? "lib_cycle_touch" : "lib_cycle", c->size, lib,
			     NULL);
		ml = measure(op_malloc, c);
		print_result(t ? "malloc_touch" : "malloc", c->size, ml, NULL);
		table[s][COL_LIB + t] = lib.median;
		table[s][COL_MALLOC + t] = ml.median;
		if (!t && opt_mt) {
			table[s][COL_MMAP_2T] = run_mt("anon_mmap", op_mmap, c,
						       mm, NULL);
			table[s][COL_MALLOC_2T] = run_mt("malloc", op_malloc, c,
							 ml, NULL);
		}
		if (c->touch)
			break;
	}
	c->touch = false;
}

static void run_phase(enum phase ph)
{
	struct ctx c = { .heap_fd = -1 };
	struct respool_stats before;
	unsigned int s;
	bool reloaded;

	reloaded = reload(phases[ph].params);
	printf("\n== phase %s: %s ==\n", phases[ph].name,
	       reloaded ? (*phases[ph].params ? phases[ph].params :
			   "default parameters") :
	       "module as loaded (no reload: not root or no RESPOOL_KO)");
	c.pool = respool_open();
	c.pool2 = respool_open();
	if (!c.pool || !c.pool2)
		die("open /dev/respool");
	c.fd = respool_fd(c.pool);
	c.fd2 = respool_fd(c.pool2);
	if (ph == PHASE_PCPU) {
		c.heap_fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		if (c.heap_fd < 0)
			heap_skip = errno == ENOENT ?
				"no_/dev/dma_heap/system_(CONFIG_DMABUF_HEAPS_SYSTEM_not_set)" :
				strerror(errno);
	}

	for (s = 0; s < nr_sizes; s++) {
		char verified[96], name[48];
		struct result bare, pair, pt, res[8];
		op_fn fns[8] = { op_bare, op_pair, op_pair_touch };
		unsigned int nf;
		int col = ph == PHASE_PCPU ? COL_PCPU :
			  ph == PHASE_RESERVE ? COL_RESERVE : COL_FRESH;

		c.size = sizes[s];
		c.touch = false;
		nf = 3;
		if (ph == PHASE_PCPU) {
			fns[nf++] = op_mmap;
			fns[nf++] = op_mmap_touch;
			if (c.heap_fd >= 0) {
				fns[nf++] = op_dmaheap;
				fns[nf++] = op_dmaheap_touch;
			}
		}
		stats(c.fd, &before);
		measure_set(fns, nf, &c, res);
		bare = res[0];
		pair = res[1];
		pt = res[2];
		verify(c.fd, &before, ph, verified, sizeof(verified));
		print_result("bare_ioctl", c.size, bare, NULL);
		/* Both pairs are counted: they are served the same way. */
		print_result(phases[ph].op, c.size, pair, verified);
		snprintf(name, sizeof(name), "%s_touch", phases[ph].op);
		print_result(name, c.size, pt, verified);
		print_ratio(ph == PHASE_PCPU ? "pcpu_hit/2xbare" :
			    ph == PHASE_RESERVE ? "reserve_hit/2xbare" :
			    "fresh_alloc/2xbare", c.size,
			    pair.median / (2 * bare.median),
			    ph == PHASE_PCPU ? PAIR_GOAL : 0);
		if (ph == PHASE_PCPU) {
			const op_fn bfns[] = { op_bare, op_pair_batch };
			struct result bres[2];

			measure_set(bfns, 2, &c, bres);
			bres[1].median /= BATCH;
			bres[1].p99 /= BATCH;
			print_result("pcpu_hit_batch16", c.size, bres[1], NULL);
			print_ratio("pcpu_hit_batch16/2xbare", c.size,
				    bres[1].median / (2 * bres[0].median),
				    PAIR_GOAL);
			print_result("anon_mmap", c.size, res[3], NULL);
			print_result("anon_mmap_touch", c.size, res[4], NULL);
			table[s][COL_MMAP] = res[3].median;
			table[s][COL_MMAP_T] = res[4].median;
			if (c.heap_fd >= 0) {
				print_result("dmaheap_cycle", c.size, res[5],
					     NULL);
				print_result("dmaheap_cycle_touch", c.size,
					     res[6], NULL);
				table[s][COL_HEAP] = res[5].median;
				table[s][COL_HEAP_T] = res[6].median;
			}
		}
		table[s][col] = pair.median;
		table[s][col + 1] = pt.median;
		if (ph != PHASE_PCPU)
			continue;
		table[s][COL_BARE] = bare.median;

		/* Cross-client reuse: every ALLOC zeroes the block. */
		for (c.touch = false;; c.touch = true) {
			struct respool_stats a1, a2;
			struct result cr;
			uint64_t allocs, zeroed;

			stats(c.fd, &a1);
			cr = measure(op_cross, &c);
			stats(c.fd, &a2);
			allocs = a2.allocs - a1.allocs;
			zeroed = (a2.zeroed_bytes - a1.zeroed_bytes) / c.size;
			snprintf(verified, sizeof(verified),
				 "zeroed:%llu/%llu,pcpu_hits:%llu%s",
				 (unsigned long long)zeroed,
				 (unsigned long long)allocs,
				 (unsigned long long)(a2.pcpu_hits - a1.pcpu_hits),
				 zeroed * 100 >= allocs * 99 ? "" : "(MISMATCH)");
			print_result(c.touch ? "cross_client_touch" :
				     "cross_client", c.size, cr, verified);
			table[s][COL_CROSS + c.touch] = cr.median;
			if (c.touch)
				break;
		}
		c.touch = false;

		if (opt_mt && s == 0) {
			struct result sp = measure(op_spin, &c);

			print_result("cpu_spin", 0, sp, NULL);
			run_mt("cpu_spin", op_spin, &c, sp, NULL);
		}
		if (opt_mt) {
			table[s][COL_BARE_2T] = run_mt("bare_ioctl", op_bare,
						       &c, bare, NULL);
			stats(c.fd, &before);
			table[s][COL_PCPU_2T] = run_mt("pcpu_hit", op_pair, &c,
						       pair, NULL);
		}

		run_alternatives(&c, s, res[3]);
		print_ratio("pcpu_hit/anon_mmap", c.size,
			    pair.median / table[s][COL_MMAP], 1.0);
		print_ratio("pcpu_hit_touch/anon_mmap_touch", c.size,
			    pt.median / table[s][COL_MMAP_T], 1.0);
		print_ratio("lib_cycle_touch/anon_mmap_touch", c.size,
			    table[s][COL_LIB_T] / table[s][COL_MMAP_T], 0);
		if (c.heap_fd >= 0) {
			print_ratio("pcpu_hit/dmaheap_cycle", c.size,
				    pair.median / table[s][COL_HEAP], 1.0);
			print_ratio("pcpu_hit_touch/dmaheap_cycle_touch",
				    c.size, pt.median / table[s][COL_HEAP_T],
				    1.0);
		}
	}
	if (heap_skip && ph == PHASE_PCPU)
		printf("bench: skip dmaheap_cycle reason=%s\n", heap_skip);
	if (c.heap_fd >= 0)
		close(c.heap_fd);
	respool_close(c.pool2);
	respool_close(c.pool);
}

/* --- handoff cost vs the length of the waiter queue -------------------- */

/*
 * End to end, as a client sees it. capacity = one 4 KiB block; Q + 1
 * threads (each its own open file, so its own client), all on CPU 0, loop
 * on ALLOC (blocking), FREE. One holds the block, Q wait in FIFO order.
 * The giver notes the time and FREEs: the block is handed to the head
 * waiter, whose ALLOC returns; the time between is one handoff. The giver
 * ALLOCs again and queues at the tail.
 *
 * That time is mostly the scheduler's, not the pool's: the pool's part is
 * O(1) in Q (only the head is touched) and well under a microsecond;
 * tools/bench/kmod measures it ("khandoff", what the growth target reads).
 * complete() makes the head waiter runnable on this CPU, and then either
 *   direct:   it preempts the giver inside its FREE (the giver's FREE then
 *             lasts until the waiter, or a chain of waiters it served in
 *             turn, sleeps again); or
 *   deferred: the giver runs on, returns from FREE, ALLOCs, queues at the
 *             tail and sleeps first; the sample holds that too.
 * Under SCHED_OTHER that is the wakeup-preemption heuristic's choice. In a
 * 6.12 guest, direct is 1-8% of the handoffs at Q >= 3 and only ~3 us
 * shorter than deferred (~13 vs ~16 us), but it has a side effect: the
 * giver is left off the queue, so a small queue drains, the block goes
 * back to the reserve, and the last waiter loops on reserve hits until the
 * next tick (a direct FREE at Q = 1 lasts ~4 ms). At Q = 1 fewer than 1
 * ALLOC in 300 is then a handoff (Q = 3: 30-80%; Q >= 10: all). Timing
 * every ALLOC return against the last FREE, as this benchmark once did,
 * measured those reserve-hit pairs (~4 us) as handoffs at Q <= 3.
 *
 * So a sample is taken only when the receiver's ALLOC began before the
 * FREE did (it was queued: a handoff); each is classified direct or
 * deferred (was the giver still inside its FREE?); the giver's FREE ioctl
 * is timed too ("_free"); the queue length is sampled while recording.
 * --handoff-sched fifo runs every thread SCHED_FIFO at one priority, where
 * a wakeup never preempts: every handoff is deferred, no heuristic.
 */
struct hand;

struct hand_arg {
	struct hand *h;
	int fd;
	unsigned int id;
	volatile int in_free;	/* in its FREE ioctl; written by this thread */
	volatile int handed;	/* its last FREE was a handoff */
	bool pending;		/* its last FREE's duration, not yet filed: */
	int pend_mode;
	double pend_ns;
};

enum { HAND_DEFERRED, HAND_DIRECT };

struct hand {
	struct hand_arg *args;
	volatile unsigned int giver;	/* the thread that FREEd last */
	volatile uint64_t last_free;	/* when its FREE began */
	volatile uint64_t seq;		/* ALLOCs returned */
	volatile int started;
	volatile int stop;
	volatile int recording;
	/* Written by the block's owner only. */
	double *lat;			/* FREE begin to the head's ALLOC return */
	unsigned char *mode;		/* HAND_DIRECT: the giver was in FREE */
	unsigned int n, max;
	unsigned int not_handoff;
	/* The giver's FREE ioctl, by what happened inside it; atomic index. */
	double *free_lat[2];
	unsigned int nfree[2];
};

static void *hand_thread(void *p)
{
	struct hand_arg *a = p;
	struct hand *h = a->h;

	for (;;) {
		struct respool_alloc al = { .size = 4096 };
		struct respool_free f;
		uint64_t t_in, t, t_free, seq;
		unsigned int i;
		int d;

		t_in = now_ns();
		if (ioctl(a->fd, RESPOOL_IOC_ALLOC, &al))
			die("RESPOOL_IOC_ALLOC (handoff)");
		t = now_ns();
		/*
		 * The first to get the block holds it until the others have
		 * queued: under SCHED_FIFO it would otherwise loop alone.
		 */
		while (!h->started)
			usleep(1000);
		/* We own the block: nobody else writes these now. */
		if (h->last_free && t_in < h->last_free) {
			/* Queued before the FREE began: a handoff. */
			h->args[h->giver].handed = 1;
			if (h->recording && h->n < h->max) {
				h->mode[h->n] = h->args[h->giver].in_free ?
						HAND_DIRECT : HAND_DEFERRED;
				h->lat[h->n++] = (double)(t - h->last_free);
			}
		} else if (h->recording && h->last_free) {
			/* Began after it: the block was free, no wait. */
			h->not_handoff++;
		}
		/*
		 * Our last FREE: its receiver has run by now (the block came
		 * round through it), so we know whether it was a handoff.
		 */
		if (a->pending && a->handed) {
			d = a->pend_mode;
			i = __atomic_fetch_add(&h->nfree[d], 1, __ATOMIC_RELAXED);
			if (i < h->max)
				h->free_lat[d][i] = a->pend_ns;
		}
		a->pending = false;
		seq = ++h->seq;
		h->giver = a->id;
		f = (struct respool_free){ .handle = al.handle };
		a->handed = 0;
		a->in_free = 1;
		t_free = now_ns();
		h->last_free = t_free;
		if (ioctl(a->fd, RESPOOL_IOC_FREE, &f))
			die("RESPOOL_IOC_FREE (handoff)");
		t = now_ns();
		a->in_free = 0;
		if (h->recording) {
			a->pending = true;
			a->pend_ns = (double)(t - t_free);
			/* Someone's ALLOC returned before our FREE did. */
			a->pend_mode = h->seq != seq ? HAND_DIRECT :
						       HAND_DEFERRED;
		}
		if (h->stop)
			break;
	}
	return NULL;
}

/*
 * The control: the same rotation of Q + 1 threads on CPU 0 with no pool,
 * a baton passed round a ring of eventfds. What it costs to wake a thread
 * that slept through Q others, which respool cannot do faster.
 */
struct baton {
	int *efd;
	unsigned int nt;
	volatile uint64_t last;
	volatile int stop, recording;
	double *lat;
	unsigned int n, max;
};

struct baton_arg {
	struct baton *b;
	unsigned int i;
};

static void *baton_thread(void *p)
{
	struct baton_arg *a = p;
	struct baton *b = a->b;
	uint64_t v = 1, t;

	for (;;) {
		if (read(b->efd[a->i], &v, sizeof(v)) != sizeof(v))
			die("read eventfd");
		t = now_ns();
		if (b->stop)
			break;
		if (b->recording && b->last && b->n < b->max)
			b->lat[b->n++] = (double)(t - b->last);
		b->last = now_ns();
		v = 1;
		if (write(b->efd[(a->i + 1) % b->nt], &v, sizeof(v)) != sizeof(v))
			die("write eventfd");
	}
	return NULL;
}

static const char *opt_handoff_sched = "both";
static bool opt_handoff_fifo;

/* Threads of the handoff phase: small stacks; SCHED_FIFO 1 with fifo. */
static void hand_attr(pthread_attr_t *attr)
{
	struct sched_param sp = { .sched_priority = 1 };

	pthread_attr_init(attr);
	pthread_attr_setstacksize(attr, 64 << 10);
	if (!opt_handoff_fifo)
		return;
	pthread_attr_setinheritsched(attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(attr, SCHED_FIFO);
	pthread_attr_setschedparam(attr, &sp);
}

/* The p-th percentile of @x (sorted in place); p = 0: the smallest. */
static double pct(double *x, unsigned int n, unsigned int p)
{
	unsigned int i = (n * p + 99) / 100;

	if (!n)
		return 0;
	qsort(x, n, sizeof(*x), cmp_double);
	return x[(i ? i : 1) - 1];
}

static double median(double *x, unsigned int n)
{
	if (!n)
		return 0;
	qsort(x, n, sizeof(*x), cmp_double);
	return x[n / 2];
}

static double run_baton(unsigned int nt, const char *name)
{
	struct baton b = { .nt = nt, .max = 4000 };
	struct baton_arg *args = calloc(nt, sizeof(*args));
	pthread_t *th = calloc(nt, sizeof(*th));
	pthread_attr_t attr;
	uint64_t v = 1, t0;
	unsigned int i;
	double med = 0;

	b.efd = calloc(nt, sizeof(int));
	b.lat = calloc(b.max, sizeof(double));
	if (!args || !th || !b.efd || !b.lat)
		die("calloc");
	hand_attr(&attr);
	for (i = 0; i < nt; i++) {
		b.efd[i] = eventfd(0, EFD_CLOEXEC);
		if (b.efd[i] < 0)
			die("eventfd");
	}
	for (i = 0; i < nt; i++) {
		args[i] = (struct baton_arg){ &b, i };
		if (pthread_create(&th[i], &attr, baton_thread, &args[i]))
			die("pthread_create (baton)");
	}
	usleep(20000);
	if (write(b.efd[0], &v, sizeof(v)) != sizeof(v))
		die("write eventfd");
	/* One lap to settle, then record. */
	usleep(20000);
	b.recording = 1;
	t0 = now_ns();
	while (b.n < b.max &&
	       now_ns() - t0 < (uint64_t)opt_budget_ms * 3000000ULL)
		usleep(5000);
	b.recording = 0;
	b.stop = 1;
	for (i = 0; i < nt; i++)
		if (write(b.efd[i], &v, sizeof(v)) != sizeof(v))
			die("write eventfd");
	for (i = 0; i < nt; i++) {
		pthread_join(th[i], NULL);
		close(b.efd[i]);
	}
	if (b.n) {
		med = median(b.lat, b.n);
		printf("bench: %s size=0 queue=%u median_ns=%.0f p99_ns=%.0f "
		       "samples=%u\n", name, nt - 1, med, pct(b.lat, b.n, 99),
		       b.n);
	}
	free(b.lat);
	free(b.efd);
	free(args);
	free(th);
	return med;
}

static void run_handoff_sched(void)
{
	static const unsigned int points[] = { 1, 3, 10, 30, 100, 300, 1000,
					       3000 };
	const char *sfx = opt_handoff_fifo ? "_fifo" : "";
	struct sched_param sp_main = { .sched_priority = 2 };
	unsigned int p;

	/* Above the workers, or it would wait for RT throttling to poll. */
	if (opt_handoff_fifo &&
	    sched_setscheduler(0, SCHED_FIFO, &sp_main))
		die("sched_setscheduler SCHED_FIFO (handoff)");
	printf("\n== handoff: capacity=4096, Q threads waiting, %s ==\n",
	       opt_handoff_fifo ? "SCHED_FIFO" : "SCHED_OTHER");
	for (p = 0; p < sizeof(points) / sizeof(points[0]) &&
	     points[p] <= opt_handoff_max; p++) {
		unsigned int q = points[p], nt = q + 1, i, nd, nf, nq = 0;
		struct hand h = { .max = 4000 };
		struct hand_arg *args;
		pthread_t *th;
		pthread_attr_t attr;
		struct respool_stats st, st0, st1;
		struct respool *ctl = respool_open();
		double *ldir, *ldef, *queued, med, bt;
		unsigned int ndir = 0, ndef = 0;
		uint64_t t0;
		char name[64];

		if (!ctl)
			die("open /dev/respool");
		h.lat = calloc(h.max, sizeof(double));
		h.mode = calloc(h.max, 1);
		h.free_lat[0] = calloc(h.max, sizeof(double));
		h.free_lat[1] = calloc(h.max, sizeof(double));
		ldir = calloc(h.max, sizeof(double));
		ldef = calloc(h.max, sizeof(double));
		queued = calloc(h.max, sizeof(double));
		args = calloc(nt, sizeof(*args));
		th = calloc(nt, sizeof(*th));
		if (!h.lat || !h.mode || !h.free_lat[0] || !h.free_lat[1] ||
		    !ldir || !ldef || !queued || !args || !th)
			die("calloc");
		h.args = args;
		hand_attr(&attr);
		for (i = 0; i < nt; i++) {
			args[i].h = &h;
			args[i].id = i;
			args[i].fd = open("/dev/respool", O_RDWR | O_CLOEXEC);
			if (args[i].fd < 0)
				die("open /dev/respool (handoff)");
			if (pthread_create(&th[i], &attr, hand_thread, &args[i]))
				die("pthread_create (handoff)");
		}
		/* Wait for the queue to fill, then record. */
		t0 = now_ns();
		do {
			usleep(2000);
			stats(respool_fd(ctl), &st);
		} while (st.waiters < q && now_ns() - t0 < 20000000000ULL);
		h.started = 1;
		usleep(20000);
		stats(respool_fd(ctl), &st0);
		h.recording = 1;
		t0 = now_ns();
		while (h.n < h.max &&
		       now_ns() - t0 < (uint64_t)opt_budget_ms * 3000000ULL) {
			usleep(5000);
			/* How long the queue really is while we measure. */
			stats(respool_fd(ctl), &st1);
			if (nq < h.max)
				queued[nq++] = (double)st1.waiters;
		}
		h.recording = 0;
		stats(respool_fd(ctl), &st1);
		h.stop = 1;
		for (i = 0; i < nt; i++) {
			pthread_join(th[i], NULL);
			close(args[i].fd);
		}
		for (i = 0; i < h.n; i++) {
			if (h.mode[i] == HAND_DIRECT)
				ldir[ndir++] = h.lat[i];
			else
				ldef[ndef++] = h.lat[i];
		}
		nd = h.nfree[HAND_DIRECT] < h.max ? h.nfree[HAND_DIRECT] : h.max;
		nf = h.nfree[HAND_DEFERRED] < h.max ? h.nfree[HAND_DEFERRED] :
						      h.max;
		med = median(h.lat, h.n);
		snprintf(name, sizeof(name), "handoff%s", sfx);
		printf("bench: %s size=4096 queue=%u median_ns=%.0f "
		       "p99_ns=%.0f samples=%u verified=waiters=%llu\n", name,
		       q, med, pct(h.lat, h.n, 99), h.n,
		       (unsigned long long)st.waiters);
		/*
		 * direct: the head preempted the giver inside FREE; deferred:
		 * it ran after the giver slept. queued_*: the waiters count
		 * sampled every 5 ms while recording; handoffs: the pool's
		 * counter over the same time.
		 */
		printf("bench: %s_mode size=4096 queue=%u direct=%u "
		       "direct_median_ns=%.0f deferred=%u deferred_median_ns=%.0f "
		       "direct_pct=%.0f not_handoff=%u handoffs=%llu "
		       "queued_min=%.0f queued_median=%.0f\n", name, q, ndir,
		       median(ldir, ndir), ndef, median(ldef, ndef),
		       h.n ? 100.0 * ndir / h.n : 0.0, h.not_handoff,
		       (unsigned long long)(st1.handoffs - st0.handoffs),
		       pct(queued, nq, 0), median(queued, nq));
		/*
		 * The giver's side: its FREE ioctl, handoff and wakeup
		 * included, when the waiter did not run inside it; preempted:
		 * those it did (they last until it sleeps again, or a tick).
		 */
		printf("bench: %s_free size=4096 queue=%u median_ns=%.0f "
		       "p99_ns=%.0f samples=%u preempted=%u "
		       "preempted_median_ns=%.0f\n", name, q,
		       median(h.free_lat[HAND_DEFERRED], nf),
		       pct(h.free_lat[HAND_DEFERRED], nf, 99), nf, nd,
		       median(h.free_lat[HAND_DIRECT], nd));
		snprintf(name, sizeof(name), "baton%s", sfx);
		bt = run_baton(nt, name);
		if (bt > 0) {
			snprintf(name, sizeof(name), "handoff%s/baton%s_q%u",
				 sfx, sfx, q);
			print_ratio(name, 4096, med / bt, 0);
		}
		free(h.lat);
		free(h.mode);
		free(h.free_lat[0]);
		free(h.free_lat[1]);
		free(ldir);
		free(ldef);
		free(queued);
		free(args);
		free(th);
		respool_close(ctl);
	}
	if (opt_handoff_fifo) {
		struct sched_param sp0 = { 0 };

		sched_setscheduler(0, SCHED_OTHER, &sp0);
	}
	/* run.sh draws these curves next to the in-kernel "khandoff". */
}

static void run_handoff(void)
{
	struct rlimit rl = { 8192, 8192 };

	if (!reload("capacity=4096")) {
		printf("bench: skip handoff reason=needs_root_and_RESPOOL_KO\n");
		return;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	if (strcmp(opt_handoff_sched, "fifo")) {
		opt_handoff_fifo = false;
		run_handoff_sched();
	}
	if (strcmp(opt_handoff_sched, "other")) {
		opt_handoff_fifo = true;
		run_handoff_sched();
	}
}

/* --- fairness: N processes churning on a small pool -------------------- */

#define FAIR_SAMPLES 20000

struct fair_proc {
	uint64_t ops;
	uint64_t max_wait;
	unsigned int n;
	float wait[FAIR_SAMPLES];
};

struct fair_shared {
	volatile int ready;
	volatile int go;
	uint64_t deadline;
	struct fair_proc p[];
};

static void fair_child(struct fair_shared *sh, unsigned int me)
{
	struct fair_proc *fp = &sh->p[me];
	int fd = open("/dev/respool", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/respool (fairness)");
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	while (!sh->go)
		usleep(1000);
	for (;;) {
		struct respool_alloc a = { .size = 4096 };
		struct respool_free f;
		uint64_t t0 = now_ns(), w;

		if (t0 >= sh->deadline)
			break;
		if (ioctl(fd, RESPOOL_IOC_ALLOC, &a))
			die("RESPOOL_IOC_ALLOC (fairness)");
		w = now_ns() - t0;
		if (fp->n < FAIR_SAMPLES)
			fp->wait[fp->n++] = (float)w;
		if (w > fp->max_wait)
			fp->max_wait = w;
		fp->ops++;
		/* Hold it across a reschedule, so the pool stays contended. */
		sched_yield();
		f = (struct respool_free){ .handle = a.handle };
		if (ioctl(fd, RESPOOL_IOC_FREE, &f))
			die("RESPOOL_IOC_FREE (fairness)");
	}
	close(fd);
	_exit(0);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static void run_fairness(void)
{
	unsigned int np = opt_fair_procs, i, n = 0;
	size_t len = sizeof(struct fair_shared) + np * sizeof(struct fair_proc);
	struct respool_stats st0, st1;
	struct fair_shared *sh;
	struct respool *ctl;
	double sum = 0, sum2 = 0, jain, med_max, worst = 0;
	double *maxes;
	float *all;
	pid_t *pids;

	if (!reload("capacity=16K")) {
		printf("bench: skip fairness reason=needs_root_and_RESPOOL_KO\n");
		return;
	}
	printf("\n== fairness: %u processes, capacity=16K (4 blocks of 4K), "
	       "%u ms ==\n", np, opt_fair_ms);
	sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	pids = calloc(np, sizeof(*pids));
	maxes = calloc(np, sizeof(*maxes));
	if (sh == MAP_FAILED || !pids || !maxes)
		die("fairness memory");
	ctl = respool_open();
	if (!ctl)
		die("open /dev/respool");
	for (i = 0; i < np; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i]) {
			cpu_set_t all_cpus;

			CPU_ZERO(&all_cpus);
			CPU_SET(0, &all_cpus);
			CPU_SET(1, &all_cpus);
			sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
			fair_child(sh, i);
		}
	}
	while (sh->ready < (int)np)
		usleep(1000);
	stats(respool_fd(ctl), &st0);
	sh->deadline = now_ns() + (uint64_t)opt_fair_ms * 1000000ULL;
	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < np; i++)
		waitpid(pids[i], NULL, 0);
	stats(respool_fd(ctl), &st1);
	respool_close(ctl);

	all = calloc((size_t)np * FAIR_SAMPLES, sizeof(float));
	if (!all)
		die("calloc");
	for (i = 0; i < np; i++) {
		struct fair_proc *fp = &sh->p[i];

		memcpy(all + n, fp->wait, fp->n * sizeof(float));
		n += fp->n;
		sum += fp->ops;
		sum2 += (double)fp->ops * fp->ops;
		maxes[i] = fp->max_wait;
	}
	qsort(all, n, sizeof(float), cmp_float);
	qsort(maxes, np, sizeof(double), cmp_double);
	med_max = np % 2 ? maxes[np / 2] :
		  (maxes[np / 2 - 1] + maxes[np / 2]) / 2;
	worst = maxes[np - 1];
	jain = sum2 > 0 ? sum * sum / (np * sum2) : 0;
	printf("bench: fairness procs=%u ops=%.0f waits=%llu handoffs=%llu "
	       "p50_wait_ns=%.0f p99_wait_ns=%.0f max_wait_ns=%.0f "
	       "median_max_wait_ns=%.0f jain=%.4f\n",
	       np, sum, (unsigned long long)(st1.waits - st0.waits),
	       (unsigned long long)(st1.handoffs - st0.handoffs),
	       n ? all[n / 2] : 0.0, n ? all[(n * 99ULL + 99) / 100 - 1] : 0.0,
	       worst, med_max, jain);
	{
		double mn = 1e18, mx = 0;

		for (i = 0; i < np; i++) {
			mn = sh->p[i].ops < mn ? sh->p[i].ops : mn;
			mx = sh->p[i].ops > mx ? sh->p[i].ops : mx;
		}
		printf("bench: fairness_ops min_ops=%.0f max_ops=%.0f\n", mn,
		       mx);
	}
	for (i = 0; i < np; i++)
		printf("bench: fairness_proc proc=%u ops=%llu max_wait_ns=%llu\n",
		       i, (unsigned long long)sh->p[i].ops,
		       (unsigned long long)sh->p[i].max_wait);
	print_ratio_ge("fairness_jain", 4096, jain, 0.95, true);
	print_ratio("fairness_max_wait/median_max_wait", 4096,
		    med_max > 0 ? worst / med_max : 0, 4.0);
	free(all);
	free(maxes);
	free(pids);
	munmap(sh, len);
}

/* --- isolation: one pool's waits while another pool is saturated ------- */

/*
 * Pools A and B, made with pool-new over netlink, each one block of
 * --iso-size: A's 2 measured threads (CPU 0) ALLOC, hold the block
 * --iso-hold-us (asleep), FREE, so each waits for the other's block (a
 * handoff).
 * ISO_LOAD load threads (CPU 1) do the same, in turns: parked (A alone),
 * on pool B (B saturated: one holds, the others queue), on pool A itself
 * (a control: what sharing a pool costs A), or on a mutex instead of a
 * pool (a control: the same sleeps, wakeups and clearing of a block's
 * bytes on CPU 1 without respool, what the emulator's shared host CPUs
 * alone do to A's waits). The four
 * are measured in rounds, one window of each in turn, so that they see
 * the same moments of a noisy emulated host. A sample is one ALLOC's
 * wait.
 */
#define ISO_LOAD	3
#define ISO_ROUNDS	8
#define ISO_MAX_SAMPLES	200000

enum iso_mode { ISO_ALONE, ISO_B, ISO_SAME, ISO_NOPOOL, ISO_NR };
static const char *const iso_names[ISO_NR] = {
	"alone", "b_saturated", "same_pool", "nopool_load",
};

static unsigned int opt_iso_ms = 2000;	/* each figure, over all rounds */
static unsigned int opt_iso_hold_us = 50;
static size_t opt_iso_size = 65536;

struct iso {
	volatile int stop;
	volatile int load_mode;		/* -1 parked, or the mode */
	volatile int rec;		/* the mode being recorded, -1 none */
	uint64_t hold_ns;
	size_t size;
	pthread_mutex_t token;		/* ISO_NOPOOL's "block" */
};

struct iso_thread {
	struct iso *iso;
	int fd_a, fd_b, cpu;
	volatile int cur;		/* load: mode of this cycle, -1 parked */
	char *buf;			/* load: what ISO_NOPOOL clears */
	double *samples[ISO_NR];	/* measured: waits, ns */
	unsigned int n[ISO_NR];
};

static void iso_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * ALLOC on @fd, hold the block @hold_ns, FREE; returns the ALLOC's wait.
 * The holder sleeps (as a client waiting on I/O would): a spinning holder
 * would keep the other thread of its CPU from ever queueing, and the
 * load would be CPU the emulated guest has little of.
 */
static uint64_t iso_cycle(int fd, size_t size, uint64_t hold_ns)
{
	struct respool_alloc a = { .size = size };
	struct timespec hold = { .tv_sec = hold_ns / 1000000000,
				 .tv_nsec = hold_ns % 1000000000 };
	struct respool_free f;
	uint64_t t0 = now_ns(), t1;

	if (ioctl(fd, RESPOOL_IOC_ALLOC, &a))
		die("RESPOOL_IOC_ALLOC (isolation)");
	t1 = now_ns();
	if (hold_ns)
		nanosleep(&hold, NULL);
	f = (struct respool_free){ .handle = a.handle };
	if (ioctl(fd, RESPOOL_IOC_FREE, &f))
		die("RESPOOL_IOC_FREE (isolation)");
	return t1 - t0;
}

static void *iso_measured(void *p)
{
	struct iso_thread *t = p;
	struct iso *iso = t->iso;

	iso_pin(t->cpu);
	while (!iso->stop) {
		int m = iso->rec;
		uint64_t w = iso_cycle(t->fd_a, iso->size, iso->hold_ns);

		/* Only waits that began and ended in one window count. */
		if (m >= 0 && m == iso->rec && t->n[m] < ISO_MAX_SAMPLES)
			t->samples[m][t->n[m]++] = w;
	}
	return NULL;
}

static void *iso_load(void *p)
{
	struct iso_thread *t = p;
	struct iso *iso = t->iso;

	iso_pin(t->cpu);
	while (!iso->stop) {
		int m = iso->load_mode;

		t->cur = m;
		if (m < 0) {
			usleep(1000);
			continue;
		}
		if (m == ISO_NOPOOL) {
			struct timespec hold = {
				.tv_sec = iso->hold_ns / 1000000000,
				.tv_nsec = iso->hold_ns % 1000000000,
			};

			/*
			 * The same sleeps and wakeups without respool,
			 * and the clearing the pool does for a block that
			 * changes files.
			 */
			pthread_mutex_lock(&iso->token);
			memset(t->buf, 0, iso->size);
			__asm__ volatile("" : : "r"(t->buf) : "memory");
			nanosleep(&hold, NULL);
			pthread_mutex_unlock(&iso->token);
			continue;
		}
		iso_cycle(m == ISO_B ? t->fd_b : t->fd_a, iso->size,
			  iso->hold_ns);
	}
	t->cur = -1;
	return NULL;
}

/* ---- pool-new and pool-del over generic netlink (libnl-genl) ---- */

static struct nl_sock *iso_nl(int *family)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk || genl_connect(sk))
		return NULL;
	*family = genl_ctrl_resolve(sk, RESPOOL_FAMILY_NAME);
	return *family < 0 ? NULL : sk;
}

/* pool-new @name with capacity = max-block-size = reserve-max = @cap. */
static int iso_pool_new(struct nl_sock *sk, int family, const char *name,
			uint64_t cap)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return -NLE_NOMEM;
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
		    RESPOOL_CMD_POOL_NEW, RESPOOL_FAMILY_VERSION);
	nla_put_string(msg, RESPOOL_A_POOL_POOL_NAME, name);
	nla_put_u64(msg, RESPOOL_A_POOL_CAPACITY, cap);
	nla_put_u64(msg, RESPOOL_A_POOL_MAX_BLOCK_SIZE, cap);
	nla_put_u64(msg, RESPOOL_A_POOL_RESERVE_MAX, cap);
	return nl_send_sync(sk, msg);
}

static int iso_pool_del(struct nl_sock *sk, int family, const char *name)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return -NLE_NOMEM;
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
		    RESPOOL_CMD_POOL_DEL, RESPOOL_FAMILY_VERSION);
	nla_put_string(msg, RESPOOL_A_POOL_POOL_NAME, name);
	return nl_send_sync(sk, msg);
}

static int iso_open(const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/respool-%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(path);
	return fd;
}

/* What the pools' counters say of one mode's windows. */
struct iso_books {
	uint64_t a_allocs, a_waits, a_handoffs, b_allocs, b_waits;
	uint64_t a_max_waiters, b_max_waiters;
};

static void run_isolation(void)
{
	static const char *const pa = "bench-a", *const pb = "bench-b";
	struct iso iso = { .load_mode = -1, .rec = -1,
			   .token = PTHREAD_MUTEX_INITIALIZER };
	struct iso_thread meas[2], load[ISO_LOAD];
	struct iso_books books[ISO_NR] = { 0 };
	struct result res[ISO_NR] = { 0 };
	pthread_t tm[2], tl[ISO_LOAD];
	struct nl_sock *sk;
	int family, ret, ctl_a, ctl_b, load_cpu, round, m, i;
	uint64_t window_ns;
	char verified[ISO_NR][160];

	if (!reload("")) {
		printf("bench: skip isolation reason=needs_root_and_RESPOOL_KO\n");
		return;
	}
	sk = iso_nl(&family);
	if (!sk) {
		printf("bench: skip isolation reason=no_respool_netlink_family\n");
		return;
	}
	ret = iso_pool_new(sk, family, pa, opt_iso_size);
	if (!ret)
		ret = iso_pool_new(sk, family, pb, opt_iso_size);
	if (ret) {
		fprintf(stderr, "bench: pool-new: %s\n", nl_geterror(ret));
		printf("bench: skip isolation reason=pool-new_failed\n");
		nl_socket_free(sk);
		return;
	}
	iso.size = opt_iso_size;
	iso.hold_ns = (uint64_t)opt_iso_hold_us * 1000;
	window_ns = (uint64_t)opt_iso_ms * 1000000 / ISO_ROUNDS;
	load_cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	printf("\n== isolation: pools %s and %s of one %zu-byte block each; "
	       "2 threads on %s (CPU 0), %d load threads (CPU %d) parked, on "
	       "%s, on %s, or on a mutex; hold %u us; %u ms per figure ==\n",
	       pa, pb, opt_iso_size, pa, ISO_LOAD, load_cpu, pb, pa,
	       opt_iso_hold_us, opt_iso_ms);

	ctl_a = iso_open(pa);
	ctl_b = iso_open(pb);
	for (i = 0; i < 2; i++) {
		meas[i] = (struct iso_thread){ .iso = &iso, .cpu = 0, .cur = -1 };
		meas[i].fd_a = iso_open(pa);
		meas[i].fd_b = -1;
		for (m = 0; m < ISO_NR; m++) {
			meas[i].samples[m] = calloc(ISO_MAX_SAMPLES,
						    sizeof(double));
			if (!meas[i].samples[m])
				die("calloc");
		}
		if (pthread_create(&tm[i], NULL, iso_measured, &meas[i]))
			die("pthread_create");
	}
	for (i = 0; i < ISO_LOAD; i++) {
		load[i] = (struct iso_thread){ .iso = &iso, .cpu = load_cpu,
					       .cur = -2 };
		load[i].fd_a = iso_open(pa);
		load[i].fd_b = iso_open(pb);
		load[i].buf = malloc(opt_iso_size);
		if (!load[i].buf)
			die("malloc");
		if (pthread_create(&tl[i], NULL, iso_load, &load[i]))
			die("pthread_create");
	}

	for (round = 0; round < ISO_ROUNDS; round++) {
		for (m = 0; m < ISO_NR; m++) {
			struct respool_stats a0, a1, b0, b1, s;
			int want = m == ISO_ALONE ? -1 : m;
			uint64_t end;
			bool all;

			/* Every load thread in its new place, then a settle. */
			iso.load_mode = want;
			do {
				usleep(1000);
				for (all = true, i = 0; i < ISO_LOAD; i++)
					all &= load[i].cur == want;
			} while (!all);
			usleep(20000);
			stats(ctl_a, &a0);
			stats(ctl_b, &b0);
			iso.rec = m;
			end = now_ns() + window_ns;
			while (now_ns() < end) {
				usleep(10000);
				stats(ctl_a, &s);
				if (s.waiters > books[m].a_max_waiters)
					books[m].a_max_waiters = s.waiters;
				stats(ctl_b, &s);
				if (s.waiters > books[m].b_max_waiters)
					books[m].b_max_waiters = s.waiters;
			}
			iso.rec = -1;
			stats(ctl_a, &a1);
			stats(ctl_b, &b1);
			books[m].a_allocs += a1.allocs - a0.allocs;
			books[m].a_waits += a1.waits - a0.waits;
			books[m].a_handoffs += a1.handoffs - a0.handoffs;
			books[m].b_allocs += b1.allocs - b0.allocs;
			books[m].b_waits += b1.waits - b0.waits;
		}
	}
	iso.load_mode = -1;
	iso.stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(tm[i], NULL);
	for (i = 0; i < ISO_LOAD; i++)
		pthread_join(tl[i], NULL);

	for (m = 0; m < ISO_NR; m++) {
		struct iso_books *b = &books[m];
		unsigned int n = meas[0].n[m] + meas[1].n[m];
		double *all = calloc(n ? n : 1, sizeof(double));
		char name[64];
		bool ok;

		if (!all)
			die("calloc");
		memcpy(all, meas[0].samples[m], meas[0].n[m] * sizeof(double));
		memcpy(all + meas[0].n[m], meas[1].samples[m],
		       meas[1].n[m] * sizeof(double));
		res[m].batches = n;
		res[m].median = median(all, n);
		res[m].p99 = pct(all, n, 99);
		/*
		 * What each figure claims: A's two threads handed the block
		 * off; B had nobody (alone) or was exhausted with waiters
		 * queued (b_saturated); A had the load's waiters too
		 * (same_pool).
		 */
		ok = n > 0 && b->a_handoffs > 0;
		if (m == ISO_ALONE)
			ok &= !b->b_allocs;
		if (m == ISO_B)
			ok &= b->b_allocs > 0 && b->b_max_waiters >= 1;
		if (m == ISO_SAME)
			ok &= !b->b_allocs && b->a_max_waiters >= 2;
		if (m == ISO_NOPOOL)
			ok &= !b->b_allocs && b->a_max_waiters <= 1;
		snprintf(verified[m], sizeof(verified[m]),
			 "a_allocs:%llu,a_waits:%llu,a_handoffs:%llu,"
			 "a_max_waiters:%llu,b_allocs:%llu,b_waits:%llu,"
			 "b_max_waiters:%llu%s",
			 (unsigned long long)b->a_allocs,
			 (unsigned long long)b->a_waits,
			 (unsigned long long)b->a_handoffs,
			 (unsigned long long)b->a_max_waiters,
			 (unsigned long long)b->b_allocs,
			 (unsigned long long)b->b_waits,
			 (unsigned long long)b->b_max_waiters,
			 ok ? "" : "(MISMATCH)");
		snprintf(name, sizeof(name), "isolation_%s", iso_names[m]);
		printf("bench: %s size=%zu median_ns=%.0f p99_ns=%.0f "
		       "samples=%u threads=2 hold_us=%u verified=%s\n",
		       name, opt_iso_size, res[m].median, res[m].p99, n,
		       opt_iso_hold_us, verified[m]);
		free(all);
	}
	if (res[ISO_ALONE].median > 0 && res[ISO_ALONE].p99 > 0) {
		print_ratio("isolation_p50_b_saturated/alone", opt_iso_size,
			    res[ISO_B].median / res[ISO_ALONE].median, 1.5);
		print_ratio("isolation_p99_b_saturated/alone", opt_iso_size,
			    res[ISO_B].p99 / res[ISO_ALONE].p99, 1.5);
		/* The control: the same load in A itself (no goal). */
		print_ratio("isolation_p50_same_pool/alone", opt_iso_size,
			    res[ISO_SAME].median / res[ISO_ALONE].median, 0);
		print_ratio("isolation_p99_same_pool/alone", opt_iso_size,
			    res[ISO_SAME].p99 / res[ISO_ALONE].p99, 0);
		/* The emulator's part: the same load's CPU, no pool. */
		print_ratio("isolation_p50_nopool_load/alone", opt_iso_size,
			    res[ISO_NOPOOL].median / res[ISO_ALONE].median, 0);
		print_ratio("isolation_p99_nopool_load/alone", opt_iso_size,
			    res[ISO_NOPOOL].p99 / res[ISO_ALONE].p99, 0);
	}
	if (res[ISO_NOPOOL].median > 0 && res[ISO_NOPOOL].p99 > 0) {
		/* What B adds over a load that is not respool's. */
		print_ratio("isolation_p50_b_saturated/nopool_load",
			    opt_iso_size,
			    res[ISO_B].median / res[ISO_NOPOOL].median, 0);
		print_ratio("isolation_p99_b_saturated/nopool_load",
			    opt_iso_size,
			    res[ISO_B].p99 / res[ISO_NOPOOL].p99, 0);
	}
	printf("bench: isolation p50_wait_us alone=%.1f b_saturated=%.1f "
	       "same_pool=%.1f nopool_load=%.1f p99_wait_us alone=%.1f "
	       "b_saturated=%.1f same_pool=%.1f nopool_load=%.1f\n",
	       res[ISO_ALONE].median / 1e3, res[ISO_B].median / 1e3,
	       res[ISO_SAME].median / 1e3, res[ISO_NOPOOL].median / 1e3,
	       res[ISO_ALONE].p99 / 1e3, res[ISO_B].p99 / 1e3,
	       res[ISO_SAME].p99 / 1e3, res[ISO_NOPOOL].p99 / 1e3);

	for (i = 0; i < 2; i++) {
		close(meas[i].fd_a);
		for (m = 0; m < ISO_NR; m++)
			free(meas[i].samples[m]);
	}
	for (i = 0; i < ISO_LOAD; i++) {
		close(load[i].fd_a);
		close(load[i].fd_b);
		free(load[i].buf);
	}
	close(ctl_a);
	close(ctl_b);
	/* Files go at close; a moment for the last ones (EBUSY). */
	for (i = 0; i < 100; i++) {
		ret = iso_pool_del(sk, family, pa);
		if (ret != -NLE_BUSY)
			break;
		usleep(10000);
	}
	if (ret || (ret = iso_pool_del(sk, family, pb)))
		fprintf(stderr, "bench: pool-del: %s\n", nl_geterror(ret));
	nl_socket_free(sk);
}

/* --- producer to consumer: a buffer passed as an fd -------------------- */

/*
 * One message: the producer gets a buffer of the size, maps it, writes a
 * stamp into every page, unmaps it, sends its fd over a unix socket
 * (SCM_RIGHTS) and closes its own copy; the consumer, another process on
 * the same CPU, maps the fd read-only, checks every page's stamp, unmaps
 * and closes it. Three sources of the buffer, measured in rounds:
 *   respool  ALLOC, mmap, fill, munmap, EXPORT (the handle goes: the
 *            block returns to the pool when the consumer drops the fd)
 *   respool_mapfd  the same, but EXPORT first and the producer fills
 *            through a mapping of the dma-buf (every page inserted at
 *            mmap, where the block's own mapping takes a fault per page)
 *   dmaheap  DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/system (fresh pages
 *            every message, back to the page allocator at the drop)
 *   memfd    memfd_create, ftruncate, mmap, fill, munmap
 * A sample is a batch of messages in flight together (at most
 * SHARE_INFLIGHT bytes), the consumer answering once per batch, so it
 * holds the work of both processes for each message and one wakeup each
 * way per batch.
 */
#define SHARE_INFLIGHT	(16ULL << 20)

enum share_src { SHARE_RESPOOL, SHARE_RESPOOL_FD, SHARE_HEAP, SHARE_MEMFD,
		 SHARE_NR };
static const char *const share_names[SHARE_NR] = {
	"respool", "respool_mapfd", "dmaheap", "memfd",
};

struct share_msg {
	uint64_t size;
	uint64_t seed;
	uint32_t answer;	/* the last of its batch: answer with bad pages */
	uint32_t pad;
};

struct share {
	int sock;
	int rp_fd;		/* the producer's /dev/respool */
	int heap_fd;		/* /dev/dma_heap/system, or -1 */
	size_t size;
	uint64_t seed;
};

static void share_stamp(void *p, size_t size, uint64_t seed)
{
	size_t i;

	for (i = 0; i < size; i += page_size)
		*(volatile uint64_t *)((char *)p + i) = seed + i;
}

/* Pages whose stamp is wrong; reads every page. */
static uint64_t share_check(const void *p, size_t size, uint64_t seed)
{
	uint64_t bad = 0;
	size_t i;

	for (i = 0; i < size; i += page_size)
		bad += *(const volatile uint64_t *)((const char *)p + i) !=
		       seed + i;
	return bad;
}

/* A buffer of s->size bytes from @src, every page stamped: its fd. */
static int share_make(struct share *s, enum share_src src)
{
	struct dma_heap_allocation_data d = {
		.len = s->size, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct respool_alloc a = { .size = s->size };
	struct respool_export x = { .fd_flags = O_RDWR | O_CLOEXEC };
	void *p;
	int fd;

	switch (src) {
	case SHARE_RESPOOL:
		if (ioctl(s->rp_fd, RESPOOL_IOC_ALLOC, &a))
			die("RESPOOL_IOC_ALLOC (share)");
		p = mmap(NULL, a.block_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, s->rp_fd, a.offset);
		if (p == MAP_FAILED)
			die("mmap of a block (share)");
		share_stamp(p, s->size, s->seed);
		if (munmap(p, a.block_size))
			die("munmap of a block (share)");
		x.handle = a.handle;
		if (ioctl(s->rp_fd, RESPOOL_IOC_EXPORT, &x))
			die("RESPOOL_IOC_EXPORT");
		return x.fd;
	case SHARE_RESPOOL_FD:
		if (ioctl(s->rp_fd, RESPOOL_IOC_ALLOC, &a))
			die("RESPOOL_IOC_ALLOC (share)");
		x.handle = a.handle;
		if (ioctl(s->rp_fd, RESPOOL_IOC_EXPORT, &x))
			die("RESPOOL_IOC_EXPORT");
		fd = x.fd;
		break;
	case SHARE_HEAP:
		if (ioctl(s->heap_fd, DMA_HEAP_IOCTL_ALLOC, &d))
			die("DMA_HEAP_IOCTL_ALLOC (share)");
		fd = d.fd;
		break;
	default:
		fd = memfd_create("bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, s->size))
			die("memfd_create+ftruncate");
		break;
	}
	p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap (share)");
	share_stamp(p, s->size, s->seed);
	if (munmap(p, s->size))
		die("munmap (share)");
	return fd;
}

static void share_send(int sock, int fd, const struct share_msg *m)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &mh, 0) != (ssize_t)sizeof(*m))
		die("sendmsg (share)");
}

/* The consumer process: until the producer closes its end. */
static void share_consumer(int sock)
{
	uint64_t bad = 0;

	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct share_msg m;
		struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		ssize_t n;
		void *p;
		int fd;

		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n == 0)
			_exit(0);
		c = CMSG_FIRSTHDR(&mh);
		if (n != (ssize_t)sizeof(m) || !c || c->cmsg_type != SCM_RIGHTS)
			die("recvmsg (share consumer)");
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		p = mmap(NULL, m.size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap (share consumer)");
		bad += share_check(p, m.size, m.seed);
		munmap(p, m.size);
		close(fd);
		if (m.answer) {
			if (write(sock, &bad, sizeof(bad)) != sizeof(bad))
				die("write (share consumer)");
			bad = 0;
		}
	}
}

/* @n messages from @src, the consumer answering after the last. */
static uint64_t share_batch(struct share *s, enum share_src src,
			    unsigned int n)
{
	struct share_msg m = { .size = s->size };
	uint64_t bad;
	unsigned int i;
	int fd;

	for (i = 0; i < n; i++) {
		m.seed = ++s->seed;
		m.answer = i == n - 1;
		fd = share_make(s, src);
		share_send(s->sock, fd, &m);
		close(fd);
	}
	if (read(s->sock, &bad, sizeof(bad)) != sizeof(bad))
		die("read (share: the consumer's answer)");
	return bad;
}

/* Stats once the @sent exports since @before are back (a return may lag). */
static void share_stats_settled(int fd, const struct respool_stats *before,
				uint64_t sent, struct respool_stats *st)
{
	int i;

	for (i = 0; i < 100; i++) {
		stats(fd, st);
		if (st->export_returns - before->export_returns >= sent &&
		    st->exported_bytes <= before->exported_bytes)
			return;
		usleep(10000);
	}
}

static void share_point(struct share *s, struct result *res, bool *have)
{
	unsigned int batch = opt_batch, n = 0, i, f;
	uint64_t bad[SHARE_NR] = { 0 }, sent = 0, start, t0, t1 = 0;
	struct respool_stats before, after;
	char verified[SHARE_NR][128], books[96];
	double *samples;
	bool books_ok;

	if (batch > SHARE_INFLIGHT / s->size)
		batch = SHARE_INFLIGHT / s->size ?: 1;
	samples = calloc((size_t)SHARE_NR * opt_max_batches, sizeof(double));
	if (!samples)
		die("calloc");
	stats(s->rp_fd, &before);
	for (f = 0; f < SHARE_NR; f++)
		if (have[f])
			bad[f] += share_batch(s, f, batch);
	sent = batch;
	start = now_ns();
	while (n < opt_max_batches) {
		for (f = 0; f < SHARE_NR; f++) {
			if (!have[f])
				continue;
			t0 = now_ns();
			bad[f] += share_batch(s, f, batch);
			t1 = now_ns();
			samples[(size_t)f * opt_max_batches + n] =
				(double)(t1 - t0) / batch;
		}
		sent += batch;
		n++;
		if (n >= opt_min_batches &&
		    t1 - start >= (uint64_t)opt_budget_ms * SHARE_NR * 1000000)
			break;
	}
	/* Both respool sources export once per message. */
	sent *= 2;
	share_stats_settled(s->rp_fd, &before, sent, &after);
	for (f = 0; f < SHARE_NR; f++) {
		double *x = samples + (size_t)f * opt_max_batches;

		if (!have[f])
			continue;
		qsort(x, n, sizeof(*x), cmp_double);
		res[f].batches = n;
		res[f].median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
		i = (unsigned int)(0.99 * n + 0.999999);
		res[f].p99 = x[(i ? i : 1) - 1];
		res[f].ops_per_s = 1e9 / res[f].median;
		snprintf(verified[f], sizeof(verified[f]), "bad_pages:%llu%s",
			 (unsigned long long)bad[f], bad[f] ? "(MISMATCH)" : "");
	}
	/* Every respool message exported once and back once the fd went. */
	books_ok = after.exports - before.exports == sent &&
		   after.export_returns - before.export_returns == sent;
	snprintf(books, sizeof(books), "exports:%llu/%llu,export_returns:%llu/%llu",
		 (unsigned long long)(after.exports - before.exports),
		 (unsigned long long)sent,
		 (unsigned long long)(after.export_returns - before.export_returns),
		 (unsigned long long)sent);
	for (f = SHARE_RESPOOL; f <= SHARE_RESPOOL_FD; f++)
		snprintf(verified[f], sizeof(verified[f]), "bad_pages:%llu,%s%s",
			 (unsigned long long)bad[f], books,
			 bad[f] || !books_ok ? "(MISMATCH)" : "");
	for (f = 0; f < SHARE_NR; f++) {
		char name[32];

		if (!have[f])
			continue;
		snprintf(name, sizeof(name), "share_%s", share_names[f]);
		printf("bench: %s size=%zu median_ns=%.0f p99_ns=%.0f "
		       "batches=%u threads=2 ops_per_s=%.0f batch=%u "
		       "verified=%s\n", name, s->size, res[f].median,
		       res[f].p99, res[f].batches, res[f].ops_per_s, batch,
		       verified[f]);
	}
	free(samples);
}

static void run_share(void)
{
	static const char *const na = "n/a (no dma-buf heaps on this kernel)";
	struct result res[MAX_SIZES][SHARE_NR];
	bool have[SHARE_NR] = { true, true, true, true };
	const char *heap_why = "no_dma-buf_heaps_on_this_kernel";
	struct share s = { 0 };
	int sv[2], status;
	unsigned int k;
	pid_t pid;

	memset(res, 0, sizeof(res));
	reload("");
	printf("\n== share: producer -> consumer (another process, same CPU), "
	       "one buffer per message passed as an fd over a unix socket "
	       "(SCM_RIGHTS); the producer stamps every page, the consumer "
	       "maps the fd and reads every page ==\n");
	s.rp_fd = open(RESPOOL_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	if (s.rp_fd < 0)
		die(RESPOOL_DEFAULT_PATH);
	s.heap_fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (s.heap_fd < 0) {
		have[SHARE_HEAP] = false;
		if (errno != ENOENT)
			heap_why = "/dev/dma_heap/system_cannot_be_opened";
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(sv[0]);
		share_consumer(sv[1]);
	}
	close(sv[1]);
	s.sock = sv[0];

	for (k = 0; k < nr_sizes; k++) {
		s.size = sizes[k];
		share_point(&s, res[k], have);
		if (have[SHARE_HEAP])
			print_ratio("share_respool/dmaheap", s.size,
				    res[k][SHARE_RESPOOL].median /
				    res[k][SHARE_HEAP].median,
				    s.size >= 65536 ? 0.5 : 0);
		print_ratio("share_respool/memfd", s.size,
			    res[k][SHARE_RESPOOL].median /
			    res[k][SHARE_MEMFD].median, 0);
		if (have[SHARE_HEAP])
			print_ratio("share_respool_mapfd/dmaheap", s.size,
				    res[k][SHARE_RESPOOL_FD].median /
				    res[k][SHARE_HEAP].median, 0);
	}
	if (!have[SHARE_HEAP])
		printf("bench: skip share_dmaheap reason=%s\n", heap_why);
	close(s.sock);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "bench: the share consumer failed\n");
	close(s.rp_fd);
	if (s.heap_fd >= 0)
		close(s.heap_fd);

	printf("\nshare: us per message, median / p99 (goal of issue 16: "
	       "respool <= 0.5 x dmaheap at 64K and 1M)\n");
	printf("%8s  %-19s  %-19s  %-37s  %-19s  %12s  %13s\n", "size",
	       "respool", "respool (map fd)", "dmaheap", "memfd",
	       "respool/heap", "respool/memfd");
	for (k = 0; k < nr_sizes; k++) {
		char c[SHARE_NR][48], rh[16];
		unsigned int f;

		for (f = 0; f < SHARE_NR; f++)
			snprintf(c[f], sizeof(c[f]), "%.1f / %.1f",
				 res[k][f].median / 1e3, res[k][f].p99 / 1e3);
		if (have[SHARE_HEAP])
			snprintf(rh, sizeof(rh), "%.2f",
				 res[k][SHARE_RESPOOL].median /
				 res[k][SHARE_HEAP].median);
		else
			snprintf(rh, sizeof(rh), "n/a");
		printf("%8zu  %-19s  %-19s  %-37s  %-19s  %12s  %13.2f\n",
		       sizes[k], c[SHARE_RESPOOL], c[SHARE_RESPOOL_FD],
		       have[SHARE_HEAP] ? c[SHARE_HEAP] : na, c[SHARE_MEMFD], rh,
		       res[k][SHARE_RESPOOL].median / res[k][SHARE_MEMFD].median);
	}
}

/* --- the fast path (issue 17): the hit cycle, and take-back ------------- */

/*
 * The cycle a client reusing buffers pays: allocate, write one word in
 * every page, free, on
 *   fast    librespool as it opens by default: with the fast path, a free
 *           keeps the block mapped in the thread's magazine and the next
 *           alloc of the size takes it back with one compare-and-exchange
 *           on the control page (a hit, no system call)
 *   today   librespool opened with RESPOOL_FASTPATH=0: ALLOC, mmap, touch,
 *           munmap, FREE (the cycle of issue 17's report)
 *   malloc  malloc/free of the size, glibc as the process has it: its
 *           mmap threshold is dynamic, so after the warm-up's first free
 *           of a 1 MiB mmapped chunk it is above 1 MiB and every size is
 *           a heap hit (cycle_malloc_mmapped= says what the last malloc
 *           was)
 *   anon    mmap/munmap MAP_ANONYMOUS of the size
 * measured side by side (measure_set), on 1 thread and on 2 (one per CPU,
 * each its own loop; both on the same struct respool, so each has its own
 * magazine). Beside today and anon, which map and unmap memory every
 * cycle, fast and malloc pay for their neighbours (the emulator's TLB), so
 * the pair fast, malloc is also measured alone on 1 thread ("quiet"), with
 * glibc as is and then after mallopt(M_MMAP_THRESHOLD, 32 MiB) ("nommap":
 * malloc's heap path pinned, whatever the process freed before). The environment variable is read by respool_open(), so it is
 * set around the one open of "today" only. That the fast column is hits
 * is checked: its cycles must make (almost) no ALLOC ioctl (the pool's
 * allocs counter, verified=). Goals of issue 17: fast/malloc <= 1, and
 * today/fast >= 50 at 4 KiB.
 */
static void touch_words(void *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += page_size)
		*(volatile uint64_t *)((char *)p + i) = i;
}

static void cycle_lib(struct respool *pool, size_t size)
{
	void *p = respool_alloc(pool, size, 0, 0);

	if (!p)
		die("respool_alloc (cycle)");
	touch_words(p, size);
	errno = -respool_free(pool, p);
	if (errno)
		die("respool_free (cycle)");
}

static void op_cyc_fast(struct ctx *c)
{
	cycle_lib(c->pool, c->size);
}

static void op_cyc_today(struct ctx *c)
{
	cycle_lib(c->pool2, c->size);
}

static void op_cyc_malloc(struct ctx *c)
{
	void *p = malloc(c->size);

	if (!p)
		die("malloc (cycle)");
	touch_words(p, c->size);
	__asm__ volatile("" : : "r"(p) : "memory");
	free(p);
}

static void op_cyc_anon(struct ctx *c)
{
	void *p = mmap(NULL, c->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap (cycle)");
	touch_words(p, c->size);
	if (munmap(p, c->size))
		die("munmap (cycle)");
}

/* librespool on a new file, RESPOOL_FASTPATH=0 when !fast, else as is. */
static struct respool *open_fastpath(bool fast)
{
	const char *old = getenv("RESPOOL_FASTPATH");
	char *save = old ? strdup(old) : NULL;
	struct respool *pool;

	/* Single-threaded here: nobody reads the environment meanwhile. */
	if (fast)
		unsetenv("RESPOOL_FASTPATH");
	else
		setenv("RESPOOL_FASTPATH", "0", 1);
	pool = respool_open();
	if (save)
		setenv("RESPOOL_FASTPATH", save, 1);
	else
		unsetenv("RESPOOL_FASTPATH");
	free(save);
	if (!pool)
		die("open /dev/respool (fast path)");
	return pool;
}

/* Does the loaded module have the control page (issue 17)? */
static bool kernel_has_ctl(void)
{
	int fd = open(RESPOOL_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	void *p;

	if (fd < 0)
		die(RESPOOL_DEFAULT_PATH);
	p = mmap(NULL, RESPOOL_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, RESPOOL_CTL_OFFSET);
	if (p != MAP_FAILED)
		munmap(p, RESPOOL_CTL_SIZE);
	close(fd);
	return p != MAP_FAILED;
}

/* Would malloc(@size) be an mmapped chunk now? (glibc's count of them) */
static bool malloc_is_mmapped(size_t size)
{
	size_t before = mallinfo2().hblks;
	void *p = malloc(size);
	bool mm;

	if (!p)
		die("malloc");
	__asm__ volatile("" : : "r"(p) : "memory");
	mm = mallinfo2().hblks > before;
	free(p);
	return mm;
}

/*
 * measure_set() on @nt threads (one per CPU, each its own loop on the
 * shared @c): every batch of each operation starts on all threads at once
 * (a barrier), so the operations compared see the same moments and the
 * same contention. A result's median is over all threads' batch means.
 */
struct setmt {
	const op_fn *fns;
	unsigned int nf, nt, n;
	struct ctx *c;
	pthread_barrier_t bar;
	volatile int stop;
	double *samples;	/* [thread][fn][batch] */
};

struct setmt_arg {
	struct setmt *s;
	unsigned int id;
};

static void *setmt_thread(void *p)
{
	struct setmt_arg *a = p;
	struct setmt *s = a->s;
	uint64_t start = 0, t0, t1 = 0;
	unsigned int f, i, n = 0;

	iso_pin(a->id);
	for (f = 0; f < s->nf; f++)
		for (i = 0; i < opt_batch; i++)
			s->fns[f](s->c);
	pthread_barrier_wait(&s->bar);
	start = now_ns();
	for (;;) {
		for (f = 0; f < s->nf; f++) {
			pthread_barrier_wait(&s->bar);
			t0 = now_ns();
			for (i = 0; i < opt_batch; i++)
				s->fns[f](s->c);
			t1 = now_ns();
			s->samples[((size_t)a->id * s->nf + f) * opt_max_batches + n] =
				(double)(t1 - t0) / opt_batch;
		}
		n++;
		pthread_barrier_wait(&s->bar);
		if (!a->id && (n >= opt_max_batches ||
			       (n >= opt_min_batches &&
				t1 - start >= (uint64_t)opt_budget_ms * s->nf * 1000000))) {
			s->stop = 1;
			s->n = n;
		}
		pthread_barrier_wait(&s->bar);
		if (s->stop)
			break;
	}
	return NULL;
}

static void measure_set_mt(const op_fn *fns, unsigned int nf, struct ctx *c,
			   unsigned int nt, struct result *res)
{
	struct setmt s = { .fns = fns, .nf = nf, .nt = nt, .c = c };
	struct setmt_arg a[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	double *x;
	unsigned int i, f, t, n;

	s.samples = calloc((size_t)nt * nf * opt_max_batches, sizeof(double));
	x = calloc((size_t)nt * opt_max_batches, sizeof(double));
	if (!s.samples || !x)
		die("calloc");
	pthread_barrier_init(&s.bar, NULL, nt);
	for (t = 0; t < nt; t++) {
		a[t] = (struct setmt_arg){ &s, t };
		if (pthread_create(&th[t], NULL, setmt_thread, &a[t]))
			die("pthread_create");
	}
	for (t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&s.bar);
	for (f = 0; f < nf; f++) {
		for (n = 0, t = 0; t < nt; t++)
			for (i = 0; i < s.n; i++)
				x[n++] = s.samples[((size_t)t * nf + f) *
						   opt_max_batches + i];
		qsort(x, n, sizeof(*x), cmp_double);
		res[f].batches = n;
		res[f].median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
		i = (unsigned int)(0.99 * n + 0.999999);
		res[f].p99 = x[(i ? i : 1) - 1];
		res[f].ops_per_s = res[f].median > 0 ? nt * 1e9 / res[f].median : 0;
	}
	iso_pin(0);
	free(x);
	free(s.samples);
}

static void print_ratio_th(const char *name, size_t size, unsigned int nt,
			   double value, double goal, bool ge)
{
	printf("bench: ratio %s size=%zu threads=%u value=%.4f", name, size, nt,
	       value);
	if (goal > 0)
		printf(" goal=%s%.2f met=%s", ge ? ">=" : "", goal,
		       (ge ? value >= goal : value <= goal) ? "yes" : "no");
	printf("\n");
}

struct cyc_verify {
	struct respool *pool;
	size_t size;
	unsigned int n;
};

static void *cyc_verify_thread(void *p)
{
	struct cyc_verify *v = p;
	unsigned int i;

	for (i = 0; i < v->n; i++)
		cycle_lib(v->pool, v->size);
	return NULL;
}

/*
 * @n fast cycles on each of @nt threads (after one each to fill the
 * magazines): how many made an ALLOC ioctl, as the pool counts them.
 */
static const char *cyc_verify(struct respool *pool, size_t size,
			      unsigned int nt, char *buf, size_t len)
{
	struct cyc_verify v = { pool, size, 1 };
	struct respool_stats a, b;
	pthread_t th[MAX_THREADS];
	unsigned int t;

	for (int pass = 0; pass < 2; pass++) {
		if (pass) {
			stats(respool_fd(pool), &a);
			v.n = 20 * opt_batch;
		}
		for (t = 0; t < nt; t++)
			if (pthread_create(&th[t], NULL, cyc_verify_thread, &v))
				die("pthread_create");
		for (t = 0; t < nt; t++)
			pthread_join(th[t], NULL);
	}
	stats(respool_fd(pool), &b);
	snprintf(buf, len, "ioctl_allocs:%llu/%u,takebacks:%llu%s",
		 (unsigned long long)(b.allocs - a.allocs), v.n * nt,
		 (unsigned long long)(b.takebacks - a.takebacks),
		 (b.allocs - a.allocs) * 100 <= v.n * nt ? "" : "(MISMATCH)");
	return buf;
}

enum { CYC_FAST, CYC_TODAY, CYC_MALLOC, CYC_ANON, CYC_NR };
static const char *const cyc_names[CYC_NR] = {
	"fast", "today", "malloc", "anon",
};

static void run_cycle(void)
{
	static const op_fn fns[CYC_NR] = {
		op_cyc_fast, op_cyc_today, op_cyc_malloc, op_cyc_anon,
	};
	struct result res[MAX_SIZES][MAX_THREADS][CYC_NR];
	struct result quiet[MAX_SIZES][2][2];	/* [as is, nommap][fast, malloc] */
	unsigned int nts = opt_mt && sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
	bool mmapped[MAX_SIZES], ctl;
	struct ctx c = { .heap_fd = -1 };
	char verified[MAX_SIZES][MAX_THREADS][96];
	unsigned int s, nt, f, k;

	reload("");
	ctl = kernel_has_ctl();
	printf("\n== cycle: alloc, write one word per page, free (issue 17); "
	       "the module %s the control page ==\n",
	       ctl ? "has" : "has NOT (no fast path: fast = today)");
	printf("bench: cycle kernel_fastpath=%s\n", ctl ? "yes" : "no");
	c.pool = open_fastpath(true);
	c.pool2 = open_fastpath(false);
	c.fd = respool_fd(c.pool);
	c.fd2 = respool_fd(c.pool2);
	c.touch = true;
	memset(res, 0, sizeof(res));
	for (s = 0; s < nr_sizes; s++) {
		c.size = sizes[s];
		for (nt = 1; nt <= nts; nt++) {
			struct result *r = res[s][nt - 1];
			char name[48];

			cyc_verify(c.pool, c.size, nt, verified[s][nt - 1],
				   sizeof(verified[s][nt - 1]));
			if (nt == 1)
				measure_set(fns, CYC_NR, &c, r);
			else
				measure_set_mt(fns, CYC_NR, &c, nt, r);
			for (f = 0; f < CYC_NR; f++) {
				snprintf(name, sizeof(name), "cycle_%s",
					 cyc_names[f]);
				print_result_t(name, c.size, r[f], nt,
					       f == CYC_FAST ?
					       verified[s][nt - 1] : NULL);
			}
			print_ratio_th("cycle_fast/malloc", c.size, nt,
				       r[CYC_FAST].median / r[CYC_MALLOC].median,
				       1.0, false);
			print_ratio_th("cycle_today/fast", c.size, nt,
				       r[CYC_TODAY].median / r[CYC_FAST].median,
				       c.size == 4096 ? 50 : 0, true);
			print_ratio_th("cycle_fast/anon", c.size, nt,
				       r[CYC_FAST].median / r[CYC_ANON].median,
				       0, false);
		}
		mmapped[s] = malloc_is_mmapped(c.size);
		printf("bench: cycle_malloc_mmapped size=%zu value=%s\n",
		       c.size, mmapped[s] ? "yes" : "no");
	}
	/* The pair alone; then glibc's mmap threshold above every size. */
	for (k = 0; k < 2; k++) {
		static const op_fn pair[2] = { op_cyc_fast, op_cyc_malloc };
		const char *sfx = k ? "nommap" : "quiet";
		char name[48];

		if (k)
			mallopt(M_MMAP_THRESHOLD, 32 << 20);
		for (s = 0; s < nr_sizes; s++) {
			struct result *q = quiet[s][k];

			c.size = sizes[s];
			measure_set(pair, 2, &c, q);
			snprintf(name, sizeof(name), "cycle_fast_%s", sfx);
			print_result_t(name, c.size, q[0], 1, NULL);
			snprintf(name, sizeof(name), "cycle_malloc_%s", sfx);
			print_result_t(name, c.size, q[1], 1, NULL);
			snprintf(name, sizeof(name), "cycle_fast/malloc_%s", sfx);
			print_ratio_th(name, c.size, 1,
				       q[0].median / q[1].median, 1.0, false);
		}
	}
	respool_close(c.pool2);
	respool_close(c.pool);

	printf("\ncycle: ns per alloc+touch+free cycle, median of batch means "
	       "(%u cycles a batch), per thread\n"
	       "  fast    librespool, fast path on (the default): a hit in the "
	       "thread's magazine, no system call\n"
	       "  today   librespool, RESPOOL_FASTPATH=0: ALLOC, mmap, touch, "
	       "munmap, FREE\n"
	       "  malloc  malloc/free, glibc as is (mm: the last malloc was "
	       "mmapped)\n"
	       "  anon    mmap/munmap MAP_ANONYMOUS\n"
	       "  thr     threads, each its own loop, one per CPU, one struct "
	       "respool\n"
	       "  quiet   fast and malloc measured alone, side by side, 1 "
	       "thread (no neighbour mapping and unmapping)\n"
	       "  nommap  the same after mallopt(M_MMAP_THRESHOLD, 32M)\n"
	       "  goals   fast/malloc <= 1 (each pair); today/fast >= 50 at "
	       "4096\n",
	       opt_batch);
	printf("%8s %3s %9s %9s %9s %9s %11s %10s %9s\n", "size", "thr",
	       "fast", "today", "malloc", "anon", "fast/malloc", "today/fast",
	       "fast/anon");
	for (s = 0; s < nr_sizes; s++) {
		for (nt = 1; nt <= nts; nt++) {
			struct result *r = res[s][nt - 1];

			printf("%8zu %3u %9.0f %9.0f %6.0f%3s %9.0f %11.2f "
			       "%10.1f %9.4f\n", sizes[s], nt, r[CYC_FAST].median,
			       r[CYC_TODAY].median, r[CYC_MALLOC].median,
			       mmapped[s] ? " mm" : "", r[CYC_ANON].median,
			       r[CYC_FAST].median / r[CYC_MALLOC].median,
			       r[CYC_TODAY].median / r[CYC_FAST].median,
			       r[CYC_FAST].median / r[CYC_ANON].median);
		}
	}
	printf("%8s %3s %31s %31s\n", "", "", "quiet, glibc as is",
	       "quiet, mmap threshold 32M");
	printf("%8s %3s %9s %9s %11s %9s %9s %11s\n", "size", "thr",
	       "fast", "malloc", "fast/malloc", "fast", "nommap",
	       "fast/nommap");
	for (s = 0; s < nr_sizes; s++) {
		struct result *q = quiet[s][0], *m = quiet[s][1];

		printf("%8zu %3u %9.0f %9.0f %11.2f %9.0f %9.0f %11.2f\n",
		       sizes[s], 1, q[0].median, q[1].median,
		       q[0].median / q[1].median, m[0].median, m[1].median,
		       m[0].median / m[1].median);
	}
	printf("\n");
}

/*
 * A waiter served by a take-back, next to an ordinary handoff. Capacity
 * is TB_BLOCKS blocks of the size; client A (its own file) holds all of
 * them, and client B's ALLOC has to wait for one. Each round, in turn:
 *
 *   handoff   B's ALLOC (a thread on the same CPU) is queued (the pool's
 *             waiters >= 1); A FREEs one block by ioctl; the time from
 *             A's FREE call to B's ALLOC returning: the pool hands the
 *             block to B and wakes it
 *   takeback  A has its last block mapped, every page touched and then
 *             kept (slot INUSE -> KEPT on its control page, raw, as
 *             librespool does in its free), so the pool is full; B's
 *             ALLOC, whole: it finds no room, queues, takes A's block
 *             back (unmapping it from A) and is served
 *   room      the control: A FREEs that block by ioctl first; B's ALLOC,
 *             whole, finds it free
 *
 * What is comparable: from the moment the block could be B's to B holding
 * it. In handoff that moment is A's FREE (the block was A's until then);
 * in takeback the block was available all along (kept, idle) so it is B's
 * whole ALLOC. Both include one system call and the clearing of the block
 * for another client (B gets zeroed memory every time); handoff also a
 * wakeup and a switch to B, takeback the unmapping from A. room is the
 * floor of B's ALLOC. Goal of issue 17: takeback within 2x of handoff.
 * Each sample is one event, timed alone (not batched). Checked with the
 * pool's counters: handoffs, takebacks and waits (verified=).
 */
#define TB_BLOCKS	4

struct tb {
	int fa, fb;
	size_t size;
	struct respool_ctl *ctl;		/* A's control page */
	const volatile struct respool_shared *sh;	/* the pool page */
	__u64 held[TB_BLOCKS - 1];		/* A's other blocks */
	int go, done;				/* eventfds A -> B, B -> A */
	volatile uint64_t t_free;
	volatile double lat;
	volatile int quit;
	/* B's ALLOCs of takeback and room served by fresh pages. */
	unsigned int fresh[2];
};

/* Around B's timed ALLOC, untimed: was it served by fresh pages? */
static void tb_count_fresh(struct tb *t, unsigned int *n,
			   const struct respool_stats *before)
{
	struct respool_stats after;

	stats(t->fb, &after);
	*n += after.fresh_allocs != before->fresh_allocs;
}

static void efd_post(int fd)
{
	uint64_t v = 1;

	if (write(fd, &v, sizeof(v)) != sizeof(v))
		die("write eventfd");
}

static void efd_wait(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		die("read eventfd");
}

static __u64 tb_alloc(int fd, size_t size)
{
	struct respool_alloc a = { .size = size };

	if (ioctl(fd, RESPOOL_IOC_ALLOC, &a))
		die("RESPOOL_IOC_ALLOC (takeback)");
	return a.handle;
}

static void tb_free(int fd, __u64 handle)
{
	struct respool_free f = { .handle = handle };

	if (ioctl(fd, RESPOOL_IOC_FREE, &f))
		die("RESPOOL_IOC_FREE (takeback)");
}

/* A's last block: ALLOC, mmap, touch, munmap (A's round, untimed). */
static __u64 tb_a_block(struct tb *t, void **map)
{
	struct respool_alloc a = { .size = t->size };
	void *p;

	if (ioctl(t->fa, RESPOOL_IOC_ALLOC, &a))
		die("RESPOOL_IOC_ALLOC (takeback)");
	p = mmap(NULL, a.block_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 t->fa, a.offset);
	if (p == MAP_FAILED)
		die("mmap (takeback)");
	touch_words(p, t->size);
	if (map) {
		*map = p;
		return a.handle;
	}
	munmap(p, a.block_size);
	return a.handle;
}

static void *tb_b_thread(void *p)
{
	struct tb *t = p;
	__u64 h;

	for (;;) {
		efd_wait(t->go);
		if (t->quit)
			break;
		h = tb_alloc(t->fb, t->size);
		t->lat = (double)(now_ns() - t->t_free);
		tb_free(t->fb, h);
		efd_post(t->done);
	}
	return NULL;
}

/* One handoff: A holds every block, B queued; A's FREE to B's return. */
static double tb_handoff(struct tb *t)
{
	struct respool_stats st;
	__u64 h = tb_a_block(t, NULL);

	efd_post(t->go);
	do {
		usleep(200);
		stats(t->fa, &st);
	} while (st.waiters < 1);
	t->t_free = now_ns();
	tb_free(t->fa, h);
	efd_wait(t->done);
	return t->lat;
}

/*
 * One take-back: A keeps its last block (the protocol of librespool's
 * free), B's whole ALLOC. < 0: A could not keep it (no sample).
 */
static double tb_takeback(struct tb *t, unsigned int *lost)
{
	struct respool_stats st;
	__u32 w, kept, now;
	uint64_t t0, t1;
	void *p;
	__u64 h = tb_a_block(t, &p), hb;

	w = h < t->ctl->nr_slots ?
	    __atomic_load_n(&t->ctl->slots[h], __ATOMIC_ACQUIRE) : 0;
	kept = (w & ~RESPOOL_SLOT_STATE_MASK & ~RESPOOL_SLOT_IDLE) |
	       RESPOOL_SLOT_KEPT;
	if ((w & RESPOOL_SLOT_STATE_MASK) != RESPOOL_SLOT_INUSE ||
	    !__atomic_compare_exchange_n(&t->ctl->slots[h], &w, kept, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		goto not_kept;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (t->sh->waiters || t->sh->reclaim) {
		now = kept;
		if (__atomic_compare_exchange_n(&t->ctl->slots[h], &now, w,
						false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			goto not_kept;
		munmap(p, t->size);
		return -1;
	}
	stats(t->fb, &st);
	t0 = now_ns();
	hb = tb_alloc(t->fb, t->size);
	t1 = now_ns();
	tb_count_fresh(t, &t->fresh[0], &st);
	now = __atomic_load_n(&t->ctl->slots[h], __ATOMIC_ACQUIRE);
	if ((now & RESPOOL_SLOT_STATE_MASK) != RESPOOL_SLOT_TAKEN) {
		/* Served without it (the pool had room?): give it back. */
		(*lost)++;
		if (__atomic_compare_exchange_n(&t->ctl->slots[h], &kept, w,
						false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			tb_free(t->fa, h);
		munmap(p, t->size);
		tb_free(t->fb, hb);
		return -1;
	}
	munmap(p, t->size);
	tb_free(t->fb, hb);
	return (double)(t1 - t0);
not_kept:
	munmap(p, t->size);
	tb_free(t->fa, h);
	return -1;
}

/* The control: A FREEs its last block first, B's whole ALLOC. */
static double tb_room(struct tb *t)
{
	struct respool_stats st;
	uint64_t t0, t1;
	__u64 h;

	tb_free(t->fa, tb_a_block(t, NULL));
	stats(t->fb, &st);
	t0 = now_ns();
	h = tb_alloc(t->fb, t->size);
	t1 = now_ns();
	tb_count_fresh(t, &t->fresh[1], &st);
	tb_free(t->fb, h);
	return (double)(t1 - t0);
}

enum { TB_HANDOFF, TB_TAKEBACK, TB_ROOM, TB_NR };
static const char *const tb_names[TB_NR] = { "handoff", "takeback", "room" };

/* Single events at 1 MiB are ms long and heavy-tailed: 101 at least. */
#define TB_MIN_ROUNDS	101
#define TB_MAX_ROUNDS	400

static void run_takeback(void)
{
	double med[MAX_SIZES][TB_NR], p99[MAX_SIZES][TB_NR];
	unsigned int s, k, i;
	bool have_tb = true;

	memset(med, 0, sizeof(med));
	memset(p99, 0, sizeof(p99));
	if (!reload("")) {
		printf("bench: skip takeback reason=needs_root_and_RESPOOL_KO\n");
		return;
	}
	printf("\n== takeback: capacity = %d blocks, client A holds them all; "
	       "client B's ALLOC served by A's FREE (handoff), by taking back "
	       "the block A keeps (takeback), or with the block already free "
	       "(room) ==\n", TB_BLOCKS);
	for (s = 0; s < nr_sizes; s++) {
		struct tb t = { .size = sizes[s] };
		double *x[TB_NR];
		unsigned int n[TB_NR] = { 0 }, lost = 0, rounds;
		struct respool_stats st0, st1;
		char params[64], verified[TB_NR][96];
		pthread_t th;
		uint64_t start;

		snprintf(params, sizeof(params), "capacity=%zu",
			 TB_BLOCKS * sizes[s]);
		reload(params);
		t.fa = open(RESPOOL_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
		t.fb = open(RESPOOL_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
		t.go = eventfd(0, EFD_CLOEXEC);
		t.done = eventfd(0, EFD_CLOEXEC);
		if (t.fa < 0 || t.fb < 0 || t.go < 0 || t.done < 0)
			die("takeback setup");
		t.ctl = mmap(NULL, RESPOOL_CTL_SIZE, PROT_READ | PROT_WRITE,
			     MAP_SHARED, t.fa, RESPOOL_CTL_OFFSET);
		t.sh = mmap(NULL, RESPOOL_SHARED_SIZE, PROT_READ, MAP_SHARED,
			    t.fa, RESPOOL_SHARED_OFFSET);
		if (t.ctl == MAP_FAILED || t.sh == MAP_FAILED) {
			have_tb = false;
			t.ctl = NULL;
			t.sh = NULL;
		}
		/* After the control page: its ALLOCs write their slots. */
		for (i = 0; i < TB_BLOCKS - 1; i++)
			t.held[i] = tb_alloc(t.fa, t.size);
		for (k = 0; k < TB_NR; k++) {
			x[k] = calloc(TB_MAX_ROUNDS, sizeof(double));
			if (!x[k])
				die("calloc");
		}
		if (pthread_create(&th, NULL, tb_b_thread, &t))
			die("pthread_create (takeback)");
		/* One round of each to warm up, then the rounds measured. */
		tb_handoff(&t);
		tb_room(&t);
		if (have_tb)
			tb_takeback(&t, &lost);
		lost = 0;
		t.fresh[0] = t.fresh[1] = 0;
		stats(t.fa, &st0);
		start = now_ns();
		for (rounds = 0; rounds < TB_MAX_ROUNDS; rounds++) {
			double v;

			x[TB_HANDOFF][n[TB_HANDOFF]++] = tb_handoff(&t);
			if (have_tb && (v = tb_takeback(&t, &lost)) >= 0)
				x[TB_TAKEBACK][n[TB_TAKEBACK]++] = v;
			x[TB_ROOM][n[TB_ROOM]++] = tb_room(&t);
			if (rounds + 1 >= TB_MIN_ROUNDS &&
			    now_ns() - start >= (uint64_t)opt_budget_ms * 3000000)
				break;
		}
		stats(t.fa, &st1);
		t.quit = 1;
		efd_post(t.go);
		pthread_join(th, NULL);
		/*
		 * A handoff round is one handoff and one wait; a takeback
		 * round one take-back, one wait and one handoff (the block
		 * taken back goes to the waiter as a freed one would); a
		 * room round neither.
		 */
		snprintf(verified[TB_HANDOFF], 96, "handoffs:%llu/%u%s",
			 (unsigned long long)(st1.handoffs - st0.handoffs),
			 n[TB_HANDOFF] + n[TB_TAKEBACK],
			 st1.handoffs - st0.handoffs ==
			 n[TB_HANDOFF] + n[TB_TAKEBACK] ? "" : "(MISMATCH)");
		snprintf(verified[TB_TAKEBACK], 96,
			 "takebacks:%llu/%u,lost:%u,fresh:%u%s",
			 (unsigned long long)(st1.takebacks - st0.takebacks),
			 n[TB_TAKEBACK], lost, t.fresh[0],
			 st1.takebacks - st0.takebacks == n[TB_TAKEBACK] &&
			 !lost ? "" : "(MISMATCH)");
		snprintf(verified[TB_ROOM], 96, "pool_waits:%llu/%u,fresh:%u%s",
			 (unsigned long long)(st1.waits - st0.waits),
			 n[TB_HANDOFF] + n[TB_TAKEBACK], t.fresh[1],
			 st1.waits - st0.waits == n[TB_HANDOFF] + n[TB_TAKEBACK] ?
			 "" : "(MISMATCH)");
		for (k = 0; k < TB_NR; k++) {
			if (!n[k])
				continue;
			med[s][k] = median(x[k], n[k]);
			p99[s][k] = pct(x[k], n[k], 99);
			printf("bench: takeback_%s size=%zu median_ns=%.0f "
			       "p99_ns=%.0f samples=%u verified=%s\n",
			       tb_names[k], sizes[s], med[s][k], p99[s][k],
			       n[k], verified[k]);
		}
		if (n[TB_TAKEBACK])
			print_ratio("takeback/handoff", sizes[s],
				    med[s][TB_TAKEBACK] / med[s][TB_HANDOFF],
				    2.0);
		print_ratio("handoff/room", sizes[s],
			    med[s][TB_HANDOFF] / med[s][TB_ROOM], 0);
		for (i = 0; i < TB_BLOCKS - 1; i++)
			tb_free(t.fa, t.held[i]);
		for (k = 0; k < TB_NR; k++)
			free(x[k]);
		if (t.ctl) {
			munmap(t.ctl, RESPOOL_CTL_SIZE);
			munmap((void *)t.sh, RESPOOL_SHARED_SIZE);
		}
		close(t.go);
		close(t.done);
		close(t.fa);
		close(t.fb);
	}
	if (!have_tb)
		printf("bench: skip takeback_takeback reason=no_control_page_"
		       "(module_without_the_fast_path)\n");

	printf("\ntakeback: us until B holds the block, median / p99; "
	       "capacity %d blocks, A holds all\n"
	       "  handoff   B queued; from A's FREE call to B's ALLOC "
	       "returning (FREE, handoff, wakeup, switch)\n"
	       "  takeback  A keeps its last block (slot KEPT); B's whole "
	       "ALLOC: queue, take back, unmap from A, serve\n"
	       "  room      control: the block already free; B's whole ALLOC\n"
	       "  B gets a zeroed block in all three; goal: takeback/handoff "
	       "<= 2\n", TB_BLOCKS);
	printf("%8s  %-19s  %-19s  %-19s  %16s  %12s\n", "size", "handoff",
	       "takeback", "room", "takeback/handoff", "handoff/room");
	for (s = 0; s < nr_sizes; s++) {
		char c[TB_NR][48], r[16];

		for (k = 0; k < TB_NR; k++)
			snprintf(c[k], sizeof(c[k]), "%.1f / %.1f",
				 med[s][k] / 1e3, p99[s][k] / 1e3);
		if (med[s][TB_TAKEBACK] > 0)
			snprintf(r, sizeof(r), "%.2f",
				 med[s][TB_TAKEBACK] / med[s][TB_HANDOFF]);
		else
			snprintf(r, sizeof(r), "n/a");
		printf("%8zu  %-19s  %-19s  %-19s  %16s  %12.2f\n", sizes[s],
		       c[TB_HANDOFF], med[s][TB_TAKEBACK] > 0 ?
		       c[TB_TAKEBACK] : "n/a", c[TB_ROOM], r,
		       med[s][TB_HANDOFF] / med[s][TB_ROOM]);
	}
	printf("\n");
}

static void print_table(void)
{
	unsigned int s, k;

	printf("\n== table ==\n");
	printf("median ns per operation, 1 thread unless /2T (pair = ALLOC+FREE "
	       "ioctls; +t = block mmapped, every page touched, munmapped; "
	       "cross = two files taking turns, zeroing; lib = librespool "
	       "cycle; dmaheap = alloc+mmap+munmap+close; 0 = not measured)\n");
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
	printf("== end table ==\n");
	/* The same as CSV, for run.sh. */
	printf("bench-csv: size");
	for (k = 0; k < NR_COLS; k++)
		printf(",%s", col_names[k]);
	printf("\n");
	for (s = 0; s < nr_sizes; s++) {
		printf("bench-csv: %zu", sizes[s]);
		for (k = 0; k < NR_COLS; k++)
			printf(",%.0f", table[s][k]);
		printf("\n");
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench [--sizes S,S,...] [--batch N] [--budget-ms MS]\n"
		"             [--phases pcpu,reserve,fresh,share,handoff,\n"
		"                       fairness,isolation,cycle,takeback]\n"
		"             [--no-reload] [--no-mt] [--handoff-max Q]\n"
		"             [--handoff-sched other|fifo|both]\n"
		"             [--fair-procs N] [--fair-ms MS]\n"
		"             [--iso-ms MS] [--iso-hold-us US] [--iso-size S]\n"
		"Runs as root in the test VM (tools/bench/run.sh); reloads\n"
		"$RESPOOL_KO per phase unless --no-reload (then the handoff,\n"
		"fairness and isolation phases are skipped).\n");
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
		{ "no-mt", no_argument, NULL, 'm' },
		{ "handoff-max", required_argument, NULL, 'q' },
		{ "handoff-sched", required_argument, NULL, 'S' },
		{ "fair-procs", required_argument, NULL, 'f' },
		{ "fair-ms", required_argument, NULL, 'F' },
		{ "iso-ms", required_argument, NULL, 'I' },
		{ "iso-hold-us", required_argument, NULL, 'H' },
		{ "iso-size", required_argument, NULL, 'Z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *phase_list =
		"pcpu,reserve,fresh,share,handoff,fairness,isolation,cycle,"
		"takeback";
	struct utsname u;
	cpu_set_t cpus;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:b:t:p:nmq:S:f:F:I:H:Z:h", longopts,
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
		case 'm':
			opt_mt = false;
			break;
		case 'S':
			if (strcmp(optarg, "fifo") && strcmp(optarg, "other") &&
			    strcmp(optarg, "both")) {
				usage(stderr);
				return 2;
			}
			opt_handoff_sched = optarg;
			break;
		case 'q':
			opt_handoff_max = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			opt_fair_procs = strtoul(optarg, NULL, 0) ?: 1;
			break;
		case 'F':
			opt_fair_ms = strtoul(optarg, NULL, 0);
			break;
		case 'I':
			opt_iso_ms = strtoul(optarg, NULL, 0) ?: 1;
			break;
		case 'H':
			opt_iso_hold_us = strtoul(optarg, NULL, 0);
			break;
		case 'Z':
			opt_iso_size = strtoul(optarg, NULL, 0);
			if (opt_iso_size < (size_t)sysconf(_SC_PAGESIZE)) {
				usage(stderr);
				return 2;
			}
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
	if (strstr(phase_list, "pcpu") || strstr(phase_list, "reserve") ||
	    strstr(phase_list, "fresh"))
		print_table();
	if (strstr(phase_list, "share"))
		run_share();
	if (strstr(phase_list, "handoff"))
		run_handoff();
	if (strstr(phase_list, "fairness"))
		run_fairness();
	if (strstr(phase_list, "isolation"))
		run_isolation();
	if (strstr(phase_list, "cycle"))
		run_cycle();
	if (strstr(phase_list, "takeback"))
		run_takeback();
	/* Leave the module as a fresh load with its defaults. */
	reload("");
	return 0;
}
