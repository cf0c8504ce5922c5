"""``dana-uat run``: the catalogue through pytest with the product's defaults, after the same preflight as
``doctor``; the exit code says what the run is worth (0 passed, 1 a scenario failed, 2 configuration or
scenario-file error, 3 DANA unavailable, 4 a run against DANA that made no bundle to submit)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from conformance.cli import doctor
from conformance.cli.evidence import config_error, err, verdict
from conformance.dana import retry
from conformance.evidence.recorder import new_run_id
from conformance.run.progress import Progress
from conformance.scenarios import catalogue
from conformance.snap.hosts import DANA_HOSTS

# `dana-uat run` against DANA (the mandatory or the whole catalogue) passed what it ran, yet made no bundle
EXIT_NOT_SUBMITTABLE = 4


# A catalogue run executes YAML, no Python test module: pytest's assertion rewriting (which also rewrites
# every module of the plugins' distributions at each start when bytecode is not cached), Hypothesis's plugin
# (it imports all of Hypothesis at the end of every session) and the closing forced garbage collection of
# the unraisable-exception plugin only cost start-up time, in every xdist worker too (issue 13).
LEAN = ["--assert=plain", "-p", "no:hypothesispytest", "-p", "no:unraisableexception"]


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run the UAT scenarios (the mandatory ones unless -k, -m, --all or node ids)",
                       epilog="Options not listed here go to pytest as they are (e.g. -x, --maxfail=2, --tb=long); "
                              "node ids such as scenarios/widget/payment.yaml::payment_success select scenarios.")
    p.add_argument("--all", action="store_true", help="run every scenario, not only the mandatory ones")
    p.add_argument("--mandatory", action="store_true", help="only the mandatory scenarios, also with -k or -m")
    p.add_argument("--target", help="embedded (default), sandbox, production, or the URL of a `dana-uat sandbox`")
    p.add_argument("--confirm-production", action="store_true",
                   help="required with --target production: runs the production-safe scenarios with real credentials")
    p.add_argument("--env-file", default=None, help="a .env file with the merchant's settings (default ./.env)")
    p.add_argument("--report-dir", help="where evidence goes (default ./reports)")
    p.add_argument("--scenarios", action="append", metavar="PATH",
                   help="run this folder or file instead of the shipped catalogue (repeatable)")
    p.add_argument("--add-scenarios", action="append", metavar="PATH", default=[],
                   help="run this folder or file as well as the catalogue (repeatable)")
    p.add_argument("--merchant-profile", help="merchant mode: drive your backend as this profile says "
                   "(docs/merchant-mode.md)")
    p.add_argument("-k", dest="keyword", help="only scenarios matching this pytest -k expression")
    p.add_argument("-m", dest="markexpr", help="only scenarios matching this pytest -m expression")
    p.add_argument("-n", dest="workers", help="parallel workers (pytest-xdist), e.g. 2 or auto")
    p.add_argument("--headed", action="store_true", help="show the browser")
    p.add_argument("--strict", action="store_true",
                   help="merchant mode: recommendations fail the run too (docs/merchant-mode.md)")
    p.add_argument("--slowmo", type=int, default=0, help="slow browser actions by MS milliseconds")
    p.add_argument("-v", "--verbose", action="store_true", help="pytest's verbose output as well")


def _is_selection(arg: str) -> bool:
    """A node id or scenario path among pytest's pass-through arguments (not an option or its value)."""
    path = arg.split("::")[0]
    return not arg.startswith("-") and ("::" in arg or path.endswith((".yaml", ".yml")) or Path(path).is_dir())


def _locate(arg: str, root: Path) -> str:
    """``scenarios/...`` names the shipped catalogue when no such path exists here (node ids as printed)."""
    path, sep, rest = arg.partition("::")
    if not Path(path).exists() and path.startswith(catalogue.LABEL + "/"):
        return str(root / path.removeprefix(catalogue.LABEL + "/")) + sep + rest
    return arg


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    here = Path.cwd()
    cli = {k: v for k, v in (("target", args.target), ("report_dir", args.report_dir),
                             ("confirm_production", args.confirm_production),
                             ("merchant_profile", args.merchant_profile)) if v}
    env_file = (here / (args.env_file or ".env")).resolve()
    check = doctor.preflight(cli, env_file=env_file if args.env_file else ".env", root=here)
    if check.problems:
        return config_error(check.problems)
    settings = check.settings
    shipped = catalogue.shipped()
    if args.scenarios:
        roots = [here / _locate(s, shipped) for s in args.scenarios]
    elif settings.sources.get("scenario_dir") != "default":
        roots = [here / settings.scenario_dir]
    else:
        roots = [shipped]
    roots += [here / _locate(s, shipped) for s in args.add_scenarios]
    missing = [r for r in roots if not r.exists()]
    if missing:
        return err(f"no scenarios at {missing[0]}; give --scenarios PATH or set DANA_UAT_SCENARIOS")
    chosen = [_locate(a, shipped) for a in extra if _is_selection(a)]
    options = [a for a in extra if not _is_selection(a)]
    mandatory = args.mandatory or not (args.all or args.keyword or args.markexpr or chosen)
    report_dir = (here / settings.report_dir).resolve()
    run_id = new_run_id()
    pytest_args = [*(chosen or map(str, roots)), "--continue-on-collection-errors", "-p", "no:cacheprovider",
                   "--no-header", "--dana-run-id", run_id, "--dana-report-dir", str(report_dir),
                   "--dana-scenarios", str(roots[0]), "--dana-target", settings.target,
                   "-rN", "-q", "-o", "console_output_style=classic",
                   "-W", "ignore::pytest.PytestAssertRewriteWarning"] + LEAN   # conformance is imported before pytest
    if env_file.is_file():
        pytest_args += ["--dana-env-file", str(env_file)]
    if args.confirm_production:
        pytest_args.append("--dana-confirm-production")
    if settings.merchant_profile:
        pytest_args += ["--merchant-profile", str(here / settings.merchant_profile)]
    if mandatory:
        pytest_args.append("--dana-mandatory-only")
    for flag, value in (("-k", args.keyword), ("-m", args.markexpr), ("-n", args.workers)):
        if value:
            pytest_args += [flag, value]
    if args.strict:
        pytest_args.append("--dana-strict")
    if args.headed:
        pytest_args.append("--headed")
    if args.slowmo:
        pytest_args += ["--slowmo", str(args.slowmo)]
    if args.verbose:
        pytest_args.append("-v")
    pytest_args += options
    scope = "mandatory scenarios" if mandatory else ("selected scenarios" if chosen or args.keyword or
                                                     args.markexpr else "all scenarios")
    where = " + ".join(catalogue.shown(r, here) for r in roots)
    if settings.target == "production":
        scope = "the production set (scenarios marked production_safe)" + ("" if mandatory else f", of the {scope}")
    print(f"dana-uat: {scope} from {where} against target {settings.target} ({settings.api_base or 'loopback'})",
          flush=True)

    listing = bool({"--collect-only", "--co"} & set(options))       # pytest prints the selection: nothing runs
    if settings.target == "production" and not listing:
        problem = _ask_the_person(settings)
        if problem:
            return err(problem)

    import pytest

    progress = Progress()
    code = int(pytest.main(pytest_args, plugins=[progress]))
    c = progress.counts
    evidence = report_dir / run_id
    if code != 5 and listing:
        return 0 if code == 0 else 2
    if code == 5 or (c["passed"] + c["failed"] + c["unavailable"] + c["skipped"] + c["broken"] == 0 and
                     code in (0, 5)):
        return err(f"no scenarios selected in {where}")
    down = f"{c['unavailable']} DANA unavailable, " if c["unavailable"] else ""
    print(f"dana-uat: {c['passed']} passed, {c['failed']} failed, {down}{c['skipped']} skipped, "
          f"{c['warnings']} warnings, {c['broken']} broken files")
    print(verdict(evidence))
    print("dana-uat: " + (f"merchant mode: profile {settings.merchant_profile}" if settings.merchant_profile
                          else "merchant mode: not configured (give --merchant-profile FILE to test your backend)"))
    for label, path in (("report", evidence / "report.html"),
                        ("bundle", next(evidence.glob("dana-uat-bundle-*.zip"), None))):
        if path is not None and path.exists():
            print(f"{label}: {catalogue.shown(path, here)}")
    if evidence.exists():
        print(f"evidence: {catalogue.shown(evidence, here)}/", flush=True)
    if c["broken"]:
        return 2
    if code == 1 and c["unavailable"] and not c["failed"]:   # (pytest said 1 before the plugin's session end)
        code = retry.EXIT_UNAVAILABLE
    result = {0: 0, 1: 1, retry.EXIT_UNAVAILABLE: retry.EXIT_UNAVAILABLE}.get(code, 2)
    submission = settings.target in DANA_HOSTS and not (chosen or args.keyword or args.markexpr)
    if result == 0 and submission and next(evidence.glob("dana-uat-bundle-*.zip"), None) is None:
        # the run a merchant hands DANA made nothing to hand: a green CI job must not hide it
        why = verdict(evidence).splitlines()[0].removeprefix("dana-uat: ")
        print(f"dana-uat: NOT SUBMITTABLE: no bundle was made ({why})", flush=True)
        return EXIT_NOT_SUBMITTABLE
    return result


def _ask_the_person(settings) -> str | None:
    """Production: the phone and PIN of the person's real DANA account, into this process's environment, where
    the run's settings read them (never to disk). A problem comes back as the error line."""
    from conformance.dana.person import NoAnswer, production_account

    given = settings.phone if settings.sources.get("phone", "default") != "default" else None
    try:
        phone, pin = production_account(given)
    except NoAnswer as exc:
        return f"production run stopped before any request: {exc}"
    if not phone.lstrip("+").isdigit() or not (pin.isdigit() and len(pin) == 6):
        return "production run stopped before any request: a phone number of digits and a six-digit PIN are needed"
    os.environ["DANA_UAT_PHONE"], os.environ["DANA_UAT_PIN"] = phone, pin
    return None
