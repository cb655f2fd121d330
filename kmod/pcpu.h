/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpu.h - the per-CPU caches (pcpu.c), above the reserve: they hand
 * blocks to the reserve (drain) or back to their caller (spill), and
 * never serve waiters themselves.
 */
#ifndef _RESPOOL_PCPU_H
#define _RESPOOL_PCPU_H

#include "respool.h"

int respool_pcpu_init(struct respool_pool *pool);
void respool_pcpu_exit(struct respool_pool *pool);
struct respool_block *respool_pcpu_get(struct respool_pool *pool, u64 need,
				       u64 max_size, bool *rejected);
bool respool_pcpu_put(struct respool_pool *pool, struct respool_block *b,
		      struct list_head *spill);
void respool_pcpu_drain_locked(struct respool_pool *pool, u64 freed_before);
void respool_pcpu_set_budget_locked(struct respool_pool *pool);
bool respool_pcpu_find_fit_locked(struct respool_pool *pool, u64 need);
u64 respool_pcpu_bytes(struct respool_pool *pool, unsigned int *nr);

#endif /* _RESPOOL_PCPU_H */
