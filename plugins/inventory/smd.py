# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: smd
short_description: Hosts and groups from OpenCHAMI SMD, over one or several OpenCHAMI instances
version_added: 0.1.0
description:
  - Reads the components of one or more OpenCHAMI instances from SMD and turns them into hosts, with a lean set
    of host variables (xname, NID, role, subrole, state, enabled, architecture, C(ansible_host)); the other SMD
    fields, the SMD groups and partition, the interfaces and the BMC are opt-in with O(host_vars).
  - Costs four HTTP requests per instance (components with server-side filters, Ethernet interfaces,
    groups, partitions), all sent concurrently, whatever the number of nodes.
  - Groups are made from SMD groups, partitions, role, role and subrole, architecture, state and instance,
    plus the usual C(compose), C(groups) and C(keyed_groups).
  - Inventory files must end in C(.smd.yml) or C(.smd.yaml).
  - Every connection option can come from the environment (for example from an AWX custom credential).
  - Host names never silently merge two components. When a name is already taken (two nodes with one NID and
    O(hostnames=nid), a template giving one name twice, or the same xname in two instances), the first host (in xname order) keeps
    it and the next is named after its xname (within one instance) or C(<instance>_<name>) (across instances);
    a warning names both components, and both hosts are in the group C(hostname_collisions).
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - cscs.openchami.connection
options:
  plugin:
    description: Marks the file as this plugin's source.
    type: str
    required: true
    choices: [cscs.openchami.smd]
  instances:
    description:
      - OpenCHAMI instances to read (the fleet view). Each entry has a C(name) and any of the
        connection options, which override the top-level ones for that instance.
      - Without it, one instance is read with the top-level options, named after the cluster they resolve to
        (O(cluster), E(OPENCHAMI_CLUSTER) or the ochami configuration's default cluster), else V(default).
      - An instance that cannot be read gives a warning and the others still load, unless
        O(fail_on_instance_error=true).
    type: list
    elements: dict
    default: []
  fail_on_instance_error:
    description:
      - Fail the whole inventory when one of several O(instances) cannot be read, instead of warning and loading
        the others. A single instance that cannot be read always fails.
      - Not to be confused with O(strict), which is about C(compose), C(groups) and C(keyed_groups) only.
    type: bool
    default: false
  type:
    description: SMD component types to include.
    type: list
    elements: str
    default: [Node]
  role:
    description: Only these roles (server-side filter).
    type: list
    elements: str
    default: []
  subrole:
    description: Only these sub-roles.
    type: list
    elements: str
    default: []
  state:
    description: Only these states, for example V(Ready).
    type: list
    elements: str
    default: []
  arch:
    description: Only these architectures.
    type: list
    elements: str
    default: []
  class:
    description: Only these hardware classes.
    type: list
    elements: str
    default: []
  group:
    description: Only members of these SMD groups.
    type: list
    elements: str
    default: []
  partition:
    description: Only members of these SMD partitions.
    type: list
    elements: str
    default: []
  enabled:
    description: Only enabled (V(true)) or disabled (V(false)) components; both when unset.
    type: bool
  hostnames:
    description:
      - V(xname) names hosts by xname; V(nid) by NID alias (O(nid_prefix) + NID padded to O(nid_width)),
        falling back to the xname for a component without NID; V(template) renders O(hostname_template).
    type: str
    choices: [xname, nid, template]
    default: xname
  nid_width:
    description: Digits of the NID in V(nid) host names.
    type: int
    default: 6
  nid_prefix:
    description: Prefix of V(nid) host names.
    type: str
    default: nid
  hostname_template:
    description:
      - Jinja template for host names with O(hostnames=template); the host variables are available,
        for example V({{ smd_role | lower }}-{{ smd_nid }}).
    type: str
  vars_prefix:
    description: Prefix of the host variables made from SMD fields.
    type: str
    default: smd_
  ansible_host_networks:
    description:
      - C(ansible_host) is the first IP address on one of these networks (in this order) ...
    type: list
    elements: str
    default: []
  ansible_host_descriptions:
    description:
      - '... else the first IP address of an interface whose description is one of these ...'
    type: list
    elements: str
    default: []
  ansible_host_fallback:
    description:
      - '... else the first IPv4 address of the host''s interfaces (sorted by MAC) when V(true).'
      - A host with no matching address gets no C(ansible_host).
    type: bool
    default: true
  host_vars:
    description:
      - Which host variables each host gets besides the lean set every host has. The lean set is
        C(<prefix>id) (the xname), C(<prefix>nid), C(<prefix>role), C(<prefix>subrole), C(<prefix>state),
        C(<prefix>enabled), C(<prefix>arch) (each when SMD has the field) and C(ansible_host); C(<prefix>)
        is O(vars_prefix). C(openchami_instance) is a variable of the group C(instance_<name>).
      - V(component) adds the other SMD fields, C(<prefix>type), C(<prefix>class), C(<prefix>flag),
        C(<prefix>softwarestatus), C(<prefix>nettype) and C(<prefix>subtype).
      - V(membership) adds C(<prefix>groups) (the host's SMD group labels, sorted) and C(<prefix>partition)
        (its partition or V(null)); the same facts are always there as Ansible groups.
      - V(network) adds C(<prefix>interfaces) (per interface, sorted by MAC, C(mac), C(description) and
        C(ip_addresses), a list of C(address) and C(network)), C(<prefix>macs) and C(<prefix>ips).
      - V(bmc) adds C(<prefix>bmc), the xname of a node's BMC (V(null) for other components).
      - V(all) adds every set.
      - The cost is ansible-core's, which tags, copies and encodes every value of every host, and grows with the
        number of values. The lean set is 8 values per host; V(component) adds up to 6, V(membership) 2 plus one
        per SMD group, V(network) 3 lists with about 6 values per interface, V(bmc) 1. Measured with
        C(ansible-inventory --list) at 10,000 nodes with one interface each, V(all) took 1.9 times the CPU time of
        the lean set (C(benchmarks/README.md) in the collection's repository).
      - C(compose), C(groups), C(keyed_groups) and O(hostname_template) see every variable of every set
        whatever this option says, so expressions keep working; group names do not depend on it either.
    type: list
    elements: str
    default: []
  legacy_names:
    description:
      - Name hosts and groups as OpenCHAMI/ansible-smd-inventory does (V(nidNNNNNN), V(grp_<label>),
        V(prt_<name>)) and set its C(smd_component) variable, so existing playbooks keep working.
    type: bool
    default: false
"""

EXAMPLES = r"""
# alps.smd.yml - one instance, token from ALPS_ACCESS_TOKEN or ACCESS_TOKEN
plugin: cscs.openchami.smd
cluster_uri: https://alps.example.ch:8443
ca_path: /etc/pki/alps-ca.pem
role: [Compute]
hostnames: nid
ansible_host_networks: [nmn]
keyed_groups:
  - key: smd_class | lower
    prefix: class

# fleet.smd.yml - several instances, each a group (a second file):
# plugin: cscs.openchami.smd
# instances:
#   - {name: alps, cluster_uri: https://alps.example.ch:8443}
#   - {name: eiger, cluster_uri: https://eiger.example.ch:8443, token_file: /run/secrets/eiger-token}
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: /var/cache/ansible-smd
"""

import functools
import gc
import ipaddress
import os

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.cscs.openchami.plugins.module_utils import smd as smd_api
from ansible_collections.cscs.openchami.plugins.module_utils.connection import Connection, connection_argument_spec
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, each
from ansible_collections.cscs.openchami.plugins.module_utils.xname import XnameError, natural_key, parent

FILTERS = ("type", "role", "subrole", "state", "arch", "class", "group", "partition")
KINDS = ("components", "interfaces", "groups", "partitions")
# host variables: the lean set every host gets, then the opt-in sets of the host_vars option
LEAN_FIELDS = ("ID", "NID", "Role", "SubRole", "State", "Enabled", "Arch")
COMPONENT_FIELDS = ("Type", "Class", "Flag", "SoftwareStatus", "NetType", "Subtype")
HOST_VAR_SETS = ("component", "membership", "network", "bmc")


def _fetch(conn, kind, filters):
    api = smd_api.SMD(conn.client("smd"))
    if kind == "components":
        return api.components(**filters)
    if kind == "interfaces":
        return api.interfaces()
    if kind == "groups":
        return api.groups()
    return api.partitions()


def choose_ansible_host(interfaces, networks, descriptions, fallback):
    for network in networks:
        for nic in interfaces:
            for ip in nic["IPAddresses"]:
                if ip.get("Network") == network and ip.get("IPAddress"):
                    return ip["IPAddress"]
    for description in descriptions:
        for nic in interfaces:
            if nic.get("Description") == description and nic["IPAddresses"]:
                return nic["IPAddresses"][0]["IPAddress"]
    if fallback:
        for nic in interfaces:
            for ip in nic["IPAddresses"]:
                try:
                    if ipaddress.ip_address(ip.get("IPAddress") or "").version == 4:
                        return ip["IPAddress"]
                except ValueError:
                    continue
    return None


@functools.lru_cache(maxsize=None)
def _names(prefix, fields):
    """(variable name, SMD field) of ``fields``: made once, not for every host."""
    return tuple((prefix + field.lower(), field) for field in fields)


def host_variables(comp, nics, labels, partition, sets, prefix):
    """The SMD host variables of one component: the lean set, plus the named ``sets`` (see HOST_VAR_SETS)."""
    out = {name: comp[field] for name, field in _names(prefix, LEAN_FIELDS) if field in comp}
    if "component" in sets:
        out.update((name, comp[field]) for name, field in _names(prefix, COMPONENT_FIELDS) if field in comp)
    if "membership" in sets:
        out[prefix + "groups"] = labels
        out[prefix + "partition"] = partition
    if "network" in sets:
        out[prefix + "interfaces"] = [{"mac": n["MACAddress"], "description": n["Description"],
                                       "ip_addresses": [{"address": ip["IPAddress"], "network": ip["Network"]}
                                                        for ip in n["IPAddresses"]]} for n in nics]
        out[prefix + "macs"] = [n["MACAddress"] for n in nics]
        out[prefix + "ips"] = [ip["IPAddress"] for n in nics for ip in n["IPAddresses"]]
    if "bmc" in sets:
        try:
            out[prefix + "bmc"] = parent(comp["ID"]) if comp.get("Type") == "Node" else None
        except XnameError:
            out[prefix + "bmc"] = None
    return out


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "cscs.openchami.smd"
    _groups = None  # for one parse: (wanted name, made safe) -> group name; (role, subrole, arch, state) -> group names

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".smd.yml", ".smd.yaml"))

    # ------------------------------------------------------------ reading
    def _instances(self):
        keys = list(connection_argument_spec())
        base = dict((k, self.get_option(k)) for k in keys)
        instances = self.get_option("instances") or []
        if not instances:
            return [(None, base)]  # named after the cluster the connection resolves to
        out = []
        for index, entry in enumerate(instances):
            if not isinstance(entry, dict) or not entry.get("name"):
                raise AnsibleParserError("instances[%d] needs a name" % index)
            unknown = set(entry) - set(keys) - set(["name"])
            if unknown:
                raise AnsibleParserError("instances[%d] (%s): unknown option(s) %s" % (index, entry["name"], ", ".join(sorted(unknown))))
            params = dict(base)
            params.update(dict((k, v) for k, v in entry.items() if k != "name"))
            out.append((str(entry["name"]), params))
        return out

    def _filters(self):
        filters = dict((name, self.get_option(name)) for name in FILTERS)
        for name, values in filters.items():
            for value in values or []:
                if smd_api.yaml_boolean_hint(value):
                    raise AnsibleParserError("%s: %s is what YAML makes of an unquoted Off, On, Yes or No; quote the "
                                             "value, for example %s: ['Off']" % (name, value, name))
        if self.get_option("enabled") is not None:
            filters["enabled"] = str(self.get_option("enabled")).lower()
        return filters

    def _host_var_sets(self):
        sets = self.get_option("host_vars") or []
        unknown = [name for name in sets if name not in HOST_VAR_SETS + ("all",)]
        if unknown:
            raise AnsibleParserError("host_vars: %s %s not a set of host variables; the sets are %s and all"
                                     % (", ".join(map(str, unknown)), "is" if len(unknown) == 1 else "are",
                                        ", ".join(HOST_VAR_SETS)))
        return set(HOST_VAR_SETS) if "all" in sets else set(sets)

    def _read(self, instances):
        """Fetch every kind of every instance concurrently; {name: {kind: data}} and {name: error text}."""
        filters = self._filters()
        connections, errors = {}, {}
        for name, params in instances:
            try:
                conn = Connection(params)
            except ApiError as exc:
                errors[name or params.get("cluster") or os.environ.get("OPENCHAMI_CLUSTER") or "default"] = str(exc)
                continue
            name = name or conn.cluster or "default"
            connections[name] = conn
            for warning in connections[name].warnings:
                self.display.warning("OpenCHAMI instance %s: %s" % (name, warning))
        jobs = [(name, kind) for name in connections for kind in KINDS]

        data = dict((name, {}) for name in connections)
        for (name, kind), value in zip(jobs, each(lambda job: _fetch(connections[job[0]], job[1], filters), jobs, 16)):
            if isinstance(value, ApiError):
                errors.setdefault(name, str(value))
                value = None
            elif isinstance(value, Exception):
                raise value
            data[name][kind] = value
        for conn in connections.values():
            conn.close()
        return dict((name, value) for name, value in data.items() if name not in errors), errors

    # ------------------------------------------------------------ populating
    def _host_name(self, comp, hostvars, legacy):
        mode = "nid" if legacy else self.get_option("hostnames")
        if mode == "nid":
            nid = comp.get("NID")
            if isinstance(nid, int):
                return "%s%s" % (self.get_option("nid_prefix") if not legacy else "nid", str(nid).zfill(self.get_option("nid_width")))
            return comp["ID"]
        if mode == "template":
            template = self.get_option("hostname_template")
            if not template:
                raise AnsibleParserError("hostnames=template needs hostname_template")
            self.templar.available_variables = hostvars
            return str(self.templar.template(template))
        return comp["ID"]

    def _populate(self, data, shown):
        legacy = self.get_option("legacy_names")
        prefix = self.get_option("vars_prefix")
        strict = self.get_option("strict")
        networks = self.get_option("ansible_host_networks")
        descriptions = self.get_option("ansible_host_descriptions")
        fallback = self.get_option("ansible_host_fallback")
        compose, groups, keyed = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        # templates see every variable, whatever host_vars says: compute the rest only when one is there
        templated = bool(compose or groups or keyed or (self.get_option("hostnames") == "template" and not legacy))
        # SMD group and partition groups: the names ansible-smd-inventory gives them, or safe ones
        label_prefix, part_prefix, safe = ("grp_", "prt_", False) if legacy else ("", "partition_", True)
        add_host, add_child, set_variable = self.inventory.add_host, self.inventory.add_child, self.inventory.set_variable
        taken = {}
        for instance in sorted(data):
            found = data[instance]
            instance_group = to_safe_group_name("instance_" + instance)
            self.inventory.add_group(instance_group)
            self.inventory.set_variable(instance_group, "openchami_instance", instance)
            # each host's labels, partition and interfaces come out sorted: the groups are read in label order
            # and the interfaces in MAC order
            groups_of, partition_of = {}, {}
            for grp in sorted(found["groups"] or [], key=lambda g: g["label"]):
                for member in (grp.get("members") or {}).get("ids") or []:
                    groups_of.setdefault(member, []).append(grp["label"])
            for part in found["partitions"] or []:
                for member in (part.get("members") or {}).get("ids") or []:
                    partition_of[member] = part["name"]
            nics_of = {}
            for nic in sorted(smd_api.normalize_interfaces(found["interfaces"] or []), key=lambda n: n["MACAddress"]):
                nics_of.setdefault(nic["ComponentID"], []).append(nic)
            # in xname order, not SMD's (which varies): of two components that want one host name, the first
            # in xname order keeps it, run after run
            for comp in sorted(found["components"] or [], key=lambda c: natural_key(str(c.get("ID") or ""))):
                xname = comp.get("ID")
                if not xname:
                    continue
                nics = nics_of.get(xname, ())
                labels = groups_of.get(xname, [])
                partition = partition_of.get(xname)
                hostvars = host_variables(comp, nics, labels, partition, shown, prefix)
                address = choose_ansible_host(nics, networks, descriptions, fallback)
                if address:
                    hostvars["ansible_host"] = address
                if legacy:
                    hostvars["smd_component"] = dict(comp, id=xname, groupLabels=labels, partitionName=partition or "")
                seen = hostvars
                if templated:
                    seen = dict(hostvars, openchami_instance=instance)
                    seen.update(host_variables(comp, nics, labels, partition, HOST_VAR_SETS, prefix))
                host = self._unique_name(self._host_name(comp, seen, legacy), instance, xname, taken)
                add_host(host, group=instance_group)
                for key, value in hostvars.items():
                    set_variable(host, key, value)
                for label in labels:
                    add_child(self._group_name(label_prefix + label, safe), host)
                if partition:
                    add_child(self._group_name(part_prefix + partition, safe), host)
                if not legacy:
                    for group in self._standard_groups(comp):
                        add_child(group, host)
                if templated:
                    self._set_composite_vars(compose, seen, host, strict=strict)
                    self._add_host_to_composed_groups(groups, seen, host, strict=strict)
                    self._add_host_to_keyed_groups(keyed, seen, host, strict=strict)

    def _unique_name(self, wanted, instance, xname, taken):
        """``wanted``, or another name if a host already has it; every collision is warned about and both hosts
        go to the group ``hostname_collisions`` (``taken``: name -> (instance, xname), updated)."""
        if wanted not in taken:
            taken[wanted] = (instance, xname)
            return wanted
        first_instance, first_xname = taken[wanted]
        if first_instance != instance:
            candidates = ["%s_%s" % (instance, wanted), "%s_%s" % (instance, xname)]
        else:
            candidates = [xname, "%s_%s" % (wanted, xname)]
        host = next((c for c in candidates if c not in taken), "%s_%s_%s" % (instance, wanted, xname))
        taken[host] = (instance, xname)
        self.display.warning(
            "host name %s collides: %s of instance %s has it, %s of instance %s is named %s instead%s"
            % (wanted, first_xname, first_instance, xname, instance, host,
               " (same NID; set distinct NIDs in SMD, for example with cscs.openchami.smd_component)"
               if first_instance == instance and (self.get_option("hostnames") == "nid" or self.get_option("legacy_names"))
               else ""))
        group = self.inventory.add_group("hostname_collisions")
        self.inventory.add_host(wanted)
        self.inventory.add_child(group, wanted)
        self.inventory.add_host(host)
        self.inventory.add_child(group, host)
        return host

    def _standard_groups(self, comp):
        """The role, role and subrole, architecture and state groups of a component (most share them: the
        answer is remembered per combination)."""
        key = (comp.get("Role"), comp.get("SubRole"), comp.get("Arch"), comp.get("State"))
        if key not in self._groups:
            role, subrole, arch, state = key
            names = []
            if role:
                names.append("role_" + role)
                if subrole:
                    names.append("role_%s_%s" % (role, subrole))
            if arch:
                names.append("arch_" + arch)
            if state:
                names.append("state_" + state)
            self._groups[key] = [self._group_name(name.lower()) for name in names]
        return self._groups[key]

    def _group_name(self, wanted, safe=True):
        """The group for ``wanted`` (made safe unless not ``safe``), added on first use, then remembered: most
        hosts share their groups, and making a name safe costs more than the rest of adding a host to it."""
        key = (wanted, safe)
        if key not in self._groups:
            self._groups[key] = self.inventory.add_group(to_safe_group_name(wanted) if safe else wanted)
        return self._groups[key]

    # ------------------------------------------------------------ entry point
    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        shown = self._host_var_sets()
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if data is None:
            instances = self._instances()
            found, errors = self._read(instances)
            for name in sorted(errors):
                message = "OpenCHAMI instance %s could not be read: %s" % (name, errors[name])
                if self.get_option("fail_on_instance_error") or len(instances) == 1:
                    raise AnsibleError(message)
                self.display.warning(message)
            data = found
            if update_cache and not errors:
                self._cache[cache_key] = data
        self._groups = {}
        # adding 10,000 hosts allocates millions of objects and no cycles: without the collector's passes over them
        # (and over SMD's answers, still held) adding 20,000 hosts took 2.2 s instead of 3.1 s (benchmarks/README.md).
        # SMD's answers are let go before the collector is back, so that it does not walk them once more.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._populate(data, shown)
        finally:
            data = found = None
            if collecting:
                gc.enable()
