# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of virt_enable; Kbuild holds the kernel side.
#
#   make                  build virt-enable.ko for the running kernel
#   make KERNELDIR=DIR    ... for the kernel built or installed in DIR
#   make install          modules_install + depmod (INSTALL_MOD_PATH honoured)
#   make dkms-install     install the sources for DKMS under /usr/src
#   make style            checkpatch --strict on every source file
#   make demo             boot an emulated machine, show the module working
#   make check            run every test (installs what it needs from Debian)
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
KBUILD := $(MAKE) -C $(KERNELDIR) M=$(CURDIR) CONFIG_VIRT_ENABLE=m \
	VIRT_ENABLE_VERSION=$(VERSION)

MAKEFLAGS += --no-print-directory

all: module

module:
	$(KBUILD) modules

install: module
	$(KBUILD) modules_install
	$(DEPMOD) -b "$(or $(INSTALL_MOD_PATH),/)" -a $(target_release)

dkms-install:
	install -d $(DKMSDIR)/compat/probes
	install -m 0644 Kbuild Makefile Kconfig *.c *.h $(DKMSDIR)/
	install -m 0644 compat/compat.h $(DKMSDIR)/compat/
	install -m 0755 compat/probe.sh $(DKMSDIR)/compat/
	install -m 0644 compat/probes/*.c $(DKMSDIR)/compat/probes/
	sed 's/@VERSION@/$(VERSION)/' dkms.conf >$(DKMSDIR)/dkms.conf
	echo $(VERSION) >$(DKMSDIR)/VERSION
	@echo "now: dkms install virt_enable/$(VERSION)"

style:
	tests/style.sh

clean:
	$(KBUILD) clean
	rm -f compat/probed.h

demo:
	tests/demo.sh

check:
	tests/check.sh

.PHONY: all module install dkms-install style clean demo check
