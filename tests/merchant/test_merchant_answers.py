"""A profile that points at a backend answering what it cannot mean (an HTML page where JSON or a redirect is
expected, a redirect loop) gets a finding naming the endpoint, never a traceback; one that does not answer in
time: test_merchant_mode.py (`merchant answer`, naming the URL and the bound)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.merchant import harness
from tests.merchant.harness import findings


class Backend(BaseHTTPRequestHandler):
    def do_GET(self):   # noqa: N802 - http.server's name
        if self.path.startswith("/html"):          # a login page where the bind endpoint should be
            body = b"<!doctype html><title>Sign in</title><form>...</form>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:                                      # /loop -> /loop/ -> /loop: a redirect rule gone round
            self.send_response(302)
            self.send_header("Location", "/loop/" if not self.path.startswith("/loop/") else "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):   # quiet
        pass


@contextmanager
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def sandbox():
    with harness.sandbox() as server:
        yield server


@pytest.mark.parametrize("path, said", [
    ("/html", "answered HTTP 200 text/html ('<!doctype html><title>Sign in"),
    ("/loop", "redirects in a loop ({url}/loop?phone=083811223355 -> {url}/loop/ -> {url}/loop -> {url}/loop/)"),
])
def test_a_backend_answering_html_or_a_redirect_loop_gets_a_finding_naming_the_endpoint(sandbox, tmp_path, path, said):
    with backend() as url:
        profile = tmp_path / "dana-uat.merchant.yaml"
        profile.write_text(harness.PROFILE.read_text().replace("${MERCHANT_BASE_URL}", url)
                           .replace('path: "/bind?phone={phone}"', f'path: "{path}?phone={{phone}}"'))
        env = harness.credentials(sandbox, tmp_path)
        result = harness.run_uat(sandbox, env, tmp_path, "-k", "forged_callback", profile=profile)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    (finding,) = findings(tmp_path)
    assert finding["check"] == "merchant response"
    assert finding["received"].startswith(f"start a binding: {url}{path}")
    assert said.format(url=url) in finding["received"]
