# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of virt_enable.  Kbuild holds the kernel side.
#
#   make               build virt_enable.ko for the running kernel
#   make KERNELDIR=... build against another kernel tree or headers
#   make install       modules_install + depmod
#   make demo          boot an emulated machine and show the module working
#   make check         run every test (installs what it needs from Debian)
#   make clean

KERNELRELEASE ?= $(shell uname -r)
KERNELDIR ?= /lib/modules/$(KERNELRELEASE)/build
DEPMOD ?= depmod

MAKEFLAGS += --no-print-directory

all: module

module:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) CONFIG_VIRT_ENABLE=m modules

install: module
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) CONFIG_VIRT_ENABLE=m modules_install
	$(DEPMOD) -a $(KERNELRELEASE)

clean:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) clean
	rm -f compat/probed.h

demo:
	tests/demo.sh

check:
	tests/check.sh

.PHONY: all module install clean demo check
