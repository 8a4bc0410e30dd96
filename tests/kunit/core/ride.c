// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of ride.c: see build.h. */
#include "build.h"
#include "../../../ride.c"
