/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the differences between the kernels respool supports.
 *
 * respool builds against Debian 12's 6.1 kernel and its 6.12 kernel. Every
 * API that changed between the two is wrapped here, once, so that the rest
 * of the module is written against one API and has no version tests.
 */
#ifndef _RESPOOL_COMPAT_H
#define _RESPOOL_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

/*
 * Largest block: one allocation of the page allocator. 6.1 has MAX_ORDER
 * (exclusive); 6.4 renamed the inclusive bound MAX_PAGE_ORDER.
 */
#ifdef MAX_PAGE_ORDER
#define RESPOOL_MAX_ORDER	MAX_PAGE_ORDER
#else
#define RESPOOL_MAX_ORDER	(MAX_ORDER - 1)
#endif

/*
 * Keep the pool's slab caches apart from others (6.5 added SLAB_NO_MERGE),
 * so they show in /proc/slabinfo and failslab can target them.
 */
#ifdef SLAB_NO_MERGE
#define RESPOOL_SLAB_FLAGS	SLAB_NO_MERGE
#else
#define RESPOOL_SLAB_FLAGS	0
#endif

/* vm_flags became write-protected behind helpers in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void
respool_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void
respool_vm_flags_clear(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#else
#define respool_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#define respool_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#endif

/*
 * Shrinkers: 6.1 embeds struct shrinker in its owner and registers it with
 * register_shrinker(); 6.7 made them allocated by shrinker_alloc(), with a
 * private_data pointer. respool_shrinker_create() allocates and registers
 * one either way; respool_shrinker_private() finds the owner back.
 */
typedef unsigned long (*respool_shrink_fn)(struct shrinker *,
					   struct shrink_control *);

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
struct respool_shrinker {
	struct shrinker shrinker;
	void *private;
};

static inline struct shrinker *
respool_shrinker_create(const char *name, respool_shrink_fn count,
			respool_shrink_fn scan, void *private)
{
	struct respool_shrinker *rs = kzalloc(sizeof(*rs), GFP_KERNEL);

	if (!rs)
		return NULL;
	rs->private = private;
	rs->shrinker.count_objects = count;
	rs->shrinker.scan_objects = scan;
	rs->shrinker.seeks = DEFAULT_SEEKS;
	if (register_shrinker(&rs->shrinker, "%s", name)) {
		kfree(rs);
		return NULL;
	}
	return &rs->shrinker;
}

static inline void *respool_shrinker_private(struct shrinker *s)
{
	return container_of(s, struct respool_shrinker, shrinker)->private;
}

static inline void respool_shrinker_destroy(struct shrinker *s)
{
	unregister_shrinker(s);
	kfree(container_of(s, struct respool_shrinker, shrinker));
}
#else
static inline struct shrinker *
respool_shrinker_create(const char *name, respool_shrink_fn count,
			respool_shrink_fn scan, void *private)
{
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->private_data = private;
	shrinker_register(s);
	return s;
}

static inline void *respool_shrinker_private(struct shrinker *s)
{
	return s->private_data;
}

static inline void respool_shrinker_destroy(struct shrinker *s)
{
	shrinker_free(s);
}
#endif

/* 6.2 made the device a ->devnode() is asked about const. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define RESPOOL_DEVNODE_CONST
#else
#define RESPOOL_DEVNODE_CONST	const
#endif

/*
 * An extended ACK with numbers in it: 6.2 gave the ACK a buffer for a
 * formatted message. 6.1 gets @fallback, a static string without them.
 */
#ifdef NL_SET_ERR_MSG_FMT
#define respool_nl_err_fmt(extack, fallback, fmt, ...) do {		\
	(void)(fallback);						\
	NL_SET_ERR_MSG_FMT(extack, fmt, ##__VA_ARGS__);			\
} while (0)
#else
#define respool_nl_err_fmt(extack, fallback, fmt, ...) do {		\
	struct netlink_ext_ack *__extack = (extack);			\
									\
	(void)(fmt);							\
	if (__extack)							\
		__extack->_msg = (fallback);				\
} while (0)
#endif

/* The attributes a dump request carried, parsed by its policy. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define respool_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#else
#define respool_dump_attrs(cb)	(genl_dumpit_info(cb)->info.attrs)
#endif

/*
 * The symbol namespace of dma-buf's exports: an identifier until 6.13,
 * a string literal since.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define RESPOOL_NS_DMA_BUF	DMA_BUF
#else
#define RESPOOL_NS_DMA_BUF	"DMA_BUF"
#endif

#endif /* _RESPOOL_COMPAT_H */
