# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layers of design.md, read from the imports: clients know no AnsibleModule, and the inventory plugin
loads no module layer (it used to load AnsibleModule through smd.py -> common.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os

import pytest

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")
# the module layer: the only files that may know AnsibleModule
MODULE_LAYER = {"common", "csm_module", "redfish_module", "discovery", "power",  # discovery: only main(), the glue
                "cluster_module"}
CLIENTS = sorted(f[:-3] for f in os.listdir(os.path.join(PLUGINS, "module_utils"))
                 if f.endswith(".py") and f != "__init__.py" and f[:-3] not in MODULE_LAYER)


def imports(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update("%s.%s" % (node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def module_layer_names(found):
    prefix = "ansible_collections.cscs.openchami.plugins.module_utils."
    return sorted(name for name in found if name.startswith(prefix) and name[len(prefix):].split(".")[0] in MODULE_LAYER
                  or name.startswith("ansible.module_utils.basic"))


@pytest.mark.parametrize("client", CLIENTS)
def test_clients_import_no_module_layer(client):
    assert not module_layer_names(imports(os.path.join(PLUGINS, "module_utils", client + ".py"))), client


def test_inventory_plugin_imports_no_module_layer():
    assert not module_layer_names(imports(os.path.join(PLUGINS, "inventory", "smd.py")))
