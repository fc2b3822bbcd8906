# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's node-boot simulator (``python -m lab up --nodeboot``): lab nodes that boot when they are powered on.

The emulated BMCs (sushy-tools, fake driver) tell this server about every change of a node (``external_notifier``:
sushy PUTs the system to ``/notify/<bmc>``). When a node's power goes On (after a ``ComputerSystem.Reset`` On or a
restart), the node boots as on a real machine:

1. DHCP: the MAC of its first NIC (as the BMC reports it) is looked up in OpenCHAMI's SMD
   (``/Inventory/EthernetInterfaces``): there, OpenCHAMI's DHCP (coresmd) answers and the node is sent to
   OpenCHAMI's BSS; else in CSM's HSM (CSM's Kea reservations are built from it): the node goes to CSM's BSS,
   through CSM's gateway (``/apis/bss``); else nobody answers and nothing is fetched.
2. iPXE: ``GET <bss>/boot/v1/bootscript?mac=<MAC>``, following BSS's ``chain`` answers (``${buildarch}`` is
   ``x86_64``; BSS's ``sleep N`` is shortened to at most 1 s) until a script with a kernel comes (at most 5 requests).
   BSS records a served script in its ``endpoint-history`` (``?name=<xname>&endpoint=bootscript``): that is how a
   migration tells which system booted a node.

Which key is asked: OpenCHAMI's BSS by ``mac`` (what coresmd's iPXE asks). BSS v1.32.2 with its PostgreSQL store
(the lab's, OpenCHAMI's) finds boot parameters by MAC only when they were stored under that MAC (``macs``, which
``boot_config`` writes with ``by_mac``), not under the xname (``hosts``). ``LAB_NODEBOOT_OPENCHAMI_BY`` (default
``mac``) sets the keys, tried in turn while an answer has no kernel: ``name`` asks by the xname DHCP resolved (a
node whose iPXE asks by its name), ``mac,name`` one then the other. CSM's BSS by ``name``: CSM's BSS (etcd store)
resolves the MAC to the xname through HSM itself; the lab's csm-bss runs BSS's PostgreSQL store, which does not, so
the simulator asks it by the xname HSM gives for the MAC.
Either BSS renders the node's script only when SMD/HSM lists the node with an enabled ComponentEndpoint (a
registered BMC).

Failing nodes (for rollback tests): xnames listed in ``<state>/nodeboot/fail`` (one a line, ``#`` comments; read
at every boot) or in ``LAB_NODEBOOT_FAIL`` (comma-separated, read at start) never fetch anything. A line
``<xname> openchami`` (or ``csm``) fails only the boots whose DHCP answer comes from that side: a node that cannot
boot OpenCHAMI's image but boots CSM's.

A power-on is also driven to its end here: sushy applies a pending power state only when someone reads the system,
so the simulator reads it once its time has come (a node boots whether or not anybody polls its BMC).

Every boot is appended to ``<state>/nodeboot/boots.jsonl`` (``GET /boots`` returns them): time, bmc, system, mac,
xname, dhcp (``openchami``, ``csm`` or null), outcome (``booted``, ``failed (listed)``, ``no DHCP answer``,
``no boot script``), the requests made and BSS's last status.

    python -m lab.nodeboot --listen HOST:PORT --config FILE
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

ARCH = "x86_64"
MAX_REQUESTS = 5
MAX_SLEEP = 1.0


class Booter:
    """The nodes' side: what a node does when its power goes On."""

    def __init__(self, config: Path):
        self.config_file = config
        self.lock = threading.Lock()
        self.last: dict = {}  # (bmc, uuid) -> the system as last notified
        self.token: tuple = ("", 0.0)  # CSM token, expiry

    @property
    def config(self) -> dict:
        return json.loads(self.config_file.read_text(encoding="utf-8"))

    def notified(self, bmc: str, system: dict) -> None:
        """sushy's notification about one system of ``bmc``."""
        key = (bmc, system.get("uuid"))
        with self.lock:
            before = self.last.get(key)
            self.last[key] = system
        pending = system.get("pending_power")
        if pending:
            delay = max(0.0, float(pending.get("apply_time", 0)) - time.time()) + 0.05
            threading.Timer(delay, self.poke, (bmc, system["uuid"])).start()
        elif system.get("power_state") == "On" and before is not None and (
                before.get("pending_power") or before.get("power_state") != "On"):
            threading.Thread(target=self.boot, args=(bmc, system), daemon=True).start()

    def poke(self, bmc: str, uuid: str) -> None:
        """Read the system at its BMC: sushy then applies the pending power state (and notifies us)."""
        info = self.config["bmcs"].get(bmc)
        if not info:
            return
        try:
            requests.get(f"{info['url']}/redfish/v1/Systems/{uuid}", auth=(info["user"], info["password"]),
                         verify=info["cafile"], timeout=30)
        except requests.RequestException:
            pass

    # ------------------------------------------------------------------ boot
    def failing(self, side: str) -> set:
        """The xnames whose boot fails when DHCP sends them to ``side``: listed alone, or followed by that side."""
        config = self.config
        listed = set(filter(None, (os.environ.get("LAB_NODEBOOT_FAIL") or "").replace(" ", "").split(",")))
        try:
            text = Path(config["fail_file"]).read_text(encoding="utf-8")
        except OSError:
            text = ""
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if words and (len(words) == 1 or side in words[1:]):
                listed.add(words[0])
        return listed

    def csm_token(self, csm: dict) -> str:
        token, expires = self.token
        if token and expires - time.time() > 30:
            return token
        secret = Path(csm["secret_file"]).read_text(encoding="utf-8").strip()
        answer = requests.post(csm["token_url"], data={"grant_type": "client_credentials"},
                               auth=(csm["client_id"], secret), timeout=30)
        answer.raise_for_status()
        body = answer.json()
        self.token = (body["access_token"], time.time() + float(body.get("expires_in", 60)))
        return self.token[0]

    def dhcp(self, mac: str) -> tuple:
        """(side, xname) of the DHCP that answers ``mac``: OpenCHAMI's SMD first, then CSM's HSM; (None, None)."""
        config = self.config
        sides = [("openchami", config["openchami"]["smd"], None)]
        if config.get("csm"):
            sides.append(("csm", config["csm"]["hsm"], config["csm"]))
        for side, smd, csm in sides:
            headers = {"Authorization": "Bearer " + self.csm_token(csm)} if csm else {}
            answer = requests.get(smd + "/Inventory/EthernetInterfaces", params={"MACAddress": mac}, headers=headers,
                                  timeout=30)
            answer.raise_for_status()
            owners = [item["ComponentID"] for item in answer.json() or [] if item.get("ComponentID")]
            if owners:
                return side, owners[0]
        return None, None

    def boot(self, bmc: str, system: dict) -> None:
        nics = system.get("nics") or []
        mac = (nics[0].get("mac") or "").lower() if nics else ""
        record = {"time": time.time(), "bmc": bmc, "system": system.get("name"), "uuid": system.get("uuid"),
                  "mac": mac, "xname": None, "dhcp": None, "requests": [], "status": None}
        try:
            side, xname = self.dhcp(mac) if mac else (None, None)
            record.update(dhcp=side, xname=xname)
            if not side:
                record["outcome"] = "no DHCP answer"
            elif xname in self.failing(side):
                record["outcome"] = "failed (listed)"
            else:
                self.ipxe(record, side, mac, xname)
        except (requests.RequestException, OSError, ValueError, KeyError) as exc:
            record["outcome"] = f"error: {exc}"
        self.write(record)

    def ipxe(self, record: dict, side: str, mac: str, xname: str) -> None:
        """Fetch the boot script as iPXE does, following BSS's chain answers (``by``: keys tried in turn)."""
        config = self.config[side]
        keys = [key.strip() for key in config.get("by", "mac").split(",") if key.strip()]
        record["outcome"] = "no boot script"
        for key in keys[:-1]:  # an earlier key gets one request: a script with a kernel, or the next key
            url = config["bss"] + "/bootscript?" + (f"mac={mac}" if key == "mac" else f"name={xname}")
            record["requests"].append(url)
            answer = requests.get(url, timeout=30)
            record["status"] = answer.status_code
            if answer.ok and re.search(r"^kernel ", answer.text, re.M):
                record["outcome"] = "booted"
                return
        url = config["bss"] + "/bootscript?" + (f"mac={mac}" if keys[-1] == "mac" else f"name={xname}")
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(config["bss"]))
        prefix = urlsplit(config["bss"]).path  # the chain names BSS's path behind CSM's gateway
        for _dummy in range(MAX_REQUESTS):
            record["requests"].append(url)
            answer = requests.get(url, timeout=30)
            record["status"] = answer.status_code
            script = answer.text if answer.ok else ""
            if re.search(r"^kernel ", script, re.M):
                record["outcome"] = "booted"
                return
            chain = re.search(r"^chain (\S+)", script, re.M)
            if not chain:
                return
            sleep = re.search(r"^sleep (\d+)", script, re.M)
            if sleep:
                time.sleep(min(float(sleep.group(1)), MAX_SLEEP))
            target = urlsplit(chain.group(1).replace("${buildarch}", ARCH))
            path = target.path[target.path.index("/boot/v1"):] if "/boot/v1" in target.path else target.path
            url = origin + prefix[:prefix.index("/boot/v1")] + path + "?" + target.query

    def write(self, record: dict) -> None:
        with self.lock:
            with open(self.config["boots_file"], "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    def boots(self) -> list:
        try:
            lines = Path(self.config["boots_file"]).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


class Handler(BaseHTTPRequestHandler):
    booter: Booter

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):  # noqa: N802  pylint: disable=invalid-name
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.startswith("/notify/"):
            self.booter.notified(self.path[len("/notify/"):], body)
            return self._send(200, {})
        return self._send(404, {"detail": "no route"})

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        if self.path == "/health":
            return self._send(200, {"status": "ok"})
        if self.path == "/boots":
            return self._send(200, self.booter.boots())
        return self._send(404, {"detail": "no route"})

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.nodeboot")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--config", required=True, help="JSON written by the lab (services, BMCs, files)")
    parser.add_argument("--rev", help="code and configuration revision (lets `lab up` notice a change)")
    args = parser.parse_args(argv)
    host, port = args.listen.rsplit(":", 1)
    Handler.booter = Booter(Path(args.config))
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
