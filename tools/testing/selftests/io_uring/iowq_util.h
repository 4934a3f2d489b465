/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the io-wq selftests.
 *
 * Work that blocks an io-wq worker on Linux 6.1 (a punted pipe read does
 * not: the worker arms poll for it and moves on):
 *  - unbound: IORING_OP_SPLICE from an empty pipe into a pipe; it returns
 *    once data (or EOF) arrives in the source pipe;
 *  - bound: IORING_OP_OPENAT of a FIFO for reading with IOSQE_ASYNC; it
 *    returns once a writer opens the FIFO.  Opening the FIFO for writing
 *    with O_NONBLOCK fails with ENXIO unless a reader waits in open(), so
 *    it also tells whether the request is in flight.
 *  - bound and hashed: IORING_OP_SPLICE from an empty pipe into a
 *    regular file.
 */
#ifndef IOWQ_UTIL_H
#define IOWQ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <liburing.h>

#define IOWQ_MAX_REQ	1024

/*
 * io-wq's idle timeout in seconds (IO_WQ_IDLE_TIMEOUT, 5 * HZ in both
 * kernels; user space cannot read it).  A case that tells "went before the
 * timeout" from "went on the timeout" checks only counts it read well
 * before the timeout, or looks at a state (an exit counter) instead.
 */
#define IOWQ_IDLE_TIMEOUT	5.0

static inline double iowq_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void iowq_sleep(double secs)
{
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (time_t)secs) * 1e9),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline pid_t iowq_gettid(void)
{
	return syscall(SYS_gettid);
}

/* Pin the calling thread to @cpu; 0 or -errno. */
static inline int iowq_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* ---- worker threads ---------------------------------------------------- */

/* Read /proc/self/task/@tid/comm into @comm; 0 or -1. */
static inline int iowq_task_comm(pid_t tid, char *comm, size_t len)
{
	char path[64];
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(comm, len, f)) {
		comm[strcspn(comm, "\n")] = 0;
		ret = 0;
	}
	fclose(f);
	return ret;
}

/*
 * Store in @tids (up to @max) the thread ids of this process's io-wq
 * workers, those of the io-wq of task @owner only if @owner > 0.
 * Returns the number of workers found (may exceed @max) or -errno.
 */
static inline int iowq_list_workers(pid_t owner, pid_t *tids, int max)
{
	char comm[64], want[32];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(want, sizeof(want), "iou-wrk-%d", owner);
	dir = opendir("/proc/self/task");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0 || iowq_task_comm(tid, comm, sizeof(comm)))
			continue;
		if (strncmp(comm, "iou-wrk", 7))
			continue;
		if (owner > 0 && strcmp(comm, want))
			continue;
		if (n < max)
			tids[n] = tid;
		n++;
	}
	closedir(dir);
	return n;
}

/* Number of threads of this process whose name starts with "iou-wrk". */
static inline int iowq_count_workers(void)
{
	return iowq_list_workers(0, NULL, 0);
}

/* Number of io-wq workers serving task @owner ("iou-wrk-<owner>"). */
static inline int iowq_count_workers_of(pid_t owner)
{
	return iowq_list_workers(owner, NULL, 0);
}

/*
 * Poll the number of workers (of @owner, or all if @owner is 0) until it
 * is within [@lo, @hi] or @secs pass.  Returns the last count seen.
 */
static inline int iowq_wait_workers(pid_t owner, int lo, int hi, double secs)
{
	double end = iowq_now() + secs;
	int n;

	for (;;) {
		n = iowq_list_workers(owner, NULL, 0);
		if ((n >= lo && n <= hi) || iowq_now() > end)
			return n;
		iowq_sleep(0.02);
	}
}

/*
 * Whether the kernel stack of thread @tid of this process has a frame in
 * function @fn.  A wchan other than 0 says the thread is blocked, but
 * without a reliable unwinder (CONFIG_UNWINDER_GUESS) it may name a stale
 * return address found on the stack (finish_task_switch.isra.0) instead of
 * the function the thread waits in: the stack still holds that one.
 */
static inline bool iowq_stack_has(pid_t tid, const char *fn)
{
	char path[64], line[256];
	size_t len = strlen(fn);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *s = strchr(line, ' ');

		found = s && !strncmp(s + 1, fn, len) && s[1 + len] == '+';
	}
	fclose(f);
	return found;
}

/*
 * Poll until @n workers of this process (of @owner's io-wq if @owner > 0)
 * sleep in kernel function @wchan (/proc/.../wchan, e.g.
 * "pipe_wait_readable": blocked inside the work they run; or blocked with
 * a frame of @wchan on the stack, see iowq_stack_has()) or @secs pass.
 * Returns the last count seen.
 */
static inline int iowq_wait_workers_in(pid_t owner, const char *wchan, int n,
				       double secs)
{
	double end = iowq_now() + secs;
	pid_t tids[256];
	int i, nr, in;

	for (;;) {
		bool last = iowq_now() > end;

		nr = iowq_list_workers(owner, tids, 256);
		for (i = 0, in = 0; i < nr && i < 256; i++) {
			char path[64], buf[64] = "";
			ssize_t len;
			int fd;

			snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", tids[i]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if ((len > 0 && !strncmp(buf, wchan, len) && !wchan[len]) ||
			    (len > 0 && strcmp(buf, "0") &&
			     iowq_stack_has(tids[i], wchan)))
				in++;
			else if (last)
				fprintf(stderr, "# worker %d in %s, not %s\n", tids[i],
					len > 0 ? buf : "?", wchan);
		}
		if (in >= n || last)
			return in;
		iowq_sleep(0.02);
	}
}

/*
 * Sample the number of workers for @secs; returns the largest count seen.
 */
static inline int iowq_max_workers_seen(pid_t owner, double secs)
{
	double end = iowq_now() + secs;
	int n, max = 0;

	do {
		n = iowq_list_workers(owner, NULL, 0);
		if (n > max)
			max = n;
		iowq_sleep(0.02);
	} while (iowq_now() < end);
	return max;
}

/* ---- CPU sets ---------------------------------------------------------- */

/* Parse a cpulist ("0-3,5") into @set; 0 or -1. */
static inline int iowq_parse_cpulist(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			return -1;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (; a <= b; a++)
			CPU_SET(a, set);
		s = end;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* Read a cpulist file (e.g. /sys/devices/system/node/node0/cpulist). */
static inline int iowq_read_cpulist(const char *path, cpu_set_t *set)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return iowq_parse_cpulist(buf, set);
}

/*
 * The value of the "@key:" line of the /proc file @path (blanks after the
 * colon skipped) into @val; 0, or -1 if there is no such line.
 */
static inline int iowq_proc_value(const char *path, const char *key,
				  char *val, size_t len)
{
	size_t klen = strlen(key);
	char line[1024];
	int ret = -1;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			snprintf(val, len, "%s",
				 line + klen + 1 + strspn(line + klen + 1, " \t"));
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Cpus_allowed_list of thread @tid of this process; 0 or -1. */
static inline int iowq_task_cpus(pid_t tid, cpu_set_t *set)
{
	char path[64], val[256];

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (iowq_proc_value(path, "Cpus_allowed_list", val, sizeof(val)))
		return -1;
	return iowq_parse_cpulist(val, set);
}

static inline int iowq_nr_nodes(void)
{
	char path[64];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
		if (access(path, F_OK))
			return n ? n : 1;
		n++;
	}
}

static inline int iowq_node_cpus(int node, cpu_set_t *set)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	return iowq_read_cpulist(path, set);
}

/* The NUMA node of @cpu (0 if the kernel has no node directories). */
static inline int iowq_cpu_node(int cpu)
{
	int n, nodes = iowq_nr_nodes();
	cpu_set_t set;

	for (n = 0; n < nodes; n++)
		if (!iowq_node_cpus(n, &set) && CPU_ISSET(cpu, &set))
			return n;
	return 0;
}

static inline int iowq_first_cpu(const cpu_set_t *set)
{
	int i;

	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, set))
			return i;
	return -1;
}

/* ---- completions ------------------------------------------------------- */

/* Wait up to @secs for a completion; returns 0 or -errno (-ETIME). */
static inline int iowq_wait_cqe(struct io_uring *ring, struct io_uring_cqe **cqe,
				double secs)
{
	struct __kernel_timespec ts = {
		.tv_sec = (long long)secs,
		.tv_nsec = (long long)((secs - (long long)secs) * 1e9),
	};

	return io_uring_wait_cqe_timeout(ring, cqe, &ts);
}

/*
 * Completion bookkeeping: user_data is an index below IOWQ_MAX_REQ.  A
 * second CQE for an index, or an index out of range, counts as bad.
 */
struct iowq_cq {
	int nr;				/* distinct requests completed */
	int bad;			/* duplicate or unknown CQEs */
	int order[IOWQ_MAX_REQ];	/* user_data in completion order */
	int res[IOWQ_MAX_REQ];
	unsigned char done[IOWQ_MAX_REQ];
};

static inline void iowq_cq_record(struct iowq_cq *cq, struct io_uring_cqe *cqe)
{
	__u64 ud = cqe->user_data;

	if (ud >= IOWQ_MAX_REQ || cq->done[ud]) {
		cq->bad++;
		return;
	}
	cq->done[ud] = 1;
	cq->res[ud] = cqe->res;
	cq->order[cq->nr++] = ud;
}

/*
 * Reap CQEs into @cq until @want requests are done or @secs pass (a signal
 * interrupting the wait is not an error).  Returns cq->nr.
 */
static inline int iowq_reap(struct io_uring *ring, struct iowq_cq *cq,
			    int want, double secs)
{
	double end = iowq_now() + secs;
	struct io_uring_cqe *cqe;

	while (cq->nr < want) {
		double left = end - iowq_now();
		int ret;

		if (left <= 0)
			break;
		ret = iowq_wait_cqe(ring, &cqe, left);
		if (ret == -EINTR)
			continue;
		if (ret)
			break;
		iowq_cq_record(cq, cqe);
		io_uring_cqe_seen(ring, cqe);
	}
	return cq->nr;
}

/* Reap until request @ud is done; 0, or -ETIME after @secs. */
static inline int iowq_reap_ud(struct io_uring *ring, struct iowq_cq *cq,
			       int ud, double secs)
{
	double end = iowq_now() + secs;

	while (!cq->done[ud]) {
		double left = end - iowq_now();

		if (left <= 0)
			return -ETIME;
		iowq_reap(ring, cq, cq->nr + 1, left);
	}
	return 0;
}

/* True if no CQE arrives within @secs (any that does is recorded). */
static inline bool iowq_cq_quiet(struct io_uring *ring, struct iowq_cq *cq,
				 double secs)
{
	int nr = cq->nr, bad = cq->bad;

	iowq_reap(ring, cq, IOWQ_MAX_REQ + 1, secs);
	return cq->nr == nr && cq->bad == bad;
}

/* ---- submission -------------------------------------------------------- */

/* An SQE, submitting what is queued first if the SQ ring is full. */
static inline struct io_uring_sqe *iowq_get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

static inline void iowq_prep_nop(struct io_uring *ring, int ud,
				 unsigned int flags)
{
	struct io_uring_sqe *sqe = iowq_get_sqe(ring);

	io_uring_prep_nop(sqe);
	sqe->flags |= flags;
	sqe->user_data = ud;
}

/* Unbound work that blocks until @in (a pipe) has data: splice into @out. */
static inline void iowq_prep_splice(struct io_uring *ring, int in, int out,
				    unsigned int len, int ud, unsigned int flags)
{
	struct io_uring_sqe *sqe = iowq_get_sqe(ring);

	io_uring_prep_splice(sqe, in, -1, out, -1, len, 0);
	sqe->flags |= flags;
	sqe->user_data = ud;
}

/* ---- pipes and FIFOs --------------------------------------------------- */

struct iowq_pipe {
	int r, w;
};

/* Open @n pipes; 0 or -errno (nothing left open then). */
static inline int iowq_pipes_open(struct iowq_pipe *p, int n)
{
	int i, fds[2];

	for (i = 0; i < n; i++) {
		if (pipe2(fds, O_CLOEXEC)) {
			int err = -errno;

			while (i--) {
				close(p[i].r);
				close(p[i].w);
			}
			return err;
		}
		p[i].r = fds[0];
		p[i].w = fds[1];
	}
	return 0;
}

static inline void iowq_pipes_close(struct iowq_pipe *p, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (p[i].r >= 0)
			close(p[i].r);
		if (p[i].w >= 0)
			close(p[i].w);
		p[i].r = -1;
		p[i].w = -1;
	}
}

#define IOWQ_MAX_FIFOS	64

/*
 * Name of FIFO @i.  The kernel reads the path of an open when the SQE is
 * submitted, so each FIFO has its own buffer.
 */
static inline const char *iowq_fifo_name(int i)
{
	static char names[IOWQ_MAX_FIFOS][48];

	snprintf(names[i], sizeof(names[i]), "iowq-fifo-%d-%d", getpid(), i);
	return names[i];
}

/* Bound work that blocks until a writer opens FIFO @i. */
static inline void iowq_prep_fifo_open(struct io_uring *ring, int i, int ud)
{
	struct io_uring_sqe *sqe = iowq_get_sqe(ring);

	io_uring_prep_openat(sqe, AT_FDCWD, iowq_fifo_name(i),
			     O_RDONLY | O_CLOEXEC, 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe->user_data = ud;
}

/* Create FIFOs 0..@n-1 in the current directory; 0 or -errno. */
static inline int iowq_fifos_make(int n)
{
	int i;

	if (n > IOWQ_MAX_FIFOS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unlink(iowq_fifo_name(i));
		if (mkfifo(iowq_fifo_name(i), 0600))
			return -errno;
	}
	return 0;
}

static inline void iowq_fifos_remove(int n)
{
	int i;

	for (i = 0; i < n; i++)
		unlink(iowq_fifo_name(i));
}

/*
 * Release the reader blocked in open() of FIFO @i: 1 if there was one (it
 * is now released), 0 if none waits (ENXIO), -errno otherwise.
 */
static inline int iowq_fifo_release(int i)
{
	int fd;

	fd = open(iowq_fifo_name(i), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO ? 0 : -errno;
	close(fd);
	return 1;
}

/* ---- registration ------------------------------------------------------ */

/*
 * IORING_REGISTER_IOWQ_MAX_WORKERS with {@bound, @unbound}; the previous
 * values go to @prev (if not NULL).  Returns 0 or -errno.
 */
static inline int iowq_set_max_workers(struct io_uring *ring, unsigned int bound,
				       unsigned int unbound, unsigned int *prev)
{
	unsigned int vals[2] = { bound, unbound };
	int ret = io_uring_register_iowq_max_workers(ring, vals);

	if (!ret && prev) {
		prev[0] = vals[0];
		prev[1] = vals[1];
	}
	return ret;
}

/* Raw io_uring_register(2), for arguments liburing would not pass. */
static inline int iowq_register_raw(int fd, unsigned int op, void *arg,
				    unsigned int nr)
{
	int ret = syscall(__NR_io_uring_register, fd, op, arg, nr);

	return ret < 0 ? -errno : ret;
}

/* Make this task's io-wq exist (6.1 creates it on the first submission). */
static inline int iowq_touch(struct io_uring *ring)
{
	struct iowq_cq cq = { 0 };

	iowq_prep_nop(ring, IOWQ_MAX_REQ - 1, 0);
	if (io_uring_submit(ring) != 1)
		return -1;
	if (iowq_reap(ring, &cq, 1, 10) != 1 || cq.res[IOWQ_MAX_REQ - 1])
		return -1;
	return 0;
}

/* ---- processes --------------------------------------------------------- */

/*
 * Wait up to @secs for child @pid; returns its wait status, -ETIMEDOUT if
 * it did not finish in time (it is left running, e.g. to be looked at), or
 * -1 if it cannot be waited for.
 */
static inline int iowq_wait_child(pid_t pid, double secs)
{
	double end = iowq_now() + secs;
	int status;

	for (;;) {
		pid_t ret = waitpid(pid, &status, WNOHANG);

		if (ret == pid)
			return status;
		if (ret < 0 && errno != EINTR)
			return -1;
		if (iowq_now() > end)
			return -ETIMEDOUT;
		iowq_sleep(0.01);
	}
}

/*
 * Wait up to @secs for child @pid; returns its wait status, or -1 if it
 * did not finish in time (it is then killed and reaped).
 */
static inline int iowq_waitpid(pid_t pid, double secs)
{
	int status = iowq_wait_child(pid, secs);

	if (status == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return status;
}

/* Print the lines of @path, each after @prefix; a missing file prints nothing. */
static inline void iowq_print_file(const char *path, const char *prefix)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("%s%s", prefix, line);
	fclose(f);
}

/*
 * For a test that finds process @pid stuck: print the comm, state and
 * wchan of each of its threads and its kernel stack, and the fdinfo of
 * each of its files (a ring's shows its io-wq's IoWq: lines), then have
 * the kernel print its blocked tasks (sysrq-w, into the kernel log that
 * the run shows at its end).  Each stack is read by a child given 2 s:
 * reading it waits for the task's exec_update_lock, which a stuck execve
 * may hold.
 */
static inline void iowq_dump_task(pid_t pid)
{
	char path[96], prefix[64];
	struct dirent *de;
	pid_t child;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	fflush(stdout);
	while ((de = readdir(dir))) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		printf("# DUMP pid %d tid %d:\n", pid, tid);
		snprintf(prefix, sizeof(prefix), "#   %d ", tid);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		iowq_print_file(path, prefix);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", pid, tid);
		iowq_print_file(path, prefix);
		printf("\n");
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
		iowq_print_file(path, prefix);
		fflush(stdout);
		child = fork();
		if (!child) {
			alarm(2);
			snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", pid, tid);
			iowq_print_file(path, prefix);
			fflush(stdout);
			_exit(0);
		}
		if (child > 0)
			waitpid(child, NULL, 0);
	}
	closedir(dir);
	/* its rings' fdinfo (IoWq: lines on ours), by a child given 2 s */
	child = fork();
	if (!child) {
		alarm(2);
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
		dir = opendir(path);
		while (dir && (de = readdir(dir))) {
			int nr = atoi(de->d_name);

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, nr);
			snprintf(prefix, sizeof(prefix), "#   fd %d ", nr);
			iowq_print_file(path, prefix);
		}
		fflush(stdout);
		_exit(0);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "w", 1) == 1)
			printf("# DUMP sysrq-w written: blocked tasks in the kernel log\n");
		close(fd);
	}
	fflush(stdout);
}

/* ---- fdinfo (our io-wq only: 6.1's own io-wq prints no IoWq: line) ---- */

#define IOWQ_STAT_LINE_MAX	1024

/*
 * The fdinfo line of @ring for the io-wq of @tid, @node, @acct into @line;
 * 0, -ENOENT if there is none, -ENODATA if fdinfo has no IoWq line at all.
 */
static inline int iowq_stat_line(struct io_uring *ring, pid_t tid, int node,
				 const char *acct, char *line)
{
	char path[64], want[96], buf[IOWQ_STAT_LINE_MAX];
	bool any = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ring->ring_fd);
	snprintf(want, sizeof(want), "IoWq:\tpid=%d node=%d acct=%s ", tid,
		 node, acct);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, "IoWq:", 5))
			continue;
		any = true;
		if (!strncmp(buf, want, strlen(want))) {
			strcpy(line, buf);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return any ? -ENOENT : -ENODATA;
}

/* The value of @key in a line of iowq_stat_line(); -1 if it is not there. */
static inline long iowq_stat_get(const char *line, const char *key)
{
	char want[32];
	const char *p;

	snprintf(want, sizeof(want), " %s=", key);
	p = strstr(line, want);
	return p ? strtol(p + strlen(want), NULL, 10) : -1;
}

/*
 * The sum over all nodes of @key in the fdinfo lines of @ring for the
 * io-wq of @tid, account @acct; -1 if some node's line lacks it, or no
 * node has a line.
 */
static inline long iowq_stat_sum(struct io_uring *ring, pid_t tid,
				 const char *acct, const char *key)
{
	char line[IOWQ_STAT_LINE_MAX];
	long v, sum = 0;
	int node, found = 0;

	for (node = 0; node < iowq_nr_nodes(); node++) {
		if (iowq_stat_line(ring, tid, node, acct, line))
			continue;
		v = iowq_stat_get(line, key);
		if (v < 0)
			return -1;
		sum += v;
		found++;
	}
	return found ? sum : -1;
}

/*
 * True if the harness said it booted our io-wq (IOWQ_KERNEL=ours, from
 * iowq.kernel= on the kernel command line), or, run without the harness,
 * if the kernel has io-wq's trace events: a feature of ours that is
 * missing there (fdinfo lines, trace events) is a failure, not a skip.
 */
static inline bool iowq_kernel_is_ours(void)
{
	const char *k = getenv("IOWQ_KERNEL");

	if (k)
		return !strcmp(k, "ours");
	/* run by hand: our io-wq has trace events, upstream 6.1's none */
	return !access("/sys/kernel/tracing/events/io_wq", F_OK) ||
	       !access("/sys/kernel/debug/tracing/events/io_wq", F_OK);
}

static inline void iowq_cpu_online_path(int cpu, char *path, size_t len)
{
	snprintf(path, len, "/sys/devices/system/cpu/cpu%d/online", cpu);
}

/* True if CPU @cpu can be taken offline here (its online file is writable). */
static inline bool iowq_cpu_hotpluggable(int cpu)
{
	char path[64];

	iowq_cpu_online_path(cpu, path, sizeof(path));
	return !access(path, W_OK);
}

/* Take CPU @cpu offline (@on false) or bring it online; 0 or -errno. */
static inline int iowq_cpu_set_online(int cpu, bool on)
{
	char path[64];
	int fd, ret;

	iowq_cpu_online_path(cpu, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, on ? "1" : "0", 1) == 1 ? 0 : -errno;
	close(fd);
	return ret;
}

/*
 * The number of the CPU hotplug state called @name, from
 * /sys/devices/system/cpu/hotplug/states; -1 if there is none.  With
 * @after set: the first state listed after @name instead.
 */
static inline int iowq_cpuhp_state(const char *name, bool after)
{
	FILE *f = fopen("/sys/devices/system/cpu/hotplug/states", "r");
	char line[128], found[96];
	int nr, ret = -1;
	bool seen = false;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d: %95s", &nr, found) != 2)
			continue;
		if (seen) {
			ret = nr;
			break;
		}
		if (!strcmp(found, name)) {
			if (!after) {
				ret = nr;
				break;
			}
			seen = true;
		}
	}
	fclose(f);
	return ret;
}

/*
 * Take CPU @cpu up or down to hotplug state @state (a partial hotplug: needs
 * CONFIG_CPU_HOTPLUG_STATE_CONTROL for a state other than offline and
 * online); 0 or -errno.
 */
static inline int iowq_cpu_set_target(int cpu, int state)
{
	char path[64], buf[16];
	int fd, len, ret;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/hotplug/target",
		 cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d", state);
	ret = write(fd, buf, len) == len ? 0 : -errno;
	close(fd);
	return ret;
}

/* pthread_join with a deadline; 0 or -ETIMEDOUT. */
static inline int iowq_join(pthread_t t, double secs)
{
	struct timespec ts;
	double end;

	clock_gettime(CLOCK_REALTIME, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + secs;
	ts.tv_sec = (time_t)end;
	ts.tv_nsec = (long)((end - (time_t)end) * 1e9);
	return -pthread_timedjoin_np(t, NULL, &ts);
}

#endif
