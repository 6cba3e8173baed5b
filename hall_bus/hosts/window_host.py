"""The window terminal's devices on the hall bus (one process per window, client id ``window-<n>``).

* Caller keypad (呼叫器): each key press becomes a controller request (call next, recall, no-show,
  transfer to another window, pause/resume, start, finish); the answer is shown on the keypad's
  screen ("A001 已呼叫", or the reason it was refused).
* Window LED display (窗口屏): shows the window's current call from the retained
  ``state/window/<n>`` topic ("请 A001 号" / "3号窗口 办理中", idle, paused).
* Evaluation pad (评价器): serves ``pad.evaluate`` on ``device/<pad>/request/pad.evaluate`` (contract in
  hall_bus/device_contracts.py), answers at once, shows window, clerk and service on the pad, and
  publishes the press or the timeout as ``pad.evaluation`` on ``device/<pad>/event/evaluation``.

Devices are polled by one thread (``poll_s``); bus callbacks only queue work for it, so the bus
threads never wait on a serial line. A device that fails stays in its offline/degraded state (on the
bus) and is retried with backoff; the others go on. Every device gets a heartbeat every
``heartbeat_s`` (default 10 s): a keypad or pad that went silent shows as degraded on the bus (a quiet
line alone proves nothing: nobody pressed), one that was offline is reopened, and a recovered
one is ready again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from devices.base import DeviceError
from drivers.hallframe import fit_gb2312
from hall_bus.bus import topics
from hall_bus.bus.client import BusError, RequestFailed, ServiceError
from hall_bus.config import HallConfig
from hall_bus.contracts import devices as device_contracts
from hall_bus.hosts.device_bridge import make_bus_device

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


class WindowHost:
    def __init__(
        self, config: HallConfig, window: int, bus: Any, poll_s: float = 0.05, heartbeat_s: float = 10.0
    ) -> None:
        self.config = config
        self.window = window
        self.bus = bus
        self.hall = config.hall_id
        self.poll_s = poll_s
        self.heartbeat_s = heartbeat_s
        mine = [d for d in config.devices if d.window == window or d.host == f"window-{window}"]
        self.devices = {
            d.kind: make_bus_device(d, bus, self.hall) for d in mine if d.kind in ("pad", "caller", "display")
        }
        self.pad = self.devices.get("pad")
        self.caller = self.devices.get("caller")
        self.display = self.devices.get("display")
        self.work: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.pending_evals: dict[str, dict] = {}  # ticket code -> request; the pad holds one, a late press may follow
        self.view: dict | None = None  # the window's latest state, shown on the display until it is
        self._view_dirty = False  # shown (a display offline now shows it once it is back)
        self._display_retry_at = 0.0
        self._next_heartbeat = {kind: time.monotonic() + heartbeat_s for kind in self.devices}
        self.stats = {"keys": 0, "evaluations": 0, "device_errors": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> WindowHost:
        for dev in self.devices.values():
            try:
                dev.open()
            except DeviceError as exc:
                log.warning("window %d: %s unavailable at start: %s", self.window, dev.id, exc)
        if self.pad is not None:
            self.bus.serve(topics.device_request(self.hall, self.pad.id, "pad.evaluate"), self._serve_evaluate)
        self.bus.subscribe(topics.window_state(self.hall, self.window), self._on_window_state)
        self._thread = threading.Thread(target=self._loop, name=f"window-host-{self.window}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        for dev in self.devices.values():
            dev.close()

    # ------------------------------------------------------------------ bus side (never blocks on a device)
    def _serve_evaluate(self, env) -> dict:
        d = env.data
        if d["window"] != self.window:
            raise ServiceError("wrong_window", f"this pad belongs to window {self.window}, not {d['window']}")
        if self.pad.state.value == "offline":  # tell the controller now rather than let it wait for a timeout
            raise ServiceError("pad_offline", f"the pad {self.pad.id} is offline: {self.pad.detail}")
        self.work.put(lambda: self._start_evaluation(d))
        return {"accepted": True}

    def _on_window_state(self, topic: str, env) -> None:
        self.work.put(lambda: self._set_view(env.data))

    # ------------------------------------------------------------------ device side (the host's thread)
    def _loop(self) -> None:
        while not self._stop.is_set():
            while True:
                try:
                    job = self.work.get_nowait()
                except queue.Empty:
                    break
                self._guarded(job)
            if self.caller is not None:
                self._guarded(self._poll_caller)
            if self.pad is not None:
                self._guarded(self._poll_pad)
            if self._view_dirty and time.monotonic() >= self._display_retry_at:
                self._guarded(self._show_view)
            for kind, due in self._next_heartbeat.items():
                if time.monotonic() >= due:
                    self._next_heartbeat[kind] = time.monotonic() + self.heartbeat_s
                    self._guarded(self.devices[kind].heartbeat)
            self._stop.wait(self.poll_s)

    def _guarded(self, fn: Callable[[], None]) -> None:
        """Run one piece of device work; a failure is counted and logged, and the host goes on (a
        bug in one job must not stop the window's keys and pad)."""
        try:
            fn()
        except DeviceError as exc:
            self.stats["device_errors"] += 1
            log.info("window %d: %s", self.window, exc)
        except Exception:
            self.stats["device_errors"] += 1
            log.exception("window %d: device work failed", self.window)

    def _poll_caller(self) -> None:
        for press in self.caller.poll():
            self.stats["keys"] += 1
            op = KEY_OPS[press.key]
            data: dict = {"window": self.window}
            if press.key == "transfer":
                if not press.arg or press.arg == self.window:
                    self.caller.show_text("请选择目标窗口")
                    continue
                data["to_window"] = press.arg
            future = self.bus.request_async(op, data, timeout=5)
            future.add_done_callback(lambda f, key=press.key: self.work.put(lambda: self._key_done(key, f)))

    def _key_done(self, key: str, future) -> None:
        try:
            out = future.result()
        except RequestFailed as exc:
            self.caller.show_text(fit_gb2312(f"失败:{exc.code}", 32))
            return
        except BusError:
            self.caller.show_text("网络异常")
            return
        ticket = (out or {}).get("ticket") or ((out or {}).get("window") or {}).get("current")
        if key == "call_next" and not ticket:
            self.caller.show_text("无人等候")
        elif ticket:
            self.caller.show_text(f"{ticket['code']} {KEY_DONE[key]}")
        else:
            self.caller.show_text(KEY_DONE[key])

    def _set_view(self, view: dict) -> None:
        self.view, self._view_dirty, self._display_retry_at = view, self.display is not None, 0.0
        self._show_view()

    def _show_view(self) -> None:
        if not self._view_dirty or self.view is None:
            return
        self._display_retry_at = time.monotonic() + 2.0  # a silent display must not hold up the keys
        self._show_window(self.view)
        self._view_dirty = False

    def _show_window(self, view: dict) -> None:
        if self.display is None:
            return
        name = fit_gb2312(view.get("name") or f"{self.window}号窗口")
        current = view.get("current")
        if view.get("paused") and not current:
            self.display.show(name, "暂停服务")
        elif current and current.get("state") == "called":
            self.display.show(f"请 {current['code']} 号", f"到{self.window}号窗口")
        elif current:
            self.display.show(f"{current['code']} 办理中", name)
        else:
            self.display.show(name, "欢迎光临")

    def _start_evaluation(self, d: dict) -> None:
        self.pending_evals.pop(d["ticket"], None)
        self.pending_evals[d["ticket"]] = {"ticket_id": d["ticket_id"], "window": d["window"]}
        while len(self.pending_evals) > 8:  # the pad holds one request; older ones can only end by a late press
            self.pending_evals.pop(next(iter(self.pending_evals)))
        try:
            if d.get("staff_name") or d.get("staff_no"):
                name = fit_gb2312(d.get("staff_name", ""), int(self.pad.profile.get("max_name_bytes", 16)))
                staff_no = "".join(c for c in d.get("staff_no", "") if " " <= c <= "~")[:8]
                self.pad.show_info(self.window, staff_no, name)
            self.pad.request_evaluation(d["ticket"], d.get("timeout_s", 60))
        except DeviceError:
            self.pending_evals.pop(d["ticket"], None)  # never reached the pad: the controller's sweep ends it
            raise

    def _poll_pad(self) -> None:
        for ev in self.pad.poll():
            meta = self.pending_evals.pop(ev.ticket, None)
            if meta is None:
                log.info(
                    "window %d: a press for %s that nobody asked for (or a second press) ignored",
                    self.window,
                    ev.ticket,
                )
                continue
            self.stats["evaluations"] += 1
            self.pad.publish_event(
                "evaluation",
                "pad.evaluation",
                {
                    "ticket": ev.ticket,
                    "ticket_id": meta["ticket_id"],
                    "window": meta["window"],
                    "level": ev.level,
                    "level_name": device_contracts.LEVELS.get(ev.level) if ev.level else None,
                    "reason": ev.reason,
                    "timed_out": ev.timed_out,
                    "at": time.time(),
                },
            )


def run(config: HallConfig, window: int, host: str | None = None, port: int | None = None) -> WindowHost:
    from hall_bus.bus.client import BusClient
    from hall_bus.bus.connect import bus_settings

    client_id = f"window-{window}"
    bus = BusClient(config.hall_id, client_id, bus_settings(config, client_id, host, port)).start()
    return WindowHost(config, window, bus).start()
