// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of svm_on.c: see build.h. */
#include "build.h"
#include "../../../svm_on.c"

#include "../private.h"

int ve_kunit_svm_check(const struct ve_svm_facts *f, const char **why)
{
	return ve_svm_check(f, why);
}
