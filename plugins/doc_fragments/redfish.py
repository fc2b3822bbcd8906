# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  bmc_user:
    description:
      - Redfish user name of the BMCs.
      - Environment variable E(REDFISH_USER).
    type: str
  bmc_password:
    description:
      - Redfish password of the BMCs. Never shown, not in the output, not in error messages.
      - Environment variable E(REDFISH_PASSWORD).
    type: str
  bmc_validate_certs:
    description:
      - Verify the TLS certificates of the BMCs. BMCs often have self-signed certificates; rather than turning this
        off, give their CA in O(bmc_ca_path).
      - Environment variable E(REDFISH_VALIDATE_CERTS).
    type: bool
    default: true
  bmc_ca_path:
    description:
      - CA bundle to verify the BMCs' certificates with.
      - Environment variable E(REDFISH_CA_PATH).
    type: path
  bmc_timeout:
    description: Seconds to wait for one answer of a BMC.
    type: int
    default: 10
  sessions:
    description:
      - V(auto) logs in with a Redfish session where the BMC offers one (and logs out at the end, always),
        falling back to HTTP Basic; V(always) requires a session; V(never) uses HTTP Basic only.
    type: str
    choices: [auto, always, never]
    default: auto
  profile:
    description:
      - Vendor profile with the BMC's quirks. V(auto) picks the best match from what the BMC shows.
      - V(generic) (DMTF), V(cray_ex_nc) (HPE Cray EX node card), V(cray_ex_cc) (HPE Cray EX chassis controller),
        V(gigabyte), or the name of a profile a vendor registered.
    type: str
    default: auto
"""

    SELECTION = r"""
options:
  nodes:
    description:
      - Node xnames. Their BMC address, Redfish system path and (unless O(bmc_user)/O(bmc_password) are given)
        credentials are read from SMD in two requests, whatever the number of nodes
        (see M(cscs.openchami.redfish_discover)); the connection options say where SMD is.
      - A node SMD does not know fails the task before any BMC is contacted.
    type: list
    elements: str
  targets:
    description:
      - BMCs addressed directly, without SMD. Each is an address (every node system of the BMC, chosen by its
        vendor profile) or a dict with C(address) and optional C(system) (system Id or path), C(name),
        C(user), C(password).
    type: list
    elements: raw
  workers:
    description: BMCs worked on at the same time (the systems of one BMC are handled one after the other).
    type: int
    default: 32
"""

    # The options of redfish_discover (module_utils/discovery.py), for a vendor's discovery module too
    # (docs/redfish_profiles.md): such a module extends this fragment instead of copying the options.
    DISCOVER = r"""
options:
  targets:
    description:
      - BMCs to discover. Each is a host name, an IP address, a CIDR (every host address of it is probed),
        or a dict with C(address) and optional C(xname), C(user), C(password), C(profile).
    type: list
    elements: raw
    required: true
  xname_map:
    description: BMC address -> BMC xname, for targets that do not carry their own.
    type: dict
    default: {}
  push:
    description: Write the discovered BMCs to SMD. V(false) only returns the result.
    type: bool
    default: true
  dest:
    description:
      - Also write the result (as JSON, without passwords) to this file on the host the module runs on.
      - Not written in check mode.
    type: path
  update_password:
    description: V(on_create) stores the BMC password in SMD for new endpoints only; V(always) also for existing ones.
    type: str
    choices: [always, on_create]
    default: on_create
  workers:
    description: BMCs read at the same time.
    type: int
    default: 32
  port:
    description: TCP port of the Redfish service, for targets without one.
    type: int
    default: 443
  collect_chassis:
    description:
      - Also read every chassis of each BMC (one request per chassis) and return C(uri), C(type) and C(power_state)
        of each in RV(bmcs[].chassis). Nodes and NICs come from systems and managers, so this is off by default;
        the V(cray_ex_cc) profile (a chassis controller, whose blades are chassis) always reads them.
    type: bool
    default: false
  fail_on_error:
    description:
      - V(never) reports failed BMCs in RV(bmcs) and succeeds; V(any) fails the task when any BMC failed
        (after writing the others); V(all) fails only if no BMC could be read.
    type: str
    choices: [never, any, all]
    default: never
"""
