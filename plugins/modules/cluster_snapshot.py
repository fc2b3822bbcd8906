#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_snapshot
short_description: Export the live state of an OpenCHAMI instance as a cluster spec (configuration inventory)
version_added: 0.2.0
description:
  - Reads SMD (components, Ethernet interfaces, groups, partitions), the boot configuration of every node and the
    cloud-init defaults and groups, and writes them into O(dest) in the cluster spec format, one file per kind
    (C(hardware.yaml), C(interfaces.yaml), C(partitions.yaml), C(groups.yaml), C(boot.yaml), C(cloud_init.yaml)),
    ordered the same way every time so that a diff between two snapshots shows only what changed.
  - C(snapshot.yaml) records when, who, the instance and the versions of the services that say theirs.
  - When O(dest) is inside a git work tree and O(commit) is on, the files are committed.
  - When no kind file changed, nothing is written (not even C(snapshot.yaml)) and C(changed) is V(false).
  - A snapshot is a spec - M(cscs.openchami.cluster_rollback) or M(cscs.openchami.cluster_apply) take it as O(dest).
  - Per-node cloud-init instance info is not exported (it is read node by node); services without an address
    (for example an instance with SMD only) are left out.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.openchami
  - cscs.openchami.connection
attributes:
  check_mode:
    support: full
    details: Reads the instance and reports which files would change; writes and commits nothing.
  diff_mode:
    support: none
    details: The changed files are listed in RV(files_changed); C(git diff) shows their content.
options:
  dest:
    description: Directory to write the snapshot into (created if missing).
    type: path
    required: true
  instance:
    description: Name of the instance recorded in C(snapshot.yaml) (default the cluster name of the connection).
    type: str
  commit:
    description: Commit the snapshot when O(dest) is inside a git work tree.
    type: bool
    default: true
  commit_message:
    description: The commit message (default names the instance and the time).
    type: str
  boot_backend:
    description: Which boot service holds the boot configuration (as in M(cscs.openchami.boot_config)).
    type: str
    choices: [auto, bss, boot_service]
    default: auto
  cloud_init_backend:
    description: Which cloud-init service (as in M(cscs.openchami.cloud_init_group)).
    type: str
    choices: [auto, cloud_init, metadata_service]
    default: auto
seealso:
  - module: cscs.openchami.cluster_rollback
"""

EXAMPLES = r"""
- name: Nightly snapshot of alps into the configuration repository
  cscs.openchami.cluster_snapshot:
    dest: /srv/cluster-inventory/alps
    instance: alps
"""

RETURN = r"""
files_changed:
  description: The kind files whose content changed (or would, in check mode).
  returned: always
  type: list
  elements: str
commit:
  description: The git commit made, or V(null) when none was (not a repository, nothing changed, check mode).
  returned: always
  type: str
counts:
  description: How many entries each kind file holds.
  returned: always
  type: dict
"""

import datetime

from ansible_collections.cscs.openchami.plugins.module_utils import cluster
from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule


def main():
    module = OpenCHAMIModule(argument_spec=dict(
        dest=dict(type="path", required=True),
        instance=dict(type="str"),
        commit=dict(type="bool", default=True),
        commit_message=dict(type="str"),
        boot_backend=dict(type="str", choices=["auto", "bss", "boot_service"], default="auto"),
        cloud_init_backend=dict(type="str", choices=["auto", "cloud_init", "metadata_service"], default="auto"),
    ))
    p = module.params
    name = p["instance"] or module.connection.cluster or ""
    with module.guard():
        instance = cluster.Instance(cluster.client_getter(module.connection), p["boot_backend"], p["cloud_init_backend"])
        state = cluster.read_state(instance)
        versions = cluster.service_versions(instance.get_client)
    try:
        changed = cluster.write_snapshot(state, p["dest"], name, versions, check_mode=module.check_mode)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write the snapshot into %s: %s" % (p["dest"], exc))
    commit = None
    if changed and p["commit"] and not module.check_mode:
        message = p["commit_message"] or "Snapshot of %s at %s" % (
            name or "the instance", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        try:
            commit = cluster.git_commit(module.run_command, p["dest"], message)
        except RuntimeError as exc:
            module.fail_json(msg=str(exc), changed=True, files_changed=changed)
    module.exit_json(changed=bool(changed), files_changed=changed, commit=commit, counts=cluster.counts(state))


if __name__ == "__main__":
    main()
