# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud_init_rollout role (playbooks/rollout_cloud_init.yml) run by real ansible-playbook against the real
cloud-init server and SMD of the lab.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_cloud_init_rollout.py``.

Only SMD and the cloud-init server are needed: a lab that runs them is used as it is, otherwise they are started
(``python -m lab up --services smd,cloud-init --bmcs 0``) and stopped at the end of the run.

Two rollouts, on two groups of nodes of their own, run at the same time (each waits twice for the cloud-init
server to re-read SMD group membership, which it does once a minute): one succeeds, the other's health check
fails on the second wave and is rolled back.
"""

from __future__ import annotations

import concurrent.futures
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import OWNER_FILE, LabHandle  # pylint: disable=import-error
from lab import runtime
from lab.services import Lab

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO_ROOT / "playbooks" / "rollout_cloud_init.yml"

RECORDED = {
    "content": "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: version 1\n",
    "meta_data": {"ntp": "10.1.0.1", "version": 1},
    "description": "compute nodes, version 1",
}
NEW = {
    "content": "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: version 2\nruncmd:\n  - [systemctl, restart, chronyd]\n",
    "meta_data": {"ntp": "10.1.0.2", "version": 2},
    "description": "compute nodes, version 2",
}


@pytest.fixture(scope="module")
def ci_lab():
    """A lab with SMD and the cloud-init server (the other services are not needed)."""
    messages = []
    instance = Lab(out=messages.append)
    status = instance.status() if (instance.state / "lab.json").exists() else {}
    if not all(status.get(name, {}).get("ready") for name in ("postgres", "auth", "smd", "cloud-init")):
        try:
            info = instance.up(services=["smd", "cloud-init"], bmcs=0)
        except runtime.LabError as exc:
            pytest.fail("lab up failed: %s\n%s" % (exc, "\n".join(messages)), pytrace=False)
        if info["started"]:  # conftest's pytest_sessionfinish stops what this run started
            (instance.state / OWNER_FILE).write_text(os.environ.get("LAB_PYTEST_OWNER", ""), encoding="utf-8")
    return LabHandle(instance, False)


def check(response, expect=(200, 201, 204)):
    assert response.status_code in expect, "%s %s: %d %s" % (response.request.method, response.url,
                                                             response.status_code, response.text[:300])
    return response


class Group:
    """An SMD group of nodes of its own (with MACs and IPs, so the cloud-init server knows them) and its
    cloud-init group at the recorded version."""

    def __init__(self, lab, name, count, cabinet):
        self.lab = lab
        self.name = name
        self.xnames = ["x%dc0s%db0n0" % (cabinet, slot) for slot in range(count)]
        self.macs = ["0e:%02x:%02x:00:00:%02x" % (cabinet // 100, cabinet % 100, slot) for slot in range(count)]
        self.nid_base = cabinet * 10

    def create(self):
        check(self.lab.api("smd", "POST", "/State/Components", json={"Components": [
            {"ID": x, "State": "Ready", "Role": "Compute", "NID": self.nid_base + i, "Enabled": True}
            for i, x in enumerate(self.xnames)]}))
        for i, (xname, mac) in enumerate(zip(self.xnames, self.macs)):
            check(self.lab.api("smd", "POST", "/Inventory/EthernetInterfaces", json={
                "MACAddress": mac, "ComponentID": xname,
                "IPAddresses": [{"IPAddress": "10.252.%d.%d" % (self.nid_base % 250, i + 1)}]}))
        check(self.lab.api("smd", "POST", "/groups", json={"label": self.name, "members": {"ids": self.xnames}}))
        check(self.lab.api("cloud-init", "PUT", "/admin/groups/%s" % self.name, json={
            "name": self.name, "description": RECORDED["description"], "meta-data": RECORDED["meta_data"],
            "file": {"content": RECORDED["content"], "encoding": "plain"}}))

    def delete(self):
        for label in self.lab.api("smd", "GET", "/groups/labels").json() or []:
            if label == self.name or label.startswith(self.name + "-rollout-"):
                self.lab.api("smd", "DELETE", "/groups/%s" % label)
        for name in self.cloud_init_groups():
            self.lab.api("cloud-init", "DELETE", "/admin/groups/%s" % name)
        for xname, mac in zip(self.xnames, self.macs):
            self.lab.api("smd", "DELETE", "/Inventory/EthernetInterfaces/%s" % mac.replace(":", ""))
            self.lab.api("smd", "DELETE", "/State/Components/%s" % xname)

    # ------------------------------------------------------------ what a user would look at
    def cloud_init_groups(self):
        """name -> group, for this group and its temporary groups."""
        data = check(self.lab.api("cloud-init", "GET", "/admin/groups")).json() or {}
        return dict((k, v) for k, v in data.items() if k == self.name or k.startswith(self.name + "-rollout-"))

    def smd_labels(self):
        labels = check(self.lab.api("smd", "GET", "/groups/labels")).json() or []
        return sorted(label for label in labels if label == self.name or label.startswith(self.name + "-rollout-"))

    def config(self):
        group = self.cloud_init_groups()[self.name]
        return {"content": group["file"]["content"], "meta_data": group.get("meta-data") or {},
                "description": group.get("description")}

    def members(self):
        return sorted(check(self.lab.api("smd", "GET", "/groups/%s/members" % self.name)).json()["ids"])

    def received(self, xname):
        """What the node would receive: its vendor-data's include list and each included group file."""
        vendor = check(self.lab.api("cloud-init", "GET", "/admin/impersonation/%s/vendor-data" % xname)).text
        groups = [line.rsplit("/", 1)[1][:-len(".yaml")] for line in vendor.splitlines() if line.endswith(".yaml")]
        files = dict((g, check(self.lab.api("cloud-init", "GET", "/admin/impersonation/%s/%s.yaml" % (xname, g))).text)
                     for g in groups)
        meta = yaml.safe_load(check(self.lab.api("cloud-init", "GET", "/admin/impersonation/%s/meta-data" % xname)).text)
        return groups, files, meta["instance_data"]["v1"]["vendor_data"]["groups"]

    def history(self, root):
        folder = Path(root) / self.name
        return dict((p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.yml")))


@pytest.fixture(scope="module")
def groups(ci_lab):  # pylint: disable=redefined-outer-name
    rnd = random.Random()
    cabinet = rnd.randrange(3000, 8990)
    suffix = rnd.randrange(10 ** 6)
    made = {"ok": Group(ci_lab, "zz-roll-ok-%d" % suffix, 4, cabinet),
            "bad": Group(ci_lab, "zz-roll-bad-%d" % suffix, 3, cabinet + 1)}
    try:
        for group in made.values():
            group.create()
        yield made
    finally:
        for group in made.values():
            group.delete()


def rollout(lab, group, history, extra=None):
    extravars = {"cloud_init_rollout_group": group.name, "cloud_init_rollout_content": NEW["content"],
                 "cloud_init_rollout_meta_data": NEW["meta_data"], "cloud_init_rollout_description": NEW["description"],
                 "cloud_init_rollout_history_dir": str(history), "cloud_init_rollout_actor": "rollout-tester"}
    extravars.update(extra or {})
    return lab.run_playbook(PLAYBOOK, extravars)


def recap(proc):
    found = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert found, "no play recap:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-2000:])
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, found.groups())))


@pytest.fixture(scope="module")
def runs(ci_lab, groups, tmp_path_factory):  # pylint: disable=redefined-outer-name
    """Both rollouts, at the same time: the good one with a verification task file, the bad one with a health
    command that fails on every node but the canary."""
    work = tmp_path_factory.mktemp("rollout")
    history = work / "history"
    healthy = work / "healthy"
    healthy.mkdir()
    bad = groups["bad"]
    (healthy / bad.xnames[0]).write_text("ok\n", encoding="utf-8")  # only the canary passes its health check
    verified = work / "verified.txt"
    verify_tasks = work / "verify.yml"
    verify_tasks.write_text(yaml.safe_dump([{
        "name": "Note the wave",
        "ansible.builtin.lineinfile": {
            "path": str(verified), "create": True, "mode": "0644",
            "line": "wave {{ cloud_init_rollout_wave.number }}/{{ cloud_init_rollout_wave.of }}: "
                    "{{ cloud_init_rollout_wave.nodes | join(',') }}"}}]), encoding="utf-8")
    health = ("sh -c 'test -e %s/\"$ROLLOUT_NODE\" || { echo \"$ROLLOUT_NODE is unhealthy after wave $ROLLOUT_WAVE\" >&2;"
              " exit 3; }'" % healthy)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        good_run = pool.submit(rollout, ci_lab, groups["ok"], history,
                               {"cloud_init_rollout_waves": [1, "50%"], "cloud_init_rollout_verify_tasks": str(verify_tasks)})
        bad_run = pool.submit(rollout, ci_lab, bad, history, {
            "cloud_init_rollout_waves": [1, 1, "100%"], "cloud_init_rollout_health_command": health,
            "cloud_init_rollout_health_hosts": dict((x, "localhost") for x in bad.xnames)})
        return {"ok": good_run.result(), "bad": bad_run.result(), "history": history, "verified": verified}


def assert_settled(group, config):
    """The group has ``config``, all its nodes back, no temporary group left, and every node receives ``config``."""
    assert group.config() == config
    assert group.members() == group.xnames
    assert group.smd_labels() == [group.name], "temporary SMD groups left behind"
    assert list(group.cloud_init_groups()) == [group.name], "temporary cloud-init groups left behind"
    for xname in group.xnames:
        included, files, meta = group.received(xname)
        assert included == [group.name]
        assert files[group.name] == config["content"]
        assert meta[group.name] == dict(config["meta_data"], Description=config["description"])


def test_rollout_succeeds(groups, runs):  # pylint: disable=redefined-outer-name
    group, proc = groups["ok"], runs["ok"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert recap(proc)["failed"] == 0
    assert "to 4 nodes in 3 waves of 1, 2, 1 nodes" in proc.stdout
    # the user's verification tasks ran after each wave, on that wave's nodes
    assert runs["verified"].read_text(encoding="utf-8").splitlines() == [
        "wave 1/3: %s" % group.xnames[0], "wave 2/3: %s" % ",".join(group.xnames[1:3]), "wave 3/3: %s" % group.xnames[3]]
    assert_settled(group, NEW)


def test_rerun_after_success_changes_nothing(ci_lab, groups, runs):  # pylint: disable=redefined-outer-name
    group = groups["ok"]
    before = group.history(runs["history"])
    proc = rollout(ci_lab, group, runs["history"], {"cloud_init_rollout_waves": [1, "50%"]})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert recap(proc)["changed"] == 0
    assert "already has the requested configuration: nothing to do" in proc.stdout
    assert group.history(runs["history"]) == before, "a re-run wrote a history entry"
    assert group.config() == NEW


def test_failed_second_wave_is_rolled_back(groups, runs):  # pylint: disable=redefined-outer-name
    group, proc = groups["bad"], runs["bad"]
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert recap(proc)["failed"] == 1
    assert "cloud-init rollout of group %s FAILED and was rolled back." % group.name in out
    assert "Failure at wave 2 of 3 (%s)" % group.xnames[1] in out
    assert "%s is unhealthy after wave 2" % group.xnames[1] in out
    assert "Nodes touched (they had received the new version): %s, %s" % tuple(group.xnames[:2]) in out
    # the group's configuration is the recorded one, every node is back in the group and receives it
    assert_settled(group, RECORDED)


def test_history_entries_written(groups, runs):  # pylint: disable=redefined-outer-name
    sha = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                         check=True).stdout.strip()
    good, bad = groups["ok"].history(runs["history"]), groups["bad"].history(runs["history"])
    assert list(good) == ["0001.yml"] and list(bad) == ["0001.yml"]
    for entry, group in ((good["0001.yml"], groups["ok"]), (bad["0001.yml"], groups["bad"])):
        assert entry["version"] == 1
        assert entry["group"] == group.name
        assert entry["who"] == "rollout-tester"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", entry["started"])
        assert entry["finished"] >= entry["started"]
        assert entry["commit"]["sha"] == sha
        assert entry["commit"]["repository"] == str(REPO_ROOT / "playbooks")
        assert entry["recorded"] == dict(RECORDED, exists=True)
        assert entry["applied"] == dict(NEW, exists=True)
    assert good["0001.yml"]["status"] == "succeeded"
    assert good["0001.yml"]["nodes_touched"] == groups["ok"].xnames
    assert good["0001.yml"]["waves"] == [groups["ok"].xnames[:1], groups["ok"].xnames[1:3], groups["ok"].xnames[3:]]
    entry = bad["0001.yml"]
    assert entry["status"] == "rolled_back"
    assert entry["nodes_touched"] == groups["bad"].xnames[:2]
    assert "wave 2 of 3" in entry["report"] and "is unhealthy after wave 2" in entry["report"]
