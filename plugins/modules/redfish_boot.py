#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: redfish_boot
short_description: Set the next boot of nodes (PXE, HTTP, disk...) through their BMCs' Redfish boot override
version_added: 0.1.0
description:
  - Sets C(Boot.BootSourceOverrideTarget), C(BootSourceOverrideEnabled) and optionally C(BootSourceOverrideMode)
    of many nodes (BMCs in parallel), with C(If-Match) when the BMC gives an ETag, checks the value against the
    C(@Redfish.AllowableValues) the BMC lists, and reads the system back to make sure the BMC applied it.
  - Some BMCs have no boot override at all (HPE Cray EX node cards list only C(BootOrder)). For those the node
    fails with C(boot override unsupported), unless O(unsupported=boot_order), which moves the first boot option
    naming the target (for example C(ME0-PXE-IP4) for V(pxe)) to the front of C(BootOrder) - a persistent
    change, reported as RV(nodes[].method=boot_order). Never a silent success.
  - Idempotent, nodes already set as asked are left alone.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.redfish
  - cscs.openchami.connection
  - cscs.openchami.redfish
  - cscs.openchami.redfish.selection
attributes:
  check_mode:
    support: full
    description: Reads the boot settings and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Boot settings before and after per node.
options:
  target:
    description:
      - Boot source. V(pxe) (C(Pxe)), V(http) (C(UefiHttp)), V(hdd) (C(Hdd)), V(cd) (C(Cd)), V(usb) (C(Usb)),
        V(bios) (C(BiosSetup)), V(none) (C(None), no override).
    type: str
    required: true
    choices: [pxe, http, hdd, cd, usb, bios, none]
  enabled:
    description: V(once) for the next boot only, V(continuous) until changed, V(disabled) to clear the override.
    type: str
    choices: [once, continuous, disabled]
    default: once
  mode:
    description: C(BootSourceOverrideMode), V(uefi) or V(legacy); not changed when omitted.
    type: str
    choices: [uefi, legacy]
  unsupported:
    description: On a BMC without boot override, V(fail) the node, or change the V(boot_order).
    type: str
    choices: [fail, boot_order]
    default: fail
seealso:
  - module: cscs.openchami.redfish_power
  - module: cscs.openchami.redfish_info
"""

EXAMPLES = r"""
- name: PXE boot once, then power cycle
  cscs.openchami.redfish_boot:
    nodes: [x3000c0s19b0n0, x3000c0s21b0n0]
    target: pxe
    mode: uefi

- name: Cray EX node cards have no override; put the PXE option first in the boot order instead
  cscs.openchami.redfish_boot:
    nodes: "{{ 'x1000c0s[0-7]b0n[0-1]' | cscs.openchami.xname_expand }}"
    target: pxe
    unsupported: boot_order
"""

RETURN = r"""
nodes:
  description: One result per node.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "Node xname (or BMC address and system Id).", type: str}
    status: {description: "V(ok) or V(failed).", type: str}
    changed: {description: "Whether the boot setting was (or would be) changed.", type: bool}
    method: {description: "V(override) or V(boot_order).", type: str}
    before: {description: "The boot settings before.", type: dict}
    after: {description: "The boot settings after (read back from the BMC).", type: dict}
    message: {description: "What went wrong.", type: str}
summary:
  description: Counts of nodes by status, and how many were changed.
  returned: always
  type: dict
"""

from ansible_collections.cscs.openchami.plugins.module_utils import redfish, redfish_module


def main():
    spec = dict(
        target=dict(type="str", required=True, choices=sorted(redfish.BOOT_TARGETS)),
        enabled=dict(type="str", choices=sorted(redfish_module.BOOT_ENABLED), default="once"),
        mode=dict(type="str", choices=sorted(redfish_module.BOOT_MODE)),
        unsupported=dict(type="str", choices=["fail", "boot_order"], default="fail"),
    )
    module = redfish_module.selecting_module(spec)
    with module.guard():
        results = redfish_module.set_boot(module)
    module.exit_actions(results)


if __name__ == "__main__":
    main()
