"""What the pickup service and its locker worker share: the store rows of items, the audit, the pickup
events, item views, and the codes and notifications of deposited items.

Every store access takes ``store.lock`` (``_q``) or runs in ``store.transaction()``.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from hall_bus.controller.store import Store
from hall_bus.errors import CodedError
from hall_bus.features.cases import CaseStore
from hall_bus.features.pickup import security
from hall_bus.features.pickup.config import Compartment, PickupSettings
from hall_bus.features.pickup.notify import LoggingNotifier, Notification, Notifier
from hall_bus.features.pickup.store import MIGRATIONS

log = logging.getLogger(__name__)

SIZE_ORDER = {"S": 0, "M": 1, "L": 2}
REASON = {"depositing": "deposit", "collecting": "pickup", "returning": "return"}

Publish = Callable[[dict[str, Any]], None]


class PickupError(CodedError):
    """A pickup step refused; ``code`` is the bus error code."""


def mask_case(case_no: str) -> str:
    return case_no[:4] + "*" * max(1, len(case_no) - 7) + case_no[-3:] if len(case_no) > 7 else case_no[:2] + "**"


def op_id() -> str:
    """A new ``pickup_id`` for one open (the locker host fires each id at most once)."""
    return "op-" + secrets.token_hex(8)


def _no_publish(data: dict[str, Any]) -> None:
    pass


class PickupRecords:
    def __init__(
        self,
        hall: str,
        hall_name: str,
        settings: PickupSettings,
        store: Store,
        cases: CaseStore,
        secret: bytes,
        publish: Publish = _no_publish,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        service_names: dict[str, str] | None = None,
    ) -> None:
        store.migrate_feature("pickup", MIGRATIONS)  # the rows this class reads and writes
        self.hall, self.hall_name, self.settings = hall, hall_name, settings
        self.store, self.cases, self.secret = store, cases, secret
        self.publish, self.clock = publish, clock
        self.notifier: Notifier = notifier or LoggingNotifier()
        self.service_names = service_names or {}
        self.compartments = {c.no: c for c in settings.compartments}

    # ------------------------------------------------------------------ rows, audit, events
    def q(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self.store.lock:
            rows: list[sqlite3.Row] = self.store.db.execute(sql, args).fetchall()
            return rows

    def item(self, item_id: int) -> sqlite3.Row:
        rows = self.q("SELECT * FROM pickup_items WHERE id=? AND hall=?", (item_id, self.hall))
        if not rows:
            raise PickupError("not_found", f"no pickup item {item_id}")
        return rows[0]

    def compartment(self, row: sqlite3.Row) -> Compartment:
        return self.compartments[row["compartment"]]

    def from_wall(self, ts: float) -> float:
        """A locker host's wall-clock time on this service's clock (they differ only under a test clock)."""
        return self.clock() - (time.time() - ts)

    def audit(
        self,
        db: sqlite3.Connection,
        actor: str,
        action: str,
        compartment: str,
        item_id: int | None,
        reason: str,
        **detail: Any,
    ) -> None:
        db.execute(
            "INSERT INTO pickup_audit (at, actor, action, compartment, item_id, reason, detail) VALUES (?,?,?,?,?,?,?)",
            (self.clock(), actor, action, compartment, item_id, reason, json.dumps(detail, ensure_ascii=False)),
        )

    def event(self, action: str, row: sqlite3.Row, **extra: Any) -> None:
        c = self.compartments.get(row["compartment"])
        data: dict[str, Any] = {
            "action": action,
            "item_id": row["id"],
            "compartment": row["compartment"],
            "position": c.position if c else "",
            "at": self.clock(),
            "case_no_masked": mask_case(row["case_no"]),
        }
        data.update(extra)
        try:
            self.publish(data)
        except Exception:
            log.exception("pickup event %s for item %s not published", action, row["id"])

    def view(self, row: sqlite3.Row, full_case: bool = False) -> dict[str, Any]:
        c = self.compartments.get(row["compartment"])
        comp = c.public() if c else {"no": row["compartment"], "bank": "", "size": row["size"], "position": ""}
        case = self.cases.row(row["case_no"])
        service = case["service"] if case is not None else ""
        door_open_s = None
        if row["phase"] == "awaiting_close" and row["door_opened_at"]:
            door_open_s = max(0.0, self.clock() - row["door_opened_at"])
        v = {
            "item_id": row["id"],
            "case_no_masked": mask_case(row["case_no"]),
            "item_name": row["item_name"],
            "service_name": self.service_names.get(service, service),
            "compartment": comp,
            "state": row["state"],
            "phase": row["phase"],
            "door_open_s": door_open_s,
            "alarm": bool(row["alarm_sent"]),
            "error": row["last_error"],
            "deposited_at": row["deposited_at"],
            "collected_at": row["collected_at"],
        }
        if full_case:
            v["case_no"] = row["case_no"]
        return v

    # ------------------------------------------------------------------ codes and notifications
    def new_code(self, db: sqlite3.Connection, item_id: int) -> Notification:
        """Draw a new one-time code and QR nonce for a deposited item (any earlier code and QR stop working)."""
        row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
        code, nonce = self._bind_code(db, item_id)
        db.execute("UPDATE pickup_items SET qr_nonce=?, notified_at=NULL WHERE id=?", (nonce, item_id))
        c = self.compartment(row)
        expires = self.clock() + self.settings.qr_ttl_days * 86400
        return Notification(
            self.hall,
            self.hall_name,
            row["case_no"],
            item_id,
            row["item_name"],
            row["identity_token"],
            c.no,
            c.position,
            code,
            security.sign_qr(self.secret, self.hall, item_id, nonce, expires),
            expires,
        )

    def send(self, n: Notification) -> bool:
        """Hand the notification to the adapter; ``notified_at`` records that the citizen was told."""
        try:
            self.notifier.notify(n)
        except Exception as exc:
            log.error("pickup item %d: notification failed: %s", n.item_id, exc)
            return False
        with self.store.transaction() as db:
            db.execute("UPDATE pickup_items SET notified_at=? WHERE id=?", (self.clock(), n.item_id))
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (n.item_id,)).fetchone()
        self.event("notified", row, channel=getattr(self.notifier, "name", "notifier"))
        return True

    def renotify_pending(self) -> None:
        """After a restart: deposits committed but never notified get a fresh code (the old one was only in memory)."""
        for r in self.q(
            "SELECT id FROM pickup_items WHERE hall=? AND state='deposited' AND notified_at IS NULL", (self.hall,)
        ):
            with self.store.transaction() as db:
                n = self.new_code(db, r["id"])
                self.audit(db, "controller", "renotify", n.compartment, r["id"], "not notified before a restart")
            self.send(n)

    def _bind_code(self, db: sqlite3.Connection, item_id: int) -> tuple[str, str]:
        for _ in range(50):
            code = security.new_code(self.settings.code_digits)
            h = security.code_hash(self.secret, code)
            clash = db.execute(
                "SELECT 1 FROM pickup_items WHERE code_hash=? AND state IN ('deposited','collecting')", (h,)
            ).fetchone()
            locked = db.execute("SELECT 1 FROM pickup_attempts WHERE scope='code' AND key=?", (h,)).fetchone()
            if not clash and not locked:
                db.execute("UPDATE pickup_items SET code_hash=? WHERE id=?", (h, item_id))
                return code, secrets.token_hex(8)
        raise RuntimeError("could not draw a unique pickup code")
