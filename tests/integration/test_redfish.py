# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""redfish_discover, redfish_power, redfish_boot and redfish_info run by real ansible-playbook against the lab's
sushy-tools BMCs, the mockup server over every tree in the shared Redfish mockups, and the real SMD.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_redfish.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from conftest import show_task, shown  # pylint: disable=import-error
from lab import bmc as labbmc, runtime
from test_bmc_emulation import MOCKUPS, MOCKUPS_ROOT, start_all, stop_all

IPS = {name: runtime.loopback(98, number) for number, name in enumerate(MOCKUPS, start=1)}
XNAMES = {"ex425": "x1000c1s0b0", "ex235a": "x1000c1s1b0", "cmm": "x1000c1b0", "gigabyte": "x3000c0s5b0",
          "rackmount1": "x3000c0s7b0", "bladed": "x1000c2s0b0", "liquid": "x3000c0s9b0"}
DEAD = "127.0.98.250"  # nothing listens there
# What the mockup trees hold (read from the files by hand): node MACs per node index, the BMC's own MAC, profile.
EXPECTED = {
    "ex425": {"nodes": {0: {"00:40:a6:83:52:5f"}, 1: {"00:40:a6:83:52:60"}}, "bmc_mac": None, "profile": "cray_ex_nc"},
    "ex235a": {"nodes": {0: {"00:40:a6:83:3a:52"}}, "bmc_mac": None, "profile": "cray_ex_nc"},
    "cmm": {"nodes": {}, "bmc_mac": None, "profile": "cray_ex_cc"},
    "gigabyte": {"nodes": {0: {"b4:2e:99:ba:de:15", "b4:2e:99:ba:de:16"}}, "bmc_mac": "b4:2e:99:ba:de:17",
                 "profile": "gigabyte"},
    "rackmount1": {"nodes": {0: {"12:44:6a:3b:04:11", "aa:bb:cc:dd:ee:00", "aa:bb:cc:dd:ee:fe"}},
                   "bmc_mac": "23:11:8a:33:cf:ea", "profile": "generic"},
    "bladed": {"nodes": {0: set(), 1: set(), 2: set(), 3: set()}, "bmc_mac": "23:11:8a:38:c0:20", "profile": "generic"},
}


@pytest.fixture(scope="module", name="rf")
def fixture_rf(lab, tmp_path_factory):
    """Every mockup served on its own address with the lab's BMC credentials, plus the lab's sushy BMCs."""
    state = tmp_path_factory.mktemp("redfish")
    user, password = lab.env["LAB_BMC_USER"], lab.env["LAB_BMC_PASSWORD"]
    infos = [labbmc.prepare_mockup(state, name, MOCKUPS_ROOT / tree, IPS[name], 443, user, password)
             for name, tree in MOCKUPS.items()]
    servers = start_all(infos, state)
    bundle = state / "ca.pem"
    cas = [Path(lab.env["LAB_BMC_CA_BUNDLE"])] + [Path(info["cafile"]) for info in infos]
    bundle.write_text("".join(path.read_text() for path in cas))
    sushy = [b for b in lab.bmcs if b["kind"] == "bmc"]
    assert len(sushy) >= 3, lab.bmcs
    try:
        yield {"servers": dict(zip(MOCKUPS, servers)), "ca": str(bundle), "sushy": sushy}
    finally:
        stop_all(servers)


def play(lab, rf, tasks, check=False, extravars=None):
    """Run ``tasks`` in one play with the Redfish and SMD options set once; returns (result, registered)."""
    defaults = {"config_file": "{{ openchami_config_file }}", "bmc_ca_path": rf["ca"],
                "bmc_user": "{{ openchami_bmc_user }}", "bmc_password": "{{ openchami_bmc_password }}"}
    for task in tasks:
        task.setdefault("register", "out_%d" % tasks.index(task))
    show = [show_task("{%s}" % ", ".join("'%s': %s" % (t["register"], t["register"]) for t in tasks))]
    playbook = [{"hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/cscs.openchami.redfish": defaults},
                 "tasks": [dict(t, ignore_errors=True) for t in tasks] + show}]
    result = lab.run_playbook(playbook, extravars=dict(extravars or {}), check=check)
    registered = shown(result.stdout)
    assert registered is not None, result.stdout + result.stderr
    return result, registered


def discover_task(rf, names, extra_targets=(), **options):
    targets = [IPS[name] for name in names] + list(extra_targets)
    xname_map = dict((IPS[name], XNAMES[name]) for name in names)
    for index, one in enumerate(rf["sushy"], start=1):
        xname_map[one["ip"]] = "x1000c0s%db0" % index
    return {"cscs.openchami.redfish_discover": dict({"targets": targets, "xname_map": xname_map}, **options)}


def smd_state(lab):
    components = dict((c["ID"], c) for c in lab.api("smd", "GET", "/State/Components").json()["Components"])
    interfaces = dict((i["MACAddress"], i["ComponentID"]) for i in lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json())
    endpoints = lab.api("smd", "GET", "/Inventory/RedfishEndpoints").json()["RedfishEndpoints"]
    return components, interfaces, endpoints


def test_discover_every_mockup_sushy_and_failures(clean_smd, rf):
    lab = clean_smd
    sushy = rf["sushy"]
    names = list(EXPECTED)
    bad = [DEAD, {"address": sushy[2]["ip"], "password": "wrong-password"}]
    tasks = [discover_task(rf, names, [s["ip"] for s in sushy[:2]] + bad)]
    tasks[0]["cscs.openchami.redfish_discover"]["xname_map"][DEAD] = "x1000c0s9b0"

    # check mode: reads every BMC, writes nothing to SMD
    result, out = play(lab, rf, [dict(tasks[0])], check=True)
    assert result.returncode == 0, result.stdout
    assert out["out_0"]["changed"] is True
    assert smd_state(lab) == ({}, {}, [])

    result, out = play(lab, rf, [dict(tasks[0])])
    assert result.returncode == 0, result.stdout
    first = out["out_0"]
    assert first["changed"] is True
    by_address = dict((b["address"], b) for b in first["bmcs"])
    assert by_address[DEAD]["status"] == "unreachable" and "127.0.98.250" in by_address[DEAD]["message"]
    wrong = by_address[sushy[2]["ip"]]
    assert wrong["status"] == "auth_failed", wrong
    assert "wrong-password" not in result.stdout and lab.env["LAB_BMC_PASSWORD"] not in result.stdout
    components, interfaces, endpoints = smd_state(lab)
    for name, expected in EXPECTED.items():
        report = by_address[IPS[name]]
        assert report["status"] == "ok", report
        assert report["profile"] == expected["profile"], (name, report)
        assert report["bmc_mac"] == expected["bmc_mac"], (name, report)
        bmc_x = XNAMES[name]
        assert bmc_x in components
        nodes = sorted(c for c in components if c.startswith(bmc_x + "n"))
        assert nodes == ["%sn%d" % (bmc_x, i) for i in sorted(expected["nodes"])], (name, nodes)
        for index, macs in expected["nodes"].items():
            assert components["%sn%d" % (bmc_x, index)]["Type"] == "Node"
            assert set(m for m, owner in interfaces.items() if owner == "%sn%d" % (bmc_x, index)) == macs, name
        if expected["bmc_mac"]:
            assert interfaces[expected["bmc_mac"]] == bmc_x
    for index, one in enumerate(sushy[:2], start=1):
        node = "x1000c0s%db0n0" % index
        assert components[node]["Type"] == "Node"
        assert set(m for m, owner in interfaces.items() if owner == node) == set(one["macs"])
    assert "x1000c0s3b0" not in components and "x1000c0s9b0" not in components
    assert sorted(e["ID"] for e in endpoints) == sorted(list(XNAMES[n] for n in names) + ["x1000c0s1b0", "x1000c0s2b0"])

    # a re-run against the same hardware changes nothing
    result, out = play(lab, rf, [dict(tasks[0])])
    assert result.returncode == 0, result.stdout
    assert out["out_0"]["changed"] is False, out["out_0"]["diff"]
    assert smd_state(lab)[:2] == (components, interfaces)

    # sessions were logged out: every session a mockup opened was deleted again
    for name in names:
        log = rf["servers"][name].get("/_mockup/requests", auth=False).json()
        opened = [r for r in log if r["method"] == "POST" and r["path"].endswith("/SessionService/Sessions")]
        closed = [r for r in log if r["method"] == "DELETE" and "/SessionService/Sessions/" in r["path"]]
        assert opened and len(opened) == len(closed), (name, log)


def test_chassis_read_on_request_and_always_on_a_chassis_controller(lab, rf):
    task = discover_task(rf, ["rackmount1", "cmm"], push=False)
    plain = dict(task["cscs.openchami.redfish_discover"])
    asked = dict(plain, collect_chassis=True)
    result, out = play(lab, rf, [{"cscs.openchami.redfish_discover": plain}, {"cscs.openchami.redfish_discover": asked}])
    assert result.returncode == 0, result.stdout
    first, second = (dict((b["address"], b) for b in out[key]["bmcs"]) for key in ("out_0", "out_1"))
    assert "chassis" not in first[IPS["rackmount1"]]
    cmm = sorted(c["uri"].rsplit("/", 1)[-1] for c in first[IPS["cmm"]]["chassis"])
    assert cmm == sorted(["Enclosure"] + ["Blade%d" % i for i in range(8)] + ["Perif%d" % i for i in range(8)])
    assert [c["uri"] for c in second[IPS["rackmount1"]]["chassis"]] == ["/redfish/v1/Chassis/1U"]


def test_two_bmcs_claiming_one_mac_are_not_both_written(clean_smd, rf):
    """rackmount1 and liquid-cooled are the same DMTF server: the second BMC is reported, not written."""
    lab = clean_smd
    result, out = play(lab, rf, [discover_task(rf, ["rackmount1", "liquid"])])
    assert result.returncode == 0, result.stdout
    second = dict((b["address"], b) for b in out["out_0"]["bmcs"])[IPS["liquid"]]
    assert second["status"] == "error" and "also reported by BMC x3000c0s7b0" in second["message"]
    components, _interfaces, _endpoints = smd_state(lab)
    assert "x3000c0s7b0n0" in components and XNAMES["liquid"] not in components


def test_bad_input_fails_before_any_bmc_is_read(clean_smd, rf):
    lab = clean_smd
    task = discover_task(rf, ["gigabyte"])
    task["cscs.openchami.redfish_discover"]["xname_map"][IPS["gigabyte"]] = "x3000c0s5q0"
    result, out = play(lab, rf, [task])
    assert out["out_0"]["failed"] is True
    assert "x3000c0s5q0" in out["out_0"]["msg"] and "nothing was changed" in out["out_0"]["msg"]
    assert rf["servers"]["gigabyte"].send("POST", "/_mockup/reset", auth=False).status_code == 204
    assert smd_state(lab) == ({}, {}, [])


def read(lab, rf, base, path):
    """GET a Redfish resource from a BMC with the lab's BMC credentials."""
    auth = (lab.env["LAB_BMC_USER"], lab.env["LAB_BMC_PASSWORD"])
    answer = requests.get(base + path, auth=auth, verify=rf["ca"], timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def sushy_power(lab, rf, one):
    return read(lab, rf, one["url"], "/redfish/v1/Systems/" + one["system_uuid"])["PowerState"]


def test_power_and_info_by_xname_through_smd(clean_smd, rf):
    lab = clean_smd
    sushy = rf["sushy"][:3]
    nodes = ["x1000c0s%db0n0" % i for i in range(1, 4)]
    tasks = [discover_task(rf, ["ex425"], [s["ip"] for s in sushy]),
             {"cscs.openchami.redfish_power": {"nodes": nodes, "state": "off", "wait_timeout": 60}},
             {"cscs.openchami.redfish_power": {"nodes": nodes, "state": "off", "wait_timeout": 60}},
             {"cscs.openchami.redfish_info": {"nodes": nodes + ["x1000c1s0b0n1"]}}]
    result, out = play(lab, rf, tasks)
    assert result.returncode == 0, result.stdout
    first, again, info = out["out_1"], out["out_2"], out["out_3"]
    assert first.get("failed") is not True, first
    assert all(n["status"] == "ok" and n["after"] == "Off" for n in first["nodes"]), first["nodes"]
    assert [sushy_power(lab, rf, s) for s in sushy] == ["Off"] * 3
    assert again["changed"] is False and again["summary"]["changed"] == 0
    by_name = dict((n["name"], n) for n in info["nodes"])
    assert [by_name[n]["power_state"] for n in nodes] == ["Off"] * 3
    cray = by_name["x1000c1s0b0n1"]
    assert cray["boot_override"] is False and set(cray["reset_types"]) == {"ForceOff", "On", "Off"}

    result, out = play(lab, rf, [{"cscs.openchami.redfish_power": {"nodes": nodes, "state": "on", "wait_timeout": 60}}])
    assert result.returncode == 0, result.stdout
    assert all(n["after"] == "On" and n["reset_type"] == "On" for n in out["out_0"]["nodes"])
    assert [sushy_power(lab, rf, s) for s in sushy] == ["On"] * 3


def test_power_with_a_dead_bmc_and_a_wrong_password_among_good_ones(lab, rf):
    cray = rf["servers"]["ex425"]
    assert cray.send("POST", "/_mockup/reset", auth=False).status_code == 204
    targets = [IPS["ex425"], DEAD, {"address": IPS["gigabyte"], "password": "wrong-password"}]
    result, out = play(lab, rf, [{"cscs.openchami.redfish_power": {"targets": targets, "state": "off", "wait_timeout": 30}}])
    task = out["out_0"]
    assert task["failed"] is True and "2 of 4 nodes failed" in task["msg"], task["msg"]
    by_bmc = {}
    for node in task["nodes"]:
        by_bmc.setdefault(node["bmc"], []).append(node)
    assert [n["status"] for n in by_bmc[IPS["ex425"]]] == ["ok", "ok"]
    # EX425 offers ForceOff: sent as is; the mockup turned both nodes off
    assert set(n["reset_type"] for n in by_bmc[IPS["ex425"]]) == {"ForceOff"}
    assert [read(lab, rf, cray.base, "/redfish/v1/Systems/Node%d" % i)["PowerState"] for i in (0, 1)] == ["Off", "Off"]
    assert by_bmc[DEAD][0]["status"] == "failed"
    assert by_bmc[IPS["gigabyte"]][0]["status"] == "failed" and "401" in by_bmc[IPS["gigabyte"]][0]["message"]
    assert "wrong-password" not in result.stdout
    assert read(lab, rf, rf["servers"]["gigabyte"].base, "/redfish/v1/Systems/Self")["PowerState"] == "On"


def test_boot_override_where_supported_and_not(lab, rf):
    giga, cray = rf["servers"]["gigabyte"], rf["servers"]["ex425"]
    for one in (giga, cray):
        assert one.send("POST", "/_mockup/reset", auth=False).status_code == 204
    tasks = [{"cscs.openchami.redfish_boot": {"targets": [IPS["gigabyte"]], "target": "pxe", "mode": "uefi"}},
             {"cscs.openchami.redfish_boot": {"targets": [IPS["gigabyte"]], "target": "pxe", "mode": "uefi"}},
             {"cscs.openchami.redfish_boot": {"targets": [IPS["ex425"]], "target": "pxe"}},
             {"cscs.openchami.redfish_boot": {"targets": [IPS["ex425"]], "target": "pxe", "unsupported": "boot_order"}},
             {"cscs.openchami.redfish_boot": {"targets": [IPS["ex425"]], "target": "hdd", "unsupported": "boot_order"}}]
    result, out = play(lab, rf, tasks)
    first, again, refused, order, no_disk = (out["out_%d" % i] for i in range(5))
    assert first["changed"] is True and first["nodes"][0]["method"] == "override", first
    boot = read(lab, rf, giga.base, "/redfish/v1/Systems/Self")["Boot"]
    assert (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideEnabled"], boot["BootSourceOverrideMode"]) == \
        ("Pxe", "Once", "UEFI")
    patches = [r for r in giga.get("/_mockup/requests", auth=False).json() if r["method"] == "PATCH"]
    assert len(patches) == 1 and patches[0]["status"] in (200, 204), patches
    assert again["changed"] is False
    assert refused["failed"] is True and "boot override unsupported" in refused["msg"]
    assert order.get("failed") is not True and [n["method"] for n in order["nodes"]] == ["boot_order", "boot_order"]
    assert no_disk["failed"] is True and "no boot option names hdd" in no_disk["msg"]
    assert "BootSourceOverrideTarget" not in read(lab, rf, cray.base, "/redfish/v1/Systems/Node0")["Boot"]


def component_endpoints(lab):
    return dict((e["ID"], e) for e in
                lab.api("smd", "GET", "/Inventory/ComponentEndpoints").json()["ComponentEndpoints"])


def test_chassis_controller_registered_with_the_type_of_its_xname(clean_smd, rf):
    """The CMM (x1000c1b0) is a ChassisBMC in SMD: component, endpoint, no NodeBMC component endpoint."""
    lab = clean_smd
    # what an earlier version left: SMD's inventory parser typed the CMM NodeBMC
    old = {"ID": XNAMES["cmm"], "FQDN": IPS["cmm"], "User": "x", "Password": "x", "SchemaVersion": 1,
           "Systems": [], "Managers": [{"uri": "/redfish/v1/Managers/BMC", "name": "BMC", "type": "EnclosureManager",
                                        "ethernet_interfaces": []}]}
    assert lab.api("smd", "PUT", "/Inventory/RedfishEndpoints/" + XNAMES["cmm"], json=old).status_code == 200
    assert smd_state(lab)[0][XNAMES["cmm"]]["Type"] == "NodeBMC"
    result, out = play(lab, rf, [discover_task(rf, ["cmm"])])
    assert result.returncode == 0, result.stdout
    assert out["out_0"]["bmcs"][0]["status"] == "ok", out["out_0"]["bmcs"]
    components, _interfaces, endpoints = smd_state(lab)
    assert components[XNAMES["cmm"]]["Type"] == "ChassisBMC"
    assert [e["Type"] for e in endpoints if e["ID"] == XNAMES["cmm"]] == ["ChassisBMC"]
    assert XNAMES["cmm"] not in component_endpoints(lab)
    result, out = play(lab, rf, [discover_task(rf, ["cmm"])])
    assert out["out_0"]["changed"] is False, out["out_0"]


def test_xname_and_redfish_answer_must_agree_on_the_kind_of_bmc(clean_smd, rf):
    lab = clean_smd
    task = discover_task(rf, ["cmm", "ex425"])
    task["cscs.openchami.redfish_discover"]["xname_map"].update({IPS["cmm"]: "x1000c1s7b0", IPS["ex425"]: "x1000c2b0"})
    result, out = play(lab, rf, [task])
    assert result.returncode == 0, result.stdout
    by_address = dict((b["address"], b) for b in out["out_0"]["bmcs"])
    assert by_address[IPS["cmm"]]["status"] == "error"
    assert "x1000c1s7b0 is a NodeBMC xname, but the BMC is a chassis controller" in by_address[IPS["cmm"]]["message"]
    assert by_address[IPS["ex425"]]["status"] == "error"
    assert "x1000c2b0 is a ChassisBMC xname, but the BMC has 2 system(s)" in by_address[IPS["ex425"]]["message"]
    assert smd_state(lab) == ({}, {}, [])


def test_shared_nids_are_warned_about_until_set(clean_smd, rf):
    """SMD gives NID 1 to the first node of every BMC: the module says so, and NIDs set afterwards stay."""
    lab = clean_smd
    result, out = play(lab, rf, [discover_task(rf, ["ex425", "ex235a"])])
    assert result.returncode == 0, result.stdout
    assert out["out_0"]["nid_collisions"] == {"1": ["x1000c1s0b0n0", "x1000c1s1b0n0"]}
    assert "NID 1 is shared by x1000c1s0b0n0, x1000c1s1b0n0" in " ".join(result.stderr.split())
    nids = [{"ID": "x1000c1s0b0n0", "NID": 1001}, {"ID": "x1000c1s0b0n1", "NID": 1002}, {"ID": "x1000c1s1b0n0", "NID": 1003}]
    result, out = play(lab, rf, [{"cscs.openchami.smd_component": {"components": nids, "config_file": "{{ openchami_config_file }}"}},
                                 discover_task(rf, ["ex425", "ex235a"])])
    assert result.returncode == 0, result.stdout
    assert out["out_1"]["nid_collisions"] == {} and "is shared by" not in result.stdout + result.stderr
    components = smd_state(lab)[0]
    assert [components[n["ID"]]["NID"] for n in nids] == [1001, 1002, 1003]


def test_certificate_that_does_not_verify_is_reported_as_such(clean_smd, rf):
    lab = clean_smd
    task = discover_task(rf, ["gigabyte"], bmc_ca_path=lab.env["LAB_BMC_CA_BUNDLE"])   # not the mockups' CA
    result, out = play(lab, rf, [task])
    assert result.returncode == 0, result.stdout
    report = out["out_0"]["bmcs"][0]
    assert report["status"] == "tls_failed", report
    assert "TLS verification failed" in report["message"] and "bmc_ca_path" in report["message"]
    assert smd_state(lab) == ({}, {}, [])
