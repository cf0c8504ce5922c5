"""A merchant-mode run's report in merchant mode's own terms, read in a real Chromium: no Merchant Portal
progress and no mandatory banner (words for the catalogue's go-live evidence); the first screen says what was
tested, part by part of the merchant's backend, every check with its outcome (failed, warned, passed, not
covered and why), and the grouped recommendations. The console and summary.json say the same."""

from __future__ import annotations

from conformance.merchant import advice
from tests.merchant import harness
from tests.merchant.harness import summary

SCREEN = {"width": 1280, "height": 900}


def test_a_merchant_mode_report_shows_each_part_and_check_with_its_outcome(tmp_path, ctx):
    text = harness.PROFILE.read_text()
    profile = tmp_path / "dana-uat.merchant.yaml"          # no refund trigger: its check is not covered, saying why
    profile.write_text(text[:text.index("refund:")] + text[text.index("cancel:"):])
    with harness.sandbox() as server, harness.merchant(server, tmp_path, "ack_2000000") as env:
        result = harness.run_uat(server, env, tmp_path, "-k", "not through_merchant", profile=profile)
    assert result.returncode == 1, result.stdout[-3000:]
    done = summary(tmp_path)
    rows = {r["check"]: r for r in done["merchantParts"]}
    assert set(rows) >= {check for check, _ in advice.ROWS}
    assert rows["acknowledgement"]["outcome"] == "FAIL" and "2005600" in rows["acknowledgement"]["hint"]
    assert rows["webhook freshness"]["outcome"] == "WARN"
    assert rows["Refund Order"]["outcome"] == "not covered" and "no refund trigger" in rows["Refund Order"]["detail"]
    assert rows["order paid"]["outcome"] == "not covered"        # its one scenario was left out by -k
    assert rows["signature"]["outcome"] == rows["forged callback"]["outcome"] == "PASS"
    for line in advice.part_lines(done["merchantParts"]):          # the console says what summary.json says
        assert line in result.stdout
    assert advice.verdict(done["merchantParts"]) in result.stdout
    report = next((tmp_path / "reports").rglob("report.html"))

    async def read(page) -> dict:
        await page.set_viewport_size(SCREEN)
        await page.goto(report.as_uri(), wait_until="load")
        table = page.locator("#merchant-parts")
        return {
            "text": await page.locator("body").inner_text(),
            "banner": (await page.locator("#merchant-mode").bounding_box())["y"],
            "table": (await table.bounding_box())["y"],
            "rows": await table.evaluate("t => [...t.querySelectorAll('tr')].slice(1, -1).map(r => "
                                         "[...r.cells].map(c => c.innerText.trim()))"),
            "recommendations": await page.locator("#recommendations tr").count(),
            "portal": await page.locator("#incomplete").count()}

    seen = ctx.run(read)
    assert seen["portal"] == 0
    assert "Merchant Portal progress" not in seen["text"] and "INCOMPLETE" not in seen["text"]
    assert "\nScenarios\n" in seen["text"]
    first = seen["text"].split("\nScenarios\n")[0]                     # the summary above the scenario list
    assert "portal group" not in first and "mandatory scenario" not in first and "0 of 0" not in first
    assert seen["banner"] < seen["table"] < SCREEN["height"]                # what was tested, on the first screen
    shown = {row[1]: row for row in seen["rows"]}
    for check, row in rows.items():
        assert shown[check][0] == row["part"] and shown[check][2].startswith(row["outcome"]), (check, shown[check])
    assert "no refund trigger" in shown["Refund Order"][3]
    assert seen["recommendations"] == len(done["recommendations"]) + 1 >= 2
