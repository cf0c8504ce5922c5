"""The parsed form of scenario files, kept between processes, as Python keeps bytecode.

The located YAML loader is pure Python (its depth bound and line marks work in PyYAML's Python composer): parsing the
catalogue cost about 0.2 s of every `dana-uat run`, every xdist worker and every pytest collection
(bench/run.py: collection 0.96 s without the cache, 0.77 s with it). A file parsed well is written to the cache
as JSON, one entry per file path (the cache grows with the number of files, not of edits), stamped with the
hash of its text and of the parser's own source: an edited file or a changed parser parses afresh. A file that
fails to parse is never cached (its error is worked out each time). The cache only accelerates: a missing,
unwritable or corrupt cache means parsing again.

Where: ``DANA_UAT_CACHE_DIR`` if set (``off`` turns the cache off), else ``$XDG_CACHE_HOME/dana-uat``,
else ``~/.cache/dana-uat``. Scenario files hold no secrets (they name them as ``${...}``); deleting the
folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import yaml

from conformance.scenarios import yamlsource
from conformance.scenarios.yamlsource import LocatedDict, LocatedList

OFF = "off"
SCALARS = (str, int, float, bool, type(None))


class Uncacheable(Exception):
    """A value JSON cannot hold as it is (bytes, a date, a set from an explicit tag): parse it each time."""


def cache_dir() -> Path | None:
    configured = os.environ.get("DANA_UAT_CACHE_DIR", "")
    if configured == OFF:
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dana-uat"


@lru_cache(maxsize=1)
def _parser_id() -> bytes:
    """What the parsed form depends on besides the text: the located loader's source and PyYAML's version."""
    return Path(yamlsource.__file__).read_bytes() + yaml.__version__.encode()


def _entry(path: Path) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / "scenarios" / f"{hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()}.json"


def _stamp(text: str) -> str:
    return hashlib.sha256(_parser_id() + b"\0" + text.encode()).hexdigest()


def encode(value):
    """Located data as JSON: a mapping is {"m": [[key, value, line, col], ...], "at": [line, col]}, a
    sequence {"s": [[value, line, col], ...], "at": [line, col]}, a scalar itself."""
    if isinstance(value, LocatedDict):
        return {"m": [[k, encode(v), *value.marks[k]] for k, v in value.items()], "at": list(value.start)}
    if isinstance(value, LocatedList):
        return {"s": [[encode(v), *mark] for v, mark in zip(value, value.marks)], "at": list(value.start)}
    if type(value) in SCALARS:
        return value
    raise Uncacheable(type(value).__name__)


def decode(value):
    if not isinstance(value, dict):
        return value
    if "m" in value:
        out = LocatedDict((k, decode(v)) for k, v, _, _ in value["m"])
        out.marks = {k: (line, col) for k, _, line, col in value["m"]}
    else:
        out = LocatedList(decode(v) for v, _, _ in value["s"])
        out.marks = [(line, col) for _, line, col in value["s"]]
    out.start = tuple(value["at"])
    return out


def read(path: Path, text: str):
    """The cached parse of the file at ``path`` holding ``text``, or None when there is none usable."""
    entry = _entry(path)
    if entry is None:
        return None
    try:
        kept = json.loads(entry.read_text(encoding="utf-8"))
        return decode(kept["data"]) if kept["stamp"] == _stamp(text) else None
    except (OSError, ValueError, KeyError, TypeError):      # absent, unreadable or corrupt: parse again
        return None


def write(path: Path, text: str, data) -> None:
    entry = _entry(path)
    if entry is None or data is None:
        return
    try:
        encoded = json.dumps({"stamp": _stamp(text), "data": encode(data)}, ensure_ascii=False, allow_nan=True)
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
    except (Uncacheable, OSError, ValueError):
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(encoded)
        os.replace(tmp, entry)                # atomic: a reader in another process sees all or nothing
    except OSError:
        Path(tmp).unlink(missing_ok=True)
