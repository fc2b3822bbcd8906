# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Redfish service serving a static "short form" mockup tree, for the lab and tests.

``GET /redfish/v1/<path>`` answers ``<root>/<path>/index.json`` (or ``index.xml``; the service
root is ``<root>/index.json``). Writes are kept in memory, never on disk:

* ``POST`` to an action ``target`` found in the parent resource's ``Actions`` (parameters checked
  against inline ``@Redfish.AllowableValues`` or the ``@Redfish.ActionInfo`` resource); a
  ``*.Reset`` sets ``PowerState`` of the resource, when it has one, from the ``ResetType``;
* ``PATCH`` of a resource: deep-merged into the in-memory copy; ``Boot`` properties the resource
  does not have (e.g. ``BootSourceOverride*`` on HPE Cray EX node cards) and values outside
  ``<prop>@Redfish.AllowableValues`` are refused with 400; ``If-Match`` is checked against
  ``@odata.etag`` (412 on mismatch) and the etag changes with every change;
* ``POST /redfish/v1/SessionService/Sessions`` logs in (201, ``X-Auth-Token``, ``Location``),
  ``DELETE`` of the session logs out.

Authentication: HTTP Basic or ``X-Auth-Token``; ``/redfish``, ``/redfish/v1``, ``$metadata`` and
``odata`` are readable without. Test hooks (no authentication): ``GET /_mockup/requests`` lists
the writes received (method, path, body, time, status); ``POST /_mockup/reset`` forgets writes
and sessions and goes back to the files.

Run: ``python lab/mockup_server.py --root DIR --host IP --port N [--cert F --key F]
[--user U (--password P | --password-file F)]`` (plain HTTP without ``--cert``). Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hmac
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

PREFIX = "/redfish/v1"
PUBLIC_PATHS = frozenset(["/redfish", PREFIX, PREFIX + "/odata", PREFIX + "/$metadata"])
SESSIONS = PREFIX + "/SessionService/Sessions"
MAX_BODY = 1024 * 1024
BASE_REGISTRY = "Base.1.8"

# ResetType -> resulting PowerState (absent: no change). PushPowerButton toggles.
RESET_POWER = {
    "On": "On", "ForceOn": "On", "ForceRestart": "On", "GracefulRestart": "On", "PowerCycle": "On",
    "FullPowerCycle": "On", "Off": "Off", "ForceOff": "Off", "GracefulShutdown": "Off",
}


class RedfishError(Exception):
    """An error answer: HTTP status, Base registry message id and text."""

    def __init__(self, status: int, message_id: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message_id = message_id
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        """The Redfish error object."""
        return {"error": {
            "code": f"{BASE_REGISTRY}.GeneralError",
            "message": self.message,
            "@Message.ExtendedInfo": [{
                "@odata.type": "#Message.v1_1_1.Message",
                "MessageId": f"{BASE_REGISTRY}.{self.message_id}",
                "Message": self.message,
                "Severity": "Critical" if self.status >= 500 else "Warning",
                "Resolution": "See the mockup server's documentation.",
            }],
        }}


def compute_etag(resource: dict) -> str:
    """A weak etag derived from the content (without the etag itself)."""
    content = {key: value for key, value in resource.items() if key != "@odata.etag"}
    return f'W/"{zlib.crc32(json.dumps(content, sort_keys=True).encode("utf-8"))}"'


def _etag_value(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def deep_merge(target: dict, patch: dict) -> None:
    """Merge ``patch`` into ``target`` in place: objects recursively, everything else replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def check_patch(resource: dict, patch: dict, where: str = "") -> None:
    """Refuse what a real BMC refuses: unknown Boot properties, values outside AllowableValues."""
    for key, value in patch.items():
        name = f"{where}{key}"
        if key.startswith("@odata.") or (not where and key == "Id"):
            raise RedfishError(400, "PropertyNotWritable", f"The property {name} is read only.")
        if where.startswith("Boot/") and key not in resource:
            raise RedfishError(400, "PropertyUnknown",
                               f"The property {name} is not in the list of valid properties for the resource.")
        allowed = resource.get(f"{key}@Redfish.AllowableValues")
        if isinstance(allowed, list) and not isinstance(value, (dict, list)) and value not in allowed:
            raise RedfishError(400, "PropertyValueNotInList",
                               f"The value {value!r} for the property {name} is not in the list of acceptable values.")
        if isinstance(value, dict) and isinstance(resource.get(key), dict):
            check_patch(resource[key], value, f"{name}/")
        elif not where and key == "Boot" and isinstance(value, dict):
            raise RedfishError(400, "PropertyUnknown", "The resource has no Boot object.")


def find_action(resource: dict, target: str) -> dict | None:
    """The action object of ``resource`` (standard or under ``Oem``) whose ``target`` is ``target``."""
    todo = [resource.get("Actions")]
    while todo:
        node = todo.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("target"), str) and node["target"].rstrip("/") == target:
            return node
        todo.extend(value for value in node.values() if isinstance(value, dict))
    return None


class MockupState:
    """The tree on disk, the in-memory copies of changed resources, sessions and the write log."""

    def __init__(self, root: Path, user: str | None, password: str | None, session_timeout: float | None = None):
        self.root = root.resolve()
        self.user = user
        self.password = password
        self.session_timeout = session_timeout
        self.lock = threading.RLock()
        self.changed: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.requests: list[dict] = []

    # -- reading

    def file_for(self, path: str) -> Path | None:
        """The file behind the URL path ``/redfish/v1/...`` (already normalised), if any."""
        rel = path[len(PREFIX):].strip("/")
        parts = [part for part in rel.split("/") if part]
        if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
            return None
        folder = self.root.joinpath(*parts)
        for name in ("index.json", "index.xml"):
            candidate = folder / name
            if candidate.is_file():
                return candidate
        return None

    def load(self, path: str) -> dict | None:
        """A copy of the JSON resource at ``path`` (in-memory version first), or None."""
        with self.lock:
            if path in self.changed:
                return copy.deepcopy(self.changed[path])
        source = self.file_for(path)
        if source is None or source.suffix != ".json":
            return None
        try:
            return json.loads(source.read_text(encoding="utf-8"))
        except ValueError:
            return None

    def store(self, path: str, resource: dict) -> dict:
        """Keep ``resource`` as the new version of ``path``; renews its etag if it has one."""
        if "@odata.etag" in resource:
            resource["@odata.etag"] = compute_etag(resource)
        with self.lock:
            self.changed[path] = resource
        return resource

    def reset(self) -> None:
        """Back to the files: forget changes, sessions and the write log."""
        with self.lock:
            self.changed.clear()
            self.sessions.clear()
            self.requests.clear()

    # -- authentication

    def check_password(self, user: str, password: str) -> bool:
        """Constant-time comparison with the configured credentials."""
        if self.user is None:
            return True
        user_ok = hmac.compare_digest(user.encode("utf-8"), self.user.encode("utf-8"))
        password_ok = hmac.compare_digest(password.encode("utf-8"), (self.password or "").encode("utf-8"))
        return user_ok and password_ok

    def _timeout(self) -> float:
        if self.session_timeout is not None:
            return self.session_timeout
        service = self.load(PREFIX + "/SessionService") or {}
        value = service.get("SessionTimeout")
        return float(value) if isinstance(value, (int, float)) and value > 0 else 1800.0

    def session_for_token(self, token: str) -> dict | None:
        """The live session of ``token`` (idle time renewed), or None."""
        now = time.monotonic()
        timeout = self._timeout()
        with self.lock:
            for key in [key for key, session in self.sessions.items() if now - session["used"] > timeout]:
                del self.sessions[key]
            for session in self.sessions.values():
                if hmac.compare_digest(session["token"].encode("ascii"), token.encode("utf-8", "replace")):
                    session["used"] = now
                    return session
        return None

    def create_session(self, user: str) -> dict:
        """A new session of ``user``."""
        session_id = secrets.token_hex(8)
        session = {"id": session_id, "token": secrets.token_hex(24), "user": user, "used": time.monotonic()}
        with self.lock:
            self.sessions[session_id] = session
        return session


def session_resource(session: dict) -> dict:
    """The Redfish Session resource of ``session``."""
    return {
        "@odata.id": f"{SESSIONS}/{session['id']}",
        "@odata.type": "#Session.v1_3_0.Session",
        "Id": session["id"],
        "Name": "User Session",
        "UserName": session["user"],
    }


class Handler(BaseHTTPRequestHandler):
    """One connection; the state is ``self.server.state``."""

    protocol_version = "HTTP/1.1"
    server_version = "lab-mockup-redfish/1.0"
    timeout = 60
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls

    # -- plumbing

    @property
    def state(self) -> MockupState:
        """The shared mockup state."""
        return self.server.state  # type: ignore[attr-defined]

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, in the connection's thread, not in accept()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _path(self) -> str:
        path = unquote(urlsplit(self.path).path)
        while "//" in path:
            path = path.replace("//", "/")
        return path.rstrip("/") or "/"

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise RedfishError(411, "GeneralError", "Chunked request bodies are not supported; send Content-Length.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise RedfishError(400, "GeneralError", "Bad Content-Length.") from exc
        if length < 0 or length > MAX_BODY:
            raise RedfishError(413, "GeneralError", "Request body too large.")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body=None, headers: dict | None = None, content_type: str = "application/json"):
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body, indent=2).encode("utf-8")
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body is not None:
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("OData-Version", "4.0")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def _error(self, exc: RedfishError):
        self._send(exc.status, exc.body(), exc.headers)

    def _record(self, path: str, body, status: int):
        if isinstance(body, dict) and "Password" in body:
            body = dict(body, Password="***")
        with self.state.lock:
            self.state.requests.append({"method": self.command, "path": path, "body": body,
                                        "time": time.time(), "status": status})

    def _authorise(self) -> str:
        """The user name, or raise 401."""
        token = self.headers.get("X-Auth-Token")
        if token:
            session = self.state.session_for_token(token)
            if session:
                return session["user"]
        header = self.headers.get("Authorization", "")
        if header[:6].lower() == "basic ":
            try:
                user, _sep, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", None
            if password is not None and self.state.check_password(user, password):
                return user
        if self.state.user is None and not token:
            return "anonymous"
        raise RedfishError(401, "NoValidSession", "There is no valid session established with the implementation.",
                           {"WWW-Authenticate": 'Basic realm="Redfish"'})

    # -- methods

    def do_GET(self):  # pylint: disable=invalid-name
        """Read a resource."""
        path = self._path()
        try:
            if path == "/_mockup/requests":
                with self.state.lock:
                    self._send(200, list(self.state.requests))
                return
            if path == "/redfish":
                self._send(200, {"v1": PREFIX + "/"})
                return
            if path != PREFIX and not path.startswith(PREFIX + "/"):
                raise RedfishError(404, "ResourceNotFound", f"{path} is not a Redfish resource.")
            if path not in PUBLIC_PATHS:
                self._authorise()
            self._get(path)
        except RedfishError as exc:
            self._error(exc)

    do_HEAD = do_GET

    def _get(self, path: str):
        if path.startswith(SESSIONS + "/"):
            with self.state.lock:
                session = self.state.sessions.get(path[len(SESSIONS) + 1:])
            if session:
                self._send(200, session_resource(session))
                return
        resource = self.state.load(path)
        if resource is None:
            source = self.state.file_for(path)
            if source is not None and source.suffix == ".xml":
                self._send(200, source.read_bytes(), content_type="application/xml")
                return
            raise RedfishError(404, "ResourceNotFound", f"The resource {path} was not found.")
        if path == SESSIONS:
            with self.state.lock:
                live = [{"@odata.id": f"{SESSIONS}/{key}"} for key in self.state.sessions]
            resource["Members"] = list(resource.get("Members", [])) + live
            resource["Members@odata.count"] = len(resource["Members"])
        headers = {"ETag": resource["@odata.etag"]} if isinstance(resource.get("@odata.etag"), str) else {}
        self._send(200, resource, headers)

    def _json_body(self):
        raw = self._read_body()
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError) as exc:
            raise RedfishError(400, "MalformedJSON", "The request body submitted was malformed JSON.") from exc
        if not isinstance(body, dict):
            raise RedfishError(400, "MalformedJSON", "The request body must be a JSON object.")
        return body

    def _write(self, handler):
        """Common frame of the writing methods: parse, authorise, run ``handler(path, body)``, record."""
        path = self._path()
        body = None
        status = 500
        try:
            raw_error = None
            try:
                body = self._json_body()
            except RedfishError as exc:
                raw_error = exc
            if path == "/_mockup/reset" and self.command == "POST":
                self.state.reset()
                self._send(204)
                return
            if path != PREFIX and not path.startswith(PREFIX + "/"):
                raise RedfishError(404, "ResourceNotFound", f"{path} is not a Redfish resource.")
            if not (self.command == "POST" and path == SESSIONS):
                self._authorise()
            if raw_error:
                raise raw_error
            status = handler(path, body)
        except RedfishError as exc:
            status = exc.status
            self._error(exc)
        if path.startswith(PREFIX):
            self._record(path, body, status)

    def do_POST(self):  # pylint: disable=invalid-name
        """Log in, or run an action."""
        self._write(self._post)

    def do_PATCH(self):  # pylint: disable=invalid-name
        """Change properties of a resource."""
        self._write(self._patch)

    def do_DELETE(self):  # pylint: disable=invalid-name
        """Log out."""
        self._write(self._delete)

    def do_PUT(self):  # pylint: disable=invalid-name
        """Not supported, as on most BMCs."""
        self._write(self._not_allowed)

    def _not_allowed(self, path: str, _body) -> int:
        raise RedfishError(405, "OperationNotAllowed", f"{self.command} is not allowed on {path}.")

    def _login(self, body: dict) -> int:
        user, password = body.get("UserName"), body.get("Password")
        if not isinstance(user, str) or not isinstance(password, str):
            raise RedfishError(400, "PropertyMissing", "UserName and Password are required.")
        if not self.state.check_password(user, password):
            raise RedfishError(401, "NoValidSession", "Invalid user name or password.")
        session = self.state.create_session(user)
        location = f"{SESSIONS}/{session['id']}"
        self._send(201, session_resource(session), {"X-Auth-Token": session["token"], "Location": location})
        return 201

    def _post(self, path: str, body: dict) -> int:
        if path == SESSIONS:
            return self._login(body)
        # The action's resource is an ancestor of its target (usually ".../Actions/<Action>").
        parts = path.split("/")
        for depth in range(len(parts) - 1, max(len(parts) - 6, 3), -1):
            owner = "/".join(parts[:depth])
            resource = self.state.load(owner)
            action = find_action(resource, path) if resource else None
            if action is not None:
                return self._run_action(owner, resource, action, body)
        if self.state.load(path) is not None:
            raise RedfishError(405, "OperationNotAllowed", f"POST is not allowed on {path}.")
        raise RedfishError(404, "ResourceNotFound", f"No action has the target {path}.")

    def _allowed_values(self, action: dict) -> dict[str, tuple[list | None, bool]]:
        """Parameter name -> (allowable values or None, required), from the action and its ActionInfo."""
        params: dict[str, tuple[list | None, bool]] = {}
        info_path = action.get("@Redfish.ActionInfo")
        info = self.state.load(info_path.rstrip("/")) if isinstance(info_path, str) else None
        for param in (info or {}).get("Parameters", []):
            if isinstance(param, dict) and isinstance(param.get("Name"), str):
                values = param.get("AllowableValues")
                params[param["Name"]] = (values if isinstance(values, list) else None, bool(param.get("Required")))
        for key, values in action.items():
            if key.endswith("@Redfish.AllowableValues") and isinstance(values, list):
                name = key.split("@", 1)[0]
                params[name] = (values, params.get(name, (None, False))[1])
        return params

    def _run_action(self, owner: str, resource: dict, action: dict, body: dict) -> int:
        params = self._allowed_values(action)
        for name, (values, required) in params.items():
            if name not in body:
                if required:
                    raise RedfishError(400, "ActionParameterMissing", f"The action requires the parameter {name}.")
                continue
            if values is not None and body[name] not in values:
                raise RedfishError(400, "ActionParameterValueNotInList",
                                   f"The value {body[name]!r} for the parameter {name} is not in the list of acceptable values.")
        name = action["target"].rstrip("/").rsplit("/", 1)[-1]
        if name.endswith(".Reset") or name == "Reset":
            reset_type = body.get("ResetType")
            if reset_type is not None and not isinstance(reset_type, str):
                raise RedfishError(400, "ActionParameterValueTypeError", "ResetType must be a string.")
            if reset_type is None and "ResetType" in params:  # advertised: real BMCs want it
                raise RedfishError(400, "ActionParameterMissing", "The action requires the parameter ResetType.")
            if isinstance(resource.get("PowerState"), str) and reset_type is not None:
                new_state = RESET_POWER.get(reset_type)
                if reset_type == "PushPowerButton":
                    new_state = "Off" if resource["PowerState"] == "On" else "On"
                if new_state and new_state != resource["PowerState"]:
                    resource["PowerState"] = new_state
                    self.state.store(owner, resource)
        self._send(204)
        return 204

    def _patch(self, path: str, body: dict) -> int:
        resource = self.state.load(path)
        if resource is None:
            if self.state.file_for(path) is not None:
                raise RedfishError(405, "OperationNotAllowed", f"PATCH is not allowed on {path}.")
            raise RedfishError(404, "ResourceNotFound", f"The resource {path} was not found.")
        if not body:
            raise RedfishError(400, "NoOperation", "The request body has no property to change.")
        if_match = self.headers.get("If-Match")
        etag = resource.get("@odata.etag")
        if if_match and isinstance(etag, str) and if_match.strip() != "*":
            if _etag_value(etag) not in [_etag_value(tag) for tag in if_match.split(",")]:
                raise RedfishError(412, "PreconditionFailed", "The ETag supplied did not match the ETag of the resource.",
                                   {"ETag": etag})
        check_patch(resource, body)
        deep_merge(resource, body)
        resource = self.state.store(path, resource)
        headers = {"ETag": resource["@odata.etag"]} if isinstance(resource.get("@odata.etag"), str) else {}
        self._send(200, resource, headers)
        return 200

    def _delete(self, path: str, _body) -> int:
        if path.startswith(SESSIONS + "/"):
            with self.state.lock:
                session = self.state.sessions.pop(path[len(SESSIONS) + 1:], None)
            if session:
                self._send(204)
                return 204
            raise RedfishError(404, "ResourceNotFound", f"The session {path} was not found.")
        return self._not_allowed(path, _body)


class MockupServer(ThreadingHTTPServer):
    """Threaded server holding the mockup state."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, state: MockupState):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.state = state

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # TLS handshake failures, resets, timeouts
            sys.stderr.write(f"{client_address[0]} connection error: {exc}\n")
        else:
            super().handle_error(request, client_address)


def build_server(root: Path, host: str, port: int, cert: str | None = None, key: str | None = None,
                 user: str | None = None, password: str | None = None,
                 session_timeout: float | None = None) -> MockupServer:
    """A ready (bound, not yet serving) server; ``serve_forever()`` it, in a thread if you like."""
    if not (root / "index.json").is_file():
        raise FileNotFoundError(f"no service root {root / 'index.json'}")
    server = MockupServer((host, port), MockupState(root, user, password, session_timeout))
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    return server


def parse_args(argv=None):
    """Command line."""
    parser = argparse.ArgumentParser(description="Serve a short-form Redfish mockup tree.")
    parser.add_argument("--root", required=True, type=Path, help="mockup directory (holds the service root index.json)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--cert", help="PEM certificate: serve HTTPS (else plain HTTP)")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("--user", help="user name for Basic auth and sessions (none: no authentication)")
    parser.add_argument("--password", help="password of --user")
    parser.add_argument("--password-file", type=Path, help="file holding the password of --user")
    parser.add_argument("--session-timeout", type=float,
                        help="idle session timeout in seconds (default: SessionTimeout of the mockup, else 1800)")
    args = parser.parse_args(argv)
    if args.password_file is not None:
        args.password = args.password_file.read_text(encoding="utf-8").rstrip("\r\n")
    if args.user is not None and args.password is None:
        parser.error("--user needs --password or --password-file")
    if args.key and not args.cert:
        parser.error("--key needs --cert")
    return args


def _stop(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    """Serve until SIGTERM or SIGINT."""
    args = parse_args(argv)
    server = build_server(args.root, args.host, args.port, args.cert, args.key or args.cert, args.user,
                          args.password, args.session_timeout)
    signal.signal(signal.SIGTERM, _stop)
    scheme = "https" if args.cert else "http"
    sys.stderr.write(f"serving {args.root} on {scheme}://{args.host}:{args.port}{PREFIX} (pid {os.getpid()})\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
