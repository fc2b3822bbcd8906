# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's private PostgreSQL cluster (``<state>/pg``), on 127.0.0.1 only, trust authentication.

initdb refuses to run as root: as root the cluster belongs to ``$LAB_PG_USER`` (default
``nobody``) and every server command runs through ``runuser``. The server binaries come from
``$LAB_PG_BIN``, else ``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin``
(Debian: ``apt-get install -y postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

from lab.runtime import LabError

SUPERUSER = "postgres"


def bin_dir() -> Path:
    """Directory holding initdb, pg_ctl, psql."""
    if os.environ.get("LAB_PG_BIN"):
        return Path(os.environ["LAB_PG_BIN"])
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(re.sub(r"\D", "", p) or 0))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").is_file():
            return Path(out)
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise LabError("PostgreSQL server binaries not found (initdb); install them (Debian: apt-get install -y postgresql) "
                   "or set LAB_PG_BIN")


class Cluster:
    """One private cluster: ``<state>/pg/data``, log ``<state>/logs/postgres.log``."""

    def __init__(self, state: Path, port: int):
        self.state = state
        self.port = port
        self.root = state / "pg"
        self.data = self.root / "data"
        self.log = state / "logs" / "postgres.log"
        self.bin = bin_dir()
        self.user = os.environ.get("LAB_PG_USER", "nobody") if os.geteuid() == 0 else None

    # ------------------------------------------------------------------ helpers
    def _as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--"] + argv if self.user else argv

    def _run(self, argv: list[str], check: bool = True, owner: bool = True) -> subprocess.CompletedProcess:
        cmd = self._as_owner(argv) if owner else argv
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode:
            raise LabError(f"`{' '.join(cmd)}` failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser over TCP; returns the unaligned output."""
        argv = [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-h", "127.0.0.1", "-p",
                str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql]
        return self._run(argv, owner=False).stdout.strip()

    # ------------------------------------------------------------------ lifecycle
    def initialised(self) -> bool:
        """True once initdb has run."""
        return (self.data / "PG_VERSION").is_file()

    def init(self) -> None:
        """initdb (once) as the cluster owner."""
        if self.initialised():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:
            owner = pwd.getpwnam(self.user)
            for path in (self.root,):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            probe = self._run(["test", "-w", str(self.root)], check=False)
            if probe.returncode:
                raise LabError(f"user {self.user} cannot write {self.root} (a parent directory is not searchable?); "
                               f"move LAB_STATE or set LAB_PG_USER")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                   "--no-locale", "--no-sync"])

    def running(self) -> bool:
        """True if pg_ctl reports the server running."""
        if not self.initialised():
            return False
        return self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"], check=False).returncode == 0

    def pid(self) -> int | None:
        """The postmaster pid, from postmaster.pid."""
        try:
            return int((self.data / "postmaster.pid").read_text(encoding="ascii").split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, listen: str = "127.0.0.1") -> None:
        """Start the server on address ``listen`` (waits until it accepts connections)."""
        if self.running():
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        if self.user:
            self.log.touch()
            owner = pwd.getpwnam(self.user)
            os.chown(self.log, owner.pw_uid, owner.pw_gid)
        options = (f"-c listen_addresses={listen} -p {self.port} -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                            "-o", options, "start"], check=False)
        if result.returncode:
            tail = "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-10:])
            raise LabError(f"PostgreSQL did not start on {listen}:{self.port}:\n{result.stdout}{result.stderr}{tail}")

    def stop(self) -> str:
        """pg_ctl stop -m fast."""
        if not self.running():
            return "not running"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])
        return "stopped"

    # ------------------------------------------------------------------ roles
    def ensure_database(self, user: str, password: str, database: str) -> None:
        """Create role ``user`` (LOGIN, ``password``) and database ``database`` owned by it, once."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", user) or not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
            raise ValueError("role and database names must be simple identifiers")
        quoted = password.replace("'", "''")
        self.psql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN "
                  f"CREATE ROLE {user} LOGIN PASSWORD '{quoted}'; END IF; END $$;")
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'") != "1":
            self.psql(f"CREATE DATABASE {database} OWNER {user}")
