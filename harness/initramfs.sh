#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs: static busybox, our /init, the io_uring
# selftests (built with the kernel tree's lib.mk, statically against
# Debian's liburing.a), the demo and the benchmark program.  The same
# initramfs boots every kernel variant.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$REPO/build}
SRC=$B/src/ours
ROOT=$B/initramfs/root
OUT=$B/initramfs.cpio

die() { echo "initramfs.sh: error: $*" >&2; exit 1; }

[ -x /bin/busybox ] || die "/bin/busybox missing: run 'make deps' (busybox-static)"
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static: install busybox-static"
[ -f /usr/lib/x86_64-linux-gnu/liburing.a ] || die "liburing.a missing: run 'make deps' (liburing-dev)"

# The selftests build inside the "ours" tree, where lib.mk and
# kselftest_harness.h live and our files are linked in.
"$REPO/harness/kernel.sh" source ours >/dev/null

mkdir -p "$B/selftests" "$B/tools"
make -s -C "$SRC/tools/testing/selftests/io_uring" OUTPUT="$B/selftests" all

CFLAGS="-O2 -g -Wall -Wextra -D_GNU_SOURCE -pthread"
for prog in iowq-demo iowq-bench; do
	src=$REPO/tools/io_uring/$prog.c
	[ -f "$src" ] || continue
	if [ ! "$B/tools/$prog" -nt "$src" ]; then
		gcc $CFLAGS -static -o "$B/tools/$prog" "$src" -luring -lm
	fi
done

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,tmp,run,selftests,root}
cp /bin/busybox "$ROOT/bin/busybox"
install -m 0755 "$REPO/harness/init" "$ROOT/init"
for t in $(make -s -C "$SRC/tools/testing/selftests/io_uring" OUTPUT="$B/selftests" \
		--no-print-directory print-tests 2>/dev/null); do
	install -m 0755 "$t" "$ROOT/selftests/"
done
for prog in "$B"/tools/*; do
	[ -x "$prog" ] && install -m 0755 "$prog" "$ROOT/bin/"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/false" >> "$ROOT/etc/passwd"
echo "root:x:0:" > "$ROOT/etc/group"
echo "nogroup:x:65534:" >> "$ROOT/etc/group"

(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "==> initramfs $OUT: $(ls "$ROOT/selftests" | wc -w) selftest(s), $(du -h "$OUT" | cut -f1)"
