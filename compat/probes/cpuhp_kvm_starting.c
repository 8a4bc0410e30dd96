// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's own CPU hotplug step is CPUHP_AP_KVM_STARTING, in the STARTING
 * section (before 6.3); since then it is CPUHP_AP_KVM_ONLINE.  Only the
 * KUnit test, which takes that step's place, needs to know.
 */
#include <linux/cpuhotplug.h>

static int probe __used = CPUHP_AP_KVM_STARTING;
