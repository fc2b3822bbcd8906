#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_group
short_description: Manage OpenCHAMI SMD groups and their members
version_added: 0.1.0
description:
  - Creates, updates and deletes SMD groups from a list, with description, tags, exclusive group and members.
  - A component can be in only one group of an exclusive group (O(groups[].exclusive_group)); a task that would
    put one in two is refused before any write. Members leaving a group are removed before others join.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
  - cscs.openchami.nodes.src
  - cscs.openchami.smd_set.groups
attributes:
  check_mode:
    support: full
    description: Computes and reports the changes without writing.
  diff_mode:
    support: full
    description: Shows the changed fields and member lists.
seealso:
  - module: cscs.openchami.smd_group_info
"""

EXAMPLES = r"""
- name: Compute and service groups
  cscs.openchami.smd_group:
    groups:
      - label: compute
        description: All compute nodes
        tags: [alps]
        members: "{{ 'x1000c0s[0-7]b[0-1]n[0-1]' | cscs.openchami.xname_expand }}"
      - label: service
        members: [x3000c0s19b1n0]

- name: Add two nodes to the canary group, keep the others
  cscs.openchami.smd_group:
    groups:
      - {label: canary, members: [x1000c0s0b0n0, x1000c0s0b0n1]}
    members_mode: add
"""

RETURN = r"""
groups:
  description:
    - The groups of the task that were created or updated, as they are after the change (or would be, in check mode).
    - Unchanged ones are only counted in RV(summary).
  returned: always
  type: list
  elements: dict
summary:
  description: How many groups were created, updated, deleted or left unchanged.
  returned: always
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils import smd
from ansible_collections.cscs.openchami.plugins.module_utils.common import run_set_module


def main():
    run_set_module(smd.GROUPS)


if __name__ == "__main__":
    main()
