// SPDX-License-Identifier: GPL-2.0
/*
 * block.c - a block's pages: allocation, release, reuse checks, zeroing.
 *
 * Block data is one allocation of the page allocator on the pool's node,
 * split into order-0 pages that are each refcounted (as
 * alloc_pages_exact() does, which has no node argument a module may use),
 * so it can be mapped into userspace one by one through the fault
 * handler with ordinary page references (no PFN-map tricks), and freed
 * back exactly with free_pages_exact().
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "respool.h"
#include "block.h"
#include "stats.h"

/*
 * @size bytes of whole pages from @nid (NUMA_NO_NODE: the local node),
 * falling back to other nodes when @nid has none to spare, as page_pool
 * does: a pool that asks for a node prefers it. The tail pages of the
 * power-of-two allocation go back at once.
 */
static void *respool_pages_alloc(int nid, u64 size)
{
	unsigned int order = get_order(size);
	unsigned long nr = size >> PAGE_SHIFT, i;
	struct page *page;

	page = alloc_pages_node(nid, GFP_KERNEL | __GFP_NOWARN |
				__GFP_RETRY_MAYFAIL, order);
	if (!page)
		return NULL;
	split_page(page, order);
	for (i = nr; i < (1UL << order); i++)
		__free_page(page + i);
	return page_address(page);
}

/**
 * respool_block_new() - allocate a block and its pages
 * @pool:	the pool, whose slab holds the descriptor
 * @size:	bytes, a multiple of PAGE_SIZE, at most RESPOOL_BLOCK_MAX
 *
 * The caller has already charged @size to pool->total_bytes. The data is
 * not cleared here: respool_block_prepare() clears it for its first owner.
 *
 * Context: process context, may sleep.
 * Return: the block, or NULL when memory is short.
 */
struct respool_block *respool_block_new(struct respool_pool *pool, u64 size)
{
	struct respool_block *b;

	b = kmem_cache_zalloc(pool->block_cache, GFP_KERNEL);
	if (!b)
		return NULL;
	b->vaddr = respool_pages_alloc(READ_ONCE(pool->node), size);
	if (!b->vaddr) {
		kmem_cache_free(pool->block_cache, b);
		return NULL;
	}
	b->nid = page_to_nid(virt_to_page(b->vaddr));
	atomic64_add(size, &pool->node_bytes[b->nid]);
	b->size = size;
	/* No client id is 0: the first owner always gets cleared pages. */
	b->last_client = 0;
	INIT_LIST_HEAD(&b->link);
	INIT_LIST_HEAD(&b->maps);
	RB_CLEAR_NODE(&b->size_node);
	RB_CLEAR_NODE(&b->age_node);
	return b;
}

/**
 * respool_block_destroy() - give a block's pages back to the page allocator
 * @pool:	the pool
 * @b:		a block that no cache, reserve, client or mapping holds
 *
 * A page that someone else still references (a pin taken through a
 * mapping, say) stays alive until that reference is dropped; only ours
 * goes here.
 *
 * Context: any context that may free pages; does not sleep.
 */
void respool_block_destroy(struct respool_pool *pool, struct respool_block *b)
{
	atomic64_sub(b->size, &pool->node_bytes[b->nid]);
	free_pages_exact(b->vaddr, b->size);
	kmem_cache_free(pool->block_cache, b);
}

/**
 * respool_block_fits() - the threshold rule
 * @b:		a free block
 * @need:	page-aligned bytes of a request
 * @threshold:	percent, 0..100
 *
 * Return: true if @b may serve the request: it is large enough, and the
 * request uses at least @threshold percent of it.
 */
bool respool_block_fits(const struct respool_block *b, u64 need,
			u32 threshold)
{
	return need <= b->size && 100 * need >= (u64)threshold * b->size;
}

/**
 * respool_block_fits_limit() - the threshold rule and the caller's limit
 * @b:		a free block
 * @need:	page-aligned bytes of a request
 * @max_size:	the largest block the request may be served with (the
 *		room its quota leaves); U64_MAX for none
 * @threshold:	percent, 0..100
 *
 * A block larger than @max_size is skipped like one the threshold rejects,
 * so a reused block never pushes its client over its quota. A fresh block
 * has exactly @need bytes and always fits.
 *
 * Return: true if @b may serve the request.
 */
bool respool_block_fits_limit(const struct respool_block *b, u64 need,
			      u64 max_size, u32 threshold)
{
	return b->size <= max_size && respool_block_fits(b, need, threshold);
}

/**
 * respool_block_exclusive() - may a freed block be reused?
 * @b:		a block whose handle and mappings are all gone
 *
 * Unmapping drops the page table references before vm_ops->close runs,
 * so a page of a block that was mapped holds only our reference now,
 * unless somebody pinned it through the mapping (O_DIRECT, io_uring...).
 * Such a block must never reach another client: it is released instead.
 *
 * Return: true if every page holds only the pool's reference.
 */
bool respool_block_exclusive(const struct respool_block *b)
{
	u64 off;

	if (!b->ever_mapped)
		return true;
	for (off = 0; off < b->size; off += PAGE_SIZE)
		if (page_count(virt_to_page(b->vaddr + off)) != 1)
			return false;
	return true;
}

/**
 * respool_block_prepare() - make a block ready for its new owner
 * @pool:	the pool
 * @b:		a block just taken from the pool, owned by the caller
 * @client:	its new owner
 *
 * Clears the data unless @client was the last to hold the block, so no
 * client ever sees bytes that another one wrote.
 *
 * Context: process context, may sleep; no locks held.
 */
void respool_block_prepare(struct respool_pool *pool, struct respool_block *b,
			   struct respool_client *client)
{
	u64 off;

	b->zeroed = b->last_client != client->id;
	if (b->zeroed) {
		for (off = 0; off < b->size; off += PAGE_SIZE) {
			clear_page(b->vaddr + off);
			cond_resched();
		}
		respool_count_add(pool, RESPOOL_CNT_ZEROED_BYTES, b->size);
	}
	b->last_client = client->id;
	b->client = client;
	b->ever_mapped = false;
	/* Each map held a reference: none can be left on a free block. */
	WARN_ON_ONCE(!list_empty(&b->maps));
	atomic_set(&b->nr_maps, 0);
	refcount_set(&b->refs, 1);
}
