# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pure client for the CSM services behind the API gateway (no AnsibleModule here).

One base URL (``https://api-gw-service-nmn.local/apis``); each service lives under its own prefix
(:data:`SERVICE_PATHS`). Tokens come from Keycloak's client-credentials grant (realm ``shasta``,
client ``admin-client``) through :class:`auth.TokenAuth`, which renews them before ``expires_in``
and once after a 401. The OpenCHAMI token variables (``ACCESS_TOKEN`` ...) are never read here:
a CSM token only comes from the ``csm_*`` options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cscs.openchami.plugins.module_utils import xname
from ansible_collections.cscs.openchami.plugins.module_utils.auth import TokenAuth
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Client, chunks

DEFAULT_API_URL = "https://api-gw-service-nmn.local/apis"
DEFAULT_CLIENT_ID = "admin-client"
DEFAULT_REALM = "shasta"
SERVICE_PATHS = {
    "hsm": "/smd/hsm/v2",
    "bss": "/bss/boot/v1",
    "bos": "/bos/v2",
    "ims": "/ims/v3",
    "sls": "/sls/v1",
    "cfs": "/cfs/v3",
    "pcs": "/power-control/v1",
}
CFS_PAGE = 1000  # CFS v3 page size asked for (the server may cap it)
BOS_PAGE = 1000  # BOS v2 components page size
ID_CHUNK = 500  # ids per query string (gateways limit the URL length)


def check_xnames(values, what="nodes"):
    """Normalised xnames; a :class:`ValidationError` naming every bad one."""
    out, bad = [], []
    for value in values or []:
        try:
            out.append(xname.normalize(value))
        except xname.XnameError as exc:
            bad.append("%s: %s" % (what, exc))
    if bad:
        raise ValidationError(bad)
    return out


def rewrite_url(url, rules):
    """``url`` with the first matching rule applied: rules are ``{"prefix": ..., "replacement": ...}``."""
    for rule in rules or []:
        if url.startswith(rule["prefix"]):
            return rule["replacement"] + url[len(rule["prefix"]):]
    return url


def sls_node_summary(item):
    """An SLS node as its xname, class, parent, NID, role, subrole and aliases (CSM's ExtraProperties, as implemented)."""
    extra = item.get("ExtraProperties") or {}
    return {"xname": item.get("Xname"), "class": item.get("Class"), "parent": item.get("Parent"),
            "nid": extra.get("NID"), "role": extra.get("Role"), "subrole": extra.get("SubRole") or "",
            "aliases": list(extra.get("Aliases") or [])}


class CsmAuthError(ApiError):
    """Keycloak refused the client credentials (wrong client id or secret, unknown realm)."""


def default_token_url(api_url):
    """Keycloak's token endpoint behind the gateway: ``<gateway>/keycloak/realms/shasta/protocol/openid-connect/token``."""
    base = api_url.rstrip("/")
    if base.endswith("/apis"):
        base = base[:-len("/apis")]
    return "%s/keycloak/realms/%s/protocol/openid-connect/token" % (base, DEFAULT_REALM)


def read_secret_file(path):
    """The stripped content of a secret file, or ApiError naming the file (never its content)."""
    path = os.path.expanduser(path)
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except (OSError, IOError) as exc:
        raise ApiError("cannot read the CSM client secret file %s: %s" % (path, exc.strerror))
    if not text:
        raise ApiError("the CSM client secret file %s is empty" % path)
    return text


class KeycloakAuth(TokenAuth):
    """:class:`TokenAuth` reading no environment token, whose refused grant is a :class:`CsmAuthError`."""

    def _fetch(self):
        try:
            super(KeycloakAuth, self)._fetch()
        except CsmAuthError:
            raise
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                raise CsmAuthError(
                    "Keycloak refused the client credentials of client '%s' at %s (HTTP %s): check csm_client_id "
                    "and csm_client_secret" % (self.client_id, self.token_url, exc.status),
                    exc.method, exc.url, exc.status, exc.body)
            raise


class CsmClient:
    """Clients of the CSM services behind one gateway URL, sharing one Keycloak token."""

    def __init__(self, api_url=None, token=None, token_url=None, client_id=None, client_secret=None,
                 client_secret_file=None, validate_certs=True, ca_path=None, timeout=30, retries=5, log=None):
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        if client_secret_file and not client_secret:
            client_secret = read_secret_file(client_secret_file)
        self.token_url = token_url or default_token_url(self.api_url)
        if not token and not client_secret:
            raise ApiError("no CSM credentials: set csm_client_secret (or CSM_CLIENT_SECRET, or csm_client_secret_file) "
                           "for Keycloak's client-credentials grant, or csm_token")
        self.auth = KeycloakAuth(token=token, client_id=client_id or DEFAULT_CLIENT_ID, client_secret=client_secret,
                                 token_url=self.token_url if client_secret else None, environ={},
                                 validate_certs=validate_certs, ca_path=ca_path, timeout=timeout)
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.retries = retries
        self.log = log
        self._clients = {}

    @classmethod
    def from_params(cls, params, log=None):
        """From the options of the ``cscs.openchami.csm`` doc fragment."""
        return cls(api_url=params.get("csm_api_url"), token=params.get("csm_token"),
                   token_url=params.get("csm_token_url"), client_id=params.get("csm_client_id"),
                   client_secret=params.get("csm_client_secret"),
                   client_secret_file=params.get("csm_client_secret_file"),
                   validate_certs=params.get("csm_validate_certs", True), ca_path=params.get("csm_ca_path"),
                   timeout=params.get("csm_timeout") or 30, retries=params.get("csm_retries", 5), log=log)

    def url(self, service):
        return self.api_url + SERVICE_PATHS[service]

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = Client(self.url(service), auth=self.auth, validate_certs=self.validate_certs,
                                            ca_path=self.ca_path, timeout=self.timeout, retries=self.retries,
                                            log=self.log)
        return self._clients[service]

    def close(self):
        for client in self._clients.values():
            client.close()

    def get(self, service, path, params=None, missing=None):
        """GET JSON; ``missing`` (if not None) is returned on 404."""
        expect = (200, 404) if missing is not None else None
        response = self.client(service).request("GET", path, params=params, expect=expect)
        if response.status == 404:
            return missing
        return response.json

    # ------------------------------------------------------------------ HSM
    def hsm_components(self, ids=None, params=None):
        """Components by id (bulk query), else every component matching the query ``params`` (type, role ...)."""
        if not ids:
            return (self.get("hsm", "/State/Components", params) or {}).get("Components") or []
        out = []
        for chunk in chunked(ids, ID_CHUNK):
            body = {"ComponentIDs": chunk}
            out.extend(self.client("hsm").post("/State/Components/Query", body, safe=True).json.get("Components") or [])
        return out

    def hsm_groups(self):
        return self.get("hsm", "/groups") or []

    def hsm_partitions(self):
        return self.get("hsm", "/partitions") or []

    def hsm_ethernet_interfaces(self, component_ids=None):
        if not component_ids:
            return self.get("hsm", "/Inventory/EthernetInterfaces") or []
        out = []
        for chunk in chunked(component_ids, ID_CHUNK):
            out.extend(self.get("hsm", "/Inventory/EthernetInterfaces", {"ComponentID": chunk}) or [])
        return out

    def hsm_lock_status(self, ids):
        """xname -> lock record (``Locked``, ``Reserved``, ``ReservationDisabled``) for the components in ``ids``."""
        out = {}
        for chunk in chunked(ids, ID_CHUNK):
            data = self.client("hsm").post("/locks/status", {"ComponentIDs": chunk}, safe=True).json or {}
            for item in data.get("Components") or []:
                out[item["ID"]] = item
        return out

    def hsm_lock(self, ids, lock=True):
        """Lock (or unlock) components with the rigid processing model: all or none."""
        path = "/locks/lock" if lock else "/locks/unlock"
        data = self.client("hsm").post(path, {"ComponentIDs": list(ids), "ProcessingModel": "rigid"}).json or {}
        failed = (data.get("Counts") or {}).get("Failure") or 0
        if failed:
            raise ApiError("HSM %s of %s failed: %s" % ("lock" if lock else "unlock", ", ".join(ids), data.get("Failure")))
        return data

    def hsm_delete_interface(self, iface_id):
        self.client("hsm").delete("/Inventory/EthernetInterfaces/" + iface_id, expect=(200, 204, 404))

    def hsm_create_interface(self, iface):
        """Re-create an interface as it was read (ID, MAC, IPs, component, description)."""
        body = dict((k, iface[k]) for k in ("ID", "Description", "MACAddress", "ComponentID", "IPAddresses") if k in iface)
        self.client("hsm").post("/Inventory/EthernetInterfaces", body, expect=(200, 201))

    # ------------------------------------------------------------------ SLS
    def sls_hardware(self, types=None):
        """SLS hardware, only of these ``TypeString`` (``Node``) or ``Type`` (``comptype_node``) values if given.

        One read of everything: SLS's search wants the comptype and answers 400 for a TypeString.
        """
        found = self.get("sls", "/hardware") or []
        if not types:
            return found
        return [item for item in found if item.get("TypeString") in types or item.get("Type") in types]

    def sls_networks(self):
        return self.get("sls", "/networks") or []

    # ------------------------------------------------------------------ BSS
    def bss_bootparameters(self, hosts=None):
        if not hosts:
            return self.get("bss", "/bootparameters") or []
        out = []
        for chunk in chunked(hosts, ID_CHUNK):
            out.extend(self.get("bss", "/bootparameters", {"name": chunk}, missing=[]) or [])
        return out

    def bss_refresh(self):
        """Make BSS re-read HSM now (``POST /hosts``); it re-reads at most once per second of its clock."""
        self.client("bss").post("/hosts", expect=(200, 204), safe=True)

    # ------------------------------------------------------------------ BOS
    def bos_sessiontemplates(self):
        return self.get("bos", "/sessiontemplates") or []

    def bos_components(self, ids=None):
        """BOS v2 components, page by page (``page_size`` + ``start_after_id``)."""
        out = []
        for chunk in (chunked(ids, ID_CHUNK) if ids else [None]):
            after = None
            while True:
                params = {"page_size": BOS_PAGE}
                if chunk:
                    params["ids"] = ",".join(chunk)
                if after:
                    params["start_after_id"] = after
                page = self.get("bos", "/components", params) or []
                out.extend(page)
                if len(page) < BOS_PAGE:
                    break
                after = page[-1]["id"]
        return out

    def bos_patch_component(self, xname, patch):
        return self.client("bos").patch("/components/" + xname, patch).json

    # ------------------------------------------------------------------ IMS
    def ims_images(self):
        return self.get("ims", "/images") or []

    def s3_object(self, url, rules):
        """An S3 object (an IMS manifest) read over HTTP(S) at ``url`` rewritten by ``rules``; no CSM token sent."""
        return self._s3_get(url, rules).json

    def s3_text(self, url, rules):
        """The text of an S3 object (an image's boot parameters file), read like :meth:`s3_object`."""
        return self._s3_get(url, rules).text

    def _s3_get(self, url, rules):
        target = rewrite_url(url, rules)
        if not target.startswith(("http://", "https://")):
            raise ApiError("cannot read %s: no artifact rewrite rule maps it to an http(s) URL" % url)
        client = Client(None, validate_certs=self.validate_certs, ca_path=self.ca_path, timeout=self.timeout,
                        retries=self.retries, log=self.log)
        try:
            return client.request("GET", target)
        finally:
            client.close()

    # ------------------------------------------------------------------ CFS
    def cfs_paged(self, path, key, params=None):
        """Every item of a CFS v3 list: re-send ``limit`` and the returned ``after_id`` until ``next`` is null."""
        out = []
        query = dict(params or {})
        query["limit"] = CFS_PAGE
        while True:
            data = self.get("cfs", path, query) or {}
            out.extend(data.get(key) or [])
            nxt = data.get("next")
            if not nxt:
                return out
            query.update(dict((k, v) for k, v in nxt.items() if v is not None))

    def cfs_components(self, ids=None):
        if not ids:
            return self.cfs_paged("/components", "components")
        out = []
        for chunk in chunked(ids, ID_CHUNK):
            out.extend(self.cfs_paged("/components", "components", {"ids": ",".join(chunk)}))
        return out

    def cfs_configurations(self):
        return self.cfs_paged("/configurations", "configurations")

    def cfs_patch_component(self, xname, patch):
        return self.client("cfs").patch("/components/" + xname, patch).json

    # ------------------------------------------------------------------ PCS
    def pcs_power_status(self, xnames=None):
        params = {"xname": list(xnames)} if xnames else None
        return (self.get("pcs", "/power-status", params) or {}).get("status") or []


chunked = chunks  # the transport's, under the name this client used
