"""The admin API is closed to strangers off loopback (issue 26, part 1; conformance/sandbox/access.py).

The main test makes a network namespace itself (as root: ``unshare --net --mount``, ``ip link set lo up``,
plus a non-loopback address on it), runs ``dana-uat sandbox --host 0.0.0.0`` there and calls it from the
same namespace, over that non-loopback address (tests/sandbox/netns_admin_probe.py observes, this asserts).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance.sandbox.access import AdminAccess, is_loopback
from conformance.sandbox.admin import PREFIX
from conformance.sandbox.app import create_app
from conformance.sandbox.sandbox_tools import PATH as SANDBOX_TOOLS
from conformance.sandbox.server import SandboxServer
from conformance.sandbox.state import Sandbox
from tests.sandbox.conftest import HTTP

ROOT = Path(__file__).resolve().parents[2]
NS_ADDRESS = "10.26.0.1"         # given to the namespace's lo: an address that is not loopback
HEALTH = f"GET {PREFIX}/health"


def admin_routes_mounted(access: AdminAccess) -> set[str]:
    app = create_app(Sandbox(), admin=access)
    return {f"{m} {r.path}" for r in app.routes if r.path.startswith(PREFIX) for m in r.methods if m != "HEAD"}


def namespace_problem() -> str | None:
    if os.geteuid() != 0:
        return "making a network namespace needs root (unshare --net)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip (util-linux, iproute2) is not installed"
    made = subprocess.run(["unshare", "--net", "--mount", "ip", "link", "set", "lo", "up"],
                          capture_output=True, text=True, timeout=30)
    if made.returncode != 0:
        return f"no network namespace can be made here: {made.stderr.strip() or made.returncode}"
    return None


@pytest.fixture(scope="module")
def probe() -> dict:
    problem = namespace_problem()
    if problem:
        pytest.skip(problem)
    script = (f"ip link set lo up && ip addr add {NS_ADDRESS}/32 dev lo && "
              f"exec {sys.executable} -m tests.sandbox.netns_admin_probe {NS_ADDRESS}")
    done = subprocess.run(["unshare", "--net", "--mount", "sh", "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_probe_covers_every_admin_route(probe):
    """A new admin route must join the probe's table, or this fails: none escapes the token check."""
    routes = admin_routes_mounted(AdminAccess.for_host("0.0.0.0"))
    called = {f"{method} {PREFIX}{_template(path)}"
              for method, path in (c["route"].split(" ", 1) for c in probe["with_token"])}
    assert called | {HEALTH} == routes


def _template(path: str) -> str:
    """/orders/<ref>/pay -> /orders/{ref:path}/pay, as the route is declared."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "orders":
        return "/orders/{ref:path}" + ("/pay" if parts[-1] == "pay" else "")
    return path


def test_off_loopback_every_admin_route_wants_the_token(probe):
    assert probe["listening"].startswith("http://0.0.0.0:")
    assert probe["token_printed"], probe["banner"]
    assert any("bearer token required" in line for line in probe["banner"])
    for call in probe["no_token"] + probe["wrong_token"] + probe["basic_scheme"]:
        assert call["status"] == 401, call
        assert set(call["body"]) == {"error"} and "DANA_UAT_SANDBOX_TOKEN" in call["body"]["error"], call
        assert call["www_authenticate"].startswith("Bearer"), call
    for call in probe["with_token"]:
        assert 200 <= call["status"] < 300, call


def test_without_the_token_nothing_changes_and_nothing_is_signed(probe):
    (send,) = [c for c in probe["no_token"] if c["route"] == "POST /notifications/send"]
    assert "X-SIGNATURE" not in json.dumps(send["body"]).upper() and "request" not in send["body"]
    after = probe["after_strangers"]
    assert "2025112100000000000666" not in after["merchants"]          # the stranger's merchant
    assert after["offsetSeconds"] == 0                                   # the stranger's day forward
    assert after["order_status"] == "INIT"                               # the stranger's payment
    (signed,) = [c for c in probe["with_token"] if c["route"] == "POST /notifications/send"]
    assert {k.upper(): v for k, v in signed["body"]["request"]["headers"].items()}["X-SIGNATURE"]   # signed


def test_snap_apis_pages_and_health_stay_open(probe):
    assert probe["registered"] == 200
    assert probe["snap_payment"] == "2005400"
    assert probe["checkout_page"][0] == 200 and probe["checkout_page"][1].startswith("text/html")
    assert probe["snap_query"] == ["2005500", "00"]          # paid with the token, seen over SNAP
    assert probe["health"] == {"status": "ok"}
    assert probe["exit"] == 0                                  # SIGTERM: a clean stop


# --- the modes, in-process on loopback ---------------------------------------------------------

@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("10.0.0.5", False),
                                            ("::", False), ("sandbox.example", False)])
def test_which_addresses_are_loopback(host, loopback):
    assert is_loopback(host) is loopback
    access = AdminAccess.for_host(host)
    assert (access.mode, access.generated) == (("open", False) if loopback else ("token", True))


def test_loopback_is_open_and_a_given_token_is_still_required():
    with SandboxServer() as server:
        assert HTTP.get(f"{server.base_url}{PREFIX}/info").status_code == 200
    token = "t" * 24
    with SandboxServer(admin=AdminAccess.for_host("127.0.0.1", token)) as server:
        assert HTTP.get(f"{server.base_url}{PREFIX}/info").status_code == 401
        assert HTTP.get(f"{server.base_url}{PREFIX}/info", headers={"Authorization": f"Bearer {token}"}
                        ).status_code == 200
        assert HTTP.get(f"{server.base_url}{PREFIX}/health").json() == {"status": "ok"}


def test_no_admin_mounts_nothing_under_the_prefix():
    assert admin_routes_mounted(AdminAccess.for_host("0.0.0.0", no_admin=True)) == set()
    with SandboxServer(admin=AdminAccess.for_host("127.0.0.1", no_admin=True)) as server:
        for path in (f"{PREFIX}/info", f"{PREFIX}/health", f"{PREFIX}/users", SANDBOX_TOOLS):
            response = HTTP.post(f"{server.base_url}{path}") if path == SANDBOX_TOOLS else \
                HTTP.get(f"{server.base_url}{path}")
            assert response.status_code == 404 and response.json()["responseCode"].startswith("404"), path


def test_a_short_token_is_refused_at_start(capsys):
    from conformance.sandbox import cli

    args = cli.argparse.Namespace(host="127.0.0.1", port=0, merchant=[], dana_private_key=None, quiet=True,
                                  admin_token=None, no_admin=False)
    assert cli.run(args, environ={"DANA_UAT_SANDBOX_TOKEN": "short"}) == 2
    assert "DANA_UAT_SANDBOX_TOKEN: is shorter than 16 characters" in capsys.readouterr().err


def test_health_carries_no_data():
    with SandboxServer(admin=AdminAccess.for_host("127.0.0.1", "x" * 20)) as server:
        response = httpx.get(f"{server.base_url}{PREFIX}/health", timeout=10)
        assert response.status_code == 200 and response.json() == {"status": "ok"}


# --- the clients: `dana-uat run --target URL` and merchant mode send the token ---------------------

TEAM_TOKEN = "team-token-0123456789abcdef"


@pytest.fixture(scope="module")
def guarded_sandbox():
    """A `dana-uat sandbox` that wants a token (on loopback because a token was given)."""
    with SandboxServer(admin=AdminAccess.for_host("127.0.0.1", TEAM_TOKEN)) as server:
        yield server


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANA_UAT_", "X_PARTNER_ID", "PRIVATE_KEY"))}
    return env | extra


@pytest.mark.parametrize("token, problem", [(None, "is not set"), ("wrong-token-0123456789", "was refused")])
def test_run_without_the_right_token_is_a_preflight_error(guarded_sandbox, tmp_path, token, problem):
    env = _env(**({"DANA_UAT_SANDBOX_TOKEN": token} if token else {}))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--target", guarded_sandbox.base_url],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"DANA_UAT_SANDBOX_TOKEN: {problem}" in done.stderr
    assert TEAM_TOKEN not in done.stdout + done.stderr and (token is None or token not in done.stderr)


def test_target_sends_the_token_from_the_setting(guarded_sandbox, tmp_path):
    from conformance.config.settings import load_settings
    from conformance.dana.target import Target, TargetError

    with pytest.raises(TargetError, match="DANA_UAT_SANDBOX_TOKEN is not set"):
        Target(load_settings({"target": guarded_sandbox.base_url}, environ={}, env_file=None, root=tmp_path)).start()
    settings = load_settings({"target": guarded_sandbox.base_url}, environ={"DANA_UAT_SANDBOX_TOKEN": TEAM_TOKEN},
                             env_file=None, root=tmp_path)
    assert TEAM_TOKEN not in repr(settings)
    with Target(settings) as target:
        assert settings.merchant.partner_id in target.admin.info()["merchants"]
        assert target.traffic()["entries"] == []          # merchant mode's journal reads pass too
