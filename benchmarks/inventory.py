# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time `ansible-inventory --list` at 1,000 / 10,000 / 20,000 nodes in a real SMD.

Compared in the same run, in alternating rounds (each round runs every source, in the reverse order of the
round before; the median of the rounds is reported):

- ours, default: cscs.openchami.smd with its lean host variables;
- ours, all: the same with ``host_vars: [all]``;
- floor, default / floor, all: a trivial inventory plugin (inventory_plugins/floor.py) adding the same groups,
  hosts and variables as "ours" from a file, which is what ansible-core itself costs for that inventory;
- static YAML: a YAML inventory with the same hosts, groups and variables as "ours, default";
- ansible-smd-inventory: the single-file OpenCHAMI/ansible-smd-inventory plugin, when its path is given with
  --legacy-plugin (it is not shipped here; fetch it yourself).

Wall time and CPU time (user + system) are the child's; peak memory is its maximum RSS; requests are counted
from SMD's access log and must be the same in every round.

    .venv/bin/python benchmarks/inventory.py --smd-url http://127.0.0.1:27779 --smd-log lab-state/logs/smd.log \
        --sizes 1000 10000 20000 --rounds 3 --legacy-plugin /path/to/smd_inventory.py
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import smd_register  # noqa: E402  pylint: disable=wrong-import-position

HERE = pathlib.Path(__file__).resolve().parent
BIN = os.path.dirname(sys.executable)
INVENTORY = os.path.join(BIN, "ansible-inventory")


def populate(data, smd_url, token, workdir, collections):
    """Fill SMD with our modules (and two partitions) from JSON files."""
    smd_register.run_ours(data, smd_url, token, workdir)
    half = len(data) // 2
    parts = [{"name": "p1", "members": [n["xname"] for n in data[:half]]},
             {"name": "p2", "members": [n["xname"] for n in data[half:]]}]
    (workdir / "partitions.json").write_text(json.dumps(parts))
    playbook = workdir / "parts.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - cscs.openchami.smd_partition: {src: "%s/partitions.json", service_uris: {smd: "%s/hsm/v2"}}
""" % (workdir, smd_url))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ACCESS_TOKEN=token or "")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=" + sys.executable, str(playbook)],
                          env=env, check=False, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit("the partitions playbook failed:\n" + (proc.stdout + proc.stderr)[-3000:])


def timed(cmd, env):
    """Run cmd in a fresh Python that reports its child's peak RSS and CPU time; (seconds, cpu seconds, MiB, stdout)."""
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
             "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "sys.stderr.write('MAXRSS=%d CPU=%f\\n' % (u.ru_maxrss, u.ru_utime + u.ru_stime)); sys.exit(p.returncode)")
    started = time.time()
    proc = subprocess.run([sys.executable, "-c", probe] + cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.time() - started
    if proc.returncode:
        raise SystemExit("%s failed:\n%s" % (cmd, (proc.stdout + proc.stderr)[-3000:]))
    rss, cpu = proc.stderr.rsplit("MAXRSS=", 1)[1].split()[:2]
    return elapsed, float(cpu[len("CPU="):]), int(rss) / 1024.0, proc.stdout


def plain(obj):
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def static_inventory(export):
    """``ansible-inventory --list --export`` output turned into an equivalent YAML inventory."""
    hostvars = export["_meta"]["hostvars"]
    groups = {}
    for name, group in export.items():
        if name in ("_meta", "all", "ungrouped"):
            continue
        entry = {}
        if group.get("hosts"):
            entry["hosts"] = dict((h, None) for h in group["hosts"])
        if group.get("vars"):
            entry["vars"] = group["vars"]
        groups[name] = entry
    return {"all": {"hosts": hostvars, "children": groups}}


def sources(workdir, smd_url, legacy_plugin):
    """{run name: (command, environment changes)} for every source of the comparison; the floors and the
    static YAML are written from "ours" by ``derive``."""
    ours = {"plugin": "cscs.openchami.smd", "service_uris": {"smd": smd_url + "/hsm/v2"}, "ansible_host_networks": ["nmn"]}
    (workdir / "default.smd.yml").write_text(yaml.safe_dump(ours))
    (workdir / "all.smd.yml").write_text(yaml.safe_dump(dict(ours, host_vars=["all"])))
    floor_env = {"ANSIBLE_INVENTORY_PLUGINS": str(HERE / "inventory_plugins"), "ANSIBLE_INVENTORY_ENABLED": "floor"}
    runs = {
        "ours, default": ([INVENTORY, "-i", str(workdir / "default.smd.yml"), "--list"], {}),
        "ours, all variables": ([INVENTORY, "-i", str(workdir / "all.smd.yml"), "--list"], {}),
        "floor, default": ([INVENTORY, "-i", str(workdir / "default.floor.json"), "--list"], floor_env),
        "floor, all variables": ([INVENTORY, "-i", str(workdir / "all.floor.json"), "--list"], floor_env),
        "static YAML": ([INVENTORY, "-i", str(workdir / "static.yml"), "--list"],
                        {"ANSIBLE_INVENTORY_ENABLED": "ansible.builtin.yaml"}),
    }
    if legacy_plugin:
        plugdir = workdir / "legacy"
        plugdir.mkdir()
        (plugdir / "smd_inventory.py").write_text(pathlib.Path(legacy_plugin).read_text())
        # its current option is hsm_url (older versions: smd_server, without the scheme); token: $ACCESS_TOKEN
        (workdir / "legacy.yml").write_text(yaml.safe_dump({"plugin": "smd_inventory", "hsm_url": smd_url,
                                                            "filter_by": json.dumps({"type": "Node"})}))
        runs["ansible-smd-inventory"] = ([INVENTORY, "-i", str(workdir / "legacy.yml"), "--list"],
                                         {"ANSIBLE_INVENTORY_PLUGINS": str(plugdir),
                                          "ANSIBLE_INVENTORY_ENABLED": "smd_inventory"})
    return runs


def derive(workdir, env):
    """The floors' and the static inventory's files, from ours' --export listings."""
    for name in ("default", "all"):
        export = subprocess.run([INVENTORY, "-i", str(workdir / (name + ".smd.yml")), "--list", "--export"], env=env,
                                capture_output=True, text=True, check=True).stdout
        (workdir / (name + ".floor.json")).write_text(export)
        if name == "default":
            static = static_inventory(json.loads(export, object_hook=plain))
            (workdir / "static.yml").write_text(yaml.safe_dump(static, default_flow_style=None))


def measure(size, args, smd):
    """Rows (name, wall, cpu, MiB, requests) of one cluster size, medians over the rounds."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = pathlib.Path(tmp)
        smd.empty()
        for part in smd.session.get(smd.url + "/partitions").json() or []:
            smd.session.delete(smd.url + "/partitions/" + part["name"])
        collections = smd_register.collections_path(smd_register.REPO, parent=workdir)
        populate(smd_register.cluster(size, 20), args.smd_url, args.token, workdir, collections)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ACCESS_TOKEN=args.token or "",
                   ANSIBLE_INVENTORY_ENABLED="cscs.openchami.smd")
        runs = sources(workdir, args.smd_url, args.legacy_plugin)
        derive(workdir, env)
        results = dict((name, []) for name in runs)
        order = list(runs)
        for index in range(args.rounds):
            for name in order if index % 2 == 0 else reversed(order):
                cmd, extra = runs[name]
                before = smd.requests_served()
                wall, cpu, rss, out = timed(cmd, dict(env, **extra))
                hosts = len(json.loads(out)["_meta"]["hostvars"])
                if hosts != size:
                    raise SystemExit("%s listed %d hosts, not %d: not a valid measurement" % (name, hosts, size))
                results[name].append((wall, cpu, rss, smd.requests_served() - before))
        rows = []
        for name in order:
            requests = set(r[3] for r in results[name])
            if len(requests) != 1:
                raise SystemExit("%s: the request count changed between rounds: %s" % (name, sorted(requests)))
            rows.append((name, statistics.median(r[0] for r in results[name]), statistics.median(r[1] for r in results[name]),
                         max(r[2] for r in results[name]), requests.pop()))
        return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smd-url", required=True)
    parser.add_argument("--smd-log", required=True)
    parser.add_argument("--token", default=os.environ.get("ACCESS_TOKEN", ""))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 20000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--legacy-plugin", help="path of OpenCHAMI/ansible-smd-inventory's smd_inventory.py")
    args = parser.parse_args()
    smd = smd_register.Smd(args.smd_url, args.token, args.smd_log)
    print("| nodes | run | wall time (s) | CPU time (s) | peak RSS (MiB) | SMD requests |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        rows = measure(size, args, smd)
        for name, wall, cpu, rss, requests in rows:
            print("| %d | %s | %.1f | %.1f | %.0f | %d |" % (size, name, wall, cpu, rss, requests))
        by_name = dict((row[0], row) for row in rows)
        ratios = [("ours, default / floor, default", "ours, default", "floor, default"),
                  ("ours, all / floor, all", "ours, all variables", "floor, all variables"),
                  ("ours, default / ansible-smd-inventory", "ours, default", "ansible-smd-inventory")]
        for label, top, bottom in ratios:
            if top in by_name and bottom in by_name:
                wall, cpu = by_name[top][1] / by_name[bottom][1], by_name[top][2] / by_name[bottom][2]
                print("| %d | ratio %s | %.2f | %.2f | | |" % (size, label, wall, cpu))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
