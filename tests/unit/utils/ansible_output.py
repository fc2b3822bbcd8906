# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every test and benchmark that runs the real ansible CLIs needs, once: a collections path holding this
repository, and Ansible's output without ansible-core's ``{"__ansible_unsafe": X}`` markers.

Unit tests import it as ``ansible_collections.cscs.openchami.tests.unit.utils.ansible_output``; integration tests
and benchmarks (the repository root on ``sys.path``) as ``tests.unit.utils.ansible_output``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


def collections_path(repo_root=REPO_ROOT, prefix="collections-", parent=None):
    """A new directory holding ``ansible_collections/cscs/openchami`` -> ``repo_root`` (a symlink), for
    ``ANSIBLE_COLLECTIONS_PATH``."""
    root = tempfile.mkdtemp(prefix=prefix, dir=None if parent is None else str(parent))
    os.makedirs(os.path.join(root, "ansible_collections", "cscs"))
    os.symlink(str(repo_root), os.path.join(root, "ansible_collections", "cscs", "openchami"),
               target_is_directory=True)
    return root


def plain(value):
    """``value`` with every ``{"__ansible_unsafe": X}`` (ansible-core 2.19's mark of untrusted strings)
    replaced by X, recursively."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
