#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_power_info
short_description: Read power state from CSM's Power Control Service (PCS)
version_added: 0.1.0
description:
  - Returns the PCS power status (power state, management state, supported transitions) of components.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.attributes.info_module
  - cscs.openchami.csm
options:
  nodes:
    description: Only these xnames. Default is every component PCS knows.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Power state of two nodes
  cscs.openchami.csm_power_info:
    nodes: [x1000c0s0b0n0, x1000c0s0b0n1]
  register: power
"""

RETURN = r"""
power_status:
  description: PCS power status entries.
  returned: always
  type: list
  elements: dict
  sample: [{xname: x1000c0s0b0n0, powerState: "on", managementState: available}]
"""

from ansible_collections.cscs.openchami.plugins.module_utils.csm import check_xnames
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import info_main


def read(csm, params):
    return {"power_status": csm.pcs_power_status(check_xnames(params["nodes"]))}


def main():
    info_main(dict(nodes=dict(type="list", elements="str")), read)


if __name__ == "__main__":
    main()
