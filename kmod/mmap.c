// SPDX-License-Identifier: GPL-2.0
/*
 * mmap.c - mapping blocks into userspace.
 *
 * The model: map on fault, with ordinary page references. The fault
 * handler returns the block's page with a reference, and the core mm maps
 * it like any shared file page, so fork, partial munmap, mremap and
 * MADV_DONTNEED all work. Each VMA holds a reference to its block, taken
 * at mmap and in vm_ops->open (fork, split) and dropped in vm_ops->close,
 * so a block FREEd while mapped returns to the pool only after its last
 * mapping is gone; until then it stays charged to its owner's quotas and
 * counted in the owner's mapped bytes (respool_client_map_account()).
 * The owner outlives the mapping, whose vm_file is the owner's file.
 * VM_DONTEXPAND stops mremap() from growing a mapping
 * past the block and, being VM_SPECIAL, keeps mlock() off our pages.
 *
 * The offset names the block: handle << RESPOOL_OFFSET_SHIFT, plus the
 * first page of the block to map.
 */
#include <linux/fs.h>
#include <linux/mm.h>

#include "compat.h"
#include "respool.h"
#include "cdev.h"

static void respool_vm_open(struct vm_area_struct *vma)
{
	struct respool_block *b = vma->vm_private_data;

	/* The VMA we copy holds a reference: b->client is the owner. */
	refcount_inc(&b->refs);
	respool_client_map_account(b->client, b, 1);
}

static void respool_vm_close(struct vm_area_struct *vma)
{
	struct respool_block *b = vma->vm_private_data;

	respool_client_map_account(b->client, b, -1);
	respool_block_put(b);
}

static vm_fault_t respool_vm_fault(struct vm_fault *vmf)
{
	struct respool_block *b = vmf->vma->vm_private_data;
	pgoff_t k = vmf->pgoff & (BIT(RESPOOL_PGOFF_SHIFT) - 1);
	struct page *page;

	if (k >= b->size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(b->vaddr + (k << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
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
 * handle of this file, or a range that leaves the block.
 */
int respool_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct respool_client *c = file->private_data;
	unsigned long handle = vma->vm_pgoff >> RESPOOL_PGOFF_SHIFT;
	unsigned long first = vma->vm_pgoff & (BIT(RESPOOL_PGOFF_SHIFT) - 1);
	struct respool_block *b;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (!respool_handle_valid(handle))
		return -EINVAL;

	/* Under the table's lock, FREE cannot drop the handle's reference. */
	xa_lock(&c->handles);
	b = xa_load(&c->handles, handle);
	if (!b || first + vma_pages(vma) > b->size >> PAGE_SHIFT) {
		xa_unlock(&c->handles);
		return -EINVAL;
	}
	refcount_inc(&b->refs);
	if (atomic_inc_return(&b->nr_maps) == 1)
		c->mapped_bytes += b->size;
	b->ever_mapped = true;
	xa_unlock(&c->handles);

	respool_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = b;
	vma->vm_ops = &respool_vm_ops;
	return 0;
}
