"""Scenarios whose trigger exists only in the embedded sandbox: marked in the YAML, validated by the schema,
skipped with their reason on DANA's sandbox, shown as "embedded only" in the report."""

import pytest

from conformance.scenarios.loader import ScenarioFileError

from .test_loader import load_text
from .test_plugin import _cli, pay_file

REASON = "amount 1.00 stands for a trigger only the embedded sandbox has"


def marked(text: str) -> str:
    return text.replace("    mandatory: true\n", f"    mandatory: true\n    embedded_only: {REASON}\n", 1)


def test_the_schema_wants_a_reason(tmp_path):
    assert load_text(tmp_path, marked(pay_file())).scenarios[0].scenario.embedded_only == REASON
    with pytest.raises(ScenarioFileError) as info:
        load_text(tmp_path, pay_file().replace("    mandatory: true\n", "    mandatory: true\n    embedded_only: true\n", 1))
    assert info.value.errors[0].field == "scenarios[0].embedded_only"


def test_skipped_with_the_reason_on_danas_sandbox(pytester, monkeypatch):
    from conformance.snap import generate_private_key, private_key_pem

    monkeypatch.setenv("X_PARTNER_ID", "2025000000000000000001")
    monkeypatch.setenv("MERCHANT_ID", "216620000000000000001")
    monkeypatch.setenv("PRIVATE_KEY", private_key_pem(generate_private_key()).replace("\n", "\\n"))
    only = marked(pay_file()).split("  - id: pay_bad_signature")[0]      # no call ever reaches DANA
    pytester.makefile(".yaml", **{"scenarios/widget/payment": only})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--dana-target", "sandbox", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"*embedded only: {REASON}*"])


def test_runs_on_the_embedded_sandbox_and_the_report_says_embedded_only(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": marked(pay_file())})
    result = _cli(pytester.path, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  scenarios/widget/payment.yaml::pay_ok" in result.stdout
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if line.startswith("report:"))
    report = (pytester.path / lines["report"]).read_text()
    assert report.count("embedded only</small>") == 1 and f'title="{REASON}"' in report
