"""The evidence report on a 390 px phone, measured in a real Chromium: nothing overflows the page, the failing
exchange is open and not clipped, the simulation banner is on the first screen."""

from __future__ import annotations

import subprocess
import sys

from tests.engine.test_plugin import pay_file

PHONE = {"width": 390, "height": 844}


def test_report_fits_a_390px_phone_without_horizontal_overflow(tmp_path, ctx):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "payment.yaml").write_text(pay_file(code="2005401"))   # one fails on purpose
    run = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--all", "--scenarios", "scenarios"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    report = next((tmp_path / "reports").rglob("report.html"))

    async def measure(page) -> dict:
        await page.set_viewport_size(PHONE)
        await page.goto(report.as_uri(), wait_until="load")
        banner, failing = page.locator("#simulation"), page.locator("details[open] > details[open] > pre.full").first
        await page.screenshot(path=str(tmp_path / "report-390.png"), full_page=True)   # kept with the test's tmp files
        return {
            "widths": await page.evaluate(
                "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"),
            "overflowing": await page.evaluate("""[...document.querySelectorAll('body *')]
                .filter(e => !e.closest('.wide') && e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(e => e.tagName + '.' + e.className)"""),
            "banner": await banner.is_visible() and (await banner.bounding_box())["y"],
            "failing": await failing.is_visible() and await failing.evaluate(
                "e => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1")}

    seen = ctx.run(measure)
    widths = seen["widths"]
    assert widths[2] == 390 and max(widths[:2]) <= 390, widths
    assert seen["overflowing"] == []
    assert seen["banner"] is not False and seen["banner"] < PHONE["height"]        # on the first screen
    assert seen["failing"] is True                                      # open, visible and not clipped
