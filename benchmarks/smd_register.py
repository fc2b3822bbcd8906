# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register the same N-node cluster into an empty SMD with our modules and with `ochami discover static`.

Every run leaves the same data in SMD (checked after each run): the nodes, their BMCs, one interface per node and
per BMC, and the groups. The peers:

- "the ochami CLI's request pattern, replayed": the requests `ochami discover static` sends (all components in
  one POST, one Redfish endpoint with inventory per BMC, one POST per group), sent from here; it needs no CLI;
- "ochami discover static (real CLI)": the CLI itself, when ``--ochami`` names a binary (built by hand beside the
  project, see shared/reference/real-services-status.md); the ratio is then printed against it as well.

Measures wall time and the HTTP requests SMD served (counted from SMD's own access log, so all tools are counted
the same way), plus the time of our second, no-change run. ``--rounds`` rounds alternate the order of the tools
(ours first in odd rounds, last in even ones) and the median of each is reported.

    .venv/bin/python benchmarks/smd_register.py --smd-url http://127.0.0.1:27779 --smd-log lab-state/logs/smd.log \
        --ochami ~/.cache/cscs-openchami-lab/bin/ochami-*/ochami --nodes 10000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

import requests

# SMD's access log, one line per request; other services (cloud-init polls SMD) are told apart by user agent
ACCESS_LINE = re.compile(rb'^\S+ - - \[[^\]]+\] "[A-Z]+ .*"(cscs\.openchami|python-requests/[^"]*|ochami[^"]*)"\s*$')
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.unit.utils.ansible_output import collections_path  # noqa: E402  pylint: disable=wrong-import-position


def bmcs_of(data):
    """{BMC xname: {"mac", "ip", "nodes"}}: each BMC's own NIC (what a Redfish endpoint's manager reports)."""
    out = {}
    for n in data:
        bmc = n["xname"].rsplit("n", 1)[0]
        if bmc not in out:
            index = len(out)
            out[bmc] = {"mac": "02:ff:" + n["mac"][6:], "ip": "10.250.%d.%d" % (index >> 8, index & 255), "nodes": []}
        out[bmc]["nodes"].append(n)
    return out


def cluster(nodes, groups):
    """Nodes in liquid-cooled cabinets (8 chassis x 8 slots x 2 BMCs x 2 nodes = 256 per cabinet)."""
    out = []
    for i in range(nodes):
        cab, rest = divmod(i, 256)
        chassis, rest = divmod(rest, 32)
        slot, rest = divmod(rest, 4)
        bmc, node = divmod(rest, 2)
        xname = "x%dc%ds%db%dn%d" % (1000 + cab, chassis, slot, bmc, node)
        mac = "02:00:%02x:%02x:%02x:%02x" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
        ip = "10.%d.%d.%d" % (100 + (i >> 16), (i >> 8) & 255, i & 255)
        out.append({"xname": xname, "nid": i + 1, "mac": mac, "ip": ip, "group": "g%02d" % (i % groups)})
    return out


class Smd:
    def __init__(self, url, token, log):
        self.url = url.rstrip("/") + "/hsm/v2"
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = "Bearer " + token
        self.log = log

    def requests_served(self):
        """Requests SMD served so far to the tools measured here (access-log lines with their user agents)."""
        with open(self.log, "rb") as handle:
            return sum(1 for line in handle if ACCESS_LINE.match(line))

    def empty(self):
        for path in ("/State/Components", "/Inventory/EthernetInterfaces", "/Inventory/RedfishEndpoints"):
            self.session.delete(self.url + path)
        for group in self.session.get(self.url + "/groups").json() or []:
            self.session.delete(self.url + "/groups/" + group["label"])
        assert not self.session.get(self.url + "/State/Components").json()["Components"]

    def counts(self):
        """What a run left in SMD: nodes, BMCs, interfaces (by MAC and owner), groups with their members."""
        comps = self.session.get(self.url + "/State/Components").json()["Components"]
        nics = self.session.get(self.url + "/Inventory/EthernetInterfaces").json()
        groups = self.session.get(self.url + "/groups").json()
        return {"nodes": sum(1 for c in comps if c.get("Type") == "Node"),
                "bmcs": sum(1 for c in comps if c.get("Type") == "NodeBMC"),
                "interfaces": sorted((i["MACAddress"], i["ComponentID"]) for i in nics),
                "groups": sorted((g["label"], tuple(sorted(g["members"]["ids"]))) for g in groups)}


def run_ours(data, smd_url, token, workdir):
    components = [{"ID": n["xname"], "State": "Ready", "Role": "Compute", "NID": n["nid"], "Arch": "X86"} for n in data]
    bmcs = bmcs_of(data)
    components += [{"ID": bmc, "State": "Ready"} for bmc in bmcs]
    interfaces = [{"mac": n["mac"], "component_id": n["xname"], "ip_addresses": [{"ip_address": n["ip"], "network": "nmn"}]}
                  for n in data]
    interfaces += [{"mac": b["mac"], "component_id": bmc, "ip_addresses": [{"ip_address": b["ip"], "network": ""}]}
                   for bmc, b in bmcs.items()]
    groups = {}
    for n in data:
        groups.setdefault(n["group"], []).append(n["xname"])
    for name, items in (("components", components), ("interfaces", interfaces),
                        ("groups", [{"label": k, "members": v} for k, v in sorted(groups.items())])):
        (workdir / (name + ".json")).write_text(json.dumps(items))
    playbook = workdir / "register.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/cscs.openchami.openchami:
      service_uris: {smd: "%s/hsm/v2"}
  tasks:
    - cscs.openchami.smd_component: {src: "%s/components.json"}
    - cscs.openchami.smd_ethernet_interface: {src: "%s/interfaces.json", workers: 16}
    - cscs.openchami.smd_group: {src: "%s/groups.json"}
""" % (smd_url, workdir, workdir, workdir))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(REPO, parent=workdir), ACCESS_TOKEN=token or "")
    bindir = os.path.dirname(sys.executable)
    cmd = [os.path.join(bindir, "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
    started = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.time() - started
    if proc.returncode:
        raise SystemExit("our playbook failed:\n" + proc.stdout[-3000:])
    return elapsed, proc.stdout


def run_replay(data, smd, groups_count):
    """The ochami CLI's request pattern (`ochami discover static`), replayed from here.

    Sends what that command sends, in the same order, sequentially over one connection: all components
    in one POST, one SchemaVersion-1 Redfish endpoint per BMC (SMD derives the BMC and its node interfaces from
    it), then one POST per group.
    """
    started = time.time()
    components = [{"ID": n["xname"], "State": "Ready", "Role": "Compute", "NID": n["nid"], "Arch": "X86"} for n in data]
    for i in range(0, len(components), 2000):
        smd.session.post(smd.url + "/State/Components", json={"Components": components[i:i + 2000]}).raise_for_status()
    for bmc, info in bmcs_of(data).items():
        ip, nodes = info["ip"], info["nodes"]
        payload = {"ID": bmc, "FQDN": ip, "User": "root", "SchemaVersion": 1,
                   "Managers": [{"uri": "/redfish/v1/Managers/BMC", "name": "BMC",
                                 "ethernet_interfaces": [{"mac": info["mac"], "ip": ip}]}],
                   "Systems": [{"uri": "/redfish/v1/Systems/Node%d" % k, "uuid": "00000000-0000-4000-8000-%012d" % node["nid"],
                                "ethernet_interfaces": [{"mac": node["mac"], "ip": node["ip"], "description": "nmn"}]}
                               for k, node in enumerate(nodes)]}
        answer = smd.session.post(smd.url + "/Inventory/RedfishEndpoints", json=payload)
        if answer.status_code not in (201, 409):  # 409 after storing everything: see reference/openchami-apis.md
            answer.raise_for_status()
    members = {}
    for n in data:
        members.setdefault(n["group"], []).append(n["xname"])
    for label, ids in sorted(members.items())[:groups_count]:
        smd.session.post(smd.url + "/groups", json={"label": label, "members": {"ids": ids}}).raise_for_status()
    return time.time() - started


def run_ochami(data, smd_url, token, ochami, workdir):
    import yaml  # pylint: disable=import-outside-toplevel
    nodes = [{"name": "nid%06d" % n["nid"], "nid": n["nid"], "xname": n["xname"], "groups": [n["group"]],
              "interfaces": [{"mac_addr": n["mac"], "ip_addrs": [{"name": "nmn", "ip_addr": n["ip"]}]}]} for n in data]
    bmcs = [{"name": bmc, "xname": bmc, "mac": b["mac"], "fqdn": bmc + ".bmc", "ip": b["ip"]}
            for bmc, b in bmcs_of(data).items()]
    payload = workdir / "nodes.yaml"
    payload.write_text(yaml.safe_dump({"nodes": nodes, "bmcs": bmcs}))
    config = workdir / "ochami.yaml"
    config.write_text(yaml.safe_dump({"default-cluster": "bench", "clusters": [
        {"name": "bench", "cluster": {"enable-auth": bool(token), "smd": {"uri": smd_url + "/hsm/v2"}}}]}))
    env = dict(os.environ, BENCH_ACCESS_TOKEN=token or "")
    cmd = [ochami, "--config", str(config), "discover", "static", "-d", "@" + str(payload), "-f", "yaml"]
    if not token:
        cmd.insert(1, "--no-token")
    started = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.time() - started
    if proc.returncode:
        raise SystemExit("ochami failed:\n" + (proc.stdout + proc.stderr)[-3000:])
    return elapsed


def measure(name, run, smd, expected=None):
    """Run one tool into an empty SMD; (wall time, requests, what SMD holds). The data must be what the first
    tool left (the same work), else the comparison would be meaningless."""
    smd.empty()
    before = smd.requests_served()
    seconds = run()
    requests_served = smd.requests_served() - before
    counts = smd.counts()
    if expected is not None and counts != expected:
        raise SystemExit("%s left other data in SMD than the first tool: %s" % (name, summary(counts)))
    return seconds, requests_served, counts


def summary(counts):
    return "%d/%d/%d/%d" % (counts["nodes"], counts["bmcs"], len(counts["interfaces"]), len(counts["groups"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smd-url", required=True)
    parser.add_argument("--smd-log", required=True, help="SMD's log file (its access log counts requests)")
    parser.add_argument("--token", default=os.environ.get("ACCESS_TOKEN", ""))
    parser.add_argument("--ochami", help="ochami binary (the real CLI as a peer); omitted = its request pattern only")
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the order; medians reported")
    args = parser.parse_args()
    data = cluster(args.nodes, args.groups)
    smd = Smd(args.smd_url, args.token, args.smd_log)
    ours_name, again_name = "cscs.openchami (3 tasks)", "cscs.openchami, no-change re-run"
    replay_name, cli_name = "peer: the ochami CLI's request pattern, replayed", "peer: ochami discover static (real CLI)"
    runs, expected = {}, None
    with tempfile.TemporaryDirectory() as tmp:
        workdir = pathlib.Path(tmp)

        def ours():
            return run_ours(data, args.smd_url, args.token, workdir)[0]

        def again():  # right after ours, into the SMD ours left
            before = smd.requests_served()
            seconds, out = run_ours(data, args.smd_url, args.token, workdir)
            if "changed=0" not in out:
                raise SystemExit("second run changed something:\n" + out[-2000:])
            return seconds, smd.requests_served() - before, smd.counts()

        tools = [(replay_name, lambda: run_replay(data, smd, args.groups))]
        if args.ochami:
            tools.append((cli_name, lambda: run_ochami(data, args.smd_url, args.token, args.ochami, workdir)))
        for round_index in range(args.rounds):
            order = [(ours_name, ours)] + tools
            if round_index % 2:
                order.reverse()
            for name, run in order:
                seconds, reqs, counts = measure(name, run, smd, expected)
                expected = expected or counts
                runs.setdefault(name, []).append((seconds, reqs))
                if name == ours_name:
                    seconds, reqs, _counts = again()
                    runs.setdefault(again_name, []).append((seconds, reqs))
    print("| run | nodes | wall time (s), median of %d | SMD requests | nodes/BMCs/interfaces/groups in SMD |"
          % args.rounds)
    print("| --- | ---: | ---: | ---: | --- |")
    medians = {}
    for name in [ours_name, again_name, replay_name] + ([cli_name] if args.ochami else []):
        medians[name] = (statistics.median(r[0] for r in runs[name]), statistics.median(r[1] for r in runs[name]))
        print("| %s | %d | %.1f | %d | %s |" % (name, args.nodes, medians[name][0], medians[name][1], summary(expected)))
    for peer in [replay_name] + ([cli_name] if args.ochami else []):
        print("\nratio ours / %s: wall time %.2f, requests %.2f" % (
            peer[len("peer: "):], medians[ours_name][0] / medians[peer][0], medians[ours_name][1] / max(1, medians[peer][1])))


if __name__ == "__main__":
    main()
