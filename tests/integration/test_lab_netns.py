# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lab/netns.py: two programs that both listen on the same fixed port each run in a network namespace of
their own, are reached at their own host address, and reach the host's services at the host's addresses.

The stand-in program is Python's http.server on port 28007 (power-control's fixed port) that first fetches a
file from a host server through the relay. Run: ``.venv/bin/python -m pytest tests/integration/test_lab_netns.py``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen) -> requests.Response:
    while True:
        assert proc.poll() is None, f"{proc.args} ended with {proc.returncode}"
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(0.2)


def test_two_programs_on_the_same_fixed_port_each_reached_at_their_own_address(tmp_path):
    (tmp_path / "host.txt").write_text("from the host\n", encoding="utf-8")
    host_port = free_port()
    host = subprocess.Popen([sys.executable, "-m", "http.server", str(host_port), "--bind", "127.0.0.1",
                             "--directory", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    relays = []
    try:
        wait_for(f"http://127.0.0.1:{host_port}/host.txt", host)
        for name in ("one", "two"):
            served = tmp_path / name
            served.mkdir()
            (served / "name.txt").write_text(name + "\n", encoding="utf-8")
            # inside: fetch host.txt from the host's address (relayed out), then serve on the fixed port
            program = [sys.executable, "-c", (
                "import sys, urllib.request, http.server, functools\n"
                f"data = urllib.request.urlopen('http://127.0.0.1:{host_port}/host.txt', timeout=30).read()\n"
                f"open({str(served / 'fetched.txt')!r}, 'wb').write(data)\n"
                f"handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory={str(served)!r})\n"
                "http.server.ThreadingHTTPServer(('0.0.0.0', 28007), handler).serve_forever()\n")]
            port = free_port()
            proc = subprocess.Popen([sys.executable, "-m", "lab.netns", "--listen", f"127.0.0.1:{port}",
                                     "--inner-port", "28007", "--sockets", str(tmp_path / (name + "-sockets")),
                                     "--forward", str(host_port), "--"] + program, cwd=REPO)
            relays.append((name, port, proc))
        for name, port, proc in relays:
            answer = wait_for(f"http://127.0.0.1:{port}/name.txt", proc)
            assert (answer.status_code, answer.text) == (200, name + "\n")
            assert (tmp_path / name / "fetched.txt").read_text(encoding="utf-8") == "from the host\n"
        # nothing listens on the host's 28007 on their behalf
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", 28007)) != 0
        # the relay ends with the program, with its status
        name, port, proc = relays[0]
        proc.terminate()
        assert proc.wait() != 0
        assert requests.get(f"http://127.0.0.1:{relays[1][1]}/name.txt", timeout=5).text == "two\n"
    finally:
        for _name, _port, proc in relays:
            proc.terminate()
            proc.wait()
        host.terminate()
        host.wait()


def test_an_idle_connection_through_the_relay_stays_open(tmp_path):
    """A connection may stay idle longer than the relay's connect timeout (30 s; a database pool's does) and still
    carry data afterwards: the relay used to close it, and power-control's next database ping failed."""
    echo = [sys.executable, "-c", (
        "import socket, threading\n"
        "server = socket.create_server(('0.0.0.0', 28007))\n"
        "def serve(conn):\n"
        "    while True:\n"
        "        data = conn.recv(1024)\n"
        "        if not data:\n"
        "            return\n"
        "        conn.sendall(data)\n"
        "while True:\n"
        "    threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()\n")]
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lab.netns", "--listen", f"127.0.0.1:{port}", "--inner-port", "28007",
                             "--sockets", str(tmp_path / "sockets"), "--forward", "", "--"] + echo, cwd=REPO)
    try:
        while True:
            assert proc.poll() is None, f"the relay ended with {proc.returncode}"
            with socket.socket() as probe:
                probe.settimeout(5)
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    probe.sendall(b"ready")
                    if probe.recv(16) == b"ready":
                        break
            time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(b"before")
            assert conn.recv(16) == b"before"
            time.sleep(31)  # idle for longer than the relay's 30 s connect timeout
            conn.sendall(b"after")
            assert conn.recv(16) == b"after"
    finally:
        proc.terminate()
        proc.wait()
