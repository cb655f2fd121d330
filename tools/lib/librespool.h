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
 * Errors, one rule for every function:
 *
 * - A function that returns a pointer returns NULL on failure and sets
 *   errno.
 * - A function that returns an int returns 0, or a count or a file
 *   descriptor where its description says so, on success; on failure it returns a negative
 *   errno value (-EINVAL, ...) and also sets errno to the positive value.
 *   Both ``if (ret < 0) perror(...)`` and ``strerror(-ret)`` work.
 * - respool_usable_size() returns a size: 0 on failure, errno set.
 * - respool_version() and respool_close() cannot fail; respool_close()
 *   leaves errno as it found it.
 * - On success errno is not meaningful (it may have changed).
 * - A call that fails changes nothing: no block is allocated, freed,
 *   mapped or unmapped, except where its description says otherwise.
 *   The batch calls, which work entry by entry, fail only when no entry
 *   was done; otherwise they return how many were, from the first.
 *
 * The errno values are those of the ioctls (see <linux/respool.h> and the
 * respool(4) page) plus the few that this header names. A NULL pool, a NULL
 * output argument, a count of 0 or an unknown flag is EINVAL, checked
 * before anything is done.
 *
 * Waiting, NONBLOCK and timeouts: an allocation that finds no room queues
 * behind the pool's earlier waiters (strict FIFO, of all clients) and
 * sleeps until it is served. @timeout_ms > 0 bounds that sleep (ETIMEDOUT;
 * the kernel counts it in jiffies, so it may run up to a tick longer).
 * RESPOOL_ALLOC_NONBLOCK never sleeps: whenever the request would wait,
 * because the pool has no room or because other requests are queued
 * (nobody overtakes a waiter, not even a request that would fit), it fails
 * at once with EAGAIN. With NONBLOCK a @timeout_ms is accepted and has no
 * effect: NONBLOCK wins. A NONBLOCK failure arms poll() on respool_fd():
 * EPOLLOUT then tells when a request of that size would not wait. Quota
 * (EDQUOT) and size (E2BIG) errors never wait, flags or not. A signal ends
 * a wait with EINTR, or restarts it in full when its handler has
 * SA_RESTART.
 *
 * The fast path: reuse without a system call. Where the module offers it
 * (a control page mapped at open), respool_free() does not always unmap
 * and FREE a block: it may keep it, still mapped, in the calling thread's
 * magazine for that pool, and a later respool_alloc() on the same thread
 * of a size it fits (the block holds PAGE_ALIGN(size) bytes and at most
 * twice that) takes it back with one atomic exchange: no system call, no
 * mmap(), the same address, the bytes as this pool left them. What a
 * caller may assume and may not:
 *
 * - A kept block is freed as far as the caller is concerned: every call
 *   taking its pointer answers ENOENT, as for any freed block. Never touch
 *   memory after freeing it: the kernel may take a kept block back at any
 *   moment (for another client's waiting allocation, a lowered capacity,
 *   memory pressure, idle trim, a drain), and its pages are then unmapped:
 *   a touch is SIGBUS, or, once the library has unmapped the range, a
 *   touch of whatever is mapped there next.
 * - A kept block still counts as this client's: in the pool's in-use and
 *   kept bytes, and against client_quota and user_quota. A magazine holds
 *   at most 32 blocks and 16 MiB (per thread and pool); past that, the
 *   oldest goes back for real. An allocation that fails with EDQUOT gives
 *   back the calling thread's kept blocks of the pool and asks once more.
 * - Nothing is kept while the pool has waiters or wants memory back: the
 *   kernel's waiters never wait on a kept block.
 * - A hit never waits and ignores @flags and @timeout_ms. The kernel saw
 *   no new ALLOC: respool_info() reports the size asked for at the ALLOC
 *   that first handed out the block, and the pool's allocs and frees
 *   counters do not move (the hits are counted in client-get fast-hits).
 * - respool_alloc_batch() and respool_free_batch() always go to the
 *   kernel: a batch never takes a kept block and never keeps one.
 * - A thread's kept blocks go back when it exits, and every thread's when
 *   the pool is closed.
 * - RESPOOL_FASTPATH=0 in the environment at respool_open() switches the
 *   fast path off for that pool: every free unmaps and FREEs. A module
 *   without the fast path gives the same behaviour, silently.
 *
 * Limits and invariants:
 *
 * - No global state. Every function takes the pool it works on; two pools
 *   in one process are two independent clients. Only thread-local state
 *   (the calling thread's magazines) lives outside a pool.
 * - Thread safe: any number of threads may call every function but
 *   respool_close() on one pool at once. A mutex guards the pool's
 *   pointer-to-handle table and its list of magazines; it is never held
 *   across an ioctl or mmap(), so a thread that waits for capacity in
 *   respool_alloc() does not hold up the others. A block may be freed by
 *   another thread than the one that allocated it (it is then kept in the
 *   freeing thread's magazine). respool_close() must not run concurrently
 *   with any other call on the same pool; after it, no thread's magazine
 *   of that pool is ever used again.
 * - Every block is mapped whole (MAP_SHARED, PROT_READ | PROT_WRITE) at
 *   the address respool_alloc() returns; the mapping may be larger than
 *   asked for (a reused block), see respool_usable_size().
 * - Across fork() the child inherits the open file and the mappings; they
 *   stay the parent's client. A child must open its own pool and not call
 *   librespool on the parent's (the file is opened O_CLOEXEC): the kept
 *   blocks and the control page it would see are the parent's.
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

/* Where the loaded module shows its version (MODULE_VERSION). */
#define RESPOOL_MODULE_VERSION_PATH	"/sys/module/" RESPOOL_DEVICE_NAME "/version"

/* A buffer for respool_module_version() that holds any respool version. */
#define RESPOOL_VERSION_LEN	64

struct respool;

/**
 * respool_version() - the version of this library
 *
 * The project's one version (the VERSION file of its source tree), which
 * the module it was released with shows in ``modinfo respool``.
 *
 * Return: a static string such as "0.2.0"; never NULL.
 */
const char *respool_version(void);

/**
 * respool_module_version() - the version of the loaded respool module
 * @buf:	filled with the version, NUL-terminated, without a newline
 * @size:	bytes at @buf; RESPOOL_VERSION_LEN is always enough
 *
 * Reads RESPOOL_MODULE_VERSION_PATH. Needs no open pool and no access to
 * the device.
 *
 * Return: the length of the version (as strlen(@buf)), or a negative errno:
 * -ENOENT (the module is not loaded), -ENODATA (it is loaded but shows no
 * version: built without one), -ERANGE (@size is too small; @buf is left
 * unchanged), -EINVAL (NULL @buf or @size 0), or an error of reading the
 * file.
 */
int respool_module_version(char *buf, size_t size);

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
 * @path:	the device node (another pool's, for example); NULL means
 *		RESPOOL_DEFAULT_PATH
 *
 * Return: as respool_open().
 */
struct respool *respool_open_path(const char *path);

/**
 * respool_open_pool() - open a named pool as a new client
 * @name:	the pool's name (respoolctl pool show); NULL or "default" is
 *		the default pool, /dev/respool; any other opens
 *		/dev/respool-@name
 *
 * Return: as respool_open(); also EINVAL for a name no pool can have
 * (1 to 31 characters of a-z, 0-9, _ and -), and ENOENT for a pool that
 * does not exist.
 */
struct respool *respool_open_pool(const char *name);

/**
 * respool_alloc() - allocate a block and map it
 * @pool:	the pool
 * @size:	bytes wanted, > 0; the block holds at least this many
 * @flags:	RESPOOL_ALLOC_NONBLOCK, or 0 to wait for capacity.
 *		RESPOOL_ALLOC_TIMEOUT need not be given: it is set when
 *		@timeout_ms is not 0, and cleared when it is 0.
 * @timeout_ms:	bound of the wait in milliseconds, 0 = wait without bound;
 *		no effect with RESPOOL_ALLOC_NONBLOCK (see the top of this
 *		header)
 *
 * May sleep until the pool has room, in FIFO order with the pool's other
 * waiters, unless RESPOOL_ALLOC_NONBLOCK is given. The memory is zeroed
 * unless this same pool (open file) wrote it last. On the fast path, a
 * block this thread freed and kept that fits @size is taken back first,
 * with no system call (see the top of this header).
 *
 * Return: the address of the mapped block, page aligned, readable and
 * writable; or NULL with errno set: EINVAL (@size is 0, unknown @flags,
 * NULL @pool), E2BIG (larger than the pool can ever serve), EAGAIN (would
 * wait and RESPOOL_ALLOC_NONBLOCK was given), ETIMEDOUT (@timeout_ms
 * passed), EINTR (a signal), EDQUOT (client or user quota), ENOMEM, or an
 * error of mmap(). Nothing is held after a failure.
 */
void *respool_alloc(struct respool *pool, size_t size, unsigned int flags,
		    unsigned int timeout_ms);

/**
 * respool_alloc_batch() - allocate and map several blocks in few syscalls
 * @pool:	the pool
 * @ptrs:	out: @count addresses; ptrs[i] is the block of @sizes[i],
 *		or NULL when entry i was not served
 * @sizes:	@count sizes, each > 0
 * @count:	entries, > 0; more than RESPOOL_BATCH_MAX take several
 *		RESPOOL_IOC_ALLOC_BATCH calls
 * @flags:	as respool_alloc(), for every entry
 * @timeout_ms:	as respool_alloc(), for each entry's own wait: the call may
 *		take up to @count times as long
 *
 * Serves the entries in order, as respool_alloc() would one by one, and
 * stops at the first that fails (the pool is full and NONBLOCK was given,
 * a quota, a timeout, a signal, mmap() failing, ...). Every block served is
 * mapped and registered as respool_alloc() does it, so respool_free(),
 * respool_free_batch(), respool_usable_size(), respool_info() and
 * respool_close() work on it. Nothing of the entries from the failing one
 * on is held: a block the kernel gave but that could not be mapped is
 * given back. Every @ptrs slot is written, when @ptrs is not NULL and
 * @count is not 0, so respool_free_batch(@pool, @ptrs, @count) frees what
 * a short batch got.
 *
 * Return: the number of entries served, from the first: @count, or fewer
 * when one failed (as a short write(2): call again with the rest to learn
 * the error; errno is not set then). If none was served, a negative errno
 * as respool_alloc() gives it; EINVAL also for a NULL @ptrs or @sizes, a
 * @count of 0, or any size of 0 (nothing is allocated then).
 */
int respool_alloc_batch(struct respool *pool, void **ptrs,
			const size_t *sizes, unsigned int count,
			unsigned int flags, unsigned int timeout_ms);

/**
 * respool_free() - unmap a block and give it back to the pool
 * @pool:	the pool that allocated @ptr
 * @ptr:	an address that respool_alloc() or respool_alloc_batch() on
 *		@pool returned, or NULL
 *
 * Does not sleep for capacity. A NULL @ptr does nothing, as with free(3).
 * On the fast path the block may be kept for reuse, mapped, instead (see
 * the top of this header): to the caller it is freed all the same.
 *
 * Return: 0, or a negative errno: -ENOENT when @ptr is not a live block
 * of @pool (never allocated there, or already freed or kept), -EINVAL
 * for a NULL @pool, or the error of the FREE ioctl (the mapping is gone
 * even then: this happens only if the handle was freed through
 * respool_fd()).
 */
int respool_free(struct respool *pool, void *ptr);

/**
 * respool_free_batch() - unmap several blocks and give them back
 * @pool:	the pool that allocated them
 * @ptrs:	@count addresses as respool_free() takes them; NULL entries
 *		are skipped and count as done
 * @count:	entries, > 0; any number, in RESPOOL_IOC_FREE_BATCH calls
 *
 * In order, as respool_free() one by one, stopping at the first entry
 * that is not a live block of @pool (never allocated there, already freed,
 * or named twice in @ptrs): that entry and those after it are left as
 * they are. Does not sleep for capacity. Never keeps a block for reuse:
 * every one is unmapped and given back to the pool.
 *
 * Return: the number of entries done, from the first: @count, or fewer
 * when entry [return value] is not a live block (errno is not set then).
 * If the first entry is not: -ENOENT. -EINVAL for a NULL @pool or @ptrs
 * or a @count of 0. A handle that the kernel no longer knows (freed
 * through respool_fd()) does not stop the batch: its mapping is gone all
 * the same, and nothing of it is held.
 */
int respool_free_batch(struct respool *pool, void *const *ptrs,
		       unsigned int count);

/**
 * respool_export() - give a block away as a dma-buf file descriptor
 * @pool:	the pool that allocated @ptr
 * @ptr:	an address that respool_alloc() or respool_alloc_batch() on
 *		@pool returned
 * @fd_flags:	the dma-buf file's flags: O_RDWR or O_RDONLY, and
 *		optionally O_CLOEXEC (as the kernel's RESPOOL_IOC_EXPORT
 *		and dma-heap's fd_flags take them)
 *
 * RESPOOL_IOC_EXPORT of the block's handle, then unmaps @ptr: the block
 * leaves @pool (as by respool_free(), @ptr is no longer a block of @pool)
 * and lives on in the returned dma-buf, of the block's size
 * (respool_usable_size() before the call, or lseek(fd, 0, SEEK_END)).
 * Send the descriptor to another process (SCM_RIGHTS over a unix socket,
 * fork, pidfd_getfd) or hand it to a device driver; whoever holds it may
 * mmap() it (MAP_SHARED; PROT_WRITE only with O_RDWR) and use the
 * DMA_BUF_IOCTL_* ioctls. The block goes back to its pool, zeroed before
 * its next hand-out, when the last descriptor, mapping and importer of
 * the dma-buf are gone; until then it counts in the pool's in-use and
 * exported-bytes and against the exporting user's user_quota, but no
 * longer against @pool's client_quota. Does not sleep for capacity.
 *
 * Return: the new file descriptor (>= 0), or a negative errno: -ENOENT
 * when @ptr (NULL included) is not a live block of @pool, -EINVAL for a
 * NULL @pool or @fd_flags other than the above, -EMFILE when the process
 * has no free descriptor, -ENOTTY when the loaded module cannot export,
 * or another error of the EXPORT ioctl. On any failure the block is
 * still @pool's, mapped at @ptr.
 */
int respool_export(struct respool *pool, void *ptr, int fd_flags);

/**
 * respool_usable_size() - bytes usable at a block's address
 * @pool:	the pool
 * @ptr:	an address that respool_alloc() or respool_alloc_batch() on
 *		@pool returned
 *
 * Return: the block's size (a multiple of the page size, at least the size
 * asked for), or 0 with errno set: ENOENT when @ptr (NULL included) is not
 * a live block of @pool, EINVAL for a NULL @pool.
 */
size_t respool_usable_size(struct respool *pool, void *ptr);

/**
 * respool_info() - describe a block, by RESPOOL_IOC_INFO
 * @pool:	the pool
 * @ptr:	an address that respool_alloc() or respool_alloc_batch() on
 *		@pool returned
 * @info:	out: the kernel's answer for the block's handle: @info->handle,
 *		the size asked for, the block size, the mmap() offset, the live
 *		mappings (at least librespool's own) and RESPOOL_INFO_* flags
 *		(RESPOOL_INFO_ZEROED: cleared when handed out)
 *
 * Return: 0, or a negative errno: -ENOENT when @ptr (NULL included) is not
 * a live block of @pool, -EINVAL for a NULL @pool or @info, or the error
 * of the INFO ioctl. @info is written only on success.
 */
int respool_info(struct respool *pool, const void *ptr,
		 struct respool_info *info);

/**
 * respool_stats() - read the pool's counters and gauges
 * @pool:	the pool
 * @stats:	filled with RESPOOL_IOC_STATS; @stats->size is set here
 *
 * The stats are those of the whole pool (all clients), not of @pool alone;
 * @pool counts in @stats->clients. Fields the running module does not
 * know stay 0; @stats->size says how many bytes it filled.
 *
 * Return: 0, or a negative errno: -EINVAL for a NULL @pool or @stats, or
 * the error of the STATS ioctl.
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
 * Return: the descriptor (>= 0), or -EINVAL for a NULL @pool.
 */
int respool_fd(const struct respool *pool);

/**
 * respool_close() - unmap every block of the pool and close it
 * @pool:	the pool, or NULL (nothing happens)
 *
 * Every block still held goes back to the pool, the blocks every thread
 * keeps for reuse included: closing the file frees them all in the
 * kernel. Must not run concurrently with other calls on @pool; pointers
 * into its blocks are invalid afterwards. Leaves errno unchanged.
 */
void respool_close(struct respool *pool);

#ifdef __cplusplus
}
#endif

#endif /* _LIBRESPOOL_H */
