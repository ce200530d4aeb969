// SPDX-License-Identifier: BSD-3-Clause
// Numbers for people, shared by the progress line and the role reports.
// DPDK-free (spray_dataplane_pure), so reports render in the unit tests.
#pragma once

#include <string>

namespace spray::dp {

// 1234567 -> "1.23M": rates and sizes in progress lines and reports.
std::string human(double v);

}  // namespace spray::dp
