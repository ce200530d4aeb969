// SPDX-License-Identifier: BSD-3-Clause
// Invariant checks for the lib/wire fuzz targets: a failed check aborts, which
// libFuzzer and the standalone driver both report with the input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define WIRE_FUZZ_CHECK(cond)                                                     \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)
