"""``dana-uat sandbox``: run the embedded DANA sandbox standalone, for merchants to develop against.

It prints the API base URL, the hosted pages, the admin API and its mode (open on loopback, a bearer token
on any other address, off with --no-admin: sandbox/access.py), where the state lives (memory, or --state
FILE: sandbox/statefile.py) and the sandbox's DANA public key (to verify its Finish Notify signatures),
then serves until Ctrl-C or SIGTERM, printing one graded line per API request it receives (the traffic
journal, conformance/sandbox/journal.py). SIGTERM lets the requests in flight finish, then closes the
state file. Exit 2: a setting it cannot use (a token, a key file, a state file, a merchant spec, the port).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from conformance.sandbox import twin
from conformance.sandbox.access import OFF, TOKEN, TOKEN_ENV, AdminAccess, is_loopback, token_problem
from conformance.sandbox.danakey import load_or_create
from conformance.sandbox.faults import FaultPlanError, load_plan
from conformance.sandbox.journal import live_line
from conformance.sandbox.rules import Rules
from conformance.sandbox.server import SandboxServer
from conformance.sandbox.statefile import StateFile, StateFileError
from conformance.snap.hosts import DANA_HOSTS, hostnames
from conformance.snap.keys import KeyFormatError, load_public_key_file, public_key_pem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    parser.add_argument("--merchant", action="append", default=[], metavar="PARTNER_ID:MERCHANT_ID:PUBLIC_KEY_FILE",
                        help="register a merchant at start-up (repeatable); also POST /sandbox-admin/merchants")
    parser.add_argument("--dana-private-key", metavar="FILE",
                        help="the sandbox's DANA private key (signs Finish Notify): read from FILE, or generated "
                             "and saved there (PKCS#8) if FILE does not exist; the public key is written to "
                             "FILE's name + .pub.pem. Default: a fresh key per start")
    parser.add_argument("--faults", metavar="FILE",
                        help="inject faults from this plan (YAML or JSON: latency, 5xx bursts, 429 with Retry-After, "
                             "connection resets, stalled pages; docs/sandbox.md \"Faults\"); what was injected: "
                             "GET /sandbox-admin/faults")
    parser.add_argument("--quiet", action="store_true", help="do not print a line per request")
    parser.add_argument("--as-dana", choices=tuple(DANA_HOSTS), metavar="ENV",
                        help="the DANA twin (sandbox or production): HTTPS under DANA's hostnames, no admin API, "
                             "no embedded-only trigger (docs/sandbox.md, 'The DANA twin'); needs --tls-dir")
    parser.add_argument("--tls-dir", metavar="DIR", help="--as-dana: where the throwaway CA (ca.pem) and the "
                        "server certificate are written")
    parser.add_argument("--record", metavar="FILE", help="--as-dana: append one JSON line per answered request")
    parser.add_argument("--admin-token", metavar="TOKEN",
                        help=f"the bearer token the admin API (/sandbox-admin) wants (default: ${TOKEN_ENV}; "
                             "else none on a loopback address and a generated one, printed once, on any other)")
    parser.add_argument("--state", metavar="FILE",
                        help="keep merchants, users' balances, bindings, tokens, orders, refunds, clocks and the "
                             "traffic journal in this SQLite file, committed with each request, and resume from "
                             "it at the next start (default: memory only)")
    parser.add_argument("--no-admin", action="store_true",
                        help="serve no admin API at all: merchants come from --merchant only")


UNKNOWN_PARTNER = ("  partnerId {partner!r} is not registered with this sandbox, so every call it signs is refused "
                   "(4015400). Fix: start `dana-uat sandbox` where the .env your SDK reads sets X_PARTNER_ID, "
                   "MERCHANT_ID and PRIVATE_KEY or PRIVATE_KEY_PATH (or export them), or give --merchant "
                   "PARTNER_ID:MERCHANT_ID:PUBLIC_KEY_FILE, or POST /sandbox-admin/merchants")


def _printer(known=lambda partner: True):
    """The live line of each request, and once per unknown partnerId a line naming it and the fix; a closed
    stdout silences it and the sandbox keeps serving."""
    live, named = {"on": True}, set()

    def show(entry: dict) -> None:
        if not live["on"]:
            return
        partner = entry.get("partnerId")
        lines = [live_line(entry)]
        if partner and partner not in named and not known(partner):
            named.add(partner)
            lines.append(_printable(UNKNOWN_PARTNER.format(partner=partner[:64])))
        try:
            print("\n".join(lines), flush=True)
        except (OSError, ValueError):
            live["on"] = False
    return show


def _printable(text: str) -> str:
    """What a client sent must not colour, move or break the developer's terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text) \
        .encode("ascii", "backslashreplace").decode("ascii")


def _fault_printer(live: dict):
    """One line per injected fault (the request's own traffic line, if any, follows)."""
    def show(entry: dict) -> None:
        if live["on"]:
            detail = " ".join(f"{k}={v}" for k, v in entry.items() if k not in ("path", "method", "kind", "at",
                                                                                   "monotonic"))
            try:
                print(_printable(f"FAULT {entry['kind']} {entry['method']} {entry['path']} {detail}".rstrip()),
                      flush=True)
            except (OSError, ValueError):
                live["on"] = False
    return show


def _register(server: SandboxServer, spec: str) -> str | None:
    parts = spec.split(":", 2)
    if len(parts) != 3 or not all(parts):
        return f"--merchant {spec!r}: expected PARTNER_ID:MERCHANT_ID:PUBLIC_KEY_FILE"
    try:
        key = load_public_key_file(parts[2])
    except (OSError, KeyFormatError) as exc:
        return f"--merchant {spec!r}: cannot read the public key ({exc})"
    server.register_merchant(parts[0], parts[1], public_key_pem(key))
    return None


def _admin_access(args: argparse.Namespace, environ) -> tuple[AdminAccess | None, str, str | None]:
    """The admin API's mode, where its token came from, or the problem with the token given."""
    token, source = getattr(args, "admin_token", None), "--admin-token"
    if not token:
        token, source = environ.get(TOKEN_ENV) or None, TOKEN_ENV
    if token and token_problem(token):
        return None, source, f"{source}: {token_problem(token)}"
    access = AdminAccess.for_host(args.host, token, no_admin=bool(getattr(args, "no_admin", False)))
    return access, ("generated" if access.generated else source), None


def _banner_admin(server: SandboxServer, source: str) -> None:
    access, base = server.admin, server.base_url
    if access.mode == OFF:
        print(f"  Admin API:             {access.describe()}")
        return
    print(f"  Admin API:             {base}/sandbox-admin/info  ({access.describe()})")
    print(f"  Health probe:          {base}/sandbox-admin/health  (no token, no data)")
    if access.mode == TOKEN and access.generated:
        # Shown this once, as the issue asks: the team copies it into their DANA_UAT_SANDBOX_TOKEN.
        print(f"  Admin token (generated, shown once): {access.token}")
        print(f"    clients send it from the setting {TOKEN_ENV}; set it before the start to choose it")
    elif access.mode == TOKEN:
        print(f"  Admin token: from {source} (clients send it from the setting {TOKEN_ENV})")
    if not is_loopback(server.host):
        print(f"  Listening on {server.host}: anyone who reaches this port can call the SNAP APIs and pages "
              "(signed, as on DANA's sandbox)")


def _banner_state(server: SandboxServer, args: argparse.Namespace) -> None:
    restored = server.sandbox.restored
    if restored is None:
        print("  State:                 in memory (a restart forgets it; --state FILE keeps it)")
        return
    counts = ", ".join(f"{what} {n}" for what, n in restored.items())
    print(f"  State:                 {args.state} " + (f"(resumed: {counts})" if any(restored.values())
                                                       else "(new; committed with each request)"))
    if not getattr(args, "dana_private_key", None):
        print("    add --dana-private-key FILE so your backend verifies Finish Notify across restarts too")


def run(args: argparse.Namespace, environ=None) -> int:
    access, token_source, problem = _admin_access(args, os.environ if environ is None else environ)
    if problem:
        print(f"dana-uat sandbox: {problem}", file=sys.stderr)
        return 2
    dana_key = None
    if getattr(args, "dana_private_key", None):
        try:
            dana_key = load_or_create(args.dana_private_key)
        except (OSError, KeyFormatError) as exc:
            print(f"dana-uat sandbox: --dana-private-key: {exc}", file=sys.stderr)
            return 2
    plan = None
    if getattr(args, "faults", None):
        try:
            plan = load_plan(args.faults)
        except FaultPlanError as exc:
            print(f"dana-uat sandbox: --faults: {exc}", file=sys.stderr)
            return 2
    made = _twin_options(args)
    if isinstance(made, str):
        print(f"dana-uat sandbox: {made}", file=sys.stderr)
        return 2
    options, recorder = made
    options.setdefault("admin", access)           # the twin has none, whatever the token settings say
    try:
        state_file = StateFile(args.state) if getattr(args, "state", None) else None
        server = SandboxServer(args.host, args.port, dana_private_key=dana_key and dana_key.private_key,
                               state=state_file, faults=plan, **options)
    except (StateFileError, OSError) as exc:
        print(f"dana-uat sandbox: {exc}", file=sys.stderr)
        return 2
    for spec in getattr(args, "merchant", None) or []:
        problem = _register(server, spec)
        if problem:
            print(f"dana-uat sandbox: {problem}", file=sys.stderr)
            server.sandbox.close_state()
            return 2
    # the merchant of the settings `dana-uat run` reads (.env, environment), given by conformance/cli/main.py
    from_settings = getattr(args, "settings_merchants", None) or []
    for partner_id, merchant_id, public_pem, _ in from_settings:
        server.register_merchant(partner_id, merchant_id, public_pem)
    # The handler goes in before anything is printed: a supervisor may send SIGTERM as soon as it
    # has read the URLs, and the default action would kill the process without stopping the server.
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        signal.signal(signal.SIGTERM, previous)
        server.sandbox.close_state()
        print(f"dana-uat sandbox: cannot start on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    base = server.base_url
    if getattr(args, "as_dana", None):
        _twin_banner(args, server, recorder)
        return _serve(args, server, stop, previous)
    print(f"DANA sandbox running at {base}", flush=True)
    print(f"  API base URL (configuration.host): {base}")
    print(f"  OAuth / binding page:  {base}/v1.0/get-auth-code  (also {base}/n/ipg/oauth)")
    print(f"  Checkout page:         {base}/n/cashier/new/checkout  (webRedirectUrl of Widget Payment)")
    _banner_admin(server, token_source)
    _banner_state(server, args)
    print("  Test users: 083811223355 / PIN 181818" + ("" if access.mode == OFF else " (see GET /sandbox-admin/users)"))
    print("DANA public key (verifies this sandbox's Finish Notify):")
    print(server.dana_public_key_pem, end="")
    for partner_id, merchant_id, _, where in from_settings:
        print(f"  Merchant registered from {where}: partnerId {partner_id}, merchantId {merchant_id}")
    if not server.sandbox.store.merchants:           # none given, none resumed from --state
        print("  No merchant registered: set X_PARTNER_ID, MERCHANT_ID and PRIVATE_KEY(_PATH) in .env here, "
              "or give --merchant (a `dana-uat run` registers its own)")
    if dana_key is not None:
        state = "generated and saved" if dana_key.created else "reused"
        print(f"  DANA private key {state}: {dana_key.path} (stays the same across restarts)")
        print(f"  DANA public key file for your backend (DANA_PUBLIC_KEY_PATH): {dana_key.public_path}")
    if plan is not None:
        print(f"Faults: {len(plan.faults)} row(s) from {args.faults} (injected so far: GET /sandbox-admin/faults)")
    if not getattr(args, "quiet", False):
        print("Traffic: one graded line per request (details: GET /sandbox-admin/traffic)")
    return _serve(args, server, stop, previous)


def _serve(args, server: SandboxServer, stop: threading.Event, previous) -> int:
    if not getattr(args, "quiet", False):
        server.sandbox.journal.subscribe(_printer(lambda p: server.sandbox.store.get_merchant(p) is not None))
        if server.faults is not None:
            server.faults.subscribe(_fault_printer({"on": True}))
    sys.stdout.flush()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        print("DANA sandbox stopped.", flush=True)
    return 0


def _twin_options(args: argparse.Namespace) -> tuple[dict, twin.Recorder | None] | str:
    """SandboxServer's options for ``--as-dana`` and its record (a problem as text); ({}, None) for the ordinary
    sandbox."""
    env = getattr(args, "as_dana", None)
    if env is None:
        return ({}, None) if not (getattr(args, "tls_dir", None) or getattr(args, "record", None)) else \
            "--tls-dir and --record belong to --as-dana"
    if not getattr(args, "tls_dir", None):
        return "--as-dana needs --tls-dir DIR (where the twin's throwaway CA is written)"
    try:
        _ca, chain, key = twin.issue_certificates(Path(args.tls_dir), twin.names_for(env))
    except OSError as exc:
        return f"--tls-dir {args.tls_dir}: {exc}"
    options = {"admin": False, "tls": (str(chain), str(key)), "rules": Rules.load(as_dana=True)}
    recorder = twin.Recorder(Path(args.record)) if getattr(args, "record", None) else None
    if recorder is not None:
        options["wrap"] = recorder.wrap
    return options, recorder


def _twin_banner(args: argparse.Namespace, server: SandboxServer, recorder: twin.Recorder | None) -> None:
    env = args.as_dana
    server.sandbox.base_url = twin.web_base(env, server.port)     # webRedirectUrl names DANA's page host
    if recorder is not None:      # the SNAP API requests again, as the journal graded and redacted them
        server.sandbox.journal.subscribe(lambda entry: recorder.write(twin.journal_line(entry)))
    api, web = (f"https://{n}" + ("" if server.port == 443 else f":{server.port}") for n in hostnames(env))
    print(f"DANA twin ({env}) running on {server.host}:{server.port}: {api} and {web}", flush=True)
    print("  no admin API: it answers only what DANA answers; map the names to this address (/etc/hosts)")
    print(f"  CA to trust (DANA_UAT_CA_BUNDLE): {Path(args.tls_dir, 'ca.pem')}")
    print("DANA public key (verifies this twin's Finish Notify; DANA_PUBLIC_KEY_PATH):")
    print(server.dana_public_key_pem, end="", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dana-uat sandbox", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
