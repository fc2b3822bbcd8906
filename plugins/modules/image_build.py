#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_build
short_description: Build a node image (kernel, initrd, squashfs root) from image-builder recipes
version_added: 0.1.0
description:
  - Builds the artifacts of a node image from a list of recipes applied in order (a base, then layers). A recipe is
    OpenCHAMI image-builder's configuration as is (C(options), C(repos), C(packages), C(package_groups),
    C(remove_packages), C(copyfiles), C(cmds)), so images already described for image-builder need no rewrite.
  - O(backend=native) builds in a chroot on the host that runs the module (root needed). The first recipe
    bootstraps the tree, with debootstrap for C(options.pkg_manager=apt) (C(options.release), default V(bookworm);
    C(options.variant), default V(minbase); the first of C(repos) is the mirror) or with C(dnf --installroot) for
    V(dnf). Each recipe's repositories, packages, removals, files and commands follow in the chroot. The newest
    kernel and its initrd are copied out of C(/boot) and the tree is squashed with mksquashfs into
    V(<workdir>/out/rootfs.squashfs).
  - O(backend=image-builder) runs OpenCHAMI's image-builder container once per recipe with podman, publishing to
    the S3 bucket of the image inventory under O(s3_prefix); the S3 credentials reach the container as
    E(S3_ACCESS) and E(S3_SECRET) from the environment, never on a command line. The keys it published are returned.
  - The C(cscs.openchami.image_build) role builds with this module and registers the result with
    M(cscs.openchami.image).
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.s3
  - cscs.openchami.s3.action_group
attributes:
  check_mode:
    support: full
    description: Checks the recipes and returns the commands it would run; runs nothing.
  diff_mode:
    support: none
options:
  recipes:
    description: The recipes, base first (OpenCHAMI image-builder's configuration format, one mapping each).
    type: list
    elements: dict
    required: true
  backend:
    description: How to build.
    type: str
    choices: [native, image-builder]
    default: native
  workdir:
    description:
      - Absolute directory of the build. The tree is V(<workdir>/root) (emptied first) and the artifacts go to
        V(<workdir>/out).
    type: path
    required: true
  mirror:
    description: Package mirror for debootstrap when the first recipe has no C(repos).
    type: str
    default: http://deb.debian.org/debian
  cache_dir:
    description:
      - Absolute directory where debootstrap keeps the packages it downloads (its C(--cache-dir)), so that the next
        build downloads only what changed. Default is none.
    type: path
  engine:
    description: Container engine of the image-builder backend.
    type: str
    default: podman
  builder_image:
    description: The image-builder container image.
    type: str
    default: ghcr.io/openchami/image-build:latest
  s3_prefix:
    description: Key prefix the image-builder backend publishes under (its C(s3_prefix)).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Build a Debian image from two recipes in a chroot
  cscs.openchami.image_build:
    workdir: /var/tmp/image-build/compute
    recipes:
      - options: {layer_type: base, name: debian-base, pkg_manager: apt, parent: scratch, release: bookworm}
        repos: [{alias: debian, url: "http://deb.debian.org/debian"}]
        packages: [linux-image-amd64, initramfs-tools]
      - options: {layer_type: base, name: compute, pkg_manager: apt, parent: debian-base}
        packages: [openssh-server]
        cmds: [{cmd: "echo compute > /etc/hostname"}]
  register: built
"""

RETURN = r"""
artifacts:
  description:
    - The built artifacts by kind, in the form O(cscs.openchami.image#module:artifacts) takes them, C(path) for the native
      backend (local files) or C(key) for the image-builder backend (what it published in the bucket).
    - C(kernel) and C(initrd) only if the tree has a kernel in C(/boot).
  returned: success
  type: dict
  sample: {rootfs: {path: /var/tmp/image-build/compute/out/rootfs.squashfs}, kernel: {path: /var/tmp/image-build/compute/out/vmlinuz-6.1.0-28-amd64}}
commands:
  description: The steps, each C(what) and C(argv) (or the file written or copied), in order.
  returned: always
  type: list
  elements: dict
tools:
  description: Versions of the tools the build used.
  returned: success
  type: dict
  sample: {debootstrap: debootstrap 1.0.128+nmu2+deb12u2, mksquashfs: mksquashfs version 4.5.1 (2022/03/17)}
recipe_sha256:
  description: sha256 of the recipes (canonical JSON), as M(cscs.openchami.image) records it.
  returned: always
  type: str
seconds:
  description: Duration of the build.
  returned: success
  type: float
"""

import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cscs.openchami.plugins.module_utils import image, image_build
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

VERSION_COMMANDS = {"debootstrap": ["debootstrap", "--version"], "mksquashfs": ["mksquashfs", "-version"],
                    "dnf": ["dnf", "--version"], "podman": ["podman", "--version"]}


def main():
    spec = dict(image.s3_argument_spec())
    spec.update(
        recipes=dict(type="list", elements="dict", required=True),
        backend=dict(type="str", choices=["native", "image-builder"], default="native"),
        workdir=dict(type="path", required=True),
        mirror=dict(type="str", default=image_build.DEFAULT_MIRROR),
        cache_dir=dict(type="path"),
        engine=dict(type="str", default="podman"),
        builder_image=dict(type="str", default=image_build.IMAGE_BUILDER_IMAGE),
        s3_prefix=dict(type="str", default=""),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    workdir = os.path.abspath(p["workdir"])
    try:
        recipes = image_build.check(p["recipes"])
    except ValidationError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors)
    if workdir in ("/", os.path.abspath(os.sep + "root")) or len(workdir.strip("/").split("/")) < 2:
        module.fail_json(msg="workdir %s is too close to / (the build empties %s/root): use a directory of its own, "
                             "such as /var/tmp/image-build/<name>" % (workdir, workdir))
    store = None
    if p["backend"] == "native":
        steps = image_build.native_commands(recipes, workdir, p["mirror"], p["cache_dir"])
        manager = (recipes[0].get("options") or {}).get("pkg_manager")
        tools = ["debootstrap" if manager == "apt" else "dnf", "mksquashfs"]
    else:
        try:
            store = image.Store.from_params(p)
        except ApiError as exc:
            module.fail_json(msg=str(exc))
        steps = image_build.image_builder_commands(recipes, workdir, store.s3.meta.endpoint_url, store.bucket,
                                                   p["s3_prefix"], p["builder_image"], p["engine"])
        tools = [p["engine"]]
    shown = [dict(what=what, **(step if isinstance(step, dict) and "copy" in step else
                                {"write": step["write"]} if isinstance(step, dict) else {"argv": step}))
             for what, step in steps]
    result = dict(changed=True, commands=shown, recipe_sha256=image.recipe_sha256({"layers": recipes}))
    if module.check_mode:
        module.exit_json(**result)
    missing = [tool for tool in tools if not module.get_bin_path(VERSION_COMMANDS.get(tool, [tool])[0])]
    if missing:
        module.fail_json(msg="cannot build with backend %s: %s not found on this host (the commands it would run are in "
                             "commands)" % (p["backend"], ", ".join(missing)), **result)
    versions = {}
    for tool in tools:
        argv = VERSION_COMMANDS.get(tool, [tool, "--version"])
        _rc, out, err = module.run_command(argv)
        versions[tool] = ((out or err).strip().splitlines() or [""])[0]
    begin = time.time()
    root = os.path.join(workdir, "root")
    out_dir = os.path.join(workdir, "out")
    proc = os.path.join(root, "proc")
    if os.path.ismount(proc):
        module.run_command(["umount", proc])
    if os.path.ismount(proc):
        module.fail_json(msg="%s is still mounted; not emptying %s" % (proc, root), **result)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    if p["cache_dir"]:
        os.makedirs(p["cache_dir"], exist_ok=True)
    env = None
    if p["backend"] == "image-builder":
        access, secret = image.Store.credentials(p)
        env = {"S3_ACCESS": access or "", "S3_SECRET": secret or ""}
    for what, step in steps:
        if isinstance(step, dict) and "write" in step:
            os.makedirs(os.path.dirname(step["write"]), exist_ok=True)
            with open(step["write"], "w") as handle:
                handle.write(step["text"])
            continue
        if isinstance(step, dict):
            os.makedirs(os.path.dirname(step["to"]), exist_ok=True)
            shutil.copyfile(step["copy"], step["to"])
            continue
        rc, out, err = module.run_command(step, environ_update=env)
        if rc != 0:
            if os.path.ismount(proc):
                module.run_command(["umount", proc])
            tail = "\n".join((err or out or "").strip().splitlines()[-15:])
            module.fail_json(msg="build step failed (%s, exit %d): %s" % (what, rc, tail), **result)
    result.update(tools=versions, seconds=round(time.time() - begin, 1))
    if p["backend"] == "native":
        kernel, initrd = image_build.boot_files(root)
        artifacts = {"rootfs": {"path": os.path.join(out_dir, "rootfs.squashfs")}}
        for kind, path in (("kernel", kernel), ("initrd", initrd)):
            if path:
                artifacts[kind] = {"path": os.path.join(out_dir, os.path.basename(path))}
                shutil.copyfile(path, artifacts[kind]["path"])
        result["artifacts"] = artifacts
    else:
        try:
            keys = image_build.image_builder_keys(store.keys(p["s3_prefix"]) + store.keys(
                "efi-images/" + p["s3_prefix"]), p["s3_prefix"])
        except ApiError as exc:
            module.fail_json(msg=str(exc), **result)
        result["artifacts"] = dict((kind, {"key": key}) for kind, key in keys.items())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
