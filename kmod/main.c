// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module parameters, load and unload.
 *
 * Every setting of the default pool is also a module parameter of the
 * same name; pools created at run time (pool-new) take them as defaults.
 * Sizes take K/M/G suffixes; dev_mode is octal. A value that does not
 * parse or is out of range makes the load fail with EINVAL and a log line
 * naming the parameter. The parameters show the values at load; the live
 * settings are read and changed over netlink (respoolctl config).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/stat.h>

#include "compat.h"
#include "respool.h"
#include "cdev.h"
#include "pool.h"
#include "pools.h"
#include "config.h"
#include "genl.h"
#include "inject.h"

static u64 capacity = 64ULL << 20;
static u64 max_block_size = 4ULL << 20;
/* U64_MAX: not given, follow capacity. */
static u64 reserve_max = U64_MAX;
static u64 client_quota;
static u64 user_quota;
static unsigned int threshold = 75;
static unsigned int pcpu_cache_blocks = 16;
static unsigned int idle_trim_ms = 10000;
static unsigned int dev_mode = 0666;
static int node = NUMA_NO_NODE;
static u64 total_capacity;

/* A size in bytes with an optional K, M or G suffix (powers of 1024). */
static int respool_param_set_size(const char *val,
				  const struct kernel_param *kp)
{
	char buf[32], *suffix;
	unsigned int shift = 0;
	u64 v;
	size_t len;

	len = strcspn(val, "\n");
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = '\0';
	suffix = &buf[len - 1];
	switch (*suffix) {
	case 'G': case 'g':
		shift += 10;
		fallthrough;
	case 'M': case 'm':
		shift += 10;
		fallthrough;
	case 'K': case 'k':
		shift += 10;
		*suffix = '\0';
		break;
	}
	if (kstrtou64(buf, 0, &v) || check_shl_overflow(v, shift, &v))
		return -EINVAL;
	*(u64 *)kp->arg = v;
	return 0;
}

static int respool_param_get_size(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%llu\n", *(u64 *)kp->arg);
}

static const struct kernel_param_ops respool_size_ops = {
	.set = respool_param_set_size,
	.get = respool_param_get_size,
};

static int respool_param_set_mode(const char *val,
				  const struct kernel_param *kp)
{
	unsigned int mode;

	if (kstrtouint(val, 8, &mode) || mode > 0777)
		return -EINVAL;
	*(unsigned int *)kp->arg = mode;
	return 0;
}

static int respool_param_get_mode(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "0%o\n", *(unsigned int *)kp->arg);
}

static const struct kernel_param_ops respool_mode_ops = {
	.set = respool_param_set_mode,
	.get = respool_param_get_mode,
};

module_param_cb(capacity, &respool_size_ops, &capacity, 0444);
MODULE_PARM_DESC(capacity, "Bytes the pool may own (K/M/G), default 64M");
module_param(threshold, uint, 0444);
MODULE_PARM_DESC(threshold, "Reuse threshold in percent, 0..100, default 75");
module_param_cb(max_block_size, &respool_size_ops, &max_block_size, 0444);
MODULE_PARM_DESC(max_block_size,
		 "Largest block, page multiple up to 4M, default 4M");
module_param_cb(reserve_max, &respool_size_ops, &reserve_max, 0444);
MODULE_PARM_DESC(reserve_max, "Free bytes kept at most, default = capacity");
module_param(pcpu_cache_blocks, uint, 0444);
MODULE_PARM_DESC(pcpu_cache_blocks, "Blocks per CPU cache, 0..64, default 16");
module_param(idle_trim_ms, uint, 0444);
MODULE_PARM_DESC(idle_trim_ms,
		 "Release free blocks idle this long, 0 = never, default 10000");
module_param_cb(client_quota, &respool_size_ops, &client_quota, 0444);
MODULE_PARM_DESC(client_quota, "Bytes one open file may hold, 0 = no limit");
module_param_cb(user_quota, &respool_size_ops, &user_quota, 0444);
MODULE_PARM_DESC(user_quota,
		 "Bytes one user may hold in all files, 0 = no limit");
module_param_cb(dev_mode, &respool_mode_ops, &dev_mode, 0444);
MODULE_PARM_DESC(dev_mode, "Mode of /dev/respool (octal), default 0666");
module_param(node, int, 0444);
MODULE_PARM_DESC(node,
		 "NUMA node of the default pool's pages, -1 (default) = local");
module_param_cb(total_capacity, &respool_size_ops, &total_capacity, 0444);
MODULE_PARM_DESC(total_capacity,
		 "Bound of the sum of all pools' capacities, 0 (default) = none");

/* reserve_max was not given: each pool's follows its own capacity. */
bool respool_params_reserve_max_follows(void)
{
	return reserve_max == U64_MAX;
}

/* The module parameters as settings, for "default" and pool-new. */
void respool_params_config(struct respool_config *cfg)
{
	*cfg = (struct respool_config) {
		.capacity = capacity,
		.max_block_size = max_block_size,
		.reserve_max = reserve_max == U64_MAX ? capacity : reserve_max,
		.client_quota = client_quota,
		.user_quota = user_quota,
		.threshold = threshold,
		.pcpu_cache_blocks = pcpu_cache_blocks,
		.idle_trim_ms = idle_trim_ms,
	};
}

static int __init respool_init(void)
{
	struct respool_config_error err;
	struct respool_config cfg;
	int ret;

	respool_params_config(&cfg);
	ret = respool_config_validate(&cfg, &err);
	if (ret) {
		pr_err("invalid value %llu for parameter %s: %s\n",
		       respool_setting_get(&cfg, err.setting),
		       err.setting->param, err.rule);
		return ret;
	}
	if (!respool_pools_node_valid(node)) {
		pr_err("invalid value %d for parameter node: must be -1 or a NUMA node with memory\n",
		       node);
		return -EINVAL;
	}
	if (total_capacity && total_capacity < cfg.capacity) {
		pr_err("invalid value %llu for parameter total_capacity: must be 0 or at least capacity\n",
		       total_capacity);
		return -EINVAL;
	}

	ret = respool_pool_caches_init();
	if (ret)
		return ret;
	ret = respool_pools_init(&cfg, node, total_capacity, dev_mode);
	if (ret)
		goto err_caches_exit;
	ret = respool_inject_init();
	if (ret)
		goto err_release_default;
	respool_check_init();
	/* open() may run as soon as the device exists. */
	ret = respool_cdev_init(respool_pools_default(), dev_mode);
	if (ret)
		goto err_inject_exit;
	/* Named pools need the devices' class: netlink comes last. */
	ret = respool_genl_init();
	if (ret)
		goto err_cdev_exit;
	return 0;

err_cdev_exit:
	respool_cdev_exit();
err_inject_exit:
	respool_inject_exit();
err_release_default:
	respool_pools_release_default();
err_caches_exit:
	respool_pool_caches_exit();
	return ret;
}

static void __exit respool_exit(void)
{
	respool_genl_exit();
	respool_pools_exit();
	respool_cdev_exit();
	respool_inject_exit();
	respool_pools_release_default();
	respool_pool_caches_exit();
}

module_init(respool_init);
module_exit(respool_exit);

MODULE_DESCRIPTION("respool: a bounded, fair, observable pool of memory blocks");
MODULE_LICENSE("GPL");
MODULE_VERSION(RESPOOL_VERSION);
