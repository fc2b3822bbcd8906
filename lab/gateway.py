# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for the API gateway (or service mesh) between a service and SMD: it relays every request to SMD
and gives one that carries no token the lab's service token.

A real power-control needs it: its SMD reservation client (``smd/v2/pkg/service-reservations``, which takes
the component locks ``/hsm/v2/locks/service/reservations*`` before every transition) has an HTTP client of
its own that sends no token, while the lab's SMD checks tokens on every route. In a deployment the gateway or
the mesh in front of SMD authenticates such in-cluster calls; here this relay does, for the real
power-control only (``$LAB_POWER_CONTROL_BIN``). A request that has a token keeps it.

    python -m lab.gateway --listen 127.0.0.1:27772 --upstream http://127.0.0.1:27779 --token-url URL
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

# hop-by-hop headers (RFC 9110 7.6.1) and what requests sets itself
SKIP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
        "content-length", "content-encoding"}


class Tokens:
    """The service token from the lab token endpoint, fetched once and again after a 401."""

    def __init__(self, url: str):
        self.url = url
        self.token = ""
        self.lock = threading.Lock()

    def get(self, fresh: bool = False) -> str:
        with self.lock:
            if fresh or not self.token:
                self.token = requests.get(self.url, timeout=10).json()["access_token"]
            return self.token


class Handler(BaseHTTPRequestHandler):
    """Relays any method to the upstream."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    tokens: Tokens = None
    local = threading.local()  # a session (kept connections) per handler thread

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {key: value for key, value in self.headers.items() if key.lower() not in SKIP}
        added = "authorization" not in {key.lower() for key in headers}
        try:
            for fresh in (False, True):
                if added:
                    headers["Authorization"] = "Bearer " + self.tokens.get(fresh)
                if not hasattr(self.local, "session"):
                    self.local.session = requests.Session()
                answer = self.local.session.request(self.command, self.upstream + self.path, headers=headers,
                                                    data=body, timeout=60, allow_redirects=False)
                if answer.status_code != 401 or not added:
                    break
        except (requests.RequestException, ValueError, KeyError) as exc:
            data = ('{"detail": "lab gateway: %s"}' % type(exc).__name__).encode()
            self.send_response(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        data = answer.content
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in SKIP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _relay  # noqa: N815

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))
        sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m lab.gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--upstream", required=True, help="base URL requests are relayed to")
    parser.add_argument("--token-url", required=True, help="lab token endpoint (GET) for requests without a token")
    parser.add_argument("--rev", help="ignored: lets the lab tell code revisions apart")
    args = parser.parse_args(argv)
    host, _sep, port = args.listen.rpartition(":")
    handler = type("GatewayHandler", (Handler,), {"upstream": args.upstream.rstrip("/"),
                                                  "tokens": Tokens(args.token_url)})
    server = ThreadingHTTPServer((host, int(port)), handler)
    server.daemon_threads = True
    sys.stderr.write("lab gateway on %s -> %s\n" % (args.listen, args.upstream))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
