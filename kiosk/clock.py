"""The hall's one clock: every time a person sees (screens, printed slips) is in the hall's time zone.

The hall's zone is ``[hall] timezone`` in hall.toml, sent to every client in ``hall.info`` as
``timezone``; the machine's own zone plays no part (a kiosk set to UTC still shows Beijing time for a
hall in Asia/Shanghai). Until hall.info has arrived the configured default applies.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"  # hall_bus.config's default for [hall] timezone


def hall_zone(hall: Mapping[str, Any] | None) -> ZoneInfo:
    """The time zone of ``hall`` (a hall.info dict); the default zone when it names none or a bad one."""
    name = str((hall or {}).get("timezone") or DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def hall_time(hall: Mapping[str, Any] | None, at: float | None = None) -> dt.datetime:
    """The epoch time ``at`` (default: now) as an aware datetime in the hall's zone."""
    return dt.datetime.fromtimestamp(time.time() if at is None else at, hall_zone(hall))


def clock_text(hall: Mapping[str, Any] | None, at: float | None = None, seconds: bool = True) -> str:
    """The wall clock of the hall, ``HH:MM:SS`` (or ``HH:MM``)."""
    return hall_time(hall, at).strftime("%H:%M:%S" if seconds else "%H:%M")
