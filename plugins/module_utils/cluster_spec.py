# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster spec: a cluster described as data (YAML), its JSON Schema, templates, validation, expansion.

A spec is a mapping (one YAML file, or a directory of ``*.yml``/``*.yaml`` files whose top-level keys are merged,
lists concatenated: a snapshot is one file per kind). :func:`expand` turns it into the desired state of each kind
the spec names, in the vocabulary of the services (SMD field names, the boot engine's per-node items, the
cloud-init server's fields); a kind the spec does not name is not managed at all. Every problem is reported with
the path of the item in the spec (``hardware[2].nid.start``), all of them at once, in one ValidationError.

The schema (:data:`SCHEMA`) is published as ``meta/cluster-spec.schema.json`` (a unit test keeps both equal). It is
checked here by :func:`schema_errors`, a small validator of the JSON Schema keywords the schema uses, so that the
modules need no library beyond PyYAML on the host that runs them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.cscs.openchami.plugins.module_utils import boot, resource, smd, xname
from ansible_collections.cscs.openchami.plugins.module_utils.cloudinit import (
    DEFAULTS, CloudConfigError, validate_cloud_config)

SCHEMA_ID = "https://github.com/cscs/openchami/meta/cluster-spec.schema.json"
KINDS = ("components", "interfaces", "partitions", "groups", "boot", "cloud_init_defaults", "cloud_init_groups")
# spec key -> SMD component field
COMPONENT_KEYS = (("role", "Role"), ("subrole", "SubRole"), ("state", "State"), ("flag", "Flag"),
                  ("enabled", "Enabled"), ("software_status", "SoftwareStatus"), ("arch", "Arch"),
                  ("class", "Class"), ("net_type", "NetType"))
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

_STR = {"type": "string"}
_PATTERNS = {"oneOf": [{"type": "string", "minLength": 1},
                       {"type": "array", "items": {"type": "string", "minLength": 1}}]}
_INT_OR_VAR = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\$\{[A-Za-z_]\w*\}$"}]}
_SELECT = {"type": "object", "additionalProperties": False,
           "properties": {"role": _STR, "subrole": _STR, "type": _STR}}
_IP = {"type": "object", "additionalProperties": False, "required": ["ip"],
       "properties": {"ip": _STR, "network": _STR}}
_INTERFACE = {"type": "object", "additionalProperties": False, "required": ["mac"],
              "properties": {"mac": _STR, "ip": _STR, "network": _STR, "description": _STR,
                             "ips": {"type": "array", "items": _IP}}}
_HARDWARE = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "template": _STR,
        "vars": {"type": "object"},
        "xname": _STR,
        "xnames": _PATTERNS,
        "role": _STR, "subrole": _STR, "state": _STR, "flag": _STR, "enabled": {"type": "boolean"},
        "software_status": _STR, "arch": _STR, "class": _STR, "net_type": _STR,
        "nid": {"oneOf": [_INT_OR_VAR, {"type": "object", "additionalProperties": False, "required": ["start"],
                                        "properties": {"start": _INT_OR_VAR, "step": {"type": "integer", "minimum": 1}}}]},
        "interfaces": {"type": "array", "items": _INTERFACE},
        "mac": {"type": "object", "additionalProperties": False, "required": ["start"],
                "properties": {"start": _STR, "step": {"type": "integer", "minimum": 1}}},
        "ip": {"type": "object", "additionalProperties": False, "required": ["start"],
               "properties": {"start": _STR, "step": {"type": "integer", "minimum": 1}, "network": _STR}},
    },
}
_SET = {"type": "object", "additionalProperties": False,
        "properties": {"description": _STR, "tags": {"type": "array", "items": _STR}, "members": _PATTERNS,
                       "select": _SELECT}}
_GROUP = dict(_SET, required=["label"], properties=dict(_SET["properties"], label=_STR, exclusive_group=_STR))
_PARTITION = dict(_SET, required=["name"], properties=dict(_SET["properties"], name=_STR))
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "cscs.openchami cluster spec",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "instance": _STR,
        "description": _STR,
        # other spec files (paths relative to this file) merged before it: shared templates, site defaults
        "include": {"type": "array", "items": _STR},
        "templates": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False, "required": ["hardware"],
            "properties": {"description": _STR, "parameters": {"type": "array", "items": _STR},
                           "defaults": {"type": "object"}, "hardware": {"type": "array", "items": _HARDWARE}}}},
        "hardware": {"type": "array", "items": _HARDWARE},
        "interfaces": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["mac", "component"],
            "properties": {"mac": _STR, "component": _STR, "description": _STR,
                           "ips": {"type": "array", "items": _IP}}}},
        "groups": {"type": "array", "items": _GROUP},
        "partitions": {"type": "array", "items": _PARTITION},
        "boot": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["kernel"],
            "properties": {"group": _STR, "nodes": _PATTERNS, "select": _SELECT,
                           "kernel": _STR, "initrd": _STR, "params": _STR}}},
        "cloud_init": {"type": "object", "additionalProperties": False, "properties": {
            "defaults": {"type": "object", "additionalProperties": False,
                         "properties": dict((f.option, {"type": "array", "items": _STR} if f.spec["type"] == "list"
                                             else {"type": "integer"} if f.spec["type"] == "int" else _STR)
                                            for f in DEFAULTS.fields)},
            "groups": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["name"],
                "properties": {"name": _STR, "description": _STR, "meta_data": {"type": "object"},
                               "content": _STR}}}}},
        # written by cluster_snapshot (when, who, instance, service versions); never applied
        "snapshot": {"type": "object"},
    },
}


# ---------------------------------------------------------------- the schema validator

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _is_type(value, kind):
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def schema_errors(value, schema=None, path=""):
    """Every place where ``value`` breaks ``schema`` (default :data:`SCHEMA`), as ``path: problem`` strings.

    Handles the keywords the cluster schema uses: type, properties, required, additionalProperties, items, enum,
    pattern, minimum, minLength, oneOf.
    """
    schema = SCHEMA if schema is None else schema
    where = path or "the spec"
    if "oneOf" in schema:
        alternatives = _alternatives(schema)
        matches = [s for s in alternatives if not schema_errors(value, s, path)]
        if len(matches) == 1:
            return []
        candidates = [s for s in alternatives if _is_type(value, s["type"])]
        if len(candidates) == 1:  # one alternative of the right type: its own errors say more
            return schema_errors(value, candidates[0], path)
        return ["%s: %s does not match any allowed form (%s)" % (
            where, _show(value), " or ".join(sorted(set(s["type"] for s in alternatives))))]
    kind = schema.get("type")
    if kind and not _is_type(value, kind):
        return ["%s: must be %s %s, not %s" % (where, "an" if kind[0] in "aeiou" else "a", kind, _show(value))]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %s is not one of %s" % (where, _show(value), ", ".join(map(str, schema["enum"]))))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append("%s: %s does not match %s" % (where, _show(value), schema["pattern"]))
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append("%s: must not be empty" % where)
    if "minimum" in schema and value < schema["minimum"]:
        errors.append("%s: %s is below the minimum %s" % (where, value, schema["minimum"]))
    if kind == "object":
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append("%s: %s is required" % (where, name))
        extra = schema.get("additionalProperties", True)
        for name in sorted(value, key=str):
            sub = "%s.%s" % (path, name) if path else str(name)
            if name in props:
                errors.extend(schema_errors(value[name], props[name], sub))
            elif extra is False:
                errors.append("%s: unknown key (expected one of %s)" % (sub, ", ".join(sorted(props))))
            elif isinstance(extra, dict):
                errors.extend(schema_errors(value[name], extra, sub))
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            errors.extend(schema_errors(item, schema["items"], "%s[%d]" % (path, index)))
    return errors


def _alternatives(schema):
    """The alternatives of a ``oneOf``, nested ones flattened (each has a ``type`` in this schema)."""
    out = []
    for alternative in schema["oneOf"]:
        out.extend(_alternatives(alternative) if "oneOf" in alternative else [alternative])
    return out


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- reading

def load(path):
    """The spec at ``path``: a YAML file, or a directory whose ``*.yml``/``*.yaml`` files are merged in name order
    (mappings merged, lists concatenated). ValueError names the file that cannot be read."""
    if not HAS_YAML:  # pragma: no cover
        raise ValueError("the Python library PyYAML is required to read a cluster spec")
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith((".yml", ".yaml")))
        if not files:
            raise ValueError("%s holds no *.yml or *.yaml file" % path)
    else:
        files = [path]
    spec = {}
    for name in files:
        merge_into(spec, _load_file(name, ()))
    return spec


def _load_file(name, seen):
    if name in seen:
        raise ValueError("%s includes itself (through %s)" % (name, " -> ".join(seen)))
    try:
        with open(name) as handle:
            data = yaml.safe_load(handle) or {}
    except (OSError, IOError, yaml.YAMLError) as exc:
        raise ValueError("cannot read the cluster spec %s: %s" % (name, exc))
    if not isinstance(data, dict):
        raise ValueError("%s must hold a mapping (the cluster spec), not a %s" % (name, type(data).__name__))
    includes = data.pop("include", None) or []
    if not isinstance(includes, list):
        raise ValueError("%s: include must be a list of file names" % name)
    spec = {}
    for other in includes:
        merge_into(spec, _load_file(os.path.join(os.path.dirname(name), str(other)), seen + (name,)))
    merge_into(spec, data)
    return spec


def merge_into(spec, data):
    for key, value in data.items():
        if isinstance(value, list) and isinstance(spec.get(key), list):
            spec[key] = spec[key] + value
        elif isinstance(value, dict) and isinstance(spec.get(key), dict):
            merge_into(spec[key], value)
        else:
            spec[key] = value


# ---------------------------------------------------------------- templates

def _substitute(value, variables, path, errors):
    if isinstance(value, dict):
        return dict((k, _substitute(v, variables, "%s.%s" % (path, k), errors)) for k, v in value.items())
    if isinstance(value, list):
        return [_substitute(v, variables, "%s[%d]" % (path, i), errors) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _VAR.fullmatch(value)
    if whole:
        if whole.group(1) not in variables:
            errors.append("%s: variable %s is not set" % (path, whole.group(1)))
            return value
        return variables[whole.group(1)]

    def one(match):
        if match.group(1) not in variables:
            errors.append("%s: variable %s is not set" % (path, match.group(1)))
            return match.group(0)
        return str(variables[match.group(1)])
    return _VAR.sub(one, value)


def instantiate(spec, errors):
    """The hardware entries with every template use replaced by the template's entries, variables substituted.

    Returns (path, entry) pairs; the path of an entry from a template names both places.
    """
    templates = spec.get("templates") or {}
    out = []
    for index, entry in enumerate(spec.get("hardware") or []):
        path = "hardware[%d]" % index
        if "template" not in entry:
            out.append((path, entry))
            continue
        name = entry["template"]
        template = templates.get(name)
        if template is None:
            errors.append("%s.template: no template %r (templates: %s)" % (
                path, name, ", ".join(sorted(templates)) or "none"))
            continue
        variables = dict(template.get("defaults") or {})
        variables.update(entry.get("vars") or {})
        missing = [p for p in template.get("parameters") or [] if p not in variables]
        if missing:
            errors.append("%s.vars: template %s needs %s" % (path, name, ", ".join(missing)))
            continue
        extra = set(entry) - set(("template", "vars"))
        if extra:
            errors.append("%s: a template use takes only template and vars, not %s" % (path, ", ".join(sorted(extra))))
        for sub, body in enumerate(template["hardware"]):
            where = "%s (template %s hardware[%d])" % (path, name, sub)
            out.append((where, _substitute(body, variables, where, errors)))
    return out


# ---------------------------------------------------------------- expansion

def _mac_at(start, offset):
    number = int(resource.normalize_mac(start).replace(":", ""), 16) + offset
    if number >= 1 << 48:
        raise ValueError("MAC rule starting at %s runs past ff:ff:ff:ff:ff:ff" % start)
    text = "%012x" % number
    return ":".join(text[i:i + 2] for i in range(0, 12, 2))


def _ip_at(start, offset):
    try:
        return str(ipaddress.ip_address(str(start).strip()) + offset)
    except (ValueError, ipaddress.AddressValueError) as exc:
        raise ValueError("IP rule starting at %s: %s" % (start, exc))


def _xnames(entry, path, errors):
    patterns = [entry["xname"]] if "xname" in entry else entry.get("xnames")
    if patterns is None:
        errors.append("%s: xname or xnames is required" % path)
        return []
    if "xname" in entry and "xnames" in entry:
        errors.append("%s: give xname or xnames, not both" % path)
    try:
        return xname.expand(patterns)
    except xname.XnameError as exc:
        errors.append("%s.%s: %s" % (path, "xname" if "xname" in entry else "xnames", exc))
        return []


def _ip_list(item, path, errors):
    ips = []
    if item.get("ip"):
        ips.append({"IPAddress": item["ip"], "Network": item.get("network") or ""})
    for ip in item.get("ips") or []:
        ips.append({"IPAddress": ip["ip"], "Network": ip.get("network") or ""})
    for index, ip in enumerate(ips):
        try:
            ip["IPAddress"] = resource.normalize_ip(ip["IPAddress"])
        except ValueError as exc:
            errors.append("%s.ips[%d]: %s" % (path, index, exc))
    return ips


def _interface(mac, component, ips, description, path, errors):
    try:
        mac = resource.normalize_mac(mac)
    except ValueError as exc:
        errors.append("%s.mac: %s" % (path, exc))
        return None
    item = {"MACAddress": mac, "ComponentID": component, "IPAddresses": ips}
    if description is not None:
        item["Description"] = description
    return item


def _expand_hardware(spec, errors):
    components, interfaces, where = [], [], {}
    for path, entry in instantiate(spec, errors):
        names = _xnames(entry, path, errors)
        base = dict((api, entry[key]) for key, api in COMPONENT_KEYS if key in entry)
        nid = entry.get("nid")
        if isinstance(nid, int) and len(names) > 1:
            errors.append("%s.nid: one number for %d xnames; give a rule such as nid: {start: %d}"
                          % (path, len(names), nid))
            nid = None
        if entry.get("interfaces") and len(names) > 1:
            errors.append("%s.interfaces: listed interfaces need a single xname (%d here); use the mac and ip rules"
                          % (path, len(names)))
        for offset, name in enumerate(names):
            if name in where:
                errors.append("%s: %s is also given at %s" % (path, name, where[name]))
                continue
            where[name] = path
            item = dict(base, ID=name)
            if isinstance(nid, int):
                item["NID"] = nid
            elif isinstance(nid, dict) and isinstance(nid.get("start"), int):
                item["NID"] = nid["start"] + offset * nid.get("step", 1)
            components.append(item)
            try:
                if "mac" in entry:
                    rule = entry["mac"]
                    ips = []
                    if "ip" in entry:
                        ips = [{"IPAddress": _ip_at(entry["ip"]["start"], offset * entry["ip"].get("step", 1)),
                                "Network": entry["ip"].get("network") or ""}]
                    interfaces.append({"MACAddress": _mac_at(rule["start"], offset * rule.get("step", 1)),
                                       "ComponentID": name, "IPAddresses": ips})
            except ValueError as exc:
                errors.append("%s: %s" % (path, exc))
        if "ip" in entry and "mac" not in entry:
            errors.append("%s.ip: an IP rule needs a mac rule (the IP belongs to an interface)" % path)
        for index, item in enumerate(entry.get("interfaces") or [] if len(names) == 1 else []):
            sub = "%s.interfaces[%d]" % (path, index)
            found = _interface(item["mac"], names[0], _ip_list(item, sub, errors), item.get("description"), sub,
                               errors)
            if found:
                interfaces.append(found)
    return components, interfaces


def _expand_interfaces(spec, errors):
    out = []
    for index, item in enumerate(spec.get("interfaces") or []):
        path = "interfaces[%d]" % index
        try:
            component = smd.check_xname(item["component"])
        except ValueError as exc:
            errors.append("%s.component: %s" % (path, exc))
            continue
        found = _interface(item["mac"], component, _ip_list(item, path, errors), item.get("description"), path,
                           errors)
        if found:
            out.append(found)
    return out


def _select(components, select):
    """The xnames of the spec's components that match ``select`` ({role, subrole, type}, case-insensitive)."""
    wanted = dict((k, str(v).lower()) for k, v in select.items())
    out = []
    for item in components:
        values = {"role": item.get("Role"), "subrole": item.get("SubRole"), "type": xname.xname_type(item["ID"])}
        if all(str(values[k] or "").lower() == v for k, v in wanted.items()):
            out.append(item["ID"])
    return out


def _members(entry, components, path, errors):
    names = []
    if entry.get("members") is not None:
        try:
            names.extend(xname.expand(entry["members"]))
        except xname.XnameError as exc:
            errors.append("%s.members: %s" % (path, exc))
    if entry.get("select"):
        names.extend(_select(components, entry["select"]))
    return sorted(set(names), key=xname.natural_key)


def _expand_sets(spec, kind, components, errors):
    key = "groups" if kind is smd.GROUPS else "partitions"
    out, seen = [], {}
    for index, entry in enumerate(spec.get(key) or []):
        path = "%s[%d]" % (key, index)
        try:
            name = kind.check_name(entry[kind.key])
        except ValueError as exc:
            errors.append("%s.%s: %s" % (path, kind.key, exc))
            continue
        if name in seen:
            errors.append("%s: %s %s is also given at %s" % (path, kind.noun, name, seen[name]))
            continue
        seen[name] = path
        item = {kind.key: name, "members": _members(entry, components, path, errors)}
        if "description" in entry:
            item["description"] = entry["description"]
        try:
            if "tags" in entry:
                item["tags"] = [smd.check_label(t) for t in entry["tags"]]
            if entry.get("exclusive_group"):
                item["exclusiveGroup"] = smd.check_label(entry["exclusive_group"])
        except ValueError as exc:
            errors.append("%s: %s" % (path, exc))
        out.append(item)
    return out


def _expand_boot(spec, components, groups, errors):
    by_label = dict((g["label"], g["members"]) for g in groups)
    out, owner = [], {}
    for index, entry in enumerate(spec.get("boot") or []):
        path = "boot[%d]" % index
        names = []
        if entry.get("group") is not None:
            if entry["group"].lower() not in by_label:
                errors.append("%s.group: %s is not a group of the spec" % (path, entry["group"]))
            names.extend(by_label.get(entry["group"].lower(), []))
        if entry.get("nodes") is not None:
            try:
                names.extend(xname.expand(entry["nodes"]))
            except xname.XnameError as exc:
                errors.append("%s.nodes: %s" % (path, exc))
        if entry.get("select"):
            names.extend(_select(components, entry["select"]))
        if not any(entry.get(k) is not None for k in ("group", "nodes", "select")):
            errors.append("%s: name the nodes with group, nodes or select" % path)
        try:
            boot.check_params(entry.get("params"))
        except resource.ValidationError as exc:
            errors.append("%s.%s" % (path, exc.errors[0]))
        for name in sorted(set(names), key=xname.natural_key):
            if xname.xname_type(name) != "Node":
                errors.append("%s: %s is a %s, not a node" % (path, name, xname.xname_type(name)))
                continue
            if name in owner:
                errors.append("%s: node %s already gets its boot configuration from %s" % (path, name, owner[name]))
                continue
            owner[name] = path
            out.append({"xname": name, "kernel": entry["kernel"], "initrd": entry.get("initrd") or "",
                        "params": entry.get("params") or ""})
    return out


def _expand_cloud_init(spec, errors):
    section = spec.get("cloud_init") or {}
    defaults = None
    if "defaults" in section:
        try:
            defaults = DEFAULTS.desired([section["defaults"]], what=None)[0]
        except resource.ValidationError as exc:
            errors.extend("cloud_init.defaults.%s" % e for e in exc.errors)
    groups, seen = [], set()
    for index, entry in enumerate(section.get("groups") or []):
        path = "cloud_init.groups[%d]" % index
        try:
            name = smd.check_label(entry["name"])
        except ValueError as exc:
            errors.append("%s.name: %s" % (path, exc))
            continue
        if name in seen:
            errors.append("%s: cloud-init group %s is given twice" % (path, name))
        seen.add(name)
        if entry.get("content"):
            try:
                validate_cloud_config(entry["content"])
            except CloudConfigError as exc:
                errors.append("%s.content: %s" % (path, exc))
        item = {"name": name}
        for field in ("description", "meta_data", "content"):
            if field in entry:
                item[field] = entry[field]
        groups.append(item)
    return defaults, groups


def _check_unique(components, interfaces, errors):
    nids = {}
    for item in components:
        if item.get("NID") is None:
            continue
        if item["NID"] in nids:
            errors.append("hardware: NID %d is given to %s and %s" % (item["NID"], nids[item["NID"]], item["ID"]))
        nids[item["NID"]] = item["ID"]
    macs = {}
    for item in interfaces:
        if item["MACAddress"] in macs:
            errors.append("interfaces: MAC %s is given to %s and %s" % (
                item["MACAddress"], macs[item["MACAddress"]], item["ComponentID"]))
        macs[item["MACAddress"]] = item["ComponentID"]
    for item in components:
        for key, field, check in (("state", "State", smd.enum_checker("state", smd.STATES)),
                                  ("flag", "Flag", smd.enum_checker("flag", smd.FLAGS))):
            if item.get(field) is not None:
                try:
                    item[field] = check(item[field])
                except ValueError as exc:
                    errors.append("hardware (%s): %s: %s" % (item["ID"], key, exc))


def expand(spec):
    """The desired state of each kind the spec names: {kind: items} (see :data:`KINDS`); ValidationError lists
    every problem with its path in the spec, nothing else is done."""
    errors = schema_errors(spec)
    if errors:
        raise resource.ValidationError(errors)
    desired = {}
    components, interfaces = _expand_hardware(spec, errors)
    if "hardware" in spec:
        desired["components"] = components
    if "hardware" in spec or "interfaces" in spec:
        interfaces = interfaces + _expand_interfaces(spec, errors)
        desired["interfaces"] = interfaces
    _check_unique(components, interfaces, errors)
    for kind, key in ((smd.PARTITIONS, "partitions"), (smd.GROUPS, "groups")):
        if key in spec:
            desired[key] = _expand_sets(spec, kind, components, errors)
    groups = desired.get("groups", [])
    if "boot" in spec:
        desired["boot"] = _expand_boot(spec, components, groups, errors)
    defaults, cloud_groups = _expand_cloud_init(spec, errors)
    if defaults is not None:
        desired["cloud_init_defaults"] = defaults
    if "groups" in (spec.get("cloud_init") or {}):
        desired["cloud_init_groups"] = cloud_groups
    if errors:
        raise resource.ValidationError(errors)
    return desired
