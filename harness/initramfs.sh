#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs: static busybox, our /init, the io_uring
# selftests (built with the kernel tree's lib.mk, statically against
# Debian's liburing.a), the demo and the benchmark program.  The same
# initramfs boots every kernel variant.
#
# "initramfs.sh bench" also writes initramfs-bench.cpio for `make bench`:
# the same archive followed by a second one holding Debian's fio and the
# shared libraries it loads (the kernel unpacks concatenated archives in
# turn), so that the test initramfs stays small.
#
# "initramfs.sh liburing" likewise writes initramfs-liburing.cpio for
# `make test` (LIBURING=1) and `make shell`: with liburing's tests.
#
# "initramfs.sh kselftest" writes initramfs-kselftest.cpio for `make
# kselftest`: the suite as kselftest installs it (make -C
# tools/testing/selftests TARGETS=io_uring install: run_kselftest.sh, the
# runner, the programs with their settings) in /kselftest.
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
for prog in iowq-demo iowq-bench iowq-stat; do
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

# "initramfs.sh liburing": initramfs-liburing.cpio, the same archive
# followed by one holding liburing's regression suite in /liburing (static,
# stripped: about 100 MB for 145 programs; see harness/liburing.sh).
if [ "${1:-}" = liburing ]; then
	"$REPO/harness/liburing.sh" build
	LROOT=$B/initramfs/liburing
	LOUT=$B/initramfs-liburing-tests.cpio
	if [ ! -s "$LOUT" ] || [ -n "$(find "$B/liburing/bin" -newer "$LOUT" | head -n 1)" ] ||
			[ "$0" -nt "$LOUT" ]; then
		rm -rf "$LROOT"
		mkdir -p "$LROOT/liburing"
		cp -p "$B"/liburing/bin/*.t "$LROOT/liburing/"
		(cd "$LROOT" && find . ! -name . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$LOUT.tmp"
		mv "$LOUT.tmp" "$LOUT"
	fi
	cat "$OUT" "$LOUT" > "$B/initramfs-liburing.cpio.tmp"
	mv "$B/initramfs-liburing.cpio.tmp" "$B/initramfs-liburing.cpio"
	echo "==> initramfs $B/initramfs-liburing.cpio: the above + $(ls "$B"/liburing/bin/*.t | wc -l) liburing tests, $(du -h "$B/initramfs-liburing.cpio" | cut -f1)"
	exit 0
fi

if [ "${1:-}" = kselftest ]; then
	command -v rsync >/dev/null || die "rsync missing (kselftest's install uses it): run 'make deps'"
	KROOT=$B/initramfs/kselftest
	KOUT=$B/initramfs-kselftest-tests.cpio
	rm -rf "$KROOT"
	make -s -C "$SRC/tools/testing/selftests" TARGETS=io_uring O="$B/kselftest" \
		INSTALL_PATH="$KROOT/kselftest" install >/dev/null
	(cd "$KROOT" && find . ! -name . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$KOUT"
	cat "$OUT" "$KOUT" > "$B/initramfs-kselftest.cpio.tmp"
	mv "$B/initramfs-kselftest.cpio.tmp" "$B/initramfs-kselftest.cpio"
	echo "==> initramfs $B/initramfs-kselftest.cpio: the above + kselftest's install of TARGETS=io_uring, $(du -h "$B/initramfs-kselftest.cpio" | cut -f1)"
	exit 0
fi

[ "${1:-}" = bench ] || exit 0

# fio is dynamically linked: copy it, every library ldd lists and the
# dynamic loader at their paths, and give the loader a cache of them.
FIO=$(command -v fio) || die "fio missing: run 'make deps' (fio)"
FROOT=$B/initramfs/fio
FOUT=$B/initramfs-fio.cpio
if [ ! -s "$FOUT" ] || [ "$FIO" -nt "$FOUT" ] || [ "$0" -nt "$FOUT" ]; then
	rm -rf "$FROOT"
	mkdir -p "$FROOT/usr/bin" "$FROOT/etc"
	cp -L "$FIO" "$FROOT/usr/bin/fio"
	libs=$(ldd "$FIO" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
	[ -n "$libs" ] || die "ldd $FIO lists no library"
	for lib in $libs; do
		mkdir -p "$FROOT$(dirname "$lib")"
		cp -L "$lib" "$FROOT$lib"
	done
	for lib in $libs; do dirname "$lib"; done | sort -u > "$FROOT/etc/ld.so.conf"
	ldconfig -X -r "$FROOT" || die "ldconfig -r $FROOT failed"
	(cd "$FROOT" && find . ! -name . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$FOUT.tmp"
	mv "$FOUT.tmp" "$FOUT"
fi
cat "$OUT" "$FOUT" > "$B/initramfs-bench.cpio.tmp"
mv "$B/initramfs-bench.cpio.tmp" "$B/initramfs-bench.cpio"
echo "==> initramfs $B/initramfs-bench.cpio: the above + fio and $(find "$FROOT" -name '*.so*' | wc -l) libraries, $(du -h "$B/initramfs-bench.cpio" | cut -f1)"
