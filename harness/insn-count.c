// SPDX-License-Identifier: GPL-2.0
/*
 * insn-count: a QEMU TCG plugin that counts the guest's instructions, for
 * the cost rows of `make bench` (harness/bench.py).
 *
 *   qemu-system-x86_64 ... -plugin build/qemu/insn-count.so,out=FILE[,sym=N]
 *
 * Every translated block gets one execution callback that adds its number
 * of instructions to its vCPU's counter, kernel or user (told by the
 * block's address: the upper half is the kernel's).  A guest program marks
 * a window with two harmless instructions of its own:
 *
 *   xchg %bx,%bx   (66 87 db)   begin: remember every vCPU's counters
 *   xchg %cx,%cx   (66 87 c9)   end: write one line to FILE
 *
 *   @@MARK <n> kernel=<K> user=<U> <vcpu>=<k>/<u> ...
 *
 * n counts the windows from 1; K and U are the instructions of all vCPUs
 * executed between the two marks, then per vCPU.  Only user-mode marks
 * count.  With sym=N, the N kernel blocks that executed most instructions
 * in the window follow, one "@@TB <n> <address> <instructions>" line each,
 * for a per-function view (harness/bench.py --symbols resolves them with
 * System.map).  Nothing is counted while the plugin is not loaded.
 *
 * Counts are exact per vCPU; a mark reads the other vCPUs' counters while
 * they run, so a window is off by at most one block per other vCPU.  A
 * block that an interrupt or exception leaves early still counts whole.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_VCPUS	64
#define KERNEL_START	0x8000000000000000ULL

/* one cache line per vCPU: each is written by its own host thread only */
struct vcpu_count {
	uint64_t insns[2];	/* [0] user, [1] kernel */
	uint64_t begin[2];	/* at the last begin mark */
	char pad[32];
};

/* one per translation of a kernel block, for sym=N */
struct tb_info {
	uint64_t vaddr;
	uint64_t hits;		/* executions, all vCPUs (relaxed atomics) */
	uint32_t insns;
	struct tb_info *next;
};

static struct vcpu_count counts[MAX_VCPUS];
static unsigned int nr_vcpus;
static FILE *out;
static unsigned long windows;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int sym_top;
static struct tb_info *tbs;

static const uint8_t mark_begin[3] = { 0x66, 0x87, 0xdb };
static const uint8_t mark_end[3] = { 0x66, 0x87, 0xc9 };

/* userdata of a block: its instructions, and bit 31 if it is the kernel's */
static void tb_exec(unsigned int vcpu, void *udata)
{
	uintptr_t v = (uintptr_t)udata;

	counts[vcpu % MAX_VCPUS].insns[v >> 31] += v & 0x7fffffff;
}

static void tb_exec_sym(unsigned int vcpu, void *udata)
{
	struct tb_info *t = udata;

	counts[vcpu % MAX_VCPUS].insns[1] += t->insns;
	__atomic_fetch_add(&t->hits, 1, __ATOMIC_RELAXED);
}

static void on_begin(unsigned int vcpu, void *udata)
{
	struct tb_info *t;
	unsigned int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nr_vcpus; i++) {
		counts[i].begin[0] = counts[i].insns[0];
		counts[i].begin[1] = counts[i].insns[1];
	}
	for (t = tbs; t; t = t->next)
		__atomic_store_n(&t->hits, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
}

/* By address, then size: the retranslations of a block side by side. */
static int cmp_tb_addr(const void *a, const void *b)
{
	const struct tb_info *x = *(struct tb_info * const *)a;
	const struct tb_info *y = *(struct tb_info * const *)b;

	if (x->vaddr != y->vaddr)
		return x->vaddr < y->vaddr ? -1 : 1;
	return x->insns < y->insns ? -1 : x->insns > y->insns;
}

/* By instructions executed in the window, most first. */
static int cmp_tb(const void *a, const void *b)
{
	const struct tb_info *x = *(struct tb_info * const *)a;
	const struct tb_info *y = *(struct tb_info * const *)b;
	uint64_t cx = x->hits * x->insns, cy = y->hits * y->insns;

	return cx < cy ? 1 : cx > cy ? -1 : 0;
}

/* The blocks of one address summed, the top sym_top of them printed. */
static void dump_tbs(unsigned long n)
{
	struct tb_info *t, **v;
	size_t nr = 0, i, j;

	for (t = tbs; t; t = t->next)
		nr++;
	v = calloc(nr ? nr : 1, sizeof(*v));
	if (!v)
		return;
	for (t = tbs, i = 0; t; t = t->next)
		if (t->hits)
			v[i++] = t;
	nr = i;
	/* retranslations of one address: fold into the first of them */
	qsort(v, nr, sizeof(*v), cmp_tb_addr);
	for (i = 0, j = 0; i < nr; i++) {
		if (j && v[j - 1]->vaddr == v[i]->vaddr &&
		    v[j - 1]->insns == v[i]->insns) {
			v[j - 1]->hits += v[i]->hits;
			v[i]->hits = 0;
		} else {
			v[j++] = v[i];
		}
	}
	nr = j;
	qsort(v, nr, sizeof(*v), cmp_tb);
	for (i = 0; i < nr && i < (size_t)sym_top; i++)
		fprintf(out, "@@TB %lu 0x%" PRIx64 " %" PRIu64 "\n", n,
			v[i]->vaddr, v[i]->hits * v[i]->insns);
	free(v);
}

static void on_end(unsigned int vcpu, void *udata)
{
	uint64_t d[MAX_VCPUS][2], tot[2] = { 0, 0 };
	unsigned int i, k;
	unsigned long n;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nr_vcpus; i++) {
		for (k = 0; k < 2; k++) {
			d[i][k] = counts[i].insns[k] - counts[i].begin[k];
			tot[k] += d[i][k];
		}
	}
	n = ++windows;
	fprintf(out, "@@MARK %lu kernel=%" PRIu64 " user=%" PRIu64, n, tot[1],
		tot[0]);
	for (i = 0; i < nr_vcpus; i++)
		fprintf(out, " %u=%" PRIu64 "/%" PRIu64, i, d[i][1], d[i][0]);
	fprintf(out, "\n");
	if (sym_top)
		dump_tbs(n);
	fflush(out);
	pthread_mutex_unlock(&lock);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	bool kernel = vaddr >= KERNEL_START;
	struct tb_info *t;

	if (sym_top && kernel) {
		t = calloc(1, sizeof(*t));
		if (t) {
			t->vaddr = vaddr;
			t->insns = n;
			pthread_mutex_lock(&lock);
			t->next = tbs;
			tbs = t;
			pthread_mutex_unlock(&lock);
			qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec_sym,
							     QEMU_PLUGIN_CB_NO_REGS, t);
			return;
		}
	}
	qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS,
					     (void *)(uintptr_t)(n | (uintptr_t)kernel << 31));
	if (kernel)
		return;
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (qemu_plugin_insn_size(insn) != 3)
			continue;
		if (!memcmp(qemu_plugin_insn_data(insn), mark_begin, 3))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
		else if (!memcmp(qemu_plugin_insn_data(insn), mark_end, 3))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	if (out)
		fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *path = NULL;
	int i;

	if (!info->system_emulation) {
		fprintf(stderr, "insn-count: system emulation only\n");
		return -1;
	}
	nr_vcpus = info->system.max_vcpus;
	if (nr_vcpus > MAX_VCPUS) {
		fprintf(stderr, "insn-count: at most %d vCPUs\n", MAX_VCPUS);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			path = argv[i] + 4;
		} else if (!strncmp(argv[i], "sym=", 4)) {
			sym_top = atoi(argv[i] + 4);
		} else {
			fprintf(stderr, "insn-count: unknown argument %s\n", argv[i]);
			return -1;
		}
	}
	if (!path) {
		fprintf(stderr, "insn-count: out=FILE is required\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
