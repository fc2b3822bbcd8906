# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CSM side: read modules, csm_node and the token, against the lab's CSM side (`lab up --csm`).

Keycloak, HSM (SMD) and BSS are real programs; SLS, BOS, IMS, CFS and PCS are lab/csm_emulator.py, and every
answer it gives during these tests is validated against ../shared/specs/csm-*.yaml (test_zz_emulator_answers_match_the_specs).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml

from conftest import show_task, shown  # pylint: disable=import-error
from lab import csm as labcsm

REPO_ROOT = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("LAB_SPECS") or REPO_ROOT.parent / "shared" / "specs")
SPEC_OF = {"/sls/v1": "csm-sls.openapi.yaml", "/bos/v2": "csm-bos.openapi.yaml", "/ims/v3": "csm-ims.openapi.yaml",
           "/cfs/v3": "csm-cfs.openapi.yaml", "/power-control/v1": "csm-pcs.swagger.yaml"}


_LAB = []


def collection_module(lab, name):
    """``plugins/module_utils/<name>`` imported as ``ansible_collections.cscs.openchami...`` from this checkout."""
    import importlib  # pylint: disable=import-outside-toplevel
    root = str((lab or _LAB[0]).collections_path())
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("ansible_collections.cscs.openchami.plugins.module_utils." + name)


@pytest.fixture(scope="module")
def csm(lab):
    """The lab with its CSM side up, reset to the seed; yields (lab handle, lab.json's csm section)."""
    info = json.loads((lab.state / "lab.json").read_text(encoding="utf-8")).get("csm")
    if not info or not labcsm.CsmSide(lab.lab).running():
        lab.lab.up(csm=True)
        info = json.loads((lab.state / "lab.json").read_text(encoding="utf-8"))["csm"]
    labcsm.CsmSide(lab.lab).reset()
    _LAB[:] = [lab]
    yield lab, info


def client(info, lab=None, **kwargs):
    """A CsmClient of the collection (imported from this checkout) on the lab's gateway."""
    csmclient = collection_module(lab, "csm")
    args = dict(api_url=info["api_url"], client_secret_file=info["client_secret_file"])
    args.update(kwargs)
    return csmclient.CsmClient(**args)


def play(lab, info, tasks, check=False):
    """Run tasks with the csm group defaults pointing at the lab; returns the registered results by name."""
    registered = []
    for index, task in enumerate(tasks):
        task.setdefault("register", f"r{index}")
        registered.append(task["register"])
    playbook = [{"hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/cscs.openchami.csm": {
                     "csm_api_url": info["api_url"], "csm_client_secret_file": info["client_secret_file"]}},
                 "tasks": tasks + [show_task("{%s}" % ", ".join(f"'{name}': {name}" for name in registered))]}]
    result = lab.run_playbook(playbook, check=check)
    return result, shown(result.stdout)


def ok(result, data):
    assert result.returncode == 0 and data is not None, result.stdout[-3000:] + result.stderr[-2000:]
    return data


# ---------------------------------------------------------------------------------------------- token
def test_wrong_client_secret_gives_a_named_error(csm):
    lab, info = csm
    result, data = play(lab, info, [{"cscs.openchami.csm_hsm_info": {"csm_client_secret": "not-the-secret",
                                                                     "include": ["groups"]}, "ignore_errors": True}])
    answer = ok(result, data)["r0"]
    assert answer["failed"]
    assert "Keycloak refused the client credentials of client 'admin-client'" in answer["msg"]
    assert info["token_url"] in answer["msg"]
    assert "not-the-secret" not in result.stdout


def test_expired_token_is_renewed(csm):
    _lab, info = csm
    api = client(info)
    first = api.auth.token()
    real_now = api.auth.now
    api.auth.now = lambda: real_now() + labcsm.TOKEN_LIFETIME  # the token is now past its expires_in
    assert api.hsm_groups()
    assert api.auth.token() != first
    # a token HSM refuses although it looks valid here (expired at Keycloak): one 401, one new token, success
    api.auth.now = real_now
    expired = requests.post(info["token_url"], data={"grant_type": "client_credentials"},
                            auth=(info["client_id"], Path(info["client_secret_file"]).read_text().strip()),
                            timeout=30).json()["access_token"]
    api.auth._token = expired[:-8] + "AAAAAAAA"  # pylint: disable=protected-access  # a bad signature: refused
    assert api.hsm_groups()
    assert api.auth.token() != expired


# ---------------------------------------------------------------------------------------------- read modules
def test_read_modules(csm):
    lab, info = csm
    seed = labcsm.csm_seed.generate(labcsm.nodes())
    layout = seed["layout"]
    node = next(n for n in layout if n["cls"] == "Mountain")
    result, data = play(lab, info, [
        {"cscs.openchami.csm_hsm_info": {}},
        {"cscs.openchami.csm_hsm_info": {"nodes": [node["xname"]]}},
        {"cscs.openchami.csm_sls_info": {"types": ["Node"]}},
        {"cscs.openchami.csm_bss_info": {"nodes": [node["xname"]]}},
        {"cscs.openchami.csm_bos_info": {"nodes": [node["xname"]], "templates": ["compute-23.7"]}},
        {"cscs.openchami.csm_ims_info": {"manifests": True, "artifact_rewrite": [
            {"prefix": "s3://", "replacement": info["s3_url"]}]}},
        {"cscs.openchami.csm_cfs_info": {}},
        {"cscs.openchami.csm_power_info": {"nodes": [node["xname"]]}},
    ])
    data = ok(result, data)
    hsm_all, hsm_one, sls, bss, bos, ims, cfs, power = (data[f"r{i}"] for i in range(8))
    assert all(not data[key]["changed"] for key in data)
    nodes = sorted(n["xname"] for n in layout)
    assert sorted(c["ID"] for c in hsm_all["components"] if c["Type"] == "Node") == nodes
    assert {g["label"] for g in hsm_all["groups"]} == {"compute", "uan", "ncn"}
    assert [p["name"] for p in hsm_all["partitions"]] == ["p1"]
    assert len(hsm_all["ethernet_interfaces"]) == len(seed["hsm"]["interfaces"])
    assert [c["ID"] for c in hsm_one["components"]] == [node["xname"]]
    assert [i["ComponentID"] for i in hsm_one["ethernet_interfaces"]] == [node["xname"]]
    assert [(lk["ID"], lk["Locked"]) for lk in hsm_one["locks"]] == [(node["xname"], False)]
    assert {n["xname"]: (n["nid"], n["role"], n["aliases"]) for n in sls["nodes"]} == \
        {n["xname"]: (n["nid"], n["role"], [n["alias"]]) for n in layout}
    assert bss["bootparameters"][0]["hosts"] == [node["xname"]]
    assert [c["id"] for c in bos["components"]] == [node["xname"]] and bos["components"][0]["enabled"]
    assert [t["name"] for t in bos["sessiontemplates"]] == ["compute-23.7"]
    kinds = {a["type"] for image in ims["images"] for a in image["artifacts"]}
    assert "application/vnd.cray.image.kernel" in kinds and len(ims["images"]) == 2
    assert sorted(c["id"] for c in cfs["components"]) == nodes
    assert {c["name"] for c in cfs["configurations"]} == {"compute-23.7", "uan-23.7", "ncn-23.7"}
    assert power["power_status"][0]["xname"] == node["xname"] and power["power_status"][0]["powerState"] == "on"


def test_cfs_pages_are_followed(csm):
    _lab, info = csm
    requests.put(info["emulator_url"] + "/lab/cfs-page-limit", json={"limit": 5}, timeout=10).raise_for_status()
    try:
        api = client(info)
        components = api.cfs_components()
    finally:
        requests.put(info["emulator_url"] + "/lab/cfs-page-limit", json={"limit": 1000}, timeout=10).raise_for_status()
    assert len(components) == labcsm.nodes()
    assert len({c["id"] for c in components}) == labcsm.nodes()


def test_bad_xname_is_named_and_nothing_read(csm):
    lab, info = csm
    result, data = play(lab, info, [{"cscs.openchami.csm_bss_info": {"nodes": ["x1000c0s0b0n0", "node-7"]},
                                     "ignore_errors": True}])
    answer = ok(result, data)["r0"]
    assert answer["failed"] and "node-7" in answer["msg"] and "x1000c0s0b0n0" not in answer["msg"]


# ---------------------------------------------------------------------------------------------- the specs
class _Yaml12Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML 1.2 booleans (OpenAPI 3 documents are YAML 1.2): ``on``/``off``/``yes``/``no`` stay strings.

    PyYAML (YAML 1.1) reads PCS's ``powerState`` enum ``[on, off, undefined]`` as ``[True, False, ...]``.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))

# What CSM's SLS writes into a node's ExtraProperties (hms-sls pkg/sls-common types.go ComptypeNode; the same in
# docs-csm's add_liquid_cooled_cabinet.py). The OpenAPI copy documents NodeType/nid instead, and its
# hardware_extra_properties is a oneOf of schemas most of which have no required field, so no real entry can
# match exactly one of them: for SLS, the alternatives are read as anyOf with the implemented node schema added.
SLS_NODE_AS_IMPLEMENTED = {"type": "object", "required": ["NID", "Role"], "properties": {
    "NID": {"type": "integer", "minimum": 0}, "Role": {"type": "string"}, "SubRole": {"type": "string"},
    "Aliases": {"type": "array", "items": {"type": "string"}}}}


def _string_keys(value):
    """Response codes read as integers become the strings OpenAPI means."""
    if isinstance(value, dict):
        return {str(key): _string_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_string_keys(item) for item in value]
    return value


def load_spec(name):
    """One of ../shared/specs as a dict, read as YAML 1.2, with the SLS ExtraProperties reading above."""
    with open(SPECS / name, encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=_Yaml12Loader)  # nosec - a safe loader
    spec = _string_keys(spec)
    if name == "csm-sls.openapi.yaml":
        schemas = spec["components"]["schemas"]
        schemas["hardware_comptype_node_as_implemented"] = SLS_NODE_AS_IMPLEMENTED
        # and its hardware.Type carries TypeString's pattern: SLS answers Type "comptype_node", TypeString "Node"
        # (pkg/sls-common GenericHardware: Type HMSStringType, TypeString xnametypes.HMSType)
        schemas["hardware"]["properties"]["Type"]["pattern"] = "^comptype_[a-z0-9_]+$"
        extra = schemas["hardware_extra_properties"]
        schemas["hardware_extra_properties"] = {"anyOf": extra["oneOf"] + [
            {"$ref": "#/components/schemas/hardware_comptype_node_as_implemented"}]}
    return spec


def _as_documented(path, status, body, content_type):
    """An answer as the service's document words it, where the real program answers otherwise (see the
    transcripts): ``None`` where the document has nothing to check it against.

    - IMS (Cray-HPE/ims v3.33.0) and PCS (Cray-HPE/hms-power-control v2.13.0) send problems as
      ``application/problem+json``; their documents say ``application/json`` (IMS) and ``application/error`` (PCS)
      for the same body.
    - IMS: a record created through the API has ``created`` in naive UTC (no offset) and ``link: null``.
    - PCS: an xname it has no power data for is listed with ``error`` and empty ``powerState``,
      ``managementState``, ``lastUpdated`` and a null ``supportedPowerTransitions``; an unknown transition is a
      404, which its document does not list.
    """
    if path.startswith("/power-control/v1/"):
        if path.startswith("/power-control/v1/transitions/") and status == 404:
            return None
        if content_type == "application/problem+json":
            return body, "application/error"
        if isinstance(body, dict) and isinstance(body.get("status"), list):
            body = {**body, "status": [{key: value for key, value in entry.items()
                                        if not (entry.get("error") and value in ("", None))}
                                       for entry in body["status"]]}
        return body, content_type
    if not path.startswith("/ims/v3/"):
        return body, content_type
    if content_type == "application/problem+json":
        return body, "application/json"
    records = body if isinstance(body, list) else [body]
    fixed = []
    for record in records:
        if isinstance(record, dict) and "created" in record:
            record = {key: value for key, value in record.items() if not (key == "link" and value is None)}
            if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", record["created"]):
                record["created"] += "+00:00"
        fixed.append(record)
    return (fixed if isinstance(body, list) else fixed[0]), content_type


def _validate(exchanges):
    from openapi_core import Config, OpenAPI  # pylint: disable=import-outside-toplevel
    from openapi_core.testing import MockRequest, MockResponse  # pylint: disable=import-outside-toplevel
    # the documents themselves are not checked: csm-ims.openapi.yaml repeats an operationId (an upstream slip)
    # PCS documents its problems as application/error: a JSON body under a name openapi-core does not know
    config = Config(spec_validator_cls=None, extra_media_type_deserializers={"application/error": json.loads})
    apis = {prefix: OpenAPI.from_dict(load_spec(name), config=config) for prefix, name in SPEC_OF.items()}
    errors = []
    for item in exchanges:
        url = urlsplit(item["path"])
        prefix = next((p for p in SPEC_OF if url.path.startswith(p + "/")), None)
        if prefix is None or item["status"] == 401:
            continue  # /s3/ objects are not a CSM API; a 401 is CSM's gateway's answer, which no service documents
        if url.path == "/sls/v1/search/hardware" and item["status"] == 200 and item["body"] is None:
            continue  # no match: hms-sls v2.12.0 answers null where its document says array (see the transcripts)
        if url.path.startswith("/sls/v1/hardware/") and item["status"] == 404:
            continue  # an unknown xname: hms-sls v2.12.0 answers 404, which its document does not list
        documented = _as_documented(url.path, item["status"], item["body"], item["content_type"])
        if documented is None:
            continue
        body, content_type = documented
        args = {key: values[0] if len(values) == 1 else values for key, values in parse_qs(url.query).items()}
        request = MockRequest("https://api-gw-service-nmn.local", item["method"].lower(), "/apis" + url.path, args=args,
                              data=json.dumps(item["request"]).encode() if item.get("request") is not None else None)
        response = MockResponse(json.dumps(body).encode() if body is not None else b"",
                                status_code=item["status"], content_type=content_type)
        try:
            apis[prefix].validate_response(request, response)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(f"{item['method']} {item['path']} -> {item['status']}: {type(exc).__name__}: {exc}"
                          f" {getattr(exc, '__cause__', '')}"[:1500])
    return errors


# ---------------------------------------------------------------------------------------------- csm_node
def dump(info):
    """Everything the CSM side holds (HSM, BSS, SLS, BOS, CFS, IMS, PCS), per node where it is per node.

    Only HSM's ``LastUpdate`` of Ethernet interfaces is left out: HSM stamps it when an interface is written.
    """
    api = client(info)
    everything = {
        "hsm_components": sorted(api.hsm_components(), key=lambda c: c["ID"]),  # HSM's order follows its writes
        "hsm_interfaces": sorted(({k: v for k, v in i.items() if k != "LastUpdate"}
                                  for i in api.hsm_ethernet_interfaces()), key=lambda i: i["ID"]),
        "hsm_groups": api.hsm_groups(),
        "hsm_partitions": api.hsm_partitions(),
        "bss": sorted(api.bss_bootparameters(), key=lambda b: b["hosts"]),
        "sls": api.get("sls", "/dumpstate"),
        "bos_templates": api.bos_sessiontemplates(),
        "bos_components": api.bos_components(),
        "cfs_components": api.cfs_components(),
        "cfs_configurations": api.cfs_configurations(),
        "ims": api.ims_images(),
        "pcs": api.pcs_power_status(),
    }
    everything["hsm_locks"] = api.hsm_lock_status([c["ID"] for c in everything["hsm_components"]])
    return everything


def per_node(snapshot, node):
    """The parts of a dump that concern ``node``."""
    return {"component": [c for c in snapshot["hsm_components"] if c["ID"] == node],
            "interfaces": [i for i in snapshot["hsm_interfaces"] if i.get("ComponentID") == node],
            "lock": snapshot["hsm_locks"].get(node),
            "bos": [c for c in snapshot["bos_components"] if c["id"] == node],
            "cfs": [c for c in snapshot["cfs_components"] if c["id"] == node]}


def without(snapshot, node):
    """A dump with every entry of ``node`` removed."""
    out = dict(snapshot)
    out["hsm_components"] = [c for c in snapshot["hsm_components"] if c["ID"] != node]
    out["hsm_interfaces"] = [i for i in snapshot["hsm_interfaces"] if i.get("ComponentID") != node]
    out["hsm_locks"] = {k: v for k, v in snapshot["hsm_locks"].items() if k != node}
    out["bos_components"] = [c for c in snapshot["bos_components"] if c["id"] != node]
    out["cfs_components"] = [c for c in snapshot["cfs_components"] if c["id"] != node]
    return out


def bss_copy_macs(info, node):
    """The MACs CSM's BSS knows for ``node`` in its copy of HSM's state (``/dumpstate``)."""
    known = [c for c in client(info).get("bss", "/dumpstate")["Components"] if c.get("ID") == node]
    return sorted(m.lower() for c in known for m in c.get("MAC") or [])


def test_release_and_restore_exactly(csm):
    lab, info = csm
    layout = labcsm.csm_seed.generate(labcsm.nodes())["layout"]
    node = next(n["xname"] for n in layout if n["cls"] == "Mountain")
    before = dump(info)

    # check mode: the plan and the diff, nothing written
    result, data = play(lab, info, [{"cscs.openchami.csm_node": {"nodes": [node], "state": "released"}}],
                        check=True)
    planned = ok(result, data)["r0"]
    assert planned["changed"] and planned["nodes"] == [{"xname": node, "changed": True, "actions": []}]
    assert dump(info) == before

    result, data = play(lab, info, [
        {"cscs.openchami.csm_node": {"nodes": [node], "state": "released"}, "diff": True},
        {"cscs.openchami.csm_node": {"nodes": [node], "state": "released", "record": "{{ r0.record }}"}},
    ])
    first, again = ok(result, data)["r0"], data["r1"]
    assert first["changed"] and not again["changed"]
    assert first["bss_refreshed"] and not again["bss_refreshed"]
    # CSM's BSS serves from its own copy of HSM (no HSM notifications here): the module made it re-read
    assert bss_copy_macs(info, node) == []
    assert first["nodes"][0]["actions"][:3] == ["disabled BOS", "disabled CFS", "HSM lock taken"]
    assert first["diff"]["after"][node] == {"bos_enabled": False, "cfs_enabled": False, "hsm_locked": True,
                                            "ethernet_interfaces": []}
    assert again["record"] == first["record"]
    record = first["record"]
    assert record[node]["bos_enabled"] and record[node]["cfs_enabled"] and not record[node]["hsm_locked"]
    assert [i["MACAddress"] for i in record[node]["ethernet_interfaces"]] == \
        [i["MACAddress"] for i in per_node(before, node)["interfaces"]]

    released_dump = dump(info)
    mine = per_node(released_dump, node)
    assert not mine["interfaces"] and mine["lock"]["Locked"]
    assert not mine["bos"][0]["enabled"] and not mine["cfs"][0]["enabled"]
    # its neighbours (and everything else) are untouched
    assert without(released_dump, node) == without(before, node)

    # managed without the record: refused, nothing changed
    result, data = play(lab, info, [{"cscs.openchami.csm_node": {"nodes": [node], "state": "managed"},
                                     "ignore_errors": True}])
    refused = ok(result, data)["r0"]
    assert refused["failed"] and node in refused["msg"] and "record" in refused["msg"]
    assert dump(info) == released_dump

    result, data = play(lab, info, [
        {"cscs.openchami.csm_node": {"nodes": [node], "state": "managed", "record": record}},
        {"cscs.openchami.csm_node": {"nodes": [node], "state": "managed", "record": record}},
    ])
    restored, again = ok(result, data)["r0"], data["r1"]
    assert restored["changed"] and not again["changed"] and restored["bss_refreshed"]
    assert dump(info) == before
    assert bss_copy_macs(info, node) == sorted(i["MACAddress"].lower() for i in per_node(before, node)["interfaces"])


def test_ownership_counts_a_boot_record_stored_under_one_of_the_node_macs(csm, clean_smd):
    """OpenCHAMI's BSS serves a node's iPXE, which asks by MAC, from a record stored under the MAC alone (as
    `ochami bss boot params add --macs` writes it): node_ownership_info counts it as the node's boot configuration."""
    lab, info = csm
    lab.clean_bss()
    layout = labcsm.csm_seed.generate(labcsm.nodes())["layout"]
    node = next(n["xname"] for n in layout if n["role"] == "Compute")
    task = {"cscs.openchami.node_ownership_info": {"nodes": [node], "backend": "bss"}}
    result, data = play(lab, info, [dict(task)])
    before = ok(result, data)["r0"]["nodes"][0]
    assert before["owner"] == "csm" and not before["openchami"]["boot_config"] and before["csm"]["macs"], before
    answer = lab.api("bss", "POST", "/bootparameters", json={"macs": [before["csm"]["macs"][-1]],
                                                             "kernel": "http://images.example/vmlinuz"})
    assert answer.status_code in (200, 201), answer.text
    try:
        result, data = play(lab, info, [dict(task)])
        after = ok(result, data)["r0"]
    finally:
        lab.clean_bss()
    assert after["nodes"][0]["openchami"]["boot_config"] is True, after
    assert after["owners"]["both"] == [node], after


def test_release_bad_input_changes_nothing(csm):
    lab, info = csm
    before = dump(info)
    result, data = play(lab, info, [{"cscs.openchami.csm_node": {"nodes": ["x1000c0s0b0n0", "x9999c0s0b0n0"],
                                                                 "state": "released"}, "ignore_errors": True}])
    answer = ok(result, data)["r0"]
    assert answer["failed"] and "x9999c0s0b0n0 is not a component in CSM's HSM" in answer["msg"]
    assert dump(info) == before


# ---------------------------------------------------------------------------------------------- csm_export
def hsm_call(info, method, path, **kwargs):
    api = client(info)
    return api.client("hsm").request(method, path, expect=(200, 201, 204), **kwargs)


def test_export_reports_bad_data_per_node(csm):
    lab, info = csm
    layout = [n for n in labcsm.csm_seed.generate(labcsm.nodes())["layout"] if n["role"] == "Compute"]
    gone, no_nid, shares_ip, ip_owner = (n["xname"] for n in layout[:4])
    stray = "x1000c7s7b0n0"
    interfaces = {i["ComponentID"]: i for i in client(info).hsm_ethernet_interfaces()}
    try:
        hsm_call(info, "DELETE", "/State/Components/" + gone)
        component = next(c for c in client(info).hsm_components([no_nid]))
        hsm_call(info, "DELETE", "/State/Components/" + no_nid)
        stray_component = {"ID": stray, "Type": "Node", "State": "Ready", "Role": "Compute", "NID": 9999}
        hsm_call(info, "POST", "/State/Components", json_body={"Components": [
            {k: v for k, v in component.items() if k != "NID"}, stray_component]})
        sls_entry = client(info).get("sls", "/hardware/" + no_nid)
        extra = {k: v for k, v in sls_entry["ExtraProperties"].items() if k != "NID"}
        client(info).client("sls").put("/hardware/" + no_nid, {"Class": sls_entry["Class"], "ExtraProperties": extra})
        hsm_call(info, "POST", "/Inventory/EthernetInterfaces", json_body={
            "MACAddress": "02:99:00:00:00:01", "ComponentID": shares_ip,
            "IPAddresses": interfaces[ip_owner]["IPAddresses"]})
        result, data = play(lab, info, [
            {"cscs.openchami.csm_export": {"roles": ["Compute"], "boot_template": "compute-23.7",
                                           "artifact_rewrite": [{"prefix": "s3://", "replacement": info["s3_url"]}]}},
            {"cscs.openchami.csm_export": {"roles": ["Compute"], "strict": True}, "ignore_errors": True},
        ])
        export, strict = ok(result, data)["r0"], data["r1"]
    finally:
        labcsm.CsmSide(lab.lab).reset()
    ip = interfaces[ip_owner]["IPAddresses"][0]["IPAddress"]
    assert export["problems"] == {
        gone: ["in SLS but not in HSM"],
        no_nid: ["no NID in SLS"],
        stray: ["in HSM but not in SLS"],
        shares_ip: [f"IP {ip} is also held by {ip_owner}"],
        ip_owner: [f"IP {ip} is also held by {shares_ip}"],
    }
    exported = {n["xname"] for n in export["nodes"]}
    assert exported == {n["xname"] for n in layout} - {gone, no_nid, shares_ip, ip_owner}
    assert strict["failed"] and "5 node(s) have problems, nothing was exported" in strict["msg"]
    assert "components" not in strict
    # the boot translation of the compute boot set (sbps), with the image's own boot parameters first
    (boot,) = export["boot_configs"]
    assert boot["boot_set"] == "compute" and set(boot["nodes"]) == exported
    assert boot["kernel"].startswith(info["s3_url"]) and boot["kernel"].endswith("/kernel")
    assert boot["params"].startswith("rd.shell rd.retry=10 console=ttyS0,115200 ip=dhcp quiet root=sbps-s3:s3://boot-images/")
    assert ":sbps:v1:iqn.2023-06.csm.iscsi:" in boot["params"] and " nmd_data=url=s3://boot-images/" in boot["params"]


def test_export_of_1000_nodes_through_the_smd_modules(csm, clean_smd):
    lab, info = csm
    size = 1000
    labcsm.CsmSide(lab.lab).reset(size)
    try:
        # the UANs stay behind: CSM's HSM knows the subrole UAN, OpenCHAMI's SMD does not unless configured
        # (HMS_CONFIG_PATH, as the lab's CSM HSM is); SMD would refuse the whole batch
        layout = [n for n in labcsm.csm_seed.generate(size)["layout"] if n["role"] != "Application"]
        assert len(layout) == size - 2
        result, data = play(lab, info, [
            {"cscs.openchami.csm_export": {"roles": ["Compute", "Management"]}, "register": "export"},
            {"cscs.openchami.smd_component": {"components": "{{ export.components }}"}, "register": "components"},
            {"cscs.openchami.smd_ethernet_interface": {"interfaces": "{{ export.interfaces }}"}, "register": "macs"},
            {"cscs.openchami.smd_group": {"groups": "{{ export.groups }}"}, "register": "groups"},
            {"cscs.openchami.smd_partition": {"partitions": "{{ export.partitions }}"}, "register": "partitions"},
        ])
        data = ok(result, data)
    finally:
        labcsm.CsmSide(lab.lab).reset()
    assert data["export"]["problems"] == {}
    components = lab.api("smd", "GET", "/State/Components", params={"type": "Node"}).json()["Components"]
    assert {c["ID"]: (c["NID"], c["Role"]) for c in components} == {n["xname"]: (n["nid"], n["role"]) for n in layout}
    macs = {i["ComponentID"]: i["MACAddress"] for i in lab.api("smd", "GET", "/Inventory/EthernetInterfaces").json()
            if i["ComponentID"] in {n["xname"] for n in layout}}
    expected = {i["ComponentID"]: i["MACAddress"] for i in labcsm.csm_seed.generate(size)["hsm"]["interfaces"]}
    assert macs == {n["xname"]: expected[n["xname"]] for n in layout}
    bmcs = lab.api("smd", "GET", "/State/Components", params={"type": "NodeBMC"}).json()["Components"]
    assert {c["ID"] for c in bmcs} == {n["bmc"] for n in layout}
    groups = {g["label"]: sorted(g["members"]["ids"]) for g in lab.api("smd", "GET", "/groups").json()}
    assert groups["compute"] == sorted(n["xname"] for n in layout if n["role"] == "Compute")


# ---------------------------------------------------------------------------------------------- transcripts
TRANSCRIPTS = Path(__file__).parent / "fixtures" / "csm-transcripts"
VOLATILE = ("LastUpdated", "LastUpdatedTime")  # when the real program stored the entry


def _comparable(value, created=()):
    """Answers without write times (and without the creation time of records made during the recording, whose
    ids are in ``created``); lists of entries in name order (SLS answers in its database's order, IMS in its own)."""
    if isinstance(value, dict):
        volatile = VOLATILE + (("created",) if value.get("id") in created else ())
        return {key: _comparable(item, created) for key, item in value.items() if key not in volatile}
    if isinstance(value, list):
        items = [_comparable(item, created) for item in value]
        if items and all(isinstance(item, dict) for item in items):
            return sorted(items, key=lambda item: str(item.get("Xname") or item.get("Name") or item.get("id")))
        return items
    return value


def _replay(api, info, transcript):
    """Send the recorded requests to the lab; the differences from the recorded answers, as lines.

    A record the real program created (POST answered 201 with an ``id``) has another id in the lab: later paths
    name it by the recorded id, which is swapped for the lab's, and the lab's answers carry it back.
    """
    ids, differences = {}, []
    for item in transcript["exchanges"]:
        path = item["path"]
        for recorded, here in ids.items():
            path = path.replace(recorded, here)
        answer = api.client("sls").request(item["method"], info["api_url"] + path, json_body=item.get("request"),
                                           expect=tuple(range(200, 600)))
        body = answer.json
        if item["method"] == "POST" and item["status"] == 201 and answer.status == 201:
            ids[item["body"]["id"]] = body["id"]
        if ids:
            text = json.dumps(body)
            for recorded, here in ids.items():
                text = text.replace(here, recorded)
            body = json.loads(text)
        if answer.status != item["status"] or _comparable(body, ids) != _comparable(item["body"], ids):
            differences.append(f"{item['method']} {item['path']}: {transcript['program']} {transcript['version']} "
                               f"answered {item['status']} {json.dumps(item['body'])[:300]}, the emulator "
                               f"{answer.status} {(answer.text or '')[:300]}")
    return differences


@pytest.mark.parametrize("name", sorted(p.name for p in TRANSCRIPTS.glob("*.json")))
def test_recorded_answers_match_the_specs_but_for_the_named_deviations(name):
    """What the real programs answered is valid under their documents once the deviations ``_validate`` names are
    allowed for: the same allowances the emulator gets, and no more than the real programs need."""
    transcript = json.loads((TRANSCRIPTS / name).read_text(encoding="utf-8"))
    errors = _validate(transcript["exchanges"])
    assert not errors, "\n".join(errors[:20])


@pytest.mark.parametrize("name", sorted(p.name for p in TRANSCRIPTS.glob("*.json")))
def test_emulator_answers_as_the_recorded_real_program(csm, name):
    """The emulator, on the seed the transcript was recorded with, answers what the real program answered."""
    lab, info = csm
    transcript = json.loads((TRANSCRIPTS / name).read_text(encoding="utf-8"))
    side = labcsm.CsmSide(lab.lab)
    side.reset(32)  # the transcripts were recorded on lab/csm_seed.py generate(32)
    try:
        differences = _replay(client(info), info, transcript)
    finally:
        side.reset()
    assert not differences, "\n".join(differences)


def test_zz_emulator_answers_match_the_specs(csm):
    """Every answer the emulator gave in this module (and before, in this lab) is valid under the CSM specs."""
    _lab, info = csm
    lines = Path(info["exchanges"]).read_text(encoding="utf-8").splitlines()
    exchanges = [json.loads(line) for line in lines]
    seen = {(e["method"], urlsplit(e["path"]).path.split("/")[1]) for e in exchanges}
    emulated = {"bos", "ims", "cfs", "power-control"} | ({"sls"} if info.get("sls") == "emulated" else set())
    assert {("GET", name) for name in emulated} <= seen
    errors = _validate(exchanges)
    assert not errors, "\n".join(errors[:20])
