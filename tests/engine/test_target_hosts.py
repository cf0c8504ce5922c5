"""`--target sandbox` with ENV=production only ever reaches DANA's sandbox.

The run goes through a loopback HTTP proxy (HTTPS_PROXY, which the suite's httpx client honours) that records
every host the suite asks to reach and refuses the tunnel: nothing leaves the machine, and the hosts the
suite tried are known exactly.
"""

from __future__ import annotations

import os
import socketserver
import subprocess
import sys
import threading

from conformance.dana import retry
from conformance.snap import keys


class _Recorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Refuse)
        self.hosts: list[str] = []

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _Refuse(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline(4096).decode("latin-1").split()
        if len(line) >= 2:
            target = line[1]   # CONNECT host:port, or an absolute URL for plain http
            self.server.hosts.append(target.split("://", 1)[-1].split("/", 1)[0])
        self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def _run(args, cwd, env):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_target_sandbox_with_ENV_production_never_contacts_a_production_host(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    payment = os.path.join(root, "scenarios", "widget", "payment.yaml")
    with _Recorder() as proxy:
        proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
        env.update(ENV="production", DANA_ENV="production", X_PARTNER_ID="2026000000000000000001",
                   MERCHANT_ID="216600000000000000001", PRIVATE_KEY=keys.private_key_pem(keys.generate_private_key()),
                   HTTPS_PROXY=proxy_url, HTTP_PROXY=proxy_url, ALL_PROXY=proxy_url, NO_PROXY="",
                   DANA_UAT_RETRY_BACKOFF="0.05")        # the retries of an unreachable DANA, quickly
        # dana-uat run: its preflight probes the target, finds it unreachable and stops (exit 2) naming it
        preflight = _run(["-m", "conformance.cli", "run", "--all", "--target", "sandbox", "-m", "not browser",
                          "--scenarios", payment, "--report-dir", str(tmp_path / "reports")], tmp_path, env)
        assert preflight.returncode == 2, preflight.stdout + preflight.stderr
        assert "cannot reach https://api.sandbox.dana.id" in preflight.stderr
        probed = list(proxy.hosts)
        # the scenarios themselves, through the pytest plugin (no preflight): every call refused by the proxy
        result = _run(["-m", "pytest", payment, "-p", "no:cacheprovider", "-m", "not browser",
                       "--dana-target", "sandbox", "--dana-report-dir", str(tmp_path / "reports")], tmp_path, env)
    # every call refused through the retries: DANA unavailable (exit 3), not a FAIL of the merchant
    assert result.returncode == retry.EXIT_UNAVAILABLE, result.stdout + result.stderr
    assert probed == ["api.sandbox.dana.id:443"]
    assert len(proxy.hosts) >= 10                                      # the run did try to reach DANA...
    assert set(proxy.hosts) == {"api.sandbox.dana.id:443"}             # ...and only ever its sandbox
    written = [p.read_text() for p in (tmp_path / "reports").rglob("*") if p.suffix in (".json", ".html")]
    assert written and not [t for t in written if root in t or str(tmp_path) in t]   # no machine path in evidence
