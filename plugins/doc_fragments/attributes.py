# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The ``attributes`` every module documents: check mode, diff mode and its action groups."""

    # Descriptions of the attributes; a module says its own support (or extends INFO_MODULE).
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing anything.
  diff_mode:
    description: Returns what changed (or would change, in check mode) before and after, in diff mode.
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: Only reads; the same in check mode.
  diff_mode:
    support: N/A
    details: Only reads.
"""

    OPENCHAMI = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/cscs.openchami.openchami) in C(module_defaults) to set the connection once for this module.
    support: full
    membership:
      - cscs.openchami.openchami
"""

    REDFISH = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/cscs.openchami.openchami) in C(module_defaults) to set the connection to SMD, and
        C(group/cscs.openchami.redfish) to set the BMC options, once for this module.
    support: full
    membership:
      - cscs.openchami.openchami
      - cscs.openchami.redfish
"""

    CSM = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/cscs.openchami.csm) in C(module_defaults) to set the CSM connection once for this module.
    support: full
    membership:
      - cscs.openchami.csm
"""

    OPENCHAMI_AND_CSM = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/cscs.openchami.openchami) in C(module_defaults) to set the connection to OpenCHAMI, and
        C(group/cscs.openchami.csm) to set the CSM connection, once for this module.
    support: full
    membership:
      - cscs.openchami.openchami
      - cscs.openchami.csm
"""
