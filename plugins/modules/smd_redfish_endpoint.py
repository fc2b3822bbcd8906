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
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
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

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import smd


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        endpoints=dict(type="list", elements="dict", required=True, options=smd.ENDPOINT.argument_spec()),
        update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        workers=dict(type="int", default=8),
    ))
    p = module.params
    with module.guard():
        desired = smd.ENDPOINT.desired(p["endpoints"], what="endpoint")
        api = smd.SMD(module.client("smd"), workers=p["workers"])
        plan = smd.apply_redfish_endpoints(api, desired, p["state"], p["update_password"], module.check_mode)
    module.exit_json(**smd.endpoint_result(plan))


if __name__ == "__main__":
    main()
