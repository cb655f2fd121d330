// SPDX-License-Identifier: GPL-2.0
/*
 * demo - respool doing its job, in four short acts, through librespool.
 *
 *   1. threshold reuse: a freed block serves a smaller request when the
 *      request fills at least `threshold` percent of it; a much smaller
 *      request gets a fresh block instead (threshold-rejects).
 *   2. contention: client processes of different sizes churn on a pool
 *      smaller than their combined demand; blocks are reused from the
 *      per-CPU caches and the reserve, clients wait when it is exhausted,
 *      and every client's data stays intact.
 *   3. a fair queue: with the pool full, four processes queue for large
 *      blocks; they are served strictly in arrival order, and a newcomer
 *      may not overtake them.
 *   4. a buffer passes between processes: the demo exports a block as a
 *      dma-buf and sends the fd to a consumer process, which maps it,
 *      prints what it read and drops it; the block is back in the pool.
 *
 * Expects a small pool (demo.sh loads the module with capacity=4M); reads
 * the pool's configuration from RESPOOL_IOC_STATS and scales to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "librespool.h"

#define KiB	1024UL
#define MiB	(1024UL * 1024)

static struct respool *pool;	/* the demo's own client */
static uint64_t capacity;
static long page;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	fprintf(stderr, "demo: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(err));
	va_end(ap);
	exit(1);
}

/* "96 KiB", "2.5 MiB" */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= MiB && bytes * 10 % MiB == 0)
		snprintf(buf, len, "%g MiB", (double)bytes / MiB);
	else if (bytes >= 10 * MiB)
		snprintf(buf, len, "%.1f MiB", (double)bytes / MiB);
	else if (bytes >= KiB)
		snprintf(buf, len, "%g KiB", (double)bytes / KiB);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	return buf;
}

#define H(x) human((x), (char[32]){ 0 }, 32)

static struct respool_stats stats(void)
{
	struct respool_stats st;

	memset(&st, 0, sizeof(st));
	errno = -respool_stats(pool, &st);
	if (errno)
		die("RESPOOL_IOC_STATS");
	return st;
}

/* The counters that moved between two snapshots, as "name +N, ...". */
static const char *moved(const struct respool_stats *a,
			 const struct respool_stats *b, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
#define M(f)								\
	do {								\
		if (b->f != a->f && n < len)				\
			n += snprintf(buf + n, len - n, "%s%s +%llu",	\
				      n ? ", " : "", #f,		\
				      (unsigned long long)(b->f - a->f)); \
	} while (0)
	M(pcpu_hits);
	M(reserve_hits);
	M(fresh_allocs);
	M(threshold_rejects);
	M(evictions);
	M(waits);
	M(handoffs);
#undef M
	if (!n)
		snprintf(buf, len, "no counter moved");
	return buf;
}

/* Write / check one word per page: cheap, and catches any double hand-out. */
static void stamp(void *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += page)
		*(volatile uint64_t *)((char *)p + i) = seed + i;
}

static bool intact(const void *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += page)
		if (*(const volatile uint64_t *)((const char *)p + i) !=
		    seed + i)
			return false;
	return true;
}

/* --- act 1 ------------------------------------------------------------- */

static void *step(size_t size, const char *why)
{
	struct respool_stats a = stats(), b;
	char buf[256];
	void *p;

	p = respool_alloc(pool, size, RESPOOL_ALLOC_NONBLOCK, 0);
	if (!p)
		die("alloc %zu", size);
	b = stats();
	printf("  alloc %-8s -> %-8s block  %-28s [%s]\n", H(size),
	       H(respool_usable_size(pool, p)), why, moved(&a, &b, buf,
							    sizeof(buf)));
	return p;
}

static unsigned int threshold(void)
{
	FILE *f = fopen("/sys/module/respool/parameters/threshold", "r");
	unsigned int t = 75;

	if (f) {
		if (fscanf(f, "%u", &t) != 1)
			t = 75;
		fclose(f);
	}
	return t;
}

static void act_threshold(void)
{
	cpu_set_t all, one;
	void *p;

	/* Free and alloc on one CPU, so that its cache is what we see. */
	sched_getaffinity(0, sizeof(all), &all);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);

	struct respool *fast = pool;
	const char *env = getenv("RESPOOL_FASTPATH");
	char *saved = env ? strdup(env) : NULL;

	/* The kernel's reuse: a client on the ioctl path (no library hits). */
	setenv("RESPOOL_FASTPATH", "0", 1);
	pool = respool_open_pool(getenv("RESPOOL_POOL"));
	if (saved)
		setenv("RESPOOL_FASTPATH", saved, 1);
	else
		unsetenv("RESPOOL_FASTPATH");
	free(saved);
	if (!pool)
		die("open pool %s", getenv("RESPOOL_POOL") ?: "default");

	printf("\n1. Threshold reuse: a free block of S bytes serves a request "
	       "of at least %u%% of S\n", threshold());
	p = step(96 * KiB, "(a fresh block)");
	respool_free(pool, p);
	printf("  free  96 KiB         -> kept in this CPU's cache\n");
	p = step(80 * KiB, "(80/96 = 83%: reused)");
	respool_free(pool, p);
	p = step(40 * KiB, "(40/96 = 42%: too wasteful)");
	respool_free(pool, p);
	p = step(92 * KiB, "(92/96 = 96%: reused)");
	respool_free(pool, p);
	respool_close(pool);
	pool = fast;

	printf("   The library's fast path keeps a freed block mapped and "
	       "reuses it with no system call:\n");
	p = step(96 * KiB, "(the default client)");
	respool_free(pool, p);
	printf("  free  96 KiB         -> kept by this thread (slot KEPT)\n");
	p = step(96 * KiB, "(a hit: no ALLOC at all)");
	respool_free(pool, p);
	sched_setaffinity(0, sizeof(all), &all);
}

/* --- act 2 ------------------------------------------------------------- */

#define CLIENTS 5
#define HOLD_US 2000
#define REST_US 6000

struct client_result {
	size_t size;
	unsigned long allocs;
	unsigned long waited;
	uint64_t max_wait_ns;
	unsigned long corrupt;
	int err;
};

/*
 * Take a block, write it, hold it a moment, check it, give it back. A
 * client never holds one block while it waits for another: with strict
 * FIFO waiting, holding while waiting can deadlock a set of clients.
 */
static void client(struct client_result *r, unsigned int id, unsigned int ms)
{
	struct respool *own = respool_open_pool(getenv("RESPOOL_POOL"));
	uint64_t end = now_ns() + ms * 1000000ULL, seed, t0;
	unsigned long i;
	void *p;

	if (!own) {
		r->err = errno;
		return;
	}
	for (i = 0; now_ns() < end; i++) {
		/* Try without waiting first, to count the waits. */
		p = respool_alloc(own, r->size, RESPOOL_ALLOC_NONBLOCK, 0);
		if (!p && errno == EAGAIN) {
			t0 = now_ns();
			p = respool_alloc(own, r->size, 0, 10000);
			if (p) {
				r->waited++;
				if (now_ns() - t0 > r->max_wait_ns)
					r->max_wait_ns = now_ns() - t0;
			}
		}
		if (!p) {
			r->err = errno;
			break;
		}
		r->allocs++;
		seed = ((uint64_t)id << 48) ^ i;
		stamp(p, r->size, seed);
		usleep(HOLD_US);
		if (!intact(p, r->size, seed))
			r->corrupt++;
		respool_free(own, p);
		usleep(REST_US);	/* think time, holding nothing */
	}
	respool_close(own);
}

static void act_contention(void)
{
	static const size_t sizes[CLIENTS] = {
		128 * KiB, 512 * KiB, 1 * MiB, 1536 * KiB, 1536 * KiB,
	};
	struct respool_stats a, b;
	struct client_result *r;
	uint64_t demand = 0;
	unsigned int i;

	r = mmap(NULL, sizeof(*r) * CLIENTS, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		die("mmap");
	for (i = 0; i < CLIENTS; i++)
		demand += sizes[i];
	printf("\n2. Contention: %d client processes of different sizes take, "
	       "write, hold (%d ms),\n   check and free blocks for 3 s: %s "
	       "wanted at peak from a %s pool\n   (then each rests %d ms, holding nothing)\n",
	       CLIENTS, HOLD_US / 1000, H(demand), H(capacity),
	       REST_US / 1000);

	a = stats();
	for (i = 0; i < CLIENTS; i++) {
		r[i] = (struct client_result){ .size = sizes[i] };
		switch (fork()) {
		case -1:
			die("fork");
		case 0:
			client(&r[i], i + 1, 3000);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	b = stats();
	for (i = 0; i < CLIENTS; i++) {
		printf("  client %c (%-8s): %6lu blocks, %4lu waited "
		       "(longest %5.1f ms), data %s",
		       'A' + i, H(r[i].size), r[i].allocs, r[i].waited,
		       r[i].max_wait_ns / 1e6,
		       r[i].corrupt ? "CORRUPTED" : "intact");
		if (r[i].err)
			printf(", stopped: %s", strerror(r[i].err));
		printf("\n");
	}
	printf("  pool: %llu allocs: %llu per-CPU cache hits, %llu reserve hits, "
	       "%llu handed over\n        by a freeing client, %llu fresh; "
	       "%llu threshold rejects, %llu evictions, %llu waits\n",
	       (unsigned long long)(b.allocs - a.allocs),
	       (unsigned long long)(b.pcpu_hits - a.pcpu_hits),
	       (unsigned long long)(b.reserve_hits - a.reserve_hits),
	       (unsigned long long)(b.handoffs - a.handoffs),
	       (unsigned long long)(b.fresh_allocs - a.fresh_allocs),
	       (unsigned long long)(b.threshold_rejects - a.threshold_rejects),
	       (unsigned long long)(b.evictions - a.evictions),
	       (unsigned long long)(b.waits - a.waits));
	printf("        peak in use %s of %s; %s zeroed before hand-out\n",
	       H(b.peak_in_use_bytes), H(b.capacity),
	       H(b.zeroed_bytes - a.zeroed_bytes));
	munmap(r, sizeof(*r) * CLIENTS);
}

/* --- act 3 ------------------------------------------------------------- */

#define QUEUE 4

struct served {
	uint64_t at_ns;
	size_t size;
	int err;
};

static void waiter(struct served *s, size_t size, unsigned int hold_ms)
{
	struct respool *own = respool_open_pool(getenv("RESPOOL_POOL"));
	void *p;

	if (!own) {
		s->err = errno;
		return;
	}
	p = respool_alloc(own, size, 0, 20000);
	s->at_ns = now_ns();
	s->size = p ? respool_usable_size(own, p) : 0;
	s->err = p ? 0 : errno;
	if (p) {
		stamp(p, size, 1);
		usleep(hold_ms * 1000);
	}
	respool_close(own);
}

static void act_queue(void)
{
	/*
	 * Each above half the pool, so they can only be served one by one;
	 * A below the threshold share of the whole pool, so that part of
	 * the pool stays free while B waits.
	 */
	const size_t sizes[QUEUE] = {
		capacity / 8 * 5, capacity / 4 * 3, capacity / 16 * 9,
		capacity / 8 * 7,
	};
	struct respool_stats st, a;
	struct served *s;
	uint64_t t0;
	unsigned int i;
	bool in_order = true;
	struct respool_alloc hog = { .size = capacity };
	struct respool_free hog_free;
	char newcomer[160];
	uint64_t t_new;
	void *p;

	s = mmap(NULL, sizeof(*s) * QUEUE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		die("mmap");
	printf("\n3. A fair queue: the demo takes the whole pool, then four "
	       "processes queue\n");
	/*
	 * Not mapped: a forked waiter would inherit the mapping and keep the
	 * block in use until it exits.
	 */
	if (ioctl(respool_fd(pool), RESPOOL_IOC_ALLOC, &hog))
		die("alloc the whole pool");
	a = stats();
	for (i = 0; i < QUEUE; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		switch (fork()) {
		case -1:
			die("fork");
		case 0:
			waiter(&s[i], sizes[i], 300);
			_exit(0);
		}
		/* Let it queue before the next one arrives. */
		do {
			usleep(2000);
			st = stats();
		} while (st.waiters < i + 1);
		printf("  %c asks for %-8s -> waits (queue: %llu)\n", 'A' + i,
		       H(sizes[i]), (unsigned long long)st.waiters);
	}
	t0 = now_ns();
	printf("  +%4.0f ms  the demo frees its %s\n", 0.0, H(capacity));
	hog_free = (struct respool_free){ .handle = hog.handle };
	if (ioctl(respool_fd(pool), RESPOOL_IOC_FREE, &hog_free))
		die("free the pool");

	/* While A holds its block, a newcomer may not overtake B. */
	usleep(100 * 1000);
	st = stats();
	t_new = now_ns();
	p = respool_alloc(pool, 64 * KiB, RESPOOL_ALLOC_NONBLOCK, 0);
	snprintf(newcomer, sizeof(newcomer),
		 "  +%4.0f ms  a newcomer asks for 64 KiB with %s free and "
		 "%llu waiting -> %s\n", (t_new - t0) / 1e6,
		 H(st.capacity - st.in_use_bytes),
		 (unsigned long long)st.waiters,
		 p ? "served (barging!)" : errno == EAGAIN ?
		 "EAGAIN: no barging" : strerror(errno));
	if (p)
		respool_free(pool, p);

	while (wait(NULL) > 0)
		;
	/* In time order: the newcomer's line goes where it happened. */
	for (i = 0; i < QUEUE; i++) {
		if (newcomer[0] && (s[i].err || s[i].at_ns > t_new)) {
			fputs(newcomer, stdout);
			newcomer[0] = 0;
		}
		if (s[i].err) {
			printf("  %c failed: %s\n", 'A' + i,
			       strerror(s[i].err));
			in_order = false;
			continue;
		}
		printf("  +%4.0f ms  %c served (%s block), holds it 300 ms\n",
		       (s[i].at_ns - t0) / 1e6, 'A' + i, H(s[i].size));
		if (i && s[i].at_ns < s[i - 1].at_ns)
			in_order = false;
	}
	fputs(newcomer, stdout);
	st = stats();
	printf("  served in arrival order: %s; waits +%llu, handoffs +%llu, "
	       "longest wait %.0f ms\n", in_order ? "yes" : "NO",
	       (unsigned long long)(st.waits - a.waits),
	       (unsigned long long)(st.handoffs - a.handoffs),
	       st.max_wait_ns / 1e6);
	munmap(s, sizeof(*s) * QUEUE);
}

/* --- act 4 ------------------------------------------------------------- */

static void send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &mh, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		die("recvmsg");
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		die("recvmsg: no fd");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The exporter's name, as /proc/self/fdinfo/FD shows it. */
static const char *exp_name(int fd, char *buf, size_t len)
{
	char path[64], line[128];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "exp_name: %63s", buf) == 1)
			break;
	fclose(f);
	return buf;
}

/* The consumer: takes the fd, maps it, prints what it read, drops it. */
static void consumer(int sock)
{
	char name[64];
	off_t size;
	char *p;
	int fd;

	fd = recv_fd(sock);
	size = lseek(fd, 0, SEEK_END);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("consumer: mmap of the dma-buf");
	printf("  consumer (pid %d): got fd %d, a dma-buf of %s from "
	       "exporter '%s'\n", getpid(), fd, H(size),
	       exp_name(fd, name, sizeof(name)));
	printf("  consumer: it reads \"%s\"%s\n", p,
	       intact(p + page, size - page, 4) ? ", and every page after "
	       "it is intact" : ", but a page after it is NOT");
	munmap(p, size);
	close(fd);
	printf("  consumer: unmapped and closed: the buffer goes back to "
	       "the pool\n");
}

static void act_export(void)
{
	struct respool_stats a, b;
	size_t size = 256 * KiB;
	int sv[2], fd, status;
	pid_t pid;
	char *p;

	printf("\n4. A buffer passes between processes: the demo exports a "
	       "block as a dma-buf\n   and sends its fd over a unix socket "
	       "to a consumer process\n");
	a = stats();
	p = respool_alloc(pool, size, 0, 0);
	if (!p)
		die("alloc %zu", size);
	snprintf(p, page, "frame 1 from the producer, pid %d", getpid());
	stamp(p + page, size - page, 4);
	fd = respool_export(pool, p, O_RDONLY | O_CLOEXEC);
	if (fd == -ENOTTY) {
		printf("  (skipped: this respool module cannot export)\n");
		respool_free(pool, p);
		return;
	}
	if (fd < 0) {
		errno = -fd;
		die("respool_export");
	}
	b = stats();
	printf("  producer (pid %d): filled %s, exported it as fd %d; the "
	       "pool now has %s exported\n", getpid(), H(size), fd,
	       H(b.exported_bytes));
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(sv[0]);
		consumer(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	send_fd(sv[0], fd);
	close(fd);
	close(sv[0]);
	printf("  producer: sent the fd and closed its own copy\n");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		printf("  the consumer FAILED (see above)\n");
	b = stats();
	printf("  back in the pool: exports +%llu, export-returns +%llu, "
	       "%s exported now; the next\n  hand-out of the block zeroes it "
	       "(another process saw it)\n",
	       (unsigned long long)(b.exports - a.exports),
	       (unsigned long long)(b.export_returns - a.export_returns),
	       H(b.exported_bytes));
}

/*
 * `demo hold`: hold two blocks until killed, for `respoolctl clients`,
 * and a third exported as a dma-buf whose fd it keeps, for the stats.
 */
static int hold(void)
{
	void *p;
	int fd;

	if (!respool_alloc(pool, 256 * 1024, 0, 0) ||
	    !respool_alloc(pool, 1024 * 1024 - 4096, 0, 0))
		die("hold: alloc");
	p = respool_alloc(pool, 64 * 1024, 0, 0);
	if (!p)
		die("hold: alloc");
	fd = respool_export(pool, p, O_RDWR | O_CLOEXEC);
	if (fd < 0 && fd != -ENOTTY) {
		errno = -fd;
		die("hold: export");
	}
	printf("holding\n");
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	struct respool_stats st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	pool = respool_open_pool(getenv("RESPOOL_POOL"));
	if (!pool)
		die("open pool %s (is the module loaded?)",
		    getenv("RESPOOL_POOL") ?: "default");
	/* "hold": keep two blocks of the pool $RESPOOL_POOL until killed. */
	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold();
	st = stats();
	capacity = st.capacity;
	printf("respool demo: a %s pool on /dev/respool, through librespool\n",
	       H(capacity));
	if (capacity < 4 * MiB)
		fprintf(stderr, "demo: expects capacity >= 4M (demo.sh "
			"loads the module so)\n");

	act_threshold();
	act_contention();
	act_queue();
	act_export();

	st = stats();
	printf("\nEnd: %s in use, %s kept free for reuse (%s in per-CPU "
	       "caches), %llu clients open\n", H(st.in_use_bytes),
	       H(st.reserve_bytes + st.pcpu_bytes), H(st.pcpu_bytes),
	       (unsigned long long)st.clients);
	respool_close(pool);
	return 0;
}
