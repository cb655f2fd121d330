// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test for tools/vm/run: a module whose init hits WARN_ON().
 * The warning alone (no oops, no panic) must make the VM run fail.
 */
#include <linux/init.h>
#include <linux/module.h>

static int vm_test_warn = 1;
module_param(vm_test_warn, int, 0444);
MODULE_PARM_DESC(vm_test_warn, "hit the WARN_ON (default 1)");

static int __init vm_test_warn_init(void)
{
	WARN_ON(vm_test_warn);
	return 0;
}

static void __exit vm_test_warn_exit(void)
{
}

module_init(vm_test_warn_init);
module_exit(vm_test_warn_exit);

MODULE_DESCRIPTION("tools/vm/run self-test: WARN_ON in module init");
MODULE_LICENSE("GPL");
