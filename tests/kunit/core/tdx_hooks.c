// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of tdx_hooks.c: see build.h. */
#include "build.h"
#include "../../../tdx_hooks.c"

#include "../private.h"

int ve_kunit_tdx_start(const struct ve_tdx_ops *ops, enum ve_tdx_policy policy)
{
	return ve_tdx_start(ops, policy);
}

/* Between cases: a real TDX, once up, never stops. */
void ve_kunit_tdx_stop(void)
{
	if (!ve_tdx_user)
		return;
	ve_unregister(ve_tdx_user);
	ve_tdx_user = NULL;
	ve_tdx_up = false;
}
