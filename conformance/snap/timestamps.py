"""Jakarta time as SNAP writes it: ``YYYY-MM-DDTHH:mm:ss+07:00`` (25 characters)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

JAKARTA = timezone(timedelta(hours=7), "Asia/Jakarta")
PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")


def now() -> datetime:
    return datetime.now(JAKARTA)


def format_timestamp(moment: datetime | None = None) -> str:
    """Format ``moment`` (default: now) in Jakarta time with a literal ``+07:00``."""
    moment = now() if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a time zone so it can be converted to +07:00")
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%dT%H:%M:%S+07:00")


def is_timestamp(value: object) -> bool:
    """True when ``value`` is a well-formed SNAP timestamp that names a real date and time."""
    if not isinstance(value, str) or not PATTERN.match(value):
        return False
    try:
        datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def parse_timestamp(value: str) -> datetime:
    """Parse a SNAP timestamp strictly; anything else raises ValueError naming the form wanted."""
    if not is_timestamp(value):
        raise ValueError(f"{value!r} is not of the form YYYY-MM-DDTHH:mm:ss+07:00")
    return datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=JAKARTA)
