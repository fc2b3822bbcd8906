#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_ethernet_interface_info
short_description: Read Ethernet interfaces from OpenCHAMI SMD
version_added: 0.1.0
description:
  - Returns SMD Ethernet interfaces, filtered by SMD itself, with normalised MAC addresses.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
options:
  macs:
    description: MAC addresses, in any usual notation.
    type: list
    elements: str
  component_ids:
    description: Xnames of the components.
    type: list
    elements: str
  ip_addresses:
    description: IP addresses.
    type: list
    elements: str
  network:
    description: Network name of the IP addresses.
    type: str
"""

EXAMPLES = r"""
- name: Interfaces of one node
  cscs.openchami.smd_ethernet_interface_info:
    component_ids: [x1000c0s0b0n0]
  register: nics
"""

RETURN = r"""
interfaces:
  description: The matching interfaces, sorted by MAC.
  returned: always
  type: list
  elements: dict
  sample: [{MACAddress: "de:ad:be:ef:00:01", ComponentID: x1000c0s0b0n0, Description: nmn,
            IPAddresses: [{IPAddress: 10.100.0.1, Network: nmn}]}]
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        macs=dict(type="list", elements="str"),
        component_ids=dict(type="list", elements="str"),
        ip_addresses=dict(type="list", elements="str"),
        network=dict(type="str"),
    ))
    p = module.params
    with module.guard():
        errors = []
        macs = [smd.interface_id(m) for m in resource.check_each(p["macs"], resource.normalize_mac, "macs", errors)]
        comps = resource.check_each(p["component_ids"], smd.check_xname, "component_ids", errors)
        ips = resource.check_each(p["ip_addresses"], resource.normalize_ip, "ip_addresses", errors)
        if errors:
            raise resource.ValidationError(errors)
        found = smd.SMD(module.client("smd")).interfaces(id=macs, componentid=comps, ipaddress=ips, network=p["network"])
    interfaces = sorted(smd.normalize_interfaces(found), key=lambda i: i["MACAddress"])
    module.exit_json(changed=False, interfaces=interfaces)


if __name__ == "__main__":
    main()
