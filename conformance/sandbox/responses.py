"""Responses whose encoding cannot fail, and body reads bounded in size and time.

A JSON string may carry a lone surrogate (``"\\ud800"``), which is no UTF-8 character: a plain
``str.encode("utf-8")`` raises, and did so after an order was stored, so every later page or query
naming that order answered 500. Here such a character leaves as its JSON escape (backslashreplace
gives exactly ``\\ud800``, and surrogates only occur inside string literals) or, in HTML, as U+FFFD.
"""

from __future__ import annotations

import asyncio
import json

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse

BODY_TIMEOUT = 10.0     # seconds to receive a whole body; a client that stalls mid-body is cut off


def json_bytes(content: object) -> bytes:
    text = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace")


class SafeJSONResponse(JSONResponse):
    def render(self, content: object) -> bytes:
        return json_bytes(content)


class SafeHTMLResponse(HTMLResponse):
    def render(self, content: object) -> bytes:
        return content.encode("utf-8", "replace") if isinstance(content, str) else bytes(content or b"")


class BodyProblem(Exception):
    """The body could not be read: too large, too slow, or the client went away."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


async def read_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The whole body, or BodyProblem; ``timeout`` (default BODY_TIMEOUT) bounds the whole read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyProblem("Body too large")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT if timeout is None else timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyProblem("Body too large")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyProblem("Body read timed out") from None
    except ClientDisconnect:
        raise BodyProblem("Client disconnected") from None
    return b"".join(chunks)
