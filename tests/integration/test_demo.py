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


def test_demo_registers_the_lab_nodes_and_is_idempotent(lab, clean_smd):
    first = lab.run_playbook(PLAYBOOK)
    assert first.returncode == 0, first.stdout[-3000:]
    ok, changed, _unreachable, failed = recap(first.stdout)
    # SMD is emptied before the test, so its three tasks change something; the boot and cloud-init
    # tasks change something only the first time on a given lab (those services keep their data)
    assert failed == 0 and 3 <= changed <= 5 and ok == 7
    nodes = ["x1000c0s%db0n0" % bmc["index"] for bmc in lab.bmcs if bmc["kind"] == "bmc"]
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
    assert recap(second.stdout)[1] == 0, second.stdout[-3000:]
    assert "components: " in second.stdout
