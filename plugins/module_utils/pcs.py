# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The power-control service (PCS) of OpenCHAMI and CSM: a pure client and the power planner.

OpenCHAMI's power-control and CSM's hms-power-control answer the same API (``/transitions``,
``/power-status``); the client is given the service's base URL (with ``/v1`` or the gateway's
``/apis/power-control/v1`` where the deployment has one) and adds only the resource paths.

:func:`plan` decides, from the power status PCS reports, which nodes a transition must include:
nodes already in the state an ``on``/``off``/``soft-off``/``force-off`` ends in are left out (PCS would
report them "already in desired state", but a task that changes nothing should not say it changed
something), restarts and ``init`` act on every node. :func:`node_results` turns the finished (or
timed-out) transition into one result per node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import time

from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError

OPERATIONS = ("on", "off", "soft-off", "soft-restart", "hard-restart", "init", "force-off")
# the power state each operation ends in
END_STATE = {"on": "on", "off": "off", "soft-off": "off", "force-off": "off", "soft-restart": "on",
             "hard-restart": "on", "init": "on"}
# operations that do nothing to a node already in their end state
IDEMPOTENT = frozenset(("on", "off", "soft-off", "force-off"))
FINISHED = frozenset(("completed", "aborted"))
TASK_DONE = frozenset(("succeeded", "failed", "unsupported"))


class PCS:
    """Calls to one power-control service (a :class:`transport.Client` on its base URL)."""

    def __init__(self, client):
        self.client = client

    def power_status(self, xnames=None, power_state=None):
        """xname -> PCS power status entry (``powerState``, ``managementState``, ``error``, ...) in one request.

        Without ``xnames``, every component PCS knows; ``power_state`` (on, off, undefined) filters.
        """
        body = {}
        if xnames:
            body["xname"] = list(xnames)
        if power_state:
            body["powerStateFilter"] = power_state
        if body.get("xname"):
            data = self.client.post("/power-status", body, safe=True).json or {}
        else:
            data = self.client.get_json("/power-status", params=body or None) or {}
        return dict((entry.get("xname"), entry) for entry in data.get("status") or [])

    def start(self, operation, xnames, deadline_minutes):
        """Start one transition for all ``xnames``; returns its ID."""
        body = {"operation": operation, "taskDeadlineMinutes": int(deadline_minutes),
                "location": [{"xname": name} for name in xnames]}
        return (self.client.post("/transitions", body, expect=(200, 201, 202)).json or {})["transitionID"]

    def transition(self, transition_id):
        return self.client.get_json("/transitions/%s" % transition_id) or {}

    def transitions(self):
        return (self.client.get_json("/transitions") or {}).get("transitions") or []

    def abort(self, transition_id):
        return self.client.delete("/transitions/%s" % transition_id, expect=(202,)).json

    def wait(self, transition_id, timeout, interval=1.0, sleep=time.sleep, clock=time.monotonic):
        """Poll the transition until PCS says it finished or ``timeout`` seconds pass; returns (transition, finished)."""
        end = clock() + timeout
        delay = min(0.25, interval)
        while True:
            current = self.transition(transition_id)
            if current.get("transitionStatus") in FINISHED:
                return current, True
            left = end - clock()
            if left <= 0:
                return current, False
            sleep(min(delay, left))
            delay = min(delay * 2, interval)


def check_nodes(values, more_errors=()):
    """Normalised xnames; :class:`ValidationError` naming every bad one (and ``more_errors``) before anything is sent."""
    nodes, errors = [], []
    for value in values or []:
        try:
            nodes.append(smd.check_xname(value))
        except ValueError as exc:
            errors.append(str(exc))
    errors.extend(more_errors)
    if errors:
        raise ValidationError(errors)
    return nodes


def status_view(entry):
    """A PCS power status entry in the collection's words."""
    return {"name": entry.get("xname"), "power_state": entry.get("powerState") or "undefined",
            "management_state": entry.get("managementState") or "", "error": entry.get("error") or "",
            "supported_transitions": list(entry.get("supportedPowerTransitions") or []),
            "last_updated": entry.get("lastUpdated") or ""}


def deadline_minutes(wait_timeout):
    """PCS's per-task deadline (whole minutes, at least 1) for a wait of ``wait_timeout`` seconds."""
    return max(1, int(math.ceil(wait_timeout / 60.0)))


def plan(operation, xnames, statuses):
    """(xnames the transition must include, results of the nodes it leaves out).

    ``statuses`` is :meth:`PCS.power_status`'s answer. A node PCS does not know (an ``error`` and no usable
    power state, other than an unreachable BMC) is a failed result; a node whose BMC does not answer is
    included, so that PCS tries it and reports what happened.
    """
    todo, done = [], {}
    for name in xnames:
        entry = statuses.get(name) or {"error": "not in the answer of power-control"}
        before = entry.get("powerState") or "undefined"
        if entry.get("error") and entry.get("managementState") != "unavailable":
            done[name] = {"name": name, "status": "failed", "changed": False, "before": before, "after": before,
                          "message": entry["error"]}
        elif operation in IDEMPOTENT and before == END_STATE[operation]:
            done[name] = {"name": name, "status": "ok", "changed": False, "before": before, "after": before}
        else:
            todo.append(name)
    return todo, done


def node_results(xnames, statuses, transition, finished, after=None):
    """One result per node of ``xnames`` from the transition's tasks (``after``: power status read at the end)."""
    tasks = dict((task.get("xname"), task) for task in transition.get("tasks") or [])
    operation = str(transition.get("operation") or "").lower()
    after = after or {}
    out = []
    for name in xnames:
        task = tasks.get(name) or {}
        before = (statuses.get(name) or {}).get("powerState") or "undefined"
        result = {"name": name, "changed": True, "before": before,
                  "after": (after.get(name) or {}).get("powerState") or END_STATE.get(operation),
                  "task_status": task.get("taskStatus"), "task_description": task.get("taskStatusDescription")}
        if task.get("taskStatus") == "succeeded":
            result["status"] = "ok"
        elif task.get("taskStatus") in TASK_DONE or finished:
            result["status"] = "failed"
            result["changed"] = task.get("taskStatus") != "unsupported"
            result["message"] = "%s: %s" % (task.get("taskStatusDescription") or "no task for this node",
                                            task.get("error") or task.get("taskStatus") or "unknown")
        else:
            result["status"] = "timeout"
            result["message"] = "transition %s still %s (%s)" % (
                transition.get("transitionID"), task.get("taskStatus"), task.get("taskStatusDescription"))
        out.append(result)
    return out


def planned_results(operation, xnames, statuses):
    """What a transition would do to ``xnames``: every node acts, to the operation's end state."""
    return [resource.target((statuses.get(name) or {}).get("powerState") or "undefined", END_STATE[operation],
                            acts=True, name=name) for name in xnames]


def targets(operation, xnames, statuses):
    """The engine's plan (:func:`resource.target`) of ``operation`` for every node of ``xnames``, in order: the
    nodes :func:`plan` leaves out as it says, the others acting (:func:`planned_results`)."""
    todo, done = plan(operation, xnames, statuses)
    done.update((r["name"], r) for r in planned_results(operation, todo, statuses))
    return [done[name] for name in xnames]
