# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image inventory's pure parts: recipes (image-builder's format) and build commands, IMS import, filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.cscs.openchami.plugins.doc_fragments.s3 import ModuleDocFragment
from ansible_collections.cscs.openchami.plugins.module_utils import image, image_build
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError

# examples/mini-bootcamp/rocky-9-base.yaml of OpenCHAMI/image-builder, shortened: its format as is
ROCKY = yaml.safe_load("""
options:
  layer_type: 'base'
  name: 'rocky9-base'
  publish_tags: '9'
  pkg_manager: 'dnf'
  parent: 'scratch'
  publish_registry: 'registry.example.org'
  registry_opts_push:
    - '--tls-verify=false'
repos:
  - alias: 'Rock_BaseOS'
    url: 'https://download.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/'
    gpg: 'https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9'
package_groups:
  - 'Minimal Install'
packages:
  - kernel
  - dracut-live
copyfiles:
  - src: '/data/files/override.conf'
    dest: '/etc/systemd/system/cloud-init.service.d/override.conf'
cmds:
  - cmd: 'dracut --add "dmsquash-live livenet" --kver $(basename /lib/modules/*) -N -f'
""")
DEBIAN = {"options": {"layer_type": "base", "name": "deb", "pkg_manager": "apt", "parent": "scratch",
                      "release": "bookworm"},
          "repos": [{"alias": "debian", "url": "http://deb.example.org/debian"}],
          "packages": ["openssh-server"]}
LAYER = {"options": {"layer_type": "base", "name": "compute", "pkg_manager": "apt", "parent": "deb"},
         "repos": [{"alias": "extra", "url": "http://extra.example.org/debian", "components": ["main", "contrib"]}],
         "packages": ["chrony"], "remove_packages": ["vim-tiny"], "cmds": [{"cmd": "echo compute > /etc/hostname"}]}


def test_fragment_and_argument_spec_agree():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = image.s3_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, doc in documented.items():
        assert doc["type"] == spec[name]["type"], name
        assert doc.get("default") == spec[name].get("default"), name
    assert spec["s3_secret_key"]["no_log"]


def test_image_builder_recipes_are_accepted_as_they_are():
    assert image_build.check([ROCKY]) == [ROCKY]
    assert image_build.check([DEBIAN, LAYER]) == [DEBIAN, LAYER]
    assert image_build.publish_tags(ROCKY) == ["9"]


def test_bad_recipes_fail_naming_each_problem():
    bad = {"options": {"name": "x", "pkg_manager": "pacman"}, "packages": ["ok", "rm -rf /"], "repos": [{"url": "u"}],
           "cmds": ["not a mapping"], "typo": 1}
    with pytest.raises(ValidationError) as caught:
        image_build.check([bad])
    text = str(caught.value)
    for part in ("recipe 1 (x)", "unknown keys typo", "pkg_manager 'pacman'", "'rm -rf /' is not a package name",
                 "needs alias and url", "needs cmd"):
        assert part in text, part
    with pytest.raises(ValidationError):
        image_build.check([])


def test_native_debian_build_commands():
    steps = image_build.native_commands([DEBIAN, LAYER], "/w", cache_dir="/cache")
    argvs = [step for _what, step in steps if isinstance(step, list)]
    assert argvs[0] == ["debootstrap", "--variant=minbase", "--cache-dir=/cache", "bookworm", "/w/root",
                        "http://deb.example.org/debian"]
    assert ["chroot", "/w/root", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
            "--no-install-recommends", "openssh-server"] in argvs
    writes = [step for _what, step in steps if isinstance(step, dict) and "write" in step]
    assert writes == [{"write": "/w/root/etc/apt/sources.list.d/extra.list",
                       "text": "deb http://extra.example.org/debian bookworm main contrib\n"}]
    assert ["chroot", "/w/root", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-q", "vim-tiny"] in argvs
    assert ["chroot", "/w/root", "/bin/sh", "-ec", "echo compute > /etc/hostname"] in argvs
    assert argvs[-1][:3] == ["mksquashfs", "/w/root", "/w/out/rootfs.squashfs"]
    # every mount of /proc is undone
    assert sum(a[0] == "mount" for a in argvs) == sum(a[0] == "umount" for a in argvs) == 2


def test_native_dnf_build_commands():
    steps = image_build.native_commands([ROCKY], "/w")
    argvs = [step for _what, step in steps if isinstance(step, list)]
    first = argvs[0]
    assert first[:3] == ["dnf", "-y", "--installroot=/w/root"]
    assert "--repofrompath=Rock_BaseOS,https://download.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/" in first
    assert first[-4:] == ["install", "@Minimal Install", "kernel", "dracut-live"]
    copies = [step for _what, step in steps if isinstance(step, dict) and "copy" in step]
    assert copies == [{"copy": "/data/files/override.conf",
                       "to": "/w/root/etc/systemd/system/cloud-init.service.d/override.conf"}]


def test_image_builder_commands_publish_to_the_inventory_bucket_without_secrets():
    steps = image_build.image_builder_commands([ROCKY], "/w", "http://s3:7070", "boot-images", "rocky/r1/")
    (_what, write), (_what2, argv) = steps
    recipe = yaml.safe_load(write["text"])
    assert recipe["options"]["publish_s3"] == "http://s3:7070"
    assert recipe["options"]["s3_prefix"] == "rocky/r1/" and recipe["options"]["s3_bucket"] == "boot-images"
    assert recipe["packages"] == ROCKY["packages"]
    assert argv[:2] == ["podman", "run"] and "-e" in argv and "S3_SECRET" in argv
    assert "%s:/home/builder/config.yaml:Z" % write["write"] in argv
    assert argv[-6:] == [image_build.IMAGE_BUILDER_IMAGE, "image-build", "--config", "config.yaml", "--log-level", "INFO"]
    keys = ["efi-images/rocky/r1/vmlinuz-5.14", "efi-images/rocky/r1/initramfs-5.14.img", "rocky/r1/rocky9-base-9",
            "rocky/r1/sub/other"]
    assert image_build.image_builder_keys(keys, "rocky/r1/") == {
        "kernel": "efi-images/rocky/r1/vmlinuz-5.14", "initrd": "efi-images/rocky/r1/initramfs-5.14.img",
        "rootfs": "rocky/r1/rocky9-base-9"}


def test_recipe_hash_ignores_key_order():
    assert image.recipe_sha256({"a": 1, "b": [1, 2]}) == image.recipe_sha256({"b": [1, 2], "a": 1})
    assert image.recipe_sha256({"a": 1}) != image.recipe_sha256({"a": 2})


def test_references_are_name_and_tag():
    assert image.parse_ref("compute:prod") == ("compute", "prod")
    assert image.parse_ref("compute") == ("compute", "latest")
    with pytest.raises(ValidationError) as caught:
        image.parse_ref("com pute:x/y")
    assert "com pute" in str(caught.value)


def test_ims_image_becomes_an_imported_entry():
    record = {"id": "4f6e", "name": "compute-cos-3.2.1", "arch": "x86_64", "created": "2026-01-02T03:04:05+00:00",
              "metadata": {"team": "cos"}, "link": {"path": "s3://boot-images/4f6e/manifest.json", "type": "s3"}}
    manifest = {"version": "1.0", "created": "2026-01-02", "artifacts": [
        {"type": "application/vnd.cray.image.kernel", "md5": "aa", "link": {"path": "s3://boot-images/4f6e/kernel", "etag": "e1"}},
        {"type": "application/vnd.cray.image.rootfs.squashfs", "md5": "bb", "link": {"path": "s3://boot-images/4f6e/rootfs"}},
        {"type": "application/unknown", "link": {"path": "s3://x"}}]}
    entry = image.from_ims(record, manifest, "https://api/apis")
    assert entry["name"] == "compute-cos-3.2.1" and entry["version"] == "4f6e" and entry["origin"] == "imported"
    assert entry["created_at"] == "2026-01-02T03:04:05Z" and entry["created_by"] == "csm-ims"
    assert entry["artifacts"] == {"kernel": {"url": "s3://boot-images/4f6e/kernel", "md5": "aa", "etag": "e1",
                                             "type": "application/vnd.cray.image.kernel"},
                                  "rootfs": {"url": "s3://boot-images/4f6e/rootfs", "md5": "bb",
                                             "type": "application/vnd.cray.image.rootfs.squashfs"}}
    assert entry["imported_from"]["id"] == "4f6e" and entry["labels"] == {"team": "cos"}


def test_select_filters():
    images = [{"name": "a", "version": "1", "tags": ["prod"], "arch": "x86_64", "created_by": "alice",
               "created_at": "2026-11-01T00:00:00Z", "labels": {"team": "x"}, "origin": "built"},
              {"name": "a", "version": "2", "tags": [], "arch": "aarch64", "created_by": "bob",
               "created_at": "2026-12-01T00:00:00Z", "labels": {}, "origin": "imported", "deprecated": True}]
    none = dict.fromkeys(("name", "tag", "arch", "created_by", "created_after", "created_before", "labels", "origin",
                          "deprecated"))

    def versions(**kw):
        return [m["version"] for m in image.select(images, dict(none, **kw))]
    assert versions() == ["1", "2"]
    assert versions(tag="prod") == ["1"] and versions(tag="2") == ["2"]
    assert versions(arch="aarch64") == ["2"] and versions(created_by="alice") == ["1"]
    assert versions(created_after="2026-11-15") == ["2"] and versions(created_before="2026-11-15") == ["1"]
    assert versions(labels={"team": "x"}) == ["1"] and versions(origin="imported") == ["2"]
    assert versions(deprecated=False) == ["1"]
    with pytest.raises(ValidationError) as caught:
        versions(created_after="last week")
    assert "created_after" in str(caught.value)
