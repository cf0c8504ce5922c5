"""The ``dana-uat`` command.

  dana-uat run [--all] [-k EXPR] [-n N] [--target T] [...] [-- PYTEST ARGS]
        run the catalogue through pytest with the product's defaults; exit 0 all passed, 1 a scenario
        failed, 2 configuration or scenario-file error (design.md "Principles")
  dana-uat list [--json]            the catalogue: id, API, mandatory, portal group
  dana-uat sandbox ...              the embedded sandbox, standalone (conformance.sandbox.cli)
  dana-uat lint-bind-url URL        grade a bind URL the merchant's backend produced (conformance.binding)
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from conformance.evidence.recorder import new_run_id
from conformance.settings import ConfigError, load_settings


def _err(message: str) -> int:
    print(f"dana-uat: {message}", file=sys.stderr)
    return 2


# -- run -------------------------------------------------------------------------------------------

class Progress:
    """pytest plugin used by ``dana-uat run``: one line per scenario instead of dots."""

    def __init__(self):
        self.tr = None
        self.counts = {"passed": 0, "failed": 0, "skipped": 0, "broken": 0, "warnings": 0}

    def pytest_configure(self, config) -> None:
        self.tr = config.pluginmanager.getplugin("terminalreporter")

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
        info = dict(report.user_properties).get("dana", {})
        warns = len(info.get("warnings", []))
        self.counts[report.outcome] += 1
        self.counts["warnings"] += warns
        word = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[report.outcome]
        extra = f"  ({warns} WARN)" if warns else ""
        if report.skipped and isinstance(report.longrepr, tuple):
            extra += f"  {report.longrepr[2].removeprefix('Skipped: ')}"
        self._line(f"{word:4}  {report.nodeid}{extra}")

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.counts["broken"] += 1
            first = str(report.longreprtext).splitlines()
            detail = first[1] if len(first) > 1 and first[0] == "scenario file error" else report.nodeid
            self._line(f"ERROR {detail}")


# A catalogue run executes YAML, no Python test module: pytest's assertion rewriting (which also rewrites
# every module of the plugins' distributions at each start when bytecode is not cached), Hypothesis's plugin
# (it imports all of Hypothesis at the end of every session) and the closing forced garbage collection of
# the unraisable-exception plugin only cost start-up time, in every xdist worker too (issue 13).
LEAN = ["--assert=plain", "-p", "no:hypothesispytest", "-p", "no:unraisableexception"]


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run the UAT scenarios (mandatory ones unless --all)")
    p.add_argument("--all", action="store_true", help="run every scenario, not only the mandatory ones")
    p.add_argument("--target", help="embedded (default), sandbox, or the URL of a `dana-uat sandbox`")
    p.add_argument("--env-file", default=None, help="a .env file with the merchant's settings (default ./.env)")
    p.add_argument("--report-dir", help="where evidence goes (default reports)")
    p.add_argument("--scenarios", help="the catalogue folder or a file (default scenarios)")
    p.add_argument("-k", dest="keyword", help="only scenarios matching this pytest -k expression")
    p.add_argument("-m", dest="markexpr", help="only scenarios matching this pytest -m expression")
    p.add_argument("-n", dest="workers", help="parallel workers (pytest-xdist), e.g. 2 or auto")
    p.add_argument("--headed", action="store_true", help="show the browser")
    p.add_argument("--slowmo", type=int, default=0, help="slow browser actions by MS milliseconds")
    p.add_argument("-v", "--verbose", action="store_true", help="pytest's verbose output as well")


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    cli = {k: v for k, v in (("target", args.target), ("report_dir", args.report_dir),
                             ("scenario_dir", args.scenarios)) if v}
    try:
        settings = load_settings(cli, env_file=args.env_file or ".env")
    except ConfigError as exc:
        return _err(f"configuration error: {exc}")
    where = Path(settings.scenario_dir)
    if not where.exists():
        return _err(f"no scenarios at {where}; give --scenarios PATH or set DANA_UAT_SCENARIOS")
    run_id = new_run_id()
    pytest_args = [str(where), "--continue-on-collection-errors", "-p", "no:cacheprovider", "--no-header",
                   "--dana-run-id", run_id, "--dana-report-dir", str(settings.report_dir),
                   "--dana-scenarios", str(settings.scenario_dir), "--dana-target", settings.target,
                   "-rN", "-q", "-o", "console_output_style=classic"] + LEAN
    if args.env_file:
        pytest_args += ["--dana-env-file", args.env_file]
    if not args.all:
        pytest_args.append("--dana-mandatory-only")
    for flag, value in (("-k", args.keyword), ("-m", args.markexpr), ("-n", args.workers)):
        if value:
            pytest_args += [flag, value]
    if args.headed:
        pytest_args.append("--headed")
    if args.slowmo:
        pytest_args += ["--slowmo", str(args.slowmo)]
    if args.verbose:
        pytest_args.append("-v")
    pytest_args += extra
    scope = "all scenarios" if args.all else "mandatory scenarios"
    print(f"dana-uat: {scope} from {where} against target {settings.target}", flush=True)

    import pytest

    progress = Progress()
    code = int(pytest.main(pytest_args, plugins=[progress]))
    c = progress.counts
    evidence = Path(settings.report_dir) / run_id
    if code == 5 or (c["passed"] + c["failed"] + c["skipped"] + c["broken"] == 0 and code in (0, 5)):
        return _err(f"no scenarios selected in {where}")
    print(f"dana-uat: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped, "
          f"{c['warnings']} warnings, {c['broken']} broken files")
    for label, path in (("report", evidence / "report.html"),
                        ("bundle", next(evidence.glob("dana-uat-bundle-*.zip"), None))):
        if path is not None and path.exists():
            print(f"{label}: {path}")
    if evidence.exists():
        print(f"evidence: {evidence}/", flush=True)
    return {0: 0, 1: 1}.get(code, 2) if not c["broken"] else 2


# -- list ------------------------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    from conformance.scenarios.loader import ScenarioFileError, find_files, load_file

    root = Path(args.scenarios or "scenarios")
    if not root.exists():
        return _err(f"no scenarios at {root}")
    rows, broken = [], 0
    for path in [root] if root.is_file() else find_files(root):
        try:
            loaded = load_file(path, path.as_posix())
        except ScenarioFileError as exc:
            print(exc, file=sys.stderr)
            broken += 1
            continue
        for sc in [] if loaded is None else loaded.scenarios:
            rows.append({"id": sc.id, "api": loaded.api, "mandatory": sc.scenario.mandatory,
                         "portal": sc.scenario.portal or "", "title": sc.scenario.title,
                         "nodeid": f"{loaded.display}::{sc.id}"})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        widths = [max([len(h)] + [len(str(r[k])) for r in rows]) for h, k in
                  (("ID", "id"), ("API", "api"), ("MANDATORY", "mandatory"))]
        print(f"{'ID':{widths[0]}}  {'API':{widths[1]}}  {'MANDATORY':{widths[2]}}  PORTAL GROUP")
        for r in rows:
            mark = "yes" if r["mandatory"] else "no"
            print(f"{r['id']:{widths[0]}}  {r['api']:{widths[1]}}  {mark:{widths[2]}}  {r['portal']}")
        print(f"{len(rows)} scenarios, {sum(r['mandatory'] for r in rows)} mandatory", file=sys.stderr)
    return 2 if broken else 0


# -- delegated commands ------------------------------------------------------------------------------

def _optional(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        print(f"dana-uat: {what} is not available in this installation ({exc})", file=sys.stderr)
        return None


def cmd_lint(args: argparse.Namespace) -> int:
    binding = _optional("conformance.binding", "lint-bind-url")
    if binding is None:
        return 2
    public_key = None
    if args.public_key:
        from conformance.snap.keys import KeyFormatError, load_public_key_file

        try:
            public_key = load_public_key_file(args.public_key)
        except (OSError, KeyFormatError) as exc:
            return _err(f"--public-key: {exc}")
    findings = binding.lint_bind_url(args.url, public_key, expected_state=args.state)
    for f in findings:
        print(f"{f.severity} {f.message()}")
    fails = sum(1 for f in findings if f.failed)
    print(f"{fails} FAIL, {len(findings) - fails} WARN" if findings else "bind URL: no findings")
    return 1 if fails else 0


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    import zipfile

    from conformance.evidence.bundle import verify_bundle

    try:
        problems = verify_bundle(Path(args.bundle))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:   # not a zip, or no manifest
        return _err(f"{args.bundle}: not a dana-uat bundle ({exc})")
    for problem in problems:
        print(f"FAIL {problem}")
    print("bundle: signature and every file hash verify" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dana-uat", description="DANA Widget Binding UAT conformance suite")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    lp = sub.add_parser("list", help="list the scenario catalogue")
    lp.add_argument("--json", action="store_true", help="JSON instead of a table")
    lp.add_argument("--scenarios", help="the catalogue folder (default scenarios)")
    sub.add_parser("sandbox", help="run the embedded DANA sandbox standalone (see dana-uat sandbox --help)")
    bp = sub.add_parser("lint-bind-url", help="grade a bind (OAuth) URL")
    bp.add_argument("url")
    bp.add_argument("--public-key", help="merchant public key PEM file, to verify seamlessSign")
    bp.add_argument("--state", help="the state the merchant issued")
    vp = sub.add_parser("verify-bundle", help="check a go-live bundle's signature and file hashes")
    vp.add_argument("bundle")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    if argv[:1] == ["sandbox"]:
        sandbox_cli = _optional("conformance.sandbox.cli", "the standalone sandbox")
        if sandbox_cli is None:
            return 2
        sp = argparse.ArgumentParser(prog="dana-uat sandbox")
        sandbox_cli.add_arguments(sp)
        return int(sandbox_cli.run(sp.parse_args(argv[1:])) or 0)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    if args.command == "run":
        return cmd_run(args, extra)
    if args.command == "list":
        return cmd_list(args)
    if args.command == "lint-bind-url":
        return cmd_lint(args)
    if args.command == "verify-bundle":
        return cmd_verify_bundle(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
