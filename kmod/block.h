/* SPDX-License-Identifier: GPL-2.0 */
/*
 * block.h - one block's pages (block.c): allocation, release, the reuse
 * rules, clearing. Used by every layer; calls none.
 */
#ifndef _RESPOOL_BLOCK_H
#define _RESPOOL_BLOCK_H

#include "respool.h"

struct respool_block *respool_block_new(struct respool_pool *pool, u64 size);
void respool_block_destroy(struct respool_pool *pool, struct respool_block *b);
bool respool_block_fits(const struct respool_block *b, u64 need,
			u32 threshold);
bool respool_block_fits_limit(const struct respool_block *b, u64 need,
			      u64 max_size, u32 threshold);
bool respool_block_exclusive(const struct respool_block *b);
void respool_block_prepare(struct respool_pool *pool, struct respool_block *b,
			   struct respool_client *client);

#endif /* _RESPOOL_BLOCK_H */
