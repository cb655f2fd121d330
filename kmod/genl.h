/* SPDX-License-Identifier: GPL-2.0 */
/* genl.h - the generic netlink family "respool". */
#ifndef _RESPOOL_GENL_H
#define _RESPOOL_GENL_H

struct respool_pool;

int respool_genl_init(struct respool_pool *pool);
void respool_genl_exit(void);

#endif /* _RESPOOL_GENL_H */
