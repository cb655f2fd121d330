/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - the pool's settings: one table, one validator.
 *
 * Every setting of struct respool_config is a module parameter (main.c)
 * and an attribute of config-set (genl.c). Both check a complete
 * struct respool_config with respool_config_validate(), which knows each
 * setting's bounds from respool_settings[] and the rules between two
 * settings, and names the setting it refuses: by its parameter name for
 * the load's log line, by its attribute for the extended ack.
 */
#ifndef _RESPOOL_CONFIG_H
#define _RESPOOL_CONFIG_H

#include <linux/types.h>

struct respool_config;

/**
 * struct respool_setting - one setting of the pool
 * @param:	module parameter name, also the field of struct respool_config
 * @attr:	netlink attribute (RESPOOL_A_POOL_*) of config-set and pool-get
 * @offset:	offset of the field in struct respool_config
 * @size:	size of the field: 4 (u32) or 8 (u64)
 * @min:	smallest valid value
 * @max:	largest valid value
 * @page_aligned: the value must be a multiple of PAGE_SIZE
 * @rule:	the valid values in words, for the log ("must be ...");
 *		NULL when any value of the field's width is valid
 * @msg:	the same prefixed by the attribute's name, for the extended
 *		ack ("capacity: must be ..."); a static string
 */
struct respool_setting {
	const char *param;
	u16 attr;
	u16 offset;
	u8 size;
	u64 min;
	u64 max;
	bool page_aligned;
	const char *rule;
	const char *msg;
};

/**
 * struct respool_config_error - why respool_config_validate() refused
 * @setting:	the setting whose value breaks a rule
 * @rule:	the rule, in words, for the log
 * @msg:	the rule prefixed by the attribute name of @setting (extack)
 * @other:	for a rule between two settings, the other one; else NULL.
 *		A config-set that refused for such a rule carried @setting,
 *		@other or both.
 * @other_msg:	the same rule seen from @other, prefixed by its name
 */
struct respool_config_error {
	const struct respool_setting *setting;
	const char *rule;
	const char *msg;
	const struct respool_setting *other;
	const char *other_msg;
};

extern const struct respool_setting respool_settings[];
extern const unsigned int respool_nr_settings;

u64 respool_setting_get(const struct respool_config *cfg,
			const struct respool_setting *s);
void respool_setting_set(struct respool_config *cfg,
			 const struct respool_setting *s, u64 val);
int respool_config_validate(const struct respool_config *cfg,
			    struct respool_config_error *err);

/* main.c: the module parameters' settings, for "default" and pool-new */
void respool_params_config(struct respool_config *cfg);
bool respool_params_reserve_max_follows(void);

#endif /* _RESPOOL_CONFIG_H */
