# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boot configuration of nodes on BSS (/boot/v1) or boot-service, as one per-node model.

Every node is one item ``{xname, kernel, initrd, params}`` for the idempotency
engine, whatever the backend stores:

- BSS keeps one record per host. It is read with one GET and written with one
  PUT per distinct (kernel, initrd, params): PUT creates or replaces, so nodes
  that end up alike share a request whether they had a record or not.
- boot-service keeps BootConfigurations that target many hosts. A node's
  configuration is the one that lists its xname exactly in ``hosts`` (default
  profile; highest priority, then name, wins as in the service). Nodes are moved
  between configurations with one write per configuration touched; a
  configuration with the same content is reused, one is created otherwise, and
  one left without targets is deleted. Its legacy ``/boot/v1`` API is not used:
  its PUT answers 404 for nodes without a configuration and rewrites the host
  list of the first configuration that matches, and its DELETE removes whole
  configurations, other nodes included.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import shlex

from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd, xname
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

BSS = "bss"
BOOT_SERVICE = "boot_service"
BACKENDS = ("auto", BSS, BOOT_SERVICE)
FIELDS = ("kernel", "initrd", "params")
LEGACY_PATH = "/boot/v1"
PROBE_TIMEOUT = 10
DELETE_CHUNK = 5000
CONFIG_PREFIX = "cscs-openchami-"
DEFAULT_PROFILES = (None, "", "default")


# ---------------------------------------------------------------- kernel parameters

def split_params(value):
    """The kernel command line as a list of parameters (shell quoting rules); ValueError if it cannot be split."""
    try:
        return shlex.split(value or "")
    except ValueError as exc:
        raise ValueError("kernel parameters %r cannot be parsed: %s" % (value, exc))


def normalize_params(value):
    """Kernel parameters in the form they are compared in.

    Order between different parameters and repeated identical parameters do not
    matter. The relative order of different values of the same parameter does
    (``console=tty0 console=ttyS0`` makes ttyS0 the console, the other order
    tty0), and so does everything after ``--``, which the kernel hands to init.
    """
    try:
        tokens = shlex.split(value or "")
    except ValueError:
        tokens = (value or "").split()
    init_args = ()
    if "--" in tokens:
        index = tokens.index("--")
        tokens, init_args = tokens[:index], tuple(tokens[index + 1:])
    by_name = {}
    for token in tokens:
        values = by_name.setdefault(token.split("=", 1)[0], [])
        if token not in values:
            values.append(token)
    return tuple((name, tuple(by_name[name])) for name in sorted(by_name)), init_args


def content_key(item):
    """What makes two boot configurations alike: kernel, initrd and the normalised parameters."""
    return (item.get("kernel") or "", item.get("initrd") or "", normalize_params(item.get("params")))


def group_by_content(changes):
    """{(kernel, initrd, params): [xname, ...]} for engine changes, alike contents (see :func:`content_key`) together.

    The strings of the first change of each content are the ones written.
    """
    groups = {}
    raw = {}
    for change in changes:
        key = content_key(change.after)
        if key not in raw:
            after = change.after
            raw[key] = (after.get("kernel") or "", after.get("initrd") or "", after.get("params") or "")
        groups.setdefault(raw[key], []).append(change.key)
    return groups


# ---------------------------------------------------------------- selecting nodes

def check_node(value):
    """A node xname, normalised; ValueError naming the value otherwise."""
    name = smd.check_xname(value)
    kind = xname.xname_type(name)
    if kind != "Node":
        raise ValueError("%r is a %s xname, not a node" % (value, kind))
    return name


def _unique(names):
    seen = set()
    return [n for n in names if not (n in seen or seen.add(n))]


def resolve_nodes(get_smd, hosts=None, macs=None, nids=None, groups=None):
    """The node xnames selected by xnames (or patterns), MACs, NIDs and SMD group labels.

    Input is checked first (one error per bad item, nothing asked of SMD). MACs,
    NIDs and groups are then resolved through SMD with one request each; a MAC,
    NID or group SMD does not know is an error naming it. Group members that are
    not nodes (BMCs, switches) are left out. ``get_smd`` returns an
    :class:`smd.SMD`; it is only called when SMD is needed.
    """
    errors = []
    names = []
    for pattern in hosts or []:
        try:
            expanded = xname.expand(pattern)
        except xname.XnameError as exc:
            errors.append("nodes: %s" % exc)
            continue
        for name in expanded:
            try:
                names.append(check_node(name))
            except ValueError as exc:
                errors.append("nodes: %s" % exc)
                break
    mac_list = []
    for mac in macs or []:
        try:
            mac_list.append(resource.normalize_mac(mac))
        except ValueError as exc:
            errors.append("macs: %s" % exc)
    nid_list = []
    for nid in nids or []:
        if not isinstance(nid, int) or nid < 0:
            errors.append("nids: %r is not a node id (a non-negative integer)" % (nid,))
        else:
            nid_list.append(nid)
    labels = []
    for label in groups or []:
        try:
            labels.append(smd.check_label(label))
        except ValueError as exc:
            errors.append("groups: %s" % exc)
    if errors:
        raise resource.ValidationError(errors)
    if not (mac_list or nid_list or labels):
        return _unique(names)
    api = get_smd()
    mac_list, nid_list, labels = _unique(mac_list), _unique(nid_list), _unique(labels)
    calls = []
    if mac_list:
        calls.append(lambda: ("macs", api.interfaces(macaddress=mac_list) if len(mac_list) <= smd.QUERY_LIMIT
                              else api.interfaces()))
    if nid_list:
        calls.append(lambda: ("nids", api.components(nid=nid_list, type="Node") if len(nid_list) <= smd.QUERY_LIMIT
                              else api.components(type="Node")))
    if labels:
        calls.append(lambda: ("groups", api.groups(group=labels) if len(labels) <= smd.QUERY_LIMIT else api.groups()))
    found = dict(smd.parallel(lambda call: call(), calls))
    if mac_list:
        owner = {}
        for item in found["macs"]:
            try:
                owner[resource.normalize_mac(item.get("MACAddress") or "")] = item.get("ComponentID") or ""
            except ValueError:
                continue
        for mac in mac_list:
            if mac not in owner:
                errors.append("macs: %s is not known to SMD (no EthernetInterface has it)" % mac)
            elif not owner[mac]:
                errors.append("macs: %s belongs to no component in SMD" % mac)
            else:
                try:
                    names.append(check_node(owner[mac]))
                except ValueError as exc:
                    errors.append("macs: %s belongs to %s" % (mac, exc))
    if nid_list:
        by_nid = dict((c.get("NID"), c.get("ID")) for c in found["nids"] if c.get("Type", "Node") == "Node")
        for nid in nid_list:
            if nid not in by_nid:
                errors.append("nids: no node has NID %d in SMD" % nid)
            else:
                names.append(smd.check_xname(by_nid[nid]))
    if labels:
        members = dict((g.get("label"), (g.get("members") or {}).get("ids") or []) for g in found["groups"])
        for label in labels:
            if label not in members:
                errors.append("groups: SMD group %r does not exist" % label)
                continue
            for member in members[label]:
                if xname.is_valid(member) and xname.xname_type(member) == "Node":
                    names.append(xname.normalize(member))
    if errors:
        raise resource.ValidationError(errors)
    return _unique(names)


# ---------------------------------------------------------------- finding the backend

def probe(client, path):
    """GET ``path`` once (no retries); (response, None) or (None, ApiError). Authentication failures are raised."""
    saved = client.retries
    client.retries = 0
    try:
        return client.get(path, timeout=min(client.timeout or PROBE_TIMEOUT, PROBE_TIMEOUT)), None
    except ApiError as exc:
        if exc.status in (401, 403):
            raise
        return None, exc
    finally:
        client.retries = saved


def _is_boot_service_health(response):
    data = response.json
    if isinstance(data, dict) and data.get("service") not in (None, "boot-service"):
        return False
    return True


def _legacy_root(client):
    """boot-service's own base URL, from the URL of its legacy /boot/v1 API (None if it does not end so)."""
    if not client.base_url.endswith(LEGACY_PATH):
        return None
    root = copy.copy(client)
    root.base_url = client.base_url[:-len(LEGACY_PATH)]
    return root


def detect_backend(get_client, backend="auto"):
    """Which boot backend to use: (BSS or BOOT_SERVICE, client of its base URL).

    ``get_client(service)`` returns the client of ``bss`` or ``boot_service``, or
    None when no address is configured for it. Auto-detection: boot-service when
    ``/health`` answers at the boot_service address; else what answers
    ``/service/status`` at the bss address: BSS (``bss-status``), or boot-service's
    legacy API (``service_status``), in which case boot-service's own API is used
    at the same address without ``/boot/v1``. Forcing ``bss`` still checks that the
    address is not boot-service's legacy API (managing that through BSS's
    semantics would rewrite other nodes' configurations).
    """
    tried = []
    if backend in ("auto", BOOT_SERVICE):
        client = get_client(BOOT_SERVICE)
        if client is not None:
            if backend == BOOT_SERVICE:
                return BOOT_SERVICE, client
            answer, error = probe(client, "/health")
            if answer is not None and _is_boot_service_health(answer):
                return BOOT_SERVICE, client
            tried.append("%s/health: %s" % (client.base_url, error or "not boot-service"))
    client = get_client(BSS)
    if client is None:
        if backend == BOOT_SERVICE:
            raise ApiError("no address for boot-service: set cluster_uri or service_uris.boot_service")
        tried.append("no address for BSS (service_uris.bss or cluster_uri)")
        raise ApiError("no boot service found: " + "; ".join(tried))
    if backend == BOOT_SERVICE:
        root = _legacy_root(client)
        if root is None:
            raise ApiError("no address for boot-service: set cluster_uri or service_uris.boot_service")
        return BOOT_SERVICE, root
    answer, error = probe(client, "/service/status")
    data = answer.json if answer is not None else None
    if isinstance(data, dict) and "bss-status" in data:
        return BSS, client
    if isinstance(data, dict) and "service_status" in data:
        root = _legacy_root(client)
        hint = ("%s is boot-service's legacy BSS API, which cannot be managed idempotently (its PUT rewrites the host "
                "list of whole configurations); " % client.base_url)
        if backend == BSS:
            raise ApiError(hint + "use backend=boot_service")
        if root is not None:
            answer, error = probe(root, "/health")
            if answer is not None and _is_boot_service_health(answer):
                return BOOT_SERVICE, root
        raise ApiError(hint + "and boot-service's own API did not answer at %s/health; set service_uris.boot_service"
                       % (root.base_url if root is not None else client.base_url))
    if backend == BSS and answer is not None:
        return BSS, client
    tried.append("%s/service/status: %s" % (client.base_url, error or "unrecognised answer %s" % (answer.text or "")[:200]))
    raise ApiError("no boot service found: " + "; ".join(tried))


# ---------------------------------------------------------------- backends

def _item(name, kernel=None, initrd=None, params=None):
    return {"xname": name, "kernel": kernel or "", "initrd": initrd or "", "params": params or ""}


def _meaningful(value):
    if isinstance(value, dict):
        return any(_meaningful(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_meaningful(v) for v in value)
    return value not in (None, "", 0, False)


class BssBackend:
    """BSS's /bootparameters: one record per host, and with ``macs_of`` one per MAC of each node too.

    ``macs_of`` (xname -> MACs, see :func:`node_macs`) makes every node's record also be written under its MACs:
    BSS's PostgreSQL store (OpenCHAMI's) answers ``bootscript?mac=``, what a node's iPXE asks, only from a record
    stored under that MAC. Items then carry ``macs``: the node's MACs whose record holds the node's configuration.
    """

    name = BSS

    def __init__(self, client, macs_of=None):
        self.client = client
        self.cloud_init = {}
        self.macs_of = macs_of
        self.mac_records = {}  # MAC -> the item BSS holds under it

    def read(self):
        """Current boot configuration of every node BSS has a record for, keyed by xname (one GET)."""
        nodes = {}
        for entry in self.client.get_json("/bootparameters") or []:
            for mac in entry.get("macs") or []:
                try:
                    self.mac_records[resource.normalize_mac(mac)] = _item(
                        None, entry.get("kernel"), entry.get("initrd"), entry.get("params"))
                except ValueError:
                    continue
            for host in entry.get("hosts") or []:
                if not xname.is_valid(host):
                    continue  # BSS files nodes unknown to SMD under their MAC or nid<N>
                key = xname.normalize(host)
                nodes[key] = _item(key, entry.get("kernel"), entry.get("initrd"), entry.get("params"))
                if _meaningful(entry.get("cloud-init")):
                    self.cloud_init[key] = entry["cloud-init"]
        for name, macs in sorted((self.macs_of or {}).items()):
            held = [self.mac_records[m] for m in macs if m in self.mac_records]
            if name not in nodes and held:  # stored under its MACs only (as by ochami's `--macs`)
                nodes[name] = dict(held[0], xname=name)
            if name in nodes:
                nodes[name]["macs"] = sorted(m for m in macs if m in self.mac_records
                                             and content_key(self.mac_records[m]) == content_key(nodes[name]))
        return nodes

    def _held_macs(self, names):
        return sorted(m for name in names for m in (self.macs_of or {}).get(name, []) if m in self.mac_records)

    def upsert(self, changes):
        """One PUT (create or replace) per distinct content, with all its hosts.

        BSS's PostgreSQL store keeps a field that a PUT leaves empty (its key-value
        store drops it), so nodes whose initrd or parameters are to be emptied are
        deleted first (one request) and then written like new ones.
        """
        def emptying(before, after):
            return bool(before) and any(before.get(f) and not after.get(f) for f in ("initrd", "params"))

        emptied = [c.key for c in changes if emptying(c.before, c.after)]
        emptied_macs = sorted(m for c in changes for m in c.after.get("macs") or []
                              if emptying(self.mac_records.get(m), c.after))
        for key, items in (("hosts", emptied), ("macs", emptied_macs)):
            for chunk in smd.chunks(items, DELETE_CHUNK):
                self.client.delete("/bootparameters", {key: chunk})
        after = dict((c.key, c.after) for c in changes)
        batches = {}
        for (kernel, initrd, params), names in group_by_content(changes).items():
            for name in names:
                extra = self.cloud_init.get(name)
                extra = json.dumps(extra, sort_keys=True) if extra else ""
                batches.setdefault((kernel, initrd, params, extra), []).append(name)
            macs = sorted(m for name in names for m in after[name].get("macs") or [])
            if macs:  # a PUT listing hosts adds no new MAC record: MACs go in a PUT of their own
                batches[(kernel, initrd, params, None)] = macs
        for (kernel, initrd, params, extra), items in sorted(batches.items(), key=lambda b: (b[0][3] is None, b[0])):
            body = {"macs" if extra is None else "hosts": items, "kernel": kernel}
            if initrd:
                body["initrd"] = initrd
            if params:
                body["params"] = params
            if extra:
                body["cloud-init"] = json.loads(extra)  # PUT replaces the record: keep its cloud-init data
            self.client.put("/bootparameters", body)

    def delete(self, changes):
        names = sorted(c.key for c in changes)
        for key, items in (("hosts", names), ("macs", self._held_macs(names))):
            for chunk in smd.chunks(items, DELETE_CHUNK):
                self.client.delete("/bootparameters", {key: chunk})

    def boot_script(self, name):
        return self.client.get("/bootscript", params={"name": name}).text

    def boot_history(self):
        """xname -> when BSS last served the node its boot script (epoch seconds; its endpoint-history, one GET)."""
        return latest_boots(self.client.get_json("/endpoint-history", params={"endpoint": "bootscript"}))


def latest_boots(history):
    """xname -> the largest ``last_epoch`` of a BSS ``endpoint-history`` answer (BSS keeps a row per boot)."""
    out = {}
    for row in history or []:
        name = row.get("name") if isinstance(row, dict) else None
        if name and xname.is_valid(name):
            key = xname.normalize(name)
            out[key] = max(out.get(key, 0), int(row.get("last_epoch") or 0))
    return out


def _spec_targets(spec):
    return bool(spec.get("hosts") or spec.get("macs") or spec.get("nids") or spec.get("groups"))


class BootServiceBackend:
    """boot-service's BootConfigurations; a node's configuration lists its xname in ``hosts``."""

    name = BOOT_SERVICE

    def __init__(self, client):
        self.client = client
        self.configs = []
        self.source = {}

    def read(self):
        """Current boot configuration of every node listed by xname in a default-profile configuration (one GET)."""
        self.configs = [c for c in self.client.get_json("/bootconfigurations") or [] if isinstance(c, dict)]
        nodes = {}
        ordered = sorted(self.configs, key=lambda c: (-((c.get("spec") or {}).get("priority") or 0),
                                                      (c.get("metadata") or {}).get("name") or ""))
        for config in ordered:
            spec = config.get("spec") or {}
            if spec.get("profile") not in DEFAULT_PROFILES:
                continue
            for host in spec.get("hosts") or []:
                if not xname.is_valid(host):
                    continue  # patterns such as x1000c0s*: not one node's own configuration
                key = xname.normalize(host)
                if key not in nodes:
                    nodes[key] = _item(key, spec.get("kernel"), spec.get("initrd"), spec.get("params"))
                    self.source[key] = dict((k, (config.get("metadata") or {}).get(k)) for k in ("uid", "name"))
        return nodes

    def _reusable(self, config, key):
        spec = config.get("spec") or {}
        return (spec.get("profile") in DEFAULT_PROFILES and not (spec.get("macs") or spec.get("nids") or spec.get("groups"))
                and not spec.get("priority") and content_key(spec) == key)

    def sync(self, moved, targets):
        """Take the ``moved`` xnames out of every configuration listing them, then add ``targets``.

        ``targets`` maps (kernel, initrd, params) to xnames. Writes: one POST per new
        content, one PUT per configuration whose hosts change, one DELETE per
        configuration left without any target.
        """
        moved = set(moved)
        hosts = {}
        by_uid = {}
        for config in self.configs:
            uid = (config.get("metadata") or {}).get("uid")
            spec = config.get("spec") or {}
            if not uid or spec.get("profile") not in DEFAULT_PROFILES:
                continue
            by_uid[uid] = config
            listed = spec.get("hosts") or []
            kept = [h for h in listed if not (xname.is_valid(h) and xname.normalize(h) in moved)]
            if len(kept) != len(listed):
                hosts[uid] = kept
        gained, created = set(), []
        for (kernel, initrd, params), names in sorted(targets.items()):
            key = content_key({"kernel": kernel, "initrd": initrd, "params": params})
            reuse = next((c for c in sorted(by_uid.values(), key=lambda c: c["metadata"]["uid"])
                          if self._reusable(c, key)), None)
            if reuse is None:
                spec = {"hosts": list(names), "kernel": kernel}
                if initrd:
                    spec["initrd"] = initrd
                if params:
                    spec["params"] = params
                digest = hashlib.sha1("\0".join((kernel, initrd, params)).encode("utf-8")).hexdigest()[:12]
                created.append({"metadata": {"name": CONFIG_PREFIX + digest}, "spec": spec})
                continue
            uid = reuse["metadata"]["uid"]
            base = hosts.get(uid, list(reuse["spec"].get("hosts") or []))
            hosts[uid] = base + [n for n in names if n not in base]
            gained.add(uid)
        for body in created:
            self.client.post("/bootconfigurations", body, safe=False)
        order = sorted(hosts, key=lambda uid: (uid not in gained, uid))  # add before removing: no gap
        for uid in order:
            config = by_uid[uid]
            spec = dict(config.get("spec") or {}, hosts=hosts[uid])
            if not hosts[uid]:
                spec.pop("hosts")
            if uid not in gained and not _spec_targets(spec):
                self.client.delete("/bootconfigurations/%s" % uid)
                continue
            body = {"metadata": {"name": config["metadata"].get("name")}, "spec": spec}
            self.client.put("/bootconfigurations/%s" % uid, body)

    def upsert(self, changes):
        self.sync([c.key for c in changes], group_by_content(changes))

    def delete(self, changes):
        self.sync([c.key for c in changes], {})

    def boot_script(self, name):
        return self.client.get("/bootscript", params={"host": name}).text

    def boot_history(self):
        raise ApiError("boot-service keeps no record of the boot scripts it served (BSS's endpoint-history): "
                       "checking which system booted a node needs BSS")


def backend_for(get_client, backend="auto", macs_of=None):
    """The backend object for ``backend`` (auto-detected by default); ``macs_of``: see :class:`BssBackend`.

    ``macs_of`` may be a function, called only when the backend is BSS."""
    kind, client = detect_backend(get_client, backend)
    if kind != BSS:
        return BootServiceBackend(client)
    return BssBackend(client, macs_of() if callable(macs_of) else macs_of)


def node_macs(api, names):
    """xname -> the sorted MACs SMD lists for each of the nodes (its EthernetInterfaces), in one GET
    (:func:`smd.interfaces_of`)."""
    return dict((name, sorted(set(nic["MACAddress"] for nic in nics)))
                for name, nics in smd.interfaces_of(api, names).items())


def client_getter(module):
    """``get_client(service)`` for :func:`detect_backend`: the module's client, or None without an address."""
    def get(service):
        if not module.connection.url(service):
            return None
        return module.client(service)
    return get


# ---------------------------------------------------------------- the module's work

def desired_items(names, kernel=None, initrd=None, params=None, macs_of=None):
    """Engine items for the nodes; a field given as None is not managed; with ``macs_of``, ``macs`` is."""
    items = [{"xname": n, "kernel": kernel, "initrd": initrd, "params": params} for n in names]
    if macs_of is not None:
        for item in items:
            item["macs"] = list(macs_of.get(item["xname"], []))
    return items


def check_params(params):
    """Fail early (ValidationError) on kernel parameters that cannot be split."""
    if params is None:
        return
    try:
        split_params(params)
    except ValueError as exc:
        raise resource.ValidationError(["params: %s" % exc])


def plan(backend, names, state="present", kernel=None, initrd=None, params=None, check_mode=False):
    """Read, compare, and (unless check mode) write; returns the engine plan."""
    check_params(params)
    current = backend.read()
    desired = desired_items(names, kernel, initrd, params, getattr(backend, "macs_of", None))
    if state == "present" and kernel is None:
        missing = [n for n in names if n not in current]
        if missing:
            shown = ", ".join(missing[:20]) + (" and %d more" % (len(missing) - 20) if len(missing) > 20 else "")
            raise resource.ValidationError(["kernel is required for nodes without a boot configuration: " + shown])
    the_plan = resource.plan(desired, list(current.values()), "xname", state=state,
                             normalizers={"params": normalize_params})
    resource.apply(the_plan, check_mode, upsert=backend.upsert, delete=backend.delete)
    return the_plan
