#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: power
short_description: Power nodes on, off or restart them through the power-control service (PCS)
version_added: 0.1.0
description:
  - Applies one power operation to a list of nodes with B(one) transition of the power-control service
    (OpenCHAMI power-control, CSM hms-power-control), waits for it up to O(wait_timeout) and reports each node's
    outcome.
  - Reads the nodes' power status from PCS first; for V(on), V(off), V(soft-off) and V(force-off), nodes already
    in the state the operation ends in are left out of the transition, so a second run changes nothing.
    V(soft-restart), V(hard-restart) and V(init) act on every node (PCS refuses the restarts for a node that is off).
  - A node whose BMC does not answer is included, and reported failed with PCS's reason while the others are
    acted on; a node PCS does not know is reported failed and left out. The task fails, after all nodes were
    handled, if any node failed or the transition did not finish in time.
  - Without an address for the power-control service (O(service_uris.pcs), O(cluster_uri), or C(pcs) in the
    ochami configuration), or with O(backend=redfish), the nodes are reset at their BMCs over Redfish instead,
    BMC addresses and credentials read from SMD (as M(cscs.openchami.redfish_power) does). V(off) and
    V(force-off) then send C(ForceOff), V(soft-off) C(GracefulShutdown), V(soft-restart) C(GracefulRestart),
    V(hard-restart) C(ForceRestart), and V(init) C(ForceRestart) to nodes that are on and C(On) to the others.
  - The module is in both action groups, C(openchami) and C(redfish), so the BMC options for the fallback can be
    set once with the other Redfish modules' defaults.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.redfish
  - cscs.openchami.connection
  - cscs.openchami.redfish
attributes:
  check_mode:
    support: full
    description: Reads the power status and reports which nodes would be transitioned and to what; starts nothing.
  diff_mode:
    support: full
    description: Power state before and after per node.
options:
  nodes:
    description:
      - Node xnames. All of them go into one transition.
      - An invalid xname fails the task before anything is read or sent.
    type: list
    elements: str
    required: true
  state:
    description:
      - The PCS operation. V(off) is a graceful shutdown that PCS turns into a forced one after its task deadline;
        V(soft-off) never forces; V(hard-restart) is off then on; V(init) is off (if on) then on.
    type: str
    required: true
    choices: ["on", "off", soft-off, soft-restart, hard-restart, init, force-off]
  wait_timeout:
    description:
      - Seconds to wait for the transition to finish. Nodes whose task is still running then are reported
        V(timeout) (the transition goes on in PCS; RV(nodes[].transition_id) names it).
      - PCS's own per-task deadline is set to this, rounded up to whole minutes.
    type: int
    default: 300
  workers:
    description: BMCs worked on at the same time in the Redfish fallback.
    type: int
    default: 32
  backend:
    description:
      - V(auto) uses the power-control service when it has an address, Redfish otherwise; V(pcs) requires the
        power-control service; V(redfish) always goes to the BMCs.
    type: str
    choices: [auto, pcs, redfish]
    default: auto
seealso:
  - module: cscs.openchami.power_info
  - module: cscs.openchami.redfish_power
"""

EXAMPLES = r"""
- name: Power a chassis worth of nodes on through PCS
  cscs.openchami.power:
    nodes: "{{ 'x1000c0s[0-7]b0n[0-1]' | cscs.openchami.xname_expand }}"
    state: "on"
    wait_timeout: 600

- name: Restart nodes, reporting what would happen first
  cscs.openchami.power:
    nodes: [x1000c0s0b0n0, x1000c0s0b0n1]
    state: hard-restart
  check_mode: true
"""

RETURN = r"""
nodes:
  description: One result per node, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "Node xname.", type: str}
    status: {description: "V(ok), V(failed) or V(timeout).", type: str}
    changed: {description: "Whether the node was in the transition (or would be, in check mode).", type: bool}
    before: {description: "Power state before (V(on), V(off) or V(undefined)).", type: str}
    after: {description: "Power state at the end.", type: str}
    transition_id: {description: "The PCS transition the node was in.", type: str, returned: through PCS}
    task_status: {description: "PCS's status of the node's task.", type: str, returned: through PCS}
    task_description: {description: "PCS's description of the node's task.", type: str, returned: through PCS}
    reset_type: {description: "The Redfish ResetType sent.", type: str, returned: through Redfish}
    message: {description: "What went wrong.", type: str}
summary:
  description: Counts of nodes by status, and how many were in the transition.
  returned: always
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import pcs, power, redfish_module


def main():
    spec = dict(
        nodes=dict(type="list", elements="str", required=True),
        state=dict(type="str", required=True, choices=list(pcs.OPERATIONS)),
        wait_timeout=dict(type="int", default=300),
        backend=dict(type="str", choices=["auto", "pcs", "redfish"], default="auto"),
        workers=dict(type="int", default=32),
    )
    spec.update(redfish_module.bmc_argument_spec())
    module = OpenCHAMIModule(argument_spec=spec)
    p = module.params
    with module.guard():
        bad_wait = ["wait_timeout must be at least 1 second, not %d" % p["wait_timeout"]] if p["wait_timeout"] < 1 else []
        p["nodes"] = pcs.check_nodes(p["nodes"], bad_wait)
        use_pcs = p["backend"] == "pcs" or (p["backend"] == "auto" and power.pcs_configured(module))
        if use_pcs:
            results, _transition = power.through_pcs(module, p["state"], p["nodes"], p["wait_timeout"])
        else:
            results = power.through_redfish_like_pcs(module, p["state"], p["wait_timeout"])
    module.exit_actions(results)


if __name__ == "__main__":
    main()
