#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Benchmark our io-wq against stock 6.1: `make bench`.

  bench.py --out DIR --stock BZIMAGE --ours BZIMAGE --initrd CPIO [--boots N]
           [--cost-boots N --plugin SO [--symbols N]]
           [--only NAME] [--args 'iowq-bench options'] [--pooled] [QEMU options]

Boots the two kernels in turn, stock, ours, stock, ours, ... (N boots each)
with the same QEMU settings and initramfs, so that drift of a noisy host
hits both alike.  Each boot runs tools/io_uring/iowq-bench in the guest
(`-b NAME` with --only), which prints "@@BENCH" result lines on the serial
console: per boot, the best of several repetitions (noise from a busy host
only ever slows a run down).  Per kernel and metric the table shows the
median over the boots
and the spread, (max - min) / 2 relative to the median; the ratio is taken
per pair of boots (stock boot i, ours boot i) and oriented so that > 1 means
ours is better (ours/stock when higher is better, stock/ours when lower is
better); the table shows the median of the pair ratios and their range.
Before each boot the host itself is timed for 2 s (HostProbe): the info row
"host slowdown" is the median time of a 2-ms piece of work over its fastest
in the run, 1.0 on a quiet host; a run read at 1.5 or more was measured on a
host that took a third of the CPU away, in spells, from one kernel or both.
Writes DIR/results.csv (one line per metric, with the per-boot values),
DIR/raw.csv (one line per boot and metric), DIR/bench.png (gnuplot) and
keeps the previous results.csv as results-prev.csv to compare with.

Cost rows (--cost-boots N, with --plugin, the QEMU plugin built from
harness/insn-count.c): after the timed boots, N more boots per kernel, in
the same alternating order, with the plugin loaded and iowq-bench in cost
mode (-C, `nokaslr` on the command line), which frames every measured
window with two marker instructions and prints its operations.  The
plugin counts the guest's instructions between the markers, all vCPUs,
kernel and user apart.  Per workload and boot the median over its windows
of: insn/op (all instructions per operation), kinsn/op (the kernel's),
uinsn/op (user space's, info), ctxsw/op (context switches of the guest,
info) and threads (iou-wrk threads at the end of a window, info); per
kernel the median over the boots, as for the timed rows, in a table of
their own.  Instructions do not depend on how fast the host runs the
guest, except through what time drives (ticks, idle exits, how many
completions one wait finds): compare the kernels within one run, and read
the host slowdown row.  --symbols N adds, per workload, the kernel
functions that execute the most instructions per operation on either
kernel (the plugin's N hottest blocks of each window, resolved with each
kernel's System.map).

--pooled adds a second view: every repetition of every boot of a kernel
pooled, the median and quartiles of the pool, and the ratio of the two
medians.  Under TCG the host's speed changes in spells of seconds (one
kernel's async NOPs run at 150k or 280k ops/s with the same number of
context switches per operation); with many short repetitions (--args
'-r 20 -t 0.3 -w 0.1' with --only) the quartiles show both spells.  It is
no finer a ruler: two builds of the same io-wq, one with 2 KiB of padding,
read 0.70 to 1.08 pooled (0.86 to 1.09 best-of) on the async NOP rows.

A boot that fails (guest splat, panic, hang, a workload error) stops the
run with an error.
"""

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402  (qemu_cmd, follow, Judge)


def fmt_num(v):
    if v is None:
        return "-"
    if v == float("inf"):
        return "inf"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_time(s):
    return f"{int(s) // 60}m{int(s) % 60:02d}s"


class Boot:
    """One guest run: its serial log parsed into results and progress."""

    def __init__(self, label, kernel):
        self.label = label
        self.kernel = kernel
        self.values = {}         # (workload, metric) -> value
        self.reps = {}           # (workload, metric) -> "rep values"
        self.meta = {}           # (workload, metric) -> (unit, better)
        self.order = []
        self.info = []
        self.errors = []
        self.done = None
        self.boot_line = None
        self.host = None        # HostProbe.read() before the boot
        self.cost = False       # a cost boot: plugin loaded, iowq-bench -C
        self.windows = []       # cost: (workload, {ops, ctxsw, workers})
        self.tbs = {}           # cost, --symbols: window -> [(addr, insns)]
        self.cost_windows = {}  # cost: workload -> [(window, ops)]


class HostProbe:
    """How much of the host the guests get, read between boots.

    A fixed piece of work sized to take 2 ms at full speed is timed over and
    over for SECS seconds; a boot's reading is the median slice over
    the fastest slice seen in the whole run (1.0: the host gave this process
    a whole CPU; 2.0: half of one).  On this kind of shared machine the
    slowness comes and goes in spells of 25 ms to seconds and does not show
    as steal time; a guest under TCG runs exactly that much slower.
    """

    SECS = 2.0

    def __init__(self):
        self.n = 20000
        t = min(self.slice() for _ in range(20))
        self.n = max(1, int(self.n * 0.002 / t))
        self.fastest = float("inf")

    def slice(self):
        t = time.perf_counter()
        sum(range(self.n))
        return time.perf_counter() - t

    def read(self):
        v = []
        end = time.monotonic() + self.SECS
        while time.monotonic() < end:
            v.append(self.slice())
        self.fastest = min(self.fastest, min(v))
        return statistics.median(v)


def run_boot(a, n, total, boot, t_start):
    kind = "cost" if boot.cost else "boot"
    log = os.path.join(a.out, "logs", f"{kind}{n}-{boot.label}.log")
    marks = os.path.join(a.out, "logs", f"{kind}{n}-{boot.label}.marks")
    for f in (log, marks):
        if os.path.exists(f):
            os.unlink(f)
    append = a.append_ours if boot.label == "ours" else ""
    plugin = None
    if boot.cost:
        plugin = f"{a.plugin},out={marks}" + (f",sym={a.symbols}" if a.symbols else "")
        append = " ".join(x for x in (append, "nokaslr") if x)
    ns = SimpleNamespace(
        mode="bench", kernel=boot.kernel, initrd=a.initrd, log=log,
        accel=a.accel, smp=a.smp, nodes=a.nodes, mem=a.mem, filter="",
        args=" ".join(x for x in (a.guest_args, "-C" if boot.cost else "") if x),
        timeout=a.timeout, quiet_timeout=a.quiet_timeout,
        test_timeout=a.timeout, oops_panic=False, verbose=False,
        append=append, plugin=plugin)
    judge = vm.Judge(verbose=False)
    tag = f"{kind} {n}/{total} {boot.label:5}"
    cur = {"wl": None}

    def on_line(line):
        if line.startswith("@@IOWQ BOOT "):
            boot.boot_line = line[12:].strip()
            print(f"{tag}: guest up, {boot.boot_line}", flush=True)
            return
        judge.line(line)
        if line.startswith("@@BENCH-BEGIN "):
            cur["wl"] = line.split()[1]
            print(f"{tag}: {cur['wl']:16} ... ", end="", flush=True)
        elif line.startswith("@@BENCH-END "):
            w = line.split()
            secs = w[3].partition("=")[2] if len(w) > 3 else "?"
            if cur["wl"] is None:       # the line was broken by a message
                print(f"{tag}: {w[1]:16} ... ", end="")
            vals = [f"{k[1]} {fmt_num(boot.values[k])} {boot.meta[k][0]}"
                    for k in boot.order if k[0] == w[1]]
            if boot.cost:
                nw = sum(1 for x in boot.windows if x[0] == w[1])
                vals = [f"{nw} window(s) marked"]
            print(f"{', '.join(vals) or w[2]}  ({secs} s; total {fmt_time(time.monotonic() - t_start)})",
                  flush=True)
            if w[2] != "rc=0":
                boot.errors.append(f"workload {w[1]} failed ({w[2]})")
            cur["wl"] = None
        elif line.startswith("@@COST "):
            f = dict(x.split("=", 1) for x in line[7:].split() if "=" in x)
            try:
                boot.windows.append((cur["wl"], {k: float(f[k]) for k in
                                                 ("ops", "ctxsw", "workers")}))
            except (KeyError, ValueError):
                boot.errors.append(f"bad cost line: {line}")
        elif line.startswith("@@BENCH-INFO "):
            boot.info.append(line[13:].strip())
        elif line.startswith("@@BENCH-DONE"):
            boot.done = line
        elif line.startswith("@@BENCH ") and boot.cost:
            return      # timed under the plugin: not a result
        elif line.startswith("@@BENCH "):
            w = line[8:].split("#", 1)
            f = w[0].split()
            if len(f) != 5:
                boot.errors.append(f"bad result line: {line}")
                return
            key = (f[0], f[1])
            boot.values[key] = float(f[2])
            boot.meta[key] = (f[3], f[4])
            boot.reps[key] = w[1].strip() if len(w) > 1 else ""
            if key not in boot.order:
                boot.order.append(key)
        elif line.startswith("iowq-bench:"):
            if cur["wl"]:
                print()
                cur["wl"] = None
            print(f"{tag}: guest: {line}", flush=True)
            boot.errors.append(line)

    boot.host = a.host.read()
    print(f"{tag}: booting {boot.kernel} (host: a 2-ms slice took "
          f"{boot.host / a.host.fastest:.2f}x the fastest so far)", flush=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(vm.qemu_cmd(ns), stdin=subprocess.DEVNULL)
    why = vm.follow(log, proc, ns, on_line)
    if cur["wl"]:
        print()
    secs = time.monotonic() - t0

    problems = vm.guest_problems(judge, why, proc.returncode)
    if boot.cost and not problems:
        problems += cost_values(boot, marks)
    if judge.exit:
        problems.append(f"iowq-bench exited with status {judge.exit}")
    problems += boot.errors
    if judge.exit == 0 and not boot.done:
        problems.append("iowq-bench did not finish")
    if boot.boot_line is not None:
        upstream = "io-wq=upstream" in boot.boot_line
        if upstream != (boot.label == "stock" and not a.before):
            problems.append(f"the {boot.label} kernel says {boot.boot_line}: wrong kernel?")
    if problems:
        print(f"\nbench: boot {n}/{total} ({boot.label}) FAILED after {secs:.0f} s:")
        for pr in problems:
            print(f"  {pr}")
        # The guest's final dmesg dump would crowd out what matters.
        print(f"---- last lines of the serial log {log} (without the dmesg dump) ----")
        lines, skip = [], False
        with open(log, errors="replace") as f:
            for line in f:
                if line.startswith("@@IOWQ DMESG-BEGIN"):
                    skip = True
                elif line.startswith("@@IOWQ DMESG-END"):
                    skip = False
                elif not skip:
                    lines.append(line.rstrip())
        for line in lines[-40:]:
            print("    " + line)
        sys.exit(1)
    print(f"{tag}: done in {secs:.0f} s (serial log {log})", flush=True)


def cost_values(boot, marks):
    """Pair the n-th @@COST line of the guest with the plugin's n-th window
    and turn them into the boot's cost rows: per workload, the median over
    its windows.  Returns the problems found."""
    try:
        with open(marks) as f:
            lines = f.read().splitlines()
    except OSError as e:
        return [f"no output of the plugin: {e}"]
    counts = []
    for line in lines:
        w = line.split()
        if line.startswith("@@MARK "):
            kv = dict(x.split("=", 1) for x in w[2:4])
            counts.append((int(kv["kernel"]), int(kv["user"])))
        elif line.startswith("@@TB "):
            boot.tbs.setdefault(int(w[1]), []).append((int(w[2], 16), int(w[3])))
    if len(counts) != len(boot.windows):
        return [f"the plugin counted {len(counts)} window(s), the guest marked "
                f"{len(boot.windows)}"]
    per = {}
    for i, ((wl, c), (kern, user)) in enumerate(zip(boot.windows, counts)):
        if c["ops"] <= 0:
            return [f"{wl}: a window without operations"]
        v = per.setdefault(wl, {"insn/op": [], "kinsn/op": [], "uinsn/op": [],
                                "ctxsw/op": [], "threads": [], "_win": []})
        v["insn/op"].append((kern + user) / c["ops"])
        v["kinsn/op"].append(kern / c["ops"])
        v["uinsn/op"].append(user / c["ops"])
        v["ctxsw/op"].append(c["ctxsw"] / c["ops"])
        v["threads"].append(c["workers"])
        v["_win"].append((i + 1, c["ops"]))
    boot.cost_windows = {wl: v.pop("_win") for wl, v in per.items()}
    for wl, v in per.items():
        for metric, vals in v.items():
            key = (wl, metric)
            boot.values[key] = statistics.median(vals)
            boot.meta[key] = ("insns" if "insn" in metric else
                              "switches" if metric == "ctxsw/op" else "threads",
                              "lower" if metric in ("insn/op", "kinsn/op") else "info")
            boot.reps[key] = " ".join(f"{x:.6g}" for x in vals)
            boot.order.append(key)
    return []


def load_symbols(bzimage):
    """The kernel's text symbols, sorted, from System.map beside its objects
    (bzImage is OBJ/arch/x86/boot/bzImage)."""
    obj = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(bzimage))))
    path = os.path.join(obj, "System.map")
    if not os.path.exists(path):
        sys.exit(f"bench: --symbols needs {path}: the kernel's System.map "
                 "beside its objects (OBJ/arch/x86/boot/bzImage)")
    syms = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[1] in "tTwW":
                syms.append((int(w[0], 16), w[2]))
    syms.sort()
    return syms


def print_symbols(a, boots, top=40):
    """Per workload, the kernel functions with the most instructions per
    operation on either kernel: each boot's hottest blocks (the plugin's
    sym=N), resolved with its kernel's System.map, summed over the
    workload's windows and divided by their operations; the median over
    the boots of each kernel."""
    import bisect
    maps = {}
    per = {}    # (label, wl) -> [ {sym: insns/op} per boot ]
    for b in boots:
        if b.kernel not in maps:
            maps[b.kernel] = load_symbols(b.kernel)
        syms = maps[b.kernel]
        addrs = [x[0] for x in syms]
        for wl, wins in b.cost_windows.items():
            tot = {}
            ops = sum(o for _, o in wins)
            for n, _ in wins:
                for addr, insns in b.tbs.get(n, []):
                    i = bisect.bisect_right(addrs, addr) - 1
                    name = syms[i][1] if i >= 0 else hex(addr)
                    tot[name] = tot.get(name, 0) + insns
            per.setdefault((b.label, wl), []).append({k: v / ops for k, v in tot.items()})
    wls = []
    for b in boots:
        for wl in b.cost_windows:
            if wl not in wls:
                wls.append(wl)
    print(f"\nkernel instructions per operation by function (the {a.symbols} hottest "
          "blocks of each window; median over the boots)")
    for wl in wls:
        med = {}
        for label in ("stock", "ours"):
            runs = per.get((label, wl), [])
            names = set(k for r in runs for k in r)
            med[label] = {k: statistics.median([r.get(k, 0) for r in runs]) for k in names}
        names = sorted(set(med["stock"]) | set(med["ours"]),
                       key=lambda k: -max(med["stock"].get(k, 0), med["ours"].get(k, 0)))
        print(f"  {wl}:  {'stock':>9} {'ours':>9}")
        for k in names[:top]:
            print(f"    {k:40} {fmt_num(med['stock'].get(k, 0)):>9} "
                  f"{fmt_num(med['ours'].get(k, 0)):>9}")


def ratio_of(ours, stock, better):
    """> 1 means ours is better; for info metrics, plainly ours/stock."""
    num, den = (stock, ours) if better == "lower" else (ours, stock)
    if den == 0:
        return 1.0 if num == 0 else float("inf")
    return num / den


def summarize(boots):
    stock = [b for b in boots if b.label == "stock"]
    ours = [b for b in boots if b.label == "ours"]
    order = []
    for b in boots:
        for k in b.order:
            if k not in order:
                order.append(k)
    rows = []
    for k in order:
        unit, better = next(b.meta[k] for b in boots if k in b.meta)
        sv = [b.values[k] for b in stock if k in b.values]
        ov = [b.values[k] for b in ours if k in b.values]
        if len(sv) != len(stock) or len(ov) != len(ours):
            sys.exit(f"bench: {k[0]} {k[1]} is missing from some boots")
        pairs = [ratio_of(o, s, better) for s, o in zip(sv, ov)]
        r = {"workload": k[0], "metric": k[1], "unit": unit, "better": better,
             "stock": sv, "ours": ov, "pairs": pairs,
             "ratio": statistics.median(pairs), "rmin": min(pairs), "rmax": max(pairs)}
        for name, v in (("stock", sv), ("ours", ov)):
            med = statistics.median(v)
            r[name + "_med"] = med
            r[name + "_min"], r[name + "_max"] = min(v), max(v)
            r[name + "_spread"] = (max(v) - min(v)) / 2 / med * 100 if med else 0.0
        if k[0] == "nop-inline":
            r["verdict"] = "reference (no io-wq)"
        elif better == "info":
            r["verdict"] = "info"
        elif r["rmin"] > 1:
            r["verdict"] = "ours better"
        elif r["rmax"] < 1:
            r["verdict"] = "ours worse"
        else:
            r["verdict"] = "same within noise"
        rows.append(r)
    return rows


def print_table(rows, nboots, cost=False):
    print()
    if cost:
        print(f"io-wq cost: instructions per operation (QEMU plugin), per boot the median "
              f"of its windows; median over {nboots} boot(s) per kernel,")
    else:
        print(f"io-wq benchmark: per boot the best of its repetitions; median over {nboots} "
              "boot(s) per kernel,")
    print("spread ± = (max - min) / 2 of the boots, relative to the median;")
    print("ratio = ours/stock when higher is better, stock/ours when lower is better, "
          "so > 1 means ours is better;")
    print("median of the per-pair ratios (stock boot i, ours boot i), range in brackets.")
    hdr = ["workload", "metric", "unit", "better", "stock", "±", "ours", "±",
           "ratio", "range", "verdict"]
    lines = []
    for r in rows:
        lines.append([r["workload"], r["metric"], r["unit"], r["better"],
                      fmt_num(r["stock_med"]), f"{r['stock_spread']:.0f}%",
                      fmt_num(r["ours_med"]), f"{r['ours_spread']:.0f}%",
                      fmt_num(r["ratio"]), f"[{fmt_num(r['rmin'])}-{fmt_num(r['rmax'])}]",
                      r["verdict"]])
    wid = [max(len(x[i]) for x in lines + [hdr]) for i in range(len(hdr))]
    right = {4, 5, 6, 7, 8}

    def show(cols):
        print("  ".join(c.rjust(wid[i]) if i in right else c.ljust(wid[i])
                        for i, c in enumerate(cols)).rstrip())
    show(hdr)
    show(["-" * w for w in wid])
    for x in lines:
        show(x)


def quantile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def print_pooled(rows, boots):
    """Every repetition of every boot pooled per kernel (see --pooled)."""
    print()
    print("pooled: every repetition of every boot per kernel; median [p25-p75]; "
          "ratio of the medians (> 1: ours better)")
    for r in rows:
        if r["better"] == "info":
            continue
        k = (r["workload"], r["metric"])
        pool = {}
        for label in ("stock", "ours"):
            pool[label] = [float(x) for b in boots if b.label == label
                           for x in (b.reps.get(k) or "").split()]
        if not pool["stock"] or not pool["ours"]:
            continue
        med = {lb: statistics.median(v) for lb, v in pool.items()}
        cols = [f"{lb} {fmt_num(med[lb])} [{fmt_num(quantile(v, 0.25))}-"
                f"{fmt_num(quantile(v, 0.75))}] n={len(v)}" for lb, v in pool.items()]
        print(f"  {r['workload']:24} {r['metric']:20} {cols[0]:34} {cols[1]:34} "
              f"ratio {fmt_num(ratio_of(med['ours'], med['stock'], r['better']))}")


def layout_note(rows):
    """nop-inline never reaches io-wq: a ratio away from 1 there is the
    two kernels' text layout, which under TCG alone moves a syscall path
    by up to a quarter (padding fair.o by 1, 2, 3 KiB gave 0.95, 0.74,
    0.98), not io-wq.  Say so, as it weighs on every other ratio too."""
    ref = next((r for r in rows if r["workload"] == "nop-inline"), None)
    if ref and abs(ref["ratio"] - 1) > 0.05:
        print(f"  note: nop-inline, which never reaches io-wq, runs at {fmt_num(ref['ratio'])} "
              "of stock: under TCG the kernels' text layout alone moves a path by up to "
              "±25%;\n        read the other ratios against it (README, 'Benchmark').")


CSV_COLS = ["workload", "metric", "unit", "better",
            "stock_median", "stock_min", "stock_max", "stock_spread_pct",
            "ours_median", "ours_min", "ours_max", "ours_spread_pct",
            "ratio", "ratio_min", "ratio_max", "verdict", "stock_boots", "ours_boots"]


def write_csv(a, rows, boots):
    path = os.path.join(a.out, "results.csv")
    prev = os.path.join(a.out, "results-prev.csv")
    if os.path.exists(path):
        shutil.copyfile(path, prev)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLS)
        for r in rows:
            w.writerow([r["workload"], r["metric"], r["unit"], r["better"],
                        f"{r['stock_med']:.6g}", f"{r['stock_min']:.6g}",
                        f"{r['stock_max']:.6g}", f"{r['stock_spread']:.1f}",
                        f"{r['ours_med']:.6g}", f"{r['ours_min']:.6g}",
                        f"{r['ours_max']:.6g}", f"{r['ours_spread']:.1f}",
                        f"{r['ratio']:.4g}", f"{r['rmin']:.4g}", f"{r['rmax']:.4g}",
                        r["verdict"], " ".join(f"{v:.6g}" for v in r["stock"]),
                        " ".join(f"{v:.6g}" for v in r["ours"])])
    with open(os.path.join(a.out, "raw.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["boot", "kernel", "workload", "metric", "value", "unit", "better",
                    "repetitions"])
        for n, b in enumerate(boots, 1):
            for k in b.order:
                w.writerow([n, b.label, k[0], k[1], f"{b.values[k]:.6g}", b.meta[k][0],
                            b.meta[k][1], b.reps[k]])
    return path, prev if os.path.exists(prev) else None


def compare_prev(rows, prev):
    """Say whether the previous run's ratios fall in this run's ranges (or
    the other way round); the CSV rounds, hence a tolerance of 0.5%."""
    with open(prev, newline="") as f:
        old = {(r["workload"], r["metric"]): r for r in csv.DictReader(f)}

    def within(x, lo, hi):
        return lo / 1.005 <= x <= hi * 1.005

    n = ok = overlap = 0
    out = []
    for r in rows:
        o = old.get((r["workload"], r["metric"]))
        if not o or r["better"] == "info":
            continue
        n += 1
        pr, plo, phi = float(o["ratio"]), float(o["ratio_min"]), float(o["ratio_max"])
        if within(pr, r["rmin"], r["rmax"]) or within(r["ratio"], plo, phi):
            ok += 1
            continue
        if within(plo, r["rmin"], r["rmax"]) or within(r["rmin"], plo, phi):
            overlap += 1
            how = "ranges overlap"
        else:
            how = "DISAGREE"
        out.append(f"  {r['workload']} {r['metric']}: ratio {fmt_num(r['ratio'])} "
                   f"[{fmt_num(r['rmin'])}-{fmt_num(r['rmax'])}], previous run "
                   f"{fmt_num(pr)} [{fmt_num(plo)}-{fmt_num(phi)}]: {how}")
    if n:
        print(f"\nagainst the previous run ({prev}): {ok} of {n} ratios agree (either "
              f"run's ratio lies within the other's range), {overlap} more have "
              f"overlapping ranges, {n - ok - overlap} disagree")
        for x in out:
            print(x)


def plot(a, rows, title, name="bench"):
    if not shutil.which("gnuplot"):
        sys.exit("bench: gnuplot missing: run 'make deps' (gnuplot-nox)")
    dat = os.path.join(a.out, f"{name}-ratios.dat")
    png = os.path.join(a.out, f"{name}.png")
    pts = [r for r in rows if r["better"] != "info"
           and all(x != float("inf") and x > 0 for x in (r["ratio"], r["rmin"], r["rmax"]))]
    if not pts:
        return None
    with open(dat, "w") as f:
        f.write("# label ratio min max colour (ours better when > 1)\n")
        for r in pts:
            colour = (0x999999 if r["workload"] == "nop-inline"
                      else 0x55aa55 if r["ratio"] >= 1 else 0xcc5555)
            f.write(f"\"{r['workload']} {r['metric']}\" {r['ratio']:.5g} "
                    f"{r['rmin']:.5g} {r['rmax']:.5g} {colour}\n")
    lo = min(min(r["rmin"] for r in pts), 0.8) / 1.15
    hi = max(max(r["rmax"] for r in pts), 1.25) * 1.15
    # One bar per metric: with the -unpinned variants and wakeup-lat's
    # latencies there are about 60, so the plot widens beyond 1280 pixels
    # and the labels turn steeper, with room below for the longest
    # ("fanout-fifo-128-unpinned spawn").
    width = max(1280, 160 + 26 * len(pts))
    angle = 35 if len(pts) <= 30 else 60
    longest = max(len(f"{r['workload']} {r['metric']}") for r in pts)
    bmargin = max(11, 2 + longest * (3 if angle == 35 else 10) // 20)
    rmargin = 6 if angle == 35 else max(6, longest // 2)
    height = 800 if angle == 35 else 960
    tics = ", ".join(f'"{t:g}" {t:g}' for t in
                     (0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, 4, 5, 10)
                     if lo <= t <= hi)
    # A bar from 1 to the median ratio (green: ours better, red: worse, grey:
    # the reference without io-wq), the range of the boot pairs as an error bar.
    script = f"""
set terminal png size {width},{height}
set output '{png}'
set title "{title}"
set ylabel "ratio, > 1 = ours better (bar: median; error bar: range over boot pairs)"
set logscale y 2
set yrange [{lo:.4g}:{hi:.4g}]
set ytics ({tics})
set xrange [-0.7:{len(pts) - 0.3}]
set xtics rotate by -{angle} nomirror
set grid ytics
set style fill solid 0.6 border -1
set bmargin {bmargin}
set rmargin {rmargin}
set key off
plot '{dat}' using 0:2:($0-0.3):($0+0.3):($2<1?$2:1):($2<1?1:$2):5:xtic(1) \\
        with boxxyerror lc rgb variable, \\
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt 7 ps 0.6, \\
     1 with lines lc rgb "black" dt 2
"""
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if p.returncode or not os.path.exists(png):
        sys.exit(f"bench: gnuplot failed:\n{p.stderr}")
    return png


def check_only(a):
    """Refuse a --only that selects nothing, before booting anything: ask
    the (static) benchmark binary built for the initramfs for its list."""
    if not a.only or a.only == "all":
        return
    binary = os.path.join(os.path.dirname(os.path.abspath(a.initrd)), "tools", "iowq-bench")
    try:
        names = subprocess.run([binary, "-l"], capture_output=True, text=True,
                               check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return
    for want in a.only.split(","):
        if not any(n == want or n.startswith(want + "-") for n in names):
            sys.exit(f"bench: no workload '{want}'; workloads: {' '.join(names)}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--stock", required=True)
    p.add_argument("--ours", required=True)
    p.add_argument("--before", action="store_true",
                   help="the --stock kernel is an earlier build of our io-wq "
                        "(a before/after comparison), not upstream")
    p.add_argument("--initrd", required=True)
    p.add_argument("--boots", type=int, default=3,
                   help="timed boots per kernel (0: none)")
    p.add_argument("--cost-boots", type=int, default=0,
                   help="boots per kernel with the instruction-counting plugin")
    p.add_argument("--plugin", default="", help="the plugin (insn-count.so)")
    p.add_argument("--symbols", type=int, default=0,
                   help="cost boots: per-function view from the N hottest blocks")
    p.add_argument("--only", default="")
    p.add_argument("--args", default="", help="more options for iowq-bench")
    p.add_argument("--pooled", action="store_true",
                   help="also compare the medians of every repetition pooled")
    p.add_argument("--append-ours", default="",
                   help="more kernel command line for the --ours boots only, e.g. "
                        "'trace_event=io_wq:*' (with --before and one kernel twice: "
                        "the price of enabled events)")
    p.add_argument("--accel", default="tcg")
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument("--mem", default="2048")
    p.add_argument("--timeout", type=int, default=900, help="seconds per boot")
    p.add_argument("--quiet-timeout", type=int, default=180)
    a = p.parse_args()

    if a.boots < 0 or a.cost_boots < 0 or a.boots + a.cost_boots < 1:
        sys.exit("bench: --boots and --cost-boots must not be negative, nor both 0")
    if a.cost_boots and not os.path.exists(a.plugin):
        sys.exit(f"bench: --cost-boots needs --plugin: '{a.plugin}' does not exist")
    for f in (a.stock, a.ours, a.initrd):
        if not os.path.exists(f):
            sys.exit(f"bench: {f} does not exist")
    if shutil.which("qemu-system-x86_64") is None:
        sys.exit("bench: qemu-system-x86_64 missing: run 'make deps'")
    logs = os.path.join(a.out, "logs")
    os.makedirs(logs, exist_ok=True)
    for f in os.listdir(logs):          # the serial logs of an earlier run
        if f.startswith(("boot", "cost")) and f.endswith((".log", ".marks")):
            os.unlink(os.path.join(logs, f))
    check_only(a)
    a.guest_args = " ".join(x for x in ((f"-b {a.only}" if a.only else ""), a.args) if x)

    total = 2 * (a.boots + a.cost_boots)
    print(f"==> bench: {a.boots} timed and {a.cost_boots} cost boot(s) per kernel, "
          "alternating stock/ours; "
          f"QEMU {a.accel}, {a.smp} CPUs, {a.nodes} nodes, {a.mem} MiB; "
          f"workloads: {a.only or 'all'}{'; iowq-bench ' + a.args if a.args else ''}",
          flush=True)
    a.host = HostProbe()
    t_start = time.monotonic()
    boots = []
    for cost, n in ((False, a.boots), (True, a.cost_boots)):
        for i in range(n):
            for label, kernel in (("stock", a.stock), ("ours", a.ours)):
                b = Boot(label, kernel)
                b.cost = cost
                run_boot(a, len(boots) + 1, total, b, t_start)
                boots.append(b)
    wall = time.monotonic() - t_start
    # The host's slowness as an info row, against the run's fastest slice.
    for b in boots:
        key = ("host", "slowdown")
        b.values[key] = b.host / a.host.fastest
        b.meta[key] = ("x", "info")
        b.reps[key] = ""
        b.order.append(key)

    timed = [b for b in boots if not b.cost]
    costed = [b for b in boots if b.cost]
    rows = summarize(timed) if timed else []
    cost_rows = summarize(costed) if costed else []
    for r in cost_rows:
        if r["workload"] == "host":
            r["workload"] = "host(cost)"
    if not rows and not cost_rows:
        sys.exit("bench: no result at all")
    info = []
    for b in boots:
        for x in b.info:
            if x not in info:
                info.append(x)
    if rows:
        print_table(rows, a.boots)
        for x in info:
            print(f"  guest: {x}")
        layout_note(rows)
    if a.pooled and rows:
        print_pooled(rows, timed)
    if cost_rows:
        print_table(cost_rows, a.cost_boots, cost=True)
    if a.symbols and costed:
        print_symbols(a, costed)
    path, prev = write_csv(a, rows + cost_rows, boots)
    if prev:
        compare_prev(rows + cost_rows, prev)
    png = None
    if rows:
        png = plot(a, rows, f"io-wq ours vs stock 6.1.y, {a.boots}+{a.boots} boots, "
                   f"QEMU {a.accel} {a.smp} CPUs {a.nodes} nodes")
    if cost_rows:
        cpng = plot(a, cost_rows, f"io-wq instructions per operation, stock/ours, "
                    f"{a.cost_boots}+{a.cost_boots} boots, QEMU {a.accel} {a.smp} CPUs "
                    f"{a.nodes} nodes", name="bench-cost")
        png = f"{png} {cpng}" if png else cpng
    print(f"\nwall time {fmt_time(wall)}; serial logs in {os.path.join(a.out, 'logs')}")
    print(f"table: {path} (per-boot values: {os.path.join(a.out, 'raw.csv')})")
    print(f"plot:  {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
