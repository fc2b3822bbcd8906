# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of Redfish discovery: read BMCs, plan what SMD gets (endpoints with inventory, BMC components,
interfaces SMD's parser skips). A client layer file: no AnsibleModule; the module glue is ``discovery.main``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.cscs.openchami.plugins.module_utils import redfish, resource, smd, xname
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError


def xname_of(target, xname_map):
    """The target's BMC xname by the documented rule, normalised; None if there is none."""
    given = target.get("xname") or xname_map.get(target["address"])
    if given:
        return smd.check_xname(given)
    host = target["address"].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    label = host.split(".", 1)[0]
    return xname.normalize(label) if xname.is_valid(label) else None


def address_with_port(address, port):
    """``address`` with ``:port`` added unless it has one or the port is 443 (IPv6 addresses bracketed)."""
    host = address.split("://", 1)[-1]
    if ":" in host.split("]")[-1] and host.count(":") == 1:
        return address
    try:
        if ipaddress.ip_address(host).version == 6:
            return "[%s]:%d" % (host, port) if port != 443 else "[%s]" % host
    except ValueError:
        pass
    return address if port == 443 else "%s:%d" % (address, port)


def discover_one(params, target, log=None):
    """Read one BMC; returns (report, what collect() found or None, HTTP requests sent to the BMC)."""
    report = {"address": target["address"], "xname": target.get("_xname"), "status": "ok"}
    where = address_with_port(target["address"], params["port"])
    problem = redfish.probe(where, params["port"])
    if problem:
        report.update(status="unreachable", message=problem)
        return report, None, 0
    bmc = redfish.bmc_from_params(params, where, target.get("user"), target.get("password"), log=log)
    try:
        with bmc:
            try:
                bmc.root()
            except ApiError as exc:
                if exc.kind == "tls":  # it answered, but its certificate does not verify
                    report.update(status="tls_failed", message=str(exc))
                else:
                    report.update(status="unreachable", message="no Redfish service root: %s" % exc)
                return report, None, bmc.request_count
            found = redfish.collect(bmc, target.get("profile") or params["profile"], params["collect_chassis"])
    except ApiError as exc:
        status = "tls_failed" if exc.kind == "tls" else "auth_failed" if exc.status in (401, 403) else "error"
        report.update(status=status, message=str(exc))
        return report, None, bmc.request_count
    except redfish.BmcError as exc:
        report.update(status="error", message=str(exc))
        return report, None, bmc.request_count
    report.update(profile=found["profile"], bmc_mac=found["bmc_mac"], firmware=found["firmware"])
    if found["chassis"]:
        report["chassis"] = found["chassis"]
    if not report["xname"]:
        report.update(status="no_xname", message="no xname for %s: give it in the target, in xname_map, or use a "
                                                 "host name that is an xname" % target["address"])
    else:
        problem = type_problem(report["xname"], found)
        if problem:
            report.update(status="error", message=problem)
    return report, found, bmc.request_count


def is_node_bmc(bmc_xname):
    return xname.xname_type(bmc_xname) == "NodeBMC"


def type_problem(bmc_xname, found):
    """Why the BMC's xname and its Redfish answer disagree on what it is (None if they agree).

    SMD names nodes ``<bmc>n<i>``, which only exists below a node BMC; a chassis controller (no systems, an
    enclosure manager) mapped to a node BMC's xname would be registered as one.
    """
    kind = xname.xname_type(bmc_xname)
    if found["systems"] and kind != "NodeBMC":
        return ("%s is a %s xname, but the BMC has %d system(s) (nodes), which SMD can only register below a node "
                "BMC (xXcCsSbB); check xname_map" % (bmc_xname, kind, len(found["systems"])))
    controller = not found["systems"] and any(m.get("type") == "EnclosureManager" for m in found["managers"])
    if controller and kind == "NodeBMC":
        return ("%s is a NodeBMC xname, but the BMC is a chassis controller (no systems, an enclosure manager, "
                "profile %s); give it a chassis BMC xname (xXcCbB); check xname_map" % (bmc_xname, found["profile"]))
    return None


def endpoint_for(params, target, report, found):
    """The SMD Redfish endpoint (with inventory) of one discovered BMC."""
    entry = {"ID": report["xname"], "FQDN": target["address"], "Enabled": True,
             "User": target.get("user") or params.get("bmc_user") or "",
             "Password": target.get("password") or params.get("bmc_password") or ""}
    try:
        entry["IPAddress"] = str(ipaddress.ip_address(target["address"]))
    except ValueError:
        if found.get("bmc_ip"):
            entry["IPAddress"] = found["bmc_ip"]
    if found.get("bmc_mac"):
        entry["MACAddr"] = found["bmc_mac"]
    # SMD's inventory parser refuses NICs without an address: those are registered as interfaces instead
    systems = [dict(s, ethernet_interfaces=[n for n in s["ethernet_interfaces"] if n.get("ip")]) for s in found["systems"]]
    managers = [dict(m, ethernet_interfaces=[n for n in m["ethernet_interfaces"] if n.get("ip")])
                for m in found["managers"]] if is_node_bmc(report["xname"]) else []
    # SMD's parser types every manager NodeBMC: other BMCs (a chassis controller) are registered by
    # apply_bmc_components with the type of their xname, and their NICs by extra_interfaces
    entry["Inventory"] = {"Systems": systems, "Managers": managers}
    return entry


def extra_interfaces(report, found):
    """SMD interfaces for the NICs SMD's inventory parser skips (no IPv4 shown by the BMC)."""
    out = []
    for index, system in enumerate(found["systems"]):
        for nic in system["ethernet_interfaces"]:
            if not nic.get("ip"):
                out.append({"MACAddress": nic["mac"], "ComponentID": "%sn%d" % (report["xname"], index),
                            "Description": nic.get("description") or nic.get("name") or ""})
    for manager in found["managers"]:
        for nic in manager["ethernet_interfaces"]:
            if not nic.get("ip"):
                out.append({"MACAddress": nic["mac"], "ComponentID": report["xname"],
                            "Description": nic.get("description") or nic.get("name") or ""})
            elif not is_node_bmc(report["xname"]):
                out.append({"MACAddress": nic["mac"], "ComponentID": report["xname"],
                            "Description": nic.get("description") or nic.get("name") or "",
                            "IPAddresses": [{"IPAddress": nic["ip"], "Network": ""}]})
    return out


def apply_bmc_components(api, ids, check_mode):
    """Register the BMCs that are not node BMCs (a chassis controller) as components of their xname's type.

    SMD's inventory parser would type them NodeBMC. A component of the wrong type (registered so before)
    is replaced, and the NodeBMC component endpoint SMD's parser made for it is removed.
    """
    current = api.components(id=ids)
    desired = [{"ID": i, "Type": xname.xname_type(i)} for i in ids]
    the_plan = resource.plan(desired, current, "ID")

    def create(changes):
        api.upsert_components([{"ID": c.key, "State": "Ready", "Flag": "OK"} for c in changes])

    def update(changes):
        for change in changes:
            api.client.delete("/Inventory/ComponentEndpoints/%s" % change.key, expect=(200, 204, 404))
        api.delete_components([c.key for c in changes])
        create(changes)
    resource.apply(the_plan, check_mode, create=create, update=update)
    return the_plan


def nid_collisions(api, nodes):
    """{NID: [xnames]} of the NIDs that one of ``nodes`` shares with another node in SMD (one request)."""
    holders = {}
    for comp in api.components(type="Node"):
        if comp.get("NID") not in (None, ""):
            holders.setdefault(comp["NID"], []).append(comp["ID"])
    wanted = set(nodes)
    return dict((nid, sorted(ids, key=xname.natural_key)) for nid, ids in holders.items()
                if len(ids) > 1 and wanted.intersection(ids))


def mac_clash(report, found, owners):
    """A message if a MAC of this BMC was already reported by another BMC of this run (else None; MACs recorded).

    SMD keys interfaces by MAC: two BMCs claiming one MAC would overwrite each other on every run.
    """
    macs = [n["mac"] for part in ("systems", "managers") for entry in found[part] for n in entry["ethernet_interfaces"]]
    for mac in macs:
        if owners.get(mac, report["xname"]) != report["xname"]:
            return "MAC %s is also reported by BMC %s; this BMC is not written (check the hardware)" % (mac, owners[mac])
    for mac in macs:
        owners[mac] = report["xname"]
    return None


def checked_targets(params):
    """The expanded targets, each with its xname (``_xname``); every target, xname and profile is checked before
    any BMC is contacted, and one :class:`resource.ValidationError` names every bad one."""
    try:
        targets = redfish.expand_targets(params["targets"])
    except ValueError as exc:
        raise resource.ValidationError([str(exc)])
    errors = []
    for key, value in params["xname_map"].items():
        try:
            smd.check_xname(value)
        except ValueError as exc:
            errors.append("xname_map[%s]: %s" % (key, exc))
    for target in targets:
        try:
            target["_xname"] = xname_of(target, params["xname_map"])
        except ValueError as exc:
            errors.append("target %s: xname: %s" % (target["address"], exc))
        profile = target.get("profile") or params["profile"]
        if profile != "auto" and profile not in redfish.PROFILES:
            errors.append("target %s: profile: unknown profile %r (known: %s)"
                          % (target["address"], profile, ", ".join(sorted(redfish.PROFILES))))
    if errors:
        raise resource.ValidationError(errors)
    return targets


def discover(params, targets, smd_api, check_mode):
    """Read every target's BMC and (with ``push``) plan and apply SMD's side; nothing is written in check mode.

    ``smd_api()`` gives the :class:`smd.SMD` client (asked for only when there is something to push). Returns
    the module result without its ``bmcs`` failures judged, the endpoints (with passwords, for ``dest`` to strip)
    and warnings.
    """
    answers = redfish.run_many(lambda t: discover_one(params, t), targets, params["workers"])
    reports, endpoints, interfaces, requests, owners, warnings = [], [], [], 0, {}, []
    for target, answer in zip(targets, answers):
        if isinstance(answer, Exception):
            reports.append({"address": target["address"], "xname": target.get("_xname"), "status": "error",
                            "message": "%s: %s" % (type(answer).__name__, answer)})
            continue
        report, found, count = answer
        requests += count
        if found is not None:
            report["nodes"] = [{"xname": "%sn%d" % (report["xname"], i) if report["xname"] else None,
                                "uuid": s["uuid"], "macs": [n["mac"] for n in s["ethernet_interfaces"]]}
                               for i, s in enumerate(found["systems"])]
        if found is not None and report["status"] == "ok":
            clash = mac_clash(report, found, owners)
            if clash:
                report.update(status="error", message=clash)
        if found is not None and report["status"] == "ok":
            endpoints.append(endpoint_for(params, target, report, found))
            interfaces.extend(extra_interfaces(report, found))
        reports.append(report)
    endpoints = smd.ENDPOINT.check(endpoints, what="endpoint")
    out = {"changed": False, "diff": {"before": {}, "after": {}}}
    counts = {}
    for report in reports:
        counts[report["status"]] = counts.get(report["status"], 0) + 1
    if params["push"] and endpoints:
        api = smd_api()
        plan = smd.apply_redfish_endpoints(api, endpoints, "present", params["update_password"], check_mode)
        out = smd.endpoint_result(plan)
        out.pop("endpoints", None)
        others = [e["ID"] for e in endpoints if not is_node_bmc(e["ID"])]
        if others:
            bmcs = apply_bmc_components(api, others, check_mode)
            out["changed"] = out["changed"] or bmcs.changed
            out["summary"]["bmc_components"] = bmcs.summary()
        extra = smd.apply_interfaces(api, interfaces, "present", check_mode) if interfaces else None
        if extra is not None and extra.changed:
            out["changed"] = True
            out["summary"]["interfaces"] = extra.summary()
        nodes = [n["xname"] for r in reports if r["status"] == "ok" for n in r.get("nodes") or []]
        if nodes and not check_mode:
            shared = nid_collisions(api, nodes)
            for nid in sorted(shared):
                warnings.append("NID %s is shared by %s: SMD numbers the nodes of each BMC from 1; set distinct "
                                "NIDs, for example with cscs.openchami.smd_component" % (nid, ", ".join(shared[nid])))
            out["nid_collisions"] = dict((str(nid), ids) for nid, ids in shared.items())
    out.setdefault("summary", {})
    out["summary"]["bmcs"] = counts
    out["bmcs"] = reports
    out["requests"] = requests
    return out, endpoints, warnings
