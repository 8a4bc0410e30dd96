// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of lifecycle.c: see build.h. */
#include "build.h"
#include "../../../lifecycle.c"
