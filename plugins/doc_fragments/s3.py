# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The argument spec of these options is plugins/module_utils/image.py s3_argument_spec();
    # tests/unit/plugins/module_utils/test_image.py checks that the two agree.
    DOCUMENTATION = r"""
options:
  s3_endpoint_url:
    description:
      - URL of the S3 server that holds the image inventory and the boot artifacts (versitygw in OpenCHAMI's
        release, Ceph RGW, MinIO ...).
      - Without it, boto3 reads E(AWS_ENDPOINT_URL) (then E(AWS_ENDPOINT_URL_S3)), else AWS's own endpoint.
    type: str
  s3_bucket:
    description:
      - The bucket of the inventory (its manifests are under V(inventory/)) and of the artifacts the collection
        uploads (under V(images/<name>/<version>/)).
    type: str
    default: boot-images
  s3_access_key:
    description:
      - S3 access key. Without it, boto3's own chain is used (E(AWS_ACCESS_KEY_ID), E(AWS_PROFILE), V(~/.aws)).
    type: str
  s3_secret_key:
    description:
      - S3 secret key. Without it, boto3's own chain is used (E(AWS_SECRET_ACCESS_KEY), E(AWS_PROFILE), V(~/.aws)).
    type: str
  s3_region:
    description:
      - S3 region. Without it, E(AWS_DEFAULT_REGION) or boto3's configuration.
    type: str
  s3_validate_certs:
    description:
      - Verify the S3 server's TLS certificate.
    type: bool
    default: true
  s3_ca_path:
    description:
      - CA bundle that verifies the S3 server's certificate.
    type: path
  s3_public_url:
    description:
      - Base URL nodes fetch artifacts from (path style, V(<s3_public_url>/<bucket>/<key>)), when it is not
        O(s3_endpoint_url) (a proxy, another name on the node network).
    type: str
requirements:
  - boto3 (on the host that runs the module)
notes:
  - The secret key is never shown in results, errors or logs.
"""

    # the action group of the image modules
    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/cscs.openchami.image) in C(module_defaults) to set the S3 options once for this module.
    support: full
    membership:
      - cscs.openchami.image
"""
