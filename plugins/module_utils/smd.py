# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin client for SMD (/hsm/v2): reads in bulk, writes with the bulk endpoints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.cscs.openchami.plugins.module_utils import resource, transport, xname
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

COMPONENT_FIELDS = ("ID", "Type", "State", "Flag", "Enabled", "SoftwareStatus", "Role", "SubRole", "NID",
                    "Subtype", "NetType", "Arch", "Class")
STATES = ("Unknown", "Empty", "Populated", "Off", "On", "Standby", "Halt", "Ready")
FLAGS = ("Unknown", "OK", "Warning", "Alert", "Locked")
# Fields that only a forced upsert (POST State/Components with force) rewrites.
FORCED_FIELDS = ("Subtype", "NetType", "Arch", "Class")
# SMD writes one SQL statement per request; PostgreSQL allows 65,535 parameters and an upserted component
# takes 12, so upserts are sent in chunks (one request per chunk, sequential, each a transaction).
UPSERT_CHUNK = 2000
ID_CHUNK = 10000
# Above this many MACs, NIDs or xnames, SMD is read whole (one request) instead of filtered by value.
QUERY_LIMIT = 100
COMPONENT_FILTERS = ("id", "type", "state", "flag", "enabled", "softwarestatus", "role", "subrole", "subtype",
                     "arch", "class", "nid", "nid_start", "nid_end", "group", "partition")


# the one place for concurrency and chunking is the transport; these names stay for the modules that use them
parallel = transport.all_or_raise
chunks = transport.chunks


def check_xname(value):
    """Normalised xname, or ValueError naming the value."""
    try:
        return xname.normalize(value)
    except xname.XnameError as exc:
        raise ValueError(str(exc))


def check_nid(value):
    if value < 0:
        raise ValueError("must not be negative, got %r" % (value,))
    return value


def yaml_boolean_hint(value, option="state"):
    """A hint when ``value`` is what YAML made of an unquoted Off/On/Yes/No (a boolean, or its text), else ''."""
    if isinstance(value, bool) or str(value) in ("True", "False"):
        return ("; YAML reads an unquoted Off, On, Yes or No as a boolean: quote the value, for example "
                "%s: 'Off'" % option)
    return ""


def enum_checker(option, allowed):
    """A check of one of ``allowed`` (any case, SMD's spelling returned); its message names ``option``."""
    lookup = dict((a.lower(), a) for a in allowed)

    def check(value):
        canon = lookup.get(str(value).lower())
        if canon is None:
            raise ValueError("%r is not one of %s%s" % (value, ", ".join(allowed), yaml_boolean_hint(value, option)))
        return canon
    return check


SERVICE_VALUE_FIELDS = ("Role", "SubRole", "NetType", "Arch", "Class")


def check_service_values(api, items, fields=SERVICE_VALUE_FIELDS, options=None, what="component"):
    """Check the given fields against the values this SMD accepts (one GET /service/values, only when one of
    them is given): SMD's roles and sub-roles are configurable, and a value it refuses would otherwise be
    found only at a write, after the earlier ones. Values are set to SMD's spelling; ValidationError names
    every bad item by its xname and the option the user wrote (``options``: SMD field -> option, by default
    smd_component's)."""
    options = options or COMPONENT_OPTIONS
    if not any(item.get(f) is not None for item in items for f in fields):
        return items
    values = api.client.get_json("/service/values") or {}
    errors = []
    for index, item in enumerate(items):
        for field in fields:
            if item.get(field) is None or field not in values:
                continue
            lookup = dict((str(v).lower(), v) for v in values[field])
            canon = lookup.get(str(item[field]).lower())
            if canon is None:
                option = options.get(field, field)
                errors.append("%s %s: %s: %r is not one this SMD accepts (%s)%s" % (
                    what, item.get("ID", index), option, item[field], ", ".join(sorted(set(values[field]))),
                    yaml_boolean_hint(item[field], option)))
            else:
                item[field] = canon
    if errors:
        raise resource.ValidationError(errors)
    return items


def _field(option, api, **kw):
    """A field whose module option is snake_case and whose API name (SMD's CamelCase) stays an alias."""
    aliases = kw.pop("aliases", [])
    if api != option:
        aliases = [api] + aliases
    return resource.Field(option, api, aliases=aliases, **kw)


# smd_component's items: options in snake_case, SMD's field names as aliases (playbooks written with them work)
COMPONENT = resource.Spec(
    _field("id", "ID", check=check_xname, identity=True, required=True, aliases=["xname"]),
    _field("type", "Type"),
    _field("state", "State", check=enum_checker("state", STATES), compare=str.lower),
    _field("flag", "Flag", check=enum_checker("flag", FLAGS), compare=str.lower),
    _field("enabled", "Enabled", type="bool"),
    _field("software_status", "SoftwareStatus"),
    _field("role", "Role", compare=str.lower),
    _field("sub_role", "SubRole"),
    _field("nid", "NID", type="int", check=check_nid),
    _field("subtype", "Subtype"),
    _field("net_type", "NetType"),
    _field("arch", "Arch"),
    _field("class", "Class"),
)
COMPONENT_OPTIONS = dict((f.api, f.option) for f in COMPONENT.fields)
# what SMD gives a component created without a state
CREATED_STATE = "Empty"
# How the engine compares components and interfaces (shared by the modules and the cluster planner);
# groups and partitions compare through their kind's spec (SetKind.spec.normalizers()).
COMPONENT_NORMALIZERS = COMPONENT.normalizers()
INTERFACE_NORMALIZERS = {"IPAddresses": resource.unordered}


def _group_by(changes, fields):
    groups = {}
    for change in changes:
        key = tuple(change.after.get(f) for f in fields)
        groups.setdefault(key, []).append(change.key)
    return groups


class SMD:
    def __init__(self, client, workers=8):
        self.client = client
        self.workers = workers

    # ------------------------------------------------------------ components
    def components(self, **filters):
        params = dict((k, v) for k, v in filters.items() if v not in (None, [], ""))
        data = self.client.get_json("/State/Components", params=params or None) or {}
        return data.get("Components") or []

    def missing_components(self, ids):
        """The given xnames that SMD has no component for (one query POST per ID_CHUNK ids), sorted."""
        ids = sorted(set(ids))
        found = set()
        for chunk in chunks(ids, ID_CHUNK):
            data = self.client.post("/State/Components/Query", {"ComponentIDs": chunk, "stateonly": True},
                                    safe=True, read=True).json or {}
            found.update(c.get("ID") for c in data.get("Components") or [])
        return [i for i in ids if i not in found]

    def upsert_components(self, components, force=False):
        """One POST per UPSERT_CHUNK components; a failed chunk's error carries the components written before it
        (``done_items``, see :func:`parallel`)."""
        done = []
        for index, chunk in enumerate(chunks(components, UPSERT_CHUNK)):
            try:
                self.client.post("/State/Components", {"Components": chunk, "force": force}, safe=True)
            except ApiError as exc:
                exc.done_items, exc.done_count, exc.failed_count = done, index, 1
                raise
            done.extend(chunk)

    def create_components(self, changes):
        """Engine creates: one upsert per UPSERT_CHUNK; a component created without a State gets ``Empty``."""
        bodies = []
        for change in changes:
            body = dict(change.after)
            body.setdefault("State", CREATED_STATE)
            change.after = body
            bodies.append(body)
        self.upsert_components(bodies)

    def _bulk_patch(self, path, ids, body):
        for chunk in chunks(ids, ID_CHUNK):
            self.client.patch("/State/Components/" + path, dict(body, ComponentIDs=chunk), safe=True)

    def update_components(self, changes):
        """Apply engine updates with the bulk PATCH endpoints: one request per distinct value."""
        def by_field(field):
            return [c for c in changes if field in c.changes]
        state_changes = [c for c in changes if "State" in c.changes]
        for (state, flag), ids in _group_by(state_changes, ("State", "Flag")).items():
            body = {"State": state, "Force": True}
            if flag:
                body["Flag"] = flag
            self._bulk_patch("BulkStateData", ids, body)
        flag_only = [c for c in by_field("Flag") if "State" not in c.changes]
        for (flag,), ids in _group_by(flag_only, ("Flag",)).items():
            self._bulk_patch("BulkFlagOnly", ids, {"Flag": flag})
        for (enabled,), ids in _group_by(by_field("Enabled"), ("Enabled",)).items():
            self._bulk_patch("BulkEnabled", ids, {"Enabled": enabled})
        for (status,), ids in _group_by(by_field("SoftwareStatus"), ("SoftwareStatus",)).items():
            self._bulk_patch("BulkSoftwareStatus", ids, {"SoftwareStatus": status})
        role_changes = [c for c in changes if "Role" in c.changes or "SubRole" in c.changes]
        for (role, subrole), ids in _group_by(role_changes, ("Role", "SubRole")).items():
            body = {"Role": role}
            if subrole:
                body["SubRole"] = subrole
            self._bulk_patch("BulkRole", ids, body)
        for chunk in chunks(by_field("NID"), UPSERT_CHUNK):
            self.client.patch("/State/Components/BulkNID",
                              {"Components": [{"ID": c.key, "NID": c.after["NID"]} for c in chunk]}, safe=True)
        forced = [c for c in changes if any(f in c.changes for f in FORCED_FIELDS)]
        if forced:
            self.upsert_components([self._forced_body(c.after) for c in forced], force=True)

    @staticmethod
    def _forced_body(item):
        body = dict((f, item[f]) for f in ("ID", "State", "Flag") + FORCED_FIELDS if item.get(f) is not None)
        return body

    def delete_components(self, ids):
        parallel(lambda x: self.client.delete("/State/Components/%s" % x), ids, self.workers)

    # ------------------------------------------------------------ ethernet interfaces
    def interfaces(self, **filters):
        params = dict((k, v) for k, v in filters.items() if v not in (None, [], ""))
        return self.client.get_json("/Inventory/EthernetInterfaces", params=params or None) or []

    def create_interfaces(self, items):
        parallel(lambda i: self.client.post("/Inventory/EthernetInterfaces", i), items, self.workers)

    def patch_interfaces(self, items):
        """``items``: list of (id, body)."""
        parallel(lambda p: self.client.patch("/Inventory/EthernetInterfaces/%s" % p[0], p[1], safe=True), items,
                 self.workers)

    def delete_interfaces(self, ids):
        parallel(lambda i: self.client.delete("/Inventory/EthernetInterfaces/%s" % i), ids, self.workers)

    # ------------------------------------------------------------ groups and partitions
    def groups(self, **filters):
        params = dict((k, v) for k, v in filters.items() if v not in (None, [], ""))
        return self.client.get_json("/groups", params=params or None) or []

    def partitions(self, **filters):
        params = dict((k, v) for k, v in filters.items() if v not in (None, [], ""))
        return self.client.get_json("/partitions", params=params or None) or []

    def memberships(self):
        return self.client.get_json("/memberships") or []

    # ------------------------------------------------------------ redfish endpoints
    def redfish_endpoints(self, **filters):
        params = dict((k, v) for k, v in filters.items() if v not in (None, [], ""))
        data = self.client.get_json("/Inventory/RedfishEndpoints", params=params or None) or {}
        return data.get("RedfishEndpoints") or []

    def component_endpoints(self, **filters):
        params = dict((k, v) for k, v in filters.items() if v not in (None, [], ""))
        data = self.client.get_json("/Inventory/ComponentEndpoints", params=params or None) or {}
        return data.get("ComponentEndpoints") or []

    def put_redfish_endpoints(self, items):
        parallel(lambda e: self.client.put("/Inventory/RedfishEndpoints/%s" % e["ID"], e), items, self.workers)

    def delete_redfish_endpoints(self, ids):
        parallel(lambda i: self.client.delete("/Inventory/RedfishEndpoints/%s" % i), ids, self.workers)


# ---------------------------------------------------------------- groups and partitions as one kind of resource

class SetKind:
    """What differs between SMD groups and partitions."""

    def __init__(self, param, path, key, extra_fields, put_members, check_name):
        self.param = param
        self.path = path
        self.key = key
        self.extra_fields = extra_fields
        self.put_members = put_members
        self.check_name = check_name
        self.noun = param[:-1]


_LABEL = re.compile(r"^[-a-z0-9:._]+$")


def check_label(value):
    """SMD stores labels and tags lower-case; they must match ^[-a-z0-9:._]+$."""
    text = str(value).strip().lower()
    if not _LABEL.match(text):
        raise ValueError("%r is not a valid SMD label (letters, digits, '-', ':', '.', '_')" % value)
    return text


_PARTITION = re.compile(r"^p[0-9]+(\.[0-9]+)?$")


def check_partition_name(value):
    """SMD's partition names: ``p#`` or ``p#.#`` (stored lower-case)."""
    text = str(value).strip().lower()
    if not _PARTITION.match(text):
        raise ValueError("%r is not a partition name SMD accepts: p<number> or p<number>.<number>, "
                         "for example p1 or p1.2" % value)
    return text


def check_labels(values):
    """Tags: every one checked with :func:`check_label`; one ValueError names all bad ones."""
    return _check_all(values, check_label)


def check_members(values):
    """Members: xnames, normalised; one ValueError names all bad ones."""
    return _check_all(values, check_xname)


def _check_all(values, check):
    out, bad = [], []
    for value in values:
        try:
            out.append(check(value))
        except ValueError as exc:
            bad.append(str(exc))
    if bad:
        raise ValueError("; ".join(bad))
    return out


def _set_spec(key, check_name, *extra):
    return resource.Spec(
        resource.Field(key, check=check_name, identity=True, required=True),
        resource.Field("description"),
        resource.Field("tags", type="list", elements="str", check=check_labels, compare=resource.unordered),
        resource.Field("members", type="list", elements="str", check=check_members, compare=resource.unordered),
        *extra)


GROUPS = SetKind("groups", "/groups", "label", ("description", "tags", "exclusiveGroup"), True, check_label)
GROUPS.spec = _set_spec("label", check_label, resource.Field("exclusive_group", "exclusiveGroup", check=check_label))
PARTITIONS = SetKind("partitions", "/partitions", "name", ("description", "tags"), False, check_partition_name)
PARTITIONS.spec = _set_spec("name", check_partition_name)


def flatten_set(item, kind):
    """SMD's group/partition JSON -> the flat form the engine compares."""
    out = {kind.key: item.get(kind.key)}
    for field in kind.extra_fields:
        if field in item:
            out[field] = item[field]
    out["members"] = sorted((item.get("members") or {}).get("ids") or [])  # SMD's order varies
    return out


class SetApi:
    """Create/update/delete groups or partitions from engine changes."""

    def __init__(self, api, kind):
        self.api = api
        self.kind = kind
        self.client = api.client

    def current(self):
        return [flatten_set(item, self.kind) for item in self.client.get_json(self.kind.path) or []]

    def _body(self, item):
        body = dict((f, item[f]) for f in (self.kind.key,) + self.kind.extra_fields if item.get(f) is not None)
        body["members"] = {"ids": list(item.get("members") or [])}
        return body

    def delete(self, changes):
        parallel(lambda c: self.client.delete("%s/%s" % (self.kind.path, c.key)), changes, self.api.workers)

    def upsert(self, changes):
        """Creates and updates in the order SMD's exclusivity needs: members leaving a set first, then the new
        sets, then members joining (a member moved from p1 to p2 in one task is never in both)."""
        updates = [c for c in changes if c.action == resource.UPDATE]
        self._calls(self._member_calls(updates, leaving=True))
        parallel(lambda c: self.client.post(self.kind.path, self._body(c.after)),
                 [c for c in changes if c.action == resource.CREATE], self.api.workers)
        self._calls(self._member_calls(updates, leaving=False))

    def _calls(self, calls):
        parallel(lambda c: self.client.request(c[0], c[1], json_body=c[2], safe=True), calls, self.api.workers)

    def _member_calls(self, changes, leaving):
        calls = []
        for change in changes:
            url = "%s/%s" % (self.kind.path, change.key)
            meta = dict((f, change.after.get(f)) for f in ("description", "tags") if f in change.changes)
            if meta and not leaving:
                calls.append(("PATCH", url, meta))
            if "members" not in change.changes:
                continue
            want = set(change.after.get("members") or [])
            have = set(change.before.get("members") or [])
            moving = (have - want) if leaving else (want - have)
            if not moving:
                continue
            if self.kind.put_members:
                calls.append(("PUT", url + "/members", {"ids": sorted(have & want if leaving else want)}))
            elif leaving:
                calls.extend(("DELETE", "%s/members/%s" % (url, m), None) for m in sorted(moving))
            else:
                calls.extend(("POST", url + "/members", {"id": m}) for m in sorted(moving))
        return calls


def check_exclusive(kind, the_plan, current):
    """Raise ValidationError if, after the plan, a component would be in two partitions, or in two groups of one
    exclusive group (SMD refuses that with HTTP 409 at the write, after the earlier writes of the task)."""
    final = dict((c[kind.key], c) for c in current)
    for change in the_plan.changes:
        if change.action == resource.DELETE:
            final.pop(change.key, None)
        else:
            final[change.key] = change.after
    in_task = [c.key for c in the_plan.changes]
    order = [k for k in final if k not in in_task] + [k for k in in_task if k in final]
    holder, errors = {}, []
    for name in order:
        entry = final[name]
        if kind is PARTITIONS:
            scope, what = "", "(a component can be in only one partition)"
        elif entry.get("exclusiveGroup"):
            scope, what = entry["exclusiveGroup"], "(exclusive group %s)" % entry["exclusiveGroup"]
        else:
            continue
        for member in entry.get("members") or []:
            first = holder.setdefault((scope, member), name)
            if first != name:
                errors.append("%s %s: member %s would also be in %s %s %s" % (
                    kind.noun, name, member, kind.noun, first, what))
    if errors:
        raise resource.ValidationError(errors)


def plan_sets(api, kind, items, members_mode="exact", state="present", check_mode=False):
    """Validate, plan and apply groups/partitions; returns the engine plan.

    ``items`` are in the module's vocabulary (``exclusive_group``); members are
    normalised with ``xname_check``. With ``members_mode`` add/remove the given
    members are added to or taken from the current ones.
    """
    desired = kind.spec.desired(items, what=kind.noun)
    if state == "present" and members_mode != "remove":
        check_members_exist(api, kind, desired)
    sets = SetApi(api, kind)
    current = sets.current()
    by_key = dict((c[kind.key], c) for c in current)
    if state == "present" and members_mode != "exact":
        for entry in desired:
            given = entry.get("members")
            if given is None:
                continue
            have = list((by_key.get(entry[kind.key]) or {}).get("members") or [])
            if members_mode == "add":
                entry["members"] = have + [m for m in given if m not in have]
            else:
                entry["members"] = [m for m in have if m not in given]
    the_plan = resource.plan(desired, current, kind.key, state=state, normalizers=kind.spec.normalizers())
    bad = [c.key for c in the_plan.of(resource.UPDATE) if "exclusiveGroup" in c.changes]
    if bad:
        raise resource.ValidationError(["group %s: exclusive_group: cannot be changed for an existing group; delete "
                                        "the group first" % key for key in bad])
    check_exclusive(kind, the_plan, current)
    resource.apply(the_plan, check_mode, upsert=sets.upsert, delete=sets.delete)
    return the_plan


def check_members_exist(api, kind, desired):
    """Raise ValidationError naming every group (or partition) and member that SMD has no component for.

    SMD refuses such a member only when it writes (HTTP 400 'linked component does not exist' on create,
    HTTP 500 on a member PUT), after the earlier items of the task were written: all are checked first.
    """
    wanted = [(entry[kind.key], member) for entry in desired for member in entry.get("members") or []]
    missing = set(api.missing_components(member for _name, member in wanted))
    if not missing:
        return
    by_set = {}
    for name, member in wanted:
        if member in missing:
            by_set.setdefault(name, []).append(member)
    raise resource.ValidationError(["%s %s: unknown member(s) %s (no such component in SMD)" % (
        kind.noun, name, ", ".join(sorted(set(members), key=xname.natural_key))) for name, members in by_set.items()])


def interface_id(mac):
    """SMD's id of an Ethernet interface: the MAC lower-cased without separators."""
    return re.sub(r"[^0-9a-f]", "", mac.lower())


def normalize_interfaces(items):
    """SMD interfaces with normalised MACs and only the fields the modules manage."""
    out = []
    for item in items:
        try:
            mac = resource.normalize_mac(item.get("MACAddress") or item.get("ID") or "")
        except ValueError:
            continue
        out.append({"MACAddress": mac, "ComponentID": item.get("ComponentID") or "",
                    "Description": item.get("Description") or "", "ID": item.get("ID"),
                    "Type": item.get("Type"),
                    "IPAddresses": [{"IPAddress": ip.get("IPAddress"), "Network": ip.get("Network") or ""}
                                    for ip in item.get("IPAddresses") or []]})
    return out


def interfaces_of(api, names):
    """xname -> the node's interfaces (normalised, in SMD's order; [] for a node without any), in one GET:
    filtered by component up to QUERY_LIMIT names, else SMD's whole list."""
    wanted = set(names)
    if not wanted:
        return {}
    found = api.interfaces(ComponentID=sorted(wanted)) if len(wanted) <= QUERY_LIMIT else api.interfaces()
    out = dict((name, []) for name in wanted)
    for nic in normalize_interfaces(found):
        if nic["ComponentID"] in wanted:
            out[nic["ComponentID"]].append(nic)
    return out


def interface_ops(api):
    """The engine's create/update/delete of Ethernet interfaces (keyed by MAC) on ``api``."""
    return dict(
        create=lambda changes: api.create_interfaces([c.after for c in changes]),
        update=lambda changes: api.patch_interfaces([
            (interface_id(c.key), dict((f, c.after.get(f)) for f in ("Description", "ComponentID", "IPAddresses")
                                       if c.after.get(f) is not None)) for c in changes]),
        delete=lambda changes: api.delete_interfaces([interface_id(c.key) for c in changes]))


def apply_interfaces(api, desired, state="present", check_mode=False):
    """Plan and apply Ethernet interfaces (validated, SMD field names), keyed by MAC; returns the plan."""
    current = normalize_interfaces(api.interfaces())
    the_plan = resource.plan(desired, current, "MACAddress", state=state, normalizers=INTERFACE_NORMALIZERS)
    resource.apply(the_plan, check_mode, **interface_ops(api))
    return the_plan


# ---------------------------------------------------------------- Redfish endpoints with their inventory

def check_inventory(value):
    """Normalise the MACs and IPs of an inventory payload (``Systems``/``Managers``); ValueError names the entry."""
    if not isinstance(value, dict):
        raise ValueError("inventory must be a dict with Systems and Managers")
    out = copy.deepcopy(value)
    for part in ("Systems", "Managers"):
        for index, entry in enumerate(out.get(part) or []):
            for nic in entry.get("ethernet_interfaces") or []:
                try:
                    nic["mac"] = resource.normalize_mac(nic.get("mac") or "")
                    if nic.get("ip"):
                        nic["ip"] = resource.normalize_ip(nic["ip"])
                except ValueError as exc:
                    raise ValueError("%s[%d]: %s" % (part, index, exc))
    return out


def inventory_pairs(endpoint_id, inventory):
    """(component xname, MAC) pairs SMD derives from an inventory payload (NICs with an IP only)."""
    pairs = set()
    for index, system in enumerate(inventory.get("Systems") or []):
        for nic in system.get("ethernet_interfaces") or []:
            if nic.get("ip"):
                pairs.add("%sn%d %s" % (endpoint_id, index, nic["mac"]))
    for manager in inventory.get("Managers") or []:
        for nic in manager.get("ethernet_interfaces") or []:
            if nic.get("ip"):
                pairs.add("%s %s" % (endpoint_id, nic["mac"]))
    return sorted(pairs)


# smd_redfish_endpoint's items (options in snake_case, SMD's names as the API fields); discovery checks its
# endpoints with the same checks, and results and diffs lose the secret fields through ENDPOINT.public
ENDPOINT = resource.Spec(
    resource.Field("id", "ID", check=check_xname, identity=True, required=True),
    resource.Field("fqdn", "FQDN"),
    resource.Field("ip_address", "IPAddress", check=resource.normalize_ip),
    resource.Field("mac_address", "MACAddr", check=resource.normalize_mac),
    resource.Field("user", "User"),
    resource.Field("password", "Password", no_log=True),
    resource.Field("enabled", "Enabled", type="bool"),
    resource.Field("inventory", "Inventory", type="dict", check=check_inventory),
)


def check_ips(value):
    """The module's ``ip_addresses`` (``ip_address``, ``network``) -> SMD's ``IPAddresses``, addresses normalised."""
    return [{"IPAddress": resource.normalize_ip(entry["ip_address"]), "Network": entry.get("network") or ""}
            for entry in value]


# smd_ethernet_interface's items
INTERFACE = resource.Spec(
    resource.Field("mac", "MACAddress", check=resource.normalize_mac, identity=True, required=True),
    resource.Field("component_id", "ComponentID", check=check_xname),
    resource.Field("description", "Description"),
    resource.Field("ip_addresses", "IPAddresses", type="list", elements="dict", check=check_ips, options=dict(
        ip_address=dict(type="str", required=True),
        network=dict(type="str", default=""),
    )),
)


def apply_redfish_endpoints(api, desired, state="present", update_password="on_create", check_mode=False):
    """Plan and apply Redfish endpoints (SMD field names, ``Inventory`` optional, checked with ENDPOINT.check).

    An endpoint with an inventory is unchanged only if its fields match and every (component, MAC)
    pair SMD derives from the inventory is in SMD; otherwise it is PUT (an upsert SMD re-parses).
    Returns the plan (which holds the passwords); :func:`endpoint_result` makes the module result without them.
    """
    needs_interfaces = any("Inventory" in d for d in desired)
    calls = [api.redfish_endpoints] + ([api.interfaces] if needs_interfaces else [])
    found = parallel(lambda call: call(), calls)
    present_pairs = set()
    if needs_interfaces:
        present_pairs = set("%s %s" % (i["ComponentID"], i["MACAddress"]) for i in normalize_interfaces(found[1]))
    wanted_pairs = dict((d["ID"], inventory_pairs(d["ID"], d["Inventory"])) for d in desired if "Inventory" in d)
    current = []
    for endpoint in found[0]:
        entry = dict(endpoint)
        if endpoint.get("ID") in wanted_pairs:
            # equal to the desired pairs exactly when all of them are present in SMD
            entry["Inventory"] = [x for x in wanted_pairs[endpoint["ID"]] if x in present_pairs]
        current.append(entry)
    if state == "present":
        check_endpoints(desired, found[0])
    existing = set(endpoint.get("ID") for endpoint in found[0])
    desired = [dict(d) for d in desired]
    for entry in desired:
        if entry["ID"] in existing and update_password == "on_create":
            entry.pop("Password", None)
        if "Inventory" in entry:
            entry["Inventory"], entry["_payload"] = wanted_pairs[entry["ID"]], entry["Inventory"]
    the_plan = resource.plan(desired, current, "ID", state=state,
                             normalizers={"_payload": lambda v: None, "MACAddr": resource.normalize_mac})

    def write(changes):
        bodies = []
        for change in changes:
            body = dict((k, v) for k, v in change.after.items() if k not in ("Inventory", "_payload"))
            payload = change.after.get("_payload")
            if payload is not None:
                body.update(payload)
                body["SchemaVersion"] = 1
            bodies.append(body)
        api.put_redfish_endpoints(bodies)
    resource.apply(the_plan, check_mode, create=write, update=write,
                   delete=lambda changes: api.delete_redfish_endpoints([c.key for c in changes]))
    return the_plan


def check_endpoints(desired, current):
    """Raise ValidationError for endpoints SMD would refuse or mis-register, before the first write.

    SMD refuses (HTTP 409) an endpoint whose FQDN another endpoint has; and its inventory parser types every
    manager NodeBMC and names systems ``<id>n<i>``, which is wrong for any other kind of BMC.
    """
    errors = []
    owner = dict(((e.get("FQDN") or "").lower(), e.get("ID")) for e in current if e.get("FQDN"))
    given = set(d["ID"] for d in desired)
    for index, entry in enumerate(desired):
        fqdn = (entry.get("FQDN") or "").lower()
        if fqdn and owner.get(fqdn, entry["ID"]) != entry["ID"] and owner[fqdn] not in given:
            errors.append("endpoint %s: fqdn: %s is already the FQDN of endpoint %s" % (
                entry["ID"], entry["FQDN"], owner[fqdn]))
        elif fqdn:
            first = next((d["ID"] for d in desired[:index] if (d.get("FQDN") or "").lower() == fqdn), None)
            if first:
                errors.append("endpoint %s: fqdn: %s is also given for %s" % (entry["ID"], entry["FQDN"], first))
        inventory = entry.get("Inventory") or {}
        kind = xname.xname_type(entry["ID"])
        if kind != "NodeBMC" and (inventory.get("Systems") or inventory.get("Managers")):
            errors.append("endpoint %s: inventory: an inventory with Systems or Managers is only for node BMCs; SMD "
                          "would register this %s as a NodeBMC (register its component with "
                          "cscs.openchami.smd_component)" % (entry["ID"], kind))
    if errors:
        raise resource.ValidationError(errors)


def endpoint_result(the_plan):
    """The module result of :func:`apply_redfish_endpoints`: diff and endpoints without password or payload."""
    out = resource.result(the_plan)
    for side in ("before", "after"):
        for key, value in out["diff"][side].items():
            if isinstance(value, dict):
                out["diff"][side][key] = without_password(value)
    out["endpoints"] = [without_password(r) for r in the_plan.resources()]
    return out


def without_password(endpoint):
    """An endpoint without its secret fields (ENDPOINT's no_log ones) and without the internal ``_payload``."""
    return dict((k, v) for k, v in ENDPOINT.public(endpoint).items() if k != "_payload")


def dump(api, include):
    """Read the given kinds of SMD data concurrently, one request each, sorted for stable comparisons."""
    readers = {
        "components": lambda: sorted(api.components(), key=lambda c: c.get("ID", "")),
        "interfaces": lambda: sorted(normalize_interfaces(api.interfaces()), key=lambda i: i["MACAddress"]),
        "groups": lambda: sorted((flatten_set(g, GROUPS) for g in api.groups()), key=lambda g: g["label"]),
        "partitions": lambda: sorted((flatten_set(x, PARTITIONS) for x in api.partitions()), key=lambda x: x["name"]),
        "redfish_endpoints": lambda: sorted((without_password(e) for e in api.redfish_endpoints()),
                                            key=lambda e: e.get("ID", "")),
        "component_endpoints": lambda: sorted(api.component_endpoints(), key=lambda e: e.get("ID", "")),
    }
    kinds = [k for k in readers if k in include]
    return dict(zip(kinds, parallel(lambda k: readers[k](), kinds)))
