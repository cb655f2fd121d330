// SPDX-License-Identifier: GPL-2.0
/* Self-test for tools/vm/run: a module that loads and unloads cleanly. */
#include <linux/init.h>
#include <linux/module.h>

static int __init vm_test_hello_init(void)
{
	pr_info("vm_test_hello: loaded\n");
	return 0;
}

static void __exit vm_test_hello_exit(void)
{
	pr_info("vm_test_hello: unloaded\n");
}

module_init(vm_test_hello_init);
module_exit(vm_test_hello_exit);

MODULE_DESCRIPTION("tools/vm/run self-test: a clean module");
MODULE_LICENSE("GPL");
