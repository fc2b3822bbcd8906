# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab side of the node migration: a real slurmctld with the lab's nodes and the Slurm hooks of
``examples/migration_hooks/`` run by real ansible-playbook against it.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_migration_lab.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from lab import csm as labcsm
from lab import csm_seed, runtime
from lab import slurm as labslurm
from lab.runtime import REPO_ROOT

HOOKS = REPO_ROOT / "examples" / "migration_hooks"
REASON = "cscs.openchami node_migration"


@pytest.fixture(scope="module", name="slurm")
def fixture_slurm(lab):
    """The lab with slurmctld and its slurmds up, every node idle; yields a helper."""
    side = labslurm.SlurmSide(lab.lab)
    if not side.running() or not side.registered():
        lab.lab.up(slurm=True)
    info = json.loads((lab.state / "lab.json").read_text(encoding="utf-8"))["slurm"]
    lab.env["SLURM_CONF"] = info["conf"]  # run_playbook passes lab.env to ansible-playbook
    helper = Slurm(lab, info)
    helper.scontrol("update", "NodeName=" + ",".join(n["name"] for n in info["nodes"]), "State=RESUME", check=False)
    helper.wait(lambda states: all(state == "idle" for state in states.values()))
    yield helper


class Slurm:
    """scontrol/sinfo against the lab's controller."""

    def __init__(self, lab, info):
        self.lab = lab
        self.info = info
        self.env = dict(os.environ, SLURM_CONF=info["conf"])

    def scontrol(self, *args, check=True) -> subprocess.CompletedProcess:
        result = subprocess.run(["scontrol", *args], env=self.env, capture_output=True, text=True, check=False)
        assert not check or result.returncode == 0, result.stdout + result.stderr
        return result

    def states(self) -> dict:
        """name -> (state, reason), as ``sinfo`` prints them."""
        out = subprocess.run(["sinfo", "-h", "-N", "-o", "%N|%T|%E"], env=self.env, capture_output=True, text=True,
                             check=True).stdout
        return dict((name, (state, reason)) for name, state, reason in (line.split("|", 2) for line in out.splitlines()))

    def show(self, name: str) -> dict:
        """``scontrol show node`` of one node: its NodeName, State, Partitions and Reason (text before ``[user@time]``)."""
        text = self.scontrol("show", "node", "-o", name).stdout.strip()
        fields = dict(re.findall(r"(NodeName|State|Partitions)=(\S+)", text))
        reason = re.search(r" Reason=(.*?) \[", text)
        fields["Reason"] = reason.group(1) if reason else None
        return fields

    def wait(self, condition) -> dict:
        """The node states once ``condition(states)`` holds (states without their reasons)."""
        while True:
            states = {name: state for name, (state, _reason) in self.states().items()}
            if condition(states):
                return states
            time.sleep(0.2)

    def hook(self, name: str, nodes: list, extravars: dict | None = None):
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{
            "name": "hook", "ansible.builtin.include_tasks": str(HOOKS / name),
            "vars": {"node_migration_hook_nodes": nodes}}]}]
        return self.lab.run_playbook(play, extravars)


def batch(info, count, start=0):
    """The first ``count`` Slurm nodes as the role hands them to a hook."""
    return [{"xname": n["xname"], "nid": n["nid"], "hostname": n["name"]} for n in info["nodes"][start:start + count]]


def recap(result) -> str:
    """The PLAY RECAP line of localhost."""
    lines = [line for line in result.stdout.splitlines() if line.startswith("localhost") and "ok=" in line]
    assert lines, result.stdout + result.stderr
    return lines[-1]


def test_slurmctld_knows_the_lab_nodes_by_nid(slurm):
    """Every compute node of the CSM seed is a Slurm node nid%06d of its NID, registered (idle) in partition compute."""
    seed = [n for n in csm_seed.node_layout(int(os.environ.get("LAB_CSM_NODES") or 32)) if n["role"] == "Compute"]
    states = slurm.states()
    assert sorted(states) == sorted("nid%06d" % n["nid"] for n in seed)
    assert {state for state, _reason in states.values()} == {"idle"}
    shown = slurm.show(seed[0]["alias"])
    assert shown["NodeName"] == seed[0]["alias"] and shown["Partitions"] == "compute", shown
    assert slurm.scontrol("ping").stdout.strip().endswith("is UP")


def test_drain_then_resume_through_the_hooks(slurm):
    """slurm_drain.yml drains a batch with one scontrol call, a re-run changes nothing; slurm_resume.yml resumes it."""
    nodes = batch(slurm.info, 3)
    names = [n["hostname"] for n in nodes]
    others = [n["name"] for n in slurm.info["nodes"][3:]]

    result = slurm.hook("slurm_drain.yml", nodes)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "changed=1" in recap(result)
    states = slurm.states()
    assert [states[name] for name in names] == [("drained", REASON)] * 3
    assert {states[name][0] for name in others} == {"idle"}
    assert [slurm.show(name)["State"] for name in names] == ["IDLE+DRAIN"] * 3
    assert slurm.show(names[0])["Reason"] == REASON

    again = slurm.hook("slurm_drain.yml", nodes)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "changed=0" in recap(again)

    result = slurm.hook("slurm_resume.yml", nodes)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "changed=1" in recap(result)
    states = slurm.wait(lambda s: all(s[name] == "idle" for name in names))
    assert {states[name] for name in others} == {"idle"}
    assert [slurm.show(name)["State"] for name in names] == ["IDLE"] * 3

    again = slurm.hook("slurm_resume.yml", nodes)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "changed=0" in recap(again)


def test_resume_leaves_a_node_drained_for_another_reason(slurm):
    """A node an operator drained (another reason) is left drained by both hooks, with its reason."""
    nodes = batch(slurm.info, 2, start=4)
    mine, theirs = nodes[0]["hostname"], nodes[1]["hostname"]
    slurm.scontrol("update", "NodeName=" + theirs, "State=DRAIN", "Reason=bad DIMM")
    try:
        result = slurm.hook("slurm_drain.yml", nodes)
        assert result.returncode == 0, result.stdout + result.stderr
        states = slurm.states()
        assert states[mine] == ("drained", REASON) and states[theirs] == ("drained", "bad DIMM")
        result = slurm.hook("slurm_resume.yml", nodes)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "left drained (not by the migration): " + theirs in result.stdout
        states = slurm.wait(lambda s: s[mine] == "idle")
        assert states[theirs] == "drained" and slurm.states()[theirs][1] == "bad DIMM"
    finally:
        slurm.scontrol("update", "NodeName=" + theirs, "State=RESUME", check=False)
        slurm.wait(lambda s: s[theirs] == "idle")


def test_bad_batches_change_nothing(slurm):
    """A node without a NID, or one Slurm does not know, fails the hook by name before any node is drained."""
    good = batch(slurm.info, 1, start=7)
    before = slurm.states()
    no_nid = slurm.hook("slurm_drain.yml", good + [{"xname": "x1000c7s7b0n0", "hostname": "x"}])
    assert no_nid.returncode != 0
    assert "nodes without an integer nid: x1000c7s7b0n0; nothing was changed" in no_nid.stdout
    unknown = slurm.hook("slurm_drain.yml", good + [{"xname": "x9000c0s0b0n0", "nid": 99999, "hostname": "x"}])
    assert unknown.returncode != 0
    assert "not known to Slurm: nid099999; nothing was changed" in unknown.stdout
    formatted = slurm.hook("slurm_drain.yml", good, {"node_migration_slurm_node_format": "node%d"})
    assert formatted.returncode != 0
    assert "not known to Slurm: node%d; nothing was changed" % good[0]["nid"] in formatted.stdout
    assert slurm.states() == before


# ---------------------------------------------------------------------------------------------- the boot simulator

NODE = "x1000c0s0b0n0"  # the CSM seed's first compute node (NID 1); the lab's BMC 1 plays it
KERNEL = {"kernel": "http://images.lab/compute/vmlinuz", "initrd": "http://images.lab/compute/initrd",
          "params": "console=ttyS0 ip=dhcp"}


@pytest.fixture(scope="module", name="boot")
def fixture_boot(lab):
    """The lab with its CSM side and the node-boot simulator; CSM's HSM reset to the seed, OpenCHAMI's SMD empty."""
    if not (labcsm.CsmSide(lab.lab).running() and runtime.is_running(lab.state, "nodeboot")):
        lab.lab.up(csm=True, nodeboot=True)
    info = json.loads((lab.state / "lab.json").read_text(encoding="utf-8"))
    labcsm.CsmSide(lab.lab).reset()
    lab.clean_smd()
    helper = Boot(lab, info)
    helper.fail_file.write_text("", encoding="utf-8")
    yield helper
    helper.fail_file.write_text("", encoding="utf-8")
    labcsm.CsmSide(lab.lab).reset()
    lab.clean_smd()


class Boot:
    """Power a lab BMC's node, read what it booted from (the simulator's log and both BSSes' endpoint-history)."""

    def __init__(self, lab, info):
        self.lab = lab
        self.info = info
        self.bmcs = [b for b in info["bmcs"] if b["kind"] == "bmc"]
        self.fail_file = Path(info["nodeboot"]["fail_file"])
        self.boots_file = Path(info["nodeboot"]["boots_file"])
        self.csm_side = labcsm.CsmSide(lab.lab)
        self.csm = requests.Session()
        self.csm.headers["Authorization"] = "Bearer " + self.csm_side.token()
        self.hsm = info["csm"]["api_url"] + "/smd/hsm/v2"

    def boots(self) -> list:
        if not self.boots_file.exists():
            return []
        return [json.loads(line) for line in self.boots_file.read_text(encoding="utf-8").splitlines() if line]

    def power_cycle(self, bmc: dict) -> dict:
        """ComputerSystem.Reset ForceRestart at the BMC; returns the simulator's record of the boot that follows."""
        seen = len(self.boots())
        answer = requests.post(f"{bmc['url']}/redfish/v1/Systems/{bmc['system_uuid']}/Actions/ComputerSystem.Reset",
                               json={"ResetType": "ForceRestart"}, timeout=30, verify=self.lab.env["LAB_BMC_CA_BUNDLE"],
                               auth=(self.lab.env["LAB_BMC_USER"], self.lab.env["LAB_BMC_PASSWORD"]))
        assert answer.status_code in (200, 202, 204), answer.text
        while True:  # the node boots when its BMC applies the restart (sushy: 1 to 11 s later)
            new = [b for b in self.boots()[seen:] if b["bmc"] == bmc["name"]]
            if new:
                return new[0]
            time.sleep(0.2)

    def history(self, side: str, xname: str = NODE) -> int:
        """The latest ``last_epoch`` of ``xname``'s boot script on one side's BSS (0: never)."""
        url = (self.lab.url("bss") if side == "openchami" else self.info["csm"]["bss_url"] + "/boot/v1")
        answer = requests.get(url + "/endpoint-history", params={"name": xname, "endpoint": "bootscript"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return max([0] + [item["last_epoch"] for item in answer.json() or []])

    def wait_history(self, side: str, above: int) -> int:
        while True:
            now = self.history(side)
            if now > above:
                return now
            time.sleep(0.2)

    def endpoint(self, bmc: dict) -> dict:
        """The node's BMC as SMD (and CSM's HSM) hold a discovered one: a Redfish endpoint with the node's system."""
        return {"ID": NODE[:NODE.rindex("n")], "FQDN": bmc["ip"], "User": self.lab.env["LAB_BMC_USER"], "Password": "",
                "SchemaVersion": 1, "Managers": [],
                "Systems": [{"uri": "/redfish/v1/Systems/" + bmc["system_uuid"], "uuid": bmc["system_uuid"],
                             "name": NODE, "ethernet_interfaces": [], "actions": ["On", "ForceOff", "ForceRestart"]}]}


def test_boot_simulator_follows_the_mac(boot):
    """A node boots from the BSS of the system whose SMD/HSM holds its MAC; a listed node fetches nothing."""
    bmc, stranger = boot.bmcs[0], boot.bmcs[1]
    mac = bmc["macs"][0]

    # nobody knows BMC 2's node: no DHCP answer, nothing fetched
    record = boot.power_cycle(stranger)
    assert (record["dhcp"], record["outcome"], record["requests"]) == (None, "no DHCP answer", [])

    # under CSM: HSM holds the node's MAC and its (discovered) BMC; CSM's BSS has its boot parameters (seed)
    seeded = boot.csm.get(boot.hsm + "/Inventory/EthernetInterfaces", params={"ComponentID": NODE}, timeout=30).json()
    for item in seeded:
        assert boot.csm.delete(boot.hsm + "/Inventory/EthernetInterfaces/" + item["ID"], timeout=30).ok
    assert boot.csm.post(boot.hsm + "/Inventory/EthernetInterfaces", json={"MACAddress": mac, "ComponentID": NODE},
                         timeout=30).ok
    endpoint = boot.endpoint(bmc)
    assert boot.csm.put(boot.hsm + "/Inventory/RedfishEndpoints/" + endpoint["ID"], json=endpoint, timeout=30).ok
    boot.csm_side.refresh_bss({NODE: mac})  # CSM's BSS serves from its own copy of HSM's state
    csm_before, openchami_before = boot.history("csm"), boot.history("openchami")
    record = boot.power_cycle(bmc)
    assert (record["dhcp"], record["xname"], record["outcome"]) == ("csm", NODE, "booted"), record
    csm_after = boot.wait_history("csm", csm_before)
    assert boot.history("openchami") == openchami_before

    # moved to OpenCHAMI: the MAC leaves HSM and is in SMD (with the BMC), BSS has boot parameters under the MAC
    mac_id = mac.replace(":", "")
    assert boot.csm.delete(boot.hsm + "/Inventory/EthernetInterfaces/" + mac_id, timeout=30).ok
    answer = boot.lab.api("smd", "POST", "/State/Components", json={"Components": [
        {"ID": NODE, "Type": "Node", "State": "Ready", "Role": "Compute", "NID": 1, "Enabled": True}]})
    assert answer.status_code in (200, 201, 204), answer.text
    answer = boot.lab.api("smd", "POST", "/Inventory/EthernetInterfaces", json={"MACAddress": mac, "ComponentID": NODE})
    assert answer.status_code == 201, answer.text
    answer = boot.lab.api("smd", "PUT", "/Inventory/RedfishEndpoints/" + endpoint["ID"], json=endpoint)
    assert answer.status_code == 200, answer.text
    answer = boot.lab.api("bss", "PUT", "/bootparameters", json=dict(KERNEL, macs=[mac]))
    assert answer.status_code == 200, answer.text
    record = boot.power_cycle(bmc)
    assert (record["dhcp"], record["xname"], record["outcome"]) == ("openchami", NODE, "booted"), record
    openchami_after = boot.wait_history("openchami", openchami_before)
    assert boot.history("csm") == csm_after

    # a node listed as failing fetches nothing: neither history moves
    boot.fail_file.write_text("# rollback test\n" + NODE + "\n", encoding="utf-8")
    record = boot.power_cycle(bmc)
    assert (record["dhcp"], record["xname"], record["outcome"], record["requests"]) == \
        ("openchami", NODE, "failed (listed)", []), record
    assert (boot.history("csm"), boot.history("openchami")) == (csm_after, openchami_after)


def test_endpoint_history_survives_a_bss_restart(lab):
    """BSS's endpoint-history still answers after BSS restarts (bss-init used to drop its table on a second run)."""
    lab.lab.restart("bss")
    answer = requests.get(lab.url("bss", "/endpoint-history"), params={"name": NODE, "endpoint": "bootscript"},
                          timeout=30)
    assert answer.status_code == 200, answer.text
