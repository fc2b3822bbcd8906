# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab itself: real services answer with the pinned versions, SMD auth, idempotent up, clean down.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_lab.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

from lab import build as labbuild
from lab import runtime

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# ports for the second, throw-away lab of the down/up tests (the shared one keeps running)
ISOLATED_PORTS = {"POSTGRES": 47432, "AUTH": 47770, "SMD": 47779, "BSS": 47778, "CLOUD_INIT": 47777,
                  "BOOT_SERVICE": 47776}


def lab_cli(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """``python -m lab ARGS`` from the repository root."""
    return subprocess.run([PYTHON, "-m", "lab", *args], cwd=REPO_ROOT, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=timeout, check=False)


def current_log(lab, name: str) -> str:
    """The part of a service log written since the lab last started it."""
    text = runtime.log_file(lab.state, name).read_text(encoding="utf-8", errors="replace")
    return text[text.rfind("=== "):]


# --------------------------------------------------------------------------- services and versions


def test_core_services_run_with_pinned_versions(lab):
    pinned, _unavailable = labbuild.load_versions()
    for name in ("smd", "bss", "cloud-init", "boot-service"):
        assert name in lab.urls, f"{name} is not part of the lab: {lab.info['services']}"
        assert lab.versions[name] == pinned[name].version
    assert lab.info["unavailable"]["metadata-service"]


def test_smd_answers_and_reports_its_version(lab):
    ready = lab.api("smd", "GET", "/service/ready", token=None)
    assert ready.status_code == 200 and ready.json()["message"] == "HSM is healthy"
    values = lab.api("smd", "GET", "/service/values/type", token=None)
    assert "Node" in values.json()["Type"]
    # SMD exposes its version only in the start banner and the log, not over HTTP
    version = lab.versions["smd"]
    assert re.search(r"Starting\.\.\. \S+ " + re.escape(version) + r"\b", current_log(lab, "smd"))
    banner = subprocess.run([str(lab.lab.binary("smd", "smd")), "-h"], capture_output=True, text=True, check=False)
    assert f"Version: {version}" in banner.stdout + banner.stderr


def test_bss_answers_and_reports_its_version(lab):
    assert lab.api("bss", "GET", "/service/status", token=None).json() == {"bss-status": "running"}
    answer = lab.api("bss", "GET", "/service/version", token=None)
    assert answer.status_code == 200
    assert answer.json()["bss-version"] == lab.versions["bss"]


def test_cloud_init_answers_and_reports_its_version(lab):
    answer = lab.api("cloud-init", "GET", "/version", token=None)
    assert answer.status_code == 200
    assert answer.json()["process_name"] == "cloud-init-server"
    assert f"Version: {lab.versions['cloud-init']}," in answer.json()["build_info"]


def test_boot_service_answers_and_reports_its_version(lab):
    assert lab.api("boot-service", "GET", "/health", token=None).json() == {"status": "ok", "service": "boot-service"}
    # the legacy BSS API of boot-service v0.3.x reports a hard-coded version, not the release
    legacy = lab.api("boot-service", "GET", "/boot/v1/service/version", token=None).json()
    assert legacy["service_version"] == "2.0.0-fabrica"
    out = subprocess.run([str(lab.lab.binary("boot-service")), "version"], capture_output=True, text=True, check=False)
    assert f"boot_service version {lab.versions['boot-service']}" in out.stdout


def test_power_control_answers_or_is_reported_unbuildable(lab):
    pinned, _unavailable = labbuild.load_versions()
    entry = pinned["power-control"]
    if "power-control" in lab.urls:
        assert lab.api("power-control", "GET", "/readiness", token=None).status_code == 204
        health = lab.api("power-control", "GET", "/health", token=None).json()
        assert health["KvStore"].startswith("connected") and health["StateManager"].startswith("connected")
        # PCS exposes no version: the build stamp holds the one versions.yml pins
        stamp = json.loads((labbuild.bin_dir(entry) / ".build.json").read_text(encoding="utf-8"))
        assert stamp["stamp"]["version"] == lab.versions["power-control"] == entry.version
        assert lab.api("power-control", "GET", "/power-status", token=None).status_code == 401
        assert lab.api("power-control", "GET", "/power-status").status_code == 200
    else:
        # the module proxy does not serve power-control: the lab says so instead of failing obscurely
        listing = lab_cli("build", "--list")
        assert re.search(r"power-control\s+v\S+\s+not buildable", listing.stdout)
        refused = lab_cli("up", "--services", "power-control", "--bmcs", "0")
        assert refused.returncode == 2 and "cannot be built here" in refused.stderr


def test_emulated_bmcs_answer_over_tls(lab):
    bmcs = [item for item in lab.bmcs if item["kind"] == "bmc"]
    assert len(bmcs) == 4
    for item in bmcs:
        root = requests.get(item["url"] + "/redfish/v1", verify=lab.info["bmc_ca_bundle"], timeout=10)
        assert root.status_code == 200
        systems = requests.get(item["url"] + "/redfish/v1/Systems", verify=item["cafile"], timeout=10,
                               auth=(lab.info["bmc_user"], lab.info["bmc_password"]))
        assert systems.status_code == 200
        members = [member["@odata.id"] for member in systems.json()["Members"]]
        assert members == [f"/redfish/v1/Systems/{item['system_uuid']}"]
        denied = requests.get(item["url"] + "/redfish/v1/Systems", verify=item["cafile"], timeout=10,
                              auth=(lab.info["bmc_user"], "wrong"))
        assert denied.status_code == 401


# --------------------------------------------------------------------------- authentication


def test_smd_rejects_missing_expired_and_foreign_tokens(lab):
    path = "/Inventory/RedfishEndpoints"
    assert lab.api("smd", "GET", path, token=None).status_code == 401
    assert lab.api("smd", "GET", path, token="not-a-jwt").status_code == 401
    assert lab.api("smd", "GET", path, token=lab.mint(expired=True)).status_code == 401
    assert lab.api("smd", "GET", path, token=lab.mint(audience="other-service")).status_code == 401
    assert lab.api("smd", "GET", path, token=lab.mint(foreign_key=True)).status_code == 401
    valid = lab.api("smd", "GET", path, token=lab.mint(audience="smd"))
    assert valid.status_code == 200 and "RedfishEndpoints" in valid.json()
    assert lab.api("smd", "GET", path).status_code == 200
    assert lab.api("smd", "GET", path, token=lab.env["ACCESS_TOKEN"]).status_code == 200


def test_bss_protects_boot_parameters(lab):
    assert lab.api("bss", "GET", "/bootparameters", token=None).status_code == 401
    assert lab.api("bss", "GET", "/bootparameters", token=lab.mint(expired=True)).status_code == 401
    assert lab.api("bss", "GET", "/bootparameters").status_code == 200


def test_services_read_smd_with_lab_tokens(clean_smd):
    lab = clean_smd
    node = "x3000c0s1b0n0"
    created = lab.api("smd", "POST", "/State/Components",
                      json={"Components": [{"ID": node, "State": "Ready", "Role": "Compute", "NID": 7}]})
    assert created.status_code == 204
    nic = lab.api("smd", "POST", "/Inventory/EthernetInterfaces",
                  json={"MACAddress": "02:aa:00:00:00:07", "ComponentID": node,
                        "IPAddresses": [{"IPAddress": "10.9.0.7"}]})
    assert nic.status_code == 201
    group = lab.api("smd", "POST", "/groups", json={"label": "labtest", "members": {"ids": [node]}})
    assert group.status_code == 201
    # BSS refreshes its SMD cache on POST /hosts (it authenticates with a token from the lab token endpoint)
    assert lab.api("bss", "POST", "/hosts", token=None).status_code == 204
    hosts = lab.api("bss", "GET", "/hosts", token=None, params={"name": node})
    assert hosts.status_code == 200 and hosts.json()[0]["ID"] == node
    # SMD memberships need a token; the server behind lab tokens (cloud-init) is alive after its start-up read
    assert lab.api("smd", "GET", f"/memberships/{node}").json()["groupLabels"] == ["labtest"]
    assert lab.api("smd", "GET", f"/memberships/{node}", token=None).status_code == 401
    status = lab.lab.status()
    assert status["cloud-init"]["ready"] and status["boot-service"]["ready"]
    assert "HSM sync complete" in current_log(lab, "boot-service")


def test_clean_smd_empties_smd(lab):
    node = "x3000c0s2b0n0"
    lab.api("smd", "POST", "/State/Components", json={"Components": [{"ID": node, "State": "On"}]})
    lab.api("smd", "POST", "/partitions", json={"name": "p9", "members": {"ids": [node]}})
    lab.api("smd", "POST", "/Inventory/EthernetInterfaces",
            json={"MACAddress": "02:aa:00:00:00:09", "ComponentID": node, "IPAddresses": [{"IPAddress": "10.9.0.9"}]})
    assert lab.api("smd", "GET", "/State/Components").json()["Components"]
    lab.clean_smd()
    assert lab.api("smd", "GET", "/State/Components").json() == {"Components": []}
    assert lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json() == []
    assert lab.api("smd", "GET", "/partitions").json() == []
    assert lab.api("smd", "GET", "/groups").json() == []


# --------------------------------------------------------------------------- files for users and ansible


def test_env_file_and_ochami_config(lab):
    env = lab.env
    assert env["SMD_URL"] == lab.urls["smd"] and env["OPENCHAMI_CLUSTER"] == "lab"
    assert env["LAB_ACCESS_TOKEN"] == env["ACCESS_TOKEN"]
    config = yaml.safe_load(Path(env["OCHAMI_CONFIG"]).read_text(encoding="utf-8"))
    cluster = config["clusters"][0]
    assert config["default-cluster"] == cluster["name"] == "lab"
    assert cluster["cluster"]["smd"]["uri"] == lab.urls["smd"] + "/hsm/v2"
    assert cluster["cluster"]["bss"]["uri"] == lab.urls["bss"] + "/boot/v1"
    assert Path(env["LAB_TOKEN_FILE"]).read_text(encoding="utf-8").strip() == env["ACCESS_TOKEN"]
    printed = lab_cli("env")
    assert printed.returncode == 0 and f"export SMD_URL={lab.urls['smd']}" in printed.stdout


def test_run_playbook_resolves_the_collection(lab):
    result = lab.run_playbook([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"ansible.builtin.debug": {"msg": "{{ lookup('ansible.builtin.env', 'SMD_URL') }} {{ marker }}"}},
                  {"ansible.builtin.stat": {"path": "{{ lookup('ansible.builtin.config', 'COLLECTIONS_PATHS')[0] }}"
                                                    "/ansible_collections/cscs/openchami/galaxy.yml"},
                   "register": "galaxy"},
                  {"ansible.builtin.assert": {"that": ["galaxy.stat.exists"]}}]}],
        extravars={"marker": "from-extravars"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{lab.urls['smd']} from-extravars" in result.stdout
    listed = subprocess.run([str(Path(PYTHON).parent / "ansible-galaxy"), "collection", "list", "cscs.openchami"],
                            env=lab.ansible_env(), capture_output=True, text=True, check=False)
    assert "cscs.openchami" in listed.stdout, listed.stdout + listed.stderr


def test_run_inventory_reads_the_lab_hosts_file(lab):
    inventory = lab.run_inventory(lab.inventory_file())
    assert "localhost" in inventory["_meta"]["hostvars"]
    hostvars = inventory["_meta"]["hostvars"]["localhost"]
    assert hostvars["openchami_service_uris"]["smd"] == lab.urls["smd"] + "/hsm/v2"
    assert len(hostvars["openchami_lab_bmcs"]) == len(lab.bmcs)


def test_generated_smd_inventory_source_reads_smd(clean_smd):
    lab = clean_smd
    node = "x3000c0s5b0n0"
    assert lab.api("smd", "POST", "/State/Components",
                   json={"Components": [{"ID": node, "State": "Ready", "Role": "Compute", "NID": 5}]}).status_code == 204
    source = lab.inventory_file().with_name("lab.smd.yml")
    inventory = lab.run_inventory(source)
    assert inventory["_meta"]["hostvars"][node]["smd_nid"] == 5
    assert inventory["_meta"]["hostvars"][node]["smd_role"] == "Compute"
    same = lab.run_inventory({"plugin": "cscs.openchami.smd", "cluster": "lab", "config_file": lab.env["OCHAMI_CONFIG"],
                              "token_file": lab.env["LAB_TOKEN_FILE"]})
    assert list(same["_meta"]["hostvars"]) == [node]


# --------------------------------------------------------------------------- up / down


def test_up_twice_is_harmless(lab):
    before = {name: record["pid"] for name, record in runtime.records(lab.state).items()}
    start = time.monotonic()
    again = lab_cli("up")
    assert again.returncode == 0, again.stdout + again.stderr
    assert time.monotonic() - start < 30
    after = {name: record["pid"] for name, record in runtime.records(lab.state).items()}
    assert after == before
    assert again.stdout.count("already running") >= len(before)
    assert lab.api("smd", "GET", "/State/Components").status_code == 200


def test_up_reports_a_port_taken_by_something_else(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = dict(os.environ, LAB_STATE=str(tmp_path / "state"), LAB_INVENTORY_DIR=str(tmp_path / "inv"),
                   LAB_PORT_POSTGRES=str(port))
        result = lab_cli("up", "--services", "smd", "--bmcs", "0", env=env)
    assert result.returncode == 2
    assert f"port 127.0.0.1:{port} is already in use by pid {os.getpid()}" in result.stderr
    assert "not by the lab" in result.stderr
    assert not list((tmp_path / "state" / "run").glob("*.json"))


@pytest.fixture
def isolated_state():
    """A state directory for a second lab; under the lab state, which the PostgreSQL user can reach."""
    parent = runtime.ensure_state(runtime.state_dir()) / "tmp"
    parent.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="isolated-", dir=parent))
    path.chmod(0o755)  # mkdtemp makes it private; the PostgreSQL user must get through
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_down_leaves_no_process_and_up_again_restarts(isolated_state):
    """A second, throw-away lab (own state and ports, no BMCs) is brought up, down and up again."""
    tmp_path = isolated_state
    env = dict(os.environ, LAB_STATE=str(tmp_path / "state"), LAB_INVENTORY_DIR=str(tmp_path / "inv"))
    env.update({f"LAB_PORT_{name}": str(port) for name, port in ISOLATED_PORTS.items()})
    services = "smd,bss,cloud-init,boot-service"
    first = lab_cli("up", "--services", services, "--bmcs", "0", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    state = tmp_path / "state"
    recorded = {name: record["pid"] for name, record in runtime.records(state).items()}
    assert set(recorded) == {"auth", "smd", "bss", "cloud-init", "boot-service"}
    postmaster = int((state / "pg" / "data" / "postmaster.pid").read_text(encoding="ascii").split()[0])
    twice = lab_cli("up", "--services", services, "--bmcs", "0", env=env)
    assert twice.returncode == 0 and {n: r["pid"] for n, r in runtime.records(state).items()} == recorded

    down = lab_cli("down", env=env)
    assert down.returncode == 0, down.stdout + down.stderr
    for pid in list(recorded.values()) + [postmaster]:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3], \
            f"pid {pid} survived `lab down`"
    assert not list((state / "run").glob("*.json"))
    for name, port in ISOLATED_PORTS.items():
        assert not runtime.port_open("127.0.0.1", port), f"{name} port {port} still open"
    assert lab_cli("status", env=env).returncode == 1

    again = lab_cli("up", "--services", services, "--bmcs", "0", env=env)
    try:
        assert again.returncode == 0, again.stdout + again.stderr
        assert "started" in again.stdout
        smd = json.loads((state / "lab.json").read_text(encoding="utf-8"))["urls"]["smd"]
        assert requests.get(smd + "/hsm/v2/service/ready", timeout=10).status_code == 200
    finally:
        assert lab_cli("down", env=env).returncode == 0


@pytest.mark.parametrize("command", [["status"], ["logs"], ["logs", "smd", "-n", "5"]])
def test_cli_read_commands(lab, command):
    result = lab_cli(*command)
    assert result.returncode == 0, result.stdout + result.stderr
    if command == ["status"]:
        for name in ["postgres", "auth"] + lab.info["services"]:
            assert re.search(rf"^\s+{re.escape(name)}\s+ready\b", result.stdout, re.M), result.stdout
    elif command == ["logs"]:
        assert "smd" in result.stdout and "postgres" in result.stdout
    else:
        assert 0 < len(result.stdout.splitlines()) <= 5


def test_a_process_that_ends_at_start_is_reported_with_its_exit_status(tmp_path):
    """A service that dies before it is ready: the error says how it ended (exit code, signal), not only that."""
    state = runtime.ensure_state(tmp_path / "state")
    runtime.start(state, "quitter", ["/bin/sh", "-c", "exit 3"])
    with pytest.raises(runtime.EarlyExit) as caught:
        runtime.wait_until(lambda: False, state, "quitter", 10, "never ready")
    assert caught.value.status == "exit status 3"
    assert "quitter exited before it was ready (never ready; exit status 3)" in str(caught.value)
    runtime.start(state, "killed", ["/bin/sh", "-c", "kill -9 $$"])
    with pytest.raises(runtime.EarlyExit) as caught:
        runtime.wait_until(lambda: False, state, "killed", 10, "never ready")
    assert caught.value.status == "killed by signal SIGKILL"
