"""Scenarios side by side (conformance/run/ahead.py): shared ones overlap, one that must run alone never does, and
pytest still reports every scenario in its own order with its own result."""

from __future__ import annotations

import threading

import pytest
from pydantic import Field

from conformance.findings import Finding
from conformance.run import ahead
from conformance.scenarios import kinds, pace, schema

BOUND = 20      # seconds any wait below may take before the test fails instead of hanging


def test_shared_jobs_overlap():
    meet = threading.Barrier(2, timeout=BOUND)       # passes only if both jobs are running at the same time
    pool = ahead.Ahead(2)
    pool.start([("a", False, meet.wait), ("b", False, meet.wait)])
    assert {pool.take("a").result(BOUND), pool.take("b").result(BOUND)} == {0, 1}
    pool.close()


def test_a_job_that_runs_alone_overlaps_nothing_and_waits_for_those_before_it():
    log, lock = [], threading.Lock()
    meet = threading.Barrier(2, timeout=BOUND)

    def job(name: str, together: bool = False):
        def run():
            with lock:
                log.append(("start", name))
            if together:
                meet.wait()
            with lock:
                log.append(("end", name))
            return name
        return run

    pool = ahead.Ahead(4)
    pool.start([("s1", False, job("s1", True)), ("s2", False, job("s2", True)), ("A", True, job("A")),
                ("s3", False, job("s3")), ("s4", False, job("s4"))])
    assert [pool.take(k).result(BOUND) for k in ("s1", "s2", "A", "s3", "s4")] == ["s1", "s2", "A", "s3", "s4"]
    pool.close()
    begin, end = log.index(("start", "A")), log.index(("end", "A"))
    assert end == begin + 1, log                                           # nothing ran while A did
    assert {("end", "s1"), ("end", "s2")} <= set(log[:begin]), log          # submitted before A: finished first


def _logged(log: list, lock: threading.Lock, name: str, body=lambda: None):
    def run():
        with lock:
            log.append(("start", name))
        body()
        with lock:
            log.append(("end", name))
        return name
    return run


def test_a_job_waiting_idle_lets_the_next_one_use_its_slot_even_at_concurrency_1():
    log, lock, other_ran = [], threading.Lock(), threading.Event()

    def wait_for_the_other():
        with pace.idle():                      # gives the only slot up: b can start
            assert other_ran.wait(BOUND), "the next job never started while this one was idle"

    pool = ahead.Ahead(1)
    pool.start([("a", False, _logged(log, lock, "a", wait_for_the_other)),
                ("b", False, _logged(log, lock, "b", other_ran.set))])
    assert [pool.take(k).result(BOUND) for k in ("a", "b")] == ["a", "b"]
    pool.close()
    assert log == [("start", "a"), ("start", "b"), ("end", "b"), ("end", "a")]


def test_a_job_back_from_idle_takes_a_slot_before_jobs_not_yet_started():
    slots, got, lock = ahead.Slots(1), [], threading.Lock()
    slots.take(ahead.Slots.NEW)                 # the only slot is in use

    def take(priority: int, name: str) -> threading.Thread:
        def run():
            slots.take(priority)
            with lock:
                got.append(name)
            slots.give()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    new = take(ahead.Slots.NEW, "not yet started")
    assert _within(BOUND, lambda: len(slots._waiting) == 1)
    back = take(ahead.Slots.RETURNING, "back from idle")        # asks later, goes first
    assert _within(BOUND, lambda: len(slots._waiting) == 2)
    slots.give()
    new.join(BOUND)
    back.join(BOUND)
    assert got == ["back from idle", "not yet started"]


def test_no_more_jobs_are_active_than_the_concurrency_while_others_are_idle():
    active, most, lock, log = [0], [0], threading.Lock(), []
    release = threading.Event()

    def count(delta: int) -> None:
        with lock:
            active[0] += delta
            most[0] = max(most[0], active[0])

    def idle_then_work():
        count(+1)
        with pace.idle():
            count(-1)
            assert release.wait(BOUND)
            count(+1)
        count(-1)

    def worker(n: int):
        def run():
            count(+1)
            if n == 5:
                release.set()                   # the last one lets the idle ones come back
            count(-1)
        return run

    pool = ahead.Ahead(2)
    pool.start([*((f"idle{i}", False, idle_then_work) for i in range(3)),
                *((f"work{i}", False, worker(i)) for i in range(6))])
    for key in [*(f"idle{i}" for i in range(3)), *(f"work{i}" for i in range(6))]:
        pool.take(key).result(BOUND)
    pool.close()
    assert most[0] <= 2, f"{most[0]} jobs active at once with concurrency 2"


def test_nothing_runs_beside_a_job_that_runs_alone_even_while_it_is_idle():
    log, lock, never = [], threading.Lock(), threading.Event()

    def a_body():
        with pace.idle():
            never.wait(0.3)                    # b must not start meanwhile: a runs alone

    pool = ahead.Ahead(2)
    pool.start([("a", True, _logged(log, lock, "a", a_body)), ("b", False, _logged(log, lock, "b", never.set))])
    assert [pool.take(k).result(BOUND) for k in ("a", "b")] == ["a", "b"]
    pool.close()
    assert log == [("start", "a"), ("end", "a"), ("start", "b"), ("end", "b")]


def _within(seconds: float, condition) -> bool:
    deadline = threading.Event()
    for _ in range(int(seconds * 100)):
        if condition():
            return True
        deadline.wait(0.01)
    return False


def test_clock_runs_alone_where_it_moves_the_clock_and_waits_idle_against_dana():
    from types import SimpleNamespace
    step = [schema.ClockStep(clock="12s")]
    sandbox, dana = SimpleNamespace(admin=object()), SimpleNamespace(admin=None)
    assert kinds.runs_alone(step, sandbox) and not kinds.waits(step, sandbox)
    assert not kinds.runs_alone(step, dana) and kinds.waits(step, dana)
    assert kinds.runs_alone(step), "with no target known, a kind that may run alone does"
    awaited, sent = schema.NotifyStep(notify={"mode": "await"}), schema.NotifyStep(notify={"mode": "send"})
    assert kinds.waits([awaited], dana) and not kinds.waits([sent], dana), "awaiting DANA's delivery waits idle"
    assert not kinds.waits([awaited], sandbox)


def test_concurrency_defaults_to_one_against_dana_and_the_setting_wins():
    assert ahead.concurrency_for("embedded", None) == 4 and ahead.concurrency_for("url", "") == 4
    assert ahead.concurrency_for("sandbox", None) == 1 and ahead.concurrency_for("production", None) == 1
    assert ahead.concurrency_for("embedded", "1") == 1 and ahead.concurrency_for("sandbox", "3") == 3


# -- through the plugin: two toy kinds, one meeting a partner scenario, one that must run alone ------------------

_MEET = {"barrier": threading.Barrier(2, timeout=BOUND)}
_ACTIVE = {"meeting": 0}
_LOCK = threading.Lock()


class MeetStep(schema.Strict):
    meet: str = Field(..., description="Wait until another scenario meets here too.")
    name: str | None = None


class SoloStep(schema.Strict):
    solo: str = Field(..., description="Fails when a meeting scenario runs at the same time, or when told to.")
    fail: bool = False
    name: str | None = None


def run_meet(run, step, where):
    with _LOCK:
        _ACTIVE["meeting"] += 1
    try:
        _MEET["barrier"].wait()         # both meeting scenarios must run side by side, else this times out and fails
    except threading.BrokenBarrierError:
        return [Finding("FAIL", "side by side", "another scenario meeting here", "none within the bound", where=where)]
    finally:
        with _LOCK:
            _ACTIVE["meeting"] -= 1
    return []


def run_solo(run, step, where):
    with _LOCK:
        busy = _ACTIVE["meeting"]
    if step.fail:
        return [Finding("FAIL", "solo", "a failure on purpose", "this one", where=where)]
    return [Finding("FAIL", "alone", 0, busy, where=where)] if busy else []


@pytest.fixture
def toy_kinds():
    _MEET["barrier"] = threading.Barrier(2, timeout=BOUND)
    meet = kinds.register(kinds.StepKind("meet", MeetStep, run_meet, asserts=lambda s: True))
    solo = kinds.register(kinds.StepKind("solo", SoloStep, run_solo, asserts=lambda s: True, alone=True))
    yield meet, solo
    kinds.unregister("meet")
    kinds.unregister("solo")


FILE = """\
api: apply_token
scenarios:
  - {id: first_meets, title: meets the second, steps: [{meet: here}]}
  - {id: runs_alone, title: alone, steps: [{solo: here}]}
  - {id: second_meets, title: meets the first, steps: [{meet: here}]}
  - {id: fails_on_purpose, title: reported failed in its place, steps: [{solo: here, fail: true}]}
"""


def test_the_plugin_runs_scenarios_side_by_side_and_reports_them_in_order(pytester, toy_kinds, monkeypatch):
    monkeypatch.delenv("DANA_UAT_CONCURRENCY", raising=False)
    pytester.makefile(".yaml", **{"scenarios/toy": FILE})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*first_meets PASSED*", "*runs_alone PASSED*", "*second_meets PASSED*",
                                 "*fails_on_purpose FAILED*"])


def test_with_concurrency_1_scenarios_run_one_after_another(pytester, toy_kinds, monkeypatch):
    monkeypatch.setenv("DANA_UAT_CONCURRENCY", "1")
    _MEET["barrier"] = threading.Barrier(2, timeout=1)    # the first waits for its partner in vain for 1 s
    pytester.makefile(".yaml", **{"scenarios/toy": FILE.split("  - {id: runs_alone")[0]
                                  + "  - {id: second_meets, title: x, steps: [{meet: here}]}\n"})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)      # one after another, neither finds the other at the barrier
