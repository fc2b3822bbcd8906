# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CSM -> OpenCHAMI: the inventory of chosen nodes in the shape of the SMD modules, and BOS boot sets as boot configs.

Pure functions over what the CSM services returned (no HTTP here, no AnsibleModule): :func:`inventory` joins SLS
and HSM and reports what is wrong per node, :func:`boot_config` turns a BOS v2 boot set and its IMS manifest into
the kernel, initrd and kernel parameters BOS would have given BSS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cscs.openchami.plugins.module_utils import xname
from ansible_collections.cscs.openchami.plugins.module_utils.csm import rewrite_url, sls_node_summary
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

COMPONENT_FIELDS = ("ID", "Type", "State", "Flag", "Enabled", "Role", "SubRole", "NID", "NetType", "Arch", "Class")
KERNEL = "application/vnd.cray.image.kernel"
INITRD = "application/vnd.cray.image.initrd"
ROOTFS = "application/vnd.cray.image.rootfs.squashfs"
IMAGE_PARAMS = "application/vnd.cray.image.parameters.boot"
# BOS (src/bos/operators/utils/rootfs): provider -> protocol of root=; cpss3 was removed in BOS v2.45.0
ROOT_PROTOCOLS = {"sbps": "sbps-s3", "cpss3": "craycps-s3"}


def _mac(value):
    return (value or "").strip().lower().replace("-", ":")


def inventory(sls_hardware, hsm_components, hsm_interfaces, groups, partitions, nodes=None, roles=None, bmcs=True):
    """The OpenCHAMI representation of the chosen nodes, and what is wrong with each.

    Problems: invalid xname; in SLS but not in HSM, or the reverse; no NID in SLS, or another in HSM; a NID, MAC or IP shared with
    another component (HSM itself refuses a second interface with a known MAC, in any notation, so shared
    MACs come from data joined from elsewhere; shared IPs do happen in HSM).

    Returns ``{"components", "interfaces", "groups", "partitions", "nodes", "problems"}``: components, interfaces,
    groups and partitions in the input shape of ``smd_component``, ``smd_ethernet_interface``, ``smd_group`` and
    ``smd_partition``; ``problems`` maps an xname to its problems; a node with a problem is left out, with its BMC
    unless another exported node shares it.
    """
    sls = dict((item["Xname"], item) for item in sls_hardware if item.get("TypeString") == "Node")
    hsm = dict((c["ID"], c) for c in hsm_components)
    hsm_nodes = set(cid for cid, c in hsm.items() if c.get("Type") == "Node")
    wanted = set(nodes) if nodes else set(sls) | hsm_nodes
    problems = {}

    def problem(node, text):
        problems.setdefault(node, []).append(text)
    for node in sorted(wanted):
        try:
            xname.normalize(node)
        except xname.XnameError as exc:
            problem(node, "not a valid xname: %s" % exc)
            continue
        if node not in sls:
            problem(node, "in HSM but not in SLS" if node in hsm_nodes else "neither in SLS nor in HSM")
        elif node not in hsm_nodes:
            problem(node, "in SLS but not in HSM")
    summary = dict((x, sls_node_summary(item)) for x, item in sls.items())
    chosen = []
    for node in sorted(wanted):
        if node in problems:
            continue
        info = summary[node]
        if roles and info["role"] not in roles and hsm[node].get("Role") not in roles:
            continue
        # SLS holds the NIDs; HSM makes one up from the xname for a node posted without one
        if info["nid"] is None:
            problem(node, "no NID in SLS")
        elif hsm[node].get("NID") is not None and hsm[node]["NID"] != info["nid"]:
            problem(node, "NID %s in SLS but %s in HSM" % (info["nid"], hsm[node]["NID"]))
        chosen.append(node)

    # MACs: one owner each, over every interface HSM has (a MAC shared with anything is a problem)
    owners = {}
    for item in hsm_interfaces:
        owners.setdefault(_mac(item.get("MACAddress")), set()).add(item.get("ComponentID") or "(no component)")
    nids = {}
    for node in chosen:
        nid = summary[node]["nid"]
        if nid is not None:
            nids.setdefault(nid, []).append(node)
    for nid, holders in nids.items():
        if len(holders) > 1:
            for node in holders:
                problem(node, "NID %s is also the NID of %s" % (nid, ", ".join(h for h in holders if h != node)))
    parents = dict((node, xname.parent(node)) for node in chosen)
    for item in hsm_interfaces:
        owner = item.get("ComponentID")
        mac = _mac(item.get("MACAddress"))
        if owner in parents and len(owners[mac]) > 1:
            problem(owner, "MAC %s is also held by %s" % (mac, ", ".join(sorted(o for o in owners[mac] if o != owner))))
    ip_owners = {}
    for item in hsm_interfaces:
        for ip in item.get("IPAddresses") or []:
            if ip.get("IPAddress"):
                ip_owners.setdefault(ip["IPAddress"], set()).add(item.get("ComponentID") or "(no component)")
    for item in hsm_interfaces:
        owner = item.get("ComponentID")
        for ip in item.get("IPAddresses") or []:
            others = sorted(o for o in ip_owners.get(ip.get("IPAddress"), ()) if o != owner)
            if owner in parents and others:
                problem(owner, "IP %s is also held by %s" % (ip["IPAddress"], ", ".join(others)))
    exported = [node for node in chosen if node not in problems]
    bmc_ids = sorted(set(parents[node] for node in exported if parents[node] in hsm)) if bmcs else []
    ids = set(exported) | set(bmc_ids)

    components = []
    for cid in sorted(ids):
        comp = dict((k, hsm[cid][k]) for k in COMPONENT_FIELDS if hsm[cid].get(k) not in (None, ""))
        if cid in summary:  # SLS is the source of NID, role and subrole (HSM may have been edited by hand)
            info = summary[cid]
            comp["NID"] = info["nid"]
            comp["Role"] = info["role"] or comp.get("Role")
            if info["subrole"]:
                comp["SubRole"] = info["subrole"]
        components.append(comp)
    interfaces = []
    for item in sorted(hsm_interfaces, key=lambda i: (i.get("ComponentID") or "", _mac(i.get("MACAddress")))):
        if item.get("ComponentID") in ids:
            interfaces.append({"mac": _mac(item["MACAddress"]), "component_id": item["ComponentID"],
                               "description": item.get("Description") or "",
                               "ip_addresses": [{"ip_address": ip["IPAddress"], "network": ip.get("Network") or ""}
                                                for ip in item.get("IPAddresses") or [] if ip.get("IPAddress")]})

    def members(entry):
        return sorted(m for m in ((entry.get("members") or {}).get("ids") or []) if m in ids)
    out_groups = [{"label": g["label"], "description": g.get("description") or "", "tags": g.get("tags") or [],
                   "members": members(g)} for g in groups if members(g)]
    out_partitions = [{"name": p["name"], "description": p.get("description") or "", "tags": p.get("tags") or [],
                       "members": members(p)} for p in partitions if members(p)]
    node_rows = [dict(summary[n], xname=n, bmc=parents[n]) for n in exported]
    return {"components": components, "interfaces": interfaces, "groups": out_groups, "partitions": out_partitions,
            "nodes": node_rows, "problems": problems}


def image_params_url(manifest):
    """The S3 path of the image's boot parameters file, if its manifest has one."""
    found = [a for a in (manifest or {}).get("artifacts") or [] if a.get("type") == IMAGE_PARAMS]
    return found[0]["link"]["path"] if len(found) == 1 else None


def boot_config(boot_set_name, boot_set, manifest, rules=None, image_params=None):
    """Kernel, initrd and kernel parameters of a BOS v2 boot set with its IMS manifest, as BOS assembles them.

    Parameters in BOS's order: the image's boot parameters file, the boot set's ``kernel_parameters``,
    ``root=<protocol>:<rootfs>:<etag>[:<passthrough>]`` (protocol ``sbps-s3`` for ``sbps``, ``craycps-s3`` for
    ``cpss3``, empty without a provider) and ``nmd_data=url=<rootfs>,etag=<etag>``. Kernel and initrd URLs go
    through ``rules`` (see :func:`csm.rewrite_url`); ``root=`` keeps the S3 path the rootfs provider expects.
    """
    chosen = {}
    for kind in (KERNEL, INITRD, ROOTFS, IMAGE_PARAMS):
        found = [a for a in (manifest or {}).get("artifacts") or [] if a.get("type") == kind]
        if len(found) > 1:
            raise ApiError("boot set %s: the manifest has %d artifacts of type %s, BOS needs exactly one"
                           % (boot_set_name, len(found), kind))
        if not found and kind != IMAGE_PARAMS:
            raise ApiError("boot set %s: the manifest has no artifact of type %s" % (boot_set_name, kind))
        if found:
            chosen[kind] = found[0]["link"]
    rootfs = chosen[ROOTFS]
    provider = boot_set.get("rootfs_provider") or ""
    root = "root=%s:%s:%s" % (ROOT_PROTOCOLS.get(provider, ""), rootfs["path"], rootfs.get("etag") or "")
    if boot_set.get("rootfs_provider_passthrough"):
        root += ":" + boot_set["rootfs_provider_passthrough"]
    params = [p for p in ((image_params or "").strip(), (boot_set.get("kernel_parameters") or "").strip(), root,
                          "nmd_data=url=%s,etag=%s" % (rootfs["path"], rootfs.get("etag") or "")) if p]
    return {"boot_set": boot_set_name, "kernel": rewrite_url(chosen[KERNEL]["path"], rules),
            "initrd": rewrite_url(chosen[INITRD]["path"], rules), "params": " ".join(params)}


def boot_set_nodes(boot_set, components, groups):
    """The xnames a boot set names: ``node_list``, plus nodes whose HSM role or group is named."""
    roles = set(boot_set.get("node_roles_groups") or [])
    labels = set(boot_set.get("node_groups") or [])
    found = set(boot_set.get("node_list") or [])
    found.update(c["ID"] for c in components if c.get("Type") == "Node" and c.get("Role") in roles)
    for group in groups:
        if group.get("label") in labels:
            found.update((group.get("members") or {}).get("ids") or [])
    return sorted(found)
