#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: redfish_discover
short_description: Discover BMCs over Redfish and register them, with their nodes and NICs, in OpenCHAMI SMD
version_added: 0.1.0
description:
  - Probes each target (a TCP connection, then the unauthenticated Redfish service root), collects the systems,
    managers, chassis, Ethernet interfaces (MAC, IPv4) and firmware versions of every BMC that answers, many BMCs
    at once, and pushes the result to SMD as Redfish endpoints with the inventory payload SMD understands
    (C(SchemaVersion) 1), so SMD creates the node components (C(<bmc>n0), C(<bmc>n1), ...), their component
    endpoints and Ethernet interfaces.
  - NICs that the BMC reports without an IPv4 address (SMD's inventory parser skips them) are registered as SMD
    Ethernet interfaces of their node, so every MAC a BMC shows ends up in SMD.
  - Idempotent; a re-run against unchanged hardware changes nothing. With O(push=false) the result is only
    returned (and written to O(dest) if given), for review.
  - One unreachable BMC, a wrong password or a BMC without an xname is reported in RV(bmcs) and never stops the
    others; the task fails only if O(fail_on_error) says so.
  - "The BMC xname comes from, in this order: the target's own C(xname), O(xname_map) by address, the first
    label of the target's host name if it is an xname (C(x1000c0s0b0.mgmt.example.ch)). A BMC with none of
    these is reported with status C(no_xname) and not written."
  - The vendor profile (O(profile)) decides which systems are nodes and which manager NIC is the BMC's own,
    see the collection's C(docs/redfish_profiles.md).
  - Types follow the xname and the Redfish answer. A BMC whose xname is not a node BMC's (a chassis controller,
    C(x1000c1b0)) is registered as a component of its xname's type (C(ChassisBMC)), with its NICs as Ethernet
    interfaces and no component endpoint (SMD's inventory parser would type it C(NodeBMC)); one registered as
    C(NodeBMC) before is replaced. A BMC with systems under a xname that is not a node BMC's, or a chassis
    controller under a node BMC's xname, is reported with status C(error) and not written.
  - SMD tells nodes apart by the system's UUID. A system that shows no UUID gets a name-based UUID (version 5)
    made from the BMC's address and the system's Redfish path, so it stays the same from run to run; it changes
    when the BMC's address changes (new IP or host name), and SMD then sees a new node.
  - "NIDs: SMD's inventory parser gives the nodes of each BMC the NIDs 1, 2, ... in the order of the BMC's
    systems, so nodes of different BMCs share NIDs. After writing, the module warns about every NID that a
    discovered node shares with another node, and returns them in RV(nid_collisions). Set the NIDs you want
    with M(cscs.openchami.smd_component) (C(components: [{ID: x1000c0s0b0n0, NID: 1001}])): SMD keeps them when
    the BMC is discovered again."
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.redfish
  - cscs.openchami.connection
  - cscs.openchami.redfish
  - cscs.openchami.redfish.discover
attributes:
  check_mode:
    support: full
    description: Reads the BMCs and SMD, computes what would be written, writes nothing to SMD.
  diff_mode:
    support: full
    description: Shows the Redfish endpoints that change (never a password).
seealso:
  - module: cscs.openchami.smd_redfish_endpoint
  - module: cscs.openchami.redfish_info
"""

EXAMPLES = r"""
- name: Discover the BMCs of a new chassis and register them in SMD
  cscs.openchami.redfish_discover:
    targets:
      - 172.16.0.0/28
      - {address: bmc-gpu01.mgmt.example.ch, xname: x3000c0s19b0, profile: gigabyte}
    xname_map:
      172.16.0.1: x1000c0s0b0
      172.16.0.2: x1000c0s1b0
    bmc_user: root
    bmc_password: "{{ vault_bmc_password }}"
    bmc_ca_path: /etc/pki/bmc-ca.pem
  register: found

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ found.bmcs | selectattr('status', 'ne', 'ok') | list }}"

- name: Only look, write a file for review
  cscs.openchami.redfish_discover:
    targets: [172.16.0.10]
    xname_map: {172.16.0.10: x1000c1s0b0}
    push: false
    dest: /tmp/discovered.json
"""

RETURN = r"""
bmcs:
  description: One entry per target, in target order.
  returned: always
  type: list
  elements: dict
  contains:
    address: {description: "Address of the BMC.", type: str}
    xname: {description: "BMC xname (None if none was found).", type: str}
    status:
      description:
        - V(ok); V(unreachable) (no TCP connection, or no Redfish service root); V(tls_failed) (the BMC answered but
          its certificate did not verify against O(bmc_ca_path)); V(auth_failed); V(no_xname); or V(error).
      type: str
    message: {description: "What went wrong (absent when V(ok)).", type: str}
    profile: {description: "Vendor profile used.", type: str}
    nodes: {description: "Node xnames with their UUID and MACs: C(xname), C(uuid), C(macs).", type: list}
    bmc_mac: {description: "MAC of the BMC's own NIC, when the BMC shows it.", type: str}
    firmware: {description: "Manager Id -> firmware version.", type: dict}
    chassis: {description: "The chassis read (see O(collect_chassis)), each with C(uri), C(type), C(power_state).", type: list}
summary:
  description: Counts of the BMCs by status, and of the endpoints created, updated, unchanged.
  returned: always
  type: dict
nid_collisions:
  description:
    - NID -> the node xnames sharing it, for every NID a discovered node shares with another node in SMD after the
      task (each also given as a warning). Not computed in check mode or with O(push=false).
  returned: when BMCs were written
  type: dict
  sample: {"1": [x1000c0s0b0n0, x1000c0s1b0n0]}
requests:
  description: HTTP requests sent to the BMCs, in all.
  returned: always
  type: int
"""

from ansible_collections.cscs.openchami.plugins.module_utils.discovery import main


if __name__ == "__main__":
    main()
