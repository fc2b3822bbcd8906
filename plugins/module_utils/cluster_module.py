# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module side of cluster_plan, cluster_apply and cluster_rollback: options, reading the spec, one run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cscs.openchami.plugins.module_utils import boot, cloudinit, cluster, cluster_spec
from ansible_collections.cscs.openchami.plugins.module_utils.common import OpenCHAMIModule


def spec_options(prune_default=False):
    """The options of the ``cscs.openchami.cluster`` doc fragment."""
    return dict(
        spec=dict(type="dict"),
        src=dict(type="path"),
        prune=dict(type="bool", default=prune_default),
        boot_backend=dict(type="str", choices=list(boot.BACKENDS), default="auto"),
        cloud_init_backend=dict(type="str", choices=list(cloudinit.BACKENDS), default="auto"),
    )


def instance_of(module, params=None):
    p = params or module.params
    return cluster.Instance(cluster.client_getter(module.connection), p["boot_backend"], p["cloud_init_backend"])


def read_spec(module):
    """The spec given inline or in ``src`` (file or directory); a bad file fails naming it, nothing is written."""
    if module.params.get("spec") is not None:
        return module.params["spec"]
    try:
        return cluster_spec.load(module.params["src"])
    except ValueError as exc:
        module.fail_json(msg="%s; nothing was changed" % exc)


def run(write, prune_default=False):
    """The whole of cluster_plan (``write=False``), cluster_apply and cluster_rollback (``write=True``)."""
    module = OpenCHAMIModule(argument_spec=spec_options(prune_default),
                             required_one_of=[("spec", "src")], mutually_exclusive=[("spec", "src")])
    spec = read_spec(module)
    with module.guard():
        desired = cluster_spec.expand(spec)
        the_plan = cluster.plan(instance_of(module), desired, prune=module.params["prune"])
        if write:
            cluster.apply(the_plan, module.check_mode)
    if write:
        module.exit_json(**the_plan.result())
    result = the_plan.result(changed=False, pending=the_plan.changed)
    module.exit_json(**result)
