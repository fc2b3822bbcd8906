# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An emulator of OpenCHAMI's power-control service (PCS) for the lab.

The real power-control cannot be built from the project's files (the Go module proxy serves no version
of it), so the lab runs this instead. It answers the API of ``shared/specs/openchami-power-control.swagger.yaml``
(routes at ``/`` and ``/v1/``, as the real one), and, like the real one, it finds each node's BMC in SMD
(``/Inventory/ComponentEndpoints`` and ``/Inventory/RedfishEndpoints``, with a token from the lab token
endpoint) and drives it over Redfish: ``POST <ResetAction target>`` with the BMC's credentials from SMD,
then it reads ``PowerState`` until the node is where the operation ends.

What it follows of the real service (power-control v2.12.1, internal/domain/transitions.go):

* one transition holds one task per xname; task statuses ``new in-progress failed succeeded unsupported``,
  transition statuses ``new in-progress completed aborted abort-signaled``;
* ``on``/``off``/``soft-off``/``force-off`` on a node already in the end state: task succeeded,
  "Component already in desired state", nothing sent;
* ``off`` is GracefulShutdown then, after ``taskDeadlineMinutes``, ForceOff; ``soft-off`` never forces;
  ``hard-restart`` is off then on; ``soft-restart`` is GracefulRestart (ForceRestart where only that is
  offered), off then on where neither is; ``init`` is off (if on) then on; restarts need the node On;
* the reset type is taken from the ResetType values SMD recorded for the node, with the same fallbacks
  (GracefulShutdown -> Off, GracefulRestart -> ForceRestart);
* a BMC that does not answer fails its own tasks ("Failed to apply transition, <action>"), the others go on;
* a node whose BMC has never answered since the service started is not in its component map: power status
  "Component not found in component map.", transitions "Missing xname", left out of a status of all nodes
  (the real one stores a node's power state only when it changes from the "undefined"/"unavailable" it starts
  with, so a node that was never reached is never stored);
* ``/power-status`` reports ``powerState`` on/off/undefined, ``managementState`` available/unavailable,
  ``error`` ("No response from target" for a dead BMC), ``supportedPowerTransitions`` derived from the
  reset types as the real one does, for the nodes asked for (all nodes SMD knows when none are named);
* errors are RFC 7807 documents (``application/problem+json``).

What differs: for a component SMD does not know, ``powerState``, ``managementState`` and ``lastUpdated`` are
sent as the real one sends them (empty strings and null, which its spec does not allow); a status of all components lists the
nodes only (the real one also lists the BMCs and chassis it can read);
power states are read from the BMC when asked (the real one samples every 30 s and answers
from its store), confirmation polls every second (the real one every 15 s), no SMD reservations,
no power capping (snapshots and patches complete at once with an error per component), one process only.

    python -m lab.pcs --listen 127.0.0.1:27775 --smd-url URL [--token-url URL] [--jwks-url URL] [--record FILE]

``--record`` appends every answer to a JSON-lines file; the tests validate each one against the spec.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests
import urllib3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

OPERATIONS = {"on": "On", "off": "Off", "soft-off": "Soft-Off", "soft-restart": "Soft-Restart",
              "hard-restart": "Hard-Restart", "init": "Init", "force-off": "Force-Off"}
EXPIRE_MINUTES = 24 * 60
CONFIRM_INTERVAL = 1.0
XNAME = re.compile(r"^x\d{1,4}(c[0-7](s\d+(b\d+(n\d+)?)?|b0|r\d+(b\d+)?)?)?$")
NODE = re.compile(r"^x\d{1,4}c[0-7]s\d+b\d+n\d+$")
# power actions (lower-case Redfish ResetType) -> the ResetTypes that may be sent for it, in order
FALLBACK = {"gracefulshutdown": ("gracefulshutdown", "off"), "gracefulrestart": ("gracefulrestart", "forcerestart"),
            "forceoff": ("forceoff",), "on": ("on",)}
END_STATE = {"gracefulshutdown": "off", "forceoff": "off", "gracefulrestart": "on", "on": "on"}

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def now_iso() -> str:
    """RFC 3339 time with nanosecond-style precision, as Go prints it."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def problem(status: int, detail: str) -> dict:
    """An RFC 7807 document as power-control writes it."""
    return {"type": "about:blank", "detail": detail, "status": status, "title": HTTPStatus(status).phrase}


def supported_transitions(reset_types) -> list[str]:
    """PCS operations a node supports, from its Redfish ResetTypes (same rules as the real toPCSPowerActions)."""
    out = []
    for value in (v.lower() for v in reset_types or []):
        adds = {"forceoff": ["Force-Off"], "forcerestart": ["Soft-Restart"], "gracefulrestart": ["Soft-Restart"],
                "off": ["Soft-Off", "Off"], "gracefulshutdown": ["Soft-Off", "Off"], "on": ["On"]}.get(value, [])
        out.extend(op for op in adds if op not in out)
    if "On" in out and "Off" in out:
        out += ["Init", "Hard-Restart"] + ([] if "Soft-Restart" in out else ["Soft-Restart"])
    return out


class Jwks:
    """RS256/PS256 verification against a JWKS URL (keys fetched on first use and again for an unknown kid)."""

    def __init__(self, url: str | None):
        self.url = url
        self.keys: dict = {}
        self.lock = threading.Lock()

    def _load(self) -> None:
        data = requests.get(self.url, timeout=10).json()
        keys = {}
        for jwk in data.get("keys") or []:
            if jwk.get("kty") == "RSA":
                numbers = rsa.RSAPublicNumbers(_b64int(jwk["e"]), _b64int(jwk["n"]))
                keys[jwk.get("kid")] = numbers.public_key()
        self.keys = keys

    def check(self, header: str | None) -> str | None:
        """None if the bearer token in ``header`` is valid, else why not."""
        if not self.url:
            return None
        if not header or not header.lower().startswith("bearer "):
            return "no token found"
        token = header.split(None, 1)[1].strip()
        try:
            head_b64, claims_b64, sig_b64 = token.split(".")
            head, claims = _b64json(head_b64), _b64json(claims_b64)
            with self.lock:
                if head.get("kid") not in self.keys:
                    self._load()
                key = self.keys.get(head.get("kid"))
            if key is None or head.get("alg") not in ("RS256", "PS256"):
                return "unknown signing key"
            pad = padding.PKCS1v15() if head["alg"] == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
            key.verify(_b64(sig_b64), (head_b64 + "." + claims_b64).encode("ascii"), pad, hashes.SHA256())
        except (ValueError, KeyError, InvalidSignature, requests.RequestException):
            return "token is unauthorized"
        stamp = time.time()
        if claims.get("exp") is not None and claims["exp"] < stamp:
            return "token is expired"
        if claims.get("nbf") is not None and claims["nbf"] > stamp + 60:
            return "token is not valid yet"
        if not all(claims.get(name) for name in ("sub", "iss", "aud")):
            return "token is missing a required claim (sub, iss, aud)"
        return None


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64int(text: str) -> int:
    return int.from_bytes(_b64(text), "big")


def _b64json(text: str) -> dict:
    return json.loads(_b64(text))


class Smd:
    """What PCS reads from SMD: each node's BMC address, reset target, reset types and credentials."""

    def __init__(self, url: str, token_url: str | None, token: str | None):
        self.url = url.rstrip("/")
        self.token_url = token_url
        self.token = token
        self.lock = threading.Lock()

    def _headers(self, fresh: bool = False) -> dict:
        with self.lock:
            if self.token_url and (fresh or not self.token):
                self.token = requests.get(self.token_url, timeout=10).json()["access_token"]
        return {"Authorization": "Bearer " + self.token} if self.token else {}

    def get(self, path: str) -> dict:
        answer = requests.get(self.url + "/hsm/v2" + path, headers=self._headers(), timeout=30)
        if answer.status_code == 401 and self.token_url:
            answer = requests.get(self.url + "/hsm/v2" + path, headers=self._headers(fresh=True), timeout=30)
        answer.raise_for_status()
        return answer.json()

    def ready(self) -> bool:
        try:
            return requests.get(self.url + "/hsm/v2/service/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def nodes(self) -> dict:
        """xname -> {fqdn, uri, target, reset_types, user, password} for every ComputerSystem SMD knows."""
        endpoints = self.get("/Inventory/ComponentEndpoints").get("ComponentEndpoints") or []
        bmcs = {e["ID"]: e for e in self.get("/Inventory/RedfishEndpoints").get("RedfishEndpoints") or []}
        out = {}
        for endpoint in endpoints:
            if endpoint.get("RedfishType") != "ComputerSystem":
                continue
            info = endpoint.get("RedfishSystemInfo") or {}
            reset = (info.get("Actions") or {}).get("#ComputerSystem.Reset") or {}
            bmc = bmcs.get(endpoint.get("RedfishEndpointID")) or {}
            out[endpoint["ID"].lower()] = {
                "fqdn": endpoint.get("RedfishEndpointFQDN") or bmc.get("FQDN"), "uri": endpoint.get("OdataID"),
                "target": reset.get("target"), "reset_types": reset.get("ResetType@Redfish.AllowableValues") or [],
                "user": bmc.get("User") or "", "password": bmc.get("Password") or ""}
        return out


class Redfish:
    """Reads and resets nodes at their BMCs (TLS not verified, as the real PCS without PCS_CA_URI)."""

    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout

    def _call(self, method: str, node: dict, path: str, body: dict | None = None) -> requests.Response:
        # a new connection per request, as the real one's task runner makes: connections kept open per thread
        # were seen to starve the lab's BMCs (64 BMCs, a timeout on every reset)
        url = "https://%s%s" % (node["fqdn"], path)
        try:
            answer = requests.request(method, url, json=body, verify=False, timeout=self.timeout,
                                      auth=(node["user"], node["password"]) if node["user"] else None)
        except requests.ConnectionError as exc:
            # worded as Go's net/http says it, which is what the real PCS puts in the task's error
            why = "connect: connection refused" if "refused" in str(exc).lower() else "i/o timeout"
            raise RuntimeError('%s "%s": dial tcp %s:443: %s' % (method.title(), url, node["fqdn"], why)) from exc
        if not 200 <= answer.status_code < 300:
            raise RuntimeError("bad status code: %d" % answer.status_code)
        return answer

    def power_state(self, node: dict) -> str:
        """on, off or undefined (raises when the BMC does not answer)."""
        state = str(self._call("GET", node, node["uri"]).json().get("PowerState") or "").lower()
        return {"on": "on", "poweringoff": "on", "off": "off", "poweringon": "off"}.get(state, "undefined")

    def reset(self, node: dict, reset_type: str) -> None:
        self._call("POST", node, node["target"], {"ResetType": reset_type})


class Transition:
    """One transition and its tasks (guarded by the service lock)."""

    def __init__(self, operation: str, xnames: list[str], deadline: int):
        self.id = str(uuid.uuid4())
        self.operation = OPERATIONS[operation]
        self.deadline = deadline
        self.created = now_iso()
        self.expires = (datetime.now(timezone.utc) + timedelta(minutes=EXPIRE_MINUTES)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.status = "new"
        self.abort = False
        self.tasks = {}
        for xname in xnames:
            task = {"xname": xname, "taskStatus": "new", "taskStatusDescription": "Gathering data"}
            if not XNAME.match(xname):
                task.update(taskStatus="failed", taskStatusDescription="Failed to achieve transition", error="Invalid xname")
            self.tasks[xname] = task

    def view(self, full: bool = True) -> dict:
        counts = {"total": len(self.tasks), "new": 0, "in-progress": 0, "failed": 0, "succeeded": 0, "un-supported": 0}
        for task in self.tasks.values():
            counts["un-supported" if task["taskStatus"] == "unsupported" else task["taskStatus"]] += 1
        out = {"transitionID": self.id, "operation": self.operation, "createTime": self.created,
               "automaticExpirationTime": self.expires, "transitionStatus": self.status, "taskCounts": counts}
        if full and self.tasks:  # a transition of no component has no task list at all
            out["tasks"] = [dict(task) for task in self.tasks.values()]
        return out


class Service:  # pylint: disable=too-many-instance-attributes
    """The state of the emulator: transitions, power-cap tasks, and the workers that run transitions."""

    def __init__(self, smd: Smd, redfish: Redfish, workers: int = 64):
        self.smd = smd
        self.redfish = redfish
        self.lock = threading.Lock()
        self.transitions: dict[str, Transition] = {}
        self.caps: dict[str, dict] = {}
        self.pool = ThreadPoolExecutor(max_workers=32)  # power-state reads
        self.workers = ThreadPoolExecutor(max_workers=workers)  # transition tasks, one node each
        self.answered: set[str] = set()  # nodes whose BMC has answered since the start: the component map

    # ------------------------------------------------------------------ power status
    def _read_all(self, nodes: dict, names: list[str]) -> dict:
        def one(name):
            try:
                state = self.redfish.power_state(nodes[name])
            except (requests.RequestException, RuntimeError, ValueError):
                return name, "undefined", "unavailable", "No response from target"
            with self.lock:
                self.answered.add(name)
            return name, state, "available", ""
        return {name: result for name, *result in self.pool.map(one, names)}

    def power_status(self, xnames: list[str], power_filter: str | None, mgmt_filter: str | None) -> dict:
        nodes = self.smd.nodes()
        names = [x.lower() for x in xnames] if xnames else sorted(nodes)
        states = self._read_all(nodes, [n for n in dict.fromkeys(names) if n in nodes])
        if not xnames:
            names = [name for name in names if name in self.answered]
        status = []
        stamp = now_iso()
        for name in names:
            if name not in nodes or name not in self.answered:
                # as the real one sends it ("" and null, which its own spec does not allow), filters not applied
                status.append({"xname": name, "powerState": "", "managementState": "",
                               "error": "Component not found in component map.", "supportedPowerTransitions": None,
                               "lastUpdated": ""})
                continue
            power, mgmt, error = states[name]
            if (power_filter and power != power_filter) or (mgmt_filter and mgmt != mgmt_filter):
                continue
            status.append({"xname": name, "powerState": power, "managementState": mgmt, "error": error,
                           "supportedPowerTransitions": supported_transitions(nodes[name]["reset_types"]),
                           "lastUpdated": stamp})
        return {"status": status}

    # ------------------------------------------------------------------ transitions
    def start(self, operation: str, xnames: list[str], deadline: int) -> Transition:
        transition = Transition(operation, xnames, deadline)
        with self.lock:
            self.transitions[transition.id] = transition
        threading.Thread(target=self._run, args=(transition,), daemon=True).start()
        return transition

    def _set(self, transition: Transition, xname: str, status: str, description: str, error: str | None = None) -> None:
        with self.lock:
            task = transition.tasks[xname]
            task.update(taskStatus=status, taskStatusDescription=description)
            if error is not None:
                task["error"] = error

    def _run(self, transition: Transition) -> None:
        with self.lock:
            transition.status = "in-progress"
            todo = [x for x, task in transition.tasks.items() if task["taskStatus"] == "new"]
        try:
            nodes = self.smd.nodes()
        except (requests.RequestException, ValueError):
            for xname in todo:
                self._set(transition, xname, "failed", "Failed to achieve transition", "Error retrieving HSM data")
            todo, nodes = [], {}
        self._read_all(nodes, [x for x in todo if x in nodes and x not in self.answered])
        for xname in [x for x in todo if x not in nodes or x not in self.answered]:
            self._set(transition, xname, "failed", "Failed to achieve transition", "Missing xname")
        todo = [x for x in todo if x in nodes and x in self.answered]
        if todo:
            list(self.workers.map(lambda x: self._one(transition, x, nodes[x]), todo))
        with self.lock:
            transition.status = "aborted" if transition.abort else "completed"

    def _steps(self, transition: Transition, xname: str, node: dict, state: str) -> list[str] | None:
        """The power actions for one node, or None when the task is already settled (its status set)."""
        operation = transition.operation
        if operation not in supported_transitions(node["reset_types"]):
            self._set(transition, xname, "unsupported",
                      "Component does not support the specified transition operation, %s" % operation,
                      "Unsupported for transition operation")
            return None
        done = {"On": "on", "Off": "off", "Soft-Off": "off", "Force-Off": "off"}.get(operation)
        if done is not None and state == done:
            self._set(transition, xname, "succeeded", "Component already in desired state")
            return None
        if operation in ("Soft-Restart", "Hard-Restart") and state != "on":
            self._set(transition, xname, "failed", "Component must be in the On state for %s" % operation,
                      "Component is in the wrong power state")
            return None
        allowed = {value.lower() for value in node["reset_types"]}
        return {"On": ["on"], "Off": ["gracefulshutdown"], "Soft-Off": ["gracefulshutdown"], "Force-Off": ["forceoff"],
                "Hard-Restart": ["gracefulshutdown", "on"],
                "Soft-Restart": ["gracefulrestart"] if allowed & {"gracefulrestart", "forcerestart"} else
                ["gracefulshutdown", "on"],
                "Init": ["gracefulshutdown", "on"] if state == "on" else ["on"]}[operation]

    def _one(self, transition: Transition, xname: str, node: dict) -> None:  # pylint: disable=too-many-return-statements
        try:
            state = self.redfish.power_state(node)
        except (requests.RequestException, RuntimeError, ValueError):
            state = "undefined"
        steps = self._steps(transition, xname, node, state)
        if steps is None:
            return
        allowed = {value.lower(): value for value in node["reset_types"]}
        for index, action in enumerate(steps):
            if transition.abort:
                return self._aborted(transition, xname)
            reset = next((allowed[name] for name in FALLBACK[action] if name in allowed), None)
            if reset is None:
                self._set(transition, xname, "failed", "Failed to construct payload",
                          "Power action not supported for " + xname)
                return
            self._set(transition, xname, "in-progress", "Applying transition, " + action)
            try:
                self.redfish.reset(node, reset)
            except (requests.RequestException, RuntimeError) as exc:
                self._set(transition, xname, "failed", "Failed to apply transition, " + action, str(exc))
                return
            if transition.deadline == 0:
                last = index == len(steps) - 1
                self._set(transition, xname, "succeeded" if last else "in-progress",
                          "Transition applied, %s. %s" % (action, "Not confirming." if last else "Waiting for next transition."))
                continue
            self._set(transition, xname, "in-progress", "Confirming successful transition, " + action)
            if self._confirm(transition, node, END_STATE[action]):
                continue
            if transition.abort:
                return self._aborted(transition, xname)
            if action == "gracefulshutdown" and transition.operation != "Soft-Off" and "forceoff" in allowed:
                self._set(transition, xname, "in-progress", "Applying transition, forceoff")
                try:
                    self.redfish.reset(node, allowed["forceoff"])
                except (requests.RequestException, RuntimeError) as exc:
                    self._set(transition, xname, "failed", "Failed to apply transition, forceoff", str(exc))
                    return
                if self._confirm(transition, node, "off"):
                    continue
                action = "forceoff"
            self._set(transition, xname, "failed", "Failed to achieve transition",
                      "Timeout waiting for transition, %s." % action)
            return
        if transition.deadline != 0:
            self._set(transition, xname, "succeeded", "Transition confirmed, " + steps[-1])

    def _aborted(self, transition: Transition, xname: str) -> None:
        with self.lock:
            task = transition.tasks[xname]
            task.update(taskStatus="failed", error="Transition aborted",
                        taskStatusDescription="Aborted. Last status - " + task["taskStatusDescription"])

    def _confirm(self, transition: Transition, node: dict, wanted: str) -> bool:
        """Poll the node's power state until ``wanted``, the task deadline, or an abort."""
        end = None if transition.deadline < 0 else time.monotonic() + 60 * transition.deadline
        while not transition.abort:
            try:
                if self.redfish.power_state(node) == wanted:
                    return True
            except (requests.RequestException, RuntimeError, ValueError):
                pass
            if end is not None and time.monotonic() >= end:
                return False
            time.sleep(CONFIRM_INTERVAL)
        return False

    def abort(self, transition_id: str) -> tuple[int, dict]:
        with self.lock:
            transition = self.transitions.get(transition_id)
            if transition is None:
                return 404, problem(404, "transition does not exist")
            # as power-control v2.12.1 (domain.AbortTransitionID): a completed transition cannot be aborted, an
            # aborted one accepts the abort again
            if transition.status == "completed":
                return 400, problem(400, "Transition is already finished and cannot be aborted.")
            if transition.status == "aborted":
                return 202, {"abortStatus": "Accepted - abort initiated"}
            transition.abort = True
            transition.status = "abort-signaled"
        return 202, {"abortStatus": "Accepted - abort initiated"}

    # ------------------------------------------------------------------ power capping (not supported here)
    def cap_task(self, kind: str, xnames: list[str]) -> str:
        task_id = str(uuid.uuid4())
        components = [{"xname": x, "error": "Power capping is not supported by the lab's PCS emulator"} for x in xnames]
        counts = {"total": len(xnames), "new": 0, "in-progress": 0, "failed": len(xnames), "succeeded": 0,
                  "un-supported": 0}
        with self.lock:
            self.caps[task_id] = {"taskID": task_id, "type": kind, "taskCreateTime": now_iso(),
                                  "automaticExpirationTime": now_iso(), "taskStatus": "completed",
                                  "taskCounts": counts, "components": components}
        return task_id


class Handler(BaseHTTPRequestHandler):
    """The HTTP side: routes at ``/`` and ``/v1/``, JWT on everything but liveness/readiness/health."""

    server_version = "lab-pcs/1"
    protocol_version = "HTTP/1.1"
    service: Service = None  # set by serve()
    jwks: Jwks = None
    record = None  # (lock, path): every answer is appended there as one JSON line
    _method = ""

    def _send(self, status: int, body=None, headers: dict | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/problem+json" if status >= 400 else "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if self.record:
            line = json.dumps({"method": self._method, "path": self.path, "status": status, "body": body})
            with self.record[0], open(self.record[1], "a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _route(self, method: str) -> None:
        self._method = method
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        if path.startswith("/v1/"):
            path = path[3:]
        if path in ("/liveness", "/readiness") and method == "GET":
            ready = path == "/liveness" or self.service.smd.ready()
            return self._send(204 if ready else 503)
        if path == "/health":
            if method != "GET":
                return self._send(405, problem(405, "only GET operations are allowed"))
            smd = "connected, responsive" if self.service.smd.ready() else "not connected"
            return self._send(200, {"KvStore": "connected, responsive (in memory)", "DistLocking": "local",
                                    "StateManager": smd, "Vault": "not used (credentials from SMD)",
                                    "TaskRunner": "local mode"})
        why = self.jwks.check(self.headers.get("Authorization"))
        if why:
            data = (why + "\n").encode()
            self.send_response(401)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        try:
            body = self._body() if method in ("POST", "PATCH") else None
        except ValueError as exc:
            return self._send(400, problem(400, str(exc)))
        query = parse_qs(parts.query)
        return self._dispatch(method, path, body, query)

    def _dispatch(self, method: str, path: str, body, query: dict):  # pylint: disable=too-many-return-statements
        service = self.service
        if path == "/transitions" and method == "POST":
            body = body or {}
            operation = str(body.get("operation") or "").lower()
            if operation not in OPERATIONS:
                return self._send(400, problem(400, "invalid Operation type " + str(body.get("operation") or "")))
            deadline = body.get("taskDeadlineMinutes")
            deadline = 5 if deadline is None else int(deadline)
            xnames = [str((loc or {}).get("xname") or "").strip().lower() for loc in body.get("location") or []]
            transition = service.start(operation, xnames, deadline)
            return self._send(200, {"transitionID": transition.id, "operation": transition.operation},
                              {"Location": "../transitions/" + transition.id})
        if path == "/transitions" and method == "GET":
            with service.lock:
                views = [t.view(full=False) for t in service.transitions.values()]
            return self._send(200, {"transitions": views})
        if path.startswith("/transitions/") and method in ("GET", "DELETE"):
            ident = path.split("/", 2)[2]
            if len(ident) not in (32, 36, 38, 45):  # the forms Go's uuid.Parse takes, and its words
                return self._send(400, problem(400, "invalid UUID length: %d" % len(ident)))
            try:
                ident = str(uuid.UUID(ident))
            except ValueError:
                return self._send(400, problem(400, "invalid UUID format"))
            if method == "DELETE":
                return self._send(*service.abort(ident))
            with service.lock:
                transition = service.transitions.get(ident)
                view = transition.view() if transition else None
            if view is None:
                return self._send(404, problem(404, "transition does not exist"))
            return self._send(200, view)
        if path == "/power-status" and method in ("GET", "POST"):
            if method == "POST":
                body = body or {}
                extra = set(body) - {"xname", "powerStateFilter", "managementStateFilter"}
                if extra:
                    return self._send(400, problem(400, "unknown fields %s" % sorted(extra)))
                xnames = body.get("xname") or []
                power, mgmt = body.get("powerStateFilter"), body.get("managementStateFilter")
            else:
                xnames = query.get("xname") or []
                power = (query.get("powerStateFilter") or [None])[0]
                mgmt = (query.get("managementStateFilter") or [None])[0]
            if power and power.lower() not in ("on", "off", "undefined"):
                return self._send(400, problem(400, "invalid powerStateFilter type: " + power))
            if mgmt and mgmt.lower() not in ("available", "unavailable"):
                return self._send(400, problem(400, "invalid ManagementStateFilter type: " + mgmt))
            invalid = [str(x) for x in xnames if not XNAME.match(str(x).lower())]
            if invalid:  # a comma-separated list is one (invalid) xname, as for the real one
                return self._send(400, problem(400, "invalid xnames detected: " + " ".join(invalid)))
            try:
                answer = service.power_status(xnames, power and power.lower(), mgmt and mgmt.lower())
            except requests.RequestException as exc:
                return self._send(500, problem(500, "cannot read SMD: %s" % exc))
            return self._send(200, answer)
        if path == "/power-cap/snapshot" and method == "POST":
            return self._send(200, {"taskID": service.cap_task("snapshot", list((body or {}).get("xnames") or []))})
        if path == "/power-cap" and method == "PATCH":
            xnames = [c.get("xname") for c in (body or {}).get("components") or [] if c.get("xname")]
            return self._send(200, {"taskID": service.cap_task("patch", xnames)})
        if path == "/power-cap" and method == "GET":
            with service.lock:
                tasks = [{k: v for k, v in task.items() if k != "components"} for task in service.caps.values()]
            return self._send(200, {"tasks": tasks})
        if path.startswith("/power-cap/") and method == "GET":
            with service.lock:
                task = service.caps.get(path.split("/", 2)[2])
            if task is None:
                return self._send(404, problem(404, "TaskID does not exist"))
            return self._send(200, task)
        return self._send(404 if method in ("GET", "POST", "PATCH", "DELETE") else 405,
                          problem(404, "no route for %s %s" % (method, path)))

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("GET")

    def do_POST(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("POST")

    def do_PATCH(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("PATCH")

    def do_DELETE(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("DELETE")

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (now_iso(), format % args))


def serve(listen: str, smd_url: str, token_url: str | None = None, token: str | None = None,
          jwks_url: str | None = None, record: str | None = None) -> ThreadingHTTPServer:
    """A started server (in a thread); ``server.shutdown()`` stops it."""
    host, port = listen.rsplit(":", 1)
    handler = type("PcsHandler", (Handler,), {
        "service": Service(Smd(smd_url, token_url, token), Redfish()), "jwks": Jwks(jwks_url),
        "record": (threading.Lock(), record) if record else None})
    server = ThreadingHTTPServer((host, int(port)), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m lab.pcs", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="host:port")
    parser.add_argument("--smd-url", required=True, help="SMD base URL (without /hsm/v2)")
    parser.add_argument("--token-url", help="token endpoint for SMD tokens (GET); without it SMD is called with no token")
    parser.add_argument("--jwks-url", help="check bearer tokens against this JWKS (without it: no authentication)")
    parser.add_argument("--record", help="append every answer (method, path, status, body) to this JSON-lines file")
    parser.add_argument("--rev", help="code revision (lets `lab up` restart the emulator when its code changed)")
    args = parser.parse_args(argv)
    server = serve(args.listen, args.smd_url, args.token_url, None, args.jwks_url, args.record)
    print("lab PCS emulator on http://%s (SMD %s)" % (args.listen, args.smd_url), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
