#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloud_init_defaults
short_description: Set the cluster defaults of the OpenCHAMI cloud-init server
version_added: 0.1.0
description:
  - Sets the cluster-wide meta-data defaults every node receives unless its own instance info says otherwise
    (see M(cscs.openchami.cloud_init_instance)).
  - Only the options given are managed, compared with the server's values and written in one request.
  - The server merges what it is sent and ignores empty values, so a default can be changed but not cleared;
    an empty value fails the task and nothing is written.
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
    description: Reads and compares, writes nothing.
  diff_mode:
    support: full
    description: Shows the changed defaults before and after.
options:
  cluster_name:
    description: Long name of the cluster (C(cluster-name)).
    type: str
  short_name:
    description:
      - Prefix of the default node hostnames (C(short-name)); a node without its own hostname is named this plus
        its NID padded to O(nid_length). Without it, the first two letters of O(cluster_name) are used.
    type: str
  nid_length:
    description: Number of digits of the NID in default hostnames (C(nid-length)); the server uses 4 when unset.
    type: int
  base_url:
    description: Base URL of the cloud-init server as nodes reach it (C(base-url)); a trailing V(/) is dropped.
    type: str
  public_keys:
    description: SSH public keys every node receives (C(public-keys)); compared as a set.
    type: list
    elements: str
  region:
    description: Region (C(region)).
    type: str
  availability_zone:
    description: Availability zone (C(availability-zone)).
    type: str
  cloud_provider:
    description: Cloud provider (C(cloud_provider)).
    type: str
seealso:
  - module: cscs.openchami.cloud_init_info
  - module: cscs.openchami.cloud_init_instance
"""

EXAMPLES = r"""
- name: Cluster defaults
  cscs.openchami.cloud_init_defaults:
    cluster_uri: https://demo.openchami.cluster:8443
    cluster_name: demo
    short_name: nid
    nid_length: 4
    base_url: http://10.1.0.1:27777/cloud-init
    public_keys:
      - "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
"""

RETURN = r"""
defaults:
  description: The cluster defaults after the task (or as they would be, in check mode), with the server's field names.
  returned: always
  type: dict
  sample: {cluster-name: demo, short-name: nid, nid-length: 4, base-url: "http://10.1.0.1:27777/cloud-init", public-keys: []}
summary:
  description: Whether the defaults were updated or left unchanged.
  returned: always
  type: dict
  sample: {create: 0, update: 1, delete: 0, unchanged: 0}
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import boot, cloudinit, resource


def main():
    spec = cloudinit.DEFAULTS.argument_spec()
    spec["backend"] = dict(type="str", choices=list(cloudinit.BACKENDS), default="auto")
    module = OpenCHAMIModule(argument_spec=spec)
    with module.guard():
        desired = cloudinit.DEFAULTS.desired([module.params], what=None)[0]
        server = cloudinit.server_for(boot.client_getter(module), module.params["backend"])
        plan = resource.plan_singleton(desired, server.defaults(), cloudinit.DEFAULTS.normalizers())
        resource.apply(plan, module.check_mode, update=lambda changes: server.set_defaults(changes[0].changes))
    module.exit_json(**resource.result(plan, defaults=plan.after))


if __name__ == "__main__":
    main()
