# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image builds as data: recipes in OpenCHAMI image-builder's configuration format, and the commands that build them.

A recipe is what image-builder reads (``options``, ``repos``, ``packages``, ``package_groups``, ``remove_packages``,
``copyfiles``, ``cmds``); a build is a list of recipes applied in order to one tree (base, then layers). Two
backends turn recipes into commands (lists of argv, run by the module layer):

- ``native``: a chroot on the host. The first recipe (``parent: scratch``) is bootstrapped with debootstrap
  (``pkg_manager: apt``; our additions ``options.release``, ``options.variant``, ``options.components``) or
  ``dnf --installroot`` (``pkg_manager: dnf``, ``options.releasever``); packages, repositories, files and commands
  of every recipe follow in the chroot; then the kernel and initrd are copied out of ``/boot`` and the tree is
  squashed with mksquashfs.
- ``image-builder``: OpenCHAMI's image-builder in a container (podman), one run per recipe, publishing to S3.

Pure: no AnsibleModule; nothing here runs a command.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError

KEYS = ("options", "repos", "packages", "package_groups", "remove_packages", "copyfiles", "cmds", "modules", "openscap")
PKG_MANAGERS = ("apt", "dnf", "zypper")
LAYER_TYPES = ("base", "ansible")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_RELEASE = "bookworm"
IMAGE_BUILDER_IMAGE = "ghcr.io/openchami/image-build:latest"
PACKAGE_RE = re.compile(r"^[A-Za-z0-9@][A-Za-z0-9.+_:~=@/-]*$")
APT_ENV = "DEBIAN_FRONTEND=noninteractive"


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check(recipes):
    """Validate the recipes (every problem, each naming its recipe); returns them with ``options`` filled in."""
    errors = []
    out = []
    if not recipes:
        raise ValidationError(["recipes: give at least one recipe (OpenCHAMI image-builder's format)"])
    for index, recipe in enumerate(recipes):
        where = "recipe %d" % (index + 1)
        if not isinstance(recipe, dict):
            errors.append("%s: must be a mapping with options, repos, packages, cmds ..." % where)
            continue
        options = recipe.get("options") or {}
        where = "recipe %d (%s)" % (index + 1, options.get("name") or "no name")
        unknown = sorted(set(recipe) - set(KEYS))
        if unknown:
            errors.append("%s: unknown keys %s (image-builder knows %s)" % (where, ", ".join(unknown), ", ".join(KEYS)))
        if not isinstance(options, dict):
            errors.append("%s: options must be a mapping" % where)
            continue
        layer_type = options.get("layer_type", "base")
        if layer_type not in LAYER_TYPES:
            errors.append("%s: options.layer_type %r is not one of %s" % (where, layer_type, ", ".join(LAYER_TYPES)))
        if layer_type == "base" and options.get("pkg_manager") not in PKG_MANAGERS:
            errors.append("%s: options.pkg_manager %r is not one of %s"
                          % (where, options.get("pkg_manager"), ", ".join(PKG_MANAGERS)))
        if index == 0 and options.get("parent", "scratch") != "scratch" and len(recipes) > 1:
            errors.append("%s: the first recipe of a layered build starts from scratch" % where)
        for key in ("packages", "package_groups", "remove_packages"):
            for pkg in _as_list(recipe.get(key)):
                if not isinstance(pkg, str) or not (PACKAGE_RE.match(pkg) or key == "package_groups"):
                    errors.append("%s: %s: %r is not a package name" % (where, key, pkg))
        for repo in _as_list(recipe.get("repos")):
            if not isinstance(repo, dict) or not repo.get("alias") or not repo.get("url"):
                errors.append("%s: repos: %r needs alias and url" % (where, repo))
        for item in _as_list(recipe.get("cmds")):
            if not isinstance(item, dict) or not isinstance(item.get("cmd"), str):
                errors.append("%s: cmds: %r needs cmd (a string)" % (where, item))
        for item in _as_list(recipe.get("copyfiles")):
            if not isinstance(item, dict) or not item.get("src") or not str(item.get("dest") or "").startswith("/"):
                errors.append("%s: copyfiles: %r needs src and an absolute dest" % (where, item))
        out.append(recipe)
    if errors:
        raise ValidationError(errors)
    return out


def publish_tags(recipe):
    return [str(t) for t in _as_list((recipe.get("options") or {}).get("publish_tags"))] or ["latest"]


# ---------------------------------------------------------------- native backend

def _chroot(root, *argv):
    return ["chroot", root] + list(argv)


def native_commands(recipes, workdir, mirror=None, cache_dir=None):
    """The steps of a native build as (what, argv) pairs; files to write as (what, {"write": path, "text": ...}) and
    files to copy as (what, {"copy": src, "to": dest}). ``workdir/root`` is the tree, ``workdir/out`` the artifacts."""
    root = os.path.join(workdir, "root")
    steps = []
    first = recipes[0].get("options") or {}
    manager = first.get("pkg_manager", "apt")
    for index, recipe in enumerate(recipes):
        opts = recipe.get("options") or {}
        repos = _as_list(recipe.get("repos"))
        packages = [str(p) for p in _as_list(recipe.get("packages"))]
        label = "recipe %d (%s)" % (index + 1, opts.get("name") or "layer")
        if index == 0 and manager == "apt":
            release = str(opts.get("release") or DEFAULT_RELEASE)
            source = (repos[0]["url"] if repos else None) or mirror or DEFAULT_MIRROR
            argv = ["debootstrap", "--variant=" + str(opts.get("variant") or "minbase")]
            if cache_dir:
                argv.append("--cache-dir=" + cache_dir)
            components = _as_list(opts.get("components"))
            if components:
                argv.append("--components=" + ",".join(components))
            argv += [release, root, source]
            steps.append(("%s: debootstrap %s from %s" % (label, release, source), argv))
            repos = repos[1:]
        elif index == 0 and manager in ("dnf", "zypper"):
            argv = ["dnf", "-y", "--installroot=" + root, "--releasever=" + str(opts.get("releasever") or "9"),
                    "--setopt=install_weak_deps=False", "--nogpgcheck" if opts.get("gpgcheck") is False else "--setopt=gpgcheck=1",
                    "--disablerepo=*"]
            for repo in repos:
                argv += ["--repofrompath=%s,%s" % (repo["alias"], repo["url"]), "--enablerepo=" + repo["alias"]]
            groups = ["@" + str(g) for g in _as_list(recipe.get("package_groups"))]
            steps.append(("%s: dnf --installroot" % label, argv + ["install"] + (groups + packages or ["filesystem"])))
            packages = []
            repos = []
        if manager == "apt":
            steps.append(("%s: mount /proc in the tree" % label, ["mount", "-t", "proc", "proc", os.path.join(root, "proc")]))
            for repo in repos:
                line = "deb %s %s %s\n" % (repo["url"], repo.get("suite") or opts.get("release") or DEFAULT_RELEASE,
                                           " ".join(_as_list(repo.get("components")) or ["main"]))
                steps.append(("%s: repository %s" % (label, repo["alias"]),
                              {"write": os.path.join(root, "etc/apt/sources.list.d/%s.list" % repo["alias"]), "text": line}))
            if repos:  # debootstrap leaves the package lists of its mirror: an update only for new repositories
                steps.append(("%s: apt-get update" % label, _chroot(root, "env", APT_ENV, "apt-get", "update", "-q")))
            if packages:
                steps.append(("%s: install %d packages" % (label, len(packages)),
                              _chroot(root, "env", APT_ENV, "apt-get", "install", "-y", "-q", "--no-install-recommends",
                                      *packages)))
            removed = [str(p) for p in _as_list(recipe.get("remove_packages"))]
            if removed:
                steps.append(("%s: remove %d packages" % (label, len(removed)),
                              _chroot(root, "env", APT_ENV, "apt-get", "purge", "-y", "-q", *removed)))
        elif index > 0 and (packages or repos):
            argv = ["dnf", "-y", "--installroot=" + root]
            for repo in repos:
                argv += ["--repofrompath=%s,%s" % (repo["alias"], repo["url"])]
            steps.append(("%s: install %d packages" % (label, len(packages)), argv + ["install"] + packages))
        for item in _as_list(recipe.get("copyfiles")):
            steps.append(("%s: copy %s" % (label, item["dest"]),
                          {"copy": item["src"], "to": os.path.join(root, item["dest"].lstrip("/"))}))
        for item in _as_list(recipe.get("cmds")):
            steps.append(("%s: %s" % (label, item["cmd"][:60]), _chroot(root, "/bin/sh", "-ec", item["cmd"])))
        if manager == "apt":
            steps.append(("%s: apt-get clean" % label, _chroot(root, "apt-get", "clean")))
            steps.append(("%s: unmount /proc" % label, ["umount", os.path.join(root, "proc")]))
    out = os.path.join(workdir, "out")
    steps.append(("remove apt lists", ["find", os.path.join(root, "var/lib/apt/lists"), "-type", "f", "-delete"]))
    steps.append(("squash the tree", ["mksquashfs", root, os.path.join(out, "rootfs.squashfs"), "-noappend",
                                      "-no-progress", "-comp", "gzip"]))
    return steps


def boot_files(root):
    """(kernel, initrd) paths found in the tree's /boot (the newest kernel that has one), or (None, None)."""
    boot_dir = os.path.join(root, "boot")
    try:
        names = sorted(os.listdir(boot_dir), reverse=True)
    except OSError:
        return None, None
    for name in names:
        if name.startswith("vmlinuz-"):
            version = name[len("vmlinuz-"):]
            for initrd in ("initrd.img-" + version, "initramfs-%s.img" % version, "initrd-" + version):
                if os.path.exists(os.path.join(boot_dir, initrd)):
                    return os.path.join(boot_dir, name), os.path.join(boot_dir, initrd)
            return os.path.join(boot_dir, name), None
    return None, None


# ---------------------------------------------------------------- image-builder backend (container)

def image_builder_commands(recipes, workdir, s3_endpoint, bucket, prefix, image=IMAGE_BUILDER_IMAGE, engine="podman"):
    """One ``podman run`` of OpenCHAMI's image-builder per recipe, each publishing to S3 (its ``publish_s3``,
    ``s3_bucket``, ``s3_prefix``); the recipe files to write come first. Credentials go in as
    ``S3_ACCESS``/``S3_SECRET`` from the environment of the run, never on the command line."""
    steps = []
    for index, recipe in enumerate(recipes):
        recipe = json.loads(json.dumps(recipe))
        opts = recipe.setdefault("options", {})
        opts.update(publish_s3=s3_endpoint, s3_bucket=bucket, s3_prefix=prefix)
        path = os.path.join(workdir, "recipe-%d.yaml" % (index + 1))
        steps.append(("write recipe %d" % (index + 1), {"write": path, "text": json.dumps(recipe, indent=2) + "\n"}))
        steps.append(("image-builder: recipe %d (%s)" % (index + 1, opts.get("name") or "layer"), [
            engine, "run", "--rm", "--device", "/dev/fuse", "--network", "host", "--cap-add=SYS_ADMIN",
            "--cap-add=SETUID", "--cap-add=SETGID", "--security-opt", "seccomp=unconfined", "--security-opt",
            "label=disable", "-e", "S3_ACCESS", "-e", "S3_SECRET", "-v", "%s:/home/builder/config.yaml:Z" % path,
            image, "image-build", "--config", "config.yaml", "--log-level", "INFO"]))
    return steps


def image_builder_keys(keys, prefix):
    """The artifacts image-builder published under ``prefix`` (its layout: ``efi-images/<prefix>vmlinuz-*`` and
    ``initramfs-*``/``initrd-*``, the squashfs at ``<prefix><os>-<name>-<tag>``): {kind: key}."""
    found = {}
    for key in sorted(keys):
        base = key.rsplit("/", 1)[-1]
        if key.startswith("efi-images/" + prefix):
            if base.startswith("vmlinuz-"):
                found["kernel"] = key
            elif base.startswith(("initramfs-", "initrd-")):
                found["initrd"] = key
        elif key.startswith(prefix) and "/" not in key[len(prefix):]:
            found["rootfs"] = key
    return found
