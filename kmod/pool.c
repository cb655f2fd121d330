// SPDX-License-Identifier: GPL-2.0
/*
 * pool.c - the pool: reserve, capacity, eviction, trim, stats.
 *
 * The reserve holds free blocks in two red-black trees: by (size, age), so
 * best fit is one O(log n) descent, and by age, so eviction and idle trim
 * take the oldest first. Both trees, the byte counts and the waiter queue
 * live under pool->lock; the per-CPU caches in front (pcpu.c) take it only
 * on a miss or a spill.
 */
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "config.h"
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
 * respool_reserve_insert() - put a free block into the reserve
 * @pool:	the pool, pool->lock held
 * @b:		a block nobody holds
 */
void respool_reserve_insert(struct respool_pool *pool, struct respool_block *b)
{
	lockdep_assert_held(&pool->lock);
	rb_add_cached(&b->size_node, &pool->by_size, respool_size_less);
	rb_add_cached(&b->age_node, &pool->by_age, respool_age_less);
	pool->reserve_bytes += b->size;
	pool->reserve_blocks++;
}

static void respool_reserve_remove(struct respool_pool *pool,
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
static struct respool_block *respool_reserve_smallest(struct respool_pool *pool,
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
 * respool_reserve_take() - take the best fitting block from the reserve
 * @pool:	the pool, pool->lock held
 * @need:	page-aligned bytes
 * @rejected:	set when the smallest large-enough block failed the
 *		threshold (then every larger one fails too)
 *
 * Return: the smallest block that fits, the oldest of its size; or NULL.
 */
struct respool_block *respool_reserve_take(struct respool_pool *pool,
					   u64 need, bool *rejected)
{
	struct respool_block *best = respool_reserve_smallest(pool, need);

	if (!best)
		return NULL;
	if (!respool_block_fits(best, need, pool->cfg.threshold)) {
		*rejected = true;
		return NULL;
	}
	respool_reserve_remove(pool, best);
	return best;
}

/*
 * Take a reserve block out of the pool's ownership, to be freed by
 * respool_release_list() once pool->lock is dropped.
 */
static void respool_release_locked(struct respool_pool *pool,
				   struct respool_block *b,
				   struct list_head *released,
				   enum respool_release_reason why)
{
	lockdep_assert_held(&pool->lock);
	respool_reserve_remove(pool, b);
	respool_uncharge_locked(pool, b->size);
	switch (why) {
	case RESPOOL_RELEASE_EVICT:
		this_cpu_inc(pool->cpu->stats.evictions);
		this_cpu_add(pool->cpu->stats.evicted_bytes, b->size);
		break;
	case RESPOOL_RELEASE_IDLE:
		pool->idle_trimmed += b->size;
		break;
	case RESPOOL_RELEASE_SHRINK:
		pool->shrinker_released += b->size;
		break;
	default:
		break;
	}
	trace_respool_release(b->size, why);
	list_add_tail(&b->link, released);
}

static struct respool_block *respool_oldest_locked(struct respool_pool *pool)
{
	struct rb_node *n = rb_first_cached(&pool->by_age);

	return n ? rb_entry(n, struct respool_block, age_node) : NULL;
}

/* Release the oldest free blocks until @bytes are gone; returns bytes. */
static u64 respool_release_oldest_locked(struct respool_pool *pool, u64 bytes,
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

/**
 * respool_uncharge_locked() - forget bytes the pool no longer owns
 * @pool:	the pool, pool->lock held
 * @bytes:	bytes of one block
 */
void respool_uncharge_locked(struct respool_pool *pool, u64 bytes)
{
	lockdep_assert_held(&pool->lock);
	pool->total_bytes -= bytes;
	pool->total_blocks--;
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

/**
 * respool_reserve_trim_locked() - enforce reserve_max and capacity
 * @pool:	the pool, pool->lock held
 * @released:	out: blocks to free after unlocking
 *
 * Free bytes (reserve plus per-CPU caches) beyond min(reserve_max,
 * capacity), and any free bytes while the pool owns more than its
 * capacity, go back to the page allocator, oldest first.
 */
void respool_reserve_trim_locked(struct respool_pool *pool,
				 struct list_head *released)
{
	u64 limit = min(pool->cfg.reserve_max, pool->cfg.capacity);
	u64 free = pool->reserve_bytes + respool_pcpu_bytes(pool, NULL);
	bool over;

	lockdep_assert_held(&pool->lock);
	if (free > limit)
		respool_release_oldest_locked(pool, free - limit, released,
					      RESPOOL_RELEASE_RESERVE_MAX);
	if (pool->total_bytes > pool->cfg.capacity)
		respool_release_oldest_locked(pool,
					      pool->total_bytes - pool->cfg.capacity,
					      released, RESPOOL_RELEASE_CAPACITY);
	over = pool->total_bytes > pool->cfg.capacity;
	/* Written only on change: the fast paths read this line. */
	if (pool->over_capacity != over)
		WRITE_ONCE(pool->over_capacity, over);
}

/*
 * In-use bytes are what the pool owns less what is free. @pcpu is one
 * unlocked sum of the per-CPU caches, which cache-local moves can make run
 * ahead of the truth; clamped, so that the gauges never add up to more
 * than the pool owns.
 */
static u64 respool_in_use_locked(struct respool_pool *pool, u64 *pcpu)
{
	u64 free;

	*pcpu = min(respool_pcpu_bytes(pool, NULL),
		    pool->total_bytes - pool->reserve_bytes);
	free = pool->reserve_bytes + *pcpu;
	return pool->total_bytes - free;
}

static void respool_update_peak_locked(struct respool_pool *pool)
{
	u64 pcpu;

	pool->peak_in_use = max(pool->peak_in_use,
				respool_in_use_locked(pool, &pcpu));
}

/**
 * respool_take_locked() - serve a request from the reserve or capacity
 * @pool:	the pool, pool->lock held
 * @need:	page-aligned bytes
 * @fresh:	out: true when @need bytes of capacity were charged for a
 *		fresh block that the caller must allocate
 * @rejected:	out: set when a free block was skipped by threshold
 * @released:	out: blocks evicted to make room, to free after unlocking
 *
 * Best fit from the reserve; else room for a fresh block, draining the
 * per-CPU caches and evicting the oldest free blocks when capacity is
 * short. Nothing is evicted when the blocks in use alone leave no room.
 *
 * Return: a block, or NULL (with *fresh telling whether room was made).
 */
struct respool_block *respool_take_locked(struct respool_pool *pool, u64 need,
					  bool *fresh, bool *rejected,
					  struct list_head *released)
{
	u64 cap = pool->cfg.capacity;
	struct respool_block *b;

	lockdep_assert_held(&pool->lock);
	*fresh = false;
	b = respool_reserve_take(pool, need, rejected);
	if (b)
		return b;
	if (pool->total_bytes + need > cap) {
		/*
		 * A fitting block may idle in another CPU's cache; not while
		 * anyone waits: the caches were drained when the first waiter
		 * queued and take nothing until the last is gone (pcpu.c).
		 */
		if (!pool->nr_waiters) {
			respool_pcpu_drain_locked(pool, U64_MAX);
			b = respool_reserve_take(pool, need, rejected);
			if (b)
				return b;
		}
		if (pool->total_bytes - pool->reserve_bytes + need > cap)
			return NULL;
		respool_release_oldest_locked(pool,
					      pool->total_bytes + need - cap,
					      released, RESPOOL_RELEASE_EVICT);
	}
	pool->total_bytes += need;
	pool->total_blocks++;
	*fresh = true;
	return NULL;
}

/**
 * respool_put_free_locked() - a block became free: hand it over or keep it
 * @pool:	the pool, pool->lock held
 * @b:		a block nobody holds, ->freed_at set
 * @released:	out: blocks to free after unlocking
 */
void respool_put_free_locked(struct respool_pool *pool,
			     struct respool_block *b,
			     struct list_head *released)
{
	lockdep_assert_held(&pool->lock);
	if (respool_wait_handoff_locked(pool, b, released))
		return;
	respool_reserve_insert(pool, b);
	respool_reserve_trim_locked(pool, released);
}

static void respool_trim_schedule(struct respool_pool *pool)
{
	u32 ms = READ_ONCE(pool->cfg.idle_trim_ms);

	/* Cheap test first: this runs on every free. */
	if (ms && !delayed_work_pending(&pool->trim_work))
		schedule_delayed_work(&pool->trim_work,
				      msecs_to_jiffies(max(ms / 2, 1U)));
}

/**
 * respool_poll_wake() - room may have appeared: wake poll() sleepers
 * @pool:	the pool
 */
void respool_poll_wake(struct respool_pool *pool)
{
	/* wq_has_sleeper() has the barrier that pairs with poll_wait(). */
	if (wq_has_sleeper(&pool->poll_wq))
		wake_up_interruptible_poll(&pool->poll_wq, EPOLLOUT);
}

/**
 * respool_pool_notify() - tell the netlink side about an event
 * @pool:	the pool
 * @event:	enum respool_event
 * @value:	bytes involved, where the event has any
 *
 * Context: process context; no pool locks held.
 */
void respool_pool_notify(struct respool_pool *pool, int event, u64 value)
{
	void (*notify)(struct respool_pool *pool, int event, u64 value);

	notify = READ_ONCE(pool->notify);
	if (notify)
		notify(pool, event, value);
}

/**
 * respool_pool_need() - the bytes a request needs, if it can be served
 * @pool:	the pool
 * @size:	bytes asked for
 *
 * Return: @size rounded up to whole pages; or 0 if no amount of waiting
 * could serve it (0 bytes, more than max_block_size or than capacity),
 * which callers fail at once with E2BIG.
 */
u64 respool_pool_need(struct respool_pool *pool, u64 size)
{
	u64 need;

	/* max_block_size is at most RESPOOL_BLOCK_MAX: no overflow below. */
	if (!size || size > READ_ONCE(pool->cfg.max_block_size))
		return 0;
	need = PAGE_ALIGN(size);
	return need > READ_ONCE(pool->cfg.capacity) ? 0 : need;
}

/**
 * respool_pool_alloc() - take a block for a client
 * @pool:	the pool
 * @client:	the client asking
 * @size:	bytes wanted, at least 1
 * @flags:	RESPOOL_ALLOC_* flags, already validated
 * @timeout_ms:	bound of a wait with RESPOOL_ALLOC_TIMEOUT
 *
 * Tries this CPU's cache, then the reserve, then a fresh block, and waits
 * in FIFO order when the blocks in use leave no room. The block comes back
 * cleared unless @client held it last, with one reference (the handle's).
 *
 * Context: process context, may sleep; no locks held.
 * Return: the block, or ERR_PTR(-E2BIG) for a size that can never be
 * served, -EAGAIN, -ETIMEDOUT, -ERESTARTSYS, -EBADF or -ENOMEM.
 */
struct respool_block *respool_pool_alloc(struct respool_pool *pool,
					 struct respool_client *client,
					 u64 size, u32 flags, u32 timeout_ms)
{
	enum respool_source src = RESPOOL_SRC_FRESH;
	bool fresh = false, rejected = false;
	struct respool_block *b;
	LIST_HEAD(released);
	u64 need;

	need = respool_pool_need(pool, size);
	if (!need)
		return ERR_PTR(-E2BIG);

	b = respool_pcpu_get(pool, need, &rejected);
	if (b) {
		src = RESPOOL_SRC_PCPU;
		goto got;
	}

	spin_lock(&pool->lock);
	if (!pool->nr_waiters) {
		b = respool_take_locked(pool, need, &fresh, &rejected,
					&released);
		if (b || fresh)
			respool_update_peak_locked(pool);
	}
	spin_unlock(&pool->lock);
	respool_release_list(pool, &released);
	if (b) {
		src = RESPOOL_SRC_RESERVE;
		goto got;
	}
	if (!fresh) {
		b = respool_wait_for_room(pool, client, need, flags, timeout_ms,
					  &src);
		if (IS_ERR(b))
			goto out_rejected;
		if (b)
			goto got;
	}

	b = respool_block_new(pool, need);
	if (!b) {
		spin_lock(&pool->lock);
		respool_uncharge_locked(pool, need);
		respool_wait_kick_locked(pool, &released);
		spin_unlock(&pool->lock);
		respool_release_list(pool, &released);
		respool_poll_wake(pool);
		b = ERR_PTR(-ENOMEM);
		goto out_rejected;
	}
got:
	switch (src) {
	case RESPOOL_SRC_PCPU:
		this_cpu_inc(pool->cpu->stats.pcpu_hits);
		break;
	case RESPOOL_SRC_RESERVE:
		this_cpu_inc(pool->cpu->stats.reserve_hits);
		break;
	case RESPOOL_SRC_FRESH:
		this_cpu_inc(pool->cpu->stats.fresh_allocs);
		break;
	case RESPOOL_SRC_HANDOFF:
		break;	/* counted as a handoff by the giver */
	}
	this_cpu_inc(pool->cpu->stats.allocs);
	this_cpu_add(pool->cpu->stats.requested_bytes, size);
	b->requested = size;
	respool_block_prepare(pool, b, client);
	trace_respool_alloc(client->id, size, b->size, src, b->zeroed);
out_rejected:
	if (rejected)
		this_cpu_inc(pool->cpu->stats.threshold_rejects);
	return b;
}

/**
 * respool_pool_free() - a block's last reference is gone: take it back
 * @pool:	the pool
 * @b:		a block with no handle and no mapping left
 *
 * The block goes to the head waiter if it fits, else to this CPU's cache
 * or the reserve; a block whose pages someone else still references is
 * released instead, so it can never reach another client.
 *
 * Context: process context (ioctl, close, or the last munmap); does not
 * sleep.
 */
void respool_pool_free(struct respool_pool *pool, struct respool_block *b)
{
	LIST_HEAD(released);

	this_cpu_inc(pool->cpu->stats.frees);
	this_cpu_sub(pool->cpu->stats.requested_bytes, b->requested);
	trace_respool_free(b->last_client, b->requested, b->size);
	b->client = NULL;
	b->requested = 0;
	b->freed_at = get_jiffies_64();

	if (!respool_block_exclusive(b)) {
		spin_lock(&pool->lock);
		respool_uncharge_locked(pool, b->size);
		respool_wait_kick_locked(pool, &released);
		spin_unlock(&pool->lock);
		trace_respool_release(b->size, RESPOOL_RELEASE_PINNED);
		respool_block_destroy(pool, b);
	} else if (!respool_pcpu_put(pool, b)) {
		spin_lock(&pool->lock);
		respool_put_free_locked(pool, b, &released);
		spin_unlock(&pool->lock);
	}
	respool_release_list(pool, &released);
	respool_trim_schedule(pool);
	respool_poll_wake(pool);
}

/**
 * respool_pool_would_wait() - would an ALLOC of @size wait now?
 * @pool:	the pool
 * @size:	bytes
 *
 * Return: false if the request would be served at once (for poll()).
 */
bool respool_pool_would_wait(struct respool_pool *pool, u64 size)
{
	u64 need = PAGE_ALIGN(min_t(u64, size, RESPOOL_BLOCK_MAX));
	struct respool_block *b;
	u64 pcpu;
	bool wait;

	spin_lock(&pool->lock);
	if (pool->nr_waiters) {
		wait = true;
	} else if (respool_in_use_locked(pool, &pcpu) + need <=
		   pool->cfg.capacity) {
		wait = false;
	} else {
		b = respool_reserve_smallest(pool, need);
		wait = !(b && respool_block_fits(b, need, pool->cfg.threshold)) &&
		       !respool_pcpu_find_fit_locked(pool, need);
	}
	spin_unlock(&pool->lock);
	return wait;
}

/**
 * respool_pool_set_config() - apply new settings, all or nothing
 * @pool:	the pool
 * @cfg:	the complete new settings
 *
 * Free blocks beyond the new limits are released at once; waiters that
 * the new settings let in are served.
 *
 * Context: process context, may sleep.
 * Return: 0, or -EINVAL when a setting is out of range (nothing changes).
 */
int respool_pool_set_config(struct respool_pool *pool,
			    const struct respool_config *cfg)
{
	struct respool_config_error err;
	LIST_HEAD(released);
	int ret;

	ret = respool_config_validate(cfg, &err);
	if (ret)
		return ret;

	mutex_lock(&pool->config_lock);
	spin_lock(&pool->lock);
	WRITE_ONCE(pool->cfg.capacity, cfg->capacity);
	WRITE_ONCE(pool->cfg.max_block_size, cfg->max_block_size);
	WRITE_ONCE(pool->cfg.reserve_max, cfg->reserve_max);
	WRITE_ONCE(pool->cfg.client_quota, cfg->client_quota);
	WRITE_ONCE(pool->cfg.user_quota, cfg->user_quota);
	WRITE_ONCE(pool->cfg.threshold, cfg->threshold);
	WRITE_ONCE(pool->cfg.pcpu_cache_blocks, cfg->pcpu_cache_blocks);
	WRITE_ONCE(pool->cfg.idle_trim_ms, cfg->idle_trim_ms);
	respool_pcpu_set_budget(pool);
	/* Cached blocks may break the new per-CPU limits: start afresh. */
	respool_pcpu_drain_locked(pool, U64_MAX);
	respool_reserve_trim_locked(pool, &released);
	respool_wait_kick_locked(pool, &released);
	spin_unlock(&pool->lock);
	mutex_unlock(&pool->config_lock);

	respool_release_list(pool, &released);
	respool_trim_schedule(pool);
	respool_poll_wake(pool);
	respool_pool_notify(pool, RESPOOL_EVENT_CONFIG, 0);
	return 0;
}

/**
 * respool_pool_get_config() - read the settings
 * @pool:	the pool
 * @cfg:	out
 */
void respool_pool_get_config(struct respool_pool *pool,
			     struct respool_config *cfg)
{
	spin_lock(&pool->lock);
	*cfg = pool->cfg;
	spin_unlock(&pool->lock);
}

/**
 * respool_pool_prefill() - warm the reserve with fresh blocks
 * @pool:	the pool
 * @size:	bytes of each block
 * @count:	blocks wanted
 *
 * Stops early, without error, where capacity or reserve_max leave no
 * room for more free blocks.
 *
 * Context: process context, may sleep.
 * Return: the number of blocks added, or -E2BIG, -ENOMEM.
 */
int respool_pool_prefill(struct respool_pool *pool, u64 size, u32 count)
{
	u64 need = respool_pool_need(pool, size);
	LIST_HEAD(released);
	u32 added = 0;
	int ret = 0;

	if (!need)
		return -E2BIG;

	mutex_lock(&pool->config_lock);
	while (added < count) {
		struct respool_block *b;
		u64 free;

		spin_lock(&pool->lock);
		free = pool->reserve_bytes + respool_pcpu_bytes(pool, NULL);
		if (pool->nr_waiters ||
		    pool->total_bytes + need > pool->cfg.capacity ||
		    free + need > min(pool->cfg.reserve_max,
				      pool->cfg.capacity)) {
			spin_unlock(&pool->lock);
			break;
		}
		pool->total_bytes += need;
		pool->total_blocks++;
		spin_unlock(&pool->lock);

		b = respool_block_new(pool, need);
		spin_lock(&pool->lock);
		if (!b) {
			respool_uncharge_locked(pool, need);
			ret = -ENOMEM;
		} else {
			b->freed_at = get_jiffies_64();
			respool_put_free_locked(pool, b, &released);
		}
		spin_unlock(&pool->lock);
		if (ret)
			break;
		added++;
	}
	mutex_unlock(&pool->config_lock);
	respool_release_list(pool, &released);
	respool_trim_schedule(pool);
	return ret ?: added;
}

/**
 * respool_pool_drain() - release every free block
 * @pool:	the pool
 *
 * Return: bytes released.
 */
u64 respool_pool_drain(struct respool_pool *pool)
{
	LIST_HEAD(released);
	u64 bytes;

	spin_lock(&pool->lock);
	respool_pcpu_drain_locked(pool, U64_MAX);
	bytes = respool_release_oldest_locked(pool, U64_MAX, &released,
					      RESPOOL_RELEASE_DRAIN);
	spin_unlock(&pool->lock);
	respool_release_list(pool, &released);
	return bytes;
}

static void respool_trim_work(struct work_struct *work)
{
	struct respool_pool *pool = container_of(to_delayed_work(work),
						 struct respool_pool,
						 trim_work);
	u32 ms = READ_ONCE(pool->cfg.idle_trim_ms);
	LIST_HEAD(released);
	struct respool_block *b;
	u64 cutoff, now = get_jiffies_64();
	bool more;

	if (!ms)
		return;
	cutoff = now - min_t(u64, now, msecs_to_jiffies(ms));

	spin_lock(&pool->lock);
	respool_pcpu_drain_locked(pool, cutoff);
	while ((b = respool_oldest_locked(pool)) && b->freed_at < cutoff)
		respool_release_locked(pool, b, &released,
				       RESPOOL_RELEASE_IDLE);
	more = pool->reserve_blocks || respool_pcpu_bytes(pool, NULL);
	spin_unlock(&pool->lock);
	respool_release_list(pool, &released);
	if (more)
		respool_trim_schedule(pool);
}

static unsigned long respool_shrink_count(struct shrinker *s,
					  struct shrink_control *sc)
{
	struct respool_pool *pool = respool_shrinker_private(s);
	u64 free = READ_ONCE(pool->reserve_bytes) +
		   respool_pcpu_bytes(pool, NULL);

	return free ? free >> PAGE_SHIFT : SHRINK_EMPTY;
}

static unsigned long respool_shrink_scan(struct shrinker *s,
					 struct shrink_control *sc)
{
	struct respool_pool *pool = respool_shrinker_private(s);
	LIST_HEAD(released);
	u64 bytes;

	spin_lock(&pool->lock);
	respool_pcpu_drain_locked(pool, U64_MAX);
	bytes = respool_release_oldest_locked(pool,
					      (u64)sc->nr_to_scan << PAGE_SHIFT,
					      &released,
					      RESPOOL_RELEASE_SHRINK);
	spin_unlock(&pool->lock);
	respool_release_list(pool, &released);
	if (!bytes)
		return SHRINK_STOP;
	respool_pool_notify(pool, RESPOOL_EVENT_PRESSURE, bytes);
	return bytes >> PAGE_SHIFT;
}

/**
 * respool_pool_stats() - a snapshot of counters and gauges
 * @pool:	the pool
 * @st:		out; every field but @st->size is written
 *
 * Gauges are read under pool->lock, so no block enters or leaves the pool
 * while they are summed; only cache-local moves (which keep the sum)
 * continue. Counters are per-CPU sums, not stopping the fast paths.
 */
void respool_pool_stats(struct respool_pool *pool, struct respool_stats *st)
{
	struct respool_cpu_stats sum;
	unsigned int pcpu_blocks;
	u64 free_blocks;
	int i;

	respool_pcpu_sum_stats(pool, &sum);
	spin_lock(&pool->lock);
	st->capacity = pool->cfg.capacity;
	st->reserve_bytes = pool->reserve_bytes;
	st->in_use_bytes = respool_in_use_locked(pool, &st->pcpu_bytes);
	respool_pcpu_bytes(pool, &pcpu_blocks);
	pool->peak_in_use = max(pool->peak_in_use, st->in_use_bytes);
	st->peak_in_use_bytes = pool->peak_in_use;
	free_blocks = pool->reserve_blocks + pcpu_blocks;
	st->blocks_free = free_blocks;
	st->blocks_in_use = pool->total_blocks > free_blocks ?
			    pool->total_blocks - free_blocks : 0;
	st->waits = pool->waits;
	st->wait_timeouts = pool->wait_timeouts;
	st->wait_interrupts = pool->wait_interrupts;
	st->waiters = pool->nr_waiters;
	st->max_wait_ns = pool->max_wait_ns;
	st->handoffs = pool->handoffs;
	st->shrinker_released_bytes = pool->shrinker_released;
	st->idle_trimmed_bytes = pool->idle_trimmed;
	st->last_reset_ns = pool->last_reset_ns;
	for (i = 0; i < RESPOOL_WAIT_HIST_BUCKETS; i++)
		st->wait_hist[i] = pool->wait_hist[i];
	st->allocs = sum.allocs - pool->reset_base.allocs;
	st->frees = sum.frees - pool->reset_base.frees;
	st->pcpu_hits = sum.pcpu_hits - pool->reset_base.pcpu_hits;
	st->reserve_hits = sum.reserve_hits - pool->reset_base.reserve_hits;
	st->fresh_allocs = sum.fresh_allocs - pool->reset_base.fresh_allocs;
	st->threshold_rejects = sum.threshold_rejects -
				pool->reset_base.threshold_rejects;
	st->evictions = sum.evictions - pool->reset_base.evictions;
	st->evicted_bytes = sum.evicted_bytes - pool->reset_base.evicted_bytes;
	st->zeroed_bytes = sum.zeroed_bytes - pool->reset_base.zeroed_bytes;
	spin_unlock(&pool->lock);
	st->requested_bytes = sum.requested_bytes > 0 ? sum.requested_bytes : 0;
	st->clients = READ_ONCE(pool->nr_clients);
}

/**
 * respool_pool_reset_stats() - zero the counters; gauges stay
 * @pool:	the pool
 */
void respool_pool_reset_stats(struct respool_pool *pool)
{
	struct respool_cpu_stats sum;
	u64 pcpu;

	respool_pcpu_sum_stats(pool, &sum);
	spin_lock(&pool->lock);
	pool->reset_base = sum;
	pool->waits = 0;
	pool->wait_timeouts = 0;
	pool->wait_interrupts = 0;
	pool->handoffs = 0;
	pool->max_wait_ns = 0;
	memset(pool->wait_hist, 0, sizeof(pool->wait_hist));
	pool->shrinker_released = 0;
	pool->idle_trimmed = 0;
	pool->peak_in_use = respool_in_use_locked(pool, &pcpu);
	pool->last_reset_ns = ktime_get_ns();
	spin_unlock(&pool->lock);
}

/**
 * respool_pool_create() - set up the pool
 * @cfg:	validated settings
 *
 * Return: the pool, or an ERR_PTR.
 */
struct respool_pool *respool_pool_create(const struct respool_config *cfg)
{
	struct respool_pool *pool;
	int ret = -ENOMEM;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&pool->lock);
	mutex_init(&pool->config_lock);
	mutex_init(&pool->clients_lock);
	pool->cfg = *cfg;
	pool->by_size = RB_ROOT_CACHED;
	pool->by_age = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&pool->waiters);
	INIT_LIST_HEAD(&pool->clients);
	init_waitqueue_head(&pool->poll_wq);
	INIT_DELAYED_WORK(&pool->trim_work, respool_trim_work);
	pool->next_client_id = 1;
	pool->last_reset_ns = ktime_get_ns();

	pool->block_cache = KMEM_CACHE(respool_block, RESPOOL_SLAB_FLAGS);
	if (!pool->block_cache)
		goto err_free_pool;
	pool->client_cache = KMEM_CACHE(respool_client, RESPOOL_SLAB_FLAGS);
	if (!pool->client_cache)
		goto err_block_cache;
	pool->waiter_cache = KMEM_CACHE(respool_waiter, RESPOOL_SLAB_FLAGS);
	if (!pool->waiter_cache)
		goto err_client_cache;
	ret = respool_pcpu_init(pool);
	if (ret)
		goto err_waiter_cache;
	spin_lock(&pool->lock);
	respool_pcpu_set_budget(pool);
	spin_unlock(&pool->lock);
	pool->shrinker = respool_shrinker_create("respool", respool_shrink_count,
						 respool_shrink_scan, pool);
	if (!pool->shrinker) {
		ret = -ENOMEM;
		goto err_pcpu;
	}
	return pool;

err_pcpu:
	respool_pcpu_exit(pool);
err_waiter_cache:
	kmem_cache_destroy(pool->waiter_cache);
err_client_cache:
	kmem_cache_destroy(pool->client_cache);
err_block_cache:
	kmem_cache_destroy(pool->block_cache);
err_free_pool:
	kfree(pool);
	return ERR_PTR(ret);
}

/**
 * respool_pool_destroy() - release everything; no client may be left
 * @pool:	the pool
 */
void respool_pool_destroy(struct respool_pool *pool)
{
	respool_shrinker_destroy(pool->shrinker);
	/* Stop the work first: frees can no longer re-arm it. */
	cancel_delayed_work_sync(&pool->trim_work);
	respool_pool_drain(pool);
	WARN_ON_ONCE(pool->total_bytes || pool->nr_waiters);
	respool_pcpu_exit(pool);
	kmem_cache_destroy(pool->waiter_cache);
	kmem_cache_destroy(pool->client_cache);
	kmem_cache_destroy(pool->block_cache);
	kfree(pool);
}

/**
 * respool_wait_account_locked() - record a finished wait
 * @pool:	the pool, pool->lock held
 * @ns:		how long it took
 */
void respool_wait_account_locked(struct respool_pool *pool, u64 ns)
{
	lockdep_assert_held(&pool->lock);
	pool->max_wait_ns = max(pool->max_wait_ns, ns);
	pool->wait_hist[ns ? min(ilog2(ns), RESPOOL_WAIT_HIST_BUCKETS - 1) : 0]++;
}

