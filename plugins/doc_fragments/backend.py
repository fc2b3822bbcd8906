# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The ``backend`` option: which service implements a concept (``module_utils/boot.py``, ``cloudinit.py``)."""

    # cloud-init modules: cloud-init server (OpenCHAMI v0.1) or metadata-service (v0.2)
    DOCUMENTATION = r"""
options:
  backend:
    description:
      - V(auto) uses the cloud-init server found at the cloud_init address (it answers C(/admin/groups)), else
        metadata-service found at the cloud_init or metadata_service address (its C(/health) names it).
      - V(cloud_init) or V(metadata_service) force one, at the address of that name.
      - The metadata-service backend is tested against an emulator of it only (no real metadata-service could be
        run when it was written); it follows the published API types of OpenCHAMI metadata-service.
    type: str
    choices: [auto, cloud_init, metadata_service]
    default: auto
"""

    # boot configuration modules: BSS (OpenCHAMI v0.1) or boot-service (v0.2)
    BOOT = r"""
options:
  backend:
    description:
      - V(auto) uses boot-service when its C(/health) answers at the boot_service address, else BSS when its
        C(/service/status) answers at the bss address. When the bss address turns out to be boot-service's legacy
        API, boot-service's own API at the same address without C(/boot/v1) is used.
      - V(bss) or V(boot_service) force one (V(bss) still refuses boot-service's legacy API).
    type: str
    choices: [auto, bss, boot_service]
    default: auto
"""
