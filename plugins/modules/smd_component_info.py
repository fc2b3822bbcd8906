#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_component_info
short_description: Read components from OpenCHAMI SMD with server-side filters
version_added: 0.1.0
description:
  - Returns the SMD components matching the filters. Filters are passed to SMD, so only the matching
    components cross the network; filters combine with AND, values of one filter with OR.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
options:
  ids:
    description: Component xnames.
    type: list
    elements: str
  type:
    description: HMS types, for example V(Node) or V(NodeBMC).
    type: list
    elements: str
  state:
    description: States, for example V(Ready).
    type: list
    elements: str
  flag:
    description: Flags.
    type: list
    elements: str
  enabled:
    description: Only enabled (V(true)) or disabled (V(false)) components.
    type: bool
  role:
    description: Roles.
    type: list
    elements: str
  subrole:
    description: Sub-roles.
    type: list
    elements: str
  arch:
    description: Architectures.
    type: list
    elements: str
  class:
    description: Hardware classes.
    type: list
    elements: str
  nid_ranges:
    description:
      - NIDs or NID ranges such as V(1-128) or V(4000). Each range costs one request.
    type: list
    elements: str
  group:
    description: SMD group labels.
    type: list
    elements: str
  partition:
    description: SMD partition names.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: All enabled compute nodes of partition p1
  cscs.openchami.smd_component_info:
    type: [Node]
    role: [Compute]
    enabled: true
    partition: [p1]
  register: nodes

- name: Nodes by NID range
  cscs.openchami.smd_component_info:
    nid_ranges: ["1-64", "1000"]
"""

RETURN = r"""
components:
  description: The matching components, sorted by xname.
  returned: always
  type: list
  elements: dict
  sample: [{ID: x1000c0s0b0n0, Type: Node, State: Ready, Flag: OK, Enabled: true, Role: Compute, NID: 1}]
"""

import re

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd

FILTERS = ("type", "state", "flag", "role", "subrole", "arch", "class", "group", "partition")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_range(text):
    """``"1-64"`` -> (1, 64); ``"7"`` -> (7, 7)."""
    match = _RANGE.match(str(text))
    if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
        raise ValueError("%r is not a NID or a range like 1-64" % (text,))
    return int(match.group(1)), int(match.group(2) or match.group(1))


def main():
    spec = dict((name, dict(type="list", elements="str")) for name in FILTERS)
    spec.update(ids=dict(type="list", elements="str"), enabled=dict(type="bool"),
                nid_ranges=dict(type="list", elements="str"))
    module = OpenCHAMIModule(argument_spec=spec)
    params = dict((name, module.params[name]) for name in FILTERS)
    params["id"] = module.params["ids"]
    if module.params["enabled"] is not None:
        params["enabled"] = str(module.params["enabled"]).lower()
    with module.guard():
        ranges = resource.check_each(module.params["nid_ranges"], parse_range, "nid_ranges")
    api = smd.SMD(module.client("smd"))
    with module.guard():
        if ranges:
            found = smd.parallel(lambda r: api.components(nid_start=r[0], nid_end=r[1], **params), ranges)
            merged = {}
            for chunk in found:
                for comp in chunk:
                    merged[comp["ID"]] = comp
            components = list(merged.values())
        else:
            components = api.components(**params)
    components.sort(key=lambda c: c.get("ID", ""))
    module.exit_json(changed=False, components=components)


if __name__ == "__main__":
    main()
