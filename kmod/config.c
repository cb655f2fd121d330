// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - the pool's settings: their table and their one validator.
 *
 * The rules of the settings live here only. Module load (main.c) and
 * config-set (genl.c) build a complete struct respool_config and call
 * respool_config_validate(); so does respool_pool_set_config() before it
 * applies one. The netlink policies generated from the spec also refuse
 * threshold and pcpu-cache-blocks above their maximum (ERANGE, with the
 * bounds in the ack) before the handler runs; the table has the same
 * bounds (genl.c asserts the spec's maximum of pcpu-cache-blocks).
 */
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/stddef.h>

#include "compat.h"
#include "respool.h"
#include "config.h"

/*
 * The field of struct respool_config behind a setting; its width is
 * checked against the struct below. The extended ack keeps a pointer to
 * its message, so each message is a string of its own.
 */
#define RP_U64(f)	.offset = offsetof(struct respool_config, f), .size = 8
#define RP_U32(f)	.offset = offsetof(struct respool_config, f), .size = 4

/* Indexes of respool_settings[], for the rules between two settings. */
enum {
	RP_CAPACITY,
	RP_MAX_BLOCK_SIZE,
	RP_RESERVE_MAX,
	RP_CLIENT_QUOTA,
	RP_USER_QUOTA,
	RP_THRESHOLD,
	RP_PCPU_CACHE_BLOCKS,
	RP_IDLE_TRIM_MS,
	RP_NR_SETTINGS
};

/* In the order of pool-get's reply and of the config notification. */
const struct respool_setting respool_settings[RP_NR_SETTINGS] = {
	[RP_CAPACITY] = {
		.param = "capacity", .attr = RESPOOL_A_POOL_CAPACITY,
		RP_U64(capacity), .min = PAGE_SIZE, .max = U64_MAX,
		.rule = "must be at least one page",
		.msg = "capacity: must be at least one page",
	},
	[RP_MAX_BLOCK_SIZE] = {
		.param = "max_block_size", .attr = RESPOOL_A_POOL_MAX_BLOCK_SIZE,
		RP_U64(max_block_size), .min = PAGE_SIZE,
		.max = RESPOOL_BLOCK_MAX, .page_aligned = true,
		.rule = "must be a multiple of the page size, from one page to 4M",
		.msg = "max-block-size: must be a multiple of the page size, from one page to 4M",
	},
	[RP_RESERVE_MAX] = {
		.param = "reserve_max", .attr = RESPOOL_A_POOL_RESERVE_MAX,
		RP_U64(reserve_max), .min = 0, .max = U64_MAX,
	},
	[RP_CLIENT_QUOTA] = {
		.param = "client_quota", .attr = RESPOOL_A_POOL_CLIENT_QUOTA,
		RP_U64(client_quota), .min = 0, .max = U64_MAX,
	},
	[RP_USER_QUOTA] = {
		.param = "user_quota", .attr = RESPOOL_A_POOL_USER_QUOTA,
		RP_U64(user_quota), .min = 0, .max = U64_MAX,
	},
	[RP_THRESHOLD] = {
		.param = "threshold", .attr = RESPOOL_A_POOL_THRESHOLD,
		RP_U32(threshold), .min = 0, .max = 100,
		.rule = "must be 0..100",
		.msg = "threshold: must be 0..100",
	},
	[RP_PCPU_CACHE_BLOCKS] = {
		.param = "pcpu_cache_blocks",
		.attr = RESPOOL_A_POOL_PCPU_CACHE_BLOCKS,
		RP_U32(pcpu_cache_blocks), .min = 0,
		.max = RESPOOL_PCPU_CACHE_MAX,
		.rule = "must be 0..64",
		.msg = "pcpu-cache-blocks: must be 0..64",
	},
	[RP_IDLE_TRIM_MS] = {
		.param = "idle_trim_ms", .attr = RESPOOL_A_POOL_IDLE_TRIM_MS,
		RP_U32(idle_trim_ms), .min = 0, .max = U32_MAX,
	},
};

const unsigned int respool_nr_settings = ARRAY_SIZE(respool_settings);

static_assert(sizeof_field(struct respool_config, capacity) == 8 &&
	      sizeof_field(struct respool_config, max_block_size) == 8 &&
	      sizeof_field(struct respool_config, reserve_max) == 8 &&
	      sizeof_field(struct respool_config, client_quota) == 8 &&
	      sizeof_field(struct respool_config, user_quota) == 8 &&
	      sizeof_field(struct respool_config, threshold) == 4 &&
	      sizeof_field(struct respool_config, pcpu_cache_blocks) == 4 &&
	      sizeof_field(struct respool_config, idle_trim_ms) == 4,
	      "RP_U64()/RP_U32() of respool_settings[]");
static_assert(RESPOOL_PCPU_CACHE_MAX == 64,
	      "the rule text of pcpu_cache_blocks says 64");
static_assert(RESPOOL_BLOCK_MAX == 4UL << 20,
	      "the rule text of max_block_size says 4M");

/**
 * respool_setting_get() - the value of one setting
 * @cfg:	the settings
 * @s:		an entry of respool_settings[]
 *
 * Return: the value, widened to u64.
 */
u64 respool_setting_get(const struct respool_config *cfg,
			const struct respool_setting *s)
{
	const void *p = (const void *)cfg + s->offset;

	return s->size == sizeof(u64) ? *(const u64 *)p : *(const u32 *)p;
}

/**
 * respool_setting_set() - change one setting in a struct respool_config
 * @cfg:	the settings, not yet published (no READ_ONCE() readers)
 * @s:		an entry of respool_settings[]
 * @val:	the value; a u32 setting takes the low 32 bits, which the
 *		caller's parsing (nla_get_u32(), the parameter's type)
 *		already bounded
 */
void respool_setting_set(struct respool_config *cfg,
			 const struct respool_setting *s, u64 val)
{
	void *p = (void *)cfg + s->offset;

	if (s->size == sizeof(u64))
		*(u64 *)p = val;
	else
		*(u32 *)p = (u32)val;
}

/*
 * Rules between two settings: @lo must not exceed @hi where both are
 * limits (0 is "no limit"). A file's quota above its user's could never
 * be reached: the setting that says so is a mistake.
 */
static const struct {
	u16 lo, hi;		/* indexes into respool_settings[] */
	const char *lo_rule, *lo_msg, *hi_rule, *hi_msg;
} respool_config_order[] = {
	{
		.lo = RP_CLIENT_QUOTA, .hi = RP_USER_QUOTA,
		.lo_rule = "must be 0 or at most user_quota (when that is not 0)",
		.lo_msg = "client-quota: must be 0 or at most user-quota (when that is not 0)",
		.hi_rule = "must be 0 or at least client_quota",
		.hi_msg = "user-quota: must be 0 or at least client-quota",
	},
};

static bool respool_setting_valid(const struct respool_setting *s, u64 val)
{
	return val >= s->min && val <= s->max &&
	       (!s->page_aligned || PAGE_ALIGNED(val));
}

/**
 * respool_config_validate() - check a complete set of settings
 * @cfg:	the settings
 * @err:	out: which setting breaks which rule, when one does
 *
 * The settings are checked one by one in table order, then the rules
 * between two settings; the first broken rule is reported.
 *
 * Context: any.
 * Return: 0, or -EINVAL with @err filled in.
 */
int respool_config_validate(const struct respool_config *cfg,
			    struct respool_config_error *err)
{
	const struct respool_setting *s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(respool_settings); i++) {
		s = &respool_settings[i];
		if (respool_setting_valid(s, respool_setting_get(cfg, s)))
			continue;
		*err = (struct respool_config_error){
			.setting = s,
			.rule = s->rule,
			.msg = s->msg,
		};
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(respool_config_order); i++) {
		const struct respool_setting *lo, *hi;
		u64 lo_val, hi_val;

		lo = &respool_settings[respool_config_order[i].lo];
		hi = &respool_settings[respool_config_order[i].hi];
		lo_val = respool_setting_get(cfg, lo);
		hi_val = respool_setting_get(cfg, hi);
		if (!lo_val || !hi_val || lo_val <= hi_val)
			continue;
		/* Named as the higher one: the one that is meant to bound. */
		*err = (struct respool_config_error){
			.setting = hi,
			.rule = respool_config_order[i].hi_rule,
			.msg = respool_config_order[i].hi_msg,
			.other = lo,
			.other_msg = respool_config_order[i].lo_msg,
		};
		return -EINVAL;
	}
	return 0;
}
