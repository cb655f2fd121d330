/* SPDX-License-Identifier: GPL-2.0 */
/* genl.h - the generic netlink family "respool". */
#ifndef _RESPOOL_GENL_H
#define _RESPOOL_GENL_H

int respool_genl_init(void);
void respool_genl_exit(void);

#endif /* _RESPOOL_GENL_H */
