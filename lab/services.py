# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab itself: which services run where, how each is started, and up/down/status.

Start order (each wave is started together, then waited for):
postgres -> auth (JWKS + token endpoint) -> smd (after smd-init) ->
bss (after bss-init), cloud-init, boot-service, power-control, emulated BMCs, mockup BMCs.

Authentication: TokenSmith (a lab service, given the lab key) serves the lab JWKS.
SMD runs with ``-auth-backend tokensmith`` against it, so it checks
signature, expiry, issuer and audience. BSS protects ``/bootparameters`` with the same JWKS.
Services that call SMD get tokens from the lab token endpoint: BSS through
``BSS_OAUTH2_ADMIN_BASE_URL/token``, cloud-init through ``--token-url``, boot-service through
the TokenSmith exchange ``--tokensmith-url .../oauth/token``, power-control through its OAuth2
client-credentials options.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import yaml

from lab import authserver as labauth
from lab import bmc as labbmc
from lab import csm as labcsm
from lab import gateway as labgateway
from lab import build as labbuild
from lab import jwt as labjwt
from lab import nodeboot as labnodeboot
from lab import metadata_service as labmds
from lab import pcs as labpcs
from lab import slurm as labslurm
from lab import runtime
from lab.postgres import Cluster
from lab.runtime import LabError

HOST = "127.0.0.1"
DEFAULT_PORTS = {
    "postgres": 27432,
    "auth": 27770,
    "smd": 27779,
    "smd2": 27789,  # a second SMD (another instance: fleet views, the CSM side of a migration)
    "bss": 27778,
    "cloud-init": 27777,
    "boot-service": 27776,
    "pcs": 27775,  # lab/pcs.py, the power-control emulator
    "power-control": 28007,  # fixed in power-control (":28007", all interfaces): cannot be changed
    # the CSM side (`up --csm`, lab/csm.py)
    "keycloak": 27780,
    "csm-gateway": 27781,
    "csm-emulator": 27782,
    "csm-hsm": 27783,
    "csm-bss": 27784,
    "csm-sls": 27785,  # only with LAB_CSM_SLS_BIN (a real hms-sls built by hand)
    "keycloak-management": 27786,  # Keycloak's management interface (9000 by default)
    # Slurm (`up --slurm`, lab/slurm.py): slurmctld, and the first of the slurmds' ports (one per Slurm node)
    "slurmctld": 27787,
    "slurmd": 27800,
    "nodeboot": 27788,  # lab/nodeboot.py, the node-boot simulator (`up --nodeboot`)
    "metadata-service": 27774,  # lab/metadata_service.py, the metadata-service emulator
    "s3": 27773,  # versitygw (posix backend over lab-state/s3/data): the image inventory and boot artifacts
    "tokensmith": 27771,  # TokenSmith (OpenCHAMI v0.2's token service): the JWKS every lab service checks
    "smd-gateway": 27772,  # lab/gateway.py: SMD for a real power-control, with the service token it does not send
}
# services `lab up` can start, in start order; "bmcs" and "mockups" are the emulated BMCs
SERVICES = ("smd", "smd2", "bss", "cloud-init", "boot-service", "pcs", "power-control", "metadata-service", "s3")
DEFAULT_SERVICES = SERVICES + ("bmcs",)
NEEDS = {"bss": ("smd",), "cloud-init": ("smd",), "boot-service": ("smd",), "pcs": ("smd",), "power-control": ("smd",),
         "metadata-service": ("smd",)}
DEFAULT_BMCS = 4
BMC_USER = "admin"
BMC_PASSWORD = "lab-bmc-password"
CLUSTER = "lab"
ACCESS_TOKEN_LIFETIME = 30 * 24 * 3600
BOOTSTRAP_TOKEN = "lab-bootstrap-token"  # boot-service exchanges it at the lab token endpoint, which accepts anything
DB = {"smd": ("smd", "smd", "hmsds"), "smd2": ("smd2", "smd2", "hmsds2"), "bss": ("bssuser", "bssuser", "bssdb")}
DB.update(labcsm.DB)
READY_TIMEOUT = 90
S3_REGION = "us-east-1"
S3_BUCKET = "boot-images"  # the bucket `up` creates (OpenCHAMI's name for its boot artifacts)
PCS_INNER_PORT = 28007  # power-control listens on ":28007" (every interface, no flag): lab/netns.py isolates it
PCS_DB = ("pcs", "pcs", "pcsdb")  # a real power-control's PostgreSQL store (user, password, database)


def port_of(name: str) -> int:
    """Port of a lab service: ``$LAB_PORT_<NAME>`` or the default."""
    value = os.environ.get("LAB_PORT_" + name.upper().replace("-", "_"))
    return int(value) if value else DEFAULT_PORTS[name]


def inventory_dir() -> Path:
    """Where `up` writes the Ansible inventory: ``$LAB_INVENTORY_DIR`` or ``<repo>/inventories/lab``."""
    return Path(os.environ.get("LAB_INVENTORY_DIR") or runtime.REPO_ROOT / "inventories" / "lab")


def bmc_ip(index: int) -> str:
    """Loopback address of emulated BMC ``index`` (1-based)."""
    if not 1 <= index <= 254:
        raise LabError("the lab supports 1..254 emulated BMCs")
    return runtime.loopback(1, index)


def mockup_catalog(root: Path | None = None) -> dict[str, Path]:
    """Short names (``ex425``, ``rackmount1`` ...) of the Redfish mockups under ``root``."""
    root = Path(root) if root else runtime.mockups_root()
    found = {}
    for index in sorted(root.glob("*/*/index.json")):
        name = index.parent.name.lower().replace("public-", "").replace("_", "-")
        found[name] = index.parent
    return found


@dataclass
class Proc:
    """What to start for one lab process."""

    name: str
    argv: list
    env: dict
    cwd: Path
    ready: object  # callable () -> bool
    ready_what: str
    url: str
    bind: tuple  # (host, port) it listens on
    version: str = ""
    meta: dict | None = None
    prepare: object = None  # callable run right before starting (migrations, files)


class Lab:
    """A lab rooted in one state directory."""

    def __init__(self, state: Path | None = None, out=runtime.say):
        self.state = runtime.ensure_state(Path(state) if state else runtime.state_dir())
        self.entries, self.unavailable = labbuild.load_versions()
        self.ports = {name: port_of(name) for name in DEFAULT_PORTS}
        self.out = out
        self._pg: Cluster | None = None
        self.nodeboot = runtime.is_running(self.state, "nodeboot")  # the BMCs notify the node-boot simulator
        self.started: list[str] = []  # what the last `up` started (postgres included)

    @property
    def pg(self) -> Cluster:  # pylint: disable=invalid-name
        """The lab's PostgreSQL cluster (also for a Lab object attached to a lab another process started)."""
        if self._pg is None:
            self._pg = Cluster(self.state, self.ports["postgres"])
        return self._pg

    # ------------------------------------------------------------------ addresses
    def url(self, name: str) -> str:
        """Base URL of a service (no API prefix)."""
        return f"http://{HOST}:{self.ports[name]}"

    @property
    def jwks_url(self) -> str:
        """The lab JWKS: TokenSmith's, which holds the lab key (lab/jwt.py)."""
        return self.url("tokensmith") + "/.well-known/jwks.json"

    @property
    def token_url(self) -> str:
        """The lab token endpoint."""
        return self.url("auth") + "/token"

    def binary(self, entry: str, name: str | None = None) -> Path:
        """Path of a built binary."""
        return labbuild.binary(self.entries[entry], name)

    def mint(self, **kwargs) -> str:
        """A lab token (see lab.jwt.mint)."""
        return labjwt.mint(self.state, **kwargs)

    def _env(self, extra: dict) -> dict:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("SMD_", "BSS_", "PCS_", "HSM_", "BOOT_SERVICE_", "METADATA_SERVICE_"))}
        env.update({key: str(value) for key, value in extra.items()})
        return env

    # ------------------------------------------------------------------ process definitions
    def _auth(self) -> Proc:
        port = self.ports["auth"]
        # the code revision is part of argv so that `up` restarts the server after its code changed
        code = hashlib.sha256(b"".join(Path(mod.__file__).read_bytes() for mod in (labauth, labjwt))).hexdigest()[:12]
        return Proc("auth", [sys.executable, "-m", "lab.authserver", "--state", str(self.state), "--listen", f"{HOST}:{port}",
                             "--rev", code],
                    self._env({"PYTHONPATH": str(runtime.REPO_ROOT), "PYTHONUNBUFFERED": "1"}), runtime.REPO_ROOT,
                    lambda: runtime.http_ok(self.url("auth") + "/health"), "GET /health", self.url("auth"), (HOST, port))

    def _tokensmith(self) -> Proc:
        """TokenSmith, from the Go module proxy: serves the JWKS of the lab key and mints with it.

        It signs with the lab key (lab/jwt.py; it reads PKCS#1 only, so it gets a copy in that form), so the
        tokens the lab signs itself (expired ones, foreign ones, several audiences: what TokenSmith's local
        mint cannot make) and the ones TokenSmith mints check against the same JWKS.
        """
        entry = self.entries["tokensmith"]
        port = self.ports["tokensmith"]
        url = self.url("tokensmith")
        cwd = self.state / "tokensmith"
        binary = self.binary("tokensmith")

        def prepare():
            cwd.mkdir(parents=True, exist_ok=True)
            labjwt.write_pkcs1(self.state, cwd / "lab-key.pem")
            if not (cwd / "config.json").exists():
                subprocess.run([str(binary), "generate-config", "--config", str(cwd / "config.json")], cwd=cwd,
                               check=True, capture_output=True)
        argv = [str(binary), "serve", "--port", str(port), "--issuer", labjwt.ISSUER, "--key-file",
                str(cwd / "lab-key.pem"), "--config", str(cwd / "config.json"), "--enable-local-user-mint",
                "--rfc8693-bootstrap-store", str(cwd / "bootstrap-tokens"),
                "--rfc8693-refresh-store", str(cwd / "refresh-tokens")]
        return Proc("tokensmith", argv, self._env({}), cwd, lambda: runtime.http_ok(url + "/.well-known/jwks.json"),
                    "GET /.well-known/jwks.json", url, (HOST, port), entry.version, prepare=prepare)

    def mint_with_tokensmith(self, audience: str = "smd", lifetime: int = 3600) -> str:
        """A token minted by TokenSmith itself (``user-token create``: one audience, its own claims)."""
        out = subprocess.run([str(self.binary("tokensmith")), "user-token", "create", "--enable-local-user-mint",
                              "--key-file", str(self.state / "tokensmith" / "lab-key.pem"), "--issuer", labjwt.ISSUER,
                              "--audience", audience, "--subject", labjwt.SUBJECT, "--scopes", ",".join(labjwt.SCOPES),
                              "--ttl", f"{lifetime}s"], capture_output=True, text=True, check=True)
        return out.stdout.split()[-1]

    def _smd_env(self, name: str = "smd") -> dict:
        user, password, database = DB[name]
        return {"SMD_DBHOST": HOST, "SMD_DBPORT": self.ports["postgres"], "SMD_DBNAME": database, "SMD_DBUSER": user,
                "SMD_DBPASS": password, "SMD_DBOPTS": "sslmode=disable", "SMD_DBTYPE": "postgres"}

    def _smd(self, name: str = "smd") -> Proc:
        """SMD, or with ``name="smd2"`` a second SMD (own database and port, same binary and auth)."""
        entry = self.entries["smd"]
        port = self.ports[name]
        argv = [str(self.binary("smd", "smd")), "-http-listen", f"{HOST}:{port}", "-tls-cert", "", "-tls-key", "",
                "-jwks-url", self.jwks_url, "-auth-backend", "tokensmith", "-auth-issuer", labjwt.ISSUER,
                "-auth-audiences", labjwt.AUDIENCE]

        def prepare():
            self.pg.ensure_database(*DB[name])
            migrations = self._module_dir(entry) / "migrations" / "postgres"
            self._run_init(name + "-init", [str(self.binary("smd", "smd-init")), "-migrationsdir", str(migrations)],
                           self._env(self._smd_env(name)))
        url = self.url(name)
        return Proc(name, argv, self._env(self._smd_env(name)), self.state / name,
                    lambda: runtime.http_ok(url + "/hsm/v2/service/ready"), "GET /hsm/v2/service/ready", url,
                    (HOST, port), entry.version, prepare=prepare)

    def _bss_env(self) -> dict:
        user, password, database = DB["bss"]
        return {"BSS_DBHOST": HOST, "BSS_DBPORT": self.ports["postgres"], "BSS_DBNAME": database, "BSS_DBUSER": user,
                "BSS_DBPASS": password, "BSS_INSECURE": "true"}

    def _bss(self) -> Proc:
        entry = self.entries["bss"]
        port = self.ports["bss"]
        cwd = self.state / "bss"
        env = self._bss_env()
        env.update({"BSS_USESQL": "true", "BSS_HTTP_LISTEN": f"{HOST}:{port}", "BSS_ADVERTISE_ADDRESS": f"{HOST}:{port}",
                    "HSM_URL": self.url("smd"), "BSS_JWKS_URL": self.jwks_url,
                    "BSS_OAUTH2_ADMIN_BASE_URL": self.url("auth"), "BSS_OAUTH2_PUBLIC_BASE_URL": self.url("auth"),
                    "BSS_AUTH_RETRY_WAIT": "1", "BSS_SQL_RETRY_WAIT": "1"})

        def prepare():
            self.pg.ensure_database(*DB["bss"])
            migrations = self._module_dir(entry) / "migrations" / "postgres"
            init_env = self._bss_env()
            init_env["BSS_MIGRATIONDIR"] = str(migrations)
            init_env["BSS_DBSTEP"] = bss_schema_step(migrations)
            self._run_init("bss-init", [str(self.binary("bss", "bss-init"))], self._env(init_env))
            cwd.mkdir(parents=True, exist_ok=True)
            # GET /boot/v1/service/version reads ./.version (the container image ships one)
            (cwd / ".version").write_text(entry.version + "\n", encoding="utf-8")
        url = self.url("bss")
        return Proc("bss", [str(self.binary("bss", "boot-script-service"))], self._env(env), cwd,
                    lambda: runtime.http_ok(url + "/boot/v1/service/status"), "GET /boot/v1/service/status", url,
                    (HOST, port), entry.version, prepare=prepare)

    def _cloud_init(self) -> Proc:
        entry = self.entries["cloud-init"]
        port = self.ports["cloud-init"]
        url = self.url("cloud-init")
        argv = [str(self.binary("cloud-init")), "--listen", f"{HOST}:{port}", "--smd-url", self.url("smd"),
                "--base-url", url, "--impersonation", "--token-url", self.token_url, "--jwks-url", self.jwks_url,
                "--cluster-name", CLUSTER, "--log-format", "json"]
        # a first token in the environment spares the 401 round trip at start (it fetches new ones with GET TOKEN_URL)
        env = {"ACCESS_TOKEN": self.mint(lifetime=24 * 3600)}
        return Proc("cloud-init", argv, self._env(env), self.state / "cloud-init",
                    lambda: runtime.http_ok(url + "/version"), "GET /version", url, (HOST, port), entry.version)

    def _boot_service(self) -> Proc:
        entry = self.entries["boot-service"]
        port = self.ports["boot-service"]
        url = self.url("boot-service")
        cwd = self.state / "boot-service"
        argv = [str(self.binary("boot-service")), "serve", "--host", HOST, "--port", str(port), "--data-dir",
                str(cwd / "data"), "--hsm-url", self.url("smd"), "--enable-auth", "--tokensmith-url", self.url("auth"),
                "--tokensmith-bootstrap-token", BOOTSTRAP_TOKEN]
        return Proc("boot-service", argv, self._env({}), cwd, lambda: runtime.http_ok(url + "/health"), "GET /health",
                    url, (HOST, port), entry.version)

    def _pcs(self) -> Proc:
        """The power-control emulator (lab/pcs.py): reads the BMCs from SMD, checks tokens against the lab JWKS.

        With ``$LAB_POWER_CONTROL_BIN`` (a real power-control built by hand) that program instead, in a network
        namespace of its own (lab/netns.py), reached at the same address: the same tests run against both.
        """
        port = self.ports["pcs"]
        url = self.url("pcs")
        real = os.environ.get("LAB_POWER_CONTROL_BIN")
        if real:
            return self._real_power_control(Path(real), port, url)
        code = hashlib.sha256(Path(labpcs.__file__).read_bytes()).hexdigest()[:12]
        argv = [sys.executable, "-m", "lab.pcs", "--listen", f"{HOST}:{port}", "--smd-url", self.url("smd"),
                "--token-url", self.token_url, "--jwks-url", self.jwks_url,
                "--record", str(self.state / "pcs-answers.jsonl"), "--rev", code]
        return Proc("pcs", argv, self._env({"PYTHONPATH": str(runtime.REPO_ROOT), "PYTHONUNBUFFERED": "1"}),
                    runtime.REPO_ROOT, lambda: runtime.http_ok(url + "/readiness", (204,)), "GET /readiness", url,
                    (HOST, port))

    def _metadata_service(self) -> Proc:
        """The metadata-service emulator (lab/metadata_service.py): reads nodes from SMD, checks lab tokens."""
        port = self.ports["metadata-service"]
        url = self.url("metadata-service")
        code = hashlib.sha256(Path(labmds.__file__).read_bytes()).hexdigest()[:12]
        argv = [sys.executable, "-m", "lab.metadata_service", "--listen", f"{HOST}:{port}", "--smd-url",
                self.url("smd"), "--token-url", self.token_url, "--jwks-url", self.jwks_url, "--rev", code]
        return Proc("metadata-service", argv, self._env({"PYTHONPATH": str(runtime.REPO_ROOT), "PYTHONUNBUFFERED": "1"}),
                    runtime.REPO_ROOT, lambda: runtime.http_ok(url + "/health"), "GET /health", url, (HOST, port))

    def _power_control(self) -> Proc:
        entry = self.entries["power-control"]
        port = self.ports["power-control"]
        url = self.url("power-control")
        # --fake-vault-enabled serves PCS_FAKE_VAULT_* for every BMC; VAULT_ENABLED must stay true (its default):
        # with it false PCS sends no credentials at all
        argv = [str(self.binary("power-control")), "--fake-vault-enabled",
                "--sms-server", self.url("smd"), "--jwks-url", self.jwks_url,
                "--oauth2-client-id", "lab", "--oauth2-client-secret", "lab", "--oauth2-token-url", self.token_url,
                "--oauth2-scopes", "smd.read,smd.write"]
        env = {"PCS_FAKE_VAULT_REDFISH_USER": BMC_USER, "PCS_FAKE_VAULT_REDFISH_PASSWORD": self.bmc_password}
        return Proc("power-control", argv, self._env(env), self.state / "power-control",
                    lambda: runtime.http_ok(url + "/readiness", (204,)), "GET /readiness", url, (HOST, port),
                    entry.version)

    def s3_keys(self) -> tuple:
        """(access key, secret key) of the lab's S3 server, made once and kept in ``lab-state/s3/keys.json``."""
        path = self.state / "s3" / "keys.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_private(path, json.dumps({"access": "lab" + secrets.token_hex(8),
                                             "secret": secrets.token_urlsafe(30)}) + "\n")
        keys = json.loads(path.read_text(encoding="utf-8"))
        return keys["access"], keys["secret"]

    def _s3(self) -> Proc:
        """versitygw with its posix backend over ``lab-state/s3/data`` (a bucket is a directory); the root keys
        come through the environment, not argv."""
        entry = self.entries["s3"]
        port = self.ports["s3"]
        url = self.url("s3")
        data = self.state / "s3" / "data"
        access, secret = self.s3_keys()

        def prepare():
            (data / S3_BUCKET).mkdir(parents=True, exist_ok=True)
        argv = [str(self.binary("s3")), "--port", f"{HOST}:{port}", "--region", S3_REGION, "--health", "/health",
                "posix", str(data)]
        env = {"ROOT_ACCESS_KEY_ID": access, "ROOT_SECRET_ACCESS_KEY": secret}
        return Proc("s3", argv, self._env(env), self.state / "s3", lambda: runtime.http_ok(url + "/health"),
                    "GET /health", url, (HOST, port), entry.version, prepare=prepare)

    def _real_power_control(self, binary: Path, port: int, url: str) -> Proc:
        """A real power-control (``$LAB_POWER_CONTROL_BIN``, built by hand) as the lab's pcs; see lab/README.md.

        Its store is the lab's PostgreSQL (``init-postgres`` with ``$LAB_POWER_CONTROL_MIGRATIONS``, emptied at
        every start as its memory store would be): its memory store truncates every task message to "...".
        It reaches SMD through the lab gateway (its reservation client sends SMD no token).
        """
        migrations = Path(os.environ.get("LAB_POWER_CONTROL_MIGRATIONS") or "")
        steps = len(list(migrations.glob("*.up.sql")))
        if not os.access(binary, os.X_OK) or not steps:
            raise LabError(f"LAB_POWER_CONTROL_BIN={binary} must be an executable power-control binary and "
                           f"LAB_POWER_CONTROL_MIGRATIONS={migrations} its migrations/postgres directory")
        user, password, database = PCS_DB
        postgres = ["--postgres-host", HOST, "--postgres-port", str(self.ports["postgres"]), "--postgres-user", user,
                    "--postgres-dbname", database, "--postgres-insecure"]
        env = {"PCS_FAKE_VAULT_REDFISH_USER": BMC_USER, "PCS_FAKE_VAULT_REDFISH_PASSWORD": self.bmc_password,
               "TRS_IMPLEMENTATION": "LOCAL", "STORAGE": "POSTGRES", "POSTGRES_PASSWORD": password,
               "LOG_LEVEL": "INFO", "PCS_JWKS_URL": self.jwks_url, "PYTHONPATH": str(runtime.REPO_ROOT),
               "PYTHONUNBUFFERED": "1"}

        def prepare():
            self.pg.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            self.pg.ensure_database(user, password, database)
            init = subprocess.run([str(binary), "init-postgres", "--schema-migrations", str(migrations), "--schema-step",
                                   str(steps)] + postgres, env=self._env(env), capture_output=True,
                                  text=True, timeout=120, check=False)
            if init.returncode:
                raise LabError(f"power-control init-postgres failed: {init.stderr[-2000:]}")
        # out of its namespace it reaches the gateway to SMD, the token endpoint, the JWKS, PostgreSQL and the
        # BMCs (443) at their lab addresses
        forward = sorted({443} | {self.ports[name] for name in ("smd-gateway", "auth", "tokensmith", "postgres")})
        argv = [sys.executable, "-m", "lab.netns", "--listen", f"{HOST}:{port}", "--inner-port", str(PCS_INNER_PORT),
                "--sockets", str(self.state / "pcs-netns"), "--forward", ",".join(map(str, forward)), "--",
                str(binary), "--fake-vault-enabled", "--sms-server", self.url("smd-gateway"), "--jwks-url", self.jwks_url,
                "--oauth2-client-id", "lab", "--oauth2-client-secret", "lab", "--oauth2-token-url", self.token_url,
                "--oauth2-scopes", "smd.read,smd.write"] + postgres
        return Proc("pcs", argv, self._env(env), runtime.REPO_ROOT,
                    lambda: runtime.http_ok(url + "/readiness", (204,)), "GET /readiness", url, (HOST, port),
                    "real " + binary.name, prepare=prepare)

    def _smd_gateway(self) -> Proc:
        """lab/gateway.py in front of SMD, for a real power-control: adds the lab's service token where none is sent."""
        port = self.ports["smd-gateway"]
        url = self.url("smd-gateway")
        code = hashlib.sha256(Path(labgateway.__file__).read_bytes()).hexdigest()[:12]
        argv = [sys.executable, "-m", "lab.gateway", "--listen", f"{HOST}:{port}", "--upstream", self.url("smd"),
                "--token-url", self.token_url, "--rev", code]
        return Proc("smd-gateway", argv, self._env({"PYTHONPATH": str(runtime.REPO_ROOT), "PYTHONUNBUFFERED": "1"}),
                    runtime.REPO_ROOT, lambda: runtime.http_ok(url + "/hsm/v2/service/ready"),
                    "GET /hsm/v2/service/ready", url, (HOST, port), meta={"ready_url": url + "/hsm/v2/service/ready"})

    @property
    def bmc_password(self) -> str:
        """Password of every emulated BMC (``$LAB_BMC_PASSWORD`` or the lab default)."""
        return os.environ.get("LAB_BMC_PASSWORD") or BMC_PASSWORD

    def _bmc(self, index: int) -> Proc:
        name = f"bmc-{index}"
        ip = bmc_ip(index)
        holder: dict = {}

        notify = f"{self.url('nodeboot')}/notify/{name}" if self.nodeboot else None

        def prepare():
            info = labbmc.prepare_sushy(self.state / "bmcs", index, ip, BMC_USER, self.bmc_password, None, notify)
            holder.update(info)
        # argv/env are only known after prepare (which resets the BMC's state): filled in by _start
        return Proc(name, [], {}, self.state / "bmcs", lambda: self._https_ready(name, holder), "GET /redfish/v1", f"https://{ip}", (ip, 443),
                    meta={"kind": "bmc", "index": index, "ip": ip, "holder": holder, "notify": notify}, prepare=prepare)

    def _nodeboot(self) -> Proc:
        """The node-boot simulator (lab/nodeboot.py): the BMCs' nodes fetch their boot script when powered on."""
        port = self.ports["nodeboot"]
        url = self.url("nodeboot")
        folder = self.state / "nodeboot"
        config = {"openchami": {"smd": self.url("smd") + "/hsm/v2", "bss": self.url("bss") + "/boot/v1",
                                "by": os.environ.get("LAB_NODEBOOT_OPENCHAMI_BY") or "mac"},
                  "csm": None, "fail_file": str(folder / "fail"), "boots_file": str(folder / "boots.jsonl"),
                  "bmcs": {name: {"url": record["url"], "cafile": record["cafile"], "user": BMC_USER,
                                  "password": self.bmc_password}
                           for name, record in sorted(runtime.records(self.state).items()) if record.get("kind") == "bmc"}}
        csm_side = labcsm.CsmSide(self)
        if csm_side.running():
            info = csm_side.info()
            config["csm"] = {"hsm": info["hsm_url"] + "/hsm/v2", "bss": info["api_url"] + "/bss/boot/v1", "by": "name",
                             "token_url": info["token_url"], "client_id": info["client_id"],
                             "secret_file": info["client_secret_file"]}
        text = json.dumps(config, indent=2, sort_keys=True)
        code = hashlib.sha256(Path(labnodeboot.__file__).read_bytes() + text.encode()).hexdigest()[:12]

        def prepare():
            folder.mkdir(parents=True, exist_ok=True)
            _write_private(folder / "config.json", text)
        argv = [sys.executable, "-m", "lab.nodeboot", "--listen", f"{HOST}:{port}", "--config",
                str(folder / "config.json"), "--rev", code]
        return Proc("nodeboot", argv, self._env({"PYTHONPATH": str(runtime.REPO_ROOT), "PYTHONUNBUFFERED": "1"}),
                    runtime.REPO_ROOT, lambda: runtime.http_ok(url + "/health"), "GET /health", url, (HOST, port),
                    meta={"fail_file": str(folder / "fail"), "boots_file": str(folder / "boots.jsonl")}, prepare=prepare)

    def _mockup(self, number: int, name: str, directory: Path) -> Proc:
        ip = runtime.loopback(3, number)
        holder: dict = {}

        def prepare():
            holder.update(labbmc.prepare_mockup(self.state / "bmcs", name, directory, ip, 443, BMC_USER,
                                                self.bmc_password))
        return Proc(f"mockup-{name}", [], {}, self.state / "bmcs",
                    lambda: self._https_ready(f"mockup-{name}", holder), "GET /redfish/v1",
                    f"https://{ip}", (ip, 443), meta={"kind": "mockup", "ip": ip, "mockup": str(directory),
                                                      "holder": holder}, prepare=prepare)

    # ------------------------------------------------------------------ helpers
    def _https_ready(self, name: str, holder: dict) -> bool:
        """Readiness of an emulated BMC: from what prepare returned, else from its pid record."""
        info = holder or runtime.read_record(self.state, name) or {}
        return bool(info.get("ready_url")) and runtime.http_ok(info["ready_url"], verify=info.get("cafile") or True)

    def _module_dir(self, entry: labbuild.Entry) -> Path:
        result = subprocess.run(["go", "mod", "download", "-json", f"{entry.module}@{entry.version}"],
                                capture_output=True, text=True, check=False, env=labbuild._go_env())  # pylint: disable=protected-access
        try:
            return Path(json.loads(result.stdout)["Dir"])
        except (ValueError, KeyError) as exc:
            raise LabError(f"cannot locate the {entry.name} module (for its migrations): {result.stdout}{result.stderr}") from exc

    def _run_init(self, name: str, argv: list, env: dict) -> None:
        with open(runtime.log_file(self.state, name), "ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} lab runs: {' '.join(argv)}\n".encode())
            log.flush()
            try:
                result = subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=120, check=False,
                                        cwd=self.state)
            except subprocess.TimeoutExpired as exc:
                raise LabError(f"{name} did not finish in 120s; log {runtime.log_file(self.state, name)}") from exc
        if result.returncode:
            raise LabError(f"{name} failed ({result.returncode}); log {runtime.log_file(self.state, name)}:\n"
                           f"{runtime.log_tail(self.state, name)}")

    def say(self, name: str, message: str, seconds: float | None = None) -> None:
        """One progress line."""
        timing = f" ({seconds:.1f}s)" if seconds is not None else ""
        self.out(f"  {name:<16} {message}{timing}")

    # ------------------------------------------------------------------ selection
    def resolve(self, services=None) -> list[str]:
        """Requested services plus what they need, in start order."""
        wanted = list(services) if services else list(DEFAULT_SERVICES)
        known = set(SERVICES) | {"bmcs", "mockups"}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            hint = [name for name in unknown if name in self.unavailable]
            why = "".join(f"\n  {name}: {self.unavailable[name]}" for name in hint)
            raise LabError(f"unknown lab services {unknown}; known: {sorted(known)}{why}")
        if not services and not self._can_have("power-control"):
            wanted.remove("power-control")
            self.say("power-control", "skipped: " + self.unavailable_reason("power-control"))
        result = []
        for name in wanted:
            for need in NEEDS.get(name, ()):
                if need not in result:
                    result.append(need)
            if name not in result:
                result.append(name)
        order = list(SERVICES) + ["bmcs", "mockups"]
        return sorted(result, key=order.index)

    def _can_have(self, name: str) -> bool:
        entry = self.entries[name]
        return entry.buildable or labbuild.is_built(entry)

    def unavailable_reason(self, name: str) -> str:
        """Why an entry cannot be built here."""
        entry = self.entries[name]
        return f"the Go module proxy does not serve {entry.module}, so it cannot be built here"

    # ------------------------------------------------------------------ up
    def up(self, services=None, bmcs: int = DEFAULT_BMCS, mockups=(), csm: bool = False,  # pylint: disable=invalid-name
           slurm: bool = False, nodeboot: bool = False) -> dict:
        """Start the lab (idempotent). Returns the lab description also written to lab.json.

        ``csm``: also the CSM side (Keycloak, HSM, BSS, emulators, gateway; lab/csm.py).
        ``slurm``: also slurmctld and a slurmd per compute node of the CSM seed (lab/slurm.py).
        ``nodeboot``: also the node-boot simulator (lab/nodeboot.py); the BMCs then notify it.
        """
        with runtime.locked(self.state):
            return self._up(services, bmcs, mockups, csm, slurm, nodeboot)

    def _up(self, services, bmcs: int, mockups, csm: bool = False, slurm: bool = False,  # pylint: disable=too-many-arguments
            nodeboot: bool = False) -> dict:
        started = time.monotonic()
        self.started = []
        self.out(f"lab up (state {self.state})")
        names = self.resolve(services)
        # once the CSM side runs, `up` keeps it up like everything else that runs
        csm_side = labcsm.CsmSide(self) if csm or labcsm.CsmSide(self).running() else None
        if csm_side:
            if services:  # the CSM side runs the SMD and BSS binaries too
                names = self.resolve(list(services) + ["smd", "bss"])
            csm_side.start_early()
        if "bmcs" not in names:
            bmcs = 0
        catalog = mockup_catalog() if mockups else {}
        if mockups and list(mockups) == ["all"]:
            mockups = list(catalog)
        missing = [name for name in mockups if name not in catalog]
        if missing:
            raise LabError(f"unknown mockups {missing}; available: {sorted(catalog)}")

        self._build(["tokensmith"] + [name for name in names if name in self.entries])

        begin = time.monotonic()
        if self.pg.running():
            self.say("postgres", f"already running on {HOST}:{self.ports['postgres']}")
        else:
            runtime.check_port_free("postgres", HOST, self.ports["postgres"], "set LAB_PORT_POSTGRES")
            self.pg.init()
            self.pg.start()
            self.started.append("postgres")
            self.say("postgres", f"started on {HOST}:{self.ports['postgres']}", time.monotonic() - begin)

        labjwt.load_key(self.state)
        # once started, the node-boot simulator is kept up; a BMC started without its notifications is restarted
        self.nodeboot = nodeboot or self.nodeboot
        notify = {name: f"{self.url('nodeboot')}/notify/{name}" if self.nodeboot else None for name in
                  (f"bmc-{index}" for index in range(1, bmcs + 1))}
        for name, record in runtime.records(self.state).items():
            if name in notify and runtime.record_alive(record) and record.get("notify") != notify[name]:
                self.say(name, "node-boot notifications changed: " + runtime.stop(self.state, name))
        self._wave([self._auth(), self._tokensmith()])
        self._wave([self._smd()])
        later = {"smd2": lambda: self._smd("smd2"), "bss": self._bss, "cloud-init": self._cloud_init, "boot-service": self._boot_service,
                 "pcs": self._pcs, "power-control": self._power_control,
                 "metadata-service": self._metadata_service, "s3": self._s3}
        wave = [later[name]() for name in names if name in later]
        if "pcs" in names and os.environ.get("LAB_POWER_CONTROL_BIN"):
            wave.append(self._smd_gateway())
        wave += [self._bmc(index) for index in range(1, bmcs + 1)]
        # a mockup's address depends only on its name (its place in the catalog), not on what else runs
        numbers = {name: number for number, name in enumerate(sorted(catalog), start=1)}
        wave += [self._mockup(numbers[name], name, catalog[name]) for name in sorted(mockups)]
        self._wave(wave)
        if csm_side:
            csm_side.finish()
        # like the CSM side, Slurm once started is kept up by a plain `up`
        if slurm or labslurm.SlurmSide(self).running():
            labslurm.SlurmSide(self).start()
        if self.nodeboot:  # last: it is told where the BMCs and the CSM side are
            self._wave([self._nodeboot()])
        self._stop_extra_bmcs(bmcs, mockups)
        # describe everything that runs, including services an earlier `up` started and this one did not ask for
        running = [name for name in SERVICES if name in names or runtime.is_running(self.state, name)]
        info = self.write_files(running, bmcs, mockups)
        info["started"] = list(self.started)
        self.out(f"lab is up in {time.monotonic() - started:.1f}s; `source {self.state / 'lab.env'}` or "
                 f"`eval \"$(python -m lab env)\"`")
        return info

    def _build(self, entries: list[str]) -> None:
        begin = time.monotonic()
        todo = [self.entries[name] for name in entries if not labbuild.is_built(self.entries[name])]
        if not todo:
            self.say("build", "all binaries current", time.monotonic() - begin)
            return
        results = labbuild.build_many(todo, log_to=lambda message: self.say("build", message))
        errors = [str(res) for res in results.values() if isinstance(res, labbuild.BuildError)]
        if errors:
            raise LabError("build failed:\n" + "\n".join(errors))
        self.say("build", f"{len(todo)} built", time.monotonic() - begin)

    def _wave(self, procs: list[Proc]) -> None:
        """Start every process of the wave that is not already running, then wait for all.

        A process counts as ready only when its readiness check answers and the process the lab
        started holds its port. A process that ends before it is ready is started once more, and
        only after it is certainly gone and its port is free (see ``_claim_port``).
        """
        pending = []
        for proc in procs:
            record = runtime.read_record(self.state, proc.name)
            if runtime.record_alive(record):
                if proc.argv and record.get("argv") != proc.argv:
                    self.say(proc.name, "configuration changed: restarting")
                    runtime.stop(self.state, proc.name)
                elif self._serving(proc, record):
                    self.say(proc.name, f"already running, pid {record['pid']}, {proc.url}")
                    continue
                else:
                    pending.append((proc, time.monotonic(), "already started", None))
                    continue
            begin = time.monotonic()
            pending.append((proc, begin, "started", self._launch(proc)))
        for proc, begin, how, launch in pending:
            try:
                runtime.wait_until(proc.ready, self.state, proc.name, READY_TIMEOUT, proc.ready_what, bind=proc.bind)
            except runtime.EarlyExit as exc:
                if not launch:
                    raise
                # A service was once seen to end at start with no output (CI, 2026-11-24): say how, try once more.
                self.say(proc.name, f"ended at start ({exc.status}); starting it once more")
                self._launch(proc, launch)
                runtime.wait_until(proc.ready, self.state, proc.name, READY_TIMEOUT, proc.ready_what, bind=proc.bind)
            version = f"{proc.version} " if proc.version else ""
            self.say(proc.name, f"{version}{how}, {proc.url}", time.monotonic() - begin)

    def _launch(self, proc: Proc, launch: tuple | None = None) -> tuple:
        """Start ``proc`` (prepared first, unless ``launch`` repeats an earlier start); returns (argv, env, meta)."""
        self._claim_port(proc)
        if launch is None:
            if proc.prepare:
                proc.prepare()
            meta = dict(proc.meta or {})
            holder = meta.pop("holder", None)
            argv, env = proc.argv, proc.env
            if holder is not None:
                argv, env = holder["argv"], holder["env"]
                meta["cafile"] = holder["cafile"]
                meta["ready_url"] = holder["ready_url"]
            meta.update({"url": proc.url, "version": proc.version, "bind": list(proc.bind)})
            launch = (argv, env, meta)
        argv, env, meta = launch
        runtime.start(self.state, proc.name, argv, env, proc.cwd, meta)
        if proc.name not in self.started:
            self.started.append(proc.name)
        return launch

    def _serving(self, proc: Proc, record: dict) -> bool:
        """True if the recorded process holds the port of ``proc`` and its readiness check answers."""
        return runtime.listens(record, *proc.bind) and proc.ready()

    def _claim_port(self, proc: Proc) -> None:
        """Make sure the port of ``proc`` is free before starting it.

        The process the lab last started for ``proc`` must be gone (pid and start time). A port held
        by an untracked process of this lab (its programs, this state directory: a copy the lab lost
        track of) is freed by stopping that process, and said so; anything else is an error.
        """
        record = runtime.read_record(self.state, proc.name)
        if record and not runtime.confirmed_gone(record):
            raise LabError(f"{proc.name}: the process the lab started ({runtime.describe(record['pid'])}) has not "
                           "ended; not starting a second copy")
        host, port = proc.bind
        holders = runtime.listeners(host, port)
        if holders:
            strays = {item["pid"]: item for item in self._untracked()}
            for pid in holders:
                stray = strays.get(pid) or strays.get(runtime.process_group(pid))
                if stray:
                    self.say(proc.name, f"stopped an untracked copy that held {host}:{port}: "
                                        f"{runtime.describe(stray['pid'])}, {runtime.stop_process(stray)}")
        hint = f"set LAB_PORT_{proc.name.upper().replace('-', '_')}" if proc.name in DEFAULT_PORTS else ""
        runtime.check_port_free(proc.name, host, port, hint)

    def _untracked(self) -> list[dict]:
        """Live processes of this lab (its programs, its state directory) that no record tracks."""
        tracked = {record["pid"] for record in runtime.records(self.state).values() if runtime.record_alive(record)}
        found = runtime.lab_processes(self.state, self._is_lab_program)
        return [item for item in found
                if item["pid"] not in tracked and runtime.process_group(item["pid"]) not in tracked]

    @staticmethod
    def _is_lab_program(argv0: str) -> bool:
        """True for the lab's own programs: the built OpenCHAMI binaries and this Python (lab servers, sushy)."""
        path = Path(argv0)
        return (path.is_relative_to(labbuild.cache_root() / "bin") or argv0 == sys.executable
                or path.resolve() == Path(sys.executable).resolve())

    def _stop_extra_bmcs(self, bmcs: int, mockups) -> None:
        """BMCs beyond the requested count (or mockups no longer wanted) from an earlier `up` are stopped."""
        wanted = {f"bmc-{index}" for index in range(1, bmcs + 1)} | {f"mockup-{name}" for name in mockups}
        for name, record in runtime.records(self.state).items():
            if record.get("kind") in ("bmc", "mockup") and name not in wanted:
                self.say(name, runtime.stop(self.state, name))

    # ------------------------------------------------------------------ generated files
    def write_files(self, names: list[str], bmcs: int, mockups) -> dict:
        """lab.json, lab.env, the access token, the ochami config, the BMC CA bundle, inventories/lab/."""
        # the token of the last `up` is kept while it is fresh: a shell (or a test) that read lab.env keeps a
        # token equal to the file's, and `up` twice writes the same files
        token_file = self.state / "access-token"
        token = token_file.read_text(encoding="utf-8").strip() if token_file.exists() else ""
        if not labjwt.still_fresh(self.state, token):
            token = self.mint(lifetime=ACCESS_TOKEN_LIFETIME)
            _write_private(token_file, token + "\n")
        urls = {name: self.url(name) for name in names if name in SERVICES}
        bmc_list = []
        cafiles = []
        for name, record in sorted(runtime.records(self.state).items()):
            if record.get("kind") in ("bmc", "mockup"):
                cafiles.append(record["cafile"])
                item = {"name": name, "kind": record["kind"], "ip": record["ip"], "url": record["url"],
                        "cafile": record["cafile"]}
                if record["kind"] == "bmc":
                    item.update({"index": record["index"], "system_uuid": labbmc.system_uuid(record["index"]),
                                 "macs": labbmc.bmc_macs(record["index"])})
                else:
                    item["mockup"] = record["mockup"]
                bmc_list.append(item)
        ca_bundle = self.state / "bmc-ca.pem"
        ca_bundle.write_text("".join(Path(path).read_text(encoding="utf-8") for path in cafiles), encoding="utf-8")
        ochami = self.state / "ochami-config.yaml"
        cluster = {"enable-auth": True}
        api = {"smd": ("smd", "/hsm/v2"), "bss": ("bss", "/boot/v1"), "cloud-init": ("cloud-init", ""),
               "boot-service": ("boot-service", ""), "pcs": ("pcs", ""), "power-control": ("pcs", ""),
               "metadata-service": ("metadata-service", "")}
        for name, (key, suffix) in api.items():
            if name in urls:
                cluster[key] = {"uri": urls[name] + suffix}
        # the second SMD is a second cluster ("lab2"), as a second OpenCHAMI instance would be
        second = [{"name": CLUSTER + "2", "cluster": {"enable-auth": True, "smd": {"uri": urls["smd2"] + "/hsm/v2"}}}] \
            if "smd2" in urls else []
        ochami.write_text("# written by `python -m lab up`\n" + yaml.safe_dump(
            {"log": {"format": "basic", "level": "warning"}, "default-cluster": CLUSTER,
             "clusters": [{"name": CLUSTER, "cluster": cluster}] + second}, sort_keys=False), encoding="utf-8")
        versions = {name: self.entries[name].version for name in names if name in self.entries}
        info = {
            "state": str(self.state), "cluster": CLUSTER, "services": [n for n in names if n in SERVICES],
            "urls": urls, "versions": versions, "postgres": {"host": HOST, "port": self.ports["postgres"]},
            "auth": {"url": self.url("auth"), "jwks_url": self.jwks_url, "token_url": self.token_url,
                     "issuer": labjwt.ISSUER, "audience": labjwt.AUDIENCE},
            "token_file": str(token_file), "ochami_config": str(ochami), "bmc_ca_bundle": str(ca_bundle),
            "bmc_user": BMC_USER, "bmc_password": self.bmc_password, "bmcs": bmc_list,
            "binaries": {name: str(labbuild.bin_dir(self.entries[name])) for name in versions},
            "unavailable": self.unavailable,
            # what answers as the lab's pcs: the emulator, or a real power-control ($LAB_POWER_CONTROL_BIN)
            "pcs_program": os.environ.get("LAB_POWER_CONTROL_BIN") or "lab/pcs.py",
        }
        csm_side = labcsm.CsmSide(self)
        if csm_side.running():
            info["csm"] = csm_side.info()
        slurm_side = labslurm.SlurmSide(self)
        if slurm_side.running():
            info["slurm"] = slurm_side.info()
        if runtime.is_running(self.state, "nodeboot"):
            record = runtime.read_record(self.state, "nodeboot")
            info["nodeboot"] = {"url": record["url"], "fail_file": record["fail_file"], "boots_file": record["boots_file"]}
        (self.state / "lab.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        exports = {
            "LAB_STATE": self.state, "OCHAMI_CONFIG": ochami, "OPENCHAMI_CLUSTER": CLUSTER,
            "ACCESS_TOKEN": token, f"{CLUSTER.upper()}_ACCESS_TOKEN": token, "LAB_TOKEN_FILE": token_file,
            "LAB_JWKS_URL": self.jwks_url, "LAB_TOKEN_URL": self.token_url,
            "LAB_BMC_USER": BMC_USER, "LAB_BMC_PASSWORD": self.bmc_password, "LAB_BMC_CA_BUNDLE": ca_bundle,
            "LAB_BMC_IPS": " ".join(item["ip"] for item in bmc_list if item["kind"] == "bmc"),
            "LAB_PG_DSN": f"postgresql://postgres@{HOST}:{self.ports['postgres']}/postgres",
        }
        for name, url in urls.items():
            exports[name.upper().replace("-", "_") + "_URL"] = url
        if "csm" in info:
            exports.update(csm_side.exports())
        if "slurm" in info:
            exports.update(slurm_side.exports())
        if "nodeboot" in info:
            exports.update({"LAB_NODEBOOT_URL": info["nodeboot"]["url"], "LAB_NODEBOOT_FAIL_FILE": info["nodeboot"]["fail_file"]})
        if "power-control" in urls:
            exports["PCS_URL"] = urls["power-control"]
        if "s3" in urls:  # what boto3 and the image modules read
            access, secret = self.s3_keys()
            exports.update({"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": urls["s3"],
                            "AWS_DEFAULT_REGION": S3_REGION, "LAB_S3_BUCKET": S3_BUCKET})
        for name in versions:
            exports[f"LAB_BIN_{name.upper().replace('-', '_')}"] = labbuild.bin_dir(self.entries[name])
        if labbuild.is_built(self.entries["magellan"]):
            exports["LAB_BIN_MAGELLAN"] = labbuild.bin_dir(self.entries["magellan"])
        env_text = "# written by `python -m lab up`; source it or eval \"$(python -m lab env)\"\n" + "".join(
            f"export {key}={shlex.quote(str(value))}\n" for key, value in exports.items())
        _write_private(self.state / "lab.env", env_text)
        self._write_inventory(info, urls)
        return info

    def _write_inventory(self, info: dict, urls: dict) -> None:
        inv = inventory_dir()
        inv.mkdir(parents=True, exist_ok=True)
        service_uris = {}
        api = {"smd": ("smd", "/hsm/v2"), "bss": ("bss", "/boot/v1"), "cloud-init": ("cloud_init", ""),
               "boot-service": ("boot_service", ""), "pcs": ("pcs", ""), "power-control": ("pcs", ""),
               "metadata-service": ("metadata_service", "")}
        for name, (key, suffix) in api.items():
            if name in urls:
                service_uris[key] = urls[name] + suffix
        hosts = {"all": {
            "hosts": {"localhost": {"ansible_connection": "local",
                                    "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
            "vars": {
                "openchami_lab_state": info["state"],
                "openchami_cluster": CLUSTER,
                "openchami_config_file": info["ochami_config"],
                "openchami_token_file": info["token_file"],
                "openchami_service_uris": service_uris,
                "openchami_bmc_user": info["bmc_user"],
                "openchami_bmc_password": info["bmc_password"],
                "openchami_bmc_ca_path": info["bmc_ca_bundle"],
                "openchami_lab_bmcs": [{k: v for k, v in item.items() if k != "cafile"} for item in info["bmcs"]],
            }}}
        header = "# Written by `python -m lab up` (lab/services.py) for the local lab; regenerated on every run.\n"
        (inv / "hosts.yml").write_text(header + yaml.safe_dump(hosts, sort_keys=False, width=200), encoding="utf-8")
        smd_source = {"plugin": "cscs.openchami.smd", "cluster": CLUSTER, "config_file": info["ochami_config"],
                      "token_file": info["token_file"]}
        (inv / "lab.smd.yml").write_text(header + yaml.safe_dump(smd_source, sort_keys=False), encoding="utf-8")

    # ------------------------------------------------------------------ restart / stop one process
    def restart(self, name: str) -> None:
        """Stop the lab's process ``name`` (``smd``, ``bss``, ``auth``, ``bmc-2`` ...) and start it again."""
        with runtime.locked(self.state):
            proc = self.definition(name)
            self.say(name, runtime.stop(self.state, name))
            self._wave([proc])

    def stop(self, name: str) -> str:
        """Stop the lab's process ``name``; returns what happened (``lab up`` starts it again)."""
        with runtime.locked(self.state):
            how = runtime.stop(self.state, name)
            self.say(name, how)
            return how

    def definition(self, name: str) -> Proc:
        """What the lab starts for process ``name``."""
        factories = {"auth": self._auth, "smd": self._smd, "smd2": lambda: self._smd("smd2"), "bss": self._bss,
                     "cloud-init": self._cloud_init, "boot-service": self._boot_service,
                     "power-control": self._power_control, "nodeboot": self._nodeboot, "s3": self._s3}
        if name in factories:
            return factories[name]()
        if name.startswith("bmc-") and name[4:].isdigit():
            return self._bmc(int(name[4:]))
        if name == "slurmctld" or name.startswith("slurmd-"):
            return labslurm.SlurmSide(self).definition(name)
        record = runtime.read_record(self.state, name) or {}
        if name.startswith("mockup-") and record.get("mockup"):
            return self._mockup(int(record["ip"].rsplit(".", 1)[1]), name[len("mockup-"):], Path(record["mockup"]))
        raise LabError(f"unknown lab process {name!r}; known: {sorted(factories)}, bmc-N and the mockups that run")

    # ------------------------------------------------------------------ down / status
    def down(self) -> None:
        """Stop every process the lab started (newest first), then PostgreSQL."""
        with runtime.locked(self.state):
            self._down()

    def _down(self) -> None:
        self.out(f"lab down (state {self.state})")
        recs = runtime.records(self.state)
        for name in sorted(recs, key=lambda n: recs[n].get("started", 0), reverse=True):
            begin = time.monotonic()
            self.say(name, runtime.stop(self.state, name), time.monotonic() - begin)
        # processes the lab started and lost track of (their record was overwritten or removed)
        for stray in self._untracked():
            begin = time.monotonic()
            self.say("untracked", f"{runtime.describe(stray['pid'])}: {runtime.stop_process(stray)}",
                     time.monotonic() - begin)
        begin = time.monotonic()
        self.say("postgres", self.pg.stop() if self.pg.initialised() else "not set up", time.monotonic() - begin)

    def expected(self) -> list[str]:
        """The processes the lab should run: postgres, auth and what the last `up` described in lab.json."""
        try:
            info = json.loads((self.state / "lab.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return ["postgres", "auth"] + list(info.get("services", [])) + [item["name"] for item in info.get("bmcs", [])]

    def status(self) -> dict:
        """name -> {pid, alive, ready, state, url, version, expected} for postgres, every process the lab
        should run or has a record of, and every untracked process of the lab (named ``untracked-<pid>``).

        ``state`` is ``ready``, ``running, NOT ready``, ``stopped`` (record of a process that ended),
        ``not running`` (no record) or ``untracked``; ``ready`` is True only when the recorded
        process itself listens on its port and answers its readiness check.
        """
        out = {}
        expected = self.expected()
        running = self.pg.running()
        out["postgres"] = {"pid": self.pg.pid() if running else None, "alive": running, "ready": running,
                           "state": "ready" if running else "stopped",
                           "url": f"postgresql://{HOST}:{self.ports['postgres']}", "version": "", "expected": True}
        recs = runtime.records(self.state)
        checks = {"smd": "/hsm/v2/service/ready", "smd2": "/hsm/v2/service/ready", "bss": "/boot/v1/service/status",
                  "cloud-init": "/version", "boot-service": "/health", "power-control": "/readiness", "pcs": "/readiness",
                  "auth": "/health", "nodeboot": "/health", "metadata-service": "/health",
                  "tokensmith": "/health", "s3": "/health", "smd-gateway": "/hsm/v2/service/ready"}
        for name in [name for name in expected if name != "postgres"] + [name for name in recs if name not in expected]:
            record = recs.get(name)
            if not record:
                out[name] = {"pid": None, "alive": False, "ready": False, "state": "not running", "url": "",
                             "version": "", "expected": True}
                continue
            alive = runtime.record_alive(record)
            ready = False
            if alive:
                if name in checks:
                    ready = runtime.http_ok(record["url"] + checks[name], (200, 204))
                elif record.get("kind") == "slurm":  # no HTTP: the daemon holding its port is its readiness
                    ready = True
                else:
                    ready = runtime.http_ok(record.get("ready_url") or record.get("url", ""),
                                            verify=record.get("cafile") or True)
                ready = ready and runtime.listens(record, *_bind_of(record))
            state = "ready" if ready else ("running, NOT ready" if alive else "stopped")
            out[name] = {"pid": record["pid"], "alive": alive, "ready": ready, "state": state,
                         "url": record.get("url", ""), "version": record.get("version", ""),
                         "expected": name in expected}
        for stray in self._untracked():
            out[f"untracked-{stray['pid']}"] = {"pid": stray["pid"], "alive": True, "ready": False,
                                                "state": "untracked", "url": " ".join(stray["argv"])[:120],
                                                "version": "", "expected": False}
        return out


def bss_schema_step(migrations: Path) -> str:
    """The schema step bss-init must migrate to: the number of migrations BSS ships.

    bss-init v1.32.2 migrates a new database all the way up (3: ``endpoint_access`` included), but an existing one
    to its built-in step 2, which drops ``endpoint_access``: every BSS restart then broke ``/endpoint-history``
    (500, relation "endpoint_access" does not exist). Telling it the step (``BSS_DBSTEP``) keeps the table.
    """
    return str(len(list(Path(migrations).glob("*.up.sql"))))


def _bind_of(record: dict) -> tuple:
    """(host, port) a recorded process listens on: recorded by `up`, else from its URL (older records)."""
    if record.get("bind"):
        return tuple(record["bind"])
    url = urllib.parse.urlsplit(record.get("url", ""))
    return url.hostname, url.port or (443 if url.scheme == "https" else 80)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
