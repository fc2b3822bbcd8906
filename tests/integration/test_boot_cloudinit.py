# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""boot_config(_info) and cloud_init_* run by real ansible-playbook against real BSS, boot-service, cloud-init and SMD.

Run from the repository root: ``.venv/bin/python -m pytest tests/integration/test_boot_cloudinit.py``.

The services come from the ``lab`` fixture (tests/integration/conftest.py), the one lab harness of the tests
(it reuses a lab that is already up); :class:`Services` only adds this file's shortcuts.

Every test works on nodes of its own (a random cabinet registered in SMD for this module, with NIDs, MACs,
IPs and an SMD group) and removes what it wrote, whatever the order the tests run in.
"""

from __future__ import annotations

import base64
import random
import time
from pathlib import Path

import pytest
import requests
import yaml

from conftest import show_task, shown  # pylint: disable=import-error
from tests.unit.utils.ansible_output import plain

REPO_ROOT = Path(__file__).resolve().parents[2]
API_PREFIX = {"smd": "/hsm/v2", "bss": "/boot/v1", "cloud_init": "", "boot_service": ""}
CACHE_WAIT = 90  # the cloud-init server reads SMD group membership once a minute


class Services:
    """Where the services are, how to call them directly, and how to run a playbook against them."""

    def __init__(self, roots, token, runner):
        self.roots = roots
        self.token = token
        self.runner = runner
        self.http = requests.Session()

    def url(self, service, path=""):
        return self.roots[service] + API_PREFIX[service] + path

    def api(self, service, method, path, expect=(200, 201, 204), **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        response = self.http.request(method, self.url(service, path), headers=headers, timeout=30, **kwargs)
        if expect and response.status_code not in expect:
            raise AssertionError("%s %s: %d %s" % (method, path, response.status_code, response.text[:500]))
        return response

    def service_uris(self, *names):
        return dict((name, self.url(name)) for name in names)

    def connection(self, *names, **extra_uris):
        conn = {"service_uris": dict(self.service_uris(*(names or tuple(self.roots))), **extra_uris)}
        if self.token:
            conn["token"] = self.token
        else:
            conn["use_auth"] = False
        return conn

    def play(self, tasks, services=None, diff=False, uris=None):
        """Run ``tasks`` in one play; returns (process, [result of each task]). Tasks never stop the play."""
        registered = []
        for index, task in enumerate(tasks):
            registered.append(dict(task, register="r%d" % index, ignore_errors=True))
        registered.append(show_task("[%s]" % ", ".join("r%d" % i for i in range(len(tasks)))))
        play = [{"hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/cscs.openchami.openchami": self.connection(*(services or ()), **(uris or {}))},
                 "tasks": registered}]
        proc = self.runner(play, ["--diff"] if diff else [])
        results = shown(proc.stdout)
        assert results is not None, "playbook did not finish:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:])
        return proc, plain(results)


@pytest.fixture(scope="module")
def services(lab):  # pylint: disable=redefined-outer-name
    """The lab's services (the one lab harness, conftest.py's ``lab``), with this file's conveniences."""
    roots = {"smd": lab.urls["smd"], "bss": lab.urls["bss"], "cloud_init": lab.urls["cloud-init"],
             "boot_service": lab.urls["boot-service"]}
    return Services(roots, token=lab.token, runner=lambda play, args: lab.run_playbook(play, args=args))


class Nodes:
    """Nodes registered in SMD for this module: xnames, NIDs, MACs, IPs, one SMD group."""

    def __init__(self, svc):
        rnd = random.Random()
        self.cabinet = rnd.randrange(3000, 9000)
        base_nid = rnd.randrange(100000, 900000)
        octet = rnd.randrange(1, 250)
        self.xnames = ["x%dc0s%db0n%d" % (self.cabinet, slot, node) for slot in range(3) for node in range(2)]
        self.nids = dict((x, base_nid + i) for i, x in enumerate(self.xnames))
        self.macs = dict((x, "0e:%02x:%02x:00:00:%02x" % (self.cabinet // 100, self.cabinet % 100, i))
                         for i, x in enumerate(self.xnames))
        self.ips = dict((x, "10.251.%d.%d" % (octet, i + 1)) for i, x in enumerate(self.xnames))
        self.group = "zz-ci-%d-%d" % (self.cabinet, rnd.randrange(10 ** 6))
        self.svc = svc

    def create(self):
        self.svc.api("smd", "POST", "/State/Components", json={"Components": [
            {"ID": x, "State": "Ready", "Role": "Compute", "NID": self.nids[x], "Enabled": True} for x in self.xnames]})
        for x in self.xnames:
            self.svc.api("smd", "POST", "/Inventory/EthernetInterfaces",
                         json={"MACAddress": self.macs[x], "ComponentID": x,
                               "IPAddresses": [{"IPAddress": self.ips[x], "Network": "nmn"}]})
        # slot 0 node 0 and slot 1 node 1 are in the SMD group; slot 2 is for cloud-init
        members = [self.xnames[0], self.xnames[3], self.xnames[4]]
        self.svc.api("smd", "POST", "/groups", json={"label": self.group, "description": "test", "members": {"ids": members}})

    def delete(self):
        self.svc.api("smd", "DELETE", "/groups/%s" % self.group, expect=None)
        for x in self.xnames:
            self.svc.api("smd", "DELETE", "/Inventory/EthernetInterfaces/%s" % self.macs[x].replace(":", ""), expect=None)
            self.svc.api("smd", "DELETE", "/State/Components/%s" % x, expect=None)


@pytest.fixture(scope="module")
def nodes(services):  # pylint: disable=redefined-outer-name
    created = Nodes(services)
    created.create()
    yield created
    created.delete()


# --------------------------------------------------------------------------- helpers: raw state

def bss_records(svc, names):
    data = svc.api("bss", "GET", "/bootparameters").json() or []
    found = {}
    for entry in data:
        for host in entry.get("hosts") or []:
            if host in names:
                found[host] = dict((k, entry.get(k) or "") for k in ("kernel", "initrd", "params"))
    return found


def bss_mac_records(svc, macs):
    """MAC -> the record BSS holds under it, for the given MACs."""
    found = {}
    for entry in svc.api("bss", "GET", "/bootparameters").json() or []:
        for mac in entry.get("macs") or []:
            if mac.lower() in macs:
                found[mac.lower()] = dict((k, entry.get(k) or "") for k in ("kernel", "initrd", "params"))
    return found


def boot_service_records(svc, names):
    found = {}
    for config in svc.api("boot_service", "GET", "/bootconfigurations").json() or []:
        spec = config.get("spec") or {}
        for host in spec.get("hosts") or []:
            if host in names:
                found.setdefault(host, []).append(dict((k, spec.get(k) or "") for k in ("kernel", "initrd", "params")))
    return found


def register_in_boot_service(svc, nodes):
    """Give boot-service the nodes now, as its SMD sync would (every 5 minutes by default); returns their uids."""
    known = set((n.get("spec") or {}).get("xname") for n in svc.api("boot_service", "GET", "/nodes").json() or [])
    uids = []
    for x in nodes.xnames:
        if x not in known:
            body = {"metadata": {"name": x}, "spec": {"xname": x, "nid": nodes.nids[x], "bootMac": nodes.macs[x],
                                                      "role": "Compute"}}
            uids.append(svc.api("boot_service", "POST", "/nodes", json=body).json()["metadata"]["uid"])
    return uids


def clean_boot(svc, names, images, macs=()):
    names = set(names)
    have = list(bss_records(svc, names))
    if have:
        svc.api("bss", "DELETE", "/bootparameters", json={"hosts": have})
    have = sorted(bss_mac_records(svc, set(macs)))
    if have:
        svc.api("bss", "DELETE", "/bootparameters", json={"macs": have})
    for image in images:  # the per-image records BSS's key-value store adds on every write
        for field in ("kernel", "initrd"):
            svc.api("bss", "DELETE", "/bootparameters", json={field: image}, expect=None)
    for config in svc.api("boot_service", "GET", "/bootconfigurations").json() or []:
        hosts = (config.get("spec") or {}).get("hosts") or []
        if not names.intersection(hosts):
            continue
        kept = [h for h in hosts if h not in names]
        uid = config["metadata"]["uid"]
        if kept:
            svc.api("boot_service", "PUT", "/bootconfigurations/%s" % uid,
                    json={"metadata": config["metadata"], "spec": dict(config["spec"], hosts=kept)})
        else:
            svc.api("boot_service", "DELETE", "/bootconfigurations/%s" % uid)


def by_node(results):
    return dict((n["xname"], n) for n in results)


# --------------------------------------------------------------------------- boot_config

BACKEND_SERVICES = {"bss": ("smd", "bss"), "boot_service": ("smd", "bss", "boot_service")}
# Where nothing listens: with it as the boot_service address, auto-detection falls back to BSS (an ochami
# configuration in the environment could otherwise name the lab's boot-service).
NOWHERE = {"bss": {"boot_service": "http://127.0.0.1:9"}, "boot_service": {}}


@pytest.mark.parametrize("backend", ["bss", "boot_service"])
def test_boot_config_idempotent_with_check_mode_and_diff(services, nodes, backend):  # pylint: disable=redefined-outer-name
    svc = services
    tag = "%d-%s" % (nodes.cabinet, backend)
    kernel, kernel2 = "http://10.1.0.1/%s/vmlinuz" % tag, "http://10.1.0.1/%s/vmlinuz-2" % tag
    initrd = "http://10.1.0.1/%s/initrd" % tag
    targets = nodes.xnames[:4]
    select = {"hosts": ["x%dc0s0b0n[0-1]" % nodes.cabinet], "macs": [nodes.macs[targets[2]].upper()],
              "nids": [nodes.nids[targets[3]]], "groups": [nodes.group]}  # the group adds targets[0], [3] and n4
    targets = targets + [nodes.xnames[4]]
    records = bss_records if backend == "bss" else boot_service_records
    config = dict(select, kernel=kernel, initrd=initrd, params="console=ttyS0,115200 ip=dhcp quiet")
    mod = "cscs.openchami.boot_config"
    registered = register_in_boot_service(svc, nodes) if backend == "boot_service" else []
    try:
        proc, res = svc.play([
            {mod: config, "check_mode": True},
            {mod: config},
            {mod: config},
            {mod: dict(select, params="quiet  ip=dhcp quiet console=ttyS0,115200")},
            {mod: dict(select, params="console=ttyS0,115200 ip=dhcp"), "check_mode": True},
        ], services=BACKEND_SERVICES[backend], diff=True, uris=NOWHERE[backend])
        check, first, again, reordered, check_change = res
        assert check["changed"] and check["summary"]["create"] == 5, proc.stdout[-3000:]
        assert check["backend"] == backend
        assert first["changed"] and first["summary"]["create"] == 5, first
        assert sorted(n["xname"] for n in first["nodes"]) == sorted(targets)
        assert not again["changed"] and again["summary"]["unchanged"] == 5
        assert not reordered["changed"], reordered
        assert check_change["changed"] and check_change["summary"]["update"] == 5
        assert check_change["diff"]["before"][targets[0]] == {"params": "console=ttyS0,115200 ip=dhcp quiet"}
        assert check_change["diff"]["after"][targets[0]] == {"params": "console=ttyS0,115200 ip=dhcp"}
        stored = records(svc, set(targets))
        assert sorted(stored) == sorted(targets)
        for name in targets:  # check mode wrote nothing: the first real write is what is stored
            value = stored[name] if backend == "bss" else stored[name][0]
            assert value == {"kernel": kernel, "initrd": initrd, "params": "console=ttyS0,115200 ip=dhcp quiet"}
        if backend == "bss":  # and under each node's MAC, where BSS's bootscript?mac= looks
            assert dict((n["xname"], n["macs"]) for n in first["nodes"]) == dict((x, [nodes.macs[x]]) for x in targets)
            assert bss_mac_records(svc, set(nodes.macs.values())) == dict(
                (nodes.macs[x], stored[x]) for x in targets)
        if backend == "boot_service":
            configs = [c for c in svc.api("boot_service", "GET", "/bootconfigurations").json()
                       if set(targets) & set(c["spec"].get("hosts") or [])]
            assert len(configs) == 1  # one configuration for all five nodes, written once

        # change only the kernel of two nodes, then empty the initrd of one: the rest is kept
        proc, res = svc.play([
            {"cscs.openchami.boot_config": {"hosts": targets[:2], "kernel": kernel2}},
            {"cscs.openchami.boot_config": {"hosts": targets[:1], "initrd": ""}},
            {"cscs.openchami.boot_config": {"hosts": targets[:1], "initrd": ""}},
            {"cscs.openchami.boot_config_info": dict(select, boot_script=True)},
            {"cscs.openchami.boot_config_info": {}},
        ], services=BACKEND_SERVICES[backend], uris=NOWHERE[backend])
        kernel_change, emptied, emptied_again, info, everything = res
        assert kernel_change["summary"]["update"] == 2 and not emptied_again["changed"], proc.stdout[-3000:]
        assert emptied["changed"] and emptied["nodes"][0]["initrd"] == ""
        shown = by_node(info["boot_configs"])
        assert sorted(shown) == sorted(targets)
        assert shown[targets[0]]["kernel"] == kernel2 and shown[targets[0]]["initrd"] == ""
        assert shown[targets[1]]["kernel"] == kernel2 and shown[targets[1]]["initrd"] == initrd
        assert shown[targets[2]]["kernel"] == kernel and shown[targets[2]]["params"] == "console=ttyS0,115200 ip=dhcp quiet"
        assert all(s["configured"] and s["boot_script"].startswith("#!ipxe") for s in shown.values())
        if backend == "boot_service":  # what the service serves (BSS serves a retry script to nodes without endpoint)
            assert "set kernel %s" % kernel2 in shown[targets[0]]["boot_script"]
            assert "set initrd" not in shown[targets[0]]["boot_script"]
            assert "set initrd %s" % initrd in shown[targets[1]]["boot_script"]
        assert set(targets) <= set(n["xname"] for n in everything["boot_configs"])
        stored = records(svc, set(targets))
        first_value = stored[targets[0]] if backend == "bss" else stored[targets[0]][0]
        assert first_value == {"kernel": kernel2, "initrd": "", "params": "console=ttyS0,115200 ip=dhcp quiet"}
        if backend == "bss":
            assert bss_mac_records(svc, set(nodes.macs.values())) == dict((nodes.macs[x], stored[x]) for x in targets)

        proc, res = svc.play([
            {mod: dict(select, state="absent"), "check_mode": True},
            {mod: dict(select, state="absent")},
            {mod: dict(select, state="absent")},
        ], services=BACKEND_SERVICES[backend], uris=NOWHERE[backend])
        check_absent, absent, absent_again = res
        assert check_absent["changed"] and check_absent["summary"]["delete"] == 5, proc.stdout[-3000:]
        assert absent["summary"]["delete"] == 5 and not absent_again["changed"]
        assert records(svc, set(targets)) == {}
        assert bss_mac_records(svc, set(nodes.macs.values())) == {}
    finally:
        clean_boot(svc, nodes.xnames, [kernel, kernel2, initrd], nodes.macs.values())
        for uid in registered:
            svc.api("boot_service", "DELETE", "/nodes/%s" % uid, expect=None)


def test_boot_config_backend_detection_and_forcing(services, nodes):  # pylint: disable=redefined-outer-name
    svc = services
    name = nodes.xnames[5]
    kernel = "http://10.1.0.1/%d/detect/vmlinuz" % nodes.cabinet
    legacy = svc.url("boot_service") + "/boot/v1"
    info = "cscs.openchami.boot_config_info"
    try:
        proc, res = svc.play([
            {info: {"hosts": [name]}},  # both addresses: boot-service answers /health
            {info: {"hosts": [name], "backend": "bss"}},
            {info: {"hosts": [name], "service_uris": {"bss": legacy, "smd": svc.url("smd")}}},
            {"cscs.openchami.boot_config": {"hosts": [name], "kernel": kernel, "backend": "bss",
                                            "service_uris": {"bss": legacy, "smd": svc.url("smd")}}},
        ])
        auto, forced, behind_bss, refused = res
        assert auto["backend"] == "boot_service", proc.stdout[-3000:]
        assert forced["backend"] == "bss"
        assert behind_bss["backend"] == "boot_service"  # the bss address was boot-service's legacy API
        assert refused["failed"] and "legacy BSS API" in refused["msg"] and "backend=boot_service" in refused["msg"]
        assert boot_service_records(svc, {name}) == {}
    finally:
        clean_boot(svc, [name], [kernel], [nodes.macs[name]])


def test_boot_config_bad_input_writes_nothing(services, nodes):  # pylint: disable=redefined-outer-name
    svc = services
    good = nodes.xnames[5]
    kernel = "http://10.1.0.1/%d/bad/vmlinuz" % nodes.cabinet
    mod = "cscs.openchami.boot_config"
    try:
        proc, res = svc.play([
            {mod: {"hosts": [good, "x%dc0s0b0" % nodes.cabinet], "kernel": kernel}},
            {mod: {"hosts": [good, "nonsense"], "kernel": kernel}},
            {mod: {"hosts": [good], "macs": ["02:00:zz"], "kernel": kernel}},
            {mod: {"hosts": [good], "groups": ["zz-no-such-group-%d" % nodes.cabinet], "kernel": kernel}},
            {mod: {"hosts": [good], "nids": [999999999], "kernel": kernel}},
            {mod: {"hosts": [good], "params": 'console=ttyS0 root="live', "kernel": kernel}},
            {mod: {"hosts": [good], "params": "quiet"}},  # no kernel for a node without configuration
        ], services=("smd", "bss"), uris=NOWHERE["bss"])
        expected = ["NodeBMC xname, not a node", "nonsense", "02:00:zz", "does not exist", "no node has NID 999999999",
                    "cannot be parsed", "kernel is required"]
        for result, text in zip(res, expected):
            assert result["failed"] and text in result["msg"], (text, result, proc.stdout[-2000:])
            assert "nothing was changed" in result["msg"]
        assert bss_records(svc, {good}) == {} and bss_mac_records(svc, {nodes.macs[good]}) == {}
        # by_mac: false writes the xname record only
        proc, res = svc.play([{mod: {"hosts": [good], "kernel": kernel, "by_mac": False}}], services=("smd", "bss"),
                             uris=NOWHERE["bss"])
        assert res[0]["changed"] and "macs" not in res[0]["nodes"][0], proc.stdout[-2000:]
        assert bss_records(svc, {good}) == {good: {"kernel": kernel, "initrd": "", "params": ""}}
        assert bss_mac_records(svc, {nodes.macs[good]}) == {}
    finally:
        clean_boot(svc, [good], [kernel], [nodes.macs[good]])


# --------------------------------------------------------------------------- cloud-init

def ci_group(svc, name):
    response = svc.api("cloud_init", "GET", "/admin/groups/%s" % name, expect=None)
    return response.json() if response.status_code == 200 else None


def test_cloud_init_group_lifecycle(services, nodes):  # pylint: disable=redefined-outer-name
    svc = services
    name = "zz-grp-%d" % nodes.cabinet
    content = "#cloud-config\nruncmd:\n  - [echo, hello]\nwrite_files:\n  - path: /etc/zz\n    content: zz\n"
    mod = "cscs.openchami.cloud_init_group"
    group = {"name": name, "content": content, "description": "test group", "meta_data": {"role": "compute", "n": 2}}
    bad = "#cloud-config\nruncmd:\n  - [echo, hello]\nwrite_files:\n  - path: /etc/zz\n    content: [unclosed\n"
    try:
        proc, res = svc.play([
            {mod: group, "check_mode": True},
            {mod: group},
            {mod: group},
            {mod: {"name": name, "meta_data": {"role": "login", "n": 2}}, "check_mode": True},
            {mod: {"name": name, "meta_data": {"role": "login", "n": 2}}},
            {mod: {"name": name, "content": bad}},
            {mod: {"name": name, "content": "runcmd: []\n"}},
            {mod: {"name": name, "content": "## template: jinja\n#cloud-config\nhostname: {{ '{{' }} x {{ '}}' }}\n"},
             "check_mode": True},
        ], services=("cloud_init",), diff=True)
        check, created, again, check_meta, meta, invalid, no_header, template = res
        assert check["changed"] and check["summary"]["create"] == 1, proc.stdout[-3000:]
        assert created["changed"] and created["group"]["content"] == content
        assert not again["changed"]
        assert check_meta["changed"] and check_meta["diff"] == {"before": {name: {"meta_data": {"role": "compute", "n": 2}}},
                                                                "after": {name: {"meta_data": {"role": "login", "n": 2}}}}
        assert meta["changed"] and meta["group"]["description"] == "test group" and meta["group"]["content"] == content
        assert invalid["failed"] and "line 7, column 1" in invalid["msg"] and name in invalid["msg"]
        assert (invalid["line"], invalid["column"]) == (7, 1)
        assert no_header["failed"] and "#cloud-config" in no_header["msg"]
        assert template["changed"] and not template.get("failed")
        stored = ci_group(svc, name)
        assert stored["file"]["content"] == content and stored["meta-data"] == {"role": "login", "n": 2}
        assert stored["description"] == "test group"

        # a group stored base64-encoded compares by its decoded text
        encoded = dict(stored, file={"content": base64.b64encode(content.encode()).decode(), "encoding": "base64"})
        svc.api("cloud_init", "PUT", "/admin/groups/%s" % name, json=encoded)
        proc, res = svc.play([
            {mod: {"name": name, "content": content}},
            {mod: {"name": name, "state": "absent"}, "check_mode": True},
            {mod: {"name": name, "state": "absent"}},
            {mod: {"name": name, "state": "absent"}},
        ], services=("cloud_init",))
        same, check_absent, absent, absent_again = res
        assert not same["changed"], proc.stdout[-3000:]
        assert check_absent["changed"] and absent["changed"] and not absent_again["changed"]
        assert ci_group(svc, name) is None
    finally:
        svc.api("cloud_init", "DELETE", "/admin/groups/%s" % name, expect=None)


def test_cloud_init_defaults(services):  # pylint: disable=redefined-outer-name
    svc = services
    before = svc.api("cloud_init", "GET", "/admin/cluster-defaults").json() or {}
    mod = "cscs.openchami.cloud_init_defaults"
    keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIZZtestkey1 a@b", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIZZtestkey2 c@d"]
    wanted = {"region": "zz-region-%d" % random.randrange(10 ** 6), "availability_zone": "zz-az",
              "cloud_provider": "zz-cloud", "public_keys": keys}
    try:
        proc, res = svc.play([
            {mod: wanted, "check_mode": True},
            {mod: wanted},
            {mod: dict(wanted, public_keys=list(reversed(keys)) + keys[:1])},
            {mod: {"region": ""}},
            {mod: {"nid_length": 0}},
            {mod: {"backend": "metadata_service", "region": "zz"}},
        ], services=("cloud_init",), diff=True)
        check, applied, again, empty, zero, mds = res
        assert check["changed"] and check["diff"]["after"]["region"] == wanted["region"], proc.stdout[-3000:]
        assert applied["changed"] and applied["defaults"]["availability-zone"] == "zz-az"
        assert not again["changed"]
        assert empty["failed"] and "cannot be cleared" in empty["msg"]
        assert zero["failed"] and "at least 1" in zero["msg"]
        # forced metadata-service: not the cloud-init server; the lab's emulator (when configured) refuses defaults
        # without base_url and cluster_name, else there is no address for it
        assert mds["failed"] and ("no address for the metadata-service" in mds["msg"]
                                  or "cluster defaults: metadata-service refused it" in mds["msg"]), mds["msg"]
        now = svc.api("cloud_init", "GET", "/admin/cluster-defaults").json()
        assert now["region"] == wanted["region"] and now["public-keys"] == keys
    finally:
        # The server cannot clear a default: put back the values there were (fields unset before stay set).
        restore = dict((k, v) for k, v in before.items() if v not in (None, "", [], 0))
        if restore:
            svc.api("cloud_init", "POST", "/admin/cluster-defaults", json=restore)


def meta_data(svc, name):
    return yaml.safe_load(svc.api("cloud_init", "GET", "/admin/impersonation/%s/meta-data" % name).text)


def test_cloud_init_instance(services, nodes):  # pylint: disable=redefined-outer-name
    svc = services
    name, other = nodes.xnames[4], nodes.xnames[5]
    mod = "cscs.openchami.cloud_init_instance"
    default_host = meta_data(svc, other)["local-hostname"]
    try:
        proc, res = svc.play([
            {mod: {"instances": [{"xname": name, "local_hostname": "zz-login", "instance_type": "big"}]},
             "check_mode": True},
            {mod: {"instances": [{"xname": name, "local_hostname": "zz-login", "instance_type": "big"},
                                 {"xname": other, "local_hostname": default_host}]}},
            {mod: {"instances": [{"xname": name, "local_hostname": "zz-login", "instance_type": "big"},
                                 {"xname": other, "local_hostname": default_host}]}},
            {mod: {"instances": [{"xname": name, "instance_type": "small", "public_keys": ["ssh-ed25519 AAAAzz k"]}]}},
            {mod: {"instances": [{"xname": "x%dc0s0b0" % nodes.cabinet}]}},
            {mod: {"instances": [{"xname": "x9999c7s7b1n1"}]}},
        ], services=("cloud_init", "smd"), diff=True)
        check, applied, again, partial, not_node, unknown = res
        assert check["changed"] and check["summary"]["update"] == 1, proc.stdout[-3000:]
        assert check["diff"]["after"][name] == {"local-hostname": "zz-login", "instance-type": "big"}
        assert applied["summary"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 1}
        assert not again["changed"]
        assert partial["changed"]
        assert partial["instances"][0]["local-hostname"] == "zz-login"  # kept: written back with the change
        assert not_node["failed"] and "NodeBMC" in not_node["msg"]
        assert unknown["failed"] and "not known to SMD" in unknown["msg"]
        meta = meta_data(svc, name)
        assert meta["local-hostname"] == "zz-login"
        assert meta["instance_data"]["v1"]["instance_type"] == "small"
        assert meta["instance_data"]["v1"]["public_keys"][-1] == "ssh-ed25519 AAAAzz k"

        proc, res = svc.play([{mod: {"instances": [{"xname": name}], "state": "absent"}, "check_mode": True}],
                             services=("cloud_init", "smd"))
        assert res[0]["changed"], proc.stdout[-3000:]
        assert meta_data(svc, name)["local-hostname"] == "zz-login"  # check mode wrote nothing
        proc, res = svc.play([
            {mod: {"instances": [{"xname": name}], "state": "absent"}},
            {mod: {"instances": [{"xname": name}], "state": "absent"}},
        ], services=("cloud_init", "smd"))
        absent, absent_again = res
        assert absent["changed"] and not absent_again["changed"], proc.stdout[-3000:]
        meta = meta_data(svc, name)
        assert meta["local-hostname"] != "zz-login" and "instance_type" not in meta["instance_data"]["v1"]
    finally:
        for node in (name, other):
            svc.api("cloud_init", "PUT", "/admin/instance-info/%s" % node, json={})


def test_cloud_init_impersonation_readback(services, nodes):  # pylint: disable=redefined-outer-name
    svc = services
    name = nodes.xnames[4]  # a member of the SMD group
    content = "#cloud-config\nwrite_files:\n  - path: /etc/zz-%d\n    content: hello\n" % nodes.cabinet
    try:
        proc, res = svc.play([{"cscs.openchami.cloud_init_group": {"name": nodes.group, "content": content,
                                                                   "meta_data": {"tier": "gold"}}}],
                             services=("cloud_init",))
        assert res[0]["changed"], proc.stdout[-3000:]
        deadline = time.monotonic() + CACHE_WAIT
        while nodes.group not in svc.api("cloud_init", "GET", "/admin/impersonation/%s/vendor-data" % name).text:
            assert time.monotonic() < deadline, "the cloud-init server did not learn the SMD group in %d s" % CACHE_WAIT
            time.sleep(2)
        proc, res = svc.play([{"cscs.openchami.cloud_init_info": {"xnames": [name], "group_files": True,
                                                                  "groups": [nodes.group]}}],
                             services=("cloud_init",))
        info = res[0]
        assert [g["name"] for g in info["groups"]] == [nodes.group], proc.stdout[-3000:]
        node = info["nodes"][0]
        assert node["xname"] == name and nodes.group in node["groups"]
        assert node["group_files"][nodes.group] == content
        assert node["meta_data"]["instance_data"]["v1"]["vendor_data"]["groups"][nodes.group]["tier"] == "gold"
        assert node["user_data"].startswith("#cloud-config")
        assert "/%s.yaml" % nodes.group in node["vendor_data"]
    finally:
        svc.api("cloud_init", "DELETE", "/admin/groups/%s" % nodes.group, expect=None)
