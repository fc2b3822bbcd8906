# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the boot module_utils: parameter comparison, node selection, backend detection, bulk writes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import boot, resource
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Response


# ---------------------------------------------------------------- kernel parameters

@pytest.mark.parametrize("left, right", [
    ("console=ttyS0 quiet ip=dhcp", "ip=dhcp quiet console=ttyS0"),
    ("quiet quiet  console=ttyS0", "console=ttyS0 quiet"),
    ("root=live:http://x/rootfs 'foo=a b'", 'foo="a b" root=live:http://x/rootfs'),
    ("", None),
    ("a -- single b", "a -- single b"),
])
def test_equivalent_params(left, right):
    assert boot.normalize_params(left) == boot.normalize_params(right)


@pytest.mark.parametrize("left, right", [
    ("console=tty0 console=ttyS0", "console=ttyS0 console=tty0"),  # the last console wins: order matters
    ("quiet", "quiet debug"),
    ("ip=dhcp", "ip=none"),
    ("a -- single b", "a -- b single"),  # init's arguments keep their order
    ("a -- single", "a single"),
    ("'foo=a b'", "foo=a b"),
])
def test_different_params(left, right):
    assert boot.normalize_params(left) != boot.normalize_params(right)


def test_unbalanced_quotes_fail_before_anything():
    with pytest.raises(resource.ValidationError) as info:
        boot.check_params('console=ttyS0 foo="bar')
    assert "cannot be parsed" in str(info.value)
    boot.check_params(None)


# ---------------------------------------------------------------- node selection

class FakeSMD:
    def __init__(self):
        self.calls = []

    def interfaces(self, **filters):
        self.calls.append(("interfaces", filters))
        return [{"MACAddress": "02:00:00:00:00:01", "ComponentID": "x1000c0s0b0n1"},
                {"MACAddress": "02:00:00:00:00:09", "ComponentID": ""},
                {"MACAddress": "02:00:00:00:00:0a", "ComponentID": "x1000c0s0b0"}]

    def components(self, **filters):
        self.calls.append(("components", filters))
        return [{"ID": "x1000c0s0b0n0", "Type": "Node", "NID": 1}, {"ID": "x1000c0s1b0n0", "Type": "Node", "NID": 3}]

    def groups(self, **filters):
        self.calls.append(("groups", filters))
        return [{"label": "compute", "members": {"ids": ["x1000c0s1b0n0", "x1000c0s2b0n0", "x1000c0s2b0"]}}]


def test_resolve_all_selectors_one_request_each():
    api = FakeSMD()
    names = boot.resolve_nodes(lambda: api, hosts=["x1000c0s0b0n[0-1]", "X1000C0S0B0N0"], macs=["02-00-00-00-00-01"],
                               nids=[3], groups=["Compute"])
    assert names == ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s1b0n0", "x1000c0s2b0n0"]
    assert sorted(c[0] for c in api.calls) == ["components", "groups", "interfaces"]
    assert dict(api.calls)["groups"] == {"group": ["compute"]}


def test_xnames_only_do_not_ask_smd():
    def no_smd():
        raise AssertionError("SMD asked")
    assert boot.resolve_nodes(no_smd, hosts=["x1000c0s0b0n0"]) == ["x1000c0s0b0n0"]


def test_bad_input_is_reported_before_smd_is_asked():
    def no_smd():
        raise AssertionError("SMD asked")
    with pytest.raises(resource.ValidationError) as info:
        boot.resolve_nodes(no_smd, hosts=["x1000c0s0b0", "nonsense"], macs=["zz:11"], nids=[-1], groups=["bad label!"])
    errors = info.value.errors
    assert len(errors) == 5
    assert "NodeBMC" in errors[0] and "nonsense" in errors[1] and "zz:11" in errors[2]
    # named by the option the user wrote (hosts is the old alias of nodes)
    assert [e.split(":")[0] for e in errors] == ["nodes", "nodes", "macs", "nids", "groups"]


def test_unknown_items_are_named():
    with pytest.raises(resource.ValidationError) as info:
        boot.resolve_nodes(FakeSMD, macs=["02:00:00:00:00:02", "02:00:00:00:00:09", "02:00:00:00:00:0a"],
                           nids=[99], groups=["nosuch"])
    text = str(info.value)
    assert "02:00:00:00:00:02 is not known to SMD" in text
    assert "02:00:00:00:00:09 belongs to no component" in text
    assert "NodeBMC" in text
    assert "no node has NID 99" in text
    assert "SMD group 'nosuch' does not exist" in text


# ---------------------------------------------------------------- backend detection

class FakeClient:
    """Answers GETs from a {path: (status, body)} table; records the paths."""

    def __init__(self, base_url, answers):
        self.base_url = base_url
        self.answers = answers
        self.retries = 5
        self.timeout = 30
        self.asked = []

    def get(self, path, **_kw):
        assert self.retries == 0, "probes must not retry"
        self.asked.append(self.base_url + path)
        status, body = self.answers.get(self.base_url + path, (None, None))
        if status is None:
            raise ApiError("GET %s: service unreachable after 1 attempt(s)" % path)
        if status >= 400:
            raise ApiError("GET %s failed: HTTP %d" % (path, status), "GET", path, status, body)
        return Response(status, {}, json.dumps(body))


BSS_STATUS = {"bss-status": "running"}
LEGACY_STATUS = {"service_name": "boot-script-service", "service_status": "running", "service_version": "2.0.0-fabrica"}
HEALTH = {"status": "ok", "service": "boot-service"}


def getter(answers, bss="http://h/boot/v1", boot_service=None):
    clients = {}
    if bss:
        clients["bss"] = FakeClient(bss, answers)
    if boot_service:
        clients["boot_service"] = FakeClient(boot_service, answers)
    return clients.get


def test_detect_bss():
    kind, client = boot.detect_backend(getter({"http://h/boot/v1/service/status": (200, BSS_STATUS)},
                                              boot_service="http://h/boot-service"))
    assert kind == boot.BSS and client.base_url == "http://h/boot/v1"
    assert client.retries == 5  # restored after probing


def test_detect_boot_service_by_health():
    kind, client = boot.detect_backend(getter({"http://h/boot-service/health": (200, HEALTH),
                                               "http://h/boot/v1/service/status": (200, BSS_STATUS)},
                                              boot_service="http://h/boot-service"))
    assert kind == boot.BOOT_SERVICE and client.base_url == "http://h/boot-service"


def test_detect_boot_service_behind_the_bss_address():
    kind, client = boot.detect_backend(getter({"http://b/boot/v1/service/status": (200, LEGACY_STATUS),
                                               "http://b/health": (200, HEALTH)}, bss="http://b/boot/v1"))
    assert kind == boot.BOOT_SERVICE and client.base_url == "http://b"


def test_forced_bss_refuses_the_legacy_api():
    with pytest.raises(ApiError) as info:
        boot.detect_backend(getter({"http://b/boot/v1/service/status": (200, LEGACY_STATUS)}, bss="http://b/boot/v1"),
                            "bss")
    assert "legacy" in str(info.value) and "backend=boot_service" in str(info.value)


def test_forced_boot_service_does_not_probe():
    get = getter({}, boot_service="http://h/boot-service")
    kind, client = boot.detect_backend(get, "boot_service")
    assert kind == boot.BOOT_SERVICE and client.asked == []


def test_a_health_that_is_not_boot_service_is_not_taken():
    with pytest.raises(ApiError) as info:
        boot.detect_backend(getter({"http://h/boot-service/health": (200, {"service": "metadata-service"})},
                                   boot_service="http://h/boot-service"))
    assert "no boot service found" in str(info.value) and "not boot-service" in str(info.value)


def test_nothing_answers():
    with pytest.raises(ApiError) as info:
        boot.detect_backend(getter({}, boot_service="http://h/boot-service"))
    text = str(info.value)
    assert "http://h/boot-service/health" in text and "http://h/boot/v1/service/status" in text


def test_authentication_failure_is_not_hidden():
    with pytest.raises(ApiError) as info:
        boot.detect_backend(getter({"http://h/boot/v1/service/status": (401, "no")}))
    assert info.value.status == 401


# ---------------------------------------------------------------- BSS bulk writes

class Recorder:
    def __init__(self, data=None):
        self.data = data
        self.calls = []

    def get_json(self, path, **_kw):
        self.calls.append(("GET", path, None))
        return self.data

    def _record(self, method):
        def call(path, body=None, **_kw):
            self.calls.append((method, path, body))
            return {"metadata": {"uid": "new"}}
        return call

    def __getattr__(self, name):
        if name in ("put", "post", "delete", "patch"):
            return self._record(name.upper())
        raise AttributeError(name)


def bss_records():
    empty_ci = {"meta-data": None, "user-data": None, "phone-home": {"hostname": ""}}
    return [
        {"kernel": "http://k/old"},  # BSS's per-image record: not a node
        {"hosts": ["x1000c0s0b0n0"], "kernel": "http://k/old", "params": "quiet console=ttyS0", "cloud-init": empty_ci},
        {"hosts": ["x1000c0s0b0n1"], "kernel": "http://k/old", "params": "console=ttyS0 quiet", "cloud-init": empty_ci},
        {"hosts": ["x1000c0s0b0n2"], "kernel": "http://k/old2", "params": "quiet",
         "cloud-init": {"user-data": {"hostname": "n2"}}},
        {"hosts": ["02:00:00:00:00:07"], "kernel": "http://k/old"},  # filed under a MAC by BSS
    ]


def test_bss_one_put_per_distinct_content():
    client = Recorder(bss_records())
    backend = boot.BssBackend(client)
    names = ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s0b0n2", "x1000c0s0b0n3"]
    plan = boot.plan(backend, names, kernel="http://k/new")
    assert plan.summary() == {"create": 1, "update": 3, "delete": 0, "unchanged": 0}
    puts = [c for c in client.calls if c[0] == "PUT"]
    assert len([c for c in client.calls if c[0] == "GET"]) == 1
    # n0 and n1 have equivalent params: one PUT; n2 keeps its cloud-init data: its own PUT; n3 has no params: one PUT
    assert len(puts) == 3
    bodies = sorted((sorted(b["hosts"]), b.get("params"), "cloud-init" in b) for _m, _p, b in puts)
    assert bodies == [(["x1000c0s0b0n0", "x1000c0s0b0n1"], "quiet console=ttyS0", False),
                      (["x1000c0s0b0n2"], "quiet", True), (["x1000c0s0b0n3"], None, False)]


def test_bss_param_order_is_no_change():
    client = Recorder(bss_records())
    plan = boot.plan(boot.BssBackend(client), ["x1000c0s0b0n0", "x1000c0s0b0n1"], kernel="http://k/old",
                     params="console=ttyS0   quiet quiet")
    assert not plan.changed
    assert [c[0] for c in client.calls] == ["GET"]


def test_check_mode_writes_nothing_but_shows_the_diff():
    client = Recorder(bss_records())
    plan = boot.plan(boot.BssBackend(client), ["x1000c0s0b0n0"], params="quiet", check_mode=True)
    assert [c[0] for c in client.calls] == ["GET"]
    assert plan.diff() == {"before": {"x1000c0s0b0n0": {"params": "quiet console=ttyS0"}},
                           "after": {"x1000c0s0b0n0": {"params": "quiet"}}}


def test_kernel_required_for_new_nodes():
    with pytest.raises(resource.ValidationError) as info:
        boot.plan(boot.BssBackend(Recorder(bss_records())), ["x1000c0s0b0n0", "x1000c0s0b0n5"], params="quiet")
    assert "x1000c0s0b0n5" in str(info.value) and "x1000c0s0b0n0" not in str(info.value)


def test_bss_emptying_a_field_deletes_then_writes():
    client = Recorder([{"hosts": ["x1000c0s0b0n0", "x1000c0s0b0n1"], "kernel": "http://k/a", "initrd": "http://k/i",
                        "params": "quiet"}])
    boot.plan(boot.BssBackend(client), ["x1000c0s0b0n0", "x1000c0s0b0n1"], initrd="")
    assert client.calls[1:] == [
        ("DELETE", "/bootparameters", {"hosts": ["x1000c0s0b0n0", "x1000c0s0b0n1"]}),
        ("PUT", "/bootparameters", {"hosts": ["x1000c0s0b0n0", "x1000c0s0b0n1"], "kernel": "http://k/a", "params": "quiet"})]


def test_bss_absent_is_one_delete_of_existing_nodes():
    client = Recorder(bss_records())
    boot.plan(boot.BssBackend(client), ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s0b0n9"], state="absent")
    assert client.calls[1:] == [("DELETE", "/bootparameters", {"hosts": ["x1000c0s0b0n0", "x1000c0s0b0n1"]})]


MACS = {"x1000c0s0b0n0": ["02:00:00:00:00:01"], "x1000c0s0b0n1": ["02:00:00:00:00:02", "02:00:00:00:00:03"]}


def test_bss_by_mac_writes_the_macs_in_a_put_of_their_own():
    client = Recorder(bss_records())
    plan = boot.plan(boot.BssBackend(client, MACS), ["x1000c0s0b0n0", "x1000c0s0b0n1"], kernel="http://k/new")
    assert plan.summary() == {"create": 0, "update": 2, "delete": 0, "unchanged": 0}
    assert client.calls[1:] == [
        ("PUT", "/bootparameters", {"hosts": ["x1000c0s0b0n0", "x1000c0s0b0n1"], "kernel": "http://k/new",
                                    "params": "quiet console=ttyS0"}),
        ("PUT", "/bootparameters", {"macs": ["02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"],
                                    "kernel": "http://k/new", "params": "quiet console=ttyS0"})]
    assert [n["macs"] for n in plan.resources()] == [MACS["x1000c0s0b0n0"], MACS["x1000c0s0b0n1"]]


def test_bss_by_mac_a_missing_or_stale_mac_record_is_a_change_and_a_matching_one_is_not():
    records = [{"hosts": ["x1000c0s0b0n0", "x1000c0s0b0n1"], "kernel": "http://k/a", "params": "quiet"},
               {"macs": ["02:00:00:00:00:01", "02:00:00:00:00:02"], "kernel": "http://k/a", "params": "quiet"},
               {"macs": ["02:00:00:00:00:03"], "kernel": "http://k/old", "initrd": "http://k/i", "params": "quiet"}]
    client = Recorder(records)
    plan = boot.plan(boot.BssBackend(client, MACS), ["x1000c0s0b0n0", "x1000c0s0b0n1"], kernel="http://k/a")
    assert plan.summary() == {"create": 0, "update": 1, "delete": 0, "unchanged": 1}
    assert plan.diff()["before"] == {"x1000c0s0b0n1": {"macs": ["02:00:00:00:00:02"]}}
    # 02:..:03 holds an initrd the new content has not: BSS's store would keep it through a PUT, so it goes first
    assert client.calls[1:] == [
        ("DELETE", "/bootparameters", {"macs": ["02:00:00:00:00:03"]}),
        ("PUT", "/bootparameters", {"hosts": ["x1000c0s0b0n1"], "kernel": "http://k/a", "params": "quiet"}),
        ("PUT", "/bootparameters", {"macs": ["02:00:00:00:00:02", "02:00:00:00:00:03"], "kernel": "http://k/a",
                                    "params": "quiet"})]


def test_bss_by_mac_a_node_stored_under_its_macs_only_is_read_and_removed():
    client = Recorder([{"macs": ["02:00:00:00:00:02", "02:00:00:00:00:03"], "kernel": "http://k/a"}])
    backend = boot.BssBackend(client, MACS)
    assert backend.read() == {"x1000c0s0b0n1": {"xname": "x1000c0s0b0n1", "kernel": "http://k/a", "initrd": "",
                                                "params": "", "macs": MACS["x1000c0s0b0n1"]}}
    plan = boot.plan(backend, ["x1000c0s0b0n0", "x1000c0s0b0n1"], state="absent")
    assert plan.summary()["delete"] == 1
    assert client.calls[2:] == [("DELETE", "/bootparameters", {"hosts": ["x1000c0s0b0n1"]}),
                                ("DELETE", "/bootparameters", {"macs": MACS["x1000c0s0b0n1"]})]


def test_node_macs_is_one_request_and_leaves_other_components_out():
    class Api:
        asked = []

        def interfaces(self, **filters):
            self.asked.append(filters)
            return [{"MACAddress": "02-00-00-00-00-02", "ComponentID": "x1000c0s0b0n1"},
                    {"MACAddress": "0200.0000.0001", "ComponentID": "x1000c0s0b0n0"},
                    {"MACAddress": "02:00:00:00:00:09", "ComponentID": "x1000c0s0b0"}]
    api = Api()
    assert boot.node_macs(api, ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s0b0n2"]) == {
        "x1000c0s0b0n0": ["02:00:00:00:00:01"], "x1000c0s0b0n1": ["02:00:00:00:00:02"], "x1000c0s0b0n2": []}
    assert api.asked == [{"ComponentID": ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s0b0n2"]}]


# ---------------------------------------------------------------- boot-service configurations

def bs_config(uid, name, hosts, kernel="http://k/a", params="", **spec):
    return {"metadata": {"uid": uid, "name": name}, "spec": dict(spec, hosts=hosts, kernel=kernel, params=params)}


def test_boot_service_current_follows_priority_then_name():
    client = Recorder([
        bs_config("u1", "b", ["x1000c0s0b0n0"], kernel="http://k/low"),
        bs_config("u2", "a", ["x1000c0s0b0n0"], kernel="http://k/first-name"),
        bs_config("u3", "z", ["x1000c0s0b0n1"], kernel="http://k/low"),
        bs_config("u4", "y", ["x1000c0s0b0n1"], kernel="http://k/high", priority=10),
        bs_config("u5", "p", ["x1000c0s0b0n2"], kernel="http://k/debug", profile="debug"),
        bs_config("u6", "q", ["x1000c0s*"], kernel="http://k/pattern"),
    ])
    backend = boot.BootServiceBackend(client)
    current = backend.read()
    assert current["x1000c0s0b0n0"]["kernel"] == "http://k/first-name"
    assert current["x1000c0s0b0n1"]["kernel"] == "http://k/high"
    assert "x1000c0s0b0n2" not in current
    assert backend.source["x1000c0s0b0n1"] == {"uid": "u4", "name": "y"}


def test_boot_service_moves_nodes_with_one_write_per_configuration():
    client = Recorder([
        bs_config("u1", "old", ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s0b0n2"], kernel="http://k/old"),
        bs_config("u2", "same", ["x1000c0s0b0n3"], kernel="http://k/new", params="b a"),
        bs_config("u3", "mixed", ["x1000c0s0b0n4"], kernel="http://k/old", macs=["02:00:00:00:00:09"]),
        bs_config("u4", "lonely", ["x1000c0s0b0n5"], kernel="http://k/old"),
    ])
    names = ["x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s0b0n4", "x1000c0s0b0n5", "x1000c0s0b0n6"]
    plan = boot.plan(boot.BootServiceBackend(client), names, kernel="http://k/new", params="a b")
    assert plan.summary() == {"create": 1, "update": 4, "delete": 0, "unchanged": 0}
    writes = dict(((m, p), b) for m, p, b in client.calls if m != "GET")
    # the configuration with the same content (params compared as parameters) gains all the nodes
    assert writes[("PUT", "/bootconfigurations/u2")]["spec"]["hosts"] == ["x1000c0s0b0n3"] + names
    assert writes[("PUT", "/bootconfigurations/u1")]["spec"]["hosts"] == ["x1000c0s0b0n2"]
    # a configuration that also targets a MAC keeps existing without hosts
    assert "hosts" not in writes[("PUT", "/bootconfigurations/u3")]["spec"]
    assert writes[("PUT", "/bootconfigurations/u3")]["spec"]["macs"] == ["02:00:00:00:00:09"]
    assert ("DELETE", "/bootconfigurations/u4") in writes
    assert not any(m == "POST" for m, _p in writes)
    order = [p for m, p, _b in client.calls if m != "GET"]
    assert order.index("/bootconfigurations/u2") < order.index("/bootconfigurations/u1")  # add before remove


def test_boot_service_creates_a_configuration_for_new_content():
    client = Recorder([bs_config("u1", "old", ["x1000c0s0b0n0"], kernel="http://k/old")])
    boot.plan(boot.BootServiceBackend(client), ["x1000c0s0b0n0", "x1000c0s0b0n1"], kernel="http://k/new",
              initrd="http://k/initrd")
    posts = [b for m, _p, b in client.calls if m == "POST"]
    assert len(posts) == 1
    assert posts[0]["metadata"]["name"].startswith(boot.CONFIG_PREFIX)
    assert posts[0]["spec"] == {"hosts": ["x1000c0s0b0n0", "x1000c0s0b0n1"], "kernel": "http://k/new",
                                "initrd": "http://k/initrd"}
    assert ("DELETE", "/bootconfigurations/u1", None) in client.calls


def test_boot_service_absent_keeps_the_others():
    client = Recorder([bs_config("u1", "old", ["x1000c0s0b0n0", "x1000c0s0b0n1"])])
    boot.plan(boot.BootServiceBackend(client), ["x1000c0s0b0n0"], state="absent")
    assert client.calls[1:] == [("PUT", "/bootconfigurations/u1",
                                 {"metadata": {"name": "old"},
                                  "spec": {"hosts": ["x1000c0s0b0n1"], "kernel": "http://k/a", "params": ""}})]


def test_upsert_gets_creates_and_updates_in_one_call():
    plan = resource.plan([{"k": 1, "v": 2}, {"k": 2, "v": 2}], [{"k": 1, "v": 1}], "k")
    seen = []
    resource.apply(plan, upsert=lambda changes: seen.append(sorted(c.key for c in changes)))
    assert seen == [[1, 2]]
    with pytest.raises(ValueError):
        resource.apply(plan, upsert=seen.append, create=seen.append)
