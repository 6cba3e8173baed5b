"""24-hour self-service pickup at the kiosk (24小时自助取件): the citizen's journey as a state machine.

No Kivy here: ``ui/screens/pickup`` draws :meth:`PickupFlow.view` and calls the actions. The flow
talks to the hall controller only through ``ctx.bus.request`` (a :class:`hall_bus.client.BusClient`);
the controller verifies the citizen and opens the doors itself - the kiosk never addresses a lock.

States::

    idle ─start()─▶ identify ─card_read(token) | submit_code(code) | submit_qr(text)─▶ verifying
    verifying ─▶ choose_items            (items found: masked, no personal data)
              └▶ identify + message      (wrong code: attempts left; nothing found; bad QR)
              └▶ locked_out              (too many wrong codes at this kiosk / for this code)
    choose_items ─choose(ids | "all")─▶ opening ─▶ waiting_close   (screen: compartment number and position)
                                                └▶ error          (no door opened: seek help; items stay in the locker)
    waiting_close ─tick(): door(s) closed─▶ done, or choose_items when more items wait (one after another)
    any ─cancel() | inactivity timeout─▶ finished (back home, personal data cleared)

API (stable; the UI and tests rely on it):

* ``PickupFlow(ctx, autostart=True)`` - ``ctx`` is a :class:`kiosk.flow.KioskContext`; with
  ``autostart`` the flow begins in ``identify`` (the kiosk tile), else in ``idle``.
* actions: ``start()``, ``by_card()`` (reads ``ctx.device("idcard")``), ``card_read(token)``,
  ``type_char(ch)`` / ``backspace()`` / ``submit()`` (the code keypad), ``submit_code(code)``,
  ``by_qr()`` (reads ``ctx.device("scanner").read_code``), ``submit_qr(text)``,
  ``choose(item_ids | "all")``, ``refresh()``, ``print_slip()``, ``retry()``, ``cancel()``; actions may
  block on the bus or a device, so the UI calls them on a worker thread.
* ``tick(now=None) -> bool``: polls the doors while waiting for them to close (every ``poll_s``)
  and applies the inactivity timeout (True when it sent the kiosk home, personal data cleared).
* ``state`` (a :class:`PickupState`), ``listeners`` (called with the flow after every change), ``view() -> dict`` with
  ``state``, ``message`` (current language), ``message_zh``, ``message_en``, ``title``, ``items``
  [{item_id, item_name, service_name, case_no_masked, compartment, position, size, state, phase,
  door_open_s}], ``opened`` [{item_id, compartment, position, door}], ``failed`` (compartments that
  did not open), ``typed``/``keypad`` (code entry), ``lines`` and ``actions`` [{id, label, arg?,
  role?}] for the screen, ``locked_s``.

Every message is a sentence of ``kiosk.i18n`` keyed ``pickup.<code>`` (zh first, en available); a
refused request is told by the controller's error code.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from devices.base import DeviceFault
from drivers.escpos_docs import PickupSlipDoc
from hall_bus.contracts.pickup import Identify, Item, OpenItems, SessionView, Status, StatusView
from kiosk.clock import hall_time
from kiosk.flow import Answer, Flow, FlowState, KioskContext
from kiosk.pickup_view import (
    Places,
    Sentence,
    choose_screen,
    done_screen,
    door_lines,
    failed_rows,
    item_rows,
    opened_rows,
    position,
    text,
)
from kiosk.ports import error_detail

log = logging.getLogger(__name__)

CODE = re.compile(r"^\d{6,8}$")


class PickupState(FlowState):
    IDLE = "idle"
    IDENTIFY = "identify"
    VERIFYING = "verifying"
    CHOOSE_ITEMS = "choose_items"
    OPENING = "opening"
    WAITING_CLOSE = "waiting_close"
    DONE = "done"
    LOCKED_OUT = "locked_out"
    ERROR = "error"


S = PickupState
# start() begins again from any state, so every state may go to identify; identifying again (another
# code, the ID card after a lock-out) is allowed wherever no door is being opened or waited for
TRANSITIONS: dict[str, frozenset[str]] = {
    S.IDLE: frozenset({S.IDENTIFY, S.VERIFYING}),
    S.IDENTIFY: frozenset({S.VERIFYING}),
    S.VERIFYING: frozenset({S.IDENTIFY, S.CHOOSE_ITEMS, S.LOCKED_OUT, S.ERROR}),
    S.CHOOSE_ITEMS: frozenset({S.IDENTIFY, S.VERIFYING, S.OPENING}),
    S.OPENING: frozenset({S.IDENTIFY, S.WAITING_CLOSE, S.LOCKED_OUT, S.ERROR}),
    S.WAITING_CLOSE: frozenset({S.IDENTIFY, S.CHOOSE_ITEMS, S.DONE, S.ERROR}),
    S.DONE: frozenset({S.IDENTIFY, S.VERIFYING}),
    S.LOCKED_OUT: frozenset({S.IDENTIFY, S.VERIFYING}),
    S.ERROR: frozenset({S.IDENTIFY, S.VERIFYING, S.OPENING}),  # retry repeats the request that failed
}


class PickupFlow(Flow):
    name = "pickup"
    State = PickupState
    transitions = TRANSITIONS
    initial = S.IDLE
    timeout_s = 60.0
    busy_states = frozenset({S.VERIFYING, S.OPENING})
    keypad_chars, keypad_max = "0123456789", 8
    poll_s = 0.5
    open_wait_s = 15.0  # how long "opening" waits for the controller to report the doors
    reminder_s = 20.0  # door open this long: remind the citizen on screen

    def __init__(self, ctx: KioskContext, autostart: bool = True) -> None:
        super().__init__(ctx)
        self.session: SessionView | None = None
        self.items: list[Item] = []
        self.opened: list[int] = []  # item ids opened in this round
        self.failed: list[int] = []
        self.collected: list[Item] = []
        self.masked_id = ""
        self.locked_s = 0
        self._msg: tuple[str, dict[str, Any]] = ("idle", {})
        self._last_poll = -1e9
        if autostart:
            self.start()

    # ------------------------------------------------------------------ plumbing
    def say(self, state: str, key: str, **values: Any) -> None:
        self.go(state, self._words(key, **values))

    def _words(self, key: str, **values: Any) -> str:
        """The sentence ``pickup.<key>`` in the current language, remembered for the view's zh and en."""
        self._msg = (key, values)
        return text(key, self.ctx.lang, **values)

    def clear_personal_data(self) -> None:
        self.typed = ""
        self.session = None
        self.items, self.opened, self.failed, self.collected = [], [], [], []
        self.masked_id = ""
        self._retry = None

    def state_timeout(self) -> float:
        return 300.0 if self.state == S.WAITING_CLOSE else self.timeout_s

    def bus_down(self) -> None:
        self.say(S.ERROR, "bus")

    def retry_default(self) -> None:
        self.start()

    def _failure(self, answer: Answer[SessionView]) -> None:
        """Tell the citizen why the controller refused (its error code decides the sentence)."""
        code, msg = answer.code, answer.detail
        if answer.bus_down:
            return  # ask() shows the bus error and keeps the retry
        if code == "locked_out":
            m = re.search(r"(\d+) s\b", msg)
            self.locked_s = int(m.group(1)) if m else 0
            self.say(S.LOCKED_OUT, "locked_out", minutes=max(1, (self.locked_s + 59) // 60))
        elif code == "wrong_code":
            m = re.search(r"(\d+) attempt", msg)
            self.say(S.IDENTIFY, "wrong_code", left=m.group(1) if m else "?")
        elif code in ("not_found", "invalid_qr", "qr_expired"):
            self.say(S.IDENTIFY, code)
        elif code in ("no_session", "session_expired"):
            self.items = []
            self.say(S.IDENTIFY, "session_expired")
        elif code in ("unknown_op", "unavailable"):
            self.say(S.ERROR, "unavailable")
        else:
            self.say(S.ERROR, "failed", reason=Sentence.of_error(code))

    # ------------------------------------------------------------------ identify
    def start(self) -> None:
        """Begin (or begin again): forget any earlier citizen and ask how to identify."""
        self._cancel.clear()
        self.clear_personal_data()
        self.say(S.IDENTIFY, "identify")

    def by_card(self) -> None:
        """Wait for an ID card on the kiosk's reader and identify with its token."""
        identity = self.read_id_card(S.VERIFYING, self._words("verifying"), self._card_failed)
        if identity is None:
            return
        self.masked_id = identity.masked_id
        self.card_read(identity.token)

    def _card_failed(self, why: str, reason: str) -> None:
        # the reader's own detail stays in the log: the citizen is told what to do
        self.say(
            S.IDENTIFY, "no_reader" if why == "reader_unavailable" else why, reason=Sentence.of_error("device_error")
        )

    def card_read(self, token: str) -> None:
        """The identity token of an ID card read at this kiosk (salted HMAC, never the number)."""
        self._identify(Identify(kiosk=self.ctx.kiosk_id, method="card", token=token))

    def submit(self) -> None:
        self.submit_code(self.typed)

    def submit_code(self, code: str) -> None:
        code = code.strip()
        self.typed = ""
        if not CODE.match(code):
            self.say(S.IDENTIFY, "bad_code")
            return
        self._identify(Identify(kiosk=self.ctx.kiosk_id, method="code", code=code))

    def by_qr(self) -> None:
        scanner = self.ctx.device("scanner")
        if scanner is None or not hasattr(scanner, "read_code"):
            self.say(S.IDENTIFY, "no_scanner")
            return
        self.say(S.VERIFYING, "verifying")
        try:
            payload = scanner.read_code(15.0)
        except Exception:
            payload = None
        if not payload:
            self.say(S.IDENTIFY, "no_qr")
            return
        self.submit_qr(payload)

    def submit_qr(self, qr_text: str) -> None:
        self._identify(Identify(kiosk=self.ctx.kiosk_id, method="qr", qr=qr_text.strip()[:512]))

    def _identify(self, request: Identify) -> None:
        self.say(S.VERIFYING, "verifying")
        answer = self.ask("pickup.identify", request, SessionView, retry=lambda: self._identify(request))
        if not answer.ok:
            self._failure(answer)
            return
        if self.finished:
            return
        out = answer.reply
        self.session = out
        self.items = list(out.items)
        self.collected = []
        self.say(S.CHOOSE_ITEMS, "found", n=len(self.waiting()))

    def waiting(self) -> list[Item]:
        return [i for i in self.items if i.state == "deposited"]

    # ------------------------------------------------------------------ open and collect
    def choose(self, item_ids: Any) -> None:
        """Open the chosen items' compartments: a list of item ids, or "all" (they open together)."""
        if self.session is None:
            self.say(S.IDENTIFY, "identify")
            return
        ids = [i.item_id for i in self.waiting()] if item_ids == "all" else [int(x) for x in item_ids]
        if not ids:
            return
        self.say(S.OPENING, "opening")
        answer = self.ask(
            "pickup.open",
            OpenItems(kiosk=self.ctx.kiosk_id, session_id=self.session.session_id, item_ids=ids),
            SessionView,
            retry=lambda: self.choose(ids),
        )
        if not answer.ok:
            self._failure(answer)
            return
        self.items = list(answer.reply.items)
        self.opened, self.failed = ids, []
        deadline = time.monotonic() + self.open_wait_s  # a real wait, whatever clock drives the timeouts
        while not self.finished:
            mine = [i for i in self.items if i.item_id in ids]
            if all(i.phase != "opening" for i in mine):
                break
            if time.monotonic() > deadline or self.cancelled:
                break
            if self._cancel.wait(0.2):
                break
            self.refresh(force=True)
        self._after_open()

    def _after_open(self) -> None:
        mine = [i for i in self.items if i.item_id in self.opened]
        # not opened: refused by the locker (jammed, board error), or still unconfirmed after open_wait_s
        self.failed = [i.item_id for i in mine if (i.state == "deposited" and i.error) or i.phase == "opening"]
        open_now = [i for i in mine if i.item_id not in self.failed]
        failed_where = Places.of([i for i in mine if i.item_id in self.failed], bare=True)
        if not open_now:
            self.say(S.ERROR, "open_failed", failed=failed_where if self.failed else "?")
            return
        where = Places.of(open_now)
        if self.failed:
            self.say(S.WAITING_CLOSE, "take_partly", where=where, failed=failed_where)
        else:
            self.say(S.WAITING_CLOSE, "take", where=where)
        self._check_closed()

    def refresh(self, force: bool = False) -> None:
        """Ask the controller where this session's items stand (doors open, collected)."""
        if self.session is None:
            return
        now = self.ctx.clock()
        if not force and now - self._last_poll < self.poll_s:
            return
        self._last_poll = now
        try:
            out = self.ctx.bus.call(
                "pickup.status", Status(session_id=self.session.session_id), StatusView, timeout=2.0, retry_s=1.0
            )
        except Exception:
            return
        with self._lock:
            self.items = list(out.items)
        if self.state == S.WAITING_CLOSE:
            self._check_closed()

    def _check_closed(self) -> None:
        mine = [i for i in self.items if i.item_id in self.opened and i.item_id not in self.failed]
        if mine and all(i.state == "collected" for i in mine):
            self.collected += [i for i in mine if i.item_id not in {c.item_id for c in self.collected}]
            self.opened = []
            left = self.waiting()
            if left and not self.failed:
                self.say(S.CHOOSE_ITEMS, "more", done=len(self.collected), left=len(left))
            elif self.failed:
                failed_where = Places.of([i for i in self.items if i.item_id in self.failed], bare=True)
                self.say(S.ERROR, "open_failed", failed=failed_where)
            else:
                self.say(S.DONE, "done")
            return
        if any((i.door_open_s or 0) >= self.reminder_s for i in mine) and self._msg[0] != "reminder":
            self.say(S.WAITING_CLOSE, "reminder")
        else:
            self.go(self.state, self.message)  # redraw door timers

    def tick(self, now: float | None = None) -> bool:
        if self.state == S.WAITING_CLOSE and not self.finished:
            self.refresh()
        return super().tick(now)

    def print_slip(self) -> None:
        """Print a pickup slip (取件凭条) for each item collected in this visit."""
        printer = self.ctx.device("printer")
        if printer is None:
            self.say(self.state, "print_failed", reason=Sentence.of_error("device_offline"))
            return
        hall = self.ctx.hall.get("name", "")
        if self.ctx.lang == "en":
            hall = self.ctx.hall.get("name_en") or hall
        try:
            for i in self.collected:
                c = i.compartment
                printer.print_pickup_slip(
                    PickupSlipDoc(
                        hall_name=hall,
                        case_no=i.case_no or i.case_no_masked,
                        item_name=i.item_name or i.service_name,
                        compartment=f"{c.no} ({position(c, self.ctx.lang)})",
                        collected_at=hall_time(self.ctx.hall, i.collected_at or None),  # the hall's clock
                        id_masked=self.masked_id,
                        lang=self.ctx.lang,
                    )
                )
        except Exception as exc:
            problem = exc.code if isinstance(exc, DeviceFault) else ""
            log.warning("pickup slip not printed: %s", error_detail(exc))
            key = {"paper_out": "error.printer.paper_out", "cover_open": "error.printer.cover_open"}
            self.say(self.state, "print_failed", reason=Sentence(key.get(problem, "error.printer.unavailable")))
            return
        self.say(self.state, "printed")

    def cancel(self) -> None:
        self.close()

    # ------------------------------------------------------------------ view
    def _view(self) -> dict[str, Any]:
        lang = self.ctx.lang
        key, values = self._msg
        opened = opened_rows(self.items, self.opened, self.failed, lang)
        v: dict[str, Any] = {
            "title": text("title", lang),
            "message_zh": text(key, "zh", **values),
            "message_en": text(key, "en", **values),
            "items": item_rows(self.items, lang),
            "opened": opened,
            "failed": failed_rows(self.items, self.failed, lang),
            "locked_s": self.locked_s,
            "lines": [],
            "actions": [],
        }
        a: list[dict[str, Any]] = v["actions"]
        if self.state == S.IDENTIFY:
            v["keypad"], v["typed"] = True, self.typed
            a.append({"id": "by_card", "label": text("action.card", lang), "role": "primary"})
            if self.ctx.device("scanner") is not None:
                a.append({"id": "by_qr", "label": text("action.qr", lang)})
        elif self.state == S.CHOOSE_ITEMS:
            v["lines"], v["actions"] = choose_screen(self.items, lang)
            a = v["actions"]
        elif self.state == S.WAITING_CLOSE:
            v["lines"] = door_lines(opened, lang)
        elif self.state == S.DONE:
            v["lines"], v["actions"] = done_screen(self.collected, lang, self.ctx.device("printer") is not None)
            return v
        elif self.state == S.ERROR:
            again = {"id": "retry", "label": text("action.retry", lang)} if self._retry else None
            a.append({**(again or {"id": "start", "label": text("action.again", lang)}), "role": "primary"})
        elif self.state == S.LOCKED_OUT:
            a.append({"id": "start", "label": text("action.again", lang)})
        a.append({"id": "cancel", "label": text("action.cancel", lang)})
        return v
