/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export.h - blocks handed on as dma-bufs (export.c), for the ioctl that
 * makes them (cdev.c).
 */
#ifndef _RESPOOL_EXPORT_H
#define _RESPOOL_EXPORT_H

#include <linux/dma-buf.h>

#include "respool.h"

struct dma_buf *respool_export_new(struct respool_client *c,
				   struct respool_block *b, u32 fd_flags);
void respool_export_cancel(struct dma_buf *dmabuf);

#endif /* _RESPOOL_EXPORT_H */
