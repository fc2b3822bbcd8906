# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""molecule, in collection mode: every scenario of extensions/molecule/ against the lab, the controller as the host.

Each scenario runs its test sequence (cleanup, prepare, converge, idempotence, verify, cleanup); molecule fails
a scenario whose second converge changes anything or whose verify fails. Every role must have a scenario.
The scenarios run at the same time, so a scenario touches only objects of its own (a node, a group, an image name).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lab import build as labbuild

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
SCENARIOS = REPO_ROOT / "extensions" / "molecule"


def scenarios() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "molecule.yml").is_file())


# Roles without a molecule scenario yet, each with the test that runs it end to end instead (none today). A new
# role not named here fails this test until it has a scenario.
NO_SCENARIO_YET: dict[str, str] = {}


def test_every_role_has_a_scenario_with_converge_idempotence_and_verify():
    roles = sorted(p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    missing = set(roles) - set(scenarios()) - set(NO_SCENARIO_YET)
    assert roles and not missing, "roles without a molecule scenario: %s" % missing
    assert set(NO_SCENARIO_YET) <= set(roles) - set(scenarios()), "a role named in NO_SCENARIO_YET has one now"
    for name in scenarios():
        assert {"converge", "idempotence", "verify"} <= set(sequence(name)), name


def sequence(name: str) -> list[str]:
    return yaml.safe_load((SCENARIOS / name / "molecule.yml").read_text(encoding="utf-8"))["scenario"]["test_sequence"]


@pytest.fixture(scope="module")
def started(lab, tmp_path_factory):
    """Every scenario, all started at once: {name: (process, output file)}. They touch disjoint things (each its own
    nodes, groups, image name or scratch root), and cloud_init_rollout spends most of its time waiting for the
    cloud-init server's membership refresh (once a minute) while the others build: together they take about as long
    as the longest one."""
    runs = {}
    for name in scenarios():
        home = tmp_path_factory.mktemp("molecule-" + name)
        env = lab.ansible_env()
        # molecule's own state (and anything it writes under ~) stays in this scenario's directory; image_build's
        # downloads go to the lab's cache (LAB_CACHE), which test_image.py shares
        env.update({"HOME": str(home), "NO_COLOR": "1", "LAB_INVENTORY_DIR": str(lab.inventory_file().parent),
                    "LAB_CACHE": str(labbuild.cache_root())})
        output = home / "molecule-output.txt"
        with open(output, "w", encoding="utf-8") as handle:
            runs[name] = (subprocess.Popen([str(BIN_DIR / "molecule"), "test", "--scenario-name", name], cwd=REPO_ROOT,
                                           env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True),
                          output)
    yield runs
    for process, _output in runs.values():  # a run left over when a test stopped early (-x): it and its playbooks
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("name", scenarios())
def test_scenario_passes_against_the_lab(started, name):
    """Each scenario found under extensions/molecule/ (a new role's is picked up without editing this file)."""
    process, path = started[name]
    returncode = process.wait()
    output = re.sub(r"\x1b\[[0-9;]*m", "", path.read_text(encoding="utf-8"))
    assert returncode == 0, output[-6000:]
    for step in sequence(name):
        assert re.search(r"%s\s+\S+\s+%s: Executed: Successful" % (re.escape(name), step), output), (step, output[-3000:])
