/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pool.h - the pool's policy (pool.c) and its waiting (wait.c), above the
 * per-CPU caches and the reserve. The first part is what the top layer
 * (cdev, mmap, genl, main) calls; the second is shared by pool.c and
 * wait.c only.
 */
#ifndef _RESPOOL_POOL_H
#define _RESPOOL_POOL_H

#include "respool.h"

/* For the top layer. */
int respool_pool_caches_init(void);
void respool_pool_caches_exit(void);
struct respool_pool *respool_pool_create(const struct respool_config *cfg,
					 const char *name, int node);
void respool_pool_destroy(struct respool_pool *pool);
int respool_pool_set_config(struct respool_pool *pool,
			    const struct respool_config *cfg);
void respool_pool_get_config(struct respool_pool *pool,
			     struct respool_config *cfg);
struct respool_block *respool_pool_alloc(struct respool_pool *pool,
					 struct respool_client *client,
					 struct respool_request *req);
void respool_pool_free(struct respool_pool *pool, struct respool_block *b);
void respool_pool_exported(struct respool_pool *pool, struct respool_block *b);
void respool_pool_free_exported(struct respool_pool *pool,
				struct respool_block *b);
u64 respool_pool_need(struct respool_pool *pool, u64 size);
void respool_pool_stats(struct respool_pool *pool, struct respool_stats *st);
void respool_pool_reset_stats(struct respool_pool *pool);
int respool_pool_prefill(struct respool_pool *pool, u64 size, u32 count);
u64 respool_pool_drain(struct respool_pool *pool);
bool respool_pool_would_wait(struct respool_pool *pool, u64 size);
unsigned int respool_pool_takeback(struct respool_pool *pool,
				   enum respool_takeback_why why);
void respool_pool_count_takebacks(struct respool_pool *pool, unsigned int n);
void respool_pool_fast_client(struct respool_pool *pool, int delta);
void respool_wait_abort_client(struct respool_pool *pool,
			       struct respool_client *client,
			       struct file *file);

/* Between pool.c and wait.c. */
void respool_pool_notify(struct respool_pool *pool, int event, u64 value);
void respool_poll_wake(struct respool_pool *pool);
void respool_pool_unlock(struct respool_pool *pool, struct list_head *released)
	__releases(&pool->lock);
struct respool_block *respool_take_locked(struct respool_pool *pool, u64 need,
					  u64 max_size, bool *fresh,
					  bool *rejected,
					  struct list_head *released);
void respool_put_free_locked(struct respool_pool *pool,
			     struct respool_block *b,
			     struct list_head *released);
struct respool_block *respool_wait_for_room(struct respool_pool *pool,
					    struct respool_client *client,
					    struct respool_request *req,
					    enum respool_source *src);
bool respool_wait_handoff_locked(struct respool_pool *pool,
				 struct respool_block *b);
unsigned int respool_wait_serve_locked(struct respool_pool *pool,
				       struct list_head *released);
void respool_wait_reexamine_locked(struct respool_pool *pool);
void respool_wait_account_locked(struct respool_pool *pool, u64 ns);

/* check.c: the debug build's invariant checker, at every unlock */
#ifdef RESPOOL_CHECK_INVARIANTS
void respool_check_locked(struct respool_pool *pool);
void respool_check_pool(struct respool_pool *pool);
#else
static inline void respool_check_locked(struct respool_pool *pool) { }
#endif

#endif /* _RESPOOL_POOL_H */
