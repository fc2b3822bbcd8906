# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import subprocess

import pytest
import yaml

from ansible_collections.cscs.openchami.plugins.module_utils import cluster, fleet, resource


class Recorder:
    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail

    def op(self, name):
        def call(changes):
            self.calls.append((name, sorted(str(c.key) for c in changes)))
            if name == self.fail:
                raise RuntimeError("refused")
        return call


def kind(name, desired, current, recorder, prune=True):
    return cluster._kind_plan(name, desired, current, "id", prune, upsert=recorder.op(name + " upsert"),
                              delete=recorder.op(name + " delete"))


def test_writes_in_dependency_order_then_deletes_in_reverse():
    rec = Recorder()
    the_plan = cluster.ClusterPlan([
        kind("components", [{"id": "a"}, {"id": "b", "v": 2}], [{"id": "b", "v": 1}, {"id": "old"}], rec),
        kind("groups", [{"id": "g"}], [{"id": "stale"}], rec),
        kind("boot", [{"id": "a"}], [{"id": "a"}], rec)])
    cluster.apply(the_plan)
    assert rec.calls == [("components upsert", ["a", "b"]), ("groups upsert", ["g"]), ("groups delete", ["stale"]),
                         ("components delete", ["old"])]
    assert the_plan.summary()["components"] == {"create": 1, "update": 1, "delete": 1, "unchanged": 0,
                                                "not_in_spec": 0}
    text = "\n".join(the_plan.text())
    assert "  + a {'id': 'a'}" in text and "  ~ b v: 1 -> 2" in text and "  - old" in text
    assert "boot: 0 to create, 0 to update, 0 to delete, 1 unchanged, 0 not in the spec" in text


def test_without_prune_what_the_spec_does_not_list_is_reported_not_deleted():
    rec = Recorder()
    the_plan = cluster.ClusterPlan([kind("groups", [{"id": "g"}], [{"id": "g"}, {"id": "x"}], rec, prune=False)])
    cluster.apply(the_plan)
    assert rec.calls == [] and not the_plan.changed
    result = the_plan.result()
    assert result["not_in_spec"] == {"groups": ["x"]} and result["summary"]["groups"]["not_in_spec"] == 1
    assert "  ? x (not in the spec, kept; prune deletes it)" in result["plan"]
    assert result["summary_line"] == "groups +0 ~0 -0 ?1"


def test_check_mode_writes_nothing_and_a_failure_says_what_was_written():
    rec = Recorder(fail="groups upsert")
    the_plan = cluster.ClusterPlan([kind("components", [{"id": "a"}], [], rec), kind("groups", [{"id": "g"}], [], rec),
                                    kind("boot", [{"id": "n"}], [{"id": "m"}], rec)])
    cluster.apply(the_plan, check_mode=True)
    assert rec.calls == []
    with pytest.raises(resource.ApplyError) as info:
        cluster.apply(the_plan)
    report = info.value.report()
    assert report["written"]["items"] == ["create a"] and report["in_doubt"]["items"] == ["create g"]
    assert report["not_written"]["items"] == ["create n", "delete m"]


STATE = {
    "hardware": {"hardware": [{"xname": "x1000c0s0b0n0", "role": "Compute", "nid": 1}, {"xname": "x1000c0s0b0"}]},
    "groups": {"groups": [{"label": "compute", "description": "", "members": ["x1000c0s0b0n0"]}]},
    "cloud_init": {"cloud_init": {"defaults": {"cluster_name": "a"}, "groups": [
        {"name": "compute", "description": "", "meta_data": {}, "content": "#cloud-config\nruncmd: [ls]\n"}]}},
}


def test_snapshot_files_are_stable_and_a_second_snapshot_writes_nothing(tmp_path):
    when = datetime.datetime(2026, 12, 1, 3, 4, 5)
    changed = cluster.write_snapshot(STATE, str(tmp_path), "lab", {"bss": "v1"}, now=when, who="op")
    assert changed == ["cloud_init.yaml", "groups.yaml", "hardware.yaml"]
    assert (tmp_path / "cloud_init.yaml").read_text() == (
        "cloud_init:\n  defaults:\n    cluster_name: a\n  groups:\n  - name: compute\n    description: ''\n"
        "    meta_data: {}\n    content: |\n      #cloud-config\n      runcmd: [ls]\n")
    meta = yaml.safe_load((tmp_path / "snapshot.yaml").read_text())["snapshot"]
    assert meta == {"taken": "2026-12-01T03:04:05Z", "by": "op", "instance": "lab", "services": {"bss": "v1"},
                    "counts": {"hardware": 2, "groups": 1, "nodes": 1},
                    "files": ["cloud_init.yaml", "groups.yaml", "hardware.yaml"]}
    (tmp_path / "snapshot.yaml").unlink()
    assert cluster.write_snapshot(STATE, str(tmp_path), "lab") == []
    assert not (tmp_path / "snapshot.yaml").exists()  # nothing changed: nothing written
    assert cluster.write_snapshot(dict(STATE, groups={"groups": []}), str(tmp_path), check_mode=True) == ["groups.yaml"]
    assert "x1000c0s0b0n0" in (tmp_path / "groups.yaml").read_text()


def run(argv):
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def test_git_commit_only_in_a_work_tree_and_only_when_something_changed(tmp_path):
    assert cluster.git_commit(run, str(tmp_path), "m") is None
    run(["git", "init", "-q", str(tmp_path)])
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "hardware.yaml").write_text("hardware: []\n")
    first = cluster.git_commit(run, str(tmp_path / "snap"), "Snapshot 1")
    assert first and len(first) == 40
    assert cluster.git_commit(run, str(tmp_path / "snap"), "Snapshot 2") is None
    assert run(["git", "-C", str(tmp_path), "log", "--format=%s"])[1] == "Snapshot 1\n"


REPORT = [
    {"name": "alps", "reachable": True, "error": None, "versions": {"bss": "v1.32.2"},
     "nodes": {"total": 3, "by_state": {"Ready": 2, "Off": 1}, "by_role": {"Compute": 3}},
     "drift": {"in_sync": False, "changes": 2, "error": None,
               "summary": {"components": {"create": 1, "update": 0, "delete": 0, "unchanged": 2, "not_in_spec": 1}}}},
    {"name": "eiger", "reachable": False, "error": "GET http://eiger/x: refused <b>", "versions": {},
     "nodes": {"total": 0, "by_state": {}, "by_role": {}}, "drift": None},
]


def test_fleet_reports():
    markdown = fleet.markdown(REPORT)
    assert "| alps | up | bss v1.32.2 | 3 | Off 1, Ready 2 | Compute 3 | components: create 1, not in spec 1 |" in markdown
    assert "| eiger | DOWN | - | 0 | - | - | unknown (down) |" in markdown
    assert "- **eiger**: GET http://eiger/x: refused <b>" in markdown
    page = fleet.html_page(REPORT, title="A & B")
    assert "<title>A &amp; B</title>" in page and "refused &lt;b&gt;" in page and '<td class="drift">' in page
    prom = fleet.prometheus(REPORT).splitlines()
    for line in ('openchami_instance_up{instance="alps"} 1', 'openchami_instance_up{instance="eiger"} 0',
                 'openchami_nodes_by_state{instance="alps",state="Off"} 1', 'openchami_spec_in_sync{instance="alps"} 0',
                 'openchami_spec_drift{action="create",instance="alps",kind="components"} 1',
                 'openchami_service_info{instance="alps",service="bss",version="v1.32.2"} 1',
                 "# TYPE openchami_spec_drift gauge"):
        assert line in prom
    assert not [line for line in prom if "eiger" in line and "instance_up" not in line]
