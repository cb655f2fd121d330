// SPDX-License-Identifier: GPL-2.0
/*
 * pool.c - the pool's policy: where a request is served from, what a
 * freed block becomes, the settings, trim, shrinker and stats.
 *
 * Above the per-CPU caches (pcpu.c) and the reserve (reserve.c), beside
 * the waiting (wait.c). An ALLOC tries this CPU's cache, then the reserve,
 * then capacity for a fresh block, and waits when the blocks in use leave
 * no room. Every pool->lock section that may have made room ends in
 * respool_pool_unlock(), the one "room appeared" step, which serves the
 * queue before the lock is dropped.
 */
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "block.h"
#include "config.h"
#include "pcpu.h"
#include "pool.h"
#include "reserve.h"
#include "stats.h"
#include "trace.h"

/**
 * respool_pool_unlock() - end a pool->lock section that changed the pool
 * @pool:	the pool, pool->lock held
 * @released:	blocks taken out of the pool in the section, to free now
 *
 * The "room appeared" step: every section that may have made room (a
 * block freed or released, capacity raised, a waiter gone) ends here, so
 * the queue is served from its head before the lock is dropped, and
 * poll() sleepers are woken after. In the debug build the invariants are
 * checked first.
 *
 * Context: process context; does not sleep.
 */
void respool_pool_unlock(struct respool_pool *pool, struct list_head *released)
	__releases(&pool->lock)
{
	respool_wait_serve_locked(pool, released);
	respool_check_locked(pool);
	spin_unlock(&pool->lock);
	respool_release_list(pool, released);
	respool_poll_wake(pool);
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
static void respool_reserve_trim_locked(struct respool_pool *pool,
					struct list_head *released)
{
	u64 limit = min(pool->cfg.reserve_max, pool->cfg.capacity);
	u64 free = pool->reserve_bytes + respool_pcpu_bytes(pool, NULL);

	lockdep_assert_held(&pool->lock);
	if (free > limit)
		respool_release_oldest_locked(pool, free - limit, released,
					      RESPOOL_RELEASE_RESERVE_MAX);
	if (pool->total_bytes > pool->cfg.capacity)
		respool_release_oldest_locked(pool,
					      pool->total_bytes - pool->cfg.capacity,
					      released, RESPOOL_RELEASE_CAPACITY);
	/* The capacity itself may have changed. */
	respool_over_update_locked(pool);
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

/*
 * A block was handed out or came back: move the in-use gauge, and the
 * peak with it. Most hand-outs take no pool->lock (a per-CPU hit), so the
 * peak is raised with a cmpxchg, and written only when it grows.
 */
static void respool_in_use_add(struct respool_pool *pool, s64 bytes)
{
	u64 now = atomic64_add_return(bytes, &pool->in_use);
	u64 peak = READ_ONCE(pool->peak_in_use);

	while (bytes > 0 && now > peak) {
		u64 seen = cmpxchg64(&pool->peak_in_use, peak, now);

		if (seen == peak)
			break;
		peak = seen;
	}
}

/**
 * respool_take_locked() - serve a request from the reserve or capacity
 * @pool:	the pool, pool->lock held
 * @need:	page-aligned bytes
 * @max_size:	the largest free block the request may take
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
					  u64 max_size, bool *fresh,
					  bool *rejected,
					  struct list_head *released)
{
	u64 cap = pool->cfg.capacity;
	struct respool_block *b;

	lockdep_assert_held(&pool->lock);
	*fresh = false;
	b = respool_reserve_take_locked(pool, need, max_size, rejected);
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
			b = respool_reserve_take_locked(pool, need, max_size, rejected);
			if (b)
				return b;
		}
		if (pool->total_bytes - pool->reserve_bytes + need > cap)
			return NULL;
		respool_release_oldest_locked(pool,
					      pool->total_bytes + need - cap,
					      released, RESPOOL_RELEASE_EVICT);
	}
	respool_charge_locked(pool, need);
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
	if (respool_wait_handoff_locked(pool, b))
		return;
	respool_reserve_insert_locked(pool, b);
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
 * respool_pool_takeback() - take kept blocks back from the pool's clients
 * @pool:	the pool
 * @why:	what for
 *
 * Through the hook of the layer that owns the clients (keep.c); each
 * block taken back returns through respool_pool_free(), the "room
 * appeared" path, so waiters are served in their order.
 *
 * Context: process context, may sleep; no lock held.
 * Return: the blocks taken back.
 */
unsigned int respool_pool_takeback(struct respool_pool *pool,
				   enum respool_takeback_why why)
{
	unsigned int (*takeback)(struct respool_pool *pool,
				 enum respool_takeback_why why);

	takeback = READ_ONCE(pool->takeback);
	if (!takeback || !atomic_read(&pool->nr_fast))
		return 0;
	return takeback(pool, why);
}

/**
 * respool_pool_count_takebacks() - count blocks taken back
 * @pool:	the pool
 * @n:		how many
 */
void respool_pool_count_takebacks(struct respool_pool *pool, unsigned int n)
{
	spin_lock(&pool->lock);
	respool_count_add_locked(pool, RESPOOL_LCNT_TAKEBACKS, n);
	spin_unlock(&pool->lock);
}

/**
 * respool_pool_fast_client() - a client mapped its control page, or left
 * @pool:	the pool
 * @delta:	+1 or -1
 *
 * While any client may keep blocks, the trim work runs its idle pass over
 * them (when idle_trim_ms is set), whether or not free blocks wait.
 */
void respool_pool_fast_client(struct respool_pool *pool, int delta)
{
	atomic_add(delta, &pool->nr_fast);
	if (delta > 0)
		respool_trim_schedule(pool);
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
 * @req:	the request: size and flags validated, need computed
 *
 * Tries this CPU's cache, then the reserve, then a fresh block, and waits
 * in FIFO order when the blocks in use leave no room. The block comes back
 * cleared unless @client held it last, with one reference (the handle's).
 *
 * Context: process context, may sleep; no locks held.
 * Return: the block, or ERR_PTR(-EAGAIN), -ETIMEDOUT, -ERESTARTSYS,
 * -EBADF, -E2BIG (settings changed while waiting) or -ENOMEM.
 */
struct respool_block *respool_pool_alloc(struct respool_pool *pool,
					 struct respool_client *client,
					 struct respool_request *req)
{
	enum respool_source src = RESPOOL_SRC_FRESH;
	bool fresh = false, rejected = false, retried = false;
	u64 need = req->need;
	struct respool_block *b;
	LIST_HEAD(released);

retry:
	b = respool_pcpu_get(pool, need, req->max_size, &rejected);
	if (b) {
		src = RESPOOL_SRC_PCPU;
		goto got;
	}

	spin_lock(&pool->lock);
	if (!pool->nr_waiters)
		b = respool_take_locked(pool, need, req->max_size, &fresh,
					&rejected, &released);
	respool_pool_unlock(pool, &released);
	if (b) {
		src = RESPOOL_SRC_RESERVE;
		goto got;
	}
	/*
	 * A NONBLOCK request that found no room, with nobody queued: blocks
	 * that clients keep are the pool's to take back first (a waiter
	 * does the same once queued, in wait.c).
	 */
	if (!fresh && (req->flags & RESPOOL_ALLOC_NONBLOCK) && !retried &&
	    !READ_ONCE(pool->nr_waiters) &&
	    respool_pool_takeback(pool, RESPOOL_TAKEBACK_WAITER)) {
		retried = true;
		goto retry;
	}
	if (!fresh) {
		b = respool_wait_for_room(pool, client, req, &src);
		if (IS_ERR(b))
			goto out_rejected;
		if (b)
			goto got;
	}

	b = respool_block_new(pool, need);
	if (!b) {
		spin_lock(&pool->lock);
		respool_uncharge_locked(pool, need);
		respool_pool_unlock(pool, &released);
		b = ERR_PTR(-ENOMEM);
		goto out_rejected;
	}
got:
	switch (src) {
	case RESPOOL_SRC_PCPU:
		respool_count(pool, RESPOOL_CNT_PCPU_HITS);
		break;
	case RESPOOL_SRC_RESERVE:
		respool_count(pool, RESPOOL_CNT_RESERVE_HITS);
		break;
	case RESPOOL_SRC_FRESH:
		respool_count(pool, RESPOOL_CNT_FRESH_ALLOCS);
		break;
	case RESPOOL_SRC_HANDOFF:
		break;	/* counted as a handoff by the giver */
	}
	respool_count(pool, RESPOOL_CNT_ALLOCS);
	respool_count_add(pool, RESPOOL_CNT_REQUESTED_BYTES, req->size);
	respool_in_use_add(pool, b->size);
	b->requested = req->size;
	respool_block_prepare(pool, b, client);
	trace_respool_alloc(pool->id, client->id, req->size, b->size, src,
			    b->zeroed);
out_rejected:
	if (rejected)
		respool_count(pool, RESPOOL_CNT_THRESHOLD_REJECTS);
	return b;
}

/*
 * Blocks a full CPU cache let go: into the reserve in one section; a
 * waiter may have queued since the cache looked, and is served here.
 */
static void respool_pool_spill(struct respool_pool *pool,
			       struct list_head *spill)
{
	struct respool_block *b, *tmp;
	LIST_HEAD(released);

	spin_lock(&pool->lock);
	list_for_each_entry_safe(b, tmp, spill, link) {
		list_del_init(&b->link);
		respool_reserve_insert_locked(pool, b);
	}
	respool_reserve_trim_locked(pool, &released);
	respool_pool_unlock(pool, &released);
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
	LIST_HEAD(spill);

	respool_count(pool, RESPOOL_CNT_FREES);
	respool_count_sub(pool, RESPOOL_CNT_REQUESTED_BYTES, b->requested);
	respool_in_use_add(pool, -(s64)b->size);
	trace_respool_free(pool->id, b->last_client, b->requested, b->size);
	b->client = NULL;
	b->requested = 0;
	b->freed_at = get_jiffies_64();

	if (!respool_block_exclusive(b)) {
		spin_lock(&pool->lock);
		respool_uncharge_locked(pool, b->size);
		respool_pool_unlock(pool, &released);
		trace_respool_release(pool->id, b->size,
				      RESPOOL_RELEASE_PINNED);
		respool_block_destroy(pool, b);
	} else if (respool_pcpu_put(pool, b, &spill)) {
		if (list_empty(&spill)) {
			/* Cached: nobody waits (pcpu.c), but poll() may. */
			respool_poll_wake(pool);
		} else {
			respool_pool_spill(pool, &spill);
		}
	} else {
		spin_lock(&pool->lock);
		respool_put_free_locked(pool, b, &released);
		respool_pool_unlock(pool, &released);
	}
	respool_trim_schedule(pool);
}

/**
 * respool_pool_exported() - a block in use now lives in a dma-buf
 * @pool:	the pool
 * @b:		the block, still in use (its bytes stay in the in-use gauge)
 *
 * Counts the export; respool_pool_free_exported() undoes it. Nothing
 * changes room, so no "room appeared" step.
 *
 * Context: process context; does not sleep.
 */
void respool_pool_exported(struct respool_pool *pool, struct respool_block *b)
{
	spin_lock(&pool->lock);
	pool->exported_bytes += b->size;
	pool->exported_blocks++;
	respool_count_add_locked(pool, RESPOOL_LCNT_EXPORTS, 1);
	respool_check_locked(pool);
	spin_unlock(&pool->lock);
}

/**
 * respool_pool_free_exported() - an exported block's last reference went
 * @pool:	the pool
 * @b:		the block: no dma-buf, fd, mapping or importer refers to it
 *
 * It returns as a FREE does (a waiter first, then the caches), but
 * cleared at its next hand-out to anyone, its exporter too: other
 * processes and devices saw and wrote it.
 *
 * Context: process context; does not sleep.
 */
void respool_pool_free_exported(struct respool_pool *pool,
				struct respool_block *b)
{
	spin_lock(&pool->lock);
	WARN_ON_ONCE(pool->exported_bytes < b->size || !pool->exported_blocks);
	pool->exported_bytes -= b->size;
	pool->exported_blocks--;
	respool_count_add_locked(pool, RESPOOL_LCNT_EXPORT_RETURNS, 1);
	spin_unlock(&pool->lock);
	b->exported = false;
	b->last_client = 0;
	respool_pool_free(pool, b);
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
		b = respool_reserve_smallest_locked(pool, need);
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
	bool lowered;
	int ret;

	ret = respool_config_validate(cfg, &err);
	if (ret)
		return ret;

	mutex_lock(&pool->config_lock);
	spin_lock(&pool->lock);
	if (cfg->capacity < pool->total_bytes) {
		pool->capacity_lowered = true;
		/* Clients stop keeping blocks until use falls below it. */
		WRITE_ONCE(pool->shared->reclaim, 1);
	}
	WRITE_ONCE(pool->cfg.capacity, cfg->capacity);
	WRITE_ONCE(pool->cfg.max_block_size, cfg->max_block_size);
	WRITE_ONCE(pool->cfg.reserve_max, cfg->reserve_max);
	WRITE_ONCE(pool->cfg.client_quota, cfg->client_quota);
	WRITE_ONCE(pool->cfg.user_quota, cfg->user_quota);
	WRITE_ONCE(pool->cfg.threshold, cfg->threshold);
	WRITE_ONCE(pool->cfg.pcpu_cache_blocks, cfg->pcpu_cache_blocks);
	WRITE_ONCE(pool->cfg.idle_trim_ms, cfg->idle_trim_ms);
	respool_pcpu_set_budget_locked(pool);
	/*
	 * Cached blocks may break the new per-CPU limits: start afresh. The
	 * fast paths read the settings under their CPU lock, so none caches
	 * a block by the old ones after this drain.
	 */
	respool_pcpu_drain_locked(pool, U64_MAX);
	respool_reserve_trim_locked(pool, &released);
	/* Waiters the new settings can never serve fail now; room serves. */
	respool_wait_reexamine_locked(pool);
	lowered = pool->capacity_lowered;
	respool_pool_unlock(pool, &released);
	mutex_unlock(&pool->config_lock);

	/* Kept blocks are in use: give them back towards the capacity. */
	if (lowered)
		respool_pool_takeback(pool, RESPOOL_TAKEBACK_CAPACITY);
	respool_trim_schedule(pool);
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
		respool_charge_locked(pool, need);
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
		respool_pool_unlock(pool, &released);
		if (ret)
			break;
		added++;
	}
	mutex_unlock(&pool->config_lock);
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
	respool_pool_unlock(pool, &released);
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
	/* Blocks kept and left untouched since the last pass come back. */
	respool_pool_takeback(pool, RESPOOL_TAKEBACK_IDLE);

	spin_lock(&pool->lock);
	respool_pcpu_drain_locked(pool, cutoff);
	while ((b = respool_oldest_locked(pool)) && b->freed_at < cutoff)
		respool_release_locked(pool, b, &released,
				       RESPOOL_RELEASE_IDLE);
	more = pool->reserve_blocks || respool_pcpu_bytes(pool, NULL) ||
	       atomic_read(&pool->nr_fast);
	respool_pool_unlock(pool, &released);
	if (more)
		respool_trim_schedule(pool);
}

static void respool_takeback_work(struct work_struct *work)
{
	struct respool_pool *pool = container_of(work, struct respool_pool,
						 takeback_work);

	respool_pool_takeback(pool, RESPOOL_TAKEBACK_SHRINK);
}

static unsigned long respool_shrink_count(struct shrinker *s,
					  struct shrink_control *sc)
{
	struct respool_pool *pool = respool_shrinker_private(s);
	u64 free = READ_ONCE(pool->reserve_bytes) +
		   respool_pcpu_bytes(pool, NULL);

	/* Kept blocks may be taken back: one page's worth says "try". */
	if (atomic_read(&pool->nr_fast))
		free += PAGE_SIZE;
	return free ? free >> PAGE_SHIFT : SHRINK_EMPTY;
}

static unsigned long respool_shrink_scan(struct shrinker *s,
					 struct shrink_control *sc)
{
	struct respool_pool *pool = respool_shrinker_private(s);
	LIST_HEAD(released);
	u64 bytes;

	/*
	 * Reclaim must not wait for a client's map_lock, which a task may
	 * hold while it allocates page tables in our fault handler: the
	 * take-back runs from a worker, and its blocks are released by the
	 * next scan.
	 */
	if (atomic_read(&pool->nr_fast))
		queue_work(system_unbound_wq, &pool->takeback_work);
	spin_lock(&pool->lock);
	respool_pcpu_drain_locked(pool, U64_MAX);
	bytes = respool_release_oldest_locked(pool,
					      (u64)sc->nr_to_scan << PAGE_SHIFT,
					      &released,
					      RESPOOL_RELEASE_SHRINK);
	respool_pool_unlock(pool, &released);
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

	respool_stats_sum(pool, &sum);
	spin_lock(&pool->lock);
	st->capacity = pool->cfg.capacity;
	st->reserve_bytes = pool->reserve_bytes;
	st->in_use_bytes = respool_in_use_locked(pool, &st->pcpu_bytes);
	respool_pcpu_bytes(pool, &pcpu_blocks);
	st->peak_in_use_bytes = max(READ_ONCE(pool->peak_in_use),
				    st->in_use_bytes);
	free_blocks = pool->reserve_blocks + pcpu_blocks;
	st->blocks_free = free_blocks;
	st->blocks_in_use = pool->total_blocks > free_blocks ?
			    pool->total_blocks - free_blocks : 0;
	st->waiters = pool->nr_waiters;
	st->last_reset_ns = pool->last_reset_ns;
	st->exported_bytes = pool->exported_bytes;
	respool_stats_read_locked(pool, &sum, st);
	spin_unlock(&pool->lock);
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

	respool_stats_sum(pool, &sum);
	spin_lock(&pool->lock);
	respool_stats_reset_locked(pool, &sum);
	WRITE_ONCE(pool->peak_in_use, max_t(u64, atomic64_read(&pool->in_use),
					    respool_in_use_locked(pool, &pcpu)));
	pool->last_reset_ns = ktime_get_ns();
	spin_unlock(&pool->lock);
}

/*
 * The slab caches of every pool's metadata: one set for the module, so
 * that each cache has one name in /proc/slabinfo and sysfs, whatever the
 * number of pools.
 */
static struct kmem_cache *respool_block_cache;
static struct kmem_cache *respool_client_cache;
static struct kmem_cache *respool_waiter_cache;

/**
 * respool_pool_caches_init() - create the metadata's slab caches
 *
 * Context: module init, before the first respool_pool_create().
 * Return: 0 or -ENOMEM.
 */
int respool_pool_caches_init(void)
{
	respool_block_cache = KMEM_CACHE(respool_block, RESPOOL_SLAB_FLAGS);
	if (!respool_block_cache)
		goto err;
	respool_client_cache = KMEM_CACHE(respool_client, RESPOOL_SLAB_FLAGS);
	if (!respool_client_cache)
		goto err_block_cache;
	respool_waiter_cache = KMEM_CACHE(respool_waiter, RESPOOL_SLAB_FLAGS);
	if (!respool_waiter_cache)
		goto err_client_cache;
	return 0;

err_client_cache:
	kmem_cache_destroy(respool_client_cache);
err_block_cache:
	kmem_cache_destroy(respool_block_cache);
err:
	return -ENOMEM;
}

/* Module exit, after the last respool_pool_destroy(). */
void respool_pool_caches_exit(void)
{
	kmem_cache_destroy(respool_waiter_cache);
	kmem_cache_destroy(respool_client_cache);
	kmem_cache_destroy(respool_block_cache);
}

/**
 * respool_pool_create() - set up a pool
 * @cfg:	validated settings
 * @name:	its name, valid (pools.c), for the shrinker's name
 * @node:	NUMA node of its blocks, NUMA_NO_NODE for the allocating CPU's
 *
 * The caller gives it its id and publishes it.
 *
 * Return: the pool, with one reference, or an ERR_PTR.
 */
struct respool_pool *respool_pool_create(const struct respool_config *cfg,
					 const char *name, int node)
{
	char sname[sizeof("respool-") + RESPOOL_NAME_MAX];
	struct respool_pool *pool;
	int ret = -ENOMEM;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	strscpy(pool->name, name, sizeof(pool->name));
	pool->node = node;
	kref_init(&pool->ref);
	spin_lock_init(&pool->lock);
	mutex_init(&pool->config_lock);
	mutex_init(&pool->clients_lock);
	pool->cfg = *cfg;
	pool->by_size = RB_ROOT_CACHED;
	pool->by_age = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&pool->waiters);
	INIT_LIST_HEAD(&pool->clients);
	xa_init(&pool->users);
	init_waitqueue_head(&pool->poll_wq);
	INIT_DELAYED_WORK(&pool->trim_work, respool_trim_work);
	INIT_WORK(&pool->takeback_work, respool_takeback_work);
	pool->last_reset_ns = ktime_get_ns();
	pool->block_cache = respool_block_cache;
	pool->client_cache = respool_client_cache;
	pool->waiter_cache = respool_waiter_cache;

	/* A page of its own: clients map it (keep.c). */
	pool->shared = (struct respool_shared *)get_zeroed_page(GFP_KERNEL);
	if (!pool->shared)
		goto err_free_pool;
	pool->shared->version = RESPOOL_CTL_VERSION;
	pool->node_bytes = kcalloc(nr_node_ids, sizeof(*pool->node_bytes),
				   GFP_KERNEL);
	if (!pool->node_bytes)
		goto err_shared;
	ret = respool_pcpu_init(pool);
	if (ret)
		goto err_node_bytes;
	spin_lock(&pool->lock);
	respool_pcpu_set_budget_locked(pool);
	spin_unlock(&pool->lock);
	/* Its debugfs name (shrinker_debugfs): respool-NAME; copied. */
	snprintf(sname, sizeof(sname), "respool-%s", name);
	pool->shrinker = respool_shrinker_create(sname, respool_shrink_count,
						 respool_shrink_scan, pool);
	if (!pool->shrinker) {
		ret = -ENOMEM;
		goto err_pcpu;
	}
	return pool;

err_pcpu:
	respool_pcpu_exit(pool);
err_node_bytes:
	kfree(pool->node_bytes);
err_shared:
	free_page((unsigned long)pool->shared);
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
	cancel_work_sync(&pool->takeback_work);
	respool_pool_drain(pool);
	WARN_ON_ONCE(pool->total_bytes || pool->nr_waiters);
	WARN_ON_ONCE(!xa_empty(&pool->users) || pool->nr_clients);
	respool_pcpu_exit(pool);
	kfree(pool->node_bytes);
	free_page((unsigned long)pool->shared);
	kfree(pool);
}
