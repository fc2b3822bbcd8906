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
  - A component can be in only one partition; a task that would put one in two is refused before any write.
    Members leaving a partition are removed before others join, so a task can move nodes between partitions.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
  - cscs.openchami.nodes.src
  - cscs.openchami.smd_set.partitions
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
