"""pytest plugin that bench/run.py loads into the runs it times (``-p timing_plugin``, bench/ on PYTHONPATH).

It records, per process (the run itself, or each xdist worker), how long starting the browser took (Playwright's
driver and Chromium) and when the scenarios began and ended running (after start-up and collection), so a run's
time "after browser start" and its scenario-execution phase can be told apart from start-up. JSON lines to the
file named by DANA_BENCH_TIMINGS. It changes nothing else of the run.
"""

from __future__ import annotations

import json
import os
import time

import pytest


def pytest_configure(config) -> None:
    from conformance.browser.session import BrowserSession

    original = BrowserSession.start
    if getattr(original, "timed", False):
        return

    def start(self):
        if self.started:
            return self
        began = time.perf_counter()
        try:
            return original(self)
        finally:
            _record(browserStart=time.perf_counter() - began)

    start.timed = True
    BrowserSession.start = start


def _runs_scenarios(config) -> bool:
    """The process that runs the scenarios: an xdist worker, or the run itself when it has no workers."""
    return getattr(config, "workerinput", None) is not None or not config.pluginmanager.hasplugin("dsession")


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    # a wrapper: xdist's worker loop runs first and ends the hook, so a plain implementation would never run
    if _runs_scenarios(session.config):
        _record(loopStart=time.time())
    try:
        return (yield)
    finally:
        if _runs_scenarios(session.config):
            _record(loopEnd=time.time())


def _record(**values) -> None:
    path = os.environ.get("DANA_BENCH_TIMINGS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"pid": os.getpid(), **values}) + "\n")
