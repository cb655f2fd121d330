// SPDX-License-Identifier: GPL-2.0
/*
 * inject.c - race-window injection points (test build only).
 *
 * Each point has a debugfs file, respool/inject/<name>:
 *   write "hold N [MS]" the next N tasks to reach the point stay there
 *			(at most MS ms each, default and most
 *			RESPOOL_INJECT_MAX_MS)
 *   write "release"	let every held task go on, disarm
 *   read		"hits H held K armed A"
 * A held task spins (points under a spinlock) or sleeps (the others)
 * until released or its time is up, so that a test that dies leaves no
 * task stuck for good. A spinning hold with MS set ends by itself: the
 * way to keep a window open while the task that would release it cannot
 * run (both CPUs spinning). Like fail-nth for allocations, but for
 * interleavings: the test decides when the window closes.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "inject.h"

/* Long enough for a loaded TCG guest, short of the soft-lockup detector. */
#define RESPOOL_INJECT_MAX_MS	8000

/**
 * struct respool_inject_state - one point
 * @name:	its debugfs name
 * @atomic:	reached with a spinlock held: spin, never sleep
 * @armed:	tasks still to hold (atomic_dec_if_positive() claims one)
 * @hits:	times reached since load
 * @held:	tasks holding now
 * @gen:	bumped by "release"; a held task waits for it to change
 * @max_ms:	how long one task holds at most
 */
struct respool_inject_state {
	const char *name;
	bool atomic;
	atomic_t armed;
	atomic_t hits;
	atomic_t held;
	atomic_t gen;
	atomic_t max_ms;
};

static struct respool_inject_state respool_points[RESPOOL_INJ_NR] = {
	[RESPOOL_INJ_PCPU_PUT] = { .name = "pcpu_put", .atomic = true },
	[RESPOOL_INJ_PCPU_PUT_UNLOCKED] = { .name = "pcpu_put_unlocked" },
	[RESPOOL_INJ_WAIT_QUEUE] = { .name = "wait_queue" },
	[RESPOOL_INJ_POOL_OPEN] = { .name = "pool_open" },
	[RESPOOL_INJ_EXPORT] = { .name = "export" },
	[RESPOOL_INJ_TAKEBACK_SCAN] = { .name = "takeback_scan" },
	[RESPOOL_INJ_TAKEBACK] = { .name = "takeback" },
	[RESPOOL_INJ_FAULT] = { .name = "fault" },
};

static DECLARE_WAIT_QUEUE_HEAD(respool_inject_wq);
static struct dentry *respool_inject_dir;

/* debugfs respool/, for the test build's other files (check.c). */
struct dentry *respool_debugfs_dir(void)
{
	return respool_inject_dir;
}

void respool_inject(enum respool_inject_point p)
{
	struct respool_inject_state *s = &respool_points[p];
	unsigned long deadline;
	int gen, ms;

	atomic_inc(&s->hits);
	if (atomic_dec_if_positive(&s->armed) < 0)
		return;
	gen = atomic_read(&s->gen);
	ms = atomic_read(&s->max_ms);
	atomic_inc(&s->held);
	if (s->atomic) {
		deadline = jiffies + msecs_to_jiffies(ms);
		while (atomic_read(&s->gen) == gen &&
		       time_before(jiffies, deadline))
			cpu_relax();
	} else {
		wait_event_timeout(respool_inject_wq,
				   atomic_read(&s->gen) != gen,
				   msecs_to_jiffies(ms));
	}
	atomic_dec(&s->held);
}

static ssize_t respool_inject_read(struct file *file, char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct respool_inject_state *s = file->private_data;
	char buf[64];
	int n;

	n = scnprintf(buf, sizeof(buf), "hits %d held %d armed %d\n",
		      atomic_read(&s->hits), atomic_read(&s->held),
		      atomic_read(&s->armed));
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static ssize_t respool_inject_write(struct file *file,
				    const char __user *ubuf, size_t count,
				    loff_t *ppos)
{
	struct respool_inject_state *s = file->private_data;
	int n, ms = RESPOOL_INJECT_MAX_MS;
	char buf[32];

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	strim(buf);
	if (sscanf(buf, "hold %d %d", &n, &ms) >= 1 && n > 0 && ms > 0) {
		atomic_set(&s->max_ms, min(ms, RESPOOL_INJECT_MAX_MS));
		atomic_set(&s->armed, n);
	} else if (!strcmp(buf, "release")) {
		atomic_set(&s->armed, 0);
		atomic_inc(&s->gen);
		wake_up_all(&respool_inject_wq);
	} else {
		return -EINVAL;
	}
	return count;
}

static const struct file_operations respool_inject_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= respool_inject_read,
	.write	= respool_inject_write,
	.llseek	= default_llseek,
};

int respool_inject_init(void)
{
	struct dentry *root;
	int i;

	root = debugfs_create_dir("respool", NULL);
	respool_inject_dir = root;
	root = debugfs_create_dir("inject", root);
	for (i = 0; i < RESPOOL_INJ_NR; i++)
		debugfs_create_file(respool_points[i].name, 0600, root,
				    &respool_points[i], &respool_inject_fops);
	return 0;
}

void respool_inject_exit(void)
{
	int i;

	/* No task may stay held in code that is about to go away. */
	for (i = 0; i < RESPOOL_INJ_NR; i++) {
		atomic_set(&respool_points[i].armed, 0);
		atomic_inc(&respool_points[i].gen);
	}
	wake_up_all(&respool_inject_wq);
	debugfs_remove_recursive(respool_inject_dir);
}
