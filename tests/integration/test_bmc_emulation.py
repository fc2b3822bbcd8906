# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's emulated BMCs, as real processes on loopback: sushy-tools (fake driver) and the mockup server.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_bmc_emulation.py``.
Needs root (port 443) and the mockups (``$LAB_MOCKUPS`` or ../shared/redfish-mockups).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest
import requests

from lab import bmc, runtime

MOCKUPS_ROOT = runtime.mockups_root()
MOCKUPS = {
    "ex425": "csm-rie/EX425",
    "ex235a": "csm-rie/EX235a",
    "cmm": "csm-rie/CMM",
    "gigabyte": "csm-rie/Gigabyte",
    "rackmount1": "dmtf/public-rackmount1",
    "bladed": "dmtf/public-bladed",
    "liquid": "dmtf/public-liquid-cooled-server",
}
SUSHY_IPS = [runtime.loopback(2, 1), runtime.loopback(2, 2)]
MOCKUP_IPS = {name: runtime.loopback(99, number) for number, name in enumerate(MOCKUPS, start=1)}
USER, PASSWORD = "admin", "lab-password"
BAD_BASIC = {"Authorization": "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()}
STARTUP_TIMEOUT = 20
POWER_TIMEOUT = 30


# --------------------------------------------------------------------------- helpers


class Bmc:
    """One started BMC process and how to talk to it."""

    def __init__(self, info: dict, log: Path):
        self.info = info
        self.log = log
        self.url = info["ready_url"]
        self.base = self.url[:-len("/redfish/v1")]
        self.http = requests.Session()
        # Per request, not Session.verify: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the latter.
        self.verify = info["cafile"]
        with open(log, "wb") as handle:
            self.proc = subprocess.Popen(info["argv"], env=info["env"], stdout=handle,  # pylint: disable=consider-using-with
                                         stderr=subprocess.STDOUT)

    def output(self) -> str:
        """The process's output so far (for failure messages)."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_ready(self) -> None:
        """Until the service root answers 200 over verified TLS."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.info['argv']} exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if self.http.get(self.url, timeout=2, verify=self.verify).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{self.url} not ready after {STARTUP_TIMEOUT} s:\n{self.output()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Terminate (then kill) the process and wait for it."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def get(self, path: str, auth=True, **kwargs) -> requests.Response:
        """GET ``path`` (absolute ``/redfish/...`` or ``/_mockup/...``)."""
        return self.http.get(self.base + path, auth=(USER, PASSWORD) if auth else None, timeout=10, verify=self.verify,
                             **kwargs)

    def send(self, method: str, path: str, body=None, auth=True, **kwargs) -> requests.Response:
        """A write request with a JSON body."""
        return self.http.request(method, self.base + path, json=body, auth=(USER, PASSWORD) if auth else None,
                                 timeout=10, verify=self.verify, **kwargs)


def start_all(infos: list[dict], log_dir: Path) -> list[Bmc]:
    """Start every BMC at once, then wait for all; on failure stop what was started."""
    started: list[Bmc] = []
    try:
        for number, info in enumerate(infos):
            started.append(Bmc(info, log_dir / f"bmc-{number}.log"))
        for one in started:
            one.wait_ready()
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(bmcs: list[Bmc]) -> None:
    """Terminate all first, then wait for each."""
    for one in bmcs:
        if one.proc.poll() is None:
            one.proc.terminate()
    for one in bmcs:
        one.stop()


def members(one: Bmc, collection: str) -> list[str]:
    """The member URLs of a collection."""
    answer = one.get(collection)
    assert answer.status_code == 200, answer.text
    return [member["@odata.id"] for member in answer.json()["Members"]]


def sushy_system(one: Bmc) -> dict:
    """The only system of a sushy BMC."""
    (system_url,) = members(one, "/redfish/v1/Systems")
    answer = one.get(system_url)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --------------------------------------------------------------------------- sushy-tools


def test_default_systems_are_deterministic():
    """UUID, name, MAC and IP follow from the index alone."""
    assert bmc.default_systems(3) == bmc.default_systems(3)
    system = bmc.default_systems(258)[0]
    assert system["name"] == "node258" and system["power_state"] == "Off"
    assert system["uuid"] == bmc.system_uuid(258) != bmc.system_uuid(259)
    assert bmc.bmc_macs(258) == ["02:00:00:00:01:02"]
    assert system["nics"] == [{"mac": "02:00:00:00:01:02", "ip": "10.200.1.2"}]


def test_sushy_auth_and_inventory(tmp_path):
    """Two sushy BMCs: public root, Basic auth on the rest, the expected system and MAC."""
    infos = [bmc.prepare_sushy(tmp_path, index, ip, USER, PASSWORD) for index, ip in enumerate(SUSHY_IPS, start=1)]
    bmcs = start_all(infos, tmp_path)
    try:
        for index, one in enumerate(bmcs, start=1):
            assert one.url == f"https://{SUSHY_IPS[index - 1]}/redfish/v1"
            root = one.get("/redfish/v1", auth=False)
            assert root.status_code == 200 and root.json()["Systems"]["@odata.id"] == "/redfish/v1/Systems"
            assert one.get("/redfish/v1/Systems", auth=False).status_code == 401
            assert one.get("/redfish/v1/Systems", auth=False, headers=BAD_BASIC).status_code == 401
            system = sushy_system(one)
            assert system["Id"] == bmc.system_uuid(index) and system["Name"] == f"node{index}"
            assert system["PowerState"] == "Off"
            nics = [one.get(url).json() for url in members(one, system["EthernetInterfaces"]["@odata.id"])]
            assert [nic["MACAddress"].lower() for nic in nics] == bmc.bmc_macs(index)
    finally:
        stop_all(bmcs)


def test_sushy_reset_then_fresh_restart(tmp_path):
    """Reset On is applied 1-11 s later; a new start from the same state dir is Off again."""
    def prepare():
        return [bmc.prepare_sushy(tmp_path, index, ip, USER, PASSWORD) for index, ip in enumerate(SUSHY_IPS, start=1)]

    bmcs = start_all(prepare(), tmp_path)
    try:
        targets = []
        for one in bmcs:
            system = sushy_system(one)
            target = system["Actions"]["#ComputerSystem.Reset"]["target"]
            answer = one.send("POST", target, {"ResetType": "On"})
            assert answer.status_code in (200, 202, 204), answer.text
            targets.append(system["@odata.id"])
        deadline = time.monotonic() + POWER_TIMEOUT
        pending = dict(zip(targets, bmcs))
        while pending and time.monotonic() < deadline:
            for url, one in list(pending.items()):
                if one.get(url).json()["PowerState"] == "On":
                    del pending[url]
            time.sleep(0.25)
        assert not pending, f"still not On after {POWER_TIMEOUT} s: {list(pending)}"
        assert all((Path(tmp_path) / f"bmc-{index}" / "sushy-state" / "fakedriver.sqlite").exists()
                   for index in (1, 2))
    finally:
        stop_all(bmcs)

    bmcs = start_all(prepare(), tmp_path)
    try:
        for one in bmcs:
            assert sushy_system(one)["PowerState"] == "Off"
    finally:
        stop_all(bmcs)


# --------------------------------------------------------------------------- mockup server


@pytest.fixture(scope="module", name="mockups")
def fixture_mockups(tmp_path_factory):
    """Every mockup tree served at once, each on its own loopback address, port 443."""
    state = tmp_path_factory.mktemp("mockups")
    infos = [bmc.prepare_mockup(state, name, MOCKUPS_ROOT / tree, MOCKUP_IPS[name], 443, USER, PASSWORD)
             for name, tree in MOCKUPS.items()]
    servers = start_all(infos, state)
    try:
        yield dict(zip(MOCKUPS, servers))
    finally:
        stop_all(servers)


@pytest.fixture(name="mockup")
def fixture_mockup(request, mockups):
    """One mockup server, back to its files."""
    one = mockups[request.param]
    assert one.send("POST", "/_mockup/reset", auth=False).status_code == 204
    return one


def _reset_action(one: Bmc) -> tuple[str, dict, str]:
    """(resource URL, action, a ResetType to power off) of the first powered system (chassis for the CMM)."""
    root = one.get("/redfish/v1").json()
    collection = root["Systems"]["@odata.id"] if "Systems" in root else root["Chassis"]["@odata.id"]
    for url in members(one, collection):
        resource = one.get(url).json()
        action = resource.get("Actions", {}).get("#ComputerSystem.Reset") or resource.get("Actions", {}).get("#Chassis.Reset")
        if action and resource.get("PowerState") == "On":
            allowed = action.get("ResetType@Redfish.AllowableValues")
            if allowed is None and "@Redfish.ActionInfo" in action:
                info = one.get(action["@Redfish.ActionInfo"]).json()
                allowed = next(p["AllowableValues"] for p in info["Parameters"] if p["Name"] == "ResetType")
            return url, action, next(value for value in ("ForceOff", "Off", "GracefulShutdown") if value in allowed)
    raise AssertionError(f"no resettable resource in {one.url}")


@pytest.mark.parametrize("mockup", list(MOCKUPS), indirect=True)
def test_mockup_serves_tree(mockup):
    """Public root, auth elsewhere, and every System, Manager and Chassis member served."""
    root = mockup.get("/redfish/v1", auth=False)
    assert root.status_code == 200 and root.json()["@odata.id"].rstrip("/") == "/redfish/v1"
    assert mockup.get("/redfish/v1/", auth=False).status_code == 200
    assert mockup.get("/redfish/v1/Managers", auth=False).status_code == 401
    assert mockup.get("/redfish/v1/Managers", auth=False, headers=BAD_BASIC).status_code == 401
    missing = mockup.get("/redfish/v1/NoSuchThing")
    assert missing.status_code == 404 and "error" in missing.json()
    assert mockup.get("/redfish/v1/%2e%2e/%2e%2e/etc/passwd").status_code == 404
    served = 0
    for collection in ("Systems", "Managers", "Chassis"):
        if collection not in root.json():
            continue
        for url in members(mockup, root.json()[collection]["@odata.id"]):
            answer = mockup.get(url + "/")  # trailing slash tolerated
            assert answer.status_code == 200, url
            body = answer.json()
            assert body["@odata.id"] == url
            assert answer.headers.get("ETag") == body.get("@odata.etag")
            served += 1
    assert served >= 2


@pytest.mark.parametrize("mockup", list(MOCKUPS), indirect=True)
def test_mockup_reset_recorded(mockup):
    """A Reset is accepted, recorded and turns PowerState Off; a value not offered is refused."""
    url, action, reset_type = _reset_action(mockup)
    assert mockup.get(url).json()["PowerState"] == "On"
    answer = mockup.send("POST", action["target"], {"ResetType": reset_type})
    assert answer.status_code == 204, answer.text
    assert mockup.get(url).json()["PowerState"] == "Off"
    assert mockup.send("POST", action["target"], {"ResetType": "Bogus"}).status_code == 400
    assert mockup.send("POST", action["target"], None, data=b"{not json",
                       headers={"Content-Type": "application/json"}).status_code == 400
    assert mockup.send("POST", action["target"], {"ResetType": "On"}, auth=False).status_code == 401
    log = mockup.get("/_mockup/requests", auth=False).json()
    assert [(entry["method"], entry["path"], entry["body"], entry["status"]) for entry in log[:2]] == [
        ("POST", action["target"], {"ResetType": reset_type}, 204),
        ("POST", action["target"], {"ResetType": "Bogus"}, 400),
    ]
    assert all(isinstance(entry["time"], float) for entry in log)
    manager_resets = [(manager, resource["Actions"]["#Manager.Reset"])
                      for manager in members(mockup, "/redfish/v1/Managers")
                      for resource in [mockup.get(manager).json()] if "#Manager.Reset" in resource.get("Actions", {})]
    for manager, manager_action in manager_resets[:1]:
        answer = mockup.send("POST", manager_action["target"], {"ResetType": "ForceRestart"})
        assert answer.status_code == 204, answer.text
        assert mockup.get("/_mockup/requests", auth=False).json()[-1]["path"] == manager_action["target"]
        assert mockup.get(manager).json().get("PowerState", "On") == "On"
    assert mockup.send("POST", "/_mockup/reset", auth=False).status_code == 204
    assert mockup.get("/_mockup/requests", auth=False).json() == []
    assert mockup.get(url).json()["PowerState"] == "On"


BOOT_PATCH = {"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}


@pytest.mark.parametrize("mockup", ["ex425"], indirect=True)
def test_boot_override_refused_on_cray_ex(mockup):
    """HPE Cray EX node cards have only BootOrder: a BootSourceOverride PATCH is a 400."""
    answer = mockup.send("PATCH", "/redfish/v1/Systems/Node0", BOOT_PATCH)
    assert answer.status_code == 400
    assert answer.json()["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith("PropertyUnknown")
    assert "BootSourceOverrideTarget" not in mockup.get("/redfish/v1/Systems/Node0").json()["Boot"]
    assert mockup.get("/_mockup/requests", auth=False).json()[0]["status"] == 400


@pytest.mark.parametrize("mockup", ["gigabyte"], indirect=True)
def test_boot_override_on_gigabyte(mockup):
    """Gigabyte accepts the PATCH (visible on the next GET, new etag); If-Match and AllowableValues are enforced."""
    url = "/redfish/v1/Systems/Self"
    on_disk = (MOCKUPS_ROOT / MOCKUPS["gigabyte"] / "Systems/Self/index.json").read_bytes()
    before = mockup.get(url)
    etag = before.headers["ETag"]
    assert before.json()["Boot"]["BootSourceOverrideTarget"] != "Pxe"
    stale = mockup.send("PATCH", url, BOOT_PATCH, headers={"If-Match": 'W/"12345"'})
    assert stale.status_code == 412
    answer = mockup.send("PATCH", url, BOOT_PATCH, headers={"If-Match": etag})
    assert answer.status_code in (200, 204), answer.text
    after = mockup.get(url)
    assert after.json()["Boot"]["BootSourceOverrideTarget"] == "Pxe"
    assert after.json()["Boot"]["BootSourceOverrideEnabled"] == "Once"
    assert after.json()["Boot"]["BootSourceOverrideMode"] == before.json()["Boot"]["BootSourceOverrideMode"]
    assert after.headers["ETag"] != etag and after.headers["ETag"] == after.json()["@odata.etag"]
    assert mockup.send("PATCH", url, BOOT_PATCH, headers={"If-Match": etag}).status_code == 412
    bad = mockup.send("PATCH", url, {"Boot": {"BootSourceOverrideTarget": "Diags"}})
    assert bad.status_code == 400
    assert (MOCKUPS_ROOT / MOCKUPS["gigabyte"] / "Systems/Self/index.json").read_bytes() == on_disk
    log = mockup.get("/_mockup/requests", auth=False).json()
    assert [(entry["method"], entry["status"]) for entry in log] == [("PATCH", 412), ("PATCH", 200), ("PATCH", 412),
                                                                     ("PATCH", 400)]
    assert log[1]["body"] == BOOT_PATCH


@pytest.mark.parametrize("mockup", ["rackmount1"], indirect=True)
def test_mockup_sessions(mockup):
    """Session login gives a token that authorises; logout revokes it; the password is not logged."""
    sessions = "/redfish/v1/SessionService/Sessions"
    assert mockup.send("POST", sessions, {"UserName": USER, "Password": "wrong"}, auth=False).status_code == 401
    login = mockup.send("POST", sessions, {"UserName": USER, "Password": PASSWORD}, auth=False)
    assert login.status_code == 201, login.text
    token, location = login.headers["X-Auth-Token"], login.headers["Location"]
    assert location.startswith(sessions + "/")
    headers = {"X-Auth-Token": token}
    assert mockup.get("/redfish/v1/Systems", auth=False, headers=headers).status_code == 200
    listed = mockup.get(sessions, auth=False, headers=headers).json()["Members"]
    assert {"@odata.id": location} in listed
    assert mockup.get(location, auth=False, headers=headers).json()["UserName"] == USER
    assert mockup.send("DELETE", location, auth=False, headers=headers).status_code == 204
    assert mockup.get("/redfish/v1/Systems", auth=False, headers=headers).status_code == 401
    assert mockup.send("DELETE", location).status_code == 404
    log = json.dumps(mockup.get("/_mockup/requests", auth=False).json())
    assert PASSWORD not in log and "wrong" not in log
