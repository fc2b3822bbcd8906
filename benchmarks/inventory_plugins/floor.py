# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floor of benchmarks/inventory.py: an inventory plugin that only hands ansible-core a ready inventory.

Its source (``*.floor.json``) is the ``ansible-inventory --list --export`` output of another source: the same
groups, hosts and variables, added with the same calls a real plugin makes (add_group, add_host, add_child,
set_variable) and nothing else, so what it costs is ansible-core's own cost for that inventory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: floor
short_description: ansible-core's own cost of an inventory (benchmarks only)
description: Adds the groups, hosts and variables of an C(ansible-inventory --list --export) dump.
"""

import json

from ansible.plugins.inventory import BaseInventoryPlugin


def plain(obj):
    """json object hook dropping ansible-core's ``{"__ansible_unsafe": X}`` wrapping."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


class InventoryModule(BaseInventoryPlugin):

    NAME = "floor"

    def verify_file(self, path):
        return path.endswith(".floor.json")

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        with open(path) as handle:
            listing = json.load(handle, object_hook=plain)
        hostvars = listing.pop("_meta", {}).get("hostvars", {})
        for name in listing:
            self.inventory.add_group(name)
        for name, group in listing.items():
            for key, value in (group.get("vars") or {}).items():
                self.inventory.set_variable(name, key, value)
            for child in group.get("children") or []:
                self.inventory.add_child(name, child)
            for host in group.get("hosts") or []:
                self.inventory.add_host(host, group=name)
        for host, variables in hostvars.items():
            self.inventory.add_host(host)
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
