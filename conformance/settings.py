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
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from conformance.snap import keys

SANDBOX_API = "https://api.sandbox.dana.id"
SANDBOX_WEB = "https://m.sandbox.dana.id"
PRODUCTION_API = "https://api.saas.dana.id"
PRODUCTION_WEB = "https://m.dana.id"

# DANA's sandbox gateway key, identical in the Python, Node and Go SDKs ([sdk-webhook]).
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
    """One line for people: which setting, what is wrong, how to fix it. Exit code 2."""

    def __init__(self, name: str, problem: str, fix: str):
        self.name, self.problem, self.fix = name, problem, fix
        super().__init__(f"{name}: {problem}; {fix}")


@dataclass(frozen=True)
class Option:
    key: str                    # attribute name, also the [tool.dana-uat] key
    env: tuple[str, ...]        # environment variable names, first wins
    default: str | None
    help: str


# One row per setting: the settings loader reads this table, and the pytest plugin its defaults.
OPTIONS: tuple[Option, ...] = (
    Option("target", ("DANA_UAT_TARGET",), "embedded",
           "embedded (default), sandbox (DANA's real sandbox) or the URL of a running `dana-uat sandbox`"),
    Option("partner_id", ("X_PARTNER_ID",), None, "partnerId = clientId (X-PARTNER-ID, X-CLIENT-KEY)"),
    Option("merchant_id", ("MERCHANT_ID",), None, "merchantId in bodies and bind URLs"),
    Option("private_key", ("PRIVATE_KEY",), None, "merchant RSA private key (PEM, escaped \\n or bare Base64)"),
    Option("private_key_path", ("PRIVATE_KEY_PATH",), None, "file with the merchant private key; wins over PRIVATE_KEY"),
    Option("origin", ("ORIGIN",), "https://merchant.example", "merchant origin sent in ORIGIN"),
    Option("client_secret", ("CLIENT_SECRET",), None, "client secret (Open API only); always redacted"),
    Option("dana_public_key", ("DANA_PUBLIC_KEY",), None, "DANA gateway public key for Finish Notify"),
    Option("dana_public_key_path", ("DANA_PUBLIC_KEY_PATH",), None, "file with DANA's gateway public key"),
    Option("env", ("DANA_ENV", "ENV"), "sandbox", "sandbox or production (host choice for target=sandbox)"),
    Option("redirect_url_oauth", ("REDIRECT_URL_OAUTH",), None,
           "merchant OAuth redirect URL; default: the suite's own loopback receiver"),
    Option("notify_url", ("DANA_UAT_NOTIFY_URL",), None,
           "merchant Finish Notify URL to grade; default: the suite's own receiver"),
    Option("channel_id", ("CHANNEL_ID",), "95221", "CHANNEL-ID header value"),
    Option("report_dir", ("DANA_UAT_REPORT_DIR",), "reports", "where evidence and reports are written"),
    Option("scenario_dir", ("DANA_UAT_SCENARIOS",), "scenarios", "where the YAML catalogue is collected from"),
    Option("chromium", ("DANA_UAT_CHROMIUM", "CHROMIUM_PATH"), None, "path of the Chromium to drive"),
    Option("phone", ("DANA_UAT_PHONE",), "083811223355", "DANA test user's phone for bind and checkout"),
    Option("pin", ("DANA_UAT_PIN",), "181818", "DANA test user's PIN"),
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

    @property
    def is_embedded(self) -> bool:
        return self.target == "embedded"

    @property
    def api_base(self) -> str | None:
        """Base URL of DANA's API for remote targets; None for embedded (known once started)."""
        if self.target == "sandbox":
            return PRODUCTION_API if self.env == "production" else SANDBOX_API
        if self.target.startswith(("http://", "https://")):
            return self.target.rstrip("/")
        return None

    @property
    def web_base(self) -> str | None:
        if self.target == "sandbox":
            return PRODUCTION_WEB if self.env == "production" else SANDBOX_WEB
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


def _check(name: str, value: str | None, rule: Callable[[str], bool], problem: str, fix: str) -> None:
    if value is not None and not rule(value):
        raise ConfigError(name, problem.format(value=value), fix)


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


def build_settings(values: dict[str, str | None], sources: dict[str, str]) -> Settings:
    target = (values["target"] or "embedded").strip()
    if target not in ("embedded", "sandbox") and not re.match(r"^https?://[^/\s]+", target):
        raise ConfigError("DANA_UAT_TARGET (--dana-target)", f"{target!r} is not a target",
                          "use embedded, sandbox, or the http(s) URL of a running `dana-uat sandbox`")
    env = (values["env"] or "sandbox").lower()
    if env not in ("sandbox", "production"):
        raise ConfigError("DANA_ENV", f"{env!r} is neither sandbox nor production", "set DANA_ENV=sandbox")

    private_key = _load_key(values, "private_key", "private_key_path",
                            keys.load_private_key, keys.load_private_key_file, "RSA private key")
    partner_id, merchant_id = values["partner_id"], values["merchant_id"]
    throwaway = False
    if target == "sandbox":
        for name, value in (("X_PARTNER_ID", partner_id), ("MERCHANT_ID", merchant_id)):
            if not value:
                raise ConfigError(name, "is not set but target=sandbox needs it",
                                  f"export {name}=... or add it to .env (see README, 'Credentials')")
        if private_key is None:
            raise ConfigError("PRIVATE_KEY", "is not set but target=sandbox needs the merchant key",
                              "set PRIVATE_KEY_PATH to the PEM file, or PRIVATE_KEY to its text, in .env")
    else:
        # Embedded: a throwaway merchant fills whatever is missing, so `make uat` needs no setup.
        throwaway = not (partner_id and merchant_id and private_key)
        partner_id = partner_id or "2026" + _random_digits(18)
        merchant_id = merchant_id or "2166" + _random_digits(17)
        private_key = private_key or keys.generate_private_key()

    _check("X_PARTNER_ID", partner_id, lambda v: 1 <= len(v) <= 36 and v.isprintable() and " " not in v,
           "{value!r} must be 1 to 36 characters without spaces", "copy the clientId from the Merchant Portal")
    _check("MERCHANT_ID", merchant_id, lambda v: 1 <= len(v) <= 64 and " " not in v,
           "{value!r} must be 1 to 64 characters without spaces", "copy the merchant id from the Merchant Portal")
    _check("CHANNEL_ID", values["channel_id"], lambda v: 1 <= len(v) <= 36,
           "{value!r} must be 1 to 36 characters", "unset it to use 95221")
    for name, key in (("ORIGIN", "origin"), ("REDIRECT_URL_OAUTH", "redirect_url_oauth"),
                      ("DANA_UAT_NOTIFY_URL", "notify_url")):
        _check(name, values[key], lambda v: urlsplit(v).scheme in ("http", "https") and bool(urlsplit(v).netloc),
               "{value!r} is not an absolute http(s) URL", "write it as https://host/path")
    _check("DANA_UAT_PIN", values["pin"], lambda v: v.isdigit() and len(v) == 6,
           "{value!r} is not six digits", "unset it to use the sandbox user's PIN 181818")

    dana_public_key = _load_key(values, "dana_public_key", "dana_public_key_path",
                                keys.load_public_key, keys.load_public_key_file, "RSA public key")
    if dana_public_key is None and target == "sandbox" and env == "sandbox":
        dana_public_key = keys.load_public_key(DANA_SANDBOX_PUBLIC_KEY)

    merchant = MerchantCredentials(partner_id=partner_id, merchant_id=merchant_id, private_key=private_key,
                        origin=values["origin"], client_secret=values["client_secret"],
                        channel_id=values["channel_id"], throwaway=throwaway)
    return Settings(target=target, merchant=merchant, env=env, dana_public_key=dana_public_key,
                    redirect_url_oauth=values["redirect_url_oauth"], notify_url=values["notify_url"],
                    report_dir=Path(values["report_dir"]), scenario_dir=Path(values["scenario_dir"]),
                    chromium=values["chromium"], phone=values["phone"], pin=values["pin"],
                    sources=sources)


def load_settings(cli: Mapping[str, object] | None = None, *, environ: Mapping[str, str] | None = None,
                  env_file: str | Path | None = ".env", root: str | Path = ".") -> Settings:
    """Read every source and return validated settings, or raise ConfigError."""
    root = Path(root)
    env_path = None if env_file is None else (root / env_file if not Path(env_file).is_absolute() else Path(env_file))
    if env_file not in (None, ".env") and env_path is not None and not env_path.is_file():
        raise ConfigError("--dana-env-file", f"{env_path} does not exist", "give the path of an existing .env file")
    values, sources = resolve_raw(cli or {}, os.environ if environ is None else environ,
                                  read_env_file(env_path), read_pyproject(root / "pyproject.toml"))
    return build_settings(values, sources)
