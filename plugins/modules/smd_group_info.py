#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_group_info
short_description: Read groups, partitions and memberships from OpenCHAMI SMD
version_added: 0.1.0
description:
  - Returns SMD groups and partitions with their members, and optionally the membership of every component.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
options:
  labels:
    description: Only these group labels.
    type: list
    elements: str
  tags:
    description: Only groups with one of these tags.
    type: list
    elements: str
  partitions:
    description: Only these partition names (also filters the groups to members of these partitions).
    type: list
    elements: str
  memberships:
    description: Also return the membership of every component (one more request).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Groups and partitions
  cscs.openchami.smd_group_info:
  register: smd_sets

- name: Members of the compute group
  ansible.builtin.debug:
    msg: "{{ (smd_sets.groups | selectattr('label', 'equalto', 'compute') | first).members }}"
"""

RETURN = r"""
groups:
  description: Groups, sorted by label, with members as a list of xnames.
  returned: always
  type: list
  elements: dict
  sample: [{label: compute, description: "", tags: [], members: [x1000c0s0b0n0]}]
partitions:
  description: Partitions, sorted by name, with members as a list of xnames.
  returned: always
  type: list
  elements: dict
memberships:
  description: Per component, its group labels and partition name.
  returned: when O(memberships=true)
  type: list
  elements: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import smd


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        labels=dict(type="list", elements="str"),
        tags=dict(type="list", elements="str"),
        partitions=dict(type="list", elements="str"),
        memberships=dict(type="bool", default=False),
    ))
    p = module.params
    api = smd.SMD(module.client("smd"))
    calls = [lambda: api.groups(group=p["labels"], tag=p["tags"], partition=p["partitions"]),
             lambda: api.partitions(partition=p["partitions"])]
    if p["memberships"]:
        calls.append(api.memberships)
    with module.guard():
        found = smd.parallel(lambda call: call(), calls)
    result = dict(
        changed=False,
        groups=sorted((smd.flatten_set(g, smd.GROUPS) for g in found[0]), key=lambda g: g["label"]),
        partitions=sorted((smd.flatten_set(x, smd.PARTITIONS) for x in found[1]), key=lambda x: x["name"]),
    )
    if p["memberships"]:
        result["memberships"] = found[2]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
