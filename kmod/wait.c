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
 *
 * Room appears in one way only: a pool->lock section that may have made
 * room ends in respool_pool_unlock(), which serves the queue from its head
 * (respool_wait_serve_locked()). A waiter also re-checks the pool every
 * RESPOOL_WAIT_RECHECK while it sleeps, like mempool_alloc()'s bounded
 * sleep; a wait that the re-check ends found room that no unlock served,
 * which is a bug: it is counted (lost_wakeups) and every test asserts that
 * the count stays 0 (the test build also warns).
 */
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "block.h"
#include "pcpu.h"
#include "pool.h"
#include "reserve.h"
#include "stats.h"
#include "trace.h"
#include "inject.h"

/* How often a sleeping waiter re-checks the pool (the safety net). */
#define RESPOOL_WAIT_RECHECK	HZ

/**
 * respool_wait_account_locked() - record a finished wait
 * @pool:	the pool, pool->lock held
 * @ns:		how long it took
 */
void respool_wait_account_locked(struct respool_pool *pool, u64 ns)
{
	lockdep_assert_held(&pool->lock);
	respool_count_max_locked(pool, RESPOOL_LCNT_MAX_WAIT_NS, ns);
	pool->wait_hist[ns ? min(ilog2(ns), RESPOOL_WAIT_HIST_BUCKETS - 1) : 0]++;
}

/*
 * The queue's length, and its copy in the pool page that tells clients
 * not to keep blocks (keep.c: stored before the take-back's scan). The
 * fast paths read nr_waiters under their CPU lock; see pcpu.c.
 */
static void respool_wait_set_nr_locked(struct respool_pool *pool,
				       unsigned int nr)
{
	lockdep_assert_held(&pool->lock);
	WRITE_ONCE(pool->nr_waiters, nr);
	WRITE_ONCE(pool->shared->waiters, nr);
}

/* Off the queue; an emptied queue owes a "recovered" notification. */
static void respool_wait_dequeue_locked(struct respool_pool *pool,
					struct respool_waiter *w)
{
	lockdep_assert_held(&pool->lock);
	list_del_init(&w->node);
	respool_wait_set_nr_locked(pool, pool->nr_waiters - 1);
	if (!pool->nr_waiters)
		pool->recovered_pending = true;
}

/* Hand a block, or room for a fresh one (@b NULL), to a queued waiter. */
static void respool_wait_give_locked(struct respool_pool *pool,
				     struct respool_waiter *w,
				     struct respool_block *b,
				     enum respool_source src)
{
	respool_wait_dequeue_locked(pool, w);
	w->block = b;
	w->src = src;
	w->served = true;
	trace_respool_handoff(pool->id, w->client->id, w->need,
			      b ? b->size : w->need, src);
	complete(&w->done);
}

/* End a queued wait without room. */
static void respool_wait_fail_locked(struct respool_pool *pool,
				     struct respool_waiter *w, int error)
{
	respool_wait_dequeue_locked(pool, w);
	w->error = error;
	complete(&w->done);
}

/**
 * respool_wait_serve_locked() - room may have appeared: serve the queue
 * @pool:	the pool, pool->lock held
 * @released:	out: blocks evicted to make room, to free after unlocking
 *
 * Serves waiters from the head for as long as room allows: the one step
 * every path that may create room goes through (respool_pool_unlock()).
 *
 * Return: the number of waiters served.
 */
unsigned int respool_wait_serve_locked(struct respool_pool *pool,
				       struct list_head *released)
{
	unsigned int served = 0;

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
		respool_wait_give_locked(pool, w, b, b ? RESPOOL_SRC_RESERVE :
					 RESPOOL_SRC_FRESH);
		served++;
	}
	return served;
}

/* Could the settings ever let this waiter be served? */
static bool respool_wait_servable_locked(struct respool_pool *pool,
					 const struct respool_waiter *w)
{
	u64 cquota = pool->cfg.client_quota, uquota = pool->cfg.user_quota;

	return w->need <= pool->cfg.capacity &&
	       w->need <= pool->cfg.max_block_size &&
	       (!cquota || w->need <= cquota) &&
	       (!uquota || w->need <= uquota);
}

/**
 * respool_wait_reexamine_locked() - the settings changed: fail the hopeless
 * @pool:	the pool, pool->lock held
 *
 * A waiter that the new settings can never serve (it needs more than the
 * capacity, the largest block or its quota) fails at once with E2BIG, as
 * the same request would fail if made now; it must not wedge the queue.
 * The caller then serves the others (respool_pool_unlock()).
 */
void respool_wait_reexamine_locked(struct respool_pool *pool)
{
	struct respool_waiter *w, *tmp;

	lockdep_assert_held(&pool->lock);
	list_for_each_entry_safe(w, tmp, &pool->waiters, node)
		if (!respool_wait_servable_locked(pool, w))
			respool_wait_fail_locked(pool, w, -E2BIG);
}

/**
 * respool_wait_handoff_locked() - give a freed block to the head waiter
 * @pool:	the pool, pool->lock held
 * @b:		a block nobody holds, counted in pool->total_bytes
 *
 * The block goes to the head waiter if it fits it (threshold rule) and
 * the pool is within its capacity: a lowered capacity is reached by
 * releasing freed blocks, never by handing them on.
 *
 * Return: true if the block was handed over.
 */
bool respool_wait_handoff_locked(struct respool_pool *pool,
				 struct respool_block *b)
{
	struct respool_waiter *w;

	lockdep_assert_held(&pool->lock);
	if (list_empty(&pool->waiters) ||
	    pool->total_bytes > pool->cfg.capacity)
		return false;
	w = list_first_entry(&pool->waiters, struct respool_waiter, node);
	if (!respool_block_fits_limit(b, w->need, w->max_size,
				      pool->cfg.threshold))
		return false;
	respool_count_add_locked(pool, RESPOOL_LCNT_HANDOFFS, 1);
	respool_wait_give_locked(pool, w, b, RESPOOL_SRC_HANDOFF);
	return true;
}

/* Give back what a waiter got but will not use. */
static void respool_wait_return_locked(struct respool_pool *pool,
				       struct respool_waiter *w,
				       struct list_head *released)
{
	if (w->block)
		respool_put_free_locked(pool, w->block, released);
	else
		respool_uncharge_locked(pool, w->need);
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

static int respool_same_file(const void *file, struct file *f, unsigned int fd)
{
	return f == file;
}

/* Does the calling task's file table still refer to @file? */
static bool respool_file_open(struct file *file)
{
	struct files_struct *files = current->files;

	return files && iterate_fd(files, 0, respool_same_file, file);
}

/*
 * Queue @w, unless the pool can serve it now or its file was closed.
 *
 * A close() that lands before the waiter is queued must still end the
 * wait. ->flush bumps client->close_gen under pool->lock when it finds
 * the file gone from the closer's table, then aborts the queued waiters
 * of that table; so a close after the check below finds this waiter
 * queued, and one before it changed close_gen, which sends us back to
 * look at our own table (the closer may have been another process).
 *
 * Return: 1 if queued (*first: at the head of an empty queue); 0 if
 * served at once (@b, or room in *fresh); or -EBADF.
 */
static int respool_wait_queue(struct respool_pool *pool,
			      struct respool_waiter *w,
			      struct respool_block **b, bool *fresh,
			      bool *first)
{
	struct respool_client *client = w->client;
	LIST_HEAD(released);
	u64 gen;

	spin_lock(&pool->lock);
	gen = client->close_gen;
	spin_unlock(&pool->lock);
	if (!respool_file_open(client->file))
		return -EBADF;
	/* The window between taking the file and queuing (test build). */
	respool_inject(RESPOOL_INJ_WAIT_QUEUE);

	spin_lock(&pool->lock);
	while (client->close_gen != gen) {
		gen = client->close_gen;
		spin_unlock(&pool->lock);
		if (!respool_file_open(client->file))
			return -EBADF;
		spin_lock(&pool->lock);
	}
	*first = !pool->nr_waiters;
	if (*first) {
		bool rejected = false;

		/* Room may have appeared since the caller looked. */
		*b = respool_take_locked(pool, w->need, w->max_size, fresh,
					 &rejected, &released);
		if (*b || *fresh) {
			respool_pool_unlock(pool, &released);
			return 0;
		}
	}
	w->since = ktime_get_ns();
	/*
	 * Published with the waiter, under the same lock: whoever sees the
	 * waiter counted (stats, netlink) sees its client waiting.
	 */
	WRITE_ONCE(client->waiting_since, w->since);
	WRITE_ONCE(client->waiting_bytes, w->need);
	list_add_tail(&w->node, &pool->waiters);
	respool_wait_set_nr_locked(pool, pool->nr_waiters + 1);
	respool_count_add_locked(pool, RESPOOL_LCNT_WAITS, 1);
	/*
	 * Nothing sleeps while a fitting block idles in a CPU cache: from
	 * here on the fast paths see nr_waiters, so drain what they hold.
	 */
	respool_pcpu_drain_locked(pool, U64_MAX);
	respool_pool_unlock(pool, &released);
	return 1;
}

/*
 * Sleep until served, failed, out of time or signalled, re-checking the
 * pool every RESPOOL_WAIT_RECHECK. Return: as for
 * wait_for_completion_interruptible_timeout().
 */
static long respool_wait_sleep(struct respool_pool *pool,
			       struct respool_waiter *w, long timeout)
{
	unsigned long deadline = jiffies + timeout;
	LIST_HEAD(released);
	unsigned int lost;
	long left, ret;

	for (;;) {
		left = timeout == MAX_SCHEDULE_TIMEOUT ? timeout :
		       (long)(deadline - jiffies);
		if (left <= 0)
			return 0;
		left = min_t(long, left, RESPOOL_WAIT_RECHECK);
		ret = wait_for_completion_interruptible_timeout(&w->done, left);
		if (ret)
			return ret < 0 ? ret : max(ret, 1L);
		spin_lock(&pool->lock);
		lost = respool_wait_serve_locked(pool, &released);
		respool_count_add_locked(pool, RESPOOL_LCNT_LOST_WAKEUPS, lost);
		respool_pool_unlock(pool, &released);
		/* A lost wakeup is a bug of ours: make the test build say so. */
		if (respool_test_build())
			WARN_ONCE(lost, "respool: %u waits found room late\n",
				  lost);
	}
}

/**
 * respool_wait_for_room() - queue an ALLOC and wait for its turn
 * @pool:	the pool
 * @client:	the client asking
 * @req:	the request
 * @src:	out: where the block came from
 *
 * Context: process context, sleeps; no locks held.
 * Return: a block handed over; NULL when @req->need bytes of capacity
 * were charged for a fresh block the caller allocates; or
 * ERR_PTR(-EAGAIN) (NONBLOCK), -ETIMEDOUT, -ERESTARTSYS (signal), -EBADF
 * (the file was closed), -E2BIG (the settings changed so that it can never
 * be served), -ENOMEM.
 */
struct respool_block *respool_wait_for_room(struct respool_pool *pool,
					    struct respool_client *client,
					    struct respool_request *req,
					    enum respool_source *src)
{
	long timeout = MAX_SCHEDULE_TIMEOUT;
	struct respool_block *b = NULL;
	struct respool_waiter *w;
	LIST_HEAD(released);
	bool fresh = false, first;
	long ret;
	u64 ns;

	if (req->flags & RESPOOL_ALLOC_NONBLOCK) {
		WRITE_ONCE(client->blocked_size, req->need);
		return ERR_PTR(-EAGAIN);
	}
	if (req->flags & RESPOOL_ALLOC_TIMEOUT)
		timeout = msecs_to_jiffies(req->timeout_ms);

	w = kmem_cache_zalloc(pool->waiter_cache, GFP_KERNEL);
	if (!w)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&w->node);
	init_completion(&w->done);
	w->client = client;
	w->need = req->need;
	w->max_size = req->max_size;
	w->files = current->files;

	ret = respool_wait_queue(pool, w, &b, &fresh, &first);
	if (ret <= 0) {
		kmem_cache_free(pool->waiter_cache, w);
		*src = b ? RESPOOL_SRC_RESERVE : RESPOOL_SRC_FRESH;
		return ret ? ERR_PTR(ret) : b;
	}
	trace_respool_wait_begin(pool->id, client->id, w->need,
				 READ_ONCE(pool->nr_waiters));
	if (first)
		respool_pool_notify(pool, RESPOOL_EVENT_EXHAUSTED, w->need);
	/* Nobody waits on an idle client: kept blocks come back first. */
	respool_pool_takeback(pool, RESPOOL_TAKEBACK_WAITER);

	ret = respool_wait_sleep(pool, w, timeout);

	spin_lock(&pool->lock);
	ns = ktime_get_ns() - w->since;
	respool_wait_account_locked(pool, ns);
	if (!w->served && !w->error) {
		/* Gave up while queued: the next one may fit now. */
		respool_wait_dequeue_locked(pool, w);
	}
	if (w->error) {
		if (w->error == -EBADF)
			respool_count_add_locked(pool,
						 RESPOOL_LCNT_WAIT_INTERRUPTS,
						 1);
		ret = w->error;
	} else if (ret < 0) {
		respool_count_add_locked(pool, RESPOOL_LCNT_WAIT_INTERRUPTS, 1);
	} else if (!w->served) {
		respool_count_add_locked(pool, RESPOOL_LCNT_WAIT_TIMEOUTS, 1);
		ret = -ETIMEDOUT;
	} else {
		ret = 0;
	}
	/* Served just as it gave up: pass it on, never lose it. */
	if (ret && w->served)
		respool_wait_return_locked(pool, w, &released);
	WRITE_ONCE(client->waiting_since, 0);
	WRITE_ONCE(client->waiting_bytes, 0);
	/* A waiter leaving may unblock those queued behind it. */
	respool_pool_unlock(pool, &released);
	respool_wait_notify(pool);
	trace_respool_wait_end(pool->id, client->id, w->need, ns, ret);

	b = w->block;
	*src = w->src;
	kmem_cache_free(pool->waiter_cache, w);
	return ret ? ERR_PTR(ret) : b;
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
 * ended with EBADF, giving back anything they had been handed; an ALLOC
 * not yet queued sees close_gen change (respool_wait_queue()).
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

	if (!files || respool_file_open(file))
		return;

	spin_lock(&pool->lock);
	client->close_gen++;
	list_for_each_entry_safe(w, tmp, &pool->waiters, node)
		if (w->client == client && w->files == files)
			respool_wait_fail_locked(pool, w, -EBADF);
	respool_pool_unlock(pool, &released);
}
