// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * librespool - a small client library for /dev/respool; see librespool.h.
 *
 * A pool is one open file plus a table from mapped address to block
 * (handle, size). The table is an open-addressing hash with linear probing
 * and backward-shift deletion (no tombstones), grown at half load, so that
 * respool_free() by pointer costs O(1) however many blocks are live. Its
 * mutex is held only around table lookups and updates, never across an
 * ioctl or mmap(): a thread waiting in ALLOC must not block a thread that
 * frees the very block it waits for.
 *
 * Every failure leaves through rp_fail() (int results) or sets errno
 * itself (pointer and size results), so the rule at the top of
 * librespool.h holds in one place each.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "librespool.h"

#ifndef LIBRESPOOL_VERSION
#error "LIBRESPOOL_VERSION is not defined: tools/lib/Makefile passes it from ../../VERSION"
#endif

#define RP_TABLE_MIN	64
/* Blocks a respool_free_batch() round takes out of the table at once. */
#define RP_FREE_CHUNK	64

/**
 * struct rp_entry - one live, mapped block
 * @addr:	where it is mapped; 0 marks an empty slot
 * @handle:	its handle in the open file
 * @size:	bytes mapped (the block size)
 */
struct rp_entry {
	uintptr_t addr;
	uint64_t handle;
	size_t size;
};

/**
 * struct respool - one client of the pool
 * @fd:		the open file of /dev/respool
 * @lock:	guards @table, @mask and @count
 * @table:	@mask + 1 slots, a power of two
 * @mask:	slots - 1
 * @count:	live entries, at most half the slots
 */
struct respool {
	int fd;
	pthread_mutex_t lock;
	struct rp_entry *table;
	size_t mask;
	size_t count;
};

static size_t rp_slot(const struct respool *pool, uintptr_t addr)
{
	/* Blocks are page aligned: drop the low bits, then mix (Fibonacci). */
	uint64_t h = (uint64_t)(addr >> 12) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & pool->mask;
}

/* Caller holds pool->lock; the table has a free slot. */
static void rp_table_put(struct respool *pool, const struct rp_entry *e)
{
	size_t i = rp_slot(pool, e->addr);

	while (pool->table[i].addr)
		i = (i + 1) & pool->mask;
	pool->table[i] = *e;
	pool->count++;
}

/* Caller holds pool->lock. Returns the slot of @addr or -1. */
static ssize_t rp_table_find(const struct respool *pool, uintptr_t addr)
{
	size_t i = rp_slot(pool, addr);

	for (; pool->table[i].addr; i = (i + 1) & pool->mask)
		if (pool->table[i].addr == addr)
			return (ssize_t)i;
	return -1;
}

/* Caller holds pool->lock. Empties slot @i, keeping every probe chain whole. */
static void rp_table_del(struct respool *pool, size_t i)
{
	size_t j = i, home;

	for (;;) {
		j = (j + 1) & pool->mask;
		if (!pool->table[j].addr)
			break;
		home = rp_slot(pool, pool->table[j].addr);
		/* Move j back into the hole at i unless its home lies in (i, j]. */
		if (((j - home) & pool->mask) >= ((j - i) & pool->mask)) {
			pool->table[i] = pool->table[j];
			i = j;
		}
	}
	pool->table[i].addr = 0;
	pool->count--;
}

/* Caller holds pool->lock. Returns 0 or -ENOMEM (the table is unchanged). */
static int rp_table_grow(struct respool *pool)
{
	struct rp_entry *old = pool->table;
	size_t old_slots = pool->mask + 1, i;
	size_t slots = old_slots * 2;

	pool->table = calloc(slots, sizeof(*pool->table));
	if (!pool->table) {
		pool->table = old;
		return -ENOMEM;
	}
	pool->mask = slots - 1;
	pool->count = 0;
	for (i = 0; i < old_slots; i++)
		if (old[i].addr)
			rp_table_put(pool, &old[i]);
	free(old);
	return 0;
}

/* Sets errno to @err and returns -@err: the int result of a failure. */
static int rp_fail(int err)
{
	errno = err;
	return -err;
}

const char *respool_version(void)
{
	return LIBRESPOOL_VERSION;
}

int respool_module_version(char *buf, size_t size)
{
	char v[RESPOOL_VERSION_LEN];
	ssize_t n;
	int fd, err;

	if (!buf || !size)
		return rp_fail(EINVAL);
	fd = open(RESPOOL_MODULE_VERSION_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		/* Loaded, but built without MODULE_VERSION. */
		if (err == ENOENT &&
		    !access("/sys/module/" RESPOOL_DEVICE_NAME, F_OK))
			err = ENODATA;
		return rp_fail(err);
	}
	do {
		n = read(fd, v, sizeof(v) - 1);
	} while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0)
		return rp_fail(err);
	v[n] = '\0';
	v[strcspn(v, "\n")] = '\0';
	n = (ssize_t)strlen(v);
	if (!n)
		return rp_fail(ENODATA);
	if ((size_t)n >= size)
		return rp_fail(ERANGE);
	memcpy(buf, v, (size_t)n + 1);
	return (int)n;
}

struct respool *respool_open_path(const char *path)
{
	struct respool *pool;
	int err;

	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->table = calloc(RP_TABLE_MIN, sizeof(*pool->table));
	if (!pool->table) {
		err = ENOMEM;
		goto err_free_pool;
	}
	pool->mask = RP_TABLE_MIN - 1;
	err = pthread_mutex_init(&pool->lock, NULL);
	if (err)
		goto err_free_table;
	pool->fd = open(path ? path : RESPOOL_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	if (pool->fd < 0) {
		err = errno;
		goto err_destroy_lock;
	}
	return pool;

err_destroy_lock:
	pthread_mutex_destroy(&pool->lock);
err_free_table:
	free(pool->table);
err_free_pool:
	free(pool);
	errno = err;
	return NULL;
}

struct respool *respool_open(void)
{
	return respool_open_path(NULL);
}

struct respool *respool_open_pool(const char *name)
{
	char path[sizeof(RESPOOL_DEFAULT_PATH "-") + 31];
	size_t len;

	if (!name || !strcmp(name, "default"))
		return respool_open_path(NULL);
	/* The kernel's rule for names: nothing a path would read otherwise. */
	len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");
	if (!len || len > 31 || name[len]) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(path, sizeof(path), "%s-%s", RESPOOL_DEFAULT_PATH, name);
	return respool_open_path(path);
}

/* FREE a handle; returns 0 or -errno. */
static int rp_ioc_free(int fd, uint64_t handle)
{
	struct respool_free f = { .handle = handle };

	return ioctl(fd, RESPOOL_IOC_FREE, &f) ? -errno : 0;
}

/*
 * FREE @n handles whose mappings are gone, all of them: the kernel stops at
 * a handle it does not know (freed through respool_fd()), which is skipped.
 * A module without FREE_BATCH gets them one by one.
 */
static void rp_ioc_free_handles(int fd, uint64_t *handles, unsigned int n)
{
	struct respool_free_batch b;

	while (n) {
		b = (struct respool_free_batch){
			.handles = (uintptr_t)handles,
			.count = n,
		};
		if (ioctl(fd, RESPOOL_IOC_FREE_BATCH, &b)) {
			if (errno != ENOENT) {
				while (n--)
					rp_ioc_free(fd, *handles++);
				return;
			}
			b.done = 0;
		}
		if (b.done < n)
			b.done++;	/* skip the one it stopped at */
		handles += b.done;
		n -= b.done;
	}
}

/* ALLOC's flags: the kernel wants TIMEOUT if and only if there is one. */
static unsigned int rp_alloc_flags(unsigned int flags, unsigned int timeout_ms)
{
	flags &= ~RESPOOL_ALLOC_TIMEOUT;
	return timeout_ms ? flags | RESPOOL_ALLOC_TIMEOUT : flags;
}

/*
 * Map the block that ALLOC answered in @a and enter it in the table.
 * Returns its address, or NULL with errno set and nothing mapped; the
 * handle is the caller's to free either way.
 */
static void *rp_map_block(struct respool *pool, const struct respool_alloc *a)
{
	struct rp_entry e;
	void *p;

	if (a->block_size > SIZE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	p = mmap(NULL, (size_t)a->block_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED, pool->fd, (off_t)a->offset);
	if (p == MAP_FAILED)
		return NULL;

	e.addr = (uintptr_t)p;
	e.handle = a->handle;
	e.size = (size_t)a->block_size;
	pthread_mutex_lock(&pool->lock);
	if (2 * (pool->count + 1) > pool->mask + 1 && rp_table_grow(pool)) {
		pthread_mutex_unlock(&pool->lock);
		munmap(p, e.size);
		errno = ENOMEM;
		return NULL;
	}
	rp_table_put(pool, &e);
	pthread_mutex_unlock(&pool->lock);
	return p;
}

void *respool_alloc(struct respool *pool, size_t size, unsigned int flags,
		    unsigned int timeout_ms)
{
	struct respool_alloc a = {
		.size = size,
		.flags = rp_alloc_flags(flags, timeout_ms),
		.timeout_ms = timeout_ms,
	};
	void *p;
	int err;

	if (!pool || !size || (flags & ~RESPOOL_ALLOC_VALID_FLAGS)) {
		errno = EINVAL;
		return NULL;
	}
	if (ioctl(pool->fd, RESPOOL_IOC_ALLOC, &a))
		return NULL;
	p = rp_map_block(pool, &a);
	if (!p) {
		err = errno;
		rp_ioc_free(pool->fd, a.handle);
		errno = err;
	}
	return p;
}

/*
 * One RESPOOL_IOC_ALLOC_BATCH of @n <= RESPOOL_BATCH_MAX entries, using @a
 * as its array. Returns the entries served and mapped, from the first, or
 * -errno when none was; nothing of the others is held.
 */
static int rp_alloc_chunk(struct respool *pool, struct respool_alloc *a,
			  void **ptrs, const size_t *sizes, unsigned int n,
			  unsigned int flags, unsigned int timeout_ms)
{
	struct respool_alloc_batch b = {
		.allocs = (uintptr_t)a,
		.count = n,
	};
	unsigned int i, j;
	int err = 0;

	memset(a, 0, n * sizeof(*a));
	for (i = 0; i < n; i++) {
		a[i].size = sizes[i];
		a[i].flags = rp_alloc_flags(flags, timeout_ms);
		a[i].timeout_ms = timeout_ms;
	}
	if (ioctl(pool->fd, RESPOOL_IOC_ALLOC_BATCH, &b))
		return -errno;
	for (i = 0; i < b.done; i++) {
		ptrs[i] = rp_map_block(pool, &a[i]);
		if (!ptrs[i]) {
			err = errno;
			break;
		}
	}
	/* Served but not mapped: give them back, so that nothing leaks. */
	for (j = i; j < b.done; j++)
		rp_ioc_free(pool->fd, a[j].handle);
	/* A successful BATCH served at least one entry. */
	return i ? (int)i : -(err ? err : EIO);
}

int respool_alloc_batch(struct respool *pool, void **ptrs,
			const size_t *sizes, unsigned int count,
			unsigned int flags, unsigned int timeout_ms)
{
	struct respool_alloc *a;
	unsigned int done = 0, i, n;
	int ret = 0;

	if (!ptrs || !count)
		return rp_fail(EINVAL);
	for (i = 0; i < count; i++)
		ptrs[i] = NULL;
	if (!pool || !sizes || (flags & ~RESPOOL_ALLOC_VALID_FLAGS))
		return rp_fail(EINVAL);
	for (i = 0; i < count; i++)
		if (!sizes[i])
			return rp_fail(EINVAL);
	/* A done count must fit the int result. */
	if (count > INT_MAX)
		return rp_fail(EINVAL);

	n = count < RESPOOL_BATCH_MAX ? count : RESPOOL_BATCH_MAX;
	a = calloc(n, sizeof(*a));
	if (!a)
		return rp_fail(ENOMEM);
	while (done < count) {
		n = count - done;
		if (n > RESPOOL_BATCH_MAX)
			n = RESPOOL_BATCH_MAX;
		ret = rp_alloc_chunk(pool, a, ptrs + done, sizes + done, n,
				     flags, timeout_ms);
		if (ret <= 0)
			break;
		done += (unsigned int)ret;
		if ((unsigned int)ret < n)
			break;
	}
	free(a);
	if (!done)
		return rp_fail(-ret);
	return (int)done;
}

int respool_free(struct respool *pool, void *ptr)
{
	struct rp_entry e;
	ssize_t i;
	int ret;

	if (!pool)
		return rp_fail(EINVAL);
	if (!ptr)
		return 0;

	pthread_mutex_lock(&pool->lock);
	i = rp_table_find(pool, (uintptr_t)ptr);
	if (i < 0) {
		pthread_mutex_unlock(&pool->lock);
		return rp_fail(ENOENT);
	}
	e = pool->table[i];
	rp_table_del(pool, (size_t)i);
	pthread_mutex_unlock(&pool->lock);

	/*
	 * Unmap first: a block freed while mapped stays in use until its
	 * last mapping goes, so the other order would delay its return.
	 */
	munmap(ptr, e.size);
	ret = rp_ioc_free(pool->fd, e.handle);
	return ret ? rp_fail(-ret) : 0;
}

int respool_free_batch(struct respool *pool, void *const *ptrs,
		       unsigned int count)
{
	uint64_t handles[RP_FREE_CHUNK];
	struct rp_entry e[RP_FREE_CHUNK];
	unsigned int i = 0, n, k;
	bool unknown = false;
	ssize_t slot;

	if (!pool || !ptrs || !count || count > INT_MAX)
		return rp_fail(EINVAL);
	while (i < count && !unknown) {
		/* Out of the table first, then unmap, then FREE: as respool_free(). */
		n = 0;
		pthread_mutex_lock(&pool->lock);
		for (; i < count && n < RP_FREE_CHUNK; i++) {
			if (!ptrs[i])
				continue;
			slot = rp_table_find(pool, (uintptr_t)ptrs[i]);
			if (slot < 0) {
				unknown = true;
				break;
			}
			e[n++] = pool->table[slot];
			rp_table_del(pool, (size_t)slot);
		}
		pthread_mutex_unlock(&pool->lock);
		for (k = 0; k < n; k++) {
			munmap((void *)e[k].addr, e[k].size);
			handles[k] = e[k].handle;
		}
		if (n)
			rp_ioc_free_handles(pool->fd, handles, n);
	}
	if (unknown && !i)
		return rp_fail(ENOENT);
	return (int)i;
}

int respool_export(struct respool *pool, void *ptr, int fd_flags)
{
	struct respool_export x = { .fd_flags = (uint32_t)fd_flags };
	struct rp_entry e;
	ssize_t i;
	int err;

	if (!pool || (fd_flags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    (fd_flags & O_ACCMODE) == O_WRONLY ||
	    (fd_flags & O_ACCMODE) == O_ACCMODE)
		return rp_fail(EINVAL);
	/*
	 * Out of the table first, as respool_free() does, so that a racing
	 * respool_free() of the same pointer finds nothing; put back if the
	 * kernel refuses (the slot it left is free, so the put cannot fail).
	 */
	pthread_mutex_lock(&pool->lock);
	i = ptr ? rp_table_find(pool, (uintptr_t)ptr) : -1;
	if (i >= 0) {
		e = pool->table[i];
		rp_table_del(pool, (size_t)i);
	}
	pthread_mutex_unlock(&pool->lock);
	if (i < 0)
		return rp_fail(ENOENT);

	x.handle = e.handle;
	if (ioctl(pool->fd, RESPOOL_IOC_EXPORT, &x)) {
		err = errno;
		pthread_mutex_lock(&pool->lock);
		rp_table_put(pool, &e);
		pthread_mutex_unlock(&pool->lock);
		return rp_fail(err);
	}
	/* The block now lives in the dma-buf; this mapping would hold it. */
	munmap(ptr, e.size);
	return x.fd;
}

size_t respool_usable_size(struct respool *pool, void *ptr)
{
	size_t size = 0;
	ssize_t i;

	if (!pool) {
		errno = EINVAL;
		return 0;
	}
	pthread_mutex_lock(&pool->lock);
	i = ptr ? rp_table_find(pool, (uintptr_t)ptr) : -1;
	if (i >= 0)
		size = pool->table[i].size;
	pthread_mutex_unlock(&pool->lock);
	if (!size)
		errno = ENOENT;
	return size;
}

int respool_info(struct respool *pool, const void *ptr,
		 struct respool_info *info)
{
	struct respool_info in = { 0 };
	ssize_t i;

	if (!pool || !info)
		return rp_fail(EINVAL);
	pthread_mutex_lock(&pool->lock);
	i = ptr ? rp_table_find(pool, (uintptr_t)ptr) : -1;
	if (i >= 0)
		in.handle = pool->table[i].handle;
	pthread_mutex_unlock(&pool->lock);
	if (i < 0)
		return rp_fail(ENOENT);
	if (ioctl(pool->fd, RESPOOL_IOC_INFO, &in))
		return rp_fail(errno);
	*info = in;
	return 0;
}

int respool_stats(struct respool *pool, struct respool_stats *stats)
{
	if (!pool || !stats)
		return rp_fail(EINVAL);
	memset(stats, 0, sizeof(*stats));
	stats->size = sizeof(*stats);
	return ioctl(pool->fd, RESPOOL_IOC_STATS, stats) ? rp_fail(errno) : 0;
}

int respool_fd(const struct respool *pool)
{
	return pool ? pool->fd : rp_fail(EINVAL);
}

void respool_close(struct respool *pool)
{
	size_t i;
	int err = errno;

	if (!pool)
		return;
	/* close() below frees every handle at once in the kernel. */
	for (i = 0; i <= pool->mask; i++)
		if (pool->table[i].addr)
			munmap((void *)pool->table[i].addr, pool->table[i].size);
	close(pool->fd);
	pthread_mutex_destroy(&pool->lock);
	free(pool->table);
	free(pool);
	errno = err;
}
