// SPDX-License-Identifier: GPL-2.0
/*
 * pools.c - the module's pools: "default" and the named ones.
 *
 * "default" exists from load to unload, id 0, with /dev/respool. Admins
 * create others at run time (pool-new), each with its id, its name, its
 * own settings, caches, reserve, queue and clients, and its device node
 * /dev/respool-NAME (cdev.c); pool-del deletes one that no file has open.
 * Pools share nothing but the slab caches of their metadata and the
 * module-wide @respool_total_capacity, which bounds the sum of their
 * capacities.
 *
 * respool_pools_lock protects the registry (the xarray), the sum of the
 * capacities and its bound, every pool's capacity and node (so the sum is
 * exact), and the moment a pool dies. Lookups take it briefly and return
 * a reference (pool->ref), which keeps the pool's memory, not its place
 * in the registry: a request may act on a pool that pool-del took out
 * meanwhile, and whatever it added is released with the last reference.
 * Nothing on the ALLOC/FREE paths takes it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "respool.h"
#include "pool.h"
#include "cdev.h"
#include "inject.h"
#include "pools.h"

/* The registry, the capacities' sum and bound, pools' node and death. */
static DEFINE_MUTEX(respool_pools_lock);
/* id -> pool, every live pool; changed under respool_pools_lock. */
static DEFINE_XARRAY_ALLOC(respool_pools);
/*
 * Sum of the live pools' capacities, and its bound (0 for none): written
 * under respool_pools_lock, read there or with READ_ONCE() for reports
 * (respool_pools_total() runs from a config change, under the lock).
 */
static u64 respool_capacity_sum;
static u64 respool_total_capacity;
/* "default": set at init, cleared at exit; never deleted. */
static struct respool_pool *respool_default_pool;
/* The events hook every pool gets (genl.c) [respool_pools_lock]. */
static void (*respool_pools_notify)(struct respool_pool *pool, int event,
				    u64 value);

/**
 * respool_pools_name_valid() - 1 to 31 characters of [a-z0-9_-]
 * @name:	a NUL-terminated string
 *
 * Names become device names (/dev/respool-NAME) and shell words: nothing
 * that a path, a udev rule or a shell would read differently.
 *
 * Return: true if @name may name a pool.
 */
bool respool_pools_name_valid(const char *name)
{
	size_t len = strnlen(name, RESPOOL_NAME_MAX + 1);
	size_t i;

	if (!len || len > RESPOOL_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/**
 * respool_pools_node_valid() - may a pool take its pages from @node?
 * @node:	NUMA_NO_NODE, or a node number
 *
 * Return: true for NUMA_NO_NODE and for a node that has memory.
 */
bool respool_pools_node_valid(int node)
{
	if (node == NUMA_NO_NODE)
		return true;
	return node >= 0 && node < MAX_NUMNODES && node_state(node, N_MEMORY);
}

static void respool_pools_release(struct kref *ref)
{
	respool_pool_destroy(container_of(ref, struct respool_pool, ref));
}

/**
 * respool_pools_put() - drop a reference from respool_pools_get*()
 * @pool:	the pool
 *
 * The last one destroys the pool: it is out of the registry then.
 *
 * Context: process context, may sleep.
 */
void respool_pools_put(struct respool_pool *pool)
{
	kref_put(&pool->ref, respool_pools_release);
}

/**
 * respool_pools_get() - the pool of an id, with a reference
 * @id:		0 for "default"
 *
 * Return: the pool, or NULL when no live pool has that id.
 */
struct respool_pool *respool_pools_get(u32 id)
{
	struct respool_pool *pool;

	mutex_lock(&respool_pools_lock);
	pool = xa_load(&respool_pools, id);
	if (pool)
		kref_get(&pool->ref);
	mutex_unlock(&respool_pools_lock);
	return pool;
}

static struct respool_pool *respool_pools_find_locked(const char *name)
{
	struct respool_pool *pool;
	unsigned long id;

	lockdep_assert_held(&respool_pools_lock);
	xa_for_each(&respool_pools, id, pool)
		if (!strcmp(pool->name, name))
			return pool;
	return NULL;
}

/**
 * respool_pools_get_by_name() - the pool of a name, with a reference
 * @name:	a NUL-terminated string
 *
 * Return: the pool, or NULL when no live pool has that name.
 */
struct respool_pool *respool_pools_get_by_name(const char *name)
{
	struct respool_pool *pool;

	mutex_lock(&respool_pools_lock);
	pool = respool_pools_find_locked(name);
	if (pool)
		kref_get(&pool->ref);
	mutex_unlock(&respool_pools_lock);
	return pool;
}

/**
 * respool_pools_get_next() - the live pool with the lowest id >= *@id
 * @id:		in: where to start; out: the pool's id
 *
 * For dumps, which resume by id between their parts.
 *
 * Return: the pool with a reference, or NULL when there is none.
 */
struct respool_pool *respool_pools_get_next(u32 *id)
{
	struct respool_pool *pool;
	unsigned long idx = *id;

	mutex_lock(&respool_pools_lock);
	pool = xa_find(&respool_pools, &idx, RESPOOL_POOLS_MAX, XA_PRESENT);
	if (pool) {
		kref_get(&pool->ref);
		*id = idx;
	}
	mutex_unlock(&respool_pools_lock);
	return pool;
}

/**
 * respool_pools_default() - "default", the pool of /dev/respool
 *
 * Return: the pool, which lives from load to unload (no reference taken).
 */
struct respool_pool *respool_pools_default(void)
{
	return respool_default_pool;
}

/**
 * respool_pools_total() - the module-wide bound
 * @total:	out: total_capacity, 0 for none
 * @left:	out: what it leaves to the pools' capacities (U64_MAX: none)
 *
 * A report, which takes no lock: the two values may come from either
 * side of a change running meanwhile.
 */
void respool_pools_total(u64 *total, u64 *left)
{
	u64 sum = READ_ONCE(respool_capacity_sum);

	*total = READ_ONCE(respool_total_capacity);
	*left = !*total ? U64_MAX : *total > sum ? *total - sum : 0;
}

/* Would the pools' capacities, @old of them replaced by @new, fit? */
static bool respool_pools_fit_locked(u64 total, u64 old, u64 new,
				     struct respool_pools_error *err)
{
	u64 others = respool_capacity_sum - old;

	lockdep_assert_held(&respool_pools_lock);
	if (!total || (others <= total && new <= total - others))
		return true;
	err->left = others < total ? total - others : 0;
	return false;
}

/**
 * respool_pools_new() - create a pool and its device node
 * @p:		what to create
 * @err:	out: the reason of a refusal
 *
 * All or nothing: on error no pool, id or node is left.
 *
 * Context: process context, may sleep.
 * Return: the new pool's id, or -EINVAL (bad name or node), -EEXIST (the
 * name is taken), -ENOSPC (past total_capacity, or no id left), -ENOMEM
 * or an error of the device's creation.
 */
int respool_pools_new(const struct respool_pool_params *p,
		      struct respool_pools_error *err)
{
	struct respool_pool *pool;
	u32 id;
	int ret;

	if (!respool_pools_name_valid(p->name)) {
		err->msg = "pool-name: 1 to 31 characters of a-z, 0-9, _ and -";
		return -EINVAL;
	}
	if (!respool_pools_node_valid(p->node)) {
		err->msg = "node: not -1 nor a NUMA node with memory";
		return -EINVAL;
	}

	pool = respool_pool_create(&p->cfg, p->name, p->node);
	if (IS_ERR(pool))
		return PTR_ERR(pool);

	mutex_lock(&respool_pools_lock);
	if (respool_pools_find_locked(p->name)) {
		err->msg = "pool-name: a pool of that name exists";
		ret = -EEXIST;
		goto err_unlock;
	}
	if (!respool_pools_fit_locked(respool_total_capacity, 0,
				      p->cfg.capacity, err)) {
		err->msg = "capacity: more than total-capacity has left";
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = xa_alloc(&respool_pools, &id, pool,
		       XA_LIMIT(1, RESPOOL_POOLS_MAX), GFP_KERNEL);
	if (ret) {
		if (ret == -EBUSY) {
			err->msg = "no pool id left (at most 255 pools besides default)";
			ret = -ENOSPC;
		}
		goto err_unlock;
	}
	pool->id = id;
	pool->notify = respool_pools_notify;
	pool->owner = p->uid;
	pool->group = p->gid;
	pool->mode = p->mode;
	ret = respool_cdev_add(pool, p->uid, p->gid, p->mode);
	if (ret)
		goto err_erase;
	WRITE_ONCE(respool_capacity_sum, respool_capacity_sum + p->cfg.capacity);
	mutex_unlock(&respool_pools_lock);

	respool_pool_notify(pool, RESPOOL_EVENT_POOL_NEW, 0);
	return id;

err_erase:
	xa_erase(&respool_pools, id);
err_unlock:
	mutex_unlock(&respool_pools_lock);
	respool_pools_put(pool);
	return ret;
}

/**
 * respool_pools_del() - delete a pool that no file has open
 * @pool:	the pool, with the caller's reference (which it keeps)
 * @err:	out: the reason of a refusal
 *
 * Takes the pool out of the registry and removes its device node, so
 * that no file can open it any more, and releases its free blocks. Its
 * memory goes with the last reference.
 *
 * Context: process context, may sleep.
 * Return: 0, -EPERM for "default", -EBUSY while files are open on it
 * or any of its blocks is exported, -ENOENT when another pool-del was
 * first.
 */
int respool_pools_del(struct respool_pool *pool,
		      struct respool_pools_error *err)
{
	mutex_lock(&respool_pools_lock);
	if (pool == respool_default_pool) {
		mutex_unlock(&respool_pools_lock);
		err->msg = "the default pool cannot be deleted";
		return -EPERM;
	}
	if (pool->dead) {
		mutex_unlock(&respool_pools_lock);
		err->msg = "no such pool";
		return -ENOENT;
	}
	/* open() counts itself under clients_lock and fails once @dead. */
	mutex_lock(&pool->clients_lock);
	if (pool->nr_clients) {
		err->files = pool->nr_clients;
		mutex_unlock(&pool->clients_lock);
		mutex_unlock(&respool_pools_lock);
		err->msg = "files are open on the pool";
		return -EBUSY;
	}
	/*
	 * Exports are made by open files and counted before their EXPORT
	 * returns, so with no file open, no new one can start.
	 */
	spin_lock(&pool->lock);
	err->exported = pool->exported_blocks;
	spin_unlock(&pool->lock);
	if (err->exported) {
		mutex_unlock(&pool->clients_lock);
		mutex_unlock(&respool_pools_lock);
		err->msg = "blocks of the pool are exported";
		return -EBUSY;
	}
	pool->dead = true;
	mutex_unlock(&pool->clients_lock);
	xa_erase(&respool_pools, pool->id);
	WRITE_ONCE(respool_capacity_sum,
		   respool_capacity_sum - pool->cfg.capacity);
	mutex_unlock(&respool_pools_lock);

	respool_pool_notify(pool, RESPOOL_EVENT_POOL_DEL, 0);
	respool_cdev_del(pool);
	respool_pool_drain(pool);
	/* The registry's reference. */
	respool_pools_put(pool);
	return 0;
}

/**
 * respool_pools_set_config() - change a pool's settings and node, and
 *				maybe the module-wide bound
 * @pool:	the pool
 * @cfg:	its new settings, validated (config.c)
 * @node:	its new node, checked with respool_pools_node_valid()
 * @total:	the new total_capacity, or NULL to keep it
 * @err:	out: the reason of a refusal
 *
 * All or nothing: the bound and the capacity are checked together, then
 * both applied.
 *
 * Context: process context, may sleep.
 * Return: 0, -ENOSPC when the capacities would pass the bound, -ENOENT
 * when the pool was deleted meanwhile, or respool_pool_set_config()'s.
 */
int respool_pools_set_config(struct respool_pool *pool,
			     const struct respool_config *cfg, int node,
			     const u64 *total, struct respool_pools_error *err)
{
	u64 bound = total ? *total : respool_total_capacity;
	u64 old;
	int ret;

	mutex_lock(&respool_pools_lock);
	if (pool->dead) {
		err->msg = "no such pool";
		ret = -ENOENT;
		goto out_unlock;
	}
	old = pool->cfg.capacity;
	if (!respool_pools_fit_locked(bound, old, cfg->capacity, err)) {
		err->msg = "capacity: more than total-capacity has left";
		if (cfg->capacity == old) {
			/* Only the bound moved: say what the pools have. */
			err->msg = "total-capacity: less than the pools' capacities";
			err->left = U64_MAX;
			err->files = 0;
			err->sum = respool_capacity_sum;
		}
		ret = -ENOSPC;
		goto out_unlock;
	}
	/* Before the change, whose event carries it. */
	WRITE_ONCE(pool->node, node);
	ret = respool_pool_set_config(pool, cfg);
	if (ret)
		goto out_unlock;
	WRITE_ONCE(respool_capacity_sum,
		   respool_capacity_sum + cfg->capacity - old);
	WRITE_ONCE(respool_total_capacity, bound);
out_unlock:
	mutex_unlock(&respool_pools_lock);
	return ret;
}

/**
 * respool_pools_set_notify() - hook every pool's events, or unhook them
 * @notify:	the hook (genl.c), or NULL
 *
 * Context: process context; the caller waits for hooks in flight.
 */
void respool_pools_set_notify(void (*notify)(struct respool_pool *pool,
					     int event, u64 value))
{
	struct respool_pool *pool;
	unsigned long id;

	mutex_lock(&respool_pools_lock);
	respool_pools_notify = notify;
	xa_for_each(&respool_pools, id, pool)
		WRITE_ONCE(pool->notify, notify);
	mutex_unlock(&respool_pools_lock);
}

/**
 * respool_pools_init() - create "default"
 * @cfg:	its settings (the module parameters), validated
 * @node:	its node, checked
 * @total_capacity: the bound of the pools' capacities, 0 for none; at
 *		least @cfg->capacity
 * @mode:	permission bits of /dev/respool
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int respool_pools_init(const struct respool_config *cfg, int node,
		       u64 total_capacity, umode_t mode)
{
	struct respool_pool *pool;
	int ret;

	pool = respool_pool_create(cfg, "default", node);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	pool->id = 0;
	pool->owner = GLOBAL_ROOT_UID;
	pool->group = GLOBAL_ROOT_GID;
	pool->mode = mode;
	ret = xa_insert(&respool_pools, 0, pool, GFP_KERNEL);
	if (ret) {
		respool_pools_put(pool);
		return ret;
	}
	respool_capacity_sum = cfg->capacity;
	respool_total_capacity = total_capacity;
	respool_default_pool = pool;
	return 0;
}

/**
 * respool_pools_exit() - delete every named pool
 *
 * No file is open on any pool: each holds the module.
 *
 * Context: module exit, after the netlink family is gone.
 */
void respool_pools_exit(void)
{
	struct respool_pool *pool;
	struct respool_pools_error err;
	u32 id = 1;

	while ((pool = respool_pools_get_next(&id))) {
		WARN_ON_ONCE(respool_pools_del(pool, &err));
		respool_pools_put(pool);
		id++;
	}
}

/**
 * respool_pools_release_default() - destroy "default"
 *
 * Context: module exit, after /dev/respool is gone.
 */
void respool_pools_release_default(void)
{
	struct respool_pool *pool = respool_default_pool;

	xa_erase(&respool_pools, 0);
	respool_default_pool = NULL;
	respool_pools_put(pool);
	WARN_ON_ONCE(!xa_empty(&respool_pools));
}

#ifdef RESPOOL_CHECK_INVARIANTS
/* debugfs respool/check: a write checks every pool's invariants now. */
static ssize_t respool_check_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct respool_pool *pool;
	u32 id = 0;

	while ((pool = respool_pools_get_next(&id))) {
		respool_check_pool(pool);
		respool_pools_put(pool);
		id++;
	}
	return count;
}

static const struct file_operations respool_check_fops = {
	.owner	= THIS_MODULE,
	.write	= respool_check_write,
	.llseek	= noop_llseek,
};

/**
 * respool_check_init() - the test build's debugfs respool/check
 */
void respool_check_init(void)
{
	debugfs_create_file("check", 0200, respool_debugfs_dir(), NULL,
			    &respool_check_fops);
}
#endif
