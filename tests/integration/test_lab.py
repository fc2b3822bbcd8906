# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab itself: real services answer with the pinned versions, SMD auth, idempotent up, clean down.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_lab.py``.
"""

from __future__ import annotations

import collections
import fcntl
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
from lab import jwt as labjwt
from lab import runtime
from lab.services import DEFAULT_PORTS, Lab, Proc, port_of

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def beside(port: int, offset: int = 0) -> int:
    """A port for a throw-away lab next to the lab on ``port``: below the kernel's ephemeral range (32768-60999
    here, where any client connection may hold a port for a while: seen taking 127.0.0.1:37870), and apart for
    every lab of this machine (27779 -> 12779, 37779 -> 13779, 57779 -> 15779)."""
    return 10000 + port // 10000 * 1000 + port % 1000 + offset


# ports of the second, throw-away lab of the down/up tests (the shared one keeps running)
ISOLATED_PORTS = {name.upper().replace("-", "_"): beside(port_of(name)) for name in DEFAULT_PORTS if name != "power-control"}


def lab_cli(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """``python -m lab ARGS`` from the repository root."""
    return subprocess.run([PYTHON, "-m", "lab", *args], cwd=REPO_ROOT, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=timeout, check=False)


def isolated_env(path: Path) -> dict:
    """Environment of a throw-away lab in ``path`` (own state, inventory and ports; no BMCs by default)."""
    env = dict(os.environ, LAB_STATE=str(path / "state"), LAB_INVENTORY_DIR=str(path / "inv"), LAB_BMCS="0")
    env.update({f"LAB_PORT_{name}": str(port) for name, port in ISOLATED_PORTS.items()})
    return env


def alive(pid: int) -> bool:
    """True if process ``pid`` exists and is not a zombie (an ended process its parent has not collected yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes_of(state: Path) -> list[str]:
    """Live processes of the lab in ``state``, found without the lab's code: their working directory is in
    it, or its path is on their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if alive(int(entry.name)) and (cwd == str(state) or cwd.startswith(f"{state}/") or str(state) in cmdline):
            found.append(f"pid {entry.name} ({cmdline.strip()})")
    return found


def lab_log_starts(state: Path, name: str) -> int:
    """How often the lab started ``name`` (its log says so before every start)."""
    return runtime.log_file(state, name).read_text(encoding="utf-8", errors="replace").count(" lab starts: ")


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


def test_tokensmith_serves_the_jwks_every_service_checks_and_mints_tokens_they_accept(lab):
    """TokenSmith (Go module proxy) holds the lab key: its JWKS is the one SMD, BSS, the emulators check."""
    url = lab.info["auth"]["jwks_url"]
    assert url == "http://127.0.0.1:%d/.well-known/jwks.json" % port_of("tokensmith"), url
    assert lab.info["versions"].get("tokensmith") is None or lab.info["versions"]["tokensmith"] == "v0.4.1"
    keys = requests.get(url, timeout=10).json()["keys"]
    minted = lab.lab.mint_with_tokensmith("smd")
    header = labjwt.decode_unverified(minted)[0]
    assert header["alg"] == "PS256" and header["kid"] in [k["kid"] for k in keys], (header, keys)
    assert lab.api("smd", "POST", "/State/Components/Query", json={"ComponentIDs": []}, token=minted).status_code != 401
    for service, path in (("smd", "/Inventory/RedfishEndpoints"), ("pcs", "/power-status"),
                          ("metadata-service", "/groups")):
        if service in lab.urls:
            assert lab.api(service, "GET", path, token=minted).status_code == 200, service
            assert lab.api(service, "GET", path, token=lab.mint(foreign_key=True)).status_code == 401, service


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
    # BSS refreshes its SMD cache on POST /hosts (it authenticates with a token from the lab token endpoint), at most
    # once per second: clean_smd has just made it re-read
    while True:
        assert lab.api("bss", "POST", "/hosts", token=None).status_code == 204
        hosts = lab.api("bss", "GET", "/hosts", token=None, params={"name": node})
        if hosts.status_code != 404:
            break
        time.sleep(0.2)
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
    again = lab_cli("up")
    assert again.returncode == 0, again.stdout + again.stderr
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


def test_make_lab_up_and_down_leave_no_lab_process(isolated_state):
    """`make lab-up && make lab-down` on a throw-away lab (own state and ports, no BMCs); on the way the lab
    loses track of SMD, then of BSS, as in issue 19: `status` says so, `up` and `down` stop the lost copies."""
    env = isolated_env(isolated_state)
    env["LAB_SERVICES"] = "smd,bss,cloud-init,boot-service"
    state = isolated_state / "state"
    make = ["make", "--no-print-directory", "-C", str(REPO_ROOT)]
    try:
        first = subprocess.run(make + ["lab-up"], env=env, capture_output=True, text=True, check=False)
        assert first.returncode == 0, first.stdout + first.stderr
        recorded = {name: record["pid"] for name, record in runtime.records(state).items()}
        assert set(recorded) == {"auth", "tokensmith", "smd", "bss", "cloud-init", "boot-service"}
        postmaster = int((state / "pg" / "data" / "postmaster.pid").read_text(encoding="ascii").split()[0])
        twice = lab_cli("up", env=env)
        assert twice.returncode == 0 and {n: r["pid"] for n, r in runtime.records(state).items()} == recorded
        assert lab_cli("status", env=env).returncode == 0

        # the record of SMD now describes a process that has ended; the SMD that runs is untracked
        smd_record = runtime.read_record(state, "smd")
        gone = subprocess.Popen(["sleep", "0"])  # pylint: disable=consider-using-with
        gone.wait()
        smd_record.update({"pid": gone.pid, "start_time": 1})
        runtime.pid_file(state, "smd").write_text(json.dumps(smd_record), encoding="utf-8")
        status = lab_cli("status", env=env)
        assert status.returncode == 1, status.stdout + status.stderr
        assert "smd (stopped)" in status.stderr and f"untracked-{recorded['smd']} (untracked)" in status.stderr
        port = ISOLATED_PORTS["SMD"]
        again = lab_cli("up", env=env)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"stopped an untracked copy that held 127.0.0.1:{port}: pid {recorded['smd']} " in again.stdout
        assert not alive(recorded["smd"])
        smd = runtime.read_record(state, "smd")
        assert runtime.listens(smd, "127.0.0.1", port) and lab_cli("status", env=env).returncode == 0

        # BSS loses its record altogether: `status` names it, `make lab-down` stops it all the same
        runtime.pid_file(state, "bss").unlink()
        status = lab_cli("status", env=env)
        assert status.returncode == 1 and "bss (not running)" in status.stderr, status.stdout + status.stderr
        down = subprocess.run(make + ["lab-down"], env=env, capture_output=True, text=True, check=False)
        assert down.returncode == 0, down.stdout + down.stderr
        assert re.search(rf"untracked\s+pid {recorded['bss']} \(.*boot-script-service\): stopped", down.stdout), down.stdout
        assert processes_of(state) == []
        for pid in list(recorded.values()) + [smd["pid"], postmaster]:
            assert not alive(pid), f"pid {pid} survived `make lab-down`"
        assert not list((state / "run").glob("*.json"))
        for name, port in ISOLATED_PORTS.items():
            assert not runtime.port_open("127.0.0.1", port), f"{name} port {port} still open"
        status = lab_cli("status", env=env)
        assert status.returncode == 1 and "smd (not running)" in status.stderr
    finally:
        lab_cli("down", env=env)


def test_a_service_seen_without_command_line_is_started_once(isolated_state, monkeypatch):
    """Issue 19. Between exec()'s point of no return and the set-up of the new program's arguments, the
    kernel shows an empty /proc/<pid>/cmdline, and Popen has already returned by then (on a loaded machine
    the window is long enough to be seen). The lab read that as "SMD ended", started a second SMD, which
    could not bind, and lost the first. Here every process shows no command line to its first three reads."""
    env = isolated_env(isolated_state)
    for key in ("LAB_STATE", "LAB_INVENTORY_DIR") + tuple(f"LAB_PORT_{name}" for name in ISOLATED_PORTS):
        monkeypatch.setenv(key, env[key])
    reads = collections.Counter()
    real_cmdline = runtime._proc_cmdline  # pylint: disable=protected-access

    def cmdline_in_exec(pid):
        reads[pid] += 1
        return [] if reads[pid] <= 3 else real_cmdline(pid)
    monkeypatch.setattr(runtime, "_proc_cmdline", cmdline_in_exec)
    messages = []
    lab = Lab(out=messages.append)
    try:
        lab.up(services=["smd"], bmcs=0)
        smd = runtime.read_record(lab.state, "smd")
        reads[smd["pid"]] = 0
        assert runtime.record_alive(smd) and reads[smd["pid"]] == 1  # alive, also with no command line shown
        assert lab_log_starts(lab.state, "smd") == 1, "\n".join(messages)
        assert not [line for line in messages if "once more" in line]
        assert runtime.listens(smd, "127.0.0.1", ISOLATED_PORTS["SMD"])
        status = lab_cli("status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
    finally:
        lab.down()
    assert processes_of(lab.state) == []


def test_a_lab_object_attached_to_a_running_lab_restarts_and_stops_services(isolated_state, monkeypatch):
    """Issue 10: a Lab object that did not start the lab (the demo did) can restart and stop its services."""
    env = isolated_env(isolated_state)
    up = lab_cli("up", "--services", "smd,bss", env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        for key in ("LAB_STATE", "LAB_INVENTORY_DIR") + tuple(f"LAB_PORT_{name}" for name in ISOLATED_PORTS):
            monkeypatch.setenv(key, env[key])
        messages = []
        attached = Lab(out=messages.append)
        before = {name: record["pid"] for name, record in runtime.records(attached.state).items()}
        token = attached.mint()
        smd_url = f"http://127.0.0.1:{ISOLATED_PORTS['SMD']}/hsm/v2"
        created = requests.post(smd_url + "/State/Components", timeout=30, headers={"Authorization": f"Bearer {token}"},
                                json={"Components": [{"ID": "x3000c0s9b0n0", "State": "Ready"}]})
        assert created.status_code == 204, created.text
        for name in ("smd", "bss"):
            attached.restart(name)
            record = runtime.read_record(attached.state, name)
            assert record["pid"] != before[name]
            assert attached.status()[name]["state"] == "ready"
        kept = requests.get(smd_url + "/State/Components/x3000c0s9b0n0", timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
        assert kept.status_code == 200  # the restarted SMD reads the same database

        assert attached.stop("smd") == "stopped"
        status = lab_cli("status", env=env)
        assert status.returncode == 1 and "down or untracked: smd (not running)" in status.stderr, status.stderr
        attached.restart("smd")
        assert lab_cli("status", env=env).returncode == 0
    finally:
        assert lab_cli("down", env=env).returncode == 0
    assert processes_of(isolated_state / "state") == []


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


def test_status_of_a_lab_that_never_came_up_exits_1(tmp_path):
    env = dict(os.environ, LAB_STATE=str(tmp_path / "state"))
    status = lab_cli("status", env=env)
    assert status.returncode == 1
    assert f"down or untracked: postgres (stopped), the lab is not up ({tmp_path / 'state' / 'lab.json'} is missing)" \
        in status.stderr


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


def test_a_process_without_command_line_yet_is_alive(tmp_path, monkeypatch):
    """The identity of a recorded process is its pid and start time; an empty /proc/<pid>/cmdline (exec() in
    progress) is not an ended process, and waiting for readiness goes on instead of failing."""
    state = runtime.ensure_state(tmp_path / "state")
    record = runtime.start(state, "sleeper", ["/bin/sleep", "300"])
    monkeypatch.setattr(runtime, "_proc_cmdline", lambda pid: [])
    assert runtime.record_alive(record) and runtime.is_running(state, "sleeper")
    checks = iter([False, False, True])
    runtime.wait_until(lambda: next(checks), state, "sleeper", 60, "third check")
    monkeypatch.undo()
    assert runtime.stop(state, "sleeper") == "stopped"
    assert not runtime.record_alive(record) and runtime.confirmed_gone(record)


def _http_service(port: int, flag: Path) -> list[str]:
    """argv of a small service: the first run ends at once (exit 3) and leaves ``flag``; later runs serve HTTP."""
    code = ("import http.server, pathlib, sys\n"
            "flag = pathlib.Path(sys.argv[1])\n"
            "if not flag.exists():\n    flag.touch()\n    sys.exit(3)\n"
            "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[2])), http.server.SimpleHTTPRequestHandler)"
            ".serve_forever()\n")
    return [PYTHON, "-c", code, str(flag), str(port)]


def test_a_service_that_ends_at_start_is_restarted_on_a_freed_port(isolated_state):
    """The retry after a real early exit: the first process is gone, the port is free; an untracked copy of the
    lab that held the port is stopped (and said so); a port of anybody else stops everything."""
    lab = Lab(state=isolated_state / "state", out=(messages := []).append)
    port = beside(port_of("smd"), 200)
    url = f"http://127.0.0.1:{port}"
    # an untracked process of this lab on the port: started by the lab, its record lost
    stray = runtime.start(lab.state, "stray", [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                          cwd=lab.state / "stray")
    runtime.wait_until(lambda: runtime.port_open("127.0.0.1", port), lab.state, "stray", 60, "listening")
    runtime.pid_file(lab.state, "stray").unlink()
    service = Proc("svc", _http_service(port, isolated_state / "ran-once"), dict(os.environ), lab.state / "svc",
                   lambda: runtime.http_ok(url + "/"), "GET /", url, ("127.0.0.1", port))
    try:
        lab._wave([service])  # pylint: disable=protected-access
        text = "\n".join(messages)
        assert f"stopped an untracked copy that held 127.0.0.1:{port}: pid {stray['pid']} " in text
        assert f"{'svc':<16} ended at start (exit status 3); starting it once more" in text
        assert not runtime.record_alive(stray)
        record = runtime.read_record(lab.state, "svc")
        assert lab_log_starts(lab.state, "svc") == 2 and runtime.listens(record, "127.0.0.1", port)
    finally:
        runtime.stop(lab.state, "svc")
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port may have connections in TIME_WAIT
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        with pytest.raises(runtime.LabError, match=rf"port 127.0.0.1:{port} is already in use by pid {os.getpid()} "):
            lab._wave([service])  # pylint: disable=protected-access
    assert runtime.read_record(lab.state, "svc") is None and lab_log_starts(lab.state, "svc") == 2


def test_a_port_held_by_a_connection_is_reported_as_such():
    """A client connection whose local end is the port a service wants (the kernel picks such ports from its
    ephemeral range) makes the service fail to bind: the lab says so before starting anything."""
    port = beside(port_of("smd"), 202)
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        client.bind(("127.0.0.1", port))
        client.connect(server.getsockname())
        with pytest.raises(runtime.LabError) as caught:
            runtime.check_port_free("svc", "127.0.0.1", port, "set LAB_PORT_SVC")
    assert str(caught.value).startswith(f"svc: port 127.0.0.1:{port} is the local end of a connection of pid {os.getpid()} (")
    assert str(caught.value).endswith("(set LAB_PORT_SVC).")
    runtime.check_port_free("svc", "127.0.0.1", port)  # the connection is closed: free again


def test_readiness_is_that_of_the_process_the_lab_started(isolated_state):
    """Something else answering on the port is not the readiness of the process the lab started."""
    state = runtime.ensure_state(isolated_state / "state")
    port = beside(port_of("smd"), 201)
    other = subprocess.Popen([PYTHON, "-m", "http.server", "--bind", "127.0.0.1", str(port)],  # pylint: disable=consider-using-with
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not runtime.port_open("127.0.0.1", port):
            assert other.poll() is None
            time.sleep(0.1)
        runtime.start(state, "quiet", ["/bin/sleep", "300"])
        with pytest.raises(runtime.LabError) as caught:
            runtime.wait_until(lambda: runtime.http_ok(f"http://127.0.0.1:{port}/"), state, "quiet", 2, "GET /",
                               bind=("127.0.0.1", port))
        assert f"127.0.0.1:{port} is held by pid {other.pid} " in str(caught.value)
        assert "not by the process the lab started" in str(caught.value)
    finally:
        runtime.stop(state, "quiet")
        other.terminate()
        other.wait()


def test_build_says_what_it_builds_and_how_it_progresses(tmp_path):
    """`lab build` says what it builds and, while a build runs (here: waits for another build of the same
    entry), a line at least every $LAB_PROGRESS_SECONDS, not more often."""
    pinned, _unavailable = labbuild.load_versions()
    entry = pinned["smd"]
    if not labbuild.is_built(entry):
        pytest.fail("the lab's SMD is not built (run `python -m lab build smd`)")
    cache = tmp_path / "cache"
    (cache / "locks").mkdir(parents=True)
    env = dict(os.environ, LAB_CACHE=str(cache), LAB_PROGRESS_SECONDS="1")
    with open(cache / "locks" / f"{entry.dir_name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # "another build" of the same entry runs
        proc = subprocess.Popen([PYTHON, "-m", "lab", "build", "smd"], cwd=REPO_ROOT, env=env,  # pylint: disable=consider-using-with
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        progress = []
        while len(progress) < 3:
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            if line.startswith("building smd: "):
                progress.append(time.monotonic())
        assert lines[0].startswith(f"building smd {entry.version} ({entry.module}) ...")
        assert re.match(r"building smd: \d+s, waiting for another build of smd ", lines[-1])
        assert all(later - earlier > 0.5 for earlier, later in zip(progress, progress[1:]))  # no flood
        # the other build finishes: its binaries appear, then its lock is released
        out = labbuild.bin_dir(entry).relative_to(labbuild.cache_root())
        (cache / out).mkdir(parents=True)
        for name in list(entry.binaries) + [".build.json"]:
            (cache / out / name).symlink_to(labbuild.bin_dir(entry) / name)
        fcntl.flock(lock, fcntl.LOCK_UN)
        rest = proc.communicate()[0]
    assert proc.returncode == 0, "".join(lines) + rest
    assert re.search(r"^built smd \S+ in [\d.]+s$", rest, re.M) and f"ok      smd: {cache / out}" in rest
