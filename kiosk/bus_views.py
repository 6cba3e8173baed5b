"""Retained states and events as the kiosk side reads them: typed once, on arrival.

:func:`hall_bus.bus.envelope.model_of` turns a received envelope into its contract model
(``env.model`` when the bus client already checked it into that model). The window and queue contracts are *open* models: the controller
sends more than they name (the current ticket, whether the window is paused, the estimated wait ...).
:class:`WindowExtra` and :class:`QueueExtra` read those extra fields typed, with defaults.
"""

from __future__ import annotations

from pydantic import BaseModel

from hall_bus.contracts.queue import DomainQueue, WindowView


class CurrentTicket(BaseModel):
    """The ticket at a window (the controller's public view of it)."""

    code: str
    state: str = ""
    service: str = ""


class WindowExtra(BaseModel):
    """What a window's state carries beyond :class:`WindowView`."""

    current: CurrentTicket | None = None
    pending_domains: list[str] | None = None
    skills: list[str] = []
    paused: bool = False
    waiting: int = 0


class QueueExtra(BaseModel):
    """What a domain's queue snapshot carries beyond :class:`DomainQueue`."""

    name: str = ""
    name_en: str = ""
    estimated_wait_min: float | None = None


def window_extra(window: WindowView) -> WindowExtra:
    return WindowExtra.model_validate(window.model_extra or {})


def queue_extra(queue: DomainQueue) -> QueueExtra:
    return QueueExtra.model_validate(queue.model_extra or {})
