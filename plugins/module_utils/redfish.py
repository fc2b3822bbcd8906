# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redfish on the shared transport: one BMC client, vendor profiles, and the discovery of many BMCs.

:class:`Bmc` talks to one BMC: HTTP Basic or a Redfish session (always deleted on close),
``If-Match`` with the resource's ``@odata.etag`` on PATCH, reset types read from inline
``@Redfish.AllowableValues`` or the ``@Redfish.ActionInfo`` resource and matched through
:data:`RESET_EQUIVALENTS`, task monitors (202 + ``Location``) followed to the end, and
``$expand`` only where the service root advertises it. Missing optional properties are
tolerated everywhere.

A vendor profile (:class:`Profile`) holds a vendor's quirks: which systems are nodes, which
manager NIC is the BMC's own, whether one-time boot override exists. Profiles are registered
by name with :func:`register`; :func:`choose_profile` picks the best match from what the BMC
shows, or the one a user forces. See ``docs/redfish_profiles.md`` for writing one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress
import re
import time
import uuid


from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Client, each, tcp_probe

ROOT = "/redfish/v1"

# A requested ResetType -> what may be sent instead, in order, when the BMC does not offer it.
RESET_EQUIVALENTS = {
    "On": ("On", "ForceOn"),
    "ForceOn": ("ForceOn", "On"),
    "ForceOff": ("ForceOff", "Off"),
    "Off": ("Off", "ForceOff"),
    "GracefulShutdown": ("GracefulShutdown", "Off"),
    "GracefulRestart": ("GracefulRestart", "ForceRestart"),
    "ForceRestart": ("ForceRestart", "GracefulRestart", "PowerCycle"),
    "PowerCycle": ("PowerCycle", "ForceRestart"),
    "Nmi": ("Nmi",),
    "PushPowerButton": ("PushPowerButton",),
}
# The PowerState a reset ends in (restarts end On).
RESET_TARGET_STATE = {
    "On": "On", "ForceOn": "On", "ForceOff": "Off", "Off": "Off", "GracefulShutdown": "Off",
    "GracefulRestart": "On", "ForceRestart": "On", "PowerCycle": "On",
}
TASK_RUNNING = frozenset(("New", "Starting", "Running", "Pending", "Stopping", "Cancelling", "Suspended"))
TASK_FAILED = frozenset(("Killed", "Exception", "Cancelled"))
_NOT_A_MAC = frozenset(("", "not available", "00:00:00:00:00:00"))


def bmc_from_params(params, address, user=None, password=None, log=None):
    """A :class:`Bmc` for ``address`` with the module's BMC options (per-target credentials win)."""
    return Bmc(address, user=user or params.get("bmc_user"), password=password or params.get("bmc_password"),
               validate_certs=params.get("bmc_validate_certs", True), ca_path=params.get("bmc_ca_path"),
               timeout=params.get("bmc_timeout") or 10, sessions=params.get("sessions") or "auto", log=log)


class BmcError(Exception):
    """A failure at one BMC, with the BMC's address in the message (never a password)."""


def normalize_mac(value):
    """:func:`resource.normalize_mac`, but None (not an error) for what BMCs put there when they have none."""
    if not isinstance(value, str) or value.strip().lower() in _NOT_A_MAC:
        return None
    try:
        return resource.normalize_mac(value)
    except ValueError:
        return None


def first_ipv4(nic):
    """The first usable IPv4 address of a Redfish EthernetInterface (not 0.0.0.0), or None."""
    for key in ("IPv4Addresses", "IPv4StaticAddresses"):
        for entry in nic.get(key) or []:
            address = (entry or {}).get("Address")
            if address and address != "0.0.0.0":
                return address
    return None


def is_link_local(address):
    try:
        return ipaddress.ip_address(address).is_link_local
    except ValueError:
        return False


class _BmcAuth:
    """Credentials of one BMC in the shape :class:`transport.Client` expects (Basic, or a session token)."""

    def __init__(self, user, password):
        self.user = user or ""
        self.password = password or ""
        self.token = None
        self._basic = base64.b64encode(("%s:%s" % (self.user, self.password)).encode("utf-8")).decode("ascii")

    def headers(self):
        if self.token:
            return {"X-Auth-Token": self.token}
        if self.user or self.password:
            return {"Authorization": "Basic " + self._basic}
        return {}

    def refresh(self):
        return False

    def secrets(self):
        return [value for value in (self.password, self.token, self._basic) if value]

    def explain_401(self):
        return "the BMC refused the user name or password"


class Bmc:
    """One BMC. Use as a context manager so that a session is always logged out."""

    def __init__(self, address, user=None, password=None, validate_certs=True, ca_path=None, timeout=10,
                 retries=2, sessions="auto", scheme="https", log=None):
        self.address = address
        self.base = address if "://" in address else "%s://%s" % (scheme, address)
        self.auth = _BmcAuth(user, password)
        self.sessions = sessions
        self.client = Client(self.base, auth=self.auth, validate_certs=validate_certs, ca_path=ca_path,
                             timeout=timeout, retries=retries, backoff=0.2, max_backoff=2.0, pool_size=4, log=log,
                             tls_hint="set bmc_ca_path to the BMCs' CA bundle, or bmc_validate_certs=false for a lab")
        self._session_url = None
        self._root = None
        self._cache = {}

    # ------------------------------------------------------------------ session
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def login(self):
        """Open a Redfish session when the BMC has a SessionService (``sessions: auto|always``)."""
        if self.sessions == "never" or self._session_url:
            return
        root = self.root()
        sessions = ((root.get("Links") or {}).get("Sessions") or {}).get("@odata.id")
        if not sessions:
            if self.sessions == "always":
                raise BmcError("%s: the BMC has no SessionService" % self.address)
            return
        try:
            answer = self.client.post(sessions, {"UserName": self.auth.user, "Password": self.auth.password},
                                      expect=(200, 201, 202, 204))
        except ApiError as exc:
            if exc.status in (401, 403) or self.sessions == "always":
                raise
            return  # sessions not usable here (405, 404, 501...): stay with Basic
        token = _header(answer.headers, "X-Auth-Token")
        if not token:
            if self.sessions == "always":
                raise BmcError("%s: the session login answered without X-Auth-Token" % self.address)
            return
        self.auth.token = token
        location = _header(answer.headers, "Location") or ((answer.json or {}).get("@odata.id"))
        self._session_url = location

    def close(self):
        if self._session_url:
            try:
                self.client.delete(self._session_url, expect=(200, 202, 204, 404))
            except ApiError:
                pass
            self._session_url = None
            self.auth.token = None
        self.client.close()

    @property
    def request_count(self):
        return self.client.request_count

    # ------------------------------------------------------------------ reading
    def root(self):
        """The service root (readable without credentials on every BMC seen)."""
        if self._root is None:
            self._root = self.client.get_json(ROOT) or {}
        return self._root

    def get(self, path, cache=True):
        path = _path(path)
        if cache and path in self._cache:
            return self._cache[path]
        data = self.client.get_json(path) or {}
        self._cache[path] = data
        return data

    def can_expand(self):
        expand = (self.root().get("ProtocolFeaturesSupported") or {}).get("ExpandQuery") or {}
        return bool(expand.get("ExpandAll") or expand.get("Levels"))

    def members(self, collection):
        """The resources of a collection (an ``@odata.id`` or a dict holding one); ``[]`` if absent."""
        path = collection.get("@odata.id") if isinstance(collection, dict) else collection
        if not path:
            return []
        data = None
        if self.can_expand():
            try:
                data = self.client.get_json(_path(path) + "?$expand=.($levels=1)") or {}
            except ApiError as exc:
                if exc.status not in (400, 404, 405, 501):
                    raise
                # advertised but refused: read the members one by one
        if data is None:
            try:
                data = self.client.get_json(_path(path)) or {}
            except ApiError as exc:
                if exc.status == 404:
                    return []
                raise
        out = []
        for member in data.get("Members") or []:
            ident = member.get("@odata.id")
            if not ident:
                continue
            if len(member) > 2 and ("Id" in member or "Name" in member):
                self._cache[_path(ident)] = member
                out.append(member)
            else:
                out.append(self.get(ident))
        return out

    def link(self, resource, name):
        """Follow a navigation property (``{"@odata.id": ...}``) of ``resource``; None if absent."""
        target = resource.get(name)
        if isinstance(target, dict) and target.get("@odata.id"):
            return self.get(target["@odata.id"])
        return None

    # ------------------------------------------------------------------ writing
    def patch(self, path, body):
        """PATCH with ``If-Match`` when the resource has an ``@odata.etag`` (re-read once on 412)."""
        path = _path(path)
        for attempt in (0, 1):
            current = self.get(path, cache=False)
            headers = {}
            if current.get("@odata.etag"):
                headers["If-Match"] = current["@odata.etag"]
            try:
                answer = self.client.patch(path, body, headers=headers, expect=(200, 202, 204))
            except ApiError as exc:
                if exc.status == 412 and attempt == 0:
                    continue
                raise
            self._cache.pop(path, None)
            return self.follow_task(answer)
        return None  # pragma: no cover

    def follow_task(self, answer, deadline=120.0):
        """Wait for a task monitor (202 + Location) to finish; returns the final answer's JSON."""
        if answer.status != 202 or not _header(answer.headers, "Location"):
            return answer.json
        monitor = _header(answer.headers, "Location")
        end = time.monotonic() + deadline
        delay = 0.2
        while True:
            reply = self.client.get(monitor, expect=(200, 202, 204))
            data = reply.json or {}
            if reply.status != 202 and data.get("TaskState") not in TASK_RUNNING:
                if data.get("TaskState") in TASK_FAILED:
                    raise BmcError("%s: task %s ended %s" % (self.address, monitor, data.get("TaskState")))
                return data
            if time.monotonic() > end:
                raise BmcError("%s: task %s not done after %.0fs" % (self.address, monitor, deadline))
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    # ------------------------------------------------------------------ actions
    def allowed_values(self, resource, action_name, parameter="ResetType"):
        """Values of ``parameter`` the BMC allows for ``#<action_name>``: inline, or from ActionInfo; None if unknown."""
        action = (resource.get("Actions") or {}).get(action_name) or {}
        inline = action.get(parameter + "@Redfish.AllowableValues")
        if inline:
            return list(inline)
        info = action.get("@Redfish.ActionInfo")
        if info:
            try:
                data = self.get(info)
            except ApiError:
                return None
            for param in data.get("Parameters") or []:
                if param.get("Name") == parameter and param.get("AllowableValues"):
                    return list(param["AllowableValues"])
        return None

    def reset(self, resource, reset_type):
        """POST the reset action of a system, chassis or manager; returns the ResetType actually sent."""
        name = _action_name(resource, "Reset")
        if not name:
            raise BmcError("%s: %s has no Reset action" % (self.address, resource.get("@odata.id")))
        action = resource["Actions"][name]
        allowed = self.allowed_values(resource, name)
        chosen = pick_reset_type(reset_type, allowed)
        if chosen is None:
            raise BmcError("%s: %s does not offer %s or an equivalent (it offers %s)"
                           % (self.address, resource.get("@odata.id"), reset_type, ", ".join(allowed or [])))
        target = action.get("target") or (resource.get("@odata.id", "").rstrip("/") + "/Actions/" + name.lstrip("#"))
        answer = self.client.post(target, {"ResetType": chosen}, expect=(200, 202, 204))
        self.follow_task(answer)
        return chosen

    def power_state(self, path):
        return self.get(path, cache=False).get("PowerState")


def _action_name(resource, verb):
    for name in (resource.get("Actions") or {}):
        if name.startswith("#") and name.endswith("." + verb):
            return name
    return None


def pick_reset_type(requested, allowed):
    """``requested`` or its first equivalent in ``allowed``; ``requested`` itself when ``allowed`` is unknown."""
    if allowed is None:
        return requested
    for candidate in RESET_EQUIVALENTS.get(requested, (requested,)):
        if candidate in allowed:
            return candidate
    return None


def _header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _path(path):
    if path.startswith("http://") or path.startswith("https://"):
        return path
    path = "/" + path.lstrip("/")
    return path.rstrip("/") if len(path) > 1 else path


def _sort_key(resource):
    """Natural order of resource Ids (Node2 before Node10)."""
    ident = str(resource.get("Id") or resource.get("@odata.id") or "")
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", ident)]


# ---------------------------------------------------------------------- vendor profiles

PROFILES = {}


def register(cls):
    """Class decorator: make a :class:`Profile` subclass available under ``cls.name``."""
    PROFILES[cls.name] = cls
    return cls


class Profile:
    """A vendor's Redfish quirks. Subclass, set ``name``, override what differs, :func:`register`.

    ``score(root, systems, managers)`` says how well the profile fits a BMC (0: not at all);
    the highest score wins, the generic profile scores 1.
    """

    name = "generic"
    description = "DMTF Redfish as the standard describes it"
    boot_override = True  # whether one-time BootSourceOverride may exist on systems
    chassis = False  # whether discovery reads the Chassis (blades, enclosures) too; one request per chassis

    @classmethod
    def score(cls, root, systems, managers):
        return 1

    def node_systems(self, bmc, systems):
        """The systems that are nodes, in the order SMD numbers them (n0, n1, ...)."""
        return sorted(systems, key=_sort_key)

    def bmc_managers(self, bmc, managers):
        """The managers that are this BMC (their NICs hold the BMC's MAC)."""
        own = [m for m in managers if m.get("ManagerType") == "BMC"]
        return own or sorted(managers, key=_sort_key)[:1]

    def bmc_nics(self, bmc, manager):
        """The BMC's own NICs: MAC and IPv4, host interfaces (link-local) left out."""
        return [nic for nic in self.nics(bmc, manager) if not (nic.get("ip") and is_link_local(nic["ip"]))]

    def nics(self, bmc, resource):
        """EthernetInterfaces of a system or manager as ``{uri, mac, ip, name, description}``; MAC-less ones dropped."""
        out = []
        seen = set()
        for nic in bmc.members(resource.get("EthernetInterfaces") or {}):
            mac = normalize_mac(nic.get("MACAddress")) or normalize_mac(nic.get("PermanentMACAddress"))
            if not mac or mac in seen:  # a MAC listed twice (bonds, several addresses) counts once
                continue
            seen.add(mac)
            entry = {"uri": nic.get("@odata.id"), "mac": mac, "name": nic.get("Id") or nic.get("Name") or ""}
            if nic.get("Description"):
                entry["description"] = nic["Description"]
            ip = first_ipv4(nic)
            if ip:
                entry["ip"] = ip
            out.append(entry)
        return out

    def supports_boot_override(self, system):
        boot = system.get("Boot") or {}
        return self.boot_override and "BootSourceOverrideTarget" in boot


@register
class GenericProfile(Profile):
    pass


def _cray_enclosure(managers):
    return any(m.get("Id") == "BMC" and m.get("ManagerType") == "EnclosureManager" for m in managers)


class _CrayEx(Profile):
    """What HPE Cray EX controllers share: the BMC is the manager ``BMC`` (an enclosure manager), no boot override."""

    boot_override = False

    def bmc_managers(self, bmc, managers):
        return [m for m in managers if m.get("Id") == "BMC"]


@register
class CrayExNodeCard(_CrayEx):
    name = "cray_ex_nc"
    description = ("HPE Cray EX node card BMC (nC): systems Node0..NodeN, the BMC is the enclosure manager, "
                   "no BootSourceOverride (boot order only), HSN NICs without MAC skipped, 'Off' reset type")

    @classmethod
    def score(cls, root, systems, managers):
        if systems and _cray_enclosure(managers) and all(str(s.get("Id", "")).startswith("Node") for s in systems):
            return 10
        return 0


@register
class CrayExChassisController(_CrayEx):
    name = "cray_ex_cc"
    description = ("HPE Cray EX chassis controller (cC): no systems, blades and peripherals as chassis with "
                   "their own Reset; the BMC is the enclosure manager")
    chassis = True

    @classmethod
    def score(cls, root, systems, managers):
        if not systems and _cray_enclosure(managers) and "Systems" not in root:
            return 10
        return 0

    def node_systems(self, bmc, systems):
        return []


@register
class Gigabyte(Profile):
    name = "gigabyte"
    description = ("Gigabyte (AMI MegaRAC) BMC: one system 'Self', the BMC NIC is bond0 (usb0 is the host "
                   "interface, link-local, skipped), full BootSourceOverride with UEFI/Legacy mode")

    @classmethod
    def score(cls, root, systems, managers):
        vendor = str(root.get("Vendor") or "").lower()
        makers = set(str(s.get("Manufacturer") or "").lower() for s in systems)
        if "gigabyte" in makers or (vendor == "ami" and "gigabyte" in makers):
            return 10
        if vendor == "ami":
            return 5
        return 0


def choose_profile(root, systems, managers, forced=None):
    """The registered profile for this BMC: ``forced`` by name, or the best score."""
    if forced and forced != "auto":
        if forced not in PROFILES:
            raise BmcError("unknown Redfish profile %r (known: %s)" % (forced, ", ".join(sorted(PROFILES))))
        return PROFILES[forced]()
    best = max(PROFILES.values(), key=lambda cls: cls.score(root, systems, managers))
    return best()


# ---------------------------------------------------------------------- discovery

def probe(address, port=443, timeout=3.0):
    """TCP connect to the BMC (through the transport's :func:`tcp_probe`); the error text if it fails, else None."""
    host = address.split("://", 1)[-1].split("/", 1)[0]
    if host.startswith("["):
        host, _sep, rest = host[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif host.count(":") == 1:
        host, port = host.split(":")[0], int(host.split(":")[1])
    return tcp_probe(host, port, timeout)


def collect(bmc, profile_name=None, chassis=False):
    """Read one BMC: profile, systems (nodes), managers, NICs, firmware, and the chassis where the profile needs
    them or ``chassis`` is true.

    Returns a dict with ``profile``, ``systems`` (SMD inventory entries of the nodes, in n0.. order),
    ``managers`` (SMD inventory entries of the BMC), ``bmc_mac``, ``bmc_ip``, ``firmware``, ``chassis``.
    """
    root = bmc.root()
    bmc.login()
    systems = bmc.members(root.get("Systems") or {})
    managers = bmc.members(root.get("Managers") or {})
    profile = choose_profile(root, systems, managers, profile_name)
    chassis = bmc.members(root.get("Chassis") or {}) if (chassis or profile.chassis) else []
    nodes = []
    for system in profile.node_systems(bmc, systems):
        # SMD tells nodes apart by UUID; a system without one gets a name-based UUID of its BMC and path
        ident = system.get("UUID") or str(uuid.uuid5(uuid.NAMESPACE_URL, "redfish://%s%s" % (
            bmc.address, system.get("@odata.id") or "")))
        entry = {"uri": system.get("@odata.id"), "uuid": ident, "name": system.get("Id") or "",
                 "manufacturer": system.get("Manufacturer") or "", "model": system.get("Model") or "",
                 "system_type": system.get("SystemType") or "", "serial": system.get("SerialNumber") or "",
                 "bios_version": system.get("BiosVersion") or "",
                 "actions": bmc.allowed_values(system, _action_name(system, "Reset") or "") or [],
                 "ethernet_interfaces": profile.nics(bmc, system),
                 "power": {"state": system.get("PowerState") or ""}}
        links = system.get("Links") or {}
        linked = [c.get("@odata.id") for c in links.get("Chassis") or [] if c.get("@odata.id")]
        if linked:
            entry["links"] = {"chassis": linked}
        nodes.append(entry)
    own = []
    for manager in profile.bmc_managers(bmc, managers):
        own.append({"uri": manager.get("@odata.id"), "uuid": manager.get("UUID") or "",
                    "name": manager.get("Id") or "", "model": manager.get("Model") or "",
                    "type": manager.get("ManagerType") or "", "firmware_version": manager.get("FirmwareVersion") or "",
                    "actions": bmc.allowed_values(manager, _action_name(manager, "Reset") or "") or [],
                    "ethernet_interfaces": profile.bmc_nics(bmc, manager)})
    bmc_nics = [nic for manager in own for nic in manager["ethernet_interfaces"]]
    firmware = dict((m.get("Id") or m.get("@odata.id"), m.get("FirmwareVersion")) for m in managers
                    if m.get("FirmwareVersion"))
    return {"profile": profile.name, "systems": nodes, "managers": own,
            "bmc_mac": bmc_nics[0]["mac"] if bmc_nics else None,
            "bmc_ip": next((nic["ip"] for nic in bmc_nics if nic.get("ip")), None),
            "firmware": firmware,
            "chassis": [{"uri": c.get("@odata.id"), "type": c.get("ChassisType"), "power_state": c.get("PowerState")}
                        for c in chassis]}


def run_many(func, items, workers):
    """``func(item)`` for every item, at most ``workers`` at once; results in input order, an exception in
    place of its result (one BMC never aborts the others). The transport's :func:`each`."""
    return each(func, items, workers)


def expand_targets(targets):
    """Targets (host, IP, CIDR, or dict with ``address``) -> list of dicts with ``address``; CIDRs expanded."""
    out = []
    for index, target in enumerate(targets):
        item = dict(target) if isinstance(target, dict) else {"address": target}
        address = str(item.get("address") or "").strip()
        if not address:
            raise ValueError("target %d has no address" % index)
        if "/" in address and "://" not in address:
            try:
                network = ipaddress.ip_network(address, strict=False)
            except ValueError:
                raise ValueError("target %d: %r is not a valid CIDR" % (index, address))
            if network.num_addresses > 65536:
                raise ValueError("target %d: %s has more than 65536 addresses" % (index, address))
            hosts = list(network.hosts()) if network.num_addresses > 2 else list(network)
            for host in hosts:
                entry = dict(item)
                entry["address"] = str(host)
                out.append(entry)
        else:
            item["address"] = address
            out.append(item)
    return out


# ---------------------------------------------------------------------- acting on many systems

def select_systems(params, smd_api=None):
    """What ``nodes``/``targets`` name, as ``{BMC address: [system, ...]}`` with ``name``, ``uri``, ``user``, ``password``.

    ``nodes`` are looked up in SMD with two requests whatever their number (component endpoints and Redfish
    endpoints: BMC address, system path, credentials); ``targets`` are BMC addresses (every node system of the
    BMC, by its profile) or dicts with ``address`` and ``system`` (Id or path), ``user``, ``password``.
    Raises ValueError listing every node SMD does not know.
    """
    by_bmc = {}
    if params.get("nodes"):
        wanted = []
        errors = []
        for value in params["nodes"]:
            try:
                wanted.append(smd.check_xname(value))
            except ValueError as exc:
                errors.append("nodes: %s" % exc)
        if errors:
            raise ValueError("; ".join(errors))
        endpoints, bmcs = smd.parallel(lambda call: call(), [smd_api.component_endpoints, smd_api.redfish_endpoints])
        systems = dict((e.get("ID"), e) for e in endpoints if e.get("RedfishType") == "ComputerSystem")
        bmcs = dict((b.get("ID"), b) for b in bmcs)
        missing = [x for x in wanted if x not in systems]
        if missing:
            raise ValueError("nodes: not in SMD as Redfish systems (discover them first): %s" % ", ".join(missing[:50]))
        for node in wanted:
            endpoint = systems[node]
            bmc = bmcs.get(endpoint.get("RedfishEndpointID")) or {}
            address = endpoint.get("RedfishEndpointFQDN") or bmc.get("FQDN")
            by_bmc.setdefault(address, []).append({
                "name": node, "uri": endpoint.get("OdataID"),
                "user": params.get("bmc_user") or bmc.get("User"),
                "password": params.get("bmc_password") or bmc.get("Password")})
    for index, target in enumerate(expand_targets(params.get("targets") or [])):
        system = target.get("system")
        uri = None
        if system:
            uri = system if str(system).startswith("/") else "%s/Systems/%s" % (ROOT, system)
        by_bmc.setdefault(target["address"], []).append({
            "name": target.get("name") or ("%s%s" % (target["address"], (":" + str(system)) if system else "")),
            "uri": uri, "user": target.get("user"), "password": target.get("password")})
    return by_bmc


def _result(entry, address, status="ok", message=None):
    out = {"name": entry["name"], "bmc": address, "uri": entry.get("uri"), "status": status}
    if message is not None:
        out["message"] = message
    return out


def for_each_system(params, by_bmc, action, log=None):
    """``action(bmc, system_resource, entry) -> dict`` for every selected system; BMCs in parallel, systems of one
    BMC one after the other over one session. Returns one result dict per system (``name``, ``status`` and what
    ``action`` returned), a BMC that fails giving ``status: failed`` with its message for each of its systems.
    """
    def one_bmc(item):
        address, entries = item
        first = entries[0]
        out = []
        try:
            with bmc_from_params(params, address, first.get("user"), first.get("password"), log=log) as bmc:
                bmc.login()
                expanded = []
                for entry in entries:
                    if entry.get("uri"):
                        expanded.append(entry)
                        continue
                    root = bmc.root()
                    systems = bmc.members(root.get("Systems") or {})
                    profile = choose_profile(root, systems, bmc.members(root.get("Managers") or {}), params.get("profile"))
                    for system in profile.node_systems(bmc, systems):
                        expanded.append(dict(entry, uri=system["@odata.id"],
                                             name="%s:%s" % (address, system.get("Id") or system["@odata.id"])))
                for entry in expanded:
                    try:
                        result = _result(entry, address)
                        result.update(action(bmc, bmc.get(entry["uri"], cache=False), entry))
                    except (ApiError, BmcError) as exc:
                        result = _result(entry, address, "failed", str(exc))
                    out.append(result)
        except (ApiError, BmcError) as exc:
            done = set(r["name"] for r in out)
            out.extend(_result(e, address, "failed", str(exc)) for e in entries if e["name"] not in done)
        return out
    results = run_many(one_bmc, sorted(by_bmc.items()), params.get("workers") or 32)
    flat = []
    for (address, entries), result in zip(sorted(by_bmc.items()), results):
        if isinstance(result, Exception):
            flat.extend(_result(e, address, "failed", "%s: %s" % (type(result).__name__, result)) for e in entries)
        else:
            flat.extend(result)
    return flat


def follow_up(params, by_bmc, results, action):
    """A second pass of ``action`` over the systems whose result says ``changed`` and ``ok``; updates ``results``."""
    todo = {}
    for result in results:
        if result.get("changed") and result["status"] == "ok":
            creds = by_bmc[result["bmc"]][0]
            todo.setdefault(result["bmc"], []).append({"name": result["name"], "uri": result["uri"],
                                                       "user": creds.get("user"), "password": creds.get("password")})
    if not todo:
        return results
    later = dict((r["name"], r) for r in for_each_system(params, todo, action))
    for result in results:
        extra = later.get(result["name"])
        if extra is not None:
            extra = dict(extra)
            extra.pop("uri", None)
            extra.pop("bmc", None)
            result.update(extra)
    return results


def wait_power_state(bmc, uri, wanted, deadline, interval=1.0):
    """Poll ``PowerState`` of ``uri`` until it is ``wanted`` or ``deadline`` (monotonic) passes; returns the last state."""
    state = None
    while True:
        state = bmc.power_state(uri)
        if state == wanted or time.monotonic() >= deadline:
            return state
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


# One-time boot targets (module vocabulary -> Redfish BootSourceOverrideTarget) and the words that name them
# in boot option names, for BMCs without BootSourceOverride (boot order instead).
BOOT_TARGETS = {"pxe": "Pxe", "http": "UefiHttp", "hdd": "Hdd", "cd": "Cd", "usb": "Usb", "bios": "BiosSetup",
                "none": "None"}
BOOT_WORDS = {"pxe": ("pxe",), "http": ("http",), "hdd": ("hdd", "disk", "nvme", "sata", "ssd"), "cd": ("cd", "dvd"),
              "usb": ("usb",), "bios": ("setup", "bios")}


def boot_option_labels(bmc, system):
    """BootOrder references -> readable labels (the reference, plus the option's DisplayName and Alias)."""
    boot = system.get("Boot") or {}
    labels = dict((ref, ref) for ref in boot.get("BootOrder") or [])
    if boot.get("BootOptions"):
        try:
            for option in bmc.members(boot["BootOptions"]):
                ref = option.get("BootOptionReference")
                if ref in labels:
                    labels[ref] = " ".join(str(x) for x in (ref, option.get("DisplayName"), option.get("Alias")) if x)
        except ApiError:
            pass
    return labels


def boot_order_with_first(bmc, system, target):
    """The BootOrder with the first option naming ``target`` moved to the front; None if no option names it."""
    order = list((system.get("Boot") or {}).get("BootOrder") or [])
    labels = boot_option_labels(bmc, system)
    for ref in order:
        label = labels.get(ref, ref).lower()
        if any(word in label for word in BOOT_WORDS.get(target, ())):
            return [ref] + [other for other in order if other != ref]
    return None
