#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: migration_ledger
short_description: Keep the ledger of a rolling node migration from CSM to OpenCHAMI (plan, lock, records, report)
version_added: 0.1.0
description:
  - Keeps one JSON record per node in O(path) (C(nodes/<xname>.json)) with the step it reached, its outcome, its
    state before and after, timestamps, the operator and the run id, and a history of every step.
    The role M(cscs.openchami.node_migration) records each step before and after each write, so that a re-run
    skips migrated nodes and resumes interrupted ones after their recorded step.
  - O(state=begin) takes the ledger's lock for O(run_id) (C(lock.json) with the run id, operator, host, and the pid
    and start time of the C(ansible-playbook) process) and returns the waves of this run. A lock held by another
    living run is refused, naming it; a lock whose process is gone (same host) is taken over and returned in
    RV(stale_lock).
  - O(state=record) records that O(nodes) reached O(step) with O(outcome).
  - O(state=end) writes the run's report (C(runs/<run id>.json), C(.md) and a self-contained C(.html) with an inline
    SVG chart) and releases the lock.
  - Runs on the controller (C(localhost)); the ledger directory is local to it.
author:
  - CSCS (@cscs)
extends_documentation_fragment:
  - cscs.openchami.attributes
attributes:
  check_mode:
    support: full
    description: O(state=begin) plans and checks the lock without taking it; nothing is written in check mode.
  diff_mode:
    support: none
    description: The records are the diff.
options:
  path:
    description: The ledger directory (created when missing).
    type: path
    required: true
  run_id:
    description: This run's id (for example a UTC time stamp, or AWX's job id).
    type: str
    required: true
  operator:
    description: Who runs the migration (recorded).
    type: str
    default: unknown
  state:
    description: What to do.
    type: str
    choices: [begin, record, end]
    required: true
  nodes:
    description:
      - O(state=begin) the nodes to migrate, as xnames or dicts with C(xname), C(nid) and C(hostname).
      - O(state=record) the nodes that reached O(step) (xnames or such dicts).
    type: list
    elements: raw
    default: []
  waves:
    description:
      - O(state=begin) batch sizes, each a number of nodes or a percentage of this run's nodes (rounded up);
        the last one repeats until every node has a batch.
    type: list
    elements: raw
    default: [1, "5%", "25%", "100%"]
  step:
    description: O(state=record) the step reached.
    type: str
    choices: [planned, preflight, drained, releasing, released, imported, boot_configured, cloud_init,
              power_cycled, verified, resumed, done, rollback, rolled_back]
  outcome:
    description: O(state=record) the node's outcome after this step.
    type: str
    choices: [running, migrated, refused, rolled_back, failed]
    default: running
  before:
    description: O(state=record) per xname, entries merged into the record's C(before) (the state before migration).
    type: dict
  after:
    description: O(state=record) per xname, entries merged into the record's C(after).
    type: dict
  errors:
    description: O(state=record) per xname, what failed.
    type: dict
"""

EXAMPLES = r"""
- name: Plan the run and take the lock
  cscs.openchami.migration_ledger:
    path: /var/lib/openchami-migration
    run_id: "{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}"
    operator: "{{ lookup('ansible.builtin.env', 'USER') }}"
    state: begin
    nodes: [x1000c0s0b0n0, {xname: x1000c0s0b0n1, nid: 2, hostname: nid000002}]
    waves: [1, "50%"]
  register: run

- name: Record a step
  cscs.openchami.migration_ledger:
    path: /var/lib/openchami-migration
    run_id: "{{ run.run_id }}"
    state: record
    nodes: [x1000c0s0b0n0]
    step: released
    before: {x1000c0s0b0n0: {csm: {bos_enabled: true, cfs_enabled: true, hsm_locked: false, ethernet_interfaces: []}}}
"""

RETURN = r"""
run_id:
  description: The run id.
  returned: always
  type: str
waves:
  description: O(state=begin) the batches of this run; each node with C(xname), C(nid), C(hostname) and
    C(resume_after) (the step an interrupted node reached, else null).
  returned: when O(state=begin)
  type: list
  elements: list
skipped:
  description: O(state=begin) nodes left out because an earlier run finished them, with their outcome.
  returned: when O(state=begin)
  type: dict
records:
  description: The records of the nodes (O(state=begin)) or the records written (O(state=record)), by xname.
  returned: when O(state) is V(begin) or V(record)
  type: dict
stale_lock:
  description: O(state=begin) the lock of a run whose process was gone, taken over.
  returned: when a stale lock was taken over
  type: dict
report:
  description: O(state=end) the run's report (counts by outcome, failures, per-node timelines and durations).
  returned: when O(state=end)
  type: dict
files:
  description: O(state=end) the report files written (C(json), C(md), C(html)).
  returned: when O(state=end) and not in check mode
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cscs.openchami.plugins.module_utils import migration, migration_report
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError


def begin(module, ledger, p):
    nodes = migration.check_nodes(p["nodes"])
    migration.check_waves(p["waves"])
    records = ledger.records([n["xname"] for n in nodes])
    result = dict(migration.plan_run(nodes, records, p["waves"]), records=records)
    if module.check_mode:
        ledger.check_lock(p["run_id"])
        return result
    lock, stale = ledger.take_lock(p["run_id"], p["operator"])
    if stale:
        result["stale_lock"] = stale
    migration.write_json(os.path.join(ledger.path, "runs", p["run_id"] + ".run"), {
        "run_id": p["run_id"], "operator": p["operator"], "started": lock["started"], "ledger": ledger.path,
        "skipped": result["skipped"]})
    return result


def record(module, ledger, p):
    if not p["step"]:
        raise ValidationError(["state=record needs step"])
    names = [(n.get("xname") if isinstance(n, dict) else n) for n in p["nodes"]]
    nodes = migration.check_nodes(p["nodes"])
    for key in ("before", "after", "errors"):
        unknown = sorted(set(p[key] or {}) - set(n["xname"] for n in nodes) - set(names))
        if unknown:
            raise ValidationError(["%s names %s, which is not in nodes" % (key, ", ".join(unknown))])
    if module.check_mode:
        return dict(records={}, changed=bool(nodes))
    if not os.path.isdir(ledger.path) or (ledger.lock() or {}).get("run_id") != p["run_id"]:
        raise ValidationError(["run %s does not hold the lock of the ledger %s: begin the run first"
                               % (p["run_id"], ledger.path)])
    written = ledger.record(nodes, p["step"], p["outcome"], p["run_id"], p["operator"],
                            before=p["before"], after=p["after"], errors=p["errors"])
    return dict(records=written, changed=bool(written))


def end(module, ledger, p):
    run = migration.read_json(os.path.join(ledger.path, "runs", p["run_id"] + ".run")) or {
        "run_id": p["run_id"], "operator": p["operator"], "ledger": ledger.path}
    run["finished"] = migration.now()
    report = migration_report.summarize(run, ledger.records())
    result = dict(report=report)
    if module.check_mode:
        return result
    base = os.path.join(ledger.path, "runs", p["run_id"])
    files = {"json": base + ".json", "md": base + ".md", "html": base + ".html"}
    migration.write_json(files["json"], report)
    for kind, render in (("md", migration_report.markdown), ("html", migration_report.html)):
        with open(files[kind], "w") as handle:
            handle.write(render(report))
    ledger.release_lock(p["run_id"])
    result["files"] = files
    return result


def main():
    module = AnsibleModule(argument_spec=dict(
        path=dict(type="path", required=True),
        run_id=dict(type="str", required=True),
        operator=dict(type="str", default="unknown"),
        state=dict(type="str", choices=["begin", "record", "end"], required=True),
        nodes=dict(type="list", elements="raw", default=[]),
        waves=dict(type="list", elements="raw", default=[1, "5%", "25%", "100%"]),
        step=dict(type="str", choices=list(migration.STEPS + migration.ROLLBACK_STEPS)),
        outcome=dict(type="str", choices=list(migration.OUTCOMES), default="running"),
        before=dict(type="dict"),
        after=dict(type="dict"),
        errors=dict(type="dict"),
    ), supports_check_mode=True)
    p = module.params
    ledger = migration.Ledger(p["path"])
    action = {"begin": begin, "record": record, "end": end}[p["state"]]
    try:
        result = action(module, ledger, p)
    except ValidationError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors)
    except migration.LockHeld as exc:
        module.fail_json(msg=str(exc))
    except (OSError, IOError) as exc:
        module.fail_json(msg="ledger %s: %s" % (p["path"], exc))
    result.setdefault("changed", False)
    module.exit_json(run_id=p["run_id"], **result)


if __name__ == "__main__":
    main()
