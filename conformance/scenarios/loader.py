"""Load scenario files: YAML with line marks -> schema validation -> whole-file rules.

Every problem becomes a ``LoadError`` naming file, line and field with a snippet and a caret;
``ScenarioFileError`` carries all of a file's problems (a broken file fails only itself).
"""

from __future__ import annotations

import hashlib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from conformance.scenarios import expressions, kinds, parsecache, schema
from conformance.scenarios.yamlsource import LocatedDict, Source, YamlSyntaxError, format_path, load_yaml



@dataclass
class LoadError:
    file: str
    line: int
    column: int
    field: str
    message: str
    snippet: str = ""

    def __str__(self) -> str:
        where = f"field '{self.field}': " if self.field else ""
        head = f"{self.file}:{self.line}: {where}{self.message}"
        return f"{head}\n{self.snippet}" if self.snippet else head


class ScenarioFileError(Exception):
    def __init__(self, errors: list[LoadError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class LoadedScenario:
    scenario: schema.Scenario
    line: int
    file: "LoadedFile" = field(repr=False, default=None)

    @property
    def id(self) -> str:
        return self.scenario.id


@dataclass
class LoadedFile:
    path: Path
    display: str
    model: schema.ScenarioFile
    source: Source = field(repr=False)
    scenarios: list[LoadedScenario] = field(default_factory=list)

    @property
    def api(self) -> str:
        return self.model.api


def _strip_tags(loc: tuple) -> tuple:
    """Drop pydantic's union tag that follows ``steps, <index>``."""
    out: list = []
    for i, part in enumerate(loc):
        if part in kinds.KINDS and i >= 2 and loc[i - 2] == "steps" and isinstance(loc[i - 1], int):
            if i + 1 < len(loc):   # the tag; the last part is the field itself (e.g. 'call')
                continue
        out.append(part)
    return tuple(out)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The schema model that holds the field at ``loc`` (a raw pydantic location)."""
    tp: Any = schema.ScenarioFile
    for part in loc[:-1]:
        tp = _unwrap(tp)
        if isinstance(part, str) and part in kinds.KINDS and typing.get_origin(tp) is typing.Union:
            tp = kinds.KINDS[part].model
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                return None
            tp = tp.model_fields[part].annotation
        elif typing.get_origin(tp) in (list, dict):
            tp = typing.get_args(tp)[-1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _message(err: dict) -> str:
    kind, loc = err["type"], err["loc"]
    last = loc[-1] if loc else ""
    if kind == "missing":
        if last in ("status", "responseCode") and "expect" in loc:
            return ("is required: every call step asserts status and responseCode "
                    "(a scenario that cannot fail is a defect)")
        if last == "expect":
            return ("is required: a call step needs expect with at least status and responseCode, "
                    "e.g. expect: {status: 200, responseCode: \"2005400\"}")
        return "is required"
    if kind == "extra_forbidden":
        if last in kinds.KINDS:
            return f"a step has exactly one action, but this one also has {last!r}"
        model = _model_at(loc)
        known = f" (known: {', '.join(model.model_fields)})" if model else ""
        return f"is not a known field{known}"
    if kind == "step_kind":
        return err["msg"]
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    msg = err["msg"]
    return msg[:1].lower() + msg[1:]


def _walk_strings(value: Any, path: tuple):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and "${" in k:
                yield path + (k,), k
            yield from _walk_strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_strings(v, path + (i,))


def _walk_matchers(value: Any, path: tuple, *, request: bool = False):
    """Yield (path, message) for every malformed matcher under ``value``."""
    if isinstance(value, dict):
        dollar = [k for k in value if isinstance(k, str) and k.startswith("$")]
        if dollar:
            if request:
                if value != {"$absent": True}:
                    yield path, "in a request only {$absent: true} is allowed (it removes a default field)"
                return
            if len(value) != 1 or dollar[0] not in schema.MATCHERS:
                yield path, (f"a matcher has exactly one of {', '.join(schema.MATCHERS)}; "
                             f"got {', '.join(map(str, value))}")
                return
            key, arg = dollar[0], value[dollar[0]]
            if key == "$regex":
                try:
                    re.compile(str(arg))
                except re.error as exc:
                    yield path + (key,), f"is not a valid regular expression ({exc})"
            elif key in ("$any", "$absent") and arg is not True:
                yield path + (key,), f"write {key}: true"
            elif key == "$type" and arg not in schema.TYPE_NAMES:
                yield path + (key,), f"unknown type {arg!r}; use one of {', '.join(schema.TYPE_NAMES)}"
            return
        for k, v in value.items():
            yield from _walk_matchers(v, path + (k,), request=request)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_matchers(v, path + (i,), request=request)


def _file_rules(raw: LocatedDict, model: schema.ScenarioFile) -> list[tuple[tuple, str]]:
    """Rules that need the whole file: expressions, matchers, saves, unique ids."""
    problems: list[tuple[tuple, str]] = []
    defaults = raw.get("defaults") or {}
    for path, text in _walk_strings(defaults, ("defaults",)):
        for inner in expressions.find(text):
            try:
                expressions.check(inner, frozenset())
            except expressions.ExpressionError as exc:
                problems.append((path, str(exc)))
    problems += [(p, m) for p, m in _walk_matchers(defaults, ("defaults",), request=True)]

    seen: dict[str, int] = {}
    for i, (sc_raw, sc) in enumerate(zip(raw["scenarios"], model.scenarios)):
        base = ("scenarios", i)
        if sc.id in seen:
            problems.append((base + ("id",), f"duplicate id {sc.id!r} (also scenarios[{seen[sc.id]}])"))
        seen.setdefault(sc.id, i)
        saved: set[str] = set()
        for j, (st_raw, st) in enumerate(zip(sc_raw["steps"], sc.steps)):
            sp = base + ("steps", j)
            kind = kinds.of(st)
            walk = {k: v for k, v in st_raw.items() if not (k == "save" and kind.saves is not kinds.EXPRESSIONS)}
            for path, text in _walk_strings(walk, sp):
                for inner in expressions.find(text):
                    try:
                        expressions.check(inner, frozenset(saved))
                    except expressions.ExpressionError as exc:
                        problems.append((path, str(exc)))
            for key in kind.templates:
                problems += _walk_matchers(st_raw.get(key, {}), sp + (key,), request=True)
            for key in kind.matchers:
                if key in st_raw:
                    problems += _walk_matchers(st_raw[key], sp + (key,))
            for name, src in (getattr(st, "save", None) or {}).items():
                spath = sp + ("save", name)
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in expressions.RESERVED:
                    problems.append((spath, f"cannot save under {name!r}: use an identifier that is not one of "
                                     f"{', '.join(sorted(expressions.RESERVED))}"))
                elif kind.saves is not kinds.EXPRESSIONS and not kind.accepts_source(src):
                    problems.append((spath, f"{src!r} is not a source of {kind.name} steps; use one of "
                                     f"{', '.join(kind.saves)}"))
                saved.add(name)
            saved.update(kind.auto_saved)
        if not any(kinds.of(st).asserts(st) for st in sc.steps):
            problems.append((base + ("steps",), "no step asserts an HTTP status and responseCode: add a call "
                             "step with expect (or a notify send); a scenario that cannot fail "
                             "is a defect"))
    return problems


FILE_KEYS = ("api", "defaults", "scenarios")


def is_data_file(source: Source) -> bool:
    """A YAML mapping with none of api/defaults/scenarios is a data file kept beside the catalogue
    (e.g. scenarios/reference-index.yaml), not a scenario file: it is skipped, not reported."""
    data = source.data
    return isinstance(data, dict) and bool(data) and not any(k in data for k in FILE_KEYS)


_LOADED: dict[tuple, LoadedFile | None] = {}


def load_file(path: Path, display: str | None = None, text: str | None = None) -> LoadedFile | None:
    """Load and validate one scenario file, or raise ScenarioFileError with every problem found.

    Returns None for a data file (see ``is_data_file``). A file loaded well is remembered while its text and the
    registered step kinds stay the same: collection loads the catalogue, and the run's summary counts against the
    same catalogue at the end (reading and hashing a file costs a fraction of parsing it).
    """
    display = display or str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return _load(path, display, None)          # says it cannot be read
    key = (str(Path(path).resolve()), display, hashlib.sha256(text.encode()).digest(), tuple(kinds.KINDS))
    if key not in _LOADED:
        _LOADED[key] = _load(path, display, text)
    return _LOADED[key]


def _parse(path: Path, text: str | None) -> Source:
    """The located data of the file: from the parse cache when an earlier process parsed this text."""
    if text is not None and (cached := parsecache.read(path, text)) is not None:
        source = Source(Path(path), text)
        source.data = cached
        return source
    source = load_yaml(path, text)
    parsecache.write(path, source.text, source.data)
    return source


def _load(path: Path, display: str, text: str | None) -> LoadedFile | None:
    try:
        source = _parse(path, text)
    except YamlSyntaxError as exc:
        src = Source(Path(path), text if text is not None else Path(path).read_text(encoding="utf-8"))
        raise ScenarioFileError([LoadError(display, exc.line, exc.column, "", exc.message,
                                           src.snippet(exc.line, exc.column))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError([LoadError(display, 1, 1, "", f"cannot be read ({exc})")]) from None

    def err(loc: tuple, message: str) -> LoadError:
        line, col = source.locate(loc)
        return LoadError(display, line, col, format_path(loc) if loc else "", message, source.snippet(line, col))

    if source.data is None:
        raise ScenarioFileError([err((), "the file is empty; a scenario file has api, defaults and scenarios")])
    if not isinstance(source.data, dict):
        raise ScenarioFileError([err((), "a scenario file is a mapping with api, defaults and scenarios")])
    if is_data_file(source):
        return None
    try:
        model = schema.ScenarioFile.model_validate(source.data)
    except ValidationError as exc:
        errors = [err(_strip_tags(e["loc"]), _message(e)) for e in exc.errors()]
        raise ScenarioFileError(sorted(errors, key=lambda e: (e.line, e.column))) from None
    problems = _file_rules(source.data, model)
    if problems:
        raise ScenarioFileError(sorted((err(p, m) for p, m in problems), key=lambda e: (e.line, e.column)))
    loaded = LoadedFile(Path(path), display, model, source)
    for i, sc in enumerate(model.scenarios):
        loaded.scenarios.append(LoadedScenario(sc, source.locate(("scenarios", i))[0], loaded))
    return loaded


def find_files(root: Path) -> list[Path]:
    """Scenario files under ``root``: ``**/*.yaml`` and ``**/*.yml``, sorted."""
    return sorted(p for p in Path(root).rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
