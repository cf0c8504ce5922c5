"""No secret on any path: scenarios fail on purpose, then every file of the run (zips opened, nested zips
too), the console, JUnit and pytest-html's report are scanned for every secret the sandbox issued."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import quote

from conformance.sandbox.server import SandboxServer

FAILING = """\
api: apply_ott
defaults:
  request: {userResources: [OTT], additionalInfo: {deviceId: deviceid123}}
  apis:
    apply_token:
      request: {grantType: AUTHORIZATION_CODE, refreshToken: "", additionalInfo: {}}
scenarios:
  - id: token_literal
    title: the access token is compared with a literal, so the failure text holds the real one
    portal: Widget Binding - Apply Token
    steps:
      - bind: {}
      - call: apply_token
        request: {authCode: "${authCode}"}
        expect: {status: 200, responseCode: "2007400", responseMessage: Successful,
                 body: {accessToken: not-the-issued-token, refreshToken: nor-this-one}}
  - id: ott_literal
    title: the OTT is compared with a literal
    portal: Widget Binding - Apply OTT
    steps:
      - bind: {}
      - call: apply_token
        request: {authCode: "${authCode}"}
        expect: {status: 200, responseCode: "2007400", responseMessage: Successful}
        save: {accessToken: body.accessToken}
      - call: apply_ott
        request: {additionalInfo: {accessToken: "${accessToken}"}}
        expect: {status: 200, responseCode: "2004900", responseMessage: Successful,
                 body: {userResources: [{resourceType: OTT, value: not-the-issued-ott}]}}
"""

PASSING = """\
api: apply_token
defaults:
  request: {grantType: AUTHORIZATION_CODE, refreshToken: "", additionalInfo: {}}
scenarios:
  - id: token_ok
    title: a complete (simulated) run, so a bundle is made and scanned too
    portal: Widget Binding - Apply Token
    mandatory: true
    steps:
      - bind: {}
      - call: apply_token
        request: {authCode: "${authCode}"}
        expect: {status: 200, responseCode: "2007400", responseMessage: Successful,
                 body: {accessToken: {$type: string}}}
"""


def _blobs(path: Path, data: bytes):
    """(name, bytes) of a file and, for a zip, of every entry, recursively."""
    yield str(path), data
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                yield from _blobs(path / name, zf.read(name))


def _leaks(root: Path, needles: dict[bytes, str], extra: dict[str, str]) -> list[str]:
    found = []
    blobs = [b for p in sorted(root.rglob("*")) if p.is_file() for b in _blobs(p, p.read_bytes())]
    blobs += [(name, text.encode()) for name, text in extra.items()]
    for name, data in blobs:
        found += [f"{what} in {name}" for needle, what in needles.items() if needle in data]
    return found


def _needles(secrets: dict[str, str]) -> dict[bytes, str]:
    out = {}
    for value, kind in secrets.items():
        out[value.encode()] = kind
        out.setdefault(quote(value, safe="").encode(), kind + " (percent-encoded)")
    return out


def _run(cwd: Path, folder: str, target: str, *extra: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANA_", "X_PARTNER", "PRIVATE_KEY"))}
    return subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--all", "--target", target,
                           "--scenarios", folder, "--", *extra], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_scan_finds_a_planted_secret_inside_a_nested_zip(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("trace.network", b'{"url": "https://x/cb?authCode=planted-secret-value"}')
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("artifacts/a/trace.zip", inner.getvalue())
    assert _leaks(tmp_path, _needles({"planted-secret-value": "authCode"}), {}) == \
        [f"authCode in {tmp_path / 'bundle.zip' / 'artifacts/a/trace.zip' / 'trace.network'}"]


def test_a_failing_run_leaves_no_secret_the_sandbox_issued_anywhere(tmp_path, needs_browser):
    (tmp_path / "fail").mkdir()
    (tmp_path / "fail" / "secrets.yaml").write_text(FAILING)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "token.yaml").write_text(PASSING)
    with SandboxServer() as server:
        failed = _run(tmp_path, "fail", server.base_url, "--junitxml", "junit.xml", "--html", "pytest-report.html",
                      "--dana-tracing", "retain-on-failure")
        passed = _run(tmp_path, "ok", server.base_url)
        store = server.sandbox.store
        secrets = {**{c: "authCode" for c in store.auth_codes}, **{t: "accessToken" for t in store.bindings_by_access},
                   **{t: "refreshToken" for t in store.bindings_by_refresh}, **{o: "OTT" for o in store.otts}}

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert {"authCode", "accessToken", "refreshToken", "OTT"} <= set(secrets.values())   # 3 binds, 1 OTT
    assert len(secrets) >= 9
    traces = list((tmp_path / "reports").rglob("trace.zip"))
    assert len(traces) == 2                      # the failed browser scenarios kept their traces...
    assert "accessToken" in failed.stdout and "redacted" in failed.stdout   # ...and failed on the token itself
    bundles = list((tmp_path / "reports").rglob("dana-uat-bundle-*.zip"))
    ok_report = bundles[0].parent / "report.html"    # a passed scenario embeds its last page, links the rest
    assert ok_report.read_text().count("data:image/jpeg;base64") == 1 and "Earlier pages" in ok_report.read_text()
    assert len(bundles) == 1 and not any("trace.zip" in n for n in zipfile.ZipFile(bundles[0]).namelist())

    console = {"failing run console": failed.stdout + failed.stderr,
               "passing run console": passed.stdout + passed.stderr}
    assert _leaks(tmp_path, _needles(secrets), console) == []
    html = (tmp_path / "pytest-report.html").read_text()   # pytest-html got our evidence as extras
    assert "portal group" in html and "Widget Binding - Apply OTT" in html and "redacted" in html
    assert "image/jpeg" in html or list(tmp_path.rglob("assets/*.jpg"))

    # no absolute path of this machine in the evidence, the kept traces or the bundle
    checkout = Path(__file__).resolve().parents[2]
    machine = [str(tmp_path).encode(), str(Path.home()).encode(), str(checkout).encode()]
    evidence = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    carriers = [name for p in evidence for name, data in _blobs(p, p.read_bytes())
                if any(m in data for m in machine)]
    assert carriers == []
    props = [json.loads(v) for v in _junit_properties(tmp_path / "junit.xml")]
    assert {p["scenario"] for p in props} == {"token_literal", "ott_literal"}


def _junit_properties(path: Path) -> list[str]:
    import xml.etree.ElementTree as ET

    return [p.get("value") for p in ET.parse(path).iter("property") if p.get("name") == "dana"]
