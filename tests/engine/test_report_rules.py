"""The evidence report's rules (conformance/evidence/report.py, htmlextras.py), one focused test each.

What the report must show: failures first, a failed scenario's every page embedded and a passed one's last,
traces linked not embedded, DANA's case names, and the banners that say a run is incomplete or a simulation.
Asserted through the records load_run builds and the report's element ids, not its wording.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from conformance.evidence import htmlextras, report

PNG = b"\x89PNG\r\n\x1a\nfake"


def scenario(run_dir: Path, sid: str, outcome: str, *, mandatory=True, file="w.yaml", shots=(), steps=(), traces=()):
    art = run_dir / "artifacts" / sid
    art.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in shots:
        (art / name).write_bytes(PNG + name.encode())
        paths.append(f"artifacts/{sid}/{name}")
    record = {"scenario": sid, "outcome": outcome, "mandatory": mandatory, "file": file, "steps": list(steps),
              "artifacts": paths + list(traces), "findings": [], "exchanges": []}
    (run_dir / "evidence" / f"{sid}.json").write_text(json.dumps(record))


@pytest.fixture()
def run_dir(tmp_path) -> Path:
    root = tmp_path / "run"
    (root / "evidence").mkdir(parents=True)
    summary = {"complete": False, "simulation": True, "interrupted": False, "evidenceFor": "SIMULATION",
               "incompleteReasons": ["1 mandatory scenario(s) did not pass"], "missing": [], "notPassed": ["w.yaml::b"],
               "scenarios": [{"scenario": "a", "caseNames": ["PaymentSuccess"]}], "meta": {},
               "counts": {"passed": 3, "failed": 1, "skipped": 1, "warnings": 0, "brokenFiles": 0},
               "mandatory": {"passed": 1, "total": 3}, "groups": []}
    (root / "summary.json").write_text(json.dumps(summary))
    scenario(root, "a", "passed", shots=["01-login.png", "02-pin.png", "03-done.jpg"])
    scenario(root, "b", "failed", shots=["01-login.png", "02-pin.png"], traces=["artifacts/b/trace.zip"],
             steps=[{"index": 1, "status": "passed"}, {"index": 2, "status": "failed"}, {"index": 3, "status": "failed"}])
    scenario(root, "c", "skipped")
    scenario(root, "d", "passed", mandatory=False)
    scenario(root, "e", "passed", file="a.yaml")
    return root


def by_id(scenarios) -> dict:
    return {s["scenario"]: s for s in scenarios}


def test_rule_failures_come_first_then_mandatory_passes_then_optional_and_skipped_last(run_dir):
    _, scenarios = report.load_run(run_dir)
    assert [s["scenario"] for s in scenarios] == ["b", "e", "a", "d", "c"], \
        "rule: failed, then passed (mandatory first, by file and id), skipped last"


def test_rule_a_failed_scenario_embeds_every_page_a_passed_one_its_last_and_links_the_rest(run_dir):
    s = by_id(report.load_run(run_dir)[1])
    assert [i["name"] for i in s["b"]["images"]] == ["01-login.png", "02-pin.png"] and s["b"]["linked"] == []
    assert [i["name"] for i in s["a"]["images"]] == ["03-done.jpg"], "rule: a passed scenario embeds its last page"
    assert [i["name"] for i in s["a"]["linked"]] == ["01-login.png", "02-pin.png"]
    assert all("data" not in i for i in s["a"]["linked"]), "rule: a linked page is not embedded"
    image = s["a"]["images"][0]
    assert base64.b64decode(image["data"]) == PNG + b"03-done.jpg"
    assert (image["mime"], image["caption"], image["href"]) == ("image/jpeg", "done", "artifacts/a/03-done.jpg")
    assert s["c"]["images"] == [] and s["c"]["linked"] == []


def test_rule_traces_are_linked_and_the_failing_step_named(run_dir):
    s = by_id(report.load_run(run_dir)[1])
    assert s["b"]["traces"] == ["artifacts/b/trace.zip"], "rule: a trace is linked, never embedded"
    assert [i["name"] for i in s["b"]["images"]] == ["01-login.png", "02-pin.png"]
    assert s["b"]["failedStep"] == 2, "rule: the first failed step is the failing one"
    assert s["a"]["failedStep"] is None
    assert s["b"]["evidence_file"] == "evidence/b.json"


def test_rule_dana_case_names_come_from_the_summary(run_dir):
    s = by_id(report.load_run(run_dir)[1])
    assert s["a"]["caseNames"] == ["PaymentSuccess"] and s["b"]["caseNames"] == []


def test_rule_an_image_outside_the_run_or_not_an_image_is_handled(run_dir, tmp_path):
    outside = tmp_path / "elsewhere-shot.png"
    outside.write_bytes(PNG)
    assert report._image(str(outside), run_dir)["href"] == "elsewhere-shot.png", "rule: no machine path in a link"
    assert report._image("artifacts/a/01-login.png", run_dir)["mime"] == "image/png"
    (run_dir / "notes.txt").write_text("x")
    assert report._image("notes.txt", run_dir) is None
    assert report._image("artifacts/a/missing.png", run_dir) is None
    upper = run_dir / "SHOT-A-B.PNG"
    upper.write_bytes(PNG)
    assert report._image(str(upper), run_dir)["caption"] == "A B"


def test_rule_the_report_shows_the_incomplete_and_simulation_banners_and_every_scenario(run_dir):
    html = report.render_report(run_dir).read_text()
    assert 'id="incomplete"' in html and 'id="simulation"' in html, "rule: an incomplete simulation says so"
    assert 'id="interrupted"' not in html
    for sid in "abcde":
        assert f'id="{sid}"' in html
    assert "w.yaml::b" in html, "rule: the banner names the scenario that did not pass"


def test_rule_a_complete_run_against_dana_shows_neither_banner(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.update(complete=True, simulation=False, interrupted=False, incompleteReasons=[], notPassed=[])
    (run_dir / "summary.json").write_text(json.dumps(summary))
    html = report.render_report(run_dir).read_text()
    assert 'id="incomplete"' not in html and 'id="simulation"' not in html


def test_rule_an_interrupted_run_shows_its_banner(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "interrupted": True}))
    assert 'id="interrupted"' in report.render_report(run_dir).read_text()


# -- pytest-html extras -------------------------------------------------------------------------------

def test_rule_pytest_html_extras_show_the_facts_escaped_the_findings_and_the_images(tmp_path):
    shot = tmp_path / "01-the-page.png"
    shot.write_bytes(PNG)
    (tmp_path / "trace.zip").write_bytes(b"PK")
    info = {"portal": "Pay <b>", "mandatory": True, "evidence": "evidence/a.json",
            "failures": ["expected <x>"], "warnings": ["careful"]}
    out = htmlextras.scenario_extras(info, ["PaymentSuccess", "Other"], [str(shot), str(tmp_path / "trace.zip"),
                                                                         str(tmp_path / "gone.png")])
    assert len(out) == 2, "rule: one HTML block and one image per existing picture, nothing else"
    html = out[0]["content"]
    assert "Pay &lt;b&gt;" in html and "<b>" not in html.replace("<b>FAIL</b>", "").replace("<b>WARN</b>", ""), \
        "rule: what a scenario recorded is escaped"
    assert "PaymentSuccess, Other" in html and "evidence/a.json" in html and ">yes<" in html
    assert html.index("FAIL") < html.index("expected &lt;x&gt;") < html.index("WARN") < html.index("careful")
    image = out[1]
    assert base64.b64decode(image["content"]) == PNG and image["name"] == "the-page"
    assert image["mime_type"] == "image/png" and image["extension"] == "png"


def test_rule_pytest_html_extras_of_a_plain_scenario_say_none(tmp_path):
    out = htmlextras.scenario_extras({}, [], [])
    assert len(out) == 1
    html = out[0]["content"]
    assert html.count("(none)") == 2 and ">no<" in html and "<ul>" not in html, "rule: no finding, no list"


def test_rule_the_report_is_report_html_in_the_run_and_names_the_merchant_and_host(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["meta"] = {"partnerId": "2025112100000000000007", "merchantId": "216620000000000000007",
                       "apiHost": "https://api.sandbox.dana.id"}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    path = report.render_report(run_dir)
    assert path == run_dir / "report.html", "rule: the report is <run>/report.html, where the README says"
    html = path.read_text(encoding="utf-8")
    assert "2025112100000000000007" in html and "216620000000000000007" in html and "api.sandbox.dana.id" in html, \
        "rule: the report names whose run it is and which host it ran against"


def test_rule_pytest_html_extras_name_a_jpeg_as_a_jpeg_and_a_picture_without_a_step_number(tmp_path):
    (tmp_path / "01-login.jpg").write_bytes(PNG)
    (tmp_path / "done.png").write_bytes(PNG)
    out = htmlextras.scenario_extras({}, [], [str(tmp_path / "01-login.jpg"), str(tmp_path / "done.png")])
    jpeg, png = out[1], out[2]
    assert (jpeg["name"], jpeg["mime_type"], jpeg["extension"]) == ("login", "image/jpeg", "jpg"), \
        "rule: a picture keeps its own type (a JPEG is not shown as a PNG)"
    assert png["name"] == "done", "rule: a picture named without a step number keeps its whole name"


def test_rule_dana_unavailable_sorts_with_failures_and_ties_go_mandatory_first_then_by_file_and_scenario(tmp_path):
    root = tmp_path / "run"
    (root / "evidence").mkdir(parents=True)
    (root / "summary.json").write_text(json.dumps({"scenarios": []}))
    for sid, outcome, mandatory, file in [("z", "failed", True, "b.yaml"), ("y", "dana-unavailable", True, "a.yaml"),
                                          ("x", "passed", True, "a.yaml"), ("w", "passed", False, "a.yaml"),
                                          ("v", "skipped", True, "a.yaml"), ("u", "passed", True, "b.yaml"),
                                          ("t", "passed", True, "a.yaml")]:
        scenario(root, sid, outcome, mandatory=mandatory, file=file)
    _, scenarios = report.load_run(root)
    assert [s["scenario"] for s in scenarios] == ["y", "z", "t", "x", "u", "w", "v"], \
        "rule: what did not pass (DANA unavailable too) comes first; then mandatory before optional, by file and id"


def test_rule_a_picture_named_without_a_step_number_keeps_its_whole_name_as_caption(tmp_path):
    root = tmp_path / "run"
    (root / "evidence").mkdir(parents=True)
    (root / "summary.json").write_text(json.dumps({"scenarios": []}))
    scenario(root, "a", "failed", shots=["done.png", "02-the-pin-page.png"])
    _, [record] = report.load_run(root)
    assert [i["caption"] for i in record["images"]] == ["done", "the pin page"], \
        "rule: a caption is the picture's name after its step number, dashes read as spaces"
