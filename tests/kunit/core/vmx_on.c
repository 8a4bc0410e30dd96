// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of vmx_on.c: see build.h. */
#include "build.h"
#include "../../../vmx_on.c"

#include "../private.h"

int ve_kunit_vmx_check(const struct ve_vmx_facts *f, const char **why)
{
	return ve_vmx_check(f, why);
}
