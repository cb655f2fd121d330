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
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "librespool.h"

#define RP_TABLE_MIN	64

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

/* FREE a handle; returns 0 or -errno. */
static int rp_ioc_free(int fd, uint64_t handle)
{
	struct respool_free f = { .handle = handle };

	return ioctl(fd, RESPOOL_IOC_FREE, &f) ? -errno : 0;
}

void *respool_alloc(struct respool *pool, size_t size, unsigned int flags,
		    unsigned int timeout_ms)
{
	struct respool_alloc a = {
		.size = size,
		.flags = flags & ~RESPOOL_ALLOC_TIMEOUT,
		.timeout_ms = timeout_ms,
	};
	struct rp_entry e;
	void *p;
	int err;

	if (!pool) {
		errno = EINVAL;
		return NULL;
	}
	/* The kernel wants the flag if and only if there is a timeout. */
	if (timeout_ms)
		a.flags |= RESPOOL_ALLOC_TIMEOUT;
	if (ioctl(pool->fd, RESPOOL_IOC_ALLOC, &a))
		return NULL;
	if (a.block_size > SIZE_MAX) {
		err = ENOMEM;
		goto err_free_handle;
	}
	p = mmap(NULL, (size_t)a.block_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED, pool->fd, (off_t)a.offset);
	if (p == MAP_FAILED) {
		err = errno;
		goto err_free_handle;
	}

	e.addr = (uintptr_t)p;
	e.handle = a.handle;
	e.size = (size_t)a.block_size;
	pthread_mutex_lock(&pool->lock);
	if (2 * (pool->count + 1) > pool->mask + 1 && rp_table_grow(pool)) {
		pthread_mutex_unlock(&pool->lock);
		err = ENOMEM;
		goto err_unmap;
	}
	rp_table_put(pool, &e);
	pthread_mutex_unlock(&pool->lock);
	return p;

err_unmap:
	munmap(p, (size_t)a.block_size);
err_free_handle:
	rp_ioc_free(pool->fd, a.handle);
	errno = err;
	return NULL;
}

int respool_free(struct respool *pool, void *ptr)
{
	struct rp_entry e;
	ssize_t i;

	if (!pool)
		return -EINVAL;
	if (!ptr)
		return 0;

	pthread_mutex_lock(&pool->lock);
	i = rp_table_find(pool, (uintptr_t)ptr);
	if (i < 0) {
		pthread_mutex_unlock(&pool->lock);
		return -ENOENT;
	}
	e = pool->table[i];
	rp_table_del(pool, (size_t)i);
	pthread_mutex_unlock(&pool->lock);

	/*
	 * Unmap first: a block freed while mapped stays in use until its
	 * last mapping goes, so the other order would delay its return.
	 */
	munmap(ptr, e.size);
	return rp_ioc_free(pool->fd, e.handle);
}

size_t respool_usable_size(struct respool *pool, void *ptr)
{
	size_t size = 0;
	ssize_t i;

	if (!pool || !ptr)
		return 0;
	pthread_mutex_lock(&pool->lock);
	i = rp_table_find(pool, (uintptr_t)ptr);
	if (i >= 0)
		size = pool->table[i].size;
	pthread_mutex_unlock(&pool->lock);
	return size;
}

int respool_stats(struct respool *pool, struct respool_stats *stats)
{
	if (!pool || !stats)
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	stats->size = sizeof(*stats);
	return ioctl(pool->fd, RESPOOL_IOC_STATS, stats) ? -errno : 0;
}

int respool_fd(const struct respool *pool)
{
	return pool ? pool->fd : -1;
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
