// SPDX-License-Identifier: GPL-2.0
/* genl.c - the generic netlink family "respool" (placeholder). */
#include "respool.h"
#include "genl.h"

int respool_genl_init(struct respool_pool *pool)
{
	return 0;
}

void respool_genl_exit(void)
{
}
