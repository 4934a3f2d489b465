#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the io-wq documentation with the tree's Sphinx and fail on any
# warning.
#
#   harness/docs.sh
#
# Prepares the "ours" source tree (harness/kernel.sh source ours: upstream
# 6.1 with patches/series applied and our files, Documentation/io_uring/
# included, linked in), checks io-wq.c's kernel-doc comments, then runs
# `make SPHINXDIRS=io_uring htmldocs` out of tree into $B/obj/docs.  Any
# output line with WARNING, ERROR, warning: or error: fails the run.
# Needs Debian's python3-sphinx, python3-sphinx-rtd-theme and graphviz
# (Sphinx warns when dot(1) is missing).
# Environment: B (build dir).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$REPO/build}
SRC=$B/src/ours
OBJ=$B/obj/docs
LOG=$B/logs/docs.log

die() { echo "docs.sh: error: $*" >&2; exit 1; }
say() { echo "==> $*"; }

command -v sphinx-build >/dev/null ||
	die "no sphinx-build: run 'make deps' (python3-sphinx, python3-sphinx-rtd-theme)"

"$REPO/harness/kernel.sh" source ours
[ -f "$SRC/Documentation/io_uring/index.rst" ] ||
	die "$SRC/Documentation/io_uring/index.rst is missing: our files are not linked in"

# A full build every time: Sphinx only re-reads changed files, and would
# not repeat the warnings of the others.
rm -rf "$OBJ/Documentation/output"
mkdir -p "$OBJ" "$B/logs"
: > "$LOG"

# kernel-doc on its own first: the same comments, with file and line.
say "kernel-doc -none io_uring/io-wq.c"
(cd "$SRC" && scripts/kernel-doc -none io_uring/io-wq.c) >> "$LOG" 2>&1 || true

say "$(sphinx-build --version 2>&1): make SPHINXDIRS=io_uring htmldocs, log: $LOG"
rc=0
make -C "$SRC" O="$OBJ" SPHINXDIRS=io_uring htmldocs >> "$LOG" 2>&1 || rc=$?

if grep -E 'WARNING|ERROR|warning:|error:' "$LOG" >&2; then
	die "the documentation has warnings (above; full log: $LOG)"
fi
if [ $rc != 0 ]; then
	tail -n 30 "$LOG" >&2
	die "make htmldocs failed with status $rc (full log: $LOG)"
fi
HTML=$OBJ/Documentation/output/io_uring
[ -f "$HTML/io-wq.html" ] || die "no $HTML/io-wq.html after the build (log: $LOG)"
say "no warnings; HTML: file://$HTML/index.html (io-wq: file://$HTML/io-wq.html)"
