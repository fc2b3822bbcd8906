#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_cfs_info
short_description: Read components and configurations from CSM's Configuration Framework Service (CFS v3)
version_added: 0.1.0
description:
  - Returns CFS v3 components (whether CFS configures a node, its desired configuration and status) and
    configurations, following CFS v3 paging (C(limit), C(after_id)) to the end.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.attributes.info_module
  - cscs.openchami.csm
options:
  nodes:
    description: Only the components of these xnames. Default is all.
    type: list
    elements: str
  configurations:
    description: Also return the CFS configurations.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: CFS state of the compute nodes
  cscs.openchami.csm_cfs_info:
    nodes: "{{ compute_nodes }}"
    configurations: false
  register: cfs
"""

RETURN = r"""
components:
  description: CFS v3 components.
  returned: always
  type: list
  elements: dict
  sample: [{id: x1000c0s0b0n0, enabled: true, desired_config: compute-23.7, configuration_status: configured}]
configurations:
  description: CFS v3 configurations with their layers.
  returned: when O(configurations=true)
  type: list
  elements: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.csm import check_xnames
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import info_main


def read(csm, params):
    result = {"components": csm.cfs_components(check_xnames(params["nodes"]))}
    if params["configurations"]:
        result["configurations"] = csm.cfs_configurations()
    return result


def main():
    info_main(dict(nodes=dict(type="list", elements="str"), configurations=dict(type="bool", default=True)), read)


if __name__ == "__main__":
    main()
