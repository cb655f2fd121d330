/* SPDX-License-Identifier: GPL-2.0 */
/*
 * respool: a bounded, fair, observable pool of memory blocks.
 *
 * Clients (open files of /dev/respool) take blocks of whole pages from the
 * pool and map them. Freed blocks stay in a per-CPU cache or the global
 * reserve so the next request of a similar size reuses them (threshold
 * rule), instead of going to the page allocator.
 *
 * Invariants:
 * 1) The pool never owns more than cfg.capacity bytes: @total_bytes counts
 *    every byte it owns (in use, in the reserve, in per-CPU caches, being
 *    allocated) and only grows under @lock after a capacity check.
 *    Lowering capacity is the one exception; nothing grows until use falls
 *    below it again.
 * 2) A block is reachable from exactly one place: a client's handle table
 *    and its mappings (in use), a dma-buf and the mappings its exporter
 *    had (in use, exported), one per-CPU cache, the reserve, or a waiter
 *    it was handed to.
 * 3) A block returns to the pool only when its handle is gone and its
 *    last mapping is gone (@refs reaches zero); nobody else ever sees a
 *    still-mapped block. An exported block's handle reference belongs to
 *    its dma-buf (export.c), dropped when the dma-buf's last reference
 *    goes.
 * 4) While any request waits, nothing is served ahead of it (wait.c).
 *
 * Several pools live side by side (pools.c); nothing is shared between
 * them but the slab caches of their metadata and the module-wide bound on
 * the sum of their capacities.
 *
 * Lock order: respool_pools_lock (pools.c), then a pool's config_lock
 * or clients_lock, then pool->lock, then respool_cpu.lock (any CPU's).
 * The client lock (xa_lock of client->handles) is never held together
 * with either. A client's map_lock comes after clients_lock and a task's
 * mmap_lock, before the file's i_mmap_rwsem and the client lock; it is
 * never taken in reclaim (keep.c). A user's charge is an atomic64, updated under the client
 * lock of the file being charged (see cdev.c).
 */
#ifndef _RESPOOL_H
#define _RESPOOL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/completion.h>
#include <linux/respool.h>

#define RESPOOL_PCPU_CACHE_MAX	64

/*
 * mmap offsets: the handle in the high bits, the page within the block in
 * the low bits. Handles are below 2^31, so offsets fit in a positive loff_t.
 */
#define RESPOOL_OFFSET_SHIFT	32
#define RESPOOL_PGOFF_SHIFT	(RESPOOL_OFFSET_SHIFT - PAGE_SHIFT)
#define RESPOOL_BLOCK_MAX	(PAGE_SIZE << RESPOOL_MAX_ORDER)

/* Never a handle: a reserved entry that pins the table's first node. */
#define RESPOOL_HANDLE_PIN	(XA_CHUNK_SIZE - 1)

/*
 * Could @handle name a block? Handles are 1..INT_MAX (xa_alloc's limit,
 * so that offsets fit a positive loff_t), never the pin.
 */
static inline bool respool_handle_valid(u64 handle)
{
	return handle && handle <= INT_MAX && handle != RESPOOL_HANDLE_PIN;
}

/* A pool's name: [a-z0-9_-]{1,31} (pools.c). */
#define RESPOOL_NAME_MAX	31

/**
 * struct respool_config - the pool's settings
 * @capacity:		bytes the pool may own
 * @max_block_size:	largest block, bytes (page multiple)
 * @reserve_max:	free bytes kept at most (effective: min with capacity)
 * @client_quota:	bytes one open file may hold, 0 = no limit
 * @user_quota:		bytes one user (uid) may hold across every file of
 *			the pool, 0 = no limit
 * @threshold:		reuse threshold, percent
 * @pcpu_cache_blocks:	entries of each per-CPU cache, 0 = no caches
 * @idle_trim_ms:	release free blocks idle this long, 0 = never
 *
 * Written under pool->lock (and pool->config_lock); read with READ_ONCE()
 * on the paths that do not take pool->lock.
 */
struct respool_config {
	u64 capacity;
	u64 max_block_size;
	u64 reserve_max;
	u64 client_quota;
	u64 user_quota;
	u32 threshold;
	u32 pcpu_cache_blocks;
	u32 idle_trim_ms;
};

/**
 * struct respool_block - one block of whole pages
 * @vaddr:	kernel address of the data (alloc_pages_exact(): split, each
 *		page refcounted, so it can be mapped page by page)
 * @size:	bytes, a multiple of PAGE_SIZE
 * @refs:	while in use: one for the handle (or, once exported, the
 *		dma-buf) plus one per mapping of the owner's file, and one
 *		for an ALLOC until its answer is copied out (cdev.c)
 * @nr_maps:	live mappings (for RESPOOL_IOC_INFO and client-get);
 *		changed under the owner's client lock, so that its
 *		0 <-> 1 transitions and @client->mapped_bytes agree
 * @last_client: id of the client it was last handed to; a hand-out to
 *		another client zeroes it first
 * @freed_at:	jiffies when it last became free: the age for eviction and
 *		trim (ties keep insertion order in the reserve trees)
 * @handle:	while in use: the handle in the owner's table
 * @requested:	while in use: the bytes the client asked for
 * @client:	while in use: the owner, charged @size bytes for the
 *		block until its last reference (handle or mapping) goes.
 *		Valid until then: a mapping holds the owner's file.
 * @nid:	NUMA node of its pages (one allocation: all on one node)
 * @ever_mapped: set at the first mmap; such a block is checked for
 *		foreign page references before it is reused
 * @zeroed:	it was cleared at its last hand-out
 * @exported:	it lives in a dma-buf (export.c): its last reference
 *		returns it through respool_export_return(). Set by EXPORT
 *		before the dma-buf's fd exists, cleared at the return; read
 *		only by whoever drops the last reference
 * @ctl_gen:	while in use: the generation in its slot of the owner's
 *		control page (keep.c), 0 if it cannot be kept; under the
 *		owner's client lock
 * @maps:	while in use: the struct respool_map of each mmap() of it
 *		(mmap.c), each holding one reference; under the owner's
 *		client lock
 * @size_node:	in the reserve: node of pool->by_size
 * @age_node:	in the reserve: node of pool->by_age
 * @link:	on a private list while being released or handed over
 *
 * In use, a block belongs to its client; free, it belongs to the cache or
 * reserve holding it and is guarded by that one's lock.
 */
struct respool_block {
	void *vaddr;
	u64 size;
	refcount_t refs;
	atomic_t nr_maps;
	u64 last_client;
	u64 freed_at;
	u32 handle;
	u64 requested;
	struct respool_client *client;
	int nid;
	bool ever_mapped;
	bool zeroed;
	bool exported;
	u32 ctl_gen;
	struct list_head maps;
	struct rb_node size_node;
	struct rb_node age_node;
	struct list_head link;
};

/**
 * enum respool_counter - the counters kept per CPU
 * @RESPOOL_CNT_ALLOCS:		successful allocations
 * @RESPOOL_CNT_FREES:		blocks returned
 * @RESPOOL_CNT_PCPU_HITS:	allocations served by a per-CPU cache
 * @RESPOOL_CNT_RESERVE_HITS:	allocations served by the reserve
 * @RESPOOL_CNT_FRESH_ALLOCS:	allocations served by the page allocator
 * @RESPOOL_CNT_THRESHOLD_REJECTS: requests that skipped a free block by
 *				threshold
 * @RESPOOL_CNT_EVICTIONS:	free blocks released to make room
 * @RESPOOL_CNT_EVICTED_BYTES:	their bytes
 * @RESPOOL_CNT_ZEROED_BYTES:	bytes cleared at hand-out
 * @RESPOOL_CNT_REQUESTED_BYTES: sum of live requests, a gauge: not reset.
 *				Added on the CPU that allocates, subtracted on
 *				the one that frees, so one CPU's part may be
 *				negative; only the sum is meaningful.
 * @RESPOOL_CNT_NR:		number of per-CPU counters
 *
 * In the order of their attributes in the netlink cpu set
 * (RESPOOL_A_CPU_ALLOCS...), which stats.c checks at build time. What
 * each one is reported as is in the table in stats.c.
 */
enum respool_counter {
	RESPOOL_CNT_ALLOCS,
	RESPOOL_CNT_FREES,
	RESPOOL_CNT_PCPU_HITS,
	RESPOOL_CNT_RESERVE_HITS,
	RESPOOL_CNT_FRESH_ALLOCS,
	RESPOOL_CNT_THRESHOLD_REJECTS,
	RESPOOL_CNT_EVICTIONS,
	RESPOOL_CNT_EVICTED_BYTES,
	RESPOOL_CNT_ZEROED_BYTES,
	RESPOOL_CNT_REQUESTED_BYTES,
	RESPOOL_CNT_NR
};

/**
 * enum respool_locked_counter - the counters kept under pool->lock
 * @RESPOOL_LCNT_WAITS:		ALLOCs that waited
 * @RESPOOL_LCNT_WAIT_TIMEOUTS:	waits ended by timeout
 * @RESPOOL_LCNT_WAIT_INTERRUPTS: waits ended by a signal or close
 * @RESPOOL_LCNT_MAX_WAIT_NS:	longest wait (a maximum, not a sum)
 * @RESPOOL_LCNT_HANDOFFS:	blocks handed directly to a waiter
 * @RESPOOL_LCNT_SHRINKER_RELEASED_BYTES: bytes released by the shrinker
 * @RESPOOL_LCNT_IDLE_TRIMMED_BYTES: bytes released by idle trim
 * @RESPOOL_LCNT_LOST_WAKEUPS:	waits that the periodic re-check ended,
 *				having found room that no "room appeared"
 *				step served: a bug, which every test asserts
 *				never happens
 * @RESPOOL_LCNT_EXPORTS:	blocks exported as dma-bufs
 * @RESPOOL_LCNT_EXPORT_RETURNS: exported blocks back in the pool
 * @RESPOOL_LCNT_TAKEBACKS:	kept blocks taken back (keep.c)
 * @RESPOOL_LCNT_NR:		number of counters under pool->lock
 *
 * These change only where pool->lock is held anyway (waiting, handoff,
 * release), so they need no per-CPU copies.
 */
enum respool_locked_counter {
	RESPOOL_LCNT_WAITS,
	RESPOOL_LCNT_WAIT_TIMEOUTS,
	RESPOOL_LCNT_WAIT_INTERRUPTS,
	RESPOOL_LCNT_MAX_WAIT_NS,
	RESPOOL_LCNT_HANDOFFS,
	RESPOOL_LCNT_SHRINKER_RELEASED_BYTES,
	RESPOOL_LCNT_IDLE_TRIMMED_BYTES,
	RESPOOL_LCNT_LOST_WAKEUPS,
	RESPOOL_LCNT_EXPORTS,
	RESPOOL_LCNT_EXPORT_RETURNS,
	RESPOOL_LCNT_TAKEBACKS,
	RESPOOL_LCNT_NR
};

/**
 * struct respool_cpu_stats - counters kept per CPU, summed when read
 * @cnt:	indexed by enum respool_counter
 *
 * Each is only ever changed with this_cpu_add() and friends (stats.h);
 * readers sum over CPUs and subtract the snapshot taken at the last reset.
 */
struct respool_cpu_stats {
	u64 cnt[RESPOOL_CNT_NR];
};

/**
 * struct respool_cpu - a CPU's cache of free blocks
 * @lock:	protects @nr, @bytes and @blocks; taken by the local CPU in
 *		the common case, by others only to drain
 * @nr:		blocks in the cache
 * @bytes:	their bytes (READ_ONCE() for approximate sums)
 * @blocks:	the blocks, oldest first
 * @stats:	this CPU's counters
 *
 * The point of the cache is that the common ALLOC and FREE touch only
 * memory local to their CPU and take no lock shared between CPUs.
 */
struct respool_cpu {
	spinlock_t lock;	/* this cache: nr, bytes, blocks */
	unsigned int nr;
	u64 bytes;
	struct respool_block *blocks[RESPOOL_PCPU_CACHE_MAX];
	struct respool_cpu_stats stats;
};

/**
 * struct respool_user - what the open files of one uid hold together
 * @uid:	the opener's fsuid (in init_user_ns), the key in pool->users
 * @nr_files:	open files of this uid, plus its dma-bufs not yet
 *		released (an export keeps the uid charged after the
 *		exporting file closed); under pool->clients_lock, which also
 *		guards its entry in pool->users
 * @charged_bytes: sum of the charged_bytes of those files (atomic64):
 *		raised only by respool_user_try_charge(), which never takes
 *		it past user_quota, lowered at a block's last reference
 * @exported_bytes: the part of @charged_bytes that is exported blocks,
 *		which no file holds any more (atomic64, for the checker
 *		and the reports)
 * @check_bytes: (debug build) the sum check.c computes to compare
 *
 * Looked up at open() and held by the file (client->user) until its
 * release, after every block it was charged for is gone; freed with the
 * last file of its uid.
 */
struct respool_user {
	u32 uid;
	unsigned int nr_files;
	atomic64_t charged_bytes;
	atomic64_t exported_bytes;
#ifdef RESPOOL_CHECK_INVARIANTS
	u64 check_bytes;
#endif
};

/**
 * struct respool_client - one open file of /dev/respool
 * @pool:	the pool
 * @user:	the opener's struct respool_user, for the file's lifetime
 * @id:		unique across pools for the module's lifetime; never reused
 * @pid:	tgid of the opener
 * @comm:	command name of the opener
 * @handles:	handle -> in-use block; its xa_lock (the client lock) also
 *		guards the byte counts below and the nr_maps transitions
 *		of the client's blocks
 * @held_bytes:	bytes of the client's blocks still referenced, by a
 *		handle or by a mapping (a FREEd block stays until its last
 *		mapping goes)
 * @charged_bytes: @held_bytes plus the page-aligned need of ALLOCs in
 *		progress; client_quota bounds it. Charged together with
 *		@user->charged_bytes, in one section of the client lock.
 * @mapped_bytes: bytes of the client's blocks with a live mapping
 * @requested_bytes: bytes asked for by live handles
 * @blocked_size: bytes of the last ALLOC that failed with EAGAIN (poll)
 * @waiting_since: ktime of the wait in progress, 0 if none
 * @waiting_bytes: bytes the wait in progress is for, 0 if none; both
 *		set and cleared under pool->lock, where netlink reads them
 * @file:	the open file this client is
 * @mapping:	the file's own address_space (file->f_mapping), so that
 *		the offsets of a handle name this file's mappings only and
 *		unmap_mapping_range() reaches exactly them (keep.c)
 * @map_lock:	serialises putting a block's pages into a mapping (the
 *		fault handler) with a take-back revoking its mappings, so
 *		that no page is mapped after the take-back unmapped them
 * @ctl:	the control page (keep.c), NULL until first mapped; set
 *		once under the client lock, freed at release
 * @ctl_gen:	the last slot generation handed out [client lock]
 * @takebacks:	kept blocks taken back from this client [client lock]
 * @close_gen:	bumped under pool->lock each time a close() takes the file
 *		out of a task's file table (->flush); an ALLOC that saw it
 *		change before queuing re-checks its own table (wait.c)
 * @node:	in pool->clients, under pool->clients_lock
 */
struct respool_client {
	struct respool_pool *pool;
	struct respool_user *user;
	u64 id;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	struct xarray handles;
	u64 held_bytes;
	u64 charged_bytes;
	u64 mapped_bytes;
	u64 requested_bytes;
	u64 blocked_size;
	u64 waiting_since;
	u64 waiting_bytes;
	struct file *file;
	struct address_space mapping;
	struct mutex map_lock;	/* fault insertion vs take-back's unmap */
	struct respool_ctl *ctl;
	u32 ctl_gen;
	u64 takebacks;
	u64 close_gen;
	struct list_head node;
};

/**
 * struct respool_map - what one mmap() of a block made
 * @b:		the block, with one reference for every VMA of this
 *		record; NULL once a take-back revoked it (then the VMAs map
 *		nothing and fault with SIGBUS) [client lock]
 * @vmas:	VMAs of this record: the one mmap() made and the copies
 *		split and fork made of it [client lock]
 * @node:	in @b->maps while @b is set [client lock]
 */
struct respool_map {
	struct respool_block *b;
	unsigned int vmas;
	struct list_head node;
};

/* Why kept blocks are taken back (keep.c). */
enum respool_takeback_why {
	RESPOOL_TAKEBACK_WAITER,	/* an ALLOC queued (or NONBLOCK) */
	RESPOOL_TAKEBACK_CAPACITY,	/* capacity lowered below use */
	RESPOOL_TAKEBACK_SHRINK,	/* the shrinker, from a worker */
	RESPOOL_TAKEBACK_IDLE,		/* an idle-trim pass */
	RESPOOL_TAKEBACK_DRAIN,		/* netlink drain */
};

/**
 * struct respool_request - one ALLOC on its way through the pool
 * @size:	bytes asked for
 * @need:	@size in whole pages
 * @max_size:	the largest block it may be served with: the room its
 *		quotas leave (a reused block counts whole); U64_MAX for none
 * @flags:	RESPOOL_ALLOC_* flags, validated
 * @timeout_ms:	bound of a wait with RESPOOL_ALLOC_TIMEOUT
 */
struct respool_request {
	u64 size;
	u64 need;
	u64 max_size;
	u32 flags;
	u32 timeout_ms;
};

/**
 * struct respool_waiter - an ALLOC waiting for room
 * @node:	in pool->waiters, FIFO; under pool->lock
 * @client:	who waits
 * @need:	bytes needed (page aligned)
 * @max_size:	the largest block it may be handed (its quota's room)
 * @files:	file table of the waiting task (see ->flush)
 * @block:	the block handed over, or NULL when @need bytes of capacity
 *		were charged for a fresh block instead
 * @src:	where @block (or the room) came from
 * @served:	@block or the room was handed over; set under pool->lock,
 *		before @done completes
 * @error:	the wait was ended without room: -EBADF (the file was
 *		closed) or -E2BIG (the settings changed so that it can never
 *		be served); set under pool->lock, before @done completes
 * @done:	completed when @served or @error is set
 * @since:	ktime when the wait began
 *
 * Allocated from pool->waiter_cache by the waiting task, which alone
 * frees it, after taking pool->lock once more: whoever completes @done
 * does so under pool->lock and never touches the waiter afterwards.
 */
struct respool_waiter {
	struct list_head node;
	struct respool_client *client;
	u64 need;
	u64 max_size;
	struct files_struct *files;
	struct respool_block *block;
	int src;
	bool served;
	int error;
	struct completion done;
	u64 since;
};

/**
 * struct respool_pool - the pool
 * @lock:		protects the fields marked [L], the reserve trees and
 *			the waiter queue
 * @cfg:		settings [L]; READ_ONCE() where @lock is not held
 * @config_lock:	serialises config changes, prefill and drain, which
 *			sleep
 * @total_bytes:	every byte the pool owns [L]
 * @total_blocks:	every block the pool owns [L]
 * @reserve_bytes:	bytes in the reserve [L]
 * @reserve_blocks:	blocks in the reserve [L]
 * @by_size:		the reserve, ordered by (size, age) for best fit [L]
 * @by_age:		the reserve, oldest first, for eviction and trim [L]
 * @waiters:		the FIFO of waiting ALLOCs [L]
 * @nr_waiters:		length of @waiters [L]; the fast paths read it
 *			under their CPU lock (see pcpu.c)
 * @recovered_pending:	the queue emptied; a "recovered" notification is
 *			owed [L]
 * @peak_in_use:	highest in-use bytes seen [L]; the hand-outs that take
 *			no pool->lock raise it with a cmpxchg (pool.c)
 * @in_use:		bytes of blocks handed out and not yet back: moved at
 *			every hand-out and free, lock-free
 * @exported_bytes:	bytes of exported blocks not yet back, part of
 *			@in_use [L]
 * @exported_blocks:	how many [L]; pool-del refuses while any
 * @lcnt:		counters indexed by enum respool_locked_counter [L]
 * @wait_hist:		log2 histogram of wait ns [L]
 * @reset_base:		per-CPU counter sums at the last reset, zero for
 *			the gauges that a reset leaves [L]
 * @last_reset_ns:	when the counters were last reset [L]
 * @over_capacity:	the pool owns more than its capacity (lowered below
 *			use): per-CPU caches take nothing, so that every
 *			free is trimmed [L]; READ_ONCE() in pcpu.c
 * @capacity_lowered:	the capacity was set below what the pool owned, and
 *			use has not fallen below it since [L]
 * @pcpu_budget:	free bytes one CPU's cache may hold: its share of
 *			min(reserve_max, capacity) [L]; READ_ONCE() in pcpu.c
 * @cpu:		per-CPU caches and counters
 * @block_cache:	slab of struct respool_block
 * @client_cache:	slab of struct respool_client
 * @waiter_cache:	slab of struct respool_waiter
 * @trim_work:		deferred release of idle free blocks, and the
 *			idle pass over kept blocks
 * @takeback_work:	the shrinker's take-back of kept blocks, which
 *			may not wait for a client's map_lock in reclaim
 * @shared:		the pool's page, mapped read-only by clients
 *			(keep.c): waiters and reclaim, written under @lock
 * @nr_fast:		clients that mapped their control page
 * @takeback:		takes kept blocks back (keep.c, set by cdev.c);
 *			called with no lock held, may sleep. Returns the
 *			blocks taken back
 * @shrinker:		releases free blocks under memory pressure
 * @poll_wq:		woken when room may have appeared (poll)
 * @clients_lock:	protects @clients, @nr_clients, @dead, and the
 *			entries of @users with their nr_files
 * @clients:		every open client
 * @nr_clients:		length of @clients
 * @users:		uid -> struct respool_user of the open files' users
 * @notify:		hook for events (netlink), may be NULL
 * @id:			0 for "default", else given by pools.c at creation;
 *			constant afterwards
 * @name:		the pool's name; constant
 * @node:		NUMA node fresh blocks come from, NUMA_NO_NODE for
 *			the allocating CPU's; changed under
 *			respool_pools_lock, READ_ONCE() in block.c
 * @node_bytes:		bytes of the pool's blocks on each node
 *			(nr_node_ids entries), moved where a block is
 *			allocated or released
 * @ref:		references: the registry's while the pool is in it,
 *			one per netlink request or device using it; the
 *			last one destroys the pool (pools.c)
 * @dead:		pool-del took the pool out of the registry: open()
 *			fails from then on; set under respool_pools_lock and
 *			@clients_lock
 * @dev:		the device node of a named pool (cdev.c); NULL for
 *			"default", whose node is /dev/respool
 * @owner:		owner of the device node as created; constant
 * @group:		its group; constant
 * @mode:		its permission bits; constant (a udev rule may
 *			change the node, not these)
 */
struct respool_pool {
	spinlock_t lock;	/* [L] fields, reserve trees, waiter queue */
	struct respool_config cfg;
	struct mutex config_lock;	/* config, prefill, drain */
	u64 total_bytes;
	u64 total_blocks;
	u64 reserve_bytes;
	u64 reserve_blocks;
	struct rb_root_cached by_size;
	struct rb_root_cached by_age;
	struct list_head waiters;
	unsigned int nr_waiters;
	bool recovered_pending;
	u64 peak_in_use;
	atomic64_t in_use;
	u64 exported_bytes;
	u64 exported_blocks;
	u64 lcnt[RESPOOL_LCNT_NR];
	u64 wait_hist[RESPOOL_WAIT_HIST_BUCKETS];
	struct respool_cpu_stats reset_base;
	u64 last_reset_ns;
	bool over_capacity;
	bool capacity_lowered;
	u64 pcpu_budget;
	struct respool_cpu __percpu *cpu;
	struct kmem_cache *block_cache;
	struct kmem_cache *client_cache;
	struct kmem_cache *waiter_cache;
	struct delayed_work trim_work;
	struct work_struct takeback_work;
	struct respool_shared *shared;
	atomic_t nr_fast;
	unsigned int (*takeback)(struct respool_pool *pool,
				 enum respool_takeback_why why);
	struct shrinker *shrinker;
	wait_queue_head_t poll_wq;
	struct mutex clients_lock;	/* clients, nr_clients, ids, users */
	struct list_head clients;
	unsigned int nr_clients;
	struct xarray users;
	void (*notify)(struct respool_pool *pool, int event, u64 value);
	u32 id;
	char name[RESPOOL_NAME_MAX + 1];
	int node;
	atomic64_t *node_bytes;
	struct kref ref;
	bool dead;
	struct respool_pool_dev *dev;
	kuid_t owner;
	kgid_t group;
	umode_t mode;
};

/* Events passed to pool->notify. */
enum respool_event {
	RESPOOL_EVENT_EXHAUSTED,
	RESPOOL_EVENT_RECOVERED,
	RESPOOL_EVENT_PRESSURE,
	RESPOOL_EVENT_CONFIG,
	RESPOOL_EVENT_POOL_NEW,
	RESPOOL_EVENT_POOL_DEL,
};

/* Where an allocation was served from (tracepoints). */
enum respool_source {
	RESPOOL_SRC_PCPU,
	RESPOOL_SRC_RESERVE,
	RESPOOL_SRC_FRESH,
	RESPOOL_SRC_HANDOFF,
};

/* Why free blocks were released (tracepoints). */
enum respool_release_reason {
	RESPOOL_RELEASE_EVICT,
	RESPOOL_RELEASE_RESERVE_MAX,
	RESPOOL_RELEASE_IDLE,
	RESPOOL_RELEASE_SHRINK,
	RESPOOL_RELEASE_DRAIN,
	RESPOOL_RELEASE_CAPACITY,
	RESPOOL_RELEASE_PINNED,
};

/*
 * The functions live in one header per layer, each calling only the ones
 * below it: reserve.h (the free blocks' trees, what the pool owns),
 * pcpu.h (per-CPU caches), pool.h (policy and waiting), pools.h (the
 * named pools and their registry), cdev.h, export.h, keep.h and genl.h
 * (the devices, mappings, dma-bufs, kept blocks, netlink); block.h,
 * config.h (the settings' one validator) and stats.h (the counters) are
 * used by all. The lower layers reach kept blocks only through
 * pool->takeback.
 */

#endif /* _RESPOOL_H */
