# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
import subprocess
import sys

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import migration, migration_report
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError


# ------------------------------------------------------------------------------------------------ waves
@pytest.mark.parametrize("total, sizes, expected", [
    (16, [1, 5, 10], [1, 5, 10]),
    (16, [1, 5], [1, 5, 5, 5]),
    (1000, [1, "5%", "25%", "100%"], [1, 50, 250, 699]),
    (3, [1, "5%", "25%", "100%"], [1, 1, 1]),
    (2, [10], [2]),
    (7, ["50%"], [4, 3]),
])
def test_wave_sizes(total, sizes, expected):
    assert migration.wave_sizes(total, sizes) == expected
    assert sum(expected) == total


def test_bad_waves_are_named():
    with pytest.raises(ValidationError) as err:
        migration.check_waves([0, "101%", "x", True, 3])
    assert err.value.errors == [
        "waves: 0 is neither a positive number of nodes nor a percentage from 1% to 100%",
        "waves: '101%' is neither a positive number of nodes nor a percentage from 1% to 100%",
        "waves: 'x' is neither a positive number of nodes nor a percentage from 1% to 100%",
        "waves: True is neither a positive number of nodes nor a percentage from 1% to 100%"]
    with pytest.raises(ValidationError):
        migration.check_waves([])


def test_nodes_are_checked_and_named():
    nodes = migration.check_nodes(["X1000C0S0B0N0", {"xname": "x1000c0s0b0n1", "nid": "2"}])
    assert nodes == [{"xname": "x1000c0s0b0n0", "nid": None, "hostname": "x1000c0s0b0n0"},
                     {"xname": "x1000c0s0b0n1", "nid": 2, "hostname": "nid000002"}]
    with pytest.raises(ValidationError) as err:
        migration.check_nodes(["x1000c0s0b0", "x1000c0s0b0n0", "x1000c0s0b0n0", {"xname": "x1000c0s0b0n1", "nid": "a"},
                               {"nid": 1}])
    assert err.value.errors == ["node 0: 'x1000c0s0b0' is not a node xname", "node x1000c0s0b0n0 is given twice",
                                "node x1000c0s0b0n1: nid 'a' is not a number",
                                "node 4: expected an xname or a dict with xname, nid and hostname, got {'nid': 1}"]


def test_plan_skips_finished_nodes_and_resumes_interrupted_ones_first():
    nodes = migration.check_nodes(["x1000c0s0b0n%d" % i for i in range(2)] + ["x1000c0s1b0n%d" % i for i in range(2)]
                                  + ["x1000c0s2b0n0", "x1000c0s2b0n1"])
    records = {"x1000c0s0b0n0": {"outcome": "migrated", "step": "done"},
               "x1000c0s1b0n0": {"outcome": "running", "step": "released"},
               "x1000c0s1b0n1": {"outcome": "rolled_back", "step": "rolled_back"},
               "x1000c0s2b0n1": {"outcome": "running", "step": "rollback",
                                 "history": [{"step": "preflight"}, {"step": "imported"}, {"step": "rollback"}]}}
    plan = migration.plan_run(nodes, records, [1, 5])
    assert plan["skipped"] == {"x1000c0s0b0n0": "migrated", "x1000c0s1b0n1": "rolled_back"}
    assert [[(n["xname"], n["resume_after"]) for n in wave] for wave in plan["waves"]] == [
        [("x1000c0s1b0n0", "released")],
        [("x1000c0s2b0n1", "imported"), ("x1000c0s0b0n1", None), ("x1000c0s2b0n0", None)]]
    assert migration.plan_run(nodes[:1], records, [1]) == {"waves": [], "skipped": {"x1000c0s0b0n0": "migrated"}}
    assert migration.reached("released", "releasing") and not migration.reached("releasing", "released")
    assert not migration.reached(None, "planned")


# ------------------------------------------------------------------------------------------------ ownership
@pytest.mark.parametrize("csm, openchami, expected", [
    ({"bos_enabled": True, "macs": ["a"]}, {"boot_config": False, "macs": []}, "csm"),
    ({"bos_enabled": False, "macs": []}, {"boot_config": True, "macs": ["a"]}, "openchami"),
    ({"bos_enabled": False, "macs": []}, {"boot_config": False, "macs": []}, "none"),
    ({"bos_enabled": None, "macs": ["a"]}, {"boot_config": True, "macs": ["a"]}, "both"),  # a MAC back in HSM
    ({"bos_enabled": True, "macs": []}, {"boot_config": True, "macs": ["a"]}, "both"),
])
def test_owner(csm, openchami, expected):
    assert migration.owner(csm, openchami) == expected


# ------------------------------------------------------------------------------------------------ lock
def test_lock_refuses_a_living_run_and_takes_over_a_dead_one(tmp_path):
    ledger = migration.Ledger(str(tmp_path / "ledger"))
    me = (os.getpid(), migration._proc_start(os.getpid()))  # pylint: disable=protected-access
    lock, stale = ledger.take_lock("run-1", "alice", process=me)
    assert stale is None and lock["run_id"] == "run-1" and lock["host"] == socket.gethostname()
    assert ledger.take_lock("run-1", "alice", process=me)[0]["run_id"] == "run-1"  # the holder again
    with pytest.raises(migration.LockHeld) as err:
        ledger.take_lock("run-2", "bob", process=me)
    assert "locked by run run-1 (operator alice, pid %d" % os.getpid() in str(err.value)
    # the holder's process ends: its lock is stale and taken over
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    migration.write_json(os.path.join(ledger.path, migration.LOCK), dict(lock, pid=gone.pid, pid_start="1"))
    lock2, stale = ledger.take_lock("run-2", "bob", process=me)
    assert stale["run_id"] == "run-1" and lock2["run_id"] == "run-2"
    assert not ledger.release_lock("run-1") and ledger.release_lock("run-2") and ledger.lock() is None


def test_lock_of_another_host_is_kept(tmp_path):
    ledger = migration.Ledger(str(tmp_path))
    ledger.ensure()
    migration.write_json(os.path.join(ledger.path, migration.LOCK),
                         {"run_id": "far", "host": "elsewhere.example", "pid": 1, "operator": "carol"})
    with pytest.raises(migration.LockHeld) as err:
        ledger.take_lock("near", "dave")
    assert "on elsewhere.example" in str(err.value) and "remove %s" % os.path.join(ledger.path, "lock.json") in str(err.value)


def test_controller_process_is_the_ansible_playbook_ancestor(tmp_path):
    code = ("from ansible_collections.cscs.openchami.plugins.module_utils import migration; import os; "
            "print(migration.controller_process()[0], os.getppid())")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    # under an ansible-playbook process (two levels up): that process
    script = tmp_path / "ansible-playbook"
    script.write_text("import os, subprocess, sys\nprint(os.getpid())\nsys.stdout.flush()\n"
                      "subprocess.check_call(['/bin/sh', '-c', '\"$0\" -c \"$1\"; true', sys.executable, %r])\n" % code)
    first, second = subprocess.check_output([sys.executable, str(script)], env=env).decode().splitlines()
    assert second.split()[0] == first
    # without one: the module's own parent
    pid, parent = subprocess.check_output([sys.executable, "-c", code], env=env).split()
    assert pid == parent


# ------------------------------------------------------------------------------------------------ records, report
def test_records_keep_history_and_merge_before_after(tmp_path):
    ledger = migration.Ledger(str(tmp_path))
    node = {"xname": "x1000c0s0b0n0", "nid": 1, "hostname": "nid000001"}
    ledger.record([node], "planned", "running", "r1", "alice")
    ledger.record(["x1000c0s0b0n0"], "releasing", "running", "r1", "alice",
                  before={"x1000c0s0b0n0": {"csm": {"bos_enabled": True}}})
    ledger.record(["x1000c0s0b0n0"], "done", "migrated", "r1", "alice", after={"x1000c0s0b0n0": {"owner": "openchami"}})
    record = ledger.records()["x1000c0s0b0n0"]
    assert record["nid"] == 1 and record["hostname"] == "nid000001"
    assert [h["step"] for h in record["history"]] == ["planned", "releasing", "done"]
    assert record["before"] == {"csm": {"bos_enabled": True}} and record["after"] == {"owner": "openchami"}
    assert record["outcome"] == "migrated" and record["step"] == "done" and record["run_id"] == "r1"
    with open(ledger.node_path("x1000c0s0b0n0")) as handle:
        assert json.load(handle) == record
    assert [f for f in os.listdir(os.path.join(ledger.path, "nodes")) if f.startswith(".tmp")] == []


def test_report_counts_timeline_failures_and_chart(tmp_path):
    ledger = migration.Ledger(str(tmp_path))
    ledger.record(["x1000c0s0b0n0", "x1000c0s0b0n1"], "planned", "running", "r1", "alice")
    ledger.record(["x1000c0s0b0n0"], "done", "migrated", "r1", "alice")
    ledger.record(["x1000c0s0b0n1"], "rolled_back", "rolled_back", "r1", "alice",
                  errors={"x1000c0s0b0n1": "verify: did not fetch its boot script from OpenCHAMI within 300 s"})
    ledger.record(["x1000c0s1b0n0"], "planned", "running", "r0", "bob")  # another run: not in this report
    report = migration_report.summarize({"run_id": "r1", "operator": "alice", "ledger": ledger.path,
                                         "started": "s", "finished": "f"}, ledger.records())
    assert report["total"] == 2
    assert report["counts"] == {"running": 0, "migrated": 1, "refused": 0, "rolled_back": 1, "failed": 0}
    assert report["failures"] == [{"xname": "x1000c0s0b0n1", "outcome": "rolled_back", "step": "rolled_back",
                                   "error": "verify: did not fetch its boot script from OpenCHAMI within 300 s"}]
    assert [h["step"] for h in report["nodes"][0]["timeline"]] == ["planned", "done"]
    assert migration_report.migrated_over_time(report)[-1][1] == 1
    md = migration_report.markdown(report)
    assert "| migrated | 1 |" in md and "did not fetch its boot script" in md and "planned > done" in md
    page = migration_report.html(dict(report, operator="<script>"))
    assert "<polyline" in page and "&lt;script&gt;" in page and "<script>" not in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained: nothing fetched
    assert "no node migrated" in migration_report.svg_chart([(0.0, 0)])


# ------------------------------------------------------------------------------------------------ verify
def test_latest_boots_takes_the_largest_epoch_per_node():
    from ansible_collections.cscs.openchami.plugins.module_utils import boot
    rows = [{"name": "x1000c0s0b0n0", "endpoint": "bootscript", "last_epoch": 5},
            {"name": "X1000C0S0B0N0", "endpoint": "bootscript", "last_epoch": 9},
            {"name": "02:00:00:00:00:01", "endpoint": "bootscript", "last_epoch": 7},
            {"name": "x1000c0s0b0n1", "endpoint": "bootscript", "last_epoch": 3}]
    assert boot.latest_boots(rows) == {"x1000c0s0b0n0": 9, "x1000c0s0b0n1": 3}
    assert boot.latest_boots(None) == {}


def _seen(csm, openchami, name="x1000c0s0b0n0"):
    return {"xname": name, "csm": {"last_boot": csm}, "openchami": {"last_boot": openchami}}


def test_boot_failures_name_the_side_that_served_the_node():
    base = {"x1000c0s0b0n0": {"csm": 10, "openchami": 0}}
    assert migration.boot_failures([_seen(10, 20)], base, "openchami", 60) == {}
    assert migration.boot_failures([_seen(30, 0)], base, "openchami", 60) == {
        "x1000c0s0b0n0": "booted from CSM's BSS after the power cycle, not from OpenCHAMI's"}
    assert migration.boot_failures([_seen(10, 0)], base, "openchami", 60) == {
        "x1000c0s0b0n0": "did not fetch its boot script from OpenCHAMI's BSS within 60 s of the power cycle"}
    # a wait is over for a node that booted from either side; a node without a baseline counts from 0
    assert migration.boot_failures([_seen(30, 0)], base, "openchami", 60, pending=True) == {}
    assert migration.boot_failures([_seen(0, 0, "x1000c0s0b0n1")], base, "csm", 5, pending=True) == {
        "x1000c0s0b0n1": "did not fetch its boot script from CSM's BSS within 5 s of the power cycle"}
    assert migration.boot_failures([_seen(11, 0)], base, "csm", 5) == {}


@pytest.mark.parametrize("result, expected", [
    ({"rc": 0, "stdout": ""}, {}),
    ({"rc": 0, "stdout": "{}"}, {}),
    ({"rc": 0, "stdout": '{"X1000C0S0B0N1": "no GPU", "x9000c0s0b0n0": "not ours", "bad": "x"}'},
     {"x1000c0s0b0n1": "health: no GPU"}),
    ({"rc": 0, "stdout": "all fine"}, "health: the command's output is not a JSON object (xname -> reason): all fine"),
    ({"rc": 0, "stdout": "[1]"}, "health: the command's output is not a JSON object (xname -> reason): [1]"),
    ({"rc": 3, "stdout": "{}", "stderr": "checking\nssh: connect refused"}, "health: the command exited 3: ssh: connect refused"),
    ({"rc": 2, "msg": "[Errno 2] No such file or directory: b'/no/such'"},
     "health: the command exited 2: [Errno 2] No such file or directory: b'/no/such'"),
    ({"skipped": True}, {}),
])
def test_health_failures_follow_the_contract(result, expected):
    names = ["x1000c0s0b0n0", "x1000c0s0b0n1"]
    if isinstance(expected, str):
        expected = dict((n, expected) for n in names)
    assert migration.health_failures(result, names) == expected
