# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the testpmd driver tests: start dpdk-testpmd with a plugin,
talk to its telemetry socket, wait with a deadline, always stop it."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DEADLINE_S = 30


def telemetry(path, cmd):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(path)
        json.loads(s.recv(16384))  # greeting
        s.send(cmd.encode())
        return json.loads(s.recv(65536))[cmd.split(",")[0]]


def wait_for(what, probe):
    """Polls probe() until it returns something other than None."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.05)
    raise SystemExit(f"FAIL: timed out waiting for {what}")


class Testpmd:
    """dpdk-testpmd in the background; `with` stops it (SIGINT, then kill)."""

    def __init__(self, testpmd, plugin, name, vdevs, extra=()):
        # EAL refuses plugins below a world-writable directory (/tmp, where
        # a checkout may live): load a private copy from under /run.
        self.plugin_dir = tempfile.mkdtemp(prefix="spray-plugin-", dir="/run")
        plugin = shutil.copy(plugin, self.plugin_dir)
        self.prefix = f"spray_testpmd_{name}_{os.getpid()}"
        self.sock = f"/var/run/dpdk/{self.prefix}/dpdk_telemetry.v2"
        self.log = tempfile.TemporaryFile(mode="w+")
        args = [testpmd, "-d", plugin, "--no-huge", "-m", "256", "--no-pci",
                "--file-prefix", self.prefix, "-l", "0,1"]
        for v in vdevs:
            args += ["--vdev", v]
        args += ["--", "--auto-start", "--stats-period", "1",
                 "--total-num-mbufs", "8192", *extra]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.output = ""

    def __enter__(self):
        wait_for("the telemetry socket",
                 lambda: True if os.path.exists(self.sock) else None)
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.seek(0)
        self.output = self.log.read()
        shutil.rmtree(self.plugin_dir, ignore_errors=True)
        return False

    def query(self, cmd):
        return telemetry(self.sock, cmd)
