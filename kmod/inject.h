/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inject.h - named points that hold a race window open, for the tests.
 *
 * Compiled only into the test build of the module (RESPOOL_TEST=y, which
 * tools/build-module.sh sets for the VM); elsewhere respool_inject() is an
 * empty inline and the points cost nothing. A test arms a point through
 * debugfs (respool/inject/<name>), waits until a task holds there, does
 * the racing operation, then releases it; see selftests/respool/race_test.c.
 */
#ifndef _RESPOOL_INJECT_H
#define _RESPOOL_INJECT_H

enum respool_inject_point {
	/* FREE into a CPU cache, after its checks, the CPU lock held. */
	RESPOOL_INJ_PCPU_PUT,
	/* FREE into a CPU cache, before taking the CPU lock (may sleep). */
	RESPOOL_INJ_PCPU_PUT_UNLOCKED,
	/* ALLOC about to queue its waiter, no lock held (may sleep). */
	RESPOOL_INJ_WAIT_QUEUE,
	/* open() of a pool's node, before it counts itself (may sleep). */
	RESPOOL_INJ_POOL_OPEN,
	/* EXPORT, its handle held out of reach, no dma-buf yet (may sleep). */
	RESPOOL_INJ_EXPORT,
	/* A waiter published itself, before it looks at kept blocks. */
	RESPOOL_INJ_TAKEBACK_SCAN,
	/* Take-back won its slot and took the handle, before unmapping. */
	RESPOOL_INJ_TAKEBACK,
	/* A block's fault holds map_lock, block looked up, before insert. */
	RESPOOL_INJ_FAULT,
	RESPOOL_INJ_NR,
};

#ifdef RESPOOL_TEST
static inline bool respool_test_build(void) { return true; }
struct dentry *respool_debugfs_dir(void);
void respool_inject(enum respool_inject_point p);
int respool_inject_init(void);
void respool_inject_exit(void);
#else
static inline bool respool_test_build(void) { return false; }
static inline void respool_inject(enum respool_inject_point p) { }
static inline int respool_inject_init(void) { return 0; }
static inline void respool_inject_exit(void) { }
#endif

#endif /* _RESPOOL_INJECT_H */
