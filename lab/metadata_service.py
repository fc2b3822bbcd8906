# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An emulator of OpenCHAMI's metadata-service (the v0.2 cloud-init service) for the lab.

The real metadata-service cannot be had here in any form (the Go module proxy serves no version and its
source cannot be built by the project's files), so the lab runs this instead and the collection's
``metadata_service`` backend is tested against it only. It follows what the public source says
(OpenCHAMI/metadata-service, read for facts, nothing copied):

* the Fabrica resources of ``apis/cloud-init.openchami.io/v1``: ``/clusterdefaultss`` (sic), ``/groups``,
  ``/instanceinfos``, each ``{"apiVersion", "kind", "metadata": {"name", "uid", "createdAt", "updatedAt"},
  "spec", "status"}``; ``GET /<c>`` lists them (a JSON array), ``POST /<c>`` creates one under a generated
  uid (``group-1a2b3c4d``) and answers 201, ``GET|PUT|PATCH|DELETE /<c>/{uid}``; a name is not unique and a
  POST never answers 409 (cmd/server/*_handlers_generated.go, routes_generated.go);
* request checks: a create needs ``metadata`` and ``spec`` and the spec's required fields (Group
  ``template``; ClusterDefaults ``base_url`` (a URL) and ``cluster_name``; InstanceInfo ``instance_id``),
  a field of the wrong JSON type is refused as Go's decoder refuses it ("invalid request body: ..."),
  unknown fields are ignored; a Group's template must name only variables found in the sample data plus
  its ``metaData``, render, and give YAML, on create and on update (group_types.go ``Validate``); errors
  are ``{"error", "code"}``; a delete answers ``{"message", "uid"}``;
* the node side: ``/meta-data`` (YAML), ``/user-data`` (``#cloud-config``), ``/vendor-data``
  (``#include`` and one ``<base-url>/<group>.yaml`` per group with a template), ``/{group}.yaml`` (the
  group's template rendered with the node's data and the group's ``metaData``), the caller being the first
  ``X-Forwarded-For`` address or the peer, looked up in SMD's EthernetInterfaces (pkg/handlers/metadata.go);
  ``/health`` answers ``{"status": "healthy", "service": "github.com/OpenCHAMI/metadata-service"}``.

What differs: SMD is read when asked (the real one syncs a cache every 60 s); a node's instance info is the
record whose ``spec.instance_id`` (or uid) is the node's xname and a group is the one whose
``metadata.name`` is the SMD label (the real code loads both by uid, which a generated uid never equals:
the emulator follows the evident intent); templates are rendered with Jinja2 where the real one uses pongo2;
everything is kept in memory; no profiles, WireGuard peers or status sub-resources.

    python -m lab.metadata_service --listen 127.0.0.1:27774 --smd-url URL [--token-url URL] [--jwks-url URL]
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

import jinja2
import requests
import yaml

from lab.pcs import Jwks, Smd

API_VERSION = "v1"  # what Fabrica's version negotiation answers (boot-service, same generator, says "v1")
SERVICE = "github.com/OpenCHAMI/metadata-service"
# collection -> (kind, uid prefix, spec fields: name -> JSON type)
KINDS = {
    "clusterdefaultss": ("ClusterDefaults", "clusterdefaults", {
        "description": str, "base_url": str, "cloud_provider": str, "region": str, "availability_zone": str,
        "cluster_name": str, "short_name": str, "nid_length": int, "public_keys": list}),
    "groups": ("Group", "group", {"description": str, "template": str, "metaData": dict, "osVersion": str}),
    "instanceinfos": ("InstanceInfo", "instanceinfo", {
        "description": str, "instance_id": str, "local_hostname": str, "hostname": str, "cloud_init_base_url": str,
        "public_keys": list, "default_profile": str}),
}
GO_TYPES = {str: "string", int: "int", list: "[]string", dict: "map[string]string"}
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/]+")
VARIABLE = re.compile(r"{{\s*([a-zA-Z0-9_\.]+)\s*}}")
LOOP = re.compile(r"{%\s*for\s+[a-zA-Z0-9_]+\s+in\s+([a-zA-Z0-9_\.]+)\s*%}")
# the data a group template is checked against (group_types.go sampleMetadata): everything under "ds"
SAMPLE = {"ds": {
    "cluster_name": "test-cluster", "base_url": "http://cloud-init.local", "cloud_provider": "OpenCHAMI",
    "region": "us-west-1", "availability_zone": "us-west-1a", "hostname": "test-host", "instance_id": "x1000c0s0b0n0",
    "nid": 1000, "role": "compute", "mac": "00:11:22:33:44:55", "ip": "192.0.2.1", "domain": "example.com",
    "os_version": "ubuntu-22.04", "ssh_keys": "ssh-rsa AAAAB3Nza...", "tags": "role=compute,env=prod",
    "vendor_data": {"version": "1.0", "cloud_init_base_url": "http://cloud-init.local", "cluster_name": "test-cluster",
                    "nid": 1000, "role": "compute", "mac": "00:11:22:33:44:55",
                    "groups": {"rack1": {"syslog_forwarder": "syslog.rack1.local"}}},
    "meta_data": {"instance-id": "x1000c0s0b0n0", "local-hostname": "test-host", "hostname": "test-host",
                  "cluster-name": "test-cluster",
                  "instance_data": {"v1": {"public_keys": ["ssh-rsa AAAAB3Nza..."],
                                           "vendor_data": {"groups": {"rack1": {
                                               "syslog_forwarder": "syslog.rack1.local"}}}}}},
}}


class Invalid(ValueError):
    """A request refused with 400 (the message is the whole ``error``)."""


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def render(template: str, data: dict) -> str:
    return jinja2.Environment(undefined=jinja2.ChainableUndefined).from_string(template).render(**data)


def _has(data, dotted: str) -> bool:
    current = data
    for part in dotted.split("."):
        if not isinstance(current, dict) or part not in current:
            return False
        current = current[part]
    return True


def check_template(spec: dict) -> None:
    """A group's template as ``Group.Validate`` checks it: required, variables known, renders, gives YAML."""
    template = spec.get("template") or ""
    if not template:
        raise Invalid("validation failed: template is required")
    merged = dict(SAMPLE, **(spec.get("metaData") or {}))
    names = set()
    for pattern in (VARIABLE, LOOP):
        for name in pattern.findall(template):
            names.add(name)
            if "." in name:
                names.add(name.split(".", 1)[0])
    missing = sorted(n for n in names if not _has(merged, n))
    if missing:
        raise Invalid("validation failed: missing required variables: [%s]" % " ".join(missing))
    try:
        rendered = render(template, merged)
    except jinja2.TemplateError as exc:
        raise Invalid("validation failed: template render error: %s" % exc) from exc
    try:
        yaml.safe_load(rendered)
    except yaml.YAMLError as exc:
        raise Invalid("validation failed: template YAML invalid after rendering: %s" % exc) from exc


def check_types(kind: str, spec, fields: dict) -> None:
    """Go's json decoding of the spec: a field of another JSON type is refused."""
    if not isinstance(spec, dict):
        raise Invalid("invalid request body: json: cannot unmarshal %s into Go struct field of type v1.%sSpec"
                      % (type(spec).__name__, kind))
    for name, want in fields.items():
        value = spec.get(name)
        if value is None:
            continue
        good = isinstance(value, want) and not (want is int and isinstance(value, bool))
        if good and want is list:
            good = all(isinstance(v, str) for v in value)
        if good and want is dict:
            good = all(isinstance(v, str) for v in value.values())
        if not good:
            raise Invalid("invalid request body: json: cannot unmarshal %s into Go struct field %sSpec.spec.%s of "
                          "type %s" % (type(value).__name__, kind, name, GO_TYPES[want]))


def check_create(kind: str, spec: dict) -> None:
    """The ``validate`` tags of the request (layer 1, create only)."""
    required = {"ClusterDefaults": ("base_url", "cluster_name"), "Group": ("template",),
                "InstanceInfo": ("instance_id",)}[kind]
    for name in required:
        if not spec.get(name):
            raise Invalid("validation failed: Key: 'Create%sRequest.Spec.%s' Error:Field validation for '%s' failed "
                          "on the 'required' tag" % (kind, name, name))
    if kind == "ClusterDefaults" and not URL.match(spec["base_url"]):
        raise Invalid("validation failed: Key: 'CreateClusterDefaultsRequest.Spec.base_url' Error:Field validation "
                      "for 'base_url' failed on the 'url' tag")


class Store:
    """The resources, in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items: dict = {name: {} for name in KINDS}

    def list(self, collection: str) -> list:
        with self.lock:
            return sorted(self.items[collection].values(), key=lambda r: r["metadata"]["createdAt"])

    def get(self, collection: str, uid: str):
        with self.lock:
            return self.items[collection].get(uid)

    def create(self, collection: str, body) -> dict:
        kind, prefix, fields = KINDS[collection]
        if not isinstance(body, dict):
            raise Invalid("invalid request body: json: cannot unmarshal into Go value of type main.Create%sRequest"
                          % kind)
        spec = body.get("spec") or {}
        check_types(kind, spec, fields)
        meta = body.get("metadata")
        if not isinstance(meta, dict):
            raise Invalid("validation failed: Key: 'Create%sRequest.Metadata' Error:Field validation for 'Metadata' "
                          "failed on the 'required' tag" % kind)
        check_create(kind, spec)
        if kind == "Group":
            check_template(spec)
        stamp = now_iso()
        uid = "%s-%s" % (prefix, secrets.token_hex(4))
        record = {"apiVersion": API_VERSION, "kind": kind,
                  "metadata": {"name": str(meta.get("name") or ""), "uid": uid, "createdAt": stamp, "updatedAt": stamp},
                  "spec": {k: v for k, v in spec.items() if k in fields and v not in (None, "", [], {})},
                  "status": self._status(kind, spec)}
        with self.lock:
            self.items[collection][uid] = record
        return record

    def update(self, collection: str, uid: str, body) -> dict:
        kind, fields = KINDS[collection][0], KINDS[collection][2]
        if not isinstance(body, dict):
            raise Invalid("invalid request body: json: cannot unmarshal into Go value of type main.Update%sRequest"
                          % kind)
        spec = body.get("spec") or {}
        check_types(kind, spec, fields)
        if kind == "Group":
            check_template(spec)
        with self.lock:
            record = self.items[collection][uid]
            name = (body.get("metadata") or {}).get("name")
            if name:
                record["metadata"]["name"] = str(name)
            record["spec"] = {k: v for k, v in spec.items() if k in fields and v not in (None, "", [], {})}
            record["metadata"]["updatedAt"] = now_iso()
            record["status"] = self._status(kind, spec)
            return record

    def delete(self, collection: str, uid: str) -> None:
        with self.lock:
            del self.items[collection][uid]

    @staticmethod
    def _status(kind: str, spec: dict) -> dict:
        if kind != "Group":
            return {"ready": False}
        names = sorted(set(VARIABLE.findall(spec.get("template") or "")))
        status = {"valid": True}
        if names:
            status["requiredVariables"] = names
        return status

    # ------------------------------------------------------------ what the node side reads
    def defaults(self) -> dict:
        found = self.list("clusterdefaultss")
        return found[0]["spec"] if found else {}

    def instance(self, xname: str) -> dict:
        for record in self.list("instanceinfos"):
            if record["spec"].get("instance_id") == xname or record["metadata"]["uid"] == xname:
                return record["spec"]
        return {}

    def group(self, name: str):
        for record in self.list("groups"):
            if record["metadata"]["name"] == name:
                return record["spec"]
        return None


def hostname(defaults: dict, nid) -> str:
    short = defaults.get("short_name") or (defaults.get("cluster_name") or "")[:2]
    return "%s%0*d" % (short, defaults.get("nid_length") or 4, int(nid or 0))


class Node:
    """What SMD says about the node behind an IP address."""

    def __init__(self, smd: Smd, ip: str):
        found = smd.get("/Inventory/EthernetInterfaces?IPAddress=" + quote(ip))
        if not found:
            raise LookupError("node not found")
        self.xname = found[0]["ComponentID"]
        self.mac = found[0].get("MACAddress") or ""
        component = smd.get("/State/Components/" + self.xname)
        self.nid = component.get("NID") or 0
        self.role = component.get("Role") or ""
        self.groups = smd.get("/memberships/" + self.xname).get("groupLabels") or []
        self.ip = ip


def meta_data(store: Store, node: Node) -> dict:
    """``/meta-data`` as generateMetaData builds it."""
    defaults, own = store.defaults(), store.instance(node.xname)
    local = own.get("local_hostname") or hostname(defaults, node.nid)
    host = own.get("hostname") or hostname(defaults, node.nid)
    groups = {}
    for name in node.groups:
        spec = store.group(name)
        if spec and spec.get("template"):
            groups[name] = dict({"description": spec.get("description") or ""}, **(spec.get("metaData") or {}))
    v1 = {"cloud_name": "OpenCHAMI", "cloud_provider": defaults.get("cloud_provider"),
          "region": defaults.get("region"), "availability_zone": defaults.get("availability_zone"),
          "instance_id": own.get("instance_id") or node.xname, "local_hostname": local, "hostname": host,
          "local_ipv4": node.ip,
          "public_keys": list(defaults.get("public_keys") or []) + list(own.get("public_keys") or []),
          "vendor_data": {"version": "1.0", "cluster_name": defaults.get("cluster_name"), "nid": node.nid,
                          "role": node.role, "mac": node.mac,
                          "cloud_init_base_url": own.get("cloud_init_base_url") or defaults.get("base_url"),
                          "groups": groups or None}}
    v1 = {k: v for k, v in v1.items() if v not in (None, "", [])}
    v1["vendor_data"] = {k: v for k, v in v1["vendor_data"].items() if v not in (None, "", 0)}
    v1["vendor_data"]["version"] = "1.0"
    return {"instance-id": own.get("instance_id") or node.xname, "local-hostname": local, "hostname": host,
            "cluster-name": defaults.get("cluster_name") or "", "instance_data": {"v1": v1}}


class Handler(BaseHTTPRequestHandler):
    """Resource routes (JWT-checked when a JWKS is given) and the node routes."""

    server_version = "lab-metadata-service/1"
    protocol_version = "HTTP/1.1"
    store: Store = None
    smd: Smd = None
    jwks: Jwks = None

    def _send(self, status: int, body=None, text: str | None = None, kind: str = "application/json") -> None:
        data = text.encode() if text is not None else (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", kind if text is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": message, "code": status})

    def _route(self, method: str) -> None:  # pylint: disable=too-many-return-statements
        path = urlsplit(self.path).path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path == "/health" and method == "GET":
            if self.smd.ready():
                return self._send(200, {"status": "healthy", "service": SERVICE})
            return self._send(503, {"status": "unhealthy", "service": SERVICE, "reason": "SMD not reachable"})
        parts = path.strip("/").split("/")
        if parts[0] in KINDS and len(parts) <= 2:
            why = self.jwks.check(self.headers.get("Authorization"))
            if why:
                return self._send(401, text="Unauthorized\n", kind="text/plain; charset=utf-8")
            try:
                body = json.loads(raw) if raw else None
            except ValueError as exc:
                return self._error(400, "invalid request body: %s" % exc)
            return self._resource(method, parts[0], parts[1] if len(parts) == 2 else None, body)
        node_route = parts[0] in ("meta-data", "user-data", "vendor-data") or parts[0].endswith(".yaml")
        if method == "GET" and len(parts) == 1 and node_route:
            return self._node(parts[0])
        return self._send(404, text="404 page not found\n", kind="text/plain; charset=utf-8")

    def _resource(self, method: str, collection: str, uid: str | None, body) -> None:
        kind = KINDS[collection][0]
        try:
            if uid is None and method == "GET":
                return self._send(200, self.store.list(collection))
            if uid is None and method == "POST":
                return self._send(201, self.store.create(collection, body))
            if uid is None:
                return self._send(405, text="", kind="text/plain")
            if self.store.get(collection, uid) is None:
                return self._error(404, "%s not found: failed to load %s %s: resource not found" % (kind, kind, uid))
            if method == "GET":
                return self._send(200, self.store.get(collection, uid))
            if method in ("PUT", "PATCH"):
                if method == "PATCH":  # JSON merge patch of the spec
                    patched = dict(self.store.get(collection, uid)["spec"])
                    patched.update(body or {})
                    body = {"spec": {k: v for k, v in patched.items() if v is not None}}
                return self._send(200, self.store.update(collection, uid, body))
            if method == "DELETE":
                self.store.delete(collection, uid)
                return self._send(200, {"message": "%s deleted successfully" % kind, "uid": uid})
        except Invalid as exc:
            return self._error(400, str(exc))
        return self._send(405, text="", kind="text/plain")

    def _node(self, what: str) -> None:  # pylint: disable=too-many-return-statements
        if what == "user-data":
            return self._send(200, text="#cloud-config\n", kind="text/cloud-config")
        forwarded = self.headers.get("X-Forwarded-For")
        ip = forwarded.split(",")[0].strip() if forwarded else self.client_address[0]
        try:
            node = Node(self.smd, ip)
        except (LookupError, requests.RequestException):
            return self._send(404, text="node not found\n", kind="text/plain; charset=utf-8")
        defaults = self.store.defaults()
        if what == "meta-data":
            text = yaml.safe_dump(meta_data(self.store, node), sort_keys=False)
            return self._send(200, text=text, kind="application/x-yaml")
        if what == "vendor-data":
            base = self.store.instance(node.xname).get("cloud_init_base_url") or defaults.get("base_url") or ""
            lines = ["%s/%s.yaml" % (base, g) for g in node.groups if (self.store.group(g) or {}).get("template")]
            return self._send(200, text="#include\n" + "".join(line + "\n" for line in lines), kind="text/plain")
        name = what[:-len(".yaml")]
        if name not in node.groups:
            return self._send(404, text="node %s is not a member of group %s\n" % (node.xname, name),
                              kind="text/plain; charset=utf-8")
        spec = self.store.group(name)
        if spec is None:
            return self._send(200, text="#cloud-config\n", kind="text/cloud-config")
        data = {"hostname": hostname(defaults, node.nid), "instance_id": node.xname, "nid": str(node.nid),
                "role": node.role, "mac": node.mac, "ip": node.ip}
        data.update(spec.get("metaData") or {})
        try:
            return self._send(200, text=render(spec["template"], data), kind="text/cloud-config")
        except jinja2.TemplateError:
            return self._send(500, text="template rendering failed\n", kind="text/plain; charset=utf-8")

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("GET")

    def do_POST(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("POST")

    def do_PUT(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("PUT")

    def do_PATCH(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("PATCH")

    def do_DELETE(self):  # noqa: N802  pylint: disable=invalid-name
        self._route("DELETE")

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (now_iso(), format % args))


def serve(listen: str, smd_url: str, token_url: str | None = None, jwks_url: str | None = None) -> ThreadingHTTPServer:
    """A started server (in a thread); ``server.shutdown()`` stops it."""
    host, port = listen.rsplit(":", 1)
    handler = type("MetadataServiceHandler", (Handler,), {
        "store": Store(), "smd": Smd(smd_url, token_url, None), "jwks": Jwks(jwks_url)})
    server = ThreadingHTTPServer((host, int(port)), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m lab.metadata_service", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="host:port")
    parser.add_argument("--smd-url", required=True, help="SMD base URL (without /hsm/v2)")
    parser.add_argument("--token-url", help="token endpoint for SMD tokens (GET); without it SMD is called with no token")
    parser.add_argument("--jwks-url", help="check bearer tokens against this JWKS (without it: no authentication)")
    parser.add_argument("--rev", help="code revision (lets `lab up` restart the emulator when its code changed)")
    args = parser.parse_args(argv)
    server = serve(args.listen, args.smd_url, args.token_url, args.jwks_url)
    print("lab metadata-service emulator on http://%s (SMD %s)" % (args.listen, args.smd_url), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
