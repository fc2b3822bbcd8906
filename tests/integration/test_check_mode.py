# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module, run once in check mode against the lab, changes nothing anywhere.

The state of every lab service (both SMDs, BSS, boot-service, cloud-init, the PCS emulator's transitions) and
of the emulated BMCs is dumped before and after, and the two dumps must be byte-identical; the modules that
write must still report the change they would make. A meta-test checks that every module in plugins/modules has an entry here and is
exercised by at least one other integration test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
NEW_NODE, NEW_BMC = "x1000c0s7b0n0", "x1000c0s7b0"


def check_mode_tasks(nodes, bmcs, dest):
    """One task per module: arguments that would change something (writers) or read (info modules).

    ``nodes`` are known to SMD with their BMCs; the last of ``bmcs`` is not (discovery would add it).
    """
    first = nodes[0]
    return {
        "smd_component": {"components": [{"ID": NEW_NODE, "State": "Ready", "Role": "Compute", "NID": 700},
                                         {"ID": first, "Role": "Service"}]},
        "smd_component_info": {},
        "smd_ethernet_interface": {"interfaces": [{"mac": "02:00:00:00:07:01", "component_id": first}]},
        "smd_ethernet_interface_info": {},
        "smd_group": {"groups": [{"label": "checkmode", "members": [first]}]},
        "smd_group_info": {},
        "smd_partition": {"partitions": [{"name": "p7", "members": [first]}]},
        "smd_info": {},
        "smd_redfish_endpoint": {"endpoints": [{"id": NEW_BMC, "fqdn": "10.9.9.9", "user": "root",
                                                "password": "check-mode-password"}]},
        "smd_redfish_endpoint_info": {},
        "boot_config": {"hosts": nodes, "kernel": "http://10.0.0.1/check/vmlinuz",
                        "initrd": "http://10.0.0.1/check/initrd", "params": "console=ttyS0 checkmode"},
        "boot_config_info": {"hosts": nodes},
        "cloud_init_defaults": {"cluster_name": "checkmode"},
        "cloud_init_group": {"name": "checkmode", "content": "#cloud-config\nruncmd: [true]\n"},
        "cloud_init_info": {},
        "cloud_init_instance": {"instances": [{"xname": first, "local_hostname": "checkmode"}]},
        "redfish_discover": {"targets": [b["ip"] for b in bmcs], "dest": dest,
                             "xname_map": dict((b["ip"], "x1000c0s%db0" % b["index"]) for b in bmcs)},
        "redfish_info": {"nodes": nodes},
        "redfish_power": {"nodes": nodes, "state": "off"},
        "redfish_boot": {"nodes": nodes, "target": "pxe"},
        "power": {"nodes": nodes, "state": "off"},
        "power_info": {"nodes": nodes},
    }


READERS = set(m for m in MODULES if m.endswith("_info"))


def bmc_state(lab):
    """Power state and boot override of every emulated node, read from the BMCs themselves."""
    out = {}
    auth = (lab.info["bmc_user"], lab.info["bmc_password"])
    for bmc in lab.bmcs:
        if bmc["kind"] != "bmc":
            continue
        base = "https://%s" % bmc["ip"]

        def get(path, bmc=bmc):
            return requests.get(base + path, auth=auth, verify=bmc["cafile"], timeout=30).json()
        for member in get("/redfish/v1/Systems")["Members"]:
            system = get(member["@odata.id"])
            out[base + member["@odata.id"]] = {"PowerState": system.get("PowerState"), "Boot": system.get("Boot")}
    return out


def canonical(value):
    """Lists in a stable order: SMD answers /memberships (and others) in a different order on every call."""
    if isinstance(value, dict):
        return dict((k, canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def dump_everything(lab):
    """Every service's state, as one canonical JSON text."""
    def get(service, path):
        response = lab.api(service, "GET", path)
        response.raise_for_status()
        return response.json()
    state = {}
    for smd in ("smd", "smd2"):
        for path in ("/State/Components", "/Inventory/EthernetInterfaces", "/groups", "/partitions",
                     "/Inventory/RedfishEndpoints", "/Inventory/ComponentEndpoints", "/memberships"):
            state[smd + path] = get(smd, path)
    state["bss"] = get("bss", "/bootparameters")
    state["boot-service"] = get("boot-service", "/bootconfigurations")
    state["cloud-init groups"] = get("cloud-init", "/admin/groups")
    state["cloud-init defaults"] = get("cloud-init", "/admin/cluster-defaults")
    state["pcs transitions"] = get("pcs", "/transitions")
    state["bmcs"] = bmc_state(lab)
    return json.dumps(canonical(state), sort_keys=True, indent=1)


def test_every_module_in_check_mode_changes_nothing(lab, clean_smd, tmp_path):
    bmcs = [b for b in lab.bmcs if b["kind"] == "bmc"]
    assert len(bmcs) >= 2, "the lab runs at least two emulated BMCs"
    known = bmcs[:-1]    # registered now; the last one is left for redfish_discover to find in check mode
    nodes = ["x1000c0s%db0n0" % b["index"] for b in known]
    connection = {"service_uris": "{{ openchami_service_uris }}", "token_file": "{{ openchami_token_file }}"}
    bmc_options = {"bmc_user": "{{ openchami_bmc_user }}", "bmc_password": "{{ openchami_bmc_password }}",
                   "bmc_ca_path": "{{ openchami_bmc_ca_path }}"}
    defaults = {"group/cscs.openchami.openchami": connection, "group/cscs.openchami.redfish": bmc_options}
    discover = {"targets": [b["ip"] for b in known], "xname_map": dict((b["ip"], "x1000c0s%db0" % b["index"]) for b in known)}
    setup = [{"hosts": "localhost", "gather_facts": False, "module_defaults": defaults, "tasks": [
        {"cscs.openchami.redfish_discover": discover},
        {"cscs.openchami.smd_component": {"components": [{"ID": n, "Role": "Compute"} for n in nodes]}},
        {"cscs.openchami.redfish_power": {"nodes": nodes, "state": "on"}}]}]
    ready = lab.run_playbook(setup)
    assert ready.returncode == 0, ready.stdout[-3000:]

    dest = tmp_path / "discovered.json"
    tasks = check_mode_tasks(nodes, bmcs, str(dest))
    results_file = tmp_path / "results.json"
    registered = [{"name": module, "cscs.openchami." + module: args, "register": "r_" + module, "check_mode": True,
                   "diff": True} for module, args in tasks.items()]
    registered.append({"ansible.builtin.copy": {
        "content": "{{ {%s} | to_json }}" % ", ".join("'%s': r_%s" % (m, m) for m in tasks),
        "dest": str(results_file), "mode": "0600"}, "check_mode": False})
    play = [dict(setup[0], tasks=registered)]

    before = dump_everything(lab)
    proc = lab.run_playbook(play)
    after = dump_everything(lab)
    assert proc.returncode == 0, proc.stdout[-4000:]
    if before != after:
        old, new = json.loads(before), json.loads(after)
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise AssertionError("check mode wrote to: %s" % ", ".join(changed))
    assert not dest.exists(), "redfish_discover wrote dest in check mode"
    results = json.loads(results_file.read_text())
    for module, result in results.items():
        assert not result.get("failed"), (module, result.get("msg"))
        if module in READERS:
            assert result["changed"] is False, module
        else:
            assert result["changed"] is True, "%s in check mode did not report the change it would make" % module


# modules whose check-mode run (with a dump of the service before and after) is in another file, because the
# services they need are started there: the CSM side (Keycloak, gateway, emulators) by test_csm.py
ELSEWHERE = {"test_csm.py": [m for m in MODULES if m.startswith("csm_")],
             "test_cluster.py": ["cluster_apply", "cluster_plan", "cluster_rollback", "cluster_snapshot", "fleet_info"],
             "test_node_migration.py": ["migration_ledger", "node_ownership_info"]}
ELSEWHERE["test_image.py"] = ["image", "image_build", "image_import", "image_info"]


def test_every_module_has_a_check_mode_run_and_an_integration_test():
    elsewhere = sorted(m for modules in ELSEWHERE.values() for m in modules)
    assert sorted(list(check_mode_tasks(["x"], [], "d")) + elsewhere) == MODULES
    for filename, modules in ELSEWHERE.items():
        text = (Path(__file__).parent / filename).read_text(encoding="utf-8")
        assert "check=True" in text and all(m in text for m in modules), filename
    texts = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py")
                      if p.name != Path(__file__).name)
    untested = [m for m in MODULES if not re.search(r"cscs\.openchami\.%s\b|[\"']%s[\"']" % (m, m), texts)]
    assert not untested, "modules without an integration test of their own: %s" % ", ".join(untested)
