// SPDX-License-Identifier: GPL-2.0
/*
 * race_test - races reproduced on demand, not by luck.
 *
 * Each test holds one race window of the pool open with an injection
 * point of the module's test build (kmod/inject.h, debugfs
 * respool/inject/<point>), runs the racing operation inside it, and then
 * checks the outcome that the window used to break:
 *
 * - a FREE into an empty CPU cache, between its "nobody waits" check and
 *   adding the block, while an ALLOC queues and drains the caches: the
 *   waiter must not sleep beside the freed block (lost wakeup);
 * - a close() of the file while an ALLOC is between taking the file and
 *   queuing its waiter: the wait must end with EBADF, and a close in
 *   another process (a fork's copy) must not end it;
 * - a settings change while a FREE is on its way into a CPU cache: the
 *   block must not be cached by the old settings.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define SEC	1000000000ULL

/* The outcome of an ALLOC made by a thread or a child. */
struct outcome {
	int ret;
	uint64_t handle;
	uint64_t ns;
};

FIXTURE(race) {
	int sfd;	/* stats only */
	int fd;		/* fills the pool */
	pid_t kid;
	int rfd;	/* the child's outcome */
};

FIXTURE_SETUP(race)
{
	const char *why = rp_skip_reason();

	self->sfd = self->fd = self->rfd = -1;
	self->kid = 0;
	if (why)
		SKIP(return, "%s", why);
	why = rp_inject_skip_reason();
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(race)
{
	/* Never leave a task held at a point. */
	rp_inject("wait_queue", "release");
	rp_inject("pcpu_put", "release");
	rp_inject("pcpu_put_unlocked", "release");
	if (self->kid > 0) {
		kill(self->kid, SIGKILL);
		waitpid(self->kid, NULL, 0);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
}

static int setup(FIXTURE_DATA(race) *self, const char *params)
{
	int ret = rp_reload(params);

	if (ret)
		return ret;
	self->sfd = rp_open();
	self->fd = rp_open();
	return self->sfd < 0 || self->fd < 0 ? -errno : 0;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* A thread that FREEs one handle on a given CPU. */
struct freer {
	pthread_t t;
	int fd;
	uint64_t handle;
	int cpu;
	int ret;
};

static void *freer_main(void *arg)
{
	struct freer *f = arg;

	if (f->cpu >= 0 && pin(f->cpu)) {
		f->ret = -errno;
		return NULL;
	}
	f->ret = rp_free(f->fd, f->handle);
	return NULL;
}

/* A thread that ALLOCs on a file it does not own. */
struct allocer {
	pthread_t t;
	int fd;
	uint64_t size;
	uint32_t timeout_ms;
	struct outcome out;
};

static void *allocer_main(void *arg)
{
	struct allocer *a = arg;
	struct respool_alloc ra = { 0 };
	uint64_t t0 = rp_now_ns();

	a->out.ret = rp_alloc(a->fd, a->size, RESPOOL_ALLOC_TIMEOUT,
			      a->timeout_ms, &ra);
	a->out.ns = rp_now_ns() - t0;
	a->out.handle = ra.handle;
	return NULL;
}

/*
 * A child on @cpu that opens its own file and ALLOCs @size with a timeout;
 * it writes its outcome to the pipe and holds its block until killed.
 */
static pid_t spawn_waiter(FIXTURE_DATA(race) *self, int cpu, uint64_t size,
			  uint32_t timeout_ms)
{
	pid_t parent = getpid();
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct respool_alloc a = { 0 };
		struct outcome o = { 0 };
		uint64_t t0;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		close(p[0]);
		if (pin(cpu))
			_exit(2);
		fd = rp_open();
		if (fd < 0)
			_exit(2);
		t0 = rp_now_ns();
		o.ret = rp_alloc(fd, size, RESPOOL_ALLOC_TIMEOUT, timeout_ms, &a);
		o.ns = rp_now_ns() - t0;
		o.handle = a.handle;
		if (write(p[1], &o, sizeof(o)) != sizeof(o))
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	self->rfd = p[0];
	self->kid = pid;
	return pid;
}

static int read_outcome(int rfd, struct outcome *o, int ms)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	return read(rfd, o, sizeof(*o)) == sizeof(*o) ? 0 : -EIO;
}

/*
 * The lost wakeup: a waiter's drain of the CPU caches read an empty cache
 * without its lock and skipped it, while a FREE on that CPU, having seen
 * nobody waiting, was about to cache its block there; the waiter then
 * slept beside a fitting free block until its timeout.
 *
 * The waiter W (on CPU 1) is held just before it queues; the FREE (on
 * CPU 0) is then held for 2 s between its check and caching the block,
 * its CPU lock held; W is released into that window. The drain must
 * wait for the FREE and find the block: W is served at once, well before
 * its 20 s timeout, and no periodic re-check had to find it.
 */
TEST_F_TIMEOUT(race, free_into_a_cache_racing_a_waiter_wakes_it, 120)
{
	struct respool_alloc x, y;
	struct respool_stats st;
	struct freer f = { .cpu = 0 };
	struct outcome o;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs: the FREE holds one spinning");
	ASSERT_EQ(0, setup(self, "capacity=128K pcpu_cache_blocks=16 idle_trim_ms=0"));
	/* Two 64K blocks fill the pool; each fits one CPU's cache budget. */
	ASSERT_EQ(0, rp_alloc(self->fd, 64 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &x));
	ASSERT_EQ(0, rp_alloc(self->fd, 64 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &y));

	ASSERT_EQ(0, rp_inject("wait_queue", "hold 1"));
	ASSERT_LT(0, spawn_waiter(self, 1, 64 * RP_KiB, 20000));
	ASSERT_EQ(0, rp_inject_wait_held("wait_queue", 1, 30000))
		TH_LOG("the waiter never reached the point before queuing");

	ASSERT_EQ(0, rp_inject("pcpu_put", "hold 1 2000"));
	f.fd = self->fd;
	f.handle = x.handle;
	ASSERT_EQ(0, pthread_create(&f.t, NULL, freer_main, &f));
	ASSERT_EQ(0, rp_inject_wait_held("pcpu_put", 1, 30000))
		TH_LOG("the FREE never reached the CPU cache");
	/* Into the window: W queues and drains while the FREE is inside. */
	ASSERT_EQ(0, rp_inject("wait_queue", "release"));
	ASSERT_EQ(0, pthread_join(f.t, NULL));
	ASSERT_EQ(0, f.ret);

	ASSERT_EQ(0, read_outcome(self->rfd, &o, 60000));
	EXPECT_EQ(0, o.ret) TH_LOG("the waiter slept beside the freed block: %s",
				   strerror(-o.ret));
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(0, st.lost_wakeups)
		TH_LOG("the waiter was found only by the periodic re-check");
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(0, st.pcpu_bytes);
}

/*
 * close() while an ALLOC is between taking the file and queuing its
 * waiter: the waiter, once queued, used to hold the file for good (only a
 * signal or its timeout ended it). The ALLOC is held at the point just
 * before it queues, the file is closed, the ALLOC let go: it must end
 * with EBADF at once, not at its 20 s timeout.
 */
TEST_F_TIMEOUT(race, close_before_queuing_ends_the_wait, 120)
{
	struct allocer a = { .size = 4096, .timeout_ms = 20000 };
	struct respool_alloc full;
	struct respool_stats st;

	ASSERT_EQ(0, setup(self, "capacity=64K pcpu_cache_blocks=0 idle_trim_ms=0"));
	ASSERT_EQ(0, rp_alloc(self->fd, 64 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &full));
	a.fd = rp_open();
	ASSERT_LE(0, a.fd);

	ASSERT_EQ(0, rp_inject("wait_queue", "hold 1"));
	ASSERT_EQ(0, pthread_create(&a.t, NULL, allocer_main, &a));
	ASSERT_EQ(0, rp_inject_wait_held("wait_queue", 1, 30000));
	ASSERT_EQ(0, close(a.fd));
	ASSERT_EQ(0, rp_inject("wait_queue", "release"));
	ASSERT_EQ(0, pthread_join(a.t, NULL));

	EXPECT_EQ(-EBADF, a.out.ret) TH_LOG("ALLOC after close: %s after %llu ms",
		strerror(-a.out.ret), (unsigned long long)(a.out.ns / 1000000));
	/* With the ALLOC gone, the file is released: two files are left. */
	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(2, st.clients);
}

/*
 * The same window, but the close is of a fork's copy of the file: the
 * ALLOC's own file table still has it, so its wait goes on and is served
 * when room appears.
 */
TEST_F_TIMEOUT(race, close_in_another_process_keeps_the_wait, 120)
{
	struct allocer a = { .size = 4096, .timeout_ms = 30000 };
	struct respool_alloc full;
	int status;
	pid_t pid;

	ASSERT_EQ(0, setup(self, "capacity=64K pcpu_cache_blocks=0 idle_trim_ms=0"));
	ASSERT_EQ(0, rp_alloc(self->fd, 64 * RP_KiB, RESPOOL_ALLOC_NONBLOCK, 0, &full));
	a.fd = rp_open();
	ASSERT_LE(0, a.fd);

	ASSERT_EQ(0, rp_inject("wait_queue", "hold 1"));
	ASSERT_EQ(0, pthread_create(&a.t, NULL, allocer_main, &a));
	ASSERT_EQ(0, rp_inject_wait_held("wait_queue", 1, 30000));
	pid = fork();
	if (pid == 0) {
		close(a.fd);
		_exit(0);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, rp_inject("wait_queue", "release"));
	ASSERT_EQ(1, rp_wait_for_waiters(1)) TH_LOG("the ALLOC did not queue");
	ASSERT_EQ(0, rp_free(self->fd, full.handle));
	ASSERT_EQ(0, pthread_join(a.t, NULL));
	EXPECT_EQ(0, a.out.ret) TH_LOG("ALLOC: %s", strerror(-a.out.ret));
	close(a.fd);
}

/*
 * A settings change while a FREE is on its way into a CPU cache: the FREE
 * used to read the settings before taking its CPU lock, so after the
 * change drained the caches it cached its block by the old settings
 * (here: into caches just turned off).
 */
TEST_F_TIMEOUT(race, settings_change_before_the_cpu_lock_caches_nothing, 120)
{
	const char *off[] = { "config", "set", "pcpu-cache-blocks", "0", NULL };
	struct freer f = { .cpu = -1 };
	struct respool_alloc x;
	struct respool_stats st;

	if (!rp_ctl_path())
		SKIP(return, "tools/respoolctl/respoolctl is not built");
	ASSERT_EQ(0, setup(self, "capacity=1M pcpu_cache_blocks=16 idle_trim_ms=0"));
	ASSERT_EQ(0, rp_alloc(self->fd, 4096, RESPOOL_ALLOC_NONBLOCK, 0, &x));

	ASSERT_EQ(0, rp_inject("pcpu_put_unlocked", "hold 1"));
	f.fd = self->fd;
	f.handle = x.handle;
	ASSERT_EQ(0, pthread_create(&f.t, NULL, freer_main, &f));
	ASSERT_EQ(0, rp_inject_wait_held("pcpu_put_unlocked", 1, 30000));
	ASSERT_EQ(0, rp_ctl(off));
	ASSERT_EQ(0, rp_inject("pcpu_put_unlocked", "release"));
	ASSERT_EQ(0, pthread_join(f.t, NULL));
	ASSERT_EQ(0, f.ret);

	ASSERT_EQ(0, rp_stats(self->sfd, &st));
	EXPECT_EQ(0, st.pcpu_bytes) TH_LOG("a block was cached with the caches off");
	EXPECT_EQ(4096, st.reserve_bytes);
}

TEST_HARNESS_MAIN
