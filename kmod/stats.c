// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - the pool's counters: the table that says, for every value of
 * struct respool_stats, where it is kept, how it is reported over
 * netlink and whether a reset zeroes it; and the loops over that table
 * that sum, snapshot and reset.
 *
 * Per-CPU counters are only ever added to (this_cpu_add()); a reset takes
 * a snapshot of their sums (pool->reset_base) that readers subtract, so
 * it never races with the fast paths. The counters under pool->lock are
 * simply zeroed.
 */
#include <linux/build_bug.h>
#include <linux/cpumask.h>
#include <linux/limits.h>
#include <linux/percpu.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/respool_netlink.h>

#include "respool.h"
#include "stats.h"

/*
 * Each entry takes its counter, stats attribute and cpu attribute from
 * one name, so they cannot disagree. A per-CPU counter's enum value must
 * also be its place among the cpu set's counter attributes.
 */
#define RP_GAUGE(NAME, field) {						\
	.off = offsetof(struct respool_stats, field),			\
	.attr = RESPOOL_A_STATS_##NAME,					\
	.src = RESPOOL_STAT_GAUGE,					\
	.keep = true,							\
}

#define RP_CPU_ATTR(NAME)						\
	(RESPOOL_A_CPU_##NAME +						\
	 BUILD_BUG_ON_ZERO(RESPOOL_A_CPU_##NAME - RESPOOL_A_CPU_ALLOCS !=	\
			   RESPOOL_CNT_##NAME))
#define RP_PCPU(NAME, field) {						\
	.off = offsetof(struct respool_stats, field),			\
	.attr = RESPOOL_A_STATS_##NAME,					\
	.cpu_attr = RP_CPU_ATTR(NAME),					\
	.src = RESPOOL_STAT_PCPU,					\
	.idx = RESPOOL_CNT_##NAME,					\
}

#define RP_PCPU_GAUGE(NAME, field) {					\
	.off = offsetof(struct respool_stats, field),			\
	.attr = RESPOOL_A_STATS_##NAME,					\
	.cpu_attr = RP_CPU_ATTR(NAME),					\
	.src = RESPOOL_STAT_PCPU,					\
	.idx = RESPOOL_CNT_##NAME,					\
	.keep = true,							\
	.is_signed = true,						\
}

#define RP_LOCKED(NAME, field) {					\
	.off = offsetof(struct respool_stats, field),			\
	.attr = RESPOOL_A_STATS_##NAME,					\
	.src = RESPOOL_STAT_LOCKED,					\
	.idx = RESPOOL_LCNT_##NAME,					\
}

const struct respool_stat_desc respool_stat_table[] = {
	RP_GAUGE(CAPACITY, capacity),
	RP_GAUGE(IN_USE_BYTES, in_use_bytes),
	RP_GAUGE(RESERVE_BYTES, reserve_bytes),
	RP_GAUGE(PCPU_BYTES, pcpu_bytes),
	RP_PCPU_GAUGE(REQUESTED_BYTES, requested_bytes),
	RP_GAUGE(PEAK_IN_USE_BYTES, peak_in_use_bytes),
	RP_GAUGE(BLOCKS_IN_USE, blocks_in_use),
	RP_GAUGE(BLOCKS_FREE, blocks_free),
	RP_PCPU(ALLOCS, allocs),
	RP_PCPU(FREES, frees),
	RP_PCPU(PCPU_HITS, pcpu_hits),
	RP_PCPU(RESERVE_HITS, reserve_hits),
	RP_PCPU(FRESH_ALLOCS, fresh_allocs),
	RP_PCPU(THRESHOLD_REJECTS, threshold_rejects),
	RP_PCPU(EVICTIONS, evictions),
	RP_PCPU(EVICTED_BYTES, evicted_bytes),
	RP_LOCKED(WAITS, waits),
	RP_LOCKED(WAIT_TIMEOUTS, wait_timeouts),
	RP_LOCKED(WAIT_INTERRUPTS, wait_interrupts),
	RP_GAUGE(WAITERS, waiters),
	RP_LOCKED(MAX_WAIT_NS, max_wait_ns),
	RP_LOCKED(HANDOFFS, handoffs),
	RP_LOCKED(SHRINKER_RELEASED_BYTES, shrinker_released_bytes),
	RP_LOCKED(IDLE_TRIMMED_BYTES, idle_trimmed_bytes),
	RP_PCPU(ZEROED_BYTES, zeroed_bytes),
	RP_GAUGE(CLIENTS, clients),
	RP_GAUGE(LAST_RESET_NS, last_reset_ns),
	RP_LOCKED(LOST_WAKEUPS, lost_wakeups),
	RP_GAUGE(EXPORTED_BYTES, exported_bytes),
	RP_LOCKED(EXPORTS, exports),
	RP_LOCKED(EXPORT_RETURNS, export_returns),
	RP_GAUGE(KEPT_BYTES, kept_bytes),
	RP_GAUGE(KEPT_BLOCKS, kept_blocks),
	RP_LOCKED(TAKEBACKS, takebacks),
};

/* Every u64 of the ioctl struct has its entry: a new field needs one. */
static_assert(ARRAY_SIZE(respool_stat_table) == RESPOOL_NR_STATS);
/* Every counter of the cpu set is a per-CPU counter, and the reverse. */
static_assert(RESPOOL_CNT_NR ==
	      RESPOOL_A_CPU_REQUESTED_BYTES - RESPOOL_A_CPU_ALLOCS + 1);
/* The indices fit the table's fields. */
static_assert(RESPOOL_CNT_NR <= U8_MAX && RESPOOL_LCNT_NR <= U8_MAX);
static_assert(RESPOOL_A_STATS_MAX <= U8_MAX && RESPOOL_A_CPU_MAX <= U8_MAX);
static_assert(sizeof(struct respool_stats) <= U16_MAX);

/**
 * respool_stats_sum() - add up every CPU's counters
 * @pool:	the pool
 * @sum:	out
 *
 * Without any lock: each CPU's counters are u64s only that CPU adds to,
 * read with READ_ONCE(); the sum is as of some moment during the call.
 *
 * Context: any; does not sleep.
 */
void respool_stats_sum(struct respool_pool *pool,
		       struct respool_cpu_stats *sum)
{
	unsigned int i;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct respool_cpu_stats *s =
			&per_cpu_ptr(pool->cpu, cpu)->stats;

		for (i = 0; i < RESPOOL_CNT_NR; i++)
			sum->cnt[i] += READ_ONCE(s->cnt[i]);
	}
}

/**
 * respool_stats_read_locked() - fill in the counters of a snapshot
 * @pool:	the pool, pool->lock held
 * @sum:	the per-CPU sums, from respool_stats_sum()
 * @st:		out: every counter and the wait histogram; the gauges that
 *		the pool computes are left to the caller
 */
void respool_stats_read_locked(struct respool_pool *pool,
			       const struct respool_cpu_stats *sum,
			       struct respool_stats *st)
{
	const struct respool_stat_desc *d;
	unsigned int i;
	u64 val;

	lockdep_assert_held(&pool->lock);
	for (i = 0; i < RESPOOL_NR_STATS; i++) {
		d = &respool_stat_table[i];
		switch (d->src) {
		case RESPOOL_STAT_PCPU:
			val = sum->cnt[d->idx] - pool->reset_base.cnt[d->idx];
			if (d->is_signed && (s64)val < 0)
				val = 0;
			break;
		case RESPOOL_STAT_LOCKED:
			val = pool->lcnt[d->idx];
			break;
		default:
			continue;
		}
		*(u64 *)((void *)st + d->off) = val;
	}
	memcpy(st->wait_hist, pool->wait_hist, sizeof(st->wait_hist));
}

/**
 * respool_stats_reset_locked() - zero the counters; gauges stay
 * @pool:	the pool, pool->lock held
 * @sum:	the per-CPU sums, from respool_stats_sum(): the new base
 */
void respool_stats_reset_locked(struct respool_pool *pool,
				const struct respool_cpu_stats *sum)
{
	const struct respool_stat_desc *d;
	unsigned int i;

	lockdep_assert_held(&pool->lock);
	for (i = 0; i < RESPOOL_NR_STATS; i++) {
		d = &respool_stat_table[i];
		if (d->keep)
			continue;
		if (d->src == RESPOOL_STAT_PCPU)
			pool->reset_base.cnt[d->idx] = sum->cnt[d->idx];
		else if (d->src == RESPOOL_STAT_LOCKED)
			pool->lcnt[d->idx] = 0;
	}
	memset(pool->wait_hist, 0, sizeof(pool->wait_hist));
}
