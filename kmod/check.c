// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - the pool's invariants, checked after every state change.
 *
 * Built only for make check-debug (RESPOOL_CHECK=y); elsewhere
 * respool_check_locked() is empty. It runs at the end of every pool->lock
 * section that changes the pool (respool_pool_unlock()), after the queue
 * was served, and WARNs once on the first broken invariant, which the
 * debug VM turns into a failed run:
 *
 * 1) the counts match the contents: the reserve's trees hold
 *    reserve_blocks blocks and reserve_bytes, each CPU cache its nr
 *    blocks and its bytes;
 * 2) the pool owns no more than its capacity, unless the capacity was
 *    lowered below what it owned (over_capacity says so, and is right);
 * 3) nr_waiters is the length of the queue, and while anyone waits the
 *    CPU caches are empty (else a waiter could sleep beside a free block);
 * 4) every queued waiter is servable by the settings, and the head cannot
 *    be served now (else the "room appeared" step missed it);
 * 5) in-use bytes (the gauge) never exceed what the pool owns, and
 *    exported bytes never exceed in-use bytes.
 *
 * What spans the clients cannot be checked under pool->lock (the client
 * lock is never held with it) and holds only when no ALLOC or FREE is in
 * flight, so the tests ask for it at such points, by writing to debugfs
 * respool/check (respool_check_clients()):
 *
 * 6) the clients' held bytes and the exported bytes add up to the
 *    in-use gauge, and each client is charged at least what it holds;
 * 7) each user is charged what its files are plus its exported blocks.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/rbtree.h>
#include <linux/xarray.h>

#include "respool.h"
#include "inject.h"
#include "pool.h"

#ifdef RESPOOL_CHECK_INVARIANTS

static bool respool_check_reserve_locked(struct respool_pool *pool)
{
	u64 bytes = 0, blocks = 0;
	struct rb_node *n;

	for (n = rb_first_cached(&pool->by_age); n; n = rb_next(n)) {
		bytes += rb_entry(n, struct respool_block, age_node)->size;
		blocks++;
	}
	return !WARN_ONCE(bytes != pool->reserve_bytes ||
			  blocks != pool->reserve_blocks,
			  "respool: reserve holds %llu blocks, %llu bytes; counted %llu, %llu\n",
			  blocks, bytes, pool->reserve_blocks,
			  pool->reserve_bytes);
}

/* Return: the free bytes in CPU caches, or U64_MAX if one is wrong. */
static u64 respool_check_pcpu_locked(struct respool_pool *pool)
{
	u64 total = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct respool_cpu *c = per_cpu_ptr(pool->cpu, cpu);
		unsigned int i;
		u64 bytes = 0;
		bool bad;

		spin_lock(&c->lock);
		for (i = 0; i < c->nr; i++)
			bytes += c->blocks[i]->size;
		bad = bytes != c->bytes;
		spin_unlock(&c->lock);
		if (WARN_ONCE(bad, "respool: CPU %d cache bytes miscounted\n",
			      cpu))
			return U64_MAX;
		total += bytes;
	}
	return total;
}

static bool respool_check_waiters_locked(struct respool_pool *pool, u64 pcpu)
{
	struct respool_waiter *w, *head = NULL;
	unsigned int n = 0;

	list_for_each_entry(w, &pool->waiters, node) {
		if (!head)
			head = w;
		n++;
		if (WARN_ONCE(w->need > pool->cfg.capacity ||
			      w->need > pool->cfg.max_block_size ||
			      (pool->cfg.client_quota &&
			       w->need > pool->cfg.client_quota) ||
			      (pool->cfg.user_quota &&
			       w->need > pool->cfg.user_quota),
			      "respool: a waiter of %llu bytes can never be served\n",
			      w->need))
			return false;
	}
	if (WARN_ONCE(n != pool->nr_waiters,
		      "respool: %u waiters queued, %u counted\n", n,
		      pool->nr_waiters))
		return false;
	if (!head)
		return true;
	if (WARN_ONCE(pcpu, "respool: %llu bytes in CPU caches while %u wait\n",
		      pcpu, n))
		return false;
	/* What respool_take_locked() would do for the head, read only. */
	return !WARN_ONCE(pool->total_bytes - pool->reserve_bytes + head->need <=
			  pool->cfg.capacity,
			  "respool: the head waiter (%llu bytes) has room but sleeps\n",
			  head->need);
}

/**
 * respool_check_locked() - WARN once if an invariant of the pool is broken
 * @pool:	the pool, pool->lock held
 */
void respool_check_locked(struct respool_pool *pool)
{
	u64 pcpu, in_use;
	bool over;

	lockdep_assert_held(&pool->lock);
	if (!respool_check_reserve_locked(pool))
		return;
	pcpu = respool_check_pcpu_locked(pool);
	if (pcpu == U64_MAX)
		return;
	over = pool->total_bytes > pool->cfg.capacity;
	if (WARN_ONCE(pool->over_capacity != over,
		      "respool: over_capacity is stale\n"))
		return;
	if (WARN_ONCE(pool->total_bytes > pool->cfg.capacity &&
		      !pool->capacity_lowered,
		      "respool: owns %llu bytes over a capacity of %llu\n",
		      pool->total_bytes, pool->cfg.capacity))
		return;
	if (!respool_check_waiters_locked(pool, pcpu))
		return;
	in_use = atomic64_read(&pool->in_use);
	if (WARN_ONCE(in_use > pool->total_bytes,
		      "respool: %llu bytes in use, %llu owned\n", in_use,
		      pool->total_bytes))
		return;
	WARN_ONCE(pool->exported_bytes > in_use,
		  "respool: %llu bytes exported, %llu in use\n",
		  pool->exported_bytes, in_use);
}

/* 6) and 7), at a point the caller knows to be quiet. */
static void respool_check_clients(struct respool_pool *pool)
{
	struct respool_client *c;
	struct respool_user *u;
	unsigned long uid;
	u64 held, in_use;

	mutex_lock(&pool->clients_lock);
	in_use = atomic64_read(&pool->in_use);
	spin_lock(&pool->lock);
	held = pool->exported_bytes;
	spin_unlock(&pool->lock);
	xa_for_each(&pool->users, uid, u)
		u->check_bytes = atomic64_read(&u->exported_bytes);
	list_for_each_entry(c, &pool->clients, node) {
		xa_lock(&c->handles);
		held += c->held_bytes;
		WARN_ONCE(c->charged_bytes < c->held_bytes,
			  "respool: client %llu holds %llu bytes, charged %llu\n",
			  c->id, c->held_bytes, c->charged_bytes);
		c->user->check_bytes += c->charged_bytes;
		xa_unlock(&c->handles);
	}
	WARN_ONCE(held != in_use,
		  "respool: clients and exports hold %llu bytes, %llu in use\n",
		  held, in_use);
	xa_for_each(&pool->users, uid, u)
		WARN_ONCE(u->check_bytes != atomic64_read(&u->charged_bytes),
			  "respool: uid %lu charged %lld bytes, its files and exports %llu\n",
			  uid, (s64)atomic64_read(&u->charged_bytes),
			  u->check_bytes);
	mutex_unlock(&pool->clients_lock);
}

/**
 * respool_check_pool() - check every invariant of a pool now
 * @pool:	a pool at a quiet point (see the top of this file)
 */
void respool_check_pool(struct respool_pool *pool)
{
	spin_lock(&pool->lock);
	respool_check_locked(pool);
	spin_unlock(&pool->lock);
	respool_check_clients(pool);
}

#endif /* RESPOOL_CHECK_INVARIANTS */
