// SPDX-License-Identifier: GPL-2.0
/*
 * cdev.c - the device nodes: clients, handles and the ioctls.
 *
 * /dev/respool is the default pool's (a misc device, as it always was);
 * every named pool has /dev/respool-NAME, a device of class "respool"
 * whose owner, group and mode come from pool-new (devtmpfs asks the
 * device type's ->devnode), so that a pool can be handed to one group
 * without a udev rule. Opening either makes the file a client of that
 * pool.
 *
 * Each open file is a client with its own handle table (an xarray); a
 * handle names a block only within its file, so no client can name, map
 * or free another's blocks. Closing the file frees every block it holds.
 *
 * Quotas: a block counts against its file (client_quota) and its file's
 * uid (user_quota) with its whole size, from the ALLOC that hands it out
 * until its last reference goes: FREE of a mapped block drops the handle
 * but not the charge, which goes with the last munmap. An ALLOC in
 * progress counts with its page-aligned need. EXPORT moves a block's
 * charge from its file to its uid alone, which stays charged until the
 * dma-buf's last reference goes (export.c), whether or not the file is
 * still open.
 *
 * The client's charge is changed under the client lock (xa_lock of
 * c->handles); the user's, shared by files with different locks, is an
 * atomic64 that respool_user_try_charge() raises with a cmpxchg loop and
 * never past the quota. respool_charge() takes both in one section of
 * the client lock, all or nothing, so no two ALLOCs, racing in one file
 * or in files of one uid, together exceed either quota. Lowering a quota
 * below the charge takes nothing back; ALLOCs fail with EDQUOT, without
 * waiting, until the charge falls.
 */
#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "respool.h"
#include "cdev.h"
#include "export.h"
#include "keep.h"
#include "pool.h"
#include "pools.h"
#include "inject.h"
#include "trace.h"

/*
 * Raise a user's charge by @bytes unless that takes it past @quota (0: no
 * quota). The cmpxchg makes the check and the charge one step against
 * every other file of the uid. *@room gets what the quota has left after
 * it (U64_MAX: no quota).
 */
static bool respool_user_try_charge(struct respool_user *u, u64 bytes,
				    u64 quota, u64 *room)
{
	s64 old = atomic64_read(&u->charged_bytes);

	do {
		if (quota && ((u64)old > quota || bytes > quota - (u64)old))
			return false;
	} while (!atomic64_try_cmpxchg(&u->charged_bytes, &old, old + bytes));
	*room = quota ? quota - ((u64)old + bytes) : U64_MAX;
	return true;
}

/*
 * Charge @bytes to the client and its user, checking both quotas; all or
 * nothing. *@room gets the bytes both quotas still allow after the charge
 * (U64_MAX: no quota).
 */
static int respool_charge(struct respool_client *c, u64 bytes, u64 cquota,
			  u64 uquota, u64 *room)
{
	u64 croom = U64_MAX, uroom;

	xa_lock(&c->handles);
	if (cquota) {
		if (c->charged_bytes > cquota ||
		    bytes > cquota - c->charged_bytes) {
			xa_unlock(&c->handles);
			return -EDQUOT;
		}
		croom = cquota - c->charged_bytes - bytes;
	}
	if (!respool_user_try_charge(c->user, bytes, uquota, &uroom)) {
		xa_unlock(&c->handles);
		return -EDQUOT;
	}
	c->charged_bytes += bytes;
	xa_unlock(&c->handles);
	*room = min(croom, uroom);
	return 0;
}

/* Undo respool_charge(); with @held, the bytes of a block that is gone. */
static void respool_uncharge(struct respool_client *c, u64 bytes, bool held)
{
	xa_lock(&c->handles);
	WARN_ON_ONCE(c->charged_bytes < bytes || (held && c->held_bytes < bytes));
	c->charged_bytes -= bytes;
	if (held)
		c->held_bytes -= bytes;
	xa_unlock(&c->handles);
	atomic64_sub(bytes, &c->user->charged_bytes);
}

/*
 * An exported block's last reference went: its exporter's uid is
 * uncharged and the block returns as by FREE (pool.c clears it for its
 * next owner).
 */
static void respool_export_return(struct respool_pool *pool,
				  struct respool_user *u,
				  struct respool_block *b)
{
	trace_respool_export_return(pool->id, b->last_client, b->size);
	atomic64_sub(b->size, &u->exported_bytes);
	atomic64_sub(b->size, &u->charged_bytes);
	respool_pool_free_exported(pool, b);
}

/**
 * respool_block_put() - drop a reference to an in-use block
 * @b:		the block
 *
 * The last reference (handle or mapping) uncharges the block's size from
 * its owner and the owner's user (an exported block's from its uid
 * alone), then returns it to the pool. The owner still exists here: a
 * handle lives in its table, and a mapping holds its file
 * (vma->vm_file), so the file is not released before the last one.
 *
 * Context: process context; does not sleep; no client lock held.
 */
void respool_block_put(struct respool_block *b)
{
	struct respool_pool *pool;

	if (!refcount_dec_and_test(&b->refs))
		return;
	pool = b->client->pool;
	/* A mapping of the exporting file outlived the dma-buf. */
	if (b->exported) {
		respool_export_return(pool, b->client->user, b);
		return;
	}
	respool_uncharge(b->client, b->size, true);
	respool_pool_free(pool, b);
}

/**
 * respool_export_put_block() - drop a dma-buf's reference to its block
 * @pool:	the block's pool
 * @u:		its exporter's uid, charged for it
 * @b:		the block; returns to the pool unless a mapping of the
 *		exporting file still holds it (respool_block_put() returns
 *		it then)
 *
 * Context: process context; does not sleep; no client lock held.
 */
void respool_export_put_block(struct respool_pool *pool,
			      struct respool_user *u, struct respool_block *b)
{
	if (refcount_dec_and_test(&b->refs))
		respool_export_return(pool, u, b);
}

/*
 * Take a handle out of the table, in one section of the table's lock.
 * The block's charge stays until its last reference goes (a mapping may
 * hold it); the caller drops the handle's reference.
 */
static struct respool_block *respool_client_take(struct respool_client *c,
						 unsigned long handle)
{
	struct respool_block *b;

	xa_lock(&c->handles);
	/* Not __xa_erase() alone: it would free a slot EXPORT holds. */
	b = xa_load(&c->handles, handle);
	if (b) {
		__xa_erase(&c->handles, handle);
		c->requested_bytes -= b->requested;
	}
	xa_unlock(&c->handles);
	return b;
}

static int respool_free_handle(struct respool_client *c, u64 handle)
{
	struct respool_block *b;

	if (!respool_handle_valid(handle))
		return -ENOENT;
	b = respool_client_take(c, handle);
	if (!b)
		return -ENOENT;
	respool_block_put(b);
	return 0;
}

/**
 * struct respool_alloc_args - ALLOC's argument, and what it installed
 * @a:		the caller's struct; first, so that the dispatch copies it
 *		in and out as for any other ioctl
 * @block:	out: the block installed at handle @a.handle, with a
 *		reference of its own that respool_alloc_finish() drops once
 *		the answer is out (or taken back)
 */
struct respool_alloc_args {
	struct respool_alloc a;
	struct respool_block *block;
};

static long respool_ioc_alloc(struct respool_client *c, void *data)
{
	struct respool_pool *pool = c->pool;
	struct respool_alloc_args *args = data;
	struct respool_alloc *a = &args->a;
	u64 cquota, uquota, need, room, max_size;
	struct respool_request req;
	struct respool_block *b;
	u32 id;
	int ret;

	if (a->reserved[0] || a->reserved[1] || !a->size ||
	    (a->flags & ~RESPOOL_ALLOC_VALID_FLAGS) ||
	    !(a->flags & RESPOOL_ALLOC_TIMEOUT) != !a->timeout_ms)
		return -EINVAL;
	/* Never servable: fail at once, before the quota, without waiting. */
	need = respool_pool_need(pool, a->size);
	if (!need)
		return -E2BIG;

	/*
	 * Charge the quotas first, so that racing ALLOCs cannot overrun
	 * them; a reused block may be larger than the need, up to the room
	 * the quotas leave.
	 */
	cquota = READ_ONCE(pool->cfg.client_quota);
	uquota = READ_ONCE(pool->cfg.user_quota);
	ret = respool_charge(c, need, cquota, uquota, &room);
	if (ret)
		return ret;
	max_size = room > U64_MAX - need ? U64_MAX : need + room;

again:
	req = (struct respool_request) {
		.size = a->size,
		.need = need,
		.max_size = max_size,
		.flags = a->flags,
		.timeout_ms = a->timeout_ms,
	};
	b = respool_pool_alloc(pool, c, &req);
	if (IS_ERR(b)) {
		ret = PTR_ERR(b);
		goto err_uncharge;
	}
	/*
	 * The charge of the need becomes the block's: charge the rest of a
	 * larger block. That fails only if racing ALLOCs took the room since
	 * the charge above: then give the block back and take one of exactly
	 * the need.
	 */
	if (b->size > need &&
	    respool_charge(c, b->size - need, cquota, uquota, &room)) {
		respool_pool_free(pool, b);
		max_size = need;
		goto again;
	}
	xa_lock(&c->handles);
	c->held_bytes += b->size;
	xa_unlock(&c->handles);
	/*
	 * Lowest free handle first, as with file descriptors. With the first
	 * node pinned, a node is rarely needed: try without sleeping, in the
	 * same lock section as the accounting, and sleep only if we must.
	 */
	xa_lock(&c->handles);
	ret = __xa_alloc(&c->handles, &id, b, XA_LIMIT(1, INT_MAX),
			 GFP_NOWAIT | __GFP_NOWARN);
	if (ret == -ENOMEM) {
		xa_unlock(&c->handles);
		ret = xa_alloc(&c->handles, &id, b, XA_LIMIT(1, INT_MAX),
			       GFP_KERNEL);
		xa_lock(&c->handles);
	}
	if (ret < 0) {
		xa_unlock(&c->handles);
		goto err_put_block;
	}
	b->handle = id;
	c->requested_bytes += a->size;
	respool_keep_handout_locked(c, b, id);
	/*
	 * Until the answer is out, the handle is not the only reference:
	 * should another thread free it, the block cannot return to the
	 * pool and come back under the same handle, so the take-back in
	 * respool_alloc_finish() can tell it apart.
	 */
	refcount_inc(&b->refs);
	xa_unlock(&c->handles);

	a->handle = id;
	a->offset = (u64)id << RESPOOL_OFFSET_SHIFT;
	a->block_size = b->size;
	args->block = b;
	return 0;

err_put_block:
	/* The last reference: uncharges the block's size. */
	respool_block_put(b);
	return ret;
err_uncharge:
	respool_uncharge(c, need, false);
	return ret;
}

/*
 * End an ALLOC once its answer was copied out (@err 0) or could not be
 * (@err -EFAULT), and drop the reference it kept on its block.
 *
 * If the caller cannot learn the handle, take the block back. Not the
 * handle number: another thread of the same file may have freed that
 * handle since, and been given the same number for another block
 * (handles are lowest-free, as fds are). So erase the handle only if it
 * still names this ALLOC's block; if it does not, whoever freed it gave
 * the block back already. While our reference holds, the block cannot
 * have come back under the same handle for someone else. As in
 * respool_client_take(), only the handle goes here; the block's charge
 * goes with its last reference.
 */
static void respool_alloc_finish(struct respool_client *c,
				 const struct respool_alloc_args *args,
				 long err)
{
	struct respool_block *b = args->block;

	if (err) {
		xa_lock(&c->handles);
		if (__xa_cmpxchg(&c->handles, args->a.handle, b, NULL, 0) == b) {
			/* The charge goes with the last reference, below. */
			c->requested_bytes -= b->requested;
			/* The handle's reference; ours is dropped below. */
			refcount_dec(&b->refs);
		}
		xa_unlock(&c->handles);
	}
	respool_block_put(b);
}

static long respool_ioc_free(struct respool_client *c, void *data)
{
	struct respool_free *f = data;

	if (f->reserved)
		return -EINVAL;
	return respool_free_handle(c, f->handle);
}

static long respool_ioc_info(struct respool_client *c, void *data)
{
	struct respool_info *info = data;
	struct respool_block *b;

	if (info->reserved[0] || info->reserved[1])
		return -EINVAL;
	if (!respool_handle_valid(info->handle))
		return -ENOENT;
	xa_lock(&c->handles);
	b = xa_load(&c->handles, info->handle);
	if (!b) {
		xa_unlock(&c->handles);
		return -ENOENT;
	}
	info->size = b->requested;
	info->block_size = b->size;
	info->offset = info->handle << RESPOOL_OFFSET_SHIFT;
	info->mapped = atomic_read(&b->nr_maps);
	info->flags = b->zeroed ? RESPOOL_INFO_ZEROED : 0;
	xa_unlock(&c->handles);
	return 0;
}

/*
 * The batch ioctls run the single ones entry by entry, copying each entry
 * in and out on its own: what they save is the syscall round trip. They
 * stop at the first failing entry and fail only if none was served.
 */
static long respool_ioc_alloc_batch(struct respool_client *c, void *data)
{
	struct respool_alloc_batch *batch = data;
	struct respool_alloc_args args;
	void __user *uentry;
	long ret = 0;

	if (batch->reserved[0] || batch->reserved[1] || !batch->count ||
	    batch->count > RESPOOL_BATCH_MAX)
		return -EINVAL;
	/* Entries are first-version structs, whatever ours has grown to. */
	for (batch->done = 0; batch->done < batch->count; batch->done++) {
		uentry = u64_to_user_ptr(batch->allocs +
			(u64)batch->done * RESPOOL_ALLOC_SIZE_VER0);
		memset(&args, 0, sizeof(args));
		if (copy_from_user(&args.a, uentry, RESPOOL_ALLOC_SIZE_VER0)) {
			ret = -EFAULT;
			break;
		}
		ret = respool_ioc_alloc(c, &args);
		if (ret)
			break;
		if (copy_to_user(uentry, &args.a, RESPOOL_ALLOC_SIZE_VER0))
			ret = -EFAULT;
		respool_alloc_finish(c, &args, ret);
		if (ret)
			break;
	}
	return batch->done ? 0 : ret;
}

static long respool_ioc_free_batch(struct respool_client *c, void *data)
{
	struct respool_free_batch *batch = data;
	u64 __user *uhandles;
	long ret = 0;
	u64 handle;

	if (batch->reserved[0] || batch->reserved[1] || !batch->count ||
	    batch->count > RESPOOL_BATCH_MAX)
		return -EINVAL;
	uhandles = u64_to_user_ptr(batch->handles);
	for (batch->done = 0; batch->done < batch->count; batch->done++) {
		if (get_user(handle, &uhandles[batch->done])) {
			ret = -EFAULT;
			break;
		}
		ret = respool_free_handle(c, handle);
		if (ret)
			break;
	}
	return batch->done ? 0 : ret;
}

/**
 * struct respool_export_args - EXPORT's argument, and what it prepared
 * @e:		the caller's struct; first, as in struct respool_alloc_args
 * @block:	the block, its handle's slot held empty: FREE, INFO and
 *		mmap find no block there, ALLOC takes another number
 * @dmabuf:	the dma-buf made of it, which no one else can reach; @e.fd
 *		is reserved for it, not installed
 *
 * respool_export_finish() either completes the export or undoes it,
 * once the answer was copied out or could not be.
 */
struct respool_export_args {
	struct respool_export e;
	struct respool_block *block;
	struct dma_buf *dmabuf;
};

/* dma-heap's fd_flags: O_CLOEXEC, and O_RDONLY or O_RDWR. */
static bool respool_export_flags_valid(u32 flags)
{
	u32 mode = flags & O_ACCMODE;

	return !(flags & ~(O_CLOEXEC | O_ACCMODE)) &&
	       (mode == O_RDONLY || mode == O_RDWR);
}

/* Put a block back under the handle whose slot EXPORT held. */
static void respool_export_restore(struct respool_client *c, u64 handle,
				   struct respool_block *b)
{
	xa_lock(&c->handles);
	__xa_cmpxchg(&c->handles, handle, XA_ZERO_ENTRY, b, 0);
	xa_unlock(&c->handles);
}

static long respool_ioc_export(struct respool_client *c, void *data)
{
	struct respool_export_args *args = data;
	struct respool_export *e = &args->e;
	struct respool_block *b;
	struct dma_buf *dmabuf;
	int fd, ret;

	/* fd is out only; zero on the way in, as dma-heap asks. */
	if (e->reserved[0] || e->reserved[1] || e->fd ||
	    !respool_export_flags_valid(e->fd_flags))
		return -EINVAL;
	if (!respool_handle_valid(e->handle))
		return -ENOENT;
	/*
	 * Hold the handle's slot: the block is out of reach of FREE and
	 * mmap, and no ALLOC can take its number, so that an error puts it
	 * back under the same handle. Replacing an entry never allocates.
	 */
	xa_lock(&c->handles);
	b = xa_load(&c->handles, e->handle);
	if (b)
		__xa_cmpxchg(&c->handles, e->handle, b, XA_ZERO_ENTRY, 0);
	xa_unlock(&c->handles);
	if (!b)
		return -ENOENT;

	/* Where a FREE or mmap of the handle races the export. */
	respool_inject(RESPOOL_INJ_EXPORT);
	fd = get_unused_fd_flags(e->fd_flags & O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_restore;
	}
	dmabuf = respool_export_new(c, b, e->fd_flags);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_put_fd;
	}
	e->fd = fd;
	args->block = b;
	args->dmabuf = dmabuf;
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_restore:
	respool_export_restore(c, e->handle, b);
	return ret;
}

/*
 * End an EXPORT once its answer was copied out (@err 0) or could not be
 * (@err -EFAULT). Until here nobody but us could reach the dma-buf. On
 * success, the handle goes, the handle's reference becomes the
 * dma-buf's, the block's charge moves from the file to its uid alone,
 * and only then does the fd appear in the caller's table. On failure,
 * the dma-buf goes without its block, which stays the file's under its
 * handle.
 */
static void respool_export_finish(struct respool_client *c,
				  const struct respool_export_args *args,
				  long err)
{
	struct respool_block *b = args->block;

	if (err) {
		respool_export_cancel(args->dmabuf);
		put_unused_fd(args->e.fd);
		respool_export_restore(c, args->e.handle, b);
		return;
	}
	xa_lock(&c->handles);
	__xa_cmpxchg(&c->handles, args->e.handle, XA_ZERO_ENTRY, NULL, 0);
	c->requested_bytes -= b->requested;
	c->charged_bytes -= b->size;
	c->held_bytes -= b->size;
	atomic64_add(b->size, &c->user->exported_bytes);
	b->exported = true;
	/* Not the file's any more: never kept, never taken back. */
	b->ctl_gen = 0;
	xa_unlock(&c->handles);
	respool_pool_exported(c->pool, b);
	trace_respool_export(c->pool->id, c->id, b->size);
	fd_install(args->e.fd, args->dmabuf->file);
}

/*
 * STATS reads only its header (size, pad) from userspace, and fills
 * min(caller's size, ours) bytes, so binaries built against an older or
 * newer struct keep working.
 */
static long respool_ioc_stats(struct respool_client *c, void __user *uarg,
			      size_t usize)
{
	struct respool_stats *st;
	u32 hdr[2];
	size_t n;
	long ret = 0;

	if (copy_from_user(hdr, uarg, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] < sizeof(hdr) || hdr[1])
		return -EINVAL;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	respool_pool_stats(c->pool, st);
	respool_keep_stats(c->pool, st);
	n = min3((size_t)hdr[0], usize, sizeof(*st));
	st->size = n;
	if (copy_to_user(uarg, st, n))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

/**
 * struct respool_ioctl_desc - one ioctl of the dispatch table
 * @cmd:	its number, with the kernel's struct size
 * @size_ver0:	the size of its struct's first version: the smallest a
 *		caller may pass (RESPOOL_*_SIZE_VER0)
 * @fn:		its handler, on a kernel copy of the struct; NULL for STATS
 */
struct respool_ioctl_desc {
	unsigned int cmd;
	size_t size_ver0;
	long (*fn)(struct respool_client *c, void *data);
};

/* Indexed by _IOC_NR(); STATS has a handler of its own (variable size). */
static const struct respool_ioctl_desc respool_ioctls[] = {
	{ RESPOOL_IOC_ALLOC, RESPOOL_ALLOC_SIZE_VER0, respool_ioc_alloc },
	{ RESPOOL_IOC_FREE, RESPOOL_FREE_SIZE_VER0, respool_ioc_free },
	{ RESPOOL_IOC_INFO, RESPOOL_INFO_SIZE_VER0, respool_ioc_info },
	{ RESPOOL_IOC_STATS, RESPOOL_STATS_SIZE_VER0, NULL },
	{ RESPOOL_IOC_ALLOC_BATCH, RESPOOL_ALLOC_BATCH_SIZE_VER0,
	  respool_ioc_alloc_batch },
	{ RESPOOL_IOC_FREE_BATCH, RESPOOL_FREE_BATCH_SIZE_VER0,
	  respool_ioc_free_batch },
	{ RESPOOL_IOC_EXPORT, RESPOOL_EXPORT_SIZE_VER0, respool_ioc_export },
};

/* A struct grows at its end only: its first version is a prefix of it. */
static_assert(RESPOOL_ALLOC_SIZE_VER0 ==
	      offsetofend(struct respool_alloc, reserved));
static_assert(RESPOOL_FREE_SIZE_VER0 ==
	      offsetofend(struct respool_free, reserved));
static_assert(RESPOOL_INFO_SIZE_VER0 ==
	      offsetofend(struct respool_info, reserved));
static_assert(RESPOOL_STATS_SIZE_VER0 ==
	      offsetofend(struct respool_stats, wait_hist));
static_assert(RESPOOL_ALLOC_BATCH_SIZE_VER0 ==
	      offsetofend(struct respool_alloc_batch, reserved));
static_assert(RESPOOL_FREE_BATCH_SIZE_VER0 ==
	      offsetofend(struct respool_free_batch, reserved));
static_assert(RESPOOL_EXPORT_SIZE_VER0 ==
	      offsetofend(struct respool_export, reserved));

/*
 * ALLOC_BATCH's entries are first-version structs and its header does not
 * say the caller's entry size: a struct respool_alloc that grows needs
 * that field first, or arrays built against the new header are misread.
 */
static_assert(sizeof(struct respool_alloc) == RESPOOL_ALLOC_SIZE_VER0);
/* The dispatch copies the struct in and out at the start of the args. */
static_assert(offsetof(struct respool_alloc_args, a) == 0);
static_assert(offsetof(struct respool_export_args, e) == 0);

/*
 * The entry point works like dma_heap_ioctl() and clone3(): the struct
 * size comes from the caller's ioctl number and may be anything from the
 * struct's first version up. The kernel copies in what both know, zeroes
 * what an older caller lacks, insists that the bytes of a newer caller
 * that it does not know are zero, and copies back min(caller's, ours).
 */
static long respool_ioctl(struct file *file, unsigned int ucmd,
			  unsigned long arg)
{
	struct respool_client *c = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct respool_ioctl_desc *desc;
	union {
		struct respool_alloc_args alloc;
		struct respool_free free;
		struct respool_info info;
		struct respool_alloc_batch alloc_batch;
		struct respool_free_batch free_batch;
		struct respool_export_args export;
	} kdata;
	unsigned int nr = _IOC_NR(ucmd);
	size_t usize = _IOC_SIZE(ucmd);
	size_t ksize;
	long ret;

	if (_IOC_TYPE(ucmd) != RESPOOL_IOC_MAGIC ||
	    nr >= ARRAY_SIZE(respool_ioctls))
		return -ENOTTY;
	desc = &respool_ioctls[array_index_nospec(nr,
						  ARRAY_SIZE(respool_ioctls))];
	ksize = _IOC_SIZE(desc->cmd);
	/* Older structs than the first version do not exist. */
	if (_IOC_DIR(ucmd) != _IOC_DIR(desc->cmd) || usize < desc->size_ver0)
		return -ENOTTY;
	if (desc->cmd == RESPOOL_IOC_STATS)
		return respool_ioc_stats(c, uarg, usize);

	/* kdata holds each struct but STATS's, so ksize bytes fit in it. */
	memset(&kdata, 0, sizeof(kdata));
	ret = copy_struct_from_user(&kdata, ksize, uarg, usize);
	if (ret)
		return ret == -E2BIG ? -EINVAL : ret;
	ret = desc->fn(c, &kdata);
	if (ret)
		return ret;
	if ((_IOC_DIR(desc->cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &kdata, min(usize, ksize)))
		ret = -EFAULT;
	/* ALLOC holds its block until here; taken back if not copied out. */
	if (desc->cmd == RESPOOL_IOC_ALLOC)
		respool_alloc_finish(c, &kdata.alloc, ret);
	/* EXPORT's fd appears only now; undone if not copied out. */
	else if (desc->cmd == RESPOOL_IOC_EXPORT)
		respool_export_finish(c, &kdata.export, ret);
	return ret;
}

static __poll_t respool_poll(struct file *file, poll_table *wait)
{
	struct respool_client *c = file->private_data;
	u64 size = READ_ONCE(c->blocked_size) ?: PAGE_SIZE;

	poll_wait(file, &c->pool->poll_wq, wait);
	return respool_pool_would_wait(c->pool, size) ? 0 :
	       EPOLLOUT | EPOLLWRNORM;
}

/*
 * The struct respool_user of @uid, created on its first file; one more
 * file counted. Called under pool->clients_lock.
 */
static struct respool_user *respool_user_get_locked(struct respool_pool *pool,
						    u32 uid)
{
	struct respool_user *u;
	int ret;

	lockdep_assert_held(&pool->clients_lock);
	u = xa_load(&pool->users, uid);
	if (u) {
		u->nr_files++;
		return u;
	}
	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return ERR_PTR(-ENOMEM);
	u->uid = uid;
	u->nr_files = 1;
	atomic64_set(&u->charged_bytes, 0);
	ret = xa_insert(&pool->users, uid, u, GFP_KERNEL);
	if (ret) {
		kfree(u);
		return ERR_PTR(ret);
	}
	return u;
}

/* One file fewer; the last one frees it. Under pool->clients_lock. */
static void respool_user_put_locked(struct respool_pool *pool,
				    struct respool_user *u)
{
	lockdep_assert_held(&pool->clients_lock);
	if (--u->nr_files)
		return;
	/* Every block of every file of the uid was uncharged before. */
	WARN_ON_ONCE(atomic64_read(&u->charged_bytes));
	xa_erase(&pool->users, u->uid);
	kfree(u);
}

/**
 * respool_user_hold() - keep a uid's accounting past its files
 * @pool:	the pool
 * @u:		a user, held by the caller's file
 *
 * A dma-buf holds its exporter's uid: the uid stays charged for the
 * block after the exporting file closed, and a later file of the uid
 * finds the same struct, charge included.
 *
 * Context: process context, may sleep.
 */
void respool_user_hold(struct respool_pool *pool, struct respool_user *u)
{
	mutex_lock(&pool->clients_lock);
	u->nr_files++;
	mutex_unlock(&pool->clients_lock);
}

/**
 * respool_user_drop() - undo respool_user_hold()
 * @pool:	the pool
 * @u:		the user; freed if nothing else holds it
 *
 * Context: process context, may sleep.
 */
void respool_user_drop(struct respool_pool *pool, struct respool_user *u)
{
	mutex_lock(&pool->clients_lock);
	respool_user_put_locked(pool, u);
	mutex_unlock(&pool->clients_lock);
}

/* Client ids: unique across pools, never reused; 0 is nobody's. */
static atomic64_t respool_last_client_id = ATOMIC64_INIT(0);

/* Make @file a client of @pool; fails once pool-del took the pool. */
static int respool_open_pool(struct respool_pool *pool, struct inode *inode,
			     struct file *file)
{
	struct respool_user *u;
	struct respool_client *c;
	int ret;

	c = kmem_cache_zalloc(pool->client_cache, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->pool = pool;
	xa_init_flags(&c->handles, XA_FLAGS_ALLOC1);
	/*
	 * An xarray keeps a lone entry at index 0 in its head, but any other
	 * index needs a node, which goes (through RCU) when its last entry
	 * does. A reserved entry at the end of the first node keeps that
	 * node, so the ALLOC/FREE of a client's first handles never allocate
	 * or free one: measured 2.5x faster on a per-CPU hit pair.
	 */
	ret = xa_reserve(&c->handles, RESPOOL_HANDLE_PIN, GFP_KERNEL);
	if (ret) {
		kmem_cache_free(pool->client_cache, c);
		return ret;
	}
	c->pid = task_tgid_nr(current);
	get_task_comm(c->comm, current);
	mutex_init(&c->map_lock);
	/*
	 * A mapping of the file's own: a handle's offsets then name this
	 * file's mappings only, which a take-back unmaps (keep.c). Like the
	 * inode's in all else.
	 */
	address_space_init_once(&c->mapping);
	c->mapping.host = inode;
	c->mapping.a_ops = file->f_mapping->a_ops;
	mapping_set_gfp_mask(&c->mapping, mapping_gfp_mask(file->f_mapping));

	/* Where a pool-del can run between finding the pool and this. */
	respool_inject(RESPOOL_INJ_POOL_OPEN);
	mutex_lock(&pool->clients_lock);
	if (pool->dead) {
		mutex_unlock(&pool->clients_lock);
		ret = -ENODEV;
		goto err_destroy_handles;
	}
	/* The opener's uid, as it was at open(), for the file's lifetime. */
	u = respool_user_get_locked(pool, from_kuid(&init_user_ns,
						    file->f_cred->fsuid));
	if (IS_ERR(u)) {
		mutex_unlock(&pool->clients_lock);
		ret = PTR_ERR(u);
		goto err_destroy_handles;
	}
	c->user = u;
	c->id = atomic64_inc_return(&respool_last_client_id);
	list_add_tail(&c->node, &pool->clients);
	WRITE_ONCE(pool->nr_clients, pool->nr_clients + 1);
	mutex_unlock(&pool->clients_lock);

	c->file = file;
	file->f_mapping = &c->mapping;
	file->private_data = c;
	return nonseekable_open(inode, file);

err_destroy_handles:
	xa_destroy(&c->handles);
	kmem_cache_free(pool->client_cache, c);
	return ret;
}

/* The default pool's /dev/respool, whose open misc_open() calls. */
static struct respool_pool *respool_misc_pool;

/* Minors of the named pools' nodes: minor = pool id. */
static dev_t respool_devt;

/**
 * struct respool_pool_dev - a named pool's device node
 * @dev:	the device, of class "respool", named respool-NAME
 * @cdev:	its character device, which holds @dev while open
 * @pool:	the pool, with a reference dropped at @dev's release
 * @uid:	owner of the node
 * @gid:	group of the node
 * @mode:	permission bits of the node
 */
struct respool_pool_dev {
	struct device dev;
	struct cdev cdev;
	struct respool_pool *pool;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
};

/*
 * /dev/respool is a misc device (misc_open() calls this), the others are
 * ours. For those, chrdev_open() holds the cdev, and through it the
 * device and the pool, across this call; pool-del may have run, which
 * respool_open_pool() notices.
 */
static int respool_open(struct inode *inode, struct file *file)
{
	struct respool_pool_dev *pd;

	if (imajor(inode) != MAJOR(respool_devt))
		return respool_open_pool(respool_misc_pool, inode, file);
	pd = container_of(inode->i_cdev, struct respool_pool_dev, cdev);
	return respool_open_pool(pd->pool, inode, file);
}

static int respool_flush(struct file *file, fl_owner_t id)
{
	struct respool_client *c = file->private_data;

	respool_wait_abort_client(c->pool, c, file);
	return 0;
}

/* Runs once no fd, ioctl or mapping refers to the file any more. */
static int respool_release(struct inode *inode, struct file *file)
{
	struct respool_client *c = file->private_data;
	struct respool_pool *pool = c->pool;
	struct respool_block *b;
	unsigned long handle;

	/* First out of the list: no take-back (keep.c) can reach us now. */
	mutex_lock(&pool->clients_lock);
	list_del(&c->node);
	WRITE_ONCE(pool->nr_clients, pool->nr_clients - 1);
	mutex_unlock(&pool->clients_lock);

	xa_for_each(&c->handles, handle, b)
		respool_block_put(respool_client_take(c, handle));
	xa_destroy(&c->handles);
	/* No mapping holds the file any more: each was the last reference. */
	WARN_ON_ONCE(c->charged_bytes || c->held_bytes || c->mapped_bytes);
	respool_keep_release(c);
	mutex_destroy(&c->map_lock);

	mutex_lock(&pool->clients_lock);
	respool_user_put_locked(pool, c->user);
	mutex_unlock(&pool->clients_lock);
	kmem_cache_free(pool->client_cache, c);
	return 0;
}

static const struct file_operations respool_fops = {
	.owner		= THIS_MODULE,
	.open		= respool_open,
	.flush		= respool_flush,
	.release	= respool_release,
	.unlocked_ioctl	= respool_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= respool_mmap,
	.poll		= respool_poll,
};

static struct miscdevice respool_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= RESPOOL_DEVICE_NAME,
	.fops	= &respool_fops,
};

/* Class "respool": /sys/class/respool/respool-NAME. */
static struct class respool_class = {
	.name	= "respool",
};

/* devtmpfs creates the node with what pool-new asked for. */
static char *respool_dev_devnode(RESPOOL_DEVNODE_CONST struct device *dev,
				 umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	const struct respool_pool_dev *pd =
		container_of(dev, struct respool_pool_dev, dev);

	if (mode)
		*mode = pd->mode;
	if (uid)
		*uid = pd->uid;
	if (gid)
		*gid = pd->gid;
	return NULL;
}

static void respool_dev_release(struct device *dev)
{
	struct respool_pool_dev *pd = container_of(dev, struct respool_pool_dev,
						   dev);

	respool_pools_put(pd->pool);
	kfree(pd);
}

static const struct device_type respool_dev_type = {
	.name		= "respool",
	.devnode	= respool_dev_devnode,
	.release	= respool_dev_release,
};

/**
 * respool_cdev_add() - create /dev/respool-NAME for a named pool
 * @pool:	the pool, with its id and name
 * @uid:	owner of the node
 * @gid:	group of the node
 * @mode:	permission bits of the node
 *
 * The device holds a reference to the pool until its release, which
 * comes after respool_cdev_del() and the last open file.
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int respool_cdev_add(struct respool_pool *pool, kuid_t uid, kgid_t gid,
		     umode_t mode)
{
	char name[RESPOOL_DEV_NAME_LEN];
	struct respool_pool_dev *pd;
	int ret;

	pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	if (!pd)
		return -ENOMEM;
	kref_get(&pool->ref);
	pd->pool = pool;
	WRITE_ONCE(pool->takeback, respool_keep_takeback_pool);
	pd->uid = uid;
	pd->gid = gid;
	pd->mode = mode;
	device_initialize(&pd->dev);
	pd->dev.class = &respool_class;
	pd->dev.type = &respool_dev_type;
	pd->dev.devt = MKDEV(MAJOR(respool_devt), pool->id);
	cdev_init(&pd->cdev, &respool_fops);
	pd->cdev.owner = THIS_MODULE;
	ret = dev_set_name(&pd->dev, "%s", respool_cdev_name(pool, name));
	if (ret)
		goto err_put;
	ret = cdev_device_add(&pd->cdev, &pd->dev);
	if (ret)
		goto err_put;
	pool->dev = pd;
	return 0;

err_put:
	/* The release drops the pool's reference and frees @pd. */
	put_device(&pd->dev);
	return ret;
}

/**
 * respool_cdev_del() - remove a named pool's node
 * @pool:	the pool, taken out of the registry and dead: no new client
 *
 * Context: process context, may sleep.
 */
void respool_cdev_del(struct respool_pool *pool)
{
	struct respool_pool_dev *pd = pool->dev;

	cdev_device_del(&pd->cdev, &pd->dev);
	pool->dev = NULL;
	put_device(&pd->dev);
}

/**
 * respool_cdev_init() - create /dev/respool and the class of the others
 * @pool:	the default pool
 * @mode:	permission bits of /dev/respool
 *
 * Return: 0 or a negative errno.
 */
int respool_cdev_init(struct respool_pool *pool, umode_t mode)
{
	int ret;

	ret = alloc_chrdev_region(&respool_devt, 0, RESPOOL_POOLS_MAX + 1,
				  RESPOOL_DEVICE_NAME);
	if (ret)
		return ret;
	ret = class_register(&respool_class);
	if (ret)
		goto err_region;
	respool_misc_pool = pool;
	WRITE_ONCE(pool->takeback, respool_keep_takeback_pool);
	respool_misc.mode = mode;
	ret = misc_register(&respool_misc);
	if (ret)
		goto err_class;
	return 0;

err_class:
	class_unregister(&respool_class);
err_region:
	unregister_chrdev_region(respool_devt, RESPOOL_POOLS_MAX + 1);
	return ret;
}

/* After every named pool's node is gone. */
void respool_cdev_exit(void)
{
	misc_deregister(&respool_misc);
	class_unregister(&respool_class);
	unregister_chrdev_region(respool_devt, RESPOOL_POOLS_MAX + 1);
}
