# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module layer of the Redfish modules: their argument specs, selecting systems for a module, ending a
module that acted per node. ``redfish.py`` is the client and knows no AnsibleModule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.cscs.openchami.plugins.module_utils import redfish, resource, smd


def bmc_argument_spec():
    """The argument spec of the ``cscs.openchami.redfish`` doc fragment."""
    return dict(
        bmc_user=dict(type="str", fallback=(env_fallback, ["REDFISH_USER"])),
        bmc_password=dict(type="str", no_log=True, fallback=(env_fallback, ["REDFISH_PASSWORD"])),
        bmc_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["REDFISH_VALIDATE_CERTS"])),
        bmc_ca_path=dict(type="path", fallback=(env_fallback, ["REDFISH_CA_PATH"])),
        bmc_timeout=dict(type="int", default=10),
        sessions=dict(type="str", choices=["auto", "always", "never"], default="auto"),
        profile=dict(type="str", default="auto"),
    )


def selection_argument_spec():
    """``nodes`` (xnames, resolved through SMD) or ``targets`` (BMC addresses), and the concurrency."""
    return dict(
        nodes=dict(type="list", elements="str"),
        targets=dict(type="list", elements="raw"),
        workers=dict(type="int", default=32),
    )


def hide_target_passwords(module):
    """Per-target passwords (inside the ``targets`` list) are secrets too: never in the module's output."""
    for target in module.params.get("targets") or []:
        if isinstance(target, dict) and target.get("password"):
            module.no_log_values.add(str(target["password"]))


def selected_systems(module):
    """:func:`select_systems` for a module (SMD reached with its connection options); bad input fails cleanly."""
    hide_target_passwords(module)
    api = smd.SMD(module.client("smd")) if module.params.get("nodes") else None
    try:
        return redfish.select_systems(module.params, api)
    except ValueError as exc:
        raise resource.ValidationError([str(exc)])


def exit_with_results(module, results):
    """End a module that acted per node: ``changed``, ``nodes``, a bounded diff, counts; fail if any node failed."""
    counts = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    changed = [r for r in results if r.get("changed")]
    shown = changed[:100]
    diff = {"before": dict((r["name"], r.get("before")) for r in shown),
            "after": dict((r["name"], r.get("after")) for r in shown)}
    out = dict(changed=bool(changed), nodes=results, diff=diff, summary=dict(counts, changed=len(changed)))
    bad = [r for r in results if r["status"] != "ok"]
    if bad:
        module.fail_json(msg="%d of %d nodes failed: %s" % (len(bad), len(results), "; ".join(
            "%s: %s" % (r["name"], r.get("message")) for r in bad[:20])), **out)
    module.exit_json(**out)
