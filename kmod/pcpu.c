// SPDX-License-Identifier: GPL-2.0
/*
 * pcpu.c - per-CPU caches of free blocks.
 *
 * Each CPU keeps up to pcpu_cache_blocks recently freed blocks, oldest
 * first; ALLOC takes the newest of the best fitting size (it is warm, and
 * it is usually the last entry). ALLOC and FREE on a CPU take only that
 * CPU's lock, which is uncontended but for the rare drain from another
 * CPU, so the common case touches no cache line shared between CPUs. A
 * miss on ALLOC goes to the reserve; a full cache on FREE spills its older
 * half to the reserve.
 *
 * Fairness: while anyone waits (pool->nr_waiters), both paths step aside
 * so that newcomers queue behind the waiters. They read nr_waiters under
 * their CPU lock; a waiter raises it under pool->lock before draining
 * every cache under its lock, so a fast path either ran before that drain
 * (and the drain sees its result) or sees the waiter. The drain takes
 * every CPU's lock, even of a cache that looks empty: a FREE that read
 * nr_waiters as 0 may be about to fill it.
 *
 * The settings (cache size, budget, over_capacity, threshold) are read
 * under the CPU lock too: a settings change writes them under pool->lock
 * and then drains every cache, so a fast path sees either the old
 * settings before the drain (which then empties the cache) or the new.
 */
#include <linux/percpu.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "block.h"
#include "pcpu.h"
#include "reserve.h"
#include "trace.h"
#include "inject.h"

int respool_pcpu_init(struct respool_pool *pool)
{
	int cpu;

	pool->cpu = alloc_percpu(struct respool_cpu);
	if (!pool->cpu)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(pool->cpu, cpu)->lock);
	return 0;
}

void respool_pcpu_exit(struct respool_pool *pool)
{
	free_percpu(pool->cpu);
}

/**
 * respool_pcpu_set_budget_locked() - recompute each cache's share of reserve_max
 * @pool:	the pool, pool->lock held
 *
 * Done when the settings change, so the free path divides nothing.
 */
void respool_pcpu_set_budget_locked(struct respool_pool *pool)
{
	u64 max = min(pool->cfg.reserve_max, pool->cfg.capacity);

	lockdep_assert_held(&pool->lock);
	WRITE_ONCE(pool->pcpu_budget, div_u64(max, num_possible_cpus()));
}

static void respool_pcpu_remove(struct respool_cpu *c, unsigned int i)
{
	c->bytes -= c->blocks[i]->size;
	c->nr--;
	if (i < c->nr)
		memmove(&c->blocks[i], &c->blocks[i + 1],
			(c->nr - i) * sizeof(c->blocks[0]));
}

/**
 * respool_pcpu_get() - take the best fitting block from this CPU's cache
 * @pool:	the pool
 * @need:	page-aligned bytes
 * @max_size:	skip blocks larger than this (respool_block_fits_limit())
 * @rejected:	set when a larger block was skipped by the threshold rule
 *		or @max_size
 *
 * Among blocks of the best size the newest wins: its data is the most
 * likely to be warm in this CPU's caches, and in the common case (freed
 * by the last FREE here) it is the last entry, found at once and removed
 * without moving the others.
 *
 * Context: process context; takes this CPU's cache lock.
 * Return: the smallest fitting block, or NULL on a miss or while anyone
 * waits.
 */
struct respool_block *respool_pcpu_get(struct respool_pool *pool, u64 need,
				       u64 max_size, bool *rejected)
{
	struct respool_block *b = NULL;
	struct respool_cpu *c;
	unsigned int i, best = 0;
	u32 threshold;

	c = raw_cpu_ptr(pool->cpu);
	spin_lock(&c->lock);
	/* Paired with the drain in respool_wait_queue(); see the top. */
	if (READ_ONCE(pool->nr_waiters))
		goto out;
	threshold = READ_ONCE(pool->cfg.threshold);
	for (i = c->nr; i-- > 0;) {
		struct respool_block *cand = c->blocks[i];

		if (cand->size < need || (b && cand->size >= b->size))
			continue;
		if (!respool_block_fits_limit(cand, need, max_size, threshold)) {
			*rejected = true;
			continue;
		}
		b = cand;
		best = i;
		if (cand->size == need)
			break;
	}
	if (b)
		respool_pcpu_remove(c, best);
out:
	spin_unlock(&c->lock);
	return b;
}

/**
 * respool_pcpu_put() - keep a freed block in this CPU's cache
 * @pool:	the pool
 * @b:		a block nobody holds
 * @spill:	out: blocks the cache let go to make room, linked by ->link,
 *		for the caller to put in the reserve
 *
 * When the cache is full, its older half spills, so that the caller
 * takes pool->lock once for many blocks.
 *
 * Context: process context; takes this CPU's cache lock.
 * Return: false if the block was not taken (caches off, over budget, or
 * someone waits): the caller frees it through the reserve.
 */
bool respool_pcpu_put(struct respool_pool *pool, struct respool_block *b,
		      struct list_head *spill)
{
	unsigned int max, keep;
	struct respool_cpu *c;
	u64 budget;

	/* Before the CPU lock: a settings change may run now (test build). */
	respool_inject(RESPOOL_INJ_PCPU_PUT_UNLOCKED);
	c = raw_cpu_ptr(pool->cpu);
	spin_lock(&c->lock);
	max = READ_ONCE(pool->cfg.pcpu_cache_blocks);
	budget = READ_ONCE(pool->pcpu_budget);
	if (!max || b->size > budget || READ_ONCE(pool->over_capacity) ||
	    READ_ONCE(pool->nr_waiters)) {
		spin_unlock(&c->lock);
		return false;
	}
	/* Checked, not yet cached: a waiter may queue now (test build). */
	respool_inject(RESPOOL_INJ_PCPU_PUT);
	/* A full cache spills its older half at once, to batch pool->lock. */
	keep = c->nr >= max ? max / 2 : c->nr;
	while (c->nr && (c->nr > keep || c->bytes + b->size > budget)) {
		list_add_tail(&c->blocks[0]->link, spill);
		respool_pcpu_remove(c, 0);
	}
	c->blocks[c->nr++] = b;
	c->bytes += b->size;
	spin_unlock(&c->lock);
	return true;
}

/**
 * respool_pcpu_drain_locked() - move cached blocks to the reserve
 * @pool:	the pool, pool->lock held
 * @freed_before: only blocks freed before this time (jiffies); U64_MAX
 *		for all
 */
void respool_pcpu_drain_locked(struct respool_pool *pool, u64 freed_before)
{
	int cpu;

	lockdep_assert_held(&pool->lock);
	for_each_possible_cpu(cpu) {
		struct respool_cpu *c = per_cpu_ptr(pool->cpu, cpu);
		unsigned int i = 0;

		/* Even if it looks empty: see the top of this file. */
		spin_lock(&c->lock);
		while (i < c->nr) {
			struct respool_block *b = c->blocks[i];

			if (b->freed_at >= freed_before) {
				i++;
				continue;
			}
			respool_pcpu_remove(c, i);
			respool_reserve_insert_locked(pool, b);
		}
		spin_unlock(&c->lock);
	}
}

/**
 * respool_pcpu_find_fit_locked() - is a fitting block in any CPU's cache?
 * @pool:	the pool, pool->lock held
 * @need:	page-aligned bytes
 *
 * Return: true if some CPU's cache holds a block that fits @need.
 */
bool respool_pcpu_find_fit_locked(struct respool_pool *pool, u64 need)
{
	u32 threshold = pool->cfg.threshold;
	bool found = false;
	int cpu;

	lockdep_assert_held(&pool->lock);
	for_each_possible_cpu(cpu) {
		struct respool_cpu *c = per_cpu_ptr(pool->cpu, cpu);
		unsigned int i;

		spin_lock(&c->lock);
		for (i = 0; i < c->nr && !found; i++)
			found = respool_block_fits(c->blocks[i], need, threshold);
		spin_unlock(&c->lock);
		if (found)
			break;
	}
	return found;
}

/**
 * respool_pcpu_bytes() - free bytes and blocks in all per-CPU caches
 * @pool:	the pool
 * @nr:		out: blocks
 *
 * Without the CPU locks the sum is approximate while blocks move; callers
 * that need it exact hold pool->lock and accept the cache-local moves
 * (see respool_pool_stats()).
 *
 * Return: the free bytes in all caches.
 */
u64 respool_pcpu_bytes(struct respool_pool *pool, unsigned int *nr)
{
	unsigned int blocks = 0;
	u64 bytes = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct respool_cpu *c = per_cpu_ptr(pool->cpu, cpu);

		bytes += READ_ONCE(c->bytes);
		blocks += READ_ONCE(c->nr);
	}
	if (nr)
		*nr = blocks;
	return bytes;
}
