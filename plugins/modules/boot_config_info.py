#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: boot_config_info
short_description: Read the boot configuration of nodes from BSS or boot-service
version_added: 0.1.0
description:
  - Returns the kernel, initrd and kernel parameters of nodes, read with one request, in the same per-node form
    M(cscs.openchami.boot_config) manages, on BSS or boot-service (detected like there).
  - Without a selector, every node that has a configuration of its own is returned. With selectors (resolved to
    xnames through SMD like in M(cscs.openchami.boot_config)), every selected node is returned, with
    RV(boot_configs[].configured=false) when it has none.
  - On BSS, records that BSS filed under a MAC address or C(nid<N>) (written for nodes SMD did not know) are not
    listed. On boot-service, a node's configuration is the default-profile one listing its xname in C(hosts);
    configurations by pattern, MAC, NID or group are not attributed to nodes, but O(boot_script=true) shows what
    the service actually serves.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.attributes.info_module
  - cscs.openchami.connection
  - cscs.openchami.backend.boot
  - cscs.openchami.nodes
options:
  boot_script:
    description:
      - Also return the iPXE script the service renders for each selected node (C(GET /bootscript?name=) on BSS,
        C(?host=) on boot-service), one request per node.
      - BSS answers a short retry script (C(sleep 10) and C(chain)) for nodes it does not consider bootable yet, for
        example nodes without a Redfish component endpoint in SMD. boot-service learns nodes from SMD periodically
        (every 5 minutes by default) and answers an error script for a node it does not know yet.
    type: bool
    default: false
seealso:
  - module: cscs.openchami.boot_config
"""

EXAMPLES = r"""
- name: Boot configuration of every node
  cscs.openchami.boot_config_info:
  register: boot

- name: What the compute group boots, with the rendered iPXE scripts
  cscs.openchami.boot_config_info:
    groups: [compute]
    boot_script: true
  register: compute_boot
"""

RETURN = r"""
backend:
  description: The backend read, V(bss) or V(boot_service).
  returned: always
  type: str
boot_configs:
  description: One entry per node, in the order selected (natural xname order without selectors).
  returned: always
  type: list
  elements: dict
  contains:
    xname:
      description: The node.
      type: str
    configured:
      description: Whether the node has a boot configuration of its own.
      type: bool
    kernel:
      description: Kernel URL or path (V("") when not configured).
      type: str
    initrd:
      description: Initrd URL or path (V("") when none).
      type: str
    params:
      description: Kernel command line as stored.
      type: str
    configuration:
      description: On boot-service, the C(uid) and C(name) of the configuration the node's entry comes from.
      type: dict
      returned: on boot-service, for configured nodes
    boot_script:
      description: The iPXE script the service renders for the node.
      type: str
      returned: when O(boot_script=true)
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule, node_selector_options
from ansible_collections.cscs.openchami.plugins.module_utils import boot, smd, xname


def main():
    spec = node_selector_options()
    spec.update(boot_script=dict(type="bool", default=False),
                backend=dict(type="str", choices=list(boot.BACKENDS), default="auto"))
    module = OpenCHAMIModule(argument_spec=spec)
    p = module.params
    with module.guard():
        selected = any(p[k] for k in ("nodes", "macs", "nids", "groups"))
        names = boot.resolve_nodes(lambda: smd.SMD(module.client("smd")), hosts=p["nodes"], macs=p["macs"],
                                   nids=p["nids"], groups=p["groups"]) if selected else None
        backend = boot.backend_for(boot.client_getter(module), p["backend"])
        current = backend.read()
        if names is None:
            names = sorted(current, key=xname.natural_key)
        configs = []
        for name in names:
            entry = dict(current.get(name) or boot.desired_items([name], "", "", "")[0], configured=name in current)
            source = getattr(backend, "source", {}).get(name)
            if source:
                entry["configuration"] = source
            configs.append(entry)
        if p["boot_script"]:
            scripts = smd.parallel(backend.boot_script, names)
            for entry, script in zip(configs, scripts):
                entry["boot_script"] = script
    module.exit_json(changed=False, backend=backend.name, boot_configs=configs)


if __name__ == "__main__":
    main()
