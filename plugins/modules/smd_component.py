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
  - cscs.openchami.nodes.src
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
      - The components. Each needs O(components[].id); other fields are managed only when given.
      - Options are snake_case; SMD's own field names (C(ID), C(State), C(NID), ...) are accepted as aliases, so
        items written in SMD's spelling (and O(src) files holding SMD's JSON) keep working.
    type: list
    elements: dict
    suboptions:
      id:
        description: Component xname; normalised (case, leading zeros) before comparing.
        type: str
        required: true
        aliases: [ID, xname]
      type:
        description: HMS type; SMD derives it from the xname when not given.
        type: str
        aliases: [Type]
      state:
        description:
          - Hardware state, one of V(Unknown), V(Empty), V(Populated), V(Off), V(On), V(Standby), V(Halt), V(Ready).
          - "Quote V(Off) and V(On) in YAML (C(state: 'Off')): unquoted, YAML reads them as booleans."
          - Components created without a state get V(Empty) (in check mode too, in RV(components)). Changes are
            forced (SMD's transition rules do not silently skip them).
          - Not to be confused with the module's O(state) (present or absent).
        type: str
        aliases: [State]
      flag:
        description: One of V(Unknown), V(OK), V(Warning), V(Alert), V(Locked).
        type: str
        aliases: [Flag]
      enabled:
        description: Whether the component is enabled.
        type: bool
        aliases: [Enabled]
      software_status:
        description: Free-form software status.
        type: str
        aliases: [SoftwareStatus]
      role:
        description:
          - One of the roles SMD accepts; by default V(Compute), V(Service), V(System), V(Application), V(Storage),
            V(Management).
        type: str
        aliases: [Role]
      sub_role:
        description:
          - One of the sub-roles SMD accepts; by default V(Master), V(Worker) and V(Storage).
          - SMD's roles and sub-roles can be extended in its configuration; O(components[].role),
            O(components[].sub_role), O(components[].net_type), O(components[].arch) and O(components[].class) are
            checked against the values this SMD accepts (C(GET /hsm/v2/service/values)) before anything is written.
        type: str
        aliases: [SubRole]
      nid:
        description: Node id (non-negative integer).
        type: int
        aliases: [NID]
      subtype:
        description: Subtype.
        type: str
        aliases: [Subtype]
      net_type:
        description: Network type, for example V(Sling) or V(Ethernet).
        type: str
        aliases: [NetType]
      arch:
        description: Architecture, for example V(X86) or V(ARM).
        type: str
        aliases: [Arch]
      class:
        description: Hardware class, for example V(River), V(Mountain), V(Hill).
        type: str
        aliases: [Class]
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
      - {id: x1000c0s0b0n0, state: Ready, role: Compute, nid: 1, arch: X86, class: Mountain}
      - {id: x1000c0s0b0n1, state: Ready, role: Compute, nid: 2, arch: X86, class: Mountain}

- name: Disable nodes (one BulkEnabled request, however many nodes)
  cscs.openchami.smd_component:
    components:
      - {id: x1000c0s0b0n0, enabled: false}
      - {id: x1000c0s0b0n1, enabled: false}

- name: Remove a node
  cscs.openchami.smd_component:
    components: [{id: x1000c0s0b0n1}]
    state: absent
"""

RETURN = r"""
components:
  description:
    - The components of the task that were created or updated, as they are after the change (or would be, in check mode),
      in SMD's field names (C(ID), C(State), ...).
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

# Below this many components the current state is read with an id filter, above it all at once.
ID_FILTER_LIMIT = 100


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        components=dict(type="list", elements="dict", options=smd.COMPONENT.argument_spec()),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        src=src_option(),
    ), required_one_of=[("components", "src")], mutually_exclusive=[("components", "src")])
    state = module.params["state"]
    with module.guard():
        desired = smd.COMPONENT.desired(module.items("components"), what="component")
        api = smd.SMD(module.client("smd"))
        if state == "present":
            smd.check_service_values(api, desired)
        ids = [d["ID"] for d in desired]
        current = api.components(id=ids) if len(ids) <= ID_FILTER_LIMIT else api.components()
        plan = resource.plan(desired, current, smd.COMPONENT.key, state=state, normalizers=smd.COMPONENT.normalizers())
        for change in plan.of(resource.CREATE):  # before apply, so that check mode returns what a real run does
            change.after = dict(change.after, State=change.after.get("State") or smd.CREATED_STATE)
        resource.apply(plan, module.check_mode, create=lambda changes: api.upsert_components([c.after for c in changes]),
                       update=api.update_components, delete=lambda changes: api.delete_components([c.key for c in changes]))
    module.exit_json(**resource.result(plan, components=plan.resources()))


if __name__ == "__main__":
    main()
