# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster as data on the lab's real services: cluster_plan, cluster_apply, cluster_snapshot, cluster_rollback,
fleet_info and the fleet playbooks, over two instances (``smd`` with BSS/boot-service and the cloud-init server, and
``smd2``)."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from conftest import REPO_ROOT

KIND_FILES = ("hardware.yaml", "interfaces.yaml", "partitions.yaml", "groups.yaml", "boot.yaml", "cloud_init.yaml")

# instance A (smd, boot, cloud-init): a liquid-cooled chassis from a template, two service nodes, groups, boot, cloud-init
SPEC_A = {
    "instance": "lab-a",
    "templates": {"chassis": {
        "parameters": ["cabinet", "chassis", "nid_start"],
        "hardware": [
            {"xnames": "x${cabinet}c${chassis}s[0-1]b0", "state": "Ready",
             "mac": {"start": "02:c1:00:0${chassis}:00:00"}, "ip": {"start": "10.1${chassis}.0.1", "network": "hmn"}},
            {"xnames": "x${cabinet}c${chassis}s[0-1]b0n[0-1]", "role": "Compute", "state": "Ready", "arch": "X86",
             "nid": {"start": "${nid_start}"}, "mac": {"start": "02:c1:00:0${chassis}:10:00"}}]}},
    "hardware": [
        {"template": "chassis", "vars": {"cabinet": 1000, "chassis": 0, "nid_start": 1}},
        {"template": "chassis", "vars": {"cabinet": 1000, "chassis": 1, "nid_start": 5}},
        {"xnames": "x3000c0s[1-2]b0n0", "role": "Management", "subrole": "Master", "state": "Ready",
         "nid": {"start": 100001}},
        {"xname": "x3000c0s3b0n0", "role": "Application", "state": "Ready", "nid": 100003,
         "interfaces": [{"mac": "02:c1:00:30:00:03", "ip": "10.130.0.3", "network": "nmn", "description": "uan"}]},
    ],
    "partitions": [{"name": "p1", "select": {"role": "Compute"}}],
    "groups": [{"label": "compute", "description": "Compute nodes", "select": {"role": "Compute"}},
               {"label": "ncn", "members": ["x3000c0s[1-2]b0n0"]}],
    "boot": [{"group": "compute", "kernel": "http://10.1.0.1/compute/vmlinuz", "initrd": "http://10.1.0.1/compute/initrd",
              "params": "console=ttyS0 ip=dhcp"},
             {"nodes": "x3000c0s3b0n0", "kernel": "http://10.1.0.1/uan/vmlinuz", "params": "console=tty0"}],
    "cloud_init": {
        "defaults": {"cluster_name": "lab-a", "short_name": "la", "nid_length": 5},
        "groups": [{"name": "compute", "description": "Compute nodes", "meta_data": {"site": "lab"},
                    "content": "#cloud-config\nruncmd:\n  - echo compute\n"},
                   {"name": "ncn", "content": "#cloud-config\npackages: [vim]\n"}]},
}
COUNTS_A = {"components": 8 + 2 + 1 + 4, "interfaces": 8 + 4 + 1, "partitions": 1, "groups": 2, "boot": 9,
            "cloud_init_groups": 2}


def _smd_dump(lab, service="smd"):
    out = {}
    for path in ("/State/Components", "/Inventory/EthernetInterfaces", "/groups", "/partitions"):
        response = lab.api(service, "GET", path)
        response.raise_for_status()
        out[path] = response.json()
    return out


def _connection(lab, service="smd"):
    uris = {"smd": lab.urls[service] + "/hsm/v2"}
    if service == "smd":
        uris.update(bss=lab.urls["bss"] + "/boot/v1", cloud_init=lab.urls["cloud-init"],
                    boot_service=lab.urls["boot-service"])
    return {"service_uris": uris, "token_file": str(lab.state / "access-token")}


def _play(lab, tmp, tasks, check=False, inventory=None):
    """Run ``tasks`` on localhost with the instance A connection; the registered results come back from results.json."""
    results = tmp / "results.json"
    play = {"hosts": "localhost", "gather_facts": False,
            "module_defaults": {"group/cscs.openchami.openchami": _connection(lab)},
            "tasks": tasks + [{"name": "dump", "check_mode": False, "ansible.builtin.copy": {
                "dest": str(results), "mode": "0644",
                "content": "{{ {%s} | to_json }}" % ", ".join(
                    "'%s': %s | default(None)" % (t["register"], t["register"]) for t in tasks if "register" in t)}}]}
    result = lab.run_playbook(play, check=check, inventory=inventory)
    if result.returncode:
        raise AssertionError(f"playbook failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return json.loads(results.read_text(encoding="utf-8"))


def _task(module, register, ignore_errors=False, **options):
    task = {"name": register, "cscs.openchami.%s" % module: options, "register": register}
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def _creates(summary):
    return dict((kind, counts["create"]) for kind, counts in summary.items() if kind != "cloud_init_defaults")


@pytest.fixture(scope="module")
def lab_a(clean_smd, tmp_path_factory):
    """Instance A emptied: SMD, the boot configurations of boot-service and the cloud-init groups."""
    lab = clean_smd
    for name in lab.api("cloud-init", "GET", "/admin/groups").json() or {}:
        lab.api("cloud-init", "DELETE", f"/admin/groups/{name}").raise_for_status()
    for config in lab.api("boot-service", "GET", "/bootconfigurations").json() or []:
        lab.api("boot-service", "DELETE", f"/bootconfigurations/{config['metadata']['uid']}").raise_for_status()
    tmp = tmp_path_factory.mktemp("cluster")
    spec = tmp / "spec.yml"
    spec.write_text(yaml.safe_dump(SPEC_A, sort_keys=False), encoding="utf-8")
    return lab, tmp, spec


@pytest.fixture(scope="module")
def clean_smd(lab):  # pylint: disable=redefined-outer-name
    """Module scope: SMD emptied once for this file's tests."""
    lab.clean_smd()
    return lab


def test_bad_spec_names_every_path_and_writes_nothing(lab_a):
    lab, tmp, _spec = lab_a
    before = _smd_dump(lab)
    unknown_key = {"hardware": [{"xname": "x1000c0s9b0n0", "colour": "blue"}]}
    bad = {"hardware": [{"xnames": "x1000c0s[0-1]b0n0", "nid": 7, "role": "Compute"},
                        {"xname": "x1000c0s9b0n0"},
                        {"template": "missing"}],
           "groups": [{"label": "compute", "members": ["x1000c0s0b0n0"]}],
           "boot": [{"group": "nope", "kernel": "k"}],
           "cloud_init": {"groups": [{"name": "g", "content": "packages: [vim]"}]}}
    # members are checked against the spec's hardware and SMD before anything is written
    unknown_member = {"hardware": [{"xnames": "x1000c0s[0-1]b0n0", "nid": {"start": 7}, "role": "Compute"}],
                      "groups": [{"label": "compute", "members": ["x1000c0s0b0n0", "x9000c0s0b0n0"]}]}
    out = _play(lab, tmp, [_task("cluster_apply", "unknown_key", ignore_errors=True, spec=unknown_key),
                           _task("cluster_apply", "bad", ignore_errors=True, spec=bad),
                           _task("cluster_apply", "unknown_member", ignore_errors=True, spec=unknown_member)])
    assert all(r["failed"] and not r["changed"] for r in out.values())
    assert "hardware[0].colour: unknown key" in out["unknown_key"]["msg"]
    for expected in ("hardware[0].nid: one number for 2 xnames", "hardware[2].template: no template 'missing'",
                     "boot[0].group: nope is not a group of the spec",
                     "cloud_init.groups[0].content: the first line must be '#cloud-config'"):
        assert expected in out["bad"]["msg"], out["bad"]["msg"]
    assert ("group compute: member x9000c0s0b0n0 is neither in the spec's hardware nor in SMD"
            in out["unknown_member"]["msg"])
    assert _smd_dump(lab) == before


def test_plan_apply_reapply_snapshot_mutate_rollback(lab_a):  # pylint: disable=too-many-locals
    lab, tmp, spec = lab_a
    before = _smd_dump(lab)
    # check mode: the plan of an empty instance lists everything, and nothing is written
    out = _play(lab, tmp, [
        _task("cluster_apply", "checked", src=str(spec)),
        _task("cluster_snapshot", "snapshot", dest=str(tmp / "check-snapshot")),
        _task("fleet_info", "fleet", instances=[dict(_connection(lab), name="lab-a", spec=str(spec))]),
    ], check=True)
    checked = out["checked"]
    assert checked["changed"] and _creates(checked["summary"]) == COUNTS_A
    assert _smd_dump(lab) == before
    assert "+ x1000c0s0b0n0" in "\n".join(checked["plan"])
    assert out["snapshot"]["changed"] and not (tmp / "check-snapshot").exists()
    drift = out["fleet"]["instances"][0]["drift"]
    assert not out["fleet"]["changed"] and drift["summary"] == checked["summary"] and not drift["in_sync"]

    snap_a, snap_b = tmp / "inventory" / "lab-a", tmp / "snap-b"
    snap_a.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(snap_a.parent)], check=True)
    out = _play(lab, tmp, [
        _task("cluster_plan", "planned", src=str(spec)),
        _task("cluster_apply", "applied", src=str(spec)),
        _task("cluster_apply", "again", src=str(spec)),
        _task("cluster_snapshot", "snapshot", dest=str(snap_a), instance="lab-a"),
        _task("cluster_snapshot", "snapshot_again", dest=str(snap_a), instance="lab-a"),
    ])
    assert not out["planned"]["changed"] and out["planned"]["pending"]
    assert _creates(out["planned"]["summary"]) == COUNTS_A
    assert out["applied"]["changed"] and _creates(out["applied"]["summary"]) == COUNTS_A
    assert not out["again"]["changed"]
    assert all(c["create"] + c["update"] + c["delete"] == 0 for c in out["again"]["summary"].values())
    components = dict((c["ID"], c) for c in lab.api("smd", "GET", "/State/Components").json()["Components"])
    assert components["x1000c1s1b0n1"]["NID"] == 8 and components["x1000c1s1b0n1"]["Role"] == "Compute"
    assert components["x3000c0s2b0n0"]["SubRole"] == "Master"
    assert out["snapshot"]["changed"] and out["snapshot"]["commit"]
    assert sorted(out["snapshot"]["files_changed"]) == sorted(KIND_FILES)
    assert not out["snapshot_again"]["changed"] and out["snapshot_again"]["commit"] is None
    log = subprocess.run(["git", "-C", str(snap_a), "log", "--oneline"], capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1
    meta = yaml.safe_load((snap_a / "snapshot.yaml").read_text(encoding="utf-8"))["snapshot"]
    assert meta["instance"] == "lab-a" and meta["services"]["bss"].startswith("v") and meta["counts"]["nodes"] == 11
    first = dict((name, (snap_a / name).read_bytes()) for name in KIND_FILES)
    assert b"x1000c1s1b0n1" in first["groups.yaml"] and b"echo compute" in first["cloud_init.yaml"]

    # another hand changes every kind: a node added, one removed, a role, group members, boot, cloud-init
    for method, service, path, body in (
            ("POST", "smd", "/State/Components",
             {"Components": [{"ID": "x1000c2s0b0n0", "State": "Ready", "Role": "Compute", "NID": 99}]}),
            ("DELETE", "smd", "/State/Components/x1000c0s0b0n1", None),
            ("PATCH", "smd", "/State/Components/x1000c1s0b0n0/Role", {"Role": "Service"}),
            ("DELETE", "smd", "/groups/ncn/members/x3000c0s2b0n0", None),
            ("POST", "smd", "/groups", {"label": "extra", "members": {"ids": ["x1000c2s0b0n0"]}}),
            ("POST", "boot-service", "/bootconfigurations", {"metadata": {"name": "by-hand"}, "spec": {
                "hosts": ["x1000c0s0b0n0", "x1000c2s0b0n0"], "kernel": "http://10.1.0.1/new/vmlinuz", "priority": 10}}),
            ("PUT", "cloud-init", "/admin/groups/compute", {"name": "compute", "description": "Compute nodes", "file": {
                "content": "#cloud-config\nruncmd:\n  - echo changed\n", "encoding": "plain"}}),
            ("PUT", "cloud-init", "/admin/groups/extra",
             {"name": "extra", "file": {"content": "#cloud-config\n", "encoding": "plain"}}),
            ("POST", "cloud-init", "/admin/cluster-defaults", {"short-name": "zz"})):
        response = lab.api(service, method, path, json=body)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
    # the plan against the snapshot without prune reports what is not in it; the rollback deletes exactly that
    out = _play(lab, tmp, [
        _task("cluster_plan", "drift", src=str(snap_a)),
        dict(_task("cluster_rollback", "rollback_check", src=str(snap_a)), check_mode=True),
        _task("cluster_rollback", "rollback", src=str(snap_a)),
        _task("cluster_snapshot", "snapshot_b", dest=str(snap_b), instance="lab-a"),
        _task("cluster_rollback", "rollback_again", src=str(snap_a)),
    ])
    not_in_spec = out["drift"]["not_in_spec"]
    assert not_in_spec == {"components": ["x1000c2s0b0n0"], "groups": ["extra"], "boot": ["x1000c2s0b0n0"],
                           "cloud_init_groups": ["extra"]}
    deleted = dict((kind, c["delete"]) for kind, c in out["rollback"]["summary"].items() if c["delete"])
    assert deleted == dict((kind, len(keys)) for kind, keys in not_in_spec.items())
    assert "- x1000c2s0b0n0" in "\n".join(out["rollback"]["plan"])
    assert out["rollback"]["changed"] and not out["rollback_again"]["changed"]
    assert out["rollback_check"]["summary"] == out["rollback"]["summary"]
    second = dict((name, (snap_b / name).read_bytes()) for name in KIND_FILES)
    assert second == first


def _inventory(tmp, hosts):
    path = tmp / "fleet-hosts.yml"
    path.write_text(yaml.safe_dump({"openchami_instances": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}),
        encoding="utf-8")
    return path


SPEC_B = {"hardware": [{"xnames": "x2000c0s[0-3]b0n0", "role": "Compute", "state": "Ready", "nid": {"start": 1}}],
          "groups": [{"label": "compute", "select": {"role": "Compute"}}]}


def test_fleet_status_over_two_instances_one_down(lab, tmp_path):
    for path in ("/groups/compute", "/State/Components"):
        lab.api("smd2", "DELETE", path)
    spec_b = tmp_path / "b.yml"
    spec_b.write_text(yaml.safe_dump(SPEC_B), encoding="utf-8")
    token = str(lab.state / "access-token")
    lab_b = {"openchami_service_uris": {"smd": lab.urls["smd2"] + "/hsm/v2"}, "openchami_token_file": token,
             "openchami_cluster_spec": str(spec_b)}
    lab_a = {"openchami_service_uris": _connection(lab)["service_uris"], "openchami_token_file": token}
    down = {"openchami_service_uris": {"smd": "http://127.0.0.1:9/hsm/v2"}, "openchami_token_file": token,
            "openchami_retries": 0, "openchami_cluster_spec": str(spec_b)}
    inventory = _inventory(tmp_path, {"lab-a": lab_a, "lab-b": lab_b, "lab-down": down})
    # lab-b gets its spec, then drifts: one node changes role, one node is added outside the spec
    out = _play(lab, tmp_path, [
        {"name": "apply b", "cscs.openchami.cluster_apply": {"src": str(spec_b)}, "register": "b",
         "module_defaults": {"group/cscs.openchami.openchami": {"service_uris": lab_b["openchami_service_uris"],
                                                                "token_file": token}}},
        {"name": "drift b", "cscs.openchami.smd_component": {"components": [
            {"ID": "x2000c0s0b0n0", "Role": "Service"}, {"ID": "x2000c0s9b0n0", "State": "Off", "Role": "Compute"}]},
         "register": "drift", "module_defaults": {"group/cscs.openchami.openchami": {
             "service_uris": lab_b["openchami_service_uris"], "token_file": token}}}])
    assert out["b"]["changed"] and out["drift"]["changed"]
    report_dir = tmp_path / "report"
    result = lab.run_playbook(REPO_ROOT / "playbooks" / "fleet_status.yml", inventory=inventory,
                              extravars={"fleet_report_dir": str(report_dir)})
    assert result.returncode == 0, result.stdout[-5000:]
    markdown = (report_dir / "fleet.md").read_text(encoding="utf-8")
    rows = dict((line.split("|")[1].strip(), [c.strip() for c in line.split("|")[2:-1]])
                for line in markdown.splitlines() if line.startswith("| lab-"))
    nodes_a = len(lab.api("smd", "GET", "/State/Components", params={"type": "Node"}).json()["Components"])
    assert rows["lab-a"][0] == "up" and rows["lab-a"][2] == str(nodes_a) and rows["lab-a"][5] == "no spec"
    assert "bss v1.32.2" in rows["lab-a"][1]
    assert rows["lab-b"][:5] == ["up", "-", "5", "Off 1, Ready 4", "Compute 4, Service 1"]
    assert rows["lab-b"][5] == "components: update 1, not in spec 1"
    assert rows["lab-down"][0] == "DOWN" and rows["lab-down"][5] == "unknown (down)"
    assert "lab-down" in markdown.split("## Errors")[1]
    page = (report_dir / "fleet.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not any(tag in page for tag in ("<script", "<link", " src=", " href="))  # self-contained
    assert '<td class="down">DOWN</td>' in page
    prom = (report_dir / "openchami_fleet.prom").read_text(encoding="utf-8")
    for line in ('openchami_instance_up{instance="lab-a"} 1', 'openchami_instance_up{instance="lab-down"} 0',
                 'openchami_nodes{instance="lab-b"} 5', 'openchami_nodes_by_role{instance="lab-b",role="Service"} 1',
                 'openchami_spec_in_sync{instance="lab-b"} 0',
                 'openchami_spec_drift{action="not_in_spec",instance="lab-b",kind="components"} 1',
                 'openchami_service_info{instance="lab-a",service="bss",version="v1.32.2"} 1'):
        assert line in prom.splitlines(), prom
    assert "# TYPE openchami_nodes gauge" in prom


def test_fleet_apply_stops_at_the_first_failure(lab, tmp_path):
    for path in ("/groups/compute", "/State/Components"):
        lab.api("smd2", "DELETE", path)
    token = str(lab.state / "access-token")
    specs = {}
    for name, spec in (("first", {"hardware": [{"xnames": "x2001c0s[0-1]b0n0", "role": "Compute", "nid": {"start": 1}}]}),
                       ("failing", {"hardware": [{"xname": "x2002c0s0b0n0", "role": "Compute", "nid": 50}]}),
                       ("third", {"hardware": [{"xname": "x2003c0s0b0n0", "role": "Compute", "nid": 60}]})):
        specs[name] = tmp_path / f"{name}.yml"
        specs[name].write_text(yaml.safe_dump(spec), encoding="utf-8")
    smd2 = {"smd": lab.urls["smd2"] + "/hsm/v2"}
    inventory = _inventory(tmp_path, {
        "a-first": {"openchami_service_uris": smd2, "openchami_token_file": token,
                    "openchami_cluster_spec": str(specs["first"])},
        # SMD answers the plan's reads without a token and refuses the write: the plan passes, the apply fails
        "b-failing": {"openchami_service_uris": smd2, "openchami_use_auth": False,
                      "openchami_cluster_spec": str(specs["failing"])},
        "c-third": {"openchami_service_uris": smd2, "openchami_token_file": token,
                    "openchami_cluster_spec": str(specs["third"])}})
    result = lab.run_playbook(REPO_ROOT / "playbooks" / "fleet_apply.yml", inventory=inventory)
    assert result.returncode != 0
    for line in ("a-first: components +2 ~0 -0 ?0, interfaces +0 ~0 -0 ?0",
                 "b-failing: components +1 ~0 -0 ?0", "c-third: components +1 ~0 -0 ?0"):
        assert line in result.stdout, result.stdout
    assert "HTTP 401" in result.stdout
    ids = sorted(c["ID"] for c in lab.api("smd2", "GET", "/State/Components").json()["Components"])
    assert ids == ["x2001c0s0b0n0", "x2001c0s1b0n0"]
