# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place for bounded concurrency and chunking (transport.each, all_or_raise, chunks), and that no other
plugin file runs its own thread pool."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import threading

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import csm, redfish, smd, transport
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")


class Counter:
    """How many calls run at once, at most."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __call__(self, item):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if item == "bad":
                raise ApiError("POST /x failed: HTTP 500", status=500)
            if item == "boom":
                raise KeyError(item)
            return item * 2
        finally:
            with self.lock:
                self.now -= 1


def test_each_returns_results_in_order_and_failures_in_place_without_exceeding_workers():
    counter = Counter()
    items = [1, 2, "bad", 4, "boom"] + list(range(5, 40))
    results = transport.each(counter, items, workers=3)
    assert results[:2] == [2, 4] and results[3] == 8 and results[5:] == [i * 2 for i in range(5, 40)]
    assert isinstance(results[2], ApiError) and isinstance(results[4], KeyError)
    assert 1 <= counter.most <= 3


def test_all_or_raise_raises_the_first_api_error_after_every_call_and_says_what_was_done():
    called = []

    def call(item):
        called.append(item)
        if item in ("b", "d"):
            raise ApiError("PUT /%s failed: HTTP 500" % item, status=500)
        return item
    with pytest.raises(ApiError) as caught:
        transport.all_or_raise(call, ["a", "b", "c", "d", "e"], workers=2)
    assert sorted(called) == ["a", "b", "c", "d", "e"]  # nothing left out because one failed
    assert str(caught.value) == "PUT /b failed: HTTP 500"
    assert caught.value.done_items == ["a", "c", "e"]
    assert (caught.value.done_count, caught.value.failed_count) == (3, 2)
    assert transport.all_or_raise(lambda x: x + 1, [1, 2, 3]) == [2, 3, 4]


def test_all_or_raise_raises_other_errors_too():
    with pytest.raises(KeyError):
        transport.all_or_raise(Counter(), [1, "boom", 3], workers=2)


def test_chunks():
    assert transport.chunks(range(5), 2) == [[0, 1], [2, 3], [4]]
    assert transport.chunks([], 3) == []


def test_the_clients_old_names_are_the_transports():
    assert smd.parallel is transport.all_or_raise
    assert smd.chunks is transport.chunks and csm.chunked is transport.chunks
    results = redfish.run_many(Counter(), [1, "boom"], 4)
    assert results[0] == 2 and isinstance(results[1], KeyError)


def python_files():
    for folder, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def test_only_the_transport_runs_thread_pools_or_opens_sockets():
    found = []
    for path in python_files():
        if os.path.basename(path) == "transport.py":
            continue
        with open(path) as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = getattr(node, "module", None) or ""
            if any(n.startswith(("concurrent", "socket")) for n in names) or module.startswith(("concurrent", "socket")):
                found.append(os.path.relpath(path, PLUGINS))
    assert found == []
