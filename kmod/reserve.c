// SPDX-License-Identifier: GPL-2.0
/*
 * reserve.c - the bottom layer: what the pool owns, and its free blocks.
 *
 * The reserve holds free blocks in two red-black trees: by (size, age), so
 * best fit is one O(log n) descent, and by age, so eviction and idle trim
 * take the oldest first. Beside them, the one charge/uncharge pair that
 * moves pool->total_bytes (what the pool owns: in use, free, being
 * allocated), and the release of free blocks back to the page allocator.
 * Everything here runs under pool->lock (lockdep_assert_held()), except
 * respool_release_list(), which frees what a locked section released once
 * the lock is dropped. This layer calls nothing above it: no per-CPU
 * caches, no waiters.
 */
#include <linux/mm.h>
#include <linux/rbtree.h>

#include "respool.h"
#include "block.h"
#include "reserve.h"
#include "stats.h"
#include "trace.h"

/* Reserve trees: by_size orders (size, age), by_age orders age. */
static bool respool_size_less(struct rb_node *a, const struct rb_node *b)
{
	const struct respool_block *x = rb_entry(a, struct respool_block,
						 size_node);
	const struct respool_block *y = rb_entry(b, struct respool_block,
						 size_node);

	if (x->size != y->size)
		return x->size < y->size;
	return x->freed_at < y->freed_at;
}

static bool respool_age_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct respool_block, age_node)->freed_at <
	       rb_entry(b, struct respool_block, age_node)->freed_at;
}

/**
 * respool_reserve_insert_locked() - put a free block into the reserve
 * @pool:	the pool, pool->lock held
 * @b:		a block nobody holds
 */
void respool_reserve_insert_locked(struct respool_pool *pool, struct respool_block *b)
{
	lockdep_assert_held(&pool->lock);
	rb_add_cached(&b->size_node, &pool->by_size, respool_size_less);
	rb_add_cached(&b->age_node, &pool->by_age, respool_age_less);
	pool->reserve_bytes += b->size;
	pool->reserve_blocks++;
}

static void respool_reserve_remove_locked(struct respool_pool *pool,
					  struct respool_block *b)
{
	rb_erase_cached(&b->size_node, &pool->by_size);
	rb_erase_cached(&b->age_node, &pool->by_age);
	RB_CLEAR_NODE(&b->size_node);
	RB_CLEAR_NODE(&b->age_node);
	pool->reserve_bytes -= b->size;
	pool->reserve_blocks--;
}

/*
 * The smallest reserve block of at least @need bytes, the oldest of its
 * size; the only one the threshold rule can accept, since a larger block
 * fits no better. One descent of by_size.
 */
struct respool_block *respool_reserve_smallest_locked(struct respool_pool *pool,
						      u64 need)
{
	struct rb_node *n = pool->by_size.rb_root.rb_node;
	struct respool_block *best = NULL;

	lockdep_assert_held(&pool->lock);
	while (n) {
		struct respool_block *b = rb_entry(n, struct respool_block,
						   size_node);

		if (b->size >= need) {
			best = b;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

/**
 * respool_reserve_take_locked() - take the best fitting block from the reserve
 * @pool:	the pool, pool->lock held
 * @need:	page-aligned bytes
 * @max_size:	the largest block the request may take
 * @rejected:	set when the smallest large-enough block failed the
 *		threshold or @max_size (then every larger one fails too)
 *
 * Return: the smallest block that fits, the oldest of its size; or NULL.
 */
struct respool_block *respool_reserve_take_locked(struct respool_pool *pool,
						  u64 need, u64 max_size,
					   bool *rejected)
{
	struct respool_block *best = respool_reserve_smallest_locked(pool, need);

	if (!best)
		return NULL;
	if (!respool_block_fits_limit(best, need, max_size,
				      pool->cfg.threshold)) {
		*rejected = true;
		return NULL;
	}
	respool_reserve_remove_locked(pool, best);
	return best;
}

/*
 * Take a reserve block out of the pool's ownership, to be freed by
 * respool_release_list() once pool->lock is dropped.
 */
void respool_release_locked(struct respool_pool *pool, struct respool_block *b,
			    struct list_head *released,
			    enum respool_release_reason why)
{
	lockdep_assert_held(&pool->lock);
	respool_reserve_remove_locked(pool, b);
	respool_uncharge_locked(pool, b->size);
	switch (why) {
	case RESPOOL_RELEASE_EVICT:
		respool_count(pool, RESPOOL_CNT_EVICTIONS);
		respool_count_add(pool, RESPOOL_CNT_EVICTED_BYTES, b->size);
		break;
	case RESPOOL_RELEASE_IDLE:
		respool_count_add_locked(pool, RESPOOL_LCNT_IDLE_TRIMMED_BYTES,
					 b->size);
		break;
	case RESPOOL_RELEASE_SHRINK:
		respool_count_add_locked(pool,
					 RESPOOL_LCNT_SHRINKER_RELEASED_BYTES,
					 b->size);
		break;
	default:
		break;
	}
	trace_respool_release(pool->id, b->size, why);
	list_add_tail(&b->link, released);
}

struct respool_block *respool_oldest_locked(struct respool_pool *pool)
{
	struct rb_node *n = rb_first_cached(&pool->by_age);

	lockdep_assert_held(&pool->lock);
	return n ? rb_entry(n, struct respool_block, age_node) : NULL;
}

/* Release the oldest free blocks until @bytes are gone; returns bytes. */
u64 respool_release_oldest_locked(struct respool_pool *pool, u64 bytes,
				  struct list_head *released,
				  enum respool_release_reason why)
{
	struct respool_block *b;
	u64 done = 0;

	while (done < bytes && (b = respool_oldest_locked(pool))) {
		done += b->size;
		respool_release_locked(pool, b, released, why);
	}
	return done;
}

/* The fast paths read over_capacity: written only when it changes. */
void respool_over_update_locked(struct respool_pool *pool)
{
	bool over = pool->total_bytes > pool->cfg.capacity;

	if (pool->over_capacity != over)
		WRITE_ONCE(pool->over_capacity, over);
	if (!over && pool->capacity_lowered) {
		pool->capacity_lowered = false;
		WRITE_ONCE(pool->shared->reclaim, 0);
	}
}

/**
 * respool_charge_locked() - the pool now owns one more block of @bytes
 * @pool:	the pool, pool->lock held
 * @bytes:	bytes of the block
 *
 * The only place pool->total_bytes grows; the callers checked that the
 * capacity allows it.
 */
void respool_charge_locked(struct respool_pool *pool, u64 bytes)
{
	lockdep_assert_held(&pool->lock);
	WARN_ON_ONCE(pool->total_bytes + bytes > pool->cfg.capacity);
	pool->total_bytes += bytes;
	pool->total_blocks++;
}

/**
 * respool_uncharge_locked() - forget a block the pool no longer owns
 * @pool:	the pool, pool->lock held
 * @bytes:	bytes of the block
 *
 * The only place pool->total_bytes falls.
 */
void respool_uncharge_locked(struct respool_pool *pool, u64 bytes)
{
	lockdep_assert_held(&pool->lock);
	if (WARN_ON_ONCE(pool->total_bytes < bytes || !pool->total_blocks))
		return;
	pool->total_bytes -= bytes;
	pool->total_blocks--;
	respool_over_update_locked(pool);
}

/**
 * respool_release_list() - free blocks released under pool->lock
 * @pool:	the pool
 * @list:	blocks linked by ->link, no longer counted anywhere
 *
 * Context: no pool locks held; does not sleep.
 */
void respool_release_list(struct respool_pool *pool, struct list_head *list)
{
	struct respool_block *b, *tmp;

	list_for_each_entry_safe(b, tmp, list, link)
		respool_block_destroy(pool, b);
	INIT_LIST_HEAD(list);
}
