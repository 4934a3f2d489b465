// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler hooks and idle workers: when a worker blocks, the work queued
 * behind it is taken by another worker (one started for the purpose);
 * blocked work gets a worker each up to the limit and no more; after a
 * burst, the surplus workers exit once idle for the idle timeout while
 * one stays, and a new burst starts workers again.  A
 * submitter sharing its CPU with its worker is not woken for every single
 * completion.
 *
 * The splices here are submitted without IOSQE_ASYNC unless stated: they
 * reach io-wq after a non-blocking attempt, so new workers come from a
 * worker going to sleep rather than from the submission.
 */
#include <sys/mman.h>
#include "../kselftest_harness.h"
#include "iowq_util.h"

FIXTURE(sched) {
	struct io_uring ring;
	struct iowq_cq cq;
	struct iowq_pipe p[16];
	struct iowq_pipe sink;
	int nr_pipes;
	double fed;		/* when feed_and_reap() began to feed */
};

FIXTURE_SETUP(sched)
{
	ASSERT_EQ(0, iowq_pin_cpu(0));
	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
	ASSERT_EQ(0, iowq_pipes_open(&self->sink, 1));
}

FIXTURE_TEARDOWN(sched)
{
	io_uring_queue_exit(&self->ring);
	iowq_pipes_close(self->p, self->nr_pipes);
	iowq_pipes_close(&self->sink, 1);
}

static void open_pipes(struct __test_metadata *_metadata,
		       struct _test_data_sched *self, int n)
{
	ASSERT_EQ(0, iowq_pipes_open(self->p, n));
	self->nr_pipes = n;
}

/* Feed pipes [0, n) and reap n splices of one byte each. */
static void feed_and_reap(struct __test_metadata *_metadata,
			  struct _test_data_sched *self, int n)
{
	int i;

	self->fed = iowq_now();
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, write(self->p[i].w, "x", 1));
	ASSERT_EQ(n, iowq_reap(&self->ring, &self->cq, n, 30));
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/* @n async splices from empty pipes: each gets a worker; then feed them. */
static void burst(struct __test_metadata *_metadata,
		  struct _test_data_sched *self, int n)
{
	int i;

	for (i = 0; i < n; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	ASSERT_EQ(n, iowq_wait_workers(0, n, n, 20));
	feed_and_reap(_metadata, self, n);
}

/*
 * Workers that went idle after @since stay until their idle timeout: @n
 * workers of @owner (all if 0) in every count read more than a second
 * before the timeout.  A count read later is not checked, so a guest that
 * stalls between reading the count and the clock cannot fail the case.
 */
static void workers_stay(struct __test_metadata *_metadata, pid_t owner,
			 int n, double since)
{
	double deadline = since + IOWQ_IDLE_TIMEOUT - 1;
	int w;

	for (;;) {
		w = iowq_list_workers(owner, NULL, 0);
		if (iowq_now() >= deadline)
			break;
		ASSERT_EQ(n, w);
		iowq_sleep(0.05);
	}
}

/*
 * Three splices block one after the other; the fourth, whose data is
 * there, is queued behind them and still completes: each worker going to
 * sleep got another one started.
 */
TEST_F_TIMEOUT(sched, blocked_worker_hands_over, 60)
{
	int i;

	open_pipes(_metadata, self, 4);
	for (i = 0; i < 3; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i, 0);
	ASSERT_EQ(1, write(self->p[3].w, "x", 1));
	iowq_prep_splice(&self->ring, self->p[3].r, self->sink.w, 1, 3, 0);
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 3, 20));
	ASSERT_EQ(1, self->cq.res[3]);
	ASSERT_EQ(1, self->cq.nr);
	ASSERT_GE(iowq_count_workers(), 4);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, write(self->p[i].w, "x", 1));
	ASSERT_EQ(4, iowq_reap(&self->ring, &self->cq, 4, 20));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * Bound work: a splice into a regular file blocks its worker, the fsyncs
 * queued behind it (punted, fsync cannot be done without blocking) still
 * complete.
 */
TEST_F_TIMEOUT(sched, blocked_bound_worker_hands_over, 60)
{
	int i, fd = open("sched.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int gfd = open("sched2.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, gfd);
	open_pipes(_metadata, self, 1);
	iowq_prep_splice(&self->ring, self->p[0].r, fd, 1, 0, 0);
	for (i = 1; i <= 8; i++) {
		struct io_uring_sqe *sqe = iowq_get_sqe(&self->ring);

		io_uring_prep_fsync(sqe, gfd, 0);
		sqe->user_data = i;
	}
	ASSERT_EQ(9, io_uring_submit(&self->ring));
	ASSERT_EQ(8, iowq_reap(&self->ring, &self->cq, 8, 20));
	ASSERT_FALSE(self->cq.done[0]);
	for (i = 1; i <= 8; i++)
		ASSERT_EQ(0, self->cq.res[i]);
	ASSERT_GE(iowq_count_workers(), 2);
	ASSERT_EQ(1, write(self->p[0].w, "x", 1));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 0, 20));
	ASSERT_EQ(1, self->cq.res[0]);
	close(fd);
	close(gfd);
	unlink("sched.dat");
	unlink("sched2.dat");
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/* 12 blocked splices with an unbound limit of 5: exactly 5 workers block. */
TEST_F_TIMEOUT(sched, blocked_up_to_limit, 60)
{
	int i, n = 12;

	open_pipes(_metadata, self, n);
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 5, NULL));
	for (i = 0; i < n; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i, 0);
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	ASSERT_EQ(5, iowq_wait_workers(0, 5, 5, 20));
	ASSERT_EQ(5, iowq_max_workers_seen(0, 1));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	feed_and_reap(_metadata, self, n);
	ASSERT_LE(iowq_count_workers(), 5);
}

/*
 * After a burst of 6 blocked splices, the idle workers stay for the idle
 * timeout (a new burst would find them), then all but one exit, one stays,
 * and a new burst gets 6 workers again.
 */
TEST_F_TIMEOUT(sched, idle_workers_exit, 90)
{
	int n = 6, w;

	open_pipes(_metadata, self, n);
	burst(_metadata, self, n);

	workers_stay(_metadata, 0, n, self->fed);
	/* the idle timeout, with slack for a slow machine */
	w = iowq_wait_workers(0, 1, 1, 4 * IOWQ_IDLE_TIMEOUT);
	ASSERT_EQ(1, w);
	/* the last one stays for more than another idle timeout */
	iowq_sleep(IOWQ_IDLE_TIMEOUT + 1);
	ASSERT_EQ(1, iowq_count_workers());

	memset(&self->cq, 0, sizeof(self->cq));
	burst(_metadata, self, n);
}

/*
 * An idle worker's timeout counts from the last time it ran work or
 * was claimed.  The only worker stays idle past its timeout (the last one
 * stays); then two splices block, one in that worker (claimed), one in a
 * new worker, for longer than the timeout, and are fed.  Both workers are
 * idle anew: both must stay until shortly before the timeout (a worker
 * that kept a stale "timed out", or counted from before its last item
 * ended, would exit at once), then one exits on its timeout and one stays.
 */
TEST_F_TIMEOUT(sched, idle_timeout_restarts_with_work, 90)
{
	pid_t tid = iowq_gettid();
	int i;

	open_pipes(_metadata, self, 2);
	iowq_prep_splice(&self->ring, self->p[0].r, self->sink.w, 1, 0,
			 IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers_in(tid, "pipe_wait_readable", 1, 10));
	feed_and_reap(_metadata, self, 1);
	iowq_sleep(IOWQ_IDLE_TIMEOUT + 1.5);
	ASSERT_EQ(1, iowq_count_workers_of(tid));

	memset(&self->cq, 0, sizeof(self->cq));
	for (i = 0; i < 2; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	ASSERT_EQ(2, iowq_wait_workers_in(tid, "pipe_wait_readable", 2, 10));
	ASSERT_EQ(2, iowq_count_workers_of(tid));
	/* busy for longer than the idle timeout */
	iowq_sleep(IOWQ_IDLE_TIMEOUT + 0.5);
	feed_and_reap(_metadata, self, 2);

	workers_stay(_metadata, tid, 2, self->fed);
	/* the idle timeout, with slack for a slow machine */
	ASSERT_EQ(1, iowq_wait_workers(tid, 1, 1, 4 * IOWQ_IDLE_TIMEOUT));
	iowq_sleep(1);
	ASSERT_EQ(1, iowq_count_workers_of(tid));
}

/*
 * Once the task's last ring is closed, its idle workers (one per account
 * would stay until the task exits) go at once: a leftover iou-wrk thread
 * looks like a leak and holds up checkpoint/restore.  A new ring gets
 * workers again.
 */
TEST_F_TIMEOUT(sched, no_ring_no_idle_worker, 60)
{
	int n = 3;

	open_pipes(_metadata, self, n);
	burst(_metadata, self, n);
	iowq_prep_nop(&self->ring, 100, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 100, 10));
	ASSERT_LE(1, iowq_count_workers());

	io_uring_queue_exit(&self->ring);
	/*
	 * all of them: without the ring, the last worker of each account
	 * would stay until the task exits, however long the wait
	 */
	ASSERT_EQ(0, iowq_wait_workers(0, 0, 0, 4 * IOWQ_IDLE_TIMEOUT));

	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
	memset(&self->cq, 0, sizeof(self->cq));
	burst(_metadata, self, n);
}

struct joiner {
	struct io_uring *ring;
	int ok;
	double end;		/* when the thread returned */
};

static void *joiner_fn(void *arg)
{
	struct joiner *j = arg;
	struct iowq_cq cq = { 0 };

	iowq_pin_cpu(0);
	iowq_prep_nop(j->ring, 7, IOSQE_ASYNC);
	j->ok = io_uring_submit(j->ring) == 1 &&
		!iowq_reap_ud(j->ring, &cq, 7, 10) && !cq.res[7] &&
		iowq_wait_workers(iowq_gettid(), 1, 1, 5) == 1;
	j->end = iowq_now();
	return NULL;
}

/*
 * A thread that used a ring (shared, still open) leaves an idle worker:
 * its exit is not held up by the worker's idle timeout.
 */
TEST_F_TIMEOUT(sched, thread_exit_not_held_by_idle_worker, 60)
{
	struct joiner j = { .ring = &self->ring };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, joiner_fn, &j));
	ASSERT_EQ(0, iowq_join(t, 20));
	ASSERT_TRUE(j.ok);
	TH_LOG("joined %.3f s after the thread returned", iowq_now() - j.end);
	ASSERT_LT(iowq_now() - j.end, 1);
}

/*
 * The worker shares the submitter's CPU (IOWQ_AFF) and runs 4 KiB reads
 * of a tmpfs file, 32 in flight.  The submitter waits for one completion
 * at a time, but must not be woken to preempt the worker at every
 * completion it posts (two context switches a request): it must find the
 * completions of what it queued.  Every read gets exactly one CQE.
 */
TEST_F_TIMEOUT(sched, shared_cpu_completions_batch, 60)
{
	struct __kernel_timespec ts = { .tv_sec = 20 };
	int fd, i, total = 4096, depth = 32;
	int submitted = 0, inflight = 0, done = 0, waits = 0;
	struct io_uring_cqe *cqe;
	static char buf[4096];
	cpu_set_t set, allowed;
	unsigned int head, n;
	pid_t tids[64];

	fd = open("batch.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf), i * sizeof(buf)));
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, io_uring_register_iowq_aff(&self->ring, sizeof(set), &set));

	while (done < total) {
		for (; inflight < depth && submitted < total; inflight++, submitted++) {
			struct io_uring_sqe *sqe = iowq_get_sqe(&self->ring);

			io_uring_prep_read(sqe, fd, buf, sizeof(buf),
					   (submitted % 64) * sizeof(buf));
			sqe->flags |= IOSQE_ASYNC;
			sqe->user_data = submitted;
		}
		ASSERT_LE(0, io_uring_submit_and_wait_timeout(&self->ring, &cqe, 1,
							      &ts, NULL));
		waits++;
		n = 0;
		io_uring_for_each_cqe(&self->ring, head, cqe) {
			ASSERT_EQ(sizeof(buf), cqe->res);
			n++;
		}
		io_uring_cq_advance(&self->ring, n);
		inflight -= n;
		done += n;
	}
	TH_LOG("%d reads, %d waits: %.1f completions per wait",
	       done, waits, (double)done / waits);
	ASSERT_EQ(total, submitted);
	ASSERT_GE(done, 4 * waits);
	/* the reads ran on workers that share CPU 0 with the submitter */
	n = iowq_list_workers(iowq_gettid(), tids, 64);
	ASSERT_LE(1, n);
	for (i = 0; i < (int)n && i < 64; i++) {
		ASSERT_EQ(0, iowq_task_cpus(tids[i], &allowed));
		ASSERT_TRUE(CPU_EQUAL(&allowed, &set));
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	close(fd);
	unlink("batch.dat");
}

/*
 * A fan-out of 8 blocking async splices gets 8 workers, not one more, even
 * though they start in bursts; then 8 async splices whose data is there
 * (unbound work that does not block) add at most one worker per CPU of
 * the node: the burst is only for work that blocks.  6.1 creates a worker
 * at every IOSQE_ASYNC punt that finds no idle one.
 */
TEST_F_TIMEOUT(sched, burst_only_for_blocking_work, 60)
{
	int i, n = 8, node_cpus;
	cpu_set_t set;

	ASSERT_EQ(0, iowq_node_cpus(iowq_cpu_node(0), &set));
	node_cpus = CPU_COUNT(&set);
	open_pipes(_metadata, self, 2 * n);
	for (i = 0; i < n; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	ASSERT_EQ(n, iowq_wait_workers(0, n, n, 20));
	ASSERT_EQ(n, iowq_max_workers_seen(0, 0.5));

	for (i = n; i < 2 * n; i++) {
		ASSERT_EQ(1, write(self->p[i].w, "x", 1));
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	}
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	for (i = n; i < 2 * n; i++) {
		ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, i, 20));
		ASSERT_EQ(1, self->cq.res[i]);
	}
	TH_LOG("%d workers after %d blocked and %d non-blocking splices (node of CPU 0: %d CPUs)",
	       iowq_count_workers(), n, n, node_cpus);
	ASSERT_LE(iowq_count_workers(), n + node_cpus);

	for (i = 0; i < n; i++)
		ASSERT_EQ(1, write(self->p[i].w, "x", 1));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, i, 20));
		ASSERT_EQ(1, self->cq.res[i]);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/* The "created" counter of this thread's bound account (node of CPU 0). */
static long bound_stat(struct io_uring *ring, const char *key)
{
	char line[IOWQ_STAT_LINE_MAX];

	if (iowq_stat_line(ring, iowq_gettid(), iowq_cpu_node(0), "bound", line))
		return -1;
	return iowq_stat_get(line, key);
}

/*
 * Workers the bound account created, less one for each time the tick
 * marked a worker CPU-intensive: under TCG a vCPU the host does not run
 * meanwhile makes a short item look long, and such a mark may rightly
 * start a worker.
 */
static long bound_created(struct io_uring *ring)
{
	long created = bound_stat(ring, "created");
	long marked = bound_stat(ring, "intensive");

	if (marked <= 0 || created <= 1)
		return created;
	fprintf(stderr, "# %ld CPU-intensive mark(s) of a short item\n", marked);
	return created - marked > 1 ? created - marked : 1;
}

/*
 * Threads only for work that can make progress, counted by fdinfo's
 * "created" (a surplus worker could have exited before a count):
 * - 200 async NOPs one at a time keep one worker, or at most one per CPU
 *   of the node (a NOP queued while the worker still finishes the one
 *   before may start another where a second CPU is free);
 * - 256 buffered writes to one file, queued at once, start no worker:
 *   one runs at a time (one hash key), the others start nobody;
 * - while a splice into the file from an empty pipe holds the key (on an
 *   idle worker), 8 appends to the file start no worker either, and they
 *   land after the splice's data.
 * Our io-wq only: 6.1's own io-wq creates a worker at every IOSQE_ASYNC punt
 * that finds no idle one.
 */
TEST_F_TIMEOUT(sched, workers_only_for_runnable_work, 90)
{
	static char wbuf[4096];
	struct io_uring_sqe *sqe;
	char buf[16] = "";
	int i, fd, afd;
	cpu_set_t set;
	long created;

	if (!iowq_kernel_is_ours())
		SKIP(return, "6.1's own io-wq starts a worker per IOSQE_ASYNC punt");
	ASSERT_EQ(0, iowq_node_cpus(iowq_cpu_node(0), &set));
	for (i = 0; i < 200; i++) {
		iowq_prep_nop(&self->ring, i, IOSQE_ASYNC);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, i, 10));
	}
	created = bound_created(&self->ring);
	TH_LOG("200 serial async NOPs: %ld worker(s) created", created);
	ASSERT_LE(1, created);
	ASSERT_GE(CPU_COUNT(&set), created);

	fd = open("economy.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	memset(wbuf, 'w', sizeof(wbuf));
	memset(&self->cq, 0, sizeof(self->cq));
	for (i = 0; i < 256; i++) {
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_write(sqe, fd, wbuf, sizeof(wbuf),
				    (off_t)i * sizeof(wbuf));
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = i;
		if (i % 32 == 31)
			ASSERT_EQ(32, io_uring_submit(&self->ring));
	}
	ASSERT_EQ(256, iowq_reap(&self->ring, &self->cq, 256, 30));
	for (i = 0; i < 256; i++)
		ASSERT_EQ(sizeof(wbuf), self->cq.res[i]);
	ASSERT_EQ(created, bound_created(&self->ring));

	open_pipes(_metadata, self, 1);
	afd = open("economy.dat", O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, afd);
	memset(&self->cq, 0, sizeof(self->cq));
	/* splice() refuses O_APPEND files: into fd, at its end */
	ASSERT_EQ(256 * sizeof(wbuf), lseek(fd, 0, SEEK_END));
	iowq_prep_splice(&self->ring, self->p[0].r, fd, 2, 0, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(), "pipe_wait_readable",
					  1, 10));
	for (i = 1; i <= 8; i++) {
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_write(sqe, afd, "a", 1, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = i;
	}
	ASSERT_EQ(8, io_uring_submit(&self->ring));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.5));
	ASSERT_EQ(created, bound_created(&self->ring));
	ASSERT_EQ(2, write(self->p[0].w, "s\n", 2));
	ASSERT_EQ(9, iowq_reap(&self->ring, &self->cq, 9, 10));
	ASSERT_EQ(2, self->cq.res[0]);
	for (i = 1; i <= 8; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_EQ(10, pread(fd, buf, 10, 256 * sizeof(wbuf)));
	ASSERT_EQ(0, memcmp(buf, "s\naaaaaaaa", 10));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
	close(afd);
	close(fd);
	unlink("economy.dat");
}

#define BURST_READS	32
#define BURST_READ	(256 << 10)

/*
 * Work that can run and never blocks, queued at once: 32 async reads of
 * 256 KiB each from a tmpfs file, for tens of milliseconds of copying.
 * The bound account of CPU 0's node keeps one worker running per CPU of
 * the node, so it creates no more workers than that; a worker the tick
 * marks CPU-intensive (an item that ran 10 ms of CPU, which a stalled
 * vCPU can make a short item look like) rightly adds one each, and
 * bound_created() takes those out.  Our io-wq only.
 */
TEST_F_TIMEOUT(sched, runnable_burst_within_cpus, 60)
{
	static char rbuf[BURST_READS][BURST_READ];
	long before, created;
	cpu_set_t set;
	int i, fd;

	if (!iowq_kernel_is_ours())
		SKIP(return, "6.1's own io-wq starts a worker per IOSQE_ASYNC punt");
	ASSERT_EQ(0, iowq_node_cpus(iowq_cpu_node(0), &set));
	fd = open("burst.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	memset(rbuf[0], 'b', BURST_READ);
	for (i = 0; i < BURST_READS; i++)
		ASSERT_EQ(BURST_READ, pwrite(fd, rbuf[0], BURST_READ,
					     (off_t)i * BURST_READ));
	/* a worker exists, so that the fdinfo line does */
	iowq_prep_nop(&self->ring, 100, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 100, 10));
	before = bound_created(&self->ring);
	ASSERT_LE(1, before);

	memset(&self->cq, 0, sizeof(self->cq));
	for (i = 0; i < BURST_READS; i++) {
		struct io_uring_sqe *sqe = iowq_get_sqe(&self->ring);

		io_uring_prep_read(sqe, fd, rbuf[i], BURST_READ,
				   (off_t)i * BURST_READ);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = i;
	}
	ASSERT_EQ(BURST_READS, io_uring_submit(&self->ring));
	ASSERT_EQ(BURST_READS, iowq_reap(&self->ring, &self->cq,
					 BURST_READS, 30));
	for (i = 0; i < BURST_READS; i++)
		ASSERT_EQ(BURST_READ, self->cq.res[i]);
	created = bound_created(&self->ring) - before;
	TH_LOG("%d reads queued at once: %ld more worker(s) (node of CPU 0: %d CPUs)",
	       BURST_READS, created, CPU_COUNT(&set));
	ASSERT_GE(CPU_COUNT(&set), created);
	close(fd);
	unlink("burst.dat");
}

#define BIG_READ	(256 << 20)

/*
 * For the cases below: a file "cpu-bound.dat" of BIG_READ bytes in the page
 * cache, and in *@big a populated private buffer of that size.  Returns
 * the file's descriptor.
 */
static int big_file(struct __test_metadata *_metadata, char **big)
{
	int fd = open("cpu-bound.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);

	ASSERT_LE(0, fd);
	*big = mmap(NULL, BIG_READ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, *big);
	memset(*big, 'c', BIG_READ);
	ASSERT_EQ(BIG_READ, pwrite(fd, *big, BIG_READ, 0));
	return fd;
}

/*
 * One 4 KiB IOSQE_ASYNC read of @fd (user_data 100), queued behind the
 * CPU-bound work in flight: the milliseconds from its submit to its
 * completion.
 */
static double small_read_ms(struct __test_metadata *_metadata,
			    FIXTURE_DATA(sched) *self, int fd)
{
	static char small[4096];
	struct io_uring_sqe *sqe;
	double t1, ms;

	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_read(sqe, fd, small, sizeof(small), 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 100;
	t1 = iowq_now();
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 100, 30));
	ms = (iowq_now() - t1) * 1000;
	ASSERT_EQ(sizeof(small), self->cq.res[100]);
	return ms;
}

/*
 * Work that waits behind CPU-bound work: as many IOSQE_ASYNC reads as the
 * node has CPUs, each copying 256 MiB from the page cache (they never
 * block; all into one buffer), then one 4 KiB IOSQE_ASYNC read.  A worker that runs one item
 * long without blocking must stop counting against the CPUs, so that the
 * small read gets a worker (an idle one, from the second round on) within
 * the detection threshold plus a creation, not after a big read ends.
 * Rounds 2-4 are timed: each under 150 ms (a slow host), the best under
 * 50 ms.
 */
TEST_F_TIMEOUT(sched, queued_work_not_held_by_cpu_bound_work, 180)
{
	double small_ms, best = 1e9, big_ms;
	struct io_uring_sqe *sqe;
	int i, round, fd, ncpu;
	cpu_set_t set;
	char *big;

	ASSERT_EQ(0, iowq_node_cpus(iowq_cpu_node(0), &set));
	ncpu = CPU_COUNT(&set);
	fd = big_file(_metadata, &big);

	for (round = 0; round < 4; round++) {
		double t0;

		memset(&self->cq, 0, sizeof(self->cq));
		t0 = iowq_now();
		for (i = 0; i < ncpu; i++) {
			sqe = iowq_get_sqe(&self->ring);
			io_uring_prep_read(sqe, fd, big, BIG_READ, 0);
			sqe->flags |= IOSQE_ASYNC;
			sqe->user_data = i;
		}
		ASSERT_EQ(ncpu, io_uring_submit(&self->ring));
		/* the big reads have their workers (or are about to) */
		iowq_sleep(0.002);
		small_ms = small_read_ms(_metadata, self, fd);
		ASSERT_EQ(ncpu + 1, iowq_reap(&self->ring, &self->cq, ncpu + 1, 60));
		big_ms = (iowq_now() - t0) * 1000;
		for (i = 0; i < ncpu; i++)
			ASSERT_EQ(BIG_READ, self->cq.res[i]);
		TH_LOG("round %d: small read %.1f ms, %d big reads %.0f ms",
		       round + 1, small_ms, ncpu, big_ms);
		if (!round)
			continue;
		/* the big reads must outlast the bound by far, or prove nothing */
		ASSERT_LT(300, big_ms);
		ASSERT_GT(150, small_ms);
		if (small_ms < best)
			best = small_ms;
	}
	ASSERT_GT(50, best);
	/* fdinfo counts the marks: at least one per big read of a round */
	if (iowq_kernel_is_ours())
		ASSERT_LE(ncpu, bound_stat(&self->ring, "intensive"));
	munmap(big, BIG_READ);
	close(fd);
	unlink("cpu-bound.dat");
}

#define CHAIN_WRITE	(48 << 20)

/*
 * The same behind a hashed chain: buffered writes of 48 MiB each to one
 * file run one at a time on one worker, which never blocks; with the
 * node's other CPUs busy with big reads, a 4 KiB read queued behind them
 * must still get a worker (under 150 ms, a slow host; the best of three
 * rounds under 50 ms), and the writes land in order.
 */
TEST_F_TIMEOUT(sched, queued_work_not_held_by_cpu_bound_chain, 180)
{
	double small_ms, best = 1e9;
	struct io_uring_sqe *sqe;
	int i, k, round, fd, wfd, ncpu, n;
	cpu_set_t set;
	char *big, c;

	ASSERT_EQ(0, iowq_node_cpus(iowq_cpu_node(0), &set));
	ncpu = CPU_COUNT(&set);
	fd = big_file(_metadata, &big);
	wfd = open("chain.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, wfd);

	for (round = 0; round < 4; round++) {
		memset(&self->cq, 0, sizeof(self->cq));
		/* the chain: 4 writes of the file, each of its own byte */
		for (i = 0; i < 4; i++) {
			memset(big + (size_t)i * CHAIN_WRITE, 'a' + round + i,
			       CHAIN_WRITE);
			sqe = iowq_get_sqe(&self->ring);
			io_uring_prep_write(sqe, wfd, big + (size_t)i * CHAIN_WRITE,
					    CHAIN_WRITE, (off_t)i * CHAIN_WRITE);
			sqe->flags |= IOSQE_ASYNC;
			sqe->user_data = i;
		}
		/* the node's other CPUs copy big reads (into the buffer's end) */
		for (i = 0; i < ncpu - 1; i++) {
			sqe = iowq_get_sqe(&self->ring);
			io_uring_prep_read(sqe, fd, big + 4 * CHAIN_WRITE,
					   BIG_READ - 4 * CHAIN_WRITE, 0);
			sqe->flags |= IOSQE_ASYNC;
			sqe->user_data = 10 + i;
		}
		n = 4 + ncpu - 1;
		ASSERT_EQ(n, io_uring_submit(&self->ring));
		iowq_sleep(0.002);
		small_ms = small_read_ms(_metadata, self, fd);
		ASSERT_EQ(n + 1, iowq_reap(&self->ring, &self->cq, n + 1, 60));
		for (i = 0; i < 4; i++) {
			ASSERT_EQ(CHAIN_WRITE, self->cq.res[i]);
			ASSERT_EQ(1, pread(wfd, &c, 1, (off_t)i * CHAIN_WRITE));
			ASSERT_EQ('a' + round + i, c);
		}
		/* one item at a time, in order */
		for (i = 0, k = 0; i < self->cq.nr; i++)
			if (self->cq.order[i] < 4)
				ASSERT_EQ(k++, self->cq.order[i]);
		ASSERT_EQ(4, k);
		TH_LOG("round %d: small read %.1f ms (behind 4 x 48 MiB writes, %d big reads)",
		       round + 1, small_ms, ncpu - 1);
		if (!round)
			continue;
		ASSERT_GT(150, small_ms);
		if (small_ms < best)
			best = small_ms;
	}
	ASSERT_GT(50, best);
	munmap(big, BIG_READ);
	close(wfd);
	close(fd);
	unlink("chain.dat");
	unlink("cpu-bound.dat");
}

/*
 * A worker defers the CQ wakeups of what it completes while it has more
 * work, but never past blocking: with one bound worker (limit 1), an
 * async NOP then a FIFO open queued behind it, the NOP's completion must
 * wake its waiter (within 1 s) while the worker blocks in the open.
 */
TEST_F_TIMEOUT(sched, deferred_wakeup_posted_before_blocking, 60)
{
	struct io_uring_cqe *cqe;
	double t;
	int i;

	ASSERT_EQ(0, iowq_fifos_make(1));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 1, 0, NULL));
	for (i = 0; i < 3; i++) {
		iowq_prep_nop(&self->ring, 0, IOSQE_ASYNC);
		iowq_prep_fifo_open(&self->ring, 0, 1);
		t = iowq_now();
		/* submit and sleep in the kernel until a CQE is posted */
		ASSERT_EQ(2, io_uring_submit_and_wait(&self->ring, 1));
		ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
		TH_LOG("round %d: NOP completion seen after %.1f ms", i + 1,
		       (iowq_now() - t) * 1000);
		ASSERT_GT(1, iowq_now() - t);
		ASSERT_EQ(0, cqe->user_data);
		ASSERT_EQ(0, cqe->res);
		io_uring_cqe_seen(&self->ring, cqe);
		ASSERT_EQ(1, iowq_wait_workers_in(0, "wait_for_partner", 1, 10));
		ASSERT_EQ(1, iowq_fifo_release(0));
		ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
		ASSERT_EQ(1, cqe->user_data);
		ASSERT_LE(0, cqe->res);
		close(cqe->res);
		io_uring_cqe_seen(&self->ring, cqe);
	}
	iowq_fifos_remove(1);
}

/*
 * Nor past a scheduler tick: with one bound worker, an async NOP then a
 * 256 MiB read of a cached file (it never blocks, and runs for hundreds
 * of milliseconds), the NOP's completion must wake its waiter within
 * 100 ms, long before the read ends.
 */
TEST_F_TIMEOUT(sched, deferred_wakeup_posted_at_tick, 120)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	double t, nop_ms;
	int i, fd;
	char *big;

	fd = open("tick.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	big = mmap(NULL, BIG_READ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	memset(big, 't', BIG_READ);
	ASSERT_EQ(BIG_READ, pwrite(fd, big, BIG_READ, 0));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 1, 0, NULL));
	for (i = 0; i < 3; i++) {
		iowq_prep_nop(&self->ring, 0, IOSQE_ASYNC);
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_read(sqe, fd, big, BIG_READ, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = 1;
		t = iowq_now();
		ASSERT_EQ(2, io_uring_submit_and_wait(&self->ring, 1));
		nop_ms = (iowq_now() - t) * 1000;
		ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
		ASSERT_EQ(0, cqe->user_data);
		io_uring_cqe_seen(&self->ring, cqe);
		ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
		ASSERT_EQ(1, cqe->user_data);
		ASSERT_EQ(BIG_READ, cqe->res);
		io_uring_cqe_seen(&self->ring, cqe);
		TH_LOG("round %d: NOP completion seen after %.1f ms, the read after %.0f ms",
		       i + 1, nop_ms, (iowq_now() - t) * 1000);
		ASSERT_GT(100, nop_ms);
	}
	munmap(big, BIG_READ);
	close(fd);
	unlink("tick.dat");
}

TEST_HARNESS_MAIN
