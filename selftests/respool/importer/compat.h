/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel version difference of respool_importer.c; the
 * module is built against 6.1 and 6.12. Included once, by
 * respool_importer.c (it holds the module's MODULE_IMPORT_NS()).
 */
#ifndef _RESPOOL_IMPORTER_COMPAT_H
#define _RESPOOL_IMPORTER_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/module.h>
#include <linux/version.h>

/*
 * Compat: 6.2 moved dma-buf to the dynamic locking rules: the plain
 * dma_buf_map_attachment()/dma_buf_vmap() and their undoing want the
 * caller to hold the reservation lock, and the *_unlocked variants take
 * it. Up to 6.1 a static importer calls the plain functions without any
 * lock (dma_buf_vmap() takes dmabuf->lock itself). Debian's 6.1 has the
 * mapping's _unlocked variants backported, but not the vmap's; the plain
 * functions are right on every 6.1. 6.13 spells namespaces as strings.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define imp_map_attachment	dma_buf_map_attachment
#define imp_unmap_attachment	dma_buf_unmap_attachment
#define imp_vmap		dma_buf_vmap
#define imp_vunmap		dma_buf_vunmap
#else
#define imp_map_attachment	dma_buf_map_attachment_unlocked
#define imp_unmap_attachment	dma_buf_unmap_attachment_unlocked
#define imp_vmap		dma_buf_vmap_unlocked
#define imp_vunmap		dma_buf_vunmap_unlocked
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS(DMA_BUF);
#else
MODULE_IMPORT_NS("DMA_BUF");
#endif

#endif /* _RESPOOL_IMPORTER_COMPAT_H */
