# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulated CSM services the lab cannot run for real: SLS v1, BOS v2, IMS v3, CFS v3, PCS v1 (and S3 manifests).

``python -m lab.csm_emulator --listen HOST:PORT --seed FILE --jwks-url URL``

One in-memory process behind the lab's gateway (haproxy strips ``/apis``), with the data model, status codes
and paging of ``../shared/specs/csm-*.yaml``; tests validate every answer against those documents.

* ``/sls/v1``: ``GET hardware``, ``GET|PUT hardware/{xname}`` (404), ``search/hardware`` (type, class, parent, xname),
  ``networks``, ``networks/{name}``, ``dumpstate``.
* ``/bos/v2``: ``GET sessiontemplates[/{name}]``; ``GET components`` (ids, enabled, page_size, start_after_id),
  ``GET|PATCH components/{id}``, ``PATCH components`` (``{"patch", "filters": {"ids"}}``).
* ``/ims/v3``: ``GET|POST images``, ``GET|PATCH|DELETE images/{id}`` (no S3 check of links), ``GET recipes``,
  ``public-keys``, ``jobs`` (empty).
* ``/cfs/v3``: ``GET components`` (ids, enabled, status, limit, after_id -> ``{"components", "next"}``),
  ``GET|PATCH components/{id}``, ``GET configurations[/{name}]`` (limit, after_id).
* ``/power-control/v1``: ``GET power-status`` (xname repeated), ``GET transitions`` (empty) and the validation
  answers of ``POST transitions``, ``GET|DELETE transitions/{id}``.
* ``/s3/<bucket>/<key>``: the objects of the seed (IMS manifests), without authentication (as a public-read bucket).
* ``/lab/reset`` (POST, optional ``{"nodes": N}``: a seed of N nodes from lab/csm_seed.py): back to the seed;
  ``/lab/health``: 200; ``/lab/cfs-page-limit`` (PUT ``{"limit"}``): CFS's page size cap, so that tests see
  several pages.

With ``--record FILE`` every answer is appended to FILE (the tests validate each against the specs).

Every ``/sls /bos /ims /cfs /power-control`` request needs a bearer token signed by a key of ``--jwks-url``
(Keycloak's realm keys) and not expired, as CSM's gateway requires; otherwise 401.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lab import csm_seed

CFS_DEFAULT_LIMIT = 1000  # CFS caps a page (its default_page_size option); tests can lower it
BOS_MAX_PAGE = 1000


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class Verifier:
    """RS256 bearer tokens against a JWKS (fetched once, again on an unknown kid)."""

    def __init__(self, jwks_url: str | None):
        self.jwks_url = jwks_url
        self.keys: dict = {}
        self.lock = threading.Lock()

    def _load(self) -> None:
        data = requests.get(self.jwks_url, timeout=5).json()
        keys = {}
        for key in data.get("keys", []):
            if key.get("kty") == "RSA" and key.get("use", "sig") == "sig":
                numbers = rsa.RSAPublicNumbers(int.from_bytes(_b64(key["e"]), "big"), int.from_bytes(_b64(key["n"]), "big"))
                keys[key.get("kid")] = numbers.public_key()
        self.keys = keys

    def check(self, header: str | None) -> str | None:
        """None if the token is good, else why not."""
        if not self.jwks_url:
            return None
        if not header or not header.lower().startswith("bearer "):
            return "no bearer token"
        token = header.split(None, 1)[1].strip()
        try:
            head, body, sig = token.split(".")
            meta = json.loads(_b64(head))
            claims = json.loads(_b64(body))
        except ValueError:
            return "malformed token"
        with self.lock:
            if meta.get("kid") not in self.keys:
                try:
                    self._load()
                except (requests.RequestException, ValueError) as exc:
                    return f"cannot read the JWKS: {exc}"
            key = self.keys.get(meta.get("kid"))
        if key is None or meta.get("alg") != "RS256":
            return "token signed by an unknown key"
        try:
            key.verify(_b64(sig), f"{head}.{body}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "bad signature"
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < time.time():
            return "token expired"
        return None


class State:
    """The in-memory data of the emulated services, reset to the seed on demand."""

    def __init__(self, seed: dict):
        self.seed = seed
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            data = copy.deepcopy(self.seed)
            self.hardware = {item["Xname"]: item for item in data["sls"]["hardware"]}
            children: dict = {}
            for item in self.hardware.values():
                children.setdefault(item.get("Parent"), []).append(item["Xname"])
            for xname, item in self.hardware.items():  # SLS lists the children of a parent (sorted)
                if xname in children:
                    item["Children"] = sorted(children[xname])
            self.networks = {item["Name"]: item for item in data["sls"]["networks"]}
            self.templates = {item["name"]: item for item in data["bos"]["sessiontemplates"]}
            self.bos_components = {item["id"]: item for item in data["bos"]["components"]}
            self.images = {item["id"]: item for item in data["ims"]["images"]}
            self.cfs_components = {item["id"]: item for item in data["cfs"]["components"]}
            self.configurations = {item["name"]: item for item in data["cfs"]["configurations"]}
            self.power = {item["xname"]: item for item in data["pcs"]["status"]}
            self.objects = dict(data.get("s3", {}))
            self.cfs_limit = CFS_DEFAULT_LIMIT


XNAME = re.compile(r"x\d+(?:[a-z]+\d+)*")  # an HMS xname, loosely (enough to refuse words and comma lists)


def _problem(status: int, title: str, detail: str) -> dict:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}


def _csv_ids(query: dict, key: str) -> list[str] | None:
    values = query.get(key)
    if not values:
        return None
    return [item for value in values for item in value.split(",") if item]


def _bool(query: dict, key: str) -> bool | None:
    values = query.get(key)
    if not values:
        return None
    return values[0].lower() == "true"


class Handler(BaseHTTPRequestHandler):
    """Routes one request to the emulated service."""

    server_version = "lab-csm-emulator/1"
    protocol_version = "HTTP/1.1"
    state: State
    verifier: Verifier
    record: str | None = None
    token_source: dict = {}  # url, client_id, secret_file (--token-source)
    record_lock = threading.Lock()

    def log_message(self, fmt, *args):  # one line per request in the lab log
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _send(self, status: int, body=None, content_type="application/json") -> None:
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        if status >= 400 and content_type == "application/json":
            content_type = "application/problem+json"
        if self.record and not self.path.startswith("/lab/"):
            line = json.dumps({"method": self.command, "path": self.path, "status": status, "content_type": content_type,
                               "body": body, "request": getattr(self, "_request_body", None)})
            with self.record_lock, open(self.record, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        self._request_body = json.loads(raw)  # pylint: disable=attribute-defined-outside-init
        return self._request_body

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        query = parse_qs(url.query)
        if path == "/lab/health":
            return self._send(200, {"ok": True})
        if path == "/lab/reset" and method == "POST":
            nodes = (self._body() or {}).get("nodes")
            if nodes:
                self.state.seed = csm_seed.generate(int(nodes))
            self.state.reset()
            return self._send(204)
        if path == "/lab/token" and method == "POST" and self.token_source:
            # csm-bss fetches its token for csm-hsm here (BSS posts to <oauth2 base>/token without credentials,
            # as to OpenCHAMI's opaal): a Keycloak client-credentials token of the lab's admin-client
            source = self.token_source
            with open(source["secret_file"], encoding="utf-8") as handle:
                secret = handle.read().strip()
            answer = requests.post(source["url"], data={"grant_type": "client_credentials"},
                                   auth=(source["client_id"], secret), timeout=30)
            return self._send(answer.status_code, answer.json())
        if path == "/lab/cfs-page-limit" and method == "PUT":
            self.state.cfs_limit = int(self._body()["limit"])
            return self._send(204)
        if path.startswith("/s3/"):
            obj = self.state.objects.get(path[len("/s3/"):])
            if obj is None:
                return self._send(404, _problem(404, "Not Found", "NoSuchKey"))
            return self._send_text(obj) if isinstance(obj, str) else self._send(200, obj)
        why = self.verifier.check(self.headers.get("Authorization"))
        if why:
            return self._send(401, _problem(401, "Unauthorized", why))
        try:
            body = self._body() if method in ("PATCH", "PUT", "POST") else None
        except ValueError:
            return self._send(400, _problem(400, "Bad Request", "the body is not JSON"))
        for prefix, handler in (("/sls/v1", self._sls), ("/bos/v2", self._bos), ("/ims/v3", self._ims),
                                ("/cfs/v3", self._cfs), ("/power-control/v1", self._pcs)):
            if path == prefix or path.startswith(prefix + "/"):
                with self.state.lock:
                    result = handler(method, path[len(prefix):].strip("/").split("/") if path != prefix else [], query, body)
                return self._send(*result)
        return self._send(404, _problem(404, "Not Found", f"no such path {path}"))

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        """GET"""
        self._route("GET")

    def do_PATCH(self):  # noqa: N802  pylint: disable=invalid-name
        """PATCH"""
        self._route("PATCH")

    def do_POST(self):  # noqa: N802  pylint: disable=invalid-name
        """POST"""
        self._route("POST")

    def do_PUT(self):  # noqa: N802  pylint: disable=invalid-name
        """PUT"""
        self._route("PUT")

    def do_DELETE(self):  # noqa: N802  pylint: disable=invalid-name
        """DELETE"""
        self._route("DELETE")

    # ------------------------------------------------------------------ SLS
    def _sls(self, method, parts, query, body):
        st = self.state
        if method == "PUT" and len(parts) == 2 and parts[0] == "hardware":
            if not isinstance(body, dict) or not body.get("Class"):
                return 400, _problem(400, "Bad Request", "Class is required")
            item = dict(st.hardware.get(parts[1]) or {"Xname": parts[1]})
            item.update({key: body[key] for key in ("Class", "ExtraProperties") if key in body})
            if "ExtraProperties" not in body:
                item.pop("ExtraProperties", None)
            item["LastUpdated"] = int(time.time())
            item["LastUpdatedTime"] = time.strftime("%Y-%m-%d %H:%M:%S.000000 +0000 UTC", time.gmtime())
            st.hardware[parts[1]] = item
            return 200, item
        if method != "GET":
            return 405, _problem(405, "Method Not Allowed", method)
        if parts == ["hardware"]:
            return 200, [st.hardware[x] for x in sorted(st.hardware)]
        if len(parts) == 2 and parts[0] == "hardware":
            item = st.hardware.get(parts[1])
            return (200, item) if item else (404, _problem(404, "Not Found", "no such component not in DB"))
        if parts == ["search", "hardware"]:
            # as hms-sls v2.12.0 answers (tests/integration/fixtures/csm-transcripts): type is the comptype
            # (comptype_node), a TypeString (Node) is "unknown" (400); no match is 200 with null
            if "type" in query and not query["type"][0].startswith("comptype_"):
                return 400, dict(_problem(400, "Bad Request", "type is unknown"), type="about: blank",
                                 instance="/v1/search/hardware")
            found = [st.hardware[x] for x in sorted(st.hardware)
                     if all(st.hardware[x].get(field) == query[key][0] for key, field in
                            (("type", "Type"), ("class", "Class"), ("parent", "Parent"), ("xname", "Xname"))
                            if key in query)]
            return 200, found or None
        if parts == ["networks"]:
            return 200, [st.networks[n] for n in sorted(st.networks)]
        if len(parts) == 2 and parts[0] == "networks":
            item = st.networks.get(parts[1])
            if item is None:
                return 404, dict(_problem(404, "Not Found", "Network not found in DB"), type="about: blank",
                                 instance=f"/v1/networks/{parts[1]}")
            return 200, item
        if parts == ["dumpstate"]:
            return 200, {"Hardware": dict(sorted(st.hardware.items())), "Networks": dict(sorted(st.networks.items()))}
        return 404, _problem(404, "Not Found", "/".join(parts))

    # ------------------------------------------------------------------ BOS
    def _bos(self, method, parts, query, body):
        st = self.state
        if parts == ["sessiontemplates"] and method == "GET":
            return 200, [st.templates[n] for n in sorted(st.templates)]
        if len(parts) == 2 and parts[0] == "sessiontemplates" and method == "GET":
            item = st.templates.get(parts[1])
            return (200, item) if item else (404, _problem(404, "Not Found", f"Session template {parts[1]} could not be found"))
        if parts == ["components"] and method == "GET":
            ids = _csv_ids(query, "ids")
            enabled = _bool(query, "enabled")
            size = int(query.get("page_size", ["0"])[0]) or None
            after = query.get("start_after_id", [None])[0]
            out = [st.bos_components[i] for i in sorted(st.bos_components)
                   if (ids is None or i in ids) and (enabled is None or st.bos_components[i].get("enabled") == enabled)
                   and (after is None or i > after)]
            return 200, out[:size] if size else out
        if parts == ["components"] and method == "PATCH":
            if not isinstance(body, dict) or not isinstance(body.get("patch"), dict) or "ids" not in (body.get("filters") or {}):
                return 400, _problem(400, "Bad Request", "patch and filters.ids are required")
            ids = [i for i in body["filters"]["ids"].split(",") if i]
            missing = [i for i in ids if i not in st.bos_components]
            if missing:
                return 404, _problem(404, "Not Found", f"Component(s) {','.join(missing)} could not be found")
            return 200, [self._bos_patch(i, body["patch"]) for i in ids]
        if len(parts) == 2 and parts[0] == "components":
            item = st.bos_components.get(parts[1])
            if item is None:
                return 404, _problem(404, "Not Found", f"Component {parts[1]} could not be found")
            if method == "GET":
                return 200, item
            if method == "PATCH":
                if not isinstance(body, dict):
                    return 400, _problem(400, "Bad Request", "a component patch is an object")
                return 200, self._bos_patch(parts[1], body)
        return 404, _problem(404, "Not Found", "/".join(parts))

    def _bos_patch(self, xname, patch):
        item = self.state.bos_components[xname]
        for key, value in patch.items():
            if key == "id":
                continue
            if isinstance(value, dict) and isinstance(item.get(key), dict):
                item[key].update(value)
            else:
                item[key] = value
        return item

    # ------------------------------------------------------------------ IMS
    # As Cray-HPE/ims v3.33.0 answers (tests/integration/fixtures/csm-transcripts/ims-v3.33.0.json): problems
    # without ``type``, 400 for an empty body, 422 with per-field ``errors``, new records stamped in naive UTC.
    IMS_EMPTY = "No input provided. Determine the specific information that is missing or invalid and then " \
                "re-run the request with valid information."
    IMS_INVALID = "Input data was understood, but failed validation. Re-run request with valid input values " \
                  "for the fields indicated in the response."
    IMS_ARCHES = ("aarch64", "x86_64")

    @classmethod
    def _ims_problem(cls, status, errors=None):
        if status == 404:
            return 404, {"status": 404, "title": "Not Found",
                         "detail": "Requested resource does not exist. Re-run request with valid ID."}
        if status == 400:
            return 400, {"status": 400, "title": "Bad Request", "detail": cls.IMS_EMPTY}
        return 422, {"status": 422, "title": "Unprocessable Entity", "detail": cls.IMS_INVALID, "errors": errors or {}}

    @classmethod
    def _ims_errors(cls, body, known, required=()):
        """Field errors of an image body (the wording of IMS's marshmallow schemas)."""
        errors = {key: ["Unknown field."] for key in body if key not in known}
        errors.update({key: ["Missing data for required field."] for key in required if key not in body})
        if "name" in body and not (isinstance(body["name"], str) and body["name"]):
            errors["name"] = ["name field must not be blank"]
        if "arch" in body and body["arch"] not in cls.IMS_ARCHES:
            errors["arch"] = ["Must be one of: %s." % ", ".join(cls.IMS_ARCHES)]
        return errors

    def _ims(self, method, parts, _query, body):
        images = self.state.images
        if method == "GET" and parts in (["recipes"], ["public-keys"], ["jobs"]):
            return 200, []  # the lab has no recipes, keys or jobs (IMS without Kubernetes has none either)
        if parts == ["images"] and method == "GET":
            return 200, [images[i] for i in sorted(images)]
        if parts == ["images"] and method == "POST":
            if not body:
                return self._ims_problem(400)
            body = dict(body)
            if isinstance(body.get("metadata"), dict) and "key" in body["metadata"]:  # IMS's {key, value} form
                body["metadata"] = {body["metadata"]["key"]: body["metadata"].get("value", "")}
            errors = self._ims_errors(body, ("name", "link", "arch", "metadata"), required=("name",))
            if errors:
                return self._ims_problem(422, errors)
            created = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat()
            item = {"name": body["name"], "link": body.get("link"), "arch": body.get("arch", "x86_64"),
                    "metadata": body.get("metadata") or {}, "id": str(uuid.uuid4()), "created": created}
            images[item["id"]] = item
            return 201, item
        if len(parts) != 2 or parts[0] != "images":
            return 404, _problem(404, "Not Found", "/".join(parts))
        item = images.get(parts[1])
        if item is None:
            return self._ims_problem(404)
        if method == "GET":
            return 200, item
        if method == "DELETE":
            del images[parts[1]]
            return 204, None
        if method != "PATCH":
            return 404, _problem(404, "Not Found", "/".join(parts))
        if not body:
            return self._ims_problem(400)
        errors = self._ims_errors(body, ("link", "arch", "metadata"))
        change = body.get("metadata")
        if change is not None and (not isinstance(change, dict) or change.get("operation") not in ("set", "remove")
                                   or "key" not in change):
            errors["metadata"] = ["an operation set or remove, and a key"]
        if errors:
            return self._ims_problem(422, errors)
        if "link" in body and item.get("link") and item["link"] != body["link"]:
            return 409, {"status": 409, "title": "Conflict",
                         "detail": "The image record cannot be patched since it already has link information."}
        for key in ("link", "arch"):
            if key in body:
                item[key] = body[key]
        if change is not None and change["operation"] == "set":
            item["metadata"][change["key"]] = change.get("value", "")
        elif change is not None:
            item["metadata"].pop(change["key"], None)
        return 200, item

    # ------------------------------------------------------------------ CFS
    def _page(self, items: dict, query: dict, key: str, keep) -> tuple:
        limit = int(query.get("limit", [str(self.state.cfs_limit)])[0])
        limit = max(1, min(limit, self.state.cfs_limit))
        after = query.get("after_id", [None])[0]
        chosen = [items[i] for i in sorted(items) if keep(items[i]) and (after is None or i > after)]
        page = chosen[:limit]
        nxt = {"limit": limit, "after_id": page[-1]["id" if key == "components" else "name"]} if len(chosen) > limit else None
        return 200, {key: page, "next": nxt}

    def _cfs(self, method, parts, query, body):
        st = self.state
        if parts == ["components"] and method == "GET":
            ids = _csv_ids(query, "ids")
            enabled = _bool(query, "enabled")
            status = query.get("status", [None])[0]
            return self._page(st.cfs_components, query, "components", lambda c: (ids is None or c["id"] in ids)
                              and (enabled is None or c.get("enabled") == enabled)
                              and (status is None or c.get("configuration_status") == status))
        if len(parts) == 2 and parts[0] == "components":
            item = st.cfs_components.get(parts[1])
            if item is None:
                return 404, _problem(404, "Not Found", f"Component {parts[1]} could not be found")
            if method == "GET":
                return 200, item
            if method == "PATCH":
                if not isinstance(body, dict):
                    return 400, _problem(400, "Bad Request", "a component patch is an object")
                for key, value in body.items():
                    if key in ("enabled", "desired_config", "error_count", "retry_policy", "tags"):
                        item[key] = value
                return 200, item
        if parts == ["configurations"] and method == "GET":
            return self._page(st.configurations, query, "configurations", lambda c: True)
        if len(parts) == 2 and parts[0] == "configurations" and method == "GET":
            item = st.configurations.get(parts[1])
            return (200, item) if item else (404, _problem(404, "Not Found", f"Configuration {parts[1]} could not be found"))
        return 404, _problem(404, "Not Found", "/".join(parts))

    # ------------------------------------------------------------------ PCS
    # As Cray-HPE/hms-power-control v2.13.0 answers (fixtures/csm-transcripts/hms-power-control-v2.13.0.json):
    # repeated ``xname`` parameters (a comma list is one invalid xname), unknown xnames listed with an error,
    # filters checked but not applied to those. Transitions are not emulated: only their validation answers.
    PCS_FILTERS = {"powerStateFilter": ("powerStateFilter", ("on", "off", "undefined")),
                   "managementStateFilter": ("ManagementStateFilter", ("available", "unavailable"))}
    PCS_OPERATIONS = ("on", "off", "soft-off", "soft-restart", "hard-restart", "init", "force-off")

    def _pcs(self, method, parts, query, body):
        if method == "GET" and parts == ["power-status"]:
            return self._pcs_power_status(query)
        if parts == ["transitions"] and method == "GET":
            return 200, {"transitions": []}
        if parts == ["transitions"] and method == "POST":
            operation = str(body.get("operation") or "") if isinstance(body, dict) else ""
            if operation.lower() not in self.PCS_OPERATIONS:
                return 400, _problem(400, "Bad Request", f"invalid Operation type {operation}")
            return 501, _problem(501, "Not Implemented", "the lab does not emulate power transitions")
        if len(parts) == 2 and parts[0] == "transitions" and method in ("GET", "DELETE"):
            try:
                uuid.UUID(parts[1])
            except ValueError:
                why = f"invalid UUID length: {len(parts[1])}" if len(parts[1]) != 36 else "invalid UUID format"
                return 400, _problem(400, "Bad Request", why)
            return 404, _problem(404, "Not Found", f"Key /transition/{parts[1]} does not exist")
        return 404, _problem(404, "Not Found", "/".join(parts))

    def _pcs_power_status(self, query):
        wanted = list(dict.fromkeys(query.get("xname", [])))
        invalid = [x for x in wanted if not XNAME.fullmatch(x)]
        if invalid:
            return 400, _problem(400, "Bad Request", "invalid xnames detected: " + " ".join(invalid))
        keep = {}
        for key, (label, allowed) in self.PCS_FILTERS.items():
            value = query.get(key, [""])[0]
            if value and value.lower() not in allowed:
                return 400, _problem(400, "Bad Request", f"invalid {label} type: {value}")
            keep[key] = value.lower()
        power = self.state.power

        def shown(entry):
            return ((not keep["powerStateFilter"] or entry["powerState"] == keep["powerStateFilter"])
                    and (not keep["managementStateFilter"] or entry["managementState"] == keep["managementStateFilter"]))
        unknown = {"powerState": "", "managementState": "", "error": "Component not found in component map.",
                   "supportedPowerTransitions": None, "lastUpdated": ""}
        entries = [power[x] if x in power else {"xname": x, **unknown} for x in (wanted or sorted(power))]
        return 200, {"status": [e for e in entries if e["xname"] not in power or shown(e)]}


def main(argv=None) -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m lab.csm_emulator")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--seed", required=True, help="JSON written by lab.csm (seed)")
    parser.add_argument("--jwks-url", help="verify bearer tokens against this JWKS (Keycloak's realm keys)")
    parser.add_argument("--rev", help="code revision (lets `lab up` notice a change)")
    parser.add_argument("--record", help="append every answer (method, path, status, body) to this JSON-lines file")
    parser.add_argument("--token-source", nargs=3, metavar=("TOKEN_URL", "CLIENT_ID", "SECRET_FILE"),
                        help="serve POST /lab/token: a client-credentials token from Keycloak (for csm-bss)")
    args = parser.parse_args(argv)
    with open(args.seed, encoding="utf-8") as handle:
        seed = json.load(handle)
    host, port = args.listen.rsplit(":", 1)
    Handler.state = State(seed)
    Handler.verifier = Verifier(args.jwks_url)
    Handler.record = args.record
    Handler.token_source = dict(zip(("url", "client_id", "secret_file"), args.token_source or ()))
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    print(f"CSM emulator (SLS, BOS, IMS, CFS, PCS) on http://{args.listen}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
