/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cdev.h - the top layer's device side: /dev/respool (cdev.c) and the
 * mappings of its blocks (mmap.c).
 */
#ifndef _RESPOOL_CDEV_H
#define _RESPOOL_CDEV_H

#include <linux/uidgid.h>

#include "respool.h"

int respool_cdev_init(struct respool_pool *pool, umode_t mode);
void respool_cdev_exit(void);
int respool_cdev_add(struct respool_pool *pool, kuid_t uid, kgid_t gid,
		     umode_t mode);
void respool_cdev_del(struct respool_pool *pool);

/* Room for a device node's name: "respool-" and a pool's name. */
#define RESPOOL_DEV_NAME_LEN	(sizeof(RESPOOL_DEVICE_NAME "-") + \
				 RESPOOL_NAME_MAX)

/* The name of a pool's node under /dev: respool, or respool-NAME. */
static inline const char *respool_cdev_name(const struct respool_pool *pool,
					    char buf[RESPOOL_DEV_NAME_LEN])
{
	if (!pool->id)
		return RESPOOL_DEVICE_NAME;
	snprintf(buf, RESPOOL_DEV_NAME_LEN, "%s-%s", RESPOOL_DEVICE_NAME,
		 pool->name);
	return buf;
}

void respool_block_put(struct respool_block *b);
void respool_export_put_block(struct respool_pool *pool,
			      struct respool_user *u, struct respool_block *b);
void respool_user_hold(struct respool_pool *pool, struct respool_user *u);
void respool_user_drop(struct respool_pool *pool, struct respool_user *u);
int respool_mmap(struct file *file, struct vm_area_struct *vma);

#endif /* _RESPOOL_CDEV_H */
