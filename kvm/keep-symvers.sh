#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# DKMS POST_BUILD of virt_enable-kvm: keep the rebuilt kvm.ko's
# Module.symvers next to the build's log (DKMS deletes the build directory),
# for modules built against this KVM and to check its symbol CRCs.
set -eu
cp kvm-build/src/arch/x86/kvm/Module.symvers "${1:?usage: keep-symvers.sh LOG_DIR}/kvm.Module.symvers"
