# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rolling migration CSM -> OpenCHAMI (role node_migration, playbooks/migrate_nodes.yml) end to end in the lab:
the CSM side (`lab up --csm`: Keycloak, real HSM and BSS, emulated BOS/CFS/SLS/IMS) and OpenCHAMI's real SMD and BSS.

One sequence on 16 compute nodes in waves [1, 5, 10], sharing one lab and one ledger, drained and resumed in the lab's
real Slurm (`lab up --slurm`) by the shipped hooks examples/migration_hooks/slurm_drain.yml and slurm_resume.yml:
check mode (both sides' dumps identical before and after) -> a run whose network hook SIGKILLs SMD in wave 2 ->
SMD restarted, the run re-run: it resumes, and the verify hook fails one node, which is rolled back to CSM exactly as
recorded -> a third run changes nothing. The role's own modules, cscs.openchami.migration_ledger and
cscs.openchami.node_ownership_info, run in every one of these runs (check mode included).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from lab import csm as labcsm
from lab import slurm as labslurm

import test_csm
from test_csm import dump as csm_dump, per_node

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO_ROOT / "playbooks" / "migrate_nodes.yml"
WAVES = [1, 5, 10]
HOOKS = REPO_ROOT / "examples" / "migration_hooks"
REASON = "cscs.openchami node_migration"  # the shipped hooks' default drain reason


def slurm_states(env) -> dict:
    """Slurm node name -> (state, reason), as ``sinfo`` prints them."""
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%N|%T|%E"], env=env, capture_output=True, text=True,
                         check=True).stdout
    return {name: (state, reason) for name, state, reason in (line.split("|", 2) for line in out.splitlines())}


def slurm_wait(env, condition) -> dict:
    """The Slurm states once ``condition(states)`` holds (slurmctld applies an update asynchronously)."""
    while True:
        states = slurm_states(env)
        if condition(states):
            return states
        time.sleep(0.2)


def openchami_dump(lab):
    """What OpenCHAMI holds: SMD components, interfaces, groups, partitions and BSS boot parameters (sorted)."""
    def get(service, path):
        response = lab.api(service, "GET", path)
        response.raise_for_status()
        return response.json()
    return {"components": sorted(get("smd", "/State/Components")["Components"], key=lambda c: c["ID"]),
            "interfaces": sorted(({k: v for k, v in i.items() if k != "LastUpdate"}
                                  for i in get("smd", "/Inventory/EthernetInterfaces")), key=lambda i: i["ID"]),
            "groups": sorted(get("smd", "/groups"), key=lambda g: g["label"]),
            "partitions": sorted(get("smd", "/partitions"), key=lambda p: p["name"]),
            "bss": sorted(get("bss", "/bootparameters") or [], key=lambda b: json.dumps(b, sort_keys=True))}


@pytest.fixture(scope="module")
def migration(lab, tmp_path_factory):
    """The CSM side up and reset, Slurm up with every node idle, OpenCHAMI's SMD and BSS empty, 16 compute nodes."""
    state = json.loads((lab.state / "lab.json").read_text(encoding="utf-8"))
    slurm_side = labslurm.SlurmSide(lab.lab)
    if not state.get("csm") or not labcsm.CsmSide(lab.lab).running() or not slurm_side.running() \
            or not slurm_side.registered():
        lab.lab.up(csm=True, slurm=True)
        state = json.loads((lab.state / "lab.json").read_text(encoding="utf-8"))
    info, slurm = state["csm"], state["slurm"]
    lab.env["SLURM_CONF"] = slurm["conf"]  # run_playbook passes lab.env to ansible-playbook: the hooks' scontrol/sinfo
    slurm_env = dict(os.environ, SLURM_CONF=slurm["conf"])
    all_slurm = ",".join(n["name"] for n in slurm["nodes"])
    subprocess.run(["scontrol", "update", "NodeName=" + all_slurm, "State=RESUME"], env=slurm_env, capture_output=True,
                   check=False)
    slurm_wait(slurm_env, lambda states: all(s == "idle" for s, _reason in states.values()))
    labcsm.CsmSide(lab.lab).reset()
    test_csm._LAB[:] = [lab]  # pylint: disable=protected-access  # its dump() imports the client from this checkout
    lab.clean_smd()
    lab.clean_bss()
    layout = [n for n in labcsm.csm_seed.generate(labcsm.nodes())["layout"] if n["role"] == "Compute"]
    assert len(layout) >= 16
    nodes = [n["xname"] for n in layout[:16]]
    work = tmp_path_factory.mktemp("migration")
    slurm_name = {n["xname"]: n["name"] for n in slurm["nodes"]}
    assert set(nodes) <= set(slurm_name)
    hooks = {"drain": HOOKS / "slurm_drain.yml", "resume": HOOKS / "slurm_resume.yml",
             "network": work / "network.yml", "verify": work / "verify.yml"}
    # the network hook (after the drain, before the power-on) writes what Slurm says of the batch's nodes, then
    # SIGKILLs SMD in the middle of wave 2 (more than one node) when the file `kill` exists (once)
    calls = work / "calls.jsonl"
    kill = work / "kill"
    smd_record = lab.state / "run" / "smd.json"
    hooks["network"].write_text(yaml.safe_dump([{
        "name": "network hook of the test: what Slurm says of the batch",
        "ansible.builtin.command": {"argv": ["sinfo", "-h", "-N", "-n", "{{ node_migration_hook_nodes | "
                                             "map(attribute='hostname') | join(',') }}", "-o", "%N|%T|%E"]},
        "register": "network_hook_sinfo", "changed_when": False}, {
        "name": "network hook of the test: write it",
        "ansible.builtin.lineinfile": {"path": str(calls), "create": True, "mode": "0600",
                                       "line": "{{ {'nodes': node_migration_hook_nodes, 'sinfo': "
                                               "network_hook_sinfo.stdout_lines} | to_json }}"}}, {
        "name": "network hook of the test: SIGKILL SMD once",
        "ansible.builtin.shell": f"if [ -e {kill} ]; then rm {kill}; kill -9 $(python3 -c \"import json; "
                                 f"print(json.load(open('{smd_record}'))['pid'])\"); fi",
        "changed_when": False, "when": "node_migration_hook_nodes | length > 1"}]))
    # the verify hook fails the node named in the file `bad`
    bad = work / "bad"
    hooks["verify"].write_text(yaml.safe_dump([{
        "name": "verify hook of the test: fail the node named in a file",
        "ansible.builtin.set_fact": {"node_migration_verify_failures": "{{ dict(node_migration_hook_nodes "
                                     "| map(attribute='xname') | select('in', (lookup('ansible.builtin.file', '%s', "
                                     "errors='ignore') or '').split()) | zip_longest([], fillvalue='verify: the test "
                                     "says this node did not boot'))  }}" % bad}}]))
    extravars = {"csm_api_url": info["api_url"], "csm_client_secret_file": info["client_secret_file"],
                 "node_migration_nodes": nodes, "node_migration_waves": WAVES,
                 "node_migration_boot_template": "compute-23.7",
                 "node_migration_artifact_rewrite": [{"prefix": "s3://", "replacement": info["s3_url"]}],
                 "node_migration_cloud_init_groups": ["migrated"], "node_migration_boot_backend": "bss",
                 "node_migration_power_state": "none",
                 "node_migration_max_fail_percentage": 20,
                 "node_migration_ledger_dir": str(work / "ledger"),
                 "node_migration_operator": "tester",
                 "node_migration_drain_tasks": str(hooks["drain"]), "node_migration_resume_tasks": str(hooks["resume"]),
                 "node_migration_network_tasks": str(hooks["network"]),
                 "node_migration_verify_tasks": str(hooks["verify"])}
    yield {"lab": lab, "info": info, "nodes": nodes, "layout": layout[:16], "layout_all": layout, "vars": extravars,
           "work": work,
           "kill": kill, "bad": bad, "calls": calls, "slurm_env": slurm_env, "slurm_name": slurm_name}
    labcsm.CsmSide(lab.lab).reset()
    subprocess.run(["scontrol", "update", "NodeName=" + all_slurm, "State=RESUME"], env=slurm_env, capture_output=True,
                   check=False)


def run(migration, check=False, **extra):
    result = migration["lab"].run_playbook(PLAYBOOK, dict(migration["vars"], **extra), check=check, timeout=1200)
    return result, result.stdout + result.stderr


def records(migration):
    directory = migration["work"] / "ledger" / "nodes"
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def recap_changed(output):
    line = next(line for line in output.splitlines() if line.startswith("localhost"))
    return int(line.split("changed=")[1].split()[0])


def test_check_mode_shows_the_plan_and_changes_nothing(migration):
    lab, info = migration["lab"], migration["info"]
    before = (csm_dump(info), openchami_dump(lab))
    result, output = run(migration, check=True)
    assert result.returncode == 0, output[-4000:]
    assert "[1, 5, 10] nodes per wave" in output
    for node in migration["nodes"]:
        assert node in output
    assert (csm_dump(info), openchami_dump(lab)) == before
    assert not (migration["work"] / "ledger" / "nodes").exists() or not records(migration)


def test_migration_interrupted_by_smd_kill_resumes_rolls_back_a_bad_node_and_is_idempotent(migration):
    lab, info, nodes = migration["lab"], migration["info"], migration["nodes"]
    csm_before = csm_dump(info)

    # run 1: SMD is SIGKILLed by the network hook of wave 2: the wave cannot finish nor roll back
    migration["kill"].write_text("")
    try:
        result, output = run(migration)
    finally:
        lab.lab.restart("smd")
    assert result.returncode != 0, output[-4000:]
    assert "interrupted: a rollback could not finish; re-run to resume" in output, output[-4000:]
    assert not migration["kill"].exists()
    first = records(migration)
    assert first[nodes[0]]["outcome"] == "migrated"
    assert {first[n]["outcome"] for n in nodes[1:6]} == {"running"}
    assert not any(n in first for n in nodes[6:])  # wave 3 was never started
    # in Slurm: the canary is resumed, wave 2 is still drained by the migration, wave 3 was never touched
    sname, env = migration["slurm_name"], migration["slurm_env"]
    states = slurm_wait(env, lambda s: s[sname[nodes[0]]][0] == "idle")
    assert {n: states[sname[n]] for n in nodes[1:6]} == {n: ("drained", REASON) for n in nodes[1:6]}
    assert {n: states[sname[n]] for n in nodes[6:]} == {n: ("idle", "none") for n in nodes[6:]}

    # run 2: resumes wave 2's nodes first, then the rest; node 9 fails its verify step and is rolled back
    bad = nodes[9]
    migration["bad"].write_text(bad)
    result, output = run(migration)
    assert result.returncode != 0, output[-4000:]
    assert f"1 node(s) not migrated: {bad}: verify: the test says this node did not boot" in output, output[-4000:]
    ledger = records(migration)
    assert {n: r["outcome"] for n, r in ledger.items()} == {n: ("rolled_back" if n == bad else "migrated") for n in nodes}
    resumed = [h["step"] for h in ledger[nodes[1]]["history"]]
    assert "rollback" in resumed and resumed[-1] == "done"
    assert ledger[bad]["error"] == "verify: the test says this node did not boot"
    assert ledger[bad]["after"]["owner"] == "csm"
    for name in nodes:
        record = ledger[name]
        assert record["operator"] == "tester" and record["before"]["csm"]["bos_enabled"] is True
        assert [h["step"] for h in record["history"]][0] == "preflight"

    # OpenCHAMI has the 15 migrated nodes, with MACs, boot configuration and groups; CSM none of theirs
    migrated = [n for n in nodes if n != bad]
    after = openchami_dump(lab)
    assert sorted(c["ID"] for c in after["components"] if c["Type"] == "Node") == sorted(migrated)
    hsm_macs = {i["ComponentID"]: i["MACAddress"] for i in csm_before["hsm_interfaces"]}
    assert {i["ComponentID"]: i["MACAddress"] for i in after["interfaces"] if i["ComponentID"] in nodes} == \
        {n: hsm_macs[n] for n in migrated}
    # the migration's boot parameters (other test files leave entries of their own, some keyed by MAC)
    ours = [b for b in after["bss"] if set(b.get("hosts") or []) & set(nodes)]
    booted = sorted(h for b in ours for h in b["hosts"])
    assert booted == sorted(migrated)
    assert ours and all(b["kernel"].startswith(info["s3_url"]) for b in ours)
    # ... stored under their MACs too (what bootscript?mac= reads); the rolled back node's MAC has none
    bare = dict((re.sub("[^0-9a-f]", "", hsm_macs[n].lower()), n) for n in nodes)
    by_mac = sorted(bare[key] for key in (re.sub("[^0-9a-f]", "", m.lower()) for b in after["bss"]
                                          for m in b.get("macs") or []) if key in bare)
    assert by_mac == sorted(migrated)
    groups = {g["label"]: sorted(g["members"]["ids"]) for g in after["groups"]}
    assert groups["migrated"] == sorted(migrated) and groups["compute"] == sorted(migrated)
    csm_after = csm_dump(info)
    assert not [i for i in csm_after["hsm_interfaces"] if i.get("ComponentID") in migrated
                or i["MACAddress"] in {hsm_macs[n] for n in migrated}]
    assert not [c for c in csm_after["bos_components"] if c["id"] in migrated and c["enabled"]]
    assert not [c for c in csm_after["cfs_components"] if c["id"] in migrated and c["enabled"]]
    # the rolled back node is under CSM exactly as before, and not in OpenCHAMI
    assert per_node(csm_after, bad) == per_node(csm_before, bad)
    assert bad not in booted and bad not in json.dumps(after["interfaces"])

    # every node was drained in Slurm when it left CSM (what Slurm said at the network hook, after the drain) ...
    calls = [json.loads(line) for line in migration["calls"].read_text().splitlines()]
    assert all(set(n) == {"xname", "nid", "hostname"} for c in calls for n in c["nodes"])
    by_xname = {n["xname"]: n for n in migration["layout"]}
    assert all(n["nid"] == by_xname[n["xname"]]["nid"] and n["hostname"] == sname[n["xname"]] for c in calls
               for n in c["nodes"])
    seen = {}
    for call in calls:
        seen.update((line.split("|")[0], tuple(line.split("|")[1:])) for line in call["sinfo"])
    assert seen == {sname[n]: ("drained", REASON) for n in nodes}
    # ... and is resumed (idle) in Slurm now, the rolled back one too, back in CSM
    states = slurm_wait(env, lambda s: all(s[sname[n]][0] == "idle" for n in nodes))
    assert {n: states[sname[n]] for n in nodes} == {n: ("idle", "none") for n in nodes}

    # the run's report: JSON, Markdown and a self-contained HTML page
    reports = sorted((migration["work"] / "ledger" / "runs").glob("*.json"))
    report = json.loads(reports[-1].read_text())  # run 2: the canary was migrated by run 1
    assert report["counts"]["rolled_back"] == 1 and report["counts"]["migrated"] == 14
    assert report["skipped"] == {nodes[0]: "migrated"}
    page = reports[-1].with_suffix(".html").read_text()
    assert "<svg" in page and bad in page and "did not boot" in page and "<script" not in page

    # run 3: nothing to do, nothing changes on either side
    both = (csm_dump(info), openchami_dump(lab))
    result, output = run(migration)
    assert result.returncode == 0, output[-4000:]
    assert recap_changed(output) == 0
    assert (csm_dump(info), openchami_dump(lab)) == both


def test_second_run_at_once_is_refused(migration):
    """A lock held by a living run (this test's own process stands for it) refuses a second run, naming it."""
    ledger = migration["work"] / "ledger"
    lock = {"run_id": "other-run", "operator": "someone", "host": os.uname().nodename, "pid": os.getpid(),
            "pid_start": Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19],
            "started": "2026-01-01T00:00:00.000000Z"}
    (ledger / "lock.json").write_text(json.dumps(lock))
    try:
        both = (csm_dump(migration["info"]), openchami_dump(migration["lab"]))
        result, output = run(migration, node_migration_nodes=migration["nodes"][:1])
        assert result.returncode != 0
        assert "locked by run other-run (operator someone, pid %d" % os.getpid() in output
        assert (csm_dump(migration["info"]), openchami_dump(migration["lab"])) == both
    finally:
        (ledger / "lock.json").unlink()


# ------------------------------------------------------------------------- with power: the lab's BMCs play 3 nodes
# Three compute nodes outside the 16 above, each with a BMC of its own, are played by the lab's sushy BMCs 1-3 and
# boot through the node-boot simulator (`lab up --nodeboot`): powered on, a node asks DHCP (the side whose SMD/HSM
# holds its MAC) and fetches its boot script from that side's BSS, which records it in its endpoint-history.
POWERED = 3


class Played:
    """CSM's HSM and OpenCHAMI's SMD set up so that lab BMC i+1 plays node i (test_migration_lab does it for one)."""

    def __init__(self, migration):
        self.lab, self.info = migration["lab"], migration["info"]
        self.csm = requests.Session()
        self.csm.headers["Authorization"] = "Bearer " + labcsm.CsmSide(self.lab.lab).token()
        self.hsm = self.info["api_url"] + "/smd/hsm/v2"

    def endpoint(self, node, bmc):
        return {"ID": node[:node.rindex("n")], "FQDN": bmc["ip"], "User": self.lab.env["LAB_BMC_USER"],
                "Password": self.lab.env["LAB_BMC_PASSWORD"], "SchemaVersion": 1, "Managers": [],
                "Systems": [{"uri": "/redfish/v1/Systems/" + bmc["system_uuid"], "uuid": bmc["system_uuid"],
                             "name": node, "ethernet_interfaces": [],
                             "actions": ["On", "ForceOff", "ForceRestart", "GracefulShutdown", "GracefulRestart"]}]}

    def play(self, node, bmc):
        """In CSM's HSM the node's MAC becomes the BMC's and its BMC is registered; OpenCHAMI's SMD knows the BMC."""
        for item in self.csm.get(self.hsm + "/Inventory/EthernetInterfaces", params={"ComponentID": node},
                                 timeout=30).json():
            assert self.csm.delete(self.hsm + "/Inventory/EthernetInterfaces/" + item["ID"], timeout=30).ok
        answer = self.csm.post(self.hsm + "/Inventory/EthernetInterfaces",
                               json={"MACAddress": bmc["macs"][0], "ComponentID": node}, timeout=30)
        assert answer.ok, answer.text
        endpoint = self.endpoint(node, bmc)
        assert self.csm.put(self.hsm + "/Inventory/RedfishEndpoints/" + endpoint["ID"], json=endpoint, timeout=30).ok
        answer = self.lab.api("smd", "PUT", "/Inventory/RedfishEndpoints/" + endpoint["ID"], json=endpoint)
        assert answer.status_code == 200, answer.text

    def history(self, side, node):
        """The latest ``last_epoch`` of ``node``'s boot script on one side's BSS (0: never)."""
        url = self.lab.url("bss") if side == "openchami" else self.info["bss_url"] + "/boot/v1"
        answer = requests.get(url + "/endpoint-history", params={"name": node, "endpoint": "bootscript"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return max([0] + [item["last_epoch"] for item in answer.json() or []])


@pytest.fixture(scope="module")
def powered(migration):
    """The node-boot simulator up; three nodes played by BMCs 1-3, powered off; the fail file empty."""
    lab = migration["lab"]
    lab.lab.up(csm=True, slurm=True, nodeboot=True)  # idempotent; (re)starts nodeboot and the BMCs' notifications
    state = json.loads((lab.state / "lab.json").read_text(encoding="utf-8"))
    bmcs = [b for b in state["bmcs"] if b["kind"] == "bmc"][:POWERED]
    assert len(bmcs) == POWERED, state["bmcs"]
    taken = {n[:n.rindex("n")] for n in migration["nodes"]}
    nodes = []
    for item in migration["layout_all"]:
        bmc_name = item["xname"][:item["xname"].rindex("n")]
        if bmc_name not in taken and item["xname"] not in migration["nodes"]:
            taken.add(bmc_name)
            nodes.append(item["xname"])
    nodes = nodes[:POWERED]
    played = Played(migration)
    for node, bmc in zip(nodes, bmcs):
        played.play(node, bmc)
    # CSM's BSS serves from its own copy of HSM's state: the nodes' first boots must not find their old MACs there
    labcsm.CsmSide(lab.lab).refresh_bss(dict((node, bmc["macs"][0]) for node, bmc in zip(nodes, bmcs)))
    fail_file = Path(state["nodeboot"]["fail_file"])
    fail_file.write_text("", encoding="utf-8")
    # the nodes run under CSM, as nodes to be migrated do: powered on at their BMCs, booted from CSM's BSS
    boots_file = Path(state["nodeboot"]["boots_file"])
    seen = len(boots_file.read_text().splitlines()) if boots_file.exists() else 0
    for bmc in bmcs:
        system = f"{bmc['url']}/redfish/v1/Systems/{bmc['system_uuid']}"
        access = {"timeout": 30, "verify": lab.env["LAB_BMC_CA_BUNDLE"],
                  "auth": (lab.env["LAB_BMC_USER"], lab.env["LAB_BMC_PASSWORD"])}
        power = requests.get(system, **access).json()["PowerState"]
        answer = requests.post(system + "/Actions/ComputerSystem.Reset",
                               json={"ResetType": "ForceRestart" if power == "On" else "On"}, **access)
        assert answer.status_code in (200, 202, 204), answer.text
    while True:  # each BMC applies the power-on 1 to 11 s later (sushy), then the node boots
        booted = {json.loads(line)["xname"]: json.loads(line) for line in boots_file.read_text().splitlines()[seen:]} \
            if boots_file.exists() else {}
        if set(nodes) <= set(booted):
            break
        time.sleep(0.2)
    assert {n: (booted[n]["dhcp"], booted[n]["outcome"]) for n in nodes} == {n: ("csm", "booted") for n in nodes}
    yield {"nodes": nodes, "bmcs": bmcs, "played": played, "fail_file": fail_file, "boots_file": boots_file}
    fail_file.write_text("", encoding="utf-8")


def test_power_cycle_boot_check_health_command_and_rollback_back_into_csm(migration, powered):
    """One wave of three nodes played by lab BMCs, power cycled through PCS (lab/pcs.py): the first boots from
    OpenCHAMI's BSS and is migrated; the second cannot boot OpenCHAMI's image (the fail file lists it for that side):
    it fetches nothing, fails its verify step and is rolled back, power cycled back and boots from CSM's BSS again;
    the third boots but the health command finds it unhealthy: rolled back the same way."""
    lab, info, played = migration["lab"], migration["info"], powered["played"]
    good, unbootable, unhealthy = nodes = powered["nodes"]
    powered["fail_file"].write_text(f"# the test: cannot boot OpenCHAMI's image\n{unbootable} openchami\n",
                                    encoding="utf-8")
    work = migration["work"]
    health_seen = work / "health-stdin.json"
    health = work / "health.py"
    health.write_text("import json, sys\n"
                      f"nodes = json.load(sys.stdin)\nopen({str(health_seen)!r}, 'w').write(json.dumps(nodes))\n"
                      f"print(json.dumps({{n['xname']: 'the test says its GPU is missing' for n in nodes "
                      f"if n['xname'] == {unhealthy!r}}}))\n", encoding="utf-8")
    csm_before = csm_dump(info)
    history_before = {n: {side: played.history(side, n) for side in ("csm", "openchami")} for n in nodes}
    boots_seen = len(powered["boots_file"].read_text().splitlines()) if powered["boots_file"].exists() else 0
    pcs_before = {t["transitionID"] for t in lab.api("pcs", "GET", "/transitions").json()["transitions"]}

    result, output = run(migration, node_migration_nodes=nodes, node_migration_waves=[POWERED],
                         node_migration_power_state="hard-restart", node_migration_boot_timeout=20,
                         node_migration_health_command=[sys.executable, str(health)],
                         node_migration_network_tasks="", node_migration_verify_tasks="",
                         node_migration_ledger_dir=str(work / "ledger-powered"))
    assert result.returncode != 0, output[-4000:]
    assert (f"2 node(s) not migrated (stopped: more than 20% failed): {unbootable}: verify: did not fetch its boot "
            "script from OpenCHAMI's BSS "
            f"within 20 s of the power cycle; {unhealthy}: health: the test says its GPU is missing") in output, \
        output[-4000:]

    # one transition of PCS for the batch, one for the rollback of the two
    transitions = [t for t in lab.api("pcs", "GET", "/transitions").json()["transitions"]
                   if t["transitionID"] not in pcs_before]
    assert len(transitions) == 2, transitions
    # the health command ran once, for the two nodes that had booted from OpenCHAMI
    assert sorted(n["xname"] for n in json.loads(health_seen.read_text())) == sorted([good, unhealthy])

    # what the nodes did (the simulator's log) and what both BSSes recorded
    boots = [json.loads(line) for line in powered["boots_file"].read_text().splitlines()[boots_seen:]]
    by_node = {n: [(b["dhcp"], b["outcome"]) for b in boots if b["xname"] == n] for n in nodes}
    assert by_node[good] == [("openchami", "booted")], boots
    assert by_node[unbootable] == [("openchami", "failed (listed)"), ("csm", "booted")], boots
    assert by_node[unhealthy] == [("openchami", "booted"), ("csm", "booted")], boots
    after = {n: {side: played.history(side, n) for side in ("csm", "openchami")} for n in nodes}
    assert after[good]["openchami"] > history_before[good]["openchami"]
    assert after[good]["csm"] == history_before[good]["csm"]
    assert after[unbootable]["openchami"] == history_before[unbootable]["openchami"]
    assert after[unbootable]["csm"] > history_before[unbootable]["csm"]
    assert after[unhealthy]["csm"] > after[unhealthy]["openchami"] > history_before[unhealthy]["openchami"]

    # the ledger: what failed, what was restored, which BSS served each node
    ledger = {p.stem: json.loads(p.read_text()) for p in (work / "ledger-powered" / "nodes").glob("*.json")}
    assert {n: r["outcome"] for n, r in ledger.items()} == \
        {good: "migrated", unbootable: "rolled_back", unhealthy: "rolled_back"}
    assert ledger[good]["before"]["boot_before"] == history_before[good]
    assert ledger[good]["after"]["openchami"]["last_boot"] == after[good]["openchami"]
    assert "power_cycled" in [h["step"] for h in ledger[good]["history"]]
    mac = dict(zip(nodes, (b["macs"][0] for b in powered["bmcs"])))
    for node in (unbootable, unhealthy):
        record = ledger[node]
        assert record["after"]["owner"] == "csm"
        assert record["after"]["csm"]["last_boot"] == after[node]["csm"]
        assert record["after"]["csm"]["macs"] == [mac[node]]
        assert record["after"]["openchami"] == {"boot_config": False, "macs": [],
                                                "last_boot": after[node]["openchami"]}
    assert ledger[unbootable]["error"].startswith("verify: did not fetch its boot script from OpenCHAMI's BSS")
    assert ledger[unhealthy]["error"] == "health: the test says its GPU is missing"

    # CSM: the good node released, the two others exactly as before; OpenCHAMI: only the good node's entries
    csm_after = csm_dump(info)
    for node in (unbootable, unhealthy):
        assert per_node(csm_after, node) == per_node(csm_before, node)
    assert not per_node(csm_after, good)["interfaces"]
    oc = openchami_dump(lab)
    assert [c["ID"] for c in oc["components"] if c["ID"] in nodes] == [good]
    assert [i["ComponentID"] for i in oc["interfaces"] if i["ComponentID"] in nodes] == [good]
    assert sorted(h for b in oc["bss"] for h in b.get("hosts") or [] if h in nodes) == [good]
    # Slurm: all three resumed (the two rolled back ones too, back under CSM)
    sname = migration["slurm_name"]
    states = slurm_wait(migration["slurm_env"], lambda s: all(s[sname[n]][0] == "idle" for n in nodes))
    assert {n: states[sname[n]] for n in nodes} == {n: ("idle", "none") for n in nodes}
