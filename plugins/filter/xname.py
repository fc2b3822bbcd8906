# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters for HPE/Cray xnames and NID aliases.

Documentation lives next to this file in xname_parse.yml, xname_parent.yml,
xname_type.yml, xname_expand.yml and nid_alias.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.cscs.openchami.plugins.module_utils.xname import (
    XnameError, expand, nid_alias as _nid_alias, parent, parse, xname_type as _xname_type)


def _is_list(value):
    return not isinstance(value, (str, bytes, Mapping)) and hasattr(value, "__iter__")


def _each(func, value, *args, **kwargs):
    """Apply func to value, or to each item when value is a list; XnameError -> AnsibleFilterError."""
    try:
        if _is_list(value):
            return [func(item, *args, **kwargs) for item in value]
        return func(value, *args, **kwargs)
    except XnameError as exc:
        raise AnsibleFilterError(str(exc))


def xname_parse(value):
    """Parse an xname (or a list of them) into a dict with xname, type, parent and numeric fields."""
    return _each(parse, value)


def xname_parent(value):
    """The parent xname of an xname (or of each in a list); s0 for cabinets and CDUs."""
    return _each(parent, value)


def xname_type(value):
    """The HMS type name of an xname (or of each in a list)."""
    return _each(_xname_type, value)


def xname_expand(value):
    """Expand one pattern or a list of patterns into one flat, sorted list of xnames."""
    if not _is_list(value):
        value = [value]
    try:
        return expand(list(value))
    except XnameError as exc:
        raise AnsibleFilterError(str(exc))


def nid_alias(value, width=6, prefix="nid"):
    """Alias for a NID (nid000001) or for each NID in a list."""
    return _each(_nid_alias, value, width=width, prefix=prefix)


class FilterModule(object):
    """HPE/Cray xname filters."""

    def filters(self):
        return {
            "xname_parse": xname_parse,
            "xname_parent": xname_parent,
            "xname_type": xname_type,
            "xname_expand": xname_expand,
            "nid_alias": nid_alias,
        }
