#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Mutation testing of the selftests: `make mutants`.

Each mutant of harness/mutants (a deliberate bug in io_uring/io-wq.c) is
applied alone to a copy of io-wq.c, built into a kernel tree of its own
(B/mutants: its source and objects laid out like B's, so ccache serves
all but io-wq.o) and booted with the selftests (not liburing's).  A
mutant is caught when some case fails, or the run hangs or splats; the
table says which cases caught each one.  Exit status 1 if any mutant
survived (or one no longer applies), 2 on a harness error.

    harness/mutants.py [--only NAME,...] [--list FILE] [--timeout S]
"""
import argparse
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IOWQ = os.path.join(REPO, "io_uring", "io-wq.c")


class Mutant:
    def __init__(self, name, what, line):
        self.name, self.what, self.line = name, what, line
        self.hunks = [([], [])]

    @property
    def minus(self):
        return self.hunks[-1][0]

    @property
    def plus(self):
        return self.hunks[-1][1]

    def apply(self, text):
        """The mutated io-wq.c, or None if some hunk's "-" lines are not
        there exactly once."""
        for minus, plus in self.hunks:
            old = "\n".join(minus) + "\n"
            if text.count(old) != 1:
                return None
            text = text.replace(old, "\n".join(plus) + "\n" if plus else "")
        return text


def parse(path):
    mutants, cur = [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = re.match(r"^\[([a-z0-9-]+)\] (.+)$", line)
            if m:
                cur = Mutant(m.group(1), m.group(2), n)
                mutants.append(cur)
            elif line == "@@" and cur:
                cur.hunks.append(([], []))
            elif line.startswith("-") and cur:
                cur.minus.append(line[1:])
            elif line.startswith("+") and cur:
                cur.plus.append(line[1:])
            elif line.strip() and not line.startswith("#"):
                sys.exit(f"mutants.py: {path}:{n}: not a mutant line: {line!r}")
    names = [m.name for m in mutants]
    dups = {x for x in names if names.count(x) > 1}
    if dups:
        sys.exit(f"mutants.py: {path}: mutants named twice: {', '.join(sorted(dups))}")
    for m in mutants:
        if not all(minus for minus, _ in m.hunks):
            sys.exit(f"mutants.py: {path}:{m.line}: mutant {m.name} has a hunk without '-' line")
    return mutants


def build(b, mdir, cfile):
    """Build the kernel with io-wq.c linked to @cfile; its bzImage path."""
    env = dict(os.environ, B=mdir, IOWQ_C=cfile, LOCKS=b, DEBUG="")
    log = os.path.join(mdir, "build.out")
    with open(log, "w") as f:
        rc = subprocess.call([os.path.join(REPO, "harness", "kernel.sh"), "build", "ours"],
                             env=env, stdout=f, stderr=subprocess.STDOUT)
    if rc:
        with open(log) as f:
            sys.stderr.write(f.read()[-3000:])
        return None
    return os.path.join(mdir, "obj", "ours", "arch", "x86", "boot", "bzImage")


def run(b, bzimage, name, timeout):
    """Boot the selftests: (failed case names, other problems, seconds)."""
    log = os.path.join(b, "logs", f"mutant-{name}.log")
    cmd = [sys.executable, os.path.join(REPO, "harness", "vm.py"), "test",
           "--kernel", bzimage, "--variant", "ours", "--initrd", os.path.join(b, "initramfs.cpio"),
           "--log", log, "--test-timeout", str(timeout),
           # a mutant that oopses or locks up ends the boot at once (no
           # hung_task_panic=: the command line is in the log, and vm.py
           # reads "hung_task" as a splat)
           "--oops-panic", "--append", "softlockup_panic=1",
           "--timeout", str(timeout * 12), "--quiet-timeout", str(timeout)]
    t0 = time.monotonic()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True).stdout
    failed, problems = [], []
    for line in out.splitlines():
        m = re.match(r"^FAIL (\S+)", line)
        if m:
            failed.append(m.group(1))
        elif re.match(r"^(WATCHDOG|guest kernel|guest stopped|test .* did not finish|"
                      r"kmemleak reports|no test ran)", line):
            problems.append(line.strip())
    return failed, problems, time.monotonic() - t0


def stale_msg(m, path):
    """What to say of mutant @m whose lines io-wq.c no longer has once."""
    return f"{m.name}: its '-' lines are not in io-wq.c exactly once: update {path}:{m.line}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--list", default=os.path.join(REPO, "harness", "mutants"))
    p.add_argument("--only", default="", help="comma-separated mutant names")
    p.add_argument("--timeout", type=int, default=150,
                   help="guest: seconds before one selftest program is killed")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the run of the unmutated io-wq.c")
    p.add_argument("--check", action="store_true",
                   help="only check that every mutant applies to io-wq.c (make check)")
    a = p.parse_args()
    if a.check:
        with open(IOWQ) as f:
            text = f.read()
        ms = parse(a.list)
        stale = [m for m in ms if m.apply(text) is None]
        for m in stale:
            print(f"mutants.py: {stale_msg(m, a.list)}", file=sys.stderr)
        if stale:
            return 1
        print(f"==> mutants: all {len(ms)} apply to io-wq.c", flush=True)
        return 0
    b = os.environ.get("B", os.path.join(REPO, "build"))
    mdir = os.path.join(b, "mutants")
    os.makedirs(os.path.join(b, "logs"), exist_ok=True)
    os.makedirs(mdir, exist_ok=True)

    mutants = parse(a.list)
    if a.only:
        want = a.only.split(",")
        unknown = [x for x in want if x not in {m.name for m in mutants}]
        if unknown:
            sys.exit(f"mutants.py: no such mutant: {', '.join(unknown)}")
        mutants = [m for m in mutants if m.name in want]
    with open(IOWQ) as f:
        text = f.read()
    cfile = os.path.join(mdir, "io-wq.c")

    rows, t_all = [], time.monotonic()
    todo = ([] if a.no_baseline else [None]) + mutants
    for m in todo:
        name = m.name if m else "baseline"
        src = text if m is None else m.apply(text)
        if src is None:
            print(f"==> {stale_msg(m, a.list)}", flush=True)
            rows.append((name, "STALE", []))
            continue
        with open(cfile, "w") as f:
            f.write(src)
        print(f"==> {name}: {m.what if m else 'io-wq.c as it is'}", flush=True)
        bz = build(b, mdir, cfile)
        if not bz:
            print(f"mutants.py: {name} does not build", file=sys.stderr)
            return 2
        failed, problems, secs = run(b, bz, name, a.timeout)
        caught = failed + problems
        if m is None:
            if caught:
                print("    the selftests fail without a mutant: " + "; ".join(caught))
                return 2
            print(f"    all pass ({secs:.0f} s)", flush=True)
            continue
        verdict = "caught" if caught else "SURVIVED"
        print(f"    {verdict} in {secs:.0f} s" +
              (f" by {len(caught)}: " + ", ".join(caught[:8]) +
               (" ..." if len(caught) > 8 else "") if caught else ""), flush=True)
        rows.append((name, verdict, caught))

    print(f"\n{'mutant':28} {'verdict':9} caught by")
    for name, verdict, caught in rows:
        print(f"{name:28} {verdict:9} {len(caught):3}  " + ", ".join(caught[:4]) +
              (" ..." if len(caught) > 4 else ""))
    bad = [r for r in rows if r[1] != "caught"]
    print(f"{len(rows) - len(bad)} of {len(rows)} mutants caught in "
          f"{(time.monotonic() - t_all) / 60:.0f} min")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
