// SPDX-License-Identifier: GPL-2.0
/*
 * Exit paths and sharing: closing a ring, ending a thread or a process,
 * exec, all with hundreds of requests blocked in io-wq workers or while
 * workers are being started, finish promptly, end every request (each SQE
 * gets one CQE where a ring is left to post it) and leave no worker
 * behind; a task hammered with signals still gets all its work done; fork
 * with work in flight; a ring used by several threads (a worker pool
 * each); several rings of one task share its io-wq and its hash map.
 */
#include <poll.h>
#include <stdatomic.h>
#include "../kselftest_harness.h"
#include "iowq_util.h"

#define NBLOCK	200

FIXTURE(exit) {
	struct io_uring ring;
	struct iowq_cq cq;
	struct iowq_pipe p[8];
	struct iowq_pipe sink;
};

FIXTURE_SETUP(exit)
{
	ASSERT_EQ(0, iowq_pin_cpu(0));
	ASSERT_EQ(0, io_uring_queue_init(512, &self->ring, 0));
	ASSERT_EQ(0, iowq_pipes_open(self->p, 8));
	ASSERT_EQ(0, iowq_pipes_open(&self->sink, 1));
}

FIXTURE_TEARDOWN(exit)
{
	io_uring_queue_exit(&self->ring);
	iowq_pipes_close(self->p, 8);
	iowq_pipes_close(&self->sink, 1);
}

/* Queue @n splices from the (empty) pipe @in, user_data @ud0 on. */
static int queue_blocked(struct io_uring *ring, int in, int out, int n, int ud0,
			 unsigned int flags)
{
	int i;

	for (i = 0; i < n; i++)
		iowq_prep_splice(ring, in, out, 1, ud0 + i, flags);
	return io_uring_submit(ring);
}

/*
 * No splice is left waiting on pipe @p: a byte written there stays (polled
 * for up to @secs while splices are still being ended).
 */
static bool no_reader_left(struct iowq_pipe *p, double secs)
{
	double end = iowq_now() + secs;
	int fl = fcntl(p->r, F_GETFL);
	bool ok = false;
	char c;

	fcntl(p->r, F_SETFL, fl | O_NONBLOCK);
	while (!ok && iowq_now() < end) {
		if (write(p->w, "z", 1) != 1)
			break;
		iowq_sleep(0.2);
		ok = read(p->r, &c, 1) == 1;
	}
	fcntl(p->r, F_SETFL, fl);
	return ok;
}

static bool all_interrupted(struct iowq_cq *cq, int ud0, int n)
{
	int i;

	for (i = ud0; i < ud0 + n; i++)
		if (!cq->done[i] ||
		    (cq->res[i] != -EINTR && cq->res[i] != -ECANCELED))
			return false;
	return true;
}

/* Closing a ring with 200 blocked requests is quick and ends them all. */
TEST_F_TIMEOUT(exit, close_ring_with_blocked, 120)
{
	double t;

	ASSERT_EQ(NBLOCK, queue_blocked(&self->ring, self->p[0].r, self->sink.w,
					NBLOCK, 0, IOSQE_ASYNC));
	/* each blocked splice has a worker of its own */
	ASSERT_EQ(NBLOCK, iowq_wait_workers(0, NBLOCK, NBLOCK, 60));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	t = iowq_now();
	/* only queues the ring's exit work */
	io_uring_queue_exit(&self->ring);
	/* which ends them all: no splice waits on the pipe */
	ASSERT_TRUE(no_reader_left(&self->p[0], 20));
	/*
	 * and the workers go: the task has no ring left (on 6.1's own io-wq the
	 * last one of the account stays until the task exits)
	 */
	ASSERT_GE(1, iowq_wait_workers(0, 0, 1, 20));
	TH_LOG("ring closed, splices ended in %.1f s", iowq_now() - t);
	/* for teardown */
	ASSERT_EQ(0, io_uring_queue_init(8, &self->ring, 0));
}

struct blocker {
	struct io_uring *ring;
	int in, out, n, ud0;
	unsigned int flags;
	pid_t tid;
	int submitted;
};

static void *blocker_fn(void *arg)
{
	struct blocker *b = arg;

	b->tid = iowq_gettid();
	iowq_pin_cpu(0);
	b->submitted = queue_blocked(b->ring, b->in, b->out, b->n, b->ud0,
				     b->flags);
	if (b->flags & IOSQE_ASYNC)
		iowq_wait_workers(b->tid, b->n, b->n, 30);
	return NULL;
}

/*
 * A thread that exits with 200 blocked requests: the exit is prompt, the
 * requests end (their CQEs reach the ring), its workers go away.
 */
TEST_F_TIMEOUT(exit, thread_exit_with_blocked, 120)
{
	struct blocker b = {
		.ring = &self->ring, .in = self->p[0].r, .out = self->sink.w,
		.n = NBLOCK, .flags = IOSQE_ASYNC,
	};
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, blocker_fn, &b));
	ASSERT_EQ(0, iowq_join(t, 60));
	ASSERT_EQ(NBLOCK, b.submitted);
	ASSERT_EQ(NBLOCK, iowq_reap(&self->ring, &self->cq, NBLOCK, 30));
	ASSERT_TRUE(all_interrupted(&self->cq, 0, NBLOCK));
	ASSERT_EQ(0, iowq_wait_workers(b.tid, 0, 0, 10));
	ASSERT_TRUE(no_reader_left(&self->p[0], 10));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * Threads that exit right after queueing work, while workers are still
 * being started (without IOSQE_ASYNC new workers come one by one, as each
 * blocks), 10 times over: every request ends, no worker is left.
 */
TEST_F_TIMEOUT(exit, thread_exit_while_starting_workers, 120)
{
	int round, n = 32;

	for (round = 0; round < 10; round++) {
		struct blocker b = {
			.ring = &self->ring, .in = self->p[0].r,
			.out = self->sink.w, .n = n, .ud0 = round * n,
			.flags = round % 2 ? IOSQE_ASYNC : 0,
		};
		pthread_t t;

		ASSERT_EQ(0, pthread_create(&t, NULL, blocker_fn, &b));
		ASSERT_EQ(0, iowq_join(t, 30));
		ASSERT_EQ(n, b.submitted);
		ASSERT_EQ((round + 1) * n,
			  iowq_reap(&self->ring, &self->cq, (round + 1) * n, 30));
		ASSERT_TRUE(all_interrupted(&self->cq, round * n, n));
		ASSERT_EQ(0, iowq_wait_workers(b.tid, 0, 0, 10));
	}
	ASSERT_TRUE(no_reader_left(&self->p[0], 10));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	ASSERT_EQ(0, self->cq.bad);
}

#define QW_WRITES	8
#define QW_SIZE		4096
#define QW_SPLICES	3

struct queued_exit {
	struct io_uring *ring;
	int fd;				/* regular file written to */
	struct iowq_pipe *pipe;		/* empty: splices from it block */
	int sink;
	pid_t tid;
	int submitted;
	int workers;
	int blocked;
};

static char qw_buf[QW_WRITES][QW_SIZE];

/*
 * With one bound and one unbound worker at most: a FIFO open blocks the
 * bound worker (ud 0) with 8 buffered writes queued behind it (ud 1..8),
 * a splice blocks the unbound worker (ud 9) with 2 more queued (ud 10, 11).
 * Then the thread exits.
 */
static void *queued_exit_fn(void *arg)
{
	struct queued_exit *q = arg;
	struct io_uring_sqe *sqe;
	double secs;
	int i;

	q->tid = iowq_gettid();
	iowq_pin_cpu(0);
	iowq_prep_fifo_open(q->ring, 0, 0);
	for (i = 0; i < QW_WRITES; i++) {
		memset(qw_buf[i], 'a' + i, QW_SIZE);
		sqe = iowq_get_sqe(q->ring);
		io_uring_prep_write(sqe, q->fd, qw_buf[i], QW_SIZE,
				    (off_t)i * QW_SIZE);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = 1 + i;
	}
	for (i = 0; i < QW_SPLICES; i++)
		iowq_prep_splice(q->ring, q->pipe->r, q->sink, 1,
				 1 + QW_WRITES + i, IOSQE_ASYNC);
	q->submitted = io_uring_submit(q->ring);
	q->workers = iowq_wait_workers(q->tid, 2, 2, 10);
	/* both workers are blocked inside their first item (see below) */
	secs = iowq_kernel_is_ours() ? 10 : 0.3;
	q->blocked = iowq_wait_workers_in(q->tid, "wait_for_partner", 1, secs) +
		     iowq_wait_workers_in(q->tid, "pipe_wait_readable", 1, secs);
	return NULL;
}

/*
 * A thread exits with bound and unbound work running (blocked) and queued.
 * As on 6.1's own io-wq, the work belongs to the ring, not to the thread: every
 * queued buffered write still lands (liburing's thread-exit test checks
 * the same), the blocked FIFO open is interrupted, the blocked splice is
 * interrupted and the queued ones are cancelled, and all that is prompt.
 */
TEST_F_TIMEOUT(exit, thread_exit_runs_queued_bound, 60)
{
	struct queued_exit q = {
		.ring = &self->ring, .pipe = &self->p[0], .sink = self->sink.w,
	};
	int i, n = 1 + QW_WRITES + QW_SPLICES;
	char buf[QW_SIZE];
	pthread_t t;
	double t0;

	ASSERT_EQ(0, iowq_fifos_make(1));
	q.fd = open("queued-exit.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	ASSERT_LE(0, q.fd);
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 1, 1, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, queued_exit_fn, &q));
	t0 = iowq_now();
	ASSERT_EQ(0, iowq_join(t, 30));
	ASSERT_EQ(n, q.submitted);
	ASSERT_EQ(2, q.workers);
	/*
	 * With worker limits set, 6.1's own io-wq may leave its two workers
	 * idle beside the queued work: there, the first items need not be
	 * running.
	 */
	if (iowq_kernel_is_ours())
		ASSERT_EQ(2, q.blocked);
	ASSERT_EQ(n, iowq_reap(&self->ring, &self->cq, n, 10));
	TH_LOG("all %d completions %.2f s after the thread began", n,
	       iowq_now() - t0);
	ASSERT_LT(iowq_now() - t0, 5);

	ASSERT_GT(0, self->cq.res[0]);
	for (i = 0; i < QW_WRITES; i++) {
		ASSERT_EQ(QW_SIZE, self->cq.res[1 + i]);
		ASSERT_EQ(QW_SIZE, pread(q.fd, buf, QW_SIZE, (off_t)i * QW_SIZE));
		ASSERT_EQ(0, memcmp(buf, qw_buf[i], QW_SIZE));
	}
	/*
	 * The running splice is interrupted; the queued ones, which could
	 * block for ever, are cancelled without being run.
	 */
	ASSERT_GT(0, self->cq.res[1 + QW_WRITES]);
	if (q.blocked == 2)
		ASSERT_EQ(-EINTR, self->cq.res[1 + QW_WRITES]);
	for (i = 1; i < QW_SPLICES; i++)
		ASSERT_EQ(-ECANCELED, self->cq.res[1 + QW_WRITES + i]);
	ASSERT_EQ(0, iowq_wait_workers(q.tid, 0, 0, 10));
	ASSERT_TRUE(no_reader_left(&self->p[0], 10));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	ASSERT_EQ(0, self->cq.bad);
	close(q.fd);
	unlink("queued-exit.dat");
	iowq_fifos_remove(1);
}

/*
 * Child process: queue @n blocked splices (plus 16 bound FIFO opens), then
 * exit, or wait to be killed.
 */
static void blocked_child(int n, bool wait_kill, int ready_fd, bool async)
{
	struct iowq_pipe p, sink;
	struct io_uring ring;
	int i;

	if (iowq_pipes_open(&p, 1) || iowq_pipes_open(&sink, 1) ||
	    io_uring_queue_init(512, &ring, 0) || iowq_fifos_make(16))
		_exit(10);
	if (queue_blocked(&ring, p.r, sink.w, n, 0, async ? IOSQE_ASYNC : 0) != n)
		_exit(11);
	for (i = 0; i < 16; i++)
		iowq_prep_fifo_open(&ring, i, n + i);
	if (io_uring_submit(&ring) != 16)
		_exit(12);
	if (async)
		iowq_wait_workers(0, n, 100000, 30);
	iowq_fifos_remove(16);
	if (write(ready_fd, "r", 1) != 1)
		_exit(13);
	if (wait_kill)
		for (;;)
			pause();
	_exit(0);
}

/* Run blocked_child(); returns its wait status, -1 on a timeout. */
static int run_blocked_child(int n, bool kill_it, bool async)
{
	int rp[2], status;
	pid_t pid;
	char c;

	if (pipe(rp))
		return -2;
	pid = fork();
	if (!pid) {
		close(rp[0]);
		blocked_child(n, kill_it, rp[1], async);
	}
	close(rp[1]);
	if (read(rp[0], &c, 1) != 1) {
		close(rp[0]);
		return iowq_waitpid(pid, 1);
	}
	close(rp[0]);
	if (kill_it)
		kill(pid, SIGKILL);
	status = iowq_waitpid(pid, 30);
	return status;
}

/* A process exiting with 200 + 16 blocked requests goes away promptly. */
TEST_F_TIMEOUT(exit, process_exit_with_blocked, 120)
{
	int status = run_blocked_child(NBLOCK, false, true);

	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* The same, killed by SIGKILL. */
TEST_F_TIMEOUT(exit, process_killed_with_blocked, 120)
{
	int status = run_blocked_child(NBLOCK, true, true);

	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
}

/*
 * Processes exiting, or killed, while their workers are still being
 * started: each ends promptly (exit status 0, or SIGKILL).
 */
TEST_F_TIMEOUT(exit, process_exit_while_starting_workers, 120)
{
	int i, status;

	for (i = 0; i < 10; i++) {
		status = run_blocked_child(32, i % 2, false);
		ASSERT_NE(-1, status);
		if (i % 2) {
			/* set up, then killed (a failed setup exits 10-13) */
			ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("status %#x", status);
			ASSERT_EQ(SIGKILL, WTERMSIG(status));
		} else {
			ASSERT_EQ(0, status);
		}
	}
}

#define SIG_NOPS	16
#define SIG_SPLICES	8
#define SIG_REQS	(SIG_NOPS + SIG_SPLICES)

static atomic_int nr_sigs;

static void on_sig(int sig)
{
	(void)sig;
	atomic_fetch_add(&nr_sigs, 1);
}

struct storm {
	atomic_int target;
	atomic_int stop;
	atomic_long sent;
};

/* Signal thread @target (by tid: it may be gone) until told to stop. */
static void *storm_fn(void *arg)
{
	struct storm *s = arg;
	pid_t pid = getpid();

	while (!atomic_load(&s->stop)) {
		syscall(SYS_tgkill, pid, atomic_load(&s->target), SIGUSR1);
		atomic_fetch_add(&s->sent, 1);
	}
	return NULL;
}

struct sigjob {
	struct io_uring *ring;
	struct iowq_cq *cq;
	struct iowq_pipe *p;
	int sink;
	pthread_barrier_t *bar;
	atomic_int tid;
	int reaped;
};

/*
 * Under the signal storm: 16 async NOPs, 4 async splices and 4 splices
 * punted after a try (each needs a new worker), their pipes fed; wait for
 * the storm to end (second barrier) and for the work to complete.
 */
static void *sigjob_fn(void *arg)
{
	struct sigjob *j = arg;
	int i;

	iowq_pin_cpu(0);
	atomic_store(&j->tid, iowq_gettid());
	pthread_barrier_wait(j->bar);
	for (i = 0; i < SIG_NOPS; i++)
		iowq_prep_nop(j->ring, i, IOSQE_ASYNC);
	for (i = 0; i < SIG_SPLICES; i++)
		iowq_prep_splice(j->ring, j->p[i].r, j->sink, 1, SIG_NOPS + i,
				 i < SIG_SPLICES / 2 ? IOSQE_ASYNC : 0);
	io_uring_submit(j->ring);
	for (i = 0; i < SIG_SPLICES; i++)
		if (write(j->p[i].w, "s", 1) != 1)
			break;
	iowq_reap(j->ring, j->cq, SIG_REQS, 0.5);
	pthread_barrier_wait(j->bar);
	j->reaped = iowq_reap(j->ring, j->cq, SIG_REQS, 3);
	return NULL;
}

/* Empty the pipes of splices that never ran (work ended by the exit). */
static void drain_pipes(struct iowq_pipe *p, int n)
{
	char c;
	int i, fl;

	for (i = 0; i < n; i++) {
		fl = fcntl(p[i].r, F_GETFL);
		fcntl(p[i].r, F_SETFL, fl | O_NONBLOCK);
		while (read(p[i].r, &c, 1) == 1)
			;
		fcntl(p[i].r, F_SETFL, fl);
	}
}

/*
 * A thread receiving signals in a tight loop while it queues work that
 * needs new workers, 6 times (a new thread, so new workers, each time):
 * each request gets exactly one CQE with its normal result within 3 s of
 * the storm's end: worker creations that failed because a signal was
 * pending are retried, never lost or turned into cancellations.
 */
TEST_F_TIMEOUT(exit, signal_storm, 180)
{
	struct sigaction sa = { .sa_handler = on_sig };
	int round, i, late = 0, rounds_late = 0;

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	for (round = 0; round < 6; round++) {
		pthread_barrier_t bar;
		struct sigjob j = {
			.ring = &self->ring, .cq = &self->cq, .p = self->p,
			.sink = self->sink.w, .bar = &bar,
		};
		struct storm s = { 0 };
		pthread_t t, st;

		memset(&self->cq, 0, sizeof(self->cq));
		pthread_barrier_init(&bar, NULL, 2);
		ASSERT_EQ(0, pthread_create(&t, NULL, sigjob_fn, &j));
		while (!atomic_load(&j.tid))
			iowq_sleep(0.001);
		atomic_store(&s.target, atomic_load(&j.tid));
		ASSERT_EQ(0, pthread_create(&st, NULL, storm_fn, &s));
		while (atomic_load(&s.sent) < 100)
			iowq_sleep(0.001);
		pthread_barrier_wait(&bar);	/* go */
		iowq_sleep(0.5);
		atomic_store(&s.stop, 1);
		ASSERT_EQ(0, iowq_join(st, 10));
		pthread_barrier_wait(&bar);	/* storm over */
		ASSERT_EQ(0, iowq_join(t, 60));
		pthread_barrier_destroy(&bar);
		if (j.reaped < SIG_REQS) {
			rounds_late++;
			late += SIG_REQS - j.reaped;
		}
		/* what the thread left is ended by its exit */
		ASSERT_EQ(SIG_REQS, iowq_reap(&self->ring, &self->cq, SIG_REQS, 20));
		ASSERT_EQ(0, self->cq.bad);
		for (i = 0; i < SIG_REQS; i++) {
			int want = i < SIG_NOPS ? 0 : 1;

			ASSERT_EQ(want, self->cq.res[i]);
		}
		ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
		drain_pipes(self->p, SIG_SPLICES);
		/* a pipe holds 16 buffers: a full sink would block splices */
		drain_pipes(&self->sink, 1);
	}
	TH_LOG("%d signals; %d requests in %d rounds only ended at thread exit",
	       atomic_load(&nr_sigs), late, rounds_late);
	ASSERT_GT(atomic_load(&nr_sigs), 100);
	ASSERT_EQ(0, late);
}

/*
 * fork() with blocked work in flight: the child has no workers, can use an
 * inherited ring (its own io-wq) and exits; the parent's work completes.
 */
TEST_F_TIMEOUT(exit, fork_with_work_in_flight, 60)
{
	struct iowq_cq cq2 = { 0 };
	struct io_uring ring2;
	int i, status;
	pid_t pid;

	ASSERT_EQ(0, io_uring_queue_init(16, &ring2, 0));
	for (i = 0; i < 4; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	ASSERT_EQ(4, iowq_wait_workers(0, 4, 4, 10));
	pid = fork();
	if (!pid) {
		/*
		 * The child has an io-wq of its own, made at its first punt:
		 * its async NOPs run on its own worker, while the parent's
		 * workers stay blocked.
		 */
		iowq_prep_nop(&ring2, 0, IOSQE_ASYNC);
		iowq_prep_nop(&ring2, 1, 0);
		iowq_prep_nop(&ring2, 2, IOSQE_ASYNC);
		if (io_uring_submit(&ring2) != 3)
			_exit(2);
		if (iowq_reap(&ring2, &cq2, 3, 10) != 3 || cq2.bad)
			_exit(3);
		for (i = 0; i < 3; i++)
			if (cq2.res[i])
				_exit(4);
		if (iowq_count_workers_of(getpid()) < 1)
			_exit(5);
		_exit(0);
	}
	status = iowq_waitpid(pid, 30);
	ASSERT_EQ(0, status);
	ASSERT_TRUE(iowq_cq_quiet(&ring2, &cq2, 0.2));
	io_uring_queue_exit(&ring2);
	/* the parent's four workers are still there, still blocked */
	ASSERT_EQ(4, iowq_count_workers());

	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, write(self->p[i].w, "f", 1));
	ASSERT_EQ(4, iowq_reap(&self->ring, &self->cq, 4, 10));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
}

/*
 * A child queues blocked work on a ring shared with its parent and execs:
 * exec is prompt, the child's requests end, the parent's do not.
 */
TEST_F_TIMEOUT(exit, exec_with_work_in_flight, 60)
{
	struct iowq_cq cq2 = { 0 };
	struct io_uring ring2;
	int status;
	pid_t pid;

	if (access("/bin/true", X_OK))
		SKIP(return, "no /bin/true");
	ASSERT_EQ(0, io_uring_queue_init(64, &ring2, 0));
	iowq_prep_splice(&self->ring, self->p[0].r, self->sink.w, 1, 0,
			 IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	pid = fork();
	if (!pid) {
		if (queue_blocked(&ring2, self->p[1].r, self->sink.w, 32, 0,
				  IOSQE_ASYNC) != 32)
			_exit(2);
		iowq_wait_workers(0, 32, 32, 10);
		execl("/bin/true", "true", (char *)NULL);
		_exit(3);
	}
	status = iowq_waitpid(pid, 30);
	ASSERT_EQ(0, status);
	ASSERT_EQ(32, iowq_reap(&ring2, &cq2, 32, 10));
	ASSERT_TRUE(all_interrupted(&cq2, 0, 32));
	ASSERT_TRUE(iowq_cq_quiet(&ring2, &cq2, 0.2));
	io_uring_queue_exit(&ring2);
	ASSERT_TRUE(no_reader_left(&self->p[1], 10));

	ASSERT_FALSE(self->cq.done[0]);
	ASSERT_EQ(1, write(self->p[0].w, "e", 1));
	ASSERT_EQ(1, iowq_reap(&self->ring, &self->cq, 1, 10));
	ASSERT_EQ(1, self->cq.res[0]);
}

#define HP_CPU		1
#define HP_ROUNDS	40

struct toggler {
	atomic_bool stop;
	atomic_int errors;
	int toggles;
};

/*
 * Why the hotplug cases cannot run here (they take CPU 1 offline and exec
 * /bin/true), or NULL.
 */
static const char *hotplug_exec_unmet(void)
{
	static char why[64];

	if (geteuid())
		return "needs root";
	if (sysconf(_SC_NPROCESSORS_CONF) < 2 || !iowq_cpu_hotpluggable(HP_CPU)) {
		snprintf(why, sizeof(why), "CPU %d cannot be taken offline", HP_CPU);
		return why;
	}
	if (access("/bin/true", X_OK))
		return "no /bin/true";
	return NULL;
}

/* Take CPU 1 offline and online again, 2-20 ms apart, until told to stop. */
static void *toggle_fn(void *arg)
{
	struct toggler *t = arg;
	unsigned int r = 1;

	while (!atomic_load(&t->stop)) {
		bool on = t->toggles % 2;

		if (iowq_cpu_set_online(HP_CPU, on) && on)
			atomic_fetch_add(&t->errors, 1);
		t->toggles++;
		r = r * 1103515245 + 12345;
		iowq_sleep(0.002 + 0.001 * ((r >> 16) % 19));
	}
	iowq_cpu_set_online(HP_CPU, true);
	return NULL;
}

/*
 * Child of exec_exit_during_cpu_hotplug: blocked splices and async NOPs,
 * from CPU 1 if it is online; once the NOPs are done, tell the parent,
 * then exec (@exec) or exit.
 */
static void hotplug_child(bool exec, unsigned int r, int ready_fd)
{
	static struct iowq_cq cq;
	struct iowq_pipe p, sink;
	struct io_uring ring;
	int i;

	iowq_pin_cpu(HP_CPU);	/* EINVAL while it is offline */
	if (iowq_pipes_open(&p, 1) || iowq_pipes_open(&sink, 1) ||
	    io_uring_queue_init(64, &ring, 0))
		_exit(10);
	for (i = 0; i < 4; i++)
		iowq_prep_nop(&ring, i, IOSQE_ASYNC);
	if (queue_blocked(&ring, p.r, sink.w, 8, 4, IOSQE_ASYNC) != 12)
		_exit(11);
	if (iowq_reap(&ring, &cq, 4, 20) != 4 || cq.nr != 4 || cq.bad)
		_exit(12);
	for (i = 0; i < 4; i++)
		if (!cq.done[i] || cq.res[i])
			_exit(13);
	if (write(ready_fd, "r", 1) != 1)
		_exit(14);
	iowq_sleep(0.001 * (r % 8));
	if (exec)
		execl("/bin/true", "true", (char *)NULL);
	_exit(exec ? 15 : 0);
}

/*
 * A process whose workers are blocked execs, or exits, while CPU 1 goes
 * offline and online under it, round after round: each child reaches its
 * exec or exit (its NOPs complete) within 20 s and is gone 20 s later.
 * exec must end the blocked work (de_thread() kills the workers) however
 * the workers are being moved between CPUs.
 */
TEST_F_TIMEOUT(exit, exec_exit_during_cpu_hotplug, 300)
{
	struct toggler t = { 0 };
	int round, status = 0;
	const char *why;
	pthread_t thr;

	why = hotplug_exec_unmet();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pthread_create(&thr, NULL, toggle_fn, &t));
	for (round = 0; round < HP_ROUNDS; round++) {
		struct pollfd pfd;
		int rp[2];
		pid_t pid;
		char c = 0;

		ASSERT_EQ(0, pipe2(rp, O_CLOEXEC));
		pid = fork();
		if (!pid) {
			close(rp[0]);
			hotplug_child(round % 2 == 0, round * 7, rp[1]);
		}
		close(rp[1]);
		pfd.fd = rp[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20000) != 1 || read(rp[0], &c, 1) != 1) {
			TH_LOG("round %d: the child's NOPs did not complete in 20 s", round);
			status = -1;
		}
		close(rp[0]);
		if (!status) {
			status = iowq_wait_child(pid, 20);
			if (status == -ETIMEDOUT) {
				iowq_dump_task(pid);
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				status = -1;
			}
			if (status)
				TH_LOG("round %d: the child did not %s in 20 s (status %d)",
				       round, round % 2 ? "exit" : "exec", status);
		} else {
			iowq_waitpid(pid, 0);
		}
		if (status)
			break;
	}
	atomic_store(&t.stop, true);
	ASSERT_EQ(0, iowq_join(thr, 60));
	TH_LOG("%d rounds, CPU %d offline %d times", round, HP_CPU, t.toggles / 2);
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, atomic_load(&t.errors));
	ASSERT_EQ(HP_ROUNDS, round);
}

/*
 * Child of exec_exit_with_cpu_half_down: async NOPs run by workers bound to
 * CPU @cpu; once they are done, tell the parent, wait for its go, then exec
 * (@exec) or exit.
 */
static void half_down_child(bool exec, int cpu, int ready_fd, int go_fd)
{
	static struct iowq_cq cq;
	struct io_uring ring;
	cpu_set_t mask;
	char c;
	int i;

	CPU_ZERO(&mask);
	CPU_SET(cpu, &mask);
	if (iowq_pin_cpu(cpu) || io_uring_queue_init(64, &ring, 0))
		_exit(10);
	if (io_uring_register_iowq_aff(&ring, sizeof(mask), &mask))
		_exit(11);
	for (i = 0; i < 8; i++)
		iowq_prep_nop(&ring, i, IOSQE_ASYNC);
	if (io_uring_submit(&ring) != 8 || iowq_reap(&ring, &cq, 8, 20) != 8 ||
	    cq.bad)
		_exit(12);
	for (i = 0; i < 8; i++)
		if (cq.res[i])
			_exit(13);
	/* the workers drop their last references after posting the CQEs */
	iowq_sleep(0.2);
	if (write(ready_fd, "r", 1) != 1 || read(go_fd, &c, 1) != 1)
		_exit(14);
	if (exec)
		execl("/bin/true", "true", (char *)NULL);
	_exit(exec ? 15 : 0);
}

/*
 * A task's requests in flight are a per-CPU count (a percpu_counter), which
 * exec waits to see reach zero.  A CPU going down leaves cpu_online_mask
 * before its part of the count is folded into the total: a sum taken in
 * between misses it.  Here CPU 1 is held in between (its teardown stopped
 * at the hotplug state right above the fold, "lib/percpu_cnt:dead") while
 * a process whose requests were completed on CPU 1 execs, then exits: each
 * must finish within 10 s.  An exec that misses CPU 1's part waits for
 * completions that already happened, for ever.
 */
TEST_F_TIMEOUT(exit, exec_exit_with_cpu_half_down, 120)
{
	int fold, half, online, round;
	const char *why;

	why = hotplug_exec_unmet();
	if (why)
		SKIP(return, "%s", why);
	fold = iowq_cpuhp_state("lib/percpu_cnt:dead", false);
	half = iowq_cpuhp_state("lib/percpu_cnt:dead", true);
	online = iowq_cpuhp_state("online", false);
	if (fold < 0)
		SKIP(return, "no lib/percpu_cnt:dead hotplug state: the fold runs elsewhere");
	ASSERT_LT(fold, half);
	ASSERT_LT(half, online);
	for (round = 0; round < 2; round++) {
		int ready[2], go[2], ret, status;
		bool exec = round == 0;
		pid_t pid;
		char c;

		ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
		ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
		pid = fork();
		if (!pid) {
			close(ready[0]);
			close(go[1]);
			half_down_child(exec, HP_CPU, ready[1], go[0]);
		}
		close(ready[1]);
		close(go[0]);
		ret = read(ready[0], &c, 1);
		if (ret != 1) {
			iowq_waitpid(pid, 10);
			close(ready[0]);
			close(go[1]);
			ASSERT_EQ(1, ret);
		}
		ret = iowq_cpu_set_target(HP_CPU, half);
		if (ret) {
			iowq_waitpid(pid, 0);
			close(ready[0]);
			close(go[1]);
			if (ret == -EINVAL)
				SKIP(return, "no partial CPU hotplug (%s)",
				     "CONFIG_CPU_HOTPLUG_STATE_CONTROL");
			ASSERT_EQ(0, ret);
		}
		ASSERT_EQ(1, write(go[1], "g", 1));
		status = iowq_wait_child(pid, 10);
		if (status == -ETIMEDOUT) {
			TH_LOG("round %d: the child did not %s in 10 s with CPU %d at state %d",
			       round, exec ? "exec" : "exit", HP_CPU, half);
			iowq_dump_task(pid);
		}
		ret = iowq_cpu_set_target(HP_CPU, online);
		if (status == -ETIMEDOUT) {
			/* with CPU 1 back, the sum is right: a kill ends the wait */
			kill(pid, SIGKILL);
			iowq_waitpid(pid, 20);
		}
		close(ready[0]);
		close(go[1]);
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, status);
	}
}

struct sharer {
	struct io_uring *ring;
	pthread_mutex_t *lock;
	pthread_barrier_t *bar;
	struct iowq_pipe *p;
	int sink, idx;
	pid_t tid;
};

/* One blocked splice and 16 async NOPs on the shared ring, then wait. */
static void *sharer_fn(void *arg)
{
	struct sharer *s = arg;
	int i;

	s->tid = iowq_gettid();
	pthread_mutex_lock(s->lock);
	iowq_prep_splice(s->ring, s->p->r, s->sink, 1, s->idx * 20, IOSQE_ASYNC);
	for (i = 1; i <= 16; i++)
		iowq_prep_nop(s->ring, s->idx * 20 + i, IOSQE_ASYNC);
	io_uring_submit(s->ring);
	pthread_mutex_unlock(s->lock);
	pthread_barrier_wait(s->bar);	/* submitted */
	pthread_barrier_wait(s->bar);	/* all reaped */
	return NULL;
}

/*
 * Four threads share one ring: each has its own workers (iou-wrk-<tid>),
 * all their requests complete once, reaped by the main thread.
 */
TEST_F_TIMEOUT(exit, shared_ring_threads, 60)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct sharer s[4];
	pthread_barrier_t bar;
	pthread_t t[4];
	int i, k;

	pthread_barrier_init(&bar, NULL, 5);
	for (i = 0; i < 4; i++) {
		s[i] = (struct sharer){ .ring = &self->ring, .lock = &lock,
			.bar = &bar, .p = &self->p[i], .sink = self->sink.w,
			.idx = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, sharer_fn, &s[i]));
	}
	pthread_barrier_wait(&bar);
	ASSERT_EQ(64, iowq_reap(&self->ring, &self->cq, 64, 20));
	for (i = 0; i < 4; i++)
		ASSERT_GE(iowq_wait_workers(s[i].tid, 1, 1000, 10), 1);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, write(self->p[i].w, "t", 1));
	ASSERT_EQ(68, iowq_reap(&self->ring, &self->cq, 68, 20));
	pthread_barrier_wait(&bar);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, iowq_join(t[i], 10));
	pthread_barrier_destroy(&bar);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, self->cq.res[i * 20]);
		for (k = 1; k <= 16; k++)
			ASSERT_EQ(0, self->cq.res[i * 20 + k]);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	ASSERT_EQ(0, self->cq.bad);
}

static void prep_append(struct io_uring *ring, int fd, const char *rec, int ud)
{
	struct io_uring_sqe *sqe = iowq_get_sqe(ring);

	io_uring_prep_write(sqe, fd, rec, strlen(rec), 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = ud;
}

/*
 * Four rings of one task: work hashed to one file through different rings
 * is serialized in submission order (one io-wq, one hash map), and still
 * is after the ring that created the io-wq is closed: appends through two
 * rings wait for a splice through a third that holds the file's key.
 */
TEST_F_TIMEOUT(exit, rings_share_hash, 60)
{
	static const char * const recs[] = { "r1\n", "r2\n", "r3\n", "r4\n", "r5\n",
					     "r6\n" };
	int i, fd, afd, n = 0;
	struct iowq_cq cq[4];
	struct io_uring r[4];
	char buf[64] = "";

	memset(cq, 0, sizeof(cq));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, io_uring_queue_init(8, &r[i], 0));
	fd = open("shared.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	afd = open("shared.dat", O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, afd);
	iowq_prep_splice(&r[0], self->p[0].r, fd, 3, 0, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&r[0]));
	for (i = 1; i < 4; i++) {
		prep_append(&r[i], afd, recs[i - 1], i);
		ASSERT_EQ(1, io_uring_submit(&r[i]));
	}
	for (i = 1; i < 4; i++)
		ASSERT_TRUE(iowq_cq_quiet(&r[i], &cq[i], 0.3));
	ASSERT_EQ(3, write(self->p[0].w, "r0\n", 3));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, iowq_reap(&r[i], &cq[i], 1, 10));
		ASSERT_EQ(3, cq[i].res[i]);
	}
	/*
	 * With the first ring gone, a splice through r[1] holds the key
	 * (it writes at the end of the file), and appends through r[2] and
	 * r[3] still wait for it.
	 */
	io_uring_queue_exit(&r[0]);
	ASSERT_EQ(12, lseek(fd, 0, SEEK_END));
	iowq_prep_splice(&r[1], self->p[1].r, fd, 3, 4, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&r[1]));
	ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(), "pipe_wait_readable",
					  1, 10));
	prep_append(&r[2], afd, recs[4], 5);
	prep_append(&r[3], afd, recs[5], 6);
	ASSERT_EQ(1, io_uring_submit(&r[2]));
	ASSERT_EQ(1, io_uring_submit(&r[3]));
	for (i = 1; i < 4; i++)
		ASSERT_TRUE(iowq_cq_quiet(&r[i], &cq[i], i == 1 ? 0.3 : 0.1));
	ASSERT_EQ(3, write(self->p[1].w, "r4\n", 3));
	for (i = 1; i < 4; i++) {
		ASSERT_EQ(2, iowq_reap(&r[i], &cq[i], 2, 10));
		ASSERT_EQ(3, cq[i].res[i + 3]);
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ASSERT_EQ(21, n);
	ASSERT_STREQ("r0\nr1\nr2\nr3\nr4\nr5\nr6\n", buf);
	for (i = 1; i < 4; i++) {
		ASSERT_TRUE(iowq_cq_quiet(&r[i], &cq[i], 0.1));
		io_uring_queue_exit(&r[i]);
	}
	close(fd);
	close(afd);
	unlink("shared.dat");
}

struct appender {
	struct io_uring *ring;
	int fd;
	pid_t tid;
	int submitted;
	bool quiet;
};

/* Three appends to the file of @a->fd, then exit once they are stuck. */
static void *appender_fn(void *arg)
{
	struct appender *a = arg;
	struct iowq_cq cq = { 0 };

	a->tid = iowq_gettid();
	prep_append(a->ring, a->fd, "a1\n", 1);
	prep_append(a->ring, a->fd, "a2\n", 2);
	prep_append(a->ring, a->fd, "a3\n", 3);
	a->submitted = io_uring_submit(a->ring);
	a->quiet = iowq_cq_quiet(a->ring, &cq, 0.3);
	return NULL;
}

/*
 * One ring, two threads, so two io-wqs sharing the ring's hash map: the
 * main thread's worker holds a file's hash key (a splice into it from an
 * empty pipe), another thread queues appends to that file, which wait for
 * the key, and exits.  Its io-wq cannot run them and must not keep them:
 * they are cancelled at its exit, promptly, and the file only gets the
 * splice's data once the pipe is fed.
 */
TEST_F_TIMEOUT(exit, thread_exit_cancels_chain_held_elsewhere, 60)
{
	struct appender a = { .ring = &self->ring };
	char buf[64] = "";
	pthread_t t;
	int i, fd;
	double t0;

	fd = open("held.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	a.fd = open("held.dat", O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, a.fd);
	iowq_prep_splice(&self->ring, self->p[0].r, fd, 3, 0, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(), "pipe_wait_readable",
					  1, 10));
	ASSERT_EQ(0, pthread_create(&t, NULL, appender_fn, &a));
	t0 = iowq_now();
	ASSERT_EQ(0, iowq_join(t, 10));
	ASSERT_EQ(3, a.submitted);
	ASSERT_TRUE(a.quiet);
	ASSERT_EQ(3, iowq_reap(&self->ring, &self->cq, 3, 10));
	TH_LOG("appends ended %.2f s after the thread began", iowq_now() - t0);
	ASSERT_LT(iowq_now() - t0, 5);
	for (i = 1; i <= 3; i++)
		ASSERT_EQ(-ECANCELED, self->cq.res[i]);
	ASSERT_EQ(0, iowq_wait_workers(a.tid, 0, 0, 10));
	/* the key's holder was not disturbed */
	ASSERT_FALSE(self->cq.done[0]);
	ASSERT_EQ(3, write(self->p[0].w, "r0\n", 3));
	ASSERT_EQ(4, iowq_reap(&self->ring, &self->cq, 4, 10));
	ASSERT_EQ(3, self->cq.res[0]);
	ASSERT_EQ(3, pread(fd, buf, sizeof(buf) - 1, 0));
	ASSERT_STREQ("r0\n", buf);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	ASSERT_EQ(0, self->cq.bad);
	close(a.fd);
	close(fd);
	unlink("held.dat");
}

TEST_HARNESS_MAIN
