# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  cluster:
    description:
      - Name of the cluster in the ochami CLI configuration.
      - Selects the addresses of the services and the token variable C(<CLUSTER>_ACCESS_TOKEN)
        (name upper-cased, V(-) and spaces turned into V(_)).
      - Defaults to the configuration's C(default-cluster).
      - Environment variable E(OPENCHAMI_CLUSTER).
    type: str
  cluster_uri:
    description:
      - Base URI of the cluster, for example V(https://demo.openchami.cluster:8443).
      - Each service is reached at this URI plus its default path
        (SMD V(/hsm/v2), BSS V(/boot/v1), boot-service V(/boot-service), cloud-init V(/cloud-init),
        metadata-service V(/metadata-service), power-control at the root), unless O(service_uris) names it.
      - When neither this nor O(service_uris) is given, the ochami CLI configuration is read
        (V(/etc/ochami/config.yaml) merged with V(~/.config/ochami/config.yaml)).
      - Environment variable E(OPENCHAMI_URI).
    type: str
  service_uris:
    description:
      - Full base URI of individual services, overriding O(cluster_uri).
    type: dict
    suboptions:
      smd:
        description: SMD base URI including V(/hsm/v2).
        type: str
      bss:
        description: BSS base URI including V(/boot/v1).
        type: str
      boot_service:
        description: boot-service base URI.
        type: str
      cloud_init:
        description: cloud-init server base URI.
        type: str
      metadata_service:
        description: metadata-service base URI.
        type: str
      pcs:
        description: power-control service base URI.
        type: str
  config_file:
    description:
      - Read this ochami CLI configuration file instead of the system and user files.
      - Environment variable E(OCHAMI_CONFIG).
    type: path
  use_auth:
    description:
      - Whether to send a bearer token. Defaults to the cluster's C(enable-auth) setting, else V(true).
      - With V(true) and no token found, requests are sent without one and a V(401) answer lists the
        sources that were looked at.
      - Environment variable E(OPENCHAMI_USE_AUTH).
    type: bool
  token:
    description:
      - Bearer token (JWT). Takes precedence over every other source.
      - Otherwise the token comes from, in order, E(<CLUSTER>_ACCESS_TOKEN), E(ACCESS_TOKEN),
        O(token_file), and the client-credentials grant (O(token_url), O(client_id), O(client_secret)).
    type: str
  token_file:
    description:
      - File holding the token, either the bare token or JSON with an C(access_token) key.
      - Environment variable E(OPENCHAMI_TOKEN_FILE).
    type: path
  token_url:
    description:
      - OAuth2 token endpoint for the client-credentials grant (for example Keycloak's or opaal's).
      - The token is renewed before it expires and once after a V(401).
      - Environment variable E(OPENCHAMI_TOKEN_URL).
    type: str
  client_id:
    description:
      - OAuth2 client id. Environment variable E(OPENCHAMI_CLIENT_ID).
    type: str
  client_secret:
    description:
      - OAuth2 client secret. Environment variable E(OPENCHAMI_CLIENT_SECRET).
    type: str
  scopes:
    description:
      - OAuth2 scopes to ask for.
    type: list
    elements: str
  validate_certs:
    description:
      - Verify TLS certificates. Turn off only for a lab.
      - Environment variable E(OPENCHAMI_VALIDATE_CERTS).
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle used to verify the services' certificates.
      - Environment variable E(OPENCHAMI_CA_PATH).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
  retries:
    description:
      - How often an idempotent request is retried after a connection error or an HTTP
        V(429), V(502), V(503) or V(504), with exponential backoff and jitter
        (a C(Retry-After) header is honoured).
    type: int
    default: 5
notes:
  - Secrets (O(token), O(client_secret)) are never shown in results, errors or logs.
"""

    # The same options for plugins (inventory), where environment variables are declared per option.
    PLUGIN = r"""
options:
  cluster:
    description:
      - Name of the cluster in the ochami CLI configuration; selects service addresses and the
        C(<CLUSTER>_ACCESS_TOKEN) variable. Defaults to the configuration's C(default-cluster).
    type: str
    env:
      - name: OPENCHAMI_CLUSTER
  cluster_uri:
    description:
      - Base URI of the cluster; each service is reached at this URI plus its default path (SMD V(/hsm/v2)).
      - When neither this nor O(service_uris) is given, the ochami CLI configuration is read.
    type: str
    env:
      - name: OPENCHAMI_URI
  service_uris:
    description:
      - Full base URI of individual services (keys V(smd), V(bss), V(boot_service), V(cloud_init),
        V(metadata_service), V(pcs)), overriding O(cluster_uri).
    type: dict
  config_file:
    description: Read this ochami CLI configuration file instead of the system and user files.
    type: path
    env:
      - name: OCHAMI_CONFIG
  use_auth:
    description: Whether to send a bearer token. Defaults to the cluster's C(enable-auth), else V(true).
    type: bool
    env:
      - name: OPENCHAMI_USE_AUTH
  token:
    description:
      - Bearer token. Otherwise the token comes from, in order, E(<CLUSTER>_ACCESS_TOKEN), E(ACCESS_TOKEN),
        O(token_file), and the client-credentials grant.
    type: str
    env:
      - name: OPENCHAMI_TOKEN
  token_file:
    description: File holding the token (bare, or JSON with C(access_token)).
    type: path
    env:
      - name: OPENCHAMI_TOKEN_FILE
  token_url:
    description: OAuth2 token endpoint for the client-credentials grant.
    type: str
    env:
      - name: OPENCHAMI_TOKEN_URL
  client_id:
    description: OAuth2 client id.
    type: str
    env:
      - name: OPENCHAMI_CLIENT_ID
  client_secret:
    description: OAuth2 client secret.
    type: str
    env:
      - name: OPENCHAMI_CLIENT_SECRET
  scopes:
    description: OAuth2 scopes to ask for.
    type: list
    elements: str
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
    env:
      - name: OPENCHAMI_VALIDATE_CERTS
  ca_path:
    description: CA bundle used to verify the services' certificates.
    type: path
    env:
      - name: OPENCHAMI_CA_PATH
  timeout:
    description: Seconds to wait for each HTTP answer.
    type: int
    default: 30
  retries:
    description: Retries of idempotent requests after connection errors, V(429), V(502), V(503), V(504).
    type: int
    default: 5
"""
