#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The instruction-counting TCG plugin of `make bench` (harness/insn-count.c).
#
#   harness/qemu-plugin.sh fetch   qemu-plugin.h of the QEMU that is installed,
#                                  from Debian's qemu source package (`apt-get
#                                  source -d qemu`, 23 MB, once), into $B/qemu
#   harness/qemu-plugin.sh build   $B/qemu/insn-count.so (when out of date)
#
# Only the one header is kept; nothing of QEMU is in the repository.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$REPO/build}
Q=$B/qemu
SO=$B/qemu/insn-count.so

die() { echo "qemu-plugin.sh: error: $*" >&2; exit 1; }
say() { echo "==> $*"; }
# shellcheck source=harness/debsrc.sh
. "$REPO/harness/debsrc.sh"

fetch() {
	[ -f "$Q/qemu-plugin.h" ] && return 0
	debsrc_ready qemu
	say "deps: apt-get source -d qemu, for qemu-plugin.h, into $Q"
	rm -rf "$Q" "$Q.tmp"
	mkdir -p "$Q.tmp"
	(cd "$Q.tmp" && apt-get source -d -q qemu >/dev/null 2>&1) ||
		die "apt-get source -d qemu failed"
	local tar h
	tar=$(ls "$Q.tmp"/qemu_*.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$tar" ] || die "apt-get source -d qemu fetched no qemu_*.orig.tar.*"
	# grep reads the whole listing: tar must not die of SIGPIPE
	h=$(tar -tf "$tar" | grep '/include/qemu/qemu-plugin\.h$' | tail -n 1)
	[ -n "$h" ] || die "$tar has no include/qemu/qemu-plugin.h"
	tar -xf "$tar" -C "$Q.tmp" "$h"
	mkdir -p "$Q"
	mv "$Q.tmp/$h" "$Q/qemu-plugin.h"
	basename "$tar" > "$Q/source"
	rm -rf "$Q.tmp"
	say "deps: $Q/qemu-plugin.h from $(cat "$Q/source")"
}

build() {
	[ -f "$Q/qemu-plugin.h" ] || die "no $Q/qemu-plugin.h: run 'harness/qemu-plugin.sh fetch' (make bench does)"
	local v
	v=$(sed -n 's/^#define QEMU_PLUGIN_VERSION \([0-9]*\).*/\1/p' "$Q/qemu-plugin.h")
	[ "$v" = 1 ] || die "$Q/qemu-plugin.h is plugin API version '$v', insn-count.c is written for 1 (QEMU 7.2)"
	[ "$SO" -nt "$REPO/harness/insn-count.c" ] && [ "$SO" -nt "$Q/qemu-plugin.h" ] && return 0
	gcc -O2 -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC -I"$Q" -o "$SO" \
		"$REPO/harness/insn-count.c" -lpthread
	say "built $SO"
}

case "${1:-}" in
fetch) fetch ;;
build) build ;;
*) die "usage: qemu-plugin.sh fetch|build" ;;
esac
