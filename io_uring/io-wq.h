/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io-wq: the pool of io_uring worker threads that runs work which cannot
 * complete inline.  Documentation/io_uring/io-wq.rst describes the design.
 */
#ifndef INTERNAL_IO_WQ_H
#define INTERNAL_IO_WQ_H

#include <linux/refcount.h>
#include <linux/io_uring_types.h>

struct io_wq;
struct seq_file;

/* Bits of io_wq_work->flags. */
enum {
	/* do_work() must fail the work instead of running it */
	IO_WQ_WORK_CANCEL	= 1,
	/* serialised with other work of the same key, see io_wq_hash_work() */
	IO_WQ_WORK_HASHED	= 2,
	/* may block for ever (sockets, pipes): unbound account */
	IO_WQ_WORK_UNBOUND	= 4,
	/* forced async by the submitter, may run beside anything else */
	IO_WQ_WORK_CONCURRENT	= 16,

	/* the key of hashed work sits in the top byte of ->flags */
	IO_WQ_HASH_SHIFT	= 24,
};

/* What io_wq_cancel_cb() found. */
enum io_wq_cancel {
	IO_WQ_CANCEL_OK,	/* queued, taken off and completed cancelled */
	IO_WQ_CANCEL_RUNNING,	/* running, its worker was signalled */
	IO_WQ_CANCEL_NOTFOUND,	/* no match */
};

/*
 * put_work() drops io-wq's reference to finished work.  It returns true if
 * that was the last one, and then hands back in *linked the work linked
 * after it (or NULL); the caller frees the work with free_work() once the
 * linked work can be found by cancellation.
 */
typedef bool (put_work_fn)(struct io_wq_work *, struct io_wq_work **);
typedef void (free_work_fn)(struct io_wq_work *);
typedef void (io_wq_work_fn)(struct io_wq_work *);

/*
 * Keys of hashed work that a worker is running now, one bit per key.
 * Shared by the io-wq of every task using the ring that allocated it.
 */
struct io_wq_hash {
	refcount_t refs;
	unsigned long map;
	struct wait_queue_head wait;
};

static inline void io_wq_put_hash(struct io_wq_hash *hash)
{
	if (refcount_dec_and_test(&hash->refs))
		kfree(hash);
}

struct io_wq_data {
	struct io_wq_hash *hash;
	struct task_struct *task;
	io_wq_work_fn *do_work;
	put_work_fn *put_work;
	free_work_fn *free_work;
};

struct io_wq *io_wq_create(unsigned int bounded, struct io_wq_data *data);
void io_wq_exit_start(struct io_wq *wq);
void io_wq_put_and_exit(struct io_wq *wq);

void io_wq_enqueue(struct io_wq *wq, struct io_wq_work *work);
void io_wq_hash_work(struct io_wq_work *work, void *val);

int io_wq_cpu_affinity(struct io_uring_task *tctx, cpumask_var_t mask);
int io_wq_max_workers(struct io_wq *wq, int *new_count);
void io_wq_set_unused(struct io_wq *wq, bool unused);
void io_wq_show_fdinfo(struct seq_file *m, struct io_wq *wq);
bool io_wq_worker_stopped(void);

static inline bool io_wq_is_hashed(struct io_wq_work *work)
{
	return work->flags & IO_WQ_WORK_HASHED;
}

typedef bool (work_cancel_fn)(struct io_wq_work *, void *);

enum io_wq_cancel io_wq_cancel_cb(struct io_wq *wq, work_cancel_fn *cancel,
				  void *data, bool cancel_all);

#if defined(CONFIG_IO_WQ)
void io_wq_worker_sleeping(struct task_struct *tsk);
void io_wq_worker_running(struct task_struct *tsk);
void io_wq_worker_tick(struct task_struct *tsk);
bool io_wq_defer_cq_wake(struct io_ring_ctx *ctx);
#else
static inline void io_wq_worker_sleeping(struct task_struct *tsk)
{
}

static inline void io_wq_worker_running(struct task_struct *tsk)
{
}

static inline void io_wq_worker_tick(struct task_struct *tsk)
{
}

static inline bool io_wq_defer_cq_wake(struct io_ring_ctx *ctx)
{
	return false;
}
#endif

/* True in an io-wq worker, outside of interrupts. */
static inline bool io_wq_current_is_worker(void)
{
	return in_task() && (current->flags & PF_IO_WORKER) &&
		current->worker_private;
}
#endif
