# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discover and push N emulated BMCs with redfish_discover and with magellan (scan + collect + send), same run.

Both tools work on the same sushy-tools BMCs of the lab (https://127.0.1.1 ... 127.0.1.N, one node and one
NIC each) and the same real SMD, emptied before each tool. Reported: wall time of each (ours as a user runs it:
one ansible-playbook with one task; magellan as its three commands), the ratio, and completeness (nodes and
node MACs in SMD afterwards), plus our second, no-change run.

    .venv/bin/python -m lab build magellan
    .venv/bin/python benchmarks/redfish_discover.py --bmcs 64

The lab is brought up with N BMCs (`lab up --services smd,bmcs --bmcs N`); `python -m lab up` afterwards
goes back to the default four.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import requests
import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lab import build as labbuild  # noqa: E402  pylint: disable=wrong-import-position
from lab.services import Lab  # noqa: E402  pylint: disable=wrong-import-position
from tests.unit.utils.ansible_output import collections_path  # noqa: E402  pylint: disable=wrong-import-position


def xname(index):
    return "x1000c%ds%db0" % ((index - 1) // 8, (index - 1) % 8)


class Smd:
    def __init__(self, url, token):
        self.url = url.rstrip("/") + "/hsm/v2"
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + token

    def empty(self):
        for path in ("/Inventory/RedfishEndpoints", "/Inventory/ComponentEndpoints", "/Inventory/EthernetInterfaces",
                     "/State/Components"):
            answer = self.session.delete(self.url + path, timeout=60)
            assert answer.status_code in (200, 204, 404), (path, answer.status_code, answer.text)

    def completeness(self, bmcs):
        """(nodes found, node MACs found) of the BMCs' expected nodes and MACs."""
        components = self.session.get(self.url + "/State/Components", timeout=60).json()["Components"]
        interfaces = self.session.get(self.url + "/Inventory/EthernetInterfaces", timeout=60).json()
        ids = set(c["ID"] for c in components)
        macs = set((i.get("ComponentID"), i["MACAddress"].lower()) for i in interfaces)
        nodes = sum(1 for b in bmcs if xname(b["index"]) + "n0" in ids)
        found = sum(1 for b in bmcs for mac in b["macs"] if (xname(b["index"]) + "n0", mac) in macs)
        return nodes, found


def run(cmd, env=None, cwd=None):
    started = time.monotonic()
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    if result.returncode:
        raise SystemExit("%s failed (%d):\n%s\n%s" % (" ".join(cmd[:3]), result.returncode, result.stdout[-3000:],
                                                      result.stderr[-3000:]))
    return took, result


def magellan(binary, bmcs, info, work, smd_url):
    ca = info["bmc_ca_bundle"]
    cache = work / "magellan-assets.db"
    idmap = work / "idmap.yaml"
    idmap.write_text(yaml.safe_dump({"map_key": "bmc-ip-addr", "id_map": dict((b["ip"], xname(b["index"])) for b in bmcs)}))
    out = work / "magellan-inventory.json"
    env = dict(os.environ, ACCESS_TOKEN=info["token"])
    common = ["--cache", str(cache), "-l", "error"]
    steps = [
        [binary, "scan", *["https://%s:443" % b["ip"] for b in bmcs], "-i", *common],  # scan has no CA option
        [binary, "collect", "-u", info["bmc_user"], "-p", info["bmc_password"], "--cacert", ca, "-m", "@%s" % idmap,
         "-o", str(out), *common],
        [binary, "send", "-d", "@%s" % out, smd_url, *common],
    ]
    times = []
    for step in steps:
        took, _result = run(step, env=env, cwd=work)
        times.append(took)
    return sum(times), times


def ours(bmcs, info, work, lab_env):
    playbook = work / "discover.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"cscs.openchami.redfish_discover": {
            "config_file": info["ochami_config"], "targets": [b["ip"] for b in bmcs],
            "xname_map": dict((b["ip"], xname(b["index"])) for b in bmcs),
            "bmc_user": info["bmc_user"], "bmc_password": info["bmc_password"], "bmc_ca_path": info["bmc_ca_bundle"],
            "workers": 64}}],
    }], sort_keys=False))
    env = dict(lab_env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal")
    cmd = [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)]
    took, result = run(cmd, env=env, cwd=work)
    # minimal callback: "localhost | CHANGED => {...}"
    return took, json.loads(result.stdout[result.stdout.index("=>") + 2:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--bmcs", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    args = parser.parse_args()
    lab = Lab(out=lambda message: None)
    lab.up(services=["smd", "bmcs"], bmcs=args.bmcs)
    state = json.loads((lab.state / "lab.json").read_text())
    bmcs = [b for b in state["bmcs"] if b["kind"] == "bmc"][:args.bmcs]
    assert len(bmcs) == args.bmcs, len(bmcs)
    env = dict(line.split("=", 1) for line in (lab.state / "lab.env").read_text().replace("export ", "").split("\n")
               if "=" in line and not line.startswith("#"))
    env = dict((k, v.strip("'\"")) for k, v in env.items())
    info = {"token": env["ACCESS_TOKEN"], "bmc_user": env["LAB_BMC_USER"], "bmc_password": env["LAB_BMC_PASSWORD"],
            "bmc_ca_bundle": env["LAB_BMC_CA_BUNDLE"], "ochami_config": env["OCHAMI_CONFIG"]}
    smd_url = state["urls"]["smd"]
    smd = Smd(smd_url, info["token"])
    binary = str(labbuild.binary(labbuild.load_versions()[0]["magellan"], "magellan"))
    collections = pathlib.Path(collections_path(REPO, prefix="bench-coll-"))
    lab_env = dict(os.environ, **env)
    lab_env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-redfish-"))
    expected_macs = sum(len(b["macs"]) for b in bmcs)

    mag_runs, our_runs, again_runs = [], [], []
    for _round in range(args.rounds):
        smd.empty()
        mag_runs.append(magellan(binary, bmcs, info, work, smd_url) + smd.completeness(bmcs))
        smd.empty()
        took, result = ours(bmcs, info, work, lab_env)
        our_runs.append((took, result) + smd.completeness(bmcs))
        took, again = ours(bmcs, info, work, lab_env)
        assert again["changed"] is False, again.get("summary")
        again_runs.append(took)
    mag_time, mag_steps, mag_nodes, mag_macs = sorted(mag_runs)[len(mag_runs) // 2]
    our_time, result, our_nodes, our_macs = sorted(our_runs, key=lambda run: run[0])[len(our_runs) // 2]
    again_time = sorted(again_runs)[len(again_runs) // 2]
    print("median of %d alternating rounds; all rounds ours %s, magellan %s" % (
        args.rounds, " ".join("%.2f" % r[0] for r in our_runs), " ".join("%.2f" % r[0] for r in mag_runs)))
    print("| tool (%d BMCs, %d nodes, %d node MACs) | wall s | nodes in SMD | node MACs in SMD |" % (
        len(bmcs), len(bmcs), expected_macs))
    print("| --- | ---: | ---: | ---: |")
    print("| magellan v0.5.1 scan + collect + send | %.2f (%s) | %d | %d |" % (
        mag_time, " + ".join("%.2f" % t for t in mag_steps), mag_nodes, mag_macs))
    print("| redfish_discover (one ansible-playbook task) | %.2f | %d | %d |" % (our_time, our_nodes, our_macs))
    print("| redfish_discover again, no change | %.2f | | |" % again_time)
    print("ratio ours / magellan: %.2f; BMC requests of ours: %d" % (our_time / mag_time, result["requests"]))


if __name__ == "__main__":
    main()
