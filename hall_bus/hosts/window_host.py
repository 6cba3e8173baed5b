"""The window terminal's devices on the hall bus (one process per window, client id ``window-<n>``).

* Caller keypad (呼叫器): each key press becomes a controller request (call next, recall, no-show,
  transfer to another window, pause/resume, start, finish); the answer is shown on the keypad's
  screen ("A001 已呼叫", or the reason it was refused).
* Window LED display (窗口屏): shows the window's current call from the retained
  ``state/window/<n>`` topic ("请 A001 号" / "3号窗口 办理中", idle, paused).
* Evaluation pad (评价器): serves ``pad.evaluate`` on ``device/<pad>/request/pad.evaluate`` (contract in
  hall_bus/contracts/devices.py), answers at once, shows window, clerk and service on the pad, and
  publishes the press or the timeout as ``pad.evaluation`` on ``device/<pad>/event/evaluation``.
* Receipt printer (窗口回执打印机, kind ``printer`` with ``window = N``, ``host = "window-N"``): serves
  ``printer.print`` on ``device/<printer>/request/printer.print`` (the controller's only), printing a
  帮办代办 回执 or a 办件受理回执 (:mod:`hall_bus.controller.window_print`). Unlike the pad's, its
  answer waits for the page: printed, or the reason as a code (``paper_out``, ``cover_open``,
  ``printer_offline``, ``printer_timeout``, ``printer_error``; ``print_unknown`` when the host's thread
  did not get to it within :data:`PRINT_WAIT_S`). The printing itself runs on the host's thread like
  every other device exchange; the bus dispatch thread only waits for its result. A repeated request
  (the same transaction) is answered from the bus client's memory and never printed twice.

Devices are polled by one thread (``poll_s``); bus callbacks only queue work for it, so the bus
threads never wait on a serial line. A device that fails stays in its offline/degraded state (on the
bus) and is retried with backoff; the others go on. Every device gets a heartbeat every
``heartbeat_s`` (default 10 s): a keypad or pad that went silent shows as degraded on the bus (a quiet
line alone proves nothing: nobody pressed), one that was offline is reopened, and a recovered
one is ready again.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import queue
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from devices.base import Device, DeviceError, DeviceOffline, DeviceTimeout
from devices.caller import CallerKeypad
from devices.display import WindowDisplay
from devices.halldev import HallFrameDeviceBase
from devices.pad import EvaluationPad
from devices.printer import PrinterNotReady, ReceiptPrinter
from drivers.escpos_docs import ProxyReceiptDoc
from drivers.hallframe import fit_gb2312
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, BusError, RequestFailed, ServiceError
from hall_bus.bus.credentials import web_hosted
from hall_bus.bus.envelope import Envelope, MessageError, model_of
from hall_bus.config import HallConfig
from hall_bus.contracts import registry
from hall_bus.contracts.base import as_data
from hall_bus.contracts.devices import PadAccepted, PadEvaluate, PadEvaluation, PrinterPrint, PrinterPrinted
from hall_bus.contracts.queue import (
    WindowCalled,
    WindowOne,
    WindowRecalled,
    WindowRequest,
    WindowTicket,
    WindowTransfer,
    WindowView,
)
from hall_bus.controller.window_print import doc_of
from hall_bus.hosts.device_bridge import make_bus_device
from hall_bus.hosts.host import D, DeviceHost, as_kind, host_bus
from hall_bus.vocabulary import LEVELS

log = logging.getLogger(__name__)

KEY_OPS = {
    "call_next": "window.call",
    "recall": "window.recall",
    "no_show": "window.no_show",
    "transfer": "window.transfer",
    "pause": "window.pause",
    "resume": "window.resume",
    "start": "window.start",
    "finish": "window.finish",
}
KEY_DONE = {
    "call_next": "已呼叫",
    "recall": "已重呼",
    "no_show": "已过号",
    "transfer": "已转移",
    "pause": "已暂停",
    "resume": "已恢复",
    "start": "办理中",
    "finish": "已办结",
}
KINDS = {"pad": EvaluationPad, "caller": CallerKeypad, "display": WindowDisplay}
PRINT_WAIT_S = 6.0  # the longest a printer.print waits for the host's thread (the controller waits 8 s)
NOT_READY = {"paper_out": "paper_out", "cover_open": "cover_open", "offline": "printer_offline"}


class Shown(BaseModel):
    """A ticket as the keypad and the display show it (free-form in the answers: ``Anything``, extra fields)."""

    code: str
    state: str = ""


class WindowShown(BaseModel):
    """The extra fields of a window's state (:class:`WindowView` names number, name, domains and state)."""

    paused: bool = False
    current: Shown | None = None


def shown_ticket(answer: BaseModel) -> str | None:
    """The code of the ticket a window operation's answer is about, if any."""
    if isinstance(answer, WindowRecalled | WindowTicket):
        return answer.ticket.code
    if isinstance(answer, WindowCalled):
        return None if answer.ticket is None else Shown.model_validate(answer.ticket.model_dump()).code
    if isinstance(answer, WindowOne):
        current = WindowShown.model_validate(answer.window.model_extra or {}).current
        return None if current is None else current.code
    return None


class WindowHost(DeviceHost):
    def __init__(
        self, config: HallConfig, window: int, bus: BusClient, poll_s: float = 0.05, heartbeat_s: float = 10.0
    ) -> None:
        super().__init__(config, bus, f"window-host-{window}", poll_s)
        self.window = window
        self.heartbeat_s = heartbeat_s
        mine = [  # (a window's tablet is the web console's to host: credentials.web_hosted)
            d for d in config.devices if (d.window == window or d.host == f"window-{window}") and not web_hosted(d)
        ]
        self.devices: dict[str, HallFrameDeviceBase] = {
            d.kind: as_kind(make_bus_device(d, bus, self.hall), KINDS[d.kind]) for d in mine if d.kind in KINDS
        }
        self.pad = self._device("pad", EvaluationPad)
        self.caller = self._device("caller", CallerKeypad)
        self.display = self._device("display", WindowDisplay)
        printers = [d for d in mine if d.kind == "printer"]
        self.printer: ReceiptPrinter | None = (
            as_kind(make_bus_device(printers[0], bus, self.hall), ReceiptPrinter) if printers else None
        )
        self._printer_check_at = time.monotonic() + heartbeat_s
        self.work: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.pending_evals: dict[
            str, PadEvaluate
        ] = {}  # ticket code -> request; the pad holds one, a late press may follow
        self.view: WindowView | None = None  # the window's latest state, shown on the display until it is
        self._view_dirty = False  # shown (a display offline now shows it once it is back)
        self._display_retry_at = 0.0
        self._next_heartbeat = {kind: time.monotonic() + heartbeat_s for kind in self.devices}
        self.stats.update(keys=0, evaluations=0, printed=0)

    def _device(self, kind: str, cls: type[D]) -> D | None:
        device = self.devices.get(kind)
        return None if device is None else as_kind(device, cls)

    # ------------------------------------------------------------------ DeviceHost
    def owned(self) -> list[Device]:
        return [*self.devices.values(), *([self.printer] if self.printer is not None else [])]

    def attach(self) -> None:
        pad = self.pad
        if pad is not None:
            topic = topics.device_request(self.hall, pad.id, "pad.evaluate")
            self.bus.serve(topic, lambda env: self._serve_evaluate(pad, env))
        printer = self.printer
        if printer is not None:
            topic = topics.device_request(self.hall, printer.id, "printer.print")
            self.bus.serve(topic, lambda env: self._serve_print(printer, env))
        self.bus.subscribe(topics.window_state(self.hall, self.window), self._on_window_state)

    # ------------------------------------------------------------------ bus side (never touches a device)
    def _serve_evaluate(self, pad: EvaluationPad, env: Envelope) -> dict[str, Any]:
        req = model_of(env, PadEvaluate)
        if req.window != self.window:
            raise ServiceError("wrong_window", f"this pad belongs to window {self.window}, not {req.window}")
        if pad.state.value == "offline":  # tell the controller now rather than let it wait for a timeout
            raise ServiceError("pad_offline", f"the pad {pad.id} is offline: {pad.detail}")
        self.work.put(lambda: self._start_evaluation(pad, req))
        return as_data(PadAccepted(accepted=True))

    def _serve_print(self, printer: ReceiptPrinter, env: Envelope) -> dict[str, Any]:
        """Print on the host's thread and answer with the result (see the module docstring)."""
        req = model_of(env, PrinterPrint)
        if req.window != self.window:
            raise ServiceError("wrong_window", f"this printer belongs to window {self.window}, not {req.window}")
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def job() -> None:
            if done.set_running_or_notify_cancel():
                try:
                    self._print(printer, req)
                except Exception as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(None)

        self.work.put(job)
        try:
            done.result(PRINT_WAIT_S)
        except concurrent.futures.TimeoutError:
            if done.cancel():  # not started: it never will be
                raise ServiceError("printer_busy", "the window host did not get to the print; not printed") from None
            raise ServiceError(
                "print_unknown", "the printer is still printing; look at it before printing again"
            ) from None
        except PrinterNotReady as exc:
            raise ServiceError(NOT_READY.get(exc.code, "printer_error"), str(exc)) from None
        except DeviceOffline as exc:
            raise ServiceError("printer_offline", str(exc)) from None
        except DeviceTimeout as exc:
            raise ServiceError("printer_timeout", str(exc)) from None
        except DeviceError as exc:
            raise ServiceError("printer_error", str(exc)) from None
        return as_data(PrinterPrinted(printed=True, state=printer.state.value))

    def _print(self, printer: ReceiptPrinter, req: PrinterPrint) -> None:
        doc = doc_of(req.document, req.lang)
        if isinstance(doc, ProxyReceiptDoc):
            printer.print_proxy_receipt(doc)
        else:
            printer.print_case_receipt(doc)
        self.stats["printed"] += 1

    def _on_window_state(self, topic: str, env: Envelope) -> None:
        try:
            view = model_of(env, WindowView)  # the state's contract model (checked when it arrived)
        except MessageError as exc:
            log.warning("window %d: state on %s ignored: %s", self.window, topic, exc)
            return
        self.work.put(lambda: self._set_view(view))

    # ------------------------------------------------------------------ device side (the host's thread)
    def tick(self) -> None:
        while True:
            try:
                job = self.work.get_nowait()
            except queue.Empty:
                break
            self.guarded(job)
        caller, pad = self.caller, self.pad
        if caller is not None:
            self.guarded(lambda: self._poll_caller(caller))
        if pad is not None:
            self.guarded(lambda: self._poll_pad(pad))
        if self._view_dirty and time.monotonic() >= self._display_retry_at:
            self.guarded(self._show_view)
        for kind, due in self._next_heartbeat.items():
            if time.monotonic() >= due:
                self._next_heartbeat[kind] = time.monotonic() + self.heartbeat_s
                self.guarded(self.devices[kind].heartbeat)
        printer = self.printer
        if printer is not None and time.monotonic() >= self._printer_check_at:
            self._printer_check_at = time.monotonic() + self.heartbeat_s
            self.guarded(printer.refresh)  # paper and cover on the bus; an offline printer reopened

    def _poll_caller(self, caller: CallerKeypad) -> None:
        for press in caller.poll():
            self.stats["keys"] += 1
            op = KEY_OPS[press.key]
            request: BaseModel = WindowRequest(window=self.window)
            if press.key == "transfer":
                if not press.arg or press.arg == self.window:
                    caller.show_text("请选择目标窗口")
                    continue
                request = WindowTransfer(window=self.window, to_window=press.arg)
            future = self.bus.request_async(op, as_data(request), timeout=5)
            future.add_done_callback(functools.partial(self._answered, caller, press.key))

    def _answered(self, caller: CallerKeypad, key: str, future: concurrent.futures.Future[Any]) -> None:
        self.work.put(lambda: self._key_done(caller, key, future))  # shown on the host's thread

    def _key_done(self, caller: CallerKeypad, key: str, future: concurrent.futures.Future[Any]) -> None:
        try:
            answer = registry().requests[KEY_OPS[key]].response.model_validate(future.result())
        except RequestFailed as exc:
            caller.show_text(fit_gb2312(f"失败:{exc.code}", 32))
            return
        except BusError:
            caller.show_text("网络异常")
            return
        ticket = shown_ticket(answer)
        if key == "call_next" and not ticket:
            caller.show_text("无人等候")
        elif ticket:
            caller.show_text(f"{ticket} {KEY_DONE[key]}")
        else:
            caller.show_text(KEY_DONE[key])

    def _set_view(self, view: WindowView) -> None:
        self.view, self._view_dirty, self._display_retry_at = view, self.display is not None, 0.0
        self._show_view()

    def _show_view(self) -> None:
        if not self._view_dirty or self.view is None:
            return
        self._display_retry_at = time.monotonic() + 2.0  # a silent display must not hold up the keys
        self._show_window(self.view)
        self._view_dirty = False

    def _show_window(self, view: WindowView) -> None:
        if self.display is None:
            return
        name = fit_gb2312(view.name or f"{self.window}号窗口")
        more = WindowShown.model_validate(view.model_extra or {})
        current = more.current
        if more.paused and not current:
            self.display.show(name, "暂停服务")
        elif current and current.state == "called":
            self.display.show(f"请 {current.code} 号", f"到{self.window}号窗口")
        elif current:
            self.display.show(f"{current.code} 办理中", name)
        else:
            self.display.show(name, "欢迎光临")

    def _start_evaluation(self, pad: EvaluationPad, req: PadEvaluate) -> None:
        self.pending_evals.pop(req.ticket, None)
        self.pending_evals[req.ticket] = req
        while len(self.pending_evals) > 8:  # the pad holds one request; older ones can only end by a late press
            self.pending_evals.pop(next(iter(self.pending_evals)))
        try:
            if req.staff_name or req.staff_no:
                name = fit_gb2312(req.staff_name or "", int(pad.profile.get("max_name_bytes", 16)))
                staff_no = "".join(c for c in req.staff_no or "" if " " <= c <= "~")[:8]
                pad.show_info(self.window, staff_no, name)
            pad.request_evaluation(req.ticket, req.timeout_s)
        except DeviceError:
            self.pending_evals.pop(req.ticket, None)  # never reached the pad: the controller's sweep ends it
            raise

    def _poll_pad(self, pad: EvaluationPad) -> None:
        for ev in pad.poll():
            req = self.pending_evals.pop(ev.ticket, None)
            if req is None:
                log.info(
                    "window %d: a press for %s that nobody asked for (or a second press) ignored",
                    self.window,
                    ev.ticket,
                )
                continue
            self.stats["evaluations"] += 1
            try:
                event = PadEvaluation.model_validate(
                    {
                        "ticket": ev.ticket,
                        "ticket_id": req.ticket_id,
                        "window": req.window,
                        "level": ev.level,
                        "level_name": LEVELS.get(ev.level) if ev.level else None,
                        "reason": ev.reason,
                        "timed_out": ev.timed_out,
                        "at": time.time(),
                    }
                )
            except ValidationError as exc:  # the controller would drop it; its sweep closes the evaluation
                log.warning(
                    "window %d: pad result for %s breaks its contract, not sent: %s", self.window, ev.ticket, exc
                )
                continue
            pad.publish_event("evaluation", "pad.evaluation", as_data(event))


def run(config: HallConfig, window: int, host: str | None = None, port: int | None = None) -> WindowHost:
    """Start the host of ``window``'s devices on its own bus client ``window-<n>``."""
    return WindowHost(config, window, host_bus(config, f"window-{window}", host, port)).start()
