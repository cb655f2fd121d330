# SPDX-License-Identifier: GPL-2.0
#
# respool: the one entry point. `make help` lists the targets.
#
# KERNELS selects the test kernels (6.1 and 6.12, Debian 12's); KDIR
# builds the module against any other kernel tree (default: the running
# kernel's headers, for use on a real host).

KERNELS ?= 6.1 6.12
RUNNING := $(shell uname -r)
KDIR_RUNNING := /lib/modules/$(RUNNING)/build
KDIR ?= $(KDIR_RUNNING)
VERSION := $(shell cat VERSION)
CACHE := $(CURDIR)/.cache
KSFT_DIR := $(CACHE)/linux-src/tools/testing/selftests
DEPS := tools/deps.sh

SELFTEST_FLAGS := OUTPUT=$(CURDIR)/selftests/respool KSFT_DIR=$(KSFT_DIR) RESPOOL_CFLAGS="-I$(CURDIR)/uapi -isystem $(KSFT_DIR)"

.PHONY: all module modules selftests tools check check-debug check-debug-short lint run \
	vm-shell bench stress install install-module install-userspace install-dkms-src \
	uninstall userspace deb deb-check clean help deps ksrc

all: modules tools

help:
	@echo "make            build the module for the test kernels, and the tools"
	@echo "make module     build kmod/respool.ko for KDIR (default: running kernel)"
	@echo "make check      lint, build, then run the selftests in a VM on each of KERNELS"
	@echo "make lint       checkpatch, kernel-doc, sparse, uapi and generated-code gates"
	@echo "make bench      benchmarks in the VM, 6.1 and 6.12 (not part of check)"
	@echo "make check-debug  the suite, fuzzer and stress on a KASAN/lockdep/kmemleak kernel"
	@echo "make check-debug-short  the suite and a 100,000-op fuzz on that kernel (CI)"
	@echo "make stress     64 processes for 60 s in the VM"
	@echo "make run        boot the 6.12 VM and run the demo"
	@echo "make vm-shell   a shell in the 6.12 VM with the module loaded"
	@echo "make install    module, respoolctl, librespool, man pages, udev rule, group (DESTDIR, PREFIX)"
	@echo "make install-userspace  all of make install but the module (with respool-dkms, or DKMS)"
	@echo "make uninstall  remove what make install put in place"
	@echo "make deb        Debian packages (respool-dkms, respool-tools, librespool1, -dev) in .cache/deb/"
	@echo "make deb-check  install them in a clean Debian 12 root, DKMS, then respoolctl and a client in the VM"
	@echo "make clean      remove build outputs (the download cache stays)"
	@echo "KERNELS='$(KERNELS)'  KDIR=$(KDIR)"

deps:
	@$(DEPS) all

# On a real host: build in place against the running kernel's headers
# (or KDIR), which Debian ships in linux-headers-<release>.
module:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		if [ "$(KDIR)" = "$(KDIR_RUNNING)" ]; then \
			echo "make: the module is built against the running kernel ($(RUNNING))," \
				"whose headers are not installed ($(KDIR) is missing)." >&2; \
			echo "make: install them:  apt-get install linux-headers-$(RUNNING)" >&2; \
			echo "make: or build against another kernel tree:  make $@ KDIR=DIR" >&2; \
		else \
			echo "make: KDIR=$(KDIR) is not a kernel build tree (no Makefile there)" >&2; \
		fi; \
		exit 1; \
	fi
	@$(DEPS) module
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

# What a host installs: librespool and respoolctl, and no test tooling.
# The library's pkg-config file names PREFIX and LIBDIR, so it is made
# again for them (-W: as if its Makefile had changed).
userspace:
	@$(DEPS) userspace
	$(MAKE) -C tools/lib PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR)
	$(MAKE) -C tools/lib -W Makefile librespool.pc PREFIX=$(PREFIX) \
		LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR)
	$(MAKE) -C tools/respoolctl

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

# ---- installing on a host ----------------------------------------------
#
# make install: the module into /lib/modules/<KDIR's release>/extra (+
# depmod), then everything of install-userspace, then ldconfig and the
# respool group (neither with DESTDIR). Needs the kernel's headers, gcc,
# make, libnl-3-dev, libnl-genl-3-dev, pkg-config and python3-docutils;
# nothing of the test VM. PREFIX (/usr/local) and the directories below
# can be overridden; debian/rules uses install-userspace and
# install-dkms-src with PREFIX=/usr.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/respool
DATADIR ?= $(PREFIX)/share/respool
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# udev and systemd-sysusers read only these (and /etc, /run).
UDEVRULESDIR ?= /lib/udev/rules.d
SYSUSERSDIR ?= /usr/lib/sysusers.d

# Man pages: every Documentation/man/NAME.N.rst becomes manN/NAME.N.
MAN_RST := $(sort $(wildcard Documentation/man/*.[1-9].rst))
MAN_PAGES := $(basename $(notdir $(MAN_RST)))
DOCS := $(wildcard Documentation/*.rst)
SPEC := Documentation/netlink/specs/respool.yaml
UAPI_HEADERS := $(notdir $(wildcard uapi/linux/*.h))
# What DKMS needs to build the module: kmod/Kbuild reads ../VERSION and
# ../uapi.
DKMS_SRC := VERSION dkms.conf kmod/Kbuild $(wildcard kmod/*.c kmod/*.h) \
	$(addprefix uapi/linux/,$(UAPI_HEADERS))

install: install-module install-userspace
	@if [ -z "$(DESTDIR)" ]; then \
		echo ldconfig; ldconfig; \
		if getent group respool >/dev/null; then :; \
		elif command -v systemd-sysusers >/dev/null; then \
			echo "systemd-sysusers respool.conf"; \
			systemd-sysusers respool.conf; \
		else \
			echo "groupadd --system respool"; \
			groupadd --system respool; \
		fi; \
	fi

install-module: module
	$(eval KREL := $(shell $(MAKE) -s -C $(KDIR) kernelrelease))
	install -D -m 0644 kmod/respool.ko \
		$(DESTDIR)/lib/modules/$(KREL)/extra/respool.ko
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KREL); fi

install-userspace: userspace
	@$(DEPS) install
	install -D -m 0755 tools/respoolctl/respoolctl $(DESTDIR)$(BINDIR)/respoolctl
	$(MAKE) -C tools/lib install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) \
		LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR)
	@set -e; for f in $(MAN_RST); do \
		p=$$(basename $$f .rst); \
		echo "rst2man $$f $(DESTDIR)$(MANDIR)/man$${p##*.}/$$p"; \
		install -d $(DESTDIR)$(MANDIR)/man$${p##*.}; \
		rst2man --exit-status=error $$f $(DESTDIR)$(MANDIR)/man$${p##*.}/$$p; \
	done
	install -D -m 0644 tools/udev/60-respool.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-respool.rules
	install -D -m 0644 tools/udev/respool.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/respool.conf
	install -D -m 0644 tools/respoolctl/respoolctl.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/respoolctl
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -D -m 0644 $(SPEC) $(DESTDIR)$(DATADIR)/respool.yaml

# The module's source as DKMS wants it: /usr/src/respool-VERSION/, then
#   dkms install respool/VERSION
install-dkms-src:
	@grep -qx 'PACKAGE_VERSION="$(VERSION)"' dkms.conf || { \
		echo "make: dkms.conf's PACKAGE_VERSION is not VERSION ($(VERSION))" >&2; \
		exit 1; }
	@set -e; for f in $(DKMS_SRC); do \
		install -D -m 0644 $$f $(DESTDIR)/usr/src/respool-$(VERSION)/$$f; \
	done

uninstall:
	$(eval KREL := $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null || uname -r))
	rm -f $(DESTDIR)/lib/modules/$(KREL)/extra/respool.ko
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KREL); fi
	rm -f $(DESTDIR)$(BINDIR)/respoolctl \
		$(DESTDIR)$(LIBDIR)/librespool.so* $(DESTDIR)$(LIBDIR)/librespool.a \
		$(DESTDIR)$(LIBDIR)/pkgconfig/librespool.pc \
		$(DESTDIR)$(INCLUDEDIR)/librespool.h \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/linux/,$(UAPI_HEADERS)) \
		$(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(p)) \
		$(DESTDIR)$(UDEVRULESDIR)/60-respool.rules \
		$(DESTDIR)$(SYSUSERSDIR)/respool.conf \
		$(DESTDIR)$(BASHCOMPDIR)/respoolctl
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)
	if [ -z "$(DESTDIR)" ]; then ldconfig; fi
	@echo "make: the respool group stays (groupdel respool removes it)"

# ---- Debian packages ----------------------------------------------------
#
# make deb: dpkg-buildpackage in a copy of the tree (its outputs go to the
# parent directory), the .debs then in .cache/deb/. The Debian version is
# VERSION: debian/rules refuses a changelog or dkms.conf that disagrees.
DEB_DIR := $(CACHE)/deb

deb:
	@$(DEPS) deb
	@set -e; rm -rf $(DEB_DIR)/build; \
	src=$(DEB_DIR)/build/respool-$(VERSION); mkdir -p $$src; \
	if [ -d .git ] || [ -f .git ]; then \
		git ls-files -z -co --exclude-standard | xargs -0 cp -P --parents -t $$src; \
	else \
		tar -c --exclude=./.cache . | tar -x -C $$src; \
	fi; \
	cd $$src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { \
		tail -40 ../build.log >&2; \
		echo "make: dpkg-buildpackage failed; see $(DEB_DIR)/build/build.log" >&2; \
		exit 1; }; \
	cd $(DEB_DIR) && rm -f *.deb *.changes *.buildinfo && \
	mv build/*.deb build/*.changes build/*.buildinfo . && ls -1 *.deb

deb-check:
	tools/deb-test.sh

clean:
	rm -rf $(CACHE)/build
	@for d in $(TOOL_DIRS); do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean; fi; \
	done
	$(MAKE) -C selftests/respool $(SELFTEST_FLAGS) clean 2>/dev/null || true
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order kmod/Module.symvers
