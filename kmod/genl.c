// SPDX-License-Identifier: GPL-2.0
/*
 * genl.c - the generic netlink family "respool".
 *
 * The family, its attributes, policies and op table are specified in
 * Documentation/netlink/specs/respool.yaml; genl-gen.[ch] and
 * uapi/linux/respool_netlink.h are generated from it by tools/ynl-gen.sh
 * (the kernel's ynl-gen-c.py). This file holds only the handlers, the
 * fill functions and the family itself, as net/core/netdev-genl.c does.
 *
 * The spec uses "kernel-policy: per-op", which gives a struct genl_ops
 * table with per-op policies: 6.1 has no split ops. For a legacy-protocol
 * family the generator leaves the family struct to us, and defines the
 * multicast group table static, so genl-gen.c is compiled as part of this
 * file rather than on its own.
 *
 * Every command acts on one pool, named by pool-id or pool-name, or on
 * "default" without either (respool_nl_pool()); pool-get, cpu-get and
 * client-get also dump every pool, or one. A request holds a reference to
 * its pool while it runs (pools.c), so pool-del never frees a pool under
 * it.
 *
 * Reads take no lock that the ALLOC/FREE fast path takes for long: pool
 * stats come from respool_pool_stats() (per-CPU sums), per-CPU counters
 * are read with READ_ONCE(), and a CPU's cache lock is held only to copy
 * the sizes of the blocks it caches.
 *
 * The family lives in the initial network namespace only (the pool is a
 * host-wide resource) and the admin commands need CAP_SYS_ADMIN in the
 * initial user namespace, on top of GENL_ADMIN_PERM (CAP_NET_ADMIN).
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "compat.h"
#include "respool.h"
#include "pool.h"
#include "pools.h"
#include "pcpu.h"
#include "config.h"
#include "stats.h"
#include "cdev.h"
#include "keep.h"
#include "genl.h"
#include "genl-gen.h"
#include "genl-gen.c"

static struct genl_family respool_nl_family;

/*
 * Notifications may race with module unload from the shrinker, which
 * outlives the family: respool_genl_notify() sends only while @live is set,
 * inside an RCU read section that respool_genl_exit() waits for.
 */
static bool respool_genl_live;

/* Serialises config-set's read-overlay-write of the settings. */
static DEFINE_MUTEX(respool_genl_config_lock);

static int respool_nl_put_u64(struct sk_buff *msg, int attr, u64 val)
{
	return nla_put_u64_64bit(msg, attr, val, RESPOOL_A_POOL_PAD);
}

/*
 * The pool a request names by @id_attr or @name_attr of @attrs, with a
 * reference; "default" when it names none. An unknown pool is ENOENT,
 * two attributes naming different pools EINVAL.
 */
static struct respool_pool *respool_nl_pool_of(struct nlattr **attrs,
					       int id_attr, int name_attr,
					       struct netlink_ext_ack *extack)
{
	struct nlattr *ida = attrs[id_attr], *namea = attrs[name_attr];
	struct respool_pool *pool;

	if (!ida && !namea)
		return respool_pools_get(0);
	pool = ida ? respool_pools_get(nla_get_u32(ida)) :
		     respool_pools_get_by_name(nla_data(namea));
	if (!pool) {
		NL_SET_ERR_MSG_ATTR(extack, ida ?: namea, "no such pool");
		return ERR_PTR(-ENOENT);
	}
	if (ida && namea && strcmp(pool->name, nla_data(namea))) {
		respool_pools_put(pool);
		NL_SET_ERR_MSG_ATTR(extack, namea,
				    "pool-id and pool-name name different pools");
		return ERR_PTR(-EINVAL);
	}
	return pool;
}

/* The pool of a request of the pool set. */
static struct respool_pool *respool_nl_pool(struct genl_info *info)
{
	return respool_nl_pool_of(info->attrs, RESPOOL_A_POOL_POOL_ID,
				  RESPOOL_A_POOL_POOL_NAME, info->extack);
}

/*
 * A dump's filter: in cb->args[@arg], 0 for every pool, else the pool's
 * id + 1. Found at the first part of the dump, kept by id afterwards: a
 * pool deleted meanwhile ends the dump.
 */
static int respool_nl_dump_filter(struct netlink_callback *cb, int id_attr,
				  int name_attr, int arg)
{
	struct nlattr **attrs = respool_dump_attrs(cb);
	struct respool_pool *pool;

	if (cb->args[arg] || !attrs || (!attrs[id_attr] && !attrs[name_attr]))
		return 0;
	pool = respool_nl_pool_of(attrs, id_attr, name_attr, cb->extack);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	cb->args[arg] = (long)pool->id + 1;
	respool_pools_put(pool);
	return 0;
}

/*
 * The next pool of a dump with filter cb->args[@filter] from id
 * cb->args[@next] on, with a reference; NULL at the end.
 */
static struct respool_pool *respool_nl_dump_pool(struct netlink_callback *cb,
						 int filter, int next)
{
	u32 id = cb->args[next];
	struct respool_pool *pool;

	if (cb->args[filter]) {
		if (id > cb->args[filter] - 1)
			return NULL;
		id = cb->args[filter] - 1;
	}
	pool = respool_pools_get_next(&id);
	if (pool && cb->args[filter] && pool->id != cb->args[filter] - 1) {
		respool_pools_put(pool);
		return NULL;
	}
	if (pool && id != cb->args[next]) {
		/* A new pool: start its items from the beginning. */
		cb->args[next] = id;
		cb->args[next + 1] = 0;
	}
	return pool;
}

/* The pool's id and name: every record and event about a pool has them. */
static int respool_nl_fill_pool_id(struct sk_buff *msg,
				   struct respool_pool *pool)
{
	return nla_put_u32(msg, RESPOOL_A_POOL_POOL_ID, pool->id) ||
	       nla_put_string(msg, RESPOOL_A_POOL_POOL_NAME, pool->name);
}

/* Every setting of respool_settings[], in its order. */
static int respool_nl_fill_config(struct sk_buff *msg,
				  const struct respool_config *cfg)
{
	const struct respool_setting *s;
	unsigned int i;
	u64 val;

	for (i = 0; i < respool_nr_settings; i++) {
		s = &respool_settings[i];
		val = respool_setting_get(cfg, s);
		if (s->size == sizeof(u64) ? respool_nl_put_u64(msg, s->attr, val) :
					     nla_put_u32(msg, s->attr, val))
			return -EMSGSIZE;
	}
	return 0;
}

/* The bytes the pool owns on each node that holds any. */
static int respool_nl_fill_node_bytes(struct sk_buff *msg,
				      struct respool_pool *pool)
{
	struct nlattr *nest;
	int nid;
	s64 bytes;

	for (nid = 0; nid < nr_node_ids; nid++) {
		bytes = atomic64_read(&pool->node_bytes[nid]);
		if (bytes <= 0)
			continue;
		nest = nla_nest_start(msg, RESPOOL_A_STATS_NODE_BYTES);
		if (!nest ||
		    nla_put_u32(msg, RESPOOL_A_NODE_BYTES_NODE, nid) ||
		    nla_put_u64_64bit(msg, RESPOOL_A_NODE_BYTES_BYTES, bytes,
				      RESPOOL_A_NODE_BYTES_PAD))
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
	}
	return 0;
}

static int respool_nl_fill_stats(struct sk_buff *msg,
				 const struct respool_stats *st,
				 struct respool_pool *pool)
{
	const struct respool_stat_desc *d;
	struct nlattr *nest, *bucket;
	unsigned int i;

	nest = nla_nest_start(msg, RESPOOL_A_POOL_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < RESPOOL_NR_STATS; i++) {
		const u64 *val;

		d = &respool_stat_table[i];
		val = (const void *)st + d->off;
		if (nla_put_u64_64bit(msg, d->attr, *val, RESPOOL_A_STATS_PAD))
			goto err_cancel;
	}
	for (i = 0; i < RESPOOL_WAIT_HIST_BUCKETS; i++) {
		if (!st->wait_hist[i])
			continue;
		bucket = nla_nest_start(msg, RESPOOL_A_STATS_WAIT_HIST);
		if (!bucket ||
		    nla_put_u32(msg, RESPOOL_A_HIST_BUCKET_LOG2_NS, i) ||
		    nla_put_u64_64bit(msg, RESPOOL_A_HIST_BUCKET_COUNT,
				      st->wait_hist[i],
				      RESPOOL_A_HIST_BUCKET_PAD))
			goto err_cancel;
		nla_nest_end(msg, bucket);
	}
	if (respool_nl_fill_node_bytes(msg, pool))
		goto err_cancel;
	nla_nest_end(msg, nest);
	return 0;

err_cancel:
	nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

/* One pool-get record: identity, the module-wide bound, settings, stats. */
static int respool_nl_fill_pool(struct sk_buff *msg,
				struct respool_pool *pool,
				struct respool_stats *st, u32 portid, u32 seq,
				int flags)
{
	char dev[RESPOOL_DEV_NAME_LEN];
	struct respool_config cfg;
	u64 total, left;
	void *hdr;

	respool_pool_get_config(pool, &cfg);
	st->size = sizeof(*st);
	respool_pool_stats(pool, st);
	respool_keep_stats(pool, st);
	respool_pools_total(&total, &left);

	hdr = genlmsg_put(msg, portid, seq, &respool_nl_family, flags,
			  RESPOOL_CMD_POOL_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (respool_nl_fill_pool_id(msg, pool) ||
	    nla_put_string(msg, RESPOOL_A_POOL_DEV_NAME,
			   respool_cdev_name(pool, dev)) ||
	    nla_put_s32(msg, RESPOOL_A_POOL_NODE, READ_ONCE(pool->node)) ||
	    nla_put_u32(msg, RESPOOL_A_POOL_OWNER,
			from_kuid_munged(&init_user_ns, pool->owner)) ||
	    nla_put_u32(msg, RESPOOL_A_POOL_GROUP,
			from_kgid_munged(&init_user_ns, pool->group)) ||
	    nla_put_u32(msg, RESPOOL_A_POOL_MODE, pool->mode) ||
	    respool_nl_put_u64(msg, RESPOOL_A_POOL_TOTAL_CAPACITY, total) ||
	    (total && respool_nl_put_u64(msg, RESPOOL_A_POOL_TOTAL_CAPACITY_LEFT,
					 left)) ||
	    respool_nl_fill_config(msg, &cfg) ||
	    respool_nl_fill_stats(msg, st, pool))
		goto err_cancel;
	genlmsg_end(msg, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

int respool_nl_pool_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool;
	struct respool_stats *st;
	struct sk_buff *msg;
	int err = -ENOMEM;

	pool = respool_nl_pool(info);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		goto out_put;
	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out_free_stats;
	err = respool_nl_fill_pool(msg, pool, st, info->snd_portid,
				   info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		goto out_free_stats;
	}
	err = genlmsg_reply(msg, info);
out_free_stats:
	kfree(st);
out_put:
	respool_pools_put(pool);
	return err;
}

int respool_nl_pool_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct respool_pool *pool;
	struct respool_stats *st;
	u32 id = cb->args[0];
	int err = 0;

	/* cb->args[0]: the lowest pool id not reported yet. */
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	while ((pool = respool_pools_get_next(&id))) {
		err = respool_nl_fill_pool(skb, pool, st,
					   NETLINK_CB(cb->skb).portid,
					   cb->nlh->nlmsg_seq, NLM_F_MULTI);
		respool_pools_put(pool);
		if (err)
			break;
		cb->args[0] = ++id;
	}
	kfree(st);
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* cpu-get */

/*
 * A CPU's counters, as they are (never less the reset base): they need
 * no lock, each being a u64 that only its CPU adds to.
 */
static int respool_nl_fill_cpu_counters(struct sk_buff *msg,
					const struct respool_cpu_stats *s)
{
	const struct respool_stat_desc *d;
	unsigned int i;
	u64 val;
	int err;

	for (i = 0; i < RESPOOL_NR_STATS; i++) {
		d = &respool_stat_table[i];
		if (d->src != RESPOOL_STAT_PCPU)
			continue;
		val = READ_ONCE(s->cnt[d->idx]);
		if (d->is_signed)
			err = nla_put_s64(msg, d->cpu_attr, (s64)val,
					  RESPOOL_A_CPU_PAD);
		else
			err = nla_put_u64_64bit(msg, d->cpu_attr, val,
						RESPOOL_A_CPU_PAD);
		if (err)
			return err;
	}
	return 0;
}

static int respool_nl_fill_cpu(struct sk_buff *msg, struct respool_pool *pool,
			       unsigned int cpu, u32 portid, u32 seq,
			       int flags)
{
	struct respool_cpu *c = per_cpu_ptr(pool->cpu, cpu);
	u64 sizes[RESPOOL_PCPU_CACHE_MAX];
	unsigned int nr, i;
	u64 bytes;
	void *hdr;

	/* The cache lock only long enough to copy the block sizes. */
	spin_lock(&c->lock);
	nr = min_t(unsigned int, c->nr, RESPOOL_PCPU_CACHE_MAX);
	bytes = c->bytes;
	for (i = 0; i < nr; i++)
		sizes[i] = c->blocks[i]->size;
	spin_unlock(&c->lock);

	hdr = genlmsg_put(msg, portid, seq, &respool_nl_family, flags,
			  RESPOOL_CMD_CPU_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, RESPOOL_A_CPU_POOL_ID, pool->id) ||
	    nla_put_u32(msg, RESPOOL_A_CPU_ID, cpu))
		goto err_cancel;
	if (respool_nl_fill_cpu_counters(msg, &c->stats))
		goto err_cancel;
	if (nla_put_u32(msg, RESPOOL_A_CPU_CACHED_BLOCKS, nr) ||
	    nla_put_u64_64bit(msg, RESPOOL_A_CPU_CACHED_BYTES, bytes,
			      RESPOOL_A_CPU_PAD))
		goto err_cancel;
	for (i = 0; i < nr; i++)
		if (nla_put_u64_64bit(msg, RESPOOL_A_CPU_CACHED_BLOCK_SIZE,
				      sizes[i], RESPOOL_A_CPU_PAD))
			goto err_cancel;
	genlmsg_end(msg, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

int respool_nl_cpu_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool;
	struct sk_buff *msg;
	u32 cpu;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, RESPOOL_A_CPU_ID))
		return -EINVAL;
	cpu = nla_get_u32(info->attrs[RESPOOL_A_CPU_ID]);
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RESPOOL_A_CPU_ID],
				    "no such CPU");
		return -ENOENT;
	}
	pool = respool_nl_pool_of(info->attrs, RESPOOL_A_CPU_POOL_ID,
				  RESPOOL_A_CPU_POOL_NAME, info->extack);
	if (IS_ERR(pool))
		return PTR_ERR(pool);

	err = -ENOMEM;
	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out_put;
	err = respool_nl_fill_cpu(msg, pool, cpu, info->snd_portid,
				  info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		goto out_put;
	}
	err = genlmsg_reply(msg, info);
out_put:
	respool_pools_put(pool);
	return err;
}

/*
 * The dump state of cpu-get and client-get, in cb->args: the filter (see
 * respool_nl_dump_filter()), the pool being dumped, and the next item of
 * that pool (CPU, or the lowest client id not reported yet).
 */
enum { RESPOOL_DUMP_FILTER, RESPOOL_DUMP_POOL, RESPOOL_DUMP_ITEM };

int respool_nl_cpu_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct respool_pool *pool;
	unsigned int cpu;
	int err;

	err = respool_nl_dump_filter(cb, RESPOOL_A_CPU_POOL_ID,
				     RESPOOL_A_CPU_POOL_NAME,
				     RESPOOL_DUMP_FILTER);
	if (err)
		return err;
	while ((pool = respool_nl_dump_pool(cb, RESPOOL_DUMP_FILTER,
					    RESPOOL_DUMP_POOL))) {
		for (cpu = cb->args[RESPOOL_DUMP_ITEM]; cpu < nr_cpu_ids;
		     cpu++) {
			if (!cpu_possible(cpu))
				continue;
			err = respool_nl_fill_cpu(skb, pool, cpu,
						  NETLINK_CB(cb->skb).portid,
						  cb->nlh->nlmsg_seq,
						  NLM_F_MULTI);
			if (err)
				break;
		}
		respool_pools_put(pool);
		cb->args[RESPOOL_DUMP_ITEM] = cpu;
		if (err)
			break;
		cb->args[RESPOOL_DUMP_POOL]++;
		cb->args[RESPOOL_DUMP_ITEM] = 0;
	}
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* client-get */

static int respool_nl_fill_client(struct sk_buff *msg,
				  struct respool_client *c, u32 portid,
				  u32 seq, int flags)
{
	u32 handles = 0, mapped = 0, kept_blocks = 0;
	struct respool_block *b;
	u64 held, mapped_bytes, requested, since, waiting, takebacks;
	u64 kept = 0;
	u64 hits = 0;
	bool fast;
	unsigned long idx;
	void *hdr;

	/* The handle table's lock guards the byte counts too. */
	xa_lock(&c->handles);
	held = c->held_bytes;
	mapped_bytes = c->mapped_bytes;
	requested = c->requested_bytes;
	xa_for_each(&c->handles, idx, b) {
		handles++;
		if (atomic_read(&b->nr_maps))
			mapped++;
		if (respool_keep_kept_locked(c, idx, b)) {
			kept += b->size;
			kept_blocks++;
		}
	}
	takebacks = c->takebacks;
	fast = c->ctl;
	/* The client's own count, only reported. */
	if (fast)
		hits = READ_ONCE(c->ctl->hits);
	xa_unlock(&c->handles);
	/* Written together under pool->lock: read them as one. */
	spin_lock(&c->pool->lock);
	since = c->waiting_since;
	waiting = c->waiting_bytes;
	spin_unlock(&c->pool->lock);

	hdr = genlmsg_put(msg, portid, seq, &respool_nl_family, flags,
			  RESPOOL_CMD_CLIENT_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, RESPOOL_A_CLIENT_POOL_ID, c->pool->id) ||
	    nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_ID, c->id,
			      RESPOOL_A_CLIENT_PAD) ||
	    nla_put_u32(msg, RESPOOL_A_CLIENT_PID, c->pid) ||
	    nla_put_string(msg, RESPOOL_A_CLIENT_COMM, c->comm) ||
	    nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_HELD_BYTES, held,
			      RESPOOL_A_CLIENT_PAD) ||
	    nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_REQUESTED_BYTES, requested,
			      RESPOOL_A_CLIENT_PAD) ||
	    nla_put_u32(msg, RESPOOL_A_CLIENT_HANDLES, handles) ||
	    nla_put_u32(msg, RESPOOL_A_CLIENT_MAPPED_BLOCKS, mapped) ||
	    nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_MAPPED_BYTES, mapped_bytes,
			      RESPOOL_A_CLIENT_PAD) ||
	    (since && nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_WAITING_SINCE_NS,
					since, RESPOOL_A_CLIENT_PAD)) ||
	    (since && nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_WAITING_BYTES,
					waiting, RESPOOL_A_CLIENT_PAD)) ||
	    (fast && nla_put_flag(msg, RESPOOL_A_CLIENT_FAST_PATH)) ||
	    nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_KEPT_BYTES, kept,
			      RESPOOL_A_CLIENT_PAD) ||
	    nla_put_u32(msg, RESPOOL_A_CLIENT_KEPT_BLOCKS, kept_blocks) ||
	    nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_TAKEBACKS, takebacks,
			      RESPOOL_A_CLIENT_PAD) ||
	    (fast && nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_FAST_HITS, hits,
				       RESPOOL_A_CLIENT_PAD))) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

/* Fill the client of id @id of @pool, if it has it: -ENOENT if not. */
static int respool_nl_fill_client_id(struct sk_buff *msg,
				     struct respool_pool *pool, u64 id,
				     struct genl_info *info)
{
	struct respool_client *c;
	int err = -ENOENT;

	mutex_lock(&pool->clients_lock);
	list_for_each_entry(c, &pool->clients, node) {
		if (c->id == id) {
			err = respool_nl_fill_client(msg, c, info->snd_portid,
						     info->snd_seq, 0);
			break;
		}
	}
	mutex_unlock(&pool->clients_lock);
	return err;
}

int respool_nl_client_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct respool_pool *pool;
	struct sk_buff *msg;
	int err = -ENOENT;
	u32 pool_id = 0;
	u64 id;

	if (GENL_REQ_ATTR_CHECK(info, RESPOOL_A_CLIENT_ID))
		return -EINVAL;
	id = nla_get_u64(attrs[RESPOOL_A_CLIENT_ID]);

	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	if (attrs[RESPOOL_A_CLIENT_POOL_ID] || attrs[RESPOOL_A_CLIENT_POOL_NAME]) {
		/* Only in the pool named. */
		pool = respool_nl_pool_of(attrs, RESPOOL_A_CLIENT_POOL_ID,
					  RESPOOL_A_CLIENT_POOL_NAME,
					  info->extack);
		if (IS_ERR(pool)) {
			nlmsg_free(msg);
			return PTR_ERR(pool);
		}
		err = respool_nl_fill_client_id(msg, pool, id, info);
		respool_pools_put(pool);
	} else {
		/* Ids are unique across pools: the first pool that has it. */
		while (err == -ENOENT &&
		       (pool = respool_pools_get_next(&pool_id))) {
			err = respool_nl_fill_client_id(msg, pool, id, info);
			respool_pools_put(pool);
			pool_id++;
		}
	}
	if (err) {
		if (err == -ENOENT)
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[RESPOOL_A_CLIENT_ID],
					    "no such client");
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

int respool_nl_client_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct respool_pool *pool;
	struct respool_client *c;
	int err;

	err = respool_nl_dump_filter(cb, RESPOOL_A_CLIENT_POOL_ID,
				     RESPOOL_A_CLIENT_POOL_NAME,
				     RESPOOL_DUMP_FILTER);
	if (err)
		return err;
	/*
	 * cb->args[RESPOOL_DUMP_ITEM]: the lowest client id of the pool not
	 * reported yet. Ids only grow and are never reused, so resuming by
	 * id between the parts of a dump neither repeats a client nor
	 * touches one that closed: the list is only walked under
	 * clients_lock.
	 */
	while ((pool = respool_nl_dump_pool(cb, RESPOOL_DUMP_FILTER,
					    RESPOOL_DUMP_POOL))) {
		mutex_lock(&pool->clients_lock);
		list_for_each_entry(c, &pool->clients, node) {
			if (c->id < (u64)cb->args[RESPOOL_DUMP_ITEM])
				continue;
			err = respool_nl_fill_client(skb, c,
						     NETLINK_CB(cb->skb).portid,
						     cb->nlh->nlmsg_seq,
						     NLM_F_MULTI);
			if (err)
				break;
			cb->args[RESPOOL_DUMP_ITEM] = c->id + 1;
		}
		mutex_unlock(&pool->clients_lock);
		respool_pools_put(pool);
		if (err)
			break;
		cb->args[RESPOOL_DUMP_POOL]++;
		cb->args[RESPOOL_DUMP_ITEM] = 0;
	}
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* Admin commands */

/*
 * GENL_ADMIN_PERM checks CAP_NET_ADMIN; the pool's settings are a host
 * resource and want CAP_SYS_ADMIN in the initial user namespace.
 */
static bool respool_nl_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return true;
	NL_SET_ERR_MSG(info->extack, "needs CAP_SYS_ADMIN");
	return false;
}

/*
 * The spec's "checks:" put the static bounds into the generated policies,
 * which refuse a value out of them with ERANGE before any handler runs:
 * threshold at most 100, pcpu-cache-blocks at most RESPOOL_PCPU_CACHE_MAX,
 * prefill size at least 1. Every rule of the settings, those included, is
 * respool_config_validate()'s (config.c).
 */
static_assert(RESPOOL_PCPU_CACHE_MAX == 64,
	      "respool.yaml: checks: max of pcpu-cache-blocks");

/*
 * NL_SET_ERR_MSG_ATTR() for a message that is not a literal: the
 * validator's messages are static strings, so the ack may keep a pointer
 * to them just the same.
 */
static void respool_nl_set_err(struct netlink_ext_ack *extack,
			       const struct nlattr *attr, const char *msg)
{
	do_trace_netlink_extack(msg);
	if (!extack)
		return;
	extack->_msg = msg;
	extack->bad_attr = attr;
}

/*
 * Point the ack at the attribute that made @cfg invalid. The request
 * changed only what it carried and the settings were valid before it, so
 * it carried the refused setting or, for a rule between two settings,
 * the other one.
 */
static void respool_nl_config_error(struct genl_info *info,
				    const struct respool_config_error *err)
{
	struct nlattr *a = info->attrs[err->setting->attr];

	if (!a && err->other && info->attrs[err->other->attr]) {
		respool_nl_set_err(info->extack, info->attrs[err->other->attr],
				   err->other_msg);
		return;
	}
	respool_nl_set_err(info->extack, a, err->msg);
}

/* Overlay the settings given in @info on @cfg. */
static void respool_nl_parse_config(struct genl_info *info,
				    struct respool_config *cfg)
{
	const struct respool_setting *s;
	struct nlattr *a;
	unsigned int i;

	for (i = 0; i < respool_nr_settings; i++) {
		s = &respool_settings[i];
		a = info->attrs[s->attr];
		if (a)
			respool_setting_set(cfg, s, s->size == sizeof(u64) ?
						    nla_get_u64(a) :
						    nla_get_u32(a));
	}
}

/* Put a refusal of pools.c into the ack, with its numbers where we can. */
static void respool_nl_pools_error(struct genl_info *info, int err,
				   const struct respool_pools_error *perr,
				   struct nlattr *attr)
{
	struct netlink_ext_ack *extack = info->extack;

	if (err == -ENOSPC && perr->left != U64_MAX)
		respool_nl_err_fmt(extack, perr->msg,
				   "%s (%llu bytes left)", perr->msg,
				   perr->left);
	else if (err == -ENOSPC && perr->sum)
		respool_nl_err_fmt(extack, perr->msg,
				   "%s (%llu bytes)", perr->msg, perr->sum);
	else if (err == -EBUSY && perr->exported)
		respool_nl_err_fmt(extack, perr->msg,
				   "blocks of the pool are exported: %llu",
				   perr->exported);
	else if (err == -EBUSY)
		respool_nl_err_fmt(extack, perr->msg,
				   "files are open on the pool: %u",
				   perr->files);
	else
		respool_nl_set_err(extack, NULL, perr->msg);
	if (attr)
		NL_SET_BAD_ATTR(extack, attr);
}

/* The node a request asks for, checked; @node keeps its value without. */
static int respool_nl_parse_node(struct genl_info *info, int *node)
{
	struct nlattr *a = info->attrs[RESPOOL_A_POOL_NODE];

	if (!a)
		return 0;
	if (!respool_pools_node_valid(nla_get_s32(a))) {
		NL_SET_ERR_MSG_ATTR(info->extack, a,
				    "node: not -1 nor a NUMA node with memory");
		return -EINVAL;
	}
	*node = nla_get_s32(a);
	return 0;
}

int respool_nl_config_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *total_attr = info->attrs[RESPOOL_A_POOL_TOTAL_CAPACITY];
	struct respool_pools_error perr = { .left = U64_MAX };
	struct respool_config_error cerr;
	struct respool_pool *pool;
	struct respool_config cfg;
	u64 total;
	int err, node;

	if (!respool_nl_admin(skb, info))
		return -EPERM;
	pool = respool_nl_pool(info);
	if (IS_ERR(pool))
		return PTR_ERR(pool);

	mutex_lock(&respool_genl_config_lock);
	respool_pool_get_config(pool, &cfg);
	node = READ_ONCE(pool->node);
	respool_nl_parse_config(info, &cfg);
	err = respool_nl_parse_node(info, &node);
	if (err)
		goto out_unlock;
	err = respool_config_validate(&cfg, &cerr);
	if (err) {
		respool_nl_config_error(info, &cerr);
		goto out_unlock;
	}
	if (total_attr)
		total = nla_get_u64(total_attr);
	err = respool_pools_set_config(pool, &cfg, node,
				       total_attr ? &total : NULL, &perr);
	if (err)
		respool_nl_pools_error(info, err, &perr,
				       info->attrs[RESPOOL_A_POOL_CAPACITY] ?:
				       total_attr);
out_unlock:
	mutex_unlock(&respool_genl_config_lock);
	respool_pools_put(pool);
	return err;
}

int respool_nl_stats_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool;

	if (!respool_nl_admin(skb, info))
		return -EPERM;
	pool = respool_nl_pool(info);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	respool_pool_reset_stats(pool);
	respool_pools_put(pool);
	return 0;
}

/* Reply to @info with one u64 or u32 attribute of the pool set. */
static int respool_nl_reply_value(struct genl_info *info, int attr, u64 val,
				  bool is_u64)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &respool_nl_family, 0,
				info->genlhdr->cmd);
	if (!hdr)
		goto err_free_msg;
	if (is_u64 ? respool_nl_put_u64(msg, attr, val) :
		     nla_put_u32(msg, attr, (u32)val)) {
		genlmsg_cancel(msg, hdr);
		goto err_free_msg;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

int respool_nl_prefill_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool;
	struct nlattr *size_attr;
	u64 size;
	u32 count;
	int ret;

	if (!respool_nl_admin(skb, info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, RESPOOL_A_POOL_SIZE) ||
	    GENL_REQ_ATTR_CHECK(info, RESPOOL_A_POOL_COUNT))
		return -EINVAL;
	size_attr = info->attrs[RESPOOL_A_POOL_SIZE];
	size = nla_get_u64(size_attr);
	count = nla_get_u32(info->attrs[RESPOOL_A_POOL_COUNT]);

	pool = respool_nl_pool(info);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	/* The policy refused size 0; E2BIG for what the settings refuse. */
	ret = respool_pool_prefill(pool, size, count);
	respool_pools_put(pool);
	if (ret == -E2BIG)
		NL_SET_ERR_MSG_ATTR(info->extack, size_attr,
				    "size: larger than max-block-size or capacity");
	if (ret < 0)
		return ret;
	return respool_nl_reply_value(info, RESPOOL_A_POOL_COUNT, ret, false);
}

int respool_nl_drain_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool;
	u64 bytes;

	if (!respool_nl_admin(skb, info))
		return -EPERM;
	pool = respool_nl_pool(info);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	/* Kept blocks first: then they are free blocks like the rest. */
	respool_pool_takeback(pool, RESPOOL_TAKEBACK_DRAIN);
	bytes = respool_pool_drain(pool);
	respool_pools_put(pool);
	return respool_nl_reply_value(info, RESPOOL_A_POOL_RELEASED_BYTES,
				      bytes, true);
}

/* pool-new and pool-del */

int respool_nl_pool_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *name_attr = info->attrs[RESPOOL_A_POOL_POOL_NAME];
	struct respool_pools_error perr = { .left = U64_MAX };
	struct respool_pool_params p = {
		.node = NUMA_NO_NODE,
		.uid = GLOBAL_ROOT_UID,
		.gid = GLOBAL_ROOT_GID,
		.mode = 0600,
	};
	char dev[RESPOOL_DEV_NAME_LEN];
	struct respool_config_error cerr;
	struct sk_buff *msg;
	struct nlattr *a;
	void *hdr;
	int id, err;

	if (!respool_nl_admin(skb, info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, RESPOOL_A_POOL_POOL_NAME))
		return -EINVAL;
	p.name = nla_data(name_attr);
	if (!respool_pools_name_valid(p.name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, name_attr,
				    "pool-name: 1 to 31 characters of a-z, 0-9, _ and -");
		return -EINVAL;
	}
	err = respool_nl_parse_node(info, &p.node);
	if (err)
		return err;
	a = info->attrs[RESPOOL_A_POOL_OWNER];
	if (a) {
		p.uid = make_kuid(&init_user_ns, nla_get_u32(a));
		if (!uid_valid(p.uid)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a, "owner: invalid uid");
			return -EINVAL;
		}
	}
	a = info->attrs[RESPOOL_A_POOL_GROUP];
	if (a) {
		p.gid = make_kgid(&init_user_ns, nla_get_u32(a));
		if (!gid_valid(p.gid)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a, "group: invalid gid");
			return -EINVAL;
		}
	}
	a = info->attrs[RESPOOL_A_POOL_MODE];
	if (a) {
		/* devtmpfs would make 0 into 0600. The policy bounds 0777. */
		p.mode = nla_get_u32(a);
		if (!p.mode) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "mode: 0 lets nobody open the pool");
			return -EINVAL;
		}
	}
	/* The module parameters, overlaid with the settings given. */
	respool_params_config(&p.cfg);
	respool_nl_parse_config(info, &p.cfg);
	/* As at load: without reserve_max, the pool keeps up to capacity. */
	if (!info->attrs[RESPOOL_A_POOL_RESERVE_MAX] &&
	    respool_params_reserve_max_follows())
		p.cfg.reserve_max = p.cfg.capacity;
	err = respool_config_validate(&p.cfg, &cerr);
	if (err) {
		respool_nl_set_err(info->extack,
				   info->attrs[cerr.setting->attr], cerr.msg);
		return err;
	}

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	id = respool_pools_new(&p, &perr);
	if (id < 0) {
		respool_nl_pools_error(info, id, &perr,
				       id == -ENOSPC ?
				       info->attrs[RESPOOL_A_POOL_CAPACITY] :
				       id == -EEXIST ? name_attr : NULL);
		nlmsg_free(msg);
		return id;
	}
	/* As respool_cdev_name(): pool-del may have taken the pool. */
	snprintf(dev, sizeof(dev), "%s-%s", RESPOOL_DEVICE_NAME, p.name);
	hdr = genlmsg_put_reply(msg, info, &respool_nl_family, 0,
				info->genlhdr->cmd);
	if (!hdr || nla_put_u32(msg, RESPOOL_A_POOL_POOL_ID, id) ||
	    nla_put_string(msg, RESPOOL_A_POOL_POOL_NAME, p.name) ||
	    nla_put_string(msg, RESPOOL_A_POOL_DEV_NAME, dev)) {
		nlmsg_free(msg);
		/* The pool exists: say so rather than fail. */
		return 0;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int respool_nl_pool_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pools_error perr = { .left = U64_MAX };
	struct respool_pool *pool;
	int err;

	if (!respool_nl_admin(skb, info))
		return -EPERM;
	pool = respool_nl_pool(info);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	err = respool_pools_del(pool, &perr);
	if (err)
		respool_nl_pools_error(info, err, &perr, NULL);
	respool_pools_put(pool);
	return err;
}

static struct genl_family respool_nl_family __ro_after_init = {
	.name		= RESPOOL_FAMILY_NAME,
	.version	= RESPOOL_FAMILY_VERSION,
	.netnsok	= false,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= respool_nl_ops,
	.n_ops		= ARRAY_SIZE(respool_nl_ops),
	.mcgrps		= respool_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(respool_nl_mcgrps),
};

/* Notifications */

static const u8 respool_event_cmd[] = {
	[RESPOOL_EVENT_EXHAUSTED] = RESPOOL_CMD_EXHAUSTED_NTF,
	[RESPOOL_EVENT_RECOVERED] = RESPOOL_CMD_RECOVERED_NTF,
	[RESPOOL_EVENT_PRESSURE] = RESPOOL_CMD_PRESSURE_NTF,
	[RESPOOL_EVENT_CONFIG] = RESPOOL_CMD_CONFIG_NTF,
	[RESPOOL_EVENT_POOL_NEW] = RESPOOL_CMD_POOL_NEW_NTF,
	[RESPOOL_EVENT_POOL_DEL] = RESPOOL_CMD_POOL_DEL_NTF,
};

static int respool_nl_fill_event(struct sk_buff *msg,
				 struct respool_pool *pool, int event,
				 u64 value)
{
	char dev[RESPOOL_DEV_NAME_LEN];
	struct respool_config cfg;
	u64 total, left;

	if (respool_nl_fill_pool_id(msg, pool))
		return -EMSGSIZE;
	switch (event) {
	case RESPOOL_EVENT_EXHAUSTED:
	case RESPOOL_EVENT_PRESSURE:
		return respool_nl_put_u64(msg, RESPOOL_A_POOL_BYTES, value);
	case RESPOOL_EVENT_CONFIG:
		respool_pool_get_config(pool, &cfg);
		respool_pools_total(&total, &left);
		if (nla_put_s32(msg, RESPOOL_A_POOL_NODE, READ_ONCE(pool->node)) ||
		    respool_nl_put_u64(msg, RESPOOL_A_POOL_TOTAL_CAPACITY, total))
			return -EMSGSIZE;
		return respool_nl_fill_config(msg, &cfg);
	case RESPOOL_EVENT_POOL_NEW:
		return nla_put_string(msg, RESPOOL_A_POOL_DEV_NAME,
				      respool_cdev_name(pool, dev));
	default:
		return 0;
	}
}

/*
 * pool->notify. Called with no pool lock held, but PRESSURE comes from
 * the shrinker, in reclaim: nothing here may sleep or recurse into
 * reclaim, hence GFP_NOWAIT. A notification that cannot be allocated is
 * dropped; listeners see the state in the next pool-get.
 */
static void respool_genl_notify(struct respool_pool *pool, int event,
				u64 value)
{
	struct sk_buff *msg;
	void *hdr;

	if (event < 0 || event >= ARRAY_SIZE(respool_event_cmd))
		return;

	rcu_read_lock();
	if (!READ_ONCE(respool_genl_live) ||
	    !genl_has_listeners(&respool_nl_family, &init_net,
				RESPOOL_NLGRP_MONITOR))
		goto out_unlock;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_NOWAIT | __GFP_NOWARN);
	if (!msg)
		goto out_unlock;
	hdr = genlmsg_put(msg, 0, 0, &respool_nl_family, 0,
			  respool_event_cmd[event]);
	if (!hdr || respool_nl_fill_event(msg, pool, event, value)) {
		nlmsg_free(msg);
		goto out_unlock;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&respool_nl_family, msg, 0, RESPOOL_NLGRP_MONITOR,
			  GFP_NOWAIT | __GFP_NOWARN);
out_unlock:
	rcu_read_unlock();
}

/**
 * respool_genl_init() - register the "respool" family
 *
 * Context: process context (module init), may sleep.
 * Return: 0 or the error of genl_register_family().
 */
int respool_genl_init(void)
{
	int err;

	err = genl_register_family(&respool_nl_family);
	if (err)
		return err;
	WRITE_ONCE(respool_genl_live, true);
	respool_pools_set_notify(respool_genl_notify);
	return 0;
}

/**
 * respool_genl_exit() - unregister the family
 *
 * Stops notifications first and waits for one in flight (the shrinker
 * may still run), then unregisters, which waits for running handlers.
 *
 * Context: process context (module exit), may sleep.
 */
void respool_genl_exit(void)
{
	if (!READ_ONCE(respool_genl_live))
		return;
	respool_pools_set_notify(NULL);
	WRITE_ONCE(respool_genl_live, false);
	/* Paired with rcu_read_lock() in respool_genl_notify(). */
	synchronize_rcu();
	genl_unregister_family(&respool_nl_family);
}
