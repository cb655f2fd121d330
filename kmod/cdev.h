/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cdev.h - the top layer's device side: /dev/respool (cdev.c) and the
 * mappings of its blocks (mmap.c).
 */
#ifndef _RESPOOL_CDEV_H
#define _RESPOOL_CDEV_H

#include "respool.h"

int respool_cdev_init(umode_t mode);
void respool_cdev_exit(void);
void respool_block_put(struct respool_block *b);
void respool_client_map_account(struct respool_client *c,
				struct respool_block *b, int delta);
int respool_mmap(struct file *file, struct vm_area_struct *vma);

#endif /* _RESPOOL_CDEV_H */
