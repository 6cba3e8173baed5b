"""The hall's working-day calendar: weekends off, configured holidays off, exchanged workdays (调休) on."""

from __future__ import annotations

import datetime as dt

from hall_bus.config import OpeningHours


class WorkCalendar:
    def __init__(self, hours: OpeningHours) -> None:
        self.holidays = hours.holidays
        self.workdays = hours.workdays

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (n = 0: ``day`` itself if it is one, else the next)."""
        if n == 0:
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
            return day
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day
