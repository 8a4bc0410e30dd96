// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of state.c: see build.h. */
#include "build.h"
#include "../../../state.c"
