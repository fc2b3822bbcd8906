# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Powering nodes from a module: through the power-control service (one transition for all nodes), or through
the nodes' BMCs over Redfish (addresses and credentials from SMD) where no power-control service is configured.

Both plan every node with the engine's actions (:func:`resource.target`: before, after, whether it acts) and
carry the plan out (:func:`resource.carry_out`, nothing in check mode); both return one result per node
(``name``, ``status`` ok/failed/timeout, ``changed``, ``before``, ``after``, ``message``) for
:meth:`common.OpenCHAMIModule.exit_actions`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.cscs.openchami.plugins.module_utils import pcs, redfish, redfish_module, resource

# PCS operation -> the Redfish ResetType the fallback sends (init: see fallback_reset)
FALLBACK_RESET = {"on": "On", "off": "ForceOff", "soft-off": "GracefulShutdown", "force-off": "ForceOff",
                  "soft-restart": "GracefulRestart", "hard-restart": "ForceRestart"}


def pcs_configured(module):
    """True when the connection options give the power-control service an address."""
    return bool(module.connection.url("pcs"))


def through_pcs(module, operation, nodes, wait_timeout):
    """Power ``nodes`` with one PCS transition (nodes already in the end state left out), waited on for at most
    ``wait_timeout`` seconds; planned and carried out by the engine (:func:`resource.carry_out`), so check mode
    starts nothing. Returns (results, transition ID or None)."""
    api = pcs.PCS(module.client("pcs"))
    statuses = api.power_status(nodes)
    started = []

    def transition(acting):
        names = [t["name"] for t in acting]
        started.append(api.start(operation, names, pcs.deadline_minutes(wait_timeout)))
        answer, finished = api.wait(started[0], wait_timeout)
        results = pcs.node_results(names, statuses, answer, finished, api.power_status(names))
        for result in results:
            if result["changed"]:
                result["transition_id"] = started[0]
        return results

    results = resource.carry_out(pcs.targets(operation, nodes, statuses), module.check_mode, transition)
    return results, (started or [None])[0]


def through_redfish(module, choose, wait=True, timeout=300):
    """Reset the selected nodes at their BMCs: ``choose(PowerState) -> ResetType`` (None leaves the node alone).

    Every reset is sent first, then the states are awaited (the nodes of one BMC power up together), each node
    until the state its reset ends in or ``timeout`` seconds after the start. Check mode reads the states, sends
    nothing and waits for nothing.
    """
    params = module.params
    deadline = time.monotonic() + timeout
    ends = {}

    def act(bmc, system, entry):
        before = system.get("PowerState")
        wanted = choose(before)
        ends[entry["name"]] = redfish.RESET_TARGET_STATE[wanted] if wanted else before
        return resource.act(before, ends[entry["name"]], module.check_mode,
                            lambda: {"reset_type": bmc.reset(system, wanted)}, acts=wanted is not None)

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


# redfish_power's states -> the ResetType sent, and the power state the idempotent ones end in
RESET_OF = {"on": "On", "off": "ForceOff", "soft_off": "GracefulShutdown", "restart": "ForceRestart",
            "soft_restart": "GracefulRestart", "power_cycle": "PowerCycle"}
IDEMPOTENT_END = {"on": "On", "off": "Off", "soft_off": "Off"}


def redfish_reset(state):
    """``choose`` for :func:`through_redfish` of redfish_power's ``state``: a node already in the end state of
    ``on``, ``off`` or ``soft_off`` is left alone, the restarts always act."""
    def choose(before):
        if state in IDEMPOTENT_END and before == IDEMPOTENT_END[state]:
            return None
        return RESET_OF[state]
    return choose


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
