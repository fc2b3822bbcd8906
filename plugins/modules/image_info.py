#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_info
short_description: Find images in the image inventory kept in S3
version_added: 0.1.0
description:
  - Lists the image versions of the inventory that M(cscs.openchami.image), the C(cscs.openchami.image_build) role
    and M(cscs.openchami.image_import) keep in S3, filtered by name, tag, architecture, creator, creation time,
    labels and origin.
  - Each image answers what it is (name, version, tags, arch, labels), where its artifacts are (key, size, sha256
    and URL of the kernel, initrd and root file system), how it was made (recipe and its sha256, builder, tools,
    parent, source commit, or where it was imported from), who made it and when.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.info_module
  - cscs.openchami.s3
  - cscs.openchami.s3.action_group
options:
  name:
    description: Only these images (names).
    type: list
    elements: str
  tag:
    description: Only the version that has this tag (or whose version is this).
    type: str
  arch:
    description: Only images of this architecture.
    type: str
  created_by:
    description: Only images made by this user.
    type: str
  created_after:
    description: Only images created at or after this date or time (ISO 8601, V(2026-12-01) or V(2026-12-01T10:00:00Z)).
    type: str
  created_before:
    description: Only images created at or before this date or time (ISO 8601).
    type: str
  labels:
    description: Only images that have all these labels with these values.
    type: dict
  origin:
    description: Only images built by the collection, registered, or imported (from CSM IMS).
    type: str
    choices: [built, registered, imported]
  deprecated:
    description: Only deprecated (V(true)) or only current (V(false)) images. Default is both.
    type: bool
seealso:
  - module: cscs.openchami.image
"""

EXAMPLES = r"""
- name: What runs in production, and how was it built?
  cscs.openchami.image_info:
    name: [compute]
    tag: prod
  register: prod

- name: Everything alice built this month
  cscs.openchami.image_info:
    created_by: alice
    created_after: "2026-12-01"
"""

RETURN = r"""
images:
  description: The matching manifests, by name then creation time, each with C(ref) (V(name:version)) and C(urls).
  returned: always
  type: list
  elements: dict
  sample:
    - name: compute
      version: 2026.12.01-1
      ref: compute:2026.12.01-1
      tags: [prod]
      arch: x86_64
      origin: built
      created_by: alice
      created_at: "2026-12-01T10:00:00Z"
      artifacts: {rootfs: {key: images/compute/2026.12.01-1/rootfs.squashfs, size: 123456789, sha256: 9f86d0...}}
      urls: {rootfs: http://s3.openchami.cluster:7070/boot-images/images/compute/2026.12.01-1/rootfs.squashfs}
      recipe: {options: {name: compute, parent: debian:bookworm}, packages: [openssh-server]}
      recipe_sha256: 1c3e...
      builder: {name: cscs.openchami.image_build, backend: native}
      tools: {debootstrap: 1.0.128, mksquashfs: "4.5.1"}
      labels: {team: hpc-platform}
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.cscs.openchami.plugins.module_utils import image
from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule


class ImageInfoModule(OpenCHAMIModule):
    connection_spec = staticmethod(image.s3_argument_spec)


def main():
    module = ImageInfoModule(argument_spec=dict(
        name=dict(type="list", elements="str"),
        tag=dict(type="str"),
        arch=dict(type="str"),
        created_by=dict(type="str"),
        created_after=dict(type="str"),
        created_before=dict(type="str"),
        labels=dict(type="dict"),
        origin=dict(type="str", choices=["built", "registered", "imported"]),
        deprecated=dict(type="bool"),
    ))
    if not image.HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(image.BOTO3_IMPORT_ERROR))
    p = module.params
    if p["labels"]:
        p["labels"] = dict((str(k), str(v)) for k, v in p["labels"].items())
    with module.guard():
        store = image.Store.from_params(p)
        names = p["name"] or [None]
        found = [m for name in names for m in store.manifests(name)]
        images = [store.describe(m) for m in image.select(found, p)]
    module.exit_json(changed=False, images=images)


if __name__ == "__main__":
    main()
