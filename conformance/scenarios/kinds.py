"""The step-kind registry: one ``StepKind`` record per kind of step; everything else derives from it.

A record says everything the engine needs to know about a kind:

    name        the YAML key that names the step's action (``- call: ...``); also its label in reports
    model       the step's pydantic model (in schema.py); it has a field named ``name``-the-kind
    runner      ``runner(run, step, where) -> list[Finding]``; raise ``steps.StepSkipped(reason)`` when the
                step cannot run on this target
    saves       the sources ``save:`` may name (``body.<path>``: body and a dotted path; ``headers.<name>``:
                one header), or ``EXPRESSIONS`` when ``save:`` holds values; ``()`` when it saves nothing
    auto_saved  names the runner saves without being asked (later steps may use ``${authCode}``)
    browser     the step drives a browser (the scenario gets the ``browser`` mark)
    browser_if  optional ``browser_if(step, profile) -> bool``, for a ``browser`` kind whose step drives the
                browser only with some options or some merchant profile (``profile``: the run's, or None):
                whether this one will. The run starts Chromium ahead only for scenarios that will (run/state.py)
    alone       the step changes what every other scenario sees (the sandbox's clock) or watches all of the
                target's traffic, so its scenario never runs side by side with another (run/ahead.py)
    alone_if    optional ``alone_if(step, target) -> bool``, for an ``alone`` kind that is so only on some targets
                (``clock`` moves the clock of a sandbox; against DANA it only waits)
    waits_if    optional ``waits_if(step, target) -> bool``: on this target the step waits in real time sending
                nothing (``clock`` against DANA, ``notify`` awaiting DANA's delivery), within ``pace.idle()``, so
                other scenarios use its slot meanwhile
    label       ``label(step) -> str``: a short detail for the step's label ("widget_payment", "+16m")
    asserts     ``asserts(step) -> bool``: the step asserts an HTTP status and responseCode; every scenario
                needs one such step
    matchers    the step's keys whose values may hold matchers (``$regex`` ...), checked at load
    templates   the step's keys holding request templates (only ``{$absent: true}`` allowed), checked at load
    prepare     optional ``prepare(run, step)``, called for every step of the kind before the first step

Derived from the registry: the schema's ``Step`` union (validation and JSON Schema), the loader's rules
(known kinds, save sources, saved names, matchers), the runner's dispatch and labels, the plugin's marks.

Adding a kind (docs/scenarios.md, "Adding a step kind"): write its model (schema.py or your module) and its
runner (its own module), then append one record to ``BUILTIN`` below, or, from your own package, name a function
that returns the records in the entry-point group ``dana_uat.step_kinds`` (merchant mode's kinds come that
way, so registration goes one way: the engine never imports the packages that add kinds)::

    # pyproject.toml of your package
    [project.entry-points."dana_uat.step_kinds"]
    wait = "my_uat.kinds:step_kinds"

    # my_uat/kinds.py
    from conformance.scenarios.kinds import StepKind
    def step_kinds():
        return [StepKind("wait", WaitStep, run_wait, label=lambda s: s.wait)]

``register(...)`` adds a kind at run time (tests do).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from conformance.scenarios import notify, schema, steps, tokens

EXPRESSIONS = None    # ``saves`` of a kind whose ``save:`` holds values (expressions), not sources


@dataclass(frozen=True)
class StepKind:
    name: str
    model: type[BaseModel]
    runner: Callable[..., list]
    saves: tuple[str, ...] | None = ()
    auto_saved: tuple[str, ...] = ()
    browser: bool = False
    browser_if: Callable[[Any, Any], bool] | None = None
    alone: bool = False
    alone_if: Callable[[Any, Any], bool] | None = None
    waits_if: Callable[[Any, Any], bool] | None = None
    label: Callable[[Any], str] = lambda step: ""
    asserts: Callable[[Any], bool] = lambda step: False
    matchers: tuple[str, ...] = ("expect",)
    templates: tuple[str, ...] = ()
    prepare: Callable[[Any, Any], None] | None = None

    def accepts_source(self, source: str) -> bool:
        """Whether ``save: {x: source}`` names one of this kind's sources."""
        return any(_pattern(p).fullmatch(str(source)) for p in self.saves or ())


def _pattern(source: str) -> re.Pattern:
    return re.compile(re.escape(source).replace(re.escape("<path>"), r"[^.\s]+(\.[^.\s]+)*")
                      .replace(re.escape("<name>"), r"[^.\s]+"))


KINDS: dict[str, StepKind] = {}


def register(kind: StepKind) -> StepKind:
    """Add (or replace) a kind; the scenario schema is rebuilt so files may use it at once."""
    register_all([kind])
    return kind


def register_all(new: Iterable[StepKind]) -> None:
    """Add (or replace) several kinds with one rebuild of the scenario schema (a few ms each: the built-in
    and merchant kinds were fifteen rebuilds in every process that imports this module)."""
    new = list(new)
    for kind in new:
        if kind.name not in kind.model.model_fields:
            raise ValueError(f"{kind.model.__name__} has no field {kind.name!r}: a step names its kind by that key")
    KINDS.update((kind.name, kind) for kind in new)
    schema.use_step_models({k.name: k.model for k in ordered()}, kind_of)


def unregister(name: str) -> None:
    KINDS.pop(name)
    schema.use_step_models({k.name: k.model for k in ordered()}, kind_of)


def ordered() -> list[StepKind]:
    """Kinds in the order a step's keys are tried: a kind whose name is also an ordinary field of another
    kind (``save``) comes last, so ``{call: ..., save: ...}`` is a call step."""
    shared = {f for k in KINDS.values() for f in k.model.model_fields if f != k.name}
    return sorted(KINDS.values(), key=lambda k: k.name in shared)


def kind_of(step: Any) -> str | None:
    """The kind of a validated step or of a raw step mapping (None when it names no known kind)."""
    if isinstance(step, BaseModel):
        return next((k.name for k in KINDS.values() if type(step) is k.model), None)
    if not isinstance(step, dict):
        return None
    return next((k.name for k in ordered() if k.name in step), None)


def of(step: Any) -> StepKind:
    return KINDS[kind_of(step)]


def label(index: int, step: Any) -> str:
    kind = of(step)
    name = f" ({step.name})" if getattr(step, "name", None) else ""
    return re.sub(r"\s+", " ", f"step {index + 1} {kind.name} {kind.label(step)}{name}").strip()


def needs_browser(step_list: list) -> bool:
    return any(of(s).browser for s in step_list)


def will_use_browser(step_list: list, profile: Any = None) -> bool:
    """Whether these steps will drive the browser, with their options and the run's merchant profile."""
    return any(kind.browser and (kind.browser_if is None or kind.browser_if(s, profile))
               for s in step_list for kind in [of(s)])


def runs_alone(step_list: list, target: Any = None) -> bool:
    """Whether these steps make their scenario run alone on ``target`` (None: on any target it may)."""
    return any(kind.alone and (kind.alone_if is None or target is None or kind.alone_if(s, target))
               for s in step_list for kind in [of(s)])


def waits(step_list: list, target: Any) -> bool:
    """Whether one of these steps waits in real time on ``target``, giving its slot up meanwhile."""
    return any(kind.waits_if is not None and kind.waits_if(s, target) for s in step_list for kind in [of(s)])


BUILTIN = (
    StepKind("call", schema.CallStep, steps.run_call,
             saves=("status", "body", "body.<path>", "headers.<name>", "request", "request.<path>"),
             label=lambda s: s.call, asserts=lambda s: True, templates=("request",)),
    StepKind("bind", schema.BindStep, steps.run_bind, saves=("auth_code", "state", "final_url"),
             auto_saved=("authCode", "bindState"), browser=True),
    StepKind("token", tokens.TokenStep, tokens.run_token, auto_saved=("accessToken",), browser=True,
             label=lambda s: s.token.phone or ""),
    StepKind("checkout", schema.CheckoutStep, steps.run_checkout, saves=("outcome", "final_url"),
             auto_saved=("checkoutOutcome",), browser=True),
    StepKind("notify", schema.NotifyStep, notify.run_notify, saves=("body", "body.<path>", "headers.<name>"),
             label=lambda s: s.notify.mode, asserts=lambda s: s.notify.mode == "send",
             waits_if=lambda s, target: s.notify.mode == "await" and not steps.moves_clock(target),
             matchers=("expect", "notify"), prepare=notify.prepare_answer),
    StepKind("clock", schema.ClockStep, steps.run_clock, label=lambda s: f"+{s.clock}", alone=True,
             alone_if=lambda s, target: steps.moves_clock(target),
             waits_if=lambda s, target: not steps.moves_clock(target),
             prepare=steps.prepare_clock),
    StepKind("pay", schema.PayStep, steps.run_pay),
    StepKind("save", schema.SaveStep, steps.run_save, saves=EXPRESSIONS),
)
register_all(BUILTIN)


ENTRY_POINTS = "dana_uat.step_kinds"
PLUGIN_PROBLEMS: list[str] = []     # entry points that did not load: each door (CLI, pytest plugin) exits 2 on them


def load_plugins() -> list[str]:
    """Register the kinds of every entry point in the group ``dana_uat.step_kinds``: each names a callable that
    returns an iterable of ``StepKind``. Merchant mode's kinds come this way (pyproject.toml), and so can a
    merchant's own, from their own package; the engine imports neither. An entry point that does not load is
    kept in ``PLUGIN_PROBLEMS`` (one line naming it, its package and the error) and importing this module still
    works, so the command can say so and exit 2. Returns the entry points loaded."""
    loaded, found = [], {}
    for point in entry_points(group=ENTRY_POINTS):
        found.setdefault((point.name, point.value), point)     # a package on sys.path twice lists it twice
    for (name, value), point in sorted(found.items()):
        where = f"entry point {name!r} = {value!r} of group {ENTRY_POINTS}" + (
            f" (package {point.dist.name} {point.dist.version})" if point.dist else "")
        try:
            new = list(point.load()())
        except Exception as exc:       # someone else's package: whatever it raises is reported, not a traceback
            PLUGIN_PROBLEMS.append(f"{where} could not be loaded: {type(exc).__name__}: {exc}")
            continue
        wrong = [repr(k)[:80] for k in new if not isinstance(k, StepKind)]
        if wrong:
            PLUGIN_PROBLEMS.append(f"{where} must return StepKind records; it returned {', '.join(wrong)}")
            continue
        try:
            register_all(new)
        except ValueError as exc:        # a record whose model lacks the field that names its kind
            PLUGIN_PROBLEMS.append(f"{where}: {exc}")
            continue
        loaded.append(name)
    return loaded


load_plugins()
