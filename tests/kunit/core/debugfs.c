// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of debugfs.c: see build.h. */
#include "build.h"
#include "../../../debugfs.c"
