#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csm_ims_info
short_description: Read images and their manifests from CSM's Image Management Service (IMS v3)
version_added: 0.1.0
description:
  - Returns IMS v3 images and, on request, the artifacts of each image's manifest (kernel, initrd, root file
    system, boot parameters), read from S3 over HTTP(S) through O(artifact_rewrite).
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.attributes.csm
  - cscs.openchami.attributes.info_module
  - cscs.openchami.csm
  - cscs.openchami.csm.artifact_rewrite
options:
  images:
    description: Only images with these names or ids. Default is all.
    type: list
    elements: str
  manifests:
    description: Read each image's manifest and return its artifacts.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The compute image with its artifacts
  cscs.openchami.csm_ims_info:
    images: [compute-cos-3.2.1]
    manifests: true
    artifact_rewrite:
      - {prefix: "s3://", replacement: "https://rgw-vip.nmn/"}
  register: ims
"""

RETURN = r"""
images:
  description: IMS images; with O(manifests=true) each has C(artifacts), the manifest's artifact list.
  returned: always
  type: list
  elements: dict
  sample: [{id: 4f6e..., name: compute-cos-3.2.1, arch: x86_64, link: {path: "s3://boot-images/4f6e.../manifest.json"}}]
"""

from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import artifact_rewrite_option, info_main


def read(csm, params):
    images = csm.ims_images()
    if params["images"]:
        images = [i for i in images if i.get("name") in params["images"] or i.get("id") in params["images"]]
    if params["manifests"]:
        for image in images:
            path = (image.get("link") or {}).get("path")
            image["artifacts"] = (csm.s3_object(path, params["artifact_rewrite"]) or {}).get("artifacts") if path else []
    return {"images": images}


def main():
    info_main(dict(images=dict(type="list", elements="str"), manifests=dict(type="bool", default=False),
                   artifact_rewrite=artifact_rewrite_option()), read)


if __name__ == "__main__":
    main()
