// SPDX-License-Identifier: GPL-2.0
/*
 * The emergency virtualization hook as a real function (6.1.y backport,
 * 6.3+ with CONFIG_KVM_X86).  Where the header has only a static inline
 * stub, defining the function here is a redefinition and the probe fails.
 */
#include <asm/reboot.h>

void cpu_emergency_register_virt_callback(cpu_emergency_virt_cb *callback)
{
}
