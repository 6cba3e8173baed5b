"""One kiosk's session: the home screen, the flow in progress, language and elder mode.

The home screen lists the journeys. Outside opening hours (24-hour mode) staffed services are shown
as closed with today's hours while self-service (24-hour pickup, scanning, progress, rating and
self-service tickets) stays open. While only appointments are served (延时服务: hall.info's domain
modes, :class:`kiosk.ticket_view.Catalog`) the banner says so with today's appointment hours and the
appointment check-in is open beside self-service. When a flow finishes or times out the session
drops it (the flow has cleared its personal data) and shows home again.

A citizen's session ends when their journey is finished (done, 完成) or when the kiosk was left alone
(a flow's timeout, or a minute on the home screen with a language or elder mode still chosen): then
the kiosk is back to Chinese and the standard look, with nothing of that citizen kept, so the next
citizen starts fresh. Tapping 返回首页 keeps the language and mode (the same citizen goes on).

Device trouble shows on the home screen before anybody starts (``notices``): without a working ID
card reader, use the 居民码 or the keypad (60+ at the service desk); without a printer or paper, the
ticket number is shown on the screen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts.base import Empty
from hall_bus.contracts.queue import HallInfo
from kiosk.flow import Flow, KioskContext
from kiosk.i18n import DEFAULT_LANG, tr
from kiosk.identify import reader_ready
from kiosk.pickup_flow import PickupFlow
from kiosk.progress_flow import ProgressFlow
from kiosk.rate_flow import RateFlow
from kiosk.scan_flow import ScanFlow
from kiosk.ticket_flow import TicketFlow
from kiosk.ticket_view import Catalog

log = logging.getLogger(__name__)

HALL_REFRESH_S = 30.0
HOME_IDLE_S = 60.0  # a language or elder mode chosen on the home screen and left alone this long is reset

# tile id -> (i18n key, needs staffed windows)
TILES = (
    ("ticket", "home.take_ticket", True),
    ("identify", "home.identify", True),
    ("appointment", "home.appointment", True),
    ("scan", "home.scan", False),
    ("progress", "home.progress", False),
    ("pickup", "home.pickup", False),
    ("rate", "home.rate", False),
)


def pickup_flow_factory() -> Callable[[KioskContext], Flow] | None:
    """The 24-hour pickup flow (kiosk/pickup_flow.py). Always there: whether the hall runs the pickup
    feature is the controller's answer (the flow then says pickup is unavailable)."""
    return PickupFlow


class KioskSession:
    def __init__(self, ctx: KioskContext) -> None:
        self.ctx = ctx
        self.flow: Flow | None = None
        self.listeners: list[Callable[[KioskSession], None]] = []
        self.hall_ok = bool(ctx.hall)
        self.last_refresh = -1e9
        self.last_touch = ctx.clock()  # the last tap on the home screen (language, elder mode)
        self._notices: list[str] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ hall info
    def refresh_hall(self) -> bool:
        """Fetch hall.info (names, services, open_now, each domain's mode and hours today); False when the
        bus does not answer."""
        self.last_refresh = self.ctx.clock()
        try:
            info = self.ctx.call("hall.info", Empty(), HallInfo)
        except Exception as exc:
            log.info("kiosk %s: hall.info failed: %s", self.ctx.kiosk_id, exc)
            self.hall_ok = False
            self._notify()
            return False
        self.ctx.hall = info.model_dump(mode="json")  # the screens read the layout (HallInfo) as plain data
        self.hall_ok = True
        self._notify()
        return True

    def follow_hall(self, bus: Any, hall_id: str) -> KioskSession:
        """Also take hall.info as the controller republishes it (retained ``state/hall``): a window or
        domain opening or closing shows on the tiles at once, not at the next 30 s refresh."""
        bus.subscribe(topics.hall_state(hall_id), self._on_hall_state)
        return self

    def _on_hall_state(self, topic: str, env: Envelope) -> None:
        try:
            info = model_of(env, HallInfo)
        except Exception as exc:  # a layout this kiosk cannot read: keep the one it has
            log.info("kiosk %s: state/hall not taken: %s", self.ctx.kiosk_id, exc)
            return
        self.ctx.hall = info.model_dump(mode="json")
        self.hall_ok = True
        self._notify()

    def refresh_due(self, now: float | None = None) -> bool:
        now = self.ctx.clock() if now is None else now
        return now - self.last_refresh >= (HALL_REFRESH_S if self.hall_ok else 3.0)

    @property
    def open_now(self) -> bool:
        return bool(self.ctx.hall.get("open_now", True))

    @property
    def online(self) -> bool:
        connected = getattr(self.ctx.bus, "connected", True)
        return bool(connected) and self.hall_ok

    # ------------------------------------------------------------------ flows
    def make_flow(self, tile: str) -> Flow:
        if tile == "ticket":
            return TicketFlow(self.ctx)
        if tile == "identify":
            return TicketFlow(self.ctx, start="identify")
        if tile == "appointment":
            return TicketFlow(self.ctx, start="appointment")
        if tile == "scan":
            return ScanFlow(self.ctx)
        if tile == "progress":
            return ProgressFlow(self.ctx)
        if tile == "rate":
            return RateFlow(self.ctx)
        if tile == "pickup":
            return PickupFlow(self.ctx)
        raise ValueError(f"unknown kiosk tile {tile!r}")

    def start(self, tile: str) -> Flow:
        old, self.flow = self.flow, None
        if old is not None:
            old.listeners.clear()
            old.close()
        flow = self.make_flow(tile)
        flow.listeners.append(self._flow_changed)
        self.flow = flow
        self._notify()
        return flow

    def home(self) -> None:
        """Leave the current flow (its personal data is cleared) and show home."""
        flow, self.flow = self.flow, None
        if flow is not None:
            flow.listeners.clear()
            flow.close()
        self.last_touch = self.ctx.clock()
        self._notify()

    def _flow_changed(self, flow: Flow) -> None:
        if flow.finished and flow is self.flow:  # the journey ended (done, or left alone): the session ends
            self.flow = None
            flow.listeners.clear()
            self.end_session()
        self._notify()

    def end_session(self) -> None:
        """The citizen is gone: back to Chinese and the standard look (their flow has cleared its data)."""
        self.ctx.lang = DEFAULT_LANG
        self.ctx.elder = False
        self.last_touch = self.ctx.clock()

    def tick(self, now: float | None = None) -> bool:
        """Apply the current flow's timeout, or the home screen's; True when the session ended."""
        now = self.ctx.clock() if now is None else now
        flow = self.flow
        if flow is not None:
            if not flow.tick(now):
                return False
            if self.flow is flow:
                self.flow = None
            flow.listeners.clear()
            self.end_session()
            self._notify()
            return True
        changed = self._notices != self.notices()
        if (self.ctx.lang != DEFAULT_LANG or self.ctx.elder) and now - self.last_touch >= HOME_IDLE_S * (
            2.0 if self.ctx.elder else 1.0
        ):
            self.end_session()
            self._notify()
            return True
        if changed:  # a device failed or came back: the home screen says so before anybody starts
            self._notify()
        return False

    # ------------------------------------------------------------------ devices
    def notices(self) -> list[str]:
        """Device trouble the citizen should know before starting, in the current language."""
        out = []
        if not reader_ready(self.ctx.device("idcard")):
            out.append(tr("home.notice.reader", self.ctx.lang))
        printer = self.ctx.device("printer")
        if printer is None or str(getattr(getattr(printer, "state", None), "value", "")) in ("offline", "error"):
            status = printer.status() if printer is not None and hasattr(printer, "status") else {}
            out.append(tr("home.notice.paper" if status.get("paper_out") else "home.notice.printer", self.ctx.lang))
        return out

    # ------------------------------------------------------------------ settings
    def set_lang(self, lang: str) -> None:
        if lang not in ("zh", "en"):
            raise ValueError(f"language must be zh or en, got {lang!r}")
        self.ctx.lang = lang
        self.last_touch = self.ctx.clock()
        if self.flow:
            self.flow.touch()
        self._notify()

    def toggle_lang(self) -> None:
        self.set_lang("en" if self.ctx.lang == "zh" else "zh")

    def set_elder(self, on: bool) -> None:
        self.ctx.elder = bool(on)
        self.last_touch = self.ctx.clock()
        if self.flow:
            self.flow.touch()
        self._notify()

    def _notify(self) -> None:
        for fn in list(self.listeners):
            fn(self)

    # ------------------------------------------------------------------ view
    def screen(self) -> str:
        """Which screen shows now: the flow's, or home / closed (out of hours)."""
        if self.flow is not None:
            return self.flow.name
        return "home" if self.open_now else "closed"

    def home_view(self) -> dict[str, Any]:
        lang = self.ctx.lang
        hall = self.ctx.hall
        open_now = self.open_now
        walk_in = open_now and Catalog(hall, lang).walk_in_now()  # else appointments only, or closed
        hours = hall.get("hours_today", "")
        if hours == "closed":
            hours = tr("home.closed_today", lang)
        any_self_service = any(s.get("self_service") for s in hall.get("services", []))
        tiles = []
        for tid, key, staffed in TILES:
            enabled = walk_in or not staffed or (tid == "ticket" and any_self_service)
            enabled = enabled or (tid == "appointment" and open_now)  # appointments only: the check-in
            if tid == "scan":
                enabled = enabled and self.ctx.device("scanner") is not None
            sub = tr(key + ".sub", lang)
            if tid == "identify" and not reader_ready(self.ctx.device("idcard")):
                sub = tr("home.identify.no_reader", lang)
            tiles.append(
                {
                    "id": tid,
                    "label": tr(key, lang),
                    "sub": sub,
                    "enabled": enabled,
                    "staffed": staffed,
                }
            )
        if not open_now:
            tiles.sort(key=lambda t: (t["staffed"] and t["id"] != "ticket", not t["enabled"]))
        elif not walk_in:
            tiles.sort(key=lambda t: not t["enabled"])
        notices = self._notices = self.notices()
        hall_name = (hall.get("name_en") or hall.get("name", "")) if lang == "en" else hall.get("name", "")
        return {
            "screen": "home" if open_now else "closed",
            "lang": lang,
            "elder": self.ctx.elder,
            "hall_name": hall_name,
            "title": tr("app.title", lang),
            "welcome": tr("home.welcome", lang),
            "open_now": open_now,
            "hours_today": hours,
            "walk_in": walk_in,
            "banner": self._banner(open_now, walk_in, hours),
            "online": self.online,
            "offline_text": "" if self.online else tr("home.offline", lang),
            "tiles": tiles,
            "notices": notices,
            "unprinted": list(self.ctx.unprinted[-5:]),
        }

    def _banner(self, open_now: bool, walk_in: bool, hours: str) -> str:
        lang, appointments = self.ctx.lang, self.ctx.hall.get("appointments_today", "")
        if not open_now:
            return tr("home.closed", lang, hours=hours)
        if not walk_in:
            return tr("home.appointments_only", lang, hours=appointments)
        if appointments:
            return tr("home.open_appointments", lang, hours=hours, appointments=appointments)
        return tr("home.open", lang, hours=hours)

    def view(self) -> dict[str, Any]:
        flow = self.flow
        if flow is not None:
            v = flow.view()
            v["screen"] = flow.name
            v["elder"] = self.ctx.elder
            v["online"] = self.online
            return v
        return self.home_view()


def context_for(kiosk_id: str, bus: Any, devices: dict[str, Any] | None = None, **kw: Any) -> KioskContext:
    return KioskContext(kiosk_id=kiosk_id, bus=bus, devices=dict(devices or {}), **kw)
