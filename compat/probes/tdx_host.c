// SPDX-License-Identifier: GPL-2.0
/*
 * The TDX host API (6.12 with CONFIG_INTEL_TDX_HOST): tdx_cpu_enable() and
 * tdx_enable() as real functions and the platform feature bit.  Without
 * CONFIG_INTEL_TDX_HOST they are static inline stubs, and defining one here
 * is a redefinition; before 6.6 they do not exist.
 */
#include <asm/cpufeatures.h>
#include <asm/tdx.h>

int tdx_cpu_enable(void)
{
	return X86_FEATURE_TDX_HOST_PLATFORM;
}

static int (*probe)(void) __used = tdx_enable;
