# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster spec against a live instance: plan, apply in dependency order, snapshot (the configuration inventory).

Each kind is compared by the one engine (:mod:`resource`) with the client of its service (smd, boot, cloudinit).
The plan always knows the objects of a managed kind that the spec does not name; they are deleted only with
``prune`` (otherwise they are reported as ``not_in_spec``). Writes go in dependency order: components, interfaces,
partitions, groups, boot configuration, cloud-init defaults and groups; deletes afterwards, in the reverse order.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import getpass
import os
import re

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None

from ansible_collections.cscs.openchami.plugins.module_utils import boot, cloudinit, resource, smd, xname
from ansible_collections.cscs.openchami.plugins.module_utils.cluster_spec import COMPONENT_KEYS, KINDS
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

SNAPSHOT_FILES = (("hardware", "hardware.yaml"), ("interfaces", "interfaces.yaml"), ("partitions", "partitions.yaml"),
                  ("groups", "groups.yaml"), ("boot", "boot.yaml"), ("cloud_init", "cloud_init.yaml"))
META_FILE = "snapshot.yaml"
SNAPSHOT_COMPONENT_FIELDS = ("Role", "SubRole", "NID", "State", "Flag", "Enabled", "SoftwareStatus", "Arch", "Class",
                             "NetType")


def client_getter(connection):
    """``get(service)``: the connection's client of ``service``, or None when it has no address."""
    def get(service):
        return connection.client(service) if connection.url(service) else None
    return get


class Instance:
    """The services of one OpenCHAMI instance, made on demand."""

    def __init__(self, get_client, boot_backend="auto", cloud_init_backend="auto"):
        self.get_client = get_client
        self.boot_backend = boot_backend
        self.cloud_init_backend = cloud_init_backend
        self._smd = self._boot = self._cloud_init = None

    @property
    def smd(self):
        if self._smd is None:
            client = self.get_client("smd")
            if client is None:
                raise ApiError("no address for SMD: set cluster_uri or service_uris.smd")
            self._smd = smd.SMD(client)
        return self._smd

    @property
    def boot(self):
        if self._boot is None:
            self._boot = boot.backend_for(self.get_client, self.boot_backend)
        return self._boot

    @property
    def cloud_init(self):
        if self._cloud_init is None:
            self._cloud_init = cloudinit.server_for(self.get_client, self.cloud_init_backend)
        return self._cloud_init


# ---------------------------------------------------------------- the plan

class KindPlan:
    """The plan of one kind: the engine plan, what the spec does not name, and how to write it."""

    def __init__(self, kind, the_plan, not_in_spec, **ops):
        self.kind = kind
        self.plan = the_plan
        self.not_in_spec = not_in_spec
        self.ops = ops

    def part(self, deletes):
        return resource.Plan([c for c in self.plan.changes if (c.action == resource.DELETE) == deletes])


class ClusterPlan:
    def __init__(self, kinds):
        self.kinds = kinds  # in dependency order

    @property
    def changed(self):
        return any(k.plan.changed for k in self.kinds)

    def summary(self):
        out = {}
        for kind in self.kinds:
            counts = kind.plan.summary()
            counts["not_in_spec"] = len(kind.not_in_spec)
            out[kind.kind] = counts
        return out

    def diff(self):
        before, after = {}, {}
        for kind in self.kinds:
            if kind.plan.changed:
                one = kind.plan.diff()
                before[kind.kind], after[kind.kind] = one["before"], one["after"]
        return {"before": before, "after": after}

    def text(self, limit=resource.DIFF_LIMIT):
        """The plan as lines a person reads: a count line per kind, then ``+`` create, ``~`` update (field: old ->
        new), ``-`` delete and ``?`` not in the spec (kept), at most ``limit`` lines per kind."""
        lines = []
        for kind in self.kinds:
            counts = kind.plan.summary()
            lines.append("%s: %d to create, %d to update, %d to delete, %d unchanged, %d not in the spec" % (
                kind.kind, counts["create"], counts["update"], counts["delete"], counts["unchanged"],
                len(kind.not_in_spec)))
            shown = []
            for change in kind.plan.changes:
                if change.action == resource.CREATE:
                    shown.append("  + %s %s" % (change.key, _short(_without_key(change.after))))
                elif change.action == resource.UPDATE:
                    fields = ", ".join("%s: %s -> %s" % (f, _short(change.before.get(f)), _short(v))
                                       for f, v in sorted(change.changes.items()))
                    shown.append("  ~ %s %s" % (change.key, fields))
                elif change.action == resource.DELETE:
                    shown.append("  - %s" % (change.key,))
            shown.extend("  ? %s (not in the spec, kept; prune deletes it)" % (key,) for key in kind.not_in_spec)
            lines.extend(shown[:limit])
            if len(shown) > limit:
                lines.append("  ... %d more" % (len(shown) - limit))
        return lines

    def result(self, **extra):
        line = ", ".join("%s +%d ~%d -%d ?%d" % (kind, c["create"], c["update"], c["delete"], c["not_in_spec"])
                         for kind, c in self.summary().items())
        out = dict(changed=self.changed, summary=self.summary(), diff=self.diff(), plan=self.text(), summary_line=line,
                   not_in_spec=dict((k.kind, [str(x) for x in k.not_in_spec[:resource.DIFF_LIMIT]])
                                    for k in self.kinds if k.not_in_spec))
        out.update(extra)
        return out


def _short(value):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _without_key(item):
    return dict((k, v) for k, v in (item or {}).items() if k not in ("ID", "xname", "label", "name", "MACAddress"))


def _kind_plan(kind, desired, current, key, prune, normalizers=None, **ops):
    the_plan = resource.plan(desired, current, key, normalizers=normalizers, purge=True)
    not_in_spec = []
    if not prune:
        not_in_spec = [c.key for c in the_plan.of(resource.DELETE)]
        the_plan = resource.Plan([c for c in the_plan.changes if c.action != resource.DELETE])
    return KindPlan(kind, the_plan, not_in_spec, **ops)


def plan(instance, desired, prune=False):
    """The :class:`ClusterPlan` of ``desired`` (:func:`cluster_spec.expand`) against the instance; nothing is written.

    Raises ValidationError for what the services would refuse (unknown group members, SMD's roles...)."""
    kinds = []
    api = instance.smd if any(k in desired for k in KINDS[:4]) else None
    current = smd.dump(api, [k for k in ("components", "interfaces", "groups", "partitions") if k in desired]
                       + (["components"] if "groups" in desired or "partitions" in desired else [])) if api else {}
    if "components" in desired:
        wanted = smd.check_service_values(api, [dict(c) for c in desired["components"]],
                                          options=dict((field, key) for key, field in COMPONENT_KEYS))
        kinds.append(_kind_plan("components", wanted, current["components"], "ID", prune,
                                smd.COMPONENT_NORMALIZERS, create=api.create_components, update=api.update_components,
                                delete=lambda changes: api.delete_components([c.key for c in changes])))
    if "interfaces" in desired:
        kinds.append(_kind_plan("interfaces", desired["interfaces"], current["interfaces"], "MACAddress", prune,
                                smd.INTERFACE_NORMALIZERS, **smd.interface_ops(api)))
    known = set(c["ID"] for c in current.get("components") or []) | set(
        c["ID"] for c in desired.get("components") or [])
    for kind, name in ((smd.PARTITIONS, "partitions"), (smd.GROUPS, "groups")):
        if name in desired:
            kinds.append(_set_plan(api, kind, name, desired[name], current[name], known, prune))
    if "boot" in desired:
        backend = instance.boot
        kinds.append(_kind_plan("boot", desired["boot"], list(backend.read().values()), "xname", prune,
                                {"params": _memo(boot.normalize_params)}, upsert=backend.upsert,
                                delete=lambda changes: _reread(backend).delete(changes)))
    if "cloud_init_defaults" in desired:
        server = instance.cloud_init
        the_plan = resource.plan_singleton(desired["cloud_init_defaults"], server.defaults(),
                                           cloudinit.DEFAULTS.normalizers())
        kinds.append(KindPlan("cloud_init_defaults", the_plan, [],
                              update=lambda changes: server.set_defaults(changes[0].changes)))
    if "cloud_init_groups" in desired:
        server = instance.cloud_init
        kinds.append(_kind_plan(
            "cloud_init_groups", desired["cloud_init_groups"], server.groups(), "name", prune,
            upsert=lambda changes: smd.parallel(lambda c: server.put_group(c.after), changes),
            delete=lambda changes: smd.parallel(lambda c: server.delete_group(c.key), changes)))
    return ClusterPlan(kinds)


def _memo(func):
    """``func`` remembering its answers: 10,000 nodes share a handful of kernel command lines."""
    seen = {}

    def call(value):
        if value not in seen:
            seen[value] = func(value)
        return seen[value]
    return call


def _reread(backend):
    """The backend after reading again: its deletes run after its upserts, which changed what it had read."""
    backend.read()
    return backend


def _set_plan(api, kind, name, desired, current, known, prune):
    missing = [(d[kind.key], m) for d in desired for m in d["members"] if m not in known]
    if missing:
        raise resource.ValidationError(["%s %s: member %s is neither in the spec's hardware nor in SMD" % (
            kind.noun, set_name, member) for set_name, member in missing[:100]])
    current = [dict(c, description=c.get("description") or "") for c in current]  # SMD leaves an empty one out
    sets = smd.SetApi(api, kind)
    found = _kind_plan(name, desired, current, kind.key, prune, kind.spec.normalizers(), upsert=sets.upsert,
                       delete=sets.delete)
    bad = [c.key for c in found.plan.of(resource.UPDATE) if "exclusiveGroup" in c.changes]
    if bad:
        raise resource.ValidationError(["groups: exclusive_group of existing group %s cannot be changed; delete "
                                        "the group first" % key for key in bad])
    smd.check_exclusive(kind, found.plan, current)
    return found


def apply(cluster_plan, check_mode=False):
    """Write the plan (never in check mode): creates and updates in dependency order, then deletes in reverse.

    A failing step raises :class:`resource.ApplyError` covering the whole plan (what earlier kinds wrote, what the
    failing step may have written, what was not attempted)."""
    if check_mode:
        return cluster_plan
    steps = [(k, k.part(deletes=False)) for k in cluster_plan.kinds]
    steps += [(k, k.part(deletes=True)) for k in reversed(cluster_plan.kinds)]
    written = []
    for index, (kind, part) in enumerate(steps):
        try:
            resource.apply(part, **kind.ops)
        except resource.ApplyError as exc:
            later = [c for _k, rest in steps[index + 1:] for c in rest.changes if c.action != resource.UNCHANGED]
            raise resource.ApplyError(exc.cause, written + exc.written, exc.in_doubt, exc.not_written + later)
        written.extend(c for c in part.changes if c.action != resource.UNCHANGED)
    return cluster_plan


# ---------------------------------------------------------------- snapshots

def read_state(instance, kinds=None):
    """The live state of the instance in the spec's vocabulary: {file kind: spec fragment}, stably ordered.

    ``kinds`` (default: all of :data:`SNAPSHOT_FILES` whose service has an address) limits what is read."""
    wanted = [k for k, _f in SNAPSHOT_FILES] if kinds is None else kinds
    out = {}
    if any(k in wanted for k in ("hardware", "interfaces", "groups", "partitions")):
        found = smd.dump(instance.smd, ["components", "interfaces", "groups", "partitions"])
        if "hardware" in wanted:
            out["hardware"] = {"hardware": [_component_entry(c) for c in sorted(
                found["components"], key=lambda c: xname.natural_key(c["ID"]))]}
        if "interfaces" in wanted:
            out["interfaces"] = {"interfaces": [_interface_entry(i) for i in found["interfaces"]]}
        for kind, name in ((smd.PARTITIONS, "partitions"), (smd.GROUPS, "groups")):
            if name in wanted:
                out[name] = {name: [_set_entry(s, kind) for s in found[name]]}
    if "boot" in wanted and _has(instance, ("bss", "boot_service")):
        out["boot"] = {"boot": _boot_entries(instance.boot.read())}
    if "cloud_init" in wanted and _has(instance, ("cloud_init",)):
        server = instance.cloud_init
        current = server.defaults()
        defaults = dict((f.option, current[f.api]) for f in cloudinit.DEFAULTS.fields
                        if current.get(f.api) not in (None, "", [], 0))
        groups = [dict((k, g[k]) for k in ("name", "description", "meta_data", "content")) for g in server.groups()]
        out["cloud_init"] = {"cloud_init": {"defaults": defaults, "groups": groups}}
    return out


def _has(instance, services):
    return any(instance.get_client(s) is not None for s in services)


def _component_entry(item):
    entry = {"xname": item["ID"]}
    names = dict((api, key) for key, api in COMPONENT_KEYS)
    names["NID"] = "nid"
    for field in SNAPSHOT_COMPONENT_FIELDS:
        if item.get(field) is not None and not (field == "NID" and xname.xname_type(item["ID"]) != "Node"
                                                and not item.get(field)):
            entry[names[field]] = item[field]
    return entry


def _interface_entry(item):
    return {"mac": item["MACAddress"], "component": item["ComponentID"], "description": item.get("Description") or "",
            "ips": [{"ip": ip["IPAddress"], "network": ip.get("Network") or ""}
                    for ip in sorted(item.get("IPAddresses") or [], key=lambda i: (i["IPAddress"], i["Network"]))]}


def _set_entry(item, kind):
    entry = {kind.key: item[kind.key], "description": item.get("description") or ""}
    if item.get("tags"):
        entry["tags"] = sorted(item["tags"])
    if item.get("exclusiveGroup"):
        entry["exclusive_group"] = item["exclusiveGroup"]
    entry["members"] = sorted(item.get("members") or [], key=xname.natural_key)
    return entry


def _boot_entries(nodes):
    by_content = {}
    for name, item in nodes.items():
        by_content.setdefault((item["kernel"], item["initrd"], item["params"]), []).append(name)
    return [{"nodes": sorted(names, key=xname.natural_key), "kernel": kernel, "initrd": initrd, "params": params}
            for (kernel, initrd, params), names in sorted(by_content.items())]


class _Dumper(getattr(yaml, "CSafeDumper", getattr(yaml, "SafeDumper", object))):  # pylint: disable=too-many-ancestors
    """libyaml's dumper where PyYAML has it (10,000 nodes: seconds instead of a minute)."""


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


if yaml:
    _Dumper.add_representer(str, _str)


def dump_yaml(data):
    """YAML for files people diff: keys in the order given, one item per line, multi-line strings as blocks."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100000)


def write_snapshot(state, dest, instance_name=None, versions=None, check_mode=False, now=None, who=None):
    """Write one file per kind (and ``snapshot.yaml`` with when, who, instance, service versions) into ``dest``.

    Returns the names of the kind files whose content changed; when none did, nothing is written (not even the
    metadata), so a second snapshot of an unchanged instance changes nothing."""
    files = dict(SNAPSHOT_FILES)
    texts = dict((files[kind], dump_yaml(data)) for kind, data in state.items())
    changed = []
    for name, text in sorted(texts.items()):
        path = os.path.join(dest, name)
        try:
            with open(path) as handle:
                if handle.read() == text:
                    continue
        except (IOError, OSError):
            pass
        changed.append(name)
    if not changed or check_mode:
        return changed
    if not os.path.isdir(dest):
        os.makedirs(dest)
    for name in changed:
        _write(os.path.join(dest, name), texts[name])
    meta = {"snapshot": {
        "taken": (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "by": who or _who(), "instance": instance_name or "", "services": versions or {}, "counts": counts(state),
        "files": sorted(texts)}}
    _write(os.path.join(dest, META_FILE), dump_yaml(meta))
    return changed


def counts(state):
    """How many entries each kind of a :func:`read_state` result holds, and how many nodes."""
    out = dict((kind, len(list(data.values())[0])) for kind, data in state.items()
               if isinstance(list(data.values())[0], list))
    out["nodes"] = len([h for h in state.get("hardware", {}).get("hardware", [])
                        if xname.xname_type(h["xname"]) == "Node"])
    return out


def _write(path, text):
    temp = path + ".tmp"
    with open(temp, "w") as handle:
        handle.write(text)
    os.rename(temp, path)


def _who():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover
        return "unknown"


_CLOUD_INIT_VERSION = re.compile(r"Version:\s*(\S+?),")


def service_versions(get_client):
    """{service: version} of the services that say theirs (BSS, cloud-init); SMD and boot-service do not."""
    probes = {"bss": ("/service/version", lambda d: d.get("bss-version")),
              "cloud_init": ("/version", lambda d: _first_group(_CLOUD_INIT_VERSION, d.get("build_info")))}
    out = {}
    for service, (path, pick) in sorted(probes.items()):
        client = get_client(service)
        if client is None:
            continue
        answer, _error = boot.probe(client, path)
        data = answer.json if answer is not None else None
        if isinstance(data, dict) and pick(data):
            out[service] = pick(data)
    return out


def _first_group(pattern, text):
    match = pattern.search(text or "")
    return match.group(1) if match else None


def git_commit(run, dest, message):
    """Commit ``dest`` when it is inside a git work tree: ``run(argv) -> (rc, out, err)``. The commit id, or None
    when ``dest`` is not in a repository (or nothing changed). RuntimeError when git fails."""
    rc, out, _err = run(["git", "-C", dest, "rev-parse", "--is-inside-work-tree"])
    if rc != 0 or out.strip() != "true":
        return None
    rc, out, err = run(["git", "-C", dest, "add", "-A", "."])
    if rc != 0:
        raise RuntimeError("git add in %s failed: %s" % (dest, err.strip()))
    rc, _out, _err = run(["git", "-C", dest, "diff", "--cached", "--quiet", "--", "."])
    if rc == 0:
        return None
    identity = []
    rc, out, _err = run(["git", "-C", dest, "config", "user.email"])
    if rc != 0 or not out.strip():
        who = _who()
        identity = ["-c", "user.name=%s" % who, "-c", "user.email=%s@localhost" % who]
    argv = ["git", "-C", dest] + identity + ["commit", "-q", "-m", message, "--", "."]
    rc, out, err = run(argv)
    if rc != 0:
        raise RuntimeError("git commit in %s failed: %s" % (dest, (err or out).strip()))
    rc, out, _err = run(["git", "-C", dest, "rev-parse", "HEAD"])
    return out.strip() or None
