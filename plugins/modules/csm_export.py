#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_export
short_description: Export nodes from CSM in the shape OpenCHAMI's SMD and boot modules take
version_added: 0.1.0
description:
  - Reads SLS, HSM (components, Ethernet interfaces, groups, partitions) and, on request, BOS and IMS, and returns
    the chosen nodes and their BMCs as input for M(cscs.openchami.smd_component),
    M(cscs.openchami.smd_ethernet_interface), M(cscs.openchami.smd_group) and M(cscs.openchami.smd_partition).
    NID, role and subrole come from SLS (the role from HSM where SLS has none).
  - Every node is checked, and a node with a problem is left out and reported in RV(problems) (invalid xname,
    in SLS but not in HSM or the reverse, no NID in SLS or another NID in HSM, a NID, MAC or IP shared with
    another component).
  - With O(boot_template), each boot set of that BOS v2 session template becomes a boot configuration
    (kernel, initrd, kernel parameters) for M(cscs.openchami.boot_config), assembled as BOS does from the
    image's IMS manifest.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.csm
  - cscs.openchami.csm.artifact_rewrite
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Reads only.
options:
  nodes:
    description: Node xnames to export. Default is every node in SLS or HSM.
    type: list
    elements: str
  roles:
    description: Only nodes with one of these roles (for example V(Compute)).
    type: list
    elements: str
  bmcs:
    description: Also export the nodes' BMCs (HSM component and interfaces).
    type: bool
    default: true
  strict:
    description: Fail, returning nothing but the problems, when any chosen node has a problem.
    type: bool
    default: false
  boot_template:
    description: BOS v2 session template whose boot sets are translated into RV(boot_configs).
    type: str
notes:
  - CSM's HSM knows subroles that OpenCHAMI's SMD refuses by default (for example V(UAN), V(Gateway),
    V(LNETRouter)); give SMD the same C(HMSExtendedDefinitions) file (C(HMS_CONFIG_PATH)) before importing such nodes.
"""

EXAMPLES = r"""
- name: Export a batch of compute nodes from CSM
  cscs.openchami.csm_export:
    nodes: "{{ batch }}"
    boot_template: compute-23.7
    artifact_rewrite:
      - {prefix: "s3://boot-images/", replacement: "https://s3.openchami.example/boot-images/"}
  register: export

- name: Register them in OpenCHAMI
  cscs.openchami.smd_component:
    components: "{{ export.components }}"

- name: With their MACs
  cscs.openchami.smd_ethernet_interface:
    interfaces: "{{ export.interfaces }}"

- name: Boot them as CSM did
  cscs.openchami.boot_config:
    hosts: "{{ item.nodes }}"
    kernel: "{{ item.kernel }}"
    initrd: "{{ item.initrd }}"
    params: "{{ item.params }}"
  loop: "{{ export.boot_configs }}"
"""

RETURN = r"""
components:
  description: HSM components of the exported nodes and BMCs, as M(cscs.openchami.smd_component) takes them.
  returned: always
  type: list
  elements: dict
  sample: [{ID: x1000c0s0b0n0, Type: Node, State: Ready, Enabled: true, Role: Compute, NID: 1, Class: Mountain}]
interfaces:
  description: Their Ethernet interfaces, as M(cscs.openchami.smd_ethernet_interface) takes them.
  returned: always
  type: list
  elements: dict
  sample: [{mac: "02:02:00:00:00:01", component_id: x1000c0s0b0n0, description: "", ip_addresses: [{ip_address: 10.252.0.2, network: ""}]}]
groups:
  description: HSM groups with the exported members only, as M(cscs.openchami.smd_group) takes them.
  returned: always
  type: list
  elements: dict
partitions:
  description: HSM partitions with the exported members only, as M(cscs.openchami.smd_partition) takes them.
  returned: always
  type: list
  elements: dict
nodes:
  description: The exported nodes with xname, bmc, nid, role, subrole, aliases and class.
  returned: always
  type: list
  elements: dict
problems:
  description: Per node left out, what is wrong with it.
  returned: always
  type: dict
  sample: {x1000c0s1b0n0: ["in SLS but not in HSM"], x1000c0s2b0n1: ["no NID in SLS"]}
boot_configs:
  description: Per boot set of O(boot_template), the exported nodes it names, kernel, initrd and params.
  returned: when O(boot_template) is set
  type: list
  elements: dict
  sample: [{boot_set: compute, nodes: [x1000c0s0b0n0], kernel: "https://s3.example/boot-images/1/kernel",
            initrd: "https://s3.example/boot-images/1/initrd", params: "console=ttyS0 root=sbps-s3:s3://... nmd_data=..."}]
"""

from ansible_collections.cscs.openchami.plugins.module_utils import csm_export
from ansible_collections.cscs.openchami.plugins.module_utils.csm import check_xnames
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import CsmModule, artifact_rewrite_option
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError


def boot_configs(csm, template_name, rules, components, groups, exported):
    templates = [t for t in csm.bos_sessiontemplates() if t.get("name") == template_name]
    if not templates:
        raise ApiError("BOS has no session template %s" % template_name)
    out = []
    for name, boot_set in sorted((templates[0].get("boot_sets") or {}).items()):
        manifest = csm.s3_object(boot_set["path"], rules)
        params_url = csm_export.image_params_url(manifest)
        config = csm_export.boot_config(name, boot_set, manifest, rules,
                                        csm.s3_text(params_url, rules) if params_url else None)
        config["nodes"] = [n for n in csm_export.boot_set_nodes(boot_set, components, groups) if n in exported]
        config["template"] = template_name
        out.append(config)
    return out


def main():
    module = CsmModule(argument_spec=dict(
        nodes=dict(type="list", elements="str"),
        roles=dict(type="list", elements="str"),
        bmcs=dict(type="bool", default=True),
        strict=dict(type="bool", default=False),
        boot_template=dict(type="str"),
        artifact_rewrite=artifact_rewrite_option(),
    ))
    p = module.params
    csm = module.csm
    with module.guard():
        nodes = check_xnames(p["nodes"]) if p["nodes"] else None
        components = csm.hsm_components()
        groups = csm.hsm_groups()
        result = csm_export.inventory(csm.sls_hardware(["Node"]), components, csm.hsm_ethernet_interfaces(), groups,
                                      csm.hsm_partitions(), nodes=nodes, roles=p["roles"], bmcs=p["bmcs"])
        if p["strict"] and result["problems"]:
            module.fail_json(msg="%d node(s) have problems, nothing was exported: %s" % (
                len(result["problems"]), "; ".join("%s: %s" % (n, ", ".join(t)) for n, t in sorted(result["problems"].items())[:20])),
                problems=result["problems"])
        if p["boot_template"]:
            exported = set(n["xname"] for n in result["nodes"])
            result["boot_configs"] = boot_configs(csm, p["boot_template"], p["artifact_rewrite"], components, groups,
                                                  exported)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
