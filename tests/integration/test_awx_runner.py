# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jobs run the way AWX runs them: ansible-runner on a private data directory, against the lab.

The credentials are the AWX credential types of extensions/awx/credential_types/, rendered the way AWX renders
them (tests/unit/utils/awx.py) into ``env/envvars`` and files under ``env/``; ``env/extravars`` holds only what
is not secret; ``inventory/`` holds the inventory (the SMD source of extensions/awx/inventory/ for the second job).
Each job's events (what AWX stores and shows) are checked: the task counts, and that no event holds the token
or the BMC password.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from test_demo import forget_boot_and_cloud_init  # pylint: disable=import-error

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
_spec = importlib.util.spec_from_file_location("awx_injection", REPO_ROOT / "tests" / "unit" / "utils" / "awx.py")
awx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(awx)
NODES_PLAYBOOK = """\
- name: Every node of the inventory reports its groups
  hosts: all
  gather_facts: false
  tasks:
    - name: Groups of the node
      ansible.builtin.debug:
        var: group_names
"""
# what the user's shell may hold and AWX's job environment does not
FOREIGN = ("OPENCHAMI_", "OCHAMI_", "REDFISH_", "CSM_", "LAB_", "ANSIBLE_")


def private_data_dir(lab, pdd: Path, inventory: dict, extravars: dict, project: dict | None = None) -> tuple[Path, list]:
    """An ansible-runner private data directory with the lab's OpenCHAMI and BMC credentials; (path, secrets).

    ``project`` (file name -> content) is the project directory; by default the repository (AWX: the checkout).
    """
    for folder, files in (("inventory", inventory), ("project", project or {})):
        (pdd / folder).mkdir(parents=True)
        for name, content in files.items():
            (pdd / folder / name).write_text(content, encoding="utf-8")
    if not project:
        (pdd / "project").rmdir()
        (pdd / "project").symlink_to(REPO_ROOT, target_is_directory=True)
    token = lab.mint(lifetime=3600)
    env = {}
    for name, inputs in (("openchami", {"cluster_uri": lab.urls["smd"], "token": token}),
                         ("redfish", {"bmc_user": lab.info["bmc_user"], "bmc_password": lab.info["bmc_password"],
                                      "bmc_ca_cert": Path(lab.info["bmc_ca_bundle"]).read_text(encoding="utf-8")})):
        injected, extra = awx.inject(awx.load(name), inputs, str(pdd))
        assert not extra
        env.update(injected)
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(lab.collections_path()), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(pdd / "tmp"), "HOME": str(pdd / "home")})
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(env), encoding="utf-8")
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars), encoding="utf-8")
    return pdd, [token, lab.info["bmc_password"]]


def job_environment() -> dict:
    """The test's environment without what a user's shell may hold and AWX's job environment does not."""
    environ = dict((k, v) for k, v in os.environ.items()
                   if not k.startswith(FOREIGN) and not k.endswith("ACCESS_TOKEN"))
    environ["PATH"] = f"{BIN_DIR}{os.pathsep}{environ.get('PATH', '')}"
    return environ


# AWX's inventory update: ansible-inventory --list --export through ansible-runner, on the private data directory
INVENTORY_UPDATE = """\
import json, sys
from ansible_runner.interface import get_inventory
out, err = get_inventory("list", [sys.argv[2]], response_format="json", export=True, private_data_dir=sys.argv[1],
                         ident="inventory_update", quiet=True)
json.dump({"out": out, "err": err}, sys.stdout)
"""


def run_job(pdd: Path, playbook: str, ident: str) -> list:
    """``ansible-runner run`` as AWX starts a job; returns the job's events (asserts the job succeeded)."""
    environ = job_environment()
    (pdd / "home").mkdir(exist_ok=True)
    result = subprocess.run([str(BIN_DIR / "ansible-runner"), "run", str(pdd), "-p", playbook, "--ident", ident],
                            env=environ, capture_output=True, text=True, check=False)
    artifacts = pdd / "artifacts" / ident
    assert (artifacts / "status").read_text(encoding="utf-8") == "successful", result.stdout[-4000:] + result.stderr[-2000:]
    paths = sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


def stats(events: list) -> dict:
    (final,) = [e for e in events if e["event"] == "playbook_on_stats"]
    return dict((key, final["event_data"][key]) for key in ("ok", "changed", "failures", "dark", "skipped"))


def assert_no_secret(pdd: Path, events: list, secrets: list) -> None:
    # the secrets were in the job's environment (so the check below could find them) ...
    envvars = (pdd / "env" / "envvars").read_text(encoding="utf-8")
    assert all(secret in envvars for secret in secrets)
    # ... and are in none of the events AWX stores and shows
    for event in events:
        text = json.dumps(event)
        for secret in secrets:
            assert secret not in text, "a secret is in event %s (%s)" % (event["counter"], event["event"])


def test_demo_and_smd_inventory_as_awx_jobs(lab, clean_smd, tmp_path):
    nodes = sorted("x1000c0s%db0n0" % bmc["index"] for bmc in lab.bmcs if bmc["kind"] == "bmc")
    forget_boot_and_cloud_init(lab, nodes)
    lab_vars = yaml.safe_load(lab.inventory_file().read_text(encoding="utf-8"))["all"]["vars"]
    # the lab has no API gateway: its per-service addresses (not secret) come as extra vars
    extravars = {"openchami_service_uris": lab_vars["openchami_service_uris"],
                 "openchami_lab_bmcs": lab_vars["openchami_lab_bmcs"]}
    localhost = yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}})
    pdd, secrets = private_data_dir(lab, tmp_path / "demo", {"hosts.yml": localhost}, extravars)
    events = run_job(pdd, "playbooks/demo.yml", "demo")
    # five tasks write (discover, components, group, boot, cloud-init), four read and report
    assert stats(events) == {"ok": {"localhost": 9}, "changed": {"localhost": 5}, "failures": {}, "dark": {},
                             "skipped": {}}
    changed = [e["event_data"]["task"] for e in events if e["event"] == "runner_on_ok" and e["event_data"]["res"]["changed"]]
    assert len(changed) == 5 and changed[0].startswith("Discover the emulated BMCs")
    group = lab.api("smd", "GET", "/groups/compute").json()
    assert sorted(group["members"]["ids"]) == nodes
    assert_no_secret(pdd, events, secrets)

    # the inventory update AWX runs for the SMD source: the demo's nodes, in its groups, with the lean variables
    source = (REPO_ROOT / "extensions" / "awx" / "inventory" / "openchami.smd.yml").read_text(encoding="utf-8")
    pdd, secrets = private_data_dir(lab, tmp_path / "update", {"openchami.smd.yml": source}, {})
    result = subprocess.run([sys.executable, "-c", INVENTORY_UPDATE, str(pdd), str(pdd / "inventory" / "openchami.smd.yml")],
                            env=job_environment(), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    update = json.loads(result.stdout)
    listing = update["out"] if isinstance(update["out"], dict) else json.loads(update["out"])
    assert sorted(listing["_meta"]["hostvars"]) == nodes, update["err"][-3000:]
    assert sorted(listing["compute"]["hosts"]) == nodes
    assert {"smd_id", "smd_state"} <= set(listing["_meta"]["hostvars"][nodes[0]])
    assert "smd_interfaces" not in listing["_meta"]["hostvars"][nodes[0]]
    assert not any(secret in result.stdout + result.stderr for secret in secrets)

    # a job whose inventory is the SMD source AWX syncs: the nodes the demo registered are its hosts
    pdd, secrets = private_data_dir(lab, tmp_path / "inventory", {"openchami.smd.yml": source}, {},
                                    project={"nodes.yml": NODES_PLAYBOOK})
    events = run_job(pdd, "nodes.yml", "inventory")
    hosts = sorted(e["event_data"]["host"] for e in events if e["event"] == "runner_on_ok")
    assert hosts == nodes
    assert stats(events)["changed"] == {}
    groups = [e["event_data"]["res"]["group_names"] for e in events if e["event"] == "runner_on_ok"]
    assert all("compute" in names for names in groups), groups
    assert_no_secret(pdd, events, secrets)
