/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of io-wq, io_uring's worker pool (io_uring/io-wq.c).
 *
 * Every event names the io-wq by its owner (the pid of the task whose
 * work it runs, the <pid> of its iou-wrk-<pid> threads) and, where it
 * concerns one pool, the NUMA node of the pool (as fdinfo's IoWq lines
 * number them) and the account (bound or unbound).  Work is named by its
 * request, the pointer io_uring's own events print as "req".
 * Documentation/io_uring/io-wq.rst describes each event with an example.
 *
 * Only io-wq.c includes this header, after the definitions of its
 * structures and of enum io_wq_exit_reason: the events take them and fill
 * their fields themselves.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM io_wq

#if !defined(_TRACE_IO_WQ_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_IO_WQ_H

#include <linux/tracepoint.h>
#include <linux/io_uring_types.h>

struct io_wq;
struct io_wqe;
struct io_wqe_acct;
struct io_worker;

/* enum io_wq_exit_reason: the format files show the values, decoded */
TRACE_DEFINE_ENUM(IO_WQ_EXIT_IDLE);
TRACE_DEFINE_ENUM(IO_WQ_EXIT_UNUSED);
TRACE_DEFINE_ENUM(IO_WQ_EXIT_LIMIT);
TRACE_DEFINE_ENUM(IO_WQ_EXIT_EXIT);
TRACE_DEFINE_ENUM(IO_WQ_EXIT_SIGNAL);

#define io_wq_show_acct(acct)						\
	__print_symbolic(acct, { 0, "bound" }, { 1, "unbound" })

#define io_wq_show_reason(reason)					\
	__print_symbolic(reason,					\
			 { IO_WQ_EXIT_IDLE,	"idle" },		\
			 { IO_WQ_EXIT_UNUSED,	"unused" },		\
			 { IO_WQ_EXIT_LIMIT,	"over-limit" },		\
			 { IO_WQ_EXIT_EXIT,	"exit" },		\
			 { IO_WQ_EXIT_SIGNAL,	"fatal-signal" })

/* fill the fields that name an account: owner, node, acct */
#define io_wq_assign_acct(a)						\
	do {								\
		__entry->owner	= (a)->wqe->wq->task->pid;		\
		__entry->node	= (a)->wqe->node;			\
		__entry->acct	= (a)->index;				\
	} while (0)

#define IO_WQ_ACCT_FMT		"owner %d node %d %s"

/**
 * io_wq_enqueue - work was queued
 * @acct: the account it was queued on
 * @work: the work
 *
 * Prints the request, its hash key (-1: not hashed) and the queued units
 * of the account after it.
 */
TRACE_EVENT(io_wq_enqueue,

	TP_PROTO(struct io_wqe_acct *acct, struct io_wq_work *work),

	TP_ARGS(acct, work),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(void *,		req)
		__field(int,		key)
		__field(unsigned int,	queued)
	),

	TP_fast_assign(
		io_wq_assign_acct(acct);
		__entry->req	= container_of(work, struct io_kiocb, work);
		__entry->key	= io_wq_is_hashed(work) ?
				  (int)(work->flags >> IO_WQ_HASH_SHIFT) : -1;
		__entry->queued	= acct->nr_units;
	),

	TP_printk(IO_WQ_ACCT_FMT " req %p key %d queued %u", __entry->owner,
		  __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->req, __entry->key, __entry->queued)
);

DECLARE_EVENT_CLASS(io_wq_work_class,

	TP_PROTO(struct io_worker *worker, struct io_wq_work *work),

	TP_ARGS(worker, work),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		worker)
		__field(void *,		req)
	),

	TP_fast_assign(
		io_wq_assign_acct(worker->acct);
		__entry->worker	= worker->task->pid;
		__entry->req	= container_of(work, struct io_kiocb, work);
	),

	TP_printk(IO_WQ_ACCT_FMT " worker %d req %p", __entry->owner,
		  __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->worker, __entry->req)
);

/**
 * io_wq_work_start - a worker starts running work
 * @worker: the worker
 * @work: the work
 *
 * The time since its io_wq_enqueue is the time it was queued.
 */
DEFINE_EVENT(io_wq_work_class, io_wq_work_start,
	TP_PROTO(struct io_worker *worker, struct io_wq_work *work),
	TP_ARGS(worker, work)
);

/**
 * io_wq_work_done - a worker is done with work (it may be freed now)
 * @worker: the worker
 * @work: the work
 *
 * The time since its io_wq_work_start is the time it ran.
 */
DEFINE_EVENT(io_wq_work_class, io_wq_work_done,
	TP_PROTO(struct io_worker *worker, struct io_wq_work *work),
	TP_ARGS(worker, work)
);

DECLARE_EVENT_CLASS(io_wq_worker_class,

	TP_PROTO(struct io_worker *worker),

	TP_ARGS(worker),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		worker)
	),

	TP_fast_assign(
		io_wq_assign_acct(worker->acct);
		__entry->worker	= worker->task->pid;
	),

	TP_printk(IO_WQ_ACCT_FMT " worker %d", __entry->owner,
		  __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->worker)
);

/**
 * io_wq_worker_create - a worker was created
 * @worker: the new worker
 */
DEFINE_EVENT(io_wq_worker_class, io_wq_worker_create,
	TP_PROTO(struct io_worker *worker),
	TP_ARGS(worker)
);

/**
 * io_wq_worker_claim - an idle worker was taken off the free list for work
 * @worker: the worker
 */
DEFINE_EVENT(io_wq_worker_class, io_wq_worker_claim,
	TP_PROTO(struct io_worker *worker),
	TP_ARGS(worker)
);

/**
 * io_wq_worker_intensive - a worker stopped counting as running: it has run
 *	one item for IO_WQ_CPU_INTENSIVE_NS of CPU time without blocking
 * @worker: the worker
 */
DEFINE_EVENT(io_wq_worker_class, io_wq_worker_intensive,
	TP_PROTO(struct io_worker *worker),
	TP_ARGS(worker)
);

/**
 * io_wq_worker_create_fail - creating a worker failed
 * @acct: the account it was for
 * @error: the error of create_io_thread() or of the allocation
 * @attempt: failed attempts in a row, this one included
 * @retry: whether it is tried again later
 */
TRACE_EVENT(io_wq_worker_create_fail,

	TP_PROTO(struct io_wqe_acct *acct, int error, unsigned int attempt,
		 bool retry),

	TP_ARGS(acct, error, attempt, retry),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		error)
		__field(unsigned int,	attempt)
		__field(bool,		retry)
	),

	TP_fast_assign(
		io_wq_assign_acct(acct);
		__entry->error		= error;
		__entry->attempt	= attempt;
		__entry->retry		= retry;
	),

	TP_printk(IO_WQ_ACCT_FMT " error %d attempt %u %s", __entry->owner,
		  __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->error, __entry->attempt,
		  __entry->retry ? "retry" : "given up")
);

/**
 * io_wq_worker_exit - a worker exits
 * @worker: the worker
 * @reason: enum io_wq_exit_reason
 */
TRACE_EVENT(io_wq_worker_exit,

	TP_PROTO(struct io_worker *worker, int reason),

	TP_ARGS(worker, reason),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		worker)
		__field(int,		reason)
	),

	TP_fast_assign(
		io_wq_assign_acct(worker->acct);
		__entry->worker	= worker->task->pid;
		__entry->reason	= reason;
	),

	TP_printk(IO_WQ_ACCT_FMT " worker %d reason %s", __entry->owner,
		  __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->worker, io_wq_show_reason(__entry->reason))
);

/**
 * io_wq_stall - all queued work of an account waits for busy hash keys
 * @acct: the account
 * @key: hash key of the first queued work
 */
TRACE_EVENT(io_wq_stall,

	TP_PROTO(struct io_wqe_acct *acct, unsigned int key),

	TP_ARGS(acct, key),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(unsigned int,	key)
	),

	TP_fast_assign(
		io_wq_assign_acct(acct);
		__entry->key	= key;
	),

	TP_printk(IO_WQ_ACCT_FMT " key %u", __entry->owner,
		  __entry->node, io_wq_show_acct(__entry->acct), __entry->key)
);

/**
 * io_wq_unstall - a hash key was released: a stalled account may run again
 * @acct: the account
 */
TRACE_EVENT(io_wq_unstall,

	TP_PROTO(struct io_wqe_acct *acct),

	TP_ARGS(acct),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
	),

	TP_fast_assign(
		io_wq_assign_acct(acct);
	),

	TP_printk(IO_WQ_ACCT_FMT, __entry->owner,
		  __entry->node, io_wq_show_acct(__entry->acct))
);

/**
 * io_wq_cancel - io_wq_cancel_cb() searched an io-wq
 * @wq: the io-wq
 * @queued: matching work taken off queues (or off a worker's chain)
 * @running: matching running work, marked and its worker signalled
 * @all: whether every match was wanted, or the first
 */
TRACE_EVENT(io_wq_cancel,

	TP_PROTO(struct io_wq *wq, unsigned int queued, unsigned int running,
		 bool all),

	TP_ARGS(wq, queued, running, all),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(unsigned int,	queued)
		__field(unsigned int,	running)
		__field(bool,		all)
	),

	TP_fast_assign(
		__entry->owner		= wq->task->pid;
		__entry->queued		= queued;
		__entry->running	= running;
		__entry->all		= all;
	),

	TP_printk("owner %d %s queued %u running %u %s",
		  __entry->owner,
		  __entry->queued ? "found-queued" :
		  __entry->running ? "found-running" : "not-found",
		  __entry->queued, __entry->running,
		  __entry->all ? "all" : "first")
);

/**
 * io_wq_limits - the worker limits of a pool changed
 * @wqe: the pool
 */
TRACE_EVENT(io_wq_limits,

	TP_PROTO(struct io_wqe *wqe),

	TP_ARGS(wqe),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(unsigned int,	bound)
		__field(unsigned int,	unbound)
	),

	TP_fast_assign(
		__entry->owner		= wqe->wq->task->pid;
		__entry->node		= wqe->node;
		__entry->bound		= wqe->acct[IO_WQ_ACCT_BOUND].max_workers;
		__entry->unbound	= wqe->acct[IO_WQ_ACCT_UNBOUND].max_workers;
	),

	TP_printk("owner %d node %d bound %u unbound %u", __entry->owner,
		  __entry->node, __entry->bound, __entry->unbound)
);

/**
 * io_wq_affinity - the CPU mask of a pool's workers was made
 * @wqe: the pool
 */
TRACE_EVENT(io_wq_affinity,

	TP_PROTO(struct io_wqe *wqe),

	TP_ARGS(wqe),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__bitmask(cpus,		nr_cpumask_bits)
	),

	TP_fast_assign(
		__entry->owner	= wqe->wq->task->pid;
		__entry->node	= wqe->node;
		__assign_bitmask(cpus, cpumask_bits(wqe->cpu_mask),
				 nr_cpumask_bits);
	),

	TP_printk("owner %d node %d cpus %s", __entry->owner, __entry->node,
		  __get_bitmask(cpus))
);

#endif /* _TRACE_IO_WQ_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
