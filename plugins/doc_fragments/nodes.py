# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Selecting nodes: by xname, MAC, NID or SMD group (module_utils/common.py ``node_selector_options``)."""

    DOCUMENTATION = r"""
options:
  nodes:
    description:
      - Node xnames, or xname patterns with ranges such as V(x1000c0s[0-7]b0n[0-1]).
      - The aliases V(hosts) and V(xnames) are the names of earlier releases.
    type: list
    elements: str
    aliases: [hosts, xnames]
  macs:
    description: MAC addresses of nodes (any usual notation), resolved to xnames through SMD.
    type: list
    elements: str
  nids:
    description: NIDs of nodes, resolved to xnames through SMD.
    type: list
    elements: int
  groups:
    description: SMD group labels; their node members are selected.
    type: list
    elements: str
"""

    # Modules that take a long list of nodes from a file as well.
    SRC = r"""
options:
  src:
    description:
      - Path of a JSON or YAML file holding the list (or a mapping with the list under the option's name), read by
        the module itself on the host it runs on. Faster than passing thousands of items through Ansible variables.
      - Its items are checked like the list option's, and a bad file fails naming the file and the items.
      - Mutually exclusive with the list option it replaces.
    type: path
"""
