#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_info
short_description: Dump a whole OpenCHAMI SMD in one task
version_added: 0.1.0
description:
  - Reads components, Ethernet interfaces, groups, partitions, Redfish endpoints and component endpoints
    concurrently, one request each, whatever the size of the cluster.
  - Useful for snapshots, reviews and comparisons between clusters. Passwords are never returned.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
options:
  include:
    description: What to read.
    type: list
    elements: str
    choices: [components, interfaces, groups, partitions, redfish_endpoints, component_endpoints]
    default: [components, interfaces, groups, partitions, redfish_endpoints, component_endpoints]
"""

EXAMPLES = r"""
- name: Snapshot SMD
  cscs.openchami.smd_info:
  register: smd

- name: Save it
  ansible.builtin.copy:
    content: "{{ smd | to_nice_json }}"
    dest: /var/backups/smd-{{ ansible_date_time.iso8601_basic_short }}.json
    mode: "0600"
"""

RETURN = r"""
components:
  description: All components, sorted by xname.
  returned: when included
  type: list
  elements: dict
interfaces:
  description: All Ethernet interfaces with normalised MACs, sorted by MAC.
  returned: when included
  type: list
  elements: dict
groups:
  description: All groups, members as lists of xnames.
  returned: when included
  type: list
  elements: dict
partitions:
  description: All partitions, members as lists of xnames.
  returned: when included
  type: list
  elements: dict
redfish_endpoints:
  description: All Redfish endpoints without passwords.
  returned: when included
  type: list
  elements: dict
component_endpoints:
  description: All component endpoints.
  returned: when included
  type: list
  elements: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import smd

KINDS = ("components", "interfaces", "groups", "partitions", "redfish_endpoints", "component_endpoints")


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        include=dict(type="list", elements="str", choices=list(KINDS), default=list(KINDS)),
    ))
    with module.guard():
        found = smd.dump(smd.SMD(module.client("smd")), module.params["include"])
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
