// SPDX-License-Identifier: GPL-2.0
/*
 * keep.c - blocks that clients keep for reuse without a system call.
 *
 * A client that maps its control page (struct respool_ctl, one page per
 * open file) gets a state word per handle: from then on every ALLOC
 * writes INUSE and a new generation into the slot of its handle. Instead
 * of FREE the client may exchange INUSE for KEPT: the block stays its
 * own, mapped and charged, and a later exchange KEPT -> INUSE reuses it
 * with no system call (librespool's magazine). The kernel keeps the
 * power to take any kept block back, at any moment and without the
 * client's help, by winning the exchange KEPT -> TAKEN: then the handle
 * goes, the block's pages are unmapped from every mapping of the file,
 * and the block returns as by FREE through respool_pool_free(), the one
 * "room appeared" path that serves waiters in their order.
 *
 * The kernel never trusts the page. It looks only at handles of its own
 * table, and a slot counts as kept only if it holds exactly KEPT (with or
 * without IDLE) and the generation the kernel wrote for that hand-out; a
 * client writing anything else, at any time, can only lose its own
 * blocks or keep them from being reused.
 *
 * Ordering: no ALLOC waits while a block sits kept. The client stores
 * KEPT, then a full barrier, then loads the pool page's waiters (and
 * reclaim); a waiter stores waiters (under pool->lock, in wait.c), then
 * a full barrier (smp_mb() below), then loads the slots. That is the
 * store-buffering pattern: with both barriers, at least one side sees
 * the other's store. Either the scan finds KEPT and takes the block, or
 * the client sees waiters and frees it with FREE itself; if both act,
 * the one compare-and-exchange on the slot decides, and the loser backs
 * off. The same holds for reclaim (a lowered capacity).
 *
 * Mappings: a take-back first takes the handle (under the client lock,
 * so no FREE, INFO, EXPORT or mmap finds it), then, under the file's
 * map_lock, revokes each struct respool_map of the block (their VMAs
 * then map nothing and fault with SIGBUS) and unmaps the handle's range
 * from the file's own address_space. The fault handler (mmap.c) looks
 * the block up and inserts its pages under the same map_lock, so no page
 * is mapped after the unmap; a VMA that a racing mmap() has not yet
 * linked holds its map's reference, which the revoke drops only with
 * the rest, before any page of it is mapped (pages go in at the first
 * fault, never at mmap time). Only then are the references dropped: the
 * last one returns the block, zeroed for its next owner.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "cdev.h"
#include "inject.h"
#include "keep.h"
#include "pool.h"
#include "trace.h"

#define RESPOOL_SLOT_GEN_MASK	(U32_MAX >> RESPOOL_SLOT_GEN_SHIFT)

static inline u32 respool_slot(u32 gen, u32 state)
{
	return gen << RESPOOL_SLOT_GEN_SHIFT | state;
}

/*
 * The control page and the pool page are ordinary pages mapped on fault;
 * they live as long as the file (control page) or the pool (pool page),
 * both of which every mapping of them outlives through vm_file.
 */
static vm_fault_t respool_keep_fault(struct vm_fault *vmf)
{
	struct respool_client *c = vmf->vma->vm_file->private_data;
	void *addr = vmf->vma->vm_pgoff ? (void *)c->pool->shared :
					  (void *)c->ctl;
	struct page *page = virt_to_page(addr);

	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct respool_keep_vm_ops = {
	.fault	= respool_keep_fault,
};

/**
 * respool_keep_mmap() - map the control page or the pool page
 * @c:		the client
 * @vma:	the new mapping, at RESPOOL_CTL_OFFSET (read-write) or
 *		RESPOOL_SHARED_OFFSET (read-only), one page, shared
 *
 * The first mapping of the control page creates it; from then on every
 * ALLOC of a handle below nr_slots writes its slot.
 *
 * Context: process context, mmap_lock held for writing.
 * Return: 0, -EINVAL for another offset or length or a private mapping,
 * -EPERM for a writable mapping of the pool page, -ENOMEM.
 */
int respool_keep_mmap(struct respool_client *c, struct vm_area_struct *vma)
{
	struct respool_ctl *ctl;
	bool first = false;

	if (vma->vm_pgoff > 1 || vma_pages(vma) != 1 ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff == 1) {
		/* The pool's page is shared by every client: read-only. */
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		respool_vm_flags_clear(vma, VM_MAYWRITE);
	} else if (!READ_ONCE(c->ctl)) {
		ctl = (struct respool_ctl *)get_zeroed_page(GFP_KERNEL);
		if (!ctl)
			return -ENOMEM;
		ctl->version = RESPOOL_CTL_VERSION;
		ctl->nr_slots = RESPOOL_CTL_NR_SLOTS;
		/* ALLOC reads c->ctl under the client lock. */
		xa_lock(&c->handles);
		if (!c->ctl) {
			c->ctl = ctl;
			first = true;
		}
		xa_unlock(&c->handles);
		if (first)
			respool_pool_fast_client(c->pool, 1);
		else
			free_page((unsigned long)ctl);
	}
	respool_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &respool_keep_vm_ops;
	return 0;
}

/**
 * respool_keep_handout_locked() - a block got a handle: offer it for keeping
 * @c:		the client, its client lock held
 * @b:		the block
 * @handle:	its new handle
 *
 * With a control page and a handle that has a slot, the slot gets INUSE
 * and a generation new for this hand-out (never 0), which a stale entry
 * of the client for an earlier block under the same handle cannot match.
 */
void respool_keep_handout_locked(struct respool_client *c,
				 struct respool_block *b, u32 handle)
{
	lockdep_assert_held(&c->handles.xa_lock);
	b->ctl_gen = 0;
	if (!c->ctl || handle >= RESPOOL_CTL_NR_SLOTS)
		return;
	c->ctl_gen = (c->ctl_gen + 1) & RESPOOL_SLOT_GEN_MASK;
	if (!c->ctl_gen)
		c->ctl_gen = 1;
	b->ctl_gen = c->ctl_gen;
	WRITE_ONCE(c->ctl->slots[handle],
		   respool_slot(b->ctl_gen, RESPOOL_SLOT_INUSE));
}

/*
 * Is @w, read from the slot of @b, the kernel's KEPT for @b? Only an
 * exact match counts; garbage is "not kept".
 */
static bool respool_slot_kept(const struct respool_block *b, u32 w)
{
	return b->ctl_gen &&
	       (w & ~RESPOOL_SLOT_IDLE) ==
	       respool_slot(b->ctl_gen, RESPOOL_SLOT_KEPT);
}

/**
 * respool_keep_kept_locked() - does the client keep this block now?
 * @c:		the client, its client lock held
 * @handle:	a handle of its table
 * @b:		the block under it
 *
 * The test a take-back makes, for the reports: kept bytes and blocks.
 *
 * Return: true if its slot holds exactly KEPT and @b's generation.
 */
bool respool_keep_kept_locked(struct respool_client *c, unsigned long handle,
			      const struct respool_block *b)
{
	lockdep_assert_held(&c->handles.xa_lock);
	return c->ctl && handle < RESPOOL_CTL_NR_SLOTS &&
	       respool_slot_kept(b, READ_ONCE(c->ctl->slots[handle]));
}

/*
 * Revoke every map of @b, taken from @c's table, and unmap its pages from
 * every mapping of the file. Returns the references the maps held, which
 * the caller drops once this returns.
 */
static unsigned int respool_keep_revoke(struct respool_client *c,
					struct respool_block *b, u32 handle)
{
	struct respool_map *map, *tmp;
	unsigned int n = 0, vmas = 0;

	mutex_lock(&c->map_lock);
	xa_lock(&c->handles);
	list_for_each_entry_safe(map, tmp, &b->maps, node) {
		vmas += map->vmas;
		map->b = NULL;
		list_del_init(&map->node);
		n++;
	}
	/* The revoked VMAs no longer count: their close sees no block. */
	if (vmas && atomic_sub_return(vmas, &b->nr_maps) == 0)
		c->mapped_bytes -= b->size;
	xa_unlock(&c->handles);
	/* The range names this file's mappings only: its own mapping. */
	unmap_mapping_range(&c->mapping,
			    (loff_t)handle << RESPOOL_OFFSET_SHIFT, b->size, 1);
	mutex_unlock(&c->map_lock);
	return n;
}

/*
 * Take @handle back from @c if its slot says kept; on an idle pass, mark
 * an unmarked kept slot IDLE instead and take only those already marked.
 * Returns true if the block was taken back.
 */
static bool respool_keep_take(struct respool_client *c, unsigned long handle,
			      enum respool_takeback_why why)
{
	bool idle_pass = why == RESPOOL_TAKEBACK_IDLE;
	u32 *slot = &c->ctl->slots[handle];
	struct respool_block *b;
	unsigned int maps;
	u32 w;

	xa_lock(&c->handles);
	b = xa_load(&c->handles, handle);
	if (!b)
		goto skip;
	w = READ_ONCE(*slot);
	if (!respool_slot_kept(b, w))
		goto skip;
	if (idle_pass && !(w & RESPOOL_SLOT_IDLE)) {
		/* Used since the last pass, or never seen: mark it. */
		cmpxchg(slot, w, w | RESPOOL_SLOT_IDLE);
		goto skip;
	}
	/* The one exchange that decides: the client's reuse or ours. */
	if (cmpxchg(slot, w, respool_slot(b->ctl_gen, RESPOOL_SLOT_TAKEN)) != w)
		goto skip;
	__xa_erase(&c->handles, handle);
	c->requested_bytes -= b->requested;
	c->takebacks++;
	b->ctl_gen = 0;
	xa_unlock(&c->handles);
	trace_respool_takeback(c->pool->id, c->id, handle, b->size, why);

	/* Where a reuse, an mmap or a fault of the handle races us. */
	respool_inject(RESPOOL_INJ_TAKEBACK);
	maps = respool_keep_revoke(c, b, handle);
	/* The handle's reference is left: none of these is the last. */
	if (maps)
		WARN_ON_ONCE(refcount_sub_and_test(maps, &b->refs));
	/* The handle's: returns the block (uncharged, room appeared). */
	respool_block_put(b);
	return true;

skip:
	xa_unlock(&c->handles);
	return false;
}

/* Take back @c's kept blocks; the number taken. */
static unsigned int
respool_keep_takeback_client(struct respool_client *c,
			     enum respool_takeback_why why)
{
	struct respool_block *b;
	unsigned long handle;
	unsigned int n = 0;

	xa_for_each_range(&c->handles, handle, b, 1, RESPOOL_CTL_NR_SLOTS - 1)
		n += respool_keep_take(c, handle, why);
	return n;
}

/**
 * respool_keep_takeback_pool() - take kept blocks back from every client
 * @pool:	the pool
 * @why:	what for; an idle pass takes only blocks left untouched since
 *		the previous pass
 *
 * pool->takeback, called only through respool_pool_takeback(), after
 * the caller published what makes clients stop keeping (waiters or
 * reclaim in the pool page), where that applies, and after the barrier.
 *
 * Context: process context, may sleep; no lock held, never in reclaim.
 * Return: the blocks taken back.
 */
unsigned int respool_keep_takeback_pool(struct respool_pool *pool,
					enum respool_takeback_why why)
{
	struct respool_client *c;
	unsigned int n = 0;

	/*
	 * The client's barrier between its KEPT store and its load of
	 * waiters/reclaim pairs with the one in respool_pool_takeback(),
	 * our only caller, after our store of those (wait.c, pool.c).
	 */
	if (why == RESPOOL_TAKEBACK_WAITER)
		respool_inject(RESPOOL_INJ_TAKEBACK_SCAN);
	/* Release takes a client off the list before it frees anything. */
	mutex_lock(&pool->clients_lock);
	list_for_each_entry(c, &pool->clients, node)
		if (READ_ONCE(c->ctl))
			n += respool_keep_takeback_client(c, why);
	mutex_unlock(&pool->clients_lock);
	if (n)
		respool_pool_count_takebacks(pool, n);
	return n;
}

/**
 * respool_keep_stats() - fill the pool's kept gauges
 * @pool:	the pool
 * @st:		the stats, kept_bytes and kept_blocks written
 *
 * Context: process context, may sleep.
 */
void respool_keep_stats(struct respool_pool *pool, struct respool_stats *st)
{
	struct respool_client *c;
	struct respool_block *b;
	unsigned long handle;

	st->kept_bytes = 0;
	st->kept_blocks = 0;
	if (!atomic_read(&pool->nr_fast))
		return;
	mutex_lock(&pool->clients_lock);
	list_for_each_entry(c, &pool->clients, node) {
		xa_lock(&c->handles);
		xa_for_each_range(&c->handles, handle, b, 1,
				  RESPOOL_CTL_NR_SLOTS - 1) {
			if (!respool_keep_kept_locked(c, handle, b))
				continue;
			st->kept_bytes += b->size;
			st->kept_blocks++;
		}
		xa_unlock(&c->handles);
	}
	mutex_unlock(&pool->clients_lock);
}

/**
 * respool_keep_release() - the file is going: free its control page
 * @c:		the client, with no mapping left
 */
void respool_keep_release(struct respool_client *c)
{
	if (!c->ctl)
		return;
	respool_pool_fast_client(c->pool, -1);
	free_page((unsigned long)c->ctl);
	c->ctl = NULL;
}
