#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Renders every kustomize overlay under deploy/overlays and checks what it
would apply, offline: no cluster is contacted.

Every rendered object must be of a known apiVersion/kind and well formed
(names, selectors that match their pod templates, an image and args per
container). Every spray container must be in Guaranteed QoS (requests =
limits, whole CPUs), mount a HugePages emptyDir exactly when it requests
hugepages (and point EAL at it), probe /metrics on the port spray serves,
pass only options its role's `spray ROLE --help` lists, and add exactly the
capabilities its ports need. The generator and the responder must repel
each other, Multus attachments must name a NetworkAttachmentDefinition whose
device plugin resource the pod requests, the PodMonitor must select every
pod, and the PrometheusRule must carry config/prometheus/spray-alerts.yml's
groups, which then pass `promtool check rules` and the alert unit tests
(`promtool test rules`).

Usage: deploy/check.py --spray BINARY [--alerts-test FILE] [OVERLAY_DIR...]
Exit status: 0 all checks passed, 1 a check failed (each failure one line,
naming the overlay and the object), 2 bad input (an overlay that cannot be
read or rendered, a missing tool).
Needs kubectl (kustomize v5: kubectl 1.27 or later), promtool (Debian:
prometheus) and PyYAML (Debian: python3-yaml).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit("check.py: needs PyYAML (Debian: apt-get install python3-yaml)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KNOWN_KINDS = {
    ("v1", "Namespace"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"),
}
WORKLOADS = {"DaemonSet", "Deployment", "Job"}
ROLES = ("switch", "gen", "respond")
# The pairs that must not share a node: the traffic has to cross the fabric.
REPEL = {"gen": "respond", "respond": "gen"}
ALLOWED_CAPS = {"IPC_LOCK", "NET_RAW", "NET_ADMIN"}
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
RESOURCE_ANNOTATION = "k8s.v1.cni.cncf.io/resourceName"
STANDARD_RESOURCES = {"cpu", "memory", "ephemeral-storage"}


class BadInput(Exception):
    """An overlay or tool the checker cannot use at all (exit 2)."""


def tool(name, hint):
    path = shutil.which(name)
    if not path:
        raise BadInput(f"needs {name} ({hint})")
    return path


def render(overlay, kubectl):
    """The objects `kubectl kustomize overlay` renders."""
    if not os.path.isdir(overlay):
        raise BadInput(f"overlay '{overlay}': not a directory")
    if not any(os.access(os.path.join(overlay, k), os.R_OK)
               for k in ("kustomization.yaml", "kustomization.yml", "Kustomization")):
        raise BadInput(f"overlay '{overlay}': no readable kustomization.yaml")
    r = subprocess.run([kubectl, "kustomize", overlay], capture_output=True, text=True)
    if r.returncode != 0:
        msg = " ".join(r.stderr.split()) or f"exit {r.returncode}"
        raise BadInput(f"overlay '{overlay}': kubectl kustomize failed: {msg}")
    try:
        return [d for d in yaml.safe_load_all(r.stdout) if d is not None]
    except yaml.YAMLError as e:
        raise BadInput(f"overlay '{overlay}': kubectl kustomize printed invalid YAML: {' '.join(str(e).split())}")


def role_options(spray):
    """{role: set of long option names} from `spray ROLE --help`."""
    out = {}
    for role in ROLES:
        r = subprocess.run([spray, role, "--help"], capture_output=True, text=True)
        if r.returncode != 0:
            raise BadInput(f"'{spray} {role} --help' exited {r.returncode}: {r.stderr.strip()}")
        # Option lines start with two spaces ("  --port NAME=DEVARGS",
        # "  -h [ --help ]"); wrapped help text is indented further, so an
        # option named inside a description does not count.
        names = set(re.findall(r"^  (?:-\w \[ )?--([a-z0-9][a-z0-9-]*)", r.stdout, re.M))
        if "port" not in names:
            raise BadInput(f"'{spray} {role} --help' lists no --port; is it spray?")
        out[role] = names
    return out


def name_of(obj):
    return f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"


def is_int_cpu(v):
    return isinstance(v, int) and v > 0 or isinstance(v, str) and v.isdigit() and int(v) > 0


def arg_value(args, i):
    """(option name, value, next index) for args[i], '--opt=value' or '--opt value'."""
    a = args[i]
    if "=" in a:
        n, v = a[2:].split("=", 1)
        return n, v, i + 1
    v = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("--") else None
    return a[2:], v, i + (2 if v is not None else 1)


def pod_spec(obj):
    return (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}


def template_labels(obj):
    return ((((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}


def subset(sel, labels):
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())


def needed_caps(role, devargs_list):
    """The capabilities a container needs for its ports (doc/deploy.md)."""
    caps = set()
    for d in devargs_list:
        if d.startswith("env:") or re.match(r"^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]", d):
            caps.add("IPC_LOCK")  # VFIO pins the DMA memory
        elif d.startswith("net_af_packet"):
            caps.add("NET_RAW")
            if role == "switch":
                caps.add("NET_ADMIN")  # the switch sets promiscuous mode
        elif d.startswith("net_tap"):
            caps.add("NET_ADMIN")
    return caps


def check_container(where, role, c, spec, role_help, errors):
    """A spray container: args, QoS, hugepages, probes, ports, capabilities."""
    err = lambda m: errors.append(f"{where}: container '{c.get('name', '?')}': {m}")
    if not c.get("image"):
        err("no image")
    args = c.get("args")
    if not isinstance(args, list) or not args:
        err("no args")
        return
    args = [str(a) for a in args]
    if args[0] not in ROLES:
        err(f"args[0] '{args[0]}' is not a spray role ({', '.join(ROLES)})")
        return
    if role and args[0] != role:
        err(f"args[0] '{args[0]}' but the pod's component label is '{role}'")
    spray_args, eal = (args[1:args.index("--eal")], args[args.index("--eal") + 1:]) if "--eal" in args \
        else (args[1:], [])

    # Options: each must be one `spray ROLE --help` lists (exactly: Boost
    # would also take an unambiguous prefix, which a manifest should not rely on).
    opts, i = {}, 0
    while i < len(spray_args):
        a = spray_args[i]
        if not a.startswith("--"):
            err(f"argument '{a}' is neither an option nor an option's value")
            i += 1
            continue
        n, v, i = arg_value(spray_args, i)
        if n not in role_help[args[0]]:
            err(f"option '--{n}' is not in 'spray {args[0]} --help'")
        opts.setdefault(n, []).append(v)

    # Resources: Guaranteed QoS.
    res = c.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    if req != lim:
        err(f"resources: requests {req} differ from limits {lim} (Guaranteed QoS needs them equal)")
    for k in ("cpu", "memory"):
        if k not in lim:
            err(f"resources: no {k} limit")
    if "cpu" in lim and not is_int_cpu(lim["cpu"]):
        err(f"resources: cpu '{lim['cpu']}' is not a whole number of CPUs")

    # Hugepages: requested <=> a HugePages emptyDir of that size mounted, and
    # EAL pointed at it with its memory fixed; without them, --no-huge.
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    mounts = {m.get("name"): m.get("mountPath") for m in c.get("volumeMounts") or []}
    huge = [k for k in lim if k.startswith("hugepages-")]
    huge_mounts = {n: p for n, p in mounts.items()
                   if ((volumes.get(n) or {}).get("emptyDir") or {}).get("medium", "").startswith("HugePages")}
    for k in huge:
        size = k[len("hugepages-"):]
        media = {(volumes[n]["emptyDir"]["medium"]) for n in huge_mounts}
        if not ({f"HugePages-{size}", "HugePages"} & media):
            err(f"requests {k} but mounts no emptyDir of medium HugePages-{size}")
    if huge_mounts and not huge:
        err(f"mounts a HugePages emptyDir ({', '.join(huge_mounts)}) but requests no hugepages")
    huge_dir = None
    for j, a in enumerate(eal):
        if a.startswith("--huge-dir="):
            huge_dir = a.split("=", 1)[1]
        elif a == "--huge-dir" and j + 1 < len(eal):
            huge_dir = eal[j + 1]
    if huge:
        if huge_dir not in huge_mounts.values():
            err(f"requests hugepages but EAL's --huge-dir is {huge_dir!r}, not the HugePages mount "
                f"({', '.join(sorted(huge_mounts.values())) or 'none'})")
        if not any(a == "-m" or a.startswith("--socket-mem") for a in eal):
            err("requests hugepages but passes no -m/--socket-mem after --eal: spray would judge "
                "free hugepages from the host's /proc/meminfo")
    elif "--no-huge" not in eal:
        err("requests no hugepages but passes no --no-huge after --eal (a node with free "
            "hugepages would make EAL look for a hugetlbfs mount the pod lacks)")

    # Metrics: served on the pod's address, at the port the probes and the
    # PodMonitor use.
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    metrics = (opts.get("metrics") or [None])[-1]
    m = re.fullmatch(r"(.+):(\d+)", metrics or "")
    if not m:
        err(f"--metrics is {metrics!r}: expected ADDR:PORT reachable from outside the pod")
    else:
        if m.group(1).startswith("127.") or m.group(1) == "localhost":
            err(f"--metrics {metrics}: loopback, so neither the kubelet's probes nor Prometheus reach it")
        if ports.get("metrics") != int(m.group(2)):
            err(f"--metrics port {m.group(2)} but the container port named 'metrics' is {ports.get('metrics')}")
    for probe in ("livenessProbe", "readinessProbe"):
        get = (c.get(probe) or {}).get("httpGet")
        if not get:
            err(f"no {probe} with httpGet")
            continue
        port = get.get("port")
        if get.get("path") != "/metrics" or not (port == "metrics" or port == ports.get("metrics")):
            err(f"{probe} gets {get.get('path')} on port {port}, not /metrics on the metrics port")

    # Ports: an env:VAR port names the device plugin's variable for a
    # resource the container requests; a socket lies on a mounted volume.
    devargs = [(v or "").split("=", 1)[1] if "=" in (v or "") else "" for v in opts.get("port") or []]
    if not devargs:
        err("no --port")
    env_names = {e.get("name") for e in c.get("env") or []}
    plugin_vars = {"PCIDEVICE_" + re.sub(r"[./-]", "_", k).upper(): k
                   for k in lim if k not in STANDARD_RESOURCES and not k.startswith("hugepages-")}
    mount_paths = [p for p in mounts.values() if p]
    for d in devargs:
        if d.startswith("env:"):
            var = d[4:]
            if var not in env_names and var not in plugin_vars:
                err(f"--port ...=env:{var}: neither set in env nor the variable of a requested device "
                    f"plugin resource ({', '.join(sorted(plugin_vars)) or 'none requested'})")
        for key in ("socket", "iface"):
            path = re.search(rf"(?:^|,){key}=(/[^,]*)", d)
            if path and not any(path.group(1).startswith(p.rstrip("/") + "/") for p in mount_paths):
                err(f"port '{d}': {path.group(1)} is on no mounted volume")
        if d.startswith("net_tap") and "/dev/net/tun" not in mount_paths:
            err(f"port '{d}': net_tap needs /dev/net/tun mounted from the host")

    # Capabilities: drop ALL, add exactly what the ports need.
    caps = ((c.get("securityContext") or {}).get("capabilities")) or {}
    if "ALL" not in (caps.get("drop") or []):
        err("securityContext.capabilities.drop lacks ALL")
    added = set(caps.get("add") or [])
    if added - ALLOWED_CAPS:
        err(f"adds capabilities {sorted(added - ALLOWED_CAPS)}; allowed: {sorted(ALLOWED_CAPS)}")
    need = needed_caps(args[0], devargs)
    if added != need:
        err(f"adds capabilities {sorted(added)} but its ports need {sorted(need)}")


def check_objects(docs, alerts_groups, role_help):
    """Every check over one overlay's rendered objects; returns the failures."""
    errors = []
    by_kind = {}
    for o in docs:
        where = name_of(o)
        if (o.get("apiVersion"), o.get("kind")) not in KNOWN_KINDS:
            errors.append(f"{where}: unknown apiVersion/kind {o.get('apiVersion')}/{o.get('kind')}")
            continue
        if not (o.get("metadata") or {}).get("name"):
            errors.append(f"{where}: no metadata.name")
        by_kind.setdefault(o["kind"], []).append(o)

    namespaces = {(o.get("metadata") or {}).get("name") for o in by_kind.get("Namespace", [])}
    for o in docs:
        ns = (o.get("metadata") or {}).get("namespace")
        if o.get("kind") != "Namespace" and ns not in namespaces:
            errors.append(f"{name_of(o)}: namespace {ns!r} is not one the overlay creates ({sorted(namespaces)})")

    nads = {(o.get("metadata") or {}).get("name"): o for o in by_kind.get("NetworkAttachmentDefinition", [])}
    for n, o in nads.items():
        if not ((o.get("metadata") or {}).get("annotations") or {}).get(RESOURCE_ANNOTATION):
            errors.append(f"{name_of(o)}: no {RESOURCE_ANNOTATION} annotation")
        if not (o.get("spec") or {}).get("config"):
            errors.append(f"{name_of(o)}: no spec.config")

    workloads = [o for k in WORKLOADS for o in by_kind.get(k, [])]
    roles = {}
    for o in workloads:
        where = name_of(o)
        labels = template_labels(o)
        sel = ((o.get("spec") or {}).get("selector") or {}).get("matchLabels")
        if o["kind"] != "Job" or sel is not None:
            if not subset(sel, labels):
                errors.append(f"{where}: selector {sel} does not match the template's labels {labels}")
        spec = pod_spec(o)
        if o["kind"] == "Job" and spec.get("restartPolicy") not in ("Never", "OnFailure"):
            errors.append(f"{where}: a Job's restartPolicy must be Never or OnFailure")
        containers = spec.get("containers") or []
        if not containers:
            errors.append(f"{where}: no containers")
        role = labels.get("app.kubernetes.io/component")
        roles[role] = o
        for c in containers:
            check_container(where, role, c, spec, role_help, errors)

        # Multus attachments: each names an overlay NAD, and the pod asks
        # the device plugin for as many devices of its resource.
        ann = (((o.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations") or {}
        nets = [n.strip().split("/")[-1].split("@")[0] for n in ann.get(NETWORKS_ANNOTATION, "").split(",") if n.strip()]
        limits = {}
        for c in containers:
            for k, v in ((c.get("resources") or {}).get("limits") or {}).items():
                limits[k] = v
        for n in set(nets):
            if n not in nads:
                errors.append(f"{where}: annotation {NETWORKS_ANNOTATION} names '{n}', not a "
                              f"NetworkAttachmentDefinition of the overlay ({', '.join(sorted(nads)) or 'none'})")
                continue
            res = nads[n]["metadata"].get("annotations", {}).get(RESOURCE_ANNOTATION)
            if str(limits.get(res)) != str(nets.count(n)):
                errors.append(f"{where}: attaches '{n}' {nets.count(n)} time(s) but requests "
                              f"{limits.get(res, 0)} of its resource {res}")

    for role in ROLES:
        if role not in roles:
            errors.append(f"no workload with component '{role}'")
    for role, other in REPEL.items():
        if role not in roles or other not in roles:
            continue
        terms = (((pod_spec(roles[role]).get("affinity") or {}).get("podAntiAffinity") or {})
                 .get("requiredDuringSchedulingIgnoredDuringExecution")) or []
        if not any(t.get("topologyKey") == "kubernetes.io/hostname" and
                   subset((t.get("labelSelector") or {}).get("matchLabels"), template_labels(roles[other]))
                   for t in terms):
            errors.append(f"{name_of(roles[role])}: no required pod anti-affinity on kubernetes.io/hostname "
                          f"against the {other} pods")

    monitors = by_kind.get("PodMonitor", [])
    if len(monitors) != 1:
        errors.append(f"expected one PodMonitor, found {len(monitors)}")
    for pm in monitors:
        spec = pm.get("spec") or {}
        sel = (spec.get("selector") or {}).get("matchLabels")
        for o in workloads:
            if not subset(sel, template_labels(o)):
                errors.append(f"{name_of(pm)}: selector {sel} misses {name_of(o)}")
        eps = spec.get("podMetricsEndpoints") or []
        if not eps:
            errors.append(f"{name_of(pm)}: no podMetricsEndpoints")
        for ep in eps:
            if ep.get("port") != "metrics" or ep.get("path", "/metrics") != "/metrics":
                errors.append(f"{name_of(pm)}: scrapes {ep.get('path')} on port {ep.get('port')}, "
                              f"not /metrics on 'metrics'")
            # The alerts select up{job="spray"}; the operator's default job
            # would be "<namespace>/<podmonitor>".
            if not any(r.get("targetLabel") == "job" and r.get("replacement") == "spray"
                       for r in ep.get("relabelings") or []):
                errors.append(f"{name_of(pm)}: no relabeling sets job=\"spray\", which the alert rules select")

    rules = by_kind.get("PrometheusRule", [])
    if len(rules) != 1:
        errors.append(f"expected one PrometheusRule, found {len(rules)}")
    for r in rules:
        if (r.get("spec") or {}).get("groups") != alerts_groups:
            errors.append(f"{name_of(r)}: spec.groups differ from config/prometheus/spray-alerts.yml; "
                          f"run deploy/prometheusrule.py")
    return errors


def promtool_rules(rule_obj, alerts_test, promtool):
    """`promtool check rules` and `promtool test rules` on the PrometheusRule's
    own groups. Returns failures, and the two tools' last lines."""
    errors, notes = [], []
    with tempfile.TemporaryDirectory(prefix="spray-deploy-") as tmp:
        rules = os.path.join(tmp, "rules.yml")
        with open(rules, "w") as f:
            yaml.safe_dump({"groups": rule_obj["spec"]["groups"]}, f, sort_keys=False)
        r = subprocess.run([promtool, "check", "rules", rules], capture_output=True, text=True)
        notes.append("promtool check rules: " + (r.stdout.strip().splitlines() or ["?"])[-1].strip())
        if r.returncode != 0:
            errors.append(f"{name_of(rule_obj)}: promtool check rules failed: {' '.join((r.stdout + r.stderr).split())}")
        with open(alerts_test) as f:
            test = yaml.safe_load(f)
        test["rule_files"] = [rules]
        test_file = os.path.join(tmp, "rules_test.yml")
        with open(test_file, "w") as f:
            yaml.safe_dump(test, f, sort_keys=False)
        r = subprocess.run([promtool, "test", "rules", test_file], capture_output=True, text=True)
        notes.append("promtool test rules: " + (r.stdout.strip().splitlines() or ["?"])[-1].strip())
        if r.returncode != 0:
            errors.append(f"{name_of(rule_obj)}: promtool test rules failed: {' '.join((r.stdout + r.stderr).split())}")
    return errors, notes



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spray", required=True, help="the built spray binary")
    ap.add_argument("--alerts", default=os.path.join(ROOT, "config/prometheus/spray-alerts.yml"))
    ap.add_argument("--alerts-test", default=os.path.join(ROOT, "test/smoke/telemetry/alerts_test.yml"))
    ap.add_argument("overlays", nargs="*")
    a = ap.parse_args(argv)
    try:
        kubectl = tool("kubectl", "1.27 or later, for kustomize v5; Debian 12's kubernetes-client is older")
        promtool = tool("promtool", "Debian: apt-get install prometheus")
        role_help = role_options(a.spray)
        try:
            with open(a.alerts) as f:
                alerts_groups = yaml.safe_load(f)["groups"]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
            raise BadInput(f"alerts file '{a.alerts}': {' '.join(str(e).split())}")
        overlays = a.overlays or sorted(
            os.path.join(ROOT, "deploy/overlays", d) for d in os.listdir(os.path.join(ROOT, "deploy/overlays")))
        rendered = [(o, render(o, kubectl)) for o in overlays]
    except BadInput as e:
        print(f"check.py: {e}", file=sys.stderr)
        return 2

    failures = 0
    for overlay, docs in rendered:
        label = os.path.relpath(overlay, ROOT) if overlay.startswith(ROOT) else overlay
        errors = check_objects(docs, alerts_groups, role_help)
        notes = []
        rules = [d for d in docs if d.get("kind") == "PrometheusRule"]
        if len(rules) == 1 and not errors:
            e, notes = promtool_rules(rules[0], a.alerts_test, promtool)
            errors += e
        for e in errors:
            print(f"FAIL {label}: {e}")
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(
            {d.get("kind"): sum(x.get("kind") == d.get("kind") for x in docs) for d in docs}.items()))
        status = "ok" if not errors else f"{len(errors)} failure(s)"
        print(f"{label}: {len(docs)} objects ({kinds}): {status}" + "".join(f"; {n}" for n in notes))
        failures += len(errors)
    print(f"{len(rendered)} overlays, {sum(len(d) for _, d in rendered)} objects, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
