// SPDX-License-Identifier: GPL-2.0
/* kmsg dumpers get a struct kmsg_dump_detail (6.12+), not just the reason. */
#include <linux/kmsg_dump.h>

static void __used probe(struct kmsg_dumper *dumper,
			 struct kmsg_dump_detail *detail)
{
	dumper->dump(dumper, detail);
}
