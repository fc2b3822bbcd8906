# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No module re-defines an option that one of its doc fragments already defines.

An option defined twice is silently replaced by the module's own: redfish_power's ``timeout`` (wait for the
power state, 300 s) replaced the connection's ``timeout`` (seconds per HTTP answer), so every SMD request and
the token fetch waited up to 300 s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import os

import pytest
import yaml

MODULES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")


def _documentation(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no DOCUMENTATION" % path)


def _fragment_options(name):
    parts = name.split(".")
    if parts[:2] != ["cscs", "openchami"]:
        return {}
    fragment, variable = parts[2], (parts[3].upper() if len(parts) > 3 else "DOCUMENTATION")
    module = importlib.import_module("ansible_collections.cscs.openchami.plugins.doc_fragments." + fragment)
    return (yaml.safe_load(getattr(module.ModuleDocFragment, variable)) or {}).get("options") or {}


@pytest.mark.parametrize("filename", sorted(f for f in os.listdir(MODULES) if f.endswith(".py") and f != "__init__.py"))
def test_module_options_do_not_shadow_fragment_options(filename):
    doc = _documentation(os.path.join(MODULES, filename))
    own = set(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment") or []:
        shadowed = own & set(_fragment_options(fragment))
        assert not shadowed, "%s re-defines %s of fragment %s" % (filename, sorted(shadowed), fragment)


def test_every_module_with_connection_options_is_in_the_openchami_action_group():
    """So that one module_defaults block (group/cscs.openchami.openchami) sets the connection for all of them."""
    with open(os.path.join(MODULES, "..", "..", "meta", "runtime.yml")) as handle:
        groups = yaml.safe_load(handle)["action_groups"]
    missing = []
    for filename in sorted(os.listdir(MODULES)):
        if filename.endswith(".py") and filename != "__init__.py":
            fragments = _documentation(os.path.join(MODULES, filename)).get("extends_documentation_fragment") or []
            if "cscs.openchami.connection" in fragments and filename[:-3] not in groups["openchami"]:
                missing.append(filename[:-3])
    assert not missing, "not in action group openchami: %s" % ", ".join(missing)


def test_node_selector_fragment_and_argument_spec_agree():
    from ansible_collections.cscs.openchami.plugins.module_utils.common import node_selector_options
    doc = _fragment_options("cscs.openchami.nodes")
    spec = node_selector_options()
    assert sorted(doc) == sorted(spec)
    for name, option in doc.items():
        for key in ("type", "elements", "aliases"):
            assert option.get(key) == spec[name].get(key), (name, key)


def test_backend_fragments_list_the_backends_the_clients_know():
    from ansible_collections.cscs.openchami.plugins.module_utils import boot, cloudinit
    assert _fragment_options("cscs.openchami.backend")["backend"]["choices"] == list(cloudinit.BACKENDS)
    assert _fragment_options("cscs.openchami.backend.boot")["backend"]["choices"] == list(boot.BACKENDS)


def _spec_of(options):
    """A documented option tree in the argument spec's terms (what ansible-test's validate-modules compares)."""
    out = {}
    for name, doc in options.items():
        entry = dict((k, doc[k]) for k in ("type", "elements", "choices", "default", "required") if k in doc)
        if "suboptions" in doc:
            entry["options"] = _spec_of(doc["suboptions"])
        out[name] = entry
    return out


@pytest.mark.parametrize("kind", ["GROUPS", "PARTITIONS"])
def test_smd_set_fragment_documents_the_options_smd_group_and_smd_partition_take(kind):
    from ansible_collections.cscs.openchami.plugins.module_utils import common, smd
    documented = _fragment_options("cscs.openchami.smd_set." + kind.lower())
    documented.update(_fragment_options("cscs.openchami.nodes.src"))
    spec = common.set_argument_spec(getattr(smd, kind))
    for entry in spec.values():  # what the spec says only for itself
        for option in (entry.get("options") or {}).values():
            option.pop("no_log", None)
            option.pop("aliases", None)
    assert _spec_of(documented) == spec


@pytest.mark.parametrize("kind", ["GROUPS", "PARTITIONS"])
def test_smd_set_fragment_passes_the_yamllint_rules_of_ansible_test(kind):
    """The fragment's texts are made from one template, where ansible-test's own yamllint does not read them."""
    from yamllint import config, linter
    from ansible_collections.cscs.openchami.plugins.doc_fragments import smd_set
    rules = config.YamlLintConfig("extends: default\nrules: {key-duplicates: enable, new-lines: {type: unix}, "
                                  "document-start: disable, line-length: disable, indentation: disable, "
                                  "trailing-spaces: disable, empty-lines: disable, truthy: disable, "
                                  "comments: disable, new-line-at-end-of-file: disable}")
    text = getattr(smd_set.ModuleDocFragment, kind)
    assert [str(p) for p in linter.run(text, rules)] == []
    assert yaml.safe_load(text)["options"]
