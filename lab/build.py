# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the OpenCHAMI programs pinned in ``lab/versions.yml`` from the Go module proxy.

``python -m lab.build [NAME ...] [--force]`` (default: every buildable entry).

Recipe (``go install MOD@VER`` does not work here: the proxy answers 403 for every
``@v/list`` and for many versions):

1. ``go mod download -json MOD@VER`` -> the module's directory and ``go.sum``;
2. a throw-away main module ``require``-ing ``MOD VER`` plus the entry's ``replace`` lines,
   its ``go.sum`` seeded with the module's own (the checksum database has no record of some
   modules, so their hashes must come from there);
3. ``GOFLAGS=-mod=mod go build -ldflags "-X <version_var>=VER" -o BIN MOD/<package>``.

Binaries land in ``$LAB_CACHE/bin/<entry>-<version>/`` (default cache
``~/.cache/cscs-openchami-lab``) next to a ``.build.json`` stamp; an entry is rebuilt only when
its stamp (the entry's settings and the Go version) changes. Builds run two at a time and are
serialised per entry with a lock file, so concurrent callers share one build.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lab.runtime import LabError, say

LAB_DIR = Path(__file__).resolve().parent
VERSIONS_FILE = LAB_DIR / "versions.yml"
PARALLEL_BUILDS = 2
PROGRESS_SECONDS = 15.0  # a line about every running build at least this often ($LAB_PROGRESS_SECONDS)


class BuildError(LabError):
    """A build failed or is impossible (message says why, with the end of the build log)."""


@dataclass
class Entry:
    """One module of versions.yml."""

    name: str
    module: str
    version: str
    binaries: dict
    kind: str = "service"
    cgo: bool = False
    replace: dict = field(default_factory=dict)
    buildable: bool = True

    @property
    def dir_name(self) -> str:
        """``<entry>-<version>``: the cache directory name."""
        return f"{self.name}-{self.version}"


def cache_root() -> Path:
    """``$LAB_CACHE`` or ``~/.cache/cscs-openchami-lab``."""
    return Path(os.environ.get("LAB_CACHE") or Path.home() / ".cache" / "cscs-openchami-lab")


def load_versions(path: Path = VERSIONS_FILE) -> tuple[dict[str, Entry], dict[str, str]]:
    """(buildable entries by name, unavailable name -> reason) from versions.yml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = {}
    for name, spec in (data.get("services") or {}).items():
        entries[name] = Entry(
            name=name,
            module=spec["module"],
            version=spec["version"],
            binaries=dict(spec["binaries"]),
            kind=spec.get("kind", "service"),
            cgo=bool(spec.get("cgo", False)),
            replace=dict(spec.get("replace") or {}),
            buildable=spec.get("buildable", True) is not False,
        )
    return entries, dict(data.get("unavailable") or {})


def bin_dir(entry: Entry) -> Path:
    """Where the entry's binaries go."""
    return cache_root() / "bin" / entry.dir_name


def binary(entry: Entry, name: str | None = None) -> Path:
    """Path of one of the entry's binaries (the first one by default)."""
    return bin_dir(entry) / (name or next(iter(entry.binaries)))


def _go_env() -> dict:
    env = dict(os.environ)
    flags = env.get("GOFLAGS", "").split()
    flags = [flag for flag in flags if not flag.startswith("-mod=")] + ["-mod=mod"]
    env["GOFLAGS"] = " ".join(flags)
    env.setdefault("GOTOOLCHAIN", "local")
    return env


@functools.lru_cache(maxsize=None)
def go_version() -> str:
    """``go env GOVERSION`` (part of the build stamp)."""
    try:
        out = subprocess.run(["go", "env", "GOVERSION"], check=True, capture_output=True, text=True, timeout=60)
    except FileNotFoundError as exc:
        raise BuildError("the Go toolchain (`go`) is not on PATH") from exc
    return out.stdout.strip()


def stamp_of(entry: Entry, gover: str) -> dict:
    """What a build depends on; a different stamp means rebuild."""
    replace = {}
    for old, new in sorted(entry.replace.items()):
        if new.startswith("."):
            # a local stand-in: its content is part of the stamp
            digest = hashlib.sha256()
            root = (LAB_DIR / new).resolve()
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
            new = f"{new}#{digest.hexdigest()[:16]}"
        replace[old] = new
    return {
        "module": entry.module,
        "version": entry.version,
        "binaries": entry.binaries,
        "cgo": entry.cgo,
        "replace": replace,
        "go": gover,
    }


def is_built(entry: Entry, gover: str | None = None) -> bool:
    """True if every binary of ``entry`` exists and its stamp is current."""
    out = bin_dir(entry)
    try:
        stamp = json.loads((out / ".build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not all((out / name).is_file() for name in entry.binaries):
        return False
    return stamp.get("stamp") == stamp_of(entry, gover or go_version())


def _run(cmd: list[str], log, cwd: Path | None = None, env: dict | None = None, stdout=None) -> None:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    result = subprocess.run(cmd, cwd=cwd, env=env or _go_env(), stdout=stdout or log, stderr=log, check=False)
    if result.returncode:
        raise BuildError(f"`{' '.join(cmd)}` failed with exit code {result.returncode}")


def _module_dir(entry: Entry, log) -> Path:
    """``go mod download -json MOD@VER`` -> the module's read-only directory."""
    cmd = ["go", "mod", "download", "-json", f"{entry.module}@{entry.version}"]
    log.write(f"$ {' '.join(cmd)}\n")
    result = subprocess.run(cmd, env=_go_env(), capture_output=True, text=True, check=False)
    log.write(result.stdout + result.stderr)
    try:
        info = json.loads(result.stdout)
    except ValueError:
        info = {}
    if info.get("Error") or result.returncode or not info.get("Dir"):
        raise BuildError(f"cannot download {entry.module}@{entry.version}: "
                         f"{info.get('Error') or result.stderr.strip() or 'no Dir in go mod download output'}")
    return Path(info["Dir"])


def _go_directive(go_mod: Path) -> str:
    for line in go_mod.read_text(encoding="utf-8").splitlines():
        if line.startswith("go "):
            return line.split()[1]
    return "1.22"


def _replace_line(old: str, new: str) -> str:
    old_mod, _sep, old_ver = old.partition("@")
    left = f"{old_mod} {old_ver}".strip()
    if new.startswith("."):
        return f"replace {left} => {(LAB_DIR / new).resolve()}"
    new_mod, _sep, new_ver = new.partition("@")
    return f"replace {left} => {new_mod} {new_ver}".rstrip()


def build(entry: Entry, force: bool = False, doing=None) -> Path:
    """Build ``entry`` unless it is current; returns its binary directory.

    ``doing(text)`` is told what the build is busy with (waiting for another build, each command).
    """
    doing = doing or (lambda text: None)
    gover = go_version()
    root = cache_root()
    (root / "locks").mkdir(parents=True, exist_ok=True)
    with open(root / "locks" / f"{entry.dir_name}.lock", "w", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            doing(f"waiting for another build of {entry.name} {entry.version} (lock {lock.name})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and is_built(entry, gover):
            return bin_dir(entry)
        if not entry.buildable:
            raise BuildError(f"{entry.name}: the Go module proxy does not serve {entry.module}, so it cannot be built here")
        (root / "logs").mkdir(parents=True, exist_ok=True)
        log_path = root / "logs" / f"{entry.dir_name}.log"
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                _build(entry, gover, root, _Reporting(log, doing))
            except BuildError as exc:
                log.flush()
                tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                raise BuildError(f"{entry.name} {entry.version}: {exc}\n  log {log_path}:\n    " + "\n    ".join(tail)) from None
        return bin_dir(entry)


class _Reporting:
    """A build log that also tells ``doing`` about every command written to it."""

    def __init__(self, log, doing):
        self.log = log
        self.doing = doing

    def write(self, text: str) -> None:
        """Write to the log; a command line (``$ ...``) is also what the build is doing now."""
        if text.startswith("$ "):
            self.doing(text[2:].strip()[:160])
        self.log.write(text)

    def flush(self) -> None:
        """Flush the log."""
        self.log.flush()

    def fileno(self) -> int:
        """The log's descriptor (subprocesses write to it directly)."""
        return self.log.fileno()


def _build(entry: Entry, gover: str, root: Path, log) -> None:
    work = root / "work" / entry.dir_name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    replaces = [_replace_line(old, new) for old, new in entry.replace.items()]
    src = _module_dir(entry, log)
    build_dir = work
    (work / "go.mod").write_text(
        f"module lab.local/build/{entry.name}\n\ngo {_go_directive(src / 'go.mod')}\n\n"
        f"require {entry.module} {entry.version}\n\n" + "\n".join(replaces) + "\n", encoding="utf-8")
    if (src / "go.sum").is_file():
        shutil.copyfile(src / "go.sum", work / "go.sum")
        os.chmod(work / "go.sum", 0o644)
    env = _go_env()
    env["CGO_ENABLED"] = "1" if entry.cgo else "0"
    out = bin_dir(entry)
    out.mkdir(parents=True, exist_ok=True)
    (out / ".build.json").unlink(missing_ok=True)
    for name, spec in entry.binaries.items():
        package = spec.get("package", ".").strip("/")
        target = entry.module if package in ("", ".") else f"{entry.module}/{package}"
        ldflags = "-s -w"
        if spec.get("version_var"):
            ldflags += f" -X {spec['version_var']}={entry.version}"
        tmp = out / f".{name}.tmp"
        _run(["go", "build", "-ldflags", ldflags, "-o", str(tmp), target], log, cwd=build_dir, env=env)
        os.replace(tmp, out / name)
    stamp = {"stamp": stamp_of(entry, gover), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (out / ".build.json").write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)


def build_many(entries: list[Entry], force: bool = False, log_to=say) -> dict[str, Path | BuildError]:
    """Build ``entries`` two at a time; returns name -> binary dir or the BuildError.

    ``log_to`` gets a line when a build starts and ends, and while builds run, one line per running
    build at least every ``$LAB_PROGRESS_SECONDS`` (default 15) seconds: how long, and what it does.
    """
    results: dict[str, Path | BuildError] = {}
    activity: dict[str, list] = {}  # name -> [start (monotonic), what it does now]
    interval = float(os.environ.get("LAB_PROGRESS_SECONDS") or PROGRESS_SECONDS)
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL_BUILDS) as pool:
        futures = {}
        for entry in entries:
            futures[pool.submit(_timed_build, entry, force, log_to, activity)] = entry
        waiting = set(futures)
        while waiting:
            done, waiting = concurrent.futures.wait(waiting, timeout=interval,
                                                    return_when=concurrent.futures.FIRST_COMPLETED)
            if not done and log_to:
                for name, (start, what) in sorted(activity.items()):
                    log_to(f"building {name}: {time.monotonic() - start:.0f}s, {what}")
            for future in done:
                entry = futures[future]
                try:
                    results[entry.name] = future.result()
                except BuildError as exc:
                    results[entry.name] = exc
    return results


def _timed_build(entry: Entry, force: bool, log_to, activity: dict) -> Path:
    start = time.monotonic()
    already = not force and is_built(entry)
    if already:
        return build(entry, force)
    if log_to:
        log_to(f"building {entry.name} {entry.version} ({entry.module}) ...")
    activity[entry.name] = [start, "starting"]

    def doing(text: str) -> None:
        activity[entry.name][1] = text
    try:
        path = build(entry, force, doing)
    finally:
        del activity[entry.name]
    if log_to:
        log_to(f"built {entry.name} {entry.version} in {time.monotonic() - start:.1f}s")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m lab.build``."""
    parser = argparse.ArgumentParser(prog="python -m lab.build", description="Build the programs pinned in lab/versions.yml.")
    parser.add_argument("names", nargs="*", help="entries to build (default: all that can be built)")
    parser.add_argument("--force", action="store_true", help="rebuild even if current")
    parser.add_argument("--list", action="store_true", help="show entries and whether they are built")
    args = parser.parse_args(argv)
    entries, unavailable = load_versions()
    if args.list:
        gover = go_version()
        for entry in entries.values():
            if is_built(entry, gover):
                state = "built"
            elif not entry.buildable:
                state = "not buildable"
            else:
                state = "not built"
            print(f"{entry.name:15} {entry.version:10} {state:14} {entry.module}")
        for name, reason in unavailable.items():
            print(f"{name:15} {'-':10} {'unavailable':14} {reason}")
        return 0
    unknown = [name for name in args.names if name not in entries]
    if unknown:
        parser.error(f"unknown entries {unknown}; known: {sorted(entries)}")
    wanted = [entries[name] for name in args.names] if args.names else \
        [entry for entry in entries.values() if entry.buildable]
    results = build_many(wanted, args.force)
    failed = {name: res for name, res in results.items() if isinstance(res, BuildError)}
    for name, res in results.items():
        if not isinstance(res, BuildError):
            print(f"ok      {name}: {res}")
    for name, err in failed.items():
        print(f"FAILED  {name}: {err}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
