// SPDX-License-Identifier: GPL-2.0
/*
 * iowq_stress: a seeded, time-bounded stress of io-wq.
 *
 *   iowq_stress [--seed N] [--seconds S] [--threads T] [--hang S]
 *               [--order task|node|auto] [--no-hotplug] [--no-fork]
 *               [--no-signals] [--live-bound S] [--live-scale F]
 *               [--no-liveness] [--dumps N] [--sysrq KEYS] [--verbose]
 *
 * Without arguments it makes a short run (20 s) with a seed taken from the
 * clock, which is what `make test` runs; `make stress` runs it for longer.
 * The seed is printed first: the same seed gives the same mix of
 * operations (the interleavings still depend on timing).
 *
 * What runs at the same time:
 *  - T "slot" threads, each a succession of short-lived threads (a new
 *    generation when one ends).  A thread creates one or two rings of its
 *    own, may also use a ring shared by all threads, and submits a random
 *    mix: IOSQE_ASYNC and inline NOPs, pipe reads that wait for data
 *    (armed poll), splices from empty pipes (block an unbound worker),
 *    async opens of FIFOs (block a bound worker), splices from empty pipes
 *    into a file (block a bound, hashed worker), IOSQE_ASYNC appends with
 *    a sequence number to a few shared files, linked chains of appends,
 *    writes to a scratch file, IORING_OP_ASYNC_CANCEL by user_data, by fd
 *    (with or without CANCEL_ALL) and CANCEL_ANY; it also changes
 *    IORING_REGISTER_IOWQ_MAX_WORKERS, IOWQ_AFF and its own CPU affinity.
 *    Blocked requests are released (pipe written, FIFO opened) after a
 *    random delay.  A thread ends after a random lifetime: with its work
 *    in flight (the main thread then reaps the CQEs of its rings, and a
 *    later generation may take a ring over), after closing a ring with
 *    work in flight, or after cancelling and reaping everything.
 *  - a thread sending SIGUSR1 (handler without SA_RESTART) to the slot
 *    threads at random intervals;
 *  - a thread forking children that submit work on a ring of their own
 *    and exit, exec /bin/true, get SIGKILLed, or end a thread with work
 *    in flight, while the parent's rings have work in flight;
 *  - a second process taking CPU 1 offline and online at random
 *    intervals (root only; CPU 1 is online again at the end);
 *  - a liveness thread (see live_main(); --no-liveness leaves it out)
 *    with two rings of its own, on which a few splices from empty pipes
 *    and reads of empty pipes linked after a write (and an fsync) block
 *    io-wq workers until the end of the run, while hashed writes to one
 *    file, more such chains (pipe fed soon) and async NOPs keep flowing.
 *
 * Invariants (each violation is printed with the seed; any fails the run):
 *  - every SQE gets exactly one CQE (user_data carries a slot and a
 *    sequence number), with a plausible result for its opcode; a cancel
 *    that returned 0 left its target with -ECANCELED (but for a pipe read
 *    that then completes with data: an upstream race in io_uring's poll
 *    code, counted apart, see poll_cancel_race());
 *  - pipe data arrives in order, none lost or duplicated;
 *  - appends of one thread to one file land in submission order (hashed
 *    work of one inode runs in order), a linked chain lands in order and
 *    is a prefix of its members, and exactly the appends that completed
 *    with success are in the files;
 *  - no request stays pending longer than --hang seconds after it could
 *    complete, no thread stops making progress for --hang seconds, every
 *    child process ends within --hang seconds;
 *  - the iou-wrk-<tid> workers of a thread are gone within --exit-bound
 *    seconds of its exit, and no worker is left at the end;
 *  - liveness: each flowing request of the liveness thread completes
 *    within --live-bound x --live-scale seconds (3 s; x10 on a kernel
 *    with KASAN, lockdep or kmemleak) of its submission, a blocked read or
 *    splice within that bound of the feeding of its pipe, even while
 *    other work of the same rings blocks for ever; the summary gives the
 *    maximum latency seen per kind.
 *
 * Ordering of appends across NUMA nodes: 6.1's own io-wq queues work on the
 * pool of the node the submitter runs on, so appends submitted from two
 * nodes may pass each other; our io-wq keeps all work of a hash key on
 * one node.  --order=task checks the order across nodes, --order=node only
 * among appends submitted from the same node; auto (the default) picks
 * task when the kernel log shows our io-wq's banner.
 *
 * Output: TAP (kselftest.h) with "# " progress lines every 10 s; exit
 * status KSFT_PASS or KSFT_FAIL.
 *
 * A broken time bound (a child, a thread or the hotplug process that does
 * not end, a request that does not complete) is explained by a dump on
 * "# DUMP " lines (dump_stuck()), taken before anything is killed: each
 * thread of the stuck process with its state, wchan and kernel stack, a
 * sysrq (w: blocked tasks; --sysrq) and the kernel log lines it made, the
 * last io_wq events of the stuck thread's io-wq if the events are enabled
 * (e.g. trace_event=io_wq:* on the kernel command line) and the IoWq:
 * lines of its rings' fdinfo.  A thread whose ring does not drain after
 * its cancel and releases dumps itself before it closes the ring.
 * At most --dumps (3) per run, a process at most once per 10 s.
 */
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "../kselftest.h"
#include "iowq_util.h"

#define MAX_SLOTS	16
#define MAX_RINGS	256
#define NFILES		3
#define RECLEN		64
#define NRECS		256
#define MAX_INFLIGHT	160
#define NRP		6	/* pipes for reads (armed poll) */
#define NSP		6	/* pipes for splices (unbound, blocking) */
#define NHP		2	/* pipes for splices into a file (bound, hashed) */
#define NFIFO		4	/* FIFOs for async opens (bound, blocking) */
#define MAXCHAIN	4
#define RECENT		512
#define MAX_DEAD	4096
#define HOTPLUG_CPU	1

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#ifndef ERESTARTSYS
#define ERESTARTSYS	512
#define ERESTARTNOINTR	513
#define ERESTARTNOHAND	514
#define ERESTART_RESTARTBLOCK 516
#endif

enum op {
	OP_NOP, OP_NOP_ASYNC, OP_READ, OP_SPLICE, OP_HSPLICE, OP_FIFO,
	OP_APPEND, OP_CHAIN, OP_WRITE, OP_CANCEL_UD, OP_CANCEL_FD,
	OP_CANCEL_ANY, OP_REGISTER, OP_NR
};

static const char * const op_name[OP_NR] = {
	"nop", "nop-async", "read", "splice", "splice-file", "fifo-open",
	"append", "chain", "write", "cancel-ud", "cancel-fd", "cancel-any",
	"register",
};

/* status of an ordered write */
enum { ST_PEND, ST_OK, ST_CANC, ST_INTR, ST_UNKNOWN };

/* ---- options, output, statistics -------------------------------------- */

static struct {
	uint64_t seed;
	double seconds;
	int threads;
	double hang;
	double exit_bound;
	int order;		/* 0 auto, 1 task, 2 node */
	double live_bound, live_scale;	/* scale 0: auto (debug kernel: 10) */
	bool hotplug, fork, signals, cancel_all, liveness, repro, verbose;
	int dumps;			/* dump_stuck() calls that dump */
	char sysrq[8];			/* keys written by dump_stuck() */
} opt = {
	.seconds = 20, .threads = 4, .hang = 60, .exit_bound = 20,
	.live_bound = 3, .dumps = 3, .sysrq = "w",
	.hotplug = true, .fork = true, .signals = true, .cancel_all = true,
	.liveness = true,
};

static bool order_strict;
static bool restart_ok;		/* env IOWQ_STRESS_RESTART_OK set */
static double t_start, t_end;
static atomic_int stop_flag;
static atomic_long nr_violations;
enum { V_CQE, V_ORDER, V_EXIT, V_HOTPLUG, V_LIVE, V_NR };
static atomic_long nr_vcat[V_NR];
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int cpu_node[CPU_SETSIZE];
static int nr_cpus_conf;
static bool hotplug_on;

static atomic_long st_sqe, st_cqe, st_discard, st_op[OP_NR];
static atomic_long st_threads, st_rings, st_exit_inflight, st_close_inflight;
static atomic_long st_signals, st_forks, st_children[4], st_cancel0;
static atomic_long st_reuse, st_aff_einval, st_poll_race;
static atomic_int sigs_caught;

static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

#define violation(...) violation_cat(V_CQE, __VA_ARGS__)

static void violation_cat(int cat, const char *fmt, ...)
{
	long n = atomic_fetch_add(&nr_vcat[cat], 1) + 1;
	va_list ap;

	atomic_fetch_add(&nr_violations, 1);
	if (n > 30)
		return;
	pthread_mutex_lock(&out_lock);
	printf("# VIOLATION (seed %llu, t=%.1fs): ", (unsigned long long)opt.seed,
	       iowq_now() - t_start);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (n == 30)
		printf("# (further violations of this kind are counted, not printed)\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* What a stuck process was doing, before it is killed: see below. */
static void dump_stuck(pid_t pid, pid_t focus, const char *fmt, ...);
static void dump_self_later(pid_t focus, const char *fmt, ...);

/* ---- PRNG: splitmix64, one stream per thread ---------------------------- */

struct prng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void prng_init(struct prng *p, uint64_t a, uint64_t b)
{
	uint64_t x = opt.seed;

	x = splitmix(&x) ^ (a * 0xff51afd7ed558ccdULL);
	x = splitmix(&x) ^ (b * 0xc4ceb9fe1a85ec53ULL);
	p->s = splitmix(&x);
}

static uint64_t rnd(struct prng *p)
{
	return splitmix(&p->s);
}

static uint32_t rnd_n(struct prng *p, uint32_t n)
{
	return n ? rnd(p) % n : 0;
}

static double rnd_f(struct prng *p)
{
	return (rnd(p) >> 11) / (double)(1ULL << 53);
}

static bool rnd_pct(struct prng *p, int pct)
{
	return (int)rnd_n(p, 100) < pct;
}

/* ---- ordered writes: what each thread wrote ---------------------------- */

struct chainst {
	uint8_t file, len;
	uint8_t st[MAXCHAIN];
};

struct tstate {
	pthread_mutex_t lock;
	int key, slot, gen;
	uint32_t nu[NFILES], capu[NFILES];
	uint8_t *ust[NFILES];
	int8_t *unode[NFILES];
	uint32_t nch, capch;
	struct chainst *ch;
};

#define MAX_TSTATES	65536
static struct tstate *tstates[MAX_TSTATES];
static atomic_int nr_tstates;

static struct tstate *tstate_new(int slot, int gen)
{
	int key = atomic_fetch_add(&nr_tstates, 1);
	struct tstate *ts;

	if (key >= MAX_TSTATES)
		return NULL;
	ts = calloc(1, sizeof(*ts));
	pthread_mutex_init(&ts->lock, NULL);
	ts->key = key;
	ts->slot = slot;
	ts->gen = gen;
	tstates[key] = ts;
	return ts;
}

static void *grow(void *p, uint32_t *cap, size_t size)
{
	uint32_t n = *cap ? *cap * 2 : 256;

	p = realloc(p, n * size);
	if (!p) {
		perror("realloc");
		exit(KSFT_FAIL);
	}
	memset((char *)p + *cap * size, 0, (n - *cap) * size);
	*cap = n;
	return p;
}

static uint32_t ts_new_append(struct tstate *ts, int f)
{
	uint32_t s;

	pthread_mutex_lock(&ts->lock);
	if (ts->nu[f] == ts->capu[f]) {
		uint32_t cap = ts->capu[f];

		ts->ust[f] = grow(ts->ust[f], &cap, 1);
		cap = ts->capu[f];
		ts->unode[f] = grow(ts->unode[f], &cap, 1);
		ts->capu[f] = cap;
	}
	s = ts->nu[f]++;
	ts->unode[f][s] = -1;
	pthread_mutex_unlock(&ts->lock);
	return s;
}

static uint32_t ts_new_chain(struct tstate *ts, int f, int len)
{
	uint32_t c;

	pthread_mutex_lock(&ts->lock);
	if (ts->nch == ts->capch)
		ts->ch = grow(ts->ch, &ts->capch, sizeof(*ts->ch));
	c = ts->nch++;
	ts->ch[c].file = f;
	ts->ch[c].len = len;
	pthread_mutex_unlock(&ts->lock);
	return c;
}

/* ---- rings -------------------------------------------------------------- */

struct rec {
	uint32_t seq;
	uint8_t type, busy, released, async, must_cancel, reported;
	uint8_t cidx, clen, file;
	int res_idx;			/* pipe or FIFO */
	int len;
	uint32_t wseq;			/* append seq, or chain number */
	uint32_t cflags;
	double t_sub, t_due, t_rel;
	struct tstate *ts;
	uint64_t target;
	char buf[RECLEN];
};

struct spipe {
	int r, w;
	int rec;			/* request using it, or -1 */
	uint64_t written, consumed;
	uint8_t key;
};

struct sring {
	int id;
	pthread_mutex_t lock;
	struct io_uring ring;
	bool shared;
	int owner;			/* slot, -1 none (the main thread services it) */
	int keep_for;			/* slot whose next generation takes it over */
	struct rec recs[NRECS];
	int freel[NRECS], nfree, inflight;
	uint32_t seq;
	struct spipe rp[NRP], sp[NSP], hp[NHP];
	int sink_r, sink_w;
	int fifo_rec[NFIFO];
	char fifo[NFIFO][40];
	int ffd[NFILES];
	int scratch_fd, hscratch_fd;
	struct { uint64_t ud; int res; uint8_t type; } recent[RECENT];
	int recent_pos;
	/* appends of the batch being submitted: node tags set after submit */
	struct { struct tstate *ts; uint8_t f; uint32_t s; } tag[64];
	int ntag;
};

static pthread_mutex_t rings_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sring *rings[MAX_RINGS];
static atomic_int ring_ids;
static struct sring *shared_ring;

static int node_of_cpu(int cpu)
{
	return cpu >= 0 && cpu < CPU_SETSIZE ? cpu_node[cpu] : -1;
}

static int open_pipe(struct spipe *p, uint8_t key)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	p->r = fds[0];
	p->w = fds[1];
	fcntl(p->w, F_SETFL, O_NONBLOCK);
	p->rec = -1;
	p->written = 0;
	p->consumed = 0;
	p->key = key;
	return 0;
}

static uint8_t pipe_byte(struct spipe *p, uint64_t pos)
{
	return (uint8_t)(pos * 131 + (pos >> 8) * 7 + p->key);
}

static struct sring *ring_new(bool shared, int owner)
{
	struct sring *r = calloc(1, sizeof(*r));
	char name[48];
	int i, ret, fds[2];

	if (!r)
		return NULL;
	r->id = atomic_fetch_add(&ring_ids, 1);
	ret = io_uring_queue_init(shared ? 256 : 128, &r->ring, 0);
	if (ret) {
		violation("io_uring_queue_init: %s", strerror(-ret));
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->shared = shared;
	r->owner = owner;
	r->keep_for = -1;
	for (i = 0; i < NRECS; i++)
		r->freel[i] = NRECS - 1 - i;
	r->nfree = NRECS;
	for (i = 0; i < NRP; i++)
		ret |= open_pipe(&r->rp[i], r->id * 16 + i);
	for (i = 0; i < NSP; i++)
		ret |= open_pipe(&r->sp[i], r->id * 16 + NRP + i);
	for (i = 0; i < NHP; i++)
		ret |= open_pipe(&r->hp[i], r->id * 16 + NRP + NSP + i);
	if (pipe2(fds, O_CLOEXEC))
		ret = -1;
	r->sink_r = fds[0];
	r->sink_w = fds[1];
	fcntl(r->sink_r, F_SETFL, O_NONBLOCK);
	for (i = 0; i < NFIFO; i++) {
		r->fifo_rec[i] = -1;
		snprintf(r->fifo[i], sizeof(r->fifo[i]), "fifo-%d-%d", r->id, i);
		unlink(r->fifo[i]);
		if (mkfifo(r->fifo[i], 0600))
			ret = -1;
	}
	for (i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "order-%d.dat", i);
		r->ffd[i] = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (r->ffd[i] < 0)
			ret = -1;
	}
	snprintf(name, sizeof(name), "scratch-%d.dat", r->id);
	r->scratch_fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	snprintf(name, sizeof(name), "hscratch-%d.dat", r->id);
	r->hscratch_fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (r->scratch_fd < 0 || r->hscratch_fd < 0)
		ret = -1;
	if (ret) {
		violation("ring %d: setting up pipes/FIFOs/files failed (errno %d)",
			  r->id, errno);
		exit(KSFT_FAIL);
	}
	pthread_mutex_lock(&rings_lock);
	for (i = 0; i < MAX_RINGS; i++) {
		if (!rings[i]) {
			rings[i] = r;
			break;
		}
	}
	pthread_mutex_unlock(&rings_lock);
	if (i == MAX_RINGS) {
		violation("too many rings");
		exit(KSFT_FAIL);
	}
	atomic_fetch_add(&st_rings, 1);
	return r;
}

static uint64_t rec_ud(struct sring *r, struct rec *rec)
{
	return ((uint64_t)rec->seq << 16) | (uint64_t)(rec - r->recs);
}

static struct rec *rec_alloc(struct sring *r, int type)
{
	struct rec *rec;

	if (!r->nfree)
		return NULL;
	rec = &r->recs[r->freel[--r->nfree]];
	memset(rec, 0, offsetof(struct rec, buf));
	rec->seq = ++r->seq;
	rec->type = type;
	rec->busy = 1;
	rec->res_idx = -1;
	rec->t_sub = iowq_now();
	r->inflight++;
	atomic_fetch_add(&st_sqe, 1);
	atomic_fetch_add(&st_op[type], 1);
	return rec;
}

static void rec_free(struct sring *r, struct rec *rec)
{
	rec->busy = 0;
	r->freel[r->nfree++] = rec - r->recs;
	r->inflight--;
}

static struct spipe *rec_pipe(struct sring *r, struct rec *rec)
{
	switch (rec->type) {
	case OP_READ:
		return &r->rp[rec->res_idx];
	case OP_SPLICE:
		return &r->sp[rec->res_idx];
	case OP_HSPLICE:
		return &r->hp[rec->res_idx];
	}
	return NULL;
}

static void ws_set(struct rec *rec, int res)
{
	struct tstate *ts = rec->ts;
	int st = res == RECLEN ? ST_OK : res == -ECANCELED ? ST_CANC :
		 res == -EINTR ? ST_INTR : ST_UNKNOWN;

	if (!ts)
		return;
	pthread_mutex_lock(&ts->lock);
	if (rec->type == OP_APPEND)
		ts->ust[rec->file][rec->wseq] = st;
	else
		ts->ch[rec->wseq].st[rec->cidx] = st;
	pthread_mutex_unlock(&ts->lock);
}

static bool is_cancelled(int res)
{
	return res == -ECANCELED || res == -EINTR;
}

/*
 * A pipe read whose poll had fired when a cancel found it: upstream 6.1's
 * io_apoll_task_func() checks the poll for cancellation, then takes
 * uring_lock (waiting if another thread of a shared ring holds it) and only
 * then unhashes the request.  A cancel in between finds it, marks it and
 * returns 0, and the read goes on and completes with its data.  That is
 * io_uring's poll code, not io-wq: count it, do not fail on it.  Any other
 * result, and any other opcode, is a violation.
 */
static bool poll_cancel_race(int type, int res)
{
	if (type != OP_READ || res <= 0)
		return false;
	atomic_fetch_add(&st_poll_race, 1);
	return true;
}

/* Check the result of a completed request; @rec is still busy. */
static void check_result(struct sring *r, struct rec *rec, int res)
{
	uint64_t ud = rec_ud(r, rec);
	struct spipe *p = rec_pipe(r, rec);
	const char *bad = NULL;
	int i;

	if (rec->must_cancel && res != -ECANCELED && !poll_cancel_race(rec->type, res))
		violation("ring %d: %s ud=%#llx res=%d after a cancel that returned 0",
			  r->id, op_name[rec->type], (unsigned long long)ud, res);
	switch (rec->type) {
	case OP_NOP:
		if (res != 0)
			bad = "want 0";
		break;
	case OP_NOP_ASYNC:
		if (res != 0 && res != -ECANCELED)
			bad = "want 0 or -ECANCELED";
		break;
	case OP_READ:
	case OP_SPLICE:
	case OP_HSPLICE:
		p->rec = -1;
		if (is_cancelled(res))
			break;
		if (res <= 0 || res > rec->len) {
			bad = "want 1..len or cancelled";
			break;
		}
		if (p->consumed + res > p->written) {
			violation_cat(V_CQE,
				      "ring %d: %s ud=%#llx got %d bytes, only %llu were in the pipe",
				      r->id, op_name[rec->type], (unsigned long long)ud, res,
				      (unsigned long long)(p->written - p->consumed));
		} else if (rec->type == OP_READ) {
			for (i = 0; i < res; i++)
				if ((uint8_t)rec->buf[i] != pipe_byte(p, p->consumed + i))
					break;
			if (i < res)
				violation_cat(V_CQE,
					      "ring %d: read ud=%#llx: byte %d of %d is not the next of the pipe's stream (pos %llu)",
					      r->id, (unsigned long long)ud, i, res,
					      (unsigned long long)(p->consumed + i));
		}
		p->consumed += res;
		break;
	case OP_FIFO:
		r->fifo_rec[rec->res_idx] = -1;
		if (res >= 0)
			close(res);
		else if (!is_cancelled(res))
			bad = "want an fd or cancelled";
		break;
	case OP_APPEND:
	case OP_CHAIN:
		if (res != RECLEN && !is_cancelled(res))
			bad = "want 64 or cancelled";
		ws_set(rec, res);
		break;
	case OP_WRITE:
		if (res != rec->len && !is_cancelled(res))
			bad = "want len or cancelled";
		break;
	case OP_CANCEL_UD:
		/* an IOSQE_ASYNC cancel is work that can itself be cancelled */
		if (rec->async && res == -ECANCELED)
			break;
		if (res != 0 && res != -ENOENT && res != -EALREADY)
			bad = "want 0, -ENOENT or -EALREADY";
		if (res == 0) {
			struct rec *t = &r->recs[rec->target & 0xffff];

			atomic_fetch_add(&st_cancel0, 1);
			if (t->busy && rec_ud(r, t) == rec->target) {
				t->must_cancel = 1;
				break;
			}
			for (i = 0; i < RECENT; i++) {
				if (r->recent[i].ud != rec->target)
					continue;
				if (r->recent[i].res != -ECANCELED &&
				    !poll_cancel_race(r->recent[i].type, r->recent[i].res))
					violation_cat(V_CQE,
						      "ring %d: cancel ud=%#llx returned 0 but its target %#llx completed with %d",
						      r->id, (unsigned long long)ud,
						      (unsigned long long)rec->target,
						      r->recent[i].res);
				break;
			}
		}
		break;
	case OP_CANCEL_FD:
	case OP_CANCEL_ANY:
		if (rec->async && res == -ECANCELED)
			break;
		if (rec->cflags & (IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY)) {
			if (res < 0)
				bad = "want a count >= 0";
		} else if (res != 0 && res != -ENOENT && res != -EALREADY) {
			bad = "want 0, -ENOENT or -EALREADY";
		}
		break;
	}
	if (res == -ERESTARTSYS || res == -ERESTARTNOINTR || res == -ERESTARTNOHAND ||
	    res == -ERESTART_RESTARTBLOCK)
		bad = "kernel-internal restart code leaked";
	if (bad)
		violation("ring %d: %s ud=%#llx (len %d) completed with %d (%s): %s",
			  r->id, op_name[rec->type], (unsigned long long)ud, rec->len, res,
			  res < 0 ? strerror(-res) : "ok", bad);
}

static void complete(struct sring *r, uint64_t ud, int res)
{
	uint32_t idx = ud & 0xffff;
	struct rec *rec;

	if (ud == LIBURING_UDATA_TIMEOUT)
		return;
	/* newer kernels let these out of io-wq; 6.1 must not (testing aid) */
	if (restart_ok && res <= -ERESTARTSYS && res >= -ERESTART_RESTARTBLOCK)
		res = -EINTR;
	rec = idx < NRECS ? &r->recs[idx] : NULL;
	if (!rec || !rec->busy || rec->seq != (uint32_t)(ud >> 16)) {
		violation_cat(V_CQE,
			      "ring %d: CQE for no pending request: ud=%#llx res=%d (duplicate or unknown)",
			      r->id, (unsigned long long)ud, res);
		return;
	}
	check_result(r, rec, res);
	r->recent[r->recent_pos].ud = ud;
	r->recent[r->recent_pos].res = res;
	r->recent[r->recent_pos].type = rec->type;
	r->recent_pos = (r->recent_pos + 1) % RECENT;
	rec_free(r, rec);
	atomic_fetch_add(&st_cqe, 1);
}

/* Reap what is there; wait up to @wait s for one CQE if none is.  */
static int ring_reap(struct sring *r, double wait)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&r->ring, head, cqe) {
		complete(r, cqe->user_data, cqe->res);
		n++;
	}
	io_uring_cq_advance(&r->ring, n);
	if (!n && wait > 0 && r->inflight) {
		int ret = iowq_wait_cqe(&r->ring, &cqe, wait);

		if (!ret) {
			complete(r, cqe->user_data, cqe->res);
			io_uring_cqe_seen(&r->ring, cqe);
			n++;
		} else if (ret != -ETIME && ret != -EINTR && ret != -EAGAIN) {
			violation("ring %d: waiting for a CQE: %s", r->id, strerror(-ret));
		}
	} else if (!n) {
		/* flush an overflowed CQ, if any */
		if (!io_uring_peek_cqe(&r->ring, &cqe)) {
			complete(r, cqe->user_data, cqe->res);
			io_uring_cqe_seen(&r->ring, cqe);
			n++;
		}
	}
	return n;
}

/* Submit all queued SQEs (signals and a busy CQ are retried). */
static void ring_submit(struct sring *r)
{
	double end = iowq_now() + opt.hang;
	int cpu0 = sched_getcpu(), cpu1, node, i;

	while (io_uring_sq_ready(&r->ring)) {
		int ret = io_uring_submit(&r->ring);

		if (ret >= 0)
			continue;
		if ((ret == -EINTR || ret == -EAGAIN || ret == -EBUSY) &&
		    iowq_now() < end) {
			ring_reap(r, 0.001);
			continue;
		}
		violation("ring %d: io_uring_submit: %s (%u SQEs left)", r->id,
			  strerror(-ret), io_uring_sq_ready(&r->ring));
		if (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY)
			dump_self_later(iowq_gettid(),
					"ring %d: io_uring_submit failed for %.0f s",
					r->id, opt.hang);
		break;
	}
	cpu1 = sched_getcpu();
	node = node_of_cpu(cpu0) == node_of_cpu(cpu1) ? node_of_cpu(cpu0) : -1;
	for (i = 0; i < r->ntag; i++) {
		struct tstate *ts = r->tag[i].ts;

		pthread_mutex_lock(&ts->lock);
		ts->unode[r->tag[i].f][r->tag[i].s] = node;
		pthread_mutex_unlock(&ts->lock);
	}
	r->ntag = 0;
}

static struct io_uring_sqe *ring_sqe(struct sring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe) {
		ring_submit(r);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

/* Release a blocked request: data into its pipe, or a writer for its FIFO. */
static void release(struct sring *r, struct rec *rec, double now)
{
	struct spipe *p = rec_pipe(r, rec);
	char buf[RECLEN];
	int i, n, fd;

	if (rec->released)
		return;
	if (!rec->t_rel)
		rec->t_rel = now;
	if (p) {
		for (i = 0; i < rec->len; i++)
			buf[i] = pipe_byte(p, p->written + i);
		n = write(p->w, buf, rec->len);
		if (n > 0) {
			p->written += n;
			rec->released = 1;
		}
	} else if (rec->type == OP_FIFO) {
		fd = open(r->fifo[rec->res_idx], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			rec->released = 1;
		} else if (errno != ENXIO && errno != EINTR) {
			violation("ring %d: opening FIFO %s for writing: %s", r->id,
				  r->fifo[rec->res_idx], strerror(errno));
			rec->released = 1;
		}
	} else {
		rec->released = 1;
	}
}

static bool blocking_type(int type)
{
	return type == OP_READ || type == OP_SPLICE || type == OP_HSPLICE ||
	       type == OP_FIFO;
}

/*
 * Release what is due (everything if @all), drain the sink pipe, reap.
 * Called with r->lock held.
 */
static int ring_service(struct sring *r, bool all, double wait)
{
	double now = iowq_now();
	char buf[4096];
	int i;

	while (read(r->sink_r, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < NRECS; i++) {
		struct rec *rec = &r->recs[i];

		if (rec->busy && !rec->released && blocking_type(rec->type) &&
		    (all || now >= rec->t_due))
			release(r, rec, now);
	}
	return ring_reap(r, wait);
}

/*
 * Report requests pending for longer than --hang since they could end;
 * true if it did (the caller dumps, once it holds no lock).
 */
static bool ring_hang_check(struct sring *r, double now)
{
	bool hung = false;
	int i;

	for (i = 0; i < NRECS; i++) {
		struct rec *rec = &r->recs[i];
		double since;

		if (!rec->busy || rec->reported)
			continue;
		if (!blocking_type(rec->type))
			since = rec->t_sub;
		else if (rec->t_rel)
			since = rec->t_rel;
		else
			since = rec->t_due;
		if (now - since > opt.hang) {
			rec->reported = 1;
			violation_cat(V_CQE,
				      "ring %d: %s ud=%#llx (async %d, released %d) pending for %.0f s (submitted %.0f s ago): lost CQE or hung worker",
				      r->id, op_name[rec->type],
				      (unsigned long long)rec_ud(r, rec), rec->async,
				      rec->released, now - since, now - rec->t_sub);
			hung = true;
		}
	}
	return hung;
}

static void drain_check(struct sring *r, struct spipe *p, const char *what)
{
	char buf[4096];
	uint64_t left = 0;
	int n;

	fcntl(p->r, F_SETFL, O_NONBLOCK);
	while ((n = read(p->r, buf, sizeof(buf))) > 0)
		left += n;
	if (left != p->written - p->consumed)
		violation_cat(V_CQE,
			      "ring %d: %s pipe: %llu bytes written, %llu consumed by requests, but %llu left in it",
			      r->id, what, (unsigned long long)p->written,
			      (unsigned long long)p->consumed, (unsigned long long)left);
}

/*
 * Close ring @r.  Without work in flight its pipes are checked and no CQE
 * may come any more; with work in flight (closing with pending requests is
 * one of the things tested) the results of the pending requests are
 * unknown.  The caller must be the only user of @r.
 */
static void ring_close(struct sring *r)
{
	struct io_uring_cqe *cqe;
	int i;

	pthread_mutex_lock(&rings_lock);
	for (i = 0; i < MAX_RINGS; i++)
		if (rings[i] == r)
			rings[i] = NULL;
	pthread_mutex_unlock(&rings_lock);
	/* whoever still looked at it (trylock under rings_lock) is done */
	pthread_mutex_lock(&r->lock);
	pthread_mutex_unlock(&r->lock);

	if (r->inflight) {
		for (i = 0; i < NRECS; i++) {
			struct rec *rec = &r->recs[i];

			if (!rec->busy)
				continue;
			if (rec->type == OP_APPEND || rec->type == OP_CHAIN)
				ws_set(rec, 1);	/* ST_UNKNOWN */
			atomic_fetch_add(&st_discard, 1);
		}
	} else {
		if (!iowq_wait_cqe(&r->ring, &cqe, 0.02))
			violation("ring %d: CQE ud=%#llx res=%d after all requests completed",
				  r->id, (unsigned long long)cqe->user_data, cqe->res);
		for (i = 0; i < NRP; i++)
			drain_check(r, &r->rp[i], "read");
		for (i = 0; i < NSP; i++)
			drain_check(r, &r->sp[i], "splice");
		for (i = 0; i < NHP; i++)
			drain_check(r, &r->hp[i], "file-splice");
	}
	io_uring_queue_exit(&r->ring);
	for (i = 0; i < NRP; i++) {
		close(r->rp[i].r);
		close(r->rp[i].w);
	}
	for (i = 0; i < NSP; i++) {
		close(r->sp[i].r);
		close(r->sp[i].w);
	}
	for (i = 0; i < NHP; i++) {
		close(r->hp[i].r);
		close(r->hp[i].w);
	}
	close(r->sink_r);
	close(r->sink_w);
	for (i = 0; i < NFIFO; i++)
		unlink(r->fifo[i]);
	for (i = 0; i < NFILES; i++)
		close(r->ffd[i]);
	close(r->scratch_fd);
	close(r->hscratch_fd);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- operations --------------------------------------------------------- */

static int find_idle_pipe(struct prng *p, struct spipe *pp, int n)
{
	int i, s = rnd_n(p, n);

	for (i = 0; i < n; i++)
		if (pp[(s + i) % n].rec < 0)
			return (s + i) % n;
	return -1;
}

static void fill_append(struct rec *rec, char kind)
{
	int n;

	if (kind == 'U')
		n = snprintf(rec->buf, RECLEN, "U t=%d s=%u", rec->ts->key, rec->wseq);
	else
		n = snprintf(rec->buf, RECLEN, "C t=%d c=%u i=%u", rec->ts->key,
			     rec->wseq, rec->cidx);
	memset(rec->buf + n, '.', RECLEN - 1 - n);
	rec->buf[RECLEN - 1] = '\n';
}

/* Queue one request of type @type on @r (r->lock held); false if none. */
static bool prep_op(struct sring *r, struct prng *p, struct tstate *ts, int type)
{
	struct io_uring_sqe *sqe;
	struct rec *rec;
	int i, k, f, len;
	double due = iowq_now() + rnd_f(p) * (rnd_pct(p, 10) ? 1.0 : 0.2);

	/* a drain's cancel always fits: see ring_drain() */
	if (r->inflight >= MAX_INFLIGHT - (type == OP_CANCEL_ANY ? 0 : MAXCHAIN))
		return false;
	switch (type) {
	case OP_READ:
	case OP_SPLICE:
	case OP_HSPLICE: {
		struct spipe *pp = type == OP_READ ? r->rp : type == OP_SPLICE ? r->sp : r->hp;
		int np = type == OP_READ ? NRP : type == OP_SPLICE ? NSP : NHP;

		k = find_idle_pipe(p, pp, np);
		if (k < 0)
			return false;
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type);
		rec->res_idx = k;
		rec->len = 1 + rnd_n(p, RECLEN);
		rec->t_due = due;
		rec->async = type != OP_SPLICE || rnd_pct(p, 70);
		pp[k].rec = rec - r->recs;
		if (type == OP_READ)
			io_uring_prep_read(sqe, pp[k].r, rec->buf, rec->len, 0);
		else
			io_uring_prep_splice(sqe, pp[k].r, -1,
					     type == OP_SPLICE ? r->sink_w : r->hscratch_fd,
					     -1, rec->len, 0);
		break;
	}
	case OP_FIFO:
		for (i = 0, k = rnd_n(p, NFIFO); i < NFIFO; i++, k = (k + 1) % NFIFO)
			if (r->fifo_rec[k] < 0)
				break;
		if (i == NFIFO)
			return false;
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type);
		rec->res_idx = k;
		rec->t_due = due;
		rec->async = 1;
		r->fifo_rec[k] = rec - r->recs;
		io_uring_prep_openat(sqe, AT_FDCWD, r->fifo[k], O_RDONLY | O_CLOEXEC, 0);
		break;
	case OP_APPEND:
		if (!ts || r->ntag >= (int)ARRAY_SIZE(r->tag))
			return false;
		f = rnd_n(p, NFILES);
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type);
		rec->ts = ts;
		rec->file = f;
		rec->wseq = ts_new_append(ts, f);
		rec->len = RECLEN;
		rec->async = 1;
		fill_append(rec, 'U');
		r->tag[r->ntag].ts = ts;
		r->tag[r->ntag].f = f;
		r->tag[r->ntag].s = rec->wseq;
		r->ntag++;
		io_uring_prep_write(sqe, r->ffd[f], rec->buf, RECLEN, 0);
		break;
	case OP_CHAIN: {
		uint32_t c;

		if (!ts)
			return false;
		len = 2 + rnd_n(p, MAXCHAIN - 1);
		f = rnd_n(p, NFILES);
		/* a chain split between two submissions would be two chains */
		if (io_uring_sq_space_left(&r->ring) < (unsigned int)len)
			ring_submit(r);
		if (io_uring_sq_space_left(&r->ring) < (unsigned int)len)
			return false;
		c = ts_new_chain(ts, f, len);
		for (i = 0; i < len; i++) {
			sqe = io_uring_get_sqe(&r->ring);
			rec = rec_alloc(r, type);
			rec->ts = ts;
			rec->file = f;
			rec->wseq = c;
			rec->cidx = i;
			rec->clen = len;
			rec->len = RECLEN;
			rec->async = !i || rnd_pct(p, 50);
			fill_append(rec, 'C');
			io_uring_prep_write(sqe, r->ffd[f], rec->buf, RECLEN, 0);
			sqe->user_data = rec_ud(r, rec);
			sqe->flags |= rec->async ? IOSQE_ASYNC : 0;
			if (i < len - 1)
				sqe->flags |= IOSQE_IO_LINK;
		}
		return true;
	}
	case OP_WRITE:
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type);
		rec->len = 1 + rnd_n(p, RECLEN);
		rec->async = rnd_pct(p, 50);
		memset(rec->buf, 'w', rec->len);
		io_uring_prep_write(sqe, r->scratch_fd, rec->buf, rec->len,
				    (uint64_t)rnd_n(p, 256) * 4096 + rnd_n(p, 4096));
		break;
	case OP_CANCEL_UD: {
		struct rec *t = NULL;

		for (i = 0, k = rnd_n(p, NRECS); i < NRECS; i++, k = (k + 1) % NRECS) {
			if (r->recs[k].busy && r->recs[k].type != OP_CANCEL_UD &&
			    r->recs[k].type != OP_CANCEL_FD &&
			    r->recs[k].type != OP_CANCEL_ANY) {
				t = &r->recs[k];
				break;
			}
		}
		if (!t)
			return false;
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type);
		rec->target = rec_ud(r, t);
		rec->async = rnd_pct(p, 30);
		io_uring_prep_cancel64(sqe, rec->target, 0);
		break;
	}
	case OP_CANCEL_FD: {
		int fd;

		switch (rnd_n(p, 4)) {
		case 0:
			fd = r->rp[rnd_n(p, NRP)].r;
			break;
		case 1:
			fd = r->ffd[rnd_n(p, NFILES)];
			break;
		case 2:
			fd = r->sink_w;
			break;
		default:
			fd = r->hscratch_fd;
			break;
		}
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type);
		rec->cflags = rnd_pct(p, 50) && opt.cancel_all ?
			      IORING_ASYNC_CANCEL_ALL : 0;
		rec->async = rnd_pct(p, 30);
		io_uring_prep_cancel_fd(sqe, fd, rec->cflags);
		break;
	}
	case OP_CANCEL_ANY:
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type);
		rec->cflags = IORING_ASYNC_CANCEL_ANY;
		rec->async = rnd_pct(p, 30);
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		break;
	case OP_NOP_ASYNC:
	default:
		sqe = ring_sqe(r);
		if (!sqe)
			return false;
		rec = rec_alloc(r, type == OP_NOP_ASYNC ? OP_NOP_ASYNC : OP_NOP);
		rec->async = rec->type == OP_NOP_ASYNC;
		io_uring_prep_nop(sqe);
		break;
	}
	sqe->user_data = rec_ud(r, rec);
	if (rec->async)
		sqe->flags |= IOSQE_ASYNC;
	return true;
}

/* Registration calls of the io-wq of the calling task through @r. */
static void do_register(struct sring *r, struct prng *p)
{
	cpu_set_t mask;
	unsigned int vals[2];
	int ret, which = rnd_n(p, 3);

	atomic_fetch_add(&st_op[OP_REGISTER], 1);
	if (which == 0) {
		/* 0 keeps a limit as it is; small limits make work queue */
		vals[0] = rnd_pct(p, 20) ? 0 : 1 + rnd_n(p, 8);
		vals[1] = rnd_pct(p, 20) ? 0 : 1 + rnd_n(p, 16);
		ret = io_uring_register_iowq_max_workers(&r->ring, vals);
		if (ret)
			violation("ring %d: IORING_REGISTER_IOWQ_MAX_WORKERS: %d", r->id, ret);
	} else if (which == 1 && nr_cpus_conf > 1) {
		int m = rnd_n(p, 3);

		CPU_ZERO(&mask);
		if (m != 1)
			CPU_SET(0, &mask);
		if (m != 0)
			CPU_SET(HOTPLUG_CPU, &mask);
		ret = io_uring_register_iowq_aff(&r->ring, sizeof(mask), &mask);
		if (ret == -EINVAL && CPU_ISSET(HOTPLUG_CPU, &mask) && hotplug_on)
			atomic_fetch_add(&st_aff_einval, 1);
		else if (ret)
			violation("ring %d: IORING_REGISTER_IOWQ_AFF (mask %d): %d",
				  r->id, m, ret);
	} else {
		ret = io_uring_unregister_iowq_aff(&r->ring);
		if (ret)
			violation("ring %d: IORING_UNREGISTER_IOWQ_AFF: %d", r->id, ret);
	}
}

/* ---- slot threads ------------------------------------------------------- */

/*
 * A time written by one thread and read by another: <stdatomic.h> has no
 * atomic double, the __atomic builtins take one.
 */
static double time_load(double *t)
{
	double v;

	__atomic_load(t, &v, __ATOMIC_SEQ_CST);
	return v;
}

static void time_store(double *t, double v)
{
	__atomic_store(t, &v, __ATOMIC_SEQ_CST);
}

struct slot {
	int idx, gen;
	pthread_t th;
	atomic_int running;
	atomic_int tid;
	double heartbeat;		/* time_load(), time_store() */
	bool started, hb_reported;
	struct sring *keep;		/* taken over by the next generation */
};

static struct slot slots[MAX_SLOTS];

static void heartbeat(struct slot *s)
{
	time_store(&s->heartbeat, iowq_now());
}

/* Cancel everything on @r and reap it all (r->lock not held). */
/* Say which requests of @r are in flight, and since when.  r->lock held. */
static void ring_say_inflight(struct sring *r)
{
	double now = iowq_now();
	int i;

	for (i = 0; i < NRECS; i++) {
		struct rec *rec = &r->recs[i];

		if (!rec->busy)
			continue;
		say("# DUMP ring %d: %s%s ud=%#llx in flight %.1f s%s, %s%.1f s ago\n",
		    r->id, op_name[rec->type], rec->async ? " (async)" : "",
		    (unsigned long long)rec_ud(r, rec), now - rec->t_sub,
		    rec->must_cancel ? ", cancelled" : "",
		    rec->released ? "released " : "not released (tried) ",
		    rec->t_rel ? now - rec->t_rel : -1.0);
	}
}

static bool ring_drain(struct sring *r, struct prng *p, struct slot *s)
{
	double end = iowq_now() + opt.hang;
	bool cancelled = false;
	int inflight;

	pthread_mutex_lock(&r->lock);
	if (r->inflight && opt.cancel_all && prep_op(r, p, NULL, OP_CANCEL_ANY)) {
		ring_submit(r);
		cancelled = true;
	}
	/*
	 * The cancel is needed: releases do not end everything.  A FIFO open
	 * still queued cannot be released (no reader yet), and it may wait
	 * for ever behind bound workers of the same io-wq blocked in requests
	 * of other rings, which are released when those rings are drained.
	 */
	while (r->inflight && iowq_now() < end) {
		if (s)
			heartbeat(s);
		ring_service(r, true, 0.05);
	}
	inflight = r->inflight;
	if (inflight) {
		say("# DUMP ring %d: %s\n", r->id, cancelled ?
		    "a cancel of every request was submitted" :
		    "no cancel submitted (cancel-all off, or too much in flight)");
		ring_say_inflight(r);
	}
	pthread_mutex_unlock(&r->lock);
	/*
	 * Dump now, while the requests are still where they are stuck: the
	 * caller closes the ring next, which cancels them.
	 */
	if (inflight)
		dump_stuck(getpid(), iowq_gettid(),
			   "ring %d: %d request(s) in flight %.0f s after its cancel and releases",
			   r->id, inflight, opt.hang);
	return !inflight;
}

static void pick_weights(struct prng *p, int *w)
{
	static const int base[OP_NR] = {
		[OP_NOP] = 6, [OP_NOP_ASYNC] = 10, [OP_READ] = 6, [OP_SPLICE] = 5,
		[OP_HSPLICE] = 1, [OP_FIFO] = 2, [OP_APPEND] = 8, [OP_CHAIN] = 2,
		[OP_WRITE] = 4, [OP_CANCEL_UD] = 3, [OP_CANCEL_FD] = 1,
		[OP_CANCEL_ANY] = 0, [OP_REGISTER] = 0,
	};
	int i;

	/* each generation has its own mix: some types x0..x3 */
	for (i = 0; i < OP_NR; i++)
		w[i] = base[i] * (int)rnd_n(p, 4) + (base[i] ? 1 : 0);
	w[OP_CANCEL_ANY] = rnd_pct(p, 30) && opt.cancel_all;
}

static int pick_op(struct prng *p, const int *w)
{
	int i, sum = 0, x;

	for (i = 0; i < OP_NR; i++)
		sum += w[i];
	x = rnd_n(p, sum);
	for (i = 0; i < OP_NR; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return OP_NOP;
}

static void set_affinity(struct prng *p)
{
	cpu_set_t set;
	int m = rnd_n(p, 3);

	if (nr_cpus_conf < 2)
		return;
	CPU_ZERO(&set);
	if (m != 1)
		CPU_SET(0, &set);
	if (m != 0)
		CPU_SET(HOTPLUG_CPU, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* EINVAL if offline */
}

static void *slot_main(void *arg)
{
	struct slot *s = arg;
	struct sring *own[2] = { NULL, NULL }, *r;
	struct tstate *ts;
	struct prng p;
	int w[OP_NR], nown = 0, i, mode;
	double end, now;

	prng_init(&p, 1000 + s->idx, s->gen);
	atomic_store(&s->tid, iowq_gettid());
	heartbeat(s);
	ts = tstate_new(s->idx, s->gen);
	pick_weights(&p, w);
	end = iowq_now() + 0.3 + rnd_f(&p) * 4;
	if (end > t_end)
		end = t_end;

	if (s->keep) {
		own[nown++] = s->keep;
		pthread_mutex_lock(&s->keep->lock);
		s->keep->owner = s->idx;
		s->keep->keep_for = -1;
		pthread_mutex_unlock(&s->keep->lock);
		s->keep = NULL;
		atomic_fetch_add(&st_reuse, 1);
	} else {
		own[nown] = ring_new(false, s->idx);
		if (own[nown])
			nown++;
	}
	if (rnd_pct(&p, 40)) {
		own[nown] = ring_new(false, s->idx);
		if (own[nown])
			nown++;
	}
	if (!nown)
		goto out;
	if (rnd_pct(&p, 50))
		set_affinity(&p);
	/* the io-wq of this thread exists from its first submission on */
	pthread_mutex_lock(&own[0]->lock);
	prep_op(own[0], &p, ts, OP_NOP_ASYNC);
	ring_submit(own[0]);
	pthread_mutex_unlock(&own[0]->lock);

	while (!atomic_load(&stop_flag) && (now = iowq_now()) < end) {
		bool use_shared = shared_ring && rnd_pct(&p, 25);
		int n = 1 + rnd_n(&p, 8);

		heartbeat(s);
		r = use_shared ? shared_ring : own[rnd_n(&p, nown)];
		pthread_mutex_lock(&r->lock);
		for (i = 0; i < n; i++)
			prep_op(r, &p, ts, pick_op(&p, w));
		ring_submit(r);
		if (rnd_pct(&p, 3))
			do_register(r, &p);
		ring_service(r, false, rnd_pct(&p, 50) ? 0.005 : 0);
		pthread_mutex_unlock(&r->lock);
		if (rnd_pct(&p, 2))
			set_affinity(&p);
		if (rnd_pct(&p, 5))
			iowq_sleep(rnd_f(&p) * 0.003);
	}

	/* how to end: the drawing happens even at the stop, for determinism */
	mode = rnd_n(&p, 10);
	if (mode < 4) {
		/* exit with the work in flight: the main thread reaps it */
		atomic_fetch_add(&st_exit_inflight, 1);
	} else if (mode < 6) {
		/* close a ring with work in flight, leave the other */
		atomic_fetch_add(&st_close_inflight, 1);
		r = own[--nown];
		ring_close(r);
	} else {
		/* cancel and reap everything, close the rings */
		for (i = 0; i < nown; i++) {
			if (!ring_drain(own[i], &p, s))
				continue;	/* the hang check will tell */
			if (i == 0 && rnd_pct(&p, 30))
				continue;	/* kept for the next generation */
			ring_close(own[i]);
			own[i] = NULL;
		}
	}
	for (i = 0; i < nown; i++) {
		if (!own[i])
			continue;
		pthread_mutex_lock(&own[i]->lock);
		own[i]->owner = -1;
		if (!s->keep && !atomic_load(&stop_flag) && rnd_pct(&p, 50)) {
			own[i]->keep_for = s->idx;
			s->keep = own[i];
		}
		pthread_mutex_unlock(&own[i]->lock);
	}
out:
	atomic_store(&s->running, 0);
	return NULL;
}

/* ---- dead threads and their workers ------------------------------------- */

static struct {
	pid_t tid;
	double deadline;
	bool done;
} dead[MAX_DEAD];
static int nr_dead;

static void add_dead(pid_t tid)
{
	int i;

	for (i = 0; i < nr_dead; i++)
		if (dead[i].done)
			break;
	if (i == nr_dead) {
		if (nr_dead == MAX_DEAD)
			return;
		nr_dead++;
	}
	dead[i].tid = tid;
	dead[i].deadline = iowq_now() + opt.exit_bound;
	dead[i].done = false;
}

static bool tid_is_live_submitter(pid_t tid)
{
	int i;

	for (i = 0; i < opt.threads; i++)
		if (atomic_load(&slots[i].running) && atomic_load(&slots[i].tid) == tid)
			return true;
	return false;
}

/*
 * Scan the workers; returns how many dead tids still have some.  Called
 * by the main thread only (it dumps a late one's workers).
 */
static int check_dead(double now, int *nr_workers)
{
	pid_t owners[4096];
	int n = 0, i, k, left = 0;
	char comm[64];
	struct dirent *de;
	DIR *dir = opendir("/proc/self/task");

	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < 4096) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0 || iowq_task_comm(tid, comm, sizeof(comm)))
			continue;
		if (!strncmp(comm, "iou-wrk-", 8))
			owners[n++] = atoi(comm + 8);
	}
	closedir(dir);
	if (nr_workers)
		*nr_workers = n;
	for (i = 0; i < nr_dead; i++) {
		int cnt = 0;

		if (dead[i].done)
			continue;
		for (k = 0; k < n; k++)
			cnt += owners[k] == dead[i].tid;
		if (!cnt || tid_is_live_submitter(dead[i].tid)) {
			dead[i].done = true;
			continue;
		}
		left++;
		if (now > dead[i].deadline) {
			violation_cat(V_EXIT,
				      "%d iou-wrk-%d worker(s) still there %.0f s after thread %d exited",
				      cnt, dead[i].tid, opt.exit_bound, dead[i].tid);
			dead[i].done = true;
			dump_stuck(getpid(), dead[i].tid,
				   "iou-wrk-%d still there after its thread exited",
				   dead[i].tid);
		}
	}
	return left;
}

/* ---- liveness: work that can progress completes in bounded time --------- */

/*
 * One thread of its own, for the whole run, with two rings (both use the
 * thread's io-wq and its hash map).  On them, some requests block io-wq
 * workers until the end of the run: splices from empty pipes (IOSQE_ASYNC,
 * unbound) and the last member of linked chains "write (IOSQE_ASYNC) ->
 * [fsync] -> read of an empty pipe" (the read is not IOSQE_ASYNC, so it
 * blocks inside the worker that ran the write).  Meanwhile hashed writes
 * to one file (IOSQE_ASYNC), more such chains whose pipe is fed after a
 * short delay, and IOSQE_ASYNC NOPs keep flowing, each held to a latency
 * bound: submission to CQE, or for the linked read and the splices, the
 * feeding of their pipe to CQE.  Catches a hash key held while linked
 * unhashed work runs (writes to the file stall behind a read that is fed
 * only at the end), and queued work waiting for a worker creation while
 * an idle worker sleeps (the thread gets SIGUSR1 too, which delays
 * creations).  The thread raises its bound worker limit, so that the
 * workers blocked for ever leave room for the flowing work.
 */
enum { LK_WRITE, LK_CWRITE, LK_FSYNC, LK_READ, LK_NOP, LK_SPLICE, LK_NR };
static const char * const lk_name[LK_NR] = {
	"write", "chain-write", "fsync", "chain-read", "nop", "splice",
};

#define LV_RINGS	2
#define LV_RECS		256
#define LV_PIPES	24
#define LV_HELD_READS	3	/* chain reads blocked until the end, per ring */
#define LV_HELD_SPLICES	3	/* splices blocked until the end, per ring */
#define LV_FLOW		48	/* flowing requests in flight per ring, at most */
#define LV_SLOTS	64	/* the writes go to this many records of the file */
#define LV_BOUND_MAX	64	/* bound worker limit of the thread's io-wq */

struct lrec {
	uint32_t seq;
	uint8_t busy, kind, held, released, reported;
	int pipe, len;
	double t_sub, t_due, t_rel;
	char buf[RECLEN];
};

struct lring {
	int id;
	struct io_uring ring;
	struct lrec recs[LV_RECS];
	int freel[LV_RECS], nfree, inflight, nheld_r, nheld_s;
	int nwrites;			/* writes (alone or heading a chain) in flight */
	uint32_t held_cw;		/* seq of the write heading a held chain, 0 none */
	uint32_t seq;
	int fd;				/* the shared file, opened for this ring */
	struct spipe pipes[LV_PIPES];
	int sink_r, sink_w;
};

static struct {
	pthread_t th;
	bool started;
	atomic_int tid;
	double heartbeat;		/* time_load(), time_store() */
	bool hb_reported;
	double bound;
	char file[32];
	/* written by the thread, read by main after the join */
	double max_lat[LK_NR];
	long n[LK_NR], ncanc[LK_NR], held_reads, held_splices, chains;
} live;

static struct lring *lring_new(int id)
{
	struct lring *r = calloc(1, sizeof(*r));
	int i, ret, fds[2];

	if (!r)
		return NULL;
	r->id = id;
	ret = io_uring_queue_init(128, &r->ring, 0);
	if (ret) {
		violation_cat(V_LIVE, "liveness ring %d: io_uring_queue_init: %s", id,
			      strerror(-ret));
		free(r);
		return NULL;
	}
	for (i = 0; i < LV_RECS; i++)
		r->freel[i] = LV_RECS - 1 - i;
	r->nfree = LV_RECS;
	for (i = 0; i < LV_PIPES; i++)
		ret |= open_pipe(&r->pipes[i], 200 + id * LV_PIPES + i);
	if (pipe2(fds, O_CLOEXEC))
		ret = -1;
	r->sink_r = fds[0];
	r->sink_w = fds[1];
	fcntl(r->sink_r, F_SETFL, O_NONBLOCK);
	r->fd = open(live.file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (ret || r->fd < 0) {
		violation_cat(V_LIVE, "liveness ring %d: setting up pipes/file failed (errno %d)",
			      id, errno);
		exit(KSFT_FAIL);
	}
	return r;
}

static void lring_close(struct lring *r)
{
	int i;

	io_uring_queue_exit(&r->ring);
	for (i = 0; i < LV_PIPES; i++) {
		close(r->pipes[i].r);
		close(r->pipes[i].w);
	}
	close(r->sink_r);
	close(r->sink_w);
	close(r->fd);
	free(r);
}

static struct lrec *lrec_alloc(struct lring *r, int kind, double now)
{
	struct lrec *rec;

	if (!r->nfree)
		return NULL;
	rec = &r->recs[r->freel[--r->nfree]];
	memset(rec, 0, offsetof(struct lrec, buf));
	rec->seq = ++r->seq;
	rec->kind = kind;
	rec->busy = 1;
	rec->pipe = -1;
	rec->t_sub = now;
	r->inflight++;
	if (kind == LK_WRITE || kind == LK_CWRITE)
		r->nwrites++;
	return rec;
}

static uint64_t lrec_ud(struct lring *r, struct lrec *rec)
{
	return ((uint64_t)rec->seq << 16) | (uint64_t)(rec - r->recs);
}

/* The time from which @rec must complete within the bound; 0: not yet. */
static double lrec_since(struct lrec *rec)
{
	if (rec->kind == LK_READ || rec->kind == LK_SPLICE)
		return rec->released ? rec->t_rel : 0;
	return rec->t_sub;
}

static void lrec_release(struct lring *r, struct lrec *rec, double now)
{
	struct spipe *p = &r->pipes[rec->pipe];
	char buf[RECLEN];
	int i, n;

	for (i = 0; i < rec->len; i++)
		buf[i] = pipe_byte(p, p->written + i);
	n = write(p->w, buf, rec->len);
	if (n == rec->len) {
		p->written += n;
		rec->released = 1;
		rec->t_rel = now;
	} else {
		violation_cat(V_LIVE, "liveness ring %d: feeding a pipe: %d (%s)", r->id, n,
			      n < 0 ? strerror(errno) : "short");
	}
}

static void lrec_prep_write(struct lring *r, struct io_uring_sqe *sqe,
			    struct lrec *rec, struct prng *p)
{
	int n = snprintf(rec->buf, RECLEN, "L r=%d s=%u", r->id, rec->seq);

	memset(rec->buf + n, '.', RECLEN - 1 - n);
	rec->buf[RECLEN - 1] = '\n';
	io_uring_prep_write(sqe, r->fd, rec->buf, RECLEN,
			    (uint64_t)rnd_n(p, LV_SLOTS) * RECLEN);
	sqe->flags |= IOSQE_ASYNC;
}

/*
 * Queue one flowing or blocking item on @r; false if there is no room.
 * LK_READ makes a chain write -> [fsync] -> read, blocked until the end
 * if @held.
 */
static bool live_prep(struct lring *r, struct prng *p, int what, double now,
		      bool held)
{
	struct io_uring_sqe *sqe;
	struct lrec *rec;
	bool fsync;
	int k, len, i;

	switch (what) {
	case LK_WRITE:
	case LK_NOP:
		sqe = io_uring_get_sqe(&r->ring);
		if (!sqe)
			return false;
		rec = lrec_alloc(r, what, now);
		if (what == LK_WRITE) {
			lrec_prep_write(r, sqe, rec, p);
		} else {
			io_uring_prep_nop(sqe);
			sqe->flags |= IOSQE_ASYNC;
		}
		sqe->user_data = lrec_ud(r, rec);
		return true;
	case LK_SPLICE:
		k = find_idle_pipe(p, r->pipes, LV_PIPES);
		if (k < 0 || r->nheld_s >= LV_HELD_SPLICES)
			return false;
		sqe = io_uring_get_sqe(&r->ring);
		if (!sqe)
			return false;
		rec = lrec_alloc(r, what, now);
		rec->pipe = k;
		rec->held = 1;
		rec->len = 1 + rnd_n(p, RECLEN);
		r->pipes[k].rec = rec - r->recs;
		io_uring_prep_splice(sqe, r->pipes[k].r, -1, r->sink_w, -1, rec->len, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = lrec_ud(r, rec);
		r->nheld_s++;
		live.held_splices++;
		return true;
	default:	/* a chain: write -> [fsync] -> read */
		fsync = rnd_pct(p, 50);
		len = fsync ? 3 : 2;
		k = find_idle_pipe(p, r->pipes, LV_PIPES);
		if (k < 0 || io_uring_sq_space_left(&r->ring) < (unsigned int)len ||
		    r->nfree < len)
			return false;
		for (i = 0; i < len; i++) {
			sqe = io_uring_get_sqe(&r->ring);
			if (i == 0) {
				rec = lrec_alloc(r, LK_CWRITE, now);
				lrec_prep_write(r, sqe, rec, p);
				if (held)
					r->held_cw = rec->seq;
			} else if (i < len - 1) {
				rec = lrec_alloc(r, LK_FSYNC, now);
				io_uring_prep_fsync(sqe, r->fd, 0);
			} else {
				rec = lrec_alloc(r, LK_READ, now);
				rec->pipe = k;
				rec->held = held;
				rec->len = 1 + rnd_n(p, RECLEN);
				/* fed a bit later: mostly soon, sometimes after a while */
				rec->t_due = now + 0.01 + rnd_f(p) * (rnd_pct(p, 10) ? 1.5 : 0.3);
				r->pipes[k].rec = rec - r->recs;
				io_uring_prep_read(sqe, r->pipes[k].r, rec->buf, rec->len, 0);
			}
			if (i < len - 1)
				sqe->flags |= IOSQE_IO_LINK;
			sqe->user_data = lrec_ud(r, rec);
		}
		if (held) {
			r->nheld_r++;
			live.held_reads++;
		}
		live.chains++;
		return true;
	}
}

static void live_submit(struct lring *r)
{
	double end = iowq_now() + opt.hang;

	while (io_uring_sq_ready(&r->ring)) {
		int ret = io_uring_submit(&r->ring);

		if (ret >= 0)
			continue;
		if ((ret == -EINTR || ret == -EAGAIN || ret == -EBUSY) && iowq_now() < end) {
			iowq_sleep(0.001);
			continue;
		}
		violation_cat(V_LIVE, "liveness ring %d: io_uring_submit: %s", r->id,
			      strerror(-ret));
		if (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY)
			dump_self_later(iowq_gettid(),
					"liveness ring %d: io_uring_submit failed for %.0f s",
					r->id, opt.hang);
		break;
	}
}

static void live_complete(struct lring *r, uint64_t ud, int res, double now)
{
	uint32_t idx = ud & 0xffff;
	struct lrec *rec = idx < LV_RECS ? &r->recs[idx] : NULL;
	const char *bad = NULL;
	struct spipe *p;
	double since, lat;
	int i;

	if (!rec || !rec->busy || rec->seq != (uint32_t)(ud >> 16)) {
		violation_cat(V_LIVE,
			      "liveness ring %d: CQE for no pending request: ud=%#llx res=%d",
			      r->id, (unsigned long long)ud, res);
		return;
	}
	if (res == -ECANCELED || res == -EINTR) {
		/* 6.1's own io-wq cancels queued work when creations fail */
		live.ncanc[rec->kind]++;
	} else {
		switch (rec->kind) {
		case LK_WRITE:
		case LK_CWRITE:
			if (res != RECLEN)
				bad = "want 64";
			break;
		case LK_FSYNC:
		case LK_NOP:
			if (res != 0)
				bad = "want 0";
			break;
		case LK_READ:
		case LK_SPLICE:
			p = &r->pipes[rec->pipe];
			if (res <= 0 || res > rec->len || p->consumed + res > p->written) {
				bad = "want 1..len, no more than was fed";
				break;
			}
			if (rec->kind == LK_READ) {
				for (i = 0; i < res && !bad; i++)
					if ((uint8_t)rec->buf[i] != pipe_byte(p, p->consumed + i))
						bad = "not the pipe's data";
			}
			p->consumed += res;
			break;
		}
	}
	if (bad)
		violation_cat(V_LIVE,
			      "liveness ring %d: %s ud=%#llx (len %d) completed with %d (%s): %s",
			      r->id, lk_name[rec->kind], (unsigned long long)ud, rec->len,
			      res, res < 0 ? strerror(-res) : "ok", bad);
	if (rec->pipe >= 0)
		r->pipes[rec->pipe].rec = -1;
	since = lrec_since(rec);
	if (!since)	/* completed before its pipe was fed: cancelled, or bad */
		since = now;
	lat = now - since;
	if (lat > live.max_lat[rec->kind])
		live.max_lat[rec->kind] = lat;
	live.n[rec->kind]++;
	if (lat > live.bound && !rec->reported) {
		violation_cat(V_LIVE,
			      "liveness ring %d: %s ud=%#llx completed %.2f s after it %s (bound %.1f s)",
			      r->id, lk_name[rec->kind], (unsigned long long)ud, lat,
			      rec->kind == LK_READ || rec->kind == LK_SPLICE ?
			      "was fed" : "was submitted", live.bound);
		/* (too late to see it stuck: the rest may still be) */
		dump_self_later(iowq_gettid(), "liveness ring %d: a %s completed late",
				r->id, lk_name[rec->kind]);
	}
	if (rec->held && rec->kind == LK_READ)
		r->nheld_r--;
	if (rec->held && rec->kind == LK_SPLICE)
		r->nheld_s--;
	if (rec->kind == LK_WRITE || rec->kind == LK_CWRITE)
		r->nwrites--;
	if (rec->kind == LK_CWRITE && rec->seq == r->held_cw)
		r->held_cw = 0;
	rec->busy = 0;
	r->freel[r->nfree++] = idx;
	r->inflight--;
}

/* Feed what is due (everything if @all), drain the sink, reap. */
static void live_service(struct lring *r, bool all, double wait)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	double now = iowq_now();
	char buf[4096];
	int i;

	while (read(r->sink_r, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < LV_RECS; i++) {
		struct lrec *rec = &r->recs[i];

		if (rec->busy && rec->pipe >= 0 && !rec->released &&
		    (all || (!rec->held && now >= rec->t_due)))
			lrec_release(r, rec, now);
	}
	if (wait > 0 && r->inflight)
		iowq_wait_cqe(&r->ring, &cqe, wait);	/* reaped below */
	now = iowq_now();
	io_uring_for_each_cqe(&r->ring, head, cqe) {
		live_complete(r, cqe->user_data, cqe->res, now);
		n++;
	}
	io_uring_cq_advance(&r->ring, n);
}

/* Report what is pending beyond the bound (once per request). */
static void live_check(struct lring *r, double now)
{
	bool late = false;
	int i;

	for (i = 0; i < LV_RECS; i++) {
		struct lrec *rec = &r->recs[i];
		double since = lrec_since(rec);

		if (!rec->busy || rec->reported || !since || now - since <= live.bound)
			continue;
		rec->reported = 1;
		violation_cat(V_LIVE,
			      "liveness ring %d: %s ud=%#llx pending %.1f s after it %s (bound %.1f s; %d chain reads and %d splices of the ring blocked until the end)",
			      r->id, lk_name[rec->kind],
			      (unsigned long long)lrec_ud(r, rec), now - since,
			      rec->kind == LK_READ || rec->kind == LK_SPLICE ?
			      "was fed" : "was submitted", live.bound, r->nheld_r, r->nheld_s);
		late = true;
	}
	if (late)
		dump_self_later(iowq_gettid(),
				"liveness ring %d: requests pending beyond %.1f s", r->id,
				live.bound);
}

static void *live_main(void *arg)
{
	struct lring *lr[LV_RINGS];
	unsigned int lim[2] = { LV_BOUND_MAX, 0 };
	double now, last_check = 0, next_sub = 0, end, next_held, quiet = 0;
	int hring = 0, hstate = 0;	/* held chain: 1 writes stop, 2 submitted */
	struct prng p;
	int i, n, ret, left;

	(void)arg;
	prng_init(&p, 6, 0);
	atomic_store(&live.tid, iowq_gettid());
	time_store(&live.heartbeat, iowq_now());
	for (i = 0; i < LV_RINGS; i++) {
		lr[i] = lring_new(i);
		if (!lr[i]) {
			while (i--)
				lring_close(lr[i]);
			return NULL;
		}
	}
	/* the io-wq exists from the first submission; then room for the blocked */
	if (iowq_touch(&lr[0]->ring)) {
		violation_cat(V_LIVE, "liveness: the first async NOP did not complete");
		dump_self_later(iowq_gettid(), "liveness: the first async NOP");
	}
	ret = io_uring_register_iowq_max_workers(&lr[0]->ring, lim);
	if (ret)
		violation_cat(V_LIVE, "liveness: IORING_REGISTER_IOWQ_MAX_WORKERS: %d", ret);
	next_held = iowq_now() + 0.5 + rnd_f(&p) * 2;

	while (!atomic_load(&stop_flag)) {
		struct lring *r = lr[rnd_n(&p, LV_RINGS)];
		bool sub;

		now = iowq_now();
		time_store(&live.heartbeat, now);
		/* a batch every 5 ms on average: a flow, not a flood */
		sub = now >= next_sub;
		if (sub)
			next_sub = now + rnd_f(&p) * 0.01;
		/*
		 * A chain blocked until the end must be the last hashed work
		 * of the file when a worker takes it, so that its fsync and
		 * read run on that worker (else they are queued apart): stop
		 * the writes, wait until none is in flight, submit the chain
		 * alone and resume the writes once its write has completed.
		 */
		if (hstate == 0 && now >= next_held) {
			hring = rnd_n(&p, LV_RINGS);
			if (lr[hring]->nheld_r >= LV_HELD_READS)
				hring = !hring;
			if (lr[hring]->nheld_r < LV_HELD_READS) {
				hstate = 1;
				quiet = now;
			} else {
				next_held = 1e30;
			}
		}
		if (hstate == 1 && !lr[0]->nwrites && !lr[1]->nwrites &&
		    live_prep(lr[hring], &p, LK_READ, now, true)) {
			live_submit(lr[hring]);
			hstate = 2;
		}
		if ((hstate == 2 && !lr[hring]->held_cw) ||
		    (hstate && now - quiet > 2 * live.bound)) {
			/* (writes that did not end in time are reported) */
			hstate = 0;
			next_held = now + 0.5 + rnd_f(&p) * 5;
		}
		if (sub && r->inflight - r->nheld_r - r->nheld_s < LV_FLOW) {
			bool writes = !hstate;

			for (n = rnd_n(&p, 4); n > 0; n--)
				if (writes)
					live_prep(r, &p, LK_WRITE, now, false);
			for (n = rnd_n(&p, 4); n > 0; n--)
				live_prep(r, &p, LK_NOP, now, false);
			if (rnd_pct(&p, 20) && writes)
				live_prep(r, &p, LK_READ, now, false);
			if (rnd_pct(&p, 2))
				live_prep(r, &p, LK_SPLICE, now, false);
			live_submit(r);
		}
		for (i = 0; i < LV_RINGS; i++)
			live_service(lr[i], false, lr[i] == r ? 0.001 + rnd_f(&p) * 0.004 : 0);
		if (now - last_check >= 0.1) {
			last_check = now;
			for (i = 0; i < LV_RINGS; i++)
				live_check(lr[i], now);
		}
	}

	/* the end: feed every pipe, everything must complete within the bound */
	end = iowq_now() + live.bound + opt.hang;
	do {
		now = iowq_now();
		time_store(&live.heartbeat, now);
		for (left = 0, i = 0; i < LV_RINGS; i++) {
			live_service(lr[i], true, 0.005);
			live_check(lr[i], iowq_now());
			left += lr[i]->inflight;
		}
	} while (left && now < end);
	if (left) {
		violation_cat(V_LIVE, "liveness: %d requests still pending %.0f s after the end",
			      left, live.bound + opt.hang);
		dump_stuck(getpid(), iowq_gettid(),
			   "liveness: %d requests pending after the end", left);
	}
	for (i = 0; i < LV_RINGS; i++) {
		for (n = 0; n < LV_PIPES && !left; n++) {
			struct spipe *sp = &lr[i]->pipes[n];
			uint64_t rest = 0;
			char buf[256];

			fcntl(sp->r, F_SETFL, O_NONBLOCK);
			while ((ret = read(sp->r, buf, sizeof(buf))) > 0)
				rest += ret;
			if (rest != sp->written - sp->consumed)
				violation_cat(V_LIVE,
					      "liveness ring %d: pipe %d: %llu bytes fed, %llu consumed by requests, %llu left in it",
					      lr[i]->id, n, (unsigned long long)sp->written,
					      (unsigned long long)sp->consumed,
					      (unsigned long long)rest);
		}
		lring_close(lr[i]);
	}
	return NULL;
}

/* ---- signals ------------------------------------------------------------ */

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&sigs_caught, 1);
}

static void *signal_main(void *arg)
{
	struct prng p;
	pid_t pid = getpid();

	(void)arg;
	prng_init(&p, 2, 0);
	while (!atomic_load(&stop_flag)) {
		struct slot *s = &slots[rnd_n(&p, opt.threads)];
		pid_t tid = atomic_load(&s->tid);

		if (atomic_load(&s->running) && tid > 0 &&
		    !syscall(SYS_tgkill, pid, tid, SIGUSR1))
			atomic_fetch_add(&st_signals, 1);
		/* the liveness thread too: its worker creations get delayed */
		tid = atomic_load(&live.tid);
		if (opt.liveness && tid > 0 && rnd_pct(&p, 20) &&
		    !syscall(SYS_tgkill, pid, tid, SIGUSR1))
			atomic_fetch_add(&st_signals, 1);
		iowq_sleep(0.0005 + rnd_f(&p) * 0.01);
	}
	return NULL;
}

/* ---- fork / exec -------------------------------------------------------- */

enum { CH_EXIT, CH_EXEC, CH_KILL, CH_THREAD, CH_NR };
static const char * const child_name[CH_NR] = { "exit", "exec", "kill", "thread-exit" };

struct child_thr {
	struct io_uring *ring;
	int in, out, n;
};

static void *child_thread(void *arg)
{
	struct child_thr *c = arg;
	struct io_uring_sqe *sqe;
	int i;

	for (i = 0; i < c->n; i++) {
		sqe = io_uring_get_sqe(c->ring);
		io_uring_prep_splice(sqe, c->in, -1, c->out, -1, 1, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = 1000 + i;
	}
	if (io_uring_submit(c->ring) != c->n)
		_exit(30);
	iowq_sleep(0.02);
	return NULL;
}

/*
 * The child: a ring of its own with async NOPs and blocked splices; the
 * NOPs must complete, then it leaves as @scen says.  Only syscalls here
 * (no stdio): the parent is multi-threaded.
 *
 * Through the pipe @ready_fd (O_CLOEXEC) the child tells the parent how
 * far it got, so that a child that does not end can be placed: a byte per
 * phase (CH_PHASE_*), then perhaps a failure (struct child_err).  EOF
 * while the child runs on means its files are closed: an execve got past
 * its point of no return, or an exit past exit_files().
 */
enum {
	CH_PHASE_SUBMITTED = 's',	/* SQEs submitted, waiting for the NOPs */
	CH_PHASE_NOPS = 'n',		/* the NOPs completed */
	CH_PHASE_EXEC = 'e',		/* calling execve() */
	CH_PHASE_JOINED = 'j',		/* CH_THREAD: its thread is gone */
	CH_PHASE_READY = 'r',		/* CH_KILL: waiting for SIGKILL */
};

/* A child's failure, for the parent to print: 'F', code, user_data, res. */
struct child_err {
	char tag;
	int code, res;
	unsigned long long ud;
};

static void child_phase_set(int fd, char phase)
{
	if (write(fd, &phase, 1) != 1)
		_exit(22);
}

static void child_fail(int fd, int code, unsigned long long ud, int res)
{
	struct child_err e = { 'F', code, res, ud };

	if (write(fd, &e, sizeof(e)) < 0)
		_exit(code);
	_exit(code);
}

static int child_res(int res)
{
	if (restart_ok && res <= -ERESTARTSYS && res >= -ERESTART_RESTARTBLOCK)
		return -EINTR;
	return res;
}

static void child_main(int scen, uint64_t r, int ready_fd)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int p[2], sink[2], i, nn = 4 + r % 8, ns = 1 + (r >> 8) % 8, got = 0;

	if (io_uring_queue_init(64, &ring, 0) || pipe2(p, O_CLOEXEC) ||
	    pipe2(sink, O_CLOEXEC))
		_exit(10);
	for (i = 0; i < nn; i++) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_nop(sqe);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = i;
	}
	for (i = 0; i < ns; i++) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_splice(sqe, p[0], -1, sink[1], -1, 1, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = 100 + i;
	}
	if (io_uring_submit(&ring) != nn + ns)
		_exit(11);
	child_phase_set(ready_fd, CH_PHASE_SUBMITTED);
	while (got < nn) {
		int ret = iowq_wait_cqe(&ring, &cqe, opt.hang);

		if (ret == -EINTR)
			continue;
		if (ret)
			_exit(12);
		if (cqe->user_data >= (unsigned int)nn || cqe->res)
			child_fail(ready_fd, 13, cqe->user_data, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		got++;
	}
	if (scen != CH_KILL)
		child_phase_set(ready_fd, CH_PHASE_NOPS);
	iowq_sleep(0.001 * ((r >> 16) % 20));
	switch (scen) {
	case CH_EXEC:
		child_phase_set(ready_fd, CH_PHASE_EXEC);
		execl("/bin/true", "true", (char *)NULL);
		_exit(14);
	case CH_KILL:
		if (write(ready_fd, "r", 1) != 1)
			_exit(15);
		for (;;)
			pause();
	case CH_THREAD: {
		struct child_thr c = { &ring, p[0], sink[1], 1 + (r >> 24) % 8 };
		pthread_t t;

		if (pthread_create(&t, NULL, child_thread, &c))
			_exit(16);
		pthread_join(t, NULL);
		child_phase_set(ready_fd, CH_PHASE_JOINED);
		/* the thread's splices end at its exit, the others when fed */
		for (i = 0; i < ns; i++)
			if (write(p[1], "x", 1) != 1)
				_exit(17);
		got = 0;
		while (got < ns + c.n) {
			int ret = iowq_wait_cqe(&ring, &cqe, opt.hang);

			if (ret == -EINTR)
				continue;
			if (ret)
				_exit(18);
			if (cqe->user_data >= 1000 && !is_cancelled(child_res(cqe->res)) &&
			    cqe->res != 1)
				child_fail(ready_fd, 19, cqe->user_data, cqe->res);
			if (cqe->user_data >= 100 && cqe->user_data < 1000 && cqe->res != 1)
				child_fail(ready_fd, 20, cqe->user_data, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
			got++;
		}
		/* a splice of the thread may have taken a byte: no more CQEs */
		if (!iowq_wait_cqe(&ring, &cqe, 0.05))
			child_fail(ready_fd, 21, cqe->user_data, cqe->res);
		_exit(0);
	}
	default:
		_exit(0);
	}
}

/* What the parent has read of a child's pipe (see child_main()). */
struct child_io {
	unsigned char buf[64];
	int len;
	char phase;		/* the last CH_PHASE_* read, 0 none */
	bool eof, failed;
	struct child_err err;	/* if failed */
};

/* Read what the child wrote so far (@fd is O_NONBLOCK). */
static void child_io_read(struct child_io *io, int fd)
{
	int i, n;

	while (!io->eof && io->len < (int)sizeof(io->buf)) {
		n = read(fd, io->buf + io->len, sizeof(io->buf) - io->len);
		if (n > 0)
			io->len += n;
		else if (!n)
			io->eof = true;
		else if (errno != EINTR)
			break;
	}
	for (i = 0; i < io->len; i++) {
		if (io->buf[i] == 'F') {
			/* one write(): there is all of it or none */
			if (io->len - i >= (int)sizeof(io->err)) {
				memcpy(&io->err, io->buf + i, sizeof(io->err));
				io->failed = true;
			}
			break;
		}
		io->phase = io->buf[i];
	}
}

/* Where a child that has not ended is, in words, into @buf. */
static const char *child_phase(int scen, const struct child_io *io, char *buf,
			       size_t len)
{
	const char *what;

	if (io->failed) {
		snprintf(buf, len, "failed with code %d, exiting", io->err.code);
		return buf;
	}
	switch (io->phase) {
	case 0:
		what = "setting up its ring, before submitting";
		break;
	case CH_PHASE_SUBMITTED:
		what = scen == CH_EXEC ? "before execve: waiting for NOPs" :
		       "waiting for its NOPs";
		break;
	case CH_PHASE_NOPS:
		what = scen == CH_EXEC ? "before execve: NOPs done" :
		       scen == CH_EXIT ? "exiting" : "NOPs done, in its thread";
		break;
	case CH_PHASE_EXEC:
		/* fs/exec.c closes them after de_thread(), io_uring_task_cancel() */
		what = io->eof ? "exec done (past close-on-exec)" :
		       "in execve (not past close-on-exec: de_thread(), io_uring_task_cancel())";
		break;
	case CH_PHASE_JOINED:
		what = "thread gone, waiting for the splices";
		break;
	case CH_PHASE_READY:
		what = "ready, SIGKILLed";
		break;
	default:
		what = "?";
	}
	snprintf(buf, len, "%s%s", what,
		 !io->eof || io->phase == CH_PHASE_EXEC ? "" :
		 ", its files closed (past exit_files())");
	return buf;
}

static void *fork_main(void *arg)
{
	struct prng p;
	bool have_true = !access("/bin/true", X_OK);

	(void)arg;
	prng_init(&p, 3, 0);
	while (!atomic_load(&stop_flag)) {
		int scen = rnd_n(&p, CH_NR), status, rp[2];
		struct child_io cio = { .len = 0 };
		uint64_t r = rnd(&p);
		char phase[128];
		double t0;
		pid_t pid;

		iowq_sleep(0.05 + rnd_f(&p) * 0.5);
		if (atomic_load(&stop_flag))
			break;
		if (scen == CH_EXEC && !have_true)
			scen = CH_EXIT;
		if (pipe2(rp, O_CLOEXEC))
			continue;
		t0 = iowq_now();
		pid = fork();
		if (pid < 0) {
			violation_cat(V_EXIT, "fork: %s", strerror(errno));
			close(rp[0]);
			close(rp[1]);
			continue;
		}
		if (!pid) {
			close(rp[0]);
			child_main(scen, r, rp[1]);
			_exit(99);
		}
		close(rp[1]);
		fcntl(rp[0], F_SETFL, O_NONBLOCK);
		atomic_fetch_add(&st_forks, 1);
		if (scen == CH_KILL) {
			double end = iowq_now() + opt.hang, left;

			while (cio.phase != CH_PHASE_READY && !cio.failed && !cio.eof &&
			       (left = end - iowq_now()) > 0) {
				struct pollfd pfd = { .fd = rp[0], .events = POLLIN };

				poll(&pfd, 1, (int)(left * 1000) + 1);
				child_io_read(&cio, rp[0]);
			}
			if (cio.phase == CH_PHASE_READY) {
				iowq_sleep(rnd_f(&p) * 0.05);
			} else if (!cio.failed) {
				child_phase(scen, &cio, phase, sizeof(phase));
				violation_cat(V_EXIT,
					      "child %d (kill): not ready within %.0f s (%s)",
					      pid, opt.hang, phase);
				if (!cio.eof)
					dump_stuck(pid, pid, "child %d (kill) not ready: %s",
						   pid, phase);
			}
			kill(pid, SIGKILL);
		}
		status = iowq_wait_child(pid, opt.hang);
		child_io_read(&cio, rp[0]);
		if (status < 0) {
			child_phase(scen, &cio, phase, sizeof(phase));
			violation_cat(V_EXIT,
				      "child %d (%s) did not end within %.0f s (%.1f s after its fork; %s)",
				      pid, child_name[scen], opt.hang, iowq_now() - t0, phase);
			dump_stuck(pid, pid, "child %d (%s) did not end: %s", pid,
				   child_name[scen], phase);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
		}
		close(rp[0]);
		if (status == -1) {
			/* reported */
		} else if (scen == CH_KILL ?
			   !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) &&
			   !(WIFEXITED(status) && !WEXITSTATUS(status)) :
			   !(WIFEXITED(status) && !WEXITSTATUS(status))) {
			if (cio.failed && cio.err.code)
				violation_cat(V_EXIT,
					      "child %d (%s): status %#x, code %d (see child_main): CQE ud=%llu res=%d (%s)",
					      pid, child_name[scen], status, cio.err.code,
					      cio.err.ud, cio.err.res,
					      cio.err.res < 0 ? strerror(-cio.err.res) : "ok");
			else
				violation_cat(V_EXIT,
					      "child %d (%s): status %#x (exit code %d: see child_main)",
					      pid, child_name[scen], status,
					      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		} else {
			atomic_fetch_add(&st_children[scen], 1);
		}
	}
	return NULL;
}

/* ---- CPU hotplug (a second process) ------------------------------------- */

struct hp_stats {
	long offline, online, failed;
	int busy;		/* 1 taking the CPU offline, 2 online, 0 neither */
	double t_busy;		/* since when (time_load(), time_store()) */
};

static struct hp_stats *hp;
static pid_t hp_pid = -1;
static int hp_fd = -1;
static char hp_path[64];

static int cpu_online_write(int on)
{
	int fd = open(hp_path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	if (hp) {
		time_store(&hp->t_busy, iowq_now());
		__atomic_store_n(&hp->busy, on ? 2 : 1, __ATOMIC_SEQ_CST);
	}
	ret = write(fd, on ? "1" : "0", 1) == 1 ? 0 : -errno;
	if (hp)
		__atomic_store_n(&hp->busy, 0, __ATOMIC_SEQ_CST);
	close(fd);
	return ret;
}

/* What the hotplug process is doing, in words, into @buf. */
static const char *hotplug_phase(char *buf, size_t len)
{
	int busy = hp ? __atomic_load_n(&hp->busy, __ATOMIC_SEQ_CST) : 0;

	if (!busy)
		snprintf(buf, len, "not writing to %s", hp_path);
	else
		snprintf(buf, len, "writing %d to %s for %.1f s", busy - 1, hp_path,
			 iowq_now() - time_load(&hp->t_busy));
	return buf;
}

static void hotplug_child(int fd)
{
	struct prng p;
	int on = 1;

	prng_init(&p, 4, 0);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ms = 100 + rnd_n(&p, 1400);
		char c;

		if (poll(&pfd, 1, ms) > 0 && read(fd, &c, 1) <= 0)
			break;
		if (!cpu_online_write(!on)) {
			on = !on;
			if (on)
				hp->online++;
			else
				hp->offline++;
		} else {
			hp->failed++;
		}
	}
	cpu_online_write(1);
	_exit(0);
}

static const char *hotplug_start(void)
{
	int fds[2];

	snprintf(hp_path, sizeof(hp_path), "/sys/devices/system/cpu/cpu%d/online",
		 HOTPLUG_CPU);
	if (!opt.hotplug)
		return "disabled by --no-hotplug";
	if (geteuid())
		return "not root";
	if (access(hp_path, W_OK))
		return "no writable /sys/devices/system/cpu/cpu1/online";
	hp = mmap(NULL, sizeof(*hp), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (hp == MAP_FAILED)
		hp = NULL;
	if (!hp || pipe(fds))
		return "mmap/pipe failed";
	fflush(stdout);
	hp_pid = fork();
	if (hp_pid < 0)
		return "fork failed";
	if (!hp_pid) {
		close(fds[1]);
		hotplug_child(fds[0]);
	}
	close(fds[0]);
	hp_fd = fds[1];
	hotplug_on = true;
	return NULL;
}

/* Stop the hotplug process; 0 if CPU 1 is online at the end. */
static int hotplug_stop(void)
{
	char buf[8] = "", phase[128];
	int fd, status;

	if (hp_pid < 0)
		return 0;
	close(hp_fd);
	status = iowq_wait_child(hp_pid, opt.hang);
	if (status < 0) {
		hotplug_phase(phase, sizeof(phase));
		violation_cat(V_HOTPLUG, "hotplug process %d did not end within %.0f s (%s)",
			      hp_pid, opt.hang, phase);
		dump_stuck(hp_pid, hp_pid, "hotplug process did not end: %s", phase);
		kill(hp_pid, SIGKILL);
		waitpid(hp_pid, &status, 0);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		violation_cat(V_HOTPLUG, "hotplug process: status %#x", status);
	}
	hp_pid = -1;
	fd = open(hp_path, O_RDONLY);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	if (buf[0] != '1') {
		cpu_online_write(1);
		violation_cat(V_HOTPLUG, "CPU %d was not online at the end ('%c')",
			      HOTPLUG_CPU, buf[0]);
		return -1;
	}
	return 0;
}

/* ---- dumps: what a stuck process was doing ------------------------------ */

/*
 * dump_stuck() runs where a time bound is found broken, before the stuck
 * process is killed or reaped; its lines start with "# DUMP ".  Each part
 * runs in a child of its own that writes its lines into a pipe and is
 * killed after DUMP_SECS: a read of /proc that blocks on the stuck task
 * (/proc/PID/task/TID/stack waits for its exec_update_lock, which execve
 * holds while it replaces the mm) costs that time, not the run.  Nothing
 * is read that takes the task's mmap_lock (cmdline, environ, maps, mem),
 * and an io_uring's fdinfo only trylocks its uring_lock.  The children
 * use system calls and snprintf() only: the parent is multi-threaded.
 */
#define DUMP_SECS		5	/* a part, at most */
#define DUMP_TASKS		512	/* threads looked at per process */
#define DUMP_THREAD_LINES	64	/* comm, state, wchan: a line a thread */
#define DUMP_STACK_LINES	24	/* frames of a stack */
#define DUMP_STACKS_LINES	200	/* stack lines of a process */
#define DUMP_KLOG_LINES		120
#define DUMP_TRACE_LINES	400
#define DUMP_FDINFO_LINES	80
#define DUMP_LINE		320	/* longer lines are cut */
#define DUMP_SYSRQ_KEYS		"dlmqtw"	/* those that only print */

struct dump {
	pid_t pid;		/* the process */
	pid_t focus;		/* a thread shown first, and its iou-wrk-*; 0 none */
	int nr;			/* of the run, from 1 */
	bool self;		/* the process is this one */
};

struct dump_task {
	pid_t tid;
	int prio;		/* 0 focus, 1 not sleeping, 2 sleeping */
	char comm[32], state[32], wchan[64];
};

/* In a part's child: lines it may still print, lines it left out. */
static int dump_left, dump_cut;

/* In a part's child: one line to the parent (stdout is the pipe). */
static void dump_out(const char *fmt, ...)
{
	char buf[DUMP_LINE + 64];
	va_list ap;
	int n;

	if (dump_left <= 0) {
		dump_cut++;
		return;
	}
	dump_left--;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(1, buf, n) != n)
		_exit(1);
}

/* Up to @size - 1 bytes of @path into @buf, NUL-terminated: length or -errno. */
static int dump_read(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), len = 0, n;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && !len)
			len = -errno;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (len >= 0)
		buf[len] = 0;
	return len;
}

/* The numeric names in directory @path (up to @max): how many, or -errno. */
static int dump_list(const char *path, int *out, int max)
{
	uint64_t ents[512];	/* aligned for struct linux_dirent64 */
	char *buf = (char *)ents;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	long len, pos;

	if (fd < 0)
		return -errno;
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(ents))) > 0) {
		for (pos = 0; pos < len; ) {
			/* struct linux_dirent64: ino, off, reclen, type, name */
			unsigned short reclen;
			const char *name = buf + pos + 19;
			char *end;
			long v;

			memcpy(&reclen, buf + pos + 16, sizeof(reclen));
			pos += reclen;
			v = strtol(name, &end, 10);
			if (end != name && !*end && n < max)
				out[n++] = v;
		}
	}
	close(fd);
	return n;
}

/*
 * Call @fn for each line of @path (without its newline, cut at DUMP_LINE
 * - 1 characters) until the end or @secs pass; 0 at the end, 1 if cut
 * short, or -errno.
 */
static int dump_lines(const char *path, void (*fn)(void *arg, char *line),
		      void *arg, double secs)
{
	static char buf[8192], line[DUMP_LINE];
	int fd = open(path, O_RDONLY | O_CLOEXEC), len = 0, ret = 1, n, i;
	double end = iowq_now() + secs;

	if (fd < 0)
		return -errno;
	while (iowq_now() < end) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n ? -errno : 0;
			break;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (len < DUMP_LINE - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			len = 0;
			fn(arg, line);
		}
	}
	close(fd);
	if (len && !ret) {
		line[len] = 0;
		fn(arg, line);
	}
	return ret;
}

/*
 * The threads of the process with their comm, state and wchan, the focus
 * thread and its workers first, then those not sleeping (their order
 * kept otherwise); how many, or -errno.
 */
static int dump_tasks(const struct dump *d, struct dump_task *t)
{
	static int tids[DUMP_TASKS];
	char path[80], buf[2048], want[32], *s;
	struct dump_task tmp;
	int n, i, j, k = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", d->pid);
	n = dump_list(path, tids, DUMP_TASKS);
	if (n < 0)
		return n;
	snprintf(want, sizeof(want), "iou-wrk-%d", d->focus);
	for (i = 0; i < n; i++) {
		struct dump_task *x = &t[k];

		x->tid = tids[i];
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", d->pid, x->tid);
		if (dump_read(path, x->comm, sizeof(x->comm)) < 0)
			continue;	/* gone */
		x->comm[strcspn(x->comm, "\n")] = 0;
		strcpy(x->state, "?");
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", d->pid, x->tid);
		s = dump_read(path, buf, sizeof(buf)) > 0 ? strstr(buf, "\nState:") : NULL;
		if (s) {
			s += 7 + strspn(s + 7, " \t");
			snprintf(x->state, sizeof(x->state), "%.*s", (int)strcspn(s, "\n"), s);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", d->pid, x->tid);
		if (dump_read(path, x->wchan, sizeof(x->wchan)) <= 0)
			strcpy(x->wchan, "?");
		if (d->focus && (x->tid == d->focus || !strcmp(x->comm, want)))
			x->prio = 0;
		else
			x->prio = x->state[0] == 'S' || x->state[0] == 'I' ? 2 : 1;
		/* insertion sort on prio, stable */
		tmp = *x;
		for (j = k; j > 0 && t[j - 1].prio > tmp.prio; j--)
			t[j] = t[j - 1];
		t[j] = tmp;
		k++;
	}
	return k;
}

/* Part: a line per thread. */
static void dump_part_threads(const struct dump *d)
{
	static struct dump_task t[DUMP_TASKS];
	int n = dump_tasks(d, t), i;

	if (n < 0) {
		dump_out("# DUMP pid=%d: /proc/%d/task: error %d", d->pid, d->pid, -n);
		return;
	}
	dump_out("# DUMP pid=%d: %d threads", d->pid, n);
	for (i = 0; i < n; i++)
		dump_out("# DUMP pid=%d tid=%d: comm=%s state=%s wchan=%s", d->pid,
			 t[i].tid, t[i].comm, t[i].state, t[i].wchan);
}

/* Part: the kernel stack of each thread; threads of one stack are listed. */
static void dump_part_stacks(const struct dump *d)
{
	static struct dump_task t[DUMP_TASKS];
	static struct {
		uint64_t hash;
		pid_t tid, also[16];
		int nalso;
	} u[64];
	static char buf[16384];
	int n = dump_tasks(d, t), nu = 0, left_out = 0, i, j, k, len;
	char path[80], list[200];

	for (i = 0; i < n; i++) {
		uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
		char *line, *next;
		int frames = 0;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", d->pid, t[i].tid);
		len = dump_read(path, buf, sizeof(buf));
		if (len < 0) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d", d->pid, t[i].tid);
			if (access(path, F_OK))
				continue;	/* gone */
			dump_out("# DUMP pid=%d tid=%d: no stack: error %d (CONFIG_STACKTRACE?)",
				 d->pid, t[i].tid, -len);
			return;
		}
		for (k = 0; k < len; k++)
			h = (h ^ (uint8_t)buf[k]) * 0x100000001b3ULL;
		for (k = 0; k < nu && u[k].hash != h; k++)
			;
		if (k < nu) {
			if (u[k].nalso < (int)ARRAY_SIZE(u[k].also))
				u[k].also[u[k].nalso] = t[i].tid;
			u[k].nalso++;
			continue;
		}
		/* keep room for the lists of threads that share a stack */
		if (nu == (int)ARRAY_SIZE(u) || dump_left < DUMP_STACK_LINES + 8) {
			left_out++;
			continue;
		}
		u[nu].hash = h;
		u[nu].tid = t[i].tid;
		u[nu].nalso = 0;
		nu++;
		if (!len)
			dump_out("# DUMP pid=%d tid=%d: stack: (empty)", d->pid, t[i].tid);
		for (line = buf; *line; line = next) {
			char *p = line[0] == '[' ? strstr(line, "] ") : NULL;

			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			else
				next = line + strlen(line);
			if (++frames <= DUMP_STACK_LINES)
				dump_out("# DUMP pid=%d tid=%d: stack: %s", d->pid, t[i].tid,
					 p ? p + 2 : line);
		}
		if (frames > DUMP_STACK_LINES)
			dump_out("# DUMP pid=%d tid=%d: stack: (%d more frames)", d->pid,
				 t[i].tid, frames - DUMP_STACK_LINES);
	}
	for (k = 0; k < nu; k++) {
		int o = 0;

		if (!u[k].nalso)
			continue;
		list[0] = 0;
		for (j = 0; j < u[k].nalso && j < (int)ARRAY_SIZE(u[k].also) &&
		     o < (int)sizeof(list) - 12; j++)
			o += snprintf(list + o, sizeof(list) - o, " %d", u[k].also[j]);
		dump_out("# DUMP pid=%d tid=%d: the same stack in tid%s%s", d->pid, u[k].tid,
			 list, u[k].nalso > j ? " ..." : "");
	}
	if (left_out)
		dump_out("# DUMP pid=%d: the stacks of %d more threads left out", d->pid,
			 left_out);
}

/* What an io_uring's fdinfo says, line by line. */
struct dump_fdinfo {
	char sum[256];		/* " SqHead=1 SqTail=1 ..." */
	int section;		/* 1 PollList, 2 CqOverflowList */
	int npoll, nover, niowq;
	char iowq[16][DUMP_LINE];
};

static void dump_fdinfo_line(void *arg, char *line)
{
	static const char * const keys[] = {
		"SqHead", "SqTail", "CachedSqHead", "CqHead", "CqTail", "CachedCqTail",
	};
	struct dump_fdinfo *f = arg;
	size_t i, n, o;
	char *s;

	if (!strncmp(line, "IoWq:", 5)) {
		if (f->niowq < (int)ARRAY_SIZE(f->iowq)) {
			for (s = line; *s; s++)
				if (*s == '\t')
					*s = ' ';
			memcpy(f->iowq[f->niowq], line, strlen(line) + 1);
		}
		f->niowq++;
		return;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		f->npoll += f->section == 1;
		f->nover += f->section == 2;
		return;
	}
	f->section = !strcmp(line, "PollList:") ? 1 :
		     !strcmp(line, "CqOverflowList:") ? 2 : 0;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		n = strlen(keys[i]);
		o = strlen(f->sum);
		if (!strncmp(line, keys[i], n) && line[n] == ':')
			snprintf(f->sum + o, sizeof(f->sum) - o, " %s=%s", keys[i],
				 line + n + 1 + strspn(line + n + 1, " \t"));
	}
}

/*
 * Part: the io_uring fds of the process: head and tail of the rings, and
 * the IoWq: lines (io_wq_show_fdinfo()) of each io-wq using them, once.
 * The rings another process passed on through fork() are left out: their
 * io-wqs are of that process's tasks.
 */
static void dump_part_fdinfo(const struct dump *d)
{
	static int fds[8192], tids[DUMP_TASKS];
	static struct dump_fdinfo f;
	static char seen[128][64];
	int nfd, ntid, nseen = 0, rings = 0, others = 0, dups = 0, i, j, k;
	char path[80], link[64];

	snprintf(path, sizeof(path), "/proc/%d/task", d->pid);
	ntid = dump_list(path, tids, DUMP_TASKS);
	snprintf(path, sizeof(path), "/proc/%d/fd", d->pid);
	nfd = dump_list(path, fds, ARRAY_SIZE(fds));
	if (nfd < 0) {
		dump_out("# DUMP pid=%d: %s: error %d", d->pid, path, -nfd);
		return;
	}
	for (i = 0; i < nfd; i++) {
		bool mine = d->self;
		int len, try;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", d->pid, fds[i]);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = 0;
		if (strcmp(link, "anon_inode:[io_uring]"))
			continue;
		rings++;
		/* without uring_lock (a trylock), fdinfo has no IoWq: lines */
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", d->pid, fds[i]);
		for (try = 0; try < 3; try++) {
			memset(&f, 0, sizeof(f));
			if (dump_lines(path, dump_fdinfo_line, &f, 1) < 0 || f.niowq)
				break;
			iowq_sleep(0.02);
		}
		for (j = 0; j < f.niowq && j < (int)ARRAY_SIZE(f.iowq) && !mine; j++) {
			const char *s = strstr(f.iowq[j], "pid=");
			int owner = s ? atoi(s + 4) : 0;

			/* 0: the owner has been reaped */
			mine = !owner;
			for (k = 0; k < ntid && !mine; k++)
				mine = tids[k] == owner;
		}
		if (!mine && f.niowq) {
			others++;
			continue;
		}
		dump_out("# DUMP pid=%d fd=%d: ring%s polls=%d overflow=%d%s", d->pid,
			 fds[i], f.sum, f.npoll, f.nover,
			 f.niowq ? "" : " (no IoWq: line: no io-wq, or uring_lock busy)");
		for (j = 0; j < f.niowq && j < (int)ARRAY_SIZE(f.iowq); j++) {
			const char *l = f.iowq[j], *alive = strstr(l, " alive=");
			int keylen = alive ? alive - l : (int)strlen(l);

			/* one io-wq serves all rings of its task: once is enough */
			for (k = 0; k < nseen; k++)
				if ((int)strlen(seen[k]) == keylen && !strncmp(seen[k], l, keylen))
					break;
			if (k < nseen) {
				dups++;
				continue;
			}
			if (nseen < (int)ARRAY_SIZE(seen) && keylen < (int)sizeof(seen[0])) {
				memcpy(seen[nseen], l, keylen);
				seen[nseen++][keylen] = 0;
			}
			dump_out("# DUMP pid=%d fd=%d: %s", d->pid, fds[i], l);
		}
	}
	if (!rings)
		dump_out("# DUMP pid=%d: no io_uring fd", d->pid);
	if (others)
		dump_out("# DUMP pid=%d: %d io_uring fds of the parent's threads left out",
			 d->pid, others);
	if (dups)
		dump_out("# DUMP pid=%d: %d IoWq: lines shown for an earlier fd left out",
			 d->pid, dups);
}

/*
 * Part: the sysrq keys of --sysrq (w: blocked tasks), and the kernel log
 * from a mark written before them: with loglevel=5 the console does not
 * show what sysrq prints at KERN_INFO.
 */
static void dump_part_sysrq(const struct dump *d)
{
	char mark[128], *buf, *from = NULL, *s, *e;
	int fd, i, size, len, keys = 0;

	snprintf(mark, sizeof(mark), "<6>iowq_stress: seed %llu: dump %d of pid %d\n",
		 (unsigned long long)opt.seed, d->nr, d->pid);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, mark, strlen(mark)) < 0)
		mark[3] = 0;
	if (fd >= 0)
		close(fd);
	mark[strcspn(mark, "\n")] = 0;
	for (i = 0; opt.sysrq[i]; i++) {
		fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, &opt.sysrq[i], 1) == 1)
			dump_out("# DUMP sysrq-%c: written to /proc/sysrq-trigger",
				 opt.sysrq[i]), keys++;
		else
			dump_out("# DUMP sysrq-%c: /proc/sysrq-trigger: error %d", opt.sysrq[i],
				 errno);
		if (fd >= 0)
			close(fd);
	}
	if (!mark[3] && !keys)
		return;
	size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (size <= 0) {
		dump_out("# DUMP klog: no kernel log (error %d)", errno);
		return;
	}
	buf = mmap(NULL, size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (buf == MAP_FAILED)
		return;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (len <= 0) {
		dump_out("# DUMP klog: no kernel log (error %d)", errno);
		return;
	}
	buf[len] = 0;
	/* after the last mark; without one, from the last sysrq header */
	for (s = buf; (s = strstr(s, mark[3] ? mark + 3 : "sysrq: ")); s++)
		from = s;
	if (!from) {
		dump_out("# DUMP klog: the mark is not in the kernel log");
		return;
	}
	if (mark[3])
		from = strchr(from, '\n') ? strchr(from, '\n') + 1 : from + strlen(from);
	else
		while (from > buf && from[-1] != '\n')
			from--;
	for (s = from; *s; s = e) {
		e = strchr(s, '\n');
		e = e ? e + 1 : s + strlen(s);
		dump_out("# DUMP klog: %.*s", (int)(e - s - (e[-1] == '\n')), s);
	}
}

static char dump_trace_ring[DUMP_TRACE_LINES][DUMP_LINE];

struct dump_trace {
	long n;
	char owner[32];		/* "owner PID ": the focus thread's io-wq only */
};

static void dump_trace_line(void *arg, char *line)
{
	struct dump_trace *t = arg;

	if (line[0] == '#' || (t->owner[0] && !strstr(line, t->owner)))
		return;
	memcpy(dump_trace_ring[t->n % DUMP_TRACE_LINES], line, strlen(line) + 1);
	t->n++;
}

/*
 * Part: the end of the trace, if io_wq events are enabled: the events of
 * the focus thread's own io-wq (its tid is the owner), from as far back as
 * the ring holds them, so that what happened at the stop is still there.
 */
static void dump_part_trace(const struct dump *d)
{
	static const char * const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	struct dump_trace t = { 0 };
	char path[96], en[8];
	long i;
	size_t k;
	int ret;

	if (d->focus > 0)
		snprintf(t.owner, sizeof(t.owner), "owner %d ", d->focus);
	for (k = 0; k < ARRAY_SIZE(dirs); k++) {
		snprintf(path, sizeof(path), "%s/trace", dirs[k]);
		if (!access(path, R_OK))
			break;
	}
	if (k == ARRAY_SIZE(dirs)) {
		dump_out("# DUMP trace: no tracefs");
		return;
	}
	snprintf(path, sizeof(path), "%s/events/io_wq/enable", dirs[k]);
	if (dump_read(path, en, sizeof(en)) <= 0) {
		dump_out("# DUMP trace: no io_wq events (no %s)", path);
		return;
	}
	if (en[0] == '0') {
		dump_out("# DUMP trace: io_wq events not enabled (%s)", path);
		return;
	}
	snprintf(path, sizeof(path), "%s/trace", dirs[k]);
	ret = dump_lines(path, dump_trace_line, &t, DUMP_SECS - 1);
	dump_out("# DUMP trace: the last %ld of %ld lines%s%s of %s%s",
		 t.n < DUMP_TRACE_LINES ? t.n : DUMP_TRACE_LINES, t.n,
		 t.owner[0] ? " with " : "", t.owner, path,
		 ret > 0 ? " (not read to its end in time: not its last lines)" :
		 ret < 0 ? " (read error)" : "");
	for (i = t.n > DUMP_TRACE_LINES ? t.n - DUMP_TRACE_LINES : 0; i < t.n; i++)
		dump_out("# DUMP trace: %s", dump_trace_ring[i % DUMP_TRACE_LINES]);
}

/*
 * Run @fn, a part of a dump, in a child whose stdout is a pipe, and copy
 * its lines (at most @max) to ours until it ends or DUMP_SECS pass; then
 * it is killed, and left behind if even SIGKILL does not end it (a wait
 * in the kernel that is not killable).
 */
static void dump_run(const struct dump *d, const char *what, int max,
		     void (*fn)(const struct dump *d))
{
	char buf[4096], line[DUMP_LINE + 64];
	int fds[2], len = 0, lines = 0, status, n, i;
	bool timed_out = false;
	double end;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC)) {
		say("# DUMP pid=%d: %s: pipe: %s\n", d->pid, what, strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		say("# DUMP pid=%d: %s: fork: %s\n", d->pid, what, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (!pid) {
		signal(SIGALRM, SIG_DFL);
		alarm(DUMP_SECS + 5);
		if (dup2(fds[1], 1) < 0)
			_exit(1);
#ifdef SYS_close_range
		/* no copy of a pipe of fork_main() to delay its EOF */
		syscall(SYS_close_range, 3, ~0U, 0);
#endif
		dump_left = max;
		dump_cut = 0;
		fn(d);
		if (dump_cut) {
			dump_left = 1;
			dump_out("# DUMP pid=%d: %s: %d more lines left out", d->pid, what,
				 dump_cut);
		}
		_exit(0);
	}
	close(fds[1]);
	end = iowq_now() + DUMP_SECS;
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		double left = end - iowq_now();

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (len < (int)sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			len = 0;
			/* (+1: the child's own line on what it left out) */
			if (lines++ <= max)
				say("%s\n", line);
		}
	}
	close(fds[0]);
	if (timed_out) {
		kill(pid, SIGKILL);
		say("# DUMP pid=%d: %s: not done in %d s (blocked on the stuck task?): killed\n",
		    d->pid, what, DUMP_SECS);
	}
	for (i = 0; i < 100 && !waitpid(pid, &status, WNOHANG); i++)
		iowq_sleep(0.01);
	if (i == 100)
		say("# DUMP pid=%d: %s: its process %d does not end: left behind\n", d->pid,
		    what, pid);
}

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Dump what process @pid (a child of ours, or this process) is doing, its
 * thread @focus and that thread's io-wq workers first, and why (@fmt).
 * Called where a time bound is found broken, before the process is killed
 * or reaped (in the thread that found it: the threads whose latencies are
 * measured, or that hold a ring's lock, use dump_self_later()).  At most
 * --dumps per run, a process at most once per 10 s (the first of a series
 * of late requests tells the most); the time it takes does not count for
 * the global alarm.
 */
static void dump_stuck(pid_t pid, pid_t focus, const char *fmt, ...)
{
	static struct {
		pid_t pid;
		double t;
	} last[16];
	static int nr_dumps;
	static bool told;
	struct dump d = { .pid = pid, .focus = focus, .self = pid == getpid() };
	unsigned int alarm_left;
	char why[256], phase[128];
	double t0;
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&dump_lock);
	t0 = iowq_now();
	for (i = 0; i < nr_dumps && i < (int)ARRAY_SIZE(last); i++)
		if (last[i].pid == pid && t0 - last[i].t < 10)
			goto out;
	if (nr_dumps >= opt.dumps) {
		if (opt.dumps && !told)
			say("# DUMP: no more dumps in this run (--dumps %d)\n", opt.dumps);
		told = true;
		goto out;
	}
	d.nr = ++nr_dumps;
	last[(d.nr - 1) % ARRAY_SIZE(last)].pid = pid;
	last[(d.nr - 1) % ARRAY_SIZE(last)].t = t0;
	alarm_left = alarm(0);
	say("# DUMP pid=%d: dump %d of at most %d (seed %llu, t=%.1fs): %s\n", pid, d.nr,
	    opt.dumps, (unsigned long long)opt.seed, t0 - t_start, why);
	if (hotplug_on && hp && hp_pid > 0)
		say("# DUMP hotplug: process %d %s\n", hp_pid,
		    hotplug_phase(phase, sizeof(phase)));
	dump_run(&d, "threads", DUMP_THREAD_LINES, dump_part_threads);
	dump_run(&d, "stacks", DUMP_STACKS_LINES, dump_part_stacks);
	/* CPU hotplug in progress: where the hotplug process is */
	if (hotplug_on && hp && hp_pid > 0 && hp_pid != pid &&
	    __atomic_load_n(&hp->busy, __ATOMIC_SEQ_CST)) {
		struct dump h = { .pid = hp_pid, .focus = hp_pid, .nr = d.nr };

		dump_run(&h, "threads", 4, dump_part_threads);
		dump_run(&h, "stacks", DUMP_STACK_LINES + 4, dump_part_stacks);
	}
	if (opt.sysrq[0])
		dump_run(&d, "sysrq", DUMP_KLOG_LINES, dump_part_sysrq);
	dump_run(&d, "trace", DUMP_TRACE_LINES + 2, dump_part_trace);
	/* last: reading an io_uring's fdinfo takes its locks */
	dump_run(&d, "fdinfo", DUMP_FDINFO_LINES, dump_part_fdinfo);
	say("# DUMP pid=%d: end of dump %d (%.1f s)\n", pid, d.nr, iowq_now() - t0);
	if (alarm_left)
		alarm(alarm_left + (unsigned int)(iowq_now() - t0) + 1);
out:
	pthread_mutex_unlock(&dump_lock);
}

static pthread_mutex_t dump_req_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool on;
	pid_t focus;
	char why[200];
} dump_req;

/*
 * Dump this process, for a thread whose latencies are measured (a dump
 * takes a second or more) or that holds a ring's lock: the main thread
 * does it (dump_requested()) within 20 ms, while that thread goes on.
 * Once the run stops, the main thread waits for the others: the caller
 * dumps then.
 */
static void dump_self_later(pid_t focus, const char *fmt, ...)
{
	char why[sizeof(dump_req.why)];
	bool now;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&dump_req_lock);
	now = atomic_load(&stop_flag);
	if (!now && !dump_req.on) {
		dump_req.on = true;
		dump_req.focus = focus;
		memcpy(dump_req.why, why, sizeof(why));
	}
	pthread_mutex_unlock(&dump_req_lock);
	if (now)
		dump_stuck(getpid(), focus, "%s", why);
}

/* The main thread: the dump another thread asked for, if any. */
static void dump_requested(void)
{
	char why[sizeof(dump_req.why)];
	pid_t focus;
	bool on;

	pthread_mutex_lock(&dump_req_lock);
	on = dump_req.on;
	focus = dump_req.focus;
	memcpy(why, dump_req.why, sizeof(why));
	dump_req.on = false;
	pthread_mutex_unlock(&dump_req_lock);
	if (on)
		dump_stuck(getpid(), focus, "%s", why);
}

/* The end of the run: set stop_flag, then dump what was asked for. */
static void stop_run(void)
{
	pthread_mutex_lock(&dump_req_lock);
	atomic_store(&stop_flag, 1);
	pthread_mutex_unlock(&dump_req_lock);
	dump_requested();
}

/* ---- the ordered files -------------------------------------------------- */

/* Check the files against what completed; returns the violations found. */
static long check_files(long *nrecs)
{
	long before = atomic_load(&nr_violations);
	int nts = atomic_load(&nr_tstates), f, k, i;
	uint8_t **useen = calloc(nts, sizeof(*useen));
	int64_t *ulast = calloc((size_t)nts * NFILES * 9, sizeof(*ulast));
	int8_t **clast = calloc(nts, sizeof(*clast));
	char rec[RECLEN + 1], name[32];

	if (nts > MAX_TSTATES)
		nts = MAX_TSTATES;
	for (k = 0; k < nts; k++) {
		struct tstate *ts = tstates[k];
		size_t n = 0;

		for (f = 0; f < NFILES; f++)
			n += ts->nu[f];
		useen[k] = calloc(n + 1, 1);
		clast[k] = malloc(ts->nch * (MAXCHAIN + 1) + 1);
		memset(clast[k], -1, ts->nch * (MAXCHAIN + 1) + 1);
	}
	for (i = 0; i < nts * NFILES * 9; i++)
		ulast[i] = -1;
	*nrecs = 0;
	for (f = 0; f < NFILES; f++) {
		FILE *fp;

		snprintf(name, sizeof(name), "order-%d.dat", f);
		fp = fopen(name, "r");
		if (!fp)
			continue;
		while (fread(rec, 1, RECLEN, fp) == RECLEN) {
			unsigned int t, s, c, ci;
			struct tstate *ts;

			rec[RECLEN] = 0;
			(*nrecs)++;
			if (sscanf(rec, "U t=%u s=%u", &t, &s) == 2 && (int)t < nts &&
			    s < tstates[t]->nu[f]) {
				size_t off = 0;
				int node;
				int64_t *last;

				ts = tstates[t];
				for (i = 0; i < f; i++)
					off += ts->nu[i];
				if (useen[t][off + s]++)
					violation_cat(V_ORDER,
						      "%s: append t=%u s=%u is there twice",
						      name, t, s);
				if (ts->ust[f][s] == ST_CANC || ts->ust[f][s] == ST_INTR)
					violation_cat(V_ORDER,
						      "%s: append t=%u s=%u is there but completed with %s",
						      name, t, s, ts->ust[f][s] == ST_CANC ?
						      "-ECANCELED" : "-EINTR");
				node = ts->unode[f][s];
				if (order_strict)
					node = 0;
				else if (node < 0 || node > 7)
					continue;
				last = &ulast[((size_t)t * NFILES + f) * 9 + node + 1];
				if ((int64_t)s < *last)
					violation_cat(V_ORDER,
						      "%s: append t=%u (slot %d gen %d) s=%u lands after s=%lld%s",
						      name, t, ts->slot, ts->gen, s,
						      (long long)*last, order_strict ? "" :
						      " submitted from the same node");
				else
					*last = s;
			} else if (sscanf(rec, "C t=%u c=%u i=%u", &t, &c, &ci) == 3 &&
				   (int)t < nts && c < tstates[t]->nch &&
				   ci < tstates[t]->ch[c].len && tstates[t]->ch[c].file == f) {
				int8_t *cl;

				ts = tstates[t];
				cl = &clast[t][c * (MAXCHAIN + 1)];
				if (ts->ch[c].st[ci] == ST_CANC || ts->ch[c].st[ci] == ST_INTR)
					violation_cat(V_ORDER,
						      "%s: chain t=%u c=%u member %u is there but was cancelled",
						      name, t, c, ci);
				if (cl[1 + ci] != -1)
					violation_cat(V_ORDER,
						      "%s: chain t=%u c=%u member %u is there twice",
						      name, t, c, ci);
				cl[1 + ci] = 1;
				if ((int)ci != cl[0] + 1)
					violation_cat(V_ORDER,
						      "%s: chain t=%u c=%u: member %u follows member %d",
						      name, t, c, ci, cl[0]);
				cl[0] = ci;
			} else {
				violation_cat(V_ORDER, "%s: record %ld is garbage: '%.40s'",
					      name, *nrecs - 1, rec);
			}
		}
		fclose(fp);
	}
	/* what completed must be there; chains fail as a suffix */
	for (k = 0; k < nts; k++) {
		struct tstate *ts = tstates[k];
		size_t off = 0;
		uint32_t s, c;

		for (f = 0; f < NFILES; f++) {
			for (s = 0; s < ts->nu[f]; s++) {
				if (ts->ust[f][s] == ST_OK && !useen[k][off + s])
					violation_cat(V_ORDER,
						      "order-%d.dat: append t=%d s=%u completed but is missing",
						      f, k, s);
				if (ts->ust[f][s] == ST_PEND)
					violation_cat(V_ORDER, "append t=%d s=%u never completed",
						      k, s);
			}
			off += ts->nu[f];
		}
		for (c = 0; c < ts->nch; c++) {
			struct chainst *ch = &ts->ch[c];
			bool failed = false;

			for (i = 0; i < ch->len; i++) {
				int st = ch->st[i];

				if (st == ST_OK && clast[k][c * (MAXCHAIN + 1) + 1 + i] != 1)
					violation_cat(V_ORDER,
						      "order-%d.dat: chain t=%d c=%u member %d completed but is missing",
						      ch->file, k, c, i);
				if (st == ST_PEND)
					violation_cat(V_ORDER,
						      "chain t=%d c=%u member %d never completed",
						      k, c, i);
				if (failed && (st == ST_OK || st == ST_INTR))
					violation_cat(V_ORDER,
						      "chain t=%d c=%u: member %d has %s after a failed member",
						      k, c, i,
						      st == ST_OK ? "succeeded" : "-EINTR");
				if (st == ST_CANC || st == ST_INTR)
					failed = true;
			}
		}
	}
	for (k = 0; k < nts; k++) {
		free(useen[k]);
		free(clast[k]);
	}
	free(useen);
	free(clast);
	free(ulast);
	return atomic_load(&nr_violations) - before;
}

/* ---- --repro-cancel-chain ----------------------------------------------- */

/*
 * A deterministic check of IORING_ASYNC_CANCEL_ALL against work queued
 * behind a blocked item of the same hash key: a splice from an empty pipe
 * into file F (bound, hashed, blocks its worker) and two appends to F
 * through another fd; then a cancel of that fd with CANCEL_ALL.  The
 * appends are pending, so the cancel must return 2 at once.  The
 * canceller runs on CPU 1 and the workers on CPU 0 (IOWQ_AFF), so that
 * a cancel that spins in the kernel does not take the worker's CPU and
 * ends once the parent feeds the pipe.  Returns the exit status.
 */
static int repro_cancel_chain(void)
{
	int st[2], p[2], res = 0, ret, ares[2] = { 0, 0 };
	struct pollfd pfd;
	double t0, spun = 0;
	pid_t pid;
	char c;

	ksft_print_header();
	ksft_set_plan(1);
	fflush(stdout);
	if (nr_cpus_conf < 2 || pipe(st) || pipe(p)) {
		ksft_test_result_skip("repro-cancel-chain: needs 2 CPUs\n");
		return KSFT_SKIP;
	}
	iowq_pin_cpu(0);
	pid = fork();
	if (!pid) {
		struct io_uring ring;
		struct io_uring_sqe *sqe;
		struct io_uring_cqe *cqe;
		cpu_set_t mask;
		int fd1, fd2, i, ares[2] = { 0, 0 };

		close(st[0]);
		if (iowq_pin_cpu(1) || io_uring_queue_init(8, &ring, 0) || iowq_touch(&ring))
			_exit(10);
		CPU_ZERO(&mask);
		CPU_SET(0, &mask);
		if (io_uring_register_iowq_aff(&ring, sizeof(mask), &mask))
			_exit(11);
		fd1 = open("repro.dat", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		fd2 = open("repro.dat", O_WRONLY | O_APPEND);
		if (fd1 < 0 || fd2 < 0)
			_exit(12);
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_splice(sqe, p[0], -1, fd1, -1, 1, 0);
		sqe->flags |= IOSQE_ASYNC;
		sqe->user_data = 1;
		for (i = 0; i < 2; i++) {
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_write(sqe, fd2, "ab" + i, 1, 0);
			sqe->flags |= IOSQE_ASYNC;
			sqe->user_data = 2 + i;
		}
		if (io_uring_submit(&ring) != 3)
			_exit(13);
		iowq_sleep(0.5);
		if (write(st[1], "s", 1) != 1)
			_exit(14);
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_cancel_fd(sqe, fd2, IORING_ASYNC_CANCEL_ALL);
		sqe->user_data = 4;
		if (io_uring_submit(&ring) != 1)
			_exit(15);
		/* the cancel's CQE first: the splice's needs the parent */
		for (i = 0; i < 4; i++) {
			if (iowq_wait_cqe(&ring, &cqe, 20))
				_exit(16);
			if (cqe->user_data == 4) {
				res = cqe->res;
				if (write(st[1], &res, sizeof(res)) != sizeof(res))
					_exit(17);
			} else if (cqe->user_data >= 2) {
				ares[cqe->user_data - 2] = cqe->res;
			}
			io_uring_cqe_seen(&ring, cqe);
		}
		if (write(st[1], ares, sizeof(ares)) != sizeof(ares))
			_exit(18);
		_exit(0);
	}
	close(st[1]);
	if (read(st[0], &c, 1) != 1) {
		ksft_test_result_fail("repro-cancel-chain: setup failed (status %#x)\n",
				      iowq_waitpid(pid, 10));
		return KSFT_FAIL;
	}
	t0 = iowq_now();
	pfd.fd = st[0];
	pfd.events = POLLIN;
	/* the cancel completes at once: only then is the splice fed */
	if (poll(&pfd, 1, 5000) == 0)
		spun = iowq_now() - t0;
	if (write(p[1], "x", 1) != 1)
		return KSFT_FAIL;
	ret = read(st[0], &res, sizeof(res));
	if (write(p[1], "x", 1) != 1)	/* if the splice took the first */
		return KSFT_FAIL;
	if (read(st[0], ares, sizeof(ares)) != sizeof(ares))
		ret = 0;
	iowq_waitpid(pid, 10);
	if (ret != sizeof(res)) {
		ksft_test_result_fail("repro-cancel-chain: the child failed\n");
		return KSFT_FAIL;
	}
	ksft_print_msg("cancel: %d, appends: %d %d\n", res, ares[0], ares[1]);
	/*
	 * Both cancelled (6.1 counts rounds, not requests: 0..2), or none if
	 * the appends ran (a kernel where the splice does not block).
	 */
	if (spun || !((res >= 0 && res <= 2 && ares[0] == -ECANCELED &&
		       ares[1] == -ECANCELED) ||
		      (res == 0 && ares[0] == 1 && ares[1] == 1))) {
		fprintf(stdout,
			"# IORING_OP_ASYNC_CANCEL (fd, CANCEL_ALL) of 2 appends queued behind a blocked splice of the same file: %s, result %d (want 0..2 at once, the appends -ECANCELED)\n",
			spun ? "did not complete until the splice was released 5 s later" :
			"completed", res);
		ksft_test_result_fail("repro-cancel-chain\n");
		return KSFT_FAIL;
	}
	ksft_test_result_pass("repro-cancel-chain: cancel returned %d at once\n", res);
	return KSFT_PASS;
}

/* ---- main ---------------------------------------------------------------- */

static void on_alarm(int sig)
{
	static const char msg[] =
		"# iowq_stress: global time limit hit: a hang\n"
		"not ok 1 stress: hang (global alarm)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(KSFT_FAIL);
	_exit(KSFT_FAIL);
}

/* Whether the kernel log holds one of the NULL-terminated strings. */
static bool klog_has(const char * const *what)
{
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), i;
	bool found = false;
	char *buf;

	if (n <= 0)
		return false;
	buf = malloc(n + 1);
	if (!buf)
		return false;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
	if (n > 0) {
		buf[n] = 0;
		for (i = 0; what[i] && !found; i++)
			found = strstr(buf, what[i]);
	}
	free(buf);
	return found;
}

/* the io-wq of this series, not upstream 6.1's: see iowq_kernel_is_ours() */
static bool our_iowq(void)
{
	return iowq_kernel_is_ours();
}

/* KASAN, lockdep or kmemleak: the harness's DEBUG=1 kernel, ~11x slower */
static bool debug_kernel(void)
{
	static const char * const banners[] = {
		"KernelAddressSanitizer initialized",
		"Lock dependency validator",
		"kmemleak: Kernel memory leak detector initialized",
		NULL
	};

	return klog_has(banners);
}

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--seed N] [--seconds S] [--threads T] [--hang S]\n"
		"          [--exit-bound S] [--order auto|task|node] [--no-hotplug]\n"
		"          [--no-fork] [--no-signals] [--no-cancel-all]\n"
		"          [--live-bound S] [--live-scale F] [--no-liveness]\n"
		"          [--dumps N] [--sysrq KEYS] [--verbose]\n"
		"  --live-bound S   latency bound of the liveness invariant (default 3 s),\n"
		"                   multiplied by --live-scale (default: 10 on a kernel\n"
		"                   with KASAN, lockdep or kmemleak, 1 otherwise)\n"
		"  --dumps N        dumps of stuck processes per run (default 3, 0: none)\n"
		"  --sysrq KEYS     sysrq keys a dump writes (default w; any of %s,\n"
		"                   \"\" none; t floods a debug kernel's console)\n",
		prog, DUMP_SYSRQ_KEYS);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'j' },
		{ "hang", required_argument, NULL, 'H' },
		{ "exit-bound", required_argument, NULL, 'E' },
		{ "order", required_argument, NULL, 'o' },
		{ "no-hotplug", no_argument, NULL, 'P' },
		{ "no-fork", no_argument, NULL, 'F' },
		{ "no-signals", no_argument, NULL, 'S' },
		{ "no-cancel-all", no_argument, NULL, 'A' },
		{ "live-bound", required_argument, NULL, 'L' },
		{ "live-scale", required_argument, NULL, 'M' },
		{ "no-liveness", no_argument, NULL, 'N' },
		{ "repro-cancel-chain", no_argument, NULL, 'R' },
		{ "dumps", required_argument, NULL, 'D' },
		{ "sysrq", required_argument, NULL, 'Q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	bool have_seed = false;
	int c;

	while ((c = getopt_long(argc, argv, "s:t:j:H:E:o:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 't':
			opt.seconds = atof(optarg);
			break;
		case 'j':
			opt.threads = atoi(optarg);
			break;
		case 'H':
			opt.hang = atof(optarg);
			break;
		case 'E':
			opt.exit_bound = atof(optarg);
			break;
		case 'o':
			opt.order = !strcmp(optarg, "task") ? 1 : !strcmp(optarg, "node") ? 2 : 0;
			break;
		case 'P':
			opt.hotplug = false;
			break;
		case 'F':
			opt.fork = false;
			break;
		case 'S':
			opt.signals = false;
			break;
		case 'A':
			opt.cancel_all = false;
			break;
		case 'L':
			opt.live_bound = atof(optarg);
			break;
		case 'M':
			opt.live_scale = atof(optarg);
			break;
		case 'N':
			opt.liveness = false;
			break;
		case 'R':
			opt.repro = true;
			break;
		case 'D':
			opt.dumps = atoi(optarg);
			break;
		case 'Q':
			if (strlen(optarg) >= sizeof(opt.sysrq) ||
			    strspn(optarg, DUMP_SYSRQ_KEYS) != strlen(optarg))
				print_usage(argv[0]);
			strcpy(opt.sysrq, optarg);
			break;
		case 'v':
			opt.verbose = true;
			break;
		default:
			print_usage(argv[0]);
		}
	}
	if (optind < argc || opt.seconds <= 0 || opt.threads < 1 ||
	    opt.threads > MAX_SLOTS || opt.hang < 1 || opt.live_bound <= 0 ||
	    opt.live_scale < 0 || opt.dumps < 0)
		print_usage(argv[0]);
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt.seed = ((uint64_t)ts.tv_sec * 1000003 + ts.tv_nsec / 1000) % 1000000000;
	}
}

static void spawn(struct slot *s)
{
	int ret;

	s->gen++;
	atomic_store(&s->running, 1);
	atomic_store(&s->tid, 0);
	heartbeat(s);
	s->hb_reported = false;
	ret = pthread_create(&s->th, NULL, slot_main, s);
	if (ret) {
		violation("pthread_create: %s", strerror(ret));
		atomic_store(&s->running, 0);
		s->started = false;
		return;
	}
	s->started = true;
	atomic_fetch_add(&st_threads, 1);
}

/* Join a finished slot thread; its workers must go. */
static void reap_slot(struct slot *s)
{
	pid_t tid = atomic_load(&s->tid);

	pthread_join(s->th, NULL);
	s->started = false;
	if (tid > 0)
		add_dead(tid);
}

/* Service the rings nobody owns (and the shared one) from the main thread. */
static void service_rings(double now, bool hang_check)
{
	struct sring *todo[MAX_RINGS];
	pid_t focus = 0;
	bool hung = false;
	int i, n = 0;

	pthread_mutex_lock(&rings_lock);
	for (i = 0; i < MAX_RINGS; i++) {
		struct sring *r = rings[i];

		if (!r || pthread_mutex_trylock(&r->lock))
			continue;
		if (r->owner < 0 || r->shared)
			ring_service(r, r->owner < 0 && !r->shared, 0);
		if (hang_check && ring_hang_check(r, now) && !hung) {
			hung = true;
			if (r->owner >= 0)
				focus = atomic_load(&slots[r->owner].tid);
		}
		if (r->owner < 0 && !r->shared && r->keep_for < 0 && !r->inflight &&
		    n < MAX_RINGS)
			todo[n++] = r;
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&rings_lock);
	if (hung)
		dump_stuck(getpid(), focus, "requests pending for more than %.0f s",
			   opt.hang);
	for (i = 0; i < n; i++)
		ring_close(todo[i]);
}

static void progress(double now)
{
	long ops = atomic_load(&st_cqe);
	int workers = 0;

	check_dead(now, &workers);
	/* say() in two printf()s: still one line, under out_lock */
	pthread_mutex_lock(&out_lock);
	printf("# t=%.0fs: %ld SQEs, %ld CQEs (%.0f/s), %ld threads, %ld rings, %d io-wq workers, ",
	       now - t_start, atomic_load(&st_sqe), ops, ops / (now - t_start),
	       atomic_load(&st_threads), atomic_load(&st_rings), workers);
	printf("%ld signals, %ld forks, hotplug %ld/%ld, %ld violations\n",
	       atomic_load(&st_signals), atomic_load(&st_forks),
	       hp ? hp->offline : 0, hp ? hp->online : 0, atomic_load(&nr_violations));
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void *closer_main(void *arg)
{
	struct prng p;
	int i;

	(void)arg;
	prng_init(&p, 5, 0);
	for (i = 0; i < MAX_RINGS; i++) {
		struct sring *r;

		pthread_mutex_lock(&rings_lock);
		r = rings[i];
		pthread_mutex_unlock(&rings_lock);
		if (!r)
			continue;
		if (!ring_drain(r, &p, NULL)) {
			bool hung;

			pthread_mutex_lock(&r->lock);
			hung = ring_hang_check(r, iowq_now() + opt.hang);
			pthread_mutex_unlock(&r->lock);
			if (hung)
				dump_stuck(getpid(), 0, "ring %d: requests left after a drain",
					   r->id);
		}
		ring_close(r);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct rlimit rl = { 65536, 65536 };
	long v_cqe, v_order, v_exit, v_hp, v_live, nrecs = 0, total = 0;
	const char *hp_skip;
	double now, last_progress, last_check = 0, secs;
	pthread_t sig_th, fork_th, closer;
	char cwd[256];
	int i, n, workers;

	parse_args(argc, argv);
	restart_ok = getenv("IOWQ_STRESS_RESTART_OK");
	nr_cpus_conf = sysconf(_SC_NPROCESSORS_CONF);
	if (opt.repro)
		return repro_cancel_chain();
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stdout,
		"# iowq_stress: seed=%llu seconds=%g (rerun: iowq_stress --seed %llu --seconds %g)\n",
		(unsigned long long)opt.seed, opt.seconds, (unsigned long long)opt.seed,
		opt.seconds);
	ksft_print_header();
	ksft_set_plan(5);
	fflush(stdout);

	setrlimit(RLIMIT_NOFILE, &rl);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm((unsigned int)(opt.seconds + 3 * opt.hang + 2 * opt.exit_bound + 20));

	nr_cpus_conf = sysconf(_SC_NPROCESSORS_CONF);
	for (i = 0; i < CPU_SETSIZE; i++)
		cpu_node[i] = 0;
	for (n = 0; n < iowq_nr_nodes(); n++) {
		cpu_set_t set;

		if (iowq_node_cpus(n, &set))
			continue;
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpu_node[i] = n;
	}
	order_strict = opt.order == 1 || (opt.order == 0 && our_iowq());
	if (!opt.live_scale)
		opt.live_scale = debug_kernel() ? 10 : 1;
	live.bound = opt.live_bound * opt.live_scale;
	snprintf(live.file, sizeof(live.file), "live.dat");
	unlink(live.file);
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "?");
	for (i = 0; i < NFILES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "order-%d.dat", i);
		unlink(name);
	}
	hp_skip = hotplug_start();
	fprintf(stdout,
		"# %d threads, %d CPUs, %d nodes, hang bound %.0f s, exit bound %.0f s, order checked per %s, cancel-all %s, hotplug %s, fork %s, signals %s, in %s\n",
		opt.threads, nr_cpus_conf, iowq_nr_nodes(), opt.hang, opt.exit_bound,
		order_strict ? "task (across nodes)" : "node", opt.cancel_all ? "on" : "off",
		hp_skip ? hp_skip : "on",
		opt.fork ? "on" : "off", opt.signals ? "on" : "off", cwd);
	if (opt.liveness)
		fprintf(stdout,
			"# liveness: latency bound %.1f s (%g s x %g), up to %d chain reads and %d splices per ring blocked until the end\n",
			live.bound, opt.live_bound, opt.live_scale, LV_HELD_READS,
			LV_HELD_SPLICES);
	else
		printf("# liveness: off\n");
	fflush(stdout);

	t_start = iowq_now();
	t_end = t_start + opt.seconds;
	shared_ring = ring_new(true, -1);
	for (i = 0; i < opt.threads; i++) {
		slots[i].idx = i;
		spawn(&slots[i]);
	}
	if (opt.liveness) {
		time_store(&live.heartbeat, iowq_now());
		live.started = !pthread_create(&live.th, NULL, live_main, NULL);
		if (!live.started)
			violation_cat(V_LIVE, "pthread_create (liveness) failed");
	}
	if (opt.signals)
		pthread_create(&sig_th, NULL, signal_main, NULL);
	if (opt.fork)
		pthread_create(&fork_th, NULL, fork_main, NULL);

	last_progress = t_start;
	while ((now = iowq_now()) < t_end) {
		for (i = 0; i < opt.threads; i++) {
			struct slot *s = &slots[i];

			if (s->started && !atomic_load(&s->running)) {
				reap_slot(s);
				spawn(s);
			} else if (s->started && !s->hb_reported &&
				   now - time_load(&s->heartbeat) > opt.hang) {
				s->hb_reported = true;
				violation("thread %d (slot %d gen %d) made no progress for %.0f s",
					  atomic_load(&s->tid), i, s->gen, opt.hang);
				dump_stuck(getpid(), atomic_load(&s->tid),
					   "thread %d made no progress",
					   atomic_load(&s->tid));
			}
		}
		if (live.started && !live.hb_reported &&
		    now - time_load(&live.heartbeat) > opt.hang) {
			live.hb_reported = true;
			violation_cat(V_LIVE, "liveness thread %d made no progress for %.0f s",
				      atomic_load(&live.tid), opt.hang);
			dump_stuck(getpid(), atomic_load(&live.tid),
				   "liveness thread %d made no progress",
				   atomic_load(&live.tid));
		}
		dump_requested();
		service_rings(now, now - last_check >= 1);
		if (now - last_check >= 1) {
			last_check = now;
			check_dead(now, NULL);
		}
		if (now - last_progress >= 10) {
			last_progress = now;
			progress(now);
		}
		iowq_sleep(0.02);
	}

	/* teardown */
	stop_run();
	say("# stopping after %.1f s\n", iowq_now() - t_start);
	for (i = 0; i < opt.threads; i++) {
		struct slot *s = &slots[i];
		/* beyond ring_drain()'s own bound, which dumps first */
		double end = iowq_now() + opt.hang + 15;

		while (s->started && atomic_load(&s->running) && iowq_now() < end) {
			service_rings(iowq_now(), false);
			iowq_sleep(0.02);
		}
		if (s->started && atomic_load(&s->running)) {
			violation_cat(V_EXIT, "thread %d (slot %d) did not stop within %.0f s",
				      atomic_load(&s->tid), i, opt.hang + 15);
			dump_stuck(getpid(), atomic_load(&s->tid), "thread %d did not stop",
				   atomic_load(&s->tid));
			ksft_test_result_fail("cqe: stopping the threads hung\n");
			printf("# seed=%llu: FAIL\n", (unsigned long long)opt.seed);
			fflush(stdout);
			_exit(KSFT_FAIL);
		}
		if (s->started)
			reap_slot(s);
		if (s->keep) {
			pthread_mutex_lock(&s->keep->lock);
			s->keep->keep_for = -1;
			pthread_mutex_unlock(&s->keep->lock);
			s->keep = NULL;
		}
	}
	if (opt.signals)
		pthread_join(sig_th, NULL);
	if (live.started) {
		pid_t tid = atomic_load(&live.tid);

		if (iowq_join(live.th, live.bound + 2 * opt.hang + 10)) {
			violation_cat(V_LIVE, "the liveness thread did not end");
			dump_stuck(getpid(), tid, "the liveness thread did not end");
			ksft_test_result_fail("liveness: ending the liveness thread hung\n");
			printf("# seed=%llu: FAIL\n", (unsigned long long)opt.seed);
			fflush(stdout);
			_exit(KSFT_FAIL);
		}
		if (tid > 0)
			add_dead(tid);
	}
	if (opt.fork)
		pthread_join(fork_th, NULL);
	hotplug_stop();
	/* a thread of its own cancels and reaps what is left, then exits */
	pthread_create(&closer, NULL, closer_main, NULL);
	if (iowq_join(closer, 2 * opt.hang + 10)) {
		violation("closing the rings hung");
		dump_stuck(getpid(), 0, "closing the rings hung");
		ksft_test_result_fail("cqe: closing the rings hung\n");
		fflush(stdout);
		_exit(KSFT_FAIL);
	}
	total = atomic_load(&st_sqe);
	if (atomic_load(&st_cqe) + atomic_load(&st_discard) != total)
		violation("%ld SQEs but %ld CQEs and %ld discarded with their ring",
			  total, atomic_load(&st_cqe), atomic_load(&st_discard));

	/* workers: of every thread that ended, and none at all at the end */
	while (check_dead(now = iowq_now(), &workers) && now < t_end + 600)
		iowq_sleep(0.1);
	n = iowq_wait_workers(0, 0, 0, opt.exit_bound);
	if (n) {
		violation_cat(V_EXIT, "%d io-wq worker(s) left %.0f s after every submitter ended",
			      n, opt.exit_bound);
		dump_stuck(getpid(), 0, "%d io-wq worker(s) left at the end", n);
	}

	check_files(&nrecs);
	v_cqe = atomic_load(&nr_vcat[V_CQE]);
	v_order = atomic_load(&nr_vcat[V_ORDER]);
	v_exit = atomic_load(&nr_vcat[V_EXIT]);
	v_hp = atomic_load(&nr_vcat[V_HOTPLUG]);
	v_live = atomic_load(&nr_vcat[V_LIVE]);
	secs = iowq_now() - t_start;

	say("# seed=%llu: %ld SQEs, %ld CQEs, %ld discarded with a closed ring, ",
	    (unsigned long long)opt.seed, total, atomic_load(&st_cqe),
	    atomic_load(&st_discard));
	say("%.0f ops/s over %.0f s\n", atomic_load(&st_cqe) / opt.seconds, secs);
	say("#   ops:");
	for (i = 0; i < OP_NR; i++)
		say(" %s=%ld", op_name[i], atomic_load(&st_op[i]));
	say("\n#   threads=%ld rings=%ld (reused %ld)", atomic_load(&st_threads),
	    atomic_load(&st_rings), atomic_load(&st_reuse));
	say(" exits-with-work=%ld closes-with-work=%ld cancel0=%ld aff-einval=%ld\n",
	    atomic_load(&st_exit_inflight), atomic_load(&st_close_inflight),
	    atomic_load(&st_cancel0), atomic_load(&st_aff_einval));
	say("#   reads completed with data after a cancel returned 0 (upstream poll race): %ld\n",
	    atomic_load(&st_poll_race));
	say("#   signals sent=%ld caught=%d;", atomic_load(&st_signals),
	    atomic_load(&sigs_caught));
	say(" children exit=%ld exec=%ld kill=%ld thread-exit=%ld;",
	    atomic_load(&st_children[0]), atomic_load(&st_children[1]),
	    atomic_load(&st_children[2]), atomic_load(&st_children[3]));
	say(" hotplug offline=%ld online=%ld failed=%ld; %ld records in the files\n",
	    hp ? hp->offline : 0, hp ? hp->online : 0, hp ? hp->failed : 0, nrecs);
	if (opt.liveness) {
		long canc = 0;

		say("#   liveness (bound %.1f s): max latency", live.bound);
		for (i = 0; i < LK_NR; i++) {
			say(" %s=%.3fs/%ld", lk_name[i], live.max_lat[i], live.n[i]);
			canc += live.ncanc[i];
		}
		say("; %ld chains, blocked until the end: %ld chain reads, %ld splices;",
		    live.chains, live.held_reads, live.held_splices);
		say(" cancelled %ld\n", canc);
	}

	ksft_test_result(!v_cqe,
			 "cqe: every SQE one CQE, plausible results (%ld violations)\n",
			 v_cqe);
	ksft_test_result(!v_order,
			 "order: appends and linked chains in order, exactly the completed ones (%ld violations)\n",
			 v_order);
	ksft_test_result(!v_exit,
			 "exit: workers gone after their threads, children ended in time (%ld violations)\n",
			 v_exit);
	if (hp_skip)
		ksft_test_result_skip("hotplug: %s\n", hp_skip);
	else
		ksft_test_result(!v_hp,
				 "hotplug: CPU %d taken offline by a second process, online at the end (%ld violations)\n",
				 HOTPLUG_CPU, v_hp);
	if (opt.liveness)
		ksft_test_result(!v_live,
				 "liveness: writes, linked write-fsync-read chains, async NOPs within %.1f s while other work blocks until the end (%ld violations)\n",
				 live.bound, v_live);
	else
		ksft_test_result_skip("liveness: disabled by --no-liveness\n");
	n = atomic_load(&nr_violations);
	printf("# seed=%llu: %s (%d violations)\n", (unsigned long long)opt.seed,
	       n ? "FAIL" : "PASS", n);
	fflush(stdout);
	for (i = 0; i < NFILES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "order-%d.dat", i);
		unlink(name);
	}
	unlink(live.file);
	return n ? KSFT_FAIL : KSFT_PASS;
}
