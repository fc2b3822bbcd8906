#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_redfish_endpoint_info
short_description: Read Redfish endpoints and component endpoints from OpenCHAMI SMD
version_added: 0.1.0
description:
  - Returns SMD Redfish endpoints (BMCs), and optionally the component endpoints SMD derived from them.
  - Passwords are never returned.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
options:
  ids:
    description: Only these BMC xnames.
    type: list
    elements: str
  component_endpoints:
    description: Also return the component endpoints (one more request).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: All BMCs SMD knows
  cscs.openchami.smd_redfish_endpoint_info:
  register: bmcs
"""

RETURN = r"""
endpoints:
  description: Redfish endpoints sorted by xname, without passwords.
  returned: always
  type: list
  elements: dict
  sample: [{ID: x1000c1s0b0, Type: NodeBMC, FQDN: 172.16.0.101, Enabled: true, User: root}]
component_endpoints:
  description: Component endpoints (node and manager records with their Redfish URLs and actions).
  returned: when O(component_endpoints=true)
  type: list
  elements: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        ids=dict(type="list", elements="str"),
        component_endpoints=dict(type="bool", default=False),
    ))
    with module.guard():
        ids = resource.check_each(module.params["ids"], smd.check_xname, "ids")
    api = smd.SMD(module.client("smd"))
    calls = [lambda: api.redfish_endpoints(id=ids)]
    if module.params["component_endpoints"]:
        calls.append(lambda: api.component_endpoints(redfish_ep=ids))
    with module.guard():
        found = smd.parallel(lambda call: call(), calls)
    result = dict(changed=False, endpoints=sorted((smd.without_password(e) for e in found[0]), key=lambda e: e.get("ID", "")))
    if module.params["component_endpoints"]:
        result["component_endpoints"] = sorted(found[1], key=lambda e: e.get("ID", ""))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
