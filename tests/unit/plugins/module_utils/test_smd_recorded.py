# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SMD client, the discovery planner and the inventory plugin against answers recorded from the lab's real
SMD (tests/unit/utils/smd_replay.py: the scenarios, the replaying server, and how to record them again).

A request the real SMD was never asked during the recording gets HTTP 599 and is listed in ``unexpected``: a
change in what the client sends fails these tests even where the result would look the same.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import smd
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Client
from ansible_collections.cscs.openchami.tests.unit.utils import smd_replay
from ansible_collections.cscs.openchami.tests.unit.utils.ansible_output import plain
from ansible_collections.cscs.openchami.tests.unit.plugins.modules.test_no_secrets_in_output import COLLECTIONS

N0, N1, N2 = smd_replay.NODES


def replayed(name):
    """Run scenario ``name`` against its recording; (its observations, the requests served)."""
    with smd_replay.Replay(name) as server:
        out = smd_replay.run(name, server.url)
    assert server.unexpected == []
    return out, server.served


def by_id(components):
    return dict((c["ID"], c) for c in components)


def test_a_request_smd_was_never_asked_fails():
    with smd_replay.Replay("components") as server:
        api = smd.SMD(Client(server.url + "/hsm/v2", retries=0))
        with pytest.raises(ApiError) as caught:
            api.components(id=["x9999c0s0b0n0"])
    assert caught.value.status == 599
    assert server.unexpected == ["GET /hsm/v2/State/Components?id=x9999c0s0b0n0 "]


def test_components_created_updated_with_bulk_requests_and_deleted():
    out, served = replayed("components")
    assert out["created"] == {"create": 3, "update": 0, "delete": 0, "unchanged": 0}
    created = by_id(out["after_create"])
    assert created[N0] == {"ID": N0, "Type": "Node", "State": "Ready", "Flag": "OK", "Enabled": True,
                           "Role": "Compute", "NID": 1}
    assert created[N2]["Role"] == "Service"
    assert out["updated"] == {"create": 0, "update": 2, "delete": 0, "unchanged": 1}
    updated = by_id(out["after_update"])
    assert [(updated[n]["State"], updated[n]["Enabled"], updated[n]["NID"]) for n in (N0, N1, N2)] == [
        ("Off", False, 1), ("Off", False, 12), ("Ready", True, 3)]
    # one request per distinct value: a state, an enabled flag, the NIDs
    assert [p for p in served if p.startswith("PATCH")] == [
        "PATCH /hsm/v2/State/Components/BulkStateData", "PATCH /hsm/v2/State/Components/BulkEnabled",
        "PATCH /hsm/v2/State/Components/BulkNID"]
    assert out["missing"] == ["x3000c0s9b0n0"]
    assert out["bad_role"] == ("invalid input, nothing was changed: component %s: role: 'NoSuchRole' is not one "
                               "this SMD accepts (Application, Compute, Management, Service, Storage, System)" % N0)
    assert out["after_delete"] == [N0, N1]


def test_interfaces_created_unchanged_changed_and_deleted():
    out, _served = replayed("interfaces")
    assert out["created"] == {"create": 2, "update": 0, "delete": 0, "unchanged": 0}
    assert out["again"] == {"create": 0, "update": 0, "delete": 0, "unchanged": 2}
    assert out["changed"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 0}
    assert out["diff"] == {"before": {"02:00:00:00:00:01": {"IPAddresses": [{"IPAddress": "10.1.0.1", "Network": "mgmt"}]}},
                           "after": {"02:00:00:00:00:01": {"IPAddresses": [{"IPAddress": "10.1.0.9", "Network": "mgmt"}]}}}
    assert out["deleted"] == {"create": 0, "update": 0, "delete": 1, "unchanged": 0}
    assert [(i["MACAddress"], i["ComponentID"], i["IPAddresses"]) for i in out["dump"]] == [
        ("02:00:00:00:00:01", N0, [{"IPAddress": "10.1.0.9", "Network": "mgmt"}])]


def test_groups_and_partitions_members_checked_before_any_write():
    out, served = replayed("groups")
    assert out["created"] == {"create": 2, "update": 0, "delete": 0, "unchanged": 0}
    assert out["added"] == out["again"] == {"create": 0, "update": 0, "delete": 0, "unchanged": 1}
    assert out["unknown_member"] == ("invalid input, nothing was changed: group compute: unknown member(s) "
                                     "x3000c0s7b0n0 (no such component in SMD)")
    assert out["exclusive_clash"] == ("invalid input, nothing was changed: group service: member %s would also be "
                                      "in group compute (exclusive group role)" % N0)
    assert out["partition"] == {"create": 1, "update": 0, "delete": 0, "unchanged": 0}
    assert out["dump"]["groups"] == [
        {"label": "compute", "description": "compute nodes", "exclusiveGroup": "role", "members": [N0, N1],
         "tags": ["a"]},
        {"label": "service", "description": "", "exclusiveGroup": "role", "members": [N2]}]
    assert out["dump"]["partitions"] == [{"name": "p1", "members": [N0]}]
    # the refused items wrote nothing: two groups and one partition created, no member request at all
    assert [p for p in served if not p.startswith("GET") and "Query" not in p and "DELETE" not in p] == [
        "POST /hsm/v2/State/Components", "POST /hsm/v2/groups", "POST /hsm/v2/groups", "POST /hsm/v2/partitions"]


def test_endpoints_passwords_and_the_discovery_planners_smd_side():
    out, _served = replayed("endpoints")
    assert "secret" not in json.dumps(out)
    assert out["created"]["endpoints"] == [{"ID": "x3000c0s1b0", "FQDN": "x3000c0s1b0.example", "User": "root",
                                            "Enabled": False}]
    assert out["on_create"] == {"create": 0, "update": 0, "delete": 0, "unchanged": 1}
    assert out["always"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 0}
    assert out["bmc_components"] == {"create": 1, "update": 0, "delete": 0, "unchanged": 0}
    assert out["bmc_components_again"] == {"create": 0, "update": 0, "delete": 0, "unchanged": 1}
    assert by_id(out["dump"]["components"])["x3000c0b0"]["Type"] == "ChassisBMC"
    assert out["nid_collisions"] == {7: [N0, N1]}
    assert [e["ID"] for e in out["dump"]["redfish_endpoints"]] == ["x3000c0s1b0"]


def test_inventory_plugin_hosts_groups_and_variables():
    with smd_replay.Replay("inventory") as server:
        smd_replay.run("inventory", server.url)
        data, proc = smd_replay.inventory_reads(server.url, COLLECTIONS)
    assert server.unexpected == [], proc.stderr
    assert data is not None, proc.stderr
    data = plain(data)
    groups = dict((name, sorted(v.get("hosts", []))) for name, v in data.items() if name not in ("_meta", "all"))
    assert groups["role_compute"] == groups["compute_nodes"] == [N0, N1]
    assert groups["partition_p2"] == [N0, N1] and groups["gpu"] == [N1]
    assert groups["state_off"] == [N1] and groups["arch_arm"] == [N1]
    host = data["_meta"]["hostvars"][N2]
    assert (host["ansible_host"], host["smd_nid"], host["smd_role"], host["smd_bmc"], host["smd_macs"]) == (
        "10.2.0.3", 3, "Service", "x3000c0s2b0", ["02:00:00:00:01:02"])
    assert data["_meta"]["hostvars"][N1]["smd_groups"] == ["gpu"]


def test_service_values_refused_are_named_by_xname_and_by_the_option_the_user_wrote():
    from ansible_collections.cscs.openchami.plugins.module_utils import cluster_spec, resource
    from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer
    values = (200, {}, {"Role": ["Compute", "Service"], "SubRole": ["Worker"], "Arch": ["X86"]})
    with FakeServer([values, values]) as srv:
        api = smd.SMD(Client(srv.url, retries=0))
        items = [{"ID": N0, "Role": "compute", "SubRole": "UAN"}, {"ID": N1, "Arch": False}]
        with pytest.raises(resource.ValidationError) as caught:
            smd.check_service_values(api, items)
        assert caught.value.errors == [
            "component %s: sub_role: 'UAN' is not one this SMD accepts (Worker)" % N0,
            "component %s: arch: False is not one this SMD accepts (X86); YAML reads an unquoted Off, On, Yes or No as "
            "a boolean: quote the value, for example arch: 'Off'" % N1]
        # the cluster spec calls the sub-role subrole
        with pytest.raises(resource.ValidationError, match="component %s: subrole: 'UAN'" % N0):
            smd.check_service_values(api, [{"ID": N0, "SubRole": "UAN"}],
                                     options=dict((field, key) for key, field in cluster_spec.COMPONENT_KEYS))
    assert items[0]["Role"] == "Compute"  # accepted values take SMD's spelling
