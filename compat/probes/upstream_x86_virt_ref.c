// SPDX-License-Identifier: GPL-2.0
/* Linux 7.1+ manages VMX/SVM itself (arch/x86/virt/hw.c). */
#include <asm/virt.h>

static int (*probe)(int feature) __used = x86_virt_get_ref;
