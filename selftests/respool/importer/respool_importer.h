/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * respool_importer.h - the control interface of the test-only dma-buf
 * importer (respool_importer.ko), shared by the module and import_test.
 *
 * Each open file of /dev/respool_importer imports at most one dma-buf and
 * takes it through the steps a device driver does, one ioctl each, so
 * that a test can look at the exporter between them:
 *
 *   IMPORT  dma_buf_get() of an fd, dma_buf_attach() to the dummy device
 *   MAP     dma_buf_map_attachment(): the sg_table, described back
 *   VMAP    dma_buf_vmap()
 *   CHECK   compare the contents with a pattern, through the vmap or
 *           through the sg_table's pages
 *   FILL    write a pattern through the vmap
 *   VUNMAP, UNMAP, DETACH (dma_buf_detach() and dma_buf_put())
 *
 * A step out of order fails with EINVAL (nothing imported, not mapped or
 * not vmapped) or EBUSY (already imported, mapped or vmapped; DETACH
 * while mapped or vmapped). close() undoes whatever is left, in reverse.
 *
 * The pattern is that of the selftests' rp_fill(): 64-bit word i of the
 * buffer is seed ^ (i * RESPOOL_IMP_PATTERN_MUL).
 */
#ifndef _RESPOOL_IMPORTER_H
#define _RESPOOL_IMPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define RESPOOL_IMP_NAME	"respool_importer"

#define RESPOOL_IMP_PATTERN_MUL	0x9e3779b97f4a7c15ULL

/* respool_imp_check.via */
#define RESPOOL_IMP_VIA_VMAP	0	/* the kernel address of VMAP */
#define RESPOOL_IMP_VIA_PAGES	1	/* the pages of MAP's sg_table */

/* respool_imp_check.bad_offset when every word matched */
#define RESPOOL_IMP_ALL_GOOD	(~0ULL)

/**
 * struct respool_imp_import - argument of RESPOOL_IMP_IOC_IMPORT
 * @fd:		in: a dma-buf file descriptor
 * @__pad:	must be zero
 * @size:	out: the dma-buf's size
 */
struct respool_imp_import {
	__s32 fd;
	__u32 __pad;
	__u64 size;
};

/**
 * struct respool_imp_map - result of RESPOOL_IMP_IOC_MAP
 * @nents:	entries of the sg_table's CPU side (orig_nents)
 * @dma_nents:	entries of its DMA side (nents)
 * @length:	sum of the CPU entries' lengths
 * @dma_length:	sum of the DMA entries' lengths
 * @pages:	pages the CPU entries cover, each one with a valid pfn
 * @bad_pages:	pages without a valid pfn (always 0 unless the exporter
 *		handed out something that is not memory)
 */
struct respool_imp_map {
	__u32 nents;
	__u32 dma_nents;
	__u64 length;
	__u64 dma_length;
	__u64 pages;
	__u64 bad_pages;
};

/**
 * struct respool_imp_check - argument of RESPOOL_IMP_IOC_CHECK
 * @seed:	in: the pattern's seed
 * @via:	in: RESPOOL_IMP_VIA_VMAP or RESPOOL_IMP_VIA_PAGES
 * @__pad:	must be zero
 * @bad_offset:	out: byte offset of the first word that differs, or
 *		RESPOOL_IMP_ALL_GOOD
 * @bad_word:	out: the word found there (0 if all good)
 */
struct respool_imp_check {
	__u64 seed;
	__u32 via;
	__u32 __pad;
	__u64 bad_offset;
	__u64 bad_word;
};

#define RESPOOL_IMP_IOC_MAGIC	0xBA

#define RESPOOL_IMP_IOC_IMPORT	_IOWR(RESPOOL_IMP_IOC_MAGIC, 0x0, struct respool_imp_import)
#define RESPOOL_IMP_IOC_MAP	_IOR(RESPOOL_IMP_IOC_MAGIC, 0x1, struct respool_imp_map)
#define RESPOOL_IMP_IOC_VMAP	_IO(RESPOOL_IMP_IOC_MAGIC, 0x2)
#define RESPOOL_IMP_IOC_CHECK	_IOWR(RESPOOL_IMP_IOC_MAGIC, 0x3, struct respool_imp_check)
#define RESPOOL_IMP_IOC_FILL	_IOW(RESPOOL_IMP_IOC_MAGIC, 0x4, __u64)
#define RESPOOL_IMP_IOC_VUNMAP	_IO(RESPOOL_IMP_IOC_MAGIC, 0x5)
#define RESPOOL_IMP_IOC_UNMAP	_IO(RESPOOL_IMP_IOC_MAGIC, 0x6)
#define RESPOOL_IMP_IOC_DETACH	_IO(RESPOOL_IMP_IOC_MAGIC, 0x7)

#endif /* _RESPOOL_IMPORTER_H */
