#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# liburing's own regression suite (the test/ directory of Debian's liburing
# source package) for the guest.
#
#   harness/liburing.sh fetch    a deb-src line, then `apt-get source
#                                liburing` into $B/liburing (once)
#   harness/liburing.sh build    liburing's configure, its src/liburing.a and
#                                every test, static and stripped, into
#                                $B/liburing/bin (only what changed)
#
# The tests link against the liburing.a built from the same source, not
# Debian's, so that tests and library match.  Nothing of liburing is kept
# in the repository.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$REPO/build}
JOBS=${JOBS:-$(($(nproc) + 1))}
LU=$B/liburing

die() { echo "liburing.sh: error: $*" >&2; exit 1; }
say() { echo "==> $*"; }
# shellcheck source=harness/debsrc.sh
. "$REPO/harness/debsrc.sh"

# The unpacked source tree, once fetched.
srcdir() {
	[ -f "$LU/.fetched" ] || return 1
	local d
	d=$LU/$(cat "$LU/.fetched")
	[ -f "$d/test/Makefile" ] || return 1
	echo "$d"
}

fetch() {
	srcdir >/dev/null && return 0
	debsrc_ready liburing
	say "deps: apt-get source liburing into $LU"
	rm -rf "$LU" "$LU.tmp"
	mkdir -p "$LU.tmp"
	(cd "$LU.tmp" && apt-get source -q liburing) ||
		die "apt-get source liburing failed"
	local d
	d=$(cd "$LU.tmp" && ls -d liburing-*/ 2>/dev/null | head -n 1)
	d=${d%/}
	[ -n "$d" ] && [ -f "$LU.tmp/$d/test/Makefile" ] ||
		die "apt-get source liburing unpacked no liburing-*/test/Makefile"
	echo "$d" > "$LU.tmp/.fetched"
	mv "$LU.tmp" "$LU"
	say "deps: liburing source $(sed -n '1s/.*(\(.*\)).*/\1/p' "$LU/$d/debian/changelog") in $LU/$d"
}

build() {
	local src stamp bin t
	src=$(srcdir) || die "no liburing source in $LU: run 'make deps'"
	stamp=$src/.iowq-configured
	if [ ! -f "$stamp" ] || [ ! -f "$src/config-host.mak" ]; then
		say "configuring liburing in $src"
		(cd "$src" && ./configure --cc=gcc --cxx=g++ >/dev/null)
		touch "$stamp"
	fi
	# -static: our selftests are static too, and the guest has no libc.
	# -L../src/ comes first on the test Makefile's link line, so the
	# tests link this tree's liburing.a.
	make -s -C "$src/src" -j"$JOBS" liburing.a >/dev/null 2>&1 ||
		die "liburing.a does not build: make -C $src/src liburing.a"
	if ! make -s -C "$src/test" -j"$JOBS" LDFLAGS=-static all > "$B/logs/liburing-build.log" 2>&1; then
		tail -n 40 "$B/logs/liburing-build.log" >&2
		die "liburing tests do not build (log: $B/logs/liburing-build.log)"
	fi
	bin=$LU/bin
	mkdir -p "$bin"
	for t in "$src"/test/*.t; do
		[ "$bin/${t##*/}" -nt "$t" ] && continue
		strip -o "$bin/${t##*/}" "$t"
	done
	# A test removed from the source tree leaves nothing behind.
	for t in "$bin"/*.t; do
		[ -f "$src/test/${t##*/}" ] || rm -f "$t"
	done
}

mkdir -p "$B/logs"
case "${1:-}" in
fetch) fetch ;;
build) build ;;
*) die "usage: liburing.sh fetch|build" ;;
esac
