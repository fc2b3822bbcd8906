#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_import
short_description: Import CSM's IMS images into the image inventory kept in S3
version_added: 0.1.0
description:
  - Reads the images of CSM's Image Management Service (IMS v3) and each image's C(manifest.json) (through
    O(artifact_rewrite), as M(cscs.openchami.csm_ims_info) does), and registers every image in the image inventory
    of M(cscs.openchami.image) as V(<IMS name>:<IMS id>), marked C(origin=imported).
  - The artifacts stay where CSM has them; each is recorded with its C(s3://) URL, md5, ETag and media type. The
    provenance is IMS's. C(created_at) is the IMS record's creation time, C(labels) its C(metadata), and
    C(imported_from) names the IMS record (id, link, manifest version). C(created_by) is the metadata's
    C(created_by), else V(csm-ims).
  - Images already imported with the same content are left alone; a re-run changes nothing.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
  - cscs.openchami.csm
  - cscs.openchami.csm.artifact_rewrite
  - cscs.openchami.s3
attributes:
  action_group:
    description:
      - Use C(group/cscs.openchami.csm) in C(module_defaults) to set the CSM connection, and C(group/cscs.openchami.image)
        to set the S3 options, once for this module.
    support: full
    membership:
      - cscs.openchami.csm
      - cscs.openchami.image
  check_mode:
    support: full
    description: Reads IMS, the manifests and the inventory; writes nothing.
  diff_mode:
    support: full
    description: Shows each created or changed manifest.
options:
  images:
    description: Only IMS images with these names or ids. Default is all.
    type: list
    elements: str
  tags:
    description: Tags to give the imported versions (each moves from any other version of the same image).
    type: list
    elements: str
seealso:
  - module: cscs.openchami.csm_ims_info
  - module: cscs.openchami.image_info
"""

EXAMPLES = r"""
- name: Import CSM's compute images into the OpenCHAMI image inventory
  cscs.openchami.image_import:
    images: [compute-cos-3.2.1]
    artifact_rewrite:
      - {prefix: "s3://", replacement: "https://rgw-vip.nmn/"}
    s3_endpoint_url: http://s3.openchami.cluster:7070
"""

RETURN = r"""
images:
  description: The imported versions' manifests, with C(ref) and C(urls).
  returned: always
  type: list
  elements: dict
summary:
  description: Manifests created, updated or unchanged.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.cscs.openchami.plugins.module_utils import image, resource
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import CsmModule, artifact_rewrite_option, csm_argument_spec


class ImportModule(CsmModule):
    connection_spec = staticmethod(lambda: dict(csm_argument_spec(), **image.s3_argument_spec()))


def main():
    module = ImportModule(argument_spec=dict(images=dict(type="list", elements="str"),
                                             tags=dict(type="list", elements="str"),
                                             artifact_rewrite=artifact_rewrite_option()))
    if not image.HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(image.BOTO3_IMPORT_ERROR))
    p = module.params
    with module.guard():
        store = image.Store.from_params(p)
        records = module.csm.ims_images()
        if p["images"]:
            records = [r for r in records if r.get("name") in p["images"] or r.get("id") in p["images"]]
        entries = []
        for record in records:
            path = (record.get("link") or {}).get("path")
            manifest = module.csm.s3_object(path, p["artifact_rewrite"]) if path else {}
            entry = image.from_ims(record, manifest, module.params["csm_api_url"])
            entry.update(state="present", tags=p["tags"])
            entries.append(entry)
        changes = []
        for entry in entries:
            the_plan, _keys = image.plan(store, entry, module.check_mode)
            changes.extend(the_plan.changes)
    the_plan = resource.Plan(changes)
    shown = [store.describe(dict((k, v) for k, v in c.after.items() if k != "ref")) for c in changes
             if c.after and c.after.get("origin") == "imported"]
    module.exit_json(**resource.result(the_plan, images=shown))


if __name__ == "__main__":
    main()
