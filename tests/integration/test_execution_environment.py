# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX execution environment: `ansible-builder create` on extensions/awx/execution-environment.yml, then the
build's own introspection step on the collection as ansible-galaxy installs it from its artifact.

No container engine runs here, so the image itself is not built: the context ansible-builder writes is checked,
and its introspect script (what the image's builder stage runs) is run on the installed collection. Its output
must hold every requirement of requirements.txt and bindep.txt, which reach it through meta/execution-environment.yml.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent


def run(*cmd, cwd=None, env=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, env=env, check=False)
    assert result.returncode == 0, f"{' '.join(str(c) for c in cmd)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def requirement_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().startswith(("#", "-r"))]


def test_the_image_gets_the_collection_with_its_python_and_system_requirements(tmp_path):
    context = tmp_path / "context"
    run(BIN_DIR / "ansible-builder", "create", "-f", REPO_ROOT / "extensions" / "awx" / "execution-environment.yml",
        "--context", context, "--output-filename", "Containerfile")
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert [c["name"] for c in galaxy["collections"]] == ["cscs.openchami"]
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-galaxy collection install" in containerfile and "introspect.py introspect" in containerfile

    # the artifact users install (a copy of the tracked files, as a clean checkout has them), then the image's
    # galaxy stage (install) and builder stage (introspect) on it
    source = tmp_path / "source"
    files = run("git", "ls-files", "-co", "--exclude-standard", cwd=REPO_ROOT).split("\n")
    for name in filter(None, files):
        if (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((REPO_ROOT / name).read_bytes())
    galaxy_env = dict(os.environ, ANSIBLE_GALAXY_CACHE_DIR=str(tmp_path / "galaxy-cache"),
                      ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    run(BIN_DIR / "ansible-galaxy", "collection", "build", source, "--output-path", tmp_path, env=galaxy_env)
    (artifact,) = tmp_path.glob("cscs-openchami-*.tar.gz")
    installed = tmp_path / "collections"
    run(BIN_DIR / "ansible-galaxy", "collection", "install", "--offline", artifact, "-p", installed, env=galaxy_env)
    pip, bindep = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run(sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect", installed,
        "--write-pip", pip, "--write-bindep", bindep)
    # PyYAML is left out on purpose: the builder counts on the one ansible-core brings (its EXCLUDE_REQUIREMENTS)
    builder = runpy.run_path(str(context / "_build" / "scripts" / "introspect.py"))
    wanted_pip = [line for line in requirement_lines(REPO_ROOT / "requirements.txt")
                  if re.split(r"[<>=!~;\[ ]", line)[0].lower() not in builder["EXCLUDE_REQUIREMENTS"]]
    wanted_bindep = requirement_lines(REPO_ROOT / "bindep.txt")
    assert wanted_pip and wanted_bindep
    got_pip = [line.split("#")[0].strip() for line in requirement_lines(pip)]
    got_bindep = [line.split("#")[0].strip() for line in requirement_lines(bindep)]
    assert sorted(got_pip) == sorted(wanted_pip), pip.read_text(encoding="utf-8")
    assert sorted(got_bindep) == sorted(wanted_bindep), bindep.read_text(encoding="utf-8")
