#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a kernel with the io-wq initramfs under QEMU and judge the run.

  vm.py run   --kernel K --initrd I [--log L] ...   the demo, console to stdout
  vm.py test  --kernel K --initrd I --log L ...     the selftests, a summary
  vm.py stress --kernel K --initrd I --log L ...    the stress program
  vm.py bench --kernel K --initrd I --log L ...     the benchmark program

A host-side watchdog kills QEMU when the whole run takes longer than
--timeout seconds or the guest prints nothing for --quiet-timeout seconds.
The run fails on a guest panic, a hang, a kernel splat in the guest log, or
a leak that the guest's kmemleak scan reports after the programs ran.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

# Kernel log lines (they carry a printk timestamp) that fail a run.
SPLATS = [
    r"BUG:", r"WARNING:", r"Oops", r"general protection fault",
    r"Kernel panic", r"possible circular locking", r"possible recursive locking",
    r"inconsistent lock state", r"suspicious RCU usage", r"DEBUG_LOCKS_WARN_ON",
    r"bad unlock balance", r"held lock freed", r"lock held when returning",
    r"lockdep is turned off", r"KASAN", r"UBSAN",
    r"INFO: task .* blocked for more than", r"hung_task",
    r"kmemleak: .*suspected memory leak", r"unreferenced object",
    r"rcu: INFO: .* detected stalls", r"soft lockup", r"Call Trace:",
]
SPLAT_RE = re.compile("|".join(SPLATS))
KLINE_RE = re.compile(r"^\[\s*\d+\.\d+\]")
# kselftest_harness.h reports a skipped case as "ok N # SKIP why", without
# its name: that comes from the "#  RUN  fixture.case ..." line before it.
TAP_RE = re.compile(r"^(not ok|ok) \d+ ?(.*?)(\s*#\s*(SKIP|skip|XFAIL)(.*))?$")
RUN_RE = re.compile(r"^#\s+RUN\s+(\S+)")


def qemu_cmd(a):
    mem = int(a.mem)
    # One socket per node: CPUs of one socket on two nodes make the guest
    # kernel warn about its topology.
    sockets = a.nodes if a.nodes > 1 and a.smp % a.nodes == 0 else 1
    cmd = ["qemu-system-x86_64", "-m", f"{mem}M", "-smp", f"{a.smp},sockets={sockets}",
           "-kernel", a.kernel, "-initrd", a.initrd,
           "-display", "none", "-vga", "none", "-no-reboot", "-nodefaults",
           "-monitor", "none"]
    if a.accel == "kvm":
        cmd += ["-accel", "kvm", "-cpu", "host"]
    else:
        cmd += ["-accel", "tcg,thread=multi", "-cpu", "max"]
    if getattr(a, "plugin", None):         # bench.py's cost boots
        cmd += ["-plugin", a.plugin]
    if a.nodes > 1:
        if a.smp < a.nodes:
            sys.exit(f"vm.py: SMP={a.smp} is less than NODES={a.nodes}")
        per_cpu, per_mem = a.smp // a.nodes, mem // a.nodes
        for n in range(a.nodes):
            first = n * per_cpu
            last = a.smp - 1 if n == a.nodes - 1 else first + per_cpu - 1
            size = mem - per_mem * (a.nodes - 1) if n == a.nodes - 1 else per_mem
            cmd += ["-object", f"memory-backend-ram,id=m{n},size={size}M",
                    "-numa", f"node,nodeid={n},memdev=m{n},cpus={first}-{last}"]
    # loglevel=4: errors and worse reach the console at once, warnings
    # only the dmesg dump at the end of the run (every splat is read from
    # both).  6.1 writes the serial console from the printk() of a hard
    # interrupt, under the port's spinlock_t: hrtimer's one-off "interrupt
    # took" warning on a slow host then trips PROVE_RAW_LOCK_NESTING, whose
    # report turns lockdep off for the rest of the run.
    append = ["console=ttyS0", "panic=-1", "oops=panic" if a.oops_panic else "",
              "loglevel=4" if a.mode != "run" else "quiet",
              f"iowq.mode={a.mode}", f"iowq.timeout={a.test_timeout}"]
    if getattr(a, "lu_timeout", None):     # bench.py has none
        append.append(f"iowq.lutimeout={a.lu_timeout}")
    if getattr(a, "variant", None):        # bench.py has none
        append.append(f"iowq.kernel={a.variant}")
    if a.filter:
        append.append(f"iowq.filter={a.filter}")
    if a.args:
        append.append(f'iowq.args="{a.args}"')
    if getattr(a, "append", None):         # bench.py has none
        append.append(a.append)
    cmd += ["-append", " ".join(x for x in append if x)]
    # The console goes to a log file that follow() streams to the terminal
    # (run, bench) or parses (test); an interactive shell gets stdio.
    cmd += ["-chardev", f"stdio,id=ser0,signal=on,logfile={a.log}" if a.mode == "shell"
            else f"file,id=ser0,path={a.log}", "-serial", "chardev:ser0"]
    return cmd


def follow(path, proc, a, on_line):
    """Feed each line of the serial log to on_line while QEMU runs; enforce
    the watchdog.  Returns None, or a string saying why QEMU was killed."""
    start = last = time.monotonic()
    pos, buf, why = 0, "", None
    while True:
        done = proc.poll() is not None
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            data = b""
        if data:
            pos += len(data)
            last = time.monotonic()
            # NULs: liburing's tty-write-dpoll writes zeros to ttyS0
            buf += data.decode("utf-8", "replace").replace("\r", "").replace("\0", "")
            *lines, buf = buf.split("\n")
            for line in lines:
                on_line(line)
        if done:
            if buf:
                on_line(buf)
            return why
        now = time.monotonic()
        if now - start > a.timeout:
            why = f"the run took longer than {a.timeout} s"
        elif now - last > a.quiet_timeout:
            why = f"the guest printed nothing for {a.quiet_timeout} s"
        if why:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            continue
        time.sleep(0.2)


class Judge:
    """Collects what the guest said: test results, splats, exit status."""

    def __init__(self, verbose, known=None):
        self.verbose = verbose
        self.known = known or {}   # case -> (label, why it fails)
        self.results = []          # (status, name, detail)
        self.splats = []
        self.exit = None
        self.boot = None
        self.cur = None            # current test binary
        self.cur_rc_only = False   # judged by its exit status alone
        self.cur_t0 = 0.0
        self.durations = {}        # binary -> seconds (host clock)
        self.cur_tap = []          # (TAP match, case named by the last RUN line)
        self.cur_run = None
        self.cur_out = []
        self.in_dmesg = False
        self.in_leaks = False
        self.leaks = []            # kmemleak report lines
        self.panic = False

    def line(self, line):
        # A marker may follow output that did not end with a newline.
        at = line.find("@@IOWQ ")
        if at > 0:
            self.line(line[:at])
            line = line[at:]
        if line.startswith("@@IOWQ "):
            self.marker(line[7:].strip())
            return
        if KLINE_RE.match(line):
            # the console and the final dmesg dump show the same line; the
            # kernel's echo of its command line (--append) is no splat
            if SPLAT_RE.search(line) and line not in self.splats and \
                    "ommand line: " not in line:
                self.splats.append(line)
            if "Kernel panic" in line:
                self.panic = True
        if self.in_dmesg:
            return
        if self.in_leaks:
            self.leaks.append(line)
            return
        if self.cur is not None:
            self.cur_out.append(line)
            m = None if self.cur_rc_only else TAP_RE.match(line.strip())
            if m:
                self.cur_tap.append((m, self.cur_run))
            r = None if self.cur_rc_only else RUN_RE.match(line.strip())
            if r:
                self.cur_run = r.group(1)
        if self.verbose:
            print(line, flush=True)

    def marker(self, m):
        word, _, rest = m.partition(" ")
        if word == "BOOT":
            self.boot = rest
            print(f"guest: {rest}", flush=True)
        elif word == "BEGIN":
            name, _, flags = rest.partition(" ")
            self.cur, self.cur_tap, self.cur_out = name, [], []
            self.cur_run = None
            self.cur_rc_only = "rc-only" in flags.split()
            self.cur_t0 = time.monotonic()
        elif word == "END":
            rc = int(rest.rsplit("rc=", 1)[1])
            self.durations[self.cur] = time.monotonic() - self.cur_t0
            if self.cur_rc_only:
                self.finish_rc_only(self.cur, rc)
            else:
                self.finish_binary(self.cur, rc)
            self.cur = None
        elif word == "DMESG-BEGIN":
            self.in_dmesg = True
        elif word == "DMESG-END":
            self.in_dmesg = False
        elif word == "KMEMLEAK-BEGIN":
            self.in_leaks = True
        elif word == "KMEMLEAK-END":
            self.in_leaks = False
            n = sum(1 for x in self.leaks if x.startswith("unreferenced object"))
            print(f"kmemleak: {n} unreferenced object(s)", flush=True)
        elif word == "EXIT":
            self.exit = int(rest)

    def report(self, status, name, detail=""):
        if status == "FAIL" and name in self.known:
            label, why = self.known[name]
            status, detail = "XFAIL", f"{label}: {why}; {detail}" if detail else f"{label}: {why}"
        self.results.append((status, name, detail))
        print(f"{status:4} {name}{'  (' + detail + ')' if detail else ''}", flush=True)

    def finish_binary(self, name, rc):
        failed_case = False
        for m, run in self.cur_tap:
            case = m.group(2).strip() or run or ""
            skip = m.group(4) and m.group(4).upper() == "SKIP"
            detail = (m.group(5) or "").strip()
            if not case and skip:
                # kselftest.h's ksft_test_result_skip(): "ok N # SKIP name: why"
                case, _, detail = detail.partition(": ")
            if not case or case.startswith("# "):
                continue
            if skip:
                self.report("SKIP", f"{name}.{case}", detail)
            elif m.group(1) == "ok":
                self.report("PASS", f"{name}.{case}")
            else:
                failed_case = True
                self.report("FAIL", f"{name}.{case}")
        # The binary itself failed beyond its cases: crash, timeout, bad exit.
        if rc == 137:
            self.report("FAIL", name, "killed by the guest timeout")
        elif rc not in (0, 4) and not failed_case:
            self.report("FAIL", name, f"exit status {rc}")
        elif not self.cur_tap:
            self.report({0: "PASS", 4: "SKIP"}.get(rc, "FAIL"), name)
        if (rc not in (0, 4) or failed_case) and not self.verbose:
            for out in self.cur_out[-40:]:
                print(f"    | {out}")


    def finish_rc_only(self, name, rc):
        """A program judged by its exit status only (liburing's tests:
        0 pass, 77 skip, anything else fails); its output is not TAP."""
        if rc == 0:
            self.report("PASS", name)
        elif rc == 77:
            self.report("SKIP", name)
        elif rc == 137:
            self.report("FAIL", name, "killed by the guest timeout")
        else:
            self.report("FAIL", name, f"exit status {rc}")
        if rc not in (0, 77) and not self.verbose:
            for out in self.cur_out[-40:]:
                print(f"    | {out}")


def guest_problems(judge, why, qemu_rc):
    """What makes any guest run fail, whatever it ran: lines to print."""
    problems = []
    if why:
        problems.append(f"WATCHDOG: guest hung ({why}); QEMU killed")
    if judge.panic:
        problems.append("guest kernel panicked")
    elif judge.exit is None and not why:
        problems.append(f"guest stopped without finishing (QEMU exit {qemu_rc})")
    if judge.splats:
        problems.append(f"guest kernel log has {len(judge.splats)} splat line(s):")
        problems += [f"    {s}" for s in judge.splats[:20]]
    leaks = [x for x in judge.leaks if x.startswith("unreferenced object")]
    if leaks:
        problems.append(f"kmemleak reports {len(leaks)} unreferenced object(s):")
        problems += [f"    {s}" for s in judge.leaks[:40]]
    return problems


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["run", "test", "stress", "bench", "kselftest", "shell"])
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--accel", default="tcg")
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument("--mem", default="2048")
    p.add_argument("--variant", choices=["ours", "stock"],
                   help="which io-wq the kernel has: the selftests fail where "
                   "a feature of ours is missing on ours, skip on stock")
    p.add_argument("--filter", default="")
    p.add_argument("--args", default="")
    p.add_argument("--timeout", type=int, default=1200)
    p.add_argument("--quiet-timeout", type=int, default=300)
    p.add_argument("--test-timeout", type=int, default=300)
    p.add_argument("--oops-panic", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--known", action="append", default=[], metavar="LABEL:FILE",
                   help="cases known to fail on this kernel, and the label of "
                   "their XFAIL (repeatable)")
    p.add_argument("--append", default="",
                   help="more kernel command line, e.g. 'trace_event=io_wq:*'")
    p.add_argument("--lu-timeout", type=int, default=120,
                   help="guest: seconds before a liburing test is killed")
    a = p.parse_args()

    for f in (a.kernel, a.initrd):
        if not os.path.exists(f):
            sys.exit(f"vm.py: {f} does not exist")
    os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
    if os.path.exists(a.log):
        os.unlink(a.log)
    cmd = qemu_cmd(a)
    known = {}
    for spec in a.known:
        label, _, path = spec.rpartition(":")
        with open(path) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    case, _, why = line.strip().partition("\t")
                    known[case] = (label or "known failure", why.strip())
    judge = Judge(a.verbose or a.mode in ("run", "stress", "bench", "kselftest"), known)
    t0 = time.monotonic()
    stdin = None if a.mode == "shell" else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdin=stdin)
    if a.mode == "shell":
        proc.wait()
        return proc.returncode
    why = follow(a.log, proc, a, judge.line)
    secs = time.monotonic() - t0

    problems = guest_problems(judge, why, proc.returncode)

    rc = 0
    if a.mode in ("test", "stress"):
        n = {s: sum(1 for r in judge.results if r[0] == s)
             for s in ("PASS", "FAIL", "SKIP", "XFAIL")}
        if judge.cur is not None:
            problems.append(f"test {judge.cur} did not finish")
        if not judge.results and not problems:
            problems.append("no test ran")
        print(f"guest run took {secs:.0f} s; serial log: {a.log}")
        lu = {k: v for k, v in judge.durations.items() if k.startswith("liburing.")}
        if lu:
            slow = sorted(lu.items(), key=lambda kv: -kv[1])[:5]
            print(f"liburing tests took {sum(lu.values()):.0f} s; slowest: "
                  + ", ".join(f"{k[9:]} {v:.0f} s" for k, v in slow))
        for pr in problems:
            print(pr)
        if problems:
            print("---- last lines of the serial log ----")
            with open(a.log, errors="replace") as f:
                for line in f.readlines()[-40:]:
                    print("    " + line.rstrip())
        failed = n["FAIL"] + (1 if problems and not n["FAIL"] else 0)
        xfail = f", {n['XFAIL']} known failure(s)" if n["XFAIL"] else ""
        print(f"{n['PASS']} passed, {failed} failed, {n['SKIP']} skipped{xfail}")
        rc = 1 if failed else 0
    else:
        for pr in problems:
            print(pr)
        if problems:
            rc = 1
        elif judge.exit:
            print(f"guest program exited with status {judge.exit}")
            rc = judge.exit
        print(f"guest run took {secs:.0f} s; serial log: {a.log}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
