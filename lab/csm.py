# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CSM side of the lab (``python -m lab up --csm``).

| process | what | address |
|---|---|---|
| keycloak | Keycloak 26.5.x (Maven Central), realm ``shasta``, client ``admin-client`` imported at start | ``LAB_PORT_KEYCLOAK``, path ``/keycloak`` |
| csm-hsm | a third SMD (the HSM API lineage), legacy JWT backend on Keycloak's JWKS | ``LAB_PORT_CSM_HSM`` |
| csm-bss | a second BSS, tokens checked on Keycloak's JWKS, HSM = csm-hsm | ``LAB_PORT_CSM_BSS`` |
| csm-emulator | SLS, BOS v2, IMS v3, CFS v3, PCS and S3 manifests (``lab/csm_emulator.py``) | ``LAB_PORT_CSM_EMULATOR`` |
| csm-sls | only with ``LAB_CSM_SLS_BIN``: a real hms-sls built by hand, in place of the emulated SLS | ``LAB_PORT_CSM_SLS`` |
| csm-gateway | haproxy (Debian): ``/apis/smd`` ``/apis/bss`` ``/apis/{sls,bos,ims,cfs,power-control}`` ``/keycloak`` | ``LAB_PORT_CSM_GATEWAY`` |

Keycloak is started before everything else and waited for last (it needs about a minute cold). Once the
CSM side runs, a plain ``up`` keeps it up too.
The seed (``lab/csm_seed.py``, ``LAB_CSM_NODES`` nodes, default 32) goes into HSM and BSS through the
gateway with a Keycloak token, and into the emulator at its start. :func:`reset` puts it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from lab import build as labbuild
from lab import csm_emulator, csm_seed, runtime
from lab.postgres import Cluster
from lab.runtime import LabError

KEYCLOAK_VERSION = "26.5.6"
KEYCLOAK_ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
REALM = "shasta"
CLIENT_ID = "admin-client"
TOKEN_LIFETIME = 300  # CSM's realm default
KEYCLOAK_TIMEOUT = 300  # a cold start (Quarkus augmentation + schema) took 107 s here
NAMES = ("keycloak", "csm-hsm", "csm-bss", "csm-emulator", "csm-gateway")
DB = {"csm-hsm": ("csmhsm", "csmhsm", "hmsds_csm"), "csm-bss": ("csmbss", "csmbss", "bssdb_csm"),
      "csm-sls": ("csmsls", "csmsls", "sls_csm")}
DEFAULT_NODES = 32
HSM_SUBROLES = ("UAN", "Gateway", "LNETRouter", "UserDefined")


def keycloak_zip() -> Path:
    """The distribution in the lab cache."""
    return labbuild.cache_root() / "keycloak" / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"


def build_keycloak(force: bool = False, log=print) -> Path:
    """``lab build keycloak``: fetch the distribution from Maven Central (``mvn dependency:get``) into the cache."""
    target = keycloak_zip()
    if target.exists() and not force:
        return target
    if not shutil.which("mvn"):
        raise LabError("Maven (mvn) is needed to fetch Keycloak from Maven Central: apt-get install maven")
    repo = labbuild.cache_root() / "m2"
    log(f"fetching {KEYCLOAK_ARTIFACT} from Maven Central ...")
    result = subprocess.run(["mvn", "-q", "-B", f"-Dmaven.repo.local={repo}", "dependency:get",
                             f"-Dartifact={KEYCLOAK_ARTIFACT}", "-Dtransitive=false"],
                            capture_output=True, text=True, check=False)
    found = repo / "org" / "keycloak" / "keycloak-quarkus-dist" / KEYCLOAK_VERSION / target.name
    if result.returncode or not found.exists():
        raise LabError(f"mvn dependency:get {KEYCLOAK_ARTIFACT} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(found, tmp)
    os.replace(tmp, target)
    return target


def client_secret(state: Path) -> str:
    """The lab's ``admin-client`` secret (made once per state directory)."""
    path = state / "csm" / "client-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text(encoding="utf-8").strip()


def realm(secret: str) -> dict:
    """Realm ``shasta`` with the confidential client ``admin-client`` (service account, audience ``shasta``)."""
    return {"realm": REALM, "enabled": True, "accessTokenLifespan": TOKEN_LIFETIME,
            "clients": [{"clientId": CLIENT_ID, "enabled": True, "publicClient": False,
                         "serviceAccountsEnabled": True, "standardFlowEnabled": False,
                         "directAccessGrantsEnabled": False, "clientAuthenticatorType": "client-secret",
                         "secret": secret,
                         "protocolMappers": [{"name": "audience", "protocol": "openid-connect",
                                              "protocolMapper": "oidc-audience-mapper",
                                              "config": {"included.custom.audience": REALM,
                                                         "access.token.claim": "true", "id.token.claim": "false"}}]}]}


def _code_rev(*modules) -> str:
    return hashlib.sha256(b"".join(Path(mod.__file__).read_bytes() for mod in modules)).hexdigest()[:12]


class CsmSide:
    """The CSM processes of one :class:`lab.services.Lab`."""

    def __init__(self, lab):
        self.lab = lab
        self.state = lab.state
        self.dir = lab.state / "csm"
        self.host = "127.0.0.1"

    def url(self, name: str) -> str:
        return self.lab.url(name)

    @property
    def gateway(self) -> str:
        return self.url("csm-gateway")

    @property
    def keycloak_base(self) -> str:
        return self.url("keycloak") + "/keycloak"

    @property
    def jwks_url(self) -> str:
        """Keycloak's realm keys, read directly (not through the gateway)."""
        return f"{self.keycloak_base}/realms/{REALM}/protocol/openid-connect/certs"

    @property
    def token_url(self) -> str:
        """The token endpoint as CSM users see it: behind the gateway."""
        return f"{self.gateway}/keycloak/realms/{REALM}/protocol/openid-connect/token"

    # ------------------------------------------------------------------ process definitions
    def keycloak(self):
        from lab.services import Proc  # pylint: disable=import-outside-toplevel
        home = self.dir / f"keycloak-{KEYCLOAK_VERSION}"
        port = self.lab.ports["keycloak"]
        # the management interface (health, metrics) listens on 9000 unless told: a second lab's Keycloak
        # (another checkout, a helper) would then fail with "Address already in use"
        command = [str(home / "bin" / "kc.sh"), "start-dev", f"--http-host={self.host}", f"--http-port={port}",
                   f"--http-management-port={self.lab.ports['keycloak-management']}",
                   "--http-relative-path=/keycloak", f"--hostname={self.gateway}/keycloak", "--db=dev-file",
                   "--import-realm", "--health-enabled=true"]
        # kc.sh ends in `exec java`: the recorded process would change its executable, which the lab reads as
        # "no longer the process it started"; a shell that waits for it keeps one stable process to stop
        argv = ["/bin/bash", "-c", " ".join(shlex.quote(arg) for arg in command) + "; exit $?"]

        def prepare():
            if not home.exists():
                archive = build_keycloak(log=lambda m: self.lab.say("keycloak", m))
                tmp = self.dir / "keycloak.unpack"
                shutil.rmtree(tmp, ignore_errors=True)
                with zipfile.ZipFile(archive) as zipped:
                    zipped.extractall(tmp)
                os.replace(tmp / home.name, home)
                shutil.rmtree(tmp, ignore_errors=True)
                for script in (home / "bin").glob("*.sh"):
                    script.chmod(0o755)
            imports = home / "data" / "import"
            imports.mkdir(parents=True, exist_ok=True)
            fd = os.open(imports / "shasta-realm.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(realm(client_secret(self.state)), handle)
        ready = f"{self.keycloak_base}/realms/{REALM}/.well-known/openid-configuration"
        env = self.lab._env({"JAVA_OPTS_KC_HEAP": "-Xms64m -Xmx640m"})  # pylint: disable=protected-access
        return Proc("keycloak", argv, env, self.dir, lambda: runtime.http_ok(ready), "GET realm shasta",
                    self.keycloak_base, (self.host, port), KEYCLOAK_VERSION, meta={"ready_url": ready},
                    prepare=prepare)

    def hsm(self):
        proc = self.lab._smd("csm-hsm")  # pylint: disable=protected-access
        # the legacy backend checks signature, expiry and that sub, iss and aud are present: Keycloak's tokens
        proc.argv = proc.argv[:proc.argv.index("-jwks-url")] + ["-jwks-url", self.jwks_url]
        proc.meta = {"ready_url": proc.url + "/hsm/v2/service/ready"}
        # CSM extends HSM's roles and subroles (cray-hms-base-config); SMD reads the same file
        config = self.dir / "hms_config.json"
        proc.env["HMS_CONFIG_PATH"] = str(config)
        smd_prepare = proc.prepare

        def prepare():
            config.write_text(json.dumps({"HMSExtendedDefinitions": {"Role": [], "SubRole": list(HSM_SUBROLES)}}),
                              encoding="utf-8")
            smd_prepare()
        proc.prepare = prepare
        return proc

    def bss(self):
        from lab.services import Proc  # pylint: disable=import-outside-toplevel
        entry = self.lab.entries["bss"]
        port = self.lab.ports["csm-bss"]
        url = self.url("csm-bss")
        cwd = self.state / "csm-bss"
        user, password, database = DB["csm-bss"]
        base = {"BSS_DBHOST": self.host, "BSS_DBPORT": self.lab.ports["postgres"], "BSS_DBNAME": database,
                "BSS_DBUSER": user, "BSS_DBPASS": password, "BSS_INSECURE": "true"}
        env = dict(base, BSS_USESQL="true", BSS_HTTP_LISTEN=f"{self.host}:{port}",
                   BSS_ADVERTISE_ADDRESS=f"{self.host}:{port}", HSM_URL=self.url("csm-hsm"),
                   # its calls to csm-hsm carry a Keycloak token, which the emulator's /lab/token hands out
                   BSS_JWKS_URL=self.jwks_url, BSS_OAUTH2_ADMIN_BASE_URL=self.url("csm-emulator") + "/lab",
                   BSS_OAUTH2_PUBLIC_BASE_URL=self.url("csm-emulator") + "/lab", BSS_AUTH_RETRY_WAIT="1",
                   BSS_SQL_RETRY_WAIT="1",
                   # CSM's BSS presigns the s3:// kernel and initrd of a boot script (offline, with these keys) for
                   # the emulator's S3; without them it answers no boot script ("static credentials are empty")
                   S3_ENDPOINT=self.url("csm-emulator") + "/s3", S3_ACCESS_KEY="lab-s3", S3_SECRET_KEY="lab-s3-key")

        def prepare():
            self.lab.pg.ensure_database(*DB["csm-bss"])
            migrations = self.lab._module_dir(entry) / "migrations" / "postgres"  # pylint: disable=protected-access
            from lab.services import bss_schema_step  # pylint: disable=import-outside-toplevel
            init = dict(base, BSS_MIGRATIONDIR=str(migrations), BSS_DBSTEP=bss_schema_step(migrations))
            self.lab._run_init("csm-bss-init", [str(self.lab.binary("bss", "bss-init"))], self.lab._env(init))  # pylint: disable=protected-access
            cwd.mkdir(parents=True, exist_ok=True)
            (cwd / ".version").write_text(entry.version + "\n", encoding="utf-8")
        # the token base also as flags: a csm-bss started before it moved there is restarted (`up` compares argv)
        argv = [str(self.lab.binary("bss", "boot-script-service")), "-oauth2-admin-base-url", env["BSS_OAUTH2_ADMIN_BASE_URL"],
                "-oauth2-public-base-url", env["BSS_OAUTH2_PUBLIC_BASE_URL"]]
        return Proc("csm-bss", argv, self.lab._env(env), cwd,  # pylint: disable=protected-access
                    lambda: runtime.http_ok(url + "/boot/v1/service/status"), "GET /boot/v1/service/status", url,
                    (self.host, port), entry.version, meta={"ready_url": url + "/boot/v1/service/status"},
                    prepare=prepare)

    def emulator(self):
        from lab.services import Proc  # pylint: disable=import-outside-toplevel
        port = self.lab.ports["csm-emulator"]
        url = self.url("csm-emulator")
        seed_file = self.dir / "seed.json"
        argv = [sys.executable, "-m", "lab.csm_emulator", "--listen", f"{self.host}:{port}", "--seed", str(seed_file),
                "--jwks-url", self.jwks_url, "--record", str(self.dir / "exchanges.jsonl"), "--rev", _code_rev(csm_emulator, csm_seed) + f"-{nodes()}",
                "--token-source", f"{self.keycloak_base}/realms/{REALM}/protocol/openid-connect/token", CLIENT_ID,
                str(self.state / "csm" / "client-secret")]

        def prepare():
            seed_file.write_text(json.dumps(csm_seed.generate(nodes())), encoding="utf-8")
        env = self.lab._env({"PYTHONPATH": str(runtime.REPO_ROOT), "PYTHONUNBUFFERED": "1"})  # pylint: disable=protected-access
        return Proc("csm-emulator", argv, env, runtime.REPO_ROOT, lambda: runtime.http_ok(url + "/lab/health"),
                    "GET /lab/health", url, (self.host, port), meta={"ready_url": url + "/lab/health"}, prepare=prepare)

    def sls(self):
        """A real hms-sls (``$LAB_CSM_SLS_BIN``) on PostgreSQL instead of the emulated SLS."""
        from lab.services import Proc  # pylint: disable=import-outside-toplevel
        binary, migrations = real_sls()
        port = self.lab.ports["csm-sls"]
        url = self.url("csm-sls")
        user, password, database = DB["csm-sls"]
        env = {"DBNAME": database, "DBUSER": user, "DBPASS": password, "POSTGRES_HOST": self.host,
               "POSTGRES_PORT": self.lab.ports["postgres"], "DBOPTS": "sslmode=disable"}

        def prepare():
            self.lab.pg.ensure_database(user, password, database)
            if self.lab.pg.psql("SELECT to_regclass('public.components') IS NOT NULL", database) != "t":
                for path in sorted(migrations.glob("*.up.sql"), key=lambda p: int(p.name.split("_")[0])):
                    self.lab.pg.psql(f"SET ROLE {user}; " + path.read_text(encoding="utf-8"), database)
        return Proc("csm-sls", [str(binary), "-http_listen_addr", f"{self.host}:{port}"], self.lab._env(env),  # pylint: disable=protected-access
                    self.dir, lambda: runtime.http_ok(url + "/v1/health"), "GET /v1/health", url, (self.host, port),
                    meta={"ready_url": url + "/v1/health"}, prepare=prepare)

    def haproxy_config(self) -> str:
        host = self.host
        ports = self.lab.ports
        return "\n".join([
            "# written by `python -m lab up --csm` (lab/csm.py): the lab's CSM API gateway",
            "global", "  maxconn 512", "defaults", "  mode http", "  timeout connect 5s", "  timeout client 120s",
            "  timeout server 120s", "  option forwardfor",
            "frontend gateway",
            f"  bind {host}:{ports['csm-gateway']}",
            "  http-request set-var(txn.svc) str(hsm) if { path_beg /apis/smd/ }",
            "  http-request set-var(txn.svc) str(bss) if { path_beg /apis/bss/ }",
            "  http-request set-var(txn.svc) str(keycloak) if { path_beg /keycloak/ }",
            "  http-request set-var(txn.svc) str(sls) if { path_beg /apis/sls/ }" if real_sls() else "",
            "  http-request set-var(txn.svc) str(emulator) if { path_beg /apis/sls/ /apis/bos/ /apis/ims/ /apis/cfs/ "
            "/apis/power-control/ } !{ var(txn.svc) -m found }",
            "  http-request replace-path ^/apis/sls(/.*)$ \\1 if { var(txn.svc) -m str sls }",
            "  http-request replace-path ^/apis/smd(/.*)$ \\1 if { var(txn.svc) -m str hsm }",
            "  http-request replace-path ^/apis/bss(/.*)$ \\1 if { var(txn.svc) -m str bss }",
            "  http-request replace-path ^/apis(/.*)$ \\1 if { var(txn.svc) -m str emulator }",
            "  http-request return status 404 content-type application/json string '{\"detail\":\"no route\"}' "
            "if !{ var(txn.svc) -m found }",
            "  use_backend %[var(txn.svc)] if { var(txn.svc) -m found }",
            f"backend hsm\n  server hsm {host}:{ports['csm-hsm']}",
            f"backend bss\n  server bss {host}:{ports['csm-bss']}",
            f"backend keycloak\n  server keycloak {host}:{ports['keycloak']}",
            f"backend emulator\n  server emulator {host}:{ports['csm-emulator']}",
            f"backend sls\n  server sls {host}:{ports['csm-sls']}",
            ""])

    def gateway_proc(self):
        from lab.services import Proc  # pylint: disable=import-outside-toplevel
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(haproxy).exists():
            raise LabError("haproxy is needed for the CSM gateway: apt-get install haproxy (make system-deps)")
        config = self.dir / "haproxy.cfg"
        text = self.haproxy_config()
        rev = hashlib.sha256(text.encode()).hexdigest()[:12]

        def prepare():
            config.write_text(text, encoding="utf-8")
        url = self.gateway
        ready = url + "/keycloak/realms/" + REALM  # Keycloak is up before the gateway starts
        return Proc("csm-gateway", [haproxy, "-db", "-f", str(config), "-L", rev], self.lab._env({}), self.dir,  # pylint: disable=protected-access
                    lambda: runtime.http_ok(ready), "GET /keycloak/realms/shasta", url,
                    (self.host, self.lab.ports["csm-gateway"]), meta={"ready_url": url + "/keycloak/realms/" + REALM},
                    prepare=prepare)

    # ------------------------------------------------------------------ up
    def start_early(self) -> None:
        """Start Keycloak now (not waited for): it takes the longest."""
        self.dir.mkdir(parents=True, exist_ok=True)
        proc = self.keycloak()
        record = runtime.read_record(self.state, proc.name)
        if runtime.record_alive(record):
            if record.get("argv") == proc.argv:
                self.lab.say(proc.name, f"already running, pid {record['pid']}, {proc.url}")
                return
            self.lab.say(proc.name, "configuration changed: restarting")
            runtime.stop(self.state, proc.name)
            deadline = time.monotonic() + 60
            while runtime.port_open(*proc.bind) and time.monotonic() < deadline:  # the JVM shuts down after its shell
                time.sleep(0.2)
        runtime.check_port_free(proc.name, *proc.bind, "set LAB_PORT_KEYCLOAK")
        proc.prepare()
        runtime.start(self.state, proc.name, proc.argv, proc.env, proc.cwd,
                      dict(proc.meta, url=proc.url, version=proc.version))
        self.lab.started.append(proc.name)
        self.lab.say(proc.name, "starting (waited for last)")

    def finish(self) -> None:
        """Wait for Keycloak, start HSM, BSS, the emulator and the gateway, seed HSM and BSS if empty."""
        begin = time.monotonic()
        proc = self.keycloak()
        runtime.wait_until(proc.ready, self.state, proc.name, KEYCLOAK_TIMEOUT, proc.ready_what)
        self.lab.say("keycloak", f"{KEYCLOAK_VERSION} ready, {proc.url}", time.monotonic() - begin)
        self.lab._wave([self.hsm(), self.bss(), self.emulator()] + ([self.sls()] if real_sls() else []))  # pylint: disable=protected-access
        self.lab._wave([self.gateway_proc()])  # pylint: disable=protected-access
        begin = time.monotonic()
        count = self.seed_if_empty()
        self.lab.say("csm-seed", f"{count} nodes in HSM and BSS" if count else "HSM already holds data", time.monotonic() - begin)

    def running(self) -> bool:
        return runtime.is_running(self.state, "csm-gateway")

    # ------------------------------------------------------------------ seed
    def token(self) -> str:
        answer = requests.post(self.token_url, data={"grant_type": "client_credentials"},
                               auth=(CLIENT_ID, client_secret(self.state)), timeout=30)
        answer.raise_for_status()
        return answer.json()["access_token"]

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + self.token()
        return session

    def refresh_bss(self, macs: dict) -> None:
        """Make CSM's BSS re-read HSM until its copy holds every node of ``macs`` ({xname: MAC}) with that MAC and an
        enabled endpoint. BSS serves boot scripts from its own copy of HSM's state, which HSM's notifications refresh
        in the background; ``POST /boot/v1/hosts`` refreshes it at once, but at most once a second (BSS keeps the time
        of its last read in seconds), so a change made in the same second as the last read needs another."""
        url = self.url("csm-bss") + "/boot/v1"
        while True:
            answer = requests.post(url + "/hosts", timeout=30)
            if answer.status_code != 204:
                raise RuntimeError("CSM's BSS refused POST /hosts: %s %s" % (answer.status_code, answer.text))
            known = dict((c.get("ID"), c) for c in requests.get(url + "/dumpstate", timeout=30).json()["Components"])
            if all(xname in known and known[xname].get("EndpointEnabled")
                   and mac.lower() in [m.lower() for m in known[xname].get("MAC") or []] for xname, mac in macs.items()):
                return
            time.sleep(0.5)

    def seed_if_empty(self) -> int:
        session = self._session()
        hsm = self.gateway + "/apis/smd/hsm/v2"
        found = session.get(hsm + "/State/Components", timeout=30)
        found.raise_for_status()
        if found.json().get("Components"):
            return 0
        return self._load(session)

    def _load(self, session: requests.Session, size: int | None = None) -> int:
        seed = csm_seed.generate(size or nodes())
        hsm = self.gateway + "/apis/smd/hsm/v2"
        bss = self.gateway + "/apis/bss/boot/v1"

        def check(answer, what):
            if answer.status_code >= 300:
                raise LabError(f"seeding the CSM side: {what} -> {answer.status_code} {answer.text[:300]}")
        check(session.post(hsm + "/State/Components", json={"Components": seed["hsm"]["components"]}, timeout=60),
              "POST /State/Components")
        if real_sls():
            sls = self.gateway + "/apis/sls/v1"
            for item in seed["sls"]["hardware"]:
                body = {key: item[key] for key in ("Class", "ExtraProperties") if key in item}
                check(session.put(f"{sls}/hardware/{item['Xname']}", json=body, timeout=30), "PUT SLS hardware")
            for net in seed["sls"]["networks"]:
                body = {key: value for key, value in net.items() if key not in ("LastUpdated", "LastUpdatedTime")}
                check(session.post(sls + "/networks", json=body, timeout=30), "POST SLS networks")
        with ThreadPoolExecutor(max_workers=8) as pool:  # HSM takes one interface per request
            for answer in pool.map(lambda iface: session.post(hsm + "/Inventory/EthernetInterfaces", json=iface, timeout=30),
                                   seed["hsm"]["interfaces"]):
                check(answer, "POST EthernetInterfaces")
            for answer in pool.map(lambda params: session.put(bss + "/bootparameters", json=params, timeout=30),
                                   seed["bss"]["bootparameters"]):
                check(answer, "PUT /bootparameters")
        for group in seed["hsm"]["groups"]:
            check(session.post(hsm + "/groups", json=group, timeout=30), f"POST /groups {group['label']}")
        for part in seed["hsm"]["partitions"]:
            check(session.post(hsm + "/partitions", json=part, timeout=30), f"POST /partitions {part['name']}")
        return len(seed["layout"])

    def reset(self, size: int | None = None) -> None:
        """Back to the seed (of ``size`` nodes, default ``LAB_CSM_NODES``): HSM and BSS emptied and loaded again,
        the emulator reset."""
        session = self._session()
        hsm = self.gateway + "/apis/smd/hsm/v2"
        bss = self.gateway + "/apis/bss/boot/v1"
        ids = [c["ID"] for c in session.get(hsm + "/State/Components", timeout=30).json().get("Components") or []]
        if ids:
            session.post(hsm + "/locks/unlock", json={"ComponentIDs": ids, "ProcessingModel": "flexible"}, timeout=30)
        for path in ("/State/Components", "/Inventory/EthernetInterfaces", "/Inventory/RedfishEndpoints"):
            session.delete(hsm + path, timeout=60)
        for group in session.get(hsm + "/groups", timeout=30).json() or []:
            session.delete(hsm + "/groups/" + group["label"], timeout=30)
        for part in session.get(hsm + "/partitions", timeout=30).json() or []:
            session.delete(hsm + "/partitions/" + part["name"], timeout=30)
        for params in session.get(bss + "/bootparameters", timeout=30).json() or []:
            session.delete(bss + "/bootparameters", json={"hosts": params.get("hosts") or []}, timeout=30)
        requests.post(self.url("csm-emulator") + "/lab/reset", json={"nodes": size or nodes()}, timeout=60).raise_for_status()
        if real_sls():
            self.lab.pg = self.lab.pg or Cluster(self.state, self.lab.ports["postgres"])
            self.lab.pg.psql("DELETE FROM components; DELETE FROM network;", DB["csm-sls"][2])
        self._load(session, size)

    # ------------------------------------------------------------------ what `up` writes
    def info(self) -> dict:
        return {"api_url": self.gateway + "/apis", "token_url": self.token_url, "client_id": CLIENT_ID,
                "client_secret_file": str(self.state / "csm" / "client-secret"), "realm": REALM,
                "keycloak_url": self.keycloak_base, "jwks_url": self.jwks_url,
                "emulator_url": self.url("csm-emulator"),
                "exchanges": str(self.dir / "exchanges.jsonl"), "s3_url": self.url("csm-emulator") + "/s3/",
                "hsm_url": self.url("csm-hsm"), "bss_url": self.url("csm-bss"), "nodes": nodes(),
                "sls": "hms-sls " + str(real_sls()[0]) if real_sls() else "emulated",
                "keycloak_version": KEYCLOAK_VERSION}

    def exports(self) -> dict:
        info = self.info()
        return {"CSM_API_URL": info["api_url"], "CSM_TOKEN_URL": info["token_url"], "CSM_CLIENT_ID": CLIENT_ID,
                "CSM_CLIENT_SECRET_FILE": info["client_secret_file"], "LAB_CSM_S3_URL": info["s3_url"]}


def real_sls() -> tuple[Path, Path] | None:
    """(binary, migrations directory) of a real hms-sls built by hand, from ``$LAB_CSM_SLS_BIN`` and
    ``$LAB_CSM_SLS_MIGRATIONS`` (its ``migrations/*.up.sql``); None: SLS is emulated."""
    binary = os.environ.get("LAB_CSM_SLS_BIN")
    if not binary:
        return None
    migrations = os.environ.get("LAB_CSM_SLS_MIGRATIONS") or ""
    if not Path(binary).is_file() or not sorted(Path(migrations).glob("*.up.sql")):
        raise LabError("LAB_CSM_SLS_BIN must name an hms-sls binary and LAB_CSM_SLS_MIGRATIONS its migrations directory")
    return Path(binary), Path(migrations)


def nodes() -> int:
    """Size of the seeded CSM system: ``$LAB_CSM_NODES`` or 32."""
    return int(os.environ.get("LAB_CSM_NODES") or DEFAULT_NODES)
