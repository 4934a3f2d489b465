// SPDX-License-Identifier: GPL-2.0
/*
 * io-wq's trace events (include/trace/events/io_wq.h), read from a tracefs
 * instance of the test's own: a blocked splice shows enqueue -> worker
 * created -> work started -> work done, with one request pointer and one
 * worker pid, and at least the time it blocked between start and done; a
 * cancel of blocked work shows found-running, of nothing not-found;
 * IORING_REGISTER_IOWQ_MAX_WORKERS shows the new limits; a write queued
 * behind a hash key held by blocked work shows the stall, and at least
 * the time the key was held between its enqueue and its start.
 * Stock 6.1 has no io_wq events: the tests skip there.
 */
#include "../kselftest_harness.h"
#include "iowq_util.h"

#include <sys/mount.h>

#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_MAX	(1024 * 1024)

FIXTURE(trace) {
	struct io_uring ring;
	struct iowq_cq cq;
	char inst[96];
	char *buf;
	pid_t tid;
	int node;
	bool ok;
};

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The trace of the instance into self->buf; its length or -errno. */
static int read_trace(struct _test_data_trace *self)
{
	char path[128];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", self->inst);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < TRACE_MAX - 1) {
		n = read(fd, self->buf + len, TRACE_MAX - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	self->buf[len] = 0;
	return len;
}

/*
 * The first line at or after @from holding the event @ev and every string
 * of @want (NULL-terminated); NULL if none.
 */
static const char *find_event(const char *from, const char *ev,
			      const char *const *want)
{
	const char *line = from;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char tmp[512];
		int i;

		if (len < sizeof(tmp)) {
			memcpy(tmp, line, len);
			tmp[len] = 0;
			for (i = 0; want[i] && strstr(tmp, want[i]); i++)
				;
			if (strstr(tmp, ev) && !want[i])
				return line;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The word after " @key " in the line at @line (at most 31 characters). */
static void field(const char *line, const char *key, char *out)
{
	const char *end = strchr(line, '\n');
	char want[32];
	const char *p;

	snprintf(want, sizeof(want), " %s ", key);
	p = strstr(line, want);
	out[0] = 0;
	if (p && (!end || p < end))
		sscanf(p + strlen(want), "%31s", out);
}

/* The timestamp of the event at @line, in nanoseconds, or -1. */
static long long event_ns(const char *line)
{
	const char *end = strchr(line, '\n');
	const char *p = strstr(line, ": io_wq_");

	if (!p || (end && p > end))
		return -1;
	while (p > line && p[-1] != ' ')
		p--;
	return (long long)(strtod(p, NULL) * 1e9);
}

FIXTURE_SETUP(trace)
{
	char path[160];

	self->buf = malloc(TRACE_MAX);
	ASSERT_NE(NULL, self->buf);
	if (access(TRACEFS "/instances", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events/io_wq", F_OK))
		return;
	snprintf(self->inst, sizeof(self->inst), TRACEFS "/instances/iowq-%d",
		 getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0700));
	snprintf(path, sizeof(path), "%s/events/io_wq/enable", self->inst);
	ASSERT_EQ(0, write_file(path, "1"));
	self->ok = true;
	ASSERT_EQ(0, iowq_pin_cpu(0));
	self->node = iowq_cpu_node(0);
	self->tid = iowq_gettid();
	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
}

FIXTURE_TEARDOWN(trace)
{
	char path[160];

	if (self->ok) {
		io_uring_queue_exit(&self->ring);
		snprintf(path, sizeof(path), "%s/events/io_wq/enable",
			 self->inst);
		write_file(path, "0");
		rmdir(self->inst);
	}
	free(self->buf);
}

/*
 * Splice (user_data 1) from the empty pipe @p into @out, asynchronously:
 * it blocks the one worker it starts.
 */
static void block_splice(struct __test_metadata *_metadata,
			 struct _test_data_trace *self, struct iowq_pipe *p,
			 int out)
{
	iowq_prep_splice(&self->ring, p->r, out, 1, 1, IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(1, iowq_wait_workers(0, 1, 1, 10));
}

#define NO_EVENTS	"no io_wq trace events (6.1's own io-wq, or no tracefs)"

/*
 * A splice from an empty pipe: enqueued (unhashed), a worker created for
 * it, started by that worker; done once the pipe is written.
 */
TEST_F(trace, blocked_splice_created_started)
{
	char owner[32], unb[64], work[32], worker[32], w2[32], wk[64], wr[64];
	const char *enq, *cre, *sta, *don;
	struct iowq_pipe p;
	int null;

	if (!self->ok && !iowq_kernel_is_ours())
		SKIP(return, NO_EVENTS);
	ASSERT_TRUE(self->ok);
	ASSERT_EQ(0, iowq_pipes_open(&p, 1));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, null);
	block_splice(_metadata, self, &p, null);
	/* started and blocked: it runs at least 0.1 s more */
	ASSERT_EQ(1, iowq_wait_workers_in(self->tid, "pipe_wait_readable", 1,
					  10));
	iowq_sleep(0.1);
	ASSERT_EQ(1, write(p.w, "x", 1));
	ASSERT_EQ(1, iowq_reap(&self->ring, &self->cq, 1, 10));
	EXPECT_EQ(1, self->cq.res[1]);
	ASSERT_LT(0, read_trace(self));

	snprintf(owner, sizeof(owner), "owner %d ", self->tid);
	snprintf(unb, sizeof(unb), "node %d unbound", self->node);
	{
		const char *const want[] = { owner, unb, "key -1", NULL };

		enq = find_event(self->buf, "io_wq_enqueue:", want);
	}
	ASSERT_NE(NULL, enq) TH_LOG("trace:\n%s", self->buf);
	field(enq, "req", work);
	{
		const char *const want[] = { owner, unb, NULL };

		cre = find_event(enq, "io_wq_worker_create:", want);
	}
	ASSERT_NE(NULL, cre) TH_LOG("trace:\n%s", self->buf);
	field(cre, "worker", worker);
	snprintf(wk, sizeof(wk), "req %s", work);
	snprintf(wr, sizeof(wr), "worker %s ", worker);
	{
		const char *const want[] = { owner, unb, wr, wk, NULL };

		sta = find_event(cre, "io_wq_work_start:", want);
		ASSERT_NE(NULL, sta) TH_LOG("trace:\n%s", self->buf);
		don = find_event(sta, "io_wq_work_done:", want);
		ASSERT_NE(NULL, don) TH_LOG("trace:\n%s", self->buf);
	}
	field(sta, "worker", w2);
	EXPECT_STREQ(worker, w2);
	/*
	 * queued while its worker was created (some time, under 5 s), then
	 * blocked for at least the 0.1 s before the write
	 */
	EXPECT_LT(0, event_ns(sta) - event_ns(enq)) TH_LOG("%.200s", sta);
	EXPECT_GT(5000 * 1000 * 1000LL, event_ns(sta) - event_ns(enq))
		TH_LOG("%.200s", sta);
	EXPECT_LE(100 * 1000 * 1000LL, event_ns(don) - event_ns(sta))
		TH_LOG("%.200s", don);
	EXPECT_EQ(0, self->cq.bad);
	iowq_pipes_close(&p, 1);
	close(null);
}

/* Cancelling blocked work finds it running; cancelling nothing, not. */
TEST_F(trace, cancel_found_running)
{
	char owner[32];
	struct io_uring_sqe *sqe;
	struct iowq_pipe p;
	const char *ev;
	int null;

	if (!self->ok && !iowq_kernel_is_ours())
		SKIP(return, NO_EVENTS);
	ASSERT_TRUE(self->ok);
	ASSERT_EQ(0, iowq_pipes_open(&p, 1));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, null);
	block_splice(_metadata, self, &p, null);
	ASSERT_EQ(1, iowq_wait_workers_in(self->tid, "pipe_wait_readable", 1,
					  10));
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_cancel64(sqe, 1, 0);
	sqe->user_data = 2;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(2, iowq_reap(&self->ring, &self->cq, 2, 10));
	EXPECT_EQ(-EALREADY, self->cq.res[2]);
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_cancel64(sqe, 77, 0);
	sqe->user_data = 3;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(3, iowq_reap(&self->ring, &self->cq, 3, 10));
	EXPECT_EQ(-ENOENT, self->cq.res[3]);
	ASSERT_LT(0, read_trace(self));

	snprintf(owner, sizeof(owner), "owner %d ", self->tid);
	{
		const char *const want[] = { owner, "queued 0 running 1",
					     NULL };

		ev = find_event(self->buf, "io_wq_cancel:", want);
		ASSERT_NE(NULL, ev) TH_LOG("trace:\n%s", self->buf);
		EXPECT_NE(NULL, strstr(ev, "found-running"));
	}
	{
		const char *const want[] = { owner, "not-found", NULL };

		ev = find_event(ev, "io_wq_cancel:", want);
		EXPECT_NE(NULL, ev) TH_LOG("trace:\n%s", self->buf);
	}
	EXPECT_EQ(0, self->cq.bad);
	iowq_pipes_close(&p, 1);
	close(null);
}

/* IORING_REGISTER_IOWQ_MAX_WORKERS {2, 3}: one limits event per node. */
TEST_F(trace, limits_changed)
{
	char owner[32], want_node[32];
	int node, nodes = iowq_nr_nodes();

	if (!self->ok && !iowq_kernel_is_ours())
		SKIP(return, NO_EVENTS);
	ASSERT_TRUE(self->ok);
	ASSERT_EQ(0, iowq_touch(&self->ring));
	ASSERT_EQ(0, iowq_set_max_workers(&self->ring, 2, 3, NULL));
	ASSERT_LT(0, read_trace(self));
	snprintf(owner, sizeof(owner), "owner %d ", self->tid);
	for (node = 0; node < nodes; node++) {
		snprintf(want_node, sizeof(want_node), "node %d ", node);
		{
			const char *const want[] = { owner, want_node,
						     "bound 2 unbound 3", NULL };

			EXPECT_NE(NULL, find_event(self->buf, "io_wq_limits:",
						   want))
				TH_LOG("trace:\n%s", self->buf);
		}
	}
}

/*
 * A write queued behind a splice that holds its file's hash key: the
 * bound account stalls on that key, and is released when the splice ends.
 */
TEST_F(trace, hash_stall_and_release)
{
	char owner[32], bnd[64], key[32], keyw[48], work[32], wk[48];
	char buf[4096];
	struct io_uring_sqe *sqe;
	const char *enq, *st, *sta;
	struct iowq_pipe p;
	int fd;

	if (!self->ok && !iowq_kernel_is_ours())
		SKIP(return, NO_EVENTS);
	ASSERT_TRUE(self->ok);
	ASSERT_EQ(0, iowq_pipes_open(&p, 1));
	fd = open("trace.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	memset(buf, 't', sizeof(buf));
	block_splice(_metadata, self, &p, fd);
	ASSERT_EQ(1, iowq_wait_workers_in(self->tid, "pipe_wait_readable", 1,
					  10));
	sqe = iowq_get_sqe(&self->ring);
	io_uring_prep_write(sqe, fd, buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = 2;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	iowq_sleep(0.3);
	ASSERT_EQ(0, self->cq.done[2]);
	ASSERT_EQ(1, write(p.w, "x", 1));
	ASSERT_EQ(2, iowq_reap(&self->ring, &self->cq, 2, 10));
	EXPECT_EQ(1, self->cq.order[0]);
	EXPECT_EQ(sizeof(buf), self->cq.res[2]);
	ASSERT_LT(0, read_trace(self));

	snprintf(owner, sizeof(owner), "owner %d ", self->tid);
	snprintf(bnd, sizeof(bnd), "node %d bound", self->node);
	{
		const char *const want[] = { owner, bnd, NULL };

		enq = find_event(self->buf, "io_wq_enqueue:", want);
	}
	ASSERT_NE(NULL, enq) TH_LOG("trace:\n%s", self->buf);
	field(enq, "key", key);
	ASSERT_STRNE("-1", key);
	snprintf(keyw, sizeof(keyw), "key %s", key);
	{
		const char *const want[] = { owner, bnd, keyw, NULL };
		const char *const any[] = { owner, bnd, NULL };

		st = find_event(enq, "io_wq_stall:", want);
		ASSERT_NE(NULL, st) TH_LOG("trace:\n%s", self->buf);
		EXPECT_NE(NULL, find_event(st, "io_wq_unstall:", any))
			TH_LOG("trace:\n%s", self->buf);
	}
	/* the write (queued second) waited for the 0.3 s the key was held */
	{
		const char *const want[] = { owner, bnd, keyw, NULL };

		enq = find_event(strchr(enq, '\n') + 1, "io_wq_enqueue:", want);
	}
	ASSERT_NE(NULL, enq) TH_LOG("trace:\n%s", self->buf);
	field(enq, "req", work);
	snprintf(wk, sizeof(wk), "req %s", work);
	{
		const char *const want[] = { owner, bnd, wk, NULL };

		sta = find_event(enq, "io_wq_work_start:", want);
	}
	ASSERT_NE(NULL, sta) TH_LOG("trace:\n%s", self->buf);
	EXPECT_LE(290 * 1000 * 1000LL, event_ns(sta) - event_ns(enq))
		TH_LOG("%.200s", sta);
	TH_LOG("the stall, as traced:\n%s", self->buf);
	EXPECT_EQ(0, self->cq.bad);
	iowq_pipes_close(&p, 1);
	close(fd);
	unlink("trace.dat");
}

/*
 * Check each __print_symbolic(REC->field, { V, "name" }, ...) of the print
 * fmt @fmt of event @ev: every V must be a number (tools decode the raw
 * field by it; an enum identifier there they cannot read).  Returns the
 * number of bad values; the pairs seen are added to *@nr.
 */
static int check_symbolic(struct __test_metadata *_metadata, const char *ev,
			  const char *fmt, int *nr)
{
	const char *p = fmt;
	int bad = 0;

	while ((p = strstr(p, "__print_symbolic("))) {
		p = strchr(p, ',');
		while (p && *p == ',') {
			char val[64], *end;
			size_t len;

			p += strspn(p + 1, " \t") + 1;
			if (*p != '{')
				break;
			p++;
			len = strcspn(p, ",}");
			if (p[len] != ',' || len >= sizeof(val))
				break;
			memcpy(val, p, len);
			val[len] = 0;
			while (len && strchr(" \t", val[len - 1]))
				val[--len] = 0;
			end = val + strspn(val, " \t");
			(*nr)++;
			errno = 0;
			strtoll(end, &end, 0);
			if (!len || *end || errno) {
				TH_LOG("%s: symbol value '%s' is not a number", ev, val);
				bad++;
			}
			p = strchr(p, '}');
			if (p)
				p = strpbrk(p + 1, ",)");
		}
		if (!p)
			break;
	}
	return bad;
}

/* Whether the format @fmt has a field named @name. */
static bool has_field(const char *fmt, const char *name)
{
	const char *p = fmt;

	while ((p = strstr(p, "field:"))) {
		const char *semi = strchr(p, ';'), *s;

		if (!semi)
			break;
		for (s = semi; s > p && s[-1] != ' ' && s[-1] != '\t'; s--)
			;
		if ((size_t)(semi - s) == strlen(name) && !strncmp(s, name, semi - s))
			return true;
		p = semi;
	}
	return false;
}

/*
 * The format file of every io_wq event: each __print_symbolic() value is
 * a number (TRACE_DEFINE_ENUM turns the exit reasons' enum identifiers
 * into numbers; left as identifiers, perf and trace-cmd cannot decode the
 * reason), and no dead field is left: none is named "ran", io_wq_unstall
 * (which does not know the key) has no "key".
 */
TEST_F(trace, formats_decode)
{
	int nr_events = 0, nr_syms = 0, bad = 0, ev_bad;
	static char fmt[16384];
	char path[512];
	struct dirent *de;
	DIR *dir;

	if (!self->ok && !iowq_kernel_is_ours())
		SKIP(return, NO_EVENTS);
	ASSERT_TRUE(self->ok);
	dir = opendir(TRACEFS "/events/io_wq");
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		ssize_t n, len = 0;
		int fd;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		snprintf(path, sizeof(path), TRACEFS "/events/io_wq/%s/format",
			 de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		/* "enable", "filter": files, not events */
		if (fd < 0 && de->d_type != DT_DIR)
			continue;
		ASSERT_LE(0, fd) TH_LOG("%s", path);
		while ((n = read(fd, fmt + len, sizeof(fmt) - 1 - len)) > 0)
			len += n;
		close(fd);
		fmt[len] = 0;
		nr_events++;
		ev_bad = check_symbolic(_metadata, de->d_name, fmt, &nr_syms);
		EXPECT_FALSE(has_field(fmt, "ran"))
			TH_LOG("%s has a field 'ran'", de->d_name);
		if (!strcmp(de->d_name, "io_wq_unstall"))
			EXPECT_FALSE(has_field(fmt, "key"))
				TH_LOG("io_wq_unstall has a field 'key'");
		if (ev_bad)
			TH_LOG("%s", fmt);
		bad += ev_bad;
	}
	closedir(dir);
	TH_LOG("%d events, %d symbols", nr_events, nr_syms);
	EXPECT_LT(0, nr_events);
	/* every event prints its account by name */
	EXPECT_LE(nr_events, nr_syms);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
