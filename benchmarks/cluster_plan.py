# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and apply an N-node cluster spec on an empty and on a converged instance, and snapshot it.

The spec is what a site writes: one liquid-cooled cabinet template (256 nodes with MAC and IP rules) used once per
cabinet, a compute group and partition selected by role, a boot profile for the group and two cloud-init groups.
Timed with the collection's own code (what the modules run, without Ansible's per-task cost); ``--module`` adds one
``cluster_plan`` task through ansible-playbook on the converged instance.

    eval "$(.venv/bin/python -m lab env)"
    .venv/bin/python benchmarks/cluster_plan.py --nodes 10000 [--module]

It empties the lab's SMD, boot-service configurations and cloud-init groups first.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import requests

REPO = pathlib.Path(__file__).resolve().parents[1]


def collection_path():
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-collections-"))
    link = root / "ansible_collections" / "cscs" / "openchami"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    return root


def spec(nodes):
    cabinets, rest = divmod(nodes, 256)
    hardware = [{"template": "cabinet",
                 "vars": {"cab": 1000 + c, "nid": 1 + 256 * c, "mac": "02:%02x:00" % c, "ip": "10.%d" % (100 + c)}}
                for c in range(cabinets)]
    if rest:
        hardware.append({"xnames": "x%dc0s[0-%d]b[0-1]n[0-1]" % (1000 + cabinets, rest // 4 - 1), "role": "Compute",
                         "state": "Ready", "nid": {"start": 1 + 256 * cabinets},
                         "mac": {"start": "02:ff:00:10:00:00"}})
    return {
        "instance": "bench",
        "templates": {"cabinet": {"parameters": ["cab", "nid", "mac", "ip"], "hardware": [
            {"xnames": "x${cab}c[0-7]s[0-7]b[0-1]n[0-1]", "role": "Compute", "state": "Ready", "arch": "X86",
             "class": "Mountain", "nid": {"start": "${nid}"}, "mac": {"start": "${mac}:10:00:00"},
             "ip": {"start": "${ip}.16.1", "network": "nmn"}}]}},
        "hardware": hardware,
        "partitions": [{"name": "p1", "select": {"role": "Compute"}}],
        "groups": [{"label": "compute", "description": "Compute nodes", "select": {"role": "Compute"}}],
        "boot": [{"group": "compute", "kernel": "http://10.1.0.1/vmlinuz", "initrd": "http://10.1.0.1/initrd",
                  "params": "console=ttyS0 ip=dhcp"}],
        "cloud_init": {"defaults": {"cluster_name": "bench", "short_name": "nid"},
                       "groups": [{"name": "compute", "content": "#cloud-config\nruncmd: [true]\n"},
                                  {"name": "login", "content": "#cloud-config\n"}]},
    }


def empty(env):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + env["ACCESS_TOKEN"]
    smd = env["SMD_URL"] + "/hsm/v2"
    for label in session.get(smd + "/groups/labels").json() or []:
        session.delete(smd + "/groups/" + label)
    for partition in session.get(smd + "/partitions").json() or []:
        session.delete(smd + "/partitions/" + partition["name"])
    for path in ("/Inventory/EthernetInterfaces", "/State/Components"):
        session.delete(smd + path)
    for config in session.get(env["BOOT_SERVICE_URL"] + "/bootconfigurations").json() or []:
        session.delete(env["BOOT_SERVICE_URL"] + "/bootconfigurations/" + config["metadata"]["uid"])
    for name in session.get(env["CLOUD_INIT_URL"] + "/admin/groups").json() or {}:
        session.delete(env["CLOUD_INIT_URL"] + "/admin/groups/" + name)


def timed(rows, what, func):
    start = time.monotonic()
    value = func()
    rows.append((what, time.monotonic() - start))
    print("%-45s %8.2f s" % (what, rows[-1][1]), flush=True)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--module", action="store_true", help="also time cluster_plan through ansible-playbook")
    args = parser.parse_args()
    env = os.environ
    root = collection_path()
    sys.path.insert(0, str(root))
    # pylint: disable=import-outside-toplevel
    from ansible_collections.cscs.openchami.plugins.module_utils import cluster, cluster_spec
    from ansible_collections.cscs.openchami.plugins.module_utils.connection import Connection
    uris = {"smd": env["SMD_URL"] + "/hsm/v2", "cloud_init": env["CLOUD_INIT_URL"],
            "boot_service": env["BOOT_SERVICE_URL"]}
    connection = Connection({"service_uris": uris, "token": env["ACCESS_TOKEN"]})
    instance = cluster.Instance(cluster.client_getter(connection))
    empty(env)
    rows = []
    the_spec = spec(args.nodes)
    desired = timed(rows, "expand + validate the spec", lambda: cluster_spec.expand(the_spec))
    print("  %d components, %d interfaces, %d boot items" % (
        len(desired["components"]), len(desired["interfaces"]), len(desired["boot"])))
    plan = timed(rows, "plan, empty instance", lambda: cluster.plan(instance, desired))
    timed(rows, "apply, empty instance", lambda: cluster.apply(plan))
    plan = timed(rows, "plan, converged instance", lambda: cluster.plan(instance, desired))
    assert not plan.changed, plan.text()
    timed(rows, "expand + plan, converged (what the module does)",
          lambda: cluster.plan(instance, cluster_spec.expand(the_spec)))
    with tempfile.TemporaryDirectory() as dest:
        state = timed(rows, "snapshot: read the instance", lambda: cluster.read_state(instance))
        timed(rows, "snapshot: write the files", lambda: cluster.write_snapshot(state, dest, "bench"))
        print("  snapshot size %.1f MB" % (sum(p.stat().st_size for p in pathlib.Path(dest).iterdir()) / 1e6))
    if args.module:
        work = pathlib.Path(tempfile.mkdtemp(prefix="bench-play-"))
        (work / "spec.json").write_text(json.dumps(the_spec), encoding="utf-8")
        (work / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"cscs.openchami.cluster_plan": {"src": str(work / "spec.json"), "service_uris": uris}}]}]))
        cmd = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               str(work / "play.yml")]
        run_env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        timed(rows, "ansible-playbook with one cluster_plan, converged",
              lambda: subprocess.run(cmd, env=run_env, check=True, capture_output=True))
    print("\n| step (%d nodes) | seconds |\n|---|---|" % args.nodes)
    for what, seconds in rows:
        print("| %s | %.2f |" % (what, seconds))


if __name__ == "__main__":
    main()
