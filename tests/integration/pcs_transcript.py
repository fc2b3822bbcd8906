# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The power-control transcript (fixtures/pcs-transcripts/): the requests, how they are sent, how answers are
compared and which answers of the real program its own document does not allow.

The same steps go to the real power-control (to record) and to the lab's emulator (to compare, in
test_power.py). Record against any PCS that manages ``--nodes`` (on or off, BMCs answering), ``--dead`` (a node
in SMD whose BMC has never answered) and knows nothing of ``--unknown``, with a token in ``$PCS_ACCESS_TOKEN``::

    PCS_ACCESS_TOKEN=... .venv/bin/python tests/integration/pcs_transcript.py --pcs-url URL \\
        --nodes x1000c0s1b0n0,x1000c0s2b0n0,x1000c0s3b0n0 --dead x1000c0s9b0n0 --unknown x1000c0s8b0n0 \\
        --out tests/integration/fixtures/pcs-transcripts/power-control-v2.12.1.json

fixtures/pcs-transcripts/README.md says how the lab does it in one command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date

import requests

# what differs from one run to the next, not between programs: times (ids are named in order, see normalise)
VOLATILE = ("createTime", "automaticExpirationTime", "lastUpdated")
ZERO_ID = "00000000-0000-0000-0000-000000000000"
WAIT = "wait"  # a step whose transition is followed until it is finished
ABORT = "abort"  # a step whose transition is aborted at once, then followed until it is finished


def steps(nodes, dead, unknown):
    """(method, path, json body or None, send a token, what to do with a transition it starts)."""
    every = [{"xname": x} for x in nodes + [dead, unknown]]
    return [
        ("GET", "/liveness", None, False, None),
        ("GET", "/readiness", None, False, None),
        ("GET", "/transitions", None, False, None),
        ("POST", "/transitions", {"operation": "force-off", "taskDeadlineMinutes": 1, "location": every}, True, WAIT),
        ("GET", "/power-status?xname=%s&xname=%s&xname=%s" % (nodes[0], dead, unknown), None, True, None),
        ("POST", "/power-status", {"xname": nodes + [dead, unknown]}, True, None),
        ("GET", "/power-status?powerStateFilter=off&xname=%s&xname=%s" % (nodes[0], dead), None, True, None),
        ("GET", "/v1/power-status?powerStateFilter=on&xname=" + nodes[0], None, True, None),
        ("GET", "/power-status?managementStateFilter=available&xname=" + nodes[1], None, True, None),
        ("GET", "/power-status?xname=not-an-xname", None, True, None),
        ("GET", "/power-status?xname=%s,%s" % (nodes[0], nodes[1]), None, True, None),
        ("GET", "/power-status?powerStateFilter=sideways", None, True, None),
        ("GET", "/power-status?managementStateFilter=sideways", None, True, None),
        ("POST", "/transitions", {"operation": "on", "taskDeadlineMinutes": 1, "location": every}, True, WAIT),
        ("POST", "/v1/transitions", {"operation": "on", "taskDeadlineMinutes": 1,
                                     "location": [{"xname": nodes[0]}]}, True, WAIT),
        ("POST", "/transitions", {"operation": "hard-restart", "taskDeadlineMinutes": 1,
                                  "location": [{"xname": x} for x in nodes[:2]]}, True, WAIT),
        ("POST", "/transitions", {"operation": "soft-off", "taskDeadlineMinutes": 10,
                                  "location": [{"xname": nodes[-1]}]}, True, ABORT),
        ("GET", "/transitions", None, True, None),
        ("GET", "/transitions/" + ZERO_ID, None, True, None),
        ("GET", "/transitions/not-a-uuid", None, True, None),
        ("DELETE", "/transitions/" + ZERO_ID, None, True, None),
        ("POST", "/transitions", {}, True, None),
        ("POST", "/transitions", {"operation": "explode", "location": [{"xname": nodes[0]}]}, True, None),
        ("POST", "/transitions", {"operation": "on", "location": []}, True, WAIT),
        ("POST", "/transitions", {"operation": "on", "taskDeadlineMinutes": 1,
                                  "location": [{"xname": "not-an-xname"}]}, True, WAIT),
        ("POST", "/transitions", {"operation": "force-off", "taskDeadlineMinutes": 1,
                                  "location": [{"xname": nodes[-1]}]}, True, WAIT),
        ("POST", "/transitions", {"operation": "on", "taskDeadlineMinutes": 1,
                                  "location": [{"xname": nodes[-1]}]}, True, WAIT),
    ]


def run(send, nodes, dead, unknown):
    """Send the steps through ``send(method, path, body, token) -> requests.Response``; the exchanges, as recorded.

    A step that starts a transition is followed by ``GET /transitions/<started>`` once PCS says it is finished
    (after ``DELETE /transitions/<started>`` for an aborted one).
    """
    exchanges = []
    for method, path, body, token, then in steps(nodes, dead, unknown):
        answer = send(method, path, body, token)
        exchanges.append(_exchange(method, path, body, answer))
        if then and answer.status_code == 200:
            ident = answer.json()["transitionID"]
            if then == ABORT:
                exchanges.append(_exchange("DELETE", "/transitions/<started>", None,
                                           send("DELETE", "/transitions/" + ident, None, True)))
            while True:
                answer = send("GET", "/transitions/" + ident, None, True)
                if answer.status_code != 200 or answer.json()["transitionStatus"] in ("completed", "aborted"):
                    break
                time.sleep(0.5)
            exchanges.append(_exchange("GET", "/transitions/<started>", None, answer))
    return exchanges


def _exchange(method, path, body, answer):
    try:
        parsed = answer.json() if answer.content else None
    except ValueError:
        parsed = answer.text
    return {"method": method, "path": path, "request": body, "status": answer.status_code,
            "content_type": answer.headers.get("Content-Type", ""), "body": parsed}


def normalise(exchanges):
    """The exchanges as compared: transition ids named ``<t1>``, ``<t2>`` ... in the order they were started,
    listed transitions limited to those, times left out, tasks and statuses in xname order, the description of an
    aborted task left out (it says how far the task had got when the abort arrived: a matter of timing)."""
    names = {}
    for item in exchanges:
        if item["method"] == "POST" and item["status"] == 200 and isinstance(item["body"], dict) \
                and "transitionID" in item["body"]:
            names.setdefault(item["body"]["transitionID"], "<t%d>" % (len(names) + 1))
    return [dict(item, body=_comparable(item["body"], names)) for item in exchanges]


def _comparable(value, names):
    if isinstance(value, dict):
        out = {key: _comparable(item, names) for key, item in value.items() if key not in VOLATILE}
        if out.get("taskStatus") == "failed" and out.get("error") == "Transition aborted":
            out.pop("taskStatusDescription", None)
        return out
    if isinstance(value, list):
        items = [_comparable(item, names) for item in value]
        if items and all(isinstance(item, dict) and "transitionID" in item for item in items):
            return sorted((item for item in items if str(item["transitionID"]).startswith("<t")),
                          key=lambda item: int(item["transitionID"][2:-1]))
        if items and all(isinstance(item, dict) and "xname" in item for item in items):
            return sorted(items, key=lambda item: item["xname"])
        return items
    if isinstance(value, str):
        return names.get(value, value)
    return value


def differences(recorded, replayed):
    """Lines saying where the replayed exchanges differ from the recorded ones (status or normalised answer)."""
    out = []
    if len(recorded) != len(replayed):
        out.append("%d exchanges recorded, %d replayed" % (len(recorded), len(replayed)))
    for old, new in zip(normalise(recorded), normalise(replayed)):
        if (old["method"], old["path"]) != (new["method"], new["path"]):
            out.append("out of step: recorded %s %s, replayed %s %s" % (
                old["method"], old["path"], new["method"], new["path"]))
            break
        if old["status"] != new["status"] or old["body"] != new["body"]:
            out.append("%s %s %s: recorded %s %s\n    replayed %s %s" % (
                old["method"], old["path"], json.dumps(old["request"]), old["status"], json.dumps(old["body"]),
                new["status"], json.dumps(new["body"])))
    return out


def as_documented(item):
    """The answer as power-control's document would have it, for what v2.12.1 is known to send outside it: a
    component it has no data for has ``""`` states and time and null transitions (left out), a transition keeps
    the invalid xname it was given in its task (left out), and two answers are documented nowhere (None, not
    checked): 401 from its JWT middleware in plain text, and 404 for an unknown transition id."""
    if item["status"] == 401 or (item["status"] == 404 and item["method"] == "GET"
                                 and item["path"].startswith(("/transitions/", "/v1/transitions/"))):
        return None
    body = item["body"]
    if isinstance(body, dict) and isinstance(body.get("tasks"), list):
        body = dict(body, tasks=[task for task in body["tasks"] if task.get("error") != "Invalid xname"])
    if isinstance(body, dict) and isinstance(body.get("status"), list):
        body = dict(body, status=[
            {key: value for key, value in entry.items()
             if not (entry.get("error") and value in ("", None) and key in (
                 "powerState", "managementState", "lastUpdated", "supportedPowerTransitions"))}
            for entry in body["status"]])
    return body


def main(argv=None) -> int:
    """Record the transcript against ``--pcs-url``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcs-url", required=True, help="PCS base URL (its routes at / and /v1/)")
    parser.add_argument("--nodes", required=True, help="comma-separated node xnames PCS manages (at least 2)")
    parser.add_argument("--dead", required=True, help="a node in SMD whose BMC has never answered")
    parser.add_argument("--unknown", required=True, help="a valid node xname SMD does not know")
    parser.add_argument("--program", default="OpenCHAMI/power-control v2.12.1", help="what answers at --pcs-url")
    parser.add_argument("--out", required=True, help="the transcript file to write")
    args = parser.parse_args(argv)
    token = os.environ.get("PCS_ACCESS_TOKEN") or ""
    session = requests.Session()
    base = args.pcs_url.rstrip("/")

    def send(method, path, body, with_token):
        headers = {"Authorization": "Bearer " + token} if with_token and token else {}
        return session.request(method, base + path, json=body, headers=headers, timeout=60)
    nodes = args.nodes.split(",")
    exchanges = run(send, nodes, args.dead, args.unknown)
    write(args.out, args.program, nodes, args.dead, args.unknown, exchanges)
    print("%d exchanges written to %s" % (len(exchanges), args.out))
    return 0


def write(path, program, nodes, dead, unknown, exchanges):
    """A transcript file: what answered, when, on which nodes, and the exchanges."""
    transcript = {"program": program, "recorded": date.today().isoformat(), "nodes": nodes, "dead": dead,
                  "unknown": unknown, "exchanges": exchanges}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(transcript, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    sys.exit(main())
