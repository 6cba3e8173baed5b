"""What the queue engine works with: tickets, window states, the change a step makes, the coded
errors it raises, the handling-time estimator port and the calling order (``_rank_key``)."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from hall_bus.config import HallConfig
from hall_bus.errors import CodedError
from hall_bus.vocabulary import ELDERLY_AGE, PRIORITIES

__all__ = ["ELDERLY_AGE", "PRIORITIES"]

TICKET_STATES = ("waiting", "called", "serving", "finished", "no_show")


class QueueError(CodedError):
    """A queue operation that cannot be done; ``code`` is the bus error code (``conflict`` unless said)."""

    code = "conflict"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(code or type(self).code, message)


class NotFound(QueueError):
    code = "not_found"


class Closed(QueueError):
    code = "closed"


class SoldOut(QueueError):
    """No more tickets today for this service (its daily cap, 限号) or prefix (numbers up to 99999)."""

    code = "sold_out"


MAX_NUMBER = 99_999  # ticket numbers per prefix and day: A001 ... A99999


class HandlingTimeEstimator(Protocol):
    def expected_minutes(self, service: str) -> float: ...


class ConfiguredEstimator:
    """Expected handling time from hall.toml (the tidal-window load model learns better ones)."""

    def __init__(self, config: HallConfig) -> None:
        self._minutes = {s.id: s.expected_minutes for s in config.services}
        self._default = config.queue.default_expected_minutes

    def expected_minutes(self, service: str) -> float:
        return self._minutes.get(service, self._default)


@dataclass
class Ticket:
    id: int
    code: str
    day: str
    service: str
    domain: str
    priority: str
    state: str
    issued_at: float
    channel: str
    appointment: str | None = None
    appointment_due: float | None = None
    identity_token: str | None = None
    window: int | None = None
    target_window: int | None = None
    called_at: float | None = None
    recalls: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    transfers: int = 0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Ticket:
        return cls(
            id=row["id"],
            code=row["code"],
            day=row["day"],
            service=row["service"],
            domain=row["domain"],
            priority=row["priority"],
            state=row["state"],
            issued_at=row["issued_at"],
            channel=row["channel"],
            appointment=row["appointment"],
            appointment_due=row["appointment_due"],
            identity_token=row["identity_token"],
            window=row["window"],
            target_window=row["target_window"],
            called_at=row["called_at"],
            recalls=row["recalls"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            transfers=row["transfers"],
        )

    def public(self) -> dict[str, Any]:
        """What may travel on the bus: no identity token."""
        d = asdict(self)
        d.pop("identity_token")
        d["has_identity"] = self.identity_token is not None
        return d


@dataclass
class WindowState:
    number: int
    name: str
    domains: list[str]
    skills: list[str]
    pending_domains: list[str] | None
    paused: bool
    pause_reason: str
    current: Ticket | None
    priority_streak: int
    hours: str = "open"  # open | appointments | closed | finishing (hall_bus.queue.base._with_hours)

    @property
    def works(self) -> bool:
        """Does it call tickets now (the forecast's desks, a queue's open windows)? Not paused, and within
        its hours, finishing the day, or with a ticket at the desk."""
        return not self.paused and (self.hours != "closed" or self.current is not None)

    @property
    def state(self) -> str:
        if self.current is not None:
            return "serving" if self.current.state == "serving" else "calling"
        return "paused" if self.paused else "idle"

    def public(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "domains": self.domains,
            "skills": self.skills,
            "pending_domains": self.pending_domains,
            "state": self.state,
            "paused": self.paused,
            "pause_reason": self.pause_reason,
            "current": self.current.public() if self.current else None,
            "hours": self.hours,
        }


@dataclass
class Change:
    """What an operation changed, for the controller to publish."""

    domains: set[str] = field(default_factory=set)
    windows: set[int] = field(default_factory=set)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (event type, data)


_RANK_SQL = "(CASE WHEN appointment_due IS NOT NULL THEN 0 WHEN priority != 'normal' THEN 1 ELSE 2 END)"


def _rank_key(t: Ticket) -> tuple[int, float, int]:
    rank = 0 if t.appointment_due is not None else (1 if t.priority != "normal" else 2)
    return (rank, t.issued_at, t.id)
