"""The DANA twin as a test sees it: `dana-uat run --target sandbox|production` inside a network namespace.

``TwinRun(tmp_path).run(args, env)`` makes a namespace of its own (root: ``unshare --net --mount``) whose
``/etc/hosts`` maps DANA's hostnames and the receiver's public name to its loopback, starts the twin there
on port 443 (`dana-uat sandbox --as-dana ENV`, merchant registered as at DANA's portal) and runs the product
unchanged: it finds DANA by its names and trusts the twin's CA through DANA_UAT_CA_BUNDLE, the setting a
merchant behind a TLS-inspecting proxy uses. Nothing in the product knows it is a test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.snap import keys
from conformance.snap.hosts import DANA_HOSTS, hostnames

HERE = Path(__file__).parent
RECEIVER_NAME = "notify.merchant-uat.example"    # the receiver's "public" face inside the namespace
RECEIVER_PORT = 8780
PARTNER_ID, MERCHANT_ID = "2026120700000000000001", "216620000000000000001"


def namespace_problem() -> str | None:
    """Why a private network namespace cannot be made here (None when it can)."""
    if os.geteuid() != 0:
        return "making a network namespace needs root (CI runs as root)"
    if shutil.which("unshare") is None:
        return "util-linux's unshare is missing"
    done = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, text=True, check=False)
    return None if done.returncode == 0 else f"unshare --net --mount failed: {done.stderr.strip()}"


def require_namespace() -> None:
    problem = namespace_problem()
    if problem:
        pytest.skip(problem)


def dana_uat() -> str:
    return str(Path(sys.executable).with_name("dana-uat"))


@dataclass
class Result:
    exit: int
    stdout: str
    stderr: str
    work: Path
    record: list[dict] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def summary(self) -> dict:
        return json.loads(next(self.work.glob("reports/*/summary.json")).read_text(encoding="utf-8"))

    def bundle(self) -> Path | None:
        return next(self.work.glob("reports/*/dana-uat-bundle-*.zip"), None)

    def api_calls(self) -> list[dict]:
        return [line for line in self.record if line["kind"] == "api"]

    def http(self) -> list[dict]:
        return [line for line in self.record if line["kind"] == "http"]


class TwinRun:
    def __init__(self, root: Path, env: str = "sandbox"):
        require_namespace()
        self.root, self.env = root, env
        root.mkdir(parents=True, exist_ok=True)
        self.key = keys.generate_private_key()
        (root / "merchant-private.pem").write_text(keys.private_key_pem(self.key))
        (root / "merchant-public.pem").write_text(keys.public_key_pem(self.key))
        self.hosts = root / "hosts"
        names = [n for e in DANA_HOSTS for n in hostnames(e)] + [RECEIVER_NAME]
        self.hosts.write_text("127.0.0.1 localhost\n" + "".join(f"127.0.0.1 {n}\n" for n in names))

    def merchant_env(self, *, ca: bool = True, receiver: bool = True) -> dict[str, str]:
        env = {"X_PARTNER_ID": PARTNER_ID, "MERCHANT_ID": MERCHANT_ID,
               "PRIVATE_KEY_PATH": str(self.root / "merchant-private.pem"),
               "MERCHANT_PUBLIC_KEY_PATH": str(self.root / "merchant-public.pem"),
               "DANA_PUBLIC_KEY_PATH": str(self.root / "dana-private.pub.pem")}
        if ca:
            env["DANA_UAT_CA_BUNDLE"] = str(self.root / "tls" / "ca.pem")
        if receiver:
            env.update(DANA_UAT_RECEIVER_LISTEN=f"127.0.0.1:{RECEIVER_PORT}",
                       DANA_UAT_RECEIVER_PUBLIC_URL=f"http://{RECEIVER_NAME}:{RECEIVER_PORT}")
        return env

    def run(self, args: list[str], env: dict[str, str] | None = None, *, twin_args: list[str] = (),
            timeout: float = 600, name: str = "run", stdin: str = "") -> Result:
        work = self.root / name
        work.mkdir()
        twin = [dana_uat(), "sandbox", "--as-dana", self.env, "--host", "127.0.0.1", "--port", "443",
                "--tls-dir", str(self.root / "tls"), "--record", str(work / "twin-record.jsonl"), "--quiet",
                "--dana-private-key", str(self.root / "dana-private.pem"),
                "--merchant", f"{PARTNER_ID}:{MERCHANT_ID}:{self.root / 'merchant-public.pem'}", *twin_args]
        config = {"workdir": str(work), "twin": twin, "run": [dana_uat(), "run", *args],
                  "env": {"DANA_UAT_REPORT_DIR": "reports", **(self.merchant_env() if env is None else env)},
                  "result": str(work / "result.json"), "timeout": timeout, "stdin": stdin}
        (work / "config.json").write_text(json.dumps(config))
        done = subprocess.run(["unshare", "--net", "--mount", sys.executable, str(HERE / "netns.py"),
                               str(self.hosts), "--", sys.executable, str(HERE / "scene.py"),
                               str(work / "config.json")], capture_output=True, text=True,
                              timeout=timeout + 60, check=False)
        if not (work / "result.json").exists():
            raise AssertionError(f"the namespace run did not finish (exit {done.returncode}): {done.stderr[-2000:]}"
                                 f"\ntwin: {_read(work / 'twin.out')[-2000:]}")
        result = json.loads((work / "result.json").read_text())
        record = [json.loads(line) for line in _read(work / "twin-record.jsonl").splitlines() if line.strip()]
        return Result(result["exit"], _read(work / "run.out"), _read(work / "run.err"), work, record)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
