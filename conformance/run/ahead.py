"""Scenarios side by side: a run's scenarios start ahead of pytest's reporting, a few at a time.

pytest runs and reports items one after another, and a scenario mostly waits: on the browser's pages, on the
target's answers. So a bounded pool starts the selected scenarios in pytest's order, and each item's ``runtest``
takes its own scenario's result when its turn comes, waiting for it if needed. What a run reports is what a
sequential run reports: progress lines in order, JUnit, evidence (written when the item reports), exit codes,
``-x``. A scenario pytest never reaches (``-x``, Ctrl-C) is cancelled before it starts; one already running is
left unreported and its evidence unwritten.

A scenario with a step that changes what every other scenario sees (the sandbox's clock) or that watches all of
the target's traffic (merchant mode) runs alone: the running ones finish first and none starts until it is done
(``StepKind.alone``). How many run at once is the ``concurrency`` setting (settings.py): by default 4 on the
embedded sandbox and a ``dana-uat sandbox`` URL, 1 against DANA, whose test users and rate limits are shared.

A scenario waiting out DANA's clock in real time, or waiting for DANA's Finish Notify at the receiver, sends
nothing meanwhile: it gives up its slot for the wait
(``scenarios/pace.idle``), so the next scenarios use it, even at concurrency 1, and takes a slot back, before any
scenario not yet started, when the wait is over. So no more than ``concurrency`` scenarios talk to the target at
once, and the 12 s of an expiry no longer add to the run (issue 28's latency goals).
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from conformance.scenarios import pace

DEFAULT_CONCURRENCY = {"embedded": 4, "url": 4}      # target kind -> scenarios at once; any other kind: 1


def concurrency_for(kind: str, configured: str | None) -> int:
    """DANA_UAT_CONCURRENCY when set (validated by settings), else the target kind's default."""
    return int(configured) if configured not in (None, "") else DEFAULT_CONCURRENCY.get(kind, 1)


class Gate:
    """Many shared holders, or one holder alone. A scenario waiting to run alone goes before shared ones that
    come after it, so it cannot be starved, and everything submitted before it has finished when it starts."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._shared = 0
        self._alone = False
        self._waiting_alone = 0

    @contextmanager
    def hold(self, alone: bool) -> Iterator[None]:
        with self._changed:
            if alone:
                self._waiting_alone += 1
                self._changed.wait_for(lambda: not self._alone and self._shared == 0)
                self._waiting_alone -= 1
                self._alone = True
            else:
                self._changed.wait_for(lambda: not self._alone and self._waiting_alone == 0)
                self._shared += 1
        try:
            yield
        finally:
            with self._changed:
                if alone:
                    self._alone = False
                else:
                    self._shared -= 1
                self._changed.notify_all()


class Slots:
    """``size`` slots, granted in order: a scenario coming back from an idle wait before any not yet started,
    then in the order asked (``threading.Semaphore`` wakes waiters in no set order)."""

    RETURNING, NEW = 0, 1

    def __init__(self, size: int) -> None:
        self._changed = threading.Condition()
        self._free = size
        self._waiting: list[tuple[int, int]] = []
        self._tickets = itertools.count()

    def take(self, priority: int) -> None:
        with self._changed:
            me = (priority, next(self._tickets))
            self._waiting.append(me)
            self._changed.wait_for(lambda: self._free > 0 and min(self._waiting) == me)
            self._waiting.remove(me)
            self._free -= 1
            self._changed.notify_all()

    def give(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()


class Ahead:
    """A bounded pool running jobs ahead, in the order given, each taken back once by its key.

    ``workers`` jobs are active at once; a job that goes idle (``pace.idle``) gives its slot up, and a thread is
    added when none is free to start the next job, so the threads number ``workers`` plus the jobs idle at once.
    Its threads are daemons: after Ctrl-C a scenario still waiting on its own bound (a notification that will
    never come) does not hold the process's exit."""

    def __init__(self, workers: int):
        self.workers = workers
        self._gate = Gate()
        self._slots = Slots(workers)
        self._futures: dict[str, Future] = {}
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._free_threads = 0         # threads not running a job: they take the next one
        for _ in range(workers):
            self._spawn()

    def _spawn(self) -> None:
        with self._lock:
            self._threads += 1
            self._free_threads += 1
            n = self._threads
        threading.Thread(target=self._work, name=f"dana-uat-scenario-{n - 1}", daemon=True).start()

    def start(self, jobs: Iterable[tuple[str, bool, Callable[[], Any]]]) -> None:
        """Submit ``(key, alone, job)`` in order; a job's result or exception waits for ``take(key)``."""
        for key, alone, job in jobs:
            future: Future = Future()
            self._futures[key] = future
            self._queue.put((future, alone, job))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, alone, job = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                # the gate first: a job waiting to run alone holds no slot that a job coming back from idle needs
                with self._gate.hold(alone):
                    self._slots.take(Slots.NEW)
                    with self._lock:
                        self._free_threads -= 1
                    pace.IDLE.set(self._idle)    # an alone job's idle frees a slot too: the gate keeps others out
                    try:
                        result = job()
                    finally:
                        with self._lock:
                            self._free_threads += 1
                        self._slots.give()
            except BaseException as exc:   # noqa: BLE001 - handed to the item that takes it, as pytest would see it
                future.set_exception(exc)
            else:
                future.set_result(result)

    @contextmanager
    def _idle(self) -> Iterator[None]:
        """Give this job's slot up while it waits; come back before any job not yet started."""
        with self._lock:
            spawn = self._free_threads == 0
        if spawn:                      # every thread runs a job: one more takes the next job meanwhile
            self._spawn()
        self._slots.give()
        try:
            yield
        finally:
            self._slots.take(Slots.RETURNING)

    def take(self, key: str) -> Future | None:
        return self._futures.pop(key, None)

    def close(self) -> None:
        """Cancel what has not started; what runs finishes on its own (its own waits are bounded)."""
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        with self._lock:
            threads = self._threads
        for _ in range(threads):
            self._queue.put(None)
