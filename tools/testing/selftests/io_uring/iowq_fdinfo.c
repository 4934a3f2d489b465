// SPDX-License-Identifier: GPL-2.0
/*
 * io-wq in the ring's fdinfo: one "IoWq:" line per task using the ring,
 * node and account, of key=value pairs (workers alive, idle, busy,
 * running, the limit, queued units, stalled, then counters).  The numbers
 * must match what the test did: blocked workers are alive and busy but not
 * running, IORING_REGISTER_IOWQ_MAX_WORKERS sets the limits read here, a
 * write queued behind a hash key held by blocked work stalls its account.
 * Stock 6.1 prints no such line: the tests skip there.
 */
#include "../kselftest_harness.h"
#include "iowq_util.h"

FIXTURE(fdinfo) {
	struct io_uring ring;
	struct iowq_cq cq;
	pid_t tid;
	int node;
};

/* Wait until @key of the line reads @val; returns the last value read. */
static long stat_wait(struct io_uring *ring, pid_t tid, int node,
		      const char *acct, const char *key, long val, double secs)
{
	double end = iowq_now() + secs;
	char line[IOWQ_STAT_LINE_MAX];
	long v = -1;

	do {
		if (!iowq_stat_line(ring, tid, node, acct, line))
			v = iowq_stat_get(line, key);
		if (v == val)
			break;
		iowq_sleep(0.01);
	} while (iowq_now() < end);
	return v;
}

FIXTURE_SETUP(fdinfo)
{
	ASSERT_EQ(0, iowq_pin_cpu(0));
	self->node = iowq_cpu_node(0);
	self->tid = iowq_gettid();
	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
	ASSERT_EQ(0, iowq_touch(&self->ring));
}

FIXTURE_TEARDOWN(fdinfo)
{
	io_uring_queue_exit(&self->ring);
}

/* Stock 6.1's fdinfo has no io-wq lines: the tests skip there. */
#define NO_STATS	"fdinfo has no io-wq lines (6.1's own io-wq)"

/*
 * Three splices from empty pipes: three unbound workers on the submitter's
 * node, alive and busy, none running (they block); once the pipes are
 * written, the three complete and the workers go idle.  Async NOPs are
 * counted as enqueued and completed on the bound account.
 */
TEST_F(fdinfo, blocked_splices)
{
	struct iowq_pipe p[3];
	char line[IOWQ_STAT_LINE_MAX];
	int null, i, ret;

	ret = iowq_stat_line(&self->ring, self->tid, self->node, "bound", line);
	if (ret == -ENODATA && !iowq_kernel_is_ours())
		SKIP(return, NO_STATS);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, iowq_stat_get(line, "enqueued"));
	ASSERT_EQ(0, iowq_pipes_open(p, 3));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, null);

	for (i = 0; i < 3; i++)
		iowq_prep_splice(&self->ring, p[i].r, null, 1, i, IOSQE_ASYNC);
	ASSERT_EQ(3, io_uring_submit(&self->ring));
	/* busy first: a worker is busy before it has taken its item */
	ASSERT_EQ(3, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "busy", 3, 5));
	ASSERT_EQ(0, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "queued", 0, 5));
	ASSERT_EQ(0, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "running", 0, 5));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, self->node, "unbound",
			       line));
	TH_LOG("%s", line);
	EXPECT_EQ(3, iowq_stat_get(line, "alive"));
	EXPECT_EQ(0, iowq_stat_get(line, "idle"));
	EXPECT_EQ(0, iowq_stat_get(line, "running"));
	EXPECT_EQ(0, iowq_stat_get(line, "queued"));
	EXPECT_EQ(0, iowq_stat_get(line, "stalled"));
	EXPECT_EQ(3, iowq_stat_get(line, "enqueued"));
	EXPECT_EQ(0, iowq_stat_get(line, "completed"));
	EXPECT_EQ(3, iowq_stat_get(line, "created"));

	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, write(p[i].w, "x", 1));
	ASSERT_EQ(3, iowq_reap(&self->ring, &self->cq, 3, 10));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, self->cq.res[i]);
	ASSERT_EQ(3, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "idle", 3, 5));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, self->node, "unbound",
			       line));
	EXPECT_EQ(3, iowq_stat_get(line, "completed"));
	EXPECT_EQ(0, iowq_stat_get(line, "busy"));
	EXPECT_EQ(0, iowq_stat_get(line, "cancelled"));

	for (i = 10; i < 26; i++)
		iowq_prep_nop(&self->ring, i, IOSQE_ASYNC);
	ASSERT_EQ(16, io_uring_submit(&self->ring));
	ASSERT_EQ(19, iowq_reap(&self->ring, &self->cq, 19, 10));
	ASSERT_EQ(16, stat_wait(&self->ring, self->tid, self->node, "bound",
				"completed", 16, 5));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, self->node, "bound",
			       line));
	EXPECT_EQ(16, iowq_stat_get(line, "enqueued"));
	EXPECT_EQ(0, self->cq.bad);
	iowq_pipes_close(p, 3);
	close(null);
}

/* After IORING_REGISTER_IOWQ_MAX_WORKERS {1, 1}, every limit reads 1. */
TEST_F(fdinfo, max_workers_limits)
{
	int node, nodes = iowq_nr_nodes();
	char line[IOWQ_STAT_LINE_MAX];
	int ret;

	ret = iowq_stat_line(&self->ring, self->tid, self->node, "bound", line);
	if (ret == -ENODATA && !iowq_kernel_is_ours())
		SKIP(return, NO_STATS);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 1, 1, NULL));
	for (node = 0; node < nodes; node++) {
		ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, node, "bound",
				       line));
		EXPECT_EQ(1, iowq_stat_get(line, "limit"));
		ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, node, "unbound",
				       line));
		EXPECT_EQ(1, iowq_stat_get(line, "limit"));
	}
}

/*
 * A splice from an empty pipe into a regular file holds the file's hash
 * key while it blocks; a write to that file queued behind it cannot run:
 * the bound account is stalled and counts one hash stall, until the pipe
 * is written and both complete, splice first.
 */
TEST_F(fdinfo, hash_stall_counted)
{
	char line[IOWQ_STAT_LINE_MAX], buf[4096];
	struct io_uring_sqe *sqe;
	struct iowq_pipe p;
	int fd, ret;

	ret = iowq_stat_line(&self->ring, self->tid, self->node, "bound", line);
	if (ret == -ENODATA && !iowq_kernel_is_ours())
		SKIP(return, NO_STATS);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, iowq_pipes_open(&p, 1));
	fd = open("fdinfo.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	memset(buf, 'w', sizeof(buf));

	iowq_prep_splice(&self->ring, p.r, fd, 1, 1, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* the worker took the splice and blocks in it: alive, not running */
	ASSERT_EQ(1, stat_wait(&self->ring, self->tid, self->node, "bound",
			       "busy", 1, 5));
	ASSERT_EQ(0, stat_wait(&self->ring, self->tid, self->node, "bound",
			       "running", 0, 5));
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_write(sqe, fd, buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 2;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, stat_wait(&self->ring, self->tid, self->node, "bound",
			       "stalled", 1, 5));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, self->node, "bound",
			       line));
	TH_LOG("%s", line);
	EXPECT_EQ(1, iowq_stat_get(line, "hash_stalls"));
	EXPECT_EQ(1, iowq_stat_get(line, "queued"));
	EXPECT_EQ(0, iowq_stat_get(line, "running"));
	EXPECT_EQ(0, self->cq.done[2]);

	ASSERT_EQ(1, write(p.w, "x", 1));
	ASSERT_EQ(2, iowq_reap(&self->ring, &self->cq, 2, 10));
	EXPECT_EQ(1, self->cq.order[0]);
	EXPECT_EQ(1, self->cq.res[1]);
	EXPECT_EQ(sizeof(buf), self->cq.res[2]);
	ASSERT_EQ(0, stat_wait(&self->ring, self->tid, self->node, "bound",
			       "stalled", 0, 5));
	EXPECT_EQ(0, self->cq.bad);
	iowq_pipes_close(&p, 1);
	close(fd);
	unlink("fdinfo.dat");
}

/*
 * The value of "@key:" in the fdinfo of ring fd @fd (e.g. "SqThread");
 * -1 if there is no such line.
 */
static long fdinfo_get(int fd, const char *key)
{
	char path[64], val[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (iowq_proc_value(path, key, val, sizeof(val)))
		return -1;
	return strtol(val, NULL, 10);
}

/*
 * Items of the line not accounted for: enqueued - (completed + cancelled
 * + queued + busy), 0 when each item is counted once (unhashed items:
 * queued units are items, each busy worker holds one).
 */
static long stat_unaccounted(const char *line)
{
	return iowq_stat_get(line, "enqueued") -
	       (iowq_stat_get(line, "completed") +
		iowq_stat_get(line, "cancelled") +
		iowq_stat_get(line, "queued") + iowq_stat_get(line, "busy"));
}

/*
 * Each work item is counted once, by what became of it: "cancelled" if a
 * cancel took it off the queue, or if its worker saw a cancel request
 * when it returned (counted then, not when the cancel was asked);
 * "completed" if it ran to its end unasked.  So enqueued equals completed
 * + cancelled + queued + busy (items held by workers), and completed +
 * cancelled at rest, however many cancels matched an item.  The unbound
 * limit is 2: two splices block, a third stays queued.  One submit of 8
 * cancels of the queued splice and 48 of a blocked one: each SQE has one
 * CQE, the queued splice is cancelled by the first (-ECANCELED, the others
 * find nothing), the blocked one is interrupted (-EINTR), and cancelled
 * reads 2, not one per match.
 */
TEST_F(fdinfo, cancel_counted_once)
{
	int null, i, ret, n_queued = 8, n_running = 48, found = 0;
	char line[IOWQ_STAT_LINE_MAX];
	struct io_uring_sqe *sqe;
	struct iowq_pipe p[3];

	ret = iowq_stat_line(&self->ring, self->tid, self->node, "unbound", line);
	if (ret == -ENODATA && !iowq_kernel_is_ours())
		SKIP(return, NO_STATS);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, iowq_stat_get(line, "enqueued"));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 0, 2, NULL));
	ASSERT_EQ(0, iowq_pipes_open(p, 3));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, null);

	for (i = 0; i < 3; i++)
		iowq_prep_splice(&self->ring, p[i].r, null, 1, i, IOSQE_ASYNC);
	ASSERT_EQ(3, io_uring_submit(&self->ring));
	ASSERT_EQ(2, iowq_wait_workers_in(self->tid, "pipe_wait_readable", 2,
					  10));
	ASSERT_EQ(2, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "busy", 2, 5));
	ASSERT_EQ(1, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "queued", 1, 5));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, self->node,
				    "unbound", line));
	TH_LOG("blocked: %s", line);
	EXPECT_EQ(3, iowq_stat_get(line, "enqueued"));
	EXPECT_EQ(0, iowq_stat_get(line, "completed"));
	EXPECT_EQ(0, iowq_stat_get(line, "cancelled"));
	EXPECT_EQ(0, stat_unaccounted(line)) TH_LOG("%s", line);

	/* the queued splice's cancels first: its worker must not take it */
	for (i = 0; i < n_queued + n_running; i++) {
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_cancel64(sqe, i < n_queued ? 2 : 0, 0);
		sqe->user_data = 100 + i;
	}
	ASSERT_EQ(n_queued + n_running, io_uring_submit(&self->ring));
	ASSERT_EQ(n_queued + n_running + 2,
		  iowq_reap(&self->ring, &self->cq, n_queued + n_running + 2, 10));
	EXPECT_EQ(0, self->cq.bad);
	EXPECT_EQ(-ECANCELED, self->cq.res[2]);
	EXPECT_EQ(-EINTR, self->cq.res[0]);
	for (i = 0; i < n_queued; i++) {
		ret = self->cq.res[100 + i];
		EXPECT_TRUE(ret == 0 || ret == -ENOENT) TH_LOG("cancel %d: %d", i, ret);
		found += !ret;
	}
	EXPECT_EQ(1, found);
	/* found running; later ones may find it gone */
	EXPECT_EQ(-EALREADY, self->cq.res[100 + n_queued]);
	for (i = n_queued; i < n_queued + n_running; i++) {
		ret = self->cq.res[100 + i];
		EXPECT_TRUE(ret == -EALREADY || ret == -ENOENT)
			TH_LOG("cancel %d: %d", i, ret);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));

	/* the interrupted splice counts once its worker is done with it */
	EXPECT_EQ(2, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "cancelled", 2, 5));
	ASSERT_EQ(1, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "busy", 1, 5));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, self->node,
				    "unbound", line));
	TH_LOG("cancelled: %s", line);
	EXPECT_EQ(0, iowq_stat_get(line, "queued"));
	EXPECT_EQ(0, iowq_stat_get(line, "completed"));
	EXPECT_EQ(0, stat_unaccounted(line)) TH_LOG("%s", line);

	ASSERT_EQ(1, write(p[1].w, "x", 1));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 1, 10));
	EXPECT_EQ(1, self->cq.res[1]);
	EXPECT_EQ(0, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "busy", 0, 5));
	EXPECT_EQ(1, stat_wait(&self->ring, self->tid, self->node, "unbound",
			       "completed", 1, 5));
	ASSERT_EQ(0, iowq_stat_line(&self->ring, self->tid, self->node,
				    "unbound", line));
	TH_LOG("at rest: %s", line);
	EXPECT_EQ(3, iowq_stat_get(line, "enqueued"));
	EXPECT_EQ(1, iowq_stat_get(line, "completed"));
	EXPECT_EQ(2, iowq_stat_get(line, "cancelled"));
	EXPECT_EQ(iowq_stat_get(line, "enqueued"),
		  iowq_stat_get(line, "completed") +
		  iowq_stat_get(line, "cancelled"));
	EXPECT_EQ(0, self->cq.bad);
	iowq_pipes_close(p, 3);
	close(null);
}

/*
 * The SQ thread of an IORING_SETUP_SQPOLL ring submits, so async work goes
 * to its io-wq, which the ring's fdinfo shows too: lines of pid= the
 * SqThread: value (the SQ thread is on no ring's task list, the
 * submitter's lines stay at zero).  They are read under a trylock of the
 * SQ thread's lock, so a read may miss them: the test reads again for a
 * while.  Three splices from empty pipes: 3 enqueued, 3 busy on the SQ
 * thread's unbound account (of the node it ran on: summed over nodes).
 */
TEST_F(fdinfo, sqpoll_ring_shows_sq_thread_io_wq)
{
	struct io_uring_params params = {
		.flags = IORING_SETUP_SQPOLL, .sq_thread_idle = 1000,
	};
	char line[IOWQ_STAT_LINE_MAX];
	int node, nodes = iowq_nr_nodes();
	long busy = 0, enqueued = 0;
	struct iowq_cq cq = { 0 };
	struct iowq_pipe p[3];
	struct io_uring sq;
	int null, i, ret;
	double end;
	pid_t sqpid;

	ret = iowq_stat_line(&self->ring, self->tid, self->node, "bound", line);
	if (ret == -ENODATA && !iowq_kernel_is_ours())
		SKIP(return, NO_STATS);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, io_uring_queue_init_params(64, &sq, &params));
	sqpid = fdinfo_get(sq.ring_fd, "SqThread");
	ASSERT_LT(0, sqpid);
	ASSERT_EQ(0, iowq_pipes_open(p, 3));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, null);

	for (i = 0; i < 3; i++)
		iowq_prep_splice(&sq, p[i].r, null, 1, i, IOSQE_ASYNC);
	ASSERT_EQ(3, io_uring_submit(&sq));
	ASSERT_EQ(3, iowq_wait_workers_in(sqpid, "pipe_wait_readable", 3, 10));
	end = iowq_now() + 5;
	do {
		busy = 0;
		enqueued = 0;
		for (node = 0; node < nodes; node++) {
			if (iowq_stat_line(&sq, sqpid, node, "unbound", line))
				continue;
			busy += iowq_stat_get(line, "busy");
			enqueued += iowq_stat_get(line, "enqueued");
		}
		if (busy == 3 && enqueued == 3)
			break;
		iowq_sleep(0.02);
	} while (iowq_now() < end);
	EXPECT_EQ(3, busy);
	EXPECT_EQ(3, enqueued);
	if (busy != 3 || enqueued != 3) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", sq.ring_fd);
		iowq_print_file(path, "# ");
	}

	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, write(p[i].w, "x", 1));
	ASSERT_EQ(3, iowq_reap(&sq, &cq, 3, 10));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, cq.res[i]);
	EXPECT_EQ(0, cq.bad);
	io_uring_queue_exit(&sq);
	iowq_pipes_close(p, 3);
	close(null);
}

TEST_HARNESS_MAIN
