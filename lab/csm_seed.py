# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A realistic small CSM system, generated: what SLS, HSM, BSS, BOS, IMS, CFS and PCS hold about it.

Cabinets x1000, x1001 ... are liquid-cooled (Class Mountain): chassis c0..c7, 8 blades each, every blade with two
node cards (b0, b1) of two nodes each (256 nodes a cabinet). Cabinets x3000, x3001 ... are air-cooled (Class River):
one node per rack slot (node BMC b0): x3000 holds the management nodes (ncn-m/w), two UANs and, from slot 10, River
compute nodes (one compute node in eight; 32 a rack).
Compute nodes get NIDs 1..N and aliases ``nid000001``; HSM has groups ``compute``, ``uan``, ``ncn``
and the partition ``p1``; BOS session templates point at IMS images (manifests in S3), CFS has one
component per node.
"""

from __future__ import annotations

import hashlib

STAMP = 1764547200  # 2025-12-01T00:00:00Z: fixed, so a seed is the same on every run
WHEN = "2025-12-01T00:00:00Z"
IMAGES = (("compute-cos-3.2.1", "sbps"), ("uan-cos-3.2.1", "cpss3"))


def mac(kind: int, index: int) -> str:
    """A stable, locally administered MAC for interface ``kind`` of thing ``index``."""
    return "02:%02x:%02x:%02x:%02x:%02x" % (kind, (index >> 24) & 255, (index >> 16) & 255, (index >> 8) & 255, index & 255)


def uid(text: str) -> str:
    """A stable UUID-shaped id."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def node_layout(nodes: int) -> list[dict]:
    """The nodes: ``{"xname", "bmc", "cls", "role", "subrole", "nid", "alias"}``, River service nodes first."""
    out = []
    river_services = [("Management", "Master", "ncn-m001"), ("Management", "Worker", "ncn-w001"),
                      ("Application", "UAN", "uan01"), ("Application", "UAN", "uan02")]
    for slot, (role, subrole, alias) in enumerate(river_services[:max(0, min(4, nodes // 8))], start=1):
        out.append({"xname": f"x3000c0s{slot}b0n0", "bmc": f"x3000c0s{slot}b0", "cls": "River", "role": role,
                    "subrole": subrole, "nid": 100000 + slot, "alias": alias})
    compute = nodes - len(out)
    river_compute = compute // 8  # one in eight compute nodes is air-cooled
    liquid = compute - river_compute
    nid = 0
    for index in range(liquid):
        chassis, rest = divmod(index, 32)
        cabinet, chassis = 1000 + chassis // 8, chassis % 8  # 8 chassis (256 nodes) per liquid-cooled cabinet
        slot, rest = divmod(rest, 4)
        card, node = divmod(rest, 2)
        nid += 1
        out.append({"xname": f"x{cabinet}c{chassis}s{slot}b{card}n{node}", "bmc": f"x{cabinet}c{chassis}s{slot}b{card}",
                    "cls": "Mountain", "role": "Compute", "subrole": "", "nid": nid, "alias": f"nid{nid:06d}"})
    for index in range(river_compute):
        cabinet, slot = 3000 + index // 32, 10 + index % 32  # 32 compute nodes per air-cooled rack
        nid += 1
        out.append({"xname": f"x{cabinet}c0s{slot}b0n0", "bmc": f"x{cabinet}c0s{slot}b0", "cls": "River", "role": "Compute",
                    "subrole": "", "nid": nid, "alias": f"nid{nid:06d}"})
    return out


def _sls_item(xname: str, parent: str, type_string: str, comptype: str, cls: str, extra: dict | None = None) -> dict:
    item = {"Parent": parent, "Xname": xname, "Type": comptype, "TypeString": type_string, "Class": cls,
            "LastUpdated": STAMP, "LastUpdatedTime": "2025-12-01 00:00:00.000000 +0000 UTC"}
    if extra is not None:
        item["ExtraProperties"] = extra
    return item


def generate(nodes: int = 32) -> dict:
    """The whole seed: ``{"layout", "sls", "hsm", "bss", "bos", "ims", "cfs", "pcs", "s3"}``."""
    layout = node_layout(nodes)
    hardware = {}
    for item in layout:
        x, bmc, cls = item["xname"], item["bmc"], item["cls"]
        chassis = x.split("s")[0]
        cab = chassis.split("c")[0]
        if cab not in hardware:
            hardware[cab] = _sls_item(cab, "s0", "Cabinet", "comptype_cabinet", cls, {"Networks": {}})
        if chassis not in hardware:
            hardware[chassis] = _sls_item(chassis, cab, "Chassis", "comptype_chassis", cls)
        if cls == "Mountain" and chassis + "b0" not in hardware:
            hardware[chassis + "b0"] = _sls_item(chassis + "b0", chassis, "ChassisBMC", "comptype_chassis_bmc", cls)
        blade = bmc[:bmc.rindex("b")]
        if blade not in hardware:
            hardware[blade] = _sls_item(blade, chassis, "ComputeModule", "comptype_compmod", cls)
        if bmc not in hardware:
            hardware[bmc] = _sls_item(bmc, blade, "NodeBMC", "comptype_ncard", cls)
        hardware[x] = _sls_item(x, bmc, "Node", "comptype_node", cls, {
            "NID": item["nid"], "Role": item["role"], "SubRole": item["subrole"], "Aliases": [item["alias"]]})
    networks = [
        {"Name": "NMN", "FullName": "Node Management Network", "IPRanges": ["10.252.0.0/17"], "Type": "ethernet",
         "LastUpdated": STAMP, "LastUpdatedTime": "2025-12-01 00:00:00.000000 +0000 UTC",
         "ExtraProperties": {"CIDR": "10.252.0.0/17", "MTU": 9000, "VlanRange": [2],
                             "Comment": "compute and service node interfaces"}},
        {"Name": "HMN", "FullName": "Hardware Management Network", "IPRanges": ["10.254.0.0/17"], "Type": "ethernet",
         "LastUpdated": STAMP, "LastUpdatedTime": "2025-12-01 00:00:00.000000 +0000 UTC",
         "ExtraProperties": {"CIDR": "10.254.0.0/17", "MTU": 9000, "VlanRange": [4], "Comment": "BMCs"}},
        {"Name": "HSN", "FullName": "High Speed Network", "IPRanges": ["10.253.0.0/16"], "Type": "slingshot11",
         "LastUpdated": STAMP, "LastUpdatedTime": "2025-12-01 00:00:00.000000 +0000 UTC",
         "ExtraProperties": {"CIDR": "10.253.0.0/16", "MTU": 9000}},
    ]

    components, interfaces = [], []
    bmcs = sorted({item["bmc"] for item in layout})
    for index, bmc in enumerate(bmcs, start=1):
        components.append({"ID": bmc, "Type": "NodeBMC", "State": "Ready", "Flag": "OK", "Enabled": True,
                           "NetType": "Sling", "Arch": "X86", "Class": "Mountain" if bmc.startswith("x1000") else "River"})
        interfaces.append({"ID": mac(1, index).replace(":", ""), "Description": "BMC", "MACAddress": mac(1, index),
                           "ComponentID": bmc, "IPAddresses": [{"IPAddress": f"10.254.{index // 250}.{index % 250 + 1}"}]})
    for index, item in enumerate(layout, start=1):
        components.append({"ID": item["xname"], "Type": "Node", "State": "Ready", "Flag": "OK", "Enabled": True,
                           "Role": item["role"], "SubRole": item["subrole"] or None, "NID": item["nid"],
                           "NetType": "Sling", "Arch": "X86", "Class": item["cls"], "SoftwareStatus": ""})
        interfaces.append({"ID": mac(2, index).replace(":", ""), "Description": "Node NMN (mgmt0)",
                           "MACAddress": mac(2, index), "ComponentID": item["xname"],
                           "IPAddresses": [{"IPAddress": f"10.252.{index // 250}.{index % 250 + 1}"}]})
    for item in components:
        if item.get("SubRole") is None:
            item.pop("SubRole", None)
    by_role = {"compute": [n["xname"] for n in layout if n["role"] == "Compute"],
               "uan": [n["xname"] for n in layout if n["subrole"] == "UAN"],
               "ncn": [n["xname"] for n in layout if n["role"] == "Management"]}
    groups = [{"label": name, "description": f"{name} nodes (seed)", "tags": ["seed"], "members": {"ids": ids}}
              for name, ids in by_role.items() if ids]
    partitions = [{"name": "p1", "description": "the whole machine", "tags": ["seed"],
                   "members": {"ids": by_role["compute"][:len(by_role["compute"]) // 2]}}]

    images, s3, templates, bootparams = [], {}, [], []
    image_of = {}
    for name, provider in IMAGES:
        image_id = uid("image-" + name)
        manifest_key = f"boot-images/{image_id}/manifest.json"
        etag = hashlib.md5(name.encode()).hexdigest()  # nosec - an ETag, not security
        # IMS answers its record times as Python's isoformat (+00:00, not Z): see the IMS transcript
        images.append({"id": image_id, "created": WHEN.replace("Z", "+00:00"), "name": name, "arch": "x86_64", "metadata": {},
                       "link": {"path": "s3://" + manifest_key, "etag": etag, "type": "s3"}})
        artifacts = []
        for kind, media in (("kernel", "application/vnd.cray.image.kernel"),
                            ("initrd", "application/vnd.cray.image.initrd"),
                            ("rootfs", "application/vnd.cray.image.rootfs.squashfs"),
                            ("boot_parameters", "application/vnd.cray.image.parameters.boot")):
            artifacts.append({"type": media, "md5": hashlib.md5((name + kind).encode()).hexdigest(),  # nosec
                              "link": {"type": "s3", "path": f"s3://boot-images/{image_id}/{kind}",
                                       "etag": hashlib.md5((name + kind + "etag").encode()).hexdigest()}})  # nosec
        s3[manifest_key] = {"version": "1.0", "created": WHEN, "artifacts": artifacts}
        s3[f"boot-images/{image_id}/boot_parameters"] = "rd.shell rd.retry=10"
        image_of[name] = (image_id, etag, provider)
    groups_of = {"compute-cos-3.2.1": ("compute", "Compute", "compute-23.7"),
                 "uan-cos-3.2.1": ("uan", "Application", "uan-23.7")}
    for name, (image_id, etag, provider) in image_of.items():
        boot_set, role, config = groups_of[name]
        passthrough = "dvs:api-gw-service-nmn.local:300:hsn0,nmn0:0" if provider == "cpss3" else "sbps:v1:iqn.2023-06.csm.iscsi:_sbps-hsn._tcp.x.local:300"
        templates.append({"name": config, "description": f"{role} nodes, {name}", "enable_cfs": True,
                          "cfs": {"configuration": config},
                          "boot_sets": {boot_set: {"type": "s3",
                                                   "path": f"s3://boot-images/{image_id}/manifest.json", "etag": etag,
                                                   "kernel_parameters": "console=ttyS0,115200 ip=dhcp quiet",
                                                   "node_roles_groups": [role], "arch": "X86",
                                                   "rootfs_provider": provider,
                                                   "rootfs_provider_passthrough": passthrough}},
                          "links": [{"href": f"/v2/sessiontemplates/{config}", "rel": "self"}]})
    configurations = [{"name": cfg, "description": f"{cfg} (seed)", "last_updated": WHEN,
                       "layers": [{"name": "cos", "clone_url": "https://api-gw-service-nmn.local/vcs/cray/cos-config-management.git",
                                   "commit": hashlib.sha1(cfg.encode()).hexdigest(), "playbook": "site.yml"}]}  # nosec
                      for cfg in ("compute-23.7", "uan-23.7", "ncn-23.7")]
    bos_components, cfs_components, power = [], [], []
    for item in layout:
        image = "compute-cos-3.2.1" if item["role"] == "Compute" else "uan-cos-3.2.1"
        image_id = image_of[image][0]
        config = {"Compute": "compute-23.7", "Application": "uan-23.7"}.get(item["role"], "ncn-23.7")
        kernel = f"s3://boot-images/{image_id}/kernel"
        initrd = f"s3://boot-images/{image_id}/initrd"
        params = "console=ttyS0,115200 ip=dhcp quiet root=sbps-s3:s3://boot-images/%s/rootfs" % image_id
        artifacts = {"kernel": kernel, "kernel_parameters": params, "initrd": initrd}
        managed_by_bos = item["role"] != "Management"
        bos_components.append({
            "id": item["xname"], "enabled": managed_by_bos,
            "actual_state": {"boot_artifacts": artifacts if managed_by_bos else {}, "bss_token": "", "last_updated": WHEN},
            "desired_state": {"boot_artifacts": artifacts if managed_by_bos else {}, "configuration": config,
                              "bss_token": "", "last_updated": WHEN},
            "staged_state": {"boot_artifacts": {}, "configuration": "", "session": "", "last_updated": WHEN},
            "last_action": {"action": "powering_on" if managed_by_bos else "newly_discovered", "failed": False,
                            "last_updated": WHEN},
            "event_stats": {"power_on_attempts": 1, "power_off_graceful_attempts": 0, "power_off_forceful_attempts": 0},
            "status": {"phase": "", "status": "stable", "status_override": ""},
            "error": "", "session": "", "retry_policy": 3})
        cfs_components.append({
            "id": item["xname"], "desired_config": config, "enabled": True, "configuration_status": "configured",
            "error_count": 0, "retry_policy": 3, "tags": {},
            "state": [{"clone_url": "https://api-gw-service-nmn.local/vcs/cray/cos-config-management.git",
                       "playbook": "site.yml", "commit": hashlib.sha1(config.encode()).hexdigest(),  # nosec
                       "status": "applied", "last_updated": WHEN, "session_name": "batcher-" + uid(config)[:8]}]})
        power.append({"xname": item["xname"], "powerState": "on", "managementState": "available", "error": None,
                      "supportedPowerTransitions": ["On", "Off", "Soft-Off", "Hard-Restart", "Init", "Soft-Restart"],
                      "lastUpdated": "2025-12-01T00:00:00.000000000Z"})
        if managed_by_bos:
            bootparams.append({"hosts": [item["xname"]], "kernel": kernel, "initrd": initrd, "params": params})
    return {
        "layout": layout,
        "sls": {"hardware": [hardware[x] for x in sorted(hardware)], "networks": networks},
        "hsm": {"components": components, "interfaces": interfaces, "groups": groups, "partitions": partitions},
        "bss": {"bootparameters": bootparams},
        "bos": {"sessiontemplates": templates, "components": bos_components},
        "ims": {"images": images},
        "cfs": {"components": cfs_components, "configurations": configurations},
        "pcs": {"status": power},
        "s3": s3,
    }
