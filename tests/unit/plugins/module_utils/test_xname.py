# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast

import pytest
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.cscs.openchami.plugins.module_utils import xname as X
from ansible_collections.cscs.openchami.plugins.module_utils.xname import (
    MAX_EXPANSION, TYPES, XnameError, ancestors, expand, format_xname, is_valid, natural_key,
    nid_alias, normalize, parent, parse, xname_type)

HARDWARE_TYPES = [name for name in TYPES if name != "System"]
UNBOUNDED_SPAN = 100000


# --------------------------------------------------------------------------- strategies

def _number(seg):
    hi = seg.hi if seg.hi is not None else seg.lo + UNBOUNDED_SPAN
    return st.integers(min_value=seg.lo, max_value=hi)


@st.composite
def typed_fields(draw, types=None):
    """(type name, fields dict) for a valid xname of a random (or given) hardware type."""
    name = draw(st.sampled_from(types or HARDWARE_TYPES))
    fields = dict((seg.field, draw(_number(seg))) for seg in TYPES[name].segments)
    return name, fields


@st.composite
def messy_spelling(draw, name, fields):
    """Spell the xname of (name, fields) with random case, leading zeros and surrounding whitespace."""
    out = []
    for seg in TYPES[name].segments:
        letter = seg.letter.upper() if draw(st.booleans()) else seg.letter
        zeros = "0" * draw(st.integers(min_value=0, max_value=3))
        out.append("%s%s%d" % (letter, zeros, fields[seg.field]))
    space = st.sampled_from(["", " ", "  ", "\t", "\n", " \t "])
    return draw(space) + "".join(out) + draw(space)


def _spell(name, fields):
    return "".join("%s%d" % (seg.letter, fields[seg.field]) for seg in TYPES[name].segments)


# --------------------------------------------------------------------------- table

def test_table_is_consistent():
    for name, xtype in TYPES.items():
        assert xtype.name == name
        assert xtype.parent is None or xtype.parent in TYPES, name
        # the form lists the segment letters in order
        assert "".join(c for c in xtype.form if c.islower()) == xtype.letters
        if xtype.parent not in (None, "System"):
            # the parent's segments are this type's segments minus the last one
            assert TYPES[xtype.parent].letters == xtype.letters[:-1], name
    assert {"Node", "NodeBMC", "ChassisBMC", "ComputeModule", "Chassis", "Cabinet", "NodeNic", "NodeHsnNic",
            "RouterBMC", "RouterModule", "MgmtSwitch", "MgmtHLSwitch", "MgmtHLSwitchEnclosure", "CDU",
            "CDUMgmtSwitch", "CabinetCDU", "CabinetPDUController", "CabinetPDU", "CabinetPDUOutlet",
            "CabinetPDUPowerConnector", "NodeBMCNic", "NodeEnclosure", "VirtualNode"} <= set(TYPES)


@pytest.mark.parametrize("value,expected", [
    ("x1000", "Cabinet"),
    ("x9999", "Cabinet"),
    ("x0", "Cabinet"),
    ("x1000c7", "Chassis"),
    ("x1000c0b0", "ChassisBMC"),
    ("x1000c0s7", "ComputeModule"),
    ("x3000c0s64", "ComputeModule"),
    ("x1000c0s7b1", "NodeBMC"),
    ("x1000c0s7b1i3", "NodeBMCNic"),
    ("x1000c0s7e0", "NodeEnclosure"),
    ("x1000c3s7b1n0", "Node"),
    ("x1000c3s7b1n0i1", "NodeNic"),
    ("x1000c3s7b1n0h3", "NodeHsnNic"),
    ("x1000c3s7b1n0v12", "VirtualNode"),
    ("x1000c3r4", "RouterModule"),
    ("x1000c3r4b0", "RouterBMC"),
    ("x3000c0w14", "MgmtSwitch"),
    ("x3000c0h33", "MgmtHLSwitchEnclosure"),
    ("x3000c0h33s1", "MgmtHLSwitch"),
    ("d3", "CDU"),
    ("d0w0", "CDUMgmtSwitch"),
    ("d3w1", "CDUMgmtSwitch"),
    ("x1000d1", "CabinetCDU"),
    ("x3000m3", "CabinetPDUController"),
    ("x3000m0p7", "CabinetPDU"),
    ("x3000m0p1j32", "CabinetPDUOutlet"),
    ("x3000m0p1v1", "CabinetPDUPowerConnector"),
    ("s0", "System"),
])
def test_types(value, expected):
    assert xname_type(value) == expected
    assert parse(value)["type"] == expected
    assert is_valid(value)


def test_parse_node():
    assert parse("x1000c3s7b1n0") == {
        "xname": "x1000c3s7b1n0", "type": "Node", "parent": "x1000c3s7b1",
        "cabinet": 1000, "chassis": 3, "slot": 7, "bmc": 1, "node": 0,
    }


@pytest.mark.parametrize("value,fields", [
    ("d3w1", {"cdu": 3, "slot": 1}),
    ("x1000c3r4b0", {"cabinet": 1000, "chassis": 3, "slot": 4, "bmc": 0}),
    ("x3000c0h33s2", {"cabinet": 3000, "chassis": 0, "slot": 33, "space": 2}),
    ("x3000m1p2j3", {"cabinet": 3000, "pdu_controller": 1, "pdu": 2, "outlet": 3}),
    ("x3000m1p2v4", {"cabinet": 3000, "pdu_controller": 1, "pdu": 2, "power_connector": 4}),
    ("x1000c0s1e0", {"cabinet": 1000, "chassis": 0, "slot": 1, "enclosure": 0}),
    ("x1000c0s1b0n1v3", {"cabinet": 1000, "chassis": 0, "slot": 1, "bmc": 0, "node": 1, "virtual_node": 3}),
    ("x1000c0s1b0n1h2", {"cabinet": 1000, "chassis": 0, "slot": 1, "bmc": 0, "node": 1, "nic": 2}),
    ("x1000d1", {"cabinet": 1000, "cdu": 1}),
])
def test_parse_fields(value, fields):
    result = parse(value)
    for key, number in fields.items():
        assert result[key] == number
    assert set(result) == set(fields) | {"xname", "type", "parent"}


def test_parse_system():
    assert parse("s0") == {"xname": "s0", "type": "System", "parent": None}
    assert parent("s0") is None
    assert ancestors("s0") == []


# --------------------------------------------------------------------------- normalisation

@pytest.mark.parametrize("value,expected", [
    (" X1000C01S07B0N0 ", "x1000c1s7b0n0"),
    ("x01000c00s00b00n00", "x1000c0s0b0n0"),
    ("X0", "x0"),
    ("x000", "x0"),
    ("\tD03W01\n", "d3w1"),
    ("x3000M0P01J010", "x3000m0p1j10"),
    ("S00", "s0"),
    ("x00009999", "x9999"),
])
def test_normalize_examples(value, expected):
    assert normalize(value) == expected
    assert normalize(expected) == expected


@given(typed_fields().flatmap(lambda tf: st.tuples(st.just(tf), messy_spelling(*tf))))
def test_messy_spellings_normalise(case):
    (name, fields), messy = case
    expected = format_xname(name, **fields)
    assert normalize(messy) == expected
    assert parse(messy) == parse(expected)
    assert xname_type(messy) == name


# --------------------------------------------------------------------------- round trips

@given(typed_fields())
def test_format_parse_round_trip(case):
    name, fields = case
    xname = format_xname(name, **fields)
    assert xname == _spell(name, fields)
    result = parse(xname)
    assert result["xname"] == xname
    assert result["type"] == name
    assert dict((k, v) for k, v in result.items() if k not in ("xname", "type", "parent")) == fields
    assert format_xname(**result) == xname
    assert normalize(xname) == xname
    assert normalize(normalize(xname)) == normalize(xname)
    assert is_valid(xname)


@given(typed_fields())
def test_parent_type_matches_table(case):
    name, fields = case
    xname = format_xname(name, **fields)
    up = parent(xname)
    assert parse(xname)["parent"] == up
    if TYPES[name].parent == "System":
        assert up == "s0"
        assert ancestors(xname) == []
    else:
        assert xname_type(up) == TYPES[name].parent
        assert xname.startswith(up)
        chain = ancestors(xname)
        assert chain[0] == up
        child = xname
        for step in chain:
            assert xname_type(step) == TYPES[xname_type(child)].parent
            child = step
        assert xname_type(chain[-1]) in ("Cabinet", "CDU")
        assert parent(chain[-1]) == "s0"


@given(typed_fields(["Node"]))
def test_node_chain_ends_at_cabinet(case):
    _name, f = case
    node = format_xname("Node", **f)
    chain = ancestors(node)
    assert [xname_type(x) for x in chain] == ["NodeBMC", "ComputeModule", "Chassis", "Cabinet"]
    assert chain == [
        "x%dc%ds%db%d" % (f["cabinet"], f["chassis"], f["slot"], f["bmc"]),
        "x%dc%ds%d" % (f["cabinet"], f["chassis"], f["slot"]),
        "x%dc%d" % (f["cabinet"], f["chassis"]),
        "x%d" % f["cabinet"],
    ]


@pytest.mark.parametrize("value,chain", [
    ("x1000c3s7b1n0", ["x1000c3s7b1", "x1000c3s7", "x1000c3", "x1000"]),
    ("x1000c3s7b1n0i1", ["x1000c3s7b1n0", "x1000c3s7b1", "x1000c3s7", "x1000c3", "x1000"]),
    ("x1000c3r4b0", ["x1000c3r4", "x1000c3", "x1000"]),
    ("x1000c3b0", ["x1000c3", "x1000"]),
    ("x3000m0p1", ["x3000m0", "x3000"]),
    ("d3w1", ["d3"]),
    ("x1000", []),
    ("d3", []),
    (" X1000C03S07B1N00 ", ["x1000c3s7b1", "x1000c3s7", "x1000c3", "x1000"]),
])
def test_reference_parent_chains(value, chain):
    assert ancestors(value) == chain
    assert parent(value) == (chain[0] if chain else "s0")


# --------------------------------------------------------------------------- invalid xnames

@pytest.mark.parametrize("value,fragment", [
    ("x1000c9s0", "chassis number 9 out of range 0-7"),
    ("x10000", "cabinet number 10000 out of range 0-9999"),
    ("x1000c0b1", "chassis BMC number 1 must be 0"),
    ("x1000c0s0b0i4", "BMC NIC number 4 out of range 0-3"),
    ("x1000c0s0b0n0i4", "node NIC number 4 out of range 0-3"),
    ("x1000c0s0b0n0h4", "HSN NIC number 4 out of range 0-3"),
    ("x1000d2", "cabinet CDU number 2 out of range 0-1"),
    ("x3000m4", "PDU controller number 4 out of range 0-3"),
    ("x3000m0p8", "PDU number 8 out of range 0-7"),
    ("x3000c0w0", "management switch number 0 must be 1 or more"),
    ("x3000c0h0", "must be 1 or more"),
    ("x3000c0h1s0", "out of range 1-9"),
    ("x3000c0h1s10", "out of range 1-9"),
    ("x3000m0p0j0", "PDU outlet number 0 must be 1 or more"),
    ("x3000m0p0v0", "PDU power connector number 0 must be 1 or more"),
    ("s1", "system number 1 must be 0"),
])
def test_range_errors(value, fragment):
    with pytest.raises(XnameError) as err:
        parse(value)
    assert fragment in str(err.value)
    assert repr(value) in str(err.value)
    assert not is_valid(value)


@pytest.mark.parametrize("value", [
    "x1000q1", "", "   ", "x", "1000", "c0", "x1000c", "x1000c0s", "xx1000", "x-1", "x1.5",
    "x1000c0s0b0n0n0", "x1000 c0", "x1000_c0", "x1000c0s0b0n0i", "nid000001", "all", "x1000c0b0n0",
    "x1000c0s0e0n0", "d1d1", "x1000w1", "x1000c0s0b0n0\x00", "x１０００", "x1000c0s0b0n0-nmn",
])
def test_no_match(value):
    with pytest.raises(XnameError) as err:
        normalize(value)
    assert repr(value) in str(err.value)
    assert not is_valid(value)


def test_no_match_message():
    with pytest.raises(XnameError, match=r"^'x1000q1' does not match any xname form$"):
        parse("x1000q1")


@pytest.mark.parametrize("value", [None, 1000, 10.0, b"x1000", ["x1000"], {"xname": "x1000"}, True])
def test_non_strings(value):
    with pytest.raises(XnameError, match="expected a string"):
        parse(value)
    assert not is_valid(value)


@given(typed_fields().filter(lambda tf: any(s.hi is not None for s in TYPES[tf[0]].segments)),
       st.data())
def test_out_of_range_segment_raises(case, data):
    name, fields = case
    bounded = [s for s in TYPES[name].segments if s.hi is not None]
    seg = data.draw(st.sampled_from(bounded))
    fields[seg.field] = data.draw(st.integers(min_value=seg.hi + 1, max_value=seg.hi + 10 ** 6))
    bad = _spell(name, fields)
    with pytest.raises(XnameError) as err:
        normalize(bad)
    assert repr(bad) in str(err.value)
    assert "%s number %d" % (seg.label, fields[seg.field]) in str(err.value)
    with pytest.raises(XnameError):
        format_xname(name, **fields)


@settings(max_examples=300)
@given(st.text(alphabet="xcsbnihvrwdmpjeXCS0123456789 -[]", max_size=16) | st.text(max_size=12))
def test_arbitrary_text_is_valid_or_raises_xname_error(value):
    try:
        result = parse(value)
    except XnameError as exc:
        assert repr(value) in str(exc)
        assert not is_valid(value)
    else:
        assert is_valid(value)
        assert parse(result["xname"]) == result


# --------------------------------------------------------------------------- format_xname

def test_format_xname_examples():
    assert format_xname("Node", cabinet=1000, chassis=0, slot=7, bmc=1, node=0) == "x1000c0s7b1n0"
    assert format_xname("node", cabinet="01000", chassis=0, slot=" 7", bmc=1, node=0) == "x1000c0s7b1n0"
    assert format_xname("CDUMgmtSwitch", cdu=3, slot=1) == "d3w1"
    assert format_xname("System") == "s0"
    assert format_xname(**parse("x3000m0p1j2")) == "x3000m0p1j2"


@pytest.mark.parametrize("args,kwargs,fragment", [
    (("Blade",), {"cabinet": 1}, "unknown xname type 'Blade'"),
    ((None,), {}, "unknown xname type None"),
    (("Node",), {"cabinet": 1000, "chassis": 0, "slot": 0, "bmc": 0}, "missing node"),
    (("Chassis",), {"cabinet": 1000, "chassis": 0, "slot": 0}, "unexpected slot"),
    (("Chassis",), {"cabinet": 1000, "chassis": 8}, "chassis number 8 out of range 0-7"),
    (("Chassis",), {"cabinet": -1, "chassis": 0}, "cabinet=-1: must not be negative"),
    (("Chassis",), {"cabinet": True, "chassis": 0}, "cabinet=True: expected an integer"),
    (("Chassis",), {"cabinet": 1.0, "chassis": 0}, "expected a non-negative integer"),
    (("Chassis",), {"cabinet": "1e3", "chassis": 0}, "expected a non-negative integer"),
    (("System",), {"cabinet": 1}, "unexpected cabinet"),
])
def test_format_xname_errors(args, kwargs, fragment):
    with pytest.raises(XnameError) as err:
        format_xname(*args, **kwargs)
    assert fragment in str(err.value)


# --------------------------------------------------------------------------- expand

@pytest.mark.parametrize("pattern,count", [
    ("x1000c[0-7]s[0-7]b[0-1]n[0-1]", 256),
    ("x[1000,1002]c0s[0-3,6]b0n0", 10),
    ("x1000c0s0b0n0", 1),
    ("x1000c[0-7]", 8),
    ("x[1000-1003]", 4),
    ("d[0-9]w[0-31]", 320),
    ("x3000m[0-3]p[0-7]j[1-32]", 1024),
    ("x1000c0s[0-1,0-1,1]b0", 2),
    ("x1000c0s[00-03]b0", 4),
    ("x100[0-3]", 4),
    ("  X1000C[0 - 1, 3]S0 ", 3),
])
def test_expand_counts(pattern, count):
    result = expand(pattern)
    assert len(result) == count
    assert len(set(result)) == count
    assert all(normalize(x) == x for x in result)


def test_expand_values_and_order():
    assert expand("x[1000,1002]c0s[0-3,6]b0n0") == [
        "x1000c0s0b0n0", "x1000c0s1b0n0", "x1000c0s2b0n0", "x1000c0s3b0n0", "x1000c0s6b0n0",
        "x1002c0s0b0n0", "x1002c0s1b0n0", "x1002c0s2b0n0", "x1002c0s3b0n0", "x1002c0s6b0n0",
    ]
    assert expand("x1000c0s[10,2,1,01]b0n[1,0]") == [
        "x1000c0s1b0n0", "x1000c0s1b0n1", "x1000c0s2b0n0", "x1000c0s2b0n1", "x1000c0s10b0n0", "x1000c0s10b0n1",
    ]
    assert expand(["x1001", "x1000c[0-1]", "s0", "d[1-2]", "x1000", "x1000c0s[1,10,2]"]) == [
        "d1", "d2", "s0", "x1000", "x1000c0", "x1000c0s1", "x1000c0s2", "x1000c0s10", "x1000c1", "x1001",
    ]
    assert expand([]) == []


@given(st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=4),
       st.integers(min_value=0, max_value=7), st.integers(min_value=0, max_value=7),
       st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=5))
def test_expand_matches_product(slots, c_lo, c_hi, n_lo, n_span):
    assume(c_lo <= c_hi)
    pattern = "x1000c[%d-%d]s[%s]b0n[%d-%d]" % (c_lo, c_hi, ",".join(map(str, slots)), n_lo, n_lo + n_span)
    result = expand(pattern)
    assert len(result) == (c_hi - c_lo + 1) * len(set(slots)) * (n_span + 1)
    assert result == sorted(result, key=natural_key)
    assert result == sorted(result, key=lambda x: tuple(parse(x)[k] for k in ("chassis", "slot", "node")))
    assert all(xname_type(x) == "Node" for x in result)


@pytest.mark.parametrize("pattern,fragment", [
    ("x1000c[7-0]", "descending range 7-0"),
    ("x1000c[0-1", "'[' at position 6 is never closed"),
    ("x1000c0-1]", "']' at position 9 without '['"),
    ("x1000c[0-[1-2]]", "nested '['"),
    ("x1000c[]", "bad range item ''"),
    ("x1000c[0,]", "bad range item ''"),
    ("x1000c[a-b]", "bad range item 'a-b'"),
    ("x1000c[-1]", "bad range item '-1'"),
    ("x1000c[0-1-2]", "bad range item '0-1-2'"),
    ("x1000c[0-8]", "invalid xname 'x1000c8': chassis number 8 out of range 0-7"),
    ("x1000q[0-1]", "'x1000q0' does not match any xname form"),
    ("x1000q1", "'x1000q1' does not match any xname form"),
])
def test_expand_errors(pattern, fragment):
    with pytest.raises(XnameError) as err:
        expand(pattern)
    assert fragment in str(err.value)
    assert repr(pattern) in str(err.value)


def test_expand_rejects_huge_expansions_before_enumerating_them():
    # 10^20 names: only a count made before enumerating can answer this one
    with pytest.raises(XnameError, match="more than 1000000"):
        expand("x[0-9999]c[0-7]s[0-7]b[0-1]n[0-1]")
    with pytest.raises(XnameError, match="more than 1000000"):
        expand("x[0-99999999999999999999]")
    with pytest.raises(XnameError, match="more than 1000000"):
        expand(["x1000c[0-7]s[0-999]b[0-1]n[0-1]"] * 40)
    assert MAX_EXPANSION == 1000000


def test_expand_rejects_non_strings():
    with pytest.raises(XnameError, match="expected a string"):
        expand(None)
    with pytest.raises(XnameError, match="expected a string"):
        expand(["x1000", 3])


def test_natural_key():
    assert sorted(["n10", "n2", "n1", "m3"], key=natural_key) == ["m3", "n1", "n2", "n10"]


# --------------------------------------------------------------------------- NIDs

@pytest.mark.parametrize("args,kwargs,expected", [
    ((1,), {}, "nid000001"),
    ((0,), {}, "nid000000"),
    ((123456,), {}, "nid123456"),
    ((1234567,), {}, "nid1234567"),
    (("42",), {}, "nid000042"),
    ((" 7 ",), {}, "nid000007"),
    ((1,), {"width": 3}, "nid001"),
    ((17,), {"width": 0}, "nid17"),
    ((5,), {"prefix": "node"}, "node000005"),
    ((5,), {"prefix": "", "width": 2}, "05"),
])
def test_nid_alias(args, kwargs, expected):
    assert nid_alias(*args, **kwargs) == expected


@pytest.mark.parametrize("args,kwargs,fragment", [
    ((-1,), {}, "invalid NID -1: must not be negative"),
    (("-1",), {}, "invalid NID '-1'"),
    ((1.5,), {}, "invalid NID 1.5 (float)"),
    ((1.0,), {}, "invalid NID 1.0 (float)"),
    ((True,), {}, "invalid NID True (bool)"),
    ((None,), {}, "invalid NID None"),
    (("abc",), {}, "invalid NID 'abc'"),
    (("",), {}, "invalid NID ''"),
    (("\u00b2",), {}, "invalid NID"),
    ((1,), {"width": -1}, "width -1"),
    ((1,), {"width": "6"}, "width '6'"),
    ((1,), {"prefix": None}, "prefix None"),
])
def test_nid_alias_errors(args, kwargs, fragment):
    with pytest.raises(XnameError) as err:
        nid_alias(*args, **kwargs)
    assert fragment in str(err.value)


@given(st.integers(min_value=0, max_value=10 ** 9), st.integers(min_value=0, max_value=12),
       st.text(alphabet="abcnid-", max_size=5))
def test_nid_alias_property(nid, width, prefix):
    alias = nid_alias(nid, width=width, prefix=prefix)
    assert alias.startswith(prefix)
    digits = alias[len(prefix):]
    assert int(digits) == nid
    assert len(digits) == max(width, len(str(nid)))


# --------------------------------------------------------------------------- module_utils hygiene and speed

def _source():
    with open(X.__file__.replace(".pyc", ".py")) as handle:
        return handle.read()


def test_source_is_python38_stdlib_only():
    source = _source()
    assert source.startswith("# -*- coding: utf-8 -*-\n# Copyright (c) 2026 CSCS\n"
                             "# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)\n")
    tree = ast.parse(source, feature_version=(3, 8))
    imported = set()
    for node in ast.walk(tree):
        assert not isinstance(node, getattr(ast, "Match", ()))
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            imported.add(node.module.split(".")[0])
    assert imported <= {"collections", "itertools", "re"}
