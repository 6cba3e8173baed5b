"""The locker worker: the one thread that talks to the locker hosts and drives door transitions.

Jobs come from the request handlers (open an item's compartment, look at a door now) and from the
bus (a door changed); besides them it polls the doors of open compartments every ``status_poll_s``.
Each open is fired under the item's ``open_op`` (the locker host fires a pickup_id at most once),
and an open whose outcome is unknown stays ``opening`` until the host tells, by that id, whether
it fired. See :mod:`hall_bus.features.pickup.service` for the states.

Decisions are only taken on what a locker host answered or on time: a door event is a hint that is
confirmed by reading the board (an event may describe an earlier opening of the same door), and
nothing is decided by time while this controller's own bus is down (its events could not be sent
and the host cannot be asked).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time

from hall_bus.features.pickup.config import Compartment
from hall_bus.features.pickup.lockers import BoardStatus, BusDown, LockerFailed, LockerPort, LockerUnknown
from hall_bus.features.pickup.records import REASON, PickupRecords
from hall_bus.features.pickup.store import ACTIVE_STATES

log = logging.getLogger(__name__)

Door = tuple[str, int, int, bool]  # device, board, lock, door open?
Job = tuple[str, int | Door | None]  # ("open", item_id) | ("poll", item_id) | ("door", Door) | ("stop", None)


class LockerWorker:
    def __init__(self, records: PickupRecords, lockers: LockerPort) -> None:
        self.r, self.lockers = records, lockers
        self._jobs: queue.Queue[Job] = queue.Queue()
        self._queued: set[int] = set()  # items with an open job not yet taken: the poll leaves them alone
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_poll = 0.0

    # ------------------------------------------------------------------ from other threads
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"pickup-{self.r.hall}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(("stop", None))
        if self._thread:
            self._thread.join(10)

    def submit(self, item_id: int) -> None:
        """Open the item's compartment. Call it inside the transaction that set ``phase='opening'``, so that
        the poll never sees the item opening without its job (it would resolve the open as unconfirmed)."""
        self._queued.add(item_id)
        self._jobs.put(("open", item_id))

    def look(self, item_id: int) -> None:
        """Read the item's door in the next worker turn."""
        self._jobs.put(("poll", item_id))

    def door_event(self, device: str, board: int, lock: int, door_open: bool) -> None:
        self._jobs.put(("door", (device, board, lock, door_open)))

    # ------------------------------------------------------------------ the worker thread
    def _run(self) -> None:
        try:
            self.r.renotify_pending()
        except Exception:
            log.exception("pickup: re-notifying pending deposits failed")
        while not self._stop.is_set():
            try:
                kind, arg = self._jobs.get(timeout=0.2)
            except queue.Empty:
                kind, arg = "", None
            try:
                if kind == "open" and isinstance(arg, int):
                    self._queued.discard(arg)
                    self._do_open(arg)
                elif kind == "door" and isinstance(arg, tuple):
                    self._on_door(*arg)
                elif kind == "poll" and isinstance(arg, int):
                    self._poll(only=arg)
                if self.r.clock() - self._last_poll >= self.r.settings.status_poll_s:
                    self._poll()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("pickup worker: %s %s failed", kind, arg)

    def _do_open(self, item_id: int) -> None:
        row = self.r.item(item_id)
        if row["phase"] != "opening" or self._stop.is_set():
            return
        c = self.r.compartment(row)
        try:
            result = self.lockers.open(c, row["open_op"], f"{REASON[row['state']]} item {item_id}")
        except LockerUnknown as exc:
            log.warning(
                "pickup item %d: open of %s unconfirmed (%s); will ask the locker host again", item_id, c.no, exc
            )
            return
        except LockerFailed as exc:
            self._open_failed(item_id, exc.code, str(exc))
            return
        if result.door_open:
            self._opened(item_id, self.r.from_wall(result.fired_at))
        else:
            self._open_failed(item_id, "door_jammed", "the lock fired but the door did not open")

    def _opened(self, item_id: int, at: float) -> None:
        with self.r.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
            if row["phase"] != "opening":
                return
            db.execute(
                "UPDATE pickup_items SET phase='awaiting_close', door_opened_at=?, updated_at=? WHERE id=?",
                (at, self.r.clock(), item_id),
            )
            self.r.audit(
                db, row["actor"], "opened", row["compartment"], item_id, REASON[row["state"]], pickup_id=row["open_op"]
            )
        self.r.event("opened", row, reason=REASON[row["state"]])

    def _open_failed(self, item_id: int, code: str, message: str) -> None:
        now = self.r.clock()
        with self.r.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
            if row["phase"] != "opening":
                return
            back = "cancelled" if row["state"] == "depositing" else "deposited"
            db.execute(
                "UPDATE pickup_items SET state=?, phase='', last_error=?, updated_at=? WHERE id=?",
                (back, f"{code}: {message}"[:200], now, item_id),
            )
            db.execute(
                "INSERT OR REPLACE INTO pickup_faults (compartment, reason, at) VALUES (?,?,?)",
                (row["compartment"], f"{code}: {message}"[:200], now),
            )
            self.r.audit(
                db,
                row["actor"],
                "open_failed",
                row["compartment"],
                item_id,
                REASON[row["state"]],
                code=code,
                error=message,
            )
        log.error("pickup item %d: compartment %s did not open (%s: %s)", item_id, row["compartment"], code, message)
        self.r.event("open_failed", row, code=code, reason=REASON[row["state"]])

    def _closed(self, item_id: int) -> None:
        now = self.r.clock()
        notification = None
        cases = self.r.cases
        with self.r.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
            if row["phase"] != "awaiting_close":
                return
            reason = REASON[row["state"]]
            open_s = round(now - (row["door_opened_at"] or now), 1)
            self.r.audit(db, row["actor"], "closed", row["compartment"], item_id, reason, open_s=open_s)
            if row["state"] == "depositing":
                db.execute(
                    "UPDATE pickup_items SET state='deposited', phase='', deposited_at=?, updated_at=? WHERE id=?",
                    (now, now, item_id),
                )
                notification = self.r.new_code(db, item_id)
                cases.upsert(row["case_no"], "deposited", row["actor"], note=f"compartment {row['compartment']}")
                action = "deposited"
            elif row["state"] == "collecting":
                db.execute(
                    "UPDATE pickup_items SET state='collected', phase='', collected_at=?, updated_at=? WHERE id=?",
                    (now, now, item_id),
                )
                left = db.execute(
                    f"SELECT COUNT(*) FROM pickup_items WHERE case_no=? AND state IN ({','.join('?' * len(ACTIVE_STATES))})",
                    (row["case_no"], *ACTIVE_STATES),
                ).fetchone()[0]
                if not left:
                    cases.upsert(row["case_no"], "collected", row["actor"], note="self-service pickup")
                action = "collected"
            else:
                db.execute(
                    "UPDATE pickup_items SET state='returned', phase='', returned_at=?, updated_at=? WHERE id=?",
                    (now, now, item_id),
                )
                cases.upsert(row["case_no"], "returned", row["actor"], note="returned to the window")
                action = "returned"
        self.r.event(action, row)
        if notification is not None:
            self.r.send(notification)

    def _on_door(self, device: str, board: int, lock: int, door_open: bool) -> None:
        """A door reads closed: look at it now. The event itself is not trusted to close an item: it may be
        older than the item's current opening (sent while the open was on its way) - the board says."""
        if door_open:
            return
        for c in self.r.compartments.values():
            if (c.device, c.board, c.lock) == (device, board, lock):
                rows = self.r.q("SELECT id FROM pickup_items WHERE compartment=? AND phase='awaiting_close'", (c.no,))
                for r in rows:
                    self._poll(only=r["id"])

    def _poll(self, only: int | None = None) -> None:
        """Re-query doors of open compartments, resolve unconfirmed opens, raise door-left-open alarms."""
        now = self.r.clock()
        if only is None:
            self._last_poll = now
        rows = self.r.q(
            "SELECT * FROM pickup_items WHERE hall=? AND phase IN ('opening','awaiting_close')"
            + (" AND id=?" if only else ""),
            (self.r.hall, only) if only else (self.r.hall,),
        )
        boards: dict[tuple[str, int], BoardStatus | None] = {}
        for row in rows:
            if row["id"] in self._queued or self._stop.is_set():
                continue
            c = self.r.compartment(row)
            if row["phase"] == "opening":
                self._resolve_opening(row, c, now)
                continue
            key = (c.device, c.board)
            if key not in boards:
                try:
                    boards[key] = self.lockers.status(c.device, c.board)
                except BusDown as exc:
                    log.info("pickup: doors of %s not polled: %s", c.device, exc)
                    return
                except (LockerUnknown, LockerFailed) as exc:
                    boards[key] = None
                    log.info("pickup: status of %s board %d unavailable: %s", c.device, c.board, exc)
            st = boards[key]
            if st is not None and st.doors.get(c.lock) is False:
                self._closed(row["id"])
            elif (
                row["door_opened_at"]
                and now - row["door_opened_at"] >= self.r.settings.door_open_alarm_s
                and not row["alarm_sent"]
            ):
                self._alarm(row, c, now)

    def _alarm(self, row: sqlite3.Row, c: Compartment, now: float) -> None:
        open_s = now - row["door_opened_at"]
        with self.r.store.transaction() as db:
            db.execute("UPDATE pickup_items SET alarm_sent=1 WHERE id=?", (row["id"],))
            self.r.audit(
                db, "controller", "alarm", row["compartment"], row["id"], "door left open", open_s=round(open_s)
            )
        log.warning("pickup: door of %s (%s) left open for %d s", c.no, c.position, open_s)
        self.r.event("door_left_open", row, open_s=round(open_s, 1))

    def _resolve_opening(self, row: sqlite3.Row, c: Compartment, now: float) -> None:
        settings = self.r.settings
        try:
            st = self.lockers.status(c.device, c.board, row["open_op"])
        except BusDown:
            return  # resolved once the bus is back: the host cannot be asked, whatever the time
        except (LockerUnknown, LockerFailed) as exc:
            if now - (row["open_asked_at"] or now) > settings.resume_open_s + settings.open_timeout_s:
                self._abandon(row, f"locker host unreachable: {exc}")
            return
        op = st.op
        if op is not None and op.pickup_id == row["open_op"]:
            if not op.opened:
                self._open_failed(row["id"], "door_jammed", "the lock fired but the door did not open")
                return
            self._opened(row["id"], self.r.from_wall(float(op.fired_at or time.time())))
            if st.doors.get(c.lock) is False:
                self._closed(row["id"])
            return
        if now - (row["open_asked_at"] or now) <= settings.resume_open_s:
            log.info("pickup item %d: open of %s was never fired; sending it again", row["id"], c.no)
            self._do_open(row["id"])
        else:
            self._abandon(row, "the open was never carried out and nobody is waiting for it any more")

    def _abandon(self, row: sqlite3.Row, why: str) -> None:
        now = self.r.clock()
        with self.r.store.transaction() as db:
            cur = db.execute("SELECT * FROM pickup_items WHERE id=?", (row["id"],)).fetchone()
            if cur["phase"] != "opening":
                return
            back = "cancelled" if cur["state"] == "depositing" else "deposited"
            db.execute(
                "UPDATE pickup_items SET state=?, phase='', last_error=?, updated_at=? WHERE id=?",
                (back, f"open_abandoned: {why}"[:200], now, row["id"]),
            )
            self.r.audit(
                db, "controller", "open_abandoned", cur["compartment"], row["id"], REASON[cur["state"]], error=why
            )
        log.warning("pickup item %d: open of %s abandoned (%s)", row["id"], row["compartment"], why)
        self.r.event("open_abandoned", row)
