# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the power-control client: which nodes a transition needs, per-node results, the bounded wait."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import pcs

ON = {"xname": "x1c0s0b0n0", "powerState": "on", "managementState": "available", "error": ""}
OFF = {"xname": "x1c0s1b0n0", "powerState": "off", "managementState": "available", "error": ""}
DEAD = {"xname": "x1c0s2b0n0", "powerState": "undefined", "managementState": "unavailable",
        "error": "No response from target"}
UNKNOWN = {"xname": "x1c0s3b0n0", "error": "Component not found in component map."}
STATUSES = dict((e["xname"], e) for e in (ON, OFF, DEAD, UNKNOWN))
NAMES = [ON["xname"], OFF["xname"], DEAD["xname"], UNKNOWN["xname"]]


@pytest.mark.parametrize("operation, todo", [
    ("on", [OFF["xname"], DEAD["xname"]]),
    ("off", [ON["xname"], DEAD["xname"]]),
    ("force-off", [ON["xname"], DEAD["xname"]]),
    ("soft-off", [ON["xname"], DEAD["xname"]]),
    ("hard-restart", [ON["xname"], OFF["xname"], DEAD["xname"]]),
    ("init", [ON["xname"], OFF["xname"], DEAD["xname"]]),
])
def test_plan_leaves_out_nodes_already_there_and_unknown_ones(operation, todo):
    planned, done = pcs.plan(operation, NAMES, STATUSES)
    assert planned == todo
    assert done[UNKNOWN["xname"]]["status"] == "failed"
    assert done[UNKNOWN["xname"]]["message"] == "Component not found in component map."
    for name, result in done.items():
        if name != UNKNOWN["xname"]:
            assert result == {"name": name, "status": "ok", "changed": False, "before": result["before"],
                              "after": result["before"]}


def test_plan_fails_a_node_missing_from_the_answer():
    _todo, done = pcs.plan("on", ["x9c0s0b0n0"], {})
    assert done["x9c0s0b0n0"]["status"] == "failed" and "not in the answer" in done["x9c0s0b0n0"]["message"]


def test_node_results_per_task():
    transition = {"transitionID": "t1", "operation": "Off", "tasks": [
        {"xname": ON["xname"], "taskStatus": "succeeded", "taskStatusDescription": "Transition confirmed, forceoff"},
        {"xname": DEAD["xname"], "taskStatus": "failed", "taskStatusDescription": "Failed to apply transition, forceoff",
         "error": "connection refused"},
        {"xname": OFF["xname"], "taskStatus": "in-progress", "taskStatusDescription": "Confirming"}]}
    after = {ON["xname"]: {"powerState": "off"}}
    finished = dict((r["name"], r) for r in pcs.node_results([ON["xname"], DEAD["xname"], OFF["xname"]], STATUSES,
                                                             transition, False, after))
    assert finished[ON["xname"]]["status"] == "ok" and finished[ON["xname"]]["after"] == "off"
    assert finished[DEAD["xname"]]["status"] == "failed"
    assert finished[DEAD["xname"]]["message"] == "Failed to apply transition, forceoff: connection refused"
    assert finished[OFF["xname"]]["status"] == "timeout" and "t1" in finished[OFF["xname"]]["message"]
    # once PCS says the transition is over, a task still open is a failure, not a timeout
    over = pcs.node_results([OFF["xname"]], STATUSES, transition, True)
    assert over[0]["status"] == "failed"


def test_planned_results_say_where_nodes_would_end():
    assert pcs.planned_results("hard-restart", [OFF["xname"]], STATUSES) == [
        {"name": OFF["xname"], "status": "ok", "changed": True, "before": "off", "after": "on"}]


@pytest.mark.parametrize("seconds, minutes", [(1, 1), (60, 1), (61, 2), (300, 5), (3600, 60)])
def test_deadline_minutes(seconds, minutes):
    assert pcs.deadline_minutes(seconds) == minutes


class FakeClient:
    """Answers GET /transitions/<id> from a script of statuses."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.calls = 0

    def get_json(self, path, **_kw):
        self.calls += 1
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"transitionID": path.rsplit("/", 1)[1], "transitionStatus": status}


def test_wait_returns_when_pcs_says_done_or_when_the_bound_passes():
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    done, finished = pcs.PCS(FakeClient(["new", "in-progress", "completed"])).wait(
        "t1", 60, sleep=sleep, clock=lambda: clock[0])
    assert finished is True and done["transitionStatus"] == "completed" and clock[0] < 1

    clock[0] = 0.0
    client = FakeClient(["in-progress"])
    still, finished = pcs.PCS(client).wait("t2", 10, interval=2.0, sleep=sleep, clock=lambda: clock[0])
    assert finished is False and still["transitionStatus"] == "in-progress"
    assert clock[0] == 10 and client.calls < 12  # polls back off up to the interval, and stop at the bound


def test_status_view():
    assert pcs.status_view(DEAD) == {"name": DEAD["xname"], "power_state": "undefined",
                                     "management_state": "unavailable", "error": "No response from target",
                                     "supported_transitions": [], "last_updated": ""}


def test_check_nodes_names_every_bad_xname():
    assert pcs.check_nodes(["X1C0S0B0N0", "x1c0s1b0n0"]) == ["x1c0s0b0n0", "x1c0s1b0n0"]
    with pytest.raises(ValueError) as caught:
        pcs.check_nodes(["x1c0s0b0n0", "nonsense", "x1c0s0q9"], ["wait_timeout too small"])
    assert "nonsense" in str(caught.value) and "x1c0s0q9" in str(caught.value)
    assert "wait_timeout too small" in str(caught.value) and "nothing was changed" in str(caught.value)
