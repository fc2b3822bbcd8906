# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes of the lab: where their files live, how they are started, checked and stopped.

Every process the lab starts gets ``<state>/run/<name>.json`` (pid, argv, the kernel's start
time of the pid) and ``<state>/logs/<name>.log``. A process is only ever signalled after
checking that the pid still is the process that was started (same start time and same
executable), so a recycled pid is never killed. Nothing is killed by name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent


class LabError(RuntimeError):
    """Something the user has to fix (message says what)."""


class EarlyExit(LabError):
    """A process ended before it was ready; ``status`` says how (exit code or signal), when known."""

    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.status = status


# Popen objects of the processes started by this Python process, by pid: their exit status can be read.
_CHILDREN: dict[int, subprocess.Popen] = {}


def loopback(third: int, fourth: int) -> str:
    """A loopback address ``<LAB_NET>.third.fourth`` (``LAB_NET`` defaults to ``127.0``).

    The emulated BMCs listen on port 443 of their own addresses; a second lab (another checkout,
    a helper) sets ``LAB_NET=127.1`` (and its own ``LAB_PORT_*``) so that both can run at once.
    """
    return f"{os.environ.get('LAB_NET') or '127.0'}.{third}.{fourth}"


def mockups_root() -> Path:
    """The shared Redfish mockups: ``$LAB_MOCKUPS``, else ``../shared/redfish-mockups`` beside the repository."""
    root = Path(os.environ.get("LAB_MOCKUPS") or REPO_ROOT.parent / "shared" / "redfish-mockups")
    if not root.is_dir():
        raise LabError(f"the Redfish mockups are not at {root}: set LAB_MOCKUPS to a copy of shared/redfish-mockups "
                       "(the DMTF and HPE CSM RIE trees that come with the project's shared/ directory)")
    return root


def state_dir() -> Path:
    """``$LAB_STATE`` or ``<repo>/lab-state``."""
    path = Path(os.environ.get("LAB_STATE") or REPO_ROOT / "lab-state").resolve()
    return path


def ensure_state(path: Path) -> Path:
    """Create the state directory (ignored by git) and its run/ and logs/ subdirectories."""
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# written by lab: nothing in here belongs in git\n*\n", encoding="utf-8")
    (path / "run").mkdir(exist_ok=True)
    (path / "logs").mkdir(exist_ok=True)
    return path


@contextlib.contextmanager
def locked(state: Path):
    """Serialise `up`/`down` of one lab (several pytest workers may call them at once)."""
    with open(state / "lab.lock", "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pid_file(state: Path, name: str) -> Path:
    """The record of process ``name``."""
    return state / "run" / f"{name}.json"


def log_file(state: Path, name: str) -> Path:
    """The log of process ``name``."""
    return state / "logs" / f"{name}.log"


def _proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot), None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":  # a zombie is as good as gone
        return None
    return int(fields[19])


def _proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def read_record(state: Path, name: str) -> dict | None:
    """The pid record of ``name``, or None."""
    try:
        return json.loads(pid_file(state, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_alive(record: dict | None) -> bool:
    """True if the recorded process is still the one that was started."""
    if not record:
        return False
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 1:
        return False
    if _proc_start_time(pid) != record.get("start_time"):
        return False
    cmdline = _proc_cmdline(pid)
    return bool(cmdline) and cmdline[0] == record["argv"][0]


def is_running(state: Path, name: str) -> bool:
    """True if the lab's process ``name`` is alive."""
    return record_alive(read_record(state, name))


def start(state: Path, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None,
          meta: dict | None = None) -> dict:
    """Start ``argv`` detached from this process (own session), output to its log; record it."""
    log = log_file(state, name)
    if cwd:
        Path(cwd).mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as handle:
        handle.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} lab starts: {' '.join(argv)}\n".encode())
        handle.flush()
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True)
    _CHILDREN[proc.pid] = proc
    start_time = None
    for _dummy in range(50):
        start_time = _proc_start_time(proc.pid)
        if start_time is not None or proc.poll() is not None:
            break
        time.sleep(0.01)
    record = {"name": name, "pid": proc.pid, "argv": argv, "start_time": start_time, "cwd": str(cwd or ""),
              "started": time.time(), "log": str(log)}
    record.update(meta or {})
    tmp = pid_file(state, name).with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, pid_file(state, name))
    return record


def stop(state: Path, name: str, timeout: float = 10.0) -> str:
    """Stop the lab's process ``name`` (TERM, then KILL after ``timeout``); returns what happened."""
    record = read_record(state, name)
    path = pid_file(state, name)
    if not record:
        path.unlink(missing_ok=True)
        return "not running"
    if not record_alive(record):
        path.unlink(missing_ok=True)
        return "was not running"
    pid = record["pid"]
    # The lab started it as a session leader: its group holds what it spawned, and nothing else.
    try:
        group = os.getpgid(pid) == pid
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return "was not running"

    def send(sig):
        try:
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass
    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and record_alive(record):
        _reap(pid)
        time.sleep(0.05)
    how = "stopped"
    if record_alive(record):
        send(signal.SIGKILL)
        how = "killed"
        while record_alive(record):
            _reap(pid)
            time.sleep(0.05)
    path.unlink(missing_ok=True)
    return how


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child (only when started in this process)."""
    if pid in _CHILDREN:
        _CHILDREN[pid].poll()
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def exit_status(pid: int) -> str:
    """How a process started here ended: 'exit status N' or 'killed by signal NAME'; 'unknown' otherwise."""
    proc = _CHILDREN.get(pid)
    code = proc.poll() if proc is not None else None
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def records(state: Path) -> dict[str, dict]:
    """Every pid record in the state directory, by name."""
    out = {}
    for path in sorted((state / "run").glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out


# --------------------------------------------------------------------------- ports


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_owner(host: str, port: int) -> str:
    """Best effort: 'pid N (command)' of whatever listens on host:port."""
    try:
        out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "an unknown process"
    for line in out.splitlines():
        local = line.split()[3] if len(line.split()) > 3 else ""
        if not (local.endswith(f":{port}") and (host in local or local.startswith(("*", "0.0.0.0", "[::]")))):
            continue
        match = re.search(r'users:\(\("([^"]+)",pid=(\d+)', line)
        if match:
            cmd = " ".join(_proc_cmdline(int(match.group(2)))) or match.group(1)
            return f"pid {match.group(2)} ({cmd[:120]})"
    return "another process"


def check_port_free(name: str, host: str, port: int, hint: str = "") -> None:
    """Raise LabError if host:port is taken (called only when the lab's own process is not running)."""
    if port_open(host, port):
        raise LabError(f"{name}: port {host}:{port} is already in use by {port_owner(host, port)}, not by the lab. "
                       f"Stop that process{' or ' + hint if hint else ''}.")


# --------------------------------------------------------------------------- readiness


def log_tail(state: Path, name: str, lines: int = 20) -> str:
    """The last lines of a process log, indented, for error messages."""
    try:
        text = log_file(state, name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "    (no log)"
    return "\n".join("    " + line[:300] for line in text.splitlines()[-lines:])


def http_ok(url: str, expect: tuple = (200,), verify=True, timeout: float = 2.0) -> bool:
    """True if GET url answers one of ``expect``."""
    try:
        return requests.get(url, timeout=timeout, verify=verify).status_code in expect
    except requests.RequestException:
        return False


def wait_until(check, state: Path, name: str, timeout: float, what: str) -> float:
    """Poll ``check()`` until true; fail early if the process died. Returns seconds waited."""
    start = time.monotonic()
    delay = 0.05
    while True:
        if check():
            return time.monotonic() - start
        record = read_record(state, name)
        if record and not record_alive(record):
            _reap(record["pid"])
            status = exit_status(record["pid"])
            raise EarlyExit(f"{name} exited before it was ready ({what}; {status}); log {log_file(state, name)}:\n"
                            f"{log_tail(state, name)}", status)
        if time.monotonic() - start > timeout:
            raise LabError(f"{name} not ready after {timeout:.0f}s ({what}); log {log_file(state, name)}:\n"
                           f"{log_tail(state, name)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
