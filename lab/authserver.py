# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's token service: serves the JWKS of the lab key and hands out lab tokens.

``python -m lab.authserver --state DIR --listen 127.0.0.1:PORT``

* ``GET /.well-known/jwks.json`` (also ``/jwks``, ``/keys``): the JWKS (SMD's ``-jwks-url``).
* ``GET /.well-known/openid-configuration``: issuer, jwks_uri, token_endpoint.
* ``POST|GET /token`` (also ``/oauth2/token``): ``{"access_token": <PS256 token>, ...}`` for any caller.
  This stands in for the OpenCHAMI token endpoint (opaal/hydra) that BSS
  (``BSS_OAUTH2_ADMIN_BASE_URL``) and the cloud-init server (``TOKEN_URL``) ask when SMD answers 401.
  A lab convenience only: it authenticates nobody, so it listens on loopback.
* ``POST /oauth/token``: the same, shaped as TokenSmith's RFC 8693 exchange answer (adds
  ``refresh_token``/``refresh_expires_in``), for boot-service's ``--tokensmith-url``.
* ``GET /health``: 200.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lab import jwt as labjwt

TOKEN_LIFETIME = 3600
TOKEN_PATHS = ("/token", "/oauth2/token", "/oauth/token")


class Handler(BaseHTTPRequestHandler):
    """Answers the few paths of the token service."""

    server_version = "lab-authserver/1"
    state_dir: Path = Path(".")
    base_url = ""

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        """JWKS, discovery document, health."""
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/.well-known/jwks.json", "/jwks", "/keys", "/jwks.json"):
            self._send(200, labjwt.jwks(self.state_dir))
        elif path == "/.well-known/openid-configuration":
            self._send(200, {
                "issuer": labjwt.ISSUER,
                "jwks_uri": self.base_url + "/.well-known/jwks.json",
                "token_endpoint": self.base_url + "/token",
                "id_token_signing_alg_values_supported": ["PS256"],
            })
        elif path in ("/health", ""):
            self._send(200, {"status": "ok"})
        elif path in TOKEN_PATHS:
            # the cloud-init server asks its TOKEN_URL with GET (as opaal serves it)
            self._token()
        else:
            self._send(404, {"error": "not_found", "path": path})

    def _token(self) -> None:
        token = labjwt.mint(self.state_dir, lifetime=TOKEN_LIFETIME)
        self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
                         "scope": " ".join(labjwt.SCOPES),
                         "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                         "refresh_token": secrets.token_urlsafe(24), "refresh_expires_in": 24 * 3600})

    def do_POST(self):  # noqa: N802  pylint: disable=invalid-name
        """Token endpoint: every request gets a fresh lab token."""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in TOKEN_PATHS:
            self._token()
        else:
            self._send(404, {"error": "not_found", "path": path})

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """One line per request on stderr (the lab's log file)."""
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))
        sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m lab.authserver")
    parser.add_argument("--state", required=True, help="lab state directory (holds jwt/signing-key.pem)")
    parser.add_argument("--listen", default="127.0.0.1:27700", help="HOST:PORT")
    parser.add_argument("--rev", help="ignored: lets the lab tell code revisions apart")
    args = parser.parse_args(argv)
    host, _sep, port = args.listen.rpartition(":")
    Handler.state_dir = Path(args.state)
    Handler.base_url = "http://%s:%s" % (host, port)
    labjwt.load_key(Handler.state_dir)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    sys.stderr.write("lab authserver on %s\n" % Handler.base_url)
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
