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


# A background job (`make test &`) starts with SIGINT ignored, and Python keeps it so: restore Ctrl-C first.
CLI_WITH_CTRL_C = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                   "from conformance.cli.main import main; sys.exit(main(sys.argv[1:]))")


def _read_until(proc, needle: str, seconds: float) -> str:
    """stdout until it holds ``needle`` (bounded by a deadline, never a sleep; raw reads never block)."""
    seen, deadline = b"", time.monotonic() + seconds
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while needle.encode() not in seen and time.monotonic() < deadline:
            if sel.select(timeout=deadline - time.monotonic()):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
    return seen.decode("utf-8", "replace")


def _drain(proc) -> str:
    """What the exited process left in its pipe, without waiting for anything more."""
    os.set_blocking(proc.stdout.fileno(), False)
    data = b""
    while True:
        try:
            chunk = os.read(proc.stdout.fileno(), 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")


def test_ctrl_c_marks_the_run_interrupted_and_incomplete(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": WAITING})
    proc = subprocess.Popen([sys.executable, "-c", CLI_WITH_CTRL_C, "run", "--scenarios", "scenarios"], cwd=pytester.path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        head = _read_until(proc, "PASS  scenarios/widget/payment.yaml::pay_first", 300)
        assert "PASS  scenarios/widget/payment.yaml::pay_first" in head, head
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)     # the process itself, not its pipes: a stray inheritor must not hold the test
        out = _drain(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == 2, head + out
    assert "the run was interrupted before it finished" in out   # the console says so too
    summary = json.loads(next(pytester.path.rglob("summary.json")).read_text())
    assert summary["interrupted"] is True and summary["complete"] is False
    assert summary["incompleteReasons"][0] == "the run was interrupted before it finished"
    assert [s["scenario"] for s in summary["scenarios"]] == ["pay_first"]
    report = next(pytester.path.rglob("report.html")).read_text()
    assert "INTERRUPTED" in report.split("<h2>")[0] and "1 of 2" in report
    assert not list(pytester.path.rglob("dana-uat-bundle-*.zip"))
