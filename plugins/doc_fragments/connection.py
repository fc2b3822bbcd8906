# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Modules and the inventory plugin share these options. The environment variables are read by
    # module_utils/connection.py (not declared as Ansible env sources) so that it knows whether a value was
    # given explicitly: an explicit option always wins over the environment and the ochami files.
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
      - Which source wins when several name a cluster is in the notes (the precedence table).
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
      - Read this ochami CLI configuration file instead of the system and user files
        (V(/etc/ochami/config.yaml) merged with V(~/.config/ochami/config.yaml)).
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
      - Otherwise the token comes from, in order, O(token_file), the client-credentials grant (O(token_url),
        O(client_id), O(client_secret)), the same three set through the environment (E(OPENCHAMI_TOKEN),
        E(OPENCHAMI_TOKEN_FILE), E(OPENCHAMI_TOKEN_URL) and so on), then the ochami CLI's variables
        E(<CLUSTER>_ACCESS_TOKEN) and E(ACCESS_TOKEN).
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
      - Verify TLS certificates (V(true) when not set). Turn off only for a lab.
      - Environment variable E(OPENCHAMI_VALIDATE_CERTS).
    type: bool
  ca_path:
    description:
      - CA bundle used to verify the services' certificates.
      - Environment variable E(OPENCHAMI_CA_PATH).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer (V(30) when not set).
      - Environment variable E(OPENCHAMI_TIMEOUT).
    type: int
  retries:
    description:
      - How often an idempotent request is retried after a connection error or an HTTP
        V(429), V(502), V(503) or V(504), with exponential backoff and jitter
        (a C(Retry-After) header is honoured). V(5) when not set.
      - Environment variable E(OPENCHAMI_RETRIES).
    type: int
notes:
  - Secrets (O(token), O(client_secret)) are never shown in results, errors or logs.
  - "Which cluster: an option given to the task (or in module_defaults, or in an inventory source) always
    wins over the environment, and the environment over the ochami CLI files. Ranks, best first:
    (1) O(service_uris) and O(cluster_uri) given as options, and the ochami configuration when O(config_file)
    or O(cluster) is given as an option;
    (2) E(OPENCHAMI_URI), and the ochami configuration named by E(OCHAMI_CONFIG) or E(OPENCHAMI_CLUSTER);
    (3) V(/etc/ochami/config.yaml) merged with V(~/.config/ochami/config.yaml)."
  - "Two sources of the same rank that name different clusters (another C(scheme://host:port), or another
    address for the same service) make the task fail before anything is sent, naming both. A source of a
    lower rank that names another cluster is ignored with a warning, and so are its cluster name (its
    C(<CLUSTER>_ACCESS_TOKEN)) and its settings. A lower-rank source that names the same cluster may fill in
    the services the better one does not name."
"""
