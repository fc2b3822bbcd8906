#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_bss_info
short_description: Read boot parameters from CSM's Boot Script Service (BSS)
version_added: 0.1.0
description:
  - Returns the BSS boot parameters (kernel, initrd, kernel parameters) of nodes.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.attributes.info_module
  - cscs.openchami.csm
options:
  nodes:
    description: Only the boot parameters of these xnames. Default is all.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: What CSM boots two nodes with
  cscs.openchami.csm_bss_info:
    nodes: [x1000c0s0b0n0, x1000c0s0b0n1]
  register: bss
"""

RETURN = r"""
bootparameters:
  description: BSS boot parameter entries (C(hosts), C(kernel), C(initrd), C(params)).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.csm import check_xnames
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import info_main


def read(csm, params):
    return {"bootparameters": csm.bss_bootparameters(check_xnames(params["nodes"]))}


def main():
    info_main(dict(nodes=dict(type="list", elements="str")), read)


if __name__ == "__main__":
    main()
