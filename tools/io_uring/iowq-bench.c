// SPDX-License-Identifier: GPL-2.0
/*
 * iowq-bench: measure the io-wq paths of io_uring, for `make bench`.
 *
 * Each workload runs in a child process of its own, so that it starts with
 * no io-wq (the pool belongs to the submitting task) and leaves no worker
 * behind.  The child pins its submitter to one CPU (-c, CPU 0 by default),
 * so the work is queued on that CPU's node and the same pool serves it on
 * every kernel.  It warms up (-w seconds), then runs -r repetitions of -t
 * seconds each and reports the best of the repetitions (noise from a busy
 * host only ever slows a run down; the median for "info" metrics).
 *
 * Users rarely pin: every queue-depth workload, fanout and fio also runs
 * unpinned, as NAME-unpinned (nop-async-qd1-unpinned, ..., fanout-64-unpinned,
 * fio-randread-unpinned): the same measurement with the child's affinity set
 * to every online CPU, so the submitter moves between CPUs (and nodes) as
 * the scheduler likes and its work is queued on whichever node it runs on.
 * fio is pinned by inheriting the child's affinity (not by its cpus_allowed
 * option, which it is never given), so its -unpinned runs are not pinned.
 *
 *   nop-inline        NOPs completed inline at queue depth 32, no io-wq:
 *                     the ceiling, the reference for the rest (ops/s)
 *   nop-async-qd1     IOSQE_ASYNC NOPs one at a time: latency of a punt (us)
 *   nop-async-qd32    IOSQE_ASYNC NOPs kept 32 / 128 in flight (ops/s)
 *   nop-async-qd128
 *   read-bound        IOSQE_ASYNC 4 KiB reads at random offsets of a 16 MiB
 *                     file in /tmp (tmpfs), 32 in flight: bound work (ops/s)
 *   write-hashed-1    IOSQE_ASYNC 4 KiB buffered writes at random offsets,
 *   write-hashed-8    32 in flight, to 1 file or round robin to 8 files of
 *                     4 MiB: hashed work (MB/s)
 *   fanout-64         N IORING_OP_SPLICE from N empty pipes to /dev/null,
 *   fanout-256        submitted at once with IOSQE_ASYNC: each blocks a
 *                     worker (a punted read of a pipe would arm poll and free
 *                     its worker instead).  "spawn" is the time from the
 *                     submission until the workers stop multiplying (the
 *                     submitter waits; a watcher thread samples), "drain"
 *                     the time from the first pipe write until every splice
 *                     completed (ms), "workers" the iou-wrk threads at peak.
 *                     Each repetition is a fresh process; a fanout is short,
 *                     so it runs 3 * -r repetitions.
 *   fanout-fifo-32    The same with bound work: N IORING_OP_OPENAT O_RDONLY
 *   fanout-fifo-128   (no O_NONBLOCK) of N FIFOs made with mkfifo in /tmp,
 *                     submitted at once with IOSQE_ASYNC: each open blocks
 *                     its worker until a writer comes.  6.1 caps the bound
 *                     workers at min(SQ entries, 4 * CPUs), 8 with 2 CPUs,
 *                     so IORING_REGISTER_IOWQ_MAX_WORKERS first raises the
 *                     bound limit to N (the unbound one is left alone), on
 *                     both kernels.  "spawn" and "workers" as above; "drain"
 *                     the time from opening the first FIFO O_WRONLY |
 *                     O_NONBLOCK (which succeeds once a reader waits in its
 *                     open; an ENXIO, no reader yet, is retried every 0.1 ms
 *                     until a worker has taken that open) until all N opens
 *                     completed with a file descriptor.  "unstarted" (info):
 *                     the opens that had no worker yet when the release
 *                     began (0 when every open had blocked its own worker).
 *   multi-ring        two threads, on CPU 0 and CPU 1, each with its own
 *                     ring, 32 in flight of IOSQE_ASYNC NOP / 4 KiB read /
 *                     4 KiB write (to a file of its own), in turn (ops/s)
 *   fio-randread      fio (-f path) with ioengine=io_uring, force_async=1,
 *   fio-randwrite     bs=4k, iodepth=32 on a 64 MiB file in /tmp, time
 *                     based (-F seconds after 1 s of ramp), 3 runs (IOPS)
 *   idle              a burst (a fanout of 64, then async NOPs at depth 128
 *                     and async reads at depth 64), then the iou-wrk threads
 *                     still alive 1 s and 10 s after it
 *   wakeup-lat        the price of a scheduler change: how long a woken
 *                     thread waits to run while io-wq workers keep every CPU
 *                     busy.  The load: one submitter thread per CPU, pinned
 *                     to it (so that every node's pool has work, on both
 *                     kernels), keeps 32 IOSQE_ASYNC 64 KiB reads at random
 *                     offsets of a 16 MiB file in /tmp in flight, so the
 *                     workers copy memory without ever blocking.  A sleeper,
 *                     not pinned, is woken every 0.5 to 1.5 ms (at random),
 *                     first for 1.5 s by its own timer (clock_nanosleep to an
 *                     absolute time, timer slack 1 ns; latency = the time it
 *                     runs minus the expiry time), then for 1.5 s through a
 *                     pipe written by a waker thread of its process, also
 *                     not pinned (latency = the time it runs minus the time
 *                     taken just before the write; the waker waits until the
 *                     previous wakeup was taken).  Two cases: "same-proc",
 *                     the sleeper and waker are threads of the workers' own
 *                     process; "other-proc", they are in another process
 *                     (forked before the load starts) while the load runs
 *                     on.  Metrics: <case>-timer-p50, -timer-p99, -pipe-p50,
 *                     -pipe-p99 (us, lower is better: one run per boot, no
 *                     repetitions), and as info <case>-samples (wakeups
 *                     measured, both kinds), <case>-load (the MB/s the
 *                     workers read meanwhile) and workers (iou-wrk threads
 *                     after the same-proc case).  The workload's own process
 *                     is not pinned (it is no -unpinned variant: there is no
 *                     pinned one).
 *   wakeup-lat-hog    the control of wakeup-lat: the same sleepers while one
 *                     plain CPU-bound thread per CPU (pinned, no io_uring)
 *                     keeps every CPU busy, so the load is the same on both
 *                     kernels.  Its metrics are info: they tell how the
 *                     scheduler treats the sleepers next to one busy thread
 *                     per CPU (ours' io-wq load has that shape, stock's
 *                     eight workers per node another).
 *
 * Every workload that punts also reports "workers", the iou-wrk threads
 * alive at the end of its runs, and those that keep a queue depth report
 * "cqe/wait", the completions the submitter found per io_uring_enter()
 * (1: it was woken, and ran, for every single CQE).  Both are info: they
 * explain a result, neither more nor fewer is better.
 *
 * Cost mode (-C, for the cost rows of `make bench`): each measured window
 * (a repetition of a queue-depth workload or of multi-ring, a whole fanout
 * from its submission until its last CQE, a fio run of FIO_COST_IO of
 * I/O, not time based, on a file laid out before) is
 * framed by two marker instructions, xchg %bx,%bx before and xchg %cx,%cx
 * after, which the QEMU plugin harness/insn-count.c counts the guest's
 * instructions between; after each window a line "@@COST ops=N ctxsw=C
 * workers=W" gives its operations (every CQE reaped in it; fio: its I/Os),
 * the context switches of the whole guest in it (/proc/stat ctxt) and the
 * iou-wrk threads alive at its end.  idle and wakeup-lat have no
 * operations to count and do not run with -C.  Wall-clock results are
 * printed as usual (the plugin slows the guest: harness/bench.py ignores
 * them in cost boots).
 *
 * Results are lines "@@BENCH <workload> <metric> <value> <unit> <better>"
 * where better is "higher", "lower" or "info", followed by "# " and the
 * values of the repetitions; "@@BENCH-BEGIN <workload>" and
 * "@@BENCH-END <workload> rc=N" frame each workload.  harness/bench.py
 * reads them from the serial console.  Every wait is bounded; the exit
 * status is 1 if a workload failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BS		4096		/* read and write size */
#define READ_SIZE	(16 << 20)	/* the file of read-bound, multi-ring */
#define WRITE_SIZE	(4 << 20)	/* each file of write-hashed */
#define MAX_FILES	8
#define QD		32
#define MAX_REPS	64
#define WAIT_SECS	30		/* bound on every wait for a CQE */
#define SETTLE_MS	300		/* fanout: no new worker for this long */
#define IDLE_BURST	64
#define FIO_SIZE	"64m"
#define FIO_FILE	"/tmp/iowq-bench-fio"
#define FIO_REPS	3
#define FIO_COST_IO	"128m"		/* -C: each fio run moves this much */

enum kind { K_NOP = 1, K_READ, K_WRITE };

static struct {
	double secs;		/* one repetition */
	double warmup;
	int reps;
	int cpu;
	const char *fio;
	int fio_secs;
	bool cost;		/* -C: mark windows for the plugin */
} opt = {
	.secs = 0.5,
	.warmup = 0.3,
	.reps = 5,
	.cpu = 0,
	.fio = "/usr/bin/fio",
	.fio_secs = 2,
};

static int nr_cpus;

/* -C: the context switches of the guest when the window began */
static unsigned long long cost_ctxt;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "iowq-bench: error: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	exit(1);
}

/* fork(), with stdout flushed first so that the child repeats nothing. */
static pid_t fork_flushed(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	return pid;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d;

	while ((d = t - now()) > 0)
		usleep(d > 0.1 ? 100000 : (useconds_t)(d * 1e6) + 1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % nr_cpus, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity(CPU %d): %s", cpu % nr_cpus, strerror(errno));
}

/* The opposite of pin(): free to run on every online CPU. */
static void unpin(void)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	for (cpu = 0; cpu < nr_cpus && cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity(all CPUs): %s", strerror(errno));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_REPS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * One result line: the best of the repetitions (the highest or lowest;
 * noise on a shared host only ever slows a run down), or their median for
 * an "info" metric, then each of them.
 */
static void result(const char *wl, const char *metric, const double *v, int n,
		   const char *unit, const char *better)
{
	double best = median(v, n);
	int i;

	for (i = 0; i < n; i++) {
		if (!strcmp(better, "higher") && v[i] > best)
			best = v[i];
		if (!strcmp(better, "lower") && v[i] < best)
			best = v[i];
	}
	printf("@@BENCH %s %s %.6g %s %s #", wl, metric, best, unit, better);
	for (i = 0; i < n; i++)
		printf(" %.6g", v[i]);
	printf("\n");
	fflush(stdout);
}

/* iou-wrk threads of this process, by their comm. */
static int count_workers(void)
{
	char path[300], comm[32];
	struct dirent *de;
	int n = 0, fd, len;
	DIR *dir;

	dir = opendir("/proc/self/task");
	if (!dir)
		die("opendir /proc/self/task: %s", strerror(errno));
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;	/* gone meanwhile */
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len > 0 && !strncmp(comm, "iou-wrk-", 8))
			n++;
	}
	closedir(dir);
	return n;
}

/*
 * The number after @key (a line's start, "\n" included) in the first 8 KiB
 * of the file at @path: one read(), cheap however often it is called.
 */
static unsigned long long proc_number(const char *path, const char *key)
{
	char buf[8192], *p;
	ssize_t len;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		die("read %s: %s", path, len ? strerror(errno) : "empty");
	buf[len] = '\0';
	p = strstr(buf, key);
	if (!p)
		die("no %s line in the first %zd bytes of %s", key + 1, len, path);
	return strtoull(p + strlen(key), NULL, 10);
}

/*
 * Threads of this process, from the Threads: line of /proc/self/status:
 * cheap whatever their number.  (Listing /proc/self/task every ms took
 * half a CPU at 256 threads under QEMU, and a fan-out's watcher thread
 * competed with what it measured.)
 */
static int count_tasks(void)
{
	return proc_number("/proc/self/status", "\nThreads:");
}

/* Context switches of the whole system, from /proc/stat's ctxt line. */
static unsigned long long read_ctxt(void)
{
	return proc_number("/proc/stat", "\nctxt ");
}

/*
 * -C: a window of the cost rows begins.  The marker comes last, so that
 * reading /proc/stat is not counted in the window.
 */
static void cost_begin(void)
{
	if (!opt.cost)
		return;
	cost_ctxt = read_ctxt();
	asm volatile(".byte 0x66, 0x87, 0xdb" : : : "memory");	/* xchg %bx,%bx */
}

/* -C: the window ends, after ops operations. */
static void cost_end(unsigned long ops)
{
	unsigned long long ctxt;

	if (!opt.cost)
		return;
	asm volatile(".byte 0x66, 0x87, 0xc9" : : : "memory");	/* xchg %cx,%cx */
	ctxt = read_ctxt();
	printf("@@COST ops=%lu ctxsw=%llu workers=%d\n", ops, ctxt - cost_ctxt,
	       count_workers());
	fflush(stdout);
}

static char *alloc_buf(void)
{
	void *p;

	if (posix_memalign(&p, BS, BS))
		die("out of memory");
	memset(p, 0x5a, BS);
	return p;
}

/* A file of size bytes in /tmp, written out so that no I/O allocates. */
static int make_file(const char *name, off_t size)
{
	char path[64], *buf = alloc_buf();
	off_t off;
	int fd;

	snprintf(path, sizeof(path), "/tmp/iowq-bench-%d-%s", getpid(), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	unlink(path);
	for (off = 0; off < size; off += BS)
		if (pwrite(fd, buf, BS, off) != BS)
			die("pwrite %s: %s", path, strerror(errno));
	free(buf);
	return fd;
}

/* One ring and what its SQEs are made of. */
struct job {
	struct io_uring ring;
	unsigned int qd;
	bool async;
	int mix;		/* 0: only kind; else cycle NOP/READ/WRITE */
	enum kind kind;
	int rfd;
	int wfd[MAX_FILES];
	int nwfd;
	char *buf;
	uint64_t rnd;
	unsigned long seq;
	double batch;		/* CQEs per io_uring_enter() in the last run */
	unsigned long reaped;	/* CQEs of the last run, its drain included */
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void job_init(struct job *j, unsigned int entries, unsigned int qd)
{
	int ret;

	memset(j, 0, sizeof(*j));
	ret = io_uring_queue_init(entries, &j->ring, 0);
	if (ret)
		die("io_uring_queue_init(%u): %s", entries, strerror(-ret));
	j->qd = qd;
	j->rfd = -1;
	j->rnd = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)j;
	j->buf = alloc_buf();
}

static void job_prep(struct job *j, struct io_uring_sqe *sqe)
{
	enum kind k = j->kind;
	off_t off;
	int fd;

	if (j->mix)
		k = (enum kind)(K_NOP + j->seq % 3);
	switch (k) {
	case K_NOP:
		io_uring_prep_nop(sqe);
		break;
	case K_READ:
		off = (off_t)(xorshift(&j->rnd) % (READ_SIZE / BS)) * BS;
		io_uring_prep_read(sqe, j->rfd, j->buf, BS, off);
		break;
	case K_WRITE:
		fd = j->wfd[j->seq % j->nwfd];
		off = (off_t)(xorshift(&j->rnd) % (WRITE_SIZE / BS)) * BS;
		io_uring_prep_write(sqe, fd, j->buf, BS, off);
		break;
	default:
		die("bad kind %d", k);
	}
	if (j->async)
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data64(sqe, k);
	j->seq++;
}

static void check_cqe(struct io_uring_cqe *cqe)
{
	int want = cqe->user_data == K_NOP ? 0 : BS;

	if (cqe->res != want)
		die("CQE of kind %llu: res %d (%s), expected %d",
		    (unsigned long long)cqe->user_data, cqe->res,
		    cqe->res < 0 ? strerror(-cqe->res) : "short", want);
}

/*
 * Keep qd SQEs in flight for secs seconds; returns the elapsed time and
 * stores the number of SQEs completed within it.  Completions that arrive
 * after the end are reaped but not counted.
 */
static double job_run(struct job *j, double secs, unsigned long *opsp)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_SECS };
	double t0 = now(), end = t0 + secs, t1 = 0;
	unsigned int inflight = 0, head, n;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned long ops = 0, waits = 0, reaped = 0;
	bool stop = false;
	int ret;

	for (;;) {
		while (!stop && inflight < j->qd) {
			sqe = io_uring_get_sqe(&j->ring);
			if (!sqe)
				break;
			job_prep(j, sqe);
			inflight++;
		}
		if (!inflight)
			break;
		ret = io_uring_submit_and_wait_timeout(&j->ring, &cqe, 1, &ts, NULL);
		if (!stop)
			waits++;
		if (ret == -ETIME)
			die("no completion in %d s (%u in flight)", WAIT_SECS, inflight);
		if (ret < 0 && ret != -EINTR)
			die("io_uring_submit_and_wait_timeout: %s", strerror(-ret));
		n = 0;
		io_uring_for_each_cqe(&j->ring, head, cqe) {
			check_cqe(cqe);
			n++;
		}
		io_uring_cq_advance(&j->ring, n);
		inflight -= n;
		reaped += n;
		if (!stop) {
			ops += n;
			t1 = now();
			if (t1 >= end)
				stop = true;
		}
	}
	*opsp = ops;
	j->batch = waits ? (double)ops / waits : 0;
	j->reaped = reaped;
	return t1 - t0;
}

/* What job_measure() sees besides the speed, per repetition. */
struct job_info {
	double workers[MAX_REPS];	/* iou-wrk threads alive after it */
	double batch[MAX_REPS];		/* CQEs reaped per io_uring_enter() */
};

/*
 * Warm up, then opt.reps repetitions; each value is ops/s times scale.
 * Workers are counted after each repetition (none has idled long enough to
 * exit).
 */
static int job_measure(struct job *j, double *v, struct job_info *info, double scale)
{
	unsigned long ops;
	double t;
	int i;

	job_run(j, opt.warmup, &ops);
	for (i = 0; i < opt.reps; i++) {
		cost_begin();
		t = job_run(j, opt.secs, &ops);
		cost_end(j->reaped);
		v[i] = ops / t * scale;
		info->workers[i] = count_workers();
		info->batch[i] = j->batch;
	}
	return opt.reps;
}

/*
 * The info lines of a job: its workers, and how many completions the
 * submitter found per wait (1: woken for every CQE; more: the completions
 * came in batches).
 */
static void job_report(const char *wl, const struct job_info *info, int n)
{
	result(wl, "workers", info->workers, n, "threads", "info");
	result(wl, "cqe/wait", info->batch, n, "cqes", "info");
}

/* ---- workloads ---------------------------------------------------------- */

struct fanout_ops;

struct workload {
	const char *name;
	void (*fn)(const struct workload *w);
	int arg;
	bool own_process_per_rep;
	bool unpinned;		/* the submitter free to move between CPUs */
	const struct fanout_ops *fan;	/* a fanout: of what */
};

static void wl_nop(const struct workload *w)
{
	struct job_info info;
	double v[MAX_REPS];
	struct job j;
	int n, i;

	job_init(&j, 256, w->arg ? w->arg : QD);
	j.kind = K_NOP;
	j.async = w->arg != 0;
	n = job_measure(&j, v, &info, 1.0);
	if (w->arg == 1) {
		for (i = 0; i < n; i++)
			v[i] = 1e6 / v[i];
		result(w->name, "latency", v, n, "us", "lower");
	} else {
		result(w->name, "throughput", v, n, "ops/s", "higher");
	}
	if (j.async)
		job_report(w->name, &info, n);
}

static void wl_read(const struct workload *w)
{
	struct job_info info;
	double v[MAX_REPS];
	struct job j;
	int n;

	job_init(&j, 64, QD);
	j.kind = K_READ;
	j.async = true;
	j.rfd = make_file("read", READ_SIZE);
	n = job_measure(&j, v, &info, 1.0);
	result(w->name, "throughput", v, n, "ops/s", "higher");
	job_report(w->name, &info, n);
}

static void wl_write(const struct workload *w)
{
	struct job_info info;
	double v[MAX_REPS];
	char name[16];
	struct job j;
	int n, i;

	job_init(&j, 64, QD);
	j.kind = K_WRITE;
	j.async = true;
	j.nwfd = w->arg;
	for (i = 0; i < j.nwfd; i++) {
		snprintf(name, sizeof(name), "write%d", i);
		j.wfd[i] = make_file(name, WRITE_SIZE);
	}
	n = job_measure(&j, v, &info, BS / 1e6);
	result(w->name, "bandwidth", v, n, "MB/s", "higher");
	job_report(w->name, &info, n);
}

/*
 * Fanout: n requests that each block a worker, submitted at once with
 * IOSQE_ASYNC.  Wait until no new worker shows up for SETTLE_MS ("spawn"),
 * count the workers, then release every request and time until every CQE
 * arrived ("drain").  A kind of fanout (struct fanout_ops) says how to
 * prepare one SQE and how to release one request; the sampling is shared.
 *
 * The submitter waits (in pthread_join()) while a watcher thread samples
 * the thread count every millisecond, on the other CPU if the workload is
 * pinned: an application waits for its completions rather than polling
 * /proc on the pool's CPU, and a kernel that starts workers from the
 * submitter's task_work (ours) needs that CPU to do it.
 */
struct fanout {
	double spawn, drain;
	int workers;
	int unstarted;		/* requests no worker had taken at the release */
};

struct fanout_state {
	int n;
	int (*fd)[2];		/* splice: each pipe; fifo: [1] its writer */
	char (*path)[64];	/* fifo: each FIFO */
	int devnull;
};

struct fanout_ops {
	const char *what;	/* one request, for messages */
	void (*setup)(struct fanout_state *s, struct io_uring *ring);
	void (*prep)(struct fanout_state *s, int i, struct io_uring_sqe *sqe);
	/* Let request i complete; false: not yet possible, try again. */
	bool (*release)(struct fanout_state *s, int i);
	/* Check a CQE and free what it holds. */
	void (*reap)(struct fanout_state *s, struct io_uring_cqe *cqe);
	void (*teardown)(struct fanout_state *s);
};

static void *zalloc(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		die("out of memory");
	return p;
}

/* splice: n splices from n empty pipes to /dev/null; released by a write. */
static void splice_setup(struct fanout_state *s, struct io_uring *ring)
{
	int i;

	(void)ring;
	s->fd = zalloc(s->n * sizeof(*s->fd));
	s->devnull = open("/dev/null", O_WRONLY);
	if (s->devnull < 0)
		die("open /dev/null: %s", strerror(errno));
	for (i = 0; i < s->n; i++)
		if (pipe(s->fd[i]))
			die("pipe: %s", strerror(errno));
}

static void splice_prep(struct fanout_state *s, int i, struct io_uring_sqe *sqe)
{
	io_uring_prep_splice(sqe, s->fd[i][0], -1, s->devnull, -1, BS, 0);
}

static bool splice_release(struct fanout_state *s, int i)
{
	if (write(s->fd[i][1], "x", 1) != 1)
		die("write pipe: %s", strerror(errno));
	return true;
}

static void splice_reap(struct fanout_state *s, struct io_uring_cqe *cqe)
{
	(void)s;
	if (cqe->res != 1)
		die("fanout: splice res %d, expected 1", cqe->res);
}

static void splice_teardown(struct fanout_state *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		close(s->fd[i][0]);
		close(s->fd[i][1]);
	}
	close(s->devnull);
	free(s->fd);
}

static const struct fanout_ops fan_splice = {
	.what = "splice", .setup = splice_setup, .prep = splice_prep,
	.release = splice_release, .reap = splice_reap, .teardown = splice_teardown,
};

/*
 * fifo: n blocking opens (O_RDONLY) of n FIFOs, each waiting in its worker
 * for a writer; released by opening the FIFO O_WRONLY | O_NONBLOCK, which
 * fails with ENXIO until the reader's open is under way.  An open is bound
 * work, and 6.1 caps bound workers at min(SQ entries, 4 * CPUs), 8 with 2
 * CPUs: the cap is raised to n first, so that every open can block at once.
 */
static void fifo_setup(struct fanout_state *s, struct io_uring *ring)
{
	unsigned int limits[2] = { s->n, 0 };	/* bound, unbound (kept) */
	int i, ret;

	ret = io_uring_register_iowq_max_workers(ring, limits);
	if (ret)
		die("IORING_REGISTER_IOWQ_MAX_WORKERS(%d, 0): %s", s->n, strerror(-ret));
	s->fd = zalloc(s->n * sizeof(*s->fd));
	s->path = zalloc(s->n * sizeof(*s->path));
	for (i = 0; i < s->n; i++) {
		snprintf(s->path[i], sizeof(s->path[i]), "/tmp/iowq-bench-%d-fifo%d",
			 getpid(), i);
		unlink(s->path[i]);
		if (mkfifo(s->path[i], 0600))
			die("mkfifo %s: %s", s->path[i], strerror(errno));
		s->fd[i][0] = -1;
		s->fd[i][1] = -1;
	}
}

static void fifo_prep(struct fanout_state *s, int i, struct io_uring_sqe *sqe)
{
	io_uring_prep_openat(sqe, AT_FDCWD, s->path[i], O_RDONLY, 0);
}

static bool fifo_release(struct fanout_state *s, int i)
{
	int fd = open(s->path[i], O_WRONLY | O_NONBLOCK);

	if (fd < 0 && errno == ENXIO)
		return false;		/* no reader in its open yet */
	if (fd < 0)
		die("open %s for writing: %s", s->path[i], strerror(errno));
	s->fd[i][1] = fd;
	return true;
}

static void fifo_reap(struct fanout_state *s, struct io_uring_cqe *cqe)
{
	(void)s;
	if (cqe->res < 0)
		die("fanout: open of FIFO %llu: %s", (unsigned long long)cqe->user_data,
		    strerror(-cqe->res));
	close(cqe->res);
}

static void fifo_teardown(struct fanout_state *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		close(s->fd[i][1]);
		unlink(s->path[i]);
	}
	free(s->fd);
	free(s->path);
}

static const struct fanout_ops fan_fifo = {
	.what = "FIFO open", .setup = fifo_setup, .prep = fifo_prep,
	.release = fifo_release, .reap = fifo_reap, .teardown = fifo_teardown,
};

struct fanout_watch {
	int n, base, peak;
	int go[2];		/* a byte on it: the requests are submitted */
	double t0, t_peak;
};

/* Sample the thread count until it stops growing. */
static void *fanout_watcher(void *arg)
{
	struct fanout_watch *fw = arg;
	double deadline;
	char c;
	int cnt;

	if (read(fw->go[0], &c, 1) != 1)
		die("fanout: watcher: read: %s", strerror(errno));
	fw->peak = 0;
	fw->t_peak = fw->t0;
	deadline = fw->t0 + WAIT_SECS;
	for (;;) {
		cnt = count_tasks() - fw->base;
		if (cnt > fw->peak) {
			fw->peak = cnt;
			fw->t_peak = now();
		}
		if (fw->peak >= fw->n || now() - fw->t_peak > SETTLE_MS / 1e3)
			break;
		if (now() > deadline)
			die("fanout: workers still multiplying after %d s", WAIT_SECS);
		/* -C: fewer samples, fewer of the watcher's instructions counted */
		usleep(opt.cost ? 10000 : 1000);
	}
	return NULL;
}

static void fanout_once(struct io_uring *ring, int n, struct fanout *f,
			const struct fanout_ops *ops)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_SECS };
	struct fanout_state s = { .n = n };
	struct fanout_watch fw = { .n = n };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	double t0, t1, deadline;
	int i, ret, left;
	bool *released;
	cpu_set_t set;
	pthread_t th;

	ops->setup(&s, ring);
	released = zalloc(n * sizeof(*released));
	if (pipe(fw.go))
		die("pipe: %s", strerror(errno));
	ret = pthread_create(&th, NULL, fanout_watcher, &fw);
	if (ret)
		die("pthread_create: %s", strerror(ret));
	/* pinned (this thread has one CPU): the watcher takes another */
	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) == 1 &&
	    nr_cpus > 1) {
		CPU_ZERO(&set);
		CPU_SET((opt.cpu + 1) % nr_cpus, &set);
		ret = pthread_setaffinity_np(th, sizeof(set), &set);
		if (ret)
			die("pthread_setaffinity_np: %s", strerror(ret));
	}
	fw.base = count_tasks() - count_workers();

	cost_begin();
	t0 = now();
	for (i = 0; i < n; i++) {
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			die("fanout: SQ ring too small for %d", n);
		ops->prep(&s, i, sqe);
		sqe->flags |= IOSQE_ASYNC;
		io_uring_sqe_set_data64(sqe, i);
	}
	fw.t0 = t0;
	if (write(fw.go[1], "g", 1) != 1)
		die("fanout: write: %s", strerror(errno));
	ret = io_uring_submit(ring);
	if (ret != n)
		die("fanout: submitted %d of %d: %s", ret, n,
		    ret < 0 ? strerror(-ret) : "short");
	ret = pthread_join(th, NULL);
	if (ret)
		die("pthread_join: %s", strerror(ret));
	close(fw.go[0]);
	close(fw.go[1]);
	f->spawn = (fw.t_peak - t0) * 1e3;
	f->workers = count_workers();
	if (io_uring_cq_ready(ring))
		die("fanout: a %s completed before it was released", ops->what);

	/*
	 * Release every request; one that cannot be released yet (no worker
	 * has taken it) is retried until a worker is free for it.  How many
	 * could not be released at first says whether every request had its
	 * worker.
	 */
	t1 = now();
	deadline = t1 + WAIT_SECS;
	f->unstarted = -1;
	for (left = n; left; ) {
		for (i = 0; i < n; i++) {
			if (!released[i] && ops->release(&s, i)) {
				released[i] = true;
				left--;
			}
		}
		if (f->unstarted < 0)
			f->unstarted = left;	/* after the first pass */
		if (left && now() > deadline)
			die("fanout: %d of %d %ss still not released after %d s", left, n,
			    ops->what, WAIT_SECS);
		if (left)
			usleep(100);
	}
	for (i = 0; i < n; i++) {
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		if (ret)
			die("fanout: %d of %d %ss completed: %s", i, n, ops->what,
			    strerror(-ret));
		ops->reap(&s, cqe);
		io_uring_cqe_seen(ring, cqe);
	}
	f->drain = (now() - t1) * 1e3;
	cost_end(n);
	ops->teardown(&s);
	free(released);
}

/* Runs in a child of its own per repetition, see in_child(). */
static void wl_fanout_rep(const struct workload *w, struct fanout *f)
{
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(w->arg, &ring, 0);
	if (ret)
		die("io_uring_queue_init(%d): %s", w->arg, strerror(-ret));
	fanout_once(&ring, w->arg, f, w->fan);
}

static void wl_multi_thread_init(struct job *j, int idx)
{
	char name[16];

	job_init(j, 64, QD);
	j->mix = 1;
	j->async = true;
	snprintf(name, sizeof(name), "mr-read%d", idx);
	j->rfd = make_file(name, READ_SIZE);
	snprintf(name, sizeof(name), "mr-write%d", idx);
	j->wfd[0] = make_file(name, WRITE_SIZE);
	j->nwfd = 1;
}

struct mr_thread {
	pthread_t thread;
	int idx;
	pthread_barrier_t *bar;
	struct mr_thread *all;		/* both threads, for -C */
	unsigned long reaped;
	double v[MAX_REPS];
	struct job_info info;
};

static void *mr_main(void *arg)
{
	struct mr_thread *t = arg;
	unsigned long ops;
	struct job j;
	double secs;
	int i;

	pin(opt.cpu + t->idx);
	wl_multi_thread_init(&j, t->idx);
	pthread_barrier_wait(t->bar);
	job_run(&j, opt.warmup, &ops);
	for (i = 0; i < opt.reps; i++) {
		/* -C: thread 0 marks the window that both threads' runs fill */
		pthread_barrier_wait(t->bar);
		if (!t->idx)
			cost_begin();
		pthread_barrier_wait(t->bar);
		secs = job_run(&j, opt.secs, &ops);
		t->reaped = j.reaped;
		pthread_barrier_wait(t->bar);
		if (!t->idx)
			cost_end(t->all[0].reaped + t->all[1].reaped);
		t->v[i] = ops / secs;
		t->info.workers[i] = count_workers();
		t->info.batch[i] = j.batch;
	}
	return NULL;
}

static void wl_multi(const struct workload *w)
{
	struct mr_thread t[2];
	pthread_barrier_t bar;
	struct job_info info;
	double v[MAX_REPS];
	int i, r;

	pthread_barrier_init(&bar, NULL, 2);
	for (i = 0; i < 2; i++) {
		t[i].idx = i;
		t[i].bar = &bar;
		t[i].all = t;
		if (pthread_create(&t[i].thread, NULL, mr_main, &t[i]))
			die("pthread_create");
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i].thread, NULL);
	for (r = 0; r < opt.reps; r++) {
		v[r] = t[0].v[r] + t[1].v[r];
		info.workers[r] = t[0].info.workers[r] > t[1].info.workers[r] ?
				  t[0].info.workers[r] : t[1].info.workers[r];
		info.batch[r] = (t[0].info.batch[r] + t[1].info.batch[r]) / 2;
	}
	result(w->name, "throughput", v, opt.reps, "ops/s", "higher");
	job_report(w->name, &info, opt.reps);
}

/* The file of fio, written out as fio would lay it out. */
static int make_fio_file(void)
{
	off_t off, size = (off_t)strtoul(FIO_SIZE, NULL, 10) << 20;
	char *buf = alloc_buf();
	int fd;

	fd = open(FIO_FILE, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open %s: %s", FIO_FILE, strerror(errno));
	for (off = 0; off < size; off += BS)
		if (pwrite(fd, buf, BS, off) != BS)
			die("pwrite %s: %s", FIO_FILE, strerror(errno));
	free(buf);
	return fd;
}

/*
 * One fio run.  fio inherits the affinity of this process: the pinned
 * workloads pin it (all its threads) to opt.cpu like every other submitter,
 * without fio's cpus_allowed; the -unpinned ones leave it on every CPU.
 */
static double fio_once(const struct workload *w)
{
	const char *rw = w->arg ? "randwrite" : "randread";
	char runtime[32], out[8192], *tok, *save;
	int p[2], status, field, len = 0;
	double iops = -1, kib = -1;
	ssize_t ret;
	pid_t pid;

	snprintf(runtime, sizeof(runtime), "--runtime=%d", opt.fio_secs);
	cost_begin();
	if (pipe(p))
		die("pipe: %s", strerror(errno));
	pid = fork_flushed();
	if (!pid) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		/*
		 * -C: a fixed amount of I/O, not a fixed time: fio's start
		 * and exit are counted in the window, and divided by a number
		 * of operations that must not depend on the host's speed.
		 */
		execl(opt.fio, "fio", "--name=bench", "--filename=" FIO_FILE,
		      "--size=" FIO_SIZE, "--ioengine=io_uring", "--force_async=1",
		      "--bs=4k", "--iodepth=32", "--iodepth_batch_submit=8",
		      "--iodepth_batch_complete_min=1",
		      opt.cost ? "--io_size=" FIO_COST_IO : "--time_based",
		      opt.cost ? "--ramp_time=0" : "--ramp_time=1",
		      opt.cost ? "--loops=1" : runtime, "--output-format=terse",
		      "--terse-version=3", w->arg ? "--rw=randwrite" :
		      "--rw=randread", (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", opt.fio, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	/* the window ends when fio does: the marker runs once it has exited */
	while ((ret = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += ret;
	out[len] = 0;
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("fio %s failed (status 0x%x): %s", rw, status, out);
	field = 1;
	for (tok = strtok_r(out, ";", &save); tok; tok = strtok_r(NULL, ";", &save), field++) {
		if (field == (w->arg ? 49 : 8))
			iops = strtod(tok, NULL);
		if (field == (w->arg ? 47 : 6))
			kib = strtod(tok, NULL);
	}
	/* -C: every I/O of the run (KiB moved / 4), there is no ramp time */
	if (opt.cost && kib <= 0)
		die("fio %s: no KiB moved in its output", rw);
	if (opt.cost)
		cost_end((unsigned long)(kib / 4));
	if (iops <= 0)
		die("fio %s: no IOPS in its output", rw);
	return iops;
}

/*
 * fio with its io_uring engine, pinned like the rest (or not: -unpinned),
 * FIO_REPS runs (the file is laid out by the first); IOPS from the terse
 * output (version 3: field 8 read IOPS, field 49 write IOPS).
 */
static void wl_fio(const struct workload *w)
{
	double v[FIO_REPS];
	int i;

	if (access(opt.fio, X_OK))
		die("%s: %s (no fio in this initramfs?)", opt.fio, strerror(errno));
	/* -C: the file is laid out before the first window, not in it */
	if (opt.cost)
		close(make_fio_file());
	for (i = 0; i < FIO_REPS; i++)
		v[i] = fio_once(w);
	unlink(FIO_FILE);
	result(w->name, "iops", v, FIO_REPS, "IOPS", "higher");
}

static void wl_idle(const struct workload *w)
{
	double v1, v10, vpeak, tb;
	struct fanout f;
	struct io_uring ring;
	unsigned long ops;
	struct job j;
	int ret;

	ret = io_uring_queue_init(IDLE_BURST, &ring, 0);
	if (ret)
		die("io_uring_queue_init: %s", strerror(-ret));
	fanout_once(&ring, IDLE_BURST, &f, &fan_splice);
	job_init(&j, 256, 128);
	j.kind = K_NOP;
	j.async = true;
	job_run(&j, 0.3, &ops);
	j.qd = 64;
	j.kind = K_READ;
	j.rfd = make_file("idle", READ_SIZE);
	job_run(&j, 0.3, &ops);
	vpeak = f.workers > count_workers() ? f.workers : count_workers();

	tb = now();
	sleep_until(tb + 1);
	v1 = count_workers();
	sleep_until(tb + 10);
	v10 = count_workers();
	result(w->name, "burst-peak", &vpeak, 1, "threads", "info");
	result(w->name, "alive-1s", &v1, 1, "threads", "lower");
	result(w->name, "alive-10s", &v10, 1, "threads", "lower");
}

/*
 * wakeup-lat: how long a woken thread waits to run while io-wq workers of
 * a process keep both CPUs busy.  The load: one submitter thread per CPU
 * (pinned, so that every node's pool has work on both kernels) keeps
 * WAKE_LOAD_QD IOSQE_ASYNC reads of WAKE_LOAD_BS from a tmpfs file in
 * flight: the workers copy memory without ever blocking.  The sleepers
 * are not pinned.
 */
#define WAKE_SECS	1.5		/* sampling per case and wakeup kind */
#define WAKE_MAX	8192		/* samples per case and kind, at most */
#define WAKE_MIN_US	500		/* wakeups every 0.5 to 1.5 ms */
#define WAKE_SPAN_US	1000
#define WAKE_LOAD_QD	32
#define WAKE_LOAD_BS	(64 << 10)
#define WAKE_MAX_CPUS	16

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t wake_interval_ns(uint64_t *rnd)
{
	return (WAKE_MIN_US + (int64_t)(xorshift(rnd) % WAKE_SPAN_US)) * 1000;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

struct wake_load {
	pthread_t thread;
	int cpu;
	int rfd;			/* -1: spin (wakeup-lat-hog) */
	bool stop;			/* atomic */
	unsigned long ops;		/* atomic: reads completed */
};

static void *wake_load_main(void *arg)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_SECS };
	struct wake_load *l = arg;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	uint64_t rnd = 0x2545f4914f6cdd1dULL + l->cpu;
	unsigned int inflight = 0, slot, nfree, free_slot[WAKE_LOAD_QD];
	struct io_uring ring;
	char *buf;
	off_t off;
	int ret;

	pin(l->cpu);
	if (l->rfd < 0) {
		/* wakeup-lat-hog: CPU-bound until told to stop */
		while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED))
			;
		return NULL;
	}
	ret = io_uring_queue_init(2 * WAKE_LOAD_QD, &ring, 0);
	if (ret)
		die("io_uring_queue_init: %s", strerror(-ret));
	if (posix_memalign((void **)&buf, BS, (size_t)WAKE_LOAD_QD * WAKE_LOAD_BS))
		die("out of memory");
	memset(buf, 0, (size_t)WAKE_LOAD_QD * WAKE_LOAD_BS);
	for (nfree = 0; nfree < WAKE_LOAD_QD; nfree++)
		free_slot[nfree] = nfree;	/* a buffer per read in flight */
	for (;;) {
		while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED) && inflight < WAKE_LOAD_QD) {
			sqe = io_uring_get_sqe(&ring);
			if (!sqe)
				break;
			slot = free_slot[--nfree];
			off = (off_t)(xorshift(&rnd) % (READ_SIZE / WAKE_LOAD_BS)) * WAKE_LOAD_BS;
			io_uring_prep_read(sqe, l->rfd, buf + (size_t)slot * WAKE_LOAD_BS,
					   WAKE_LOAD_BS, off);
			sqe->flags |= IOSQE_ASYNC;
			io_uring_sqe_set_data64(sqe, slot);
			inflight++;
		}
		if (!inflight)
			break;
		ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
		if (ret == -ETIME)
			die("wakeup-lat: no read completed in %d s", WAIT_SECS);
		if (ret < 0 && ret != -EINTR)
			die("io_uring_submit_and_wait_timeout: %s", strerror(-ret));
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			if (cqe->res != WAKE_LOAD_BS)
				die("wakeup-lat: read res %d", cqe->res);
			free_slot[nfree++] = (unsigned int)cqe->user_data;
			io_uring_cqe_seen(&ring, cqe);
			inflight--;
			__atomic_add_fetch(&l->ops, 1, __ATOMIC_RELAXED);
		}
	}
	io_uring_queue_exit(&ring);
	free(buf);
	return NULL;
}

/* Reads completed so far by the load threads. */
static unsigned long load_ops(struct wake_load *load, int nload)
{
	unsigned long ops = 0;
	int i;

	for (i = 0; i < nload; i++)
		ops += __atomic_load_n(&load[i].ops, __ATOMIC_RELAXED);
	return ops;
}

/* Timer-woken: sleep until an absolute time, latency = run - expiry. */
static int wake_timer(double *lat, uint64_t *rnd)
{
	int64_t end = now_ns() + (int64_t)(WAKE_SECS * 1e9), t;
	struct timespec ts;
	int n = 0;

	while (n < WAKE_MAX && now_ns() < end) {
		t = now_ns() + wake_interval_ns(rnd);
		ts.tv_sec = t / 1000000000LL;
		ts.tv_nsec = t % 1000000000LL;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		lat[n++] = (now_ns() - t) / 1e3;
	}
	return n;
}

struct waker {
	pthread_t thread;
	int fd;
	uint64_t rnd;
	unsigned long acked;		/* atomic: wakeups the sleeper took */
};

/*
 * Pipe-woken: this thread writes the time into the pipe after a random
 * interval, once the sleeper took the previous one, and 0 at the end.
 */
static void *waker_main(void *arg)
{
	int64_t end = now_ns() + (int64_t)(WAKE_SECS * 1e9), t, deadline;
	struct waker *w = arg;
	unsigned long sent = 0;

	while (sent < WAKE_MAX && now_ns() < end) {
		sleep_ns(wake_interval_ns(&w->rnd));
		deadline = now_ns() + WAIT_SECS * 1000000000LL;
		while (__atomic_load_n(&w->acked, __ATOMIC_ACQUIRE) != sent) {
			if (now_ns() > deadline)
				die("wakeup-lat: the sleeper took no wakeup in %d s", WAIT_SECS);
			usleep(50);
		}
		t = now_ns();
		if (write(w->fd, &t, sizeof(t)) != sizeof(t))
			die("write pipe: %s", strerror(errno));
		sent++;
	}
	t = 0;
	if (write(w->fd, &t, sizeof(t)) != sizeof(t))
		die("write pipe: %s", strerror(errno));
	return NULL;
}

static int wake_pipe(double *lat, uint64_t *rnd)
{
	struct pollfd pfd;
	struct waker w;
	int p[2], n = 0;
	int64_t t;

	if (pipe(p))
		die("pipe: %s", strerror(errno));
	memset(&w, 0, sizeof(w));
	w.fd = p[1];
	w.rnd = xorshift(rnd);
	if (pthread_create(&w.thread, NULL, waker_main, &w))
		die("pthread_create");
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, WAIT_SECS * 1000) != 1)
			die("wakeup-lat: no wakeup through the pipe in %d s", WAIT_SECS);
		if (read(p[0], &t, sizeof(t)) != sizeof(t))
			die("read pipe: %s", strerror(errno));
		if (!t)
			break;
		if (n < WAKE_MAX)
			lat[n++] = (now_ns() - t) / 1e3;
		__atomic_add_fetch(&w.acked, 1, __ATOMIC_RELEASE);
	}
	pthread_join(w.thread, NULL);
	close(p[0]);
	close(p[1]);
	return n;
}

/* p50 and p99 of each kind of wakeup, timer then pipe, in this process. */
struct wake_res {
	double p50[2], p99[2];
	int n[2];
};

static void wake_sample(struct wake_res *r)
{
	double *lat = zalloc(WAKE_MAX * sizeof(*lat));
	uint64_t rnd = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	int k, n;

	/* nanosleep's default slack of 50 us would be half the signal */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL))
		die("PR_SET_TIMERSLACK: %s", strerror(errno));
	for (k = 0; k < 2; k++) {
		n = k ? wake_pipe(lat, &rnd) : wake_timer(lat, &rnd);
		if (n < 10)
			die("wakeup-lat: only %d wakeups in %.1f s", n, WAKE_SECS);
		qsort(lat, n, sizeof(*lat), cmp_double);
		r->p50[k] = lat[n / 2];
		r->p99[k] = lat[n * 99 / 100];
		r->n[k] = n;
	}
	free(lat);
}

/*
 * A case's p50 and p99 per kind, then (info) its samples and the load;
 * wakeup-lat-hog's (arg 1) are all info, and it has no load to report.
 */
static void wake_report(const struct workload *w, const char *which,
			const struct wake_res *r, double load)
{
	const char *better = w->arg ? "info" : "lower";
	static const char * const kinds[2] = { "timer", "pipe" };
	char metric[64];
	double samples;
	int k;

	for (k = 0; k < 2; k++) {
		snprintf(metric, sizeof(metric), "%s-%s-p50", which, kinds[k]);
		result(w->name, metric, &r->p50[k], 1, "us", better);
		snprintf(metric, sizeof(metric), "%s-%s-p99", which, kinds[k]);
		result(w->name, metric, &r->p99[k], 1, "us", better);
	}
	samples = r->n[0] + r->n[1];
	snprintf(metric, sizeof(metric), "%s-samples", which);
	result(w->name, metric, &samples, 1, "wakeups", "info");
	if (w->arg)
		return;
	snprintf(metric, sizeof(metric), "%s-load", which);
	result(w->name, metric, &load, 1, "MB/s", "info");
}

static void wl_wakeup(const struct workload *w)
{
	int go[2], res[2], i, nload, status;
	struct wake_load load[WAKE_MAX_CPUS];
	struct wake_res same, other;
	double t0, t1, load_same, load_other, workers;
	unsigned long ops0, ops1;
	struct pollfd pfd;
	char c = 0;
	pid_t pid;
	int rfd;

	/* The other process first, before this one has threads or rings. */
	if (pipe(go) || pipe(res))
		die("pipe: %s", strerror(errno));
	pid = fork_flushed();
	if (!pid) {
		close(go[1]);
		close(res[0]);
		pfd.fd = go[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 3 * WAIT_SECS * 1000) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);	/* the parent failed: it says why */
		wake_sample(&other);
		if (write(res[1], &other, sizeof(other)) != sizeof(other))
			die("write result: %s", strerror(errno));
		_exit(0);
	}
	close(go[0]);
	close(res[1]);

	/* wakeup-lat-hog (arg 1): CPU-bound threads, no io_uring */
	rfd = w->arg ? -1 : make_file("wake", READ_SIZE);
	nload = nr_cpus < WAKE_MAX_CPUS ? nr_cpus : WAKE_MAX_CPUS;
	memset(load, 0, sizeof(load));
	for (i = 0; i < nload; i++) {
		load[i].cpu = i;
		load[i].rfd = rfd;
		if (pthread_create(&load[i].thread, NULL, wake_load_main, &load[i]))
			die("pthread_create");
	}
	sleep_until(now() + (opt.warmup > 0.1 ? opt.warmup : 0.1));

	/* (a) this process: a thread of the workers' own process sleeps */
	ops0 = load_ops(load, nload);
	t0 = now();
	wake_sample(&same);
	t1 = now();
	ops1 = load_ops(load, nload);
	load_same = (ops1 - ops0) * (double)WAKE_LOAD_BS / 1e6 / (t1 - t0);
	workers = count_workers();

	/* (b) another process sleeps while this one's workers are busy */
	ops0 = ops1;
	t0 = t1;
	if (write(go[1], &c, 1) != 1)
		die("write pipe: %s", strerror(errno));
	pfd.fd = res[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, (int)(2 * WAKE_SECS + WAIT_SECS) * 1000) != 1 ||
	    read(res[0], &other, sizeof(other)) != sizeof(other))
		die("wakeup-lat: no result from the other process");
	t1 = now();
	ops1 = load_ops(load, nload);
	load_other = (ops1 - ops0) * (double)WAKE_LOAD_BS / 1e6 / (t1 - t0);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("wakeup-lat: the other process failed (status 0x%x)", status);

	for (i = 0; i < nload; i++)
		__atomic_store_n(&load[i].stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < nload; i++)
		pthread_join(load[i].thread, NULL);

	wake_report(w, "same-proc", &same, load_same);
	wake_report(w, "other-proc", &other, load_other);
	if (!w->arg)
		result(w->name, "workers", &workers, 1, "threads", "info");
}

static void wl_fanout(const struct workload *w);

/*
 * Each "-unpinned" workload is the one before it with the submitter free to
 * move between CPUs (what most users run); keep them next to each other.
 */
static const struct workload workloads[] = {
	/* name                        function   arg  process/rep unpinned fanout of */
	{ "nop-inline",                wl_nop,    0,   false, false, NULL },
	{ "nop-async-qd1",             wl_nop,    1,   false, false, NULL },
	{ "nop-async-qd1-unpinned",    wl_nop,    1,   false, true,  NULL },
	{ "nop-async-qd32",            wl_nop,    32,  false, false, NULL },
	{ "nop-async-qd32-unpinned",   wl_nop,    32,  false, true,  NULL },
	{ "nop-async-qd128",           wl_nop,    128, false, false, NULL },
	{ "nop-async-qd128-unpinned",  wl_nop,    128, false, true,  NULL },
	{ "read-bound",                wl_read,   0,   false, false, NULL },
	{ "read-bound-unpinned",       wl_read,   0,   false, true,  NULL },
	{ "write-hashed-1",            wl_write,  1,   false, false, NULL },
	{ "write-hashed-1-unpinned",   wl_write,  1,   false, true,  NULL },
	{ "write-hashed-8",            wl_write,  8,   false, false, NULL },
	{ "write-hashed-8-unpinned",   wl_write,  8,   false, true,  NULL },
	{ "fanout-64",                 wl_fanout, 64,  true,  false, &fan_splice },
	{ "fanout-64-unpinned",        wl_fanout, 64,  true,  true,  &fan_splice },
	{ "fanout-256",                wl_fanout, 256, true,  false, &fan_splice },
	{ "fanout-256-unpinned",       wl_fanout, 256, true,  true,  &fan_splice },
	{ "fanout-fifo-32",            wl_fanout, 32,  true,  false, &fan_fifo },
	{ "fanout-fifo-32-unpinned",   wl_fanout, 32,  true,  true,  &fan_fifo },
	{ "fanout-fifo-128",           wl_fanout, 128, true,  false, &fan_fifo },
	{ "fanout-fifo-128-unpinned",  wl_fanout, 128, true,  true,  &fan_fifo },
	{ "multi-ring",                wl_multi,  0,   false, false, NULL },
	{ "fio-randread",              wl_fio,    0,   false, false, NULL },
	{ "fio-randread-unpinned",     wl_fio,    0,   false, true,  NULL },
	{ "fio-randwrite",             wl_fio,    1,   false, false, NULL },
	{ "fio-randwrite-unpinned",    wl_fio,    1,   false, true,  NULL },
	{ "idle",                      wl_idle,   0,   false, false, NULL },
	{ "wakeup-lat",                wl_wakeup, 0,   false, true,  NULL },
	{ "wakeup-lat-hog",            wl_wakeup, 1,   false, true,  NULL },
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NR_WORKLOADS	ARRAY_SIZE(workloads)

/*
 * Run workload w in a child process and return its exit status.  With
 * fd >= 0 the child runs one fanout repetition and writes its result to fd.
 * With pin_it the child is pinned to opt.cpu, or to no CPU in particular
 * (every online one) if w is an -unpinned workload; else it keeps the
 * affinity of this process (a fanout pins each of its own children).
 */
static int in_child(const struct workload *w, int fd, bool pin_it)
{
	struct fanout f;
	int status;
	pid_t pid;

	pid = fork_flushed();
	if (!pid) {
		if (pin_it && w->unpinned)
			unpin();
		else if (pin_it)
			pin(opt.cpu);
		if (fd >= 0) {
			wl_fanout_rep(w, &f);
			if (write(fd, &f, sizeof(f)) != sizeof(f))
				die("write result: %s", strerror(errno));
		} else {
			w->fn(w);
		}
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		printf("iowq-bench: %s: killed by signal %d\n", w->name, WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}

/* Each repetition of a fanout in a fresh process: no worker is reused. */
static void wl_fanout(const struct workload *w)
{
	double spawn[MAX_REPS], drain[MAX_REPS], workers[MAX_REPS], unstarted[MAX_REPS];
	int p[2], i, reps = opt.reps * 3;
	struct fanout f;

	if (reps > MAX_REPS)
		reps = MAX_REPS;
	for (i = 0; i < reps; i++) {
		if (pipe(p))
			die("pipe: %s", strerror(errno));
		if (in_child(w, p[1], true))
			exit(1);
		if (read(p[0], &f, sizeof(f)) != sizeof(f))
			die("fanout: no result from the child");
		close(p[0]);
		close(p[1]);
		spawn[i] = f.spawn;
		drain[i] = f.drain;
		workers[i] = f.workers;
		unstarted[i] = f.unstarted;
	}
	result(w->name, "spawn", spawn, reps, "ms", "lower");
	result(w->name, "drain", drain, reps, "ms", "lower");
	result(w->name, "workers", workers, reps, "threads", "info");
	/* only a FIFO open can be without a worker when it is released */
	if (w->fan != &fan_splice)
		result(w->name, "unstarted", unstarted, reps, "opens", "info");
}

static bool is_workload(const char *name);

/*
 * NAME selects that workload alone (nop-async-qd1, not its -unpinned
 * variant); a prefix that is no workload's name selects every workload
 * starting with "PREFIX-" (nop-async, fanout, fio); "all" selects all.
 */
static bool selected(const char *name, const char *list)
{
	char buf[256], *tok, *save;
	size_t len;

	if (!list || !*list || !strcmp(list, "all"))
		return true;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		len = strlen(tok);
		if (!strcmp(name, tok))
			return true;
		if (!strncmp(name, tok, len) && name[len] == '-' && !is_workload(tok))
			return true;
	}
	return false;
}

static bool is_workload(const char *name)
{
	size_t i;

	for (i = 0; i < NR_WORKLOADS; i++)
		if (!strcmp(workloads[i].name, name))
			return true;
	return false;
}

static void show_usage(int status)
{
	size_t i;

	printf("usage: iowq-bench [-b NAME[,NAME...]] [-t SECS] [-r REPS] [-w SECS]\n"
	       "                  [-c CPU] [-f FIO] [-F SECS] [-C] [-l]\n"
	       "  -b  workloads to run (a name, a prefix such as nop-async, or all)\n"
	       "  -t  seconds per repetition (%.2g)     -r  repetitions (%d)\n"
	       "  -w  warm-up seconds (%.2g)            -c  submitter CPU (%d)\n"
	       "  -f  fio binary (%s)    -F  fio runtime seconds (%d)\n"
	       "  -C  cost mode: mark each window for the insn-count plugin\n"
	       "  -l  list the workloads\n",
	       opt.secs, opt.reps, opt.warmup, opt.cpu, opt.fio, opt.fio_secs);
	printf("workloads:");
	for (i = 0; i < NR_WORKLOADS; i++)
		printf(" %s", workloads[i].name);
	printf("\n");
	exit(status);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int c, failed = 0, ran = 0, rc;
	double t0;
	size_t i;

	while ((c = getopt(argc, argv, "b:t:r:w:c:f:F:Clh")) != -1) {
		switch (c) {
		case 'C':
			opt.cost = true;
			break;
		case 'b':
			only = optarg;
			break;
		case 't':
			opt.secs = atof(optarg);
			break;
		case 'r':
			opt.reps = atoi(optarg);
			break;
		case 'w':
			opt.warmup = atof(optarg);
			break;
		case 'c':
			opt.cpu = atoi(optarg);
			break;
		case 'f':
			opt.fio = optarg;
			break;
		case 'F':
			opt.fio_secs = atoi(optarg);
			break;
		case 'l':
			for (i = 0; i < NR_WORKLOADS; i++)
				printf("%s\n", workloads[i].name);
			return 0;
		case 'h':
			show_usage(0);
			break;
		default:
			show_usage(2);
		}
	}
	if (opt.reps < 1 || opt.reps > MAX_REPS || opt.secs <= 0 || opt.warmup < 0)
		show_usage(2);
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (nr_cpus < 1)
		nr_cpus = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("@@BENCH-INFO cpus=%d submitter-cpu=%d (-unpinned: any), per boot the best",
	       nr_cpus, opt.cpu % nr_cpus);
	printf(" of %d runs of %.3g s after %.3g s of warm-up (fanout: %d runs; fio: %d runs of %d s)\n",
	       opt.reps, opt.secs, opt.warmup, opt.reps * 3, FIO_REPS, opt.fio_secs);
	printf("@@BENCH-INFO fanout: IORING_OP_SPLICE of empty pipes to /dev/null (blocks)\n");
	printf("@@BENCH-INFO fanout-fifo: IORING_OP_OPENAT O_RDONLY of FIFOs (bound, blocks),"
	       " bound limit raised to N\n");
	printf("@@BENCH-INFO wakeup-lat: one run of %.3g s per case and kind, wakeups every"
	       " %d-%d us, %d reads of %d KiB in flight per CPU\n", WAKE_SECS, WAKE_MIN_US,
	       WAKE_MIN_US + WAKE_SPAN_US, WAKE_LOAD_QD, WAKE_LOAD_BS >> 10);
	for (i = 0; i < NR_WORKLOADS; i++) {
		const struct workload *w = &workloads[i];

		if (!selected(w->name, only))
			continue;
		/* nothing to count per operation in these */
		if (opt.cost && (w->fn == wl_idle || w->fn == wl_wakeup))
			continue;
		ran++;
		printf("@@BENCH-BEGIN %s\n", w->name);
		t0 = now();
		/* a fanout forks a child per repetition itself */
		rc = in_child(w, -1, !w->own_process_per_rep);
		printf("@@BENCH-END %s rc=%d secs=%.1f\n", w->name, rc, now() - t0);
		if (rc)
			failed++;
	}
	if (!ran) {
		printf("iowq-bench: no workload matches '%s'\n", only);
		show_usage(2);
	}
	printf("@@BENCH-DONE ran=%d failed=%d\n", ran, failed);
	return failed ? 1 : 0;
}
