# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control-plane cost per node of playbooks/migrate_nodes.yml for batches of 10, 100 and 1,000 lab nodes.

What is measured: the wall time of one `ansible-playbook playbooks/migrate_nodes.yml` run that migrates N compute
nodes of the lab's CSM side (`lab up --csm`, reseeded with enough nodes) into the lab's OpenCHAMI (real SMD and BSS) in
ONE batch, divided by N. Everything the role does is in it: resolving and exporting the nodes from CSM, the ledger
(plan, lock, per-node records, report), preflight, release from CSM, import into SMD, boot configuration, cloud-init
group, ownership checks through both APIs. Excluded: the power step (`node_migration_power_state: none`): the lab's CSM
nodes have no emulated BMCs, and a real BMC's boot wait is not control-plane cost.

Peer: the same playbook, the same steps, node by node (`node_migration_waves: [1]`, one node per batch, as a loop
over nodes would do), at 10 nodes (at 1,000 nodes it would take hours).

    .venv/bin/python benchmarks/migration.py --sizes 10 100 1000 [--peer 10] [--sample docs/sample-migration-report.html]

`--sample` instead runs 16 nodes in waves [1, 5, 10] with one node failing its verify step and copies the run's
HTML report to the given file.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lab.services import Lab  # noqa: E402  pylint: disable=wrong-import-position
from lab import csm as labcsm  # noqa: E402  pylint: disable=wrong-import-position


def compute_nodes(size):
    """Reseed the CSM side so that it has at least ``size`` compute nodes; the first ``size`` of them."""
    total = size + size // 4 + 8
    labcsm.CsmSide(Lab()).reset(total)
    layout = [n for n in labcsm.csm_seed.generate(total)["layout"] if n["role"] == "Compute"]
    assert len(layout) >= size, (len(layout), size)
    return [n["xname"] for n in layout[:size]]


def lab_handle():
    """The tests' handle on the running lab (its cleaning, its ansible-playbook runner)."""
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from conftest import LabHandle  # pylint: disable=import-outside-toplevel
    return LabHandle(Lab(), False)


def clean_openchami(handle):
    """Empty OpenCHAMI's SMD and BSS, as the tests do."""
    handle.clean_smd()
    handle.clean_bss()


def run(handle, nodes, waves, workdir, extra=None):
    """One run of the playbook; (seconds, CompletedProcess)."""
    info = handle.info["csm"]
    extravars = {"csm_api_url": info["api_url"], "csm_client_secret_file": info["client_secret_file"],
                 "node_migration_nodes": nodes, "node_migration_waves": waves,
                 "node_migration_boot_template": "compute-23.7", "node_migration_boot_backend": "bss",
                 "node_migration_artifact_rewrite": [{"prefix": "s3://", "replacement": info["s3_url"]}],
                 "node_migration_cloud_init_groups": ["migrated"], "node_migration_power_state": "none",
                 "node_migration_max_fail_percentage": 100,
                 "node_migration_ledger_dir": str(workdir / "ledger"), "node_migration_operator": "benchmark"}
    extravars.update(extra or {})
    started = time.monotonic()
    proc = handle.run_playbook(REPO / "playbooks" / "migrate_nodes.yml", extravars, timeout=7200)
    return time.monotonic() - started, proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--peer", type=int, nargs="*", default=[10])
    parser.add_argument("--sample", type=pathlib.Path)
    args = parser.parse_args()
    lab = Lab()
    handle = lab_handle()
    work = pathlib.Path(tempfile.mkdtemp(prefix="migration-bench-"))
    try:
        if args.sample:
            nodes = compute_nodes(16)
            clean_openchami(handle)
            hook = work / "verify.yml"
            hook.write_text("- name: Verify hook of the sample (one node does not boot)\n"
                            "  ansible.builtin.set_fact:\n"
                            "    node_migration_verify_failures: \"{{ {'%s': 'verify: did not fetch its boot script from "
                            "OpenCHAMI within 600 s'} if '%s' in (node_migration_hook_nodes | map(attribute='xname')) "
                            "else {} }}\"\n" % (nodes[9], nodes[9]))
            (work / "sample").mkdir()
            _seconds, proc = run(handle, nodes, [1, 5, 10], work / "sample", {"node_migration_verify_tasks": str(hook)})
            html = sorted((work / "sample" / "ledger" / "runs").glob("*.html"))[-1]
            shutil.copy(html, args.sample)
            print("sample report: %s (playbook rc %d)" % (args.sample, proc.returncode))
            return
        rows = []
        for size in args.sizes:
            for waves, label in (([size], "one batch"),) + ((([1], "node by node"),) if size in args.peer else ()):
                nodes = compute_nodes(size)
                clean_openchami(handle)
                directory = work / ("%d-%s" % (size, label.replace(" ", "-")))
                directory.mkdir()
                elapsed, proc = run(handle, nodes, waves, directory)
                report = json.loads(sorted((directory / "ledger" / "runs").glob("*.json"))[-1].read_text())
                ok = proc.returncode == 0 and report["counts"]["migrated"] == size
                rows.append((size, label, elapsed, elapsed / size, ok))
                print("%5d nodes, %-12s: %7.1f s, %.3f s per node%s" % (size, label, elapsed, elapsed / size,
                                                                        "" if ok else " (FAILED: %s)" % proc.stdout[-2000:]),
                      flush=True)
        print("\n| nodes | how | total (s) | per node (s) |\n| --- | --- | --- | --- |")
        for size, label, elapsed, per_node, ok in rows:
            print("| %d | %s | %.1f | %.3f%s |" % (size, label, elapsed, per_node, "" if ok else " (failed)"))
    finally:
        labcsm.CsmSide(lab).reset()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
