// SPDX-License-Identifier: GPL-2.0
/*
 * mmap.c - mapping blocks into userspace.
 *
 * Each mmap() of a block makes a struct respool_map, which holds one
 * reference to the block for every VMA that comes of it (the one mmap()
 * made, and the copies that split, mremap and fork make, counted in
 * vm_ops->open and ->close). So a block FREEd while mapped returns to
 * the pool only after its last mapping is gone; until then it stays
 * charged to its owner and counted in the owner's mapped bytes. The
 * owner outlives the mapping, whose vm_file is the owner's file.
 *
 * Pages are inserted whole at the first fault of a VMA (vm_insert_pages()
 * of its range), so touching a block costs one fault, not one per page.
 * Not at mmap time: at ->mmap the VMA is not yet linked into the file's
 * address_space, where a take-back of a kept block (keep.c) unmaps it.
 * The fault handler inserts under the file's map_lock, the lock the
 * take-back holds while it revokes the maps and unmaps their pages, so
 * a page is either mapped before that unmap or not at all (a revoked map
 * faults with SIGBUS). TTM's fault handler and ttm_bo_unmap_virtual()
 * work the same way. The pages are ordinary refcounted pages
 * (VM_MIXEDMAP), so fork, partial munmap, mremap, MADV_DONTNEED and
 * get_user_pages() all work. VM_DONTEXPAND stops mremap() from growing a
 * mapping past the block and, being VM_SPECIAL, keeps mlock() off our
 * pages.
 *
 * The offset names the block: handle << RESPOOL_OFFSET_SHIFT, plus the
 * first page of the block to map. Handle 0, never a block, names the
 * control page and the pool page (keep.c).
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "cdev.h"
#include "inject.h"
#include "keep.h"

/* Pages inserted per vm_insert_pages() call (a stack array). */
#define RESPOOL_INSERT_BATCH	32

/*
 * A VMA of @map came (+1: split, fork, mremap) or went (-1). Returns the
 * block whose reference the caller drops, when the last VMA of an
 * unrevoked map went; the map is freed then too.
 */
static struct respool_block *respool_map_account(struct respool_client *c,
						 struct respool_map *map,
						 int delta)
{
	struct respool_block *b;
	bool last;

	xa_lock(&c->handles);
	b = map->b;
	if (delta > 0) {
		map->vmas++;
		if (b && atomic_inc_return(&b->nr_maps) == 1)
			c->mapped_bytes += b->size;
		xa_unlock(&c->handles);
		return NULL;
	}
	last = !--map->vmas;
	if (b && atomic_dec_return(&b->nr_maps) == 0)
		c->mapped_bytes -= b->size;
	if (last && b)
		list_del(&map->node);
	xa_unlock(&c->handles);
	if (!last)
		return NULL;
	kfree(map);
	return b;
}

static void respool_vm_open(struct vm_area_struct *vma)
{
	respool_map_account(vma->vm_file->private_data, vma->vm_private_data,
			    1);
}

static void respool_vm_close(struct vm_area_struct *vma)
{
	struct respool_block *b;

	b = respool_map_account(vma->vm_file->private_data,
				vma->vm_private_data, -1);
	if (b)
		respool_block_put(b);
}

static vm_fault_t respool_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct respool_client *c = vma->vm_file->private_data;
	struct respool_map *map = vma->vm_private_data;
	unsigned long first = vma->vm_pgoff & (BIT(RESPOOL_PGOFF_SHIFT) - 1);
	unsigned long n = vma_pages(vma), i, j, k, left;
	struct page *pages[RESPOOL_INSERT_BATCH];
	struct respool_block *b;
	vm_fault_t ret = VM_FAULT_NOPAGE;
	int err;

	mutex_lock(&c->map_lock);
	xa_lock(&c->handles);
	b = map->b;
	xa_unlock(&c->handles);
	/* Taken back from a kept state: the client must not touch it. */
	if (!b) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	/* Where a take-back races the fault (test build). */
	respool_inject(RESPOOL_INJ_FAULT);
	/* mmap() checked that the VMA lies within the block. */
	for (i = 0; i < n; i += k) {
		k = min_t(unsigned long, n - i, RESPOOL_INSERT_BATCH);
		for (j = 0; j < k; j++)
			pages[j] = virt_to_page(b->vaddr +
					((first + i + j) << PAGE_SHIFT));
		left = k;
		err = vm_insert_pages(vma, vma->vm_start + (i << PAGE_SHIFT),
				      pages, &left);
		/* A page still mapped (MADV_DONTNEED of a part): skip it. */
		if (err == -EBUSY) {
			k -= left - 1;
			continue;
		}
		if (err) {
			ret = vmf_error(err);
			break;
		}
	}
out:
	mutex_unlock(&c->map_lock);
	return ret;
}

static const struct vm_operations_struct respool_vm_ops = {
	.open	= respool_vm_open,
	.close	= respool_vm_close,
	.fault	= respool_vm_fault,
};

/**
 * respool_mmap() - map (part of) one of the file's blocks
 * @file:	the client's file
 * @vma:	the new mapping; vm_pgoff names the handle and first page
 *
 * Context: process context, mmap_lock held for writing.
 * Return: 0, or -EINVAL for a private mapping, an offset that names no
 * handle of this file, or a range that leaves the block; -ENOMEM; or
 * respool_keep_mmap()'s errors for handle 0.
 */
int respool_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct respool_client *c = file->private_data;
	unsigned long handle = vma->vm_pgoff >> RESPOOL_PGOFF_SHIFT;
	unsigned long first = vma->vm_pgoff & (BIT(RESPOOL_PGOFF_SHIFT) - 1);
	struct respool_block *b;
	struct respool_map *map;

	if (!handle)
		return respool_keep_mmap(c, vma);
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (!respool_handle_valid(handle))
		return -EINVAL;
	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;

	/* Under the table's lock, FREE cannot drop the handle's reference. */
	xa_lock(&c->handles);
	b = xa_load(&c->handles, handle);
	if (!b || first + vma_pages(vma) > b->size >> PAGE_SHIFT) {
		xa_unlock(&c->handles);
		kfree(map);
		return -EINVAL;
	}
	refcount_inc(&b->refs);
	if (atomic_inc_return(&b->nr_maps) == 1)
		c->mapped_bytes += b->size;
	b->ever_mapped = true;
	map->b = b;
	map->vmas = 1;
	list_add(&map->node, &b->maps);
	xa_unlock(&c->handles);

	/* Pages go in at the first fault, under map_lock (see the top). */
	respool_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = map;
	vma->vm_ops = &respool_vm_ops;
	return 0;
}
