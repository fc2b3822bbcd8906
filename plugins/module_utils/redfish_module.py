# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module layer of the Redfish modules: their argument specs, selecting systems for a module, and the
per-node steps of redfish_boot, planned and carried out by the engine's actions (:func:`resource.act`).
``redfish.py`` is the client and knows no AnsibleModule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.cscs.openchami.plugins.module_utils import common, redfish, resource, smd


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


def selecting_module(argument_spec=None):
    """The module of a redfish_* module that selects nodes: its own options, the BMC options and ``nodes`` or
    ``targets`` (one of them required)."""
    spec = dict(argument_spec or {})
    spec.update(bmc_argument_spec())
    spec.update(selection_argument_spec())
    return common.OpenCHAMIModule(argument_spec=spec, required_one_of=[("nodes", "targets")])


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


# redfish_boot's words -> Redfish's, and the override fields it reports
BOOT_ENABLED = {"once": "Once", "continuous": "Continuous", "disabled": "Disabled"}
BOOT_MODE = {"uefi": "UEFI", "legacy": "Legacy"}
OVERRIDE = ("BootSourceOverrideTarget", "BootSourceOverrideEnabled", "BootSourceOverrideMode")


def set_boot(module):
    """redfish_boot: the boot override of every selected node set as its options say (the boot order where the
    BMC has no override and ``unsupported=boot_order``); one result per node (:func:`resource.act`)."""
    p = module.params
    wanted = {"BootSourceOverrideTarget": redfish.BOOT_TARGETS[p["target"]],
              "BootSourceOverrideEnabled": BOOT_ENABLED[p["enabled"]]}
    if p["mode"]:
        wanted["BootSourceOverrideMode"] = BOOT_MODE[p["mode"]]

    def step(bmc, system, entry):
        if "BootSourceOverrideTarget" not in (system.get("Boot") or {}):
            return _boot_order_step(module, bmc, system)
        return _override_step(module, wanted, bmc, system, entry["uri"])
    return redfish.for_each_system(p, selected_systems(module), step)


def _override_step(module, wanted, bmc, system, uri):
    boot = system["Boot"]
    for field, value in wanted.items():
        allowed = boot.get(field + "@Redfish.AllowableValues")
        if allowed and value not in allowed:
            raise redfish.BmcError("%s=%s is not allowed by this BMC (allowed: %s)" % (field, value, ", ".join(allowed)))
    before = dict((f, boot.get(f)) for f in OVERRIDE if f in boot)

    def write():
        bmc.patch(uri, {"Boot": wanted})
        now = bmc.get(uri, cache=False).get("Boot") or {}
        if now.get("BootSourceOverrideTarget") != wanted["BootSourceOverrideTarget"]:
            raise redfish.BmcError("the BMC accepted the boot override but reads back target %s"
                                   % now.get("BootSourceOverrideTarget"))
        return {"after": dict((f, now.get(f)) for f in OVERRIDE if f in now)}
    return resource.act(before, dict(before, **wanted), module.check_mode, write, method="override")


def _boot_order_step(module, bmc, system):
    target = module.params["target"]
    uri = system["@odata.id"]
    before = {"BootOrder": list((system.get("Boot") or {}).get("BootOrder") or [])}
    if module.params["unsupported"] != "boot_order":
        raise redfish.BmcError("boot override unsupported by this BMC (no BootSourceOverrideTarget on %s); "
                               "unsupported=boot_order changes the boot order instead" % uri)
    order = redfish.boot_order_with_first(bmc, system, target)
    if order is None:
        raise redfish.BmcError("boot override unsupported, and no boot option names %s (boot order: %s)"
                               % (target, ", ".join(before["BootOrder"]) or "empty"))

    def write():
        bmc.patch(uri, {"Boot": {"BootOrder": order}})
        after = {"BootOrder": list((bmc.get(uri, cache=False).get("Boot") or {}).get("BootOrder") or [])}
        if after["BootOrder"] != order:
            raise redfish.BmcError("the BMC accepted the boot order but reads back %s" % after["BootOrder"])
        return {"after": after}
    return resource.act(before, {"BootOrder": order}, module.check_mode, write, method="boot_order")
