# SPDX-License-Identifier: GPL-2.0
#
# respool: the one entry point. `make help` lists the targets.
#
# KERNELS selects the test kernels (6.1 and 6.12, Debian 12's); KDIR
# builds the module against any other kernel tree (default: the running
# kernel's headers, for use on a real host).

KERNELS ?= 6.1 6.12
KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr/local
DESTDIR ?=
CACHE := $(CURDIR)/.cache
KSFT_DIR := $(CACHE)/linux-src/tools/testing/selftests
DEPS := tools/deps.sh

SELFTEST_FLAGS := OUTPUT=$(CURDIR)/selftests/respool KSFT_DIR=$(KSFT_DIR) RESPOOL_CFLAGS="-I$(CURDIR)/uapi -isystem $(KSFT_DIR)"

.PHONY: all module modules selftests tools check check-debug check-debug-short lint run \
	vm-shell bench stress install clean help deps ksrc

all: modules tools

help:
	@echo "make            build the module for the test kernels, and the tools"
	@echo "make module     build kmod/respool.ko for KDIR (default: running kernel)"
	@echo "make check      lint, build, then run the selftests in a VM on each of KERNELS"
	@echo "make lint       checkpatch, kernel-doc, sparse, uapi and generated-code gates"
	@echo "make bench      benchmarks in the VM (not part of check)"
	@echo "make check-debug  the suite, fuzzer and stress on a KASAN/lockdep/kmemleak kernel"
	@echo "make check-debug-short  the suite and a 100,000-op fuzz on that kernel (CI)"
	@echo "make stress     64 processes for 60 s in the VM"
	@echo "make run        boot the 6.12 VM and run the demo"
	@echo "make vm-shell   a shell in the 6.12 VM with the module loaded"
	@echo "make install    module, respoolctl, librespool, man page, udev rule (DESTDIR, PREFIX)"
	@echo "make clean      remove build outputs (the download cache stays)"
	@echo "KERNELS='$(KERNELS)'  KDIR=$(KDIR)"

deps:
	@$(DEPS) build vm tools lint src

# On a real host: build in place against the running kernel.
module:
	@$(DEPS) build
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules

# For the test VMs: one shadow build per kernel (tools/build-module.sh).
modules: deps
	@for k in $(KERNELS); do \
		tools/build-module.sh $$k W=1 || exit 1; \
	done

ksrc: deps
	@tools/kernels.sh ksrc >/dev/null

selftests: ksrc
	$(MAKE) -C selftests/respool $(SELFTEST_FLAGS)

# Userspace: librespool first, then what links against it.
TOOL_DIRS := tools/lib tools/respoolctl tools/demo tools/bench

tools: deps
	@for d in $(TOOL_DIRS); do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d || exit 1; fi; \
	done

# The quality gates: checkpatch, kernel-doc, sparse, uapi, generated code.
lint: ksrc
	tools/lint.sh $(KERNELS)

check: modules selftests tools lint
	tools/check.sh $(KERNELS)

# The kernel's own checkers: a 6.12 debug kernel (KASAN, lockdep, kmemleak,
# UBSAN, KFENCE, fault injection), built once and cached.
check-debug: deps selftests tools
	tools/check-debug.sh

# The debug pass of every CI run (.ci/run): the suite and a 100,000-op fuzz.
check-debug-short: deps selftests tools
	tools/check-debug.sh --short

# Long stress run (not part of check).
stress: modules selftests
	tools/vm/run --kernel 6.12 --timeout 1800 -- \
		env RESPOOL_STRESS_SECONDS=60 selftests/respool/run_tests.sh stress_test

run: modules tools
	tools/vm/run --kernel 6.12 -- tools/demo/demo.sh

vm-shell: modules
	tools/vm/run --kernel 6.12 --shell

bench: modules tools
	tools/bench/run.sh

# Module into /lib/modules/<KDIR's release>/extra (+ depmod), respoolctl,
# librespool with its headers and pkg-config file, the man page and the
# udev rule, under DESTDIR/PREFIX.
install: module tools
	@$(DEPS) install
	$(eval KREL := $(shell $(MAKE) -s -C $(KDIR) kernelrelease))
	install -D -m 0644 kmod/respool.ko \
		$(DESTDIR)/lib/modules/$(KREL)/extra/respool.ko
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KREL); fi
	install -D -m 0755 tools/respoolctl/respoolctl \
		$(DESTDIR)$(PREFIX)/bin/respoolctl
	$(MAKE) -C tools/lib install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	rst2man Documentation/respoolctl.rst \
		>$(DESTDIR)$(PREFIX)/share/man/man8/respoolctl.8
	install -D -m 0644 tools/udev/60-respool.rules \
		$(DESTDIR)/lib/udev/rules.d/60-respool.rules

clean:
	rm -rf $(CACHE)/build
	@for d in $(TOOL_DIRS); do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean; fi; \
	done
	$(MAKE) -C selftests/respool $(SELFTEST_FLAGS) clean 2>/dev/null || true
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order kmod/Module.symvers
