// SPDX-License-Identifier: GPL-2.0
/*
 * module_test - loading, parameters and unloading: every invalid
 * parameter is refused with EINVAL, the module cannot go while a file is
 * open or an exported block lives, and load/unload cycles leave nothing
 * behind.
 */
#include "kselftest_harness.h"
#include "respool_util.h"

/*
 * Whether a respool slab cache exists (-1: cannot tell). Merged caches
 * (6.1, no SLAB_NO_MERGE) do not show in /proc/slabinfo.
 */
static int slab_has_respool_caches(void)
{
	char line[512];
	FILE *f = fopen("/proc/slabinfo", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "respool_", 8))
			found = 1;
	fclose(f);
	return found;
}

static int module_loaded(void)
{
	return access("/sys/module/respool", F_OK) == 0;
}

/* Read /sys/module/respool/parameters/@name into @buf. */
static int read_param(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/respool/parameters/%s",
		 name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

FIXTURE(mod) {
	int unused;
};

FIXTURE_SETUP(mod)
{
	const char *why = rp_skip_reason();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_unload());
}

FIXTURE_TEARDOWN(mod)
{
	/* Leave the default module loaded for the next test program. */
	if (!module_loaded())
		rp_load(NULL);
}

/* Each of these must be refused, and leave no module behind. */
static const char *const bad_params[] = {
	"capacity=0",
	"capacity=100",
	"capacity=12Q",
	"capacity=-1",
	"capacity=99999999999999999999",
	"capacity=16777216T",
	"capacity=",
	"threshold=101",
	"threshold=-5",
	"threshold=abc",
	"max_block_size=0",
	"max_block_size=5000",
	"max_block_size=8M",
	"reserve_max=1X",
	"pcpu_cache_blocks=65",
	"idle_trim_ms=-1",
	"client_quota=lots",
	"user_quota=lots",
	"user_quota=-1",
	"client_quota=2M user_quota=1M",
	"user_quota=4096 client_quota=4097",
	"dev_mode=0888",
	"dev_mode=01666",
	"dev_mode=rw",
};

TEST_F(mod, each_invalid_parameter_is_einval)
{
	unsigned int i;

	for (i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++) {
		int ret = rp_load(bad_params[i]);

		EXPECT_EQ(-EINVAL, ret)
			TH_LOG("insmod respool %s: expected EINVAL, got %d",
			       bad_params[i], ret);
		EXPECT_FALSE(module_loaded())
			TH_LOG("module loaded with %s", bad_params[i]);
		if (module_loaded())
			rp_unload();
	}
}

TEST_F(mod, valid_parameters_with_suffixes_are_accepted)
{
	char buf[64];

	ASSERT_EQ(0, rp_load("capacity=3M reserve_max=512k max_block_size=64K "
			     "threshold=0 pcpu_cache_blocks=0 idle_trim_ms=0 "
			     "client_quota=1g user_quota=2g dev_mode=600"));
	ASSERT_EQ(0, read_param("capacity", buf, sizeof(buf)));
	EXPECT_STREQ("3145728", buf);
	ASSERT_EQ(0, read_param("reserve_max", buf, sizeof(buf)));
	EXPECT_STREQ("524288", buf);
	ASSERT_EQ(0, read_param("max_block_size", buf, sizeof(buf)));
	EXPECT_STREQ("65536", buf);
	ASSERT_EQ(0, read_param("client_quota", buf, sizeof(buf)));
	EXPECT_STREQ("1073741824", buf);
	ASSERT_EQ(0, read_param("user_quota", buf, sizeof(buf)));
	EXPECT_STREQ("2147483648", buf);
	ASSERT_EQ(0, read_param("dev_mode", buf, sizeof(buf)));
	EXPECT_STREQ("0600", buf);
	ASSERT_EQ(0, rp_unload());
}

TEST_F(mod, invalid_parameter_is_named_in_the_kernel_log)
{
	char line[512];
	int found = 0;
	FILE *f;

	ASSERT_EQ(-EINVAL, rp_load("threshold=150"));
	f = popen("dmesg | tail -n 20", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "respool") && strstr(line, "threshold"))
			found = 1;
	pclose(f);
	EXPECT_TRUE(found) TH_LOG("no kernel log line names threshold");
}

/*
 * A rule between two settings names one of them (the quota meant to
 * bound the other), its value and the rule.
 */
TEST_F(mod, quota_rule_is_named_in_the_kernel_log)
{
	const char *want = "invalid value 1048576 for parameter user_quota: must be 0 or at least client_quota";
	char line[512];
	int found = 0;
	FILE *f;

	ASSERT_EQ(-EINVAL, rp_load("client_quota=2M user_quota=1M"));
	EXPECT_FALSE(module_loaded());
	f = popen("dmesg | tail -n 20", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "respool") && strstr(line, want))
			found = 1;
	pclose(f);
	EXPECT_TRUE(found) TH_LOG("no kernel log line says '%s'", want);
}

TEST_F(mod, rmmod_fails_while_a_file_is_open)
{
	int fd;

	ASSERT_EQ(0, rp_load(NULL));
	fd = rp_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, syscall(__NR_delete_module, "respool", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
		TH_LOG("rmmod with an open file: errno %d", errno);
	EXPECT_TRUE(module_loaded());
	close(fd);
	EXPECT_EQ(0, rp_unload());
	EXPECT_FALSE(module_loaded());
}

TEST_F(mod, rmmod_fails_while_a_block_is_mapped)
{
	struct respool_alloc a;
	void *p;
	int fd;

	ASSERT_EQ(0, rp_load(NULL));
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, 4096, 0, 0, &a));
	p = rp_map(fd, &a);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	/* The mapping keeps the file, and so the module, alive. */
	EXPECT_EQ(-1, syscall(__NR_delete_module, "respool", O_NONBLOCK));
	munmap(p, a.block_size);
	EXPECT_EQ(0, rp_unload());
}

TEST_F(mod, rmmod_fails_while_an_exported_block_lives)
{
	struct respool_export e = { .fd_flags = O_RDWR | O_CLOEXEC };
	struct respool_alloc a;
	void *p;
	int fd;

	ASSERT_EQ(0, rp_load(NULL));
	fd = rp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rp_alloc(fd, 2 * RP_PAGE, 0, 0, &a));
	e.handle = a.handle;
	ASSERT_EQ(0, ioctl(fd, RESPOOL_IOC_EXPORT, &e));
	close(fd);
	/* No file of the module open: the dma-buf alone keeps it. */
	EXPECT_EQ(-1, syscall(__NR_delete_module, "respool", O_NONBLOCK))
		TH_LOG("rmmod succeeded with an exported dma-buf open");
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
		TH_LOG("rmmod with an exported dma-buf: errno %d", errno);
	/* Then a mapping of it alone. */
	p = mmap(NULL, a.block_size, PROT_READ, MAP_SHARED, e.fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(e.fd);
	EXPECT_EQ(-1, syscall(__NR_delete_module, "respool", O_NONBLOCK))
		TH_LOG("rmmod succeeded with a dma-buf mapping left");
	EXPECT_TRUE(module_loaded());
	munmap(p, a.block_size);
	EXPECT_EQ(0, rp_unload());
	EXPECT_FALSE(module_loaded());
}

/*
 * 50 load/unload cycles take ~5 s in the emulated guest on an idle host:
 * the harness's default 30 s leaves too little room on a loaded one.
 */
TEST_F_TIMEOUT(mod, fifty_load_unload_cycles_leave_no_trace, 180)
{
	struct respool_alloc a;
	int i, fd, slab_visible = 0;

	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, rp_load("capacity=1M"));
		if (!i)
			slab_visible = slab_has_respool_caches() == 1;
		fd = rp_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, rp_alloc(fd, (i % 4 + 1) * RP_PAGE, 0, 0, &a));
		if (i % 2)
			ASSERT_EQ(0, rp_free(fd, a.handle));
		close(fd);
		ASSERT_EQ(0, rp_unload()) TH_LOG("cycle %d", i);
	}
	EXPECT_FALSE(module_loaded());
	EXPECT_NE(0, access(RP_DEV, F_OK));
	if (slab_visible) {
		EXPECT_EQ(0, slab_has_respool_caches());
	} else {
		TH_LOG("slab caches merged here: not checked by name");
	}
	EXPECT_NE(0, access("/sys/kernel/tracing/events/respool", F_OK));
}

TEST_HARNESS_MAIN
