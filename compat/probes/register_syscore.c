// SPDX-License-Identifier: GPL-2.0
/* struct syscore with void *data callbacks (6.12.115+, 6.18+). */
#include <linux/syscore_ops.h>

static struct syscore probe_syscore;

static void __used probe(void)
{
	register_syscore(&probe_syscore);
}
