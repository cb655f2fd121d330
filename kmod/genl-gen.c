// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/respool.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "genl-gen.h"

#include <linux/respool_netlink.h>

/* RESPOOL_CMD_POOL_GET - do */
const struct nla_policy respool_pool_get_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1] = {
	[RESPOOL_A_POOL_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_POOL_NAME] = { .type = NLA_NUL_STRING, },
};

/* RESPOOL_CMD_CPU_GET - do */
const struct nla_policy respool_cpu_get_nl_policy[RESPOOL_A_CPU_POOL_NAME + 1] = {
	[RESPOOL_A_CPU_ID] = { .type = NLA_U32, },
	[RESPOOL_A_CPU_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_CPU_POOL_NAME] = { .type = NLA_NUL_STRING, },
};

/* RESPOOL_CMD_CLIENT_GET - do */
const struct nla_policy respool_client_get_nl_policy[RESPOOL_A_CLIENT_POOL_NAME + 1] = {
	[RESPOOL_A_CLIENT_ID] = { .type = NLA_U64, },
	[RESPOOL_A_CLIENT_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_CLIENT_POOL_NAME] = { .type = NLA_NUL_STRING, },
};

/* RESPOOL_CMD_CONFIG_SET - do */
const struct nla_policy respool_config_set_nl_policy[RESPOOL_A_POOL_TOTAL_CAPACITY + 1] = {
	[RESPOOL_A_POOL_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_POOL_NAME] = { .type = NLA_NUL_STRING, },
	[RESPOOL_A_POOL_NODE] = { .type = NLA_S32, },
	[RESPOOL_A_POOL_TOTAL_CAPACITY] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_CAPACITY] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_MAX_BLOCK_SIZE] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_RESERVE_MAX] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_CLIENT_QUOTA] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_USER_QUOTA] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_THRESHOLD] = NLA_POLICY_MAX(NLA_U32, 100),
	[RESPOOL_A_POOL_PCPU_CACHE_BLOCKS] = NLA_POLICY_MAX(NLA_U32, 64),
	[RESPOOL_A_POOL_IDLE_TRIM_MS] = { .type = NLA_U32, },
};

/* RESPOOL_CMD_STATS_RESET - do */
const struct nla_policy respool_stats_reset_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1] = {
	[RESPOOL_A_POOL_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_POOL_NAME] = { .type = NLA_NUL_STRING, },
};

/* RESPOOL_CMD_PREFILL - do */
const struct nla_policy respool_prefill_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1] = {
	[RESPOOL_A_POOL_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_POOL_NAME] = { .type = NLA_NUL_STRING, },
	[RESPOOL_A_POOL_SIZE] = NLA_POLICY_MIN(NLA_U64, 1),
	[RESPOOL_A_POOL_COUNT] = { .type = NLA_U32, },
};

/* RESPOOL_CMD_DRAIN - do */
const struct nla_policy respool_drain_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1] = {
	[RESPOOL_A_POOL_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_POOL_NAME] = { .type = NLA_NUL_STRING, },
};

/* RESPOOL_CMD_POOL_NEW - do */
const struct nla_policy respool_pool_new_nl_policy[RESPOOL_A_POOL_MODE + 1] = {
	[RESPOOL_A_POOL_POOL_NAME] = { .type = NLA_NUL_STRING, },
	[RESPOOL_A_POOL_NODE] = { .type = NLA_S32, },
	[RESPOOL_A_POOL_OWNER] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_GROUP] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_MODE] = NLA_POLICY_MAX(NLA_U32, 511),
	[RESPOOL_A_POOL_CAPACITY] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_MAX_BLOCK_SIZE] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_RESERVE_MAX] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_CLIENT_QUOTA] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_USER_QUOTA] = { .type = NLA_U64, },
	[RESPOOL_A_POOL_THRESHOLD] = NLA_POLICY_MAX(NLA_U32, 100),
	[RESPOOL_A_POOL_PCPU_CACHE_BLOCKS] = NLA_POLICY_MAX(NLA_U32, 64),
	[RESPOOL_A_POOL_IDLE_TRIM_MS] = { .type = NLA_U32, },
};

/* RESPOOL_CMD_POOL_DEL - do */
const struct nla_policy respool_pool_del_nl_policy[RESPOOL_A_POOL_POOL_NAME + 1] = {
	[RESPOOL_A_POOL_POOL_ID] = { .type = NLA_U32, },
	[RESPOOL_A_POOL_POOL_NAME] = { .type = NLA_NUL_STRING, },
};

/* Ops table for respool */
const struct genl_ops respool_nl_ops[9] = {
	{
		.cmd		= RESPOOL_CMD_POOL_GET,
		.doit		= respool_nl_pool_get_doit,
		.dumpit		= respool_nl_pool_get_dumpit,
		.policy		= respool_pool_get_nl_policy,
		.maxattr	= RESPOOL_A_POOL_POOL_NAME,
	},
	{
		.cmd		= RESPOOL_CMD_CPU_GET,
		.doit		= respool_nl_cpu_get_doit,
		.dumpit		= respool_nl_cpu_get_dumpit,
		.policy		= respool_cpu_get_nl_policy,
		.maxattr	= RESPOOL_A_CPU_POOL_NAME,
	},
	{
		.cmd		= RESPOOL_CMD_CLIENT_GET,
		.doit		= respool_nl_client_get_doit,
		.dumpit		= respool_nl_client_get_dumpit,
		.policy		= respool_client_get_nl_policy,
		.maxattr	= RESPOOL_A_CLIENT_POOL_NAME,
	},
	{
		.cmd		= RESPOOL_CMD_CONFIG_SET,
		.doit		= respool_nl_config_set_doit,
		.policy		= respool_config_set_nl_policy,
		.maxattr	= RESPOOL_A_POOL_TOTAL_CAPACITY,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= RESPOOL_CMD_STATS_RESET,
		.doit		= respool_nl_stats_reset_doit,
		.policy		= respool_stats_reset_nl_policy,
		.maxattr	= RESPOOL_A_POOL_POOL_NAME,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= RESPOOL_CMD_PREFILL,
		.doit		= respool_nl_prefill_doit,
		.policy		= respool_prefill_nl_policy,
		.maxattr	= RESPOOL_A_POOL_POOL_NAME,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= RESPOOL_CMD_DRAIN,
		.doit		= respool_nl_drain_doit,
		.policy		= respool_drain_nl_policy,
		.maxattr	= RESPOOL_A_POOL_POOL_NAME,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= RESPOOL_CMD_POOL_NEW,
		.doit		= respool_nl_pool_new_doit,
		.policy		= respool_pool_new_nl_policy,
		.maxattr	= RESPOOL_A_POOL_MODE,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= RESPOOL_CMD_POOL_DEL,
		.doit		= respool_nl_pool_del_doit,
		.policy		= respool_pool_del_nl_policy,
		.maxattr	= RESPOOL_A_POOL_POOL_NAME,
		.flags		= GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group respool_nl_mcgrps[] = {
	[RESPOOL_NLGRP_MONITOR] = { "monitor", },
};
