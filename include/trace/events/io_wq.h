/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of io-wq, io_uring's worker pool (io_uring/io-wq.c).
 *
 * Every event names the io-wq by its owner (the pid of the task whose
 * work it runs, the <pid> of its iou-wrk-<pid> threads), the NUMA node of
 * the pool and the account (bound or unbound).  Work is named by a hash
 * of the address of its struct io_wq_work, the same in the io_wq_enqueue,
 * io_wq_work_start and io_wq_work_done of one item (and readable early,
 * unlike %p, whose hashing waits for entropy).  io_wq_work_start says how
 * long the item waited in the queue, io_wq_work_done how long it ran.
 * Documentation/io_uring/io-wq.rst describes each event with an example.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM io_wq

#if !defined(_TRACE_IO_WQ_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_IO_WQ_H

#include <linux/tracepoint.h>
#include <linux/hash.h>

#ifndef _TRACE_IO_WQ_CONSTANTS
#define _TRACE_IO_WQ_CONSTANTS
/* why a worker exits (io_wq_worker_exit) */
enum io_wq_exit_reason {
	IO_WQ_EXIT_IDLE,	/* idle timeout, not the last worker */
	IO_WQ_EXIT_UNUSED,	/* the owner has no ring left */
	IO_WQ_EXIT_LIMIT,	/* above the account's limit */
	IO_WQ_EXIT_EXIT,	/* the io-wq is exiting */
	IO_WQ_EXIT_SIGNAL,	/* fatal signal */
};
#endif

#define io_wq_show_acct(acct)						\
	__print_symbolic(acct, { 0, "bound" }, { 1, "unbound" })

#define io_wq_show_reason(reason)					\
	__print_symbolic(reason,					\
			 { IO_WQ_EXIT_IDLE,	"idle" },		\
			 { IO_WQ_EXIT_UNUSED,	"unused" },		\
			 { IO_WQ_EXIT_LIMIT,	"over-limit" },		\
			 { IO_WQ_EXIT_EXIT,	"exit" },		\
			 { IO_WQ_EXIT_SIGNAL,	"fatal-signal" })

/**
 * io_wq_enqueue - work was queued
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @work: the work
 * @key: its hash key, or -1 if it is not hashed
 * @queued: queued units of the account after it
 */
TRACE_EVENT(io_wq_enqueue,

	TP_PROTO(int owner, int node, int acct, void *work, int key,
		 unsigned int queued),

	TP_ARGS(owner, node, acct, work, key, queued),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(u32,		work)
		__field(int,		key)
		__field(unsigned int,	queued)
	),

	TP_fast_assign(
		__entry->owner	= owner;
		__entry->node	= node;
		__entry->acct	= acct;
		__entry->work	= hash_ptr(work, 32);
		__entry->key	= key;
		__entry->queued	= queued;
	),

	TP_printk("owner %d node %d %s work %08x key %d queued %u",
		  __entry->owner, __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->work, __entry->key, __entry->queued)
);

DECLARE_EVENT_CLASS(io_wq_work_class,

	TP_PROTO(int owner, int node, int acct, int worker, void *work,
		 s64 queued, s64 ran),

	TP_ARGS(owner, node, acct, worker, work, queued, ran),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		worker)
		__field(u32,		work)
		__field(s64,		queued)
		__field(s64,		ran)
	),

	TP_fast_assign(
		__entry->owner	= owner;
		__entry->node	= node;
		__entry->acct	= acct;
		__entry->worker	= worker;
		__entry->work	= hash_ptr(work, 32);
		__entry->queued	= queued;
		__entry->ran	= ran;
	),

	TP_printk("owner %d node %d %s worker %d work %08x queued %lld ns ran %lld ns",
		  __entry->owner, __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->worker, __entry->work, __entry->queued, __entry->ran)
);

/**
 * io_wq_work_start - a worker starts running work
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @worker: pid of the worker
 * @work: the work
 * @queued: nanoseconds from its enqueue (or, for linked work run on the
 *	spot, its hand-over to the worker) to now; -1 if it was queued while
 *	neither io_wq_work_start nor io_wq_work_done was enabled
 * @ran: unused, 0
 */
DEFINE_EVENT_PRINT(io_wq_work_class, io_wq_work_start,
	TP_PROTO(int owner, int node, int acct, int worker, void *work,
		 s64 queued, s64 ran),
	TP_ARGS(owner, node, acct, worker, work, queued, ran),
	TP_printk("owner %d node %d %s worker %d work %08x queued %lld ns",
		  __entry->owner, __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->worker, __entry->work, __entry->queued)
);

/**
 * io_wq_work_done - a worker is done with work (it may be freed now)
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @worker: pid of the worker
 * @work: the work
 * @queued: as in io_wq_work_start
 * @ran: nanoseconds from its start to now
 */
DEFINE_EVENT(io_wq_work_class, io_wq_work_done,
	TP_PROTO(int owner, int node, int acct, int worker, void *work,
		 s64 queued, s64 ran),
	TP_ARGS(owner, node, acct, worker, work, queued, ran)
);

DECLARE_EVENT_CLASS(io_wq_worker_class,

	TP_PROTO(int owner, int node, int acct, int worker),

	TP_ARGS(owner, node, acct, worker),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		worker)
	),

	TP_fast_assign(
		__entry->owner	= owner;
		__entry->node	= node;
		__entry->acct	= acct;
		__entry->worker	= worker;
	),

	TP_printk("owner %d node %d %s worker %d",
		  __entry->owner, __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->worker)
);

/**
 * io_wq_worker_create - a worker was created
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @worker: pid of the new worker
 */
DEFINE_EVENT(io_wq_worker_class, io_wq_worker_create,
	TP_PROTO(int owner, int node, int acct, int worker),
	TP_ARGS(owner, node, acct, worker)
);

/**
 * io_wq_worker_claim - an idle worker was taken off the free list for work
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @worker: pid of the worker
 */
DEFINE_EVENT(io_wq_worker_class, io_wq_worker_claim,
	TP_PROTO(int owner, int node, int acct, int worker),
	TP_ARGS(owner, node, acct, worker)
);

/**
 * io_wq_worker_intensive - a worker stopped counting as running: it has run
 *	one item for IO_WQ_CPU_INTENSIVE_NS of CPU time without blocking
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @worker: pid of the worker
 */
DEFINE_EVENT(io_wq_worker_class, io_wq_worker_intensive,
	TP_PROTO(int owner, int node, int acct, int worker),
	TP_ARGS(owner, node, acct, worker)
);

/**
 * io_wq_worker_create_fail - creating a worker failed
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @error: the error of create_io_thread() or of the allocation
 * @attempt: failed attempts in a row, this one included
 * @retry: whether it is tried again later
 */
TRACE_EVENT(io_wq_worker_create_fail,

	TP_PROTO(int owner, int node, int acct, int error,
		 unsigned int attempt, bool retry),

	TP_ARGS(owner, node, acct, error, attempt, retry),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		error)
		__field(unsigned int,	attempt)
		__field(bool,		retry)
	),

	TP_fast_assign(
		__entry->owner		= owner;
		__entry->node		= node;
		__entry->acct		= acct;
		__entry->error		= error;
		__entry->attempt	= attempt;
		__entry->retry		= retry;
	),

	TP_printk("owner %d node %d %s error %d attempt %u %s",
		  __entry->owner, __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->error, __entry->attempt,
		  __entry->retry ? "retry" : "given up")
);

/**
 * io_wq_worker_exit - a worker exits
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @worker: pid of the worker
 * @reason: enum io_wq_exit_reason
 */
TRACE_EVENT(io_wq_worker_exit,

	TP_PROTO(int owner, int node, int acct, int worker, int reason),

	TP_ARGS(owner, node, acct, worker, reason),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		worker)
		__field(int,		reason)
	),

	TP_fast_assign(
		__entry->owner	= owner;
		__entry->node	= node;
		__entry->acct	= acct;
		__entry->worker	= worker;
		__entry->reason	= reason;
	),

	TP_printk("owner %d node %d %s worker %d reason %s",
		  __entry->owner, __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->worker, io_wq_show_reason(__entry->reason))
);

DECLARE_EVENT_CLASS(io_wq_stall_class,

	TP_PROTO(int owner, int node, int acct, int key),

	TP_ARGS(owner, node, acct, key),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(int,		acct)
		__field(int,		key)
	),

	TP_fast_assign(
		__entry->owner	= owner;
		__entry->node	= node;
		__entry->acct	= acct;
		__entry->key	= key;
	),

	TP_printk("owner %d node %d %s key %d",
		  __entry->owner, __entry->node, io_wq_show_acct(__entry->acct),
		  __entry->key)
);

/**
 * io_wq_stall - all queued work of an account waits for busy hash keys
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @key: hash key of the first queued work
 */
DEFINE_EVENT(io_wq_stall_class, io_wq_stall,
	TP_PROTO(int owner, int node, int acct, int key),
	TP_ARGS(owner, node, acct, key)
);

/**
 * io_wq_unstall - a hash key was released: a stalled account may run again
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @acct: account (0 bound, 1 unbound)
 * @key: -1 (the account learns that some key was released, not which)
 */
DEFINE_EVENT(io_wq_stall_class, io_wq_unstall,
	TP_PROTO(int owner, int node, int acct, int key),
	TP_ARGS(owner, node, acct, key)
);

/**
 * io_wq_cancel - io_wq_cancel_cb() searched an io-wq
 * @owner: pid of the io-wq's owner
 * @queued: matching work taken off queues (or off a worker's chain)
 * @running: matching running work, marked and its worker signalled
 * @all: whether every match was wanted, or the first
 */
TRACE_EVENT(io_wq_cancel,

	TP_PROTO(int owner, unsigned int queued, unsigned int running,
		 bool all),

	TP_ARGS(owner, queued, running, all),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(unsigned int,	queued)
		__field(unsigned int,	running)
		__field(bool,		all)
	),

	TP_fast_assign(
		__entry->owner		= owner;
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
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @bound: new limit of the bound account
 * @unbound: new limit of the unbound account
 */
TRACE_EVENT(io_wq_limits,

	TP_PROTO(int owner, int node, unsigned int bound, unsigned int unbound),

	TP_ARGS(owner, node, bound, unbound),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__field(unsigned int,	bound)
		__field(unsigned int,	unbound)
	),

	TP_fast_assign(
		__entry->owner		= owner;
		__entry->node		= node;
		__entry->bound		= bound;
		__entry->unbound	= unbound;
	),

	TP_printk("owner %d node %d bound %u unbound %u", __entry->owner,
		  __entry->node, __entry->bound, __entry->unbound)
);

/**
 * io_wq_affinity - the CPU mask of a pool's workers changed
 * @owner: pid of the io-wq's owner
 * @node: node of the pool
 * @mask: the CPUs its workers may run on now
 */
TRACE_EVENT(io_wq_affinity,

	TP_PROTO(int owner, int node, const struct cpumask *mask),

	TP_ARGS(owner, node, mask),

	TP_STRUCT__entry(
		__field(int,		owner)
		__field(int,		node)
		__bitmask(cpus,		num_possible_cpus())
	),

	TP_fast_assign(
		__entry->owner	= owner;
		__entry->node	= node;
		__assign_bitmask(cpus, cpumask_bits(mask), num_possible_cpus());
	),

	TP_printk("owner %d node %d cpus %s", __entry->owner, __entry->node,
		  __get_bitmask(cpus))
);

#endif /* _TRACE_IO_WQ_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
