// SPDX-License-Identifier: GPL-2.0
/*
 * fault_test - the pool under injected allocation failures (failslab on
 * its own slab caches, fail_page_alloc, fail-nth), on a kernel built with
 * CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS
 * (tools/debug-kernel.sh). Debian kernels have none: the tests SKIP there.
 *
 * - ALLOC fails with ENOMEM (nothing else), nothing leaks, the accounting
 *   stays exact, while failures hit the task's slab and page allocations;
 * - the fuzzer runs with failures injected into all its processes, its
 *   netlink commands (every setting, valid and not, dumps, reset,
 *   prefill, drain; at least RESPOOL_FAULT_NL_OPS of them, default 100)
 *   included: each answer is the right one or ENOMEM;
 * - loading the module fails cleanly at every allocation of its init, one
 *   at a time (fail-nth, limited by the stack trace filter to allocations
 *   made from module code), and then loads fine;
 * - RESPOOL_FAULT_CYCLES load/use/unload cycles (default 10; check-debug
 *   runs 100, and tools/vm/run --kmemleak scans for leaks afterwards).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define DBG	"/sys/kernel/debug"
#define CAP	(4 * RP_MiB)
#define MAXB	(256 * RP_KiB)

static int put_attr(const char *which, const char *attr, const char *val)
{
	char path[600];

	snprintf(path, sizeof(path), DBG "/%s/%s", which, attr);
	return rp_write_file(path, val);
}

static const char *fault_skip_reason(void)
{
	const char *why = rp_skip_reason();

	if (why)
		return why;
	if (access(DBG "/failslab/probability", W_OK) ||
	    access(DBG "/fail_page_alloc/probability", W_OK) ||
	    access("/proc/self/fail-nth", W_OK))
		return "the kernel lacks the fault injection debugfs controls (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS): run make check-debug";
	return NULL;
}

/*
 * Fail only allocations with a return address in [@start, @end) on their
 * stack (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER); 0, ULONG_MAX for all.
 */
static int faults_from(unsigned long start, unsigned long end)
{
	const char *which[] = { "failslab", "fail_page_alloc" };
	char v[32];
	int i, ret = 0;

	for (i = 0; i < 2; i++) {
		snprintf(v, sizeof(v), "%lu", end);
		ret = ret ?: put_attr(which[i], "require-end", v);
		snprintf(v, sizeof(v), "%lu", start);
		ret = ret ?: put_attr(which[i], "require-start", v);
		ret = ret ?: put_attr(which[i], "stacktrace-depth", "32");
	}
	return ret;
}

/*
 * [start, end) of kernel function @name, from /proc/kallsyms: its address
 * and the next text symbol's. 0 if it cannot be found.
 */
static int kernel_function(const char *name, unsigned long *start,
			   unsigned long *end)
{
	unsigned long a, next = ULONG_MAX;
	char type, sym[256];
	FILE *f;

	*start = 0;
	f = fopen("/proc/kallsyms", "r");
	while (f && fscanf(f, "%lx %c %255s%*[^\n]", &a, &type, sym) == 3)
		if (!strcmp(sym, name) && (type == 't' || type == 'T'))
			*start = a;
	if (f && *start) {
		rewind(f);
		while (fscanf(f, "%lx %c %255s%*[^\n]", &a, &type, sym) == 3)
			if (a > *start && a < next && (type == 't' || type == 'T'))
				next = a;
	}
	if (f)
		fclose(f);
	*end = next;
	return *start && next != ULONG_MAX ? 0 : -1;
}

/* Never fail an allocation with a return address in [@start, @end). */
static void faults_not_from(unsigned long start, unsigned long end)
{
	const char *which[] = { "failslab", "fail_page_alloc" };
	char v[32];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(v, sizeof(v), "%lu", end);
		put_attr(which[i], "reject-end", v);
		snprintf(v, sizeof(v), "%lu", start);
		put_attr(which[i], "reject-start", v);
	}
}

/* No failure reports in the log (they carry stack dumps), all off. */
static void faults_quiet_off(void)
{
	DIR *d = opendir(DBG);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "fail", 4))
			continue;
		put_attr(e->d_name, "verbose", "0");
		put_attr(e->d_name, "probability", "0");
		put_attr(e->d_name, "times", "-1");
		put_attr(e->d_name, "interval", "1");
		put_attr(e->d_name, "space", "0");
	}
	if (d)
		closedir(d);
	put_attr("failslab", "ignore-gfp-wait", "N");
	put_attr("fail_page_alloc", "ignore-gfp-wait", "N");
	put_attr("fail_page_alloc", "ignore-gfp-highmem", "N");
	put_attr("fail_page_alloc", "min-order", "0");
	faults_from(0, ULONG_MAX);
	faults_not_from(0, 0);
}

/* Where the module is loaded, from /proc/modules; 0 if it is not. */
static unsigned long module_address(void)
{
	FILE *f = fopen("/proc/modules", "r");
	unsigned long addr = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "respool ", 8))
			sscanf(line, "%*s %*s %*s %*s %*s %lx", &addr);
	if (f)
		fclose(f);
	return addr;
}

/*
 * The module area, from where respool is loaded now: x86-64 puts modules
 * in the 512 MiB-aligned region above the kernel image.
 */
static unsigned long module_area(void)
{
	return module_address() & ~((512UL << 20) - 1);
}

/*
 * failslab on the pool's caches only, fail_page_alloc, both only for tasks
 * with make-it-fail set and, where the kernel can filter by stack, only for
 * allocations the module makes: a failed page for the task's own stack
 * would kill it with SIGSEGV when a signal frame cannot be written, which
 * says nothing about the pool.
 */
static void faults_on(int slab_pct, int page_pct)
{
	char v[16];
	const char *caches[] = { "respool_block", "respool_client",
				 "respool_waiter" };
	char path[128];
	unsigned int i;

	faults_quiet_off();
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/failslab", caches[i]);
		rp_write_file(path, "1");
	}
	faults_from(module_area(), ULONG_MAX);
	put_attr("failslab", "cache-filter", "Y");
	put_attr("failslab", "task-filter", "Y");
	put_attr("fail_page_alloc", "task-filter", "Y");
	snprintf(v, sizeof(v), "%d", slab_pct);
	put_attr("failslab", "probability", v);
	snprintf(v, sizeof(v), "%d", page_pct);
	put_attr("fail_page_alloc", "probability", v);
}

static int make_me_fail(int on)
{
	return rp_write_file("/proc/self/make-it-fail", on ? "1" : "0");
}

FIXTURE(fault) {
	int dummy;
};

FIXTURE_SETUP(fault)
{
	const char *why = fault_skip_reason();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=4M max_block_size=256K pcpu_cache_blocks=4 idle_trim_ms=10"));
}

FIXTURE_TEARDOWN(fault)
{
	if (fault_skip_reason())
		return;
	faults_quiet_off();
	rp_reload(NULL);
}

TEST_F_TIMEOUT(fault, alloc_fails_with_enomem_and_leaks_nothing, 1800)
{
	int st, i;
	pid_t pid;

	faults_on(20, 20);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = -1, enomem = 0, ok = 0, other = 0, ret, n = 0;
		uint64_t handles[64];
		struct respool_alloc a;

		if (make_me_fail(1))
			_exit(2);
		for (i = 0; i < 100 && fd < 0; i++)
			fd = rp_open();
		if (fd < 0)
			_exit(3);
		for (i = 0; i < 2000; i++) {
			uint64_t size = (i % 7 + 1) * RP_PAGE * (i % 3 ? 1 : 8);

			ret = rp_alloc(fd, size, RESPOOL_ALLOC_NONBLOCK, 0, &a);
			if (!ret) {
				ok++;
				if (n < 64)
					handles[n++] = a.handle;
				else
					rp_free(fd, a.handle);
			} else if (ret == -ENOMEM) {
				enomem++;
			} else if (ret != -EAGAIN) {
				other++;
				fprintf(stderr, "ALLOC under faults: %s\n", strerror(-ret));
			}
			if (n && i % 3 == 0)
				rp_free(fd, handles[--n]);
		}
		make_me_fail(0);
		fprintf(stderr, "# %d served, %d ENOMEM, %d other errors\n", ok,
			enomem, other);
		_exit(other ? 4 : !enomem ? 5 : !ok ? 6 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	faults_quiet_off();
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st))
		TH_LOG("exit %d: 4 = an error other than ENOMEM/EAGAIN, 5 = no ENOMEM seen, 6 = nothing served",
		       WEXITSTATUS(st));
	rp_expect_all_accounted(_metadata, CAP, MAXB, 1);
}

TEST_F_TIMEOUT(fault, fuzzer_under_fault_injection, 4 * 3600)
{
	char ops[32], nl_ops[32];
	int st;
	pid_t pid;

	snprintf(ops, sizeof(ops), "%s", getenv("RESPOOL_FAULT_FUZZ_OPS") ?: "5000");
	snprintf(nl_ops, sizeof(nl_ops), "%s",
		 getenv("RESPOOL_FAULT_NL_OPS") ?: "100");
	if (access("./fuzz_test", X_OK))
		SKIP(return, "./fuzz_test is not built");
	/* Where the fuzzer looks for it: its netlink commands go through it. */
	if (access("../../tools/respoolctl/respoolctl", X_OK))
		SKIP(return, "respoolctl is not built (make tools): the fuzzer would send no netlink commands");
	faults_on(5, 2);
	/*
	 * Any slab cache, not only the pool's own: the netlink handlers
	 * allocate their replies and stats with kmalloc, the handle tables
	 * their nodes. The stack filter still limits failures to
	 * allocations made under respool's code.
	 */
	put_attr("failslab", "cache-filter", "N");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/*
		 * The fuzzer sets make-it-fail in its workers and in its
		 * netlink process, whose respoolctl commands inherit it.
		 */
		setenv("RESPOOL_FUZZ_FAULTS", "1", 1);
		setenv("RESPOOL_FUZZ_OPS", ops, 1);
		/* At least that many, each a respoolctl process. */
		setenv("RESPOOL_FUZZ_NL_OPS", nl_ops, 1);
		setenv("RESPOOL_FUZZ_MAXB", "262144", 1);
		execl("./fuzz_test", "fuzz_test", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	faults_quiet_off();
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("the fuzzer under fault injection: status %#x", st);
	/* Not allocs == frees: the fuzzer's netlink commands reset them. */
	rp_expect_all_accounted(_metadata, CAP, MAXB, 0);
}

static bool module_loaded(void)
{
	FILE *f = fopen("/proc/modules", "r");
	char line[256];
	bool found = false;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "respool ", 8))
			found = true;
	if (f)
		fclose(f);
	return found;
}

TEST_F_TIMEOUT(fault, module_load_fails_cleanly_at_each_step, 3600)
{
	const char *ko = rp_ko();
	int n, fd, ret, fails = 0, nth;
	unsigned long base, start, end;
	char buf[16];

	/*
	 * The steps of respool's init, not the module loader's: a failure
	 * there (jump labels, module memory) makes the kernel itself WARN.
	 * Only allocations with module code on their stack fail.
	 */
	base = module_area();
	ASSERT_NE(0, base);
	ASSERT_EQ(0, rp_unload());
	faults_quiet_off();
	if (faults_from(base, ULONG_MAX))
		SKIP(return, "no require-start/require-end (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): run make check-debug");
	/*
	 * 6.12's SLUB leaks the kobject's name when sysfs_slab_add() fails
	 * (no kobject_put() on its error paths), which kmemleak would pin on
	 * respool: fail the other steps of kmem_cache_create(), not that one.
	 */
	if (!kernel_function("sysfs_slab_add", &start, &end))
		faults_not_from(start, end);
	put_attr("failslab", "cache-filter", "N");
	put_attr("failslab", "task-filter", "N");
	put_attr("fail_page_alloc", "task-filter", "N");
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth);
	/*
	 * Fail the n-th fault point (slab or page allocation) of the init, for
	 * n = 1, 2, ... The load must fail cleanly, or succeed when the failure
	 * was one the kernel tolerates; when fail-nth reads back non-zero, the
	 * load had fewer than n points and every one has been tried.
	 */
	for (n = 1; n < 20000; n++) {
		char back[16] = "";

		snprintf(buf, sizeof(buf), "%d", n);
		ASSERT_LT(0, pwrite(nth, buf, strlen(buf), 0));
		ret = syscall(__NR_finit_module, fd, "capacity=4M", 0) ? -errno : 0;
		pread(nth, back, sizeof(back) - 1, 0);
		pwrite(nth, "0", 1, 0);
		if (atoi(back) > 0) {	/* nothing was injected */
			ASSERT_EQ(0, ret) TH_LOG("load without an injected fault: %s", strerror(-ret));
			break;
		}
		if (!ret) {		/* tolerated: fine, unload for the next */
			ASSERT_EQ(0, rp_unload());
			continue;
		}
		fails++;
		EXPECT_FALSE(module_loaded()) TH_LOG("fault %d: load failed (%s) but the module stayed",
			n, strerror(-ret));
		EXPECT_NE(0, access(RP_DEV, F_OK)) TH_LOG("fault %d: /dev/respool left behind", n);
		if (ret == -EEXIST || ret == -EBUSY)
			ASSERT_EQ(0, rp_unload());
	}
	ksft_print_msg("%d fault points in respool's init; %d of them made it fail\n", n - 1, fails);
	close(nth);
	close(fd);
	faults_from(0, ULONG_MAX);
	ASSERT_TRUE(module_loaded());
	/* And it works. */
	ASSERT_EQ(0, rp_reload("capacity=4M max_block_size=256K"));
	rp_expect_all_accounted(_metadata, CAP, MAXB, 1);
}

TEST_F_TIMEOUT(fault, load_unload_cycles, 3600)
{
	const char *c = getenv("RESPOOL_FAULT_CYCLES");
	int cycles = c && *c ? atoi(c) : 10, i, fd;
	struct respool_alloc a;
	void *p;

	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, rp_reload(i % 2 ? "capacity=1M pcpu_cache_blocks=2" : NULL))
			TH_LOG("cycle %d", i);
		fd = rp_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, rp_alloc(fd, 3 * RP_PAGE, 0, 0, &a));
		p = rp_map(fd, &a);
		ASSERT_NE(MAP_FAILED, p);
		memset(p, i, 3 * RP_PAGE);
		ASSERT_EQ(0, rp_free(fd, a.handle));	/* freed while mapped */
		ASSERT_EQ(0, rp_alloc(fd, RP_PAGE, 0, 0, NULL));	/* freed by close */
		munmap(p, 3 * RP_PAGE);
		close(fd);
	}
	ksft_print_msg("%d load/use/unload cycles\n", cycles);
}

TEST_HARNESS_MAIN
