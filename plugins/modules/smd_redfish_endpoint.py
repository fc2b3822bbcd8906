#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_redfish_endpoint
short_description: Manage Redfish endpoints (BMCs) in OpenCHAMI SMD, with their inventory
version_added: 0.1.0
description:
  - Creates, updates and deletes SMD Redfish endpoints, the BMCs that SMD and the power-control service reach.
  - With O(endpoints[].inventory), the endpoint is sent with the inventory payload that magellan and the ochami
    CLI send (C(SchemaVersion) 1, C(Systems), C(Managers)); SMD turns it into node components
    (C(<ID>n0), C(<ID>n1), ... in the order of C(Systems)), component endpoints and Ethernet interfaces.
  - Idempotent on what SMD derived, too - an endpoint whose fields match and whose inventory interfaces
    (component, MAC) are all in SMD is left alone; otherwise it is written with an upsert (PUT), which
    SMD re-parses.
  - Unmanaged fields of an existing endpoint are kept.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.connection
attributes:
  check_mode:
    support: full
    description: Computes and reports the changes without writing.
  diff_mode:
    support: full
    description: Shows the changed fields (never the password).
options:
  endpoints:
    description: The endpoints.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: Controller xname of the BMC, for example V(x1000c0s0b0) (node BMC) or V(x1000c0b0) (chassis BMC).
        type: str
        required: true
      fqdn:
        description: Host name or IP address the BMC is reached at (unique in SMD).
        type: str
      ip_address:
        description: IP address of the BMC.
        type: str
      mac_address:
        description: MAC address of the BMC.
        type: str
      user:
        description: Redfish user name.
        type: str
      password:
        description: Redfish password; never shown.
        type: str
      enabled:
        description: Whether the endpoint is enabled.
        type: bool
      inventory:
        description:
          - The inventory payload, a dict with C(Systems) and C(Managers) lists as magellan collects them
            (C(uri), C(uuid), C(name), C(actions), C(ethernet_interfaces) with C(mac), C(ip), C(description)).
          - C(SchemaVersion) is set to V(1).
        type: dict
  update_password:
    description: V(on_create) sets the password only on new endpoints; V(always) also on existing ones.
    type: str
    choices: [always, on_create]
    default: on_create
  state:
    description: V(present) creates or updates, V(absent) deletes the endpoints (SMD removes their component endpoints).
    type: str
    choices: [present, absent]
    default: present
  workers:
    description: Concurrent requests for writes.
    type: int
    default: 8
seealso:
  - module: cscs.openchami.smd_redfish_endpoint_info
"""

EXAMPLES = r"""
- name: A node BMC with its two nodes
  cscs.openchami.smd_redfish_endpoint:
    endpoints:
      - id: x1000c1s0b0
        fqdn: 172.16.0.101
        user: root
        password: "{{ vault_bmc_password }}"
        inventory:
          Managers:
            - {uri: /redfish/v1/Managers/BMC, name: BMC, ethernet_interfaces: [{mac: "de:ca:fc:0f:ee:ee", ip: 172.16.0.101}]}
          Systems:
            - {uri: /redfish/v1/Systems/Node0, uuid: 7a1c2f3e-0000-4000-8000-000000000001, actions: ["On", "ForceOff"],
               ethernet_interfaces: [{mac: "de:ad:be:ee:ee:f1", ip: 172.16.0.1, description: nmn}]}
"""

RETURN = r"""
endpoints:
  description: The endpoints of the task that were created or updated, after the change (passwords removed); unchanged ones are counted in RV(summary) only.
  returned: always
  type: list
  elements: dict
summary:
  description: How many endpoints were created, updated, deleted or left unchanged.
  returned: always
  type: dict
"""

import copy

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd

FIELDS = (("id", "ID"), ("fqdn", "FQDN"), ("ip_address", "IPAddress"), ("mac_address", "MACAddr"), ("user", "User"),
          ("password", "Password"), ("enabled", "Enabled"))


def check_inventory(value):
    if not isinstance(value, dict):
        raise ValueError("inventory must be a dict with Systems and Managers")
    out = copy.deepcopy(value)
    for part in ("Systems", "Managers"):
        for index, entry in enumerate(out.get(part) or []):
            for nic in entry.get("ethernet_interfaces") or []:
                try:
                    nic["mac"] = resource.normalize_mac(nic.get("mac") or "")
                    if nic.get("ip"):
                        nic["ip"] = resource.normalize_ip(nic["ip"])
                except ValueError as exc:
                    raise ValueError("%s[%d]: %s" % (part, index, exc))
    return out


def inventory_pairs(endpoint_id, inventory):
    """(component xname, MAC) pairs SMD derives from an inventory payload (NICs with an IP only)."""
    pairs = set()
    for index, system in enumerate(inventory.get("Systems") or []):
        for nic in system.get("ethernet_interfaces") or []:
            if nic.get("ip"):
                pairs.add("%sn%d %s" % (endpoint_id, index, nic["mac"]))
    for manager in inventory.get("Managers") or []:
        for nic in manager.get("ethernet_interfaces") or []:
            if nic.get("ip"):
                pairs.add("%s %s" % (endpoint_id, nic["mac"]))
    return sorted(pairs)


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        endpoints=dict(type="list", elements="dict", required=True, options=dict(
            id=dict(type="str", required=True),
            fqdn=dict(type="str"),
            ip_address=dict(type="str"),
            mac_address=dict(type="str"),
            user=dict(type="str"),
            password=dict(type="str", no_log=True),
            enabled=dict(type="bool"),
            inventory=dict(type="dict"),
        )),
        update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        workers=dict(type="int", default=8),
    ))
    p = module.params
    desired = []
    for item in p["endpoints"]:
        entry = dict((ours, item[mine]) for mine, ours in FIELDS if item.get(mine) is not None)
        if item.get("inventory") is not None:
            entry["Inventory"] = item["inventory"]
        desired.append(entry)
    with module.guard():
        resource.validate(desired, {"ID": smd.check_xname, "IPAddress": resource.normalize_ip,
                                    "MACAddr": resource.normalize_mac, "Inventory": check_inventory})
        api = smd.SMD(module.client("smd"), workers=p["workers"])
        needs_interfaces = any("Inventory" in d for d in desired)
        calls = [api.redfish_endpoints] + ([api.interfaces] if needs_interfaces else [])
        found = smd.parallel(lambda call: call(), calls)
        present_pairs = set()
        if needs_interfaces:
            present_pairs = set("%s %s" % (i["ComponentID"], i["MACAddress"]) for i in smd.normalize_interfaces(found[1]))
        current = []
        wanted_pairs = dict((d["ID"], inventory_pairs(d["ID"], d["Inventory"])) for d in desired if "Inventory" in d)
        for ep in found[0]:
            entry = dict(ep)
            if ep.get("ID") in wanted_pairs:
                # equal to the desired pairs exactly when all of them are present in SMD
                entry["Inventory"] = [x for x in wanted_pairs[ep["ID"]] if x in present_pairs]
            current.append(entry)
        existing = set(ep.get("ID") for ep in found[0])
        for entry in desired:
            if entry["ID"] in existing and p["update_password"] == "on_create":
                entry.pop("Password", None)
            if "Inventory" in entry:
                entry["Inventory"], entry["_payload"] = wanted_pairs[entry["ID"]], entry["Inventory"]
        plan = resource.plan(desired, current, "ID", state=p["state"],
                             normalizers={"_payload": lambda v: None, "MACAddr": resource.normalize_mac})

        def write(changes):
            bodies = []
            for change in changes:
                body = dict((k, v) for k, v in change.after.items() if k not in ("Inventory", "_payload"))
                payload = change.after.get("_payload")
                if payload is not None:
                    body.update(payload)
                    body["SchemaVersion"] = 1
                bodies.append(body)
            api.put_redfish_endpoints(bodies)
        resource.apply(plan, module.check_mode, create=write, update=write,
                       delete=lambda changes: api.delete_redfish_endpoints([c.key for c in changes]))
    out = resource.result(plan)
    for side in ("before", "after"):
        for value in out["diff"][side].values():
            if isinstance(value, dict):
                value.pop("Password", None)
                value.pop("_payload", None)
    out["endpoints"] = [dict((k, v) for k, v in r.items() if k not in ("Password", "_payload")) for r in plan.resources()]
    module.exit_json(**out)


if __name__ == "__main__":
    main()
