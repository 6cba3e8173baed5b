"""The base of a staff console (the window terminal, ``kiosk/staff.py``): requests that never raise
into the screen, the hall layout, the hall's clock.

A failed request becomes ``message`` (and ``error=True``): the sentence of its error code in the
console's language (``kiosk.i18n.errors``), never the controller's English detail, which goes to the
log. Times are the hall's (``kiosk.clock``), not the machine's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from hall_bus.bus.client import RequestFailed
from hall_bus.bus.envelope import M
from hall_bus.contracts.base import Empty
from hall_bus.contracts.queue import HallInfo
from kiosk.clock import clock_text
from kiosk.i18n import name_of
from kiosk.i18n.errors import error_sentence
from kiosk.ports import BusPort, error_detail, is_bus_error

log = logging.getLogger(__name__)


def error_code(exc: Exception) -> str:
    """The error code of a failed request: the other side's code, ``bus`` when it did not answer, else ``failed``."""
    if isinstance(exc, RequestFailed):
        return exc.code
    return "bus" if is_bus_error(exc) else "failed"


class Console:
    """A staff console talking to the controller over ``bus`` in language ``lang``."""

    def __init__(self, bus: BusPort, lang: str = "zh", timeout: float = 5.0) -> None:
        self.bus = bus
        self.lang = lang
        self.timeout = timeout
        self.message = ""
        self.error = False
        self.error_code = ""
        self.hall: dict[str, Any] = {}
        self.listeners: list[Callable[[Any], None]] = []
        self._lock = threading.Lock()

    def _changed(self) -> None:
        for fn in list(self.listeners):
            fn(self)

    def _call(self, op: str, request: BaseModel, reply: type[M]) -> M | None:
        """The typed request ``op``; None (and the sentence of its error code in ``message``) when it failed."""
        try:
            out = self.bus.call(op, request, reply, timeout=self.timeout)
        except Exception as exc:
            self.error_code = error_code(exc)
            log.info("%s failed: %s (%s)", op, self.error_code, error_detail(exc))
            self.message, self.error = error_sentence(self.error_code, self.lang), True
            self._changed()
            return None
        self.error, self.error_code = False, ""
        return out

    def load_hall(self) -> bool:
        out = self._call("hall.info", Empty(), HallInfo)
        if out is not None:
            self.hall = out.model_dump(mode="json")  # the screens read the layout as plain data
            self._changed()
        return out is not None

    def service_name(self, service_id: str) -> str:
        s = next((s for s in self.hall.get("services", []) if s["id"] == service_id), None)
        return name_of(s, self.lang) if s else service_id

    def domain_name(self, domain_id: str) -> str:
        d = next((d for d in self.hall.get("domains", []) if d["id"] == domain_id), None)
        return name_of(d, self.lang) if d else domain_id

    def names(self, domain_ids: list[str]) -> str:
        """Domain names as one phrase in the console's language (社保、医保 / Social insurance, Medical insurance)."""
        return ("、" if self.lang != "en" else ", ").join(self.domain_name(d) for d in domain_ids)

    def clock(self) -> str:
        """The hall's wall clock (its time zone, not this machine's)."""
        return clock_text(self.hall)
