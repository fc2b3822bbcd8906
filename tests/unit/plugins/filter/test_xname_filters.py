# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml
from hypothesis import given, strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.cscs.openchami.plugins.filter import xname as xname_filters
from ansible_collections.cscs.openchami.plugins.filter.xname import FilterModule

FILTERS = FilterModule().filters()
FILTER_NAMES = ["xname_parse", "xname_parent", "xname_type", "xname_expand", "nid_alias"]
FILTER_DIR = os.path.dirname(xname_filters.__file__)


def test_filter_names():
    assert sorted(FILTERS) == sorted(FILTER_NAMES)
    assert all(callable(f) for f in FILTERS.values())


# --------------------------------------------------------------------------- xname_parse

def test_xname_parse():
    assert FILTERS["xname_parse"](" X1000C03S07B1N0 ") == {
        "xname": "x1000c3s7b1n0", "type": "Node", "parent": "x1000c3s7b1",
        "cabinet": 1000, "chassis": 3, "slot": 7, "bmc": 1, "node": 0,
    }


def test_xname_parse_list():
    result = FILTERS["xname_parse"](["x1000c0s0b0n0", "d3w1"])
    assert [r["type"] for r in result] == ["Node", "CDUMgmtSwitch"]
    assert [r.get("cabinet") for r in result] == [1000, None]


def test_xname_parse_error():
    with pytest.raises(AnsibleFilterError, match=r"invalid xname 'x1000c9s0': chassis number 9 out of range 0-7"):
        FILTERS["xname_parse"]("x1000c9s0")
    with pytest.raises(AnsibleFilterError, match=r"'x1000q1' does not match any xname form"):
        FILTERS["xname_parse"](["x1000", "x1000q1"])
    with pytest.raises(AnsibleFilterError, match="expected a string"):
        FILTERS["xname_parse"](1000)
    with pytest.raises(AnsibleFilterError, match="expected a string"):
        FILTERS["xname_parse"]({"xname": "x1000"})


# --------------------------------------------------------------------------- xname_parent / xname_type

@pytest.mark.parametrize("value,expected", [
    ("x1000c3s7b1n0", "x1000c3s7b1"),
    ("x1000c3s7b1", "x1000c3s7"),
    ("x1000c3s7", "x1000c3"),
    ("x1000c3", "x1000"),
    ("x1000", "s0"),
    ("d3w1", "d3"),
    ("d3", "s0"),
    ("s0", None),
    ("X3000M0P01", "x3000m0"),
])
def test_xname_parent(value, expected):
    assert FILTERS["xname_parent"](value) == expected


def test_xname_parent_list_and_generator():
    nodes = ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s0b1n0"]
    assert FILTERS["xname_parent"](nodes) == ["x1000c0s0b0", "x1000c0s0b0", "x1000c0s0b1"]
    assert FILTERS["xname_parent"](tuple(nodes)) == ["x1000c0s0b0", "x1000c0s0b0", "x1000c0s0b1"]
    assert FILTERS["xname_parent"](x for x in nodes[:1]) == ["x1000c0s0b0"]
    with pytest.raises(AnsibleFilterError, match="'x1000c0s0b0n0i9'"):
        FILTERS["xname_parent"]("x1000c0s0b0n0i9")


def test_xname_type():
    assert FILTERS["xname_type"]("x1000c0s0b1") == "NodeBMC"
    assert FILTERS["xname_type"](["x1000c0", "x1000c0b0", "x3000c0w14", "x1000d0"]) == [
        "Chassis", "ChassisBMC", "MgmtSwitch", "CabinetCDU"]
    assert FILTERS["xname_type"]([]) == []
    with pytest.raises(AnsibleFilterError, match="'nid000001' does not match any xname form"):
        FILTERS["xname_type"]("nid000001")


# --------------------------------------------------------------------------- xname_expand

def test_xname_expand_string():
    assert FILTERS["xname_expand"]("x1000c[0-1]s0b0n[0-1]") == [
        "x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c1s0b0n0", "x1000c1s0b0n1"]
    assert len(FILTERS["xname_expand"]("x1000c[0-7]s[0-7]b[0-1]n[0-1]")) == 256


def test_xname_expand_list_is_flat_sorted_unique():
    result = FILTERS["xname_expand"](["x3000c0s[19,21]b0", "x1000c0s0b[0-1]", "x1000c0s0b1"])
    assert result == ["x1000c0s0b0", "x1000c0s0b1", "x3000c0s19b0", "x3000c0s21b0"]
    assert FILTERS["xname_expand"](("x1000",)) == ["x1000"]
    assert FILTERS["xname_expand"]([]) == []


@pytest.mark.parametrize("value,fragment", [
    ("x1000c[7-0]", "descending range 7-0"),
    ("x1000c[0-7", "never closed"),
    (["x1000c0", "x1000c[0-8]"], "chassis number 8 out of range 0-7"),
    ("x[0-9999]c[0-7]s[0-7]b[0-1]n[0-1]", "more than 1000000"),
    (None, "expected a string"),
    ({"a": 1}, "expected a string"),
])
def test_xname_expand_errors(value, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS["xname_expand"](value)
    assert fragment in str(err.value)


@given(st.lists(st.sampled_from(["x1000c[0-1]s[0-7]b0n0", "x1000c1s[4-9]b0n0", "x1001c0s0b0n[0-1]", "d[0-3]"]),
                max_size=4))
def test_xname_expand_union(patterns):
    result = FILTERS["xname_expand"](patterns)
    expected = set()
    for pattern in patterns:
        expected.update(FILTERS["xname_expand"](pattern))
    assert set(result) == expected
    assert len(result) == len(expected)


# --------------------------------------------------------------------------- nid_alias

def test_nid_alias():
    assert FILTERS["nid_alias"](1) == "nid000001"
    assert FILTERS["nid_alias"]("17") == "nid000017"
    assert FILTERS["nid_alias"](42, width=3) == "nid042"
    assert FILTERS["nid_alias"]([1, 2, 10], width=0, prefix="node") == ["node1", "node2", "node10"]
    assert FILTERS["nid_alias"]([]) == []


@pytest.mark.parametrize("value,kwargs,fragment", [
    (-1, {}, "invalid NID -1: must not be negative"),
    ([1, -2], {}, "invalid NID -2"),
    (1.5, {}, "invalid NID 1.5"),
    ("x", {}, "invalid NID 'x'"),
    (None, {}, "invalid NID None"),
    (1, {"width": -3}, "width -3"),
])
def test_nid_alias_errors(value, kwargs, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS["nid_alias"](value, **kwargs)
    assert fragment in str(err.value)


@given(st.lists(st.integers(min_value=0, max_value=999999), max_size=20))
def test_nid_alias_list_property(nids):
    aliases = FILTERS["nid_alias"](nids)
    assert [int(a[3:]) for a in aliases] == nids
    assert all(len(a) == 9 and a.startswith("nid") for a in aliases)


# --------------------------------------------------------------------------- documentation files

@pytest.mark.parametrize("name", FILTER_NAMES)
def test_filter_documentation(name):
    with open(os.path.join(FILTER_DIR, name + ".yml")) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    documentation = doc["DOCUMENTATION"]
    assert documentation["name"] == name
    assert str(documentation["version_added"]) == "0.1.0"
    assert documentation["short_description"]
    assert documentation["description"]
    assert documentation["positional"] == "_input"
    assert "_input" in documentation["options"]
    assert "cscs.openchami." + name in doc["EXAMPLES"]
    yaml.safe_load(doc["EXAMPLES"])
    assert "_value" in doc["RETURN"]
