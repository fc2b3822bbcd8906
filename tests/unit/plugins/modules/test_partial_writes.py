# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A task that fails after writing part of its work says so: changed, what was written, what was not.

A scripted server plays SMD and refuses the Nth write; the engine (resource.apply) and the module guard
turn that into the result a user sees.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Client
from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer
from ansible_collections.cscs.openchami.tests.unit.plugins.modules.test_no_secrets_in_output import BIN, COLLECTIONS

MACS = ["02:00:00:00:00:%02x" % i for i in range(1, 6)]
REFUSED = (500, {}, {"detail": "operation 'POST' failed during store."})
CREATED = (201, {}, {"ok": True})


def wanted():
    return [{"MACAddress": mac, "ComponentID": "x1000c0s0b0n0", "Description": "", "IPAddresses": []} for mac in MACS]


def test_write_count_counts_only_successful_writes():
    with FakeServer([(200, {}, []), CREATED, REFUSED]) as srv:
        client = Client(srv.url, retries=0)
        client.get("/x")
        client.post("/x", {})
        with pytest.raises(ApiError):
            client.post("/x", {})
    assert (client.request_count, client.write_count) == (3, 1)


def test_third_of_five_creates_refused_names_what_was_written():
    answers = [(200, {}, [])] + [CREATED, CREATED, REFUSED, CREATED, CREATED]
    with FakeServer(answers) as srv:
        api = smd.SMD(Client(srv.url, retries=0), workers=1)
        with pytest.raises(resource.ApplyError) as caught:
            smd.apply_interfaces(api, wanted())
    error = caught.value
    assert [c.key for c in error.written] == MACS[:2] + MACS[3:]
    assert [c.key for c in error.in_doubt] == [MACS[2]]
    assert error.not_written == []
    report = error.report()
    assert report["written"]["count"] == 4 and report["in_doubt"]["requests_succeeded"] == 4
    assert "failed during store" in error.message() and "4 written" in error.message()


def test_failed_step_stops_the_later_ones():
    recorder = []

    def delete(changes):
        recorder.append("delete")

    def create(changes):
        raise ApiError("POST /x failed: HTTP 400: linked component does not exist")

    current = [{"ID": "a", "v": 1}, {"ID": "b", "v": 1}, {"ID": "gone", "v": 1}]
    desired = [{"ID": "a", "v": 2}, {"ID": "new", "v": 1}]
    the_plan = resource.plan(desired, current, "ID", purge=True)
    with pytest.raises(resource.ApplyError) as caught:
        resource.apply(the_plan, create=create, update=lambda changes: recorder.append("update"), delete=delete)
    assert recorder == ["delete"]
    error = caught.value
    assert [(c.action, c.key) for c in error.written] == [("delete", "b"), ("delete", "gone")]
    assert [c.key for c in error.in_doubt] == ["new"] and [c.key for c in error.not_written] == ["a"]
    assert error.report()["not_written"] == {"count": 1, "items": ["update a"]}


def test_second_chunk_of_components_refused_names_the_first_as_written():
    desired = [{"ID": "x1000c0s%db0n%d" % (i // 2, i % 2), "State": "Ready"} for i in range(smd.UPSERT_CHUNK + 2)]
    with FakeServer([(204, {}, ""), REFUSED]) as srv:
        api = smd.SMD(Client(srv.url, retries=0))
        the_plan = resource.plan(desired, [], "ID")
        with pytest.raises(resource.ApplyError) as caught:
            resource.apply(the_plan, create=lambda changes: api.upsert_components([c.after for c in changes]))
    assert len(srv.requests) == 2
    assert [c.key for c in caught.value.written] == [d["ID"] for d in desired[:smd.UPSERT_CHUNK]]
    assert [c.key for c in caught.value.in_doubt] == [d["ID"] for d in desired[smd.UPSERT_CHUNK:]]
    assert caught.value.report()["in_doubt"]["requests_succeeded"] == 1


def run_task(url, task):
    """One task by real ansible-playbook; its registered result."""
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    playbook = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        dict(task, register="out", ignore_errors=True),
        {"ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": out}}]}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        json.dump(playbook, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", OPENCHAMI_USE_AUTH="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)
    env.pop("OCHAMI_CONFIG", None)
    try:
        proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", handle.name],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with open(out) as result:
            return json.load(result)
    finally:
        os.unlink(handle.name)
        os.unlink(out)


def test_module_that_failed_after_writing_reports_changed_and_what_it_wrote():
    answers = [(200, {}, [])] + [CREATED, CREATED, REFUSED, CREATED, CREATED]
    with FakeServer(answers) as srv:
        result = run_task(srv.url, {"cscs.openchami.smd_ethernet_interface": {
            "service_uris": {"smd": srv.url}, "workers": 1,
            "interfaces": [{"mac": mac, "component_id": "x1000c0s0b0n0"} for mac in MACS]}})
    assert result["failed"] is True
    assert result["changed"] is True
    assert "failed during store" in result["msg"] and "Re-running the task" in result["msg"]
    assert result["partial"]["written"] == {"count": 4, "items": ["create " + m for m in MACS[:2] + MACS[3:]]}
    assert result["partial"]["in_doubt"]["items"] == ["create " + MACS[2]]


def test_module_that_failed_before_writing_reports_no_change():
    answers = [(200, {}, []), REFUSED]
    with FakeServer(answers) as srv:
        result = run_task(srv.url, {"cscs.openchami.smd_ethernet_interface": {
            "service_uris": {"smd": srv.url}, "interfaces": [{"mac": MACS[0]}]}})
    assert result["failed"] is True and result["changed"] is False
    assert result["partial"]["written"]["count"] == 0


def test_dest_that_cannot_be_written_fails_cleanly_with_the_discovery_in_the_result(tmp_path):
    """redfish_discover's dest in a directory that does not exist: a message naming dest, no traceback."""
    with FakeServer() as srv:  # no BMC answers on the port given: the discovery reports the BMC, dest fails
        dest = tmp_path / "missing" / "discovered.json"
        result = run_task(srv.url, {"cscs.openchami.redfish_discover": {
            "targets": [{"address": "127.0.0.1", "xname": "x3000c0s1b0"}], "port": 1, "push": False,
            "dest": str(dest)}})
    assert result["failed"] is True and "MODULE FAILURE" not in result["msg"]
    assert result["msg"].startswith("cannot write dest %s: No such file or directory" % dest)
    assert [b["address"] for b in result["bmcs"]] == ["127.0.0.1"] and not dest.exists()
