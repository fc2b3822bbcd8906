# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The cluster spec options of cluster_plan, cluster_apply and cluster_rollback (module_utils/cluster_module.py)."""

    DOCUMENTATION = r"""
options:
  spec:
    description:
      - The cluster spec, inline (a mapping). Its format is published as a JSON Schema in the collection,
        C(meta/cluster-spec.schema.json), and described in C(docs/cluster-spec.md).
      - Kinds the spec does not name (for example no C(boot) key) are not read, compared or changed.
      - Mutually exclusive with O(src).
    type: dict
  src:
    description:
      - Path of the cluster spec on the host that runs the module - a YAML file, or a directory whose C(*.yml) and
        C(*.yaml) files are merged in name order (lists concatenated), such as a snapshot written by
        M(cscs.openchami.cluster_snapshot).
    type: path
  boot_backend:
    description:
      - Which boot service holds the boot configuration; V(auto) detects it as M(cscs.openchami.boot_config) does.
    type: str
    choices: [auto, bss, boot_service]
    default: auto
  cloud_init_backend:
    description:
      - Which cloud-init service; V(auto) detects it as M(cscs.openchami.cloud_init_group) does
        (V(metadata_service) is not supported yet).
    type: str
    choices: [auto, cloud_init, metadata_service]
    default: auto
"""
