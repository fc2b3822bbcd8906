# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the role node_migration: per-node slices of a CSM export, a batch's bulk input, the preflight, the
boot and health checks of the verify step."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cscs.openchami.plugins.module_utils import migration


def migration_slices(export):
    if not isinstance(export, dict):
        raise AnsibleFilterError("migration_slices expects the result of cscs.openchami.csm_export")
    return migration.slices(export)


def migration_batch_input(records, names, boot=None):
    missing = [n for n in names if n not in records]
    if missing:
        raise AnsibleFilterError("migration_batch_input: no ledger record for %s" % ", ".join(missing))
    return migration.batch_input(records, names, boot or None)


def migration_preflight(names, slices, ownership, locks, boot=None):
    return migration.preflight(names, slices, ownership, locks, boot or None)


def migration_boot_failures(ownership, baselines, side, timeout):
    if side not in migration.SIDES:
        raise AnsibleFilterError("migration_boot_failures: side must be openchami or csm, not %r" % (side,))
    return migration.boot_failures(ownership, baselines, side, timeout)


def migration_health_failures(result, names):
    return migration.health_failures(result, names)


class FilterModule(object):
    def filters(self):
        return {"migration_slices": migration_slices, "migration_batch_input": migration_batch_input,
                "migration_preflight": migration_preflight, "migration_boot_failures": migration_boot_failures,
                "migration_health_failures": migration_health_failures}
