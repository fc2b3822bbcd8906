# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking nodes out of CSM's hands and giving them back exactly (the planner of ``csm_node``; no AnsibleModule).

A node's CSM state, as far as releasing goes, is four things::

    {"bos_enabled": True, "cfs_enabled": True, "hsm_locked": False,
     "ethernet_interfaces": [{"ID", "Description", "MACAddress", "IPAddresses", "ComponentID"}, ...]}

``bos_enabled``/``cfs_enabled`` are None when BOS/CFS have no component for the node. Released means BOS and
CFS components disabled, an HSM lock held, and no Ethernet interface of the node left in HSM (CSM's DHCP
builds its reservations from them). Every call names the node it acts on; no bulk filter can reach a neighbour.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import time

from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError

INTERFACE_FIELDS = ("ID", "Description", "MACAddress", "IPAddresses", "ComponentID")
INTERFACE_ACTIONS = ("removed interface", "restored interface")


def _interface(item):
    out = dict((key, copy.deepcopy(item.get(key))) for key in INTERFACE_FIELDS if item.get(key) is not None)
    out["IPAddresses"] = sorted(out.get("IPAddresses") or [], key=lambda ip: (ip.get("IPAddress") or ""))
    return out


def read_state(csm, nodes):
    """xname -> the node's state (see the module docstring); components missing from HSM are reported by HSM's lock status."""
    bos = dict((c["id"], c.get("enabled")) for c in csm.bos_components(nodes))
    cfs = dict((c["id"], c.get("enabled")) for c in csm.cfs_components(nodes))
    locks = csm.hsm_lock_status(nodes)
    interfaces = {}
    for item in csm.hsm_ethernet_interfaces(nodes):
        interfaces.setdefault(item.get("ComponentID"), []).append(_interface(item))
    state = {}
    for node in nodes:
        state[node] = {"bos_enabled": bos.get(node), "cfs_enabled": cfs.get(node),
                       "hsm_locked": bool((locks.get(node) or {}).get("Locked")),
                       "ethernet_interfaces": sorted(interfaces.get(node, []), key=lambda i: i.get("MACAddress") or "")}
    return state, locks


def released(prior):
    """What a node looks like once released, from what it looked like before."""
    return {"bos_enabled": False if prior["bos_enabled"] is not None else None,
            "cfs_enabled": False if prior["cfs_enabled"] is not None else None,
            "hsm_locked": True, "ethernet_interfaces": []}


def is_released(state):
    return state == released(state)


def check_record(record, nodes):
    """The recorded prior states of ``nodes`` from a ``record`` option; ValidationError naming bad entries."""
    out, errors = {}, []
    for node in nodes:
        entry = (record or {}).get(node)
        if entry is None:
            continue
        if not isinstance(entry, dict) or set(entry) != {"bos_enabled", "cfs_enabled", "hsm_locked", "ethernet_interfaces"}:
            errors.append("record of %s: expected bos_enabled, cfs_enabled, hsm_locked and ethernet_interfaces" % node)
            continue
        if not isinstance(entry["ethernet_interfaces"], list) or \
                any(not isinstance(i, dict) or not i.get("MACAddress") for i in entry["ethernet_interfaces"]):
            errors.append("record of %s: every ethernet interface needs a MACAddress" % node)
            continue
        if any(i.get("ComponentID") not in (None, node) for i in entry["ethernet_interfaces"]):
            errors.append("record of %s: holds an interface of another component" % node)
            continue
        out[node] = dict(entry, ethernet_interfaces=[_interface(i) for i in entry["ethernet_interfaces"]])
    if errors:
        raise ValidationError(errors)
    return out


def plan(current, wanted_state, record):
    """xname -> (desired state, prior state to report); ValidationError when a node cannot be restored."""
    out, errors = {}, []
    for node, now in current.items():
        if wanted_state == "released":
            prior = record.get(node) or now
            if record.get(node) is None and is_released(now):
                prior = now  # released before and no record given: what it was is unknown here
            out[node] = (released(prior), prior)
        else:
            prior = record.get(node)
            if prior is None:
                if now["hsm_locked"] or not now["ethernet_interfaces"]:
                    errors.append("%s looks released (or was never fully managed) and the record option has no "
                                  "prior state for it" % node)
                    continue
                prior = now
            out[node] = (prior, prior)
    if errors:
        raise ValidationError(errors)
    return out


def apply(csm, node, now, desired):
    """Bring one node from ``now`` to ``desired``, in a safe order; returns the list of actions taken."""
    actions = []
    releasing = desired["hsm_locked"] and not desired["ethernet_interfaces"]
    if releasing:
        # stop the actors first, then lock, then take the MACs away from CSM's DHCP
        actions += _set_enabled(csm, node, now, desired)
        actions += _set_lock(csm, node, now, desired)
        actions += _set_interfaces(csm, node, now, desired)
    else:
        actions += _set_interfaces(csm, node, now, desired)
        actions += _set_lock(csm, node, now, desired)
        actions += _set_enabled(csm, node, now, desired)
    return actions


def _set_enabled(csm, node, now, desired):
    actions = []
    for key, service, patch in (("bos_enabled", "bos", csm.bos_patch_component), ("cfs_enabled", "cfs", csm.cfs_patch_component)):
        if desired[key] is not None and now[key] is not None and desired[key] != now[key]:
            patch(node, {"enabled": desired[key]})
            actions.append("%s %s" % ("enabled" if desired[key] else "disabled", service.upper()))
    return actions


def _set_lock(csm, node, now, desired):
    if desired["hsm_locked"] == now["hsm_locked"]:
        return []
    csm.hsm_lock([node], lock=desired["hsm_locked"])
    return ["HSM lock taken" if desired["hsm_locked"] else "HSM lock released"]


def changed_interfaces(actions):
    """Whether these actions of :func:`apply` added or removed an interface in HSM."""
    return any(a.startswith(INTERFACE_ACTIONS) for a in actions)


def refresh_bss(csm, changed_at, clock=time.time, sleep=time.sleep):
    """Make CSM's BSS serve boot scripts from HSM as it is since ``changed_at`` (the time of the last HSM write).

    BSS serves from its own copy of HSM's state, which HSM's notifications refresh in the background; ``POST /hosts``
    refreshes it at once unless it was read in the same second (of BSS's clock) as the request. One request sent a
    full second after the write suffices: either BSS reads again, or its last read began in a later second than the
    write, hence after it.
    """
    wait = changed_at + 1.0 - clock()
    if wait > 0:
        sleep(wait)
    csm.bss_refresh()


def _set_interfaces(csm, node, now, desired):
    actions = []
    have = dict((i["MACAddress"].lower(), i) for i in now["ethernet_interfaces"])
    want = dict((i["MACAddress"].lower(), i) for i in desired["ethernet_interfaces"])
    for mac, item in sorted(have.items()):
        if mac not in want or want[mac] != item:
            csm.hsm_delete_interface(item.get("ID") or mac.replace(":", ""))
            actions.append("%s %s" % (INTERFACE_ACTIONS[0], item["MACAddress"]))
    for mac, item in sorted(want.items()):
        if mac not in have or have[mac] != item:
            csm.hsm_create_interface(dict(item, ComponentID=node))
            actions.append("%s %s" % (INTERFACE_ACTIONS[1], item["MACAddress"]))
    return actions
