// SPDX-License-Identifier: GPL-2.0
/*
 * Hashed work: io-wq runs the work for one regular file (hashed by inode:
 * buffered writes, splices into the file) one item at a time and in
 * submission order, while work for other files runs concurrently and
 * unhashed work is not held back by a stuck hash chain (nor the other way
 * round).
 */
#include "../kselftest_harness.h"
#include "iowq_util.h"

#define REC	16

FIXTURE(hash) {
	struct io_uring ring;
	struct iowq_cq cq;
	struct iowq_pipe p[16];
	int nr_pipes;
};

FIXTURE_SETUP(hash)
{
	ASSERT_EQ(0, iowq_pin_cpu(0));
	ASSERT_EQ(0, io_uring_queue_init(256, &self->ring, 0));
}

FIXTURE_TEARDOWN(hash)
{
	char name[32];
	int i;

	io_uring_queue_exit(&self->ring);
	iowq_pipes_close(self->p, self->nr_pipes);
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "hash-%d.dat", i);
		unlink(name);
	}
}

static int open_file(int i, int flags)
{
	char name[32];

	snprintf(name, sizeof(name), "hash-%d.dat", i);
	return open(name, O_RDWR | O_CREAT | O_CLOEXEC | flags, 0600);
}

/* Queue an async write of record @rec (REC bytes) to @fd. */
static void prep_record(struct io_uring *ring, int fd, int rec, int ud)
{
	static char recs[IOWQ_MAX_REQ][REC + 1];
	struct io_uring_sqe *sqe = iowq_get_sqe(ring);

	snprintf(recs[ud], sizeof(recs[ud]), "record %07d\n", rec % 10000000);
	io_uring_prep_write(sqe, fd, recs[ud], REC, 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = ud;
}

#define PROBE_UD	(IOWQ_MAX_REQ - 2)
#define PROBE_TRIES	16

/*
 * Create file @i (truncated, read-write) such that its hash key is not
 * the one held by blocked work (a splice into another file, waiting in
 * its worker); the fd or -1.  Two inodes share one of the 64 keys now
 * and then, and then the work of the second rightly waits for the first:
 * not what a case about two files is after.  An async write of nothing to
 * the candidate, hashed like any write to the file, completes at once
 * unless its key is the one held: then it is cancelled off the queue and
 * the file unlinked, held open until the end so that the next candidate
 * is another inode.  Only this ring's CQEs of the probes are reaped.
 */
static int open_other_key(struct __test_metadata *_metadata,
			  struct _test_data_hash *self, int i)
{
	int t, fd = -1, held[PROBE_TRIES];
	struct io_uring_sqe *sqe;
	char name[32];

	snprintf(name, sizeof(name), "hash-%d.dat", i);
	for (t = 0; t < PROBE_TRIES; t++) {
		struct iowq_cq cq = { 0 };

		fd = open_file(i, O_TRUNC);
		if (fd < 0)
			break;
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_write(sqe, fd, "", 0, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = PROBE_UD;
		if (io_uring_submit(&self->ring) != 1) {
			close(fd);
			fd = -1;
			break;
		}
		if (!iowq_reap_ud(&self->ring, &cq, PROBE_UD, 1) && !cq.bad)
			break;
		TH_LOG("%s shares the held hash key: another one", name);
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_cancel64(sqe, PROBE_UD, 0);
		sqe->user_data = PROBE_UD + 1;
		if (io_uring_submit(&self->ring) != 1 ||
		    iowq_reap(&self->ring, &cq, 2, 10) != 2) {
			close(fd);
			fd = -1;
			break;
		}
		held[t] = fd;
		fd = -1;
		unlink(name);
	}
	while (t--)
		close(held[t]);
	return fd;
}

/* The file holds records @first .. @first + @n - 1 at @off, in order. */
static bool records_in_order(int fd, off_t off, int first, int n)
{
	char buf[REC + 1], want[REC + 1];
	int i;

	for (i = 0; i < n; i++) {
		if (pread(fd, buf, REC, off + (off_t)i * REC) != REC)
			return false;
		snprintf(want, sizeof(want), "record %07d\n", first + i);
		if (memcmp(buf, want, REC))
			return false;
	}
	return true;
}

/*
 * Record 0 comes through a splice into the file from an empty pipe, which
 * holds the file's hash key while it waits; records 1..200, async appends
 * queued behind it, must not run until it is done (none completes while
 * it waits), then land in submission order after it.  Were they not
 * hashed, they would run at once, on several workers, in any order.
 */
TEST_F_TIMEOUT(hash, appends_in_order, 120)
{
	int i, n = 200, fd = open_file(0, O_APPEND | O_TRUNC);
	int sfd = open_file(0, 0);
	char rec0[REC + 1];

	ASSERT_LE(0, fd);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, iowq_pipes_open(self->p, 1));
	self->nr_pipes = 1;
	/* splice() refuses O_APPEND files: record 0 goes through sfd, at 0 */
	iowq_prep_splice(&self->ring, self->p[0].r, sfd, REC, 0, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(), "pipe_wait_readable",
					  1, 10));
	for (i = 1; i <= n; i++)
		prep_record(&self->ring, fd, i, i);
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.5));
	snprintf(rec0, sizeof(rec0), "record %07d\n", 0);
	ASSERT_EQ(REC, write(self->p[0].w, rec0, REC));
	ASSERT_EQ(n + 1, iowq_reap(&self->ring, &self->cq, n + 1, 60));
	ASSERT_EQ(0, self->cq.order[0]);
	for (i = 0; i <= n; i++)
		ASSERT_EQ(REC, self->cq.res[i]);
	ASSERT_EQ((n + 1) * REC, lseek(fd, 0, SEEK_END));
	ASSERT_TRUE(records_in_order(fd, 0, 0, n + 1));
	close(sfd);
	close(fd);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * Four splices into one file: while the first blocks, the others do not
 * run even though their data is there; then all run, in order.
 */
TEST_F_TIMEOUT(hash, same_file_serialized, 120)
{
	int i, fd = open_file(1, O_TRUNC);
	char buf[8] = "";

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, iowq_pipes_open(self->p, 4));
	self->nr_pipes = 4;
	for (i = 0; i < 4; i++)
		iowq_prep_splice(&self->ring, self->p[i].r, fd, 1, i, IOSQE_ASYNC);
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	ASSERT_GE(iowq_wait_workers(0, 1, 64, 10), 1);
	for (i = 3; i >= 1; i--)
		ASSERT_EQ(1, write(self->p[i].w, "abcd" + i, 1));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 1));
	ASSERT_EQ(1, write(self->p[0].w, "a", 1));
	ASSERT_EQ(4, iowq_reap(&self->ring, &self->cq, 4, 20));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, self->cq.res[i]);
		ASSERT_EQ(i, self->cq.order[i]);
	}
	ASSERT_EQ(4, pread(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, "abcd", 4));
	close(fd);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * While a splice into file A blocks, a splice into file B completes: B is
 * chosen with a key other than A's (files may share one of the 64 hash
 * keys, see open_other_key()).
 */
TEST_F_TIMEOUT(hash, other_file_concurrent, 120)
{
	int i, fds[2];

	ASSERT_EQ(0, iowq_pipes_open(self->p, 2));
	self->nr_pipes = 2;
	fds[0] = open_file(0, O_TRUNC);
	ASSERT_LE(0, fds[0]);
	iowq_prep_splice(&self->ring, self->p[0].r, fds[0], 1, 0, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(), "pipe_wait_readable",
					  1, 10));
	fds[1] = open_other_key(_metadata, self, 1);
	ASSERT_LE(0, fds[1]);
	iowq_prep_splice(&self->ring, self->p[1].r, fds[1], 1, 1, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, write(self->p[1].w, "k", 1));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 1, 3));
	ASSERT_EQ(1, self->cq.res[1]);
	ASSERT_FALSE(self->cq.done[0]);
	ASSERT_EQ(1, write(self->p[0].w, "a", 1));
	ASSERT_EQ(2, iowq_reap(&self->ring, &self->cq, 2, 20));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, self->cq.res[i]);
		close(fds[i]);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * With 2 bound workers, one blocked in a splice into file F and hashed
 * appends to F queued behind it, unhashed work (NOPs, reads) still runs,
 * also work queued between F's appends (F's chain stays one contiguous
 * run of the queue, skipped whole); once F's chain moves, it completes in
 * order.
 */
TEST_F_TIMEOUT(hash, stuck_chain_does_not_starve_unhashed, 120)
{
	int i, n = 16, fd = open_file(2, O_TRUNC), afd = open_file(2, O_APPEND);
	static char rbuf[8][REC];

	ASSERT_LE(0, fd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, iowq_pipes_open(self->p, 1));
	self->nr_pipes = 1;
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 2, 0, NULL));
	iowq_prep_splice(&self->ring, self->p[0].r, fd, REC, 0, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* the splice alone holds the key: the appends queue, not its chain */
	ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(), "pipe_wait_readable", 1, 10));
	for (i = 1; i <= n / 2; i++)
		prep_record(&self->ring, afd, i, i);
	ASSERT_EQ(n / 2, io_uring_submit(&self->ring));
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.5));

	/* unhashed work queued between items of the stuck chain runs */
	for (i = 0; i < 32; i++)
		iowq_prep_nop(&self->ring, 100 + i, IOSQE_ASYNC);
	for (i = 0; i < 8; i++) {
		struct io_uring_sqe *sqe = iowq_get_sqe(&self->ring);

		io_uring_prep_read(sqe, afd, rbuf[i], REC, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = 200 + i;
	}
	for (i = n / 2 + 1; i <= n; i++)
		prep_record(&self->ring, afd, i, i);
	ASSERT_EQ(40 + n / 2, io_uring_submit(&self->ring));
	ASSERT_EQ(40, iowq_reap(&self->ring, &self->cq, 40, 30));
	for (i = 0; i <= n; i++)
		ASSERT_FALSE(self->cq.done[i]);
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, self->cq.res[100 + i]);
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, self->cq.res[200 + i]);	/* file still empty */

	ASSERT_EQ(REC, write(self->p[0].w, "spliced record\n\n", REC));
	ASSERT_EQ(40 + n + 1, iowq_reap(&self->ring, &self->cq, 40 + n + 1, 30));
	ASSERT_EQ(REC, self->cq.res[0]);
	for (i = 1; i <= n; i++)
		ASSERT_EQ(REC, self->cq.res[i]);
	ASSERT_TRUE(records_in_order(fd, REC, 1, n));
	close(fd);
	close(afd);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * A hashed write with work linked to it that blocks: a read of an empty
 * pipe (not IOSQE_ASYNC, so it waits inside the worker), after an fsync
 * if @fsync.  The file's hash key is free once the write is done: a second
 * write to the file completes while the read still waits.
 */
static void linked_blocking_read(struct __test_metadata *_metadata,
				 struct _test_data_hash *self, bool fsync)
{
	int fd = open_file(5, O_TRUNC), ud = 0;
	struct io_uring_sqe *sqe;
	static char rbuf[REC];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, iowq_pipes_open(self->p, 1));
	self->nr_pipes = 1;

	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_write(sqe, fd, "linked record 1\n", REC, 0);
	sqe->flags |= IOSQE_ASYNC | IOSQE_IO_LINK;
	sqe->user_data = ud++;
	if (fsync) {
		sqe = iowq_get_sqe(&self->ring);
		io_uring_prep_fsync(sqe, fd, 0);
		sqe->flags |= IOSQE_IO_LINK;
		sqe->user_data = ud++;
	}
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_read(sqe, self->p[0].r, rbuf, REC, 0);
	sqe->user_data = ud++;
	ASSERT_EQ(ud, io_uring_submit(&self->ring));
	/* the write (and fsync) done, the read waits in the worker */
	ASSERT_EQ(ud - 1, iowq_reap(&self->ring, &self->cq, ud - 1, 10));
	ASSERT_EQ(REC, self->cq.res[0]);
	if (fsync)
		ASSERT_EQ(0, self->cq.res[1]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.3));

	prep_record(&self->ring, fd, 2, 10);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, 10, 5));
	ASSERT_EQ(REC, self->cq.res[10]);
	ASSERT_FALSE(self->cq.done[ud - 1]);

	ASSERT_EQ(REC, write(self->p[0].w, "to the linked rd", REC));
	ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, ud - 1, 10));
	ASSERT_EQ(REC, self->cq.res[ud - 1]);
	close(fd);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

/* write -> read of an empty pipe; a second write to the file goes on. */
TEST_F_TIMEOUT(hash, key_free_before_linked_read, 60)
{
	linked_blocking_read(_metadata, self, false);
}

/* write -> fsync -> read of an empty pipe: the same. */
TEST_F_TIMEOUT(hash, key_free_before_linked_fsync_read, 60)
{
	linked_blocking_read(_metadata, self, true);
}

/*
 * Hashed appends to two files, whose keys are held by splices into the
 * files from empty pipes, interleaved with unhashed async NOPs and reads:
 * the NOPs and reads all complete while the keys are held (stuck chains
 * do not starve other work) and no append does; once the pipes are fed,
 * every append completes, each file's in order after its splice's record.
 */
TEST_F_TIMEOUT(hash, mixed_stream_completes, 120)
{
	int i, k, n = 240, fd[2], sfd[2];
	static char rbuf[REC];
	char rec0[REC + 1];

	ASSERT_EQ(0, iowq_pipes_open(self->p, 2));
	self->nr_pipes = 2;
	/* two bound workers block in the splices, two serve the rest */
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 4, 0, NULL));
	/* the second file's key is not the first's: see open_other_key() */
	for (k = 0; k < 2; k++) {
		sfd[k] = k ? open_other_key(_metadata, self, 3 + k) :
			 open_file(3 + k, O_TRUNC);
		ASSERT_LE(0, sfd[k]);
		fd[k] = open_file(3 + k, O_APPEND);
		ASSERT_LE(0, fd[k]);
		iowq_prep_splice(&self->ring, self->p[k].r, sfd[k], REC, n + k,
				 IOSQE_ASYNC);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		ASSERT_EQ(k + 1, iowq_wait_workers_in(iowq_gettid(),
						      "pipe_wait_readable",
						      k + 1, 10));
	}
	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe;

		switch (i % 4) {
		case 0:
		case 1:
			prep_record(&self->ring, fd[i % 2], i / 4 + 1, i);
			break;
		case 2:
			iowq_prep_nop(&self->ring, i, IOSQE_ASYNC);
			break;
		case 3:
			sqe = iowq_get_sqe(&self->ring);
			io_uring_prep_read(sqe, fd[0], rbuf, REC, 0);
			sqe->flags |= IOSQE_ASYNC;
			sqe->user_data = i;
			break;
		}
	}
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	/* the NOPs and the reads (of a file still empty) go through */
	for (i = 2; i < n; i += 4) {
		ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, i, 20));
		ASSERT_EQ(0, iowq_reap_ud(&self->ring, &self->cq, i + 1, 20));
		ASSERT_EQ(0, self->cq.res[i]);
		ASSERT_EQ(0, self->cq.res[i + 1]);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.3));
	ASSERT_EQ(n / 2, self->cq.nr);
	snprintf(rec0, sizeof(rec0), "record %07d\n", 0);
	for (k = 0; k < 2; k++)
		ASSERT_EQ(REC, write(self->p[k].w, rec0, REC));
	ASSERT_EQ(n + 2, iowq_reap(&self->ring, &self->cq, n + 2, 60));
	for (i = 0; i < n + 2; i++)
		ASSERT_EQ(i % 4 < 2 || i >= n ? REC : 0, self->cq.res[i]);
	for (k = 0; k < 2; k++) {
		ASSERT_TRUE(records_in_order(fd[k], 0, 0, n / 4 + 1));
		close(sfd[k]);
		close(fd[k]);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

struct stalled_thread {
	struct io_uring *ring;
	int fd, n;
	pid_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool submitted, done;
};

/* Submit @n appends to the file from this thread's io-wq, then wait. */
static void *stalled_fn(void *arg)
{
	struct stalled_thread *t = arg;
	int i, ret;

	for (i = 1; i <= t->n; i++)
		prep_record(t->ring, t->fd, i, i);
	ret = io_uring_submit(t->ring);
	pthread_mutex_lock(&t->lock);
	t->tid = ret == t->n ? iowq_gettid() : -1;
	t->submitted = true;
	pthread_cond_broadcast(&t->cond);
	while (!t->done)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/*
 * Two threads of one ring share its hash map, each with an io-wq of its
 * own.  The first one's worker holds file F's key, blocked in a splice
 * into F; the second thread's appends to F find the key busy: its io-wq
 * has work but none it can run, and starts no worker.  Once the splice
 * ends and releases the key, the second io-wq must be woken at once: its
 * appends run, after the splice and in order.
 */
TEST_F_TIMEOUT(hash, other_io_wq_resumes_at_key_release, 60)
{
	struct stalled_thread t = {
		.ring = &self->ring, .n = 8,
		.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
	};
	int fd = open_file(3, O_TRUNC), afd = open_file(3, O_APPEND);
	pthread_t thr;
	int i;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, iowq_pipes_open(self->p, 1));
	self->nr_pipes = 1;
	iowq_prep_splice(&self->ring, self->p[0].r, fd, REC, 0, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(), "pipe_wait_readable", 1, 10));

	t.fd = afd;
	ASSERT_EQ(0, pthread_create(&thr, NULL, stalled_fn, &t));
	pthread_mutex_lock(&t.lock);
	while (!t.submitted)
		pthread_cond_wait(&t.cond, &t.lock);
	pthread_mutex_unlock(&t.lock);
	ASSERT_LT(0, t.tid);
	/* the appends wait for the key: none done, no worker of theirs runs */
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.5));

	ASSERT_EQ(REC, write(self->p[0].w, "spliced record\n\n", REC));
	/*
	 * Well within the idle timeout: an idle worker of the second io-wq
	 * would also find the appends when its idle timer fires, but that is
	 * not being woken at the release.
	 */
	ASSERT_EQ(t.n + 1, iowq_reap(&self->ring, &self->cq, t.n + 1,
				     IOWQ_IDLE_TIMEOUT - 2));
	ASSERT_EQ(0, self->cq.order[0]);
	ASSERT_EQ(REC, self->cq.res[0]);
	for (i = 1; i <= t.n; i++)
		ASSERT_EQ(REC, self->cq.res[i]);
	ASSERT_TRUE(records_in_order(fd, REC, 1, t.n));

	pthread_mutex_lock(&t.lock);
	t.done = true;
	pthread_cond_broadcast(&t.cond);
	pthread_mutex_unlock(&t.lock);
	ASSERT_EQ(0, iowq_join(thr, 30));
	close(fd);
	close(afd);
	ASSERT_EQ(0, self->cq.bad);
}

/*
 * Hashed work linked to hashed work of the same file is queued when the
 * first completes, behind the key's chain.  A splice into the file from an
 * empty pipe holds the key first, so that appends A (linked to B), B and C
 * are all queued before any runs: once the pipe is fed, the file reads
 * S, A, C, B.  As on 6.1's own io-wq.
 */
TEST_F_TIMEOUT(hash, linked_hashed_work_requeued_behind_key, 60)
{
	static const char * const rec[] = { "A\n", "B\n", "C\n" };
	int i, round, fd, sfd;
	char buf[16];

	ASSERT_EQ(0, iowq_pipes_open(self->p, 1));
	self->nr_pipes = 1;
	for (round = 0; round < 3; round++) {
		fd = open_file(5, O_APPEND | O_TRUNC);
		sfd = open_file(5, 0);
		ASSERT_LE(0, fd);
		ASSERT_LE(0, sfd);
		memset(&self->cq, 0, sizeof(self->cq));
		/* splice() refuses O_APPEND files: S goes through sfd, at 0 */
		iowq_prep_splice(&self->ring, self->p[0].r, sfd, 2, 3, IOSQE_ASYNC);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		ASSERT_EQ(1, iowq_wait_workers_in(iowq_gettid(),
						  "pipe_wait_readable", 1, 10));
		for (i = 0; i < 3; i++) {
			struct io_uring_sqe *sqe = iowq_get_sqe(&self->ring);

			io_uring_prep_write(sqe, fd, rec[i], 2, 0);
			sqe->flags |= IOSQE_ASYNC | (i == 0 ? IOSQE_IO_LINK : 0);
			sqe->user_data = i;
		}
		ASSERT_EQ(3, io_uring_submit(&self->ring));
		ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.2));
		ASSERT_EQ(2, write(self->p[0].w, "S\n", 2));
		ASSERT_EQ(4, iowq_reap(&self->ring, &self->cq, 4, 10));
		for (i = 0; i < 4; i++)
			ASSERT_EQ(2, self->cq.res[i]);
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(8, pread(fd, buf, sizeof(buf), 0));
		ASSERT_STREQ("S\nA\nC\nB\n", buf);
		close(sfd);
		close(fd);
	}
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

TEST_HARNESS_MAIN
