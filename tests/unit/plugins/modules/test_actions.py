# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's actions as a user sees them: the power module against a scripted power-control service (check
mode starts nothing and says what a real run does), and redfish_boot's per-node steps against a scripted BMC."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import redfish, redfish_module
from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer
from ansible_collections.cscs.openchami.tests.unit.plugins.modules.test_partial_writes import run_task

ON, OFF = "x1000c0s0b0n0", "x1000c0s0b0n1"
STATUS = (200, {}, {"status": [
    {"xname": ON, "powerState": "on", "managementState": "available", "error": ""},
    {"xname": OFF, "powerState": "off", "managementState": "available", "error": ""}]})


def power(url, check_mode):
    task = {"cscs.openchami.power": {"service_uris": {"pcs": url}, "nodes": [ON, OFF], "state": "on"},
            "check_mode": check_mode, "diff": True}
    return run_task(url, task)


def test_power_check_mode_reads_only_and_reports_what_the_real_run_does():
    with FakeServer([STATUS]) as srv:
        checked = power(srv.url, True)
    assert [(r["method"], r["path"]) for r in srv.requests] == [("POST", "/power-status")]
    done = (200, {}, {"transitionID": "t-1", "transitionStatus": "completed", "operation": "On", "tasks": [
        {"xname": OFF, "taskStatus": "succeeded", "taskStatusDescription": "Transition confirmed, on"}]})
    after = (200, {}, {"status": [{"xname": OFF, "powerState": "on", "managementState": "available"}]})
    with FakeServer([STATUS, (200, {}, {"transitionID": "t-1"}), done, after]) as srv:
        real = power(srv.url, False)
    assert [(r["method"], r["path"]) for r in srv.requests] == [
        ("POST", "/power-status"), ("POST", "/transitions"), ("GET", "/transitions/t-1"), ("POST", "/power-status")]
    assert [x["xname"] for x in json.loads(srv.requests[1]["body"])["location"]] == [OFF]  # the node that is on stays out
    for result in (checked, real):
        assert result["changed"] is True and not result.get("failed")
        assert result["summary"] == {"ok": 2, "changed": 1}
        assert [(n["name"], n["changed"], n["before"], n["after"]) for n in result["nodes"]] == [
            (ON, False, "on", "on"), (OFF, True, "off", "on")]
    assert checked["diff"] == real["diff"] == {"before": {OFF: "off"}, "after": {OFF: "on"}}
    assert real["nodes"][1]["transition_id"] == "t-1" and "transition_id" not in checked["nodes"][1]


def test_power_fails_naming_the_node_that_failed_after_the_others_were_handled():
    failed = (200, {}, {"transitionID": "t-2", "transitionStatus": "completed", "operation": "On", "tasks": [
        {"xname": OFF, "taskStatus": "failed", "taskStatusDescription": "Failed to apply transition", "error": "no BMC"}]})
    with FakeServer([STATUS, (200, {}, {"transitionID": "t-2"}), failed, STATUS]) as srv:
        result = power(srv.url, False)
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == "1 of 2 nodes failed: %s: Failed to apply transition: no BMC" % OFF
    assert result["summary"] == {"ok": 1, "failed": 1, "changed": 1}


class FakeModule:
    def __init__(self, check_mode, **params):
        self.check_mode = check_mode
        self.params = dict(dict(target="pxe", unsupported="fail"), **params)


class FakeBmc:
    """A BMC's system as redfish.Bmc reads and patches it; ``applies`` False: it accepts a PATCH and ignores it."""

    def __init__(self, boot, applies=True):
        self.system = {"@odata.id": "/redfish/v1/Systems/1", "Boot": boot}
        self.applies = applies
        self.patches = []

    def patch(self, uri, body):
        self.patches.append((uri, body))
        if self.applies:
            self.system["Boot"].update(body["Boot"])

    def get(self, uri, cache=True):
        return json.loads(json.dumps(self.system))


OVERRIDE = {"BootSourceOverrideTarget": "Hdd", "BootSourceOverrideEnabled": "Disabled",
            "BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe", "Hdd"]}
WANTED = {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}


@pytest.mark.parametrize("check_mode", [True, False])
def test_boot_override_planned_by_the_engine_written_only_in_a_real_run(check_mode):
    bmc = FakeBmc(dict(OVERRIDE))
    result = redfish_module._override_step(FakeModule(check_mode), WANTED, bmc, bmc.get(""), "/redfish/v1/Systems/1")
    assert result == {"status": "ok", "changed": True, "method": "override",
                      "before": {"BootSourceOverrideTarget": "Hdd", "BootSourceOverrideEnabled": "Disabled"},
                      "after": WANTED}
    assert bmc.patches == ([] if check_mode else [("/redfish/v1/Systems/1", {"Boot": WANTED})])
    again = redfish_module._override_step(FakeModule(check_mode), WANTED, bmc, bmc.get(""), "/redfish/v1/Systems/1")
    assert again["changed"] is check_mode and len(bmc.patches) == (0 if check_mode else 1)


def test_boot_override_the_bmc_does_not_apply_is_an_error():
    bmc = FakeBmc(dict(OVERRIDE), applies=False)
    with pytest.raises(redfish.BmcError, match="reads back target Hdd"):
        redfish_module._override_step(FakeModule(False), WANTED, bmc, bmc.get(""), "/redfish/v1/Systems/1")


def test_boot_order_where_the_bmc_has_no_override_only_when_asked():
    bmc = FakeBmc({"BootOrder": ["NVMe-Disk", "ME0-PXE-IP4"]})
    with pytest.raises(redfish.BmcError, match="unsupported=boot_order changes the boot order instead"):
        redfish_module._boot_order_step(FakeModule(False), bmc, bmc.get(""))
    for check_mode in (True, False):
        result = redfish_module._boot_order_step(FakeModule(check_mode, unsupported="boot_order"), bmc, bmc.get(""))
        assert (result["changed"], result["method"], result["after"]) == (
            True, "boot_order", {"BootOrder": ["ME0-PXE-IP4", "NVMe-Disk"]})
    assert bmc.patches == [("/redfish/v1/Systems/1", {"Boot": {"BootOrder": ["ME0-PXE-IP4", "NVMe-Disk"]}})]
    again = redfish_module._boot_order_step(FakeModule(False, unsupported="boot_order"), bmc, bmc.get(""))
    assert again["changed"] is False and len(bmc.patches) == 1
