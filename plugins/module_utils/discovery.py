# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module glue of redfish_discover, here so that a vendor's own module can run it with its own profile.

A vendor module imports the module_utils file that registers its :class:`redfish.Profile` and calls
:func:`main` (see docs/redfish_profiles.md: ``main`` is a stable interface). The planning itself is in
``bmc_discovery.py`` (no AnsibleModule there).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils import bmc_discovery, redfish_module, smd


def argument_spec():
    """The options of the ``cscs.openchami.redfish.discover`` doc fragment (with the BMC connection's)."""
    spec = dict(
        targets=dict(type="list", elements="raw", required=True),
        xname_map=dict(type="dict", default={}),
        push=dict(type="bool", default=True),
        dest=dict(type="path"),
        update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        workers=dict(type="int", default=32),
        port=dict(type="int", default=443),
        fail_on_error=dict(type="str", choices=["never", "any", "all"], default="never"),
        collect_chassis=dict(type="bool", default=False),
    )
    spec.update(redfish_module.bmc_argument_spec())
    return spec


def main():
    module = OpenCHAMIModule(argument_spec=argument_spec())
    p = module.params
    redfish_module.hide_target_passwords(module)
    with module.guard():
        targets = bmc_discovery.checked_targets(p)
        out, endpoints, warnings = bmc_discovery.discover(
            p, targets, lambda: smd.SMD(module.client("smd"), workers=min(p["workers"], 32)), module.check_mode)
        for warning in warnings:
            module.warn(warning)
        reports = out["bmcs"]
        if p["dest"] and not module.check_mode:  # check mode writes nothing, anywhere
            try:
                with open(p["dest"], "w") as handle:
                    json.dump({"bmcs": reports, "endpoints": [smd.without_password(e) for e in endpoints]}, handle,
                              indent=2, sort_keys=True)
            except OSError as exc:
                module.fail_json(msg="cannot write dest %s: %s (the discovery itself is in this result)"
                                 % (p["dest"], exc.strerror or exc), **out)
        failed = [r for r in reports if r["status"] != "ok"]
        if failed and (p["fail_on_error"] == "any" or (p["fail_on_error"] == "all" and len(failed) == len(reports))):
            module.fail_json(msg="%d of %d BMCs could not be discovered: %s" % (
                len(failed), len(reports), "; ".join("%s: %s" % (r["address"], r["status"]) for r in failed[:20])),
                **out)
    module.exit_json(**out)
