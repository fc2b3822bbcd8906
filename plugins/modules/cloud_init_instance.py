#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloud_init_instance
short_description: Set per-node instance info (hostname, keys, ...) on the OpenCHAMI cloud-init server
version_added: 0.1.0
description:
  - Sets the per-node overrides of the cluster defaults (see M(cscs.openchami.cloud_init_defaults)) for a list of nodes.
  - The cloud-init server has no way to read instance info back and replaces it as a whole on every write. So the
    module reads what each node actually receives (its meta-data, through the server's impersonation API, which
    must be enabled with C(--impersonation)) and compares the given fields with that. Fields not given keep the
    node's own values, which are written back with the change.
  - A value equal to what the cluster defaults give (for example a hostname equal to the generated C(nid0001)) is
    indistinguishable from no value; it reads as unchanged, and is not written back when another field changes.
  - The nodes must be known to SMD (the server serves no meta-data for others); their NIDs are read from SMD with
    one request to compute the default hostnames. The API has no bulk form, so it is one GET and, when changed, one PUT
    per node, a few at a time.
  - The backend is detected (cloud-init server of OpenCHAMI v0.1, or metadata-service of v0.2), see O(backend).
  - On metadata-service each node's instance info is a record of its own that is read, compared and written (or,
    with O(state=absent), deleted) as such; it has no instance type (O(instances[].instance_type) fails the task).
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
    description: Reads and compares, writes nothing.
  diff_mode:
    support: full
    description: Shows each changed node's fields, as the node receives them, before and after (bounded for large lists).
options:
  instances:
    description:
      - The nodes and their instance info. An empty string (or empty list) means none of the node's own, so
        the node gets the cluster default.
    type: list
    elements: dict
    suboptions:
      xname:
        description: Node xname.
        type: str
        required: true
        aliases: [id]
      local_hostname:
        description: Short hostname (C(local-hostname)).
        type: str
      hostname:
        description: Hostname, often the FQDN (C(hostname)).
        type: str
      instance_type:
        description: Instance type (C(instance-type)).
        type: str
      cloud_init_base_url:
        description: Base URL of the cloud-init server for this node (C(cloud-init-base-url)).
        type: str
      public_keys:
        description:
          - SSH public keys of this node, served after the cluster's (C(public-keys)); compared as a set.
        type: list
        elements: str
  src:
    description:
      - Path of a JSON or YAML file holding the list of O(instances) (or a mapping with an C(instances) key), read by
        the module itself; the items are validated like O(instances). Mutually exclusive with O(instances).
    type: path
  state:
    description:
      - V(present) sets the given fields, V(absent) removes all of the nodes' own instance info (the server has no
        delete, so an empty record is written) and the nodes get the cluster defaults.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: cscs.openchami.cloud_init_defaults
  - module: cscs.openchami.cloud_init_info
"""

EXAMPLES = r"""
- name: Name the login nodes
  cscs.openchami.cloud_init_instance:
    cluster_uri: https://demo.openchami.cluster:8443
    instances:
      - {xname: x3000c0s1b0n0, local_hostname: login1, hostname: login1.demo.example.com}
      - {xname: x3000c0s2b0n0, local_hostname: login2, hostname: login2.demo.example.com}

- name: Back to the cluster defaults
  cscs.openchami.cloud_init_instance:
    instances: [{xname: x3000c0s2b0n0}]
    state: absent
"""

RETURN = r"""
instances:
  description:
    - The nodes whose instance info was written (or would be, in check mode), as their own record after the change.
    - Unchanged nodes are only counted in RV(summary).
  returned: always
  type: list
  elements: dict
  sample: [{xname: x3000c0s1b0n0, local-hostname: login1, hostname: login1.demo.example.com, instance-type: "",
            cloud-init-base-url: "", public-keys: []}]
summary:
  description: How many nodes were updated or left unchanged.
  returned: always
  type: dict
  sample: {create: 0, update: 1, delete: 0, unchanged: 1}
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule, src_option
from ansible_collections.cscs.openchami.plugins.module_utils import boot, cloudinit, resource, smd

ID_FILTER_LIMIT = 100


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        instances=dict(type="list", elements="dict", options=cloudinit.INSTANCE.argument_spec()),
        src=src_option(),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        backend=dict(type="str", choices=list(cloudinit.BACKENDS), default="auto"),
    ), required_one_of=[("instances", "src")], mutually_exclusive=[("instances", "src")])
    p = module.params
    with module.guard():
        items = cloudinit.INSTANCE.desired(module.items("instances"), what="instance")
        names = [i["xname"] for i in items]
        server = cloudinit.server_for(boot.client_getter(module), p["backend"])
        api = smd.SMD(module.client("smd"))
        found = smd.parallel(lambda call: call(), [
            server.defaults,
            lambda: api.components(id=names) if len(names) <= ID_FILTER_LIMIT else api.components(type="Node"),
        ])
        defaults, components = found
        nids = dict((c.get("ID"), c.get("NID")) for c in components)
        unknown = [n for n in names if n not in nids]
        if unknown:
            raise resource.ValidationError(["node %s is not known to SMD" % n for n in unknown])
        plan = cloudinit.plan_instances(server, items, defaults, nids, p["state"], module.check_mode)
    module.exit_json(**resource.result(plan, instances=plan.resources()))


if __name__ == "__main__":
    main()
