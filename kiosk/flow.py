"""The common base of the kiosk flows: a state, a view for the screen, a timeout back home.

A flow is a plain state machine. Its *actions* (methods the screen calls when the citizen taps)
may block on a device or the bus; the UI calls them on a worker thread and redraws whenever the
flow notifies its listeners, so the screen never freezes. ``view()`` is cheap and safe to call from
any thread at any time: it returns a plain dict describing what the screen shows, already in the
current language.

Every flow has an inactivity timeout (longer in elder mode). ``tick(now)`` applies it: the flow
clears every piece of personal data it held (identity, codes typed, scanned pages) and marks itself
``finished`` so the session returns to the home screen.

Every flow declares its states (``State``, a ``str`` enum, so ``flow.state == "domain"`` holds) and
its transitions (``transitions``: state -> the states it may go to). :meth:`Flow.go` refuses an
undeclared state or transition with :class:`TransitionError`. Staying in the same state (a redraw)
is always allowed, and ``error`` (a failed action shown on the error screen) is reachable from
every state. Three helpers are shared by the flows: :class:`Keypad` (code entry on the on-screen
keypad), :meth:`Flow.ask` (a bus request that, when the bus does not answer, shows the bus error
and remembers how to retry) and :meth:`Flow.read_id_card` (waiting for an ID card on the kiosk's
reader, with the three ways it can fail told by one name each).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic

from pydantic import BaseModel

from hall_bus.bus.client import RequestFailed
from hall_bus.bus.envelope import M
from kiosk.i18n import tr
from kiosk.i18n.errors import error_sentence
from kiosk.identify import CardReadFailed, NoCard, ReaderUnavailable, read_card_identity
from kiosk.ports import BusPort, Identity, error_detail, is_bus_error
from kiosk.resident_code import NoVerifier, ResidentCodeVerifier

log = logging.getLogger(__name__)

Listener = Callable[["Flow"], None]
CardFailure = Callable[[str, str], None]  # (why, reason): why is "reader_unavailable", "no_card" or "card_failed"


class FlowState(str, enum.Enum):
    """Base of the flows' state enums: a state is its string (``str(State.DOMAIN) == "domain"``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class BaseState(FlowState):
    START = "start"
    ERROR = "error"


class TransitionError(ValueError):
    """A flow was asked to go to a state it does not declare, or by a transition it does not declare."""


@dataclass(frozen=True)
class Answer(Generic[M]):
    """The outcome of :meth:`Flow.ask`: the typed reply ``data`` when ``ok``; else the error ``code`` and its
    ``detail``.

    ``code`` is the other side's :attr:`RequestFailed.code`, ``"bus"`` when the bus did not answer (the
    flow already shows the bus error and will retry), or ``"failed"`` for any other exception.
    """

    data: M | None = None
    code: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.code

    @property
    def reply(self) -> M:
        """The typed reply of an ``ok`` answer (a programming error to ask for it otherwise)."""
        if self.data is None:
            raise RuntimeError(f"no reply: {self.code or 'empty'}: {self.detail}")
        return self.data

    @property
    def bus_down(self) -> bool:
        return self.code == "bus"


class Keypad:
    """What the citizen typed on the on-screen keypad: allowed characters, a maximum length."""

    def __init__(self, chars: str, max_len: int, upper: bool = True) -> None:
        self.chars, self.max_len, self.upper = chars, max_len, upper
        self.text = ""

    def type(self, ch: str) -> bool:
        """Append ``ch`` when allowed; True when it was."""
        ch = ch.upper() if self.upper else ch
        if len(ch) != 1 or ch not in self.chars or len(self.text) >= self.max_len:
            return False
        self.text += ch
        return True

    def backspace(self) -> None:
        self.text = self.text[:-1]

    def clear(self) -> None:
        self.text = ""


@dataclass
class KioskContext:
    """What every flow of one kiosk shares: the bus, the hall, the devices and the citizen's settings."""

    kiosk_id: str
    bus: BusPort
    devices: dict[str, Any] = field(default_factory=dict)  # 'idcard' | 'printer' | 'scanner' -> device or None
    hall: dict[str, Any] = field(default_factory=dict[str, Any])  # the controller's hall.info
    clock: Callable[[], float] = time.monotonic
    lang: str = "zh"
    elder: bool = False
    request_timeout_s: float = 5.0
    card_wait_s: float = 20.0
    salt: bytes | None = None  # identity token salt; None = devices.identity's configured salt
    resident_codes: ResidentCodeVerifier = field(default_factory=NoVerifier)  # 居民码 verifier ([identity])
    unprinted: list[dict[str, Any]] = field(
        default_factory=list[Any]
    )  # tickets the printer could not print (for staff)

    @property
    def timeout_factor(self) -> float:
        return 2.0 if self.elder else 1.0

    def device(self, kind: str) -> Any:
        return self.devices.get(kind)

    def call(self, op: str, request: BaseModel, reply: type[M]) -> M:
        """The typed bus request ``op`` (its contract's request model in, response model ``reply`` back)."""
        return self.bus.call(op, request, reply, timeout=self.request_timeout_s, retry_s=1.0)

    def tr(self, key: str, **values: object) -> str:
        return tr(key, self.lang, **values)

    def error_sentence(self, code: str, detail: str = "") -> str:
        """What the citizen reads for the controller's error ``code``: its sentence ``error.<code>`` (a general
        one for a code without its own); the detail, in the controller's English, goes to the log only."""
        if detail:
            log.info("kiosk %s: error %s: %s", self.kiosk_id, code or "-", detail)
        return error_sentence(code, self.lang)


class Flow:
    """Base of every kiosk flow (see the module docstring)."""

    name = "flow"
    State: ClassVar[type[FlowState]] = BaseState
    transitions: ClassVar[Mapping[str, frozenset[str]]] = {BaseState.START: frozenset(), BaseState.ERROR: frozenset()}
    initial: str = BaseState.START
    timeout_s = 60.0
    busy_states: frozenset[str] = frozenset()  # states in which a device/bus call is running
    keypad_chars = ""  # characters the keypad accepts ("" = this flow has no keypad)
    keypad_max = 32

    def __init__(self, ctx: KioskContext) -> None:
        self.ctx = ctx
        self.state: FlowState = self.State(self.initial)
        self.data: dict[str, Any] = {}
        self.message = ""
        self.finished = False
        self.timed_out = False
        self.listeners: list[Listener] = []
        self.last_activity = ctx.clock()
        self._lock = threading.RLock()
        self._cancel = threading.Event()
        self._retry: Callable[[], None] | None = None
        self.keypad = Keypad(self.keypad_chars, self.keypad_max)

    # ------------------------------------------------------------------ timing
    @property
    def timeout(self) -> float:
        return self.state_timeout() * self.ctx.timeout_factor

    def state_timeout(self) -> float:
        """Seconds of inactivity allowed in the current state (subclasses may vary it per state)."""
        return self.timeout_s

    def touch(self) -> None:
        self.last_activity = self.ctx.clock()

    def seconds_left(self, now: float | None = None) -> float:
        now = self.ctx.clock() if now is None else now
        return max(0.0, self.timeout - (now - self.last_activity))

    def tick(self, now: float | None = None) -> bool:
        """Apply the inactivity timeout; True when it fired (personal data cleared, flow finished)."""
        now = self.ctx.clock() if now is None else now
        if self.finished or self.state in self.busy_states:
            return False
        if now - self.last_activity >= self.timeout:
            self.timed_out = True
            self.close()
            return True
        return False

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Leave the flow: cancel any wait, clear personal data, go home."""
        self._cancel.set()
        with self._lock:
            self.clear_personal_data()
            self.keypad.clear()
            self._retry = None
            self.data.clear()
            self.message = ""
            self.state = self.State(self.initial)
            self.finished = True
        self._notify()

    def clear_personal_data(self) -> None:
        """Forget identity, typed codes and scans; subclasses extend."""

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # ------------------------------------------------------------------ state changes
    @classmethod
    def check_transition(cls, current: str, state: str) -> FlowState:
        """``state`` as this flow's State member, when the flow may go there from ``current``."""
        try:
            target = cls.State(state)
        except ValueError:
            raise TransitionError(
                f"{cls.name}: {state!r} is not a state of this flow ({', '.join(s.value for s in cls.State)})"
            ) from None
        if target == current or target == "error" or target in cls.transitions.get(current, frozenset()):
            return target
        raise TransitionError(f"{cls.name}: no transition {current!s} -> {target!s}")

    def go(self, state: str, message: str = "", **data: Any) -> None:
        """Go to a declared state by a declared transition (else :class:`TransitionError`)."""
        with self._lock:
            if self.finished:
                return
            self.state = self.check_transition(self.state, state)
            self.message = message
            self.data.update(data)
            self.touch()
        self._notify()

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener(self)

    # ------------------------------------------------------------------ keypad
    @property
    def typed(self) -> str:
        return self.keypad.text

    @typed.setter
    def typed(self, value: str) -> None:
        self.keypad.text = value

    def type_char(self, ch: str) -> None:
        self.keypad.type(ch)
        self.go(self.state, self.message)

    def backspace(self) -> None:
        self.keypad.backspace()
        self.go(self.state, self.message)

    # ------------------------------------------------------------------ bus requests
    def ask(
        self,
        op: str,
        request: BaseModel,
        reply: type[M],
        retry: Callable[[], None] | None,
        timeout: float | None = None,
    ) -> Answer[M]:
        """Request ``op`` with its contract's ``request`` model, the answer typed as ``reply``; when the bus
        does not answer, show the bus error and remember ``retry``."""
        try:
            out = self.ctx.bus.call(op, request, reply, timeout=timeout or self.ctx.request_timeout_s, retry_s=1.0)
        except RequestFailed as exc:
            return Answer(code=exc.code, detail=error_detail(exc))
        except Exception as exc:
            if not is_bus_error(exc):
                return Answer(code="failed", detail=error_detail(exc))
            self._retry = retry
            self.bus_down()
            return Answer(code="bus", detail=error_detail(exc))
        return Answer(data=out)

    def bus_down(self) -> None:
        """Show that the bus did not answer (flows with another bus error screen override it)."""
        self.go("bus_error", self.ctx.tr("error.bus"))

    def retry(self) -> None:
        """Repeat what failed because the bus was down; without one, :meth:`retry_default`."""
        action, self._retry = self._retry, None
        (action or self.retry_default)()

    def retry_default(self) -> None:
        self.go(self.initial)

    # ------------------------------------------------------------------ ID card
    def read_id_card(
        self, state: str, message: str, failed: CardFailure, today: dt.date | None = None
    ) -> Identity | None:
        """Go to ``state`` (saying ``message``), wait for an ID card on the kiosk's reader and read it.

        ``None`` when no identity came: ``failed(why, reason)`` was told why (``"reader_unavailable"``,
        ``"no_card"`` or ``"card_failed"`` with the reader's ``reason``), or the citizen left meanwhile
        (then nothing is kept). A cancel (:meth:`close`) ends the wait within half a second.
        """
        self._cancel.clear()
        self.go(state, message)
        try:
            identity = read_card_identity(
                self.ctx.device("idcard"), self.ctx.card_wait_s, lambda: self.cancelled, self.ctx.salt, today=today
            )
        except ReaderUnavailable:
            failed("reader_unavailable", "")
            return None
        except NoCard:
            failed("no_card", "")
            return None
        except CardReadFailed as exc:
            failed("card_failed", str(exc))
            return None
        return None if self.finished else identity

    # ------------------------------------------------------------------ view
    def view(self) -> dict[str, Any]:
        with self._lock:
            v = {
                "flow": self.name,
                "state": self.state,
                "message": self.message,
                "busy": self.state in self.busy_states,
                "finished": self.finished,
                "seconds_left": int(self.seconds_left()),
                "lang": self.ctx.lang,
            }
            v.update(self._view())
            return v

    def _view(self) -> dict[str, Any]:
        return {}
