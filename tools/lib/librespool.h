/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * librespool - a small client library for /dev/respool.
 *
 * DOC: librespool
 *
 * librespool wraps the respool ioctls and mmap() so that a client deals in
 * pointers rather than handles and offsets:
 *
 *	struct respool *pool = respool_open();
 *	void *buf = respool_alloc(pool, 100000, 0, 0);	// mapped, writable
 *	...
 *	respool_free(pool, buf);
 *	respool_close(pool);
 *
 * A &struct respool is one open file of /dev/respool, that is, one client of
 * the pool: its blocks are private to it, and respool_close() gives every
 * block it still holds back to the pool.
 *
 * Limits and invariants:
 *
 * - No global state. Every function takes the pool it works on; two pools
 *   in one process are two independent clients.
 * - Thread safe: any number of threads may call respool_alloc(),
 *   respool_free(), respool_usable_size() and respool_stats() on one pool
 *   at once. A mutex guards the pool's pointer-to-handle table only; it is
 *   never held across an ioctl or mmap(), so a thread that waits for
 *   capacity in respool_alloc() does not hold up the others.
 *   respool_close() must not run concurrently with any other call on the
 *   same pool.
 * - Errors are errno-style: functions returning an int return 0 or a
 *   negative errno; functions returning a pointer return NULL and set
 *   errno. The errno values are those of the ioctls (see
 *   <linux/respool.h> and Documentation/userspace-api.rst) plus the few
 *   that this header names.
 * - Every block is mapped whole (MAP_SHARED, PROT_READ | PROT_WRITE) at
 *   the address respool_alloc() returns; the mapping may be larger than
 *   asked for (a reused block), see respool_usable_size().
 * - Across fork() the child inherits the open file and the mappings; they
 *   stay the parent's client. A child should open its own pool and not
 *   call librespool on the parent's (the file is opened O_CLOEXEC).
 */
#ifndef _LIBRESPOOL_H
#define _LIBRESPOOL_H

#include <stddef.h>
#include <linux/respool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default device path of respool_open(). */
#define RESPOOL_DEFAULT_PATH	"/dev/" RESPOOL_DEVICE_NAME

struct respool;

/**
 * respool_open() - open /dev/respool as a new client
 *
 * Return: the pool, or NULL with errno set (ENOENT: the module is not
 * loaded; EACCES: the device's mode, see the dev_mode module parameter;
 * ENOMEM).
 */
struct respool *respool_open(void);

/**
 * respool_open_path() - open a respool device at @path as a new client
 * @path:	the device node; NULL means RESPOOL_DEFAULT_PATH
 *
 * Return: as respool_open().
 */
struct respool *respool_open_path(const char *path);

/**
 * respool_alloc() - allocate a block and map it
 * @pool:	the pool
 * @size:	bytes wanted, > 0; the block holds at least this many
 * @flags:	RESPOOL_ALLOC_NONBLOCK, or 0 to wait for capacity.
 *		RESPOOL_ALLOC_TIMEOUT need not be given: it is set when
 *		@timeout_ms is not 0, and cleared when it is 0.
 * @timeout_ms:	bound of the wait in milliseconds, 0 = wait without bound
 *
 * May sleep until the pool has room, in FIFO order with the pool's other
 * waiters, unless RESPOOL_ALLOC_NONBLOCK is given. The memory is zeroed
 * unless this same pool (open file) wrote it last.
 *
 * Return: the address of the mapped block, page aligned, readable and
 * writable; or NULL with errno set: EINVAL (@size is 0, bad @flags, NULL
 * @pool), E2BIG (larger than the pool can ever serve), EAGAIN (would wait
 * and RESPOOL_ALLOC_NONBLOCK was given), ETIMEDOUT (@timeout_ms passed),
 * EINTR (a signal), EDQUOT (client quota), ENOMEM, or an error of mmap().
 */
void *respool_alloc(struct respool *pool, size_t size, unsigned int flags,
		    unsigned int timeout_ms);

/**
 * respool_free() - unmap a block and give it back to the pool
 * @pool:	the pool that allocated @ptr
 * @ptr:	an address that respool_alloc() on @pool returned, or NULL
 *
 * Does not sleep for capacity. A NULL @ptr does nothing, as with free(3).
 *
 * Return: 0, or a negative errno: -ENOENT when @ptr is not a live block
 * of @pool (never allocated there, or already freed), -EINVAL for a NULL
 * @pool, or the error of the FREE ioctl (the mapping is gone even then).
 */
int respool_free(struct respool *pool, void *ptr);

/**
 * respool_usable_size() - bytes usable at a block's address
 * @pool:	the pool
 * @ptr:	an address that respool_alloc() on @pool returned
 *
 * Return: the block's size (a multiple of the page size, at least the size
 * asked for), or 0 when @ptr is not a live block of @pool.
 */
size_t respool_usable_size(struct respool *pool, void *ptr);

/**
 * respool_stats() - read the pool's counters and gauges
 * @pool:	the pool
 * @stats:	filled with RESPOOL_IOC_STATS; @stats->size is set here
 *
 * The stats are those of the whole pool (all clients), not of @pool alone;
 * @pool counts in @stats->clients.
 *
 * Return: 0 or a negative errno.
 */
int respool_stats(struct respool *pool, struct respool_stats *stats);

/**
 * respool_fd() - the pool's file descriptor
 * @pool:	the pool
 *
 * For poll() (EPOLLOUT when an ALLOC of the last blocked size would not
 * wait) and for the ioctls this library does not wrap. Do not close it,
 * and do not FREE through it the handles of blocks that librespool mapped.
 *
 * Return: the descriptor, or -1 for a NULL @pool.
 */
int respool_fd(const struct respool *pool);

/**
 * respool_close() - unmap every block of the pool and close it
 * @pool:	the pool, or NULL (nothing happens)
 *
 * Every block still held goes back to the pool: closing the file frees
 * them all in the kernel. Must not run concurrently with other calls on
 * @pool; pointers into its blocks are invalid afterwards.
 */
void respool_close(struct respool *pool);

#ifdef __cplusplus
}
#endif

#endif /* _LIBRESPOOL_H */
