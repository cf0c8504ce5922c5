"""The person behind a production run: a real DANA account of the merchant's, typed on the console.

DANA's production has no test users ("Testing in production environment": the same scenarios with production
credentials): someone with a real DANA account logs in on DANA's bind and checkout pages. Before the first
scenario, ``dana-uat run --target production`` asks that person for the phone number and the PIN (the PIN is not
echoed), each answer bounded by PERSON_TIMEOUT. The answers stay in this process (the run's settings read them
from its environment); the PIN is registered as a secret, so it never reaches evidence, traces or the console.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import time

PERSON_TIMEOUT = 300.0      # seconds the run waits for each answer


class NoAnswer(Exception):
    """The person did not answer in time, or standard input is closed; the message says which."""


def ask(question: str, *, secret: bool = False, timeout: float = PERSON_TIMEOUT, fd: int | None = None) -> str:
    """One line typed on standard input (not echoed when ``secret`` and a terminal), within ``timeout``."""
    fd = sys.stdin.fileno() if fd is None else fd
    print(question, end="", file=sys.stderr, flush=True)
    quiet = secret and os.isatty(fd)
    saved = termios.tcgetattr(fd) if quiet else None
    if saved is not None:
        hidden = termios.tcgetattr(fd)
        hidden[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSADRAIN, hidden)
    try:
        return _line(fd, time.monotonic() + timeout, question)
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            print(file=sys.stderr)


def _line(fd: int, deadline: float, question: str) -> str:
    """Bytes read one at a time (no buffer hides a line already typed from select), up to the newline."""
    data = bytearray()
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise NoAnswer(f"no answer to {question.strip()!r} within {PERSON_TIMEOUT:.0f} s")
        byte = os.read(fd, 1)
        if not byte:
            if data:
                break
            raise NoAnswer(f"standard input closed before {question.strip()!r} was answered")
        data += byte
    return data.decode("utf-8", "replace").strip()


def production_account(phone: str | None) -> tuple[str, str]:
    """(phone, PIN) of the person's DANA account; ``phone`` given in the settings is offered as the default."""
    print("dana-uat: production needs a real DANA account: its owner logs in on DANA's pages through this run "
          "(phone and PIN here; nothing is saved; DANA may also send an OTP to the phone).", file=sys.stderr)
    answer = ask(f"  DANA phone number{f' [{phone}]' if phone else ''}: ")
    pin = ask("  DANA PIN (not shown): ", secret=True)
    return answer or phone or "", pin
