# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the Redfish module_utils: reset-type equivalents, profiles, targets, MACs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import redfish
from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer


@pytest.mark.parametrize("requested, allowed, sent", [
    ("On", ["ForceOff", "On", "Off"], "On"),
    ("On", ["ForceOn", "ForceOff"], "ForceOn"),
    ("ForceOff", ["On", "Off"], "Off"),
    ("GracefulRestart", ["On", "ForceRestart"], "ForceRestart"),
    ("PowerCycle", ["On", "ForceOff", "ForceRestart"], "ForceRestart"),
    ("GracefulShutdown", ["On", "ForceOff"], None),  # a graceful request never becomes a forced one
    ("Nmi", None, "Nmi"),  # the BMC does not say: send what was asked
])
def test_reset_type_equivalents(requested, allowed, sent):
    assert redfish.pick_reset_type(requested, allowed) == sent


@pytest.mark.parametrize("value, mac", [
    ("B4:2E:99:BA:DE:17", "b4:2e:99:ba:de:17"),
    ("b42e.99ba.de17", "b4:2e:99:ba:de:17"),
    ("Not Available", None),
    ("", None),
    ("00:00:00:00:00:00", None),
    (None, None),
    ("zz:zz", None),
])
def test_normalize_mac_tolerates_what_bmcs_report(value, mac):
    assert redfish.normalize_mac(value) == mac


def test_expand_targets_hosts_cidrs_and_dicts():
    out = redfish.expand_targets(["10.0.0.0/30", {"address": "bmc1.example.ch", "xname": "x1000c0s0b0"}, "10.1.0.5"])
    assert [t["address"] for t in out] == ["10.0.0.1", "10.0.0.2", "bmc1.example.ch", "10.1.0.5"]
    assert out[2]["xname"] == "x1000c0s0b0"
    with pytest.raises(ValueError, match="target 0: '10.0.0.0/33' is not a valid CIDR"):
        redfish.expand_targets(["10.0.0.0/33"])
    with pytest.raises(ValueError, match="target 1 has no address"):
        redfish.expand_targets(["10.0.0.1", {"xname": "x1000c0s0b0"}])


CRAY_MANAGERS = [{"Id": "BMC", "ManagerType": "EnclosureManager"}, {"Id": "MCU0", "ManagerType": "AuxiliaryController"}]


@pytest.mark.parametrize("root, systems, managers, name", [
    ({"Systems": {}}, [{"Id": "Node0"}, {"Id": "Node1"}], CRAY_MANAGERS, "cray_ex_nc"),
    ({}, [], CRAY_MANAGERS, "cray_ex_cc"),
    ({"Vendor": "AMI", "Systems": {}}, [{"Id": "Self", "Manufacturer": "GIGABYTE"}], [{"Id": "Self", "ManagerType": "BMC"}],
     "gigabyte"),
    ({"Systems": {}}, [{"Id": "437XR1138R2"}], [{"Id": "BMC", "ManagerType": "BMC"}], "generic"),
])
def test_profile_chosen_from_what_the_bmc_shows(root, systems, managers, name):
    assert redfish.choose_profile(root, systems, managers).name == name


def test_a_registered_vendor_profile_wins_and_can_be_forced():
    @redfish.register
    class Acme(redfish.Profile):  # pylint: disable=unused-variable
        name = "acme_test"

        @classmethod
        def score(cls, root, systems, managers):
            return 50 if root.get("Vendor") == "ACME" else 0

    try:
        assert redfish.choose_profile({"Vendor": "ACME"}, [], []).name == "acme_test"
        assert redfish.choose_profile({}, [], [], forced="acme_test").name == "acme_test"
        assert redfish.choose_profile({}, [{"Id": "1"}], [{"ManagerType": "BMC"}]).name == "generic"
        with pytest.raises(redfish.BmcError, match="unknown Redfish profile 'nope'"):
            redfish.choose_profile({}, [], [], forced="nope")
    finally:
        del redfish.PROFILES["acme_test"]


def test_node_systems_in_natural_order():
    systems = [{"Id": "Node10"}, {"Id": "Node2"}, {"Id": "Node1"}]
    assert [s["Id"] for s in redfish.GenericProfile().node_systems(None, systems)] == ["Node1", "Node2", "Node10"]


# ---------------------------------------------------------------- protocol, against a scripted HTTP server

def _bmc(srv):
    return redfish.Bmc(srv.url, "root", "pw-123456", retries=0, sessions="never")


EXPANDABLE_ROOT = {"Systems": {"@odata.id": "/redfish/v1/Systems"},
                   "ProtocolFeaturesSupported": {"ExpandQuery": {"Levels": True, "MaxLevels": 3}}}


def test_expand_used_only_where_advertised_and_members_read_from_it():
    expanded = {"Members": [{"@odata.id": "/redfish/v1/Systems/1", "Id": "1", "PowerState": "On"},
                            {"@odata.id": "/redfish/v1/Systems/2", "Id": "2", "PowerState": "Off"}]}
    with FakeServer([(200, {}, EXPANDABLE_ROOT), (200, {}, expanded)]) as srv:
        bmc = _bmc(srv)
        systems = bmc.members(bmc.root()["Systems"])
    assert [s["PowerState"] for s in systems] == ["On", "Off"]
    assert [r["path"] for r in srv.requests] == ["/redfish/v1", "/redfish/v1/Systems?$expand=.($levels=1)"]
    assert srv.requests[1]["headers"]["Authorization"].startswith("Basic ")


def test_expand_refused_falls_back_to_one_request_per_member():
    plain = {"Members": [{"@odata.id": "/redfish/v1/Systems/1"}]}
    with FakeServer([(200, {}, EXPANDABLE_ROOT), (501, {}, {"error": {"message": "no"}}), (200, {}, plain),
                     (200, {}, {"@odata.id": "/redfish/v1/Systems/1", "Id": "1", "PowerState": "On"})]) as srv:
        bmc = _bmc(srv)
        systems = bmc.members(bmc.root()["Systems"])
    assert [s["Id"] for s in systems] == ["1"]
    assert [r["path"] for r in srv.requests][2:] == ["/redfish/v1/Systems", "/redfish/v1/Systems/1"]


def test_no_expand_without_the_service_saying_so():
    with FakeServer([(200, {}, {"Systems": {"@odata.id": "/redfish/v1/Systems"}}), (200, {}, {"Members": []})]) as srv:
        bmc = _bmc(srv)
        assert bmc.members(bmc.root()["Systems"]) == []
    assert "$expand" not in srv.requests[1]["path"]


SYSTEM = {"@odata.id": "/redfish/v1/Systems/1", "Actions": {"#ComputerSystem.Reset": {
    "target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
    "@Redfish.ActionInfo": "/redfish/v1/Systems/1/ResetActionInfo"}}}
ACTION_INFO = {"Parameters": [{"Name": "ResetType", "AllowableValues": ["On", "ForceOff", "Off"]}]}


def test_reset_type_from_action_info_and_task_monitor_followed_to_the_end():
    answers = [(200, {}, ACTION_INFO), (202, {"Location": "/redfish/v1/TaskService/Tasks/7"}, {}),
               (202, {}, {"TaskState": "Running"}), (200, {}, {"TaskState": "Completed"})]
    with FakeServer(answers) as srv:
        sent = _bmc(srv).reset(SYSTEM, "GracefulShutdown")
    assert sent == "Off"  # GracefulShutdown is not offered; Off is its equivalent here
    assert srv.requests[1]["method"] == "POST" and '"ResetType": "Off"' in srv.requests[1]["body"]
    assert [r["path"] for r in srv.requests[2:]] == ["/redfish/v1/TaskService/Tasks/7"] * 2


def test_failed_task_is_an_error_naming_the_bmc():
    answers = [(200, {}, ACTION_INFO), (202, {"Location": "/t/1"}, {}), (200, {}, {"TaskState": "Exception"})]
    with FakeServer(answers) as srv:
        with pytest.raises(redfish.BmcError, match="task /t/1 ended Exception"):
            _bmc(srv).reset(SYSTEM, "On")


def test_patch_sends_if_match_and_rereads_once_on_412():
    answers = [(200, {}, {"@odata.etag": 'W/"1"'}), (412, {}, {"error": {"message": "PreconditionFailed"}}),
               (200, {}, {"@odata.etag": 'W/"2"'}), (204, {}, "")]
    with FakeServer(answers) as srv:
        _bmc(srv).patch("/redfish/v1/Systems/1", {"Boot": {"BootSourceOverrideTarget": "Pxe"}})
    patches = [r for r in srv.requests if r["method"] == "PATCH"]
    assert [p["headers"]["If-Match"] for p in patches] == ['W/"1"', 'W/"2"']
    assert all("pw-123456" not in p["body"] for p in patches)


def test_discovery_targets_refused_are_named_by_address_and_option():
    from ansible_collections.cscs.openchami.plugins.module_utils import bmc_discovery, resource, smd
    params = {"targets": ["10.0.0.1", {"address": "10.0.0.2", "profile": "nosuch"}], "profile": "auto",
              "xname_map": {"10.0.0.1": "x3000c0s5q0"}}
    with pytest.raises(resource.ValidationError) as caught:
        bmc_discovery.checked_targets(params)
    assert caught.value.errors[0].startswith("xname_map[10.0.0.1]: ")
    assert caught.value.errors[1].startswith("target 10.0.0.1: xname: ") and "x3000c0s5q0" in caught.value.errors[1]
    assert caught.value.errors[2].startswith("target 10.0.0.2: profile: unknown profile 'nosuch' (known: ")
    endpoints = [{"ID": "x3000c0s1b0", "MACAddr": "zz", "FQDN": "10.0.0.1"}]
    with pytest.raises(resource.ValidationError, match="endpoint x3000c0s1b0: mac_address: invalid MAC address 'zz'"):
        smd.ENDPOINT.check(endpoints, what="endpoint")  # discovery's endpoints, checked as the module's


def test_nodes_refused_before_smd_is_asked_are_named_by_the_option():
    with pytest.raises(ValueError) as caught:
        redfish.select_systems({"nodes": ["x1000c0s0b0n0", "nonsense", "x1000q"]}, smd_api=None)
    parts = str(caught.value).split("; ")
    assert len(parts) == 2 and all(p.startswith("nodes: ") for p in parts)
    assert "nonsense" in parts[0] and "x1000q" in parts[1]
