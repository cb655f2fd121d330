// SPDX-License-Identifier: GPL-2.0
/*
 * export.c - a block handed on as a dma-buf (RESPOOL_IOC_EXPORT).
 *
 * The dma-buf takes over the reference that the block's handle had
 * (cdev.c moves it), so the block lives as long as the dma-buf: its fds,
 * its mappings (each holds the dma-buf's file) and its importers (each
 * holds the file from dma_buf_get() to dma_buf_put(), attachments
 * between). Mappings the exporting file had of the block keep references
 * of their own (mmap.c). Whichever goes last returns the block through
 * the path of a FREE; until then the exporter's uid stays charged for it
 * (cdev.c), and pool-del and rmmod refuse.
 *
 * A block is one physically contiguous run of pages (block.c): an
 * importer's sg_table has one entry, vmap is the block's linear address,
 * and mmap maps it whole at once, as the dma-buf heaps do, so that a
 * consumer does not take a fault per page.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "cdev.h"
#include "export.h"
#include "pools.h"

MODULE_IMPORT_NS(RESPOOL_NS_DMA_BUF);

/**
 * struct respool_export_buf - what a respool dma-buf is (its priv)
 * @pool:	the block's pool, with a reference until the release
 * @user:	the exporter's uid, charged for the block until it returns;
 *		held (respool_user_hold()) until the release
 * @block:	the block, whose reference the dma-buf holds; NULL when the
 *		EXPORT was undone before anyone saw the dma-buf
 * @lock:	protects @attachments and each one's @mapped
 * @attachments: the importers' attachments (struct respool_attachment)
 * @exp_name:	the exporter's name in fdinfo and debugfs: the name of the
 *		pool's device node
 */
struct respool_export_buf {
	struct respool_pool *pool;
	struct respool_user *user;
	struct respool_block *block;
	struct mutex lock;	/* attachments and their mapped flags */
	struct list_head attachments;
	char exp_name[RESPOOL_DEV_NAME_LEN];
};

/**
 * struct respool_attachment - one importer's view
 * @dev:	the importer's device
 * @table:	the block as one sg entry, mapped for @dev while @mapped
 * @mapped:	between map_dma_buf and unmap_dma_buf; under the buffer's lock
 * @node:	in the buffer's @attachments
 */
struct respool_attachment {
	struct device *dev;
	struct sg_table table;
	bool mapped;
	struct list_head node;
};

static int respool_dmabuf_attach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attachment)
{
	struct respool_export_buf *exp = dmabuf->priv;
	struct respool_block *b = exp->block;
	struct respool_attachment *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	ret = sg_alloc_table(&a->table, 1, GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}
	sg_set_page(a->table.sgl, virt_to_page(b->vaddr), b->size, 0);
	a->dev = attachment->dev;
	attachment->priv = a;

	mutex_lock(&exp->lock);
	list_add(&a->node, &exp->attachments);
	mutex_unlock(&exp->lock);
	return 0;
}

static void respool_dmabuf_detach(struct dma_buf *dmabuf,
				  struct dma_buf_attachment *attachment)
{
	struct respool_export_buf *exp = dmabuf->priv;
	struct respool_attachment *a = attachment->priv;

	mutex_lock(&exp->lock);
	list_del(&a->node);
	mutex_unlock(&exp->lock);
	sg_free_table(&a->table);
	kfree(a);
}

static struct sg_table *
respool_dmabuf_map(struct dma_buf_attachment *attachment,
		   enum dma_data_direction dir)
{
	struct respool_export_buf *exp = attachment->dmabuf->priv;
	struct respool_attachment *a = attachment->priv;
	int ret;

	ret = dma_map_sgtable(a->dev, &a->table, dir, 0);
	if (ret)
		return ERR_PTR(ret);
	mutex_lock(&exp->lock);
	a->mapped = true;
	mutex_unlock(&exp->lock);
	return &a->table;
}

static void respool_dmabuf_unmap(struct dma_buf_attachment *attachment,
				 struct sg_table *table,
				 enum dma_data_direction dir)
{
	struct respool_export_buf *exp = attachment->dmabuf->priv;
	struct respool_attachment *a = attachment->priv;

	mutex_lock(&exp->lock);
	a->mapped = false;
	mutex_unlock(&exp->lock);
	dma_unmap_sgtable(a->dev, table, dir, 0);
}

/*
 * DMA_BUF_IOCTL_SYNC and kernel CPU access: every mapped attachment's
 * view is synced for the CPU (@for_cpu) or back for its device.
 */
static void respool_dmabuf_sync(struct dma_buf *dmabuf,
				enum dma_data_direction dir, bool for_cpu)
{
	struct respool_export_buf *exp = dmabuf->priv;
	struct respool_attachment *a;

	mutex_lock(&exp->lock);
	list_for_each_entry(a, &exp->attachments, node) {
		if (!a->mapped)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(a->dev, &a->table, dir);
		else
			dma_sync_sgtable_for_device(a->dev, &a->table, dir);
	}
	mutex_unlock(&exp->lock);
}

static int respool_dmabuf_begin_cpu(struct dma_buf *dmabuf,
				    enum dma_data_direction dir)
{
	respool_dmabuf_sync(dmabuf, dir, true);
	return 0;
}

static int respool_dmabuf_end_cpu(struct dma_buf *dmabuf,
				  enum dma_data_direction dir)
{
	respool_dmabuf_sync(dmabuf, dir, false);
	return 0;
}

/*
 * Map the range at once, as the heaps do: the block is physically
 * contiguous, so one remap_pfn_range() call covers it, with no fault
 * and no page reference per page. The mapping holds the dma-buf's file
 * (vma->vm_file), and through it the block, so the block cannot go back
 * to the pool while it is mapped; and a VM_PFNMAP mapping cannot be
 * pinned (get_user_pages() refuses it), so no page of the block outlives
 * it. The core has checked the range against the dma-buf's size, and the
 * protection against the file's mode.
 */
static int respool_dmabuf_mmap(struct dma_buf *dmabuf,
			       struct vm_area_struct *vma)
{
	struct respool_export_buf *exp = dmabuf->priv;
	unsigned long pfn = page_to_pfn(virt_to_page(exp->block->vaddr));

	/*
	 * MAP_SHARED only. VM_MAYSHARE, not VM_SHARED: mmap() clears
	 * VM_SHARED for a file opened without write access, and an
	 * O_RDONLY export maps read-only (without VM_MAYWRITE, so
	 * mprotect() cannot make it writable).
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	return remap_pfn_range(vma, vma->vm_start, pfn + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

/* The block is contiguous in the linear map: nothing to build. */
static int respool_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct respool_export_buf *exp = dmabuf->priv;

	iosys_map_set_vaddr(map, exp->block->vaddr);
	return 0;
}

static void respool_dmabuf_vunmap(struct dma_buf *dmabuf,
				  struct iosys_map *map)
{
}

/*
 * The dma-buf's last reference went: every fd, mapping and importer.
 * Its reference to the block goes; if it was the last one (no mapping
 * of the exporting file left), the block returns to the pool.
 */
static void respool_dmabuf_release(struct dma_buf *dmabuf)
{
	struct respool_export_buf *exp = dmabuf->priv;

	if (exp->block)
		respool_export_put_block(exp->pool, exp->user, exp->block);
	respool_user_drop(exp->pool, exp->user);
	respool_pools_put(exp->pool);
	kfree(exp);
}

static const struct dma_buf_ops respool_dmabuf_ops = {
	.attach			= respool_dmabuf_attach,
	.detach			= respool_dmabuf_detach,
	.map_dma_buf		= respool_dmabuf_map,
	.unmap_dma_buf		= respool_dmabuf_unmap,
	.begin_cpu_access	= respool_dmabuf_begin_cpu,
	.end_cpu_access		= respool_dmabuf_end_cpu,
	.mmap			= respool_dmabuf_mmap,
	.vmap			= respool_dmabuf_vmap,
	.vunmap			= respool_dmabuf_vunmap,
	.release		= respool_dmabuf_release,
};

/**
 * respool_export_new() - make a dma-buf of a client's block
 * @c:		the exporting client
 * @b:		its block, whose handle the caller holds out of reach
 * @fd_flags:	O_CLOEXEC and the access mode, validated
 *
 * The dma-buf has no fd yet, and nobody but the caller can reach it:
 * the caller either installs it (and hands the handle's reference over
 * to it) or undoes it with respool_export_cancel().
 *
 * Context: process context, may sleep.
 * Return: the dma-buf, or an ERR_PTR().
 */
struct dma_buf *respool_export_new(struct respool_client *c,
				   struct respool_block *b, u32 fd_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct respool_pool *pool = c->pool;
	char name[RESPOOL_DEV_NAME_LEN];
	struct respool_export_buf *exp;
	struct dma_buf *dmabuf;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		return ERR_PTR(-ENOMEM);
	exp->pool = pool;
	exp->user = c->user;
	exp->block = b;
	mutex_init(&exp->lock);
	INIT_LIST_HEAD(&exp->attachments);
	strscpy(exp->exp_name, respool_cdev_name(pool, name),
		sizeof(exp->exp_name));

	info.exp_name = exp->exp_name;
	info.ops = &respool_dmabuf_ops;
	info.size = b->size;
	info.flags = fd_flags;
	info.priv = exp;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		kfree(exp);
		return dmabuf;
	}
	/* Both dropped by the release, the cancelled dma-buf's too. */
	kref_get(&pool->ref);
	respool_user_hold(pool, exp->user);
	return dmabuf;
}

/**
 * respool_export_cancel() - undo respool_export_new()
 * @dmabuf:	a dma-buf that never had an fd
 *
 * Its release leaves the block alone: it is still the client's.
 */
void respool_export_cancel(struct dma_buf *dmabuf)
{
	struct respool_export_buf *exp = dmabuf->priv;

	exp->block = NULL;
	dma_buf_put(dmabuf);
}
