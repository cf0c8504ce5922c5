"""The failure excerpt: a short, already redacted view of what the failing step itself recorded.

Each recorded event carries the index of the step that recorded it, so a failing notify step shows its
own delivery, never an earlier step's HTTP exchange. One formatter per event type; others print as JSON.
"""

from __future__ import annotations

import json
from typing import Any

LIMIT = 1200


def for_step(events: list[dict], index: int) -> str:
    return "\n".join(FORMATS.get(e["type"], _other)(e) for e in events if e.get("step") == index)


def http(record: dict) -> str:
    req, resp = record["request"], record.get("response")
    lines = [f"{req['method']} {req['url']}"]
    if record.get("tamper"):
        lines.append(f"  tamper: {json.dumps(record['tamper'], ensure_ascii=False)}")
    lines += _signed_headers(req["headers"])
    lines.append("  body: " + _body(req.get("body")))
    if resp is None:
        lines.append(f"-> no response: {record.get('error')}")
    else:
        lines.append(f"-> HTTP {resp['status']} ({record.get('elapsedMs')} ms)")
        lines.append("  body: " + _body(resp.get("body")))
    return "\n".join(lines)


def notification(record: dict) -> str:
    """A Finish Notify: received at the suite's receiver (DANA -> merchant) or sent as DANA."""
    sent = record["type"] == "notification-sent"
    lines = [f"Finish Notify {'sent to' if sent else 'received at'} {record.get('url') or record.get('path')}"]
    lines += _signed_headers(record.get("headers") or {})
    lines.append("  body: " + _body(record.get("body")))
    answer = record.get("answeredStatus")
    lines.append(f"-> answered HTTP {answer}" if answer is not None else f"-> no answer: {record.get('error')}")
    if record.get("answeredBody") is not None:
        lines.append("  body: " + _body(record["answeredBody"]))
    return "\n".join(lines)


def _other(record: dict) -> str:
    data = {k: v for k, v in record.items() if k not in ("type", "step", "at")}
    return f"{record['type']}: " + _short(data)


FORMATS = {"http": http, "notification": notification, "notification-sent": notification}


def _signed_headers(headers: dict) -> list[str]:
    return [f"  {name}: " + next((v for k, v in headers.items() if k.lower() == name.lower()), "(not sent)")
            for name in ("X-TIMESTAMP", "X-SIGNATURE")]


def _body(body: Any) -> str:
    if isinstance(body, dict) and ("json" in body or "text" in body):   # the recorder's redacted body
        body = body.get("json", body.get("text"))
    return _short(body)


def _short(value: Any, limit: int = LIMIT // 2) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + " ..."
