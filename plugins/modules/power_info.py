#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: power_info
short_description: Read the power status of many nodes from the power-control service (PCS)
version_added: 0.1.0
description:
  - Reads power state, management state (whether the BMC answers), supported operations and errors of the nodes
    named, or of every component PCS knows, with one request to the power-control service
    (OpenCHAMI power-control, CSM hms-power-control).
  - PCS samples the hardware periodically (every 30 seconds by default), so a state may lag the hardware by that
    much; M(cscs.openchami.redfish_info) reads the BMCs themselves.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
options:
  nodes:
    description:
      - Xnames to read. Without it, every component PCS knows.
      - An invalid xname fails the task before anything is read.
    type: list
    elements: str
  power_state:
    description: Only components in this power state.
    type: str
    choices: ["on", "off", undefined]
seealso:
  - module: cscs.openchami.power
  - module: cscs.openchami.redfish_info
"""

EXAMPLES = r"""
- name: Which nodes of a chassis are off
  cscs.openchami.power_info:
    nodes: "{{ 'x1000c0s[0-7]b0n[0-1]' | cscs.openchami.xname_expand }}"
    power_state: "off"
  register: off_nodes

- name: Their names
  ansible.builtin.debug:
    msg: "{{ off_nodes.nodes | map(attribute='name') | list }}"
"""

RETURN = r"""
nodes:
  description: One entry per component, in the order PCS answered.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "Xname.", type: str}
    power_state: {description: "V(on), V(off) or V(undefined).", type: str}
    management_state: {description: "V(available), or V(unavailable) when the BMC does not answer.", type: str}
    supported_transitions: {description: "Operations PCS can apply to the component.", type: list, elements: str}
    error: {description: "PCS's error for the component (empty when none).", type: str}
    last_updated: {description: "When PCS last read the component's state.", type: str}
summary:
  description: Number of components by power state.
  returned: always
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import pcs


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        nodes=dict(type="list", elements="str"),
        power_state=dict(type="str", choices=["on", "off", "undefined"]),
    ))
    p = module.params
    with module.guard():
        nodes = pcs.check_nodes(p["nodes"])
        statuses = pcs.PCS(module.client("pcs")).power_status(nodes, p["power_state"])
    found = [pcs.status_view(entry) for entry in statuses.values()]
    summary = {}
    for entry in found:
        summary[entry["power_state"]] = summary.get(entry["power_state"], 0) + 1
    module.exit_json(changed=False, nodes=found, summary=summary)


if __name__ == "__main__":
    main()
