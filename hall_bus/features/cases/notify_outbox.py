"""The outbox of case messages: written with the case change, sent by one worker thread.

Delivery is at most once, also across a controller restart:

1. :meth:`CaseOutbox.record` runs inside the transaction that changes the case
   (:class:`~hall_bus.features.cases.store.CaseStore` calls it): the message, its text and a fresh
   idempotency key are committed together with the step, or not at all.
2. The worker takes the due ``pending`` messages, counts the attempt, and hands each to the adapter.
   An acknowledged message becomes ``sent``; a failed attempt is retried after a backoff
   (``retry_base_s``, doubling, at most ``retry_max_s``) until ``max_attempts``, then ``failed``; a
   refusal that no retry can change (``NotifyError.retry`` false) is ``failed`` at once.
3. A controller stopped between the send and its acknowledgement leaves the message ``pending``
   and due: the next start sends it again with the *same* key, and the gateway, which de-duplicates
   by key, acknowledges it without sending a second text.

A message goes only to a case with an identity token (the gateway resolves it to a phone number),
and only for the statuses of ``[cases.notify] statuses``. The log names the message id, the case
number and the status, never the recipient.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from hall_bus.controller.store import Store
from hall_bus.features.cases.notify import CaseMessage, Notifier, NotifyError
from hall_bus.features.cases.notify_config import NotifySettings
from hall_bus.features.cases.store import CaseStep

log = logging.getLogger(__name__)

BATCH = 20
Text = Callable[[CaseStep], str]


class CaseOutbox:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        settings: NotifySettings,
        hall: str,
        text: Text,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.notifier, self.settings, self.hall = store, notifier, settings, hall
        self.text, self.clock = text, clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ in the case's transaction
    def record(self, db: sqlite3.Connection, step: CaseStep, recipient: str | None) -> int | None:
        """Queue the message of ``step`` (if it has a recipient and its status is notified); its id."""
        if recipient is None or step.status not in self.settings.statuses:
            return None
        key = f"{self.hall}:{step.case_no}:{step.step_id}:{uuid.uuid4().hex}"
        cur = db.execute(
            "INSERT INTO case_messages (case_no, step_id, status, recipient, text, idempotency_key, next_at, created_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (step.case_no, step.step_id, step.status, recipient, self.text(step), key, step.at, step.at),
        )
        self._wake.set()  # (the worker reads it once the transaction, which holds the store lock, commits)
        return cur.lastrowid

    # ------------------------------------------------------------------ the worker
    def start(self) -> CaseOutbox:
        self._thread = threading.Thread(target=self._run, name=f"case-outbox-{self.hall}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.settings.timeout_s + 1.0 if timeout is None else timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due()
                wait = self._next_wait()
            except sqlite3.Error:
                if self._stop.is_set():
                    return
                log.exception("case outbox: reading the store failed")
                wait = self.settings.poll_s
            self._wake.wait(wait)
            self._wake.clear()

    def _next_wait(self) -> float:
        with self.store.lock:
            row = self.store.db.execute("SELECT MIN(next_at) AS at FROM case_messages WHERE state='pending'").fetchone()
        if row is None or row["at"] is None:
            return self.settings.poll_s
        return float(min(max(row["at"] - self.clock(), 0.01), self.settings.poll_s))

    def send_due(self) -> int:
        """Send what is due now; the number of messages acknowledged."""
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT * FROM case_messages WHERE state='pending' AND next_at<=? ORDER BY id LIMIT ?",
                (self.clock(), BATCH),
            ).fetchall()
        sent = 0
        for row in rows:
            if self._stop.is_set():
                break
            sent += self._attempt(row)
        return sent

    def _attempt(self, row: Any) -> int:
        attempts = int(row["attempts"]) + 1
        with self.store.transaction() as db:
            db.execute("UPDATE case_messages SET attempts=? WHERE id=? AND state='pending'", (attempts, row["id"]))
        message = CaseMessage(
            row["id"], row["idempotency_key"], self.hall, row["case_no"], row["status"], row["recipient"], row["text"]
        )
        try:
            self.notifier.send(message)
        except NotifyError as exc:
            if self._stop.is_set():
                return 0  # the controller is stopping: the message stays due and the next start sends it again
            self._failed(row, attempts, str(exc), exc.retry)
            return 0
        except Exception as exc:  # an adapter's own bug: logged, and tried again like a lost connection
            log.exception("case message %d: the %s adapter failed", row["id"], self.notifier.name)
            self._failed(row, attempts, f"{type(exc).__name__}", True)
            return 0
        try:
            with self.store.transaction() as db:
                db.execute(
                    "UPDATE case_messages SET state='sent', sent_at=?, last_error='' WHERE id=?",
                    (self.clock(), row["id"]),
                )
        except sqlite3.Error:
            if not self._stop.is_set():
                raise
            return 0  # the store closed under a stopping controller: sent again (same key) on the next start
        log.info(
            "case message %d (case %s, %s) sent by %s", row["id"], row["case_no"], row["status"], self.notifier.name
        )
        return 1

    def _failed(self, row: Any, attempts: int, reason: str, retry: bool) -> None:
        final = not retry or attempts >= self.settings.max_attempts
        with self.store.transaction() as db:
            db.execute(
                "UPDATE case_messages SET state=?, next_at=?, last_error=? WHERE id=?",
                (
                    "failed" if final else "pending",
                    self.clock() + (0.0 if final else self.settings.backoff(attempts)),
                    reason[:200],
                    row["id"],
                ),
            )
        log.warning(
            "case message %d (case %s) attempt %d %s: %s",
            row["id"],
            row["case_no"],
            attempts,
            "failed for good" if final else "failed, will retry",
            reason,
        )

    # ------------------------------------------------------------------ reading
    def messages(self, case_no: str | None = None) -> list[dict[str, Any]]:
        """The outbox rows (tests, the manager): no recipient in the answer."""
        sql = "SELECT id, case_no, status, text, idempotency_key, state, attempts, created_at, sent_at, last_error"
        with self.store.lock:
            if case_no is None:
                rows = self.store.db.execute(sql + " FROM case_messages ORDER BY id").fetchall()
            else:
                rows = self.store.db.execute(
                    sql + " FROM case_messages WHERE case_no=? ORDER BY id", (case_no.strip().upper(),)
                ).fetchall()
        return [dict(r) for r in rows]
