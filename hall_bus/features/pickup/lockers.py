"""The controller's port to the lockers: :class:`LockerPort`, and its bus implementation.

The controller never drives a lock board itself: each locker bank is run by a locker host
(``devices/locker_host.py``) on the machine wired to its RS485 line. :class:`BusLockerPort` sends
``locker.open`` / ``locker.status`` to that host, signing each open with the hall's pickup key.

Outcomes of an open:

* :class:`OpenResult` - the host fired the lock; ``door_open`` says whether the door came open
  (False: jammed or held shut);
* :class:`LockerFailed` - the host answered that it could not fire (board offline, refused);
* :class:`LockerUnknown` - no answer (bus or host down): the lock may or may not have fired. The
  caller keeps the step as "opening" and asks ``status(pickup_id=...)`` later;
* :class:`BusDown` (a :class:`LockerUnknown`) - this controller's own bus is not connected (or was
  stopped): nothing can be learnt about the host, so nothing should be decided from the silence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from hall_bus.bus import topics
from hall_bus.bus.client import BusError, RequestFailed
from hall_bus.contracts.pickup import LockerOpen, LockerOpened, LockerState, LockerStatus
from hall_bus.features.pickup.config import Compartment
from hall_bus.features.pickup.security import locker_auth


@dataclass(frozen=True)
class OpenResult:
    door_open: bool
    fired_at: float
    repeated: bool = False


M = TypeVar("M", bound=BaseModel)


class FiredOp(BaseModel):
    """What the host remembers of an open it fired (the free-form ``op`` of ``locker.status``)."""

    pickup_id: str | None = None
    fired_at: float | None = None
    opened: bool = False


@dataclass(frozen=True)
class BoardStatus:
    doors: dict[int, bool]  # lock -> door open?
    op: FiredOp | None  # when the host fired the asked pickup_id, else None


class LockerFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class LockerUnknown(Exception):
    """No answer: whether the lock fired is unknown."""


class BusDown(LockerUnknown):
    """This side's bus is down: the request was not sent, or its answer cannot come."""


class LockerPort(Protocol):
    def open(self, c: Compartment, pickup_id: str, reason: str) -> OpenResult: ...

    def status(self, device: str, board: int, pickup_id: str | None = None) -> BoardStatus: ...


class BusLockerPort:
    def __init__(
        self, bus: Any, hall: str, secret: bytes, open_timeout_s: float = 8.0, status_timeout_s: float = 3.0
    ) -> None:
        self.bus, self.hall, self.secret = bus, hall, secret
        self.open_timeout_s, self.status_timeout_s = open_timeout_s, status_timeout_s

    def _request(self, device: str, op: str, request: BaseModel, reply: type[M], timeout: float) -> M:
        if not self.bus.connected:  # fail fast: the step stays persisted and is resolved once the bus is back
            raise BusDown(f"{device}: the hall bus is not connected")
        try:
            answer: M = self.bus.call(
                op, request, reply, timeout=timeout, retry_s=1.0, topic=topics.device_request(self.hall, device, op)
            )
            return answer
        except RequestFailed as exc:
            raise LockerFailed(exc.code, str(exc)) from None
        except (BusError, TimeoutError) as exc:
            if not self.bus.connected:  # lost or stopped while waiting: the host's silence says nothing
                raise BusDown(f"{device}: {exc}") from None
            raise LockerUnknown(f"{device}: {exc}") from None

    def open(self, c: Compartment, pickup_id: str, reason: str) -> OpenResult:
        expires_at = round(time.time() + self.open_timeout_s, 3)
        auth = locker_auth(self.secret, self.hall, c.device, c.board, c.lock, pickup_id, expires_at)
        try:
            req = LockerOpen(
                board=c.board, lock=c.lock, reason=reason[:64], pickup_id=pickup_id, expires_at=expires_at, auth=auth
            )
        except ValidationError as exc:  # refused here as the host would refuse it: never sent
            raise LockerFailed("invalid_data", f"{c.device}: locker.open: {exc}") from None
        out = self._request(c.device, "locker.open", req, LockerOpened, self.open_timeout_s)
        return OpenResult(door_open=out.door == "open", fired_at=out.fired_at, repeated=out.repeated)

    def status(self, device: str, board: int, pickup_id: str | None = None) -> BoardStatus:
        try:
            req = LockerStatus(board=board, pickup_id=pickup_id) if pickup_id else LockerStatus(board=board)
        except ValidationError as exc:
            raise LockerFailed("invalid_data", f"{device}: locker.status: {exc}") from None
        out = self._request(device, "locker.status", req, LockerState, self.status_timeout_s)
        op = None if out.op is None else FiredOp.model_validate(out.op.model_dump(exclude_unset=True))
        return BoardStatus({int(k): v == "open" for k, v in out.doors.items()}, op)
