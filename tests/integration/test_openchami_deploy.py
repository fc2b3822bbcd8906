# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""openchami_deploy: the release manifest against the lab, and a rendered deployment run for real.

The molecule scenario (extensions/molecule/openchami_deploy) checks the rendered files. Here the rendering is run:
no image can be pulled on this machine and podman 4.3 has no quadlet, so each quadlet unit is started the way podman
would start it, outside a container: the lab's binary of the manifest's version in place of the image's entry point,
the unit's EnvironmentFile= files as its environment, its Exec= arguments, and its Volume= mappings applied to the
paths it names (the image's own paths - SMD's migrations - to where the Go module has them). PostgreSQL is a private
cluster initialised by the rendered script; the lab's token server stands in for TokenSmith on TokenSmith's port. Then
the collection's modules register a node and a boot configuration through the rendered haproxy, with the rendered
CA certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lab import build as labbuild
from lab import jwt as labjwt
from lab import runtime
from lab.postgres import Cluster
from lab.services import Lab

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
MANIFEST = REPO_ROOT / "roles" / "openchami_deploy" / "vars" / "main.yml"
INSTANCE = "deploytest"
# ports of this test (LAB_PORT_DEPLOY_BASE, default 36790): postgres, smd, tokensmith, boot-service, haproxy
BASE = int(os.environ.get("LAB_PORT_DEPLOY_BASE", "36790"))
PORTS = {"postgres": BASE, "smd": BASE + 1, "tokensmith": BASE + 2, "boot-service": BASE + 3, "haproxy": BASE + 4}
PUBLIC = runtime.loopback(17, 1)
# the services' own address: not 127.0.0.1, whose outgoing connections may hold any port of the ephemeral range
ADDR = runtime.loopback(17, 2)


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["openchami_deploy_release"]


def test_release_manifest_and_lab_versions_cannot_drift():
    """What the lab builds and runs is what the role deploys: same module, same version."""
    entries = labbuild.load_versions()[0]
    services = manifest()["services"]
    problems = []
    for name, spec in services.items():
        assert spec.get("version") and spec.get("image"), name
        lab_name = spec.get("lab")
        if not lab_name:
            assert spec.get("tested") is False or spec.get("tested_with"), f"{name}: neither lab entry nor tested: false"
            continue
        entry = entries.get(lab_name)
        if entry is not None:
            if (entry.module, entry.version) != (spec["module"], spec["version"]):
                problems.append(f"{name}: manifest {spec['module']}@{spec['version']}, lab {entry.module}@{entry.version}")
            continue
        # not a program of its own in the lab: then linked into one (a replace of lab/versions.yml)
        linked = [e.name for e in entries.values() if any(new == f"{spec['module']}@{spec['version']}" for new in e.replace.values())]
        if not linked:
            problems.append(f"{name}: lab/versions.yml neither builds nor links {spec['module']}@{spec['version']}")
    for entry in entries.values():
        openchami = "/openchami/" in entry.module.lower() + "/"
        if entry.kind == "service" and entry.buildable and openchami:
            if not any(spec.get("lab") == entry.name for spec in services.values()):
                problems.append(f"lab runs {entry.name} ({entry.module}@{entry.version}), the release manifest does not list it")
    assert not problems, problems


# --------------------------------------------------------------------------- the rendered deployment, run


def _tls() -> dict:
    """A local CA and a server certificate for the public address (what an operator brings)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deploy-test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PUBLIC)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(PUBLIC))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = {"openchami_deploy_tls_cert": cert.public_bytes(serialization.Encoding.PEM).decode(),
           "openchami_deploy_tls_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()).decode(),
           "openchami_deploy_tls_ca": ca.public_bytes(serialization.Encoding.PEM).decode()}
    return pem


def _env_file(path: Path) -> dict:
    """podman's --env-file reading: KEY=value lines, no quoting, # comments."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    return env


class Unit:
    """One rendered quadlet unit, started as podman would start its container, without the container."""

    def __init__(self, root: Path, name: str):
        self.root = root
        self.name = name
        self.keys: dict[str, list[str]] = {}
        section = ""
        text = (root / "etc/containers/systemd" / f"{INSTANCE}-{name}.container").read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.startswith("["):
                section = line
            elif line and not line.startswith("#") and section == "[Container]":
                key, value = line.split("=", 1)
                self.keys.setdefault(key, []).append(value)

    def volumes(self) -> dict[str, str]:
        """container path -> path on this machine (the host path under the scratch root)."""
        found = {}
        for volume in self.keys.get("Volume", []):
            host, container = volume.split(":")[:2]
            found[container] = str(self.root) + host
        return found

    def translate(self, value: str, image_paths: dict[str, str]) -> str:
        for container, host in {**image_paths, **self.volumes()}.items():
            if value == container or value.startswith(container + "/"):
                return host + value[len(container):]
        return value

    def environment(self) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("SMD_", "BOOT_SERVICE_", "PG"))}
        for path in self.keys.get("EnvironmentFile", []):
            env.update(_env_file(Path(str(self.root) + path)))
        return env

    def argv(self, entrypoint: list[str], image_paths: dict[str, str]) -> list[str]:
        args = shlex.split(self.keys["Exec"][0]) if "Exec" in self.keys else []
        if args and args[0] in image_paths:  # Exec= names the image's program (/smd): run the lab's binary
            args = [image_paths[args[0]]] + args[1:]
        else:
            args = entrypoint + args
        return [self.translate(arg, image_paths) for arg in args]

    @property
    def image(self) -> str:
        return self.keys["Image"][0]


def _wait(what: str, check, proc: subprocess.Popen | None = None, log: Path | None = None, attempts: int = 3000) -> None:
    """Wait on a condition (bounded by attempts, not by a clock); fail early if the process ended."""
    while attempts and not (proc is not None and proc.poll() is not None):
        if check():
            return
        attempts -= 1
        time.sleep(0.2)
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log else ""
    pytest.fail(f"{what} did not become ready\n{tail}")


def _answers(url: str, statuses=(200,), **kwargs) -> bool:
    try:
        return requests.get(url, timeout=5, **kwargs).status_code in statuses
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def deployment():
    """Render the deployment with the role, then run it: PostgreSQL, token server, smd-init, SMD, boot-service, haproxy."""
    state = runtime.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="deploy-test-", dir=state))
    work.chmod(0o755)
    root = work / "root"
    entries = labbuild.load_versions()[0]
    services = manifest()["services"]
    for name in ("smd", "boot-service"):
        assert entries[services[name]["lab"]].version == services[name]["version"]
    built = labbuild.build_many([entries["smd"], entries["boot-service"]])
    assert all(isinstance(path, Path) for path in built.values()), built

    collections = work / "collections" / "ansible_collections" / "cscs"
    collections.mkdir(parents=True)
    (collections / "openchami").symlink_to(REPO_ROOT, target_is_directory=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
               PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    variables = {"openchami_deploy_root": str(root), "openchami_deploy_start": False,
                 "openchami_deploy_instance": INSTANCE, "openchami_deploy_ports": PORTS,
                 "openchami_deploy_public_address": PUBLIC,
                 "openchami_deploy_listen_address": ADDR, "openchami_deploy_token_issuer": labjwt.ISSUER,
                 "openchami_deploy_credentials_dir": str(work / "credentials"), **_tls()}
    (work / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
    playbook = work / "render.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False,
                                         "roles": [{"role": "cscs.openchami.openchami_deploy"}]}]), encoding="utf-8")
    rendered = subprocess.run([str(BIN_DIR / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
                               f"ansible_python_interpreter={sys.executable}", "-e", f"@{work / 'vars.json'}", str(playbook)],
                              env=env, capture_output=True, text=True, check=False)
    assert rendered.returncode == 0, rendered.stdout[-4000:] + rendered.stderr[-2000:]
    secrets = [p.read_text(encoding="utf-8").strip() for p in (work / "credentials" / INSTANCE).iterdir()]
    assert len(secrets) == 3 and not [s for s in secrets + [variables["openchami_deploy_tls_key"].splitlines()[1]]
                                      if s in rendered.stdout + rendered.stderr], "a secret in the role's output"

    procs: list[tuple[str, subprocess.Popen]] = []
    pg = Cluster(work / "pg-state", PORTS["postgres"])
    logs = work / "logs"
    logs.mkdir()
    smd_module = Lab(out=lambda message: None)._module_dir(entries["smd"])  # pylint: disable=protected-access
    images = {  # what each image holds, taken from the lab's build of the same version
        services["smd"]["image"]: {"/smd": str(labbuild.binary(entries["smd"], "smd")),
                                   "/smd-init": str(labbuild.binary(entries["smd"], "smd-init")),
                                   "/persistent_migrations": str(smd_module / "migrations" / "postgres")},
        services["boot-service"]["image"]: {"entrypoint": str(labbuild.binary(entries["boot-service"]))},
    }

    def start(unit: Unit, argv: list[str], extra_env: dict | None = None) -> tuple[subprocess.Popen, Path]:
        log = logs / f"{unit.name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, env={**unit.environment(), **(extra_env or {})}, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
        procs.append((unit.name, proc))
        return proc, log

    def image_of(unit: Unit) -> dict:
        return images[unit.image.rsplit(":", 1)[0]]

    try:
        # PostgreSQL, and the database initialised by the rendered script with the rendered secret environment
        pg.init()
        pg.start(listen=ADDR)
        postgres = Unit(root, "postgres")
        init_env = {**postgres.environment(), "PGHOST": ADDR, "PGPORT": str(PORTS["postgres"])}
        script = postgres.volumes()["/docker-entrypoint-initdb.d/10-openchami.sh"]
        result = subprocess.run(["sh", script], env=init_env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr

        # the lab's token server on TokenSmith's port: the JWKS SMD's rendered environment names
        auth_state = work / "auth"
        auth_state.mkdir()
        labjwt.load_key(auth_state)  # the signing key, made here once (the server would make it at its start)
        token_log = logs / "tokensmith.log"
        with open(token_log, "wb") as out:
            tokensmith = subprocess.Popen([sys.executable, "-m", "lab.authserver", "--state", str(auth_state), "--listen",
                                           f"{ADDR}:{PORTS['tokensmith']}"], cwd=REPO_ROOT, start_new_session=True,
                                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), stdout=out, stderr=subprocess.STDOUT)
        procs.append(("tokensmith", tokensmith))
        _wait("token server", lambda: _answers(f"http://{ADDR}:{PORTS['tokensmith']}/health"), tokensmith, token_log)

        smd_init = Unit(root, "smd-init")
        proc, log = start(smd_init, smd_init.argv([], image_of(smd_init)))
        assert proc.wait(timeout=300) == 0, log.read_text(encoding="utf-8", errors="replace")[-3000:]

        smd = Unit(root, "smd")
        proc, log = start(smd, smd.argv([], image_of(smd)))
        _wait("SMD", lambda: _answers(f"http://{ADDR}:{PORTS['smd']}/hsm/v2/service/ready"), proc, log)

        boot = Unit(root, "boot-service")
        image = image_of(boot)
        proc, log = start(boot, boot.argv([image["entrypoint"]], image))
        _wait("boot-service", lambda: _answers(f"http://{ADDR}:{PORTS['boot-service']}/health"), proc, log)

        haproxy = Unit(root, "haproxy")
        volumes = haproxy.volumes()
        config = Path(volumes["/usr/local/etc/haproxy/haproxy.cfg"]).read_text(encoding="utf-8")
        for container, host in volumes.items():
            config = config.replace(container + "/", host + "/")
        (work / "haproxy.cfg").write_text(config, encoding="utf-8")
        proc, log = start(haproxy, ["haproxy", "-db", "-f", str(work / "haproxy.cfg")])
        ca_file = root / f"etc/openchami/{INSTANCE}/tls/ca.pem"
        public = f"https://{PUBLIC}:{PORTS['haproxy']}"
        _wait("haproxy", lambda: _answers(public + "/hsm/v2/service/ready", verify=str(ca_file)), proc, log)

        yield {"root": root, "work": work, "env": env, "public": public, "ca": ca_file,
               "token": labjwt.mint(auth_state, audience=["smd", "boot-service"], lifetime=3600)}
    finally:
        for proc in reversed([started[1] for started in procs]):
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def test_the_rendered_deployment_serves_the_collections_modules_through_haproxy(deployment):
    """smd_component and boot_config through the rendered haproxy (TLS, the rendered CA), on SMD and boot-service."""
    node = {"components": [{"ID": "x3000c0s1b0n0", "State": "Ready", "Role": "Compute", "NID": 1, "Enabled": True}]}
    boot = {"nodes": ["x3000c0s1b0n0"], "kernel": "http://10.1.0.1/vmlinuz", "initrd": "http://10.1.0.1/initrd",
            "params": "console=ttyS0"}
    tasks = [{"name": f"{what} ({run})", "register": f"{what}_{run}", f"cscs.openchami.{module}": args}
             for run in ("first", "again") for what, module, args in (("node", "smd_component", node), ("boot", "boot_config", boot))]
    tasks.append({"ansible.builtin.copy": {
        "dest": str(deployment["work"] / "results.json"), "mode": "0600",
        "content": "{{ {'node': node_first.changed, 'boot': boot_first.changed, 'again': node_again.changed, "
                   "'boot_again': boot_again.changed} | to_json }}"}})
    play = [{"hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/cscs.openchami.openchami": {
                 "cluster_uri": deployment["public"], "ca_path": str(deployment["ca"]), "token": deployment["token"]}},
             "tasks": tasks}]
    path = deployment["work"] / "use.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    result = subprocess.run([str(BIN_DIR / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
                             f"ansible_python_interpreter={sys.executable}", str(path)],
                            env=deployment["env"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert deployment["token"] not in result.stdout + result.stderr
    outcome = json.loads((deployment["work"] / "results.json").read_text(encoding="utf-8"))
    assert outcome["node"] and outcome["boot"] and not outcome["again"] and not outcome["boot_again"], outcome

    # what a user sees through the same entry: the node in SMD, the configuration in boot-service
    headers = {"Authorization": f"Bearer {deployment['token']}"}
    node = requests.get(deployment["public"] + "/hsm/v2/State/Components/x3000c0s1b0n0", headers=headers,
                        verify=str(deployment["ca"]), timeout=10)
    assert node.status_code == 200 and node.json()["Role"] == "Compute", node.text
    configs = requests.get(deployment["public"] + "/boot-service/bootconfigurations", headers=headers,
                           verify=str(deployment["ca"]), timeout=10)
    assert configs.status_code == 200, configs.text
    assert any(c["spec"].get("kernel") == "http://10.1.0.1/vmlinuz" and "x3000c0s1b0n0" in (c["spec"].get("hosts") or [])
               for c in configs.json()), configs.text
    # and a path no service serves is haproxy's 404, not a service's
    assert requests.get(deployment["public"] + "/nothing", verify=str(deployment["ca"]), timeout=10).status_code == 404
