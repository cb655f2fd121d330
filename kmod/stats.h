/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - the pool's counters (stats.c): counting, summing, reset, and
 * the one table that says how each value is reported. Used by every
 * layer, as block.h is; calls none.
 *
 * A counter is named by its enum (respool.h): per-CPU counters by enum
 * respool_counter, the ones kept under pool->lock by enum
 * respool_locked_counter, as the kernel's vm_event_item names the
 * vm_event_states array. Adding one takes an enum value, a field and an
 * attribute in the uapi (ioctl struct, netlink spec), and a line in the
 * table; the build fails if the table and the enums fall out of step.
 */
#ifndef _RESPOOL_STATS_H
#define _RESPOOL_STATS_H

#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include "respool.h"

/**
 * enum respool_stat_src - where a value of struct respool_stats comes from
 * @RESPOOL_STAT_GAUGE:	computed from the pool's state by respool_pool_stats()
 * @RESPOOL_STAT_PCPU:	a per-CPU counter, summed over CPUs
 * @RESPOOL_STAT_LOCKED: a counter kept under pool->lock
 */
enum respool_stat_src {
	RESPOOL_STAT_GAUGE,
	RESPOOL_STAT_PCPU,
	RESPOOL_STAT_LOCKED,
};

/**
 * struct respool_stat_desc - how one u64 of struct respool_stats is kept
 *	and reported
 * @off:	offset of the value in struct respool_stats
 * @attr:	its attribute in the netlink stats set (RESPOOL_A_STATS_*)
 * @cpu_attr:	a per-CPU counter's attribute in the netlink cpu set
 *		(RESPOOL_A_CPU_*); 0 for the others
 * @src:	enum respool_stat_src
 * @idx:	the counter's enum respool_counter or enum
 *		respool_locked_counter; 0 for a gauge
 * @keep:	a reset leaves it (a gauge)
 * @is_signed:	one CPU's part may be negative: the sum is clamped at 0
 *		and the cpu set carries it as s64
 */
struct respool_stat_desc {
	u16 off;
	u8 attr;
	u8 cpu_attr;
	u8 src;
	u8 idx;
	bool keep;
	bool is_signed;
};

/*
 * The table, in the order of the stats set's attributes: one entry per
 * u64 of struct respool_stats, that is all of them but the header and
 * the wait histogram (a nested attribute of its own).
 */
#define RESPOOL_NR_STATS						\
	((sizeof(struct respool_stats) -				\
	  offsetof(struct respool_stats, capacity)) / sizeof(__u64) -	\
	 RESPOOL_WAIT_HIST_BUCKETS)

extern const struct respool_stat_desc respool_stat_table[];

/**
 * respool_count() - count one event on this CPU
 * @pool:	the pool
 * @item:	the counter
 *
 * Context: any; does not sleep.
 */
static inline void respool_count(struct respool_pool *pool,
				 enum respool_counter item)
{
	this_cpu_inc(pool->cpu->stats.cnt[item]);
}

/**
 * respool_count_add() - add to a counter on this CPU
 * @pool:	the pool
 * @item:	the counter
 * @delta:	what to add
 *
 * Context: any; does not sleep.
 */
static inline void respool_count_add(struct respool_pool *pool,
				     enum respool_counter item, u64 delta)
{
	this_cpu_add(pool->cpu->stats.cnt[item], delta);
}

/**
 * respool_count_sub() - take from a gauge on this CPU
 * @pool:	the pool
 * @item:	the counter (a gauge: RESPOOL_CNT_REQUESTED_BYTES)
 * @delta:	what to take; this CPU's part may go below zero
 *
 * Context: any; does not sleep.
 */
static inline void respool_count_sub(struct respool_pool *pool,
				     enum respool_counter item, u64 delta)
{
	this_cpu_sub(pool->cpu->stats.cnt[item], delta);
}

/**
 * respool_count_add_locked() - add to a counter kept under pool->lock
 * @pool:	the pool, pool->lock held
 * @item:	the counter
 * @delta:	what to add
 */
static inline void respool_count_add_locked(struct respool_pool *pool,
					    enum respool_locked_counter item,
					    u64 delta)
{
	lockdep_assert_held(&pool->lock);
	pool->lcnt[item] += delta;
}

/**
 * respool_count_max_locked() - raise a maximum kept under pool->lock
 * @pool:	the pool, pool->lock held
 * @item:	the counter (a maximum: RESPOOL_LCNT_MAX_WAIT_NS)
 * @val:	the value seen
 */
static inline void respool_count_max_locked(struct respool_pool *pool,
					    enum respool_locked_counter item,
					    u64 val)
{
	lockdep_assert_held(&pool->lock);
	pool->lcnt[item] = max(pool->lcnt[item], val);
}

void respool_stats_sum(struct respool_pool *pool,
		       struct respool_cpu_stats *sum);
void respool_stats_read_locked(struct respool_pool *pool,
			       const struct respool_cpu_stats *sum,
			       struct respool_stats *st);
void respool_stats_reset_locked(struct respool_pool *pool,
				const struct respool_cpu_stats *sum);

#endif /* _RESPOOL_STATS_H */
