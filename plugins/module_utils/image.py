# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image inventory: one manifest per image version, kept in S3 next to the artifacts (a pure client).

Layout in the bucket: ``inventory/<name>/<version>.json`` is the manifest of image ``name:version``; artifacts the
collection uploads go to ``images/<name>/<version>/<file name>``. A tag names one version of an image: giving it to
a version takes it from the others. A manifest (``SCHEMA``) says what the image is (name, version, tags, arch,
labels), where its artifacts are (bucket and key, size, sha256; or the URL of an imported image), how it was built
(recipe and its sha256, builder and tool versions, parent, source commit), who made it and when.

S3 is reached with boto3; credentials, region and endpoint not given as options come from boto3's own chain (the
``AWS_*`` environment variables, ``~/.aws``), so ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
``AWS_ENDPOINT_URL`` work as everywhere else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import re

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = exc

    class BotoCoreError(Exception):
        """Stands in for botocore's (never raised without boto3)."""

    class ClientError(Exception):
        """Stands in for botocore's (never raised without boto3)."""

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.cscs.openchami.plugins.module_utils import boot, resource
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

SCHEMA = "cscs.openchami/image/v1"
INVENTORY_PREFIX = "inventory/"
ARTIFACT_PREFIX = "images/"
KINDS = ("kernel", "initrd", "rootfs")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
CHUNK = 1024 * 1024
# the fields a user manages (given or not); the rest (artifacts, created_*, recipe_sha256) are derived
# (created_by and created_at are set once, when a version is registered)
MANAGED = ("arch", "tags", "labels", "recipe", "source_commit", "parent", "builder", "tools", "deprecated",
           "origin", "imported_from")
IMS_KINDS = {"application/vnd.cray.image.kernel": "kernel", "application/vnd.cray.image.initrd": "initrd",
             "application/vnd.cray.image.rootfs.squashfs": "rootfs",
             "application/vnd.cray.image.parameters.boot": "boot_parameters"}


def s3_argument_spec():
    """The options of the ``cscs.openchami.s3`` doc fragment; what is not given comes from boto3's chain."""
    return dict(
        s3_endpoint_url=dict(type="str"),
        s3_bucket=dict(type="str", default="boot-images"),
        s3_access_key=dict(type="str", no_log=False),
        s3_secret_key=dict(type="str", no_log=True),
        s3_region=dict(type="str"),
        s3_validate_certs=dict(type="bool", default=True),
        s3_ca_path=dict(type="path"),
        s3_public_url=dict(type="str"),
    )


def sha256_of(path):
    """(sha256 hex, size) of a local file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def recipe_sha256(recipe):
    """The hash of a recipe (canonical JSON: sorted keys, no spaces), so the same recipe has the same hash."""
    if recipe is None:
        return None
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(value, what):
    """An ISO 8601 date or time (``2026-12-01``, ``2026-12-01T10:00:00Z``) as an aware datetime."""
    text = str(value).strip().replace("Z", "+00:00")
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(["%s: %r is not an ISO 8601 date or time" % (what, value)])
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def check_name(value, what):
    if not isinstance(value, str) or not NAME_RE.match(value):
        return ["%s %r: use letters, digits and . _ + - (at most 128, starting with a letter or digit)" % (what, value)]
    return []


def parse_ref(ref):
    """``name:tag`` (or ``name:version``; ``name`` alone means ``name:latest``) -> (name, tag)."""
    name, _sep, tag = str(ref).partition(":")
    tag = tag or "latest"
    errors = check_name(name, "image name") + check_name(tag, "tag")
    if errors:
        raise ValidationError(["image reference %r: %s" % (ref, "; ".join(errors))])
    return name, tag


def manifest_key(name, version):
    return "%s%s/%s.json" % (INVENTORY_PREFIX, name, version)


def ref_of(manifest):
    return "%s:%s" % (manifest["name"], manifest["version"])


class Store:
    """The bucket that holds the inventory and the artifacts."""

    def __init__(self, bucket, endpoint_url=None, access_key=None, secret_key=None, region=None, validate_certs=True,
                 ca_path=None, public_url=None):
        if not HAS_BOTO3:
            raise ApiError("the image inventory needs the Python library boto3 on the host that runs the module "
                           "(pip install boto3): %s" % BOTO3_IMPORT_ERROR)
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.public_url = public_url
        self.writes = 0
        try:
            self.s3 = boto3.client("s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key or None,
                                   aws_secret_access_key=secret_key or None, region_name=region or None,
                                   verify=(ca_path or True) if validate_certs else False,
                                   config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}))
        except (BotoCoreError, ValueError) as exc:
            raise ApiError("cannot set up the S3 client: %s" % exc)
        if not self.public_url:
            self.public_url = self.s3.meta.endpoint_url

    @staticmethod
    def credentials(params):
        """(access key, secret key) from the options, else from boto3's chain (for a program that needs them
        itself, such as image-builder's S3_ACCESS/S3_SECRET); (None, None) when there are none."""
        if params.get("s3_access_key") and params.get("s3_secret_key"):
            return params["s3_access_key"], params["s3_secret_key"]
        found = boto3.session.Session().get_credentials()
        frozen = found.get_frozen_credentials() if found else None
        return (frozen.access_key, frozen.secret_key) if frozen else (None, None)

    @classmethod
    def from_params(cls, params):
        return cls(params["s3_bucket"], params.get("s3_endpoint_url"), params.get("s3_access_key"),
                   params.get("s3_secret_key"), params.get("s3_region"), params.get("s3_validate_certs", True),
                   params.get("s3_ca_path"), params.get("s3_public_url"))

    def _call(self, what, func, **kwargs):
        try:
            return func(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error") or {}
            status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            raise ApiError("S3 %s failed: %s %s" % (what, error.get("Code"), error.get("Message") or ""),
                           url="%s/%s" % (self.s3.meta.endpoint_url, self.bucket), status=status)
        except BotoCoreError as exc:
            raise ApiError("S3 %s failed: %s" % (what, exc), url="%s/%s" % (self.s3.meta.endpoint_url, self.bucket),
                           kind="unreachable")

    # ------------------------------------------------------------------ objects
    def url(self, key):
        """The URL nodes fetch an object from (``s3_public_url`` or the endpoint, path style)."""
        return "%s/%s/%s" % (self.public_url.rstrip("/"), self.bucket, quote(key))

    def keys(self, prefix):
        out = []
        token = None
        while True:
            kwargs = dict(Bucket=self.bucket, Prefix=prefix)
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("listing %s" % prefix, self.s3.list_objects_v2, **kwargs)
            out.extend(item["Key"] for item in page.get("Contents") or [])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return out

    def stat(self, key):
        """{size, sha256} of an object (sha256 from its metadata when the collection wrote it), or None."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str((exc.response.get("Error") or {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            return self._call("reading %s" % key, self.s3.head_object, Bucket=self.bucket, Key=key)
        except BotoCoreError:
            return self._call("reading %s" % key, self.s3.head_object, Bucket=self.bucket, Key=key)
        return {"size": head.get("ContentLength"), "sha256": (head.get("Metadata") or {}).get("sha256")}

    def hash_object(self, key):
        """(sha256, size) of an object, streamed."""
        body = self._call("reading %s" % key, self.s3.get_object, Bucket=self.bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        size = 0
        for block in iter(lambda: body.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
        return digest.hexdigest(), size

    def get_json(self, key):
        body = self._call("reading %s" % key, self.s3.get_object, Bucket=self.bucket, Key=key)["Body"].read()
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError as exc:
            raise ApiError("s3://%s/%s is not JSON: %s" % (self.bucket, key, exc))

    def put_json(self, key, data):
        self.writes += 1
        self._call("writing %s" % key, self.s3.put_object, Bucket=self.bucket, Key=key, ContentType="application/json",
                   Body=(json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    def upload(self, path, key, sha256):
        self.writes += 1
        self._call("uploading %s" % path, self.s3.upload_file, Filename=path, Bucket=self.bucket, Key=key,
                   ExtraArgs={"Metadata": {"sha256": sha256}})

    def delete(self, keys):
        for start in range(0, len(keys), 1000):
            self.writes += 1
            answer = self._call("deleting", self.s3.delete_objects, Bucket=self.bucket,
                                Delete={"Objects": [{"Key": key} for key in keys[start:start + 1000]], "Quiet": True})
            failed = answer.get("Errors") or []
            if failed:
                named = ["%s (%s)" % (e.get("Key"), e.get("Code")) for e in failed]
                raise ApiError("S3 refused to delete %s" % ", ".join(named))

    # ------------------------------------------------------------------ the inventory
    def manifests(self, name=None):
        """Every manifest of the inventory (of image ``name`` only, if given)."""
        prefix = INVENTORY_PREFIX + (name + "/" if name else "")
        return [self.get_json(key) for key in sorted(self.keys(prefix)) if key.endswith(".json")]

    def resolve(self, ref):
        """The manifest ``name:tag`` names (a tag, else a version); fails naming what exists."""
        name, tag = parse_ref(ref)
        found = self.manifests(name)
        match = [m for m in found if tag in (m.get("tags") or [])] or [m for m in found if m.get("version") == tag]
        if not match:
            known = ", ".join("%s (tags %s)" % (ref_of(m), ",".join(m.get("tags") or []) or "none") for m in found)
            raise ValidationError(["image %s:%s is not in the inventory of s3://%s/%s%s" % (
                name, tag, self.bucket, INVENTORY_PREFIX, "; versions of %s: %s" % (name, known) if found else "")])
        return match[0]

    def artifact_urls(self, manifest):
        """kind -> URL of each artifact of a manifest."""
        return dict((kind, art.get("url") or self.url(art["key"]))
                    for kind, art in sorted((manifest.get("artifacts") or {}).items()))

    def describe(self, manifest):
        """A manifest as ``image_info`` returns it: the manifest plus its reference and artifact URLs."""
        out = dict(manifest)
        out["ref"] = ref_of(manifest)
        out["urls"] = self.artifact_urls(manifest)
        return out


# ---------------------------------------------------------------- register, tag, deprecate, delete

def _artifacts(store, name, version, given, current, errors):
    """The manifest's artifact entries from the ``artifacts`` option; uploads still to do as (path, key, sha256)."""
    out, uploads = {}, []
    for kind, spec in sorted((given or {}).items()):
        if not spec:
            continue
        path, key = spec.get("path"), spec.get("key")
        if bool(path) == bool(key) and not spec.get("url"):
            errors.append("artifacts.%s: give exactly one of path (a local file to upload) and key (an object "
                          "already in the bucket)" % kind)
            continue
        if spec.get("url"):
            out[kind] = dict((k, v) for k, v in spec.items() if v is not None and k not in ("path", "key"))
            continue
        if path:
            key = "%s%s/%s/%s" % (ARTIFACT_PREFIX, name, version, path.rstrip("/").rsplit("/", 1)[-1])
            try:
                sha, size = sha256_of(path)
            except (IOError, OSError) as exc:
                errors.append("artifacts.%s: cannot read %s: %s" % (kind, path, exc))
                continue
            have = store.stat(key)
            if not have or have.get("sha256") != sha or have.get("size") != size:
                uploads.append((path, key, sha))
        else:
            old = (current or {}).get(kind) or {}
            have = store.stat(key)
            if not have:
                errors.append("artifacts.%s: s3://%s/%s does not exist" % (kind, store.bucket, key))
                continue
            if old.get("key") == key and old.get("size") == have["size"] and old.get("sha256"):
                sha, size = old["sha256"], old["size"]
            else:
                sha, size = have.get("sha256") or None, have["size"]
                if not sha:
                    sha, size = store.hash_object(key)
        out[kind] = {"key": key, "size": size, "sha256": sha}
    return out, uploads


def references(backends, needles):
    """Where the boot configurations of ``backends`` (BSS, boot-service) mention any of ``needles`` (artifact
    locations): a list of descriptions."""
    found = []
    for backend in backends:
        if backend.name == boot.BOOT_SERVICE:
            backend.read()
            for config in backend.configs:
                spec = config.get("spec") or {}
                text = " ".join(str(spec.get(f) or "") for f in ("kernel", "initrd", "params"))
                if any(n in text for n in needles):
                    found.append("boot-service configuration %s" % (config.get("metadata") or {}).get("name"))
            continue
        for entry in backend.client.get_json("/bootparameters") or []:
            text = " ".join(str(entry.get(f) or "") for f in ("kernel", "initrd", "params"))
            if any(n in text for n in needles):
                hosts = entry.get("hosts") or []
                found.append("BSS boot parameters of %s" % ", ".join(hosts[:10]) + (
                    " and %d more" % (len(hosts) - 10) if len(hosts) > 10 else ""))
    return found


def boot_backends(get_client):
    """Every boot backend the connection names (BSS and boot-service), for :func:`references`; fails when none is
    configured or one does not answer (a delete is then refused: nothing may go unchecked)."""
    backends = [boot.backend_for(get_client, kind) for kind in (boot.BSS, boot.BOOT_SERVICE)
                if get_client(kind) is not None]
    if not backends:
        raise ApiError("no boot service (BSS or boot-service) is configured")
    return backends


def locations(store, manifest):
    """Strings that mark a use of a manifest's artifacts in a boot configuration."""
    out = []
    for art in (manifest.get("artifacts") or {}).values():
        if art.get("key"):
            out.extend(["/%s/%s" % (store.bucket, art["key"]), "/%s/%s" % (store.bucket, quote(art["key"])),
                        "s3://%s/%s" % (store.bucket, art["key"])])
        elif art.get("url"):
            out.append(art["url"])
    return out


def plan(store, p, check_mode=False, get_backends=None):
    """Register (or update), tag, deprecate or delete one image version; returns the engine plan and the uploads.

    ``p``: the module parameters (name, version, state, tags, purge_tags, artifacts, the MANAGED fields,
    delete_artifacts). ``get_backends()``: the boot backends, asked before a delete (references refuse it).
    """
    name, version = p["name"], p["version"]
    errors = check_name(name, "name") + check_name(version, "version")
    for tag in p.get("tags") or []:
        errors += check_name(tag, "tag")
    for kind in p.get("artifacts") or {}:
        if kind not in KINDS + ("boot_parameters",):
            errors.append("artifacts: unknown kind %r (known: %s)" % (kind, ", ".join(KINDS + ("boot_parameters",))))
    if errors:
        raise ValidationError(errors)
    existing = dict((m["version"], m) for m in store.manifests(name))
    current = existing.get(version)
    ref = "%s:%s" % (name, version)
    if p["state"] == "absent":
        if current and get_backends is not None:
            used = references(get_backends(), locations(store, current))
            if used:
                raise ValidationError(["image %s is still referenced by %s; change those boot configurations first"
                                       % (ref, "; ".join(used))])
        the_plan = resource.plan([{"ref": ref}], [dict(current, ref=ref)] if current else [], "ref", state="absent")
        doomed = []
        if current and p.get("delete_artifacts"):
            doomed = sorted(a["key"] for a in (current.get("artifacts") or {}).values() if a.get("key"))

        def delete(_changes):
            store.delete([manifest_key(name, version)] + doomed)
        resource.apply(the_plan, check_mode, delete=delete)
        return the_plan, doomed
    if current is None and not p.get("artifacts"):
        raise ValidationError(["image %s is not registered: give its artifacts (at least the rootfs)" % ref])
    artifacts, uploads = _artifacts(store, name, version, p.get("artifacts"), (current or {}).get("artifacts"), errors)
    if errors:
        raise ValidationError(errors)
    desired = dict((f, p.get(f)) for f in MANAGED)
    if desired.get("tags") is not None and not p.get("purge_tags") and current:
        desired["tags"] = sorted(set(current.get("tags") or []) | set(desired["tags"]))
    elif desired.get("tags") is not None:
        desired["tags"] = sorted(set(desired["tags"]))
    if desired.get("recipe") is not None:
        desired["recipe_sha256"] = recipe_sha256(desired["recipe"])
    if p.get("artifacts"):
        desired["artifacts"] = dict((current or {}).get("artifacts") or {}, **artifacts)
    if p.get("deprecated") is not None and p["deprecated"] != bool((current or {}).get("deprecated")):
        desired["deprecated_at"] = now() if p["deprecated"] else None
    if current is None:
        desired = dict((k, v) for k, v in desired.items() if v is not None)
        desired.update(schema=SCHEMA, name=name, version=version, created_at=p.get("created_at") or now(),
                       created_by=p.get("created_by") or "unknown", tags=desired.get("tags") or [],
                       labels=desired.get("labels") or {}, deprecated=bool(desired.get("deprecated")),
                       origin=desired.get("origin") or ("built" if desired.get("builder") else "registered"))
    desired["ref"] = ref
    items, currents = [desired], [dict(current, ref=ref)] if current else []
    for tag in p.get("tags") or []:  # a tag names one version: it moves here
        for other in existing.values():
            if other["version"] != version and tag in (other.get("tags") or []):
                other_ref = ref_of(other)
                item = next((i for i in items if i["ref"] == other_ref), None)
                if item is None:
                    item = {"ref": other_ref, "tags": list(other["tags"])}
                    items.append(item)
                    currents.append(dict(other, ref=other_ref))
                item["tags"] = [t for t in item["tags"] if t != tag]
    the_plan = resource.plan(items, currents, "ref")

    def write(changes):
        for path, key, sha in uploads:
            store.upload(path, key, sha)
        for change in changes:
            body = dict((k, v) for k, v in change.after.items() if k != "ref")
            store.put_json(manifest_key(body["name"], body["version"]), body)
    if uploads and not the_plan.changed:  # an artifact's object went missing: put it back
        the_plan.changes[0].action = resource.UPDATE
        the_plan.changes[0].changes["artifacts"] = desired.get("artifacts")
    resource.apply(the_plan, check_mode, upsert=write)
    return the_plan, [key for _path, key, _sha in uploads]


# ---------------------------------------------------------------- image_info

def select(manifests, p):
    """The manifests that pass the filters of ``image_info`` (name, tag, arch, created_by, created_after,
    created_before, labels, origin, deprecated)."""
    after = parse_time(p["created_after"], "created_after") if p.get("created_after") else None
    before = parse_time(p["created_before"], "created_before") if p.get("created_before") else None
    out = []
    for m in manifests:
        if p.get("name") and m.get("name") not in p["name"]:
            continue
        if p.get("tag") and p["tag"] not in (m.get("tags") or []) and p["tag"] != m.get("version"):
            continue
        if p.get("arch") and m.get("arch") != p["arch"]:
            continue
        if p.get("created_by") and m.get("created_by") != p["created_by"]:
            continue
        if after or before:
            when = parse_time(m.get("created_at") or "1970-01-01", "created_at of %s" % ref_of(m))
            if (after and when < after) or (before and when > before):
                continue
        labels = m.get("labels") or {}
        if any(labels.get(k) != v for k, v in (p.get("labels") or {}).items()):
            continue
        if p.get("origin") and m.get("origin") != p["origin"]:
            continue
        if p.get("deprecated") is not None and bool(m.get("deprecated")) != p["deprecated"]:
            continue
        out.append(m)
    return sorted(out, key=lambda m: (m.get("name"), m.get("created_at") or "", m.get("version")))


# ---------------------------------------------------------------- boot_config

def boot_fields(store, ref, params=None):
    """(kernel URL, initrd URL, kernel parameters with ``root=live:<rootfs URL>``) of image ``ref``."""
    manifest = store.resolve(ref)
    if manifest.get("deprecated"):
        raise ValidationError(["image %s (%s) is deprecated: boot configurations may not start using it"
                               % (ref, ref_of(manifest))])
    urls = store.artifact_urls(manifest)
    missing = [k for k in ("kernel", "rootfs") if k not in urls]
    if missing:
        raise ValidationError(["image %s (%s) has no %s artifact" % (ref, ref_of(manifest), " and ".join(missing))])
    kept = [w for w in boot.split_params(params or "") if not w.startswith("root=")]
    root = "root=live:" + urls["rootfs"]
    return urls["kernel"], urls.get("initrd", ""), " ".join(kept + [root]) if kept else root


# ---------------------------------------------------------------- CSM IMS

def from_ims(record, manifest, api_url=None):
    """The inventory entry (module parameters) for one IMS image and its manifest.json: marked as imported,
    artifacts where CSM's S3 has them, provenance from the IMS record."""
    artifacts = {}
    for item in (manifest or {}).get("artifacts") or []:
        kind = IMS_KINDS.get(item.get("type"))
        link = item.get("link") or {}
        if kind and link.get("path"):
            artifacts[kind] = dict((k, v) for k, v in (("url", link["path"]), ("md5", item.get("md5")),
                                                       ("etag", link.get("etag")), ("type", item.get("type"))) if v)
    meta = record.get("metadata") or {}
    return {
        "name": record["name"], "version": record["id"], "arch": record.get("arch") or "x86_64",
        "artifacts": artifacts, "created_at": _ims_time(record.get("created")),
        "created_by": meta.get("created_by") or "csm-ims", "origin": "imported",
        "labels": dict((str(k), str(v)) for k, v in meta.items()),
        "imported_from": {"system": "csm-ims", "api_url": api_url, "id": record["id"], "link": record.get("link"),
                          "manifest_version": (manifest or {}).get("version"),
                          "manifest_created": (manifest or {}).get("created")},
    }


def _ims_time(value):
    if not value:
        return None
    return parse_time(value, "IMS created").astimezone(datetime.timezone.utc).replace(
        microsecond=0).isoformat().replace("+00:00", "Z")
