"""The pytest plugin end to end, in isolated pytest runs (pytester) against the embedded sandbox."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .malformed import MALFORMED

PAY = """\
api: widget_payment
defaults:
  request:
    partnerReferenceNo: ${ref}
    merchantId: ${merchant.id}
    amount: {value: "1.00", currency: IDR}
    validUpTo: ${now + 15m}
    additionalInfo:
      productCode: "51051000100000000001"
      mcc: "5732"
      order: {orderTitle: Test Order}
      envInfo: {sourcePlatform: IPG, terminalType: SYSTEM}
scenarios:
  - id: pay_ok
    title: payment succeeds
    portal: Direct Debit Payment - Cashier Pay
    mandatory: true
    steps:
      - call: widget_payment
        expect: {status: 200, responseCode: "CODE", responseMessage: MESSAGE, body: {partnerReferenceNo: "${ref}"}}
  - id: pay_bad_signature
    title: a bad signature is refused
    mandatory: true
    steps:
      - call: widget_payment
        tamper: {signature: invalid}
        expect: {status: 401, responseCode: "4015400", responseMessage: Unauthorized. Invalid Signature}
  - id: pay_missing_timestamp
    title: a missing X-TIMESTAMP is refused
    marks: [slowish]
    steps:
      - call: widget_payment
        tamper: {timestamp: missing}
        expect: {status: 400, responseCode: "4005402", responseMessage: Invalid Mandatory Field X-TIMESTAMP}
"""


def pay_file(code: str = "2005400", message: str = "Successful") -> str:
    return PAY.replace("CODE", code).replace("MESSAGE", message)


QUERY = """\
api: query_payment
scenarios:
  - id: query_unknown
    title: an unknown order is not found
    steps:
      - call: query_payment
        request: {originalPartnerReferenceNo: "${uuid}", merchantId: "${merchant.id}", serviceCode: "54"}
        expect: {status: 404, responseCode: "4045501"}
"""


@pytest.fixture
def catalogue(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file(), "scenarios/widget/query": QUERY})
    return pytester


def run(pytester, *args):
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_collects_one_item_per_scenario_with_node_ids(catalogue):
    result = run(catalogue, "--collect-only", "-q")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["scenarios/widget/payment.yaml::pay_ok",
                                 "scenarios/widget/payment.yaml::pay_bad_signature",
                                 "scenarios/widget/payment.yaml::pay_missing_timestamp",
                                 "scenarios/widget/query.yaml::query_unknown", "4 tests collected*"])



def test_a_collection_writes_nothing_and_says_nothing_about_bundles(pytester):
    """`pytest scenarios --collect-only` lists the shipped catalogue (its merchant scenarios left out without a
    profile, and a broken file of its own reported) and runs nothing: no reports/ folder, no bundle verdict."""
    from conformance.scenarios import catalogue as shipped

    pytester.makefile(".yaml", **{"scenarios/bad": MALFORMED["no_expect"][0]})
    result = run(pytester, str(shipped.shipped()), "scenarios", "--collect-only", "-q")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == 2, out                                        # the broken file still counts
    assert "widget/payment.yaml::payment_success" in out and "a call step needs expect" in out
    assert "merchant scenarios need a profile" in out
    assert "bundle" not in out and "evidence" not in out, out
    assert not (pytester.path / "reports").exists()


def test_all_scenarios_pass_and_write_redacted_evidence(catalogue):
    result = run(catalogue)
    result.assert_outcomes(passed=4)
    run_dir = (catalogue.path / "reports" / "latest").resolve()
    files = sorted(p.name for p in (run_dir / "evidence").iterdir())
    assert files == ["pay_bad_signature.json", "pay_missing_timestamp.json", "pay_ok.json", "query_unknown.json"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["counts"]["passed"] == 4 and summary["exitStatus"] == 0
    evidence = json.loads((run_dir / "evidence" / "pay_ok.json").read_text())
    (exchange,) = evidence["exchanges"]
    assert exchange["response"]["status"] == 200
    assert "…[" in exchange["request"]["headers"]["X-SIGNATURE"]   # signature kept only as a prefix
    result.stdout.fnmatch_lines(["dana-uat evidence: reports/*/"])


def test_mark_mandatory_selects_exactly_the_mandatory_scenarios(catalogue):
    result = run(catalogue, "-m", "mandatory", "--collect-only", "-q")
    lines = [l for l in result.stdout.lines if "::" in l]
    assert lines == ["scenarios/widget/payment.yaml::pay_ok", "scenarios/widget/payment.yaml::pay_bad_signature"]


def test_mandatory_only_option_deselects_the_rest(catalogue):
    result = run(catalogue, "--dana-mandatory-only")
    result.assert_outcomes(passed=2, deselected=2)


@pytest.mark.parametrize("args, expected", [
    (["-k", "bad_signature or query"], ["payment.yaml::pay_bad_signature", "query.yaml::query_unknown"]),
    (["-m", "api_query_payment"], ["query.yaml::query_unknown"]),
    (["-m", "slowish"], ["payment.yaml::pay_missing_timestamp"]),
    (["scenarios/widget/payment.yaml::pay_ok"], ["payment.yaml::pay_ok"]),
])
def test_k_marks_and_node_ids_select(catalogue, args, expected):
    result = run(catalogue, "--collect-only", "-q", *args)
    assert [l.split("/")[-1] for l in result.stdout.lines if "::" in l] == expected


def test_wrong_expectation_fails_readably(pytester):
    pytester.makefile(".yaml", **{"scenarios/payment": pay_file(code="2005401")})
    result = run(pytester, "-k", "pay_ok")
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "scenario pay_ok (scenarios/payment.yaml:14) failed at step 1 call widget_payment",
        "*responseCode: expected '2005401', received '2005400'",
        "*hint: 2005400 means success*",
        "exchange (redacted):",
        "*POST http://127.0.0.1:*/rest/redirection/v1.0/debit/payment-host-to-host",
        "*-> HTTP 200*",
        "evidence: reports/*/evidence/pay_ok.json",
    ])
    assert "Traceback" not in result.stdout.str()


def test_warn_findings_are_shown_but_do_not_fail(pytester):
    pytester.makefile(".yaml", **{"scenarios/payment": pay_file(message="successful")})
    result = run(pytester, "-k", "pay_ok")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*dana-uat warnings (shown, not failing)*",
                                 "WARN scenarios/payment.yaml::pay_ok: *responseMessage: expected 'successful', "
                                 "received 'Successful'"])


def test_every_malformed_file_is_reported_and_the_good_file_still_runs(pytester):
    files = {f"scenarios/bad/{name}": text for name, (text, *_rest) in MALFORMED.items()}
    files["scenarios/query"] = QUERY
    pytester.makefile(".yaml", **files)
    result = run(pytester, "--continue-on-collection-errors")
    assert result.ret == 2
    result.assert_outcomes(passed=1, errors=len(MALFORMED))
    out = result.stdout.str()
    assert "Traceback" not in out
    for name, (_text, line, field, fragment) in MALFORMED.items():
        where = f"scenarios/bad/{name}.yaml:{line}: " + (f"field '{field}': " if field else "")
        assert where + fragment.split("${")[0] in out or (where in out and fragment in out), name


def test_a_broken_file_alone_ends_the_session_with_code_2(pytester):
    pytester.makefile(".yaml", **{"scenarios/bad": MALFORMED["no_expect"][0]})
    result = run(pytester)
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*a call step needs expect with at least status and responseCode*"])


def test_configuration_error_is_one_line_and_code_2(catalogue):
    result = run(catalogue, "--dana-target", "nowhere")
    assert result.ret == 2
    assert "'nowhere' is not a target" in result.stderr.str() + result.stdout.str()


def test_plugin_costs_nothing_outside_the_catalogue(pytester):
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    pytester.makefile(".yaml", **{"config/other": "not: a scenario\n"})
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()
    assert "dana-uat evidence" not in result.stdout.str()


def test_xdist_two_workers_each_with_their_own_sandbox(catalogue):
    result = catalogue.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)
    run_dirs = [p for p in (catalogue.path / "reports").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(run_dirs) == 1, run_dirs    # one run id shared by the workers
    assert len(list((run_dirs[0] / "evidence").glob("*.json"))) == 4
    summary = json.loads((run_dirs[0] / "summary.json").read_text())
    assert summary["counts"]["passed"] == 4
    urls = set()
    for path in (run_dirs[0] / "evidence").glob("*.json"):
        url = json.loads(path.read_text())["exchanges"][0]["request"]["url"]
        urls.add(url.split("/")[2])
    assert len(urls) == 2, urls            # two embedded sandboxes, one per worker


def _cli(path: Path, *args):
    """`dana-uat` on the folder's own scenarios/ (without --scenarios it runs the shipped catalogue)."""
    args = [*args[:1], "--scenarios", "scenarios", *args[1:]] if args[:1] in (("run",), ("list",)) else args
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], cwd=path, capture_output=True,
                          text=True, timeout=120)


def test_dana_uat_run_exit_codes_progress_and_evidence_path(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file()})
    ok = _cli(pytester.path, "run")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS  scenarios/widget/payment.yaml::pay_ok" in ok.stdout
    assert "pay_missing_timestamp" not in ok.stdout           # not mandatory: not run by default
    last = ok.stdout.strip().splitlines()[-1]
    assert last.startswith("evidence: reports/") and (pytester.path / last.split(" ", 1)[1]).is_dir()
    every = _cli(pytester.path, "run", "--all")
    assert every.returncode == 0 and "PASS  scenarios/widget/payment.yaml::pay_missing_timestamp" in every.stdout

    (pytester.path / "scenarios/widget/payment.yaml").write_text(pay_file(code="2005401"))
    failed = _cli(pytester.path, "run")
    assert failed.returncode == 1
    assert "FAIL  scenarios/widget/payment.yaml::pay_ok" in failed.stdout
    assert "expected '2005401', received '2005400'" in failed.stdout

    (pytester.path / "scenarios/widget/broken.yaml").write_text(MALFORMED["bad_clock"][0])
    broken = _cli(pytester.path, "run", "--all")
    assert broken.returncode == 2 and "must be a duration" in broken.stdout

    bad_target = _cli(pytester.path, "run", "--target", "ftp://x")
    assert bad_target.returncode == 2 and bad_target.stderr.startswith("dana-uat: configuration error:")


def test_dana_uat_run_collect_only_lists_and_writes_nothing(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file()})
    listed = _cli(pytester.path, "run", "--collect-only")
    out = listed.stdout + listed.stderr
    assert listed.returncode == 0, out
    assert "scenarios/widget/payment.yaml::pay_ok" in out
    assert "no scenarios selected" not in out and "bundle" not in out and "evidence" not in out, out
    assert not (pytester.path / "reports").exists()


def test_dana_uat_list(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file(), "scenarios/widget/query": QUERY})
    table = _cli(pytester.path, "list")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["ID", "API", "MANDATORY", "PORTAL", "GROUP"]
    assert any(l.split()[:3] == ["pay_ok", "widget_payment", "yes"] for l in table.stdout.splitlines())
    rows = json.loads(_cli(pytester.path, "list", "--json").stdout)
    assert {(r["id"], r["mandatory"]) for r in rows} == {("pay_ok", True), ("pay_bad_signature", True),
                                                         ("pay_missing_timestamp", False), ("query_unknown", False)}
