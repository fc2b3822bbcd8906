# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for tests against the local lab (real OpenCHAMI services, see lab/README.md).

Run from the repository root: ``.venv/bin/python -m pytest tests/integration``.

* ``lab`` (session): brings the lab up, or reuses one that is already up, and yields a
  :class:`LabHandle`. At the end of the run the lab is stopped only if this run started it
  (also with pytest-xdist: the controller stops it after all workers); ``LAB_KEEP=1`` keeps it.
* ``clean_smd`` (function): empties SMD before the test (components, component endpoints,
  Redfish endpoints, Ethernet interfaces, groups, partitions, hardware inventory).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lab import jwt as labjwt  # noqa: E402  pylint: disable=wrong-import-position
from lab import runtime  # noqa: E402  pylint: disable=wrong-import-position
from lab.services import SERVICES, Lab  # noqa: E402  pylint: disable=wrong-import-position
import progress  # noqa: E402  pylint: disable=wrong-import-position
from tests.unit.utils.ansible_output import collections_path, plain  # noqa: E402  pylint: disable=wrong-import-position

API_PREFIX = {"smd": "/hsm/v2", "smd2": "/hsm/v2", "bss": "/boot/v1", "cloud-init": "", "boot-service": "", "pcs": "", "power-control": "",
              "auth": ""}
CORE_SERVICES = ("smd", "bss", "cloud-init", "boot-service")
BIN_DIR = Path(sys.executable).parent


class LabHandle:  # pylint: disable=too-many-instance-attributes
    """A running lab, as seen by tests.

    Attributes: ``state`` (Path), ``info`` (lab.json: urls, versions, bmcs, ...), ``urls``
    (service -> base URL), ``token`` (valid for the session), ``env`` (lab.env exports),
    ``bmcs`` (emulated BMCs), ``started`` (whether this session brought the lab up).
    """

    def __init__(self, lab: Lab, started: bool):
        self.lab = lab
        self.state = lab.state
        self.started = started
        self.info = json.loads((self.state / "lab.json").read_text(encoding="utf-8"))
        self.urls = dict(self.info["urls"])
        self.urls["auth"] = self.info["auth"]["url"]
        self.versions = self.info["versions"]
        self.bmcs = self.info["bmcs"]
        self.token = self.mint(lifetime=12 * 3600)
        self.env = _read_env(self.state / "lab.env")
        self.http = requests.Session()
        self._collections = None

    # ------------------------------------------------------------ tokens and HTTP
    def mint(self, audience=None, lifetime: int = 3600, expired: bool = False, **kwargs) -> str:
        """A lab token: valid by default; ``expired=True``; ``audience="other"`` for a wrong audience."""
        return labjwt.mint(self.state, audience=audience, lifetime=lifetime, expired=expired, **kwargs)

    def url(self, service: str, path: str = "") -> str:
        """Full URL of ``path`` under ``service``'s API prefix (SMD /hsm/v2, BSS /boot/v1)."""
        prefix = API_PREFIX.get(service, "")
        if path and not path.startswith("/"):
            path = "/" + path
        if prefix and path.startswith(prefix + "/"):
            prefix = ""
        return self.urls[service] + prefix + path

    def api(self, service: str, method: str, path: str, token: str | None = "default", **kwargs) -> requests.Response:
        """One request to a lab service; ``token=None`` sends none, a string sends that token.

        ``path`` is relative to the API prefix (``lab.api("smd", "GET", "/State/Components")``);
        other keyword arguments go to ``requests`` (``json=``, ``params=`` ...).
        """
        headers = dict(kwargs.pop("headers", None) or {})
        if token == "default":
            token = self.token
        if token:
            headers["Authorization"] = "Bearer " + token
        kwargs.setdefault("timeout", 30)
        return self.http.request(method, self.url(service, path), headers=headers, **kwargs)

    def clean_smd(self) -> None:
        """Delete everything from SMD (leaves the schema and the service alone)."""
        for label in self._get_json("/groups/labels") or []:
            self._delete(f"/groups/{label}")
        for partition in self._get_json("/partitions") or []:
            self._delete(f"/partitions/{partition['name']}")
        for path in ("/Inventory/RedfishEndpoints", "/Inventory/ComponentEndpoints", "/Inventory/EthernetInterfaces",
                     "/Inventory/ServiceEndpoints", "/Inventory/Hardware", "/Inventory/HardwareByFRU",
                     "/Inventory/NodeMaps", "/Inventory/PowerMaps", "/State/Components"):
            self._delete(path)
        left = self._get_json("/State/Components")["Components"]
        assert not left, f"SMD still has components after cleaning: {left}"
        if "bss" in self.urls:
            # BSS resolves a MAC to a node from its own copy of SMD's state, which it re-reads on POST /hosts (at most
            # once per second) or for a node it does not know; a lab BMC's MAC plays one node after another, so the
            # copy must forget the last one
            while True:
                self.api("bss", "POST", "/hosts").raise_for_status()
                if not self.api("bss", "GET", "/dumpstate").json().get("Components"):
                    break
                time.sleep(0.2)

    def clean_bss(self) -> None:
        """Delete every node's boot parameters from BSS: those stored under xnames and those under MACs."""
        records = self.api("bss", "GET", "/bootparameters").json() or []
        for key in ("hosts", "macs"):
            items = sorted({item for record in records for item in record.get(key) or []})
            if items:
                self.api("bss", "DELETE", "/bootparameters", json={key: items}).raise_for_status()

    def _get_json(self, path: str):
        response = self.api("smd", "GET", path)
        response.raise_for_status()
        return response.json()

    def _delete(self, path: str) -> None:
        response = self.api("smd", "DELETE", path)
        if response.status_code not in (200, 204, 404):
            raise AssertionError(f"DELETE {path}: {response.status_code} {response.text}")

    # ------------------------------------------------------------ ansible
    def ansible_env(self) -> dict:
        """Environment for ansible-* commands: lab.env, and cscs.openchami resolving to this checkout."""
        env = dict(os.environ)
        env.update(self.env)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections_path()),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_LOCAL_TEMP": str(self.state / "ansible-tmp"),
            "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        })
        return env

    def collections_path(self) -> Path:
        """A directory holding ``ansible_collections/cscs/openchami`` -> the repository (symlink)."""
        if self._collections is None:
            self._collections = Path(collections_path(REPO_ROOT, prefix="lab-collections-"))
        return self._collections

    def run_playbook(self, playbook, extravars: dict | None = None, inventory=None, args=(), check: bool = False,
                     timeout: int = 600) -> subprocess.CompletedProcess:
        """Run real ``ansible-playbook``; ``playbook`` is a path or YAML (text, or a list of plays).

        ``inventory`` defaults to the lab's ``inventories/lab/hosts.yml``; ``extravars`` are passed as
        a JSON file. Returns the CompletedProcess (text stdout/stderr); does not raise on failure.
        """
        work = Path(tempfile.mkdtemp(prefix="lab-play-", dir=self._tmp_root()))
        if isinstance(playbook, (list, dict)):
            path = work / "playbook.yml"
            path.write_text(yaml.safe_dump(playbook if isinstance(playbook, list) else [playbook], sort_keys=False),
                            encoding="utf-8")
        elif isinstance(playbook, Path) or (isinstance(playbook, str) and "\n" not in playbook and Path(playbook).exists()):
            path = Path(playbook)
        else:
            path = work / "playbook.yml"
            path.write_text(str(playbook), encoding="utf-8")
        cmd = [str(BIN_DIR / "ansible-playbook"), "-i", str(inventory or self.inventory_file()), str(path)]
        if extravars:
            varfile = work / "extravars.json"
            varfile.write_text(json.dumps(extravars), encoding="utf-8")
            cmd += ["-e", f"@{varfile}"]
        if check:
            cmd.append("--check")
        cmd += list(args)
        return subprocess.run(cmd, env=self.ansible_env(), capture_output=True, text=True, timeout=timeout,
                              cwd=work, check=False)

    def run_inventory(self, source, timeout: int = 300, raw: bool = False) -> dict:
        """``ansible-inventory -i SOURCE --list`` -> dict; ``source`` is a path or a dict (written as *.smd.yml).

        ansible-core 2.19 marks untrusted strings as ``{"__ansible_unsafe": "..."}``; those markers are
        removed unless ``raw``.
        """
        if isinstance(source, dict):
            work = Path(tempfile.mkdtemp(prefix="lab-inv-", dir=self._tmp_root()))
            path = work / "lab.smd.yml"
            path.write_text(yaml.safe_dump(source, sort_keys=False), encoding="utf-8")
            source = path
        cmd = [str(BIN_DIR / "ansible-inventory"), "-i", str(source), "--list"]
        result = subprocess.run(cmd, env=self.ansible_env(), capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        data = json.loads(result.stdout)
        return data if raw else plain(data)

    def inventory_file(self) -> Path:
        """The lab's hosts.yml (written by `lab up`)."""
        from lab.services import inventory_dir  # pylint: disable=import-outside-toplevel
        return inventory_dir() / "hosts.yml"

    def _tmp_root(self) -> Path:
        path = self.state / "tmp"
        path.mkdir(exist_ok=True)
        return path


SHOW_TASK = "show the registered results"


def show_task(expression: str) -> dict:
    """A last task that prints ``expression`` (registered results) as JSON, for :func:`shown` to read back from
    ansible-playbook's output. ``ansible.builtin.debug`` runs in the controller; writing a file with
    ``ansible.builtin.copy`` instead costs two more module processes (stat, copy), about a third of a one-task play."""
    return {"name": SHOW_TASK, "ansible.builtin.debug": {"msg": "{{ %s | to_json }}" % expression}, "check_mode": False}


def shown(stdout: str):
    """What :func:`show_task` printed in ``stdout`` (None when the play did not get that far)."""
    marker = stdout.rfind("TASK [%s]" % SHOW_TASK)
    start = stdout.find("=> ", marker) if marker >= 0 else -1
    if start < 0:
        return None
    printed, _end = json.JSONDecoder().raw_decode(stdout, start + len("=> "))
    return json.loads(printed["msg"])


def _read_env(path: Path) -> dict:
    """Parse the ``export KEY=VALUE`` lines of lab.env."""
    import shlex  # pylint: disable=import-outside-toplevel
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("export "):
            key, _sep, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def _lab_is_up(lab: Lab) -> bool:
    if not (lab.state / "lab.json").exists():
        return False
    status = lab.status()
    wanted = ("postgres", "auth") + CORE_SERVICES
    # what the lab should run is ready; an untracked process of the lab makes `up` run (it frees the ports)
    return all(status.get(name, {}).get("ready") for name in wanted) and \
        all(item["ready"] for item in status.values() if item["expected"] or item["state"] == "untracked")


OWNER_FILE = "pytest-owner"


def pytest_configure(config):
    """Remember which pytest run owns a lab it starts (xdist workers inherit this from the controller)."""
    if not hasattr(config, "workerinput"):
        os.environ.setdefault("LAB_PYTEST_OWNER", f"{os.getpid()}-{time.time()}")
    config.pluginmanager.register(progress, "cscs-openchami-progress")


def pytest_sessionfinish(session):
    """Controller (or plain pytest): stop the lab if a fixture of this run started it."""
    if hasattr(session.config, "workerinput") or os.environ.get("LAB_KEEP"):
        return
    marker = runtime.state_dir() / OWNER_FILE
    if marker.exists() and marker.read_text(encoding="utf-8").strip() == os.environ.get("LAB_PYTEST_OWNER"):
        Lab(out=lambda message: None).down()
        marker.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def lab():
    """The running lab (started here if needed; stopped at the end of the run only if this run started it)."""
    messages = []
    instance = Lab(out=messages.append)
    started = False
    if not _lab_is_up(instance):
        try:
            info = instance.up()
        except runtime.LabError as exc:
            instance.down()  # leave nothing half-started behind
            pytest.fail(f"lab up failed: {exc}\n" + "\n".join(messages), pytrace=False)
        started = bool(info["started"])
        if started:
            # pytest_sessionfinish of this run stops it (after every xdist worker is done)
            (instance.state / OWNER_FILE).write_text(os.environ.get("LAB_PYTEST_OWNER", ""), encoding="utf-8")
    yield LabHandle(instance, started)


@pytest.fixture
def clean_smd(lab):  # pylint: disable=redefined-outer-name
    """Empty SMD before the test; yields the lab handle."""
    lab.clean_smd()
    yield lab


__all__ = ["LabHandle", "lab", "clean_smd", "SERVICES", "show_task", "shown"]
