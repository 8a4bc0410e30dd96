# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of virt_enable; Kbuild holds the kernel side.
#
#   make                  build virt-enable.ko for the running kernel
#   make KERNELDIR=DIR    ... for the kernel built or installed in DIR
#   make install          modules_install + depmod (INSTALL_MOD_PATH honoured)
#   make dkms-install     install the sources for DKMS under /usr/src
#   make kvm              the patched KVM for KERNELDIR (needs Debian's
#                         linux-source package of that kernel's series)
#   make kvm-dkms-install install the patched KVM's sources for DKMS
#   make deb              the virt-enable-dkms Debian package, in DEBDIR
#                         (default: the parent directory), lintian-checked
#   make style            checkpatch --strict on every source file
#   make demo             boot an emulated machine, show the module working
#   make check            the CI tier of the tests (installs what it needs
#                         from Debian); ends with a time table in yardsticks
#   make check-full       every test: the CI tier, negative controls, the
#                         deliberate bugs (tests/mutate.sh), the KASAN kernel
#   make bench            measure what references cost, in an emulated machine
#   make kasan            the 6.1 test kernel (clang) with KASAN, in QEMU:
#                         KUnit, the stress suite, the core's suites and the
#                         sharing window (a kernel of its own, so part of
#                         make check-full, not of make check)
#   make clean

KERNELDIR ?= /lib/modules/$(shell uname -r)/build
# The release modules_install installs for: the kernel's UTS_RELEASE, which
# distributions may set apart from include/config/kernel.release.
target_release = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KERNELDIR)/include/generated/utsrelease.h)
VERSION := $(shell cat VERSION 2>/dev/null || \
	git -C $(CURDIR) describe --tags --always --dirty 2>/dev/null || echo unknown)
DEPMOD ?= depmod
DESTDIR ?=
DKMSDIR := $(DESTDIR)/usr/src/virt_enable-$(VERSION)
KVMDKMSDIR := $(DESTDIR)/usr/src/virt_enable-kvm-$(VERSION)
# Debian versions start with a digit: 0.0.DATE+gHASH of the last commit.
DEB_VERSION ?= $(shell git -C $(CURDIR) log -1 --date=format:%Y%m%d \
	--format=0.0.%cd+g%h 2>/dev/null || echo 0.0.0)
DEBDIR ?= $(CURDIR)/..
# The kernel series (6.12, 6.1) of KERNELDIR, whose KVM series applies.
kvm_series = $(shell echo $(target_release) | cut -d. -f1,2)
KBUILD := $(MAKE) -C $(KERNELDIR) M=$(CURDIR) CONFIG_VIRT_ENABLE=m \
	VIRT_ENABLE_VERSION=$(VERSION)

MAKEFLAGS += --no-print-directory

all: module

module:
	$(KBUILD) modules

install: module
	$(KBUILD) modules_install
	$(DEPMOD) -b "$(or $(INSTALL_MOD_PATH),/)" -a $(target_release)

# install_sources DIR: what building virt_enable needs, as a source package.
define install_sources
	install -d $(1)/compat/probes
	install -m 0644 Kbuild Makefile Kconfig *.c *.h $(1)/
	install -m 0644 compat/compat.h $(1)/compat/
	install -m 0755 compat/probe.sh $(1)/compat/
	install -m 0644 compat/probes/*.c $(1)/compat/probes/
	echo $(VERSION) >$(1)/VERSION
endef

# The sources alone, into SOURCES_DIR (what the Debian package installs).
sources:
	$(call install_sources,$(SOURCES_DIR))

deb:
	scripts/deb/build.sh $(DEB_VERSION) $(DEBDIR)

dkms-install:
	$(call install_sources,$(DKMSDIR))
	sed 's/@VERSION@/$(VERSION)/' dkms.conf >$(DKMSDIR)/dkms.conf
	@echo "now: dkms install virt_enable/$(VERSION)"

# KVM rebuilt from Debian's linux-source, with the series, against
# KERNELDIR: kvm.ko, kvm-intel.ko and kvm-amd.ko in kvm-build/src/arch/x86/kvm.
kvm: module
	kvm/build-kvm.sh --source /usr/src/linux-source-$(kvm_series).tar.xz \
		$(kvm_series) $(KERNELDIR) kvm-build Module.symvers

kvm-dkms-install:
	$(call install_sources,$(KVMDKMSDIR))
	install -d $(KVMDKMSDIR)/kvm $(KVMDKMSDIR)/tests/vm
	install -m 0755 kvm/build-kvm.sh kvm/keep-symvers.sh $(KVMDKMSDIR)/kvm/
	install -m 0644 tests/vm/lib.sh $(KVMDKMSDIR)/tests/vm/
	for series in kvm/*/; do \
		install -d $(KVMDKMSDIR)/$$series && \
		install -m 0644 $$series*.patch $(KVMDKMSDIR)/$$series; \
	done
	sed 's/@VERSION@/$(VERSION)/' kvm/dkms.conf >$(KVMDKMSDIR)/dkms.conf
	@echo "now: dkms install virt_enable-kvm/$(VERSION)"

style:
	tests/style.sh

clean:
	$(KBUILD) clean
	rm -rf compat/probed.h kvm-build

demo:
	tests/demo.sh

check:
	tests/check.sh

check-full:
	TIER=full tests/check.sh

bench:
	tests/bench.sh

kasan:
	CHECKS=kasan tests/check.sh

.PHONY: all module install sources deb dkms-install kvm kvm-dkms-install style clean demo check check-full \
	bench kasan
