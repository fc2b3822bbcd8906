# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud_init_* modules on the ``metadata_service`` backend, run by real ansible-playbook against the lab's
metadata-service EMULATOR (lab/metadata_service.py) and the real SMD.

No real metadata-service can be had here (the Go module proxy serves none): this backend is tested against
the emulator only, whose answers follow the published Go types of OpenCHAMI/metadata-service.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_metadata_service.py``.
"""

from __future__ import annotations

import json
import random

import pytest
import yaml

from conftest import show_task, shown  # pylint: disable=import-error

MDS = {"backend": "metadata_service"}


class Nodes:
    """Two nodes of a random cabinet in SMD (NID, MAC, IP), one of them in an SMD group."""

    def __init__(self, lab):
        rnd = random.Random()
        self.lab = lab
        cabinet = rnd.randrange(3000, 9000)
        self.xnames = ["x%dc0s0b0n%d" % (cabinet, n) for n in range(2)]
        self.nids = dict((x, rnd.randrange(100000, 900000) + i) for i, x in enumerate(self.xnames))
        self.macs = dict((x, "0e:%02x:%02x:00:01:%02x" % (cabinet // 100, cabinet % 100, i))
                         for i, x in enumerate(self.xnames))
        octet = rnd.randrange(1, 250)
        self.ips = dict((x, "10.252.%d.%d" % (octet, i + 1)) for i, x in enumerate(self.xnames))
        self.group = "zz-mds-%d" % cabinet

    def smd(self, method, path, **kwargs):
        answer = self.lab.api("smd", method, path, **kwargs)
        assert answer.status_code < 300 or method == "DELETE", (method, path, answer.status_code, answer.text)
        return answer

    def create(self):
        self.smd("POST", "/State/Components", json={"Components": [
            {"ID": x, "State": "Ready", "Role": "Compute", "NID": self.nids[x], "Enabled": True} for x in self.xnames]})
        for x in self.xnames:
            self.smd("POST", "/Inventory/EthernetInterfaces", json={
                "MACAddress": self.macs[x], "ComponentID": x, "IPAddresses": [{"IPAddress": self.ips[x]}]})
        self.smd("POST", "/groups", json={"label": self.group, "members": {"ids": [self.xnames[0]]}})

    def delete(self):
        self.smd("DELETE", "/groups/%s" % self.group)
        for x in self.xnames:
            self.smd("DELETE", "/Inventory/EthernetInterfaces/%s" % self.macs[x].replace(":", ""))
            self.smd("DELETE", "/State/Components/%s" % x)


@pytest.fixture(scope="module", name="mds")
def fixture_mds(lab):
    """The lab's metadata-service emulator with two SMD nodes; everything it holds is removed before and after."""
    if "metadata-service" not in lab.urls:
        pytest.fail("the lab runs no metadata-service (python -m lab up --services ...,metadata-service)",
                    pytrace=False)
    helper = Helper(lab)
    helper.wipe()
    helper.nodes.create()
    yield helper
    helper.nodes.delete()
    helper.wipe()


class Helper:
    def __init__(self, lab):
        self.lab = lab
        self.nodes = Nodes(lab)

    def api(self, method, path, **kwargs):
        return self.lab.api("metadata-service", method, path, **kwargs)

    def records(self, collection):
        answer = self.api("GET", "/" + collection)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def dump(self):
        """Everything the service holds, without the times and uids that change on every write."""
        out = {}
        for collection in ("groups", "clusterdefaultss", "instanceinfos"):
            out[collection] = sorted(({"name": r["metadata"]["name"], "spec": r["spec"]} for r in self.records(collection)),
                                     key=json.dumps)
        return out

    def wipe(self):
        for collection in ("groups", "clusterdefaultss", "instanceinfos"):
            for record in self.records(collection):
                assert self.api("DELETE", "/%s/%s" % (collection, record["metadata"]["uid"])).status_code == 200

    def play(self, tasks, check=False, uris=None):
        """Run ``tasks`` (each registered, errors ignored) with the connection set once; returns the results."""
        tasks = [dict(task, register="out_%d" % index, ignore_errors=True) for index, task in enumerate(tasks)]
        show = show_task("{%s}" % ", ".join("'%s': %s" % (t["register"], t["register"]) for t in tasks))
        defaults = {"config_file": "{{ openchami_config_file }}"}
        if uris:
            defaults = {"service_uris": uris, "token": self.lab.token}
        playbook = [{"hosts": "localhost", "gather_facts": False,
                     "module_defaults": {"group/cscs.openchami.openchami": defaults}, "tasks": tasks + [show]}]
        result = self.lab.run_playbook(playbook, check=check)
        outs = shown(result.stdout)
        assert outs is not None, result.stdout + result.stderr
        return [outs["out_%d" % i] for i in range(len(tasks))]


def group_task(name, **options):
    return {"cscs.openchami.cloud_init_group": dict(MDS, name=name, **options)}


TEMPLATE = "## template: jinja\n#cloud-config\nwrite_files:\n  - path: /etc/role\n    content: {{ role }}\n"


def raw(text):
    """``text`` as a task argument that Ansible's templating gives back unchanged."""
    return "{%% raw %%}%s{%% endraw %%}" % text


def test_groups_check_mode_create_rerun_update_bad_input_delete(mds):
    name = mds.nodes.group
    before = mds.dump()
    checked = mds.play([group_task(name, content=raw(TEMPLATE), meta_data={"role": "compute"})], check=True)[0]
    assert checked["changed"] and not checked.get("failed"), checked
    assert checked["summary"]["create"] == 1 and checked["group"]["content"] == TEMPLATE
    assert mds.dump() == before, "check mode wrote something"

    first, again, update, bad_meta, no_content, bad_template, listed = mds.play([
        group_task(name, content=raw(TEMPLATE), meta_data={"role": "compute"}, description="compute nodes"),
        group_task(name, content=raw(TEMPLATE), meta_data={"role": "compute"}, description="compute nodes"),
        group_task(name, description="the compute nodes"),
        group_task(name, meta_data={"role": "compute", "cores": 64}),
        group_task("zz-mds-empty", description="no template"),
        group_task(name, content=raw("## template: jinja\n#cloud-config\nhostname: {{ nowhere }}\n")),
        {"cscs.openchami.cloud_init_info": dict(MDS, groups=[name])},
    ])
    assert first["changed"] and first["summary"]["create"] == 1, first
    assert not again["changed"] and again["summary"]["unchanged"] == 1, again
    assert update["changed"] and update["group"]["content"] == TEMPLATE, update
    records = [r for r in mds.records("groups") if r["metadata"]["name"] == name]
    assert len(records) == 1, records
    assert records[0]["spec"] == {"description": "the compute nodes", "template": TEMPLATE,
                                  "metaData": {"role": "compute"}}
    assert bad_meta["failed"] and "group %s: meta_data values must be strings" % name in bad_meta["msg"], bad_meta
    assert no_content["failed"] and "group zz-mds-empty: content is required" in no_content["msg"], no_content
    assert bad_template["failed"], bad_template
    assert "group %s: metadata-service refused it" % name in bad_template["msg"], bad_template["msg"]
    assert "missing required variables: [nowhere]" in bad_template["msg"], bad_template["msg"]
    after_bad = [r for r in mds.records("groups") if r["metadata"]["name"] in (name, "zz-mds-empty")]
    assert [r["spec"] for r in after_bad] == [records[0]["spec"]], "bad input changed the service"
    assert listed["groups"] == [{"name": name, "description": "the compute nodes", "meta_data": {"role": "compute"},
                                 "content": TEMPLATE}], listed

    before = mds.dump()
    gone_check = mds.play([group_task(name, state="absent")], check=True)[0]
    assert gone_check["changed"] and mds.dump() == before
    gone, gone_again = mds.play([group_task(name, state="absent"), group_task(name, state="absent")])
    assert gone["changed"] and not gone_again["changed"], (gone, gone_again)
    assert not [r for r in mds.records("groups") if r["metadata"]["name"] == name]


def test_defaults_instances_and_what_a_node_receives(mds):
    nodes = mds.nodes
    node, other = nodes.xnames
    defaults = {"cscs.openchami.cloud_init_defaults": dict(
        MDS, cluster_name="lab", short_name="nid", nid_length=6, base_url="http://mds.example/", public_keys=["k1"])}
    before = mds.dump()
    checked = mds.play([defaults], check=True)[0]
    assert checked["changed"] and mds.dump() == before, checked

    tasks = [
        defaults,
        defaults,
        group_task(nodes.group, content=raw(TEMPLATE), meta_data={"role": "compute"}),
        {"cscs.openchami.cloud_init_instance": dict(MDS, instances=[
            {"xname": node, "local_hostname": "login1", "public_keys": ["k2"]}, {"xname": other, "hostname": ""}])},
        {"cscs.openchami.cloud_init_instance": dict(MDS, instances=[
            {"xname": node, "local_hostname": "login1", "public_keys": ["k2"]}, {"xname": other, "hostname": ""}])},
        {"cscs.openchami.cloud_init_instance": dict(MDS, instances=[{"xname": node, "instance_type": "big"}])},
        {"cscs.openchami.cloud_init_defaults": dict(MDS, short_name="ln")},
        {"cscs.openchami.cloud_init_info": dict(MDS, nodes=[node, other], group_files=True)},
    ]
    first, again, _group, inst, inst_again, bad_type, short, info = mds.play(tasks)
    assert first["changed"] and not again["changed"], (first, again)
    stored = mds.records("clusterdefaultss")
    assert len(stored) == 1 and stored[0]["spec"] == {"cluster_name": "lab", "short_name": "ln", "nid_length": 6,
                                                      "base_url": "http://mds.example", "public_keys": ["k1"]}, stored
    assert inst["changed"] and inst["summary"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 1}, inst
    assert not inst_again["changed"], inst_again
    assert bad_type["failed"] and "instance %s: instance_type: metadata-service has no instance type" % node in \
        bad_type["msg"], bad_type
    records = mds.records("instanceinfos")
    assert [(r["metadata"]["name"], r["spec"]) for r in records] == [
        (node, {"instance_id": node, "local_hostname": "login1", "public_keys": ["k2"]})], records
    assert short["changed"] and short["defaults"]["short-name"] == "ln", short

    seen = dict((n["xname"], n) for n in info["nodes"])
    meta = seen[node]["meta_data"]
    assert meta["local-hostname"] == "login1" and meta["hostname"] == "ln%06d" % nodes.nids[node], meta
    assert meta["instance_data"]["v1"]["public_keys"] == ["k1", "k2"], meta
    assert seen[node]["groups"] == [nodes.group] and seen[other]["groups"] == [], seen
    assert seen[node]["vendor_data"] == "#include\nhttp://mds.example/%s.yaml\n" % nodes.group, seen[node]
    rendered = yaml.safe_load(seen[node]["group_files"][nodes.group])
    assert rendered == {"write_files": [{"path": "/etc/role", "content": "compute"}]}, seen[node]["group_files"]
    assert seen[other]["meta_data"]["local-hostname"] == "ln%06d" % nodes.nids[other]

    before = mds.dump()
    absent_check = mds.play([{"cscs.openchami.cloud_init_instance": dict(MDS, instances=[{"xname": node}],
                                                                         state="absent")}], check=True)[0]
    assert absent_check["changed"] and mds.dump() == before, absent_check
    absent, absent_again = mds.play([
        {"cscs.openchami.cloud_init_instance": dict(MDS, instances=[{"xname": node}, {"xname": other}], state="absent")},
        {"cscs.openchami.cloud_init_instance": dict(MDS, instances=[{"xname": node}], state="absent")},
    ])
    assert absent["changed"] and absent["summary"]["delete"] == 1 and not absent_again["changed"], (absent, absent_again)
    assert mds.records("instanceinfos") == []


def test_metadata_service_found_without_being_named(mds):
    """With only a metadata_service address (and SMD), ``backend: auto`` finds it; the cloud-init server is not asked."""
    uris = {"metadata_service": mds.lab.urls["metadata-service"], "smd": mds.lab.urls["smd"] + "/hsm/v2"}
    found, = mds.play([{"cscs.openchami.cloud_init_info": {}}], uris=uris)
    assert not found.get("failed") and isinstance(found["groups"], list), found
