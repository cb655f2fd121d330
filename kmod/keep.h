/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keep.h - blocks that clients keep for reuse without a system call: the
 * control page, the pool page and the take-back (keep.c).
 */
#ifndef _RESPOOL_KEEP_H
#define _RESPOOL_KEEP_H

#include <linux/mm_types.h>

#include "respool.h"

int respool_keep_mmap(struct respool_client *c, struct vm_area_struct *vma);
void respool_keep_handout_locked(struct respool_client *c,
				 struct respool_block *b, u32 handle);
unsigned int respool_keep_takeback_pool(struct respool_pool *pool,
					enum respool_takeback_why why);
bool respool_keep_kept_locked(struct respool_client *c, unsigned long handle,
			      const struct respool_block *b);
void respool_keep_stats(struct respool_pool *pool, struct respool_stats *st);
void respool_keep_release(struct respool_client *c);

#endif /* _RESPOOL_KEEP_H */
