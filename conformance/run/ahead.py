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
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

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


class Ahead:
    """A bounded pool running jobs ahead, in the order given, each taken back once by its key.

    Its threads are daemons: after Ctrl-C a scenario still waiting on its own bound (a notification that will
    never come) does not hold the process's exit."""

    def __init__(self, workers: int):
        self.workers = workers
        self._gate = Gate()
        self._futures: dict[str, Future] = {}
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        for n in range(workers):
            threading.Thread(target=self._work, name=f"dana-uat-scenario-{n}", daemon=True).start()

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
                with self._gate.hold(alone):
                    result = job()
            except BaseException as exc:   # noqa: BLE001 - handed to the item that takes it, as pytest would see it
                future.set_exception(exc)
            else:
                future.set_result(result)

    def take(self, key: str) -> Future | None:
        return self._futures.pop(key, None)

    def close(self) -> None:
        """Cancel what has not started; what runs finishes on its own (its own waits are bounded)."""
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        for _ in range(self.workers):
            self._queue.put(None)
