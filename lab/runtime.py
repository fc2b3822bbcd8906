# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes of the lab: where their files live, how they are started, checked and stopped.

Every process the lab starts gets ``<state>/run/<name>.json`` (pid, argv, the kernel's start
time of the pid) and ``<state>/logs/<name>.log``, and carries ``LAB_PROCESS_OF=<state>`` in its
environment. A process is only ever signalled after checking that the pid still is the process
that was started (same start time), so a recycled pid is never killed. Processes whose record was
lost are found by that environment marker (and the lab's own programs), never by name.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
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
# in the environment of every process the lab starts: the state directory it belongs to
MARKER = "LAB_PROCESS_OF"


def say(message: str) -> None:
    """Print one progress line at once (also when stdout is a pipe: `make lab-up | tee`)."""
    print(message, flush=True)


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


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return stat[stat.rindex(")") + 2:].split()


def _proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot), None if there is no such process."""
    fields = _proc_stat(pid)
    if not fields or fields[0] == "Z":  # a zombie is as good as gone
        return None
    return int(fields[19])


def process_group(pid: int) -> int | None:
    """The process group of ``pid`` (field 5 of /proc/<pid>/stat)."""
    fields = _proc_stat(pid)
    return int(fields[2]) if fields else None


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
    """True if the recorded process is still the one that was started.

    The pid and the kernel's start time of that pid identify the process. Its command line is only
    compared when the kernel shows one: /proc/<pid>/cmdline is empty while a process is between the
    point of no return of exec() and the set-up of its new arguments (Popen has already returned by
    then, so a freshly started service can be in that state when it is first checked, for longer on
    a loaded machine) and while it exits. Reading that empty command line as "ended" made `lab up`
    start a second copy of a running service (issue 19).
    """
    if not record:
        return False
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 1 or record.get("start_time") is None:
        return False
    if _proc_start_time(pid) != record["start_time"]:
        return False
    cmdline = _proc_cmdline(pid)
    return not cmdline or cmdline[0] == record["argv"][0]


def confirmed_gone(record: dict) -> bool:
    """True only when the recorded process has certainly ended.

    A child of this Python process is gone when its exit status has been collected; any other
    process when its pid no longer exists, is a zombie or belongs to another process (start time).
    """
    proc = _CHILDREN.get(record.get("pid"))
    if proc is not None:
        return proc.poll() is not None
    return _proc_start_time(record["pid"]) != record.get("start_time")


def is_running(state: Path, name: str) -> bool:
    """True if the lab's process ``name`` is alive."""
    return record_alive(read_record(state, name))


def start(state: Path, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None,
          meta: dict | None = None) -> dict:
    """Start ``argv`` detached from this process (own session), output to its log; record it.

    The process gets ``LAB_PROCESS_OF=<state>`` in its environment (``env``, or this process's):
    `down` finds by it a process whose record was lost.
    """
    log = log_file(state, name)
    env = dict(os.environ if env is None else env)
    env[MARKER] = str(state)
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
    how = stop_process(record, timeout) if record else "not running"
    path.unlink(missing_ok=True)
    return how


def stop_process(record: dict, timeout: float = 10.0) -> str:
    """Stop the process of ``record`` (pid, start_time, argv) and its process group if it leads one."""
    if not record_alive(record):
        return "was not running"
    pid = record["pid"]
    # The lab starts each process as a session leader: its group holds what it spawned, and nothing else.
    group = process_group(pid) == pid

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


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _belongs_to(pid: int, state: Path) -> bool:
    """True if ``pid`` carries the lab's marker for ``state``, or (started before the marker existed)
    works in a directory of ``state`` (every lab service runs in ``<state>/<service>``)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    if f"{MARKER}={state}".encode() in environ:
        return True
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).parent == state
    except OSError:
        return False


def lab_processes(state: Path, is_lab_program) -> list[dict]:
    """Every live process that a lab run started for ``state`` and that runs one of the lab's own
    programs (``is_lab_program(argv0)``), as records (pid, start_time, argv) for ``stop_process``.

    This process and its ancestors are left out.
    """
    spared = set()
    pid = os.getpid()
    while pid > 1 and pid not in spared:
        spared.add(pid)
        fields = _proc_stat(pid)
        pid = int(fields[1]) if fields else 0
    found = []
    for pid in _pids():
        if pid in spared or not _belongs_to(pid, state):
            continue
        argv = _proc_cmdline(pid)
        start_time = _proc_start_time(pid)
        if argv and start_time is not None and is_lab_program(argv[0]):
            found.append({"pid": pid, "start_time": start_time, "argv": argv})
    return found


def describe(pid: int) -> str:
    """'pid N (command line)', for messages."""
    cmd = " ".join(_proc_cmdline(pid)) or "?"
    return f"pid {pid} ({cmd[:120]})"


# --------------------------------------------------------------------------- ports


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _hex_address(text: str) -> str:
    """An address of /proc/net/tcp{,6} (hex, 32-bit words in host order) as text."""
    raw = b"".join(bytes.fromhex(text[i:i + 8])[::-1] for i in range(0, len(text), 8))
    address = ipaddress.ip_address(raw)
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def _port_sockets(host: str, port: int) -> list[tuple[str, str]]:
    """(TCP state, inode) of every socket whose local end is host:port, or port on the wildcard address."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            address, _sep, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port and (set(address) == {"0"} or _hex_address(address) == host):
                found.append((fields[3], fields[9]))
    return found


def _listening_inodes(host: str, port: int) -> set[str]:
    """Inodes of the listening TCP sockets that take connections to host:port."""
    return {inode for state, inode in _port_sockets(host, port) if state == "0A"}  # 0A: LISTEN


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def listeners(host: str, port: int) -> list[int]:
    """Pids of the processes holding a listening socket for host:port."""
    inodes = _listening_inodes(host, port)
    if not inodes:
        return []
    return [pid for pid in _pids() if _socket_inodes(pid) & inodes]


def listens(record: dict, host: str, port: int) -> bool:
    """True if the recorded process, or a process of the group it leads, listens on host:port."""
    inodes = _listening_inodes(host, port)
    pid = record["pid"]
    if not inodes or _socket_inodes(pid) & inodes:
        return bool(inodes)
    return any(_socket_inodes(other) & inodes for other in _pids() if other != pid and process_group(other) == pid)


def port_owner(host: str, port: int) -> str:
    """Best effort: 'pid N (command)' of whatever listens on host:port."""
    holders = listeners(host, port)
    return describe(holders[0]) if holders else "another process"


def check_port_free(name: str, host: str, port: int, hint: str = "") -> None:
    """Raise LabError if host:port is taken (called only when the lab's own process is not running).

    Taken means: a process listens there, or a live process's connection has it as its local end
    (an outgoing connection gets its local port from the kernel's ephemeral range, where any port
    of a lab can be given to a client for a while). Closed connections left over from an earlier
    server on that port (no owner any more) do not keep a server from binding, and are ignored.
    """
    if listeners(host, port) or port_open(host, port):
        raise LabError(f"{name}: port {host}:{port} is already in use by {port_owner(host, port)}, not by the lab. "
                       f"Stop that process{' or ' + hint if hint else ''}.")
    inodes = {inode for state, inode in _port_sockets(host, port) if state != "0A" and inode != "0"}
    owners = [pid for pid in _pids() if _socket_inodes(pid) & inodes] if inodes else []
    if owners:
        try:
            low, high = (int(value) for value in
                         Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii").split())
        except (OSError, ValueError):
            low, high = 32768, 60999
        why = (f"; {low}-{high} is the kernel's range for the local ports of outgoing connections, where any client "
               f"may get this port: give {name} a port below {low}" if low <= port <= high else "")
        raise LabError(f"{name}: port {host}:{port} is the local end of a connection of {describe(owners[0])}{why}"
                       f"{' (' + hint + ')' if hint else ''}.")


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


def wait_until(check, state: Path, name: str, timeout: float, what: str, bind: tuple | None = None) -> float:
    """Poll ``check()`` until true; fail early if the process ended. Returns seconds waited.

    With ``bind`` (host, port) the recorded process itself must listen there: an answer from
    another process on that port is not readiness.
    """
    start = time.monotonic()
    delay = 0.05
    while True:
        record = read_record(state, name)
        if check() and (bind is None or (record and listens(record, *bind))):
            return time.monotonic() - start
        if record and confirmed_gone(record):
            _reap(record["pid"])
            status = exit_status(record["pid"])
            raise EarlyExit(f"{name} exited before it was ready ({what}; {status}); log {log_file(state, name)}:\n"
                            f"{log_tail(state, name)}", status)
        if time.monotonic() - start > timeout:
            held = ""
            if bind and record and listeners(*bind) and not listens(record, *bind):
                held = (f"; {bind[0]}:{bind[1]} is held by {port_owner(*bind)}, not by the process the lab "
                        f"started (pid {record['pid']})")
            raise LabError(f"{name} not ready after {timeout:.0f}s ({what}{held}); log {log_file(state, name)}:\n"
                           f"{log_tail(state, name)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
