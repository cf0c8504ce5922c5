"""Drive the merchant's backend through its profile: start a binding, start a payment, read an order,
deliver a callback or a Finish Notify. Every exchange is recorded; a merchant that does not answer
raises MerchantUnreachable naming the URL and the bound waited.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from conformance.config.tls import trust
from conformance.merchant.profile import Profile, fill


class MerchantUnreachable(Exception):
    """The merchant's backend did not answer within the profile's timeout."""


class MerchantAnswerError(Exception):
    """One of the profile's endpoints answered what it cannot mean: HTML or text where JSON is expected, a
    redirect loop, a redirect without Location. The message names the endpoint."""


REDIRECTS = (301, 302, 303, 307, 308)
MAX_OWN_HOPS = 5      # redirects within the merchant's own site (a login page, a trailing slash) followed at most


POLL = 0.1     # seconds between connection attempts while the backend starts


def wait_listening(base_url: str, bound: float, on_wait: Callable[[], None] = lambda: None) -> bool:
    """Whether something accepts TCP connections at ``base_url``'s host and port within ``bound`` seconds.

    A backend started in the background just before the run (`uvicorn app &`, as examples/merchant shows) may
    still be importing its SDK. A refused connection is tried again until the bound (``on_wait`` is called once,
    at the first refusal); an accepted one is enough, whether the backend then answers is the scenarios' to see.
    """
    parts = urlsplit(base_url)
    address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    deadline, waited = time.monotonic() + bound, False
    while True:
        try:
            with socket.create_connection(address, timeout=max(0.1, min(2.0, deadline - time.monotonic()))):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            if not waited:
                on_wait()
                waited = True
            # Another process starting to listen sends us no event: trying to connect again is the only way to
            # see it, so this pause is the poll interval of the bounded wait, not a wait to be safe.
            time.sleep(POLL)


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    def code(self) -> str | None:
        body = self.json
        return body.get("responseCode") if isinstance(body, dict) else None


class MerchantDriver:
    def __init__(self, profile: Profile, recorder=None):
        self.profile = profile
        self.recorder = recorder
        self._http = httpx.Client(timeout=profile.timeout, follow_redirects=False, verify=trust())

    def close(self) -> None:
        self._http.close()

    def send(self, method: str, url: str, *, what: str, json_body=None, content: bytes | None = None,
             headers: dict | None = None, params: dict | None = None) -> Answer:
        try:
            response = self._http.request(method, url, json=json_body, content=content, headers=headers,
                                          params=params)
        except httpx.TimeoutException:
            raise MerchantUnreachable(f"the merchant did not answer {what} at {url} within "
                                      f"{self.profile.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise MerchantUnreachable(f"the merchant could not be reached for {what} at {url} ({exc})") from None
        answer = Answer(str(response.request.url), response.status_code,
                        {k.lower(): v for k, v in response.headers.items()}, response.text)
        if self.recorder is not None:
            self.recorder.event("merchant", action=what, method=method, url=self.recorder.redactor.url(answer.url),
                                requestHeaders=self.recorder.redactor.headers(headers or {}),
                                status=answer.status, answer=self.recorder.redactor.body(answer.text[:4000]))
        return answer

    def call(self, request, values: dict, what: str) -> Answer:
        """One of the profile's requests, placeholders filled in."""
        return self._profile_request(request, values, what)

    def _profile_request(self, request, values: dict, what: str) -> Answer:
        path = fill(request.path, values)
        body = fill(request.json_body, values) if request.json_body is not None else None
        return self.send(request.method, self.profile.url(path), what=what, json_body=body,
                         headers=request.headers or None)

    def _off_site(self, answer: Answer, what: str) -> Answer:
        """Follow the merchant's redirects within its own site (bounded) to the one that leaves it; a loop or a
        redirect without Location is a MerchantAnswerError naming the endpoint."""
        own, seen = urlsplit(self.profile.base_url).netloc, [answer.url]
        while answer.status in REDIRECTS:
            if not answer.location:
                raise MerchantAnswerError(f"{what}: {seen[0]} answered HTTP {answer.status} without a Location")
            target = urljoin(answer.url, answer.location)
            if urlsplit(target).netloc != own:
                return Answer(answer.url, answer.status, {**answer.headers, "location": target}, answer.text)
            if target in seen or len(seen) > MAX_OWN_HOPS:
                raise MerchantAnswerError(f"{what}: {seen[0]} redirects in a loop ({' -> '.join(seen + [target])})")
            seen.append(target)
            answer = self.send("GET", target, what=what)
        return answer

    def _url_from(self, answer: Answer, field: str, what: str) -> str | None:
        answer = self._off_site(answer, what)
        if answer.status in REDIRECTS:
            return answer.location
        body = answer.json
        if not isinstance(body, dict) and 200 <= answer.status < 300:
            kind = answer.headers.get("content-type", "no Content-Type").split(";")[0]
            raise MerchantAnswerError(f"{what}: {answer.url} answered HTTP {answer.status} {kind} "
                                      f"({answer.text[:80]!r}) where a redirect or JSON with {field!r} is expected")
        return body.get(field) if isinstance(body, dict) else None

    def start_bind(self, phone: str) -> tuple[str | None, Answer]:
        answer = self._profile_request(self.profile.bind.request, {"phone": phone}, "start a binding")
        return self._url_from(answer, self.profile.bind.url_field, "start a binding"), answer

    def start_pay(self, amount: str) -> tuple[str | None, str | None, Answer]:
        pay = self.profile.pay
        answer = self._profile_request(pay.request, {"amount": amount}, "start a payment")
        checkout = self._url_from(answer, pay.url_field, "start a payment")
        body = answer.json if isinstance(answer.json, dict) else {}
        ref = body.get(pay.reference_field) if pay.reference_field else None
        return checkout, ref, answer

    def order_state(self, ref: str) -> tuple[Answer, Any] | None:
        """The merchant's own view of ``ref`` (None without a status endpoint)."""
        if self.profile.status is None:
            return None
        answer = self._off_site(self._profile_request(self.profile.status.request, {"partnerReferenceNo": ref},
                                                      "read the order"), "read the order")
        body = answer.json
        if not isinstance(body, dict) and 200 <= answer.status < 300:
            raise MerchantAnswerError(f"read the order: {answer.url} answered HTTP {answer.status} "
                                      f"{answer.headers.get('content-type', 'no Content-Type').split(';')[0]} where "
                                      f"JSON with {self.profile.status.field!r} is expected")
        return answer, body.get(self.profile.status.field) if isinstance(body, dict) else None
