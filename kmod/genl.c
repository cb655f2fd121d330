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
#include "pcpu.h"
#include "config.h"
#include "stats.h"
#include "genl.h"
#include "genl-gen.h"
#include "genl-gen.c"

static struct genl_family respool_nl_family;

/* The pool the family reports on; set before the family is registered. */
static struct respool_pool *respool_genl_pool;

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

static int respool_nl_fill_stats(struct sk_buff *msg,
				 const struct respool_stats *st)
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
	nla_nest_end(msg, nest);
	return 0;

err_cancel:
	nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

int respool_nl_pool_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool = respool_genl_pool;
	struct respool_config cfg;
	struct respool_stats *st;
	struct sk_buff *msg;
	void *hdr;
	int err = -ENOMEM;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out_free_stats;

	respool_pool_get_config(pool, &cfg);
	st->size = sizeof(*st);
	respool_pool_stats(pool, st);

	err = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &respool_nl_family, 0,
				info->genlhdr->cmd);
	if (!hdr)
		goto err_free_msg;
	if (respool_nl_fill_config(msg, &cfg) ||
	    respool_nl_fill_stats(msg, st)) {
		genlmsg_cancel(msg, hdr);
		goto err_free_msg;
	}
	genlmsg_end(msg, hdr);
	kfree(st);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
out_free_stats:
	kfree(st);
	return err;
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
	if (nla_put_u32(msg, RESPOOL_A_CPU_ID, cpu))
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

	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = respool_nl_fill_cpu(msg, respool_genl_pool, cpu, info->snd_portid,
				  info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

int respool_nl_cpu_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	unsigned int cpu;
	int err = 0;

	/* cb->args[0]: the next CPU to report. */
	for (cpu = cb->args[0]; cpu < nr_cpu_ids; cpu++) {
		if (!cpu_possible(cpu))
			continue;
		err = respool_nl_fill_cpu(skb, respool_genl_pool, cpu,
					  NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			break;
	}
	cb->args[0] = cpu;
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* client-get */

static int respool_nl_fill_client(struct sk_buff *msg,
				  struct respool_client *c, u32 portid,
				  u32 seq, int flags)
{
	u32 handles = 0, mapped = 0;
	struct respool_block *b;
	u64 held, mapped_bytes, requested, since, waiting;
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
	}
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
	if (nla_put_u64_64bit(msg, RESPOOL_A_CLIENT_ID, c->id,
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
					waiting, RESPOOL_A_CLIENT_PAD))) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

int respool_nl_client_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool = respool_genl_pool;
	struct respool_client *c;
	struct sk_buff *msg;
	int err = -ENOENT;
	u64 id;

	if (GENL_REQ_ATTR_CHECK(info, RESPOOL_A_CLIENT_ID))
		return -EINVAL;
	id = nla_get_u64(info->attrs[RESPOOL_A_CLIENT_ID]);

	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&pool->clients_lock);
	list_for_each_entry(c, &pool->clients, node) {
		if (c->id == id) {
			err = respool_nl_fill_client(msg, c, info->snd_portid,
						     info->snd_seq, 0);
			break;
		}
	}
	mutex_unlock(&pool->clients_lock);
	if (err) {
		if (err == -ENOENT)
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[RESPOOL_A_CLIENT_ID],
					    "no such client");
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

int respool_nl_client_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct respool_pool *pool = respool_genl_pool;
	struct respool_client *c;
	int err = 0;

	/*
	 * cb->args[0]: the lowest client id not reported yet. Ids only grow
	 * and are never reused, so resuming by id between the parts of a
	 * dump neither repeats a client nor touches one that closed: the
	 * list is only walked under clients_lock.
	 */
	mutex_lock(&pool->clients_lock);
	list_for_each_entry(c, &pool->clients, node) {
		if (c->id < (u64)cb->args[0])
			continue;
		err = respool_nl_fill_client(skb, c,
					     NETLINK_CB(cb->skb).portid,
					     cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			break;
		cb->args[0] = c->id + 1;
	}
	mutex_unlock(&pool->clients_lock);
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

int respool_nl_config_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct respool_pool *pool = respool_genl_pool;
	struct respool_config_error cerr;
	struct respool_config cfg;
	int err;

	if (!respool_nl_admin(skb, info))
		return -EPERM;

	mutex_lock(&respool_genl_config_lock);
	respool_pool_get_config(pool, &cfg);
	respool_nl_parse_config(info, &cfg);
	err = respool_config_validate(&cfg, &cerr);
	if (err) {
		respool_nl_config_error(info, &cerr);
		goto out_unlock;
	}
	err = respool_pool_set_config(pool, &cfg);
out_unlock:
	mutex_unlock(&respool_genl_config_lock);
	return err;
}

int respool_nl_stats_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (!respool_nl_admin(skb, info))
		return -EPERM;
	respool_pool_reset_stats(respool_genl_pool);
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

	/* The policy refused size 0; E2BIG for what the settings refuse. */
	ret = respool_pool_prefill(respool_genl_pool, size, count);
	if (ret == -E2BIG)
		NL_SET_ERR_MSG_ATTR(info->extack, size_attr,
				    "size: larger than max-block-size or capacity");
	if (ret < 0)
		return ret;
	return respool_nl_reply_value(info, RESPOOL_A_POOL_COUNT, ret, false);
}

int respool_nl_drain_doit(struct sk_buff *skb, struct genl_info *info)
{
	u64 bytes;

	if (!respool_nl_admin(skb, info))
		return -EPERM;
	bytes = respool_pool_drain(respool_genl_pool);
	return respool_nl_reply_value(info, RESPOOL_A_POOL_RELEASED_BYTES,
				      bytes, true);
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
};

static int respool_nl_fill_event(struct sk_buff *msg,
				 struct respool_pool *pool, int event,
				 u64 value)
{
	struct respool_config cfg;

	switch (event) {
	case RESPOOL_EVENT_EXHAUSTED:
	case RESPOOL_EVENT_PRESSURE:
		return respool_nl_put_u64(msg, RESPOOL_A_POOL_BYTES, value);
	case RESPOOL_EVENT_CONFIG:
		respool_pool_get_config(pool, &cfg);
		return respool_nl_fill_config(msg, &cfg);
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
 * @pool:	the pool it reports on and controls
 *
 * Context: process context (module init), may sleep.
 * Return: 0 or the error of genl_register_family().
 */
int respool_genl_init(struct respool_pool *pool)
{
	int err;

	respool_genl_pool = pool;
	err = genl_register_family(&respool_nl_family);
	if (err)
		return err;
	WRITE_ONCE(respool_genl_live, true);
	WRITE_ONCE(pool->notify, respool_genl_notify);
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
	WRITE_ONCE(respool_genl_pool->notify, NULL);
	WRITE_ONCE(respool_genl_live, false);
	/* Paired with rcu_read_lock() in respool_genl_notify(). */
	synchronize_rcu();
	genl_unregister_family(&respool_nl_family);
}
