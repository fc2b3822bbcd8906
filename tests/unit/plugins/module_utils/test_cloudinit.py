# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the cloud-init module_utils: cloud-config checks, backend detection, instance info."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import cloudinit
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Response


# ---------------------------------------------------------------- cloud-config

@pytest.mark.parametrize("text, kind", [
    ("#cloud-config\n", "cloud-config"),
    ("#cloud-config\nruncmd:\n  - [echo, hi]\n", "cloud-config"),
    ("#cloud-config  \r\npackages: [vim]\r\n", "cloud-config"),
    ("## template: jinja\n#cloud-config\nhostname: {{ ds.meta_data.local_hostname }}\n", "template"),
    ("## template:jinja\n{% if x %}: [\n", "template"),
])
def test_valid(text, kind):
    assert cloudinit.validate_cloud_config(text) == kind


def test_yaml_error_names_line_and_column():
    text = "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: [unclosed\n"
    with pytest.raises(cloudinit.CloudConfigError) as info:
        cloudinit.validate_cloud_config(text)
    assert info.value.line == 5 and info.value.column == 1
    assert "line 5, column 1" in str(info.value)


def test_bad_indentation_is_located():
    text = "#cloud-config\nruncmd:\n  - echo hi\n bad: x\n"
    with pytest.raises(cloudinit.CloudConfigError) as info:
        cloudinit.validate_cloud_config(text)
    assert (info.value.line, info.value.column) == (4, 2)


@pytest.mark.parametrize("text, message", [
    ("runcmd: []\n", "first line must be"),
    ("#!/bin/bash\necho hi\n", "first line must be"),
    ("#cloud-configx\n", "first line must be"),
    ("#cloud-config\n- a\n- b\n", "must be a YAML mapping"),
    ("#cloud-config\nkey: \"value\n", "invalid YAML at line"),
])
def test_invalid(text, message):
    with pytest.raises(cloudinit.CloudConfigError) as info:
        cloudinit.validate_cloud_config(text)
    assert message in str(info.value)


def test_group_round_trip_and_base64():
    stored = {"name": "g", "description": "d", "meta-data": {"a": 1},
              "file": {"content": base64.b64encode(b"#cloud-config\nfoo: bar\n").decode(), "encoding": "base64"}}
    flat = cloudinit.flatten_group("g", stored)
    assert flat == {"name": "g", "description": "d", "meta_data": {"a": 1}, "content": "#cloud-config\nfoo: bar\n"}
    assert cloudinit.group_body(flat) == {"name": "g", "description": "d", "meta-data": {"a": 1},
                                          "file": {"content": "#cloud-config\nfoo: bar\n", "encoding": "plain"}}
    assert cloudinit.flatten_group("e", {"name": "e"}) == {"name": "e", "description": "", "meta_data": {}, "content": ""}


# ---------------------------------------------------------------- backend detection

class FakeClient:
    def __init__(self, base_url, answers):
        self.base_url = base_url
        self.answers = answers
        self.retries = 5
        self.timeout = 30

    def get(self, path, **_kw):
        status, body = self.answers.get(self.base_url + path, (None, None))
        if status is None:
            raise ApiError("GET %s: service unreachable" % path)
        if status >= 400:
            raise ApiError("GET %s failed: HTTP %d" % (path, status), "GET", path, status,
                           body if isinstance(body, str) else json.dumps(body))
        return Response(status, {}, json.dumps(body))


def getter(answers, **urls):
    return lambda service: FakeClient(urls[service], answers) if service in urls else None


def test_detect_cloud_init_server():
    get = getter({"http://h/cloud-init/admin/groups": (200, {})}, cloud_init="http://h/cloud-init",
                 metadata_service="http://h/metadata-service")
    assert cloudinit.detect_backend(get).base_url == "http://h/cloud-init"


def test_detect_metadata_service():
    health = {"status": "healthy", "service": "github.com/OpenCHAMI/metadata-service"}
    get = getter({"http://h/metadata-service/health": (200, health),
                  "http://h/cloud-init/admin/groups": (404, "404 page not found")},
                 cloud_init="http://h/cloud-init", metadata_service="http://h/metadata-service")
    kind, client = cloudinit.find_backend(get)
    assert kind == cloudinit.METADATA_SERVICE and client.base_url == "http://h/metadata-service"
    server = cloudinit.server_for(get)
    assert isinstance(server, cloudinit.MetadataService)


def test_detect_metadata_service_before_its_first_smd_sync():
    """It answers /health with 503 until it has read SMD once: still recognised by the service it names."""
    get = getter({"http://h/m/health": (503, {"status": "unhealthy", "service": "github.com/OpenCHAMI/metadata-service"})},
                 metadata_service="http://h/m")
    assert cloudinit.find_backend(get)[0] == cloudinit.METADATA_SERVICE


def test_boot_service_health_is_not_metadata_service():
    get = getter({"http://h/x/health": (200, {"status": "ok", "service": "boot-service"})}, metadata_service="http://h/x")
    with pytest.raises(ApiError) as info:
        cloudinit.find_backend(get)
    assert "no cloud-init server or metadata-service found" in str(info.value)


def test_forced_metadata_service_is_taken_without_asking():
    get = getter({}, metadata_service="http://h/m")
    kind, client = cloudinit.find_backend(get, "metadata_service")
    assert kind == cloudinit.METADATA_SERVICE and client.base_url == "http://h/m"
    with pytest.raises(ApiError) as info:
        cloudinit.find_backend(getter({}), "metadata_service")
    assert "no address for the metadata-service" in str(info.value)


def test_metadata_service_group_limits():
    with pytest.raises(cloudinit.resource.ValidationError) as info:
        cloudinit.MetadataService.check_group({"name": "compute", "content": "", "meta_data": {"n": 1, "s": "x"}})
    text = str(info.value)
    assert "group compute: content is required" in text and "meta_data values must be strings" in text and ": n" in text
    cloudinit.MetadataService.check_group({"name": "compute", "content": "#cloud-config\n", "meta_data": {"s": "x"}})


def test_nothing_found():
    with pytest.raises(ApiError) as info:
        cloudinit.detect_backend(getter({}, cloud_init="http://h/cloud-init"))
    assert "no cloud-init server or metadata-service found" in str(info.value)
    with pytest.raises(ApiError) as info:
        cloudinit.detect_backend(getter({}))
    assert "no address" in str(info.value)


# ---------------------------------------------------------------- instance info

DEFAULTS = {"cluster-name": "demo", "short-name": "nid", "nid-length": 3, "base-url": "http://ci",
            "public-keys": ["ssh-ed25519 AAAA cluster"]}


def meta(local="nid002", host="nid002", instance_type=None, keys=("ssh-ed25519 AAAA cluster",), base="http://ci"):
    v1 = {"public_keys": list(keys), "vendor_data": {"cloud_init_base_url": base}}
    if instance_type:
        v1["instance_type"] = instance_type
    return {"local-hostname": local, "hostname": host, "instance_data": {"v1": v1}}


@pytest.mark.parametrize("defaults, nid, name", [
    (DEFAULTS, 2, "nid002"),
    ({"cluster-name": "demo"}, 17, "de0017"),
    ({}, 5, "0005"),
])
def test_default_hostname(defaults, nid, name):
    assert cloudinit.default_hostname(defaults, nid) == name


def test_own_record_tells_overrides_from_defaults():
    effective = cloudinit.effective_instance("x1", meta("login1", "nid002", "big", ("ssh-ed25519 AAAA cluster", "k2"),
                                                        "http://other"))
    assert cloudinit.own_record(effective, DEFAULTS, 2) == {
        "xname": "x1", "local-hostname": "login1", "hostname": "", "instance-type": "big",
        "cloud-init-base-url": "http://other", "public-keys": ["k2"]}
    assert cloudinit.node_view(effective, DEFAULTS)["public-keys"] == ["k2"]


class FakeServer:
    def __init__(self, metas):
        self.metas = metas
        self.written = []

    def meta_data_many(self, names):
        return [self.metas[n] for n in names]

    def put_instances_changes(self, changes):
        self.written.extend(c.after for c in changes)


def test_plan_instances_keeps_unmanaged_fields_and_is_idempotent():
    server = FakeServer({"x1": meta("login1", "nid002", "big"), "x2": meta()})
    items = [{"xname": "x1", "instance-type": "small"}, {"xname": "x2", "local-hostname": "nid002"}]
    plan = cloudinit.plan_instances(server, items, DEFAULTS, {"x1": 2, "x2": 2})
    assert plan.summary()["update"] == 1 and plan.summary()["unchanged"] == 1
    # the record is replaced as a whole: the node's own hostname goes back with the change
    assert server.written == [{"xname": "x1", "local-hostname": "login1", "hostname": "", "instance-type": "small",
                               "cloud-init-base-url": "", "public-keys": []}]
    assert plan.diff() == {"before": {"x1": {"instance-type": "big"}}, "after": {"x1": {"instance-type": "small"}}}


def test_plan_instances_absent_and_check_mode():
    server = FakeServer({"x1": meta("login1", "nid002", "big"), "x2": meta()})
    items = [{"xname": "x1"}, {"xname": "x2"}]
    plan = cloudinit.plan_instances(server, items, DEFAULTS, {"x1": 2, "x2": 2}, state="absent", check_mode=True)
    assert plan.summary()["update"] == 1 and plan.summary()["unchanged"] == 1
    assert server.written == []
    assert plan.diff()["after"] == {"x1": {"local-hostname": "nid002", "instance-type": ""}}


def test_plan_instances_keys_compare_as_a_set():
    server = FakeServer({"x1": meta(keys=("ssh-ed25519 AAAA cluster", "k1", "k2"))})
    plan = cloudinit.plan_instances(server, [{"xname": "x1", "public-keys": ["k2", "k1", "k2"]}], DEFAULTS, {"x1": 2})
    assert not plan.changed


class FailingClient:
    def __init__(self, body):
        self.body = body

    def get(self, path, **_kw):
        raise ApiError("GET %s failed: HTTP 404" % path, "GET", path, 404, self.body)


@pytest.mark.parametrize("body, message", [
    ("node x1000c0s0b0n0 not found in SMD", "not known to SMD"),
    ("404 page not found", "--impersonation"),
    ("something else", "HTTP 404"),
])
def test_impersonation_errors_are_explained(body, message):
    server = cloudinit.CloudInitServer(FailingClient(body))
    with pytest.raises(ApiError) as info:
        server.impersonate("x1000c0s0b0n0", "meta-data")
    assert message in str(info.value)


def test_metadata_service_reads_the_ip_addresses_of_many_nodes_in_one_smd_request():
    class Smd:
        asked = []

        def get_json(self, path, params=None):
            self.asked.append((path, params))
            return [{"MACAddress": "02:00:00:00:00:01", "ComponentID": "x1000c0s0b0n0",
                     "IPAddresses": [{"IPAddress": "10.0.0.1", "Network": "nmn"}]},
                    {"MACAddress": "02:00:00:00:00:02", "ComponentID": "x1000c0s0b0n1", "IPAddresses": []}]

    class Mds:
        forwarded = []

        def get(self, path, headers=None):
            self.forwarded.append((path, headers["X-Forwarded-For"]))
            return Response(200, {}, "instance-id: i-1\n")

    smd_client, mds = Smd(), Mds()
    server = cloudinit.MetadataService(mds, get_client=lambda service: smd_client if service == "smd" else None)
    server.know_nodes(["x1000c0s0b0n0", "x1000c0s0b0n1"])
    assert server.meta_data("x1000c0s0b0n0") == {"instance-id": "i-1"}
    assert server.impersonate("x1000c0s0b0n0", "user-data") == "instance-id: i-1\n"
    with pytest.raises(ApiError) as info:
        server.meta_data("x1000c0s0b0n1")
    assert "node x1000c0s0b0n1 has no IP address in SMD" in str(info.value)
    assert smd_client.asked == [("/Inventory/EthernetInterfaces", {"ComponentID": ["x1000c0s0b0n0", "x1000c0s0b0n1"]})]
    assert mds.forwarded == [("/meta-data", "10.0.0.1"), ("/user-data", "10.0.0.1")]
