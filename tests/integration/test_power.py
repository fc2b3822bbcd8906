# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Power through PCS: the lab's power-control emulator (lab/pcs.py) on the real SMD and the sushy BMCs,
and the ``power`` and ``power_info`` modules run by real ansible-playbook against it.

Every answer the emulator gives during these tests (it records them in ``lab-state/pcs-answers.jsonl``)
is checked against ``shared/specs/openchami-power-control.swagger.yaml`` after each test.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_power.py``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import requests
import yaml

from openapi_check import OpenApi
import pcs_transcript

DEAD_BMC = "x1000c0s9b0"  # registered in SMD with one node; nothing listens at its address
# PCS has never reached it, so it is not in PCS's component map (power-control v2.12.1 stores a node's state
# only once it changes from the "undefined"/"unavailable" it starts with): reported like an unknown xname
DEAD_NODE = DEAD_BMC + "n0"
UNKNOWN_NODE = "x1000c0s8b0n0"  # a valid xname SMD does not know
TRANSCRIPTS = Path(__file__).parent / "fixtures" / "pcs-transcripts"


@pytest.fixture(scope="module", name="spec")
def fixture_spec():
    return OpenApi("openchami-power-control.swagger.yaml", prefixes=("/v1",))


@pytest.fixture(scope="module", name="pl")
def fixture_power_lab(lab):
    """SMD holding the lab's sushy BMCs (discovered with redfish_discover) and a dead BMC; yields a helper."""
    if "pcs" not in lab.urls:
        pytest.fail("the lab runs no PCS (python -m lab up --services ...,pcs)", pytrace=False)
    sushy = [b for b in lab.bmcs if b["kind"] == "bmc"]
    assert len(sushy) >= 3, lab.bmcs
    lab.clean_smd()
    xname_map = dict((b["ip"], "x1000c0s%db0" % b["index"]) for b in sushy)
    result = lab.run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "cscs.openchami.redfish_discover": {
            "config_file": "{{ openchami_config_file }}", "bmc_user": "{{ openchami_bmc_user }}",
            "bmc_password": "{{ openchami_bmc_password }}", "bmc_ca_path": "{{ openchami_bmc_ca_path }}",
            "targets": sorted(xname_map), "xname_map": xname_map}}]}])
    assert result.returncode == 0, result.stdout + result.stderr
    # a BMC that is gone: SMD still has it and its node (as after a hardware failure)
    dead = {"ID": DEAD_BMC, "FQDN": lab.info["bmcs"][0]["ip"].rsplit(".", 1)[0] + ".250", "User": "admin",
            "Password": "lab-dead-password", "SchemaVersion": 1, "Managers": [],
            "Systems": [{"uri": "/redfish/v1/Systems/Node0", "uuid": "6f3c9a52-2b1e-4c7d-9a11-0c9a3f2d1e01",
                         "name": "Node0", "ethernet_interfaces": [], "power": {"state": "On"},
                         "actions": ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart"]}]}
    answer = lab.api("smd", "PUT", "/Inventory/RedfishEndpoints/" + DEAD_BMC, json=dead)
    assert answer.status_code == 200, answer.text
    # and its node, as discovery left it while the BMC still answered (PCS acts on SMD's State/Components)
    answer = lab.api("smd", "POST", "/State/Components", json={"Components": [
        {"ID": DEAD_NODE, "Type": "Node", "State": "On", "Role": "Compute", "Enabled": True}]})
    assert answer.status_code in (200, 204), answer.text
    power_lab = PowerLab(lab, sushy)
    power_lab.wait_known()
    yield power_lab
    lab.clean_smd()


class PowerLab:
    """The lab's sushy nodes by xname, read back from the BMCs themselves."""

    def __init__(self, lab, sushy):
        self.lab = lab
        self.sushy = dict(("x1000c0s%db0n0" % b["index"], b) for b in sushy)
        self.nodes = sorted(self.sushy)

    def sushy_power(self, xname: str) -> str:
        bmc = self.sushy[xname]
        answer = requests.get(bmc["url"] + "/redfish/v1/Systems/" + bmc["system_uuid"], timeout=10,
                              auth=(self.lab.env["LAB_BMC_USER"], self.lab.env["LAB_BMC_PASSWORD"]),
                              verify=self.lab.env["LAB_BMC_CA_BUNDLE"])
        assert answer.status_code == 200, answer.text
        return answer.json()["PowerState"]

    def pcs(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.lab.api("pcs", method, path, **kwargs)

    def wait_known(self) -> None:
        """Until PCS reports a power state for every sushy node: a real power-control acts only on nodes its
        hardware monitor has polled (before that a transition fails with "Missing xnames detected")."""
        while True:
            answer = self.pcs("POST", "/power-status", json={"xname": self.nodes})
            assert answer.status_code == 200, answer.text
            if all(s["powerState"] in ("on", "off") for s in answer.json()["status"]):
                return
            time.sleep(0.5)

    def wait_transition(self, transition_id: str) -> dict:
        """The transition once PCS says it is finished (PCS's own task deadline bounds the wait)."""
        while True:
            answer = self.pcs("GET", "/transitions/" + transition_id)
            assert answer.status_code == 200, answer.text
            if answer.json()["transitionStatus"] in ("completed", "aborted"):
                return answer.json()
            time.sleep(0.3)

    def transition(self, operation: str, xnames, deadline: int = 1) -> dict:
        answer = self.pcs("POST", "/transitions", json={
            "operation": operation, "taskDeadlineMinutes": deadline, "location": [{"xname": x} for x in xnames]})
        assert answer.status_code == 200, answer.text
        return self.wait_transition(answer.json()["transitionID"])

    def set_power(self, state: str) -> None:
        """Every sushy node to ``state`` ("on"/"off") through PCS, read back from the BMCs."""
        # PCS knows the nodes' power from its own polls of the BMCs (the real one caches it): first wait until it has
        # seen what the BMCs say, since a test before may have changed it behind PCS's back (the Redfish fallback)
        while True:
            status = self.pcs("POST", "/power-status", json={"xname": self.nodes}).json()["status"]
            if all(item.get("powerState") == self.sushy_power(item["xname"]).lower() for item in status):
                break
            time.sleep(1)
        done = self.transition("on" if state == "on" else "force-off", self.nodes)
        assert all(t["taskStatus"] == "succeeded" for t in done["tasks"]), done
        assert [self.sushy_power(x) for x in self.nodes] == [state.title()] * len(self.nodes)


@pytest.fixture(autouse=True)
def every_answer_follows_the_spec(lab, spec):
    """After each test: every answer the PCS emulator gave during it is valid against the upstream spec, but for
    the deviations of the real power-control the emulator copies (``pcs_transcript.as_documented``).

    A real power-control (``LAB_POWER_CONTROL_BIN``) records nothing: then only the tests check its answers.
    """
    if real_pcs(lab):
        yield
        return
    record = lab.state / "pcs-answers.jsonl"
    start = record.stat().st_size if record.exists() else 0
    yield
    assert record.exists(), "the PCS emulator recorded no answer"
    with open(record, encoding="utf-8") as handle:
        handle.seek(start)
        answers = [json.loads(line) for line in handle if line.strip()]
    assert not spec_problems(spec, answers), "\n".join(spec_problems(spec, answers)[:20])


def spec_problems(spec, exchanges) -> list:
    """Why answers do not follow the spec, once the named deviations are allowed (pcs_transcript.as_documented)."""
    return [p for item in exchanges if pcs_transcript.as_documented(item) is not None
            for p in spec.problems(item["method"], item["path"], item["status"], pcs_transcript.as_documented(item))]


def real_pcs(lab) -> bool:
    """Whether the lab's pcs is a real power-control (lab.json ``pcs_program``) rather than lab/pcs.py."""
    return lab.info.get("pcs_program", "lab/pcs.py") != "lab/pcs.py"


def by_xname(transition: dict) -> dict:
    return dict((t["xname"], t) for t in transition["tasks"])


# ---------------------------------------------------------------------- the emulator itself


def test_emulator_transitions_drive_the_bmcs_and_report_per_node(pl):
    pl.set_power("off")
    done = pl.transition("on", pl.nodes + [DEAD_NODE, UNKNOWN_NODE])
    assert done["transitionStatus"] == "completed" and done["operation"] == "On"
    tasks = by_xname(done)
    assert [tasks[x]["taskStatus"] for x in pl.nodes] == ["succeeded"] * len(pl.nodes)
    assert [pl.sushy_power(x) for x in pl.nodes] == ["On"] * len(pl.nodes)
    for node in (DEAD_NODE, UNKNOWN_NODE):
        assert tasks[node] == {"xname": node, "taskStatus": "failed", "error": "Missing xname",
                               "taskStatusDescription": "Failed to achieve transition"}
    assert done["taskCounts"] == {"total": len(pl.nodes) + 2, "new": 0, "in-progress": 0, "failed": 2,
                                  "succeeded": len(pl.nodes), "un-supported": 0}

    # already on: nothing is sent, the task says so
    again = by_xname(pl.transition("on", pl.nodes[:1]))
    assert again[pl.nodes[0]]["taskStatusDescription"] == "Component already in desired state"

    # a restart needs the node on; hard-restart goes through off and back on
    pl.transition("force-off", pl.nodes[1:2])
    restart = by_xname(pl.transition("hard-restart", pl.nodes[:2]))
    assert restart[pl.nodes[0]]["taskStatus"] == "succeeded", restart
    assert restart[pl.nodes[1]]["taskStatus"] == "failed"
    assert restart[pl.nodes[1]]["error"] == "Component is in the wrong power state"
    assert [pl.sushy_power(x) for x in pl.nodes[:2]] == ["On", "Off"]


def test_emulator_power_status_abort_and_errors(pl):
    pl.set_power("on")
    answer = pl.pcs("POST", "/power-status", json={"xname": pl.nodes + [DEAD_NODE, UNKNOWN_NODE]})
    assert answer.status_code == 200
    status = dict((s["xname"], s) for s in answer.json()["status"])
    assert [status[x]["powerState"] for x in pl.nodes] == ["on"] * len(pl.nodes)
    assert status[pl.nodes[0]]["managementState"] == "available"
    assert set(status[pl.nodes[0]]["supportedPowerTransitions"]) == {
        "On", "Off", "Soft-Off", "Force-Off", "Soft-Restart", "Hard-Restart", "Init"}
    for node in (DEAD_NODE, UNKNOWN_NODE):  # the real one sends "" for both states, the emulator leaves them out
        assert status[node]["error"] == "Component not found in component map.", status[node]
        assert not status[node].get("powerState") and not status[node].get("managementState")
    # the same through GET, under /v1, filtered
    answer = pl.pcs("GET", "/v1/power-status", params={"xname": pl.nodes + [DEAD_NODE], "powerStateFilter": "on"})
    assert [s["xname"] for s in answer.json()["status"]] == pl.nodes + [DEAD_NODE]  # not filtered: no state
    # without xnames: every component in PCS's component map (the real one lists the BMCs too)
    listed = [s["xname"] for s in pl.pcs("GET", "/power-status").json()["status"]]
    assert set(pl.nodes) <= set(listed) and DEAD_NODE not in listed, listed

    # bad input: RFC 7807 answers
    bad = pl.pcs("POST", "/transitions", json={"operation": "explode", "location": [{"xname": pl.nodes[0]}]})
    assert bad.status_code == 400 and bad.json()["detail"] == "invalid Operation type explode"
    assert pl.pcs("GET", "/power-status", params={"powerStateFilter": "sideways"}).status_code == 400
    assert pl.pcs("GET", "/transitions/not-a-uuid").status_code == 400
    # no token, expired token: refused (liveness and readiness stay public)
    assert pl.pcs("GET", "/transitions", token=None).status_code == 401
    assert pl.pcs("GET", "/transitions", token=pl.lab.mint(expired=True)).status_code == 401
    assert pl.pcs("GET", "/liveness", token=None).status_code == 204

    # abort: a soft-off with a long deadline, aborted while PCS works on it
    started = pl.pcs("POST", "/transitions", json={
        "operation": "soft-off", "taskDeadlineMinutes": 10, "location": [{"xname": x} for x in pl.nodes[:1]]})
    ident = started.json()["transitionID"]
    aborted = pl.pcs("DELETE", "/transitions/" + ident)
    assert aborted.status_code == 202 and aborted.json() == {"abortStatus": "Accepted - abort initiated"}
    final = pl.wait_transition(ident)
    assert final["transitionStatus"] == "aborted"
    task = final["tasks"][0]
    assert task["taskStatus"] == "failed" and task["error"] == "Transition aborted", task
    # aborting it again is accepted again (the real power-control answers so); a completed one cannot be aborted
    again = pl.pcs("DELETE", "/transitions/" + ident)
    assert again.status_code == 202 and again.json() == {"abortStatus": "Accepted - abort initiated"}
    completed = pl.transition("on", pl.nodes[1:2])
    assert completed["transitionStatus"] == "completed"
    refused = pl.pcs("DELETE", "/transitions/" + completed["transitionID"])
    assert refused.status_code == 400 and refused.json()["detail"] == "Transition is already finished and cannot be aborted."
    listed = pl.pcs("GET", "/transitions").json()["transitions"]
    assert ident in [t["transitionID"] for t in listed] and all("tasks" not in t for t in listed)
    # power capping: the emulator does not support it, and the lab's sushy BMCs have no power limits; either way
    # the task ends with an error for the component (the real one asks the BMC first)
    cap_task = pl.pcs("POST", "/power-cap/snapshot", json={"xnames": pl.nodes[:1]}).json()["taskID"]
    capped = pl.pcs("GET", "/power-cap/" + cap_task).json()
    while capped.get("taskStatus") != "completed":
        time.sleep(0.5)
        capped = pl.pcs("GET", "/power-cap/" + cap_task).json()
    assert capped["components"][0]["xname"] == pl.nodes[0] and capped["components"][0].get("error"), capped
    if "Confirming" in task["taskStatusDescription"]:  # aborted after the shutdown was sent: it still lands
        while pl.sushy_power(pl.nodes[0]) != "Off":
            time.sleep(0.5)


def test_emulator_answers_as_the_recorded_power_control_and_the_recordings_follow_the_spec(pl, spec):
    """The steps of pcs_transcript.py sent to the lab's PCS answer what the real power-control answered (ids and
    times aside), and what the real one answered is valid under its document but for the deviations
    ``pcs_transcript.as_documented`` names. ``PCS_TRANSCRIPT_OUT=FILE`` also writes this run's exchanges there:
    with ``LAB_POWER_CONTROL_BIN`` that is how the lab records a transcript (fixtures/pcs-transcripts/README.md)."""
    def send(method, path, body, token):
        return pl.pcs(method, path, json=body, **({} if token else {"token": None}))
    pl.set_power("on")
    replayed = pcs_transcript.run(send, pl.nodes, DEAD_NODE, UNKNOWN_NODE)
    if os.environ.get("PCS_TRANSCRIPT_OUT"):
        program = os.environ.get("PCS_TRANSCRIPT_PROGRAM") or pl.lab.info.get("pcs_program")
        pcs_transcript.write(os.environ["PCS_TRANSCRIPT_OUT"], program, pl.nodes, DEAD_NODE, UNKNOWN_NODE, replayed)
    files = sorted(TRANSCRIPTS.glob("*.json"))
    assert files, "no transcript in %s" % TRANSCRIPTS
    for path in files:
        transcript = json.loads(path.read_text(encoding="utf-8"))
        assert (transcript["nodes"], transcript["dead"], transcript["unknown"]) == (pl.nodes, DEAD_NODE, UNKNOWN_NODE), \
            "%s was recorded on other nodes than this lab has" % path.name
        problems = spec_problems(spec, transcript["exchanges"])
        assert not problems, path.name + ":\n" + "\n".join(problems[:20])
        differences = pcs_transcript.differences(transcript["exchanges"], replayed)
        assert not differences, path.name + ":\n" + "\n".join(differences[:20])


# ---------------------------------------------------------------------- the power and power_info modules


def play(pl, tasks, check=False, defaults=None):
    """Run ``tasks`` (each registered as out_N, errors ignored) with the connection set once; returns (result, outs)."""
    lab = pl.lab
    defaults = defaults or {"config_file": "{{ openchami_config_file }}"}
    # power is in both action groups: the BMC options (for the Redfish fallback) are set with the redfish group's
    bmc = {"bmc_user": "{{ openchami_bmc_user }}", "bmc_password": "{{ openchami_bmc_password }}",
           "bmc_ca_path": "{{ openchami_bmc_ca_path }}", "workers": 8}
    tasks = [dict(task, register="out_%d" % index, ignore_errors=True) for index, task in enumerate(tasks)]
    out_file = lab.state / "tmp" / ("power-%d.json" % time.monotonic_ns())
    out_file.parent.mkdir(exist_ok=True)
    show = {"ansible.builtin.copy": {"content": "{{ {%s} | to_json }}" % ", ".join(
        "'%s': %s" % (t["register"], t["register"]) for t in tasks), "dest": str(out_file)}, "check_mode": False}
    playbook = [{"hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/cscs.openchami.openchami": defaults, "group/cscs.openchami.redfish": bmc},
                 "tasks": tasks + [show]}]
    result = lab.run_playbook(playbook, check=check)
    assert out_file.exists(), result.stdout + result.stderr
    return result, json.loads(out_file.read_text())


def power_task(nodes, state, **options):
    return {"cscs.openchami.power": dict({"nodes": nodes, "state": state, "wait_timeout": 120}, **options)}


def transition_count(pl) -> int:
    return len(pl.pcs("GET", "/transitions").json()["transitions"])


def test_power_on_off_restart_through_pcs_read_back_from_the_bmcs(pl):
    pl.set_power("on")
    before = transition_count(pl)
    _result, out = play(pl, [power_task(pl.nodes, "off"), power_task(pl.nodes, "off")])
    first, again = out["out_0"], out["out_1"]
    assert first.get("failed") is not True, first
    assert first["changed"] is True and first["summary"] == {"ok": len(pl.nodes), "changed": len(pl.nodes)}
    assert [(n["name"], n["before"], n["after"], n["task_status"]) for n in first["nodes"]] == \
        [(x, "on", "off", "succeeded") for x in pl.nodes]
    assert len(set(n["transition_id"] for n in first["nodes"])) == 1  # one transition for all nodes
    assert [pl.sushy_power(x) for x in pl.nodes] == ["Off"] * len(pl.nodes)
    # the second run changes nothing and starts no transition
    assert again["changed"] is False and all(n["status"] == "ok" and n["after"] == "off" for n in again["nodes"])
    assert transition_count(pl) == before + 1

    _result, out = play(pl, [power_task(pl.nodes, "on"), power_task(pl.nodes[:2], "hard-restart"),
                             power_task(pl.nodes[2:], "soft-restart")])
    assert [n["after"] for n in out["out_0"]["nodes"]] == ["on"] * len(pl.nodes), out["out_0"]
    assert [pl.sushy_power(x) for x in pl.nodes] == ["On"] * len(pl.nodes)
    for restart in (out["out_1"], out["out_2"]):
        assert restart.get("failed") is not True, restart
        assert all(n["changed"] and n["task_status"] == "succeeded" and n["after"] == "on" for n in restart["nodes"])
    assert [pl.sushy_power(x) for x in pl.nodes] == ["On"] * len(pl.nodes)
    assert transition_count(pl) == before + 4


def test_power_dead_bmc_reported_per_node_while_the_others_are_acted_on(pl):
    pl.set_power("on")
    _result, out = play(pl, [power_task(pl.nodes + [DEAD_NODE, UNKNOWN_NODE], "force-off")])
    task = out["out_0"]
    assert task["failed"] is True and "2 of %d nodes failed" % (len(pl.nodes) + 2) in task["msg"], task["msg"]
    nodes = dict((n["name"], n) for n in task["nodes"])
    assert all(nodes[x]["status"] == "ok" and nodes[x]["after"] == "off" for x in pl.nodes)
    assert [pl.sushy_power(x) for x in pl.nodes] == ["Off"] * len(pl.nodes)
    # a node PCS does not know (or has never reached) is not sent to it
    for node in (DEAD_NODE, UNKNOWN_NODE):
        assert nodes[node] == {"name": node, "status": "failed", "changed": False, "before": "undefined",
                               "after": "undefined", "message": "Component not found in component map."}
        assert node in task["msg"]
    assert "lab-dead-password" not in json.dumps(task)


def test_power_check_mode_transitions_nothing_and_bad_input_changes_nothing(pl):
    pl.set_power("off")
    before = transition_count(pl)
    _result, out = play(pl, [power_task(pl.nodes, "on"), power_task(pl.nodes, "init")], check=True)
    for task in (out["out_0"], out["out_1"]):
        assert task["changed"] is True and task.get("failed") is not True, task
        assert [(n["before"], n["after"], n["changed"]) for n in task["nodes"]] == [("off", "on", True)] * len(pl.nodes)
        assert task["diff"]["before"][pl.nodes[0]] == "off" and task["diff"]["after"][pl.nodes[0]] == "on"
    assert transition_count(pl) == before
    assert [pl.sushy_power(x) for x in pl.nodes] == ["Off"] * len(pl.nodes)

    _result, out = play(pl, [power_task(pl.nodes + ["x1000c0s1b0q9", "nonsense"], "on"),
                             power_task(pl.nodes, "on", wait_timeout=0),
                             power_task(pl.nodes, "sideways")])
    bad, no_wait, unknown_state = out["out_0"], out["out_1"], out["out_2"]
    assert bad["failed"] is True and "nothing was changed" in bad["msg"]
    assert "x1000c0s1b0q9" in bad["msg"] and "nonsense" in bad["msg"]
    assert no_wait["failed"] is True and "wait_timeout" in no_wait["msg"]
    assert unknown_state["failed"] is True and "sideways" in unknown_state["msg"]
    assert transition_count(pl) == before
    assert [pl.sushy_power(x) for x in pl.nodes] == ["Off"] * len(pl.nodes)


def test_power_without_pcs_falls_back_to_redfish_through_smd(pl):
    pl.set_power("off")
    before = transition_count(pl)
    # the lab's ochami configuration without its pcs entry: a cluster with no power-control service
    config = yaml.safe_load(Path(pl.lab.env["OCHAMI_CONFIG"]).read_text(encoding="utf-8"))
    for cluster in config["clusters"]:
        cluster["cluster"].pop("pcs", None)
    no_pcs = pl.lab.state / "tmp" / "ochami-no-pcs.yaml"
    no_pcs.write_text(yaml.safe_dump(config), encoding="utf-8")
    _result, out = play(pl, [power_task(pl.nodes, "on"), power_task(pl.nodes, "on"),
                             power_task(pl.nodes[:1], "off", backend="redfish", config_file="{{ openchami_config_file }}")],
                        defaults={"config_file": str(no_pcs)})
    first, again, forced = out["out_0"], out["out_1"], out["out_2"]
    assert first.get("failed") is not True, first
    assert [(n["name"], n["before"], n["after"], n["reset_type"]) for n in first["nodes"]] == \
        [(x, "off", "on", "On") for x in pl.nodes]
    assert "transition_id" not in first["nodes"][0]
    assert again["changed"] is False and [n["before"] for n in again["nodes"]] == ["on"] * len(pl.nodes)
    # backend=redfish goes to the BMCs even where a PCS is configured
    assert forced.get("failed") is not True and forced["nodes"][0]["reset_type"] == "ForceOff", forced
    assert [pl.sushy_power(x) for x in pl.nodes] == ["Off"] + ["On"] * (len(pl.nodes) - 1)
    assert transition_count(pl) == before


def test_power_info_reads_many_nodes_in_one_request(pl):
    pl.set_power("on")
    pl.transition("force-off", pl.nodes[:1])
    _result, out = play(pl, [{"cscs.openchami.power_info": {"nodes": pl.nodes + [DEAD_NODE]}},
                             {"cscs.openchami.power_info": {"power_state": "off"}},
                             {"cscs.openchami.power_info": {"nodes": ["bad-name"]}}])
    listed, off, bad = out["out_0"], out["out_1"], out["out_2"]
    assert listed["changed"] is False
    states = dict((n["name"], (n["power_state"], n["management_state"])) for n in listed["nodes"])
    assert states == dict([(pl.nodes[0], ("off", "available"))] + [(x, ("on", "available")) for x in pl.nodes[1:]] +
                          [(DEAD_NODE, ("undefined", ""))])
    assert listed["summary"] == {"on": len(pl.nodes) - 1, "off": 1, "undefined": 1}
    assert [n["name"] for n in off["nodes"]] == pl.nodes[:1]
    assert "Hard-Restart" in off["nodes"][0]["supported_transitions"]
    assert bad["failed"] is True and "bad-name" in bad["msg"]
