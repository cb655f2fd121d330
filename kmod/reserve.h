/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reserve.h - the bottom layer (reserve.c): the free blocks' trees and
 * what the pool owns. Every function but respool_release_list() needs
 * pool->lock.
 */
#ifndef _RESPOOL_RESERVE_H
#define _RESPOOL_RESERVE_H

#include "respool.h"

void respool_charge_locked(struct respool_pool *pool, u64 bytes);
void respool_uncharge_locked(struct respool_pool *pool, u64 bytes);
void respool_over_update_locked(struct respool_pool *pool);

void respool_reserve_insert_locked(struct respool_pool *pool,
				   struct respool_block *b);
struct respool_block *respool_reserve_smallest_locked(struct respool_pool *pool,
						      u64 need);
struct respool_block *respool_reserve_take_locked(struct respool_pool *pool,
						  u64 need, u64 max_size,
					   bool *rejected);
struct respool_block *respool_oldest_locked(struct respool_pool *pool);

void respool_release_locked(struct respool_pool *pool, struct respool_block *b,
			    struct list_head *released,
			    enum respool_release_reason why);
u64 respool_release_oldest_locked(struct respool_pool *pool, u64 bytes,
				  struct list_head *released,
				  enum respool_release_reason why);
void respool_release_list(struct respool_pool *pool, struct list_head *list);

#endif /* _RESPOOL_RESERVE_H */
