# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HPE/Cray xnames: recognition, normalisation, parents, range expansion and NID aliases.

The grammar follows the HMS recognition table (Cray-HPE/hms-xname ``xnametypes``):
an xname is a chain of ``<letter><number>`` segments whose letters select the
HMS type and whose numbers are range-checked per segment.  Only normalised
xnames (trimmed, lower-case, no leading zeros) should ever be compared.

Field names returned by :func:`parse` and accepted by :func:`format_xname`:

================================  ==========================================
``xX``                            ``cabinet``
``cC``                            ``chassis``
``sS`` (ComputeModule)            ``slot``
``bB`` (ChassisBMC, NodeBMC,      ``bmc``
RouterBMC)
``eE`` (NodeEnclosure)            ``enclosure``
``nN``                            ``node``
``iI`` / ``hH`` (NICs)            ``nic``
``vV`` (VirtualNode)              ``virtual_node``
``rR`` / ``wW`` / ``hH``          ``slot`` (router module, management switch,
(switch enclosure)                high-speed switch enclosure; the bottom U)
``sS`` (MgmtHLSwitch)             ``space``
``dD`` (CDU, CabinetCDU)          ``cdu``
``wW`` (CDUMgmtSwitch)            ``slot``
``mM``                            ``pdu_controller``
``pP``                            ``pdu``
``jJ``                            ``outlet``
``vV`` (power connector)          ``power_connector``
================================  ==========================================
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import itertools
import re

__all__ = [
    "XnameError", "XnameType", "TYPES", "MAX_EXPANSION",
    "normalize", "is_valid", "parse", "format_xname", "parent", "ancestors", "xname_type",
    "expand", "natural_key", "nid_alias",
]

#: Upper bound on the number of xnames a single :func:`expand` call may produce.
MAX_EXPANSION = 1000000


class XnameError(ValueError):
    """An invalid xname, xname pattern or NID."""


# One segment of an xname: its letter, the field name it fills, a human label for
# error messages, and the inclusive numeric range (hi=None means unbounded).
Segment = collections.namedtuple("Segment", "letter field label lo hi")

#: One row of the recognition table.  ``segments`` covers the whole xname, from the
#: cabinet (or CDU) down; ``parent`` is the HMS type of the parent ("System" for the
#: top-level cabinet and CDU, None for the system itself).
XnameType = collections.namedtuple("XnameType", "name form parent segments regex letters")

_CABINET = Segment("x", "cabinet", "cabinet", 0, 9999)
_CHASSIS = Segment("c", "chassis", "chassis", 0, 7)
_SLOT = Segment("s", "slot", "slot", 0, None)
_NODE_BMC = Segment("b", "bmc", "node BMC", 0, None)
_NODE = Segment("n", "node", "node", 0, None)
_ROUTER = Segment("r", "slot", "router module", 0, None)
_HL_ENCLOSURE = Segment("h", "slot", "high-speed switch enclosure", 1, None)
_CDU = Segment("d", "cdu", "CDU", 0, None)
_PDU_CONTROLLER = Segment("m", "pdu_controller", "PDU controller", 0, 3)
_PDU = Segment("p", "pdu", "PDU", 0, 7)

_TABLE = (
    # name, form, parent type, segments
    ("System", "s0", None, (Segment("s", "system", "system", 0, 0),)),
    ("Cabinet", "xX", "System", (_CABINET,)),
    ("Chassis", "xXcC", "Cabinet", (_CABINET, _CHASSIS)),
    ("ChassisBMC", "xXcCbB", "Chassis", (_CABINET, _CHASSIS, Segment("b", "bmc", "chassis BMC", 0, 0))),
    ("ComputeModule", "xXcCsS", "Chassis", (_CABINET, _CHASSIS, _SLOT)),
    ("NodeBMC", "xXcCsSbB", "ComputeModule", (_CABINET, _CHASSIS, _SLOT, _NODE_BMC)),
    ("NodeBMCNic", "xXcCsSbBiI", "NodeBMC",
     (_CABINET, _CHASSIS, _SLOT, _NODE_BMC, Segment("i", "nic", "BMC NIC", 0, 3))),
    ("NodeEnclosure", "xXcCsSeE", "ComputeModule",
     (_CABINET, _CHASSIS, _SLOT, Segment("e", "enclosure", "node enclosure", 0, None))),
    ("Node", "xXcCsSbBnN", "NodeBMC", (_CABINET, _CHASSIS, _SLOT, _NODE_BMC, _NODE)),
    ("NodeNic", "xXcCsSbBnNiI", "Node",
     (_CABINET, _CHASSIS, _SLOT, _NODE_BMC, _NODE, Segment("i", "nic", "node NIC", 0, 3))),
    ("NodeHsnNic", "xXcCsSbBnNhH", "Node",
     (_CABINET, _CHASSIS, _SLOT, _NODE_BMC, _NODE, Segment("h", "nic", "HSN NIC", 0, 3))),
    ("VirtualNode", "xXcCsSbBnNvV", "Node",
     (_CABINET, _CHASSIS, _SLOT, _NODE_BMC, _NODE, Segment("v", "virtual_node", "virtual node", 0, None))),
    ("RouterModule", "xXcCrR", "Chassis", (_CABINET, _CHASSIS, _ROUTER)),
    ("RouterBMC", "xXcCrRbB", "RouterModule",
     (_CABINET, _CHASSIS, _ROUTER, Segment("b", "bmc", "router BMC", 0, None))),
    ("MgmtSwitch", "xXcCwW", "Chassis",
     (_CABINET, _CHASSIS, Segment("w", "slot", "management switch", 1, None))),
    ("MgmtHLSwitchEnclosure", "xXcChH", "Chassis", (_CABINET, _CHASSIS, _HL_ENCLOSURE)),
    ("MgmtHLSwitch", "xXcChHsS", "MgmtHLSwitchEnclosure",
     (_CABINET, _CHASSIS, _HL_ENCLOSURE, Segment("s", "space", "high-speed switch space", 1, 9))),
    ("CDU", "dD", "System", (_CDU,)),
    ("CDUMgmtSwitch", "dDwW", "CDU", (_CDU, Segment("w", "slot", "CDU management switch", 0, None))),
    ("CabinetCDU", "xXdD", "Cabinet", (_CABINET, Segment("d", "cdu", "cabinet CDU", 0, 1))),
    ("CabinetPDUController", "xXmM", "Cabinet", (_CABINET, _PDU_CONTROLLER)),
    ("CabinetPDU", "xXmMpP", "CabinetPDUController", (_CABINET, _PDU_CONTROLLER, _PDU)),
    ("CabinetPDUOutlet", "xXmMpPjJ", "CabinetPDU",
     (_CABINET, _PDU_CONTROLLER, _PDU, Segment("j", "outlet", "PDU outlet", 1, None))),
    ("CabinetPDUPowerConnector", "xXmMpPvV", "CabinetPDU",
     (_CABINET, _PDU_CONTROLLER, _PDU, Segment("v", "power_connector", "PDU power connector", 1, None))),
)


def _number_regex(seg):
    """The regex for one normalised (no leading zeros) number in [lo, hi]."""
    lo, hi = seg.lo, seg.hi
    if hi is None:
        if lo == 0:
            return "([0-9]+)"
        if lo == 1:
            return "([1-9][0-9]*)"
    elif hi <= 9:
        return "([%d-%d])" % (lo, hi)
    elif lo == 0 and hi == 9999:
        return "([0-9]{1,4})"
    raise AssertionError("no regex for range %r" % (seg,))  # pragma: no cover


def _build_types():
    types = collections.OrderedDict()
    by_letters = {}
    for name, form, parent_type, segments in _TABLE:
        regex = re.compile("".join(s.letter + _number_regex(s) for s in segments) + r"\Z")
        letters = "".join(s.letter for s in segments)
        if letters in by_letters:
            raise AssertionError("two xname types share the letters %s" % letters)
        types[name] = by_letters[letters] = XnameType(name, form, parent_type, segments, regex, letters)
    return types, by_letters


#: The recognition table: HMS type name -> :class:`XnameType`.
TYPES, _BY_LETTERS = _build_types()
_TYPES_LOWER = dict((name.lower(), t) for name, t in TYPES.items())

_LEADING_ZEROS = re.compile(r"(?<=[a-z])0+(?=[0-9])")
_SHAPE = re.compile(r"(?:[a-z][0-9]+)+\Z")
_SEGMENTS = re.compile(r"([a-z])([0-9]+)")
_DROP_DIGITS = dict.fromkeys(map(ord, "0123456789"))
_DIGITS = "0123456789"
_SPLIT_DIGITS = re.compile(r"([0-9]+)")


def _describe(value):
    return repr(value) if isinstance(value, str) else "%r (%s)" % (value, type(value).__name__)


def _lookup(value):
    """Return (normalised xname, XnameType, match) or raise XnameError."""
    if not isinstance(value, str):
        raise XnameError("invalid xname %s: expected a string" % _describe(value))
    xname = value.strip().lower()
    if "0" in xname:
        xname = _LEADING_ZEROS.sub("", xname)
    xtype = _BY_LETTERS.get(xname.translate(_DROP_DIGITS))
    if xtype is not None:
        match = xtype.regex.match(xname)
        if match is not None:
            return xname, xtype, match
        if _SHAPE.match(xname):
            _raise_range_error(value, xname, xtype)
    if not xname:
        raise XnameError("invalid xname %r: empty string" % (value,))
    raise XnameError("%r does not match any xname form" % (value,))


def _raise_range_error(value, xname, xtype):
    for seg, (_letter, digits) in zip(xtype.segments, _SEGMENTS.findall(xname)):
        number = int(digits)
        if seg.hi is None:
            if number < seg.lo:
                raise XnameError("invalid xname %r: %s number %d must be %d or more"
                                 % (value, seg.label, number, seg.lo))
        elif not seg.lo <= number <= seg.hi:
            if seg.lo == seg.hi:
                why = "must be %d" % seg.lo
            else:
                why = "out of range %d-%d" % (seg.lo, seg.hi)
            raise XnameError("invalid xname %r: %s number %d %s" % (value, seg.label, number, why))
    raise XnameError("invalid xname %r: does not match the %s form %s"
                     % (value, xtype.name, xtype.form))  # pragma: no cover


def normalize(value):
    """Return the normalised form of ``value`` (trimmed, no leading zeros, lower-case).

    Raises XnameError if the result matches no xname type.
    """
    return _lookup(value)[0]


def is_valid(value):
    """True if ``value`` is (or normalises to) a valid xname of any type."""
    try:
        _lookup(value)
    except XnameError:
        return False
    return True


def xname_type(value):
    """The HMS type name of ``value``, e.g. ``Node``."""
    return _lookup(value)[1].name


def _parent_of(xname, xtype):
    if xtype.parent is None:
        return None
    if xtype.parent == "System":
        return "s0"
    return xname.rstrip(_DIGITS)[:-1]


def parse(value):
    """Parse an xname into a dict.

    The result has ``xname`` (normalised), ``type`` (HMS type name), ``parent``
    (the parent xname, ``s0`` for cabinets and CDUs, None for ``s0`` itself) and one
    integer per segment, keyed by field name (``cabinet``, ``chassis``, ``slot``,
    ``bmc``, ``node``, ``nic``, ...).
    """
    xname, xtype, match = _lookup(value)
    result = {"xname": xname, "type": xtype.name, "parent": _parent_of(xname, xtype)}
    if xtype.name != "System":
        for seg, digits in zip(xtype.segments, match.groups()):
            result[seg.field] = int(digits)
    return result


def _field_value(type_name, field, value):
    if isinstance(value, bool):
        raise XnameError("invalid %s field %s=%r: expected an integer" % (type_name, field, value))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value.strip())
    raise XnameError("invalid %s field %s=%r: expected a non-negative integer" % (type_name, field, value))


def format_xname(type, **fields):  # pylint: disable=redefined-builtin
    """Build a normalised xname of HMS type ``type`` from its fields (the inverse of :func:`parse`).

    ``format_xname("Node", cabinet=1000, chassis=0, slot=7, bmc=1, node=0)`` returns
    ``x1000c0s7b1n0``.  The keys ``xname``, ``type`` and ``parent`` are ignored so the
    output of :func:`parse` can be passed back as ``format_xname(**parse(x))``.
    """
    xtype = TYPES.get(type) if isinstance(type, str) else None
    if xtype is None and isinstance(type, str):
        xtype = _TYPES_LOWER.get(type.strip().lower())
    if xtype is None:
        raise XnameError("unknown xname type %s; expected one of: %s" % (_describe(type), ", ".join(TYPES)))
    fields.pop("xname", None)
    fields.pop("parent", None)
    if xtype.name == "System":
        segments = ()
    else:
        segments = xtype.segments
    wanted = [seg.field for seg in segments]
    missing = [f for f in wanted if f not in fields]
    extra = sorted(f for f in fields if f not in wanted)
    if missing or extra:
        problems = []
        if missing:
            problems.append("missing %s" % ", ".join(missing))
        if extra:
            problems.append("unexpected %s" % ", ".join(extra))
        raise XnameError("cannot format a %s xname (%s): %s; it takes %s"
                         % (xtype.name, xtype.form, "; ".join(problems), ", ".join(wanted) or "no fields"))
    if xtype.name == "System":
        return "s0"
    parts = []
    for seg in segments:
        number = _field_value(xtype.name, seg.field, fields[seg.field])
        if number < 0:
            raise XnameError("invalid %s field %s=%d: must not be negative" % (xtype.name, seg.field, number))
        parts.append("%s%d" % (seg.letter, number))
    return normalize("".join(parts))


def parent(value):
    """The parent xname of ``value`` (``s0`` for a cabinet or CDU, None for ``s0``)."""
    xname, xtype, _match = _lookup(value)
    return _parent_of(xname, xtype)


def ancestors(value):
    """The parent chain of ``value``, nearest first, ending at its cabinet or CDU (``s0`` excluded)."""
    xname, xtype, _match = _lookup(value)
    chain = []
    while xtype.parent not in (None, "System"):
        xname = _parent_of(xname, xtype)
        xtype = TYPES[xtype.parent]
        chain.append(xname)
    return chain


def natural_key(value):
    """Sort key ordering strings with embedded numbers numerically (``n2`` before ``n10``)."""
    parts = _SPLIT_DIGITS.split(value)
    parts[1::2] = [int(p) for p in parts[1::2]]
    return parts


_BRACKET_ITEM = re.compile(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?\Z")


def _pattern_parts(pattern):
    """Split a pattern into literal strings and lists of choices; return (parts, count)."""
    parts = []
    count = 1
    pos = 0
    while True:
        start = pattern.find("[", pos)
        literal = pattern[pos:] if start < 0 else pattern[pos:start]
        if "]" in literal:
            raise XnameError("invalid xname pattern %r: ']' at position %d without '['"
                             % (pattern, pos + literal.index("]")))
        if literal:
            parts.append(literal)
        if start < 0:
            return parts, count
        end = pattern.find("]", start + 1)
        nested = pattern.find("[", start + 1)
        if end < 0:
            raise XnameError("invalid xname pattern %r: '[' at position %d is never closed" % (pattern, start))
        if 0 <= nested < end:
            raise XnameError("invalid xname pattern %r: nested '[' at position %d" % (pattern, nested))
        body = pattern[start + 1:end]
        ranges = []
        size = 0
        for item in body.split(","):
            match = _BRACKET_ITEM.match(item)
            if match is None:
                raise XnameError("invalid xname pattern %r: bad range item %r in [%s] (expected N or N-M)"
                                 % (pattern, item.strip(), body))
            first, last = match.group(1), match.group(2)
            lo = int(first)
            hi = lo if last is None else int(last)
            if hi < lo:
                raise XnameError("invalid xname pattern %r: descending range %s-%s in [%s]"
                                 % (pattern, first, last, body))
            # keep zero padding of the lower bound, as in "[00-15]"
            width = len(first) if first.startswith("0") and len(first) > 1 else 0
            ranges.append((lo, hi, width))
            size += hi - lo + 1
        count *= size
        if count > MAX_EXPANSION:
            raise XnameError("xname pattern %r expands to more than %d xnames" % (pattern, MAX_EXPANSION))
        parts.append(ranges)
        pos = end + 1


def _choices(ranges):
    out = []
    for lo, hi, width in ranges:
        if width:
            out.extend(str(n).zfill(width) for n in range(lo, hi + 1))
        else:
            out.extend(map(str, range(lo, hi + 1)))
    return out


def expand(pattern):
    """Expand an xname pattern with ``[a-b,c]`` ranges into a sorted list of normalised xnames.

    ``expand("x1000c[0-1]s0b0n[0-1]")`` gives 4 node xnames.  ``pattern`` may also be a
    list of patterns; the union is returned.  Duplicates are removed and the result is
    in natural order.  Raises XnameError on malformed patterns, on any expanded name
    that is not a valid xname, and when more than MAX_EXPANSION names would result.
    """
    if isinstance(pattern, (list, tuple)):
        patterns = pattern
    else:
        patterns = [pattern]
    seen = {}  # xname -> sort key
    signatures = set()
    total = 0
    for one in patterns:
        if not isinstance(one, str):
            raise XnameError("invalid xname pattern %s: expected a string" % _describe(one))
        one = one.strip()
        parts, count = _pattern_parts(one)
        total += count
        if total > MAX_EXPANSION:
            raise XnameError("xname patterns expand to more than %d xnames (at %r)" % (MAX_EXPANSION, one))
        pools = [[p] if isinstance(p, str) else _choices(p) for p in parts]
        for combo in itertools.product(*pools):
            candidate = "".join(combo)
            try:
                xname, xtype, match = _lookup(candidate)
            except XnameError as exc:
                if candidate == one:
                    raise
                raise XnameError("%s (expanded from pattern %r)" % (exc, one))
            if xname not in seen:
                seen[xname] = (xtype.letters, tuple(map(int, match.groups())))
                signatures.add(xtype.letters)
    if len(signatures) > 1:
        # mixed types: compare (letter, number) pairs, the natural order of normalised xnames
        for xname, (letters, numbers) in seen.items():
            seen[xname] = tuple(zip(letters, numbers))
    return sorted(seen, key=seen.__getitem__)


def nid_alias(nid, width=6, prefix="nid"):
    """The node alias for a NID: ``nid_alias(1)`` -> ``nid000001`` (CSM ``"nid%06d"``).

    ``width`` is the zero-padded width of the number (0 for no padding, as BSS uses),
    ``prefix`` the text in front.  NIDs must be non-negative integers (decimal strings
    are accepted); booleans and floats are rejected.
    """
    if isinstance(nid, bool) or not isinstance(nid, (int, str)):
        raise XnameError("invalid NID %s: expected a non-negative integer" % _describe(nid))
    if isinstance(nid, str):
        text = nid.strip()
        if not text.isdigit() or not text.isascii():
            raise XnameError("invalid NID %r: expected a non-negative integer" % (nid,))
        nid = int(text)
    if nid < 0:
        raise XnameError("invalid NID %d: must not be negative" % nid)
    if isinstance(width, bool) or not isinstance(width, int) or width < 0:
        raise XnameError("invalid NID alias width %s: expected a non-negative integer" % _describe(width))
    if not isinstance(prefix, str):
        raise XnameError("invalid NID alias prefix %s: expected a string" % _describe(prefix))
    return "%s%0*d" % (prefix, width, nid)
