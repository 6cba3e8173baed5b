"""Device alerts (设备告警) of the web console: derived from what the bus says, open while the condition
lasts, closed by themselves when it ends, acknowledged by a manager.

What opens an alert (the ``kind``), and what the bus carries for it:

==================  ========  ==============================================================
kind                severity  condition
==================  ========  ==============================================================
``paper_out``       critical  a printer's ``device/<id>/state`` says ``paper_out`` (devices/printer.py)
``cover_open``      critical  a printer's state says ``cover_open``
``paper_low``       warning   a printer's state says ``paper_near_end``
``reader_offline``  critical  an ID card reader is ``offline``/``error`` or its availability is offline
``pad_silent``      warning   a pad is ``offline``/``error``, its availability is offline, or it has
                              said nothing (no state, no availability) for ``silent_after_s``
``device_offline``  critical  any other device: state ``offline`` or availability offline
``device_error``    critical  any other device: state ``error`` (answers, cannot do its job)
``kiosk_offline``   critical  ``client/<kiosk>/availability`` is offline (its last will)
``door_left_open``  warning   the pickup event ``door_left_open`` until the compartment's next event
``locker_jammed``   critical  the pickup event ``open_failed`` until the fault is cleared
==================  ========  ==============================================================

Each occurrence is one row of ``web_alerts`` in the console's own SQLite (``web.db``), so an
acknowledgement survives a restart; on start the open rows are loaded and the retained states
arriving again either keep them or close them. Every change is sent as ``alert/<id>`` through
:meth:`HallLive.publish` (the live hall and the devices page show them).

The availability envelopes carry no ``data`` (only ``state``), so the watcher subscribes to each
configured device's and kiosk's availability topic itself and passes ``{"online": bool}`` on under the
same live keys (``device-availability/<id>``, ``client-availability/<id>``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hall_bus.config import HallConfig
from hall_bus.features.pickup.config import from_config as pickup_settings
from ui.web.app import WebContext
from ui.web.i18n import strings, t
from ui.web.live import HallLive

log = logging.getLogger(__name__)

EXTRA_KEY = "alerts"
SILENT_AFTER_S = 120.0
TICK_S = 2.0

SEVERITY = {
    "paper_out": "critical",
    "cover_open": "critical",
    "paper_low": "warning",
    "reader_offline": "critical",
    "pad_silent": "warning",
    "device_offline": "critical",
    "device_error": "critical",
    "kiosk_offline": "critical",
    "door_left_open": "warning",
    "locker_jammed": "critical",
}
DEVICE_KINDS: dict[str, tuple[str, ...]] = {  # the alerts each device kind can raise
    "printer": ("paper_out", "cover_open", "paper_low", "device_offline", "device_error"),
    "idcard": ("reader_offline",),
    "pad": ("pad_silent",),
}
GENERIC = ("device_offline", "device_error")

strings(
    {
        "alert.paper_out": (
            "{where}的打印机缺纸，请更换打印纸。",
            "The printer at {where_en} is out of paper; load a new roll.",
        ),
        "alert.cover_open": (
            "{where}的打印机盖未关好，请关上打印机盖。",
            "The printer cover at {where_en} is open; close it.",
        ),
        "alert.paper_low": ("{where}的打印纸即将用完，请准备更换。", "The printer paper at {where_en} is running low."),
        "alert.reader_offline": (
            "{where}的身份证阅读器离线，群众无法刷证。",
            "The ID card reader at {where_en} is offline; citizens cannot use their cards.",
        ),
        "alert.pad_silent": (
            "{where}的评价器没有响应，请检查评价器的连接。",
            "The evaluation pad at {where_en} is not answering; check its cable.",
        ),
        "alert.device_offline": ("{where}的设备 {device} 离线。", "Device {device} at {where_en} is offline."),
        "alert.device_error": (
            "{where}的设备 {device} 故障：{detail}",
            "Device {device} at {where_en} has a fault: {detail}",
        ),
        "alert.kiosk_offline": ("自助机“{where}”离线。", "The kiosk {where_en} is offline."),
        "alert.door_left_open": (
            "取件柜 {compartment} 号柜门未关（{position}），请去关门。",
            "Locker compartment {compartment} ({position}) was left open; please close it.",
        ),
        "alert.locker_jammed": (
            "取件柜 {compartment} 号柜门打不开（{position}），已停用，修好后请在“24小时自助取件”页面恢复。",
            "Locker compartment {compartment} ({position}) did not open and is out of service; "
            "put it back on the pickup page once repaired.",
        ),
    }
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_alerts (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL,          -- kind:subject, one open row per key
    kind            TEXT NOT NULL,
    device          TEXT NOT NULL,
    severity        TEXT NOT NULL,
    fill            TEXT NOT NULL,          -- JSON: the values of the sentence
    opened_at       REAL NOT NULL,
    closed_at       REAL,
    acknowledged_by TEXT,
    acknowledged_at REAL
);
CREATE INDEX IF NOT EXISTS web_alerts_open ON web_alerts (closed_at, key);
"""


@dataclass
class Alert:
    id: int
    key: str
    device: str
    kind: str
    severity: str
    text: str
    text_en: str
    opened_at: float
    open: bool
    closed_at: float | None
    acknowledged_by: str | None
    acknowledged_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AlertBook:
    """The alerts in ``web_alerts``: open one for a key (or keep it), close it, acknowledge it."""

    def __init__(self, db: sqlite3.Connection, publish: Callable[[Alert], None], clock: Callable[[], float]) -> None:
        self.db, self.publish, self.clock = db, publish, clock
        self.lock = threading.RLock()
        db.executescript(SCHEMA)

    def _alert(self, row: tuple[Any, ...]) -> Alert:
        aid, key, kind, device, severity, fill, opened_at, closed_at, by, at = row
        values = json.loads(fill)
        return Alert(
            aid,
            key,
            device,
            kind,
            severity,
            t(f"alert.{kind}", "zh", **values),
            t(f"alert.{kind}", "en", **values),
            opened_at,
            closed_at is None,
            closed_at,
            by,
            at,
        )

    def _rows(self, where: str, args: tuple[Any, ...] = ()) -> list[Alert]:
        rows = self.db.execute(
            "SELECT id, key, kind, device, severity, fill, opened_at, closed_at, acknowledged_by, acknowledged_at "
            f"FROM web_alerts {where}",
            args,
        ).fetchall()
        return [self._alert(r) for r in rows]

    def open_alerts(self) -> list[Alert]:
        return self._rows("WHERE closed_at IS NULL ORDER BY opened_at DESC")

    def recent(self, limit: int = 100) -> list[Alert]:
        """Open alerts first (newest first), then the latest closed ones."""
        return self._rows("ORDER BY closed_at IS NOT NULL, COALESCE(closed_at, opened_at) DESC LIMIT ?", (limit,))

    def get(self, alert_id: int) -> Alert | None:
        found = self._rows("WHERE id=?", (alert_id,))
        return found[0] if found else None

    def raise_(self, kind: str, subject: str, device: str, /, **values: Any) -> None:
        key = f"{kind}:{subject}"
        with self.lock:
            if self.db.execute("SELECT 1 FROM web_alerts WHERE key=? AND closed_at IS NULL", (key,)).fetchone():
                return
            cur = self.db.execute(
                "INSERT INTO web_alerts (key, kind, device, severity, fill, opened_at) VALUES (?,?,?,?,?,?)",
                (key, kind, device, SEVERITY[kind], json.dumps(values, ensure_ascii=False), self.clock()),
            )
            alert = self.get(int(cur.lastrowid or 0))
        if alert is not None:
            log.warning("web alert %s opened: %s", key, alert.text_en)
            self.publish(alert)

    def resolve(self, kind: str, subject: str) -> None:
        key = f"{kind}:{subject}"
        with self.lock:
            ids = [r[0] for r in self.db.execute("SELECT id FROM web_alerts WHERE key=? AND closed_at IS NULL", (key,))]
            if not ids:
                return
            self.db.execute("UPDATE web_alerts SET closed_at=? WHERE key=? AND closed_at IS NULL", (self.clock(), key))
            closed = [a for a in (self.get(i) for i in ids) if a is not None]
        for alert in closed:
            log.info("web alert %s closed", key)
            self.publish(alert)

    def acknowledge(self, alert_id: int, staff_no: str) -> Alert | None:
        with self.lock:
            n = self.db.execute(
                "UPDATE web_alerts SET acknowledged_by=?, acknowledged_at=? WHERE id=? AND acknowledged_by IS NULL",
                (staff_no, self.clock(), alert_id),
            ).rowcount
            alert = self.get(alert_id)
        if alert is not None and n:
            self.publish(alert)
        return alert


class AlertWatcher:
    """Turns the live hall's changes into alerts (the rules are in the module's docstring)."""

    def __init__(
        self,
        config: HallConfig,
        live: HallLive,
        book: AlertBook,
        silent_after_s: float = SILENT_AFTER_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.live, self.book, self.clock = config, live, book, clock
        self.silent_after_s = silent_after_s
        self.devices = {d.id: d for d in config.devices}
        self.kiosks = {k.id: k.name for k in config.kiosks}
        self.state: dict[str, dict[str, Any]] = {}  # device id -> its latest device.state data
        self.online: dict[str, bool] = {}  # device id or kiosk id -> availability
        self.heard: dict[str, float] = {}  # device id -> when the bus last said anything of it
        self.started = clock()
        try:
            self.compartments = {c.no: c for c in pickup_settings(config).compartments}
        except Exception:  # a hall without [pickup]/[[lockers]]: door alerts name the compartment only
            self.compartments = {}
        self._stop = threading.Event()

    # ------------------------------------------------------------------ where a device is, in words
    def where(self, device_id: str, lang: str) -> str:
        dev = self.devices.get(device_id)
        host = dev.host if dev else ""
        if dev is not None and dev.window is not None:
            for w in self.config.windows:
                if w.number == dev.window:
                    return w.name if lang == "zh" else f"window {w.number}"
        if host in self.kiosks:
            return self.kiosks[host] if lang == "zh" else host
        return host or device_id

    # ------------------------------------------------------------------ inputs
    def on_live(self, key: str, data: Any) -> None:
        """A ``live.listeners`` callback (bus dispatch thread)."""
        kind, _, ident = key.partition("/")
        if kind == "device" and isinstance(data, dict) and ident in self.devices:
            self.state[ident] = data
            self.heard[ident] = self.clock()
            self.check_device(ident)
        elif kind in ("device-availability", "client-availability") and isinstance(data, dict) and "online" in data:
            self.set_online(ident, bool(data["online"]))
        elif key == "event/pickup" and isinstance(data, dict):
            self.on_pickup(data)

    def set_online(self, ident: str, online: bool) -> None:
        self.online[ident] = online
        if ident in self.devices:
            self.heard[ident] = self.clock()
            self.check_device(ident)
        elif ident in self.kiosks:
            if online:
                self.book.resolve("kiosk_offline", ident)
            else:
                self.book.raise_("kiosk_offline", ident, ident, where=self.kiosks[ident], where_en=ident)

    def on_pickup(self, data: dict[str, Any]) -> None:
        action, no = data.get("action"), str(data.get("compartment", ""))
        if not no:
            return
        comp = self.compartments.get(no)
        device = comp.device if comp else ""
        values = {"compartment": no, "position": data.get("position") or (comp.position if comp else "")}
        if action == "door_left_open":
            self.book.raise_("door_left_open", no, device, **values)
        elif action == "open_failed":
            self.book.raise_("locker_jammed", no, device, **values)
        else:
            self.book.resolve("door_left_open", no)

    def faults_now(self, compartments: set[str], positions: dict[str, str]) -> None:
        """What ``pickup.list`` says is out of service now: jam alerts follow it."""
        for alert in self.book.open_alerts():
            if alert.kind == "locker_jammed" and alert.key.split(":", 1)[1] not in compartments:
                self.book.resolve("locker_jammed", alert.key.split(":", 1)[1])
        for no in compartments:
            comp = self.compartments.get(no)
            position = positions.get(no) or (comp.position if comp else "")
            self.book.raise_("locker_jammed", no, comp.device if comp else "", compartment=no, position=position)

    # ------------------------------------------------------------------ rules
    def conditions(self, device_id: str) -> set[str]:
        dev = self.devices[device_id]
        st = self.state.get(device_id) or {}
        health = st.get("state")
        offline = self.online.get(device_id) is False or health == "offline"
        if dev.kind == "idcard":
            return {"reader_offline"} if offline or health == "error" else set()
        if dev.kind == "pad":
            never = device_id not in self.heard and self.clock() - self.started >= self.silent_after_s
            return {"pad_silent"} if offline or health == "error" or never else set()
        found: set[str] = set()
        if offline:
            found.add("device_offline")
        elif dev.kind == "printer" and (st.get("paper_out") or st.get("cover_open") or st.get("paper_near_end")):
            found |= {k for k, f in (("paper_out", "paper_out"), ("cover_open", "cover_open")) if st.get(f)}
            if st.get("paper_near_end") and not found:
                found.add("paper_low")
        elif health == "error":
            found.add("device_error")
        return found

    def check_device(self, device_id: str) -> None:
        dev = self.devices[device_id]
        wanted = self.conditions(device_id)
        values = {
            "device": device_id,
            "detail": str((self.state.get(device_id) or {}).get("detail") or ""),
            "where": self.where(device_id, "zh"),
            "where_en": self.where(device_id, "en"),
        }
        for kind in DEVICE_KINDS.get(dev.kind, GENERIC):
            if kind in wanted:
                self.book.raise_(kind, device_id, device_id, **values)
            else:
                self.book.resolve(kind, device_id)

    def tick(self) -> None:
        for device_id, dev in self.devices.items():
            if dev.kind == "pad":
                self.check_device(device_id)

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.tick()
            except Exception:
                log.exception("web alerts: the silence check failed")

    def stop(self) -> None:
        self._stop.set()


def install(ctx: WebContext, silent_after_s: float = SILENT_AFTER_S) -> AlertWatcher:
    """Start the alerts of a web console once (``WebServer`` calls this at start; the pages call
    :func:`alerts_of`, which installs them if nobody did)."""
    with _install_lock:
        found = ctx.extras.get(EXTRA_KEY)
        if isinstance(found, AlertWatcher):
            return found
        live = ctx.live

        def publish(alert: Alert) -> None:
            key = f"alert/{alert.id}"
            data = alert.as_dict()
            live.publish(key, data)  # (kept in the live hall's snapshot: a reload shows the open ones)

        book = AlertBook(ctx.accounts.db, publish, time.time)
        watcher = AlertWatcher(ctx.config, live, book, silent_after_s=silent_after_s)
        ctx.extras[EXTRA_KEY] = watcher
        for alert in book.open_alerts():
            publish(alert)
        live.listeners.append(watcher.on_live)
        for key, data in live.snapshot().items():
            watcher.on_live(key, data)
        thread = threading.Thread(target=watcher.run, name="web-alerts", daemon=True)
        thread.start()
        ctx.extras.setdefault("on_stop", []).append(watcher.stop)
        return watcher


def alerts_of(ctx: WebContext) -> AlertWatcher:
    found = ctx.extras.get(EXTRA_KEY)
    return found if isinstance(found, AlertWatcher) else install(ctx)


_install_lock = threading.Lock()
