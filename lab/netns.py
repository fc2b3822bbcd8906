# Copyright (c) 2026 CSCS
# SPDX-License-Identifier: MIT
"""Run a program that listens on a fixed port (power-control: ``:28007``, every interface, no flag) in a
network namespace of its own, so that several labs on one machine do not collide on that port.

``python -m lab.netns --listen HOST:PORT --inner-port 28007 --sockets DIR --forward 443,27779 -- PROGRAM ARGS``

* this process (in the host's namespace) listens on ``HOST:PORT`` and relays every connection into the
  namespace, where it reaches ``127.0.0.1:<inner-port>``: the program's port;
* it starts ``unshare -n`` (``unshare -rn`` when not root) running this module again with ``--inside``:
  that brings the namespace's loopback up, listens on ``0.0.0.0:<port>`` for every ``--forward`` port and
  relays each connection out to the same address and port on the host (a connection to ``127.0.1.3:443``
  made by the program inside reaches ``127.0.1.3:443`` outside: the lab's URLs and BMC addresses need no
  translation), then runs the program;
* the two sides meet on Unix sockets in ``--sockets`` (the file system is shared, the network is not).

Only loopback addresses are relayed out. The process ends when the program ends, with its exit status.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

IN_SOCKET = "in.sock"
OUT_SOCKET = "out.sock"


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _join(a: socket.socket, b: socket.socket) -> None:
    """Copy both ways until both sides have closed, then close both. No timeout while copying: a connection may stay
    idle for long (a database pool's), and a relay that closed it would fail the program's next use of it."""
    a.settimeout(None)
    b.settimeout(None)
    back = threading.Thread(target=_pipe, args=(b, a), daemon=True)
    back.start()
    _pipe(a, b)
    back.join()
    a.close()
    b.close()


def _serve(listener: socket.socket, connect) -> None:
    """Accept forever; ``connect(conn)`` returns the other end (or None to drop the connection)."""
    def handle(conn: socket.socket) -> None:
        try:
            other = connect(conn)
        except (OSError, ValueError) as exc:
            print(f"lab.netns: dropped a connection: {exc}", file=sys.stderr, flush=True)
            other = None
        if other is None:
            conn.close()
            return
        _join(conn, other)

    while True:
        conn = listener.accept()[0]
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def _unix_listener(path: Path) -> socket.socket:
    if path.exists() or path.is_socket():
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(128)
    return sock


def _tcp_listener(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _unix_connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return sock


def _read_line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n") and len(data) < 64:
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace").strip()


def _outside(args, program: list[str]) -> int:
    sockets = Path(args.sockets)
    sockets.mkdir(parents=True, exist_ok=True)
    host, port = args.listen.rsplit(":", 1)
    inbound = _tcp_listener(host, int(port))
    outbound = _unix_listener(sockets / OUT_SOCKET)
    allowed = {int(item) for item in args.forward.split(",") if item}

    def out(conn: socket.socket):
        # the inside names the address the program connected to: "IP PORT"
        ip, _sep, text = _read_line(conn).partition(" ")
        if not text.isdigit() or int(text) not in allowed or not ipaddress.ip_address(ip).is_loopback:
            return None
        return socket.create_connection((ip, int(text)), timeout=30)

    def into(_conn: socket.socket):
        return _unix_connect(sockets / IN_SOCKET)

    threading.Thread(target=_serve, args=(outbound, out), daemon=True).start()
    threading.Thread(target=_serve, args=(inbound, into), daemon=True).start()
    unshare = [shutil.which("unshare") or "unshare", "-n" if os.geteuid() == 0 else "-rn"]
    inner = unshare + [sys.executable, "-m", "lab.netns", "--inside", "--sockets", str(sockets), "--inner-port",
                       str(args.inner_port), "--forward", args.forward, "--"] + program
    return _run(inner)


def _inside(args, program: list[str]) -> int:
    sockets = Path(args.sockets)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for port in [int(item) for item in args.forward.split(",") if item]:
        def out(conn: socket.socket):
            ip, port = conn.getsockname()[:2]
            other = _unix_connect(sockets / OUT_SOCKET)
            other.sendall(f"{ip} {port}\n".encode("ascii"))
            return other
        threading.Thread(target=_serve, args=(_tcp_listener("0.0.0.0", port), out), daemon=True).start()
    inbound = _unix_listener(sockets / IN_SOCKET)
    threading.Thread(target=_serve, args=(inbound, lambda _c: socket.create_connection(
        ("127.0.0.1", args.inner_port), timeout=30)), daemon=True).start()
    return _run(program)


def _run(argv: list[str]) -> int:
    """Run ``argv``, passing SIGTERM and SIGINT on to it; its exit status."""
    child = subprocess.Popen(argv)  # pylint: disable=consider-using-with
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: child.send_signal(number))
    return child.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        raise SystemExit("usage: python -m lab.netns [options] -- PROGRAM [ARGS]")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m lab.netns")
    parser.add_argument("--listen", help="HOST:PORT on the host that reaches the program's port")
    parser.add_argument("--inner-port", type=int, required=True, help="the port the program listens on")
    parser.add_argument("--sockets", required=True, help="directory of the two Unix sockets")
    parser.add_argument("--forward", default="", help="comma-separated ports relayed out to the host")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv[:split])
    program = argv[split + 1:]
    if not program:
        raise SystemExit("python -m lab.netns: no program given")
    if args.inside:
        return _inside(args, program)
    if not args.listen:
        raise SystemExit("python -m lab.netns: --listen HOST:PORT is required")
    return _outside(args, program)


if __name__ == "__main__":
    STATUS = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(STATUS)  # the relay threads may be blocked in accept() or recv(): do not wait for them
