# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The argument spec of these options is plugins/module_utils/csm_module.py csm_argument_spec();
    # tests/unit/plugins/module_utils/test_csm.py checks that the two agree.
    DOCUMENTATION = r"""
options:
  csm_api_url:
    description:
      - Base URL of the CSM API gateway. The services are reached below it, HSM V(/smd/hsm/v2),
        BSS V(/bss/boot/v1), BOS V(/bos/v2), IMS V(/ims/v3), SLS V(/sls/v1), CFS V(/cfs/v3),
        PCS V(/power-control/v1).
      - Environment variable E(CSM_API_URL).
    type: str
    default: https://api-gw-service-nmn.local/apis
  csm_token_url:
    description:
      - Keycloak's token endpoint for the client-credentials grant.
      - Defaults to the gateway's V(/keycloak/realms/shasta/protocol/openid-connect/token)
        (the gateway is O(csm_api_url) without its V(/apis)).
      - The token is renewed before its C(expires_in) runs out and once after a V(401).
      - Environment variable E(CSM_TOKEN_URL).
    type: str
  csm_client_id:
    description:
      - Keycloak client id. Environment variable E(CSM_CLIENT_ID).
    type: str
    default: admin-client
  csm_client_secret:
    description:
      - Keycloak client secret (on CSM, the C(client-secret) of the Kubernetes secret C(admin-client-auth)).
      - Environment variable E(CSM_CLIENT_SECRET).
    type: str
  csm_client_secret_file:
    description:
      - File holding the Keycloak client secret, used when O(csm_client_secret) is not set.
      - Environment variable E(CSM_CLIENT_SECRET_FILE).
    type: path
  csm_token:
    description:
      - A bearer token for the CSM services, used as is (not renewed). Without it, the token comes from
        the client-credentials grant. The OpenCHAMI token variables (E(ACCESS_TOKEN) ...) are never used for CSM.
    type: str
  csm_validate_certs:
    description:
      - Verify the gateway's and Keycloak's TLS certificates. Turn off only for a lab.
      - Environment variable E(CSM_VALIDATE_CERTS).
    type: bool
    default: true
  csm_ca_path:
    description:
      - CA bundle used to verify the gateway's certificate (on CSM, the platform CA).
      - Environment variable E(CSM_CA_PATH).
    type: path
  csm_timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
  csm_retries:
    description:
      - How often an idempotent request is retried after a connection error or an HTTP
        V(429), V(502), V(503) or V(504), with exponential backoff.
    type: int
    default: 5
notes:
  - Secrets (O(csm_client_secret), O(csm_token)) are never shown in results, errors or logs.
  - A refused client-credentials grant fails with a message naming the client and the token URL.
"""

    # O(artifact_rewrite) of the modules that read S3 objects (csm_ims_info, csm_export).
    ARTIFACT_REWRITE = r"""
options:
  artifact_rewrite:
    description:
      - Rules turning the C(s3://) URLs of IMS manifests and boot artifacts into URLs this host (and, for
        exported kernels and initrds, the nodes) can read; the first matching O(artifact_rewrite[].prefix) wins.
      - For example, prefix V(s3://boot-images/) and replacement V(https://rgw-vip.nmn/boot-images/).
    type: list
    elements: dict
    default: []
    suboptions:
      prefix:
        description: URL prefix to replace.
        type: str
        required: true
      replacement:
        description: What replaces it.
        type: str
        required: true
"""
