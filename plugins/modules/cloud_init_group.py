#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloud_init_group
short_description: Manage a group's cloud-config and meta-data on the OpenCHAMI cloud-init server
version_added: 0.1.0
description:
  - Creates, updates or deletes a cloud-init group, the cloud-config and meta-data that the members of the SMD group
    of the same name receive (group membership itself is managed in SMD, see M(cscs.openchami.smd_group)).
  - "The cloud-config is checked before anything is written. Its first line must be C(#cloud-config), and then the
    whole text must parse as a YAML mapping (an error names the line and column), or a template header such as
    C(## template: jinja), in which case the text is rendered by cloud-init on the node and not parsed here."
  - Only the fields given are managed; the others keep their values. The content, the description and the meta-data
    are compared; the content is always written as plain text (a group stored base64-encoded is compared decoded).
  - The backend is detected (cloud-init server of OpenCHAMI v0.1, or metadata-service of v0.2), see O(backend).
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
  - cscs.openchami.backend
attributes:
  check_mode:
    support: full
    description: Validates, reads and compares, writes nothing.
  diff_mode:
    support: full
    description: Shows the changed fields (content, description, meta-data) before and after.
notes:
  - "On metadata-service the content is the group's C(template): it is required to create a group, the service
    renders it (pongo2) with sample data and refuses what does not render to YAML (the task fails naming the group and
    the service's reason, nothing is written); meta-data values must be strings."
options:
  name:
    description:
      - Group name, the label of the SMD group whose members receive it. Lower-cased like SMD labels.
    type: str
    required: true
  content:
    description:
      - "The group's cloud-config (C(#cloud-config) first line) or template (C(## template: jinja) first line)."
    type: str
    aliases: [cloud_config]
  meta_data:
    description: Group meta-data, served to members under C(instance_data.v1.vendor_data.groups.<name>).
    type: dict
  description:
    description: Description of the group.
    type: str
  state:
    description: V(present) creates or updates the group, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: cscs.openchami.cloud_init_info
  - module: cscs.openchami.cloud_init_defaults
"""

EXAMPLES = r"""
- name: Cloud-config of the compute group
  cscs.openchami.cloud_init_group:
    cluster_uri: https://demo.openchami.cluster:8443
    name: compute
    description: Compute nodes
    meta_data:
      syslog_aggregator: 10.1.0.1
    content: |
      #cloud-config
      write_files:
        - path: /etc/motd
          content: "Welcome to {{ cluster_name }}"
      runcmd:
        - [systemctl, restart, rsyslog]

- name: A Jinja template rendered by cloud-init on the node
  cscs.openchami.cloud_init_group:
    name: login
    content: |
      ## template: jinja
      #cloud-config
      hostname: {{ '{{' }} ds.meta_data.local_hostname {{ '}}' }}

- name: Remove a group
  cscs.openchami.cloud_init_group:
    name: old-compute
    state: absent
"""

RETURN = r"""
group:
  description: The group as it is after the task (or would be, in check mode); absent after a deletion.
  returned: when O(state=present)
  type: dict
  sample: {name: compute, description: Compute nodes, meta_data: {syslog_aggregator: 10.1.0.1}, content: "#cloud-config\n"}
summary:
  description: Whether the group was created, updated, deleted or left unchanged.
  returned: always
  type: dict
  sample: {create: 0, update: 1, delete: 0, unchanged: 0}
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import boot, cloudinit, resource, smd


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        name=dict(type="str", required=True),
        content=dict(type="str", aliases=["cloud_config"]),
        meta_data=dict(type="dict"),
        description=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        backend=dict(type="str", choices=list(cloudinit.BACKENDS), default="auto"),
    ))
    p = module.params
    with module.guard():
        name = resource.check_each([p["name"]], smd.check_label, "name")[0]
    if p["state"] == "present" and p["content"] is not None:
        try:
            cloudinit.validate_cloud_config(p["content"])
        except cloudinit.CloudConfigError as exc:
            module.fail_json(msg="invalid cloud-config for group %s, nothing was changed: %s" % (name, exc),
                             line=exc.line, column=exc.column)
    desired = {"name": name, "content": p["content"], "meta_data": p["meta_data"], "description": p["description"]}
    with module.guard():
        server = cloudinit.server_for(boot.client_getter(module), p["backend"])
        current = [g for g in server.groups() if g["name"] == name]
        plan = resource.plan([desired], current, "name", state=p["state"])
        if p["state"] == "present":
            server.check_group(plan.changes[0].after)
        resource.apply(plan, module.check_mode, upsert=lambda changes: server.put_group(changes[0].after),
                       delete=lambda changes: server.delete_group(name))
    result = resource.result(plan)
    if p["state"] == "present":
        result["group"] = plan.changes[0].after
    module.exit_json(**result)


if __name__ == "__main__":
    main()
