"""Real parts for merchant-mode tests: the sandbox on loopback, the example merchant (dana-python SDK,
uvicorn, one process per variant, so a DEFECT's SDK patch never leaks) and `dana-uat run` as a merchant runs it.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from conformance.sandbox.server import SandboxServer
from conformance.snap import keys

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "examples" / "merchant" / "dana-uat.merchant.yaml"
PARTNER_ID, MERCHANT_ID = "2026112900000000000001", "216620000000000000001"
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sandbox():
    with SandboxServer() as server:
        yield server


@functools.cache
def _key_pems() -> tuple[str, str]:
    """One merchant key pair per test process (generating one costs 10 to 140 ms of CPU): each merchant still
    gets its own key file and registers the key with its sandbox anew."""
    key = keys.generate_private_key()
    return keys.private_key_pem(key), keys.public_key_pem(key)


def credentials(server: SandboxServer, tmp: Path, port: int | None = None, defect: str = "") -> dict:
    """The merchant's credentials, registered with the sandbox, as the environment the example merchant and
    `dana-uat run` read (MERCHANT_BASE_URL: port ``port``, a free one when not given)."""
    private, public = _key_pems()
    key_path = tmp / "merchant-key.pem"
    key_path.write_text(private)
    server.register_merchant(PARTNER_ID, MERCHANT_ID, public)
    return merchant_env(server, key_path, port or free_port(), defect)


def merchant_env(server: SandboxServer, key_path: Path, port: int, defect: str = "") -> dict:
    env = {k: v for k, v in os.environ.items()        # the suite's parse cache stays (tests/conftest.py)
           if not k.startswith(("DANA_UAT_", "DEFECT")) or k == "DANA_UAT_CACHE_DIR"}
    env.update(X_PARTNER_ID=PARTNER_ID, MERCHANT_ID=MERCHANT_ID, PRIVATE_KEY_PATH=str(key_path),
               DANA_BASE_URL=server.base_url, DANA_PUBLIC_KEY=server.dana_public_key_pem,
               MERCHANT_BASE_URL=f"http://127.0.0.1:{port}", DEFECT=defect, PYTHONPATH=str(ROOT))
    return env


def _die_with_parent() -> None:
    """Linux: the merchant process ends with the test process, even when that one is killed."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG


@contextmanager
def merchant(server: SandboxServer, tmp: Path, defect: str = "", port: int | None = None):
    """The example merchant in its own process on ``port`` (a free one when not given); yields its environment."""
    port = port or free_port()
    env = credentials(server, tmp, port, defect)
    with backend([sys.executable, "-m", "uvicorn", "--factory", "examples.merchant.app:create_app", "--host",
                  "127.0.0.1", "--port", str(port), "--no-access-log"], ROOT, env, "Uvicorn running", port):
        yield env


@contextmanager
def node_merchant(server: SandboxServer, tmp: Path, app_dir: Path, defect: str = "", port: int | None = None,
                  env_extra: dict | None = None):
    """The Node example merchant (examples/merchant-node, installed in ``app_dir``) on ``port``."""
    port = port or free_port()
    env = {**credentials(server, tmp, port, defect), "PORT": str(port), **(env_extra or {})}
    with backend(["node", "server.js"], app_dir, env, "merchant-node listening", port):
        yield env


@contextmanager
def backend(args: list[str], cwd: Path, env: dict, ready_text: str, port: int):
    """A merchant backend process; ready once it prints ``ready_text`` (on stdout or stderr)."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_die_with_parent)
    ready, lines = threading.Event(), []

    def watch():     # the backend says when it listens: wait for that line, not for a fixed time
        for line in proc.stdout:
            lines.append(line)
            if ready_text in line:
                ready.set()
        ready.set()
    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT) or proc.poll() is not None:
            raise RuntimeError("the example merchant did not start:\n" + "".join(lines))
        yield proc
    finally:
        proc.terminate()     # it winds down on its own: the test goes on meanwhile, the stop is sure
        threading.Thread(target=_reap, args=(proc,), name=f"merchant-{port}-stop", daemon=True).start()


def _reap(proc: subprocess.Popen) -> None:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def uat_command(server: SandboxServer, env: dict, tmp: Path, *extra: str, profile: Path | None = PROFILE,
                scenarios: str = "scenarios/merchant") -> tuple[list[str], dict]:
    """`dana-uat run` against the sandbox with the merchant's credentials, as a merchant would type it:
    (arguments, environment)."""
    args = [sys.executable, "-m", "conformance.cli", "run", "--target", server.base_url, "--scenarios", scenarios,
            "--report-dir", str(tmp / "reports"), *extra]
    if profile is not None:
        args += ["--merchant-profile", str(profile)]
    return args, {k: v for k, v in env.items() if k not in ("DEFECT", "DANA_BASE_URL", "DANA_PUBLIC_KEY")}


def run_uat(server: SandboxServer, env: dict, tmp: Path, *extra: str, profile: Path | None = PROFILE,
            scenarios: str = "scenarios/merchant", timeout: float = 600) -> subprocess.CompletedProcess:
    args, run_env = uat_command(server, env, tmp, *extra, profile=profile, scenarios=scenarios)
    return subprocess.run(args, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=timeout)


def findings(tmp: Path) -> list[dict]:
    """Every FAIL and WARN finding of the run, from the evidence of each scenario."""
    out = []
    for path in sorted((_run_dir(tmp) / "evidence").glob("*.json")):
        data = json.loads(path.read_text())
        out += [{"scenario": data["scenario"], **f} for f in data["findings"]]
    return out


def summary(tmp: Path) -> dict:
    return json.loads((_run_dir(tmp) / "summary.json").read_text())


def _run_dir(tmp: Path) -> Path:
    (run_dir,) = [p for p in (tmp / "reports").iterdir() if p.is_dir() and not p.is_symlink()]
    return run_dir
