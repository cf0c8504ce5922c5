"""A step that waits in real time (DANA's clock cannot be moved) lets other scenarios run meanwhile.

The pool that runs scenarios side by side (run/ahead.py) sets ``IDLE`` on each scenario's thread to a context
manager that gives up the scenario's slot for the wait and takes it back after; outside a pool (a scenario run
on pytest's own thread) ``idle()`` does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from typing import ContextManager

IDLE: contextvars.ContextVar[Callable[[], ContextManager]] = contextvars.ContextVar(
    "dana_uat_idle", default=contextlib.nullcontext)


def idle() -> ContextManager:
    """``with idle(): <a wait that sends nothing>``: other scenarios may use this one's slot meanwhile."""
    return IDLE.get()()
