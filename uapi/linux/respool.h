/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * respool: a bounded, fair, observable pool of memory blocks.
 *
 * DOC: respool userspace API
 *
 * Open /dev/respool: each open file is a client. RESPOOL_IOC_ALLOC hands
 * the client a block of whole pages and a handle for it; mmap() of the
 * returned offset maps it (MAP_SHARED only); RESPOOL_IOC_FREE or close()
 * gives it back. The pool never owns more than its capacity; when it is
 * exhausted, ALLOC waits in strict FIFO order.
 *
 * Every struct has fixed-width fields, explicit padding and reserved fields
 * that must be zero, so that it can grow at its end. The size of each
 * struct's first version is pinned below (RESPOOL_*_SIZE_VER0, as clone3's
 * CLONE_ARGS_SIZE_VER0). The kernel takes the struct size from the ioctl
 * number the caller was built with and accepts any size from VER0 up: it
 * zero-fills what an older caller lacks, refuses with EINVAL the non-zero
 * bytes of a newer caller that it does not know, and copies back
 * min(caller's size, its own).
 */
#ifndef _UAPI_LINUX_RESPOOL_H
#define _UAPI_LINUX_RESPOOL_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define RESPOOL_DEVICE_NAME	"respool"

/* ALLOC fails with EAGAIN instead of waiting for capacity. */
#define RESPOOL_ALLOC_NONBLOCK	_BITUL(0)
/* Wait at most timeout_ms milliseconds; then fail with ETIMEDOUT. */
#define RESPOOL_ALLOC_TIMEOUT	_BITUL(1)
#define RESPOOL_ALLOC_VALID_FLAGS	(RESPOOL_ALLOC_NONBLOCK | \
					 RESPOOL_ALLOC_TIMEOUT)

/**
 * struct respool_alloc - argument of RESPOOL_IOC_ALLOC
 * @size:	in: bytes wanted; rounded up to whole pages
 * @flags:	in: RESPOOL_ALLOC_* flags
 * @timeout_ms:	in: bound of the wait with RESPOOL_ALLOC_TIMEOUT, else 0
 * @handle:	out: the block's handle, private to this open file
 * @offset:	out: mmap() offset of the block's first page
 * @block_size:	out: bytes in the block (a reused block may be larger)
 * @reserved:	must be zero
 */
struct respool_alloc {
	__u64 size;
	__u32 flags;
	__u32 timeout_ms;
	__u64 handle;
	__u64 offset;
	__u64 block_size;
	__u64 reserved[2];
};

/**
 * struct respool_free - argument of RESPOOL_IOC_FREE
 * @handle:	the handle that ALLOC returned
 * @reserved:	must be zero
 */
struct respool_free {
	__u64 handle;
	__u64 reserved;
};

/* respool_info.flags: the block was cleared when it was handed out. */
#define RESPOOL_INFO_ZEROED	_BITUL(0)

/**
 * struct respool_info - argument of RESPOOL_IOC_INFO
 * @handle:	in: the handle to describe
 * @size:	out: the bytes requested at ALLOC
 * @block_size:	out: bytes in the block
 * @offset:	out: mmap() offset of the block's first page
 * @mapped:	out: number of live mappings of the block
 * @flags:	out: RESPOOL_INFO_* flags
 * @reserved:	must be zero
 */
struct respool_info {
	__u64 handle;
	__u64 size;
	__u64 block_size;
	__u64 offset;
	__u32 mapped;
	__u32 flags;
	__u64 reserved[2];
};

/* Wait-time histogram: bucket k counts waits of 2^k <= ns < 2^(k+1). */
#define RESPOOL_WAIT_HIST_BUCKETS	64

/**
 * struct respool_stats - argument of RESPOOL_IOC_STATS
 * @size:	in: sizeof(struct respool_stats) of the caller; out: bytes
 *		the kernel filled, min(caller's size, kernel's size)
 * @__pad:	must be zero
 * @capacity:	bytes the pool may own at most
 * @in_use_bytes: bytes of blocks held by clients (freed but still mapped
 *		blocks included)
 * @reserve_bytes: bytes of free blocks in the global reserve
 * @pcpu_bytes:	bytes of free blocks in the per-CPU caches
 * @requested_bytes: sum of the sizes of live requests
 * @peak_in_use_bytes: highest @in_use_bytes seen since the last reset
 * @blocks_in_use: blocks held by clients
 * @blocks_free: blocks in the reserve and the per-CPU caches
 * @allocs:	successful ALLOCs
 * @frees:	blocks given back (FREE, close, or the last unmap)
 * @pcpu_hits:	ALLOCs served from a per-CPU cache
 * @reserve_hits: ALLOCs served from the global reserve
 * @fresh_allocs: ALLOCs served by a fresh block from the page allocator
 * @threshold_rejects: free blocks skipped because they were too large
 * @evictions:	free blocks released to make room for a fresh block
 * @evicted_bytes: bytes of those blocks
 * @waits:	ALLOCs that had to wait
 * @wait_timeouts: waits that ended with ETIMEDOUT
 * @wait_interrupts: waits that ended with a signal
 * @waiters:	ALLOCs waiting now
 * @max_wait_ns: longest wait since the last reset
 * @handoffs:	freed blocks handed directly to a waiter
 * @shrinker_released_bytes: bytes released under memory pressure
 * @idle_trimmed_bytes: bytes released after idling idle_trim_ms
 * @zeroed_bytes: bytes cleared before a hand-out
 * @clients:	open files now
 * @last_reset_ns: CLOCK_MONOTONIC time of the last reset (or load)
 * @wait_hist:	log2 histogram of wait times in ns
 * @lost_wakeups: waits that found room only at their periodic re-check:
 *		room appeared and nobody served them. Always 0 unless the
 *		module has a bug (added after the first version)
 * @exported_bytes: bytes of exported blocks not yet back (a gauge: part
 *		of @in_use_bytes)
 * @exports:	blocks exported as a dma-buf (RESPOOL_IOC_EXPORT)
 * @export_returns: exported blocks back in the pool, their last dma-buf
 *		reference gone
 * @kept_bytes:	bytes of blocks clients keep for reuse (slot KEPT), a
 *		gauge: part of @in_use_bytes
 * @kept_blocks: how many
 * @takebacks:	kept blocks the kernel took back (for a waiter, a lowered
 *		capacity, the shrinker, idle trim or drain)
 */
struct respool_stats {
	__u32 size;
	__u32 __pad;
	__u64 capacity;
	__u64 in_use_bytes;
	__u64 reserve_bytes;
	__u64 pcpu_bytes;
	__u64 requested_bytes;
	__u64 peak_in_use_bytes;
	__u64 blocks_in_use;
	__u64 blocks_free;
	__u64 allocs;
	__u64 frees;
	__u64 pcpu_hits;
	__u64 reserve_hits;
	__u64 fresh_allocs;
	__u64 threshold_rejects;
	__u64 evictions;
	__u64 evicted_bytes;
	__u64 waits;
	__u64 wait_timeouts;
	__u64 wait_interrupts;
	__u64 waiters;
	__u64 max_wait_ns;
	__u64 handoffs;
	__u64 shrinker_released_bytes;
	__u64 idle_trimmed_bytes;
	__u64 zeroed_bytes;
	__u64 clients;
	__u64 last_reset_ns;
	__u64 wait_hist[RESPOOL_WAIT_HIST_BUCKETS];
	__u64 lost_wakeups;
	__u64 exported_bytes;
	__u64 exports;
	__u64 export_returns;
	__u64 kept_bytes;
	__u64 kept_blocks;
	__u64 takebacks;
};

/* Entries one batch ioctl takes at most. */
#define RESPOOL_BATCH_MAX	256

/**
 * struct respool_alloc_batch - argument of RESPOOL_IOC_ALLOC_BATCH
 * @allocs:	user pointer to an array of @count struct respool_alloc, each
 *		filled in and answered as by RESPOOL_IOC_ALLOC; an entry is
 *		RESPOOL_ALLOC_SIZE_VER0 bytes (a version with larger entries
 *		would add a field that gives their size)
 * @count:	entries, 1..RESPOOL_BATCH_MAX
 * @done:	out: entries served, from the first; the rest are untouched
 * @reserved:	must be zero
 *
 * Entries are served in order until one fails. If none was served the
 * ioctl fails with that entry's error; otherwise it succeeds, and @done
 * says how many were (as with a short write(): retry the rest to learn
 * the error). One call amortises the syscall over many blocks.
 */
struct respool_alloc_batch {
	__u64 allocs;
	__u32 count;
	__u32 done;
	__u64 reserved[2];
};

/**
 * struct respool_free_batch - argument of RESPOOL_IOC_FREE_BATCH
 * @handles:	user pointer to an array of @count __u64 handles
 * @count:	entries, 1..RESPOOL_BATCH_MAX
 * @done:	out: handles freed, from the first
 * @reserved:	must be zero
 *
 * As RESPOOL_IOC_ALLOC_BATCH: in order, stopping at the first handle that
 * cannot be freed (ENOENT).
 */
struct respool_free_batch {
	__u64 handles;
	__u32 count;
	__u32 done;
	__u64 reserved[2];
};

/**
 * struct respool_export - argument of RESPOOL_IOC_EXPORT
 * @handle:	in: a handle of this file
 * @fd_flags:	in: O_CLOEXEC, and O_RDWR or O_RDONLY (0): the dma-buf
 *		file's flags, as dma-heap's fd_flags; anything else EINVAL
 * @fd:		out: a new file descriptor of the dma-buf; must be 0 on
 *		the way in (as dma-heap's)
 * @reserved:	must be zero
 *
 * The block leaves the file's handle table, as by FREE, and lives on in
 * a dma-buf of its size: any process it is passed to may mmap it, and a
 * device driver may import it. Mappings the file already had keep
 * working. The block goes back to its pool when the dma-buf's last
 * reference (fd, mapping, importer) goes, and counts against the
 * exporting uid's user_quota until then. Fails with ENOENT for a handle
 * the file does not have and EMFILE when no descriptor is free; on any
 * error the block stays the file's, under the same handle.
 */
struct respool_export {
	__u64 handle;
	__u32 fd_flags;
	__s32 fd;
	__u64 reserved[2];
};

/*
 * The fast path: blocks a client keeps for reuse without a system call.
 *
 * Two pages shared with the kernel, each mapped once per open file:
 *
 * - The file's control page: mmap(NULL, RESPOOL_CTL_SIZE, PROT_READ |
 *   PROT_WRITE, MAP_SHARED, fd, RESPOOL_CTL_OFFSET), a struct respool_ctl.
 *   Once it is mapped, every ALLOC whose handle is below @nr_slots writes
 *   slots[handle] = RESPOOL_SLOT_INUSE | (gen << RESPOOL_SLOT_GEN_SHIFT),
 *   a generation new for that hand-out (never 0), before ALLOC returns.
 * - The pool's page: mmap(NULL, RESPOOL_SHARED_SIZE, PROT_READ, MAP_SHARED,
 *   fd, RESPOOL_SHARED_OFFSET), a struct respool_shared, read-only.
 *
 * A slot word is changed by compare-and-exchange on both sides:
 *
 *   INUSE -> KEPT	the client, instead of FREE: the block stays mapped
 *			and its handle stays; it still counts as the client's
 *   KEPT -> INUSE	the client, to reuse it (a hit, no system call)
 *   KEPT -> TAKEN	the kernel, taking it back: the handle is freed, the
 *			block's pages are unmapped from every mapping of the
 *			file (touching them is SIGBUS) and the block returns
 *			to the pool as by FREE
 *   KEPT -> KEPT|IDLE	the kernel's idle-trim pass; a block still
 *			KEPT|IDLE at the next pass is taken back
 *
 * A client keeps a block only while the pool page shows no waiters and no
 * reclaim: it writes KEPT, then a full memory barrier, then reads
 * @waiters and @reclaim; if either is non-zero it tries KEPT -> INUSE and
 * frees the block with FREE (or, if that exchange fails, the kernel took
 * it). The kernel publishes @waiters before it looks for kept blocks, so
 * no ALLOC waits while a block sits kept (see Documentation/design.rst).
 * The kernel never trusts the page: a slot that does not hold exactly
 * KEPT with the generation the kernel gave is not kept.
 */
#define RESPOOL_CTL_OFFSET	0ULL
#define RESPOOL_CTL_SIZE	4096
#define RESPOOL_SHARED_OFFSET	4096ULL
#define RESPOOL_SHARED_SIZE	4096

#define RESPOOL_CTL_VERSION	1

#define RESPOOL_SLOT_STATE_MASK	0x3U
#define RESPOOL_SLOT_NONE	0x0U	/* no block offered for keeping */
#define RESPOOL_SLOT_INUSE	0x1U
#define RESPOOL_SLOT_KEPT	0x2U
#define RESPOOL_SLOT_TAKEN	0x3U
#define RESPOOL_SLOT_IDLE	0x4U	/* with KEPT: seen by one trim pass */
#define RESPOOL_SLOT_GEN_SHIFT	3

/**
 * struct respool_ctl - a file's control page (read-write, shared)
 * @version:	RESPOOL_CTL_VERSION, written by the kernel
 * @nr_slots:	entries of @slots; handles 1 .. @nr_slots - 1 can be kept
 * @hits:	the client's own count of reuses without a system call; the
 *		kernel only reports it (client-get fast-hits)
 * @reserved:	zero
 * @slots:	one state word per handle
 */
struct respool_ctl {
	__u32 version;
	__u32 nr_slots;
	__u64 hits;
	__u64 reserved[6];
	__u32 slots[];
};

#define RESPOOL_CTL_NR_SLOTS	((RESPOOL_CTL_SIZE - 64) / 4)

/**
 * struct respool_shared - the pool's page (read-only, shared by its files)
 * @version:	RESPOOL_CTL_VERSION
 * @waiters:	ALLOCs waiting for room now; while non-zero, keep nothing
 * @reclaim:	non-zero while the pool wants memory back (its capacity was
 *		lowered below its use); keep nothing
 * @reserved:	zero
 */
struct respool_shared {
	__u32 version;
	__u32 waiters;
	__u32 reclaim;
	__u32 reserved[13];
};

/*
 * The size of each ioctl struct's first version. A struct only ever grows
 * at its end; a caller's struct smaller than this is refused with ENOTTY.
 */
#define RESPOOL_ALLOC_SIZE_VER0		56	/* up to reserved[2] */
#define RESPOOL_FREE_SIZE_VER0		16	/* up to reserved */
#define RESPOOL_INFO_SIZE_VER0		56	/* up to reserved[2] */
#define RESPOOL_STATS_SIZE_VER0		736	/* up to wait_hist[64] */
#define RESPOOL_ALLOC_BATCH_SIZE_VER0	32	/* up to reserved[2] */
#define RESPOOL_FREE_BATCH_SIZE_VER0	32	/* up to reserved[2] */
#define RESPOOL_EXPORT_SIZE_VER0	32	/* up to reserved[2] */

#define RESPOOL_IOC_MAGIC	0xB9

#define RESPOOL_IOC_ALLOC	_IOWR(RESPOOL_IOC_MAGIC, 0x0, struct respool_alloc)
#define RESPOOL_IOC_FREE	_IOW(RESPOOL_IOC_MAGIC, 0x1, struct respool_free)
#define RESPOOL_IOC_INFO	_IOWR(RESPOOL_IOC_MAGIC, 0x2, struct respool_info)
#define RESPOOL_IOC_STATS	_IOWR(RESPOOL_IOC_MAGIC, 0x3, struct respool_stats)
#define RESPOOL_IOC_ALLOC_BATCH	_IOWR(RESPOOL_IOC_MAGIC, 0x4, struct respool_alloc_batch)
#define RESPOOL_IOC_FREE_BATCH	_IOWR(RESPOOL_IOC_MAGIC, 0x5, struct respool_free_batch)
#define RESPOOL_IOC_EXPORT	_IOWR(RESPOOL_IOC_MAGIC, 0x6, struct respool_export)

#include <linux/respool_netlink.h>

#endif /* _UAPI_LINUX_RESPOOL_H */
