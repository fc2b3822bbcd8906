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
  - Members are compared as a set of normalised xnames. With O(members_mode=exact) the given members replace
    the current ones; V(add) and V(remove) only add or take away the given members.
  - A group given without O(groups[].members) keeps its members.
  - A component can be in only one group of an exclusive group (O(groups[].exclusive_group)); a task that would
    put one in two is refused before any write. Members leaving a group are removed before others join.
  - Names, tags and member xnames are validated before anything is written, and every member must be a component in
    SMD; all are checked with one query before the first write, and the error names each group and unknown member.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
  - cscs.openchami.nodes.src
attributes:
  check_mode:
    support: full
    description: Computes and reports the changes without writing.
  diff_mode:
    support: full
    description: Shows the changed fields and member lists.
options:
  groups:
    description: The groups.
    type: list
    elements: dict
    suboptions:
      label:
        description: Name of the group (stored lower-case; letters, digits, V(-), V(:), V(.), V(_)).
        type: str
        required: true
      description:
        description: Free text.
        type: str
      tags:
        description: Tags (compared as a set).
        type: list
        elements: str
      members:
        description: Member xnames.
        type: list
        elements: str
      exclusive_group:
        description:
          - Name of an exclusive group set; a component can be in only one group of the set.
          - Can only be given when the group is created.
        type: str
  members_mode:
    description: How O(groups[].members) is applied.
    type: str
    choices: [exact, add, remove]
    default: exact
  state:
    description: V(present) creates or updates, V(absent) deletes the groups (their components stay).
    type: str
    choices: [present, absent]
    default: present
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
