# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenCHAMI cloud-init server: groups, cluster defaults, per-node instance info, impersonation.

Facts of the server (v1.4) this client relies on, observed on the real binary:

- ``GET /admin/groups`` answers an object keyed by group name; ``PUT
  /admin/groups/{name}`` creates or replaces the whole group (the body needs
  ``name``); ``DELETE`` answers 200 even for an unknown group.
- ``POST /admin/cluster-defaults`` merges: a field sent empty keeps its old
  value, so a default can be changed but never cleared; ``base-url`` is stored
  without a trailing slash.
- ``PUT /admin/instance-info/{xname}`` replaces the node's record; there is no
  GET and no DELETE. What a node gets is read back through
  ``/admin/impersonation/{xname}/meta-data`` (server started with
  ``--impersonation``), where the record is merged with the cluster defaults.

metadata-service (the Fabrica-based successor) is detected but not supported yet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.cscs.openchami.plugins.module_utils import boot, resource, smd
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

CLOUD_INIT = "cloud_init"
METADATA_SERVICE = "metadata_service"
BACKENDS = ("auto", CLOUD_INIT, METADATA_SERVICE)
NOT_SUPPORTED = "metadata-service backend is not supported yet"
HEADER = "#cloud-config"
TEMPLATE_HEADER = "## template:"
IMPERSONATION = ("meta-data", "user-data", "vendor-data")


def _not_empty(value):
    if value in ("", []):
        raise ValueError("an empty value cannot be set: the cloud-init server ignores empty values, so a default "
                         "cannot be cleared")
    return value


def _nid_length(value):
    if value < 1:
        raise ValueError("must be at least 1, got %d" % value)
    return value


def _base_url(value):
    return _not_empty(value).rstrip("/")


def empty_list(value):
    """A list compared as a set, None being the empty list."""
    return resource.unordered(value or [])


# The cluster defaults (a singleton) and a node's instance info: module option, server field, checks.
DEFAULTS = resource.Spec(
    resource.Field("cluster_name", "cluster-name", check=_not_empty),
    resource.Field("short_name", "short-name", check=_not_empty),
    resource.Field("nid_length", "nid-length", type="int", check=_nid_length),
    resource.Field("base_url", "base-url", check=_base_url),
    resource.Field("public_keys", "public-keys", type="list", elements="str", check=_not_empty, compare=empty_list),
    resource.Field("region", check=_not_empty),
    resource.Field("availability_zone", "availability-zone", check=_not_empty),
    resource.Field("cloud_provider", check=_not_empty),
)
INSTANCE = resource.Spec(
    resource.Field("xname", check=boot.check_node, identity=True, required=True, aliases=["id"]),
    resource.Field("local_hostname", "local-hostname"),
    resource.Field("hostname"),
    resource.Field("instance_type", "instance-type"),
    resource.Field("cloud_init_base_url", "cloud-init-base-url"),
    resource.Field("public_keys", "public-keys", type="list", elements="str", compare=empty_list),
)
INSTANCE_FIELDS = tuple(f.api for f in INSTANCE.fields if not f.identity)
DEFAULT_NID_LENGTH = 4


# ---------------------------------------------------------------- cloud-config

class CloudConfigError(ValueError):
    """A cloud-config that cannot be used; ``line`` and ``column`` (1-based) when YAML said where."""

    def __init__(self, message, line=None, column=None):
        self.line = line
        self.column = column
        super(CloudConfigError, self).__init__(message)


def validate_cloud_config(content):
    """Check a group's cloud-config before anything is written; returns ``cloud-config`` or ``template``.

    The first line must be ``#cloud-config`` (then the whole text must parse as a
    YAML mapping) or a template header such as ``## template: jinja`` (the text
    is rendered by cloud-init on the node, so it is not parsed here).
    """
    if not isinstance(content, str):
        raise CloudConfigError("cloud-config must be a string, got %s" % type(content).__name__)
    first = content.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if first.replace(" ", "").lower().startswith(TEMPLATE_HEADER.replace(" ", "")):
        return "template"
    if first.rstrip() != HEADER:
        raise CloudConfigError("the first line must be %r or a template header like '## template: jinja', not %r"
                               % (HEADER, first[:80]), 1, 1)
    if not HAS_YAML:  # pragma: no cover
        raise CloudConfigError("the Python library PyYAML is required to check a cloud-config")
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        text = problem if not context else "%s %s" % (context, problem)
        if mark is None:
            raise CloudConfigError("invalid YAML: %s" % text)
        raise CloudConfigError("invalid YAML at line %d, column %d: %s" % (mark.line + 1, mark.column + 1, text),
                               mark.line + 1, mark.column + 1)
    if data is not None and not isinstance(data, dict):
        raise CloudConfigError("a cloud-config must be a YAML mapping, this one is a %s" % type(data).__name__, 2, 1)
    return "cloud-config"


def decode_file(file_data):
    """The group's cloud-config text from the server's ``file`` object (plain or base64)."""
    if not isinstance(file_data, dict):
        return None
    content = file_data.get("content")
    if content is None:
        return None
    if file_data.get("encoding") == "base64":
        try:
            return base64.b64decode(content).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return content
    return content


def flatten_group(name, data):
    """The server's group JSON -> the flat form the engine compares."""
    data = data or {}
    return {"name": name, "description": data.get("description") or "", "meta_data": data.get("meta-data") or {},
            "content": decode_file(data.get("file")) or ""}


def group_body(item):
    """The engine's flat group -> the server's JSON (content always sent plain)."""
    body = {"name": item["name"], "description": item.get("description") or ""}
    if item.get("meta_data"):
        body["meta-data"] = item["meta_data"]
    if item.get("content"):
        body["file"] = {"content": item["content"], "encoding": "plain"}
    return body


# ---------------------------------------------------------------- instance info

def default_hostname(defaults, nid):
    """The name the server gives a node without its own: short name (or 2 letters of the cluster name) + padded NID."""
    short = defaults.get("short-name") or (defaults.get("cluster-name") or "")[:2]
    width = defaults.get("nid-length") or DEFAULT_NID_LENGTH
    return "%s%0*d" % (short, width, int(nid or 0))


def _own_keys(keys, defaults):
    keys = list(keys or [])
    default_keys = list(defaults.get("public-keys") or [])
    return keys[len(default_keys):] if keys[:len(default_keys)] == default_keys else keys


def effective_instance(xname, meta):
    """What a node gets, from its meta-data: the instance-info fields as the node sees them.

    ``public-keys`` are the node's own keys only (the server serves the cluster's
    keys followed by the node's), see :func:`node_view`.
    """
    meta = meta or {}
    v1 = ((meta.get("instance_data") or {}).get("v1") or {})
    vendor = v1.get("vendor_data") or {}
    return {
        "xname": xname,
        "local-hostname": meta.get("local-hostname") or "",
        "hostname": meta.get("hostname") or "",
        "instance-type": v1.get("instance_type") or "",
        "cloud-init-base-url": vendor.get("cloud_init_base_url") or "",
        "public-keys": list(v1.get("public_keys") or []),
    }


def default_value(field, defaults, nid):
    """What the node gets for ``field`` when its own instance info has none."""
    if field in ("local-hostname", "hostname"):
        return default_hostname(defaults, nid)
    if field == "cloud-init-base-url":
        return defaults.get("base-url") or ""
    if field == "public-keys":
        return []
    return ""


def node_view(effective, defaults):
    """The effective values in the form compared: public keys without the cluster's."""
    view = dict(effective)
    view["public-keys"] = _own_keys(effective.get("public-keys"), defaults)
    return view


def own_record(effective, defaults, nid):
    """The node's own instance info as far as it can be told from the defaults.

    A value equal to what the defaults give reads as no value: writing it or not
    makes no difference to the node.
    """
    record = {"xname": effective["xname"]}
    for field in INSTANCE_FIELDS:
        if field == "public-keys":
            record[field] = _own_keys(effective.get(field), defaults)
        else:
            value = effective.get(field) or ""
            record[field] = "" if value == default_value(field, defaults, nid) else value
    return record


def plan_instances(server, items, defaults, nids, state="present", check_mode=False):
    """Compare and (unless check mode) write per-node instance info; returns the engine plan.

    ``items`` hold server field names; a field given as None is not managed, an
    empty one means "none of its own" (the node gets the cluster default).
    ``state=absent`` empties every field. Fields not managed keep the node's own
    values: the server replaces the record as a whole, so they are written back.
    """
    names = [i["xname"] for i in items]
    metas = server.meta_data_many(names)
    current, records = [], {}
    for name, meta in zip(names, metas):
        effective = effective_instance(name, meta)
        current.append(node_view(effective, defaults))
        records[name] = own_record(effective, defaults, nids.get(name))
    raw, desired = {}, []
    for item in items:
        name = item["xname"]
        want = dict((f, item.get(f)) for f in INSTANCE_FIELDS)
        if state == "absent":
            want = dict((f, [] if f == "public-keys" else "") for f in INSTANCE_FIELDS)
        want = dict((f, v) for f, v in want.items() if v is not None)
        raw[name] = want
        entry = {"xname": name}
        for field, value in want.items():
            entry[field] = value if value not in ("", []) else default_value(field, defaults, nids.get(name))
        desired.append(entry)

    def merge(existing, _wanted):
        return dict(records[existing["xname"]], **raw[existing["xname"]])

    the_plan = resource.plan(desired, current, INSTANCE.key, normalizers=INSTANCE.normalizers(), merge=merge)
    resource.apply(the_plan, check_mode, update=server.put_instances_changes)
    return the_plan


def instance_body(item):
    body = {}
    for field in INSTANCE_FIELDS:
        if item.get(field):
            body[field] = item[field]
    return body


# ---------------------------------------------------------------- the server

class CloudInitServer:
    """Thin client of the cloud-init server's admin API."""

    name = CLOUD_INIT

    def __init__(self, client, workers=8):
        self.client = client
        self.workers = workers

    def groups(self):
        data = self.client.get_json("/admin/groups") or {}
        return [flatten_group(name, value) for name, value in sorted(data.items())]

    def put_group(self, item):
        self.client.put("/admin/groups/%s" % item["name"], group_body(item))

    def delete_group(self, name):
        self.client.delete("/admin/groups/%s" % name)

    def defaults(self):
        return self.client.get_json("/admin/cluster-defaults") or {}

    def set_defaults(self, fields):
        self.client.post("/admin/cluster-defaults", fields, safe=True)  # a merge: sending it twice is harmless

    def put_instances(self, items):
        """One PUT per node (the API has no bulk form), a few at a time."""
        smd.parallel(lambda i: self.client.put("/admin/instance-info/%s" % i["xname"], instance_body(i)), items,
                     self.workers)

    def put_instances_changes(self, changes):
        self.put_instances([c.after for c in changes])

    def impersonate(self, xname, what):
        """What the node ``xname`` would receive at ``what`` (meta-data, user-data, vendor-data, <group>.yaml)."""
        try:
            return self.client.get("/admin/impersonation/%s/%s" % (xname, what)).text
        except ApiError as exc:
            if exc.status == 404 and "not found in SMD" in (exc.body or ""):
                raise ApiError("node %s is not known to SMD, so the cloud-init server has no data for it" % xname,
                               exc.method, exc.url, exc.status, exc.body)
            if exc.status == 404 and "page not found" in (exc.body or ""):
                raise ApiError("the cloud-init server does not offer impersonation (start it with --impersonation)",
                               exc.method, exc.url, exc.status, exc.body)
            raise

    def meta_data(self, xname):
        text = self.impersonate(xname, "meta-data")
        try:
            return yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ApiError("meta-data of %s is not YAML: %s" % (xname, exc))

    def meta_data_many(self, names):
        return smd.parallel(self.meta_data, names, self.workers)


def detect_backend(get_client, backend="auto"):
    """The cloud-init backend client, or ApiError; metadata-service is recognised and refused.

    Auto-detection asks each configured address (cloud_init, then
    metadata_service) for ``/admin/groups`` (cloud-init server: an object) and then
    ``/health`` (answered by metadata-service, not by the cloud-init server).
    """
    if backend == METADATA_SERVICE:
        raise ApiError(NOT_SUPPORTED)
    if backend == CLOUD_INIT:
        client = get_client(CLOUD_INIT)
        if client is None:
            raise ApiError("no address for the cloud-init server: set cluster_uri or service_uris.cloud_init")
        return client
    tried = []
    seen = set()
    for service in (CLOUD_INIT, METADATA_SERVICE):
        client = get_client(service)
        if client is None or client.base_url in seen:
            continue
        seen.add(client.base_url)
        answer, error = boot.probe(client, "/admin/groups")
        if answer is not None and isinstance(answer.json, dict):
            return client
        tried.append("%s/admin/groups: %s" % (client.base_url, error or "not a cloud-init server"))
        answer, error = boot.probe(client, "/health")
        if answer is not None:
            raise ApiError("%s (found at %s)" % (NOT_SUPPORTED, client.base_url))
        tried.append("%s/health: %s" % (client.base_url, error))
    if not tried:
        raise ApiError("no address for the cloud-init server: set cluster_uri or service_uris.cloud_init")
    raise ApiError("no cloud-init server found: " + "; ".join(tried))


def server_for(get_client, backend="auto"):
    return CloudInitServer(detect_backend(get_client, backend))
