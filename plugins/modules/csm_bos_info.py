#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_bos_info
short_description: Read session templates and components from CSM's Boot Orchestration Service (BOS v2)
version_added: 0.1.0
description:
  - Returns BOS v2 session templates and components (whether BOS acts on a node, its desired and actual boot artifacts).
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
  templates:
    description: Only these session template names. Default is all.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: BOS state of a node and the compute template
  cscs.openchami.csm_bos_info:
    nodes: [x1000c0s0b0n0]
    templates: [compute-23.7]
  register: bos
"""

RETURN = r"""
sessiontemplates:
  description: BOS v2 session templates.
  returned: always
  type: list
  elements: dict
components:
  description: BOS v2 components.
  returned: always
  type: list
  elements: dict
  sample: [{id: x1000c0s0b0n0, enabled: true, desired_state: {boot_artifacts: {kernel: "s3://boot-images/.../kernel"}}}]
"""

from ansible_collections.cscs.openchami.plugins.module_utils.csm import check_xnames
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import info_main


def read(csm, params):
    templates = csm.bos_sessiontemplates()
    if params["templates"]:
        templates = [t for t in templates if t.get("name") in params["templates"]]
    return {"sessiontemplates": templates, "components": csm.bos_components(check_xnames(params["nodes"]))}


def main():
    info_main(dict(nodes=dict(type="list", elements="str"), templates=dict(type="list", elements="str")), read)


if __name__ == "__main__":
    main()
