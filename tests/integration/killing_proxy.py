# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A forwarding HTTP proxy that calls ``on_request(n)`` before forwarding the n-th matching request.

Tests put it between a module and a real service to act at an exact point of a task (kill the service
before the 50th write, say) instead of after a timer: what happens no longer depends on how fast the
machine is.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class KillingProxy:
    """``with KillingProxy(upstream, "POST", r"/Inventory/EthernetInterfaces$", at=50, action=kill) as url:``"""

    def __init__(self, upstream: str, method: str, path_pattern: str, at: int, action):
        self.upstream = upstream.rstrip("/")
        self.method = method
        self.pattern = re.compile(path_pattern)
        self.at = at
        self.action = action
        self.count = 0
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    def __enter__(self) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == proxy.method and proxy.pattern.search(self.path.split("?")[0]):
                    with proxy.lock:
                        proxy.count += 1
                        if proxy.count == proxy.at:
                            proxy.action()
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ("host", "content-length"))
                try:
                    answer = requests.request(self.command, proxy.upstream + self.path, data=body, headers=headers,
                                              timeout=60)
                except requests.RequestException:
                    self.close_connection = True
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
