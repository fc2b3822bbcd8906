#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: smd_component
short_description: Manage components in OpenCHAMI SMD, many at once
version_added: 0.1.0
description:
  - Creates, updates and deletes SMD components (nodes, BMCs, chassis, ...) from a list.
  - Only the fields given for a component are managed; the others keep the values SMD has.
  - New components are created with one upsert request; changes use SMD's bulk endpoints
    (C(BulkStateData), C(BulkFlagOnly), C(BulkEnabled), C(BulkSoftwareStatus), C(BulkRole), C(BulkNID)), one
    request per distinct value, so a uniform change to 10,000 nodes costs a handful of requests.
  - Every item is validated before anything is written; one bad item fails the task and nothing changes.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
attributes:
  check_mode:
    support: full
    description: Computes and reports the changes without writing.
  diff_mode:
    support: full
    description: Shows the changed fields of each component (bounded for large lists).
options:
  components:
    description:
      - The components. Each needs O(components[].ID); other fields are managed only when given.
    type: list
    elements: dict
    suboptions:
      ID:
        description: Component xname; normalised (case, leading zeros) before comparing.
        type: str
        required: true
        aliases: [xname]
      Type:
        description: HMS type; SMD derives it from the xname when not given.
        type: str
      State:
        description:
          - Hardware state, one of V(Unknown), V(Empty), V(Populated), V(Off), V(On), V(Standby), V(Halt), V(Ready).
          - "Quote V(Off) and V(On) in YAML (C(State: 'Off')): unquoted, YAML reads them as booleans."
          - Components created without a state get V(Empty). Changes are forced (SMD's transition rules do not
            silently skip them).
        type: str
      Flag:
        description: One of V(Unknown), V(OK), V(Warning), V(Alert), V(Locked).
        type: str
      Enabled:
        description: Whether the component is enabled.
        type: bool
      SoftwareStatus:
        description: Free-form software status.
        type: str
      Role:
        description:
          - One of the roles SMD accepts; by default V(Compute), V(Service), V(System), V(Application), V(Storage),
            V(Management).
        type: str
      SubRole:
        description:
          - One of the sub-roles SMD accepts; by default V(Master), V(Worker) and V(Storage).
          - SMD's roles and sub-roles can be extended in its configuration; O(components[].Role),
            O(components[].SubRole), O(components[].NetType), O(components[].Arch) and O(components[].Class) are
            checked against the values this SMD accepts (C(GET /hsm/v2/service/values)) before anything is written.
        type: str
      NID:
        description: Node id (non-negative integer).
        type: int
      Subtype:
        description: Subtype.
        type: str
      NetType:
        description: Network type, for example V(Sling) or V(Ethernet).
        type: str
      Arch:
        description: Architecture, for example V(X86) or V(ARM).
        type: str
      Class:
        description: Hardware class, for example V(River), V(Mountain), V(Hill).
        type: str
  src:
    description:
      - Path of a JSON or YAML file holding the list of O(components) (or a mapping with a C(components) key), read by the
        module itself; the items are validated like O(components).
      - For thousands of items this is much faster than passing the list through Ansible variables.
      - Mutually exclusive with O(components).
    type: path
  state:
    description:
      - V(present) creates or updates the components, V(absent) deletes them (only those that exist).
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: cscs.openchami.smd_component_info
"""

EXAMPLES = r"""
- name: Register two compute nodes
  cscs.openchami.smd_component:
    cluster_uri: https://alps.example.ch:8443
    components:
      - {ID: x1000c0s0b0n0, State: Ready, Role: Compute, NID: 1, Arch: X86, Class: Mountain}
      - {ID: x1000c0s0b0n1, State: Ready, Role: Compute, NID: 2, Arch: X86, Class: Mountain}

- name: Disable nodes (one BulkEnabled request, however many nodes)
  cscs.openchami.smd_component:
    components:
      - {ID: x1000c0s0b0n0, Enabled: false}
      - {ID: x1000c0s0b0n1, Enabled: false}

- name: Remove a node
  cscs.openchami.smd_component:
    components: [{ID: x1000c0s0b0n1}]
    state: absent
"""

RETURN = r"""
components:
  description:
    - The components of the task that were created or updated, as they are after the change (or would be, in check mode).
    - Unchanged ones are only counted in RV(summary).
  returned: always
  type: list
  elements: dict
summary:
  description: How many components were created, updated, deleted or left unchanged.
  returned: always
  type: dict
  sample: {create: 2, update: 0, delete: 0, unchanged: 10}
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule, src_option
from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd

SUBOPTIONS = dict(
    ID=dict(type="str", required=True, aliases=["xname"]),
    Type=dict(type="str"),
    State=dict(type="str"),
    Flag=dict(type="str"),
    Enabled=dict(type="bool"),
    SoftwareStatus=dict(type="str"),
    Role=dict(type="str"),
    SubRole=dict(type="str"),
    NID=dict(type="int"),
    Subtype=dict(type="str"),
    NetType=dict(type="str"),
    Arch=dict(type="str"),
    Class=dict(type="str"),
)
# Below this many components the current state is read with an id filter, above it all at once.
ID_FILTER_LIMIT = 100


CHECKS = {
    "ID": smd.check_xname,
    "State": smd.enum_checker("State", smd.STATES),
    "Flag": smd.enum_checker("Flag", smd.FLAGS),
    "NID": smd.check_nid,
}


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        components=dict(type="list", elements="dict", options=SUBOPTIONS),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        src=src_option(),
    ), required_one_of=[("components", "src")], mutually_exclusive=[("components", "src")])
    state = module.params["state"]
    desired = [dict((k, v) for k, v in item.items() if v is not None and k != "xname")
               for item in module.items("components")]
    with module.guard():
        resource.validate(desired, CHECKS)
        api = smd.SMD(module.client("smd"))
        if state == "present":
            smd.check_service_values(api, desired)
        ids = [d["ID"] for d in desired]
        current = api.components(id=ids) if len(ids) <= ID_FILTER_LIMIT else api.components()
        plan = resource.plan(desired, current, "ID", state=state, normalizers=smd.COMPONENT_NORMALIZERS)
        resource.apply(plan, module.check_mode, create=api.create_components, update=api.update_components,
                       delete=lambda changes: api.delete_components([c.key for c in changes]))
    module.exit_json(**resource.result(plan, components=plan.resources()))


if __name__ == "__main__":
    main()
