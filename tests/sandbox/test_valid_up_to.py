"""validUpTo after the sandbox clock moved: a client on the moved clock (dana-uat's engine) and a client
on real time (the SDKs) both get a payable order that expires when its own clock says so."""

from datetime import timedelta

from conformance.sandbox.clock import Clock
from conformance.sandbox.handlers.payments import _expiry


def test_a_client_following_the_moved_clock_is_accepted_after_a_day():
    clock = Clock()
    clock.advance(25 * 3600)                       # e.g. the cancel-window scenario ran before
    valid = clock.now() + timedelta(minutes=15)
    assert _expiry(clock, valid) == valid          # read on the sandbox clock, not shifted again


def test_a_real_time_client_is_shifted_by_the_offset():
    clock = Clock()
    clock.advance(25 * 3600)
    valid = clock.real_now() + timedelta(minutes=15)
    assert _expiry(clock, valid) == valid + timedelta(hours=25)


def test_the_sandbox_clock_wins_when_both_readings_fit():
    clock = Clock()
    clock.advance(5 * 60)
    valid = clock.now() + timedelta(minutes=2)     # "validUpTo = now + 2m, then move the clock 3m"
    assert _expiry(clock, valid) == valid
    clock.advance(3 * 60)
    assert valid < clock.now()


def test_out_of_range_on_both_clocks_is_refused():
    clock = Clock()
    clock.advance(3600)
    assert _expiry(clock, clock.real_now() - timedelta(minutes=1)) is None
    assert _expiry(clock, clock.now() + timedelta(minutes=45)) is None


def test_at_most_fifteen_minutes_ahead_plus_a_minute_of_clock_difference():
    """uat-script: validUpTo "at most 15 minutes from now (API requirement)"."""
    clock = Clock()
    fifteen = clock.now() + timedelta(minutes=15, seconds=59)
    assert _expiry(clock, fifteen) == fifteen
    assert _expiry(clock, clock.now() + timedelta(minutes=16, seconds=30)) is None
    assert _expiry(clock, clock.now() + timedelta(minutes=30)) is None      # the SDK's laxer check
