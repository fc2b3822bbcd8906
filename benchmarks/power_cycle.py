# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Power-cycle N lab nodes (off, then on) through PCS with ``power`` and through the BMCs with ``redfish_power``.

Both work on the same sushy-tools BMCs of the lab (one node each, registered in the real SMD with
redfish_discover first) in alternating rounds; each round is one ansible-playbook with two tasks (off, on)
per path, timed from outside, and the nodes' power state is read back from the BMCs after each. The PCS is
the lab's emulator (lab/pcs.py), or with ``--power-control-bin`` a real power-control built by hand (the lab
runs it as its ``pcs``, see lab/README.md; the benchmark then waits until its hardware monitor has polled every
node, as it acts only on those). The sushy fake driver applies a reset 1 to 11 s after it is asked (at
random), which bounds both paths from below.

    .venv/bin/python benchmarks/power_cycle.py --bmcs 64 --rounds 3
    .venv/bin/python benchmarks/power_cycle.py --bmcs 64 --rounds 3 --power-control-bin /path/to/power-control \
        --power-control-migrations /path/to/power-control/migrations/postgres

The lab is brought up with N BMCs (`lab up --services smd,pcs,bmcs --bmcs N`); `python -m lab up` afterwards
goes back to the default four.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import requests
import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lab.services import Lab  # noqa: E402  pylint: disable=wrong-import-position
from tests.unit.utils.ansible_output import collections_path  # noqa: E402  pylint: disable=wrong-import-position


def xname(index):
    return "x1000c%ds%db0" % ((index - 1) // 8, (index - 1) % 8)


def playbook(tasks, defaults, work, name):
    path = work / name
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False,
                                     "module_defaults": defaults, "tasks": tasks}], sort_keys=False))
    return path


def run(path, env, work):
    cmd = [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable, str(path)]
    started = time.monotonic()
    result = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    if result.returncode:
        raise SystemExit("%s failed (%d):\n%s\n%s" % (path.name, result.returncode, result.stdout[-3000:],
                                                      result.stderr[-3000:]))
    return took


def power_states(bmcs, info):
    states = []
    for bmc in bmcs:
        answer = requests.get(bmc["url"] + "/redfish/v1/Systems/" + bmc["system_uuid"], timeout=10,
                              auth=(info["bmc_user"], info["bmc_password"]), verify=info["bmc_ca_bundle"])
        states.append(answer.json()["PowerState"])
    return states


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--bmcs", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--power-control-bin", help="a real power-control as the lab's PCS (default: the emulator)")
    parser.add_argument("--power-control-migrations", help="its migrations/postgres directory")
    args = parser.parse_args()
    if args.power_control_bin:
        os.environ.update(LAB_POWER_CONTROL_BIN=args.power_control_bin,
                          LAB_POWER_CONTROL_MIGRATIONS=args.power_control_migrations or "")
    else:
        os.environ.pop("LAB_POWER_CONTROL_BIN", None)
    lab = Lab(out=lambda message: None)
    lab.up(services=["smd", "pcs", "bmcs"], bmcs=args.bmcs)
    state = json.loads((lab.state / "lab.json").read_text())
    bmcs = [b for b in state["bmcs"] if b["kind"] == "bmc"][:args.bmcs]
    assert len(bmcs) == args.bmcs, len(bmcs)
    env = dict(line.split("=", 1) for line in (lab.state / "lab.env").read_text().replace("export ", "").split("\n")
               if "=" in line and not line.startswith("#"))
    env = dict((k, v.strip("'\"")) for k, v in env.items())
    info = {"bmc_user": env["LAB_BMC_USER"], "bmc_password": env["LAB_BMC_PASSWORD"],
            "bmc_ca_bundle": env["LAB_BMC_CA_BUNDLE"], "ochami_config": env["OCHAMI_CONFIG"]}
    collections = pathlib.Path(collections_path(REPO, prefix="bench-coll-"))
    lab_env = dict(os.environ, **env)
    lab_env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-power-"))
    bmc_options = {"config_file": info["ochami_config"], "bmc_user": info["bmc_user"],
                   "bmc_password": info["bmc_password"], "bmc_ca_path": info["bmc_ca_bundle"]}
    defaults = {"group/cscs.openchami.redfish": dict(bmc_options, workers=64)}
    nodes = [xname(b["index"]) + "n0" for b in bmcs]
    smd = state["urls"]["smd"] + "/hsm/v2"
    for path in ("/Inventory/RedfishEndpoints", "/Inventory/ComponentEndpoints", "/Inventory/EthernetInterfaces",
                 "/State/Components"):  # SMD emptied: the lab's BMCs registered under the benchmark's xnames
        answer = requests.delete(smd + path, headers={"Authorization": "Bearer " + env["ACCESS_TOKEN"]}, timeout=60)
        assert answer.status_code in (200, 204, 404), (path, answer.status_code, answer.text)
    run(playbook([{"cscs.openchami.redfish_discover": {
        "targets": [b["ip"] for b in bmcs], "xname_map": dict((b["ip"], xname(b["index"])) for b in bmcs)}}],
        defaults, work, "discover.yml"), lab_env, work)
    pcs = state["urls"]["pcs"]
    while True:  # until PCS has a power state for every node (a real one polls its BMCs every 30 s or so)
        answer = requests.post(pcs + "/power-status", json={"xname": nodes}, timeout=60,
                               headers={"Authorization": "Bearer " + env["ACCESS_TOKEN"]})
        assert answer.status_code == 200, answer.text
        if all(entry.get("powerState") in ("on", "off") for entry in answer.json()["status"]):
            break
        time.sleep(1)
    pcs_cycle = playbook([{"cscs.openchami.power": {"nodes": nodes, "state": "force-off", "wait_timeout": 300}},
                          {"cscs.openchami.power": {"nodes": nodes, "state": "on", "wait_timeout": 300}}],
                         defaults, work, "pcs.yml")
    redfish_cycle = playbook([{"cscs.openchami.redfish_power": {"nodes": nodes, "state": "off", "timeout": 300}},
                              {"cscs.openchami.redfish_power": {"nodes": nodes, "state": "on", "timeout": 300}}],
                             defaults, work, "redfish.yml")
    times = {"pcs": [], "redfish": []}
    for _round in range(args.rounds):
        for name, path in (("pcs", pcs_cycle), ("redfish", redfish_cycle)):
            times[name].append(run(path, lab_env, work))
            states = power_states(bmcs, info)
            assert states == ["On"] * len(bmcs), (name, states)
            print("round %d, %s: %.1f s" % (_round + 1, name, times[name][-1]), flush=True)
    print("power cycle (off, then on) of %d lab nodes, one sushy BMC each; median of %d alternating rounds" % (
        len(bmcs), args.rounds))
    print("| path | median s | rounds s |")
    print("| --- | ---: | --- |")
    print("| power through PCS (%s), one transition per step | %.1f | %s |" % (
        "real power-control" if args.power_control_bin else "lab emulator",
        statistics.median(times["pcs"]), " ".join("%.1f" % t for t in times["pcs"])))
    print("| redfish_power through SMD to the BMCs | %.1f | %s |" % (
        statistics.median(times["redfish"]), " ".join("%.1f" % t for t in times["redfish"])))


if __name__ == "__main__":
    main()
