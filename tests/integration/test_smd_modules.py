# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SMD modules against the real SMD of the lab (JWT auth on), through real ansible-playbook runs."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
from pathlib import Path

import pytest
import yaml

from conftest import show_task, shown  # pylint: disable=import-error
from killing_proxy import KillingProxy
from lab import postgres, runtime

# SMD's access log: one line per request; only ours count (cloud-init and BSS poll SMD too)
ACCESS_LINE = re.compile(rb'^\S+ - - \[[^\]]+\] "[A-Z]+ .*"cscs\.openchami"\s*$')

NODES = [
    {"ID": "x1000c0s0b0n0", "State": "Ready", "Role": "Compute", "NID": 1, "Arch": "X86"},
    {"ID": "x1000c0s0b0n1", "State": "Ready", "Role": "Compute", "NID": 2, "Arch": "X86"},
    {"ID": "x1000c0s1b0n0", "State": "Ready", "Role": "Compute", "NID": 3, "Arch": "X86"},
]


def dump(lab):
    """Everything SMD holds, as one comparable structure."""
    return {
        "components": lab.api("smd", "GET", "/State/Components").json()["Components"],
        "interfaces": lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json(),
        "groups": lab.api("smd", "GET", "/groups").json(),
        "partitions": lab.api("smd", "GET", "/partitions").json(),
        "endpoints": lab.api("smd", "GET", "/Inventory/RedfishEndpoints").json()["RedfishEndpoints"],
    }


def run_task(lab, module, args, check=False, diff=False, env=None):
    """Run one task of ``module`` with real ansible-playbook; return its registered result and the process."""
    playbook = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "under test", "cscs.openchami." + module: args, "register": "out", "ignore_errors": True,
         "check_mode": check, "diff": diff},
        show_task("out"),
    ]}]
    saved = dict(lab.env)
    lab.env.update(env or {})
    try:
        proc = lab.run_playbook(playbook, args=["-v"])
    finally:
        lab.env.clear()
        lab.env.update(saved)
    result = shown(proc.stdout)
    assert proc.returncode == 0 and result is not None, proc.stdout[-3000:] + proc.stderr[-2000:]
    return result, proc


def task(lab, module, args, **kwargs):
    """The registered result of one task of ``module``."""
    return run_task(lab, module, args, **kwargs)[0]


def smd_requests(lab):
    """Requests SMD has served so far, counted from its access log."""
    with open(runtime.log_file(lab.state, "smd"), "rb") as handle:
        return sum(1 for line in handle if ACCESS_LINE.match(line))


def components_by_id(lab):
    return dict((c["ID"], c) for c in lab.api("smd", "GET", "/State/Components").json()["Components"])


def test_component_lifecycle(lab, clean_smd):
    out = task(lab, "smd_component", {"components": NODES})
    assert out["changed"] and out["summary"]["create"] == 3
    stored = components_by_id(lab)
    assert stored["x1000c0s1b0n0"]["NID"] == 3 and stored["x1000c0s1b0n0"]["State"] == "Ready"

    out = task(lab, "smd_component", {"components": NODES})
    assert out["changed"] is False and out["summary"]["unchanged"] == 3

    # one field of one node; Arch (not given) stays; xname in odd case and leading zeros
    change = {"ID": "X1000C00S0B0N01", "Role": "Service", "SubRole": "Worker", "Enabled": False}
    out = task(lab, "smd_component", {"components": [change]}, diff=True)
    assert out["changed"] and out["summary"]["update"] == 1
    assert out["diff"]["before"]["x1000c0s0b0n1"]["Role"] == "Compute"
    assert out["diff"]["after"]["x1000c0s0b0n1"] == {"Role": "Service", "SubRole": "Worker", "Enabled": False}
    node = components_by_id(lab)["x1000c0s0b0n1"]
    assert (node["Role"], node["SubRole"], node["Enabled"], node["Arch"], node["NID"]) == ("Service", "Worker", False, "X86", 2)

    out = task(lab, "smd_component", {"components": [{"ID": "x1000c0s0b0n1"}], "state": "absent"})
    assert out["changed"]
    assert "x1000c0s0b0n1" not in components_by_id(lab)
    out = task(lab, "smd_component", {"components": [{"ID": "x1000c0s0b0n1"}], "state": "absent"})
    assert out["changed"] is False


def test_component_check_mode_writes_nothing(lab, clean_smd):
    task(lab, "smd_component", {"components": NODES[:1]})
    before = dump(lab)
    out = task(lab, "smd_component", {"components": NODES[1:] + [dict(NODES[0], State="Off")]}, check=True, diff=True)
    assert out["changed"] and out["summary"] == {"create": 2, "update": 1, "delete": 0, "unchanged": 0}
    assert out["diff"]["after"]["x1000c0s0b0n0"] == {"State": "Off"}
    assert dump(lab) == before


def test_component_snake_case_options_and_smd_names_do_the_same_in_check_mode_and_for_real(lab, clean_smd):
    """Options are snake_case, SMD's names aliases; check mode returns the components a real run returns (the
    State SMD gives a new component included: it used to be added only in the real run)."""
    snake = {"components": [{"id": "x1000c0s0b0n5", "role": "Service", "sub_role": "Worker", "nid": 55}]}
    camel = {"components": [{"ID": "x1000c0s0b0n5", "Role": "Service", "SubRole": "Worker", "NID": 55}]}
    checked_snake = task(lab, "smd_component", snake, check=True)
    checked_camel = task(lab, "smd_component", camel, check=True)
    real = task(lab, "smd_component", snake)
    expected = [{"ID": "x1000c0s0b0n5", "Role": "Service", "SubRole": "Worker", "NID": 55, "State": "Empty"}]
    assert checked_snake["components"] == checked_camel["components"] == real["components"] == expected
    assert components_by_id(lab)["x1000c0s0b0n5"]["State"] == "Empty"
    assert task(lab, "smd_component", camel)["changed"] is False


def test_bulk_update_is_a_few_requests(lab, clean_smd):
    nodes = [{"ID": "x1001c%ds%db%dn%d" % (c, s, b, n), "State": "Ready", "NID": 100 + i}
             for i, (c, s, b, n) in enumerate((c, s, b, n) for c in range(8) for s in range(8) for b in range(2) for n in range(2))]
    task(lab, "smd_component", {"components": nodes})
    served = smd_requests(lab)
    out = task(lab, "smd_component", {"components": [{"ID": n["ID"], "Enabled": False, "State": "Off"} for n in nodes]})
    assert out["summary"]["update"] == 256
    # one GET, one BulkStateData, one BulkEnabled
    assert smd_requests(lab) - served == 3
    assert all(not c["Enabled"] and c["State"] == "Off" for c in components_by_id(lab).values())


@pytest.mark.parametrize("bad,message", [
    ({"ID": "x1000c9s0b0n0"}, "component x1000c9s0b0n0: id: invalid xname 'x1000c9s0b0n0'"),
    ({"ID": "x1000c0s0b0n0", "State": "Running"}, "component x1000c0s0b0n0: state: 'Running' is not one of"),
    ({"ID": "x1000c0s0b0n0", "NID": -4}, "component x1000c0s0b0n0: nid: must not be negative, got -4"),
    # what YAML makes of an unquoted State: Off
    ({"ID": "x1000c0s0b0n0", "State": False}, "quote the value, for example state: 'Off'"),
    ({"ID": "x1000c0s0b0n0", "SubRole": "UAN"},
     "component x1000c0s0b0n0: sub_role: 'UAN' is not one this SMD accepts (Master, Storage, Worker)"),
    ({"ID": "x1000c0s0b0n0", "Arch": "x86_64"}, "component x1000c0s0b0n0: arch: 'x86_64' is not one this SMD"),
])
def test_component_bad_input_changes_nothing(lab, clean_smd, bad, message):
    before = dump(lab)
    out = task(lab, "smd_component", {"components": [NODES[0], bad]})
    assert out["failed"] and message in out["msg"] and "nothing was changed" in out["msg"]
    assert dump(lab) == before


def test_component_update_smd_would_refuse_changes_nothing(lab, clean_smd):
    """State and SubRole of an existing node: SMD took the state, then refused the sub-role (a partial write)."""
    task(lab, "smd_component", {"components": NODES})
    before = dump(lab)
    out = task(lab, "smd_component", {"components": [{"ID": "x1000c0s0b0n0", "State": "Off", "SubRole": "UAN"}]})
    assert out["failed"] and out["changed"] is False and "component x1000c0s0b0n0: sub_role: 'UAN'" in out["msg"]
    assert dump(lab) == before


def test_component_doc_values_are_accepted_by_smd(lab):
    """Every value the smd_component docs give for a field SMD restricts is one the lab's SMD accepts."""
    source = (Path(__file__).parents[2] / "plugins" / "modules" / "smd_component.py").read_text()
    docs = next(node.value.value for node in ast.parse(source).body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION")
    options = yaml.safe_load(docs)["options"]["components"]["suboptions"]
    accepted = lab.api("smd", "GET", "/service/values").json()
    checked = 0
    for option, field in (("state", "State"), ("flag", "Flag"), ("role", "Role"), ("sub_role", "SubRole"),
                          ("net_type", "NetType"), ("arch", "Arch"), ("class", "Class")):
        text = " ".join(options[option]["description"]) if isinstance(options[option]["description"], list) \
            else options[option]["description"]
        for value in re.findall(r"(?<!R)V\(([^)]+)\)", text):  # V(value), not RV(return value)
            assert value in accepted[field], (field, value, accepted[field])
            checked += 1
    assert checked >= 20


def test_component_info_filters(lab, clean_smd):
    service = {"ID": "x1000c0s2b0n0", "State": "Off", "Role": "Service", "NID": 50}
    task(lab, "smd_component", {"components": NODES + [service]})
    out = task(lab, "smd_component_info", {"role": ["Compute"], "type": ["Node"]})
    assert [c["ID"] for c in out["components"]] == ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s1b0n0"]
    out = task(lab, "smd_component_info", {"nid_ranges": ["2-3", "50"]})
    assert [c["NID"] for c in out["components"]] == [2, 3, 50]
    out = task(lab, "smd_component_info", {"nid_ranges": ["9-1"]})
    assert out["failed"] and "nid_ranges[0]: '9-1' is not a NID" in out["msg"]


def test_groups_and_partitions(lab, clean_smd):
    task(lab, "smd_component", {"components": NODES})
    groups = [{"label": "compute", "description": "all", "tags": ["alps"], "members": [n["ID"] for n in NODES]},
              {"label": "canary", "members": ["x1000c0s0b0n0"], "exclusive_group": "waves"}]
    out = task(lab, "smd_group", {"groups": groups})
    assert out["summary"]["create"] == 2
    out = task(lab, "smd_group", {"groups": [dict(groups[0], members=list(reversed(groups[0]["members"])))]})
    assert out["changed"] is False
    out = task(lab, "smd_group", {"groups": [{"label": "compute", "members": ["X1000C0S0B0N0"]}], "members_mode": "remove"},
               diff=True)
    assert out["changed"]
    stored = dict((g["label"], g) for g in lab.api("smd", "GET", "/groups").json())
    assert sorted(stored["compute"]["members"]["ids"]) == ["x1000c0s0b0n1", "x1000c0s1b0n0"]
    assert stored["compute"]["description"] == "all"            # not given above: kept
    out = task(lab, "smd_group", {"groups": [{"label": "canary", "members": ["x1000c0s0b0n1"]}], "members_mode": "add"})
    assert sorted(dict((g["label"], g) for g in lab.api("smd", "GET", "/groups").json())["canary"]["members"]["ids"]) == [
        "x1000c0s0b0n0", "x1000c0s0b0n1"]
    # exclusive group cannot change: rejected before any write
    before = dump(lab)
    out = task(lab, "smd_group", {"groups": [{"label": "canary", "exclusive_group": "other"}]})
    assert out["failed"] and "group canary: exclusive_group: cannot be changed for an existing group" in out["msg"]
    assert dump(lab) == before

    out = task(lab, "smd_partition", {"partitions": [{"name": "p1", "members": ["x1000c0s0b0n0", "x1000c0s0b0n1"]}]})
    assert out["changed"]
    out = task(lab, "smd_partition", {"partitions": [{"name": "p1", "members": ["x1000c0s0b0n1", "x1000c0s1b0n0"]}]})
    assert out["changed"]
    out = task(lab, "smd_group_info", {"memberships": True})
    assert [p["members"] for p in out["partitions"]] == [["x1000c0s0b0n1", "x1000c0s1b0n0"]]
    member = dict((m["id"], m) for m in out["memberships"])["x1000c0s0b0n1"]
    assert sorted(member["groupLabels"]) == ["canary", "compute"] and member["partitionName"] == "p1"
    out = task(lab, "smd_group", {"groups": [{"label": "canary"}], "state": "absent"})
    assert out["changed"] and "canary" not in [g["label"] for g in lab.api("smd", "GET", "/groups").json()]


@pytest.mark.parametrize("module,key,names", [("smd_group", "label", ("compute", "ghosts", "spooks")),
                                              ("smd_partition", "name", ("p1", "p2", "p3"))])
def test_unknown_members_are_found_before_any_write(lab, clean_smd, module, key, names):
    """Two sets with unknown members after a good one: nothing is written, each bad set and member is named."""
    task(lab, "smd_component", {"components": NODES})
    param = module.split("_")[1] + "s"
    noun = module.split("_")[1]
    good = {key: names[0], "members": [n["ID"] for n in NODES]}
    bad = [{key: names[1], "members": ["x1000c0s0b0n0", "x9c0s0b0n0", "x9c0s0b0n1"]},
           {key: names[2], "members": ["x9c0s1b0n0"]}]
    before = dump(lab)
    out = task(lab, module, {param: [good] + bad})
    assert out["failed"] and out["changed"] is False
    assert "nothing was changed" in out["msg"]
    assert "%s %s: unknown member(s) x9c0s0b0n0, x9c0s0b0n1" % (noun, names[1]) in out["msg"]
    assert "%s %s: unknown member(s) x9c0s1b0n0" % (noun, names[2]) in out["msg"]
    assert "x1000c0s0b0n0" not in out["msg"]
    assert dump(lab) == before

    # an existing set, members_mode add with an unknown member (SMD answered HTTP 500 on its PUT)
    task(lab, module, {param: [good]})
    before = dump(lab)
    out = task(lab, module, {param: [{key: names[0], "members": ["x9c0s0b0n0"]}], "members_mode": "add"})
    assert out["failed"] and out["changed"] is False
    assert "%s %s: unknown member(s) x9c0s0b0n0" % (noun, names[0]) in out["msg"]
    assert dump(lab) == before


@pytest.mark.parametrize("name", ["pA", "partition1", "p1.x", "1"])
def test_partition_names_smd_refuses_are_refused_first(lab, clean_smd, name):
    task(lab, "smd_component", {"components": NODES})
    before = dump(lab)
    partitions = [{"name": "p7", "members": ["x1000c0s0b0n0"]}, {"name": name, "members": ["x1000c0s0b0n1"]}]
    out = task(lab, "smd_partition", {"partitions": partitions})
    assert out["failed"] and ("partition %s: name: %r" % (name, name)) in out["msg"] in out["msg"] and "p<number>" in out["msg"]
    assert dump(lab) == before


def test_partition_name_with_subpartition(lab, clean_smd):
    task(lab, "smd_component", {"components": NODES})
    out = task(lab, "smd_partition", {"partitions": [{"name": "P2.1", "members": ["x1000c0s0b0n0"]}]})
    assert out["changed"], out.get("msg")
    assert [p["name"] for p in lab.api("smd", "GET", "/partitions").json()] == ["p2.1"]


def test_member_diff_is_capped(lab, clean_smd):
    """A group of 400 nodes gaining 150 and losing 150 in check mode: the diff shows what changes, bounded."""
    nodes = [{"ID": "x1003c%ds%db0n%d" % (i // 128, (i // 2) % 64, i % 2), "State": "Ready"} for i in range(550)]
    task(lab, "smd_component", {"components": nodes})
    ids = [n["ID"] for n in nodes]
    task(lab, "smd_group", {"groups": [{"label": "big", "members": ids[:400]}]})
    out = task(lab, "smd_group", {"groups": [{"label": "big", "members": ids[150:]}]}, check=True, diff=True)
    assert out["changed"]
    before, after = out["diff"]["before"]["big"]["members"], out["diff"]["after"]["big"]["members"]
    assert len(before) == len(after) == 102
    assert before[:100] == sorted(ids[:150])[:100] and before[100] == "... 50 more not shown (150 in all)"
    assert after[:100] == ids[400:500] and after[100] == "... 50 more not shown (150 in all)"
    assert before[-1] == after[-1] == "... 250 entries in both not shown"
    out = task(lab, "smd_group", {"groups": [{"label": "new", "members": ids}]}, check=True, diff=True)
    created = out["diff"]["after"]["new"]["members"]
    assert len(created) == 101 and created[-1] == "... 450 more not shown (550 in all)"


def test_exclusive_group_conflict_is_found_before_any_write(lab, clean_smd):
    task(lab, "smd_component", {"components": NODES})
    task(lab, "smd_group", {"groups": [{"label": "wave1", "exclusive_group": "waves", "members": ["x1000c0s0b0n0"]}]})
    before = dump(lab)
    out = task(lab, "smd_group", {"groups": [
        {"label": "other", "members": ["x1000c0s0b0n1"]},
        {"label": "wave2", "exclusive_group": "waves", "members": ["x1000c0s0b0n0", "x1000c0s1b0n0"]},
        {"label": "wave3", "exclusive_group": "waves", "members": ["x1000c0s1b0n0"]}]})
    assert out["failed"] and out["changed"] is False and "nothing was changed" in out["msg"]
    assert "group wave2: member x1000c0s0b0n0 would also be in group wave1 (exclusive group waves)" in out["msg"]
    assert "group wave3: member x1000c0s1b0n0 would also be in group wave2 (exclusive group waves)" in out["msg"]
    assert dump(lab) == before


def test_ethernet_interfaces(lab, clean_smd):
    task(lab, "smd_component", {"components": NODES})
    nics = [{"mac": "DE-AD-BE-EF-00-01", "component_id": "x1000c0s0b0n0", "description": "nmn",
             "ip_addresses": [{"ip_address": "10.1.0.1", "network": "nmn"}, {"ip_address": "10.2.0.1", "network": "hsn"}]},
            {"mac": "deadbeef0002", "component_id": "x1000c0s0b0n1"}]
    out = task(lab, "smd_ethernet_interface", {"interfaces": nics})
    assert out["summary"]["create"] == 2
    nics[0]["ip_addresses"].reverse()
    nics[0]["mac"] = "de:ad:be:ef:00:01"
    out = task(lab, "smd_ethernet_interface", {"interfaces": nics})
    assert out["changed"] is False
    out = task(lab, "smd_ethernet_interface", {"interfaces": [{"mac": "de:ad:be:ef:00:02", "description": "bmc"}]})
    assert out["summary"]["update"] == 1
    stored = lab.api("smd", "GET", "/Inventory/EthernetInterfaces/deadbeef0002").json()
    assert stored["Description"] == "bmc" and stored["ComponentID"] == "x1000c0s0b0n1"
    out = task(lab, "smd_ethernet_interface_info", {"component_ids": ["x1000c0s0b0n0"]})
    assert [i["MACAddress"] for i in out["interfaces"]] == ["de:ad:be:ef:00:01"]
    before = dump(lab)
    out = task(lab, "smd_ethernet_interface", {"interfaces": [{"mac": "de:ad:be:ef:00:09"}, {"mac": "DE:AD:BE:EF:00:09"}]})
    assert out["failed"] and "de:ad:be:ef:00:09 appears more than once" in out["msg"]
    out = task(lab, "smd_ethernet_interface", {"interfaces": [{"mac": "de:ad:be:ef:00:0a"}, {"mac": "zz:00"}]})
    assert out["failed"] and "interface zz:00: mac: invalid MAC address 'zz:00'" in out["msg"]
    assert dump(lab) == before
    out = task(lab, "smd_ethernet_interface", {"interfaces": [{"mac": "de:ad:be:ef:00:02"}], "state": "absent"})
    assert out["changed"] and len(lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json()) == 1


ENDPOINT = {
    "id": "x1000c1s0b0", "fqdn": "172.16.0.101", "user": "root", "password": "bmc-secret-Zz9",
    "inventory": {
        "Managers": [{"uri": "/redfish/v1/Managers/BMC", "name": "BMC", "actions": ["ForceRestart"],
                      "ethernet_interfaces": [{"mac": "de:ca:fc:0f:ee:ee", "ip": "172.16.0.101"}]}],
        "Systems": [{"uri": "/redfish/v1/Systems/Node%d" % i, "uuid": "7a1c2f3e-0000-4000-8000-00000000000%d" % i,
                     "name": "node%d" % i, "actions": ["On", "ForceOff"],
                     "ethernet_interfaces": [{"mac": "de:ad:be:ee:ee:f%d" % i, "ip": "172.16.0.%d" % (i + 1),
                                              "description": "nmn"}]} for i in range(2)],
    },
}


def test_redfish_endpoint_with_inventory(lab, clean_smd):
    out, proc = run_task(lab, "smd_redfish_endpoint", {"endpoints": [ENDPOINT]}, diff=True)
    assert out["changed"] and out["summary"]["create"] == 1
    assert "bmc-secret-Zz9" not in proc.stdout
    comps = components_by_id(lab)
    assert {"x1000c1s0b0", "x1000c1s0b0n0", "x1000c1s0b0n1"} <= set(comps)
    macs = dict((i["MACAddress"], i["ComponentID"]) for i in lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json())
    assert macs["de:ad:be:ee:ee:f1"] == "x1000c1s0b0n1" and macs["de:ca:fc:0f:ee:ee"] == "x1000c1s0b0"
    out = task(lab, "smd_redfish_endpoint", {"endpoints": [ENDPOINT]})
    assert out["changed"] is False
    # SMD lost a derived interface: the module notices and re-sends the inventory
    lab.api("smd", "DELETE", "/Inventory/EthernetInterfaces/deadbeeeeef1")
    out = task(lab, "smd_redfish_endpoint", {"endpoints": [ENDPOINT]})
    assert out["changed"] and out["summary"]["update"] == 1
    assert "de:ad:be:ee:ee:f1" in [i["MACAddress"] for i in lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json()]
    out = task(lab, "smd_redfish_endpoint_info", {"component_endpoints": True})
    assert [e["ID"] for e in out["endpoints"]] == ["x1000c1s0b0"] and "Password" not in out["endpoints"][0]
    assert {"x1000c1s0b0n0", "x1000c1s0b0n1"} <= set(e["ID"] for e in out["component_endpoints"])
    out = task(lab, "smd_redfish_endpoint", {"endpoints": [{"id": "x1000c1s0b0"}], "state": "absent"})
    assert out["changed"] and not lab.api("smd", "GET", "/Inventory/RedfishEndpoints").json()["RedfishEndpoints"]


def test_redfish_endpoints_smd_would_refuse_or_mistype_write_nothing(lab, clean_smd):
    task(lab, "smd_redfish_endpoint", {"endpoints": [{"id": "x3000c0s1b0", "fqdn": "bmc1.example.ch"}]})
    before = dump(lab)
    out = task(lab, "smd_redfish_endpoint", {"endpoints": [
        {"id": "x3000c0s2b0", "fqdn": "bmc2.example.ch"},
        {"id": "x3000c0s3b0", "fqdn": "BMC1.example.ch"},
        {"id": "x3000c0s4b0", "fqdn": "bmc2.example.ch"},
        {"id": "x1000c1b0", "fqdn": "cmm.example.ch", "inventory": {"Systems": [], "Managers": [
            {"uri": "/redfish/v1/Managers/BMC", "name": "BMC", "ethernet_interfaces": []}]}}]})
    assert out["failed"] and out["changed"] is False and "nothing was changed" in out["msg"]
    assert "endpoint x3000c0s3b0: fqdn: BMC1.example.ch is already the FQDN of endpoint x3000c0s1b0" in out["msg"]
    assert "endpoint x3000c0s4b0: fqdn: bmc2.example.ch is also given for x3000c0s2b0" in out["msg"]
    assert "endpoint x1000c1b0: inventory: an inventory with Systems or Managers is only for node BMCs" in out["msg"]
    assert dump(lab) == before


def test_smd_info_dumps_everything(lab, clean_smd):
    task(lab, "smd_component", {"components": NODES})
    task(lab, "smd_group", {"groups": [{"label": "compute", "members": ["x1000c0s0b0n0"]}]})
    out = task(lab, "smd_info", {})
    assert [c["ID"] for c in out["components"]] == [n["ID"] for n in NODES]
    assert out["groups"] == [{"label": "compute", "description": "", "members": ["x1000c0s0b0n0"]}] or \
        out["groups"][0]["members"] == ["x1000c0s0b0n0"]
    assert set(out) >= {"interfaces", "partitions", "redfish_endpoints", "component_endpoints"}


def test_expired_and_missing_token(lab, clean_smd):
    out = task(lab, "smd_component", {"components": NODES[:1], "token": lab.mint(expired=True)})
    assert out["failed"] and "HTTP 401" in out["msg"] and "expired at" in out["msg"]
    out = task(lab, "smd_component", {"components": NODES[:1]},
               env={"ACCESS_TOKEN": "", "LAB_ACCESS_TOKEN": "", "OPENCHAMI_CLUSTER": "lab"})
    assert out["failed"] and "HTTP 401" in out["msg"] and "no token was found" in out["msg"]
    assert not lab.api("smd", "GET", "/State/Components").json()["Components"]


def test_unreachable_service_is_clear(lab, clean_smd):
    unreachable = {"smd": "http://127.0.0.1:9/hsm/v2"}
    out = task(lab, "smd_component", {"components": NODES[:1], "service_uris": unreachable, "retries": 1})
    assert out["failed"] and "POST" not in out["msg"] and "service unreachable after 2 attempt(s)" in out["msg"]


def test_src_file_and_bad_file(lab, clean_smd, tmp_path):
    good = tmp_path / "nodes.json"
    good.write_text(json.dumps(NODES))
    out = task(lab, "smd_component", {"src": str(good)})
    assert out["summary"]["create"] == 3
    bad = tmp_path / "bad.yml"
    bad.write_text("- {ID: x1000c0s3b0n0, NID: one}\n- {ID: x1000c0s3b0n1, NID: 7}\n")
    out = task(lab, "smd_component", {"src": str(bad)})
    assert out["failed"] and "item 0" in out["msg"] and str(bad) in out["msg"]
    assert "x1000c0s3b0n1" not in components_by_id(lab)


def test_smd_killed_mid_task_reports_what_it_wrote_and_a_rerun_converges(lab, clean_smd, tmp_path):
    """SMD is killed (SIGKILL) just before the 200th of 600 interface writes reaches it.

    A proxy in front of SMD does the killing at that exact request, so the interruption does not depend on
    timing. The task fails, says it changed something and what it wrote; after SMD is back, a re-run writes
    only what is missing and a third run changes nothing.
    """
    nodes = [{"ID": "x1002c%ds%db%dn%d" % (i // 64, (i // 4) % 16, (i // 2) % 2, i % 2), "State": "Ready"} for i in range(300)]
    task(lab, "smd_component", {"components": nodes})
    nics = [{"mac": "02:10:00:00:%02x:%02x" % (i >> 8, i & 255), "component_id": nodes[i % 300]["ID"]} for i in range(600)]
    src = tmp_path / "nics.json"
    src.write_text(json.dumps(nics))

    def kill_smd():
        os.kill(runtime.read_record(lab.state, "smd")["pid"], signal.SIGKILL)

    with KillingProxy(lab.urls["smd"], "POST", r"/Inventory/EthernetInterfaces$", at=200, action=kill_smd) as proxy:
        first = task(lab, "smd_ethernet_interface", {"src": str(src), "workers": 2, "retries": 0,
                                                     "service_uris": {"smd": proxy + "/hsm/v2"}})
    assert first["failed"] is True
    assert first["changed"] is True                        # it wrote part of its work before SMD died
    partial = first["partial"]
    assert 190 <= partial["written"]["count"] < 200, partial
    assert partial["written"]["count"] + partial["in_doubt"]["count"] + partial["not_written"]["count"] == 600
    assert "stopped part-way" in first["msg"]
    lab.lab.restart("smd")
    stored = len(lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json())
    assert partial["written"]["count"] <= stored < 600      # the write was interrupted; nothing written twice
    second = task(lab, "smd_ethernet_interface", {"src": str(src)})
    assert not second.get("failed"), second.get("msg")
    assert second["summary"]["create"] == 600 - stored
    assert len(lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json()) == 600
    third = task(lab, "smd_ethernet_interface", {"src": str(src)})
    assert third["changed"] is False


def test_move_between_partitions_in_one_task(lab, clean_smd):
    """p1 gives a node to p2 in the same task: leaving members go first, so SMD never sees it in both."""
    task(lab, "smd_component", {"components": NODES})
    task(lab, "smd_partition", {"partitions": [{"name": "p1", "members": ["x1000c0s0b0n0", "x1000c0s0b0n1"]}]})
    moved = [{"name": "p1", "members": ["x1000c0s0b0n1"]}, {"name": "p2", "members": ["x1000c0s0b0n0"]}]
    out = task(lab, "smd_partition", {"partitions": moved})
    assert out["changed"] and not out.get("failed"), out.get("msg")
    stored = dict((p["name"], p["members"]["ids"]) for p in lab.api("smd", "GET", "/partitions").json())
    assert stored == {"p1": ["x1000c0s0b0n1"], "p2": ["x1000c0s0b0n0"]}
    before = dump(lab)
    out = task(lab, "smd_partition", {"partitions": [{"name": "p3", "members": ["x1000c0s0b0n1"]}]})
    assert out["failed"] and "partition p3: member x1000c0s0b0n1 would also be in partition p1" in out["msg"]
    assert dump(lab) == before


@pytest.fixture(name="refuse_mac")
def fixture_refuse_mac(lab):
    """SMD's own database refuses one interface (a trigger): a real SMD that fails part-way through a task."""
    cluster = postgres.Cluster(lab.state, int(lab.info["postgres"]["port"]))

    def refuse(mac_id):
        cluster.psql("CREATE OR REPLACE FUNCTION lab_refuse() RETURNS trigger AS $$ BEGIN "
                     "IF NEW.id = '%s' THEN RAISE EXCEPTION 'lab: refused'; END IF; RETURN NEW; END $$ "
                     "LANGUAGE plpgsql; CREATE TRIGGER lab_refuse BEFORE INSERT ON comp_eth_interfaces "
                     "FOR EACH ROW EXECUTE FUNCTION lab_refuse()" % mac_id, "hmsds")
    try:
        yield refuse
    finally:
        cluster.psql("DROP TRIGGER IF EXISTS lab_refuse ON comp_eth_interfaces; DROP FUNCTION IF EXISTS lab_refuse()",
                     "hmsds")


def test_failure_part_way_says_what_was_written(lab, clean_smd, refuse_mac):
    task(lab, "smd_component", {"components": NODES})
    macs = ["02:00:00:00:00:%02x" % i for i in range(1, 6)]
    refuse_mac("020000000004")
    nics = [{"mac": mac, "component_id": "x1000c0s0b0n0"} for mac in macs]
    out = task(lab, "smd_ethernet_interface", {"interfaces": nics})
    assert out["failed"] and out["changed"] is True
    assert "HTTP 500" in out["msg"] and "Re-running the task" in out["msg"]
    assert out["partial"]["written"]["count"] == 4 and out["partial"]["in_doubt"]["items"] == ["create " + macs[3]]
    stored = sorted(i["MACAddress"] for i in lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json())
    assert stored == sorted(macs[:3] + macs[4:])
    assert sorted(out["partial"]["written"]["items"]) == ["create " + m for m in stored]
