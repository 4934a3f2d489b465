// SPDX-License-Identifier: GPL-2.0
/*
 * Worker CPU affinity: IORING_REGISTER_IOWQ_AFF restricts the CPUs of the
 * workers started after it (those running before it are not moved by 6.1;
 * they leave once idle) and UNREGISTER restores the default, bad masks are
 * refused; with several NUMA nodes, work submitted from a CPU of node N is
 * served by workers allowed on node N's CPUs; CPU hotplug with work in
 * flight keeps workers on online CPUs and loses no work.
 *
 * Workers a step starts are told apart from older ones by thread id.
 */
#include "../kselftest_harness.h"
#include "iowq_util.h"

#include <sys/mount.h>

#define MAXW	64
#define HOTPLUG_CPU	1

FIXTURE(aff) {
	struct io_uring ring;
	struct iowq_cq cq;
	struct iowq_pipe p[16];
	struct iowq_pipe sink;
	pid_t seen[MAXW];
	int nr_seen;
	int next;		/* next pipe / user_data to use */
	pid_t guard;		/* brings the hotplugged CPU back online */
	int guard_fd;
};

FIXTURE_SETUP(aff)
{
	self->guard = -1;
	self->guard_fd = -1;
	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
	ASSERT_EQ(0, iowq_pipes_open(self->p, 16));
	ASSERT_EQ(0, iowq_pipes_open(&self->sink, 1));
}

FIXTURE_TEARDOWN(aff)
{
	io_uring_queue_exit(&self->ring);
	iowq_pipes_close(self->p, 16);
	iowq_pipes_close(&self->sink, 1);
	if (self->guard > 0) {
		iowq_cpu_set_online(HOTPLUG_CPU, 1);
		close(self->guard_fd);
		iowq_waitpid(self->guard, 10);
	}
}

static bool cpus_equal(const cpu_set_t *a, const cpu_set_t *b)
{
	return CPU_EQUAL(a, b);
}

static bool cpus_subset(const cpu_set_t *a, const cpu_set_t *b)
{
	cpu_set_t and;

	CPU_AND(&and, a, b);
	return CPU_EQUAL(&and, a);
}

static void format_cpus(const cpu_set_t *set, char *buf, size_t len)
{
	int i, n = 0;

	buf[0] = 0;
	for (i = 0; i < CPU_SETSIZE && n < (int)len - 8; i++)
		if (CPU_ISSET(i, set))
			n += snprintf(buf + n, len - n, "%s%d", n ? "," : "", i);
}

/* The CPUs of the NUMA node of @cpu (all online CPUs if no node has it). */
static void node_cpus_of(int cpu, cpu_set_t *set)
{
	int node;

	for (node = 0; node < iowq_nr_nodes(); node++)
		if (!iowq_node_cpus(node, set) && CPU_ISSET(cpu, set))
			return;
	iowq_read_cpulist("/sys/devices/system/cpu/online", set);
}

/*
 * Block @n splices (pipes self->next on) and return, in @tids, the workers
 * this started (those not seen before); returns their number.
 */
static int start_blocked(struct __test_metadata *_metadata,
			 struct _test_data_aff *self, int n, pid_t *tids)
{
	pid_t all[MAXW];
	int i, k, nr, nr_new = 0;

	for (i = 0; i < n; i++, self->next++)
		iowq_prep_splice(&self->ring, self->p[self->next].r,
				 self->sink.w, 1, self->next, IOSQE_ASYNC);
	EXPECT_EQ(n, io_uring_submit(&self->ring));
	iowq_wait_workers(0, self->nr_seen + n, MAXW, 10);
	nr = iowq_list_workers(0, all, MAXW);
	for (i = 0; i < nr && i < MAXW; i++) {
		for (k = 0; k < self->nr_seen; k++)
			if (self->seen[k] == all[i])
				break;
		if (k < self->nr_seen)
			continue;
		tids[nr_new++] = all[i];
		if (self->nr_seen < MAXW)
			self->seen[self->nr_seen++] = all[i];
	}
	return nr_new;
}

/* Every thread in @tids may run exactly on @want. */
static bool workers_on(pid_t *tids, int n, const cpu_set_t *want)
{
	char a[64], b[64];
	cpu_set_t set;
	int i;

	for (i = 0; i < n; i++) {
		if (iowq_task_cpus(tids[i], &set))
			return false;
		if (!cpus_equal(&set, want)) {
			format_cpus(&set, a, sizeof(a));
			format_cpus(want, b, sizeof(b));
			fprintf(stderr, "# worker %d allowed on %s, want %s\n",
				tids[i], a, b);
			return false;
		}
	}
	return true;
}

/* Feed every pipe used so far and reap the splices. */
static void finish(struct __test_metadata *_metadata, struct _test_data_aff *self)
{
	int i;

	for (i = 0; i < self->next; i++)
		ASSERT_EQ(1, write(self->p[i].w, "a", 1));
	ASSERT_EQ(self->next, iowq_reap(&self->ring, &self->cq, self->next, 30));
	for (i = 0; i < self->next; i++)
		ASSERT_EQ(1, self->cq.res[i]);
	ASSERT_TRUE(iowq_cq_quiet(&self->ring, &self->cq, 0.1));
	ASSERT_EQ(0, self->cq.bad);
}

static int nr_cpus(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN);
}

/*
 * Workers started after IOWQ_AFF {last CPU} may run there only; after
 * UNREGISTER, new ones get the default (the submitter's node) again; a
 * mask of all CPUs gives all CPUs.
 */
TEST_F_TIMEOUT(aff, register_restricts_new_workers, 60)
{
	cpu_set_t mask, def, all;
	pid_t tids[MAXW];
	int last = nr_cpus() - 1;

	if (last < 1)
		SKIP(return, "needs 2 CPUs");
	ASSERT_EQ(0, iowq_pin_cpu(0));
	node_cpus_of(0, &def);
	CPU_ZERO(&mask);
	CPU_SET(last, &mask);
	ASSERT_EQ(0, io_uring_register_iowq_aff(&self->ring, sizeof(mask), &mask));
	ASSERT_EQ(3, start_blocked(_metadata, self, 3, tids));
	ASSERT_TRUE(workers_on(tids, 3, &mask));

	ASSERT_EQ(0, io_uring_unregister_iowq_aff(&self->ring));
	ASSERT_EQ(3, start_blocked(_metadata, self, 3, tids));
	ASSERT_TRUE(workers_on(tids, 3, &def));

	ASSERT_EQ(0, iowq_read_cpulist("/sys/devices/system/cpu/online", &all));
	ASSERT_EQ(0, io_uring_register_iowq_aff(&self->ring, sizeof(all), &all));
	ASSERT_EQ(2, start_blocked(_metadata, self, 2, tids));
	ASSERT_TRUE(workers_on(tids, 2, &all));
	finish(_metadata, self);
}

/*
 * A NULL mask, an empty length, a bad pointer, arguments to UNREGISTER are
 * refused, and change nothing.  (6.1 only checks the CPUs below nr_cpu_ids:
 * a mask naming only CPU 63 of a 2-CPU machine is accepted, so that is not
 * tested; a mask of an offline CPU is refused, see cpu_hotplug.)
 */
TEST_F(aff, register_bad_masks)
{
	int fd = self->ring.ring_fd;
	unsigned long bits = 1;
	pid_t tids[MAXW];
	cpu_set_t def;

	ASSERT_EQ(0, iowq_pin_cpu(0));
	node_cpus_of(0, &def);
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_REGISTER_IOWQ_AFF, NULL,
					     sizeof(bits)));
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_REGISTER_IOWQ_AFF, &bits, 0));
	EXPECT_EQ(-EFAULT, iowq_register_raw(fd, IORING_REGISTER_IOWQ_AFF,
					     (void *)8, sizeof(bits)));
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_UNREGISTER_IOWQ_AFF,
					     &bits, 1));
	EXPECT_EQ(-EINVAL, iowq_register_raw(fd, IORING_UNREGISTER_IOWQ_AFF,
					     NULL, 1));
	/* nothing changed: new workers get the default */
	ASSERT_EQ(2, start_blocked(_metadata, self, 2, tids));
	ASSERT_TRUE(workers_on(tids, 2, &def));
	finish(_metadata, self);
}

/* Every worker of this process is allowed only CPUs of @mask. */
static bool all_workers_within(const cpu_set_t *mask, int *nr)
{
	pid_t tids[MAXW];
	cpu_set_t set;
	int i, n = iowq_list_workers(0, tids, MAXW);

	*nr = n;
	for (i = 0; i < n && i < MAXW; i++)
		if (!iowq_task_cpus(tids[i], &set) && !cpus_subset(&set, mask))
			return false;
	return true;
}

/*
 * Workers running before IOWQ_AFF: ours moves them at once, busy (blocked)
 * ones too, and keeps the last idle one, moved; 6.1's own io-wq does not move
 * them, but they leave on their idle timeout, even the last one
 * if it is outside the mask.  So within 20 s every worker is allowed only
 * CPUs of the new mask; new work is then served within the mask.
 */
TEST_F_TIMEOUT(aff, register_existing_workers, 60)
{
	int n, last = nr_cpus() - 1;
	pid_t tids[MAXW];
	cpu_set_t mask;
	double end;
	bool ok = false;

	if (last < 1)
		SKIP(return, "needs 2 CPUs");
	ASSERT_EQ(0, iowq_pin_cpu(0));
	ASSERT_EQ(2, start_blocked(_metadata, self, 2, tids));
	ASSERT_EQ(2, iowq_wait_workers_in(0, "pipe_wait_readable", 2, 10));
	CPU_ZERO(&mask);
	CPU_SET(last, &mask);
	ASSERT_EQ(0, io_uring_register_iowq_aff(&self->ring, sizeof(mask), &mask));
	if (iowq_kernel_is_ours())
		ASSERT_TRUE(workers_on(tids, 2, &mask));
	finish(_metadata, self);
	for (end = iowq_now() + 20; !ok && iowq_now() < end; iowq_sleep(0.1))
		ok = all_workers_within(&mask, &n);
	ASSERT_TRUE(ok);
	if (iowq_kernel_is_ours())
		ASSERT_LE(1, n);

	memset(&self->cq, 0, sizeof(self->cq));
	self->next = 0;
	start_blocked(_metadata, self, 2, tids);
	ASSERT_LE(2, iowq_wait_workers(0, 2, MAXW, 10));
	ASSERT_TRUE(all_workers_within(&mask, &n));
	finish(_metadata, self);
}

/* Read or write a small sysctl file; 0 or -errno. */
static int sysctl_rw(const char *path, char *val, size_t len, bool wr)
{
	int fd = open(path, (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = wr ? write(fd, val, strlen(val)) : read(fd, val, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	if (!wr)
		val[n] = 0;
	return 0;
}

#define RT_RUNTIME	"/proc/sys/kernel/sched_rt_runtime_us"

/*
 * A pool that gains CPUs starts workers for its queued work at once, not
 * at the next enqueue.  A SCHED_FIFO hog spins on CPU 1 (RT throttling
 * off) and this thread, SCHED_FIFO at a lower priority, holds CPU 0; the
 * workers inherit its policy, so none of them can run.  With IOWQ_AFF
 * {1}, three async NOPs get one worker (one CPU; the new worker counts as
 * running); IOWQ_AFF {0,1} gives the pool a second CPU, and a second
 * worker must be created for the queued NOPs on the way out of that
 * register call.  Without that, the one worker, moved to CPU 0, would run
 * all three once this thread lets CPU 0 go.  Stock 6.1 does not move
 * existing workers: ours only.
 */
TEST_F_TIMEOUT(aff, gained_cpu_starts_worker, 60)
{
	struct sched_param lo = { .sched_priority = 10 };
	struct sched_param hi = { .sched_priority = 50 };
	long before = -1, after = -1;
	char line[IOWQ_STAT_LINE_MAX], rt[32];
	int node = iowq_cpu_node(0), i;
	pid_t tid = iowq_gettid();
	cpu_set_t mask;
	pid_t hog;

	if (nr_cpus() < 2)
		SKIP(return, "needs 2 CPUs");
	if (!iowq_kernel_is_ours())
		SKIP(return, "6.1's own io-wq does not move existing workers");
	ASSERT_EQ(0, iowq_pin_cpu(0));
	ASSERT_EQ(0, sysctl_rw(RT_RUNTIME, rt, sizeof(rt), false));
	ASSERT_EQ(0, sysctl_rw(RT_RUNTIME, "-1", 0, true));
	hog = fork();
	if (!hog) {
		if (iowq_pin_cpu(1) ||
		    sched_setscheduler(0, SCHED_FIFO, &hi))
			_exit(1);
		for (;;)
			;
	}
	iowq_sleep(0.2);

	CPU_ZERO(&mask);
	CPU_SET(1, &mask);
	i = io_uring_register_iowq_aff(&self->ring, sizeof(mask), &mask);
	if (!i && !sched_setscheduler(0, SCHED_FIFO, &lo)) {
		for (i = 0; i < 3; i++)
			iowq_prep_nop(&self->ring, i, IOSQE_ASYNC);
		i = io_uring_submit(&self->ring);
		if (!iowq_stat_line(&self->ring, tid, node, "bound", line))
			before = iowq_stat_get(line, "created");
		CPU_SET(0, &mask);
		io_uring_register_iowq_aff(&self->ring, sizeof(mask), &mask);
		if (!iowq_stat_line(&self->ring, tid, node, "bound", line))
			after = iowq_stat_get(line, "created");
	}
	/* let everything run again before anything can fail */
	sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 0 });
	kill(hog, SIGKILL);
	iowq_waitpid(hog, 10);
	ASSERT_EQ(0, sysctl_rw(RT_RUNTIME, rt, 0, true));

	ASSERT_EQ(3, i);
	ASSERT_EQ(3, iowq_reap(&self->ring, &self->cq, 3, 10));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, self->cq.res[i]);
	EXPECT_EQ(1, before);
	EXPECT_EQ(2, after) TH_LOG("no worker for the CPU the pool gained");
}

/*
 * With 2+ NUMA nodes, work submitted from the first CPU of each node gets
 * workers allowed on exactly that node's CPUs.
 */
TEST_F_TIMEOUT(aff, numa_node_workers, 60)
{
	int node, nodes = iowq_nr_nodes(), cpu;
	cpu_set_t cpus;
	pid_t tids[MAXW];

	if (nodes < 2)
		SKIP(return, "needs 2 NUMA nodes, have %d", nodes);
	for (node = 0; node < nodes && node < 4; node++) {
		ASSERT_EQ(0, iowq_node_cpus(node, &cpus));
		cpu = iowq_first_cpu(&cpus);
		if (cpu < 0)
			continue;	/* memory-only node */
		ASSERT_EQ(0, iowq_pin_cpu(cpu));
		ASSERT_EQ(2, start_blocked(_metadata, self, 2, tids));
		ASSERT_TRUE(workers_on(tids, 2, &cpus));
	}
	finish(_metadata, self);
}

/*
 * A child that puts CPU 1 back online when the test process goes away,
 * however it goes (it reads EOF on a pipe).
 */
static void start_guard(struct __test_metadata *_metadata,
			struct _test_data_aff *self)
{
	int fds[2];
	char c;

	ASSERT_EQ(0, pipe(fds));
	self->guard = fork();
	ASSERT_LE(0, self->guard);
	if (!self->guard) {
		close(fds[1]);
		while (read(fds[0], &c, 1) > 0)
			;
		iowq_cpu_set_online(HOTPLUG_CPU, 1);
		_exit(0);
	}
	close(fds[0]);
	self->guard_fd = fds[1];
}

/* Every thread in @tids is allowed at least one CPU of @online. */
static bool workers_can_run(pid_t *tids, int n, const cpu_set_t *online)
{
	cpu_set_t set, and;
	int i;

	for (i = 0; i < n; i++) {
		if (iowq_task_cpus(tids[i], &set))
			continue;	/* gone */
		CPU_AND(&and, &set, online);
		if (!CPU_COUNT(&and))
			return false;
	}
	return true;
}

/*
 * CPU 1 goes offline while 3 workers started from it are blocked: ours
 * moves them to the node's online CPUs at once (6.1's own io-wq leaves their
 * mask as it is until they wake up on an online CPU), an IOWQ_AFF mask of
 * the offline CPU is refused, new work started meanwhile gets workers on
 * online CPUs, the blocked work completes; back online, new workers for
 * work from CPU 1 are CPU 1's again.
 */
TEST_F_TIMEOUT(aff, cpu_hotplug, 90)
{
	cpu_set_t online, node1, mask;
	pid_t tids[MAXW], all[MAXW];
	int n;

	if (geteuid())
		SKIP(return, "needs root");
	if (nr_cpus() < 2 || !iowq_cpu_hotpluggable(HOTPLUG_CPU))
		SKIP(return, "CPU %d cannot be taken offline", HOTPLUG_CPU);
	start_guard(_metadata, self);
	node_cpus_of(HOTPLUG_CPU, &node1);

	ASSERT_EQ(0, iowq_pin_cpu(HOTPLUG_CPU));
	ASSERT_EQ(3, start_blocked(_metadata, self, 3, tids));
	ASSERT_TRUE(workers_on(tids, 3, &node1));
	ASSERT_EQ(0, iowq_pin_cpu(0));
	ASSERT_EQ(0, iowq_cpu_set_online(HOTPLUG_CPU, 0));

	ASSERT_EQ(0, iowq_read_cpulist("/sys/devices/system/cpu/online", &online));
	ASSERT_FALSE(CPU_ISSET(HOTPLUG_CPU, &online));
	/*
	 * Ours makes the masks again at once, blocked workers' too: the
	 * node's online CPUs, or all online CPUs if it has none left.
	 */
	if (iowq_kernel_is_ours()) {
		cpu_set_t want;
		double end = iowq_now() + 5;

		CPU_AND(&want, &node1, &online);
		if (!CPU_COUNT(&want))
			want = online;
		while (!workers_on(tids, 3, &want) && iowq_now() < end)
			iowq_sleep(0.05);
		ASSERT_TRUE(workers_on(tids, 3, &want));
	}
	CPU_ZERO(&mask);
	CPU_SET(HOTPLUG_CPU, &mask);
	ASSERT_EQ(-EINVAL, io_uring_register_iowq_aff(&self->ring, sizeof(mask),
						      &mask));
	ASSERT_EQ(3, start_blocked(_metadata, self, 3, tids));
	ASSERT_TRUE(workers_can_run(tids, 3, &online));
	/* the blocked work is still there and completes */
	finish(_metadata, self);
	n = iowq_list_workers(0, all, MAXW);
	ASSERT_TRUE(workers_can_run(all, n, &online));

	ASSERT_EQ(0, iowq_cpu_set_online(HOTPLUG_CPU, 1));
	ASSERT_EQ(0, iowq_pin_cpu(HOTPLUG_CPU));
	memset(&self->cq, 0, sizeof(self->cq));
	self->nr_seen = iowq_list_workers(0, self->seen, MAXW);
	self->next = 0;
	/*
	 * The 3 idle workers of CPU 1's node may be reused: 2 more are new,
	 * unless CPU 0 is on that node too and its 3 idle workers serve.
	 */
	n = start_blocked(_metadata, self, 5, tids);
	if (!CPU_ISSET(0, &node1))
		ASSERT_LE(2, n);
	ASSERT_TRUE(workers_on(tids, n, &node1));
	finish(_metadata, self);
}

#define CG_ROOT	"/sys/fs/cgroup"
#define CG_DIR	CG_ROOT "/iowq-aff"

static int write_str(const char *path, const char *val)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -errno;
	close(fd);
	return ret;
}

/* What cpuset_make() changed on the host, for cpuset_remove() to undo. */
static bool cg_mounted, cg_enabled;

/* A child cpuset of cgroup v2 with every CPU; NULL or why it cannot be. */
static const char *cpuset_make(void)
{
	char cpus[32], ctl[256] = "";
	int fd;

	mkdir(CG_ROOT, 0755);
	if (access(CG_ROOT "/cgroup.subtree_control", F_OK)) {
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2";
		cg_mounted = true;
	}
	fd = open(CG_ROOT "/cgroup.subtree_control", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, ctl, sizeof(ctl) - 1) < 0)
			ctl[0] = 0;
		close(fd);
	}
	if (!strstr(ctl, "cpuset")) {
		if (write_str(CG_ROOT "/cgroup.subtree_control", "+cpuset"))
			return "no cpuset controller";
		cg_enabled = true;
	}
	rmdir(CG_DIR);
	if (mkdir(CG_DIR, 0755))
		return "cannot make a cgroup";
	snprintf(cpus, sizeof(cpus), "0-%d", nr_cpus() - 1);
	if (write_str(CG_DIR "/cpuset.cpus", cpus))
		return "cannot set cpuset.cpus";
	return NULL;
}

/* Remove the cgroup and undo what cpuset_make() changed (best effort). */
static void cpuset_remove(void)
{
	rmdir(CG_DIR);
	if (cg_enabled)
		write_str(CG_ROOT "/cgroup.subtree_control", "-cpuset");
	if (cg_mounted)
		umount(CG_ROOT);
	cg_enabled = false;
	cg_mounted = false;
}

static void print_workers(void)
{
	pid_t tids[MAXW];
	cpu_set_t mask;
	int i, n;

	n = iowq_list_workers(0, tids, MAXW);
	for (i = 0; i < n && i < MAXW; i++) {
		char a[64] = "?";

		if (!iowq_task_cpus(tids[i], &mask))
			format_cpus(&mask, a, sizeof(a));
		fprintf(stderr, "# worker %d allowed on %s\n", tids[i], a);
	}
}

/*
 * Poll for up to 3 s until every worker of this process may run on @cpu
 * (@in) or only inside @set (!@in).
 */
static bool workers_settle(int cpu, const cpu_set_t *set, bool in)
{
	double end = iowq_now() + 3;
	pid_t tids[MAXW];
	cpu_set_t mask;
	bool ok;
	int i, n;

	do {
		n = iowq_list_workers(0, tids, MAXW);
		ok = n > 0;
		for (i = 0; i < n && i < MAXW && ok; i++) {
			if (iowq_task_cpus(tids[i], &mask))
				ok = false;
			else if (in)
				ok = CPU_ISSET(cpu, &mask);
			else
				ok = cpus_subset(&mask, set);
		}
		if (ok)
			return true;
		iowq_sleep(0.05);
	} while (iowq_now() < end);
	print_workers();
	return false;
}

/* Move the calling process into the child cpuset; 0 or -errno. */
static int cpuset_enter(void)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_str(CG_DIR "/cgroup.procs", pid);
}

/*
 * In the child cpuset of every CPU, the io-wq is made while CPU 1 is
 * offline; once it is online again, a worker started from CPU 1 may run
 * there.  Returns an exit status (0 = good).
 */
static int cpu_comes_up_child(void)
{
	struct iowq_pipe p = { -1, -1 }, sink = { -1, -1 };
	static struct iowq_cq cq;
	struct io_uring ring;

	if (cpuset_enter() || iowq_pipes_open(&p, 1) ||
	    iowq_pipes_open(&sink, 1) || iowq_pin_cpu(0))
		return 10;
	if (iowq_cpu_set_online(HOTPLUG_CPU, 0))
		return 11;
	/* the task's io-wq is made with its first ring */
	if (io_uring_queue_init(8, &ring, 0) || iowq_touch(&ring))
		return 12;
	if (iowq_cpu_set_online(HOTPLUG_CPU, 1) || iowq_pin_cpu(HOTPLUG_CPU))
		return 13;
	iowq_prep_splice(&ring, p.r, sink.w, 1, 0, IOSQE_ASYNC);
	if (io_uring_submit(&ring) != 1 || iowq_wait_workers(0, 1, 1, 10) != 1)
		return 14;
	if (!workers_settle(HOTPLUG_CPU, NULL, true))
		return 15;
	if (write(p.w, "a", 1) != 1 || iowq_reap(&ring, &cq, 1, 10) != 1 ||
	    cq.res[0] != 1 || cq.bad)
		return 16;
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * In the child cpuset of every CPU, workers run from both CPUs; the
 * cpuset shrinks to CPU 0, CPU 1 goes offline and online again: every
 * worker stays inside the cpuset.  Returns an exit status (0 = good).
 */
static int cpuset_shrinks_child(void)
{
	struct iowq_pipe p[2] = { { -1, -1 }, { -1, -1 } }, sink = { -1, -1 };
	static struct iowq_cq cq;
	struct io_uring ring;
	cpu_set_t zero;
	int i;

	if (cpuset_enter() || iowq_pipes_open(p, 2) ||
	    iowq_pipes_open(&sink, 1) || io_uring_queue_init(8, &ring, 0))
		return 10;
	for (i = 0; i < 2; i++) {
		if (iowq_pin_cpu(i ? HOTPLUG_CPU : 0))
			return 11;
		iowq_prep_splice(&ring, p[i].r, sink.w, 1, i, IOSQE_ASYNC);
		if (io_uring_submit(&ring) != 1 ||
		    iowq_wait_workers(0, i + 1, i + 1, 10) != i + 1)
			return 12;
	}
	CPU_ZERO(&zero);
	CPU_SET(0, &zero);
	if (write_str(CG_DIR "/cpuset.cpus", "0"))
		return 13;
	if (iowq_cpu_set_online(HOTPLUG_CPU, 0) || iowq_cpu_set_online(HOTPLUG_CPU, 1))
		return 14;
	/* settled, and still so a little later */
	if (!workers_settle(0, &zero, false))
		return 15;
	iowq_sleep(0.3);
	if (!workers_settle(0, &zero, false))
		return 16;
	for (i = 0; i < 2; i++)
		if (write(p[i].w, "a", 1) != 1)
			return 17;
	if (iowq_reap(&ring, &cq, 2, 10) != 2 || cq.res[0] != 1 ||
	    cq.res[1] != 1 || cq.bad)
		return 18;
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * As above with the workers registered (IOWQ_AFF) on CPU 1 alone: once the
 * cpuset is CPU 0 alone, the registered mask has no CPU left in it, and the
 * workers run in the cpuset, also after CPU 1 went and came back (it is
 * online, in the registered mask, but not in the cpuset).  Returns an exit
 * status (0 = good).
 */
static int cpuset_leaves_registered_child(void)
{
	struct iowq_pipe p = { -1, -1 }, sink = { -1, -1 };
	static struct iowq_cq cq;
	struct io_uring ring;
	cpu_set_t one, zero;

	if (cpuset_enter() || iowq_pipes_open(&p, 1) ||
	    iowq_pipes_open(&sink, 1) || io_uring_queue_init(8, &ring, 0))
		return 10;
	CPU_ZERO(&one);
	CPU_SET(HOTPLUG_CPU, &one);
	if (io_uring_register_iowq_aff(&ring, sizeof(one), &one))
		return 11;
	iowq_prep_splice(&ring, p.r, sink.w, 1, 0, IOSQE_ASYNC);
	if (io_uring_submit(&ring) != 1 || iowq_wait_workers(0, 1, 1, 10) != 1 ||
	    !workers_settle(0, &one, false))
		return 12;
	CPU_ZERO(&zero);
	CPU_SET(0, &zero);
	if (write_str(CG_DIR "/cpuset.cpus", "0"))
		return 13;
	if (!workers_settle(0, &zero, false))
		return 14;
	if (iowq_cpu_set_online(HOTPLUG_CPU, 0) || iowq_cpu_set_online(HOTPLUG_CPU, 1))
		return 15;
	iowq_sleep(0.3);
	if (!workers_settle(0, &zero, false))
		return 16;
	if (write(p.w, "a", 1) != 1 || iowq_reap(&ring, &cq, 1, 10) != 1 ||
	    cq.res[0] != 1 || cq.bad)
		return 17;
	io_uring_queue_exit(&ring);
	return 0;
}

/* Run @fn in a child process in a fresh child cpuset, CPU 1 guarded. */
static void in_cpuset(struct __test_metadata *_metadata,
		      struct _test_data_aff *self, int (*fn)(void))
{
	const char *why;
	pid_t pid;
	int status;

	if (geteuid())
		SKIP(return, "needs root");
	if (nr_cpus() < 2 || !iowq_cpu_hotpluggable(HOTPLUG_CPU))
		SKIP(return, "CPU %d cannot be taken offline", HOTPLUG_CPU);
	why = cpuset_make();
	if (why) {
		cpuset_remove();
		SKIP(return, "%s", why);
	}
	start_guard(_metadata, self);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(fn());
	status = iowq_waitpid(pid, 60);
	iowq_cpu_set_online(HOTPLUG_CPU, 1);
	cpuset_remove();
	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* A CPU offline when the io-wq was made serves its node once it is up. */
TEST_F_TIMEOUT(aff, cpuset_cpu_comes_up, 90)
{
	in_cpuset(_metadata, self, cpu_comes_up_child);
}

/* Workers stay inside a cpuset that shrank, across CPU hotplug. */
TEST_F_TIMEOUT(aff, cpuset_shrinks, 90)
{
	in_cpuset(_metadata, self, cpuset_shrinks_child);
}

/* A cpuset that leaves the registered CPUs keeps the workers, across hotplug. */
TEST_F_TIMEOUT(aff, cpuset_leaves_registered_mask, 90)
{
	in_cpuset(_metadata, self, cpuset_leaves_registered_child);
}

TEST_HARNESS_MAIN
