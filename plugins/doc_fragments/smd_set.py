# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The options of smd_group and smd_partition, written once: each module takes the variant of its kind, whose list
# option (groups, partitions) has the kind's name field first and the fields both kinds share after it
# (module_utils/common.py ``set_argument_spec``; tests/unit/plugins/modules/test_module_options.py checks
# that the two agree).
_SETS = r"""
options:
  %(param)s:
    description: The %(param)s.
    type: list
    elements: dict
    suboptions:
%(name)s
      description:
        description: Free text.
        type: str
      tags:
        description: Tags (compared as a set).
        type: list
        elements: str
      members:
        description: Member xnames, compared as a set of normalised xnames.
        type: list
        elements: str
%(extra)s
  members_mode:
    description:
      - How O(%(param)s[].members) is applied.
      - With V(exact) the given members replace the current ones; V(add) and V(remove) only add or take away the
        given members. A %(noun)s given without O(%(param)s[].members) keeps its members.
    type: str
    choices: [exact, add, remove]
    default: exact
  state:
    description: V(present) creates or updates, V(absent) deletes the %(param)s (their components stay).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Names, tags and member xnames are validated before anything is written, and every member must be a component in
    SMD; all are checked with one query before the first write, and the error names each %(noun)s and unknown member.
"""


class ModuleDocFragment(object):
    """The options of ``smd_group`` (GROUPS) and ``smd_partition`` (PARTITIONS), set below from the one template.

    They are set after the class because ansible-test's yamllint reads a fragment class's body as string literals
    only; tests/unit/plugins/modules/test_module_options.py runs yamllint with ansible-test's rules on both.
    """


ModuleDocFragment.GROUPS = _SETS % dict(param="groups", noun="group", name=r"""      label:
        description: Name of the group (stored lower-case; letters, digits, V(-), V(:), V(.), V(_)).
        type: str
        required: true""", extra=r"""      exclusive_group:
        description:
          - Name of an exclusive group set; a component can be in only one group of the set.
          - Can only be given when the group is created.
        type: str""")

ModuleDocFragment.PARTITIONS = _SETS % dict(param="partitions", noun="partition", name=r"""      name:
        description:
          - Name of the partition, as SMD accepts it, C(p<number>) or C(p<number>.<number>), for example V(p1)
            or V(p1.2).
        type: str
        required: true""", extra="")
