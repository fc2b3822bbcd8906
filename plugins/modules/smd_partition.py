#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_partition
short_description: Manage OpenCHAMI SMD partitions and their members
version_added: 0.1.0
description:
  - Creates, updates and deletes SMD partitions from a list, with description, tags and members.
  - Members are compared as a set of normalised xnames. With O(members_mode=exact) the given members replace
    the current ones; V(add) and V(remove) only add or take away the given members.
  - A partition given without O(partitions[].members) keeps its members.
  - A component can be in only one partition; a task that would put one in two is refused before any write.
    Members leaving a partition are removed before others join, so a task can move nodes between partitions.
  - Names, tags and member xnames are validated before anything is written, and every member must be a component in
    SMD; all are checked with one query before the first write, and the error names each partition and unknown member.
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
  partitions:
    description: The partitions.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the partition, as SMD accepts it, C(p<number>) or C(p<number>.<number>), for example V(p1) or V(p1.2).
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
  members_mode:
    description: How O(partitions[].members) is applied.
    type: str
    choices: [exact, add, remove]
    default: exact
  state:
    description: V(present) creates or updates, V(absent) deletes the partitions (their components stay).
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: cscs.openchami.smd_group_info
"""

EXAMPLES = r"""
- name: Partition p1 holds cabinet 1000
  cscs.openchami.smd_partition:
    partitions:
      - name: p1
        description: Alps production
        members: "{{ 'x1000c[0-7]s[0-7]b[0-1]n[0-1]' | cscs.openchami.xname_expand }}"
"""

RETURN = r"""
partitions:
  description:
    - The partitions of the task that were created or updated, as they are after the change (or would be, in check mode).
    - Unchanged ones are only counted in RV(summary).
  returned: always
  type: list
  elements: dict
summary:
  description: How many partitions were created, updated, deleted or left unchanged.
  returned: always
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils import smd
from ansible_collections.cscs.openchami.plugins.module_utils.common import run_set_module


def main():
    run_set_module(smd.PARTITIONS)


if __name__ == "__main__":
    main()
