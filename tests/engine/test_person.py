"""The person's answers in a production run: read line by line from standard input, each within a bound."""

import os

import pytest

from conformance.dana.person import NoAnswer, ask


def test_two_answers_typed_at_once_are_read_one_per_question():
    read, write = os.pipe()
    os.write(write, b"083811223355\n181818\n")
    try:
        assert ask("phone: ", fd=read, timeout=5) == "083811223355"
        assert ask("PIN: ", fd=read, timeout=5, secret=True) == "181818"   # a pipe: nothing to hide, read all the same
    finally:
        os.close(read), os.close(write)


def test_no_answer_within_the_bound_stops_with_the_question_named():
    read, write = os.pipe()
    try:
        with pytest.raises(NoAnswer, match="PIN"):
            ask("PIN: ", fd=read, timeout=0.2)
    finally:
        os.close(read), os.close(write)


def test_a_closed_input_is_no_answer():
    read, write = os.pipe()
    os.close(write)
    try:
        with pytest.raises(NoAnswer, match="closed"):
            ask("phone: ", fd=read, timeout=5)
    finally:
        os.close(read)
