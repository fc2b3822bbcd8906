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

metadata-service (OpenCHAMI v0.2, Fabrica-based) keeps the same concepts as resources with generated uids
(``/groups``, ``/clusterdefaultss``, ``/instanceinfos``, each ``{"metadata": {"name", "uid"}, "spec"}``): a
group's ``template`` and string-only ``metaData``, one cluster-defaults record, one instance-info record per
node (``spec.instance_id``), readable and deletable. It has no impersonation API: what a node receives is
read from the node routes (``/meta-data`` ...) with ``X-Forwarded-For`` set to the node's IP from SMD. This
backend is tested against the lab's emulator only (lab/metadata_service.py): no real metadata-service can be
had here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json

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
MDS_SERVICE = "github.com/OpenCHAMI/metadata-service"  # what its /health names
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
    if isinstance(server, MetadataService):
        return server.plan_instances(items, state, check_mode)
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

class _NodeView(object):
    """What a node receives, read through the backend's ``impersonate``."""

    workers = 8

    def meta_data(self, xname):
        text = self.impersonate(xname, "meta-data")  # pylint: disable=no-member
        try:
            return yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ApiError("meta-data of %s is not YAML: %s" % (xname, exc))

    def meta_data_many(self, names):
        self.know_nodes(names)
        return smd.parallel(self.meta_data, names, self.workers)

    def know_nodes(self, names):
        """Read ahead what asking in the name of each of these nodes needs (nothing here)."""

    @staticmethod
    def check_group(item):
        """Limits of the backend on a group (none on the cloud-init server); ValidationError."""


class CloudInitServer(_NodeView):
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


# ---------------------------------------------------------------- metadata-service

# cloud-init server field name (the specs above) -> metadata-service spec field
MDS_DEFAULTS = dict((f.api, f.api.replace("-", "_")) for f in DEFAULTS.fields)
MDS_INSTANCE = {"local-hostname": "local_hostname", "hostname": "hostname",
                "cloud-init-base-url": "cloud_init_base_url", "public-keys": "public_keys"}
MDS_DEFAULTS_NAME = "default"


def _refused(what, exc):
    """An ApiError naming the item the metadata-service refused (its message is in the body's ``error``)."""
    if not isinstance(exc, ApiError) or exc.status not in (400, 422):
        return exc
    try:
        data = json.loads(exc.body or "")
    except ValueError:
        data = None
    why = data.get("error") if isinstance(data, dict) and data.get("error") else (exc.body or str(exc))
    return ApiError("%s: metadata-service refused it, nothing was written for it: %s" % (what, why),
                    exc.method, exc.url, exc.status, exc.body)


class MetadataService(_NodeView):
    """Client of metadata-service's resources (groups, cluster defaults, instance info) and node routes."""

    name = METADATA_SERVICE

    def __init__(self, client, get_client=None, workers=8):
        self.client = client
        self.get_client = get_client
        self.workers = workers
        self._smd = None
        self._ips = {}  # xname -> its first IP address in SMD (None: it has none)

    def _records(self, collection):
        return self.client.get_json("/" + collection) or []

    def _write(self, collection, uid, name, spec, what):
        body = {"metadata": {"name": name}, "spec": spec}
        try:
            if uid:
                self.client.put("/%s/%s" % (collection, uid), body)
            else:
                self.client.post("/" + collection, body)
        except ApiError as exc:
            raise _refused(what, exc)

    # groups
    def _group_records(self):
        return [r for r in self._records("groups") if (r.get("metadata") or {}).get("name")]

    def groups(self):
        out = []
        for record in sorted(self._group_records(), key=lambda r: r["metadata"]["name"]):
            spec = record.get("spec") or {}
            out.append({"name": record["metadata"]["name"], "description": spec.get("description") or "",
                        "meta_data": spec.get("metaData") or {}, "content": spec.get("template") or ""})
        return out

    @staticmethod
    def check_group(item):
        """metadata-service's limits on a group: a template (its content) and string meta-data values."""
        errors = []
        if not item.get("content"):
            errors.append("group %s: content is required: metadata-service keeps no group without a template"
                          % item["name"])
        bad = sorted(k for k, v in (item.get("meta_data") or {}).items() if not isinstance(v, str))
        if bad:
            errors.append("group %s: meta_data values must be strings on metadata-service, not: %s"
                          % (item["name"], ", ".join(bad)))
        if errors:
            raise resource.ValidationError(errors)

    def _uids(self, name):
        return [r["metadata"]["uid"] for r in self._group_records() if r["metadata"]["name"] == name]

    def put_group(self, item):
        self.check_group(item)
        uids = self._uids(item["name"])
        spec = {"description": item.get("description") or "", "template": item.get("content") or "",
                "metaData": item.get("meta_data") or {}}
        self._write("groups", uids[0] if uids else None, item["name"], spec, "group %s" % item["name"])

    def delete_group(self, name):
        for uid in self._uids(name):
            self.client.delete("/groups/%s" % uid)

    # cluster defaults
    def _defaults_record(self):
        records = self._records("clusterdefaultss")
        return records[0] if records else None

    def defaults(self):
        spec = (self._defaults_record() or {}).get("spec") or {}
        return dict((api, spec[mds]) for api, mds in MDS_DEFAULTS.items() if spec.get(mds) not in (None, "", []))

    def set_defaults(self, fields):
        record = self._defaults_record()
        spec = dict((record or {}).get("spec") or {})
        spec.update((MDS_DEFAULTS[k], v) for k, v in fields.items())
        name = ((record or {}).get("metadata") or {}).get("name") or MDS_DEFAULTS_NAME
        self._write("clusterdefaultss", record and record["metadata"]["uid"], name, spec, "cluster defaults")

    # instance info: one record per node, read and written as such
    def _instances(self, names):
        wanted = set(names)
        found = {}
        for record in self._records("instanceinfos"):
            xname = (record.get("spec") or {}).get("instance_id")
            if xname in wanted and xname not in found:
                found[xname] = record
        return found

    def plan_instances(self, items, state="present", check_mode=False):
        """Compare the given fields with each node's own record and write (POST, PUT or DELETE) the changes."""
        bad = [i["xname"] for i in items if i.get("instance-type")]
        if bad:
            raise resource.ValidationError(["instance %s: instance_type: metadata-service has no instance type"
                                            % x for x in bad])
        records = self._instances([i["xname"] for i in items])
        current = []
        for item in items:
            spec = (records.get(item["xname"]) or {}).get("spec") or {}
            if state == "absent" and item["xname"] not in records:
                continue
            entry = {"xname": item["xname"], "public-keys": list(spec.get("public_keys") or [])}
            entry.update((api, spec.get(mds) or "") for api, mds in MDS_INSTANCE.items() if api != "public-keys")
            current.append(entry)
        desired = [dict((k, v) for k, v in i.items() if k != "instance-type") for i in items]
        the_plan = resource.plan(desired, current, INSTANCE.key, state=state, normalizers=INSTANCE.normalizers())

        def uid(xname):
            return (records.get(xname) or {}).get("metadata", {}).get("uid")

        def write(changes):
            def one(change):
                spec = dict((mds, change.after.get(api)) for api, mds in MDS_INSTANCE.items()
                            if change.after.get(api) not in (None, "", []))
                spec["instance_id"] = change.key
                self._write("instanceinfos", uid(change.key), change.key, spec, "instance %s" % change.key)
            smd.parallel(one, changes, self.workers)

        resource.apply(the_plan, check_mode, update=write, create=write,
                       delete=lambda changes: smd.parallel(
                           lambda c: self.client.delete("/instanceinfos/%s" % uid(c.key)), changes, self.workers))
        return the_plan

    # what a node receives: the node routes, asked in the node's name
    def _smd_api(self, xname):
        if self._smd is None:
            client = self.get_client("smd") if self.get_client else None
            if client is None:
                raise ApiError("reading what node %s receives from metadata-service needs SMD (its IP address): "
                               "set cluster_uri or service_uris.smd" % xname)
            self._smd = smd.SMD(client)
        return self._smd

    def know_nodes(self, names):
        """Read the IP addresses of the nodes not yet known from SMD, in one GET."""
        names = [name for name in names if name not in self._ips]
        if names:
            for name, nics in smd.interfaces_of(self._smd_api(names[0]), names).items():
                self._ips[name] = next((ip["IPAddress"] for nic in nics for ip in nic["IPAddresses"] if ip["IPAddress"]),
                                       None)

    def _node_ip(self, xname):
        self.know_nodes([xname])
        if not self._ips[xname]:
            raise ApiError("node %s has no IP address in SMD, so metadata-service cannot tell it apart" % xname)
        return self._ips[xname]

    def impersonate(self, xname, what):
        """What the node ``xname`` would receive at ``what`` (meta-data, user-data, vendor-data, <group>.yaml)."""
        try:
            return self.client.get("/" + what, headers={"X-Forwarded-For": self._node_ip(xname)}).text
        except ApiError as exc:
            if exc.status == 404 and "node not found" in (exc.body or ""):
                raise ApiError("node %s is not known to metadata-service (by its IP address in SMD)" % xname,
                               exc.method, exc.url, exc.status, exc.body)
            raise


def find_backend(get_client, backend="auto"):
    """(CLOUD_INIT or METADATA_SERVICE, client), or ApiError.

    Auto-detection asks each configured address (cloud_init, then
    metadata_service) for ``/admin/groups`` (cloud-init server: an object) and then
    ``/health`` (metadata-service names itself there; it answers 503 until its first SMD sync).
    """
    if backend in (CLOUD_INIT, METADATA_SERVICE):
        client = get_client(backend)
        if client is None:
            raise ApiError("no address for the %s: set cluster_uri or service_uris.%s"
                           % ("cloud-init server" if backend == CLOUD_INIT else "metadata-service", backend))
        return backend, client
    tried = []
    seen = set()
    for service in (CLOUD_INIT, METADATA_SERVICE):
        client = get_client(service)
        if client is None or client.base_url in seen:
            continue
        seen.add(client.base_url)
        answer, error = boot.probe(client, "/admin/groups")
        if answer is not None and isinstance(answer.json, dict):
            return CLOUD_INIT, client
        tried.append("%s/admin/groups: %s" % (client.base_url, error or "not a cloud-init server"))
        answer, error = boot.probe(client, "/health")
        body = answer.text if answer is not None else (error.body if error is not None else "")
        if MDS_SERVICE in (body or ""):
            return METADATA_SERVICE, client
        tried.append("%s/health: %s" % (client.base_url, error or "not metadata-service"))
    if not tried:
        raise ApiError("no address for the cloud-init server: set cluster_uri or service_uris.cloud_init")
    raise ApiError("no cloud-init server or metadata-service found: " + "; ".join(tried))


def detect_backend(get_client, backend="auto"):
    """The client of the cloud-init backend found (see :func:`find_backend`), or ApiError."""
    return find_backend(get_client, backend)[1]


def server_for(get_client, backend="auto"):
    """The backend object: :class:`CloudInitServer` or :class:`MetadataService`."""
    kind, client = find_backend(get_client, backend)
    if kind == METADATA_SERVICE:
        return MetadataService(client, get_client)
    return CloudInitServer(client)
