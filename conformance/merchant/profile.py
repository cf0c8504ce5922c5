"""The merchant profile (``dana-uat.merchant.yaml``): how the suite drives the merchant's own backend.

It names entry points only. The merchant's redirect URL and notify URL are read from what the backend
actually sends (the bind URL, the payment's urlParams); where the profile also names them, they are
cross-checked. A wrong profile is a configuration error with file:line (exit 2), like a scenario file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from conformance.scenarios.yamlsource import Source, YamlSyntaxError, format_path, load_yaml

ENV_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
PLACEHOLDER = re.compile(r"\{(amount|phone|partnerReferenceNo)\}")


class ProfileError(Exception):
    """The profile cannot be used; every problem with file:line (exit code 2)."""

    def __init__(self, errors: list):     # loader.LoadError
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpRequest(Strict):
    method: Literal["GET", "POST"] = Field("GET", description="HTTP method.")
    path: str = Field(..., description="Path (and query) on base_url; {amount}, {phone} and "
                      "{partnerReferenceNo} are filled in.", json_schema_extra={"pattern": "^/"})   # _path
    json_body: dict | None = Field(None, alias="json", description="JSON body for POST (placeholders filled in).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers, e.g. a staging API key.")

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError(f"must start with '/', got {v!r}")
        return v


class PageClick(Strict):
    url: str = Field(..., description="A merchant page (absolute, or a path on base_url).")
    click: str = Field(..., description="CSS selector of the button that starts the binding.")


class Bind(Strict):
    model_config = ConfigDict(json_schema_extra={"oneOf": [     # _one, for editors (json_schema below)
        {"required": [name], "properties": {name: {"type": "object"}}} for name in ("request", "page")]})

    request: HttpRequest | None = Field(None, description="Answer: a redirect to the bind URL, or JSON with it.")
    page: PageClick | None = Field(None, description="Or: open a page in the browser and click.")
    url_field: str = Field("bindUrl", description="JSON field of the answer holding the bind URL.")

    @model_validator(mode="after")
    def _one(self):
        if (self.request is None) == (self.page is None):
            raise ValueError("give exactly one of request or page")
        return self


class Pay(Strict):
    request: HttpRequest = Field(..., description="Starts a payment of {amount}; answers with a redirect to "
                                 "the checkout URL or JSON with it.")
    url_field: str = Field("checkoutUrl", description="JSON field holding the checkout URL.")
    reference_field: str | None = Field("partnerReferenceNo", description="JSON field holding the order's "
                                        "partnerReferenceNo (else it is read from the traffic journal).")

    @field_validator("request")
    @classmethod
    def _amount(cls, v: HttpRequest) -> HttpRequest:
        if "{amount}" not in v.path + str(v.json_body or ""):
            raise ValueError("must carry {amount} in path or json, so magic amounts can be used")
        return v


class Status(Strict):
    request: HttpRequest = Field(..., description="The merchant's own view of order {partnerReferenceNo}.")
    field: str = Field("status", description="JSON field holding the order's state.")
    paid: str = Field("PAID", description="Its value once paid.")


class Trigger(Strict):
    request: HttpRequest = Field(..., description="Asks the merchant to refund or cancel {partnerReferenceNo}.")


# Profile._url for editors: an absolute http(s) URL, unless ${VAR} makes it (the environment decides)
URL_SCHEMA = {"pattern": r"^https?://[^/\s]|\$\{[A-Z][A-Z0-9_]*\}"}


class Profile(Strict):
    base_url: str = Field(..., description="Where the merchant's backend is reachable; ${VAR} reads the "
                          "environment.", json_schema_extra=URL_SCHEMA)
    bind: Bind
    pay: Pay
    status: Status | None = Field(None, description="Optional: without it the effect checks WARN.")
    refund: Trigger | None = None
    cancel: Trigger | None = None
    redirect_url: str | None = Field(None, description="Cross-checked against the bind URL's redirectUrl.",
                                     json_schema_extra=URL_SCHEMA)
    notify_url: str | None = Field(None, description="Cross-checked against the payment's NOTIFICATION url.",
                                   json_schema_extra=URL_SCHEMA)
    phone: str | None = Field(None, description="Test user for {phone} (default: the settings' phone).")
    timeout: float = Field(15, gt=0, le=120, description="Seconds to wait for the merchant at most.")

    @field_validator("base_url", "redirect_url", "notify_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        missing = [n for n in ENV_VAR.findall(v) if not os.environ.get(n)]
        if missing:
            raise ValueError(f"environment variable {missing[0]} is not set")
        v = ENV_VAR.sub(lambda m: os.environ[m.group(1)], v)
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError(f"must be an absolute http(s) URL, got {v!r}")
        return v.rstrip("/")

    def url(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else self.base_url + path_or_url


def json_schema() -> dict:
    """The JSON Schema of ``dana-uat.merchant.yaml`` for editors (``dana-uat schema merchant-profile``),
    generated from ``Profile``."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "dana-uat merchant profile",
            **Profile.model_json_schema(by_alias=True)}


def fill(value, values: dict):
    """Fill {amount}/{phone}/{partnerReferenceNo} into strings of a request part."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    return value


def load_profile(path: str | Path, display: str | None = None) -> Profile:
    from conformance.scenarios.loader import LoadError, _message   # the scenario loader's error shapes

    display = display or str(path)
    try:
        source = load_yaml(Path(path))
    except YamlSyntaxError as exc:
        raise ProfileError([LoadError(display, exc.line, exc.column, "", exc.message)]) from None
    except OSError as exc:
        raise ProfileError([LoadError(display, 1, 1, "", f"cannot be read ({exc.strerror or exc})")]) from None
    if not isinstance(source.data, dict):
        raise ProfileError([_err(source, display, (), "a merchant profile is a mapping with base_url, bind, pay")])
    try:
        return Profile.model_validate(source.data)
    except ValidationError as exc:
        errors = [_err(source, display, tuple(p for p in e["loc"] if not str(p).startswith("function-")),
                       _message(e)) for e in exc.errors()]
        raise ProfileError(sorted(errors, key=lambda e: (e.line, e.column))) from None


def _err(source: Source, display: str, loc: tuple, message: str):
    from conformance.scenarios.loader import LoadError

    line, col = source.locate(loc)
    return LoadError(display, line, col, format_path(loc) if loc else "", message, source.snippet(line, col))
