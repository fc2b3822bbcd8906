#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_node
short_description: Release nodes from CSM, or hand them back exactly as they were
version_added: 0.1.0
description:
  - With O(state=released), CSM stops acting on the nodes and stops answering their boot, one node at a time
    and without touching any other node. The BOS v2 component is disabled, the CFS v3 component is disabled,
    an HSM lock is taken, and the node's Ethernet interfaces (MACs and IPs) are removed from HSM, from which
    CSM's DHCP builds its reservations. What the node had before is returned in RV(record); store it.
  - With O(state=managed), what O(record) holds for each node is put back. A node that was never released
    (not locked, interfaces present) needs no record and is left as it is.
  - Nodes already in the requested state are not changed.
  - When interfaces were removed or restored, CSM's BSS is asked to re-read HSM (C(POST /boot/v1/hosts), one
    request, a second after the last change). BSS serves boot scripts from its own copy of HSM's state, which
    HSM's notifications refresh in the background; without this, a node handed back could be refused its boot
    script, or a released one still served, until then.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.csm
attributes:
  check_mode:
    support: full
    description: Reads, plans and reports; writes nothing.
  diff_mode:
    support: full
    description: Before and after of every node (BOS, CFS, HSM lock, interfaces).
options:
  nodes:
    description: Node xnames.
    type: list
    elements: str
    required: true
  state:
    description: V(released) takes the nodes out of CSM's hands, V(managed) gives them back.
    type: str
    choices: [released, managed]
    required: true
  record:
    description:
      - The RV(record) returned when the nodes were released (xname -> prior state). Needed for O(state=managed)
        of released nodes. With O(state=released), a node already released keeps its recorded prior state.
    type: dict
notes:
  - CSM's DHCP can hand a dynamic lease to a released node that still reaches it, and its helper then adds the
    MAC to HSM again; move the node's network path to OpenCHAMI (VLAN or switch port) after releasing it.
"""

EXAMPLES = r"""
- name: Take two nodes away from CSM
  cscs.openchami.csm_node:
    nodes: [x1000c0s0b0n0, x1000c0s0b0n1]
    state: released
  register: released

- name: Keep what they were
  ansible.builtin.copy:
    content: "{{ released.record | to_nice_json }}"
    dest: "state/csm-record-{{ batch }}.json"
    mode: "0600"

- name: Give them back exactly
  cscs.openchami.csm_node:
    nodes: [x1000c0s0b0n0, x1000c0s0b0n1]
    state: managed
    record: "{{ lookup('ansible.builtin.file', 'state/csm-record-' ~ batch ~ '.json') | from_json }}"
"""

RETURN = r"""
record:
  description: Per node, its state before this change (what O(state=managed) puts back).
  returned: always
  type: dict
  sample: {x1000c0s0b0n0: {bos_enabled: true, cfs_enabled: true, hsm_locked: false,
           ethernet_interfaces: [{ID: 0240000000001, MACAddress: "02:40:00:00:00:01", ComponentID: x1000c0s0b0n0,
                                  IPAddresses: [{IPAddress: 10.252.0.2}]}]}}
bss_refreshed:
  description: Whether CSM's BSS was asked to re-read HSM (see the description).
  returned: always
  type: bool
  sample: true
nodes:
  description: Per node, whether it changed (or would, in check mode) and the actions taken (none in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{xname: x1000c0s0b0n0, changed: true, actions: [disabled BOS, disabled CFS, HSM lock taken]}]
"""

import time

from ansible_collections.cscs.openchami.plugins.module_utils import csm_node
from ansible_collections.cscs.openchami.plugins.module_utils.csm import check_xnames
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import CsmModule
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError


def main():
    module = CsmModule(argument_spec=dict(
        nodes=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["released", "managed"], required=True),
        record=dict(type="dict"),
    ))
    p = module.params
    with module.guard():
        nodes = check_xnames(p["nodes"])
        record = csm_node.check_record(p["record"], nodes)
        current, locks = csm_node.read_state(module.csm, nodes)
        unknown = [n for n in nodes if n not in locks]
        if unknown:
            raise ValidationError(["%s is not a component in CSM's HSM" % n for n in unknown])
        planned = csm_node.plan(current, p["state"], record)
        results, before, after, prior = [], {}, {}, {}
        interfaces_changed_at = None
        for node in nodes:
            desired, was = planned[node]
            prior[node] = was
            changed = desired != current[node]
            actions = []
            if changed:
                before[node], after[node] = current[node], desired
                if not module.check_mode:
                    actions = csm_node.apply(module.csm, node, current[node], desired)
                    if csm_node.changed_interfaces(actions):
                        interfaces_changed_at = time.time()
            results.append(dict(xname=node, changed=changed, actions=actions))
        if interfaces_changed_at is not None:
            csm_node.refresh_bss(module.csm, interfaces_changed_at)
    changed = any(r["changed"] for r in results)
    result = dict(changed=changed, record=prior, nodes=results, bss_refreshed=interfaces_changed_at is not None)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
