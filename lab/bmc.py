# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulated BMCs for the local lab: preparation only, no process management.

Two kinds of BMC are prepared here; each ``prepare_*`` function writes what the
BMC needs under a state directory and returns how to start it::

    {"argv": [...],          # run with subprocess.Popen(argv, env=env)
     "env": {...},           # a complete environment (a copy of os.environ plus the BMC's variables)
     "ready_url": "https://IP/redfish/v1",   # answers 200 without credentials once the BMC is up
     "cafile": "/path/cert.pem"}             # the BMC's self-signed certificate, to verify TLS

* :func:`prepare_sushy`: a sushy-tools emulator (fake driver) with one or more
  systems, reachable on ``https://IP`` (port 443).
* :func:`prepare_mockup`: ``lab/mockup_server.py`` serving a static Redfish mockup
  tree (``<mockups>/<vendor>/<model>``, see ``runtime.mockups_root``) with writes kept in memory.

Everything is deterministic from the BMC index (system UUID, name, MAC and IP),
so tests and inventories can predict what discovery will find.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import pprint
import shutil
import sys
import uuid
from pathlib import Path

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MOCKUP_SERVER = Path(__file__).resolve().with_name("mockup_server.py")

# Namespace of the lab's system UUIDs (uuid5 of the node name below it).
LAB_UUID_NAMESPACE = uuid.UUID("6f70656e-6368-616d-692d-6c61622d626d")

CERT_DAYS = 825
_CERT_RENEW_MARGIN = datetime.timedelta(days=30)


# --------------------------------------------------------------------------- systems


def system_uuid(index: int) -> str:
    """The UUID of the default system of BMC ``index`` (stable across runs)."""
    return str(uuid.uuid5(LAB_UUID_NAMESPACE, f"node{index}"))


def node_mac(index: int, nic: int = 0) -> str:
    """MAC ``02:00:00:<nic>:<hi>:<lo>`` (locally administered) of NIC ``nic`` of BMC ``index``'s system."""
    if not 0 <= index <= 0xFFFF or not 0 <= nic <= 0xFF:
        raise ValueError(f"BMC index must be 0..65535 and NIC 0..255, got {index}, {nic}")
    return f"02:00:00:{nic:02x}:{index >> 8:02x}:{index & 0xFF:02x}"


def node_ip(index: int) -> str:
    """The IPv4 address given to the default system's NIC (sushy does not show it over Redfish)."""
    if not 0 <= index <= 0xFFFF:
        raise ValueError(f"BMC index must be 0..65535, got {index}")
    return f"10.200.{index >> 8}.{index & 0xFF}"


def default_systems(index: int) -> list[dict]:
    """The systems of BMC ``index`` when none are given: one node, powered off, one NIC."""
    return [{
        "uuid": system_uuid(index),
        "name": f"node{index}",
        "power_state": "Off",
        "external_notifier": False,
        "nics": [{"mac": node_mac(index), "ip": node_ip(index)}],
    }]


def bmc_macs(index: int, systems: list[dict] | None = None) -> list[str]:
    """The NIC MACs (lower case) that BMC ``index`` reports, in system then NIC order."""
    if systems is None:
        systems = default_systems(index)
    return [nic["mac"].lower() for system in systems for nic in system.get("nics", [])]


# --------------------------------------------------------------------------- TLS


def _cert_matches(certfile: Path, keyfile: Path, ip: str) -> bool:
    """True if ``certfile`` is a usable certificate for ``ip`` for at least another month."""
    try:
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
        key = serialization.load_pem_private_key(keyfile.read_bytes(), password=None)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    if ipaddress.ip_address(ip) not in san.get_values_for_type(x509.IPAddress):
        return False
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        return False
    now = datetime.datetime.now(datetime.timezone.utc)
    return cert.not_valid_after_utc - now > _CERT_RENEW_MARGIN


def make_cert(directory: Path | str, ip: str) -> tuple[str, str]:
    """Write (or keep, if still valid for ``ip``) a self-signed certificate and its key.

    The certificate is its own CA (so it can be given as ``cafile``/``verify=``) and names
    ``ip`` in its subjectAltName; it also passes OpenSSL's strict X.509 checks (the default
    of Python 3.13 clients). Returns ``(certfile, keyfile)`` as strings.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    if _cert_matches(certfile, keyfile, ip):
        return str(certfile), str(keyfile)

    address = ipaddress.ip_address(ip)
    key = ec.generate_private_key(ec.SECP256R1())  # ECDSA P-256: instant, and every TLS client has it
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cscs.openchami lab"),
        x509.NameAttribute(NameOID.COMMON_NAME, str(address)),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(address)]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(keyfile, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(certfile), str(keyfile)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _base_url(ip: str, port: int) -> str:
    host = f"[{ip}]" if ipaddress.ip_address(ip).version == 6 else ip
    return f"https://{host}" if port == 443 else f"https://{host}:{port}"


# --------------------------------------------------------------------------- sushy-tools


def write_htpasswd(path: Path, user: str, password: str) -> None:
    """An htpasswd file with one bcrypt (``$2b$``, cost 4: fast, this is a lab) entry."""
    if ":" in user:
        raise ValueError("user names cannot contain ':'")
    digest = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=4, prefix=b"2b")).decode("ascii")
    _write_private(path, f"{user}:{digest}\n".encode("utf-8"))


def prepare_sushy(state_dir: Path, index: int, ip: str, user: str, password: str,
                  systems: list[dict] | None = None, notify_url: str | None = None) -> dict:
    """Prepare sushy-tools emulator number ``index`` on ``https://ip`` (port 443) in ``state_dir/bmc-<index>/``.

    Writes a fresh emulator config (fake driver), an htpasswd file, a TLS certificate for
    ``ip`` and an empty sushy state directory: sushy keeps systems in
    ``<state>/fakedriver.sqlite`` and only adds configured systems whose UUID it has not
    stored, so an old state would keep old power states and boot settings.

    ``systems`` are sushy fake-driver systems (``uuid``, ``name``, ``power_state``,
    ``nics: [{mac, ip}]``, ...); default: :func:`default_systems` of ``index``.
    ``notify_url``: sushy PUTs every change of a system there (``external_notifier``; the node-boot simulator,
    lab/nodeboot.py); without it nothing is notified.
    """
    systems = default_systems(index) if systems is None else [dict(system) for system in systems]
    if not systems:
        raise ValueError("a sushy BMC needs at least one system")
    for system in systems:
        if notify_url:  # every system tells the node-boot simulator
            system["external_notifier"] = True
        system.setdefault("external_notifier", False)
        system.setdefault("power_state", "Off")
        system.setdefault("nics", [])
        if "uuid" not in system or "name" not in system:
            raise ValueError(f"each system needs 'uuid' and 'name': {system!r}")
        json.dumps(system)  # plain data only: it goes into a Python config file as literals

    bmc_dir = Path(state_dir) / f"bmc-{index}"
    bmc_dir.mkdir(parents=True, exist_ok=True)
    sushy_state = bmc_dir / "sushy-state"
    if sushy_state.exists():
        shutil.rmtree(sushy_state)
    sushy_state.mkdir()

    certfile, keyfile = make_cert(bmc_dir, ip)
    auth_file = bmc_dir / "htpasswd"
    write_htpasswd(auth_file, user, password)

    config = bmc_dir / "emulator.conf"
    settings = {
        "SUSHY_EMULATOR_LISTEN_IP": ip,
        "SUSHY_EMULATOR_LISTEN_PORT": 443,
        "SUSHY_EMULATOR_SSL_CERT": certfile,
        "SUSHY_EMULATOR_SSL_KEY": keyfile,
        "SUSHY_EMULATOR_AUTH_FILE": str(auth_file),
        "SUSHY_EMULATOR_STATE_DIR": str(sushy_state),
        # Only the config key selects the fake driver (the environment variable is ignored).
        "SUSHY_EMULATOR_FAKE_DRIVER": True,
        "SUSHY_EMULATOR_FAKE_SYSTEMS": systems,
        # Without a notify_url nothing listens there; set anyway so a system with external_notifier does not hang.
        "EXTERNAL_NOTIFICATION_URL": notify_url or "http://127.0.0.1:9",
    }
    lines = [f"# sushy-tools emulator config for lab BMC {index} ({ip}); written by lab/bmc.py, rewritten on every start"]
    lines += [f"{key} = {pprint.pformat(value, width=120, sort_dicts=False)}" for key, value in settings.items()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    env = dict(os.environ)
    env.update({"SUSHY_EMULATOR_CONFIG": str(config), "PYTHONUNBUFFERED": "1"})
    # sushy's persistent dicts default to $TMPDIR/sushy-emulator when the state dir is unset:
    # point TMPDIR into the BMC's own state as well, so nothing is shared between BMCs.
    env["TMPDIR"] = str(sushy_state)
    return {
        "argv": [sys.executable, "-m", "sushy_tools.emulator.main", "--config", str(config)],
        "env": env,
        "ready_url": _base_url(ip, 443) + "/redfish/v1",
        "cafile": certfile,
    }


# --------------------------------------------------------------------------- static mockups


def prepare_mockup(state_dir: Path, name: str, mockup_dir: Path, ip: str, port: int, user: str, password: str) -> dict:
    """Prepare ``lab/mockup_server.py`` serving the mockup tree ``mockup_dir`` on ``https://ip:port``.

    Files go to ``state_dir/mockup-<name>/`` (certificate, key, password file). The
    password is handed over in a file, not on the command line. Writes the server accepts
    stay in its memory; the tree on disk is never changed.
    """
    mockup_dir = Path(mockup_dir).resolve()
    if not (mockup_dir / "index.json").is_file():
        raise FileNotFoundError(f"not a short-form Redfish mockup (no index.json): {mockup_dir}")
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad mockup BMC name: {name!r}")
    bmc_dir = Path(state_dir) / f"mockup-{name}"
    bmc_dir.mkdir(parents=True, exist_ok=True)
    certfile, keyfile = make_cert(bmc_dir, ip)
    password_file = bmc_dir / "password"
    _write_private(password_file, password.encode("utf-8"))
    argv = [sys.executable, str(MOCKUP_SERVER), "--root", str(mockup_dir), "--host", ip, "--port", str(port),
            "--cert", certfile, "--key", keyfile, "--user", user, "--password-file", str(password_file)]
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return {
        "argv": argv,
        "env": env,
        "ready_url": _base_url(ip, port) + "/redfish/v1",
        "cafile": certfile,
    }
