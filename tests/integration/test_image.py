# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image inventory on the lab's real S3 server (versitygw): build, push, register, find, tag, boot, delete,
import from CSM IMS.

One real build: playbooks/build_image.yml with the native backend (debootstrap --variant=minbase against Debian's
mirror, a package and a command in a second layer, mksquashfs); debootstrap keeps its downloads in
``$LAB_CACHE/debootstrap``, so a second run downloads nothing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import show_task, shown  # pylint: disable=import-error
from lab import build as labbuild
from lab import csm as labcsm

REPO = Path(__file__).resolve().parents[2]
XNAME = "x3000c0s30b0n0"


@pytest.fixture(scope="module")
def s3(lab):
    """The lab with its S3 server, the bucket emptied; yields (lab handle, boto3 client, bucket)."""
    import boto3  # pylint: disable=import-outside-toplevel
    if "s3" not in lab.urls:
        lab.lab.up(services=["s3"], bmcs=0)
        lab.__init__(lab.lab, lab.started)  # re-read lab.json and lab.env
    env = lab.env
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_DEFAULT_REGION"])
    bucket = env["LAB_S3_BUCKET"]
    keys = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents") or []]
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]]})
    # boot configurations earlier runs or other files left: this file deletes images, which is refused while BSS
    # boots a node from one (the migration tests leave nodes booting CSM's images, which this file imports)
    lab.clean_bss()
    for config in lab.api("boot-service", "GET", "/bootconfigurations").json() or []:
        if f"/{bucket}/" in json.dumps(config.get("spec") or {}):
            lab.api("boot-service", "DELETE", f"/bootconfigurations/{config['metadata']['uid']}").raise_for_status()
    yield lab, client, bucket


def play(lab, tasks, check=False, extravars=None, diff=False):
    """Run tasks on localhost; returns (process, registered results by name). The S3 server comes from lab.env
    (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID ...), the OpenCHAMI connection from the lab inventory."""
    names = []
    tasks = [dict(task) for task in tasks]  # the same task may come twice: each gets its own register
    for index, task in enumerate(tasks):
        task.setdefault("register", f"r{index}")
        task.setdefault("ignore_errors", True)
        names.append(task["register"])
    playbook = [{"hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/cscs.openchami.openchami": {
                     "service_uris": "{{ openchami_service_uris }}", "token_file": "{{ openchami_token_file }}"}},
                 "tasks": tasks + [show_task("{%s}" % ", ".join(f"'{n}': {n}" for n in names))]}]
    result = lab.run_playbook(playbook, dict(extravars or {}), check=check, args=["--diff"] if diff else [])
    registered = shown(result.stdout)
    assert registered is not None, result.stdout[-3000:] + result.stderr[-2000:]
    return result, registered


def objects(client, bucket):
    """key -> (size, sha256) of everything in the bucket."""
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents") or []:
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"]] = (len(body), hashlib.sha256(body).hexdigest())
    return out


def bss(lab, name):
    answer = lab.api("bss", "GET", "/bootparameters", params={"name": name})
    return answer.json()[0] if answer.status_code == 200 else None


def no_secret(lab, *texts):
    for text in texts:
        assert lab.env["AWS_SECRET_ACCESS_KEY"] not in text


# ------------------------------------------------------------------------------------------- a real build
RECIPES = [
    {"options": {"layer_type": "base", "name": "lab-base", "pkg_manager": "apt", "parent": "scratch",
                 "release": "bookworm", "publish_tags": "base"}},
    {"options": {"layer_type": "base", "name": "lab-compute", "pkg_manager": "apt", "parent": "lab-base",
                 "publish_tags": ["latest", "test"]},
     "packages": ["netbase"],
     "cmds": [{"cmd": "echo 'built by cscs.openchami' > /etc/motd"}]},
]


def test_build_push_register_and_what_how_where_who_when(s3):
    lab, client, bucket = s3
    mirror = next((line.split()[1] for line in Path("/etc/apt/sources.list.d/debian.sources").read_text().splitlines()
                   if line.startswith("URIs:")), "http://deb.debian.org/debian") \
        if Path("/etc/apt/sources.list.d/debian.sources").exists() else "http://deb.debian.org/debian"
    extravars = {"image_build_recipes": RECIPES, "image_build_mirror": mirror,
                 "image_build_cache_dir": str(labbuild.cache_root() / "debootstrap"),
                 "image_build_workdir": str(lab.state / "image-build"), "image_build_created_by": "alice",
                 "image_build_labels": {"team": "lab"}, "image_build_source_commit": "0123abc"}
    began = time.monotonic()
    first = lab.run_playbook(REPO / "playbooks" / "build_image.yml", extravars)
    seconds = time.monotonic() - began
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    print(f"native build, push and register: {seconds:.0f}s")
    no_secret(lab, first.stdout, first.stderr)

    expected_sha = hashlib.sha256(json.dumps({"layers": RECIPES}, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    version = "r" + expected_sha[:12]
    _result, found = play(lab, [{"cscs.openchami.image_info": {"name": ["lab-compute"]}},
                                {"cscs.openchami.image_info": {"created_by": "alice", "labels": {"team": "lab"},
                                                               "tag": "test", "created_after": "2020-01-01"}},
                                {"cscs.openchami.image_info": {"created_by": "bob"}}])
    images = found["r0"]["images"]
    assert [i["ref"] for i in images] == [f"lab-compute:{version}"]
    assert [i["ref"] for i in found["r1"]["images"]] == [f"lab-compute:{version}"] and found["r2"]["images"] == []
    built = images[0]
    # what
    assert built["tags"] == ["latest", "test"] and built["arch"] == "x86_64" and built["origin"] == "built"
    # how: the recipes as given (image-builder's format) and their hash, builder, tools, parent, commit
    assert built["recipe"] == {"layers": RECIPES} and built["recipe_sha256"] == expected_sha
    assert built["builder"] == {"name": "cscs.openchami.image_build", "backend": "native"}
    assert built["tools"]["debootstrap"].startswith("debootstrap ") and "mksquashfs" in built["tools"]["mksquashfs"]
    assert built["parent"] == "scratch" and built["source_commit"] == "0123abc" and built["labels"] == {"team": "lab"}
    # who, when
    assert built["created_by"] == "alice"
    assert abs(time.time() - time.mktime(time.strptime(built["created_at"], "%Y-%m-%dT%H:%M:%SZ")) + time.timezone) < 3600
    # where: each artifact is in the bucket with the recorded size and sha256, at the URL given
    stored = objects(client, bucket)
    assert set(built["artifacts"]) == {"rootfs"}  # minbase has no kernel
    rootfs = built["artifacts"]["rootfs"]
    assert rootfs["key"] == f"images/lab-compute/{version}/rootfs.squashfs"
    assert stored[rootfs["key"]] == (rootfs["size"], rootfs["sha256"])
    assert built["urls"]["rootfs"] == f"{lab.env['AWS_ENDPOINT_URL']}/{bucket}/{rootfs['key']}"
    # the image is the recipes' result: the layer's package and command are in the squashfs
    local = lab.state / "tmp" / "rootfs.squashfs"
    local.write_bytes(client.get_object(Bucket=bucket, Key=rootfs["key"])["Body"].read())
    motd = subprocess.run(["unsquashfs", "-cat", str(local), "etc/motd"], capture_output=True, text=True, check=True)
    assert motd.stdout == "built by cscs.openchami\n"
    listing = subprocess.run(["unsquashfs", "-l", str(local)], capture_output=True, text=True, check=True).stdout
    assert "squashfs-root/etc/protocols" in listing  # netbase
    assert not (lab.state / "image-build" / "lab-compute").exists()  # cleaned up

    # the same recipes again: nothing is built, nothing changes
    again = lab.run_playbook(REPO / "playbooks" / "build_image.yml", extravars)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
    assert objects(client, bucket) == stored


def test_bad_recipe_fails_naming_it_and_writes_nothing(s3):
    lab, client, bucket = s3
    before = objects(client, bucket)
    bad = [{"options": {"name": "broken", "pkg_manager": "pacman"}, "packages": ["ok", "no such; thing"]}]
    result = lab.run_playbook(REPO / "playbooks" / "build_image.yml",
                              {"image_build_recipes": bad, "image_build_workdir": str(lab.state / "image-build")})
    assert result.returncode != 0
    assert "recipe 1 (broken): options.pkg_manager 'pacman'" in result.stdout
    assert "'no such; thing' is not a package name" in result.stdout
    assert objects(client, bucket) == before


def test_image_builder_backend_runs_up_to_its_commands(s3):
    """No container engine or registry here: the image-builder backend is checked up to the commands it runs."""
    lab = s3[0]
    recipe = {"options": {"layer_type": "base", "name": "rocky9-base", "pkg_manager": "dnf", "parent": "scratch",
                          "publish_tags": "9"},
              "repos": [{"alias": "BaseOS", "url": "https://download.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/"}],
              "packages": ["kernel", "dracut-live"]}
    task = {"cscs.openchami.image_build": {"recipes": [recipe], "backend": "image-builder", "engine": "podman-not-here",
                                           "workdir": str(lab.state / "image-build" / "rocky"),
                                           "s3_prefix": "rocky9-base/1/"}}
    result, checked = play(lab, [task], check=True)
    run = checked["r0"]
    assert not run.get("failed"), run
    argv = run["commands"][1]["argv"]
    assert argv[:2] == ["podman-not-here", "run"] and argv[-6:] == [
        "ghcr.io/openchami/image-build:latest", "image-build", "--config", "config.yaml", "--log-level", "INFO"]
    assert ["-e", "S3_ACCESS", "-e", "S3_SECRET"] == argv[argv.index("S3_ACCESS") - 1:argv.index("S3_SECRET") + 1]
    assert not (lab.state / "image-build" / "rocky").exists()  # check mode writes nothing
    _result, real = play(lab, [dict(task)])
    assert real["r0"]["failed"] and "podman-not-here not found on this host" in real["r0"]["msg"]
    no_secret(lab, result.stdout, json.dumps(checked), json.dumps(real))


# ------------------------------------------------------------------------------------------- register, tag, boot, delete
def _artifacts(tmp: Path, version: str) -> dict:
    tmp.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, name in (("kernel", "vmlinuz"), ("initrd", "initrd.img"), ("rootfs", "rootfs.squashfs")):
        path = tmp / name
        path.write_bytes(f"{kind} of compute {version}\n".encode() * 100)
        out[kind] = {"path": str(path)}
    return out


def test_register_promote_boot_by_reference_and_refuse_delete(s3):
    lab, client, bucket = s3
    tmp = lab.state / "tmp" / "artifacts"
    one, two = _artifacts(tmp / "v1", "v1"), _artifacts(tmp / "v2", "v2")
    register = [{"cscs.openchami.image": {"name": "compute", "version": "v1", "arch": "x86_64", "tags": ["prod"],
                                          "artifacts": one, "created_by": "bob", "labels": {"stage": "1"}}}]
    # check mode: the diff says what would be written, nothing is
    before = objects(client, bucket)
    _result, checked = play(lab, register, check=True)
    assert checked["r0"]["changed"] and sorted(checked["r0"]["uploaded"]) == [
        "images/compute/v1/initrd.img", "images/compute/v1/rootfs.squashfs", "images/compute/v1/vmlinuz"]
    assert checked["r0"]["diff"]["after"]["compute:v1"]["tags"] == ["prod"]
    assert objects(client, bucket) == before
    # register (twice: the second changes nothing), promote prod to v2, boot a node from compute:prod (twice)
    boot = {"cscs.openchami.boot_config": {"nodes": [XNAME], "image": "compute:prod", "backend": "bss",
                                           "params": "console=ttyS0 root=/dev/sda1"}}
    _result, done = play(lab, register + register + [
        {"cscs.openchami.image": {"name": "compute", "version": "v2", "tags": ["prod", "latest"], "artifacts": two,
                                  "created_by": "bob"}},
        {"cscs.openchami.image_info": {"name": ["compute"]}},
        {"cscs.openchami.image_info": {"name": ["compute"], "tag": "prod"}},
        boot, boot])
    assert done["r0"]["changed"] and not done["r0"].get("failed"), done["r0"]
    assert not done["r1"]["changed"] and done["r1"]["uploaded"] == []
    assert done["r2"]["summary"] == {"create": 1, "update": 1, "delete": 0, "unchanged": 0}
    assert {i["version"]: i["tags"] for i in done["r3"]["images"]} == {"v1": [], "v2": ["latest", "prod"]}
    assert [i["version"] for i in done["r4"]["images"]] == ["v2"]
    # boot_config by reference: the URLs of v2's artifacts, root=live: in place of the root= given
    urls = done["r4"]["images"][0]["urls"]
    assert done["r5"]["changed"] and not done["r6"]["changed"], (done["r5"], done["r6"])
    record = bss(lab, XNAME)
    assert record["kernel"] == urls["kernel"] and record["initrd"] == urls["initrd"]
    assert record["params"] == "console=ttyS0 root=live:" + urls["rootfs"]

    # bad references change nothing and say what exists; deleting v2 is refused while BSS boots a node from it;
    # v1 is not used: deprecated, and a deprecated image cannot be booted
    stored = objects(client, bucket)
    delete = {"cscs.openchami.image": {"name": "compute", "version": "v2", "state": "absent", "delete_artifacts": True}}
    _result, bad = play(lab, [
        {"cscs.openchami.boot_config": {"nodes": [XNAME], "image": "compute:nope"}},
        {"cscs.openchami.boot_config": {"nodes": [XNAME], "image": "com pute"}},
        delete,
        {"cscs.openchami.image": {"name": "compute", "version": "v1", "deprecated": True}},
        {"cscs.openchami.boot_config": {"nodes": [XNAME], "image": "compute:v1"}},
        {"cscs.openchami.image_info": {"name": ["compute"], "deprecated": True}}])
    assert bad["r0"]["failed"] and "image compute:nope is not in the inventory" in bad["r0"]["msg"]
    assert "compute:v2 (tags latest,prod)" in bad["r0"]["msg"]
    assert bad["r1"]["failed"] and "'com pute'" in bad["r1"]["msg"]
    assert bad["r2"]["failed"] and not bad["r2"]["changed"]
    assert f"image compute:v2 is still referenced by BSS boot parameters of {XNAME}" in bad["r2"]["msg"]
    assert bad["r3"]["changed"] and bad["r3"]["image"]["deprecated_at"]
    assert bad["r4"]["failed"] and "deprecated" in bad["r4"]["msg"]
    assert [i["version"] for i in bad["r5"]["images"]] == ["v1"]
    assert bss(lab, XNAME) == record
    assert {k: v for k, v in objects(client, bucket).items() if k != "inventory/compute/v1.json"} == \
        {k: v for k, v in stored.items() if k != "inventory/compute/v1.json"}
    # once no node boots it, it goes, with its artifacts; again: nothing to do
    _result, gone = play(lab, [{"cscs.openchami.boot_config": {"nodes": [XNAME], "state": "absent", "backend": "bss"}},
                               delete, delete])
    assert gone["r1"]["changed"] and sorted(gone["r1"]["uploaded"]) == [
        "images/compute/v2/initrd.img", "images/compute/v2/rootfs.squashfs", "images/compute/v2/vmlinuz"], gone["r1"]
    assert not gone["r2"]["changed"]
    left = objects(client, bucket)
    assert not [k for k in left if "/v2" in k] and "inventory/compute/v1.json" in left


def test_bad_input_names_the_item_and_writes_nothing(s3):
    lab, client, bucket = s3
    before = objects(client, bucket)
    _result, bad = play(lab, [
        {"cscs.openchami.image": {"name": "bad name", "version": "1", "artifacts": {"rootfs": {"key": "x"}}}},
        {"cscs.openchami.image": {"name": "ok", "version": "1", "artifacts": {"rootfs": {"key": "no/such/object"}}}},
        {"cscs.openchami.image": {"name": "ok", "version": "1", "artifacts": {"rootfs": {"path": "/no/such/file"}}}},
        {"cscs.openchami.image": {"name": "ok", "version": "1", "tags": ["prod"]}},
        {"cscs.openchami.image_info": {"created_after": "yesterday"}},
    ])
    assert "name 'bad name'" in bad["r0"]["msg"]
    assert f"s3://{bucket}/no/such/object does not exist" in bad["r1"]["msg"]
    assert "cannot read /no/such/file" in bad["r2"]["msg"]
    assert "image ok:1 is not registered" in bad["r3"]["msg"]
    assert "created_after: 'yesterday'" in bad["r4"]["msg"]
    assert all(bad[f"r{i}"]["failed"] and not bad[f"r{i}"]["changed"] for i in range(5))
    assert objects(client, bucket) == before
    # wrong S3 keys: a clear message, no secret
    result, denied = play(lab, [{"cscs.openchami.image_info": {"s3_access_key": "nobody", "s3_secret_key": "wrong-secret"}}])
    assert denied["r0"]["failed"] and "S3 listing inventory/ failed" in denied["r0"]["msg"]
    assert "wrong-secret" not in result.stdout + json.dumps(denied)


# ------------------------------------------------------------------------------------------- CSM IMS import
def test_import_csm_ims_images(s3):
    lab, client, bucket = s3
    info = json.loads((lab.state / "lab.json").read_text(encoding="utf-8")).get("csm")
    if not info or not labcsm.CsmSide(lab.lab).running():
        lab.lab.up(csm=True)
        info = json.loads((lab.state / "lab.json").read_text(encoding="utf-8"))["csm"]
    labcsm.CsmSide(lab.lab).reset()
    task = {"cscs.openchami.image_import": {
        "csm_api_url": info["api_url"], "csm_client_secret_file": info["client_secret_file"],
        "artifact_rewrite": [{"prefix": "s3://", "replacement": info["s3_url"]}]}}
    before = objects(client, bucket)
    _result, checked = play(lab, [dict(task)], check=True)
    assert checked["r0"]["summary"]["create"] == 2 and objects(client, bucket) == before
    _result, imported = play(lab, [dict(task), dict(task),
                                   {"cscs.openchami.image_info": {"origin": "imported"}}])
    assert imported["r0"]["summary"]["create"] == 2 and not imported["r1"]["changed"]
    images = {i["name"]: i for i in imported["r2"]["images"]}
    assert sorted(images) == ["compute-cos-3.2.1", "uan-cos-3.2.1"]
    compute = images["compute-cos-3.2.1"]
    assert compute["origin"] == "imported" and compute["created_by"] == "csm-ims"
    assert compute["imported_from"]["system"] == "csm-ims" and compute["imported_from"]["id"] == compute["version"]
    assert compute["imported_from"]["link"]["path"] == f"s3://boot-images/{compute['version']}/manifest.json"
    assert compute["urls"]["rootfs"] == f"s3://boot-images/{compute['version']}/rootfs"
    assert set(compute["artifacts"]) == {"kernel", "initrd", "rootfs", "boot_parameters"}
    assert compute["artifacts"]["kernel"]["type"] == "application/vnd.cray.image.kernel" and compute["artifacts"]["kernel"]["md5"]
    assert compute["created_at"].endswith("Z")
    # never deletes CSM's artifacts: an imported image's artifacts are URLs, not keys of this bucket
    _result, gone = play(lab, [{"cscs.openchami.image": {"name": "compute-cos-3.2.1", "version": compute["version"],
                                                         "state": "absent", "delete_artifacts": True}}])
    assert gone["r0"]["changed"] and gone["r0"]["uploaded"] == []
