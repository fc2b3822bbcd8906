#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: redfish_info
short_description: Read the power state, boot settings and reset types of nodes from their BMCs
version_added: 0.1.0
description:
  - For each selected node (by xname through SMD, or by BMC address), reads its Redfish system and returns the
    power state, the boot override settings and what the BMC allows for them, the boot order, the reset types
    the BMC offers (inline or from its ActionInfo), and whether one-time boot override is possible at all.
  - BMCs are read in parallel; a BMC that cannot be read gives C(status=failed) for its nodes and does not stop
    the others.
  - Only reads. To find and register BMCs see M(cscs.openchami.redfish_discover).
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.redfish
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
  - cscs.openchami.redfish
  - cscs.openchami.redfish.selection
seealso:
  - module: cscs.openchami.redfish_power
  - module: cscs.openchami.redfish_boot
"""

EXAMPLES = r"""
- name: Power state of the nodes of a slot
  cscs.openchami.redfish_info:
    nodes: [x1000c0s0b0n0, x1000c0s0b0n1]
  register: info

- name: Nodes that are off
  ansible.builtin.debug:
    msg: "{{ info.nodes | selectattr('power_state', 'eq', 'Off') | map(attribute='name') | list }}"
"""

RETURN = r"""
nodes:
  description: One entry per node.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "Node xname (or BMC address and system Id).", type: str}
    status: {description: "V(ok) or V(failed).", type: str}
    power_state: {description: "C(PowerState) of the system.", type: str}
    reset_types: {description: "ResetType values the BMC offers (empty if it does not say).", type: list}
    boot_override: {description: "Whether C(BootSourceOverrideTarget) exists on the system.", type: bool}
    boot: {description: "C(BootSourceOverrideTarget), C(BootSourceOverrideEnabled), C(BootSourceOverrideMode), their
      allowed values, and C(BootOrder), as far as the BMC shows them.", type: dict}
    manufacturer: {description: "Manufacturer of the system.", type: str}
    model: {description: "Model of the system.", type: str}
    message: {description: "What went wrong.", type: str}
"""

from ansible_collections.cscs.openchami.plugins.module_utils import redfish, redfish_module


def describe(bmc, system, _entry):
    boot = system.get("Boot") or {}
    shown = dict((key, value) for key, value in boot.items()
                 if key.startswith("BootSourceOverride") or key in ("BootOrder", "BootNext"))
    return {"power_state": system.get("PowerState"), "manufacturer": system.get("Manufacturer"),
            "model": system.get("Model"), "uuid": system.get("UUID"),
            "reset_types": bmc.allowed_values(system, "#ComputerSystem.Reset") or [],
            "boot_override": "BootSourceOverrideTarget" in boot, "boot": shown}


def main():
    module = redfish_module.selecting_module()
    with module.guard():
        results = redfish.for_each_system(module.params, redfish_module.selected_systems(module), describe)
    module.exit_json(changed=False, nodes=results)


if __name__ == "__main__":
    main()
