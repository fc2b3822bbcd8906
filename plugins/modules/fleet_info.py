#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: fleet_info
short_description: The state of several OpenCHAMI instances at once, as data and as reports
version_added: 0.2.0
description:
  - For every instance given - whether its SMD answers, the versions of the services that say theirs, its nodes
    counted by state and by role, and, when the instance has a cluster spec, its drift against the spec (what
    M(cscs.openchami.cluster_apply) would change, and what the spec does not list).
  - Returns the same figures as a Markdown table, a self-contained HTML page and Prometheus' text exposition format
    (for node_exporter's textfile collector); C(playbooks/fleet_status.yml) writes them to files.
  - An instance that does not answer is reported as down; the other instances are still reported.
  - The module's connection options are the defaults of every instance; an instance that names its own address
    (O(instances[].cluster_uri), O(instances[].service_uris), O(instances[].cluster) or O(instances[].config_file))
    uses none of the module's addresses.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.INFO_MODULE
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
options:
  instances:
    description: The instances of the fleet.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the instance in the reports.
        type: str
        required: true
      spec:
        description: Path of the instance's cluster spec (file or directory); without it no drift is computed.
        type: path
      cluster_uri:
        description: Base URL of the instance (as the connection option C(cluster_uri)).
        type: str
      service_uris:
        description: URLs of the instance's services (as the connection option C(service_uris)).
        type: dict
      cluster:
        description: Name of the instance's cluster in the ochami configuration.
        type: str
      config_file:
        description: The ochami configuration file of the instance.
        type: path
      token:
        description: Access token of the instance.
        type: str
      token_file:
        description: File holding the access token of the instance.
        type: path
      ca_path:
        description: CA bundle of the instance's services.
        type: path
      retries:
        description: Retries of the instance's requests (the reachability probe is never retried).
        type: int
  title:
    description: Title of the Markdown and HTML reports.
    type: str
    default: OpenCHAMI fleet
  boot_backend:
    description: Which boot service holds the boot configuration, for the drift (as in M(cscs.openchami.boot_config)).
    type: str
    choices: [auto, bss, boot_service]
    default: auto
  cloud_init_backend:
    description: Which cloud-init service, for the drift (as in M(cscs.openchami.cloud_init_group)).
    type: str
    choices: [auto, cloud_init, metadata_service]
    default: auto
seealso:
  - module: cscs.openchami.cluster_plan
"""

EXAMPLES = r"""
- name: The fleet
  cscs.openchami.fleet_info:
    instances:
      - {name: alps, cluster_uri: "https://alps.example.ch:8443", spec: specs/alps.yml}
      - {name: eiger, cluster_uri: "https://eiger.example.ch:8443", spec: specs/eiger.yml}
  register: fleet

- name: Prometheus textfile
  ansible.builtin.copy:
    content: "{{ fleet.prometheus }}"
    dest: /var/lib/node_exporter/textfile/openchami_fleet.prom
    mode: "0644"
"""

RETURN = r"""
instances:
  description: Per instance - C(name), C(reachable), C(error), C(versions), C(nodes) (C(total), C(by_state), C(by_role))
    and C(drift) (C(in_sync), C(changes), C(summary) per kind, C(error); V(null) without a spec).
  returned: always
  type: list
  elements: dict
markdown:
  description: The report as a Markdown table.
  returned: always
  type: str
html:
  description: The report as one HTML page (style inside, no script, no external resource).
  returned: always
  type: str
prometheus:
  description: The figures in Prometheus' text exposition format.
  returned: always
  type: str
"""

from ansible_collections.cscs.openchami.plugins.module_utils import cluster, cluster_spec, fleet
from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils.connection import Connection
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

ADDRESS = ("cluster_uri", "service_uris", "cluster", "config_file")
INSTANCE = dict(name=dict(type="str", required=True), spec=dict(type="path"), cluster_uri=dict(type="str"),
                service_uris=dict(type="dict"), cluster=dict(type="str"), config_file=dict(type="path"),
                token=dict(type="str", no_log=True), token_file=dict(type="path"), ca_path=dict(type="path"),
                retries=dict(type="int"))


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        instances=dict(type="list", elements="dict", required=True, options=INSTANCE),
        title=dict(type="str", default="OpenCHAMI fleet"),
        boot_backend=dict(type="str", choices=["auto", "bss", "boot_service"], default="auto"),
        cloud_init_backend=dict(type="str", choices=["auto", "cloud_init", "metadata_service"], default="auto"),
    ))
    p = module.params
    names = [i["name"] for i in p["instances"]]
    twice = sorted(set(n for n in names if names.count(n) > 1))
    if twice:
        module.fail_json(msg="instance names must be unique: %s given more than once" % ", ".join(twice))
    specs = {}
    for index, item in enumerate(p["instances"]):
        if item["spec"]:
            try:
                specs[item["name"]] = cluster_spec.load(item["spec"])
            except ValueError as exc:
                module.fail_json(msg="instances[%d] (%s): %s" % (index, item["name"], exc))
    report = []
    for item in p["instances"]:
        params = dict(p)
        if any(item.get(k) for k in ADDRESS):
            params.update(dict((k, None) for k in ADDRESS))
        params.update(dict((k, v) for k, v in item.items() if v is not None and k not in ("name", "spec")))
        try:
            connection = Connection(params)
        except ApiError as exc:
            report.append(dict(fleet.status(item["name"], None), error=str(exc)))
            continue
        instance = cluster.Instance(cluster.client_getter(connection), p["boot_backend"], p["cloud_init_backend"])
        report.append(fleet.status(item["name"], instance, specs.get(item["name"])))
        connection.close()
    module.exit_json(changed=False, instances=report, markdown=fleet.markdown(report, p["title"]),
                     html=fleet.html_page(report, p["title"]), prometheus=fleet.prometheus(report))


if __name__ == "__main__":
    main()
