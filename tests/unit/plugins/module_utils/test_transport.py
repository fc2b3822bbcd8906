# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import os
import socket
import ssl
import subprocess
import tempfile
import threading
from http.server import HTTPServer, BaseHTTPRequestHandler

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import redfish, transport as http
from ansible_collections.cscs.openchami.plugins.module_utils.auth import TokenAuth
from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def client(url, **kw):
    kw.setdefault("sleep", Sleeps())
    return http.Client(url, **kw)


def test_get_returns_json_and_reuses_one_session():
    with FakeServer() as srv:
        c = client(srv.url + "/hsm/v2")
        assert c.get("/State/Components").json == {"ok": True}
        assert c.get("State/Components").json == {"ok": True}
    assert [r["path"] for r in srv.requests] == ["/hsm/v2/State/Components"] * 2
    assert c.request_count == 2


def test_retries_503_then_succeeds_with_growing_backoff():
    answers = [(503, {}, {"message": "busy"}), (502, {}, {}), (504, {}, {}), (200, {}, {"n": 1})]
    with FakeServer(answers) as srv:
        sleeps = Sleeps()
        c = client(srv.url, sleep=sleeps, backoff=1.0, max_backoff=100)
        assert c.get("/x").json == {"n": 1}
    assert len(srv.requests) == 4
    assert len(sleeps) == 3
    # full jitter: each delay is within [0, base * 2**attempt]
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= 2 ** attempt


def test_retry_after_seconds_is_honoured_on_429():
    with FakeServer([(429, {"Retry-After": "7"}, {}), (200, {}, {})]) as srv:
        sleeps = Sleeps()
        client(srv.url, sleep=sleeps, max_backoff=30).get("/")
    assert sleeps == [7.0]


def test_retry_after_http_date():
    now = 1_800_000_000.0
    date = email.utils.format_datetime(datetime.datetime.fromtimestamp(now + 12, tz=datetime.timezone.utc), usegmt=True)
    assert http.retry_after_seconds(date, now=now) == pytest.approx(12, abs=1)
    assert http.retry_after_seconds("garbage") is None


def test_gives_up_after_retries_with_status_in_error():
    with FakeServer(default=(503, {}, {"detail": "database is down"})) as srv:
        c = client(srv.url, retries=2)
        with pytest.raises(http.ApiError) as err:
            c.get("/State/Components")
    assert len(srv.requests) == 3
    assert err.value.status == 503
    assert "GET %s/State/Components failed: HTTP 503: database is down" % srv.url in str(err.value)


def test_post_is_not_retried_unless_marked_safe():
    with FakeServer([(503, {}, {}), (201, {}, {})]) as srv:
        c = client(srv.url)
        with pytest.raises(http.ApiError):
            c.post("/groups", {"label": "a"})
        assert len(srv.requests) == 1
    with FakeServer([(503, {}, {}), (201, {}, {})]) as srv:
        assert client(srv.url).post("/groups", {"label": "a"}, safe=True).status == 201
        assert len(srv.requests) == 2


def test_connection_refused_is_retried_then_reported():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    sleeps = Sleeps()
    c = http.Client("http://127.0.0.1:%d" % port, sleep=sleeps, retries=3)
    with pytest.raises(http.ApiError) as err:
        c.get("/hsm/v2/service/ready")
    assert len(sleeps) == 3
    assert "service unreachable after 4 attempt(s)" in str(err.value)


def test_expect_rejects_other_success_codes():
    with FakeServer([(204, {}, "")]) as srv:
        with pytest.raises(http.ApiError) as err:
            client(srv.url).get("/", expect=(200,))
    assert err.value.status == 204


def test_error_text_never_contains_the_token():
    def echo(req):  # a server that echoes our credentials back in its error body
        return {"detail": "bad token %s" % req["headers"].get("Authorization")}

    logs = []
    auth = TokenAuth(token=TOKEN, environ={})
    with FakeServer(default=(401, {}, echo)) as srv:
        c = client(srv.url, auth=auth, log=logs.append)
        with pytest.raises(http.ApiError) as err:
            c.get("/State/Components")
    assert srv.requests[0]["headers"]["Authorization"] == "Bearer " + TOKEN
    text = str(err.value) + repr(err.value.to_dict()) + "\n".join(logs)
    assert TOKEN not in text
    assert http.REDACTED in str(err.value)
    assert "the token from the token option was rejected" in str(err.value)


def test_password_in_url_and_basic_auth_not_shown():
    with FakeServer(default=(500, {}, lambda r: {"message": "you sent %s" % r["headers"].get("Authorization")})) as srv:
        url = srv.url.replace("http://", "http://root:hunter22@")
        c = client(url, basic_auth=("root", "hunter22"), retries=0)
        with pytest.raises(http.ApiError) as err:
            c.get("/redfish/v1/Systems")
    assert "hunter22" not in str(err.value)
    assert "root:" not in str(err.value)


def test_long_body_is_truncated():
    with FakeServer(default=(400, {}, {"detail": "x" * 5000})) as srv:
        with pytest.raises(http.ApiError) as err:
            client(srv.url).get("/")
    assert len(str(err.value)) < 1000
    assert "(truncated)" in str(err.value)


def test_tls_verification_settings():
    assert http.Client("https://h").session.verify is True
    assert http.Client("https://h", validate_certs=False).session.verify is False
    assert http.Client("https://h", ca_path="/etc/ca.pem").session.verify == "/etc/ca.pem"
    assert http.Client("https://h", validate_certs=False, ca_path="/etc/ca.pem").session.verify is False


@pytest.fixture(scope="module")
def tls_server():
    """A real HTTPS server with a self-signed certificate for 127.0.0.1."""
    tmp = tempfile.mkdtemp()
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % httpd.server_address[1], cert
    httpd.shutdown()


def test_tls_self_signed_rejected_by_default_accepted_with_ca(tls_server):
    url, cert = tls_server
    with pytest.raises(http.ApiError) as err:
        http.Client(url, retries=0).get("/")
    assert "TLS verification failed" in str(err.value)
    assert "ca_path" in str(err.value) and err.value.kind == "tls"
    with pytest.raises(http.ApiError) as err:   # a BMC: the hint names the BMC options
        redfish.Bmc(url.split("://", 1)[1], retries=0).root()
    assert err.value.kind == "tls" and "set bmc_ca_path to the BMCs' CA bundle" in str(err.value)
    assert http.Client(url, ca_path=cert).get("/").status == 200
    assert http.Client(url, validate_certs=False).get("/").status == 200


def test_join_url():
    assert http.join_url("http://a/hsm/v2", "/groups") == "http://a/hsm/v2/groups"
    assert http.join_url("http://a/hsm/v2/", "groups") == "http://a/hsm/v2/groups"
    assert http.join_url("http://a", "https://b/x") == "https://b/x"


def test_backoff_is_capped():
    assert http.backoff_delay(30, 1.0, 10.0, rand=lambda: 1.0) == 10.0
    assert http.backoff_delay(0, 0.5, 10.0, rand=lambda: 1.0) == 0.5
