# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Powering nodes from a module: through the power-control service (one transition for all nodes), or through
the nodes' BMCs over Redfish (addresses and credentials from SMD) where no power-control service is configured.

Both return one result per node (``name``, ``status`` ok/failed/timeout, ``changed``, ``before``, ``after``,
``message``) for :func:`redfish_module.exit_with_results`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.cscs.openchami.plugins.module_utils import pcs, redfish, redfish_module

# PCS operation -> the Redfish ResetType the fallback sends (init: see fallback_reset)
FALLBACK_RESET = {"on": "On", "off": "ForceOff", "soft-off": "GracefulShutdown", "force-off": "ForceOff",
                  "soft-restart": "GracefulRestart", "hard-restart": "ForceRestart"}


def pcs_configured(module):
    """True when the connection options give the power-control service an address."""
    return bool(module.connection.url("pcs"))


def through_pcs(module, operation, nodes, wait_timeout):
    """Power ``nodes`` with one PCS transition (nodes already in the end state left out), waited on for at most
    ``wait_timeout`` seconds. Returns (results, transition ID or None)."""
    api = pcs.PCS(module.client("pcs"))
    statuses = api.power_status(nodes)
    todo, done = pcs.plan(operation, nodes, statuses)
    transition_id = None
    if todo and module.check_mode:
        done.update((r["name"], r) for r in pcs.planned_results(operation, todo, statuses))
    elif todo:
        transition_id = api.start(operation, todo, pcs.deadline_minutes(wait_timeout))
        transition, finished = api.wait(transition_id, wait_timeout)
        after = api.power_status(todo)
        done.update((r["name"], r) for r in pcs.node_results(todo, statuses, transition, finished, after))
    results = [done[name] for name in nodes]
    for result in results:
        if result.get("changed") and transition_id:
            result["transition_id"] = transition_id
    return results, transition_id


def through_redfish(module, choose, wait=True, timeout=300):
    """Reset the selected nodes at their BMCs: ``choose(PowerState) -> ResetType`` (None leaves the node alone).

    Every reset is sent first, then the states are awaited (the nodes of one BMC power up together), each node
    until the state its reset ends in or ``timeout`` seconds after the start. Check mode reads and sends nothing.
    """
    params = module.params
    deadline = time.monotonic() + timeout
    ends = {}

    def act(bmc, system, entry):
        before = system.get("PowerState")
        wanted = choose(before)
        if wanted is None:
            return {"changed": False, "before": before, "after": before}
        ends[entry["name"]] = redfish.RESET_TARGET_STATE[wanted]
        if module.check_mode:
            return {"changed": True, "before": before, "after": ends[entry["name"]]}
        return {"changed": True, "before": before, "reset_type": bmc.reset(system, wanted)}

    def settle(bmc, _system, entry):
        end_state = ends[entry["name"]]
        after = redfish.wait_power_state(bmc, entry["uri"], end_state, deadline) if wait else \
            bmc.power_state(entry["uri"])
        if wait and after != end_state:
            return {"after": after, "status": "timeout",
                    "message": "still %s after %ds (waiting for %s)" % (after, timeout, end_state)}
        return {"after": after}

    selected = redfish_module.selected_systems(module)
    results = redfish.for_each_system(params, selected, act)
    if not module.check_mode:
        redfish.follow_up(params, selected, results, settle)
    return results


def fallback_reset(operation):
    """``choose`` for :func:`through_redfish` that does what the PCS ``operation`` does, as Redfish resets."""
    def choose(before):
        state = (before or "").lower()
        if operation in pcs.IDEMPOTENT and state == pcs.END_STATE[operation]:
            return None
        if operation == "init":
            return "ForceRestart" if state == "on" else "On"
        return FALLBACK_RESET[operation]
    return choose


def through_redfish_like_pcs(module, operation, wait_timeout):
    """:func:`through_redfish` for a PCS ``operation``, with power states in PCS's words (on, off, undefined)."""
    results = through_redfish(module, fallback_reset(operation), True, wait_timeout)
    for result in results:
        for key in ("before", "after"):
            result[key] = (result.get(key) or "undefined").lower()
    return results
