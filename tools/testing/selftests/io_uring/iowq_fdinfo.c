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
#define NO_STATS	"fdinfo has no io-wq lines (stock 6.1)"

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

TEST_HARNESS_MAIN
