// SPDX-License-Identifier: GPL-2.0
/*
 * wait.c - strict FIFO waiting with direct handoff.
 *
 * The fairness invariant: while any ALLOC waits, no later ALLOC is served
 * before it. Waiters queue at the tail of pool->waiters under pool->lock;
 * the fast paths and the slow path step aside while nr_waiters is nonzero
 * (NONBLOCK gets EAGAIN), and only the head of the queue is ever served.
 *
 * mempool queues with prepare_to_wait() at the head of a wait queue and
 * wakes every waiter, who then race each other and any newcomer for the
 * freed element. Here the giver does the work instead: under pool->lock it
 * hands the freed block (or room for a fresh one) to the head waiter,
 * dequeues it and completes its struct completion. A woken waiter already
 * owns what it was given; nobody races for it.
 *
 * A waiter that gives up (timeout, signal, close) after it was served
 * passes what it got on to the next waiter, so nothing is lost.
 */
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "trace.h"

/* Off the queue; an emptied queue owes a "recovered" notification. */
static void respool_wait_dequeue_locked(struct respool_pool *pool,
					struct respool_waiter *w)
{
	list_del_init(&w->node);
	/* The fast paths read it under their CPU lock; see pcpu.c. */
	WRITE_ONCE(pool->nr_waiters, pool->nr_waiters - 1);
	if (!pool->nr_waiters)
		pool->recovered_pending = true;
}

static void respool_wait_serve_locked(struct respool_pool *pool,
				      struct respool_waiter *w,
				      struct respool_block *b,
				      enum respool_source src)
{
	respool_wait_dequeue_locked(pool, w);
	w->block = b;
	w->src = src;
	w->served = true;
	trace_respool_handoff(w->client->id, w->need, b ? b->size : w->need,
			      src);
	complete(&w->done);
}

/**
 * respool_wait_kick_locked() - serve waiters from the head while possible
 * @pool:	the pool, pool->lock held
 * @released:	out: blocks evicted to make room, to free after unlocking
 *
 * Called whenever room may have appeared: a block released, capacity
 * raised, a head waiter gone.
 */
void respool_wait_kick_locked(struct respool_pool *pool,
			      struct list_head *released)
{
	lockdep_assert_held(&pool->lock);
	while (!list_empty(&pool->waiters)) {
		struct respool_waiter *w = list_first_entry(&pool->waiters,
						struct respool_waiter, node);
		bool fresh, rejected = false;
		struct respool_block *b;

		b = respool_take_locked(pool, w->need, w->max_size, &fresh,
					&rejected, released);
		if (!b && !fresh)
			break;
		respool_wait_serve_locked(pool, w, b, b ? RESPOOL_SRC_RESERVE :
					  RESPOOL_SRC_FRESH);
	}
}

/**
 * respool_wait_handoff_locked() - give a freed block to the head waiter
 * @pool:	the pool, pool->lock held
 * @b:		a block nobody holds
 * @released:	out: blocks to free after unlocking
 *
 * If the block fits the head waiter (threshold rule) it is handed over;
 * otherwise its bytes are released so the head can have a fresh block.
 * Either way the queue is then served as far as room allows.
 *
 * Return: false if nobody waits (the block is still the caller's).
 */
bool respool_wait_handoff_locked(struct respool_pool *pool,
				 struct respool_block *b,
				 struct list_head *released)
{
	struct respool_waiter *w;

	lockdep_assert_held(&pool->lock);
	if (list_empty(&pool->waiters))
		return false;
	w = list_first_entry(&pool->waiters, struct respool_waiter, node);
	if (respool_block_fits_limit(b, w->need, w->max_size,
				     pool->cfg.threshold)) {
		pool->handoffs++;
		respool_wait_serve_locked(pool, w, b, RESPOOL_SRC_HANDOFF);
	} else {
		respool_uncharge_locked(pool, b->size);
		this_cpu_inc(pool->cpu->stats.evictions);
		this_cpu_add(pool->cpu->stats.evicted_bytes, b->size);
		trace_respool_release(b->size, RESPOOL_RELEASE_EVICT);
		list_add_tail(&b->link, released);
	}
	respool_wait_kick_locked(pool, released);
	return true;
}

/* Give back what a waiter got but will not use. */
static void respool_wait_return_locked(struct respool_pool *pool,
				       struct respool_waiter *w,
				       struct list_head *released)
{
	if (w->block) {
		respool_put_free_locked(pool, w->block, released);
	} else {
		respool_uncharge_locked(pool, w->need);
		respool_wait_kick_locked(pool, released);
	}
	w->block = NULL;
}

static void respool_wait_notify(struct respool_pool *pool)
{
	bool recovered;

	spin_lock(&pool->lock);
	recovered = pool->recovered_pending;
	pool->recovered_pending = false;
	spin_unlock(&pool->lock);
	if (recovered)
		respool_pool_notify(pool, RESPOOL_EVENT_RECOVERED, 0);
}

/**
 * respool_wait_for_room() - queue an ALLOC and wait for its turn
 * @pool:	the pool
 * @client:	the client asking
 * @need:	page-aligned bytes
 * @max_size:	the largest block it may be handed (respool_pool_alloc())
 * @flags:	RESPOOL_ALLOC_* flags
 * @timeout_ms:	bound with RESPOOL_ALLOC_TIMEOUT
 * @src:	out: where the block came from
 *
 * Context: process context, sleeps; no locks held.
 * Return: a block handed over; NULL when @need bytes of capacity were
 * charged for a fresh block the caller allocates; or ERR_PTR(-EAGAIN)
 * (NONBLOCK), -ETIMEDOUT, -ERESTARTSYS (signal), -EBADF (file closed by
 * another thread), -ENOMEM.
 */
struct respool_block *respool_wait_for_room(struct respool_pool *pool,
					    struct respool_client *client,
					    u64 need, u64 max_size, u32 flags,
					    u32 timeout_ms,
					    enum respool_source *src)
{
	long timeout = MAX_SCHEDULE_TIMEOUT;
	struct respool_block *b = NULL;
	struct respool_waiter *w;
	LIST_HEAD(released);
	bool first, fresh;
	long ret;
	u64 ns;

	if (flags & RESPOOL_ALLOC_NONBLOCK) {
		WRITE_ONCE(client->blocked_size, need);
		return ERR_PTR(-EAGAIN);
	}
	if (flags & RESPOOL_ALLOC_TIMEOUT)
		timeout = msecs_to_jiffies(timeout_ms);

	w = kmem_cache_zalloc(pool->waiter_cache, GFP_KERNEL);
	if (!w)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&w->node);
	init_completion(&w->done);
	w->client = client;
	w->need = need;
	w->max_size = max_size;
	w->files = current->files;

	spin_lock(&pool->lock);
	first = !pool->nr_waiters;
	if (first) {
		bool rejected = false;

		/* Room may have appeared since the caller looked. */
		b = respool_take_locked(pool, need, max_size, &fresh,
					&rejected, &released);
		if (b || fresh) {
			spin_unlock(&pool->lock);
			respool_release_list(pool, &released);
			kmem_cache_free(pool->waiter_cache, w);
			*src = b ? RESPOOL_SRC_RESERVE : RESPOOL_SRC_FRESH;
			return b;
		}
	}
	w->since = ktime_get_ns();
	/*
	 * Published with the waiter, under the same lock: whoever sees the
	 * waiter counted (stats, netlink) sees its client waiting.
	 */
	WRITE_ONCE(client->waiting_since, w->since);
	list_add_tail(&w->node, &pool->waiters);
	WRITE_ONCE(pool->nr_waiters, pool->nr_waiters + 1);
	pool->waits++;
	/*
	 * Nothing sleeps while a fitting block idles in a CPU cache: from
	 * here on the fast paths see nr_waiters, so drain what they hold.
	 */
	respool_pcpu_drain_locked(pool, U64_MAX);
	respool_wait_kick_locked(pool, &released);
	spin_unlock(&pool->lock);
	respool_release_list(pool, &released);
	trace_respool_wait_begin(client->id, need, READ_ONCE(pool->nr_waiters));
	if (first)
		respool_pool_notify(pool, RESPOOL_EVENT_EXHAUSTED, need);

	ret = wait_for_completion_interruptible_timeout(&w->done, timeout);

	spin_lock(&pool->lock);
	ns = ktime_get_ns() - w->since;
	respool_wait_account_locked(pool, ns);
	if (!w->served && !w->aborted) {
		/* Gave up while queued: the next one may fit now. */
		respool_wait_dequeue_locked(pool, w);
		respool_wait_kick_locked(pool, &released);
	}
	if (w->aborted) {
		pool->wait_interrupts++;
		ret = -EBADF;
	} else if (ret < 0) {
		pool->wait_interrupts++;
	} else if (!w->served) {
		pool->wait_timeouts++;
		ret = -ETIMEDOUT;
	} else {
		ret = 0;
	}
	/* Served just as it gave up: pass it on, never lose it. */
	if (ret && w->served && !w->aborted)
		respool_wait_return_locked(pool, w, &released);
	WRITE_ONCE(client->waiting_since, 0);
	spin_unlock(&pool->lock);
	respool_release_list(pool, &released);
	/* A waiter leaving may unblock pollers queued behind it. */
	respool_poll_wake(pool);
	respool_wait_notify(pool);
	trace_respool_wait_end(client->id, need, ns, ret);

	b = w->block;
	*src = w->src;
	kmem_cache_free(pool->waiter_cache, w);
	return ret ? ERR_PTR(ret) : b;
}

static int respool_same_file(const void *file, struct file *f, unsigned int fd)
{
	return f == file;
}

/**
 * respool_wait_abort_client() - a file was closed: end its waits
 * @pool:	the pool
 * @client:	the client whose file a thread closed
 * @file:	that file
 *
 * An ALLOC in progress holds a reference to its file, so a close() from
 * another thread does not release it. When the closing task's file table
 * no longer refers to @file, the waits of the tasks sharing that table are
 * ended with EBADF, giving back anything they had been handed.
 *
 * Context: process context (->flush).
 */
void respool_wait_abort_client(struct respool_pool *pool,
			       struct respool_client *client,
			       struct file *file)
{
	struct files_struct *files = current->files;
	struct respool_waiter *w, *tmp;
	LIST_HEAD(released);

	if (!files || iterate_fd(files, 0, respool_same_file, file))
		return;

	spin_lock(&pool->lock);
	list_for_each_entry_safe(w, tmp, &pool->waiters, node) {
		if (w->client != client || w->files != files)
			continue;
		respool_wait_dequeue_locked(pool, w);
		w->aborted = true;
		complete(&w->done);
	}
	respool_wait_kick_locked(pool, &released);
	spin_unlock(&pool->lock);
	respool_release_list(pool, &released);
	respool_poll_wake(pool);
}
