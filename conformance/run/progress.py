"""The progress lines of ``dana-uat run``: ``[n/total] PASS  scenarios/...::id``, one per scenario."""

from __future__ import annotations

import pytest


class Progress:
    """pytest plugin used by ``dana-uat run``: one line per scenario instead of dots."""

    def __init__(self):
        self.tr = None
        self.counts = {"passed": 0, "failed": 0, "skipped": 0, "broken": 0, "warnings": 0, "unavailable": 0}
        self.total = 0
        self.done = 0

    def pytest_configure(self, config) -> None:
        self.tr = config.pluginmanager.getplugin("terminalreporter")

    def pytest_collection_finish(self, session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.total = len(ids)      # with -n the controller collects nothing itself; each worker sees every id

    def pytest_report_teststatus(self, report, config):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            word = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED"}[report.outcome]
            return report.outcome if report.when == "call" else ("error" if report.failed else "skipped"), "", word
        return None

    def _line(self, text: str) -> None:
        if self.tr is not None:
            self.tr.ensure_newline()
            self.tr.write_line(text)
        else:
            print(text, flush=True)

    def pytest_runtest_logreport(self, report) -> None:
        if not (report.when == "call" or (report.when == "setup" and not report.passed)):
            return
        from conformance.run.state import dana_info

        info = dana_info(report)
        warns = len(info.get("warnings", []))
        unavailable = info.get("outcome") == "dana-unavailable"    # DANA's outage, counted apart from FAILs
        self.counts["unavailable" if unavailable else report.outcome] += 1
        self.counts["warnings"] += warns
        word = "DANA" if unavailable else {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[report.outcome]
        extra = f"  ({warns} WARN)" if warns else ""
        extra += f"  (DANA unavailable: {info.get('danaUnavailable')})" if unavailable else ""
        retries = len(info.get("retries", []))
        extra += f"  ({retries} retried)" if retries else ""
        if report.skipped and isinstance(report.longrepr, tuple):
            extra += f"  {report.longrepr[2].removeprefix('Skipped: ')}"
        self.done += 1
        width = len(str(self.total))
        name = f"{info['file']}::{info['scenario']}" if info else report.nodeid
        self._line(f"[{self.done:{width}}/{self.total}] {word:4}  {name}{extra}")

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.counts["broken"] += 1
            first = str(report.longreprtext).splitlines()
            detail = first[1] if len(first) > 1 and first[0] == "scenario file error" else report.nodeid
            self._line(f"ERROR {detail}")
