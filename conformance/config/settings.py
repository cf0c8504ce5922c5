"""Settings: who the merchant is, where DANA is, where evidence goes.

Sources, highest precedence first: pytest/CLI options, environment variables, a ``.env`` file,
``[tool.dana-uat]`` in pyproject.toml. Environment variables use the official SDK's names
(X_PARTNER_ID, MERCHANT_ID, PRIVATE_KEY, ...). An unusable value raises ``ConfigError`` with one
line naming the variable, what is wrong and how to fix it; the CLI and the plugin turn it into exit 2.
With no credentials at all, the embedded target generates a throwaway merchant.
"""

from __future__ import annotations

import os
import random
import re
import ssl
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from conformance.config.tls import tls_verify
from conformance.snap import keys
from conformance.snap.hosts import DANA_HOSTS

DANA_SANDBOX_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnaKVGRbin4Wh4KN35OPh
ytJBjYTz7QZKSZjmHfiHxFmulfT87rta+IvGJ0rCBgg+1EtKk1hX8G5gPGJs1htJ
5jHa3/jCk9l+luzjnuT9UVlwJahvzmFw+IoDoM7hIPjsLtnIe04SgYo0tZBpEmkQ
vUGhmHPqYnUGSSMIpDLJDvbyr8gtwluja1SbRphgDCoYVXq+uUJ5HzPS049aaxTS
nfXh/qXuDoB9EzCrgppLDS2ubmk21+dr7WaO/3RFjnwx5ouv6w+iC1XOJKar3CTk
X6JV1OSST1C9sbPGzMHZ8AGB51BM0mok7davD/5irUk+f0C25OgzkwtxAt80dkDo
/QIDAQAB
-----END PUBLIC KEY-----
"""


class ConfigError(Exception):
    """For people: which setting, what is wrong, how to fix it; one line per problem. Exit code 2.

    ``problems`` holds every problem found at once (name, problem, fix), so a merchant fixes them in one go.
    """

    def __init__(self, name: str, problem: str, fix: str, more: list["ConfigError"] | None = None):
        self.name, self.problem, self.fix = name, problem, fix
        self.problems = [(name, problem, fix)] + [p for e in (more or []) for p in e.problems]
        super().__init__("\n".join(f"{n}: {p}; {f}" for n, p, f in self.problems))

    @classmethod
    def combine(cls, errors: list["ConfigError"]) -> "ConfigError":
        first, *rest = errors
        return cls(first.name, first.problem, first.fix, rest)


@dataclass(frozen=True)
class Option:
    key: str                    # attribute name, also the [tool.dana-uat] key
    env: tuple[str, ...]        # environment variable names, first wins
    default: str | None
    help: str


# One row per setting: the settings loader reads this table, and the pytest plugin its defaults.
OPTIONS: tuple[Option, ...] = (
    Option("target", ("DANA_UAT_TARGET",), "embedded",
           "embedded (default), sandbox (DANA's real sandbox), production (needs --confirm-production) "
           "or the URL of a running `dana-uat sandbox`"),
    Option("partner_id", ("X_PARTNER_ID",), None, "partnerId = clientId (X-PARTNER-ID, X-CLIENT-KEY)"),
    Option("merchant_id", ("MERCHANT_ID",), None, "merchantId in bodies and bind URLs"),
    Option("private_key", ("PRIVATE_KEY",), None, "merchant RSA private key (PEM, escaped \\n or bare Base64)"),
    Option("private_key_path", ("PRIVATE_KEY_PATH",), None, "file with the merchant private key; wins over PRIVATE_KEY"),
    Option("merchant_public_key_path", ("MERCHANT_PUBLIC_KEY_PATH",), None,
           "the public key PEM uploaded to DANA's Merchant Portal; `dana-uat doctor` checks it matches the private key"),
    Option("origin", ("ORIGIN",), "https://merchant.example", "merchant origin sent in ORIGIN"),
    Option("client_secret", ("CLIENT_SECRET",), None, "client secret (Open API only); always redacted"),
    Option("dana_public_key", ("DANA_PUBLIC_KEY",), None, "DANA gateway public key for Finish Notify"),
    Option("dana_public_key_path", ("DANA_PUBLIC_KEY_PATH",), None, "file with DANA's gateway public key"),
    Option("dana_private_key_path", ("DANA_UAT_DANA_PRIVATE_KEY_PATH",), None,
           "embedded target: the sandbox's DANA private key file, created if missing (PKCS#8), so the "
           "Finish Notify key stays the same across runs; its public key goes to <name>.pub.pem"),
    Option("env", ("DANA_ENV", "ENV"), "sandbox",
           "the official SDK's ENV; never picks the host: target=sandbox is always DANA's sandbox"),
    Option("redirect_url_oauth", ("REDIRECT_URL_OAUTH",), None,
           "merchant OAuth redirect URL; default: the suite's own loopback receiver"),
    Option("notify_url", ("DANA_UAT_NOTIFY_URL",), None,
           "merchant Finish Notify URL to grade; default: the suite's own receiver"),
    Option("channel_id", ("CHANNEL_ID",), "95221", "CHANNEL-ID header value"),
    Option("report_dir", ("DANA_UAT_REPORT_DIR",), "reports", "where evidence and reports are written"),
    Option("scenario_dir", ("DANA_UAT_SCENARIOS",), "scenarios", "where the YAML catalogue is collected from"),
    Option("chromium", ("DANA_UAT_CHROMIUM", "CHROMIUM_PATH"), None, "path of the Chromium to drive"),
    Option("retries", ("DANA_UAT_RETRIES",), None,
           "extra attempts of a scenario after a transport error, HTTP 5xx or 429; default 2 on DANA's sandbox, "
           "else 0"),
    Option("retry_backoff", ("DANA_UAT_RETRY_BACKOFF",), None,
           "seconds of the first backoff step before a retry (then doubled, with jitter, at most 8 s; a 429 waits as "
           "its Retry-After says, at most 30 s); default 1"),
    Option("page_timeout", ("DANA_UAT_PAGE_TIMEOUT",), None,
           "seconds a hosted page (bind, checkout) may take to load or to show what the flow waits for; default 30"),
    Option("concurrency", ("DANA_UAT_CONCURRENCY",), None,
           "scenarios run side by side in one process; default 4 on the embedded sandbox or a `dana-uat sandbox` "
           "URL, 1 against DANA"),
    Option("phone", ("DANA_UAT_PHONE",), "083811223355", "DANA test user's phone for bind and checkout"),
    Option("pin", ("DANA_UAT_PIN",), "181818", "DANA test user's PIN"),
    Option("sandbox_token", ("DANA_UAT_SANDBOX_TOKEN",), None,
           "the admin token of a `dana-uat sandbox` URL target (Authorization: Bearer); always redacted"),
    Option("merchant_profile", ("DANA_UAT_MERCHANT_PROFILE",), None,
           "merchant mode: the profile (dana-uat.merchant.yaml) saying how to drive the merchant's backend"),
    Option("ca_bundle", ("DANA_UAT_CA_BUNDLE",), None,
           "PEM file of extra CAs to trust for HTTPS, in every HTTP client and in Chromium (a TLS-inspecting "
           "corporate proxy's CA)"),
    Option("receiver_listen", ("DANA_UAT_RECEIVER_LISTEN",), None,
           "HOST:PORT the suite's receiver listens on (default a free loopback port); with "
           "DANA_UAT_RECEIVER_PUBLIC_URL, what the tunnel or reverse proxy forwards to"),
    Option("receiver_public_url", ("DANA_UAT_RECEIVER_PUBLIC_URL",), None,
           "the public https URL in front of the receiver (a tunnel or your reverse proxy): each payment's "
           "NOTIFICATION url, so DANA's real sandbox can deliver Finish Notify to the suite"),
    Option("long_waits", ("DANA_UAT_LONG_WAITS",), None,
           "against DANA, run the scenarios that wait out a real expiry (an authCode's 10 minutes) instead of "
           "skipping them: 1 to enable"),
)
OPTION_BY_KEY = {o.key: o for o in OPTIONS}


@dataclass
class MerchantCredentials:
    partner_id: str
    merchant_id: str
    private_key: object = field(repr=False)      # RSAPrivateKey
    origin: str = "https://merchant.example"
    client_secret: str | None = field(default=None, repr=False)
    channel_id: str = "95221"
    throwaway: bool = False

    @property
    def public_key(self):
        return self.private_key.public_key()

    @property
    def public_key_pem(self) -> str:
        return keys.public_key_pem(self.private_key)


@dataclass
class Settings:
    target: str
    merchant: MerchantCredentials
    env: str
    dana_public_key: object | None           # RSAPublicKey; None = use the embedded sandbox's own
    redirect_url_oauth: str | None
    notify_url: str | None
    report_dir: Path
    scenario_dir: Path
    chromium: str | None
    phone: str
    pin: str
    sources: dict[str, str] = field(default_factory=dict)   # key -> where its value came from
    dana_private_key_path: Path | None = None   # embedded: stable sandbox DANA key (created if missing)
    merchant_profile: str | None = None                     # merchant mode (docs/merchant-mode.md)
    ca_bundle: str | None = None                            # extra CAs for HTTPS (clients and Chromium)
    receiver_listen: tuple[str, int] | None = None          # where the receiver listens (host, port)
    receiver_public_url: str | None = None                  # the receiver's public face (Finish Notify from DANA)
    long_waits: bool = False                                # wait out real expiries against DANA
    sandbox_token: str | None = field(default=None, repr=False)   # a URL target's admin token

    def tls_verify(self, url: str) -> ssl.SSLContext:
        return tls_verify(url, self.ca_bundle)

    @property
    def is_embedded(self) -> bool:
        return self.target == "embedded"

    @property
    def api_base(self) -> str | None:
        """Base URL of DANA's API for remote targets; None for embedded (known once started)."""
        if self.target in DANA_HOSTS:   # the target alone picks DANA's host, never ENV (issue 11 part 6)
            return DANA_HOSTS[self.target][0]
        if self.target.startswith(("http://", "https://")):
            return self.target.rstrip("/")
        return None

    @property
    def web_base(self) -> str | None:
        if self.target in DANA_HOSTS:
            return DANA_HOSTS[self.target][1]
        return self.api_base


def read_pyproject(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"is not valid TOML ({exc})", "fix the file or remove [tool.dana-uat]")
    table = data.get("tool", {}).get("dana-uat", {})
    unknown = sorted(set(table) - set(OPTION_BY_KEY))
    if unknown:
        raise ConfigError(f"[tool.dana-uat] {unknown[0]}", "is not a known setting",
                          f"use one of: {', '.join(OPTION_BY_KEY)}")
    return {k: str(v) for k, v in table.items()}


def read_env_file(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def resolve_raw(cli: Mapping[str, object], environ: Mapping[str, str], env_file: Mapping[str, str],
                pyproject: Mapping[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Pick each setting's value by precedence; also say where it came from."""
    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for opt in OPTIONS:
        candidates: list[tuple[str, object]] = [("command line", cli.get(opt.key))]
        candidates += [(f"environment {name}", environ.get(name)) for name in opt.env]
        candidates += [(f".env {name}", env_file.get(name)) for name in opt.env]
        candidates += [(f"[tool.dana-uat] {opt.key}", pyproject.get(opt.key))]
        for where, value in candidates:
            if value not in (None, ""):
                values[opt.key], sources[opt.key] = str(value), where
                break
        else:
            values[opt.key], sources[opt.key] = opt.default, "default"
    return values, sources


def _random_digits(n: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(n))


def _check(name: str, value: str | None, rule: Callable[[str], bool], problem: str, fix: str) -> list[ConfigError]:
    return [ConfigError(name, problem.format(value=value), fix)] if value is not None and not rule(value) else []


def _collect(errors: list[ConfigError], load: Callable[[], object]) -> object:
    """Run ``load``; a ConfigError is kept in ``errors`` (and None returned) so every problem is reported."""
    try:
        return load()
    except ConfigError as exc:
        errors.append(exc)
        return None


def _load_key(values: dict, key_name: str, path_name: str, loader_text, loader_file,
              what: str):
    path = values.get(path_name)
    if path:
        p = Path(path).expanduser()
        if p.is_file():
            try:
                return loader_file(p)
            except keys.KeyFormatError as exc:
                raise ConfigError(OPTION_BY_KEY[path_name].env[0], f"{p} holds no usable {what} ({exc})",
                                  f"point it at a PEM file with the {what}")
        if not values.get(key_name):
            raise ConfigError(OPTION_BY_KEY[path_name].env[0], f"file {p} does not exist",
                              "fix the path or set the key itself in " + OPTION_BY_KEY[key_name].env[0])
    text = values.get(key_name)
    if text:
        try:
            return loader_text(text)
        except keys.KeyFormatError as exc:
            raise ConfigError(OPTION_BY_KEY[key_name].env[0], f"is not a usable {what} ({exc})",
                              "paste the PEM (newlines may be written \\n) or the bare Base64 body")
    return None


def _ca_bundle(path: str | None) -> str | None:
    """DANA_UAT_CA_BUNDLE as an absolute path, after checking that it holds at least one usable certificate."""
    if not path:
        return None
    p = Path(path).expanduser().resolve()
    try:
        ssl.create_default_context(cafile=str(p))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("DANA_UAT_CA_BUNDLE", f"{p} is not a readable PEM file of CA certificates ({exc})",
                          "point it at the PEM file of the CA that signs the HTTPS certificates you meet "
                          "(ask your proxy's administrators), or unset it") from None
    return str(p)


def _listen(value: str | None) -> tuple[str, int] | None:
    """DANA_UAT_RECEIVER_LISTEN: ``HOST:PORT`` (or a bare port, on 127.0.0.1)."""
    if not value:
        return None
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("DANA_UAT_RECEIVER_LISTEN", f"{value!r} is not HOST:PORT",
                          "write it as 127.0.0.1:8780 (the address your tunnel or reverse proxy forwards to)")
    return (host.strip("[]") or "127.0.0.1", int(port))


def sandbox_token_refused(base: str, token: str | None) -> ConfigError:
    """A `dana-uat sandbox` answered 401: the setting that fixes it (the run's preflight, exit 2)."""
    name = OPTION_BY_KEY["sandbox_token"].env[0]
    if not token:
        return ConfigError(name, f"is not set but the sandbox at {base} wants its admin token",
                           "set it to the token the sandbox printed at its start (or was started with)")
    return ConfigError(name, f"was refused by the sandbox at {base}",
                       "set it to the token that sandbox was started with (--admin-token or its own setting)")


def given_target(values: Mapping[str, str | None]) -> str:
    """The target as given (DANA_UAT_TARGET, --dana-target, [tool.dana-uat]), ``embedded`` when none is."""
    return (values.get("target") or "embedded").strip()


def build_settings(values: dict[str, str | None], sources: dict[str, str]) -> Settings:
    errors: list[ConfigError] = []
    target = given_target(values)
    if target not in ("embedded", *DANA_HOSTS) and not re.match(r"^https?://[^/\s]+", target):
        errors.append(ConfigError("DANA_UAT_TARGET (--dana-target)", f"{target!r} is not a target",
                                  "use embedded, sandbox, production, or the http(s) URL of a running "
                                  "`dana-uat sandbox`"))
    env = (values["env"] or "sandbox").lower()
    if env not in ("sandbox", "production"):
        errors.append(ConfigError("DANA_ENV", f"{env!r} is neither sandbox nor production", "set DANA_ENV=sandbox"))
    env = "production" if target == "production" else "sandbox"   # ENV=production alone never reaches production

    private_key = _collect(errors, lambda: _load_key(values, "private_key", "private_key_path", keys.load_private_key,
                                                     keys.load_private_key_file, "RSA private key"))
    key_failed = bool(errors and errors[-1].name.startswith("PRIVATE_KEY"))
    partner_id, merchant_id = values["partner_id"], values["merchant_id"]
    throwaway = False
    if target in DANA_HOSTS:
        for name, value in (("X_PARTNER_ID", partner_id), ("MERCHANT_ID", merchant_id)):
            if not value:
                errors.append(ConfigError(name, f"is not set but target={target} needs it",
                                          f"export {name}=... or add it to .env (see README, 'Configuration')"))
        if private_key is None and not key_failed:
            errors.append(ConfigError("PRIVATE_KEY", f"is not set but target={target} needs the merchant key",
                                      "set PRIVATE_KEY_PATH to the PEM file, or PRIVATE_KEY to its text, in .env"))
    else:
        # Embedded: a throwaway merchant fills whatever is missing, so `make uat` needs no setup.
        throwaway = not (partner_id and merchant_id and private_key)
        partner_id = partner_id or "2026" + _random_digits(18)
        merchant_id = merchant_id or "2166" + _random_digits(17)
        private_key = private_key or keys.generate_private_key()

    errors += _check("X_PARTNER_ID", partner_id, lambda v: 1 <= len(v) <= 36 and v.isprintable() and " " not in v,
                     "{value!r} must be 1 to 36 characters without spaces", "copy the clientId from the Merchant Portal")
    errors += _check("MERCHANT_ID", merchant_id, lambda v: 1 <= len(v) <= 64 and " " not in v,
                     "{value!r} must be 1 to 64 characters without spaces",
                     "copy the merchant id from the Merchant Portal")
    errors += _check("CHANNEL_ID", values["channel_id"], lambda v: 1 <= len(v) <= 36,
                     "{value!r} must be 1 to 36 characters", "unset it to use 95221")
    for name, key in (("ORIGIN", "origin"), ("REDIRECT_URL_OAUTH", "redirect_url_oauth"),
                      ("DANA_UAT_NOTIFY_URL", "notify_url"), ("DANA_UAT_RECEIVER_PUBLIC_URL", "receiver_public_url")):
        errors += _check(name, values[key],
                         lambda v: urlsplit(v).scheme in ("http", "https") and bool(urlsplit(v).netloc),
                         "{value!r} is not an absolute http(s) URL", "write it as https://host/path")
    errors += _check("DANA_UAT_RETRIES", values.get("retries"), lambda v: v.isdigit() and int(v) <= 5,
                     "{value!r} is not a number from 0 to 5", "unset it for 2 retries on DANA's sandbox, none elsewhere")
    errors += _check("DANA_UAT_RETRY_BACKOFF", values.get("retry_backoff"), _is_backoff,
                     "{value!r} is not a number of seconds from 0 to 8", "unset it for 1 s")
    errors += _check("DANA_UAT_PAGE_TIMEOUT", values.get("page_timeout"), lambda v: v.isdigit() and 1 <= int(v) <= 300,
                     "{value!r} is not a number of seconds from 1 to 300", "unset it for 30 s")
    errors += _check("DANA_UAT_CONCURRENCY", values.get("concurrency"), lambda v: v.isdigit() and 1 <= int(v) <= 16,
                     "{value!r} is not a number from 1 to 16", "unset it for 4 on the embedded sandbox, 1 against DANA")
    errors += _check("DANA_UAT_PIN", values["pin"], lambda v: v.isdigit() and len(v) == 6,
                     "{value!r} is not six digits", "unset it to use the sandbox user's PIN 181818")

    ca_bundle = _collect(errors, lambda: _ca_bundle(values.get("ca_bundle")))
    receiver_listen = _collect(errors, lambda: _listen(values.get("receiver_listen")))
    errors += _check("DANA_UAT_LONG_WAITS", values.get("long_waits"), lambda v: v in ("0", "1"),
                     "{value!r} is neither 0 nor 1", "set DANA_UAT_LONG_WAITS=1 to run the long waits, or unset it")
    dana_private_key_path = values.get("dana_private_key_path")
    if dana_private_key_path and Path(dana_private_key_path).expanduser().exists():
        try:
            keys.load_private_key_file(Path(dana_private_key_path).expanduser())
        except (OSError, keys.KeyFormatError) as exc:
            errors.append(ConfigError("DANA_UAT_DANA_PRIVATE_KEY_PATH", f"{dana_private_key_path} holds no usable "
                                      f"RSA private key ({exc})", "point it at a PEM private key, or at a file "
                                      "that does not exist yet (the sandbox then creates it)"))
    dana_public_key = _collect(errors, lambda: _load_key(values, "dana_public_key", "dana_public_key_path",
                                                         keys.load_public_key, keys.load_public_key_file,
                                                         "RSA public key"))
    if errors:
        raise ConfigError.combine(errors)
    if dana_public_key is None and target == "sandbox":
        dana_public_key = keys.load_public_key(DANA_SANDBOX_PUBLIC_KEY)

    merchant = MerchantCredentials(partner_id=partner_id, merchant_id=merchant_id, private_key=private_key,
                        origin=values["origin"], client_secret=values["client_secret"],
                        channel_id=values["channel_id"], throwaway=throwaway)
    return Settings(target=target, merchant=merchant, env=env, dana_public_key=dana_public_key,
                    redirect_url_oauth=values["redirect_url_oauth"], notify_url=values["notify_url"],
                    report_dir=Path(values["report_dir"]), scenario_dir=Path(values["scenario_dir"]),
                    chromium=values["chromium"], phone=values["phone"], pin=values["pin"],
                    sources=sources, merchant_profile=values.get("merchant_profile"),
                    ca_bundle=ca_bundle, receiver_listen=receiver_listen,
                    receiver_public_url=values.get("receiver_public_url"), long_waits=values.get("long_waits") == "1",
                    sandbox_token=values.get("sandbox_token"),
                    dana_private_key_path=Path(dana_private_key_path).expanduser() if dana_private_key_path else None)


def _is_backoff(value: str) -> bool:
    try:
        return 0 <= float(value) <= 8
    except ValueError:
        return False


def read_values(cli: Mapping[str, object] | None = None, *, environ: Mapping[str, str] | None = None,
                env_file: str | Path | None = ".env", root: str | Path = ".") -> tuple[dict, dict]:
    """Every setting's raw value and where it came from; ``env_file`` and pyproject.toml resolve against ``root``."""
    root = Path(root)
    env_path = None if env_file is None else (root / env_file if not Path(env_file).is_absolute() else Path(env_file))
    if env_file not in (None, ".env") and env_path is not None and not env_path.is_file():
        raise ConfigError("--dana-env-file", f"{env_path} does not exist", "give the path of an existing .env file")
    return resolve_raw(cli or {}, os.environ if environ is None else environ,
                       read_env_file(env_path), read_pyproject(root / "pyproject.toml"))


def load_settings(cli: Mapping[str, object] | None = None, *, environ: Mapping[str, str] | None = None,
                  env_file: str | Path | None = ".env", root: str | Path = ".") -> Settings:
    """Read every source and return validated settings, or raise ConfigError."""
    values, sources = read_values(cli, environ=environ, env_file=env_file, root=root)
    unconfirmed = production_unconfirmed(values, cli)
    if unconfirmed is not None:
        raise unconfirmed
    return build_settings(values, sources)


def production_unconfirmed(values: Mapping[str, object], cli: Mapping[str, object] | None) -> ConfigError | None:
    """target=production without the confirmation flag: real requests with real credentials need a yes."""
    if (values.get("target") or "").strip() == "production" and not (cli or {}).get("confirm_production"):
        return ConfigError("--target production", "posts real requests to DANA's production with real credentials",
                           "add --confirm-production (pytest: --dana-confirm-production) to mean it")
    return None
