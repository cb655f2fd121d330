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
 *
 * The fast path (see "The fast path" in <linux/respool.h>): a freed block
 * whose slot word the library saw as INUSE|g right after ALLOC is kept,
 * mapped, in the freeing thread's magazine for that pool instead of being
 * unmapped and FREEd; the next respool_alloc() of a fitting size on that
 * thread takes it back with one compare-and-exchange of the slot word, no
 * system call and no mutex. A kept block is in no shared structure of the
 * library: only its magazine entry knows it, and only its thread touches
 * that entry while the pool is open. So:
 *
 * - The table holds live blocks only: respool_free(), respool_info() and
 *   the others answer ENOENT for a kept block as for a freed one.
 * - A block handed out by a hit goes to one of its thread's out slots
 *   (struct rp_out) rather than to the table, so that the common cycle,
 *   hit then free on one thread, takes no mutex and no hash lookup: the
 *   free finds it there and claims it with one exchange of the slot's
 *   @addr. Any other lookup (another thread's free, usable_size, info,
 *   export) misses the table and looks through every magazine's out
 *   slots under the pool's mutex; claiming is the same exchange, so two
 *   threads never both take a block.
 * - A magazine (struct rp_mag) belongs to one thread and one pool. The
 *   thread finds it through its thread-local list (struct rp_thread); the
 *   pool lists it too (@mags), so that respool_close() can release every
 *   thread's kept blocks and mark the magazine dead (@pool = NULL) before
 *   the pool's memory can be reused: a stale magazine never matches a
 *   later pool. The owner's thread-exit destructor gives its blocks back
 *   with FREE. Whichever of the two lets go of the magazine last frees it
 *   (@refs); @lock orders the destructor against respool_close().
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

/*
 * Bounds of one thread's magazine for one pool. Kept blocks still count as
 * the client's (in use, client_quota, user_quota) until the kernel takes
 * them back, so a magazine is kept small: 32 blocks are a working set of
 * rotating buffers (malloc's per-thread caches hold fewer per size), and
 * 16 MiB is a quarter of the default pool's capacity, so that a few idle
 * threads cannot hold most of a pool between take-backs.
 */
#define RP_MAG_BLOCKS	32
#define RP_MAG_BYTES	(16UL << 20)

/*
 * Blocks a thread got by a hit that stay out of the table until freed:
 * enough for a few buffers in flight at once; more go to the table.
 */
#define RP_MAG_OUT	4

/*
 * A kept block serves a request needing @need bytes if it is at least that
 * large and at most twice as large: a hit never wastes more than half of
 * the block (the kernel's default threshold wastes at most a quarter; a
 * kept block is already mapped, so a little more waste buys a hit).
 */
#define RP_HIT_FITS(bsize, need)	((bsize) >= (need) && (bsize) / 2 <= (need))

/**
 * struct rp_entry - one live, mapped block (or, in a magazine, a kept one)
 * @addr:	where it is mapped; 0 marks an empty slot
 * @handle:	its handle in the open file
 * @size:	bytes mapped (the block size)
 * @word:	its slot word as INUSE|gen, read right after ALLOC; 0 when
 *		the block cannot be kept (no fast path, a handle beyond the
 *		slots, or a slot that did not say INUSE)
 */
struct rp_entry {
	uintptr_t addr;
	uint64_t handle;
	size_t size;
	uint32_t word;
};

struct respool;

/**
 * struct rp_out - a live block handed out by a hit, not in the table
 * @addr:	its address, 0 when the slot is empty; atomic: the owner
 *		publishes @e with a release store of @addr, and whoever
 *		takes the block exchanges @addr to 0
 * @e:		the block; written by the owner while @addr is 0 only
 */
struct rp_out {
	uintptr_t addr;
	struct rp_entry e;
};

/**
 * struct rp_mag - one thread's kept blocks of one pool
 * @pool:	the pool, or NULL once it is closed or the thread has gone
 *		(atomic: respool_close() clears it while the owner may be
 *		looking through its list for another pool)
 * @refs:	2 while both the owner thread and the pool list it; the one
 *		that drops the last reference frees the magazine
 * @lock:	orders the owner's thread-exit destructor against
 *		respool_close(); neither the hit nor the keep takes it
 * @pool_next:	in @pool->mags, under @pool->lock
 * @pool_prev:	likewise
 * @linked:	on @pool->mags, under @pool->lock
 * @thread_next: in the owner's struct rp_thread list (owner only)
 * @n:		kept blocks, @e[0] the oldest (owner only, and
 *		respool_close() or the destructor once the owner is done)
 * @bytes:	their bytes
 * @e:		the blocks, each with its KEPT|gen word in @word
 * @out:	live blocks this thread got by a hit (filled by the owner,
 *		taken by anyone: see struct rp_out)
 */
struct rp_mag {
	struct respool *pool;
	int refs;
	pthread_mutex_t lock;
	struct rp_mag *pool_next, *pool_prev;
	bool linked;
	struct rp_mag *thread_next;
	unsigned int n;
	size_t bytes;
	struct rp_entry e[RP_MAG_BLOCKS];
	struct rp_out out[RP_MAG_OUT];
};

/**
 * struct rp_thread - a thread's magazines, one per pool it kept blocks of
 * @mags:	list through rp_mag.thread_next
 * @last:	the magazine used last: the common case, one pool
 */
struct rp_thread {
	struct rp_mag *mags;
	struct rp_mag *last;
};

/**
 * struct respool - one client of the pool
 * @fd:		the open file of /dev/respool
 * @lock:	guards @table, @mask, @count and @mags
 * @table:	@mask + 1 slots, a power of two
 * @mask:	slots - 1
 * @count:	live entries, at most half the slots
 * @ctl:	the file's control page, or NULL: no fast path
 * @shared:	the pool's page (read-only), or NULL with @ctl
 * @nr_slots:	@ctl->nr_slots as read once at open
 * @mags:	every thread's magazine of this pool
 * @page:	the page size
 */
struct respool {
	int fd;
	pthread_mutex_t lock;
	struct rp_entry *table;
	size_t mask;
	size_t count;
	struct respool_ctl *ctl;
	const struct respool_shared *shared;
	uint32_t nr_slots;
	struct rp_mag *mags;
	size_t page;
};

/*
 * Thread-local state, the only state outside a pool: the calling thread's
 * magazines, and the key whose destructor gives them back at thread exit.
 */
static __thread struct rp_thread *rp_self;
static pthread_key_t rp_key;
static pthread_once_t rp_key_once = PTHREAD_ONCE_INIT;
static bool rp_key_ok;

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

/* FREE a handle; returns 0 or -errno. */
static int rp_ioc_free(int fd, uint64_t handle)
{
	struct respool_free f = { .handle = handle };

	return ioctl(fd, RESPOOL_IOC_FREE, &f) ? -errno : 0;
}

/* A hash table insert that may grow it. Caller holds pool->lock. */
static int rp_table_add(struct respool *pool, const struct rp_entry *e)
{
	if (2 * (pool->count + 1) > pool->mask + 1 && rp_table_grow(pool))
		return -ENOMEM;
	rp_table_put(pool, e);
	return 0;
}

/*
 * Slot words. The generation bits of an entry's word name one hand-out;
 * the state bits say whose the block is:
 */
static uint32_t rp_word_state(uint32_t word, uint32_t state)
{
	return (word & ~(RESPOOL_SLOT_STATE_MASK | RESPOOL_SLOT_IDLE)) | state;
}

static uint32_t *rp_slot_word(struct respool *pool, uint64_t handle)
{
	return &pool->ctl->slots[handle];
}

/*
 * Right after ALLOC returned @e's handle: the kernel wrote the slot before
 * the ioctl returned, so a plain (relaxed) load sees it. Only INUSE with a
 * generation makes the block keepable.
 */
static void rp_record_word(struct respool *pool, struct rp_entry *e)
{
	uint32_t w;

	e->word = 0;
	if (!pool->ctl || e->handle >= pool->nr_slots)
		return;
	w = __atomic_load_n(rp_slot_word(pool, e->handle), __ATOMIC_RELAXED);
	if ((w & RESPOOL_SLOT_STATE_MASK) == RESPOOL_SLOT_INUSE &&
	    !(w & RESPOOL_SLOT_IDLE) && (w >> RESPOOL_SLOT_GEN_SHIFT))
		e->word = w;
}

/*
 * KEPT|g (or KEPT|IDLE|g, the idle-trim pass's mark) -> INUSE|g: the block
 * is the client's again. False when the kernel took it (TAKEN|g) or the
 * slot holds anything else: then the block's pages are gone from every
 * mapping, and only the client's VMA is left to unmap. seq_cst pairs with
 * the kernel's own exchange of the same word: exactly one side wins.
 */
static bool rp_unkeep(struct respool *pool, const struct rp_entry *e)
{
	uint32_t *slot = rp_slot_word(pool, e->handle);
	uint32_t kept = rp_word_state(e->word, RESPOOL_SLOT_KEPT);
	uint32_t inuse = rp_word_state(e->word, RESPOOL_SLOT_INUSE);
	uint32_t cur = kept;

	for (;;) {
		if (__atomic_compare_exchange_n(slot, &cur, inuse, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return true;
		/* The kernel marked it idle in between: still ours to take. */
		if (cur != (kept | RESPOOL_SLOT_IDLE))
			return false;
	}
}

/* Give back a kept block for real: unkeep, unmap, FREE (or only unmap). */
static void rp_release_kept(struct respool *pool, const struct rp_entry *e)
{
	bool ours = rp_unkeep(pool, e);

	munmap((void *)e->addr, e->size);
	if (ours)
		rp_ioc_free(pool->fd, e->handle);
}

/*
 * Map the control page and the pool's page, unless RESPOOL_FASTPATH=0.
 * A module without the fast path refuses the mmap (EINVAL): the library
 * then stays on the ioctl path, silently. So does a page it does not
 * understand.
 */
static void rp_fast_open(struct respool *pool)
{
	const char *env = getenv("RESPOOL_FASTPATH");
	struct respool_ctl *ctl;
	void *shared;

	if (env && !strcmp(env, "0"))
		return;
	ctl = mmap(NULL, RESPOOL_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   pool->fd, (off_t)RESPOOL_CTL_OFFSET);
	if (ctl == MAP_FAILED)
		return;
	shared = mmap(NULL, RESPOOL_SHARED_SIZE, PROT_READ, MAP_SHARED,
		      pool->fd, (off_t)RESPOOL_SHARED_OFFSET);
	if (shared == MAP_FAILED)
		goto err_unmap_ctl;
	if (ctl->version != RESPOOL_CTL_VERSION || !ctl->nr_slots ||
	    ctl->nr_slots > RESPOOL_CTL_NR_SLOTS)
		goto err_unmap_shared;
	pool->nr_slots = ctl->nr_slots;
	pool->ctl = ctl;
	pool->shared = shared;
	return;

err_unmap_shared:
	munmap(shared, RESPOOL_SHARED_SIZE);
err_unmap_ctl:
	munmap(ctl, RESPOOL_CTL_SIZE);
}

static void rp_mag_put(struct rp_mag *mag)
{
	if (__atomic_sub_fetch(&mag->refs, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_destroy(&mag->lock);
	free(mag);
}

/* Caller holds @pool->lock. */
static void rp_mag_unlink(struct respool *pool, struct rp_mag *mag)
{
	if (!mag->linked)
		return;
	if (mag->pool_prev)
		mag->pool_prev->pool_next = mag->pool_next;
	else
		pool->mags = mag->pool_next;
	if (mag->pool_next)
		mag->pool_next->pool_prev = mag->pool_prev;
	mag->linked = false;
}

/*
 * The block at @addr if it is in one of @mag's out slots; with @take, out
 * of it (exactly one of racing takers wins the exchange). @e is read
 * between the acquire load that saw @addr and the exchange: the owner
 * writes it only while the slot is empty.
 */
static bool rp_out_get(struct rp_mag *mag, uintptr_t addr,
		       struct rp_entry *e, bool take)
{
	struct rp_out *o;
	struct rp_entry copy;
	uintptr_t want;

	if (!addr)
		return false;
	for (o = mag->out; o < mag->out + RP_MAG_OUT; o++) {
		if (__atomic_load_n(&o->addr, __ATOMIC_ACQUIRE) != addr)
			continue;
		copy = o->e;
		want = addr;
		if (take && !__atomic_compare_exchange_n(&o->addr, &want, 0,
							 false,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED))
			return false;
		*e = copy;
		return true;
	}
	return false;
}

/* The owner: put a hit's block in a free out slot; false if none is. */
static bool rp_out_put(struct rp_mag *mag, const struct rp_entry *e)
{
	struct rp_out *o;

	for (o = mag->out; o < mag->out + RP_MAG_OUT; o++) {
		if (__atomic_load_n(&o->addr, __ATOMIC_RELAXED))
			continue;
		o->e = *e;
		/* Pairs with the acquire in rp_out_get(). */
		__atomic_store_n(&o->addr, e->addr, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

/*
 * The live block at @addr, in the table or in any thread's out slots; with
 * @take, out of there: the caller owns it now. Caller holds pool->lock
 * (which keeps every listed magazine alive).
 */
static bool rp_find_locked(struct respool *pool, uintptr_t addr,
			   struct rp_entry *e, bool take)
{
	ssize_t i = rp_table_find(pool, addr);
	struct rp_mag *mag;

	if (i >= 0) {
		*e = pool->table[i];
		if (take)
			rp_table_del(pool, (size_t)i);
		return true;
	}
	for (mag = pool->mags; mag; mag = mag->pool_next)
		if (rp_out_get(mag, addr, e, take))
			return true;
	return false;
}

/*
 * Thread exit: every kept block of every open pool goes back with FREE (or
 * is only unmapped, where the kernel took it). Holding mag->lock keeps
 * respool_close() from finishing while this uses the pool: close marks
 * the magazine dead under the same lock before it closes the file.
 */
static void rp_thread_exit(void *arg)
{
	struct rp_thread *t = arg;
	struct rp_mag *mag, *next;
	struct respool *pool;
	unsigned int i;

	if (rp_self == t)
		rp_self = NULL;
	for (mag = t->mags; mag; mag = next) {
		next = mag->thread_next;
		pthread_mutex_lock(&mag->lock);
		pool = __atomic_load_n(&mag->pool, __ATOMIC_ACQUIRE);
		if (pool) {
			for (i = 0; i < mag->n; i++)
				rp_release_kept(pool, &mag->e[i]);
			mag->n = 0;
			mag->bytes = 0;
			/*
			 * Its live blocks outlive it: into the table, in one
			 * locked section with the unlink so that no lookup
			 * misses them. No memory for the table: the block
			 * stays mapped and held until close, unfindable.
			 */
			pthread_mutex_lock(&pool->lock);
			for (i = 0; i < RP_MAG_OUT; i++) {
				uintptr_t a = __atomic_load_n(&mag->out[i].addr,
							      __ATOMIC_ACQUIRE);
				struct rp_entry e;

				if (a && rp_out_get(mag, a, &e, true))
					rp_table_add(pool, &e);
			}
			rp_mag_unlink(pool, mag);
			pthread_mutex_unlock(&pool->lock);
			__atomic_store_n(&mag->pool, NULL, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&mag->lock);
		rp_mag_put(mag);
	}
	free(t);
}

static void rp_key_init(void)
{
	rp_key_ok = !pthread_key_create(&rp_key, rp_thread_exit);
}

/*
 * The calling thread's magazine of @pool; with @create, made (and listed in
 * the pool) if there is none. Dead magazines met on the way (their pool
 * closed) are dropped. NULL when there is none, or no memory.
 */
static struct rp_mag *rp_mag_get(struct respool *pool, bool create)
{
	struct rp_thread *t = rp_self;
	struct rp_mag *mag, **link;

	/* The owner reads @pool while close may clear it: atomic. */
	if (t && t->last &&
	    __atomic_load_n(&t->last->pool, __ATOMIC_ACQUIRE) == pool)
		return t->last;
	if (t) {
		for (link = &t->mags; (mag = *link); ) {
			struct respool *p = __atomic_load_n(&mag->pool,
							    __ATOMIC_ACQUIRE);

			if (p == pool)
				return t->last = mag;
			if (!p) {
				*link = mag->thread_next;
				if (t->last == mag)
					t->last = NULL;
				rp_mag_put(mag);
				continue;
			}
			link = &mag->thread_next;
		}
	}
	if (!create)
		return NULL;

	pthread_once(&rp_key_once, rp_key_init);
	if (!rp_key_ok)
		return NULL;
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		if (pthread_setspecific(rp_key, t)) {
			free(t);
			return NULL;
		}
		rp_self = t;
	}
	mag = calloc(1, sizeof(*mag));
	if (!mag)
		return NULL;
	if (pthread_mutex_init(&mag->lock, NULL)) {
		free(mag);
		return NULL;
	}
	mag->refs = 2;
	mag->pool = pool;
	pthread_mutex_lock(&pool->lock);
	mag->pool_next = pool->mags;
	if (pool->mags)
		pool->mags->pool_prev = mag;
	pool->mags = mag;
	mag->linked = true;
	pthread_mutex_unlock(&pool->lock);
	mag->thread_next = t->mags;
	t->mags = mag;
	return t->last = mag;
}

/* Take entry @i out of @mag (the owner, or with the owner done). */
static void rp_mag_del(struct rp_mag *mag, unsigned int i)
{
	mag->bytes -= mag->e[i].size;
	mag->n--;
	memmove(&mag->e[i], &mag->e[i + 1], (mag->n - i) * sizeof(mag->e[0]));
}

/* Release every kept block of the calling thread's magazine of @pool. */
static bool rp_mag_flush(struct respool *pool)
{
	struct rp_mag *mag = rp_mag_get(pool, false);
	unsigned int i;

	if (!mag || !mag->n)
		return false;
	for (i = 0; i < mag->n; i++)
		rp_release_kept(pool, &mag->e[i]);
	mag->n = 0;
	mag->bytes = 0;
	return true;
}

/*
 * respool_free() of a keepable block @e, out of the table already: keep it
 * in the calling thread's magazine (true), or say no (false: the caller
 * frees it as ever). The protocol of <linux/respool.h>:
 *
 *   store KEPT|g; full barrier; read waiters and reclaim
 *
 * The kernel, for a waiter, publishes @waiters and then (after its own
 * full barrier) scans the slots for KEPT. Either the kernel's scan sees
 * our KEPT and takes the block back, or our read after the barrier sees
 * its @waiters and we undo the keep (store buffering: both sides store,
 * fence, load; they cannot both miss the other's store). The undo is an
 * exchange KEPT|g -> INUSE|g, which the kernel's take-back may have won
 * already: then the block is the pool's and only our VMA is left.
 */
static bool rp_keep(struct respool *pool, struct rp_mag *mag,
		    struct rp_entry *e)
{
	uint32_t *slot;

	if (!e->word || e->size > RP_MAG_BYTES)
		return false;
	if (!mag)
		mag = rp_mag_get(pool, true);
	if (!mag)
		return false;
	/* Full: the oldest goes back for real, as many as it takes. */
	while (mag->n == RP_MAG_BLOCKS || mag->bytes + e->size > RP_MAG_BYTES) {
		rp_release_kept(pool, &mag->e[0]);
		rp_mag_del(mag, 0);
	}

	slot = rp_slot_word(pool, e->handle);
	/*
	 * The store needs no ordering of its own: the full fence after it
	 * orders it before the loads (and pairs with the kernel's barrier
	 * between its store of @waiters and its scan of the slots).
	 */
	__atomic_store_n(slot, rp_word_state(e->word, RESPOOL_SLOT_KEPT),
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pool->shared->waiters, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&pool->shared->reclaim, __ATOMIC_RELAXED)) {
		if (rp_unkeep(pool, e))
			return false;	/* the caller FREEs it: room appears */
		munmap((void *)e->addr, e->size);
		return true;		/* taken: the waiter has it already */
	}
	mag->e[mag->n++] = *e;
	mag->bytes += e->size;
	return true;
}

/*
 * respool_alloc()'s hit: the newest kept block of this thread's magazine
 * that fits @need, taken back with one exchange and put in an out slot
 * (or, with all of them taken, in the table).
 * Entries the kernel took back are unmapped and dropped on the way. NULL
 * when nothing fits.
 */
static void *rp_hit(struct respool *pool, size_t need)
{
	struct rp_mag *mag = rp_mag_get(pool, false);
	struct rp_entry e;
	unsigned int i;
	int err;

	if (!mag)
		return NULL;
	for (i = mag->n; i--; ) {
		if (!RP_HIT_FITS(mag->e[i].size, need))
			continue;
		e = mag->e[i];
		rp_mag_del(mag, i);
		if (!rp_unkeep(pool, &e)) {
			munmap((void *)e.addr, e.size);
			continue;
		}
		err = 0;
		if (!rp_out_put(mag, &e)) {
			pthread_mutex_lock(&pool->lock);
			err = rp_table_add(pool, &e);
			pthread_mutex_unlock(&pool->lock);
		}
		if (err) {
			/* No memory for the table: a real free, then a miss. */
			munmap((void *)e.addr, e.size);
			rp_ioc_free(pool->fd, e.handle);
			return NULL;
		}
		/* Only reported by the kernel, never trusted: relaxed. */
		__atomic_fetch_add(&pool->ctl->hits, 1, __ATOMIC_RELAXED);
		return (void *)e.addr;
	}
	return NULL;
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
	pool->page = (size_t)sysconf(_SC_PAGESIZE);
	rp_fast_open(pool);
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
	rp_record_word(pool, &e);
	pthread_mutex_lock(&pool->lock);
	if (rp_table_add(pool, &e)) {
		pthread_mutex_unlock(&pool->lock);
		munmap(p, e.size);
		errno = ENOMEM;
		return NULL;
	}
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
	if (pool->ctl && size <= SIZE_MAX - pool->page) {
		p = rp_hit(pool, (size + pool->page - 1) & ~(pool->page - 1));
		if (p)
			return p;
	}
	if (ioctl(pool->fd, RESPOOL_IOC_ALLOC, &a)) {
		/*
		 * Kept blocks count against the quotas: those of this thread
		 * go back, and the request is asked once more.
		 */
		if (errno != EDQUOT || !pool->ctl || !rp_mag_flush(pool) ||
		    ioctl(pool->fd, RESPOOL_IOC_ALLOC, &a))
			return NULL;
	}
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
	struct rp_mag *mag;
	struct rp_entry e;
	bool found;
	int ret;

	if (!pool)
		return rp_fail(EINVAL);
	if (!ptr)
		return 0;

	/* The hit cycle: a block this thread got by a hit, no mutex. */
	mag = pool->ctl ? rp_mag_get(pool, false) : NULL;
	if (!mag || !rp_out_get(mag, (uintptr_t)ptr, &e, true)) {
		pthread_mutex_lock(&pool->lock);
		found = rp_find_locked(pool, (uintptr_t)ptr, &e, true);
		pthread_mutex_unlock(&pool->lock);
		if (!found)
			return rp_fail(ENOENT);
	}

	if (pool->ctl && rp_keep(pool, mag, &e))
		return 0;
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

	if (!pool || !ptrs || !count || count > INT_MAX)
		return rp_fail(EINVAL);
	while (i < count && !unknown) {
		/* Out of the table first, then unmap, then FREE: as respool_free(). */
		n = 0;
		pthread_mutex_lock(&pool->lock);
		for (; i < count && n < RP_FREE_CHUNK; i++) {
			if (!ptrs[i])
				continue;
			if (!rp_find_locked(pool, (uintptr_t)ptrs[i], &e[n],
					    true)) {
				unknown = true;
				break;
			}
			n++;
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
	bool found;
	int err;

	if (!pool || (fd_flags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    (fd_flags & O_ACCMODE) == O_WRONLY ||
	    (fd_flags & O_ACCMODE) == O_ACCMODE)
		return rp_fail(EINVAL);
	/*
	 * Out of the table first, as respool_free() does, so that a racing
	 * respool_free() of the same pointer finds nothing; put back if the
	 * kernel refuses.
	 */
	pthread_mutex_lock(&pool->lock);
	found = ptr && rp_find_locked(pool, (uintptr_t)ptr, &e, true);
	pthread_mutex_unlock(&pool->lock);
	if (!found)
		return rp_fail(ENOENT);

	x.handle = e.handle;
	if (ioctl(pool->fd, RESPOOL_IOC_EXPORT, &x)) {
		err = errno;
		/* From an out slot, the table may have no room: grow it. */
		pthread_mutex_lock(&pool->lock);
		rp_table_add(pool, &e);
		pthread_mutex_unlock(&pool->lock);
		return rp_fail(err);
	}
	/* The block now lives in the dma-buf; this mapping would hold it. */
	munmap(ptr, e.size);
	return x.fd;
}

size_t respool_usable_size(struct respool *pool, void *ptr)
{
	struct rp_entry e;
	size_t size = 0;

	if (!pool) {
		errno = EINVAL;
		return 0;
	}
	pthread_mutex_lock(&pool->lock);
	if (ptr && rp_find_locked(pool, (uintptr_t)ptr, &e, false))
		size = e.size;
	pthread_mutex_unlock(&pool->lock);
	if (!size)
		errno = ENOENT;
	return size;
}

int respool_info(struct respool *pool, const void *ptr,
		 struct respool_info *info)
{
	struct respool_info in = { 0 };
	struct rp_entry e;
	bool found;

	if (!pool || !info)
		return rp_fail(EINVAL);
	pthread_mutex_lock(&pool->lock);
	found = ptr && rp_find_locked(pool, (uintptr_t)ptr, &e, false);
	pthread_mutex_unlock(&pool->lock);
	if (!found)
		return rp_fail(ENOENT);
	in.handle = e.handle;
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
	struct rp_mag *mag;
	unsigned int k;
	size_t i;
	int err = errno;

	if (!pool)
		return;
	/*
	 * Every thread's kept blocks: unmapped, the magazine marked dead
	 * before the pool's memory can be reused, so that no thread ever
	 * takes a stale magazine for a later pool's. One at a time, the pool
	 * lock not held under a magazine's: a thread-exit destructor takes
	 * them the other way round.
	 */
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		mag = pool->mags;
		if (mag)
			rp_mag_unlink(pool, mag);
		pthread_mutex_unlock(&pool->lock);
		if (!mag)
			break;
		pthread_mutex_lock(&mag->lock);
		if (__atomic_load_n(&mag->pool, __ATOMIC_RELAXED) == pool) {
			for (k = 0; k < mag->n; k++)
				munmap((void *)mag->e[k].addr, mag->e[k].size);
			for (k = 0; k < RP_MAG_OUT; k++)
				if (mag->out[k].addr)
					munmap((void *)mag->out[k].addr,
					       mag->out[k].e.size);
			mag->n = 0;
			mag->bytes = 0;
			__atomic_store_n(&mag->pool, NULL, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&mag->lock);
		rp_mag_put(mag);
	}
	/* close() below frees every handle at once in the kernel. */
	for (i = 0; i <= pool->mask; i++)
		if (pool->table[i].addr)
			munmap((void *)pool->table[i].addr, pool->table[i].size);
	if (pool->ctl) {
		munmap(pool->ctl, RESPOOL_CTL_SIZE);
		munmap((void *)pool->shared, RESPOOL_SHARED_SIZE);
	}
	close(pool->fd);
	pthread_mutex_destroy(&pool->lock);
	free(pool->table);
	free(pool);
	errno = err;
}
