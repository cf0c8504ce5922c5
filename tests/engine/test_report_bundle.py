"""The HTML report and the signed go-live bundle of a real run."""

import json
import zipfile

from conformance.evidence.bundle import MANIFEST, verify_bundle
from conformance.snap import keys

from .test_plugin import _cli, pay_file


def test_run_writes_a_self_contained_report_and_a_verifiable_signed_bundle(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file(code="2005401")})
    result = _cli(pytester.path, "run", "--all")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if line.startswith(("report:", "bundle:")))
    report = (pytester.path / lines["report"]).read_text()
    assert "DANA Widget Binding UAT: evidence" in report
    assert "FAILED scenarios/widget/payment.yaml::pay_ok" in report and "PASSED" in report
    assert "expected\n  <code>2005401</code>, received <code>2005400</code>" in report
    assert "1 of 2 passed" in report                      # the mandatory count
    assert "BEGIN PRIVATE KEY" not in report

    bundle = pytester.path / lines["bundle"]
    assert verify_bundle(bundle) == []
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read(MANIFEST))
        assert {"report.html", "summary.json", "evidence/pay_ok.json"} <= names
        assert set(manifest["files"]) <= names and "PRIVATE KEY" not in str([zf.read(n) for n in names])

    # tampering with any file, or checking against another key, is detected
    tampered = bundle.with_name("tampered.zip")
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(b"pay_ok", b"pay_OK") if name == "summary.json" else data)
    assert verify_bundle(tampered) == ["summary.json: SHA-256 differs from the manifest"]
    other = keys.generate_private_key().public_key()
    assert verify_bundle(bundle, other) == ["manifest signature does not verify with the merchant public key"]


def test_verify_bundle_command(pytester, tmp_path):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file()})
    result = _cli(pytester.path, "run")
    bundle = next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("bundle:"))
    ok = _cli(pytester.path, "verify-bundle", bundle)
    assert ok.returncode == 0 and "every file hash verify" in ok.stdout
    (tmp_path / "x.zip").write_text("not a zip")
    bad = _cli(pytester.path, "verify-bundle", str(tmp_path / "x.zip"))
    assert bad.returncode == 2 and "not a dana-uat bundle" in bad.stderr
