#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_ownership_info
short_description: Tell, for many nodes at once, whether CSM or OpenCHAMI owns each of them
version_added: 0.1.0
description:
  - Reads both systems in bulk and says for each node who owns it. A node is owned by CSM when it is enabled in
    BOS or CFS, or any of its MACs is in CSM's HSM; by OpenCHAMI when it has a boot configuration (BSS or
    boot-service; on BSS also one stored only under one of its MACs, those HSM, SMD or O(nodes) give for it) or any
    of its MACs is in OpenCHAMI's SMD. Its owner is V(csm), V(openchami), V(none)
    (released from CSM, not yet in OpenCHAMI) or V(both) (a conflict).
  - A MAC counts wherever it is found, also without a component. CSM's DHCP helper puts a MAC it leased back into
    HSM with no C(ComponentID), and that is a conflict. Give the MACs to look for as C(macs) of the node in O(nodes).
  - Reads are bulk. All Ethernet interfaces of HSM and of SMD, the BOS and CFS components of the nodes and the boot
    configurations are read with one request each.
  - With O(boot_history=true) it also tells which system last booted each node. The C(endpoint-history) of CSM's BSS
    and of OpenCHAMI's BSS (one request each) give the time each BSS last served the node its boot script; the
    larger one names the system that booted it last. Compared with an earlier answer (O(boot_since)), it tells which
    BSS served a node since then without relying on the two systems' clocks agreeing. boot-service keeps no such
    history; the module then fails.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.info_module
  - cscs.openchami.attributes.openchami_and_csm
  - cscs.openchami.connection
  - cscs.openchami.csm
  - cscs.openchami.backend.boot
options:
  nodes:
    description: The nodes, as xnames or as dicts with C(xname) and C(macs) (MACs to look for also without a component).
    type: list
    elements: raw
    required: true
  boot_history:
    description:
      - Also read the C(endpoint-history) of both BSSes (RV(nodes[].csm.last_boot), RV(nodes[].openchami.last_boot)).
    type: bool
    default: false
  boot_since:
    description:
      - xname -> C({csm, openchami}), the nodes' C(last_boot) read earlier (before a power cycle). With
        O(wait_timeout), the module first waits until every node fetched a boot script from either BSS since then.
      - Implies O(boot_history=true). A node missing here counts from 0.
    type: dict
  wait_timeout:
    description:
      - Seconds to wait, polling both C(endpoint-history) every 2 s, for the nodes of O(boot_since) to fetch a boot
        script. When the time is up the module answers all the same; the nodes that fetched nothing show it by their
        unchanged C(last_boot). 0 does not wait.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Who owns the batch
  cscs.openchami.node_ownership_info:
    nodes: [x1000c0s0b0n0, {xname: x1000c0s0b0n1, macs: ["02:40:00:00:00:02"]}]
  register: owners

- name: Every node of the batch is in OpenCHAMI, and in OpenCHAMI only
  ansible.builtin.assert:
    that: owners.owners.openchami | length == 2
"""

RETURN = r"""
nodes:
  description: Per node, its owner and what each system holds of it.
  returned: always
  type: list
  elements: dict
  sample: [{xname: x1000c0s0b0n0, owner: openchami,
            csm: {bos_enabled: false, cfs_enabled: false, macs: [], last_boot: 1796190000},
            openchami: {boot_config: true, macs: ["02:40:00:00:00:01"], last_boot: 1796196634}}]
  contains:
    csm:
      description: What CSM holds of the node.
      type: dict
      contains:
        last_boot:
          description:
            - O(boot_history=true) when CSM's BSS last served the node its boot script (epoch seconds; 0 never).
          type: int
          returned: when O(boot_history=true)
    openchami:
      description: What OpenCHAMI holds of the node.
      type: dict
      contains:
        last_boot:
          description:
            - O(boot_history=true) when OpenCHAMI's BSS last served the node its boot script (epoch seconds; 0 never).
          type: int
          returned: when O(boot_history=true)
owners:
  description: The xnames by owner (V(csm), V(openchami), V(none), V(both)).
  returned: always
  type: dict
  sample: {csm: [], openchami: [x1000c0s0b0n0], none: [], both: []}
"""

import time

from ansible_collections.cscs.openchami.plugins.module_utils import boot, resource, smd
from ansible_collections.cscs.openchami.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import CsmModule, csm_argument_spec
from ansible_collections.cscs.openchami.plugins.module_utils import migration
from ansible_collections.cscs.openchami.plugins.module_utils.migration import check_nodes, owner

POLL = 2


def both_connections():
    spec = connection_argument_spec()
    spec.update(csm_argument_spec())
    return spec


class OwnershipModule(CsmModule):
    connection_spec = staticmethod(both_connections)


def _macs_by_owner(interfaces):
    by_component, macs = {}, set()
    for item in interfaces:
        mac = resource.normalize_mac(item.get("MACAddress") or "") if item.get("MACAddress") else None
        if mac:
            macs.add(mac)
            if item.get("ComponentID"):
                by_component.setdefault(item["ComponentID"], set()).add(mac)
    return by_component, macs


def _boot_history(backend, csm, names, since, timeout):
    """Both BSSes' latest boot per node, once every node fetched a boot script since ``since`` or ``timeout`` s passed."""
    deadline = time.monotonic() + max(timeout or 0, 0)
    while True:
        history = {"openchami": backend.boot_history(),
                   "csm": boot.latest_boots(csm.get("bss", "/endpoint-history", {"endpoint": "bootscript"}))}
        seen = [{"xname": n, "csm": {"last_boot": history["csm"].get(n, 0)},
                 "openchami": {"last_boot": history["openchami"].get(n, 0)}} for n in names]
        if since is None or not migration.boot_failures(seen, since, "openchami", timeout, pending=True) \
                or time.monotonic() >= deadline:
            return history
        time.sleep(min(POLL, max(deadline - time.monotonic(), 0)))


def main():
    module = OwnershipModule(argument_spec=dict(
        nodes=dict(type="list", elements="raw", required=True),
        backend=dict(type="str", choices=list(boot.BACKENDS), default="auto"),
        boot_history=dict(type="bool", default=False),
        boot_since=dict(type="dict"),
        wait_timeout=dict(type="int", default=0),
    ))
    with module.guard():
        items = [i if isinstance(i, dict) else {"xname": i} for i in module.params["nodes"]]
        nodes = check_nodes([{"xname": i.get("xname")} for i in items])
        errors, given = [], {}
        for node, item in zip(nodes, items):
            given[node["xname"]] = set(resource.check_each(item.get("macs"), resource.normalize_mac,
                                                           "macs of %s" % node["xname"], errors))
        if errors:
            raise resource.ValidationError(errors)
        names = [n["xname"] for n in nodes]
        csm = module.csm
        hsm_by_node, hsm_macs = _macs_by_owner(csm.hsm_ethernet_interfaces())
        smd_by_node, smd_macs = _macs_by_owner(smd.SMD(module.client("smd")).interfaces())
        # a boot record OpenCHAMI's BSS holds under any MAC of the node counts (its iPXE asks by MAC)
        macs_of = dict((n, sorted(hsm_by_node.get(n, set()) | smd_by_node.get(n, set()) | given[n])) for n in names)
        backend = boot.backend_for(boot.client_getter(module), module.params["backend"], macs_of=macs_of)
        history = None
        if module.params["boot_history"] or module.params["boot_since"] is not None:
            history = _boot_history(backend, csm, names, module.params["boot_since"], module.params["wait_timeout"])
        bos = dict((c["id"], c.get("enabled")) for c in csm.bos_components(names))
        cfs = dict((c["id"], c.get("enabled")) for c in csm.cfs_components(names))
        configs = backend.read()
    results, owners = [], dict((o, []) for o in ("csm", "openchami", "none", "both"))
    for name in names:
        extra = given[name]
        csm_side = {"bos_enabled": bos.get(name), "cfs_enabled": cfs.get(name),
                    "macs": sorted(hsm_by_node.get(name, set()) | (extra & hsm_macs))}
        oc_side = {"boot_config": name in configs, "macs": sorted(smd_by_node.get(name, set()) | (extra & smd_macs))}
        if history is not None:
            csm_side["last_boot"] = history["csm"].get(name, 0)
            oc_side["last_boot"] = history["openchami"].get(name, 0)
        who = owner({"bos_enabled": csm_side["bos_enabled"] or csm_side["cfs_enabled"], "macs": csm_side["macs"]},
                    oc_side)
        owners[who].append(name)
        results.append({"xname": name, "owner": who, "csm": csm_side, "openchami": oc_side})
    module.exit_json(changed=False, nodes=results, owners=owners)


if __name__ == "__main__":
    main()
