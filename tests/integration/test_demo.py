# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's main job: playbooks/demo.yml against the lab, twice."""

from __future__ import annotations

import re
from pathlib import Path

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "demo.yml"


def recap(output):
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert match, output[-2000:]
    return tuple(int(x) for x in match.groups())


def forget_boot_and_cloud_init(lab, nodes):
    """BSS and cloud-init keep their data across lab runs and test files: remove what the demo writes there, and
    every cloud-init group (the demo's summary lists all groups of the instance; other test files leave theirs)."""
    cleanup = [{"hosts": "localhost", "gather_facts": False, "module_defaults": {"group/cscs.openchami.openchami": {
        "service_uris": "{{ openchami_service_uris }}", "token_file": "{{ openchami_token_file }}"}}, "tasks": [
            {"cscs.openchami.boot_config": {"hosts": nodes, "state": "absent"}},
            {"cscs.openchami.cloud_init_info": {}, "register": "existing"},
            {"cscs.openchami.cloud_init_group": {"name": "{{ item }}", "state": "absent"},
             "loop": "{{ (existing.groups | map(attribute='name') | list) + ['compute'] }}"}]}]
    result = lab.run_playbook(cleanup)
    assert result.returncode == 0, result.stdout[-3000:]


def test_demo_registers_the_lab_nodes_and_is_idempotent(lab, clean_smd):
    nodes = ["x1000c0s%db0n0" % bmc["index"] for bmc in lab.bmcs if bmc["kind"] == "bmc"]
    forget_boot_and_cloud_init(lab, nodes)
    first = lab.run_playbook(PLAYBOOK)
    assert first.returncode == 0, first.stdout[-3000:]
    # five tasks write (discover, components, group, boot, cloud-init), four read and report
    assert recap(first.stdout) == (9, 5, 0, 0)
    # the summary a newcomer reads at the end, in counts, and the next commands
    count = len(nodes)
    assert "SMD: %d nodes and %d BMCs, %d MAC addresses, groups: compute" % (count, count, count) in first.stdout
    assert re.search(r"Boot \((bss|boot_service)\): %d of %d compute nodes have a kernel, initrd and parameters"
                     % (count, count), first.stdout)
    assert "cloud-init: 1 group(s): compute" in first.stdout
    assert "ansible-inventory -i inventories/lab/lab.smd.yml --graph" in first.stdout
    components = lab.api("smd", "GET", "/State/Components").json()["Components"]
    # discovered over Redfish: each BMC and its node, the node made a compute node with its NID
    assert sorted(c["ID"] for c in components) == sorted(nodes + [node[:-2] for node in nodes])
    nids = dict(("x1000c0s%db0n0" % bmc["index"], bmc["index"]) for bmc in lab.bmcs if bmc["kind"] == "bmc")
    for component in components:
        if component["ID"] in nids:
            assert (component["Role"], component["NID"]) == ("Compute", nids[component["ID"]])
    macs = dict((i["MACAddress"], i["ComponentID"]) for i in lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json())
    assert macs == dict((bmc["macs"][0], "x1000c0s%db0n0" % bmc["index"]) for bmc in lab.bmcs if bmc["kind"] == "bmc")
    group = lab.api("smd", "GET", "/groups/compute").json()
    assert sorted(group["members"]["ids"]) == sorted(nodes)
    second = lab.run_playbook(PLAYBOOK)
    assert recap(second.stdout) == (9, 0, 0, 0), second.stdout[-3000:]
