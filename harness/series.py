#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The patch series, derived from the repository by series/manifest.

  series.py check           every file of the repository is in a patch or
                            local; the manifest and patches/series agree
  series.py export OUT      write the series with git format-patch into OUT
  series.py bench-table CSV series/bench.txt from make bench's results.csv
  series.py stages DIR      write every version of the files of ours that
                            series/io-wq-*.diff change: DIR/0 as the core
                            patch ships them, DIR/K after the K-th diff
  series.py rediff DIR      write those diffs anew between DIR's versions,
                            the last being the repository's files
  series.py verify PATCHES  `make patches-check`: git am each patch onto a
                            fresh pristine tree, checkpatch it, build and
                            boot the prefix; then compare the applied tree
                            with the tree `make kernel` builds

The pristine tree is a git repository made once from SRC_TAR (the exact
6.1.y of Debian's linux-source-6.1), in $B/pristine.git, tagged vX.Y.Z.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.environ.get("B") or os.path.join(REPO, "build")
SRC_TAR = os.environ.get("SRC_TAR") or "/usr/src/linux-source-6.1.tar.xz"
JOBS = os.environ.get("JOBS") or str(os.cpu_count() + 1)
MANIFEST = os.path.join(REPO, "series", "manifest")
PRISTINE = os.path.join(B, "pristine.git")
# Who applies the series in `make patches-check`: the series itself does
# not depend on who builds it (its author is in series/manifest).
COMMITTER = ("io-wq series check", "series-check@localhost")


def die(msg):
    sys.exit(f"series.py: error: {msg}")


def say(msg):
    print(f"==> {msg}", flush=True)


def run(cmd, cwd=None, env=None, capture=True, check=True, stdin=None):
    p = subprocess.run(cmd, cwd=cwd, env=env, text=True, input=stdin,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.STDOUT if capture else None)
    if check and p.returncode:
        out = (p.stdout or "").strip()
        die(f"{' '.join(cmd)} failed ({p.returncode})" + (f":\n{out}" if out else ""))
    return p.stdout if capture else p.returncode


class Patch:
    def __init__(self, msg, line):
        self.msg = msg          # message file, relative to series/
        self.line = line
        self.files = []         # (entry, line) as written
        self.hunks = []         # (patches/NAME, line)
        self.diffs = []         # (series/NAME.diff, line): changes to files of ours
        self.expanded = []      # repository files shipped by this patch

    def message(self):
        return open(os.path.join(REPO, "series", self.msg)).read()

    def subject(self):
        return self.message().split("\n", 1)[0]


def parse():
    author, patches, local = None, [], []
    for n, raw in enumerate(open(MANIFEST), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, arg = line.partition(" ")
        arg = arg.strip()
        if not arg:
            die(f"series/manifest:{n}: '{word}' needs an argument")
        if word == "author":
            author = arg
        elif word == "patch":
            patches.append(Patch(arg, n))
        elif word in ("file", "hunks", "diff"):
            if not patches:
                die(f"series/manifest:{n}: '{word}' before any 'patch'")
            getattr(patches[-1], word + ("s" if word != "hunks" else "")).append((arg, n))
        elif word == "local":
            local.append((arg, n))
        else:
            die(f"series/manifest:{n}: unknown keyword '{word}'")
    if not author or not re.fullmatch(r"[^<>]+ <[^<>@]+@[^<>]+>", author):
        die("series/manifest: no 'author NAME <EMAIL>' line")
    if not patches:
        die("series/manifest: no patch")
    return author, patches, local


def repo_files():
    """Files of the repository: tracked, or new and not ignored."""
    out = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    return sorted(f for f in out.splitlines() if os.path.lexists(os.path.join(REPO, f)))


def covered(entry, files):
    if entry.endswith("/"):
        return [f for f in files if f.startswith(entry)]
    return [f for f in files if f == entry]


def check(quiet=False):
    """Return (author, patches, local) when the manifest is right."""
    author, patches, local = parse()
    files = repo_files()
    owner, errors = {}, []

    def claim(entry, n, what):
        got = covered(entry, files)
        if not got:
            errors.append(f"series/manifest:{n}: '{entry}' matches no file of the repository")
        for f in got:
            if f in owner:
                errors.append(f"series/manifest:{n}: {f} is already in {owner[f]}")
            owner[f] = what
        return got

    for p in patches:
        path = os.path.join(REPO, "series", p.msg)
        if not os.path.isfile(path):
            errors.append(f"series/manifest:{p.line}: no message file series/{p.msg}")
            continue
        text = p.message()
        head = text.split("\n", 2)
        if len(head) < 3 or not head[0].strip() or head[1] != "":
            errors.append(f"series/{p.msg}: a subject line, a blank line, then the body")
        elif len(head[0]) > 75:
            errors.append(f"series/{p.msg}: subject longer than 75 characters")
        if f"Signed-off-by: {author}" not in text:
            errors.append(f"series/{p.msg}: no 'Signed-off-by: {author}'")
        if not p.files and not p.hunks and not p.diffs:
            errors.append(f"series/manifest:{p.line}: patch {p.msg} carries nothing")
        for entry, n in p.diffs:
            if not os.path.isfile(os.path.join(REPO, entry)):
                errors.append(f"series/manifest:{n}: no diff {entry}")
                continue
            for f in diff_files(entry):
                if not any(f in q.expanded for q in patches[:patches.index(p)]):
                    errors.append(f"series/manifest:{n}: {entry} changes {f}, which no "
                                  "earlier patch ships")
        for entry, n in p.files:
            p.expanded += claim(entry, n, f"patch {p.msg}")
        for entry, n in p.hunks:
            claim(entry, n, f"patch {p.msg}")
    for entry, n in local:
        claim(entry, n, "local")
    for f in ("cover-letter.txt", "bench.txt"):
        if not os.path.isfile(os.path.join(REPO, "series", f)):
            errors.append(f"series/{f} is missing")
    for f in files:
        if f not in owner:
            errors.append(f"{f}: in no patch of the series and not local (series/manifest)")
    series = [ln.strip() for ln in open(os.path.join(REPO, "patches", "series"))
              if ln.strip() and not ln.startswith("#")]
    hunks = [os.path.basename(e) for p in patches for e, _ in p.hunks]
    if series != hunks:
        errors.append("patches/series and the manifest's hunks differ in content or order:\n"
                      f"  patches/series: {' '.join(series)}\n  manifest:       {' '.join(hunks)}")
    if not errors:
        try:
            stages(patches)
        except ValueError as e:
            errors.append(str(e))
    if errors:
        die("the series does not match the repository:\n  " + "\n  ".join(errors))
    if not quiet:
        say(f"series: {len(patches)} patches carry {sum(len(p.expanded) for p in patches)} "
            f"file(s) and {len(hunks)} hunk file(s); {len(files)} files checked")
    return author, patches, local


def diff_files(diff):
    """The files a diff of ours changes (its +++ b/PATH lines)."""
    return sorted({m.group(1) for m in re.finditer(r"^\+\+\+ b/(\S+)",
                                                  open(os.path.join(REPO, diff)).read(), re.M)})


def split_diffs(patches):
    """The diffs of the series in order, and the files of ours they change."""
    diffs = [e for p in patches for e, _ in p.diffs]
    return diffs, sorted({f for d in diffs for f in diff_files(d)})


def versions(patches, out):
    """Write every version of the files the diffs change into @out: @out/0
    as the patch that ships them has them, @out/K after the K-th diff (in
    series order), the last the repository's.  Raises ValueError if a diff
    does not come off (the file changed where it has its lines or context)."""
    diffs, files = split_diffs(patches)
    last = os.path.join(out, str(len(diffs)))
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(last, f)), exist_ok=True)
        shutil.copy(os.path.join(REPO, f), os.path.join(last, f))
    for k in range(len(diffs) - 1, -1, -1):
        shutil.copytree(os.path.join(out, str(k + 1)), os.path.join(out, str(k)))
        r = subprocess.run(["git", "apply", "-R", os.path.join(REPO, diffs[k])],
                           cwd=os.path.join(out, str(k)), text=True, capture_output=True)
        if r.returncode:
            raise ValueError(f"{diffs[k]} does not come off the files of the later patches "
                             f"(edit it to match them, see README):\n{r.stderr.strip()}")
    return diffs, files


def stages(patches):
    """The first version of each file of ours that later patches change
    with a diff (versions() 0).  Returns {path: text}; raises ValueError
    if a diff does not come off."""
    tmp = tempfile.mkdtemp(prefix="series-stages-")
    try:
        _, files = versions(patches, tmp)
        return {f: open(os.path.join(tmp, "0", f)).read() for f in files}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_stages(out):
    """`series.py stages DIR`: versions() of the files into @out."""
    if os.path.exists(out):
        die(f"{out} exists: give a new directory")
    try:
        diffs, _ = versions(parse()[1], out)
    except ValueError as e:
        die(str(e))
    for k, d in enumerate(diffs):
        say(f"{out}/{k}: before {d}")
    say(f"{out}/{len(diffs)}: the repository's files")


def rediff(out):
    """Write each diff of the series anew between consecutive versions of
    write_stages() in @out, the last being the repository's files."""
    diffs, files = split_diffs(parse()[1])
    for k, d in enumerate(diffs):
        text = ""
        for f in files:
            old = os.path.join(out, str(k), f)
            new = os.path.join(REPO, f) if k + 1 == len(diffs) else \
                os.path.join(out, str(k + 1), f)
            r = subprocess.run(["diff", "-u", "--label", f"a/{f}", "--label", f"b/{f}",
                                old, new], text=True, capture_output=True)
            if r.returncode > 1:
                die(f"diff {old} {new}: {r.stderr.strip()}")
            text += r.stdout
        with open(os.path.join(REPO, d), "w") as fh:
            fh.write(text)
        say(f"wrote {d}")
    check()


def base_version():
    with subprocess.Popen(["tar", "-xJOf", SRC_TAR, "linux-source-6.1/Makefile"],
                          stdout=subprocess.PIPE, text=True) as p:
        head = p.stdout.read(2000)
    v = {k: re.search(rf"^{k} = (\d+)", head, re.M) for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")}
    if not all(v.values()):
        die(f"{SRC_TAR}: no version in its Makefile")
    return ".".join(m.group(1) for m in v.values())


def git_env(author, date):
    name, email = re.fullmatch(r"(.+) <(.+)>", author).groups()
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return env


def pristine(version):
    """The bare git repository of the upstream tree, tagged v<version>."""
    tag = f"v{version}"
    if os.path.isdir(PRISTINE) and run(["git", "tag", "-l", tag], cwd=PRISTINE).strip() == tag:
        return tag
    say(f"making the pristine git tree of Linux {version} from {SRC_TAR} (once, ~2 min)")
    shutil.rmtree(PRISTINE, ignore_errors=True)
    tmp = tempfile.mkdtemp(dir=B, prefix="pristine-")
    try:
        run(["tar", "-xJf", SRC_TAR, "-C", tmp, "--strip-components=1"])
        run(["git", "init", "-q", "--bare", PRISTINE])
        # no automatic repacking of the 80,000 new objects (minutes of 2 CPUs)
        run(["git", "config", "gc.auto", "0"], env=dict(os.environ, GIT_DIR=PRISTINE))
        env = dict(git_env("Linux <linux@localhost>", "2000-01-01T00:00:00Z"),
                   GIT_DIR=PRISTINE, GIT_WORK_TREE=tmp)
        run(["git", "add", "-A", "-f", "."], cwd=tmp, env=env)
        run(["git", "commit", "-q", "-m", f"Linux {version}\n\nThe tree of {SRC_TAR}."],
            cwd=tmp, env=env)
        run(["git", "tag", tag], cwd=tmp, env=env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tag


def export(out):
    author, patches, _ = check()
    version = base_version()
    tag = pristine(version)
    date = run(["git", "log", "-1", "--format=%cI"], cwd=REPO).strip()
    env = dict(git_env(author, date), GIT_DIR=PRISTINE,
               GIT_INDEX_FILE=os.path.join(B, "series.index"))
    run(["git", "read-tree", tag], env=env)
    parent = run(["git", "rev-parse", tag + "^{commit}"], env=env).strip()
    first = stages(patches)
    for p in patches:
        for f in p.expanded:
            path = os.path.join(REPO, f)
            if os.path.islink(path):
                die(f"{f} is a symbolic link: the series ships regular files only")
            if f in first:
                blob = run(["git", "hash-object", "-w", "--stdin"], env=env,
                           stdin=first[f]).strip()
            else:
                blob = run(["git", "hash-object", "-w", path], env=env).strip()
            mode = "100755" if os.access(path, os.X_OK) else "100644"
            run(["git", "update-index", "--add", "--cacheinfo", f"{mode},{blob},{f}"], env=env)
        for h, _ in p.hunks:
            r = subprocess.run(["git", "apply", "--cached", os.path.join(REPO, h)], env=env,
                               text=True, capture_output=True)
            if r.returncode:
                die(f"{h} (patch {p.msg}) does not apply to Linux {version}:\n{r.stderr}")
        for d, _ in p.diffs:
            r = subprocess.run(["git", "apply", "--cached", os.path.join(REPO, d)], env=env,
                               text=True, capture_output=True)
            if r.returncode:
                die(f"{d} (patch {p.msg}) does not apply:\n{r.stderr}")
        tree = run(["git", "write-tree"], env=env).strip()
        parent = run(["git", "commit-tree", tree, "-p", parent], env=env,
                     stdin=p.message()).strip()
    run(["git", "update-ref", "refs/heads/series", parent], env=env)
    shutil.rmtree(out, ignore_errors=True)
    run(["git", "format-patch", "-q", "-o", out, "--cover-letter", f"--base={tag}",
         "--signature=io-wq for Linux 6.1", f"{tag}..series"], env=env)
    cover(out, version)
    names = sorted(os.listdir(out))
    say(f"{len(names)} files in {out} (base: Linux {version}):")
    for n in names:
        print(f"   {n}")


def cover(out, version):
    path = os.path.join(out, "0000-cover-letter.patch")
    text = open(path).read()
    tmpl = open(os.path.join(REPO, "series", "cover-letter.txt")).read()
    subject, _, body = tmpl.partition("\n\n")
    bench = open(os.path.join(REPO, "series", "bench.txt")).read().rstrip("\n")
    body = body.replace("@VERSION@", version).replace("@BENCH@", bench).rstrip("\n")
    for mark in ("*** SUBJECT HERE ***", "*** BLURB HERE ***"):
        if mark not in text:
            die(f"git format-patch's cover letter has no '{mark}'")
    text = text.replace("*** SUBJECT HERE ***", subject.strip())
    text = text.replace("*** BLURB HERE ***", body)
    open(path, "w").write(text)


def checkpatch(tree, patch):
    """Zero errors and zero warnings; the CHECKs of --strict are counted."""
    # the pristine tree is one commit without history: every commit id a
    # message cites is unknown to it
    r = subprocess.run(["perl", "scripts/checkpatch.pl", "--strict",
                        "--ignore", "UNKNOWN_COMMIT_ID", patch], cwd=tree,
                       text=True, capture_output=True)
    m = re.search(r"total: (\d+) errors, (\d+) warnings, (?:(\d+) checks, )?", r.stdout)
    if not m:
        return False, r.stdout + r.stderr, 0
    return not (int(m.group(1)) or int(m.group(2))), r.stdout, int(m.group(3) or 0)


def patch_files(pdir):
    """The patches of an exported series, cover letter excluded, in order."""
    patches = sorted(f for f in os.listdir(pdir) if re.match(r"\d{4}-.*\.patch$", f)
                     and not f.startswith("0000-"))
    if not patches:
        die(f"no patches in {pdir}: run 'make patches'")
    return patches


def checkpatch_all(pdir, tree):
    """checkpatch --strict every patch as `verify` does, without applying
    or building them (for `make check`): a warning fails."""
    bad = 0
    for p in patch_files(pdir):
        ok, out, checks = checkpatch(tree, os.path.join(os.path.abspath(pdir), p))
        if ok:
            say(f"{p}: checkpatch --strict: 0 errors, 0 warnings, {checks} checks")
        else:
            print(out)
            bad += 1
    if bad:
        die(f"checkpatch.pl --strict reports errors or warnings in {bad} patch(es)")


def verify(pdir, config, initrd, boot_filter):
    author, series, local = check(quiet=True)
    shipped = [f for p in series for f in p.expanded]
    version = base_version()
    tag = pristine(version)
    patches = patch_files(pdir)
    # Laid out as build/src/ours and build/obj/ours are, so that ccache
    # (CCACHE_BASEDIR: paths relative to the build directory) hits.
    work = os.path.join(B, "patches-check")
    tree, obj = os.path.join(work, "src", "ours"), os.path.join(work, "obj", "ours")
    say(f"fresh Linux {version} in {tree}")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.dirname(tree), exist_ok=True)
    run(["git", "clone", "-q", "--no-checkout", PRISTINE, tree])
    run(["git", "checkout", "-q", "-b", "check", tag], cwd=tree)
    os.makedirs(obj, exist_ok=True)
    shutil.copy(config, os.path.join(obj, ".config"))
    cc = "ccache gcc" if shutil.which("ccache") else "gcc"
    env = git_env(COMMITTER[0] + " <" + COMMITTER[1] + ">", "2000-01-01T00:00:00Z")
    for i, p in enumerate(patches, 1):
        name = f"[{i}/{len(patches)}] {p}"
        path = os.path.join(os.path.abspath(pdir), p)
        r = subprocess.run(["git", "am", "-q", path], cwd=tree, env=env, text=True,
                           capture_output=True)
        if r.returncode:
            die(f"{name}: git am failed:\n{r.stdout}{r.stderr}")
        ok, out, checks = checkpatch(tree, path)
        if not ok:
            die(f"{name}: checkpatch.pl --strict reports errors or warnings:\n{out}")
        say(f"{name}: applies, checkpatch --strict: 0 errors, 0 warnings, {checks} checks; "
            "building")
        log = os.path.join(work, f"build-{i:02d}.log")
        with open(log, "w") as f:
            rc = subprocess.run(["make", "-C", tree, f"O={obj}", f"-j{JOBS}", f"CC={cc}",
                                 "olddefconfig", "bzImage"], stdout=f,
                                stderr=subprocess.STDOUT,
                                env=dict(os.environ, CCACHE_BASEDIR=B)).returncode
        if rc:
            print(open(log).read()[-4000:])
            die(f"{name}: the kernel does not build with it (log: {log})")
        blog = os.path.join(work, f"boot-{i:02d}.log")
        r = subprocess.run([sys.executable, os.path.join(REPO, "harness", "vm.py"),
                            "--kernel", os.path.join(obj, "arch/x86/boot/bzImage"),
                            "--initrd", initrd, "--log", blog, "--filter", boot_filter,
                            "--timeout", "600", "test"], text=True, capture_output=True)
        last = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
        if r.returncode:
            die(f"{name}: the kernel does not boot and pass '{boot_filter}':\n"
                f"{r.stdout[-3000:]}{r.stderr[-2000:]}(serial log: {blog})")
        say(f"{name}: builds, boots, {boot_filter}: {last}")
    maintainers(tree, author, shipped)
    compare(tree, local)
    say(f"the series ({len(patches)} patches) applies, is checkpatch-clean, builds and boots "
        f"at every patch, and gives the tree 'make kernel' builds")


def maintainers(tree, author, files):
    """get_maintainer.pl -f names the author's entry for every file of ours."""
    email = re.fullmatch(r".+ <(.+)>", author).group(1)
    missing = []
    for f in files:
        out = run(["perl", "scripts/get_maintainer.pl", "--no-git", "--no-git-fallback",
                   "--nol", "--no-rolestats", "-f", f], cwd=tree, check=False)
        if email not in out:
            missing.append(f)
    if missing:
        die("scripts/get_maintainer.pl -f does not name the io-wq entry for:\n  "
            + "\n  ".join(missing))
    say(f"get_maintainer.pl -f names the io-wq entry for all {len(files)} files of ours")


def compare(tree, local):
    """The applied tree must equal build/src/ours, but for local files."""
    ours = os.path.join(B, "src", "ours")
    say(f"comparing {tree} with {ours} (the tree of 'make kernel')")
    skip = [e for e, _ in local]
    r = subprocess.run(["diff", "-r", "-q", "--exclude=.git", "--exclude=.iowq-*", tree, ours],
                       text=True, capture_output=True)
    if r.returncode > 1:
        die(f"diff failed: {r.stderr}")
    diffs, skipped = [], []
    for line in r.stdout.splitlines():
        m = re.match(rf"Only in {re.escape(ours)}/?(.*): (.*)$", line)
        if m:
            rel = os.path.join(m.group(1), m.group(2))
            # a local file of ours (or a directory that holds only those)
            if all(covered_local(rel, skip, ours)):
                skipped.append(rel)
                continue
        diffs.append(line)
    if diffs:
        die("the applied series differs from the tree 'make kernel' builds:\n  " +
            "\n  ".join(diffs[:50]))
    say("no difference but files of the harness, not in the series: " +
        (", ".join(skipped) or "none"))


def covered_local(rel, skip, ours):
    """Each file below ours/rel is a local entry of the manifest."""
    path = os.path.join(ours, rel)
    if not os.path.isdir(path) or os.path.islink(path):
        yield any(rel == e or rel.startswith(e) for e in skip)
        return
    for d, _, fs in os.walk(path):
        for f in fs:
            r = os.path.relpath(os.path.join(d, f), ours)
            yield any(r == e or r.startswith(e) for e in skip)


def fmt(v):
    v = float(v)
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.1f}k"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def table_lines(rows, metric_width, unit=True):
    """A table of make bench rows: workload, metric, (unit,) each kernel's
    median and the ratio; as wide as the longest workload name, never
    narrower than 16 columns (and metric_width for the metric)."""
    ww = max([16] + [len(r["workload"]) for r in rows])
    mw = max([metric_width] + [len(r["metric"]) for r in rows])
    u = f" {'unit':<8}" if unit else ""
    lines = [f"{'workload':<{ww}} {'metric':<{mw}}{u} {'6.1':>7} {'ours':>7} {'ratio':>6}"]
    lines.append("-" * len(lines[-1]))
    for r in rows:
        ratio = "(ref)" if r["workload"] == "nop-inline" else (
            "" if r["better"] == "info" else f"{float(r['ratio']):.2f}")
        u = f" {r['unit']:<8}" if unit else ""
        lines.append(f"{r['workload']:<{ww}} {r['metric']:<{mw}}{u} "
                     f"{fmt(r['stock_median']):>7} {fmt(r['ours_median']):>7} {ratio:>6}")
    return lines


def bench_table(csv_path, out):
    """series/bench.txt from a `make bench` results.csv, for the cover letter."""
    import csv
    import datetime
    rows = list(csv.DictReader(open(csv_path)))
    if not rows:
        die(f"{csv_path}: no rows")
    cost_metrics = ("insn/op", "kinsn/op", "uinsn/op", "ctxsw/op", "threads")
    cost = [r for r in rows if r["metric"] in cost_metrics or r["workload"] == "host(cost)"]
    rows = [r for r in rows if r not in cost]
    if not rows:
        die(f"{csv_path}: no timed rows (make bench with BOOTS=0?)")
    boots = len(rows[0]["stock_boots"].split())
    when = datetime.datetime.fromtimestamp(os.path.getmtime(csv_path)).strftime("%Y-%m-%d")
    lines = [f"make bench, {when}: QEMU TCG, 2 vCPUs in 2 NUMA nodes, on a 2-core x86-64",
             f"host; {boots} timed boots per kernel, alternated; per metric the median of each",
             "kernel and the median of the per-boot-pair ratios (> 1: ours better).",
             ""]
    rows = [r for r in rows
            if r["better"] != "info" or r["metric"] in ("workers", "slowdown")]
    lines += table_lines(rows, 11)
    lines += ["",
              "nop-inline never reaches io-wq: its ratio shows how much the text layout",
              "of the two kernels alone moves TCG numbers; 'workers' is the number of",
              "io-wq threads alive after the workload."]
    names = {r["workload"] for r in rows}
    if any(n.endswith("-unpinned") for n in names):
        lines += ["A workload ending in -unpinned is the one before it with the submitter",
                  "free to move between CPUs; the others pin it to CPU 0."]
    if "host" in names:
        lines += ["host slowdown: before each boot, the median time of a 2-ms piece of work",
                  "on the host over its fastest in the run (1.0: a quiet host)."]
    if "wakeup-lat" in names:
        lines += ["wakeup-lat: how long a woken thread waits to run while io-wq workers keep",
                  "both CPUs busy, in the workers' own process (same-proc) or in another",
                  "(other-proc), woken by its timer or through a pipe."]
    if cost:
        cboots = len(cost[0]["stock_boots"].split())
        lines += ["",
                  f"Instructions per operation (the cost rows), {cboots} more boots per kernel",
                  "with make bench's QEMU plugin counting the guest's instructions, kernel and",
                  "user, all vCPUs; per kernel the median of the boots, each the median of its",
                  "windows; ratio = 6.1 / ours (> 1: ours executes fewer).  A boot reads the",
                  "NOP, read, pinned write and multi-ring rows to within 1%, fio to within",
                  "2%, the fan-outs and unpinned writes to within 2 to 15% (README, 'Cost rows').",
                  ""]
        lines += table_lines([r for r in cost if r["metric"] == "insn/op" or
                              r["workload"] == "host(cost)"], 8, unit=False)
    open(out, "w").write("\n".join(ln.rstrip() for ln in lines) + "\n")
    say(f"wrote {out} from {csv_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    e = sub.add_parser("export")
    e.add_argument("out")
    v = sub.add_parser("verify")
    v.add_argument("patches")
    v.add_argument("--config", required=True, help="the .config of 'make kernel'")
    v.add_argument("--initrd", required=True)
    v.add_argument("--boot-filter", default="iowq_punt")
    c = sub.add_parser("checkpatch")
    c.add_argument("patches")
    c.add_argument("--tree", required=True, help="a Linux 6.1 tree (its checkpatch.pl)")
    st = sub.add_parser("stages", help="write every version of the files the diffs change")
    st.add_argument("dir")
    rd = sub.add_parser("rediff", help="write the diffs anew from the versions in DIR")
    rd.add_argument("dir")
    t = sub.add_parser("bench-table")
    t.add_argument("csv", help="results.csv of make bench")
    a = ap.parse_args()
    if a.cmd == "check":
        check()
    elif a.cmd == "export":
        export(os.path.abspath(a.out))
    elif a.cmd == "checkpatch":
        checkpatch_all(a.patches, os.path.abspath(a.tree))
    elif a.cmd == "stages":
        write_stages(os.path.abspath(a.dir))
    elif a.cmd == "rediff":
        rediff(os.path.abspath(a.dir))
    elif a.cmd == "bench-table":
        bench_table(a.csv, os.path.join(REPO, "series", "bench.txt"))
    else:
        verify(a.patches, a.config, a.initrd, a.boot_filter)


if __name__ == "__main__":
    main()
