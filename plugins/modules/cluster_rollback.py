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
  - An older snapshot from git history works the same way (check it out into a directory first).
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
  - cscs.openchami.cluster
  - cscs.openchami.cluster.RETURN
attributes:
  check_mode:
    support: full
    details: Computes the plan back to the snapshot and writes nothing.
  diff_mode:
    support: full
    details: Per kind, the before and after of what changed.
options:
  src:
    description:
      - The snapshot directory (or any cluster spec file or directory).
    type: path
    required: true
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
partial:
  description: When a write failed part-way - C(written), C(in_doubt) and C(not_written), each a count and up to 100 items.
  returned: on a failure after a write
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils import cluster_module


def main():
    cluster_module.run(write=True, prune_default=True, src_required=True)


if __name__ == "__main__":
    main()
