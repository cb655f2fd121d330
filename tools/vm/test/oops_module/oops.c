// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test for tools/vm/run: a module whose init oopses (NULL dereference).
 * Loading it must make the VM run fail and show the oops.
 */
#include <linux/init.h>
#include <linux/module.h>

static unsigned long vm_test_addr;
module_param(vm_test_addr, ulong, 0444);
MODULE_PARM_DESC(vm_test_addr, "address to read from (default NULL)");

static int __init vm_test_oops_init(void)
{
	pr_info("vm_test_oops: reading address %#lx\n", vm_test_addr);
	return *(int *)READ_ONCE(vm_test_addr);
}
module_init(vm_test_oops_init);

MODULE_DESCRIPTION("tools/vm/run self-test: oops in module init");
MODULE_LICENSE("GPL");
