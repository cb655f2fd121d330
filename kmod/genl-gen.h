/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/respool.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_RESPOOL_GEN_H
#define _LINUX_RESPOOL_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <linux/respool_netlink.h>

extern const struct nla_policy respool_pool_get_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1];

extern const struct nla_policy respool_cpu_get_nl_policy[RESPOOL_A_CPU_POOL_NAME + 1];

extern const struct nla_policy respool_client_get_nl_policy[RESPOOL_A_CLIENT_POOL_NAME + 1];

extern const struct nla_policy respool_config_set_nl_policy[RESPOOL_A_POOL_TOTAL_CAPACITY + 1];

extern const struct nla_policy respool_stats_reset_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1];

extern const struct nla_policy respool_prefill_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1];

extern const struct nla_policy respool_drain_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1];

extern const struct nla_policy respool_pool_new_nl_policy[RESPOOL_A_POOL_MODE + 1];

extern const struct nla_policy respool_pool_del_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1];

/* Ops table for respool */
extern const struct genl_ops respool_nl_ops[9];

int respool_nl_pool_get_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_pool_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb);
int respool_nl_cpu_get_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_cpu_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int respool_nl_client_get_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_client_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb);
int respool_nl_config_set_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_stats_reset_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_prefill_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_drain_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_pool_new_doit(struct sk_buff *skb, struct genl_info *info);
int respool_nl_pool_del_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	RESPOOL_NLGRP_MONITOR,
};

#endif /* _LINUX_RESPOOL_GEN_H */
