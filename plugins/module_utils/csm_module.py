# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module layer of the CSM side: connection options (doc fragment ``cscs.openchami.csm``) and a base class."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.cscs.openchami.plugins.module_utils.csm import DEFAULT_API_URL, DEFAULT_CLIENT_ID, CsmClient
from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError


def csm_argument_spec():
    """The argument spec of the ``cscs.openchami.csm`` doc fragment (one entry per documented option)."""
    return dict(
        csm_api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["CSM_API_URL"])),
        csm_token_url=dict(type="str", no_log=False, fallback=(env_fallback, ["CSM_TOKEN_URL"])),
        csm_client_id=dict(type="str", default=DEFAULT_CLIENT_ID, fallback=(env_fallback, ["CSM_CLIENT_ID"])),
        csm_client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["CSM_CLIENT_SECRET"])),
        csm_client_secret_file=dict(type="path", no_log=False, fallback=(env_fallback, ["CSM_CLIENT_SECRET_FILE"])),
        csm_token=dict(type="str", no_log=True),
        csm_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["CSM_VALIDATE_CERTS"])),
        csm_ca_path=dict(type="path", fallback=(env_fallback, ["CSM_CA_PATH"])),
        csm_timeout=dict(type="int", default=30),
        csm_retries=dict(type="int", default=5),
    )


class CsmModule(OpenCHAMIModule):
    """The module base class with the CSM connection options and one :class:`CsmClient` (guard() and the rest
    are OpenCHAMIModule's)."""

    connection_spec = staticmethod(csm_argument_spec)

    @property
    def csm(self):
        if getattr(self, "_csm", None) is None:
            try:
                self._csm = CsmClient.from_params(self.params)  # pylint: disable=attribute-defined-outside-init
            except ApiError as exc:
                self.fail_json(msg=str(exc))
        return self._csm


def artifact_rewrite_option():
    """The ``artifact_rewrite`` option (doc fragment ``cscs.openchami.csm.artifact_rewrite``)."""
    return dict(type="list", elements="dict", default=[], options=dict(
        prefix=dict(type="str", required=True), replacement=dict(type="str", required=True)))


def info_main(argument_spec, read):
    """An ``_info`` module: ``read(csm_client, params)`` returns the result; nothing is changed."""
    module = CsmModule(argument_spec=argument_spec)
    with module.guard():
        result = read(module.csm, module.params)
    module.exit_json(changed=False, **result)
