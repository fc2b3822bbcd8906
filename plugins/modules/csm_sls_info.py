#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_sls_info
short_description: Read CSM's System Layout Service (SLS)
version_added: 0.1.0
description:
  - Returns SLS hardware (optionally of some types only), a summary of every node with its NID, role, subrole
    and aliases (C(ExtraProperties) as CSM writes them), and the networks.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.attributes.info_module
  - cscs.openchami.csm
options:
  types:
    description: Only hardware of these C(TypeString) values, for example V(Node), V(NodeBMC), V(Cabinet).
    type: list
    elements: str
  networks:
    description: Also return the SLS networks.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Nodes with their NIDs and aliases
  cscs.openchami.csm_sls_info:
    types: [Node]
    networks: false
  register: sls
"""

RETURN = r"""
hardware:
  description: SLS hardware entries.
  returned: always
  type: list
  elements: dict
nodes:
  description: Every node among O(types) as xname, class, parent, nid, role, subrole and aliases.
  returned: always
  type: list
  elements: dict
  sample: [{xname: x1000c0s0b0n0, class: Mountain, parent: x1000c0s0b0, nid: 1, role: Compute, subrole: "", aliases: [nid000001]}]
networks:
  description: SLS networks.
  returned: when O(networks=true)
  type: list
  elements: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.csm import sls_node_summary
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import info_main


def read(csm, params):
    hardware = csm.sls_hardware(params["types"])
    result = {"hardware": hardware,
              "nodes": [sls_node_summary(item) for item in hardware if item.get("TypeString") == "Node"]}
    if params["networks"]:
        result["networks"] = csm.sls_networks()
    return result


def main():
    info_main(dict(types=dict(type="list", elements="str"), networks=dict(type="bool", default=True)), read)


if __name__ == "__main__":
    main()
