"""Preflight: what would spoil a run, found before it starts; every problem at once, each with its fix.

``dana-uat doctor`` prints every check and exits 2 if any problem is found. ``dana-uat run`` runs the same
checks first, so a DNS failure or a wrong DANA_UAT_CHROMIUM is a configuration error (exit 2), never one
FAIL per scenario. The doctor asks for a complete merchant (it prepares a run against DANA); the run asks
for one only when some of it is given or the target is DANA's sandbox (else a throwaway merchant is used).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from conformance.config import settings as settings_mod
from conformance.config.settings import ConfigError, Settings
from conformance.config.tls import tls_verify
from conformance.snap import keys

REACH_TIMEOUT = 8.0     # seconds per target probe
# A probe cut off after it connected (a reset mid-response, a timeout) is tried again: one broken connection says
# nothing about the target, and a run must not stop with exit 2 for it. A refused connection, a proxy's refusal or a
# name that does not resolve is said at once. Waits between probes, in seconds: 3 probes at most.
PROBE_WAITS = (0.5, 1.0)

# The merchant's own pieces: (variable, setting key, fix). PRIVATE_KEY may stand in for PRIVATE_KEY_PATH.
MERCHANT = (
    ("X_PARTNER_ID", "partner_id", "copy the clientId (X-PARTNER-ID) from DANA's Merchant Portal into .env"),
    ("MERCHANT_ID", "merchant_id", "copy the merchant id from DANA's Merchant Portal into .env"),
    ("PRIVATE_KEY_PATH", "private_key_path",
     "point it at your PKCS#8 private key PEM (`dana-uat init --keys` generates a pair)"),
)
SAME_VARIABLE = {"PRIVATE_KEY": "PRIVATE_KEY_PATH"}   # one problem, two spellings


@dataclass
class Check:
    name: str
    detail: str = ""                                   # what was found, shown when it is fine
    problems: list[ConfigError] = field(default_factory=list)


@dataclass
class Report:
    settings: Settings | None
    checks: list[Check]

    @property
    def problems(self) -> list[ConfigError]:
        return [p for c in self.checks for p in c.problems]

    def lines(self) -> list[str]:
        out = []
        for check in self.checks:
            if not check.problems:
                out.append(f"ok    {check.name:9} {check.detail}")
            for p in check.problems:
                out.append(f"FAIL  {check.name:9} {p.name}: {p.problem}; {p.fix}")
        return out


def _given(values: Mapping[str, str | None], key: str) -> bool:
    return bool(values.get(key) or (key == "private_key_path" and values.get("private_key")))


def check_merchant(values: Mapping[str, str | None], require: bool) -> Check:
    given = [env for env, key, _fix in MERCHANT if _given(values, key)]
    if not given and not require:
        return Check("merchant", "none configured: the embedded sandbox uses a throwaway merchant")
    missing = [ConfigError(env, "is not set", fix) for env, key, fix in MERCHANT if not _given(values, key)]
    return Check("merchant", f"X_PARTNER_ID {values.get('partner_id')}, MERCHANT_ID {values.get('merchant_id')}",
                 missing)


def _private_key(values: Mapping[str, str | None]):
    """The merchant's private key as configured, or None (an unusable one is the settings check's problem)."""
    try:
        if values.get("private_key_path"):
            return keys.load_private_key_file(Path(values["private_key_path"]).expanduser())
        return keys.load_private_key(values["private_key"]) if values.get("private_key") else None
    except (OSError, keys.KeyFormatError):
        return None


def check_key_pair(values: Mapping[str, str | None], require: bool) -> Check:
    path = values.get("merchant_public_key_path")
    if not path:
        fix = "point it at the public key PEM you uploaded to DANA's portal (`dana-uat init --keys` writes one)"
        problems = [ConfigError("MERCHANT_PUBLIC_KEY_PATH", "is not set", fix)] if require else []
        return Check("key pair", "MERCHANT_PUBLIC_KEY_PATH not set: the pair is not compared", problems)
    try:
        public = keys.load_public_key_file(Path(path).expanduser())
    except (OSError, keys.KeyFormatError) as exc:
        return Check("key pair", problems=[ConfigError("MERCHANT_PUBLIC_KEY_PATH", f"{path} is not usable ({exc})",
                                                       "point it at the public key PEM file")])
    private = _private_key(values)
    if private is None:
        return Check("key pair", f"{path} readable; no private key to compare it with")
    if private.public_key().public_numbers() != public.public_numbers():
        return Check("key pair", problems=[ConfigError(
            "MERCHANT_PUBLIC_KEY_PATH", f"{path} does not match the merchant private key",
            "upload and point at the public key of the private key in PRIVATE_KEY_PATH "
            "(openssl pkey -in PRIVATE.pem -pubout)")])
    return Check("key pair", f"{path} matches the private key")


def check_browser(values: Mapping[str, str | None]) -> Check:
    from conformance.browser.discovery import BrowserNotFound, find_chromium, install_command

    try:
        found = find_chromium(values.get("chromium"))
    except BrowserNotFound:
        return Check("browser", problems=[ConfigError("DANA_UAT_CHROMIUM", f"{values.get('chromium')!r} is not an "
                                                      "executable file", "fix the path, or unset it to use the "
                                                      "system's Chromium")])
    if not found:
        return Check("browser", problems=[ConfigError("chromium", "no Chromium found for the bind and checkout "
                                                      "steps", f"install one ({install_command()}) or set "
                                                      "DANA_UAT_CHROMIUM to its path")])
    return Check("browser", found)


def _api_base(values: Mapping[str, str | None]) -> str | None:
    target = settings_mod.given_target(values)
    if target in settings_mod.DANA_HOSTS:        # the target alone picks DANA's host, never ENV
        return settings_mod.DANA_HOSTS[target][0]
    return target.rstrip("/") if target.startswith(("http://", "https://")) else None


def _probe(url: str, timeout: float, ca_bundle: str | None = None,
           headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.get(url, timeout=timeout, verify=tls_verify(url, ca_bundle),   # follows no redirect
                     headers=headers)


def _untrusted(exc: Exception) -> bool:
    """Whether a request failed on certificate verification (not on DNS, a refusal or a reset)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reach(probe: Callable[[], httpx.Response], sleep: Callable[[float], None]) -> tuple[int, list[str]]:
    """The probe's HTTP status and the transport errors met before it (raises the last one after the bound)."""
    errors: list[str] = []
    for wait in (*PROBE_WAITS, None):
        try:
            return probe().status_code, errors
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            if wait is None or isinstance(exc, (httpx.ConnectError, httpx.ProxyError, httpx.UnsupportedProtocol)):
                raise
            sleep(wait)          # a pause between probes (the retry's protocol), bounded by PROBE_WAITS
    raise AssertionError("unreachable")     # the loop returns or raises


def check_target(values: Mapping[str, str | None], get: Callable[..., httpx.Response] = _probe,
                 sleep: Callable[[float], None] = time.sleep) -> Check:
    target = settings_mod.given_target(values)
    base = _api_base(values)
    if base is None:
        return Check("target", f"{target}: started on a free loopback port for the run")
    dana = target in settings_mod.DANA_HOSTS
    probe = base + ("/" if dana else "/sandbox-admin/info")
    ca_bundle = values.get("ca_bundle") or None
    token = None if dana else values.get("sandbox_token")     # a sandbox's admin token goes to that sandbox only
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        status, errors = _reach(lambda: get(probe, timeout=REACH_TIMEOUT, ca_bundle=ca_bundle, headers=headers),
                                sleep)
    except httpx.HTTPError as exc:
        if _untrusted(exc):     # a TLS-inspecting proxy, or a host that is not DANA's, signed this certificate
            return Check("target", problems=[ConfigError(
                "DANA_UAT_CA_BUNDLE", f"the HTTPS certificate of {base} is signed by a CA this machine does not "
                f"trust ({exc})", "if a TLS-inspecting proxy sits between you and DANA, set DANA_UAT_CA_BUNDLE "
                "to its CA's PEM file (README, 'Troubleshooting'); the run's HTTP clients and Chromium then trust "
                "it" + ("" if not ca_bundle else f"; {ca_bundle} does not hold the CA that signed it"))])
        fix = ("check this machine's DNS, network and HTTPS_PROXY: the run needs to reach it" if dana
               else "start it with `dana-uat sandbox`, or fix DANA_UAT_TARGET / --target")
        return Check("target", problems=[ConfigError("DANA_UAT_TARGET", f"cannot reach {base} "
                                                     f"({type(exc).__name__}: {exc})", fix)])
    if not dana and status == 401:
        return Check("target", problems=[settings_mod.sandbox_token_refused(base, token)])
    if not dana and status != 200:
        return Check("target", problems=[ConfigError("DANA_UAT_TARGET", f"{probe} answered HTTP {status}",
                                                     "give the URL of a running `dana-uat sandbox`")])
    tried = f" at probe {len(errors) + 1} (before: {'; '.join(errors)})" if errors else ""
    return Check("target", f"{base} reachable (HTTP {status}){tried}")


def preflight(cli: Mapping[str, object] | None = None, *, env_file: str | Path | None = ".env",
              root: str | Path = ".", require_merchant: bool | None = None) -> Report:
    """Every check; ``require_merchant`` None = only when some of the merchant is given (the run's rule)."""
    try:
        values, sources = settings_mod.read_values(cli, env_file=env_file, root=root)
    except ConfigError as exc:            # a missing --env-file or a broken pyproject: nothing else to read
        return Report(None, [Check("settings", problems=[exc])])
    unconfirmed = settings_mod.production_unconfirmed(values, cli)
    if unconfirmed is not None:
        return Report(None, [Check("settings", problems=[unconfirmed])])
    settings, settings_check = None, Check("settings", _sources(sources))
    try:
        settings = settings_mod.build_settings(values, sources)
    except ConfigError as exc:
        settings_check.problems = [ConfigError(n, p, f) for n, p, f in exc.problems]
    require = any(_given(values, key) for _env, key, _fix in MERCHANT) if require_merchant is None \
        else require_merchant
    merchant = check_merchant(values, require)
    reported = {SAME_VARIABLE.get(p.name, p.name) for p in settings_check.problems}
    merchant.problems = [p for p in merchant.problems if p.name not in reported]
    return Report(settings, [settings_check, merchant, check_key_pair(values, bool(require_merchant)),
                             check_browser(values), check_target(values)])


def _sources(sources: Mapping[str, str]) -> str:
    used = sorted({w if w == "command line" else w.split(" ")[0] for w in sources.values() if w != "default"})
    return "from " + ", ".join(used) if used else "all defaults"
