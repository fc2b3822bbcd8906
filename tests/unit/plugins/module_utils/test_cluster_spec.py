# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import jsonschema
import pytest
import yaml

from ansible_collections.cscs.openchami.plugins.module_utils import cluster_spec as cs, xname
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
EXAMPLE = os.path.join(ROOT, "inventories", "example-site", "specs")
REGENERATE = ("python -c 'import json; from ansible_collections.cscs.openchami.plugins.module_utils import cluster_spec; "
              "print(json.dumps(cluster_spec.SCHEMA, indent=2, sort_keys=True))' > meta/cluster-spec.schema.json")


def errors_of(spec):
    with pytest.raises(ValidationError) as info:
        cs.expand(spec)
    return info.value.errors


def test_published_schema_is_the_one_the_modules_check_and_is_valid_json_schema():
    with open(os.path.join(ROOT, "meta", "cluster-spec.schema.json")) as handle:
        published = json.load(handle)
    assert published == json.loads(json.dumps(cs.SCHEMA)), "regenerate it: " + REGENERATE
    jsonschema.Draft202012Validator.check_schema(published)


@pytest.mark.parametrize("name, nodes", [("alps.yml", 2 * 256 + 10), ("eiger.yml", 256 + 16 + 10)])
def test_example_site_specs_expand_and_satisfy_the_schema(name, nodes):
    spec = cs.load(os.path.join(EXAMPLE, name))
    jsonschema.Draft202012Validator(cs.SCHEMA).validate(spec)
    desired = cs.expand(spec)
    assert len([c for c in desired["components"] if xname.xname_type(c["ID"]) == "Node" and c.get("NID")]) == nodes
    macs = [i["MACAddress"] for i in desired["interfaces"]]
    assert len(macs) == len(set(macs)) == len(desired["components"])


def test_templates_variables_keep_their_type_and_ranges_rules_expand():
    spec = {"templates": {"blade": {"parameters": ["cab", "nid"], "defaults": {"role": "Compute"}, "hardware": [
        {"xnames": "x${cab}c0s[0-1]b0n[0-1]", "role": "${role}", "nid": {"start": "${nid}", "step": 2},
         "mac": {"start": "02:00:00:00:00:fe"}, "ip": {"start": "10.0.0.254", "network": "nmn"}}]}},
        "hardware": [{"template": "blade", "vars": {"cab": 1000, "nid": 11}}]}
    desired = cs.expand(spec)
    assert [(c["ID"], c["NID"], c["Role"]) for c in desired["components"]] == [
        ("x1000c0s0b0n0", 11, "Compute"), ("x1000c0s0b0n1", 13, "Compute"), ("x1000c0s1b0n0", 15, "Compute"),
        ("x1000c0s1b0n1", 17, "Compute")]
    assert [(i["MACAddress"], i["IPAddresses"][0]["IPAddress"]) for i in desired["interfaces"]] == [
        ("02:00:00:00:00:fe", "10.0.0.254"), ("02:00:00:00:00:ff", "10.0.0.255"), ("02:00:00:00:01:00", "10.0.1.0"),
        ("02:00:00:00:01:01", "10.0.1.1")]
    assert set(desired) == {"components", "interfaces"}  # kinds the spec does not name are not managed


def test_schema_errors_name_the_path_and_agree_with_jsonschema():
    bad = {"hardware": [{"xname": "x1000c0s0b0n0", "nid": -1}, {"xnames": 5}, {"xname": "x1000c0s0b0n1", "mac": {}}],
           "groups": [{"description": "no label"}], "cloud_init": {"defaults": {"nid_length": "four"}}, "bogus": 1}
    errors = cs.schema_errors(bad)
    assert "bogus: unknown key (expected one of boot, cloud_init, description, groups, hardware, include, instance, " \
           "interfaces, partitions, snapshot, templates)" in errors
    assert "hardware[0].nid: -1 is below the minimum 0" in errors
    assert "hardware[1].xnames: 5 does not match any allowed form (array or string)" in errors
    assert "hardware[2].mac: start is required" in errors
    assert "groups[0]: label is required" in errors
    assert "cloud_init.defaults.nid_length: must be an integer, not 'four'" in errors
    found = list(jsonschema.Draft202012Validator(cs.SCHEMA).iter_errors(bad))
    assert len(found) == len(errors)
    assert cs.schema_errors([]) == ["the spec: must be an object, not []"]


def test_semantic_errors_name_the_path_all_at_once():
    errors = errors_of({
        "templates": {"t": {"parameters": ["cab"], "hardware": [{"xname": "x${cab}c0s0b0n0", "role": "${nope}"}]}},
        "hardware": [{"xnames": "x1000c0s[0-1]b0n0", "nid": 3}, {"template": "t", "vars": {}},
                     {"template": "t", "vars": {"cab": 1}, "role": "Compute"}, {"xname": "x1000c0s0b0n0"},
                     {"xname": "x1000c0s5b0n0", "nid": 1, "state": "Sleeping"}, {"xname": "x1000c0s6b0n0", "nid": 1},
                     {"xname": "x1000c0s7b0n0", "ip": {"start": "10.0.0.1"}}],
        "groups": [{"label": "a b"}, {"label": "g", "members": "x1000c0s[0-"}, {"label": "G"}],
        "boot": [{"group": "g", "kernel": "k"}, {"nodes": "x1000c0s0b0", "kernel": "k"}, {"kernel": "k"},
                 {"nodes": "x1000c0s5b0n0", "kernel": "k", "params": "a='b"}],
        "cloud_init": {"defaults": {"nid_length": 0}, "groups": [{"name": "x", "content": "#cloud-config\n: :\n  - ["}]}})
    for expected in (
            "hardware[0].nid: one number for 2 xnames; give a rule such as nid: {start: 3}",
            "hardware[1].vars: template t needs cab",
            "hardware[2]: a template use takes only template and vars, not role",
            "hardware[2] (template t hardware[0]).role: variable nope is not set",
            "hardware[3]: x1000c0s0b0n0 is also given at hardware[0]",
            "hardware[6].ip: an IP rule needs a mac rule (the IP belongs to an interface)",
            "hardware: NID 1 is given to x1000c0s5b0n0 and x1000c0s6b0n0",
            "groups[0].label: 'a b' is not a valid SMD label (letters, digits, '-', ':', '.', '_')",
            "groups[2]: group g is also given at groups[1]",
            "boot[1]: x1000c0s0b0 is a NodeBMC, not a node",
            "boot[2]: name the nodes with group, nodes or select",
            "cloud_init.defaults.nid_length: must be at least 1, got 0"):
        assert expected in errors, "\n".join(errors)
    assert any(e.startswith("groups[1].members: ") for e in errors)
    assert any(e.startswith("hardware (x1000c0s5b0n0): state: 'Sleeping' is not one of") for e in errors)
    assert any(e.startswith("boot[3].params: kernel parameters") for e in errors)
    assert any(e.startswith("cloud_init.groups[0].content: invalid YAML at line") for e in errors)


def test_select_boot_and_sets():
    desired = cs.expand({
        "hardware": [{"xnames": "x1000c0s0b0n[0-1]", "role": "Compute", "nid": {"start": 1}},
                     {"xname": "x3000c0s1b0n0", "role": "Management", "subrole": "Master", "nid": 100,
                      "interfaces": [{"mac": "AA-BB-CC-00-00-01", "ips": [{"ip": "10.0.0.9", "network": "nmn"}]}]}],
        "groups": [{"label": "Compute", "select": {"role": "compute"}, "tags": ["A"]},
                   {"label": "masters", "select": {"subrole": "Master"}, "members": ["x1000c0s0b0n1"],
                    "exclusive_group": "Role"}],
        "partitions": [{"name": "P1", "members": "x1000c0s0b0n[0-1]"}],
        "boot": [{"group": "compute", "kernel": "k1"},
                 {"select": {"role": "Management"}, "kernel": "k2", "initrd": "i2", "params": "quiet"}],
        "cloud_init": {"groups": [{"name": "compute", "meta_data": {}}]}})
    assert desired["groups"] == [
        {"label": "compute", "members": ["x1000c0s0b0n0", "x1000c0s0b0n1"], "tags": ["a"]},
        {"label": "masters", "members": ["x1000c0s0b0n1", "x3000c0s1b0n0"], "exclusiveGroup": "role"}]
    assert desired["partitions"] == [{"name": "p1", "members": ["x1000c0s0b0n0", "x1000c0s0b0n1"]}]
    assert desired["boot"] == [
        {"xname": "x1000c0s0b0n0", "kernel": "k1", "initrd": "", "params": ""},
        {"xname": "x1000c0s0b0n1", "kernel": "k1", "initrd": "", "params": ""},
        {"xname": "x3000c0s1b0n0", "kernel": "k2", "initrd": "i2", "params": "quiet"}]
    assert desired["interfaces"] == [{"MACAddress": "aa:bb:cc:00:00:01", "ComponentID": "x3000c0s1b0n0",
                                      "IPAddresses": [{"IPAddress": "10.0.0.9", "Network": "nmn"}]}]
    assert desired["cloud_init_groups"] == [{"name": "compute", "meta_data": {}}]
    assert "cloud_init_defaults" not in desired


def test_load_merges_a_directory_and_includes(tmp_path):
    (tmp_path / "base.yml").write_text(yaml.safe_dump({"templates": {"t": {"hardware": [{"xname": "x1c0s0b0n0"}]}}}))
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "a.yaml").write_text(yaml.safe_dump({"include": ["../base.yml"], "hardware": [
        {"template": "t"}]}))
    (tmp_path / "spec" / "b.yml").write_text(yaml.safe_dump({"hardware": [{"xname": "x1c0s1b0n0"}]}))
    (tmp_path / "spec" / "notes.txt").write_text("ignored")
    spec = cs.load(str(tmp_path / "spec"))
    assert [c["ID"] for c in cs.expand(spec)["components"]] == ["x1c0s0b0n0", "x1c0s1b0n0"]
    (tmp_path / "loop.yml").write_text(yaml.safe_dump({"include": ["loop.yml"]}))
    with pytest.raises(ValueError, match="includes itself"):
        cs.load(str(tmp_path / "loop.yml"))
    (tmp_path / "list.yml").write_text("- 1\n")
    with pytest.raises(ValueError, match="list.yml must hold a mapping"):
        cs.load(str(tmp_path / "list.yml"))
