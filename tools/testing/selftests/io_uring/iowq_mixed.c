// SPDX-License-Identifier: GPL-2.0
/*
 * Mixed load: several threads, each with its own ring and some sharing
 * one (their work in flight together, each reaping the other's CQEs
 * too), punt thousands of NOPs, pipe reads and file writes with
 * IOSQE_ASYNC.
 * Every SQE must get exactly one CQE with the expected result, and every
 * file must hold exactly what was written to it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "../kselftest_harness.h"
#include "iowq_util.h"

#define NR_THREADS	4
#define OPS_PER_THREAD	1536
#define BATCH		48
#define NR_PIPES	16
#define RECORD		64

enum { OP_NOP, OP_WRITE, OP_READ, OP_NR };

struct mixed_thread {
	int id;
	struct io_uring *ring;		/* own ring, or the shared one */
	pthread_mutex_t *ring_lock;	/* held around the shared ring */
	int file_fd;
	int pipes[NR_PIPES][2];
	unsigned char *seen;		/* per user_data: CQEs received */
	char err[128];
	atomic_int done;		/* CQEs received, by whichever thread */
	int ops;
};

static void fill_record(char *rec, int thread, int seq)
{
	memset(rec, 0, RECORD);
	snprintf(rec, RECORD, "thread %d seq %d", thread, seq);
}

/* Queue one op; user_data = seq * OP_NR + type. */
static void queue_op(struct mixed_thread *t, int seq, int type, char *buf)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(t->ring);

	switch (type) {
	case OP_NOP:
		io_uring_prep_nop(sqe);
		break;
	case OP_WRITE:
		fill_record(buf, t->id, seq);
		io_uring_prep_write(sqe, t->file_fd, buf, RECORD,
				    (unsigned long long)seq * RECORD);
		break;
	default:
		io_uring_prep_read(sqe, t->pipes[seq % NR_PIPES][0], buf, 8, 0);
		break;
	}
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = ((unsigned long long)t->id << 32) | (seq * OP_NR + type);
}

/* CQEs of the shared ring reaped by the other thread: work overlapped. */
static atomic_int cross_reaped;

/* Account @cqe to the thread that queued it; -1 (and t->err) if wrong. */
static int check_cqe(struct mixed_thread *t, struct mixed_thread *all,
		     struct io_uring_cqe *cqe)
{
	struct mixed_thread *owner = &all[cqe->user_data >> 32];
	unsigned int low = (unsigned int)cqe->user_data;
	int type = low % OP_NR;
	int want = type == OP_NOP ? 0 : type == OP_WRITE ? RECORD : 8;

	if (low >= OPS_PER_THREAD * OP_NR || owner->seen[low]++) {
		snprintf(t->err, sizeof(t->err), "duplicate or bad CQE %llx",
			 (unsigned long long)cqe->user_data);
		return -1;
	}
	if (cqe->res != want) {
		snprintf(t->err, sizeof(t->err), "op %x: res %d, want %d",
			 low, cqe->res, want);
		return -1;
	}
	atomic_fetch_add(&owner->done, 1);
	if (owner != t)
		atomic_fetch_add(&cross_reaped, 1);
	return 0;
}

/*
 * Wait until this thread has @target completions.  Its own ring: reap
 * them.  The shared ring: whoever holds its lock reaps every CQE there and
 * accounts it to its owner, so both threads' work is in flight at once.
 */
static int reap(struct mixed_thread *t, struct mixed_thread *all, int target)
{
	double end = iowq_now() + 30;
	struct io_uring_cqe *cqe;
	int ret = 0;

	while (!ret && atomic_load(&t->done) < target) {
		if (!t->ring_lock) {
			if (iowq_wait_cqe(t->ring, &cqe, 30)) {
				snprintf(t->err, sizeof(t->err),
					 "timed out, %d CQEs missing",
					 target - atomic_load(&t->done));
				return -1;
			}
			ret = check_cqe(t, all, cqe);
			io_uring_cqe_seen(t->ring, cqe);
			continue;
		}
		pthread_mutex_lock(t->ring_lock);
		while (!ret && !io_uring_peek_cqe(t->ring, &cqe)) {
			ret = check_cqe(t, all, cqe);
			io_uring_cqe_seen(t->ring, cqe);
		}
		pthread_mutex_unlock(t->ring_lock);
		if (!ret && atomic_load(&t->done) < target) {
			if (iowq_now() > end) {
				snprintf(t->err, sizeof(t->err),
					 "timed out, %d CQEs missing",
					 target - atomic_load(&t->done));
				return -1;
			}
			iowq_sleep(0.0002);
		}
	}
	return ret;
}

static struct mixed_thread threads[NR_THREADS];

static void *mixed_main(void *arg)
{
	static char bufs[NR_THREADS][BATCH][RECORD];
	struct mixed_thread *t = arg;
	int seq = 0;

	while (seq < OPS_PER_THREAD) {
		int i, ret, n = 0, reads[NR_PIPES] = { 0 };

		/* the shared ring's SQ: one thread at a time */
		if (t->ring_lock)
			pthread_mutex_lock(t->ring_lock);
		for (i = 0; i < BATCH && seq < OPS_PER_THREAD; i++, seq++) {
			int type = (seq * 7 + t->id) % OP_NR;

			/* one read in flight per pipe at most */
			if (type == OP_READ && reads[seq % NR_PIPES])
				type = OP_NOP;
			if (type == OP_READ)
				reads[seq % NR_PIPES] = 1;
			/* the seq of a slot is unique, so is user_data */
			queue_op(t, seq, type, bufs[t->id][i]);
			n++;
		}
		ret = io_uring_submit(t->ring);
		if (t->ring_lock)
			pthread_mutex_unlock(t->ring_lock);
		if (ret != n) {
			snprintf(t->err, sizeof(t->err), "submit failed");
			return NULL;
		}
		for (i = 0; i < NR_PIPES; i++)
			if (reads[i] && write(t->pipes[i][1], "12345678", 8) != 8)
				snprintf(t->err, sizeof(t->err), "pipe write failed");
		if (reap(t, threads, t->ops + n))
			return NULL;
		t->ops += n;
	}
	return NULL;
}

/* Each thread's file holds its records, each at its place. */
static int check_file(struct mixed_thread *t)
{
	char rec[RECORD], want[RECORD];
	int seq;

	for (seq = 0; seq < OPS_PER_THREAD; seq++) {
		if ((seq * 7 + t->id) % OP_NR != OP_WRITE)
			continue;
		if (pread(t->file_fd, rec, RECORD, (off_t)seq * RECORD) != RECORD)
			return -1;
		fill_record(want, t->id, seq);
		if (memcmp(rec, want, RECORD))
			return -1;
	}
	return 0;
}

/* 4 threads, 2 with rings of their own and 2 sharing one: 6144 ops. */
TEST(mixed_threads_and_rings)
{
	struct io_uring rings[NR_THREADS], shared;
	pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_t tids[NR_THREADS];
	struct io_uring_cqe *cqe;
	int i, j, total = 0;

	ASSERT_EQ(0, io_uring_queue_init(128, &shared, 0));
	for (i = 0; i < NR_THREADS; i++) {
		struct mixed_thread *t = &threads[i];
		char name[32];

		memset(t, 0, sizeof(*t));
		t->id = i;
		if (i < 2) {
			ASSERT_EQ(0, io_uring_queue_init(128, &rings[i], 0));
			t->ring = &rings[i];
		} else {
			t->ring = &shared;
			t->ring_lock = &shared_lock;
		}
		snprintf(name, sizeof(name), "mixed-%d", i);
		t->file_fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
		ASSERT_GE(t->file_fd, 0);
		for (j = 0; j < NR_PIPES; j++)
			ASSERT_EQ(0, pipe(t->pipes[j]));
		t->seen = calloc(OPS_PER_THREAD * OP_NR, 1);
		ASSERT_NE(NULL, t->seen);
	}
	for (i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&tids[i], NULL, mixed_main, &threads[i]));
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(tids[i], NULL);

	for (i = 0; i < NR_THREADS; i++) {
		struct mixed_thread *t = &threads[i];

		EXPECT_STREQ("", t->err);
		EXPECT_EQ(OPS_PER_THREAD, t->ops);
		EXPECT_EQ(0, check_file(t));
		total += t->ops;
	}
	EXPECT_EQ(NR_THREADS * OPS_PER_THREAD, total);
	TH_LOG("%d CQEs of the shared ring reaped by the other thread",
	       atomic_load(&cross_reaped));
	EXPECT_LT(0, atomic_load(&cross_reaped));
	/* no CQE beyond one per SQE */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(-ETIME, iowq_wait_cqe(&rings[i], &cqe, 0.2));
	EXPECT_EQ(-ETIME, iowq_wait_cqe(&shared, &cqe, 0.2));

	for (i = 0; i < NR_THREADS; i++) {
		for (j = 0; j < NR_PIPES; j++) {
			close(threads[i].pipes[j][0]);
			close(threads[i].pipes[j][1]);
		}
		close(threads[i].file_fd);
		free(threads[i].seen);
	}
	for (i = 0; i < 2; i++)
		io_uring_queue_exit(&rings[i]);
	io_uring_queue_exit(&shared);
}

TEST_HARNESS_MAIN
