# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cscs.openchami.smd inventory plugin against the real SMD of the lab, run as AWX does (ansible-inventory)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from lab import runtime
from tests.unit.utils.ansible_output import plain

GOLDEN = Path(__file__).parent / "golden"
# SMD's access log: one line per request; only ours count (cloud-init and BSS poll SMD too)
ACCESS_LINE = re.compile(rb'^\S+ - - \[[^\]]+\] "[A-Z]+ .*"cscs\.openchami"\s*$')

COMPONENTS = [
    {"ID": "x1000c0s0b0n0", "State": "Ready", "Role": "Compute", "NID": 1, "Arch": "X86", "Class": "Mountain"},
    {"ID": "x1000c0s0b0n1", "State": "Ready", "Role": "Compute", "NID": 2, "Arch": "X86", "Class": "Mountain"},
    {"ID": "x1000c0s1b0n0", "State": "Off", "Role": "Compute", "NID": 3, "Arch": "ARM", "Class": "Mountain"},
    {"ID": "x3000c0s19b1n0", "State": "Ready", "Role": "Service", "SubRole": "Worker", "NID": 900, "Arch": "X86",
     "Class": "River"},
    {"ID": "x1000c0s0b0", "State": "Ready"},  # a NodeBMC: not a Node, filtered out by default
]
INTERFACES = [
    {"MACAddress": "02:00:00:00:00:02", "ComponentID": "x1000c0s0b0n0", "Description": "hsn",
     "IPAddresses": [{"IPAddress": "10.250.0.1", "Network": "hsn"}]},
    {"MACAddress": "02:00:00:00:00:01", "ComponentID": "x1000c0s0b0n0", "Description": "mgmt",
     "IPAddresses": [{"IPAddress": "10.100.0.1", "Network": "nmn"}]},
    {"MACAddress": "02:00:00:00:00:03", "ComponentID": "x1000c0s0b0n1", "Description": "mgmt",
     "IPAddresses": [{"IPAddress": "10.100.0.2", "Network": "nmn"}]},
    {"MACAddress": "02:00:00:00:00:04", "ComponentID": "x3000c0s19b1n0", "Description": "can",
     "IPAddresses": [{"IPAddress": "192.168.9.10", "Network": "can"}]},
]


def fill(lab):
    """Put the fixture data into SMD through its API."""
    assert lab.api("smd", "POST", "/State/Components", json={"Components": COMPONENTS}).status_code == 204
    for nic in INTERFACES:
        assert lab.api("smd", "POST", "/Inventory/EthernetInterfaces", json=nic).status_code == 201
    for group in ({"label": "compute", "description": "", "members": {"ids": ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s1b0n0"]}},
                  {"label": "canary", "description": "", "tags": ["rollout"], "members": {"ids": ["x1000c0s0b0n0"]}}):
        assert lab.api("smd", "POST", "/groups", json=group).status_code == 201
    part = {"name": "p1", "description": "", "members": {"ids": ["x1000c0s0b0n0", "x1000c0s0b0n1"]}}
    assert lab.api("smd", "POST", "/partitions", json=part).status_code == 201


@pytest.fixture
def filled(lab, clean_smd):
    fill(lab)
    return lab


def source(lab, **options):
    """An inventory source reading the lab SMD (token from the environment, as AWX injects it)."""
    data = {"plugin": "cscs.openchami.smd", "service_uris": {"smd": lab.urls["smd"] + "/hsm/v2"}}
    data.update(options)
    return data


def smd_requests(lab):
    with open(runtime.log_file(lab.state, "smd"), "rb") as handle:
        return sum(1 for line in handle if ACCESS_LINE.match(line))


def group_hosts(listing, name):
    return sorted(listing.get(name, {}).get("hosts", []))


def normalise(listing):
    """--list output without what changes between runs (timestamps SMD adds)."""
    return json.loads(json.dumps(listing, sort_keys=True))


def test_golden_listing(filled):
    """Every host variable set (host_vars: [all]): the listing the plugin gave before host_vars existed."""
    listing = filled.run_inventory(source(filled, ansible_host_networks=["nmn"], host_vars=["all"]))
    golden = GOLDEN / "inventory_basic.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(normalise(listing), indent=1, sort_keys=True) + "\n")
    assert normalise(listing) == json.loads(golden.read_text())
    hostvars = listing["_meta"]["hostvars"]
    assert sorted(hostvars) == ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s1b0n0", "x3000c0s19b1n0"]
    node = hostvars["x1000c0s0b0n0"]
    assert node["ansible_host"] == "10.100.0.1"                      # the nmn address, not the first NIC's
    assert node["smd_nid"] == 1 and node["smd_role"] == "Compute" and node["smd_class"] == "Mountain"
    assert node["smd_groups"] == ["canary", "compute"] and node["smd_partition"] == "p1"
    assert node["smd_macs"] == ["02:00:00:00:00:01", "02:00:00:00:00:02"]
    assert node["smd_bmc"] == "x1000c0s0b0" and node["openchami_instance"] == "lab"   # the cluster name (OPENCHAMI_CLUSTER)
    assert hostvars["x3000c0s19b1n0"]["ansible_host"] == "192.168.9.10"   # fallback: first IPv4
    assert "ansible_host" not in hostvars["x1000c0s1b0n0"]                  # no interface at all
    assert group_hosts(listing, "compute") == ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s1b0n0"]
    assert group_hosts(listing, "partition_p1") == ["x1000c0s0b0n0", "x1000c0s0b0n1"]
    assert group_hosts(listing, "role_service_worker") == ["x3000c0s19b1n0"]
    assert group_hosts(listing, "arch_arm") == ["x1000c0s1b0n0"]
    assert group_hosts(listing, "state_off") == ["x1000c0s1b0n0"]
    assert len(group_hosts(listing, "instance_lab")) == 4


LEAN = ["ansible_host", "openchami_instance", "smd_arch", "smd_enabled", "smd_id", "smd_nid", "smd_role", "smd_state"]
SETS = {"component": ["smd_class", "smd_flag", "smd_type"],       # SMD has no SoftwareStatus, NetType, Subtype here
        "membership": ["smd_groups", "smd_partition"],
        "network": ["smd_interfaces", "smd_ips", "smd_macs"],
        "bmc": ["smd_bmc"]}


def test_default_host_variables_are_the_lean_set_and_groups_are_unchanged(filled):
    listing = filled.run_inventory(source(filled, ansible_host_networks=["nmn"]))
    hostvars = listing["_meta"]["hostvars"]
    assert sorted(hostvars["x1000c0s0b0n0"]) == LEAN
    assert hostvars["x1000c0s0b0n0"]["smd_id"] == "x1000c0s0b0n0" and hostvars["x1000c0s0b0n0"]["smd_nid"] == 1
    assert hostvars["x1000c0s0b0n0"]["ansible_host"] == "10.100.0.1"
    assert sorted(hostvars["x3000c0s19b1n0"]) == sorted(LEAN + ["smd_subrole"])
    assert hostvars["x3000c0s19b1n0"]["smd_subrole"] == "Worker"
    golden = json.loads((GOLDEN / "inventory_basic.json").read_text())
    assert normalise(dict((k, v) for k, v in listing.items() if k != "_meta")) == \
        dict((k, v) for k, v in golden.items() if k != "_meta")


@pytest.mark.parametrize("names", [["component", "bmc"], ["membership", "network"]])
def test_each_host_vars_set_adds_its_variables_and_no_request(filled, names):
    served = smd_requests(filled)
    listing = filled.run_inventory(source(filled, ansible_host_networks=["nmn"], host_vars=names))
    assert smd_requests(filled) - served == 4
    node = listing["_meta"]["hostvars"]["x1000c0s0b0n0"]
    added = [key for name in names for key in SETS[name]]
    assert sorted(node) == sorted(LEAN + added)
    golden = json.loads((GOLDEN / "inventory_basic.json").read_text())["_meta"]["hostvars"]["x1000c0s0b0n0"]
    assert dict((k, node[k]) for k in added) == dict((k, golden[k]) for k in added)


def test_unknown_host_vars_set_is_named(filled):
    src = filled.state / "tmp" / "badset.smd.yml"
    src.parent.mkdir(exist_ok=True)
    src.write_text(yaml.safe_dump(source(filled, host_vars=["network", "hardware"])))
    served = smd_requests(filled)
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=filled.ansible_env(), capture_output=True, text=True, check=False)
    text = " ".join((proc.stdout + proc.stderr).split())
    assert "host_vars: hardware is not a set of host variables; the sets are component, membership, network, bmc and all" \
        in text, text
    assert not json.loads(proc.stdout or "{}").get("_meta", {}).get("hostvars")
    assert smd_requests(filled) == served             # checked before anything is asked of SMD


def test_server_side_filters(filled):
    served = smd_requests(filled)
    listing = filled.run_inventory(source(filled, role=["Compute"], state=["Ready"], partition=["p1"]))
    assert sorted(listing["_meta"]["hostvars"]) == ["x1000c0s0b0n0", "x1000c0s0b0n1"]
    assert smd_requests(filled) - served == 4           # components, interfaces, groups, partitions
    listing = filled.run_inventory(source(filled, group=["canary"], type=["Node"]))
    assert sorted(listing["_meta"]["hostvars"]) == ["x1000c0s0b0n0"]
    listing = filled.run_inventory(source(filled, type=["NodeBMC"]))
    assert sorted(listing["_meta"]["hostvars"]) == ["x1000c0s0b0"]


def test_hostnames_nid_template_and_prefix(filled):
    listing = filled.run_inventory(source(filled, hostnames="nid", nid_width=4))
    assert sorted(listing["_meta"]["hostvars"]) == ["nid0001", "nid0002", "nid0003", "nid0900"]
    listing = filled.run_inventory(source(filled, hostnames="template", vars_prefix="oc_",
                                          hostname_template="{{ oc_role | lower }}-{{ oc_nid }}"))
    assert sorted(listing["_meta"]["hostvars"]) == ["compute-1", "compute-2", "compute-3", "service-900"]
    assert listing["_meta"]["hostvars"]["compute-1"]["oc_id"] == "x1000c0s0b0n0"


def inventory_with_warnings(lab, data):
    """(listing, warnings as one line) of ``ansible-inventory --list`` on the source ``data``."""
    src = lab.state / "tmp" / "warn.smd.yml"
    src.parent.mkdir(exist_ok=True)
    src.write_text(yaml.safe_dump(data))
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=lab.ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return plain(json.loads(proc.stdout)), " ".join(proc.stderr.split())


@pytest.mark.parametrize("options", [{"hostnames": "nid"}, {"legacy_names": True}])
def test_same_nid_twice_keeps_both_hosts_and_says_so(filled, options):
    """SMD accepts two nodes with one NID (its Redfish parser gives NID 1 to the first node of every BMC)."""
    twins = [{"ID": "x1000c0s2b0n0", "State": "Ready", "Role": "Compute", "NID": 1},
             {"ID": "x1000c0s3b0n0", "State": "Ready", "Role": "Compute", "NID": 1}]
    assert filled.api("smd", "POST", "/State/Components", json={"Components": twins}).status_code == 204
    listing, warnings = inventory_with_warnings(filled, source(filled, **options))
    hosts = sorted(listing["_meta"]["hostvars"])
    assert hosts == ["nid000001", "nid000002", "nid000003", "nid000900", "x1000c0s2b0n0", "x1000c0s3b0n0"]
    assert listing["_meta"]["hostvars"]["nid000001"]["smd_id"] == "x1000c0s0b0n0"
    for twin in ("x1000c0s2b0n0", "x1000c0s3b0n0"):
        assert ("host name nid000001 collides: x1000c0s0b0n0 of instance lab has it, %s of instance lab is named %s "
                "instead (same NID" % (twin, twin)) in warnings
    assert group_hosts(listing, "hostname_collisions") == ["nid000001", "x1000c0s2b0n0", "x1000c0s3b0n0"]


def test_template_collision_within_instance(filled):
    listing, warnings = inventory_with_warnings(filled, source(filled, hostnames="template",
                                                               hostname_template="{{ smd_role | lower }}-node"))
    assert sorted(listing["_meta"]["hostvars"]) == ["compute-node", "service-node", "x1000c0s0b0n1", "x1000c0s1b0n0"]
    assert "host name compute-node collides: x1000c0s0b0n0 of instance lab has it, x1000c0s1b0n0" in warnings
    assert "same NID" not in warnings


def test_unquoted_off_in_a_filter_says_to_quote_it(filled):
    src = filled.state / "tmp" / "off.smd.yml"
    src.parent.mkdir(exist_ok=True)
    src.write_text("plugin: cscs.openchami.smd\nservice_uris: {smd: %s/hsm/v2}\nstate: [Off]\n" % filled.urls["smd"])
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=filled.ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    text = " ".join((proc.stdout + proc.stderr).split())
    assert "state: False is what YAML makes of an unquoted Off, On, Yes or No; quote the value" in text, text


def test_legacy_names(filled):
    listing = filled.run_inventory(source(filled, legacy_names=True))
    assert sorted(listing["_meta"]["hostvars"]) == ["nid000001", "nid000002", "nid000003", "nid000900"]
    assert group_hosts(listing, "grp_compute") == ["nid000001", "nid000002", "nid000003"]
    assert group_hosts(listing, "prt_p1") == ["nid000001", "nid000002"]
    legacy = listing["_meta"]["hostvars"]["nid000001"]["smd_component"]
    assert legacy["ID"] == "x1000c0s0b0n0" and legacy["partitionName"] == "p1" and sorted(legacy["groupLabels"]) == ["canary", "compute"]


def test_constructed_options(filled):
    listing = filled.run_inventory(source(
        filled, compose={"node_kind": "smd_class | lower"},
        groups={"big_nids": "smd_nid > 100"},
        keyed_groups=[{"key": "smd_class | lower", "prefix": "class"}]))
    assert group_hosts(listing, "big_nids") == ["x3000c0s19b1n0"]
    assert group_hosts(listing, "class_river") == ["x3000c0s19b1n0"]
    assert listing["_meta"]["hostvars"]["x1000c0s0b0n0"]["node_kind"] == "mountain"
    # templates see every variable, also those host_vars leaves out of the hosts
    assert "smd_class" not in listing["_meta"]["hostvars"]["x1000c0s0b0n0"]
    listing = filled.run_inventory(source(filled, keyed_groups=[{"key": "smd_groups", "prefix": "smd"},
                                                                {"key": "smd_bmc", "prefix": "bmc"}],
                                          compose={"first_mac": "smd_macs | first | default('none')",
                                                   "where": "openchami_instance"}))
    assert group_hosts(listing, "smd_canary") == ["x1000c0s0b0n0"]
    assert group_hosts(listing, "bmc_x1000c0s0b0") == ["x1000c0s0b0n0", "x1000c0s0b0n1"]
    assert listing["_meta"]["hostvars"]["x1000c0s0b0n0"]["first_mac"] == "02:00:00:00:00:01"
    assert listing["_meta"]["hostvars"]["x1000c0s0b0n0"]["where"] == "lab"


def test_cache_hit_makes_no_request(filled, tmp_path):
    options = dict(cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(tmp_path / "cache"),
                   cache_timeout=3600)
    src = tmp_path / "cached.smd.yml"           # the cache key is made from the source's path
    src.write_text(yaml.safe_dump(source(filled, **options)))
    first = filled.run_inventory(src)
    filled.api("smd", "DELETE", "/State/Components/x1000c0s0b0n1")   # SMD changes; the cache does not
    served = smd_requests(filled)
    second = filled.run_inventory(src)
    assert smd_requests(filled) == served
    assert second == first
    assert len(first["_meta"]["hostvars"]) == 4


def test_credentials_only_in_environment_like_awx(filled):
    """AWX injects credentials as environment variables; the source file holds none."""
    src = filled.state / "tmp" / "awx.smd.yml"
    src.parent.mkdir(exist_ok=True)
    src.write_text(yaml.safe_dump({"plugin": "cscs.openchami.smd"}))
    env = filled.ansible_env()
    for key in ("ACCESS_TOKEN", "LAB_ACCESS_TOKEN", "OCHAMI_CONFIG", "OPENCHAMI_CLUSTER"):
        env.pop(key, None)
    env.update(OPENCHAMI_URI=filled.urls["smd"], OPENCHAMI_TOKEN=filled.token)
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["_meta"]["hostvars"]) == 4
    assert filled.token not in proc.stdout + proc.stderr


def test_auth_failure_is_clear(filled):
    src = filled.state / "tmp" / "bad.smd.yml"
    src.write_text(yaml.safe_dump(source(filled, token=filled.mint(expired=True))))
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=filled.ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    text = proc.stdout + proc.stderr
    assert "OpenCHAMI instance lab could not be read" in text
    assert "HTTP 401" in text and "expired at" in text


def test_one_instance_down_others_load(filled):
    instances = [{"name": "alps", "service_uris": {"smd": filled.urls["smd"] + "/hsm/v2"}},
                 {"name": "eiger", "service_uris": {"smd": "http://127.0.0.1:9/hsm/v2"}, "retries": 0}]
    src = filled.state / "tmp" / "fleet.smd.yml"
    src.write_text(yaml.safe_dump({"plugin": "cscs.openchami.smd", "instances": instances}))
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=filled.ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0
    assert "OpenCHAMI instance eiger could not be read" in proc.stderr and "service unreachable" in proc.stderr
    listing = json.loads(proc.stdout)
    assert len(group_hosts(listing, "instance_alps")) == 4
    src.write_text(yaml.safe_dump({"plugin": "cscs.openchami.smd", "instances": instances, "fail_on_instance_error": True}))
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=filled.ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    assert "OpenCHAMI instance eiger could not be read" in proc.stdout + proc.stderr
    assert not json.loads(proc.stdout or "{}").get("_meta", {}).get("hostvars")
    # strict is constructed's strict only: an instance down still only warns
    src.write_text(yaml.safe_dump({"plugin": "cscs.openchami.smd", "instances": instances, "strict": True}))
    proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                          env=filled.ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0 and len(group_hosts(json.loads(proc.stdout), "instance_alps")) == 4


def test_two_instances_at_once(filled):
    """Two real SMDs (the lab's smd and smd2), as two OpenCHAMI instances: every host knows its instance."""
    lab = filled
    for path in ("/State/Components", "/Inventory/EthernetInterfaces"):
        lab.api("smd2", "DELETE", path)
    other = [{"ID": "x9000c0s0b0n0", "State": "Ready", "Role": "Compute", "NID": 1},
             {"ID": "x1000c0s0b0n0", "State": "Ready", "Role": "Compute", "NID": 1}]   # same xname as in the first
    assert lab.api("smd2", "POST", "/State/Components", json={"Components": other}).status_code == 204
    try:
        src = lab.state / "tmp" / "two.smd.yml"
        src.write_text(yaml.safe_dump({"plugin": "cscs.openchami.smd", "instances": [
            {"name": "alps", "service_uris": {"smd": lab.urls["smd"] + "/hsm/v2"}},
            {"name": "eiger", "cluster": "lab2"},          # address from the ochami config, token from the environment
        ]}))
        proc = subprocess.run([str(Path(os.sys.executable).parent / "ansible-inventory"), "-i", str(src), "--list"],
                              env=lab.ansible_env(), capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr
        listing = plain(json.loads(proc.stdout))
        hostvars = listing["_meta"]["hostvars"]
        assert group_hosts(listing, "instance_eiger") == ["eiger_x1000c0s0b0n0", "x9000c0s0b0n0"]
        assert len(group_hosts(listing, "instance_alps")) == 4
        assert hostvars["x9000c0s0b0n0"]["openchami_instance"] == "eiger"
        assert hostvars["eiger_x1000c0s0b0n0"]["smd_id"] == "x1000c0s0b0n0"
        assert ("host name x1000c0s0b0n0 collides: x1000c0s0b0n0 of instance alps has it, x1000c0s0b0n0 of instance "
                "eiger is named eiger_x1000c0s0b0n0 instead") in " ".join(proc.stderr.split())
        assert group_hosts(listing, "hostname_collisions") == ["eiger_x1000c0s0b0n0", "x1000c0s0b0n0"]
    finally:
        lab.api("smd2", "DELETE", "/State/Components")
