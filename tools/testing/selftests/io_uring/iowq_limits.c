// SPDX-License-Identifier: GPL-2.0
/*
 * Worker limits: IORING_REGISTER_IOWQ_MAX_WORKERS semantics (defaults,
 * previous values returned, zero keeps a value, bad arguments), bound and
 * unbound work accounted separately, the limits never exceeded while the
 * excess work still completes, limits applied to every task using a ring,
 * and the unbound limit following RLIMIT_NPROC (as root and as nobody).
 *
 * 6.1 keeps a worker pool per NUMA node and applies the limits per pool,
 * so tests that count workers pin the submitting thread to CPU 0.
 */
#include "../kselftest_harness.h"
#include "iowq_util.h"

#include <dirent.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/resource.h>

FIXTURE(limits) {
	struct io_uring ring;
	struct iowq_cq cq;
	struct iowq_pipe p[16];
	struct iowq_pipe sink;
	int nr_pipes;
	int nr_fifos;
};

FIXTURE_SETUP(limits)
{
	ASSERT_EQ(0, iowq_pin_cpu(0));
	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
	ASSERT_EQ(0, iowq_pipes_open(&self->sink, 1));
}

FIXTURE_TEARDOWN(limits)
{
	io_uring_queue_exit(&self->ring);
	iowq_pipes_close(self->p, self->nr_pipes);
	iowq_pipes_close(&self->sink, 1);
	iowq_fifos_remove(self->nr_fifos);
}

static unsigned int nproc_limit(void)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NPROC, &rl);
	/* what 6.1 stores (an unsigned int) for RLIM_INFINITY too */
	return (unsigned int)rl.rlim_cur;
}

/*
 * Release, highest index first, the FIFO readers in [0, @n) that wait in
 * open(); work is started in about submission order, so a request that
 * starts during the sweep has a higher index than the sweep position and
 * is not counted.  Returns the number released (a snapshot of how many
 * such requests were in flight) or -errno.
 */
static int fifo_sweep(int n, unsigned char *released)
{
	int i, ret, nr = 0;

	for (i = n - 1; i >= 0; i--) {
		if (released[i])
			continue;
		ret = iowq_fifo_release(i);
		if (ret < 0)
			return ret;
		if (ret) {
			released[i] = 1;
			nr++;
		}
	}
	return nr;
}

/*
 * Sweep the FIFOs until all @n readers are released (@released marks those
 * already released); each sweep must find at most @limit of them in
 * flight.  Returns the largest number seen in flight, -1 on a timeout, and
 * stores in @max_workers the largest worker count seen meanwhile.
 */
static int drain_fifos(struct io_uring *ring, struct iowq_cq *cq, int n,
		       unsigned char *released, int limit, int *max_workers)
{
	double end = iowq_now() + 60;
	int i, total = 0, max = 0, s, w;

	for (i = 0; i < n; i++)
		total += released[i];
	*max_workers = 0;
	while (total < n && iowq_now() < end) {
		w = iowq_count_workers();
		if (w > *max_workers)
			*max_workers = w;
		s = fifo_sweep(n, released);
		if (s < 0)
			return -1;
		if (s > max)
			max = s;
		if (s > limit)
			return s;
		total += s;
		iowq_reap(ring, cq, cq->nr + 1, 0.02);
	}
	return total == n ? max : -1;
}

/* Defaults are {min(sq_entries, 4 * cpus), RLIMIT_NPROC}; set returns old. */
TEST_F(limits, register_returns_previous)
{
	unsigned int old[2], nproc = nproc_limit();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ASSERT_EQ(0, iowq_touch(&self->ring));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 0, old));
	EXPECT_EQ(64 < 4 * cpus ? 64 : 4 * cpus, old[0]);
	EXPECT_EQ(nproc, old[1]);

	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 3, 5, old));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 0, old));
	EXPECT_EQ(3, old[0]);
	EXPECT_EQ(5, old[1]);
	/* zero leaves a value as it is */
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 7, old));
	EXPECT_EQ(3, old[0]);
	EXPECT_EQ(5, old[1]);
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 2, 0, old));
	EXPECT_EQ(3, old[0]);
	EXPECT_EQ(7, old[1]);
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 0, old));
	EXPECT_EQ(2, old[0]);
	EXPECT_EQ(7, old[1]);
}

static void *small_ring_fn(void *arg)
{
	unsigned int *old = arg;
	struct io_uring small;

	if (io_uring_queue_init(4, &small, 0))
		return NULL;
	if (iowq_touch(&small) || iowq_set_max_workers(&small, 0, 0, old)) {
		old[0] = 0;
		old[1] = 0;
	}
	io_uring_queue_exit(&small);
	return NULL;
}

/*
 * The io-wq of a task is made for the first ring it uses: when that ring
 * has 4 entries, the task gets 4 bound workers.
 */
TEST_F(limits, default_bound_is_queue_depth)
{
	unsigned int old[2] = { 0, 0 };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, small_ring_fn, old));
	ASSERT_EQ(0, iowq_join(t, 30));
	EXPECT_EQ(4, old[0]);
	EXPECT_EQ(nproc_limit(), old[1]);
}

/* nr_args != 2, NULL, a bad pointer and values over INT_MAX are refused. */
TEST_F(limits, register_bad_args)
{
	unsigned int vals[3] = { 1, 1, 1 }, old[2];
	int fd = self->ring.ring_fd;

	ASSERT_EQ(0, iowq_touch(&self->ring));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 4, 6, NULL));
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_REGISTER_IOWQ_MAX_WORKERS,
					     vals, 0));
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_REGISTER_IOWQ_MAX_WORKERS,
					     vals, 1));
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_REGISTER_IOWQ_MAX_WORKERS,
					     vals, 3));
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_REGISTER_IOWQ_MAX_WORKERS,
					     NULL, 2));
	EXPECT_EQ(-EFAULT, iowq_register_raw(fd, IORING_REGISTER_IOWQ_MAX_WORKERS,
					     (void *)8, 2));
	vals[0] = 0x80000000u;
	vals[1] = 1;
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_REGISTER_IOWQ_MAX_WORKERS,
					     vals, 2));
	/* none of these changed anything */
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 0, old));
	EXPECT_EQ(4, old[0]);
	EXPECT_EQ(6, old[1]);
}

/* At most 2 bound requests (FIFO opens) block at once; the other 6 follow. */
TEST_F_TIMEOUT(limits, bound_limit, 120)
{
	unsigned char released[8] = { 0 };
	int i, n = 8, max_w, in_flight;

	ASSERT_EQ(0, iowq_fifos_make(n));
	self->nr_fifos = n;
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 2, 0, NULL));
	for (i = 0; i < n; i++)
		iowq_prep_fifo_open(&self->ring, i, i);
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	ASSERT_EQ(2, iowq_wait_workers(0, 2, 2, 20));
	ASSERT_EQ(2, iowq_max_workers_seen(0, 0.5));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));

	in_flight = drain_fifos(&self->ring, &self->cq, n, released, 2, &max_w);
	ASSERT_GE(in_flight, 1);
	ASSERT_LE(in_flight, 2);
	ASSERT_LE(max_w, 2);
	ASSERT_EQ(n, iowq_reap(&self->ring, &self->cq, n, 20));
	for (i = 0; i < n; i++) {
		ASSERT_LE(0, self->cq.res[i]);
		close(self->cq.res[i]);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/* At most 3 unbound requests (pipe splices) block at once; all 10 complete. */
TEST_F_TIMEOUT(limits, unbound_limit, 120)
{
	int i, n = 10, max;

	ASSERT_EQ(0, iowq_pipes_open(self->p, n));
	self->nr_pipes = n;
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 3, NULL));
	for (i = 0; i < n; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	ASSERT_EQ(3, iowq_wait_workers(0, 3, 3, 20));
	ASSERT_EQ(3, iowq_max_workers_seen(0, 0.5));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));

	/* feed one pipe at a time: each splice completes, never > 3 workers */
	max = 0;
	for (i = 0; i < n; i++) {
		int w;

		ASSERT_EQ(1, write(self->p[i].w, "x", 1));
		ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, i, 20));
		ASSERT_EQ(1, self->cq.res[i]);
		w = iowq_count_workers();
		if (w > max)
			max = w;
	}
	ASSERT_LE(max, 3);
	ASSERT_EQ(n, self->cq.nr);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * With {1, 1}, a bound request blocked in open() does not hold back
 * unbound work and blocked unbound work does not hold back bound work.
 */
TEST_F_TIMEOUT(limits, bound_unbound_separate, 120)
{
	unsigned char released[2] = { 0 };
	int i, s, max_w;

	ASSERT_EQ(0, iowq_fifos_make(2));
	self->nr_fifos = 2;
	ASSERT_EQ(0, iowq_pipes_open(self->p, 2));
	self->nr_pipes = 2;
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 1, 1, NULL));
	for (i = 0; i < 2; i++) {
		iowq_prep_fifo_open(&self->ring, i, i);
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1,
				 10 + i, IOSQE_ASYNC);
	}
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	/* one bound and one unbound worker, both blocked */
	ASSERT_EQ(2, iowq_wait_workers(0, 2, 2, 20));
	ASSERT_EQ(2, iowq_max_workers_seen(0, 0.5));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));

	/* unbound work completes while the bound worker stays blocked */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(1, write(self->p[i].w, "x", 1));
	ASSERT_EQ(2, iowq_reap(&self->ring, &self->cq, 2, 20));
	ASSERT_EQ(1, self->cq.res[10]);
	ASSERT_EQ(1, self->cq.res[11]);

	/* only one FIFO open is in flight (bound limit 1) */
	s = fifo_sweep(2, released);
	ASSERT_EQ(1, s);

	/* block the unbound worker again: bound work still progresses */
	iowq_prep_splice(&self->ring, self->p[0].r, self->sink.w, 1, 12,
			 IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	s = drain_fifos(&self->ring, &self->cq, 2, released, 1, &max_w);
	ASSERT_EQ(1, s);
	ASSERT_LE(max_w, 2);
	ASSERT_EQ(4, iowq_reap(&self->ring, &self->cq, 4, 20));
	for (i = 0; i < 2; i++) {
		ASSERT_LE(0, self->cq.res[i]);
		close(self->cq.res[i]);
	}
	ASSERT_FALSE(self->cq.done[12]);
	ASSERT_EQ(1, write(self->p[0].w, "y", 1));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 12, 20));
	ASSERT_EQ(1, self->cq.res[12]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

struct sharer {
	struct io_uring *ring;
	struct iowq_cq *cq;
	struct iowq_pipe *p;
	int sink;
	int n;
	pthread_barrier_t bar;
	bool touch_first;
	pid_t tid;
	int max_workers;
	int err;
};

/*
 * Thread using the ring of the main thread: maybe once to get its io-wq
 * going, then (after main sets limits) to block @n splices.
 */
static void *sharer_fn(void *arg)
{
	struct sharer *s = arg;
	int i;

	s->tid = iowq_gettid();
	if (iowq_pin_cpu(0) || (s->touch_first && iowq_touch(s->ring)))
		s->err = 1;
	pthread_barrier_wait(&s->bar);	/* io-wq exists */
	pthread_barrier_wait(&s->bar);	/* limits set */
	for (i = 0; i < s->n; i++)
		iowq_prep_splice(s->ring, s->p[i].r, s->sink, 1, i,
				 IOSQE_ASYNC);
	if (io_uring_submit(s->ring) != s->n)
		s->err = 2;
	s->max_workers = iowq_wait_workers(s->tid, 2, 2, 20);
	if (s->max_workers == 2)
		s->max_workers = iowq_max_workers_seen(s->tid, 0.5);
	for (i = 0; i < s->n; i++)
		if (write(s->p[i].w, "x", 1) != 1)
			s->err = 3;
	if (iowq_reap(s->ring, s->cq, s->n, 30) != s->n)
		s->err = 4;
	return NULL;
}

static void run_sharer(struct __test_metadata *_metadata,
		       struct _test_data_limits *self, bool touch_first)
{
	struct sharer s = {
		.ring = &self->ring, .cq = &self->cq, .p = self->p, .n = 6,
		.sink = self->sink.w, .touch_first = touch_first,
	};
	pthread_t t;
	int i;

	ASSERT_EQ(0, iowq_pipes_open(self->p, s.n));
	self->nr_pipes = s.n;
	ASSERT_EQ(0, iowq_touch(&self->ring));
	pthread_barrier_init(&s.bar, NULL, 2);
	ASSERT_EQ(0, pthread_create(&t, NULL, sharer_fn, &s));
	pthread_barrier_wait(&s.bar);
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 2, NULL));
	pthread_barrier_wait(&s.bar);
	ASSERT_EQ(0, iowq_join(t, 90));
	pthread_barrier_destroy(&s.bar);
	ASSERT_EQ(0, s.err);
	ASSERT_EQ(2, s.max_workers);
	for (i = 0; i < s.n; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/* Limits set by one thread reach the running io-wq of another ring user. */
TEST_F_TIMEOUT(limits, shared_ring_threads, 120)
{
	run_sharer(_metadata, self, true);
}

/* Limits set on a ring apply to threads that start using it afterwards. */
TEST_F_TIMEOUT(limits, shared_ring_later_thread, 120)
{
	run_sharer(_metadata, self, false);
}

/*
 * Child body for the RLIMIT_NPROC tests: with RLIMIT_NPROC = @nproc, the
 * unbound default is @nproc, larger requests are cut to it, 8 blocked
 * splices get exactly as many workers as can be created (@nproc as root,
 * @nproc - 1 as nobody) and all complete.  Returns an exit status (0 =
 * good).
 */
static int nproc_child(unsigned int nproc, bool drop)
{
	struct rlimit rl = { nproc, nproc };
	static struct iowq_cq cq;
	struct iowq_pipe p[8], sink = { -1, -1 };
	unsigned int old[2];
	struct io_uring ring;
	int i, w, n = 8, want = drop ? nproc - 1 : nproc;

	if (drop && (setgid(65534) || setuid(65534)))
		return 10;
	if (setrlimit(RLIMIT_NPROC, &rl) || iowq_pin_cpu(0))
		return 11;
	if (iowq_pipes_open(p, n) || iowq_pipes_open(&sink, 1) ||
	    io_uring_queue_init(16, &ring, 0))
		return 12;
	if (iowq_touch(&ring) || iowq_set_max_workers(&ring, 0, 0, old))
		return 13;
	if (old[1] != nproc)
		return 14;
	if (iowq_set_max_workers(&ring, 0, 1000, NULL) ||
	    iowq_set_max_workers(&ring, 0, 0, old) || old[1] != nproc)
		return 15;
	for (i = 0; i < n; i++)
		iowq_prep_splice(&ring, p[i].r, sink.w, 1, i, IOSQE_ASYNC);
	if (io_uring_submit(&ring) != n)
		return 16;
	/*
	 * As many as the limit allows: nproc as root (fork ignores
	 * RLIMIT_NPROC), nproc - 1 as nobody (this process counts too)
	 */
	w = iowq_wait_workers(0, want, want, 10);
	if (w != want)
		return 17;
	if (w > (int)nproc || iowq_max_workers_seen(0, 0.5) > (int)nproc)
		return 18;
	for (i = 0; i < n; i++)
		if (write(p[i].w, "x", 1) != 1)
			return 19;
	if (iowq_reap(&ring, &cq, n, 30) != n || cq.bad)
		return 20;
	for (i = 0; i < n; i++)
		if (cq.res[i] != 1)
			return 21;
	if (iowq_count_workers() > (int)nproc)
		return 22;
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * Wait up to @secs for child @pid: its exit status, 128 + the signal that
 * killed it, -1 if it did not end in time, -2 if there is no child.
 */
static int child_result(pid_t pid, double secs)
{
	int status;

	if (pid < 0)
		return -2;
	status = iowq_waitpid(pid, secs);
	if (status < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run @fn in a child process; child_result() of it. */
static int run_child(int (*fn)(void), double secs)
{
	pid_t pid = fork();

	if (!pid)
		_exit(fn());
	return child_result(pid, secs);
}

static int run_nproc_child(unsigned int nproc, bool drop)
{
	pid_t pid = fork();

	if (!pid)
		_exit(nproc_child(nproc, drop));
	return child_result(pid, 90);
}

/* As root, the unbound limit is RLIMIT_NPROC (3) even though fork is not. */
TEST_F_TIMEOUT(limits, rlimit_nproc_root, 120)
{
	if (geteuid())
		SKIP(return, "needs root");
	ASSERT_EQ(0, run_nproc_child(3, false));
}

/*
 * As nobody with RLIMIT_NPROC 4 (the process itself counts, so only 3
 * workers can be created): the limit holds and no work is lost.
 */
TEST_F_TIMEOUT(limits, rlimit_nproc_user, 120)
{
	if (geteuid())
		SKIP(return, "needs root to become nobody");
	ASSERT_EQ(0, run_nproc_child(4, true));
}

/*
 * Child, as nobody with RLIMIT_NPROC 1 (itself): no worker can ever be
 * created (-EAGAIN, retried a few times with back-off, then given up).
 * With no worker to run it, the queued work must not hang: the async NOPs
 * complete -ECANCELED, and no worker is left.  Returns an exit status.
 */
static int no_worker_child(void)
{
	struct rlimit rl = { 1, 1 };
	static struct iowq_cq cq;
	struct io_uring ring;
	int i;

	if (setgid(65534) || setuid(65534))
		return 10;
	if (setrlimit(RLIMIT_NPROC, &rl) || iowq_pin_cpu(0))
		return 11;
	if (io_uring_queue_init(16, &ring, 0))
		return 12;
	for (i = 0; i < 4; i++)
		iowq_prep_nop(&ring, i, IOSQE_ASYNC);
	if (io_uring_submit(&ring) != 4)
		return 13;
	if (iowq_reap(&ring, &cq, 4, 20) != 4 || cq.bad)
		return 14;
	for (i = 0; i < 4; i++)
		if (cq.res[i] != -ECANCELED)
			return 15;
	if (iowq_count_workers())
		return 16;
	io_uring_queue_exit(&ring);
	return 0;
}

/* Worker creation that fails for good cancels the work it was for. */
TEST_F_TIMEOUT(limits, creation_fails_for_good, 60)
{
	if (geteuid())
		SKIP(return, "needs root to become nobody");
	ASSERT_EQ(0, run_child(no_worker_child, 40));
}

/*
 * Child, as nobody with RLIMIT_NPROC 2 (itself and one worker): a FIFO
 * open blocks the only bound worker; an async NOP then asks for a second
 * worker, whose creation fails (-EAGAIN) and is retried for a while.  The
 * FIFO is opened: the worker finishes the open and the NOP and goes idle.
 * A second NOP must get that idle worker at once, not wait for the
 * failing creation (and then for the idle worker's timeout).  Returns an
 * exit status (0 = good).
 */
static int idle_vs_creation_child(void)
{
	struct rlimit rl = { 2, 2 };
	static struct iowq_cq cq;
	struct io_uring ring;
	double t;

	if (iowq_fifos_make(1) || chmod(iowq_fifo_name(0), 0666))
		return 10;
	if (setgid(65534) || setuid(65534) || setrlimit(RLIMIT_NPROC, &rl) ||
	    iowq_pin_cpu(0))
		return 11;
	if (io_uring_queue_init(16, &ring, 0))
		return 12;
	iowq_prep_fifo_open(&ring, 0, 0);
	if (io_uring_submit(&ring) != 1 ||
	    iowq_wait_workers_in(0, "wait_for_partner", 1, 10) != 1)
		return 13;
	iowq_prep_nop(&ring, 1, IOSQE_ASYNC);
	if (io_uring_submit(&ring) != 1)
		return 14;
	if (iowq_fifo_release(0) != 1)
		return 15;
	if (iowq_reap(&ring, &cq, 2, 10) != 2 || cq.res[0] < 0 || cq.res[1])
		return 16;
	close(cq.res[0]);
	/* the worker goes idle (or is about to): queue the second NOP */
	t = iowq_now();
	iowq_prep_nop(&ring, 2, IOSQE_ASYNC);
	if (io_uring_submit(&ring) != 1)
		return 17;
	if (iowq_reap_ud(&ring, &cq, 2, 10) || cq.res[2])
		return 18;
	if (iowq_now() - t > 2)
		return 19;
	if (iowq_count_workers() > 1 || cq.bad)
		return 20;
	io_uring_queue_exit(&ring);
	return 0;
}

/* An idle worker serves queued work before a slow or failing creation. */
TEST_F_TIMEOUT(limits, idle_worker_before_failing_creation, 60)
{
	if (geteuid())
		SKIP(return, "needs root to become nobody");
	/* its FIFO stays behind: the test's directory is removed after it */
	ASSERT_EQ(0, run_child(idle_vs_creation_child, 50));
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct vforker {
	struct io_uring *ring;
	struct iowq_pipe *p;
	int sink;
	atomic_int tid;
	atomic_int go;
	int ready;			/* the vfork child writes a byte here */
	int submitted;
	int child;
};

/*
 * Two async splices from empty pipes (the unbound limit is 1: the second
 * waits), then a vfork() whose child says it runs and sleeps 1 s: the
 * parent cannot leave vfork() before the child exits (it sleeps killable,
 * which neither a signal nor task_work ends), and meanwhile the test
 * makes SIGUSR1 pending for it and raises the limit.
 */
static void *vforker_fn(void *arg)
{
	struct vforker *v = arg;
	pid_t pid;

	iowq_pin_cpu(0);
	atomic_store(&v->tid, iowq_gettid());
	iowq_prep_splice(v->ring, v->p[0].r, v->sink, 1, 0, IOSQE_ASYNC);
	iowq_prep_splice(v->ring, v->p[1].r, v->sink, 1, 1, IOSQE_ASYNC);
	v->submitted = io_uring_submit(v->ring);
	while (!atomic_load(&v->go))
		iowq_sleep(0.005);
	pid = vfork();
	if (!pid) {
		struct timespec ts = { 1, 0 };

		if (write(v->ready, "v", 1) != 1)
			_exit(1);
		syscall(SYS_nanosleep, &ts, NULL);
		_exit(0);
	}
	v->child = iowq_waitpid(pid, 10);
	while (atomic_load(&v->go) != 2)
		iowq_sleep(0.005);
	return NULL;
}

/*
 * A worker creation that fails because a signal is pending (copy_process()
 * gives -ERESTARTNOINTR) is retried, not given up.  Made deterministic: the
 * creation is queued as task_work while its task sleeps in vfork() with a
 * signal already pending, so it runs with the signal pending; the queued
 * splice must still get a worker.  Our io-wq only: 6.1's own io-wq starts no
 * worker when a limit is raised.
 */
TEST_F_TIMEOUT(limits, creation_retried_after_signal, 60)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct vforker v = { .ring = &self->ring, .sink = self->sink.w };
	char line[IOWQ_STAT_LINE_MAX];
	struct pollfd pfd;
	int ready[2];
	pthread_t t;
	pid_t tid;
	char c;

	if (!iowq_kernel_is_ours())
		SKIP(return, "6.1's own io-wq starts no worker on a raised limit");
	ASSERT_EQ(0, iowq_pipes_open(self->p, 2));
	self->nr_pipes = 2;
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	v.p = self->p;
	v.ready = ready[1];
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 1, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, vforker_fn, &v));
	while (!atomic_load(&v.tid))
		iowq_sleep(0.001);
	tid = atomic_load(&v.tid);
	ASSERT_EQ(1, iowq_wait_workers(tid, 1, 1, 10));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	ASSERT_EQ(1, iowq_max_workers_seen(tid, 0.1));
	atomic_store(&v.go, 1);
	/* the vfork child runs: the thread is inside vfork() until it exits */
	pfd = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), tid, SIGUSR1));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 2, NULL));
	/* the thread is back from vfork(): its creation failed, then retried */
	ASSERT_EQ(2, iowq_wait_workers(tid, 2, 2, 10));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, tid, 0, "unbound", line));
	TH_LOG("unbound account: %s", line);
	ASSERT_LE(1, iowq_stat_get(line, "create_retried"));
	ASSERT_EQ(0, iowq_stat_get(line, "create_failed"));
	ASSERT_EQ(0, v.child);
	ASSERT_EQ(1, write(self->p[0].w, "a", 1));
	ASSERT_EQ(1, write(self->p[1].w, "b", 1));
	ASSERT_EQ(2, iowq_reap(&self->ring, &self->cq, 2, 10));
	ASSERT_EQ(1, self->cq.res[0]);
	ASSERT_EQ(1, self->cq.res[1]);
	ASSERT_EQ(0, self->cq.bad);
	atomic_store(&v.go, 2);
	ASSERT_EQ(0, iowq_join(t, 10));
	ASSERT_EQ(2, v.submitted);
	close(ready[0]);
	close(ready[1]);
}

/* The SQPOLL thread ("iou-sqp-<pid>") of this process; 0 if none. */
static pid_t sqpoll_thread(void)
{
	char comm[64], want[32];
	struct dirent *de;
	pid_t found = 0;
	DIR *dir;

	snprintf(want, sizeof(want), "iou-sqp-%d", getpid());
	dir = opendir("/proc/self/task");
	if (!dir)
		return 0;
	while (!found && (de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);

		if (tid > 0 && !iowq_task_comm(tid, comm, sizeof(comm)) &&
		    !strcmp(comm, want))
			found = tid;
	}
	closedir(dir);
	return found;
}

/*
 * On an SQPOLL ring the SQ thread submits, so the work goes to its io-wq
 * ("iou-wrk-<SQ thread>"), not to the thread that fills the ring, and
 * IORING_REGISTER_IOWQ_MAX_WORKERS and IORING_REGISTER_IOWQ_AFF on that
 * ring act on the SQ thread's io-wq: with an unbound limit of 2 and the
 * mask {0}, four blocked splices get two workers (never more), both on
 * CPU 0, and all four complete once their pipes are fed.
 */
TEST_F_TIMEOUT(limits, sqpoll_ring, 60)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQPOLL,
				     .sq_thread_idle = 1000 };
	unsigned int prev[2];
	struct io_uring ring;
	pid_t tids[8], sqp;
	cpu_set_t mask, set;
	int i, n;

	ASSERT_EQ(0, io_uring_queue_init_params(16, &ring, &p));
	ASSERT_EQ(0, iowq_pipes_open(self->p, 4));
	self->nr_pipes = 4;
	/* the SQ thread names itself once it runs */
	for (i = 0; i < 500 && !(sqp = sqpoll_thread()); i++)
		iowq_sleep(0.01);
	ASSERT_LT(0, sqp);
	ASSERT_EQ(0, iowq_set_max_workers(&ring, 0, 2, prev));
	TH_LOG("SQ thread %d, limits were %u/%u", sqp, prev[0], prev[1]);
	ASSERT_EQ(0, iowq_set_max_workers(&ring, 0, 0, prev));
	ASSERT_EQ(2, prev[1]);
	CPU_ZERO(&mask);
	CPU_SET(0, &mask);
	ASSERT_EQ(0, io_uring_register_iowq_aff(&ring, sizeof(mask), &mask));
	for (i = 0; i < 4; i++)
		iowq_prep_splice(&ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	ASSERT_EQ(4, io_uring_submit(&ring));
	/*
	 * Stock 6.1 may leave one of the two idle beside the queued splices
	 * (as with any worker limit): only ours must have both blocked.
	 */
	n = iowq_wait_workers_in(sqp, "pipe_wait_readable", 2,
				 iowq_kernel_is_ours() ? 10 : 1);
	if (iowq_kernel_is_ours())
		ASSERT_EQ(2, n);
	ASSERT_EQ(2, iowq_wait_workers(sqp, 2, 2, 10));
	ASSERT_EQ(2, iowq_max_workers_seen(sqp, 0.3));
	ASSERT_EQ(0, iowq_count_workers_of(iowq_gettid()));
	n = iowq_list_workers(sqp, tids, 8);
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, iowq_task_cpus(tids[i], &set));
		ASSERT_TRUE(CPU_EQUAL(&set, &mask));
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, write(self->p[i].w, "q", 1));
	ASSERT_EQ(4, iowq_reap(&ring, &self->cq, 4, 10));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_EQ(0, self->cq.bad);
	io_uring_queue_exit(&ring);
}

/*
 * IORING_REGISTER_IOWQ_MAX_WORKERS with work queued: with an unbound limit
 * of 1, three splices from empty pipes get one worker, two wait; raising
 * the limit to 3 starts two more workers for them at once; lowered to 1
 * again while all three are blocked, the two surplus workers exit as soon
 * as their work is done, for the limit, not on the idle timeout: fdinfo's
 * idle_exits does not move.  Our io-wq only: 6.1's own io-wq neither
 * starts nor retires workers when a limit changes.
 */
TEST_F_TIMEOUT(limits, limit_changed_with_work_queued, 60)
{
	pid_t tid = iowq_gettid();
	long idle_exits;
	int i;

	if (!iowq_kernel_is_ours())
		SKIP(return, "6.1's own io-wq starts and retires no worker on a new limit");

	ASSERT_EQ(0, iowq_pipes_open(self->p, 3));
	self->nr_pipes = 3;
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 1, NULL));
	for (i = 0; i < 3; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, self->sink.w, 1, i,
				 IOSQE_ASYNC);
	ASSERT_EQ(3, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers_in(tid, "pipe_wait_readable", 1, 10));
	ASSERT_EQ(1, iowq_max_workers_seen(tid, 0.3));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 3, NULL));
	ASSERT_EQ(3, iowq_wait_workers_in(tid, "pipe_wait_readable", 3, 5));
	idle_exits = iowq_stat_sum(&self->ring, tid, "unbound", "idle_exits");
	ASSERT_LE(0, idle_exits);
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 1, NULL));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, write(self->p[i].w, "l", 1));
	ASSERT_EQ(3, iowq_reap(&self->ring, &self->cq, 3, 20));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_EQ(1, iowq_wait_workers(tid, 1, 1, 4 * IOWQ_IDLE_TIMEOUT));
	ASSERT_EQ(idle_exits, iowq_stat_sum(&self->ring, tid, "unbound",
					    "idle_exits"));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

TEST_HARNESS_MAIN
