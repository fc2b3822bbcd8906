# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time `ansible-inventory --list` at 1,000 / 10,000 / 20,000 nodes in a real SMD.

Compared in the same run: (a) cscs.openchami.smd, (b) the same with a warm cache, (c) a static YAML
inventory with the same hosts, groups and variables (Ansible's own floor), and optionally (d) the
single-file OpenCHAMI/ansible-smd-inventory plugin (pass its path with --legacy-plugin; not shipped here).
Peak memory is the child's maximum RSS; requests are counted from SMD's access log.

    .venv/bin/python benchmarks/inventory.py --smd-url http://127.0.0.1:27779 --smd-log lab-state/logs/smd.log \
        --sizes 1000 10000 20000
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

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import smd_register  # noqa: E402  pylint: disable=wrong-import-position

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.path.dirname(sys.executable)


def populate(data, smd_url, token, workdir):
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
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(workdir / "collections"), ACCESS_TOKEN=token or "")
    subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
                    "ansible_python_interpreter=" + sys.executable, str(playbook)], env=env, check=True, capture_output=True)


def timed(cmd, env):
    """Run cmd in a fresh Python that reports its child's peak RSS; (seconds, MiB, stdout)."""
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
             "sys.stderr.write('MAXRSS=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(p.returncode)")
    started = time.time()
    proc = subprocess.run([sys.executable, "-c", probe] + cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.time() - started
    if proc.returncode:
        raise SystemExit("%s failed:\n%s" % (cmd, (proc.stdout + proc.stderr)[-3000:]))
    rss = int(proc.stderr.rsplit("MAXRSS=", 1)[1].split()[0]) / 1024.0
    return elapsed, rss, proc.stdout


def static_inventory(listing):
    """The --list JSON turned into an equivalent YAML inventory."""
    groups = {}
    for name, group in listing.items():
        if name not in ("_meta", "all") and group.get("hosts"):
            groups[name] = {"hosts": dict((h, None) for h in group["hosts"])}
    return {"all": {"hosts": listing["_meta"]["hostvars"], "children": groups}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smd-url", required=True)
    parser.add_argument("--smd-log", required=True)
    parser.add_argument("--token", default=os.environ.get("ACCESS_TOKEN", ""))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 20000])
    parser.add_argument("--legacy-plugin", help="path of OpenCHAMI/ansible-smd-inventory's smd_inventory.py (peer d)")
    args = parser.parse_args()
    smd = smd_register.Smd(args.smd_url, args.token, args.smd_log)
    print("| nodes | run | wall time (s) | peak RSS (MiB) | SMD requests | hosts |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = pathlib.Path(tmp)
            smd.empty()
            for part in smd.session.get(smd.url + "/partitions").json() or []:
                smd.session.delete(smd.url + "/partitions/" + part["name"])
            populate(smd_register.cluster(size, 20), args.smd_url, args.token, workdir)
            env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(workdir / "collections"), ACCESS_TOKEN=args.token or "",
                       ANSIBLE_INVENTORY_ENABLED="cscs.openchami.smd,ansible.builtin.yaml")
            source = workdir / "bench.smd.yml"
            source.write_text(yaml.safe_dump({"plugin": "cscs.openchami.smd", "service_uris": {"smd": args.smd_url + "/hsm/v2"},
                                              "ansible_host_networks": ["nmn"], "cache": True,
                                              "cache_plugin": "ansible.builtin.jsonfile",
                                              "cache_connection": str(workdir / "cache")}))
            cmd = [os.path.join(BIN, "ansible-inventory"), "-i", str(source), "--list"]
            rows = []
            before = smd.requests_served()
            seconds, rss, out = timed(cmd + ["--flush-cache"], env)
            rows.append(("(a) cscs.openchami.smd", seconds, rss, smd.requests_served() - before, out))
            before = smd.requests_served()
            seconds, rss, out = timed(cmd, env)
            rows.append(("(b) same, warm cache", seconds, rss, smd.requests_served() - before, out))
            listing = json.loads(rows[0][4])
            static = workdir / "static.yml"
            static.write_text(yaml.safe_dump(static_inventory(listing), default_flow_style=None))
            seconds, rss, out = timed([os.path.join(BIN, "ansible-inventory"), "-i", str(static), "--list"], env)
            rows.append(("(c) static YAML inventory", seconds, rss, 0, out))
            if args.legacy_plugin:
                plugdir = workdir / "legacy"
                plugdir.mkdir()
                (plugdir / "smd_inventory.py").write_text(pathlib.Path(args.legacy_plugin).read_text())
                legacy_src = workdir / "legacy.yml"
                # its current option is hsm_url (older versions: smd_server, without the scheme); token: $ACCESS_TOKEN
                legacy_src.write_text(yaml.safe_dump({"plugin": "smd_inventory", "hsm_url": args.smd_url,
                                                      "filter_by": json.dumps({"type": "Node"})}))
                lenv = dict(env, ANSIBLE_INVENTORY_PLUGINS=str(plugdir), ANSIBLE_INVENTORY_ENABLED="smd_inventory",
                            ACCESS_TOKEN=args.token)
                before = smd.requests_served()
                seconds, rss, out = timed([os.path.join(BIN, "ansible-inventory"), "-i", str(legacy_src), "--list"], lenv)
                rows.append(("(d) ansible-smd-inventory", seconds, rss, smd.requests_served() - before, out))
            for name, seconds, rss, reqs, out in rows:
                hosts = len(json.loads(out)["_meta"]["hostvars"])
                if hosts != size:
                    raise SystemExit("%s listed %d hosts, not %d: not a valid measurement" % (name, hosts, size))
                print("| %d | %s | %.2f | %.0f | %d | %d |" % (size, name, seconds, rss, reqs, hosts))
            print("| %d | ratio (a)/(c) | %.2f | | | |" % (size, rows[0][1] / rows[2][1]))


if __name__ == "__main__":
    main()
