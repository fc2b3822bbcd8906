# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import csm_node


class Csm:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name,) + args)


def node_state(macs, locked=False, enabled=True):
    return {"bos_enabled": enabled, "cfs_enabled": enabled, "hsm_locked": locked,
            "ethernet_interfaces": [{"ID": m.replace(":", ""), "MACAddress": m, "ComponentID": "x1000c0s0b0n0",
                                     "IPAddresses": []} for m in macs]}


@pytest.mark.parametrize("now, desired, touched", [
    (node_state(["02:00:00:00:00:01"]), node_state([], locked=True, enabled=False), True),   # released
    (node_state([], locked=True, enabled=False), node_state(["02:00:00:00:00:01"]), True),   # handed back
    (node_state(["02:00:00:00:00:01"], enabled=False), node_state(["02:00:00:00:00:01"]), False),  # BOS/CFS only
])
def test_an_interface_change_is_recognised_from_the_actions(now, desired, touched):
    actions = csm_node.apply(Csm(), "x1000c0s0b0n0", now, desired)
    assert csm_node.changed_interfaces(actions) is touched


@pytest.mark.parametrize("changed_at, now, slept", [(100.0, 100.25, 0.75), (100.0, 101.5, None)])
def test_bss_is_asked_once_a_full_second_after_the_last_write(changed_at, now, slept):
    csm, sleeps = Csm(), []
    csm_node.refresh_bss(csm, changed_at, clock=lambda: now, sleep=sleeps.append)
    assert sleeps == ([slept] if slept else [])
    assert csm.calls == [("bss_refresh",)]
