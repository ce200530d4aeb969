#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-testpmd drives net_impair loaded as a plugin (-d), and a client of the
DPDK telemetry socket reads its counters and forces its link down, as an
operator would. Bounded: every wait has a deadline, testpmd is stopped at the
end whatever happens.

usage: testpmd_impair.py <dpdk-testpmd> <librte_net_impair.so>
"""
import math
import os
import sys

from testpmd_common import Testpmd, wait_for

LOSS = 0.25


def main():
    testpmd, plugin = sys.argv[1], sys.argv[2]
    if not os.access(testpmd, os.X_OK):
        print("SKIP: dpdk-testpmd not found")
        return 77
    # Port 0 is net_null0, owned by the impaired port 1 and so skipped by
    # testpmd, which forwards port 1 to itself.
    with Testpmd(testpmd, plugin, "impair",
                 ["net_null0", f"net_impair0,port=net_null0,seed=5,rx_loss={LOSS}"]) as t:
        # testpmd's tx counters trail its rx ones by a burst or two: wait
        # for both directions (the deadline turns "never" into a failure).
        def enough():
            s = t.query("/impair/stats,1")
            return s if s["rx_packets_in"] >= 100000 and s["tx_packets_in"] > 0 else None
        s = wait_for("traffic in and out of net_impair0", enough)
        n, dropped = s["rx_packets_in"], s["rx_dropped_loss"]
        sigma = math.sqrt(n * LOSS * (1 - LOSS))
        print(f"rx_packets_in={n} rx_dropped_loss={dropped} expected={n * LOSS:.0f}+-{5 * sigma:.0f}")
        if abs(dropped - n * LOSS) > 5 * sigma:
            raise SystemExit("FAIL: loss outside 5 sigma of the configured rate")

        reply = t.query("/impair/set,1,link=down")
        if reply.get("status") != "ok":
            raise SystemExit(f"FAIL: /impair/set refused: {reply}")
        def dropping():
            s = t.query("/impair/stats,1")
            return s if s["link_forced_down"] == 1 and s["rx_dropped_link"] > 1000 else None
        wait_for("drops while the link is down", dropping)

        reply = t.query("/impair/set,1,rx_loss=2")
        if reply.get("status") != "error" or "parameter 'rx_loss' = '2'" not in reply.get("error", ""):
            raise SystemExit(f"FAIL: a bad value was not refused with its name: {reply}")
    if "NIC statistics for port 1" not in t.output:
        print(t.output[-3000:])
        raise SystemExit("FAIL: testpmd printed no statistics for the impaired port")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
