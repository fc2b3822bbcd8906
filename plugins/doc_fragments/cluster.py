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
"""
