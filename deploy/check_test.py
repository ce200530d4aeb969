#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every check of deploy/check.py can fail: each case breaks one thing in an
overlay's rendered objects (in memory; the files stay as they are) and
expects the one failure that names it. The unbroken renders pass, and an
overlay that does not exist is one line of bad input, exit 2.
Usage: deploy/check_test.py SPRAY_BINARY
"""
import copy
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402

SPRAY = None
RENDERED = {}
ALERTS = None
ROLE_HELP = None


def find(docs, kind, name=None):
    for d in docs:
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name):
            return d
    raise KeyError(kind)


def ctr(docs, kind):
    return find(docs, kind)["spec"]["template"]["spec"]["containers"][0]


def args(docs, kind):
    return ctr(docs, kind)["args"]


def replace_arg(docs, kind, old, new):
    a = args(docs, kind)
    a[a.index(old)] = new


def remove_arg(docs, kind, old, with_value=False):
    a = args(docs, kind)
    i = a.index(old)
    del a[i:i + (2 if with_value else 1)]


def volume(docs, kind, name):
    return next(v for v in find(docs, kind)["spec"]["template"]["spec"]["volumes"] if v["name"] == name)


def set_both(docs, kind, key, value):
    r = ctr(docs, kind)["resources"]
    r["requests"][key] = value
    r["limits"][key] = value


# (overlay, what is broken, mutation, a substring of the failure expected)
CASES = [
    ("sriov", "unknown kind", lambda d: find(d, "Job").update(apiVersion="batch/v2"),
     "unknown apiVersion/kind batch/v2/Job"),
    ("sriov", "nameless object", lambda d: find(d, "PodMonitor")["metadata"].pop("name"),
     "no metadata.name"),
    ("sriov", "foreign namespace", lambda d: find(d, "NetworkAttachmentDefinition")["metadata"].update(namespace="default"),
     "namespace 'default' is not one the overlay creates"),
    ("sriov", "selector off the template", lambda d: find(d, "Deployment")["spec"]["selector"]["matchLabels"].update(
        {"app.kubernetes.io/component": "other"}), "does not match the template's labels"),
    ("sriov", "no image", lambda d: ctr(d, "DaemonSet").pop("image"), "no image"),
    ("sriov", "no args", lambda d: ctr(d, "DaemonSet").pop("args"), "no args"),
    ("sriov", "role and component disagree", lambda d: replace_arg(d, "Deployment", "respond", "gen"),
     "args[0] 'gen' but the pod's component label is 'respond'"),
    ("sriov", "requests below limits", lambda d: ctr(d, "Job")["resources"]["requests"].update(memory="256Mi"),
     "differ from limits"),
    ("sriov", "fractional CPU", lambda d: set_both(d, "Job", "cpu", "1500m"), "is not a whole number of CPUs"),
    ("sriov", "no memory limit", lambda d: [ctr(d, "Job")["resources"][k].pop("memory") for k in ("requests", "limits")],
     "no memory limit"),
    ("sriov", "hugepages on a Memory emptyDir", lambda d: volume(d, "DaemonSet", "hugepages")["emptyDir"].update(medium="Memory"),
     "requests hugepages-1Gi but mounts no emptyDir of medium HugePages-1Gi"),
    ("lab", "hugepage volume without hugepages", lambda d: (
        find(d, "Job")["spec"]["template"]["spec"]["volumes"].append({"name": "hp", "emptyDir": {"medium": "HugePages"}}),
        ctr(d, "Job")["volumeMounts"].append({"name": "hp", "mountPath": "/hugepages"})),
     "mounts a HugePages emptyDir (hp) but requests no hugepages"),
    ("sriov", "EAL pointed elsewhere", lambda d: replace_arg(d, "Job", "--huge-dir=/hugepages", "--huge-dir=/mnt/huge"),
     "EAL's --huge-dir is '/mnt/huge'"),
    ("userspace", "EAL memory left to spray's guess", lambda d: remove_arg(d, "DaemonSet", "-m", with_value=True),
     "passes no -m/--socket-mem after --eal"),
    ("lab", "no --no-huge without hugepages", lambda d: remove_arg(d, "Deployment", "--no-huge"),
     "passes no --no-huge after --eal"),
    ("sriov", "an option spray does not have", lambda d: args(d, "DaemonSet").insert(1, "--bogus"),
     "option '--bogus' is not in 'spray switch --help'"),
    ("sriov", "an abbreviated option", lambda d: replace_arg(d, "Job", "--duration", "--dur"),
     "option '--dur' is not in 'spray gen --help'"),
    ("sriov", "a gen-only option given to respond", lambda d: args(d, "Deployment").insert(1, "--peer"),
     "option '--peer' is not in 'spray respond --help'"),
    ("sriov", "a stray value", lambda d: args(d, "Deployment").insert(1, "stray"),
     "argument 'stray' is neither an option nor an option's value"),
    ("sriov", "metrics on loopback", lambda d: replace_arg(d, "DaemonSet", "0.0.0.0:9477", "127.0.0.1:9477"),
     "loopback"),
    ("sriov", "metrics port not the container port", lambda d: replace_arg(d, "DaemonSet", "0.0.0.0:9477", "0.0.0.0:9999"),
     "--metrics port 9999 but the container port named 'metrics' is 9477"),
    ("lab", "no liveness probe", lambda d: ctr(d, "Deployment").pop("livenessProbe"), "no livenessProbe"),
    ("lab", "readiness probe elsewhere", lambda d: ctr(d, "Deployment")["readinessProbe"]["httpGet"].update(path="/healthz"),
     "readinessProbe gets /healthz"),
    ("sriov", "env port of an unrequested resource",
     lambda d: replace_arg(d, "Job", "p=env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE", "p=env:PCIDEVICE_INTEL_COM_OTHER"),
     "env:PCIDEVICE_INTEL_COM_OTHER: neither set in env nor the variable of a requested device plugin resource"),
    ("userspace", "socket on no volume", lambda d: ctr(d, "Job")["volumeMounts"].pop(0),
     "/var/lib/cni/usrspcni/spray-gen.sock is on no mounted volume"),
    ("lab", "tap without /dev/net/tun", lambda d: ctr(d, "DaemonSet").__setitem__(
        "volumeMounts", [m for m in ctr(d, "DaemonSet")["volumeMounts"] if m["mountPath"] != "/dev/net/tun"]),
     "net_tap needs /dev/net/tun"),
    ("sriov", "capabilities not dropped", lambda d: ctr(d, "Job")["securityContext"]["capabilities"].pop("drop"),
     "drop lacks ALL"),
    ("sriov", "a capability beyond the three", lambda d: ctr(d, "Job")["securityContext"]["capabilities"]["add"].append("SYS_ADMIN"),
     "adds capabilities ['SYS_ADMIN']"),
    ("sriov", "IPC_LOCK missing for VFIO", lambda d: ctr(d, "Job")["securityContext"]["capabilities"].pop("add"),
     "adds capabilities [] but its ports need ['IPC_LOCK']"),
    ("userspace", "a capability no port needs", lambda d: ctr(d, "DaemonSet")["securityContext"]["capabilities"].update(add=["NET_RAW"]),
     "adds capabilities ['NET_RAW'] but its ports need []"),
    ("lab", "af_packet switch without NET_ADMIN", lambda d: ctr(d, "DaemonSet")["securityContext"]["capabilities"].update(add=["NET_RAW"]),
     "but its ports need ['NET_ADMIN', 'NET_RAW']"),
    ("sriov", "generator free to join the responder", lambda d: find(d, "Job")["spec"]["template"]["spec"].pop("affinity"),
     "Job/spray-gen: no required pod anti-affinity on kubernetes.io/hostname against the respond pods"),
    ("lab", "anti-affinity on the wrong topology", lambda d: find(d, "Deployment")["spec"]["template"]["spec"]["affinity"][
        "podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0].update(topologyKey="topology.kubernetes.io/zone"),
     "Deployment/spray-respond: no required pod anti-affinity"),
    ("sriov", "attachment to an unknown network", lambda d: find(d, "Job")["spec"]["template"]["metadata"]["annotations"].update(
        {"k8s.v1.cni.cncf.io/networks": "other-net"}), "names 'other-net', not a NetworkAttachmentDefinition"),
    ("sriov", "attachments and VFs disagree", lambda d: set_both(d, "DaemonSet", "intel.com/sriov_netdevice", "1"),
     "attaches 'spray-sriov' 2 time(s) but requests 1 of its resource intel.com/sriov_netdevice"),
    ("sriov", "network without its resource", lambda d: find(d, "NetworkAttachmentDefinition")["metadata"].pop("annotations"),
     "no k8s.v1.cni.cncf.io/resourceName annotation"),
    ("lab", "a role missing", lambda d: d.remove(find(d, "Job")), "no workload with component 'gen'"),
    ("lab", "PodMonitor missing a pod", lambda d: find(d, "PodMonitor")["spec"]["selector"]["matchLabels"].update(
        {"app.kubernetes.io/component": "switch"}), "misses Deployment/spray-respond"),
    ("lab", "PodMonitor's job label not spray", lambda d: find(d, "PodMonitor")["spec"]["podMetricsEndpoints"][0].pop("relabelings"),
     "no relabeling sets job=\"spray\""),
    ("lab", "PodMonitor on another path", lambda d: find(d, "PodMonitor")["spec"]["podMetricsEndpoints"][0].update(path="/stats"),
     "scrapes /stats on port metrics"),
    ("userspace", "PrometheusRule drifted from the alerts file",
     lambda d: find(d, "PrometheusRule")["spec"]["groups"][0]["rules"].pop(), "spec.groups differ"),
    ("userspace", "PrometheusRule missing", lambda d: d.remove(find(d, "PrometheusRule")),
     "expected one PrometheusRule, found 0"),
]


class Check(unittest.TestCase):
    def test_unbroken_overlays_pass(self):
        for overlay, docs in RENDERED.items():
            self.assertEqual(check.check_objects(copy.deepcopy(docs), ALERTS, ROLE_HELP), [], overlay)

    def test_each_breakage_is_named(self):
        for overlay, what, mutate, want in CASES:
            with self.subTest(overlay=overlay, broken=what):
                docs = copy.deepcopy(RENDERED[overlay])
                mutate(docs)
                errors = check.check_objects(docs, ALERTS, ROLE_HELP)
                self.assertTrue(any(want in e for e in errors), f"wanted '{want}', got {errors}")

    def test_promtool_rejects_a_broken_rule(self):
        rule = copy.deepcopy(find(RENDERED["lab"], "PrometheusRule"))
        rule["spec"]["groups"][0]["rules"][0]["expr"] = "up{job=\"spray\"} =="
        errors, _ = check.promtool_rules(rule, ALERTS_TEST, check.tool("promtool", ""))
        self.assertTrue(any("promtool check rules failed" in e for e in errors), errors)

    def test_alert_unit_tests_catch_a_changed_rule(self):
        rule = copy.deepcopy(find(RENDERED["lab"], "PrometheusRule"))
        for r in rule["spec"]["groups"][0]["rules"]:
            if r["alert"] == "SprayPathQuarantined":
                r["for"] = "10m"
        errors, _ = check.promtool_rules(rule, ALERTS_TEST, check.tool("promtool", ""))
        self.assertTrue(any("promtool test rules failed" in e for e in errors), errors)

    def test_missing_overlay_is_one_line_of_bad_input(self):
        r = subprocess.run([sys.executable, os.path.join(check.ROOT, "deploy/check.py"), "--spray", SPRAY,
                            "/nonexistent/overlay"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "check.py: overlay '/nonexistent/overlay': not a directory\n")


ALERTS_TEST = os.path.join(check.ROOT, "test/smoke/telemetry/alerts_test.yml")

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: check_test.py SPRAY_BINARY")
    SPRAY = sys.argv.pop(1)
    try:
        kubectl = check.tool("kubectl", "1.27 or later, for kustomize v5")
        ROLE_HELP = check.role_options(SPRAY)
        for o in ("sriov", "userspace", "lab"):
            RENDERED[o] = check.render(os.path.join(check.ROOT, "deploy/overlays", o), kubectl)
    except check.BadInput as e:
        sys.exit(f"check_test.py: {e}")
    import yaml
    with open(os.path.join(check.ROOT, "config/prometheus/spray-alerts.yml")) as f:
        ALERTS = yaml.safe_load(f)["groups"]
    unittest.main(verbosity=2)
