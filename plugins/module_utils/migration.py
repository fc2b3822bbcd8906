# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rolling migration CSM -> OpenCHAMI (role ``node_migration``): waves, the ledger, its lock, who owns a node.

No AnsibleModule here. The ledger is a directory with one JSON record per node (``nodes/<xname>.json``), a lock
(``lock.json``) and the reports of every run (``runs/<run id>.{json,md,html}``, see ``migration_report``).

A node's record::

    {"xname", "nid", "hostname", "step", "outcome", "run_id", "operator", "started", "updated",
     "history": [{"step", "outcome", "time", "run_id", "error"?}], "before": {...}, "after": {...}, "error"}

``step`` is the last step the node reached (STEPS); ``outcome`` is ``running`` (interrupted if no run holds the
lock), ``migrated``, ``refused`` (its preflight failed: nothing was changed), ``rolled_back`` (back under CSM as
recorded) or ``failed`` (the rollback itself failed, or the node is owned by both systems: look at it by hand).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math
import os
import re
import platform
import tempfile

from ansible_collections.cscs.openchami.plugins.module_utils import xname
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ValidationError

# the steps of one node, in order; a node's record names the last one it completed
STEPS = ("planned", "preflight", "drained", "releasing", "released", "imported", "boot_configured",
         "cloud_init", "power_cycled", "verified", "resumed", "done")
ROLLBACK_STEPS = ("rollback", "rolled_back")
OUTCOMES = ("running", "migrated", "refused", "rolled_back", "failed")
FINAL = ("migrated", "rolled_back")
LOCK = "lock.json"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ------------------------------------------------------------------------------------------------ input
def check_nodes(nodes):
    """The nodes to migrate as dicts {xname, nid, hostname}; ValidationError naming every bad item."""
    out, errors, seen = [], [], set()
    for index, item in enumerate(nodes or []):
        if isinstance(item, str):
            item = {"xname": item}
        if not isinstance(item, dict) or not isinstance(item.get("xname"), str):
            errors.append("node %d: expected an xname or a dict with xname, nid and hostname, got %r" % (index, item))
            continue
        if not xname.is_valid(item["xname"]) or xname.xname_type(item["xname"]) != "Node":
            errors.append("node %d: %r is not a node xname" % (index, item["xname"]))
            continue
        name = xname.normalize(item["xname"])
        if name in seen:
            errors.append("node %s is given twice" % name)
            continue
        nid = item.get("nid")
        if nid is not None and (isinstance(nid, bool) or not re.match(r"^[0-9]+$", str(nid))):
            errors.append("node %s: nid %r is not a number" % (name, nid))
            continue
        seen.add(name)
        out.append({"xname": name, "nid": int(nid) if nid is not None else None,
                    "hostname": item.get("hostname") or ("nid%06d" % int(nid) if nid is not None else name)})
    if errors:
        raise ValidationError(errors)
    return out


def check_waves(sizes):
    """Wave sizes: positive integers or percentages ("5%"); ValidationError naming the bad ones."""
    errors = []
    if not sizes:
        errors.append("waves: give at least one wave size")
    for size in sizes or []:
        text = str(size).strip()
        if isinstance(size, bool) or not re.match(r"^([1-9][0-9]*|([1-9][0-9]?|100)%)$", text):
            errors.append("waves: %r is neither a positive number of nodes nor a percentage from 1%% to 100%%" % (size,))
    if errors:
        raise ValidationError(errors)
    return [str(s).strip() for s in sizes]


def wave_sizes(total, sizes):
    """Batch sizes for ``total`` nodes: each entry is a batch (a number of nodes or a percentage of ``total``,
    rounded up); the last entry repeats until every node has a batch, and no batch exceeds what is left."""
    out, left, index = [], total, 0
    sizes = check_waves(sizes)
    while left > 0:
        text = sizes[min(index, len(sizes) - 1)]
        size = int(math.ceil(total * int(text[:-1]) / 100.0)) if text.endswith("%") else int(text)
        size = max(1, min(size, left))
        out.append(size)
        left -= size
        index += 1
    return out


def plan_run(nodes, records, sizes):
    """Which nodes this run works on, in which waves.

    Nodes whose record says ``migrated`` are skipped; interrupted nodes (``running``) come first and resume after
    their last migration step (a rollback that could not finish, a service being down, resumes the migration);
    nodes ``refused``, ``rolled_back`` or ``failed`` before are left alone (their record says why: take them out of
    the ledger to try again). Returns {waves: [[node+resume_after]], skipped: {xname: outcome}}.
    """
    todo, skipped = [], {}
    resuming = []
    for node in nodes:
        record = records.get(node["xname"])
        if record is None:
            todo.append(dict(node, resume_after=None))
        elif record.get("outcome") == "running":
            resuming.append(dict(node, resume_after=last_step(record)))
        else:
            skipped[node["xname"]] = record.get("outcome")
    work = resuming + todo
    waves, start = [], 0
    for size in (wave_sizes(len(work), sizes) if work else []):
        waves.append(work[start:start + size])
        start += size
    return {"waves": waves, "skipped": skipped}


def last_step(record):
    """The last migration step (STEPS) a node completed: an interrupted rollback resumes the migration from there."""
    steps = [h.get("step") for h in record.get("history") or [] if h.get("step") in STEPS]
    if record.get("step") in STEPS:
        return record["step"]
    return steps[-1] if steps else None


def reached(step, wanted):
    """Whether a node at ``step`` has already completed ``wanted``."""
    return step in STEPS and STEPS.index(step) >= STEPS.index(wanted)


# ------------------------------------------------------------------------------------------------ ownership
def owner(csm, openchami):
    """Who owns a node: ``csm``, ``openchami``, ``none`` or ``both``.

    ``csm`` {bos_enabled, macs}: owned when enabled in BOS or any of its MACs is in HSM.
    ``openchami`` {boot_config, macs}: owned when it has a boot configuration or any of its MACs is in SMD.
    A node half in a system counts as in it: "exactly one" must hold for every lever.
    """
    in_csm = bool(csm.get("bos_enabled")) or bool(csm.get("macs"))
    in_openchami = bool(openchami.get("boot_config")) or bool(openchami.get("macs"))
    if in_csm and in_openchami:
        return "both"
    return "csm" if in_csm else ("openchami" if in_openchami else "none")


# ------------------------------------------------------------------------------------------------ lock
def _proc_start(pid):
    """The kernel's start time of ``pid`` (Linux), None where it cannot be read."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        return None


def controller_process(pid=None):
    """(pid, start time) of the ansible-playbook (or ansible-runner) process this module runs under, else of the
    module's parent: the process whose end makes the lock stale."""
    pid = pid or os.getpid()
    found = None
    for _level in range(64):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
            with open("/proc/%d/stat" % pid) as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if any(os.path.basename(a.decode("utf-8", "replace")).startswith(("ansible-playbook", "ansible-runner"))
               for a in argv[:3]):
            found = pid
            break
        if parent <= 1:
            break
        pid = parent
    if found is None:
        found = os.getppid()
    return found, _proc_start(found)


def _alive(lock):
    if lock.get("host") != platform.node():
        return True  # another machine's run: cannot be checked from here
    pid = lock.get("pid")
    if not isinstance(pid, int):
        return False
    start = _proc_start(pid)
    return start is not None and (lock.get("pid_start") in (None, start))


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_json(path, data):
    """Write atomically (a temporary file in the same directory, then rename)."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.write("\n")
        os.chmod(tmp, 0o640)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class LockHeld(Exception):
    pass


class Ledger:
    """The ledger directory: records, lock and run reports."""

    def __init__(self, path):
        self.path = os.path.abspath(path)

    def node_path(self, name):
        return os.path.join(self.path, "nodes", name + ".json")

    def ensure(self):
        for sub in ("", "nodes", "runs"):
            directory = os.path.join(self.path, sub)
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o750)

    def records(self, names=None):
        """xname -> record, for ``names`` (default: every node in the ledger)."""
        directory = os.path.join(self.path, "nodes")
        if names is None:
            names = sorted(f[:-5] for f in os.listdir(directory) if f.endswith(".json")) if os.path.isdir(directory) else []
        out = {}
        for name in names:
            record = read_json(self.node_path(name))
            if record is not None:
                out[name] = record
        return out

    # -------------------------------------------------------------------------------- lock
    def lock(self):
        return read_json(os.path.join(self.path, LOCK))

    def check_lock(self, run_id):
        """Raise LockHeld when another run holds the lock and is alive; returns the lock (or None)."""
        lock = self.lock()
        if lock and lock.get("run_id") != run_id and _alive(lock):
            raise LockHeld("the ledger %s is locked by run %s (operator %s, pid %s on %s, since %s); two runs on the "
                           "same ledger at once are refused. If that run is gone, remove %s"
                           % (self.path, lock.get("run_id"), lock.get("operator"), lock.get("pid"), lock.get("host"),
                              lock.get("started"), os.path.join(self.path, LOCK)))
        return lock

    def take_lock(self, run_id, operator, process=None):
        """Take the lock for ``run_id`` (again, if it holds it already); a stale lock (its process gone) is taken
        over and returned as the second value."""
        self.ensure()
        path = os.path.join(self.path, LOCK)
        stale = self.check_lock(run_id)
        pid, start = process or controller_process()
        mine = {"run_id": run_id, "operator": operator, "host": platform.node(), "pid": pid, "pid_start": start,
                "started": now()}
        if stale and stale.get("run_id") == run_id:
            return stale, None
        if stale:
            os.unlink(path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        except OSError:
            raise LockHeld("the ledger %s was locked by another run a moment ago; try again" % self.path)
        with os.fdopen(fd, "w") as handle:
            json.dump(mine, handle, sort_keys=True)
        return mine, stale

    def release_lock(self, run_id):
        lock = self.lock()
        if lock and lock.get("run_id") == run_id:
            os.unlink(os.path.join(self.path, LOCK))
            return True
        return False

    # -------------------------------------------------------------------------------- records
    def record(self, nodes, step, outcome, run_id, operator, before=None, after=None, errors=None, extra=None):
        """Record that ``nodes`` (dicts with xname, or xnames) reached ``step``; ``before``/``after``/``errors``/
        ``extra`` are per-xname dicts merged into the records. Returns the records written."""
        self.ensure()
        written = {}
        stamp = now()
        for node in nodes:
            node = node if isinstance(node, dict) else {"xname": node}
            name = node["xname"]
            record = read_json(self.node_path(name)) or {
                "xname": name, "nid": node.get("nid"), "hostname": node.get("hostname"), "started": stamp,
                "history": [], "before": {}, "after": {}, "error": None}
            for key in ("nid", "hostname"):
                if node.get(key) is not None:
                    record[key] = node[key]
            record.update(step=step, outcome=outcome, run_id=run_id, operator=operator, updated=stamp)
            if record.get("started") is None or (outcome == "running" and step == "planned"):
                record["started"] = stamp
            entry = {"step": step, "outcome": outcome, "time": stamp, "run_id": run_id}
            error = (errors or {}).get(name)
            if error:
                entry["error"] = record["error"] = error
            record["history"].append(entry)
            for key, values in (("before", before), ("after", after)):
                if values and values.get(name) is not None:
                    record[key].update(values[name])
            for key, value in ((extra or {}).get(name) or {}).items():
                record[key] = value
            write_json(self.node_path(name), record)
            written[name] = record
        return written


# ------------------------------------------------------------------------------------------------ role input
def slices(export):
    """xname -> what a ``csm_export`` result holds of the node (recorded before release, so that an interrupted run
    imports the node from its record once HSM no longer has its MACs): its component and its BMC's, the
    interfaces of both, the groups and partitions it is in, and its boot configuration (or None)."""
    out = {}
    components = dict((c["ID"], c) for c in export.get("components") or [])
    for node in export.get("nodes") or []:
        name, bmc = node["xname"], node.get("bmc")
        out[name] = {
            "components": [components[i] for i in (name, bmc) if i in components],
            "interfaces": [i for i in export.get("interfaces") or [] if i.get("component_id") in (name, bmc)],
            "groups": [dict(g, members=[name]) for g in export.get("groups") or [] if name in g["members"]],
            "partitions": [dict(p, members=[name]) for p in export.get("partitions") or [] if name in p["members"]],
            "boot": next(({"kernel": b["kernel"], "initrd": b.get("initrd") or "", "params": b.get("params") or ""}
                          for b in export.get("boot_configs") or [] if name in b["nodes"]), None),
        }
    return out


def batch_input(records, names, boot=None):
    """The input of the batch's bulk writes, from the nodes' recorded slices: {components, interfaces, groups,
    partitions, boot_configs (one per distinct kernel/initrd/params, with its nodes)}. ``boot`` overrides the
    translated boot configuration of every node."""
    components, interfaces, groups, partitions, boots = {}, {}, {}, {}, {}
    for name in names:
        piece = (records[name].get("before") or {}).get("export") or {}
        for comp in piece.get("components") or []:
            components[comp["ID"]] = comp
        for item in piece.get("interfaces") or []:
            interfaces[item["mac"]] = item
        for key, out in (("groups", groups), ("partitions", partitions)):
            for entry in piece.get(key) or []:
                ident = entry.get("label") or entry.get("name")
                out.setdefault(ident, dict(entry, members=[]))["members"].append(name)
        config = boot or piece.get("boot")
        if config:
            key = (config["kernel"], config.get("initrd") or "", config.get("params") or "")
            boots.setdefault(key, []).append(name)
    return {"components": [components[k] for k in sorted(components)],
            "interfaces": [interfaces[k] for k in sorted(interfaces)],
            "groups": [groups[k] for k in sorted(groups)], "partitions": [partitions[k] for k in sorted(partitions)],
            "boot_configs": [{"nodes": sorted(v), "kernel": k[0], "initrd": k[1], "params": k[2]}
                             for k, v in sorted(boots.items())]}


def preflight(names, node_slices, ownership, locks, boot=None):
    """xname -> why the node cannot be migrated (absent when it can): unknown to CSM, locked or reserved in HSM,
    no MAC known, already (partly) owned by OpenCHAMI, no boot configuration."""
    owners = dict((n["xname"], n) for n in ownership or [])
    lock_of = dict((item["ID"], item) for item in locks or [])
    out = {}
    for name in names:
        why = []
        piece = node_slices.get(name)
        if piece is None:
            why.append("not exported from CSM (unknown to HSM or SLS, or a problem csm_export names)")
        else:
            if not [i for i in piece["interfaces"] if i.get("component_id") == name]:
                why.append("no MAC address known in CSM's HSM")
            if not (boot or piece.get("boot")):
                why.append("no boot configuration: not in the BOS template's boot sets and no image given")
        lock = lock_of.get(name) or {}
        if lock.get("Locked") or lock.get("Reserved"):
            why.append("locked or reserved in CSM's HSM by someone else")
        who = (owners.get(name) or {}).get("owner")
        if who in ("openchami", "both"):
            why.append("already owned by OpenCHAMI (boot configuration or MACs in SMD)")
        if why:
            out[name] = "preflight: " + "; ".join(why)
    return out


SIDES = {"openchami": "OpenCHAMI's", "csm": "CSM's"}


def boot_failures(ownership, baselines, side, timeout, pending=False):
    """xname -> why the node did not boot from ``side`` (``openchami`` or ``csm``) after its power cycle.

    ``ownership`` is ``node_ownership_info``'s ``nodes`` read with ``boot_history``; ``baselines`` maps an xname to
    the same node's ``{csm, openchami}`` ``last_boot`` read before the power cycle (missing: 0). A node booted from a
    side when that side's BSS served it a boot script after its baseline; booting from the other side is a failure.
    With ``pending`` only the nodes that fetched nothing yet are returned (what a wait loop waits for).
    """
    other = "csm" if side == "openchami" else "openchami"
    out = {}
    for node in ownership or []:
        name = node["xname"]
        base = (baselines or {}).get(name) or {}
        now = dict((s, int((node.get(s) or {}).get("last_boot") or 0)) for s in (side, other))
        if now[side] > int(base.get(side) or 0):
            continue
        if now[other] > int(base.get(other) or 0):
            if not pending:
                out[name] = "booted from %s BSS after the power cycle, not from %s" % (SIDES[other], SIDES[side])
        else:
            out[name] = "did not fetch its boot script from %s BSS within %s s of the power cycle" % (SIDES[side],
                                                                                                      timeout)
    return out


def health_failures(result, names):
    """xname -> why the health command failed the node, from the ``ansible.builtin.command`` result that ran it.

    The command's contract (role node_migration's README): exit 0 and print a JSON object naming the unhealthy nodes
    (xname -> reason; nothing or ``{}`` when all are healthy). Any other exit status, or output that is not such an
    object, fails every node of the batch, naming the cause.
    """
    if not result or result.get("skipped"):
        return {}
    rc, out = result.get("rc"), (result.get("stdout") or "").strip()
    err = (result.get("stderr") or result.get("msg") or "").strip().splitlines()
    if rc != 0:
        why = "health: the command exited %s%s" % (rc, ": " + err[-1] if err else "")
        return dict((n, why) for n in names)
    try:
        found = json.loads(out) if out else {}
    except ValueError:
        found = None
    if not isinstance(found, dict):
        why = "health: the command's output is not a JSON object (xname -> reason): %s" % out[:200]
        return dict((n, why) for n in names)
    wanted = set(names)
    return dict((xname.normalize(k), "health: %s" % (v,)) for k, v in found.items()
                if xname.is_valid(k) and xname.normalize(k) in wanted)


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
