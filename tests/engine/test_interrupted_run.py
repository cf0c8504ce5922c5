"""Ctrl-C during a run: the run keeps its evidence, and its report and summary.json say it was interrupted."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time

from .test_plugin import PAY

WAITING = PAY.split("scenarios:")[0] + """\
scenarios:
  - id: pay_first
    title: passes before the interrupt
    mandatory: true
    steps:
      - call: widget_payment
        expect: {status: 200, responseCode: "2005400", responseMessage: Successful}
  - id: pay_then_wait
    title: waits for a notification that never comes, so the run is still going when Ctrl-C arrives
    mandatory: true
    steps:
      - call: widget_payment
        expect: {status: 200, responseCode: "2005400", responseMessage: Successful}
      - notify: {partnerReferenceNo: never-paid, timeout: 120}
"""


def _read_until(proc, needle: str, seconds: float) -> str:
    """stdout lines until one holds ``needle`` (bounded: a deadline, never a sleep)."""
    seen, deadline = [], time.monotonic() + seconds
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if sel.select(timeout=deadline - time.monotonic()):
                line = proc.stdout.readline()
                seen.append(line)
                if needle in line or not line:
                    break
    return "".join(seen)


def test_ctrl_c_marks_the_run_interrupted_and_incomplete(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": WAITING})
    proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", "run"], cwd=pytester.path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        head = _read_until(proc, "PASS  scenarios/widget/payment.yaml::pay_first", 120)
        assert "pay_first" in head, head
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, head + out + err
    summary = json.loads(next(pytester.path.rglob("summary.json")).read_text())
    assert summary["interrupted"] is True and summary["complete"] is False
    assert summary["incompleteReasons"][0] == "the run was interrupted before it finished"
    assert [s["scenario"] for s in summary["scenarios"]] == ["pay_first"]
    report = next(pytester.path.rglob("report.html")).read_text()
    assert "INTERRUPTED" in report.split("<h2>")[0] and "1 of 2" in report
    assert not list(pytester.path.rglob("dana-uat-bundle-*.zip"))
