// SPDX-License-Identifier: GPL-2.0
/*
 * io-wq: the threads that run io_uring work which cannot complete inline.
 * Each task that punts work owns an io_wq with one pool per NUMA node; each
 * pool has a bound and an unbound account, and each account runs about one
 * worker per CPU of the pool at a time, not counting workers that block.
 *
 * Documentation/io_uring/io-wq.rst describes the design, the lock order
 * and the letters that mark each field below with the rule protecting it.
 */
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/errno.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/rculist.h>
#include <linux/cpu.h>
#include <linux/cpuset.h>
#include <linux/task_work.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/hash.h>
#include <linux/irq_work.h>
#include <linux/seq_file.h>
#include <uapi/linux/io_uring.h>

#include "io-wq.h"
#include "slist.h"
#include "io_uring.h"

/* An idle worker exits after this long without work (not the last one). */
#define IO_WQ_IDLE_TIMEOUT	(5 * HZ)
/*
 * A worker that has run one item this long (CPU time, without blocking)
 * stops counting as running: see io_wq_worker_tick().
 */
#define IO_WQ_CPU_INTENSIVE_NS	(10 * NSEC_PER_MSEC)
/* Items a worker completes before it posts a deferred CQ wakeup anyway. */
#define IO_WQ_DEFER_MAX		128
/* Workers beyond nr_cpus that a blocking worker may start: see ->burst. */
#define IO_WQ_BURST_MAX		64
/* Attempts at creating a worker that fail with -EAGAIN. */
#define IO_WQ_CREATE_TRIES	8
/* Back-off between creation attempts: from one jiffy, doubling, up to... */
#define IO_WQ_CREATE_DELAY_MAX	(HZ / 4)
/* io_wq_put_and_exit() waits for workers in slices of this length. */
#define IO_WQ_EXIT_SLICE	HZ

/* one bit of io_wq_hash->map per key */
#if BITS_PER_LONG == 64
#define IO_WQ_HASH_ORDER	6
#else
#define IO_WQ_HASH_ORDER	5
#endif
#define IO_WQ_NR_HASH_BUCKETS	BIT(IO_WQ_HASH_ORDER)

enum {
	IO_WQ_ACCT_BOUND,
	IO_WQ_ACCT_UNBOUND,
	IO_WQ_ACCT_NR,
};

/* io_wq->state */
enum {
	IO_WQ_BIT_EXIT,		/* exiting: no new workers, work is cancelled */
	IO_WQ_BIT_UNUSED,	/* the owner has no ring: no idle worker stays */
};

/* io_wqe_acct->flags */
enum {
	IO_ACCT_STALLED,	/* all queued work waits for busy hash keys */
	IO_ACCT_CREATING,	/* create_cb or retry_work is queued */
};

/* io_worker->flags */
enum {
	IO_WORKER_F_ACTIVE	= 1,	/* out of the idle loop, may run work */
	IO_WORKER_F_RUNNING	= 2,	/* counted in acct->nr_running */
};

/*
 * io_worker->state: FREE changes under acct->lock only, but the tick sets
 * INTENSIVE without it, hence atomic bit operations on the word.
 */
enum {
	IO_WORKER_FREE,		/* idle on the free list, not claimed yet */
	IO_WORKER_INTENSIVE,	/* long in one item: no longer in nr_running */
};

/* Why a worker exits (io_worker_exit_reason(), the io_wq_worker_exit event). */
enum io_wq_exit_reason {
	IO_WQ_EXIT_IDLE,	/* idle timeout, not the last worker */
	IO_WQ_EXIT_UNUSED,	/* the owner has no ring left */
	IO_WQ_EXIT_LIMIT,	/* above the account's limit */
	IO_WQ_EXIT_EXIT,	/* the io-wq is exiting */
	IO_WQ_EXIT_SIGNAL,	/* fatal signal */
};

struct io_wqe;

struct io_worker {
	struct io_wqe_acct *acct;		/* I */
	struct task_struct *task;		/* I (set before it runs) */
	unsigned int flags;			/* W */
	unsigned long state;			/* A */
	/*
	 * Its se.sum_exec_runtime when it last began to run inside an item
	 * (at the start, or on waking up in it); 0 between items.  Read by
	 * the scheduler tick (io_wq_worker_tick()) on the worker's CPU.
	 */
	u64 run_start;				/* W */
	/*
	 * A ring whose CQ wakeup the worker deferred while it had more work
	 * (io_wq_defer_cq_wake()), with a reference; and how many items it
	 * completed since.
	 */
	struct io_ring_ctx *wake_ctx;		/* W, wake_work takes it with xchg() */
	unsigned int nr_deferred;		/* W */
	/*
	 * Posts the deferred wakeup for the tick: waking the ring's waiters
	 * takes a spinlock_t, which hard interrupt context must not (it
	 * sleeps on PREEMPT_RT); an irq_work without IRQ_WORK_HARD_IRQ may.
	 */
	struct irq_work wake_work;
	struct hlist_node free_node;		/* L, R */
	struct list_head all_node;		/* M, R */
	raw_spinlock_t lock;
	/* work being run, and the rest of its hashed chain (linked by ->list) */
	struct io_wq_work *cur_work;		/* K */
	struct io_wq_work *next_work;		/* K */
	/* cur_work was asked to cancel (io_wq_cancel_cb()) */
	bool cur_cancelled;			/* K */
	/*
	 * Since the worker last took acct->lock, which adds them to the
	 * account's statistics: items it ran to the end, items it ran with a
	 * cancel request, and linked items it took on the spot (nr_enqueued).
	 */
	unsigned long nr_done;			/* W */
	unsigned long nr_cancelled;		/* W */
	unsigned long nr_linked;		/* W */
	/* jiffies when it last ran work or was claimed: its idle timeout */
	unsigned long last_active;		/* W */
	/* wakes it when idle for IO_WQ_IDLE_TIMEOUT; armed by the worker */
	struct timer_list idle_timer;		/* W */
	/* new: has neither finished an item nor blocked yet */
	bool fresh;				/* W */
	struct rcu_head rcu;
};

struct io_wqe_acct {
	raw_spinlock_t lock;
	struct io_wq_work_list work_list;	/* L */
	/* last queued item of each hash key's chain */
	struct io_wq_work *hash_tail[IO_WQ_NR_HASH_BUCKETS];	/* L */
	struct hlist_head free_list;		/* L, R */
	struct list_head all_list;		/* M, R */
	unsigned int nr_workers;		/* L: alive + reserved */
	unsigned int nr_reserved;		/* L: reserved, not created */
	/* queued work a worker takes at once: unhashed items + chains */
	unsigned int nr_units;			/* L */
	/* workers on their way to the queue: reserved, starting, woken */
	unsigned int nr_coming;			/* L */
	/*
	 * A new worker blocked in its first item: a worker that blocks may
	 * start IO_WQ_BURST_MAX more workers than the pool has CPUs.  Ends
	 * when a new worker does not block in it or finds nothing, or a
	 * worker takes the last queued unit.
	 */
	bool burst;				/* L */
	/*
	 * Statistics since creation, for fdinfo (io_wq_show_fdinfo()), each
	 * item counted once: enqueued when queued (or taken on the spot as
	 * linked work), then completed or cancelled when done.  The two of
	 * the hot path sit beside nr_units and nr_coming, which the same
	 * critical sections write; the others are of slow paths.
	 */
	unsigned long nr_enqueued;		/* L */
	unsigned long nr_completed;		/* L: workers add their nr_done */
	unsigned int max_workers;		/* L */
	atomic_t nr_running;			/* A, see io_acct_activate() */
	unsigned long flags;			/* A */
	/* on hash->wait while STALLED */
	struct wait_queue_entry stall_wait;	/* hash->wait.lock */
	/* activates the account once a worker turned CPU-intensive */
	struct work_struct intensive_work;
	struct callback_head create_cb;		/* C */
	struct delayed_work retry_work;		/* C */
	unsigned int create_retries;		/* O: failed attempts in a row */
	unsigned int create_fails;		/* O: of which not due to signals */
	unsigned long nr_create_retried;	/* C, READ_ONCE */
	/* L: taken off a queue or chain, or run with a cancel request */
	unsigned long nr_cancelled;
	unsigned long nr_created;		/* L */
	unsigned long nr_create_failed;		/* L: given up */
	unsigned long nr_idle_exits;		/* L: timed out or unused */
	unsigned long nr_hash_stalls;		/* L: times it became STALLED */
	atomic_long_t nr_intensive;		/* A: workers the tick marked */
	int index;				/* I */
	struct io_wqe *wqe;			/* I */
};

struct io_wqe {
	struct io_wqe_acct acct[IO_WQ_ACCT_NR];
	struct io_wq *wq;			/* I */
	int node;				/* I: index in wq->wqes */
	unsigned int nr_cpus;			/* M, READ_ONCE */
	cpumask_var_t cpu_mask;			/* M */
};

struct io_wq {
	unsigned long state;			/* A */
	struct io_wq_hash *hash;		/* I */
	io_wq_work_fn *do_work;			/* I */
	put_work_fn *put_work;			/* I */
	free_work_fn *free_work;		/* I */
	struct task_struct *task;		/* I: the owner */

	/* live workers, plus one until io_wq_put_and_exit() */
	atomic_t nr_alive;			/* A */
	struct completion all_exited;

	/* guards the M fields: worker lists, CPU masks */
	struct mutex workers_lock;
	/* scratch: the owner's cpuset, read anew whenever masks are made */
	cpumask_var_t cpuset;			/* M */
	cpumask_var_t user_mask;		/* M: IOWQ_AFF mask */
	bool has_user_mask;			/* M */
	/* makes the masks again once a CPU hotplug operation is over */
	struct work_struct rebind_work;
	struct hlist_node cpuhp_node;
	/* node whose queue takes each hash key, NUMA_NO_NODE until used */
	int hash_node[IO_WQ_NR_HASH_BUCKETS];	/* A: set once */

	struct io_wqe *wqes[];			/* I */
};

static enum cpuhp_state io_wq_online;

#define CREATE_TRACE_POINTS
#include <trace/events/io_wq.h>

/*
 * The helpers below are on the path of every item: __always_inline, or a
 * kernel built for size (CONFIG_CC_OPTIMIZE_FOR_SIZE) calls each of them,
 * and evaluates the arguments of disabled trace events in a call too.
 */
static __always_inline struct io_wq *acct_wq(struct io_wqe_acct *acct)
{
	return acct->wqe->wq;
}

static __always_inline unsigned int io_work_hash_key(struct io_wq_work *work)
{
	return work->flags >> IO_WQ_HASH_SHIFT;
}

static __always_inline struct io_wqe_acct *io_work_acct(struct io_wqe *wqe,
							struct io_wq_work *work)
{
	if (work->flags & IO_WQ_WORK_UNBOUND)
		return &wqe->acct[IO_WQ_ACCT_UNBOUND];
	return &wqe->acct[IO_WQ_ACCT_BOUND];
}

static __always_inline struct io_wq_work *io_node_work(struct io_wq_work_node *node)
{
	return container_of(node, struct io_wq_work, list);
}

/* Queued work that a worker could take now. */
static __always_inline bool io_acct_runnable(struct io_wqe_acct *acct)
{
	return !wq_list_empty(&acct->work_list) &&
		!test_bit(IO_ACCT_STALLED, &acct->flags);
}

/*
 * Complete @work, and whatever put_work() hands back linked to it, as
 * cancelled: do_work() sees IO_WQ_WORK_CANCEL and fails the request.
 */
static void io_run_cancel(struct io_wq *wq, struct io_wq_work *work)
{
	struct io_wq_work *next;

	for (; work; work = next) {
		work->flags |= IO_WQ_WORK_CANCEL;
		wq->do_work(work);
		if (wq->put_work(work, &next))
			wq->free_work(work);
	}
}

static void io_run_cancel_list(struct io_wq *wq, struct io_wq_work_list *list)
{
	struct io_wq_work_node *node = list->first;

	while (node) {
		struct io_wq_work *work = io_node_work(node);

		node = node->next;
		io_run_cancel(wq, work);
	}
	INIT_WQ_LIST(list);
}

/*
 * Give back @nr reserved worker slots that will not be created.  Returns
 * true if the account is left without any worker.
 */
static bool io_acct_unreserve(struct io_wqe_acct *acct, unsigned int nr)
{
	lockdep_assert_held(&acct->lock);

	acct->nr_reserved -= nr;
	acct->nr_coming -= nr;
	acct->nr_workers -= nr;
	atomic_sub(nr, &acct->nr_running);
	return !acct->nr_workers;
}

/* Take the whole queue of @acct, to cancel it. */
static void io_acct_take_all(struct io_wqe_acct *acct,
			     struct io_wq_work_list *out)
{
	struct io_wq_work_node *node;

	lockdep_assert_held(&acct->lock);

	if (wq_list_empty(&acct->work_list))
		return;
	for (node = acct->work_list.first; node; node = node->next)
		acct->nr_cancelled++;
	if (wq_list_empty(out)) {
		*out = acct->work_list;
	} else {
		out->last->next = acct->work_list.first;
		out->last = acct->work_list.last;
	}
	INIT_WQ_LIST(&acct->work_list);
	memset(acct->hash_tail, 0, sizeof(acct->hash_tail));
	acct->nr_units = 0;
	clear_bit(IO_ACCT_STALLED, &acct->flags);
}

/*
 * The creation request of @acct will not run: give it up with all the
 * slots it was to fill.  The caller held IO_ACCT_CREATING.
 */
static void io_acct_drop_creation(struct io_wqe_acct *acct)
{
	lockdep_assert_held(&acct->lock);

	clear_bit(IO_ACCT_CREATING, &acct->flags);
	io_acct_unreserve(acct, acct->nr_reserved);
}

/*
 * Queue the creation request of @acct (held through IO_ACCT_CREATING) as
 * task_work of the owner.  The EXIT bit is checked again once it is queued:
 * pairs with the barrier in io_wq_exit_start(), so that either
 * io_wq_cancel_creation() finds the request or we see EXIT and take it
 * back.  Returns false if the request is not queued: the owner is exiting,
 * and its exit cancels whatever is queued.
 */
static bool io_acct_post_create(struct io_wqe_acct *acct)
{
	struct io_wq *wq = acct_wq(acct);

	if (test_bit(IO_WQ_BIT_EXIT, &wq->state) ||
	    task_work_add(wq->task, &acct->create_cb, TWA_SIGNAL))
		return false;
	return !test_bit(IO_WQ_BIT_EXIT, &wq->state) ||
	       !task_work_cancel(wq->task, &acct->create_cb);
}

/*
 * What an activation of an account asks of its caller once acct->lock is
 * dropped: nothing that wakes a task or queues task_work runs under that
 * raw lock.  @wake is the idle worker it claimed; the caller entered an
 * RCU read-side section before taking the lock, which keeps the task valid
 * until it is woken (a claimed worker may be running and exit meanwhile).
 * @create: it took IO_ACCT_CREATING, the creation request is to be posted.
 */
struct io_acct_kick {
	struct task_struct *wake;
	bool create;
};

/* Carry out @k, in the RCU read-side section it was filled in. */
static __always_inline void io_acct_kick(struct io_wqe_acct *acct,
					 struct io_acct_kick *k)
{
	if (k->wake)
		wake_up_process(k->wake);
	if (k->create && !io_acct_post_create(acct)) {
		raw_spin_lock(&acct->lock);
		io_acct_drop_creation(acct);
		raw_spin_unlock(&acct->lock);
	}
}

/*
 * Claim an idle worker of @acct, counting it as running and coming; @k
 * wakes it.  The claim bit makes the hand-over with the worker race-free.
 */
static bool io_acct_claim_free(struct io_wqe_acct *acct, struct io_acct_kick *k)
{
	struct io_worker *worker;

	lockdep_assert_held(&acct->lock);

	hlist_for_each_entry(worker, &acct->free_list, free_node) {
		if (test_and_clear_bit(IO_WORKER_FREE, &worker->state)) {
			atomic_inc(&acct->nr_running);
			acct->nr_coming++;
			trace_io_wq_worker_claim(worker);
			k->wake = worker->task;
			return true;
		}
	}
	return false;
}

/*
 * Claim an idle worker if runnable queued work of @acct wants one, below
 * one running worker per CPU of the pool plus @extra.  Workers already
 * woken or starting will take some units; a slot reserved for a worker not
 * created yet does not count here: an idle worker serves at once, while
 * the creation may be slow, retried or fail (the creator drops the
 * reservation when it finds it unneeded).  Returns true if one was claimed.
 */
static __always_inline bool io_acct_wake_free(struct io_wqe_acct *acct,
					      unsigned int extra,
					      struct io_acct_kick *k)
{
	lockdep_assert_held(&acct->lock);

	return io_acct_runnable(acct) &&
	       acct->nr_coming - acct->nr_reserved < acct->nr_units &&
	       atomic_read(&acct->nr_running) - acct->nr_reserved <
	       READ_ONCE(acct->wqe->nr_cpus) + extra &&
	       io_acct_claim_free(acct, k);
}

/*
 * Make sure runnable queued work of @acct gets a worker.  Up to one worker
 * per CPU of the pool runs at a time, plus @extra: below that, claim an
 * idle worker or reserve slots for new ones, one per queued unit that no
 * worker is coming for (counted as running from now on, so that the next
 * caller does not reserve another for the same need).  The caller carries
 * out @k once it has dropped the lock.
 */
static void io_acct_activate(struct io_wqe_acct *acct, unsigned int extra,
			     struct io_acct_kick *k)
{
	unsigned int limit = READ_ONCE(acct->wqe->nr_cpus) + extra;
	struct io_wq *wq = acct_wq(acct);
	bool reserved = false;

	lockdep_assert_held(&acct->lock);

	if (!io_acct_runnable(acct) || io_acct_wake_free(acct, extra, k) ||
	    test_bit(IO_WQ_BIT_EXIT, &wq->state))
		return;
	while (acct->nr_coming < acct->nr_units &&
	       atomic_read(&acct->nr_running) < limit &&
	       acct->nr_workers < acct->max_workers) {
		acct->nr_workers++;
		acct->nr_reserved++;
		acct->nr_coming++;
		atomic_inc(&acct->nr_running);
		reserved = true;
	}
	/* a request already queued creates these too */
	if (reserved && !test_and_set_bit(IO_ACCT_CREATING, &acct->flags))
		k->create = true;
}

/* Activate @acct, taking its lock, and carry out what that asks. */
static void io_acct_activate_unlocked(struct io_wqe_acct *acct)
{
	struct io_acct_kick k = {};

	rcu_read_lock();
	raw_spin_lock(&acct->lock);
	io_acct_activate(acct, 0, &k);
	raw_spin_unlock(&acct->lock);
	io_acct_kick(acct, &k);
	rcu_read_unlock();
}

/* How many workers beyond nr_cpus a worker of @acct that blocks may start. */
static unsigned int io_acct_burst(struct io_wqe_acct *acct)
{
	lockdep_assert_held(&acct->lock);

	return acct->burst ? IO_WQ_BURST_MAX : 0;
}

/*
 * A new worker's first item says whether the work it was started for
 * blocks: if it blocked in it, the burst starts (or goes on) while work is
 * queued; if the item ran without blocking or the worker found nothing
 * to do, the burst ends.
 */
static __always_inline void io_worker_settle(struct io_worker *worker,
					     bool blocked)
{
	struct io_wqe_acct *acct = worker->acct;

	lockdep_assert_held(&acct->lock);

	if (!worker->fresh)
		return;
	worker->fresh = false;
	acct->burst = blocked && !wq_list_empty(&acct->work_list);
}

/*
 * The account stalls: no queued work can run until a hash key is released.
 * Returns false if it had stalled already.
 */
static bool io_acct_mark_stalled(struct io_wqe_acct *acct)
{
	lockdep_assert_held(&acct->lock);

	if (test_and_set_bit(IO_ACCT_STALLED, &acct->flags))
		return false;
	acct->nr_hash_stalls++;
	trace_io_wq_stall(acct, io_work_hash_key(io_node_work(acct->work_list.first)));
	return true;
}

/*
 * Put @work at the end of its hash chain, or of the queue.  Returns true if
 * @work, alone on the queue, starts a chain whose key is busy: nothing
 * queued can run now.
 */
static bool io_acct_insert(struct io_wqe_acct *acct, struct io_wq_work *work)
{
	struct io_wq_work *tail;
	unsigned int key;
	bool alone;

	lockdep_assert_held(&acct->lock);

	if (!io_wq_is_hashed(work)) {
		wq_list_add_tail(&work->list, &acct->work_list);
		acct->nr_units++;
		clear_bit(IO_ACCT_STALLED, &acct->flags);
		return false;
	}
	key = io_work_hash_key(work);
	tail = acct->hash_tail[key];
	acct->hash_tail[key] = work;
	if (tail) {
		wq_list_add_after(&work->list, &tail->list, &acct->work_list);
		return false;
	}
	alone = wq_list_empty(&acct->work_list);
	wq_list_add_tail(&work->list, &acct->work_list);
	acct->nr_units++;
	if (!test_bit(key, &acct_wq(acct)->hash->map)) {
		clear_bit(IO_ACCT_STALLED, &acct->flags);
		return false;
	}
	return alone;
}

/* Unlink queued @work, which follows @prev (NULL: the head). */
static void io_acct_remove(struct io_wqe_acct *acct, struct io_wq_work *work,
			   struct io_wq_work_node *prev)
{
	lockdep_assert_held(&acct->lock);

	if (io_wq_is_hashed(work)) {
		unsigned int key = io_work_hash_key(work);

		if (acct->hash_tail[key] == work) {
			struct io_wq_work *p = prev ? io_node_work(prev) : NULL;

			/* the chain's new tail, if @work was not alone */
			if (p && io_wq_is_hashed(p) && io_work_hash_key(p) == key) {
				acct->hash_tail[key] = p;
			} else {
				acct->hash_tail[key] = NULL;
				acct->nr_units--;
			}
		}
	} else {
		acct->nr_units--;
	}
	wq_list_del(&acct->work_list, &work->list, prev);
}

/*
 * The first queued item that can run now: unhashed, or the head of a chain
 * whose key is not busy.  Chains of busy keys are skipped whole.
 */
static struct io_wq_work *io_acct_first_runnable(struct io_wqe_acct *acct,
						 struct io_wq_work_node **prevp)
{
	unsigned long *map = &acct_wq(acct)->hash->map;
	struct io_wq_work_node *node, *prev;

	lockdep_assert_held(&acct->lock);

	wq_list_for_each(node, prev, &acct->work_list) {
		struct io_wq_work *work = io_node_work(node);
		unsigned int key;

		if (!io_wq_is_hashed(work))
			goto found;
		key = io_work_hash_key(work);
		if (!test_bit(key, map))
			goto found;
		node = &acct->hash_tail[key]->list;
	}
	return NULL;
found:
	*prevp = prev;
	return io_node_work(node);
}

/*
 * @work, just taken off the queue, and the chain behind it go to @worker.
 * acct->lock is enough: cancellation, the only other task that reads or
 * writes them, holds it besides worker->lock (rule K).
 */
static void io_worker_set_cur(struct io_worker *worker, struct io_wq_work *work)
{
	lockdep_assert_held(&worker->acct->lock);

	worker->cur_work = work;
	worker->next_work = wq_next_work(work);
}

/*
 * Take the next runnable work of @acct for @worker: a single item, or a
 * whole hash chain (linked through ->list, ending at the old tail).  The
 * work becomes the worker's cur_work before the lock is dropped, so it is
 * never out of sight of io_wq_cancel_cb().  Marks the account STALLED if
 * work is queued but none can run.
 */
static struct io_wq_work *io_acct_take_work(struct io_wqe_acct *acct,
					    struct io_worker *worker)
{
	unsigned long *map = &acct_wq(acct)->hash->map;
	struct io_wq_work_node *prev;
	struct io_wq_work *work;

	lockdep_assert_held(&acct->lock);
again:
	work = io_acct_first_runnable(acct, &prev);
	if (!work) {
		if (!wq_list_empty(&acct->work_list))
			io_acct_mark_stalled(acct);
		return NULL;
	}
	if (io_wq_is_hashed(work)) {
		unsigned int key = io_work_hash_key(work);
		struct io_wq_work *tail = acct->hash_tail[key];

		/* another io-wq sharing the map took the key meanwhile */
		if (test_and_set_bit(key, map))
			goto again;
		acct->hash_tail[key] = NULL;
		wq_list_cut(&acct->work_list, &tail->list, prev);
	} else {
		wq_list_del(&acct->work_list, &work->list, prev);
	}
	acct->nr_units--;
	/* a burst lasts while work is queued */
	if (wq_list_empty(&acct->work_list))
		acct->burst = false;
	io_worker_set_cur(worker, work);
	return work;
}

static int io_acct_stall_wake(struct wait_queue_entry *wait, unsigned int mode,
			      int sync, void *key)
{
	struct io_wqe_acct *acct = container_of(wait, struct io_wqe_acct,
						stall_wait);

	list_del_init(&wait->entry);
	clear_bit(IO_ACCT_STALLED, &acct->flags);
	trace_io_wq_unstall(acct);
	io_acct_activate_unlocked(acct);
	return 1;
}

/*
 * All queued work of @acct waits for busy hash keys: wait on the hash
 * waitqueue for a key to be released.  Returns true if some work became
 * runnable in the meantime (then we do not wait).
 */
static bool io_acct_stall(struct io_wqe_acct *acct)
{
	struct io_wq_hash *hash = acct_wq(acct)->hash;
	struct io_wq_work_node *prev;
	bool runnable;

	spin_lock_irq(&hash->wait.lock);
	if (list_empty(&acct->stall_wait.entry))
		__add_wait_queue(&hash->wait, &acct->stall_wait);
	/* pairs with wq_has_sleeper() in io_wq_hash_release() */
	smp_mb();
	raw_spin_lock(&acct->lock);
	runnable = !!io_acct_first_runnable(acct, &prev);
	if (runnable)
		clear_bit(IO_ACCT_STALLED, &acct->flags);
	raw_spin_unlock(&acct->lock);
	if (runnable)
		list_del_init(&acct->stall_wait.entry);
	spin_unlock_irq(&hash->wait.lock);
	return runnable;
}

static void io_wq_hash_release(struct io_wq *wq, unsigned int key)
{
	clear_bit(key, &wq->hash->map);
	if (wq_has_sleeper(&wq->hash->wait))
		wake_up(&wq->hash->wait);
}

static void io_wqe_enqueue(struct io_wqe *wqe, struct io_wq_work *work)
{
	struct io_wqe_acct *acct = io_work_acct(wqe, work);
	struct io_acct_kick k = {};
	struct io_wq *wq = wqe->wq;
	bool stalled;

	if (test_bit(IO_WQ_BIT_EXIT, &wq->state) ||
	    (work->flags & IO_WQ_WORK_CANCEL)) {
		io_run_cancel(wq, work);
		return;
	}
	rcu_read_lock();
	raw_spin_lock(&acct->lock);
	stalled = io_acct_insert(acct, work);
	acct->nr_enqueued++;
	trace_io_wq_enqueue(acct, work);
	/*
	 * Work that cannot run starts nobody: the account stalls at once, as
	 * a worker would find when it looks, and waits for the key.
	 */
	stalled = stalled && io_acct_mark_stalled(acct);
	io_acct_activate(acct, 0, &k);
	raw_spin_unlock(&acct->lock);
	io_acct_kick(acct, &k);
	rcu_read_unlock();
	/* the key may have been released meanwhile */
	if (stalled && io_acct_stall(acct))
		io_acct_activate_unlocked(acct);
}

/*
 * Once exit has begun, work that was queued before still runs, with one
 * difference: bound work runs with a notify signal pending, so that a
 * blocking wait inside it ends, and unbound work (which may wait for ever)
 * is completed as cancelled.  This holds for linked work too, so a chain
 * cannot keep a worker after exit.
 */
static bool io_worker_prepare_exit_work(struct io_wq_work *work)
{
	if (work->flags & IO_WQ_WORK_UNBOUND) {
		work->flags |= IO_WQ_WORK_CANCEL;
		return true;
	}
	set_notify_signal(current);
	return false;
}

/* Does @worker have more work to run now: its chain, or its queue? */
static __always_inline bool io_worker_has_more(struct io_worker *worker)
{
	struct io_wqe_acct *acct = worker->acct;

	return READ_ONCE(worker->next_work) ||
	       (READ_ONCE(acct->work_list.first) &&
		!test_bit(IO_ACCT_STALLED, &acct->flags));
}

/*
 * Post the CQ wakeup the worker deferred, if any.  The worker and the
 * irq_work its tick queues (io_wq_worker_tick(), on the same CPU) may both
 * try: xchg() gives the wakeup and the reference to one of them.
 */
static void io_worker_flush_wake(struct io_worker *worker)
{
	struct io_ring_ctx *ctx = xchg(&worker->wake_ctx, NULL);

	if (!ctx)
		return;
	/* pairs with the waiter's prepare_to_wait(), as in io_cqring_wake() */
	smp_mb();
	__io_cqring_wake(ctx);
	percpu_ref_put(&ctx->refs);
}

static void io_worker_wake_work(struct irq_work *work)
{
	io_worker_flush_wake(container_of(work, struct io_worker, wake_work));
}

/**
 * io_wq_defer_cq_wake - may the current worker post a CQ wakeup later?
 * @ctx: the ring whose CQ waiters a completion would wake
 *
 * Called by io_cqring_wake() in an io-wq worker.  A worker with more work
 * to run defers the wakeups of what it completes, so that a waiter woken
 * on its CPU does not preempt it at every completion and find one CQE each
 * time: it posts them when its chain and queue are drained, after
 * IO_WQ_DEFER_MAX items, when the scheduler wants the CPU, before it blocks,
 * or at the next scheduler tick (an item may run long).  One ring at a
 * time; eventfd signals are never deferred.
 *
 * Return: true if the caller must not wake the waiters now.
 */
bool io_wq_defer_cq_wake(struct io_ring_ctx *ctx)
{
	struct io_worker *worker = current->worker_private;

	if (!worker ||
	    worker->flags != (IO_WORKER_F_ACTIVE | IO_WORKER_F_RUNNING) ||
	    !io_worker_has_more(worker) || need_resched())
		return false;
	if (READ_ONCE(worker->wake_ctx) != ctx) {
		if (READ_ONCE(worker->wake_ctx))
			return false;
		percpu_ref_get(&ctx->refs);
		worker->nr_deferred = 0;
		WRITE_ONCE(worker->wake_ctx, ctx);
	}
	return true;
}

/* Has io_run_task_work() anything to do for the current worker? */
static __always_inline bool io_worker_task_work_pending(void)
{
	return task_work_pending(current) ||
	       (read_thread_flags() & (_TIF_NOTIFY_SIGNAL | _TIF_NOTIFY_RESUME));
}

/* The worker begins to run inside an item: the tick measures from now. */
static void io_worker_run_begin(struct io_worker *worker)
{
	WRITE_ONCE(worker->run_start,
		   max_t(u64, current->se.sum_exec_runtime, 1));
}

/*
 * The worker is done with an item: if the tick took it out of nr_running
 * (io_wq_worker_tick()), it counts again.  run_start is cleared first, so
 * that a tick in between cannot take it out again.
 */
static void io_worker_run_end(struct io_worker *worker)
{
	WRITE_ONCE(worker->run_start, 0);
	if (test_and_clear_bit(IO_WORKER_INTENSIVE, &worker->state))
		atomic_inc(&worker->acct->nr_running);
}

/*
 * Run @work and the rest of its chain.  Work linked to an item runs next
 * here, unless the chain goes on or it is hashed: then it is queued.  Either
 * way it is visible to cancellation before the item is freed.
 *
 * The chain is the worker's next_work, which changes under worker->lock
 * only: cancellation takes matching items out of it.  Once do_work() has
 * returned, the item is no longer cur_work (cancelling it is the business
 * of its other owners, e.g. poll) and is never read again but for
 * put_work() and free_work().  A cancel signal sent for an item is cleared
 * once the next one is current, before the next one starts.
 *
 * The hash key of a chain is released as soon as its last hashed item is
 * done: before the work linked to it, which may block for ever (a read of
 * an empty pipe), and before task_work, which may block too (a final fput).
 */
static void io_worker_run_chain(struct io_worker *worker, struct io_wq_work *work)
{
	struct io_wqe_acct *acct = worker->acct;
	struct io_wq *wq = acct_wq(acct);
	int key = io_wq_is_hashed(work) ? io_work_hash_key(work) : -1;

	do {
		struct io_wq_work *linked, *next;
		bool last, cancelled = false;

		if (test_bit(IO_WQ_BIT_EXIT, &wq->state))
			cancelled = io_worker_prepare_exit_work(work);
		trace_io_wq_work_start(worker, work);
		io_worker_run_begin(worker);
		wq->do_work(work);
		io_worker_run_end(worker);
		/* @work may be queued anew by now: the event reads no field */
		trace_io_wq_work_done(worker, work);
		/* a new worker's first item ran without blocking */
		if (unlikely(worker->fresh)) {
			raw_spin_lock(&acct->lock);
			io_worker_settle(worker, false);
			raw_spin_unlock(&acct->lock);
		}

		raw_spin_lock(&worker->lock);
		cancelled |= worker->cur_cancelled;
		worker->cur_cancelled = false;
		next = worker->next_work;
		if (next)
			worker->next_work = wq_next_work(next);
		worker->cur_work = next;
		raw_spin_unlock(&worker->lock);
		if (cancelled)
			worker->nr_cancelled++;
		else
			worker->nr_done++;

		last = wq->put_work(work, &linked);
		if (!next && key >= 0) {
			io_wq_hash_release(wq, key);
			key = -1;
		}
		if (linked && !next && !io_wq_is_hashed(linked)) {
			next = linked;
			worker->nr_linked++;
			raw_spin_lock(&worker->lock);
			worker->cur_work = next;
			raw_spin_unlock(&worker->lock);
		} else if (linked) {
			io_wq_enqueue(wq, linked);
		}
		/* a cancel signal meant for @work must not hit the next one */
		if (io_worker_task_work_pending())
			io_run_task_work();
		if (last)
			wq->free_work(work);
		if (worker->wake_ctx &&
		    (++worker->nr_deferred >= IO_WQ_DEFER_MAX || need_resched() ||
		     (!next && !io_worker_has_more(worker))))
			io_worker_flush_wake(worker);
		work = next;
		/* a long chain lets the CPU go when the tick says so */
		if (work)
			cond_resched();
	} while (work);
}

/*
 * Add what the worker did since it last held acct->lock to the account's
 * statistics; having completed an item, it has been active until now.
 */
static void io_worker_flush_stats(struct io_worker *worker)
{
	struct io_wqe_acct *acct = worker->acct;

	lockdep_assert_held(&acct->lock);

	if (!worker->nr_done && !worker->nr_cancelled)
		return;
	worker->last_active = jiffies;
	acct->nr_completed += worker->nr_done;
	acct->nr_cancelled += worker->nr_cancelled;
	acct->nr_enqueued += worker->nr_linked;
	worker->nr_done = 0;
	worker->nr_cancelled = 0;
	worker->nr_linked = 0;
}

/* The worker stops counting as running (idle or exiting). */
static __always_inline void io_worker_deactivate(struct io_worker *worker)
{
	struct io_wqe_acct *acct = worker->acct;

	lockdep_assert_held(&acct->lock);

	if (worker->flags & IO_WORKER_F_RUNNING)
		atomic_dec(&acct->nr_running);
	worker->flags = 0;
}

/*
 * Why a worker of @acct that found no work must exit (enum
 * io_wq_exit_reason), or -1 if it may wait for more: io-wq is exiting,
 * the account is over its limit, the owner has no ring left, or it timed
 * out and is not the last worker.
 */
static int io_worker_exit_reason(struct io_wqe_acct *acct, bool timed_out)
{
	struct io_wq *wq = acct_wq(acct);

	lockdep_assert_held(&acct->lock);

	if (test_bit(IO_WQ_BIT_EXIT, &wq->state))
		return IO_WQ_EXIT_EXIT;
	if (acct->nr_workers > acct->max_workers)
		return IO_WQ_EXIT_LIMIT;
	if (test_bit(IO_WQ_BIT_UNUSED, &wq->state))
		return IO_WQ_EXIT_UNUSED;
	if (timed_out && acct->nr_workers > 1)
		return IO_WQ_EXIT_IDLE;
	return -1;
}

/* The idle timer fired: the worker looks at its idle time again. */
static void io_worker_idle_timeout(struct timer_list *t)
{
	struct io_worker *worker = from_timer(worker, t, idle_timer);

	wake_up_process(worker->task);
}

/*
 * Sleep on the free list until claimed, woken or the idle timer fires.
 * The timer is armed for the end of the idle timeout only when it is not
 * pending already: a worker that goes idle again and again (a submitter
 * waiting for each completion) does not arm and cancel a timer each time.
 * A timer armed in an earlier idle period fires early at worst; the
 * worker then finds it has not been idle long enough and arms it again.
 * A worker that stays although it timed out (the last one) looks again
 * every IO_WQ_IDLE_TIMEOUT, as another worker may have come meanwhile.
 */
static void io_worker_sleep(struct io_worker *worker, bool timed_out)
{
	unsigned long expires = worker->last_active + IO_WQ_IDLE_TIMEOUT;

	/* task_work queued since: back to the loop, which runs it first */
	if (task_work_pending(current))
		return;
	if (timed_out)
		expires = jiffies + IO_WQ_IDLE_TIMEOUT;
	if (!timer_pending(&worker->idle_timer))
		mod_timer(&worker->idle_timer, expires);
	schedule();
}

/*
 * The worker found no work it could take: wait for some on the free list.
 * Called and returns with acct->lock held; returns false if the worker
 * must exit: io-wq is exiting, the account is over its limit, the owner
 * has no ring left, or it has had no work for IO_WQ_IDLE_TIMEOUT and is
 * not the last worker.  The queue is looked at under the lock that enqueue
 * takes, so no work is left behind by a worker that sleeps or exits.
 *
 * If all queued work waits for busy hash keys, the account waits for a
 * key on the hash waitqueue (io_acct_stall()) and the worker goes idle.
 * Pending task_work (the final fput of the last request's file, which may
 * truncate, reclaim or be throttled) runs first, outside the lock, while
 * the worker still counts as active: if it blocks, the scheduler hooks
 * see it, and nobody can claim the worker from the free list meanwhile.
 * A deferred CQ wakeup is posted there too.  Then the worker looks again.
 */
static bool io_worker_wait(struct io_worker *worker)
	__must_hold(&worker->acct->lock)
{
	struct io_wqe_acct *acct = worker->acct;
	bool claimed, timed_out;
	int reason;

	lockdep_assert_held(&acct->lock);

	if (test_bit(IO_ACCT_STALLED, &acct->flags)) {
		raw_spin_unlock(&acct->lock);
		io_acct_stall(acct);
		raw_spin_lock(&acct->lock);
		/* io_acct_stall() clears STALLED if work became runnable */
		if (io_acct_runnable(acct))
			return true;
	}
	if (READ_ONCE(worker->wake_ctx) || io_worker_task_work_pending()) {
		raw_spin_unlock(&acct->lock);
		io_worker_flush_wake(worker);
		io_run_task_work();
		/* a completion posted from there may have deferred a wakeup */
		io_worker_flush_wake(worker);
		raw_spin_lock(&acct->lock);
		return true;
	}
	io_worker_deactivate(worker);
	/* a new worker that found nothing to do: the burst overshot */
	io_worker_settle(worker, false);
	timed_out = time_after_eq(jiffies, worker->last_active + IO_WQ_IDLE_TIMEOUT);
	reason = io_worker_exit_reason(acct, timed_out);
	if (reason >= 0) {
		if (reason == IO_WQ_EXIT_IDLE || reason == IO_WQ_EXIT_UNUSED)
			acct->nr_idle_exits++;
		trace_io_wq_worker_exit(worker, reason);
		acct->nr_workers--;
		return false;
	}
	set_bit(IO_WORKER_FREE, &worker->state);
	hlist_add_head_rcu(&worker->free_node, &acct->free_list);
	set_current_state(TASK_INTERRUPTIBLE);
	raw_spin_unlock(&acct->lock);

	io_worker_sleep(worker, timed_out);
	__set_current_state(TASK_RUNNING);

	raw_spin_lock(&acct->lock);
	claimed = !test_and_clear_bit(IO_WORKER_FREE, &worker->state);
	hlist_del_init_rcu(&worker->free_node);
	worker->flags = IO_WORKER_F_ACTIVE | IO_WORKER_F_RUNNING;
	/* a claimer counted us already, as running and as coming */
	if (claimed) {
		acct->nr_coming--;
		worker->last_active = jiffies;
	} else {
		atomic_inc(&acct->nr_running);
	}

	if (signal_pending(current)) {
		struct ksignal ksig;
		bool fatal;

		raw_spin_unlock(&acct->lock);
		fatal = get_signal(&ksig);
		raw_spin_lock(&acct->lock);
		/* fatal: the process is going away, its exit cancels the rest */
		if (fatal) {
			io_worker_deactivate(worker);
			trace_io_wq_worker_exit(worker, IO_WQ_EXIT_SIGNAL);
			acct->nr_workers--;
			return false;
		}
	}
	return true;
}

/* An io thread must not return: there is no user context to return to. */
static void __noreturn io_worker_exit(struct io_worker *worker)
{
	struct io_wq *wq = acct_wq(worker->acct);

	mutex_lock(&wq->workers_lock);
	list_del_rcu(&worker->all_node);
	mutex_unlock(&wq->workers_lock);

	del_timer_sync(&worker->idle_timer);
	/* the scheduler hooks must not see the worker once it is freed */
	current->worker_private = NULL;
	irq_work_sync(&worker->wake_work);
	kfree_rcu(worker, rcu);
	if (atomic_dec_and_test(&wq->nr_alive))
		complete(&wq->all_exited);
	do_exit(0);
}

static int io_worker_main(void *data)
{
	struct io_worker *worker = data;
	struct io_wqe_acct *acct = worker->acct;
	struct io_wq *wq = acct_wq(acct);
	char name[TASK_COMM_LEN];

	snprintf(name, sizeof(name), "iou-wrk-%d", wq->task->pid);
	set_task_comm(current, name);
	/*
	 * A new thread inherits its creator's thread flags, and the owner
	 * may have had TIF_NOTIFY_SIGNAL set by task_work queued while it
	 * created us: not a signal for us, but it would end the first
	 * blocking wait of our first work with -EINTR.
	 */
	io_run_task_work();
	/*
	 * Arrived: looks at the queue from now on.  acct->lock is held at the
	 * top of the loop, so that a worker going from one item to the next,
	 * or to the free list and back, takes it once on the way.
	 */
	raw_spin_lock(&acct->lock);
	acct->nr_coming--;
	for (;;) {
		struct io_wq_work *work;

		io_worker_flush_stats(worker);
		work = io_acct_take_work(acct, worker);
		if (work) {
			raw_spin_unlock(&acct->lock);
			io_worker_run_chain(worker, work);
			/*
			 * A long queue lets the CPU go when the tick says so,
			 * between items (a worker about to sleep need not).
			 */
			if (io_acct_runnable(acct))
				cond_resched();
			raw_spin_lock(&acct->lock);
		} else if (!io_worker_wait(worker)) {
			break;
		}
	}
	raw_spin_unlock(&acct->lock);
	io_worker_exit(worker);
}

/*
 * Create one worker for a reserved slot of @acct, from the owner task.
 * Returns 0 or the error of the allocation or of create_io_thread().
 */
static int io_worker_spawn(struct io_wqe_acct *acct)
{
	struct io_wqe *wqe = acct->wqe;
	int node = node_online(wqe->node) ? wqe->node : NUMA_NO_NODE;
	struct io_wq *wq = wqe->wq;
	struct io_worker *worker;
	struct task_struct *tsk;

	worker = kzalloc_node(sizeof(*worker), GFP_KERNEL, node);
	if (!worker)
		return -ENOMEM;
	worker->acct = acct;
	raw_spin_lock_init(&worker->lock);
	/* it starts counted as running: the reservation was */
	worker->flags = IO_WORKER_F_ACTIVE | IO_WORKER_F_RUNNING;
	worker->fresh = true;
	worker->last_active = jiffies;
	timer_setup(&worker->idle_timer, io_worker_idle_timeout, 0);
	init_irq_work(&worker->wake_work, io_worker_wake_work);

	tsk = create_io_thread(io_worker_main, worker, node);
	if (IS_ERR(tsk)) {
		kfree(worker);
		return PTR_ERR(tsk);
	}
	worker->task = tsk;
	tsk->worker_private = worker;

	/* a CPU going or coming meanwhile: rebind_work moves us too */
	mutex_lock(&wq->workers_lock);
	/* the cpuset may have shrunk since the node's mask was made */
	cpuset_cpus_allowed(wq->task, wq->cpuset);
	if (cpumask_intersects(wq->cpuset, wqe->cpu_mask))
		cpumask_and(wq->cpuset, wq->cpuset, wqe->cpu_mask);
	set_cpus_allowed_ptr(tsk, wq->cpuset);
	list_add_tail_rcu(&worker->all_node, &acct->all_list);
	atomic_inc(&wq->nr_alive);
	mutex_unlock(&wq->workers_lock);

	raw_spin_lock(&acct->lock);
	acct->nr_reserved--;
	acct->nr_created++;
	raw_spin_unlock(&acct->lock);
	trace_io_wq_worker_create(worker);

	wake_up_new_task(tsk);
	return 0;
}

static bool io_create_error_is_signal(int err)
{
	return err == -ERESTARTSYS || err == -ERESTARTNOINTR ||
	       err == -ERESTARTNOHAND || err == -ERESTART_RESTARTBLOCK;
}

/*
 * Creation of a worker of @acct failed for good: give back the reserved
 * slots and, if the account has no worker left to run its queue, complete
 * the queued work as cancelled rather than leave it hanging.  Otherwise an
 * idle worker takes what the new one was for; if none is idle, the busy
 * ones take it when they are done (no new creation: it would fail again).
 */
static void io_acct_create_failed(struct io_wqe_acct *acct)
{
	struct io_acct_kick k = {};
	struct io_wq_work_list cancel;

	INIT_WQ_LIST(&cancel);
	rcu_read_lock();
	raw_spin_lock(&acct->lock);
	acct->nr_create_failed++;
	if (io_acct_unreserve(acct, acct->nr_reserved))
		io_acct_take_all(acct, &cancel);
	else
		io_acct_wake_free(acct, 0, &k);
	raw_spin_unlock(&acct->lock);
	io_acct_kick(acct, &k);
	rcu_read_unlock();
	io_run_cancel_list(acct_wq(acct), &cancel);
}

/* Create workers for the reserved slots of @acct.  Runs in the owner task. */
static void io_acct_create_workers(struct io_wqe_acct *acct)
{
	struct io_wq *wq = acct_wq(acct);
	unsigned long delay;
	bool retry;
	int ret;

	clear_bit_unlock(IO_ACCT_CREATING, &acct->flags);
	for (;;) {
		struct io_acct_kick k = {};
		unsigned int extra;

		rcu_read_lock();
		raw_spin_lock(&acct->lock);
		if (!acct->nr_reserved) {
			raw_spin_unlock(&acct->lock);
			rcu_read_unlock();
			return;
		}
		/*
		 * No worker needed after all: the work was taken meanwhile,
		 * or the worker whose blocking asked for this one runs again,
		 * or an idle worker takes the work now (a claim counts as
		 * running and coming, as the reservation did).
		 */
		extra = io_acct_burst(acct);
		if (!io_acct_runnable(acct) ||
		    acct->nr_coming > acct->nr_units ||
		    atomic_read(&acct->nr_running) - acct->nr_reserved >=
		    READ_ONCE(acct->wqe->nr_cpus) + extra ||
		    test_bit(IO_WQ_BIT_EXIT, &wq->state) ||
		    io_acct_wake_free(acct, extra, &k)) {
			io_acct_unreserve(acct, 1);
			raw_spin_unlock(&acct->lock);
			io_acct_kick(acct, &k);
			rcu_read_unlock();
			continue;
		}
		raw_spin_unlock(&acct->lock);
		rcu_read_unlock();

		ret = io_worker_spawn(acct);
		if (!ret) {
			acct->create_retries = 0;
			acct->create_fails = 0;
			continue;
		}
		/* a pending signal is no failure: it goes away */
		retry = !fatal_signal_pending(current) &&
			(io_create_error_is_signal(ret) ||
			 (ret == -EAGAIN &&
			  ++acct->create_fails < IO_WQ_CREATE_TRIES));
		trace_io_wq_worker_create_fail(acct, ret,
					       acct->create_retries + 1, retry);
		if (!retry)
			break;
		/* try again later, from retry_work, backing off */
		if (test_and_set_bit_lock(IO_ACCT_CREATING, &acct->flags))
			return;
		WRITE_ONCE(acct->nr_create_retried, acct->nr_create_retried + 1);
		delay = min_t(unsigned long, 1UL << min(acct->create_retries++, 8U),
			      IO_WQ_CREATE_DELAY_MAX);
		schedule_delayed_work(&acct->retry_work, delay);
		return;
	}
	acct->create_retries = 0;
	acct->create_fails = 0;
	io_acct_create_failed(acct);
}

static void io_acct_create_cb(struct callback_head *cb)
{
	io_acct_create_workers(container_of(cb, struct io_wqe_acct, create_cb));
}

/* A worker of @acct turned CPU-intensive: queued work may want another. */
static void io_acct_intensive_fn(struct work_struct *work)
{
	io_acct_activate_unlocked(container_of(work, struct io_wqe_acct,
					       intensive_work));
}

/* Queue the creation request again after a back-off.  Holds CREATING. */
static void io_acct_retry_fn(struct work_struct *work)
{
	struct io_wqe_acct *acct = container_of(to_delayed_work(work),
						struct io_wqe_acct, retry_work);

	if (io_acct_post_create(acct))
		return;
	raw_spin_lock(&acct->lock);
	io_acct_drop_creation(acct);
	raw_spin_unlock(&acct->lock);
}

/*
 * Take back every creation request of @wq.  Called by the owner task, so
 * create_cb is not running; EXIT is set, so nothing queues a new one.
 */
static void io_wq_cancel_creation(struct io_wq *wq)
{
	int node, i;

	for_each_node(node) {
		for (i = 0; i < IO_WQ_ACCT_NR; i++) {
			struct io_wqe_acct *acct = &wq->wqes[node]->acct[i];

			cancel_delayed_work_sync(&acct->retry_work);
			task_work_cancel(wq->task, &acct->create_cb);
			raw_spin_lock(&acct->lock);
			io_acct_drop_creation(acct);
			raw_spin_unlock(&acct->lock);
		}
	}
}

/**
 * io_wq_worker_sleeping - a worker is about to block
 * @tsk: the worker (current)
 *
 * Called by the scheduler.  A worker blocking inside work stops counting
 * as running, so queued work may get another worker: so does one blocking
 * in task_work between items.  Idle workers are ignored.  Must not sleep.
 */
void io_wq_worker_sleeping(struct task_struct *tsk)
{
	struct io_worker *worker = tsk->worker_private;
	struct io_acct_kick k = {};
	struct io_wqe_acct *acct;

	if (!worker || worker->flags != (IO_WORKER_F_ACTIVE | IO_WORKER_F_RUNNING))
		return;
	/* what it completed must not wait for it to run again */
	io_worker_flush_wake(worker);
	acct = worker->acct;
	worker->flags &= ~IO_WORKER_F_RUNNING;
	rcu_read_lock();
	raw_spin_lock(&acct->lock);
	/* the tick may have taken it out already (it sees flags first) */
	if (!test_and_clear_bit(IO_WORKER_INTENSIVE, &worker->state))
		atomic_dec(&acct->nr_running);
	/* a new worker blocked at once: its successors may well do so too */
	io_worker_settle(worker, true);
	io_acct_activate(acct, io_acct_burst(acct), &k);
	raw_spin_unlock(&acct->lock);
	io_acct_kick(acct, &k);
	rcu_read_unlock();
}

/**
 * io_wq_worker_running - a worker runs again after blocking
 * @tsk: the worker (current)
 *
 * Called by the scheduler: undoes io_wq_worker_sleeping().
 */
void io_wq_worker_running(struct task_struct *tsk)
{
	struct io_worker *worker = tsk->worker_private;

	if (!worker || worker->flags != IO_WORKER_F_ACTIVE)
		return;
	/* inside an item: a new stretch of running begins */
	if (worker->run_start)
		io_worker_run_begin(worker);
	worker->flags |= IO_WORKER_F_RUNNING;
	atomic_inc(&worker->acct->nr_running);
}

/**
 * io_wq_worker_tick - the scheduler tick interrupted a worker
 * @tsk: the worker (current)
 *
 * Called by the scheduler tick, in hard interrupt context.  A worker that
 * has run one item for IO_WQ_CPU_INTENSIVE_NS of CPU time without blocking
 * (a large copy from the page cache, say) stops counting as running, as a
 * worker that blocks does: work queued behind it gets another worker (an
 * idle one, or a new one) instead of waiting for the item to end.  It
 * counts again when the item ends (io_worker_run_end()) or it blocks.
 * acct->lock is not taken in interrupts: the account is activated by a
 * work item.  A CQ wakeup the worker deferred is posted by an irq_work.
 */
void io_wq_worker_tick(struct task_struct *tsk)
{
	struct io_worker *worker = tsk->worker_private;
	struct io_wqe_acct *acct;
	u64 start;

	/* a deferred CQ wakeup waits a tick at most */
	if (worker && READ_ONCE(worker->wake_ctx))
		irq_work_queue(&worker->wake_work);
	if (!worker ||
	    READ_ONCE(worker->flags) != (IO_WORKER_F_ACTIVE | IO_WORKER_F_RUNNING))
		return;
	start = READ_ONCE(worker->run_start);
	if (!start || tsk->se.sum_exec_runtime - start < IO_WQ_CPU_INTENSIVE_NS)
		return;
	if (test_and_set_bit(IO_WORKER_INTENSIVE, &worker->state))
		return;
	acct = worker->acct;
	atomic_dec(&acct->nr_running);
	atomic_long_inc(&acct->nr_intensive);
	trace_io_wq_worker_intensive(worker);
	if (READ_ONCE(acct->work_list.first))
		queue_work(system_highpri_wq, &acct->intensive_work);
}

/**
 * io_wq_worker_stopped - should the current worker stop retrying?
 *
 * Return: true once the io-wq of the current worker is exiting.
 */
bool io_wq_worker_stopped(void)
{
	struct io_worker *worker = current->worker_private;

	if (WARN_ON_ONCE(!io_wq_current_is_worker()))
		return true;
	return test_bit(IO_WQ_BIT_EXIT, &acct_wq(worker->acct)->state);
}

/**
 * io_wq_enqueue - queue work
 * @wq: the io-wq of the submitting task
 * @work: the work, prepared by the caller (flags, hash)
 *
 * The work runs in a worker of the submitting CPU's node (hashed work: of
 * the node its key was first queued on), or is completed as cancelled if
 * @wq is exiting or the work is marked IO_WQ_WORK_CANCEL.
 */
void io_wq_enqueue(struct io_wq *wq, struct io_wq_work *work)
{
	int node = numa_node_id();

	/*
	 * All work of a hash key queues on one node: a submitter moving
	 * between nodes would otherwise split a key's work over two queues,
	 * whose workers take turns in no particular order.
	 */
	if (io_wq_is_hashed(work)) {
		int *home = &wq->hash_node[io_work_hash_key(work)];
		int old = cmpxchg(home, NUMA_NO_NODE, node);

		if (old != NUMA_NO_NODE)
			node = old;
	}
	io_wqe_enqueue(wq->wqes[node], work);
}

/**
 * io_wq_hash_work - serialise work per key
 * @work: work not queued yet
 * @val: the key, e.g. the inode written to
 *
 * Work of one key runs one item at a time, in the order it was queued.
 */
void io_wq_hash_work(struct io_wq_work *work, void *val)
{
	unsigned int key = hash_ptr(val, IO_WQ_HASH_ORDER);

	work->flags |= IO_WQ_WORK_HASHED | (key << IO_WQ_HASH_SHIFT);
}

struct io_cancel_match {
	work_cancel_fn *fn;
	void *data;
	bool all;
	int nr_pending;
	int nr_running;
};

static bool io_match_done(struct io_cancel_match *m)
{
	return !m->all && (m->nr_pending || m->nr_running);
}

/* Take matching queued work of @acct off its queue, into @out. */
static void io_acct_cancel_queued(struct io_wqe_acct *acct,
				  struct io_cancel_match *m,
				  struct io_wq_work_list *out)
{
	struct io_wq_work_node *node = acct->work_list.first, *prev = NULL;

	lockdep_assert_held(&acct->lock);

	while (node && !io_match_done(m)) {
		struct io_wq_work *work = io_node_work(node);

		node = node->next;
		if (!m->fn(work, m->data)) {
			prev = &work->list;
			continue;
		}
		io_acct_remove(acct, work, prev);
		wq_list_add_tail(&work->list, out);
		m->nr_pending++;
		acct->nr_cancelled++;
	}
}

/*
 * Matching work on the workers of @acct: the running item is marked and its
 * worker signalled; matching items of the rest of its chain (next_work) are
 * taken out of it, into @out, to be completed as cancelled like queued work.
 */
static void io_acct_cancel_running(struct io_wqe_acct *acct,
				   struct io_cancel_match *m,
				   struct io_wq_work_list *out)
{
	struct io_worker *worker;

	lockdep_assert_held(&acct->lock);

	rcu_read_lock();
	list_for_each_entry_rcu(worker, &acct->all_list, all_node) {
		struct io_wq_work *cur, *prev = NULL, *work;

		raw_spin_lock(&worker->lock);
		cur = worker->cur_work;
		if (cur && m->fn(cur, m->data)) {
			/* counted as cancelled once it returns */
			cur->flags |= IO_WQ_WORK_CANCEL;
			worker->cur_cancelled = true;
			set_notify_signal(worker->task);
			m->nr_running++;
		}
		work = worker->next_work;
		while (work && !io_match_done(m)) {
			struct io_wq_work *next = wq_next_work(work);

			if (m->fn(work, m->data)) {
				if (prev)
					prev->list.next = work->list.next;
				else
					worker->next_work = next;
				wq_list_add_tail(&work->list, out);
				m->nr_pending++;
				acct->nr_cancelled++;
			} else {
				prev = work;
			}
			work = next;
		}
		raw_spin_unlock(&worker->lock);
		if (io_match_done(m))
			break;
	}
	rcu_read_unlock();
}

/**
 * io_wq_cancel_cb - cancel work
 * @wq: the io-wq
 * @cancel: match function, called under io-wq's locks (must not sleep)
 * @data: passed to @cancel
 * @cancel_all: cancel every match, not just the first
 *
 * Queued matches are completed as cancelled; running ones are marked
 * cancelled and their worker signalled.  Each node's accounts are searched
 * with both of their locks held, so work moving between a queue and a
 * worker is seen in one place or the other.
 *
 * Return: IO_WQ_CANCEL_OK if queued work was cancelled, else
 * IO_WQ_CANCEL_RUNNING if running work was, else IO_WQ_CANCEL_NOTFOUND.
 */
enum io_wq_cancel io_wq_cancel_cb(struct io_wq *wq, work_cancel_fn *cancel,
				  void *data, bool cancel_all)
{
	struct io_cancel_match m = {
		.fn = cancel, .data = data, .all = cancel_all,
	};
	struct io_wq_work_list out;
	int node, i;

	INIT_WQ_LIST(&out);
	for_each_node(node) {
		struct io_wqe *wqe = wq->wqes[node];

		raw_spin_lock(&wqe->acct[IO_WQ_ACCT_BOUND].lock);
		raw_spin_lock_nested(&wqe->acct[IO_WQ_ACCT_UNBOUND].lock,
				     SINGLE_DEPTH_NESTING);
		for (i = 0; i < IO_WQ_ACCT_NR; i++)
			io_acct_cancel_queued(&wqe->acct[i], &m, &out);
		for (i = 0; i < IO_WQ_ACCT_NR; i++)
			io_acct_cancel_running(&wqe->acct[i], &m, &out);
		raw_spin_unlock(&wqe->acct[IO_WQ_ACCT_UNBOUND].lock);
		raw_spin_unlock(&wqe->acct[IO_WQ_ACCT_BOUND].lock);
		if (io_match_done(&m))
			break;
	}
	io_run_cancel_list(wq, &out);
	trace_io_wq_cancel(wq, m.nr_pending, m.nr_running, cancel_all);

	if (m.nr_pending)
		return IO_WQ_CANCEL_OK;
	if (m.nr_running)
		return IO_WQ_CANCEL_RUNNING;
	return IO_WQ_CANCEL_NOTFOUND;
}

/*
 * Make every node's CPU mask: the IOWQ_AFF mask, or else the node's CPUs,
 * within the owner's cpuset; the whole cpuset if that leaves no CPU.  The
 * cpuset is read anew: it changes, and cpuset_cpus_allowed() returns only
 * its CPUs that are online (a CPU coming up joins it once the cpuset's own
 * hotplug work has run).  Called with the CPU hotplug lock held, so the
 * online CPUs are the active ones, which set_cpus_allowed_ptr() takes.
 */
static void io_wq_update_masks(struct io_wq *wq)
{
	int node;

	lockdep_assert_cpus_held();
	lockdep_assert_held(&wq->workers_lock);

	cpuset_cpus_allowed(wq->task, wq->cpuset);
	/* without CONFIG_CPUSETS, that is every possible CPU */
	if (!cpumask_and(wq->cpuset, wq->cpuset, cpu_online_mask))
		cpumask_copy(wq->cpuset, cpu_online_mask);
	for_each_node(node) {
		struct cpumask *mask = wq->wqes[node]->cpu_mask;

		if (!cpumask_and(mask, wq->has_user_mask ? wq->user_mask :
				 cpumask_of_node(node), wq->cpuset))
			cpumask_copy(mask, wq->cpuset);
		WRITE_ONCE(wq->wqes[node]->nr_cpus,
			   max(cpumask_weight(mask), 1U));
		trace_io_wq_affinity(wq->wqes[node]);
	}
}

/*
 * Move every worker to its node's mask; queued work may get more workers
 * if the pool gained CPUs (nr_cpus).
 */
static void io_wq_apply_masks(struct io_wq *wq)
{
	int node, i;

	lockdep_assert_cpus_held();
	lockdep_assert_held(&wq->workers_lock);

	for_each_node(node) {
		struct io_wqe *wqe = wq->wqes[node];

		for (i = 0; i < IO_WQ_ACCT_NR; i++) {
			struct io_worker *worker;

			list_for_each_entry(worker, &wqe->acct[i].all_list, all_node)
				set_cpus_allowed_ptr(worker->task, wqe->cpu_mask);
			io_acct_activate_unlocked(&wqe->acct[i]);
		}
	}
}

/*
 * Make and apply the masks once the hotplug operation that queued us is
 * over and the cpuset has caught up with it: the cpuset's own update is
 * work queued by the operation, and it takes the hotplug lock, so it is
 * waited for without holding that lock.
 */
static void io_wq_rebind_fn(struct work_struct *work)
{
	struct io_wq *wq = container_of(work, struct io_wq, rebind_work);

	cpus_read_lock();
	cpus_read_unlock();
	cpuset_wait_for_hotplug();

	cpus_read_lock();
	mutex_lock(&wq->workers_lock);
	io_wq_update_masks(wq);
	io_wq_apply_masks(wq);
	mutex_unlock(&wq->workers_lock);
	cpus_read_unlock();
}

/*
 * A CPU comes up or goes down.  Its hotplug callback changes nothing: the
 * CPU is not active yet, or still online, so the masks are made again
 * once the operation is over.  Meanwhile the scheduler moves workers off a
 * CPU going down, within their mask or, if that was the only CPU of their
 * mask, within the cpuset.
 */
static int io_wq_cpu_hotplug(unsigned int cpu, struct hlist_node *hnode)
{
	struct io_wq *wq = hlist_entry(hnode, struct io_wq, cpuhp_node);

	queue_work(system_wq, &wq->rebind_work);
	return 0;
}

/**
 * io_wq_cpu_affinity - restrict workers to CPUs (IORING_REGISTER_IOWQ_AFF)
 * @tctx: the task whose io-wq to change
 * @mask: the CPUs, or NULL to go back to each node's own CPUs
 *
 * Applies to existing and future workers of every node.
 *
 * Return: 0, or -EINVAL if there is no io-wq or @mask is not a
 * subset of the task's cpuset or has no online CPU.
 */
int io_wq_cpu_affinity(struct io_uring_task *tctx, cpumask_var_t mask)
{
	struct io_wq *wq = tctx ? tctx->io_wq : NULL;
	int ret = 0;

	if (!wq)
		return -EINVAL;

	cpus_read_lock();
	mutex_lock(&wq->workers_lock);
	if (mask) {
		/* online CPUs of the cpuset, as is the rest of io-wq's masks */
		cpuset_cpus_allowed(wq->task, wq->cpuset);
		if (!cpumask_subset(mask, wq->cpuset) ||
		    !cpumask_intersects(mask, cpu_online_mask)) {
			ret = -EINVAL;
			goto out;
		}
		cpumask_copy(wq->user_mask, mask);
	}
	wq->has_user_mask = !!mask;
	io_wq_update_masks(wq);
	io_wq_apply_masks(wq);
out:
	mutex_unlock(&wq->workers_lock);
	cpus_read_unlock();
	return ret;
}

/**
 * io_wq_set_unused - the owner task has no io_uring ring left, or has again
 * @wq: the io-wq of the task
 * @unused: true when the task's last ring is gone, false when it has one
 *
 * An io-wq without a ring keeps no idle worker: those idle now exit at
 * once, and workers that run out of work later exit rather than wait for
 * more (a leftover iou-wrk thread looks like a leak and holds up
 * checkpoint/restore).  Workers busy with work finish it first.
 */
void io_wq_set_unused(struct io_wq *wq, bool unused)
{
	int node, i;

	if (!unused) {
		clear_bit(IO_WQ_BIT_UNUSED, &wq->state);
		return;
	}
	set_bit(IO_WQ_BIT_UNUSED, &wq->state);
	for_each_node(node) {
		for (i = 0; i < IO_WQ_ACCT_NR; i++) {
			struct io_wqe_acct *acct = &wq->wqes[node]->acct[i];
			struct io_worker *worker;

			/*
			 * A worker checks the bit under acct->lock before it
			 * goes on the free list: past this lock, it either saw
			 * the bit or is on the list.  It is woken outside.
			 */
			raw_spin_lock(&acct->lock);
			raw_spin_unlock(&acct->lock);
			rcu_read_lock();
			hlist_for_each_entry_rcu(worker, &acct->free_list,
						 free_node)
				wake_up_process(worker->task);
			rcu_read_unlock();
		}
	}
}

/**
 * io_wq_max_workers - set the worker limits (IORING_REGISTER_IOWQ_MAX_WORKERS)
 * @wq: the io-wq
 * @new_count: {bound, unbound}; 0 leaves a limit unchanged
 *
 * Limits are capped at RLIMIT_NPROC and apply to each node.  A raised limit
 * lets queued work start workers at once; workers above a lowered limit
 * exit when they next run out of work.
 *
 * Return: 0, with the previous limits (of the first node) in @new_count.
 */
int io_wq_max_workers(struct io_wq *wq, int *new_count)
{
	unsigned long rlim = task_rlimit(current, RLIMIT_NPROC);
	int prev[IO_WQ_ACCT_NR] = { 0 };
	bool first = true;
	int node, i;

	BUILD_BUG_ON((int)IO_WQ_ACCT_BOUND != (int)IO_WQ_BOUND);
	BUILD_BUG_ON((int)IO_WQ_ACCT_UNBOUND != (int)IO_WQ_UNBOUND);
	BUILD_BUG_ON((int)IO_WQ_ACCT_NR != 2);

	for (i = 0; i < IO_WQ_ACCT_NR; i++)
		if ((unsigned long)new_count[i] > rlim)
			new_count[i] = rlim;

	for_each_node(node) {
		for (i = 0; i < IO_WQ_ACCT_NR; i++) {
			struct io_wqe_acct *acct = &wq->wqes[node]->acct[i];

			raw_spin_lock(&acct->lock);
			if (first)
				prev[i] = max_t(int, acct->max_workers, 0);
			if (new_count[i])
				acct->max_workers = new_count[i];
			raw_spin_unlock(&acct->lock);
			io_acct_activate_unlocked(acct);
		}
		trace_io_wq_limits(wq->wqes[node]);
		first = false;
	}

	for (i = 0; i < IO_WQ_ACCT_NR; i++)
		new_count[i] = prev[i];
	return 0;
}

static void io_wq_free(struct io_wq *wq)
{
	int node;

	for_each_node(node) {
		struct io_wqe *wqe = wq->wqes[node];

		if (!wqe)
			continue;
		free_cpumask_var(wqe->cpu_mask);
		kfree(wqe);
	}
	free_cpumask_var(wq->cpuset);
	free_cpumask_var(wq->user_mask);
	if (wq->hash)
		io_wq_put_hash(wq->hash);
	if (wq->task)
		put_task_struct(wq->task);
	kfree(wq);
}

static void io_acct_init(struct io_wqe_acct *acct, struct io_wqe *wqe,
			 int index, unsigned int max_workers)
{
	acct->wqe = wqe;
	acct->index = index;
	acct->max_workers = max_workers;
	raw_spin_lock_init(&acct->lock);
	INIT_WQ_LIST(&acct->work_list);
	INIT_HLIST_HEAD(&acct->free_list);
	INIT_LIST_HEAD(&acct->all_list);
	atomic_set(&acct->nr_running, 0);
	init_waitqueue_func_entry(&acct->stall_wait, io_acct_stall_wake);
	INIT_LIST_HEAD(&acct->stall_wait.entry);
	init_task_work(&acct->create_cb, io_acct_create_cb);
	INIT_DELAYED_WORK(&acct->retry_work, io_acct_retry_fn);
	INIT_WORK(&acct->intensive_work, io_acct_intensive_fn);
}

/**
 * io_wq_create - create the io-wq of a task
 * @bounded: limit of bound workers per node
 * @data: the owner task, the hash map and the work callbacks
 *
 * No worker exists until work is queued.  Called by the owner, or for an
 * SQPOLL thread by the task creating it.
 *
 * Return: the io-wq or an ERR_PTR().
 */
struct io_wq *io_wq_create(unsigned int bounded, struct io_wq_data *data)
{
	unsigned int unbounded;
	struct io_wq *wq;
	int ret, node, i;

	if (WARN_ON_ONCE(!data->do_work || !data->put_work || !data->free_work))
		return ERR_PTR(-EINVAL);
	if (WARN_ON_ONCE(!bounded || !data->hash || !data->task))
		return ERR_PTR(-EINVAL);

	wq = kzalloc(struct_size(wq, wqes, nr_node_ids), GFP_KERNEL);
	if (!wq)
		return ERR_PTR(-ENOMEM);
	refcount_inc(&data->hash->refs);
	wq->hash = data->hash;
	wq->task = get_task_struct(data->task);
	wq->do_work = data->do_work;
	wq->put_work = data->put_work;
	wq->free_work = data->free_work;
	atomic_set(&wq->nr_alive, 1);
	init_completion(&wq->all_exited);
	mutex_init(&wq->workers_lock);
	INIT_WORK(&wq->rebind_work, io_wq_rebind_fn);
	for (i = 0; i < IO_WQ_NR_HASH_BUCKETS; i++)
		wq->hash_node[i] = NUMA_NO_NODE;

	ret = -ENOMEM;
	if (!zalloc_cpumask_var(&wq->cpuset, GFP_KERNEL) ||
	    !zalloc_cpumask_var(&wq->user_mask, GFP_KERNEL))
		goto err;

	unbounded = min_t(unsigned long, task_rlimit(current, RLIMIT_NPROC),
			  UINT_MAX);
	for_each_node(node) {
		int alloc_node = node_online(node) ? node : NUMA_NO_NODE;
		struct io_wqe *wqe;

		wqe = kzalloc_node(sizeof(*wqe), GFP_KERNEL, alloc_node);
		if (!wqe)
			goto err;
		wq->wqes[node] = wqe;
		if (!zalloc_cpumask_var(&wqe->cpu_mask, GFP_KERNEL))
			goto err;
		wqe->wq = wq;
		wqe->node = node;
		io_acct_init(&wqe->acct[IO_WQ_ACCT_BOUND], wqe,
			     IO_WQ_ACCT_BOUND, bounded);
		io_acct_init(&wqe->acct[IO_WQ_ACCT_UNBOUND], wqe,
			     IO_WQ_ACCT_UNBOUND, unbounded);
	}

	/* the pools are complete before a hotplug event can reach them */
	cpus_read_lock();
	mutex_lock(&wq->workers_lock);
	io_wq_update_masks(wq);
	mutex_unlock(&wq->workers_lock);
	ret = cpuhp_state_add_instance_nocalls_cpuslocked(io_wq_online,
							  &wq->cpuhp_node);
	cpus_read_unlock();
	if (ret)
		goto err;
	return wq;
err:
	io_wq_free(wq);
	return ERR_PTR(ret);
}

/**
 * io_wq_exit_start - begin the exit of an io-wq
 * @wq: the io-wq
 *
 * From now on no worker is created and new work completes as cancelled;
 * work already queued still runs on the workers there are (see
 * io_worker_prepare_exit_work()).  Called by the owner task.
 */
void io_wq_exit_start(struct io_wq *wq)
{
	set_bit(IO_WQ_BIT_EXIT, &wq->state);
	/* pairs with the EXIT checks after task_work_add() */
	smp_mb__after_atomic();
	io_wq_cancel_creation(wq);
}

static void io_wq_signal_workers(struct io_wq *wq)
{
	struct io_worker *worker;
	int node, i;

	mutex_lock(&wq->workers_lock);
	for_each_node(node) {
		for (i = 0; i < IO_WQ_ACCT_NR; i++) {
			list_for_each_entry(worker, &wq->wqes[node]->acct[i].all_list,
					    all_node) {
				set_notify_signal(worker->task);
				wake_up_process(worker->task);
			}
		}
	}
	mutex_unlock(&wq->workers_lock);
}

/**
 * io_wq_put_and_exit - stop all workers and free the io-wq
 * @wq: the io-wq
 *
 * Signals every worker and waits for all of them (in slices, signalling
 * again each time, so a worker that was not blocked interruptibly at the
 * first signal is not missed), then cancels the work still queued and frees
 * @wq.  Called by the owner task.
 */
void io_wq_put_and_exit(struct io_wq *wq)
{
	struct io_wq_work_list cancel;
	int node, i;

	io_wq_exit_start(wq);

	if (!atomic_dec_and_test(&wq->nr_alive)) {
		do {
			io_wq_signal_workers(wq);
		} while (!wait_for_completion_timeout(&wq->all_exited,
						      IO_WQ_EXIT_SLICE));
	}

	cpuhp_state_remove_instance_nocalls(io_wq_online, &wq->cpuhp_node);
	cancel_work_sync(&wq->rebind_work);

	INIT_WQ_LIST(&cancel);
	for_each_node(node) {
		for (i = 0; i < IO_WQ_ACCT_NR; i++) {
			struct io_wqe_acct *acct = &wq->wqes[node]->acct[i];

			/* queued by a worker's tick, before it exited */
			cancel_work_sync(&acct->intensive_work);
			spin_lock_irq(&wq->hash->wait.lock);
			list_del_init(&acct->stall_wait.entry);
			spin_unlock_irq(&wq->hash->wait.lock);
			raw_spin_lock(&acct->lock);
			io_acct_take_all(acct, &cancel);
			raw_spin_unlock(&acct->lock);
		}
	}
	io_run_cancel_list(wq, &cancel);
	io_wq_free(wq);
}

static const char *const io_acct_names[IO_WQ_ACCT_NR] = {
	[IO_WQ_ACCT_BOUND]	= "bound",
	[IO_WQ_ACCT_UNBOUND]	= "unbound",
};

/**
 * io_wq_show_fdinfo - print the state and statistics of an io-wq
 * @m: the fdinfo file of a ring
 * @wq: the io-wq of a task that uses the ring
 *
 * One "IoWq:" line per node and account, of space-separated key=value
 * pairs: the owner's pid, the node and account, its workers (alive, idle
 * on the free list, busy, running in the sense of the concurrency rule,
 * the limit), its queued units and whether it is stalled on hash keys,
 * then counters since the io-wq was created.  Each line is a snapshot
 * taken under the account's lock.  The caller keeps @wq alive: io_uring
 * holds the ring's uring_lock (for an SQPOLL thread's io-wq, the
 * sq_data's lock), without which the task leaves the ring before its
 * io-wq goes.
 */
void io_wq_show_fdinfo(struct seq_file *m, struct io_wq *wq)
{
	int node, i;

	for_each_node(node) {
		for (i = 0; i < IO_WQ_ACCT_NR; i++) {
			struct io_wqe_acct *acct = &wq->wqes[node]->acct[i];
			unsigned int alive, idle = 0, limit, queued;
			unsigned long c[9];
			struct io_worker *worker;
			bool stalled;
			int running;

			raw_spin_lock(&acct->lock);
			hlist_for_each_entry(worker, &acct->free_list, free_node)
				idle += test_bit(IO_WORKER_FREE, &worker->state);
			alive = acct->nr_workers - acct->nr_reserved;
			running = atomic_read(&acct->nr_running) -
				  acct->nr_reserved;
			limit = acct->max_workers;
			queued = acct->nr_units;
			stalled = test_bit(IO_ACCT_STALLED, &acct->flags);
			c[0] = acct->nr_enqueued;
			c[1] = acct->nr_completed;
			c[2] = acct->nr_cancelled;
			c[3] = acct->nr_created;
			c[4] = acct->nr_create_failed;
			c[5] = READ_ONCE(acct->nr_create_retried);
			c[6] = acct->nr_idle_exits;
			c[7] = acct->nr_hash_stalls;
			c[8] = atomic_long_read(&acct->nr_intensive);
			raw_spin_unlock(&acct->lock);

			seq_printf(m, "IoWq:\tpid=%d node=%d acct=%s alive=%u idle=%u busy=%u running=%d limit=%u queued=%u stalled=%d",
				   task_pid_vnr(wq->task), node, io_acct_names[i],
				   alive, idle, alive - idle, running, limit,
				   queued, stalled);
			seq_printf(m, " enqueued=%lu completed=%lu cancelled=%lu created=%lu create_failed=%lu create_retried=%lu idle_exits=%lu hash_stalls=%lu intensive=%lu\n",
				   c[0], c[1], c[2], c[3], c[4], c[5], c[6],
				   c[7], c[8]);
		}
	}
}

static __init int io_wq_init(void)
{
	int ret;

	ret = cpuhp_setup_state_multi(CPUHP_AP_ONLINE_DYN, "io-wq/online",
				      io_wq_cpu_hotplug, io_wq_cpu_hotplug);
	if (ret < 0)
		return ret;
	io_wq_online = ret;
	return 0;
}
subsys_initcall(io_wq_init);
