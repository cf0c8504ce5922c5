"""The evidence rules, one focused test each: the go-live gate (runinfo), the signed bundle, redaction.

Each test is named after the rule it guards and fails with a message naming it, so a one-line bug in
the rule (a skipped scenario counted as passed, an unlisted file accepted, a secret masked once) shows
up here, not only at the end of an end-to-end run. They assert what the rule decides, not its wording.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from conformance.evidence import bundle, runinfo
from conformance.evidence.redaction import Redactor, mask
from conformance.evidence.runinfo import CatalogueEntry, assess
from conformance.scenarios.catalogue import load_catalogue
from conformance.snap import generate_private_key

# -- the go-live gate: counted against the catalogue ----------------------------------------------------

CATALOGUE = [
    CatalogueEntry("w.yaml::pay", "pay", "Pay", "Payment", mandatory=True, production_safe=True),
    CatalogueEntry("w.yaml::refund", "refund", "Refund", "Refund", mandatory=True, production_safe=False),
    CatalogueEntry("w.yaml::extra", "extra", "Extra", "Payment", mandatory=False, production_safe=True),
]


def result(key: str, outcome: str) -> dict:
    file, scenario = key.split("::")
    return {"file": file, "scenario": scenario, "outcome": outcome, "warnings": []}


def all_passed() -> list[dict]:
    return [result(e.key, "passed") for e in CATALOGUE]


def test_rule_every_mandatory_scenario_passed_makes_a_complete_run():
    verdict = assess(CATALOGUE, all_passed(), target="sandbox", interrupted=False)
    assert verdict["complete"] and verdict["submittable"], "rule: all mandatory passed -> complete"
    assert verdict["incompleteReasons"] == [] and verdict["missing"] == [] and verdict["notPassed"] == []
    assert verdict["mandatory"] == {"passed": 2, "total": 2}, "rule: only mandatory scenarios are counted"


@pytest.mark.parametrize("outcome", ["skipped", "failed", "error"])
def test_rule_a_mandatory_scenario_that_did_not_pass_leaves_the_run_incomplete(outcome):
    results = [result("w.yaml::pay", "passed"), result("w.yaml::refund", outcome), result("w.yaml::extra", "passed")]
    verdict = assess(CATALOGUE, results, target="sandbox", interrupted=False)
    assert not verdict["complete"], f"rule: a {outcome} mandatory scenario is not passed (go-live gate)"
    assert not verdict["submittable"]
    assert verdict["notPassed"] == ["w.yaml::refund"], f"rule: a {outcome} mandatory scenario is listed as not passed"
    assert verdict["missing"] == []
    assert len(verdict["incompleteReasons"]) == 1
    assert verdict["mandatory"] == {"passed": 1, "total": 2}


def test_rule_a_mandatory_scenario_not_run_leaves_the_run_incomplete():
    verdict = assess(CATALOGUE, [result("w.yaml::pay", "passed")], target="sandbox", interrupted=False)
    assert not verdict["complete"], "rule: a mandatory scenario not run -> incomplete"
    assert verdict["missing"] == ["w.yaml::refund"] and verdict["notPassed"] == []
    assert len(verdict["incompleteReasons"]) == 1


def test_rule_an_optional_scenario_that_fails_does_not_block_go_live():
    results = [result("w.yaml::pay", "passed"), result("w.yaml::refund", "passed"), result("w.yaml::extra", "failed")]
    verdict = assess(CATALOGUE, results, target="sandbox", interrupted=False)
    assert verdict["complete"], "rule: only mandatory scenarios gate go-live"


def test_rule_an_interrupted_run_is_incomplete_even_if_everything_ran():
    verdict = assess(CATALOGUE, all_passed(), target="sandbox", interrupted=True)
    assert not verdict["complete"] and verdict["interrupted"], "rule: an interrupted run is never complete"
    assert len(verdict["incompleteReasons"]) == 1


def test_rule_a_catalogue_without_mandatory_scenarios_is_never_complete():
    optional = [e for e in CATALOGUE if not e.mandatory]
    verdict = assess(optional, [result("w.yaml::extra", "passed")], target="sandbox", interrupted=False)
    assert not verdict["complete"], "rule: nothing mandatory -> no evidence of anything"
    assert verdict["mandatory"]["total"] == 0


@pytest.mark.parametrize("target, simulation", [("embedded", True), ("url", True), ("sandbox", False),
                                                ("production", False)])
def test_rule_only_a_run_against_dana_is_submittable(target, simulation):
    results = all_passed()
    verdict = assess(CATALOGUE, results, target=target, interrupted=False)
    assert verdict["simulation"] is simulation, "rule: a run not against DANA is a simulation"
    assert verdict["submittable"] is (not simulation), "rule: only a complete run against DANA is submittable"


def test_rule_against_production_the_production_set_is_required():
    need = runinfo.required(CATALOGUE, "production")
    assert [e.key for e in need] == ["w.yaml::pay", "w.yaml::extra"], \
        "rule: production requires the production-safe scenarios, and only them"
    verdict = assess(CATALOGUE, [result("w.yaml::pay", "passed"), result("w.yaml::extra", "passed")],
                     target="production", interrupted=False)
    assert verdict["complete"] and verdict["submittable"]
    assert not assess(CATALOGUE, [result("w.yaml::pay", "passed")], target="production", interrupted=False)["complete"]
    assert [e.key for e in runinfo.required(CATALOGUE, "sandbox")] == ["w.yaml::pay", "w.yaml::refund"]


def test_rule_progress_per_portal_group_counts_only_passed_mandatory_scenarios():
    catalogue = [*CATALOGUE, CatalogueEntry("w.yaml::pay2", "pay2", "Pay 2", "Payment", True, False),
                 CatalogueEntry("w.yaml::pay3", "pay3", "Pay 3", "Payment", True, False)]
    results = [result("w.yaml::pay", "passed"), result("w.yaml::refund", "skipped"), result("w.yaml::extra", "passed"),
               result("w.yaml::pay2", "failed"), result("w.yaml::pay3", "passed")]
    verdict = assess(catalogue, results, target="sandbox", interrupted=False)
    assert verdict["groups"] == [{"portal": "Payment", "passed": 2, "total": 3},
                                 {"portal": "Refund", "passed": 0, "total": 1}], "rule: progress per portal group"
    assert verdict["mandatory"] == {"passed": 2, "total": 4}


# -- the signed bundle --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def merchant():
    return SimpleNamespace(partner_id="2025112100000000000001", merchant_id="216620000000000000001",
                           private_key=generate_private_key())


def run_folder(root: Path, *, complete: bool = True) -> Path:
    run_dir = root / "20260101-000000"
    (run_dir / "evidence").mkdir(parents=True)
    summary = {"complete": complete, "target": "sandbox", "simulation": False, "submittable": complete,
               "incompleteReasons": [] if complete else ["1 mandatory scenario(s) did not pass"],
               "missing": [], "notPassed": [] if complete else ["w.yaml::refund"], "evidenceFor": "DANA sandbox UAT"}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    (run_dir / "report.html").write_text("<html>report</html>")
    (run_dir / "evidence" / "pay.json").write_text(json.dumps({"scenario": "pay", "outcome": "passed"}))
    return run_dir


def rewritten(src: Path, dst: Path, *, drop: str = "", replace: dict | None = None, add: dict | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename != drop:
                zout.writestr(item, (replace or {}).get(item.filename, zin.read(item.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


@pytest.fixture()
def made(tmp_path, merchant) -> Path:
    return bundle.make_bundle(run_folder(tmp_path), merchant)


def test_rule_a_bundle_of_a_complete_run_verifies(made, merchant):
    from conformance.snap import keys
    assert bundle.verify_bundle(made) == [], "rule: an untouched bundle verifies"
    assert bundle.verify_bundle(made, merchant.private_key.public_key()) == []
    with zipfile.ZipFile(made) as zf:
        listed = json.loads(zf.read(bundle.MANIFEST))["files"]
        assert zf.read(bundle.PUBLIC_KEY).decode() == keys.public_key_pem(merchant.private_key)
    assert sorted(listed) == ["evidence/pay.json", "report.html", "summary.json"], "rule: every file is listed"
    check = bundle.check_bundle(made, merchant.private_key.public_key())
    assert check.problems == [] and check.notes == [], "a complete run against DANA, checked with its key: no note"
    with zipfile.ZipFile(made) as zf:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist()), "a bundle is compressed"


def test_rule_a_manifest_without_notes_is_still_checked(made, tmp_path, merchant):
    from conformance.snap import sign
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    raw = json.dumps({k: v for k, v in manifest.items() if k != "notes"}).encode()
    edited = rewritten(made, tmp_path / "older.zip",
                       replace={bundle.MANIFEST: raw, bundle.SIGNATURE: sign(merchant.private_key, raw).encode()})
    assert bundle.check_bundle(edited, merchant.private_key.public_key()).problems == [], \
        "rule: a signed manifest that carries no notes (an older bundle) is verified, not a crash"


def test_rule_the_manifest_says_who_made_the_bundle_and_what_the_run_is_worth(made, merchant):
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    assert {k: manifest[k] for k in ("runId", "partnerId", "merchantId", "target", "complete", "simulation",
                                     "submittable", "evidenceFor", "notes")} == {
        "runId": "20260101-000000", "partnerId": merchant.partner_id, "merchantId": merchant.merchant_id,
        "target": "sandbox", "complete": True, "simulation": False, "submittable": True,
        "evidenceFor": "DANA sandbox UAT", "notes": []}, "rule: the signed manifest names the merchant and the run"


def test_rule_an_incomplete_run_makes_no_bundle(tmp_path, merchant):
    with pytest.raises(bundle.BundleRefused) as refused:
        bundle.make_bundle(run_folder(tmp_path, complete=False), merchant)
    assert "w.yaml::refund" in str(refused.value), "rule: the refusal names the scenario that did not pass"
    assert "1 mandatory scenario(s) did not pass" in str(refused.value), "rule: the refusal gives the run's reasons"
    assert not list(tmp_path.rglob("*.zip")), "rule: no bundle file is written for an incomplete run"


def test_rule_a_refusal_names_every_scenario_not_run_and_not_passed():
    why = bundle.refusal({"complete": False, "incompleteReasons": ["reason one", "reason two"],
                          "missing": ["a.yaml::x", "a.yaml::y"], "notPassed": ["b.yaml::z"]})
    for part in ("reason one", "reason two", "a.yaml::x", "a.yaml::y", "b.yaml::z"):
        assert part in why, f"rule: the refusal names {part}"
    assert len(why.splitlines()) == 4
    assert bundle.refusal({"complete": True}) is None
    assert bundle.refusal({}), "rule: a summary not marked complete is refused"


def test_rule_a_file_added_to_a_bundle_without_being_in_its_manifest_fails_verification(made, tmp_path):
    extra = rewritten(made, tmp_path / "extra.zip", add={"evidence/forged.json": b"{}"})
    problems = bundle.verify_bundle(extra)
    assert any("evidence/forged.json" in p for p in problems), \
        f"rule: a file not listed in the signed manifest is a problem; got {problems}"


def test_rule_a_file_listed_in_the_manifest_but_missing_fails_verification(made, tmp_path):
    problems = bundle.verify_bundle(rewritten(made, tmp_path / "missing.zip", drop="report.html"))
    assert any("report.html" in p for p in problems), "rule: a listed file missing from the zip is a problem"


def test_rule_a_file_whose_hash_differs_from_the_manifest_fails_verification(made, tmp_path):
    edited = rewritten(made, tmp_path / "edited.zip", replace={"evidence/pay.json": b'{"outcome": "passed!"}'})
    problems = bundle.verify_bundle(edited)
    assert [p for p in problems if "evidence/pay.json" in p], "rule: an edited file fails its SHA-256"
    assert len(problems) == 1


def test_rule_an_edited_manifest_fails_its_signature(made, tmp_path):
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    manifest["target"] = "production"
    edited = rewritten(made, tmp_path / "manifest.zip", replace={bundle.MANIFEST: json.dumps(manifest).encode()})
    assert len(bundle.verify_bundle(edited)) == 1, "rule: the manifest signature covers the manifest bytes"


def test_rule_a_bundle_re_signed_with_another_key_fails_against_the_registered_key(made, tmp_path, merchant):
    from conformance.snap import keys, sign
    other = generate_private_key()
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    if "merchantKeyFingerprint" in manifest:            # a forger edits the key the manifest names, too
        manifest["merchantKeyFingerprint"] = keys.fingerprint(other)
    raw = json.dumps(manifest).encode()
    forged = rewritten(made, tmp_path / "forged.zip", replace={bundle.MANIFEST: raw, bundle.SIGNATURE: sign(other, raw).encode(),
                                                              bundle.PUBLIC_KEY: keys.public_key_pem(other)})
    assert bundle.verify_bundle(forged) == [], "a re-signed bundle verifies only against the key it carries"
    check = bundle.check_bundle(forged)
    assert check.notes, "rule: checking against the carried key says anyone can re-sign"
    problems = bundle.verify_bundle(forged, merchant.private_key.public_key())
    assert len(problems) >= 2, f"rule: a different key and a failing signature are both reported; got {problems}"


@pytest.mark.parametrize("copy", [b"<html>other</html>", b"<html>report</html>"])
def test_rule_a_duplicate_entry_in_a_bundle_fails_verification(made, tmp_path, copy):
    dupe = tmp_path / "dupe.zip"
    dupe.write_bytes(made.read_bytes())
    with zipfile.ZipFile(dupe, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("report.html", copy)
    problems = bundle.verify_bundle(dupe)
    assert len(problems) == 1 and "report.html" in problems[0], \
        "rule: a second copy of an entry is refused, even an identical one (readers disagree on which wins)"


def test_rule_a_manifest_not_marked_complete_is_not_a_go_live_bundle(made, tmp_path, merchant):
    from conformance.snap import sign
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    manifest["complete"] = False
    raw = json.dumps(manifest).encode()
    edited = rewritten(made, tmp_path / "incomplete.zip",
                       replace={bundle.MANIFEST: raw, bundle.SIGNATURE: sign(merchant.private_key, raw).encode()})
    assert len(bundle.verify_bundle(edited)) == 1, "rule: only a manifest marked complete is a go-live bundle"


def test_rule_a_simulated_run_bundle_says_so(tmp_path, merchant):
    run_dir = run_folder(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "simulation": True, "submittable": False}))
    made = bundle.make_bundle(run_dir, merchant)
    check = bundle.check_bundle(made, merchant.private_key.public_key())
    assert check.problems == [] and len(check.notes) == 1, "rule: a simulation bundle verifies and says it is one"
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    assert (manifest["simulation"], manifest["submittable"]) == (True, False), \
        "rule: the signed manifest says the run was a simulation"


def test_rule_traces_stay_out_of_the_bundle_and_the_manifest_says_so(tmp_path, merchant):
    run_dir = run_folder(tmp_path)
    (run_dir / "artifacts" / "pay").mkdir(parents=True)
    (run_dir / "artifacts" / "pay" / "trace.zip").write_bytes(b"PK")
    (run_dir / "artifacts" / "pay" / "shot.png").write_bytes(b"png")
    with zipfile.ZipFile(bundle.make_bundle(run_dir, merchant)) as zf:
        names, manifest = zf.namelist(), json.loads(zf.read(bundle.MANIFEST))
    assert "artifacts/pay/shot.png" in names and "artifacts/pay/trace.zip" not in names, \
        "rule: a trace (a whole browser session) never enters the bundle"
    assert manifest["notes"] == [bundle.TRACE_NOTE]
    assert bundle.TRACE_NOTE in bundle.check_bundle(run_dir / f"dana-uat-bundle-{run_dir.name}.zip").notes, \
        "rule: verifying says what the bundle leaves out"


def test_rule_artifacts_without_a_trace_add_no_trace_note(tmp_path, merchant):
    run_dir = run_folder(tmp_path)
    (run_dir / "artifacts").mkdir()
    (run_dir / "artifacts" / "shot.png").write_bytes(b"png")
    with zipfile.ZipFile(bundle.make_bundle(run_dir, merchant)) as zf:
        assert json.loads(zf.read(bundle.MANIFEST))["notes"] == []


def test_rule_every_problem_and_note_of_a_check_is_a_sentence(made, tmp_path, merchant):
    other = generate_private_key()
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    raw = json.dumps({**manifest, "complete": False, "simulation": True}).encode()
    edited = rewritten(made, tmp_path / "all.zip", replace={bundle.MANIFEST: raw})
    for key in (None, other.public_key()):
        check = bundle.check_bundle(edited, key)
        assert len(check.problems) >= (2 if key is None else 3) and len(check.notes) >= (2 if key is None else 1)
        assert any("complete" in p for p in check.problems) and any("SIMULATION" in n.upper() for n in check.notes)
        assert all(isinstance(t, str) and len(t) > 20 for t in check.problems + check.notes), check


# -- redaction ----------------------------------------------------------------------------------------

SECRET = "tok-3f9a77c1e2d4b5a6"


def test_rule_a_learned_secret_is_masked_at_every_occurrence_in_a_text():
    redactor = Redactor()
    redactor.learn(SECRET)
    text = redactor.text(f"first {SECRET} then again {SECRET}, and once more:{SECRET}")
    assert SECRET not in text, f"rule: every copy of a learned secret is masked; got {text!r}"
    assert text.count(mask(SECRET)) == 3


def test_rule_a_secret_seen_in_a_response_field_is_masked_later_wherever_it_appears():
    redactor = Redactor()
    assert redactor.data({"accessToken": SECRET}) == {"accessToken": mask(SECRET)}
    later = redactor.data({"note": f"used {SECRET} twice: {SECRET}", "nested": [SECRET]})
    assert SECRET not in json.dumps(later), "rule: a secret seen once is masked everywhere after"


def test_rule_short_values_are_not_learned_as_secrets():
    redactor = Redactor(["abc"])
    redactor.learn("12345")
    assert redactor.text("abc 12345") == "abc 12345", "rule: values under 6 characters are not learned"
    redactor.learn("123456")
    assert "123456" not in redactor.text("id 123456")


def test_rule_a_mask_keeps_four_characters_and_the_length_only_for_long_values():
    assert mask("abcdefghij") == "abcd…[redacted 10 chars]"
    assert mask("abcdefgh") == "…[redacted 8 chars]", "rule: a short secret shows none of its characters"


@pytest.mark.parametrize("field", ["accessToken", "refreshToken", "ott", "authCode", "clientSecret", "privateKey"])
def test_rule_secret_fields_are_masked_in_bodies_and_urls(field):
    redactor = Redactor()
    body = redactor.data({"outer": {field: SECRET}})
    assert SECRET not in json.dumps(body), f"rule: {field} is masked in a body"
    url = Redactor().text(f"https://merchant.example/cb?{field}={SECRET}&state=s")
    assert SECRET not in url and "state=s" in url, f"rule: {field} is masked in a URL query"


def test_rule_secret_headers_are_masked_and_their_token_learned():
    redactor = Redactor()
    headers = redactor.headers({"Authorization-Customer": f"Bearer {SECRET}", "X-SIGNATURE": "s" * 40,
                                "X-PARTNER-ID": "partner"})
    assert headers["Authorization-Customer"] == "Bearer " + mask(SECRET)
    assert headers["X-SIGNATURE"] == "s" * 12 + "…[40 chars]" and headers["X-PARTNER-ID"] == "partner"
    assert SECRET not in redactor.text(f"later {SECRET}"), "rule: a header's token is learned"


def test_rule_a_secret_query_parameter_is_masked_whole_in_a_url_and_the_others_kept():
    r = Redactor()
    from urllib.parse import parse_qsl, urlsplit
    out = r.text("https://m.example/cb?password=hunter2x&state=s1")
    assert out.startswith("https://m.example/cb?") and \
        parse_qsl(urlsplit(out).query) == [("password", mask("hunter2x")), ("state", "s1")], \
        "rule: any secret field in a query is masked"
    encoded = r.text("https://m.example/cb?authCode=ab%2Fcd%2Bef0123&state=s1")
    assert "cd%2Bef0123" not in encoded and "0123" not in encoded and encoded.endswith("&state=s1"), \
        "rule: a percent-encoded secret is masked whole, not up to its first escape"
    assert r.url("https://m.example/cb?state=s1&x=1") == "https://m.example/cb?state=s1&x=1", \
        "rule: a URL without a secret parameter is left as it was"


def test_rule_a_pem_private_key_and_a_bearer_token_are_masked_in_free_text():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"
    text = Redactor().text(f"key {pem} sent Authorization: Bearer {SECRET}")
    assert "MIIEvQIBADANBg" not in text and SECRET not in text, "rule: keys and bearer tokens never in full"


def test_rule_an_ott_in_user_resources_is_masked_and_learned():
    redactor = Redactor()
    out = redactor.data({"userResources": [{"resourceType": "OTT", "value": SECRET}]})
    assert out == {"userResources": [{"resourceType": "OTT", "value": mask(SECRET)}]}
    assert SECRET not in redactor.text(f"ott was {SECRET}"), "rule: an OTT answer is learned as a secret"


# -- the summary of a run: summarise, the catalogue it counts against ----------------------------------

CATALOGUE_FILE = """\
api: widget_payment
scenarios:
  - id: pay
    title: Pay
    portal: Payment
    mandatory: true
    marks: [production_safe]
    steps:
      - call: widget_payment
        expect: {status: 200, responseCode: "2005400"}
  - id: refund
    title: Refund
    mandatory: true
    steps:
      - call: refund_order
        expect: {status: 200, responseCode: "2005800"}
"""
INDEX = """\
PaymentSuccess: pay
PaymentSuccessAgain: {scenario: pay, note: same}
RefundSomething: {reason: not a scenario}
"""


@pytest.fixture()
def scenario_dir(tmp_path) -> Path:
    root = tmp_path / "scenarios"
    (root / "widget").mkdir(parents=True)
    (root / "widget" / "pay.yaml").write_text(CATALOGUE_FILE)
    (root / "reference-index.yaml").write_text(INDEX)
    return root


def shown(path: Path) -> str:
    return f"scenarios/{path.parent.name}/{path.name}"


def test_rule_the_catalogue_lists_every_scenario_with_its_mandatory_and_production_safe_marks(scenario_dir):
    entries, digest = load_catalogue(scenario_dir, shown)
    assert [(e.key, e.id, e.title, e.portal, e.mandatory, e.production_safe) for e in entries] == [
        ("scenarios/widget/pay.yaml::pay", "pay", "Pay", "Payment", True, True),
        ("scenarios/widget/pay.yaml::refund", "refund", "Refund", "(no portal group)", True, False)]
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    single, _ = load_catalogue(scenario_dir / "widget" / "pay.yaml", shown)
    assert [e.key for e in single] == [e.key for e in entries], "rule: a file is a catalogue of its own"
    assert load_catalogue(scenario_dir / "nothing", shown)[0] == []


def test_rule_the_catalogue_hash_changes_with_any_file_even_a_broken_one(scenario_dir):
    _, before = load_catalogue(scenario_dir, shown)
    assert load_catalogue(scenario_dir, shown)[1] == before, "rule: the hash is reproducible"
    (scenario_dir / "widget" / "broken.yaml").write_text("api: widget_payment\nscenarios: [{id: 1}\n")
    entries, after = load_catalogue(scenario_dir, shown)
    assert after != before, "rule: a broken file still counts in the catalogue hash"
    assert len(entries) == 2, "rule: a broken file adds no scenario (it is reported as broken instead)"
    (scenario_dir / "widget" / "broken.yaml").unlink()
    (scenario_dir / "widget" / "pay.yaml").write_text(CATALOGUE_FILE.replace("title: Pay", "title: Pay!"))
    assert load_catalogue(scenario_dir, shown)[1] not in (before, after)


def test_rule_dana_case_names_map_to_their_scenario(scenario_dir):
    assert runinfo.case_names(scenario_dir) == {"pay": ["PaymentSuccess", "PaymentSuccessAgain"]}
    assert runinfo.case_names(scenario_dir / "widget" / "pay.yaml") == {}, "the index sits beside the files"
    assert runinfo.case_names(scenario_dir.parent / "elsewhere") == {}


def settings_for(target: str, merchant=None, **more):
    return SimpleNamespace(target=target, merchant=merchant, is_embedded=target == "embedded",
                           api_base=more.get("api_base", "https://api.sandbox.dana.id"))


def summary_of(scenario_dir, results, settings, **kw):
    from datetime import datetime

    from conformance.snap.timestamps import JAKARTA
    return runinfo.summarise(run_id="r1", results=results, broken=kw.get("broken", []), exit_status=kw.get("exit", 0),
                             interrupted=kw.get("interrupted", False), scenario_dir=scenario_dir,
                             catalogue=load_catalogue(scenario_dir, shown),
                             settings=settings, started=datetime(2026, 1, 2, 3, 4, 5, tzinfo=JAKARTA))


PASSED = [result("scenarios/widget/pay.yaml::pay", "passed"), result("scenarios/widget/pay.yaml::refund", "passed")]


def test_rule_a_summary_counts_outcomes_warnings_and_broken_files(scenario_dir):
    results = [result("scenarios/widget/pay.yaml::pay", "passed"),
               {**result("scenarios/widget/pay.yaml::refund", "skipped"), "warnings": ["w1", "w2"]},
               result("scenarios/widget/other.yaml::x", "failed")]
    s = summary_of(scenario_dir, results, None, broken=["scenarios/widget/bad.yaml"], exit=1)
    assert s["counts"] == {"passed": 1, "failed": 1, "skipped": 1, "danaUnavailable": 0, "warnings": 2,
                           "brokenFiles": 1}
    assert s["brokenFiles"] == ["scenarios/widget/bad.yaml"] and s["exitStatus"] == 1 and s["runId"] == "r1"
    assert not s["complete"] and s["notPassed"] == ["scenarios/widget/pay.yaml::refund"], \
        "rule: the summary's verdict is the go-live gate's"
    assert [r["caseNames"] for r in s["scenarios"]] == [["PaymentSuccess", "PaymentSuccessAgain"], [], []]
    assert s["meta"]["catalogueScenarios"] == 2 and s["meta"]["startedAt"] == "02 Jan 2026, 03:04:05 WIB (UTC+07:00)"


@pytest.mark.parametrize("target, kind, simulation", [
    (None, "embedded", True), ("embedded", "embedded", True), ("http://127.0.0.1:9000", "url", True),
    ("sandbox", "sandbox", False), ("production", "production", False)])
def test_rule_the_summary_says_which_target_and_whether_it_is_evidence_for_dana(scenario_dir, target, kind, simulation):
    settings = None if target is None else settings_for(target)
    s = summary_of(scenario_dir, PASSED, settings)
    assert s["target"] == kind and s["simulation"] is simulation
    assert s["submittable"] is (not simulation) and s["complete"], "rule: only a run against DANA is evidence"
    if simulation:
        assert s["evidenceFor"].startswith("SIMULATION"), "rule: a simulation says so in its summary"
        assert ("local" in s["evidenceFor"]) is (kind == "url")
    else:
        assert s["evidenceFor"] == f"DANA {kind} UAT"


def test_rule_the_summary_names_the_merchant_and_the_fingerprint_of_its_key(scenario_dir, merchant):
    import hashlib

    from cryptography.hazmat.primitives import serialization
    public = merchant.private_key.public_key()
    who = SimpleNamespace(partner_id="P1", merchant_id="M1", public_key=public)
    meta = summary_of(scenario_dir, PASSED, settings_for("sandbox", who))["meta"]
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert meta["merchantKeyFingerprint"] == "SHA256:" + hashlib.sha256(der).hexdigest(), \
        "rule: the fingerprint is SHA-256 of the DER public key, as DANA can compute it"
    assert (meta["partnerId"], meta["merchantId"], meta["apiHost"]) == ("P1", "M1", "https://api.sandbox.dana.id")
    embedded = summary_of(scenario_dir, PASSED, settings_for("embedded"))["meta"]
    assert (embedded["partnerId"], embedded["merchantKeyFingerprint"]) == ("", "")
    assert "simulation" in embedded["apiHost"], "rule: the embedded sandbox is named as a simulation"
    assert summary_of(scenario_dir, PASSED, None)["meta"]["apiHost"] == ""


# -- traces kept on disk: scrub -----------------------------------------------------------------------

def test_rule_a_scrubbed_trace_keeps_a_secrets_mask_in_text_and_binary_entries(tmp_path):
    from urllib.parse import quote

    from conformance.evidence.scrub import scrub_zip
    secret, special = "learned-auth-code", "tok/with+special=chars"
    path = tmp_path / "trace.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("trace.network", f'{{"url": "https://m/cb?state=s&code={secret}"}}')
        zf.writestr("resources/blob.bin", b"\xff\xfe " + secret.encode() + b" \x00 " + quote(special, safe="").encode())
    scrub_zip(path, Redactor([secret, special]))
    with zipfile.ZipFile(path) as zf:
        text, blob = zf.read("trace.network").decode(), zf.read("resources/blob.bin")
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist()), "a trace stays compressed"
    assert secret not in text and mask(secret) in text, "rule: a learned secret is masked (4 chars + length)"
    assert secret.encode() not in blob and mask(secret).encode() in blob, "rule: also in a binary entry"
    assert quote(special, safe="").encode() not in blob and mask(special).encode() in blob, \
        "rule: a secret's URL-encoded form is masked too"
    assert not list(tmp_path.glob("*.scrubbing")), "the scrubbed zip replaces the original"


def test_rule_a_scrubbed_trace_names_no_folder_of_this_machine(tmp_path, monkeypatch):
    from conformance.evidence.scrub import machine_paths, scrub_artifacts
    home = tmp_path / "home"
    project = home / "project"
    project.mkdir(parents=True)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    monkeypatch.chdir(project)
    paths = machine_paths()
    assert f"{project}/" in paths and f"{home}/" in paths and all(p.endswith("/") for p in paths)
    assert [len(p) for p in paths] == sorted((len(p) for p in paths), reverse=True), "rule: longest first"
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as zf:
        zf.writestr("trace.stacks", f"at {project}/tests/test_pay.py:12 and {home}/.cache/x")
    (tmp_path / "shot.png").write_bytes(b"png")
    scrub_artifacts([str(trace), str(tmp_path / "shot.png"), str(tmp_path / "gone.zip")], Redactor())
    with zipfile.ZipFile(trace) as zf:
        assert zf.read("trace.stacks").decode() == "at tests/test_pay.py:12 and .cache/x", \
            "rule: a machine path is cut to what follows it, the innermost folder first"
    assert (tmp_path / "shot.png").read_bytes() == b"png", "only zip artifacts are scrubbed"


# -- evidence on disk: the recorder and its writer ----------------------------------------------------

def test_rule_a_run_id_sorts_by_time_and_differs_between_runs():
    import re

    from conformance.evidence.recorder import new_run_id
    ids = {new_run_id() for _ in range(5)}
    assert all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", i) for i in ids), ids
    assert len(ids) > 1


def test_rule_latest_points_at_the_newest_run_and_falls_back_to_a_file_without_symlinks(tmp_path, monkeypatch):
    from conformance.evidence.recorder import EvidenceWriter
    reports = tmp_path / "nested" / "reports"
    EvidenceWriter(reports, "r1").write_summary({"runId": "r1", "note": "Pembayaran berhasil ✓"})
    EvidenceWriter(reports, "r2").write_summary({"runId": "r2"})
    assert (reports / "latest").resolve() == (reports / "r2").resolve(), "rule: latest moves to the newest run"
    raw = (reports / "r1" / "summary.json").read_text(encoding="utf-8")
    assert "Pembayaran berhasil ✓" in raw, "evidence is written as readable UTF-8"

    def no_symlinks(self, *a, **k):
        raise OSError("no symlinks here")
    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    EvidenceWriter(reports, "r3").write_summary({"runId": "r3"})
    assert (reports / "latest.txt").read_text(encoding="utf-8").strip() == "r3", \
        "rule: without symlinks the latest run is named in latest.txt"


def test_rule_a_scenario_file_is_named_safely_and_keeps_no_machine_path(tmp_path):
    from conformance.evidence.recorder import EvidenceWriter, Recorder
    writer = EvidenceWriter(tmp_path, "r1")
    inside = writer.root / "artifacts" / "s" / "shot.png"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"png")
    rec = Recorder("pay/../../x y", file="scenarios/a.yaml")
    rec.artifact(inside)
    rec.artifact(tmp_path.parent / "elsewhere" / "trace.zip")
    path = writer.write_scenario(rec)
    assert path.parent == writer.evidence_dir and path.name == "pay_.._.._x_y.json", "rule: no path escapes evidence/"
    assert json.loads(path.read_text())["artifacts"] == ["artifacts/s/shot.png", "trace.zip"], \
        "rule: artifacts are named relative to the run, never by a machine path"
    assert writer.write_scenario(Recorder("")).name == "scenario.json"


def test_rule_a_recorder_keeps_steps_their_findings_and_its_warnings():
    from conformance.evidence.recorder import Recorder
    from conformance.findings import fail, warn
    rec = Recorder("s")
    rec.end_step("passed", [])                       # no step begun: nothing to close
    rec.begin_step(1, "call", "pay")
    rec.event("browser", action="open", ott=SECRET)
    rec.end_step("failed", [fail("status", 200, 400), warn("CHANNEL-ID", "present", None)])
    rec.begin_step(2, "call", "query")
    assert [s["status"] for s in rec.steps] == ["failed", "running"]
    assert [f["check"] for f in rec.steps[0]["findings"]] == ["status", "CHANNEL-ID"]
    assert [f.check for f in rec.warnings] == ["CHANNEL-ID"], "rule: a warning does not fail"
    assert rec.events[0]["step"] == 1 and rec.events[0]["type"] == "browser"
    assert SECRET not in json.dumps(rec.to_dict()), "rule: an event is redacted as it is recorded"
    assert rec.to_dict()["findings"][0]["expected"] == 200
    odd = rec._finding(fail("x", object(), {1, 2}))
    assert isinstance(odd["expected"], str) and isinstance(odd["received"], str), "rule: evidence is JSON"


@pytest.mark.parametrize("where, check", [("step 2 body.accessToken", "body"), ("", "accessToken"),
                                          ("body['refreshToken']", "body"), ("additionalInfo[ott]", "x")])
def test_rule_a_finding_about_a_secret_field_masks_both_sides_keeping_their_first_characters(where, check):
    out = Redactor().finding({"where": where, "check": check, "expected": "expected-secret-1",
                              "received": "received-secret-2"})
    assert (out["expected"], out["received"]) == (mask("expected-secret-1"), mask("received-secret-2")), \
        f"rule: a finding about a secret field ({where or check}) never shows either side in full"


def test_rule_a_finding_about_another_field_or_a_matcher_is_left_alone():
    r = Redactor()
    plain = {"where": "body.referenceNo", "check": "body", "expected": "expected-value-1", "received": "received-2"}
    assert r.finding(plain) == plain, "rule: only secret fields are masked"
    matcher = {"where": "body.accessToken", "check": "body", "expected": {"$type": "string"}, "received": ""}
    assert r.finding(matcher) == matcher, "rule: a matcher or an empty value is not a secret"


def test_rule_only_an_ott_resource_value_is_a_secret():
    r = Redactor()
    other = {"userResources": [{"resourceType": "ACCOUNT", "value": "visible-value-123"}, {"value": "no-type-456"}]}
    assert r.data(other) == other, "rule: a resource other than OTT keeps its value"
    assert r.data({"userResources": [{"resourceType": "ott", "value": SECRET}]})["userResources"][0]["value"] == \
        mask(SECRET), "rule: the resource type is matched whatever its case"


def test_rule_the_summary_records_the_tool_the_catalogue_and_when_it_finished(scenario_dir):
    import re
    from importlib import metadata
    s = summary_of(scenario_dir, PASSED, settings_for("sandbox", api_base=None), interrupted=True)
    assert not s["complete"] and s["interrupted"], "rule: an interrupted run is never complete"
    meta = s["meta"]
    assert meta["toolVersion"] == metadata.version("dana-uat")
    assert meta["catalogueHash"] == load_catalogue(scenario_dir, shown)[1], "rule: the hash it counted against"
    assert re.fullmatch(r"\d\d \w{3} \d{4}, \d\d:\d\d:\d\d WIB \(UTC\+07:00\)", meta["finishedAt"])
    assert (meta["apiHost"], meta["merchantId"]) == ("", "")
    notes = {summary_of(scenario_dir, PASSED, settings_for(t))["evidenceFor"] for t in ("embedded", "http://h:1")}
    assert len(notes) == 2 and runinfo.SIMULATION_NOTE.format(where="") not in notes, \
        "rule: a simulation names what it ran against"


def test_rule_case_names_are_read_beside_a_single_file_and_again_when_the_index_changes(scenario_dir):
    import os
    single = scenario_dir / "widget" / "pay.yaml"
    (scenario_dir / "widget" / "reference-index.yaml").write_text("RefundSuccess: refund\n")
    assert runinfo.case_names(single) == {"refund": ["RefundSuccess"]}, "rule: the index beside a single file"
    index = scenario_dir / "reference-index.yaml"
    before = index.stat()
    assert runinfo.case_names(scenario_dir)["pay"] == ["PaymentSuccess", "PaymentSuccessAgain"]
    index.write_text(INDEX.replace("PaymentSuccess:", "PaymentSuccezz:"))          # same size, newer
    os.utime(index, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert runinfo.case_names(scenario_dir)["pay"] == ["PaymentSuccezz", "PaymentSuccessAgain"], \
        "rule: an edited index is read again"
    index.write_text(INDEX.replace("PaymentSuccess:", "PaymentSuccessNew:"))       # other size, same time
    os.utime(index, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert runinfo.case_names(scenario_dir)["pay"][0] == "PaymentSuccessNew"


def test_rule_a_scenario_dana_could_not_answer_is_counted_apart_and_does_not_pass(scenario_dir):
    results = [result("scenarios/widget/pay.yaml::pay", "passed"),
               result("scenarios/widget/pay.yaml::refund", "dana-unavailable"),
               result("scenarios/widget/other.yaml::x", "dana-unavailable")]
    s = summary_of(scenario_dir, results, settings_for("sandbox"))
    assert (s["counts"]["danaUnavailable"], s["counts"]["passed"], s["counts"]["failed"]) == (2, 1, 0), \
        "rule: DANA's outage is counted apart from the merchant's failures"
    assert not s["complete"] and s["notPassed"] == ["scenarios/widget/pay.yaml::refund"]


def test_rule_a_bundle_is_checked_against_the_merchant_the_verifier_expects(made, merchant):
    key = merchant.private_key.public_key()
    right = {"partnerId": merchant.partner_id, "merchantId": merchant.merchant_id}
    assert bundle.check_bundle(made, key, expect=right).problems == []
    assert bundle.check_bundle(made, key, expect={"partnerId": "", "merchantId": None}).problems == [], \
        "an unset expectation checks nothing"
    wrong = bundle.check_bundle(made, key, expect={**right, "merchantId": "someone-else"}).problems
    assert len(wrong) == 1 and "merchantId" in wrong[0] and isinstance(wrong[0], str), \
        "rule: a bundle naming another merchant than the settings is a problem"


def test_rule_only_a_trusted_key_verifies_who_made_a_bundle_and_the_check_says_whose_it_claims_to_be(made, merchant,
                                                                                                     tmp_path):
    from conformance.snap import keys
    key = merchant.private_key.public_key()
    trusted, carried = bundle.check_bundle(made, key), bundle.check_bundle(made)
    assert trusted.origin_verified is True and not trusted.integrity_only, "rule: the trusted key proves the origin"
    assert carried.origin_verified is False and carried.integrity_only, "rule: the key inside proves integrity only"
    assert trusted.claims == carried.claims == {"partnerId": merchant.partner_id, "merchantId": merchant.merchant_id,
                                                "merchantKeyFingerprint": keys.fingerprint(merchant.private_key)}
    broken = bundle.check_bundle(rewritten(made, tmp_path / "b.zip", drop="report.html"), key)
    assert broken.origin_verified is False and not broken.integrity_only, "rule: a bundle with a problem proves nothing"
