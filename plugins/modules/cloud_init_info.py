#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloud_init_info
short_description: Read groups, cluster defaults and what nodes receive from the OpenCHAMI cloud-init server
version_added: 0.1.0
description:
  - Returns the cloud-init groups (cloud-config, meta-data, description) and the cluster defaults.
  - For the nodes in O(nodes), also returns what each would receive as C(meta-data), C(user-data) and C(vendor-data)
    (and, with O(group_files=true), the group files its vendor-data includes), read through the server's
    impersonation API (the server must run with C(--impersonation)); nodes must be known to SMD.
  - The server learns group membership from SMD about once a minute, so a node's groups can lag behind SMD.
  - The backend is detected (cloud-init server of OpenCHAMI v0.1, or metadata-service of v0.2), see O(backend).
    metadata-service has no impersonation API, so what a node receives is read from its node routes in the node's
    name (C(X-Forwarded-For) set to the node's IP address from SMD, which must then be reachable).
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
  - cscs.openchami.backend
options:
  groups:
    description: Only these groups (default all).
    type: list
    elements: str
  nodes:
    description: Node xnames whose data to read, three requests each (more with O(group_files)), a few at a time.
    type: list
    elements: str
    aliases: [xnames]
  group_files:
    description: Also read, for each node in O(nodes), the group files its vendor-data includes.
    type: bool
    default: false
seealso:
  - module: cscs.openchami.cloud_init_group
"""

EXAMPLES = r"""
- name: Groups and defaults
  cscs.openchami.cloud_init_info:
  register: ci

- name: What a node receives, with its group files
  cscs.openchami.cloud_init_info:
    nodes: [x1000c0s0b0n0]
    group_files: true
  register: node_ci

- name: Its hostname
  ansible.builtin.debug:
    msg: "{{ node_ci.nodes[0].meta_data['local-hostname'] }}"
"""

RETURN = r"""
groups:
  description: The groups, sorted by name, content decoded to text.
  returned: always
  type: list
  elements: dict
  sample: [{name: compute, description: Compute nodes, meta_data: {}, content: "#cloud-config\n"}]
defaults:
  description: The cluster defaults, with the server's field names.
  returned: always
  type: dict
  sample: {cluster-name: demo, short-name: nid, nid-length: 4}
nodes:
  description: What each node in O(nodes) receives.
  returned: when O(nodes) is given
  type: list
  elements: dict
  contains:
    xname:
      description: The node.
      type: str
    meta_data:
      description: Its meta-data, parsed.
      type: dict
    user_data:
      description: Its user-data text.
      type: str
    vendor_data:
      description: Its vendor-data text (C(#include) and one URL per group).
      type: str
    groups:
      description: The groups its meta-data lists.
      type: list
      elements: str
    group_files:
      description: Group name to the group file text the node receives.
      type: dict
      returned: when O(group_files=true)
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import boot, cloudinit, resource, smd


def node_data(server, name, group_files):
    meta = server.meta_data(name)
    user, vendor = [server.impersonate(name, what) for what in ("user-data", "vendor-data")]
    groups = sorted(((((meta.get("instance_data") or {}).get("v1") or {}).get("vendor_data") or {}).get("groups")
                     or {}).keys())
    entry = {"xname": name, "meta_data": meta, "user_data": user, "vendor_data": vendor, "groups": groups}
    if group_files:
        entry["group_files"] = dict((g, server.impersonate(name, "%s.yaml" % g)) for g in groups)
    return entry


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        groups=dict(type="list", elements="str"),
        nodes=dict(type="list", elements="str", aliases=["xnames"]),
        group_files=dict(type="bool", default=False),
        backend=dict(type="str", choices=list(cloudinit.BACKENDS), default="auto"),
    ))
    p = module.params
    with module.guard():
        errors = []
        names = resource.check_each(p["nodes"], boot.check_node, "nodes", errors)
        wanted = set(resource.check_each(p["groups"], smd.check_label, "groups", errors))
        if errors:
            raise resource.ValidationError(errors)
        server = cloudinit.server_for(boot.client_getter(module), p["backend"])
        groups, defaults = smd.parallel(lambda call: call(), [server.groups, server.defaults])
        result = dict(changed=False, defaults=defaults,
                      groups=[g for g in groups if not wanted or g["name"] in wanted])
        if names:
            server.know_nodes(names)
            result["nodes"] = smd.parallel(lambda n: node_data(server, n, p["group_files"]), names, server.workers)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
