#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: redfish_power
short_description: Power nodes on, off or restart them through their BMCs' Redfish reset action
version_added: 0.1.0
description:
  - Sends the Redfish C(ComputerSystem.Reset) action to many nodes at once (BMCs in parallel) and waits until
    each node reaches the power state the operation ends in, up to O(wait_timeout).
  - The reset type is chosen from what each BMC offers (inline C(ResetType@Redfish.AllowableValues) or its
    C(@Redfish.ActionInfo)), with equivalents when the preferred one is missing
    (C(On)/C(ForceOn), C(ForceOff)/C(Off), C(GracefulRestart)/C(ForceRestart), C(PowerCycle)/C(ForceRestart));
    RV(nodes[].reset_type) says which was sent.
  - V(on), V(off) and V(soft_off) are idempotent (a node already in that state is left alone); the restarts
    always act.
  - Every node gets its own result; the task fails, after all nodes were handled, if any failed or timed out.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.redfish
  - cscs.openchami.connection
  - cscs.openchami.redfish
  - cscs.openchami.redfish.selection
attributes:
  check_mode:
    support: full
    description: Reads the power states and reports which nodes would be reset; sends nothing.
  diff_mode:
    support: full
    description: Power state before and after per node.
options:
  state:
    description:
      - V(on) (C(On)), V(off) (C(ForceOff)), V(soft_off) (C(GracefulShutdown)), V(restart) (C(ForceRestart)),
        V(soft_restart) (C(GracefulRestart)), V(power_cycle) (C(PowerCycle)).
    type: str
    required: true
    choices: ["on", "off", soft_off, restart, soft_restart, power_cycle]
  wait:
    description: Wait until every node reached the end state (V(On) or V(Off)).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for all nodes to reach the end state, from the first reset on.
      - Not the connection's O(timeout), which bounds each HTTP answer.
    type: int
    default: 300
seealso:
  - module: cscs.openchami.redfish_info
  - module: cscs.openchami.redfish_discover
"""

EXAMPLES = r"""
- name: Power on a chassis worth of nodes known to SMD
  cscs.openchami.redfish_power:
    nodes: "{{ 'x1000c0s[0-7]b0n[0-1]' | cscs.openchami.xname_expand }}"
    state: "on"
    wait_timeout: 600

- name: Restart one node through its BMC directly
  cscs.openchami.redfish_power:
    targets:
      - {address: 172.16.0.101, system: Node0}
    bmc_user: root
    bmc_password: "{{ vault_bmc_password }}"
    bmc_ca_path: /etc/pki/bmc-ca.pem
    state: restart
"""

RETURN = r"""
nodes:
  description: One result per node.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "Node xname (or BMC address and system Id).", type: str}
    status: {description: "V(ok), V(failed) or V(timeout).", type: str}
    changed: {description: "Whether a reset was sent (or would be, in check mode).", type: bool}
    before: {description: "Power state before.", type: str}
    after: {description: "Power state at the end.", type: str}
    reset_type: {description: "The ResetType sent.", type: str}
    message: {description: "What went wrong.", type: str}
summary:
  description: Counts of nodes by status, and how many were reset.
  returned: always
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils import power, redfish_module


def main():
    spec = dict(
        state=dict(type="str", required=True, choices=sorted(power.RESET_OF)),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    module = redfish_module.selecting_module(spec)
    p = module.params
    with module.guard():
        results = power.through_redfish(module, power.redfish_reset(p["state"]), p["wait"], p["wait_timeout"])
    module.exit_actions(results)


if __name__ == "__main__":
    main()
