#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: boot_config
short_description: Set the kernel, initrd and kernel parameters of nodes on BSS or boot-service
version_added: 0.1.0
description:
  - Sets or removes the boot configuration (kernel, initrd, kernel parameters) of nodes selected by xname
    (or xname pattern), MAC address, NID or SMD group, many at once.
  - MACs, NIDs and groups are resolved to node xnames through SMD, one request each; a MAC, NID or group SMD does
    not know fails the task naming it. Group members that are not nodes are left out. The configuration is
    written per xname, and on BSS also per MAC (O(by_mac)).
  - Kernel parameters are compared as parameters, not as strings. The order of different parameters and repeated
    identical parameters do not matter; the order of several values of the same parameter (such as two
    C(console=)) and of everything after C(--) does.
  - Only the fields given are managed; a node keeps its current kernel, initrd or parameters when they are not
    given. A node without a boot configuration needs O(kernel).
  - Everything is validated and resolved before any write; one bad item fails the task and nothing changes.
  - O(image) takes the kernel, initrd and root file system from the image inventory in S3 (see
    M(cscs.openchami.image)) instead of O(kernel) and O(initrd).
  - B(BSS) (C(/boot/v1)). All boot parameters are read with one GET. Nodes that end up with the same kernel, initrd
    and parameters are written together with one PUT (create or replace) listing all their hosts, so a uniform change
    to 10,000 nodes is one request; O(state=absent) is one DELETE. BSS's PostgreSQL store keeps a field a PUT leaves
    empty, so nodes whose initrd or parameters are emptied are deleted (one request) and written anew. The
    C(cloud-init) data BSS may hold for a node is kept.
  - B(boot-service). Its own C(/bootconfigurations) API is used. A node's configuration is the default-profile
    configuration that lists its xname in C(hosts) (on a tie, the highest priority, then the first name, as the
    service chooses). Nodes are moved out of configurations that list them and into one with the same content (an
    existing one targeting hosts only, else a new one named C(cscs-openchami-<hash>)); one write per configuration
    touched, and a configuration left without any target is deleted. Configurations that target nodes by pattern,
    MAC, NID, group or another profile are not changed, and boot-service prefers MAC (score 100) and NID (75)
    matches to host matches (50); M(cscs.openchami.boot_config_info) with O(cscs.openchami.boot_config_info#module:boot_script=true)
    shows what a node is actually served.
  - boot-service's legacy C(/boot/v1) API is not used for writing. On the real service its PUT answers 404 for a node
    without a configuration and replaces the host list of the first configuration that matches (other nodes lose
    theirs), its POST adds a duplicate every time, its DELETE removes whole configurations and it has no PATCH, so it
    cannot be driven idempotently.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.connection
  - cscs.openchami.s3
  - cscs.openchami.backend.boot
  - cscs.openchami.nodes
  - cscs.openchami.nodes.src
attributes:
  action_group:
    description:
      - Use C(group/cscs.openchami.openchami) in C(module_defaults) to set the connection once for this module, and
        C(group/cscs.openchami.image) to set the S3 options of O(image).
    support: full
    membership:
      - cscs.openchami.image
      - cscs.openchami.openchami
  check_mode:
    support: full
    description: Reads and compares, writes nothing.
  diff_mode:
    support: full
    description: Shows each changed node's fields before and after (bounded for large lists).
options:
  kernel:
    description: Kernel URL or path. Required for nodes that have no boot configuration yet.
    type: str
  initrd:
    description: Initrd URL or path; V("") for none.
    type: str
  params:
    description:
      - Kernel command line, split with shell quoting rules (a quoted value with spaces stays one parameter).
    type: str
  image:
    description:
      - An image of the inventory, V(name:tag) (or V(name:version); V(name) alone is V(name:latest)). Its kernel and
        initrd URLs become the nodes' kernel and initrd, and C(root=live:<rootfs URL>) is added to O(params)
        (replacing a C(root=) given there; without O(params) the parameters are just that).
      - The S3 options (O(s3_endpoint_url) ...) say where the inventory is; the URLs are O(s3_public_url) (else the
        endpoint), the bucket and the key. A deprecated image, an unknown reference or an image without kernel or
        root file system fails the task before anything is written.
    type: str
  by_mac:
    description:
      - B(BSS) only. Also store each node's configuration under the MAC addresses SMD lists for it (its
        EthernetInterfaces, read with one request), and remove those records with it for O(state=absent). A node's
        iPXE asks BSS C(bootscript?mac=<MAC>), and BSS's PostgreSQL store (OpenCHAMI's) answers that only from a
        record stored under that MAC, not from the node's xname record.
      - The MAC records take one more PUT per distinct content. RV(nodes) lists each node's MACs as C(macs). A node
        that SMD lists without any interface gets its xname record only.
      - Needs SMD's address. V(false) writes and compares by xname only. With boot-service the option does nothing.
    type: bool
    default: true
  state:
    description: V(present) sets the configuration, V(absent) removes the nodes' boot configuration.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: cscs.openchami.boot_config_info
"""

EXAMPLES = r"""
- name: Boot the compute group into the new image
  cscs.openchami.boot_config:
    cluster_uri: https://demo.openchami.cluster:8443
    groups: [compute]
    kernel: http://10.1.0.1/boot-images/compute/vmlinuz-6.1
    initrd: http://10.1.0.1/boot-images/compute/initramfs-6.1.img
    params: console=ttyS0,115200 root=live:http://10.1.0.1/boot-images/compute/rootfs ip=dhcp

- name: Add a parameter to two nodes, keeping their kernel and initrd
  cscs.openchami.boot_config:
    nodes: ["x1000c0s0b0n[0-1]"]
    params: console=ttyS0,115200 root=live:http://10.1.0.1/rootfs ip=dhcp debug

- name: Nodes selected by MAC and NID
  cscs.openchami.boot_config:
    macs: [de:ad:be:ee:ee:f1]
    nids: [17, 18]
    kernel: http://10.1.0.1/vmlinuz
    initrd: ""
    params: console=ttyS0

- name: Boot the compute group into the production image of the inventory
  cscs.openchami.boot_config:
    groups: [compute]
    image: compute:prod
    params: console=ttyS0,115200 ip=dhcp
    s3_endpoint_url: http://s3.openchami.cluster:7070

- name: Forget the boot configuration of a node
  cscs.openchami.boot_config:
    nodes: [x1000c0s0b0n1]
    state: absent
"""

RETURN = r"""
backend:
  description: The backend used, V(bss) or V(boot_service).
  returned: always
  type: str
  sample: bss
nodes:
  description:
    - The nodes whose configuration was set (or would be, in check mode), as it is after the change.
    - Unchanged and removed nodes are only counted in RV(summary).
    - On BSS with O(by_mac), C(macs) lists the MACs the configuration is also stored under.
  returned: always
  type: list
  elements: dict
  sample: [{xname: x1000c0s0b0n0, kernel: http://10.1.0.1/vmlinuz, initrd: "", params: console=ttyS0,
            macs: ["02:00:00:00:00:01"]}]
summary:
  description: How many nodes got a configuration (create), had it changed (update) or removed (delete), or were unchanged.
  returned: always
  type: dict
  sample: {create: 2, update: 0, delete: 0, unchanged: 10}
"""

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule, node_selector_options, src_option
from ansible_collections.cscs.openchami.plugins.module_utils import boot, image, resource, smd


def node_macs(module, names):
    if not module.connection.url("smd"):
        raise resource.ValidationError(["by_mac: finding the nodes' MACs needs SMD's address (or set by_mac: false)"])
    return boot.node_macs(smd.SMD(module.client("smd")), names)


def main():
    spec = node_selector_options()
    spec.update(
        src=src_option(),
        kernel=dict(type="str"),
        initrd=dict(type="str"),
        params=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        backend=dict(type="str", choices=list(boot.BACKENDS), default="auto"),
        by_mac=dict(type="bool", default=True),
        image=dict(type="str"),
        **image.s3_argument_spec()
    )
    module = OpenCHAMIModule(argument_spec=spec, required_one_of=[("nodes", "macs", "nids", "groups", "src")],
                             mutually_exclusive=[("nodes", "src"), ("image", "kernel"), ("image", "initrd")])
    p = module.params
    with module.guard():
        if p["image"] and p["state"] == "absent":
            raise resource.ValidationError(["image is for state=present (state=absent removes the configuration)"])
        if p["image"]:
            p["kernel"], p["initrd"], p["params"] = image.boot_fields(image.Store.from_params(p), p["image"], p["params"])
        boot.check_params(p["params"])
        names = boot.resolve_nodes(lambda: smd.SMD(module.client("smd")), hosts=module.items("nodes"),
                                   macs=p["macs"], nids=p["nids"], groups=p["groups"])
        backend = boot.backend_for(boot.client_getter(module), p["backend"],
                                   (lambda: node_macs(module, names)) if p["by_mac"] else None)
        plan = boot.plan(backend, names, p["state"], p["kernel"], p["initrd"], p["params"], module.check_mode)
    module.exit_json(**resource.result(plan, backend=backend.name, nodes=plan.resources()))


if __name__ == "__main__":
    main()
