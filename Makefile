# SPDX-License-Identifier: GPL-2.0
#
# io-wq for Linux 6.1: build, boot, test and benchmark.  `make help` lists
# the targets; README.md explains them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VARIANT ?= ours
DEBUG ?=
ACCEL ?= tcg
SMP ?= 2
NODES ?= 2
MEM ?= 2048
FILTER ?=
ARGS ?=
TIMEOUT ?= 1500
TEST_TIMEOUT ?= 300
JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
SRC_TAR ?= /usr/src/linux-source-6.1.tar.xz
V ?=
SECONDS ?= 60
SEED ?=
BENCH ?=
BOOTS ?= 3
COST_BOOTS ?= 3
SYMBOLS ?=
LIBURING_TIMEOUT ?= 120

ifneq ($(filter-out ours stock,$(VARIANT)),)
$(error VARIANT must be 'ours' or 'stock', not '$(VARIANT)')
endif
ifneq ($(filter-out tcg kvm,$(ACCEL)),)
$(error ACCEL must be 'tcg' or 'kvm', not '$(ACCEL)')
endif
ifeq ($(DEBUG),0)
override DEBUG :=
endif
# liburing's regression suite after our selftests in `make test` (and in
# the initramfs of `make shell`): on by default on the plain kernel only,
# as it is slow on the debug kernel under TCG (README: 'liburing').
LIBURING ?= $(if $(DEBUG),0,1)
ifeq ($(LIBURING),0)
override LIBURING :=
endif

B := $(CURDIR)/build
KNAME := $(VARIANT)$(if $(DEBUG),-debug)
BZIMAGE := $(B)/obj/$(KNAME)/arch/x86/boot/bzImage
INITRD := $(B)/initramfs.cpio
# test and shell: the same archive plus liburing's tests, unless LIBURING=0
TEST_INITRD := $(B)/initramfs$(if $(LIBURING),-liburing).cpio
export B JOBS SRC_TAR DEBUG

VM = python3 harness/vm.py --kernel $(BZIMAGE) --variant $(VARIANT) \
	--accel $(ACCEL) --smp $(SMP) --nodes $(NODES) --mem $(MEM) \
	--timeout $(TIMEOUT) --test-timeout $(TEST_TIMEOUT) \
	$(if $(FILTER),--filter '$(FILTER)') $(if $(ARGS),--args '$(ARGS)') \
	$(if $(V),--verbose) --lu-timeout $(LIBURING_TIMEOUT) \
	$(if $(DEBUG),--append 'trace_event=io_wq:*') \
	--known 'known liburing failure:harness/known-failures-liburing' \
	$(if $(filter stock,$(VARIANT)),--known 'known upstream bug:harness/known-failures-stock')

# Debian packages the project needs (command or file that proves each).
PKGS := linux-source-6.1 qemu-system-x86 liburing-dev busybox-static bc \
	flex bison libelf-dev libssl-dev cpio ccache xz-utils python3 gcc \
	make file patch sparse gnuplot-nox fio dpkg-dev g++ git rsync \
	python3-sphinx python3-sphinx-rtd-theme graphviz

.NOTPARALLEL:
.PHONY: help deps kernel source initramfs run test kselftest test-topologies stress bench shell check patches \
	patches-check mutants clean distclean

help:
	@echo "io-wq for Linux 6.1"
	@echo "  make deps        install the Debian packages needed"
	@echo "  make run         build what is missing, boot, run the io-wq demo"
	@echo "  make test        build what is missing, boot, run the selftests and"
	@echo "                   liburing's regression suite (LIBURING=0: not it)"
	@echo "  make test-topologies  the selftests at SMP:NODES 2:1 2:2 4:2 4:4 8:2"
	@echo "                   (TOPOLOGIES=; LIBURING=1: with liburing's tests)"
	@echo "  make kselftest   boot, run the selftests as kselftest installs them, with"
	@echo "                   its runner (run_kselftest.sh); fails on a 'not ok' program"
	@echo "  make stress      boot, run the stress program (SECONDS=, SEED=)"
	@echo "  make bench       io-wq against stock 6.1, side by side: timed boots and"
	@echo "                   instructions per operation (BENCH=, BOOTS=, COST_BOOTS=)"
	@echo "  make mutants     each deliberate bug of harness/mutants built into io-wq and"
	@echo "                   run against the selftests, which must catch it (MUTANTS="
	@echo "                   name,...: those only; about 2 min a mutant)"
	@echo "  make kernel      build the kernel (VARIANT=ours|stock, DEBUG=1)"
	@echo "  make initramfs   build the guest initramfs (selftests, demo, liburing tests)"
	@echo "  make shell       boot to an interactive guest shell"
	@echo "  make check       checkpatch --strict, kernel-doc, W=1 and sparse on our"
	@echo "                   io-wq; checkpatch --strict on every patch of the series"
	@echo "                   (no warning); the docs build with Sphinx without a"
	@echo "                   warning; every file is placed in the series (series/manifest);"
	@echo "                   every mutant still applies to io-wq.c"
	@echo "  make patches     write the series into build/patches/ (git format-patch"
	@echo "                   against Linux 6.1.y of linux-source-6.1, with a cover letter)"
	@echo "  make patches-check  git am the series onto a fresh 6.1.y tree; after each"
	@echo "                   patch: checkpatch --strict, build, boot; then the tree must"
	@echo "                   equal the one 'make kernel' builds"
	@echo "  make clean       remove objects, initramfs, logs, the series (keeps sources)"
	@echo "  make distclean   remove all of build/"
	@echo "Variables: VARIANT=$(VARIANT) DEBUG=$(DEBUG) ACCEL=$(ACCEL) SMP=$(SMP)"
	@echo "  NODES=$(NODES) MEM=$(MEM) FILTER=$(FILTER) ARGS=$(ARGS) TIMEOUT=$(TIMEOUT) V=$(V)"
	@echo "  SECONDS=$(SECONDS) SEED=$(SEED) BENCH=$(BENCH) BOOTS=$(BOOTS)"
	@echo "  COST_BOOTS=$(COST_BOOTS) SYMBOLS=$(SYMBOLS)"
	@echo "  LIBURING=$(LIBURING) LIBURING_TIMEOUT=$(LIBURING_TIMEOUT)"

deps:
	@missing=$$(for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "==> deps: all packages present"; exit 0; fi; \
	echo "==> deps: installing:" $$missing; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
	else echo "deps: not root and no sudo: please install:" $$missing >&2; exit 1; fi; \
	$$SUDO apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing
	@$(if $(LIBURING),harness/liburing.sh fetch,true)

source:
	@harness/kernel.sh source $(VARIANT)

kernel:
	@harness/kernel.sh build $(VARIANT)

initramfs:
	@harness/initramfs.sh $(if $(LIBURING),liburing)

run: deps kernel initramfs
	@$(VM) --initrd $(INITRD) --log $(B)/logs/run-$(KNAME).log run

test: deps kernel initramfs
	@echo "==> testing $(KNAME) (serial log: $(B)/logs/test-$(KNAME).log)"
	@$(VM) --initrd $(TEST_INITRD) --log $(B)/logs/test-$(KNAME).log test

# The suite as kselftest installs and runs it: run_kselftest.sh in the guest.
kselftest: deps kernel
	@harness/initramfs.sh kselftest
	@echo "==> kselftest's runner on $(KNAME) (serial log: $(B)/logs/kselftest-$(KNAME).log)"
	@$(VM) --initrd $(B)/initramfs-kselftest.cpio --log $(B)/logs/kselftest-$(KNAME).log \
		--timeout $$(( $(TIMEOUT) + 1800 )) kselftest

# The selftests on every topology the harness offers (SMP:NODES each), one
# boot each, with a summary line per topology at the end.  liburing's tests
# do not depend on the topology: they run only with LIBURING=1 given.
TOPOLOGIES ?= 2:1 2:2 4:2 4:4 8:2
TOPO_INITRD := $(if $(filter command line,$(origin LIBURING)),$(TEST_INITRD),$(INITRD))

test-topologies: deps kernel initramfs
	@set -o pipefail; rm -f $(B)/logs/topologies-$(KNAME).txt; fail=; \
	for t in $(TOPOLOGIES); do \
		smp=$${t%%:*}; nodes=$${t##*:}; \
		log=$(B)/logs/test-$(KNAME)-smp$$smp-nodes$$nodes.log; \
		echo "==> testing $(KNAME) at SMP=$$smp NODES=$$nodes (serial log: $$log)"; \
		$(VM) --smp $$smp --nodes $$nodes --initrd $(TOPO_INITRD) --log $$log \
			test | tee $(B)/logs/topology.out || fail="$$fail $$t"; \
		echo "SMP=$$smp NODES=$$nodes: $$(tail -n 1 $(B)/logs/topology.out)" \
			>> $(B)/logs/topologies-$(KNAME).txt; \
	done; \
	echo "==> $(KNAME) on every topology:"; cat $(B)/logs/topologies-$(KNAME).txt; \
	[ -z "$$fail" ] || { echo "failed at SMP:NODES$$fail" >&2; exit 1; }

# The stress program for SECONDS (a random seed unless SEED is given); the
# guest kills it SECONDS + 300 s after it started, the host 600 s later.
stress: deps kernel initramfs
	@echo "==> stress on $(KNAME) for $(SECONDS) s (serial log: $(B)/logs/stress-$(KNAME).log)"
	@$(VM) --initrd $(INITRD) --log $(B)/logs/stress-$(KNAME).log \
		--test-timeout $$(( $(SECONDS) + 300 )) --timeout $$(( $(SECONDS) + 900 )) \
		--args '--seconds $(SECONDS)$(if $(SEED), --seed $(SEED))' stress

# Both kernels (never the debug ones), the bench initramfs (the test one
# plus Debian's fio) and the instruction-counting QEMU plugin (its header
# fetched from Debian's qemu source package once), then harness/bench.py
# boots stock, ours, stock, ours... BOOTS times each, timed, then
# COST_BOOTS times each with the plugin (the cost rows; SYMBOLS=N: the
# per-function view too), runs tools/io_uring/iowq-bench in every boot
# (BENCH=NAME: that workload alone, BENCH=PREFIX: every workload starting
# with PREFIX-, -unpinned variants included, comma-separated lists too;
# ARGS: more iowq-bench options, e.g. ARGS='-r 5') and writes the tables,
# CSV and plots under build/bench/.  Speed is never asserted.
bench: deps
	@harness/initramfs.sh bench
	@harness/qemu-plugin.sh fetch
	@harness/qemu-plugin.sh build
	@DEBUG= harness/kernel.sh build stock
	@DEBUG= harness/kernel.sh build ours
	@python3 harness/bench.py --out $(B)/bench --boots $(BOOTS) \
		--cost-boots $(COST_BOOTS) --plugin $(B)/qemu/insn-count.so \
		$(if $(SYMBOLS),--symbols $(SYMBOLS)) \
		--stock $(B)/obj/stock/arch/x86/boot/bzImage \
		--ours $(B)/obj/ours/arch/x86/boot/bzImage --initrd $(B)/initramfs-bench.cpio \
		--accel $(ACCEL) --smp $(SMP) --nodes $(NODES) --mem $(MEM) --timeout $(TIMEOUT) \
		$(if $(BENCH),--only '$(BENCH)') $(if $(ARGS),--args '$(ARGS)')

check:
	@python3 harness/series.py check
	@harness/kernel.sh check ours
	@python3 harness/series.py export $(B)/patches
	@python3 harness/series.py checkpatch $(B)/patches --tree $(B)/src/ours
	@python3 harness/mutants.py --check
	@harness/docs.sh

# Mutation testing (harness/mutants.py): not part of `make test`, too long.
MUTANTS ?=
mutants: deps initramfs
	@python3 harness/mutants.py $(if $(MUTANTS),--only $(MUTANTS))

# The series is derived from the repository (series/manifest), never edited
# by hand: build/patches/ is written anew each time.
patches: deps
	@python3 harness/series.py export $(B)/patches

patches-check: patches
	@harness/initramfs.sh
	@DEBUG= harness/kernel.sh build ours
	@python3 harness/series.py verify $(B)/patches --config $(B)/obj/ours/.config \
		--initrd $(INITRD)

shell: kernel initramfs
	@$(VM) --initrd $(TEST_INITRD) --log $(B)/logs/shell-$(KNAME).log shell

clean:
	rm -rf $(B)/obj $(B)/initramfs* $(B)/selftests $(B)/tools $(B)/logs \
		$(B)/patches $(B)/patches-check

distclean:
	rm -rf $(B)
