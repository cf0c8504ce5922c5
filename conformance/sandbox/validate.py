"""Body validation against the data schemas of ``conformance.snap.schemas``.

``check(schema, body)`` walks the schema in declared order and returns the first problem as
``Problem(case, field)``: case ``"02"`` for a missing mandatory field (400xx02 "Invalid Mandatory
Field <field>"), ``"01"`` for a wrong type, length, pattern or enum value (400xx01 "Invalid Field
Format <field>"). It never raises on odd input: any JSON value is just data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from conformance.snap.schemas import Field

_TYPES = {"string": str, "object": dict, "array": list, "boolean": bool}


@dataclass(frozen=True)
class Problem:
    case: str       # "01" format, "02" mandatory
    field: str      # name for the message


@lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _name(spec: Field, path: str) -> str:
    return spec.label or path


def _check_value(spec: Field, value: object, path: str) -> Problem | None:
    if spec.type == "string" and spec.numeric:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not value.isdigit() or not value.isascii():
            return Problem("01", _name(spec, path))
    expected = _TYPES.get(spec.type)
    if expected is not None and not isinstance(value, expected):
        return Problem("01", _name(spec, path))
    if spec.type == "string":
        if spec.max_len is not None and len(value) > spec.max_len:
            return Problem("01", _name(spec, path))
        if spec.pattern and value and not _regex(spec.pattern).match(value):
            return Problem("01", _name(spec, path))
        if spec.enum and value and value not in spec.enum:
            return Problem("01", _name(spec, path))
    elif spec.type == "object" and spec.fields is not None:
        return check(spec, value, path)
    elif spec.type == "array" and spec.items is not None:
        for index, item in enumerate(value):
            problem = _check_value(spec.items, item, f"{path}[{index}]")
            if problem:
                # Array items report the array's name ("userResources"), like DANA.
                return Problem(problem.case, spec.label or problem.field)
    return None


def _missing(spec: Field, value: object) -> bool:
    if value is None:
        return True
    return spec.type == "string" and value == "" and not spec.allow_empty


def check(schema: Field, body: object, prefix: str = "") -> Problem | None:
    """First problem of ``body`` against the object ``schema``, or None when it conforms."""
    if not isinstance(body, dict):
        return Problem("01", prefix or "body")
    for name, spec in (schema.fields or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        value = body.get(name)
        if _missing(spec, value):
            if spec.required:
                return Problem("02", _name(spec, path))
            continue
        problem = _check_value(spec, value, path)
        if problem:
            return problem
    return None


MAX_DEPTH = 32          # Widget bodies nest 4 deep; deeper ones are refused before any handler (pipeline.py)


def shape_problem(body: object, max_depth: int) -> tuple[str, str] | None:
    """("depth", path) past ``max_depth`` or ("text", path) for a lone surrogate, walking iteratively.

    Both must be refused here, before any state: a deep body broke recursive code further on (500
    from fingerprinting), and a surrogate cannot be encoded in the answer or in the pages.
    """
    stack = [(body, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > max_depth:
            return "depth", path
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            child = f"{path}[{key}]" if isinstance(node, list) else f"{path}.{key}" if path else key
            if not _encodable(str(key)) or isinstance(value, str) and not _encodable(value):
                return "text", child
            if isinstance(value, (dict, list)):
                stack.append((value, child, depth + 1))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
