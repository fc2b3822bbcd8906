# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the Redfish module_utils: reset-type equivalents, profiles, targets, MACs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import redfish


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


def test_bmc_credentials_never_in_secrets_output():
    auth = redfish._BmcAuth("root", "s3cret-pw")  # pylint: disable=protected-access
    assert "s3cret-pw" in auth.secrets()
    auth.token = "tok-123456"
    assert auth.headers() == {"X-Auth-Token": "tok-123456"}
    assert "tok-123456" in auth.secrets()
