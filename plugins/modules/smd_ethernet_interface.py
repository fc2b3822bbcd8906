#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_ethernet_interface
short_description: Manage Ethernet interfaces (MAC, component, IP addresses) in OpenCHAMI SMD
version_added: 0.1.0
description:
  - Creates, updates and deletes SMD Ethernet interfaces, identified by MAC address.
  - MAC addresses are normalised (case, V(:), V(-), V(.) separators) before comparing; IP addresses are
    compared as a set of (address, network) pairs.
  - Only the fields given are managed. SMD has no bulk endpoint for interfaces, so the writes run
    concurrently (O(workers) at a time); the current state is read with one request.
  - Every MAC, xname and IP address is validated, and duplicate MACs are rejected, before anything is written.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
  - cscs.openchami.nodes.src
attributes:
  check_mode:
    support: full
    description: Computes and reports the changes without writing.
  diff_mode:
    support: full
    description: Shows the changed fields of each interface.
options:
  interfaces:
    description: The interfaces.
    type: list
    elements: dict
    suboptions:
      mac:
        description: MAC address, in any usual notation.
        type: str
        required: true
      component_id:
        description: Xname of the component the interface belongs to.
        type: str
      description:
        description: Free text, for example the network or NIC name.
        type: str
      ip_addresses:
        description: The interface's IP addresses, replacing the current list when given.
        type: list
        elements: dict
        suboptions:
          ip_address:
            description: IPv4 or IPv6 address.
            type: str
            required: true
          network:
            description: Network name, for example V(nmn) or V(hsn).
            type: str
            default: ""
  state:
    description: V(present) creates or updates, V(absent) deletes the interfaces.
    type: str
    choices: [present, absent]
    default: present
  workers:
    description: Concurrent requests for writes.
    type: int
    default: 8
seealso:
  - module: cscs.openchami.smd_ethernet_interface_info
"""

EXAMPLES = r"""
- name: Node NICs on the management network
  cscs.openchami.smd_ethernet_interface:
    interfaces:
      - mac: DE:AD:BE:EF:00:01
        component_id: x1000c0s0b0n0
        description: nmn
        ip_addresses: [{ip_address: 10.100.0.1, network: nmn}]
"""

RETURN = r"""
interfaces:
  description: The interfaces of the task that were created or updated, after the change, with normalised MACs; unchanged ones are counted in RV(summary) only.
  returned: always
  type: list
  elements: dict
summary:
  description: How many interfaces were created, updated, deleted or left unchanged.
  returned: always
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule, src_option
from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        interfaces=dict(type="list", elements="dict", options=smd.INTERFACE.argument_spec()),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        workers=dict(type="int", default=8),
        src=src_option(),
    ), required_one_of=[("interfaces", "src")], mutually_exclusive=[("interfaces", "src")])
    with module.guard():
        desired = smd.INTERFACE.desired(module.items("interfaces"), what="interface")
        api = smd.SMD(module.client("smd"), workers=module.params["workers"])
        plan = smd.apply_interfaces(api, desired, module.params["state"], module.check_mode)
    module.exit_json(**resource.result(plan, interfaces=plan.resources()))


if __name__ == "__main__":
    main()
