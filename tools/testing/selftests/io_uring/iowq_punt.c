// SPDX-License-Identifier: GPL-2.0
/*
 * Punting: IOSQE_ASYNC requests (NOP, read, write, fsync, links) run in
 * io-wq workers ("iou-wrk-<submitter tid>" threads of the submitting
 * process) and complete exactly once with the right result; work that
 * blocks a worker (a splice from an empty pipe, the open of a FIFO) and
 * work that would block (a pipe read, armed for poll from the worker)
 * completes once unblocked; completions posted by a worker are seen as
 * such (IORING_REGISTER_EVENTFD_ASYNC relies on io_wq_current_is_worker()).
 */
#include "../kselftest_harness.h"
#include "iowq_util.h"

#include <sys/eventfd.h>
#include <sys/socket.h>

#define CHUNK	4096
#define NCHUNK	16

FIXTURE(punt) {
	struct io_uring ring;
	struct iowq_cq cq;
	int fd;
};

FIXTURE_SETUP(punt)
{
	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
	self->fd = open("punt.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(punt)
{
	io_uring_queue_exit(&self->ring);
	close(self->fd);
	unlink("punt.dat");
}

static void fill(char *buf, int chunk)
{
	int i;

	for (i = 0; i < CHUNK; i++)
		buf[i] = (char)(chunk * 31 + i * 7);
}

/* Inline NOPs start no worker; async NOPs complete once, served by workers. */
TEST_F(punt, nop_async)
{
	int i, workers;
	cpu_set_t set;

	/* the work goes to the pool of the submitting CPU's node */
	ASSERT_EQ(0, iowq_pin_cpu(0));
	for (i = 0; i < 32; i++)
		iowq_prep_nop(&self->ring, i, 0);
	ASSERT_EQ(32, io_uring_submit(&self->ring));
	ASSERT_EQ(32, iowq_reap(&self->ring, &self->cq, 32, 10));
	EXPECT_EQ(0, iowq_count_workers());

	for (i = 32; i < 64; i++)
		iowq_prep_nop(&self->ring, i, IOSQE_ASYNC);
	ASSERT_EQ(32, io_uring_submit(&self->ring));
	ASSERT_EQ(64, iowq_reap(&self->ring, &self->cq, 64, 10));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, self->cq.res[i]);
	/*
	 * Served by workers, and on ours by no more than run at a time (the
	 * node's CPUs): NOPs never block.  Stock 6.1 starts one per punt
	 * that finds no idle worker.
	 */
	ASSERT_EQ(0, iowq_node_cpus(iowq_cpu_node(0), &set));
	workers = iowq_count_workers();
	ASSERT_LE(1, workers);
	ASSERT_GE(iowq_kernel_is_ours() ? CPU_COUNT(&set) : 32, workers);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
	ASSERT_EQ(0, self->cq.bad);
}

/* An async request runs in a thread named iou-wrk-<tid of the submitter>. */
TEST_F(punt, runs_in_worker_thread)
{
	char comm[64] = "", want[32];
	int fd, n;

	struct io_uring_sqe *sqe = iowq_get_sqe(&self->ring);

	io_uring_prep_openat(sqe, AT_FDCWD, "/proc/thread-self/comm",
			     O_RDONLY | O_CLOEXEC, 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 1;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_reap(&self->ring, &self->cq, 1, 10));
	fd = self->cq.res[1];
	ASSERT_LE(0, fd);
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	ASSERT_LT(0, n);
	comm[strcspn(comm, "\n")] = 0;
	snprintf(want, sizeof(want), "iou-wrk-%d", iowq_gettid());
	ASSERT_STREQ(want, comm);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* Async reads of a regular file return the right bytes at the right offsets. */
TEST_F(punt, read_async)
{
	static char data[NCHUNK][CHUNK], bufs[NCHUNK][CHUNK];
	int i;

	for (i = 0; i < NCHUNK; i++) {
		fill(data[i], i);
		ASSERT_EQ(CHUNK, pwrite(self->fd, data[i], CHUNK, i * CHUNK));
	}
	for (i = 0; i < NCHUNK; i++) {
		struct io_uring_sqe *sqe = iowq_get_sqe(&self->ring);

		io_uring_prep_read(sqe, self->fd, bufs[i], CHUNK, i * CHUNK);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = i;
	}
	ASSERT_EQ(NCHUNK, io_uring_submit(&self->ring));
	ASSERT_EQ(NCHUNK, iowq_reap(&self->ring, &self->cq, NCHUNK, 10));
	for (i = 0; i < NCHUNK; i++) {
		ASSERT_EQ(CHUNK, self->cq.res[i]);
		ASSERT_EQ(0, memcmp(data[i], bufs[i], CHUNK));
	}
	EXPECT_GE(iowq_count_workers(), 1);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* Async writes then an async fsync: all succeed and the file holds the data. */
TEST_F(punt, write_fsync_async)
{
	static char data[NCHUNK][CHUNK], back[CHUNK];
	struct io_uring_sqe *sqe;
	int i;

	for (i = 0; i < NCHUNK; i++) {
		fill(data[i], i + 100);
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_write(sqe, self->fd, data[i], CHUNK, i * CHUNK);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = i;
	}
	ASSERT_EQ(NCHUNK, io_uring_submit(&self->ring));
	ASSERT_EQ(NCHUNK, iowq_reap(&self->ring, &self->cq, NCHUNK, 10));
	for (i = 0; i < NCHUNK; i++)
		ASSERT_EQ(CHUNK, self->cq.res[i]);

	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_fsync(sqe, self->fd, 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 100;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 100, 10));
	ASSERT_EQ(0, self->cq.res[100]);
	for (i = 0; i < NCHUNK; i++) {
		ASSERT_EQ(CHUNK, pread(self->fd, back, CHUNK, i * CHUNK));
		ASSERT_EQ(0, memcmp(data[i], back, CHUNK));
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* An error from the worker reaches the CQE: fsync of a pipe is -EINVAL. */
TEST_F(punt, fsync_error_async)
{
	struct io_uring_sqe *sqe;
	struct iowq_pipe p;

	ASSERT_EQ(0, iowq_pipes_open(&p, 1));
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_fsync(sqe, p.w, 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 3;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 3, 10));
	ASSERT_EQ(-EINVAL, self->cq.res[3]);
	iowq_pipes_close(&p, 1);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* A write -> fsync -> read link run from a worker completes in order. */
TEST_F(punt, linked_async)
{
	static char data[CHUNK], back[CHUNK];
	struct io_uring_sqe *sqe;

	fill(data, 7);
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_write(sqe, self->fd, data, CHUNK, 0);
	sqe->flags |= IOSQE_ASYNC | IOSQE_IO_LINK;
	sqe->user_data = 0;
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_fsync(sqe, self->fd, 0);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = 1;
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_read(sqe, self->fd, back, CHUNK, 0);
	sqe->user_data = 2;
	ASSERT_EQ(3, io_uring_submit(&self->ring));
	ASSERT_EQ(3, iowq_reap(&self->ring, &self->cq, 3, 10));
	ASSERT_EQ(CHUNK, self->cq.res[0]);
	ASSERT_EQ(0, self->cq.res[1]);
	ASSERT_EQ(CHUNK, self->cq.res[2]);
	ASSERT_EQ(0, self->cq.order[0]);
	ASSERT_EQ(1, self->cq.order[1]);
	ASSERT_EQ(2, self->cq.order[2]);
	ASSERT_EQ(0, memcmp(data, back, CHUNK));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/*
 * With an async eventfd registered, only completions posted from a worker
 * signal it: io_wq_current_is_worker() is true in the worker, false inline.
 */
TEST_F(punt, eventfd_async_worker_context)
{
	eventfd_t v = 0;
	int efd;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, io_uring_register_eventfd_async(&self->ring, efd));

	iowq_prep_nop(&self->ring, 1, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 1, 10));
	EXPECT_EQ(-1, eventfd_read(efd, &v));

	iowq_prep_nop(&self->ring, 2, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 2, 10));
	ASSERT_EQ(0, eventfd_read(efd, &v));
	ASSERT_NE(0, v);
	io_uring_unregister_eventfd(&self->ring);
	close(efd);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* A read that would block on an empty pipe is punted and completes later. */
TEST_F(punt, pipe_read_would_block)
{
	struct io_uring_sqe *sqe;
	char buf[16] = { 0 };
	struct iowq_pipe p;

	ASSERT_EQ(0, iowq_pipes_open(&p, 1));
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_read(sqe, p.r, buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 7;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.3));
	ASSERT_GE(iowq_count_workers(), 1);
	ASSERT_EQ(5, write(p.w, "hello", 5));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 7, 10));
	ASSERT_EQ(5, self->cq.res[7]);
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	iowq_pipes_close(&p, 1);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* A recv that would block on a socket is punted and completes later. */
TEST_F(punt, socket_recv_would_block)
{
	struct io_uring_sqe *sqe;
	char buf[16] = { 0 };
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_recv(sqe, sv[0], buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 8;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.3));
	ASSERT_EQ(6, send(sv[1], "socket", 6, 0));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 8, 10));
	ASSERT_EQ(6, self->cq.res[8]);
	ASSERT_EQ(0, memcmp(buf, "socket", 6));
	close(sv[0]);
	close(sv[1]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* A splice from an empty pipe blocks a worker until data arrives. */
TEST_F(punt, splice_blocks_worker)
{
	struct iowq_pipe p[2];
	char buf[8] = "";

	ASSERT_EQ(0, iowq_pipes_open(p, 2));
	iowq_prep_splice(&self->ring, p[0].r, p[1].w, 4, 1, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.3));
	ASSERT_EQ(1, iowq_count_workers());
	ASSERT_EQ(4, write(p[0].w, "data", 4));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 1, 10));
	ASSERT_EQ(4, self->cq.res[1]);
	ASSERT_EQ(4, read(p[1].r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "data", 4));
	iowq_pipes_close(p, 2);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

/* The async open of a FIFO blocks a worker until a writer shows up. */
TEST_F(punt, fifo_open_blocks_worker)
{
	int ret;

	ASSERT_EQ(0, iowq_fifos_make(1));
	iowq_prep_fifo_open(&self->ring, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* the reader waits in open(): a non-blocking writer can open */
	ASSERT_EQ(1, iowq_wait_workers_in(0, "wait_for_partner", 1, 10));
	ASSERT_EQ(1, iowq_count_workers());
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ret = iowq_fifo_release(0);
	ASSERT_EQ(1, ret);
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 1, 10));
	ASSERT_LE(0, self->cq.res[1]);
	close(self->cq.res[1]);
	iowq_fifos_remove(1);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
}

TEST_HARNESS_MAIN
