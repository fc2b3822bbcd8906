#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_plan
short_description: Compare a cluster spec with a live OpenCHAMI instance, without changing anything
version_added: 0.2.0
description:
  - Expands a cluster spec (templates, xname ranges, NID, MAC and IP rules) and validates it, naming the path of
    every error in the spec; then reads the instance (SMD, boot configuration, cloud-init) and says, per kind, what
    M(cscs.openchami.cluster_apply) would create, update and delete, with counts, a readable plan and a diff.
  - Never writes; C(changed) is always V(false) and RV(pending) says whether applying would change anything.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
  - cscs.openchami.cluster
attributes:
  check_mode:
    support: full
    details: Only reads; the same in check mode.
  diff_mode:
    support: full
    details: Returns the diff of the plan (what applying would change).
options:
  prune:
    description:
      - Plan the deletion of the objects of a kind the spec names that the spec does not list.
      - Without it they are listed in RV(not_in_spec) and not planned for deletion.
    type: bool
    default: false
seealso:
  - module: cscs.openchami.cluster_apply
  - module: cscs.openchami.cluster_snapshot
"""

EXAMPLES = r"""
- name: What would change on alps
  cscs.openchami.cluster_plan:
    src: inventories/example-site/specs/alps.yml
  register: alps_plan

- name: Show the plan
  ansible.builtin.debug:
    var: alps_plan.plan
"""

RETURN = r"""
summary:
  description:
    - Per kind, how many objects are (or would be) created, updated, deleted, left unchanged, and how many the
      instance has that the spec does not list (C(not_in_spec)).
  returned: always
  type: dict
  sample: {components: {create: 4, update: 0, delete: 0, unchanged: 12, not_in_spec: 1}}
summary_line:
  description: RV(summary) on one line - per kind C(+create ~update -delete ?not_in_spec).
  returned: always
  type: str
  sample: "components +4 ~0 -0 ?1, groups +1 ~0 -0 ?0"
plan:
  description:
    - The plan as readable lines - per kind a count line, then C(+ key fields) to create, C(~ key field old -> new)
      to update, C(- key) to delete and C(? key) not in the spec (kept); at most 100 lines per kind.
  returned: always
  type: list
  elements: str
not_in_spec:
  description: Per kind, up to 100 keys of objects the instance has and the spec does not list (kept without O(prune)).
  returned: always
  type: dict
diff:
  description: Per kind, the engine's before and after of the changed objects (bounded like the other modules' diffs).
  returned: always
  type: dict
pending:
  description: Whether applying the spec would change the instance.
  returned: always
  type: bool
"""

from ansible_collections.cscs.openchami.plugins.module_utils import cluster_module


def main():
    cluster_module.run(write=False)


if __name__ == "__main__":
    main()
