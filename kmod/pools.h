/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pools.h - the module's pools (pools.c): names, ids, creation and
 * deletion, the bound on the sum of their capacities. Above pool.h and
 * cdev.h (each named pool has a device node); used by genl.c and main.c.
 */
#ifndef _RESPOOL_POOLS_H
#define _RESPOOL_POOLS_H

#include <linux/uidgid.h>

#include "respool.h"

/* Pools besides "default": ids 1..RESPOOL_POOLS_MAX. */
#define RESPOOL_POOLS_MAX	255

/**
 * struct respool_pool_params - what pool-new asks for
 * @name:	the name, checked by respool_pools_new()
 * @cfg:	settings, already validated (config.c)
 * @node:	NUMA node, NUMA_NO_NODE or an online node with memory
 * @uid:	owner of the device node
 * @gid:	group of the device node
 * @mode:	permission bits of the device node, 1..0777
 */
struct respool_pool_params {
	const char *name;
	struct respool_config cfg;
	int node;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
};

/**
 * struct respool_pools_error - why pools.c refused, for the caller's ack
 * @msg:	the reason in words, a static string
 * @left:	ENOSPC: bytes total_capacity has left (without the pool
 *		being changed); for a message with numbers
 * @sum:	ENOSPC of total-capacity: the pools' capacities together
 * @files:	EBUSY: files open on the pool
 * @exported:	EBUSY: its blocks exported as dma-bufs, not yet back
 */
struct respool_pools_error {
	const char *msg;
	u64 left;
	u64 sum;
	unsigned int files;
	u64 exported;
};

int respool_pools_init(const struct respool_config *cfg, int node,
		       u64 total_capacity, umode_t mode);
void respool_pools_exit(void);
void respool_pools_release_default(void);
struct respool_pool *respool_pools_default(void);
void respool_pools_set_notify(void (*notify)(struct respool_pool *pool,
					     int event, u64 value));

struct respool_pool *respool_pools_get(u32 id);
struct respool_pool *respool_pools_get_by_name(const char *name);
struct respool_pool *respool_pools_get_next(u32 *id);
void respool_pools_put(struct respool_pool *pool);

bool respool_pools_name_valid(const char *name);
bool respool_pools_node_valid(int node);
int respool_pools_new(const struct respool_pool_params *p,
		      struct respool_pools_error *err);
int respool_pools_del(struct respool_pool *pool,
		      struct respool_pools_error *err);
int respool_pools_set_config(struct respool_pool *pool,
			     const struct respool_config *cfg, int node,
			     const u64 *total, struct respool_pools_error *err);
void respool_pools_total(u64 *total, u64 *left);

#ifdef RESPOOL_CHECK_INVARIANTS
void respool_check_init(void);
#else
static inline void respool_check_init(void) { }
#endif

#endif /* _RESPOOL_POOLS_H */
