#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare a 6.1 source tree and build a bzImage out of tree.
#
#   harness/kernel.sh source VARIANT     unpack (once), patch, link our files
#   harness/kernel.sh build VARIANT      source + config + bzImage
#
# VARIANT is "ours" (upstream + patches/series + our files linked in) or
# "stock" (untouched upstream).  DEBUG=1 adds the debug config fragment and
# builds into its own directory.  Environment: B (build dir), JOBS, SRC_TAR;
# IOWQ_C=FILE links io_uring/io-wq.c to FILE instead of the repository's
# (harness/mutants.py builds its mutants so, with B of their own); LOCKS
# (directory of the build locks, default B).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$REPO/build}
JOBS=${JOBS:-$(($(nproc) + 1))}
SRC_TAR=${SRC_TAR:-/usr/src/linux-source-6.1.tar.xz}
DEBUG=${DEBUG:-}
[ "$DEBUG" = 0 ] && DEBUG=
# Paths below the build directory reach ccache relative to it: a fresh
# clone elsewhere, or the tree of `make patches-check` (laid out alike),
# hits the objects of an earlier build.
export CCACHE_BASEDIR=$B

# What we own in the kernel tree: every file under these directories of the
# repository is symlinked to the same path in the "ours" source tree.
OWNED_DIRS="io_uring include kernel Documentation tools"

die() { echo "kernel.sh: error: $*" >&2; exit 1; }
say() { echo "==> $*"; }

cmd=${1:-}
VARIANT=${2:-ours}
case "$VARIANT" in
ours|stock) ;;
*) die "VARIANT must be 'ours' or 'stock', not '$VARIANT'" ;;
esac

if [ -n "$DEBUG" ] && [ ! -f "$REPO/kernel/configs/io-wq-debug.config" ]; then
	die "DEBUG=1 needs kernel/configs/io-wq-debug.config, which does not exist yet"
fi

SRC=$B/src/$VARIANT
KNAME=$VARIANT${DEBUG:+-debug}
OBJ=$B/obj/$KNAME

unpack() {
	[ -f "$SRC/.iowq-unpacked" ] && return 0
	[ -r "$SRC_TAR" ] || die "$SRC_TAR not found: run 'make deps' (package linux-source-6.1)"
	say "unpacking $SRC_TAR into $SRC"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$SRC_TAR" -C "$SRC" --strip-components=1
	local v p s
	v=$(sed -n 's/^VERSION = //p' "$SRC/Makefile")
	p=$(sed -n 's/^PATCHLEVEL = //p' "$SRC/Makefile")
	s=$(sed -n 's/^SUBLEVEL = //p' "$SRC/Makefile")
	if [ "$v" != 6 ] || [ "$p" != 1 ]; then
		rm -rf "$SRC"
		die "$SRC_TAR holds Linux $v.$p.$s, not a 6.1.y tree"
	fi
	echo "$v.$p.$s" > "$SRC/.iowq-version"
	touch "$SRC/.iowq-unpacked"
}

# Apply patches/series in order.  What was applied is kept in
# $SRC/.iowq-applied; when the series changes, the old one is reversed
# first (or the tree unpacked again if that fails), so only the files the
# patches touch get new timestamps.
patch_series() {
	local applied=$SRC/.iowq-applied
	if [ -d "$applied" ] && diff -r -q "$applied" "$REPO/patches" >/dev/null 2>&1; then
		return 0
	fi
	if [ -d "$applied" ]; then
		say "patch series changed: reversing the old one"
		local p ok=1
		for p in $(tac "$applied/series" 2>/dev/null | grep -v '^#'); do
			if ! patch -d "$SRC" -p1 -R -s --batch --no-backup-if-mismatch < "$applied/$p"; then
				ok=0
				break
			fi
		done
		if [ $ok = 0 ]; then
			say "could not reverse $p: unpacking again"
			rm -f "$SRC/.iowq-unpacked"
			unpack
		fi
		rm -rf "$applied"
	fi
	local p n=0
	for p in $(grep -v '^#' "$REPO/patches/series"); do
		[ -f "$REPO/patches/$p" ] || die "patches/series names $p, which does not exist"
		if ! patch -d "$SRC" -p1 -s --batch --forward --no-backup-if-mismatch < "$REPO/patches/$p"; then
			die "patch $p does not apply to Linux $(cat "$SRC/.iowq-version")"
		fi
		n=$((n + 1))
	done
	cp -r "$REPO/patches" "$applied"
	say "applied $n patch(es) from patches/series"
}

link_owned() {
	local f n=0 dst target
	for f in $(cd "$REPO" && find $OWNED_DIRS -type f 2>/dev/null | sort); do
		dst=$SRC/$f
		target=$REPO/$f
		[ "$f" = io_uring/io-wq.c ] && [ -n "${IOWQ_C:-}" ] && target=$IOWQ_C
		if [ "$(readlink "$dst" 2>/dev/null)" != "$target" ]; then
			mkdir -p "$(dirname "$dst")"
			rm -f "$dst"
			ln -s "$target" "$dst"
		fi
		n=$((n + 1))
	done
	# A file deleted from the repository leaves a dangling link: put the
	# upstream file back (or drop it if upstream has none).
	local d rel
	while IFS= read -r d; do
		rel=${d#"$SRC"/}
		rm -f "$d"
		tar -xJf "$SRC_TAR" -C "$SRC" --strip-components=1 \
			"linux-source-6.1/$rel" 2>/dev/null || true
	done < <(find "$SRC" -xtype l -lname "$REPO/*" 2>/dev/null)
	say "linked $n file(s) of ours into the tree"
}

source_tree() {
	unpack
	if [ "$VARIANT" = ours ]; then
		patch_series
		link_owned
	fi
	say "Linux $(cat "$SRC/.iowq-version") ($VARIANT) in $SRC"
}

fragments() {
	echo "$REPO/kernel/configs/io-wq.config"
	[ -n "$DEBUG" ] && echo "$REPO/kernel/configs/io-wq-debug.config"
	return 0
}

# Every option of the fragments must survive olddefconfig; where two
# fragments set one option, the later one wins, as in merge_config.sh.
check_config() {
	local line opt val lost=0
	while IFS= read -r line; do
		opt=${line%%=*}
		val=${line#*=}
		if [ "$val" = n ]; then
			if grep -q "^$opt=" "$OBJ/.config"; then
				echo "  lost: $line (have $(grep "^$opt=" "$OBJ/.config"))" >&2
				lost=1
			fi
		elif ! grep -qx "$opt=$val" "$OBJ/.config"; then
			echo "  lost: $line (have: $(grep -E "^$opt=|^# $opt is not set" "$OBJ/.config" || echo unset))" >&2
			lost=1
		fi
	done < <(cat $(fragments) | grep '^CONFIG_[A-Za-z0-9_]*=' | tac | sort -s -u -t= -k1,1)
	[ $lost = 0 ] || die "options of the config fragment were dropped by olddefconfig (missing dependencies?)"
}

configure() {
	local stamp=$OBJ/.iowq-config-stamp sum
	sum=$(cat $(fragments) | md5sum | cut -d' ' -f1)
	if [ -f "$OBJ/.config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
		return 0
	fi
	say "configuring $KNAME: tinyconfig + $(fragments | xargs -n1 basename | tr '\n' ' ')"
	mkdir -p "$OBJ"
	make -s -C "$SRC" O="$OBJ" tinyconfig >/dev/null
	# merge_config.sh leaves temporary files in the current directory
	(cd "$OBJ" && "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" \
		"$OBJ/.config" $(fragments) >/dev/null)
	make -s -C "$SRC" O="$OBJ" olddefconfig >/dev/null
	check_config
	echo "$sum" > "$stamp"
}

build() {
	configure
	local cc=gcc log=$B/logs/kernel-$KNAME.log t0
	command -v ccache >/dev/null && cc="ccache gcc"
	mkdir -p "$B/logs"
	say "building bzImage ($KNAME, -j$JOBS, CC=\"$cc\"), log: $log"
	t0=$(date +%s)
	if ! make -C "$SRC" O="$OBJ" -j"$JOBS" CC="$cc" bzImage > "$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "kernel build failed (full log: $log)"
	fi
	grep -E '^ +CC +io_uring/' "$log" | sed 's/^/   /' || true
	if [ "$VARIANT" = ours ]; then
		echo "   io_uring/io-wq.c -> $(readlink "$SRC/io_uring/io-wq.c" || echo 'upstream (not linked)')"
	fi
	say "bzImage $KNAME: Linux $(cat "$SRC/.iowq-version") in $(($(date +%s) - t0)) s: $OBJ/arch/x86/boot/bzImage"
}

# Style and static checks of our io-wq: checkpatch --strict, kernel-doc,
# W=1 and sparse on io-wq.o.  `make check` then checkpatches every patch of
# the series (harness/series.py checkpatch), as `make patches-check` does.
check() {
	local fail=0 cc=gcc log=$B/logs/check.log
	command -v ccache >/dev/null && cc="ccache gcc"
	mkdir -p "$B/logs"
	say "checkpatch --strict io_uring/io-wq.[ch]"
	perl "$SRC/scripts/checkpatch.pl" --no-tree --strict --quiet \
		-f "$REPO/io_uring/io-wq.c" "$REPO/io_uring/io-wq.h" || fail=1
	say "kernel-doc io_uring/io-wq.c"
	if "$SRC/scripts/kernel-doc" -none "$REPO/io_uring/io-wq.c" 2>&1 | grep .; then
		fail=1
	fi
	say "W=1 C=2 (sparse) io_uring/io-wq.o"
	if ! make -C "$SRC" O="$OBJ" -j"$JOBS" CC="$cc" W=1 C=2 \
			io_uring/io-wq.o > "$log" 2>&1; then
		cat "$log"
		die "io_uring/io-wq.o does not build with W=1"
	fi
	if grep -E 'io-wq\.[ch]:[0-9]+:[0-9]+: (warning|error)' "$log"; then
		fail=1
	fi
	[ $fail = 0 ] || die "checks failed"
	say "all checks passed"
}

# lock NAME: serialise with other kernel.sh runs.  Source trees have a
# lock each; builds share one, as two at once only thrash 2 cores (and two
# of one variant would corrupt its objects).
lock() {
	mkdir -p "${LOCKS:-$B}"
	exec {fd}>"${LOCKS:-$B}/.lock-$1"
	if ! flock -n "$fd"; then
		say "waiting for another kernel.sh ($1) to finish"
		flock "$fd"
	fi
}

case "$cmd" in
source) lock "src-$VARIANT"; source_tree ;;
build) lock build; lock "src-$VARIANT"; source_tree; exec {fd}>&-; build ;;
check) lock build; lock "src-$VARIANT"; source_tree; exec {fd}>&-; configure; check ;;
*) die "usage: kernel.sh source|build|check ours|stock" ;;
esac
