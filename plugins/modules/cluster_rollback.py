#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_rollback
short_description: Return a live OpenCHAMI instance to a snapshot
version_added: 0.2.0
description:
  - Applies a snapshot written by M(cscs.openchami.cluster_snapshot) with O(prune) on by default, so that the
    instance holds again exactly what the snapshot holds - components, interfaces, groups, partitions, the boot
    configuration of every node and the cloud-init groups; a new snapshot afterwards equals the old one.
  - Cloud-init defaults are set back to the snapshot's values; a default that was empty in the snapshot cannot be
    emptied again (the cloud-init server ignores empty values).
  - The snapshot is given as O(src) (its directory); an older snapshot from git history works the same way (check it
    out into a directory first).
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
    details: Computes the plan back to the snapshot and writes nothing.
  diff_mode:
    support: full
    details: Per kind, the before and after of what changed.
options:
  prune:
    description:
      - Delete what the snapshot does not hold (the point of a rollback); V(false) only adds and changes.
    type: bool
    default: true
seealso:
  - module: cscs.openchami.cluster_snapshot
  - module: cscs.openchami.cluster_apply
"""

EXAMPLES = r"""
- name: Back to last night's snapshot
  cscs.openchami.cluster_rollback:
    src: /srv/cluster-inventory/alps
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
    cluster_module.run(write=True, prune_default=True)


if __name__ == "__main__":
    main()
