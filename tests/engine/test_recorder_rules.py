"""The evidence record's rules (conformance/evidence/recorder.py), one focused test each.

A scenario's evidence file is what DANA's reviewer reads and what the report and the bundle are built
from: every exchange whole (request, response, error, timing, the step it belongs to), every event and
step, redacted as it is recorded, and written so that no reader ever sees half a file.
"""

from __future__ import annotations

import json
import re

from conformance.client.snap_client import Exchange
from conformance.evidence.recorder import EvidenceWriter, Recorder
from conformance.evidence.redaction import mask
from conformance.findings import fail, warn

TOKEN = "access-token-0123456789abcdef"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


def exchange(**changes) -> Exchange:
    made = Exchange(api="widget_payment", method="POST", url="https://api.example/pay?x=1",
                    request_headers={"X-PARTNER-ID": "p1", "Authorization-Customer": f"Bearer {TOKEN}"},
                    request_body=b'{"partnerReferenceNo":"r1"}', signed_path="/pay",
                    status=200, response_headers={"Content-Type": "application/json"},
                    response_body=b'{"responseCode":"2005400"}', elapsed_ms=12.5, error=None,
                    started_at="2026-01-02T03:04:05+07:00")
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def test_rule_an_exchange_is_recorded_whole_with_its_step_and_redacted():
    rec = Recorder("pay")
    rec.begin_step(3, "call", "pay")
    record = rec.exchange(exchange())
    assert record == {
        "type": "http", "step": 3, "api": "widget_payment", "at": "2026-01-02T03:04:05+07:00",
        "request": {"method": "POST", "url": "https://api.example/pay?x=1", "signedPath": "/pay",
                    "headers": {"X-PARTNER-ID": "p1", "Authorization-Customer": f"Bearer {mask(TOKEN)}"},
                    "body": {"json": {"partnerReferenceNo": "r1"}}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "body": {"json": {"responseCode": "2005400"}}},
        "error": None, "elapsedMs": 12.5,
    }, "rule: an exchange's evidence holds the request, the response, the error and the timing, redacted"
    assert rec.events == [record], "rule: the recorded exchange is kept in the scenario's events"


def test_rule_an_exchange_without_an_answer_records_no_response_and_its_error():
    rec = Recorder("pay")
    record = rec.exchange(exchange(status=None, error="ConnectError: refused"))
    assert record["response"] is None and record["error"] == "ConnectError: refused", \
        "rule: a transport error is evidence too, with no invented response"
    assert record["step"] is None and "tamper" not in record, "rule: outside a step, no step; untampered, no tamper"


def test_rule_a_tampered_exchange_records_the_tamper_redacted():
    record = Recorder("pay").exchange(exchange(tamper={"accessToken": TOKEN, "header": "X-SIGNATURE"}))
    assert record["tamper"] == {"accessToken": mask(TOKEN), "header": "X-SIGNATURE"}, \
        "rule: what a negative scenario changed is in its evidence, without a secret in full"


def test_rule_an_event_is_recorded_with_its_type_step_and_time_redacted():
    rec = Recorder("bind")
    rec.begin_step(2, "browser", "login")
    record = rec.event("browser", action="open", accessToken=TOKEN)
    assert record.keys() == {"type", "step", "at", "action", "accessToken"}
    assert (record["type"], record["step"], record["action"]) == ("browser", 2, "open")
    assert TIMESTAMP.match(record["at"]), "rule: every event says when it happened, in Jakarta time"
    assert record["accessToken"] == mask(TOKEN), "rule: an event is redacted as it is recorded"
    assert rec.events == [record]


def test_rule_a_step_starts_running_with_no_findings_and_ends_with_its_own():
    rec = Recorder("s")
    rec.begin_step(1, "call", "pay")
    assert rec.steps == [{"index": 1, "kind": "call", "name": "pay", "status": "running", "findings": []}], \
        "rule: a step begun is recorded as running, with its index, kind and name"
    rec.end_step("failed", [fail("status", 200, 400)])
    rec.begin_step(2, "call", "query")
    rec.end_step("passed", [warn("CHANNEL-ID", "present", None)])
    assert [f.check for f in rec.findings] == ["status", "CHANNEL-ID"], \
        "rule: a scenario keeps the findings of every step, not only the last one's"
    assert [len(s["findings"]) for s in rec.steps] == [1, 1]


def test_rule_the_scenario_record_says_what_ran_how_it_ended_and_when():
    rec = Recorder("pay", nodeid="w.yaml::pay", title="Pay", file="w.yaml", api="widget_payment", mandatory=True,
                   portal="Payment", embedded_only="needs a clock")
    rec.outcome = "passed"
    rec.artifact("trace.zip")
    data = rec.to_dict()
    assert {k: data[k] for k in ("scenario", "nodeid", "title", "file", "api", "mandatory", "portal", "outcome",
                                 "embeddedOnly", "steps", "exchanges", "artifacts", "findings")} == {
        "scenario": "pay", "nodeid": "w.yaml::pay", "title": "Pay", "file": "w.yaml", "api": "widget_payment",
        "mandatory": True, "portal": "Payment", "outcome": "passed", "embeddedOnly": "needs a clock",
        "steps": [], "exchanges": [], "artifacts": ["trace.zip"], "findings": []}, \
        "rule: the record names the scenario, its file, its API, whether it is mandatory and how it ended"
    assert TIMESTAMP.match(data["startedAt"]) and TIMESTAMP.match(data["finishedAt"]), \
        "rule: the record says when the scenario started and finished"
    assert "danaUnavailable" not in data
    rec.unavailable = "503 after 3 tries"
    assert rec.to_dict()["danaUnavailable"] == "503 after 3 tries", "rule: DANA's outage is named when it decided"


def test_rule_a_finding_that_json_cannot_hold_is_kept_as_its_repr():
    finding = Recorder("s")._finding(fail("x", {1, 2}, "plain"))
    assert finding["expected"] == repr({1, 2}) and finding["received"] == "plain", \
        "rule: a value JSON cannot hold is shown as written, not dropped"


def test_rule_evidence_files_are_indented_utf8_and_leave_no_temporary_file(tmp_path):
    writer = EvidenceWriter(tmp_path, "run-1")
    rec = Recorder("pay", title="Bayar Rp 10.000 — sukses")
    path = writer.write_scenario(rec)
    text = path.read_text(encoding="utf-8")
    assert "— sukses" in text, "rule: evidence keeps non-ASCII text as written (UTF-8)"
    assert text.startswith('{\n  "scenario"'), "rule: evidence files are indented for a reader"
    summary = writer.write_summary({"complete": True, "title": "Ringkasan — semua"})
    assert summary == tmp_path / "run-1" / "summary.json"
    assert summary.read_text(encoding="utf-8").startswith('{\n  "complete": true,\n  "title": "Ringkasan — semua"')
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == [], "rule: a file is written whole or not at all (no temporary file left)"


def test_rule_the_same_scenario_id_in_two_files_keeps_both_evidence_files(tmp_path):
    writer = EvidenceWriter(tmp_path, "run-1")
    first = writer.write_scenario(Recorder("pay", file="scenarios/a.yaml"))
    second = writer.write_scenario(Recorder("pay", file="scenarios/b.yaml", title="second"))
    assert (first.name, second.name) == ("pay.json", "b__pay.json"), \
        "rule: a second scenario with the same id is written beside the first, named after its file"
    assert json.loads(second.read_text())["title"] == "second" and json.loads(first.read_text())["title"] == ""


def test_rule_latest_is_replaced_by_a_newer_run(tmp_path):
    EvidenceWriter(tmp_path, "run-1").write_summary({})
    EvidenceWriter(tmp_path, "run-2").write_summary({})
    latest = tmp_path / "latest"
    assert latest.is_symlink() and latest.resolve() == (tmp_path / "run-2").resolve(), \
        "rule: reports/latest points at the newest run"
    assert latest.readlink().as_posix() == "run-2", "rule: latest is relative, so the reports folder can move"


# -- traces kept on disk: scrub (conformance/evidence/scrub.py) -------------------------------------------

def test_rule_a_secret_whose_only_special_character_is_a_slash_is_masked_url_encoded_too(tmp_path):
    import zipfile
    from urllib.parse import quote

    from conformance.evidence.redaction import Redactor
    from conformance.evidence.scrub import scrub_zip
    secret = "base64token/with/slashes0123"        # base64 tokens carry "/"; a URL carries it as %2F
    path = tmp_path / "trace.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("resources/blob.bin", b"\xff\xfe " + quote(secret, safe="").encode())
    scrub_zip(path, Redactor([secret]))
    with zipfile.ZipFile(path) as zf:
        blob = zf.read("resources/blob.bin")
    assert quote(secret, safe="").encode() not in blob and mask(secret).encode() in blob, \
        "rule: a secret's URL-encoded form is masked, %2F included"


def test_rule_the_checkout_and_a_short_home_are_machine_paths_and_the_root_never_is(tmp_path, monkeypatch):
    from pathlib import Path

    import conformance
    from conformance.evidence.scrub import machine_paths
    monkeypatch.chdir(tmp_path)
    checkout = f"{Path(conformance.__file__).resolve().parent.parent}/"
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path("/h")))
    paths = machine_paths()
    assert checkout in paths, "rule: the folder holding the package is cut from traces wherever the run starts"
    assert "/h/" in paths, "rule: a short home folder is still a machine path"
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path("/")))
    assert "/" not in machine_paths(), "rule: the root is never cut (every path of a trace would lose its slashes)"


def test_rule_what_the_writer_puts_on_disk_is_what_the_report_reads(tmp_path):
    from conformance.evidence import report
    writer = EvidenceWriter(tmp_path, "run-1")
    rec = Recorder("pay", file="w.yaml", mandatory=True)
    rec.outcome = "passed"
    writer.write_scenario(rec)
    writer.write_summary({"scenarios": [{"scenario": "pay", "caseNames": ["PaymentSuccess"]}]})
    _, scenarios = report.load_run(tmp_path / "run-1")
    assert [(s["scenario"], s["outcome"]) for s in scenarios] == [("pay", "passed")], \
        "rule: the evidence folder the writer fills is the one the report and the bundle read"
