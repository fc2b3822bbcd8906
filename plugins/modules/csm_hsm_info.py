#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_hsm_info
short_description: Read CSM's Hardware State Manager (HSM)
version_added: 0.1.0
description:
  - Returns HSM components, groups, partitions, Ethernet interfaces and the lock and reservation state of components.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.attributes.info_module
  - cscs.openchami.csm
options:
  nodes:
    description: Only these component xnames (components, interfaces and locks). Default is all components.
    type: list
    elements: str
  include:
    description: What to read.
    type: list
    elements: str
    choices: [components, groups, partitions, ethernet_interfaces, locks]
    default: [components, groups, partitions, ethernet_interfaces, locks]
"""

EXAMPLES = r"""
- name: Everything HSM knows about two nodes
  cscs.openchami.csm_hsm_info:
    csm_api_url: https://api-gw-service-nmn.local/apis
    csm_client_secret: "{{ vault_csm_admin_client_secret }}"
    nodes: [x1000c0s0b0n0, x1000c0s0b0n1]
  register: hsm
"""

RETURN = r"""
components:
  description: HSM components (C(State/Components)).
  returned: when O(include) has V(components)
  type: list
  elements: dict
  sample: [{ID: x1000c0s0b0n0, Type: Node, State: Ready, Role: Compute, NID: 1, Enabled: true}]
groups:
  description: HSM groups with their members.
  returned: when O(include) has V(groups)
  type: list
  elements: dict
partitions:
  description: HSM partitions with their members.
  returned: when O(include) has V(partitions)
  type: list
  elements: dict
ethernet_interfaces:
  description: HSM Ethernet interfaces (MAC, IPs, component), from which CSM's DHCP serves leases.
  returned: when O(include) has V(ethernet_interfaces)
  type: list
  elements: dict
locks:
  description: Lock and reservation state per component (C(Locked), C(Reserved), C(ReservationDisabled)).
  returned: when O(include) has V(locks)
  type: list
  elements: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.csm import check_xnames
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import info_main

PARTS = ["components", "groups", "partitions", "ethernet_interfaces", "locks"]


def read(csm, params):
    nodes = check_xnames(params["nodes"])
    include = params["include"]
    result = {}
    components = csm.hsm_components(nodes) if ("components" in include or "locks" in include) else []
    if "components" in include:
        result["components"] = components
    if "groups" in include:
        result["groups"] = csm.hsm_groups()
    if "partitions" in include:
        result["partitions"] = csm.hsm_partitions()
    if "ethernet_interfaces" in include:
        result["ethernet_interfaces"] = csm.hsm_ethernet_interfaces(nodes)
    if "locks" in include:
        ids = nodes or [c["ID"] for c in components]
        status = csm.hsm_lock_status(ids) if ids else {}
        result["locks"] = [status[i] for i in ids if i in status]
    return result


def main():
    info_main(dict(nodes=dict(type="list", elements="str"),
                   include=dict(type="list", elements="str", choices=PARTS, default=PARTS)), read)


if __name__ == "__main__":
    main()
