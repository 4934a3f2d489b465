// SPDX-License-Identifier: GPL-2.0
/*
 * iowq-demo: punt work through io-wq and show what happened.
 *
 * io_uring hands the requests it cannot complete inline (or that are
 * flagged IOSQE_ASYNC) to io-wq, a pool of worker threads of the
 * submitting process, named "iou-wrk-<pid>" and listed in /proc/self/task.
 * Each step below runs one kind of io-wq work and reports its throughput
 * and the workers alive at the step's peak, per NUMA node (the node whose
 * CPUs a worker's Cpus_allowed_list covers, "any" if it spans several):
 *
 *   1   async NOPs: bound work that does nothing;
 *   2   4 KiB reads of a regular file in /tmp: bound work;
 *   3a  reads (IORING_OP_READ) of empty pipes, then the pipes written:
 *       unbound work.  A punted read of a pollable file is tried without
 *       blocking by the worker, which then arms poll and moves on;
 *   3b  the same with IORING_OP_SPLICE from the pipes to /dev/null, which
 *       does block in a worker until the pipe is written;
 *   4a  buffered writes to one file: io-wq hashes them by inode and runs
 *       them one at a time in submission order.  The file is opened with
 *       O_APPEND, so its contents record the order the writes ran in;
 *   4b  the same writes spread over several files (one hash each).
 *
 * Every SQE must get exactly one CQE with the expected result, and the
 * files must hold the writes in submission order; otherwise a FAIL line
 * is printed and the exit status is 1.  Every wait is bounded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES	64
#define MAX_CPUS	4096
#define MASK_WORDS	(MAX_CPUS / 64)
#define MAX_TIDS	4096
#define BS		4096		/* read and write size */
#define WAIT_SECS	30		/* bound on every wait for a CQE */
#define SAMPLE_US	2000		/* worker sampling period */
#define PIPE_LEN	512		/* bytes read from each pipe */
#define MAGIC		0x696f77712d64656dULL	/* "iowq-dem" */

static struct {
	double scale;
	unsigned int qd;
	unsigned int npipes;
	unsigned int nfiles;
	double linger;
	int cpu;
} opt = {
	.scale = 1.0,
	.qd = 32,
	.npipes = 16,
	.nfiles = 4,
	.linger = 1.0,
	.cpu = -1,
};

/* NUMA nodes that have CPUs, from /sys/devices/system/node. */
struct node {
	int id;
	char cpulist[256];
	uint64_t mask[MASK_WORDS];
};

static struct node nodes[MAX_NODES];
static int nr_nodes;

/* Workers seen in one sample, by node index; "any" spans nodes. */
struct wcount {
	int total;
	int node[MAX_NODES];
	int any;
};

struct tidset {
	int nr;
	int tid[MAX_TIDS];
};

/* What one step did, for its result line and the summary. */
struct step {
	const char *name;
	unsigned long ops;
	double secs;
	unsigned long long bytes;
	struct wcount peak;	/* the sample with the most workers */
	int new_workers;	/* workers not alive when the step began */
	unsigned long submits[MAX_NODES];	/* io_uring_submit() per node */
	unsigned long node_changes;	/* between consecutive submits */
	int last_node;
};

/* Shared with the sampling thread, under sample_lock. */
static pthread_mutex_t sample_lock = PTHREAD_MUTEX_INITIALIZER;
static struct step *cur_step;
static struct tidset before, seen;
static int sampler_stop;		/* __atomic accesses */

static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_secs(double s)
{
	struct timespec ts = {
		.tv_sec = (time_t)s,
		.tv_nsec = (long)((s - (time_t)s) * 1e9),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static unsigned long scaled(unsigned long n)
{
	double v = n * opt.scale;

	return v < 1 ? 1 : (unsigned long)v;
}

/* Read a small file into buf (NUL-terminated); length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Parse a CPU list such as "0-3,8,10-11" into a bitmap. */
static void parse_cpulist(const char *s, uint64_t *mask)
{
	memset(mask, 0, MASK_WORDS * sizeof(*mask));
	while (*s) {
		char *end;
		long a, b, c;

		a = strtol(s, &end, 10);
		if (end == s)
			break;
		b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (c = a; c <= b && c < MAX_CPUS; c++)
			if (c >= 0)
				mask[c / 64] |= 1ULL << (c % 64);
		s = end;
		while (*s == ',' || *s == '\n' || *s == ' ' || *s == '\t')
			s++;
	}
}

static void read_nodes(void)
{
	char path[64], buf[256];
	int id;

	for (id = 0; id < 1024 && nr_nodes < MAX_NODES; id++) {
		struct node *n = &nodes[nr_nodes];

		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/cpulist", id);
		if (read_small(path, buf, sizeof(buf)) <= 0)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (!buf[0])
			continue;	/* memory-only node */
		n->id = id;
		snprintf(n->cpulist, sizeof(n->cpulist), "%s", buf);
		parse_cpulist(buf, n->mask);
		nr_nodes++;
	}
	if (!nr_nodes) {
		/* No NUMA information: one node with every CPU. */
		nodes[0].id = 0;
		snprintf(nodes[0].cpulist, sizeof(nodes[0].cpulist), "all");
		memset(nodes[0].mask, 0xff, sizeof(nodes[0].mask));
		nr_nodes = 1;
	}
}

/* Index of the one node a CPU mask falls on, or -1 if several (or none). */
static int mask_node(const uint64_t *mask)
{
	int i, w, hit = -1;

	for (i = 0; i < nr_nodes; i++) {
		for (w = 0; w < MASK_WORDS; w++)
			if (mask[w] & nodes[i].mask[w])
				break;
		if (w == MASK_WORDS)
			continue;
		if (hit >= 0)
			return -1;
		hit = i;
	}
	return hit;
}

static int cpu_node(int cpu)
{
	int i;

	if (cpu < 0 || cpu >= MAX_CPUS)
		return -1;
	for (i = 0; i < nr_nodes; i++)
		if (nodes[i].mask[cpu / 64] & 1ULL << (cpu % 64))
			return i;
	return -1;
}

/*
 * io-wq queues work on the node the submitter runs on: note where each
 * io_uring_submit() is made from.
 */
static void note_submit(struct step *st)
{
	int node = cpu_node(sched_getcpu());

	if (node < 0)
		return;
	st->submits[node]++;
	if (st->last_node >= 0 && node != st->last_node)
		st->node_changes++;
	st->last_node = node;
}

/* Node index of a thread from its Cpus_allowed_list, -1 for "any". */
static int task_node(const char *tid)
{
	static const char key[] = "Cpus_allowed_list:";
	uint64_t mask[MASK_WORDS];
	char path[300], buf[4096];
	char *p;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -2;	/* gone */
	p = strstr(buf, key);
	if (!p)
		return -1;
	p += sizeof(key) - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	p[strcspn(p, "\n")] = '\0';
	parse_cpulist(p, mask);
	return mask_node(mask);
}

static void tidset_add(struct tidset *set, int tid)
{
	int i;

	for (i = 0; i < set->nr; i++)
		if (set->tid[i] == tid)
			return;
	if (set->nr < MAX_TIDS)
		set->tid[set->nr++] = tid;
}

static bool tidset_has(const struct tidset *set, int tid)
{
	int i;

	for (i = 0; i < set->nr; i++)
		if (set->tid[i] == tid)
			return true;
	return false;
}

/*
 * Count the io-wq workers of this process: threads whose comm starts
 * with "iou-wrk-".  Their TIDs are added to tids if it is not NULL.
 */
static void sample_workers(struct wcount *wc, struct tidset *tids)
{
	char path[300], comm[32];
	struct dirent *de;
	DIR *dir;

	memset(wc, 0, sizeof(*wc));
	dir = opendir("/proc/self/task");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		int node;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		if (read_small(path, comm, sizeof(comm)) < 0 ||
		    strncmp(comm, "iou-wrk-", 8))
			continue;
		node = task_node(de->d_name);
		if (node == -2)
			continue;
		wc->total++;
		if (node < 0)
			wc->any++;
		else
			wc->node[node]++;
		if (tids)
			tidset_add(tids, atoi(de->d_name));
	}
	closedir(dir);
}

/* One sample into the current step's peak and its set of workers seen. */
static void sample_step(void)
{
	struct tidset *tids = malloc(sizeof(*tids));
	struct wcount wc;
	int i;

	if (!tids)
		return;
	tids->nr = 0;
	sample_workers(&wc, tids);
	pthread_mutex_lock(&sample_lock);
	if (cur_step) {
		if (wc.total > cur_step->peak.total)
			cur_step->peak = wc;
		for (i = 0; i < tids->nr; i++)
			tidset_add(&seen, tids->tid[i]);
	}
	pthread_mutex_unlock(&sample_lock);
	free(tids);
}

static void *sampler(void *arg)
{
	bool active;

	(void)arg;
	while (!__atomic_load_n(&sampler_stop, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&sample_lock);
		active = cur_step;
		pthread_mutex_unlock(&sample_lock);
		if (active)
			sample_step();
		sleep_secs(SAMPLE_US / 1e6);
	}
	return NULL;
}

static void begin_step(struct step *st, const char *name, const char *what)
{
	struct wcount wc;

	memset(st, 0, sizeof(*st));
	st->name = name;
	st->last_node = -1;
	printf("\n== %s: %s\n", name, what);
	fflush(stdout);
	pthread_mutex_lock(&sample_lock);
	before.nr = 0;
	sample_workers(&wc, &before);
	seen.nr = 0;
	st->peak = wc;
	cur_step = st;
	pthread_mutex_unlock(&sample_lock);
}

static void fmt_nodes(char *buf, size_t size, const struct wcount *wc)
{
	size_t len = 0;
	int i;

	for (i = 0; i < nr_nodes && len < size; i++)
		len += snprintf(buf + len, size - len, "%snode%d %d",
				i ? ", " : "", nodes[i].id, wc->node[i]);
	if (wc->any && len < size)
		snprintf(buf + len, size - len, ", any %d", wc->any);
}

static void end_step(struct step *st)
{
	char nb[256];
	int i;

	sample_step();
	pthread_mutex_lock(&sample_lock);
	cur_step = NULL;
	for (i = 0; i < seen.nr; i++)
		if (!tidset_has(&before, seen.tid[i]))
			st->new_workers++;
	pthread_mutex_unlock(&sample_lock);

	printf("   %lu ops in %.1f ms: %.0f ops/s", st->ops, st->secs * 1e3,
	       st->ops / st->secs);
	if (st->bytes)
		printf(", %.1f MB/s", st->bytes / st->secs / 1e6);
	fmt_nodes(nb, sizeof(nb), &st->peak);
	printf("\n   iou-wrk at peak: %d (%s); %d new in this step\n",
	       st->peak.total, nb, st->new_workers);
	if (nr_nodes > 1) {
		size_t len = 0;

		for (i = 0; i < nr_nodes && len < sizeof(nb); i++)
			len += snprintf(nb + len, sizeof(nb) - len,
					"%snode%d %lu", i ? ", " : "",
					nodes[i].id, st->submits[i]);
		printf("   submitted from %s; %lu node changes\n", nb,
		       st->node_changes);
	}
	fflush(stdout);
}

static void wait_one(struct io_uring *ring, struct io_uring_cqe **cqe,
		     const char *what)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_SECS };
	int ret;

	ret = io_uring_wait_cqe_timeout(ring, cqe, &ts);
	if (ret == -ETIME)
		fail("%s: no completion within %d s", what, WAIT_SECS);
	if (ret)
		fail("%s: waiting for a completion: %s", what, strerror(-ret));
}

static void check_no_cqe(struct io_uring *ring, const char *what)
{
	struct io_uring_cqe *cqe;

	if (!io_uring_peek_cqe(ring, &cqe))
		fail("%s: unexpected completion (user_data %llu, res %d)",
		     what, (unsigned long long)cqe->user_data, cqe->res);
}

/*
 * A pipelined run of "total" requests, at most "qd" in flight.  Request
 * idx uses buffer slot "slot"; user_data carries both.
 */
struct job {
	const char *what;
	unsigned long total;
	unsigned int qd;
	void (*prep)(struct job *j, struct io_uring_sqe *sqe,
		     unsigned long idx, unsigned int slot);
	int expect;				/* res of every request */
	void (*verify)(struct job *j, unsigned long idx, unsigned int slot);
	char *bufs;				/* qd buffers of BS bytes */
	int *fds;
	unsigned int nfds;
	unsigned long nblocks;			/* of the file read */
};

static void run_job(struct io_uring *ring, struct job *j, struct step *st)
{
	unsigned long next = 0, completed = 0;
	unsigned int *free_slots, nfree;
	unsigned char *done;
	double t0;

	done = calloc(j->total, 1);
	free_slots = calloc(j->qd, sizeof(*free_slots));
	if (!done || !free_slots)
		fail("%s: out of memory", j->what);
	for (nfree = 0; nfree < j->qd; nfree++)
		free_slots[nfree] = j->qd - 1 - nfree;

	t0 = now();
	while (completed < j->total) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen_cqes = 0;
		int queued = 0, ret;

		while (next < j->total && nfree) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			unsigned int slot;

			if (!sqe)
				break;
			slot = free_slots[--nfree];
			j->prep(j, sqe, next, slot);
			sqe->flags |= IOSQE_ASYNC;
			io_uring_sqe_set_data64(sqe, (__u64)slot << 32 | next);
			next++;
			queued++;
		}
		if (queued) {
			note_submit(st);
			ret = io_uring_submit(ring);
			if (ret != queued)
				fail("%s: submitted %d of %d SQEs: %s", j->what,
				     ret, queued, ret < 0 ? strerror(-ret) : "");
		}

		wait_one(ring, &cqe, j->what);
		io_uring_for_each_cqe(ring, head, cqe) {
			unsigned long idx = cqe->user_data & 0xffffffffUL;
			unsigned int slot = cqe->user_data >> 32;

			if (idx >= next || slot >= j->qd)
				fail("%s: completion with unknown user_data %llu",
				     j->what, (unsigned long long)cqe->user_data);
			if (done[idx])
				fail("%s: request %lu completed twice",
				     j->what, idx);
			if (cqe->res != j->expect)
				fail("%s: request %lu: res %d (%s), expected %d",
				     j->what, idx, cqe->res,
				     cqe->res < 0 ? strerror(-cqe->res) : "short",
				     j->expect);
			if (j->verify)
				j->verify(j, idx, slot);
			done[idx] = 1;
			completed++;
			free_slots[nfree++] = slot;
			seen_cqes++;
		}
		io_uring_cq_advance(ring, seen_cqes);
	}
	st->secs = now() - t0;
	st->ops = j->total;
	check_no_cqe(ring, j->what);
	free(done);
	free(free_slots);
}

static void prep_nop(struct job *j, struct io_uring_sqe *sqe,
		     unsigned long idx, unsigned int slot)
{
	(void)j;
	(void)idx;
	(void)slot;
	io_uring_prep_nop(sqe);
}

static void prep_read(struct job *j, struct io_uring_sqe *sqe,
		      unsigned long idx, unsigned int slot)
{
	unsigned long blk = idx % j->nblocks;

	io_uring_prep_read(sqe, j->fds[0], j->bufs + (size_t)slot * BS, BS,
			   (__u64)blk * BS);
}

static void verify_read(struct job *j, unsigned long idx, unsigned int slot)
{
	uint64_t got, want = MAGIC ^ (idx % j->nblocks);

	memcpy(&got, j->bufs + (size_t)slot * BS, sizeof(got));
	if (got != want)
		fail("%s: request %lu read the wrong data", j->what, idx);
}

/* Header of each written block; the rest is filled from it. */
struct wblock {
	uint64_t magic;
	uint32_t file;
	uint32_t seq;		/* position in that file's submission order */
};

static unsigned char fill_byte(uint32_t file, uint32_t seq)
{
	return (unsigned char)(seq * 31 + file * 7 + 1);
}

static void make_block(char *buf, uint32_t file, uint32_t seq)
{
	struct wblock h = { .magic = MAGIC, .file = file, .seq = seq };

	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), fill_byte(file, seq), BS - sizeof(h));
}

static void prep_write(struct job *j, struct io_uring_sqe *sqe,
		       unsigned long idx, unsigned int slot)
{
	unsigned int file = idx % j->nfds;
	char *buf = j->bufs + (size_t)slot * BS;

	make_block(buf, file, idx / j->nfds);
	/* Offset -1: at the file position; O_APPEND makes it the end. */
	io_uring_prep_write(sqe, j->fds[file], buf, BS, -1);
}

/*
 * The writes to a file must appear in it in the order they were
 * submitted: block k of file f holds the k-th write to f.
 */
static void verify_file(const char *what, int fd, unsigned int file,
			unsigned long nwrites)
{
	char *buf = malloc(BS), *want = malloc(BS);
	unsigned long k;
	off_t size;

	if (!buf || !want)
		fail("%s: out of memory", what);
	size = lseek(fd, 0, SEEK_END);
	if (size != (off_t)(nwrites * BS))
		fail("%s: file %u has %lld bytes, expected %lu", what, file,
		     (long long)size, nwrites * BS);
	for (k = 0; k < nwrites; k++) {
		struct wblock h;

		if (pread(fd, buf, BS, (off_t)k * BS) != BS)
			fail("%s: reading back file %u: %s", what, file,
			     strerror(errno));
		memcpy(&h, buf, sizeof(h));
		if (h.magic != MAGIC || h.file != file)
			fail("%s: file %u block %lu: not written by us",
			     what, file, k);
		if (h.seq != k)
			fail("%s: file %u block %lu holds write %u: not in submission order",
			     what, file, k, h.seq);
		make_block(want, file, h.seq);
		if (memcmp(buf, want, BS))
			fail("%s: file %u block %lu: corrupt contents",
			     what, file, k);
	}
	free(buf);
	free(want);
}

static int tmp_file(const char *tag, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/iowq-demo-%s-XXXXXX", tag);
	fd = mkostemp(path, O_CLOEXEC | flags);
	if (fd < 0)
		fail("creating %s: %s", path, strerror(errno));
	unlink(path);
	return fd;
}

static char *alloc_bufs(unsigned int n)
{
	void *p;

	if (posix_memalign(&p, BS, (size_t)n * BS))
		fail("out of memory");
	memset(p, 0, (size_t)n * BS);
	return p;
}

static void step_nops(struct io_uring *ring, struct step *st)
{
	struct job j = {
		.what = "async NOP",
		.total = scaled(32000),
		.qd = opt.qd,
		.prep = prep_nop,
		.expect = 0,
	};
	char what[128];

	snprintf(what, sizeof(what),
		 "%lu NOPs with IOSQE_ASYNC at queue depth %u (bound work)",
		 j.total, j.qd);
	begin_step(st, "1 async NOP", what);
	run_job(ring, &j, st);
	end_step(st);
}

static void step_reads(struct io_uring *ring, struct step *st)
{
	unsigned long nblocks = scaled(1024), b;
	struct job j = {
		.what = "file read",
		.total = scaled(12000),
		.qd = opt.qd,
		.prep = prep_read,
		.expect = BS,
		.verify = verify_read,
		.nblocks = nblocks,
	};
	char *blk = alloc_bufs(1), what[160];
	int fd = tmp_file("read", 0);

	for (b = 0; b < nblocks; b++) {
		uint64_t h = MAGIC ^ b;

		memcpy(blk, &h, sizeof(h));
		if (pwrite(fd, blk, BS, (off_t)b * BS) != BS)
			fail("writing the file to read: %s", strerror(errno));
	}
	j.fds = &fd;
	j.nfds = 1;
	j.bufs = alloc_bufs(j.qd);
	snprintf(what, sizeof(what),
		 "%lu reads of 4 KiB with IOSQE_ASYNC from a %lu KiB file in /tmp, queue depth %u (bound work)",
		 j.total, nblocks * BS / 1024, j.qd);
	begin_step(st, "2 file read", what);
	run_job(ring, &j, st);
	st->bytes = (unsigned long long)j.total * BS;
	end_step(st);
	free(j.bufs);
	free(blk);
	close(fd);
}

/* Wait until the worker count has not changed for 0.2 s (at most 3 s). */
static void settle(void)
{
	double start = now(), stable = now();
	struct wcount wc;
	int last = -1;

	while (now() - start < 3.0) {
		sample_workers(&wc, NULL);
		if (wc.total != last) {
			last = wc.total;
			stable = now();
		} else if (now() - stable >= 0.2) {
			break;
		}
		sleep_secs(0.02);
	}
	sample_step();
}

/*
 * Requests on empty pipes: submitted together, left to settle, checked
 * not to have completed, then every pipe written; timed until all the
 * requests have completed.
 */
static void step_pipes(struct io_uring *ring, struct step *st, bool splice)
{
	unsigned int n = opt.npipes, i, got = 0;
	const char *what = splice ? "pipe splice" : "pipe read";
	char *bufs = alloc_bufs(n), desc[160], data[PIPE_LEN];
	unsigned char *done = calloc(n, 1);
	int (*fds)[2] = calloc(n, sizeof(*fds));
	int devnull = -1, ret;
	double t0;

	if (!done || !fds)
		fail("%s: out of memory", what);
	for (i = 0; i < n; i++)
		if (pipe2(fds[i], O_CLOEXEC))
			fail("%s: pipe: %s", what, strerror(errno));
	if (splice) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull < 0)
			fail("%s: /dev/null: %s", what, strerror(errno));
		snprintf(desc, sizeof(desc),
			 "%u splices of %d bytes from empty pipes to /dev/null (unbound work, blocks in the worker)",
			 n, PIPE_LEN);
	} else {
		snprintf(desc, sizeof(desc),
			 "%u reads of %d bytes with IOSQE_ASYNC from empty pipes (unbound work)",
			 n, PIPE_LEN);
	}
	begin_step(st, splice ? "3b pipe splice" : "3a pipe read", desc);

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		if (!sqe)
			fail("%s: no free SQE", what);
		if (splice)
			io_uring_prep_splice(sqe, fds[i][0], -1, devnull, -1,
					     PIPE_LEN, 0);
		else
			io_uring_prep_read(sqe, fds[i][0],
					   bufs + (size_t)i * BS, PIPE_LEN, -1);
		sqe->flags |= IOSQE_ASYNC;
		io_uring_sqe_set_data64(sqe, i);
	}
	note_submit(st);
	ret = io_uring_submit(ring);
	if (ret != (int)n)
		fail("%s: submitted %d of %u SQEs", what, ret, n);

	settle();
	check_no_cqe(ring, what);
	{
		struct wcount wc;
		char nb[256];

		sample_workers(&wc, NULL);
		fmt_nodes(nb, sizeof(nb), &wc);
		printf("   all %u pending, iou-wrk alive: %d (%s); writing the pipes\n",
		       n, wc.total, nb);
		fflush(stdout);
	}

	t0 = now();
	for (i = 0; i < n; i++) {
		memset(data, 'a' + i % 26, sizeof(data));
		data[0] = (char)i;
		if (write(fds[i][1], data, sizeof(data)) != sizeof(data))
			fail("%s: writing pipe %u: %s", what, i,
			     strerror(errno));
	}
	while (got < n) {
		struct io_uring_cqe *cqe;
		unsigned long idx;

		wait_one(ring, &cqe, what);
		idx = cqe->user_data;
		if (idx >= n)
			fail("%s: completion with unknown user_data %lu",
			     what, idx);
		if (done[idx])
			fail("%s: request %lu completed twice", what, idx);
		if (cqe->res != PIPE_LEN)
			fail("%s: request %lu: res %d (%s), expected %d", what,
			     idx, cqe->res,
			     cqe->res < 0 ? strerror(-cqe->res) : "short",
			     PIPE_LEN);
		if (!splice) {
			memset(data, 'a' + idx % 26, sizeof(data));
			data[0] = (char)idx;
			if (memcmp(bufs + idx * BS, data, sizeof(data)))
				fail("%s: request %lu read the wrong data",
				     what, idx);
		}
		done[idx] = 1;
		got++;
		io_uring_cqe_seen(ring, cqe);
	}
	st->secs = now() - t0;
	st->ops = n;
	check_no_cqe(ring, what);
	end_step(st);
	printf("   all %u completed %.1f ms after the first pipe write\n",
	       n, st->secs * 1e3);

	for (i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	if (devnull >= 0)
		close(devnull);
	free(fds);
	free(done);
	free(bufs);
}

static void step_writes(struct io_uring *ring, struct step *st,
			unsigned int nfiles)
{
	struct job j = {
		.what = nfiles == 1 ? "one-file write" : "multi-file write",
		.total = scaled(6000) / nfiles * nfiles,
		.qd = opt.qd,
		.prep = prep_write,
		.expect = BS,
	};
	int *fds = calloc(nfiles, sizeof(*fds));
	char what[200];
	unsigned int f;

	if (!fds)
		fail("%s: out of memory", j.what);
	if (!j.total)
		j.total = nfiles;
	for (f = 0; f < nfiles; f++)
		fds[f] = tmp_file("write", O_RDWR | O_APPEND);
	j.fds = fds;
	j.nfds = nfiles;
	j.bufs = alloc_bufs(j.qd);
	if (nfiles == 1)
		snprintf(what, sizeof(what),
			 "%lu buffered 4 KiB writes with IOSQE_ASYNC to one file, queue depth %u (hashed: serialised)",
			 j.total, j.qd);
	else
		snprintf(what, sizeof(what),
			 "%lu buffered 4 KiB writes with IOSQE_ASYNC round-robin to %u files, queue depth %u (one hash each)",
			 j.total, nfiles, j.qd);
	begin_step(st, nfiles == 1 ? "4a write 1 file" : "4b write files",
		   what);
	run_job(ring, &j, st);
	st->bytes = (unsigned long long)j.total * BS;
	end_step(st);
	for (f = 0; f < nfiles; f++)
		verify_file(j.what, fds[f], f, j.total / nfiles);
	printf("   contents checked: each file holds its writes in submission order\n");
	for (f = 0; f < nfiles; f++)
		close(fds[f]);
	free(fds);
	free(j.bufs);
}

static void usage(const char *prog, int status)
{
	printf("Usage: %s [-n SCALE] [-d DEPTH] [-p PIPES] [-f FILES] [-w SECS] [-c CPU]\n"
	       "Punt work through io-wq and show the workers and throughput.\n"
	       "  -n SCALE  multiply the number of NOPs, reads and writes (default %.1f)\n"
	       "  -d DEPTH  queue depth of the NOP, read and write steps (default %u)\n"
	       "  -p PIPES  number of pipes of step 3 (default %u)\n"
	       "  -f FILES  number of files of step 4b (default %u)\n"
	       "  -w SECS   look at the workers SECS after the last step (default %.1f)\n"
	       "  -c CPU    pin the submitting thread to CPU (default: not pinned)\n"
	       "  -h        this help\n"
	       "Exit status: 0 if every check passed, 1 otherwise.\n",
	       prog, opt.scale, opt.qd, opt.npipes, opt.nfiles, opt.linger);
	exit(status);
}

static unsigned int parse_uint(const char *s, unsigned int min,
			       unsigned int max, const char *prog)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < (long)min || v > (long)max) {
		fprintf(stderr, "%s: bad number '%s' (%u..%u)\n", prog, s,
			min, max);
		usage(prog, 1);
	}
	return v;
}

static void parse_opts(int argc, char **argv)
{
	char *end;
	int c;

	while ((c = getopt(argc, argv, "n:d:p:f:w:c:h")) != -1) {
		switch (c) {
		case 'n':
			opt.scale = strtod(optarg, &end);
			if (*end || opt.scale <= 0 || opt.scale > 1000)
				usage(argv[0], 1);
			break;
		case 'd':
			opt.qd = parse_uint(optarg, 1, 4096, argv[0]);
			break;
		case 'p':
			opt.npipes = parse_uint(optarg, 1, 1024, argv[0]);
			break;
		case 'f':
			opt.nfiles = parse_uint(optarg, 2, 64, argv[0]);
			break;
		case 'w':
			opt.linger = strtod(optarg, &end);
			if (*end || opt.linger < 0 || opt.linger > 60)
				usage(argv[0], 1);
			break;
		case 'c':
			opt.cpu = parse_uint(optarg, 0, MAX_CPUS - 1, argv[0]);
			break;
		case 'h':
			usage(argv[0], 0);
			break;
		default:
			usage(argv[0], 1);
		}
	}
	if (optind < argc)
		usage(argv[0], 1);
}

int main(int argc, char **argv)
{
	struct step steps[6], *st;
	unsigned int entries, limits[2] = { 0, 0 };
	struct io_uring ring;
	struct utsname uts;
	struct wcount wc;
	pthread_t thread;
	char nb[256];
	double t0;
	int i, ret;

	parse_opts(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_nodes();
	uname(&uts);
	printf("iowq-demo: Linux %s, %ld CPUs, %d NUMA node(s):",
	       uts.release, sysconf(_SC_NPROCESSORS_ONLN), nr_nodes);
	for (i = 0; i < nr_nodes; i++)
		printf(" node%d=cpus %s", nodes[i].id, nodes[i].cpulist);
	printf("\n");

	/* The sampler is created first so that it is not pinned. */
	ret = pthread_create(&thread, NULL, sampler, NULL);
	if (ret)
		fail("pthread_create: %s", strerror(ret));
	pthread_setname_np(thread, "iowq-sampler");
	if (opt.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fail("pinning to CPU %d: %s", opt.cpu, strerror(errno));
		printf("submitting thread pinned to CPU %d\n", opt.cpu);
	}

	entries = opt.qd > opt.npipes ? opt.qd : opt.npipes;
	ret = io_uring_queue_init(entries, &ring, 0);
	if (ret)
		fail("io_uring_queue_init(%u): %s", entries, strerror(-ret));
	ret = io_uring_register_iowq_max_workers(&ring, limits);
	if (ret)
		printf("io-wq worker limits: unknown (%s)\n", strerror(-ret));
	else
		printf("io-wq worker limits: bound %u, unbound %u (ring of %u SQEs)\n",
		       limits[0], limits[1], ring.sq.ring_entries);
	printf("iou-wrk sampled every %d ms, node = node of the Cpus_allowed_list\n",
	       SAMPLE_US / 1000);

	t0 = now();
	step_nops(&ring, &steps[0]);
	step_reads(&ring, &steps[1]);
	step_pipes(&ring, &steps[2], false);
	step_pipes(&ring, &steps[3], true);
	step_writes(&ring, &steps[4], 1);
	step_writes(&ring, &steps[5], opt.nfiles);

	sleep_secs(opt.linger);
	sample_workers(&wc, NULL);
	fmt_nodes(nb, sizeof(nb), &wc);

	printf("\nsummary (peak = iou-wrk threads alive at the step's peak):\n");
	printf("  %-16s %6s %10s %14s %7s  %s\n", "step", "ops", "time",
	       "rate", "MB/s", "peak iou-wrk (per node)");
	for (i = 0; i < 6; i++) {
		char pb[256];

		st = &steps[i];
		fmt_nodes(pb, sizeof(pb), &st->peak);
		printf("  %-16s %6lu %7.1f ms %8.0f ops/s ", st->name, st->ops,
		       st->secs * 1e3, st->ops / st->secs);
		if (st->bytes)
			printf("%7.1f", st->bytes / st->secs / 1e6);
		else
			printf("%7s", "-");
		printf("  %d (%s)\n", st->peak.total, pb);
	}
	printf("iou-wrk alive %.1f s after the last step: %d (%s)\n",
	       opt.linger, wc.total, nb);

	__atomic_store_n(&sampler_stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	/* the ring's io-wq as fdinfo shows it (our kernel), while it is open */
	if (!access("/bin/iowq-stat", X_OK)) {
		char cmd[64];

		printf("io-wq of this process, from the ring's fdinfo (iowq-stat %d):\n",
		       (int)getpid());
		fflush(stdout);
		snprintf(cmd, sizeof(cmd), "/bin/iowq-stat %d", (int)getpid());
		if (system(cmd))
			printf("  (none: a kernel without io-wq statistics in fdinfo)\n");
	}
	io_uring_queue_exit(&ring);
	printf("PASS: every request completed once as expected, writes in order (%.1f s)\n",
	       now() - t0);
	return 0;
}
