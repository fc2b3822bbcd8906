# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One line per test file while the integration tests run: which file, how far along, how long it took.

The suite takes minutes; a wall of dots says neither what runs nor how much is left. conftest.py registers
this module as a plugin.
"""

from __future__ import annotations

import time

_STATE = {"files": [], "counts": {}, "current": None, "started": 0.0, "suite": 0.0}


def pytest_collection_finish(session):
    for item in session.items:
        name = item.nodeid.split("::")[0]
        if name not in _STATE["counts"]:
            _STATE["files"].append(name)
            _STATE["counts"][name] = 0
        _STATE["counts"][name] += 1
    _STATE["suite"] = time.monotonic()
    _STATE["config"] = session.config


def _say(config, text):
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(text)


def _finish_file(config):
    if _STATE["current"]:
        _say(config, "    %s done in %.0f s (suite %.0f s)" % (
            _STATE["current"].rsplit("/", 1)[-1], time.monotonic() - _STATE["started"], time.monotonic() - _STATE["suite"]))


def pytest_runtest_logstart(nodeid, location):  # pylint: disable=unused-argument
    name = nodeid.split("::")[0]
    if name == _STATE["current"] or name not in _STATE["counts"]:
        return
    config = _STATE.get("config")
    if config is not None:
        _finish_file(config)
        position = _STATE["files"].index(name) + 1
        _say(config, "[%d/%d] %s: %d tests" % (position, len(_STATE["files"]), name, _STATE["counts"][name]))
    _STATE["current"], _STATE["started"] = name, time.monotonic()


def pytest_sessionfinish(session):
    _finish_file(session.config)
