/* SPDX-License-Identifier: GPL-2.0 */
/*
 * respool_util.h - small helpers shared by the respool selftests.
 *
 * Tests reconfigure the pool by reloading the module with parameters
 * (rp_reload()), so each fixture starts from a known, empty pool. The
 * module under test is named by $RESPOOL_KO, which tools/vm/run exports.
 */
#ifndef _RESPOOL_UTIL_H
#define _RESPOOL_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/respool.h>

#define RP_DEV		"/dev/respool"
#define RP_PAGE		((uint64_t)sysconf(_SC_PAGESIZE))
#define RP_KiB		1024ULL
#define RP_MiB		(1024ULL * 1024)

static inline int rp_open(void)
{
	return open(RP_DEV, O_RDWR | O_CLOEXEC);
}

/* Returns 0 or -errno; fills *out (may be NULL; zeroed on failure). */
static inline int rp_alloc(int fd, uint64_t size, uint32_t flags,
			   uint32_t timeout_ms, struct respool_alloc *out)
{
	struct respool_alloc a = {
		.size = size, .flags = flags, .timeout_ms = timeout_ms,
	};
	int ret = ioctl(fd, RESPOOL_IOC_ALLOC, &a) ? -errno : 0;

	if (out) {
		if (ret)
			memset(&a, 0, sizeof(a));
		*out = a;
	}
	return ret;
}

static inline int rp_free(int fd, uint64_t handle)
{
	struct respool_free f = { .handle = handle };

	return ioctl(fd, RESPOOL_IOC_FREE, &f) ? -errno : 0;
}

static inline int rp_info(int fd, uint64_t handle, struct respool_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return ioctl(fd, RESPOOL_IOC_INFO, info) ? -errno : 0;
}

/* Stats through @fd, or through a file of its own when fd < 0. */
static inline int rp_stats(int fd, struct respool_stats *st)
{
	int own = -1, ret;

	if (fd < 0) {
		own = fd = rp_open();
		if (fd < 0)
			return -errno;
	}
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	ret = ioctl(fd, RESPOOL_IOC_STATS, st) ? -errno : 0;
	if (own >= 0) {
		close(own);
		/* Our own file counted as a client. */
		st->clients--;
	}
	return ret;
}

/* Map a whole block; MAP_FAILED on error. */
static inline void *rp_map(int fd, const struct respool_alloc *a)
{
	return mmap(NULL, a->block_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, a->offset);
}

static inline const char *rp_ko(void)
{
	return getenv("RESPOOL_KO");
}

static inline uint64_t rp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline int rp_unload(void)
{
	/*
	 * A file closed by an exiting child may take a moment to release
	 * (longer on a loaded emulated guest): up to 20 s.
	 */
	uint64_t end = rp_now_ns() + 20 * 1000000000ULL;

	for (;;) {
		if (!syscall(__NR_delete_module, "respool", O_NONBLOCK))
			return 0;
		if (errno == ENOENT)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EBUSY)
			return -errno;
		if (rp_now_ns() >= end)
			return -errno;
		usleep(10000);
	}
}

/* Load $RESPOOL_KO with @params; returns 0 or -errno of finit_module. */
static inline int rp_load(const char *params)
{
	const char *ko = rp_ko();
	int fd, ret;

	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, params ? params : "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/* Unload and load again with @params: a fresh, empty pool. */
static inline int rp_reload(const char *params)
{
	int ret = rp_unload();

	return ret ? ret : rp_load(params);
}

/* Why the tests cannot run here, or NULL. */
static inline const char *rp_skip_reason(void)
{
	if (geteuid())
		return "needs root (runs in the test VM: tools/vm/run)";
	if (!rp_ko())
		return "RESPOOL_KO is not set (run through tools/vm/run)";
	if (access(RP_DEV, F_OK) && rp_load(NULL))
		return "the respool module cannot be loaded";
	return NULL;
}

/* Wait until the pool has @n waiters (at most ~10 s); returns the count. */
static inline uint64_t rp_wait_for_waiters(uint64_t n)
{
	struct respool_stats st;
	int i;

	for (i = 0; i < 2000; i++) {
		if (!rp_stats(-1, &st) && st.waiters >= n)
			return st.waiters;
		usleep(5000);
	}
	return rp_stats(-1, &st) ? 0 : st.waiters;
}

/*
 * Wait (at most 30 s) until no file is open, nothing is in use and nobody
 * waits: killed and exited processes' files are released as they exit,
 * which on a loaded emulated guest may take a while. Leaves the last
 * snapshot in *st; returns 0 or -errno of the stats ioctl.
 */
static inline int rp_wait_idle(struct respool_stats *st)
{
	uint64_t end = rp_now_ns() + 30 * 1000000000ULL;
	int ret;

	for (;;) {
		ret = rp_stats(-1, st);
		if (ret || (!st->clients && !st->in_use_bytes && !st->waiters))
			break;
		if (rp_now_ns() >= end)
			break;
		usleep(10000);
	}
	return ret;
}

/* Write @val to a control file (sysfs, procfs, debugfs); 0 or -errno. */
static inline int rp_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The books after a run, with every file and dma-buf closed: nothing in
 * use or exported, nobody waiting, no request left, the free bytes within
 * capacity; with @counts, as many frees as allocs and export returns as
 * exports (not after a stats reset). Then the whole capacity is taken
 * again in @maxb blocks, each in a file of its own (client_quota may
 * bound one file), so no byte went missing, and given back. For tests built on kselftest_harness.h (EXPECT_*).
 */
#ifdef __KSELFTEST_HARNESS_H
static inline void rp_expect_all_accounted(struct __test_metadata *_metadata,
					   uint64_t cap, uint64_t maxb,
					   int counts)
{
	struct respool_stats st;
	struct respool_alloc a;
	uint64_t got = 0, n = 0, i;
	int fds[1024], err = 0;

	ASSERT_EQ(0, rp_wait_idle(&st));
	EXPECT_EQ(0, st.clients) TH_LOG("open files left with every file closed");
	EXPECT_EQ(0, st.in_use_bytes) TH_LOG("bytes still in use with every file closed");
	EXPECT_EQ(0, st.blocks_in_use) TH_LOG("blocks still in use with every file closed");
	EXPECT_EQ(0, st.requested_bytes) TH_LOG("requested bytes left");
	EXPECT_EQ(0, st.waiters) TH_LOG("waiters left");
	EXPECT_EQ(0, st.lost_wakeups) TH_LOG("waits ended by the periodic re-check: a lost wakeup");
	EXPECT_GE(cap, st.reserve_bytes + st.pcpu_bytes);
	EXPECT_EQ(st.blocks_free == 0, st.reserve_bytes + st.pcpu_bytes == 0);
	EXPECT_EQ(0, st.exported_bytes) TH_LOG("exported bytes left with every dma-buf closed");
	if (counts) {
		EXPECT_EQ(st.allocs, st.frees) TH_LOG("allocs %llu != frees %llu",
			(unsigned long long)st.allocs, (unsigned long long)st.frees);
		EXPECT_EQ(st.exports, st.export_returns)
			TH_LOG("exports %llu != export returns %llu",
			       (unsigned long long)st.exports,
			       (unsigned long long)st.export_returns);
	}

	while (got + maxb <= cap && n < 1024) {
		fds[n] = rp_open();
		ASSERT_LE(0, fds[n]);
		err = rp_alloc(fds[n], maxb, RESPOOL_ALLOC_NONBLOCK, 0, &a);
		if (err) {
			close(fds[n]);
			break;
		}
		got += a.block_size;
		n++;
	}
	EXPECT_EQ(0, err) TH_LOG("ALLOC of block %llu (%llu of %llu bytes held): %s",
		(unsigned long long)n + 1, (unsigned long long)got,
		(unsigned long long)cap, strerror(-err));
	ASSERT_EQ(0, rp_stats(-1, &st));
	EXPECT_EQ(got, st.in_use_bytes);
	EXPECT_EQ(0, st.reserve_bytes + st.pcpu_bytes);
	/*
	 * Quiet, with blocks held: the debug build checks what spans the
	 * clients (their sums against the in-use gauge); a broken invariant
	 * WARNs, which fails the VM run.
	 */
	if (!access("/sys/kernel/debug/respool/check", W_OK))
		EXPECT_EQ(0, rp_write_file("/sys/kernel/debug/respool/check", "1"));
	EXPECT_EQ(0, st.blocks_free);
	EXPECT_EQ(n, st.blocks_in_use);
	for (i = 0; i < n; i++)
		close(fds[i]);
}
#endif

/* Fill a mapping with a pattern derived from @seed / check it. */
static inline void rp_fill(void *p, uint64_t len, uint64_t seed)
{
	uint64_t *w = p, i;

	for (i = 0; i < len / 8; i++)
		w[i] = seed ^ (i * 0x9e3779b97f4a7c15ULL);
}

static inline int rp_check(const void *p, uint64_t len, uint64_t seed)
{
	const uint64_t *w = p;
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != (seed ^ (i * 0x9e3779b97f4a7c15ULL)))
			return 0;
	return 1;
}

static inline int rp_all_zero(const void *p, uint64_t len)
{
	const uint64_t *w = p;
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

/*
 * respoolctl of this tree (tools/respoolctl/respoolctl, found from the
 * test binary's path), or NULL if it is not built.
 */
static inline const char *rp_ctl_path(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	char *slash;

	if (n <= 0)
		return NULL;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	strcpy(slash, "/../../tools/respoolctl/respoolctl");
	return access(path, X_OK) ? NULL : path;
}

/*
 * Run respoolctl with the NULL-terminated @argv (argv[0] is the first
 * argument, e.g. "config"); its output goes to /dev/null. Return: its
 * exit status, or -1 if it could not run.
 */
static inline int rp_ctl(const char *const argv[])
{
	const char *ctl = rp_ctl_path();
	const char *args[16] = { "respoolctl" };
	int i, st;
	pid_t pid;

	if (!ctl)
		return -1;
	for (i = 0; argv[i] && i < 14; i++)
		args[i + 1] = argv[i];
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execv(ctl, (char *const *)args);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Race-window injection points of the module's test build (kmod/inject.h),
 * under debugfs: "hold N [MS]" holds the next N tasks that reach the point
 * (at most MS ms each), "release" lets them go.
 */
#define RP_INJECT_DIR	"/sys/kernel/debug/respool/inject"

static inline int rp_inject(const char *point, const char *cmd)
{
	char path[128];

	snprintf(path, sizeof(path), RP_INJECT_DIR "/%s", point);
	return rp_write_file(path, cmd);
}

/* Read a point's counters; 0 or -errno. */
static inline int rp_inject_state(const char *point, int *hits, int *held)
{
	char path[128], buf[128];
	int fd, n, armed;

	snprintf(path, sizeof(path), RP_INJECT_DIR "/%s", point);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return sscanf(buf, "hits %d held %d armed %d", hits, held, &armed) == 3 ?
	       0 : -EIO;
}

/* Wait (at most @ms) until @n tasks hold at @point; 0 or -ETIMEDOUT. */
static inline int rp_inject_wait_held(const char *point, int n, int ms)
{
	uint64_t end = rp_now_ns() + (uint64_t)ms * 1000000ULL;
	int hits, held;

	do {
		if (!rp_inject_state(point, &hits, &held) && held >= n)
			return 0;
		usleep(1000);
	} while (rp_now_ns() < end);
	return -ETIMEDOUT;
}

/* Why the injection points cannot be used here, or NULL. */
static inline const char *rp_inject_skip_reason(void)
{
	if (access("/sys/kernel/debug/respool", F_OK) &&
	    access("/sys/kernel/debug", F_OK) == 0 &&
	    access("/sys/kernel/debug/tracing", F_OK) &&
	    system("mount -t debugfs none /sys/kernel/debug 2>/dev/null"))
		return "debugfs is not mounted and cannot be";
	if (access(RP_INJECT_DIR, F_OK))
		return "the module is not the test build (no injection points: build it with tools/build-module.sh)";
	return NULL;
}

#endif /* _RESPOOL_UTIL_H */
