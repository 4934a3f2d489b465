// SPDX-License-Identifier: GPL-2.0
/*
 * iowq-stat: a vmstat for io-wq, the worker pool behind io_uring.
 *
 * The fdinfo of an io_uring ring fd (/proc/PID/fdinfo/FD, where
 * /proc/PID/fd/FD links to "anon_inode:[io_uring]") holds one line per
 * task using the ring (the io-wq's owner), NUMA node and account:
 *
 *   IoWq:<TAB>pid=123 node=0 acct=bound alive=1 idle=1 busy=0 running=0
 *   limit=8 queued=0 stalled=0 enqueued=10 completed=10 cancelled=0
 *   created=1 create_failed=0 create_retried=0 idle_exits=0 hash_stalls=0
 *   intensive=0
 *
 * (one line in the file): gauges up to "stalled", then counters since the
 * io-wq was created.  Pairs are parsed by key name: an unknown key is
 * ignored, a missing one shown as "-".  An io-wq shows in every ring its
 * task uses: lines are deduplicated by pid, node and account.  The kernel
 * prints them only if it gets the ring's uring_lock at once, so a ring
 * fdinfo without them is read twice more.
 *
 * Without -i the table is printed once, counters as totals.  With -i SECS
 * it is printed every SECS seconds, the counters as rates per second over
 * the interval, but in the first sample (totals since creation).  An io-wq
 * first seen in a later sample is taken to have started from zero in the
 * interval; one missing from a sample keeps its last values for a while.
 *
 * Hidden option, for tests: -f FILE (repeatable) parses saved fdinfo files
 * instead of /proc.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING_LINK	"anon_inode:[io_uring]"
#define NCOLS		19
#define ACCT		2	/* the only text column */
#define ID_KEYS		0x7	/* pid, node and acct: an io-wq's line */
#define FIRST_COUNTER	10	/* columns from here on are counters */
#define CELL		24
#define KEEP_SAMPLES	5	/* an io-wq unseen this long is forgotten */

/* The key of each column in the fdinfo line, and its heading */
static const char *const keys[NCOLS] = {
	"pid", "node", "acct", "alive", "idle", "busy", "running", "limit",
	"queued", "stalled", "enqueued", "completed", "cancelled", "created",
	"create_failed", "create_retried", "idle_exits", "hash_stalls",
	"intensive",
};

static const char *const heads[NCOLS] = {
	"PID", "NODE", "ACCT", "ALIVE", "IDLE", "BUSY", "RUN", "LIMIT",
	"QUEUED", "STALL", "ENQ", "DONE", "CANCEL", "CREATED",
	"FAIL", "RETRY", "IDLEX", "HSTALL", "INTENS",
};

struct row {
	long long v[NCOLS];	/* v[ACCT] unused */
	char acct[16];
	unsigned int has;	/* bit c: column c was in the line */
	unsigned long seen;	/* sample it was last seen in */
};

struct table {
	struct row *r;
	size_t n, cap;
};

struct result {
	int rings, lines;	/* ring fds (or files) read, IoWq lines */
	int alive, denied;	/* requested pids still there, EACCES */
};

static const char *prog = "iowq-stat";
static char **files, **pids;
static int nfiles, npids;
static volatile sig_atomic_t stop;

__attribute__((noreturn)) static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [-i SECS [-n COUNT]] [PID...]\n"
		"Show the io-wq worker pools of io_uring rings, read from the rings' fdinfo.\n"
		"\n"
		"  PID...    processes to look at (default: every process with an io_uring\n"
		"            fd); shown is the io-wq of each task using one of their rings,\n"
		"            one line per io-wq owner (PID), NUMA node and account\n"
		"  -i SECS   print every SECS seconds: gauges as they are, counters as rates\n"
		"            per second over the interval (first sample: totals since the\n"
		"            io-wq was created); Ctrl-C ends\n"
		"  -n COUNT  stop after COUNT samples (alone: every second)\n"
		"  -h        this help\n"
		"Gauges: workers ALIVE, IDLE (free), BUSY, RUN(ning, not blocked), LIMIT;\n"
		"QUEUED work, STALL(ed on hash keys). Counters: ENQ(ueued), DONE, CANCEL,\n"
		"CREATED workers, FAIL(ed) and RETRY(ed) creations, IDLE eXits, Hash STALLs.\n"
		"Exit status: 0; 1 if there is nothing to show; 2 on bad usage.\n",
		prog);
	exit(status);
}

static struct row *find(struct table *t, const struct row *r)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->r[i].v[0] == r->v[0] && t->r[i].v[1] == r->v[1] &&
		    !strcmp(t->r[i].acct, r->acct))
			return &t->r[i];
	return NULL;
}

static struct row *append(struct table *t, const struct row *r)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->r = realloc(t->r, t->cap * sizeof(*t->r));
		if (!t->r) {
			perror(prog);
			exit(1);
		}
	}
	t->r[t->n] = *r;
	return &t->r[t->n++];
}

/* The key=value pairs after "IoWq:"; the first line of an io-wq wins. */
static void add_line(struct table *t, char *s)
{
	char *tok, *save, *val, *end;
	struct row r = { 0 };
	int c;

	for (tok = strtok_r(s, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		val = strchr(tok, '=');
		if (!val)
			continue;
		*val++ = '\0';
		for (c = 0; c < NCOLS && strcmp(tok, keys[c]); c++)
			;
		if (c == ACCT) {
			snprintf(r.acct, sizeof(r.acct), "%s", val);
			r.has |= 1U << c;
		} else if (c < NCOLS) {
			r.v[c] = strtoll(val, &end, 10);
			if (end != val && !*end)
				r.has |= 1U << c;
		}
	}
	if ((r.has & ID_KEYS) == ID_KEYS && !find(t, &r))
		append(t, &r);
}

/* Returns the number of IoWq lines in the file, -1 (errno) if unreadable. */
static int parse_fdinfo(const char *path, struct table *t)
{
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "IoWq:", 5)) {
			add_line(t, line + 5);
			n++;
		}
	}
	free(line);
	fclose(f);
	return n;
}

/* Returns the number of ring fds of @pid, -1 (errno) if unreadable. */
static int scan_pid(int pid, struct table *t, struct result *res)
{
	char path[320], link[64];
	int rings = 0, n = 0, try;
	struct dirent *de;
	ssize_t len;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;	/* ".", "..", or closed meanwhile */
		link[len] = '\0';
		if (strcmp(link, RING_LINK))
			continue;
		rings++;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid,
			 de->d_name);
		for (try = 0; try < 3; try++) {
			n = parse_fdinfo(path, t);
			if (n)
				break;
			usleep(1000);	/* uring_lock may be held: retry */
		}
		res->lines += n > 0 ? n : 0;
	}
	closedir(d);
	return rings;
}

/* One sample into @t; @report: say what is wrong with the requested pids. */
static void collect(struct table *t, struct result *res, bool report)
{
	struct dirent *de;
	int i, n, pid;
	char *end;
	DIR *d;

	t->n = 0;
	memset(res, 0, sizeof(*res));
	for (i = 0; i < nfiles; i++) {
		n = parse_fdinfo(files[i], t);
		if (n < 0 && report)
			fprintf(stderr, "%s: %s: %m\n", prog, files[i]);
		res->rings += n >= 0;
		res->lines += n > 0 ? n : 0;
	}
	for (i = 0; i < npids; i++) {
		pid = atoi(pids[i]);
		n = scan_pid(pid, t, res);
		if (n < 0 && (errno == ENOENT || errno == ESRCH)) {
			if (report)
				fprintf(stderr, "%s: %d: no such process\n",
					prog, pid);
			continue;
		}
		res->alive++;
		if (n < 0 && report)
			fprintf(stderr, "%s: %d: %m\n", prog, pid);
		else if (!n && report)
			fprintf(stderr, "%s: %d: no io_uring fd\n", prog, pid);
		res->rings += n > 0 ? n : 0;
	}
	if (nfiles || npids)
		return;
	d = opendir("/proc");
	if (!d) {
		perror("/proc");
		exit(1);
	}
	while ((de = readdir(d))) {
		pid = strtol(de->d_name, &end, 10);
		if (pid <= 0 || *end)
			continue;
		n = scan_pid(pid, t, res);	/* gone meanwhile: n < 0 */
		res->denied += n < 0 && errno == EACCES;
		res->rings += n > 0 ? n : 0;
	}
	closedir(d);
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->v[0] != y->v[0])
		return x->v[0] < y->v[0] ? -1 : 1;
	if (x->v[1] != y->v[1])
		return x->v[1] < y->v[1] ? -1 : 1;
	return strcmp(x->acct, y->acct);
}

/*
 * Print @t; with @prev (the last values of each io-wq), the counters as
 * rates per second, of an io-wq last seen k samples ago over k * @secs.
 */
static void print(struct table *t, struct table *prev, unsigned long sample,
		  double secs)
{
	char (*cell)[NCOLS][CELL] = calloc(t->n + 1, sizeof(*cell));
	int w[NCOLS] = { 0 }, c;
	size_t i;

	if (!cell) {
		perror(prog);
		exit(1);
	}
	qsort(t->r, t->n, sizeof(*t->r), cmp_row);
	for (c = 0; c < NCOLS; c++)
		snprintf(cell[0][c], CELL, "%s", heads[c]);
	for (i = 0; i < t->n; i++) {
		struct row *r = &t->r[i], *p = prev ? find(prev, r) : NULL;
		double rate;

		for (c = 0; c < NCOLS; c++) {
			long long d = r->v[c];

			if (c == ACCT) {
				snprintf(cell[i + 1][c], CELL, "%s", r->acct);
				continue;
			}
			if (!(r->has & (1U << c)) || !prev || c < FIRST_COUNTER) {
				snprintf(cell[i + 1][c], CELL, r->has & (1U << c) ?
					 "%lld" : "-", d);
				continue;
			}
			/* smaller than before: a new io-wq with a reused pid */
			if (p && (p->has & (1U << c)) && p->v[c] <= d)
				d -= p->v[c];
			rate = d / (secs * (p ? sample - p->seen : 1));
			snprintf(cell[i + 1][c], CELL, rate == (long long)rate ?
				 "%.0f" : "%.1f", rate);
		}
	}
	for (i = 0; i <= t->n; i++)
		for (c = 0; c < NCOLS; c++)
			if ((int)strlen(cell[i][c]) > w[c])
				w[c] = strlen(cell[i][c]);
	for (i = 0; i <= t->n; i++)
		for (c = 0; c < NCOLS; c++)
			printf(c == ACCT ? "%-*s%s" : "%*s%s", w[c], cell[i][c],
			       c == NCOLS - 1 ? "\n" : " ");
	free(cell);
}

/* Remember the values of this sample, forget io-wqs long gone. */
static void merge(struct table *prev, struct table *t, unsigned long sample)
{
	struct row *p;
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		p = find(prev, &t->r[i]);
		if (!p)
			p = append(prev, &t->r[i]);
		*p = t->r[i];
		p->seen = sample;
	}
	for (i = j = 0; i < prev->n; i++)
		if (sample - prev->r[i].seen < KEEP_SAMPLES)
			prev->r[j++] = prev->r[i];
	prev->n = j;
}

/* After the first sample: say why there is nothing to show. */
static bool nothing_to_show(const struct result *res)
{
	if (!res->rings && !nfiles && !npids)
		fprintf(stderr, "%s: no process has an io_uring fd%s\n", prog,
			res->denied ? " (some not readable: run as root?)" : "");
	else if (res->rings && !res->lines)
		fprintf(stderr, "%s: %s\n", prog,
			"no io-wq statistics found (kernel without io-wq fdinfo?)");
	return !res->rings || !res->lines;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct table cur = { 0 }, prev = { 0 };
	unsigned long count = 0, i;
	struct timespec next;
	double interval = 0;
	struct result res;
	char *end, when[16];
	long long ns;
	time_t now;
	int opt;

	files = calloc(argc, sizeof(*files));
	while ((opt = getopt(argc, argv, "+hi:n:f:")) != -1) {
		switch (opt) {
		case 'i':
			interval = strtod(optarg, &end);
			if (end == optarg || *end || !(interval >= 0.001) ||
			    interval > 86400)
				usage(2);
			break;
		case 'n':
			count = strtoul(optarg, &end, 10);
			if (end == optarg || *end || !count || *optarg == '-')
				usage(2);
			break;
		case 'f':
			files[nfiles++] = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	pids = argv + optind;
	npids = argc - optind;
	for (i = 0; i < (unsigned long)npids; i++) {
		if (strtol(pids[i], &end, 10) <= 0 || *end || end - pids[i] > 9) {
			fprintf(stderr, "%s: bad PID '%s'\n", prog, pids[i]);
			usage(2);
		}
	}
	if (nfiles && npids)
		usage(2);
	if (count && !interval)
		interval = 1;
	else if (!interval)
		count = 1;	/* once */

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; !stop && (!count || i < count); i++) {
		if (i) {
			ns = next.tv_nsec + (long long)(interval * 1e9);
			next.tv_sec += ns / 1000000000;
			next.tv_nsec = ns % 1000000000;
			while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
							&next, NULL) == EINTR)
				;
			if (stop)
				break;
		}
		collect(&cur, &res, i == 0);
		if (!i && nothing_to_show(&res))
			return 1;
		if (npids && !res.alive) {
			fprintf(stderr, "%s: the processes have exited\n", prog);
			break;
		}
		if (interval) {
			now = time(NULL);
			strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
			printf(i ? "\nio-wq at %s, counters per second over %g s\n" :
			       "io-wq at %s, counters since creation\n", when, interval);
		}
		print(&cur, i ? &prev : NULL, i, interval);
		fflush(stdout);
		merge(&prev, &cur, i);
	}
	free(cur.r);
	free(prev.r);
	free(files);
	return 0;
}
