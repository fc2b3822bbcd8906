#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image
short_description: Register, tag, deprecate or delete an image in the image inventory kept in S3
version_added: 0.1.0
description:
  - The image inventory answers what images exist, how each was built, where its artifacts are, who made it and
    when. It is kept in S3 next to the artifacts, one manifest per image version (V(inventory/<name>/<version>.json)
    in O(s3_bucket)); M(cscs.openchami.image_info) reads it.
  - Registers an image version with its artifacts (kernel, initrd, root file system) and its provenance. An
    artifact given as a local O(artifacts.kernel.path) is uploaded to V(images/<name>/<version>/<file name>) unless
    the object there already has the same size and sha256; one given as O(artifacts.kernel.key) must already be in
    the bucket. Each artifact is recorded with its key, size and sha256.
  - A tag names one version of an image. Tagging a version takes the tag from the other versions of the same image
    (promotion, such as moving V(prod) to a new version). Boot configurations use V(name:tag) through
    O(cscs.openchami.boot_config#module:image).
  - Only the fields given are managed; C(created_at) and C(created_by) are set when the version is first registered.
  - O(state=absent) deletes the manifest, and its artifacts too with O(delete_artifacts=true). It is refused,
    naming them, while a boot configuration (on BSS or boot-service, through the connection options) still uses an
    artifact of the image.
  - Everything is checked (names, files, objects, references) before anything is written.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.s3
  - cscs.openchami.connection
attributes:
  action_group:
    description:
      - Use C(group/cscs.openchami.image) in C(module_defaults) to set the S3 options, and
        C(group/cscs.openchami.openchami) to set the connection to the boot service, once for this module.
    support: full
    membership:
      - cscs.openchami.image
      - cscs.openchami.openchami
  check_mode:
    support: full
    description: Reads, hashes local files and compares; uploads and writes nothing.
  diff_mode:
    support: full
    description: Shows the manifests before and after (a moved tag changes two).
options:
  name:
    description: Image name (letters, digits, C(.), C(_), C(+), C(-)).
    type: str
    required: true
  version:
    description: Image version, unique per name (same characters as O(name)).
    type: str
    required: true
  state:
    description: V(present) registers or updates the version, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  tags:
    description:
      - Tags of this version (V(latest), V(prod) ...). Each is taken from any other version of the image that has it.
      - Added to the current tags unless O(purge_tags=true).
    type: list
    elements: str
  purge_tags:
    description: Remove the tags of this version that O(tags) does not list.
    type: bool
    default: false
  arch:
    description: CPU architecture (V(x86_64), V(aarch64) ...).
    type: str
  artifacts:
    description: The image's files. Each is a local O(artifacts.kernel.path) to upload or an O(artifacts.kernel.key)
      already in the bucket.
    type: dict
    suboptions:
      kernel:
        description: The kernel.
        type: dict
        suboptions:
          path:
            description: Local file to upload.
            type: path
          key:
            description: Key of an object already in O(s3_bucket).
            type: str
      initrd:
        description: The initrd, same suboptions as O(artifacts.kernel).
        type: dict
        suboptions:
          path:
            description: Local file to upload.
            type: path
          key:
            description: Key of an object already in O(s3_bucket).
            type: str
      rootfs:
        description: The root file system (a squashfs image), same suboptions as O(artifacts.kernel).
        type: dict
        suboptions:
          path:
            description: Local file to upload.
            type: path
          key:
            description: Key of an object already in O(s3_bucket).
            type: str
  created_by:
    description: Who made the image; recorded when the version is registered. Default is the user running the module.
    type: str
  recipe:
    description:
      - How the image was built, as data (an OpenCHAMI image-builder configuration, the C(image_build) role's layers).
        Recorded with its sha256 (C(recipe_sha256), over canonical JSON).
    type: dict
  source_commit:
    description: Commit of the repository the recipe came from.
    type: str
  parent:
    description: The image this one was built on (V(name:version)) or the base it started from.
    type: str
  builder:
    description: What built the image (C(name), C(version), C(backend) ...).
    type: dict
  tools:
    description: Versions of the tools used (debootstrap, mksquashfs, buildah ...).
    type: dict
  labels:
    description: Free-form labels (string values), searchable with M(cscs.openchami.image_info).
    type: dict
  deprecated:
    description: Mark the version deprecated (kept, listed, but refused by O(cscs.openchami.boot_config#module:image)).
    type: bool
  delete_artifacts:
    description: With O(state=absent), delete the version's artifacts from the bucket too (never those of an
      imported image, which are elsewhere).
    type: bool
    default: false
  check_references:
    description:
      - With O(state=absent), ask every boot service the connection names (BSS and boot-service) whether a boot
        configuration still uses the image, and refuse the delete if one does.
      - Without a configured boot service, or when one does not answer, the delete fails; V(false) skips the check.
    type: bool
    default: true
seealso:
  - module: cscs.openchami.image_info
  - module: cscs.openchami.boot_config
  - module: cscs.openchami.image_import
"""

EXAMPLES = r"""
- name: Register a build and make it the production image
  cscs.openchami.image:
    s3_endpoint_url: http://s3.openchami.cluster:7070
    name: compute
    version: 2026.12.01-1
    arch: x86_64
    tags: [latest, prod]
    artifacts:
      kernel: {path: /var/tmp/build/vmlinuz}
      initrd: {path: /var/tmp/build/initrd.img}
      rootfs: {path: /var/tmp/build/rootfs.squashfs}
    recipe: "{{ lookup('file', 'compute.yaml') | from_yaml }}"
    source_commit: 3f2a9c1
    builder: {name: cscs.openchami.image_build, backend: native}
    labels: {team: hpc-platform}

- name: Deprecate an old version
  cscs.openchami.image:
    name: compute
    version: 2026.10.02-1
    deprecated: true

- name: Delete it with its artifacts (refused while a node boots it)
  cscs.openchami.image:
    name: compute
    version: 2026.10.02-1
    state: absent
    delete_artifacts: true
"""

RETURN = r"""
image:
  description: The version's manifest after the task (before it, for a delete), with C(ref) and the artifact C(urls).
  returned: always
  type: dict
  sample:
    name: compute
    version: 2026.12.01-1
    ref: compute:2026.12.01-1
    tags: [latest, prod]
    arch: x86_64
    artifacts: {rootfs: {key: images/compute/2026.12.01-1/rootfs.squashfs, size: 123456789, sha256: 9f86d0...}}
    urls: {rootfs: http://s3.openchami.cluster:7070/boot-images/images/compute/2026.12.01-1/rootfs.squashfs}
    created_by: alice
    created_at: "2026-12-01T10:00:00Z"
uploaded:
  description: Keys uploaded (or that would be, in check mode); for a delete, the artifact keys deleted.
  returned: always
  type: list
  elements: str
summary:
  description: Manifests created, updated (a moved tag updates another version), deleted or unchanged.
  returned: always
  type: dict
"""

import getpass

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.cscs.openchami.plugins.module_utils import boot, image, resource
from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError


class ImageModule(OpenCHAMIModule):
    connection_spec = staticmethod(lambda: dict(connection_argument_spec(), **image.s3_argument_spec()))


def main():
    artifact = dict(type="dict", options=dict(path=dict(type="path"), key=dict(type="str", no_log=False)))
    module = ImageModule(argument_spec=dict(
        name=dict(type="str", required=True),
        version=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="list", elements="str"),
        purge_tags=dict(type="bool", default=False),
        arch=dict(type="str"),
        artifacts=dict(type="dict", options=dict(kernel=artifact, initrd=artifact, rootfs=artifact)),
        created_by=dict(type="str"),
        recipe=dict(type="dict"),
        source_commit=dict(type="str"),
        parent=dict(type="str"),
        builder=dict(type="dict"),
        tools=dict(type="dict"),
        labels=dict(type="dict"),
        deprecated=dict(type="bool"),
        delete_artifacts=dict(type="bool", default=False),
        check_references=dict(type="bool", default=True),
    ))
    if not image.HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(image.BOTO3_IMPORT_ERROR))
    p = dict(module.params)
    if not p["created_by"]:
        try:
            p["created_by"] = getpass.getuser()
        except (KeyError, OSError, ImportError):  # no login name (a container user without a passwd entry)
            p["created_by"] = "unknown"
    if p["labels"] is not None:
        p["labels"] = dict((str(k), str(v)) for k, v in p["labels"].items())

    def get_backends():
        try:
            return image.boot_backends(boot.client_getter(module))
        except ApiError as exc:
            raise ApiError("cannot check whether a boot configuration uses the image (%s); nothing was deleted. "
                           "Set check_references=false to delete without checking" % exc)
    with module.guard():
        store = image.Store.from_params(p)
        the_plan, keys = image.plan(store, p, module.check_mode, get_backends if p["check_references"] else None)
    change = the_plan.changes[0] if the_plan.changes else None
    shown = (change.before if change.action == resource.DELETE else change.after) if change else None
    result = resource.result(the_plan, uploaded=keys,
                             image=store.describe(dict((k, v) for k, v in shown.items() if k != "ref")) if shown else {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
