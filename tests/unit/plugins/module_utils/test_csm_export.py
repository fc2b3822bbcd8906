# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import csm_export
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError


def sls_node(x, nid, role="Compute", subrole=""):
    extra = {"Role": role, "SubRole": subrole, "Aliases": ["nid%06d" % nid if nid else "x"]}
    if nid is not None:
        extra["NID"] = nid
    return {"Xname": x, "Parent": x[:x.rindex("n")], "TypeString": "Node", "Type": "comptype_node",
            "Class": "Mountain", "ExtraProperties": extra}


def hsm(x, nid=None, kind="Node"):
    out = {"ID": x, "Type": kind, "State": "Ready", "Flag": "OK", "Enabled": True, "Role": "Compute", "Class": "Mountain"}
    if nid is not None:
        out["NID"] = nid
    return out


def iface(x, mac, ip):
    return {"ID": mac.replace(":", ""), "MACAddress": mac, "ComponentID": x, "IPAddresses": [{"IPAddress": ip}]}


def test_clean_nodes_become_smd_module_input():
    sls = [sls_node("x1000c0s0b0n0", 1), sls_node("x1000c0s0b0n1", 2, "Application", "UAN")]
    comps = [hsm("x1000c0s0b0n0", 1), hsm("x1000c0s0b0n1"), hsm("x1000c0s0b0", kind="NodeBMC"), hsm("x1000c0s1b0", kind="NodeBMC")]
    ifaces = [iface("x1000c0s0b0n0", "02:00:00:00:00:01", "10.0.0.1"), iface("x1000c0s0b0", "02:00:00:00:00:AA", "10.1.0.1")]
    groups = [{"label": "compute", "members": {"ids": ["x1000c0s0b0n0", "x9000c0s0b0n0"]}, "tags": ["a"]}]
    parts = [{"name": "p1", "members": {"ids": ["x9000c0s0b0n0"]}}]
    out = csm_export.inventory(sls, comps, ifaces, groups, parts)
    assert out["problems"] == {}
    assert [c["ID"] for c in out["components"]] == ["x1000c0s0b0", "x1000c0s0b0n0", "x1000c0s0b0n1"]
    node1 = out["components"][2]
    assert (node1["NID"], node1["Role"], node1["SubRole"]) == (2, "Application", "UAN")  # from SLS
    assert out["interfaces"] == [
        {"mac": "02:00:00:00:00:aa", "component_id": "x1000c0s0b0", "description": "",
         "ip_addresses": [{"ip_address": "10.1.0.1", "network": ""}]},
        {"mac": "02:00:00:00:00:01", "component_id": "x1000c0s0b0n0", "description": "",
         "ip_addresses": [{"ip_address": "10.0.0.1", "network": ""}]}]
    assert out["groups"] == [{"label": "compute", "description": "", "tags": ["a"], "members": ["x1000c0s0b0n0"]}]
    assert out["partitions"] == []
    assert out["nodes"][0]["aliases"] == ["nid000001"] and out["nodes"][0]["bmc"] == "x1000c0s0b0"


def test_bad_data_is_reported_per_node_and_left_out():
    sls = [sls_node("x1000c0s0b0n0", 1), sls_node("x1000c0s0b0n1", None), sls_node("x1000c0s0b1n0", 3),
           sls_node("x1000c0s1b0n0", 4), sls_node("x1000c0s1b0n1", 5), sls_node("x1000c0s2b0n0", 6),
           sls_node("x1000c0s2b0n1", 6)]
    in_hsm = ("x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s1b0n0", "x1000c0s1b0n1", "x1000c0s3b0n0", "x1000c0s2b0n0",
              "x1000c0s2b0n1")
    comps = [hsm(x) for x in in_hsm]
    ifaces = [iface("x1000c0s1b0n0", "02:00:00:00:00:07", "10.0.0.7"),
              iface("x1000c0s1b0n1", "02:00:00:00:00:07", "10.0.0.8"),  # the same MAC
              iface("x1000c0s0b0n0", "02:00:00:00:00:01", "10.0.0.1")]
    out = csm_export.inventory(sls, comps, ifaces, [], [])
    assert out["problems"] == {
        "x1000c0s0b0n1": ["no NID in SLS"],
        "x1000c0s0b1n0": ["in SLS but not in HSM"],
        "x1000c0s3b0n0": ["in HSM but not in SLS"],
        "x1000c0s1b0n0": ["MAC 02:00:00:00:00:07 is also held by x1000c0s1b0n1"],
        "x1000c0s1b0n1": ["MAC 02:00:00:00:00:07 is also held by x1000c0s1b0n0"],
        "x1000c0s2b0n0": ["NID 6 is also the NID of x1000c0s2b0n1"],
        "x1000c0s2b0n1": ["NID 6 is also the NID of x1000c0s2b0n0"],
    }
    assert [n["xname"] for n in out["nodes"]] == ["x1000c0s0b0n0"]
    assert [c["ID"] for c in out["components"]] == ["x1000c0s0b0n0"]  # its BMC is not in HSM


def test_shared_ip_and_invalid_xname():
    sls = [sls_node("x1000c0s0b0n0", 1), sls_node("x1000c0s0b0n1", 2)]
    comps = [hsm("x1000c0s0b0n0"), hsm("x1000c0s0b0n1")]
    ifaces = [iface("x1000c0s0b0n0", "02:00:00:00:00:01", "10.0.0.1"), iface("x1000c0s0b0n1", "02:00:00:00:00:02", "10.0.0.1")]
    out = csm_export.inventory(sls, comps, ifaces, [], [], nodes=["x1000c0s0b0n0", "node7"])
    assert out["problems"]["x1000c0s0b0n0"] == ["IP 10.0.0.1 is also held by x1000c0s0b0n1"]
    assert out["problems"]["node7"][0].startswith("not a valid xname")


MANIFEST = {"artifacts": [
    {"type": "application/vnd.cray.image.kernel", "link": {"path": "s3://boot-images/1/kernel", "etag": "k"}},
    {"type": "application/vnd.cray.image.initrd", "link": {"path": "s3://boot-images/1/initrd", "etag": "i"}},
    {"type": "application/vnd.cray.image.rootfs.squashfs", "link": {"path": "s3://boot-images/1/rootfs", "etag": "r1"}},
]}
RULES = [{"prefix": "s3://boot-images/", "replacement": "https://s3.example/boot-images/"}]


@pytest.mark.parametrize("provider,passthrough,root", [
    ("sbps", "sbps:v1:iqn.2023-06.csm.iscsi:_sbps-hsn._tcp.x.local:300",
     "root=sbps-s3:s3://boot-images/1/rootfs:r1:sbps:v1:iqn.2023-06.csm.iscsi:_sbps-hsn._tcp.x.local:300"),
    ("cpss3", "dvs:api-gw-service-nmn.local:300:hsn0,nmn0:0",
     "root=craycps-s3:s3://boot-images/1/rootfs:r1:dvs:api-gw-service-nmn.local:300:hsn0,nmn0:0"),
    (None, None, "root=:s3://boot-images/1/rootfs:r1"),
])
def test_boot_translation_as_bos_assembles_it(provider, passthrough, root):
    boot_set = {"kernel_parameters": "console=ttyS0 ip=dhcp", "rootfs_provider": provider,
                "rootfs_provider_passthrough": passthrough}
    out = csm_export.boot_config("compute", boot_set, MANIFEST, RULES, image_params="rd.shell\n")
    assert out["kernel"] == "https://s3.example/boot-images/1/kernel"
    assert out["initrd"] == "https://s3.example/boot-images/1/initrd"
    assert out["params"] == "rd.shell console=ttyS0 ip=dhcp %s nmd_data=url=s3://boot-images/1/rootfs,etag=r1" % root


def test_boot_translation_needs_exactly_one_artifact_per_type():
    twice = {"artifacts": MANIFEST["artifacts"] + [MANIFEST["artifacts"][0]]}
    with pytest.raises(ApiError, match="2 artifacts of type application/vnd.cray.image.kernel"):
        csm_export.boot_config("compute", {}, twice, RULES)
    with pytest.raises(ApiError, match="no artifact of type application/vnd.cray.image.rootfs.squashfs"):
        csm_export.boot_config("compute", {}, {"artifacts": MANIFEST["artifacts"][:2]}, RULES)


def test_boot_set_nodes():
    comps = [hsm("x1000c0s0b0n0"), dict(hsm("x1000c0s0b0n1"), Role="Application")]
    groups = [{"label": "g", "members": {"ids": ["x3000c0s1b0n0"]}}]
    assert csm_export.boot_set_nodes({"node_roles_groups": ["Compute"], "node_groups": ["g"],
                                      "node_list": ["x1000c0s9b0n0"]}, comps, groups) == \
        ["x1000c0s0b0n0", "x1000c0s9b0n0", "x3000c0s1b0n0"]
