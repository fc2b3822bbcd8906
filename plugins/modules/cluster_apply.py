#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_apply
short_description: Make a live OpenCHAMI instance look like a cluster spec
version_added: 0.2.0
description:
  - Plans like M(cscs.openchami.cluster_plan), then writes the plan in dependency order through the services' bulk
    endpoints - components, Ethernet interfaces, partitions, groups, boot configuration, cloud-init defaults and
    groups - and, with O(prune), deletes what the spec does not list, in the reverse order.
  - The whole spec is validated and compared before the first write; a bad spec fails naming every bad path and
    nothing is written. Applying the same spec again changes nothing.
  - A write that fails part-way fails the task with RV(partial) (what was written, what may have been, what was
    not); running the task again compares again and writes only what is missing.
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
    details: Computes the plan and writes nothing (the same as M(cscs.openchami.cluster_plan), with C(changed)).
  diff_mode:
    support: full
    details: Per kind, the before and after of what changed (bounded for large specs).
options:
  prune:
    description:
      - Delete the objects of a kind the spec names that the spec does not list.
      - Without it they are kept and listed in RV(not_in_spec).
    type: bool
    default: false
seealso:
  - module: cscs.openchami.cluster_plan
  - module: cscs.openchami.cluster_rollback
"""

EXAMPLES = r"""
- name: Apply the site spec of alps (objects not in the spec are kept and reported)
  cscs.openchami.cluster_apply:
    src: inventories/example-site/specs/alps.yml

- name: Apply a small inline spec
  cscs.openchami.cluster_apply:
    spec:
      hardware:
        - xnames: x1000c0s[0-3]b0n[0-1]
          role: Compute
          state: Ready
          nid: {start: 1}
      groups:
        - label: compute
          select: {role: Compute}
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
partial:
  description: When a write failed part-way - C(written), C(in_doubt) and C(not_written), each a count and up to 100 items.
  returned: on a failure after a write
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils import cluster_module


def main():
    cluster_module.run(write=True)


if __name__ == "__main__":
    main()
