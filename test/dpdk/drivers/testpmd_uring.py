#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-testpmd forwards between two net_uring ports (loaded as a plugin with
-d) joined over loopback UDP: frames must keep flowing both ways once
testpmd has started them (--tx-first). Bounded by deadlines; testpmd is
stopped at the end whatever happens.

usage: testpmd_uring.py <dpdk-testpmd> <librte_net_uring.so>
"""
import os
import socket
import sys

from testpmd_common import Testpmd, wait_for


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    testpmd, plugin = sys.argv[1], sys.argv[2]
    if not os.access(testpmd, os.X_OK):
        print("SKIP: dpdk-testpmd not found")
        return 77
    a, b = free_udp_port(), free_udp_port()
    with Testpmd(testpmd, plugin, "uring",
                 [f"net_uring0,local=127.0.0.1:{a},remote=127.0.0.1:{b}",
                  f"net_uring1,local=127.0.0.1:{b},remote=127.0.0.1:{a}"],
                 ["--tx-first"]) as t:
        def flowing():
            s0, s1 = t.query("/ethdev/stats,0"), t.query("/ethdev/stats,1")
            return (s0, s1) if min(s0["ipackets"], s1["ipackets"]) >= 10000 else None
        s0, s1 = wait_for("frames forwarded both ways", flowing)
        print(f"port 0 ipackets={s0['ipackets']} port 1 ipackets={s1['ipackets']}")
        if s0["ierrors"] or s1["ierrors"] or s0["oerrors"] or s1["oerrors"]:
            raise SystemExit(f"FAIL: errors counted: {s0} {s1}")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
