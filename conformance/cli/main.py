"""The ``dana-uat`` command.

  dana-uat run [--all | --mandatory] [-k EXPR] [-m EXPR] [-n N] [--target T] [--merchant-profile FILE [--strict]]
               [NODE IDS] [PYTEST OPTIONS]
        run the catalogue through pytest with the product's defaults: the mandatory scenarios, unless -k, -m,
        --all or node ids select others; options it does not know go to pytest. After the same preflight as
        `doctor`. Exit 0 all passed, 1 a scenario failed, 2 configuration or scenario-file error, 3 DANA
        unavailable (its 5xx, 429 or transport errors outlived the retries; no scenario failed on its own), 4 a run
        against DANA (mandatory or --all) that passed what it ran but made no bundle to submit (its last line says why)
  dana-uat init [--keys]            a .env template (and the merchant's key pair); never overwrites
  dana-uat init --merchant-profile  a commented dana-uat.merchant.yaml template (merchant mode); never overwrites
  dana-uat doctor                   every configuration problem at once, each with its fix; exit 2 if any
  dana-uat list [--json]            the catalogue: id, API, mandatory, portal group
  dana-uat schema scenarios|merchant-profile   the JSON Schema of scenario files or of dana-uat.merchant.yaml,
        for an editor (`# yaml-language-server: $schema=FILE`); the package ships both in conformance/schemas/
  dana-uat sandbox ...              the embedded sandbox, standalone (conformance.sandbox.cli); registers the
                                    merchant of ./.env (or --env-file), as `run` reads it
  dana-uat lint-bind-url URL        grade a bind URL the merchant's backend produced (conformance.client.bindlint)
  dana-uat bundle [RUN_DIR]         (re)make the signed go-live bundle of a complete run; exit 1 when incomplete
  dana-uat verify-bundle ZIP [--public-key FILE]   check a bundle's entries, hashes, signature and signer
        against the trusted key (--public-key, else MERCHANT_PUBLIC_KEY_PATH); prints partnerId, merchantId
        and the key fingerprint. Exit 0 signed by the trusted key and intact, 1 a problem, 2 usage error,
        5 integrity verified but origin NOT verified (no trusted key; 3 and 4 are run's)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from conformance.cli import doctor, run
from conformance.cli import evidence as cli_evidence
from conformance.cli.evidence import config_error
from conformance.cli.evidence import err as _err
from conformance.config import settings as settings_mod
from conformance.config.settings import ConfigError
from conformance.scenarios import catalogue

# -- sandbox ---------------------------------------------------------------------------------------

class _Problem:
    def __init__(self, name: str, problem: str, fix: str):
        self.name, self.problem, self.fix = name, problem, fix


MERCHANT_SETTINGS = {"partner_id": "X_PARTNER_ID", "merchant_id": "MERCHANT_ID",
                     "private_key": "PRIVATE_KEY or PRIVATE_KEY_PATH"}


def _settings_merchants(env_file: str | None) -> list[tuple[str, str, str, str]]:
    """The merchant `dana-uat run` would use (.env, environment, [tool.dana-uat]), for `dana-uat sandbox` to
    register: [(partnerId, merchantId, public key PEM, where it came from)], none when nothing sets one. Half a
    merchant (a partner id without a key) is a configuration error naming what is missing."""
    values, sources = settings_mod.read_values({}, env_file=env_file or ".env", root=Path.cwd())
    given = {k: values.get(k) or (values.get("private_key_path") if k == "private_key" else None)
             for k in MERCHANT_SETTINGS}
    if not any(given.values()):
        return []
    missing = [MERCHANT_SETTINGS[k] for k, v in given.items() if not v]
    if missing:
        raise settings_mod.ConfigError(missing[0], f"is not set, but {', '.join(n for k, n in MERCHANT_SETTINGS.items() if given[k])} "
                                       "is: the sandbox cannot register half a merchant",
                                       "set all three in .env (or the environment), as the official SDK reads them")
    settings = settings_mod.build_settings({**values, "target": "embedded"}, sources)
    where = sorted({sources[k].split(" ")[0] for k in ("partner_id", "merchant_id")})
    return [(settings.merchant.partner_id, settings.merchant.merchant_id, settings.merchant.public_key_pem,
             " and ".join(where))]


# -- init, doctor ------------------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from conformance.cli.scaffold import InitError, init, init_profile

    try:
        if args.merchant_profile:
            written = init_profile(Path.cwd())
            for line in written:
                print(f"wrote {line}")
            print("next: start `dana-uat sandbox` beside your backend's .env, then `dana-uat run --merchant-profile "
                  "dana-uat.merchant.yaml --scenarios scenarios/merchant --target <its URL>` (docs/merchant-mode.md)")
            return 0
        written = init(Path.cwd(), with_keys=args.keys)
    except InitError as exc:
        return _err(f"init: {exc} already exist(s); nothing was written (init never overwrites; edit or move them)")
    for line in written:
        print(f"wrote {line}")
    print("next: fill in .env, then run `dana-uat doctor`")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    cli = {"target": args.target} if args.target else {}
    report = doctor.preflight(cli, env_file=args.env_file or ".env", root=Path.cwd(), require_merchant=True)
    for line in report.lines():
        print(line)
    problems = report.problems
    print(f"dana-uat doctor: {len(problems)} problem(s); fix them and run it again" if problems
          else "dana-uat doctor: ready")
    return 2 if problems else 0


# -- list ------------------------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    from conformance.merchant.models import is_merchant_scenario
    from conformance.scenarios.loader import ScenarioFileError, find_files, load_file

    root = Path(args.scenarios) if args.scenarios else catalogue.shipped()
    if not root.exists():
        return _err(f"no scenarios at {root}")
    rows, broken = [], 0
    for path in [root] if root.is_file() else find_files(root):
        try:
            loaded = load_file(path, catalogue.shown(path, Path.cwd()))
        except ScenarioFileError as exc:
            print(exc, file=sys.stderr)
            broken += 1
            continue
        for sc in [] if loaded is None else loaded.scenarios:
            rows.append({"id": sc.id, "api": loaded.api, "mandatory": sc.scenario.mandatory,
                         "portal": sc.scenario.portal or "", "title": sc.scenario.title,
                         "nodeid": f"{loaded.display}::{sc.id}",
                         "merchantMode": is_merchant_scenario(sc.scenario)})
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


# -- schema ----------------------------------------------------------------------------------------

def cmd_schema(args: argparse.Namespace) -> int:
    from conformance import schemas

    sys.stdout.write(schemas.text(args.name))
    return 0


# -- delegated commands ------------------------------------------------------------------------------

def _optional(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        print(f"dana-uat: {what} is not available in this installation ({exc})", file=sys.stderr)
        return None


def cmd_lint(args: argparse.Namespace) -> int:
    bindlint = _optional("conformance.client.bindlint", "lint-bind-url")
    if bindlint is None:
        return 2
    public_key = None
    if args.public_key:
        from conformance.snap.keys import KeyFormatError, load_public_key_file

        try:
            public_key = load_public_key_file(args.public_key)
        except (OSError, KeyFormatError) as exc:
            return _err(f"--public-key: {exc}")
    findings = bindlint.lint_bind_url(args.url, public_key, expected_state=args.state)
    for f in findings:
        print(f"{f.severity} {f.message()}")
    fails = sum(1 for f in findings if f.failed)
    print(f"{fails} FAIL, {len(findings) - fails} WARN" if findings else "bind URL: no findings")
    return 1 if fails else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dana-uat", description="DANA Widget Binding UAT conformance suite")
    parser.add_argument("--version", action="version", version=f"dana-uat {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run.add_parser(sub)
    ip = sub.add_parser("init", help="write a .env template here (and with --keys the merchant's RSA key pair)")
    ip.add_argument("--keys", action="store_true",
                    help="also write keys/merchant-private.pem (PKCS#8) and keys/merchant-public.pem for DANA's portal")
    ip.add_argument("--merchant-profile", action="store_true",
                    help="write a commented dana-uat.merchant.yaml template instead (merchant mode)")
    dp = sub.add_parser("doctor", help="check settings, keys, browser and target; every problem with its fix")
    dp.add_argument("--target", help="embedded (default), sandbox, or the URL of a `dana-uat sandbox`")
    dp.add_argument("--env-file", default=None, help="a .env file with the merchant's settings (default ./.env)")
    lp = sub.add_parser("list", help="list the scenario catalogue")
    lp.add_argument("--json", action="store_true", help="JSON instead of a table")
    lp.add_argument("--scenarios", help="a scenario folder instead of the shipped catalogue")
    sp = sub.add_parser("schema", help="print the JSON Schema of scenario files or of the merchant profile, for an "
                        "editor (README, \"Editor support\")")
    sp.add_argument("name", choices=("scenarios", "merchant-profile"))
    sub.add_parser("sandbox", help="run the embedded DANA sandbox standalone (see dana-uat sandbox --help)")
    bp = sub.add_parser("lint-bind-url", help="grade a bind (OAuth) URL")
    bp.add_argument("url")
    bp.add_argument("--public-key", help="merchant public key PEM file, to verify seamlessSign")
    bp.add_argument("--state", help="the state the merchant issued")
    cli_evidence.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`dana-uat list | head`): no traceback; stdout points at /dev/null so the
        # interpreter's final flush cannot fail again. Not 0: what was cut off was not seen.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str] | None) -> int:
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
        sp.add_argument("--env-file", help="the .env with the merchant to register (default: ./.env)")
        sandbox_args = sp.parse_args(argv[1:])
        try:   # the DANA twin (--as-dana) knows only what --merchant registers, as DANA knows the portal's
            sandbox_args.settings_merchants = [] if sandbox_args.as_dana else _settings_merchants(sandbox_args.env_file)
        except ConfigError as exc:
            return config_error([_Problem(*p) for p in exc.problems])
        return int(sandbox_cli.run(sandbox_args) or 0)
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown and args.command != "run":      # only `run` passes what it does not know on, to pytest
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    if args.command in ("run", "list", "schema") and (problems := _step_kind_problems()):
        return _err("step kinds: " + "\n  ".join(problems))      # before anything runs or is written
    if args.command == "run":
        return run.cmd_run(args, unknown + extra)
    commands = {"list": cmd_list, "lint-bind-url": cmd_lint, "init": cmd_init, "doctor": cmd_doctor,
                "schema": cmd_schema,
                **cli_evidence.COMMANDS}
    return commands[args.command](args)


def _step_kind_problems() -> list[str]:
    """Entry points of dana_uat.step_kinds that did not load (a scenario may name one of their kinds)."""
    from conformance.scenarios import kinds

    return kinds.PLUGIN_PROBLEMS


def _version() -> str:
    try:
        return version("dana-uat")
    except PackageNotFoundError:
        return "unknown (not installed)"

