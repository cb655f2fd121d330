// SPDX-License-Identifier: GPL-2.0
/*
 * stress_test - many processes hammer one small pool for a while, with
 * random sizes, timeouts, signals, SIGKILLs, FREE-while-mapped and fork,
 * while another process creates memory pressure (and drops slab caches)
 * so that the shrinker and the idle trim run concurrently.
 *
 * Data integrity: every process writes its own pattern into each block it
 * gets and verifies it before giving the block back (and a forked child
 * verifies what it inherited), so a block handed to two clients at once,
 * or reused while still mapped, shows up as corruption. A block handed out
 * must read zero or hold only this client's old bytes. At the end, with
 * every file closed, every byte is accounted for. An ALLOC may fail with
 * ENOMEM, as documented, when the page allocator has no block of that
 * order under the pressure (up to 1 MiB contiguous); those are counted.
 *
 *   RESPOOL_STRESS_SECONDS  duration (default 10)
 *   RESPOOL_STRESS_PROCS    processes (default 64)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"
#include "respool_util.h"

#define CAP		(32 * RP_MiB)
#define MAXB		(1 * RP_MiB)
#define MAXPROCS	256
#define HOLD		6

struct st_shared {
	atomic_long allocs, frees, corrupt, foreign, waits_ended, forks, kills;
	atomic_long enomem;
	atomic_long bad_errno;
	atomic_int stop;
	char first[256];
	atomic_int claimed;
};
static struct st_shared *sh;

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void note_bad(atomic_long *ctr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_bad(atomic_long *ctr, const char *fmt, ...)
{
	va_list ap;
	char buf[200];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pid %d: %s\n", getpid(), buf);
	if (!atomic_exchange(&sh->claimed, 1))
		snprintf(sh->first, sizeof(sh->first), "%s", buf);
	atomic_fetch_add(ctr, 1);
}

struct held {
	uint64_t handle, size;
	uint64_t *p;
	uint64_t seed;
};

/* Word i of a block: the owner's tag in the high half. */
static inline uint64_t word(uint32_t tag, uint64_t seed, uint64_t i)
{
	return ((uint64_t)tag << 32) | (uint32_t)(seed * 2654435761u + i);
}

static void fill(struct held *h, uint32_t tag)
{
	uint64_t i, n = h->size / 8;

	for (i = 0; i < n; i += 64)	/* one word per cache line */
		h->p[i] = word(tag, h->seed, i);
}

static bool verify(struct held *h, uint32_t tag)
{
	uint64_t i, n = h->size / 8;

	for (i = 0; i < n; i += 64)
		if (h->p[i] != word(tag, h->seed, i))
			return false;
	return true;
}

static void on_sig(int s)
{
	(void)s;
}

static void worker(uint64_t seed)
{
	struct sigaction sa = { .sa_handler = on_sig };
	struct held held[HOLD];
	int nheld = 0, fd, i;
	uint64_t r = seed;
	uint32_t tag = (uint32_t)getpid() * 2654435761u | 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigaction(SIGUSR1, &sa, NULL);
	fd = rp_open();
	if (fd < 0)
		_exit(1);
	while (!atomic_load(&sh->stop)) {
		unsigned int op = mix(&r) % 10;

		if (op < 5 && nheld < HOLD) {
			struct respool_alloc a;
			uint64_t size = mix(&r) % 4 ? (mix(&r) % 16 + 1) * RP_PAGE :
					mix(&r) % MAXB + 1;
			uint32_t flags = 0, tmo = 0;
			struct held *h;
			int ret;
			uint64_t k, n;

			if (mix(&r) % 2) {
				flags = RESPOOL_ALLOC_TIMEOUT;
				tmo = mix(&r) % 50 + 1;
			}
			ret = rp_alloc(fd, size, flags, tmo, &a);
			if (ret == -ENOMEM) {
				atomic_fetch_add(&sh->enomem, 1);
				continue;
			}
			if (ret) {
				if (ret != -ETIMEDOUT && ret != -EINTR)
					note_bad(&sh->bad_errno, "ALLOC %llu: %s",
						 (unsigned long long)size, strerror(-ret));
				atomic_fetch_add(&sh->waits_ended, 1);
				continue;
			}
			atomic_fetch_add(&sh->allocs, 1);
			h = &held[nheld];
			h->handle = a.handle;
			h->size = a.block_size;
			h->seed = mix(&r);
			h->p = rp_map(fd, &a);
			if (h->p == MAP_FAILED) {
				note_bad(&sh->bad_errno, "mmap: %s", strerror(errno));
				rp_free(fd, a.handle);
				continue;
			}
			/* Zero, or only this client's own old bytes. */
			n = h->size / 8;
			for (k = 0; k < n; k += 509)
				if (h->p[k] && (uint32_t)(h->p[k] >> 32) != tag) {
					note_bad(&sh->foreign,
						 "a new block holds another client's word %#llx",
						 (unsigned long long)h->p[k]);
					break;
				}
			fill(h, tag);
			nheld++;
		} else if (op < 8 && nheld) {
			struct held h;

			i = mix(&r) % nheld;
			h = held[i];
			held[i] = held[--nheld];
			if (!verify(&h, tag))
				note_bad(&sh->corrupt, "block %llu (%llu bytes) corrupted while held",
					 (unsigned long long)h.handle,
					 (unsigned long long)h.size);
			if (mix(&r) % 2) {
				/* FREE while mapped: ours until the unmap. */
				if (rp_free(fd, h.handle))
					note_bad(&sh->bad_errno, "FREE: %s", strerror(errno));
				sched_yield();
				if (!verify(&h, tag))
					note_bad(&sh->corrupt,
						 "freed-but-mapped block changed under us");
				munmap(h.p, h.size);
			} else {
				munmap(h.p, h.size);
				if (rp_free(fd, h.handle))
					note_bad(&sh->bad_errno, "FREE: %s", strerror(errno));
			}
			atomic_fetch_add(&sh->frees, 1);
		} else if (op == 8 && nheld && mix(&r) % 8 == 0) {
			/* A child checks the inherited mappings, then exits. */
			pid_t pid = fork();

			if (pid == 0) {
				for (i = 0; i < nheld; i++)
					if (!verify(&held[i], tag))
						note_bad(&sh->corrupt, "a forked child sees a changed block");
				_exit(0);
			}
			if (pid > 0) {
				atomic_fetch_add(&sh->forks, 1);
				waitpid(pid, NULL, 0);
			}
		} else if (op == 9 && nheld) {
			i = mix(&r) % nheld;
			if (!verify(&held[i], tag))
				note_bad(&sh->corrupt, "block changed while held");
		}
	}
	for (i = 0; i < nheld; i++)
		if (!verify(&held[i], tag))
			note_bad(&sh->corrupt, "block changed while held (at exit)");
	_exit(0);
}

/* Memory pressure: fill most of the free memory, drop slab caches. */
static void pressure(void)
{
	uint64_t avail = 0, len;
	char line[128];
	FILE *f;
	char *p;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	f = fopen("/proc/self/oom_score_adj", "w");
	if (f) {
		fputs("1000", f);
		fclose(f);
	}
	while (!atomic_load(&sh->stop)) {
		f = fopen("/proc/meminfo", "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %lu kB", &avail) == 1)
				break;
		if (f)
			fclose(f);
		len = avail * 1024 * 3 / 4;
		p = len ? mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
		if (p != MAP_FAILED) {
			for (uint64_t o = 0; o < len && !atomic_load(&sh->stop); o += 4096)
				p[o] = 1;
			munmap(p, len);
		}
		f = fopen("/proc/sys/vm/drop_caches", "w");
		if (f) {
			fputs("2", f);	/* slab shrinkers, ours included */
			fclose(f);
		}
		usleep(100000);
	}
	_exit(0);
}

FIXTURE(stress) {
	int dummy;
};

FIXTURE_SETUP(stress)
{
	const char *why = rp_skip_reason();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rp_reload("capacity=32M max_block_size=1M pcpu_cache_blocks=16 idle_trim_ms=30 threshold=50"));
}

FIXTURE_TEARDOWN(stress)
{
	if (!rp_skip_reason())
		rp_reload(NULL);
}

TEST_F_TIMEOUT(stress, many_processes_every_byte_accounted, 4 * 3600)
{
	const char *e = getenv("RESPOOL_STRESS_SECONDS");
	const char *np = getenv("RESPOOL_STRESS_PROCS");
	unsigned int secs = e && *e ? strtoul(e, NULL, 0) : 10;
	int nprocs = np && *np ? (int)strtoul(np, NULL, 0) : 64;
	pid_t pids[MAXPROCS], pp;
	uint64_t r = rp_now_ns(), t_end;
	struct respool_stats st0, st;
	long kills = 0;
	FILE *f;
	int i, left;

	if (nprocs < 1 || nprocs > MAXPROCS)
		nprocs = 64;
	f = fopen("/proc/self/oom_score_adj", "w");
	if (f) {
		fputs("-1000", f);
		fclose(f);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	ASSERT_EQ(0, rp_stats(-1, &st0));
	ksft_print_msg("%d processes for %u s (seed %llu)\n", nprocs, secs,
		       (unsigned long long)r);
	/*
	 * Workers get SIGUSR1 (to end a wait with EINTR) right after they are
	 * forked: they inherit the handler, so none dies of the default
	 * action before installing its own.
	 */
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_sig }, NULL);

	for (i = 0; i < nprocs; i++) {
		uint64_t s = mix(&r);

		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			worker(s);
	}
	pp = fork();
	ASSERT_LE(0, pp);
	if (!pp)
		pressure();

	t_end = rp_now_ns() + secs * 1000000000ULL;
	while (rp_now_ns() < t_end) {
		usleep(20000);
		i = mix(&r) % nprocs;
		if (mix(&r) % 10 == 0) {
			/* SIGKILL one, wherever it is, and replace it. */
			uint64_t s = mix(&r);

			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			kills++;
			pids[i] = fork();
			ASSERT_LE(0, pids[i]);
			if (!pids[i])
				worker(s);
		} else {
			kill(pids[i], SIGUSR1);	/* ends a wait with EINTR */
		}
	}
	atomic_store(&sh->stop, 1);
	/*
	 * SIGUSR1 ends a worker's wait, and then it sees stop. A signal that
	 * lands just before the worker begins an ALLOC without a timeout is
	 * lost on it, and if the pool stays full it would wait on: signal
	 * every worker still there again and again until all have gone.
	 */
	for (left = nprocs; left; ) {
		for (i = 0; i < nprocs; i++) {
			int status;

			if (!pids[i])
				continue;
			kill(pids[i], SIGUSR1);
			if (waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
				TH_LOG("worker ended with status %#x", status);
			pids[i] = 0;
			left--;
		}
		if (left)
			usleep(10000);
	}
	waitpid(pp, NULL, 0);

	ASSERT_EQ(0, rp_wait_idle(&st));
	ksft_print_msg("%ld allocs, %ld ENOMEM, %ld frees, %ld forks, %ld SIGKILLs, %ld waits ended; pool: %llu waits, %llu handoffs, %llu evictions, shrinker released %llu, idle trim %llu bytes\n",
		       atomic_load(&sh->allocs), atomic_load(&sh->enomem),
		       atomic_load(&sh->frees),
		       atomic_load(&sh->forks), kills, atomic_load(&sh->waits_ended),
		       (unsigned long long)st.waits, (unsigned long long)st.handoffs,
		       (unsigned long long)st.evictions,
		       (unsigned long long)st.shrinker_released_bytes,
		       (unsigned long long)st.idle_trimmed_bytes);
	EXPECT_EQ(0, atomic_load(&sh->corrupt)) TH_LOG("corruption: %s", sh->first);
	EXPECT_EQ(0, atomic_load(&sh->foreign)) TH_LOG("foreign data: %s", sh->first);
	EXPECT_EQ(0, atomic_load(&sh->bad_errno)) TH_LOG("unexpected error: %s", sh->first);
	/* Every byte is there: the whole capacity again. */
	rp_expect_all_accounted(_metadata, CAP, MAXB, 1);
}

TEST_HARNESS_MAIN
